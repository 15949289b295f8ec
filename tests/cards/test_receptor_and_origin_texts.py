"""Receptor and genomic-origin results written as text, read through the whole pipeline
(FHIR resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, not_offered_line, ordered_tests, regimen_topics, topics
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, after_ai_cdk46i, run


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
    assert ": Germline BRCA1/2 tested: no pathogenic variant; tumour BRCA variant not found in germline " \
           "testing (somatic, not labelled for PARP inhibitors)" in not_offered_line(detail, "Talazoparib")


@pytest.mark.parametrize("words", ["BRCA2 pathogenic variant detected in tumor; germline testing negative",
                                   "Germline BRCA1/2 negative; tumour NGS: BRCA2 c.5946delT pathogenic"])
def test_a_tumour_brca2_variant_beside_a_germline_negative_is_not_read_as_germline_and_offers_no_parp_inhibitor(words):
    _, cards = _brca_text("p-brca-tumour", words)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "test-germline-brca" not in ordered_tests(cards)
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA2 not detected (germline, 2025-06-01)" in detail
    assert "tumour BRCA variant not found in germline testing" in detail


def test_a_germline_brca_text_written_as_not_detected_is_the_germline_test_done():
    _, cards = _brca_text("p-brca-nd", "germline BRCA1/2 not detected")
    assert "test-germline-brca" not in ordered_tests(cards)
    assert "BRCA1 not detected (germline, 2025-06-01)" in card(cards, "patient-summary")["detail"]


def test_a_brca_text_with_a_somatic_variant_alone_still_asks_for_the_germline_test():
    _, cards = _brca_text("p-brca-som", "somatic BRCA2 detected")
    assert "test-germline-brca" in ordered_tests(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


# --- a receptor-status diagnosis (ICD-10-CM Z17.x) against the pathology result -------------

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def _er_positive_with_z17_1(pid: str, z17_on: str | None):
    from tests.cards.fhir_builder import _cc
    p = after_ai_cdk46i(pid)  # ER positive (IHC) 2024-01-15
    p._condition(_cc(ICD10, "Z17.1", "Estrogen receptor negative status [ER-]"), z17_on, "z17")
    return run(p)


@pytest.mark.parametrize("z17_on, when", [("2025-03-01", "2025-03-01, later"), ("2024-01-15", "2024-01-15, same day"),
                                          (None, "undated")])
def test_a_newer_er_negative_diagnosis_against_an_er_positive_result_is_named_with_both_dates(z17_on, when):
    _, cards = _er_positive_with_z17_1("p-z17-new", z17_on)
    detail = card(cards, "patient-summary")["detail"]
    assert ("ER: the pathology result is read (positive, 2024-01-15); the diagnosis Z17.1 'Estrogen receptor "
            f"negative status [ER-]' ({when}) says negative. The diagnosis may record a receptor change on a "
            "re-biopsy") in detail
    assert "fulvestrant-cdk46i" in topics(cards)  # the pathology result still decides (CR A.1)


def test_an_older_er_negative_diagnosis_before_an_er_positive_result_is_superseded_and_not_named():
    _, cards = _er_positive_with_z17_1("p-z17-old", "2023-06-01")
    assert "the diagnosis Z17.1" not in card(cards, "patient-summary")["detail"]


# --- a receptor result given only as a number ---------------------------------------------------

def _er_as_number(pid: str, code: str, quantity: dict):
    from tests.cards.fhir_builder import FhirPatient, _cc
    p = FhirPatient(pid).primary("2016-03-01").metastasis("bone", "2024-01-15")
    p.pr("negative", "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    p._obs("er", _cc("http://loinc.org", code), "2024-01-15", valueQuantity=quantity)
    return run(p, FIRST_LINE_AS_OF)


def test_an_er_status_given_only_as_a_number_without_a_unit_is_named_not_read_as_a_percent():
    _, cards = _er_as_number("p-er-bare", "85337-4", {"value": 5})
    detail = card(cards, "patient-summary")["detail"]
    assert ("ER given only as the number 5 (no unit, 2024-01-15): not read (without a % unit it may be an Allred "
            "score, 0-8, an H-score, 0-300, or a % of stained cells)") in detail
    assert not regimen_topics(cards)


def test_an_er_percent_code_with_a_score_unit_is_not_read_as_that_percent():
    # 85329-1 is the % of cells, but the unit says a score: an Allred 3 is not 3 % (ER-low)
    _, cards = _er_as_number("p-er-score", "85329-1", {"value": 3, "unit": "score"})
    detail = card(cards, "patient-summary")["detail"]
    assert "ER given only as the number 3 (unit score, 2024-01-15): not read" in detail
    assert "ER: positive, 3 % cells" not in detail
    assert not regimen_topics(cards)


def test_an_er_percent_code_with_a_percent_unit_is_read_as_the_percent():
    _, cards = _er_as_number("p-er-pct", "85329-1", {"value": 3, "unit": "%"})
    assert "ER: positive, 3 % cells, ER-low (1-10 %)" in card(cards, "patient-summary")["detail"]


# --- ER and PR numbers mixed in one result's words --------------------------------------------

def _pr_words(pid: str, words: str, er: str = "negative"):
    from tests.cards.fhir_builder import FhirPatient, _cc
    p = FhirPatient(pid).primary("2016-03-01").metastasis("bone", "2024-01-15").er(er, "2024-01-15")
    p.her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    p._obs("pr", _cc("http://loinc.org", "85339-0"), "2024-01-15", valueString=words)
    return run(p, FIRST_LINE_AS_OF)


def test_a_pr_result_with_an_h_score_and_another_pr_number_beside_it_is_named_not_read_as_pr_positive():
    # whose is the 150 and is "PR 20" a % or an H-score? With ER negative, PR decides HR status
    _, cards = _pr_words("p-pr-mixed", "H-score: 150 (PR 20)")
    detail = card(cards, "patient-summary")["detail"]
    assert ("PR (2024-01-15): 'h-score: 150 (pr 20)' gives an H-score of 150 and PR 20 beside it (a % or a score, "
            "and whose is which?); not read as positive or negative") in detail
    assert not regimen_topics(cards)


def test_a_pr_result_naming_the_er_and_pr_percent_reads_the_pr_percent():
    _, cards = _pr_words("p-pr-pct", "ER 90% PR 20%")
    assert "PR: positive, 20 % cells" in card(cards, "patient-summary")["detail"]


def test_an_h_score_labelled_after_its_value_is_not_named_as_the_other_markers_score():
    # "H-score 150 (ER), 20 (PR)": the 150 is ER's; the PR gap must not say PR 150
    _, cards = _pr_words("p-pr-post", "H-score 150 (ER), 20 (PR)")
    detail = card(cards, "patient-summary")["detail"]
    assert "PR given only as an H-score 150" not in detail
    assert "PR given only as an H-score in 'h-score 150 (er), 20 (pr)' (2024-01-15): not read" in detail


def test_a_newer_her2_positive_diagnosis_against_a_her2_low_result_is_named_with_both_dates():
    from tests.cards.fhir_builder import _cc
    p = after_ai_cdk46i("p-z17-her2")  # HER2 IHC 1+ 2024-01-15
    p._condition(_cc(ICD10, "Z17.31"), "2025-03-01", "z17")
    _, cards = run(p)
    assert ("HER2: the pathology result is read (negative, low, 2024-01-15); the diagnosis Z17.31 (2025-03-01, "
            "later) says positive") in card(cards, "patient-summary")["detail"]


def test_a_pr_staining_intensity_beside_an_allred_total_is_no_second_number_and_the_total_is_read():
    # "PR 3+" is the intensity, not a % or a score of its own: Allred 8 reads PR positive
    _, cards = _pr_words("p-pr-intensity", "PR 3+, Allred 8")
    assert "PR: positive" in card(cards, "patient-summary")["detail"]
    assert regimen_topics(cards)


@pytest.mark.parametrize("words", ["PR 1E2: H-score 180", "PgR 636: H-score 200", "PR 2-3+, H-score 200"])
def test_an_antibody_clone_or_an_intensity_range_beside_an_h_score_is_no_second_number_and_the_score_is_read(words):
    # "1E2" / "PgR 636" name the antibody clone, "2-3+" the staining intensity: none is a % or a score
    _, cards = _pr_words("p-pr-clone", words)
    detail = card(cards, "patient-summary")["detail"]
    assert "PR: positive" in detail
    assert "beside it (a % or a score" not in detail
    assert regimen_topics(cards)
def test_a_significance_after_a_comma_stays_with_its_germline_variant_and_offers_the_parp_inhibitor():
    _, cards = _brca_text("p-brca-sig", "germline BRCA2 c.5946delT detected, pathogenic; somatic BRCA1 not detected")
    assert "BRCA2 c.5946delT detected (germline, pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)


@pytest.mark.parametrize("quantity", [
    {"value": 80, "unit": "per cent", "system": "http://unitsofmeasure.org", "code": "%"},
    {"value": 80, "unit": "positive cells", "system": "http://unitsofmeasure.org", "code": "%"},
    {"value": 80, "unit": "per cent"},
])
def test_an_er_percent_whose_ucum_code_is_percent_or_whose_unit_says_per_cent_is_read_as_the_percent(quantity):
    # FHIR R4 Quantity.code "%" (UCUM) is the computable unit; the display unit "positive cells" or
    # "per cent" is no score: the result was dropped and the patient lost her regimen cards
    _, cards = _er_as_number("p-er-ucum", "85329-1", quantity)
    assert "ER: positive, 80 % cells" in card(cards, "patient-summary")["detail"]
    assert regimen_topics(cards)


def test_an_er_percent_code_with_a_ucum_score_unit_is_still_not_read_as_a_percent():
    _, cards = _er_as_number("p-er-ucum-score", "85329-1",
                             {"value": 3, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"})
    assert "ER given only as the number 3 (unit {score}, 2024-01-15): not read" in card(cards, "patient-summary")["detail"]
    assert not regimen_topics(cards)


@pytest.mark.parametrize("test_name, words", [
    ("Germline BRCA1/2 test", "Germline: negative. Somatic: BRCA2 c.5946delT pathogenic"),
    ("BRCA1/2 germline panel", "germline negative; tumor BRCA2 c.5946delT pathogenic variant detected"),
])
def test_a_somatic_brca2_variant_written_under_a_germline_test_name_is_not_read_as_germline_and_offers_no_parp_inhibitor(
        test_name, words):
    # the test's name says what was asked; the clauses say whose each result is (CR C.3 row 7:
    # PARP inhibitors need a germline variant): talazoparib was offered on the somatic BRCA2
    p = after_ai_cdk46i("p-brca-named")
    p._obs("brca", {"text": test_name}, "2025-06-01", valueString=words)
    _, cards = run(p)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA2 not detected (germline, 2025-06-01)" in detail
    assert "BRCA2 c.5946delT detected (germline" not in detail
    assert "test-germline-brca" not in ordered_tests(cards)


@pytest.mark.parametrize("words", ["BRCA2 c.5946delT pathogenic variant detected; germline origin not identified",
                                   "BRCA2 c.5946delT pathogenic variant; germline variant not detected"])
def test_a_brca2_variant_whose_germline_origin_is_not_identified_is_not_read_as_germline_and_offers_no_parp_inhibitor(words):
    # beside a variant detected, "germline ... not identified" says the origin is NOT germline (or
    # unknown): read as a germline pathogenic variant, talazoparib was offered (CR C.3 row 7)
    _, cards = _brca_text("p-brca-not-germline", words)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "BRCA2 c.5946delT detected (germline" not in card(cards, "patient-summary")["detail"]
    assert "test-germline-brca" in ordered_tests(cards)
