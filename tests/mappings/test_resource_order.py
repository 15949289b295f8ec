"""mappings/build._accept reads a plain list of resources in one pass and checks a resource's
type only when it differs from the previous resource's (resources come grouped by type); a
Bundle, or a list with anything odd in it, is read the general way (_flatten first). Whatever
the order of the types, both ways must skip, dedup and count the same."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import LOINC, PID, answer, breast_cancer, loinc_obs, metastasis, patient

AS_OF = dt.date(2026, 11, 20)
OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}


def _er(status="final", rid=None, **extra):
    return loinc_obs("85337-4", "2024-01-05", rid=rid, status=status, **answer(LOINC, "LA6576-8"), **extra)


def _orders():
    cancer, liver = breast_cancer(rid="c-breast"), metastasis("94381002", "Liver", rid="c-liver")
    return {
        "types-back-and-forth": [patient(), cancer, _er(rid="o1"), liver, _er("ENTERED-IN-ERROR", rid="o2"),
                                 breast_cancer(rid="c-other", subject={"reference": "Patient/x"})],
        "outcome-between-one-type": [patient(), cancer, OUTCOME, liver, OUTCOME, OUTCOME, _er("Cancelled ", rid="o3")],
        "outcome-first": [OUTCOME, patient(), _er("cancelled", rid="o4"), _er("unknown", rid="o5"), _er("draft", rid="o6")],
        "empty-type-within-a-run": [patient(), cancer, {"resourceType": "", "id": "e"}, liver],
        "not-a-resource-within-a-run": [patient(), cancer, "Condition", liver],
        "bundle-within-a-run": [patient(), _er(rid="o7"), {"resourceType": "Bundle", "entry": [{"resource": liver}]},
                                _er(rid="o8")],
        "copies-apart": [patient(), _er(rid="o9", meta={"versionId": "1"}), cancer,
                         _er("entered-in-error", rid="o9", meta={"versionId": "2"}), _er(rid="o9", meta={"versionId": "1"})],
        "patient-between": [cancer, patient(), liver, patient("x"), _er(rid="o10")],
    }


@pytest.mark.parametrize("name", list(_orders()))
def test_resources_read_the_same_as_a_list_or_as_a_bundle_whatever_the_order_of_their_types(name):
    resources = _orders()[name]
    from_list = build_patient_state(copy.deepcopy(resources), PID, AS_OF)
    from_bundle = build_patient_state({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]},
                                      PID, AS_OF)
    assert from_list.model_dump() == from_bundle.model_dump()


def test_a_miscased_entered_in_error_and_another_patient_s_condition_are_skipped_between_type_changes():
    state = build_patient_state(_orders()["types-back-and-forth"], PID, AS_OF)
    assert [(g.code, g.sources[0].reference) for g in state.ignored] == [
        ("entered-in-error", "Observation/o2"), ("other-patient", "Condition/c-other")]
    assert state.resource_counts == {"Patient": 1, "Condition": 2, "Observation": 1}


def test_operation_outcomes_between_resources_of_one_type_neither_count_nor_split_them():
    state = build_patient_state(_orders()["outcome-between-one-type"], PID, AS_OF)
    assert state.resource_counts == {"Patient": 1, "Condition": 2}
    assert [(g.code, g.sources[0].reference) for g in state.ignored] == [("not-given", "Observation/o3")]
