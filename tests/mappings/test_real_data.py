"""Real data nobody here wrote: the mCODE trial-matching patient and the
Genomics Reporting HER2 immune-stain example."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.conftest import REAL_PATIENT_ID

AS_OF = dt.date(2020, 4, 15)  # the bundle's lastUpdated


@pytest.fixture(scope="module")
def state(real_patient_resources):
    return build_patient_state(real_patient_resources, REAL_PATIENT_ID, AS_OF)


def test_real_patient_has_breast_cancer_from_its_primary_condition(state, real_patient_resources):
    primary = next(r for r in real_patient_resources
                   if r["resourceType"] == "Condition" and "Primary" in r["id"])
    assert state.disease.breast_cancer == "yes"
    assert f"Condition/{primary['id']}" in {s.reference for s in state.disease.primary_sources}


def test_real_patient_is_metastatic_from_stage_iv_and_secondary_sites(state):
    assert state.disease.metastatic == "yes"
    refs = {s.reference for s in state.disease.metastatic_sources}
    assert any(r.startswith("Observation/") for r in refs), "the 21908-9 stage IV observation counts"
    assert sum(r.startswith("Condition/") and "Secondary" in r for r in refs) == 3


def test_real_patient_clinical_stage_iv_is_read_as_de_novo(state):
    assert state.disease.de_novo_metastatic is True


def test_real_patient_sites_are_liver_bone_and_lymph_node_with_liver_visceral(state):
    sites = {s.site: s.visceral for s in state.disease.sites}
    assert sites == {"liver": True, "bone": False, "lymph-node": False}
    assert state.disease.visceral_involvement is True


def test_real_patient_liver_metastasis_does_not_make_a_visceral_crisis(state):
    assert state.disease.visceral_crisis is False


def test_real_patient_is_er_and_pr_positive(state):
    assert state.er.status == "positive" and state.pr.status == "positive"
    assert not state.er.conflict and not state.pr.conflict
    assert state.hormone_receptor_positive is True


def test_real_patient_bare_her2_negative_is_negative_unspecified_never_low(state):
    assert state.her2.category == "negative-unspecified"
    assert state.her2.ihc_score is None
    assert "her2-score-missing" in {g.code for g in state.gaps}


def test_real_patient_has_esr1_and_pik3ca_variants_detected(state):
    assert state.biomarkers.status("ESR1") == "detected"
    assert state.biomarkers.status("PIK3CA") == "detected"
    assert {r.gene for r in state.biomarkers.results} == {"ESR1", "PIK3CA"}
    for r in state.biomarkers.results:
        assert r.origin == "unknown"  # the bundle does not say germline/somatic
        assert r.sources and r.sources[0].reference.startswith("Observation/")


def test_real_patient_msi_marker_is_not_read_as_a_receptor(state):
    refs = {s.reference for s in state.er.sources + state.pr.sources + state.her2.sources}
    assert not any("TumorMarker04" in r for r in refs)


def test_real_patient_first_line_is_fulvestrant_with_a_cdk46_inhibitor_switch(state):
    lines = state.therapy.metastatic_lines
    assert len(lines) == 1
    line = lines[0]
    assert line.start == dt.date(2019, 4, 1)
    assert line.active and line.endocrine and not line.chemotherapy
    assert set(line.names) == {"fulvestrant", "abemaciclib", "ribociclib"}
    assert "leuprolide" not in line.names  # ovarian suppression is never a line


def test_real_patient_therapy_flags_match_the_medication_list(state):
    th = state.therapy
    assert th.prior_cdk46i and th.prior_fulvestrant and th.prior_endocrine_any_setting
    assert not th.prior_chemotherapy_any_setting and not th.prior_tdxd
    assert th.metastatic_endocrine_lines == 1 and th.metastatic_systemic_lines == 1
    current = {d.name for d in th.current_drugs()}
    assert current == {"fulvestrant", "ribociclib"}, "abemaciclib was replaced by ribociclib"


def test_real_patient_product_codes_resolve_to_ingredients(state):
    names = {d.name for e in state.therapy.exposures for d in e.drugs}
    assert names == {"leuprolide", "fulvestrant", "abemaciclib", "ribociclib"}


def test_real_patient_is_de_novo_and_not_yet_progressed_on_endocrine_therapy(state):
    assert state.therapy.endocrine_resistance == "de-novo"
    assert state.therapy.last_endocrine_progression is None
    assert state.therapy.progression_within_6_months_on_cdk46i is False


def test_real_patient_factors(state):
    f = state.factors
    assert f.sex == "female" and f.age == 61
    assert f.menopausal_status == "postmenopausal" and f.menopausal_basis == "age-rule"
    assert f.ovarian_suppression is False  # leuprolide statement is completed
    assert f.ecog == 1


def test_real_patient_counts_every_resource_and_ignores_none(state, real_patient_resources):
    assert sum(state.resource_counts.values()) == len(real_patient_resources)
    assert state.ignored == []


def test_real_patient_missing_metastatic_date_is_a_gap(state):
    assert "metastatic-date-unknown" in {g.code for g in state.gaps}


def test_every_real_patient_fact_is_traceable_to_a_received_resource(state, real_patient_resources):
    received = {f"{r['resourceType']}/{r['id']}" for r in real_patient_resources}
    sources = (state.disease.primary_sources + state.disease.metastatic_sources + state.er.sources
               + state.pr.sources + state.her2.sources
               + [s for r in state.biomarkers.results for s in r.sources]
               + [s for line in state.therapy.metastatic_lines for s in line.sources]
               + state.factors.ecog_sources)
    assert sources and {s.reference for s in sources} <= received


def test_genomics_reporting_her2_present_without_score_stays_unknown(her2_immune_stain_example):
    subject = her2_immune_stain_example["subject"]["reference"].split("/")[-1]
    state = build_patient_state([her2_immune_stain_example], subject)
    assert state.her2.category == "unknown", "'Present' is neither a score nor HER2-positive"
    assert state.her2.ihc_score is None
    assert state.her2.sources[0].reference == "Observation/HER2byImmuneStainExample"
    assert "her2-unknown" in {g.code for g in state.gaps}


def test_genomics_reporting_her2_gene_component_is_not_an_erbb2_variant(her2_immune_stain_example):
    subject = her2_immune_stain_example["subject"]["reference"].split("/")[-1]
    state = build_patient_state([her2_immune_stain_example], subject)
    assert state.biomarkers.results == []


def test_genomics_reporting_her2_example_for_another_patient_is_ignored(her2_immune_stain_example):
    state = build_patient_state([her2_immune_stain_example], "someone-else")
    assert state.her2.category == "unknown" and not state.her2.sources
    assert [g.code for g in state.ignored] == ["other-patient"]


def test_real_patient_undated_esr1_result_has_unknown_currency_and_says_so(state):
    # Its ESR1 variant Observation carries no effective date: whether it reflects
    # the disease after the latest endocrine therapy cannot be checked.
    assert state.biomarkers.esr1_current is None
    assert "esr1-undated" in {g.code for g in state.gaps}
