"""Observation.status (FHIR R4 ObservationStatus) and Condition.verificationStatus
(condition-ver-status) across the readers: what a result that is not final, cancelled or
entered in error may decide."""

import pytest

from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import ordered_tests, regimen_topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _set_status(patient, prefix: str, status: str) -> None:
    [r for r in patient.resources if r["id"].startswith(prefix)][-1]["status"] = status


@pytest.mark.parametrize("status", ["Entered-In-Error", "ENTERED-IN-ERROR", "Cancelled", " cancelled "])
def test_an_er_negative_marked_entered_in_error_or_cancelled_in_another_case_is_never_read(status):
    p = after_ai_cdk46i("p")
    p.er("negative", on="2025-06-01")
    _set_status(p, "er", status)
    state, cards = run(p)
    assert state.er.status == "positive"
    assert "fulvestrant-cdk46i" in regimen_topics(cards)
    assert any(g.code in ("entered-in-error", "not-given") and repr(status) in g.message for g in state.ignored)


def test_a_menopause_observation_marked_entered_in_error_in_another_case_is_not_the_status():
    p = hr_positive_mbc("p", birth="1975-01-01", menopause=None).menopause("premenopausal")
    _set_status(p, "meno", "Entered-In-Error")
    state, _ = run(p)
    assert state.factors.menopausal_status == "unknown"
