"""Lines of therapy and the cards that depend on their count (CR C.2 step 1; B.11-B.14)."""

from __future__ import annotations

import datetime as dt

from tests.cards.fhir_builder import FhirPatient, hr_positive_mbc
from tests.cards.helpers import card, regimen_topics, view
from tests.cards.invariants import check_invariants

AS_OF = dt.date(2025, 9, 1)


def run(patient: FhirPatient, as_of: dt.date = AS_OF):
    state = patient.state(as_of)
    cards = view(state)
    check_invariants(state, cards)
    return state, cards


def de_novo(pid: str, **kw) -> FhirPatient:
    kw.setdefault("primary", "2024-01-10")
    return hr_positive_mbc(pid, **kw)


# --- the same regimen restarted after a documented progression ---------------

def test_letrozole_palbociclib_restarted_months_after_a_documented_progression_is_a_second_line():
    # CR C.2 step 1: a documented progression ends the line; the rechallenge is line 2, and
    # elacestrant (after progression on >= 1 endocrine line, B.2) is offered for the ESR1 mutation
    p = (de_novo("lc-restart").regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-09-01")
         .progression("2024-08-25").regimen(("letrozole", "palbociclib"), "2025-01-10")
         .variant("ESR1", "p.D538G", on="2025-08-01"))
    state, cards = run(p)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert "elacestrant" in regimen_topics(cards)


def test_letrozole_palbociclib_restarted_after_a_pause_without_a_progression_stays_line_one():
    p = (de_novo("lc-pause").regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-09-01")
         .regimen(("letrozole", "palbociclib"), "2024-10-10"))
    state, cards = run(p)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1;")
