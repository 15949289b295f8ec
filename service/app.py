"""Flask application factory (the Flask tutorial's shape: create_app(test_config))."""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

from flask import Flask, g, jsonify, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from service.config import Settings
from service.errors import ServiceError
from service.feedback import FeedbackStore
from service.fhir_capabilities import RevincludeSupport
from service.hooks import load_services
from service.logs import configure_logging

log = logging.getLogger("mbc_cds")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. `test_config` overrides settings (keys as in Settings)."""
    settings = Settings(**(test_config or {}))
    configure_logging(settings.log_level)
    app = Flask(__name__)
    # '//' in a path is not rewritten with a 308 (and an HTML body): it names no
    # endpoint, so the JSON 404 answers it
    app.url_map.merge_slashes = False
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False
    app.extensions["feedback_store"] = FeedbackStore(settings.database_url)
    # What each FHIR server declares (its CapabilityStatement), learnt on first use.
    app.extensions["fhir_capabilities"] = RevincludeSupport()

    if settings.auth_enabled and not settings.clients_file:
        # fails closed (every call is a 401), but say why at start-up, not per call
        log.warning("client authentication is ON but MBC_CDS_CLIENTS_FILE is unset: no client is trusted, "
                    "every hook and feedback call will be refused (401)")
    if not settings.auth_enabled:
        log.warning("client authentication is OFF (MBC_CDS_AUTH=off): local use only")
        if not settings.fhir_servers:
            log.warning("MBC_CDS_FHIR_SERVERS is unset: any fhirServer a caller names will be fetched from")

    # Browser clients (the CDS Hooks sandbox) call discovery, services and
    # feedback with Authorization + Content-Type: answer their preflights.
    CORS(
        app,
        resources={r"/cds-services*": {"origins": settings.cors_origins}},
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
    )

    from service.metrics import bp as metrics_bp
    from service.routes import bp

    app.register_blueprint(bp)
    app.register_blueprint(metrics_bp)  # GET /metrics (Prometheus)
    _register_error_handlers(app)
    return app


def production_app() -> Flask:
    """The app as gunicorn serves it: create_app() with the garbage collector tuned.

    Everything loaded at start-up (code tables, knowledge files, pydantic
    schemas) is moved out of the collector's sight with gc.freeze(): otherwise
    each full collection rescans it (about 30 ms here, every ~17 calls), which
    is the whole p90/p99 tail. Not done in create_app(): tests build many apps.

    While a request is handled the cyclic collector is paused (CollectorPause):
    a hook call allocates thousands of containers (the parsed body, the
    PatientState) that all stay alive until it returns, so the collections its
    allocations trigger scan them and free nothing; they are freed by reference
    counting when the call returns. The collector runs again between requests,
    on its usual thresholds, for whatever garbage a call left in cycles.
    `make bench` A/B runs: -9 and -13 % on the 300-resource p50, but +6 and
    +11 % on the 3,000-resource one (a 1.9 MiB body: the time the skipped
    collections took, 3.9 ms a call in-process, reappears elsewhere in the call),
    so requests with bodies of 1 MiB or more are not paused.
    MBC_CDS_GC_PAUSE_DURING_REQUESTS=false turns it off.

    MBC_CDS_GC_GEN0_THRESHOLD raises the young-generation threshold: 5,000 or
    20,000 took 7 % off a 300-resource call in `make bench` A/B runs but made a
    3,000-resource call 10-12 % slower, so by default Python's 700 stays.
    """
    app = create_app()
    gc.collect()
    gc.freeze()
    settings = app.config["SETTINGS"]
    if settings.gc_gen0_threshold is not None:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(settings.gc_gen0_threshold, older, oldest)
    if settings.gc_pause_during_requests:
        CollectorPause().install(app)
    return app


class CollectorPause:
    """gc.disable() while at least one request of this process (with a body
    under max_body_bytes) is in progress.

    Counted, because gunicorn threads share the process (and its collector):
    the last request to finish enables it again. A collector that was already
    disabled by someone else is left disabled. With several threads under
    steady load the requests may overlap without a gap for long: then a full
    collection runs at least every max_pause_seconds, so garbage in cycles
    cannot pile up.
    """

    # See production_app: above this size pausing measured slower, not faster.
    MAX_BODY_BYTES = 1024 * 1024
    MAX_PAUSE_SECONDS = 1.0

    def __init__(self, max_body_bytes: int = MAX_BODY_BYTES, max_pause_seconds: float = MAX_PAUSE_SECONDS):
        self.max_body_bytes = max_body_bytes
        self.max_pause_seconds = max_pause_seconds
        self._lock = threading.Lock()
        self._active = 0
        self._paused = False
        self._paused_since = 0.0

    def install(self, app: Flask) -> None:
        # before_request/teardown_request of the app run around every request,
        # errors included (teardown runs even if a view or hook raised).
        app.before_request(self.enter)
        app.teardown_request(self.leave)

    def enter(self) -> None:
        if (request.content_length or 0) >= self.max_body_bytes:
            return
        with self._lock:
            if self._active == 0 and gc.isenabled():
                gc.disable()
                self._paused = True
                self._paused_since = time.monotonic()
            self._active += 1
        g.collector_paused = True

    def leave(self, _error: BaseException | None = None) -> None:
        if not g.pop("collector_paused", False):
            return  # this request never got to enter()
        overdue = False
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._paused:
                self._paused = False
                gc.enable()
            elif self._paused and time.monotonic() - self._paused_since >= self.max_pause_seconds:
                self._paused_since = time.monotonic()
                overdue = True
        if overdue:
            gc.collect()


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        response = jsonify(error.body())
        response.status_code = error.status
        for key, value in error.headers.items():
            response.headers[key] = value
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {
            404: "no such endpoint; discovery is at /cds-services",
            405: "method not allowed here",
            413: "request body is larger than allowed",
        }
        message = messages.get(error.code, error.description or error.name)
        if error.code == 404 and _only_a_trailing_slash_too_many(app):
            # A base URL configured with a trailing '/' is a usual EHR set-up slip: say so
            # (CDS Hooks 2.0.1 §Discovery / §Calling a CDS Service: {baseUrl}/cds-services/{id}).
            message = ("no such endpoint: the path ends with '/'; CDS Hooks URLs do not "
                       "(discovery is /cds-services, a service /cds-services/{id})")
        response = jsonify({
            "error": (error.name or "error").lower().replace(" ", "-"),
            "message": message,
        })
        response.status_code = error.code or 500
        # e.g. Allow on a 405 (RFC 9110 15.5.6: MUST), kept from Werkzeug's response
        for key, value in error.get_headers():
            if key.lower() not in ("content-type", "content-length"):
                response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        # Never a traceback in the body; the log has the type, not patient data.
        log.error("unexpected error: %s", type(error).__name__, exc_info=error)
        response = jsonify({"error": "internal-error", "message": "the service failed unexpectedly"})
        response.status_code = 500
        return response


def _only_a_trailing_slash_too_many(app: Flask) -> bool:
    """Whether the request's path names an endpoint once its trailing '/' is dropped."""
    path = request.path
    if len(path) < 2 or not path.endswith("/") or path.endswith("//"):
        return False
    adapter = app.url_map.bind("localhost")
    try:
        # OPTIONS as itself: Flask answers it on every route, so a CORS preflight to
        # a service URL is matched as the POST it precedes
        _endpoint, arguments = adapter.match(path[:-1], method=request.method)
    except HTTPException:
        return False
    # an unknown service id would still be a 404 without the '/': not the slash's fault
    service_id = arguments.get("service_id")
    return service_id is None or service_id in load_services()
