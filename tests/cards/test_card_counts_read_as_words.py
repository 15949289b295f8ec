"""Counts on the cards read as words: "after 1 line", "2 data gaps", "0 chemotherapy lines",
never the form-letter "line(s)" / "gap(s)" an oncologist has to decode (DESIGN.md: cards are
read by a clinician at the point of care)."""

import json

from tests.cards.fhir_builder import FhirPatient
from tests.cards.helpers import card
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _all_text(cards: list[dict]) -> str:
    return json.dumps(cards)


def test_after_one_metastatic_line_the_summary_says_after_1_line_and_no_card_says_line_s():
    _, cards = run(after_ai_cdk46i("plural-one"))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, after 1 line;")
    sg = next(x for x in card(cards, "patient-summary")["detail"].splitlines() if x.startswith("- Sacituzumab govitecan:"))
    assert sg.startswith("- Sacituzumab govitecan: 1 systemic line for metastatic disease, at least 3 needed (line 1: ")
    dato = next(x for x in card(cards, "patient-summary")["detail"].splitlines() if x.startswith("- Datopotamab deruxtecan:"))
    assert dato.startswith("- Datopotamab deruxtecan: 0 chemotherapy lines for metastatic disease, at least 1 needed")
    assert "(s)" not in _all_text(cards)


def test_after_two_metastatic_lines_the_summary_and_reasons_say_lines():
    p = after_ai_cdk46i("plural-two").med("fulvestrant", "2025-06-01", "2025-12-01").progression("2025-11-20")
    _, cards = run(p)
    assert ", after 2 lines;" in cards[0]["summary"]
    assert "2 endocrine-based lines for metastatic disease (line 1: " in card(cards, "trastuzumab-deruxtecan")["detail"]
    assert "(s)" not in _all_text(cards)


def test_a_her2_positive_summary_counts_its_data_gaps_as_words():
    p = FhirPatient("plural-hp").primary("2016-03-01").metastasis("bone", "2024-01-15").er("positive").pr("negative").her2("3+")
    _, cards = run(p)
    assert cards[0]["summary"] == "Outside the HR+/HER2- MBC pathway: HER2-positive; 0 data gaps"
    assert " other gaps not listed: they bear only on the choice" in cards[0]["detail"]
    assert "(s)" not in _all_text(cards)
