"""Genomic variant results (Genomics Reporting / mCODE and legacy codes)."""

from __future__ import annotations

import pytest

from mappings import build_patient_state
from tests.mappings.builders import (
    HGNC, HGNC_GENEID, LOINC, PID, V3_INTERPRETATION, answer, cc, coding, component, data_absent, loinc_obs,
    observation, patient, variant,
)


def results(*resources):
    return build_patient_state([patient(), *resources], PID).biomarkers


@pytest.mark.parametrize("code,system", [
    ("HGNC:3467", HGNC), ("3467", HGNC), ("HGNC:3467", HGNC_GENEID), ("3467", HGNC_GENEID),
])
def test_esr1_is_recognised_with_or_without_hgnc_prefix_and_either_system(code, system):
    bm = results(variant(code, "ESR1", system=system))
    assert bm.status("ESR1") == "detected"


def test_gene_symbol_is_a_fallback_when_the_hgnc_id_is_missing():
    bm = results(variant(None, "PIK3CA"))
    assert bm.status("PIK3CA") == "detected"


def test_gene_symbol_in_an_unknown_coding_system_is_recognised():
    bm = results(variant("AKT1", None, system="http://example.org/genes"))
    assert bm.status("AKT1") == "detected"


def test_protein_and_dna_change_are_kept():
    bm = results(variant("HGNC:8975", "PIK3CA", protein="NP_006209.2:p.(His1047Arg)",
                         dna="NM_006218.4:c.3140A>G"))
    r = bm.for_gene("PIK3CA")[0]
    assert r.protein_change == "NP_006209.2:p.(His1047Arg)" and r.dna_change == "NM_006218.4:c.3140A>G"


@pytest.mark.parametrize("answer_code,origin", [("LA6683-2", "germline"), ("LA6684-0", "somatic"),
                                                ("LA18197-6", "unknown")])
def test_genomic_source_class_sets_origin(answer_code, origin):
    bm = results(variant("HGNC:1100", "BRCA1", origin=answer_code))
    assert bm.for_gene("BRCA1")[0].origin == origin


def test_germline_brca2_pathogenic_is_actionable_and_closes_the_germline_gap():
    s = build_patient_state([patient(), variant("HGNC:1101", "BRCA2", origin="LA6683-2",
                                                significance="LA6668-3")], PID)
    assert s.biomarkers.actionable("BRCA2", origin="germline")
    assert "brca-germline-not-tested" not in {g.code for g in s.gaps}


def test_tumour_only_brca_of_unknown_origin_leaves_the_germline_gap():
    s = build_patient_state([patient(), variant("HGNC:1100", "BRCA1", origin="LA18197-6")], PID)
    assert "brca-germline-not-tested" in {g.code for g in s.gaps}


@pytest.mark.parametrize("sig_code,expected,actionable", [
    ("LA6668-3", "pathogenic", True), ("LA26332-9", "likely-pathogenic", True),
    ("LA26333-7", "vus", False), ("LA26334-5", "likely-benign", False), ("LA6675-8", "benign", False),
])
def test_clinical_significance_decides_whether_a_variant_counts(sig_code, expected, actionable):
    bm = results(variant("HGNC:8975", "PIK3CA", significance=sig_code))
    r = bm.for_gene("PIK3CA")[0]
    assert r.significance == expected and r.actionable is actionable


def test_vus_only_gene_reads_as_not_detected():
    bm = results(variant("HGNC:8975", "PIK3CA", significance="LA26333-7"))
    assert bm.status("PIK3CA") == "not-detected"


def test_significance_from_a_separate_implication_observation_pointing_at_the_variant():
    v = variant("HGNC:3467", "ESR1", rid="esr1-var")
    impl = observation(cc(text="Diagnostic implication"), "2021-06-01",
                       derivedFrom=[{"reference": "Observation/esr1-var"}],
                       component=[component("53037-8", valueCodeableConcept=cc(coding(LOINC, "LA26333-7")))])
    assert results(v, impl).for_gene("ESR1")[0].significance == "vus"


# --- Observation.status (FHIR R4 ObservationStatus) ---

@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
def test_a_final_amended_or_corrected_variant_result_is_read(status):
    bm = results(variant("HGNC:8975", "PIK3CA", status=status))
    assert bm.status("PIK3CA") == "detected"


@pytest.mark.parametrize("status,ignored_as", [("entered-in-error", "entered-in-error"), ("cancelled", "not-given")])
def test_an_entered_in_error_or_cancelled_variant_result_is_still_never_read(status, ignored_as):
    s = build_patient_state([patient(), variant("HGNC:8975", "PIK3CA", status=status)], PID)
    assert s.biomarkers.status("PIK3CA") == "not-tested"
    assert [g.code for g in s.ignored] == [ignored_as]
    assert "genomic-result-not-final" not in {g.code for g in s.gaps}


@pytest.mark.parametrize("status", ["preliminary", "registered"])
@pytest.mark.parametrize("present", [True, False])
def test_a_preliminary_or_registered_variant_result_is_kept_apart_and_decides_nothing(status, present):
    s = build_patient_state([patient(), variant("HGNC:8975", "PIK3CA", present=present, status=status)], PID)
    assert s.biomarkers.status("PIK3CA") == "not-tested"  # neither detected nor negative
    assert [(r.gene, r.status_not_final, r.actionable) for r in s.biomarkers.not_final] == [("PIK3CA", status, False)]
    gap = next(g for g in s.gaps if g.code == "genomic-result-not-final")
    assert f"status {status}" in gap.message and "not final" in gap.message and gap.sources
    assert next(g for g in s.gaps if g.code == "pik3ca-not-tested").message == "No final PIK3CA result."


def test_a_variant_result_whose_status_is_unknown_is_not_read_as_final():
    # FHIR R4 ObservationStatus "unknown": the source system does not know which status applies
    s = build_patient_state([patient(), variant("HGNC:8975", "PIK3CA", status="unknown")], PID)
    assert s.biomarkers.status("PIK3CA") == "not-tested"
    assert [(r.gene, r.status_not_final) for r in s.biomarkers.not_final] == [("PIK3CA", "unknown")]
    gap = next(g for g in s.gaps if g.code == "genomic-result-not-final")
    assert gap.message.startswith("PIK3CA variant detected (2021-06-01, status unknown): not final")


def test_a_variant_result_without_a_status_is_still_read_as_final():
    # status is required in R4, but senders omit it on final results
    v = variant("HGNC:8975", "PIK3CA")
    del v["status"]
    s = build_patient_state([patient(), v], PID)
    assert s.biomarkers.status("PIK3CA") == "detected" and s.biomarkers.not_final == []
    assert "genomic-result-not-final" not in {g.code for g in s.gaps}


def test_a_variant_whose_significance_comes_from_a_preliminary_implication_is_not_final():
    v = variant("HGNC:8975", "PIK3CA", rid="pik3ca-var")
    impl = observation(cc(text="Diagnostic implication"), "2021-06-01", status="preliminary",
                       derivedFrom=[{"reference": "Observation/pik3ca-var"}],
                       component=[component("53037-8", valueCodeableConcept=cc(coding(LOINC, "LA6668-3")))])
    bm = results(v, impl)
    assert bm.status("PIK3CA") == "not-tested"
    assert [r.status_not_final for r in bm.not_final] == ["preliminary"]


def test_plasma_specimen_is_ctdna_and_a_ctdna_negative_is_not_a_tissue_negative():
    neg = variant("HGNC:8975", "PIK3CA", present=False, specimen_display="Plasma (cfDNA)")
    s = build_patient_state([patient(), neg], PID)
    r = s.biomarkers.for_gene("PIK3CA")[0]
    assert r.result == "not-detected" and r.specimen == "ctdna"
    assert s.biomarkers.status("PIK3CA") == "not-detected-ctdna-only"
    assert "pik3ca-ctdna-negative-only" in {g.code for g in s.gaps}


def test_tissue_negative_is_a_true_negative():
    neg = variant("HGNC:8975", "PIK3CA", present=False, specimen_display="FFPE tumor tissue block")
    bm = results(neg)
    assert bm.for_gene("PIK3CA")[0].specimen == "tissue"
    assert bm.status("PIK3CA") == "not-detected"


def test_specimen_resource_type_and_collection_date_are_read():
    spec = {"resourceType": "Specimen", "id": "sp1", "subject": {"reference": f"Patient/{PID}"},
            "type": cc(text="Peripheral blood plasma"),
            "collection": {"collectedDateTime": "2022-07-01"}}
    v = variant("HGNC:3467", "ESR1", date="2022-07-20", specimen={"reference": "Specimen/sp1"})
    r = results(spec, v).for_gene("ESR1")[0]
    assert r.specimen == "ctdna" and r.date.isoformat() == "2022-07-01"


# --- archival / primary-tumour specimens (CR C.3 row 18; local_codes.yaml archival_specimen) ---

def _tissue_specimen(rid, type_text, note=None, collected=None):
    sp = {"resourceType": "Specimen", "id": rid, "subject": {"reference": f"Patient/{PID}"},
          "type": cc(text=type_text)}
    if note:
        sp["note"] = [{"text": note}]
    if collected:
        sp["collection"] = {"collectedDateTime": collected}
    return sp


@pytest.mark.parametrize("specimen,ref", [
    (None, {"display": "Archival FFPE block"}),
    (None, {"display": "Tumor tissue from the primary, mastectomy 2016"}),
    (_tissue_specimen("sp-a", "Tissue block", note="Archived block from the 2016 lumpectomy"), None),
    (_tissue_specimen("sp-b", "Primary tumour tissue"), None),
])
def test_a_result_on_archival_or_primary_tumour_tissue_without_a_collection_date_is_marked(specimen, ref):
    v = variant("HGNC:3467", "ESR1", present=False, date="2025-06-01",
                specimen=ref or {"reference": f"Specimen/{specimen['id']}"})
    r = results(*([specimen] if specimen else []), v).for_gene("ESR1")[0]
    assert r.archival_without_collection_date is True
    assert r.date.isoformat() == "2025-06-01"  # the Observation's date, shown as the result's


@pytest.mark.parametrize("specimen,ref", [
    # the collection date says when the tissue was taken: it decides
    (_tissue_specimen("sp-c", "Primary tumour tissue", collected="2016-03-01"), None),
    # the primary named as where the cancer started, on a metastasis biopsy
    (None, {"display": "Liver metastasis biopsy, breast primary"}),
    # plasma is never archival tissue
    (None, {"display": "Plasma ctDNA (archived sample)"}),
    (None, {"display": "Tumor tissue biopsy (FFPE)"}),
])
def test_a_result_on_dated_metastatic_or_plasma_specimens_is_not_marked_archival(specimen, ref):
    v = variant("HGNC:3467", "ESR1", present=False, date="2025-06-01",
                specimen=ref or {"reference": f"Specimen/{specimen['id']}"})
    r = results(*([specimen] if specimen else []), v).for_gene("ESR1")[0]
    assert r.archival_without_collection_date is False


@pytest.mark.parametrize("text", ["Not detected", "No pathogenic variants detected", "Wild type", "Negative"])
def test_negative_result_wordings_are_not_detected(text):
    bm = results(variant("HGNC:3467", "ESR1", present=None, value_text=text))
    assert bm.for_gene("ESR1")[0].result == "not-detected"


def test_no_call_result_is_ignored_with_a_reason_not_read_as_negative():
    s = build_patient_state([patient(), variant("HGNC:3467", "ESR1", present=None, value_text="No call")], PID)
    assert s.biomarkers.status("ESR1") == "not-tested"
    assert "indeterminate-genomic-result" in {g.code for g in s.ignored}


def test_legacy_brca1_code_with_a_text_result_is_a_hint():
    obs = loinc_obs("21636-6", valueString="Pathogenic variant detected: c.68_69delAG")
    r = results(obs).for_gene("BRCA1")[0]
    assert r.result == "detected" and r.significance == "pathogenic"
    assert r.dna_change.startswith("c.68_69del")


def test_region_studied_without_a_reported_variant_is_a_negative_result():
    region = loinc_obs("53041-0", "2021-06-01", component=[
        component("48018-6", valueCodeableConcept=cc(coding(HGNC, "HGNC:391", "AKT1"))),
        component("48018-6", valueCodeableConcept=cc(coding(HGNC, "HGNC:9588", "PTEN"))),
    ])
    bm = results(region)
    assert bm.status("AKT1") == "not-detected" and bm.status("PTEN") == "not-detected"


def test_gene_outside_the_pathway_is_not_recorded():
    assert results(variant("HGNC:11998", "TP53")).results == []


def test_no_variant_observation_means_not_tested_and_gaps_name_the_tests():
    s = build_patient_state([patient()], PID)
    assert s.biomarkers.status("ESR1") == "not-tested"
    codes = {g.code for g in s.gaps}
    assert {"esr1-not-tested", "pik3ca-not-tested", "akt1-pten-not-tested", "brca-germline-not-tested"} <= codes


def test_local_test_code_named_esr1_mutation_with_a_text_result_is_read():
    obs = observation(cc(coding("urn:oid:2.16.840.1.999.lab", "ESR1M", "ESR1 mutation analysis, plasma ctDNA")),
                      "2023-02-01", valueString="Detected: p.Y537S")
    r = results(obs).for_gene("ESR1")[0]
    assert r.result == "detected" and r.specimen == "ctdna" and r.protein_change == "p.Y537S"


def test_local_brca1_brca2_panel_negative_applies_to_both_genes():
    obs = observation(cc(text="BRCA1/BRCA2 germline sequencing"), "2023-02-01", valueString="No pathogenic variants detected")
    bm = results(obs)
    assert bm.status("BRCA1") == "not-detected" and bm.status("BRCA2") == "not-detected"
    assert bm.for_gene("BRCA1")[0].origin == "germline"


def _legacy_brca2_found(**extra):
    return loinc_obs("38530-2", "2024-01-01",
                     "BRCA2 gene mutations found [Identifier] in Blood or Tissue by Molecular genetics method",
                     valueString="BRCA2 c.5946delT (p.Ser1982fs) pathogenic", **extra)


def test_legacy_brca_loinc_display_naming_blood_or_tissue_does_not_set_the_specimen():
    r = results(_legacy_brca2_found()).for_gene("BRCA2")[0]
    assert r.result == "detected" and r.specimen == "unknown"


def test_legacy_brca_loinc_with_a_tissue_specimen_is_tissue():
    r = results(_legacy_brca2_found(specimen={"display": "Tumor tissue, FFPE block"})).for_gene("BRCA2")[0]
    assert r.specimen == "tissue"


def test_protein_change_in_parentheses_loses_the_closing_parenthesis():
    r = results(_legacy_brca2_found()).for_gene("BRCA2")[0]
    assert r.protein_change == "p.Ser1982fs" and r.dna_change == "c.5946delT"


def test_predicted_protein_change_keeps_its_own_parentheses():
    obs = loinc_obs("21636-6", valueString="Pathogenic variant detected: c.68_69delAG (p.(Glu23Valfs*17))")
    r = results(obs).for_gene("BRCA1")[0]
    assert r.protein_change == "p.(Glu23Valfs*17)"


# --- negative wordings, interpretation and significance text (review D1, D2, D13) ---

_NEGATIVE_WORDINGS = [
    "No ESR1 mutation identified", "Not present", "No variants of clinical significance detected",
    "Mutation not identified", "None detected", "Variant not found",
    # "none" as the whole answer, or opening the statement (these read as detected: "mutation",
    # "mutated" are detection words)
    "ESR1 mutation: none", "None", "Mutation: None.", "None of the tested ESR1 hotspots mutated",
]


def _hr_positive_mbc_on_2025_07_01(*resources):
    """The state on 2025-07-01 of an ER+/PR- MBC patient (metastatic 2024-01-15) with these resources."""
    from tests.mappings.builders import metastatic_patient
    return build_patient_state(metastatic_patient(
        "2024-01-15",
        loinc_obs("85337-4", "2024-01-20", **answer(LOINC, "LA6576-8", "Positive")),
        loinc_obs("85319-2", "2024-01-20", **answer(LOINC, "LA6577-6", "Negative")),
        *resources), PID, __import__("datetime").date(2025, 7, 1))


@pytest.mark.parametrize("text", _NEGATIVE_WORDINGS)
def test_no_esr1_mutation_identified_is_a_negative_result_not_a_variant(text):
    bm = results(variant("HGNC:3467", "ESR1", present=None, value_text=text))
    r = bm.for_gene("ESR1")[0]
    assert (r.result, r.actionable, r.protein_change) == ("not-detected", False, None)
    assert bm.status("ESR1") == "not-detected"


@pytest.mark.parametrize("text", ["No ESR1 mutation identified", "ESR1 mutation: none",
                                  "None of the tested ESR1 hotspots mutated"])
def test_a_negative_esr1_wording_after_progression_raises_no_elacestrant_card(text):
    from cards import patient_view_cards
    from tests.mappings.builders import LETROZOLE, PALBOCICLIB, SNOMED, med_statement
    s = _hr_positive_mbc_on_2025_07_01(
        med_statement(LETROZOLE, "2024-02-01", "2025-06-01", display="letrozole"),
        med_statement(PALBOCICLIB, "2024-02-01", "2025-06-01", display="palbociclib"),
        loinc_obs("97509-4", "2025-06-01", "Cancer disease status", **answer(SNOMED, "271299001", "worsened")),
        variant("HGNC:3467", "ESR1", present=None, value_text=text,
                date="2025-06-10", specimen_display="plasma ctDNA"),
    )
    assert s.biomarkers.status("ESR1") == "not-detected-ctdna-only"
    summaries = " | ".join(c.summary for c in patient_view_cards(s))
    assert "Elacestrant" not in summaries and "Imlunestrant" not in summaries


def test_a_detected_variant_with_an_aside_about_other_genes_stays_detected():
    bm = results(variant("HGNC:8975", "PIK3CA", present=None, value_text="Detected: PIK3CA H1047R (no other variants)"))
    assert bm.for_gene("PIK3CA")[0].result == "detected"


@pytest.mark.parametrize("interp", [
    cc(coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "N", "Normal")),
    cc(text="Normal"),
    cc(text="Reviewed"),
])
def test_an_interpretation_that_says_nothing_about_detection_is_not_a_detected_variant(interp):
    s = build_patient_state([patient(), variant("HGNC:8975", "PIK3CA", present=None, interpretation=[interp])], PID)
    assert s.biomarkers.status("PIK3CA") == "not-tested"
    assert "indeterminate-genomic-result" in {g.code for g in s.ignored}


@pytest.mark.parametrize("code,expected", [("POS", "detected"), ("NEG", "not-detected"), ("ND", "not-detected")])
def test_interpretation_codes_without_a_display_are_read(code, expected):
    interp = cc({"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": code})
    bm = results(variant("HGNC:8975", "PIK3CA", present=None, interpretation=[interp]))
    assert bm.for_gene("PIK3CA")[0].result == expected


@pytest.mark.parametrize("text", ["Non-pathogenic", "Not pathogenic", "nonpathogenic", "Not likely pathogenic"])
def test_non_pathogenic_significance_text_is_not_pathogenic(text):
    v = variant("HGNC:8975", "PIK3CA", protein="p.E545K")
    v["component"].append(component("53037-8", valueCodeableConcept=cc(text=text)))
    r = results(v).for_gene("PIK3CA")[0]
    assert r.significance == "benign" and r.actionable is False


# --- origin only from the origin component/code or an unambiguous statement (review D3, D11) ---

def _tumour_only_brca2(**extra):
    return variant("HGNC:1101", "BRCA2", protein="p.Ser1982fs", significance="LA6668-3",
                   specimen_display="FFPE tumor tissue", **extra)


@pytest.mark.parametrize("extra", [
    {"method": cc(text="Tumor-only NGS panel; does not distinguish germline from somatic variants")},
    {"category": [cc(text="Somatic tumor profiling - germline testing recommended")]},
    {"method": cc(text="Germline status not determined")},
])
def test_a_tumour_only_brca_variant_whose_text_merely_mentions_germline_is_not_germline(extra):
    s = build_patient_state([patient(), _tumour_only_brca2(**extra)], PID)
    r = s.biomarkers.for_gene("BRCA2")[0]
    assert r.result == "detected" and r.origin != "germline"
    assert not s.biomarkers.actionable("BRCA2", origin="germline")
    assert "brca-germline-not-tested" in {g.code for g in s.gaps}


def test_a_tumour_only_brca_variant_mentioning_germline_raises_no_talazoparib_card():
    from cards import patient_view_cards
    from tests.mappings.builders import FULVESTRANT, LETROZOLE, PALBOCICLIB, med_statement
    s = _hr_positive_mbc_on_2025_07_01(
        med_statement(LETROZOLE, "2024-01-20", "2025-01-10", display="letrozole"),
        med_statement(PALBOCICLIB, "2024-01-20", "2025-01-10", display="palbociclib"),
        med_statement(FULVESTRANT, "2025-01-15", None, status="active", display="fulvestrant"),
        _tumour_only_brca2(method=cc(text="Tumor-only NGS panel; does not distinguish germline from somatic variants")),
    )
    summaries = [c.summary for c in patient_view_cards(s)]
    assert not [x for x in summaries if x.startswith("Talazoparib")]  # no regimen card
    assert any("decides Talazoparib" in x for x in summaries)  # the germline test is asked for


@pytest.mark.parametrize("text,origin", [
    ("Germline (confirmed in blood)", "germline"), ("Somatic", "somatic"), ("not germline", None),
    ("germline or somatic (not determined)", None),
])
def test_origin_component_text_is_read_only_when_unambiguous(text, origin):
    v = variant("HGNC:1101", "BRCA2", protein="p.Ser1982fs")
    v["component"].append(component("48002-0", valueCodeableConcept=cc(text=text)))
    assert results(v).for_gene("BRCA2")[0].origin == (origin or "unknown")


def test_a_germline_panel_sent_as_region_studied_keeps_its_germline_origin():
    region = loinc_obs("53041-0", "2024-03-01", component=[
        component("48018-6", valueCodeableConcept=cc(coding(HGNC, "HGNC:1100", "BRCA1"))),
        component("48018-6", valueCodeableConcept=cc(coding(HGNC, "HGNC:1101", "BRCA2"))),
    ], category=[cc(text="Germline genetic testing")], method=cc(text="Hereditary cancer panel (germline)"))
    region["specimen"] = {"display": "Whole blood"}
    s = build_patient_state([patient(), region], PID)
    for g in ("BRCA1", "BRCA2"):
        r = s.biomarkers.for_gene(g)[0]
        assert (r.result, r.origin, r.specimen) == ("not-detected", "germline", "blood")
    assert "brca-germline-not-tested" not in {g.code for g in s.gaps}


# --- ctDNA specimens coded without text, or labelled blood (review D4; CR C.3 row 2) ---

def _specimen(rid, text=None, coding_=None):
    t = {}
    if coding_:
        t["coding"] = [coding_]
    if text:
        t["text"] = text
    return {"resourceType": "Specimen", "id": rid, "subject": {"reference": f"Patient/{PID}"}, "type": t}


@pytest.mark.parametrize("coding_", [
    {"system": "http://snomed.info/sct", "code": "119361006"},
    {"system": "http://terminology.hl7.org/CodeSystem/v2-0487", "code": "PLAS"},
])
def test_a_plasma_specimen_coded_without_text_is_ctdna_so_a_negative_is_not_final(coding_):
    bm = results(_specimen("sp-plasma", coding_=coding_),
                 variant("HGNC:8975", "PIK3CA", present=False, specimen={"reference": "Specimen/sp-plasma"}))
    assert bm.for_gene("PIK3CA")[0].specimen == "ctdna"
    assert bm.status("PIK3CA") == "not-detected-ctdna-only"


def test_a_somatic_result_on_peripheral_blood_is_ctdna():
    bm = results(variant("HGNC:8975", "PIK3CA", present=False, origin="LA6684-0", specimen_display="Peripheral blood"))
    assert bm.for_gene("PIK3CA")[0].specimen == "ctdna"
    assert bm.status("PIK3CA") == "not-detected-ctdna-only"


def test_a_tumour_gene_panel_on_blood_without_a_stated_origin_is_ctdna():
    region = loinc_obs("53041-0", "2024-02-01", component=[
        component("48018-6", valueCodeableConcept=cc(coding(HGNC, h, g)))
        for g, h in (("PIK3CA", "HGNC:8975"), ("AKT1", "HGNC:391"), ("PTEN", "HGNC:9588"), ("ESR1", "HGNC:3467"))
    ])
    region["specimen"] = {"display": "Peripheral blood"}
    bm = results(region)
    assert {g: bm.status(g) for g in ("PIK3CA", "AKT1", "PTEN", "ESR1")} == dict.fromkeys(
        ("PIK3CA", "AKT1", "PTEN", "ESR1"), "not-detected-ctdna-only")


def test_a_germline_brca_test_on_blood_stays_germline_blood():
    r = results(variant("HGNC:1100", "BRCA1", present=False, origin="LA6683-2",
                        specimen_display="Peripheral blood")).for_gene("BRCA1")[0]
    assert (r.specimen, r.origin) == ("blood", "germline")


def test_a_pik3ca_negative_on_a_coded_plasma_specimen_still_asks_for_tissue_testing():
    from cards import patient_view_cards
    from tests.mappings.builders import LETROZOLE, answer, med_statement, metastatic_patient
    sp = _specimen("sp-plasma", coding_={"system": "http://snomed.info/sct", "code": "119361006"})
    resources = metastatic_patient(
        "2024-01-15",
        loinc_obs("85337-4", "2024-01-20", **answer(LOINC, "LA6576-8", "Positive")),
        loinc_obs("85319-2", "2024-01-20", **answer(LOINC, "LA6577-6", "Negative")),
        med_statement(LETROZOLE, "2019-01-01", "2023-06-01", display="letrozole"),
        sp,
        *[variant(h, g, present=False, date="2024-02-01", specimen={"reference": "Specimen/sp-plasma"})
          for g, h in (("PIK3CA", "HGNC:8975"), ("AKT1", "HGNC:391"), ("PTEN", "HGNC:9588"))],
    )
    s = build_patient_state(resources, PID, __import__("datetime").date(2024, 3, 1))
    assert s.biomarkers.status("PIK3CA") == "not-detected-ctdna-only"
    assert "test-pik3ca-akt1-pten" in {c.source.topic.code for c in patient_view_cards(s) if c.source.topic}


@pytest.mark.parametrize("gene_code, gene, text, protein", [
    ("HGNC:3467", "ESR1", "Detected. No other ESR1 variants identified", "p.D538G"),
    ("HGNC:3467", "ESR1", "Y537S mutation detected, no other mutations identified", None),
    ("HGNC:8975", "PIK3CA", "H1047R detected; no other reportable variants", None),
    # "without / free of other ..." is the same aside (the refuted words of fix-gx read it as
    # a negative)
    ("HGNC:8975", "PIK3CA", "p.H1047R detected, without other variants", None),
    ("HGNC:3467", "ESR1", "D538G detected; without additional alterations", None),
    ("HGNC:3467", "ESR1", "Y537S mutation found; free of other ESR1 variants", None),
])
def test_a_detected_variant_followed_by_no_other_variants_stays_detected(gene_code, gene, text, protein):
    # final regression review: "no other ..." after a finding does not negate it
    r = results(variant(gene_code, gene, present=None, value_text=text, protein=protein)).for_gene(gene)[0]
    assert r.result == "detected"


# --- clinical significance in Observation.interpretation and ClinVar wordings (audit) ---

_VUS = "LA26333-7"


@pytest.mark.parametrize("interp", [
    [cc(coding(LOINC, _VUS, "Uncertain significance"))],
    [cc(text="Uncertain significance")],
    # a Positive qualifier beside it is no significance: the LL4034-6 answer decides
    [cc(coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "POS", "Positive")),
     cc(coding(LOINC, _VUS, "Uncertain significance"))],
])
def test_a_vus_reported_in_the_interpretation_is_not_an_actionable_variant(interp):
    bm = results(variant("HGNC:8975", "PIK3CA", protein="p.(Glu726Lys)", interpretation=interp))
    r = bm.for_gene("PIK3CA")[0]
    assert (r.result, r.significance, r.actionable) == ("detected", "vus", False)
    assert bm.status("PIK3CA") == "not-detected"


@pytest.mark.parametrize("text", [
    "Conflicting interpretations of pathogenicity", "Conflicting classifications of pathogenicity",
])
def test_conflicting_interpretations_of_pathogenicity_are_uncertain_not_pathogenic_and_kept_as_such(text):
    v = variant("HGNC:1101", "BRCA2", protein="p.(Lys3326Ter)", origin="LA6683-2")
    v["component"].append(component("53037-8", valueCodeableConcept=cc(text=text)))
    bm = results(v)
    r = bm.for_gene("BRCA2")[0]
    assert (r.significance, r.significance_conflicting, r.actionable) == ("vus", True, False)
    assert not bm.actionable("BRCA2", "germline")


@pytest.mark.parametrize("text,expected", [
    ("Pathogenicity: benign", "benign"),
    ("Pathogenicity unknown", "vus"), ("Unknown pathogenicity", "vus"),
    ("Variant of unknown clinical significance", "vus"), ("Oncogenicity: unknown", "vus"),
])
def test_the_word_pathogenicity_names_the_question_and_is_never_read_as_pathogenic(text, expected):
    v = variant("HGNC:8975", "PIK3CA", protein="p.E545K")
    v["component"].append(component("53037-8", valueCodeableConcept=cc(text=text)))
    r = results(v).for_gene("PIK3CA")[0]
    assert r.significance == expected and r.actionable is False


# --- dataAbsentReason: a test with no value is no result (FHIR R4 Observation.dataAbsentReason) ---


@pytest.mark.parametrize("obs,gene", [
    (data_absent(variant("HGNC:3467", "ESR1", present=None, date="2024-03-01", protein="p.Tyr537Ser")), "ESR1"),
    (data_absent(variant("HGNC:8975", "PIK3CA", present=None, date="2024-03-01",
                         interpretation=[cc(coding(V3_INTERPRETATION, "NEG", "Negative"))]), "error"), "PIK3CA"),
])
def test_a_variant_result_with_a_data_absent_reason_is_neither_detected_nor_negative_and_the_reason_is_named(obs, gene):
    s = build_patient_state([patient(), obs], PID)
    assert s.biomarkers.status(gene) == "not-tested"
    assert any(g.code == "data-absent" and g.message.startswith(f"{gene} variant") for g in s.ignored)


# --- copy-number changes and fusions are not the mutations the ESR1/PIK3CA/AKT1 drugs need ---
# (CR B.2/B.3: "ESR1-mutated", CDx LBD missense; C.1 ASCO 2024: "PIK3CA or AKT1 mutations or
# PTEN inactivation"; A.2: 48019-4 DNA change type, Sequence Ontology codes)

SEQONT = "http://sequenceontology.org"


def _change_type(obs, code, display):
    obs["component"].append(component("48019-4", valueCodeableConcept=cc(coding(SEQONT, code, display))))
    return obs


@pytest.mark.parametrize("obs", [
    _change_type(variant("HGNC:3467", "ESR1", date="2025-06-10"), "SO:0001742", "copy_number_gain"),
    _change_type(variant("HGNC:3467", "ESR1", date="2025-06-10"), "SO:0001019", "copy_number_variation"),
    _change_type(variant("HGNC:3467", "ESR1", date="2025-06-10"), "SO:0001565", "gene_fusion"),
    variant("HGNC:3467", "ESR1", present=None, date="2025-06-10", value_text="ESR1 amplification detected"),
    variant("HGNC:3467", "ESR1", present=None, date="2025-06-10", value_text="ESR1-CCDC170 fusion detected"),
])
def test_an_esr1_amplification_or_fusion_is_shown_but_is_not_an_esr1_mutation(obs):
    bm = results(obs)
    r = bm.for_gene("ESR1")[0]
    assert (r.result, r.actionable) == ("detected", False)
    assert bm.status("ESR1") == "not-detected"


def test_a_pik3ca_amplification_is_not_a_pik3ca_mutation_but_a_pten_deletion_is_a_pten_inactivation():
    bm = results(
        _change_type(variant("HGNC:8975", "PIK3CA"), "SO:0001742", "copy_number_gain"),
        _change_type(variant("HGNC:9588", "PTEN"), "SO:0001743", "copy_number_loss"),
        _change_type(variant("HGNC:9588", "PTEN", date="2021-06-02"), "SO:0001742", "copy_number_gain"),
        # a mutation's own wording is no copy-number change
        variant("HGNC:391", "AKT1", present=None, value_text="Activating (gain-of-function) mutation detected"),
        variant("HGNC:391", "AKT1", present=None, date="2021-06-02", value_text="Mutation detected, no amplification"),
    )
    assert [r.actionable for r in bm.for_gene("AKT1")] == [True, True]
    assert bm.status("PIK3CA") == "not-detected"
    assert [r.actionable for r in bm.for_gene("PTEN")] == [True, False]
    assert bm.status("PTEN") == "detected" and bm.status("AKT1") == "detected"


@pytest.mark.parametrize("obs", [
    _change_type(variant("HGNC:9588", "PTEN"), "SO:0001565", "gene_fusion"),
    _change_type(variant("HGNC:9588", "PTEN"), "SO:0001019", "copy_number_variation"),
    variant("HGNC:9588", "PTEN", present=None, value_text="PTEN rearrangement detected"),
])
def test_a_pten_fusion_or_copy_number_change_of_unstated_direction_is_neither_an_inactivation_nor_a_negative(obs):
    s = build_patient_state([patient(), obs], PID)
    r = s.biomarkers.for_gene("PTEN")[0]
    assert (r.result, r.actionable) == ("detected", False)
    assert r.alteration_unclear
    gap = next(g for g in s.gaps if g.code == "pten-alteration-unclear")
    assert "does not say whether it inactivates PTEN" in gap.message and gap.sources


def test_a_detected_esr1_variant_from_a_panel_named_for_copy_number_changes_and_fusions_is_still_a_mutation():
    # the test's name lists what the panel can find; the result itself says "Present"
    obs = variant("HGNC:3467", "ESR1", date="2025-06-10")
    obs["code"]["text"] = "Comprehensive genomic profiling: mutations, copy number alterations, fusions"
    r = results(obs).for_gene("ESR1")[0]
    assert (r.result, r.actionable, r.alteration) == ("detected", True, None)


def test_an_esr1_amplification_not_detected_is_no_esr1_mutation_negative():
    s = build_patient_state([patient(), variant("HGNC:3467", "ESR1", present=None,
                                                value_text="ESR1 amplification not detected")], PID)
    assert s.biomarkers.status("ESR1") == "not-tested"
    assert "esr1-not-tested" in {g.code for g in s.gaps}
    assert any(g.code == "not-a-mutation-result" and "ESR1" in g.message for g in s.ignored)


def test_an_esr1_amplification_after_progression_raises_no_elacestrant_or_imlunestrant_card():
    from cards import patient_view_cards
    from tests.mappings.builders import LETROZOLE, PALBOCICLIB, SNOMED, med_statement
    s = _hr_positive_mbc_on_2025_07_01(
        med_statement(LETROZOLE, "2024-02-01", "2025-06-01", display="letrozole"),
        med_statement(PALBOCICLIB, "2024-02-01", "2025-06-01", display="palbociclib"),
        loinc_obs("97509-4", "2025-06-01", "Cancer disease status", **answer(SNOMED, "271299001", "worsened")),
        _change_type(variant("HGNC:3467", "ESR1", date="2025-06-10", specimen_display="plasma ctDNA"),
                     "SO:0001742", "copy_number_gain"),
    )
    summaries = " | ".join(c.summary for c in patient_view_cards(s))
    assert "Elacestrant" not in summaries and "Imlunestrant" not in summaries


def test_a_variant_named_only_by_its_clinvar_variation_code_display_is_read_with_its_gene_and_change():
    # Genomics Reporting 81252-9 (CR A.2): ClinVar id, display "transcript(gene):c. (p.)"
    obs = loinc_obs("69548-6", "2024-01-01", component=[component("81252-9", valueCodeableConcept=cc(coding(
        "http://www.ncbi.nlm.nih.gov/clinvar", "13652", "NM_006218.4(PIK3CA):c.3140A>G (p.His1047Arg)")))],
        **answer(LOINC, "LA9633-4", "Present"))
    bm = results(obs)
    assert bm.status("PIK3CA") == "detected"
    assert bm.for_gene("PIK3CA")[0].protein_change == "p.His1047Arg"


@pytest.mark.parametrize("written,status", [("Preliminary", "preliminary"), ("PRELIMINARY", "preliminary"),
                                            ("Registered ", "registered"), ("Unknown", "unknown")])
def test_a_not_final_variant_status_written_in_the_wrong_case_is_still_not_final(written, status):
    # FHIR R4 ObservationStatus codes are lower case; "Preliminary" is the sender's way of
    # writing preliminary, not a final result
    s = build_patient_state([patient(), variant("HGNC:8975", "PIK3CA", status=written)], PID)
    assert s.biomarkers.status("PIK3CA") == "not-tested"
    assert [(r.gene, r.status_not_final) for r in s.biomarkers.not_final] == [("PIK3CA", status)]
    assert f"status {status}" in next(g for g in s.gaps if g.code == "genomic-result-not-final").message


# --- one result text for several genes ---------------------------------------------------

def _local_panel(name: str, text: str, **extra):
    """A local lab test (no LOINC) whose name says what it is, with a text result."""
    return observation(cc(coding("urn:oid:2.16.840.1.999.lab", "PANEL1", name)), "2025-06-01",
                       valueString=text, **extra)


def _read(bm):
    return sorted((r.gene, r.result, r.protein_change) for r in bm.results)


def test_a_result_text_giving_several_genes_results_is_read_gene_by_gene():
    # one call for the whole text made AKT1 "not detected" too (the first call in the text)
    bm = results(_local_panel("Tumor NGS panel ESR1 PIK3CA AKT1 mutation",
                              "Not detected: ESR1, PIK3CA. Detected: AKT1 p.E17K"))
    assert _read(bm) == [("AKT1", "detected", "p.E17K"), ("ESR1", "not-detected", None),
                         ("PIK3CA", "not-detected", None)]


def test_each_gene_of_a_several_gene_text_keeps_its_own_protein_change():
    bm = results(_local_panel("Tumor mutation panel ESR1 PIK3CA", "Detected: PIK3CA p.H1047R; ESR1 p.Y537S"))
    assert _read(bm) == [("ESR1", "detected", "p.Y537S"), ("PIK3CA", "detected", "p.H1047R")]


def test_a_gene_the_report_lists_but_gives_no_result_for_is_unclear_not_detected():
    s = build_patient_state([patient(), _local_panel(
        "ESR1 PIK3CA AKT1 mutation panel", "Genes tested: ESR1, PIK3CA, AKT1. Result: AKT1 E17K detected")], PID)
    assert _read(s.biomarkers) == [("AKT1", "detected", None)]
    assert s.biomarkers.status("ESR1") == "not-tested" and s.biomarkers.status("PIK3CA") == "not-tested"
    assert ("ESR1 result (2025-06-01) unclear: the report gives results for AKT1/ESR1/PIK3CA and none that is "
            "clear for ESR1" in [g.message for g in s.ignored])


def test_a_statement_naming_no_gene_applies_to_every_gene_the_report_lists():
    bm = results(_local_panel("ESR1 PIK3CA mutation panel", "Genes: ESR1, PIK3CA. Result: negative"))
    assert _read(bm) == [("ESR1", "not-detected", None), ("PIK3CA", "not-detected", None)]


def test_a_failed_gene_beside_a_found_variant_is_no_negative():
    s = build_patient_state([patient(), _local_panel(
        "ctDNA mutation panel ESR1 PIK3CA", "PIK3CA H1047R detected; insufficient coverage for ESR1")], PID)
    assert [(r.gene, r.result) for r in s.biomarkers.results] == [("PIK3CA", "detected")]
    assert s.biomarkers.status("ESR1") == "not-tested"


@pytest.mark.parametrize("name", ["BRCA1/2 germline sequencing", "BRCA 1/2 germline mutation analysis",
                                  "BRCA1 and 2 germline mutation analysis"])
def test_a_brca1_2_test_named_with_both_genes_in_one_word_is_a_result_for_both(name):
    # "BRCA1/2" was read as BRCA1 alone ("BRCA 1/2" as no gene): BRCA2 stayed untested
    bm = results(_local_panel(name, "No pathogenic variants identified in BRCA1/2"))
    assert [(r.gene, r.result, r.origin) for r in bm.results] == [
        ("BRCA1", "not-detected", "germline"), ("BRCA2", "not-detected", "germline")]


# --- a negative the report says is not informative ------------------------------------------

@pytest.mark.parametrize("text,note", [
    ("No ESR1 mutation; low tumour fraction, result not informative", None),
    ("Not detected", "Low tumor fraction: a negative result does not exclude a mutation"),
    ("Not detected. Tumor fraction: low", None),
    ("Negative (uninformative: low ctDNA fraction)", None),
])
def test_a_ctdna_negative_the_report_calls_not_informative_is_not_a_negative(text, note):
    extra = {"note": [{"text": note}]} if note else {}
    s = build_patient_state([patient(), variant("HGNC:3467", "ESR1", present=None, value_text=text,
                                                specimen_display="plasma ctDNA", **extra)], PID)
    assert s.biomarkers.status("ESR1") == "not-tested"
    assert ("ESR1 not detected (2021-06-01), but the report says the result is not informative (low tumour "
            "fraction): not read as a negative") in [g.message for g in s.ignored]


def test_a_variant_found_at_a_low_tumour_fraction_is_still_found():
    bm = results(variant("HGNC:3467", "ESR1", present=None, value_text="ESR1 p.Y537S detected. Low tumour fraction.",
                         specimen_display="plasma ctDNA"))
    assert bm.status("ESR1") == "detected"


def test_a_ctdna_negative_with_a_stated_adequate_tumour_fraction_stays_a_negative():
    bm = results(variant("HGNC:3467", "ESR1", present=None, value_text="Not detected. Tumor fraction 12%",
                         specimen_display="plasma ctDNA"))
    assert bm.status("ESR1") == "not-detected-ctdna-only"


# --- a value and an interpretation that disagree ----------------------------------------------

@pytest.mark.parametrize("present,value_text,interp,says", [
    (True, None, cc(coding(V3_INTERPRETATION, "NEG", "Negative")), "the value says detected, the interpretation says not detected"),
    (None, "Detected", cc(coding(LOINC, "LA9634-2", "Absent")), "the value says detected, the interpretation says not detected"),
    (False, None, cc(coding(V3_INTERPRETATION, "POS", "Positive")), "the value says not detected, the interpretation says detected"),
    (None, "Not detected", cc(text="Positive"), "the value says not detected, the interpretation says detected"),
])
def test_a_variant_value_contradicted_by_its_interpretation_is_unclear_not_either_call(present, value_text, interp, says):
    s = build_patient_state([patient(), variant("HGNC:3467", "ESR1", present=present, value_text=value_text,
                                                interpretation=[interp])], PID)
    assert s.biomarkers.status("ESR1") == "not-tested"
    assert f"ESR1 result (2021-06-01) unclear: {says}" in [g.message for g in s.ignored]


@pytest.mark.parametrize("sig", ["LA26333-7", "LA26334-5", "LA6675-8"])
def test_a_vus_or_benign_variant_with_a_negative_interpretation_is_read_as_found_not_pathogenic(sig):
    # "Negative" beside a found VUS / benign variant: no pathogenic variant, which agrees
    bm = results(variant("HGNC:1101", "BRCA2", origin="LA6683-2", significance=sig,
                         interpretation=[cc(coding(V3_INTERPRETATION, "NEG"))]))
    r = bm.for_gene("BRCA2")[0]
    assert (r.result, r.actionable) == ("detected", False)


def test_a_variant_whose_interpretation_agrees_is_read():
    bm = results(variant("HGNC:3467", "ESR1", interpretation=[cc(coding(V3_INTERPRETATION, "POS"))]))
    assert bm.status("ESR1") == "detected"


# --- origin stated in the result's own words ----------------------------------------------------

@pytest.mark.parametrize("text,origin,germline_gap", [
    # stated plainly: the result is the germline test (CR C.3 row 7); it was "unknown origin"
    ("Germline BRCA2 pathogenic variant c.5946delT detected", "germline", False),
    ("BRCA2 c.5946delT, pathogenic, germline", "germline", False),
    ("BRCA2 c.5946delT pathogenic (somatic)", "somatic", True),
    # the labels' prefixes as one word (CR B.6 / B.7 "gBRCAm"): germline, somatic; "tBRCA" is the
    # tumour's, of unknown origin (C.3 row 7); all three were "unknown"
    ("gBRCA2 pathogenic variant c.5946delT", "germline", False),
    ("sBRCA2 c.5946delT pathogenic", "somatic", True),
    ("tBRCA2 c.5946delT pathogenic", "unknown", True),
    # hedged: states no origin
    ("BRCA2 c.5946delT pathogenic; tumor-only, germline status unknown", "unknown", True),
    ("BRCA2 c.5946delT likely pathogenic, germline origin suspected", "unknown", True),
    ("BRCA2 c.5946delT pathogenic; germline testing recommended", "unknown", True),
])
def test_an_origin_the_result_text_states_plainly_is_the_variants_origin(text, origin, germline_gap):
    s = build_patient_state([patient(), variant("HGNC:1101", "BRCA2", present=None, value_text=text)], PID)
    assert s.biomarkers.for_gene("BRCA2")[0].origin == origin
    assert ("brca-germline-not-tested" in {g.code for g in s.gaps}) is germline_gap


# --- one variant with several gene components -----------------------------------------------------

def _variant_with_genes(*genes, **kw):
    ids = {"ESR1": "HGNC:3467", "PIK3CA": "HGNC:8975", "AKT1": "HGNC:391"}
    v = variant(ids[genes[0]], genes[0], **kw)
    v["component"][1:1] = [component("48018-6", valueCodeableConcept=cc(coding(HGNC, ids[g], g))) for g in genes[1:]]
    return v


def test_one_sequence_variant_naming_several_genes_is_unclear_not_a_variant_of_each():
    # the AKT1 E17K change was given to ESR1 and PIK3CA too (elacestrant, alpelisib offered)
    s = build_patient_state([patient(), _variant_with_genes("ESR1", "PIK3CA", "AKT1", protein="p.Glu17Lys")], PID)
    assert s.biomarkers.results == []
    assert ("ESR1/PIK3CA/AKT1 variant (2021-06-01) unclear: one variant names 3 genes and does not say which "
            "carries it" in [g.message for g in s.ignored])


def test_one_sequence_variant_naming_several_genes_belongs_to_the_gene_its_hgvs_names():
    bm = results(_variant_with_genes("ESR1", "AKT1", dna="NM_005163.2(AKT1):c.49G>A"))
    assert [(r.gene, r.result) for r in bm.results] == [("AKT1", "detected")]


def test_a_variant_absent_for_several_gene_components_is_a_negative_for_each():
    bm = results(_variant_with_genes("ESR1", "PIK3CA", present=False))
    assert [(r.gene, r.result) for r in bm.results] == [("ESR1", "not-detected"), ("PIK3CA", "not-detected")]


# --- refuted, free of, hedged, not given -------------------------------------------------------------

@pytest.mark.parametrize("text", ["ESR1 mutation ruled out", "ESR1 mutation excluded", "Free of ESR1 mutations",
                                  "Without detectable ESR1 mutation", "Undetected"])
def test_a_refuted_esr1_mutation_is_a_negative_not_a_variant(text):
    # "mutation" is a detection word: each of these read as an ESR1 variant found
    bm = results(variant("HGNC:3467", "ESR1", present=None, value_text=text))
    assert bm.status("ESR1") == "not-detected"


@pytest.mark.parametrize("text", ["ESR1 mutation suspected", "Possible ESR1 mutation (low VAF, not confirmed)",
                                  "ESR1 mutation cannot be excluded", "ESR1 mutation not ruled out", "ESR1 ?mutation",
                                  "ESR1 mutation equivocal", "ESR1 mutation: see report", "ESR1 mutation - not tested",
                                  "Pending",
                                  # read as a negative ("mutation ... excluded"): the open question
                                  # worded as the vocabulary's not_yet_excluded has it
                                  "ESR1 mutation has not been excluded", "ESR1 mutation is yet to be excluded",
                                  "ESR1 mutation not definitely excluded"])
def test_a_hedged_or_not_given_esr1_result_is_no_result(text):
    s = build_patient_state([patient(), variant("HGNC:3467", "ESR1", present=None, value_text=text)], PID)
    assert s.biomarkers.status("ESR1") == "not-tested"
    assert "ESR1 result is indeterminate or unreadable" in [g.message for g in s.ignored]


@pytest.mark.parametrize("text", ["PIK3CA p.H1047R detected; possible germline variant",
                                  "PIK3CA p.H1047R detected, not confirmed by a second method"])
def test_a_variant_stated_as_found_stays_found_beside_a_hedge_about_something_else(text):
    bm = results(variant("HGNC:8975", "PIK3CA", present=None, value_text=text))
    assert bm.status("PIK3CA") == "detected"


# --- a p. change read from the result's words keeps its case (HGVS is case-sensitive) ----------


@pytest.mark.parametrize("text, protein", [
    ("Detected: p.E545K", "p.E545K"),
    # a clause naming another gene (fix-gx reads such texts gene by gene) does not take the
    # change away from the variant's own gene
    ("Detected: p.E545K. Note: ESR1 testing recommended", "p.E545K"),
    ("PIK3CA p.H1047R detected. ESR1: not detected.", "p.H1047R"),
])
def test_a_protein_change_written_in_the_result_text_is_shown_as_written(text, protein):
    r = results(variant("HGNC:8975", "PIK3CA", present=None, value_text=text)).for_gene("PIK3CA")[0]
    assert (r.result, r.protein_change) == ("detected", protein)


@pytest.mark.parametrize("name", ["gBRCA mutation test", "gBRCAm test"])
def test_a_local_gbrca_test_naming_no_gene_number_is_named_as_a_germline_brca_test_is(name):
    # was: passed over in silence ("gBRCA" was read as no gene); now as "Germline BRCA": named,
    # not read as a BRCA1/2 result (it may be a founder-variant test)
    s = build_patient_state([patient(), observation(cc(text=name), "2023-02-01",
                                                    valueString="BRCA2 pathogenic variant detected")], PID)
    assert s.biomarkers.results == []
    assert any(m.startswith(f"'{name}' (2023-02-01) names BRCA, not BRCA1 or BRCA2") for m in (g.message for g in s.ignored))


def test_a_local_gene_panel_grouping_its_results_by_has_member_is_not_named_as_a_test_with_no_result():
    # was: named 'ESR1 test (2023-02-01) with no result: ... (it may be the order, not its result)'
    # though its member, read on its own, is the ESR1 result (FHIR R4 Observation.hasMember)
    panel = observation(cc(text="ESR1 mutation analysis, plasma"), "2023-02-01", rid="panel1")
    panel["hasMember"] = [{"reference": "Observation/m1"}]
    member = observation(cc(coding(LOINC, "69548-6", "Genetic variant assessment")), "2023-02-01", rid="m1",
                         **answer(LOINC, "LA9633-4", "Present"))
    member["component"] = [component("48018-6", valueCodeableConcept=cc(coding(HGNC, "HGNC:3467", "ESR1")))]
    s = build_patient_state([patient(), panel, member], PID)
    assert s.biomarkers.status("ESR1") == "detected"
    assert not any("with no result" in m.message for m in s.ignored)


# --- one gene found and negative in one text: unclear, not read (CR C.2 step 3) ---------------


@pytest.mark.parametrize("gene_code, gene, text", [
    ("HGNC:3467", "ESR1", "ESR1 p.D538G detected, ESR1 not detected"),
    ("HGNC:3467", "ESR1", "ESR1 not detected, p.Y537S detected (low VAF)"),
    ("HGNC:3467", "ESR1", "ESR1 mutation detected; ESR1 wild type"),
    ("HGNC:8975", "PIK3CA", "PIK3CA H1047R detected; PIK3CA: negative"),
    ("HGNC:1101", "BRCA2", "BRCA2 c.5946delT pathogenic; BRCA2: no pathogenic variant"),
])
def test_a_text_saying_a_gene_both_carries_a_variant_and_is_negative_gives_that_gene_no_result_and_says_so(
        gene_code, gene, text):
    # was: read as one call (the negative, or the finding), the other half of the text unseen
    s = build_patient_state([patient(), variant(gene_code, gene, present=None, value_text=text)], PID)
    assert s.biomarkers.for_gene(gene) == []
    assert any(g.code == "indeterminate-genomic-result" and g.message.startswith(
        f"{gene} result (2021-06-01) unclear: the report says both that {gene} carries a variant and that it is negative")
        for g in s.ignored)


def test_a_panel_text_contradicting_itself_for_one_gene_still_gives_the_other_genes_their_results():
    text = "PIK3CA p.H1047R detected; ESR1 p.D538G detected; ESR1: negative"
    s = build_patient_state([patient(), variant(None, present=None, value_text=text)], PID)
    assert [(r.gene, r.result, r.protein_change) for r in s.biomarkers.results] == [("PIK3CA", "detected", "p.H1047R")]
    assert any(g.message.startswith("ESR1 result (2021-06-01) unclear: the report says both that ESR1 carries a "
                                    "variant and that ESR1 is negative ('ESR1 p.D538G detected; ESR1: negative')")
               for g in s.ignored)


@pytest.mark.parametrize("text, expected", [
    ("ESR1 p.D538G detected, p.Y537S not detected", ("detected", "p.D538G")),  # two variants of one gene
    ("PIK3CA not detected, ESR1 p.D538G detected", ("detected", "p.D538G")),  # one result per gene
    ("ESR1 not detected (previously detected 2023)", ("not-detected", None)),  # today's result and a history
])
def test_a_text_with_one_clear_result_per_gene_is_read_as_before(text, expected):
    r = results(variant("HGNC:3467", "ESR1", present=None, value_text=text)).for_gene("ESR1")[0]
    assert (r.result, r.protein_change) == expected


@pytest.mark.parametrize("gene_code, gene, text", [
    ("HGNC:1101", "BRCA2", "BRCA2 no pathogenic variant"),
    ("HGNC:1101", "BRCA2", "BRCA2 - no pathogenic variant detected"),
    ("HGNC:1100", "BRCA1", "BRCA1 no mutation identified"),
])
def test_a_no_written_after_its_gene_is_a_negative_not_a_pathogenic_variant(gene_code, gene, text):
    # was: "pathogenic variant" read as a finding past the "no" (a BRCA2 pathogenic variant,
    # a PARP inhibitor's selection, on a negative)
    r = results(variant(gene_code, gene, present=None, value_text=text)).for_gene(gene)[0]
    assert (r.result, r.significance) == ("not-detected", "not-reported")


@pytest.mark.parametrize("gene_code, gene, text", [
    ("HGNC:3467", "ESR1", "ESR1 not detected, possible p.Y537S"),
    ("HGNC:3467", "ESR1", "ESR1: negative, ?p.Y537S at 0.3% VAF"),
    ("HGNC:3467", "ESR1", "ESR1 wild type; likely p.D538G subclonal"),
    ("HGNC:8975", "PIK3CA", "PIK3CA negative; H1047R suspected at low VAF"),
    ("HGNC:8975", "PIK3CA", "PIK3CA not detected (possible H1047R below LOD)"),
])
def test_a_negative_beside_a_change_named_as_possible_gives_that_gene_no_result_and_quotes_it(gene_code, gene, text):
    # was: read "not detected" (the negative), the possible variant unseen: the gene was counted
    # tested negative (no ESR1 re-test, elacestrant withheld; PIK3CA not asked again)
    s = build_patient_state([patient(), variant(gene_code, gene, present=None, value_text=text)], PID)
    assert s.biomarkers.for_gene(gene) == []
    assert any(g.code == "indeterminate-genomic-result" and g.message == (
        f"{gene} result (2021-06-01) unclear: the report says that {gene} is negative and names a variant of it "
        f"as only possible ('{text}')") for g in s.ignored)


def test_a_panel_negative_for_one_gene_beside_its_possible_change_still_gives_the_other_genes_their_results():
    text = "PIK3CA p.H1047R detected; ESR1 not detected; possible ESR1 p.Y537S"
    s = build_patient_state([patient(), variant(None, present=None, value_text=text)], PID)
    assert [(r.gene, r.result) for r in s.biomarkers.results] == [("PIK3CA", "detected")]
    assert any(g.message.startswith("ESR1 result (2021-06-01) unclear: the report says that ESR1 is negative and "
                                    "names a variant of it as only possible") for g in s.ignored)


@pytest.mark.parametrize("text, expected", [
    ("ESR1 p.Y537S detected, likely pathogenic", ("detected", "p.Y537S")),
    ("ESR1 not detected", ("not-detected", None)),
])
def test_a_likely_pathogenic_class_or_a_plain_negative_is_no_hedged_change(text, expected):
    r = results(variant("HGNC:3467", "ESR1", present=None, value_text=text)).for_gene("ESR1")[0]
    assert (r.result, r.protein_change) == expected


@pytest.mark.parametrize("gene_code, gene, text", [
    ("HGNC:8975", "PIK3CA", "PIK3CA wild type; KRAS G12D possible"),
    ("HGNC:8975", "PIK3CA", "PIK3CA not detected; NRAS p.Q61K (possible)"),
    ("HGNC:3467", "ESR1", "ESR1 not detected; TP53 R175H suspected"),
])
def test_a_negative_beside_another_genes_change_named_as_possible_stays_the_genes_negative(gene_code, gene, text):
    # since rd2 the possible change of another gene (one the reader does not read) voided this
    # gene's negative: "PIK3CA result unclear: ... names a variant of it as only possible" or
    # indeterminate, and PIK3CA asked again, though a *detected* KRAS G12D leaves it negative (rt34)
    r = results(variant(gene_code, gene, present=None, value_text=text)).for_gene(gene)[0]
    assert r.result == "not-detected"


@pytest.mark.parametrize("text", ["ESR1 not detected; ESR1 p.Y537S possible", "ESR1 not detected; mutation Y537S possible",
                                  "ESR1 not detected, Y537S possible"])
def test_a_negative_beside_its_own_change_named_as_possible_after_the_gene_is_still_unclear(text):
    s = build_patient_state([patient(), variant("HGNC:3467", "ESR1", present=None, value_text=text)], PID)
    assert s.biomarkers.for_gene("ESR1") == []


@pytest.mark.parametrize("text", ["PIK3CA p.H1047R detected; No ESR1 mutation detected",
                                  "PIK3CA p.H1047R detected. No ESR1 mutation detected",
                                  "PIK3CA p.H1047R detected; no ESR1 mutation"])
def test_a_no_opening_a_later_clause_after_its_space_is_that_genes_negative_not_a_variant(text):
    # the clause " No ESR1 mutation detected" (cut at ";" or ". ") kept its leading space, and its
    # "no" was read only at the very start: ESR1 was read detected and elacestrant offered
    s = build_patient_state([patient(), observation(cc(text="PIK3CA and ESR1 mutation test"), "2021-06-01",
                                                    valueString=text)], PID)
    assert {(r.gene, r.result) for r in s.biomarkers.results} == {("PIK3CA", "detected"), ("ESR1", "not-detected")}
