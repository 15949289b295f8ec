"""What the cards say of a medication record under way whose text writes a stop word after its drug
followed by something else stopped ("Letrozole; stopped smoking"): the record's drug goes on (tx13:
it was read stopped, its end asked, the running-line warning lost and the next line's options offered;
CR A.3, B.9, B.10, C.2 step 1; FHIR R4 MedicationStatement.medication[x] is the record's drug)."""

from __future__ import annotations

import pytest

from tests.cards.helpers import card
from tests.cards.test_medication_text_readthrough import _with_statement

OTHER_OBJECT_STOPPED = [
    ("Letrozole; stopped smoking", "letrozole"),
    ("Letrozole (stopped calcium)", "letrozole"),
    ("Fulvestrant, stopped alcohol", "fulvestrant"),
    ("Letrozole, stopped HRT", "letrozole"),
    ("Letrozole - stopped vitamin D", "letrozole"),
    ("Anastrozole; stopped driving", "anastrozole"),
    ("Palbociclib; stopped smoking", "palbociclib"),
    ("Letrozole + palbociclib; stopped smoking", "letrozole + palbociclib"),
    ("Letrozole; stopped her vitamin D", "letrozole"),
]


@pytest.mark.parametrize("text, now", OTHER_OBJECT_STOPPED)
def test_a_stop_word_followed_by_a_habit_or_another_non_pathway_drug_leaves_the_records_drug_going_on(text, now):
    # the stop word's object ("smoking", "calcium", "HRT") is what stopped, not the record's drug
    # (drug_mentions stop_other_object_after): read as taken now, its line running
    state, cards = _with_statement("stop-other", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {now} (metastatic line 1): the options below apply at progression." in detail
    assert "to date unknown" not in detail and "writes the drug as stopped" not in detail


OWN_STOP = ["Letrozole; stopped", "Letrozole stopped", "Letrozole - stopped (arthralgia)",
            "Letrozole; stopped due to progression", "Letrozole; stopped it", "Letrozole; stopped taking",
            "Letrozole; stopped after 5 years", "Letrozole; stopped treatment", "Letrozole; stopped the drug",
            "Letrozole; stopped her medication"]


@pytest.mark.parametrize("text", OWN_STOP)
def test_a_stop_word_followed_by_nothing_a_reason_a_date_or_the_drug_itself_still_stops_the_records_drug(text):
    state, cards = _with_statement("stop-own", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in detail and "Currently on" not in detail


def test_a_stop_word_followed_by_its_date_still_ends_the_records_drug_then():
    state, cards = _with_statement("stop-own-date", "Letrozole; stopped 2025-03", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to 2025-03 (no day given)" in detail and "Currently on" not in detail


def test_a_stop_word_followed_by_a_word_that_says_neither_whose_stop_it_is_names_the_record_unclear():
    # "swimming" is no reason, date or word for the drug, and not in the list of other things stopped:
    # a misread stop ends the line, a misread going on keeps it running; neither is safe, so asked
    state, cards = _with_statement("stop-unclear", "Letrozole; stopped swimming", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert ('MedicationStatement/stop-unclear-ms (its text "Letrozole; stopped swimming" writes a stop word after '
            "letrozole followed by words that do not say whose stop it is: whether its drugs are still taken "
            "cannot be read)") in detail


def test_such_an_unclear_stop_on_a_record_whose_course_ended_keeps_its_line():
    state, cards = _with_statement("stop-unclear-ended", "Letrozole; stopped swimming", "completed", "2025-01-10")
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert "- Metastatic line 1: letrozole, 2024-02-01 to 2025-01-10" in summary["detail"]


@pytest.mark.parametrize("text, now", [("Letrozole + palbociclib; palbociclib stopped calcium", "letrozole + palbociclib"),
                                       ("Exemestane + everolimus; everolimus stopped alcohol", "everolimus + exemestane")])
def test_a_partner_named_again_with_a_stop_word_followed_by_something_else_stopped_stays_in_the_regimen_now(text, now):
    # tx13: the CDK4/6 (or mTOR) inhibitor was read stopped, the endocrine drug alone now (CR B.8, B.9, B.10)
    state, cards = _with_statement("partner-stop-other", text, "active", None)
    assert f"- Currently on {now} (metastatic line 1): the options below apply at progression." in \
        card(cards, "patient-summary")["detail"]


def test_a_partner_named_again_with_a_stop_word_followed_by_an_unsettled_word_names_the_record_unclear():
    text = "Letrozole + palbociclib; palbociclib stopped swimming"
    state, cards = _with_statement("partner-stop-unclear", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert (f'(its text "{text}" writes a stop word after palbociclib followed by words that do not say whose stop '
            "it is: whether its drugs are still taken cannot be read)") in detail


@pytest.mark.parametrize("text", ["Letrozole stopped w/ progression", "Letrozole stopped b/c arthralgia",
                                  "Letrozole stopped pt choice", "Letrozole stopped x 2 weeks", "Letrozole stopped neutropenia"])
def test_a_stop_word_followed_by_an_abbreviated_or_bare_reason_still_stops_the_records_drug(text):
    # (guards the word list's reach: these read as the drug's stop before tx13 and still do)
    state, cards = _with_statement("stop-own-reason", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in detail and "Currently on" not in detail


GLUCOSE_LOWERING_STOPPED = ["Letrozole; stopped metformin", "Letrozole (metformin stopped)", "Letrozole; off metformin",
                            "Letrozole; metformin discontinued", "Letrozole; stopped insulin",
                            "Letrozole + metformin; stopped metformin"]


@pytest.mark.parametrize("text", GLUCOSE_LOWERING_STOPPED)
def test_a_glucose_lowering_drug_written_stopped_in_the_letrozole_record_gives_no_treated_diabetes_caution(text):
    # tx14: metformin / insulin named with a stop in the letrozole record was read as taken now: the
    # everolimus card said "caution: diabetes/hyperglycaemia" (CR A.4, C.3 row 14); letrozole goes on
    state, cards = _with_statement("stop-gl", text, "active", None)
    assert "diabetes" not in card(cards, "everolimus-exemestane")["summary"]
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "- Drugs on record (first to last record): letrozole (2024-02-01 to now)\n" in detail + "\n"


def test_a_glucose_lowering_drug_named_in_the_letrozole_record_without_a_stop_is_still_treated_diabetes():
    state, cards = _with_statement("gl-taken", "Letrozole; metformin", "active", None)
    assert "caution: diabetes/hyperglycaemia" in card(cards, "everolimus-exemestane")["summary"]


@pytest.mark.parametrize("text", ["Letrozole; stopped denosumab", "Letrozole, stopped zoledronic acid",
                                  "Letrozole (denosumab discontinued)"])
def test_a_bone_agent_written_stopped_in_the_letrozole_record_is_not_on_record_as_taken_now(text):
    # tx14: it was listed "denosumab (2024-02-01 to now)", a bone agent read as taken now
    state, cards = _with_statement("stop-bone", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Drugs on record (first to last record): letrozole (2024-02-01 to now)\n" in detail + "\n"
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail


@pytest.mark.parametrize("text", ["Letrozole; stopped bisphosphonate", "Letrozole (stopped bisphosphonates)",
                                  "Letrozole, stopped her bisphosphonate", "Letrozole; stopped ibandronate",
                                  "Letrozole; stopped alendronate 2023", "Letrozole (stopped risedronate)"])
def test_a_bone_agent_stopped_by_its_class_name_in_the_letrozole_record_leaves_letrozole_going_on(text):
    # rt85: "bisphosphonate" was no word for the record's drug nor another object, so tx13 named the
    # record unclear ("Metastatic lines: 0", first-line options for a patient on letrozole); a bone
    # agent is no line of therapy (CR "Drug-class value sets": bone agents never count as a line), as
    # "stopped denosumab" / "stopped zoledronic acid" are read
    state, cards = _with_statement("stop-bisphosphonate", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "could not be read" not in detail


@pytest.mark.parametrize("text", ["Letrozole stopped working", "Letrozole stopped working 2023",
                                  "Letrozole; stopped working 2023"])
def test_a_drug_that_stopped_working_is_never_read_as_taken_now_with_its_line_running(text):
    # rt85: tx13 read "working" as the patient's work stopped, the drug going on: "Currently on
    # letrozole ... the options below apply at progression" for a drug written as failed (CR C.2 step 1,
    # progression on the line); whether the drug or the patient's work stopped is not settled by the
    # words alone: the record is named unclear (as "stopped swimming"); "stopped work" stays a habit
    state, cards = _with_statement("stop-working", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert (f'(its text "{text}" writes a stop word after letrozole followed by words that do not say whose stop '
            "it is: whether its drugs are still taken cannot be read)") in detail
