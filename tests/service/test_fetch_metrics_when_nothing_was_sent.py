"""(sv4) mbc_cds_fhir_fetch_seconds covers the calls that fetched (service/metrics.py, docs
integration.md Metrics). A 412 given before any FHIR request (fhirAuthorization.scope does not
grant a type the service must fetch; fhirServer not on the allowlist) recorded a near-zero
outcome="error" sample though nothing was sent, pulling the fetch latency an operator watches
towards zero. Both are still counted in mbc_cds_fhir_fetch_errors_total, as refused (a fhirServer
not among MBC_CDS_FHIR_SERVERS was counted as unavailable: its message names no allowlist)."""

from __future__ import annotations

import re

import responses
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app

from .conftest import FHIR_BASE, patient_view_request

PV = "mbc-treatment-options"


def sample(client, name: str, **labels) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def counts(client) -> tuple[float, float]:
    return (sample(client, "mbc_cds_fhir_fetch_seconds_count", service=PV, outcome="error"),
            sample(client, "mbc_cds_fhir_fetch_errors_total", service=PV, reason="refused"))


def post_with_no_fhir_request(client, body) -> int:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(".*"), status=500)
        response = client.post(f"/cds-services/{PV}", json=body)
        assert not rsps.calls  # nothing was sent
    return response.status_code


def test_a_412_because_the_scope_does_not_grant_a_type_records_no_fetch_time(client):
    authorization = {"access_token": "tok", "token_type": "Bearer", "expires_in": 300, "subject": "mbc-cds",
                     "scope": "patient/Patient.read patient/Observation.read"}
    (seconds_before, refused_before) = counts(client)
    assert post_with_no_fhir_request(
        client, patient_view_request(fhirServer=FHIR_BASE, fhirAuthorization=authorization)) == 412
    seconds_after, refused_after = counts(client)
    assert seconds_after - seconds_before == 0
    assert refused_after - refused_before == 1


def test_a_412_because_the_fhir_server_is_not_on_the_allowlist_records_no_fetch_time(app_config):
    client = create_app(dict(app_config, fhir_servers="https://other.example.org/r4")).test_client()
    (seconds_before, refused_before) = counts(client)
    assert post_with_no_fhir_request(client, patient_view_request(fhirServer=FHIR_BASE)) == 412
    seconds_after, refused_after = counts(client)
    assert seconds_after - seconds_before == 0
    assert refused_after - refused_before == 1


def test_a_fetch_that_was_sent_and_failed_still_records_its_time(client):
    before = counts(client)[0]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(".*"), status=500)
        response = client.post(f"/cds-services/{PV}", json=patient_view_request(fhirServer=FHIR_BASE))
        assert rsps.calls
    assert response.status_code == 412
    assert counts(client)[0] - before == 1
