"""Smoke tests of the benchmark's patient generator (bench/patients.py): fast, no server."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench import patients
from service.hooks import load_services



@pytest.fixture(scope="module")
def realistic():
    return patients.make_patient(300)


@pytest.mark.parametrize("n", [30, 300, 3000])
def test_exactly_the_requested_number_of_resources(n):
    resources = patients.make_patient(n)
    assert len(resources) == n
    assert len({(r["resourceType"], r["id"]) for r in resources}) == n


def test_the_generator_is_deterministic():
    assert patients.request_bytes(300) == patients.request_bytes(300)
    assert patients.make_patient(300, seed=1) != patients.make_patient(300, seed=2)


def test_fewer_than_the_clinical_core_is_refused():
    with pytest.raises(ValueError):
        patients.make_patient(29)


def test_resources_look_like_fhir_r4_for_one_patient(realistic):
    pid = realistic[0]["id"]
    assert realistic[0]["resourceType"] == "Patient"
    for r in realistic[1:]:
        assert r["resourceType"] in {"Condition", "Observation", "MedicationStatement", "MedicationRequest",
                                     "MedicationAdministration", "Procedure"}
        assert isinstance(r["id"], str) and 1 <= len(r["id"]) <= 64
        assert r["subject"] == {"reference": f"Patient/{pid}"}
    counts = Counter(r["resourceType"] for r in realistic)
    assert counts["Observation"] > counts["MedicationRequest"] > counts["MedicationStatement"] > 1


def test_the_clinical_core_uses_the_reference_codes(realistic):
    def codes(r, field="code"):
        cc = r.get(field) or {}
        return {c["code"] for c in cc.get("coding", [])}

    all_codes = set().union(*(codes(r) for r in realistic))
    assert {"94222008", "94381002", "353431000119107", "44054006"} <= all_codes  # bone, liver, primary, T2DM
    assert {"85337-4", "85339-0", "85319-2", "69548-6", "4548-4", "1558-6"} <= all_codes
    genes = {
        comp["valueCodeableConcept"]["coding"][0]["code"]
        for r in realistic if "69548-6" in codes(r)
        for comp in r["component"] if "48018-6" in codes(comp)
    }
    assert genes == {"HGNC:3467", "HGNC:8975"}  # ESR1, PIK3CA
    drugs = set().union(*(codes(r, "medicationCodeableConcept") for r in realistic))
    assert {"72965", "1601374", "282357"} <= drugs  # letrozole, palbociclib, fulvestrant


def test_request_has_every_prefetch_key_and_the_expected_size():
    body = json.loads(patients.request_bytes(300))
    keys = set(load_services()["mbc-treatment-options"].prefetch)
    assert set(body["prefetch"]) == keys
    assert body["prefetch"]["patient"]["resourceType"] == "Patient"
    total = sum(
        len(v["entry"]) for k, v in body["prefetch"].items() if v and v.get("resourceType") == "Bundle"
    )
    assert total + 1 == 300
    size_kib = len(patients.request_bytes(300)) / 1024
    assert 170 <= size_kib <= 230, size_kib  # the DESIGN budget's "realistic patient" is ~185 KiB


def test_without_prefetch_the_request_names_the_fhir_server():
    resources = patients.make_patient(30)
    body = patients.hook_request(resources, resources[0]["id"], prefetch=False,
                                 fhir_server="http://127.0.0.1:9/fhir")
    assert "prefetch" not in body and body["fhirServer"] == "http://127.0.0.1:9/fhir"
