"""Data gathering: prefetch vs FHIR fetch, paging, OperationOutcomes, failures -> 412.

HTTP is mocked at the FHIR boundary with `responses`.
"""

import re

import pytest
import requests
import responses

from service.errors import PreconditionFailed
from service.fhir_client import FHIRClient
from service.gather import gather
from service.demo import demo_patients
from service.hooks import load_services

from .conftest import FHIR_BASE, empty_prefetch, observation, patient_view_request, searchset

# a valid CDS Hooks 2.0.1 fhirAuthorization for patient p1
_BEARER_AUTH = {"access_token": "tok-123", "token_type": "Bearer", "expires_in": 300,
                "scope": "patient/*.read", "subject": "mbc-cds", "patient": "p1"}

SERVICE = "/cds-services/mbc-treatment-options"
TEMPLATES = load_services()["mbc-treatment-options"].prefetch
CONTEXT = {"patientId": "p1", "userId": "Practitioner/1"}
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female"}


def client_factory(token=None):
    return lambda: FHIRClient(FHIR_BASE, token, connect_timeout=0.5, read_timeout=0.5)


def mock_everything_empty(rsps):
    rsps.add(responses.GET, f"{FHIR_BASE}/Patient/p1", json=PATIENT)
    rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?patient=p1.*"), json=searchset([]))


def test_supplied_prefetch_is_used_and_nothing_is_fetched():
    prefetch = empty_prefetch()
    prefetch["patient"] = PATIENT
    prefetch["clinicalFindings"] = searchset([observation("o1")])
    with responses.RequestsMock() as rsps:  # any outbound call would fail the test
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory())
        assert len(rsps.calls) == 0
    assert {r["id"] for r in result.resources} == {"p1", "o1"}


def test_a_null_prefetch_key_means_found_nothing_and_is_not_refetched():
    prefetch = empty_prefetch()
    with responses.RequestsMock():
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory())
    assert result.resources == []
    assert set(result.origin.values()) == {"prefetch-null"}


def test_a_missing_prefetch_key_is_fetched_with_the_bearer_token():
    prefetch = empty_prefetch()
    del prefetch["conditions"]
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Condition?patient=p1", json=searchset([condition]))
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory("secret-token"))
        assert len(rsps.calls) == 1
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer secret-token"
    assert [r["id"] for r in result.resources] == ["c1"]
    assert result.origin["conditions"] == "fetched"


def test_without_prefetch_every_template_is_fetched_from_the_fhir_server():
    with responses.RequestsMock() as rsps:
        mock_everything_empty(rsps)
        result = gather(TEMPLATES, CONTEXT, None, client_factory())
        fetched = {c.request.url.split(FHIR_BASE + "/")[1].split("?")[0] for c in rsps.calls}
    assert fetched == {"Patient/p1", "Condition", "Observation", "MedicationStatement",
                       "MedicationRequest", "MedicationAdministration", "Procedure"}
    assert [r["id"] for r in result.resources] == ["p1"]


def test_next_pages_are_followed():
    prefetch = empty_prefetch()
    del prefetch["medicationStatements"]
    page2 = f"{FHIR_BASE}/MedicationStatement?patient=p1&_page=2"
    ms = lambda i: {"resourceType": "MedicationStatement", "id": f"m{i}", "status": "active",
                    "subject": {"reference": "Patient/p1"}}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/MedicationStatement?patient=p1&_include=MedicationStatement:medication",
                 json=searchset([ms(1), ms(2)], next_url=page2))
        rsps.add(responses.GET, page2, json=searchset([ms(3)]))
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory())
    assert [r["id"] for r in result.resources] == ["m1", "m2", "m3"]


def test_a_paged_prefetch_bundle_is_completed_from_the_server():
    prefetch = empty_prefetch()
    page2 = f"{FHIR_BASE}/Observation?page=2"
    prefetch["clinicalFindings"] = searchset([observation("o1")], next_url=page2)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?patient=p1.*"),
                 json=searchset([observation("o1"), observation("o2")]))
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory())
    assert sorted(r["id"] for r in result.resources) == ["o1", "o2"]


def test_operation_outcome_entries_in_a_search_are_skipped_and_a_warning_is_no_data_gap():
    prefetch = empty_prefetch()
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "processing"}]}
    prefetch["clinicalFindings"] = searchset([observation("o1")], outcome=outcome)
    result = gather(TEMPLATES, CONTEXT, prefetch, None)
    assert [r["resourceType"] for r in result.resources] == ["Observation"]
    assert result.notes == []


def test_a_prefetch_value_that_is_an_operation_outcome_is_fetched_again_and_is_no_data_gap_once_fetched():
    prefetch = empty_prefetch()
    prefetch["conditions"] = {"resourceType": "OperationOutcome",
                              "issue": [{"severity": "error", "code": "timeout"}]}
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Condition?patient=p1", json=searchset([condition]))
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory())
        assert len(rsps.calls) == 1
    assert [r["id"] for r in result.resources] == ["c1"]
    assert result.origin["conditions"] == "fetched"
    assert result.notes == []


def test_a_call_without_any_prefetch_is_answered_from_the_demo_patients_without_a_data_gap():
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
    result = gather(TEMPLATES, CONTEXT, None, None, demo_resources=lambda patient_id: [condition])
    assert set(result.origin.values()) == {"demo"}
    assert [r["id"] for r in result.resources] == ["c1"]
    assert result.notes == []


def test_the_demo_patients_never_fill_in_part_of_a_prefetch():
    # security review: an explicitly empty search must not become the demo record's data
    prefetch = empty_prefetch()
    prefetch["conditions"] = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    demo_condition = {"resourceType": "Condition", "id": "demo-c1", "subject": {"reference": "Patient/p1"}}
    with pytest.raises(PreconditionFailed, match="conditions"):
        gather(TEMPLATES, CONTEXT, prefetch, None, demo_resources=lambda patient_id: [demo_condition])


def test_the_412_for_a_prefetch_operation_outcome_says_so_and_does_not_call_the_key_missing(client):
    prefetch = empty_prefetch()
    prefetch["conditions"] = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    response = client.post(SERVICE, json=patient_view_request(prefetch=prefetch))
    assert response.status_code == 412
    assert response.get_json()["message"] == (
        "prefetch keys with an OperationOutcome in their place (conditions) and no fhirServer given to fetch them from")


def test_the_412_for_a_paged_prefetch_says_it_is_paged_and_does_not_call_the_key_missing(client):
    prefetch = empty_prefetch()
    prefetch["conditions"] = searchset([], next_url=f"{FHIR_BASE}/Condition?page=2")
    del prefetch["procedures"]
    response = client.post(SERVICE, json=patient_view_request(prefetch=prefetch))
    assert response.status_code == 412
    assert response.get_json()["message"] == (
        "prefetch keys missing (procedures); prefetch keys paged, with more pages to fetch (conditions) "
        "and no fhirServer given to fetch them from")


def test_entered_in_error_resources_are_ignored():
    prefetch = empty_prefetch()
    prefetch["clinicalFindings"] = searchset([observation("o1"), observation("o2", status="entered-in-error")])
    result = gather(TEMPLATES, CONTEXT, prefetch, None)
    assert [r["id"] for r in result.resources] == ["o1"]


def test_the_same_resource_from_two_keys_is_kept_once():
    prefetch = empty_prefetch()
    prefetch["clinicalFindings"] = searchset([observation("o1")])
    prefetch["tumorMarkers"] = searchset([observation("o1")])
    result = gather(TEMPLATES, CONTEXT, prefetch, None)
    assert [r["id"] for r in result.resources] == ["o1"]


@pytest.mark.parametrize("status", [401, 403])
def test_fhir_server_refusing_access_is_a_412(status):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"), status=status, json={})
        with pytest.raises(PreconditionFailed, match=str(status)):
            gather(TEMPLATES, CONTEXT, None, client_factory())


def test_fhir_server_timeout_is_a_412():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"),
                 body=requests.exceptions.ReadTimeout("slow"))
        with pytest.raises(PreconditionFailed, match="in time"):
            gather(TEMPLATES, CONTEXT, None, client_factory())


def test_unreachable_fhir_server_is_a_412():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"),
                 body=requests.exceptions.ConnectionError("refused"))
        with pytest.raises(PreconditionFailed, match="could not be reached"):
            gather(TEMPLATES, CONTEXT, None, client_factory())


def test_patient_not_found_on_the_fhir_server_is_a_412():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Patient/p1", status=404, json={})
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?.*"), json=searchset([]))
        with pytest.raises(PreconditionFailed, match="Patient not found"):
            gather(TEMPLATES, CONTEXT, None, client_factory())


def test_over_http_a_fetch_failure_is_a_412_with_a_message_and_never_a_500(client):
    body = patient_view_request(fhirServer=FHIR_BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"), status=500, json={})
        response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    assert "HTTP 500" in response.get_json()["message"]


def test_over_http_without_prefetch_the_service_fetches_and_answers_cards(client):
    body = patient_view_request(
        fhirServer=FHIR_BASE,
        fhirAuthorization=_BEARER_AUTH,
    )
    with responses.RequestsMock() as rsps:
        mock_everything_empty(rsps)
        response = client.post(SERVICE, json=body)
        assert all(c.request.headers["Authorization"] == "Bearer tok-123" for c in rsps.calls)
        # one call per resource type, but two for the three Observation keys (merged as far
        # as the query-length limit allows), and alongside them the server's
        # CapabilityStatement (unanswered here: nothing folded)
        paths = sorted(c.request.url.split(FHIR_BASE + "/")[1].split("?")[0] for c in rsps.calls)
        assert paths == sorted(["metadata", "Patient/p1", "Condition", "Observation", "Observation",
                                "MedicationStatement", "MedicationRequest", "MedicationAdministration", "Procedure"])
    assert response.status_code == 200
    assert response.get_json()["cards"][0]["source"]["topic"]["code"] == "patient-summary"


def test_searches_ask_the_server_for_the_configured_page_size():
    prefetch = empty_prefetch()
    del prefetch["procedures"]
    factory = lambda: FHIRClient(FHIR_BASE, page_size=150, connect_timeout=0.5, read_timeout=0.5)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Procedure\?.*"), json=searchset([]))
        gather(TEMPLATES, CONTEXT, prefetch, factory)
        assert "_count=150" in rsps.calls[0].request.url
        assert "patient=p1" in rsps.calls[0].request.url


def test_observation_keys_missing_together_are_fetched_in_merged_searches_within_the_query_limit():
    # one search per key would be three round trips; one for all of them would be a query
    # string over IIS's default 2,048-byte limit (414 / 404.15) once every code is in it
    prefetch = empty_prefetch()
    for key in ("tumorMarkers", "genomics", "clinicalFindings"):
        del prefetch[key]
    long_id = {"patientId": "p" * 64}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?.*"),
                 json=searchset([observation("o1", patient_id="p" * 64, code="85337-4"),
                                 observation("o2", patient_id="p" * 64, code="69548-6")]))
        result = gather(TEMPLATES, long_id, prefetch, client_factory())
        assert len(rsps.calls) == 2
        assert all(len(requests.utils.urlparse(c.request.url).query) <= 2048 for c in rsps.calls)
        url = " ".join(requests.utils.unquote(c.request.url) for c in rsps.calls)
    for code in ("85337-4", "69548-6", "4548-4", "161712005", "8636-3"):  # from each key
        assert code in url
    assert {result.origin[k] for k in ("tumorMarkers", "genomics", "clinicalFindings")} == {"fetched"}
    assert sorted(r["id"] for r in result.resources) == ["o1", "o2"]


# -- medications a search brings with _include (medicationReference) -----------------


def demo_patient_prefetch(patient_id: str, medication_mode: str) -> dict:
    """Full prefetch for a demo patient whose MedicationStatements name their drug by
    medicationReference, the referenced Medication sent in the same Bundle as an entry
    with search.mode `medication_mode` (what `_include=MedicationStatement:medication` gives)."""
    keys = {"Patient": "patient", "Condition": "conditions", "Observation": "tumorMarkers",
            "MedicationStatement": "medicationStatements", "Procedure": "procedures"}
    prefetch = empty_prefetch()
    for resource in demo_patients()[patient_id]["resources"]:
        key = keys.get(resource["resourceType"])  # (a Specimen is asked for by no template)
        if key is None:
            continue
        if key == "patient":
            prefetch[key] = resource
            continue
        prefetch[key] = prefetch[key] or searchset([])
        if key == "medicationStatements":
            resource = dict(resource)
            medication = {"resourceType": "Medication", "id": f"med-{resource['id']}",
                          "code": resource.pop("medicationCodeableConcept")}
            resource["medicationReference"] = {"reference": f"Medication/{medication['id']}"}
            prefetch[key]["entry"].append({"resource": medication, "search": {"mode": medication_mode}})
        prefetch[key]["entry"].append({"resource": resource, "search": {"mode": "match"}})
    return prefetch


def test_medications_the_ehr_includes_for_a_medication_reference_give_the_metastatic_line_on_the_cards(client):
    # demo-esr1-post-cdk46i: metastatic line 1 letrozole + ribociclib, then progression (ESR1 Y537S)
    prefetch = demo_patient_prefetch("demo-esr1-post-cdk46i", "include")
    response = client.post(SERVICE, json=patient_view_request("demo-esr1-post-cdk46i", prefetch))
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert "Metastatic line 1: letrozole + ribociclib" in cards[0]["detail"]
    topics = [card["source"]["topic"]["code"] for card in cards]
    assert "ai-cdk46i" not in topics  # not first-line advice for a patient who had it
    assert "elacestrant" in topics
    included = client.post(SERVICE, json=patient_view_request(
        "demo-esr1-post-cdk46i", demo_patient_prefetch("demo-esr1-post-cdk46i", "match"))).get_json()["cards"]
    assert topics == [card["source"]["topic"]["code"] for card in included]


def test_included_resources_of_a_type_the_medication_search_does_not_include_are_left_out():
    prefetch = empty_prefetch()
    request = {"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": "Medication/m1"},
               "requester": {"reference": "Practitioner/dr-1"}}
    prefetch["medicationRequests"] = searchset([request])
    prefetch["medicationRequests"]["entry"] += [
        {"resource": {"resourceType": "Medication", "id": "m1"}, "search": {"mode": "include"}},
        {"resource": {"resourceType": "Practitioner", "id": "dr-1"}, "search": {"mode": "include"}}]
    result = gather(TEMPLATES, CONTEXT, prefetch, None)
    assert sorted((r["resourceType"], r["id"]) for r in result.resources) == [
        ("Medication", "m1"), ("MedicationRequest", "mr1")]
    assert result.notes == []


def test_an_included_entry_whose_resource_type_is_not_a_string_is_left_out_not_a_server_error(client):
    # found by a review of gather: `rtype in included` raised TypeError (unhashable list): a 500
    prefetch = empty_prefetch()
    request = {"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": "Medication/m1"}}
    prefetch["medicationRequests"] = searchset([request])
    prefetch["medicationRequests"]["entry"] += [
        {"resource": {"resourceType": ["Medication"], "id": "m1"}, "search": {"mode": "include"}},
        {"resource": {"resourceType": {"x": 1}, "id": "m2"}, "search": {"mode": "include"}}]
    result = gather(TEMPLATES, CONTEXT, prefetch, None)
    assert [(r["resourceType"], r["id"]) for r in result.resources] == [("MedicationRequest", "mr1")]
    response = client.post(SERVICE, json=patient_view_request("p1", prefetch))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["cards"]


def test_without_prefetch_medication_searches_ask_for_and_keep_the_medications_they_reference():
    prefetch = empty_prefetch()
    del prefetch["medicationStatements"]
    statement = {"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
                 "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": "Medication/m1"}}
    medication = {"resourceType": "Medication", "id": "m1",
                  "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "72965"}]}}
    answer = searchset([statement])
    answer["entry"].append({"resource": medication, "search": {"mode": "include"}})
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/MedicationStatement?patient=p1&_include=MedicationStatement:medication",
                 json=answer)
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory())
    assert sorted((r["resourceType"], r["id"]) for r in result.resources) == [
        ("Medication", "m1"), ("MedicationStatement", "ms1")]


# -- OperationOutcomes inside search results ----------------------------------------------


TRUNCATED = {"resourceType": "OperationOutcome", "issue": [
    {"severity": "error", "code": "too-costly", "diagnostics": "results truncated: too many matches"}]}


def test_an_error_operation_outcome_in_a_prefetch_search_is_a_data_gap_on_the_summary_card(client):
    prefetch = demo_patient_prefetch("demo-esr1-post-cdk46i", "match")
    prefetch["conditions"]["entry"] = prefetch["conditions"]["entry"][:1]
    prefetch["conditions"]["entry"].append({"resource": TRUNCATED, "search": {"mode": "outcome"}})
    response = client.post(SERVICE, json=patient_view_request("demo-esr1-post-cdk46i", prefetch))
    assert response.status_code == 200
    gaps = response.get_json()["cards"][0]["detail"].split("**Data gaps that limit the advice**")[1]
    assert ("- prefetch 'conditions': the FHIR server reported an error with the results, which may be "
            "incomplete: results truncated: too many matches") in gaps


def test_an_error_operation_outcome_in_a_fetched_search_is_a_data_gap():
    prefetch = empty_prefetch()
    del prefetch["procedures"]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Procedure?patient=p1", json=searchset([], outcome=TRUNCATED))
        result = gather(TEMPLATES, CONTEXT, prefetch, client_factory())
    assert result.notes == ["'procedures': the FHIR server reported an error with the results, which may be "
                            "incomplete: results truncated: too many matches"]


def test_an_operation_outcome_note_repeats_only_a_short_single_line_of_its_text():
    prefetch = empty_prefetch()
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "fatal", "code": "exception", "details": {"text": "Search failed <b>here</b>\n" + "x" * 500},
         "diagnostics": "java.lang.IllegalStateException at org.example.Dao.search(Dao.java:42)"}]}
    prefetch["conditions"] = searchset([], outcome=outcome)
    [note] = gather(TEMPLATES, CONTEXT, prefetch, None).notes
    problem = note.split("may be incomplete: ")[1]
    assert problem.startswith("Search failed b here /b x")
    assert len(problem) == 160 and problem.endswith("…")
    assert "\n" not in note and "<" not in note and "java" not in note


def test_a_search_full_of_error_operation_outcomes_adds_at_most_three_data_gaps():
    prefetch = empty_prefetch()
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "processing", "diagnostics": f"problem {i}"} for i in range(50)]}
    prefetch["conditions"] = searchset([], outcome=outcome)
    notes = gather(TEMPLATES, CONTEXT, prefetch, None).notes
    assert [note.split(": ")[-1] for note in notes] == ["problem 0", "problem 1", "problem 2"]


def test_without_prefetch_the_merged_observation_search_asks_for_the_diagnostic_implications_with_the_system_intact():
    """The DiagnosticImplication token has a URL system: on the wire it must still be one
    `system|code` value of the `code` parameter (the server decodes the query to exactly it)."""
    from urllib.parse import parse_qs, urlsplit

    from service.gather import plan_searches, render_template

    implication = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs|diagnostic-implication"
    queries = {key: render_template(t, CONTEXT) for key, t in TEMPLATES.items()}
    for declared in (frozenset(), frozenset(f"{t}:patient" for t in (
            "Condition", "MedicationStatement", "MedicationRequest", "MedicationAdministration", "Procedure"))):
        plan = plan_searches(queries, declared)
        observation_search = plan["tumorMarkers+genomics"]
        assert implication in observation_search.query.split("&code=", 1)[1].split(",")
        assert any(s.query.startswith("Patient?_id=p1&_revinclude=") for s in plan.values()) == bool(declared)

    prefetch = empty_prefetch()
    for key in ("tumorMarkers", "genomics", "clinicalFindings"):
        del prefetch[key]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?.*"), json=searchset([]))
        gather(TEMPLATES, CONTEXT, prefetch, client_factory())
        sent = next(q for q in (parse_qs(urlsplit(c.request.url).query) for c in rsps.calls)
                    if "diagnostic-implication" in q["code"][0])
    assert sent["patient"] == ["p1"]
    assert implication in sent["code"][0].split(",")
    assert "http://loinc.org|53037-8" in sent["code"][0].split(",")


@pytest.mark.parametrize("token_type", ["bearer", "BEARER"])
def test_a_token_type_of_bearer_in_another_letter_case_is_accepted_and_the_token_sent(client, token_type):
    # OAuth 2.0 token_type values are case-insensitive (RFC 6749 §5.1, §7.1); the call
    # used to fail with a 400 "fhirAuthorization.token_type: Input should be 'Bearer'"
    body = patient_view_request(
        fhirServer=FHIR_BASE,
        fhirAuthorization={**_BEARER_AUTH, "token_type": token_type},
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_everything_empty(rsps)
        response = client.post(SERVICE, json=body)
        assert rsps.calls and all(c.request.headers["Authorization"] == "Bearer tok-123" for c in rsps.calls)
    assert response.status_code == 200
    assert response.get_json()["cards"][0]["source"]["topic"]["code"] == "patient-summary"


def test_a_token_type_other_than_bearer_is_still_a_400_naming_the_field(client):
    body = patient_view_request(
        fhirServer=FHIR_BASE,
        fhirAuthorization={"access_token": "tok-123", "token_type": "MAC", "expires_in": 300,
                           "scope": "patient/*.read", "subject": "mbc-cds"},
    )
    with responses.RequestsMock():  # nothing may be fetched
        response = client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert "fhirAuthorization.token_type" in response.get_json()["message"]


@pytest.mark.parametrize("status", [401, 403])
def test_a_fhir_server_refusing_a_call_without_fhir_authorization_is_a_412_that_names_the_missing_token(
        client, status):
    # it used to say only "the FHIR server refused access (401)", the same as for a token
    # the server rejects, which sends the integration team after the wrong problem
    body = patient_view_request(fhirServer=FHIR_BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"), status=status, json={})
        response = client.post(SERVICE, json=body)
        assert all("Authorization" not in c.request.headers for c in rsps.calls)
    assert response.status_code == 412
    assert "the hook request had no fhirAuthorization" in response.get_json()["message"]


def test_a_fhir_server_refusing_the_token_sent_is_a_412_that_does_not_blame_a_missing_token(client):
    body = patient_view_request(
        fhirServer=FHIR_BASE,
        fhirAuthorization=_BEARER_AUTH,
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"), status=401, json={})
        response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    message = response.get_json()["message"]
    assert "refused access (401)" in message and "fhirAuthorization" not in message


def test_a_fhir_server_error_with_an_operation_outcome_is_a_412_that_repeats_what_the_server_said(client):
    # it used to say only "the FHIR server answered HTTP 400", hiding the reason the
    # server gave (FHIR R4 http.html: an error answer carries an OperationOutcome)
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "not-supported",
         "diagnostics": "Unknown search parameter <code> system http://snomed.info/sct"}]}
    body = patient_view_request(fhirServer=FHIR_BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Patient/p1", json=PATIENT)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?.*"), status=400, json=outcome)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?patient=p1.*"), json=searchset([]))
        response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    message = response.get_json()["message"]
    assert ("the FHIR server answered HTTP 400 (the server says: Unknown search parameter code system "
            "http://snomed.info/sct)") in message  # one line, no markup
    assert ("clinicalFindings" in message or "tumorMarkers" in message) and "conditions" not in message


def test_a_search_answered_with_an_operation_outcome_is_a_412_that_repeats_what_the_server_said(client):
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "fatal", "code": "exception", "details": {"text": "Search index is rebuilding"}}]}
    body = patient_view_request(fhirServer=FHIR_BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Patient/p1", json=PATIENT)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?patient=p1.*"), json=outcome)
        response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    assert "did not return a Bundle (the server says: Search index is rebuilding)" in response.get_json()["message"]


def test_what_a_fhir_server_said_in_its_capability_error_is_not_logged(client, caplog):
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "exception", "diagnostics": "patient Jane Doe 1960-01-01 locked"}]}
    body = patient_view_request(fhirServer=FHIR_BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/metadata", status=500, json=outcome)
        mock_everything_empty(rsps)
        with caplog.at_level("INFO", logger="mbc_cds"):
            response = client.post(SERVICE, json=body)
    assert response.status_code == 200
    assert "Jane Doe" not in caplog.text


ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYmMtY2RzIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def _with_token():
    return {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "mbc-cds", "patient": "p1"}


@pytest.mark.parametrize("diagnostics", [
    f"Access token {ACCESS_TOKEN} has expired",
    "x" * 140 + f" Bearer {ACCESS_TOKEN}",  # clipped at 160 characters: the token's start is still a secret
])
def test_a_fhir_server_error_that_repeats_the_access_token_is_a_412_that_does_not(client, diagnostics):
    # the 412 used to quote the server's text as it came, token and all (RFC 6750 §5.3:
    # bearer tokens are not to be disclosed); the token is now named, not repeated
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "security", "diagnostics": diagnostics}]}
    body = patient_view_request(fhirServer=FHIR_BASE, fhirAuthorization=_with_token())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"), status=401, json=outcome)
        response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    message = response.get_json()["message"]
    assert "refused access (401) (the server says: " in message
    assert ACCESS_TOKEN[:8] not in message
    if "expired" in diagnostics:
        assert "Access token [the access token] has expired" in message


def test_a_search_bundle_whose_operation_outcome_repeats_the_access_token_gives_a_gap_without_it(client):
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "incomplete", "diagnostics": f"results truncated for token {ACCESS_TOKEN}"}]}
    body = patient_view_request(fhirServer=FHIR_BASE, fhirAuthorization=_with_token())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Patient/p1", json=PATIENT)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Condition\?.*"),
                 json=searchset([], outcome=outcome))
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?patient=p1.*"), json=searchset([]))
        response = client.post(SERVICE, json=body)
    assert response.status_code == 200
    cards = response.get_data(as_text=True)
    assert "results truncated for token [the access token]" in cards
    assert ACCESS_TOKEN[:8] not in cards


def _fetch_errors(client) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").get_data(as_text=True)
    return {s.labels["reason"]: s.value for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "mbc_cds_fhir_fetch_errors_total" and s.labels.get("service") == "mbc-treatment-options"}


@pytest.mark.parametrize("diagnostics", [
    "Invalid parameter (code); time range not supported",
    "Invalid parameter (code); 401 codes at most",
])
def test_a_fetch_error_is_counted_by_the_service_s_reason_not_by_words_in_the_server_s_text(client, diagnostics):
    # a 400 is an 'unavailable' fetch; the server's text (quoted in the 412 since fix-sv)
    # with '); ' in it used to leave 'time range' / '401' to be read as a timeout / refusal
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "invalid", "diagnostics": diagnostics}]}
    body = patient_view_request(fhirServer=FHIR_BASE)
    before = _fetch_errors(client)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Patient/p1", json=PATIENT)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation\?.*"), status=400, json=outcome)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?patient=p1.*"), json=searchset([]))
        response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    assert diagnostics in response.get_json()["message"]
    after = _fetch_errors(client)
    assert {reason: after[reason] - before.get(reason, 0) for reason in after if after[reason] != before.get(reason, 0)} \
        == {"unavailable": 1}


def test_a_patient_read_answered_with_an_operation_outcome_is_a_412_that_repeats_what_the_server_said(client):
    # it used to be taken for the patient's record (a 200 with cards for an empty record);
    # a read answers with the resource (FHIR R4 http.html §read), an OperationOutcome says why not
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "suppressed", "details": {"text": "Record access is restricted"}}]}
    body = patient_view_request(fhirServer=FHIR_BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{FHIR_BASE}/Patient/p1", json=outcome)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?patient=p1.*"), json=searchset([]))
        response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    assert response.get_json()["message"] == (
        "could not get the patient's FHIR data: patient: the FHIR server answered the Patient read with "
        "an OperationOutcome, not the resource (the server says: Record access is restricted)")
