"""The demo patients (service/demo/patients, one per pathway branch) through the
whole pipeline: their expected, forbidden and warning topics from the demo index
hold for the cards this layer produces, and every card passes the contract."""

import json

import pytest
import yaml

from mappings.build import build_patient_state
from tests.cards.helpers import regimen_topics, topics, view
from tests.cards.invariants import check_invariants
from tests.conftest import REPO_DIR

DEMO_DIR = REPO_DIR / "service" / "demo" / "patients"
INDEX = yaml.safe_load((DEMO_DIR / "index.yaml").read_text())["patients"] if (DEMO_DIR / "index.yaml").exists() else []


@pytest.mark.parametrize("entry", INDEX, ids=[e["patient"] for e in INDEX])
def test_demo_patient_gets_its_expected_cards(entry):
    bundle = json.loads((DEMO_DIR / entry["file"]).read_text())
    state = build_patient_state([e["resource"] for e in bundle["entry"]], entry["patient"])
    cards = view(state)
    check_invariants(state, cards)
    got = topics(cards)
    assert set(entry["expected_topics"]) <= set(got), got
    assert not set(entry.get("forbidden_topics", [])) & set(got), got
    for topic in entry.get("expected_warnings", []):
        assert next(c for c in cards if c["source"]["topic"]["code"] == topic)["indicator"] == "warning", topic
    if entry.get("first_regimen"):
        assert regimen_topics(cards)[0] == entry["first_regimen"]


def test_the_demo_patients_cover_every_regimen_card_but_vepdegestrant_and_every_testing_card():
    from cards.topics import REGIMEN_TOPICS, TESTING_TOPICS

    seen = set()
    for entry in INDEX:
        bundle = json.loads((DEMO_DIR / entry["file"]).read_text())
        seen |= set(topics(view(build_patient_state([e["resource"] for e in bundle["entry"]], entry["patient"]))))
    missing = (set(REGIMEN_TOPICS) | set(TESTING_TOPICS)) - seen - {"vepdegestrant"}
    assert not missing, missing


def test_the_diabetic_demo_patients_summary_does_not_call_metformin_an_unplaced_therapy():
    entry = next(e for e in INDEX if e["patient"] == "demo-pik3ca-diabetes")
    bundle = json.loads((DEMO_DIR / entry["file"]).read_text())
    cards = view(build_patient_state([e["resource"] for e in bundle["entry"]], entry["patient"]))
    summary = next(c for c in cards if c["source"]["topic"]["code"] == "patient-summary")["detail"]
    assert "metformin" in summary.lower()  # read as diabetes treatment
    gaps = summary.split("**Data gaps that limit the advice**")[1]
    assert "could not be placed" not in gaps and "medrx-1" not in gaps


def test_a_patient_with_no_her2_record_is_told_no_her2_result_is_recorded_not_that_one_is_unreadable():
    entry = next(e for e in INDEX if e["file"] == "receptor-status-unknown.json")
    bundle = json.loads((DEMO_DIR / entry["file"]).read_text())
    state = build_patient_state([e["resource"] for e in bundle["entry"]], entry["patient"])
    gap = next(g for g in state.gaps if g.code == "her2-unknown")
    assert gap.message.startswith("No HER2 result recorded"), gap.message
    assert "without an IHC score" not in gap.message
