"""Get the patient's FHIR data for one hook call.

For each prefetch template key (CDS Hooks 2.0.1 §Prefetch):
- key present with a resource/Bundle: use it (only `match` entries);
- key present with `null`: the client looked and found nothing: empty;
- key present with an OperationOutcome: the client tried and failed: fetch;
- key absent: fetch it from `fhirServer` with the `fhirAuthorization` token.
Fetches run concurrently on a shared pool. Data we cannot get -> 412.

Whatever the source, only this patient's data goes on: a Patient resource
with another id, or a resource whose `subject`/`patient` reference names
another Patient, is dropped and noted (without naming the other patient);
resources of another type than the prefetch template asks for are dropped
and noted; the total number of resources is bounded.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from service.errors import PreconditionFailed
from service.fhir_client import FHIRClient, FHIRError, bundle_matches, next_link

log = logging.getLogger("mbc_cds.gather")

MAX_RESOURCES_PER_PATIENT = 5000

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


def template_type(template: str) -> str:
    """The resource type a prefetch template asks for ("Condition?..." -> Condition)."""
    return template.split("?", 1)[0].split("/", 1)[0]


# Besides the template's own type: Medication resources that medication
# searches may carry for their medicationReference.
_ALSO_ACCEPTED = {
    "MedicationRequest": {"Medication"},
    "MedicationStatement": {"Medication"},
    "MedicationAdministration": {"Medication"},
}


def _of_type(resources: list[dict], wanted: str) -> tuple[list[dict], int]:
    accepted = {wanted} | _ALSO_ACCEPTED.get(wanted, set())
    kept = [r for r in resources if isinstance(r.get("resourceType"), str) and r["resourceType"] in accepted]
    return kept, len(resources) - len(kept)


def gather(
    templates: dict[str, str],
    context: dict[str, Any],
    prefetch: dict[str, Any] | None,
    client_factory: Callable[[], FHIRClient] | None,
    *,
    demo_resources: Callable[[str], list[dict] | None] | None = None,
    time_budget: float = 20.0,
    max_workers: int = 8,
    max_resources: int = MAX_RESOURCES_PER_PATIENT,
) -> Gathered:
    """Collect resources for the templates.

    client_factory: returns a FHIRClient for the request's fhirServer (already
    checked as allowed), or None when the request named no server.
    demo_resources: patientId -> embedded demo resources (demo mode only).
    """
    started = time.monotonic()
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
        if not isinstance(value, dict):
            result.notes.append(f"prefetch '{key}' was not a FHIR resource; ignored")
            continue
        if is_operation_outcome(value):
            result.notes.append(f"prefetch '{key}' carried an OperationOutcome; fetched it again")
            to_fetch[key] = render_template(template, context)
            continue
        resources, more_pages = prefetched_resources(value)
        wanted = template_type(template)
        resources, wrong = _of_type(resources, wanted)
        if wrong:
            result.notes.append(f"prefetch '{key}': ignored {wrong} resource(s) that are not {wanted}")
        result.resources.extend(resources)
        result.origin[key] = "prefetch"
        if more_pages:
            # The client paged its prefetch: fetch the whole search ourselves.
            to_fetch[key] = render_template(template, context)

    if to_fetch:
        client = client_factory() if client_factory else None
        if client is not None:
            remaining = max(0.0, time_budget - (time.monotonic() - started))
            if hasattr(client, "deadline"):
                client.deadline = time.monotonic() + remaining
            _fetch_all(client, to_fetch, templates, result, remaining, max_workers)
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
    result.resources = _usable_for_patient(result.resources, context.get("patientId"), result.notes)
    if len(result.resources) > max_resources:
        result.resources = result.resources[:max_resources]
        result.notes.append(
            f"more than {max_resources} resources for this patient; the rest were not read and advice may be incomplete"
        )
    return result


def merge_code_searches(queries: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    """Fold searches of one type that differ only in their `code` list into one.

    The prefetch keeps concepts apart (tumour markers, genomics, clinical
    findings) for clients; when we fetch ourselves, one Observation search with
    the union of the codes returns the same resources in fewer round trips,
    which is what counts against a FHIR server that answers one at a time.
    Returns label -> (query, prefetch keys it answers).
    """
    merged: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    out: dict[str, tuple[str, list[str]]] = {}
    for key, query in queries.items():
        rtype, _, params = query.partition("?")
        fields = dict(part.split("=", 1) for part in params.split("&") if "=" in part)
        if set(fields) == {"patient", "code"} and params.count("&") == 1:
            codes, keys = merged.setdefault((rtype, fields["patient"]), ([], []))
            codes.extend(c for c in fields["code"].split(",") if c not in codes)
            keys.append(key)
        else:
            out[key] = (query, [key])
    # Merged searches go first: they carry most of the patient's data, and a
    # server that answers requests in parallel finishes soonest when the
    # longest one starts first.
    first = {"+".join(keys): (f"{rtype}?patient={patient}&code={','.join(codes)}", keys)
             for (rtype, patient), (codes, keys) in merged.items()}
    return {**first, **out}


def _fetch_all(
    client: FHIRClient,
    queries: dict[str, str],
    templates: dict[str, str],
    result: Gathered,
    time_budget: float,
    max_workers: int,
) -> None:
    pool = executor(max_workers)
    searches = merge_code_searches(queries)
    futures = {pool.submit(_fetch_one, client, query): label for label, (query, _) in searches.items()}
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
        except Exception as exc:  # never a 500 for what a FHIR server sent
            log.error("unexpected error fetching prefetch key %s: %s", key, type(exc).__name__, exc_info=exc)
            errors.append(f"{key}: the FHIR server's answer could not be read")
            continue
        keys = searches[key][1]
        wanted = template_type(templates[keys[0]])
        resources, wrong = _of_type(resources, wanted)
        if wrong:
            result.notes.append(f"'{key}': ignored {wrong} resource(s) from the FHIR server that are not {wanted}")
        result.resources.extend(resources)
        for answered in keys:
            result.origin[answered] = "fetched"
        if not complete:
            result.notes.append(f"'{key}' was cut short at the resource limit; advice may be incomplete")
    if errors:
        raise PreconditionFailed("could not get the patient's FHIR data: " + "; ".join(sorted(errors)))


def _fetch_one(client: FHIRClient, query: str) -> tuple[list[dict], bool]:
    if "?" in query:
        return client.search(query)
    resource = client.read(query)
    if resource is None:
        raise FHIRError(f"{query.split('/')[0]} not found on the FHIR server")
    return [resource], True


_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/?#]+)(?:/_history/[^/?#]*)?$")


def _belongs_to_another_patient(resource: dict, patient_id: str, own_reference: str) -> bool:
    """A Patient with another id, or a subject/patient reference naming another Patient."""
    subject = resource.get("subject")
    if type(subject) is dict and subject.get("reference") == own_reference and "patient" not in resource:
        return False  # the usual case, decided at once: subject is exactly the patient in context
    if resource.get("resourceType") == "Patient":
        return resource.get("id") != patient_id
    for name in ("subject", "patient"):
        ref = resource.get(name)
        if isinstance(ref, dict):
            reference = ref.get("reference")
            # Fast path: the usual "Patient/<id>" needs no regex.
            if isinstance(reference, str) and reference != own_reference:
                match = _PATIENT_REFERENCE.search(reference)
                if match and match.group(1) != patient_id:
                    return True
    return False


def _usable_for_patient(resources: list[dict], patient_id: Any, notes: list[str]) -> list[dict]:
    """One pass: drop other patients' resources (noted), entered-in-error, and
    repeats of the same Type/id (prefetch keys overlap)."""
    own = f"Patient/{patient_id}" if isinstance(patient_id, str) and patient_id else None
    seen: set[tuple[str, str]] = set()
    out, dropped = [], 0
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        if own is not None and _belongs_to_another_patient(resource, patient_id, own):
            dropped += 1
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
    if dropped:
        notes.append(
            f"ignored {dropped} resource(s) that belong to another patient than the one in context"
        )
    return out
