"""The service's notes on what it ignored reach the summary card as data gaps: counted as a
clinician writes them ('ignored 1 resource that belongs ...', 'ignored 2 resources ...'), never
the form-letter 'resource(s)' (DESIGN.md: cards are read at the point of care)."""

from .conftest import empty_prefetch, patient_view_request, searchset

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female"}


def _statement(sid, subject="Patient/p1"):
    return {"resourceType": "MedicationStatement", "id": sid, "status": "active",
            "subject": {"reference": subject}, "medicationCodeableConcept": {"text": "letrozole"}}


def _summary_detail(client, statements):
    prefetch = empty_prefetch()
    prefetch["patient"] = PATIENT
    prefetch["medicationStatements"] = searchset(statements)
    resp = client.post("/cds-services/mbc-treatment-options", json=patient_view_request("p1", prefetch))
    assert resp.status_code == 200
    return "\n".join(c.get("detail", "") for c in resp.get_json()["cards"])


def test_one_resource_of_another_patient_is_named_as_1_resource_that_belongs_to_another_patient(client):
    detail = _summary_detail(client, [_statement("ms1"), _statement("ms2", "Patient/x")])
    assert "ignored 1 resource that belongs to another patient than the one in context" in detail
    assert "resource(s)" not in detail


def test_two_resources_of_another_patient_and_one_of_another_type_are_counted_as_words(client):
    other_type = {"resourceType": "Procedure", "id": "pr1", "subject": {"reference": "Patient/p1"}}
    detail = _summary_detail(client, [_statement("ms1"), _statement("ms2", "Patient/x"),
                                      _statement("ms3", "Patient/y"), other_type])
    assert "ignored 2 resources that belong to another patient than the one in context" in detail
    assert "prefetch 'medicationStatements': ignored 1 resource that is not MedicationStatement" in detail
    assert "resource(s)" not in detail
