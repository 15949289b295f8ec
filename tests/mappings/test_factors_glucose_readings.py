"""Diabetes / hyperglycaemia factors read from a Condition's words, codes and lab texts (pf7):
whose prediabetes, which unit an HbA1c is written in, which ICD-10-CM abnormal glucose header
(mappings.factors._diabetes; CR A.4, C.2 safety overlays, C.3 row 14)."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import ICD10, PID, cc, coding, condition, loinc_obs, med_request, patient

AS_OF = dt.date(2024, 6, 1)


def _state(*resources):
    return build_patient_state([patient(birth="1980-01-01"), *resources], PID, AS_OF)


def _gap_codes(s) -> set[str]:
    return {g.code for g in s.gaps}


# pf7: a relative named after a prediabetes or a hyperglycaemia ("Pre diabetes in mother") raised the
# patient's gap prediabetes-recorded; a relative's condition is not the patient's (FHIR R4
# FamilyMemberHistory), as a relative after a diabetes is read already (factors._NOT_A_DIAGNOSIS)
@pytest.mark.parametrize("text", ["Pre diabetes in mother", "Prediabetes in mother", "Pre-diabetes in her sister",
                                  "Prediabetes (mother)", "Prediabetes - father", "Impaired fasting glucose in father",
                                  "IFG - mother"])
def test_a_prediabetes_written_with_the_relative_after_it_raises_no_gap_for_the_patient(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "prediabetes-recorded" not in _gap_codes(s)


@pytest.mark.parametrize("text", ["Hyperglycaemia in mother", "Hyperglycemia (father)"])
def test_a_hyperglycaemia_written_with_the_relative_after_it_raises_no_gap_for_the_patient(text):
    assert "hyperglycaemia-recorded" not in _gap_codes(_state(condition(cc(text=text), "2023-01-01")))


@pytest.mark.parametrize("text", ["Prediabetes in mother and patient", "Prediabetes, mother has T2DM",
                                  "Prediabetes: mother informed", "Pre diabetes in 2019"])
def test_the_patients_own_prediabetes_beside_a_relative_still_raises_the_gap(text):
    assert "prediabetes-recorded" in _gap_codes(_state(condition(cc(text=text), "2023-01-01")))


# pf7: a diabetes screening with its HbA1c written in IFCC units ("HbA1c 53 mmol/mol") was read as no
# diabetes, silently, while "HbA1c 7.0%" was asked: now converted to NGSP % by the NGSP / IFCC master
# equation (NGSP % = 0.09148 x IFCC + 2.152, http://www.ngsp.org/ifcc.asp): 48 mmol/mol is 6.5 %
@pytest.mark.parametrize("text", ["Diabetes screening: HbA1c 53 mmol/mol", "Screening for diabetes: HbA1c 53mmol/mol",
                                  "Screening for diabetes - HbA1c 48 mmol/mol"])
def test_a_diabetes_screening_with_an_hba1c_in_mmol_per_mol_in_the_diabetes_range_is_asked(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    gap = next(g for g in s.gaps if g.code == "diabetes-unconfirmed")
    assert "a positive screening, not a diagnosis" in gap.message


@pytest.mark.parametrize("text", ["Screening for diabetes: HbA1c 40 mmol/mol", "Screening for diabetes: HbA1c 47 mmol/mol",
                                  "Screening for diabetes: HbA1c < 48 mmol/mol"])
def test_a_diabetes_screening_with_an_hba1c_in_mmol_per_mol_below_the_diabetes_range_asks_nothing(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "diabetes-unconfirmed" not in _gap_codes(s)


# pf7: a diabetes "screen" (not "screening") was read as the patient's type 2 diabetes, a negative one too
# ("Diabetes screen negative": the PI3K/AKT/mTOR caution as if diagnosed); a screening names a condition
# the patient does not have (CR A.4 a diagnosis; local_codes.yaml), "screen" as "screening"
@pytest.mark.parametrize("text", ["Diabetes screen", "Diabetes screen negative", "Diabetes screen - HbA1c 5.2%",
                                  "T2DM screen", "Screen for diabetes", "Screened for diabetes - negative"])
def test_a_diabetes_screen_that_is_not_positive_is_no_diabetes(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "diabetes-unconfirmed" not in _gap_codes(s)


@pytest.mark.parametrize("text", ["Diabetes screen - confirmed T2DM", "Type 2 diabetes - screen for retinopathy",
                                  "Diabetic foot screen"])
def test_a_diabetes_beside_a_screen_that_confirmed_it_or_screens_for_a_complication_is_still_read(text):
    assert _state(condition(cc(text=text), "2023-01-01")).factors.diabetes.status == "type2-untreated"


# pf7: the bare ICD-10-CM headers R73.0 Abnormal glucose and R73 Elevated blood glucose level were silent (no gap), and
# a metformin given for one counted as type 2 diabetes treatment; "Abnormal glucose NOS" is R73.09's inclusion term
# (ICD-10-CM 2025 tabular): read as R73.09 is, a hyperglycaemia not counted as diabetes
@pytest.mark.parametrize("code", ["R73.0", "R73"])
def test_a_bare_abnormal_glucose_header_code_is_named_as_a_hyperglycaemia_not_counted_as_diabetes(code):
    s = _state(condition(cc(coding(ICD10, code)), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    gap = next(g for g in s.gaps if g.code == "hyperglycaemia-recorded")
    assert f'not counted as diabetes ("{code}")' in gap.message


@pytest.mark.parametrize("code", ["R73.0", "R73"])
def test_metformin_given_for_a_bare_abnormal_glucose_header_is_not_counted_as_diabetes_treatment(code):
    m = med_request(None, "2024-01-10", text="Metformin 500 mg")
    m["reasonCode"] = [cc(coding(ICD10, code))]
    d = _state(m).factors.diabetes
    assert d.status == "none-documented"
    assert d.not_for_diabetes == ["metformin for hyperglycaemia (not a diabetes diagnosis)"]


@pytest.mark.parametrize("code,gap", [("R73.01", "prediabetes-recorded"), ("R73.03", "prediabetes-recorded"),
                                      ("R73.09", "hyperglycaemia-recorded")])
def test_the_abnormal_glucose_children_codes_read_as_before(code, gap):
    assert gap in _gap_codes(_state(condition(cc(coding(ICD10, code)), "2023-01-01")))


# pf7: a current gestational diabetes, coded ICD-10-CM O24.4- (Gestational diabetes mellitus) or written alone, was
# silent: no diabetes, no gap. Gestational diabetes is its own type, not the labels' diabetes (CR A.4, C.3 row 14):
# asked (gap diabetes-unconfirmed, named gestational); a past one is a risk of diabetes, not diabetes: none
@pytest.mark.parametrize("code,shown", [
    (cc(coding(ICD10, "O24.414")), "gestational diabetes (coded O24.414"),
    (cc(coding(ICD10, "O24.414", "Gestational diabetes mellitus in pregnancy, insulin controlled")),
     'gestational diabetes (written "gestational diabetes mellitus in pregnancy, insulin controlled"'),
    (cc(text="Gestational diabetes on insulin"), 'gestational diabetes (written "Gestational diabetes on insulin"'),
])
def test_a_current_gestational_diabetes_is_asked_as_its_own_type_not_silent(code, shown):
    s = _state(condition(code, "2024-03-01"))
    assert s.factors.diabetes.status == "none-documented"
    gap = next(g for g in s.gaps if g.code == "diabetes-unconfirmed")
    assert shown in gap.message
    assert "a diabetes of pregnancy, its own type; once the pregnancy is over a risk of diabetes, not diabetes" in gap.message


@pytest.mark.parametrize("text", ["History of gestational diabetes", "h/o GDM", "Previous GDM", "Gestational diabetes - resolved",
                                  "No gestational diabetes", "Mother had gestational diabetes", "Gestational diabetes in sister",
                                  "At risk of gestational diabetes", "Gestational diabetes screen negative"])
def test_a_past_negated_relatives_or_screened_gestational_diabetes_names_no_diabetes(text):
    s = _state(condition(cc(text=text), "2024-03-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "diabetes-unconfirmed" not in _gap_codes(s)


def test_a_gestational_diabetes_coded_with_a_resolved_status_names_no_diabetes():
    s = _state(condition(cc(coding(ICD10, "O24.414")), "2024-03-01", clinical="resolved"))
    assert "diabetes-unconfirmed" not in _gap_codes(s)


@pytest.mark.parametrize("onset", ["2015-01-01", "2023-05-01", "2022"])
def test_a_gestational_diabetes_that_began_more_than_a_year_ago_is_over_and_names_no_diabetes(onset):
    # a pregnancy and its puerperium last under a year: an "active" gestational diabetes of 2015 is a past one
    s = _state(condition(cc(coding(ICD10, "O24.414"), text="Gestational diabetes"), onset))
    assert s.factors.diabetes.status == "none-documented"
    assert "diabetes-unconfirmed" not in _gap_codes(s)


@pytest.mark.parametrize("onset", ["2023-07-01", "2024", None])
def test_a_gestational_diabetes_begun_within_a_year_or_undated_is_asked(onset):
    assert "diabetes-unconfirmed" in _gap_codes(_state(condition(cc(coding(ICD10, "O24.414")), onset)))


def test_a_type_2_diabetes_beside_a_past_gestational_diabetes_is_still_type_2():
    s = _state(condition(cc(text="Type 2 diabetes; prior gestational diabetes"), "2015-01-01"))
    assert s.factors.diabetes.status == "type2-untreated"
    assert "diabetes-unconfirmed" not in _gap_codes(s)


# pf7: a liraglutide titration with a step in micrograms ("0.6 mg -> 1.2 mg -> 3000 mcg") stopped before it and was
# read by the step before (1.2 mg) as type 2 diabetes treatment; now converted to mg and read as "-> 3 mg" is (weight
# management: drugs.yaml weight_dose, Victoza / Saxenda EU SmPC 4.2; 1 mg = 1000 micrograms)
@pytest.mark.parametrize("text", ["Victoza 0.6 mg -> 1.2 mg -> 3000 mcg", "Liraglutide 600 mcg -> 1200 mcg -> 3000 mcg",
                                  "Liraglutide 0.6mg, titrate to 3000mcg"])
def test_a_liraglutide_titration_reaching_3000_micrograms_is_weight_management_as_3_mg_is(text):
    d = _state(med_request(None, "2024-01-10", text=text)).factors.diabetes
    assert d.status == "none-documented" and not d.on_antihyperglycemic
    assert d.not_for_diabetes == ["liraglutide for weight management (a dose of 3 mg: above 1.8 mg, the most Victoza gives "
                                  "for diabetes; Saxenda, the weight product, reaches 3 mg)"]


def test_a_liraglutide_step_down_written_in_micrograms_is_asked_as_the_mg_step_down_is():
    d = _state(med_request(None, "2024-01-10", text="Victoza 3 mg, reduce to 1200 mcg")).factors.diabetes
    assert d.not_for_diabetes and d.not_for_diabetes[0].startswith(
        "liraglutide, its indication, diabetes or weight management, not stated")


@pytest.mark.parametrize("text", ["Victoza 0.6 mg -> 1.2 mg -> 1800 mcg", "Victoza 600 mcg -> 1200 mcg"])
def test_a_liraglutide_titration_within_the_victoza_diabetes_doses_in_micrograms_stays_diabetes_treatment(text):
    d = _state(med_request(None, "2024-01-10", text=text)).factors.diabetes
    assert d.status == "type2-treated" and d.treatment == ["liraglutide"]


# pf7: an HbA1c coded LOINC 59261-8 (by the IFCC protocol, reported in mmol/mol) sent without a unit was read as %
# below 25: "24" (4.3 %) read as an HbA1c of 24 %, diabetes by laboratory values, uncontrolled (the capivasertib
# HbA1c > 8.0 % caution). Now in mmol/mol, converted (NGSP % = 0.09148 x IFCC + 2.152, http://www.ngsp.org/ifcc.asp)
@pytest.mark.parametrize("value,percent", [(24, 4.35), (40, 5.81)])
def test_an_ifcc_hba1c_sent_without_a_unit_is_read_in_mmol_per_mol(value, percent):
    d = _state(loinc_obs("59261-8", valueQuantity={"value": value})).factors.diabetes
    assert d.hba1c.value == percent and d.hba1c.unit == "%"
    assert d.status == "none-documented" and not d.uncontrolled


def test_an_ifcc_hba1c_sent_without_a_unit_as_plausible_in_percent_is_not_read():
    s = _state(loinc_obs("59261-8", valueQuantity={"value": 7.0}))
    assert s.factors.diabetes.hba1c is None
    assert "hba1c-missing" in _gap_codes(s)


@pytest.mark.parametrize("code,value,unit,percent", [("59261-8", 53, "mmol/mol", 7.0), ("59261-8", 7.0, "%", 7.0),
                                                     ("4548-4", 7.0, None, 7.0)])
def test_an_hba1c_with_its_unit_or_coded_in_ngsp_percent_reads_as_before(code, value, unit, percent):
    q = {"value": value, **({"unit": unit} if unit else {})}
    assert _state(loinc_obs(code, valueQuantity=q)).factors.diabetes.hba1c.value == percent


# pf7: a prediabetes or a hyperglycaemia written as over ("Prediabetes - resolved", "Steroid induced hyperglycaemia -
# resolved") was asked as current (gap prediabetes-recorded / hyperglycaemia-recorded); read as a diabetes's words are
# (local_codes.yaml not_current_patterns; FHIR R4 Condition.clinicalStatus resolved / remission said in words)
@pytest.mark.parametrize("text,gap", [("Prediabetes - resolved", "prediabetes-recorded"),
                                      ("Prediabetes resolved after weight loss", "prediabetes-recorded"),
                                      ("Prediabetes in remission", "prediabetes-recorded"),
                                      ("Prediabetic mother", "prediabetes-recorded"),
                                      ("Hyperglycaemia resolved", "hyperglycaemia-recorded"),
                                      ("Steroid induced hyperglycaemia - resolved", "hyperglycaemia-recorded")])
def test_a_prediabetes_or_hyperglycaemia_written_as_resolved_or_a_relatives_raises_no_gap(text, gap):
    assert gap not in _gap_codes(_state(condition(cc(text=text), "2023-01-01")))


@pytest.mark.parametrize("text,gap", [
    ("Prediabetes - not resolved", "prediabetes-recorded"),
    ("Prediabetes, resolved hypoglycaemia", "prediabetes-recorded"),
    ("Hyperglycaemia - unresolved", "hyperglycaemia-recorded"),
    # pf8: a "resolved" or "in remission" negated with "not yet", "not fully", "hasn't" was read as over: "Prediabetes not
    # yet resolved" raised no gap, "Type 2 diabetes, not yet in remission" was asked, not counted (the caution said "not
    # confirmed"); "not resolved" / "unresolved" read right (local_codes.yaml diabetes not_current_patterns and the
    # prediabetes / hyperglycaemia patterns beside it; FHIR R4 Condition.clinicalStatus resolved / remission said in words)
    ("Prediabetes not yet resolved", "prediabetes-recorded"),
    ("Prediabetes - not fully resolved", "prediabetes-recorded"),
    ("Prediabetes, hasn't resolved", "prediabetes-recorded"),
    ("Hyperglycaemia not yet resolved", "hyperglycaemia-recorded"),
    ("Not yet resolved prediabetes", "prediabetes-recorded"),
    ("Not fully resolved hyperglycaemia", "hyperglycaemia-recorded"),
    ("Not resolved high blood sugar", "hyperglycaemia-recorded"),
    ("Prediabetes, not been resolved", "prediabetes-recorded"),
    ("Hyperglycaemia - has not been resolved", "hyperglycaemia-recorded"),
    ("High blood sugar, not currently in remission", "hyperglycaemia-recorded"),
])
def test_a_prediabetes_or_hyperglycaemia_not_written_as_over_still_raises_its_gap(text, gap):
    assert gap in _gap_codes(_state(condition(cc(text=text), "2023-01-01")))


# pf7: a pre-existing diabetes coded for a pregnancy (ICD-10-CM O24.0- type 1, O24.1- type 2) without words was silent:
# O24.011 lost the type 1 stop of the PI3K/AKT inhibitors (CR C.3 row 14). Read as its type (codes.yaml)
@pytest.mark.parametrize("code,status", [("O24.011", "type1"), ("O24.111", "type2-untreated")])
def test_a_pre_existing_diabetes_coded_in_pregnancy_is_read_as_its_type(code, status):
    assert _state(condition(cc(coding(ICD10, code)), "2015-01-01")).factors.diabetes.status == status


# pf8: ICD-10-CM O24.9- (unspecified diabetes mellitus in pregnancy, childbirth and the puerperium) was silent coded
# alone and, with its display, read as a diabetes of unrecorded type (counted): gestational or pre-existing cannot be
# told (ICD-10-CM tabular O24.9; local_codes.yaml pregnancy_unspecified_icd10_prefixes): asked, not counted
@pytest.mark.parametrize("display", [None, "Unspecified diabetes mellitus in pregnancy, unspecified trimester"])
@pytest.mark.parametrize("code", ["O24.919", "O24.93"])
def test_an_unspecified_diabetes_in_pregnancy_is_asked_naming_that_its_kind_is_not_recorded(code, display):
    s = _state(condition(cc(coding(ICD10, code, display)), "2015-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert (f"type not recorded (coded {code}: a diabetes in pregnancy, childbirth or the puerperium, whether "
            "gestational or pre-existing not recorded)") in _gap(s, "diabetes-unconfirmed")


@pytest.mark.parametrize("text,status", [("Type 2 diabetes in pregnancy", "type2-untreated"),
                                         ("Type 1 diabetes, pregnant", "type1")])
def test_an_unspecified_diabetes_in_pregnancy_written_with_its_type_is_read_as_that_type(text, status):
    s = _state(condition(cc(coding(ICD10, "O24.919"), text=text), "2015-01-01"))
    assert s.factors.diabetes.status == status
    assert "diabetes-unconfirmed" not in _gap_codes(s)


def test_an_unspecified_diabetes_in_pregnancy_written_as_no_diabetes_is_not_asked():
    s = _state(condition(cc(coding(ICD10, "O24.919"), text="No diabetes"), "2015-01-01"))
    assert "diabetes-unconfirmed" not in _gap_codes(s)


# rt79: pf7's "screen" reading took a diabetes out whenever "screen" followed it, a screen of something else too:
# "Type 2 diabetes - screen eyes", "T1DM screen: coeliac" (the type 1 stop of the PI3K/AKT inhibitors lost, CR C.3
# row 14) read as no diabetes, silently. A diabetes is taken out as a screening only when nothing but the
# screening's result follows the word ("Diabetes screen", "Diabetes screen negative", "T2DM screen")
@pytest.mark.parametrize("text,status", [("Type 2 diabetes - screen eyes", "type2-untreated"),
                                         ("Diabetes mellitus type 2 - screen eyes", "type2-untreated"),
                                         ("Type 2 diabetes: screen feet annually", "type2-untreated"),
                                         ("Diabetes type 2 - screen kidneys", "type2-untreated"),
                                         ("Type 2 diabetes screen - retinopathy", "type2-untreated"),
                                         ("T1DM screen: coeliac", "type1"),
                                         ("Type 1 diabetes screen for coeliac disease", "type1")])
def test_a_diabetes_beside_a_screen_of_something_else_is_still_read(text, status):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == status


# rt79: a screen for a diabetes's complications ("Screen for diabetes complications", "Screening for diabetes-related
# eye disease") names a diabetes the patient has, not a screening for diabetes: it was taken out, no diabetes
@pytest.mark.parametrize("text", ["Screen for diabetes complications", "Screen for diabetes-related eye disease",
                                  "Screening for diabetes complications", "Screened for diabetes related retinopathy"])
def test_a_screen_for_a_diabetes_complication_still_reads_the_diabetes(text):
    d = _state(condition(cc(text=text), "2023-01-01")).factors.diabetes
    assert d.status == "type2-untreated" and d.type_recorded == "not recorded"


# rt79: "pre-gestational diabetes" is a diabetes there before the pregnancy (ICD-10-CM O24.0- / O24.1- / O24.3-
# pre-existing diabetes), not a gestational one: taken out as gestational diabetes it was silent, no caution
@pytest.mark.parametrize("text,status,type_recorded", [("Pre-gestational diabetes", "type2-untreated", "not recorded"),
                                                       ("Pre-gestational diabetes (type 2)", "type2-untreated", "type 2"),
                                                       ("Pre gestational diabetes mellitus", "type2-untreated", "not recorded")])
def test_a_pre_gestational_diabetes_is_read_as_the_patients_diabetes(text, status, type_recorded):
    d = _state(condition(cc(text=text), "2024-03-01")).factors.diabetes
    assert (d.status, d.type_recorded) == (status, type_recorded)


# rt79: pf7 read an IFCC HbA1c (LOINC 59261-8) with no valueQuantity unit in mmol/mol, and below 20 not at all, a
# valueString with its unit written too: "8.5 %" was not read (the capivasertib HbA1c > 8.0 % caution lost, CR B.5,
# C.2) and named as "sent without a unit". A unit written after the number is the unit sent
@pytest.mark.parametrize("text,percent", [("8.5 %", 8.5), ("7.2% (55 mmol/mol)", 7.2), ("55 mmol/mol", 7.18)])
def test_an_ifcc_hba1c_with_its_unit_written_in_a_value_string_is_read_in_that_unit(text, percent):
    s = _state(loinc_obs("59261-8", "2024-01-01", valueString=text))
    assert s.factors.diabetes.hba1c.value == percent
    assert not any("sent without a unit" in g.message for g in s.ignored)


def test_an_ifcc_hba1c_value_string_without_a_unit_below_20_is_still_not_read():
    s = _state(loinc_obs("59261-8", "2024-01-01", valueString="6.8"))
    assert s.factors.diabetes.hba1c is None
    assert any("59261-8) value 6.8 sent without a unit" in g.message for g in s.ignored)


# rt79: a positive screen of something else beside a diabetes ("T1DM screen: coeliac positive") or for a diabetes's
# complications ("Screen for diabetes complications - abnormal") was read as a positive diabetes screening: the
# diabetes asked as not confirmed (the type 1 stop of the PI3K/AKT inhibitors lost, CR C.3 row 14). Read as the
# "screen" a diabetes is taken out for (nothing but the result after it; not a complication's screen)
@pytest.mark.parametrize("text,status", [("T1DM screen: coeliac positive", "type1"),
                                         ("Type 2 diabetes screen - retinopathy abnormal", "type2-untreated"),
                                         ("Screen for diabetes complications - abnormal", "type2-untreated")])
def test_a_positive_screen_of_something_else_beside_a_diabetes_still_reads_the_diabetes(text, status):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == status
    assert "diabetes-unconfirmed" not in _gap_codes(s)


@pytest.mark.parametrize("text", ["Diabetes screen positive", "Diabetes screening 2023 positive",
                                  "Screen for diabetes - abnormal", "Diabetes screen: HbA1c 7.0%"])
def test_a_positive_diabetes_screening_is_still_asked(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "diabetes-unconfirmed" in _gap_codes(s)


def _gap(s, code: str) -> str:
    return next(g.message for g in s.gaps if g.code == code)


@pytest.mark.parametrize("value", [{"valueQuantity": {"value": 8.5}}, {"valueString": "8.5"}])
def test_an_ifcc_hba1c_sent_without_a_unit_and_not_read_is_named_not_said_to_be_missing(value):
    # was: "No HbA1c result." beside an HbA1c sent as a unitless 8.5 under the IFCC code (not read:
    # as plausible in % as in mmol/mol), so the clinician was told there was none (rt79)
    s = _state(loinc_obs("59261-8", "2024-05-01", **value))
    assert s.factors.diabetes.hba1c is None
    message = _gap(s, "hba1c-missing")
    assert message.startswith("No readable HbA1c result. 1 result sent but not read: HbA1c (59261-8) value 8.5 "
                              "sent without a unit: as plausible in % as in mmol/mol, not read (Observation/")
    assert message.endswith("Check the value there.")


def test_a_unitless_hba1c_of_22_is_not_read_as_an_uncontrolled_22_percent():
    # 22 without a unit is a normal 22 mmol/mol (4.2 %) as much as an extreme 22 %: was read as 22 %,
    # an uncontrolled diabetes by laboratory values and the capivasertib HbA1c > 8.0 % caution
    s = _state(loinc_obs("4548-4", "2024-05-01", valueQuantity={"value": 22}))
    assert s.factors.diabetes.hba1c is None
    assert "HbA1c value 22 sent without a unit: implausible or ambiguous without one, not read" in _gap(
        s, "hba1c-missing")


@pytest.mark.parametrize("value,percent", [(22, 22.0), (7.1, 7.1)])
def test_an_hba1c_sent_in_percent_is_read_as_sent(value, percent):
    s = _state(loinc_obs("4548-4", "2024-05-01", valueQuantity={"value": value, "unit": "%"}))
    assert s.factors.diabetes.hba1c.value == pytest.approx(percent)


def test_an_implausible_hba1c_is_named_with_its_value_and_unit():
    s = _state(loinc_obs("4548-4", "2024-05-01", valueQuantity={"value": 0.5, "unit": "%"}))
    assert "HbA1c value 0.5 % is implausible in its unit: not read (Observation/" in _gap(s, "hba1c-missing")


def test_no_hba1c_sent_at_all_is_still_said_so_plainly():
    assert _gap(_state(), "hba1c-missing") == "No HbA1c result."


@pytest.mark.parametrize("text,status", [
    # pf8: "not yet" / "not fully" before the diabetes's own "in remission" / "resolved" (the prediabetes cases of
    # test_a_prediabetes_or_hyperglycaemia_not_written_as_over_still_raises_its_gap, pf8)
    ("Type 2 diabetes, not yet in remission", "type2-untreated"), ("T2DM - not fully in remission", "type2-untreated"),
    ("Type 1 diabetes - not yet resolved", "type1"),
    # pf8: a bracket after a diabetes naming another glucose condition before its "resolved" qualifies its own words: "Type
    # 2 diabetes (previously prediabetes, resolved)" was read as a type 2 diabetes over, asked (diabetes-unconfirmed) and not
    # counted; the prediabetes is what resolved (factors._OTHER_GLUCOSE_CONDITION_BRACKET; FHIR R4 Condition.clinicalStatus
    # said in words; CR A.4, C.3 row 14)
    ("Type 2 diabetes (previously prediabetes, resolved)", "type2-untreated"),
    ("Type 2 diabetes (prediabetes resolved)", "type2-untreated"),
    ("Type 2 diabetes (gestational diabetes 2010, resolved)", "type2-untreated"),
    ("Type 2 diabetes (hypoglycaemia resolved)", "type2-untreated"),
    ("Type 1 diabetes (previously IGT, resolved)", "type1"),
    # rt83: a "not yet resolved" written before the diabetes it qualifies ("Not yet resolved type 2 diabetes", "Not
    # resolved T1DM") was read as "not ... diabetes", a negated diabetes: no diabetes, silently (the type 1 stop and the
    # type 2 caution lost, CR C.3 row 14); "Never resolved" / "hasn't resolved" before it read as "resolved": asked, not
    # counted. pf8 read these words after the diabetes as current; before it they are the same words (local_codes.yaml
    # diabetes not_the_patients_patterns, not_current_patterns; FHIR R4 Condition.clinicalStatus said in words)
    ("Not yet resolved type 2 diabetes", "type2-untreated"), ("Not resolved T2DM", "type2-untreated"),
    ("Not yet resolved type 1 diabetes", "type1"), ("Never resolved type 1 diabetes", "type1"),
    ("Hasn't resolved: type 2 diabetes", "type2-untreated"),
    ("Not fully in remission type 2 diabetes", "type2-untreated"),
    # rt83: pf8's bracket of another glucose condition named hyperglycaemia ("hyperglyc") but not the words pf8 read as
    # hyperglycaemia ("high blood sugar", "abnormal glucose", "raised blood glucose": drugs.yaml glucose_lowering_reasons
    # hyperglycaemia): "Type 2 diabetes (high blood sugar resolved)" was still read as a type 2 diabetes over, asked and
    # not counted (the caution weakened to "not confirmed", CR C.3 row 14)
    ("Type 2 diabetes (high blood sugar resolved)", "type2-untreated"),
    ("Type 1 diabetes (abnormal glucose, resolved)", "type1"),
    ("Type 2 diabetes (raised blood glucose resolved)", "type2-untreated"),
    # rt83: pf8 read a "resolved" / "in remission" as negated only with the negation right before it ("not yet", "not
    # fully", "n't"): "has not been resolved", "never been in remission", "not yet fully resolved", "not currently in
    # remission", "no longer in remission" were read as over, the diabetes asked and not counted (a type 1 stop lost, CR
    # C.3 row 14), the prediabetes or hyperglycaemia silent. A negation anywhere between the mention and the "resolved"
    # negates it (local_codes.yaml diabetes not_current_patterns; FHIR R4 Condition.clinicalStatus said in words)
    ("Type 2 diabetes - has not been resolved", "type2-untreated"),
    ("Type 2 diabetes: hasn't been resolved", "type2-untreated"),
    ("Type 2 diabetes, not yet fully resolved", "type2-untreated"),
    ("T2DM - not currently in remission", "type2-untreated"), ("Type 1 diabetes - never been in remission", "type1"),
    ("Type 2 diabetes - no longer in remission", "type2-untreated"),
    ("Not yet fully resolved type 2 diabetes", "type2-untreated"), ("Has not been resolved: type 1 diabetes", "type1"),
    # rt83: pf8 read a "resolved" in a bracket naming another glucose condition as that condition's; written outside a
    # bracket it was still the diabetes's: "Type 1 diabetes, pre diabetes resolved", "Hyperglycaemia resolved - type 1
    # diabetes", "Prediabetes - resolved (now type 2 diabetes)", "Gestational diabetes resolved - now type 2 diabetes" were
    # asked, not counted (the type 1 stop lost, CR C.3 row 14). Another glucose condition's own "resolved" is its own; a
    # text naming no diabetes but that one (coded E11.9, "Gestational diabetes - resolved") is still asked
    ("T2DM, pre-diabetes resolved", "type2-untreated"), ("Type 1 diabetes, pre diabetes resolved", "type1"),
    ("Pre-diabetes resolved - now T2DM", "type2-untreated"),
    ("Prediabetes - resolved (now type 2 diabetes)", "type2-untreated"),
    ("Hyperglycaemia resolved - type 1 diabetes", "type1"),
    ("IGT resolved (type 2 diabetes since 2019)", "type2-untreated"),
    ("Gestational diabetes resolved - now type 2 diabetes", "type2-untreated"),
])
def test_a_diabetes_whose_resolved_is_negated_or_another_conditions_is_counted_as_current(text, status):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == status
    assert "diabetes-unconfirmed" not in _gap_codes(s)


@pytest.mark.parametrize("text", ["Type 2 diabetes - in remission", "Prediabetes - resolved"])
def test_a_diabetes_or_prediabetes_written_as_over_still_reads_as_over(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "prediabetes-recorded" not in _gap_codes(s)


@pytest.mark.parametrize("text", ["Type 2 diabetes (resolved)", "Type 2 diabetes (resolved after weight loss)",
                                  "Type 2 diabetes (resolved, was prediabetes)"])
def test_a_resolved_in_a_bracket_of_the_diabetes_own_is_still_asked(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "diabetes-unconfirmed" in _gap_codes(s)


# pf8: the words of R73.0 / R73 / R73.9 sent as text only ("Abnormal glucose", "Elevated blood glucose", "High blood
# sugar") were silent while the code R73.09 raised hyperglycaemia-recorded; read as the code's words are (drugs.yaml
# glucose_lowering_reasons hyperglycaemia; ICD-10-CM 2025 tabular R73; NCI Dictionary "high blood sugar ... Also called
# hyperglycemia"), with the same negated / relative's / over readings (local_codes.yaml hyperglycaemia_negated_patterns)
@pytest.mark.parametrize("text", ["Abnormal glucose", "Elevated blood glucose", "Elevated blood glucose level",
                                  "High blood sugar", "Raised blood glucose"])
def test_an_abnormal_or_high_blood_glucose_written_without_a_code_raises_the_hyperglycaemia_gap(text):
    s = _state(condition(cc(text=text), "2023-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert f'("{text}")' in _gap(s, "hyperglycaemia-recorded")


@pytest.mark.parametrize("text", ["No abnormal glucose", "Denies high blood sugar", "High blood sugar ruled out",
                                  "Abnormal glucose in mother", "Family history of high blood sugar",
                                  "Elevated blood glucose - resolved"])
def test_an_abnormal_or_high_blood_glucose_negated_a_relatives_or_over_raises_no_gap(text):
    assert "hyperglycaemia-recorded" not in _gap_codes(_state(condition(cc(text=text), "2023-01-01")))


def test_metformin_given_for_high_blood_sugar_is_not_counted_as_diabetes_treatment():
    m = med_request("6809", "2024-01-01", display="metformin")
    m["reasonCode"] = [cc(text="High blood sugar")]
    s = _state(m)
    assert s.factors.diabetes.status == "none-documented"
    assert "metformin for hyperglycaemia" in _gap(s, "glucose-lowering-not-for-diabetes")


def test_insulin_given_for_a_gestational_diabetes_recorded_as_a_condition_names_it_once():
    insulin = med_request("86009", "2024-01-01", display="insulin lispro")
    insulin["reasonCode"] = [cc(coding(ICD10, "O24.414"))]
    s = _state(condition(cc(coding(ICD10, "O24.414")), "2024-01-01"), insulin)
    assert _gap(s, "diabetes-unconfirmed").count("gestational diabetes (") == 1
    assert s.factors.diabetes.treatment == ["insulin lispro"]


@pytest.mark.parametrize("text", [
    "Not diabetic", "No type 2 diabetes", "Not known to have diabetes", "Resolved type 2 diabetes",
    "Type 2 diabetes - resolved", "Type 2 diabetes, in remission since 2020", "Hyperglycaemia resolved, not diabetic",
    "Type 2 diabetes - in remission, HbA1c in prediabetes range", "Type 2 diabetes in remission (was prediabetes)",
])
def test_a_diabetes_negated_or_written_as_over_is_still_not_counted(text):
    assert _state(condition(cc(text=text), "2023-01-01")).factors.diabetes.status == "none-documented"


# rt83: an O24.9- Condition whose text names no diabetes at all ("Pregnancy", "Antenatal care") was read as words that
# "say otherwise": silent, no diabetes and no gap, while its code says a diabetes in pregnancy (ICD-10-CM O24.9; pf8
# asks it). Only words that name a diabetes (or a gestational one) decide; a text about the pregnancy alone does not
@pytest.mark.parametrize("text", ["Pregnancy", "Antenatal care, 28 weeks"])
def test_an_unspecified_diabetes_in_pregnancy_whose_text_names_no_diabetes_is_still_asked(text):
    s = _state(condition(cc(coding(ICD10, "O24.919"), text=text), "2015-01-01"))
    assert s.factors.diabetes.status == "none-documented"
    assert "coded O24.919: a diabetes in pregnancy" in _gap(s, "diabetes-unconfirmed")


@pytest.mark.parametrize("text", ["History of GDM", "Gestational diabetes, resolved"])
def test_an_unspecified_diabetes_in_pregnancy_written_as_a_past_gestational_diabetes_is_not_asked(text):
    assert "diabetes-unconfirmed" not in _gap_codes(_state(condition(cc(coding(ICD10, "O24.919"), text=text), "2015-01-01")))


# rt83: the unit written after a valueString's number was read under the IFCC code (59261-8) alone. Under the NGSP code
# (4548-4, 17856-6) "18 mmol/mol" (3.8 %, normal) was read as 18 %, an uncontrolled diabetes by laboratory values (the
# capivasertib HbA1c > 8.0 % caution, CR B.5, C.2), and since ecc3c86 "22 %" was not read and named as "sent without a
# unit". A unit written after the number is the unit sent, under every HbA1c code (NGSP % = 0.09148 x IFCC + 2.152,
# http://www.ngsp.org/ifcc.asp)
@pytest.mark.parametrize("code", ["4548-4", "17856-6"])
@pytest.mark.parametrize("text,percent", [("18 mmol/mol", 3.8), ("22 %", 22.0), ("7.2% (55 mmol/mol)", 7.2)])
def test_an_hba1c_with_its_unit_written_in_a_value_string_is_read_in_that_unit_under_every_code(code, text, percent):
    s = _state(loinc_obs(code, "2024-01-01", valueString=text))
    assert round(s.factors.diabetes.hba1c.value, 1) == percent
    assert "hba1c-missing" not in _gap_codes(s)


def test_an_hba1c_value_string_with_an_implausible_written_percent_is_named_with_its_unit():
    message = _gap(_state(loinc_obs("4548-4", "2024-01-01", valueString="1.5 %")), "hba1c-missing")
    assert "HbA1c value 1.5 % is implausible in its unit: not read" in message


# rt83: ecc3c86 wrote the unit sent into the gap hba1c-missing whole: a unit of hundreds of characters filled the card
def test_an_unread_hba1c_names_its_unit_clipped():
    s = _state(loinc_obs("4548-4", "2024-01-01", valueQuantity={"value": 22, "unit": "x" * 500}))
    message = _gap(s, "hba1c-missing")
    assert "HbA1c value 22 xxxx" in message and len(message) < 300


# rt83: pf8 read "high blood sugar" in a drug's reason as hyperglycaemia, not diabetes; written beside a bare "DM" (the
# abbreviation of diabetes mellitus, not read alone as a diabetes: it also stands for other conditions) the metformin of
# "High sugars (DM)" was no longer counted as diabetes treatment (the treated diabetes caution lost, CR A.4, C.3 row
# 14); before pf8 it counted. Which reason is meant cannot be told: read as a reason not recorded, as before
@pytest.mark.parametrize("reason", ["High sugars (DM)", "High blood sugar - DM", "Hyperglycaemia (DM)"])
def test_metformin_given_for_high_blood_sugar_beside_a_bare_dm_is_still_counted_as_treatment(reason):
    m = med_request("6809", "2024-01-01", display="metformin")
    m["reasonCode"] = [cc(text=reason)]
    s = _state(m)
    assert s.factors.diabetes.treatment == ["metformin"]
    assert "glucose-lowering-not-for-diabetes" not in _gap_codes(s)


def test_metformin_written_for_high_blood_sugar_beside_a_bare_dm_in_its_own_words_is_still_counted_as_treatment():
    s = _state(med_request("6809", "2024-01-01", display="Metformin 500 mg for high blood sugar (DM)"))
    assert s.factors.diabetes.treatment == ["metformin"]


# rt83: pf8's "high / increased sugar" words read a diet as a hyperglycaemia: "High sugar diet", "Increased sugar
# intake" raised hyperglycaemia-recorded (the sugar eaten, not the blood's: drugs.yaml glucose_lowering_reasons
# hyperglycaemia)
@pytest.mark.parametrize("text", ["High sugar diet", "Increased sugar intake", "High glucose drinks"])
def test_a_high_sugar_diet_raises_no_hyperglycaemia_gap(text):
    assert "hyperglycaemia-recorded" not in _gap_codes(_state(condition(cc(text=text), "2023-01-01")))


def test_unread_hba1c_results_beyond_three_are_counted_not_dotted():
    s = _state(*[loinc_obs("4548-4", f"2024-0{i}-01", valueQuantity={"value": 0.5 + i / 10, "unit": "%"})
                 for i in range(1, 6)])
    message = _gap(s, "hba1c-missing")
    assert "; and 2 more. Check the value there." in message and "...." not in message


@pytest.mark.parametrize("text", ["Gestational diabetes - resolved", "Pre-diabetes resolved"])
def test_a_diabetes_code_whose_text_names_only_another_glucose_condition_resolved_is_still_asked(text):
    s = _state(condition(cc(coding(ICD10, "E11.9"), text=text), "2023-01-01"))
    assert "diabetes-unconfirmed" in _gap_codes(s)


def test_a_newer_hba1c_that_could_not_be_read_is_named_beside_the_older_one_used():
    # rt83: a unitless 22 of 2024 beside a readable 6.5 % of 2022: the 2022 value was used and nothing
    # said the latest was skipped (the diabetes control and the HbA1c > 8.0 % caution read from it)
    s = _state(loinc_obs("4548-4", "2022-01-10", valueQuantity={"value": 6.5, "unit": "%"}),
               loinc_obs("4548-4", "2024-05-01", valueQuantity={"value": 22}))
    assert s.factors.diabetes.hba1c.value == pytest.approx(6.5)
    message = _gap(s, "hba1c-latest-not-read")
    assert message.startswith("A newer HbA1c result than the one read was sent but not read: HbA1c value 22 sent "
                              "without a unit: implausible or ambiguous without one, not read (Observation/")
    assert ", 2024-05-01). Check the value there. The HbA1c of 2022-01-10 is used." in message


def test_an_older_hba1c_that_could_not_be_read_raises_no_gap_beside_the_newer_one_used():
    s = _state(loinc_obs("4548-4", "2022-01-10", valueQuantity={"value": 22}),
               loinc_obs("4548-4", "2024-05-01", valueQuantity={"value": 6.5, "unit": "%"}))
    assert s.factors.diabetes.hba1c.value == pytest.approx(6.5)
    assert "hba1c-latest-not-read" not in _gap_codes(s)
