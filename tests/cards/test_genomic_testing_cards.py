"""Testing cards for genomic results (ESR1, PIK3CA/AKT1/PTEN, germline BRCA1/2).

What the clinician sees: which testing cards appear, which regimens they say they
decide, and the status of the regimens waiting on the result. States are hand-built
(tests/cards/states.py) so the rules are isolated from the mapper.
"""

import datetime as dt

from cards.pathway import assess
from tests.cards import states as S
from tests.cards.helpers import card, ordered_tests, regimen_topics, view
from tests.cards.invariants import check_invariants

AFTER_AI_CDK = (("letrozole", "ribociclib"),)


def cards_for(state):
    cards = view(state)
    check_invariants(state, cards)
    return cards


def progressed(state=None):
    return S.with_lines(state or S.base(), *AFTER_AI_CDK)


def germline_negative(gene):
    return S.variant(gene, result="not-detected", origin="germline", specimen="blood")


# --- germline BRCA1/2 ------------------------------------------------------

def test_a_germline_brca_negative_with_a_somatic_variant_does_not_reorder_germline_testing():
    state = S.with_variants(progressed(), germline_negative("BRCA1"), germline_negative("BRCA2"),
                            S.variant("BRCA2", "p.S1982fs", origin="somatic", specimen="tissue"))
    cards = cards_for(state)
    assert "test-germline-brca" not in ordered_tests(cards)
    assert "talazoparib" not in regimen_topics(cards)
    tala = assess(state, "talazoparib")
    assert tala.status == "not-fit"
    assert "Germline BRCA1/2 tested" in tala.reasons_not[0].text
    assert "somatic" in tala.reasons_not[0].text.lower()


def test_a_germline_vus_is_a_done_test_not_actionable_and_not_reported_as_undocumented():
    state = S.with_variants(progressed(), germline_negative("BRCA1"),
                            S.variant("BRCA2", "p.N1836K", origin="germline", specimen="blood", significance="vus"))
    cards = cards_for(state)
    assert "test-germline-brca" not in ordered_tests(cards)
    tala = assess(state, "talazoparib")
    assert tala.status == "not-fit"
    assert "Germline BRCA1/2 tested" in tala.reasons_not[0].text
    assert "BRCA2 p.N1836K" in tala.reasons_not[0].text and "not actionable" in tala.reasons_not[0].text


def test_a_germline_brca2_vus_alone_asks_only_for_the_brca1_result_not_for_an_undocumented_status():
    state = S.with_variants(progressed(), S.variant("BRCA2", "p.N1836K", origin="germline", specimen="blood",
                                                    significance="vus"))
    test = card(cards_for(state), "test-germline-brca")
    assert "status not documented" not in test["detail"]
    assert "Germline BRCA1 not tested" in test["detail"] and "BRCA2 p.N1836K" in test["detail"]
    assert test["summary"].endswith("decides Talazoparib")


def test_a_germline_brca1_negative_alone_still_asks_for_brca2_and_talazoparib_waits_on_it():
    state = S.with_variants(progressed(), germline_negative("BRCA1"))
    cards = cards_for(state)
    test = card(cards, "test-germline-brca")
    assert "Germline BRCA2 not tested" in test["detail"]
    assert test["summary"].endswith("decides Talazoparib")
    assert assess(state, "talazoparib").status == "unknown"


# --- ESR1 ------------------------------------------------------------------

def test_a_stale_esr1_negative_makes_the_oral_serds_wait_on_a_current_test_that_the_esr1_card_names():
    state = S.with_variants(progressed(), S.variant("ESR1", result="not-detected", date=dt.date(2022, 6, 1)),
                            esr1_current=False)
    cards = cards_for(state)
    for topic in ("elacestrant", "imlunestrant"):
        a = assess(state, topic)
        assert a.status == "unknown", (topic, a.status)
        assert "predates the end of metastatic line 1 (letrozole + ribociclib) on 2023-01-01" in a.unknown[0].text
    test = card(cards, "test-esr1")
    assert "decides Elacestrant, Imlunestrant" in test["summary"]


# --- PIK3CA / AKT1 / PTEN --------------------------------------------------

def test_akt1_and_pten_negative_only_in_ctdna_asks_for_tissue_that_decides_capivasertib():
    state = S.with_variants(S.adjuvant_relapse(S.base(), months=4),
                            S.variant("PIK3CA", result="not-detected", specimen="tissue"),
                            S.variant("AKT1", result="not-detected", specimen="ctdna"),
                            S.variant("PTEN", result="not-detected", specimen="ctdna"))
    assert assess(state, "capivasertib-fulvestrant").status == "unknown"
    test = card(cards_for(state), "test-pik3ca-akt1-pten")
    assert test["summary"].endswith("decides Capivasertib + fulvestrant")
    assert len(test["suggestions"]) == 1 and "tumour tissue" in test["suggestions"][0]["label"]
    assert "AKT1/PTEN not detected in plasma ctDNA only" in test["detail"]


def test_the_esr1_card_names_vepdegestrant_as_an_unverified_option_like_the_esr1_regimen_cards_do():
    state = progressed()  # ESR1 never tested after an endocrine line
    assert assess(state, "vepdegestrant").status == "unknown"
    test = card(cards_for(state), "test-esr1")
    assert test["summary"].endswith("decides Elacestrant, Imlunestrant, Vepdegestrant (label unverified)")
    assert "vepdegestrant" in test["detail"].lower().split("**guideline**")[1]


def test_the_order_hook_says_once_that_a_stale_esr1_result_predates_the_progression():
    from cards import order_cards
    from tests.orders.states import draft
    state = S.with_variants(progressed(), S.variant("ESR1", result="not-detected", date=dt.date(2022, 6, 1)),
                            esr1_current=False)
    orders = [c.to_json() for c in order_cards(state, [draft("e", "elacestrant")], None, "order-sign")]
    missing = [o for o in orders if o["source"]["topic"]["code"] == "order-biomarker-missing"]
    assert missing
    assert missing[0]["detail"].count("predates the end of metastatic line 1") == 1


def test_a_pik3ca_vus_on_tissue_with_akt1_and_pten_untested_is_named_as_found_not_as_pik3ca_not_detected():
    state = S.with_variants(progressed(), S.variant("PIK3CA", "p.E545K", specimen="tissue", significance="vus"))
    assert assess(state, "alpelisib-fulvestrant").status == "not-fit"
    test = card(cards_for(state), "test-pik3ca-akt1-pten")
    assert test["summary"].endswith("decides Capivasertib + fulvestrant")
    assert "PIK3CA not detected" not in test["detail"]
    assert ("No actionable PIK3CA alteration (PIK3CA p.E545K detected (somatic, tissue, vus, 2026-10-01)); "
            "AKT1/PTEN not tested") in test["detail"]


def test_the_pik3ca_card_at_a_de_novo_first_line_says_why_now_when_no_regimen_waits_on_it_yet():
    # C.2 step 2 "Testing at 1L": PIK3CA/AKT1/PTEN is needed for capivasertib/alpelisib later
    test = card(cards_for(S.base()), "test-pik3ca-akt1-pten")
    assert test["summary"] == "PIK3CA / AKT1 / PTEN testing"  # nothing decided now
    assert ("Testing at first line (C.2 step 2): the result decides capivasertib + fulvestrant or "
            "alpelisib + fulvestrant at progression") in test["detail"]
