"""The hook pipeline shared by the HTTP endpoint and the `mbc-cds cards` CLI:
resources -> PatientState (mappings) -> cards (cards), and the response body."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

import cards as cards_layer
import mappings
from cards.models import Card
from cards.orders import unchecked_drafts, unread_draft_text
from mappings.state import Gap
from service.errors import PreconditionFailed


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
    cards = cards_layer.order_cards(state, drafts, selections, hook)
    if not cards:
        refuse_unchecked_drafts(unchecked_drafts(drafts, selections))
    return cards


def refuse_unchecked_drafts(unchecked: list) -> None:
    """412 when drafts in focus could not be read and no card says so (every order card
    names them): an empty card list would tell the clinician the orders were checked and
    raised nothing. No card topic says "not checked" (DESIGN's card contract); the 412 is
    DESIGN's answer to data the service cannot get, here the drafted drug."""
    if not unchecked:
        return
    named = "; ".join(unread_draft_text(o) for o in unchecked[:3])
    more = f" (and {len(unchecked) - 3} more)" if len(unchecked) > 3 else ""
    raise PreconditionFailed(f"context.draftOrders: the drug of a drafted order could not be read, "
                             f"so it was not checked ({named}{more})")


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
