"""The hook pipeline shared by the HTTP endpoint and the `mbc-cds cards` CLI:
resources -> PatientState (mappings) -> cards (cards), and the response body."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

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
    incomplete: list[str] | None = None,
) -> list[Card]:
    """`notes`: data gaps from gathering the data; `incomplete`: those of them saying the
    patient's data may be incomplete (gap data-incomplete, which the order cards repeat)."""
    patient_id = str(context["patientId"])
    state = mappings.build_patient_state(resources, patient_id, as_of=as_of)
    missing = set(incomplete or ())
    for note in notes or []:
        state.gaps.append(Gap(code="data-incomplete" if note in missing else "data-gathering", message=note))
    if hook == "patient-view":
        return cards_layer.patient_view_cards(state)
    drafts = mappings.read_draft_orders(context.get("draftOrders"), patient_id)
    selections = context.get("selections") if hook == "order-select" else None
    # drafts whose drug could not be read get a card saying so (cards.orders.not_checked_cards),
    # never a 412: the request carried them, no FHIR data is missing (CDS Hooks 2.0.1)
    return cards_layer.order_cards(state, drafts, selections, hook)


def cards_response(cards: list[Card]) -> bytes:
    """The CDS Hooks response body `{"cards": [...]}` as compact UTF-8 JSON.

    orjson (already the request parser) writes the same bytes as pydantic-core's
    encoder did, and as `json.dumps(..., ensure_ascii=False)` with compact
    separators, in about a sixth of pydantic-core's time on a patient-view answer
    (15 against 92 us). Card JSON holds strings, booleans, dicts and lists, and only
    the builders' own small integers (Card.to_json drops None and NaN), so orjson's
    narrower range (64-bit integers) never matters here.
    """
    return orjson.dumps({"cards": [c.to_json() for c in cards]})
