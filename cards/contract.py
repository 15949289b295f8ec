"""One checker for the card contract (../shared/DESIGN.md + CDS Hooks 2.0.1).

Used by every test that looks at cards, so a contract break shows everywhere.
`card_problems()` returns human-readable problems; an empty list means valid.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from cards.topics import ALL_TOPICS, REGIMEN_TOPICS, TESTING_TOPICS, TOPIC_SYSTEM

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _empty_paths(value: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if _empty(item):
                found.append(sub)
            found += _empty_paths(item, sub)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if _empty(item):
                found.append(f"{path}[{i}]")
            found += _empty_paths(item, f"{path}[{i}]")
    return found


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
        return True
    except ValueError:
        return False


def card_problems(card: dict[str, Any], patient_id: str | None = None) -> list[str]:
    problems = [f"empty field {p}" for p in _empty_paths(card)]
    if not _is_uuid(card.get("uuid")):
        problems.append("uuid missing or not a UUID")
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary or len(summary) >= 140:
        problems.append("summary missing or not under 140 characters")
    if card.get("indicator") not in ("info", "warning", "critical"):
        problems.append("indicator not info|warning|critical")
    source = card.get("source") or {}
    if not source.get("label"):
        problems.append("source.label missing")
    if not source.get("url"):
        problems.append("source.url missing")
    topic = source.get("topic") or {}
    if topic.get("system") != TOPIC_SYSTEM or topic.get("code") not in ALL_TOPICS:
        problems.append(f"source.topic not a project topic: {topic}")
    suggestions = card.get("suggestions") or []
    if suggestions and card.get("selectionBehavior") not in ("at-most-one", "any"):
        problems.append("suggestions without selectionBehavior")
    if card.get("selectionBehavior") == "at-most-one":
        if sum(1 for s in suggestions if s.get("isRecommended")) > 1:
            problems.append("at-most-one with several isRecommended")
    for reason in card.get("overrideReasons") or []:
        if not (reason.get("system") and reason.get("code") and reason.get("display")):
            problems.append("override reason without system/code/display")
    for link in card.get("links") or []:
        if not (link.get("label") and link.get("url") and link.get("type") in ("absolute", "smart")):
            problems.append(f"bad link {link}")
        if link.get("appContext") and link.get("type") != "smart":
            problems.append("appContext on a non-smart link")
    code = topic.get("code")
    for s in suggestions:
        problems += _suggestion_problems(s, code, patient_id)
    if code in REGIMEN_TOPICS and card.get("indicator") != "critical" and not suggestions:
        problems.append("regimen card without suggestions")
    if (code in REGIMEN_TOPICS or code in TESTING_TOPICS) and not card.get("detail"):
        problems.append("regimen/testing card without detail")
    return problems


def _suggestion_problems(s: dict, topic: str | None, patient_id: str | None) -> list[str]:
    problems = []
    if not s.get("label"):
        problems.append("suggestion without label")
    if not _is_uuid(s.get("uuid")):
        problems.append("suggestion uuid missing")
    for action in s.get("actions") or []:
        if action.get("type") not in ("create", "update", "delete"):
            problems.append("action type invalid")
        if not action.get("description"):
            problems.append("action without description")
        if action.get("type") == "delete":
            if not action.get("resourceId") or action.get("resource"):
                problems.append("delete must use resourceId, not resource")
            continue
        resource = action.get("resource") or {}
        rtype = resource.get("resourceType")
        if rtype == "MedicationRequest":
            problems += _medication_request_problems(resource, patient_id)
        elif rtype == "ServiceRequest":
            if resource.get("status") != "draft" or not (resource.get("code") or {}).get("text") and not (resource.get("code") or {}).get("coding"):
                problems.append("ServiceRequest must be draft and name the test")
            if patient_id and (resource.get("subject") or {}).get("reference") != f"Patient/{patient_id}":
                problems.append("ServiceRequest subject is not the patient")
        elif action.get("type") == "create":
            problems.append(f"create action with unexpected resource {rtype}")
        if action.get("type") == "create" and topic in TESTING_TOPICS and rtype != "ServiceRequest":
            problems.append("testing card suggestion creates no ServiceRequest")  # DESIGN.md card contract
    if topic in REGIMEN_TOPICS:
        creates = [a for a in s.get("actions") or [] if a.get("type") == "create"]
        if not creates:
            problems.append("regimen suggestion creates nothing")
    return problems


def _ingredient_codes() -> frozenset[str]:
    from cards.knowledge import DRUGS  # the drug table: one RxNorm ingredient code per drug

    return frozenset(d.rxnorm for d in DRUGS.values() if d.rxnorm)


def _medication_request_problems(resource: dict, patient_id: str | None) -> list[str]:
    problems = []
    if resource.get("status") != "draft" or resource.get("intent") != "proposal":
        problems.append("MedicationRequest must be status draft, intent proposal")
    codings = (resource.get("medicationCodeableConcept") or {}).get("coding") or []
    if not any(c.get("system") == RXNORM and c.get("code") and c.get("display") for c in codings):
        problems.append("MedicationRequest not RxNorm-coded with display")
    elif not any(c.get("system") == RXNORM and c.get("code") in _ingredient_codes() for c in codings):
        # DESIGN.md: "coded with the RxNorm ingredient code" (never a product code)
        problems.append("MedicationRequest RxNorm code is not a drug's ingredient code (drugs.yaml)")
    subject = (resource.get("subject") or {}).get("reference")
    if not subject or (patient_id and subject != f"Patient/{patient_id}"):
        problems.append("MedicationRequest subject is not the patient")
    return problems


def response_problems(body: dict[str, Any], patient_id: str | None = None) -> list[str]:
    if not isinstance(body.get("cards"), list):
        return ["response has no cards array"]
    problems = []
    for key, value in body.items():
        if key != "cards" and _empty(value):
            problems.append(f"empty top-level field {key}")
    for i, card in enumerate(body["cards"]):
        problems += [f"card {i}: {p}" for p in card_problems(card, patient_id)]
    return problems
