"""Genomic result texts about the genes a finding did not name, findings below the limit of
detection, and findings dated in their own words, read through the whole pipeline (FHIR
resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, ordered_tests, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _summary(cards) -> str:
    return card(cards, "patient-summary")["detail"]


def _result_text(pid: str, test: str, words: str, on: str = "2025-06-01"):
    p = after_ai_cdk46i(pid)
    p._obs("gx", {"text": test}, on, valueString=words)
    return run(p)


@pytest.mark.parametrize("words", [
    "PIK3CA H1047R detected. None of the other genes mutated",
    "PIK3CA H1047R detected; no other mutations detected",
    "PIK3CA H1047R detected; no other mutations",
])
def test_no_other_genes_mutated_after_a_pik3ca_finding_reads_esr1_not_detected_and_offers_no_oral_serd(words):
    # "None of the other genes mutated" was read as ESR1 mutated (elacestrant / imlunestrant
    # offered), "no other mutations" said nothing of ESR1 (ESR1 test asked after the panel tested
    # it); the genes a finding did not name found nothing (CR C.2 step 3)
    _, cards = _result_text("p-others", "PIK3CA/ESR1 mutation panel", words)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "- ESR1 not detected (2025-06-01)" in _summary(cards)
    assert "PIK3CA detected" in _summary(cards)


@pytest.mark.parametrize("words", [
    "ESR1 D538G detected at 0.1% (below limit of detection)",
    "ESR1 D538G detected at 0.1%, below LOD",
    "ESR1 p.D538G 0.05% (< LOD)",
])
def test_an_esr1_change_below_the_limit_of_detection_is_named_unclear_and_the_esr1_test_asked(words):
    # read as detected, elacestrant was offered on a call the assay cannot make (CR C.2 step 3)
    _, cards = _result_text("p-lod", "ESR1 mutation", words)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "test-esr1" in ordered_tests(cards)
    assert f"ESR1 result (2025-06-01) unclear: 'ESR1 mutation' reads '{words}'" in _summary(cards)
