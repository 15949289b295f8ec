"""The her2-unknown gap says "No HER2 result recorded" only when no HER2 test is recorded: a HER2
Observation that is there but gives nothing readable (no value) or is not final yet is a result
recorded and not read (FHIR R4 Observation.value[x], Observation.status), said as such, never
beside "HER2 IHC 1+ ... not final" as if nothing were recorded (CR C.2 step 0: HER2 status unknown,
testing)."""

from __future__ import annotations

import pytest

from mappings import build_patient_state
from tests.mappings.builders import PID, data_absent, loinc_obs, metastatic_patient, patient, text_value

HER2_IHC = "85319-2"  # mappings/codes.yaml tumor_markers (CR A.1)


def her2_gap(*records) -> str:
    er = loinc_obs("16112-5", **text_value("Positive"))
    state = build_patient_state([patient(), *metastatic_patient(), er, *records], PID)
    [gap] = [g.message for g in state.gaps if g.code == "her2-unknown"]
    return gap


def test_with_no_her2_record_the_gap_says_no_her2_result_is_recorded():
    assert her2_gap().startswith("No HER2 result recorded")


def test_a_her2_record_not_performed_is_no_result_recorded():
    # dataAbsentReason not-performed: listed as not used, and no result is recorded
    assert her2_gap(data_absent(loinc_obs(HER2_IHC))).startswith("No HER2 result recorded")


@pytest.mark.parametrize("record", [
    loinc_obs(HER2_IHC),                                          # final, no value
    loinc_obs(HER2_IHC, status="preliminary", **text_value("1+")),  # not final (its own gap names it)
    loinc_obs(HER2_IHC, status="registered"),
])
def test_a_her2_record_with_nothing_readable_is_not_said_to_be_missing(record):
    # before: 'No HER2 result recorded: HER2 status unknown (testing, CR C.2 step 0).' beside, for the
    # preliminary one, 'HER2 IHC 1+ (2020-02-01, status preliminary): not final, so not read'
    gap = her2_gap(record)
    assert not gap.startswith("No HER2 result recorded"), gap
    assert gap.startswith("HER2 result without an IHC score, ISH or interpretation that can be read"), gap
    assert "HER2 status unknown" in gap
