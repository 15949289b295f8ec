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
