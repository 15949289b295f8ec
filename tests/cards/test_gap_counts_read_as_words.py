"""Counts in the data gaps mappings/build.py writes read as words on the summary card: '1
Observation without a status ... does not say it is', 'Other result: ...', never the
form-letter 'Observation(s)' / 'result(s)' (DESIGN.md: cards are read at the point of care;
cards/rules.py counted says the cards' own counts so)."""

import datetime as dt
import json

from mappings import build_patient_state
from tests.cards.helpers import card
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
from tests.mappings.builders import PID, cc, observation, patient, quantity

LAB_AS_OF = dt.date(2024, 6, 1)


def _without_status(pid: str, *prefixes: str):
    p = after_ai_cdk46i(pid)
    for prefix in prefixes:
        del [r for r in p.resources if r["id"].startswith(prefix)][-1]["status"]
    return p


def test_one_result_without_a_status_is_named_as_1_observation_the_record_does_not_say_is_final():
    _, cards = run(_without_status("count-status-one", "er"))
    detail = card(cards, "patient-summary")["detail"]
    assert ("- 1 Observation without a status (required in FHIR R4), read as final though the record does "
            "not say it is — Observation/er-") in detail
    assert "(s)" not in json.dumps(cards)


def test_two_results_without_a_status_are_named_as_2_observations():
    _, cards = run(_without_status("count-status-two", "er", "her2"))
    detail = card(cards, "patient-summary")["detail"]
    assert ("- 2 Observations without a status (required in FHIR R4), read as final though the record does "
            "not say they are") in detail
    assert "(s)" not in json.dumps(cards)


def test_a_her2_conflict_with_one_other_result_names_it_as_other_result():
    _, cards = run(after_ai_cdk46i("count-her2-other", her2="HER2 1+, previously 3+"))
    detail = card(cards, "patient-summary")["detail"]
    assert ("HER2 results disagree; the most recent assessment is used. Other result: HER2-positive, IHC 3+ "
            "('previously 3+', named in the 2024-01-15 result).") in detail
    assert "(s)" not in json.dumps(cards)


def test_one_hba1c_named_but_not_loinc_coded_was_not_read_and_two_were_not_read():
    one = build_patient_state([patient(birth="1980-01-01"),
                               observation(cc(text="HbA1c"), "2024-05-01", **quantity(6.4))], PID, LAB_AS_OF)
    gap = next(g for g in one.gaps if g.code == "hba1c-missing")
    assert gap.message.startswith("No HbA1c result. 1 Observation named HbA1c without its LOINC code (")
    assert ") was not read: " in gap.message
    two = build_patient_state([patient(birth="1980-01-01"),
                               observation(cc(text="HbA1c"), "2024-05-01", **quantity(6.4)),
                               observation(cc(text="HbA1c"), "2024-06-01", **quantity(6.6))], PID, LAB_AS_OF)
    gap = next(g for g in two.gaps if g.code == "hba1c-missing")
    assert gap.message.startswith("No HbA1c result. 2 Observations named HbA1c without its LOINC code (")
    assert ") were not read: " in gap.message
