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


def _loinc_answers_in_lower_case(node) -> None:
    """LOINC answer codes written in lower case ("la6683-2"), their displays left off."""
    if isinstance(node, dict):
        if isinstance(node.get("code"), str) and node["code"].startswith("LA"):
            node["code"] = node["code"].lower()
            node.pop("display", None)
        for v in node.values():
            _loinc_answers_in_lower_case(v)
    elif isinstance(node, list):
        for v in node:
            _loinc_answers_in_lower_case(v)


def test_a_germline_brca2_variant_whose_loinc_answers_are_written_in_lower_case_offers_talazoparib():
    # LOINC codes are not case sensitive (FHIR R4 "Using LOINC with FHIR"): 'la9633-4' (Present),
    # 'la6683-2' (Germline), 'la6668-3' (Pathogenic) were no answers: 'BRCA2 result is
    # indeterminate or unreadable', talazoparib withheld and the germline test asked again
    p = after_ai_cdk46i("p-lower-la").variant("BRCA2", origin="germline", specimen="blood")
    _loinc_answers_in_lower_case(p.resources[-1])
    _, cards = run(p)
    assert "talazoparib" in topics(cards)
    assert "- BRCA2 detected (germline, blood, pathogenic, 2025-06-01)" in _summary(cards)
    assert "test-germline-brca" not in ordered_tests(cards)
