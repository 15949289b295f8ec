"""HTTP endpoints: discovery, hook services, feedback, health."""

from __future__ import annotations

import logging
import re
import time

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service import auth, metrics
from service.demo import demo_resources
from service.errors import BadRequest, NotFound, ServiceError, UnsupportedMediaType
from service.fhir_access import allowed_fhir_server, fhir_server_form_problem
from service.fhir_client import FHIRClient
from service.gather import gather
from service.hooks import load_services
from service.logs import hook_instance_for_log, jti_for_log, log_event, service_id_for_log, tenant_for_log
from service.pipeline import cards_response, run_hook
from service.schemas import (
    CONTEXT_MODELS, FeedbackRequest, HookRequest, body_too_large, describe_validation_error,
    parse_json_body, refuse_repeated_feedback_fields, refuse_repeated_hook_fields,
)

bp = Blueprint("cds", __name__)
log = logging.getLogger("mbc_cds.http")


def settings():
    return current_app.config["SETTINGS"]


def audience_url() -> str:
    """The URL the client called, as it saw it (the JWT `aud`)."""
    base = settings().public_url or request.host_url
    return base.rstrip("/") + request.path


def service_or_404(service_id: str):
    service = load_services().get(service_id)
    if service is None:
        raise NotFound("no CDS service with this id; see /cds-services")  # never repeat the caller's value
    return service


def require_json_media_type() -> None:
    """415 unless the body is declared JSON: application/json or a +json type,
    parameters such as charset allowed (CDS Hooks: requests are sent as JSON).

    A missing Content-Type is refused too: a text/plain, form or untyped POST is
    a CORS "simple request" that no preflight guards.
    """
    if request.is_json:  # application/json or application/*+json
        require_plain_utf8_body()
        return
    if not request.mimetype:
        raise UnsupportedMediaType("Content-Type header is missing; send the body as application/json")
    raise UnsupportedMediaType("Content-Type must be application/json")


_TOKEN = re.compile(r"[A-Za-z0-9._+-]{1,40}")


def _named(value: str) -> str:
    """A header token quoted in a message only when it cannot carry anything else."""
    return f"'{value}'" if _TOKEN.fullmatch(value) else "sent"


def require_plain_utf8_body() -> None:
    """415 for a compressed body or a charset other than UTF-8 (JSON is UTF-8, RFC
    8259 8.1). Not decoded: a compressed body would need its own size bound, and
    CDS Hooks clients send plain JSON."""
    encoding = request.headers.get("Content-Encoding", "").strip()
    if encoding and encoding.lower() != "identity":
        raise UnsupportedMediaType(
            f"Content-Encoding {_named(encoding)} is not accepted: send the body uncompressed",
            {"Accept-Encoding": "identity"},  # RFC 9110 15.5.16: the codings that would be accepted
        )
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.strip().lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset {_named(charset.strip())} is not accepted: send the JSON body as UTF-8")


def _status_of(error: Exception) -> int:
    """The status the error handlers answer an exception with (for the log line and metrics)."""
    if isinstance(error, ServiceError):
        return error.status
    if isinstance(error, HTTPException):
        return error.code or 500
    return 500


def json_body(refuse_repeated_fields) -> dict:
    """The request body as a JSON object, within the size and depth bounds (schemas.parse_json_body),
    its request fields each given once (refuse_repeated_fields: the hook's or the feedback's check)."""
    require_json_media_type()
    cfg = settings()
    try:
        raw = request.get_data(cache=False)  # Flask enforces MAX_CONTENT_LENGTH
    except RequestEntityTooLarge:  # a Content-Length over the limit
        raise body_too_large(cfg.max_request_bytes) from None
    body = parse_json_body(raw, cfg.max_request_bytes, cfg.max_json_depth)
    refuse_repeated_fields(raw, body)
    return body


@bp.before_request
def _start_timer():
    g.started = time.perf_counter()


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/cds-services")
def discovery():
    return jsonify({"services": [s.discovery_entry() for s in load_services().values()]})


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str):
    status, hook_instance, n_cards, client = 500, None, 0, None
    cards, gathered, fetch = [], None, metrics.FetchTimer()
    try:
        client = auth.authenticate(request, settings(), audience_url())  # first: a 401 tells nothing more
        service = service_or_404(service_id)
        body = json_body(lambda raw, body: refuse_repeated_hook_fields(raw, service.hook, body))
        hook_instance = body.get("hookInstance") if isinstance(body.get("hookInstance"), str) else None
        hook_request, context = parse_hook_request(body, service)
        with fetch.timing(hook_request.fhirServer):
            gathered = gather(
                service.prefetch,
                context,
                hook_request.prefetch,
                fhir_client_factory(hook_request, client),
                demo_resources=demo_resources if settings().demo else None,
                time_budget=settings().hook_time_budget_seconds,
                max_workers=settings().fhir_max_workers,
                capabilities=current_app.extensions["fhir_capabilities"] if settings().fhir_revinclude else None,
                token_scope=hook_request.fhirAuthorization.scope if hook_request.fhirAuthorization else None,
            )
        cards = run_hook(service.hook, context, gathered.resources, gathered.notes, incomplete=gathered.incomplete)
        remember_cards(service.id, cards)
        n_cards, status = len(cards), 200
        return current_app.response_class(cards_response(cards), mimetype="application/json")
    except Exception as error:  # answered by app.py's handlers; logged with its real status
        status = _status_of(error)
        raise
    finally:
        log_event(
            log, "hook", service=service_id_for_log(service_id, load_services()),
            hookInstance=hook_instance_for_log(hook_instance),
            status=status, cards=n_cards,
            latency_ms=round((time.perf_counter() - g.started) * 1000, 2),
            **client_fields(client),
        )
        metrics.observe_hook(service_id, status, time.perf_counter() - g.started, cards, fetch, gathered)


def parse_hook_request(body: dict, service) -> tuple[HookRequest, dict]:
    try:
        hook_request = HookRequest.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc))
    if hook_request.fhirServer is not None:
        # its form on every request, used or not (prefetch complete); may the service call it: 412 later
        problem = fhir_server_form_problem(hook_request.fhirServer)
        if problem:
            raise BadRequest(problem)
    if hook_request.hook != service.hook:
        # Name the hook sent only if it is one we know: never repeat a caller's value.
        sent = f"'{hook_request.hook}'" if hook_request.hook in CONTEXT_MODELS else "the hook sent"
        raise BadRequest(f"hook: service '{service.id}' answers '{service.hook}', not {sent}")
    for key, value in (hook_request.prefetch or {}).items():
        # Keys the service asked for hold a FHIR resource or null (CDS Hooks prefetch);
        # keys it did not ask for are tolerated and ignored, whatever their value.
        if key in service.prefetch and value is not None and not isinstance(value, dict):
            raise BadRequest(f"prefetch.{key}: must be a FHIR resource (a JSON object) or null")
    try:
        context = CONTEXT_MODELS[service.hook].model_validate(hook_request.context)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc, prefix="context."))
    authorization = hook_request.fhirAuthorization
    if authorization is not None and authorization.patient and authorization.patient != context.patientId:
        # A token scoped to another patient must not be used to read this one.
        raise BadRequest("fhirAuthorization.patient does not match context.patientId")
    return hook_request, context.model_dump(exclude_none=True)


def client_fields(client) -> dict:
    """What may be logged about the caller: iss, jti, tenant (never the token).

    iss is a trusted issuer (auth checked it against the clients file); jti and
    tenant are the client's words: jti logged hashed, tenant as sent only when the
    clients file lists it for the issuer (service/logs.py)."""
    if client is None:
        return {}
    fields = {
        "iss": client.iss,
        "jti": client.jti and jti_for_log(client.jti),
        "tenant": client.tenant and tenant_for_log(client.tenant, client.known_tenants),
    }
    return {key: value for key, value in fields.items() if value}


def fhir_client_factory(hook_request: HookRequest, client):
    """A callable giving a FHIRClient for fhirServer, checked before any request."""
    if not hook_request.fhirServer:
        return None
    cfg = settings()

    def make() -> FHIRClient:
        base = allowed_fhir_server(hook_request.fhirServer, cfg, client)
        token = hook_request.fhirAuthorization.access_token if hook_request.fhirAuthorization else None
        return FHIRClient(
            base, token,
            connect_timeout=cfg.fhir_connect_timeout,
            read_timeout=cfg.fhir_read_timeout,
            max_bytes=cfg.fhir_max_response_bytes,
            max_pages=cfg.fhir_max_pages,
            max_resources=cfg.fhir_max_resources,
            page_size=cfg.fhir_page_size,
        )

    return make


def remember_cards(service_id: str, cards) -> None:
    topics = {c.uuid: c.topic for c in cards if c.topic}
    if topics:
        current_app.extensions["feedback_store"].remember_cards(service_id, topics)


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str):
    status, received, stored, client = 500, 0, 0, None
    try:
        client = auth.authenticate(request, settings(), audience_url())  # first: a 401 tells nothing more
        service = service_or_404(service_id)
        body = json_body(refuse_repeated_feedback_fields)
        try:
            parsed = FeedbackRequest.model_validate(body)
        except ValidationError as exc:
            raise BadRequest(describe_validation_error(exc))
        stored = current_app.extensions["feedback_store"].add_feedback(service.id, parsed.feedback)
        received = len(parsed.feedback)
        metrics.observe_feedback(service.id, parsed.feedback)
        status = 200
        return jsonify({"received": received, "stored": stored})
    except Exception as error:  # answered by app.py's handlers; logged with its real status
        status = _status_of(error)
        raise
    finally:  # one line per feedback call, failed ones included
        log_event(
            log, "feedback", service=service_id_for_log(service_id, load_services()),
            status=status, received=received, stored=stored,
            latency_ms=round((time.perf_counter() - g.started) * 1000, 2),
            **client_fields(client),
        )
