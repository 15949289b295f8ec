"""(lt1) A text longer than fhir.TEXT_READ_LIMIT is read to its first TEXT_READ_LIMIT
characters (what it says there still counts) and the record is named (gap text-read-in-part);
a text within the bound is read whole and names nothing."""

from __future__ import annotations

import datetime as dt

from mappings import build_patient_state
from mappings.fhir import TEXT_READ_LIMIT
from tests.mappings.builders import PID, breast_cancer, cc, condition, patient

AS_OF = dt.date(2025, 7, 1)
REALISTIC = "Metastatic breast cancer to the liver, biopsy proven 01/2024. " + (
    "Tolerating treatment, ECOG 1, reviewed in clinic with daughter, plan discussed. " * 800)


def _state(text: str):
    return build_patient_state([patient(), breast_cancer("2016-03-01"),
                                condition(cc(text=text), "2024-01-15", rid="long-c")], PID, as_of=AS_OF)


def test_a_metastasis_named_in_the_first_200_characters_of_a_64_kb_text_is_still_counted():
    state = _state(REALISTIC[:64000])
    assert state.disease.metastatic == "yes"
    assert [s.site for s in state.disease.sites] == ["liver"]
    gap = next(g for g in state.gaps if g.code == "text-read-in-part")
    assert "read only to its first 2,000" in gap.message and "Condition/long-c" in gap.message
    assert [s.reference for s in gap.sources] == ["Condition/long-c"]


def test_the_same_long_text_read_again_from_the_shared_concept_memo_is_named_again():
    _state(REALISTIC[:30000])
    assert any(g.code == "text-read-in-part" for g in _state(REALISTIC[:30000]).gaps)


def test_a_text_within_the_bound_is_read_whole_and_names_no_cut():
    state = _state(REALISTIC[:TEXT_READ_LIMIT])
    assert state.disease.metastatic == "yes"
    assert not any(g.code == "text-read-in-part" for g in state.gaps)


def test_a_stop_reason_of_one_1500_letter_word_is_read_within_a_second():
    # (lt1) the side-effect stop-reason patterns were tried at each letter of a word (its square:
    # 1,000 letters took 2 s); a text under the bound must not hold a worker either
    import time

    from tests.mappings.builders import LETROZOLE, med_statement

    stopped = med_statement(LETROZOLE, "2024-02-01", "2025-01-01", status="stopped", display="letrozole")
    stopped["statusReason"] = [{"text": "x" * 1500}]
    started = time.perf_counter()
    state = build_patient_state([patient(), breast_cancer("2016-03-01"),
                                 condition(cc(text="Bone metastases"), "2024-01-15"), stopped], PID, as_of=AS_OF)
    assert time.perf_counter() - started < 1.0
    assert not any(g.code == "text-read-in-part" for g in state.gaps)


# (lt2) Readers whose cost grew with the square of a text's length: at the 2,000-character bound
# each still took 60-150 ms, and a 5 MB request may hold 2,500 such texts. Each is timed on ten
# times the bound (what a quadratic reader needs 100 times as long for): old 2-10 s, now a
# fraction of a second; the bounds are generous for a slow shared host.

def test_a_text_of_many_metastasis_mentions_without_a_clause_end_is_read_in_time_linear_in_its_length():
    import time

    from mappings.disease import _mentions

    started = time.perf_counter()
    mentions = _mentions("mets " * 4000)
    assert time.perf_counter() - started < 4.0  # was 10 s: each mention searched the clause's rest
    assert len(mentions) == 4000


def test_a_long_text_without_of_to_or_in_is_searched_for_its_site_in_linear_time():
    import time

    from mappings.disease import _site_after_of

    started = time.perf_counter()
    assert _site_after_of("x " * 10000) is None
    assert time.perf_counter() - started < 1.0  # was 4.7 s: a lazy ".*?" retried from every position
    assert _site_after_of("bone metastases\nmetastasis to liver") == "liver"


def test_a_stop_reason_of_one_long_word_is_read_in_linear_time():
    import time

    from mappings.therapy import _stop_reason_of_text

    started = time.perf_counter()
    assert _stop_reason_of_text("y" * 20000) is None
    assert time.perf_counter() - started < 1.0  # was 2.2 s: the word before "vs" tried from each letter
    assert _stop_reason_of_text("progression vs pseudoprogression") == "unclear"
    assert _stop_reason_of_text("flare vs progression") == "unclear"


def test_the_sites_of_a_clause_of_many_metastasis_mentions_are_read_in_time_near_linear_in_its_length():
    # (lt2) each mention read its whole clause again for its site list, past sites and doubts
    # (the clause's pieces, site findings, brackets): 8,000 characters of "mets " took 6 s
    import time

    from mappings.disease import _doubted_sites, _past_sites, _text_site_list

    text = ("mets " * 1600)[:8000]
    started = time.perf_counter()
    assert _text_site_list(text) == ()
    assert _past_sites(text) == {} and _doubted_sites(text) == ()
    assert time.perf_counter() - started < 2.5
    assert _text_site_list("metastases to bone, liver (lungs clear) and brain") == ("bone", "liver", "brain")
    assert _text_site_list("bone and ?liver metastases, lung nodules") == ("bone",)
