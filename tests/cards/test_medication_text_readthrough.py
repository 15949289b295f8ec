"""What the cards say of medication records and drafted orders whose text the fix-tx merge read
(rt43 read-through): 'No letrozole' as not taken, a worsening coded as the stop reason."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import card
from cards.engine import order_cards
from mappings import read_draft_orders
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo, run

SNOMED = "http://snomed.info/sct"


@pytest.mark.parametrize("rtype", ["MedicationStatement", "MedicationRequest"])
def test_a_cdk46i_stopped_with_the_worsening_code_and_a_note_reads_as_the_same_code_with_its_display(rtype):
    # statusReason SNOMED CT 271299001 without a display beside a note "neutropenia" read the
    # note alone ("de novo metastatic", no progression on the line), while the same code with its
    # display "Patient's condition worsened" and the same note read a progression (primary
    # resistance): the code is read as its term is (FHIR R4 statusReason; CR C.1, C.2 step 1)
    details = []
    for coding in ({"system": SNOMED, "code": "271299001"},
                   {"system": SNOMED, "code": "271299001", "display": "Patient's condition worsened"}):
        p = de_novo(f"p-worse-{rtype}").med("letrozole", "2024-02-01")
        if rtype == "MedicationStatement":
            p.med("ribociclib", "2024-02-01", "2024-07-20", status="stopped")
        else:
            p.add({"resourceType": "MedicationRequest", "id": "mr-ribo", "status": "stopped", "intent": "order",
                   "subject": {"reference": f"Patient/p-worse-{rtype}"}, "authoredOn": "2024-02-01",
                   "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                             "code": "1873916", "display": "ribociclib"}]},
                   "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-02-01",
                                                                                  "end": "2024-07-20"}}}}]})
        p.resources[-1]["statusReason"] = ([{"coding": [coding]}] if rtype == "MedicationStatement"
                                           else {"coding": [coding]})
        p.resources[-1]["note"] = [{"text": "neutropenia"}]
        state, cards = run(p, dt.date(2024, 9, 1))
        assert state.therapy.endocrine_resistance == "primary", coding
        details.append(card(cards, "patient-summary")["detail"])
    assert all("- Endocrine sensitivity: primary resistance: progression within 6 months of first-line metastatic "
               "endocrine therapy (" in d for d in details)


def _with_statement(pid: str, text: str, status: str, end: str | None) -> tuple:
    p = hr_positive_mbc(pid, primary="2024-01-10")
    p.add({"resourceType": "MedicationStatement", "id": f"{pid}-ms", "status": status,
           "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": {"text": text},
           "effectivePeriod": {"start": "2024-02-01", **({"end": end} if end else {})}})
    return run(p)


@pytest.mark.parametrize("status, end", [("completed", "2025-05-20"), ("stopped", "2025-05-20"), ("completed", None),
                                         ("on-hold", None)])
def test_no_letrozole_on_a_record_whose_status_says_it_was_taken_is_a_line_given_not_taken_now(status, end):
    # fix-tx read it as never given ("Metastatic lines: 0", "first line", the record among those
    # not used): the status says the drug was taken and is no longer (FHIR R4
    # MedicationStatement.status completed / stopped), which "No letrozole" agrees with; a drug never
    # taken has its own status, not-taken. As before fix-tx: line 1 of letrozole, ended
    state, cards = _with_statement("nt-ended", "No letrozole", status, end)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert "- Metastatic line 1: letrozole, 2024-02-01" in summary["detail"] and 'its text "No letrozole" writes' not in summary["detail"]


@pytest.mark.parametrize("status", ["active", "not-taken"])
def test_no_letrozole_on_a_record_under_way_or_not_taken_stays_no_line_and_is_named_as_not_used(status):
    state, cards = _with_statement("nt-never", "No letrozole", status, None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, first line")
    assert "- Metastatic lines: 0" in summary["detail"] and "1 resource not used: MedicationStatement" in summary["detail"]


def _draft_cards(text: str) -> list[dict]:
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "mr-0", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {"text": text}}}]})
    return [c.to_json() for c in order_cards(de_novo("p-draft").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]


@pytest.mark.parametrize("text, named", [("No letrozole", "letrozole"), ("Never on letrozole", "letrozole"),
                                         ("No letrozole or palbociclib", "letrozole + palbociclib")])
def test_a_draft_writing_its_drug_as_not_taken_is_said_not_checked_as_the_history_reads_it_as_not_given(text, named):
    # was checked as the drug ordered ("Letrozole drafted without ribociclib"; "No letrozole or
    # palbociclib" passed as letrozole + palbociclib ordered), while the history reads the same
    # words as no therapy given (FHIR R4 MedicationStatement.status not-taken)
    cards = _draft_cards(text)
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its text does not name its drug as ordered (MedicationRequest/mr-0)"]
    assert f'its text "{text}" names {named} as not taken, but not as the drug it orders' in cards[0]["detail"]


@pytest.mark.parametrize("text", ["Off letrozole", "Letrozole 2.5 mg"])
def test_a_draft_of_letrozole_alone_or_written_as_stopped_is_still_checked_as_letrozole(text):
    assert [c["summary"] for c in _draft_cards(text)] == [
        "Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]


@pytest.mark.parametrize("text", ["No further letrozole", "No more letrozole", "No longer letrozole",
                                  "No further letrozole - progression", "No more letrozole 2.5 mg."])
def test_an_active_record_writing_its_drug_as_given_no_more_is_no_current_line_and_its_end_is_asked(text):
    # was "HR+/HER2-low MBC, on line 1", "Currently on letrozole": the drug the text says is given no
    # more read as taken today; now as "Off letrozole" / "No longer on letrozole" (a stop written,
    # when not written: gap therapy-stopped-in-text; local_codes.yaml drug_mentions stopped_opening)
    state, cards = _with_statement("nt-more", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert f"(letrozole, status 'active': '{text}')" in summary["detail"]


@pytest.mark.parametrize("text", ["No further letrozole dose reductions", "No more than letrozole 2.5 mg daily"])
def test_no_further_words_about_the_use_of_a_drug_still_given_leave_it_the_current_line(text):
    state, cards = _with_statement("nt-dose", text, "active", None)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1")


def _adjuvant_tamoxifen(text: str) -> dict:
    p = hr_positive_mbc("p-tam", primary="2015-03-01")  # relapse 2024-01-15
    p.add({"resourceType": "MedicationStatement", "id": "ms-tam", "status": "active", "subject": {"reference": "Patient/p-tam"},
           "medicationCodeableConcept": {"text": text}, "effectivePeriod": {"start": "2015-06-01"}})
    return card(run(p)[1], "patient-summary")


@pytest.mark.parametrize("text", ["Tamoxifen 2015-06-01 to 2020-05-31 completed", "Tamoxifen from 2015-06-01 to 2020-05-31 completed"])
def test_adjuvant_tamoxifen_written_with_its_full_dates_then_completed_ended_on_the_last_date(text):
    # was read as tamoxifen still taken at the 2024 relapse (as "Tamoxifen 2015-2020 completed"
    # was before fix-tx): the span's last day is when it ended (CR C.1: relapse > 12 months after)
    detail = _adjuvant_tamoxifen(text)["detail"]
    assert "- (Neo)adjuvant: tamoxifen, 2015-06-01 to 2020-05-31" in detail
    assert "- Endocrine sensitivity: endocrine-sensitive: relapse 43.5 months after completing adjuvant ET (2020-05-31)" in detail


@pytest.mark.parametrize("text", ["Tamoxifen 01/06/2015 - 31/05/2020 completed", "Tamoxifen Jun 2015 - May 2020 completed"])
def test_adjuvant_tamoxifen_written_completed_after_dates_not_read_as_a_day_is_ended_and_its_end_asked(text):
    # was read as taken at the relapse ('on adjuvant endocrine therapy at recurrence'); the day and
    # month order of 31/05/2020 is not settled, so the end is asked, not guessed
    detail = _adjuvant_tamoxifen(text)["detail"]
    assert "- (Neo)adjuvant: tamoxifen, 2015-06-01 to date unknown" in detail
    assert f"MedicationStatement/ms-tam (tamoxifen, status 'active': '{text}')" in detail


@pytest.mark.parametrize("text", ["No letrozole (2.5 mg)", "No letrozole [2.5 mg daily]", "No letrozole - 2.5 mg"])
def test_no_letrozole_with_its_strength_in_brackets_is_not_taken_as_with_its_strength_unbracketed(text):
    # was a line given, stopped on a day not written ("after 1 line(s)"), while "No letrozole 2.5 mg"
    # was not taken, no line (local_codes.yaml drug_mentions not_taken_bare_after)
    state, cards = _with_statement("nt-paren", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, first line")
    assert f'its text "{text}" writes letrozole as not taken and nothing of its use' in summary["detail"]


@pytest.mark.parametrize("text", ["Never on letrozole", "Denies letrozole"])
def test_never_taken_on_a_record_whose_status_says_it_was_taken_is_said_unreadable(text):
    # the status says letrozole was taken and ended, the text that it never was: fix-tx read it as
    # never given (no line, among the records not used), before it a line given; neither is
    # written, so the record is named as unreadable (lines may be missing)
    state, cards = _with_statement("nt-never-ended", text, "completed", "2025-05-20")
    detail = card(cards, "patient-summary")["detail"]
    assert ("Medication records whose drug could not be read, so lines of therapy may be missing: "
            f'MedicationStatement/nt-never-ended-ms (its text "{text}" writes its drug as never taken, while its status '
            "says it was taken (completed, stopped, on-hold): whether it was given cannot be read)") in detail


@pytest.mark.parametrize("text, current", [("Letrozole + ribociclib or palbociclib", "letrozole + ribociclib"),
                                           ("Letrozole + ribociclib, or palbociclib", "letrozole + ribociclib"),
                                           ("Letrozole + ribociclib (or palbociclib)", "letrozole + ribociclib"),
                                           ("Ribociclib or palbociclib + letrozole", "letrozole + ribociclib")])
def test_a_cdk46i_written_as_the_alternative_to_another_by_or_is_not_given_beside_it(text, current):
    # was "Currently on letrozole + palbociclib + ribociclib": two CDK4/6 inhibitors at once (CR
    # B.9, B.10: one with endocrine therapy), as "..., else palbociclib" was before fix-tx; the
    # alternative is named as not read (local_codes.yaml drug_mentions alternative_between)
    state, cards = _with_statement("alt-or", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {current} (metastatic line 1)" in detail
    assert f'its text "{text}" also names palbociclib, not read as given by this record' in detail


def test_a_draft_of_two_cdk46_inhibitors_joined_by_or_is_said_not_checked_for_the_alternative():
    cards = _draft_cards("Letrozole + ribociclib or palbociclib")
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]
    assert "writes palbociclib as optional: whether it orders palbociclib is not clear" in cards[0]["detail"]


@pytest.mark.parametrize("text", ["Tamoxifen completed?", "Tamoxifen done?", "Tamoxifen (completed?)",
                                  "Tamoxifen 2015-2020 completed?"])
def test_adjuvant_tamoxifen_with_its_completion_queried_is_not_read_as_taken_at_the_relapse_and_its_end_is_asked(text):
    # was read as tamoxifen still taken at the 2024 relapse, silently ('on adjuvant endocrine therapy
    # at recurrence', secondary resistance): a completion queried does not settle whether it goes on
    # or when it ended, so its end is asked (gap therapy-stopped-in-text), no date read from it
    detail = _adjuvant_tamoxifen(text)["detail"]
    assert "- (Neo)adjuvant: tamoxifen, 2015-06-01 to date unknown" in detail
    assert f"MedicationStatement/ms-tam (tamoxifen, status 'active': '{text}')" in detail


@pytest.mark.parametrize("text", ["Tamoxifen - done for today", "Letrozole completed cycle 3"])
def test_a_part_of_a_course_done_leaves_the_drug_the_current_line(text):
    state, cards = _with_statement("part-done", text, "active", None)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1")


@pytest.mark.parametrize("text", ["Letrozole + ribociclib (anastrozole stopped)",
                                  "Letrozole + ribociclib; anastrozole stopped due to arthralgia"])
def test_an_aromatase_inhibitor_stopped_after_the_regimen_taken_now_is_not_current_beside_the_other(text):
    # was "Currently on anastrozole + letrozole + ribociclib" (two aromatase inhibitors at once,
    # regimen 'letrozole (then anastrozole)'), while "Letrozole (anastrozole stopped)" and fix-tx's
    # "Letrozole + ribociclib (palbociclib stopped)" read the drug stopped as replaced
    state, cards = _with_statement("ai-swap", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole + ribociclib (metastatic line 1)" in detail
    assert sorted(d.name for d in state.therapy.current_drugs()) == ["letrozole", "ribociclib"]


def test_a_draft_of_the_regimen_taken_now_naming_the_aromatase_inhibitor_stopped_is_checked_as_that_regimen():
    # was "Anastrozole drafted with letrozole + ribociclib: ... two aromatase inhibitors"
    assert _draft_cards("Letrozole + ribociclib (anastrozole stopped)") == []


@pytest.mark.parametrize("text", ["No letrozole side effects", "No letrozole toxicity", "No letrozole issues",
                                  "No letrozole problems", "No letrozole dose changes", "No letrozole missed doses",
                                  "No letrozole interruptions", "No letrozole-related toxicity",
                                  "No letrozole arthralgia", "No letrozole grade 2 arthralgia"])
def test_a_no_about_a_finding_of_the_drug_leaves_the_drug_given_and_current(text):
    # "No letrozole side effects" silently dropped the record ("HR+/HER2-low MBC, first line", de
    # novo), the drug read as the cause of a side effect only; "No letrozole dose changes" read a
    # stop ("after 1 line(s)", its end asked): the "no" is of the finding, the drug goes on
    # (local_codes.yaml drug_mentions finding_negated_*; FHIR R4 MedicationStatement.status active)
    state, cards = _with_statement("no-finding", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1")
    assert "- Currently on letrozole (metastatic line 1)" in summary["detail"]
    assert "status 'active'" not in summary["detail"]


@pytest.mark.parametrize("text", ["No letrozole", "No letrozole - toxicity", "No letrozole due to toxicity"])
def test_no_letrozole_alone_or_with_a_stop_reason_is_still_not_the_current_line(text):
    state, cards = _with_statement("no-drug", text, "active", None)
    assert not card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1")


def test_no_to_letrozole_is_a_refusal_not_a_line_given():
    # was "Currently on letrozole": "No to letrozole" is a refusal in the patient's words
    # (local_codes.yaml drug_mentions refused_before; FHIR R4 MedicationStatement.status not-taken)
    state, cards = _with_statement("no-to", "No to letrozole", "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, first line")
    assert 'its text "No to letrozole" says the drug was refused or not started' in summary["detail"]


@pytest.mark.parametrize("text", ["Letrozole: no", "Letrozole - no", "Letrozole 2.5 mg: no"])
def test_only_no_after_the_drug_is_named_as_unreadable_not_read_as_given(text):
    # was "Currently on letrozole" in silence: the "no" answers a question the record does not keep
    state, cards = _with_statement("answer-no", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on letrozole" not in detail
    assert (f'MedicationStatement/answer-no-ms (its text "{text}" writes only "no" after its drug: whether it was '
            "given, refused or stopped cannot be read)") in detail


def test_a_draft_writing_only_no_after_its_drug_is_said_not_checked():
    # was checked as letrozole ordered ("Letrozole drafted without ribociclib")
    cards = _draft_cards("Letrozole: no")
    assert [c["summary"] for c in cards] == ["Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]
    assert 'its text "Letrozole: no" writes only "no" after its drug' in cards[0]["detail"]


@pytest.mark.parametrize("text", ["Letrozole + goserelin (anastrozole stopped)",
                                  "Letrozole + goserelin; anastrozole stopped due to arthralgia"])
def test_an_aromatase_inhibitor_stopped_after_letrozole_with_goserelin_is_not_current_beside_it(text):
    # was "Currently on letrozole (then anastrozole)", anastrozole + letrozole + goserelin all
    # current (two aromatase inhibitors at once), as "Letrozole + ribociclib (anastrozole stopped)"
    # was before rt43: now the same switch, goserelin kept with letrozole (CR A.5)
    state, cards = _with_statement("ai-swap-ofs", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1)" in detail
    assert "- Metastatic line 1: anastrozole (then letrozole), 2024-02-01 to now (active)" in detail
    assert sorted(d.name for d in state.therapy.current_drugs()) == ["goserelin", "letrozole"]


def test_a_draft_of_letrozole_with_goserelin_naming_the_aromatase_inhibitor_stopped_is_not_two_aromatase_inhibitors():
    # was "Anastrozole drafted with letrozole: ... two aromatase inhibitors (anastrozole and letrozole)"
    assert [c["summary"] for c in _draft_cards("Letrozole + goserelin (anastrozole stopped)")] == [
        "Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]


def test_letrozole_with_goserelin_and_a_palbociclib_record_is_current_with_palbociclib():
    # the regimen's drug of a goserelin record without a dose since (ovarian-suppression-not-current)
    # is current by the record's status; only its goserelin is not counted as current
    p = hr_positive_mbc("ofs-partner", primary="2024-01-10")
    for i, text in enumerate(["Letrozole + goserelin", "Palbociclib 125 mg"]):
        p.add({"resourceType": "MedicationStatement", "id": f"ofs-partner-{i}", "status": "active",
               "subject": {"reference": "Patient/ofs-partner"}, "medicationCodeableConcept": {"text": text},
               "effectivePeriod": {"start": "2024-02-01"}})
    state, cards = run(p)
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("status, end", [("completed", "2025-05-20"), ("on-hold", None)])
def test_only_no_after_the_drug_on_a_record_whose_status_says_it_was_taken_is_a_line_given_not_taken_now(status, end):
    # as "No letrozole" there: the "no" agrees with the status (FHIR R4 MedicationStatement.status)
    state, cards = _with_statement("answer-no-ended", "Letrozole: no", status, end)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert "- Metastatic line 1: letrozole, 2024-02-01" in summary["detail"]
    assert 'writes only "no" after its drug' not in summary["detail"]


def _statements(pid: str, texts: list[str]) -> tuple:
    p = hr_positive_mbc(pid, primary="2024-01-10")
    for i, text in enumerate(texts):
        p.add({"resourceType": "MedicationStatement", "id": f"{pid}-{i}", "status": "active",
               "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": {"text": text},
               "effectivePeriod": {"start": "2024-02-01"}})
    return run(p)


@pytest.mark.parametrize("texts", [["Letrozole + goserelin", "Palbociclib 125 mg"],
                                   ["Goserelin + letrozole + palbociclib"]])
def test_drugs_on_record_count_as_current_the_regimen_beside_a_goserelin_depot_run_out_as_currently_on_does(texts):
    # rt52: "Drugs on record" said "letrozole (2024-02-01 to date unknown; still recorded active, not
    # counted as current: see the gaps)" beside "Currently on letrozole + palbociclib": only the
    # goserelin of a record without a dose since is not current (gap ovarian-suppression-not-current,
    # CR C.3 row 15); its regimen's drugs are current by the record's status (FHIR R4 MedicationStatement.status)
    state, cards = _statements("ofs-spans", texts)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in detail
    assert ("- Drugs on record (first to last record): goserelin (2024-02-01 to date unknown; still recorded active, "
            "not counted as current: see the gaps); letrozole (2024-02-01 to now); palbociclib (2024-02-01 to now)") in detail


@pytest.mark.parametrize("text", ["Letrozole? no", "Letrozole? No.", "Letrozole 2.5 mg daily: no", "Letrozole 2.5 mg PO - no"])
def test_no_answering_a_question_mark_or_a_dosing_after_the_drug_is_unreadable_as_after_a_colon(text):
    # rt52: was "HR+/HER2-low MBC, on line 1", "Currently on letrozole", and a draft checked as
    # letrozole ordered, while "Letrozole: no" is named as unreadable (local_codes.yaml
    # drug_mentions answered_no_after): the answer to a question the record does not keep
    state, cards = _with_statement("answer-q", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on letrozole" not in detail
    assert f'MedicationStatement/answer-q-ms (its text "{text}" writes only "no" after its drug' in detail
    assert [c["summary"] for c in _draft_cards(text)] == [
        "Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]
    state, cards = _with_statement("answer-q", text, "completed", "2025-05-20")
    assert "- Metastatic line 1: letrozole, 2024-02-01 to 2025-05-20" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["No letrozole or palbociclib side effects", "No letrozole + palbociclib side effects",
                                  "No letrozole/palbociclib toxicity"])
def test_a_no_about_a_finding_of_a_regimen_of_two_drugs_leaves_both_drugs_given_and_current(text):
    # rt52: the "no" of a finding named after the list's last drug (fix-tx2 read it only after a
    # single name): was "after 1 line(s)", "Metastatic line 1: letrozole, 2024-02-01 to date unknown"
    # (letrozole read as stopped, its end asked), palbociclib unread (gap medication-unreadable), and
    # a draft checked as letrozole alone ("Letrozole drafted without ribociclib")
    state, cards = _with_statement("no-finding-two", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1")
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in summary["detail"]
    assert "could not be read" not in summary["detail"] and "status 'active'" not in summary["detail"]
    assert _draft_cards(text) == _draft_cards("Letrozole + palbociclib")


@pytest.mark.parametrize("text", ["No letrozole or palbociclib", "No letrozole or palbociclib, side effects intolerable"])
def test_no_letrozole_or_palbociclib_alone_or_with_a_stop_reason_is_still_not_the_current_line(text):
    state, cards = _with_statement("no-two", text, "active", None)
    assert not card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1")


@pytest.mark.parametrize("text, regimen, end", [
    ("No letrozole side effects, discontinued for progression", "letrozole", "date unknown"),
    ("No letrozole side effects; stopped", "letrozole", "date unknown"),
    # (its date written after the stop: when it ended, drug_mentions stopped_when_after, tx3)
    ("No letrozole issues, stopped 2025-03-01", "letrozole", "2025-03-01"),
    ("No letrozole or palbociclib side effects, stopped for progression", "letrozole + palbociclib", "date unknown")])
def test_a_stop_written_after_a_finding_negated_of_the_drug_is_a_stop_not_the_drug_taken_now(text, regimen, end):
    # rt52: was "HR+/HER2-low MBC, on line 1", "Currently on letrozole": the finding's "no" (fix-tx2)
    # left the stop after it unread; now read as "Letrozole, stopped" is (local_codes.yaml
    # drug_mentions stopped_after): a stop written on an active record, its end asked
    state, cards = _with_statement("finding-stop", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert f"- Metastatic line 1: {regimen}, 2024-02-01 to {end}" in summary["detail"]
    assert "Currently on" not in summary["detail"]


@pytest.mark.parametrize("text", ["Said no to letrozole dose reduction", "No to letrozole dose change",
                                  "Declined letrozole dose reduction", "Patient refused letrozole treatment break"])
def test_a_refusal_of_a_change_in_how_the_drug_is_given_leaves_the_drug_given_and_current(text):
    # rt52: was "HR+/HER2-low MBC, first line", "Metastatic lines: 0": the dose change was refused,
    # not letrozole (local_codes.yaml drug_mentions refused_change_after; FHIR R4
    # MedicationStatement.status active); fix-tx2's "no to" made "No to letrozole dose change" one
    state, cards = _with_statement("refused-change", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1")
    assert "- Currently on letrozole (metastatic line 1)" in summary["detail"]


@pytest.mark.parametrize("text", ["Declined letrozole", "Said no to letrozole", "Declined letrozole - dose reduction"])
def test_a_refusal_of_the_drug_itself_is_still_no_line_given(text):
    state, cards = _with_statement("refused-drug", text, "active", None)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, first line")


def test_an_aromatase_inhibitor_switch_with_goserelin_kept_asks_no_line_count_as_without_goserelin():
    # rt52: "Letrozole + goserelin (anastrozole stopped)" gave the gap "writes goserelin + letrozole
    # after anastrozole, endocrine therapy of another class ... confirm the lines of therapy", while
    # "Letrozole (anastrozole stopped)" asks nothing: OFS agents do not count as lines (CR C.2), the
    # switch is within one class (CR A.5: aromatase inhibitors)
    details = [card(_with_statement("ai-ofs-q", text, "active", None)[1], "patient-summary")["detail"]
               for text in ("Letrozole + goserelin (anastrozole stopped)", "Letrozole (anastrozole stopped)")]
    assert all("- Metastatic line 1: anastrozole (then letrozole), 2024-02-01 to now (active)" in d for d in details)
    assert all("endocrine therapy of another class" not in d for d in details)


def test_a_switch_from_tamoxifen_to_letrozole_with_goserelin_still_asks_whether_it_was_a_new_line():
    detail = card(_with_statement("tam-ofs-q", "Letrozole + goserelin (tamoxifen stopped)", "active", None)[1],
                  "patient-summary")["detail"]
    assert ('("Letrozole + goserelin (tamoxifen stopped)") writes goserelin + letrozole after tamoxifen, endocrine '
            "therapy of another class") in detail


@pytest.mark.parametrize("text", ["No further letrozole side effects", "No more letrozole toxicity"])
def test_no_further_findings_of_the_drug_leave_it_given_and_current(text):
    # rt52: the record was silently dropped ("HR+/HER2-low MBC, first line", "Metastatic lines: 0",
    # no gap): letrozole read as the cause of a side effect only; "no further" negates the side
    # effects as "no" does (local_codes.yaml drug_mentions finding_negated_opening)
    state, cards = _with_statement("no-further-finding", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1")
    assert "- Currently on letrozole (metastatic line 1)" in summary["detail"]


@pytest.mark.parametrize("text", ["No further letrozole", "No further letrozole due to side effects"])
def test_no_further_letrozole_alone_or_with_a_reason_is_still_a_stop(text):
    state, cards = _with_statement("no-further-stop", text, "active", None)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, after 1 line")


def test_without_letrozole_on_an_active_record_is_no_line_as_no_letrozole_is():
    # fx1: "Without letrozole" read as "Currently on letrozole (metastatic line 1)"; "without" writes
    # the drug as not taken, as "No letrozole" does (FHIR R4 MedicationStatement.status not-taken)
    state, cards = _with_statement("nt-without", "Without letrozole", "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, first line")
    assert "- Metastatic lines: 0" in summary["detail"] and "Currently on letrozole" not in summary["detail"]


@pytest.mark.parametrize("text", ["Letrozole issues, stopped", "Letrozole problems - discontinued"])
def test_a_stop_written_after_the_issues_with_the_drug_is_a_stop_whose_end_is_asked(text):
    # fx1: read as "Currently on letrozole"; the stop after "issues" / "problems" is the drug's stop,
    # as "Letrozole stopped" is (drug_mentions stopped_after; CR C.2 step 1, gap therapy-stopped-in-text)
    state, cards = _with_statement("st-issues", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert "Currently on letrozole" not in summary["detail"]
    assert f"MedicationStatement/st-issues-ms (letrozole, status 'active': '{text}')" in summary["detail"]


@pytest.mark.parametrize("text", ["Letrozole. Palbociclib stopped (neutropenia)", "Letrozole; palbociclib stopped"])
def test_a_cdk46i_written_as_stopped_after_its_endocrine_partner_is_stopped_and_the_endocrine_drug_is_current(text):
    # fx1: read as "Currently on letrozole + palbociclib"; the stop written for the CDK4/6 inhibitor
    # named second is its own, letrozole goes on in the same line (CR B.9, B.10; CR C.2 step 1)
    state, cards = _with_statement("cdk-drop", text, "active", None)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1")
    assert "- Currently on letrozole (metastatic line 1)" in summary["detail"]
    assert "palbociclib (2024-02-01 to date unknown)" in summary["detail"]


@pytest.mark.parametrize("text", ["Letrozole. Palbociclib stopped (neutropenia)", "Fulvestrant; palbociclib stopped"])
def test_a_cdk46i_dropped_from_its_endocrine_partner_is_not_written_as_a_switch_to_the_endocrine_drug(text):
    # rt57: the line read "palbociclib (then letrozole)", as if letrozole had replaced palbociclib;
    # the CDK4/6 inhibitor is given with the endocrine drug (CR B.9, B.10) and was dropped from it
    state, cards = _with_statement("cdk-drop-label", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "(then " not in detail
    partner = text.split(".")[0].split(";")[0].lower()
    assert f"- Metastatic line 1: palbociclib + {partner}, 2024-02-01 to now (active)" in detail
    assert f"- Currently on {partner} (metastatic line 1)" in detail


@pytest.mark.parametrize("text", ["Letrozole + palbociclib (palbociclib stopped)",
                                  "Fulvestrant + palbociclib; palbociclib stopped due to neutropenia"])
def test_a_cdk46i_written_stopped_after_the_regimen_naming_it_is_stopped_and_the_endocrine_drug_is_current(text):
    # fx4: read "Currently on letrozole + palbociclib": the stop written after the regimen is the
    # CDK4/6 inhibitor's own, dropped from its endocrine partner, which goes on in the same line
    # (CR B.9, B.10; CR C.2 step 1), as "Letrozole. Palbociclib stopped (neutropenia)" reads
    state, cards = _with_statement("cdk-drop-named", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    partner = text.split(" ")[0].lower()
    assert f"- Currently on {partner} (metastatic line 1)" in detail
    assert "(then " not in detail
    assert f"- Metastatic line 1: palbociclib + {partner}, 2024-02-01 to now (active)" in detail
    assert sorted(d.name for d in state.therapy.current_drugs()) == [partner]


def test_a_cdk46i_written_after_without_is_not_taken_as_after_a_comma_and_no():
    # rt57: "Letrozole without palbociclib" read "Currently on letrozole + palbociclib"; "without"
    # writes the drug as not taken (fx1, drugs.yaml not_taken_opening), as "Letrozole, no palbociclib"
    # reads (FHIR R4 MedicationStatement.status not-taken; CR B.9, B.10)
    state, cards = _with_statement("without-cdk", "Letrozole without palbociclib", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


@pytest.mark.parametrize("text, ended", [("Tamoxifen 2015-2020", "2020"), ("Tamoxifen (2015 to 2020)", "2020"),
                                         ("Tamoxifen 20 mg 2015-06 to 2019-05", "2019-05 "),
                                         ("Tamoxifen 2015-2020 (adjuvant)", "2020"), ("Tamoxifen 5 yrs 2015-2020", "2020"),
                                         ("Tamoxifen (2015-2020) stopped", "2020")])
def test_adjuvant_tamoxifen_written_with_a_past_span_of_years_ended_at_the_span_end_not_at_the_relapse(text, ended):
    # tx3: an active record "Tamoxifen 2015-2020" read tamoxifen as taken at the 2024 relapse
    # ("2015-06-01 to date unknown", secondary resistance: relapse on adjuvant endocrine therapy);
    # the span written ends the course once its end is past, as "... 2015-2020 completed" does
    # (local_codes.yaml drug_mentions span_closing; CR C.1, C.3: resistance from the adjuvant end)
    detail = _adjuvant_tamoxifen(text)["detail"]
    assert f"- (Neo)adjuvant: tamoxifen, 2015-06-01 to {ended}" in detail
    assert "- Endocrine sensitivity: endocrine-sensitive: relapse" in detail and "secondary resistance" not in detail


@pytest.mark.parametrize("text", ["Tamoxifen 2015-", "Tamoxifen since 2015"])
def test_adjuvant_tamoxifen_written_with_an_open_span_stays_taken_at_the_relapse(text):
    detail = _adjuvant_tamoxifen(text)["detail"]
    assert "- (Neo)adjuvant: tamoxifen, 2015-06-01 to date unknown" in detail
    assert "secondary resistance: relapse on adjuvant endocrine therapy" in detail


def test_a_record_without_a_start_or_status_written_with_a_past_span_is_no_current_line():
    # tx3: no effective[x] and "Tamoxifen 2015-2020" read as the current metastatic line 1
    # ("Currently on tamoxifen"); status unknown asked whether it is still given
    for status in ("active", "unknown"):
        p = hr_positive_mbc("p-span", primary="2015-03-01")
        p.add({"resourceType": "MedicationStatement", "id": "ms-span", "status": status,
               "subject": {"reference": "Patient/p-span"}, "medicationCodeableConcept": {"text": "Tamoxifen 2015-2020"}})
        detail = card(run(p)[1], "patient-summary")["detail"]
        assert "- (Neo)adjuvant: tamoxifen, date unknown to 2020" in detail, status
        assert "Currently on" not in detail and "status 'unknown'" not in detail


def test_a_span_of_years_not_ended_yet_leaves_the_record_as_its_status_says():
    state, cards = _with_statement("span-future", "Letrozole 2024-2029", "active", None)
    assert "- Currently on letrozole (metastatic line 1)" in card(cards, "patient-summary")["detail"]


def test_a_span_ending_before_the_record_start_is_no_current_line_and_its_end_is_asked():
    state, cards = _with_statement("span-before", "Letrozole 2015-2020", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert "MedicationStatement/span-before-ms (letrozole, status 'active': 'Letrozole 2015-2020')" in detail


@pytest.mark.parametrize("text", ["No palbociclib, letrozole alone", "No to palbociclib, letrozole alone",
                                  "No palbociclib, letrozole 2.5 mg"])
def test_a_no_before_the_first_drug_up_to_a_comma_negates_that_drug_alone_and_the_next_one_is_the_current_line(text):
    # tx3: "No palbociclib, letrozole alone" read both current ("Currently on letrozole + palbociclib");
    # "No to palbociclib, letrozole alone" a refusal naming two drugs, no line ("Metastatic lines: 0").
    # The "no" reaches up to the comma (drugs.yaml not_taken_names_last_joined), "alone" names the drug
    # given (local_codes.yaml drug_mentions chosen_after; FHIR R4 MedicationStatement.status not-taken)
    state, cards = _with_statement("no-comma", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail
    assert [c["summary"] for c in _draft_cards(text)] == [
        "Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]


def test_a_no_before_a_list_closed_by_or_still_negates_every_drug_of_it():
    state, cards = _with_statement("no-list", "No letrozole, palbociclib or ribociclib", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic lines: 0" in detail and "1 resource not used: MedicationStatement" in detail


@pytest.mark.parametrize("text, said", [("Letrozole: not now", "not now"), ("Letrozole - not currently", "not currently"),
                                        ("Letrozole 2.5 mg: not at present", "not at present")])
def test_not_now_after_the_drug_on_an_active_record_is_no_current_line_and_named_as_unreadable(text, said):
    # tx3: "Letrozole: not now" read "Currently on letrozole", line 1 under way; the drug is not given
    # now, and whether never started, deferred or stopped is not written: named as "Letrozole: no" is
    # (local_codes.yaml drug_mentions answered_no_after; FHIR R4 MedicationStatement.status)
    state, cards = _with_statement("answer-not-now", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on letrozole" not in detail
    assert (f'MedicationStatement/answer-not-now-ms (its text "{text}" writes only "{said}" after its drug: whether '
            "it was given, refused or stopped cannot be read)") in detail
    drafted = _draft_cards(text)
    assert [c["summary"] for c in drafted] == ["Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]
    assert f'writes only "{said}" after its drug: whether it orders it is not clear' in drafted[0]["detail"]


def test_not_now_after_the_drug_on_a_completed_record_is_a_line_given_and_ended():
    state, cards = _with_statement("not-now-ended", "Letrozole: not now", "completed", "2025-05-20")
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert "- Metastatic line 1: letrozole, 2024-02-01" in summary["detail"]


def test_a_cdk46i_switch_at_progression_on_a_record_begun_in_the_adjuvant_setting_keeps_letrozole_in_the_adjuvant_course():
    # tx3: a record from 2016 (before the 2024 relapse) "Letrozole + palbociclib stopped for progression,
    # now letrozole + ribociclib" read its adjuvant use as "(Neo)adjuvant: palbociclib" alone, letrozole
    # dropped (the CDK4/6 swap reads the CDK4/6 inhibitor alone as stopped): no adjuvant endocrine
    # therapy, "Endocrine sensitivity: unknown" without saying why. The regimen written as stopped is
    # letrozole + palbociclib (CR B.9, B.10; CR C.1: resistance from the adjuvant endocrine course)
    p = hr_positive_mbc("sw-adj", primary="2016-03-01")
    p.add({"resourceType": "MedicationStatement", "id": "sw-adj-ms", "status": "active", "subject": {"reference": "Patient/sw-adj"},
           "medicationCodeableConcept": {"text": "Letrozole + palbociclib stopped for progression, now letrozole + ribociclib"},
           "effectivePeriod": {"start": "2016-06-01"}})
    detail = card(run(p, dt.date(2025, 9, 1))[1], "patient-summary")["detail"]
    assert "- (Neo)adjuvant: letrozole + palbociclib, 2016-06-01 to date unknown" in detail
    assert "- Currently on letrozole + ribociclib (metastatic line 1)" in detail
    assert "Adjuvant endocrine therapy is documented without an end date: endocrine resistance cannot be classified." in detail


def test_a_cdk46i_switch_at_progression_on_a_metastatic_record_is_read_as_before():
    state, cards = _with_statement("sw-met", "Letrozole + palbociclib stopped for progression, now letrozole + ribociclib",
                                   "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib (then ribociclib) + letrozole, 2024-02-01 to now (active)" in detail
    assert "(Neo)adjuvant" not in detail


@pytest.mark.parametrize("text, ended", [("Letrozole (stopped 2024-03)", "2024-03 (no day given)"),
                                         ("Letrozole - discontinued on 2024-05-10", "2024-05-10"),
                                         ("Letrozole stopped 03/2024", "2024-03 (no day given)")])
def test_a_stop_written_with_its_date_on_an_active_record_ends_the_line_then_and_asks_nothing(text, ended):
    # tx3: the stop was read, its end asked though written ("2024-02-01 to date unknown", gap
    # therapy-stopped-in-text); the date after the stop is when it ended (local_codes.yaml
    # drug_mentions stopped_when_after; FHIR R4 MedicationStatement.effective[x] end)
    state, cards = _with_statement("stop-dated", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Metastatic line 1: letrozole, 2024-02-01 to {ended}" in detail
    assert "MedicationStatement/stop-dated-ms (letrozole, status 'active'" not in detail


def test_a_stop_written_with_a_day_whose_order_is_not_settled_still_asks_its_end():
    state, cards = _with_statement("stop-dmy", "Letrozole stopped 10/03/2024", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in detail
    assert "MedicationStatement/stop-dmy-ms (letrozole, status 'active': 'Letrozole stopped 10/03/2024')" in detail


@pytest.mark.parametrize("status, end", [("active", None), ("completed", "2025-05-20")])
def test_not_yet_after_the_drug_is_named_as_unreadable_whatever_the_status(status, end):
    # tx3: "Letrozole: not yet" read "Currently on letrozole"; not started yet disagrees with a status
    # saying a course ended, so it is not read as a line given there either (drug_mentions answered_no_after)
    state, cards = _with_statement("not-yet", "Letrozole: not yet", status, end)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic lines: 0" in detail
    assert 'MedicationStatement/not-yet-ms (its text "Letrozole: not yet" writes only "not yet" after its drug' in detail


@pytest.mark.parametrize("text", ["Letrozole (no palbociclib)", "Letrozole - no palbociclib", "Letrozole alone (no palbociclib)"])
def test_a_cdk46i_written_not_taken_in_brackets_or_after_a_dash_is_not_taken_as_after_a_comma(text):
    # tx3: read "Currently on letrozole + palbociclib", a CDK4/6 inhibitor counted as given; the
    # bracket or dash opens a not-taken clause as a comma does (FHIR R4 MedicationStatement.status not-taken)
    state, cards = _with_statement("no-bracket", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


def test_a_cdk46i_held_in_brackets_stays_given():
    state, cards = _with_statement("held-bracket", "Letrozole (no palbociclib this cycle)", "active", None)
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]


def test_not_now_after_a_semicolon_is_named_as_unreadable():
    state, cards = _with_statement("semi-not-now", "Letrozole 2.5 mg; not now", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on letrozole" not in detail
    assert 'writes only "not now" after its drug' in detail


@pytest.mark.parametrize("text", ["Letrozole; stopped palbociclib", "Letrozole, off palbociclib", "Letrozole (off palbociclib)",
                                  "Letrozole - discontinued palbociclib (neutropenia)"])
def test_a_cdk46i_written_stopped_before_its_name_after_the_endocrine_drug_is_stopped_and_the_endocrine_drug_current(text):
    # tx3: read "Currently on letrozole + palbociclib"; the stop opening palbociclib's clause is its
    # own, letrozole goes on in the same line, as "Letrozole; palbociclib stopped" reads (CR B.9,
    # B.10, C.2 step 1; local_codes.yaml drug_mentions switch_stop_before_second)
    state, cards = _with_statement("stop-before-cdk", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


def test_a_cdk46i_off_for_a_time_after_the_endocrine_drug_stays_current():
    state, cards = _with_statement("off-weeks", "Letrozole, off palbociclib for 2 weeks", "active", None)
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Letrozole stopped 2025-01-10 to 2025-01-20", "Letrozole stopped 2025-01-10 - 2025-01-20",
                                  "Letrozole stopped 2025-03?", "Letrozole (stopped 2025-03 ?)"])
def test_a_stop_whose_date_opens_a_span_or_is_queried_still_asks_its_end(text):
    # rt62: the first date after the stop was read as the end ("2024-02-01 to 2025-01-10", no gap),
    # though a span after it writes a time off the drug (a hold, its end and any restart not settled)
    # and a "?" queries it; as before tx3: a stop written, its end asked (gap therapy-stopped-in-text)
    state, cards = _with_statement("stop-span", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in detail
    assert f"MedicationStatement/stop-span-ms (letrozole, status 'active': '{text}')" in detail


@pytest.mark.parametrize("text", ["No palbociclib, letrozole", "No letrozole, palbociclib", "No palbociclib, ribociclib",
                                  "No palbociclib, letrozole and goserelin", "Without palbociclib, letrozole"])
def test_a_no_before_drugs_joined_by_a_bare_comma_is_named_as_unreadable_not_read_as_one_drug_given(text):
    # rt62: tx3 read the "no" up to the comma and the drug after it as the current line ("No palbociclib,
    # ribociclib": "Currently on ribociclib"); it may equally negate the whole list ("no palbociclib or
    # ribociclib"). Nothing after the later drug writes it given (a dose, "alone", "only": drug_mentions
    # chosen_after, listed_given_dose_after), and the sources do not settle which: named as unreadable
    state, cards = _with_statement("no-bare-comma", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail and "- Metastatic lines: 0" in detail
    assert (f'MedicationStatement/no-bare-comma-ms (its text "{text}" writes "no" before drugs joined by a comma, '
            "nothing after the later ones writing them given: which of them were not taken cannot be read)") in detail
    drafted = _draft_cards(text)
    assert [c["summary"] for c in drafted] == ["Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]
    assert f'its text "{text}" writes "no" before drugs joined by a comma: which one it orders is not clear' in drafted[0]["detail"]


@pytest.mark.parametrize("text, regimen", [("Not on palbociclib, fulvestrant 500 mg", "fulvestrant"),
                                           ("No palbociclib, no ribociclib, letrozole alone", "letrozole"),
                                           ("No palbociclib, letrozole only", "letrozole")])
def test_a_no_before_drugs_joined_by_a_comma_the_later_one_written_given_still_reads_it_as_the_current_line(text, regimen):
    state, cards = _with_statement("no-comma-given", text, "active", None)
    assert f"- Currently on {regimen} (metastatic line 1)" in card(cards, "patient-summary")["detail"]


def test_a_no_before_a_drug_and_a_comma_then_a_drug_of_no_line_still_reads_the_first_as_not_taken():
    # (the later drug counts in no line: whether the "no" reaches it changes no line, read as tx3 reads it)
    state, cards = _with_statement("no-comma-ofs", "No palbociclib, goserelin", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic lines: 0" in detail
    assert 'its text "No palbociclib, goserelin" also names palbociclib, not read as given by this record' in detail


@pytest.mark.parametrize("text", ["Letrozole, not palbociclib", "Letrozole (not palbociclib - cost)", "Letrozole; not palbociclib",
                                  "Letrozole, not yet palbociclib"])
def test_a_cdk46i_after_a_bare_not_past_a_clause_break_is_not_taken_as_after_no(text):
    # tx4: read "Currently on letrozole + palbociclib" (a bare "not" was no not-taken word); it is
    # set against the drug given, as "Letrozole, no palbociclib" reads (FHIR R4 MedicationStatement.status not-taken)
    state, cards = _with_statement("bare-not", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


@pytest.mark.parametrize("text", ["Letrozole: not for palbociclib", "Letrozole: no palbociclib", "Letrozole, not for palbociclib"])
def test_a_cdk46i_after_a_colon_or_not_for_is_not_taken_the_endocrine_drug_the_line(text):
    # tx5: read "Currently on letrozole + palbociclib" and a draft so written passed as both; as
    # "Letrozole, not palbociclib" reads (FHIR R4 MedicationStatement.status not-taken; CR B.9, B.10)
    state, cards = _with_statement("colon-not", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail
    assert [c["summary"] for c in _draft_cards(text)] == [
        "Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]


def test_a_bare_not_opening_drugs_joined_by_a_comma_is_named_unreadable_as_no_is():
    # tx5: "Not letrozole, palbociclib" read "Currently on letrozole + palbociclib" (a draft so written
    # passed as both); which were not taken is not written, as for "No letrozole, palbociclib" (rt62)
    state, cards = _with_statement("not-comma", "Not letrozole, palbociclib", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic lines: 0" in detail and "Currently on" not in detail
    assert 'writes "no" before drugs joined by a comma, nothing after the later ones writing them given' in detail
    assert [c["summary"] for c in _draft_cards("Not letrozole, palbociclib")] == [
        "Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]


@pytest.mark.parametrize("text", ["Stopped palbociclib; letrozole continues", "Off palbociclib. Letrozole ongoing",
                                  "Stopped palbociclib, letrozole continues"])
def test_a_cdk46i_written_stopped_first_its_endocrine_partner_going_on_is_a_stop_within_the_line(text):
    # tx4: read "Currently on letrozole + palbociclib"; the CDK4/6 inhibitor is stopped and the
    # endocrine drug goes on in the same line, as "Letrozole; stopped palbociclib" reads (CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("stop-first", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


@pytest.mark.parametrize("text", ["Stopped palbociclib, letrozole", "Discontinued palbociclib, letrozole",
                                  "Off palbociclib, letrozole", "Stopped palbociclib, letrozole, goserelin",
                                  "Stopped palbociclib, letrozole and goserelin"])
def test_a_stop_opening_a_list_of_drugs_joined_by_commas_stops_every_drug_in_it_and_asks_when(text):
    # tx5: read "Currently on letrozole + palbociclib" (the stop of neither); a list after "stopped"
    # stops each drug in it, as "Stopped palbociclib and letrozole" reads; the record still active by
    # its status, when they stopped is asked (gap therapy-stopped-in-text; CR B.9, B.10)
    state, cards = _with_statement("stop-list", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to date unknown" in detail
    assert "Currently on" not in detail
    assert "MedicationStatement/stop-list-ms (palbociclib + letrozole" in detail and f"status 'active': '{text}')" in detail


def test_a_stop_opening_a_list_with_its_reason_after_it_is_that_reason_of_every_drug():
    state, cards = _with_statement("stop-list-pd", "Stopped palbociclib, letrozole (progression)", "active", None)
    assert state.therapy.metastatic_lines[0].progressed
    assert "Currently on" not in card(cards, "patient-summary")["detail"]


def test_a_cdk46i_written_stopped_first_its_endocrine_partner_given_by_its_dose_is_a_stop_within_the_line():
    # tx5: read "Currently on letrozole + palbociclib"; the dose writes letrozole given, as "No
    # palbociclib, letrozole 2.5 mg" reads (local_codes.yaml listed_given_dose_after; CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("stop-first-dose", "Stopped palbociclib, letrozole 2.5 mg", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


def test_a_stop_opening_a_list_for_a_while_stays_a_pause():
    state, cards = _with_statement("stop-list-pause", "Stopped palbociclib, letrozole for 2 weeks", "active", None)
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Palbociclib: not now, letrozole continues", "Palbociclib - no; letrozole 2.5 mg"])
def test_an_answer_closing_a_cdk46i_clause_before_the_endocrine_drug_is_that_drug_not_given_now(text):
    # tx4: read "Currently on letrozole + palbociclib"; the answer is of palbociclib alone (FHIR R4
    # MedicationStatement.status not-taken), letrozole the line, as "Letrozole, no palbociclib" reads
    state, cards = _with_statement("answer-between", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


@pytest.mark.parametrize("text", ["Not now: letrozole", "Not currently - letrozole 2.5 mg"])
def test_not_now_written_before_the_drug_is_named_unreadable_as_after_it(text):
    # tx4: read "Currently on letrozole" (a draft so written checked as letrozole ordered)
    state, cards = _with_statement("answer-before", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on letrozole" not in detail and "- Metastatic lines: 0" in detail
    assert 'before its drug: whether it was given, refused or stopped cannot be read' in detail
    assert [c["summary"] for c in _draft_cards(text)] == ["Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]


@pytest.mark.parametrize("text", ["Off palbociclib until counts recover", "Palbociclib stopped until recovery",
                                  "Letrozole + palbociclib (palbociclib stopped until neutrophils recover)"])
def test_a_stop_until_a_condition_is_met_is_a_hold_the_line_going_on(text):
    # tx4: "Off palbociclib until counts recover" read as the drug's end ("to date unknown", its end
    # asked); a hold for toxicity is no new line nor an end (CR C.2 steps 1-3; FHIR R4 status on-hold)
    state, cards = _with_statement("until-recover", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "palbociclib, 2024-02-01 to now (active)" in detail and "to date unknown" not in detail
    assert "- Currently on " in detail and "palbociclib (metastatic line 1)" in detail


def test_a_stop_until_after_an_event_is_a_hold_the_line_going_on():
    # tx5: "until after surgery" was a pause but "until after radiotherapy" read as the drug's end
    # ("to date unknown", its end asked); an "until after <event>" is a pause whatever the event
    state, cards = _with_statement("until-after", "Palbociclib stopped until after radiotherapy", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "palbociclib, 2024-02-01 to now (active)" in detail and "to date unknown" not in detail


@pytest.mark.parametrize("text", ["Off palbociclib until 2025-04", "Off palbociclib until progression",
                                  "Off palbociclib until after progression"])
def test_a_stop_until_a_date_or_a_progression_stays_an_end(text):
    state, cards = _with_statement("until-date", text, "active", None)
    assert "- Metastatic line 1: palbociclib, 2024-02-01 to date unknown" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Letrozole + palbociclib - no palbociclib since 2025-03",
                                  "Letrozole + palbociclib; off palbociclib since March 2025"])
def test_the_cdk46i_of_the_regimen_named_again_with_no_since_a_date_is_stopped_its_partner_going_on(text):
    # tx4: read "Currently on letrozole + palbociclib"; as "(palbociclib stopped 2025-03)" reads:
    # palbociclib dropped from the line, letrozole current (CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("no-since", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


@pytest.mark.parametrize("text", ["Letrozole + palbociclib - off palbociclib since neutropenia",
                                  "Letrozole + palbociclib - no palbociclib since cycle 3",
                                  "Letrozole + palbociclib; no palbociclib since grade 3 neutropenia"])
def test_the_cdk46i_of_the_regimen_named_again_with_no_since_a_cycle_or_a_side_effect_is_stopped_its_partner_going_on(text):
    # tx5: read "Currently on letrozole + palbociclib" (a hold); "since" a cycle or a side effect
    # states a stop as "since 2025-03" does (CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("no-since-cause", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


@pytest.mark.parametrize("text, until", [("Letrozole + palbociclib - no palbociclib since 2025-03", "2025-03"),
                                         ("Letrozole + palbociclib - off palbociclib since 2025-03-10", "2025-03-10"),
                                         ("Letrozole + palbociclib; off palbociclib since March 2025", "2025-03"),
                                         ("Letrozole + palbociclib (palbociclib stopped 2025-03)", "2025-03")])
def test_the_date_the_cdk46i_of_the_regimen_is_written_stopped_on_is_the_end_of_its_course(text, until):
    # tx5: palbociclib stopped within the line, its course read "2024-02-01 to date unknown": the date
    # since when it is not given, or after "stopped", is when it ended, as "Letrozole (stopped 2024-03)"
    # reads (FHIR R4 MedicationStatement.effective[x] end written in the text; CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("no-since-date", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Drugs on record (first to last record): letrozole (2024-02-01 to now); palbociclib (2024-02-01 to {until})" \
        in detail
    assert "- Currently on letrozole (metastatic line 1)" in detail


def test_a_stop_date_after_today_is_not_read_as_the_end_of_the_course():
    state, cards = _with_statement("no-since-later", "Letrozole + palbociclib - no palbociclib since 2026-03", "active",
                                   None)
    assert "palbociclib (2024-02-01 to date unknown)" in card(cards, "patient-summary")["detail"]


def test_the_cdk46i_of_the_regimen_named_again_with_no_this_cycle_stays_a_hold():
    state, cards = _with_statement("no-cycle", "Letrozole + palbociclib - no palbociclib this cycle", "active", None)
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text, said", [("Letrozole stopped in error", "stopped in error"),
                                        ("Letrozole - entered in error", "entered in error")])
def test_a_record_whose_text_writes_it_in_error_is_named_not_read_as_a_stop_or_the_current_line(text, said):
    # tx4: "stopped in error" read as the drug's end (asked), "entered in error" as the current line;
    # the record in error is the status' to say (FHIR R4 MedicationStatement.status entered-in-error)
    state, cards = _with_statement("in-error", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic lines: 0" in detail and "Currently on letrozole" not in detail
    assert f'writes "{said}", while its status does not say the record was entered in error' in detail


def test_a_record_entered_in_error_by_its_status_is_left_out_as_before():
    state, cards = _with_statement("in-error-status", "Letrozole entered in error", "entered-in-error", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic lines: 0" in detail and "while its status does not say" not in detail


def _anastrozole_then_tamoxifen(pid: str, why: str | None) -> tuple:
    return run(de_novo(pid).med("anastrozole", "2024-02-01", "2024-08-01", status="stopped", stopped_for=why)
               .med("tamoxifen", "2024-08-05"))


@pytest.mark.parametrize("why", ["Toxicity?", "? intolerance", "Possible neutropenia"])
def test_a_stop_reason_other_than_progression_only_suspected_is_asked_as_a_suspected_progression_is(why):
    # tx4: read as a stated reason other than progression (no question; the endocrine sensitivity
    # left unread); a hedged reason is none stated (CR C.2 steps 1-3), as "Suspected progression" reads
    state, cards = _anastrozole_then_tamoxifen("hedged-why", why)
    detail = card(cards, "patient-summary")["detail"]
    assert ("- Anticancer medication records give a progression or another reason (a side effect) that is only suspected "
            "as the reason they stopped, not counted as a documented progression nor as a stated other reason: "
            "MedicationStatement/med-anastrozole-") in detail and f"(anastrozole: '{why}')" in detail
    assert "- Endocrine sensitivity: secondary resistance" in detail


@pytest.mark.parametrize("why", ["Not for toxicity", "Toxicity ruled out"])
def test_a_stop_reason_other_than_progression_negated_reads_as_no_reason_written(why):
    state, cards = _anastrozole_then_tamoxifen("negated-why", why)
    _, no_reason = _anastrozole_then_tamoxifen("no-why", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Endocrine sensitivity: secondary resistance" in detail and "stop-reason-unclear" not in {g.code for g in state.gaps}
    assert card(cards, "patient-summary")["summary"] == card(no_reason, "patient-summary")["summary"]


@pytest.mark.parametrize("status, why, line", [("stopped", "Stopped in error", "letrozole, 2024-02-01 to 2024-08-01"),
                                               ("active", "Entered in error", "letrozole, 2024-02-01 to now (active)")])
def test_a_stop_reason_writing_in_error_is_named_the_record_read_by_its_status(status, why, line):
    # tx4: read as a stop with no reason, in silence; the record in error is the status' to say (FHIR
    # R4 MedicationStatement.status entered-in-error), so it is read by its status and named
    p = de_novo("in-error-note").med("letrozole", "2024-02-01", "2024-08-01" if status == "stopped" else None,
                                     status=status, stopped_for=why)
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Metastatic line 1: {line}" in detail
    assert ("- Anticancer medication records write in their stop reason or note that something was stopped or entered "
            "in error, while their status does not say the record was entered in error: MedicationStatement/med-letrozole-"
            ) in detail and f"(letrozole: '{why}')" in detail


@pytest.mark.parametrize("why", ["Not tolerated - nausea", "Did not tolerate diarrhoea", "Not tolerating the diarrhoea",
                                 "Not coping with fatigue"])
def test_a_stop_reason_writing_a_side_effect_not_tolerated_stays_a_stated_other_reason(why):
    # rt65: the negated-reason words (tx4) read "not tolerat..." / "not coping" as the side effect
    # negated, and reached across a spaced dash: the stop read as one with no reason, and the switch
    # to tamoxifen as a progression (secondary resistance). A side effect not tolerated is a stated
    # reason other than progression (CR C.2 steps 1-3; stop_reasons non_progression_patterns)
    state, cards = _anastrozole_then_tamoxifen("not-tolerated-why", why)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Endocrine sensitivity: de novo metastatic" in detail and "secondary resistance" not in detail
    assert "stop-reason-unclear" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("why", ["Not due to drug toxicity", "Not for neutropenia", "Not related to treatment toxicity"])
def test_a_stop_reason_negating_a_side_effect_still_reads_as_no_reason_written(why):
    state, cards = _anastrozole_then_tamoxifen("negated-why-2", why)
    assert "- Endocrine sensitivity: secondary resistance" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("why, before", [("Toxicity suspected", "Suspected toxicity"), ("Pneumonitis likely", "Likely pneumonitis"),
                                         ("Neutropenia possible", "Possible neutropenia")])
def test_a_side_effect_with_its_hedge_written_after_it_is_asked_as_with_the_hedge_before(why, before):
    # rt65: tx4 read "Suspected toxicity" as a suspicion (asked, gap stop-reason-unclear) but
    # "Toxicity suspected" as a stated reason other than progression (no question): the same words
    # in another order (CR C.2 steps 1-3: a hedged reason is none stated)
    state, cards = _anastrozole_then_tamoxifen("hedge-after", why)
    _, hedged_before = _anastrozole_then_tamoxifen("hedge-after", before)
    detail = card(cards, "patient-summary")["detail"]
    assert "stop-reason-unclear" in {g.code for g in state.gaps} and f"(anastrozole: '{why}')" in detail
    assert detail.replace(why, before) == card(hedged_before, "patient-summary")["detail"]


@pytest.mark.parametrize("why", ["Diarrhoea, likely drug related", "Neutropenia likely due to palbociclib",
                                 "Toxicity suspected, patient preference"])
def test_a_side_effect_whose_cause_alone_is_hedged_stays_a_stated_other_reason(why):
    state, cards = _anastrozole_then_tamoxifen("hedge-cause", why)
    assert "- Endocrine sensitivity: de novo metastatic" in card(cards, "patient-summary")["detail"]
    assert "stop-reason-unclear" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("rtype", ["MedicationStatement", "MedicationRequest"])
@pytest.mark.parametrize("text", ["Letrozole, palbociclib to start next cycle", "Letrozole, palbociclib to start on 2025-06-01",
                                  "Letrozole, palbociclib planned", "Letrozole, palbociclib will start next week"])
def test_a_plan_written_after_drugs_listed_by_a_comma_is_never_read_as_both_given(text, rtype):
    # tx6 checked: whether the plan is of palbociclib alone or of the list is not settled by a comma
    # ("Letrozole + palbociclib planned" is of both; a plan closing a clause of its own, "Letrozole;
    # palbociclib to start next cycle", reads letrozole given): the record stays named unreadable, no
    # CDK4/6 inhibitor read as given (FHIR R4 MedicationStatement.status intended; CR B.9, B.10)
    p = hr_positive_mbc("plan-list", primary="2024-01-10")
    res = {"resourceType": rtype, "id": "plan-list-rec", "status": "active",
           "subject": {"reference": "Patient/plan-list"}, "medicationCodeableConcept": {"text": text}}
    if rtype == "MedicationStatement":
        res["effectivePeriod"] = {"start": "2024-02-01"}
    else:
        res.update(intent="order", authoredOn="2024-02-01")
    p.add(res)
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert not any("palbociclib" in d.name for ln in state.therapy.metastatic_lines for d in ln.drugs)
    assert "Currently on letrozole + palbociclib" not in detail
    assert f'{rtype}/plan-list-rec (its text "{text}" writes its drug as planned or considered' in detail


@pytest.mark.parametrize("text, worded", [
    ("Letrozole stopped - progression?", "give a progression that is only suspected as the reason they stopped"),
    ("Letrozole stopped - toxicity?", "give a progression or another reason (a side effect) that is only suspected")])
def test_a_stop_reason_hedged_in_the_drug_text_is_quoted_in_the_gap_and_worded_by_it(text, worded):
    # tx5: the gap quoted '' (the record's statusReason and note, empty) and was worded for a reason
    # other than progression whatever the text said; it quotes the text that hedges the reason now
    state, cards = _with_statement("hedged-in-text", text, "completed", "2025-03-01")
    detail = card(cards, "patient-summary")["detail"]
    assert f"MedicationStatement/hedged-in-text-ms (letrozole: '{text}')" in detail and worded in detail


@pytest.mark.parametrize("text", ["Letrozole + palbociclib (palbociclib stopped 2024-05 - neutropenia)",
                                  "Letrozole + palbociclib - no palbociclib since 2024-05"])
def test_a_cdk46i_stop_date_written_within_the_line_does_not_end_the_line_its_endocrine_partner_goes_on_in(text):
    # rt74: fix-tx6 ended line 1 on palbociclib's written stop (2024-05) while letrozole, on the same
    # record still under way, went on until fulvestrant (2025-05-01): "primary resistance: progression
    # within 6 months ... (2024-02-01 to 2024-05)" for a progression recorded 2025-04-20, 14.6 months
    # in. The stop date ends palbociclib's course only (CR B.9, B.10, C.2 step 1: a drug dropped from
    # the line, not the line's end); the line runs to the next one, as before tx6
    p = hr_positive_mbc("stop-date-next", primary="2024-01-10")
    p.add({"resourceType": "MedicationStatement", "id": "stop-date-next-ms", "status": "active",
           "subject": {"reference": "Patient/stop-date-next"}, "medicationCodeableConcept": {"text": text},
           "effectivePeriod": {"start": "2024-02-01"}})
    p.med("fulvestrant", "2025-05-01").progression("2025-04-20")
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to 2025-05-01 —" in detail
    assert "- Endocrine sensitivity: secondary resistance: progression after 6 months or more" in detail
    assert "palbociclib (2024-02-01 to 2024-05)" in detail
    assert state.therapy.endocrine_resistance == "secondary"


@pytest.mark.parametrize("text", ["Stopped palbociclib, letrozole 2025-03", "Stopped palbociclib, letrozole on 2025-03-10",
                                  "Stopped palbociclib, letrozole (2025-03)"])
def test_a_stop_opening_a_list_of_drugs_joined_by_commas_with_a_date_after_it_stops_every_drug_and_asks_when(text):
    # rt74: read "Currently on letrozole + palbociclib" in silence, while the same list with no date
    # ("Stopped palbociclib, letrozole"), or joined by "and" with the date ("Stopped palbociclib and
    # letrozole 2025-03") reads both stopped; whether the date is of the stop or of letrozole's start
    # ("letrozole 2025-03") the comma does not settle: stopped, when asked (gap therapy-stopped-in-text)
    state, cards = _with_statement("stop-list-date", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to date unknown" in detail
    assert "Currently on" not in detail
    assert f"MedicationStatement/stop-list-date-ms (palbociclib + letrozole, status 'active': '{text}')" in detail


def test_a_cdk46i_stop_date_written_within_the_line_does_not_end_it_beside_an_earlier_ended_record_of_the_line():
    # rt74: beside a palbociclib record ended 2024-04-30, the record writing palbociclib stopped 2024-05
    # and letrozole going on still ended line 1 on the earlier record's end: the line goes on after
    # the written stop, to the next line (CR B.9, B.10, C.2 step 1)
    p = hr_positive_mbc("stop-date-two", primary="2024-01-10")
    p.add({"resourceType": "MedicationStatement", "id": "stop-date-two-ms", "status": "active",
           "subject": {"reference": "Patient/stop-date-two"},
           "medicationCodeableConcept": {"text": "Letrozole + palbociclib (palbociclib stopped 2024-05 - neutropenia)"},
           "effectivePeriod": {"start": "2024-02-01"}})
    p.med("palbociclib", "2024-02-01", "2024-04-30", status="stopped")
    p.med("fulvestrant", "2025-05-01").progression("2025-04-20")
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to 2025-05-01 —" in detail
    assert state.therapy.endocrine_resistance == "secondary"


def test_an_open_endocrine_record_beside_a_stopped_cdk46i_record_runs_the_line_to_the_next_so_a_late_progression_is_secondary():
    # tx7: letrozole recorded active with no end, palbociclib on its own record stopped 2024-05-15,
    # fulvestrant from 2025-05-01, progression 2025-04-20: line 1 ended on palbociclib's stop
    # ("2024-02-01 to 2024-05-15", primary resistance), as if letrozole had stopped with it; the open
    # letrozole record writes the line going on to the next line's start (CR B.9, B.10, C.2 step 1:
    # progression after 6 months or more of first-line ET for MBC is secondary resistance)
    p = hr_positive_mbc("open-beside-stop", primary="2024-01-10")
    p.med("letrozole", "2024-02-01")
    p.med("palbociclib", "2024-02-01", "2024-05-15", status="stopped")
    p.med("fulvestrant", "2025-05-01").progression("2025-04-20")
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole + palbociclib, 2024-02-01 to 2025-05-01 —" in detail
    assert "- Endocrine sensitivity: secondary resistance: progression after 6 months or more" in detail
    assert state.therapy.endocrine_resistance == "secondary"


@pytest.mark.parametrize("pid, open_letrozole_order", [("all-ended", False), ("open-and-ended", True)])
def test_a_line_whose_every_record_has_ended_still_ends_on_them_before_the_next_line(pid, open_letrozole_order):
    # tx7 keeps: letrozole and palbociclib both stopped 2024-05-15, fulvestrant from 2025-05-01 (CR C.2 step 1);
    # so with an older letrozole order left open beside the ended letrozole record: the ended record is read
    p = hr_positive_mbc(pid, primary="2024-01-10")
    if open_letrozole_order:
        p.med("letrozole", "2024-02-01")
    p.med("letrozole", "2024-02-01", "2024-05-15", status="stopped")
    p.med("palbociclib", "2024-02-01", "2024-05-15", status="stopped")
    p.med("fulvestrant", "2025-05-01").progression("2025-04-20")
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole + palbociclib, 2024-02-01 to 2024-05-15 —" in detail


@pytest.mark.parametrize("text, end", [("Stopped letrozole 2025-03", "2025-03 (no day given)"),
                                       ("Discontinued letrozole on 2025-03-10", "2025-03-10"),
                                       ("Stopped: letrozole 03/2025", "2025-03 (no day given)")])
def test_a_stop_written_before_the_drug_reads_the_date_after_it_as_letrozole_stopped_then_does(text, end):
    # tx7: "Letrozole stopped 2025-03" read the line to 2025-03, "Stopped letrozole 2025-03" to
    # "date unknown" with its end asked (gap therapy-stopped-in-text): the same date, the same end
    # (local_codes.yaml drug_mentions stopped_verb_opening, stopped_when_after; FHIR R4
    # MedicationStatement.effective[x] end written in the text)
    state, cards = _with_statement("stop-verb-date", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Metastatic line 1: letrozole, 2024-02-01 to {end} —" in detail
    assert "stop-verb-date-ms (letrozole, status 'active'" not in detail
    assert "Currently on" not in detail


@pytest.mark.parametrize("text", ["Stopped letrozole 2025-03 - progression", "Letrozole stopped 2025-03 - progression"])
def test_a_stop_written_before_the_drug_reads_the_progression_written_after_it(text):
    # tx7: "Stopped letrozole 2025-03 - progression" read no reason (no progression on line 1, its end
    # asked) while "Letrozole stopped 2025-03 - progression" reads a progression 13 months in (CR C.2 step 1)
    state, cards = _with_statement("stop-verb-pd", text, "active", None)
    assert state.therapy.endocrine_resistance == "secondary", text
    assert ("- Endocrine sensitivity: secondary resistance: progression after 6 months or more of first-line "
            "metastatic endocrine therapy (letrozole, 2024-02-01 to 2025-03 (no day given))"
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("text", ["Stopped letrozole 2025-03?", "Stopped letrozole 2027-01", "Off letrozole 2025-03"])
def test_a_stop_written_before_the_drug_with_a_queried_or_future_date_still_asks_when(text):
    state, cards = _with_statement("stop-verb-asked", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in detail, text
    assert f"stop-verb-asked-ms (letrozole, status 'active': '{text}')" in detail, text


@pytest.mark.parametrize("text", ["Stopped palbociclib and letrozole. Now fulvestrant",
                                  "Stopped palbociclib, letrozole. Now fulvestrant",
                                  "Stopped palbociclib and letrozole, and started fulvestrant",
                                  "Discontinued palbociclib and letrozole. Currently on fulvestrant"])
def test_a_stop_opening_a_regimen_then_a_full_stop_and_now_another_drug_reads_the_switch_not_all_current(text):
    # tx7: read "Currently on fulvestrant + letrozole + palbociclib" (switch_between takes no full stop
    # nor "started"): the stopped drugs are not current, fulvestrant is, as "Palbociclib and letrozole
    # stopped, now fulvestrant" reads, one line whose switch is asked (CR C.2 step 1; local_codes.yaml
    # drug_mentions switch_after_stop_opening_between)
    state, cards = _with_statement("stop-now", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on fulvestrant (metastatic line 1): the options below apply at progression." in detail
    assert "Currently on fulvestrant + letrozole" not in detail
    assert f'MedicationStatement/stop-now-ms ("{text}") writes fulvestrant after letrozole + palbociclib' in detail


def test_a_stop_opening_a_regimen_then_a_reason_and_now_another_drug_reads_the_switch_at_progression():
    # tx7: "(progression)" before the full stop is the stop's reason, as in "... stopped (progression), now
    # fulvestrant" (CR C.2 step 1: a switch at progression)
    text = "Stopped palbociclib and letrozole (progression). Now fulvestrant"
    state, cards = _with_statement("stop-now-pd", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on fulvestrant (metastatic line 1)" in detail
    assert f'("{text}") writes fulvestrant after letrozole + palbociclib stopped for progression' in detail


@pytest.mark.parametrize("text", ["Stopped letrozole. Fulvestrant", "Stopped palbociclib and letrozole. Fulvestrant 500 mg",
                                  "Stopped letrozole for 2 weeks. Now fulvestrant", "Stopped letrozole; fulvestrant"])
def test_a_stop_opening_a_regimen_then_another_drug_after_a_full_stop_with_no_start_written_is_named_unreadable(text):
    # tx7: read every drug current ("Currently on fulvestrant + letrozole"); whether the later drug
    # is taken now and the stopped ones not is not written: the record is named unreadable
    # (gap medication-unreadable; local_codes.yaml drug_mentions stop_opening_clause_break; CR C.2 step 1)
    state, cards = _with_statement("stop-then", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f'MedicationStatement/stop-then-ms (its text "{text}" writes a stop before' in detail


@pytest.mark.parametrize("text", ["Ceased palbociclib (neutropenia); letrozole", "Stopped palbociclib; letrozole",
                                  "Stopped palbociclib. Letrozole", "Stopped palbociclib - neutropenia; letrozole 2.5 mg",
                                  "Ceased palbociclib (neutropenia); letrozole continues",
                                  "Stopped palbociclib. Letrozole to continue", "Stopped palbociclib. Continue letrozole",
                                  "Stopped palbociclib, continue letrozole 2.5 mg"])
def test_a_cdk46i_stopped_then_its_endocrine_partner_after_the_clause_break_reads_the_partner_going_on_not_both(text):
    # rt76: read "Currently on letrozole + palbociclib", the stop clause of palbociclib dropped; the
    # stop is of palbociclib alone, letrozole after the break goes on, as "Stopped palbociclib;
    # letrozole continues" reads (local_codes.yaml drug_mentions switch_stop_first_reason_between;
    # CR B.9, B.10: a CDK4/6 inhibitor given with endocrine therapy, the line goes on; C.2 step 1)
    state, cards = _with_statement("cdk-stop-partner", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "Currently on letrozole + palbociclib" not in detail


def test_a_cdk46i_stopped_for_a_reason_before_its_partner_keeps_the_reason_as_written_after_it():
    # rt76: the reason written before the clause break is the stop's, as "Letrozole; stopped
    # palbociclib (progression)" reads it: a stop at progression asks whether a new line began
    # (CR C.2 step 1); a stop for neutropenia does not
    text = "Ceased palbociclib (progression); letrozole"
    state, cards = _with_statement("cdk-stop-why", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1)" in detail
    assert (f'MedicationStatement/cdk-stop-why-ms ("{text}") writes letrozole after palbociclib stopped for '
            "progression, in one record: it is counted as one line (metastatic line 1)") in detail
    state, cards = _with_statement("cdk-stop-why", "Ceased palbociclib (neutropenia); letrozole", "active", None)
    assert "stopped for progression" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Stopped letrozole. Fulvestrant to start next week", "Stopped letrozole. Plan fulvestrant",
                                  "Stopped letrozole - progression. Fulvestrant to start"])
def test_a_stop_then_a_later_drug_written_as_planned_reads_the_stop_and_not_the_plan_as_taken(text):
    # rt76: read "Currently on letrozole" (the stop dropped as the text names a second drug); the
    # stop is of letrozole, fulvestrant is a plan (drug_mentions planned words: not given): line 1
    # of letrozole, stopped, its end asked (gap therapy-stopped-in-text); fulvestrant not a line
    # (FHIR R4 MedicationStatement.status stopped written in the text; CR C.2 step 1)
    state, cards = _with_statement("stop-then-plan", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in detail
    assert f"stop-then-plan-ms (letrozole, status 'active': '{text}')" in detail
    assert "Metastatic line 2" not in detail


@pytest.mark.parametrize("text", ["Stopped letrozole. Fulvestrant", "Stopped letrozole; fulvestrant",
                                  "Stopped palbociclib and letrozole. Fulvestrant 500 mg"])
def test_a_draft_writing_a_stop_then_another_drug_with_no_start_is_not_checked_as_the_history_names_it_unreadable(text):
    # rt76: the history names such a record unreadable (tx7: stop_opening_clause_break); a draft so
    # written was checked as every drug ordered ("Letrozole drafted with fulvestrant: ... two
    # endocrine agents"): which drug it orders is not written (said as a draft "Tamoxifen (switched
    # to letrozole)" is)
    cards = _draft_cards(text)
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"]
    assert f'its text "{text}" writes a stop before' in cards[0]["detail"]
    assert "after it without writing that drug started: which one it orders is not clear" in cards[0]["detail"]


@pytest.mark.parametrize("partner", ["palbociclib", "everolimus"])
def test_an_open_record_of_a_drug_given_only_with_endocrine_therapy_does_not_run_the_line_past_its_endocrine_drugs_stop(partner):
    # rt76: letrozole recorded stopped 2024-05-15, palbociclib (or everolimus) left open with no end,
    # fulvestrant + abemaciclib from 2025-05-01: tx7 ran line 1 to 2025-05-01 ("the line given beyond"
    # the 2025-04-20 progression, secondary resistance) on the open record alone; a CDK4/6 inhibitor
    # or a PI3K/AKT/mTOR inhibitor is given with endocrine therapy (CR B.9, B.10; B.1, B.4, B.5, B.8),
    # so the endocrine therapy, and the line, ended on letrozole's recorded stop, as before tx7
    p = hr_positive_mbc("open-partner", primary="2024-01-10")
    p.med("letrozole", "2024-02-01", "2024-05-15", status="stopped").med(partner, "2024-02-01")
    p.med("fulvestrant", "2025-05-01").med("abemaciclib", "2025-05-01").progression("2025-04-20")
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Metastatic line 1: {' + '.join(sorted(['letrozole', partner]))}, 2024-02-01 to 2024-05-15 —" in detail
    assert "the line given beyond it" not in detail


def test_an_open_endocrine_record_beside_a_partner_stopped_for_progression_ends_the_line_on_that_stop():
    # rt76: letrozole left open, palbociclib stopped 2024-05-15 for disease progression, fulvestrant from
    # 2025-05-01: tx7 ran line 1 to 2025-05-01 and read "secondary resistance: progression after 6
    # months or more" though the progression is recorded 3.5 months in; a documented progression
    # ends the line (CR C.2 step 1), as before tx7: line 1 to 2024-05-15, primary resistance
    p = hr_positive_mbc("open-beside-pd", primary="2024-01-10")
    p.med("letrozole", "2024-02-01").med("palbociclib", "2024-02-01", "2024-05-15", stopped_for="disease progression")
    p.med("fulvestrant", "2025-05-01")
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole + palbociclib, 2024-02-01 to 2024-05-15 —" in detail
    assert state.therapy.endocrine_resistance == "primary"


@pytest.mark.parametrize("text", ["Stopped palbociclib; letrozole + goserelin", "Stopped palbociclib; goserelin + letrozole",
                                  "Stopped palbociclib (neutropenia); letrozole and goserelin",
                                  "Stopped palbociclib; letrozole + leuprorelin",
                                  "Stopped palbociclib. Letrozole + goserelin continues"])
def test_a_cdk46i_stopped_then_its_endocrine_partner_with_ovarian_suppression_reads_the_partner_going_on(text):
    # tx8: named unreadable ("Metastatic lines: 0", line 1 dropped) while "Stopped palbociclib;
    # letrozole" read letrozole current: ovarian suppression goes with the endocrine partner (CR A.3,
    # B.9, B.10: an AI in premenopausal women with ovarian suppression), palbociclib stopped
    state, cards = _with_statement("cdk-stop-ofs", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "writes a stop before" not in detail


@pytest.mark.parametrize("text", ["Stopped letrozole. Fulvestrant started", "Stopped letrozole; fulvestrant started 2025-05",
                                  "Stopped letrozole, fulvestrant started", "Stopped letrozole. Fulvestrant commenced"])
def test_a_stop_then_another_drug_with_its_start_written_after_it_reads_the_switch_as_now_written_before_it(text):
    # tx8: named unreadable ("Metastatic lines: 0", the stopped letrozole line dropped; the comma read
    # "Currently on fulvestrant + letrozole"): "<drug> started" is the start done, as "Stopped
    # letrozole. Now fulvestrant" reads since tx7 (local_codes.yaml drug_mentions
    # switch_after_stop_opening_break_between, started_after; CR C.2 step 1)
    state, cards = _with_statement("stop-started", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole (then fulvestrant), 2024-02-01 to now (active)" in detail
    assert "- Currently on fulvestrant (metastatic line 1): the options below apply at progression." in detail
    assert f'MedicationStatement/stop-started-ms ("{text}") writes fulvestrant after letrozole' in detail


@pytest.mark.parametrize("text", ["Stopped letrozole. Fulvestrant declined", "Stopped letrozole; fulvestrant discussed"])
def test_a_stop_then_another_drug_declined_or_discussed_is_never_read_as_taken(text):
    # a drug declined or discussed was not started: never the current line (the record stays named
    # unreadable, gap medication-unreadable)
    state, cards = _with_statement("stop-declined", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f'MedicationStatement/stop-declined-ms (its text "{text}" writes a stop before' in detail


@pytest.mark.parametrize("text", ["Letrozole + goserelin (palbociclib stopped)", "Letrozole + goserelin; palbociclib stopped"])
def test_a_cdk46i_written_stopped_after_its_partner_with_ovarian_suppression_is_a_stop_within_the_line(text):
    # tx9: read "Currently on letrozole + palbociclib" (palbociclib not named before the stop, so
    # not the "named again" reading, and goserelin a third name); the CDK4/6 inhibitor stopped, the
    # AI with ovarian suppression going on, as "Letrozole (palbociclib stopped)" reads (CR A.3, B.9, B.10, C.2 step 1)
    state, cards = _with_statement("stop-after-ofs", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail


def test_a_stop_opening_a_list_whose_partner_is_joined_to_ovarian_suppression_by_a_plus_stops_every_drug_in_it():
    # tx9: "Stopped palbociclib, letrozole + goserelin" read "Currently on letrozole + palbociclib";
    # "+" joins the list as "and" does ("Stopped palbociclib, letrozole and goserelin"): the stop
    # covers the list, when it ended is asked (gap therapy-stopped-in-text; CR A.3, B.9, B.10)
    text = "Stopped palbociclib, letrozole + goserelin"
    state, cards = _with_statement("stop-list-ofs", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to date unknown" in detail
    assert "Currently on" not in detail
    assert f"MedicationStatement/stop-list-ofs-ms (palbociclib + letrozole + goserelin, status 'active': '{text}')" in detail


@pytest.mark.parametrize("text", ["Stopped palbociclib, letrozole started", "Stopped palbociclib; letrozole started"])
def test_a_cdk46i_written_stopped_then_its_partner_with_its_start_written_after_it_is_that_partner_alone_now(text):
    # tx9: read "Currently on letrozole + palbociclib"; the start word after letrozole is of it
    # alone, as tx8 reads "Stopped letrozole, fulvestrant started" (drug_mentions started_after;
    # CR B.9, B.10, C.2 step 1): palbociclib stopped, letrozole taken now
    state, cards = _with_statement("stop-then-started", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "palbociclib (metastatic line 1)" not in detail


@pytest.mark.parametrize("text", ["Stopped palbociclib; letrozole 2025-03", "Stopped palbociclib. Letrozole 2025-03",
                                  "Stopped palbociclib; letrozole since 2025-03", "Stopped palbociclib; letrozole (2025-03)"])
def test_a_cdk46i_written_stopped_then_its_partner_with_only_a_date_after_it_is_that_partner_alone_now(text):
    # tx10: read "Currently on letrozole + palbociclib"; a date after the partner alone writes no
    # stop, so the stop clause names palbociclib alone, as "Stopped palbociclib; letrozole" reads
    # (drug_mentions partner_dated_after; CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("stop-then-dated", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01 to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "palbociclib (metastatic line 1)" not in detail


@pytest.mark.parametrize("text", ["Stopped palbociclib; letrozole started?", "Stopped palbociclib. Letrozole started?"])
def test_a_cdk46i_written_stopped_then_its_partner_with_its_start_questioned_never_reads_the_cdk46i_current(text):
    # tx10: "started?" was read as the start done ("Currently on letrozole + palbociclib"); the "?"
    # questions the start, as "letrozole?" is read (drug_mentions planned_closing; FHIR R4
    # MedicationStatement.status intended vs active): palbociclib stopped, letrozole named not given
    state, cards = _with_statement("stop-then-started-q", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f'its text "{text}" also names letrozole, not read as given by this record' in detail
    assert "- Metastatic line 1: palbociclib, 2024-02-01 to date unknown" in detail


@pytest.mark.parametrize("text", ["Stopped palbociclib, letrozole started?", "Stopped letrozole, fulvestrant started?"])
def test_a_stop_then_a_drug_whose_start_is_questioned_after_a_comma_is_named_unreadable_not_both_current(text):
    # tx10: both drugs were read current; which drugs are taken is not written: the gap
    # medication-unreadable names the record, as "Stopped palbociclib, letrozole?" is read
    state, cards = _with_statement("stop-comma-started-q", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f'its text "{text}" writes its drug as planned or considered: whether it was given cannot be read' in detail


@pytest.mark.parametrize("text", ["Stopped palbociclib; letrozole + anastrozole",
                                  "Anastrozole + goserelin + letrozole (palbociclib stopped)", "Letrozole + anastrozole"])
def test_a_record_read_as_taking_two_aromatase_inhibitors_now_is_named_unclear_not_both_current(text):
    # tx10: read "Currently on anastrozole + letrozole (+ palbociclib)": two aromatase inhibitors,
    # which no labelled regimen gives together (CR B.9, B.10): which one is taken cannot be read,
    # so the record is named (gap medication-unreadable), never both current
    state, cards = _with_statement("two-ais", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert (f'its text "{text}" writes anastrozole + letrozole as its regimen, two aromatase inhibitors no '
            "labelled regimen gives together: which one is taken cannot be read") in detail
    assert not any(d.name in ("anastrozole", "letrozole") for d in state.therapy.current_drugs())


READ_CURRENT = [
    # a switch from one aromatase inhibitor to another: the later one, not two taken together
    ("Letrozole (anastrozole stopped)", "letrozole"),
    ("Anastrozole then letrozole", "letrozole"),
    ("Switched from anastrozole to letrozole", "letrozole"),
    # a pause is no stop (drug_mentions stopped_paused)
    ("Palbociclib stopped for 2 weeks; letrozole", "letrozole + palbociclib"),
    ("Palbociclib stopped temporarily; letrozole", "letrozole + palbociclib"),
    # a date questioned questions the date, not the drug (drug_mentions planned_closing)
    ("Letrozole 2025-03?", "letrozole"),
    # a stop in brackets after a CDK4/6 inhibitor, then its partner: the partner alone
    ("Palbociclib (stopped); letrozole", "letrozole"),
    ("Palbociclib (stopped 2025-03); letrozole", "letrozole"),
    # a hedged stop of no drug of a line (drug_mentions stop_hedged)
    ("Letrozole; possibly stopped smoking", "letrozole"),
    ("Letrozole - possibly off work next week", "letrozole"),
    ("Letrozole, denosumab possibly stopped", "letrozole"),
]


@pytest.mark.parametrize("text, now", READ_CURRENT)
def test_a_text_writing_these_drugs_taken_now_is_read_current_as_written(text, now):
    state, cards = _with_statement("read-current", text, "active", None)
    assert f"- Currently on {now} (metastatic line 1)" in card(cards, "patient-summary")["detail"]


UNCLEAR_ON_AN_ENDED_RECORD = [
    # the ended course keeps its reading (line 1, no drug current): only a current reading is asked
    "Letrozole + anastrozole",
    "Palbociclib stopped, letrozole",
    "Palbociclib possibly stopped",
    # tx11: a CDK4/6 (or PI3K/AKT/mTOR) inhibitor written stopped beside drugs read current
    "No longer on palbociclib, letrozole",
    "Capivasertib stopped; fulvestrant + palbociclib",
]


@pytest.mark.parametrize("text", UNCLEAR_ON_AN_ENDED_RECORD)
def test_a_text_named_unclear_on_a_record_whose_course_ended_keeps_its_line(text):
    state, cards = _with_statement("unclear-ended", text, "completed", "2025-01-10")
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert "Currently on" not in summary["detail"]


TWO_AIS_JOINED = [
    # tx10: read "Currently on anastrozole + letrozole": which one is taken is not written
    "Letrozole or anastrozole",
    "Letrozole/anastrozole",
    "Letrozole 2.5 mg / anastrozole 1 mg",
    "Letrozole + anastrozole (anastrozole stopped)",
    "Letrozole; anastrozole",
    "Letrozole 2.5 mg; anastrozole 1 mg daily",
]


@pytest.mark.parametrize("text", TWO_AIS_JOINED)
def test_two_aromatase_inhibitors_written_as_alternatives_joined_or_listed_are_named_unclear_not_both_current(text):
    state, cards = _with_statement("two-ais-joined", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f'its text "{text}" writes anastrozole + letrozole as its regimen' in detail


@pytest.mark.parametrize("text", ["Off letrozole since 2025-03", "No letrozole since March 2025"])
def test_a_drug_written_off_since_a_date_ended_at_that_date_not_asked(text):
    # tx10: its end was asked ("to date unknown", gap therapy-stopped-in-text): not taken since
    # 2025-03 is a stop then, as "... - no palbociclib since 2025-03" reads (drug_mentions since_when_after)
    state, cards = _with_statement("off-since", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to 2025-03 (no day given)" in detail
    assert "no end before today is recorded" not in detail


def test_a_stop_written_before_a_span_asks_the_end_rather_than_reading_the_span_end():
    # tx10: "Stopped letrozole 2025-01 to 2025-02" was read ended 2025-02 in silence; the span may be
    # the break (letrozole taken again after it) or when it ran: a stop written, its end asked
    state, cards = _with_statement("stop-span", "Stopped letrozole 2025-01 to 2025-02", "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in detail
    assert "(letrozole, status 'active': 'Stopped letrozole 2025-01 to 2025-02')" in detail


@pytest.mark.parametrize("text", ["Off letrozole 2025-03", "No letrozole 2025-03"])
def test_off_a_drug_with_a_bare_date_still_asks_the_end(text):
    # the date may be the note's, not the stop's (drug_mentions stopped_verb_opening): kept asked
    state, cards = _with_statement("off-dated", text, "active", None)
    assert "- Metastatic line 1: letrozole, 2024-02-01 to date unknown" in card(cards, "patient-summary")["detail"]


STOPPED_BESIDE_THE_DRUG_NOW = [
    # tx10: read "Currently on letrozole + palbociclib", while "Stopped palbociclib; letrozole"
    # reads palbociclib stopped: the stop written right after the name is the same stop
    # (drug_mentions stopped_after, switch_stop_first_break_between; CR B.9, B.10, C.2 step 1)
    ("Palbociclib stopped; letrozole", "letrozole", "palbociclib (2024-02-01 to date unknown)"),
    ("Palbociclib stopped; letrozole continues", "letrozole", "palbociclib (2024-02-01 to date unknown)"),
    ("Palbociclib stopped, letrozole 2.5 mg", "letrozole", "palbociclib (2024-02-01 to date unknown)"),
    ("Palbociclib stopped 2025-03; letrozole", "letrozole", "palbociclib (2024-02-01 to 2025-03)"),
    ("Palbociclib stopped (neutropenia); letrozole 2025-03", "letrozole", "palbociclib (2024-02-01 to date unknown)"),
    # tx10: the date before the break left the stop unread, "Currently on letrozole + palbociclib";
    # the date is when palbociclib stopped, as "... (palbociclib stopped 2025-03)" reads it
    # (drug_mentions switch_stop_first_break_between, stopped_when_after; CR B.9, B.10, C.2 step 1)
    ("Stopped palbociclib 2025-03; letrozole", "letrozole", "palbociclib (2024-02-01 to 2025-03"),
    ("Stopped palbociclib 2025-03; letrozole continues", "letrozole", "palbociclib (2024-02-01 to 2025-03"),
    ("Stopped palbociclib on 2025-03-10 (neutropenia); letrozole", "letrozole", "palbociclib (2024-02-01 to 2025-03"),
    # tx10: named unreadable ("Metastatic lines: 0") though "Stopped letrozole; fulvestrant started" reads the switch
    ("Stopped letrozole 2025-03; fulvestrant started", "fulvestrant", "letrozole (2024-02-01 to 2025-03)"),
    # rt82 (tx10 leftover c): read "Currently on letrozole + palbociclib", while the date before the
    # reason ("Stopped palbociclib 2025-03 (neutropenia); letrozole") read the stop; the date after the
    # reason is the same stop's (drug_mentions switch_stop_first_break_between; CR B.9, B.10, C.2 step 1)
    ("Stopped palbociclib (neutropenia) 2025-03; letrozole", "letrozole", "palbociclib (2024-02-01 to 2025-03"),
    ("Stopped palbociclib (neutropenia) on 2025-03; letrozole continues", "letrozole", "palbociclib (2024-02-01 to 2025-03"),
    ("Stopped letrozole (arthralgia) 2025-03; fulvestrant started", "fulvestrant", "letrozole (2024-02-01 to 2025-03)"),
    # rt82: read "Currently on letrozole + palbociclib" though "Letrozole stopped since 2025-03" reads the stop (tx10)
    ("Palbociclib stopped since 2025-03; letrozole", "letrozole", "palbociclib (2024-02-01 to 2025-03"),
]


@pytest.mark.parametrize("text, now, stopped", STOPPED_BESIDE_THE_DRUG_NOW)
def test_a_drug_written_stopped_beside_another_leaves_the_other_alone_now_and_the_stop_read(text, now, stopped):
    state, cards = _with_statement("stopped-beside-now", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {now} (metastatic line 1): the options below apply at progression." in detail
    assert stopped in detail


STOPPED_NOT_CURRENT = [
    # tx10: read "Currently on palbociclib" (the stop left unread by the planned clause after it),
    # while "Stopped letrozole. Fulvestrant to start next week" reads the stop (rt76): the stop is of
    # the drugs before the break (drug_mentions stopped_after, stop_opening_clause_break)
    ("Palbociclib stopped. Fulvestrant to start next week", "palbociclib, 2024-02-01 to date unknown"),
    ("Palbociclib stopped; letrozole planned", "palbociclib, 2024-02-01 to date unknown"),
    ("Palbociclib stopped; letrozole started?", "palbociclib, 2024-02-01 to date unknown"),
    ("Letrozole + palbociclib stopped. Fulvestrant to start next week", "letrozole + palbociclib, 2024-02-01 to date unknown"),
    ("Stopped palbociclib; letrozole 2025-03 planned", "palbociclib, 2024-02-01 to date unknown"),
    # tx10: read "Currently on letrozole + palbociclib": each clause writes its drug stopped, so the
    # regimen ended, with the last stop when each is dated (drug_mentions stopped_after,
    # switch_stop_opening_first, stopped_when_after; FHIR R4 MedicationStatement.status stopped in the text)
    ("Palbociclib stopped; letrozole stopped", "palbociclib + letrozole, 2024-02-01 to date unknown"),
    ("Palbociclib stopped 2025-03; letrozole stopped 2025-05", "palbociclib + letrozole, 2024-02-01 to 2025-05 (no day given)"),
    ("Stopped palbociclib 2025-03. Stopped letrozole 2025-05", "palbociclib + letrozole, 2024-02-01 to 2025-05 (no day given)"),
    # tx10: read "Currently on palbociclib": the refusal after the break left the stop unread; the
    # stop is of the drug before it, as before a planned drug (refused_after, stop_opening_clause_break)
    ("Stopped palbociclib; letrozole declined", "palbociclib, 2024-02-01 to date unknown"),
    ("Palbociclib stopped; letrozole not started", "palbociclib, 2024-02-01 to date unknown"),
    # rt82 (rt77 bug 2): read "Currently on (letrozole +) palbociclib" since fix-ord11 read "cost not
    # an issue" as no reason; the stop readers took words after the drugs only when they state a
    # reason, and a negated reason (stop_reasons negated_reason_patterns) states none, as nothing
    # after them would: the stop is written (FHIR R4 MedicationStatement.status stopped in the text)
    ("No further palbociclib - cost not an issue", "palbociclib, 2024-02-01 to date unknown"),
    ("Stopped palbociclib, letrozole - cost not an issue", "palbociclib + letrozole, 2024-02-01 to date unknown"),
    ("Stopped palbociclib, letrozole - not due to cost", "palbociclib + letrozole, 2024-02-01 to date unknown"),
    # rt82 (tx10 leftover c): read "Currently on letrozole + palbociclib"; the date between the name
    # and "stopped" writes the stop (its end asked: the date may be the start's; drug_mentions stopped_after)
    ("Stopped palbociclib; letrozole 2025-03 stopped", "palbociclib + letrozole, 2024-02-01 to date unknown"),
    ("Palbociclib 2025-01 stopped; letrozole 2025-03 stopped", "palbociclib + letrozole, 2024-02-01 to date unknown"),
    # rt82: read "Currently on letrozole"; the date may be the start's, so the end is asked
    # (gap therapy-stopped-in-text), the drug not read as taken now (drug_mentions stopped_after)
    ("Letrozole 2025-03 stopped", "letrozole, 2024-02-01 to date unknown"),
    ("Letrozole (2025-03) stopped", "letrozole, 2024-02-01 to date unknown"),
    ("Letrozole since 2025-03 stopped", "letrozole, 2024-02-01 to date unknown"),
    # rt82: read "Currently on letrozole + palbociclib" (the planned clause after them left every
    # stop unread), while "Palbociclib stopped; letrozole stopped" reads the regimen ended (tx10): the
    # stops are of the clauses before the plan (drug_mentions stopped_after, stop_opening_clause_break)
    ("Palbociclib stopped. Letrozole stopped. Fulvestrant to start", "palbociclib + letrozole, 2024-02-01 to date unknown"),
    ("Stopped palbociclib; stopped letrozole; fulvestrant planned", "palbociclib + letrozole, 2024-02-01 to date unknown"),
    # rt82: read "Currently on letrozole" (the start date before the stop word hid the stop); the
    # date after the stop is when it ended (drug_mentions stopped_after, stopped_when_after)
    ("Letrozole 2024-02-01 stopped 2025-03-01", "letrozole, 2024-02-01 to 2025-03-01"),
    ("Letrozole 2024-02-01, stopped 2025-03-01", "letrozole, 2024-02-01 to 2025-03-01"),
]


@pytest.mark.parametrize("text, line", STOPPED_NOT_CURRENT)
def test_drugs_written_stopped_end_their_line_and_are_never_read_current(text, line):
    state, cards = _with_statement("stopped-not-current", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f"- Metastatic line 1: {line}" in detail


@pytest.mark.parametrize("text", ["Letrozole 2025-03 planned", "Letrozole planned 2025-03"])
def test_a_drug_planned_with_a_date_is_named_as_planned_not_read_as_taken(text):
    # tx10: the date between the name and "planned" (or after it) hid the plan: "Currently on letrozole"
    state, cards = _with_statement("planned-dated", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f'its text "{text}" writes its drug as planned or considered: whether it was given cannot be read' in detail


@pytest.mark.parametrize("text, partner, kept", [
    ("Everolimus stopped; exemestane continues", "everolimus", "exemestane"),
    ("Stopped everolimus; exemestane", "everolimus", "exemestane"),
    ("Capivasertib stopped, fulvestrant 500 mg", "capivasertib", "fulvestrant"),
    ("Exemestane. Everolimus stopped", "everolimus", "exemestane")])
def test_a_pi3k_akt_mtor_inhibitor_written_stopped_beside_its_endocrine_partner_leaves_the_partner_alone_now(text, partner, kept):
    # tx10: read both current (or, after a stop word opening the text, named unreadable, line 1
    # dropped); given with endocrine therapy (CR B.1, B.4, B.5, B.8) as a CDK4/6 inhibitor is, it is
    # dropped from the regimen, the endocrine drug going on in the same line (CR C.2 step 1)
    state, cards = _with_statement("pi3k-stopped", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {kept} (metastatic line 1): the options below apply at progression." in detail
    assert f"{partner} (then" not in detail


@pytest.mark.parametrize("text", ["Palbociclib stopped?; letrozole", "? stopped palbociclib; letrozole",
                                  "Palbociclib stopped (?); letrozole"])
def test_a_questioned_stop_of_a_cdk46i_before_its_partner_is_named_unclear(text):
    # tx10: read both current, or the stop as written ("Currently on letrozole"): the "?" questions
    # whether palbociclib stopped; which drugs are taken now cannot be read (gap medication-unreadable)
    state, cards = _with_statement("stop-questioned", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    assert f'its text "{text}" questions the stop of palbociclib before letrozole' in detail


@pytest.mark.parametrize("text, drugs", [("Letrozole stopped since 2025-03", "letrozole"),
                                         ("Off letrozole + palbociclib since 2025-03", "letrozole + palbociclib")])
def test_a_stop_since_a_date_ends_the_course_at_that_date(text, drugs):
    # tx10: its end was asked ("to date unknown"); "since" dates the stop (drug_mentions stopped_when_after, since_when_after)
    state, cards = _with_statement("stopped-since", text, "active", None)
    assert f"- Metastatic line 1: {drugs}, 2024-02-01 to 2025-03 (no day given)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Palbociclib stopped; letrozole", "Stopped palbociclib; letrozole 2025-03"])
def test_a_draft_writing_its_cdk46i_stopped_before_its_partner_is_checked_as_the_partner_alone(text):
    # tx10: checked as letrozole + palbociclib ordered (no card), while "Stopped palbociclib;
    # letrozole" was checked as letrozole alone: the same reading of the history
    assert [c["summary"] for c in _draft_cards(text)] == [
        "Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]


@pytest.mark.parametrize("text", ["Palbociclib stopped, letrozole", "Palbociclib stopped, letrozole.",
                                  "Everolimus stopped, exemestane", "Palbociclib stopped (neutropenia), letrozole",
                                  "Palbociclib stopped 2025-03, letrozole", "Letrozole stopped, palbociclib"])
def test_a_cdk46i_written_stopped_then_its_partner_alone_after_a_comma_is_named_unclear_not_both_current(text):
    # rt82 (tx10 leftover): read "Currently on letrozole + palbociclib"; the stop is written of the
    # first drug alone, and the partner after a comma with nothing after it may go on ("...;
    # letrozole") or be the list stopped ("Stopped palbociclib, letrozole"): which drugs are taken
    # now cannot be read (gap medication-unreadable; FHIR R4 MedicationStatement.status), never the
    # stopped drug current
    state, cards = _with_statement("stop-after-comma-partner", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail
    first, partner = text.split(" ")[0].lower(), text.split(", ")[1].rstrip(".")
    assert (f'its text "{text}" writes {first} stopped, then {partner} after a comma: '
            "whether it goes on or stopped too cannot be read") in detail


@pytest.mark.parametrize("text", ["Possibly stopped palbociclib; letrozole", "Palbociclib possibly stopped",
                                  "Palbociclib ?stopped", "Letrozole; palbociclib likely discontinued",
                                  "Possibly off palbociclib"])
def test_a_stop_hedged_by_the_word_before_it_is_named_unclear_not_read_current(text):
    # rt82 (tx10 leftover d): read "Currently on (letrozole +) palbociclib"; whether the drug is
    # still taken is not written (drug_mentions stop_hedged; FHIR R4 MedicationStatement.status
    # unknown): gap medication-unreadable naming the record, no drug read current
    state, cards = _with_statement("stop-hedged", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "Currently on" not in detail and not state.therapy.current_drugs()
    assert f'its text "{text}" hedges a stop' in detail and "whether its drugs are still taken cannot be read" in detail


@pytest.mark.parametrize("text, now, before", [("Anastrozole (letrozole previously)", "anastrozole", "letrozole"),
                                               ("Letrozole (anastrozole before)", "letrozole", "anastrozole"),
                                               ("Letrozole 2.5 mg (was on anastrozole 1 mg)", "letrozole", "anastrozole")])
def test_an_aromatase_inhibitor_written_as_taken_before_beside_the_current_one_is_not_read_given(text, now, before):
    # rt82 (tx10 leftover e): the first two were named unreadable since tx10 (two aromatase
    # inhibitors as one regimen), the last read "Currently on anastrozole + letrozole"; a clinician
    # reads the other one past, as "Letrozole (previously anastrozole)" is read (drug_mentions
    # not_given_before / not_given_after): the record's own drug current, the other named as not given
    state, cards = _with_statement("ai-before", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {now} (metastatic line 1): the options below apply at progression." in detail
    assert f'its text "{text}" also names {before}, not read as given by this record' in detail


@pytest.mark.parametrize("text, kept, stopped", [
    ("Exemestane + everolimus (everolimus stopped)", "exemestane", "everolimus"),
    ("Exemestane + everolimus; everolimus stopped", "exemestane", "everolimus"),
    ("Fulvestrant + alpelisib - no alpelisib since 2025-03", "fulvestrant", "alpelisib"),
    ("Exemestane; stopped everolimus", "exemestane", "everolimus"),
    ("Fulvestrant + goserelin (capivasertib stopped)", "fulvestrant", "capivasertib")])
def test_a_pi3k_akt_mtor_inhibitor_named_again_or_after_its_partner_as_stopped_leaves_the_partner_alone_now(text, kept, stopped):
    # rt82 (tx10 leftover: "the same rules for everolimus / alpelisib / capivasertib" left out the
    # rules reading the drug named again or after its partner): read "Currently on everolimus +
    # exemestane", a drug that ended read current; given with endocrine therapy (CR B.4, B.5, B.8) as
    # a CDK4/6 inhibitor is (CR B.9, B.10), it is dropped from the line, the partner going on (CR C.2 step 1)
    state, cards = _with_statement("pi3k-named-again", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {kept} (metastatic line 1): the options below apply at progression." in detail
    assert stopped not in {d.name for d in state.therapy.current_drugs()}


ONE_DRUG_NOW_AFTER_A_STOP = [
    # rt82: read "Currently on letrozole + palbociclib", while "...; letrozole continues" reads
    # palbociclib stopped (drug_mentions going_on_after; CR B.9, B.10, C.2 step 1)
    ("Palbociclib stopped; letrozole (continues)", "letrozole"),
    ("Stopped palbociclib; letrozole (continuing)", "letrozole"),
    ("Stopped palbociclib, letrozole (ongoing)", "letrozole"),
    # rt82: read "Currently on letrozole + palbociclib", while "Off palbociclib; letrozole" and
    # "Letrozole (no longer on palbociclib)" read letrozole alone (drug_mentions
    # switch_stop_opening_first, switch_stop_before_second; CR B.9, B.10, C.2 step 1)
    ("No longer on palbociclib; letrozole continues", "letrozole"),
    ("No longer taking palbociclib; letrozole", "letrozole"),
    # rt82: read "Currently on fulvestrant + letrozole", while "Off letrozole; fulvestrant started"
    # reads the switch (drug_mentions switch_opening; CR C.2 step 1)
    ("No longer on letrozole; fulvestrant started", "fulvestrant"),
]


@pytest.mark.parametrize("text, now", ONE_DRUG_NOW_AFTER_A_STOP)
def test_a_drug_written_stopped_before_another_written_going_on_or_started_leaves_that_one_alone_now(text, now):
    state, cards = _with_statement("one-now-after-stop", text, "active", None)
    assert f"- Currently on {now} (metastatic line 1): the options below apply at progression." in \
        card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Letrozole 2.5 mg + palbociclib 125 mg (palbociclib stopped 2025-03)",
                                  "Letrozole 2.5 mg + palbociclib 125 mg; palbociclib stopped"])
def test_a_cdk46i_written_with_doses_then_named_again_as_stopped_leaves_its_partner_alone_now(text):
    # rt82: read "Currently on letrozole + palbociclib", while "Letrozole + palbociclib (palbociclib
    # stopped)" reads letrozole alone (fx4): the doses written after each name change nothing (CR B.9,
    # B.10, C.2 step 1)
    state, cards = _with_statement("dosed-named-again", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "palbociclib" not in {d.name for d in state.therapy.current_drugs()}


@pytest.mark.parametrize("text", ["Letrozole 2024-02, stopped palbociclib 2025-03", "Letrozole since 2024-02; stopped palbociclib",
                                  "Letrozole from 2024-02; palbociclib stopped"])
def test_a_cdk46i_written_stopped_after_its_partner_with_the_partner_start_date_leaves_the_partner_alone_now(text):
    # rt82: read "Currently on letrozole + palbociclib", while "Letrozole, stopped palbociclib" reads
    # letrozole alone (tx3): the date after letrozole is its own start (drug_mentions
    # switch_stop_before_second, switch_stopped_second_between; CR B.9, B.10, C.2 step 1)
    state, cards = _with_statement("partner-dated-then-stop", text, "active", None)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "palbociclib" not in {d.name for d in state.therapy.current_drugs()}
