"""The p. / c. changes a result text writes, as the patient summary shows them (FHIR resources ->
mappings.build_patient_state -> cards)."""

import pytest

from tests.cards.helpers import card, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _esr1_text(pid: str, words: str):
    p = after_ai_cdk46i(pid)
    p._obs("esr1", {"text": "ESR1 test"}, "2025-06-01", valueString=words)
    return run(p)


@pytest.mark.parametrize("words, shown", [
    ("ESR1 p.D538G, p.Y537S detected", "ESR1 p.D538G, p.Y537S detected (significance not reported, 2025-06-01)"),
    # the same change written again in brackets is one change
    ("ESR1 p.D538G (p.Asp538Gly) detected", "ESR1 p.D538G detected (significance not reported, 2025-06-01)"),
])
def test_every_esr1_change_a_result_text_lists_is_shown_on_the_summary(words, shown):
    # the second change (p.Y537S) was dropped from the summary
    _, cards = _esr1_text("p-esr1-two", words)
    assert shown in card(cards, "patient-summary")["detail"]
    assert "elacestrant" in topics(cards)


@pytest.mark.parametrize("words", ["ESR1 p.D538G detected, p.Y537S not detected",
                                   "ESR1 p.D538G detected (p.Y537S not detected)",
                                   "ESR1 mutation detected: p.D538G; p.Y537S wild-type"])
def test_an_esr1_change_detected_beside_another_not_detected_is_shown_alone_and_offers_elacestrant(words):
    # the other change's negative won: "ESR1 not detected", elacestrant "No actionable ESR1 alteration"
    _, cards = _esr1_text("p-esr1-one-of-two", words)
    detail = card(cards, "patient-summary")["detail"]
    assert "ESR1 p.D538G detected (significance not reported, 2025-06-01)" in detail
    assert "p.Y537S detected" not in detail and "ESR1 not detected" not in detail
    assert "elacestrant" in topics(cards)


def test_esr1_with_its_only_named_change_not_detected_stays_not_detected():
    _, cards = _esr1_text("p-esr1-none", "ESR1 p.Y537S not detected")
    assert "ESR1 not detected (2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert "elacestrant" not in topics(cards)


def test_two_pik3ca_changes_detected_are_one_detected_gene_with_both_changes_shown():
    p = after_ai_cdk46i("p-pik3ca-two")
    p._obs("pik3ca", {"text": "PIK3CA test"}, "2025-06-01", valueString="PIK3CA p.H1047R, p.E545K detected")
    _, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert detail.count("PIK3CA p.H1047R, p.E545K detected (significance not reported, 2025-06-01)") == 1
    assert "PIK3CA p.E545K detected" not in detail
