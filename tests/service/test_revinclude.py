"""Fewer requests without prefetch: the patient and their conditions, medications and
procedures in one Patient search with _revinclude, where the FHIR server declares it.

The FHIR server is faked at the HTTP boundary (`responses`) over the real mCODE
patient from ../shared/data; each test says how the server behaves (declares or not,
honours or not, warns, caps its includes) and checks what the service sends and
that the cards are the same as when every search goes out on its own.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import responses

from service.fhir_capabilities import RevincludeSupport, declared_patient_revincludes
from service.gather import REVINCLUDE_TRUNCATION_GUARD, gather, plan_searches, render_template
from service.hooks import load_services

from ..conftest import REAL_PATIENT_ID
from .conftest import FHIR_BASE, patient_view_request

SERVICE = "/cds-services/mbc-treatment-options"
TEMPLATES = load_services()["mbc-treatment-options"].prefetch
FOLDED_TYPES = ["Condition", "MedicationStatement", "MedicationRequest", "MedicationAdministration", "Procedure"]
ALL_DECLARED = [f"{t}:patient" for t in FOLDED_TYPES] + ["Observation:patient"]


def capability_statement(revincludes: list[str]) -> dict:
    return {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
            "format": ["json"], "rest": [{"mode": "server", "resource": [
                {"type": "Patient", "searchRevInclude": revincludes},
                {"type": "Condition", "searchRevInclude": ["Observation:subject"]}]}]}


class FakeFHIRServer:
    """Answers reads, `Type?patient=` searches (with code filters) and Patient?_id
    searches with _revinclude over a list of resources, as told."""

    def __init__(self, resources, revincludes=ALL_DECLARED, honour=True, warn=False, cap=None, status=200,
                 metadata_status=200):
        self.resources = resources
        self.revincludes, self.honour, self.warn, self.cap, self.status = revincludes, honour, warn, cap, status
        self.metadata_status = metadata_status
        self.requests: list[str] = []

    def install(self, rsps) -> None:
        rsps.add_callback(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), callback=self.answer)

    def answer(self, request):
        url = urlsplit(request.url)
        path = url.path.removeprefix(urlsplit(FHIR_BASE).path + "/")
        params = parse_qsl(url.query)
        self.requests.append(path if not params else f"{path}?{'&'.join(k for k, _ in params)}")
        if path == "metadata":
            return self.metadata_status, {}, json.dumps(capability_statement(self.revincludes))
        if "/" in path:
            kind, rid = path.split("/", 1)
            found = [r for r in self.resources if r["resourceType"] == kind and r["id"] == rid]
            return (200, {}, json.dumps(found[0])) if found else (404, {}, "{}")
        if path == "Patient":
            return self.patient_search(dict(params).get("_id"), [v for k, v in params if k == "_revinclude"],
                                       request.headers.get("Prefer", ""))
        patient = dict(params).get("patient")
        codes = {c.split("|")[-1] for k, v in params if k == "code" for c in v.split(",")}
        matches = [r for r in self.of_patient(path, patient)
                   if not codes or {c.get("code") for c in r.get("code", {}).get("coding", [])} & codes]
        return 200, {}, json.dumps(bundle([(r, "match") for r in matches]))

    def of_patient(self, kind: str, patient_id: str) -> list[dict]:
        return [r for r in self.resources if r["resourceType"] == kind
                and (r.get("subject") or r.get("patient") or {}).get("reference") == f"Patient/{patient_id}"]

    def patient_search(self, patient_id, revincludes, prefer):
        if self.status != 200:
            return self.status, {}, json.dumps({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "not-supported", "diagnostics": "_revinclude"}]})
        patients = [r for r in self.resources if r["resourceType"] == "Patient" and r["id"] == patient_id]
        entries = [(r, "match") for r in patients]
        if self.honour:
            for spec in revincludes:
                included = self.of_patient(spec.split(":")[0], patient_id)
                entries += [(r, "include") for r in included[: self.cap]]
        if self.warn:
            entries.append(({"resourceType": "OperationOutcome", "issue": [
                {"severity": "warning", "code": "incomplete", "diagnostics": "Include result was truncated"}]},
                "outcome"))
        used = [("_id", patient_id)] + [("_revinclude", v) for v in revincludes if self.honour]
        return 200, {}, json.dumps(bundle(entries, f"{FHIR_BASE}/Patient?{urlencode(used)}"))


def bundle(entries, self_url: str | None = None) -> dict:
    out = {"resourceType": "Bundle", "type": "searchset",
           "entry": [{"resource": r, "search": {"mode": mode}} for r, mode in entries]}
    if self_url:
        out["link"] = [{"relation": "self", "url": self_url}]
    return out


def no_prefetch_call(client):
    response = client.post(SERVICE, json=patient_view_request(REAL_PATIENT_ID, fhirServer=FHIR_BASE))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["cards"]


def comparable(cards: list[dict]) -> list[dict]:
    """Cards without their per-call uuids."""
    text = json.dumps(cards, sort_keys=True)
    return json.loads(re.sub(r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"', '"uuid"', text))


@pytest.fixture
def reference(app_config, real_patient_resources) -> list[dict]:
    """The cards when every search goes out on its own (a server declaring no _revinclude; own app)."""
    from service.app import create_app

    fresh = create_app(app_config).test_client()
    return calls_with(FakeFHIRServer(real_patient_resources, revincludes=[]), fresh, times=1)[0]


def calls_with(server: FakeFHIRServer, client, times: int = 2) -> list[list[dict]]:
    with responses.RequestsMock() as rsps:
        server.install(rsps)
        return [no_prefetch_call(client) for _ in range(times)]


def test_a_server_that_declares_the_revincludes_gets_three_searches_instead_of_eight_from_the_second_call(
        client, real_patient_resources, reference):
    # the Observation keys take two searches (the merged query stays within the length limit)
    server = FakeFHIRServer(real_patient_resources)
    first, second = calls_with(server, client)
    first_requests = server.requests[:9]
    assert comparable(first) == comparable(reference)
    assert sorted(first_requests) == sorted([
        "metadata", f"Patient/{REAL_PATIENT_ID}", "Condition?patient&_count", "Observation?patient&code&_count",
        "Observation?patient&code&_count",
        "MedicationStatement?patient&_include&_count", "MedicationRequest?patient&_include&_count",
        "MedicationAdministration?patient&_include&_count", "Procedure?patient&_count"])
    assert sorted(server.requests[9:]) == [
        "Observation?patient&code&_count", "Observation?patient&code&_count",
        "Patient?_id&_revinclude&_revinclude&_revinclude&_revinclude&_revinclude"
        "&_include:iterate&_include:iterate&_include:iterate&_count"]
    assert comparable(second) == comparable(first)
    assert any(c["source"]["topic"]["code"] != "patient-summary" for c in second)


def test_the_folded_search_asks_for_strict_handling_and_names_each_type_with_its_patient_parameter(
        client, real_patient_resources):
    with responses.RequestsMock() as rsps:
        FakeFHIRServer(real_patient_resources).install(rsps)
        no_prefetch_call(client)
        no_prefetch_call(client)
        folded = [c.request for c in rsps.calls if "_revinclude" in c.request.url]
    assert len(folded) == 1
    assert folded[0].headers["Prefer"] == "handling=strict"
    params = parse_qsl(urlsplit(folded[0].url).query)
    assert ("_id", REAL_PATIENT_ID) in params
    assert sorted(v for k, v in params if k == "_revinclude") == sorted(f"{t}:patient" for t in FOLDED_TYPES)


def test_the_folded_search_asks_for_the_medications_its_medication_searches_reference(client, real_patient_resources):
    # _include:iterate: a plain _include would apply to the Patient matches only
    with responses.RequestsMock() as rsps:
        FakeFHIRServer(real_patient_resources).install(rsps)
        no_prefetch_call(client)
        no_prefetch_call(client)
        folded = [c.request for c in rsps.calls if "_revinclude" in c.request.url]
    params = parse_qsl(urlsplit(folded[0].url).query)
    assert sorted(v for k, v in params if k == "_include:iterate") == [
        "MedicationAdministration:medication", "MedicationRequest:medication", "MedicationStatement:medication"]


def test_a_server_that_declares_no_revincludes_gets_separate_searches_and_its_metadata_is_read_once(
        client, real_patient_resources):
    server = FakeFHIRServer(real_patient_resources, revincludes=[])
    first, second = calls_with(server, client, times=3)[:2]
    assert server.requests.count("metadata") == 1
    assert not any("_revinclude" in r for r in server.requests)
    assert len(server.requests) == 1 + 3 * 8  # 8 searches: the Observation keys take two
    assert comparable(first) == comparable(second)


def test_a_server_whose_metadata_cannot_be_read_gets_separate_searches_and_the_call_still_answers(
        client, real_patient_resources):
    server = FakeFHIRServer(real_patient_resources, metadata_status=401)
    calls_with(server, client, times=2)
    assert server.requests.count("metadata") == 1
    assert not any("_revinclude" in r for r in server.requests)


def test_only_the_declared_revincludes_are_folded(client, real_patient_resources):
    server = FakeFHIRServer(real_patient_resources, revincludes=["Condition:patient", "MedicationStatement:patient"])
    calls_with(server, client)
    last = server.requests[9:]  # after the first call: metadata, a read and 7 searches
    assert "Patient?_id&_revinclude&_revinclude&_include:iterate&_count" in last
    assert {r.split("?")[0] for r in last} == {"Patient", "Observation", "MedicationRequest",
                                               "MedicationAdministration", "Procedure"}


@pytest.mark.parametrize("behaviour", [
    {"warn": True},        # results qualified: "Include result was truncated"
    {"status": 400},       # strict handling: refused
    {"status": 501},
])
def test_a_server_that_does_not_honour_the_folded_search_gets_separate_searches_then_and_on_later_calls(
        client, real_patient_resources, behaviour, reference):
    server = FakeFHIRServer(real_patient_resources, **behaviour)
    first, second, third = calls_with(server, client, times=3)
    assert comparable(second) == comparable(reference)
    assert comparable(third) == comparable(reference)
    folded = [r for r in server.requests if "_revinclude" in r]
    assert len(folded) == 1  # tried once, then not again
    assert server.requests.count(f"Patient/{REAL_PATIENT_ID}") == 3


def test_a_server_that_silently_ignores_the_revincludes_is_caught_by_its_self_link_and_nothing_is_lost(
        client, real_patient_resources, reference):
    # It declares them, answers the strict search with the patient alone and leaves
    # _revinclude out of the parameters it says it used (R4 search: the self link):
    # the service must not read that as "no conditions, no medications".
    server = FakeFHIRServer(real_patient_resources, honour=False)
    first, second, third = calls_with(server, client, times=3)
    assert comparable(second) == comparable(reference)
    assert comparable(third) == comparable(reference)
    assert sum("_revinclude" in r for r in server.requests) == 1


def test_a_type_near_a_servers_include_cap_is_fetched_again_on_its_own(client, real_patient_resources):
    many = [dict(r, id=f"{r['id']}-{i}") for r in real_patient_resources if r["resourceType"] == "MedicationStatement"
            for i in range(REVINCLUDE_TRUNCATION_GUARD // 5 + 1)]
    server = FakeFHIRServer(real_patient_resources + many, cap=REVINCLUDE_TRUNCATION_GUARD)
    first, second = calls_with(server, client)
    later = server.requests[8:]
    assert sum("_revinclude" in r for r in later) == 1
    assert "MedicationStatement?patient&_include&_count" in later  # sent apart after the folded search
    assert comparable(second) == comparable(first)


def test_the_fold_can_be_turned_off(app_config, real_patient_resources):
    from service.app import create_app

    client = create_app({**app_config, "fhir_revinclude": False}).test_client()
    server = FakeFHIRServer(real_patient_resources)
    calls_with(server, client)
    assert "metadata" not in server.requests
    assert not any("_revinclude" in r for r in server.requests)


def test_with_only_one_key_missing_there_is_nothing_to_fold_and_no_metadata_is_read(client, real_patient_resources):
    prefetch = {key: None for key in TEMPLATES}
    del prefetch["conditions"]
    server = FakeFHIRServer(real_patient_resources)
    with responses.RequestsMock() as rsps:
        server.install(rsps)
        response = client.post(SERVICE, json=patient_view_request(REAL_PATIENT_ID, prefetch=prefetch,
                                                                  fhirServer=FHIR_BASE))
    assert response.status_code == 200
    assert server.requests == ["Condition?patient&_count"]


def test_the_plan_keeps_the_merged_observation_search_first_and_folds_the_rest():
    queries = {key: render_template(t, {"patientId": "p1"}) for key, t in TEMPLATES.items()}
    plan = plan_searches(queries, frozenset(ALL_DECLARED))
    labels = list(plan)
    assert labels[:2] == ["tumorMarkers+genomics", "clinicalFindings"]  # within the query-length limit
    folded = plan[labels[2]]
    assert set(folded.keys) == {"patient", "conditions", "medicationStatements", "medicationRequests",
                                "medicationAdministrations", "procedures"}
    assert folded.query.startswith("Patient?_id=p1&_revinclude=Condition:patient")
    assert "Medication" in folded.types  # medication searches may carry their Medication resources
    assert len(plan) == 3


def test_an_other_patients_resource_in_the_included_results_is_dropped_and_noted(real_patient_resources):
    from service.fhir_client import FHIRClient

    stranger = {"resourceType": "Condition", "id": "stranger-1", "subject": {"reference": "Patient/someone-else"},
                "code": {"text": "x"}}
    server = FakeFHIRServer(real_patient_resources)
    server.of_patient = (lambda original: lambda kind, pid: original(kind, pid) + (
        [stranger] if kind == "Condition" else []))(server.of_patient)
    support = RevincludeSupport()
    support._remember(FHIR_BASE, frozenset(ALL_DECLARED), 60)
    with responses.RequestsMock() as rsps:
        server.install(rsps)
        result = gather(TEMPLATES, {"patientId": REAL_PATIENT_ID}, None,
                        lambda: FHIRClient(FHIR_BASE, connect_timeout=0.5, read_timeout=0.5), capabilities=support)
    assert any("_revinclude" in r for r in server.requests)
    assert "stranger-1" not in {r["id"] for r in result.resources}
    assert any("another patient" in note for note in result.notes)
    assert {r["resourceType"] for r in result.resources} >= {"Patient", "Condition", "MedicationStatement"}


def test_declared_revincludes_are_read_from_the_server_resource_for_patient_only():
    statement = capability_statement(["Condition:patient"])
    statement["rest"].append({"mode": "client", "resource": [{"type": "Patient", "searchRevInclude": ["X:y"]}]})
    assert declared_patient_revincludes(statement) == {"Condition:patient"}
    assert declared_patient_revincludes({"resourceType": "Bundle"}) == frozenset()
    assert declared_patient_revincludes({"resourceType": "CapabilityStatement", "rest": "junk"}) == frozenset()


def token(scope: str) -> dict:
    return {"access_token": "tok", "token_type": "Bearer", "expires_in": 300, "scope": scope,
            "subject": "mbc-cds", "patient": REAL_PATIENT_ID}


def folded_with_scope(client, resources, scope: str) -> list[str]:
    """The _revinclude values of the folded search sent on the second call with this token scope."""
    server = FakeFHIRServer(resources)
    body = patient_view_request(REAL_PATIENT_ID, fhirServer=FHIR_BASE, fhirAuthorization=token(scope))
    with responses.RequestsMock() as rsps:
        server.install(rsps)
        for _ in range(2):
            assert client.post(SERVICE, json=body).status_code == 200
        folded = [c.request.url for c in rsps.calls if "_revinclude" in c.request.url]
    return sorted(v for url in folded for k, v in parse_qsl(urlsplit(url).query) if k == "_revinclude")


@pytest.mark.parametrize("scope", ["patient/*.read", "patient/*.rs", "user/*.cruds", "launch patient/*.*"])
def test_a_token_that_may_read_everything_gets_the_folded_search(client, real_patient_resources, scope):
    assert folded_with_scope(client, real_patient_resources, scope) == sorted(f"{t}:patient" for t in FOLDED_TYPES)


def test_only_types_the_token_may_read_and_search_are_folded(client, real_patient_resources):
    # A server enforcing scopes may leave unreadable types out of an _revinclude without
    # an error; sent on its own, the search would be refused and the call would say so.
    # (every type granted some search: a type not granted at all is a 412, test_fhir_authorization_scope.py)
    scope = ("patient/Patient.read patient/Condition.rs patient/MedicationStatement.s "
             "patient/MedicationRequest.rs?status=active patient/MedicationAdministration.rs?status=completed "
             "patient/Procedure.rs?status=completed patient/Observation.read")
    assert folded_with_scope(client, real_patient_resources, scope) == ["Condition:patient"]


def test_without_read_access_to_the_patient_the_call_is_a_412_and_nothing_is_sent(client, real_patient_resources):
    # CDS Hooks 2.0.1 §Prefetch: required data not prefetched and not obtainable -> 412
    body = patient_view_request(REAL_PATIENT_ID, fhirServer=FHIR_BASE,
                                fhirAuthorization=token(
                                    "patient/Patient.s patient/Condition.read patient/Observation.read "
                                    "patient/MedicationStatement.read patient/MedicationRequest.read "
                                    "patient/MedicationAdministration.read patient/Procedure.read"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFHIRServer(real_patient_resources).install(rsps)
        response = client.post(SERVICE, json=body)
        assert not rsps.calls
    assert response.status_code == 412
    assert "Patient (patient: not prefetched; patient/Patient.read or patient/Patient.r would grant it)" \
        in response.get_json()["message"]


def _searches_counted(client) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    found = re.findall(r'mbc_cds_fhir_searches_total\{kind="([^"]+)",service="mbc-treatment-options"\} ([0-9.]+)',
                       text)
    return {kind: float(value) for kind, value in found}


def test_metrics_count_the_folded_the_separate_and_the_sent_apart_searches(client, real_patient_resources):
    before = _searches_counted(client)
    calls_with(FakeFHIRServer(real_patient_resources, warn=True), client, times=3)
    after = _searches_counted(client)
    added = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in ("separate", "folded", "sent-apart")}
    # call 1: 7 separate (capabilities read alongside); call 2: the Observation search and
    # one folded search, qualified by a warning, so its 6 parts sent apart; call 3: 7 separate
    assert added == {"separate": 8 + 2 + 8, "folded": 1, "sent-apart": 6}
