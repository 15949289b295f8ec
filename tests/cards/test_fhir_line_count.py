"""Lines of therapy and the cards that depend on their count (CR C.2 step 1; B.11-B.14)."""

from __future__ import annotations

import datetime as dt

from cards.knowledge import DRUGS
from tests.cards.fhir_builder import RXNORM, FhirPatient, _cc, hr_positive_mbc
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


def test_a_regimen_started_days_after_fulvestrant_stopped_for_progression_is_a_second_line():
    # fulvestrant stopped for progressive disease after three weeks; letrozole + palbociclib
    # four days later joined it as one regimen (started within the 28-day regimen window):
    # 'on line 1', no progression, endocrine sensitivity de novo. A documented progression
    # ends the line (CR C.2 step 1); within 6 months of first-line ET: primary (ABC4, CR C.1)
    p = (de_novo("lc-early-pd").med("fulvestrant", "2024-01-20", "2024-02-10", stopped_for="Progressive disease")
         .regimen(("letrozole", "palbociclib"), "2024-02-14"))
    state, cards = run(p)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert any(x.startswith("- Endocrine sensitivity: primary resistance") for x in summary["detail"].splitlines())


def test_a_drug_added_within_weeks_without_a_documented_progression_stays_one_regimen():
    p = de_novo("lc-early-add").med("letrozole", "2024-01-20").med("palbociclib", "2024-02-14")
    state, cards = run(p)
    assert [ln.regimen_text for ln in state.therapy.metastatic_lines] == ["letrozole + palbociclib"]


def test_monthly_letrozole_refills_going_on_after_a_documented_progression_stay_one_line():
    # a refill has no end of its own: it never says the drug stopped, so the series is one line
    p = de_novo("lc-refills")
    for month in ("2024-02-01", "2024-04-01", "2024-06-01", "2024-08-01", "2024-10-01"):
        p.refill("letrozole", month)
    state, cards = run(p.progression("2024-06-15"))
    assert [ln.regimen_text for ln in state.therapy.metastatic_lines] == ["letrozole"]


def test_letrozole_palbociclib_restarted_after_a_pause_without_a_progression_stays_line_one():
    p = (de_novo("lc-pause").regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-09-01")
         .regimen(("letrozole", "palbociclib"), "2024-10-10"))
    state, cards = run(p)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1;")


# --- a course the records leave open as a line, on the cards it decides -------

def _capecitabine_beside_letrozole_palbociclib_then_paclitaxel(pid: str) -> FhirPatient:
    """Capecitabine 2024-08..11 while letrozole + palbociclib went on to 2025-03, no progression
    documented (gap line-count-unclear), then paclitaxel: 3 lines, or 2 with capecitabine in line 1."""
    return (de_novo(pid).regimen(("letrozole", "palbociclib"), "2024-02-01", "2025-03-01")
            .med("capecitabine", "2024-08-01", "2024-11-01").med("paclitaxel", "2025-03-05"))


def test_sacituzumab_card_warns_when_the_course_left_open_as_a_line_decides_its_three_line_requirement():
    state, cards = run(_capecitabine_beside_letrozole_palbociclib_then_paclitaxel("lc-sg"))
    sg = card(cards, "sacituzumab-govitecan")
    assert sg["indicator"] == "warning"
    assert sg["summary"].endswith(" — caution: line count unclear")
    line = next(x for x in sg["detail"].splitlines() if "depends on a course the records leave unclear" in x)
    assert ("Patient: capecitabine (2024-08-01 to 2024-11-01) is counted as metastatic line 2 (line-count-unclear): "
            "3 systemic lines for metastatic disease (") in line
    assert ("met; read as part of metastatic line 1 (letrozole + palbociclib): 2 systemic lines for metastatic "
            "disease, at least 3 needed (") in line
    assert line.endswith("not met — MedicationStatement/med-capecitabine-9 (2024-08-01)")


def test_datopotamab_card_has_no_line_count_caution_when_the_course_left_open_is_chemotherapy_either_way():
    # capecitabine counts as chemotherapy for metastatic disease whether it was its own line
    # or given beside letrozole + palbociclib (B.13: "chemotherapy for ... metastatic disease")
    state, cards = run(_capecitabine_beside_letrozole_palbociclib_then_paclitaxel("lc-dato"))
    dato = card(cards, "datopotamab-deruxtecan")
    assert "line count unclear" not in dato["summary"]
    assert "leave unclear as a line" not in dato["detail"]


# --- capecitabine after paclitaxel stopped as planned (switch maintenance) ----

def _paclitaxel_then_capecitabine(pid: str, stopped_for: str | None) -> FhirPatient:
    """Letrozole + palbociclib progressed, paclitaxel 2024-10..2025-02 (stopped for `stopped_for`),
    capecitabine from the day paclitaxel stopped; doxorubicin adjuvant (for eribulin's label)."""
    return (hr_positive_mbc(pid, primary="2016-03-01").med("doxorubicin", "2016-04-01", "2016-06-01")
            .regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-10-01").progression("2024-09-20")
            .med("paclitaxel", "2024-10-05", "2025-02-01", status="stopped" if stopped_for else None,
                 stopped_for=stopped_for)
            .med("capecitabine", "2025-02-01"))


def test_capecitabine_maintenance_after_paclitaxel_asks_whether_it_is_a_line_and_warns_the_cards_it_decides():
    # no source settles whether a planned switch is a line (CR C.2 step 1 quotes no line
    # definition for it): the count stays (3 lines) and the summary asks
    state, cards = run(_paclitaxel_then_capecitabine("lc-maint", "Switch to maintenance"))
    summary = card(cards, "patient-summary")
    line = next(x for x in summary["detail"].splitlines() if "switch maintenance" in x)
    assert line.startswith("- capecitabine (from 2025-02-01) followed paclitaxel (2024-10-05 to 2025-02-01) at once, "
                           "stopped as planned (maintenance, completed cycles) without a documented progression. "
                           "It is counted as metastatic line 3, and line 2 as ended by progression")
    sg = card(cards, "sacituzumab-govitecan")
    assert sg["indicator"] == "warning" and sg["summary"].endswith(" — caution: line count unclear")
    chemo = card(cards, "chemotherapy")
    assert "caution: eribulin line count unclear" in chemo["summary"]
    eribulin = next(x for x in chemo["detail"].splitlines() if x.startswith("- ⚠️ Eribulin: "))
    assert "2 chemotherapy lines for metastatic disease (" in eribulin
    assert "read as part of metastatic line 2 (paclitaxel): " in eribulin
    assert "1 chemotherapy line for metastatic disease, at least 2 needed" in eribulin


def test_capecitabine_started_a_week_before_paclitaxel_maintenance_stop_is_asked_about_too():
    # switch records often overlap by a few days: still a switch "at once"
    p = (de_novo("lc-overlap").regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-10-01").progression("2024-09-20")
         .med("paclitaxel", "2024-10-05", "2025-02-01", status="stopped", stopped_for="maintenance")
         .med("capecitabine", "2025-01-25"))
    state, cards = run(p)
    assert any("followed paclitaxel (2024-10-05 to 2025-02-01) at once" in x
               for x in card(cards, "patient-summary")["detail"].splitlines())


def test_capecitabine_after_paclitaxel_completed_as_planned_is_one_line_and_the_summary_asks():
    state, cards = run(_paclitaxel_then_capecitabine("lc-done", "Completed planned cycles"))
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert any("It is counted as part of metastatic line 2 (a switch for a stated reason that is not progression)" in x
               for x in summary["detail"].splitlines())


def test_a_switch_to_maintenance_written_beside_a_suspected_progression_is_not_called_stopped_as_planned():
    # the hedged stop asks whether the disease progressed (stop-reason-unclear): the planned-switch
    # question said "stopped as planned" beside it, a clash; it now names both
    state, cards = run(_paclitaxel_then_capecitabine("lc-hedged", "Suspected progression; switch maintenance"))
    detail = card(cards, "patient-summary")["detail"]
    assert "paclitaxel: 'Suspected progression; switch maintenance'" in detail
    line = next(x for x in detail.splitlines() if "switch maintenance) is a line of its own" in x)
    assert "stopped as planned" not in line
    assert ("followed paclitaxel (2024-10-05 to 2025-02-01) at once, stopped for a reason that names a plan "
            "(maintenance, completed cycles) beside a progression only suspected, not documented. It is counted as "
            "metastatic line 3") in line


def test_capecitabine_after_paclitaxel_stopped_for_neuropathy_or_progression_raises_no_planned_switch_question():
    for pid, why in (("lc-neuro", "Neuropathy"), ("lc-pd", "Disease progression"), ("lc-none", None)):
        state, cards = run(_paclitaxel_then_capecitabine(pid, why))
        assert "line-count-unclear" not in {g.code for g in state.gaps}, why


# --- chemotherapy with no end recorded beside endocrine therapy still recorded -------

def test_capecitabine_without_an_end_while_letrozole_palbociclib_is_still_recorded_asks_about_the_current_line():
    # CR C.2 step 1 makes capecitabine line 2 (line 1 progressed by the regimen change); the
    # records also keep line 1 running, so the summary names the question instead of deciding
    state, cards = run(de_novo("lc-open").regimen(("letrozole", "palbociclib"), "2024-02-01")
                       .med("capecitabine", "2024-08-01"))
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    line = next(x for x in summary["detail"].splitlines() if "confirm the current therapy" in x)
    assert line.startswith("- capecitabine (from 2024-08-01, no end recorded) is recorded as given while the "
                           "endocrine therapy of metastatic line 1 (letrozole + palbociclib) is recorded as still "
                           "given too, without a documented progression. It is counted as metastatic line 2")


def test_capecitabine_without_an_end_after_letrozole_palbociclib_ended_raises_no_question():
    state, cards = run(de_novo("lc-open-after").regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-07-25")
                       .med("capecitabine", "2024-08-01"))
    assert "line-count-unclear" not in {g.code for g in state.gaps}


def test_sacituzumab_not_offered_at_two_lines_says_in_the_summary_that_the_other_reading_gives_three():
    # capecitabine after paclitaxel "completed planned cycles" is read as one line: 2 lines,
    # sacituzumab govitecan (ET + >= 2 more, B.12) not offered; read as its own line, 3
    state, cards = run(_paclitaxel_then_capecitabine("lc-done-sg", "Completed planned cycles"))
    summary = card(cards, "patient-summary")
    line = next(x for x in summary["detail"].splitlines() if x.startswith("- Sacituzumab govitecan: "))
    assert " — line count unclear: capecitabine (from 2025-02-01) is counted as part of metastatic line 2 " in line
    assert "read as metastatic line 3: 3 systemic lines for metastatic disease (" in line
    assert line.endswith(", met")


def test_capecitabine_after_paclitaxel_not_completed_for_neuropathy_raises_no_planned_switch_question():
    # "not completed" / "unable to complete" is a course cut short, not a planned switch
    for pid, why in (("lc-notdone", "Not completed due to neuropathy"), ("lc-unable", "Unable to complete: neuropathy")):
        state, cards = run(_paclitaxel_then_capecitabine(pid, why))
        assert "line-count-unclear" not in {g.code for g in state.gaps}, why


def test_capecitabine_after_paclitaxel_not_completed_as_planned_raises_no_planned_switch_question():
    # "as planned" / "planned cycles" beside a negated completion is a course cut short, not a
    # planned switch (local_codes.yaml stop_reasons not_stated_patterns)
    for pid, why in (("lc-notplan", "Not completed as planned due to neuropathy"),
                     ("lc-notcyc", "Planned cycles not completed: neuropathy"),
                     ("lc-didnot", "Did not complete planned cycles (neuropathy)")):
        state, cards = run(_paclitaxel_then_capecitabine(pid, why))
        assert "line-count-unclear" not in {g.code for g in state.gaps}, why


def test_a_sacituzumab_order_selected_when_the_course_left_open_decides_its_line_count_warns():

    state, _ = run(_capecitabine_beside_letrozole_palbociclib_then_paclitaxel("lc-order"))
    got = _sacituzumab_selected(state)
    assert [(c["indicator"], c["summary"]) for c in got] == [
        ("warning", "Sacituzumab govitecan: line count unclear (2024-08-01) — caution")]
    assert "- capecitabine (2024-08-01 to 2024-11-01) is counted as metastatic line 2 (line-count-unclear)" in got[0]["detail"]


def test_a_course_asked_about_twice_is_named_once_in_the_line_count_caution():
    # capecitabine followed paclitaxel "switch maintenance" at once (planned switch) while
    # letrozole went on after it (given beside the endocrine line): two questions about one
    # course, one other reading; the caution named the course and both counts twice

    p = (de_novo("lc-twice").med("fulvestrant", "2024-01-20", "2024-03-01", status="stopped",
                                 stopped_for="Progressive disease")
         .med("letrozole", "2024-03-10", "2025-06-01")
         .med("paclitaxel", "2024-03-12", "2024-11-01", status="stopped", stopped_for="Switch maintenance")
         .med("capecitabine", "2024-11-05", "2025-02-01", status="stopped"))
    state, _ = run(p)
    got = _sacituzumab_selected(state)
    assert [(c["indicator"], c["summary"]) for c in got] == [
        ("warning", "Sacituzumab govitecan: line count unclear (2024-11-05) — caution")]
    assert got[0]["detail"].count("capecitabine (2024-11-05 to 2025-02-01) is counted as metastatic line 3") == 1


def test_a_de_novo_patient_progressed_on_palbociclib_with_an_unnamed_ai_has_no_endocrine_sensitivity_guessed():
    # monthly refills written "Palbociclib 125 mg daily + AI" (the AI not named: gap
    # medication-unreadable), progression after 7 months, then fulvestrant: the line reads as
    # palbociclib alone (not endocrine), and the summary said 'de novo metastatic (no endocrine
    # therapy before the metastatic diagnosis)' past a progression on AI + CDK4/6i, which ABC4
    # (CR C.1) classes by the first-line ET (secondary here, had the AI been read): unknown
    p = de_novo("lc-unnamed-ai")
    for i, month in enumerate(("2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01",
                               "2024-08-01")):
        p.add({"resourceType": "MedicationRequest", "id": f"rx-palbo-ai-{i}", "status": "completed",
               "intent": "order", "medicationCodeableConcept": {"text": "Palbociclib 125 mg daily + AI"},
               "subject": {"reference": "Patient/lc-unnamed-ai"}, "authoredOn": month})
    state, cards = run(p.progression("2024-08-20").med("fulvestrant", "2024-09-01"))
    detail = card(cards, "patient-summary")["detail"].splitlines()
    assert "- Endocrine sensitivity: unknown" in detail
    assert "medication-unreadable" in {g.code for g in state.gaps}


# --- single-dose administrations paused over a documented progression ----------

def _fulvestrant_doses(p: FhirPatient, *days: str) -> FhirPatient:
    """One MedicationAdministration per injection (FHIR R4: a dose given at effectiveDateTime)."""
    for day in days:
        p.add({"resourceType": "MedicationAdministration", "id": p._id("ma-fulvestrant"), "status": "completed",
               "medicationCodeableConcept": _cc(RXNORM, DRUGS["fulvestrant"].rxnorm, "fulvestrant"),
               "subject": p._subject(), "effectiveDateTime": day})
    return p


_FIRST_COURSE = ("2024-02-05", "2024-03-05", "2024-04-05")
_RESTART = ("2024-10-05", "2024-11-05", "2024-12-05")


def test_fulvestrant_injections_restarted_months_after_a_progression_in_the_pause_are_a_second_line():
    # single doses never read as stopped: a progression in a five-month pause between two
    # injections was not counted and the restart read as the same first line (endocrine
    # resistance de novo); CR C.2 step 1: a documented progression ends the line
    p = _fulvestrant_doses(de_novo("lc-doses"), *_FIRST_COURSE).progression("2024-05-10")
    state, cards = run(_fulvestrant_doses(p, *_RESTART), dt.date(2025, 1, 15))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    lines = state.therapy.metastatic_lines
    assert [(ln.names, ln.start, ln.end, ln.progressed) for ln in lines] == [
        (["fulvestrant"], dt.date(2024, 2, 5), dt.date(2024, 4, 5), True),
        (["fulvestrant"], dt.date(2024, 10, 5), None, False)]
    assert state.therapy.endocrine_resistance == "primary"


def test_fulvestrant_injections_with_palbociclib_recorded_to_an_end_and_restarted_after_a_progression_are_a_second_line():
    # the same pause with palbociclib beside the injections as a MedicationStatement ended
    # before the progression: the pause rule read only injection series, so the restart stayed
    # line 1 (fulvestrant + palbociclib to 2024-12-05); CR C.2 step 1: a documented progression
    # ends the line
    p = _fulvestrant_doses(de_novo("lc-doses-palbo"), *_FIRST_COURSE).med("palbociclib", "2024-02-05", "2024-04-25")
    state, cards = run(_fulvestrant_doses(p.progression("2024-05-10"), *_RESTART), dt.date(2025, 1, 15))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert [(ln.names, ln.start, ln.end, ln.progressed) for ln in state.therapy.metastatic_lines] == [
        (["fulvestrant", "palbociclib"], dt.date(2024, 2, 5), dt.date(2024, 4, 25), True),
        (["fulvestrant"], dt.date(2024, 10, 5), None, False)]


def test_fulvestrant_injections_paused_without_a_progression_or_given_on_through_one_stay_one_line():
    paused = _fulvestrant_doses(de_novo("lc-pause"), *_FIRST_COURSE, *_RESTART)
    monthly = _fulvestrant_doses(de_novo("lc-beyond"), *_FIRST_COURSE, "2024-05-05", "2024-06-05", "2024-07-05",
                                 "2024-08-05", "2024-09-05", *_RESTART).progression("2024-05-10")
    for p in (paused, monthly):
        state, cards = run(p, dt.date(2025, 1, 15))
        assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 1;")
        assert [ln.names for ln in state.therapy.metastatic_lines] == [["fulvestrant"]]


def test_a_letrozole_refill_series_with_a_pause_and_no_progression_stays_one_line():
    p = de_novo("lc-refills")
    for day in _FIRST_COURSE + _RESTART:
        p.refill("letrozole", day)
    state, cards = run(p, dt.date(2025, 1, 15))
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole"]]
    assert state.therapy.endocrine_resistance == "de-novo"


def _sacituzumab_selected(state) -> list[dict]:
    """The order-select cards for a drafted sacituzumab govitecan, selected, on `state`."""
    from cards.engine import order_cards
    from mappings.state import DraftOrder, Drug

    draft = DraftOrder(resource_type="MedicationRequest", resource_id="mr-sg", reference="MedicationRequest/mr-sg",
                       drugs=[Drug(name="sacituzumab govitecan", drug_class="trop2-adc", rxnorm="2360232")],
                       text="sacituzumab govitecan")
    return [c.to_json() for c in order_cards(state, [draft], [draft.reference], "order-select")]
