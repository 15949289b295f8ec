"""An ER / PR / HER2 test coded only by text (FHIR R4 CodeableConcept.text, no coding: "HER2 IHC",
"Estrogen receptor") is a result recorded: the readers read a result by its LOINC code (CR A.1),
which says which test it is, so it is not read, and named with its value (gaps her2-test-uncoded /
receptor-test-uncoded). Before, it was dropped unseen: "No HER2 result recorded" beside it."""

from __future__ import annotations

import pytest

from mappings import build_patient_state
from tests.mappings.builders import (
    PID, cc, loinc_obs, metastatic_patient, observation, patient, quantity, text_value,
)


def gaps(*records) -> dict[str, str]:
    state = build_patient_state([patient(), *metastatic_patient(), *records], PID)
    return {g.code: g.message for g in state.gaps}


@pytest.mark.parametrize("name,value,written", [
    ("HER2 IHC", text_value("1+"), "1+"),
    ("HER2/neu by immunohistochemistry", {"valueString": "HER2 1+ (low)"}, "HER2 1+ (low)"),
    ("HER2 FISH", {"valueString": "Not amplified"}, "Not amplified"),
])
def test_a_her2_test_coded_only_by_text_is_named_and_never_said_to_be_missing(name, value, written):
    g = gaps(observation(cc(text=name), "2024-03-01", **value))
    assert not g["her2-unknown"].startswith("No HER2 result recorded")
    assert g["her2-unknown"].startswith("HER2 result recorded without a LOINC code (named above)")
    assert f"HER2 result recorded without a code: '{name}' reads '{written}' (2024-03-01)" in g["her2-test-uncoded"]
    assert "HER2 status unknown" in g["her2-test-uncoded"]


@pytest.mark.parametrize("name,label", [("Estrogen receptor", "ER"), ("ER by IHC", "ER"),
                                        ("Progesterone receptor", "PR"), ("PR status", "PR")])
def test_an_er_or_pr_test_coded_only_by_text_is_named_with_its_value(name, label):
    g = gaps(observation(cc(text=name), "2024-03-01", valueString="Positive, 90%"))
    assert (f"{label} result recorded without a code: '{name}' reads 'Positive, 90%' (2024-03-01)"
            in g["receptor-test-uncoded"])
    assert f"{label} status unknown" in g["receptor-test-uncoded"]


def test_an_older_uncoded_her2_text_beside_a_later_coded_result_is_not_named():
    g = gaps(loinc_obs("85319-2", "2024-05-01", **text_value("1+")),
             observation(cc(text="HER2 IHC"), "2023-01-01", valueString="0"))
    assert "her2-test-uncoded" not in g


def test_a_newer_uncoded_her2_text_beside_a_coded_result_says_which_result_is_used():
    g = gaps(loinc_obs("85319-2", "2023-01-01", **text_value("1+")),
             observation(cc(text="HER2 IHC"), "2024-05-01", valueString="3+"))
    assert "'HER2 IHC' reads '3+' (2024-05-01), not read" in g["her2-test-uncoded"]
    assert "the result of 2023-01-01 is used" in g["her2-test-uncoded"]


@pytest.mark.parametrize("name,value", [
    ("PR interval", quantity(160, "ms")), ("ER visit", {"valueString": "yes"}),
    ("HER2 serum", quantity(12, "ng/mL")), ("ERBB2 mutation", {"valueString": "not detected"}),
    ("NEU %", quantity(60)), ("HER2 IHC", {}),
])
def test_texts_that_are_not_a_tissue_receptor_test_or_have_no_value_are_not_named(name, value):
    g = gaps(observation(cc(text=name), "2024-03-01", **value))
    assert "her2-test-uncoded" not in g and "receptor-test-uncoded" not in g


def test_a_her2_test_named_by_a_display_alone_or_with_only_a_local_code_is_named_too():
    # a coding with a display and no code is text; a local code no reader looks up (LOINC only, CR A.1)
    # left the same 'No HER2 result recorded' beside a recorded 'HER2 IHC' '1+'
    g = gaps(observation({"coding": [{"display": "HER2 IHC"}]}, "2024-03-01", valueString="1+"))
    assert "HER2 result recorded without a code: 'HER2 IHC' reads '1+' (2024-03-01)" in g["her2-test-uncoded"]
    g = gaps(observation(cc({"system": "urn:oid:1.2.3", "code": "HER2IHC"}, text="HER2 IHC"), "2024-03-01",
                         valueString="1+"))
    assert ("HER2 result recorded with only a local code ('HER2IHC' (urn:oid:1.2.3)): 'HER2 IHC' reads '1+'"
            in g["her2-test-uncoded"])
    assert not g["her2-unknown"].startswith("No HER2 result recorded")


def test_a_her2_text_under_a_standard_code_of_another_test_is_left_to_its_reader():
    g = gaps(observation(cc({"system": "http://loinc.org", "code": "48018-6"}, text="HER2"), "2024-03-01",
                         valueString="amplified"))
    assert "her2-test-uncoded" not in g


def test_the_uncoded_test_reader_looks_only_at_observations_without_a_loinc_or_snomed_code(monkeypatch):
    # it passed over every Observation on every call (~250 on a 300-resource patient) to find the
    # few coded only by text or a local code; those are now collected in the pass building the code index
    from mappings import markers
    seen: list[list[tuple[str, str, str]]] = []
    real = markers._local_codes_only
    monkeypatch.setattr(markers, "_local_codes_only", lambda cods: seen.append(cods) or real(cods))
    labs = [loinc_obs("2160-0", f"2024-01-{d:02d}", **quantity(1.0, "mg/dL")) for d in range(1, 29)]
    snomed = observation(cc({"system": "http://snomed.info/sct", "code": "416940007"}), "2024-02-01",
                         valueString="x")
    g = gaps(*labs, snomed, observation(cc(text="HER2 IHC"), "2024-03-01", valueString="1+"),
             observation(cc({"system": "urn:oid:1.2.3", "code": "HER2IHC"}, text="HER2 IHC"), "2024-03-02",
                         valueString="2+"))
    assert "'HER2 IHC' reads '2+' (2024-03-02)" in g["her2-test-uncoded"]
    assert seen == [[], [("urn:oid:1.2.3", "HER2IHC", "")]]


def test_a_coding_with_an_unreadable_system_is_looked_at_and_breaks_nothing():
    g = gaps(observation({"coding": [{"system": {"x": 1}, "code": "HER2IHC"}], "text": "HER2 IHC"}, "2024-03-01",
                         valueString="1+"))
    assert "her2-unknown" in g


@pytest.mark.parametrize("name,value", [
    ("Troponin result ER", quantity(0.01, "ng/mL")), ("Lactate result ER", quantity(2.1, "mmol/L")),
    ("Blood pressure result PR", {"valueString": "120/80"}), ("Glucose by ER", quantity(5.4, "mmol/L")),
    ("Admission status ER", {"valueString": "admitted"}), ("PR by ECG", quantity(160, "ms")),
    ("ECG: PR result", quantity(160, "ms")), ("ER score (triage)", {"valueString": "2"}),
    ("ERBB2 amplification (ctDNA)", {"valueString": "not detected"}), ("HER2 liquid biopsy", {"valueString": "neg"}),
    ("HER2 cfDNA", {"valueString": "neg"}), ("HER2 blood test", quantity(12, "ng/mL")),
])
@pytest.mark.parametrize("local", [True, False])
def test_an_emergency_room_lab_or_a_blood_her2_test_is_not_named_as_a_receptor_test(name, value, local):
    # 'result ER' read as an ER test: 'ER result recorded ...: 'Troponin result ER' reads '0.01 ng/mL''; a
    # ctDNA / liquid-biopsy ERBB2 test is no tissue HER2 test (CR A.1 reads HER2 on tissue; the serum one is
    # skipped), yet said 'HER2 result recorded' in place of 'No HER2 result recorded'
    code = cc({"system": "urn:oid:1.2.3", "code": "LAB1"}, text=name) if local else cc(text=name)
    g = gaps(observation(code, "2024-03-01", **value))
    assert "her2-test-uncoded" not in g and "receptor-test-uncoded" not in g
    assert g["her2-unknown"].startswith("No HER2 result recorded")


@pytest.mark.parametrize("name,label", [("Receptor status ER", "ER"), ("IHC ER", "ER"), ("Allred score ER", "ER"),
                                        ("ER result", "ER"), ("Staining PR", "PR"), ("% ER", "ER")])
def test_a_receptor_named_after_a_stain_or_receptor_word_is_still_named(name, label):
    g = gaps(observation(cc(text=name), "2024-03-01", valueString="Positive"))
    assert f"{label} result recorded without a code: '{name}' reads 'Positive'" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("value,written", [({"valueInteger": 3}, "3"), ({"valueInteger": 0}, "0"),
                                           ({"valueBoolean": True}, "true"),
                                           ({"valueRatio": {"numerator": {"value": 2.3}, "denominator": {"value": 1}}},
                                            "2.3/1")])
def test_a_her2_test_coded_only_by_text_with_an_integer_boolean_or_ratio_value_is_named(value, written):
    # valueInteger / valueBoolean / valueRatio (FHIR R4 Observation.value[x], each read by the coded
    # readers) were not seen as a value: 'HER2 IHC score' = 3 said 'No HER2 result recorded'
    g = gaps(observation(cc(text="HER2 IHC score"), "2024-03-01", **value))
    assert f"HER2 result recorded without a code: 'HER2 IHC score' reads '{written}' (2024-03-01)" in g["her2-test-uncoded"]
    assert not g["her2-unknown"].startswith("No HER2 result recorded")


@pytest.mark.parametrize("status", ["preliminary", "registered", "unknown"])
def test_an_uncoded_her2_test_not_final_is_named_with_its_status(status):
    # a preliminary 'HER2 IHC' '3+' was named as any recorded result, its status unsaid (the coded one
    # is 'awaited': FHIR R4 ObservationStatus, gap receptor-result-not-final)
    g = gaps(observation(cc(text="HER2 IHC"), "2024-03-01", status=status, valueString="3+"))
    assert f"'HER2 IHC' reads '3+' (2024-03-01, status {status}: not final), not read" in g["her2-test-uncoded"]


@pytest.mark.parametrize("panel", [cc(text="Breast biomarker panel"), cc({"system": "http://loinc.org", "code": "85336-6"}),
                                   cc({"system": "urn:oid:1.2.3", "code": "BRPANEL"}, text="Breast panel")])
def test_a_her2_or_er_component_coded_only_by_text_is_named_and_never_said_to_be_missing(panel):
    # a panel's component 'HER2 IHC' = '3+' coded only by text (FHIR R4 Observation.component.code) was
    # dropped unseen: 'No HER2 result recorded' beside it, as the top-level one was before fix-gx12
    comps = [{"code": cc(text="HER2 IHC"), "valueString": "3+"},
             {"code": cc(text="Estrogen receptor"), "valueString": "positive 90%"},
             {"code": cc({"system": "http://loinc.org", "code": "8480-6"}, text="HER2 systolic"), "valueString": "1"}]
    g = gaps(observation(panel, "2024-01-01", component=comps))
    assert "HER2 result recorded without a code: 'HER2 IHC' reads '3+' (2024-01-01)" in g["her2-test-uncoded"]
    assert "'HER2 systolic'" not in g["her2-test-uncoded"]
    assert "ER result recorded without a code: 'Estrogen receptor' reads 'positive 90%'" in g["receptor-test-uncoded"]
    assert g["her2-unknown"].startswith("HER2 result recorded without a LOINC code (named above)")


@pytest.mark.parametrize("name,value", [
    # gx13: 'ER Status' = 'discharged' (the emergency room's clinical-status field) was named 'ER result
    # recorded without a code: 'ER Status' reads 'discharged'', 'ER status unknown' beside it: 'ER status'
    # alone names no receptor test, so only a value that reads as a result (CR A.1 / Allred row) makes one
    ("ER Status", {"valueString": "discharged"}), ("ER Status", {"valueCodeableConcept": {"text": "Discharged"}}),
    ("ER status", {"valueString": "admitted"}), ("PR status", {"valueString": "discharged"}),
    ("ER result", {"valueString": "Left AMA"}), ("ER status", {"valueString": "in triage"}),
    # 'PR result' = 160 ms (the ECG's PR interval) was named 'PR result recorded without a code'; a receptor
    # is read as a % of cells or a score (CR A.1 Allred row)
    ("PR result", quantity(160, "ms")), ("PR status", {"valueString": "160 ms"}), ("PR result", quantity(88, "mmHg")),
    ("ER status", {"valueString": "5.4 mmol/L"}),
    # 'PR' = 72 is the pulse rate (or the ECG's PR interval), 'ER' = 3 a count of emergency-room visits
    ("PR", {"valueString": "72"}), ("PR", quantity(72, "/min")), ("PR", quantity(160, "ms")),
    ("ER", {"valueInteger": 3}), ("ER", {"valueString": "discharged"}), ("ER", {"valueString": "Seen"}),
    ("PR", {"valueString": "regular"}),
    # a name that is only 'ER' / 'PR' valued as awaited: no receptor call (rt78)
    ("ER", {"valueString": "Pending"}), ("PR", {"valueString": "See report"}),
    # a gene test, a serum hormone or an urgent order under a receptor-like name (gx14)
    ("ESR1 mutation", {"valueString": "Positive"}), ("ESR1 ctDNA", {"valueString": "detected"}),
    ("ESR1", {"valueString": "Positive"}), ("Estrogen", {"valueString": "150 pg/mL"}),
    ("ER Stat", {"valueString": "discharged"}), ("PR stat", {"valueString": "72"}),
    ("Troponin ER stat", {"valueString": "0.01"}), ("Percent ER visits", {"valueString": "12"}),
    ("Thyroid stimulating hormone receptor Ab", {"valueString": "Positive"}),
    ("Hormone receptor antibody", {"valueString": "Positive"}), ("Pain intensity ER", {"valueString": "7"}),
    ("Percent ER occupancy", {"valueString": "85"}),
    # a heart rate named 'HR' (gx14)
    ("HR status", {"valueString": "72"}), ("HR", quantity(72, "/min")), ("HR status", {"valueString": "regular"}),
    ("Heart rate status", {"valueString": "Positive"}),
])
def test_a_name_and_value_that_read_as_no_receptor_result_are_not_named_as_a_receptor_test(name, value):
    g = gaps(observation(cc(text=name), "2024-03-01", **value))
    assert "receptor-test-uncoded" not in g


@pytest.mark.parametrize("name,value,written", [
    ("ER status", {"valueString": "Positive"}, "Positive"), ("ER Status", {"valueString": "neg"}, "neg"),
    ("ER status", {"valueString": "Allred 7/8"}, "Allred 7/8"), ("PR status", {"valueString": "low (5%)"}, "low (5%)"),
    ("ER status", quantity(90, "%"), "90 %"), ("ER result", {"valueString": "H-score 150"}, "H-score 150"),
    ("ER status", {"valueString": "weak staining"}, "weak staining"), ("ER status", {"valueBoolean": True}, "true"),
    ("Estrogen receptor", {"valueString": "discharged"}, "discharged"),
    ("ER by IHC", {"valueString": "discharged"}, "discharged"),
    ("ER/PR status", {"valueString": "see report"}, "see report"),
    # named before gx13, dropped unseen after it ('No ER result recorded' beside a result in a report
    # or on its way): naming the record is the safe side (CR A.1)
    ("ER status", {"valueString": "See report"}, "See report"),
    ("ER Status", {"valueString": "see pathology report"}, "see pathology report"),
    ("PR status", {"valueString": "Pending"}, "Pending"),
    ("ER result", {"valueString": "Not performed"}, "Not performed"), ("ER status", {"valueString": "QNS"}, "QNS"),
    ("PR status", {"valueString": "focal staining"}, "focal staining"),
])
def test_an_er_status_valued_as_a_receptor_result_or_a_clearly_named_receptor_test_is_still_named(name, value, written):
    g = gaps(observation(cc(text=name), "2024-03-01", **value))
    assert f"result recorded without a code: '{name}' reads '{written}' (2024-03-01)" in g["receptor-test-uncoded"]


_V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


@pytest.mark.parametrize("interpretation,written", [
    ({"coding": [{"system": _V3_INTERPRETATION, "code": "POS"}]}, "POS"),
    ({"coding": [{"system": _V3_INTERPRETATION, "code": "NEG", "display": "Negative"}]}, "Negative"),
    ({"text": "Positive"}, "Positive"),
])
def test_an_uncoded_her2_test_with_only_an_interpretation_is_named_and_never_said_to_be_missing(interpretation, written):
    # gx13: 'HER2 IHC' with no value and interpretation POS (FHIR R4 Observation.interpretation) was
    # dropped unseen: 'No HER2 result recorded' beside it; named now as the uncoded results with a value
    # are, never read as a result
    g = gaps(observation(cc(text="HER2 IHC"), "2024-03-01", interpretation=[interpretation]))
    assert (f"HER2 result recorded without a code: 'HER2 IHC' reads interpretation '{written}' (2024-03-01), not read"
            in g["her2-test-uncoded"])
    assert "HER2 status unknown" in g["her2-test-uncoded"]
    assert g["her2-unknown"].startswith("HER2 result recorded without a LOINC code (named above)")


def test_an_er_status_field_with_an_interpretation_that_reads_as_no_result_is_not_named():
    g = gaps(observation(cc(text="ER status"), "2024-03-01",
                         interpretation=[{"coding": [{"system": _V3_INTERPRETATION, "code": "A"}]}]))
    assert "receptor-test-uncoded" not in g
    g = gaps(observation(cc(text="ER status"), "2024-03-01", interpretation=[{"text": "Positive"}]))
    assert "ER result recorded without a code: 'ER status' reads interpretation 'Positive'" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("value,written", [
    (quantity(2, "{score}"), "2 {score}"), ({"valueInteger": 7}, "7"),
    ({"valueString": "90 % of cells"}, "90 % of cells"),
    # rt78: the word after the number was taken for a unit, so '90 positive' read as 90 in the unit
    # 'positive' and was dropped unseen (named before gx13); a call, an intensity or 'of 8' (Allred) is no unit
    ({"valueString": "90 positive"}, "90 positive"), ({"valueString": "0 negative"}, "0 negative"),
    ({"valueString": "7 out of 8"}, "7 out of 8"), ({"valueString": "3 strong"}, "3 strong"),
    ({"valueString": "1 weak"}, "1 weak"), ({"valueString": "5 low"}, "5 low"),
])
def test_an_er_status_field_valued_as_a_score_or_a_number_then_a_receptor_word_is_still_named(value, written):
    g = gaps(observation(cc(text="ER status"), "2024-03-01", **value))
    assert f"ER result recorded without a code: 'ER status' reads '{written}'" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("value,written", [
    ({"valueString": "90"}, "90"), ({"valueInteger": 90}, "90"), ({"valueQuantity": {"value": 90}}, "90"),
    (quantity(90, "1"), "90 1"), ({"valueString": "7/8"}, "7/8"), ({"valueString": "2+"}, "2+"),
    ({"valueString": "10"}, "10"),
])
def test_an_er_status_field_valued_with_a_bare_number_a_score_or_an_intensity_is_still_named(value, written):
    # rt78: the number-and-unit pattern of gx13 backtracked into the number ('90' read as 9 in the unit
    # '0', '7/8' as 7 in '/8', '2+' as 2 in '+'), so a bare % / Allred score / intensity under 'ER status'
    # read as a number in another unit and was dropped unseen: 'No readable ER result' beside it (named
    # before gx13). Only a unit word (ms, mmHg, mmol/L) says another measure
    g = gaps(observation(cc(text="ER status"), "2024-03-01", **value))
    assert f"ER result recorded without a code: 'ER status' reads '{written}' (2024-03-01)" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("name,label", [
    # rt78: 'ER Status (IHC)' = 'See report' (named before gx13) was dropped unseen: the stain word after
    # 'status' did not count, so the value had to read as a result; the stain says a receptor test as
    # 'ER IHC' does
    ("ER Status (IHC)", "ER"), ("ER result by IHC", "ER"), ("ER status - IHC", "ER"),
    ("PR Status (immunohistochemistry)", "PR"), ("ER score (% stained)", "ER"),
    # gx14: 'ER Allred' / 'PR H-score' / 'ER nuclear staining' = 'See report' (or '7', '150') were dropped
    # unseen, 'No readable ER result' beside them: an Allred score, an H-score, a % of cells or a staining
    # intensity is read only of a receptor stain (CR A.1 rows % positive cells, staining intensity, Allred)
    ("ER Allred", "ER"), ("ER H-score", "ER"), ("ER quick score", "ER"), ("ER percent", "ER"), ("ER intensity", "ER"),
    ("ER proportion", "ER"), ("ER nuclear staining", "ER"), ("PgR Allred", "PR"), ("PR H-score", "PR"),
    ("ESR1 IHC", "ER"), ("ER-alpha IHC", "ER"), ("ER pct", "ER"), ("ER positive cells", "ER"),
])
def test_an_er_or_pr_named_with_its_stain_or_a_word_only_a_stain_is_read_in_is_named_whatever_its_value(name, label):
    g = gaps(observation(cc(text=name), "2024-03-01", valueString="See report"))
    assert f"{label} result recorded without a code: '{name}' reads 'See report' (2024-03-01)" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("name", ["ER/PR", "ER/PgR", "ER and PR status", "ER & PR"])
def test_an_uncoded_er_and_pr_pair_names_both_receptors(name):
    # rt78: 'ER/PR' = 'Positive (90%)' named the PR test only: the ER's own result dropped unseen, 'No
    # readable ER result' beside it; 'ER and PR status' the same
    g = gaps(observation(cc(text=name), "2024-03-01", valueString="Positive (90%)"))
    for label in ("ER", "PR"):
        assert f"{label} result recorded without a code: '{name}' reads 'Positive (90%)'" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("name,label", [("ER, IHC", "ER"), ("PR, IHC", "PR"), ("ER, by IHC", "ER")])
def test_an_er_or_pr_test_named_with_a_comma_before_its_stain_is_named(name, label):
    g = gaps(observation(cc(text=name), "2024-03-01", valueString="Negative"))
    assert f"{label} result recorded without a code: '{name}' reads 'Negative'" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("name,label,value", [
    ("ER", "ER", "Positive (90%)"), ("ER:", "ER", "Neg"), ("PR", "PR", "Negative (<1%)"), ("PgR", "PR", "positive, 40%"),
    ("ER", "ER", "ER-low"), ("PR", "PR", "Allred 7/8"), ("ER", "ER", "ER+/PR-"),
])
def test_a_test_named_only_er_or_pr_valued_as_a_receptor_call_is_named(name, label, value):
    # rt78: a pathology result sent as 'ER' = 'Positive (90%)' (the name alone, as an HL7 v2 OBX text) was
    # dropped unseen: 'No readable ER result' beside it
    g = gaps(observation(cc(text=name), "2024-03-01", valueString=value))
    assert f"{label} result recorded without a code: '{name}' reads '{value}'" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("name,label", [
    ("ER positivity", "ER"), ("ER alpha", "ER"), ("Estrogen Rcptr", "ER"), ("Estrogen rec", "ER"),
    ("Oestrogen Rec.", "ER"), ("Progesterone rec", "PR"), ("ER Stat", "ER"), ("ER % positive", "ER"),
    ("ER total score", "ER"),
])
def test_an_er_or_pr_under_another_of_its_names_valued_as_a_receptor_result_is_named(name, label):
    # gx14: 'ER alpha' / 'Estrogen rec' / 'ER Stat' = 'Positive' was dropped unseen, 'No readable ER result'
    # beside it (CR A.1)
    g = gaps(observation(cc(text=name), "2024-03-01", valueString="Positive"))
    assert f"{label} result recorded without a code: '{name}' reads 'Positive' (2024-03-01)" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("name,value", [
    ("Hormone receptor status", "Positive"), ("Hormone receptor status", "see report"), ("HR status", "Positive"),
    ("HR", "Negative (<1%)"), ("HR (IHC)", "ER+ PR+"), ("HR status", "ER+/PR-"),
])
def test_a_hormone_receptor_result_names_both_the_er_and_the_pr_test(name, value):
    # gx14: 'Hormone receptor status' / 'HR status' = 'Positive' (ER and PR together: CR A.1 'ER+PR combined
    # IHC' row) was dropped unseen, 'No readable ER result' beside it
    g = gaps(observation(cc(text=name), "2024-03-01", valueString=value))
    for label in ("ER", "PR"):
        assert f"{label} result recorded without a code: '{name}' reads '{value}' (2024-03-01)" in g["receptor-test-uncoded"]


@pytest.mark.parametrize("value", [
    {"valueCodeableConcept": {"coding": [{"system": _V3_INTERPRETATION, "code": "IND"}]}},
    {"interpretation": [{"coding": [{"system": _V3_INTERPRETATION, "code": "IND"}]}]},
    {"valueString": "IND"},
])
def test_an_er_status_field_valued_indeterminate_by_its_v3_code_is_named(value):
    # gx14: 'ER status' = IND (v3-ObservationInterpretation Indeterminate, no display) was dropped unseen
    # while 'Indeterminate' written out was named
    g = gaps(observation(cc(text="ER status"), "2024-03-01", **value))
    assert "ER result recorded without a code: 'ER status' reads " in g["receptor-test-uncoded"]
    assert "'IND' (2024-03-01)" in g["receptor-test-uncoded"]
