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
