"""(lt2) A drafted order's text longer than fhir.TEXT_READ_LIMIT is read only to its first 2,000
characters (fix-lt1's bound), and drafts are read outside build_patient_state, so no gap named
them: the order cards now name the draft read in part, as patient-view's gap text-read-in-part
names a record."""

from __future__ import annotations

import time

import pytest

from cards.engine import order_cards
from mappings import read_draft_orders
from tests.cards.test_fhir_scenarios import AS_OF, after_ai_cdk46i

PALBOCICLIB_RXNORM = "1601374"


def _cards(text: str):
    state = after_ai_cdk46i("p-long").state(AS_OF)
    draft = {"resourceType": "MedicationRequest", "id": "mr-long", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/p-long"},
             "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                       "code": PALBOCICLIB_RXNORM}], "text": text}}
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": draft}]}, "p-long")
    return order_cards(state, drafts, None, "order-sign")


def test_a_drafted_order_whose_text_is_longer_than_2000_characters_is_named_on_its_card_as_read_in_part():
    text = "Palbociclib 125 mg daily, 21 days on 7 off. " + "Discussed with the patient at length, " * 80
    cards = _cards(text)
    assert cards, "palbociclib drafted alone gets its card"
    lines = [line for c in cards for line in c.detail.splitlines() if "MedicationRequest/mr-long" in line]
    assert any(f"its text of {len(text):,} characters read only to its first 2,000" in line for line in lines)


def test_a_drafted_order_within_the_bound_is_not_named_as_read_in_part():
    cards = _cards("Palbociclib 125 mg daily, 21 days on 7 off")
    assert cards
    assert not any("read only to its first" in c.detail for c in cards)


LONG_TAIL = " Discussed with the patient at length," * 80  # some 3,000 characters


def _de_novo_first_line_cards(hook: str = "order-sign", selections=None, letrozole_text=None):
    """Letrozole + palbociclib drafted for de novo metastatic disease (the first-line regimen: no
    check card), the palbociclib draft's text longer than the bound."""
    from cards.knowledge import DRUGS
    from tests.cards.test_fhir_scenarios import de_novo
    from tests.orders.fhir import RXNORM, cc

    def mr(name, text=None):
        concept = cc(RXNORM, DRUGS[name].rxnorm, name)
        if text:
            concept["text"] = text
        return {"resourceType": "MedicationRequest", "id": f"mr-{name}", "status": "draft", "intent": "order",
                "subject": {"reference": "Patient/p-dn-long"}, "medicationCodeableConcept": concept}

    entries = [mr("letrozole", letrozole_text), mr("palbociclib", "Palbociclib 125 mg daily." + LONG_TAIL)]
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": e} for e in entries]}, "p-dn-long")
    return [c.to_json() for c in order_cards(de_novo("p-dn-long").state(AS_OF), drafts, selections, hook)]


def test_a_drafted_order_read_in_part_that_raises_no_other_card_gets_an_info_card_naming_it_at_order_sign():
    # before: no card at all, as if the whole draft had been checked and raised nothing
    cards = _de_novo_first_line_cards()
    assert [(c["indicator"], c["source"]["topic"]["code"], c["summary"]) for c in cards] == [
        ("info", "patient-summary", "Palbociclib draft order: its text read only to its first 2,000 characters "
                                    "(MedicationRequest/mr-palbociclib)")]
    detail = cards[0]["detail"]
    assert "- MedicationRequest/mr-palbociclib (\"Palbociclib 125 mg daily." in detail
    assert f"its text of {len('Palbociclib 125 mg daily.' + LONG_TAIL):,} characters read only to its first 2,000" in detail
    assert "raised no card on the text read" in detail and "Check the order as written." in detail
    assert len(cards[0]["summary"]) < 140


def test_a_selected_draft_read_in_part_that_raises_no_other_card_gets_an_info_card_naming_it_at_order_select():
    [card] = _de_novo_first_line_cards("order-select", ["MedicationRequest/mr-palbociclib"])
    assert (card["indicator"], card["summary"]) == (
        "info", "Palbociclib draft order: its text read only to its first 2,000 characters (MedicationRequest/mr-palbociclib)")


def test_several_drafts_read_in_part_are_named_on_one_info_card():
    [card] = _de_novo_first_line_cards(letrozole_text="Letrozole 2.5 mg daily." + LONG_TAIL)
    assert card["summary"] == "2 drafted orders read in part: their texts read only to their first 2,000 characters"
    assert "- MedicationRequest/mr-letrozole (" in card["detail"] and "- MedicationRequest/mr-palbociclib (" in card["detail"]


def test_a_draft_read_in_part_named_on_its_regimen_card_gets_no_second_card():
    cards = _cards("Palbociclib 125 mg daily, 21 days on 7 off. " + "Discussed with the patient at length, " * 80)
    assert [c.source.topic.code for c in cards] == ["order-incomplete-regimen"]


# (sv4) Every text of a draft the readers read goes through the same bound: a 100 kB note (or
# reason, display, contained resource's text) was read whole (0.16-0.33 s a draft) and the draft
# was not named as read in part.
HUNDRED_KB = "Discussed with the patient at length, no change in plan. " * 1760


def _with_long(element: str) -> dict:
    draft = {"resourceType": "MedicationRequest", "id": "mr-long", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/p-long"},
             "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                       "code": PALBOCICLIB_RXNORM}], "text": "Palbociclib"}}
    if element == "note":
        draft["note"] = [{"text": HUNDRED_KB}]
    elif element == "reasonCode.text":
        draft["reasonCode"] = [{"text": HUNDRED_KB}]
    elif element == "statusReason.text":
        draft["statusReason"] = {"text": HUNDRED_KB}
    elif element == "reasonReference.display":
        draft["reasonReference"] = [{"display": HUNDRED_KB}]
    elif element == "a contained Observation's valueString":
        draft["contained"] = [{"resourceType": "Observation", "id": "o1", "status": "final",
                               "code": {"text": "Disease status"}, "valueString": HUNDRED_KB}]
        draft["reasonReference"] = [{"reference": "#o1"}]
    elif element == "a contained Condition's code.text":
        draft["contained"] = [{"resourceType": "Condition", "id": "c1", "code": {"text": HUNDRED_KB}}]
        draft["reasonReference"] = [{"reference": "#c1"}]
    elif element == "medicationReference.display":
        del draft["medicationCodeableConcept"]
        draft["medicationReference"] = {"display": "Palbociclib 125 mg. " + HUNDRED_KB}
    return draft



@pytest.mark.parametrize("element", ["note", "reasonCode.text", "statusReason.text", "reasonReference.display",
                                     "a contained Observation's valueString", "a contained Condition's code.text",
                                     "medicationReference.display"])
def test_a_draft_with_a_100_kb_text_is_answered_in_a_fifth_of_a_second_and_named_read_in_part(element):
    state = after_ai_cdk46i("p-long").state(AS_OF)
    draft = _with_long(element)
    started = time.perf_counter()
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": draft}]}, "p-long")
    cards = order_cards(state, drafts, None, "order-sign")
    assert time.perf_counter() - started < 0.2
    assert cards
    assert any("MedicationRequest/mr-long" in line and "read only to its first 2,000" in line
               for c in cards for line in c.detail.splitlines()), [c.detail for c in cards]


def test_a_drafted_test_with_a_100_kb_name_is_read_to_its_first_2000_characters():
    draft = {"resourceType": "ServiceRequest", "id": "sr-long", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/p-long"}, "code": {"text": "ESR1 ctDNA test. " + HUNDRED_KB}}
    [order] = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": draft}]}, "p-long")
    assert order.genes == ["ESR1"]
    assert len(order.text) == 2000 and order.text_read_in_part == len(draft["code"]["text"])
