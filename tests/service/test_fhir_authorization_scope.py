"""fhirAuthorization.scope limits what the service fetches (CDS Hooks 2.0.1 fhirAuthorization;
SMART App Launch 2.x, Scopes and Launch Context: v1 `patient/X.read`, v2 `patient/X.rs`).

A type the EHR did not grant is not searched (a server enforcing the scopes answers 403, and
the whole call used to be a 412): the clinician gets the cards with a data gap naming the
records that were not read. HTTP is mocked at the FHIR boundary with `responses`.
"""

import json
import re

import pytest
import responses

from service.smart_scopes import FULL, NARROWED, NOT_GRANTED, access

from tests.orders.fhir import Chart
from tests.orders.helpers import by_topic

from .conftest import FHIR_BASE, observation, patient_view_request, searchset

SERVICE = "/cds-services/mbc-treatment-options"
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female"}
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


def summary_detail(response) -> str:
    assert response.status_code == 200, response.get_json()
    card = response.get_json()["cards"][0]
    assert card["source"]["topic"]["code"] == "patient-summary"
    return card["detail"]


def test_types_the_scope_does_not_grant_are_not_searched_and_the_summary_names_them_as_not_read(client):
    # was: every type searched, the server refused five of them (403), and the clinician got
    # no cards at all, only a 412 "could not get the patient's FHIR data"
    response, asked = call(client, "launch patient/Patient.read patient/Observation.read",
                           {"Patient", "Observation"}, {"Observation": [observation("o1", code="85337-4")]})
    detail = summary_detail(response)
    assert {requested_type(url) for url in asked} == {"Patient", "Observation"}
    for rtype, key in [("Condition", "conditions"), ("MedicationStatement", "medicationStatements"),
                       ("MedicationRequest", "medicationRequests"),
                       ("MedicationAdministration", "medicationAdministrations"), ("Procedure", "procedures")]:
        assert (f"{rtype} records ({key}) were not read: fhirAuthorization.scope does not grant this service "
                f"access to {rtype} (patient/{rtype}.read or patient/{rtype}.rs); advice may be incomplete") in detail
    assert "Observation records" not in detail and "Patient records" not in detail


def test_smart_v2_scopes_grant_what_they_name_and_nothing_more(client):
    response, asked = call(client, "patient/Patient.r patient/Observation.rs patient/Condition.rs",
                           {"Patient", "Observation", "Condition"})
    detail = summary_detail(response)
    assert {requested_type(url) for url in asked} == {"Patient", "Observation", "Condition"}
    assert "Condition records" not in detail
    assert "Procedure records (procedures) were not read" in detail


def test_a_v2_scope_without_search_does_not_let_the_service_search_that_type(client):
    # `.r` is read by id only (SMART v2 `s` is search): the Condition search would be refused
    response, asked = call(client, "patient/Patient.r patient/Observation.rs patient/Condition.r "
                                   "patient/MedicationStatement.rs patient/MedicationRequest.rs "
                                   "patient/MedicationAdministration.rs patient/Procedure.rs patient/Medication.rs",
                           {"Patient", "Observation", "MedicationStatement", "MedicationRequest",
                            "MedicationAdministration", "Procedure", "Medication"})
    detail = summary_detail(response)
    assert "Condition" not in {requested_type(url) for url in asked}
    assert "Condition records (conditions) were not read" in detail


@pytest.mark.parametrize("scope", ["patient/*.read", "user/*.cruds", "patient/*.rs",
                                   "system/*.read", "patient/*.*"])
def test_a_wildcard_scope_lets_every_type_be_fetched_without_a_gap(client, scope):
    response, asked = call(client, scope, {"Patient", "Condition", "Observation", "MedicationStatement",
                                           "MedicationRequest", "MedicationAdministration", "Procedure",
                                           "Medication"})
    detail = summary_detail(response)
    assert "were not read" not in detail and "fhirAuthorization.scope" not in detail
    assert {requested_type(url) for url in asked} >= {"Patient", "Condition", "Procedure"}


def test_without_patient_access_the_patient_is_not_read_and_the_gap_says_so(client):
    response, asked = call(client, "patient/Observation.read patient/Condition.read",
                           {"Observation", "Condition"})
    detail = summary_detail(response)
    assert "Patient" not in {requested_type(url) for url in asked}
    assert ("Patient records (patient) were not read: fhirAuthorization.scope does not grant this service "
            "access to Patient (patient/Patient.read or patient/Patient.r)") in detail


def test_a_scope_narrowed_by_a_query_is_fetched_with_a_gap_saying_others_were_not_returned(client):
    response, asked = call(client, "patient/*.rs patient/Observation.rs?category=laboratory",
                           {"Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
                            "MedicationAdministration", "Procedure", "Medication"})
    detail = summary_detail(response)
    assert "Observation" in {requested_type(url) for url in asked}
    assert "fhirAuthorization.scope grants this service only Observation records" not in detail  # *.rs grants all
    response, asked = call(client, "patient/Patient.rs patient/Observation.rs?category=laboratory",
                           {"Patient", "Observation"})
    detail = summary_detail(response)
    assert "Observation" in {requested_type(url) for url in asked}
    assert ("Observation records (tumorMarkers, genomics, clinicalFindings): fhirAuthorization.scope grants "
            "this service only Observation records matching a query restriction; others were not returned "
            "and advice may be incomplete") in detail


def test_medications_are_not_included_without_medication_access_and_a_record_naming_one_is_a_gap(client):
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


def test_the_order_cards_repeat_that_records_were_not_read_for_the_scope(client):
    # postmenopausal HR+/HER2-low bone-metastatic, letrozole + palbociclib then progression
    # (prefetched); procedures missing from prefetch and not granted: elacestrant's card says so
    chart = Chart("scope-1").hr_positive_mbc(metastatic_days_ago=600)
    chart.regimen(["letrozole", "palbociclib"], 580, 20).progression(25)
    body = chart.request("order-sign", chart.drafts(("e", "elacestrant")))
    del body["prefetch"]["procedures"]
    body["fhirServer"] = FHIR_BASE
    body["fhirAuthorization"] = authorization(
        "patient/Patient.read patient/Condition.read patient/Observation.read patient/MedicationStatement.read "
        "patient/MedicationRequest.read patient/MedicationAdministration.read patient/Medication.read")
    body["fhirAuthorization"]["patient"] = chart.pid
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, {"Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
                                "MedicationAdministration", "Medication"})
        response = client.post("/cds-services/mbc-order-sign", json=body)
        assert not rsps.calls
    assert response.status_code == 200, response.get_json()
    card = by_topic(response.get_json()["cards"], "order-biomarker-missing")
    assert "**Patient data may be incomplete**" in card["detail"]
    assert "Procedure records (procedures) were not read: fhirAuthorization.scope does not grant" in card["detail"]


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
])
def test_smart_scopes_are_read_as_smart_app_launch_defines_them(scope, rtype, interaction, expected):
    assert access(scope, rtype, interaction) == expected


def test_a_paged_prefetch_of_a_type_not_granted_keeps_its_first_page_and_says_the_rest_was_not_read(client):
    prefetch = {key: None for key in ("patient", "conditions", "tumorMarkers", "genomics", "clinicalFindings",
                                      "medicationStatements", "medicationRequests", "medicationAdministrations",
                                      "procedures")}
    prefetch["patient"] = PATIENT
    prefetch["procedures"] = searchset([], next_url=f"{FHIR_BASE}/Procedure?patient=p1&page=2")
    body = patient_view_request(prefetch=prefetch, fhirServer=FHIR_BASE,
                                fhirAuthorization=authorization("patient/Patient.read patient/Observation.read"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        enforcing_server(rsps, {"Patient", "Observation"})
        response = client.post(SERVICE, json=body)
        assert not rsps.calls
    assert ("Procedure records (procedures beyond its first prefetched page) were not read: "
            "fhirAuthorization.scope does not grant this service access to Procedure") in summary_detail(response)
