"""The demo data: valid FHIR R4, loadable by PUT, indexed with known card topics,
and answered by the service's demo mode (`make run` + the README's curl)."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from cards.contract import response_problems
from cards.topics import ALL_TOPICS, OTHER_TOPICS, REGIMEN_TOPICS, TESTING_TOPICS
from service.app import create_app
from service.demo import DEMO_DIR, ORDERS_DIR, REQUESTS_DIR, demo_index, demo_orders, demo_patients

from .conftest import REPO_DIR

BUNDLE_FILES = sorted(DEMO_DIR.glob("*.json"))
ORDER_FILES = sorted(ORDERS_DIR.glob("*.json"))
FHIR_ID = re.compile(r"^[A-Za-z0-9\-\.]{1,64}$")


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def references(value):
    """Every `reference` string inside a resource."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def test_there_are_twelve_to_sixteen_demo_patients_and_each_is_in_the_index():
    assert 12 <= len(BUNDLE_FILES) <= 16
    assert {e["file"] for e in demo_index()} == {p.name for p in BUNDLE_FILES}


@pytest.mark.parametrize("path", BUNDLE_FILES + ORDER_FILES, ids=lambda p: p.name)
def test_every_demo_bundle_is_valid_fhir_r4(path):
    bundle = load(path)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("path", BUNDLE_FILES, ids=lambda p: p.name)
def test_a_demo_bundle_is_a_transaction_that_puts_each_resource_at_its_stable_id(path):
    bundle = load(path)
    assert bundle["type"] == "transaction"
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert len(patients) == 1 and patients[0]["id"].startswith("demo-")
    ids = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        ref = f"{resource['resourceType']}/{resource['id']}"
        assert FHIR_ID.match(resource["id"]), ref
        assert entry["request"] == {"method": "PUT", "url": ref}
        assert ref not in ids
        ids.add(ref)


@pytest.mark.parametrize("path", BUNDLE_FILES, ids=lambda p: p.name)
def test_every_reference_in_a_demo_bundle_points_inside_the_bundle(path):
    # Servers that enforce referential integrity on write (HAPI) accept each PUT.
    bundle = load(path)
    inside = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    for entry in bundle["entry"]:
        for ref in references(entry["resource"]):
            assert ref in inside, (entry["resource"]["id"], ref)


def test_the_demo_data_uses_the_real_code_systems_of_the_clinical_reference():
    text = "".join(p.read_text(encoding="utf-8") for p in BUNDLE_FILES)
    for marker in (
        '"85337-4"', '"85329-1"', '"16112-5"', '"40556-3"', '"85339-0"', '"85319-2"', '"48676-1"',
        '"85318-4"', '"69548-6"', '"48018-6"', '"48002-0"', '"53037-8"', '"LA6683-2"', '"LA6684-0"',
        '"HGNC:3467"', '"HGNC:8975"', '"HGNC:391"', '"HGNC:1101"', '"161712005"', '"4548-4"',
        '"233703007"', '"44054006"', '"94222008"', '"C78.7"', '"1923053"', '"200064"', '"1601374"',
        '"visceral-crisis"', '"effectivePeriod"',
    ):
        assert marker in text, marker
    # one patient's medications are text only
    text_only = [
        r for r in demo_patients()["demo-akt1-text-meds"]["resources"]
        if r["resourceType"] == "MedicationStatement"
    ]
    assert text_only and all("coding" not in r["medicationCodeableConcept"] for r in text_only)


def test_the_index_names_each_patient_with_a_description_and_known_topics():
    for entry in demo_index():
        bundle = load(DEMO_DIR / entry["file"])
        patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        assert entry["patient"] == patient["id"]
        assert entry["title"] and len(entry["description"]) > 40
        topics = set(entry["expected_topics"]) | set(entry["forbidden_topics"]) | set(entry.get("expected_warnings", []))
        assert topics <= set(ALL_TOPICS), topics - set(ALL_TOPICS)
        assert "patient-summary" in entry["expected_topics"]
        assert not set(entry["expected_topics"]) & set(entry["forbidden_topics"])
        assert set(entry.get("expected_warnings", [])) <= set(entry["expected_topics"])


def test_together_the_demo_patients_exercise_every_pathway_branch_and_order_rule():
    expected = {t for e in demo_index() for t in e["expected_topics"]}
    # vepdegestrant is informational only (label and RxCUI unverified): no card.
    assert set(REGIMEN_TOPICS) - {"vepdegestrant"} <= expected
    assert set(TESTING_TOPICS) <= expected
    order_topics = {t for o in demo_orders() for t in o["expected_topics"]}
    assert {t for t in OTHER_TOPICS if t.startswith("order-")} <= order_topics


def test_every_draft_order_is_a_draft_medication_request_for_a_demo_patient():
    patients = demo_patients()
    for order in demo_orders():
        assert order["patient"] in patients
        for entry in order["bundle"]["entry"]:
            resource = entry["resource"]
            assert resource["resourceType"] == "MedicationRequest" and resource["status"] == "draft"
            assert resource["subject"]["reference"] == f"Patient/{order['patient']}"


def load_generator():
    spec = importlib.util.spec_from_file_location("demo_generate", REQUESTS_DIR.parent / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_demo_files_are_what_generate_py_writes(tmp_path):
    generate = load_generator()
    for path in generate.write_all(tmp_path):
        committed = REQUESTS_DIR.parent / path.relative_to(tmp_path)
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{committed} is stale: run .venv/bin/python service/demo/generate.py"
        )


@pytest.fixture
def demo_client(tmp_path):
    app = create_app({"auth": "off", "demo": True, "database_url": f"sqlite:///{tmp_path}/fb.sqlite"})
    return app.test_client()


SERVICES = {"patient-view": "mbc-treatment-options", "order-select": "mbc-order-select", "order-sign": "mbc-order-sign"}


@pytest.mark.parametrize("name", ["patient-view", "order-select", "order-sign"])
def test_demo_mode_answers_the_request_files_without_prefetch_or_fhir_server(demo_client, name):
    body = load(REQUESTS_DIR / f"{name}.json")
    assert "prefetch" not in body and "fhirServer" not in body
    response = demo_client.post(f"/cds-services/{SERVICES[name]}", json=body)
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    assert response_problems(response.get_json(), body["context"]["patientId"]) == []
    if name == "patient-view":
        assert cards[0]["source"]["topic"]["code"] == "patient-summary"


def test_the_readme_curl_posts_the_patient_view_request_file_for_the_flagship_patient():
    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    assert "-d @service/demo/requests/patient-view.json" in readme
    body = load(REQUESTS_DIR / "patient-view.json")
    assert body["context"]["patientId"] in demo_patients()


def test_without_demo_mode_the_same_request_is_a_412(tmp_path):
    app = create_app({"auth": "off", "database_url": f"sqlite:///{tmp_path}/fb.sqlite"})
    response = app.test_client().post("/cds-services/mbc-treatment-options",
                                      json=load(REQUESTS_DIR / "patient-view.json"))
    assert response.status_code == 412
