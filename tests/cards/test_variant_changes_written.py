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
