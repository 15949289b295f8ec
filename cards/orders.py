"""Order checks for order-select / order-sign (filled in by the order-checks issue).

Contract: order_check_cards(state, drafts, selections, hook) -> list[Card]
"""

from __future__ import annotations

from mappings.state import DraftOrder, PatientState

from cards.models import Card


def order_check_cards(
    state: PatientState,
    drafts: list[DraftOrder],
    selections: list[str] | None,
    hook: str,
) -> list[Card]:
    return []
