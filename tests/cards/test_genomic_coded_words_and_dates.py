"""An ESR1 answer coded with its own system whose words contradict the code, read through the whole
pipeline (FHIR resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, ordered_tests, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run

_V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _summary(cards) -> str:
    return card(cards, "patient-summary")["detail"]


def _esr1(pid: str, coding: dict, as_interpretation: bool, text: str | None = None):
    p = after_ai_cdk46i(pid)
    answer = {"coding": [coding]} | ({"text": text} if text else {})
    value = {"interpretation": [answer]} if as_interpretation else {"valueCodeableConcept": answer}
    p._obs("gx", {"coding": [{"system": "http://loinc.org", "code": "48018-6"}], "text": "ESR1 mutation"},
           "2025-06-01", **value)
    return run(p)


@pytest.mark.parametrize("as_interpretation", [True, False])
@pytest.mark.parametrize("display", ["Not done", "Test not performed"])
def test_the_hl7_nd_code_under_its_own_system_displayed_not_done_is_no_esr1_negative_and_the_test_is_asked(
        display, as_interpretation):
    # 'ND' under HL7 v3-ObservationInterpretation displayed "Not done" was read 'ESR1 not detected':
    # the oral SERDs refused and no ESR1 test asked on a test not done (CR C.2 step 3). The code and
    # its words disagree (FHIR R4 Coding.display): unclear, as a code with no system is
    _, cards = _esr1("p-v3-nd-not-done", {"system": _V3_INTERPRETATION, "code": "ND", "display": display},
                     as_interpretation)
    detail = _summary(cards)
    assert "ESR1 not detected" not in detail
    assert (f"ESR1 result (2025-06-01) unclear: its answer code 'ND' ({_V3_INTERPRETATION}) and its words "
            f"'{display}' disagree") in detail
    assert "test-esr1" in ordered_tests(cards)


@pytest.mark.parametrize("as_interpretation", [True, False])
@pytest.mark.parametrize("display", ["Not detected", None])
def test_the_hl7_nd_code_displayed_not_detected_or_with_no_display_still_reads_esr1_not_detected(
        display, as_interpretation):
    coding = {"system": _V3_INTERPRETATION, "code": "ND"} | ({"display": display} if display else {})
    _, cards = _esr1("p-v3-nd", coding, as_interpretation)
    assert "- ESR1 not detected (2025-06-01)" in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))


def test_a_loinc_present_answer_displayed_not_done_is_no_esr1_detection():
    # the same contradiction the other way: LOINC LA9633-4 Present with the words "Not done" offered
    # elacestrant on a test not done
    _, cards = _esr1("p-present-not-done", {"system": "http://loinc.org", "code": "LA9633-4", "display": "Not done"},
                     False)
    assert "ESR1 detected" not in _summary(cards)
    assert "elacestrant" not in topics(cards)


# --- a finding's date written after its assay bracket or its allele fraction --------------------

def _result_text(pid: str, words: str, on: str = "2025-06-01"):
    p = after_ai_cdk46i(pid)
    p._obs("gx", {"text": "ESR1 mutation"}, on, valueString=words)
    return run(p)


@pytest.mark.parametrize("words, written", [
    ("ESR1 Y537S detected (ctDNA) 2024-03-12", "2024-03-12"),
    ("ESR1 Y537S detected (ctDNA) 12 March 2024", "2024-03-12"),
    ("ESR1 D538G, AF 0.5% 2024-05", "2024-05"),
    ("ESR1 D538G detected, VAF 0.5% 05/2024", "2024-05"),
    # an allele fraction written with a space, in a bracket or with a decimal comma (rt73: 'VAF: 3 %' is
    # an allele fraction to the reader of the %, but a date after it was not read either)
    ("ESR1 D538G, VAF 3 % 2024-05", "2024-05"),
    ("ESR1 D538G detected, MAF 0.5 % 2024-05-02", "2024-05-02"),
    ("ESR1 D538G (AF 0.5%) 2024-05", "2024-05"),
    ("ESR1 D538G detected (VAF 1.2 %) 2024-05-02", "2024-05-02"),
    ("ESR1 D538G AF 0,5% 2024-05", "2024-05"),
])
def test_an_esr1_finding_dated_after_its_assay_bracket_or_allele_fraction_is_not_current_and_asks_a_re_test(
        words, written):
    # the date after '(ctDNA) ' or after the allele fraction was not read: the 2024 finding stood on the
    # 2025-06-01 report's date, 'ESR1 result current: yes' at the 2025-05-20 progression and no re-test
    # asked (CR C.3 row 18: current only if collected after the progression)
    state, cards = _result_text("p-esr1-after", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert f"- ESR1 detected (significance not reported, {written})" in detail
    assert (f"ESR1 finding in a report of 2025-06-01: its words date it {written}: read as of {written}, "
            f"not of the report's date ('{words}')") in detail


@pytest.mark.parametrize("words", ["ESR1 Y537S detected (ctDNA) 3/12/24", "ESR1 D538G, AF 0.5% 3/12/24"])
def test_an_esr1_finding_with_a_two_digit_year_after_its_assay_bracket_or_allele_fraction_is_undated(words):
    # the two-digit year rule (fix-gx10): its century and day / month order unsaid, read undated
    state, cards = _result_text("p-esr1-after-yy", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    assert ("its words write the date '3/12/24' with a two-digit year (its century and its day and month order "
            f"not stated): read as undated, not as of the report's date ('{words}')") in _summary(cards)


@pytest.mark.parametrize("words", ["ESR1 D538G detected, tumour fraction 20% 2024-05",
                                   "ESR1 D538G detected (Guardant360) 2024-05", "ESR1 D538G detected (ctDNA) 2024",
                                   # a tumour fraction in a bracket or with a space (rt73)
                                   "ESR1 D538G detected (tumour fraction 20%) 2024-05",
                                   "ESR1 D538G detected, tumour fraction 20 % 2024-05"])
def test_a_date_after_a_tumour_fraction_an_unnamed_bracket_or_a_bare_year_after_the_bracket_leaves_the_report_date(words):
    state, cards = _result_text("p-esr1-not-after", words)
    assert state.biomarkers.esr1_current is True
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)


@pytest.mark.parametrize("code", ["LA9633-4", "LA9634-2", "LA6576-8"])
@pytest.mark.parametrize("display", ["Quantity not sufficient", "QNS", "Insufficient sample", "No result",
                                     "Insufficient DNA for analysis"])
def test_a_loinc_answer_displayed_as_a_test_that_gave_no_result_is_no_esr1_call_and_the_test_is_asked(display, code):
    # 'Present' / 'Absent' / 'Positive' displayed "Quantity not sufficient" (a sample too small: no result,
    # FHIR R4 data-absent-reason 'not-performed' / 'error') read 'ESR1 detected', elacestrant offered, or
    # 'ESR1 not detected', the oral SERDs refused; the code and its words disagree (FHIR R4 Coding.display)
    _, cards = _esr1("p-qns", {"system": "http://loinc.org", "code": code, "display": display}, False)
    detail = _summary(cards)
    assert "ESR1 detected" not in detail and "ESR1 not detected" not in detail
    assert f"its answer code '{code}' (http://loinc.org) and its words '{display}' disagree" in detail
    assert "test-esr1" in ordered_tests(cards)
    assert "elacestrant" not in topics(cards)
