"""Get the patient's FHIR data for one hook call.

For each prefetch template key (CDS Hooks 2.0.1 §Prefetch):
- key present with a resource/Bundle: use it (`match` entries, and the
  `include` entries of the type the search's `_include` brings: the Medication
  of a medication search's medicationReference);
- key present with `null`: the client looked and found nothing: empty;
- key present with an OperationOutcome: the client tried and failed: fetch;
- key absent: fetch it from `fhirServer` with the `fhirAuthorization` token;
  if its `scope` does not grant the key's type: 412 at once, nothing fetched
  (service/smart_scopes.py).
Fetches run concurrently on a shared pool. Data we cannot get -> 412.
Medication searches the service sends itself add `_include=<Type>:medication`.
An error or fatal OperationOutcome inside search results (e.g. "results
truncated") becomes a note: the results may be incomplete.
Missing keys are fetched in as few requests as the server allows: same-type
code searches are merged, and on a server whose CapabilityStatement declares
the Patient _revincludes, the patient read and the Condition, Medication* and
Procedure searches go out as one Patient search (checked: strict handling, no
warning in the results, every _revinclude echoed in its self link, no type
near a server's include cap; else sent apart).

Whatever the source, only this patient's data goes on: a Patient resource
with another id, or a resource whose `subject`/`patient` reference names
another Patient, is dropped and noted (without naming the other patient);
resources of another type than the prefetch template asks for are dropped
and noted; the total number of resources is bounded.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from mappings.fhir import counted
from service.errors import PreconditionFailed
from service.fhir_capabilities import RevincludeSupport
from service.smart_scopes import NARROWED, NOT_GRANTED, access, names_clinical_data, scope_grants_search
from service.fhir_client import (
    FHIRClient,
    FHIRError,
    FHIRTimeout,
    FHIRUnreachable,
    bundle_errors,
    next_link,
)

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


# How a request to the FHIR server came to be sent (Gathered.searches, the metric's label).
SEARCH_KINDS = ("separate", "folded", "sent-apart")

# why a key is fetched (the 412 messages: _unfetchable_message, and per key _WHY_IN_SHORT)
_MISSING = "prefetch keys missing"
_OUTCOME = "prefetch keys with an OperationOutcome in their place"
_PAGED = "prefetch keys paged, with more pages to fetch"


@dataclass
class Gathered:
    resources: list[dict] = field(default_factory=list)
    # per prefetch key: "prefetch", "prefetch-null", "fetched", "demo"
    origin: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # data gaps to show the clinician
    # those of the notes saying this patient's data may be incomplete (an error
    # OperationOutcome in a search, a resource bound hit): the order cards repeat them
    incomplete: list[str] = field(default_factory=list)
    # requests sent to the FHIR server, by kind: "separate" (a read or search of
    # its own), "folded" (Patient with _revinclude), "sent-apart" (a folded
    # search's parts, sent again because it was not honoured)
    searches: Counter = field(default_factory=Counter)

    def note_incomplete(self, notes) -> None:
        for note in notes:
            self.notes.append(note)
            self.incomplete.append(note)


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


def template_type(template: str) -> str:
    """The resource type a prefetch template asks for ("Condition?..." -> Condition)."""
    return template.split("?", 1)[0].split("/", 1)[0]


# Besides the template's own type: the Medication a medication search brings
# for its medicationReference with `_include=<Type>:medication` (FHIR R4 search
# parameter `medication` of MedicationRequest, MedicationStatement and
# MedicationAdministration). EHRs answer such a prefetch with the Medications
# as `search.mode = include` entries; the service asks for them when it fetches.
_INCLUDES = {
    "MedicationRequest": ("MedicationRequest:medication", "Medication"),
    "MedicationStatement": ("MedicationStatement:medication", "Medication"),
    "MedicationAdministration": ("MedicationAdministration:medication", "Medication"),
}


def _included_types(query: str) -> frozenset[str]:
    """The types a search for `query`'s type brings through its _include."""
    include = _INCLUDES.get(template_type(query))
    return frozenset({include[1]}) if include else frozenset()


def _of_types(resources: list[dict], accepted: frozenset[str]) -> tuple[list[dict], int]:
    kept = [r for r in resources if isinstance(r.get("resourceType"), str) and r["resourceType"] in accepted]
    return kept, len(resources) - len(kept)


@functools.lru_cache(maxsize=64)
def _template_types(template: str) -> tuple[frozenset[str], frozenset[str]]:
    """(_included_types, _types_for) of a prefetch template: the same few templates on
    every call (service/hooks.yaml), split once."""
    return _included_types(template), _types_for(template)


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
    capabilities: RevincludeSupport | None = None,
    token_scope: str | None = None,
) -> Gathered:
    """Collect resources for the templates.

    client_factory: returns a FHIRClient for the request's fhirServer (already
    checked as allowed), or None when the request named no server.
    demo_resources: patientId -> embedded demo resources (demo mode only).
    capabilities: what FHIR servers declare (per process); with it, searches
    the server can answer as one Patient search with _revinclude are folded.
    token_scope: the fhirAuthorization scope; a key to fetch of a type it does not grant
    is a 412 before any request (service/smart_scopes.py), and only types it grants read and
    search on are folded (None: no token, nothing to filter by).
    """
    started = time.monotonic()
    prefetch = prefetch or {}
    result = Gathered()
    # Prefetched resources go through `usable` key by key; those fetched or from the
    # demo patients wait in result.resources and go through it last (so of two copies
    # of a Type/id, the prefetched one stays).
    usable = _UsableForPatient(context.get("patientId"))
    to_fetch: dict[str, str] = {}
    why: dict[str, str] = {}  # why a key is fetched, for the 412 when it cannot be
    for key, template in templates.items():
        if key not in prefetch:
            to_fetch[key] = render_template(template, context)
            why[key] = _MISSING
            continue
        value = prefetch[key]
        if value is None:
            result.origin[key] = "prefetch-null"
            continue
        # (a value that is not an object was refused with a 400 by schemas.parse_hook_request)
        if is_operation_outcome(value):
            # No note here: fetched in full, nothing is missing; not fetched -> 412.
            to_fetch[key] = render_template(template, context)
            why[key] = _OUTCOME
            continue
        more_pages = False
        included, accepted = _template_types(template)
        if value.get("resourceType") == "Bundle":
            has_outcome, wrong = usable.add_bundle(value, included, accepted)
            more_pages = next_link(value) is not None
            if has_outcome and not more_pages:  # (a paged one is fetched whole)
                result.note_incomplete(_problem_note(f"prefetch '{key}'", p) for p in bundle_errors(value))
        else:
            resources, wrong = _of_types([value], accepted)
            usable.add(resources)
        if wrong:
            result.notes.append(f"prefetch '{key}': ignored {counted(wrong, 'resource')} that "
                                f"{'is' if wrong == 1 else 'are'} not {template_type(template)}")
        result.origin[key] = "prefetch"
        if more_pages:
            # The client paged its prefetch: fetch the whole search ourselves.
            to_fetch[key] = render_template(template, context)
            why[key] = _PAGED

    include_medications = True
    if token_scope is not None and to_fetch and names_clinical_data(token_scope):
        include_medications = _refuse_what_the_scope_does_not_grant(to_fetch, token_scope, result, why)
    if to_fetch:
        try:
            client = client_factory() if client_factory else None
        except PreconditionFailed as error:  # fhirServer not on the allowlist, not https ...
            raise before_any_request(error)
        if client is not None:
            remaining = max(0.0, time_budget - (time.monotonic() - started))
            if hasattr(client, "deadline"):
                client.deadline = time.monotonic() + remaining
            _fetch_all(client, to_fetch, result, remaining, max_workers, capabilities, token_scope,
                       include_medications)
            if not include_medications:
                _note_medications_not_granted(result)
        else:
            # The demo patients answer only calls that sent no prefetch at all (README:
            # "neither prefetch nor fhirServer"): filling some keys would mix the demo
            # record into data the caller sent, an empty search included.
            nothing_prefetched = len(to_fetch) == len(templates)  # (a null key is never fetched)
            demo = (demo_resources(str(context.get("patientId")))
                    if demo_resources and nothing_prefetched else None)
            if demo is None:
                raise PreconditionFailed(_unfetchable_message(why))
            result.resources.extend(demo)
            for key in to_fetch:
                result.origin[key] = "demo"
    usable.add(result.resources)
    result.resources = usable.kept
    if usable.dropped:
        result.notes.append(
            f"ignored {counted(usable.dropped, 'resource')} that "
            f"{'belongs' if usable.dropped == 1 else 'belong'} to another patient than the one in context"
        )
    if len(result.resources) > max_resources:
        result.resources = result.resources[:max_resources]
        result.note_incomplete([
            f"more than {max_resources} resources for this patient; the rest were not read and advice may be incomplete"
        ])
    return result


def before_any_request(error: PreconditionFailed) -> PreconditionFailed:
    """The 412 marked as given before any FHIR request was sent (`nothing_sent`): the metrics then
    record no fetch time for it (mbc_cds_fhir_fetch_seconds covers the calls that fetched; a
    refusal's near-zero time would pull the fetch latency an operator watches towards zero)."""
    error.nothing_sent = True
    return error


def _permission_words(rtype: str, interaction: str) -> str:
    """The scopes that would grant it, as an integration team writes them (SMART v1, v2)."""
    return f"patient/{rtype}.read or patient/{rtype}.{'rs' if interaction == 'search' else 'r'}"


def _refuse_what_the_scope_does_not_grant(to_fetch: dict[str, str], scope: str, result: Gathered,
                                          why: dict[str, str]) -> bool:
    """Answer 412 at once, before any FHIR request, when a key the service must fetch is of a
    type fhirAuthorization.scope does not let it read or search (a server enforcing the scopes
    would refuse it). CDS Hooks 2.0.1 §Prefetch: "If the CDS Service is unable to obtain
    required data because it cannot access the FHIR server and the request did not contain the
    necessary prefetch keys, the service SHALL respond with an HTTP 412". Cards without those
    records would read a diagnosis or a line of therapy as absent (no Condition: "No breast
    cancer diagnosis documented"; no medications: first-line options for a pretreated patient).
    A type granted only with a query restriction (SMART v2 `.rs?category=...`) is fetched, with a
    gap saying records outside the restriction were not returned (the server's own partial answer).
    Returns whether medication searches may `_include` the Medications they reference
    (Medication granted too; without it the referencing records are a gap, medication-unreadable).
    Source: CDS Hooks 2.0.1 fhirAuthorization, §Prefetch; SMART App Launch 2.x, Scopes and
    Launch Context (service/smart_scopes.py)."""
    not_granted: dict[tuple[str, str], list[str]] = {}
    narrowed: dict[str, list[str]] = {}
    for key, query in to_fetch.items():
        rtype = template_type(query)
        interaction = "search" if "?" in query else "read"
        granted = access(scope, rtype, interaction)
        if granted == NOT_GRANTED:
            not_granted.setdefault((rtype, interaction), []).append(f"{key}: {_WHY_IN_SHORT[why[key]]}")
        elif granted == NARROWED:  # (UNCLEAR: the server decides, FULL: nothing left out)
            narrowed.setdefault(rtype, []).append(key)
    if not_granted:
        message = _not_granted_message(not_granted)
        raise before_any_request(PreconditionFailed(message, own_words=message))
    result.note_incomplete(
        f"{rtype} records ({', '.join(keys)}): fhirAuthorization.scope grants this service only {rtype} "
        f"records matching a query restriction; others were not returned and advice may be incomplete"
        for rtype, keys in narrowed.items())
    return any(access(scope, "Medication", interaction) != NOT_GRANTED for interaction in ("read", "search"))


# why a key must be fetched, as the scope 412 names it per key
_WHY_IN_SHORT = {
    _MISSING: "not prefetched",
    _OUTCOME: "an OperationOutcome in its place",
    _PAGED: "prefetched with more pages to fetch",
}


def _not_granted_message(not_granted: dict[tuple[str, str], list[str]]) -> str:
    """The 412 message: the types and keys, that the scope does not grant them, the scopes that
    would, or to prefetch them (never the token)."""
    types = "; ".join(f"{rtype} ({', '.join(keys)}; {_permission_words(rtype, interaction)} would grant it)"
                      for (rtype, interaction), keys in not_granted.items())
    return (f"fhirAuthorization.scope does not grant this service the FHIR data it must fetch: {types}. "
            "Nothing was fetched: grant these scopes, or prefetch these keys in full")


def _note_medications_not_granted(result: Gathered) -> None:
    """A gap when fetched medication records name their drug only by a reference to a
    Medication the scope does not let the service read (it was not `_include`d)."""
    referencing = sum(1 for r in result.resources
                      if r.get("resourceType") in _INCLUDES and isinstance(r.get("medicationReference"), dict)
                      and not str(r["medicationReference"].get("reference", "")).startswith("#"))
    if referencing:
        result.note_incomplete([
            f"{counted(referencing, 'medication record')} {'names its' if referencing == 1 else 'name their'} "
            f"drug by a Medication that fhirAuthorization.scope does not grant this service "
            f"({_permission_words('Medication', 'search')}); the drug may not be read and advice may be incomplete"])


def _unfetchable_message(why: dict[str, str]) -> str:
    """The 412 message when prefetch keys must be fetched and there is no fhirServer:
    the keys, grouped by why each needs fetching (absent, an OperationOutcome, paged)."""
    by_reason: dict[str, list[str]] = {}
    for key in sorted(why):
        by_reason.setdefault(why[key], []).append(key)
    parts = [f"{reason} ({', '.join(keys)})" for reason, keys in sorted(by_reason.items())]
    return "; ".join(parts) + " and no fhirServer given to fetch them from"


def _problem_note(where: str, problem: str) -> str:
    """A data gap for an error OperationOutcome in search results."""
    return f"{where}: the FHIR server reported an error with the results, which may be incomplete: {problem}"


# The longest query string a merged search may have, as sent (`|` goes out as %7C):
# IIS refuses query strings over 2,048 bytes by default (maxQueryString; 414 or
# 404.15), which the service would report as a 412 on every call without prefetch.
# The margin leaves room for `&_count=` and paging parameters.
MAX_MERGED_QUERY_BYTES = 1800


def _sent_length(params: str) -> int:
    return len(params) + 2 * params.count("|")


def merge_code_searches(queries: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    """Fold searches of one type that differ only in their `code` list into one.

    The prefetch keeps concepts apart (tumour markers, genomics, clinical
    findings) for clients; when we fetch ourselves, one Observation search with
    the union of the codes returns the same resources in fewer round trips,
    which is what counts against a FHIR server that answers one at a time.
    Whole keys are merged while the query string stays within
    MAX_MERGED_QUERY_BYTES; the next key then starts another merged search
    (sent concurrently). Returns label -> (query, prefetch keys it answers).
    """
    merged: list[tuple[str, str, list[str], list[str]]] = []  # (type, patient, codes, keys)
    out: dict[str, tuple[str, list[str]]] = {}
    for key, query in queries.items():
        rtype, _, params = query.partition("?")
        fields = dict(part.split("=", 1) for part in params.split("&") if "=" in part)
        if set(fields) == {"patient", "code"} and params.count("&") == 1:
            own = fields["code"].split(",")
            for group_type, patient, codes, keys in merged:
                union = list(dict.fromkeys(codes + own))
                if ((group_type, patient) == (rtype, fields["patient"])
                        and _sent_length(f"patient={patient}&code={','.join(union)}") <= MAX_MERGED_QUERY_BYTES):
                    codes[:] = union
                    keys.append(key)
                    break
            else:
                merged.append((rtype, fields["patient"], list(dict.fromkeys(own)), [key]))
        else:
            out[key] = (query, [key])
    # Merged searches go first: they carry most of the patient's data, and a
    # server that answers requests in parallel finishes soonest when the
    # longest one starts first.
    first = {"+".join(keys): (f"{rtype}?patient={patient}&code={','.join(codes)}", keys)
             for rtype, patient, codes, keys in merged}
    return {**first, **out}


@dataclass(frozen=True)
class Search:
    """One request (with its next pages) the service sends for missing prefetch keys."""

    query: str
    keys: tuple[str, ...]  # the prefetch keys it answers
    types: frozenset[str]  # the resource types it may return
    # A search folded from several (Patient + _revinclude): the searches it
    # replaces, sent instead if the server does not honour it.
    parts: tuple[tuple[str, "Search"], ...] = ()


def _types_for(query: str) -> frozenset[str]:
    return frozenset({template_type(query)}) | _included_types(query)


def plan_searches(queries: dict[str, str], revincludes: frozenset[str] = frozenset()) -> dict[str, Search]:
    """The searches to send for the missing keys' rendered queries: same-type code
    searches merged (merge_code_searches), and, if the server declares the
    Patient _revincludes (`revincludes`, from its CapabilityStatement), the
    patient read and the plain `Type?patient=` searches folded into one."""
    return _fold_into_patient_search(_separate_searches(queries), revincludes)


def _separate_searches(queries: dict[str, str], include_medications: bool = True) -> dict[str, Search]:
    """The searches with same-type code searches merged, nothing folded. Without
    include_medications (the scope grants no Medication), a medication search asks only for
    its own type (Search.types: fetch_search adds an _include for an included type only)."""
    return {label: Search(query, tuple(keys),
                          _types_for(query) if include_medications else frozenset({template_type(query)}))
            for label, (query, keys) in merge_code_searches(queries).items()}


_PATIENT_READ = re.compile(r"^Patient/([A-Za-z0-9\-.]{1,64})$")
_BY_PATIENT = re.compile(r"^([A-Za-z]+)\?patient=([A-Za-z0-9\-.]{1,64})$")


def _fold_into_patient_search(searches: dict[str, Search], revincludes: frozenset[str]) -> dict[str, Search]:
    """`Patient/p` + `Condition?patient=p` + ... -> `Patient?_id=p&_revinclude=Condition:patient&...`.

    Same resources (the _revinclude uses each type's own `patient` search
    parameter, as the separate searches do), one request instead of several.
    """
    patient_label = next((label for label, s in searches.items() if _PATIENT_READ.match(s.query)), None)
    if patient_label is None or not revincludes:
        return searches
    patient_id = _PATIENT_READ.match(searches[patient_label].query).group(1)
    folded_types: dict[str, str] = {}
    for label, search in searches.items():
        match = _BY_PATIENT.match(search.query)
        if match and match.group(2) == patient_id and f"{match.group(1)}:patient" in revincludes:
            folded_types[label] = match.group(1)
    if not folded_types:
        return searches
    parts = ((patient_label, searches[patient_label]), *((label, searches[label]) for label in folded_types))
    folded = Search(
        query=f"Patient?_id={patient_id}" + "".join(f"&_revinclude={t}:patient" for t in folded_types.values()),
        keys=tuple(key for _, part in parts for key in part.keys),
        types=frozenset().union(*(part.types for _, part in parts)),
        parts=parts,
    )
    out = {label: s for label, s in searches.items() if label != patient_label and label not in folded_types}
    out["+".join(label for label, _ in parts)] = folded
    return out


def _could_fold(searches: dict[str, Search]) -> bool:
    """Whether a server declaring every _revinclude would get a folded search."""
    every = frozenset(f"{template_type(s.query)}:patient" for s in searches.values())
    return any(s.parts for s in _fold_into_patient_search(searches, every).values())


# Servers cap the resources one _revinclude brings, some without saying so
# (HAPI: 1,000, or 500 with a wildcard, no next link - hapi-fhir #6215/#6803;
# Microsoft FHIR server: 100 per _revinclude, with a warning). A folded search
# that brings this many of one type is sent again as separate, paged searches.
REVINCLUDE_TRUNCATION_GUARD = 100


def _fetch_all(
    client: FHIRClient,
    queries: dict[str, str],
    result: Gathered,
    time_budget: float,
    max_workers: int,
    capabilities: RevincludeSupport | None = None,
    token_scope: str | None = None,
    include_medications: bool = True,
) -> None:
    deadline = time.monotonic() + time_budget
    pool = executor(max_workers)
    plan, learning = _plan_for(client, queries, capabilities, token_scope, pool, include_medications)
    outcomes = _run(pool, client, plan, deadline)
    result.searches.update("folded" if search.parts else "separate" for search in plan.values())
    sent = plan
    plan, outcomes = _resend_apart_if_not_honoured(pool, client, plan, outcomes, capabilities, deadline)
    result.searches["sent-apart"] += sum(label not in sent for label in plan)
    if learning is not None:
        cf.wait([learning], timeout=max(0.0, deadline - time.monotonic()))
    _collect(plan, outcomes, result)


def _plan_for(client: FHIRClient, queries: dict[str, str], capabilities: RevincludeSupport | None,
              token_scope: str | None, pool: cf.ThreadPoolExecutor,
              include_medications: bool = True) -> tuple[dict[str, Search], cf.Future | None]:
    """The searches to send, and the CapabilityStatement read if it is not known yet."""
    searches = _separate_searches(queries, include_medications)
    if capabilities is None or not _could_fold(searches):
        return searches, None
    declared = capabilities.known(client.base_url)
    if declared is None:
        # Read alongside this call's searches: this call searches without
        # _revinclude, later ones use what the server declares.
        return searches, pool.submit(capabilities.learn, client)
    if token_scope is not None:
        granted = frozenset(r for r in declared if scope_grants_search(token_scope, r.split(":")[0]))
        declared = granted if scope_grants_search(token_scope, "Patient") else frozenset()
    return _fold_into_patient_search(searches, declared), None


def _resend_apart_if_not_honoured(pool, client, plan, outcomes, capabilities, deadline):
    """A folded search whose answer cannot be trusted whole is replaced by its parts, sent now."""
    replaced = [label for label, search in plan.items()
                if search.parts and _send_apart(search, outcomes[label], client, capabilities)]
    if not replaced:
        return plan, outcomes
    apart = {part_label: part for label in replaced for part_label, part in plan[label].parts}
    kept = {label: search for label, search in plan.items() if label not in replaced}
    return {**kept, **apart}, {**{label: outcomes[label] for label in kept}, **_run(pool, client, apart, deadline)}


def _collect(plan: dict[str, Search], outcomes: dict, result: Gathered) -> None:
    """The searches' resources into `result` (in type/id order), or a 412 naming what failed."""
    errors: dict[str, list[str]] = {}  # what went wrong -> the searches it went wrong for
    own_words: set[str] = set()  # the same without what the FHIR server said
    fetched = []
    for label, search in plan.items():
        outcome = outcomes[label]
        if isinstance(outcome, FHIRError):
            errors.setdefault(str(outcome), []).append(label)
            own_words.add(outcome.reason)
            continue
        if isinstance(outcome, Exception):  # never a 500 for what a FHIR server sent
            log.error("unexpected error fetching prefetch key %s: %s", label, type(outcome).__name__, exc_info=outcome)
            errors.setdefault("the FHIR server's answer could not be read", []).append(label)
            own_words.add("the FHIR server's answer could not be read")
            continue
        resources, complete, problems = outcome
        result.note_incomplete(_problem_note(f"'{label}'", problem) for problem in problems)
        resources, wrong = _of_types(resources, search.types)
        if wrong:
            names = " or ".join(sorted(search.types))
            result.notes.append(f"'{label}': ignored {counted(wrong, 'resource')} from the FHIR server that "
                                f"{'is' if wrong == 1 else 'are'} not {names}")
        fetched.extend(resources)
        for answered in search.keys:
            result.origin[answered] = "fetched"
        if not complete:
            result.note_incomplete([f"'{label}' was cut short at the resource limit; advice may be incomplete"])
    if errors:
        # One line per distinct problem, naming its searches: a server that refuses every
        # search (401, 503 ...) is said once, not eight times
        problems = sorted(f"{', '.join(sorted(labels))}: {problem}" for problem, labels in errors.items())
        raise PreconditionFailed("could not get the patient's FHIR data: " + "; ".join(problems),
                                 own_words="; ".join(sorted(own_words)))
    # In one order whatever the server's (a search and an _include list them
    # differently), so the same record gives the same advice, citations included.
    fetched.sort(key=_type_and_id)
    result.resources.extend(fetched)


def _type_and_id(resource: dict) -> tuple[str, str]:
    return str(resource.get("resourceType")), str(resource.get("id"))


def _run(pool: cf.ThreadPoolExecutor, client: FHIRClient, searches: dict[str, Search],
         deadline: float) -> dict[str, tuple[list[dict], bool, list[str]] | Exception]:
    """Send the searches at once; label -> (resources, complete, problems) or the exception."""
    futures = {pool.submit(fetch_search, client, search): label for label, search in searches.items()}
    done, pending = cf.wait(futures, timeout=max(0.0, deadline - time.monotonic()))
    for future in pending:
        future.cancel()
    if pending:
        raise PreconditionFailed("the FHIR server did not return the patient's data in time")
    return {futures[future]: future.exception() or future.result() for future in done}


def _send_apart(search: Search, outcome, client: FHIRClient, capabilities: RevincludeSupport | None) -> bool:
    """Whether a folded search's result cannot be trusted whole, so its parts go out separately."""
    if isinstance(outcome, (FHIRUnreachable, FHIRTimeout)):
        return False  # the server, not the search: separate searches would fail the same way
    if isinstance(outcome, Exception):
        # Refused (400, 501 ...) or qualified with a warning: do not use it again for a while.
        if capabilities is not None and isinstance(outcome, FHIRError):
            capabilities.not_honoured(client.base_url)
        return True
    resources, _, _ = outcome
    patient_id = _PATIENT_READ.match(search.parts[0][1].query).group(1)
    if not any(r.get("resourceType") == "Patient" and r.get("id") == patient_id for r in resources):
        return True  # the separate read says "not found" properly
    per_type = Counter(r.get("resourceType") for r in resources)
    return any(n >= REVINCLUDE_TRUNCATION_GUARD for t, n in per_type.items() if t != "Patient")


def fetch_search(client: FHIRClient, search: Search) -> tuple[list[dict], bool, list[str]]:
    """One planned search (or read), as gather sends it: (resources, complete,
    what error OperationOutcomes in the results say)."""
    query = search.query
    problems: list[str] = []
    if search.parts:
        # The folded medication searches' Medications come with _include:iterate
        # (a plain _include would apply to the Patient matches only).
        query += "".join(f"&_include:iterate={_INCLUDES[template_type(part.query)][0]}"
                         for _, part in search.parts if _included_types(part.query) & part.types)
        resources, complete = client.search(query, included=True, strict=True, echoed=("_revinclude",),
                                             problems=problems)
        return resources, complete, problems
    if "?" in query:
        include = _INCLUDES.get(template_type(query))
        included = _included_types(query) & search.types
        if included:
            query += f"&_include={include[0]}"
        resources, complete = client.search(query, included=included, problems=problems)
        return resources, complete, problems
    resource = client.read(query)
    if resource is None:
        raise FHIRError(f"{query.split('/')[0]} not found on the FHIR server")
    return [resource], True, problems


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


class _UsableForPatient:
    """The resources that go on, in the order added: none of another patient
    (counted in `dropped`, for a note), none entered-in-error, and one copy of
    each Type/id (prefetch keys overlap; the first copy stays)."""

    def __init__(self, patient_id: Any):
        self.patient_id = patient_id
        self.own = f"Patient/{patient_id}" if isinstance(patient_id, str) and patient_id else None
        self.seen: set[tuple[str, str]] = set()
        self.kept: list[dict] = []
        self.dropped = 0

    def add(self, resources: list) -> None:
        """Keep the usable ones of `resources`."""
        patient_id, own, seen, kept = self.patient_id, self.own, self.seen, self.kept
        for resource in resources:
            if not isinstance(resource, dict):
                continue
            subject = resource.get("subject")
            # (_belongs_to_another_patient's first test, here: the usual resource needs no call)
            if (own is not None and not (type(subject) is dict and subject.get("reference") == own
                                         and "patient" not in resource)
                    and _belongs_to_another_patient(resource, patient_id, own)):
                self.dropped += 1
                continue
            if resource.get("status") == "entered-in-error":
                continue
            rid = resource.get("id")
            if isinstance(rid, str):
                key = (str(resource.get("resourceType")), rid)
                if key in seen:
                    continue
                seen.add(key)
            kept.append(resource)

    def add_bundle(self, bundle: dict, included: frozenset[str], accepted: frozenset[str]) -> tuple[bool, int]:
        """add(_of_types(bundle_contents(bundle, included)[0], accepted)[0]) in one pass over a
        prefetched Bundle's entries (a call reads each resource once here, not three times);
        returns bundle_contents' has_outcome and _of_types' count of resources not of `accepted`."""
        has_outcome = False
        entries = bundle.get("entry")
        if not isinstance(entries, list):
            return has_outcome, 0
        patient_id, own, seen, kept = self.patient_id, self.own, self.seen, self.kept
        wrong = 0
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            rtype = resource.get("resourceType")
            if rtype == "OperationOutcome":
                has_outcome = True
                continue
            # bundle_contents: `match` entries (or no mode), and `include` entries of the included types
            search = entry.get("search")
            if search is not None:
                mode = search.get("mode") if isinstance(search, dict) else None
                if mode != "match" and mode is not None:
                    # (a non-string resourceType is no type a search includes; `in` would raise on a list)
                    if mode != "include" or not (included and type(rtype) is str and rtype in included):
                        continue
            # _of_types
            if not (isinstance(rtype, str) and rtype in accepted):
                wrong += 1
                continue
            # add
            subject = resource.get("subject")
            if (own is not None and not (type(subject) is dict and subject.get("reference") == own
                                         and "patient" not in resource)
                    and _belongs_to_another_patient(resource, patient_id, own)):
                self.dropped += 1
                continue
            if resource.get("status") == "entered-in-error":
                continue
            rid = resource.get("id")
            if isinstance(rid, str):
                key = (rtype, rid)  # (rtype is a str: add's str(rtype) is equal to it)
                if key in seen:
                    continue
                seen.add(key)
            kept.append(resource)
        return has_outcome, wrong
