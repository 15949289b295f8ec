"""ER / PR status from every representation real EHRs and labs send."""

from __future__ import annotations

import pytest

from mappings import build_patient_state
from tests.mappings.builders import (
    ICD10, LOINC, PID, SNOMED, V3_INTERPRETATION, answer, cc, coding, component, condition, data_absent,
    loinc_obs, observation, patient, quantity, text_value,
)


def state_of(*resources):
    return build_patient_state([patient(), *resources], PID)


@pytest.mark.parametrize("code", ["85337-4", "40556-3", "16112-5"])
def test_er_positive_loinc_answer_is_read_on_every_er_status_code(code):
    s = state_of(loinc_obs(code, **answer(LOINC, "LA6576-8", "Positive")))
    assert s.er.status == "positive"


@pytest.mark.parametrize("code", ["85339-0", "40557-1", "16113-3"])
def test_pr_negative_loinc_answer_is_read_on_every_pr_status_code(code):
    s = state_of(loinc_obs(code, **answer(LOINC, "LA6577-6", "Negative")))
    assert s.pr.status == "negative"


def test_er_snomed_positive_qualifier_value_is_positive():
    s = state_of(loinc_obs("85337-4", **answer(SNOMED, "10828004", "Positive (qualifier value)")))
    assert s.er.status == "positive"


def test_pr_snomed_present_value_is_positive():
    s = state_of(loinc_obs("16113-3", **answer(SNOMED, "52101004", "Present")))
    assert s.pr.status == "positive"


def test_er_value_string_negative_is_negative():
    s = state_of(loinc_obs("40556-3", valueString="NEGATIVE"))
    assert s.er.status == "negative"


def test_er_value_text_with_percent_reads_status_and_percent():
    s = state_of(loinc_obs("85337-4", **text_value("Positive, 95% of tumor cells, strong intensity")))
    assert s.er.status == "positive" and s.er.percent == 95
    assert s.er.low_positive is False


def test_er_percent_quantity_of_forty_is_positive():
    s = state_of(loinc_obs("85329-1", **quantity(40)))
    assert s.er.status == "positive" and s.er.percent == 40


def test_er_percent_below_one_is_negative():
    s = state_of(loinc_obs("85329-1", **quantity(0.5)))
    assert s.er.status == "negative"


def test_er_percent_exactly_one_is_positive_and_low():
    s = state_of(loinc_obs("14228-1", **quantity(1)))
    assert s.er.status == "positive" and s.er.low_positive is True


def test_er_percent_five_is_flagged_er_low_and_reported_as_a_gap():
    s = state_of(loinc_obs("85329-1", **quantity(5)))
    assert s.er.status == "positive" and s.er.low_positive is True
    assert "er-low" in {g.code for g in s.gaps}


def test_er_percent_eleven_is_not_er_low():
    s = state_of(loinc_obs("85329-1", **quantity(11)))
    assert s.er.low_positive is False


def test_er_percent_string_less_than_one_is_negative():
    s = state_of(loinc_obs("85329-1", valueString="<1%"))
    assert s.er.status == "negative"


def test_er_percent_integer_zero_is_negative():
    s = state_of(loinc_obs("85329-1", valueInteger=0))
    assert s.er.status == "negative" and s.er.percent == 0


def test_pr_percent_comparator_less_than_one_is_negative():
    s = state_of(loinc_obs("85325-9", **quantity(1, comparator="<")))
    assert s.pr.status == "negative"


def test_er_low_positive_wording_is_flagged_without_a_percentage():
    s = state_of(loinc_obs("85337-4", **text_value("Low positive")))
    assert s.er.status == "positive" and s.er.low_positive is True


def test_er_status_from_interpretation_when_value_is_absent():
    obs = loinc_obs("16112-5", interpretation=[cc(coding(
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "POS"))])
    s = state_of(obs)
    assert s.er.status == "positive"


def test_er_and_pr_reported_as_components_of_one_panel_observation():
    panel = observation(cc(text="Breast biomarker panel"), "2021-01-10", component=[
        component("85337-4", **answer(LOINC, "LA6576-8")),
        component("85339-0", **answer(LOINC, "LA6577-6")),
    ])
    s = state_of(panel)
    assert s.er.status == "positive" and s.pr.status == "negative"


def test_combined_er_pr_code_sets_both_receptors():
    s = state_of(loinc_obs("10480-2", **answer(LOINC, "LA6576-8")))
    assert s.er.status == "positive" and s.pr.status == "positive"


def test_er_intensity_alone_does_not_decide_status():
    s = state_of(loinc_obs("85310-1", **answer(SNOMED, "24484000", "Severe")))
    assert s.er.status == "unknown"


def test_most_recent_er_wins_and_the_disagreement_is_flagged():
    primary = loinc_obs("85337-4", "2015-03-01", **answer(LOINC, "LA6576-8"))
    metastasis = loinc_obs("85337-4", "2021-05-01", **answer(LOINC, "LA6577-6"))
    s = state_of(primary, metastasis)
    assert s.er.status == "negative" and s.er.conflict is True
    assert s.er.date.isoformat() == "2021-05-01"
    assert "er-conflict" in {g.code for g in s.gaps}


def test_conflicting_er_results_on_the_same_day_leave_er_unknown():
    a = loinc_obs("85337-4", "2021-05-01", **answer(LOINC, "LA6576-8"))
    b = loinc_obs("40556-3", "2021-05-01", **answer(LOINC, "LA6577-6"))
    s = state_of(a, b)
    assert s.er.status == "unknown" and s.er.conflict is True


def test_er_status_and_percent_on_the_same_day_agree_and_combine():
    a = loinc_obs("85337-4", "2021-05-01", **answer(LOINC, "LA6576-8"))
    b = loinc_obs("85329-1", "2021-05-01", **quantity(8))
    s = state_of(a, b)
    assert s.er.status == "positive" and s.er.percent == 8 and s.er.low_positive
    assert not s.er.conflict


def test_icd10_receptor_status_condition_is_used_when_no_observation_exists():
    s = state_of(condition(cc(coding(ICD10, "Z17.0", "Estrogen receptor positive status [ER+]"))))
    assert s.er.status == "positive"


@pytest.mark.parametrize("status", ["inactive", "resolved", "remission"])
def test_an_icd10_receptor_status_the_record_marks_no_longer_active_is_not_read_and_a_gap_names_it(status):
    # FHIR R4 condition-clinical inactive/resolved/remission: the status no longer applies, so it
    # is not today's ER status; it was read as ER-positive
    s = state_of(condition(cc(coding(ICD10, "Z17.0", "Estrogen receptor positive status [ER+]")), "2021-01-01",
                           clinical=status))
    assert s.er.status == "unknown"
    gap = next(g.message for g in s.gaps if g.code == "receptor-status-inactive")
    assert ("so not read as the current status: Z17.0 'Estrogen receptor positive status [ER+]' "
            f"(clinicalStatus {status}, 2021-01-01)") in gap


def test_an_inactive_icd10_receptor_status_beside_an_er_observation_needs_no_gap():
    s = state_of(condition(cc(coding(ICD10, "Z17.1", "Estrogen receptor negative status [ER-]")), clinical="resolved"),
                 loinc_obs("85337-4", "2021-05-01", **answer(LOINC, "LA6576-8")))
    assert s.er.status == "positive"
    assert "receptor-status-inactive" not in {g.code for g in s.gaps}


def test_unknown_er_value_code_leaves_er_unknown():
    s = state_of(loinc_obs("85337-4", **answer("http://example.org/local", "XYZ", "see report")))
    assert s.er.status == "unknown"
    assert "er-unknown" in {g.code for g in s.gaps}


def test_unknown_observation_code_is_not_a_receptor():
    s = state_of(loinc_obs("99999-9", **answer(LOINC, "LA6576-8")))
    assert s.er.status == "unknown" and s.pr.status == "unknown"


def test_er_result_keeps_its_resource_and_date_as_source():
    obs = loinc_obs("85337-4", "2022-02-02", rid="er-obs-1", **answer(LOINC, "LA6576-8"))
    s = state_of(obs)
    assert s.er.sources[0].reference == "Observation/er-obs-1"
    assert s.er.sources[0].date.isoformat() == "2022-02-02"


def test_allred_score_in_text_decides_er_status():
    assert state_of(loinc_obs("85337-4", valueString="Allred score 7/8")).er.status == "positive"
    assert state_of(loinc_obs("85337-4", valueString="Allred 2")).er.status == "negative"


@pytest.mark.parametrize("text,status", [
    ("Allred: proportion score 2, intensity score 3, total score 5", "positive"),  # not the proportion 2
    ("Allred score 2 + 3 = 5", "positive"),
    ("ER Allred 8/8 (PS 5, IS 3)", "positive"),
    ("Allred PS 2, IS 3", "unknown"),  # the parts without their total: not the first part
    ("Allred IS 3, PS 2", "unknown"),
    # "is" the verb, not the intensity score (IS): the total, read as before the parts were
    ("ER: Allred score is 7", "positive"),
    ("Allred is 2", "negative"),
])
def test_the_allred_total_decides_er_status_not_its_proportion_score(text, status):
    assert state_of(loinc_obs("85337-4", valueString=text)).er.status == status


def _score_gap(s):
    return next((g.message for g in s.gaps if g.code == "receptor-score-unread"), None)


def _er_unknown_score_gap(text: str) -> str:
    """The receptor-score-unread gap of an ER result written `text`, which must leave ER unknown."""
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert s.er.status == "unknown"
    return _score_gap(s)


@pytest.mark.parametrize("text, status, low, said", [
    # Allred total = proportion score (PS 1 < 1 %, 2 1-10 %, 3+ > 10 %) + intensity (1-3): a
    # total of 3 or 4 may be < 1 % (ER-negative by ASCO/CAP, CR A.2) or 1-10 % (ER-low)
    ("Allred 3", "unknown", False, "ER (2020-02-01): an Allred total of 3 may mean < 1 % of cells stained "
                                   "(negative by ASCO/CAP) or 1-10 % (low); not read as positive or negative."),
    ("Allred score 4/8", "unknown", False, "an Allred total of 4 may mean < 1 % of cells stained (negative by "
                                           "ASCO/CAP) or 1-10 % (low) or more; not read as positive or negative."),
    ("Positive, Allred 3", "positive", True, "an Allred total of 3 may mean < 1 % of cells stained (negative by "
                                             "ASCO/CAP) or 1-10 % (low); read as positive with the ER-low caution."),
    ("ER positive (Allred score 3)", "positive", True, "an Allred total of 3 may mean < 1 % of cells stained "
                                                       "(negative by ASCO/CAP) or 1-10 % (low); read as positive "
                                                       "with the ER-low caution."),
    # 5 is PS >= 2: >= 1 %, maybe 1-10 %
    ("Allred 5", "positive", True, "an Allred total of 5 may mean 1-10 % of cells stained (low) or more; "
                                   "read as positive with the ER-low caution."),
    # 6-8 is PS >= 3 (> 10 %), 0-2 is PS <= 1 (< 1 %): decided, no gap
    ("Allred 6", "positive", False, None),
    ("Allred 2", "negative", False, None),
    # the proportion score named decides the %
    ("Allred PS 2, IS 1, total 3", "positive", True, None),
    ("Allred PS 1, IS 2, TS 3", "negative", False, None),
    # a % decides, not the total
    ("Allred 3, 40%", "positive", False, None),
])
def test_an_allred_total_alone_of_3_to_5_is_not_read_as_a_plain_positive_and_the_gap_says_why(text, status, low, said):
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert (s.er.status, s.er.low_positive) == (status, low)
    gap = _score_gap(s)
    assert (gap is None) if said is None else (said in gap and "add the % or the pathologist's interpretation" in gap)


@pytest.mark.parametrize("text, words", [
    ("ER: positive, Allred score 3 (PS 1, IS 2)", "an Allred proportion score of 1"),
    ("Positive, Allred 3 (PS 1, IS 2)", "an Allred proportion score of 1"),
    ("ER positive, Allred 2/8", "an Allred total of 2"),
])
def test_a_positive_call_beside_an_allred_score_meaning_under_1_percent_is_not_read_and_the_gap_says_why(text, words):
    # was: "positive" (with "ER:") or "negative" (without), no gap: the report's call and the
    # proportion score (PS 1: < 1 % of cells, negative by ASCO/CAP, CR A.2) disagree, as a
    # call against a reported % does (read as neither)
    assert (f"ER (2020-02-01): the report calls it positive, and {words} means < 1 % of cells stained "
            "(negative by ASCO/CAP); not read as positive or negative") in _er_unknown_score_gap(text)


@pytest.mark.parametrize("code, text, er, pr", [
    # a combined ER/PR result (10480-2): each marker's own Allred score, not the first written
    ("10480-2", "ER positive (Allred 3), PR positive (Allred 8)", ("positive", True), ("positive", False)),
    ("10480-2", "ER Allred 8, PR Allred 3", ("positive", False), ("unknown", False)),
    ("10480-2", "ER/PR Allred 8", ("positive", False), ("positive", False)),  # one score for both
    # an ER result whose text names the PR first
    ("85337-4", "PR negative (Allred 0); ER positive (Allred 8)", ("positive", False), ("unknown", False)),
])
def test_each_receptor_is_read_with_its_own_allred_score_when_a_text_names_both(code, text, er, pr):
    # was: the first Allred score written read for both: the PR got the ER's 3 (ER-low caution,
    # gap naming PR), and an ER named after a PR's "Allred 0" was not read at all
    s = state_of(loinc_obs(code, valueString=text))
    assert (s.er.status, s.er.low_positive) == er
    assert (s.pr.status, s.pr.low_positive) == pr


def test_a_combined_er_pr_result_gives_each_receptor_its_own_percent():
    # was: "ER 90%, PR 5%" read PR 90 % (the first % written), no ER-low caution for the PR
    s = state_of(loinc_obs("10480-2", valueString="ER positive 90%, PR positive 5%"))
    assert (s.er.percent, s.er.low_positive) == (90, False)
    assert (s.pr.percent, s.pr.low_positive) == (5, True)


def test_a_later_allred_3_alone_is_named_while_the_earlier_readable_result_decides():
    s = state_of(loinc_obs("85337-4", "2020-01-01", **answer(LOINC, "LA6576-8", "Positive")),
                 loinc_obs("85337-4", "2021-03-01", valueString="Allred 3"))
    assert s.er.status == "positive"
    assert "ER (2021-03-01): an Allred total of 3 may mean < 1 %" in _score_gap(s)
    assert "not read as positive or negative: the result of 2020-01-01 is used" in _score_gap(s)


@pytest.mark.parametrize("text, status, low", [
    # H = 1 x %weak + 2 x %moderate + 3 x %strong (McCarty 1985): H/3 <= % stained <= H
    ("H-score 150", "positive", False), ("HSCORE 250", "positive", False),
    ("H-score 31", "positive", False),  # > 10 % of cells: not ER-low
    ("H-score 0", "negative", False),  # no cell stained
])
def test_an_er_given_only_as_an_h_score_that_decides_the_percent_band_is_read_without_a_gap(text, status, low):
    # was: unknown, gap "ER given only as an H-score 150: not read" (CR A.2; ASCO/CAP 2020)
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert (s.er.status, s.er.low_positive) == (status, low)
    assert _score_gap(s) is None


@pytest.mark.parametrize("text, number", [("H score: 20", 20), ("H-score 3", 3), ("H-score 30", 30)])
def test_an_er_h_score_of_3_to_30_alone_is_positive_with_the_er_low_caution_and_the_gap_says_why(text, number):
    # was: unknown (left the pathway for lack of ER): >= 1 % of cells stained, may be 1-10 % (CR A.2)
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert (s.er.status, s.er.low_positive) == ("positive", True)
    assert (f"ER (2020-02-01): an H-score of {number} may mean 1-10 % of cells stained (low) or more; "
            "read as positive with the ER-low caution") in _score_gap(s)


@pytest.mark.parametrize("text, number", [("H-score 2", 2), ("H-score 1", 1)])
def test_an_er_h_score_under_3_alone_is_not_read_and_the_gap_says_it_may_be_under_1_percent(text, number):
    assert (f"ER (2020-02-01): an H-score of {number} may mean < 1 % of cells stained (negative by ASCO/CAP) "
            "or 1-10 % (low); not read as positive or negative") in _er_unknown_score_gap(text)


@pytest.mark.parametrize("text, status, low", [
    ("Negative (H-score 5)", "negative", False),  # the call decides, as before
    ("H-score 2, 5% of cells", "positive", True),  # the % decides (CR A.2 reads the %)
])
def test_a_call_or_a_percent_beside_an_h_score_decides_the_er_status(text, status, low):
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert (s.er.status, s.er.low_positive) == (status, low)
    assert _score_gap(s) is None


@pytest.mark.parametrize("text, low", [("Positive (H-score 20)", True), ("Positive, H-score 2", True),
                                       ("Positive, H-score 31", False)])
def test_a_positive_call_beside_an_h_score_of_30_or_less_carries_the_er_low_caution(text, low):
    # was: positive with no caution; an H of 1-30 allows 1-10 % of cells stained (H/3 <= % <= H,
    # McCarty 1985), ER-low by ASCO/CAP 2020 (CR A.2), as an Allred total of 3-5 beside a positive call
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert (s.er.status, s.er.low_positive) == ("positive", low)
    number = text.rsplit(" ", 1)[1].rstrip(")")
    assert (f"an H-score of {number} may mean 1-10 % of cells stained (low) or more" in (_score_gap(s) or "")) is low


def test_an_h_score_above_300_is_not_an_h_score_and_stays_named_in_the_gap():
    s = state_of(loinc_obs("85337-4", valueString="H-score 400"))
    assert s.er.status == "unknown"
    assert "ER given only as an H-score 400 (2020-02-01): not read" in _score_gap(s)


def test_an_h_score_beside_a_stated_result_needs_no_gap():
    s = state_of(loinc_obs("85337-4", valueString="Positive, H-score 150"))
    assert s.er.status == "positive" and _score_gap(s) is None


@pytest.mark.parametrize("text,status,low", [
    ("0-1%", "unknown", False),  # spans the 1 % threshold: neither end is the value
    ("ER 1-10 %", "positive", True),
    ("Positive, 5 to 20%", "positive", True),  # allows 1-10 %: the ER-low caution stays
    ("Positive, 90-100%", "positive", False),
    ("Positive, 0-1%", "positive", True),  # the word decides; the range still allows 1 %
])
def test_a_percent_range_decides_er_status_and_er_low_only_by_what_all_of_it_allows(text, status, low):
    er = state_of(loinc_obs("85337-4", valueString=text)).er
    assert (er.status, er.low_positive, er.percent) == (status, low, None)


@pytest.mark.parametrize("text,status", [
    ("ER positive? pending confirmation", "unknown"),
    ("Possibly positive", "unknown"),
    ("Likely negative", "unknown"),
    ("Positive - to be confirmed", "unknown"),
    ("Strongly positive", "positive"),
    ("No ER expression", "negative"),
])
def test_an_er_result_written_as_a_suspicion_is_no_status_and_no_expression_is_negative(text, status):
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert s.er.status == status
    assert ("er-unknown" in {g.code for g in s.gaps}) == (status == "unknown")


def test_er_not_detected_text_is_negative_not_contradictory():
    assert state_of(loinc_obs("40556-3", valueString="Not detected")).er.status == "negative"


@pytest.mark.parametrize("text,status", [("ER+", "positive"), ("ER-", "negative"), ("ER +, PR -", "positive")])
def test_er_plus_minus_shorthand(text, status):
    assert state_of(loinc_obs("85337-4", valueString=text)).er.status == status


def test_combined_er_pr_text_is_read_per_receptor():
    s = state_of(loinc_obs("10480-2", valueString="ER+/PR-"))
    assert s.er.status == "positive" and s.pr.status == "negative"


@pytest.mark.parametrize("obs", [
    loinc_obs("85337-4", **text_value("Positive (90%)"),
              note=[{"text": "Low grade invasive ductal carcinoma, Ki-67 10%"}]),
    loinc_obs("85337-4", **answer(LOINC, "LA6576-8", "Positive"),
              component=[component("85329-1", **quantity(95))], note=[{"text": "Ki-67 low (5%)"}]),
    loinc_obs("85337-4", valueString="Strongly positive, 95%, low Ki-67"),
])
def test_low_grade_or_low_ki67_in_the_text_does_not_make_a_strongly_er_positive_tumour_er_low(obs):
    s = state_of(obs)
    assert s.er.status == "positive" and s.er.percent >= 90
    assert s.er.low_positive is False and "er-low" not in {g.code for g in s.gaps}


def test_er_low_wording_does_not_override_a_measured_percentage_above_ten():
    s = state_of(loinc_obs("85337-4", valueString="ER low positive, 40%"))
    assert s.er.status == "positive" and s.er.percent == 40 and s.er.low_positive is False


def test_er_low_written_as_text_is_flagged_without_a_percentage():
    s = state_of(loinc_obs("85337-4", valueString="ER-low positive"))
    assert s.er.status == "positive" and s.er.low_positive is True


@pytest.mark.parametrize("text", ["Not positive", "Not present", "not reactive", "No positive cells",
                                  "No positive tumour cells"])
def test_er_text_negating_a_positive_word_is_negative(text):
    assert state_of(loinc_obs("85337-4", valueString=text)).er.status == "negative"


@pytest.mark.parametrize("value", [
    {"valueString": "Positive (>10%)"},
    {"valueString": "Positive, greater than 10%"},
    {"valueString": "Positive in more than 10% of cells"},
    {"valueString": "Positive (over 10%)"},
    {"valueString": ">10%"},
])
def test_er_above_ten_percent_as_a_lower_bound_is_positive_and_not_er_low(value):
    s = state_of(loinc_obs("85337-4", **value))
    assert s.er.status == "positive" and s.er.low_positive is False
    assert "er-low" not in {g.code for g in s.gaps}
    assert s.er.percent is None  # the bound is not the measured value


def test_er_percent_quantity_with_comparator_greater_than_ten_is_not_er_low():
    s = state_of(loinc_obs("85329-1", **quantity(10, comparator=">")))
    assert s.er.status == "positive" and s.er.low_positive is False
    assert "er-low" not in {g.code for g in s.gaps}


def test_pr_percent_quantity_with_comparator_greater_than_ten_is_not_low_positive():
    s = state_of(loinc_obs("85325-9", **quantity(10, comparator=">")))
    assert s.pr.status == "positive" and s.pr.low_positive is False


@pytest.mark.parametrize("value", [
    {"valueQuantity": {"value": 50, "comparator": "<", "unit": "%"}},
    {"valueString": "<50%"},
    {"valueQuantity": {"value": 0.5, "comparator": ">", "unit": "%"}},
    {"valueString": ">0%"},
])
def test_er_percent_bound_that_spans_the_one_percent_threshold_decides_no_status(value):
    # "<50 %" may be 0 % (negative) or 40 % (positive); ">0 %" may be 0.5 % or 90 %
    s = state_of(loinc_obs("85329-1", **value))
    assert s.er.status == "unknown"


# --- dataAbsentReason: a test with no value is no result (FHIR R4 Observation.dataAbsentReason) ---


@pytest.mark.parametrize("extra", [
    {"interpretation": [cc(coding(V3_INTERPRETATION, "POS", "Positive"))]},
    {"valueCodeableConcept": {"coding": [coding(LOINC, "LA6576-8", "Positive")]}},  # obs-6 broken: not read
])
def test_er_with_a_data_absent_reason_is_not_read_as_positive_and_the_reason_is_named(extra):
    s = state_of(data_absent(loinc_obs("85337-4", "2024-03-01", **extra)))
    assert s.er.status == "unknown"
    assert "er-unknown" in {g.code for g in s.gaps}
    assert any("ER status (85337-4) not performed (dataAbsentReason), 2024-03-01" in g.message for g in s.ignored)


@pytest.mark.parametrize("text, percent", [
    # the PR's range later in an ER text is not the ER's (fix-rx read the first range anywhere)
    ("ER 90%, PR 5-10%", 90), ("ER positive (90%); PR positive 1-10%", 90),
    ("Positive, 95% of cells (range 90-100%)", 95),
])
def test_the_first_percentage_in_the_text_is_the_result_even_with_a_range_after_it(text, percent):
    s = state_of(loinc_obs("85337-4", **text_value(text)))
    assert (s.er.status, s.er.percent, s.er.low_positive) == ("positive", percent, False)


@pytest.mark.parametrize("code, text, number", [("85337-4", "ER positive, H-score 20", 20),
                                                ("16113-3", "PR positive (H-score 15)", 15),
                                                ("16113-3", "ER positive (H-score 200), PR positive (H-score 20)", 20)])
def test_a_positive_call_naming_its_marker_beside_an_h_score_of_30_or_less_carries_the_low_caution(code, text, number):
    # was: positive with no caution when the call names the marker ('ER positive, H-score 20'):
    # only an unnamed 'Positive (H-score 20)' got it. H 1-30 allows 1-10 % of cells (McCarty 1985; CR A.2)
    s = state_of(loinc_obs(code, valueString=text))
    receptor = s.er if code == "85337-4" else s.pr
    assert (receptor.status, receptor.low_positive) == ("positive", True)
    assert f"an H-score of {number} may mean 1-10 % of cells stained (low) or more" in _score_gap(s)


@pytest.mark.parametrize("text", ["Positive (H-score 0)", "ER positive, H-score 0"])
def test_a_positive_call_beside_an_h_score_of_0_is_read_as_neither_and_named(text):
    # was: positive; an H-score of 0 means no cell stained, so the call and the score disagree,
    # read as neither as a positive call beside an Allred total of 0-2 is (CR A.2; ASCO/CAP 2020)
    s = state_of(loinc_obs("85337-4", valueString=text))
    assert s.er.status == "unknown"
    assert ("the report calls it positive, and an H-score of 0 means < 1 % of cells stained "
            "(negative by ASCO/CAP); not read as positive or negative") in _score_gap(s)


@pytest.mark.parametrize("code, text, percent, low", [
    ("85337-4", "ER/PR 90%/5%", 90.0, False), ("16113-3", "ER/PR 90%/5%", 5.0, True),
    ("85337-4", "ER/PR H-score 20/200", None, True), ("16113-3", "ER/PR H-score 20/200", None, False),
])
def test_a_value_pair_after_er_and_pr_named_jointly_gives_each_receptor_its_own_value_in_order(code, text, percent, low):
    # was: both receptors read the first value ('ER/PR 90%/5%': PR 90 %; 'ER/PR H-score 20/200':
    # PR an H of 20 with the low note), the second never read; the names' order is the values' order
    s = state_of(loinc_obs(code, valueString=text))
    receptor = s.er if code == "85337-4" else s.pr
    assert (receptor.status, receptor.percent, receptor.low_positive) == ("positive", percent, low)


@pytest.mark.parametrize("er_value", [quantity(0), answer(LOINC, "LA6577-6", "Negative")])
def test_er_negative_with_pr_positive_stays_hr_positive_and_the_uncommon_result_is_named(er_value):
    # CR C.2 step 0: HR+ = ER or PR >= 1 %; ASCO/CAP 2020 (regimens.yaml asco-cap-er-2020) uses PR
    # mainly for prognosis in ER-positive cancer and asks that unusual results be worked up.
    # Before, ER 0 % with PR 30 % read HR-positive without a word
    er = loinc_obs("85329-1" if "valueQuantity" in er_value else "85337-4", "2024-01-15", **er_value)
    pr = loinc_obs("85325-9", "2024-01-15", **quantity(30))
    s = state_of(er, pr)
    assert (s.er.status, s.pr.status, s.hormone_receptor_positive) == ("negative", "positive", True)
    gap = next(g for g in s.gaps if g.code == "er-negative-pr-positive")
    assert gap.message == (
        "ER-negative (2024-01-15) with PR positive (2024-01-15): an uncommon result. Read as HR-positive (C.2 step 0: "
        "ER or PR >= 1 %); ASCO/CAP 2020 uses PR mainly for prognosis in ER-positive cancer and asks that unusual "
        "results be worked up, and the service's reference does not say how well endocrine therapy works here: ask "
        "pathology to confirm ER (re-test, metastatic tissue when feasible).")


def test_er_positive_with_pr_positive_or_negative_names_no_uncommon_result():
    for pr_value in (quantity(30), quantity(0)):
        s = state_of(loinc_obs("85329-1", "2024-01-15", **quantity(80)), loinc_obs("85325-9", "2024-01-15", **pr_value))
        assert "er-negative-pr-positive" not in {g.code for g in s.gaps}


# --- answer codes written with no code system (FHIR R4 Coding.system; CR A.1, C.2 step 0) ------------

V2_0078 = "http://terminology.hl7.org/CodeSystem/v2-0078"


def _unclear_answer_gap(s):
    return next((g.message for g in s.gaps if g.code == "receptor-answer-unclear"), None)


@pytest.mark.parametrize("value", [
    {"valueCodeableConcept": cc({"code": "POS", "display": "Not done"})},
    {"valueCodeableConcept": cc({"code": "NEG"}, text="Not done")},
    {"valueCodeableConcept": cc({"code": "POS", "display": "Negative"})},
    {"valueString": "see report", "interpretation": [cc({"code": "POS", "display": "Not done"})]},
])
def test_an_er_answer_code_with_no_system_whose_words_say_otherwise_is_no_er_result_and_is_named(value):
    s = state_of(loinc_obs("16112-5", "2024-03-01", **value))
    assert s.er.status == "unknown"
    gap = _unclear_answer_gap(s)
    assert gap is not None and "ER result (2024-03-01) not read" in gap and "with no code system" in gap
    assert "'POS'" in gap or "'NEG'" in gap


def test_an_er_code_with_no_system_beside_an_earlier_readable_result_names_which_result_is_used():
    s = state_of(loinc_obs("16112-5", "2020-01-01", **answer(LOINC, "LA6576-8", "Positive")),
                 loinc_obs("16112-5", "2024-03-01", valueCodeableConcept=cc({"code": "NEG", "display": "Not done"})))
    assert s.er.status == "positive"
    assert "the result of 2020-01-01 is used" in _unclear_answer_gap(s)


@pytest.mark.parametrize("value, status", [
    (cc({"code": "POS"}), "positive"),  # no words: read as before
    (cc({"code": "POS", "display": "Positive"}), "positive"),
    (cc({"code": "POS", "display": "ER 90 %"}), "positive"),  # a % >= 1 says positive (CR A.2)
    (cc({"code": "NEG", "display": "Negative (<1%)"}), "negative"),
    (cc(coding(V2_0078, "POS", "Positive")), "positive"),
    (cc(coding(V2_0078, "NEG", "Not done")), "negative"),  # under its own system the code decides
])
def test_an_er_answer_code_is_read_when_its_system_or_its_words_say_what_it_means(value, status):
    s = state_of(loinc_obs("16112-5", valueCodeableConcept=value))
    assert s.er.status == status
    assert _unclear_answer_gap(s) is None


@pytest.mark.parametrize("code", ["POS", "NEG"])
def test_a_her2_answer_code_with_no_system_reading_not_done_is_no_her2_result_and_is_named(code):
    s = state_of(loinc_obs("48676-1", "2024-03-01", valueCodeableConcept=cc({"code": code, "display": "Not done"})))
    assert s.her2.category == "unknown"
    gap = _unclear_answer_gap(s)
    assert gap is not None and f"HER2 result (2024-03-01) not read: its answer code '{code}'" in gap
    assert "HER2 status unknown" in gap
    assert not any(g.code == "her2-text-unclear" for g in s.gaps)


def test_a_her2_ish_answer_code_with_no_system_reading_not_done_is_not_read_as_amplified_and_is_named():
    # 'POS' "Not done" read as amplified: HER2-positive, out of the pathway (FHIR R4 Coding.system)
    s = state_of(loinc_obs("85318-4", "2024-03-01", valueCodeableConcept=cc({"code": "POS", "display": "Not done"})))
    assert s.her2.category == "unknown"
    assert any("HER2 ISH result not read: its answer code 'POS' is written with no code system" in g.message
               for g in s.ignored)


@pytest.mark.parametrize("system", [None, V3_INTERPRETATION, V2_0078])
def test_a_her2_result_coded_indeterminate_and_displayed_equivocal_is_the_equivocal_category_asking_for_ish(system):
    # CR A.1: HER2 equivocal is IHC 2+, ISH decides; read as the text "Equivocal" alone is (before:
    # HER2 unknown, "'equivocal' (a hedge ...)" and no ISH asked)
    ind = {"code": "IND", "display": "Equivocal"} if system is None else coding(system, "IND", "Equivocal")
    s = state_of(loinc_obs("85319-2", valueCodeableConcept=cc(ind)))
    assert s.her2.category == "equivocal-pending"
    assert any(g.code == "her2-equivocal-pending" for g in s.gaps)
    assert not any(g.code == "her2-text-unclear" for g in s.gaps)
