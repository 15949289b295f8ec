"""Logs: structured lines with service, hookInstance, status, latency; never tokens or patient data."""

import json
import logging
import re

import responses

from service.logs import JsonFormatter

from .conftest import FHIR_BASE, patient_view_request, searchset


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_hook_calls_are_logged_as_json_without_token_or_patient_id(client):
    handler = Collect()
    logging.getLogger("mbc_cds").addHandler(handler)
    try:
        body = patient_view_request(
            patient_id="secret-patient-42", fhirServer=FHIR_BASE,
            fhirAuthorization={"access_token": "very-secret-token", "token_type": "Bearer",
                               "expires_in": 300, "scope": "patient/*.read", "subject": "mbc-cds"},
        )
        with responses.RequestsMock() as rsps:
            rsps.add(responses.GET, f"{FHIR_BASE}/Patient/secret-patient-42",
                     json={"resourceType": "Patient", "id": "secret-patient-42"})
            rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?.*"), json=searchset([]))
            assert client.post("/cds-services/mbc-treatment-options", json=body).status_code == 200
    finally:
        logging.getLogger("mbc_cds").removeHandler(handler)
    text = "\n".join(handler.lines)
    assert "very-secret-token" not in text
    assert "secret-patient-42" not in text
    hook_lines = [json.loads(line) for line in handler.lines if json.loads(line)["msg"] == "hook"]
    assert hook_lines, text
    line = hook_lines[-1]
    assert line["service"] == "mbc-treatment-options"
    assert line["hookInstance"] == body["hookInstance"]
    assert line["status"] == 200 and line["latency_ms"] >= 0


def test_every_feedback_call_writes_one_log_line_with_its_status_failed_calls_included(app, client, monkeypatch):
    path = "/cds-services/mbc-treatment-options/feedback"
    good = {"feedback": [{"card": "3540f203-1d17-459a-8d42-f1cdd745250d", "outcome": "overridden",
                          "outcomeTimestamp": "2026-11-21T10:00:00Z"}]}
    handler = Collect()
    logging.getLogger("mbc_cds").addHandler(handler)
    try:
        statuses = [
            client.post(path, json=good).status_code,
            client.post(path, json={"feedback": []}).status_code,
            client.post("/cds-services/no-such-service/feedback", json=good).status_code,
            client.post(path, data=json.dumps(good), content_type="text/plain").status_code,
        ]
        monkeypatch.setattr(app.extensions["feedback_store"], "add_feedback",
                            lambda *a: (_ for _ in ()).throw(RuntimeError("database gone")))
        statuses.append(client.post(path, json=good).status_code)
    finally:
        logging.getLogger("mbc_cds").removeHandler(handler)
    assert statuses == [200, 400, 404, 415, 500]
    lines = [json.loads(line) for line in handler.lines if json.loads(line)["msg"] == "feedback"]
    assert [line["status"] for line in lines] == statuses
    assert all(line["latency_ms"] >= 0 for line in lines)
    assert lines[0]["service"] == "mbc-treatment-options"
    assert (lines[0]["received"], lines[0]["stored"]) == (1, 1)


def test_a_service_id_that_is_none_of_ours_is_logged_as_a_marker_with_its_length_not_its_text(client):
    handler = Collect()
    logging.getLogger("mbc_cds").addHandler(handler)
    try:
        long_id = "x" * 3000
        response = client.post(f"/cds-services/{long_id}", json=patient_view_request())
        assert response.status_code == 404
    finally:
        logging.getLogger("mbc_cds").removeHandler(handler)
    hook_lines = [json.loads(line) for line in handler.lines if json.loads(line)["msg"] == "hook"]
    assert hook_lines and hook_lines[-1]["service"] == "<not a known service id; 3000 characters>"
