"""The hyperglycaemia cautions of the PI3K/AKT/mTOR cards when a glucose-lowering drug was given
for another reason than diabetes (mappings.factors._glucose_lowering_reason; CR A.4, C.2 safety
overlays, C.3 row 14)."""

import datetime as dt

import pytest

from tests.cards.fhir_builder import RXNORM, hr_positive_mbc
from tests.cards.helpers import card, view
from tests.cards.invariants import check_invariants

AS_OF = dt.date(2025, 7, 1)


def _after_ai_cdk46i(pid: str, drug_record: dict):
    p = (hr_positive_mbc(pid, primary="2024-01-10").regimen(("letrozole", "palbociclib"), "2024-02-01", "2025-05-20")
         .progression("2025-05-15"))
    p.add(dict(drug_record, subject={"reference": f"Patient/{pid}"}))
    state = p.state(AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return cards


def _metformin(reason_text: str | None) -> dict:
    r = {"resourceType": "MedicationStatement", "id": "metformin-1", "status": "active",
         "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "6809", "display": "metformin"}]},
         "effectivePeriod": {"start": "2025-01-01"}}
    if reason_text:
        r["reasonCode"] = [{"text": reason_text}]
    return r


def test_metformin_for_pcos_gives_no_treated_diabetes_caution_on_the_everolimus_card():
    # was: "caution: diabetes/hyperglycaemia", "diabetes (type not recorded), on glucose-lowering treatment (metformin)"
    c = card(_after_ai_cdk46i("gl-pcos", _metformin("Polycystic ovary syndrome")), "everolimus-exemestane")
    assert "diabetes" not in c["summary"]
    assert "on glucose-lowering treatment (metformin)" not in c["detail"]


def test_metformin_without_a_reason_still_gives_the_treated_diabetes_caution():
    c = card(_after_ai_cdk46i("gl-none", _metformin(None)), "everolimus-exemestane")
    assert "diabetes/hyperglycaemia" in c["summary"]
    assert "on glucose-lowering treatment (metformin)" in c["detail"]


def test_insulin_for_steroid_induced_hyperglycaemia_is_a_caution_not_confirmed_as_diabetes():
    given = {"resourceType": "MedicationAdministration", "id": "insulin-1", "status": "completed",
             "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "86009", "display": "insulin lispro"}]},
             "effectiveDateTime": "2025-06-20", "reasonCode": [{"text": "Steroid-induced hyperglycemia"}]}
    c = card(_after_ai_cdk46i("gl-steroid", given), "everolimus-exemestane")
    assert "caution: diabetes not confirmed" in c["summary"]
    assert "glucose-lowering drug not counted as diabetes treatment: insulin lispro for hyperglycaemia (not a diabetes diagnosis)" in c["detail"]


def test_janumet_is_named_as_both_its_ingredients_on_the_caution():
    # was: "on glucose-lowering treatment (sitagliptin)": the metformin of the combination unnamed
    record = {"resourceType": "MedicationStatement", "id": "janumet-1", "status": "active",
              "medicationCodeableConcept": {"text": "Janumet 50/1000 mg"}, "effectivePeriod": {"start": "2025-01-01"}}
    c = card(_after_ai_cdk46i("gl-janumet", record), "everolimus-exemestane")
    assert "on glucose-lowering treatment (sitagliptin, metformin)" in c["detail"]


def _type_2_diabetic_after_first_line(pid: str):
    """A patient after first-line letrozole + palbociclib (progression 2025-05-15) with type 2
    diabetes coded (ICD-10-CM E11.9) since 2015."""
    p = (hr_positive_mbc(pid, primary="2024-01-10").regimen(("letrozole", "palbociclib"), "2024-02-01",
                                                            "2025-05-20").progression("2025-05-15"))
    p.add({"resourceType": "Condition", "id": "dm2", "subject": {"reference": f"Patient/{pid}"},
           "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}]},
           "onsetDateTime": "2015-01-01"})
    return p


def _everolimus_card(p):
    """The patient's state and its everolimus + exemestane card (the card invariants checked)."""
    state = p.state(AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return state, card(cards, "everolimus-exemestane")


def test_insulin_for_steroid_hyperglycaemia_in_a_type_2_diabetic_is_named_as_the_diabetes_treatment():
    # was: "type 2 diabetes, no glucose-lowering treatment recorded; glucose-lowering drug not for
    # diabetes: insulin glargine for hyperglycaemia (not a diabetes diagnosis)": the insulin of an
    # insulin-requiring type 2 diabetes (a CAPItello-291 exclusion, CR B.5 / C.3 row 14) hidden
    p = _type_2_diabetic_after_first_line("gl-t2-steroid")
    p.add({"resourceType": "MedicationStatement", "id": "glargine-1", "status": "active",
           "subject": {"reference": "Patient/gl-t2-steroid"},
           "medicationCodeableConcept": {"text": "Insulin glargine 10 units for steroid-induced hyperglycaemia"},
           "effectivePeriod": {"start": "2025-06-01"}})
    state, c = _everolimus_card(p)
    assert "type 2 diabetes, on glucose-lowering treatment (insulin glargine)" in c["detail"]
    assert "not for diabetes" not in c["detail"]


def _written(rid: str, text: str) -> dict:
    return {"resourceType": "MedicationStatement", "id": rid, "status": "active",
            "medicationCodeableConcept": {"text": text}, "effectivePeriod": {"start": "2025-01-01"}}


@pytest.mark.parametrize("text", ["No insulin", "No Ozempic", "Metformin - stopped", "Insulin (discontinued)",
                                  "Not on metformin", "Metformin - not taking", "Stopped metformin",
                                  "No metformin or insulin", "Insulin not required"])
def test_a_glucose_lowering_drug_written_as_stopped_or_not_taken_is_no_treated_diabetes_on_the_everolimus_card(text):
    # was: "caution: diabetes/hyperglycaemia", "on glucose-lowering treatment (...)" on an active
    # record whose text says the drug is stopped or not taken (CR A.4: treatment of diabetes)
    c = card(_after_ai_cdk46i("gl-stopped", _written("gl-stopped-1", text)), "everolimus-exemestane")
    assert "diabetes" not in c["summary"]
    assert "on glucose-lowering treatment" not in c["detail"]


def test_a_stopped_metformin_beside_a_type_2_diabetes_condition_is_still_type_2_diabetes_without_treatment():
    p = _type_2_diabetic_after_first_line("gl-t2-stopped")
    p.add(dict(_written("metformin-stopped", "Metformin - stopped"), subject={"reference": "Patient/gl-t2-stopped"}))
    state, c = _everolimus_card(p)
    assert "diabetes/hyperglycaemia" in c["summary"]
    assert "on glucose-lowering treatment (metformin)" not in c["detail"]
    assert "glucose-lowering-not-taken" in {g.code for g in state.gaps}


@pytest.mark.parametrize("text", ["Metformin held", "Stopped metformin for 2 days (contrast)",
                                  "No metformin on day of contrast", "Metformin withheld for CT contrast",
                                  "Hold metformin 48 h after contrast", "Metformin stopped until after chemotherapy",
                                  "Metformin stopped until after surgery", "Off metformin until after the procedure"])
def test_a_held_or_paused_metformin_is_still_the_treated_diabetes_caution(text):
    # a hold or a pause is no stop, as the therapy history reads one of an anticancer drug
    # (drugs.yaml not_taken_opening; local_codes.yaml drug_mentions stopped_paused)
    c = card(_after_ai_cdk46i("gl-held", _written("gl-held-1", text)), "everolimus-exemestane")
    assert "on glucose-lowering treatment (metformin)" in c["detail"]


def test_a_diabetes_brand_given_for_obesity_by_its_reason_code_gives_no_treated_diabetes_caution():
    # was: "caution: diabetes/hyperglycaemia", "type 2 diabetes, on glucose-lowering treatment
    # (tirzepatide)" - the brand's label (drugs.yaml diabetes_only_brands) outranked the reasonCode
    record = {"resourceType": "MedicationStatement", "id": "mounjaro-1", "status": "active",
              "medicationCodeableConcept": {"text": "Mounjaro 5 mg weekly"}, "effectivePeriod": {"start": "2025-01-01"},
              "reasonCode": [{"text": "Obesity"}]}
    c = card(_after_ai_cdk46i("gl-mounjaro-obesity", record), "everolimus-exemestane")
    assert "diabetes/hyperglycaemia" not in c["summary"]
    assert "on glucose-lowering treatment (tirzepatide)" not in c["detail"]


def test_a_liraglutide_step_down_is_never_called_not_for_diabetes_on_a_card():
    # pf6: "Victoza 3 mg, reduce to 1.2 mg" states no indication (diabetes or weight management);
    # the cards' caution line said "glucose-lowering drug not for diabetes: liraglutide, its
    # indication ... not stated", a fact the record does not give
    given = {"resourceType": "MedicationStatement", "id": "victoza-1", "status": "active",
             "medicationCodeableConcept": {"text": "Victoza 3 mg, reduce to 1.2 mg"},
             "effectivePeriod": {"start": "2025-01-01"}}
    insulin = {"resourceType": "MedicationAdministration", "id": "insulin-2", "status": "completed",
               "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "86009", "display": "insulin lispro"}]},
               "effectiveDateTime": "2025-06-20", "reasonCode": [{"text": "Steroid-induced hyperglycemia"}]}
    pid = "gl-stepdown"
    p = (hr_positive_mbc(pid, primary="2024-01-10").regimen(("letrozole", "palbociclib"), "2024-02-01", "2025-05-20")
         .progression("2025-05-15"))
    for r in (given, insulin):
        p.add(dict(r, subject={"reference": f"Patient/{pid}"}))
    state = p.state(AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    c = card(cards, "everolimus-exemestane")
    assert "liraglutide, its indication" in c["detail"]
    assert "not for diabetes" not in c["detail"]
    assert "glucose-lowering drug not counted as diabetes treatment: " in c["detail"]


def _gestational_diabetes(status: str = "active") -> dict:
    return {"resourceType": "Condition", "id": "gdm-1", "onsetDateTime": "2025-03-01",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "O24.414"}]}}


def test_a_current_gestational_diabetes_alone_gives_the_diabetes_not_confirmed_caution_naming_it():
    # pf7: was silent - no caution, no gap (O24.4- not read, "gestational diabetes" words taken out)
    c = card(_after_ai_cdk46i("gl-gdm", _gestational_diabetes()), "everolimus-exemestane")
    assert "caution: diabetes not confirmed" in c["summary"]
    assert "gestational diabetes (coded O24.414: a diabetes of pregnancy, its own type" in c["detail"]


def test_a_resolved_gestational_diabetes_gives_no_diabetes_caution():
    c = card(_after_ai_cdk46i("gl-gdm-past", _gestational_diabetes("resolved")), "everolimus-exemestane")
    assert "diabetes" not in c["summary"]


# pf8: insulin or metformin whose reason is a gestational diabetes (ICD-10-CM O24.4- or written "gestational diabetes",
# "GDM") was read as a diabetes of unrecorded type, the gestational diabetes unnamed. Still the treated diabetes caution
# (on treatment, C.3 row 14), now naming the gestational diabetes as the O24.4 Condition does (local_codes.yaml
# gestational_icd10_prefixes; ADA Standards of Care section 2)
@pytest.mark.parametrize("reason,written", [
    ({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "O24.414"}]}, "coded O24.414"),
    ({"text": "Gestational diabetes"}, 'written "gestational diabetes"'),
    ({"text": "GDM"}, 'written "gdm"')])
def test_metformin_given_for_a_gestational_diabetes_names_the_gestational_diabetes_on_the_caution(reason, written):
    record = dict(_metformin(None), reasonCode=[reason])
    c = card(_after_ai_cdk46i("gl-gdm-met", record), "everolimus-exemestane")
    assert "diabetes/hyperglycaemia" in c["summary"]
    assert (f"gestational diabetes (the reason metformin is given, {written}: a diabetes of pregnancy, its own type"
            in c["detail"])


@pytest.mark.parametrize("reason", ["History of gestational diabetes", "Type 2 diabetes"])
def test_metformin_given_for_a_past_gestational_or_a_type_2_diabetes_names_no_gestational_diabetes(reason):
    c = card(_after_ai_cdk46i("gl-gdm-past-met", _metformin(reason)), "everolimus-exemestane")
    assert "on glucose-lowering treatment (metformin)" in c["detail"]
    assert "gestational" not in c["detail"]


def _diabetes_written(text: str) -> dict:
    return {"resourceType": "Condition", "id": "dm-words-1", "onsetDateTime": "2020-03-01",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"text": text}}


# rt83: a diabetes whose "resolved" is negated before it or further from it ("Not yet resolved type 2 diabetes": no
# caution at all; "Type 2 diabetes - has not been resolved": "diabetes not confirmed") is a current diabetes: the
# diabetes caution of the everolimus card (CR C.3 row 14), as "Type 2 diabetes - not yet resolved" is since pf8
@pytest.mark.parametrize("text", ["Not yet resolved type 2 diabetes", "Type 2 diabetes - has not been resolved",
                                  "Type 2 diabetes (high blood sugar resolved)"])
def test_a_diabetes_whose_resolved_is_negated_gives_the_diabetes_caution_not_the_not_confirmed_one(text):
    c = card(_after_ai_cdk46i("gl-dm-words", _diabetes_written(text)), "everolimus-exemestane")
    assert "diabetes/hyperglycaemia" in c["summary"]
    assert "not confirmed" not in c["summary"]


# rt83: metformin for "High sugars (DM)" lost the treated diabetes caution (pf8 read it as for a hyperglycaemia)
def test_metformin_for_high_sugars_dm_still_gives_the_treated_diabetes_caution():
    c = card(_after_ai_cdk46i("gl-dm-bare", _metformin("High sugars (DM)")), "everolimus-exemestane")
    assert "diabetes/hyperglycaemia" in c["summary"]
    assert "on glucose-lowering treatment (metformin)" in c["detail"]
