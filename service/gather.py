"""Get the patient's FHIR data for one hook call.

For each prefetch template key (CDS Hooks 2.0.1 §Prefetch):
- key present with a resource/Bundle: use it (only `match` entries);
- key present with `null`: the client looked and found nothing: empty;
- key present with an OperationOutcome: the client tried and failed: fetch;
- key absent: fetch it from `fhirServer` with the `fhirAuthorization` token.
Fetches run concurrently on a shared pool. Data we cannot get -> 412.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from service.errors import PreconditionFailed
from service.fhir_client import FHIRClient, FHIRError, bundle_matches, next_link

_executor: cf.ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def executor(max_workers: int = 8) -> cf.ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = cf.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="fhir")
        return _executor


@dataclass
class Gathered:
    resources: list[dict] = field(default_factory=list)
    # per prefetch key: "prefetch", "prefetch-null", "fetched", "demo"
    origin: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # data gaps to show the clinician


def render_template(template: str, context: dict[str, Any]) -> str:
    """Fill {{context.x}} tokens with root-level primitive context values."""
    out = template
    for key, value in context.items():
        token = "{{context.%s}}" % key
        if token in out and isinstance(value, (str, int)):
            out = out.replace(token, str(value))
    return out


def is_operation_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def prefetched_resources(value: dict) -> tuple[list[dict], bool]:
    """Resources in one prefetch value, and whether more pages exist."""
    if value.get("resourceType") == "Bundle":
        return bundle_matches(value), next_link(value) is not None
    return [value], False


def gather(
    templates: dict[str, str],
    context: dict[str, Any],
    prefetch: dict[str, Any] | None,
    client_factory: Callable[[], FHIRClient] | None,
    *,
    demo_resources: Callable[[str], list[dict] | None] | None = None,
    time_budget: float = 20.0,
    max_workers: int = 8,
) -> Gathered:
    """Collect resources for the templates.

    client_factory: returns a FHIRClient for the request's fhirServer (already
    checked as allowed), or None when the request named no server.
    demo_resources: patientId -> embedded demo resources (demo mode only).
    """
    prefetch = prefetch or {}
    result = Gathered()
    to_fetch: dict[str, str] = {}
    for key, template in templates.items():
        if key not in prefetch:
            to_fetch[key] = render_template(template, context)
            continue
        value = prefetch[key]
        if value is None:
            result.origin[key] = "prefetch-null"
            continue
        if is_operation_outcome(value):
            result.notes.append(f"prefetch '{key}' carried an OperationOutcome; fetched it again")
            to_fetch[key] = render_template(template, context)
            continue
        resources, more_pages = prefetched_resources(value)
        result.resources.extend(resources)
        result.origin[key] = "prefetch"
        if more_pages:
            # The client paged its prefetch: fetch the whole search ourselves.
            to_fetch[key] = render_template(template, context)

    if to_fetch:
        client = client_factory() if client_factory else None
        if client is not None:
            _fetch_all(client, to_fetch, result, time_budget, max_workers)
        else:
            demo = demo_resources(str(context.get("patientId"))) if demo_resources else None
            if demo is None:
                missing = ", ".join(sorted(to_fetch))
                raise PreconditionFailed(
                    f"prefetch keys missing ({missing}) and no fhirServer given to fetch them from"
                )
            result.resources.extend(demo)
            for key in to_fetch:
                result.origin[key] = "demo"
    result.resources = _unique_usable(result.resources)
    return result


def _fetch_all(
    client: FHIRClient, queries: dict[str, str], result: Gathered, time_budget: float, max_workers: int
) -> None:
    pool = executor(max_workers)
    futures = {pool.submit(_fetch_one, client, query): key for key, query in queries.items()}
    done, pending = cf.wait(futures, timeout=time_budget)
    for future in pending:
        future.cancel()
    if pending:
        raise PreconditionFailed("the FHIR server did not return the patient's data in time")
    errors = []
    for future in done:
        key = futures[future]
        try:
            resources, complete = future.result()
        except FHIRError as exc:
            errors.append(f"{key}: {exc}")
            continue
        result.resources.extend(resources)
        result.origin[key] = "fetched"
        if not complete:
            result.notes.append(f"'{key}' was cut short at the paging/size limit; advice may be incomplete")
    if errors:
        raise PreconditionFailed("could not get the patient's FHIR data: " + "; ".join(sorted(errors)))


def _fetch_one(client: FHIRClient, query: str) -> tuple[list[dict], bool]:
    if "?" in query:
        return client.search(query)
    resource = client.read(query)
    if resource is None:
        raise FHIRError(f"{query.split('/')[0]} not found on the FHIR server")
    return [resource], True


def _unique_usable(resources: list[dict]) -> list[dict]:
    """One copy per Type/id (keys overlap), entered-in-error dropped."""
    seen: set[tuple[str, str]] = set()
    out = []
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        if resource.get("status") == "entered-in-error":
            continue
        rid = resource.get("id")
        if isinstance(rid, str):
            key = (str(resource.get("resourceType")), rid)
            if key in seen:
                continue
            seen.add(key)
        out.append(resource)
    return out
