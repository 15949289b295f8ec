"""A drug of the running first line swapped for a drug of its class (ribociclib -> palbociclib for
toxicity, anastrozole -> letrozole), no progression documented on the line: a substitution within
the line, not a new line (CR C.2 step 1: a new line starts when a new class/regimen starts after
progression; mappings/therapy.py reads a drug stopped for intolerance as swapped within its line).
The swapped regimen is still a first-line AI + CDK4/6 inhibitor regimen, which the first-line labels
give (B.10: each CDK4/6 inhibitor "in combination with an aromatase inhibitor as initial
endocrine-based therapy"), so the order hooks judge it in the line's own phase: no "A first-line
option; the patient has had metastatic therapy" card; the active-drug card (stop the old drug if
switching) is the one card about it. A progression documented on the line starts a new line: the
first-line regimen is not indicated then. A draft of another class (fulvestrant on an AI line) is
another labelled regimen (B.9), not a swap: judged as before.

Whole FHIR patients through the mappings (tests/cards/test_fhir_scenarios.py builders).
"""

from __future__ import annotations

import datetime as dt

import pytest

from cards.engine import patient_view_cards
from cards.knowledge import DRUGS

from tests.cards.test_fhir_scenarios import _draft, _order, de_novo
from tests.orders import test_order_hooks_http as http

client = http.client  # the HTTP fixture

AS_OF = dt.date(2024, 8, 1)
FIRST_LINE_NOT_INDICATED = "not indicated — A first-line option; the patient has had metastatic therapy"


def on_line_1(pid: str, *names: str, birth: str = "1958-05-01", menopause: str = "postmenopausal",
              progression: str | None = None, since: str = "2024-05-01"):
    """De novo metastatic disease (2024-01-15), the drugs named taken since `since` (line 1, running;
    3 months before the draft: a same-class switch within SUBSTITUTION_MONTHS of the line's start,
    which mappings/therapy.py reads as a substitution once recorded)."""
    p = de_novo(pid, birth=birth, menopause=menopause).regimen(names, since)
    if progression:
        p.progression(progression)
    return p.state(AS_OF)


def order(state, *names: str) -> list[dict]:
    return _order(state, [_draft(n, DRUGS[n].drug_class, DRUGS[n].rxnorm) for n in names])


def shown(cards: list[dict]) -> list[tuple[str, str, str]]:
    return [(c["indicator"], c["source"]["topic"]["code"], c["summary"]) for c in cards]


@pytest.mark.parametrize("line, drafted, active_card", [
    (("letrozole", "ribociclib"), ("palbociclib",),
     "Palbociclib drafted while ribociclib is active: no labelled regimen gives both — stop ribociclib if switching"),
    (("letrozole", "ribociclib"), ("letrozole", "palbociclib"),
     "Palbociclib drafted while ribociclib is active: no labelled regimen gives both — stop ribociclib if switching"),
    (("letrozole", "ribociclib"), ("abemaciclib",),
     "Abemaciclib drafted while ribociclib is active: no labelled regimen gives both — stop ribociclib if switching"),
    (("letrozole", "ribociclib"), ("anastrozole",),
     "Anastrozole drafted while letrozole is active: no labelled regimen gives both — stop letrozole if switching"),
    (("anastrozole", "palbociclib"), ("letrozole",),
     "Letrozole drafted while anastrozole is active: no labelled regimen gives both — stop anastrozole if switching"),
    (("anastrozole", "palbociclib"), ("letrozole", "palbociclib"),
     "Letrozole drafted while anastrozole is active: no labelled regimen gives both — stop anastrozole if switching"),
])
def test_a_drug_of_a_running_first_line_swapped_for_one_of_its_class_gets_only_the_card_to_stop_the_old_drug(
        line, drafted, active_card):
    cards = order(on_line_1("swap", *line), *drafted)
    assert shown(cards) == [("warning", "order-not-indicated", active_card)]


def test_a_swap_on_a_first_line_whose_progression_is_documented_is_a_new_line_and_the_first_line_regimen_not_indicated():
    state = on_line_1("swap-after-pd", "letrozole", "ribociclib", progression="2024-07-01")
    summaries = [c["summary"] for c in order(state, "letrozole", "palbociclib")]
    assert any(s.startswith("Letrozole + palbociclib: " + FIRST_LINE_NOT_INDICATED) for s in summaries), summaries
    assert any(s.startswith("Palbociclib drafted while ribociclib is active") for s in summaries)


def test_a_progression_dated_before_the_first_line_started_does_not_make_a_swap_in_it_a_new_line():
    state = de_novo("pd-before").progression("2024-04-20").regimen(("letrozole", "ribociclib"), "2024-05-01").state(AS_OF)
    summaries = [c["summary"] for c in order(state, "letrozole", "palbociclib")]
    assert summaries == ["Palbociclib drafted while ribociclib is active: no labelled regimen gives both — "
                         "stop ribociclib if switching"]


def test_fulvestrant_drafted_on_a_running_aromatase_inhibitor_line_is_another_regimen_not_a_swap():
    # fulvestrant is another endocrine class and another labelled regimen (B.9): judged as before
    cards = order(on_line_1("to-fulv", "letrozole", "ribociclib"), "fulvestrant", "ribociclib")
    assert shown(cards) == [("warning", "order-not-indicated", "Fulvestrant drafted while letrozole is active: no "
                             "labelled regimen gives both — stop letrozole if switching")]


def test_a_premenopausal_woman_swapping_her_cdk46_inhibitor_without_ovarian_suppression_is_told_to_add_it_to_the_ai_regimen():
    state = on_line_1("premeno-swap", "letrozole", "ribociclib", birth="1980-01-01", menopause="premenopausal")
    summaries = [c["summary"] for c in order(state, "palbociclib")]
    assert "Premenopausal woman: add ovarian suppression to Aromatase inhibitor + CDK4/6 inhibitor" in summaries
    assert not any("Fulvestrant" in s for s in summaries), summaries


def test_patient_view_shows_the_running_line_the_swap_belongs_to_and_the_order_hooks_judge_it_as_that_line():
    state = on_line_1("pv-swap", "letrozole", "ribociclib")
    summary = next(c for c in patient_view_cards(state) if c.source.topic.code == "patient-summary")
    assert "on line 1" in summary.summary
    assert ("- Currently on letrozole + ribociclib (metastatic line 1): the options below apply at progression."
            in summary.detail)
    assert not any(FIRST_LINE_NOT_INDICATED in c["summary"] for c in order(state, "letrozole", "palbociclib"))



# --- the swap as patient-view will count it once recorded (mappings/therapy.py _looks_like_substitution,
# _continues): a same-class switch is a substitution only within SUBSTITUTION_MONTHS (6) of the line's
# start with the rest of the regimen continuing; later, or with every drug replaced, the regimen-change
# proxy (CR C.2 step 1) makes it a new line, and the order hooks judge the draft as that new line ------

def recorded_lines(p) -> list[tuple[int, list[str]]]:
    return [(ln.number, ln.names) for ln in p.state(dt.date(2024, 8, 2)).therapy.metastatic_lines]


def test_a_cdk46_inhibitor_swapped_six_months_into_the_first_line_with_no_reason_is_judged_as_the_next_line():
    state = on_line_1("late-swap", "letrozole", "ribociclib", since="2024-02-01")
    summaries = [c["summary"] for c in order(state, "letrozole", "palbociclib")]
    assert any(s.startswith("Letrozole + palbociclib: " + FIRST_LINE_NOT_INDICATED) for s in summaries), summaries
    # patient-view, the switch recorded: letrozole + palbociclib is metastatic line 2
    recorded = (de_novo("late-swap").med("letrozole", "2024-02-01").med("ribociclib", "2024-02-01", "2024-08-01")
                .med("palbociclib", "2024-08-01"))
    assert recorded_lines(recorded) == [(1, ["letrozole", "ribociclib"]), (2, ["letrozole", "palbociclib"])]


def test_both_drugs_of_a_running_first_line_replaced_at_once_are_judged_as_a_new_line():
    state = on_line_1("both-swapped", "letrozole", "ribociclib")
    summaries = [c["summary"] for c in order(state, "anastrozole", "palbociclib")]
    assert any(s.startswith("Anastrozole + palbociclib: " + FIRST_LINE_NOT_INDICATED) for s in summaries), summaries
    # patient-view, the switch recorded: anastrozole + palbociclib is metastatic line 2
    recorded = (de_novo("both-swapped").regimen(("letrozole", "ribociclib"), "2024-05-01", "2024-08-01")
                .regimen(("anastrozole", "palbociclib"), "2024-08-01"))
    assert recorded_lines(recorded) == [(1, ["letrozole", "ribociclib"]), (2, ["anastrozole", "palbociclib"])]


def test_a_cdk46_inhibitor_swapped_three_months_into_the_first_line_is_one_line_in_patient_view_too():
    recorded = (de_novo("early-swap").med("letrozole", "2024-05-01").med("ribociclib", "2024-05-01", "2024-08-01")
                .med("palbociclib", "2024-08-01"))
    assert recorded_lines(recorded) == [(1, ["letrozole", "ribociclib", "palbociclib"])]

# --- fulvestrant + CDK4/6 inhibitor lines: the running line is no earlier use of the combination ---

def test_a_cdk46_inhibitor_swapped_within_a_running_fulvestrant_ribociclib_line_is_no_repeat_of_the_combination():
    # B.9 (iv): palbociclib / abemaciclib + fulvestrant after progression on endocrine therapy: a
    # relapse 2 months after adjuvant letrozole (endocrine-resistant, C.1) is one; the running
    # fulvestrant + ribociclib line is the line being swapped, not an earlier fulvestrant + CDK4/6i line
    from tests.cards.test_fhir_scenarios import adjuvant_relapse

    state = adjuvant_relapse("fr-resistant", "2023-11-15").regimen(("fulvestrant", "ribociclib"), "2024-05-01").state(AS_OF)
    assert shown(order(state, "abemaciclib")) == [("warning", "order-not-indicated", "Abemaciclib drafted while "
                                                   "ribociclib is active: no labelled regimen gives both — stop ribociclib if switching")]
    # line 2 after a progression on letrozole + ribociclib: the same
    state = (de_novo("fr-line-2").regimen(("letrozole", "ribociclib"), "2024-02-01", "2024-05-01").progression("2024-04-25")
             .regimen(("fulvestrant", "ribociclib"), "2024-05-10").state(AS_OF))
    assert [c["summary"] for c in order(state, "fulvestrant", "palbociclib")] == [
        "Palbociclib drafted while ribociclib is active: no labelled regimen gives both — stop ribociclib if switching"]



def test_a_progression_dated_the_day_the_running_line_started_is_the_one_before_it_not_one_on_it():
    # the progression on line 1 recorded on the day line 2 starts (mappings/therapy.py
    # _progression_documented: a progression on a line is dated after its start): the abemaciclib swap
    # stays within line 2, as patient-view counts it once recorded
    state = (de_novo("pd-on-start").regimen(("letrozole", "ribociclib"), "2024-02-01", "2024-05-10")
             .progression("2024-05-10").regimen(("fulvestrant", "ribociclib"), "2024-05-10").state(AS_OF))
    assert [c["summary"] for c in order(state, "fulvestrant", "abemaciclib")] == [
        "Abemaciclib drafted while ribociclib is active: no labelled regimen gives both — stop ribociclib if switching"]
    recorded = (de_novo("pd-on-start").regimen(("letrozole", "ribociclib"), "2024-02-01", "2024-05-10")
                .progression("2024-05-10").med("fulvestrant", "2024-05-10").med("ribociclib", "2024-05-10", "2024-08-01")
                .med("abemaciclib", "2024-08-01"))
    assert recorded_lines(recorded) == [(1, ["letrozole", "ribociclib"]), (2, ["fulvestrant", "ribociclib", "abemaciclib"])]

def test_palbociclib_swapped_into_a_de_novo_first_line_of_fulvestrant_ribociclib_is_not_indicated_as_no_progression_on_endocrine_therapy():
    # fulvestrant + ribociclib is labelled as initial endocrine-based therapy, palbociclib + fulvestrant
    # only after progression on endocrine therapy (B.9 (iii)/(iv)): de novo, none before the line
    cards = order(on_line_1("fr-de-novo", "fulvestrant", "ribociclib"), "palbociclib")
    card = next(c for c in cards if c["summary"].startswith("Fulvestrant + palbociclib: not indicated"))
    assert card["summary"].startswith("Fulvestrant + palbociclib: not indicated — No progression on endocrine therapy "
                                      "before the running line 1: fulvestrant + ribociclib")
    assert "Already treated with fulvestrant" not in card["detail"]
    # replaced by the first-line regimens, not by the options at progression
    assert [s["label"] for s in card["suggestions"]][:1] == ["Replace with Letrozole + abemaciclib"]
    assert "Trastuzumab deruxtecan" not in card["detail"]


def test_a_replacement_for_a_swapped_cdk46_inhibitor_does_not_order_again_the_running_drug_it_swaps_out():
    # de novo fulvestrant + ribociclib running, palbociclib drafted (ribociclib swapped out): the
    # pathway's recommended first-line choice, letrozole + ribociclib, would put a second ribociclib
    # order beside the active one; the next labelled choice of the regimen without it is offered
    # (B.10: abemaciclib or palbociclib "in combination with an aromatase inhibitor as initial
    # endocrine-based therapy"; C.3 row 17: ribociclib / abemaciclib ranked above palbociclib)
    cards = order(on_line_1("fr-replace", "fulvestrant", "ribociclib"), "palbociclib")
    card = next(c for c in cards if c["summary"].startswith("Fulvestrant + palbociclib: not indicated"))
    created = [a["resource"]["medicationCodeableConcept"]["text"] if "text" in a["resource"]["medicationCodeableConcept"]
               else a["description"] for s in card["suggestions"] for a in s["actions"] if a["type"] == "create"]
    assert card["suggestions"] and not any("ribociclib" in c.lower() for c in created), created
    assert card["suggestions"][0]["label"] == "Replace with Letrozole + abemaciclib"
    assert "Aromatase inhibitor + CDK4/6 inhibitor: Letrozole + abemaciclib" in card["detail"]


# --- through HTTP: an active ribociclib order in prefetch, letrozole + palbociclib drafted ---------

def test_http_letrozole_palbociclib_drafted_on_a_running_letrozole_ribociclib_line_says_only_to_stop_ribociclib(client):
    from tests.orders.fhir import Chart
    from tests.orders.test_order_hooks_http import post

    chart = Chart("pt-swap").hr_positive_mbc(metastatic_days_ago=100)
    chart.med("letrozole", 90)
    current = chart.active_order("ribociclib", 90)
    drafts = chart.drafts(("mr-letro", "letrozole"), ("mr-palbo", "palbociclib"))
    cards = post(client, chart, "order-sign", drafts)
    assert [(c["indicator"], c["summary"]) for c in cards] == [
        ("warning", "Palbociclib drafted while ribociclib is active: no labelled regimen gives both — "
                    "stop ribociclib if switching")]
    # the palbociclib draft naming the ribociclib order it replaces (MedicationRequest.priorPrescription)
    drafts[1]["priorPrescription"] = {"reference": current}
    assert post(client, chart, "order-sign", drafts) == []


# --- a same-class switch whose draft states a reason other than progression (toxicity, intolerance) ----
# mappings/therapy.py _looks_like_substitution: a drug replaced by one of its class after it stopped for a
# reason that is not progression is swapped within its line however late (CR C.2 step 1: a new line
# starts after progression). The draft's own words (FHIR R4 MedicationRequest.note / reasonCode /
# statusReason) say the same before it is recorded.

def _late_switch_cards(words: dict, *names: str, progression: str | None = None):
    """Letrozole + palbociclib since 2024-02-01 (7 months, beyond SUBSTITUTION_MONTHS), asked
    2024-09-01; `names` drafted as FHIR MedicationRequests, the one for ribociclib carrying `words`."""
    from tests.orders.test_order_consistency import _running_first_line_fhir_cards

    patient = de_novo("p-running-first-line").regimen(("letrozole", "palbociclib"), "2024-02-01")
    if progression:
        patient.progression(progression)
    ordered = sorted(names, key=lambda n: n != "ribociclib")  # the words go on the first draft
    return _running_first_line_fhir_cards(words, *ordered, patient=patient)


@pytest.mark.parametrize("words, quoted", [
    ({"note": [{"text": "Switching for neutropenia"}]}, "note: 'Switching for neutropenia'"),
    ({"reasonCode": [{"text": "Palbociclib intolerance"}]}, "reasonCode: 'Palbociclib intolerance'"),
    ({"reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "281647001",
                                  "display": "Adverse reaction to drug"}]}]}, "reasonCode: 'Adverse reaction to drug'"),
    ({"note": [{"text": "No progression, switching for toxicity"}]}, "note: 'No progression, switching for toxicity'"),
    ({"reasonReference": [{"reference": "Condition/neutropenia", "display": "Neutropenia"}]},
     "reasonReference: 'Neutropenia'"),
])
@pytest.mark.parametrize("drafted", [("letrozole", "ribociclib"), ("ribociclib",)])
def test_a_cdk46_inhibitor_switched_late_in_the_first_line_for_a_stated_toxicity_is_a_switch_within_the_line(
        words, quoted, drafted):
    # before: 'Letrozole + ribociclib: not indicated — A first-line option; the patient has had metastatic
    # therapy (1 line(s))' (ribociclib drafted alone: 'Ribociclib drafted without fulvestrant'), as if the
    # switch were the next line
    cards = _late_switch_cards(words, *drafted)
    assert shown(cards) == [("warning", "order-not-indicated", "Ribociclib drafted while palbociclib is active: no "
                             "labelled regimen gives both — stop palbociclib if switching")]
    assert (f"- Drafted for a reason other than progression ({quoted}, MedicationRequest/mr-ribociclib): a switch "
            "within the running metastatic line 1 (letrozole + palbociclib), not a new line (CR C.2 step 1); "
            "letrozole + ribociclib is judged as that line's regimen.") in cards[0]["detail"]
    # patient-view, the switch recorded with its reason: one line
    recorded = (de_novo("late-tox").med("letrozole", "2024-02-01")
                .med("palbociclib", "2024-02-01", "2024-09-01", stopped_for="neutropenia").med("ribociclib", "2024-09-01"))
    lines = recorded.state(dt.date(2024, 9, 15)).therapy.metastatic_lines
    assert [(ln.number, ln.names) for ln in lines] == [(1, ["letrozole", "palbociclib", "ribociclib"])]


@pytest.mark.parametrize("words", [{"note": [{"text": "Formulary switch"}]},
                                   {"reasonCode": [{"text": "Non-formulary drug"}]}])
def test_a_cdk46_inhibitor_switched_late_for_the_formulary_is_a_switch_within_the_line_as_for_cost(words):
    # before: 'Letrozole + ribociclib: not indicated — A first-line option; the patient has had metastatic
    # therapy (1 line)', as if the switch were the next line, while 'cost' / 'insurance' kept it within the
    # line: a formulary is coverage too (local_codes.yaml stop_reasons; CR C.2 step 1: not a progression)
    cards = _late_switch_cards(words, "letrozole", "ribociclib")
    assert shown(cards) == [("warning", "order-not-indicated", "Ribociclib drafted while palbociclib is active: no "
                             "labelled regimen gives both — stop palbociclib if switching")]
    said = next(iter(words.values()))[0]["text"]
    assert f"- Drafted for a reason other than progression ({next(iter(words))}: '{said}', " in cards[0]["detail"]
    # patient-view, the switch recorded with that stop reason: one line
    recorded = (de_novo("late-formulary").med("letrozole", "2024-02-01")
                .med("palbociclib", "2024-02-01", "2024-09-01", stopped_for=said).med("ribociclib", "2024-09-01"))
    lines = recorded.state(dt.date(2024, 9, 15)).therapy.metastatic_lines
    assert [(ln.number, ln.names) for ln in lines] == [(1, ["letrozole", "palbociclib", "ribociclib"])]


@pytest.mark.parametrize("said", ["Not a cost issue - progression", "Not due to insurance - progression",
                                  "Not a formulary issue - progression"])
def test_a_cdk46_inhibitor_switched_late_for_a_progression_after_a_negated_coverage_reason_is_the_next_line(said):
    # before: 'Ribociclib drafted while palbociclib is active ... - Drafted for a reason other than progression
    # (note: 'Not a cost issue - progression', ...): a switch within the running metastatic line 1', the
    # negated cost word read as the reason; the progression after the dash is the reason (CR C.2 step 1: a new
    # line after progression): the first-line regimen is not indicated, the progression named as the draft's
    cards = _late_switch_cards({"note": [{"text": said}]}, "letrozole", "ribociclib")
    [card] = [c for c in cards if c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED)]
    assert f"- note: '{said}' (MedicationRequest/mr-ribociclib)" in card["detail"]
    assert not [c for c in cards if "Drafted for a reason other than progression" in c["detail"]]


def test_a_cdk46_inhibitor_switched_late_with_a_coverage_reason_negated_and_nothing_else_is_as_with_no_reason():
    # before: 'Not due to cost' a reason other than progression (a switch within the line); a negated reason
    # states none (stop_reasons negated_reason_patterns): the regimen change is the next line, as with none
    assert shown(_late_switch_cards({"note": [{"text": "Not due to cost"}]}, "letrozole", "ribociclib")) == \
        shown(_late_switch_cards({}, "letrozole", "ribociclib"))


@pytest.mark.parametrize("words, progression", [
    ({}, None),                                                  # no reason stated: the regimen-change proxy
    ({"note": [{"text": "Switching for neutropenia"}]}, "2024-08-15"),  # a progression recorded on the line
    ({"note": [{"text": "Suspected progression"}]}, None),       # a suspicion is no stated reason
])
def test_a_late_cdk46_inhibitor_switch_without_a_stated_non_progression_reason_stays_the_next_line(words, progression):
    summaries = [c["summary"] for c in _late_switch_cards(words, "letrozole", "ribociclib", progression=progression)]
    assert any(s.startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED) for s in summaries), summaries


def test_a_draft_stating_a_toxicity_and_a_progression_is_not_read_as_a_switch_within_the_line():
    # the progression its note states wins (mappings/therapy.py _looks_like_substitution: a drug stopped
    # for progression starts a new line): judged as the next line, the statement named on its card
    words = {"reasonCode": [{"text": "Neutropenia"}], "note": [{"text": "Progression on letrozole"}]}
    cards = _late_switch_cards(words, "letrozole", "ribociclib")
    [card] = [c for c in cards if c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED)]
    assert "- note: 'Progression on letrozole' (MedicationRequest/mr-ribociclib)" in card["detail"]
    assert not any("Drafted for a reason other than progression" in c["detail"] for c in cards)


@pytest.mark.parametrize("with_letrozole", [False, True])
def test_a_late_cdk46_inhibitor_switch_with_the_old_one_prohibited_for_a_stated_toxicity_stays_within_the_line(
        with_letrozole):
    # palbociclib drafted doNotPerform with its reason (FHIR R4 MedicationRequest.doNotPerform, .reasonCode),
    # ribociclib drafted: the record analog of 'palbociclib stopped for neutropenia' (mappings/therapy.py
    # _looks_like_substitution). Before: 'Ribociclib drafted without fulvestrant: Fulvestrant + CDK4/6
    # inhibitor is the labelled regimen' (with letrozole drafted: 'Letrozole + ribociclib: not indicated — A
    # first-line option ...'). Now silent: the drafts stop palbociclib, letrozole continues, the line's regimen
    from tests.orders.test_order_consistency import _running_first_line_fhir_cards

    patient = de_novo("p-running-first-line").regimen(("letrozole", "palbociclib"), "2024-02-01")
    words = {"doNotPerform": True, "reasonCode": [{"text": "Grade 4 neutropenia"}]}
    names = ("palbociclib", "ribociclib") + (("letrozole",) if with_letrozole else ())
    assert _running_first_line_fhir_cards(words, *names, patient=patient) == []
    # without a reason, as late a switch is still judged as the next line
    cards = _running_first_line_fhir_cards({"doNotPerform": True}, *names, patient=patient)
    assert cards and all(c["indicator"] == "warning" for c in cards)


# --- what keeps a late switch within its line: the reason for the switch itself, no progression anywhere ---

def _drafts_with_own_words(patient, *drafted: tuple[str, dict]):
    """Order-sign cards for `drafted` as FHIR MedicationRequests, each (name, its own elements:
    note / reasonCode / doNotPerform), on `patient` asked 2024-09-01."""
    from cards.engine import order_cards
    from mappings import read_draft_orders
    from tests.orders.fhir import RXNORM, cc

    pid = "p-running-first-line"
    entries = [{"resource": {"resourceType": "MedicationRequest", "id": f"mr-{n}-{i}", "status": "draft",
                             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
                             "medicationCodeableConcept": cc(RXNORM, DRUGS[n].rxnorm, n), **words}}
               for i, (n, words) in enumerate(drafted)]
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": entries}, pid)
    return [c.to_json() for c in order_cards(patient.state(dt.date(2024, 9, 1)), drafts, None, "order-sign")]


@pytest.mark.parametrize("words", [
    {"note": [{"text": "hot flushes"}]},   # letrozole's own side effect: letrozole continues
    {"note": [{"text": "Neutropenia"}]},
])
def test_a_reason_written_only_on_the_continuing_letrozole_draft_does_not_keep_a_late_cdk46_switch_within_the_line(
        words):
    # the record analog reads the stop reason of the drug replaced (mappings/therapy.py
    # _looks_like_substitution: `replaced`), not the continuing drug's: letrozole re-ordered 'hot flushes'
    # says why letrozole is written, not why palbociclib is switched. Before: 'Drafted for a reason other
    # than progression (note: 'hot flushes', MedicationRequest/mr-letrozole-0): a switch within the running
    # metastatic line 1', no first-line card; patient-view, the switch recorded so, counts a new line
    patient = de_novo("p-running-first-line").regimen(("letrozole", "palbociclib"), "2024-02-01")
    cards = _drafts_with_own_words(patient, ("letrozole", words), ("ribociclib", {}))
    assert any(c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED) for c in cards)
    assert not any("Drafted for a reason other than progression" in c["detail"] for c in cards)


def test_a_coded_progression_without_its_display_beside_a_toxicity_text_does_not_keep_a_late_switch_within_the_line():
    # reasonCode SNOMED 271299001 "Patient's condition worsened" (local_codes.yaml stop_reasons
    # progression_codes) sent without a display, its text 'Neutropenia': a record's statusReason so
    # coded reads as a progression (mappings/therapy.py _stop_reason: the coded term read with the
    # text), so patient-view would count a new line. Before: 'other', the switch kept within the line
    words = {"reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "271299001"}],
                             "text": "Neutropenia"}]}
    cards = _late_switch_cards(words, "letrozole", "ribociclib")
    assert any(c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED) for c in cards)
    assert not any("Drafted for a reason other than progression" in c["detail"] for c in cards)


@pytest.mark.parametrize("since", ["2024-02-01", "2024-06-01"])  # 7 months (a stated reason) / 3 months
@pytest.mark.parametrize("letrozole_words", [{"doNotPerform": True},
                                             {"doNotPerform": True, "reasonCode": [{"text": "Disease progression"}]}])
def test_ribociclib_drafted_with_both_drugs_of_the_running_line_prohibited_is_not_judged_as_a_switch_within_it(
        since, letrozole_words):
    # palbociclib doNotPerform 'Grade 4 neutropenia' and letrozole doNotPerform too (FHIR R4
    # MedicationRequest.doNotPerform): nothing of the line continues (the letrozole the card counted as a
    # partner is stopped this session), so ribociclib is no swap within the line (mappings/therapy.py
    # _continues; CR C.2 step 1) and ribociclib alone is no labelled regimen (B.10: with an aromatase
    # inhibitor). Before: no card at all, judged as letrozole + ribociclib within the line
    patient = de_novo("p-running-first-line").regimen(("letrozole", "palbociclib"), since)
    cards = _drafts_with_own_words(
        patient, ("palbociclib", {"doNotPerform": True, "reasonCode": [{"text": "Grade 4 neutropenia"}]}),
        ("letrozole", letrozole_words), ("ribociclib", {}))
    assert cards and all(c["indicator"] == "warning" for c in cards), cards
    assert not any("Drafted for a reason other than progression" in c["detail"] for c in cards)


@pytest.mark.parametrize("drafted", [
    (("ribociclib", {"note": [{"text": "Switching for progression on CT"}]}), ("letrozole", {})),
    (("palbociclib", {"doNotPerform": True, "reasonCode": [{"text": "Disease progression"}]}),
     ("ribociclib", {}), ("letrozole", {})),
])
def test_an_early_cdk46_switch_whose_drafts_state_a_progression_is_judged_as_the_next_line(drafted):
    # letrozole + palbociclib since 2024-06-01 (3 months, within SUBSTITUTION_MONTHS): a record of the
    # replaced palbociclib stopped for progression makes the switch a new line however early
    # (mappings/therapy.py _looks_like_substitution; CR C.2 step 1), and a progression the drafts state
    # wins late too (_switch_reason). Before: judged within the line, the progression unread: only
    # 'Ribociclib drafted while palbociclib is active ...' (palbociclib prohibited: no card at all)
    patient = de_novo("p-running-first-line").regimen(("letrozole", "palbociclib"), "2024-06-01")
    cards = _drafts_with_own_words(patient, *drafted)
    [card] = [c for c in cards if c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED)]
    assert card["indicator"] == "warning"


@pytest.mark.parametrize("said", ["Cost not an issue", "Cost is not a concern", "cost isn't an issue",
                                  "Cost of the drug not an issue", "Insurance not a factor", "Cost: N/A",
                                  "Cost - not applicable", "Cost issue: none"])
def test_a_late_cdk46_inhibitor_switch_whose_draft_says_cost_is_no_issue_is_judged_as_with_no_reason(said):
    # before: 'Ribociclib drafted while palbociclib is active ... - Drafted for a reason other than progression
    # (note: 'Cost not an issue', ...): a switch within the running metastatic line 1', the cost word read as
    # the reason though the words say it is none (stop_reasons negated_reason_patterns; CR C.2 step 1): the
    # regimen change is the next line, as with no reason
    cards = _late_switch_cards({"note": [{"text": said}]}, "letrozole", "ribociclib")
    assert shown(cards) == shown(_late_switch_cards({}, "letrozole", "ribociclib"))
    assert any(c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED) for c in cards)
    assert not any("Drafted for a reason other than progression" in c["detail"] for c in cards)


@pytest.mark.parametrize("said", ["Cost not an issue - progression", "Cost: N/A - progression on letrozole"])
def test_a_late_cdk46_inhibitor_switch_whose_draft_says_cost_is_no_issue_then_progression_is_the_next_line(said):
    cards = _late_switch_cards({"note": [{"text": said}]}, "letrozole", "ribociclib")
    [card] = [c for c in cards if c["summary"].startswith("Letrozole + ribociclib: " + FIRST_LINE_NOT_INDICATED)]
    assert f"- note: '{said}' (MedicationRequest/mr-ribociclib)" in card["detail"]


@pytest.mark.parametrize("said", ["Not covered by insurance", "Insurance: none", "Cost: no coverage", "Cost prohibitive"])
def test_a_coverage_reason_stated_beside_a_negation_word_still_keeps_a_late_cdk46_switch_within_the_line(said):
    # the patient uninsured, the drug not covered or too costly: a coverage reason, not a progression
    cards = _late_switch_cards({"note": [{"text": said}]}, "letrozole", "ribociclib")
    assert shown(cards) == [("warning", "order-not-indicated", "Ribociclib drafted while palbociclib is active: no "
                             "labelled regimen gives both — stop palbociclib if switching")]
    assert f"- Drafted for a reason other than progression (note: '{said}', " in cards[0]["detail"]


@pytest.mark.parametrize("said", ["Not covered; cost not an issue otherwise", "Cost: N/A - not covered",
                                  "Cost not an issue - no longer covered", "Prior authorisation not approved",
                                  "Not reimbursed"])
def test_a_coverage_refusal_written_without_a_cost_word_keeps_a_late_cdk46_switch_within_the_line(said):
    # before (rt77): 'Letrozole + ribociclib: not indicated — A first-line option; the patient has had
    # metastatic therapy', the switch read as the next line: "not covered" / "not approved" named no
    # reason word, the cost word beside it was the only one read and ord11's negated cost ("cost not
    # an issue", "Cost: N/A") removes it; a drug not covered or not approved is stopped for coverage,
    # not progression (stop_reasons non_progression_patterns; CR C.2 step 1)
    cards = _late_switch_cards({"note": [{"text": said}]}, "letrozole", "ribociclib")
    assert shown(cards) == [("warning", "order-not-indicated", "Ribociclib drafted while palbociclib is active: no "
                             "labelled regimen gives both — stop palbociclib if switching")]
    assert f"- Drafted for a reason other than progression (note: '{said}', " in cards[0]["detail"]


@pytest.mark.parametrize("said", ["Insurance no issue but copay too high", "Cost: N/A - payer declined"])
def test_a_late_cdk46_switch_drafted_for_the_copay_or_the_payer_stays_within_the_line(said):
    # before (rt77): 'Letrozole + ribociclib: not indicated — A first-line option; ...': the negated cost
    # word removed (ord11), "copay" / "payer" named no reason (stop_reasons non_progression_patterns)
    cards = _late_switch_cards({"note": [{"text": said}]}, "letrozole", "ribociclib")
    assert shown(cards) == [("warning", "order-not-indicated", "Ribociclib drafted while palbociclib is active: no "
                             "labelled regimen gives both — stop palbociclib if switching")]
