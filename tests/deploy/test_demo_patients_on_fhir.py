"""Each demo patient, loaded by `mbc-cds load-demo` into a real FHIR server,
gets through a patient-view call WITHOUT prefetch (the service fetches from
fhirServer) the cards its index entry promises; each demo draft order gets the
order checks its index promises."""

from __future__ import annotations

import uuid

import pytest

from cards.contract import response_problems
from cards.topics import REGIMEN_TOPICS
from service.demo import demo_index, demo_orders, demo_patients

pytestmark = pytest.mark.integration

PATIENT_IDS = [e["patient"] for e in demo_index()]
INDEX = {e["patient"]: e for e in demo_index()}
# The prefetch templates never ask for Specimens: Observations name theirs by display.
NOT_QUERIED = {"Specimen"}


def patient_view(client, fhir_server, patient_id):
    return client.post("/cds-services/mbc-treatment-options", json={
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": fhir_server,
        "context": {"userId": "Practitioner/demo-oncologist", "patientId": patient_id},
    })


@pytest.fixture
def seen_resources(monkeypatch):
    """What the pipeline received for each call (patient id -> resources)."""
    import service.routes as routes

    seen: dict[str, list[dict]] = {}
    original = routes.run_hook

    def spy(hook, context, resources, notes=None, as_of=None, **kwargs):
        seen[str(context["patientId"])] = resources
        return original(hook, context, resources, notes, as_of, **kwargs)

    monkeypatch.setattr(routes, "run_hook", spy)
    return seen


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_every_demo_patient_is_fetched_from_the_fhir_server_and_gets_the_summary_card(
    client, loaded_demo, seen_resources, patient_id
):
    base_url = loaded_demo[0]
    response = patient_view(client, base_url, patient_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert response_problems(body, patient_id) == []
    assert body["cards"][0]["source"]["topic"]["code"] == "patient-summary"

    fetched = {(r["resourceType"], r["id"]) for r in seen_resources[patient_id]}
    loaded = {(r["resourceType"], r["id"]) for r in demo_patients()[patient_id]["resources"]
              if r["resourceType"] not in NOT_QUERIED}
    assert loaded == fetched


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_every_demo_patient_gets_the_card_topics_its_index_promises(client, loaded_demo, patient_id):
    entry = INDEX[patient_id]
    response = patient_view(client, loaded_demo[0], patient_id)
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    topics = [c["source"]["topic"]["code"] for c in cards]
    indicators = {c["source"]["topic"]["code"]: c["indicator"] for c in cards}

    missing = [t for t in entry["expected_topics"] if t not in topics]
    forbidden = [t for t in entry["forbidden_topics"] if t in topics]
    assert not missing and not forbidden, f"{entry['title']}: missing {missing}, forbidden {forbidden}, got {topics}"
    for topic in entry.get("expected_warnings", []):
        assert indicators[topic] in ("warning", "critical"), (topic, indicators[topic])
    if entry.get("first_regimen"):
        regimens = [t for t in topics if t in REGIMEN_TOPICS]
        assert regimens[0] == entry["first_regimen"], regimens


ORDERS = demo_orders()


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize("order", ORDERS, ids=[o["file"].removesuffix(".json") for o in ORDERS])
def test_every_demo_draft_order_gets_the_order_checks_its_index_promises(client, loaded_demo, order, hook):
    context = {"userId": "Practitioner/demo-oncologist", "patientId": order["patient"],
               "draftOrders": order["bundle"]}
    if hook == "order-select":
        context["selections"] = [f"MedicationRequest/{e['resource']['id']}" for e in order["bundle"]["entry"]]
    service = {"order-select": "mbc-order-select", "order-sign": "mbc-order-sign"}[hook]
    response = client.post(f"/cds-services/{service}", json={
        "hook": hook, "hookInstance": str(uuid.uuid4()), "fhirServer": loaded_demo[0], "context": context,
    })
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert response_problems(body, order["patient"]) == []
    topics = [c["source"]["topic"]["code"] for c in body["cards"]]
    missing = [t for t in order["expected_topics"] if t not in topics]
    forbidden = [t for t in order["forbidden_topics"] if t in topics]
    assert not missing and not forbidden, f"{order['title']}: missing {missing}, forbidden {forbidden}, got {topics}"
