"""Checks every order-hook card goes through (shared contract + R4B + suggestion hygiene)."""

from __future__ import annotations

from functools import lru_cache

from cards.contract import response_problems
from cards.models import Card
from cards.orders import KNOWLEDGE
from cards.topics import TOPIC_SYSTEM

ORDER_TOPICS = {"order-biomarker-missing", "order-not-indicated", "order-contraindicated",
                "order-incomplete-regimen", "test-glycemic"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@lru_cache(maxsize=None)
def _model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def suggestion_problems(card: dict, patient_id: str, draft_refs: set[str]) -> list[str]:
    problems = []
    for s in card.get("suggestions", []):
        for action in s.get("actions", []):
            if action["type"] == "delete":
                if action.get("resourceId") not in draft_refs:
                    problems.append(f"delete names {action.get('resourceId')}, not a drafted order")
                continue
            resource = action["resource"]
            try:
                _model(resource["resourceType"]).model_validate(resource)
            except Exception as exc:  # pydantic ValidationError
                problems.append(f"{resource.get('resourceType')} invalid: {exc}")
            if resource.get("status") != "draft" or resource.get("subject", {}).get("reference") != f"Patient/{patient_id}":
                problems.append("created resource is not a draft for this patient")
            if resource["resourceType"] == "MedicationRequest":
                coding = resource["medicationCodeableConcept"]["coding"][0]
                if resource.get("intent") != "proposal" or coding["system"] != RXNORM or not coding.get("display"):
                    problems.append("MedicationRequest not intent proposal / RxNorm-coded with display")
    return problems


def checked(body_or_cards, patient_id: str, draft_refs=(), hook: str = "order-sign") -> list[dict]:
    """Cards as JSON once the shared contract checker, R4B validation and the order rules pass."""
    if isinstance(body_or_cards, dict):
        body = body_or_cards
    else:
        body = {"cards": [c.to_json() if isinstance(c, Card) else c for c in body_or_cards]}
    problems = response_problems(body, patient_id)
    for card in body["cards"]:
        topic = card["source"]["topic"]
        if topic["system"] != TOPIC_SYSTEM or topic["code"] not in ORDER_TOPICS:
            problems.append(f"not an order topic: {topic}")
        problems += suggestion_problems(card, patient_id, set(draft_refs))
        if not card.get("detail") or not card["source"].get("url"):
            problems.append("card without detail or label link")
        reasons = card.get("overrideReasons", [])
        if hook == "order-sign" and card["indicator"] in ("warning", "critical"):
            if not reasons or any(r["system"] != KNOWLEDGE.override_reasons[0][0].system or not r.get("display")
                                  for r in reasons):
                problems.append("order-sign warning/critical card without override reasons")
    assert not problems, "\n".join(problems)
    return body["cards"]


def topics(cards: list[dict]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]


def by_topic(cards: list[dict], topic: str) -> dict:
    found = [c for c in cards if c["source"]["topic"]["code"] == topic]
    assert len(found) == 1, f"expected one {topic} card, got {topics(cards)}"
    return found[0]


def created_drugs(suggestion: dict) -> list[str]:
    return [a["resource"]["medicationCodeableConcept"]["coding"][0]["display"]
            for a in suggestion["actions"] if a["type"] == "create"
            and a["resource"]["resourceType"] == "MedicationRequest"]


def deleted(suggestion: dict) -> list[str]:
    return [a["resourceId"] for a in suggestion["actions"] if a["type"] == "delete"]


def no_noise(cards: list[dict]) -> None:
    """An order that fits: no warning or critical card."""
    loud = [(c["indicator"], c["summary"]) for c in cards if c["indicator"] != "info"]
    assert not loud, loud
