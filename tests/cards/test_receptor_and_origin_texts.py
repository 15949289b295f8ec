"""Receptor and genomic-origin results written as text, read through the whole pipeline
(FHIR resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, ordered_tests, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _brca_text(pid: str, words: str):
    p = after_ai_cdk46i(pid)
    p._obs("brca", {"text": "BRCA1/2 test"}, "2025-06-01", valueString=words)
    return run(p)


@pytest.mark.parametrize("words", ["gBRCA negative, somatic BRCA2 detected",
                                   "Germline: negative. Somatic: BRCA2 c.5946delT pathogenic",
                                   "BRCA2 pathogenic variant detected (somatic); germline testing negative"])
def test_a_brca_text_with_a_germline_negative_and_a_somatic_brca2_asks_no_germline_test_and_offers_no_parp_inhibitor(words):
    _, cards = _brca_text("p-brca-both", words)
    assert "test-germline-brca" not in ordered_tests(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA2 not detected (germline, 2025-06-01)" in detail
    assert "detected (somatic" in detail
    assert "Talazoparib: Germline BRCA1/2 tested: no pathogenic variant; tumour BRCA variant not found in germline " \
           "testing (somatic, not labelled for PARP inhibitors)" in detail


def test_a_germline_brca_text_written_as_not_detected_is_the_germline_test_done():
    _, cards = _brca_text("p-brca-nd", "germline BRCA1/2 not detected")
    assert "test-germline-brca" not in ordered_tests(cards)
    assert "BRCA1 not detected (germline, 2025-06-01)" in card(cards, "patient-summary")["detail"]


def test_a_brca_text_with_a_somatic_variant_alone_still_asks_for_the_germline_test():
    _, cards = _brca_text("p-brca-som", "somatic BRCA2 detected")
    assert "test-germline-brca" in ordered_tests(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
