"""The hook pipeline shared by the HTTP endpoint and the `mbc-cds cards` CLI:
resources -> PatientState (mappings) -> cards (cards), and the response body."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic_core

import cards as cards_layer
import mappings
from cards.models import Card
from mappings.state import Gap


def run_hook(
    hook: str,
    context: dict[str, Any],
    resources: list[dict],
    notes: list[str] | None = None,
    as_of: dt.date | None = None,
) -> list[Card]:
    patient_id = str(context["patientId"])
    state = mappings.build_patient_state(resources, patient_id, as_of=as_of)
    for note in notes or []:
        state.gaps.append(Gap(code="data-gathering", message=note))
    if hook == "patient-view":
        return cards_layer.patient_view_cards(state)
    drafts = mappings.read_draft_orders(context.get("draftOrders"), patient_id)
    selections = context.get("selections") if hook == "order-select" else None
    return cards_layer.order_cards(state, drafts, selections, hook)


def cards_response(cards: list[Card]) -> bytes:
    """The CDS Hooks response body `{"cards": [...]}` as compact UTF-8 JSON.

    pydantic-core's encoder (pydantic's own dependency) writes the same JSON as
    `json.dumps(..., ensure_ascii=False)`, about 3.5 times faster than the
    standard library on a patient-view answer (bench/profile.py).
    """
    return pydantic_core.to_json({"cards": [c.to_json() for c in cards]})
