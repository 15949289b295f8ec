"""Menopausal status read from text: negated statuses and the status question.

A status the text negates ("not postmenopausal", "post menopausal? no") is not
stated; reading it as stated lets a premenopausal woman pass the elacestrant and
everolimus label gates (CR A.3 "derive defensively", C.3 row 15). Only an
Observation that asks for the menopausal status counts as one.
"""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import card, regimen_topics, view
from tests.mappings.builders import PID, SNOMED, cc, coding, condition, observation, patient

AS_OF = dt.date(2025, 6, 1)
MENO_Q = cc(coding(SNOMED, "161712005", "Menopause, function"))


def state(*resources, birth="1975-01-01"):
    return build_patient_state([patient(birth=birth), *resources], PID, AS_OF)


def meno_text(value, code=MENO_Q, date="2025-01-01"):
    return observation(code, date, rid="meno", valueString=value)


# --- A5: negated statuses -------------------------------------------------------------

@pytest.mark.parametrize("text", ["Not postmenopausal", "not post-menopausal", "Non-postmenopausal"])
def test_a_negated_postmenopausal_text_does_not_make_a_woman_postmenopausal(text):
    s = state(meno_text(text))
    f = s.factors
    assert f.menopausal_status == "unknown" and f.menopausal_basis == "unknown" and f.menopausal_sources == []
    assert "menopausal-status-unknown" in {g.code for g in s.gaps}


@pytest.mark.parametrize("text,status", [
    ("Premenopausal (not postmenopausal)", "premenopausal"),
    ("post menopausal? no - premenopausal", "premenopausal"),
    ("Pre-menopausal; peri-menopausal symptoms absent", "premenopausal"),
    ("Perimenopausal, not postmenopausal", "perimenopausal"),
    ("Not premenopausal: postmenopausal", "postmenopausal"),
])
def test_a_text_that_states_one_status_and_negates_another_gives_the_stated_one(text, status):
    f = state(meno_text(text)).factors
    assert f.menopausal_status == status and f.menopausal_basis == "observation"
    assert [src.reference for src in f.menopausal_sources] == ["Observation/meno"]


def test_a_negated_status_on_the_problem_list_does_not_count():
    f = state(condition(cc(text="Not postmenopausal"), "2024-01-01")).factors
    assert f.menopausal_status == "unknown"


def test_plain_status_texts_are_still_read():
    assert state(meno_text("Postmenopausal")).factors.menopausal_status == "postmenopausal"
    assert state(meno_text("Premenopausal")).factors.menopausal_status == "premenopausal"


def test_a_woman_documented_not_postmenopausal_gets_no_elacestrant_nor_everolimus():
    p = (hr_positive_mbc("meno-neg", birth="1975-01-01", primary="2024-01-10", menopause=None)
         .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
         .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    p.add(observation(MENO_Q, "2025-06-10", pid="meno-neg", valueString="Premenopausal (not postmenopausal)"))
    s = p.state(dt.date(2025, 7, 1))
    assert s.factors.menopausal_status == "premenopausal"
    cards = view(s)
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "everolimus-exemestane" not in regs
    assert card(cards, "imlunestrant")["indicator"] == "warning"  # needs ovarian suppression

# --- A6: only the status question counts -----------------------------------------------

def test_a_menopausal_hormone_therapy_observation_is_not_a_menopausal_status():
    s = state(meno_text("postmenopausal HRT stopped at diagnosis", code=cc(text="Menopausal hormone therapy")))
    f = s.factors
    assert f.menopausal_status == "unknown" and f.menopausal_basis == "unknown" and f.menopausal_sources == []
    assert "menopausal-status-unknown" in {g.code for g in s.gaps}


@pytest.mark.parametrize("question", ["Menopausal status", "Menopause status", "MENOPAUSAL-STATUS",
                                      "Menopause, function"])
def test_a_code_text_that_asks_for_the_menopausal_status_is_read(question):
    f = state(meno_text("Postmenopausal", code=cc(text=question))).factors
    assert f.menopausal_status == "postmenopausal" and f.menopausal_basis == "observation"


@pytest.mark.parametrize("other", ["Age at menopause", "Menopausal symptoms", "Menopausal hormone therapy status"])
def test_other_menopause_observations_are_not_the_status_question(other):
    assert state(meno_text("postmenopausal", code=cc(text=other))).factors.menopausal_status == "unknown"


def test_a_woman_with_only_a_menopausal_hrt_observation_gets_no_elacestrant():
    p = (hr_positive_mbc("meno-hrt", birth="1975-01-01", primary="2024-01-10", menopause=None)
         .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
         .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    p.add(observation(cc(text="Menopausal hormone therapy"), "2025-06-10", pid="meno-hrt",
                      valueString="postmenopausal HRT stopped at diagnosis"))
    s = p.state(dt.date(2025, 7, 1))
    assert s.factors.menopausal_status == "unknown"
    regs = regimen_topics(view(s))
    assert "elacestrant" not in regs and "everolimus-exemestane" not in regs


@pytest.mark.parametrize("question", ["Menopausal state", "Menopause"])
def test_a_status_question_titled_by_the_concept_with_a_coded_answer_is_read(question):
    # final regression review: a "Menopausal state" observation answered with SNOMED
    # 76498008 "Postmenopausal state" had become unknown for a 50-year-old
    obs = observation(cc(text=question), "2025-01-01", rid="meno",
                      valueCodeableConcept=cc(coding(SNOMED, "76498008", "Postmenopausal state")))
    f = state(obs).factors
    assert f.menopausal_status == "postmenopausal" and f.menopausal_basis == "observation"


# --- a status written as a guess, a question, or brought on by chemotherapy ------------------
# CR A.3 (derive defensively; unknown -> ask), CR C.1 ABC4 (adequate ovarian suppression:
# oophorectomy, continuous LHRH agonist, ovarian ablation; not chemotherapy)

@pytest.mark.parametrize("text", ["? postmenopausal", "Postmenopausal?", "possibly postmenopausal",
                                  "likely post-menopausal", "Postmenopausal - to be confirmed",
                                  "Postmenopausal (not confirmed)", "unlikely postmenopausal"])
def test_a_postmenopausal_status_written_as_a_guess_or_a_question_is_not_read_and_the_gap_quotes_it(text):
    s = state(meno_text(text))
    assert s.factors.menopausal_status == "unknown" and s.factors.menopausal_basis == "unknown"
    gap = next(g for g in s.gaps if g.code == "menopausal-status-unknown")
    # quoted as read (the readers lower-case the text)
    assert f'not counted: "{text.lower()}" (2025-01-01, not a stated postmenopausal status)' in gap.message
    assert [src.reference for src in gap.sources] == ["Observation/meno"]


@pytest.mark.parametrize("text", ["Postmenopausal due to chemotherapy", "Postmenopausal after chemo",
                                  "Post-menopausal (chemotherapy-induced)",
                                  "Postmenopausal since chemotherapy in 2010, FSH confirmed"])
def test_a_postmenopausal_state_brought_on_by_chemotherapy_is_not_read_as_postmenopausal(text):
    s = state(meno_text(text))
    assert s.factors.menopausal_status == "unknown"
    assert any(f'"{text.lower()}"' in g.message for g in s.gaps if g.code == "menopausal-status-unknown")


def test_a_questioned_postmenopausal_state_on_the_problem_list_is_not_read():
    s = state(condition(cc(text="? Postmenopausal state"), "2024-01-01"))
    assert s.factors.menopausal_status == "unknown"
    assert any('"? postmenopausal state"' in g.message for g in s.gaps if g.code == "menopausal-status-unknown")


@pytest.mark.parametrize("text,status", [("Postmenopausal", "postmenopausal"),
                                         ("Pre-menopausal, now postmenopausal", "postmenopausal"),
                                         ("possibly premenopausal", "premenopausal"),
                                         ("Premenopausal, on goserelin", "premenopausal")])
def test_stated_statuses_and_a_hedged_premenopausal_one_are_still_read(text, status):
    # a hedged pre/perimenopausal status raises the ovarian-suppression caution (the safe
    # direction, as a result not final does); only a postmenopausal one would clear it
    assert state(meno_text(text)).factors.menopausal_status == status


def test_a_woman_of_50_written_postmenopausal_after_chemotherapy_gets_no_elacestrant_and_is_asked_about_ovarian_suppression():
    p = (hr_positive_mbc("meno-chemo", birth="1975-01-01", primary="2024-01-10", menopause=None)
         .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
         .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    p.add(observation(MENO_Q, "2025-06-10", pid="meno-chemo", valueString="Postmenopausal due to chemotherapy"))
    cards = view(p.state(dt.date(2025, 7, 1)))
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "everolimus-exemestane" not in regs
    assert "menopausal status unknown" in card(cards, "imlunestrant")["summary"]
