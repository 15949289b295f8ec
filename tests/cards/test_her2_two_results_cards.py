"""Two HER2 results in one text (mk4 read-through, rt38): the one the text marks current decides
T-DXd (CR C.2 step 0: the most recent / reviewed result decides, history kept); with no mark the
HER2-low question stays open (CR A.1: never infer HER2-low)."""

import datetime as dt

import pytest

from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import card, regimen_topics, topics, view
from tests.cards.invariants import check_invariants

AS_OF = dt.date(2025, 7, 1)


def _cards(pid: str, her2_text: str) -> list[dict]:
    p = hr_positive_mbc(pid, her2=her2_text)
    p.regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
    state = p.state(AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return cards


@pytest.mark.parametrize("text,earlier", [("HER2 1+; 0 on review", "HER2 1+"),
                                          ("HER2-low (2019); 0 (2024)", "HER2-low (2019)")])
def test_an_ihc_0_the_text_marks_current_after_an_earlier_her2_low_withholds_t_dxd_and_names_the_earlier_result(
        text, earlier):
    # before: read HER2-low (the 1+ / the words alone), T-DXd offered on a result the review or a
    # later test replaced
    cards = _cards("two-zero-current", text)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert f"also names an earlier HER2-low result ('{earlier}')" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["HER2 1+ on core; 0 on excision", "HER2 0; HER2-low on liver"])
def test_two_her2_results_with_no_mark_of_which_is_current_withhold_t_dxd_and_ask_for_the_score(text):
    # before: one of the two read alone (HER2-low: T-DXd offered; IHC 0: the HER2-low never named)
    # (rc: the gap and the re-test card quote the two scores; they called it a bare 'negative')
    cards = _cards("two-unmarked", text)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" in topics(cards)
    assert (f"HER2 text names more than one IHC score ('{text}') without saying which is the result: HER2-0, "
            "-ultralow and -low cannot be told apart." in card(cards, "patient-summary")["detail"])
    assert "bare 'negative'" not in card(cards, "test-her2")["detail"]


def test_a_receptor_panel_line_with_two_her2_specimens_quotes_both_on_the_retest_card_not_a_bare_negative():
    # before: the re-test card said "HER2 reported as a bare 'negative' without an IHC score" of a
    # report giving 1+ on the core biopsy and 0 on the resection (CR A.1: HER2-low not inferred)
    text = "ER 90%, PR 0, HER2 1+ (core biopsy), HER2 0 (resection)"
    cards = _cards("two-panel", text)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert (f"- HER2 text names more than one IHC score ('{text}') without saying which is the result: "
            "HER2-low/ultralow cannot be inferred" in card(cards, "test-her2")["detail"])


def test_a_text_naming_two_her2_scores_is_quoted_on_the_summary_her2_line_and_the_t_dxd_waiting_line():
    # CR A.1 (HER2-low not inferred), C.2 step 1 "HER2 category". Before: both lines said "negative
    # without an IHC score" of a text naming two scores (rc added HER2Status.scores_text)
    text = "HER2 1+ (core biopsy), HER2 0 (resection)"
    summary = card(_cards("two-quoted", text), "patient-summary")["detail"]
    quoted = f"negative, the text names more than one IHC score ('{text}')"
    assert f"- HER2: {quoted} (2024-01-15)" in summary
    assert f"Trastuzumab deruxtecan: waiting on — HER2 {quoted} (2024-01-15)" in summary
    assert "without an IHC score" not in summary.replace("without saying", "")


# rt51 read-through of fix-rc / fix-rc2 (CR C.2 step 0: the most recent biopsy decides, history kept)

@pytest.mark.parametrize("text", ["HER2 3+ on previous biopsy, 1+ on current",
                                  "HER2 3+ on previous biopsy; 1+ on current biopsy",
                                  "HER2 2+ FISH amplified on prior biopsy; 1+ on current biopsy"])
def test_a_her2_positive_result_on_a_previous_biopsy_beside_a_current_1_plus_reads_the_1_plus_and_names_the_conflict(
        text):
    # before: "previous" read as opening the history of the 3+ before it, so the 3+ (or 2+ amplified)
    # was read as current and the current 1+ named as its history: HER2-positive, out of the
    # pathway, no regimen card
    cards = _cards("previous-biopsy-positive", text)
    summary = card(cards, "patient-summary")["detail"]
    assert "- HER2: low, IHC 1+, results disagree (2024-01-15)" in summary
    assert "HER2 results disagree; the most recent assessment is used. Other result: HER2-positive" in summary
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)


def test_an_ihc_0_on_a_previous_biopsy_beside_a_current_1_plus_offers_t_dxd_on_the_1_plus():
    # before: the 0 before "on previous biopsy" was read as current (T-DXd withheld) and the
    # current 1+ named as the history
    cards = _cards("previous-biopsy-zero", "HER2 0 on previous biopsy, 1+ on current")
    assert "- HER2: low, IHC 1+ (2024-01-15)" in card(cards, "patient-summary")["detail"]
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)


@pytest.mark.parametrize("text", ["HER2 1+ (2019) - 0 (2024)", "HER2 1+ (2019) \u2013 0 (2024)"])
def test_a_later_ihc_0_after_a_dash_withholds_t_dxd_and_names_the_earlier_1_plus(text):
    # before: the dash hid the later 0 (no clause break, the 0 not read): HER2-low on the 2019 1+
    # alone, T-DXd offered and the 2024 result never named (an arrow or ';' was read)
    cards = _cards("dash-zero-current", text)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "- HER2: not classified as null or ultralow, IHC 0 (2024-01-15)" in card(cards, "patient-summary")["detail"]
    assert "also names an earlier HER2-low result ('HER2 1+ (2019)')" in card(cards, "patient-summary")["detail"]


def test_a_later_ihc_0_after_an_unspaced_slash_between_dated_results_withholds_t_dxd():
    # before: "HER2 1+ (2020)/0 (2024)" read HER2-low on the 2020 1+ alone (T-DXd offered), the 2024
    # 0 never named; "1+ (2020) / 0 (2024)" was read. "2+/ISH-" and "0/1+" stay no break
    cards = _cards("slash-zero-current", "HER2 1+ (2020)/0 (2024)")
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "also names an earlier HER2-low result ('HER2 1+ (2020)')" in card(cards, "patient-summary")["detail"]


def test_three_dated_results_two_of_the_same_latest_year_that_disagree_withhold_t_dxd_and_quote_the_text():
    # before: "1+ (2019), 0 (2024), 1+ (2024)" was read HER2-low on a 1+ (T-DXd offered) and the 0
    # of 2024 never named; which 2024 result is current the text does not say (CR C.2 step 0; CR
    # A.1 never infer HER2-low), as for two results without a mark
    text = "1+ (2019), 0 (2024), 1+ (2024)"
    cards = _cards("three-same-year", text)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert f"HER2 text names more than one IHC score ('{text}')" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["HER2 2+ (liver 2023); 2+ (primary 2015), FISH amplified",
                                  "HER2 2+ (primary 2015), FISH not amplified; 2+ (liver 2023)"])
def test_the_primarys_ish_is_not_read_as_the_ish_of_a_later_2_plus_on_the_metastasis(text):
    # before: the 2015 primary's ISH was read with the 2023 liver 2+ (an IHC 2+ is decided by its own
    # reflex ISH, CR A.1): HER2-positive (out of the pathway) or HER2-low (T-DXd offered) on the
    # primary's ISH. Now the liver 2+ waits for its ISH (testing only), the primary named as history
    cards = _cards("two-2-plus-ish", text)
    summary = card(cards, "patient-summary")["detail"]
    assert "- HER2: equivocal, IHC 2+" in summary and "ISH" not in summary.split("- HER2: ")[1].split("\n")[0]
    assert "2+ (primary 2015)" in summary
    assert regimen_topics(cards) == []
