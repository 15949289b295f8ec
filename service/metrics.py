"""`GET /metrics` in the Prometheus text format (prometheus-client).

What is counted (no patient data, no tokens, no hookInstance in any label):

    mbc_cds_hook_requests_total{service,status}          hook calls by HTTP status
    mbc_cds_hook_request_seconds{service,status}         their latency (histogram)
    mbc_cds_fhir_fetch_seconds{service,outcome}          time to get the patient's data
                                                         from the client's FHIR server
                                                         (calls that fetched; outcome ok|error)
    mbc_cds_fhir_fetch_errors_total{service,reason}      fetches that ended in a 412
                                                         (reason timeout|refused|unavailable;
                                                         refused before any request too: the
                                                         scope, the allowlist, no fetch time)
    mbc_cds_fhir_searches_total{service,kind}            requests to the FHIR server: separate,
                                                         folded (Patient with _revinclude),
                                                         sent-apart (a folded search's parts,
                                                         sent again: it was not honoured)
    mbc_cds_cards_total{service,topic,indicator}         cards returned, by card topic
    mbc_cds_feedback_total{service,outcome}              feedback items (accepted|overridden)

Label values are bounded: service ids are checked against hooks.yaml (anything
else is "unknown"), topics are the fixed codes of cards/topics.py.

Workers: each gunicorn worker is its own process. When the environment variable
PROMETHEUS_MULTIPROC_DIR names an empty writable directory at start-up (the
Docker image sets it), the workers write their samples there and /metrics sums
them over all workers (prometheus-client's multiprocess mode). Without it every
worker counts on its own and /metrics shows the counts of the worker that
answered the scrape.
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterable

from flask import Blueprint, Response, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder

from service.gather import SEARCH_KINDS

bp = Blueprint("metrics", __name__)

# Seconds. The hook budget is ~500 ms end to end; FHIR fetches can take longer.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)

HOOK_REQUESTS = Counter(
    "mbc_cds_hook_requests", "CDS Hooks service calls by service and HTTP status",
    ["service", "status"],
)
HOOK_LATENCY = Histogram(
    "mbc_cds_hook_request_seconds", "Latency of CDS Hooks service calls by service and HTTP status",
    ["service", "status"], buckets=LATENCY_BUCKETS,
)
FHIR_FETCH_LATENCY = Histogram(
    "mbc_cds_fhir_fetch_seconds",
    "Time to get the patient's data from the client's FHIR server (hook calls that fetched)",
    ["service", "outcome"], buckets=LATENCY_BUCKETS,
)
FHIR_FETCH_ERRORS = Counter(
    "mbc_cds_fhir_fetch_errors", "Fetches from the client's FHIR server that failed (answered 412)",
    ["service", "reason"],
)
FHIR_SEARCHES = Counter(
    "mbc_cds_fhir_searches", "Requests to the client's FHIR server by kind (separate, folded, sent-apart)",
    ["service", "kind"],
)
CARDS = Counter(
    "mbc_cds_cards", "Cards returned by card topic and indicator",
    ["service", "topic", "indicator"],
)
FEEDBACK = Counter(
    "mbc_cds_feedback", "Feedback items received by outcome",
    ["service", "outcome"],
)


def _known_service(service_id: str) -> str:
    """A bounded label: the id if hooks.yaml defines it, else 'unknown'."""
    from service.hooks import load_services

    try:
        return service_id if service_id in load_services() else "unknown"
    except Exception:  # metrics never break a request
        return "unknown"


def _fetch_error_reason(error: BaseException) -> str:
    # classified by the service's own words, not by what a FHIR server's OperationOutcome
    # said (a 412 quotes it; its text may hold "time", "401", or a ')' that ends no quote)
    if getattr(error, "nothing_sent", False):
        # refused by the service itself before any request (gather.before_any_request): the scope,
        # the allowlist, an address it may not call ("fhirServer is not one of the FHIR servers
        # this service may call (MBC_CDS_FHIR_SERVERS)" was counted as unavailable)
        return "refused"
    message = str(getattr(error, "own_words", None) or getattr(error, "message", error)).lower()
    if "time" in message:  # "did not return ... in time", "timed out"
        return "timeout"
    if any(word in message for word in ("401", "403", "allowlist", "refused", "unauthori", "forbidden", "https")):
        return "refused"
    return "unavailable"


class FetchTimer:
    """Times the data gathering of one hook call.

        fetch = FetchTimer()
        with fetch.timing(hook_request.fhirServer):
            gathered = gather(...)
    """

    def __init__(self) -> None:
        self.seconds: float | None = None
        self.fhir_server = False
        self.error: BaseException | None = None
        self._started = 0.0

    def timing(self, fhir_server: str | None) -> "FetchTimer":
        self.fhir_server = bool(fhir_server)
        return self

    def __enter__(self) -> "FetchTimer":
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.seconds = time.perf_counter() - self._started
        self.error = exc
        return False  # never swallow


def observe_hook(
    service_id: str,
    status: int,
    seconds: float,
    cards: Iterable[Any] = (),
    fetch: FetchTimer | None = None,
    gathered: Any = None,
) -> None:
    """Record one hook call. `cards` are cards.models.Card (or dicts); `gathered`
    is service.gather.Gathered (its `origin` tells whether anything was fetched)."""
    try:
        service = _known_service(service_id)
        HOOK_REQUESTS.labels(service, str(status)).inc()
        HOOK_LATENCY.labels(service, str(status)).observe(seconds)
        for card in (cards or ()) if status == 200 else ():
            topic, indicator = _card_labels(card)
            CARDS.labels(service, topic, indicator).inc()
        if fetch is not None and fetch.seconds is not None and fetch.fhir_server:
            fetched = gathered is not None and "fetched" in (getattr(gathered, "origin", {}) or {}).values()
            if fetch.error is not None:
                if not getattr(fetch.error, "nothing_sent", False):
                    # a 412 before any request (the scope, the allowlist: gather.before_any_request)
                    # fetched nothing: no fetch time, only the error count
                    FHIR_FETCH_LATENCY.labels(service, "error").observe(fetch.seconds)
                FHIR_FETCH_ERRORS.labels(service, _fetch_error_reason(fetch.error)).inc()
            elif fetched:
                FHIR_FETCH_LATENCY.labels(service, "ok").observe(fetch.seconds)
        for kind, count in (getattr(gathered, "searches", None) or {}).items():
            if kind in SEARCH_KINDS and count:
                FHIR_SEARCHES.labels(service, kind).inc(count)
    except Exception:  # metrics never break a request
        pass


def _card_labels(card: Any) -> tuple[str, str]:
    if isinstance(card, dict):
        topic = ((card.get("source") or {}).get("topic") or {}).get("code")
        indicator = card.get("indicator")
    else:
        topic = getattr(card, "topic", None)
        indicator = getattr(card, "indicator", None)
    from cards.topics import ALL_TOPICS

    topic = topic if topic in ALL_TOPICS else "other"
    indicator = indicator if indicator in ("info", "warning", "critical") else "other"
    return topic, indicator


def observe_feedback(service_id: str, items: Iterable[Any]) -> None:
    """Record the outcome of each feedback item (FeedbackItem models or dicts)."""
    try:
        service = _known_service(service_id)
        for item in items or ():
            outcome = item.get("outcome") if isinstance(item, dict) else getattr(item, "outcome", None)
            FEEDBACK.labels(service, outcome if outcome in ("accepted", "overridden") else "other").inc()
    except Exception:
        pass


def _registry():
    """The registry to expose: all workers' samples in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


@bp.get("/metrics")
def metrics() -> Response:
    # The scraper's Accept header picks the format: Prometheus text 0.0.4 by
    # default, OpenMetrics when asked for.
    encoder, content_type = choose_encoder(request.headers.get("Accept"))
    return Response(encoder(_registry()), content_type=content_type)
