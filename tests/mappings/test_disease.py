"""Primary breast cancer, metastatic status/date/sites, visceral crisis."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import (
    ICD10, LETROZOLE, PACLITAXEL, PID, SNOMED, answer, breast_cancer, cc, coding, condition, loinc_obs,
    med_request, med_statement, metastasis, observation, patient,
)


def disease(*resources):
    return build_patient_state([patient(), *resources], PID).disease


@pytest.mark.parametrize("code", ["C50.911", "C50.912", "C50919", "C50.921", "C50.411"])
def test_icd10_c50_codes_including_male_breast_are_breast_cancer(code):
    assert disease(condition(cc(coding(ICD10, code)), "2018-01-01")).breast_cancer == "yes"


def test_snomed_left_breast_primary_is_breast_cancer():
    d = disease(condition(cc(coding(SNOMED, "353431000119107", "Primary malignant neoplasm of female left breast")),
                          "2018-04-01"))
    assert d.breast_cancer == "yes" and d.primary_diagnosis_date == dt.date(2018, 4, 1)


def test_secondary_malignant_neoplasm_of_breast_is_not_a_breast_primary():
    d = disease(condition(cc(coding(SNOMED, "145501000119108", "Secondary malignant neoplasm of breast"))))
    assert d.breast_cancer != "yes"


@pytest.mark.parametrize("code,why", [(coding(ICD10, "C79.81"), "coded C79.81"),
                                      (coding(SNOMED, "145501000119108", "Secondary malignant neoplasm of breast"),
                                       "coded 145501000119108"),
                                      (None, '"metastasis to contralateral breast" in the text')])
def test_a_secondary_malignant_neoplasm_of_the_breast_alone_is_asked_not_counted_as_metastatic_breast_cancer(code, why):
    # was: metastatic breast cancer (site "other") and the MBC pathway; CR A.4 caution: a
    # secondary malignant neoplasm OF the breast is a metastasis to it, from another cancer ("not
    # MBC") or from this one to the other breast (M1): which, the code does not say
    met = condition(cc(*([code] if code else []), text=None if code else "Metastasis to contralateral breast"), "2021-01-01")
    assert disease(breast_cancer("2020-01-01"), met).metastatic == "unknown"
    assert (f"breast ({why}: a metastasis to the breast, from this breast cancer or from another cancer, not stated)"
            in _gaps(breast_cancer("2020-01-01"), met)["metastasis-unconfirmed"])


def test_a_secondary_malignant_neoplasm_of_the_breast_whose_body_site_is_the_liver_is_metastatic_not_asked():
    # was (fix-dz2): metastatic status unknown, the liver bodySite ignored and the metastasis
    # asked as one to the breast; FHIR R4 Condition.bodySite names where the metastasis is, as
    # the text naming another site does ("Metastasis to breast and liver" coded C79.81)
    met = condition(cc(coding(ICD10, "C79.81")), "2021-01-01")
    met["bodySite"] = [cc(coding(SNOMED, "10200004", "Liver structure"))]
    assert disease(breast_cancer("2020-01-01"), met).metastatic == "yes"
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer("2020-01-01"), met)


def test_a_secondary_malignant_neoplasm_of_the_breast_beside_a_liver_metastasis_leaves_the_disease_metastatic():
    resources = (breast_cancer("2020-01-01"), condition(cc(coding(ICD10, "C79.81")), "2021-01-01"),
                 condition(cc(coding(ICD10, "C78.7")), "2021-01-01"))
    assert [s.site for s in disease(*resources).sites] == ["liver"]


def test_breast_cancer_by_text_only():
    assert disease(condition(cc(text="Invasive ductal carcinoma of the left breast"))).breast_cancer == "yes"


@pytest.mark.parametrize("code,site,visceral", [
    ("C78.7", "liver", True), ("C79.51", "bone", False), ("C78.01", "lung", True), ("C79.31", "brain", True),
    ("C78.2", "pleura", True), ("C78.6", "peritoneum", True), ("C77.2", "lymph-node", False),
])
def test_icd10_secondary_sites_make_the_disease_metastatic(code, site, visceral):
    d = disease(breast_cancer(), condition(cc(coding(ICD10, code)), "2021-02-03"))
    assert d.metastatic == "yes" and d.metastatic_date == dt.date(2021, 2, 3)
    assert [(s.site, s.visceral) for s in d.sites] == [(site, visceral)]
    assert d.visceral_involvement is visceral


def test_generic_secondary_condition_with_body_site_reads_the_site():
    c = condition(cc(coding(SNOMED, "128462008", "Secondary malignant neoplastic disease")), "2021-01-01",
                  bodySite=[cc(coding(SNOMED, "39607008", "Lung structure"))])
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and d.sites[0].site == "lung"


def test_unknown_secondary_code_with_metastasis_text_reads_the_site_from_text():
    d = disease(breast_cancer(), condition(cc(text="Metastasis to adrenal gland"), "2021-01-01"))
    assert d.sites[0].site == "adrenal" and d.sites[0].visceral


def test_earliest_metastatic_evidence_gives_the_metastatic_date():
    d = disease(breast_cancer("2015-01-01"), metastasis("94222008", "bone", "2021-05-01"),
                metastasis("94381002", "liver", "2022-01-01"))
    assert d.metastatic_date == dt.date(2021, 5, 1)
    assert d.de_novo_metastatic is False


@pytest.mark.parametrize("code,value", [
    ("21907-1", cc(coding(SNOMED, "1229903009", "cM1"))),
    ("21901-4", cc(coding(SNOMED, "1229916009", "pM1"))),
    ("21908-9", cc(coding("http://cancerstaging.org", "4", "IV"))),
    ("21902-2", cc(text="Stage IV")),
])
def test_m1_and_stage_iv_observations_make_the_disease_metastatic(code, value):
    d = disease(breast_cancer("2020-01-01"), loinc_obs(code, "2020-01-05", valueCodeableConcept=value))
    assert d.metastatic == "yes" and d.metastatic_date == dt.date(2020, 1, 5)


def test_clinical_stage_iv_at_diagnosis_is_de_novo():
    d = disease(breast_cancer("2020-01-01"),
                loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(coding("http://cancerstaging.org", "4"))))
    assert d.de_novo_metastatic is True


def test_stage_ii_without_metastatic_evidence_is_not_metastatic():
    d = disease(breast_cancer("2020-01-01"),
                loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(coding("http://cancerstaging.org", "2A"))))
    assert d.metastatic == "no"


def test_no_staging_and_no_sites_leaves_metastatic_status_unknown_with_a_gap():
    s = build_patient_state([patient(), breast_cancer()], PID)
    assert s.disease.metastatic == "unknown"
    assert "metastatic-status-unknown" in {g.code for g in s.gaps}


def test_liver_and_lung_metastases_alone_never_make_a_visceral_crisis():
    d = disease(breast_cancer(), metastasis("94381002", "liver"), metastasis("94391008", "lung"))
    assert d.visceral_involvement is True and d.visceral_crisis is False


def test_visceral_crisis_asserted_by_local_code_is_read():
    flag = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-01")
    d = disease(breast_cancer(), metastasis("94381002", "liver"), flag)
    assert d.visceral_crisis is True
    assert d.visceral_crisis_sources[0].reference == f"Condition/{flag['id']}"


def _crisis_then(*meds, crisis_on="2024-01-16", as_of=dt.date(2026, 11, 21)):
    flag = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), crisis_on)
    return build_patient_state([patient(), breast_cancer("2023-06-01"), metastasis("94381002", "liver", "2024-01-10"),
                                flag, *meds], PID, as_of)


def test_a_visceral_crisis_followed_by_a_metastatic_line_was_treated_and_is_no_longer_current():
    # CR C.1 (ABC4): a crisis is a state of organ dysfunction calling for rapid therapy; once
    # a systemic line started after it, it is history and does not rank chemotherapy first
    s = _crisis_then(med_statement(PACLITAXEL, "2024-02-01", "2024-08-01"))
    d = s.disease
    assert d.visceral_crisis is False and d.visceral_crisis_documented is True
    assert d.visceral_crisis_treated_by == 1
    assert d.visceral_crisis_sources[0].date == dt.date(2024, 1, 16)  # still cited as history


def test_a_visceral_crisis_with_no_line_after_it_stays_current():
    # a line started before the crisis (still given) does not treat it
    s = _crisis_then(med_statement(LETROZOLE, "2024-01-12", status="active"))
    assert s.disease.visceral_crisis is True and s.disease.visceral_crisis_treated_by is None


def test_a_line_started_the_same_day_as_the_crisis_does_not_count_as_its_treatment():
    # the line may have begun before the crisis was recorded (review of the day's changes, C1)
    s = _crisis_then(med_statement(LETROZOLE, "2024-01-16", status="active"))
    assert s.disease.visceral_crisis is True and s.disease.visceral_crisis_treated_by is None
    s = _crisis_then(med_statement(LETROZOLE, "2024-01-17", status="active"))
    assert s.disease.visceral_crisis is False and s.disease.visceral_crisis_treated_by == 1


def test_a_line_ordered_after_the_crisis_but_not_started_by_today_has_not_treated_it():
    # review of the mappings changes, item 2: paclitaxel ordered 2026-11-20 to start
    # 2026-11-28; on 2026-11-21 the crisis is still current (chemotherapy first), and the
    # line treats it only once it has started
    mr = med_request(PACLITAXEL, "2026-11-20")
    mr["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {"start": "2026-11-28"}}}}]
    s = _crisis_then(mr, crisis_on="2026-11-19", as_of=dt.date(2026, 11, 21))
    # an order whose dosage starts after today is no line yet (mappings/therapy.py read_exposures)
    assert s.therapy.metastatic_lines == []
    assert s.disease.visceral_crisis is True and s.disease.visceral_crisis_treated_by is None
    s = _crisis_then(mr, crisis_on="2026-11-19", as_of=dt.date(2026, 11, 28))
    assert s.disease.visceral_crisis is False and s.disease.visceral_crisis_treated_by == 1


def test_an_undated_visceral_crisis_stays_current_because_it_cannot_be_shown_treated():
    flag = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")))
    s = build_patient_state([patient(), breast_cancer("2023-06-01"), metastasis("94381002", "liver", "2024-01-10"),
                             flag, med_statement(PACLITAXEL, "2024-02-01", "2024-08-01")], PID, dt.date(2026, 11, 21))
    assert s.disease.visceral_crisis is True


def test_visceral_crisis_written_in_a_problem_list_text_is_read():
    d = disease(breast_cancer(), condition(cc(text="Visceral crisis - rising bilirubin, liver failure")))
    assert d.visceral_crisis is True


def test_negated_visceral_crisis_text_is_not_a_visceral_crisis():
    obs = observation(cc(text="Clinical assessment"), "2022-03-01", valueString="No visceral crisis at present")
    d = disease(breast_cancer(), obs)
    assert d.visceral_crisis is False


def test_visceral_crisis_observation_answered_false_is_not_a_visceral_crisis():
    obs = observation(cc(coding("urn:mbc-cds:local", "visceral-crisis")), "2022-03-01", valueBoolean=False)
    assert disease(breast_cancer(), obs).visceral_crisis is False


def test_resolved_visceral_crisis_condition_is_not_current():
    c = condition(cc(text="Visceral crisis"), "2021-01-01", clinical="resolved")
    assert disease(breast_cancer(), c).visceral_crisis is False


def test_metastatic_breast_cancer_written_as_one_problem_is_breast_cancer_and_metastatic():
    d = disease(condition(cc(text="Metastatic breast cancer (ER+/HER2-)"), "2022-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic == "yes"
    assert d.sites == []


def test_non_metastatic_breast_cancer_text_is_not_metastatic_evidence():
    d = disease(condition(cc(text="Breast cancer, non-metastatic"), "2022-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic != "yes"


def test_visceral_crisis_flag_resource_is_read():
    flag = {"resourceType": "Flag", "id": "f1", "status": "active", "subject": {"reference": f"Patient/{PID}"},
            "code": cc(text="VISCERAL CRISIS - discuss chemotherapy"), "period": {"start": "2024-02-01"}}
    d = disease(breast_cancer(), flag)
    assert d.visceral_crisis and d.visceral_crisis_sources[0].date == dt.date(2024, 2, 1)


@pytest.mark.parametrize("text", ["Ductal carcinoma in situ of left breast", "Family history of breast cancer",
                                  "Screening for malignant neoplasm of breast"])
def test_breast_texts_that_are_not_invasive_cancer_are_not_a_primary(text):
    assert disease(condition(cc(text=text))).breast_cancer != "yes"


AJCC = "http://cancerstaging.org"


def stage_iia_breast_cancer(onset="2018-01-10"):
    """An early (stage IIA) breast primary: not metastatic on its own."""
    return breast_cancer(onset, stage=[{"summary": cc(coding(AJCC, "2A", "IIA"))}])


@pytest.mark.parametrize("comorbidity", [
    cc(coding(SNOMED, "431857002", "Chronic kidney disease stage 4 (disorder)")),
    cc(coding(ICD10, "N18.4", "Chronic kidney disease, stage 4 (severe)")),
    cc(coding(ICD10, "L89.154", "Pressure ulcer of sacral region, stage 4")),
    cc(text="Pressure injury, stage IV"),
])
def test_a_stage_4_comorbidity_does_not_make_the_breast_cancer_metastatic(comorbidity):
    d = disease(stage_iia_breast_cancer(), condition(comorbidity, "2024-03-01"))
    assert d.metastatic == "no"
    assert d.metastatic_date is None and d.sites == [] and d.metastatic_sources == []


def test_stage_iv_written_on_the_breast_cancer_condition_is_metastatic():
    d = disease(condition(cc(text="Malignant neoplasm of left breast, stage IV"), "2022-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic == "yes" and d.sites == []


@pytest.mark.parametrize("stage_value", [
    cc(coding("urn:example:local-staging", "S-9")),  # a site's own code nobody told us about
    cc(coding(AJCC, "X")),  # AJCC "stage cannot be assessed" style value, not a stage group
])
def test_an_unrecognised_stage_group_code_is_no_evidence_either_way(stage_value):
    s = build_patient_state([patient(), breast_cancer("2020-01-01"),
                             loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=stage_value)], PID)
    assert s.disease.metastatic == "unknown" and s.disease.de_novo_metastatic is None
    assert "metastatic-status-unknown" in {g.code for g in s.gaps}


def test_trialjectory_stage_4c_snomed_code_is_stage_iv_on_an_observation_and_on_the_condition():
    stage_4c = cc(coding(SNOMED, "313046007"))
    by_obs = disease(breast_cancer("2020-01-01"), loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=stage_4c))
    by_condition = disease(breast_cancer("2020-01-01", stage=[{"summary": stage_4c}]))
    assert by_obs.metastatic == "yes" and by_obs.metastatic_date == dt.date(2020, 1, 5)
    assert by_condition.metastatic == "yes"


@pytest.mark.parametrize("text", ["Stage IIA (tumour 4 cm)", "Stage IIB - pT2 pN1a (2/14), 4 cycles AC planned",
                                  "Stage IIA, 4 positive lymph nodes"])
def test_a_stray_4_in_an_early_stage_text_is_not_stage_iv(text):
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text)))
    assert d.metastatic == "no" and d.de_novo_metastatic is False and d.metastatic_sources == []


@pytest.mark.parametrize("text", ["IV", "4", "cIV", "Stage IVB", "Clinical stage 4", "AJCC stage group: IV"])
def test_stage_iv_written_as_a_stage_or_as_the_bare_value_is_stage_iv(text):
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text)))
    assert d.metastatic == "yes" and d.metastatic_date == dt.date(2020, 1, 5)


def test_a_rectosigmoid_primary_metastatic_to_brain_is_not_a_breast_cancer_brain_metastasis():
    # SNOMED 96981000119102: "Malignant neoplasm of rectosigmoid junction metastatic to brain (disorder)"
    d = disease(stage_iia_breast_cancer(), condition(cc(coding(SNOMED, "96981000119102")), "2024-03-01"))
    assert d.metastatic == "no" and d.sites == [] and d.metastatic_sources == []


@pytest.mark.parametrize("display", [None, "Breast implant associated anaplastic large-cell lymphoma (disorder)"])
def test_breast_implant_associated_lymphoma_is_not_breast_cancer(display):
    s = build_patient_state([patient(), condition(cc(coding(SNOMED, "783541009", display)), "2024-03-01")], PID)
    assert s.disease.breast_cancer != "yes" and s.disease.primary_sources == []
    assert "breast-cancer-not-documented" in {g.code for g in s.gaps}


AXILLARY_NODES = [
    cc(coding(ICD10, "C77.3", "Secondary and unspecified malignant neoplasm of axilla and upper limb lymph nodes")),
    cc(coding(SNOMED, "94181007", "Secondary malignant neoplasm of axillary lymph nodes (disorder)")),
]


def cm0(date="2023-03-10"):
    return loinc_obs("21907-1", date, **answer(SNOMED, "1229901006", "cM0"))


INTRA_ABDOMINAL_NODES = cc(coding(ICD10, "C77.2", "Secondary and unspecified malignant neoplasm of intra-abdominal "
                                                 "lymph nodes"))


@pytest.mark.parametrize("early", ["cM0", "stage IIB", "both"])
def test_distant_nodes_alone_against_an_explicit_m0_or_early_stage_are_reported_as_a_conflict(early):
    stage = [{"summary": cc(coding(AJCC, "2B", "IIB"))}] if early != "cM0" else []
    primary = breast_cancer("2023-03-01", stage=stage)
    node_condition = condition(INTRA_ABDOMINAL_NODES, "2023-03-01")
    extra = [cm0()] if early != "stage IIB" else []
    s = build_patient_state([patient(), primary, node_condition, *extra], PID)
    conflict = [g for g in s.gaps if g.code == "metastatic-status-conflict"]
    assert len(conflict) == 1
    cited = {src.reference for src in conflict[0].sources}
    assert f"Condition/{node_condition['id']}" in cited
    assert cited & {f"Condition/{primary['id']}", *(f"Observation/{o['id']}" for o in extra)}


NODES_ASKED = ('Unconfirmed metastasis, not counted as metastatic disease: lymph-node (lymph-node metastases only, '
               'regional (N, ipsilateral axillary, internal mammary or supraclavicular) or distant (M1) not stated). '
               'Confirm or refute it.')


@pytest.mark.parametrize("nodes", AXILLARY_NODES + [cc(coding(ICD10, "C77.0")), cc(coding(ICD10, "C77.1")),
                                                    cc(coding(ICD10, "C77.9")),
                                                    cc(text="Axillary lymph node metastasis"),
                                                    cc(text="Supraclavicular lymph node metastases")])
def test_nodes_that_may_be_regional_as_the_only_metastatic_evidence_are_asked_not_counted(nodes):
    # (ds) "C77.3" alone made the patient metastatic (first-line metastatic cards): ipsilateral
    # axillary, internal mammary and supraclavicular nodes are regional (N) in AJCC 8th edition,
    # contralateral and other nodes M1; the code does not say which
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(nodes, "2023-03-01")], PID)
    assert s.disease.metastatic == "unknown" and s.disease.sites == []
    assert next(g for g in s.gaps if g.code == "metastasis-unconfirmed").message == NODES_ASKED


@pytest.mark.parametrize("nodes", AXILLARY_NODES)
@pytest.mark.parametrize("early", ["cM0", "stage IIB", "both"])
def test_axillary_nodes_alone_beside_an_explicit_m0_or_early_stage_are_not_metastatic_and_still_asked(nodes, early):
    # was: metastatic "yes" with a metastatic-status-conflict (an M0 made the nodes count)
    stage = [{"summary": cc(coding(AJCC, "2B", "IIB"))}] if early != "cM0" else []
    primary = breast_cancer("2023-03-01", stage=stage)
    extra = [cm0()] if early != "stage IIB" else []
    s = build_patient_state([patient(), primary, condition(nodes, "2023-03-01"), *extra], PID)
    assert s.disease.metastatic == "no"
    assert not any(g.code == "metastatic-status-conflict" for g in s.gaps)
    assert next(g for g in s.gaps if g.code == "metastasis-unconfirmed").message == NODES_ASKED


@pytest.mark.parametrize("other", [condition(cc(coding(ICD10, "C79.51")), "2023-03-01"),
                                   condition(INTRA_ABDOMINAL_NODES, "2023-03-01"),
                                   condition(cc(text="Mediastinal lymph node metastases"), "2023-03-01"),
                                   loinc_obs("21908-9", "2023-03-05", valueCodeableConcept=cc(text="Stage IV"))])
def test_axillary_nodes_beside_other_metastatic_evidence_stay_a_metastatic_site(other):
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(AXILLARY_NODES[0], "2023-03-01"), other],
                            PID)
    assert s.disease.metastatic == "yes" and "lymph-node" in [x.site for x in s.disease.sites]
    assert not any(g.code == "metastasis-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("nodes", AXILLARY_NODES)
def test_nodes_with_a_distant_metastasis_after_an_early_stage_are_a_recurrence_not_a_conflict(nodes):
    s = build_patient_state([patient(), breast_cancer("2018-03-01"), cm0("2018-03-10"),
                             condition(nodes, "2021-05-01"), metastasis("94381002", "liver", "2021-05-01")], PID)
    assert s.disease.metastatic == "yes"
    assert "metastatic-status-conflict" not in {g.code for g in s.gaps}


def _unconfirmed(status, snomed="94381002", display="Secondary malignant neoplasm of liver (disorder)"):
    return metastasis(snomed, display, "2024-03-01", verificationStatus=cc(
        coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", status)))


@pytest.mark.parametrize("status", ["provisional", "differential", "unconfirmed"])
def test_an_unconfirmed_liver_metastasis_does_not_make_the_patient_metastatic_and_is_named_in_a_gap(status):
    met = _unconfirmed(status)
    s = build_patient_state([patient(), breast_cancer("2018-01-10"), met], PID)
    assert s.disease.metastatic == "unknown"
    assert s.disease.sites == [] and s.disease.metastatic_sources == [] and s.disease.metastatic_date is None
    gaps = {g.code: g for g in s.gaps}
    assert "metastatic-status-unknown" in gaps
    gap = gaps["metastasis-unconfirmed"]
    assert "liver" in gap.message and status in gap.message
    assert [src.reference for src in gap.sources] == [f"Condition/{met['id']}"]


def test_an_unconfirmed_metastasis_beside_a_confirmed_one_is_not_listed_as_a_confirmed_site():
    bone = metastasis("94222008", "Secondary malignant neoplasm of bone (disorder)", "2021-05-01")
    s = build_patient_state([patient(), breast_cancer("2015-01-01"), bone, _unconfirmed("provisional")], PID)
    d = s.disease
    assert d.metastatic == "yes" and d.metastatic_date == dt.date(2021, 5, 1)
    assert [site.site for site in d.sites] == ["bone"] and d.visceral_involvement is False
    assert [src.reference for src in d.metastatic_sources] == [bone["resourceType"] + "/" + bone["id"]]
    assert "metastasis-unconfirmed" not in {g.code for g in s.gaps}


def _history_of_breast_cancer():
    return condition(cc(coding(ICD10, "Z85.3", "Personal history of malignant neoplasm of breast")), "2010-01-01")


def test_a_personal_history_of_breast_cancer_alone_is_no_active_breast_cancer():
    s = build_patient_state([patient(), _history_of_breast_cancer()], PID)
    assert s.disease.breast_cancer != "yes" and s.disease.primary_sources == []
    assert "breast-cancer-not-documented" in {g.code for g in s.gaps}


def test_a_personal_history_of_breast_cancer_with_a_metastasis_is_the_primary_of_that_metastasis():
    hx = _history_of_breast_cancer()
    d = disease(hx, metastasis("94222008", "Secondary malignant neoplasm of bone (disorder)", "2021-05-01"))
    assert d.breast_cancer == "yes" and [src.reference for src in d.primary_sources] == [f"Condition/{hx['id']}"]
    assert d.metastatic == "yes"


# --- the date of a stage IV (CR C.2 step 1: metastatic_dx_date is the date of the stage IV
# evidence, not of the primary's diagnosis) ---------------------------------------------------

def _stage_iv_summary(*assessed_by: dict) -> dict:
    stage = {"summary": cc(coding("http://cancerstaging.org", "4", "IV")),
             "type": cc(coding(SNOMED, "260998006", "Clinical staging (qualifier value)"))}
    if assessed_by:
        stage["assessment"] = [{"reference": f"Observation/{o['id']}"} for o in assessed_by]
    return stage


def _recurrence_2024(stage: dict, *more: dict):
    """Breast cancer 2016 with adjuvant letrozole 2016-2021, bone metastasis 2024-01-15."""
    return build_patient_state([
        patient(), breast_cancer("2016-03-01", stage=[stage]),
        metastasis("94222008", "Secondary malignant neoplasm of bone", "2024-01-15"),
        med_statement(LETROZOLE, "2016-06-01", "2021-06-01"), *more,
    ], PID, dt.date(2024, 3, 1))


def test_a_stage_iv_on_the_primary_is_dated_by_its_assessment_observation_not_by_the_diagnosis():
    stage_group = loinc_obs("21908-9", "2024-01-15", valueCodeableConcept=cc(coding("http://cancerstaging.org", "4")))
    s = _recurrence_2024(_stage_iv_summary(stage_group), stage_group)
    assert s.disease.metastatic_date == dt.date(2024, 1, 15)
    assert s.disease.de_novo_metastatic is False
    assert [e.setting for e in s.therapy.exposures] == ["early"]
    assert s.therapy.metastatic_lines == []
    assert s.therapy.adjuvant_endocrine_end == dt.date(2021, 6, 1)
    assert s.therapy.endocrine_resistance == "sensitive"


def test_a_clinical_stage_iv_dated_years_after_the_diagnosis_stages_a_recurrence_not_de_novo_disease():
    d = disease(breast_cancer("2016-03-01"),
                loinc_obs("21908-9", "2024-01-15", valueCodeableConcept=cc(coding("http://cancerstaging.org", "4"))))
    assert d.metastatic == "yes" and d.metastatic_date == dt.date(2024, 1, 15)
    assert d.de_novo_metastatic is False


def test_an_undated_stage_iv_on_the_primary_against_later_dated_metastases_is_a_date_conflict_not_a_guess():
    s = _recurrence_2024(_stage_iv_summary())
    assert s.disease.metastatic_date == dt.date(2024, 1, 15)
    assert s.disease.de_novo_metastatic is None
    gaps = {g.code: g.message for g in s.gaps}
    assert "2016-03-01" in gaps["metastatic-date-conflict"] and "2024-01-15" in gaps["metastatic-date-conflict"]
    # adjuvant or first metastatic line: the letrozole between the two cannot be placed
    assert [e.setting for e in s.therapy.exposures] == ["unknown"]
    assert "letrozole" in gaps["therapy-setting-unknown"]
    assert s.therapy.metastatic_lines == []
    assert s.therapy.endocrine_resistance == "unknown"


# --- de novo with dates written without a day -------------------------------------------------

def test_a_metastasis_dated_by_year_only_in_the_year_of_the_diagnosis_is_not_guessed_de_novo():
    d = disease(breast_cancer("2024-02-10"), metastasis("94222008", "Secondary malignant neoplasm of bone", "2024"))
    assert d.metastatic_date == dt.date(2024, 1, 1) and d.metastatic_date_latest == dt.date(2024, 12, 31)
    assert d.de_novo_metastatic is None
    # a year-month within the window on every day of it stays de novo
    assert disease(breast_cancer("2024-02-10"),
                   metastasis("94222008", "Secondary malignant neoplasm of bone", "2024-03")).de_novo_metastatic is True


def test_a_clinical_stage_group_iv_dated_by_year_only_is_not_read_as_stage_iv_at_diagnosis():
    d = disease(breast_cancer("2024-02-10"),
                loinc_obs("21908-9", "2024", valueCodeableConcept=cc(coding("http://cancerstaging.org", "4"))))
    assert d.metastatic == "yes" and d.de_novo_metastatic is None


def test_a_stage_iv_on_a_primary_dated_by_year_only_stays_de_novo_and_places_later_therapy_in_the_metastatic_setting():
    s = build_patient_state([
        patient(), breast_cancer("2024", stage=[_stage_iv_summary()]),
        med_statement(LETROZOLE, "2024-05-01", None, status="active"),
    ], PID, dt.date(2025, 3, 1))
    assert s.disease.de_novo_metastatic is True and s.disease.metastatic_date_latest is None
    assert [e.setting for e in s.therapy.exposures] == ["metastatic"]


def test_an_undated_stage_iv_on_the_primary_against_a_metastasis_dated_by_year_only_is_a_date_conflict_not_de_novo():
    """Diagnosed 2023-10-10 with stage IV (no date of its own), bone metastasis "2024": on its first
    day the metastasis is within the de novo window, on most days of 2024 it is not, so whether the
    stage was recorded at diagnosis or at a recurrence is unknown (as for a full later date); the
    gap gives the metastasis as written."""
    s = build_patient_state([
        patient(), breast_cancer("2023-10-10", stage=[_stage_iv_summary()]),
        metastasis("94222008", "Secondary malignant neoplasm of bone", "2024"),
        med_statement(LETROZOLE, "2023-11-01", "2024-10-01"),
    ], PID, dt.date(2025, 3, 1))
    assert s.disease.de_novo_metastatic is None
    assert s.disease.metastatic_date_earliest == dt.date(2023, 10, 10)
    gaps = {g.code: g.message for g in s.gaps}
    assert "the earliest dated metastatic evidence is in 2024 (no day given)" in gaps["metastatic-date-conflict"]
    assert [e.setting for e in s.therapy.exposures] == ["unknown"]


# --- metastasis written as ruled out or as a suspicion ------------------------

def _gap_codes(*resources):
    return {g.code for g in build_patient_state([patient(), *resources], PID).gaps}


@pytest.mark.parametrize("text", ["Liver metastasis ruled out", "Bone metastases excluded on PET-CT",
                                  "Metastatic work-up negative", "CT: no new metastases"])
def test_a_metastasis_the_text_says_was_ruled_out_is_no_metastatic_evidence(text):
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic != "yes" and d.sites == []


@pytest.mark.parametrize("text", ["Suspected bone metastases", "r/o liver metastasis", "Possible brain mets",
                                  "Lung metastases?", "? liver metastases", "Liver metastasis - suspected"])
def test_a_metastasis_written_as_a_suspicion_is_not_metastatic_and_is_named_in_a_gap(text):
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic != "yes" and d.sites == []
    assert "metastasis-unconfirmed" in _gap_codes(breast_cancer(), c)


# (fix-dz3) doubts written after the mention: a question going on, the confirming test still
# pending, one of two diagnoses (FHIR R4 condition-ver-status unconfirmed / provisional /
# differential; CR A.4 counts a diagnosis made): the gap quotes the words
@pytest.mark.parametrize("text,site,quoted", [
    ("Liver metastasis? biopsy planned", "liver", "? biopsy planned"),
    ("Malignant pleural effusion? tap planned", "pleura", "? tap planned"),
    ("Metastatic breast cancer? restaging", "site not stated", "? restaging"),
    ("Liver metastasis or hemangioma", "liver", "or hemangioma"),
    ("Pleural effusion, malignant or reactive", "pleura", "or reactive"),
    ("Malignant pleural effusion, cytology pending", "pleura", "cytology pending"),
    ("Liver metastasis - awaiting biopsy", "liver", "awaiting biopsy"),
    ("Bone metastases TBC", "bone", "TBC"),
    ("Liver metastasis???", "liver", "???"), ("Bone metastasis: awaiting confirmation", "bone", "awaiting confirmation"),
    ("Bone metastases - biopsy to confirm", "bone", "biopsy to confirm"),
    ("Liver metastasis, await biopsy", "liver", "await biopsy"),
    ("Liver metastasis, not biopsy proven", "liver", "not biopsy proven"),
    ("Bone metastases (not yet biopsied)", "bone", "not yet biopsied"),
    ("Liver metastasis (working diagnosis)", "liver", "working diagnosis"),
    ("Metastatic breast cancer, awaiting biopsy", "site not stated", "awaiting biopsy"),
])
def test_a_metastasis_written_with_a_doubt_after_it_is_not_metastatic_and_the_gap_quotes_the_doubt(text, site, quoted):
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic != "yes" and d.sites == []
    assert f'{site} ("{quoted}" in the text)' in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


# (fix-dz4) another diagnosis after a "?" or a "/" right after the mention: one of two diagnoses
# (condition-ver-status 'differential'), as "or hemangioma"; the gap quotes it
@pytest.mark.parametrize("text,site,quoted", [
    ("Liver metastasis ?hemangioma", "liver", "?hemangioma"),
    ("Liver metastasis (?haemangioma)", "liver", "?haemangioma"),
    ("Bone metastasis, ? insufficiency fracture", "bone", "? insufficiency"),
    ("Lung metastases, ? infection", "lung", "? infection"),
    ("Liver lesion - metastasis ?cyst", "liver", "?cyst"),
    ("Liver metastasis/hemangioma", "liver", "/hemangioma"),
])
def test_a_metastasis_with_another_diagnosis_after_a_question_mark_or_slash_is_not_metastatic_and_the_gap_quotes_it(
        text, site, quoted):
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic != "yes" and d.sites == []
    assert f'{site} ("{quoted}" in the text)' in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,site", [
    ("Liver metastases? progression", "liver"), ("Bone metastases (? T12)", "bone"),
    ("Brain metastases? for SRS", "brain"), ("Bone metastases, pathological fracture", "bone"),
    ("Liver metastases ? number", "liver"), ("Bone metastases ?pathological fracture", "bone"),
    ("Bone metastases ? fracture risk", "bone"), ("Bone/liver metastases", "liver"),
    # a fracture beside a bone metastasis: most often the question of its complication
    ("Bone metastasis, ? fracture", "bone"), ("Bone metastases (?fracture)", "bone"),
])
def test_a_question_about_the_known_metastasis_itself_keeps_it_metastatic(text, site):
    d = disease(breast_cancer(), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and site in [s.site for s in d.sites]


@pytest.mark.parametrize("text,site", [("Liver lesion: metastasis v haemangioma", "liver"),
                                       ("Bone mets (to be confirmed)", "bone"), ("Bone metastases ?", "bone"),
                                       ("?Bone metastases", "bone")])
def test_a_metastasis_written_as_one_of_two_or_to_be_confirmed_is_a_suspicion_at_its_own_site(text, site):
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert f"disease: {site} (suspected in the text)" in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Liver metastasis? biopsy planned", "Liver metastasis - awaiting biopsy",
                                  "Liver metastasis or hemangioma"])
def test_a_doubt_in_the_text_stays_a_suspicion_on_a_condition_recorded_confirmed(text):
    # as "Suspected liver metastases" on a confirmed Condition: the record and its text disagree,
    # and the text says the diagnosis is not made yet (condition-ver-status unconfirmed): asked
    c = condition(cc(coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"), text=text), "2021-01-01",
                  verificationStatus=cc(coding(VER_STATUS, "confirmed")))
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,sites", [
    ("Bone and/or liver metastases", ["liver", "bone"]), ("Liver or lung metastases", ["liver", "lung"]),
    ("Bone metastases or liver", ["liver", "bone"]), ("Liver metastases or lung metastases", ["liver", "lung"]),
    ("Bone metastases, biopsy planned for receptor status", ["bone"]), ("Bone metastases, SRS planned", ["bone"]),
    ("Liver metastases, biopsy confirmed", ["liver"]), ("Metastases to liver confirmed on biopsy; PET pending", ["liver"]),
    ("Bone metastases, awaiting radiotherapy", ["bone"]), ("Liver metastases v prior", ["liver"]), ("Lung metastases, v small", ["lung"]),
    ("Pleural effusion, malignant cells present", ["pleura"]), ("Pleural effusion with malignant cells seen", ["pleura"]),
    ("Ascites, malignant", ["peritoneum"]), ("Bone metastases or other sites", ["bone"]), ("Liver metastases - ? number", ["liver"]),
    ("Liver metastases, awaiting biopsy for receptor status", ["liver"]),
    ("Liver metastases, awaiting chemotherapy", ["liver"]),
])
def test_a_metastasis_asserted_beside_other_sites_a_plan_or_a_found_cytology_stays_metastatic(text, sites):
    # "or" between sites or metastases is metastatic either way; a re-biopsy for receptors, a
    # treatment planned, or a test pending in another clause doubts nothing (CR C.2 step 0);
    # malignant cells found in an effusion make it malignant (CR A.4 pleura C78.2)
    d = disease(breast_cancer(), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and sorted(s.site for s in d.sites) == sorted(sites)


@pytest.mark.parametrize("text", ["Pleural effusion, malignant cells absent", "Pleural effusion, no malignant cells seen",
                                  "Pleural effusion, malignant cells not seen", "Ascites, non-malignant",
                                  "Ascites, malignant cells absent"])
def test_an_effusion_whose_cytology_found_no_malignant_cells_is_not_metastatic(text):
    assert disease(breast_cancer(), condition(cc(text=text), "2021-01-01")).metastatic != "yes"


@pytest.mark.parametrize("text", ["Brain metastases: no", "Liver metastases - none", "Metastases: no evidence",
                                  "Liver metastases, nil"])
def test_a_metastasis_answered_no_after_it_is_no_metastatic_evidence(text):
    # a template's question answered no (condition-ver-status "refuted"): was read as brain /
    # liver metastases
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,sites", [("Liver metastases? yes", ["liver"]), ("Liver metastases, no change", ["liver"]),
                                        ("Bone metastases - no progression", ["bone"]),
                                        ("Bone metastases - no liver metastases", ["bone"])])
def test_a_metastasis_answered_yes_or_with_no_change_stays_metastatic(text, sites):
    d = disease(breast_cancer(), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == sites


def test_a_metastasis_written_not_biopsy_proven_is_metastatic_once_the_clinician_confirmed_it():
    # a diagnosis on imaging only is condition-ver-status "provisional", as "likely": the
    # Condition's verificationStatus "confirmed" makes it evidence
    c = condition(cc(coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"),
                     text="Liver metastasis, not biopsy proven"), "2021-01-01",
                  verificationStatus=cc(coding(VER_STATUS, "confirmed")))
    assert disease(breast_cancer(), c).metastatic == "yes"

# (rt28) a scan awaited after a known metastasis is its restaging or response imaging, not the
# test that makes the diagnosis (CR C.2 step 0): was read as a suspicion, the metastatic
# patient out of the pathway; so was a known malignant effusion awaiting its tap (drainage as
# often as diagnosis); a test written as confirming it, or cytology, is still a doubt
@pytest.mark.parametrize("text,site", [
    ("Liver metastases - awaiting repeat CT", "liver"), ("Bone mets - awaiting PET", "bone"),
    ("Bone metastases, PET pending", "bone"), ("Bone metastases, awaiting bone scan", "bone"),
    ("Liver metastases - await CT", "liver"), ("Lung metastases, awaiting restaging", "lung"),
    ("Malignant pleural effusion, awaiting repeat tap", "pleura"), ("Ascites, malignant - paracentesis pending", "peritoneum"),
])
def test_a_known_metastasis_awaiting_a_scan_or_a_drainage_stays_metastatic(text, site):
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,sites", [
    ("Liver metastases? progression", ["liver"]), ("Liver metastases ? progressing", ["liver"]),
    ("Bone metastases ? cord compression", ["bone"]), ("Liver metastases? new lesions", ["liver"]),
    ("Metastatic breast cancer? progression", []),
])
def test_a_question_about_a_known_metastasis_course_after_it_leaves_it_metastatic(text, sites):
    # (rt28) the "?" asks about progression or a complication of the metastasis, not whether it
    # is there: was read as a suspicion, the metastatic patient out of the pathway (CR C.2 step 0)
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == sites
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,site", [("Brain metastases? for SRS", "brain"), ("Liver metastases? RFA", "liver"),
                                       ("Bone mets? radiotherapy", "bone")])
def test_a_question_about_treating_a_known_metastasis_leaves_it_metastatic(text, site):
    # (rt28) whether to treat it so, not whether it is there: was metastasis-unconfirmed
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,site", [("Liver metastases, v much improved", "liver"),
                                       ("Bone metastases v slowly progressing", "bone"),
                                       ("Bone metastases, v painful", "bone"), ("Bone mets v sclerotic", "bone")])
def test_a_known_metastasis_described_with_v_for_very_stays_metastatic(text, site):
    # (rt28) "v" for "very" before an adverb or a description: was read as "versus", the
    # metastasis one of two diagnoses (metastasis-unconfirmed)
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,site", [("Bone mets or marrow infiltration", "bone"),
                                       ("Lung metastases or lymphangitic spread", "lung"),
                                       ("Brain mets or leptomeningeal spread", "brain"),
                                       ("Liver metastases or both", "liver"), ("Bone metastases or progression", "bone")])
def test_a_metastasis_or_more_of_the_same_disease_stays_metastatic(text, site):
    # (rt28) "or" joins metastatic involvement or more of it, not another diagnosis: was read
    # as one of two diagnoses (metastasis-unconfirmed)
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,quoted", [("Bone metastases or nodal disease", "or nodal disease"),
                                         ("Bone metastases or degenerative disease", "or degenerative disease")])
def test_a_metastasis_or_nodal_or_benign_disease_is_still_one_of_two_diagnoses(text, quoted):
    c = condition(cc(text=text), "2021-01-01")
    assert f'("{quoted}" in the text)' in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,sites", [("Bone metastases - no, responding", ["bone"]),
                                        ("Brain metastases: no, bone metastases: yes", ["bone"]),
                                        ("Liver metastases: no, bone and lung metastases", ["lung", "bone"])])
def test_a_no_answer_a_comma_follows_refutes_only_when_the_next_row_starts(text, sites):
    # (rt28) "no, responding" goes on about the known metastases: was read as "Brain metastases:
    # no", the metastatic patient's only metastasis refuted (metastatic status unknown)
    d = disease(breast_cancer(), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and sorted(s.site for s in d.sites) == sorted(sites)


def test_a_metastasis_with_no_evidence_left_after_a_complete_response_stays_metastatic_its_site_asked_as_past():
    # (rt28) "no evidence, complete response" goes on about the known metastasis (metastatic);
    # (ds9) a complete response (RECIST 1.1: every lesion gone) is the liver no longer seen: asked
    # as a past site, not counted as a current visceral one, as "Liver metastases - resolved" is
    text = "Liver metastases - no evidence, complete response"
    s = build_patient_state([patient(), breast_cancer(), condition(cc(text=text), "2021-01-01")], PID,
                            as_of=dt.date(2021, 6, 1))
    assert s.disease.metastatic == "yes" and s.disease.sites == []
    message = next(g.message for g in s.gaps if g.code == "metastatic-site-unconfirmed")
    assert f'written in the past, not counted as a current site: the liver ("{text}")' in message


@pytest.mark.parametrize("text,sites", [("Bone metastases (? T12)", ["bone"]), ("Bone mets ? rib 5", ["bone"]),
                                        ("Liver metastases ? segment 7", ["liver"]), ("Metastatic breast cancer? bone", []),
                                        ("Bone metastases (? when diagnosed)", ["bone"]),
                                        ("Liver metastases ? since 2022", ["liver"])])
def test_a_question_about_where_or_since_when_leaves_a_known_metastasis_metastatic(text, sites):
    # (rt28) a doubt about the site or the date, as "Stage IV (?bone)": was metastasis-unconfirmed
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == sites
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text", ["Ascites, malignant cells present", "Ascites with malignant cells seen"])
def test_ascites_whose_cytology_found_malignant_cells_is_a_peritoneal_metastasis(text):
    # (rt28) as "Pleural effusion, malignant cells present" (CR A.4, C78.6): was not read
    d = disease(breast_cancer(), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["peritoneum"]


def test_a_metastasis_queried_for_biopsy_is_still_a_suspicion():
    c = condition(cc(text="Liver metastasis? for biopsy"), "2021-01-01")
    assert 'liver ("? for biopsy" in the text)' in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,site", [
    ("Bone metastases - radiological diagnosis, biopsy confirmed", "bone"),
    ("Liver metastasis (working diagnosis), histologically confirmed 2024-03", "liver"),
    ("Liver metastasis? biopsy planned - biopsy confirmed", "liver"),
])
def test_a_metastasis_doubted_then_confirmed_by_pathology_in_its_clause_is_metastatic(text, site):
    # (rt28) was: unconfirmed, "radiological diagnosis" read and the biopsy confirming it not
    # (CR A.4 a diagnosis made; condition-ver-status 'confirmed')
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text", ["Liver metastasis, not biopsy proven", "Liver metastasis or hemangioma, biopsy proven",
                                  "Liver metastasis - awaiting biopsy; bone biopsy confirmed"])
def test_a_confirmation_that_is_negated_or_may_be_of_the_other_diagnosis_leaves_the_metastasis_unconfirmed(text):
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text,quoted", [
    ("Liver metastasis - awaiting confirmatory MRI", "awaiting confirmatory MRI"),
    ("Bone metastases, MRI to confirm", "MRI to confirm"),
    ("Bone metastasis, to be confirmed by PET-CT", "to be confirmed by PET-CT"),
    ("Liver metastasis, awaiting biopsy", "awaiting biopsy"),
    ("Malignant pleural effusion - cytology awaited", "cytology awaited"),
    # (rt28) a date or a week after it: was read as asserted (an early patient's first-line cards)
    ("Liver metastasis - awaiting biopsy 12/03/2024", "awaiting biopsy"),
    ("Liver metastasis - biopsy pending (12/03)", "biopsy pending"),
    ("Liver metastasis - awaiting biopsy next week", "awaiting biopsy"),
])
def test_a_metastasis_awaiting_a_test_written_as_confirming_it_is_still_a_suspicion(text, quoted):
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert f'("{quoted}" in the text)' in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]



def test_a_coded_liver_metastasis_whose_text_says_suspected_is_unconfirmed():
    # EHR problem lists code the suspicion with the diagnosis's own code
    c = condition(cc(coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"),
                     text="Suspected liver metastasis"), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" in _gap_codes(breast_cancer(), c)


def test_a_breast_cancer_problem_with_suspected_metastases_is_breast_cancer_but_not_metastatic():
    c = condition(cc(coding(ICD10, "C50.912"), text="Breast cancer left, suspected bone metastases"), "2021-01-01")
    d = disease(c)
    assert d.breast_cancer == "yes" and d.metastatic != "yes"
    assert "metastasis-unconfirmed" in _gap_codes(c)
    # a suspicion beside a stated metastasis leaves the stated one standing
    c["code"]["text"] = "Breast cancer left with bone metastases, possible liver mets"
    assert disease(c).metastatic == "yes"


@pytest.mark.parametrize("text", ["Suspected progression of bone metastases", "Concern for growth of liver mets"])
def test_a_suspected_change_of_known_metastases_still_asserts_the_metastases(text):
    # the hedge qualifies the progression, not the presence of the metastases
    c = condition(cc(coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone"), text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic == "yes"


def test_a_stage_iv_breast_cancer_problem_with_a_suspected_site_is_still_metastatic():
    # the suspicion qualifies the liver, not the stage IV the clinician wrote beside it
    c = condition(cc(coding(ICD10, "C50.912"), text="Stage IV breast cancer, suspected liver metastases"), "2021-01-01")
    d = disease(c)
    assert d.breast_cancer == "yes" and d.metastatic == "yes"


# --- metastasis written as probable (likely, presumed, imaging "consistent with") ------

VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def _gaps(*resources):
    return {g.code: g.message for g in build_patient_state([patient(), *resources], PID).gaps}


@pytest.mark.parametrize("text,words", [
    # probable: FHIR condition-ver-status "provisional", a tentative diagnosis, read as "suspected" is
    ("Likely liver metastases", "Likely"), ("Presumed bone metastases", "Presumed"),
    ("Probable lung metastases", "Probable"), ("Worrisome for liver metastases", "Worrisome for"),
    ("Highly suspicious for bone metastases", "Highly suspicious for"), ("Bone metastases (presumed)", "presumed"),
    ("CT: findings consistent with liver metastases", "consistent with"),
    ("PET-CT compatible with bone metastases", "compatible with"),
    # unlikely: weaker than a suspicion, and no ruling out either (condition-ver-status
    # "refuted" needs diagnostic evidence): the clinician is asked to confirm or refute it
    ("Metastasis unlikely", "unlikely"), ("Liver lesion, unlikely to represent metastatic disease", "unlikely"),
    ("Liver lesion, mets unlikely", "unlikely"), ("Low suspicion for metastases", "Low suspicion for"),
    ("Liver lesion favoured benign over metastasis", "favoured benign"),
    ("Metastatic disease is considered unlikely", "unlikely"),
])
def test_a_metastasis_written_as_probable_or_unlikely_is_not_metastatic_and_the_gap_quotes_the_words(text, words):
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic != "yes" and d.sites == []
    assert f'("{words}" in the text)' in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Likely liver metastases", "Probable liver metastases"])
def test_a_probable_metastasis_the_clinician_confirmed_by_verification_status_is_metastatic(text):
    c = condition(cc(coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"), text=text), "2021-01-01",
                  verificationStatus=cc(coding(VER_STATUS, "confirmed")))
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["liver"]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


def test_a_suspected_metastasis_stays_unconfirmed_even_with_a_confirmed_verification_status():
    # the suspicion words keep the disease audit's reading (the text says the diagnosis is not made)
    c = condition(cc(text="Suspected liver metastases"), "2021-01-01",
                  verificationStatus=cc(coding(VER_STATUS, "confirmed")))
    assert disease(breast_cancer(), c).metastatic != "yes"


def test_a_probable_metastasis_beside_a_confirmed_one_leaves_the_patient_metastatic():
    likely = condition(cc(text="Likely liver metastases"), "2021-01-01")
    bone = metastasis("94222008", "Secondary malignant neoplasm of bone", "2021-01-01")
    assert disease(breast_cancer(), likely, bone).metastatic == "yes"


@pytest.mark.parametrize("text", ["Consistent with metastatic disease",
                                  "Liver biopsy: consistent with metastatic breast carcinoma",
                                  "CT-guided biopsy compatible with bone metastases"])
def test_consistent_with_metastases_in_pathology_or_text_that_does_not_say_is_still_metastatic(text):
    # in a pathology report "consistent with" confirms; only imaging text makes it probable
    assert disease(breast_cancer(), condition(cc(text=text), "2021-01-01")).metastatic == "yes"


def test_a_breast_cancer_problem_with_likely_metastases_is_not_metastatic_even_when_confirmed():
    # the primary's confirmed verificationStatus confirms the breast cancer, not the metastases
    c = condition(cc(coding(ICD10, "C50.912"), text="Breast cancer left, likely bone metastases"), "2021-01-01",
                  verificationStatus=cc(coding(VER_STATUS, "confirmed")))
    d = disease(c)
    assert d.breast_cancer == "yes" and d.metastatic != "yes"
    assert 'bone ("likely" in the text)' in _gaps(c)["metastasis-unconfirmed"]


# --- metastasis written as unlikely, as a suspicion ("cannot be excluded") ------------------

def test_an_unlikely_metastasis_is_not_metastatic_even_when_coded_and_confirmed():
    c = condition(cc(coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"), text="Metastasis unlikely"),
                  "2021-01-01", verificationStatus=cc(coding(VER_STATUS, "confirmed")))
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert 'liver ("unlikely" in the text)' in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Bone metastases; liver lesion unlikely metastatic",
                                  "Bone metastases unlikely to respond to endocrine therapy",
                                  "Progression of bone metastases unlikely"])
def test_unlikely_words_about_another_lesion_or_a_change_leave_stated_metastases_metastatic(text):
    # every mention must be hedged; "unlikely to respond" / "progression ... unlikely" doubt a
    # response or a change, not the metastases
    c = condition(cc(coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone"), text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text", [
    "Suggestive of metastases", "Cannot exclude liver metastasis", "Metastasis cannot be excluded",
    "Liver metastasis cannot be ruled out", "Bone metastases not ruled out", "Metastasis not excluded",
    "Bone scan equivocal for metastasis", "Indeterminate liver lesion, metastasis not excluded",
    "Indeterminate for metastasis", "Metastatic disease could not be excluded",
])
def test_a_metastasis_that_cannot_be_excluded_is_a_suspicion_not_metastatic_and_named_in_a_gap(text):
    # the question is still open: condition-ver-status "unconfirmed", neither asserted nor refuted
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic != "yes" and d.sites == []
    assert "(suspected in the text)" in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Metastasis ruled out", "Liver metastases excluded", "Metastases have been ruled out"])
def test_a_metastasis_ruled_out_stays_ruled_out_with_no_gap(text):
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


# --- a metastasis ruled out beside another: each mention read on its own -------------------

@pytest.mark.parametrize("text", [
    "Bone metastases; liver metastasis ruled out", "Bone metastases, liver lesion ruled out",
    "Metastatic to bone. No evidence of liver metastasis", "Bone mets present, brain mets excluded",
    "Bone metastases with no liver lesions", "Bone metastases and pleural lesion ruled out",
])
def test_stated_bone_metastases_beside_a_refuted_other_site_are_metastatic_with_bone_as_the_only_site(text):
    # condition-ver-status "refuted" is the other site's: the bone metastases stay, and the
    # refuted site is no site (the patient was read as not metastatic, or with that site)
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


def test_a_liver_code_whose_text_rules_the_liver_out_beside_bone_metastases_has_bone_as_its_site():
    c = condition(cc(coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"),
                     text="Bone metastases; liver metastasis ruled out"), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [(s.site, s.visceral) for s in d.sites] == [("bone", False)]


def test_known_bone_metastases_with_no_new_metastases_stay_metastatic():
    c = condition(cc(text="Bone metastases, no new metastases on CT"), "2021-01-01")
    assert [s.site for s in disease(breast_cancer(), c).sites] == ["bone"]


@pytest.mark.parametrize("text", ["No liver metastases", "No evidence of liver metastasis",
                                  "No bone or liver metastases", "No hepatic, osseous or pulmonary metastases",
                                  "No bone metastases or liver metastases"])
def test_a_metastasis_with_a_site_between_the_negation_and_it_is_ruled_out(text):
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text", ["Absence of metastatic disease", "Not metastatic", "Free of metastases",
                                  "Denies metastases", "Liver metastases absent", "Metastatic disease is absent"])
def test_a_metastasis_written_as_not_there_in_other_words_is_ruled_out(text):
    # read as asserted, each made the patient metastatic (condition-ver-status "refuted" words)
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text", ["Breast cancer, not stage IV", "Breast cancer, stage IV ruled out",
                                  "No stage IV disease; breast cancer left"])
def test_a_breast_cancer_problem_written_not_stage_iv_is_not_metastatic_disease(text):
    # "stage IV" anywhere in the text made the disease metastatic (CR A.4), negated or not
    d = disease(condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic != "yes"


def test_a_stage_iv_that_cannot_be_ruled_out_is_a_suspicion_named_in_the_gap():
    c = condition(cc(coding(ICD10, "C50.912"), text="Breast cancer, stage IV cannot be ruled out"), "2021-01-01")
    assert disease(c).metastatic != "yes"
    assert "stage IV not ruled out in the text" in _gaps(c)["metastasis-unconfirmed"]


def test_a_breast_cancer_problem_written_stage_iv_stays_metastatic():
    d = disease(condition(cc(coding(ICD10, "C50.912"), text="Breast cancer, stage IV, not responding"), "2021-01-01"))
    assert d.metastatic == "yes"


def test_a_breast_cancer_problem_written_not_metastatic_is_not_metastatic_disease():
    c = condition(cc(coding(ICD10, "C50.912"), text="Breast cancer left, not metastatic"), "2021-01-01")
    d = disease(c)
    assert d.breast_cancer == "yes" and d.metastatic != "yes"


@pytest.mark.parametrize("text", ["Could not exclude liver metastasis", "Liver metastasis not ruled out",
                                  "Not suggestive of liver metastases", "Liver metastases not yet confirmed"])
def test_a_not_that_leaves_the_question_open_is_a_suspicion_not_a_ruling_out(text):
    c = condition(cc(text=text), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "metastasis-unconfirmed" in _gaps(breast_cancer(), c)


@pytest.mark.parametrize("text", ["No progression of bone metastases", "No change in bone metastases",
                                  "Non-measurable bone metastases", "No fracture, bone metastases",
                                  "No chemotherapy for bone metastases"])
def test_a_negation_of_a_change_a_treatment_or_another_finding_leaves_bone_metastases_metastatic(text):
    c = condition(cc(text=text), "2021-01-01")
    d = disease(breast_cancer(), c)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"]


def test_a_suspected_metastasis_beside_a_refuted_one_is_named_in_the_gap_with_its_own_site():
    c = condition(cc(text="Suspected bone metastases; liver mets ruled out"), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic != "yes"
    assert "bone (suspected in the text)" in _gaps(breast_cancer(), c)["metastasis-unconfirmed"]


def test_a_breast_cancer_problem_with_bone_metastases_and_a_liver_metastasis_ruled_out_is_metastatic():
    c = condition(cc(coding(ICD10, "C50.912"), text="Breast cancer left, bone metastases; liver metastasis ruled out"),
                  "2021-01-01")
    d = disease(c)
    assert d.breast_cancer == "yes" and d.metastatic == "yes"
    # stage IV written beside a refuted site stays stage IV; the primary names no site
    c["code"]["text"] = "Stage IV breast cancer; liver metastasis ruled out"
    d = disease(c)
    assert d.metastatic == "yes" and d.sites == []


def test_indeterminate_nodules_written_before_stated_bone_metastases_leave_them_metastatic():
    c = condition(cc(text="Indeterminate lung nodules, bone metastases"), "2021-01-01")
    assert disease(breast_cancer(), c).metastatic == "yes"


def test_an_m1_category_sent_as_a_value_string_makes_the_disease_metastatic():
    d = disease(breast_cancer(), loinc_obs("21907-1", "2021-01-01", valueString="cM1"))
    assert d.metastatic == "yes" and d.metastatic_date == dt.date(2021, 1, 1)


def test_every_body_site_of_one_secondary_condition_is_a_metastatic_site():
    c = condition(cc(coding(SNOMED, "128462008", "Secondary malignant neoplastic disease")), "2021-01-01",
                  bodySite=[cc(coding(SNOMED, "272673000", "Bone structure")),
                            cc(coding(SNOMED, "10200004", "Liver structure"))])
    d = disease(breast_cancer(), c)
    assert [(s.site, s.visceral) for s in d.sites] == [("liver", True), ("bone", False)]
    assert d.visceral_involvement is True


# --- visceral crisis: answers and Conditions that assert none ------------------

@pytest.mark.parametrize("answer_text", ["Not present", "None", "Unknown", "Visceral crisis resolved"])
def test_a_visceral_crisis_question_answered_not_present_none_or_unknown_is_no_visceral_crisis(answer_text):
    obs = observation(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-01",
                      valueString=answer_text)
    d = disease(breast_cancer(), obs)
    assert d.visceral_crisis is False and d.visceral_crisis_documented is False
    obs["valueString"] = "Yes"  # the same question answered yes asserts it
    assert disease(breast_cancer(), obs).visceral_crisis is True


@pytest.mark.parametrize("extra", [
    {"verificationStatus": cc(coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "provisional"))},
    # miscased: still provisional (as the metastasis reader reads it)
    {"verificationStatus": cc(coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "Provisional"))},
    {"abatementDateTime": "2022-04-01"},
])
def test_a_provisional_or_abated_visceral_crisis_condition_is_not_a_current_crisis(extra):
    c = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-01", **extra)
    assert disease(breast_cancer(), c).visceral_crisis is False


@pytest.mark.parametrize("text", ["At risk of visceral crisis", "History of visceral crisis",
                                  "No signs or symptoms of impending visceral crisis"])
def test_a_risk_a_history_or_a_long_negation_of_visceral_crisis_is_not_a_current_crisis(text):
    assert disease(breast_cancer(), condition(cc(text=text), "2022-03-01")).visceral_crisis is False


@pytest.mark.parametrize("resource,written", [
    (condition(cc(text="Impending visceral crisis (rising bilirubin)"), "2022-03-01"), "impending visceral crisis"),
    (condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis"), text="Visceral crisis imminent"),
               "2022-03-01"), "visceral crisis imminent"),
    (observation(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-01",
                 valueString="Impending"), "visceral crisis: impending"),
])
def test_an_impending_visceral_crisis_is_not_asserted_and_a_gap_quotes_it_and_asks_the_clinician(resource, written):
    # CR C.1 (ABC4) defines a present crisis; no source says what an impending one means for C.2 step 2
    d = disease(breast_cancer(), resource)
    assert d.visceral_crisis is False and d.visceral_crisis_documented is False
    gap = _gaps(breast_cancer(), resource)["visceral-crisis-unclear"]
    assert gap.startswith(f'Visceral crisis written as "{written}", not counted as a current visceral crisis')
    assert "Confirm whether a visceral crisis is present" in gap


def _crisis_not_asserted_and_quoted(text, written):
    """A crisis Condition written `text` (2022-03-01): no current or documented crisis, and the gap
    visceral-crisis-unclear quotes it as `written`. Returns the Condition."""
    c = condition(cc(text=text), "2022-03-01")
    d = disease(breast_cancer(), c)
    assert d.visceral_crisis is False and d.visceral_crisis_documented is False
    gap = _gaps(breast_cancer(), c)["visceral-crisis-unclear"]
    assert gap.startswith(f'Visceral crisis written as "{written}", not counted as a current visceral crisis')
    return c


@pytest.mark.parametrize("text,written", [
    ("Suspected visceral crisis", "suspected visceral crisis"), ("Possible visceral crisis", "possible visceral crisis"),
    ("? visceral crisis", "? visceral crisis"), ("Concern for visceral crisis", "concern for visceral crisis"),
    ("r/o visceral crisis", "r/o visceral crisis"), ("Visceral crisis cannot be excluded",
                                                     "visceral crisis cannot be excluded"),
])
def test_a_suspected_visceral_crisis_is_not_asserted_and_a_gap_quotes_it_and_asks_the_clinician(text, written):
    # a diagnosis not yet made (condition-ver-status unconfirmed), not the crisis CR C.3 row 12
    # asks a clinician to assert; "r/o" is a crisis under consideration, not one ruled out
    _crisis_not_asserted_and_quoted(text, written)


def test_a_visceral_crisis_question_answered_possible_is_unclear_and_one_asked_with_a_question_mark_answered_yes_is_a_crisis():
    vc = cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis"))
    possible = observation(vc, "2022-03-01", valueString="Possible")
    assert disease(breast_cancer(), possible).visceral_crisis is False
    assert "visceral-crisis-unclear" in _gaps(breast_cancer(), possible)
    asked = observation(cc(text="Visceral crisis?"), "2022-03-01", valueString="Yes")
    assert disease(breast_cancer(), asked).visceral_crisis is True


@pytest.mark.parametrize("text", ["Visceral crisis ruled out", "Visceral crisis excluded", "No visceral crisis"])
def test_a_visceral_crisis_ruled_out_stays_no_crisis_with_no_gap(text):
    c = condition(cc(text=text), "2022-03-01")
    assert disease(breast_cancer(), c).visceral_crisis is False
    assert "visceral-crisis-unclear" not in _gaps(breast_cancer(), c)


def test_a_suspected_crisis_beside_an_asserted_one_leaves_the_crisis_asserted_without_a_gap():
    suspected = condition(cc(text="Suspected visceral crisis"), "2022-03-01")
    crisis = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-05")
    assert disease(breast_cancer(), suspected, crisis).visceral_crisis is True
    assert "visceral-crisis-unclear" not in _gaps(breast_cancer(), suspected, crisis)


def test_an_impending_crisis_beside_an_asserted_one_leaves_the_crisis_asserted_without_a_gap():
    impending = condition(cc(text="Impending visceral crisis"), "2022-03-01")
    crisis = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-05")
    assert disease(breast_cancer(), impending, crisis).visceral_crisis is True
    assert "visceral-crisis-unclear" not in _gaps(breast_cancer(), impending, crisis)


@pytest.mark.parametrize("status", ["Resolved", "INACTIVE", "Remission"])
def test_a_visceral_crisis_whose_clinical_status_is_resolved_in_the_wrong_case_is_unclear_and_names_the_status(status):
    # condition-clinical is case-sensitive: "Resolved" is no code, so the status cannot be read;
    # the record probably means resolved: neither a crisis (chemotherapy first, C.2 step 2) nor
    # dropped, the gap names the status
    crisis = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-01",
                       rid="vc-miscased", clinical=status)
    state = build_patient_state([patient(), breast_cancer(), crisis], PID)
    assert state.disease.visceral_crisis is False and state.disease.visceral_crisis_documented is False
    gap = {g.code: g.message for g in state.gaps}["visceral-crisis-unclear"]
    assert gap.startswith(f'Visceral crisis recorded with clinicalStatus "{status}" (not a condition-clinical code: '
                          "codes are case-sensitive), not counted as a current visceral crisis")
    assert [(g.code, g.message) for g in state.ignored] == [
        ("unreadable-resource", f"Condition/vc-miscased clinicalStatus '{status}' is not a condition-clinical code "
                                "(codes are case-sensitive): read as no clinical status")]
    crisis["clinicalStatus"] = cc(coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved"))
    assert disease(breast_cancer(), crisis).visceral_crisis is False
    assert "visceral-crisis-unclear" not in _gaps(breast_cancer(), crisis)


def test_a_visceral_crisis_whose_clinical_status_is_active_in_the_wrong_case_stays_a_crisis_with_a_note():
    # "Active" read as no status or as active says the same: the crisis stands, the status is noted
    crisis = condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "2022-03-01",
                       rid="vc-active", clinical="Active")
    state = build_patient_state([patient(), breast_cancer(), crisis], PID)
    assert state.disease.visceral_crisis is True
    assert "visceral-crisis-unclear" not in {g.code for g in state.gaps}
    assert [g.message for g in state.ignored] == [
        "Condition/vc-active clinicalStatus 'Active' is not a condition-clinical code (codes are case-sensitive): "
        "read as no clinical status"]


def test_a_diabetes_whose_clinical_status_is_in_the_wrong_case_still_stands_and_the_status_is_noted():
    # one helper for the readings (fhir.clinical_status_inactive): diabetes read as before, noted
    dm = condition(cc(coding(SNOMED, "44054006", "Diabetes mellitus type 2")), "2020-01-01", rid="dm-miscased",
                   clinical="Resolved")
    state = build_patient_state([patient(), dm], PID)
    assert state.factors.diabetes.status != "none-documented"
    assert [g.message for g in state.ignored] == [
        "Condition/dm-miscased clinicalStatus 'Resolved' is not a condition-clinical code (codes are case-sensitive): "
        "read as no clinical status"]
    dm["clinicalStatus"] = cc(coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved"))
    state = build_patient_state([patient(), dm], PID)
    assert state.factors.diabetes.status == "none-documented" and state.ignored == []


@pytest.mark.parametrize("text,written", [
    ("Likely visceral crisis", "likely visceral crisis"), ("Probable visceral crisis", "probable visceral crisis"),
    ("Presumed visceral crisis (hepatic)", "presumed visceral crisis"),
    ("Visceral crisis, likely", "visceral crisis, likely"), ("Visceral crisis (probable)", "visceral crisis (probable)"),
])
def test_a_visceral_crisis_written_as_probable_is_unclear_unless_the_condition_is_confirmed(text, written):
    # condition-ver-status "provisional" (a tentative diagnosis), as a probable metastasis: not the
    # crisis CR C.3 row 12 asks a clinician to assert, unless the Condition is confirmed
    c = _crisis_not_asserted_and_quoted(text, written)
    c["verificationStatus"] = cc(coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"))
    assert disease(breast_cancer(), c).visceral_crisis is True
    assert "visceral-crisis-unclear" not in _gaps(breast_cancer(), c)


def test_a_visceral_crisis_with_a_likely_cause_is_still_a_crisis():
    # "likely" names the cause of a crisis written as present, not the crisis
    c = condition(cc(text="Visceral crisis, likely due to liver failure"), "2022-03-01")
    assert disease(breast_cancer(), c).visceral_crisis is True


@pytest.mark.parametrize("question,written", [
    (cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")), "visceral crisis: likely"),
    (cc(text="Visceral crisis?"), "visceral crisis?: likely"),
])
def test_a_visceral_crisis_question_answered_likely_is_unclear(question, written):
    obs = observation(question, "2022-03-01", valueString="Likely")
    assert disease(breast_cancer(), obs).visceral_crisis is False
    assert _gaps(breast_cancer(), obs)["visceral-crisis-unclear"].startswith(f'Visceral crisis written as "{written}"')


def _flag(text):
    return {"resourceType": "Flag", "id": "flag-vc-q", "status": "active", "subject": {"reference": f"Patient/{PID}"},
            "code": cc(text=text), "period": {"start": "2022-03-01"}}


@pytest.mark.parametrize("resource", [
    condition(cc(text="Visceral crisis?"), "2022-03-01"),
    condition(cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis"), text="Visceral crisis ?"),
              "2022-03-01"),
    _flag("Visceral crisis?"),
    {"resourceType": "ClinicalImpression", "id": "ci-vc-q", "status": "completed", "subject": {"reference": f"Patient/{PID}"},
     "date": "2022-03-01", "summary": "Rising bilirubin. Visceral crisis?"},
    observation(cc(text="Clinical impression"), "2022-03-01", valueString="Visceral crisis?"),
], ids=["condition", "coded condition", "flag", "clinical impression", "observation answer"])
def test_a_visceral_crisis_written_with_a_question_mark_after_it_is_a_suspicion_and_unclear(resource):
    d = disease(breast_cancer(), resource)
    assert d.visceral_crisis is False and d.visceral_crisis_documented is False
    gap = _gaps(breast_cancer(), resource)["visceral-crisis-unclear"]
    assert gap.startswith("Visceral crisis written as \"visceral crisis")


@pytest.mark.parametrize("answer", [{"valueString": "Yes"}, {"valueBoolean": True}])
def test_a_visceral_crisis_question_written_with_a_question_mark_and_answered_yes_is_a_crisis(answer):
    asked = observation(cc(text="Visceral crisis?"), "2022-03-01", **answer)
    assert disease(breast_cancer(), asked).visceral_crisis is True
    assert "visceral-crisis-unclear" not in _gaps(breast_cancer(), asked)


def test_a_visceral_crisis_flag_whose_period_has_ended_is_not_a_current_crisis():
    flag = {"resourceType": "Flag", "id": "flag-vc-ended", "status": "active", "subject": {"reference": f"Patient/{PID}"},
            "code": cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis")),
            "period": {"start": "2022-01-01", "end": "2022-02-01"}}
    assert disease(breast_cancer(), flag).visceral_crisis is False
    flag["period"] = {"start": "2022-01-01"}  # still raised
    assert disease(breast_cancer(), flag).visceral_crisis is True


@pytest.mark.parametrize("status", ["Inactive", "INACTIVE", " inactive "])
def test_a_visceral_crisis_flag_whose_status_is_inactive_in_another_case_is_not_a_current_crisis(status):
    # FHIR R4 Flag.status: active | inactive | entered-in-error; read in any case (fhir.status_code)
    flag = {"resourceType": "Flag", "id": "flag-vc-inactive", "status": status, "subject": {"reference": f"Patient/{PID}"},
            "code": cc(coding("urn:mbc-cds:local", "visceral-crisis", "Visceral crisis"))}
    assert disease(breast_cancer(), flag).visceral_crisis is False


# --- TNM and stage group written in text (AJCC 8th edition notation, CR A.4) ---------------

@pytest.mark.parametrize("text", ["pT2N0M1", "T2N1aM1b", "rpT1 N0 M1", "ypT0N0 cM1"])
def test_an_m1_inside_a_tnm_string_is_metastatic_on_the_m_category_and_the_stage_group(text):
    # no word boundary stands before the M of "pT2N0M1": the M1 was not read, the patient left the pathway
    for code in ("21907-1", "21908-9"):
        d = disease(breast_cancer("2020-01-01"), loinc_obs(code, "2020-01-05", valueString=text))
        assert d.metastatic == "yes" and d.metastatic_date == dt.date(2020, 1, 5) and d.de_novo_metastatic is True


@pytest.mark.parametrize("text", ["T2N1M0", "ypT0N0M0", "pT2N1aM0", "cM0(i+)"])
def test_an_m0_inside_a_tnm_string_or_with_isolated_tumour_cells_is_not_metastatic(text):
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21907-1", "2020-01-05", valueString=text))
    assert d.metastatic == "no" and d.de_novo_metastatic is False


@pytest.mark.parametrize("text", ["Breast cancer pT2N0M1", "Breast cancer, cM1", "Breast cancer, M1 (bone)",
                                  "Breast cancer cT2 N1 M1"])
def test_an_m1_written_on_the_breast_cancer_problem_is_metastatic_as_stage_iv_is(text):
    d = disease(condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic == "yes"


@pytest.mark.parametrize("text", ["Stage IV ruled out", "not stage IV", "cM1 - ruled out", "No M1"])
def test_a_stage_iv_or_m1_value_written_as_not_there_is_no_stage_iv(text):
    for code in ("21908-9", "21907-1"):
        s = build_patient_state([patient(), breast_cancer("2020-01-01"),
                                 loinc_obs(code, "2020-01-05", valueCodeableConcept=cc(text=text))], PID)
        assert s.disease.metastatic != "yes"
    d = disease(breast_cancer("2020-01-01", stage=[{"summary": cc(text=text)}]))
    assert d.metastatic != "yes"


@pytest.mark.parametrize("text,written", [("Stage IV?", "stage iv?"), ("? stage IV", "? stage iv"),
                                          ("possible stage IV", "possible stage iv"),
                                          ("Suspected stage IV", "suspected stage iv")])
def test_a_stage_iv_written_as_a_suspicion_is_no_stage_iv_and_the_gap_quotes_it(text, written):
    stage_group = loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text))
    problem = condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01")
    on_summary = breast_cancer("2020-01-01", stage=[{"summary": cc(text=text)}])
    for resources in ((breast_cancer("2020-01-01"), stage_group), (problem,), (on_summary,)):
        assert disease(*resources).metastatic != "yes"
        assert f'stage IV written "{written}"' in _gaps(*resources)["metastasis-unconfirmed"]


def test_a_stage_iv_breast_cancer_with_a_suspected_site_keeps_the_stage_asserted():
    d = disease(condition(cc(coding(ICD10, "C50.912"), text="Stage IV breast cancer, suspected liver metastases"),
                          "2021-01-01"))
    assert d.metastatic == "yes"


@pytest.mark.parametrize("text", ["Stage III-IV", "stage 3/4", "Stage III or IV"])
def test_a_stage_written_as_a_range_of_two_groups_is_neither_early_nor_stage_iv(text):
    # "Stage III-IV" was read as stage III: documented non-metastatic disease
    s = build_patient_state([patient(), breast_cancer("2020-01-01", stage=[{"summary": cc(text=text)}]),
                             loinc_obs("21908-9", "2020-01-05", valueString=text)], PID)
    assert s.disease.metastatic == "unknown" and s.disease.non_metastatic_sources == []
    assert "metastatic-status-unknown" in {g.code for g in s.gaps}


# --- which cancer, when, and how final a staging Observation is --------------------------------

def test_a_stage_iv_observation_whose_focus_is_another_cancer_is_not_the_breast_cancer_stage():
    # mCODE CancerStage: Observation.focus is the cancer staged (here a colon cancer)
    colon = condition(cc(coding(ICD10, "C18.9", "Malignant neoplasm of colon, unspecified")), "2010-01-01",
                      rid="colon-1")
    stage = loinc_obs("21908-9", "2020-02-01", valueCodeableConcept=cc(coding(AJCC, "4")))
    stage["focus"] = [{"reference": "Condition/colon-1"}]
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), colon, stage], PID)
    assert s.disease.metastatic == "unknown" and s.disease.metastatic_sources == []
    assert any("another cancer" in g.message for g in s.ignored)
    # the same Observation focused on the breast cancer stages it
    breast = breast_cancer("2020-01-01", rid="breast-1")
    stage["focus"] = [{"reference": "Condition/breast-1"}]
    assert disease(breast, colon, stage).metastatic == "yes"


@pytest.mark.parametrize("status", ["preliminary", "registered", "unknown", "Preliminary"])
def test_a_stage_iv_or_m1_observation_not_final_is_no_stage_yet_and_is_named_in_the_gap(status):
    for code, value, display in (("21908-9", cc(coding(AJCC, "4")), "Stage group IV (21908-9)"),
                                 ("21907-1", cc(coding(SNOMED, "1229903009", "cM1")), "M1 (21907-1)")):
        stage = loinc_obs(code, "2020-01-05", valueCodeableConcept=value)
        stage["status"] = status
        assert disease(breast_cancer("2020-01-01"), stage).metastatic == "unknown"
        gap = _gaps(breast_cancer("2020-01-01"), stage)["metastasis-unconfirmed"]
        assert f"{display}, status {status.lower()}: not final" in gap


def test_a_stage_iv_dated_years_before_the_breast_cancer_diagnosis_is_a_conflict_not_de_novo_disease():
    old_stage = loinc_obs("21908-9", "1995-03-01", valueCodeableConcept=cc(coding(AJCC, "4")))
    s = build_patient_state([patient(), breast_cancer("2016-03-01"), old_stage,
                             metastasis("94222008", "Secondary malignant neoplasm of bone", "2024-01-15")], PID)
    # it made the disease metastatic since 1995 and de novo (a stage "within 92 days" of the diagnosis)
    assert s.disease.metastatic_date == dt.date(2024, 1, 15) and s.disease.de_novo_metastatic is False
    gap = {g.code: g.message for g in s.gaps}["metastatic-status-conflict"]
    assert "before the breast cancer diagnosis (2016-03-01)" in gap and "1995-03-01" in gap
    # a staging a few weeks before the recorded diagnosis is the usual work-up: de novo
    work_up = loinc_obs("21908-9", "2016-02-10", valueCodeableConcept=cc(coding(AJCC, "4")))
    assert disease(breast_cancer("2016-03-01"), work_up).de_novo_metastatic is True


@pytest.mark.parametrize("code", ["C18.9", "C34.90", "C43.9", "C85.90"])
def test_metastatic_written_on_another_primary_cancer_is_not_breast_cancer_metastasis(code):
    # ICD-10-CM C00-C75 / C81-C96 name a primary cancer of that site: its "metastatic" is its spread
    other = condition(cc(coding(ICD10, code), text="Metastatic disease"), "2010-01-01")
    d = disease(stage_iia_breast_cancer(), other)
    assert d.metastatic == "no" and d.sites == [] and d.metastatic_sources == []


def test_a_secondary_code_beside_another_primary_code_stays_a_metastasis():
    both = condition(cc(coding(ICD10, "C18.9"), coding(ICD10, "C78.7"), text="Metastatic to liver"), "2021-01-01")
    d = disease(breast_cancer(), both)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["liver"]


@pytest.mark.parametrize("code", ["cM0(i+)", "M0(i+)"])
def test_an_m0_with_isolated_tumour_cells_sent_as_an_ajcc_code_is_m0(code):
    # AJCC 8th edition: cM0(i+) is M0 (isolated tumour cells), not M1; it was read as nothing
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21907-1", "2020-01-05", valueCodeableConcept=cc(coding(AJCC, code))))
    assert d.metastatic == "no" and d.de_novo_metastatic is False


@pytest.mark.parametrize("text", ["Stage IV (?bone)", "Stage IV (? liver)", "Stage IV (suspected bone)"])
def test_a_stage_iv_with_a_questioned_site_in_brackets_keeps_the_stage_asserted(text):
    # the "?" opens a doubt about the site, not the stage: it was read as "Stage IV?", a suspicion
    stage_group = loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text))
    problem = condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01")
    on_summary = breast_cancer("2020-01-01", stage=[{"summary": cc(text=text)}])
    for resources in ((breast_cancer("2020-01-01"), stage_group), (problem,), (on_summary,)):
        assert disease(*resources).metastatic == "yes"


@pytest.mark.parametrize("text", ["Stage IV (?)", "Stage IV (suspected)", "Stage IV ?"])
def test_a_stage_iv_whose_bracket_holds_only_the_doubt_stays_a_suspicion(text):
    problem = condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01")
    assert disease(problem).metastatic != "yes"
    assert "metastasis-unconfirmed" in _gaps(problem)


@pytest.mark.parametrize("text", ["pT2NXM1", "pT1N1miM1", "cT2N0(i+)M1", "TXNXM1a"])
def test_an_m1_after_an_nx_or_n1mi_category_in_a_tnm_string_is_metastatic(text):
    # AJCC 8th edition N categories NX (not assessed) and N1mi (micrometastases) end in a letter:
    # the M1 after them was not read
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21907-1", "2020-01-05", valueString=text))
    assert d.metastatic == "yes" and d.de_novo_metastatic is True


@pytest.mark.parametrize("text", ["pT2NXM0", "pT1N1miM0"])
def test_an_m0_after_an_nx_or_n1mi_category_in_a_tnm_string_is_not_metastatic(text):
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21907-1", "2020-01-05", valueString=text))
    assert d.metastatic == "no"


@pytest.mark.parametrize("text", ["Breast cancer, no evidence of stage IV disease", "Breast cancer; denies stage IV",
                                  "Breast cancer, absence of M1 disease"])
def test_a_stage_iv_written_after_the_shared_negation_words_is_no_stage_iv(text):
    # only "not/no/non/without" and one word were read: these asserted stage IV (vocabulary negation_words)
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2020-01-01")
    assert disease(problem).metastatic != "yes"


@pytest.mark.parametrize("text", ["Breast cancer, cannot exclude stage IV", "Breast cancer, can not exclude stage IV",
                                  "Breast cancer, unable to exclude M1"])
def test_a_stage_iv_that_cannot_be_excluded_is_a_suspicion_named_in_the_gap(text):
    # was read as stage IV asserted ("cannot exclude") or as not there ("can not exclude")
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2020-01-01")
    assert disease(problem).metastatic != "yes"
    assert "stage IV not ruled out in the text" in _gaps(problem)["metastasis-unconfirmed"]


def test_metastatic_written_on_a_merkel_cell_carcinoma_is_not_breast_cancer_metastasis():
    # ICD-10-CM C4A (Merkel cell carcinoma) sits between C43 and C44 but sorts after C49: it was
    # left out of the other-primary blocks and its "metastatic" made the breast cancer metastatic
    other = condition(cc(coding(ICD10, "C4A.9"), text="Metastatic Merkel cell carcinoma"), "2010-01-01")
    d = disease(stage_iia_breast_cancer(), other)
    assert d.metastatic == "no" and d.metastatic_sources == []


@pytest.mark.parametrize("text", ["Breast cancer 2.5 cm1 node positive", "Breast cancer, tumour 2cm1 node"])
def test_a_size_in_centimetres_run_into_a_count_is_not_an_m1(text):
    # "2.5 cm1" read as the clinical M category cM1: a stage II patient was made metastatic
    d = disease(condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic != "yes"


@pytest.mark.parametrize("text", ["Breast cancer T2 N0 cM1", "Breast cancer pT2N0cM1"])
def test_a_clinical_m1_after_an_n_category_is_still_read(text):
    d = disease(condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"))
    assert d.metastatic == "yes"


@pytest.mark.parametrize("text", ["Stage IIA, not stage IV", "Stage IIIA; stage IV ruled out", "Stage IIB (no M1)"])
def test_an_early_stage_written_beside_a_stage_iv_ruled_out_is_still_the_early_stage(text):
    # the ruled-out stage IV made the whole text no stage: metastatic status went from "no" to unknown
    for resources in ((breast_cancer("2020-01-01", stage=[{"summary": cc(text=text)}]),),
                      (breast_cancer("2020-01-01"), loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text)))):
        d = disease(*resources)
        assert d.metastatic == "no" and d.non_metastatic_sources != []


@pytest.mark.parametrize("text", ["cM0, M1 excluded", "M0 (not M1)"])
def test_an_m0_written_beside_an_m1_ruled_out_is_m0(text):
    # the ruled-out M1 made the whole value unread: the patient was metastatic-status unknown
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21907-1", "2020-01-05", valueString=text))
    assert d.metastatic == "no" and d.de_novo_metastatic is False


# --- staging and metastasis: wordings probed in fix-st2 ------------------------------------

@pytest.mark.parametrize("text", ["M1 not assessed", "M1: unknown", "cM1 (not evaluated)", "M1 status unknown"])
def test_an_m1_written_as_not_assessed_is_no_m1_and_no_m0(text):
    # AJCC 8th edition: MX is no valid category; an M category not assessed is no finding. The
    # "M1" in it was read as metastatic (de novo, first-line cards for an early patient)
    for code in ("21907-1", "21908-9"):
        d = disease(breast_cancer("2020-01-01"), loinc_obs(code, "2020-01-05", valueCodeableConcept=cc(text=text)))
        assert d.metastatic == "unknown" and d.de_novo_metastatic is None
    d = disease(condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic == "unknown"


def test_a_stage_iv_written_beside_an_unknown_primary_site_stays_stage_iv():
    text = "Stage IV - unknown primary site"
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text)))
    assert d.metastatic == "yes"


@pytest.mark.parametrize("text,written", [("Stage IV, M1 not assessed", "stage iv, m1 not assessed"),
                                          ("Stage IV (M not assessed)", "stage iv (m not assessed)"),
                                          ("Stage IV, MX", "stage iv, mx")])
def test_a_stage_iv_written_beside_an_m_not_assessed_contradicts_itself_and_the_gap_quotes_it(text, written):
    # AJCC 8th edition: stage IV is any T any N M1, and an M not assessed is no M1. Was: read as
    # stage IV (metastatic, de novo first-line cards) though the text says M was not assessed
    stage_group = loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text))
    problem = condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01")
    for resources in ((breast_cancer("2020-01-01"), stage_group), (problem,)):
        assert disease(*resources).metastatic == "unknown"
        assert (f'stage IV written "{written}" (AJCC stage IV is M1)'
                in _gaps(*resources)["metastasis-unconfirmed"])


def test_a_stage_iv_beside_an_m_not_assessed_is_metastatic_when_a_metastasis_condition_confirms_it():
    stage_group = loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text="Stage IV (M not assessed)"))
    d = disease(breast_cancer("2020-01-01"), stage_group, metastasis("94222008", "Secondary malignant neoplasm of bone"))
    assert d.metastatic == "yes"
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer("2020-01-01"), stage_group,
                                                 metastasis("94222008", "Secondary malignant neoplasm of bone"))


@pytest.mark.parametrize("text", ["Stage IV - 1 bone lesion", "Stage 4 - 2 lesions", "Stage IV - 3 sites"])
def test_a_stage_iv_followed_by_a_count_of_lesions_is_stage_iv_not_a_range(text):
    # the count after the dash was read as a second stage group ("IV - 1"): stage unknown, the
    # patient left the pathway
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text)))
    assert d.metastatic == "yes" and d.de_novo_metastatic is True


@pytest.mark.parametrize("text", ["Stage III-IV", "Stage IIIC - IV", "stage 3/4", "Stage IV or III",
                                  "Stage III vs IV"])
def test_a_range_or_a_choice_of_two_stage_groups_is_no_stage(text):
    d = disease(breast_cancer("2020-01-01"), loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text)))
    assert d.metastatic == "unknown"


@pytest.mark.parametrize("text,written", [
    ("Stage IV (pending biopsy)", "stage iv (pending biopsy)"), ("Stage IV, to be confirmed", "stage iv, to be confirmed"),
    ("Stage IV vs III", "stage iv vs iii"), ("Stage IV - not confirmed", "stage iv - not confirmed"),
    ("M1 (provisional)", "m1 (provisional)"), ("Stage IV, presumed", "stage iv, presumed"),
    ("cM1 vs cM0", "cm1 vs cm0"),
])
def test_a_stage_iv_written_pending_or_as_one_of_two_is_a_suspicion_as_stage_iv_question_mark_is(text, written):
    # these were read as stage IV asserted (metastatic, de novo), where "Stage IV?" was a suspicion
    stage_group = loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text))
    problem = condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01")
    for resources in ((breast_cancer("2020-01-01"), stage_group), (problem,)):
        assert disease(*resources).metastatic != "yes"
        assert f'stage IV written "{written}"' in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Stage IV, pending treatment", "Stage IV - awaiting chemotherapy",
                                  "Stage IV (awaiting oncology review)"])
def test_a_stage_iv_awaiting_treatment_is_stage_iv_not_a_suspicion(text):
    # was: read as a suspicion ("pending" / "awaiting" any 1-3 words): metastatic status unknown.
    # What waits is the treatment, not the diagnosis (CR A.4: a diagnosis made)
    d = disease(condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01"))
    assert d.metastatic == "yes"


@pytest.mark.parametrize("text,written", [("Stage IV (biopsy pending)", "stage iv (biopsy pending)"),
                                          ("Stage IV (to be confirmed by biopsy)", "stage iv (to be confirmed by biopsy)")])
def test_a_stage_iv_whose_confirming_test_is_written_pending_after_it_is_a_suspicion(text, written):
    # was: stage IV asserted (only "pending biopsy" / "to be confirmed" ending the clause were read)
    problem = condition(cc(coding(ICD10, "C50.912"), text=f"Breast cancer, {text}"), "2020-01-01")
    assert disease(problem).metastatic != "yes"
    assert f'stage IV written "{written}"' in _gaps(problem)["metastasis-unconfirmed"]


def test_a_stage_iv_with_a_suspected_site_after_a_comma_keeps_the_stage_asserted():
    d = disease(condition(cc(coding(ICD10, "C50.912"), text="Breast cancer, Stage IV, suspected liver metastases"),
                          "2020-01-01"))
    assert d.metastatic == "yes"


@pytest.mark.parametrize("text,words", [
    ("Metastatic colon cancer", "colon cancer"), ("Metastatic lung adenocarcinoma", "lung adenocarcinoma"),
    ("Metastatic melanoma", "melanoma"), ("Liver metastases from colorectal cancer", "colorectal cancer"),
    ("Metastatic renal cell carcinoma", "renal cell carcinoma")])
def test_a_text_only_metastasis_of_another_named_primary_is_not_breast_cancer_metastasis(text, words):
    # counted as breast-cancer metastasis (metastatic, de novo): the coded case (C18.9) was not
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(cc(text=text), "2020-01-05")], PID)
    assert s.disease.metastatic == "unknown"
    assert [g.message for g in s.ignored if g.code == "not-breast-metastasis"] == [
        f'Metastasis of another primary cancer ("{words}" in the text), not counted as breast cancer metastasis']


@pytest.mark.parametrize("text", ["Metastasis to lung", "Secondary malignant neoplasm of bone", "Lung metastases",
                                  "Metastatic carcinoma of unknown primary", "Metastatic adenocarcinoma"])
def test_a_metastasis_to_an_organ_or_of_no_named_primary_stays_breast_cancer_metastasis(text):
    assert disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2020-01-05")).metastatic == "yes"


@pytest.mark.parametrize("text,words", [("Liver metastasis, breast or colon primary", "colon primary"),
                                        ("Bone metastases; history of colon cancer", "colon cancer")])
def test_a_metastasis_naming_the_breast_too_or_another_cancer_in_the_past_is_unclear_and_the_gap_quotes_it(text, words):
    c = condition(cc(text=text), "2020-01-05")
    assert disease(breast_cancer("2020-01-01"), c).metastatic != "yes"
    assert f'the text also names another primary cancer, "{words}"' in _gaps(breast_cancer("2020-01-01"), c)[
        "metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Metastatic breast cancer; history of colon cancer",
                                  "Liver metastases, breast primary; prior melanoma resected",
                                  "Bone metastases from breast cancer. Remote history of ovarian cancer",
                                  "Metastatic breast cancer, history of colon cancer",
                                  "Liver metastases, breast primary, prior melanoma"])
def test_a_breast_cancer_metastasis_beside_another_cancer_written_in_the_past_is_counted(text):
    # was: metastatic status unknown, "the text also names another primary cancer" (the text
    # says the metastasis is the breast cancer's; the other cancer is history, in its own clause)
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(cc(text=text), "2020-01-05")], PID)
    assert s.disease.metastatic == "yes"
    assert "metastasis-unconfirmed" not in {g.code for g in s.gaps}


@pytest.mark.parametrize("sep", [".", ","])
def test_the_site_of_a_breast_cancer_metastasis_is_not_read_from_the_other_cancer_in_the_past(sep):
    # was: site "lung" (visceral), read after the "of" of "history of lung cancer"
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(
        cc(text=f"Bone metastases from breast cancer{sep} Remote history of lung cancer"), "2020-01-05")], PID)
    assert s.disease.metastatic == "yes"
    assert [x.site for x in s.disease.sites] == ["bone"] and not s.disease.visceral_involvement


def test_a_metastasis_dated_years_before_the_breast_cancer_diagnosis_is_a_conflict_not_de_novo_disease():
    # read as de novo metastatic breast cancer dated 2019, five years before the diagnosis
    met = condition(cc(coding(ICD10, "C78.7"), text="Secondary malignant neoplasm of liver"), "2019-05-01")
    s = build_patient_state([patient(), breast_cancer("2024-01-10"), met], PID)
    assert s.disease.metastatic == "unknown" and s.disease.de_novo_metastatic is None
    assert {g.code: g.message for g in s.gaps}["metastatic-status-conflict"] == (
        "Metastasis dated before the breast cancer diagnosis (2024-01-10): Secondary malignant neoplasm of liver, "
        "2019-05-01. It may be an earlier cancer's: not counted as metastatic breast cancer. "
        "Confirm which cancer it belongs to and when.")


def test_a_metastasis_before_a_breast_cancer_dated_only_by_its_recorded_date_is_no_conflict():
    # was: "Metastasis dated before the breast cancer diagnosis (2024-01-10)", metastatic status
    # unknown: the recordedDate (FHIR R4: "date record was first recorded", e.g. on moving to a
    # new EHR) says when the breast cancer was written down, not when it was diagnosed
    met = condition(cc(coding(ICD10, "C78.7"), text="Secondary malignant neoplasm of liver"), "2021-05-01")
    s = build_patient_state([patient(), breast_cancer(None, recordedDate="2024-01-10"), met], PID)
    assert s.disease.metastatic == "yes"
    assert "metastatic-status-conflict" not in {g.code for g in s.gaps}


def test_a_metastasis_dated_weeks_before_the_diagnosis_is_the_usual_work_up_and_de_novo():
    d = disease(breast_cancer("2024-01-10"), condition(cc(coding(ICD10, "C79.51")), "2023-12-20"))
    assert d.metastatic == "yes" and d.de_novo_metastatic is True


def test_a_metastasis_and_a_stage_iv_dated_before_the_diagnosis_are_named_in_one_conflict():
    met = condition(cc(coding(ICD10, "C79.51"), text="Bone metastasis"), "2019-01-01")
    stage = loinc_obs("21908-9", "2019-02-01", valueCodeableConcept=cc(text="Stage IV"))
    gaps = _gaps(breast_cancer("2024-01-10"), met, stage)
    assert gaps["metastatic-status-conflict"].startswith(
        "Metastasis and stage IV / M1 dated before the breast cancer diagnosis (2024-01-10): Bone metastasis, "
        "2019-01-01; Stage group IV (21908-9), 2019-02-01.")


@pytest.mark.parametrize("status", ["preliminary", "registered"])
def test_node_only_metastasis_beside_an_m0_not_final_is_still_named_as_a_conflict(status):
    # a final M0 named the conflict (adjuvant therapy may be read as metastatic lines); a
    # preliminary one was dropped silently and the warning went with it
    nodes = condition(INTRA_ABDOMINAL_NODES, "2016-03-05")
    m0 = observation(cc(coding("http://loinc.org", "21907-1")), "2016-03-04", status=status,
                     valueCodeableConcept=cc(coding(SNOMED, "1229901006", "cM0")))
    s = build_patient_state([patient(), breast_cancer("2016-03-01"), nodes, m0], PID)
    gap = next(g for g in s.gaps if g.code == "metastatic-status-conflict")
    assert gap.message.startswith("Lymph-node involvement is the only metastatic evidence, but an M0 category")
    assert f"M0 (21907-1), status {status}: not final" in [src.display for src in gap.sources]
    assert s.disease.metastatic == "yes"  # CR A.4: the nodes still count; the M0 is no stage yet


@pytest.mark.parametrize("text", ["Skin metastasis, melanoma excluded", "Liver metastases, no colon primary"])
def test_a_metastasis_whose_text_rules_the_other_primary_out_stays_breast_cancer_metastasis(text):
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2020-01-05"))
    assert d.metastatic == "yes"


@pytest.mark.parametrize("text,words", [
    ("Metastatic adenocarcinoma, breast vs lung primary", "breast vs lung"),
    ("Metastatic carcinoma, breast or lung primary", "breast or lung primary"),
    ("Metastatic carcinoma, lung versus breast primary", "lung versus breast"),
])
def test_a_breast_cancer_condition_naming_the_breast_as_one_of_two_possible_primaries_is_no_metastatic_breast_cancer(
        text, words):
    # FHIR condition-ver-status "differential": the primary is not settled (CR A.4: metastases
    # with breast primary). Was: counted as metastatic breast cancer, silently
    for problem in (condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"), condition(cc(text=text), "2021-01-01")):
        assert disease(problem).metastatic == "unknown"
        assert f'primary uncertain: "{words}" in the text' in _gaps(problem)["metastasis-unconfirmed"]


def test_a_metastatic_breast_cancer_beside_a_history_of_another_cancer_still_counts_beside_the_differential_rule():
    problem = condition(cc(coding(ICD10, "C50.912"), text="Metastatic breast cancer; history of colon cancer"), "2021-01-01")
    assert disease(problem).metastatic == "yes"
    assert "metastasis-unconfirmed" not in _gaps(problem)


@pytest.mark.parametrize("text,words", [
    ("Metastatic lung cancer", "metastatic lung cancer"), ("Metastatic cancer of the lung", "metastatic cancer of the lung"),
    ("Metastatic liver cancer", "metastatic liver cancer"), ("Metastatic bone cancer", "metastatic bone cancer"),
    ("Metastatic brain cancer", "metastatic brain cancer")])
def test_a_metastasis_named_only_as_an_organ_cancer_is_asked_not_read_as_another_primary_or_a_breast_metastasis(
        text, words):
    # "metastatic lung cancer" was another primary and "metastatic liver cancer" a breast liver
    # metastasis; clinicians write both ways, ICD-10-CM codes (C34 primary, C78/C79 secondary)
    # settle it but the words do not
    resources = (breast_cancer("2020-01-01"), condition(cc(text=text), "2020-01-05"))
    assert disease(*resources).metastatic == "unknown"
    assert (f'"{words}" in the text: a primary cancer of that organ or a metastasis to it, not stated'
            in _gaps(*resources)["metastasis-unconfirmed"])


@pytest.mark.parametrize("code,metastatic,site", [("C78.00", "yes", "lung"), ("C78.7", "yes", "liver"),
                                                  ("C34.90", "unknown", None)])
def test_an_organ_cancer_metastasis_coded_secondary_is_a_breast_metastasis_and_coded_lung_primary_is_another_cancer(
        code, metastatic, site):
    organ = "lung" if code != "C78.7" else "liver"
    resources = (breast_cancer("2020-01-01"),
                 condition(cc(coding(ICD10, code), text=f"Metastatic {organ} cancer"), "2020-01-05"))
    d = disease(*resources)
    assert d.metastatic == metastatic and [s.site for s in d.sites] == ([site] if site else [])
    assert "metastasis-unconfirmed" not in _gaps(*resources)


def test_an_organ_cancer_metastasis_naming_the_breast_primary_is_a_breast_metastasis():
    assert disease(breast_cancer("2020-01-01"),
                   condition(cc(text="Metastatic lung cancer from breast primary"), "2020-01-05")).metastatic == "yes"


@pytest.mark.parametrize("text,words", [("Metastatic breast cancer vs lymphoma", "breast cancer vs lymphoma"),
                                        ("Metastatic breast carcinoma versus melanoma", "breast carcinoma versus melanoma")])
def test_a_breast_cancer_with_its_tumour_word_weighed_against_another_cancer_is_no_metastatic_breast_cancer(text, words):
    # was: counted as metastatic breast cancer, silently: the differential pattern wanted "vs"
    # right after "breast" (FHIR condition-ver-status "differential"; CR A.4: breast primary)
    for problem in (condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"), condition(cc(text=text), "2021-01-01")):
        assert disease(problem).metastatic == "unknown"
        assert f'primary uncertain: "{words}" in the text' in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Stage IV, MX, bone metastases", "Stage IV breast cancer with bone metastases, MX"])
def test_a_stage_iv_beside_an_m_not_assessed_and_metastases_written_as_found_is_stage_iv(text):
    # was: unknown, gap 'site not stated (stage IV written "stage iv, mx" (AJCC stage IV is M1))'
    # though the same text names the metastases (AJCC 8th edition M1: distant metastasis
    # detected clinically or radiographically); the same words on a Condition were already metastatic
    stage_group = loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text))
    assert disease(breast_cancer("2020-01-01"), stage_group).metastatic == "yes"
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer("2020-01-01"), stage_group)


@pytest.mark.parametrize("text", ["Stage IV, MX, ? bone metastases", "Stage IV, MX, metastatic work-up pending",
                                  "Stage IV, MX; bone metastases not confirmed", "Stage IV, MX, metastasis suspected on CT"])
def test_a_stage_iv_beside_an_m_not_assessed_and_metastases_only_suspected_stays_a_suspicion(text):
    stage_group = loinc_obs("21908-9", "2020-01-05", valueCodeableConcept=cc(text=text))
    assert disease(breast_cancer("2020-01-01"), stage_group).metastatic == "unknown"
    assert "metastasis-unconfirmed" in _gaps(breast_cancer("2020-01-01"), stage_group)


@pytest.mark.parametrize("code,display,text,site", [
    ("C79.51", None, "Bone metastases from breast cancer", "bone"),
    ("C78.7", "Secondary malignant neoplasm of liver", "Metastatic breast cancer to liver", "liver"),
    ("C78.00", None, "Breast carcinoma metastatic to lung", "lung"),
])
def test_a_metastasis_coded_secondary_whose_text_names_its_breast_primary_keeps_its_site_and_date(
        code, display, text, site):
    # was: read as a breast primary by its text, metastatic without a site or a date (gap
    # "Metastatic disease is documented without a date."); the C77-C79 code says what it is
    d = disease(breast_cancer("2020-01-01"), condition(cc(coding(ICD10, code, display), text=text), "2021-03-04"))
    assert d.metastatic == "yes" and d.metastatic_date == dt.date(2021, 3, 4)
    assert [s.site for s in d.sites] == [site] and d.de_novo_metastatic is False
    assert "metastatic-date-unknown" not in _gaps(breast_cancer("2020-01-01"),
                                                  condition(cc(coding(ICD10, code, display), text=text), "2021-03-04"))


def test_a_metastasis_coded_secondary_naming_its_breast_primary_alone_still_names_the_breast_cancer():
    d = disease(condition(cc(coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone"),
                             text="Metastatic breast cancer to bone"), "2021-03-04"))
    assert d.breast_cancer == "yes" and d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"]
    assert d.primary_diagnosis_date is None and d.metastatic_date == dt.date(2021, 3, 4)


@pytest.mark.parametrize("text,words", [
    ("Metastatic breast cancer (ddx lung)", "ddx lung"),
    ("Metastatic breast carcinoma. DDx: lung primary", "ddx: lung"),
    ("Metastatic breast cancer, differential diagnosis includes lymphoma", "differential diagnosis includes lymphoma"),
    ("Metastatic breast cancer; d/dx melanoma", "d/dx melanoma"),
])
def test_a_breast_cancer_condition_with_another_cancer_in_its_differential_is_no_metastatic_breast_cancer(text, words):
    # was: counted as metastatic breast cancer, silently (FHIR condition-ver-status "differential";
    # "DDx" / "d/dx" abbreviate "differential diagnosis"; CR A.4: metastases with breast primary)
    for problem in (condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"), condition(cc(text=text), "2021-01-01")):
        assert disease(problem).metastatic == "unknown"
        assert f'primary uncertain: "{words}" in the text' in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,site", [("Lung nodules, ddx metastasis", "lung"),
                                       ("Liver lesion, DDx: metastasis vs hemangioma", "liver"),
                                       ("Liver lesion, differential diagnosis includes metastasis", "liver")])
def test_a_metastasis_named_only_in_a_differential_diagnosis_is_unconfirmed(text, site):
    # was: a liver / lung metastasis, metastatic disease dated by it (condition-ver-status
    # "differential": one of a set of possible diagnoses, none made)
    resources = (breast_cancer("2020-01-01"), condition(cc(text=text), "2020-06-01"))
    assert disease(*resources).metastatic == "unknown"
    assert f"{site} (suspected in the text)" in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,site,words", [("Liver metastases (ddx lung primary)", "liver", "lung primary"),
                                             ("Bone metastasis, differential: myeloma", "bone", "myeloma")])
def test_a_metastasis_with_another_primary_only_in_its_differential_is_asked_not_dropped_as_that_cancers(
        text, site, words):
    # was: dropped silently as the other cancer's spread (not-breast-metastasis); the other
    # primary is a differential diagnosis, not one made: which cancer spread is unclear
    resources = (breast_cancer("2020-01-01"), condition(cc(text=text), "2020-06-01"))
    assert disease(*resources).metastatic == "unknown"
    assert f'{site} (the text also names another primary cancer, "{words}")' in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Metastasis to lung", "Lung metastases", "Secondary malignant neoplasm of lung"])
def test_a_lung_metastasis_coded_as_a_primary_lung_cancer_is_asked_not_dropped(text):
    # was: dropped silently (C34 names a primary lung cancer, the text a metastasis to the lung;
    # ICD-10-CM C34 vs C78.0x): the code and the text conflict, the clinician is asked
    resources = (breast_cancer("2020-01-01"), condition(cc(coding(ICD10, "C34.90"), text=text), "2020-06-01"))
    assert disease(*resources).metastatic == "unknown"
    assert ("lung (coded C34.90, a primary cancer other than breast cancer, but the text names a metastasis)"
            in _gaps(*resources)["metastasis-unconfirmed"])


@pytest.mark.parametrize("text", ["Lung cancer metastatic to bone", "NSCLC with brain mets", "Metastatic disease"])
def test_a_primary_lung_cancer_naming_its_own_spread_is_that_cancers_and_asks_nothing(text):
    resources = (breast_cancer("2020-01-01"), condition(cc(coding(ICD10, "C34.90"), text=text), "2020-06-01"))
    assert disease(*resources).metastatic == "unknown"
    assert "metastasis-unconfirmed" not in _gaps(*resources)


@pytest.mark.parametrize("code,display", [("C78.00", None), ("C78.01", "Secondary malignant neoplasm of right lung")])
def test_lung_cancer_written_on_a_lung_metastasis_code_is_asked_not_read_as_another_primary(code, display):
    # the code says a metastasis to the lung, the text a lung cancer: asked (ICD-10-CM C78.0x vs C34)
    resources = (breast_cancer("2020-01-01"), condition(cc(coding(ICD10, code, display), text="Lung cancer"), "2020-06-01"))
    assert disease(*resources).metastatic == "unknown"
    assert 'lung (the text also names another primary cancer, "lung cancer")' in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,site", [("Secondary carcinoma of lung", "lung"), ("Secondary adenocarcinoma in liver", "liver"),
                                       ("Secondary deposits in liver", "liver"), ("Secondary neoplasm of bone", "bone")])
def test_a_metastasis_written_secondary_carcinoma_or_deposits_of_a_site_is_a_metastasis(text, site):
    # was: not read at all (metastatic status unknown): ICD-10-CM C77-C79 write a metastasis
    # "secondary malignant neoplasm of <site>", clinicians "secondary carcinoma of lung"
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2020-06-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]


@pytest.mark.parametrize("text", ["Secondary AML", "Secondary malignancy (therapy-related MDS)", "No secondary deposits"])
def test_a_treatment_related_secondary_malignancy_or_no_secondary_deposits_is_no_metastasis(text):
    assert disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2020-06-01")).metastatic == "unknown"


def test_suspected_secondary_deposits_are_unconfirmed():
    resources = (breast_cancer("2020-01-01"), condition(cc(text="Suspected secondary deposits in liver"), "2020-06-01"))
    assert "liver (suspected in the text)" in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["M not assessed", "cM0(i+)", "pMX", "Stage IIA", "Stage IV (M not assessed)"])
def test_a_stage_group_coded_iv_stays_stage_iv_and_a_text_saying_otherwise_is_named(text):
    # was: stage IV, the contradicting text dropped silently (AJCC 8th edition: stage IV is any
    # T any N M1; the code is the coded answer, CodeableConcept.text a second statement)
    stage = loinc_obs("21908-9", "2020-01-10", valueCodeableConcept=cc(coding(AJCC, "4"), text=text))
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), stage], PID)
    assert s.disease.metastatic == "yes" and s.disease.de_novo_metastatic is True
    assert {g.code: g.message for g in s.gaps}["staging-conflict"] == (
        f'Stage group IV (21908-9), 2020-01-10, coded stage IV but its text reads "{text}". '
        "Read as the code (AJCC stage IV is M1): confirm the stage.")


def test_an_m_category_coded_m1_with_an_m0_text_and_a_condition_stage_coded_iv_with_an_earlier_text_are_named():
    m1 = loinc_obs("21907-1", "2020-01-10", valueCodeableConcept=cc(coding(SNOMED, "1229903009", "cM1"), text="cM0(i+)"))
    assert 'M1 (21907-1), 2020-01-10, coded M1 but its text reads "cM0(i+)"' in _gaps(breast_cancer("2020-01-01"), m1)[
        "staging-conflict"]
    primary = breast_cancer("2020-01-01", stage=[{"summary": cc(coding(AJCC, "4"), text="Stage IIB")}])
    assert disease(primary).metastatic == "yes"
    assert 'Stage IV (Condition.stage), coded stage IV but its text reads "Stage IIB"' in _gaps(primary)["staging-conflict"]


@pytest.mark.parametrize("text", [None, "Stage IV", "IV", "Stage IV (M1b)", "pT2N1M1"])
def test_a_stage_group_coded_iv_with_no_text_or_a_stage_iv_text_has_no_staging_conflict(text):
    stage = loinc_obs("21908-9", "2020-01-10", valueCodeableConcept=cc(coding(AJCC, "4"), text=text))
    assert "staging-conflict" not in _gaps(breast_cancer("2020-01-01"), stage)


@pytest.mark.parametrize("text", ["Metastatic breast cancer, ddx lymphoma excluded", "Metastatic breast cancer, ddx lymphoma ruled out"])
def test_a_breast_cancer_whose_differential_is_ruled_out_stays_metastatic_breast_cancer(text):
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "yes" and "metastasis-unconfirmed" not in _gaps(problem)


@pytest.mark.parametrize("text", ["Bone metastases, history of lung cancer in mother", "Bone metastases; mother: colon cancer",
                                  "Bone metastasis, no metastatic lung cancer"])
def test_a_bone_metastasis_beside_a_relatives_or_a_refuted_other_cancer_is_the_breast_cancers(text):
    # was: gap metastasis-unconfirmed 'the text also names another primary cancer' / 'coded a
    # metastasis to the bone, but the text names "metastatic lung cancer"' (FHIR R4
    # FamilyMemberHistory; condition-ver-status 'refuted')
    metastasis = condition(cc(coding(ICD10, "C79.51"), text=text), "2021-01-01")
    d = disease(breast_cancer("2020-01-01"), metastasis)
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"]
    assert "metastasis-unconfirmed" not in _gaps(breast_cancer("2020-01-01"), metastasis)


@pytest.mark.parametrize("text", ["Liver metastases, breast cancer ruled out", "Liver metastases, no breast cancer",
                                  "Liver metastases, breast cancer excluded, primary unknown"])
def test_a_metastasis_whose_text_rules_out_breast_cancer_names_no_breast_primary(text):
    # was: breast cancer 'yes' from the metastasis's text (fix-dz: a secondary code whose text
    # names its breast primary names the primary); the words refute it (condition-ver-status 'refuted')
    d = disease(condition(cc(coding(ICD10, "C78.7"), text=text), "2021-01-01"))
    assert d.breast_cancer != "yes" and [s.site for s in d.sites] == ["liver"]
    assert "breast-cancer-not-documented" in _gaps(condition(cc(coding(ICD10, "C78.7"), text=text), "2021-01-01"))


@pytest.mark.parametrize("text", ["CBC with differential normal, bone metastases", "DDx: none, bone metastases"])
def test_a_differential_word_in_another_comma_piece_or_answered_none_leaves_the_metastasis_asserted(text):
    # was: 'suspected in the text', not counted (the differential words read across the comma)
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"]


@pytest.mark.parametrize("text", ["Liver metastasis (DDx excluded)", "Liver metastasis (ddx hemangioma excluded)",
                                  "Liver metastasis (differential diagnoses excluded)"])
def test_a_metastasis_whose_differential_diagnoses_are_excluded_stays_a_metastasis(text):
    # was: the metastasis read as ruled out (no metastatic site): the ruled-out words are the
    # differential's (condition-ver-status 'differential' ruled out leaves the diagnosis made)
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["liver"]


@pytest.mark.parametrize("text,site", [("Liver metastasis (abscess excluded)", "liver"),
                                       ("Liver metastasis (hemangioma ruled out)", "liver"),
                                       ("Bone metastases (fracture ruled out)", "bone"),
                                       ("Liver metastasis with abscess excluded", "liver")])
def test_a_metastasis_beside_another_finding_ruled_out_stays_a_metastasis(text, site):
    # was: the metastasis read as ruled out (metastatic status unknown, the patient off the
    # pathway): the ruled-out words are the other finding's (condition-ver-status 'refuted'
    # is said of the condition named)
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]


@pytest.mark.parametrize("text", ["Liver metastasis (ruled out)", "Liver metastasis (excluded on MRI)",
                                  "Liver metastasis (has been ruled out)", "Liver metastasis on CT ruled out"])
def test_a_metastasis_ruled_out_in_a_parenthesis_or_on_imaging_stays_ruled_out(text):
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "unknown" and d.sites == []


@pytest.mark.parametrize("text", ["Liver metastasis (definitely excluded)", "Liver metastasis (completely ruled out)",
                                  "Liver metastasis (MDT: ruled out)", "Liver metastasis (follow-up: excluded)",
                                  "Liver metastasis (in 2021 excluded)", "Liver metastasis with certainty excluded"])
def test_a_metastasis_ruled_out_with_how_sure_or_who_ruled_it_out_stays_ruled_out(text):
    # was: metastatic "yes", liver counted: the adverb or the MDT was read as another finding
    # ruled out beside the metastasis (0f78f43), putting a ruled-out metastasis on the MBC pathway
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "unknown" and d.sites == []


def _not_metastatic_beside_or_on_the_breast_cancer(text: str) -> None:
    """`text` on a Condition beside a breast cancer, and as the breast cancer's own text: not metastatic."""
    for resources in ((breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01")),
                      (condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01"),)):
        assert disease(*resources).metastatic == "unknown"


@pytest.mark.parametrize("text", ["Family history of metastatic breast cancer", "FHx: metastatic colon cancer",
                                  "Mother: metastatic breast cancer", "Sister with metastatic disease",
                                  # the relative written after the mention
                                  "Breast cancer; history of MBC in mother", "MBC in sister",
                                  "Metastatic breast cancer in her mother", "Bone metastases in the mother's sister"])
def test_a_relatives_metastatic_cancer_is_not_the_patients_metastasis(text):
    # was: metastatic disease of the patient (the relative words were read only before the
    # mention); FHIR R4 FamilyMemberHistory is a relative's condition
    _not_metastatic_beside_or_on_the_breast_cancer(text)


def test_a_breast_cancer_written_in_a_relative_is_no_breast_primary_but_one_beside_a_relatives_note_is():
    assert disease(condition(cc(text="Breast cancer in mother"), "2021-01-01")).breast_cancer != "yes"
    assert disease(condition(cc(text="Carcinoma of left breast in her sister"), "2021-01-01")).breast_cancer != "yes"
    d = disease(condition(cc(text="Metastatic breast cancer (mother also had breast cancer)"), "2021-01-01"))
    assert d.breast_cancer == "yes" and d.metastatic == "yes"


def test_a_relatives_breast_cancer_is_no_breast_primary_and_leaves_the_patients_metastasis_a_metastasis():
    assert disease(condition(cc(text="Mother had breast cancer"), "2021-01-01")).breast_cancer != "yes"
    d = disease(breast_cancer("2020-01-01"), condition(cc(text="Bone metastases; mother had breast cancer"), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"] and d.metastatic_date == dt.date(2021, 1, 1)
    assert disease(condition(cc(text="Breast cancer (mother also had breast cancer)"), "2021-01-01")).breast_cancer == "yes"


@pytest.mark.parametrize("text,words", [("Breast cancer with axillary nodal metastases", "nodal metastases"),
                                        ("Breast cancer, N1 (2/15 nodes with metastases)", "nodes with metastases")])
def test_lymph_node_metastases_written_on_the_breast_cancer_are_asked_not_counted_as_metastatic_disease(text, words):
    # was: metastatic breast cancer (no site, no date). Regional nodes are the AJCC N category,
    # distant metastasis M1 (CR A.4 counts M1 / stage IV / a secondary-cancer Condition)
    _asked_on_the_breast_cancer(text, f'lymph-node ("{words}" in the text: lymph-node metastases only, regional '
                                      "(N, early breast cancer) or distant (M1) not stated)")


def _asked_on_the_breast_cancer(text: str, question: str) -> None:
    """A breast cancer problem with `text` is not read as metastatic, and metastasis-unconfirmed asks `question`."""
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "unknown"
    assert question in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Metastatic breast cancer to supraclavicular nodes",
                                  "Metastatic breast cancer to axillary and supraclavicular nodes",
                                  "Metastatic breast cancer, 2 positive lymph nodes"])
def test_metastatic_breast_cancer_written_to_regional_nodes_only_is_asked_quoting_the_whole_node_phrase(text):
    # was: metastatic disease (the node word more than 40 characters after "Metastatic"), and
    # "2 positive lymph" quoted without its "nodes". AJCC 8th edition: ipsilateral supraclavicular
    # nodes are N3c, regional; only contralateral / distant nodes are M1
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "unknown"
    assert (f'lymph-node ("{text.lower()}" in the text: lymph-node metastases only, regional (N, early breast cancer) '
            "or distant (M1) not stated)") in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Breast cancer, axillary nodal metastases, no distant metastases",
                                  "Breast cancer with axillary nodal metastases; distant metastases ruled out",
                                  # an M0 or an early stage written beside them (AJCC 8th edition: stage 0-III is M0)
                                  "Breast cancer T2N1M0 with axillary nodal metastases",
                                  "Breast cancer pT2 N1 (2/15 nodes with metastases), cM0",
                                  "Breast cancer stage IIB, axillary nodal metastases"])
def test_nodal_metastases_beside_refuted_distant_metastases_or_an_m0_are_regional_and_ask_nothing(text):
    # was: asked "regional (N, early breast cancer) or distant (M1) not stated" beside the words
    # that state it (AJCC 8th edition: M1 is distant metastasis, regional nodes the N category)
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "unknown"
    assert "metastasis-unconfirmed" not in _gaps(problem)


@pytest.mark.parametrize("text", ["Metastatic breast cancer - lymph node and liver", "Breast cancer stage IV, nodal metastases",
                                  "Breast cancer with bone metastases, axillary nodes positive",
                                  # written distant (M1), or contralateral (AJCC 8th edition: M1)
                                  "Breast cancer with distant nodal metastases",
                                  "Breast cancer with contralateral axillary nodal metastases",
                                  "Metastatic breast cancer to contralateral supraclavicular nodes"])
def test_a_breast_cancer_with_metastases_beyond_the_nodes_or_a_stage_iv_stays_metastatic(text):
    assert disease(condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")).metastatic == "yes"


@pytest.mark.parametrize("text", ["Breast cancer with mediastinal lymph node metastases",
                                  "Breast cancer with cervical lymph node metastases",
                                  "Breast cancer, metastatic to mediastinal nodes",
                                  "Breast cancer with para-aortic nodal metastases",
                                  "Breast cancer, metastatic to axillary, mediastinal lymph nodes",
                                  "Breast cancer, metastatic to axillary and cervical nodes"])
def test_a_breast_cancer_with_metastases_to_nodes_of_another_region_is_metastatic_not_asked(text):
    # was: asked "regional (N, early breast cancer) or distant (M1) not stated" and no metastatic
    # pathway; AJCC 8th edition codes every node outside the ipsilateral axillary, internal
    # mammary and supraclavicular ones as distant (M1), "including cervical" ones
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "yes"
    assert "metastasis-unconfirmed" not in _gaps(problem)


@pytest.mark.parametrize("text,nodes", [
    ("Breast cancer with mediastinal lymph node metastases, no distant metastases", "mediastinal lymph node"),
    ("Breast cancer T2N3M0 with cervical lymph node metastases", "cervical lymph node")])
def test_distant_nodes_written_beside_no_distant_metastases_or_an_m0_are_asked_not_counted(text, nodes):
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "unknown"
    assert (f'lymph-node ("{nodes}" in the text (distant nodes, M1 in AJCC 8th edition) beside no distant '
            "metastases, an M0 or an early stage: not stated which is right)") in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Breast cancer with axillary nodal metastases; mediastinal nodes negative",
                                  "Breast cancer with axillary nodal metastases; contralateral nodes negative"])
def test_distant_nodes_written_negative_beside_axillary_nodal_metastases_leave_the_regional_question_asked(text):
    # was (contralateral): metastatic, the negative nodes read as distant metastases
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "unknown"
    assert "regional (N, early breast cancer) or distant (M1) not stated" in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Breast cancer with axillary nodal metastases; cervical lymph node biopsy benign",
                                  "Breast cancer with axillary nodal metastases, cervical lymph nodes reactive",
                                  "Breast cancer with axillary nodal metastases; hilar nodes from sarcoidosis",
                                  "Breast cancer with axillary nodal metastases; mediastinal lymph nodes enlarged",
                                  "Breast cancer metastatic to axillary nodes, cervical lymph node biopsy benign"])
def test_nodes_of_another_region_not_written_metastatic_leave_axillary_nodal_metastases_asked_not_stage_iv(text):
    # was (fix-dz2): metastatic and first-line MBC regimens, a benign / reactive / sarcoid node of
    # another region read as a distant nodal metastasis; AJCC 8th edition codes M1 nodal
    # metastases of another region, not every node the text names there
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "unknown"
    assert "regional (N, early breast cancer) or distant (M1) not stated" in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["MBC", "HR+ MBC", "Breast cancer with distant recurrence", "Breast cancer, distant relapse to liver"])
def test_a_breast_cancer_written_mbc_or_with_a_distant_recurrence_is_metastatic(text):
    # was: metastatic status unknown ("MBC": metastatic breast cancer; AJCC M1 is distant metastasis)
    assert disease(condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")).metastatic == "yes"


@pytest.mark.parametrize("text", ["Breast cancer, 9-year risk of distant recurrence 4%",
                                  "Breast cancer, Oncotype DX distant recurrence risk 6%",
                                  "Breast cancer, distant recurrence-free", "Breast cancer, at risk of MBC",
                                  "Breast cancer, metastasis-free", "Breast cancer, high risk of metastatic disease"])
def test_a_risk_of_distant_recurrence_or_a_recurrence_free_course_is_not_metastatic_disease(text):
    # was: metastatic (an Oncotype DX "risk of distant recurrence" put an early breast cancer on
    # the MBC pathway); a risk is no diagnosis (vocabulary risk_words), "-free" is none so far
    _not_metastatic_beside_or_on_the_breast_cancer(text)


@pytest.mark.parametrize("text", ["High risk of fracture from bone mets", "Bone metastases, at risk of fracture"])
def test_a_fracture_risk_beside_bone_metastases_leaves_them_bone_metastases(text):
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == ["bone"]


@pytest.mark.parametrize("text,metastatic", [("Breast cancer, no distant recurrence", "unknown"),
                                             ("Breast cancer, local recurrence", "unknown"),
                                             ("Breast cancer; suspected distant relapse", "unknown")])
def test_a_distant_recurrence_refuted_or_suspected_or_a_local_one_is_not_metastatic(text, metastatic):
    assert disease(condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")).metastatic == metastatic


@pytest.mark.parametrize("text,words", [("Advanced breast cancer", "advanced breast cancer"),
                                        ("Breast cancer, advanced", "breast cancer, advanced")])
def test_an_advanced_breast_cancer_is_asked_whether_locally_advanced_or_metastatic(text, words):
    # was: the generic "metastatic status unknown" only; ESO-ESMO ABC (CR C.1) names both
    # inoperable locally advanced and metastatic disease "advanced"
    _asked_on_the_breast_cancer(text, f'site not stated ("{words}" in the text: locally advanced or metastatic '
                                      "not stated)")


@pytest.mark.parametrize("text,metastatic", [("Locally advanced breast cancer", "unknown"),
                                             ("Breast cancer, advanced stage IIIC", "unknown"),
                                             ("Advanced breast cancer, no metastases", "unknown"),
                                             ("Advanced breast cancer, bone metastases", "yes"),
                                             ("Advanced breast cancer, stage IV", "yes")])
def test_a_locally_advanced_or_staged_advanced_breast_cancer_asks_nothing(text, metastatic):
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == metastatic and "metastasis-unconfirmed" not in _gaps(problem)


@pytest.mark.parametrize("text", ["Breast cancer, advanced age at diagnosis", "Breast cancer, advanced care planning",
                                  "Breast cancer, no advanced disease", "Breast cancer without advanced disease",
                                  "Breast cancer; history of advanced breast cancer in mother"])
def test_advanced_age_care_planning_a_negated_or_a_relatives_advanced_cancer_asks_nothing(text):
    # was: gap metastasis-unconfirmed '"breast cancer, advanced" in the text: locally advanced
    # or metastatic not stated' for an early breast cancer
    problem = condition(cc(coding(ICD10, "C50.912"), text=text), "2021-01-01")
    assert disease(problem).metastatic == "unknown" and "metastasis-unconfirmed" not in _gaps(problem)


@pytest.mark.parametrize("status", ["Differential", "Provisional", "UNCONFIRMED"])
def test_a_metastasis_recorded_differential_in_another_case_is_unconfirmed_not_counted(status):
    # was: counted as a confirmed liver metastasis (the miscased code did not match; build.py
    # already reads a miscased "Refuted" as refuted)
    met = condition(cc(coding(ICD10, "C78.7")), "2021-01-01", verificationStatus=cc(
        coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", status)))
    assert disease(breast_cancer("2020-01-01"), met).metastatic == "unknown"
    assert f"liver ({status})" in _gaps(breast_cancer("2020-01-01"), met)["metastasis-unconfirmed"]


@pytest.mark.parametrize("status", ["differential", "provisional"])
def test_metastatic_breast_cancer_written_on_a_breast_cancer_recorded_differential_is_unconfirmed(status):
    # was: metastatic disease (FHIR R4 condition-ver-status: a differential / provisional
    # diagnosis is not made, its metastases no more than a metastasis Condition recorded so)
    problem = condition(cc(coding(ICD10, "C50.912"), text="Metastatic breast cancer"), "2021-01-01",
                        verificationStatus=cc(coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", status)))
    assert disease(problem).metastatic == "unknown"
    assert f"site not stated (written on a breast cancer recorded {status})" in _gaps(problem)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text,sites", [
    ("Liver and bone metastases", ["liver", "bone"]),
    ("Metastases to bone, liver and lung", ["liver", "lung", "bone"]),
    ("Bone metastases, possible liver mets", ["bone"]),
    ("Bone metastases, liver lesion indeterminate", ["bone"]),
    ("Bone metastases; liver metastasis ruled out", ["bone"]),
])
def test_a_metastasis_text_naming_several_sites_gives_each_asserted_site_and_no_hedged_one(text, sites):
    # was: one site, the first of a fixed order (liver): "Liver and bone metastases" lost the
    # bone, "Bone metastases, possible liver mets" was a liver metastasis
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == sites


def test_bone_and_lymph_node_metastases_beside_an_m0_are_no_node_only_conflict():
    # was: read as lymph nodes alone, so the M0 raised "Lymph-node involvement is the only
    # metastatic evidence" although bone metastases are written
    m0 = loinc_obs("21907-1", "2020-01-05", valueCodeableConcept=cc(coding(SNOMED, "1229901006", "cM0")))
    resources = (breast_cancer("2020-01-01"), m0, condition(cc(text="Bone and lymph node metastases"), "2021-01-01"))
    assert [s.site for s in disease(*resources).sites] == ["bone", "lymph-node"]
    assert "metastatic-status-conflict" not in _gaps(*resources)


@pytest.mark.parametrize("text,site", [("Leptomeningeal disease", "brain"), ("Leptomeningeal carcinomatosis", "brain"),
                                       ("Peritoneal carcinomatosis", "peritoneum")])
def test_leptomeningeal_disease_and_peritoneal_carcinomatosis_are_metastases(text, site):
    # was: not read (metastatic status unknown); ICD-10-CM C79.32 (cerebral meninges), C78.6
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [s.site for s in d.sites] == [site]


def test_no_leptomeningeal_disease_is_none():
    assert disease(breast_cancer("2020-01-01"), condition(cc(text="No leptomeningeal disease"), "2021-01-01")).sites == []


@pytest.mark.parametrize("text,site", [("Lymphangitic carcinomatosis", "lung"), ("Lymphangitis carcinomatosa", "lung"),
                                       ("Lymphangitic metastases", "lung"), ("Malignant pleural effusion", "pleura"),
                                       ("Malignant ascites", "peritoneum")])
def test_lymphangitic_carcinomatosis_a_malignant_pleural_effusion_and_malignant_ascites_are_visceral_metastases(text, site):
    # was: not read (metastatic status unknown), and "lymphangitic metastases" read as lymph
    # nodes (not visceral); ICD-10-CM C78.0- lung, J91.0 / R18.0 with C78.2 / C78.6; CR A.4
    # visceral sites: liver, lung, pleura, peritoneum, brain, adrenal
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [(s.site, s.visceral) for s in d.sites] == [(site, True)]
    assert d.visceral_involvement


@pytest.mark.parametrize("text", ["Cutaneous lymphangitic carcinomatosis", "Lymphangitic carcinomatosis of the skin",
                                  "Lymphangitic carcinomatosis of the chest wall"])
def test_a_cutaneous_lymphangitic_carcinomatosis_is_a_metastasis_but_not_the_lungs(text):
    # was: a lung metastasis (visceral): the skin's lymphatics are not the lung's (carcinoma
    # erysipeloides, ICD-10-CM C79.2 secondary malignant neoplasm of skin; CR A.4 visceral sites)
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and "lung" not in [s.site for s in d.sites] and not d.visceral_involvement


@pytest.mark.parametrize("text", ["Non-malignant pleural effusion", "Paramalignant pleural effusion", "Ascites",
                                  "Malignant pleural effusion ruled out", "No malignant ascites"])
def test_an_effusion_not_written_malignant_or_a_malignant_one_ruled_out_is_no_metastasis(text):
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "unknown" and d.sites == []


@pytest.mark.parametrize("text,site,visceral", [("Pleural effusion, malignant", "pleura", True),
                                                ("Pleural effusion (malignant)", "pleura", True),
                                                # (ds4) named as written, not "other"; still not visceral
                                                ("Malignant pericardial effusion", "pericardium", False),
                                                ("Pericardial effusion, malignant", "pericardium", False),
                                                ("Carcinomatous meningitis", "brain", True)])
def test_a_malignant_effusion_written_finding_first_a_pericardial_one_and_carcinomatous_meningitis_are_metastases(
        text, site, visceral):
    # was: not read (metastatic status unknown: no metastatic breast cancer pathway). A malignant
    # pericardial effusion is ICD-10-CM I31.31 with the neoplasm coded first (C79.89: site
    # "other", the pericardium is not in CR A.4's visceral list); carcinomatous meningitis is
    # C79.32 (CR A.4 brain row)
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "yes" and [(s.site, s.visceral) for s in d.sites] == [(site, visceral)]


@pytest.mark.parametrize("text", ["Pleural effusion, malignant cells absent", "Pleural effusion, non-malignant",
                                  "No malignant pericardial effusion", "Pericardial effusion"])
def test_an_effusion_whose_cytology_found_no_malignant_cells_or_not_written_malignant_is_no_metastasis(text):
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "unknown" and d.sites == []


@pytest.mark.parametrize("text", ["Pleural effusion, malignant-appearing", "Pleural effusion, malignant appearing on CT",
                                  "Pericardial effusion (malignant features on CT)", "Malignant-appearing pleural effusion"])
def test_an_effusion_written_malignant_appearing_is_no_metastasis_finding_first_as_finding_last(text):
    # was (fix-dz2, finding first): metastatic and first-line MBC regimens from how an effusion
    # looks on imaging; "Malignant-appearing pleural effusion" was and is no metastasis (CR A.4
    # counts a diagnosed malignant effusion, ICD-10-CM J91.0 codes the malignancy first)
    d = disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert d.metastatic == "unknown" and d.sites == []


@pytest.mark.parametrize("text,site,words", [
    ("Malignant pleural effusion, cytology negative", "pleura", "cytology negative"),
    ("Malignant pleural effusion (cytology negative for malignancy)", "pleura", "cytology negative"),
    ("Malignant pleural effusion, negative cytology", "pleura", "negative cytology"),
    ("Bone metastases, negative biopsy", "bone", "negative biopsy")])
def test_a_metastasis_written_beside_a_negative_cytology_or_biopsy_is_asked_quoting_the_words(text, site, words):
    # was: a pleural metastasis (visceral) although the cytology that makes the diagnosis was
    # negative; "negative biopsy" read as ruling the metastasis out, its words not shown. A test
    # that did not confirm it leaves it unconfirmed (condition-ver-status), not refuted: asked
    resources = (breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert disease(*resources).metastatic == "unknown"
    assert f'{site} ("{words}" in the text)' in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Bone metastases, biopsy negative for ER", "Malignant pleural effusion, cytology positive"])
def test_a_metastasis_beside_a_biopsy_negative_for_a_marker_or_a_positive_cytology_stays_metastatic(text):
    assert disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01")).metastatic == "yes"


@pytest.mark.parametrize("text", ["Malignant pleural effusion, cytology negative x1, positive x2",
                                  "Malignant pleural effusion, cytology negative initially, positive on repeat",
                                  "Malignant pleural effusion, negative cytology x1, positive cytology on repeat",
                                  "Liver metastasis, biopsy: negative margins",
                                  "Liver metastasis resected, biopsy negative margins"])
def test_a_metastasis_whose_negative_test_was_followed_by_a_positive_one_or_names_margins_stays_metastatic(text):
    # was (fix-dz2): metastatic status unknown and no MBC regimens, a first negative cytology read
    # as the test that did not confirm it though a later one did, and negative resection
    # margins read as a negative biopsy (condition-ver-status: a diagnosis made is confirmed)
    resources = (breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert disease(*resources).metastatic == "yes"
    assert "metastasis-unconfirmed" not in _gaps(*resources)


@pytest.mark.parametrize("text,site", [("Liver metastasis vs hemangioma", "liver"),
                                       ("Malignant pleural effusion vs parapneumonic", "pleura"),
                                       ("Pleural effusion - malignant vs reactive", "pleura"),
                                       ("Bone metastases vs. degenerative change", "bone")])
def test_a_metastasis_written_as_one_of_two_diagnoses_is_a_suspicion_not_metastatic_disease(text, site):
    # was: metastatic (the MBC pathway) on a differential diagnosis (condition-ver-status
    # "differential", as "ddx metastasis")
    resources = (breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert disease(*resources).metastatic == "unknown"
    assert f"{site} (suspected in the text)" in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["Liver metastases, stable vs prior", "Liver metastases: smaller vs baseline"])
def test_a_metastasis_compared_with_an_earlier_scan_stays_metastatic(text):
    assert disease(breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01")).metastatic == "yes"


@pytest.mark.parametrize("text", ["Liver metastases vs CT 2024-01", "Bone metastases vs MRI of March",
                                  "Liver metastases vs January", "Bone metastases versus PET-CT",
                                  "Liver metastases vs outside imaging", "Brain metastases vs last month's MRI"])
def test_a_metastasis_compared_with_an_earlier_scan_named_by_its_kind_or_month_stays_metastatic(text):
    # was (fix-dz2): metastatic status unknown and no MBC regimens, the scan or month compared
    # with read as a second diagnosis (condition-ver-status "differential" needs one)
    resources = (breast_cancer("2020-01-01"), condition(cc(text=text), "2021-01-01"))
    assert disease(*resources).metastatic == "yes"
    assert "metastasis-unconfirmed" not in _gaps(*resources)


@pytest.mark.parametrize("stage", ["ypStage IV", "rpStage IV", "pStage IV"])
def test_a_stage_iv_written_with_its_ajcc_prefix_is_metastatic(stage):
    # was: "ypStage IV" not read as a stage (no word boundary before "stage"): metastatic
    # status unknown; AJCC 8th edition prefixes c / p / yc / yp / r
    stage_obs = loinc_obs("21908-9", "2020-01-20", valueCodeableConcept=cc(text=stage))
    assert disease(breast_cancer("2015-03-01"), stage_obs).metastatic == "yes"
    assert disease(condition(cc(text=f"Breast cancer, {stage}"), "2020-01-20")).metastatic == "yes"


@pytest.mark.parametrize("code,site,text", [("C79.51", "bone", "Metastatic lung cancer to bone"),
                                            ("C78.7", "liver", "Metastatic lung cancer"),
                                            ("C79.51", "bone", "Metastatic liver cancer")])
def test_a_metastasis_coded_at_one_site_whose_text_names_another_organs_metastatic_cancer_is_asked(code, site, text):
    # was: a breast-cancer bone / liver metastasis, silently; the code puts the metastasis at
    # one site, the text names another organ's cancer as metastatic (ICD-10-CM C34 vs C78/C79)
    resources = (breast_cancer("2020-01-01"), condition(cc(coding(ICD10, code), text=text), "2021-01-01"))
    assert disease(*resources).metastatic == "unknown"
    organ_cancer = text.lower().removesuffix(" to bone")
    assert (f'{site} (coded a metastasis to the {site}, but the text names "{organ_cancer}": a cancer of that organ '
            "that spread, or the breast cancer, not stated)") in _gaps(*resources)["metastasis-unconfirmed"]


@pytest.mark.parametrize("text", ["No breast cancer", "Breast cancer ruled out", "Malignant neoplasm of breast excluded"])
def test_a_condition_writing_breast_cancer_as_ruled_out_names_no_breast_primary(text):
    # was: breast cancer "yes" beside an uncoded bone metastasis: the MBC pathway for a cancer of
    # unknown primary (condition-ver-status 'refuted'), as fix-rt15 read it on metastasis texts
    s = build_patient_state([patient(), condition(cc(text=text), "2019-01-20"),
                             metastasis("94222008", "Secondary malignant neoplasm of bone")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.breast_cancer == "unknown"
    assert "breast-cancer-not-documented" in [g.code for g in s.gaps]


@pytest.mark.parametrize("text", ["No residual breast cancer", "No evidence of recurrent breast cancer"])
def test_a_breast_cancer_written_as_no_residual_or_recurrent_disease_is_still_the_breast_primary(text):
    # a pathological complete response / follow-up without recurrence: a breast cancer history
    # (CR A.4 counts Z85.3 beside metastatic evidence)
    s = build_patient_state([patient(), condition(cc(text=text), "2019-01-20"),
                             metastasis("94222008", "Secondary malignant neoplasm of bone")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.breast_cancer == "yes" and s.disease.metastatic == "yes"


@pytest.mark.parametrize("text", ["Breast cancer - metastasis excluded", "Breast cancer with mets excluded",
                                  "No evidence of breast cancer recurrence", "No new breast cancer"])
def test_a_breast_cancer_beside_another_finding_ruled_out_or_written_as_no_recurrence_is_still_the_breast_primary(text):
    # was: breast cancer "unknown" (gap breast-cancer-not-documented): the metastasis, the
    # recurrence or a new cancer is what the words rule out, not the breast cancer (CR A.4)
    s = build_patient_state([patient(), condition(cc(text=text), "2019-01-20"),
                             metastasis("94222008", "Secondary malignant neoplasm of bone")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.breast_cancer == "yes" and s.disease.metastatic == "yes"
    assert "breast-cancer-not-documented" not in [g.code for g in s.gaps]


@pytest.mark.parametrize("text", ["Breast cancer ruled out on biopsy", "Breast cancer has been excluded"])
def test_a_breast_cancer_ruled_out_on_biopsy_or_having_been_excluded_names_no_breast_primary(text):
    s = build_patient_state([patient(), condition(cc(text=text), "2019-01-20"),
                             metastasis("94222008", "Secondary malignant neoplasm of bone")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.breast_cancer == "unknown"


@pytest.mark.parametrize("code", [coding(ICD10, "C79.51"), coding(SNOMED, "94222008")])
def test_a_metastasis_coded_to_bone_whose_text_names_the_liver_counts_the_bone_and_names_the_conflict(code):
    # was: bone only, silently: visceral vs bone-only disease changes the guidance (CR A.4
    # visceral sites), and which of the code and the text is right no source says
    s = build_patient_state([patient(), breast_cancer("2015-03-01"),
                             condition(cc(code, text="Breast cancer metastatic to liver"), "2020-01-20")],
                            PID, as_of=dt.date(2021, 1, 1))
    assert [site.site for site in s.disease.sites] == ["bone"]
    message = next(g.message for g in s.gaps if g.code == "metastatic-site-conflict")
    assert f"coded {code['code']} (bone) but the text names the liver" in message
    assert "check the code or the text" in message


@pytest.mark.parametrize("text,words", [("Bone metastases; history of liver metastasis", "history of liver metastasis"),
                                        # (ds9) the comma piece "resolved" after it quoted too
                                        ("Bone metastases. Previous liver metastases, resolved",
                                         "Previous liver metastases, resolved"),  # (ds11) as written
                                        ("Bone metastases, liver metastases resected", "liver metastases resected")])
def test_a_metastasis_coded_to_bone_whose_text_names_a_past_liver_metastasis_asks_whether_it_is_still_present(text, words):
    # was: "coded ... (bone) but the text names the liver ... check the code or the text", as if
    # code and text disagreed; the text writes the liver in the past, beside the coded bone
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(coding(SNOMED, "94222008"), text=text),
                                                                               "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert [site.site for site in s.disease.sites] == ["bone"]
    message = next(g.message for g in s.gaps if g.code == "metastatic-site-conflict")
    assert message == ("Metastatic site written in the past beside the coded one: coded 94222008 (bone), the text names "
                       f'the liver in the past ("{words}"). Only the coded site is counted (liver not counted as a current '
                       "site): confirm whether it is still present.")


@pytest.mark.parametrize("text", ["Bone metastases, new liver metastases since prior CT",
                                  "Bone metastases; history of liver metastasis; new liver metastases"])
def test_a_liver_metastasis_written_now_beside_a_past_word_stays_a_code_text_conflict(text):
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(coding(SNOMED, "94222008"), text=text),
                                                                               "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    message = next(g.message for g in s.gaps if g.code == "metastatic-site-conflict")
    assert message.startswith("Metastatic site coded and written differently: coded 94222008 (bone) but the text names the liver.")


def test_a_site_conflict_naming_lymph_nodes_reads_as_a_sentence():
    # was: "but the text names the lymph-node ... (lymph-node not counted"
    s = build_patient_state([patient(), breast_cancer("2015-03-01"),
                             condition(cc(coding(ICD10, "C78.7"), text="Metastatic breast cancer to liver and lymph nodes"),
                                       "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    message = next(g.message for g in s.gaps if g.code == "metastatic-site-conflict")
    assert "coded C78.7 (liver) but the text names the lymph nodes" in message and "(lymph nodes not counted" in message


@pytest.mark.parametrize("text", ["Bone metastases", "Bone metastases; liver metastasis ruled out", None])
def test_a_metastasis_whose_text_agrees_with_its_code_or_rules_the_other_site_out_has_no_site_conflict(text):
    s = build_patient_state([patient(), breast_cancer("2015-03-01"),
                             condition(cc(coding(ICD10, "C79.51"), text=text), "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert "metastatic-site-conflict" not in [g.code for g in s.gaps]


def test_a_text_site_coded_on_another_condition_is_no_site_conflict():
    s = build_patient_state([patient(), breast_cancer("2015-03-01"),
                             condition(cc(coding(ICD10, "C79.51"), text="Bone and liver metastases"), "2020-01-20"),
                             condition(cc(coding(ICD10, "C78.7"), text="Liver metastases"), "2020-01-20")],
                            PID, as_of=dt.date(2021, 1, 1))
    assert "metastatic-site-conflict" not in [g.code for g in s.gaps]


@pytest.mark.parametrize("text, doubted", [("Bone metastases, ?liver", "?liver"), ("Metastases to bone, ?liver", "?liver"),
                                           ("Bone metastases, liver?", "liver?"), ("Bone metastases, liver (query)", "liver (query)"),
                                           ("Bone metastases, possible liver", "possible liver"),
                                           # (ds) the doubted site listed before the mention: the
                                           # whole mention was unconfirmed (metastatic unknown)
                                           ("Bone and ?liver metastases", "?liver"),
                                           ("Bone, ?liver metastases", "?liver"),
                                           ("Bone + ? liver mets", "? liver"),
                                           # (ds) a suspicion / probable word in place of the "?"
                                           ("Bone and possible liver metastases", "possible liver"),
                                           ("Bone and probable liver metastases", "probable liver"),
                                           ("Bone metastases, liver likely", "liver likely"),
                                           ("Bone metastases (liver - likely)", "(liver - likely)")])
def test_a_site_written_with_a_doubt_beside_asserted_metastases_is_not_counted_and_is_asked(text, doubted):
    # "?liver" / "liver?" were counted as a liver (visceral) site; "possible liver" was dropped
    # without a word. Now neither counted nor silent (CR A.4 counts a diagnosis made)
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == ["bone"]
    assert not s.disease.visceral_involvement
    gap = next(g for g in s.gaps if g.code == "metastatic-site-unconfirmed")
    assert gap.message == (f'Metastatic site written with a doubt, not counted: the liver ("{doubted}"). Confirm or refute '
                           "it (visceral or not changes the treatment guidance).")


def test_a_doubt_opening_a_list_of_sites_before_metastases_doubts_them_all():
    # (ds) "?Bone and liver metastases" was read as asserted bone and liver (visceral) metastases
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text="?Bone and liver metastases"),
                                                                               "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "unknown" and s.disease.sites == []
    assert "metastasis-unconfirmed" in [g.code for g in s.gaps]


def test_sites_listed_without_a_doubt_beside_a_metastasis_are_all_counted_and_nothing_is_asked():
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text="Metastases to bone, liver and lung"),
                                                                               "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert sorted(x.site for x in s.disease.sites) == ["bone", "liver", "lung"]
    assert not any(g.code == "metastatic-site-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("text, doubted", [("Bone metastases, ?? liver", "?? liver"), ("Bone metastases, liver??", "liver??"),
                                           ("Bone metastases (?liver)", "(?liver)"), ("Bone metastases (liver?)", "(liver?)"),
                                           ("Bone metastases (possible liver)", "(possible liver)")])
def test_a_site_doubted_twice_or_in_brackets_beside_asserted_metastases_is_asked_not_counted_nor_dropped(text, doubted):
    # "?? liver" was dropped without a word since rd2 (counted before it); "(?liver)" was counted
    # as a liver (visceral) site, as "?liver" after a comma no longer is (rt34)
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == ["bone"]
    gap = next(g for g in s.gaps if g.code == "metastatic-site-unconfirmed")
    assert gap.message.startswith(f'Metastatic site written with a doubt, not counted: the liver ("{doubted}").')


@pytest.mark.parametrize("text", ["Bone metastases (?T12)", "Bone metastases (T12?)", "Bone metastases (liver and lung)",
                                  "Bone metastases (? progression)"])
def test_a_bracket_beside_bone_metastases_doubting_a_bone_or_naming_sites_plainly_asks_nothing(text):
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and "bone" in [x.site for x in s.disease.sites]
    assert not any(g.code == "metastatic-site-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("text, sites", [("Bone metastases (liver clear)", ["bone"]), ("Bone metastases (liver and lungs normal)", ["bone"]),
                                         ("Liver metastases (bone clear)", ["liver"]), ("Bone metastases (liver)", ["bone", "liver"]),
                                         # (ds) a list of sites in the bracket: its commas split it
                                         ("Bone metastases (liver, lungs clear)", ["bone"]),
                                         ("Bone metastases (liver, lungs: no lesions)", ["bone"]),
                                         ("Bone metastases (liver, lungs normal)", ["bone"]),
                                         ("Bone metastases (liver, lungs clear on CT)", ["bone"]),
                                         ("Liver metastases (bone, brain: negative)", ["liver"]),
                                         ("Bone metastases (liver, lung)", ["bone", "liver", "lung"]),
                                         # a site listed beside such a bracket still counts
                                         ("Metastases to bone, liver (lungs clear)", ["bone", "liver"]),
                                         # the scan named, a benign finding, a dash for the bracket
                                         ("Bone mets (CT: liver, lungs clear)", ["bone"]),
                                         ("Bone mets (liver: cyst)", ["bone"]),
                                         ("Bone metastases (liver lesions = cysts)", ["bone"]),
                                         ("Bone metastases - liver, lungs clear", ["bone"]),
                                         ("Bone metastases - liver", ["bone", "liver"]),
                                         ("Metastases - bone, liver clear", ["bone"]),
                                         ("Bone metastases (liver, lungs free of disease)", ["bone"]),
                                         ("Bone metastases (liver, lungs: none)", ["bone"]),
                                         ("Bone metastases (liver, lungs: NED)", ["bone"])])
def test_a_site_written_clear_in_a_bracket_beside_metastases_is_no_site(text, sites):
    # "Bone metastases (liver clear)" gave "Site: liver (visceral)": the bracket's site was
    # counted whatever it said of it (rt34)
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and sorted(x.site for x in s.disease.sites) == sorted(sites)
    assert not any(g.code == "metastatic-site-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("code, text, site", [
    (coding(ICD10, "C79.31"), "Brain MRI negative", "brain"),
    (coding(SNOMED, "94225005", "Secondary malignant neoplasm of brain"), "Brain MRI negative", "brain"),
    (coding(ICD10, "C78.01"), "Lung nodules, indeterminate", "lung"),
    (coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"), "Liver lesions: benign cysts", "liver"),
    (coding(SNOMED, "94493005", "Secondary malignant neoplasm of pleura"), "Pleural effusion (non-malignant)", "pleura"),
])
def test_a_coded_metastasis_whose_text_names_a_negative_benign_or_open_finding_is_asked_not_counted(code, text, site):
    # (ds) was: metastatic, with the coded (visceral) site, whatever the clinician's words said
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(code, text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "unknown" and s.disease.sites == []
    assert next(g.message for g in s.gaps if g.code == "metastasis-unconfirmed") == (
        f'Unconfirmed metastasis, not counted as metastatic disease: {site} (coded a metastasis, but the text reads '
        f'"{text}"). Confirm or refute it.')


@pytest.mark.parametrize("text", ["Bone metastases (liver, lungs clear)", "oligometastatic bone disease", "Bone mets, T12"])
def test_a_coded_metastasis_whose_text_names_the_metastasis_stays_metastatic(text):
    s = build_patient_state([patient(), breast_cancer("2015-03-01"),
                             condition(cc(coding(ICD10, "C79.51"), text=text), "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == ["bone"]


@pytest.mark.parametrize("text, doubted", [("Bone metastases and liver lesions", "liver lesions"),
                                           ("Bone metastases with liver lesion (indeterminate)", "liver lesion (indeterminate)"),
                                           ("Bone metastases and small lung nodules, indeterminate",
                                            "small lung nodules, indeterminate"),
                                           ("Bone metastases, indeterminate liver lesion", "indeterminate liver lesion")])
def test_a_site_named_as_a_lesion_beside_metastases_at_another_site_is_asked_not_counted(text, doubted):
    # (ds) "Bone metastases and liver lesions" gave Site: liver (visceral); a lesion or a nodule
    # is no metastasis said (the comma form was dropped without a word)
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == ["bone"]
    message = next(g.message for g in s.gaps if g.code == "metastatic-site-unconfirmed")
    assert f'("{doubted}")' in message


@pytest.mark.parametrize("text, sites", [("Bone metastases and benign liver cysts", ["bone"]),
                                         ("Bone metastases with liver cysts", ["bone"]),
                                         ("Bone metastases and liver haemangioma", ["bone"]),
                                         ("Metastatic disease with liver lesions", ["liver"]),
                                         ("Liver metastases, multiple lesions", ["liver"])])
def test_a_benign_finding_beside_metastases_is_no_site_and_lesions_that_are_the_metastases_are_one(text, sites):
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == sites
    assert not any(g.code == "metastatic-site-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("text, sites", [("Bone metastases (lungs clear, liver mets)", ["bone", "liver"]),
                                         ("Bone metastases (lungs clear, liver metastases)", ["bone", "liver"]),
                                         ("Bone metastases (brain clear, liver mets)", ["bone", "liver"]),
                                         ("Bone metastases - lungs clear, liver mets", ["bone", "liver"]),
                                         ("Bone metastases (liver: cyst, lung nodule)", ["bone"]),
                                         ("Liver metastases (bone scan clear)", ["liver"]),
                                         ("Liver metastases - bone scan clear", ["liver"]),
                                         ("Bone metastases (liver mets, lungs clear)", ["bone", "liver"])])
def test_a_site_written_clear_beside_another_in_a_bracket_is_no_site_and_the_other_keeps_its_reading(text, sites):
    # (rt44) "Bone metastases (lungs clear, liver mets)" gave Sites: lung, liver (the cleared lung
    # counted, visceral) and "(brain clear, liver mets)" a brain site: the bracket was read clear
    # only whole, and a bracket not clear whole had every site in it counted; "(bone scan clear)"
    # counted the bone. Each comma item of the bracket is read on its own now
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and sorted(x.site for x in s.disease.sites) == sorted(sites)


@pytest.mark.parametrize("code, text", [
    ("C78.7", "Liver lesion biopsy: breast carcinoma, ER positive, HER2 negative"),
    ("C79.51", "Bone lesions, HER2-negative"),
    ("C79.51", "Bone lesions, triple negative"),
    ("C78.01", "Lung nodules, PET positive, EGFR negative"),
    ("C78.2", "Pleural effusion, cytology positive, CEA negative"),
    ("C79.31", "Brain lesion, no evidence of haemorrhage"),
    ("C79.51", "Spine, cyst-like lesions, PET avid"),
    ("C79.51", "T12 lesion, reactive sclerosis, biopsy: carcinoma"),
])
def test_a_coded_metastasis_whose_text_says_negative_of_a_marker_or_another_finding_stays_metastatic(code, text):
    # (rt44) since fix-ds any "negative" / "no evidence" / "cyst" / "reactive" in the text of a
    # Condition coded C77-C79 made it unconfirmed: "Liver lesion biopsy: breast carcinoma, ER
    # positive, HER2 negative" coded C78.7 gave "Metastatic: unknown", no MBC pathway. A receptor
    # or other test written negative, or a malignancy named, is no word against the code
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(coding(ICD10, code), text=text),
                                                                               "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and len(s.disease.sites) == 1
    assert not any(g.code == "metastasis-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("code, text", [("C79.31", "Brain MRI negative, no cancer seen"),
                                        ("C78.2", "Pleural effusion, cytology negative for malignancy"),
                                        ("C78.2", "Pleural effusion, cytology negative"),
                                        ("C77.9", "Lymphadenopathy, reactive")])
def test_a_coded_metastasis_whose_text_is_negative_for_malignancy_is_still_asked(code, text):
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(coding(ICD10, code), text=text),
                                                                               "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "unknown"
    assert f'coded a metastasis, but the text reads "{text}"' in next(g.message for g in s.gaps
                                                                     if g.code == "metastasis-unconfirmed")


@pytest.mark.parametrize("code, text", [("C77.0", "cervical nodes"), ("C77.0", "Cervical lymph nodes"),
                                        ("C77.3", "contralateral axillary nodes"), ("C77.1", "mediastinal nodes")])
def test_nodes_coded_a_metastasis_whose_own_text_names_a_distant_region_are_metastatic(code, text):
    # (rt44) since fix-ds C77.0 written "cervical nodes" was asked as maybe regional: the code
    # says a nodal metastasis, its text where, and AJCC 8th edition holds cervical, contralateral
    # and mediastinal nodes distant (M1), as codes.yaml distant_node_icd10 notes for C77.0 / C77.1 / C77.3
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(cc(coding(ICD10, code), text=text),
                                                                               "2023-03-01")], PID)
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == ["lymph-node"]
    assert not any(g.code == "metastasis-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("code, text", [("C77.0", "supraclavicular nodes"), ("C77.3", "axillary nodes"),
                                        ("C77.0", "no cervical nodes; supraclavicular node")])
def test_nodes_coded_a_metastasis_whose_own_text_names_a_regional_region_are_still_asked(code, text):
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(cc(coding(ICD10, code), text=text),
                                                                               "2023-03-01")], PID)
    assert s.disease.metastatic == "unknown"
    assert next(g for g in s.gaps if g.code == "metastasis-unconfirmed").message == NODES_ASKED


CONFIRMED = cc(coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"))


@pytest.mark.parametrize("text", ["Likely bone and liver metastases", "Presumed bone and liver metastases"])
def test_every_site_of_a_probable_mention_on_a_confirmed_condition_is_counted(text):
    # (rt44) the confirmed Condition counted the liver only: the bone written beside it was
    # dropped without a word (a probable mention confirmed by verificationStatus is asserted,
    # its other sites were not read)
    s = build_patient_state([patient(), breast_cancer("2015-03-01"),
                             condition(cc(text=text), "2020-01-20", verificationStatus=CONFIRMED)], PID, as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and sorted(x.site for x in s.disease.sites) == ["bone", "liver"]


@pytest.mark.parametrize("text", ["Stage IV breast cancer, axillary nodes", "M1 nodal disease",
                                  "Distant metastases to axillary nodes", "Distant recurrence, nodes"])
def test_nodes_coded_c77_3_whose_text_writes_stage_iv_m1_or_distant_disease_are_metastatic(text):
    # (rt44) since fix-ds a C77.3 Condition written "Stage IV breast cancer, axillary nodes" was
    # asked as maybe regional ("Metastatic: unknown", no MBC pathway): stage IV and M1 are distant
    # metastasis (AJCC 8th edition; CR A.4 counts M1 / stage IV), and so is disease written distant
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(cc(AXILLARY_NODES[0]["coding"][0], text=text),
                                                                               "2023-03-01")], PID)
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == ["lymph-node"]
    assert not any(g.code in ("metastasis-unconfirmed", "metastatic-site-unconfirmed") for g in s.gaps)


@pytest.mark.parametrize("text", ["Axillary nodes, no distant metastases", "Axillary recurrence",
                                  "Axillary nodes; 10-year risk of distant recurrence 20%", "Axillary nodes, stage IIB"])
def test_nodes_coded_c77_3_whose_text_writes_no_distant_disease_are_not_counted(text):
    s = build_patient_state([patient(), breast_cancer("2020-01-01"), condition(cc(AXILLARY_NODES[0]["coding"][0], text=text),
                                                                               "2023-03-01")], PID)
    assert s.disease.metastatic in ("unknown", "no") and s.disease.sites == []


@pytest.mark.parametrize("text", ["Bone metastases, no liver lesions", "Bone metastases - no liver lesions",
                                  "Bone metastases without lung nodules", "Bone metastases; negative for liver lesions"])
def test_a_site_finding_written_as_not_there_beside_metastases_is_not_asked(text):
    # (rt44) since fix-ds "Bone metastases, no liver lesions" asked "Metastatic site written with a
    # doubt, not counted: the liver ("liver lesions")": the clinician wrote there are none
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and [x.site for x in s.disease.sites] == ["bone"]
    assert not any(g.code == "metastatic-site-unconfirmed" for g in s.gaps)


@pytest.mark.parametrize("text, sites", [("Liver and bone metastases (lung nodules: granulomas)", ["bone", "liver"]),
                                         ("Bone metastases and calcified lung granulomas", ["bone"])])
def test_a_granuloma_beside_metastases_is_no_site_and_not_asked(text, sites):
    # (rt44) "(lung nodules: granulomas)" asked a doubted lung (a cyst or haemangioma there was
    # already no site): a granuloma is another, benign diagnosis made at that site
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text=text), "2020-01-20")], PID,
                            as_of=dt.date(2021, 1, 1))
    assert s.disease.metastatic == "yes" and sorted(x.site for x in s.disease.sites) == sites
    assert not any(g.code == "metastatic-site-unconfirmed" for g in s.gaps)


def test_a_site_finding_in_a_doubted_bracket_is_asked_once():
    # (rt44) was: 'the liver ("(? liver lesions)"); the liver ("liver lesions")'
    s = build_patient_state([patient(), breast_cancer("2015-03-01"), condition(cc(text="Bone metastases (? liver lesions)"),
                                                                               "2020-01-20")], PID, as_of=dt.date(2021, 1, 1))
    assert next(g.message for g in s.gaps if g.code == "metastatic-site-unconfirmed") == (
        'Metastatic site written with a doubt, not counted: the liver ("(? liver lesions)"). Confirm or refute it '
        '(visceral or not changes the treatment guidance).')


# fx5: metastases after a relative told of them ("Daughter present: bone metastases") were read as a
# relative's cancer and dropped, the patient left out of the metastatic pathway (FHIR R4
# Condition.subject vs FamilyMemberHistory); a relative's metastatic cancer stays not the patient's
@pytest.mark.parametrize("text, metastatic", [("Daughter present: bone metastases", "yes"),
                                              ("Husband and mother informed: liver metastases", "yes"),
                                              ("Mother: metastatic breast cancer", "unknown")])
def test_metastases_after_a_relative_told_of_them_are_the_patients_and_after_a_relative_alone_are_not(
        text, metastatic):
    assert disease(breast_cancer(), condition(cc(text=text), "2023-01-01")).metastatic == metastatic


# a breast cancer after a relative told of it ("Mother informed: breast cancer") was read as the
# relative's cancer: no breast primary, the patient out of the pathway (FHIR R4 Condition.subject vs
# FamilyMemberHistory; the relative_told_words skip fx5 made for the other readers); a relative's
# breast cancer stays not the patient's
@pytest.mark.parametrize("text, documented", [("Mother informed: breast cancer", True),
                                              ("Daughter present: carcinoma of the breast", True),
                                              ("Mother: breast cancer", False)])
def test_a_breast_cancer_after_a_relative_told_of_it_is_the_patients_and_after_a_relative_alone_is_not(
        text, documented):
    assert (disease(condition(cc(text=text), "2023-01-01")).breast_cancer == "yes") is documented
