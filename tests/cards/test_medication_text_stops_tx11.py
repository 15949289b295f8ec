"""What the cards say of a medication record whose text writes a CDK4/6 (or PI3K/AKT/mTOR) inhibitor
stopped in a shape the stop readers do not read (tx11): never that drug taken now (CR A.3, B.9,
B.10, C.2 step 1: a stopped inhibitor read current gives the running-line warning and withholds
the next line's options)."""

from __future__ import annotations

import pytest

from tests.cards.helpers import card
from tests.cards.test_medication_text_readthrough import _with_statement

STOPPED_BESIDE_CURRENT = [
    ("Stopped palbociclib; letrozole dose reduction declined", "palbociclib", "stopped"),
    ("Palbociclib stopped and letrozole continued", "palbociclib", "stopped"),
    ("Off palbociclib, on letrozole", "palbociclib", "stopped"),
    ("Palbociclib + letrozole: palbociclib stopped", "palbociclib", "stopped"),
    ("Letrozole + palbociclib; palbociclib d/c 2025-03", "palbociclib", '"d/c" (discontinued or discharged)'),
    ("Everolimus + exemestane; everolimus stopped; fulvestrant started", "everolimus", "stopped"),
    ("Capivasertib stopped; fulvestrant + palbociclib", "capivasertib", "stopped"),
    ("No longer on palbociclib, letrozole", "palbociclib", "stopped"),
    ("Letrozole + palbociclib - off palbociclib 2025-03", "palbociclib", "stopped"),
]


@pytest.mark.parametrize("text, stopped, how", STOPPED_BESIDE_CURRENT)
def test_a_cdk46i_or_pi3k_inhibitor_written_stopped_beside_drugs_read_current_is_named_unclear_never_current(text, stopped, how):
    # tx11: each read "Currently on <the stopped drug> + ..." (the stop in a shape no stop reader
    # reads: a refusal after the partner, "and", "on <partner>", a colon, "d/c" which ISMP lists as
    # discontinue or discharge, a new line started after the stop, a pair after it, a list after "no
    # longer on"): which drugs are taken now cannot be read (gap medication-unreadable naming the
    # record; FHIR R4 MedicationStatement.status stopped written in the text)
    state, cards = _with_statement("stop-beside-current", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail and stopped not in {d.name for d in state.therapy.current_drugs()}
    assert (f'its text "{text}" writes {stopped} {how} beside drugs read as taken now: '
            "which drugs are taken now cannot be read") in detail


@pytest.mark.parametrize("text", ["Off palbociclib, on letrozole", "Capivasertib stopped; fulvestrant + palbociclib"])
def test_such_a_record_whose_course_ended_keeps_its_line(text):
    state, cards = _with_statement("stop-beside-ended", text, "completed", "2025-01-10")
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line") and "Currently on" not in summary["detail"]


@pytest.mark.parametrize("text", ["Letrozole + palbociclib; palbociclib stopped, restarted at lower dose",
                                  "Stopped palbociclib 2025-03, restarted 2025-04; letrozole",
                                  "Palbociclib stopped for 2 weeks; letrozole"])
def test_a_cdk46i_stop_written_as_a_pause_still_reads_both_current(text):
    state, cards = _with_statement("stop-beside-paused", text, "active", None)
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]
