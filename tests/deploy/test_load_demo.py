"""`mbc-cds load-demo` against a real FHIR server (sekmet-fhir on 127.0.0.1),
and its error messages."""

from __future__ import annotations

import io
import json
import re

import pytest
import requests
import responses

from service.cli import main
from service.demo import demo_patients
from service.loader import DemoLoader, LoadError, load_demo, ordered_resources

from tests.servers import free_port

pytestmark = pytest.mark.integration


def test_load_demo_puts_every_demo_resource_and_each_reads_back_unchanged(loaded_demo):
    base_url, result, _ = loaded_demo
    patients = demo_patients()
    assert [p.patient_id for p in result.patients] == list(patients)
    assert result.resources == sum(len(p["resources"]) for p in patients.values())
    for patient in patients.values():
        for resource in patient["resources"]:
            response = requests.get(f"{base_url}/{resource['resourceType']}/{resource['id']}", timeout=10)
            assert response.status_code == 200, (resource["id"], response.text[:200])
            stored = response.json()
            assert stored["id"] == resource["id"]
            if "code" in resource:
                assert stored["code"] == resource["code"]


def test_the_loaded_patients_are_searchable_the_way_the_service_queries_them(loaded_demo):
    base_url = loaded_demo[0]
    response = requests.get(
        f"{base_url}/Observation",
        params={"patient": "demo-esr1-post-cdk46i", "code": "http://loinc.org|69548-6"}, timeout=10,
    )
    entries = [e for e in response.json().get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]
    genes = sorted(
        c["valueCodeableConcept"]["coding"][0]["display"]
        for e in entries for c in e["resource"]["component"] if c["code"]["coding"][0]["code"] == "48018-6"
    )
    assert genes == ["BRCA1", "BRCA2", "ESR1", "PIK3CA"]


def test_the_cli_loads_the_demo_and_prints_each_patient_with_what_it_demonstrates(loaded_demo, capsys):
    base_url = loaded_demo[0]
    assert main(["load-demo", "--fhir-server", base_url]) == 0
    printed = capsys.readouterr().out
    for patient_id, patient in demo_patients().items():
        assert patient_id in printed
        assert patient["title"] in printed
    assert f"Loaded {len(demo_patients())} patients" in printed


def test_loading_twice_updates_the_resources_instead_of_duplicating_them(loaded_demo):
    base_url = loaded_demo[0]
    load_demo(base_url, out=io.StringIO())
    resources = demo_patients()["demo-later-line-after-chemo"]["resources"]
    statements = [r for r in resources if r["resourceType"] == "MedicationStatement"]
    response = requests.get(f"{base_url}/MedicationStatement",
                            params={"patient": "demo-later-line-after-chemo", "_count": 100}, timeout=10)
    found = [e for e in response.json().get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]
    assert len(found) == len(statements)


def test_a_resource_the_server_rejects_names_the_resource_and_the_servers_words(loaded_demo):
    base_url = loaded_demo[0]
    bad = {"demo-broken": {"title": "broken", "description": "", "resources": [
        {"resourceType": "Patient", "id": "demo-broken", "gender": "female"},
        {"resourceType": "Observation", "id": "demo-broken-obs",  # no status: required in R4
         "code": {"text": "x"}, "subject": {"reference": "Patient/demo-broken"}},
    ]}}
    with pytest.raises(LoadError) as caught:
        load_demo(base_url, patients=bad, out=io.StringIO())
    message = str(caught.value)
    assert "PUT Observation/demo-broken-obs failed with HTTP 4" in message
    assert "status" in message  # the server's OperationOutcome diagnostics


def test_an_unreachable_fhir_server_is_a_clear_error_and_a_nonzero_exit(capsys):
    url = f"http://127.0.0.1:{free_port()}/fhir"
    assert main(["load-demo", "--fhir-server", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the FHIR server at " + url)
    assert "--wait" in err


def test_something_that_is_not_a_fhir_base_url_is_refused_with_a_hint(capsys, loaded_demo):
    base_url = loaded_demo[0]
    assert main(["load-demo", "--fhir-server", "localhost:8081/fhir"]) == 1
    assert "must be an absolute http(s) URL" in capsys.readouterr().err
    assert main(["load-demo", "--fhir-server", base_url.removesuffix("/fhir") + "/nothing"]) == 1
    assert "is this the FHIR base URL" in capsys.readouterr().err


@responses.activate
def test_a_server_that_wants_a_token_says_to_pass_one_and_gets_it_as_a_bearer():
    base = "https://fhir.example.org/r4"
    responses.get(f"{base}/metadata", status=401, json={"resourceType": "OperationOutcome"})
    with pytest.raises(LoadError, match="pass a bearer token with --token"):
        load_demo(base, out=io.StringIO())

    responses.reset()
    responses.get(f"{base}/metadata", json={"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"})
    responses.put(url=re.compile(rf"{base}/.*"), status=201, json={})
    result = load_demo(base, "secret-token", out=io.StringIO())
    assert result.resources == sum(len(p["resources"]) for p in demo_patients().values())
    assert all(call.request.headers["Authorization"] == "Bearer secret-token" for call in responses.calls)
    assert all(call.request.headers["Content-Type"] == "application/fhir+json"
               for call in responses.calls if call.request.method == "PUT")


@responses.activate
def test_a_write_the_token_does_not_allow_is_reported_as_such():
    base = "https://fhir.example.org/r4"
    responses.get(f"{base}/metadata", json={"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"})
    responses.put(url=re.compile(rf"{base}/Patient/.*"), status=403, json={
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "scope patient/*.read does not allow write"}],
    })
    with pytest.raises(LoadError) as caught:
        load_demo(base, "read-only", out=io.StringIO())
    assert "refused (HTTP 403)" in str(caught.value)
    assert "scope patient/*.read does not allow write" in str(caught.value)


@responses.activate
def test_a_server_of_another_fhir_version_is_refused_before_any_write():
    base = "https://fhir.example.org/r5"
    responses.get(f"{base}/metadata", json={"resourceType": "CapabilityStatement", "fhirVersion": "5.0.0"})
    with pytest.raises(LoadError, match="FHIR 5.0.0; the demo patients are FHIR R4"):
        load_demo(base, out=io.StringIO())
    assert [c.request.method for c in responses.calls] == ["GET"]


@responses.activate
def test_with_wait_the_loader_keeps_trying_while_the_server_starts():
    base = "http://hapi:8080/fhir"
    responses.get(f"{base}/metadata", body=requests.ConnectionError("starting"))
    responses.get(f"{base}/metadata", status=503)
    responses.get(f"{base}/metadata", json={"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"})
    naps = []
    DemoLoader(base).wait_until_ready(wait=300, sleep=naps.append)
    assert len(naps) == 2


def test_resources_are_put_in_dependency_order():
    resources = demo_patients()["demo-esr1-post-cdk46i"]["resources"]
    order = [r["resourceType"] for r in ordered_resources(list(reversed(resources)))]
    assert order[0] == "Patient"
    assert max(i for i, t in enumerate(order) if t == "Specimen") < min(
        i for i, t in enumerate(order) if t == "Observation"
    )
    assert json.dumps(sorted(order)) == json.dumps(sorted(r["resourceType"] for r in resources))
