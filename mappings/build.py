"""Build a PatientState from the patient's FHIR resources (JSON dicts).

Placeholder until the mappings issue lands: it only counts what it received.
Contract (keep it):

    build_patient_state(resources, patient_id, as_of=None) -> PatientState
        resources: every resource gathered for the hook (dicts, any type, any
        order, possibly duplicated across prefetch keys, possibly malformed).
        Never raises on bad data: unreadable resources become `ignored` entries.

    read_draft_orders(bundle) -> list[DraftOrder]
        bundle: context.draftOrders (a Bundle dict); never raises.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from mappings.state import DraftOrder, PatientState


def build_patient_state(
    resources: list[dict[str, Any]], patient_id: str, as_of: date | None = None
) -> PatientState:
    counts = Counter(
        r.get("resourceType", "unknown") for r in resources if isinstance(r, dict)
    )
    return PatientState(
        patient_id=patient_id, as_of=as_of or date.today(), resource_counts=dict(counts)
    )


def read_draft_orders(bundle: Any) -> list[DraftOrder]:
    if not isinstance(bundle, dict):
        return []
    orders = []
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            rid = resource.get("id") if isinstance(resource.get("id"), str) else None
            orders.append(DraftOrder(
                resource_type=resource["resourceType"],
                resource_id=rid,
                reference=f"{resource['resourceType']}/{rid}" if rid else None,
            ))
    return orders
