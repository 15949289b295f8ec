"""`GET /metrics`: Prometheus text with request, latency, FHIR fetch, card and
feedback counters that move with the calls."""

from __future__ import annotations

import json
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.demo import REQUESTS_DIR

from tests.servers import free_port

PV = "mbc-treatment-options"


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before, after, name, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def demo_client(tmp_path):
    app = create_app({"auth": "off", "demo": True, "allow_http_fhir": True,
                      "database_url": f"sqlite:///{tmp_path}/fb.sqlite"})
    return app.test_client()


def test_metrics_counts_hook_calls_their_latency_cards_by_topic_and_feedback_outcomes(demo_client):
    before = scrape(demo_client)
    body = json.loads((REQUESTS_DIR / "patient-view.json").read_text())
    response = demo_client.post(f"/cds-services/{PV}", json=body)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    feedback = demo_client.post(f"/cds-services/{PV}/feedback", json={"feedback": [
        {"card": cards[0]["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:00:00Z"},
        {"card": cards[-1]["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-21T10:00:05Z",
         "acceptedSuggestions": [{"id": str(uuid.uuid4())}]},
    ]})
    assert feedback.status_code == 200
    bad = demo_client.post(f"/cds-services/{PV}", json={"hook": "patient-view"})
    assert bad.status_code == 400
    after = scrape(demo_client)

    assert delta(before, after, "mbc_cds_hook_requests_total", service=PV, status="200") == 1
    assert delta(before, after, "mbc_cds_hook_requests_total", service=PV, status="400") == 1
    assert delta(before, after, "mbc_cds_hook_request_seconds_count", service=PV, status="200") == 1
    assert delta(before, after, "mbc_cds_hook_request_seconds_bucket", service=PV, status="200", le="+Inf") == 1
    assert delta(before, after, "mbc_cds_hook_request_seconds_sum", service=PV, status="200") > 0
    for card in cards:
        topic, indicator = card["source"]["topic"]["code"], card["indicator"]
        assert delta(before, after, "mbc_cds_cards_total", service=PV, topic=topic, indicator=indicator) >= 1
    assert sum(delta(before, after, name, **dict(labels)) for name, labels in after
               if name == "mbc_cds_cards_total") == len(cards)
    assert delta(before, after, "mbc_cds_feedback_total", service=PV, outcome="overridden") == 1
    assert delta(before, after, "mbc_cds_feedback_total", service=PV, outcome="accepted") == 1


@pytest.mark.integration
def test_metrics_times_fhir_fetches_and_counts_the_ones_that_fail(client, loaded_demo):
    base_url = loaded_demo[0]
    before = scrape(client)
    for server in (base_url, f"http://127.0.0.1:{free_port()}/fhir"):
        client.post(f"/cds-services/{PV}", json={
            "hook": "patient-view", "hookInstance": str(uuid.uuid4()), "fhirServer": server,
            "context": {"userId": "Practitioner/x", "patientId": "demo-esr1-post-cdk46i"},
        })
    after = scrape(client)
    assert delta(before, after, "mbc_cds_fhir_fetch_seconds_count", service=PV, outcome="ok") == 1
    assert delta(before, after, "mbc_cds_fhir_fetch_seconds_count", service=PV, outcome="error") == 1
    assert delta(before, after, "mbc_cds_fhir_fetch_errors_total", service=PV, reason="unavailable") == 1
    assert delta(before, after, "mbc_cds_hook_requests_total", service=PV, status="412") == 1


def test_calls_with_full_prefetch_record_no_fhir_fetch(demo_client):
    before = scrape(demo_client)
    demo_client.post(f"/cds-services/{PV}", json=json.loads((REQUESTS_DIR / "patient-view.json").read_text()))
    after = scrape(demo_client)
    assert all(delta(before, after, name, **dict(labels)) == 0
               for name, labels in after if name.startswith("mbc_cds_fhir_fetch"))


def test_unknown_service_ids_never_become_label_values(demo_client):
    demo_client.post("/cds-services/made-up-service-42", json={})
    text = demo_client.get("/metrics").get_data(as_text=True)
    assert "made-up-service-42" not in text
    assert 'mbc_cds_hook_requests_total{service="unknown",status="404"}' in text


def test_metrics_carry_no_patient_ids_or_hook_instances(demo_client):
    body = json.loads((REQUESTS_DIR / "patient-view.json").read_text())
    demo_client.post(f"/cds-services/{PV}", json=body)
    text = demo_client.get("/metrics").get_data(as_text=True)
    assert body["context"]["patientId"] not in text
    assert body["hookInstance"] not in text


def test_a_scraper_asking_for_openmetrics_gets_openmetrics(demo_client):
    response = demo_client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).rstrip().endswith("# EOF")
