"""Conformance: an independent implementation of the CDS Hooks models (healthchain,
PyPI) accepts our discovery document, our hook responses and our example requests.

healthchain pins older fhir.resources/fastapi than sekmet-fhir needs, so it runs in a
venv of its own (`.venv-conformance`, built on first use) and validates JSON files
this test writes.

Two deviations of healthchain 0.16.1 from CDS Hooks 2.0.1 are bridged in the copies
it validates, nothing else: it declares `Suggestion.isRecommended` and
`Link.autoLaunchable` required, while the spec makes both optional (we omit them
when they have no value, as the spec's no-empty-fields rule asks).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
import yaml

from service.app import create_app
from tests.conftest import REAL_PATIENT_FILE, REPO_DIR, load_json

HEALTHCHAIN = "healthchain==0.16.1"
VENV = REPO_DIR / ".venv-conformance"
DEMO = REPO_DIR / "service" / "demo"

VALIDATOR = r'''
import json, sys
from healthchain.models.requests.cdsrequest import CDSRequest
from healthchain.models.responses.cdsdiscovery import CDSServiceInformation
from healthchain.models.responses.cdsresponse import CDSResponse

MODELS = {"discovery": CDSServiceInformation, "response": CDSResponse, "request": CDSRequest}

def bridge(card):
    for s in card.get("suggestions", []):
        s.setdefault("isRecommended", False)
    for link in card.get("links", []):
        link.setdefault("autoLaunchable", False)

problems = []
documents = json.load(open(sys.argv[1]))
for name, kind, body in documents:
    if kind == "response":
        for card in body.get("cards", []):
            bridge(card)
    try:
        MODELS[kind].model_validate(body)
    except Exception as exc:
        problems.append(f"{name}: {exc}")
print(json.dumps({"checked": len(documents), "problems": problems}))
'''


@pytest.fixture(scope="session")
def healthchain_python() -> str:
    python = VENV / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import healthchain"], capture_output=True) if python.exists() else None
    if probe is None or probe.returncode != 0:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", HEALTHCHAIN],
                       check=True, timeout=600)
    return str(python)


@pytest.fixture
def client(tmp_path):
    app = create_app({"auth": "off", "demo": True, "database_url": f"sqlite:///{tmp_path}/fb.sqlite"})
    return app.test_client()


def patient_view(client, patient_id: str, prefetch: dict | None = None) -> dict:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/conformance", "patientId": patient_id}}
    if prefetch is not None:
        body["prefetch"] = prefetch
    response = client.post("/cds-services/mbc-treatment-options", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def real_patient_prefetch(discovery: dict) -> dict:
    bundle = load_json(REAL_PATIENT_FILE)
    resources = [e["resource"] for e in bundle["entry"]]
    keys = discovery["services"][0]["prefetch"]
    prefetch = {key: None for key in keys}
    prefetch["patient"] = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": r} for r in resources if r["resourceType"] == "Condition"]}
    prefetch["clinicalFindings"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": r} for r in resources if r["resourceType"] == "Observation"]}
    prefetch["medicationStatements"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": r} for r in resources if r["resourceType"] == "MedicationStatement"]}
    return prefetch


def collect_documents(client) -> list:
    discovery = client.get("/cds-services").get_json()
    documents = [("discovery", "discovery", discovery)]
    patients = yaml.safe_load((DEMO / "patients" / "index.yaml").read_text())
    for entry in patients["patients"]:
        pid = entry["patient"]
        documents.append((f"patient-view {pid}", "response", patient_view(client, pid)))
    documents.append(("patient-view real mCODE patient", "response",
                      patient_view(client, "mCODETrialMatchingPatientExample01", real_patient_prefetch(discovery))))
    orders = yaml.safe_load((DEMO / "orders" / "index.yaml").read_text())
    for entry in orders["orders"]:
        draft = json.loads((DEMO / "orders" / entry["file"]).read_text())
        selections = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in draft["entry"]]
        for hook, service in (("order-sign", "mbc-order-sign"), ("order-select", "mbc-order-select")):
            context = {"userId": "Practitioner/conformance", "patientId": entry["patient"], "draftOrders": draft}
            if hook == "order-select":
                context["selections"] = selections
            response = client.post(f"/cds-services/{service}", json={
                "hook": hook, "hookInstance": str(uuid.uuid4()), "context": context})
            assert response.status_code == 200, response.get_json()
            documents.append((f"{hook} {entry['file']}", "response", response.get_json()))
    for path in sorted((DEMO / "requests").glob("*.json")):
        documents.append((f"request {path.name}", "request", json.loads(path.read_text())))
    return documents


def test_healthchain_accepts_our_discovery_responses_and_example_requests(client, healthchain_python, tmp_path):
    documents = collect_documents(client)
    cards = sum(len(body.get("cards", [])) for _, kind, body in documents if kind == "response")
    assert cards > 50  # the demo patients and orders really produced cards to check
    path = tmp_path / "documents.json"
    path.write_text(json.dumps(documents))
    result = subprocess.run([healthchain_python, "-c", VALIDATOR, str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["checked"] == len(documents)
    assert report["problems"] == []
