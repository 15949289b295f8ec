"""Hostile request bodies: too large -> 413, too deep or not JSON -> 400 with a
clear message, unknown fields tolerated, wrong types -> 400 naming the field, and
another patient's resources never reach the advice."""

from __future__ import annotations

import json

import pytest

from service import routes
from service.app import create_app
from service.gather import gather
from service.hooks import load_services

from .conftest import FEEDBACK_PATH, SERVICE_PATH, empty_prefetch, hook_body, open_config

TEMPLATES = load_services()["mbc-treatment-options"].prefetch


@pytest.fixture
def app(tmp_path):
    return create_app(open_config(tmp_path, max_request_bytes=64 * 1024, max_json_depth=32))


@pytest.fixture
def client(app):
    return app.test_client()


def post_raw(client, data: bytes, path: str = SERVICE_PATH, **kwargs):
    return client.post(path, data=data, content_type="application/json", **kwargs)


def message(response) -> str:
    return response.get_json()["message"]


# -- size and shape ---------------------------------------------------------------------


def test_a_body_over_the_size_limit_is_a_413_in_json(client):
    body = hook_body()
    body["padding"] = "x" * (70 * 1024)
    response = client.post(SERVICE_PATH, json=body)
    assert response.status_code == 413
    assert response.is_json and "larger than allowed" in message(response)


def test_a_chunked_body_over_the_size_limit_is_a_413(client):
    import io

    from werkzeug.test import EnvironBuilder

    data = b'{"hook": "patient-view", "x": "' + b"y" * (100 * 1024) + b'"}'
    environ = EnvironBuilder(path=SERVICE_PATH, method="POST", content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)  # no length declared: the limit must hold while reading
    environ.update({"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    from werkzeug.test import run_wsgi_app

    body, status, headers = run_wsgi_app(client.application, environ, buffered=True)
    assert status.startswith("413")
    assert b"larger than allowed" in b"".join(body)


def test_a_feedback_body_over_the_size_limit_is_a_413(client):
    response = post_raw(client, b'{"feedback": "' + b"x" * (70 * 1024) + b'"}', FEEDBACK_PATH)
    assert response.status_code == 413


def post_chunked(client, data: bytes, path: str = SERVICE_PATH):
    """POST without a Content-Length (chunked): (status, JSON body)."""
    import io

    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path=path, method="POST", content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    body, status, _headers = run_wsgi_app(client.application, environ, buffered=True)
    return int(status.split()[0]), json.loads(b"".join(body))


def oversized_hook_body() -> bytes:
    body = hook_body()
    body["padding"] = "x" * (70 * 1024)
    return json.dumps(body).encode()


def hook_requests_counted(client) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    counts = {}
    for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True)):
        for sample in family.samples:
            if (sample.name == "mbc_cds_hook_requests_total"
                    and sample.labels.get("service") == "mbc-treatment-options"):
                counts[sample.labels["status"]] = sample.value
    return counts


@pytest.mark.parametrize("declares_length", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_hook_body_is_logged_and_counted_as_the_413_it_is_not_a_500(
        client, service_logs, declares_length):
    before = hook_requests_counted(client)
    if declares_length:
        status = client.post(SERVICE_PATH, data=oversized_hook_body(), content_type="application/json").status_code
    else:
        status, _ = post_chunked(client, oversized_hook_body())
    after = hook_requests_counted(client)
    assert status == 413
    hook_lines = [json.loads(line) for line in service_logs.lines if json.loads(line)["msg"] == "hook"]
    assert [line["status"] for line in hook_lines] == [413]
    assert after.get("413", 0) - before.get("413", 0) == 1
    assert after.get("500", 0) - before.get("500", 0) == 0


@pytest.mark.parametrize("path", [SERVICE_PATH, FEEDBACK_PATH], ids=["hook", "feedback"])
def test_an_oversized_body_gets_the_same_413_error_whether_or_not_it_declared_its_length(client, path):
    declared = client.post(path, data=oversized_hook_body(), content_type="application/json")
    status, chunked = post_chunked(client, oversized_hook_body(), path)
    assert declared.status_code == status == 413
    assert declared.get_json() == chunked
    assert chunked["error"] == "payload-too-large" and "larger than allowed" in chunked["message"]


@pytest.mark.parametrize("depth", [33, 500, 100_000])
def test_deeply_nested_json_is_a_400_that_says_so(client, depth):
    nested = b"[" * depth + b"]" * depth
    response = post_raw(client, b'{"hook": "patient-view", "context": {"deep": ' + nested + b"}}")
    assert response.status_code in (400, 413)
    if response.status_code == 400:
        assert "nested too deeply" in message(response)


def test_nesting_within_the_limit_is_fine(client):
    body = hook_body()
    body["extension"] = json.loads("[" * 20 + "]" * 20)
    assert client.post(SERVICE_PATH, json=body).status_code == 200


@pytest.mark.parametrize("raw, words", [
    (b'{"hook": NaN}', "not valid JSON"),
    (b'{"hook": Infinity}', "not valid JSON"),
    (b'{"hook": "patient-view", "hookInstance": "\\ud800"}', "surrogate"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b'{"hook": "patient-view"', "not valid JSON"),
    (b'{"a": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b"[]", "JSON object"),
    (b'"just a string"', "JSON object"),
])
def test_malformed_json_is_a_400_with_a_clear_message(client, raw, words):
    response = post_raw(client, raw)
    assert response.status_code == 400
    assert words in message(response)


def test_unknown_fields_are_tolerated_everywhere(client):
    body = hook_body()
    body["x-vendor"] = {"anything": [1, 2, 3]}
    body["context"]["x-extra"] = "fine"
    body["prefetch"]["notATemplateKey"] = {"resourceType": "Observation", "id": "o9"}
    assert client.post(SERVICE_PATH, json=body).status_code == 200


@pytest.mark.parametrize("value", ["x", 5, [1, 2], True])
def test_an_unknown_prefetch_key_of_any_type_is_ignored_without_a_note(client, value):
    body = hook_body()
    body["prefetch"]["someOtherKey"] = value
    response = client.post(SERVICE_PATH, json=body)
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    assert cards and cards[0]["source"]["topic"]["code"] == "patient-summary"
    assert not any("someOtherKey" in json.dumps(card) for card in cards)


@pytest.mark.parametrize("value", ["Patient/p1", 5, [{"resourceType": "Condition", "id": "c1"}]])
def test_a_prefetch_key_the_service_asked_for_with_a_value_that_is_not_a_resource_is_a_400_naming_the_key(
        client, value):
    body = hook_body()
    body["prefetch"]["conditions"] = value
    response = client.post(SERVICE_PATH, json=body)
    assert response.status_code == 400
    assert message(response) == "prefetch.conditions: must be a FHIR resource (a JSON object) or null"


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b.update(hook=5), "hook"),
    (lambda b: b.update(hookInstance=None), "hookInstance"),
    (lambda b: b.update(context=[]), "context"),
    (lambda b: b["context"].update(patientId=123), "context.patientId"),
    (lambda b: b["context"].update(patientId="../Patient/other"), "context.patientId"),
    (lambda b: b["context"].update(patientId=".."), "context.patientId"),
    (lambda b: b["context"].update(userId={"a": 1}), "context.userId"),
    (lambda b: b.update(prefetch=[]), "prefetch"),
    (lambda b: b["prefetch"].update(patient="Patient/p1"), "prefetch.patient"),
    (lambda b: b.update(fhirServer=7), "fhirServer"),
    (lambda b: b.update(fhirServer="https://ehr.example.org/fhir", fhirAuthorization={"access_token": 5}),
     "fhirAuthorization.access_token"),
])
def test_wrong_types_are_a_400_naming_the_field(client, mutate, field):
    body = hook_body()
    mutate(body)
    response = client.post(SERVICE_PATH, json=body)
    assert response.status_code == 400
    assert field in message(response)


def test_a_validation_message_never_echoes_the_value_and_stays_short(client):
    secret = "s3cr3t-access-token-" + "z" * 5000
    body = hook_body(fhirServer="https://ehr.example.org/fhir",
                     fhirAuthorization={"access_token": secret, "token_type": "Mac", "expires_in": 1,
                                        "scope": "x", "subject": "y"})
    body["prefetch"]["k" * 3000] = 5
    response = client.post(SERVICE_PATH, json=body)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "s3cr3t" not in text and len(text) < 2000


def test_a_hook_the_service_does_not_answer_is_a_400_that_names_the_field_without_repeating_it(client):
    sent = "order-sign-" + "X" * 4000
    response = client.post(SERVICE_PATH, json=hook_body(hook=sent))
    assert response.status_code == 400
    assert message(response).startswith("hook:")
    assert "patient-view" in message(response)  # what the service answers
    assert "XXXX" not in response.get_data(as_text=True) and len(response.get_data()) < 300


@pytest.mark.parametrize("suffix", ["", "/feedback"], ids=["hook", "feedback"])
def test_an_unknown_service_id_is_a_404_that_does_not_repeat_it(client, suffix):
    service_id = "no-such-service-" + "Y" * 1000
    response = client.post(f"/cds-services/{service_id}{suffix}", json=hook_body())
    assert response.status_code == 404
    assert "/cds-services" in message(response)
    assert "YYYY" not in response.get_data(as_text=True) and len(response.get_data()) < 300


def test_the_fhir_access_token_is_never_logged(client, service_logs):
    token = "fhir-access-token-must-not-appear"
    body = hook_body(fhirServer="https://169.254.169.254/", fhirAuthorization={
        "access_token": token, "token_type": "Bearer", "expires_in": 60, "scope": "patient/*.read", "subject": "y"})
    del body["prefetch"]["conditions"]
    assert client.post(SERVICE_PATH, json=body).status_code == 412
    assert token not in service_logs.text()


# -- media type -----------------------------------------------------------------------------------


def feedback_body_for_a_new_card() -> dict:
    return {"feedback": [{"card": "9b0c1d1e-2f3a-4b5c-8d6e-7f8091a2b3c4", "outcome": "overridden",
                          "outcomeTimestamp": "2026-11-21T10:00:00Z"}]}


def stored_feedback_rows(app) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from service.feedback import FeedbackRecord

    with Session(app.extensions["feedback_store"].engine) as session:
        return session.execute(select(func.count()).select_from(FeedbackRecord)).scalar_one()


# each Content-Type test runs on a hook call and on a feedback call
ON_HOOK_AND_FEEDBACK = pytest.mark.parametrize("path, body", [
    (SERVICE_PATH, hook_body), (FEEDBACK_PATH, feedback_body_for_a_new_card),
], ids=["hook", "feedback"])


@pytest.mark.parametrize("content_type", [
    "text/plain", "text/plain;charset=UTF-8", "application/xml",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
])
@ON_HOOK_AND_FEEDBACK
def test_a_json_body_sent_as_another_media_type_is_a_415_naming_application_json(
        app, client, content_type, path, body):
    # A text/plain or form POST is a CORS "simple request": no preflight guards it.
    response = client.post(path, data=json.dumps(body()), content_type=content_type)
    assert response.status_code == 415, response.get_data(as_text=True)
    assert response.get_json()["error"] == "unsupported-media-type"
    assert "application/json" in message(response)
    assert stored_feedback_rows(app) == 0


@ON_HOOK_AND_FEEDBACK
def test_a_body_without_a_content_type_is_a_415_that_says_the_header_is_missing(app, client, path, body):
    response = client.post(path, data=json.dumps(body()))
    assert response.status_code == 415, response.get_data(as_text=True)
    assert "Content-Type" in message(response) and "application/json" in message(response)
    assert stored_feedback_rows(app) == 0


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
    "application/fhir+json", "application/cds-hooks+json; charset=utf-8",
])
@ON_HOOK_AND_FEEDBACK
def test_json_media_types_with_parameters_or_a_json_suffix_are_accepted(client, content_type, path, body):
    response = client.post(path, data=json.dumps(body()), content_type=content_type)
    assert response.status_code == 200, response.get_data(as_text=True)


# -- other patients' data -------------------------------------------------------------------------


def other_patient_prefetch() -> dict:
    prefetch = empty_prefetch("p1")
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Condition", "id": "mine", "subject": {"reference": "Patient/p1"}}},
        {"resource": {"resourceType": "Condition", "id": "theirs", "subject": {"reference": "Patient/p2"}}},
        {"resource": {"resourceType": "Condition", "id": "theirs-abs",
                      "subject": {"reference": "https://ehr.example.org/fhir/Patient/p2/_history/3"}}},
    ]}
    prefetch["medicationStatements"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "MedicationStatement", "id": "ms-theirs",
                      "subject": {"reference": "Patient/p3"}}},
    ]}
    prefetch["tumorMarkers"] = {"resourceType": "Observation", "id": "obs-theirs",
                                "subject": {"reference": "Patient/p1"}, "patient": {"reference": "Patient/p9"}}
    prefetch["clinicalFindings"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p2"}},  # wrong type and wrong patient
        {"resource": {"resourceType": "Observation", "id": "obs-mine", "subject": {"reference": "Patient/p1"}}},
    ]}
    return prefetch


def test_resources_of_another_patient_are_dropped_and_noted():
    result = gather(TEMPLATES, {"patientId": "p1", "userId": "u"}, other_patient_prefetch(), None)
    ids = {r["id"] for r in result.resources}
    assert ids == {"p1", "mine", "obs-mine"}
    note = " ".join(result.notes)
    assert "another patient" in note
    assert "p2" not in note and "p3" not in note  # the note never names the other patient


def test_a_patient_resource_with_another_id_is_dropped():
    prefetch = empty_prefetch("p1")
    prefetch["patient"] = {"resourceType": "Patient", "id": "p2", "gender": "male"}
    result = gather(TEMPLATES, {"patientId": "p1", "userId": "u"}, prefetch, None)
    assert result.resources == []
    assert any("another patient" in n for n in result.notes)


def test_prefetch_resources_of_the_wrong_type_for_their_key_are_dropped_and_noted():
    prefetch = empty_prefetch("p1")
    prefetch["conditions"] = {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": "mr1", "subject": {"reference": "Patient/p1"}}},
        {"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}},
    ]}
    result = gather(TEMPLATES, {"patientId": "p1", "userId": "u"}, prefetch, None)
    assert {r["id"] for r in result.resources} == {"p1", "c1"}
    assert any("not Condition" in n for n in result.notes)


def test_another_patients_resources_never_reach_the_advice(client, monkeypatch):
    seen = {}
    real_run_hook = routes.run_hook

    def spy(hook, context, resources, notes=None, **kwargs):
        seen["resources"], seen["notes"] = list(resources), list(notes or [])
        return real_run_hook(hook, context, resources, notes, **kwargs)

    monkeypatch.setattr(routes, "run_hook", spy)
    response = client.post(SERVICE_PATH, json=hook_body(prefetch=other_patient_prefetch()))
    assert response.status_code == 200
    assert {r["id"] for r in seen["resources"]} == {"p1", "mine", "obs-mine"}
    assert any("another patient" in n for n in seen["notes"])
    assert "theirs" not in response.get_data(as_text=True)


def test_the_number_of_resources_per_patient_is_bounded():
    prefetch = empty_prefetch("p1")
    prefetch["conditions"] = {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Condition", "id": f"c{i}", "subject": {"reference": "Patient/p1"}}}
        for i in range(50)]}
    result = gather(TEMPLATES, {"patientId": "p1", "userId": "u"}, prefetch, None, max_resources=20)
    assert len(result.resources) == 20
    assert any("more than 20 resources" in n for n in result.notes)


def test_the_resource_bound_is_a_note_the_order_cards_repeat_and_another_patients_data_is_not():
    prefetch = empty_prefetch("p1")
    prefetch["conditions"] = {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Condition", "id": f"c{i}", "subject": {"reference": f"Patient/p{i % 2}"}}}
        for i in range(50)]}
    result = gather(TEMPLATES, {"patientId": "p1", "userId": "u"}, prefetch, None, max_resources=20)
    assert [n for n in result.incomplete if "more than 20 resources" in n]
    assert not [n for n in result.incomplete if "another patient" in n]
    assert any("another patient" in n for n in result.notes)
