"""A QTc that is no baseline ECG for starting ribociclib (CR B.10 Kisqali row: "ECG before start;
start only if QTcF <450 ms"): older than rules.QTC_BASELINE_WINDOW_DAYS, or dated after the as-of
date. The cards name its date and ask for an ECG before starting."""

import datetime as dt

from cards.rules import QTC_BASELINE_WINDOW_DAYS
from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import card, view
from tests.cards.invariants import check_invariants

FIRST_LINE_AS_OF = dt.date(2024, 2, 1)


def _first_line_card(pid: str, ms: float, on: str) -> dict:
    state = hr_positive_mbc(pid, primary="2024-01-10").qtc(ms, on).state(FIRST_LINE_AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return card(cards, "ai-cdk46i")


def test_a_normal_qtc_from_years_before_is_no_baseline_and_the_card_asks_for_an_ecg_before_ribociclib():
    # was: nothing said; the 2019 QTc stood as the baseline for ribociclib started in 2024
    detail = _first_line_card("qtc-old", 420, "2019-03-01")["detail"]
    assert (f"QTc 420 ms dated 2019-03-01, more than {QTC_BASELINE_WINDOW_DAYS} days before 2024-02-01: not a "
            "baseline") in detail
    assert "ECG before starting ribociclib (start only if QTcF < 450 ms, B.10)" in detail


def test_a_qtc_dated_after_the_as_of_date_is_no_baseline():
    detail = _first_line_card("qtc-future", 420, "2024-05-01")["detail"]
    assert "QTc 420 ms dated 2024-05-01, after 2024-02-01: not a baseline" in detail


def test_an_old_qtc_of_450_or_more_still_warns_and_says_it_is_no_baseline():
    c = _first_line_card("qtc-old-high", 470, "2019-03-01")
    assert "caution: ribociclib QTc >= 450 ms" in c["summary"]
    assert "QTc 470 ms (2019-03-01); this QTc is dated 2019-03-01, more than" in c["detail"]


def test_a_recent_qtc_is_the_baseline_and_nothing_more_is_asked():
    detail = _first_line_card("qtc-recent", 420, "2024-01-20")["detail"]
    assert "not a baseline" not in detail
