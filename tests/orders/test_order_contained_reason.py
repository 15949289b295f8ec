"""A drafted MedicationRequest's reasonReference to a Condition it contains ('#c1', no display):
the reason is that Condition's code (FHIR R4 MedicationRequest.reasonReference: the Condition or
Observation supporting why it is written; Resource.contained, a '#id' reference). It counts as the
same words in reasonCode would: a progression stated (CR C.2 step 1: the clinician's statement,
asked to be recorded) or another reason (a switch within the line). A reference to a resource
elsewhere, with no display, stays unread: the order path fetches nothing.

Whole FHIR drafts read by mappings.read_draft_orders on a running letrozole + palbociclib first line
(tests/orders/test_order_consistency.py, tests/orders/test_order_within_line_swap.py harnesses).
"""

from __future__ import annotations

import pytest

from tests.orders.test_order_consistency import _running_first_line_fhir_cards
from tests.orders.test_order_within_line_swap import FIRST_LINE_NOT_INDICATED, _late_switch_cards, shown

SNOMED = "http://snomed.info/sct"


def contained_reason(code: dict, ref: str = "#c1", rtype: str = "Condition") -> dict:
    """A draft's reasonReference to a Condition (or Observation) it contains, no display."""
    return {"contained": [{"resourceType": rtype, "id": "c1", "code": code,
                           "subject": {"reference": "Patient/p-running-first-line"}}],
            "reasonReference": [{"reference": ref}]}


@pytest.mark.parametrize("code, said", [
    ({"text": "Disease progression"}, "Disease progression"),
    ({"coding": [{"system": SNOMED, "code": "271299001", "display": "Patient's condition worsened"}]},
     "Patient's condition worsened"),
])
def test_fulvestrant_with_palbociclib_drafted_for_a_contained_progression_condition_gets_the_info_card_naming_it(
        code, said):
    # before: the contained Condition unread: 'Fulvestrant + palbociclib: label requirement not confirmed —
    # No progression on endocrine therapy documented' (the same words as a display got the info card)
    cards = _running_first_line_fhir_cards(contained_reason(code), "fulvestrant", "palbociclib")
    assert not [c for c in cards if "label requirement not confirmed" in c["summary"]]
    [card] = [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert card["indicator"] == "info"
    assert card["summary"] == ("Fulvestrant + palbociclib: progression stated on the draft, not in the record: "
                               + f"'{said}'")
    assert f"- reasonReference: '{said}' (MedicationRequest/mr-fulvestrant)" in card["detail"]


def test_a_late_cdk46_switch_drafted_for_a_contained_neutropenia_condition_is_a_switch_within_the_line():
    # before: 'Letrozole + ribociclib: not indicated — A first-line option; the patient has had metastatic
    # therapy (1 line(s))', as if the switch were the next line
    cards = _late_switch_cards(contained_reason({"text": "Neutropenia"}), "letrozole", "ribociclib")
    assert shown(cards) == [("warning", "order-not-indicated", "Ribociclib drafted while palbociclib is active: no "
                             "labelled regimen gives both — stop palbociclib if switching")]
    assert "- Drafted for a reason other than progression (reasonReference: 'Neutropenia', " in cards[0]["detail"]


@pytest.mark.parametrize("words", [
    {"reasonReference": [{"reference": "Condition/pd-2024-08"}]},           # elsewhere: not fetched
    contained_reason({"text": "Disease progression"}, ref="#other"),         # no such contained resource
    contained_reason({"text": "Disease progression"}, rtype="Medication"),  # not a reason's resource type
])
def test_a_reason_reference_without_display_to_a_resource_not_contained_stays_unread(words):
    cards = _running_first_line_fhir_cards(words, "fulvestrant", "palbociclib")
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    summaries = [c["summary"] for c in _late_switch_cards(
        {"reasonReference": [{"reference": "Condition/neutropenia"}]}, "letrozole", "ribociclib")]
    assert any(s.startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED) for s in summaries), summaries


VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@pytest.mark.parametrize("resource", [
    # Condition.verificationStatus refuted: "ruled out by diagnostic and clinical evidence" (FHIR R4)
    {"resourceType": "Condition", "id": "c1", "code": {"text": "Disease progression"},
     "verificationStatus": {"coding": [{"system": VER_STATUS, "code": "refuted"}]}},
    {"resourceType": "Condition", "id": "c1", "code": {"text": "Disease progression"},
     "verificationStatus": {"coding": [{"system": VER_STATUS, "code": "entered-in-error"}]}},
    # Observation.status entered-in-error / cancelled: not a result (FHIR R4 ObservationStatus)
    {"resourceType": "Observation", "id": "c1", "status": "entered-in-error", "code": {"text": "Disease progression"}},
    {"resourceType": "Observation", "id": "c1", "status": "cancelled", "code": {"text": "Disease progression"}},
])
@pytest.mark.parametrize("display", [None, "Disease progression"])
def test_a_contained_reason_that_is_refuted_or_entered_in_error_states_no_progression(resource, display):
    # before: "Fulvestrant + palbociclib: progression stated on the draft, not in the record: 'Disease
    # progression'" for a progression the draft's own Condition rules out (the record reading skips such a
    # resource: mappings/build.py _status_skip)
    words = {"contained": [resource], "reasonReference": [{"reference": "#c1", **({"display": display} if display else {})}]}
    cards = _running_first_line_fhir_cards(words, "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]


def test_a_contained_observation_is_read_by_its_value_not_by_what_it_measured():
    # before: an Observation coded 'Disease progression assessment' whose value says 'No progression' read as
    # "progression stated on the draft, not in the record: 'Disease progression assessment'": FHIR R4
    # Observation.code is what was observed, Observation.value[x] what was found
    obs = {"resourceType": "Observation", "id": "c1", "status": "final",
           "code": {"text": "Disease progression assessment"}, "valueCodeableConcept": {"text": "No progression"}}
    cards = _running_first_line_fhir_cards({"contained": [obs], "reasonReference": [{"reference": "#c1"}]},
                                           "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]


def test_a_contained_disease_status_observation_valued_progressive_disease_states_the_progression():
    # before: the cancer disease status (LOINC 97509-4) read by its code, 'Disease status', no progression:
    # "label requirement not confirmed — No progression on endocrine therapy documented"
    obs = {"resourceType": "Observation", "id": "c1", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "97509-4", "display": "Disease status"}]},
           "valueCodeableConcept": {"text": "Progressive disease"}}
    cards = _running_first_line_fhir_cards({"contained": [obs], "reasonReference": [{"reference": "#c1"}]},
                                           "fulvestrant", "palbociclib")
    assert not [c for c in cards if "label requirement not confirmed" in c["summary"]]
    [card] = [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert card["summary"] == ("Fulvestrant + palbociclib: progression stated on the draft, not in the record: "
                               "'Progressive disease'")


def test_a_contained_observation_with_a_value_that_is_not_a_concept_is_not_read_by_its_code():
    # an Observation 'Disease progression' valued false says no progression: its code is not the finding
    obs = {"resourceType": "Observation", "id": "c1", "status": "final",
           "code": {"text": "Disease progression"}, "valueBoolean": False}
    cards = _running_first_line_fhir_cards({"contained": [obs], "reasonReference": [{"reference": "#c1"}]},
                                           "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]


V2_0136 = "http://terminology.hl7.org/CodeSystem/v2-0136"


def progression_answered(**value) -> dict:
    """A draft's reasonReference to a contained Observation asking 'Disease progression', answered by `value`."""
    obs = {"resourceType": "Observation", "id": "c1", "status": "final", "code": {"text": "Disease progression"},
           **value}
    return {"contained": [obs], "reasonReference": [{"reference": "#c1"}]}


YES_ANSWERS = [
    {"valueBoolean": True},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373066001", "display": "Yes"}]}},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373066001"}]}},
    {"valueCodeableConcept": {"coding": [{"system": V2_0136, "code": "Y", "display": "Yes"}]}},
    {"valueCodeableConcept": {"text": "Yes"}},
]
NO_ANSWERS = [
    {"valueBoolean": False},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373067005", "display": "No"}]}},
    {"valueCodeableConcept": {"coding": [{"system": V2_0136, "code": "N"}]}},
    {"valueCodeableConcept": {"text": "No"}},
]


# the code written as the question, with its question mark ('Disease progression?'), answered yes or no
QUESTION_MARK_CODES = [{"text": "Disease progression?"},
                       {"coding": [{"system": SNOMED, "code": "271299001", "display": "Disease progression?"}]}]


@pytest.mark.parametrize("value", YES_ANSWERS + [{"code": code, "valueBoolean": True} for code in QUESTION_MARK_CODES])
def test_a_contained_disease_progression_observation_answered_yes_states_the_progression(value):
    # before: the value read in place of the code ('Yes', true: no words of a reason), no progression:
    # 'Fulvestrant + palbociclib: label requirement not confirmed — No progression on endocrine therapy
    # documented ...'; FHIR R4 Observation.value[x] answers the question Observation.code asks. A code
    # with a question mark was read as a progression only suspected ('Disease progression?'): the same
    # card; the code is the question the yes answers
    cards = _running_first_line_fhir_cards(progression_answered(**value), "fulvestrant", "palbociclib")
    assert not [c for c in cards if "label requirement not confirmed" in c["summary"]]
    [card] = [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert card["indicator"] == "info"
    assert card["summary"] == ("Fulvestrant + palbociclib: progression stated on the draft, not in the record: "
                               "'Disease progression'")


@pytest.mark.parametrize("value", YES_ANSWERS[:1] + YES_ANSWERS[2:3])
def test_a_late_cdk46_switch_drafted_for_a_contained_progression_answered_yes_is_the_next_line(value):
    # before: the same as a switch with no reason stated (the next line), without the progression named
    cards = _late_switch_cards(progression_answered(**value), "letrozole", "ribociclib")
    [card] = [c for c in cards if c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED)]
    assert "- reasonReference: 'Disease progression' (MedicationRequest/mr-ribociclib)" in card["detail"]


@pytest.mark.parametrize("value", NO_ANSWERS + [{"valueCodeableConcept": {"text": "Unknown"}},
                                                {"valueString": "not assessed"},
                                                {"code": QUESTION_MARK_CODES[0], "valueBoolean": False}])
def test_a_contained_disease_progression_observation_answered_no_or_unclear_states_no_progression(value):
    cards = _running_first_line_fhir_cards(progression_answered(**value), "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]


@pytest.mark.parametrize("value", NO_ANSWERS[:2])
def test_a_reason_reference_displayed_disease_progression_to_a_contained_observation_answered_no_states_none(value):
    # before: the reference's display 'Disease progression' read in place of the Observation it names, whose
    # value says no: 'progression stated on the draft, not in the record: 'Disease progression''
    words = progression_answered(**value)
    words["reasonReference"][0]["display"] = "Disease progression"
    cards = _running_first_line_fhir_cards(words, "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]


@pytest.mark.parametrize("value", [
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373066001", "display": "Yes"}], "text": "No"}},
    {"valueCodeableConcept": {"coding": [{"system": V2_0136, "code": "Y"}], "text": "no"}},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373066001", "display": "No"}]}},
])
def test_a_contained_disease_progression_observation_coded_yes_but_written_no_states_no_progression(value):
    # before: the yes code read alone, its text or display 'No' beside it not: 'Fulvestrant + palbociclib:
    # progression stated on the draft, not in the record: 'Disease progression''. An answer saying both
    # yes and no answers neither (_yes_no_answer): the value read as before, no progression stated
    cards = _running_first_line_fhir_cards(progression_answered(**value), "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]


DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


@pytest.mark.parametrize("display", [None, "Disease progression"])
@pytest.mark.parametrize("absent", [{"coding": [{"system": DATA_ABSENT, "code": "unknown", "display": "Unknown"}]},
                                    {"coding": [{"system": DATA_ABSENT, "code": "not-performed"}]}])
def test_a_contained_disease_progression_observation_whose_value_is_missing_states_no_progression(absent, display):
    # before: the code read as the finding: 'Fulvestrant + palbociclib: progression stated on the draft, not in
    # the record: 'Disease progression''; FHIR R4 Observation.dataAbsentReason says why the expected value is
    # missing: the question its code asks is unanswered, as a no answer states nothing, whatever the display
    words = progression_answered(dataAbsentReason=absent)
    if display:
        words["reasonReference"][0]["display"] = display
    cards = _running_first_line_fhir_cards(words, "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]


V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


@pytest.mark.parametrize("value", [{}, {"valueBoolean": True}])
@pytest.mark.parametrize("interpretation", [{"coding": [{"system": V3_INTERPRETATION, "code": "NEG", "display": "Negative"}]},
                                            {"text": "Not detected"}])
def test_a_contained_disease_progression_observation_interpreted_negative_states_no_progression(value, interpretation):
    # before: the code read as the finding (no value) or as answered yes, its interpretation 'Negative' not read:
    # 'Fulvestrant + palbociclib: progression stated on the draft, not in the record: 'Disease progression''.
    # FHIR R4 Observation.interpretation saying negative disagrees with a progression: none stated
    cards = _running_first_line_fhir_cards(progression_answered(interpretation=[interpretation], **value),
                                           "fulvestrant", "palbociclib")
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert [c for c in cards if "label requirement not confirmed" in c["summary"]]


def test_a_contained_disease_progression_observation_interpreted_positive_still_states_it():
    words = progression_answered(interpretation=[{"coding": [{"system": V3_INTERPRETATION, "code": "POS"}]}])
    cards = _running_first_line_fhir_cards(words, "fulvestrant", "palbociclib")
    assert [c for c in cards if "progression stated on the draft" in c["summary"]]

