"""FHIR resources -> PatientState. Public entry points only."""

from mappings.build import build_patient_state, read_draft_orders
from mappings.state import DraftOrder, PatientState

__all__ = ["build_patient_state", "read_draft_orders", "PatientState", "DraftOrder"]
