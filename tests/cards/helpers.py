"""Shared helpers for tests/cards: the one place every produced card is checked.

`view(state)` runs patient_view_cards and passes every card through the shared
contract checker (cards.contract.response_problems) and validates every FHIR
resource a suggestion creates with fhir.resources R4B models.
"""

from __future__ import annotations

from functools import lru_cache

from cards import patient_view_cards
from cards.contract import response_problems
from cards.models import Card, prune


@lru_cache(maxsize=None)
def _model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def resource_problems(resource: dict) -> list[str]:
    try:
        _model(resource["resourceType"]).model_validate(resource)
    except Exception as exc:  # pydantic ValidationError or unknown type
        return [f"{resource.get('resourceType')}: {exc}"]
    return []


def model_problems(cards: list[Card]) -> list[str]:
    """The hot path builds cards without validation (cards/models.py make_*): each card
    must equal its validated copy, and to_json must be prune(model_dump(mode="json"))."""
    problems = []
    for c in cards:
        if repr(Card.model_validate(c.model_dump())) != repr(c):
            problems.append(f"card {c.summary!r} differs from its validated copy")
        if c.to_json() != prune(c.model_dump(mode="json")) or \
                list(c.to_json()) != list(prune(c.model_dump(mode="json"))):
            problems.append(f"card {c.summary!r}: to_json is not prune(model_dump(mode='json'))")
    ids = [c.uuid for c in cards] + [s.uuid for c in cards for s in c.suggestions]
    if len(set(ids)) != len(ids):
        problems.append("a UUID is used twice in one response")
    return problems


def checked(cards: list[Card], patient_id: str) -> list[dict]:
    """Cards as JSON, after the contract checker and R4B validation passed."""
    problems = model_problems(cards)
    assert not problems, "\n".join(problems)
    body = {"cards": [c.to_json() for c in cards]}
    problems = response_problems(body, patient_id)
    for card in body["cards"]:
        for s in card.get("suggestions", []):
            for action in s.get("actions", []):
                if action.get("resource"):
                    problems += resource_problems(action["resource"])
    assert not problems, "\n".join(problems)
    return body["cards"]


def view(state) -> list[dict]:
    return checked(patient_view_cards(state), state.patient_id)


def topics(cards: list[dict]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]


def regimen_topics(cards: list[dict]) -> list[str]:
    from cards.topics import REGIMEN_TOPICS

    return [t for t in topics(cards) if t in REGIMEN_TOPICS]


def ordered_tests(cards: list[dict]) -> list[str]:
    from cards.topics import TESTING_TOPICS

    return [t for t in topics(cards) if t in TESTING_TOPICS]


def card(cards: list[dict], topic: str) -> dict:
    found = [c for c in cards if c["source"]["topic"]["code"] == topic]
    assert found, f"no {topic} card in {topics(cards)}"
    return found[0]


def suggestion_drugs(c: dict) -> list[list[str]]:
    """Per suggestion, the RxNorm displays of the MedicationRequests it creates."""
    return [
        [a["resource"]["medicationCodeableConcept"]["coding"][0]["display"] for a in s["actions"]
         if a["resource"]["resourceType"] == "MedicationRequest"]
        for s in c.get("suggestions", [])
    ]


def recommended(c: dict) -> list[str]:
    recs = [s for s in c.get("suggestions", []) if s.get("isRecommended")]
    assert len(recs) == 1, f"expected one recommended suggestion in {c['summary']}"
    return [a["resource"]["medicationCodeableConcept"]["coding"][0]["display"] for a in recs[0]["actions"]
            if a["resource"]["resourceType"] == "MedicationRequest"]


def not_offered_line(detail: str, name: str) -> str:
    """The summary's "Not offered now" line naming the regimen `name` (regimens held back by one
    reason share a line: "- Elacestrant, Imlunestrant, Vepdegestrant: <reason>")."""
    section = detail.split("**Not offered now**\n", 1)[1].split("\n\n", 1)[0]
    found = [x for x in section.splitlines() if name in x[2:].split(": ", 1)[0].split(", ")]
    assert found, f"{name} not under Not offered now:\n{section}"
    return found[0]
