"""BRCA results written as words (a classification alone, an origin per clause), read through the
whole pipeline (FHIR resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, ordered_tests, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _brca_text(pid: str, words: str, test_name: str = "BRCA1/2 test"):
    p = after_ai_cdk46i(pid)
    p._obs("brca", {"text": test_name}, "2025-06-01", valueString=words)
    return run(p)


@pytest.mark.parametrize("words, shown", [
    ("germline BRCA1 pathogenic; somatic BRCA2 not detected", "BRCA1 detected (germline, pathogenic, 2025-06-01)"),
    ("germline BRCA1 likely pathogenic; somatic BRCA2 not detected",
     "BRCA1 detected (germline, likely-pathogenic, 2025-06-01)"),
    ("Germline BRCA1: pathogenic", "BRCA1 detected (germline, pathogenic, 2025-06-01)"),
])
def test_a_germline_brca1_stated_pathogenic_without_the_word_detected_is_a_germline_variant_and_offers_the_parp_inhibitor(
        words, shown):
    # "pathogenic" stated of the gene was no finding: the germline BRCA1 variant was lost, the
    # germline test asked again and talazoparib not offered (CR C.2 step 1, B.7 gBRCAm)
    _, cards = _brca_text("p-brca-path", words)
    assert shown in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)
    assert "test-germline-brca" not in ordered_tests(cards)


@pytest.mark.parametrize("words", ["germline BRCA1 VUS; somatic BRCA2 not detected",
                                   "germline BRCA1 possibly pathogenic",
                                   "germline BRCA1 not pathogenic",
                                   "germline BRCA1 non-pathogenic",
                                   "germline BRCA1 pathogenic: no",
                                   "germline BRCA2 ? pathogenic"])
def test_a_brca_classification_that_is_a_vus_negated_or_hedged_is_no_pathogenic_variant_and_offers_no_parp_inhibitor(words):
    _, cards = _brca_text("p-brca-notpath", words)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "detected (germline" not in card(cards, "patient-summary")["detail"]


def test_a_tumour_brca2_stated_pathogenic_is_a_variant_of_unknown_origin_and_still_asks_for_the_germline_test():
    _, cards = _brca_text("p-brca-tumour-path", "tumor BRCA2 pathogenic")
    assert "BRCA2 detected (pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "test-germline-brca" in ordered_tests(cards)
