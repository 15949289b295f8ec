"""PatientState -> ranked CDS cards. Public entry points only."""

from cards.engine import order_cards, patient_view_cards
from cards.models import Card

__all__ = ["patient_view_cards", "order_cards", "Card"]
