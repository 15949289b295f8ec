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
