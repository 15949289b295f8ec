"""A glucose-lowering drug given for another reason than diabetes (drugs.yaml
glucose_lowering_reasons; CR A.4 counts anti-hyperglycaemic treatment *of diabetes*; FHIR R4
Medication{Request,Statement,Administration}.reasonCode / reasonReference)."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import ICD10, PID, SNOMED, cc, coding, condition, med_admin, med_request, med_statement, patient

AS_OF = dt.date(2024, 6, 1)
METFORMIN, SEMAGLUTIDE, INSULIN_LISPRO = "6809", "1991302", "86009"


def state(*resources):
    return build_patient_state([patient(birth="1980-01-01"), *resources], PID, AS_OF)


def with_reason(res, *reasons):
    res["reasonCode"] = list(reasons)
    return res


def gap(s, code):
    return next((g.message for g in s.gaps if g.code == code), None)


@pytest.mark.parametrize("reason", [cc(coding(ICD10, "E28.2")), cc(text="Polycystic ovary syndrome"),
                                    cc(coding(SNOMED, "237055002", "Polycystic ovary syndrome"))])
def test_metformin_given_for_polycystic_ovary_syndrome_is_not_treated_diabetes_and_the_gap_names_the_reason(reason):
    # was: "diabetes (type not recorded), on glucose-lowering treatment (metformin)"
    s = state(with_reason(med_statement(METFORMIN, "2024-01-01", status="active", display="metformin"), reason))
    d = s.factors.diabetes
    assert d.status == "none-documented" and not d.on_antihyperglycemic and d.treatment == []
    assert "metformin for polycystic ovary syndrome" in gap(s, "glucose-lowering-not-for-diabetes")


def test_metformin_whose_text_says_for_pcos_is_not_treated_diabetes():
    s = state(med_statement(METFORMIN, "2024-01-01", status="active", text="Metformin 500 mg twice daily for PCOS"))
    assert s.factors.diabetes.status == "none-documented"
    assert "polycystic ovary syndrome" in gap(s, "glucose-lowering-not-for-diabetes")


def test_metformin_for_prediabetes_is_not_treated_diabetes():
    s = state(with_reason(med_request(METFORMIN, "2024-01-01", display="metformin"), cc(coding(ICD10, "R73.03"))))
    assert s.factors.diabetes.status == "none-documented"
    assert "metformin for prediabetes" in gap(s, "glucose-lowering-not-for-diabetes")


def test_metformin_given_for_type_2_diabetes_or_without_a_reason_is_still_treated_diabetes():
    for res in (with_reason(med_request(METFORMIN, "2024-01-01", display="metformin"), cc(coding(ICD10, "E11.9"))),
                med_request(METFORMIN, "2024-01-01", display="metformin")):
        s = state(res)
        assert s.factors.diabetes.status == "type2-treated" and s.factors.diabetes.treatment == ["metformin"]
        assert gap(s, "glucose-lowering-not-for-diabetes") is None


def test_a_reason_naming_diabetes_beside_another_counts_as_diabetes_treatment():
    res = with_reason(med_request(METFORMIN, "2024-01-01", display="metformin"), cc(coding(ICD10, "E28.2")),
                      cc(text="Type 2 diabetes mellitus"))
    assert state(res).factors.diabetes.status == "type2-treated"


def test_a_glp1_agonist_given_for_type_2_diabetes_documents_treated_diabetes():
    # without a reason a GLP-1 RA documents no diabetes (drugs.yaml diabetes_specific false); its
    # reasonCode type 2 diabetes does (CR A.4)
    res = with_reason(med_request(SEMAGLUTIDE, "2024-01-01", display="semaglutide"), cc(coding(ICD10, "E11.9")))
    assert state(res).factors.diabetes.status == "type2-treated"


@pytest.mark.parametrize("text", ["Wegovy 2.4 mg weekly", "Zepbound 5 mg", "Saxenda 3 mg daily"])
def test_a_weight_management_brand_is_not_diabetes_treatment(text):
    # was: "on anti-hyperglycaemic treatment" (the hyperglycaemia caution on a non-diabetic patient)
    s = state(med_statement(None, "2024-01-01", status="active", text=text))
    d = s.factors.diabetes
    assert not d.on_antihyperglycemic and d.status == "none-documented"
    assert "for weight management" in gap(s, "glucose-lowering-not-for-diabetes")


def test_semaglutide_given_for_obesity_by_reason_reference_is_not_diabetes_treatment():
    obesity = condition(cc(coding(ICD10, "E66.9", "Obesity")), "2023-01-01", rid="obesity-1")
    res = med_statement(SEMAGLUTIDE, "2024-01-01", status="active", display="semaglutide")
    res["reasonReference"] = [{"reference": "Condition/obesity-1"}]
    s = state(obesity, res)
    assert not s.factors.diabetes.on_antihyperglycemic
    assert "semaglutide for weight management" in gap(s, "glucose-lowering-not-for-diabetes")


def test_insulin_given_in_hospital_for_steroid_induced_hyperglycaemia_is_hyperglycaemia_not_diabetes():
    res = with_reason(med_admin(INSULIN_LISPRO, "2024-05-20", display="insulin lispro"),
                      cc(text="Steroid-induced hyperglycemia"))
    d = state(res).factors.diabetes
    assert d.status == "none-documented" and d.hyperglycaemia_treated
    assert d.not_for_diabetes == ["insulin lispro for hyperglycaemia (not a diabetes diagnosis)"]


def test_sliding_scale_insulin_given_only_in_hospital_is_hyperglycaemia_not_treated_diabetes():
    res = med_admin(INSULIN_LISPRO, "2024-05-20", display="insulin lispro")
    res["dosage"] = {"text": "Sliding scale per protocol"}
    d = state(res).factors.diabetes
    assert d.status == "none-documented" and d.hyperglycaemia_treated
    assert "sliding scale in hospital" in d.not_for_diabetes[0]


def test_sliding_scale_insulin_beside_an_outpatient_prescription_is_still_treated_diabetes():
    given = med_admin(INSULIN_LISPRO, "2024-05-20", display="insulin lispro")
    given["dosage"] = {"text": "Sliding scale"}
    d = state(given, med_request(INSULIN_LISPRO, "2024-01-01", display="insulin lispro")).factors.diabetes
    assert d.status == "type2-treated"


@pytest.mark.parametrize("text, treatment", [
    ("Janumet 50/1000 mg twice daily", ["sitagliptin", "metformin"]),
    ("Synjardy 12.5/1000 mg", ["empagliflozin", "metformin"]),
    ("Xigduo XR 10/1000", ["dapagliflozin", "metformin"]),
    ("Glucovance 5/500", ["glyburide", "metformin"]),
    ("Kombiglyze XR", ["saxagliptin", "metformin"]),
    ("Soliqua 100/33 pen", ["insulin glargine", "lixisenatide"]),
    ("Xultophy 100/3.6", ["insulin degludec", "liraglutide"]),
])
def test_a_fixed_dose_combination_product_is_treated_diabetes_naming_every_ingredient(text, treatment):
    # was: Janumet read as sitagliptin alone; Synjardy, Xigduo, Glucovance, Kombiglyze, Soliqua and
    # Xultophy not read at all (no diabetes, no hyperglycaemia caution)
    d = state(med_statement(None, "2024-01-01", status="active", text=text)).factors.diabetes
    assert d.status == "type2-treated" and d.treatment == treatment


@pytest.mark.parametrize("text", ["Metformin for PCOS and type 2 diabetes", "Metformin 500 mg, not for weight loss"])
def test_a_drug_text_naming_diabetes_beside_another_reason_or_negating_the_other_reason_is_still_treated_diabetes(text):
    s = state(med_statement(METFORMIN, "2024-01-01", status="active", text=text))
    assert s.factors.diabetes.status == "type2-treated"
    assert gap(s, "glucose-lowering-not-for-diabetes") is None


@pytest.mark.parametrize("diabetes_code, status", [("E11.9", "type2-treated"), ("E10.9", "type1")])
def test_insulin_for_steroid_induced_hyperglycaemia_in_a_patient_with_diabetes_is_that_diabetes_treatment(
        diabetes_code, status):
    # was: "type 2 diabetes, no glucose-lowering treatment recorded" and "insulin glargine for
    # hyperglycaemia (not a diabetes diagnosis)": a diabetic patient's insulin hidden (CR C.3 row 14,
    # B.5: insulin-requiring type 2 diabetes was a CAPItello-291 exclusion)
    diabetes = condition(cc(coding(ICD10, diabetes_code)), "2015-01-01")
    insulin = med_statement(None, "2024-01-01", status="active",
                            text="Insulin glargine 10 units for steroid-induced hyperglycaemia")
    s = state(diabetes, insulin)
    d = s.factors.diabetes
    assert d.status == status and d.treatment == ["insulin glargine"] and d.not_for_diabetes == []
    assert gap(s, "glucose-lowering-not-for-diabetes") is None


def test_metformin_given_for_pcos_in_a_patient_with_type_2_diabetes_is_still_its_treatment():
    # was: "type 2 diabetes, no glucose-lowering treatment recorded" beside "metformin for polycystic
    # ovary syndrome": in a diabetic patient the drug lowers that diabetes's glucose whatever the
    # prescriber's reason (inavolisib label: "Type 2 diabetes mellitus requiring ongoing
    # anti-hyperglycemic treatment", CR B)
    s = state(condition(cc(coding(ICD10, "E11.9")), "2015-01-01"),
              med_statement(METFORMIN, "2024-01-01", status="active", text="Metformin 500 mg for PCOS"))
    assert s.factors.diabetes.status == "type2-treated" and s.factors.diabetes.treatment == ["metformin"]


@pytest.mark.parametrize("text, note", [("Semaglutide 1 mg for obesity; also T2DM", None),
                                        ("Metformin 500 mg for PCOS", "Known type 2 diabetes")])
def test_a_drug_record_whose_own_words_name_the_patients_diabetes_outside_the_reason_clause_is_diabetes_treatment(
        text, note):
    # was: "semaglutide for weight management" / "metformin for polycystic ovary syndrome", no
    # diabetes: the diabetes the same record names was read only right after "for" (CR A.4)
    res = med_statement(None, "2024-01-01", status="active", text=text)
    if note:
        res["note"] = [{"text": note}]
    s = state(res)
    assert s.factors.diabetes.status == "type2-treated"
    assert gap(s, "glucose-lowering-not-for-diabetes") is None


@pytest.mark.parametrize("reason_text, own_text", [("Diabetes prevention", None),
                                                    (None, "Metformin 850 mg for prevention of type 2 diabetes")])
def test_metformin_given_to_prevent_diabetes_is_not_treated_diabetes(reason_text, own_text):
    # was: "diabetes (type not recorded), on glucose-lowering treatment (metformin)": the diabetes
    # the drug is to prevent read as the patient's (CR A.4: only a diagnosis counts)
    res = med_statement(METFORMIN, "2024-01-01", status="active", display="metformin", text=own_text)
    if reason_text:
        res = with_reason(res, cc(text=reason_text))
    s = state(res)
    assert s.factors.diabetes.status == "none-documented" and not s.factors.diabetes.on_antihyperglycemic
    assert "metformin for prediabetes" in gap(s, "glucose-lowering-not-for-diabetes")


def test_metformin_for_prevention_of_diabetes_complications_is_still_treated_diabetes():
    s = state(med_statement(METFORMIN, "2024-01-01", status="active", text="Metformin for prevention of diabetes complications"))
    assert s.factors.diabetes.status == "type2-treated"


@pytest.mark.parametrize("res", [med_statement(None, "2024-01-01", status="active", text="Ozempic 1 mg weekly"),
                                 med_request(SEMAGLUTIDE, "2024-01-01", display="Ozempic 0.5 mg/dose pen"),
                                 med_statement(None, "2024-01-01", status="active", text="Rybelsus 7 mg daily")])
def test_a_brand_labelled_for_type_2_diabetes_alone_without_a_reason_is_diabetes_treatment(res):
    # was: "on anti-hyperglycaemic treatment", no diabetes named (semaglutide is also a weight
    # drug); the brand's label names type 2 diabetes alone (drugs.yaml diabetes_only_brands)
    d = state(res).factors.diabetes
    assert d.status == "type2-treated" and d.treatment == ["semaglutide"]


@pytest.mark.parametrize("text", ["Semaglutide 1 mg weekly", "Tirzepatide 5 mg weekly", "Liraglutide 1.2 mg daily",
                                  "Dulaglutide 1.5 mg weekly", "Exenatide 2 mg weekly", "Lixisenatide 20 mcg daily"])
def test_a_generic_glp1_name_without_a_reason_stays_anti_hyperglycaemic_treatment_only(text):
    d = state(med_statement(None, "2024-01-01", status="active", text=text)).factors.diabetes
    assert d.status == "none-documented" and d.on_antihyperglycemic


@pytest.mark.parametrize("text,drug", [("Mounjaro 5 mg weekly", "tirzepatide"), ("Victoza 1.2 mg daily", "liraglutide"),
                                       ("Trulicity 1.5 mg weekly", "dulaglutide"), ("Byetta 10 mcg twice daily", "exenatide"),
                                       ("Bydureon BCise 2 mg weekly", "exenatide"), ("Adlyxin 20 mcg daily", "lixisenatide")])
def test_a_glp1_brand_whose_us_label_is_type_2_diabetes_alone_is_diabetes_treatment_without_a_reason(text, drug):
    # was: "on anti-hyperglycaemic treatment" without diabetes named (Adlyxin: not read at all);
    # drugs.yaml glucose_lowering_reasons diabetes_only_brands (US labels: type 2 diabetes only)
    d = state(med_statement(None, "2024-01-01", status="active", text=text)).factors.diabetes
    assert d.status == "type2-treated" and d.treatment == [drug]


@pytest.mark.parametrize("text,drug", [("Zepbound 5 mg weekly", "tirzepatide"), ("Saxenda 3 mg daily", "liraglutide"),
                                       ("Mounjaro 5 mg for weight loss", "tirzepatide")])
def test_the_weight_brand_of_a_diabetes_brand_or_a_written_weight_reason_is_not_diabetes_treatment(text, drug):
    s = state(med_statement(None, "2024-01-01", status="active", text=text))
    assert s.factors.diabetes.status == "none-documented" and not s.factors.diabetes.on_antihyperglycemic
    assert f"{drug} for weight management" in gap(s, "glucose-lowering-not-for-diabetes")


def test_an_ozempic_record_written_for_weight_loss_is_not_diabetes_treatment():
    s = state(med_statement(None, "2024-01-01", status="active", text="Ozempic 1 mg for weight loss"))
    assert s.factors.diabetes.status == "none-documented" and not s.factors.diabetes.on_antihyperglycemic
    assert "semaglutide for weight management" in gap(s, "glucose-lowering-not-for-diabetes")


@pytest.mark.parametrize("text", ["Ozempic (for weight)", "Ozempic 0.5 mg weekly - off-label for weight", "Ozempic (wt loss)"])
def test_an_ozempic_record_whose_written_reason_is_weight_is_not_read_as_diabetes_treatment(text):
    # since the diabetes-only brands (rd2) these were read as treated type 2 diabetes: the reason
    # written ("for weight") was not read, so the brand decided against it
    s = state(med_statement(None, "2024-01-01", status="active", text=text))
    assert s.factors.diabetes.status == "none-documented" and not s.factors.diabetes.on_antihyperglycemic
    assert "semaglutide for weight management" in gap(s, "glucose-lowering-not-for-diabetes")


@pytest.mark.parametrize("text", ["Ozempic 1 mg weekly (weight gain on steroids? no)", "Ozempic, weight 92 kg"])
def test_an_ozempic_record_naming_weight_but_no_weight_reason_stays_diabetes_treatment(text):
    assert state(med_statement(None, "2024-01-01", status="active", text=text)).factors.diabetes.status == "type2-treated"


def test_insulin_dosed_by_weight_is_still_diabetes_treatment():
    s = state(med_statement(None, "2024-01-01", status="active", text="Insulin glargine 20 units (weight-based dosing)"))
    assert s.factors.diabetes.status == "type2-treated"


def test_metformin_for_borderline_diabetes_is_metformin_for_prediabetes_not_treated_diabetes():
    # was: "diabetes (type not recorded), on glucose-lowering treatment (metformin)"
    s = state(med_statement(METFORMIN, "2024-01-01", status="active", text="Metformin 500 mg for borderline diabetes"))
    assert s.factors.diabetes.status == "none-documented" and not s.factors.diabetes.on_antihyperglycemic
    assert "metformin for prediabetes" in gap(s, "glucose-lowering-not-for-diabetes")


@pytest.mark.parametrize("text,drug", [("Mounjaro 5 mg weekly", "tirzepatide"), ("Victoza 1.2 mg daily", "liraglutide"),
                                       ("Trulicity 1.5 mg weekly", "dulaglutide"), ("Ozempic 1 mg weekly", "semaglutide")])
@pytest.mark.parametrize("reason,label", [(cc(text="Obesity"), "weight management"), (cc(coding(ICD10, "E66.9")), "weight management"),
                                          (cc(coding(ICD10, "E28.2")), "polycystic ovary syndrome"),
                                          (cc(text="Steroid-induced hyperglycaemia"), "hyperglycaemia (not a diabetes diagnosis)")])
def test_a_diabetes_brand_whose_record_gives_another_reason_in_reason_code_is_not_diabetes_treatment(text, drug, reason, label):
    # was "type 2 diabetes, on glucose-lowering treatment": the brand's label (drugs.yaml
    # diabetes_only_brands) stands in for a reason only when none is recorded; the record's
    # reasonCode (FHIR R4 MedicationStatement.reasonCode) is the reason written
    s = state(with_reason(med_statement(None, "2024-01-01", status="active", text=text), reason))
    assert s.factors.diabetes.status == "none-documented" and not s.factors.diabetes.on_antihyperglycemic
    assert f"{drug} for {label}" in gap(s, "glucose-lowering-not-for-diabetes")


def test_a_diabetes_brand_whose_reason_code_names_diabetes_stays_diabetes_treatment():
    s = state(with_reason(med_statement(None, "2024-01-01", status="active", text="Mounjaro 5 mg weekly"),
                          cc(coding(ICD10, "E11.9"))))
    assert s.factors.diabetes.status == "type2-treated" and s.factors.diabetes.treatment == ["tirzepatide"]
