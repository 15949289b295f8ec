"""(lt2) A drafted order's text longer than fhir.TEXT_READ_LIMIT is read only to its first 2,000
characters (fix-lt1's bound), and drafts are read outside build_patient_state, so no gap named
them: the order cards now name the draft read in part, as patient-view's gap text-read-in-part
names a record."""

from __future__ import annotations

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
