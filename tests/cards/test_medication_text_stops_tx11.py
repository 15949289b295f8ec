"""What the cards say of a medication record whose text writes a CDK4/6 (or PI3K/AKT/mTOR) inhibitor
stopped in a shape the stop readers do not read (tx11): never that drug taken now (CR A.3, B.9,
B.10, C.2 step 1: a stopped inhibitor read current gives the running-line warning and withholds
the next line's options)."""

from __future__ import annotations

import pytest

from tests.cards.helpers import card
from tests.cards.test_medication_text_readthrough import _with_statement

STOPPED_BESIDE_CURRENT = [
    # tx11: each read "Currently on <the stopped drug> + ..." (the stop in a shape no stop reader
    # reads: a refusal after the partner, "d/c" which ISMP lists as
    # discontinue or discharge, a new line started after the stop, a pair after it, a list after "no
    # longer on"): which drugs are taken now cannot be read (gap medication-unreadable naming the
    # record; FHIR R4 MedicationStatement.status stopped written in the text)
    ("Letrozole + palbociclib; palbociclib d/c 2025-03", "palbociclib", '"d/c" (discontinued or discharged)'),
    ("Everolimus + exemestane; everolimus stopped; fulvestrant started", "everolimus", "stopped"),
    ("Capivasertib stopped; fulvestrant + palbociclib", "capivasertib", "stopped"),
    ("No longer on palbociclib, letrozole", "palbociclib", "stopped"),
    ("Letrozole + palbociclib - off palbociclib 2025-03", "palbociclib", "stopped"),
    # tx12: each read "Currently on <the stopped drug> + ..." (an endocrine switch read as a
    # combination: "Currently on fulvestrant + letrozole"; "Fulvestrant; stopped letrozole" read
    # letrozole alone): the drug written stopped is never read current, which drugs are taken now
    # cannot be read (gap medication-unreadable naming the record; CR A.3, B.2, C.2 step 1)
    ("Letrozole + goserelin; letrozole stopped; fulvestrant started", "letrozole", "stopped"),
    ("Off tamoxifen, on letrozole + goserelin", "tamoxifen", "stopped"),
    ("Off tamoxifen, now on letrozole + goserelin", "tamoxifen", "stopped"),
    ("Fulvestrant; stopped letrozole", "letrozole", "stopped"),
    ("Off goserelin, on letrozole", "goserelin", "stopped"),
]


@pytest.mark.parametrize("text, stopped, how", STOPPED_BESIDE_CURRENT)
def test_a_drug_written_stopped_beside_drugs_read_current_is_named_unclear_never_current(text, stopped, how):
    state, cards = _with_statement("stop-beside-current", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail and stopped not in {d.name for d in state.therapy.current_drugs()}
    assert (f'its text "{text}" writes {stopped} {how} beside drugs read as taken now: '
            "which drugs are taken now cannot be read") in detail


@pytest.mark.parametrize("text, both", [
    ("Letrozole + palbociclib; palbociclib stopped, restarted at lower dose", "letrozole + palbociclib"),
    ("Stopped palbociclib 2025-03, restarted 2025-04; letrozole", "letrozole + palbociclib"),
    ("Palbociclib stopped for 2 weeks; letrozole", "letrozole + palbociclib"),
    ("Off letrozole, on fulvestrant (letrozole held)", "fulvestrant + letrozole"),
    ("Letrozole stopped for 2 weeks; fulvestrant", "fulvestrant + letrozole"),
    ("Letrozole stopped, restarted; fulvestrant", "fulvestrant + letrozole")])
def test_a_stop_written_as_a_pause_or_hold_still_reads_both_current(text, both):
    state, cards = _with_statement("stop-beside-paused", text, "active", None)
    assert f"- Currently on {both} (metastatic line 1)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Palbociclib stopped and letrozole continued", "Off palbociclib, on letrozole",
                                  "Stopped palbociclib; now on letrozole", "Palbociclib + letrozole: palbociclib stopped"])
def test_a_cdk46i_written_stopped_beside_its_partner_written_going_on_leaves_the_partner_alone_now(text):
    # tx11: read "Currently on letrozole + palbociclib": "and" before the partner written going on,
    # "on" before the partner (as "continues on"), a colon before the stop of the drug named again
    # (as ";") write palbociclib stopped, letrozole going on in the same line, its end asked (drug_mentions
    # switch_stop_first_break_between, switch_stopped_second_between; CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("stop-partner-on", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "palbociclib (2024-02-01 to date unknown)" in detail
    assert "palbociclib" not in {d.name for d in state.therapy.current_drugs()}


@pytest.mark.parametrize("text", [
    # "and" before a bare partner may join the stopped list ("Stopped palbociclib and letrozole"): unclear
    "Palbociclib stopped and letrozole",
    # a declined dose change followed by more words (tx12)
    "Stopped palbociclib; letrozole dose reduction declined, stopped",
    "Stopped palbociclib; letrozole dose reduction declined; fulvestrant"])
def test_a_cdk46i_stopped_then_a_partner_whose_going_on_is_not_written_is_named_unclear(text):
    state, cards = _with_statement("stop-partner-unclear", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail and "which drugs are taken now cannot be read" in detail


def test_a_cdk46i_stopped_before_its_partner_with_ovarian_suppression_written_continue_leaves_them_alone_now():
    # tx11: named unclear ("continue" after two names was not read as going on; drug_mentions going_on_after)
    state, cards = _with_statement("stop-partner-continue", "Ribociclib stopped; letrozole + goserelin continue", "active", None)
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in \
        card(cards, "patient-summary")["detail"]
    assert {d.name for d in state.therapy.current_drugs()} == {"letrozole", "goserelin"}


@pytest.mark.parametrize("text, now", [("Letrozole (anastrozole stopped)", "letrozole"),
                                       ("Anastrozole; letrozole stopped", "anastrozole"),
                                       ("Stopped letrozole, fulvestrant started", "fulvestrant"),
                                       ("Off anastrozole, now on exemestane", "exemestane"),
                                       ("Tamoxifen stopped and letrozole continued", "letrozole")])
def test_an_endocrine_drug_written_stopped_and_not_read_current_leaves_the_other_drug_current_as_before(text, now):
    state, cards = _with_statement("endo-stop-other", text, "active", None)
    assert f"- Currently on {now} (metastatic line 1): the options below apply at progression." in \
        card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Stopped palbociclib; letrozole dose reduction declined",
                                  "Palbociclib stopped; letrozole dose change (declined)",
                                  "Stopped palbociclib; letrozole treatment break refused by patient"])
def test_a_cdk46i_written_stopped_beside_its_partner_whose_dose_change_was_declined_leaves_the_partner_alone_now(text):
    # tx12: named unclear since tx11 (read "Currently on letrozole + palbociclib" before): a change of
    # letrozole's dose refused writes letrozole going on at its dose, as "Declined letrozole dose
    # reduction" reads (drug_mentions refused_change_after, refused_after; CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("stop-partner-change-declined", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "palbociclib (2024-02-01 to date unknown)" in detail
    assert {d.name for d in state.therapy.current_drugs()} == {"letrozole"}


@pytest.mark.parametrize("text, earlier, later", [("Off letrozole, on fulvestrant", "letrozole", "fulvestrant"),
                                                  ("No longer on fulvestrant, on elacestrant", "fulvestrant", "elacestrant"),
                                                  ("Stopped letrozole; on fulvestrant", "letrozole", "fulvestrant")])
def test_an_endocrine_drug_written_stopped_then_on_another_is_the_switch_the_later_drug_alone_now(text, earlier, later):
    # tx12: read "Currently on fulvestrant + letrozole" (a switch read as a combination): a stop verb
    # opening the text, then "on" before the later drug, is the switch "now on" writes (drug_mentions
    # switch_after_stop_opening_between; CR B.2, B.9, C.2 step 1)
    state, cards = _with_statement("endo-switch-on", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {later} (metastatic line 1): the options below apply at progression." in detail
    assert f"- Metastatic line 1: {earlier} (then {later}), 2024-02-01 to now (active)" in detail
    assert {d.name for d in state.therapy.current_drugs()} == {later}


@pytest.mark.parametrize("text", ["Letrozole; goserelin stopped after BSO 2024-05", "Letrozole; stopped goserelin after BSO",
                                  "Letrozole + goserelin; goserelin stopped after BSO"])
def test_ovarian_suppression_written_stopped_after_the_endocrine_drug_leaves_that_drug_alone_now(text):
    # rt85: tx12 named the record unclear ("Metastatic lines: 0", first-line options shown for a
    # patient on letrozole): ovarian suppression is no line (CR "lines of therapy": OFS agents do not
    # count as lines); written stopped after the record's drug, it is not taken now and the record's
    # drug goes on, as a bone agent or glucose-lowering drug so written is read (tx14). Written first
    # ("Off goserelin, on letrozole") it stays named unclear (tx12)
    state, cards = _with_statement("ofs-stopped-after", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "could not be read" not in detail
    assert {d.name for d in state.therapy.current_drugs()} == {"letrozole"}
