"""fhirAuthorization.scope limits what the service fetches (CDS Hooks 2.0.1 fhirAuthorization;
SMART App Launch 2.x, Scopes and Launch Context: v1 `patient/X.read`, v2 `patient/X.rs`).

A key the service must fetch (not prefetched, an OperationOutcome in its place, paged) of a
type the EHR did not grant is a 412 at once, with no FHIR request (a server enforcing the scopes
would answer 403): CDS Hooks 2.0.1 §Prefetch, "the service SHALL respond with an HTTP 412" when
it cannot obtain required data the request did not prefetch. Cards without those records would
read a diagnosis or a line of therapy as absent. A type granted only with a query restriction is
fetched, with a gap. HTTP is mocked at the FHIR boundary with `responses`.
"""

import json
import re

import pytest
import responses

from service.smart_scopes import FULL, NARROWED, NOT_GRANTED, UNCLEAR, access

from tests.orders.fhir import Chart
from tests.orders.helpers import by_topic

from .conftest import FHIR_BASE, observation, patient_view_request, searchset

SERVICE = "/cds-services/mbc-treatment-options"
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female"}
ALL_TYPES = {"Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
             "MedicationAdministration", "Procedure", "Medication"}
ALL_BUT_MEDICATION = ("patient/Patient.read patient/Condition.read patient/Observation.read patient/Procedure.read "
                      "patient/MedicationStatement.read patient/MedicationRequest.read "
                      "patient/MedicationAdministration.read")
# every type granted in full but Observation, granted only for laboratory results (SMART v2)
NARROWED_OBSERVATIONS = ALL_BUT_MEDICATION.replace("patient/Observation.read",
                                                   "patient/Observation.rs?category=laboratory") \
    + " patient/Medication.read"
FORBIDDEN = {"resourceType": "OperationOutcome",
             "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "insufficient scope"}]}


def authorization(scope: str) -> dict:
    return {"access_token": "tok-123", "token_type": "Bearer", "expires_in": 300,
            "scope": scope, "subject": "mbc-cds", "patient": "p1"}


def requested_type(url: str) -> str:
    return url.split(FHIR_BASE + "/", 1)[1].split("?")[0].split("/")[0]


def enforcing_server(rsps, granted: set[str], answers: dict[str, list[dict]] | None = None):
    """A FHIR server that refuses (403) every type not in `granted`, as one enforcing
    the token's scopes does, and answers the granted ones (empty unless in `answers`)."""
    answers = answers or {}

    def answer(request):
        rtype = requested_type(request.url)
        if rtype == "metadata":
            return 404, {}, "{}"
        if rtype not in granted:
            return 403, {}, json.dumps(FORBIDDEN)
        if rtype == "Patient" and "?" not in request.url:
            return 200, {}, json.dumps(PATIENT)
        return 200, {}, json.dumps(searchset(answers.get(rtype, [])))

    rsps.add_callback(responses.GET, re.compile(re.escape(FHIR_BASE) + ".*"), callback=answer)


def call(client, scope: str, granted: set[str], answers=None):
    body = patient_view_request(fhirServer=FHIR_BASE, fhirAuthorization=authorization(scope))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, granted, answers)
        response = client.post(SERVICE, json=body)
        asked = [c.request.url for c in rsps.calls if requested_type(c.request.url) != "metadata"]
    return response, asked


def refusal(response) -> str:
    """The 412's message (the service's error body: error, message)."""
    assert response.status_code == 412, response.get_json()
    body = response.get_json()
    assert body["error"] == "precondition-failed"
    assert "tok-123" not in response.get_data(as_text=True)  # the token is never echoed
    return body["message"]


def summary_detail(response) -> str:
    assert response.status_code == 200, response.get_json()
    card = response.get_json()["cards"][0]
    assert card["source"]["topic"]["code"] == "patient-summary"
    return card["detail"]


def test_types_the_scope_does_not_grant_are_a_412_naming_them_and_the_scopes_that_would_with_no_fhir_request(
        client):
    # fix-sv2 answered 200 with a gap per type not read: the headline then read "Outside the
    # HR+/HER2- MBC pathway: No breast cancer diagnosis documented" although no Condition was read
    response, asked = call(client, "launch patient/Patient.read patient/Observation.read",
                           {"Patient", "Observation"}, {"Observation": [observation("o1", code="85337-4")]})
    message = refusal(response)
    assert asked == []
    assert message.startswith("fhirAuthorization.scope does not grant this service the FHIR data it must fetch: ")
    for rtype, key in [("Condition", "conditions"), ("MedicationStatement", "medicationStatements"),
                       ("MedicationRequest", "medicationRequests"),
                       ("MedicationAdministration", "medicationAdministrations"), ("Procedure", "procedures")]:
        assert (f"{rtype} ({key}: not prefetched; patient/{rtype}.read or patient/{rtype}.rs would grant it)"
                in message)
    assert "Observation" not in message and "Patient (" not in message
    assert message.endswith("Nothing was fetched: grant these scopes, or prefetch these keys in full")


def test_without_condition_access_the_call_is_a_412_not_a_patient_outside_the_pathway(client):
    scope = ("patient/Patient.read patient/Observation.read patient/MedicationStatement.read "
             "patient/MedicationRequest.read patient/MedicationAdministration.read patient/Procedure.read "
             "patient/Medication.read")
    response, asked = call(client, scope, ALL_TYPES - {"Condition"})
    assert asked == []
    assert refusal(response) == (
        "fhirAuthorization.scope does not grant this service the FHIR data it must fetch: Condition (conditions: "
        "not prefetched; patient/Condition.read or patient/Condition.rs would grant it). Nothing was fetched: "
        "grant these scopes, or prefetch these keys in full")


def test_without_medication_statement_access_a_pretreated_patient_is_not_offered_first_line_options(client):
    # the lines of therapy would read as none: a 412, not first-line options
    scope = ("patient/Patient.read patient/Observation.read patient/Condition.read patient/MedicationRequest.read "
             "patient/MedicationAdministration.read patient/Procedure.read patient/Medication.read")
    response, asked = call(client, scope, ALL_TYPES - {"MedicationStatement"})
    assert asked == []
    assert ("MedicationStatement (medicationStatements: not prefetched; patient/MedicationStatement.read or "
            "patient/MedicationStatement.rs would grant it)") in refusal(response)


def test_smart_v2_scopes_grant_what_they_name_and_the_412_names_only_the_rest(client):
    response, asked = call(client, "patient/Patient.r patient/Observation.rs patient/Condition.rs",
                           {"Patient", "Observation", "Condition"})
    message = refusal(response)
    assert asked == []
    assert "Procedure (procedures: not prefetched; patient/Procedure.read or patient/Procedure.rs" in message
    assert "Condition" not in message and "Observation" not in message and "Patient (" not in message


def test_a_v2_scope_without_search_does_not_let_the_service_search_that_type(client):
    # `.r` is read by id only (SMART v2 `s` is search): the Condition search would be refused
    response, asked = call(client, "patient/Patient.r patient/Observation.rs patient/Condition.r "
                                   "patient/MedicationStatement.rs patient/MedicationRequest.rs "
                                   "patient/MedicationAdministration.rs patient/Procedure.rs patient/Medication.rs",
                           ALL_TYPES - {"Condition"})
    assert asked == []
    assert refusal(response) == (
        "fhirAuthorization.scope does not grant this service the FHIR data it must fetch: Condition (conditions: "
        "not prefetched; patient/Condition.read or patient/Condition.rs would grant it). Nothing was fetched: "
        "grant these scopes, or prefetch these keys in full")


def test_every_type_granted_but_prefetched_is_fetched_and_a_prefetched_type_needs_no_scope(client):
    # only the keys to fetch need the scope: Condition prefetched, Condition not granted, no 412
    prefetch = {"conditions": searchset([])}
    scope = ("patient/Patient.read patient/Observation.read patient/MedicationStatement.read "
             "patient/MedicationRequest.read patient/MedicationAdministration.read patient/Procedure.read "
             "patient/Medication.read")
    body = patient_view_request(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=authorization(scope))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, ALL_TYPES - {"Condition"})
        response = client.post(SERVICE, json=body)
        asked = {requested_type(c.request.url) for c in rsps.calls}
    assert "fhirAuthorization.scope" not in summary_detail(response)
    assert "Condition" not in asked and "Procedure" in asked


@pytest.mark.parametrize("scope", ["patient/*.read", "user/*.cruds", "patient/*.rs",
                                   "system/*.read", "patient/*.*"])
def test_a_wildcard_scope_lets_every_type_be_fetched_without_a_gap(client, scope):
    response, asked = call(client, scope, {"Patient", "Condition", "Observation", "MedicationStatement",
                                           "MedicationRequest", "MedicationAdministration", "Procedure",
                                           "Medication"})
    detail = summary_detail(response)
    assert "were not read" not in detail and "fhirAuthorization.scope" not in detail
    assert {requested_type(url) for url in asked} >= {"Patient", "Condition", "Procedure"}


def test_without_patient_access_the_patient_read_is_a_412_naming_the_read_scope(client):
    response, asked = call(client, "patient/Observation.read patient/Condition.read",
                           {"Observation", "Condition"})
    assert asked == []
    assert ("Patient (patient: not prefetched; patient/Patient.read or patient/Patient.r would grant it)"
            in refusal(response))


def test_a_scope_narrowed_by_a_query_is_fetched_with_a_gap_saying_others_were_not_returned(client):
    response, asked = call(client, "patient/*.rs patient/Observation.rs?category=laboratory", ALL_TYPES)
    detail = summary_detail(response)
    assert "Observation" in {requested_type(url) for url in asked}
    assert "fhirAuthorization.scope grants this service only Observation records" not in detail  # *.rs grants all
    response, asked = call(client, NARROWED_OBSERVATIONS, ALL_TYPES)
    detail = summary_detail(response)
    assert "Observation" in {requested_type(url) for url in asked}
    assert ("Observation records (tumorMarkers, genomics, clinicalFindings): fhirAuthorization.scope grants "
            "this service only Observation records matching a query restriction; others were not returned "
            "and advice may be incomplete") in detail


def test_receptors_outside_a_narrowed_observation_scope_read_as_unknown_with_the_summary_saying_data_may_be_incomplete(
        client):
    # the server returns no receptor result (outside the restriction): the summary must not read
    # the unknown receptors as the whole record
    chart = Chart("p1").hr_positive_mbc(metastatic_days_ago=600)
    response, asked = call(client, NARROWED_OBSERVATIONS, ALL_TYPES,
                           {"Condition": chart.conditions, "Observation": chart.findings})
    card = response.get_json()["cards"][0]
    assert card["summary"].startswith("Receptor status unknown (ER/PR, HER2)")
    assert "- ER: unknown (no result read)" in card["detail"]
    assert "others were not returned and advice may be incomplete" in card["detail"]


def test_medications_are_not_included_without_medication_access_and_a_record_naming_one_is_a_gap(client):
    # Medication is only `_include`d: the medication searches are sent without it (fix-sv2, kept)
    request = {"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": "Medication/m1"},
               "authoredOn": "2024-01-01"}
    scope = ("patient/Patient.read patient/Condition.read patient/Observation.read patient/Procedure.read "
             "patient/MedicationStatement.read patient/MedicationRequest.read patient/MedicationAdministration.read")
    response, asked = call(client, scope, {"Patient", "Condition", "Observation", "Procedure", "MedicationStatement",
                                           "MedicationRequest", "MedicationAdministration"},
                           {"MedicationRequest": [request]})
    detail = summary_detail(response)
    assert not [url for url in asked if "_include" in url]
    assert ("1 medication record names its drug by a Medication that fhirAuthorization.scope does not grant "
            "this service (patient/Medication.read or patient/Medication.rs)") in detail


def test_a_pretreated_patient_whose_medications_name_an_unread_medication_gets_hedged_regimen_cards(client):
    # letrozole + palbociclib ordered by medicationReference, Medication not granted: the line
    # cannot be counted; the regimen cards must say so (medication-unreadable), not read it as none
    chart = Chart("scope-3").hr_positive_mbc(metastatic_days_ago=600).progression(25)
    for n in range(2):
        chart.requests.append({"resourceType": "MedicationRequest", "id": f"mr{n}", "status": "completed",
                               "intent": "order", "subject": {"reference": f"Patient/{chart.pid}"},
                               "medicationReference": {"reference": f"Medication/m{n}"}, "authoredOn": "2025-01-01"})
    body = chart.request("order-sign", [])
    body = {"hook": "patient-view", "hookInstance": body["hookInstance"], "prefetch": body["prefetch"],
            "context": {"userId": "Practitioner/dr-1", "patientId": chart.pid}, "fhirServer": FHIR_BASE,
            "fhirAuthorization": dict(authorization(ALL_BUT_MEDICATION), patient=chart.pid)}
    del body["prefetch"]["medicationRequests"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, ALL_TYPES - {"Medication"}, {"MedicationRequest": chart.requests})
        response = client.post(SERVICE, json=body)
        asked = [c.request.url for c in rsps.calls if requested_type(c.request.url) != "metadata"]
    assert [requested_type(url) for url in asked] == ["MedicationRequest"] and "_include" not in asked[0]
    cards = response.get_json()["cards"]
    regimens = [card for card in cards if card["source"]["topic"]["code"] in ("ai-cdk46i", "fulvestrant-cdk46i")]
    assert regimens and all(card["summary"].endswith("caution: medication records unreadable") for card in regimens)
    assert ("Medication records whose drug could not be read, so lines of therapy may be missing: "
            "MedicationRequest/mr0 (the referenced Medication/m0 is not in the data)") in cards[0]["detail"]


def test_the_order_cards_repeat_that_records_outside_a_narrowed_scope_were_not_returned(client):
    # postmenopausal HR+/HER2-low bone-metastatic, letrozole + palbociclib then progression
    # (prefetched); procedures missing from prefetch, granted only for completed ones
    chart = Chart("scope-1").hr_positive_mbc(metastatic_days_ago=600)
    chart.regimen(["letrozole", "palbociclib"], 580, 20).progression(25)
    body = chart.request("order-sign", chart.drafts(("e", "elacestrant")))
    del body["prefetch"]["procedures"]
    body["fhirServer"] = FHIR_BASE
    body["fhirAuthorization"] = authorization("patient/Patient.read patient/Procedure.rs?status=completed")
    body["fhirAuthorization"]["patient"] = chart.pid
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, {"Procedure"})
        response = client.post("/cds-services/mbc-order-sign", json=body)
        assert {requested_type(c.request.url) for c in rsps.calls} <= {"Procedure", "metadata"}
    assert response.status_code == 200, response.get_json()
    card = by_topic(response.get_json()["cards"], "order-biomarker-missing")
    assert "**Patient data may be incomplete**" in card["detail"]
    assert ("Procedure records (procedures): fhirAuthorization.scope grants this service only Procedure records "
            "matching a query restriction") in card["detail"]


def test_an_order_sign_missing_a_key_of_a_type_not_granted_is_a_412_with_no_fhir_request(client):
    chart = Chart("scope-2").hr_positive_mbc(metastatic_days_ago=600)
    body = chart.request("order-sign", chart.drafts(("e", "elacestrant")))
    del body["prefetch"]["procedures"]
    body["fhirServer"] = FHIR_BASE
    body["fhirAuthorization"] = dict(authorization("patient/Patient.read patient/Condition.read"), patient=chart.pid)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, {"Patient", "Condition"})
        response = client.post("/cds-services/mbc-order-sign", json=body)
        assert not rsps.calls
    assert "Procedure (procedures: not prefetched; patient/Procedure.read or patient/Procedure.rs" in refusal(response)


def test_without_a_scope_field_nothing_changes_every_type_is_fetched(client):
    # a call without fhirAuthorization (an open server): no scope to go by, every key fetched
    body = patient_view_request(fhirServer=FHIR_BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, {"Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
                                "MedicationAdministration", "Procedure", "Medication"})
        response = client.post(SERVICE, json=body)
        asked = {requested_type(c.request.url) for c in rsps.calls}
    assert "fhirAuthorization.scope" not in summary_detail(response)
    assert asked >= {"Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
                     "MedicationAdministration", "Procedure"}


@pytest.mark.parametrize("scope, rtype, interaction, expected", [
    ("patient/Condition.read", "Condition", "search", FULL),  # v1 read: read and search
    ("patient/Condition.read", "Condition", "read", FULL),
    ("patient/Condition.write", "Condition", "search", NOT_GRANTED),
    ("patient/Condition.*", "Condition", "search", FULL),
    ("patient/Condition.rs", "Condition", "search", FULL),
    ("patient/Condition.cruds", "Condition", "search", FULL),
    ("patient/Condition.r", "Condition", "search", NOT_GRANTED),
    ("patient/Condition.s", "Condition", "read", NOT_GRANTED),
    ("patient/Condition.r patient/Condition.s", "Condition", "search", FULL),
    ("user/*.rs", "Procedure", "search", FULL),
    ("system/*.read", "Procedure", "search", FULL),
    ("patient/Observation.rs?category=laboratory", "Observation", "search", NARROWED),
    ("patient/Observation.rs?category=laboratory patient/Observation.rs", "Observation", "search", FULL),
    ("openid fhirUser launch/patient offline_access", "Patient", "read", NOT_GRANTED),
    ("patient/Conditions.read", "Condition", "search", NOT_GRANTED),
    ("Condition.read", "Condition", "search", NOT_GRANTED),
    ("patient/Condition.rx", "Condition", "search", NOT_GRANTED),
    ("Patient/Condition.read", "Condition", "search", UNCLEAR),  # case-sensitive: the server decides
    ("patient/condition.Read patient/Condition.r", "Condition", "search", UNCLEAR),
    ("Patient/Condition.read patient/Condition.rs", "Condition", "search", FULL),
    ("Patient/Condition.write", "Condition", "search", NOT_GRANTED),
])
def test_smart_scopes_are_read_as_smart_app_launch_defines_them(scope, rtype, interaction, expected):
    assert access(scope, rtype, interaction) == expected


def null_prefetch(**keys) -> dict:
    prefetch = {key: None for key in ("patient", "conditions", "tumorMarkers", "genomics", "clinicalFindings",
                                      "medicationStatements", "medicationRequests", "medicationAdministrations",
                                      "procedures")}
    prefetch["patient"] = PATIENT
    prefetch.update(keys)
    return prefetch


def test_a_paged_prefetch_of_a_type_not_granted_is_a_412_saying_it_has_more_pages(client):
    # fix-sv2 used its first page and said the rest was not read
    prefetch = null_prefetch(procedures=searchset([], next_url=f"{FHIR_BASE}/Procedure?patient=p1&page=2"))
    body = patient_view_request(prefetch=prefetch, fhirServer=FHIR_BASE,
                                fhirAuthorization=authorization("patient/Patient.read patient/Observation.read"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, {"Patient", "Observation"})
        response = client.post(SERVICE, json=body)
        assert not rsps.calls
    assert refusal(response) == (
        "fhirAuthorization.scope does not grant this service the FHIR data it must fetch: Procedure (procedures: "
        "prefetched with more pages to fetch; patient/Procedure.read or patient/Procedure.rs would grant it). "
        "Nothing was fetched: grant these scopes, or prefetch these keys in full")


def test_an_operation_outcome_prefetched_for_a_type_not_granted_is_a_412_saying_so(client):
    prefetch = null_prefetch(conditions=FORBIDDEN)
    body = patient_view_request(prefetch=prefetch, fhirServer=FHIR_BASE,
                                fhirAuthorization=authorization("patient/Patient.read patient/Observation.read"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, {"Patient", "Observation"})
        response = client.post(SERVICE, json=body)
        assert not rsps.calls
    assert "Condition (conditions: an OperationOutcome in its place; patient/Condition.read" in refusal(response)


def test_a_412_for_the_scope_is_counted_as_a_refused_fetch_in_the_metrics(client):
    # an operator tells a token not granted what the service needs (configuration) from an outage
    from prometheus_client.parser import text_string_to_metric_families

    def refused() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
                   if s.name == "mbc_cds_fhir_fetch_errors_total" and s.labels.get("reason") == "refused"
                   and s.labels.get("service") == "mbc-treatment-options")

    before = refused()
    response, asked = call(client, "patient/Patient.read patient/Observation.read", {"Patient", "Observation"})
    assert response.status_code == 412 and asked == []
    assert refused() - before == 1


@pytest.mark.parametrize("scope", ["launch openid fhirUser",
                                   "Patient/Patient.read Patient/Condition.read Patient/Observation.read",
                                   "patient/ user/Condition"])
def test_a_scope_with_no_smart_clinical_data_scope_is_fetched_as_without_one_and_the_server_decides(client, scope):
    # a scope naming no clinical data the SMART way (only launch scopes, a non-standard
    # "Patient/..." spelling) says nothing readable: refusing at once would turn away a call a
    # server not enforcing that spelling answers; fetched as before fix-sv2, a 403 still a 412
    response, asked = call(client, scope, ALL_TYPES)
    assert response.status_code == 200, response.get_json()
    assert {requested_type(url) for url in asked} >= {"Patient", "Condition", "Observation", "MedicationStatement",
                                                       "MedicationRequest", "MedicationAdministration", "Procedure"}
    assert "fhirAuthorization.scope" not in summary_detail(response)


def test_a_scope_with_no_smart_clinical_data_scope_still_gets_the_servers_refusal_as_a_412(client):
    response, asked = call(client, "launch openid", {"Patient", "Observation"})
    assert asked  # the searches were sent: the server refused some
    assert response.status_code == 412
    assert "403" in response.get_json()["message"]


@pytest.mark.parametrize("scope", [
    "launch/patient openid fhirUser Patient/*.read user/Practitioner.read",
    "patient/Patient.read Patient/Condition.read patient/Observation.read patient/MedicationStatement.read "
    "patient/MedicationRequest.read patient/MedicationAdministration.read patient/Procedure.read",
    # permissions capitalised, as some EHR configurations list them (`.Read`, `.Search`)
    " ".join(f"patient/{rtype}.Read patient/{rtype}.Search" for rtype in sorted(ALL_TYPES)),
])
def test_a_type_granted_only_in_a_non_standard_spelling_beside_standard_scopes_is_fetched_and_the_server_decides(
        client, scope):
    # fix-sv2 let the server decide for a scope written wholly as `Patient/...`, but one
    # standard item beside it (`user/Practitioner.read`) turned every type the `Patient/...`
    # items name into "not granted": a 412 at once, no request, for a call the server that
    # issued those scopes answers. (SMART App Launch 2.x: scopes are case-sensitive; a
    # spelling it does not define says nothing the service can read, so the server decides.)
    response, asked = call(client, scope, ALL_TYPES, {"Observation": [observation("o1", code="85337-4")]})
    assert response.status_code == 200, response.get_json()
    assert {requested_type(url) for url in asked} >= {"Patient", "Condition", "Observation", "MedicationStatement",
                                                       "MedicationRequest", "MedicationAdministration", "Procedure"}
    assert "fhirAuthorization.scope" not in summary_detail(response)


def test_a_non_standard_spelling_grants_nothing_it_does_not_name(client):
    # `Patient/Condition.read` lets the server decide for Condition only: Procedure, named by
    # no scope at all, is still a 412 at once
    scope = ("patient/Patient.read Patient/Condition.read patient/Observation.read patient/MedicationStatement.read "
             "patient/MedicationRequest.read patient/MedicationAdministration.read")
    response, asked = call(client, scope, ALL_TYPES)
    assert asked == []
    message = refusal(response)
    assert "Procedure (procedures: not prefetched;" in message and "Condition" not in message


@pytest.mark.parametrize("scope", [
    # joined with commas rather than spaces (RFC 6749 §3.3: space-delimited): one item whose
    # permission reads "read,patient/Condition"
    "launch openid " + ",".join(f"patient/{rtype}.read" for rtype in sorted(ALL_TYPES)),
    # a `.search` permission SMART does not define (v1: read, write, *; v2: letters of cruds)
    " ".join(f"patient/{rtype}.search" for rtype in sorted(ALL_TYPES)),
])
def test_a_scope_whose_only_clinical_items_have_a_permission_smart_does_not_define_is_fetched_and_the_server_decides(
        client, scope):
    # fix-sv2 counted any `patient/X.<anything>` as a SMART clinical-data scope: every type then
    # read as not granted, a 412 at once for a call the server that issued the token answers
    response, asked = call(client, scope, ALL_TYPES)
    assert response.status_code == 200, response.get_json()
    assert {requested_type(url) for url in asked} >= {"Patient", "Condition", "Observation", "MedicationStatement",
                                                       "MedicationRequest", "MedicationAdministration", "Procedure"}


def test_a_wildcard_narrowed_by_a_query_adds_no_gap_for_the_patient_read_by_id(client):
    # (sv4) `patient/*.rs?category=laboratory` added "Patient records (patient): ... only Patient
    # records matching a query restriction" for the Patient read by id: the query is search
    # parameters (SMART App Launch 2.x: `?` narrows a scope by search parameters); a read by id
    # returns the one resource or an error, never a silent part of it. The searches keep their gap.
    response, asked = call(client, "patient/*.rs?category=laboratory", ALL_TYPES)
    detail = summary_detail(response)
    assert f"{FHIR_BASE}/Patient/p1" in asked
    assert "Patient records" not in detail
    assert ("Condition records (conditions): fhirAuthorization.scope grants this service only Condition records "
            "matching a query restriction") in detail


@pytest.mark.parametrize("scope, rtype, interaction, expected", [
    ("patient/*.rs?category=laboratory", "Patient", "read", UNCLEAR),
    ("patient/*.rs?category=laboratory", "Condition", "search", NARROWED),
    ("patient/Observation.rs?category=laboratory", "Observation", "read", UNCLEAR),
    ("patient/Observation.s?category=laboratory", "Observation", "read", NOT_GRANTED),
])
def test_a_query_restriction_narrows_searches_and_leaves_a_read_by_id_to_the_server(scope, rtype, interaction,
                                                                                   expected):
    assert access(scope, rtype, interaction) == expected


@pytest.mark.parametrize("searched", ["Condition", "Procedure"])
def test_a_search_permission_beside_standard_scopes_is_fetched_and_the_server_decides(client, searched):
    # (sv4) SMART defines no `.search` (v1 read/write/*, v2 letters of cruds), but some EHR
    # configurations (Epic) pair `.read` with `.search`: `patient/Condition.search` beside standard
    # scopes with no `patient/Condition.read` was a 412 at once for Condition, no request sent, for
    # a call the server that issued it may answer. Left to the server, as a type named in another
    # letter case is (rt80): fetched, no gap, its 403 a 412.
    scope = ALL_BUT_MEDICATION.replace(f"patient/{searched}.read", f"patient/{searched}.search") \
        + " patient/Medication.read"
    response, asked = call(client, scope, ALL_TYPES)
    assert response.status_code == 200, response.get_json()
    assert searched in {requested_type(url) for url in asked}
    assert "fhirAuthorization.scope" not in summary_detail(response)


@pytest.mark.parametrize("scope, rtype, interaction, expected", [
    ("patient/Patient.read patient/Condition.search", "Condition", "search", UNCLEAR),
    ("patient/Patient.read patient/Condition.Search", "Condition", "search", UNCLEAR),
    ("patient/Patient.read patient/Condition.search patient/Condition.rs", "Condition", "search", FULL),
    ("patient/Patient.read patient/Condition.search", "Procedure", "search", NOT_GRANTED),
    ("patient/Patient.read patient/Condition.rx", "Condition", "search", NOT_GRANTED),
])
def test_a_search_permission_smart_does_not_define_is_left_to_the_server_for_the_type_it_names(
        scope, rtype, interaction, expected):
    assert access(scope, rtype, interaction) == expected


def test_a_type_granted_only_in_a_comma_joined_list_beside_standard_scopes_is_fetched_and_the_server_decides(client):
    # was a 412 at once naming Condition and Observation: the comma-joined item read as one scope
    # whose permission is "read,patient/Observation.read", though the server that issued the token
    # may well answer (RFC 6749 §3.3 says spaces; a wrong separator is the server's to judge)
    scope = ("patient/Patient.read patient/Condition.read,patient/Observation.read patient/Procedure.read "
             "patient/MedicationStatement.read patient/MedicationRequest.read patient/MedicationAdministration.read "
             "patient/Medication.read")
    response, asked = call(client, scope, ALL_TYPES)
    assert response.status_code == 200, response.get_json()
    assert {"Condition", "Observation"} <= {requested_type(url) for url in asked}
    assert "fhirAuthorization.scope" not in summary_detail(response)


@pytest.mark.parametrize("scope,rtype,expected", [
    ("patient/Patient.read patient/Condition.read,patient/Observation.read", "Observation", "unclear"),
    ("patient/Patient.read patient/Condition.read,patient/Observation.read", "Procedure", "none"),
    ("patient/Observation.read patient/Condition.read,launch", "Observation", "full"),
])
def test_a_comma_joined_item_leaves_only_the_types_it_names_to_the_server(scope, rtype, expected):
    assert access(scope, rtype, "search") == expected
