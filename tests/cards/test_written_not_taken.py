"""A drug an active record's text writes as not taken ("Off letrozole", "Not on metformin"): the
anticancer one is read as a written stop (gap therapy-stopped-in-text; written as not taken and
nothing more, "No letrozole", as not given), a glucose-lowering one as no
diabetes treatment, and a drug taken beside it is still taken (rt38 read-through of mk4)."""

import datetime as dt

import pytest

from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import card, view
from tests.cards.invariants import check_invariants

AS_OF = dt.date(2025, 7, 1)


def _cards_with_statement(pid: str, text: str, after_line_1: bool = False) -> list[dict]:
    p = hr_positive_mbc(pid, primary="2024-01-10")
    if after_line_1:
        p.regimen(("letrozole", "palbociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
    p.add({"resourceType": "MedicationStatement", "id": f"{pid}-ms", "status": "active",
           "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": {"text": text},
           "effectivePeriod": {"start": "2025-01-01"}})
    state = p.state(AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return cards


@pytest.mark.parametrize("text", ["Off letrozole", "No longer taking anastrozole", "No letrozole since 2024",
                                  "Letrozole - not taking", "Stopped letrozole"])
def test_an_active_aromatase_inhibitor_record_written_as_not_taken_is_no_current_line_and_its_end_is_asked(text):
    # was: "HR+/HER2-low MBC, on line 1": the drug the text says is not taken read as given today
    cards = _cards_with_statement("nt-ai", text)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert ("their text writes the drug as stopped, not taken ('No letrozole') or as past use ('history of', "
            "'previous'), and no end before today is recorded: MedicationStatement/nt-ai-ms") in summary["detail"]
    assert f"status 'active': '{text}'" in summary["detail"]


@pytest.mark.parametrize("text", ["No letrozole", "Not on letrozole", "Never on letrozole", "No letrozole 2.5 mg",
                                  "No letrozole or palbociclib"])
def test_an_active_record_writing_its_only_drugs_as_not_taken_and_nothing_of_their_use_is_no_line(text):
    # was "HR+/HER2-low MBC, after 1 line(s)" (a line given, its end asked: therapy-stopped-in-text):
    # nothing says the drug was ever given; the words are status 'not-taken' (FHIR R4
    # MedicationStatement.status; local_codes.yaml drug_mentions not_taken_bare_after)
    summary = card(_cards_with_statement("nt-never", text), "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, first line")
    assert "- Metastatic lines: 0" in summary["detail"]
    assert f'its text "{text}" writes ' in summary["detail"] and "as not taken and nothing of its use, so it is not " \
        "therapy given" in summary["detail"]


def test_a_record_writing_a_drug_as_not_taken_beside_its_own_record_given_leaves_that_line():
    # "something else says it was given": the letrozole record of line 1 still counts it; the "No
    # letrozole" record after its progression was read as a line 2 of letrozole ("after 2 line(s)")
    p = hr_positive_mbc("nt-other", primary="2024-01-10").med("letrozole", "2024-02-01", "2025-05-20") \
        .progression("2025-05-15")
    p.add({"resourceType": "MedicationStatement", "id": "nt-other-ms", "status": "active",
           "subject": {"reference": "Patient/nt-other"}, "medicationCodeableConcept": {"text": "No letrozole"},
           "effectivePeriod": {"start": "2025-06-01"}})
    state = p.state(AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, after 1 line")


@pytest.mark.parametrize("text", ["Letrozole held", "Off letrozole for 2 weeks", "Letrozole 2.5 mg daily"])
def test_a_held_or_paused_aromatase_inhibitor_is_still_the_current_line(text):
    cards = _cards_with_statement("nt-held", text)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1")
    assert "writes the drug as stopped" not in summary["detail"]


@pytest.mark.parametrize("text", ["Not on insulin, metformin 1 g", "Metformin, insulin not required"])
def test_metformin_listed_beside_an_insulin_not_taken_is_still_treated_diabetes_on_the_everolimus_card(text):
    # was: no diabetes caution at all: "not on" / "not required" read as covering metformin too
    c = card(_cards_with_statement("nt-gl", text, after_line_1=True), "everolimus-exemestane")
    assert "diabetes/hyperglycaemia" in c["summary"]
    assert "on glucose-lowering treatment (" in c["detail"]  # (the insulin named too, as before mk4)


@pytest.mark.parametrize("text", ["Letrozole - patient not taking regularly", "Letrozole (not taking as prescribed)",
                                  "Letrozole, not taken with food", "Letrozole; not taking on weekends"])
def test_an_aromatase_inhibitor_written_with_a_lapse_in_adherence_or_timing_is_still_the_current_line(text):
    cards = _cards_with_statement("nt-adh", text)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1")


@pytest.mark.parametrize("text", ["Metformin - not taking regularly", "Metformin (not taking as prescribed)",
                                  "Insulin - not using every day"])
def test_a_glucose_lowering_drug_written_with_a_lapse_in_adherence_is_still_treated_diabetes_on_the_everolimus_card(text):
    # was (mk4): no diabetes caution, the drug read as not taken (drugs.yaml not_taken_closing)
    c = card(_cards_with_statement("nt-gl-adh", text, after_line_1=True), "everolimus-exemestane")
    assert "diabetes/hyperglycaemia" in c["summary"]
    assert "on glucose-lowering treatment (" in c["detail"]
