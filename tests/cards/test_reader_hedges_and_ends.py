"""What the cards say when a record's or a drafted order's words hedge its drug after its name
(local_codes.yaml drug_mentions hedged_closing / planned_closing)."""

from __future__ import annotations

import pytest

from cards.engine import order_cards
from mappings import read_draft_orders
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo


def _draft_cards(text: str) -> list[dict]:
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "mr-0", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {"text": text}}}]})
    return [c.to_json() for c in order_cards(de_novo("p-draft").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]


@pytest.mark.parametrize("text", ["Fulvestrant (possible)", "Fulvestrant - likely", "Fulvestrant (query)", "Letrozole (probable)",
                                  "Anastrozole - planned?", "Fulvestrant 500 mg IM possible", "Letrozole + palbociclib (possible)"])
def test_a_draft_whose_hedge_follows_its_drug_is_said_not_checked_as_one_whose_hedge_comes_first(text):
    # each was checked as the drug ordered ("Fulvestrant drafted without ribociclib"), while
    # "Possible fulvestrant" and "Fulvestrant?" were said not checked
    cards = _draft_cards(text)
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its text does not name its drug as ordered (MedicationRequest/mr-0)"]
    assert f'its text "{text}" names' in cards[0]["detail"] and "with a hedge" in cards[0]["detail"]


@pytest.mark.parametrize("text", ["Fulvestrant (query adherence)", "Fulvestrant, possible injection-site pain"])
def test_a_draft_whose_hedge_after_the_drug_is_of_a_fact_or_a_finding_is_checked(text):
    cards = _draft_cards(text)
    assert not any(c["summary"].startswith("Drafted order not checked") for c in cards)
    assert any("ulvestrant" in c["summary"] for c in cards)
