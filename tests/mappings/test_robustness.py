"""Bad input of any kind: never raise, read what can be read, say what was skipped."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings import build_patient_state, read_draft_orders
from mappings.state import PatientState
from tests.conftest import REAL_PATIENT_FILE, REAL_PATIENT_ID
from tests.mappings.builders import (
    LOINC, PID, SNOMED, answer, breast_cancer, cc, coding, loinc_obs, med_statement, patient,
)

REAL = [e["resource"] for e in json.loads(REAL_PATIENT_FILE.read_text())["entry"]]


def test_entered_in_error_observation_is_ignored_with_its_reason():
    bad = loinc_obs("85337-4", status="entered-in-error", **answer(LOINC, "LA6577-6"))
    good = loinc_obs("85337-4", "2019-01-01", **answer(LOINC, "LA6576-8"))
    s = build_patient_state([patient(), bad, good], PID)
    assert s.er.status == "positive" and not s.er.conflict
    assert [(g.code, g.sources[0].reference) for g in s.ignored] == [("entered-in-error", f"Observation/{bad['id']}")]


def test_entered_in_error_condition_verification_status_is_ignored():
    c = breast_cancer()
    c["verificationStatus"] = cc(coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "entered-in-error"))
    s = build_patient_state([patient(), c], PID)
    assert s.disease.breast_cancer != "yes"
    assert s.ignored[0].code == "entered-in-error"


def test_refuted_condition_is_ignored():
    c = breast_cancer()
    c["verificationStatus"] = cc(coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted"))
    assert build_patient_state([patient(), c], PID).ignored[0].code == "refuted"


def test_resource_for_another_patient_is_ignored_and_noted():
    other = loinc_obs("85337-4", pid="someone-else", **answer(LOINC, "LA6577-6"))
    s = build_patient_state([patient(), other, patient("someone-else")], PID)
    assert s.er.status == "unknown"
    assert [g.code for g in s.ignored] == ["other-patient", "other-patient"]


def test_absolute_subject_reference_for_the_same_patient_is_accepted():
    obs = loinc_obs("85337-4", **answer(LOINC, "LA6576-8"))
    obs["subject"] = {"reference": f"https://ehr.example.org/fhir/Patient/{PID}/_history/3"}
    assert build_patient_state([patient(), obs], PID).er.status == "positive"


def test_duplicate_resources_from_several_prefetch_keys_count_once():
    obs = loinc_obs("85337-4", **answer(LOINC, "LA6576-8"))
    s = build_patient_state([patient(), obs, copy.deepcopy(obs), obs], PID)
    assert s.resource_counts["Observation"] == 1
    assert len(s.er.sources) == 1


def test_prefetch_bundles_are_flattened_and_operation_outcomes_skipped():
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": loinc_obs("85337-4", **answer(LOINC, "LA6576-8"))},
        {"resource": {"resourceType": "OperationOutcome", "issue": []}, "search": {"mode": "outcome"}},
    ]}
    s = build_patient_state([{"resourceType": "Bundle", "entry": [{"resource": patient()}]}, bundle], PID)
    assert s.er.status == "positive"
    assert s.resource_counts == {"Patient": 1, "Observation": 1}


def test_non_resources_are_ignored_as_unreadable():
    s = build_patient_state([patient(), None, 42, "x", {"no": "type"}, []], PID)
    assert [g.code for g in s.ignored] == ["unreadable-resource"] * 5
    assert s.resource_counts == {"Patient": 1}


def test_resources_not_a_list_do_not_raise():
    assert build_patient_state(None, PID).resource_counts == {}
    assert build_patient_state("garbage", PID).ignored[0].code == "unreadable-resource"


def test_unknown_codes_leave_every_fact_unknown():
    s = build_patient_state([
        patient(gender="unknown", birth=None),
        {"resourceType": "Condition", "id": "c", "subject": {"reference": f"Patient/{PID}"},
         "code": cc(coding("http://example.org/local", "XYZ", "Something"))},
        loinc_obs("12345-6", **answer(SNOMED, "999999", "Odd")),
        med_statement("000000", "2020-01-01"),
    ], PID)
    assert s.disease.breast_cancer == "unknown" and s.disease.metastatic == "unknown"
    assert (s.er.status, s.pr.status, s.her2.category) == ("unknown", "unknown", "unknown")
    assert s.biomarkers.results == [] and s.therapy.exposures == []
    assert s.factors.menopausal_status == "unknown" and s.ignored == []


def test_malformed_dates_and_values_do_not_raise():
    obs = loinc_obs("85329-1", "not-a-date", valueQuantity={"value": "forty", "unit": 5})
    ms = med_statement("72965", "2020-13-45")
    s = build_patient_state([patient(birth="19xx"), obs, ms], PID)
    assert isinstance(s, PatientState) and s.factors.age is None


# --- property-based ---------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
FIELDS = ["id", "status", "code", "subject", "valueCodeableConcept", "valueString", "valueQuantity",
          "valueInteger", "component", "effectiveDateTime", "effectivePeriod", "onsetDateTime",
          "medicationCodeableConcept", "medicationReference", "verificationStatus", "clinicalStatus",
          "interpretation", "specimen", "stage", "bodySite", "birthDate", "gender", "derivedFrom",
          "dosageInstruction", "contained", "entry", "coding", "meta", "category", "note"]
TYPES = ["Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest",
         "MedicationAdministration", "Procedure", "Specimen", "Medication", "Flag", "Bundle", 7, None]
random_resources = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(TYPES)},
    optional={f: json_values for f in FIELDS},
)


@st.composite
def mutated_real_resources(draw):
    res = copy.deepcopy(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 4))):
        node = res
        path = []
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(list(node.keys()) if isinstance(node, dict) else list(range(len(node)))))
            path.append((node, key))
            node = node[key]
        if path:
            parent, key = path[-1]
            parent[key] = draw(json_values)
        else:
            res[draw(st.sampled_from(FIELDS))] = draw(json_values)
    return res


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(random_resources, json_values), max_size=6))
def test_random_resources_never_make_the_mapper_raise(resources):
    s = build_patient_state(resources, PID, dt.date(2024, 1, 1))
    assert isinstance(s, PatientState)
    PatientState.model_validate(s.model_dump())  # the state is itself valid


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_real_resources(), min_size=1, max_size=12))
def test_mutated_real_resources_never_make_the_mapper_raise(resources):
    s = build_patient_state(resources + REAL[:1], REAL_PATIENT_ID, dt.date(2024, 1, 1))
    assert isinstance(s, PatientState)
    for g in s.ignored:
        assert g.code in {"unreadable-resource", "entered-in-error", "refuted", "other-patient", "not-given",
                          "indeterminate-genomic-result", "mapping-error"}


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_random_draft_orders_never_raise(bundle):
    assert isinstance(read_draft_orders(bundle), list)
    assert isinstance(read_draft_orders({"resourceType": "Bundle", "entry": [bundle]}), list)


def _er_positive_and_its_entered_in_error_version(meta_final, meta_error):
    final = loinc_obs("85337-4", "2024-01-01", rid="er-dup", **answer(LOINC, "LA6576-8"))
    error = dict(copy.deepcopy(final), status="entered-in-error")
    if meta_final is not None:
        final["meta"] = meta_final
    if meta_error is not None:
        error["meta"] = meta_error
    return final, error


@pytest.mark.parametrize("meta_final,meta_error", [
    ({"versionId": "2"}, {"versionId": "10"}),  # a number: 10 is newer than 2
    ({"lastUpdated": "2024-01-02T09:00:00Z"}, {"lastUpdated": "2024-03-05T10:00:00+01:00"}),
])
def test_a_newer_entered_in_error_version_of_a_result_wins_whatever_the_order(meta_final, meta_error):
    final, error = _er_positive_and_its_entered_in_error_version(meta_final, meta_error)
    for resources in ([final, error], [error, final]):
        s = build_patient_state([patient(), *resources], PID)
        assert s.er.status == "unknown" and s.er.sources == []
        assert [(g.code, g.sources[0].reference) for g in s.ignored] == [("entered-in-error", "Observation/er-dup")]
        assert s.resource_counts.get("Observation", 0) == 0


def test_a_newer_final_version_of_a_result_entered_in_error_before_wins_whatever_the_order():
    final, error = _er_positive_and_its_entered_in_error_version({"versionId": "3"}, {"versionId": "2"})
    for resources in ([final, error], [error, final]):
        s = build_patient_state([patient(), *resources], PID)
        assert s.er.status == "positive" and [src.reference for src in s.er.sources] == ["Observation/er-dup"]
        assert s.ignored == [] and s.resource_counts["Observation"] == 1


def test_two_different_copies_of_a_result_with_nothing_saying_which_is_newer_are_a_gap_naming_them():
    final, error = _er_positive_and_its_entered_in_error_version(None, None)
    for resources in ([final, error], [error, final]):
        s = build_patient_state([patient(), *resources], PID)
        gap = next(g for g in s.gaps if g.code == "duplicate-resource-conflict")
        assert "Observation/er-dup" in gap.message and "final" in gap.message and "entered-in-error" in gap.message
        assert [src.reference for src in gap.sources] == ["Observation/er-dup"]


def test_identical_copies_of_a_resource_are_no_conflict():
    final, _ = _er_positive_and_its_entered_in_error_version({"versionId": "1"}, None)
    s = build_patient_state([patient(), final, copy.deepcopy(final)], PID)
    assert s.er.status == "positive" and "duplicate-resource-conflict" not in {g.code for g in s.gaps}
