"""Entry points the service calls. The pathway issue fills these in.

Contract (keep it):
    patient_view_cards(state) -> list[Card]   ranked, patient-summary first
    order_cards(state, drafts, selections, hook) -> list[Card]
        drafts: list[DraftOrder]; selections: list of "Type/id" (order-select)
        or None (order-sign: check every draft); hook: "order-select"|"order-sign"
"""

from __future__ import annotations

from mappings.state import DraftOrder, PatientState

from cards.models import Card, topic_source
from cards.orders import order_check_cards

SERVICE_LABEL = "mbc-cds HR+/HER2- MBC pathway"
SERVICE_URL = "https://github.com/mbc-cds/mbc-cds"


def summary_card(state: PatientState) -> Card:
    counts = ", ".join(f"{n} {t}" for t, n in sorted(state.resource_counts.items())) or "none"
    return Card(
        summary="What the service understood (data received)",
        indicator="info",
        source=topic_source("patient-summary", SERVICE_LABEL, SERVICE_URL),
        detail=f"Resources read for Patient/{state.patient_id}: {counts}.",
    )


def patient_view_cards(state: PatientState) -> list[Card]:
    return [summary_card(state)]


def order_cards(
    state: PatientState,
    drafts: list[DraftOrder],
    selections: list[str] | None,
    hook: str,
) -> list[Card]:
    return order_check_cards(state, drafts, selections, hook)
