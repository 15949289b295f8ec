"""Pathway branches and label restrictions on hand-built PatientState objects.

The same branches run through the whole FHIR pipeline in test_fhir_scenarios.py;
here the rules are isolated from the mapper.
"""

import datetime as dt

import pytest

from cards.pathway import assess, evaluate, pathway_status
from tests.cards import states as S
from tests.cards.helpers import card, recommended, regimen_topics, suggestion_drugs, ordered_tests, topics, view
from tests.cards.invariants import check_invariants


def cards_for(state):
    cards = view(state)
    check_invariants(state, cards)
    return cards


# --- first line ------------------------------------------------------------

def test_de_novo_endocrine_sensitive_first_line_gets_ai_plus_cdk46i_first_with_letrozole_ribociclib_recommended():
    cards = cards_for(S.base())
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    ai = card(cards, "ai-cdk46i")
    assert recommended(ai) == ["letrozole", "ribociclib"]
    assert ["letrozole", "abemaciclib"] in suggestion_drugs(ai)
    assert ["letrozole", "palbociclib"] in suggestion_drugs(ai)
    # palbociclib ranked after ribociclib/abemaciclib (C.3 row 17)
    combos = suggestion_drugs(ai)
    assert max(i for i, c in enumerate(combos) if "palbociclib" not in c) < min(
        i for i, c in enumerate(combos) if "palbociclib" in c)
    assert ai["selectionBehavior"] == "at-most-one"


def test_first_line_fulvestrant_without_prior_endocrine_therapy_is_only_offered_with_ribociclib():
    cards = cards_for(S.base())
    assert suggestion_drugs(card(cards, "fulvestrant-cdk46i")) == [["fulvestrant", "ribociclib"]]


def test_relapse_more_than_12_months_after_adjuvant_ai_is_endocrine_sensitive_and_gets_ai_plus_cdk46i():
    cards = cards_for(S.adjuvant_relapse(S.base(), months=30))
    assert regimen_topics(cards)[0] == "ai-cdk46i"
    assert "inavolisib-palbociclib-fulvestrant" not in regimen_topics(cards)


def test_pik3ca_mutated_relapse_within_12_months_of_adjuvant_ai_gets_inavolisib_palbociclib_fulvestrant_first():
    state = S.with_variants(S.adjuvant_relapse(S.base(), months=6), S.variant("PIK3CA", "p.H1047R"))
    cards = cards_for(state)
    regs = regimen_topics(cards)
    assert regs[0] == "inavolisib-palbociclib-fulvestrant"
    assert "ai-cdk46i" not in regs  # resistant to the adjuvant AI
    assert "fulvestrant-cdk46i" in regs and "capivasertib-fulvestrant" in regs
    ina = card(cards, "inavolisib-palbociclib-fulvestrant")
    assert suggestion_drugs(ina) == [["inavolisib", "palbociclib", "fulvestrant"]]
    assert "INAVO120" in ina["detail"] and "Observation/pik3ca-detected" in ina["detail"]
    assert "no 12-month number" in ina["detail"]  # seed vs label note


def test_relapse_on_adjuvant_endocrine_therapy_counts_as_within_12_months():
    state = S.with_variants(S.adjuvant_relapse(S.base(), months=0), S.variant("PIK3CA"))
    assert regimen_topics(cards_for(state))[0] == "inavolisib-palbociclib-fulvestrant"


def test_pik3ca_mutated_relapse_13_months_after_adjuvant_therapy_gets_no_inavolisib():
    state = S.with_variants(S.adjuvant_relapse(S.base(), months=13), S.variant("PIK3CA"))
    regs = regimen_topics(cards_for(state))
    assert "inavolisib-palbociclib-fulvestrant" not in regs
    assert "capivasertib-fulvestrant" not in regs  # 1L route needs recurrence within 12 months
    assert regs[0] == "ai-cdk46i"


def test_early_relapse_with_pik3ca_untested_gets_fulvestrant_cdk46i_and_a_pik3ca_test_that_decides_inavolisib():
    cards = cards_for(S.adjuvant_relapse(S.base(), months=4))
    assert regimen_topics(cards) == ["fulvestrant-cdk46i"]
    test = card(cards, "test-pik3ca-akt1-pten")
    assert "Inavolisib" in test["summary"]
    assert len(test["suggestions"]) == 2  # ctDNA or tissue, ctDNA recommended
    assert "ctDNA" in [s for s in test["suggestions"] if s.get("isRecommended")][0]["label"]
    assert "test-esr1" in ordered_tests(cards)  # relapse on endocrine therapy


def test_pik3ca_negative_in_ctdna_only_is_not_wild_type_and_asks_for_tissue():
    state = S.with_variants(S.adjuvant_relapse(S.base(), months=4),
                            S.variant("PIK3CA", result="not-detected", specimen="ctdna"))
    cards = cards_for(state)
    assert "inavolisib-palbociclib-fulvestrant" not in regimen_topics(cards)
    test = card(cards, "test-pik3ca-akt1-pten")
    assert "tissue" in test["suggestions"][0]["label"]
    assert "not wild-type" in test["detail"]


def test_visceral_crisis_in_first_line_puts_chemotherapy_first_with_a_taxane_recommended():
    cards = cards_for(S.visceral_crisis(S.base()))
    regs = regimen_topics(cards)
    assert regs[0] == "chemotherapy" and "ai-cdk46i" in regs
    assert recommended(card(cards, "chemotherapy")) == ["paclitaxel"]


def test_first_line_without_visceral_crisis_gets_no_chemotherapy_card_and_the_summary_names_both_ways_to_it():
    cards = cards_for(S.base())
    assert "chemotherapy" not in regimen_topics(cards)
    assert ("- Single-agent chemotherapy: No visceral crisis asserted and no systemic line for metastatic "
            "disease yet") in cards[0]["detail"]


# --- after progression -----------------------------------------------------

AFTER_AI_CDK = (("letrozole", "ribociclib"),)


def progressed(state=None, *lines, **kw):
    return S.with_lines(state or S.base(), *(lines or AFTER_AI_CDK), **kw)


def test_esr1_mutation_after_ai_cdk46i_gets_oral_serds_first_and_mentions_unverified_vepdegestrant():
    state = S.with_variants(progressed(), S.variant("ESR1", "p.D538G"), esr1_current=True)
    cards = cards_for(state)
    regs = regimen_topics(cards)
    assert regs[:2] == ["elacestrant", "imlunestrant"]
    assert "Vepdegestrant" in card(cards, "elacestrant")["detail"]
    assert "Vepdegestrant" in cards[0]["detail"]
    assert "test-esr1" not in ordered_tests(cards)


def test_imlunestrant_card_orders_monotherapy_only_and_says_the_abemaciclib_combination_is_not_labelled():
    state = S.with_variants(progressed(), S.variant("ESR1"), esr1_current=True)
    im = card(cards_for(state), "imlunestrant")
    assert suggestion_drugs(im) == [["imlunestrant"]]
    assert "not FDA-labelled" in im["detail"]


def test_stale_esr1_positive_result_still_counts_but_the_card_says_it_predates_progression():
    state = S.with_variants(progressed(), S.variant("ESR1", date=dt.date(2022, 6, 1)), esr1_current=False)
    el = card(cards_for(state), "elacestrant")
    assert "predates the end of metastatic line 1 (letrozole + ribociclib) on 2023-01-01" in el["detail"]


def test_stale_negative_esr1_result_asks_for_a_new_ctdna_test():
    state = S.with_variants(progressed(), S.variant("ESR1", result="not-detected"), esr1_current=False)
    cards = cards_for(state)
    assert "elacestrant" not in regimen_topics(cards)
    assert "test-esr1" in ordered_tests(cards)


def test_elacestrant_is_not_offered_to_a_premenopausal_woman_but_imlunestrant_is_with_ovarian_suppression():
    state = S.factors(S.with_variants(progressed(), S.variant("ESR1"), esr1_current=True),
                      menopausal_status="premenopausal", age=44)
    cards = cards_for(state)
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs
    im = card(cards, "imlunestrant")
    assert im["indicator"] == "warning"
    assert suggestion_drugs(im) == [["imlunestrant", "goserelin"]]
    assert "postmenopausal women or adult men only" in cards[0]["detail"]


def test_elacestrant_is_offered_to_a_man():
    state = S.factors(S.with_variants(progressed(), S.variant("ESR1"), esr1_current=True),
                      sex="male", menopausal_status="unknown", menopausal_basis="male")
    assert "elacestrant" in regimen_topics(cards_for(state))


def test_elacestrant_waits_when_a_womans_menopausal_status_is_unknown():
    state = S.factors(S.with_variants(progressed(), S.variant("ESR1"), esr1_current=True),
                      menopausal_status="unknown", menopausal_basis="unknown")
    cards = cards_for(state)
    assert "elacestrant" not in regimen_topics(cards)
    assert card(cards, "imlunestrant")["indicator"] == "warning"  # OFS may be needed
    assert "Menopausal status not documented" in cards[0]["detail"]


def test_pik3ca_mutation_after_progression_gets_capivasertib_before_alpelisib():
    state = S.with_variants(progressed(), S.variant("PIK3CA", "p.E545K", specimen="tissue"))
    regs = regimen_topics(cards_for(state))
    assert regs.index("capivasertib-fulvestrant") < regs.index("alpelisib-fulvestrant")
    assert regs[0] == "capivasertib-fulvestrant"


def test_akt1_only_alteration_gets_capivasertib_and_never_alpelisib():
    state = S.with_variants(progressed(), S.variant("AKT1", "p.E17K", specimen="tissue"),
                            S.variant("PIK3CA", result="not-detected", specimen="tissue"))
    cards = cards_for(state)
    regs = regimen_topics(cards)
    assert "capivasertib-fulvestrant" in regs and "alpelisib-fulvestrant" not in regs
    assert "Alpelisib + fulvestrant: No actionable PIK3CA alteration" in cards[0]["detail"]


def test_pten_only_alteration_gets_capivasertib_and_never_alpelisib():
    state = S.with_variants(progressed(), S.variant("PTEN", "p.R130*", specimen="tissue"),
                            S.variant("PIK3CA", result="not-detected", specimen="tissue"))
    regs = regimen_topics(cards_for(state))
    assert "capivasertib-fulvestrant" in regs and "alpelisib-fulvestrant" not in regs


def test_no_alpelisib_after_a_prior_pi3k_pathway_inhibitor_and_capivasertib_after_one_is_a_warning():
    # C.3 row 5 (SOLAR-1) for alpelisib; the Truqap label has no such exclusion (B.5)
    state = S.with_variants(progressed(None, ("letrozole", "ribociclib"), ("fulvestrant", "alpelisib")),
                            S.variant("PIK3CA"))
    cards = cards_for(state)
    assert "alpelisib-fulvestrant" not in regimen_topics(cards)
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["indicator"] == "warning" and "After another PI3K/AKT/mTOR inhibitor" in capi["detail"]


def test_diabetes_makes_pi3k_akt_mtor_cards_warnings_and_asks_for_fresh_glycaemic_tests():
    state = S.diabetic(S.with_variants(progressed(), S.variant("PIK3CA")))
    state = state.model_copy(update={"as_of": dt.date(2026, 12, 31)})  # HbA1c 2026-10-20 now stale
    cards = cards_for(state)
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["indicator"] == "warning" and "diabetes" in capi["summary"]
    assert "Condition/t2dm" in capi["detail"]
    assert card(cards, "everolimus-exemestane")["indicator"] == "warning"
    glyc = card(cards, "test-glycemic")
    assert glyc["indicator"] == "warning"
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in glyc["suggestions"][0]["actions"]]
    assert codes == ["4548-4", "1558-6"]


def test_germline_brca_gets_talazoparib_and_olaparib_waits_for_prior_chemotherapy():
    state = S.with_variants(progressed(), S.variant("BRCA2", "p.S1982fs", origin="germline", specimen="blood"))
    cards = cards_for(state)
    regs = regimen_topics(cards)
    assert "talazoparib" in regs and "olaparib" not in regs
    assert "Olaparib: No prior chemotherapy" in cards[0]["detail"]
    assert "test-germline-brca" not in ordered_tests(cards)


def test_germline_brca_after_prior_chemotherapy_gets_talazoparib_and_olaparib():
    state = S.with_variants(progressed(None, ("letrozole", "ribociclib"), ("capecitabine",)),
                            S.variant("BRCA1", origin="germline", specimen="blood"))
    regs = regimen_topics(cards_for(state))
    assert "talazoparib" in regs and "olaparib" in regs


def test_adjuvant_chemotherapy_counts_as_prior_chemotherapy_for_olaparib():
    state = S.with_variants(progressed(None, ("letrozole", "ribociclib"), early=(("doxorubicin", "cyclophosphamide"),)),
                            S.variant("BRCA1", origin="germline", specimen="blood"))
    assert "olaparib" in regimen_topics(cards_for(state))


def test_somatic_only_brca_gets_no_parp_inhibitor_but_a_germline_testing_warning():
    state = S.with_variants(progressed(None, ("letrozole", "ribociclib"), ("capecitabine",)),
                            S.variant("BRCA2", origin="somatic", specimen="tissue"))
    cards = cards_for(state)
    regs = regimen_topics(cards)
    assert "olaparib" not in regs and "talazoparib" not in regs
    test = card(cards, "test-germline-brca")
    assert test["indicator"] == "warning"
    assert "Somatic-only BRCA" in test["detail"]


def test_brca_of_unknown_origin_gets_a_germline_test_not_a_parp_inhibitor():
    state = S.with_variants(progressed(), S.variant("BRCA1", origin="unknown", specimen="tissue"))
    cards = cards_for(state)
    assert "talazoparib" not in regimen_topics(cards)
    assert "germline origin not established" in card(cards, "test-germline-brca")["detail"]


def test_no_actionable_alteration_gets_everolimus_exemestane_fulvestrant_abemaciclib_and_fulvestrant():
    state = S.with_variants(progressed(), S.variant("ESR1", result="not-detected"),
                            S.variant("PIK3CA", result="not-detected", specimen="tissue"),
                            S.variant("AKT1", result="not-detected", specimen="tissue"),
                            S.variant("PTEN", result="not-detected", specimen="tissue"),
                            S.variant("BRCA1", result="not-detected", origin="germline", specimen="blood"),
                            S.variant("BRCA2", result="not-detected", origin="germline", specimen="blood"),
                            esr1_current=True)
    state = S.her2(state, "null", "0")
    cards = cards_for(state)
    assert regimen_topics(cards) == ["everolimus-exemestane", "fulvestrant-cdk46i", "fulvestrant", "chemotherapy"]
    assert recommended(card(cards, "fulvestrant-cdk46i")) == ["fulvestrant", "abemaciclib"]  # postMONARCH
    assert ordered_tests(cards) == ["test-glycemic"]  # before everolimus


def test_everolimus_is_not_offered_to_men_or_premenopausal_women():
    for kw in ({"sex": "male", "menopausal_status": "unknown"}, {"menopausal_status": "premenopausal"}):
        state = S.factors(progressed(), **kw)
        assert "everolimus-exemestane" not in regimen_topics(cards_for(state)), kw


def test_everolimus_needs_prior_letrozole_or_anastrozole():
    state = progressed(None, ("exemestane", "ribociclib"))
    assert "everolimus-exemestane" not in regimen_topics(cards_for(state))


def test_fulvestrant_plus_cdk46i_is_not_repeated_after_progression_on_it():
    state = progressed(None, ("fulvestrant", "palbociclib"))
    regs = regimen_topics(cards_for(state))
    assert "fulvestrant-cdk46i" not in regs and "fulvestrant" not in regs


def test_premenopausal_woman_without_ovarian_suppression_gets_warning_and_goserelin_in_every_et_suggestion():
    state = S.factors(S.base(), menopausal_status="premenopausal", age=41)
    cards = cards_for(state)
    ai = card(cards, "ai-cdk46i")
    assert ai["indicator"] == "warning" and "ovarian suppression" in ai["summary"]
    assert all(combo[-1] == "goserelin" for combo in suggestion_drugs(ai))


def test_premenopausal_woman_on_ovarian_suppression_gets_no_ofs_warning():
    state = S.factors(S.base(), menopausal_status="premenopausal", age=41, ovarian_suppression=True,
                      ovarian_suppression_sources=S.src("MedicationStatement/goserelin"))
    ai = card(cards_for(state), "ai-cdk46i")
    assert ai["indicator"] == "info"
    assert all("goserelin" not in combo for combo in suggestion_drugs(ai))


def test_qtc_450_or_more_moves_the_recommendation_from_ribociclib_to_abemaciclib():
    from mappings.state import LabValue
    state = S.factors(S.base(), qtc_ms=LabValue(value=470, date=dt.date(2026, 10, 1), sources=S.src("Observation/ecg")))
    ai = card(cards_for(state), "ai-cdk46i")
    assert recommended(ai) == ["letrozole", "abemaciclib"]
    # the caution is about the ribociclib choices only, not the recommended one: the summary
    # names it with its drug and the detail keeps it under each ribociclib choice; the card is
    # still a warning, because it offers ribociclib orders the label says not to start
    assert ai["summary"].endswith(" — caution: ribociclib QTc >= 450 ms") and ai["indicator"] == "warning"
    assert ("- ⚠️ Letrozole + ribociclib, Anastrozole + ribociclib, Exemestane + ribociclib: QTcF >= 450 ms: "
            "ribociclib should not be started") in ai["detail"]
    # first line only fulvestrant + ribociclib is offered (the others need prior endocrine
    # therapy): none is recommended, so its caution weighs and the card is a warning
    fulv = card(cards_for(state), "fulvestrant-cdk46i")
    assert _no_recommended(fulv) and fulv["indicator"] == "warning"
    assert "not recommended: QTc >= 450 ms" in fulv["summary"]


# --- ADCs and chemotherapy -------------------------------------------------

def test_her2_low_after_one_endocrine_line_gets_trastuzumab_deruxtecan():
    cards = cards_for(progressed())
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert "DESTINY-Breast06" in tdxd["detail"] and "Label A" in tdxd["detail"]


def test_her2_ultralow_after_endocrine_therapy_gets_trastuzumab_deruxtecan_via_label_a():
    assert "trastuzumab-deruxtecan" in regimen_topics(cards_for(S.her2(progressed(), "ultralow", "0")))


def test_her2_null_gets_no_trastuzumab_deruxtecan_and_no_her2_test():
    cards = cards_for(S.her2(progressed(), "null", "0"))
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" not in ordered_tests(cards)


@pytest.mark.parametrize("category", ["negative-unspecified", "zero-unspecified"])
def test_bare_her2_negative_or_unclassified_ihc0_gets_a_her2_retest_card_not_trastuzumab_deruxtecan(category):
    cards = cards_for(S.her2(progressed(), category))
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    test = card(cards, "test-her2")
    assert "Trastuzumab deruxtecan" in test["summary"]
    assert test["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "85319-2"


def test_trastuzumab_deruxtecan_after_symptomatic_ild_is_a_do_not_start_card_never_recommended():
    # C.2 safety overlays: cards as warnings, not silent exclusions (as Dato-DXd)
    tdxd = card(cards_for(S.ild(progressed(), symptomatic=True)), "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "critical" and "do not start: after symptomatic ILD" in tdxd["summary"]
    assert "permanently discontinue" in tdxd["detail"]


def test_asymptomatic_ild_history_makes_the_adc_card_a_warning():
    tdxd = card(cards_for(S.ild(progressed(), symptomatic=False)), "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "warning" and "ILD" in tdxd["summary"]


def test_no_trastuzumab_deruxtecan_rechallenge():
    state = progressed(None, ("letrozole", "ribociclib"), ("trastuzumab deruxtecan",))
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards_for(state))


def test_datopotamab_deruxtecan_needs_chemotherapy_for_metastatic_disease_not_only_adjuvant():
    adjuvant_only = progressed(None, ("letrozole", "ribociclib"), early=(("doxorubicin", "cyclophosphamide"),))
    assert "datopotamab-deruxtecan" not in regimen_topics(cards_for(adjuvant_only))
    after_chemo = progressed(None, ("letrozole", "ribociclib"), ("capecitabine",))
    assert "datopotamab-deruxtecan" in regimen_topics(cards_for(after_chemo))


def test_datopotamab_deruxtecan_with_ild_history_is_a_warning():
    state = S.ild(progressed(None, ("letrozole", "ribociclib"), ("capecitabine",)), symptomatic=False)
    assert card(cards_for(state), "datopotamab-deruxtecan")["indicator"] == "warning"


def test_sacituzumab_needs_endocrine_therapy_plus_two_more_metastatic_lines():
    two = progressed(None, ("letrozole", "ribociclib"), ("capecitabine",))
    cards = cards_for(two)
    assert "sacituzumab-govitecan" not in regimen_topics(cards)
    # the summary's "Not offered now" says what was needed, not only what was found
    assert ("- Sacituzumab govitecan: 2 systemic lines for metastatic disease, at least 3 needed (line 1: "
            in cards[0]["detail"])
    three = progressed(None, ("letrozole", "ribociclib"), ("capecitabine",), ("paclitaxel",))
    cards = cards_for(three)
    sg = card(cards, "sacituzumab-govitecan")
    assert "TROPiCS-02 required 2-4 prior chemotherapy lines" not in sg["detail"]  # 2 chemo lines: trial-concordant
    assert "neutropenia" in sg["detail"].lower()


def test_chemotherapy_card_does_not_reorder_a_single_agent_already_given():
    state = progressed(None, ("letrozole", "ribociclib"), ("capecitabine",))
    chemo = card(cards_for(state), "chemotherapy")
    assert ["capecitabine"] not in suggestion_drugs(chemo)
    assert recommended(chemo) == ["paclitaxel"]
    assert ["eribulin"] not in suggestion_drugs(chemo)  # label needs anthracycline + taxane + 2 regimens


# --- outside the pathway ---------------------------------------------------

def test_her2_positive_patient_gets_only_the_summary():
    cards = cards_for(S.her2(S.base(), "positive", "3+"))
    assert topics(cards) == ["patient-summary"]
    assert "HER2-positive" in cards[0]["summary"]


def test_triple_negative_patient_gets_only_the_summary():
    from mappings.state import ReceptorStatus
    state = S.base(er=ReceptorStatus(status="negative"), pr=ReceptorStatus(status="negative"))
    cards = cards_for(S.her2(state, "null", "0"))
    assert topics(cards) == ["patient-summary"] and "Triple-negative" in cards[0]["summary"]


def test_non_metastatic_patient_gets_only_the_summary():
    state = S.base(disease=S.base().disease.model_copy(update={"metastatic": "no", "sites": []}))
    cards = cards_for(state)
    assert topics(cards) == ["patient-summary"] and "No metastatic disease" in cards[0]["summary"]


def test_patient_without_breast_cancer_gets_only_the_summary():
    from mappings.state import Disease
    cards = cards_for(S.base(disease=Disease(breast_cancer="no")))
    assert topics(cards) == ["patient-summary"]


def test_unknown_receptor_status_gets_summary_and_receptor_testing_only():
    from mappings.state import HER2Status, ReceptorStatus
    state = S.base(er=ReceptorStatus(), pr=ReceptorStatus(), her2=HER2Status())
    cards = cards_for(state)
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    assert cards[0]["indicator"] == "warning"
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in cards[1]["suggestions"][0]["actions"]]
    assert codes == ["85337-4", "85339-0", "85319-2"]


def test_her2_equivocal_without_ish_is_unknown_and_asks_for_the_ish():
    cards = cards_for(S.her2(S.base(), "equivocal-pending", "2+"))
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in cards[1]["suggestions"][0]["actions"]]
    assert codes == ["85318-4"]


def test_her2_low_after_chemotherapy_for_metastatic_disease_gets_trastuzumab_deruxtecan_via_label_b():
    state = S.with_lines(S.visceral_crisis(S.base()), ("paclitaxel",))
    tdxd = card(cards_for(state), "trastuzumab-deruxtecan")
    assert "Label B" in tdxd["detail"]


def test_her2_ultralow_after_chemotherapy_only_gets_no_trastuzumab_deruxtecan():
    state = S.her2(S.with_lines(S.visceral_crisis(S.base()), ("paclitaxel",)), "ultralow", "0")
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards_for(state))


def test_her2_low_relapse_within_6_months_of_adjuvant_chemotherapy_fits_trastuzumab_deruxtecan_label_b():
    from cards.pathway import assess
    state = S.with_lines(S.base(), ("capecitabine",), early=(("doxorubicin", "cyclophosphamide"),),
                         chemotherapy_within_6_months_of_adjuvant_end=True)
    a = assess(state, "trastuzumab-deruxtecan")
    assert a.fits and a.route.startswith("Label B")



def test_her2_low_relapse_whose_timing_after_adjuvant_chemotherapy_is_unknown_says_label_b_cannot_be_confirmed():
    # a date without a day decides "within 6 months" (TherapyHistory field None): not a fit, not a no
    state = S.with_lines(S.base(), ("olaparib",), early=(("paclitaxel",),),
                         chemotherapy_within_6_months_of_adjuvant_end=None)
    a = assess(state, "trastuzumab-deruxtecan")
    assert not a.fits and a.route is None
    assert any("cannot be confirmed" in f.text and f.value is None for f in a.unknown)

def test_de_novo_pik3ca_first_line_gets_no_pi3k_pathway_inhibitor():
    regs = regimen_topics(cards_for(S.with_variants(S.base(), S.variant("PIK3CA"))))
    assert not {"inavolisib-palbociclib-fulvestrant", "alpelisib-fulvestrant", "capivasertib-fulvestrant"} & set(regs)
    assert regs[0] == "ai-cdk46i"


def test_a_man_on_an_aromatase_inhibitor_is_told_to_add_an_lhrh_agonist_and_every_suggestion_adds_it():
    # C.2 step 2: "Men -> AI + CDK4/6i with LHRH agonist, or fulvestrant + CDK4/6i"
    state = S.factors(S.base(), sex="male", menopausal_status="unknown", menopausal_basis="male")
    cards = cards_for(state)
    ai = card(cards, "ai-cdk46i")
    assert "LHRH agonist" in ai["detail"]
    assert all(c[-1] == "goserelin" for c in suggestion_drugs(ai))
    assert all("(LHRH agonist)" in s["label"] for s in ai["suggestions"])
    assert all("goserelin" not in c for c in suggestion_drugs(card(cards, "fulvestrant-cdk46i")))


def test_a_man_already_on_an_lhrh_agonist_gets_no_extra_goserelin():
    state = S.factors(S.base(), sex="male", menopausal_status="unknown", menopausal_basis="male",
                      ovarian_suppression=True, ovarian_suppression_sources=S.src("MedicationStatement/leuprolide"))
    assert all("goserelin" not in c for c in suggestion_drugs(card(cards_for(state), "ai-cdk46i")))


# --- API for other layers --------------------------------------------------

def test_evaluate_returns_every_regimen_with_fitting_ones_first_in_rank_order():
    state = S.with_variants(progressed(), S.variant("ESR1"), esr1_current=True)
    result = evaluate(state)
    assert len(result) == 16
    fits = [a.topic for a in result if a.fits]
    assert fits[:3] == ["elacestrant", "imlunestrant", "vepdegestrant"]
    assert all(a.fits for a in result[: len(fits)])
    not_fit = assess(state, "olaparib")
    assert not not_fit.fits and not_fit.reasons_not and not_fit.unknown


def test_pathway_status_explains_why_a_patient_is_outside():
    status = pathway_status(S.her2(S.base(), "positive", "3+"))
    assert not status.in_pathway and "HER2-positive" in status.reason


def test_er_low_tumour_makes_endocrine_cards_warnings():
    from mappings.state import ReceptorStatus
    state = S.base(er=ReceptorStatus(status="positive", percent=5, low_positive=True, sources=S.src("Observation/er")),
                   pr=ReceptorStatus(status="negative", sources=S.src("Observation/pr")))
    ai = card(cards_for(state), "ai-cdk46i")
    assert ai["indicator"] == "warning" and "ER-low" in ai["summary"]


def test_non_metastatic_patient_with_unknown_receptors_gets_no_testing_card_either():
    from mappings.state import HER2Status, ReceptorStatus
    state = S.base(er=ReceptorStatus(), pr=ReceptorStatus(), her2=HER2Status(),
                   disease=S.base().disease.model_copy(update={"metastatic": "unknown", "sites": []}))
    cards = cards_for(state)
    assert topics(cards) == ["patient-summary"]
    assert "Metastatic disease not documented" in cards[0]["summary"]


def test_progression_on_an_aromatase_inhibitor_alone_puts_fulvestrant_plus_cdk46i_first_with_ribociclib():
    state = S.with_variants(progressed(None, ("letrozole",)), S.variant("ESR1"), esr1_current=True)
    cards = cards_for(state)
    assert regimen_topics(cards)[0] == "fulvestrant-cdk46i"
    assert recommended(card(cards, "fulvestrant-cdk46i")) == ["fulvestrant", "ribociclib"]
    assert "EMERALD required prior CDK4/6 inhibitor" in card(cards, "elacestrant")["detail"]


def test_esr1_wild_type_before_the_current_endocrine_line_asks_for_a_retest_at_progression():
    state = S.with_variants(progressed(None, ("letrozole", "ribociclib"), ("fulvestrant", "abemaciclib"), active_last=True),
                            S.variant("ESR1", result="not-detected", date=dt.date(2022, 12, 1)), esr1_current=True)
    test = card(cards_for(state), "test-esr1")
    assert "predates the current endocrine line" in test["detail"] and "at progression" in test["detail"]


def test_her2_null_only_on_tissue_older_than_the_metastases_asks_for_a_her2_retest():
    state = S.her2(progressed(), "null", "0")
    state = state.model_copy(update={"her2": state.her2.model_copy(update={"date": dt.date(2015, 3, 1)})})
    cards = cards_for(state)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "before the metastatic diagnosis" in card(cards, "test-her2")["detail"]


def test_recent_her2_null_gets_no_her2_retest():
    cards = cards_for(S.her2(progressed(), "null", "0"))  # HER2 dated after the metastatic diagnosis
    assert "test-her2" not in ordered_tests(cards)


# --- review fixes: sequencing, unknowns, safety ------------------------------

@pytest.mark.parametrize("serd", ["elacestrant", "imlunestrant"])
def test_an_oral_serd_is_not_offered_again_after_progression_on_that_same_serd(serd):
    state = S.with_variants(progressed(S.base(), ("letrozole", "palbociclib"), (serd,)),
                            S.variant("ESR1", "p.Y537S"), esr1_current=True)
    cards = cards_for(state)
    assert serd not in regimen_topics(cards)
    a = assess(state, serd)
    assert a.status == "not-fit"
    assert any(f"Already treated with {serd}" in f.text for f in a.reasons_not)
    assert f"Already treated with {serd}" in cards[0]["detail"]  # the summary's "Not offered now"


def test_elacestrant_is_not_offered_as_the_next_line_while_the_patient_is_on_elacestrant():
    state = S.with_variants(progressed(S.base(), ("letrozole", "palbociclib"), ("elacestrant",), active_last=True),
                            S.variant("ESR1", "p.Y537S"), esr1_current=True)
    assert "elacestrant" not in regimen_topics(cards_for(state))


def _adjuvant_ai_relapse_timing_unknown():
    """Adjuvant anastrozole documented without an end date or recurrence timing; not de novo."""
    state = S.with_lines(S.base(), early=(("anastrozole",),), endocrine_resistance="unknown")
    return state.model_copy(update={"disease": state.disease.model_copy(update={"de_novo_metastatic": False})})


def test_unknown_relapse_timing_after_an_adjuvant_ai_is_not_read_as_endocrine_sensitive_for_ai_plus_cdk46i():
    state = _adjuvant_ai_relapse_timing_unknown()
    a = assess(state, "ai-cdk46i")
    assert a.status == "unknown"
    assert any("end date relative to recurrence is unknown" in f.text for f in a.unknown)
    cards = cards_for(state)
    regs = regimen_topics(cards)
    assert "ai-cdk46i" not in regs  # never option 1 "endocrine-sensitive" on a guess
    assert regs[0] == "fulvestrant-cdk46i"  # labelled whether the relapse was early or late
    summary = cards[0]["detail"]
    assert "Aromatase inhibitor + CDK4/6 inhibitor: waiting on" in summary
    assert "Relapse on or within 12 months of an adjuvant aromatase inhibitor" in summary
    assert "end date relative to recurrence is unknown" in summary


def test_a_documented_late_relapse_after_an_adjuvant_ai_still_gets_ai_plus_cdk46i_first():
    cards = cards_for(S.adjuvant_relapse(S.base(), months=30, drug="anastrozole"))
    assert regimen_topics(cards)[0] == "ai-cdk46i"


def test_a_germline_brca_variant_without_a_reported_classification_does_not_give_a_parp_inhibitor():
    state = S.with_variants(progressed(), S.variant("BRCA1", "p.V1736A", origin="germline", specimen="blood",
                                                    significance="not-reported"))
    a = assess(state, "talazoparib")
    assert a.status == "unknown"
    cards = cards_for(state)
    assert "talazoparib" not in regimen_topics(cards) and "olaparib" not in regimen_topics(cards)
    test = card(cards, "test-germline-brca")
    assert "without a reported classification" in test["detail"]
    assert "pathogenic or likely pathogenic" in test["detail"]
    assert "Observation/brca1-detected" in test["detail"]


def test_a_likely_pathogenic_germline_brca_variant_gives_talazoparib():
    state = S.with_variants(progressed(), S.variant("BRCA2", origin="germline", specimen="blood",
                                                    significance="likely-pathogenic"))
    assert "talazoparib" in regimen_topics(cards_for(state))


# D3: one stance in both hooks. A choice the order hook stops (critical "do not start")
# is shown in patient-view (C.2 safety overlays: not a silent exclusion) with the same
# severity and reason, is never the recommended suggestion and comes after the others.

def _order_view(state, *names):
    from cards import order_cards
    from tests.orders.states import draft
    return order_cards(state, [draft(n.replace(" ", "-"), n) for n in names], None, "order-sign")


def _treated_diabetes(state, status, hba1c, glucose, condition):
    on = dt.date(2026, 10, 20)
    return S.factors(state, diabetes=S.Diabetes(
        status=status, on_antihyperglycemic=True,
        hba1c=S.LabValue(value=hba1c, unit="%", date=on, sources=S.src("Observation/a1c")),
        fasting_glucose=S.LabValue(value=glucose, unit="mg/dL", date=on, sources=S.src("Observation/fg")),
        sources=S.src(condition)))


def _t1dm(state):
    return _treated_diabetes(state, "type1", 7.2, 110, "Condition/t1dm")


def _uncontrolled_t2dm(state):
    return _treated_diabetes(state, "type2-treated", 8.6, 150, "Condition/t2dm")


def _same_stance(state, topic, drugs, short):
    cards = cards_for(state)
    regs = regimen_topics(cards)
    c = card(cards, topic)
    assert c["indicator"] == "critical"
    assert f"do not start: {short}" in c["summary"]
    assert not any(s.get("isRecommended") for s in c["suggestions"])
    reg_cards = [x for x in cards if x["source"]["topic"]["code"] in regs]
    assert regs[0] != topic  # never option 1
    assert all(x["indicator"] == "critical" for x in reg_cards[regs.index(topic):])  # after the others
    orders = [x.to_json() for x in _order_view(state, *drugs)]
    stop = [o for o in orders if o["indicator"] == "critical"]
    assert stop and stop[0]["source"]["topic"]["code"] == "order-contraindicated"
    assert short in stop[0]["summary"]
    reason = stop[0]["detail"].split("**Label / trial**: ")[1].split(" (clinical-reference")[0]
    assert reason in c["detail"]  # the same reason, word for word
    return c


def test_datopotamab_deruxtecan_after_symptomatic_ild_is_do_not_start_in_patient_view_as_in_the_order_hook():
    state = S.ild(progressed(S.base(), ("letrozole", "palbociclib"), ("capecitabine",)), symptomatic=True)
    c = _same_stance(state, "datopotamab-deruxtecan", ["datopotamab deruxtecan"], "after symptomatic ILD")
    assert "Condition/ild" in c["detail"]


def test_inavolisib_triplet_in_type_1_diabetes_is_do_not_start_in_patient_view_as_in_the_order_hook():
    state = _t1dm(S.with_variants(S.adjuvant_relapse(S.base(), 3), S.variant("PIK3CA", "p.H1047R")))
    c = _same_stance(state, "inavolisib-palbociclib-fulvestrant", ["inavolisib", "palbociclib", "fulvestrant"],
                     "type 1 diabetes")
    assert "Condition/t1dm" in c["detail"]


def test_capivasertib_with_hba1c_above_8_percent_is_do_not_start_in_patient_view_as_in_the_order_hook():
    state = _uncontrolled_t2dm(S.with_variants(progressed(), S.variant("PIK3CA", "p.E545K", specimen="tissue")))
    c = _same_stance(state, "capivasertib-fulvestrant", ["capivasertib", "fulvestrant"], "uncontrolled diabetes (HbA1c)")
    assert "HbA1c 8.6 %" in c["detail"]


# D5: ILD/pneumonitis history is a caution for everolimus, CDK4/6 inhibitors and
# alpelisib too (reference A.4; B.8, B.10, B.4), in patient-view and at the order hooks.

@pytest.mark.parametrize("topic, drugs, words", [
    ("everolimus-exemestane", ["everolimus", "exemestane"], "pneumonitis"),
    ("fulvestrant-cdk46i", ["fulvestrant", "abemaciclib"], "ribociclib, abemaciclib and palbociclib"),
    ("alpelisib-fulvestrant", ["alpelisib", "fulvestrant"], "alpelisib"),
])
def test_ild_history_makes_everolimus_cdk46i_and_alpelisib_cards_warnings_in_both_hooks(topic, drugs, words):
    state = S.ild(S.with_variants(progressed(S.base(), ("letrozole", "palbociclib")),
                                  S.variant("PIK3CA", "p.H1047R", specimen="tissue")), symptomatic=True)
    c = card(cards_for(state), topic)
    assert c["indicator"] == "warning"
    assert "caution: ILD history" in c["summary"]
    assert "ILD/pneumonitis history, grade 2, symptomatic — Condition/ild" in c["detail"]
    assert words in c["detail"]
    orders = [x.to_json() for x in _order_view(state, *drugs)]
    ild = [o for o in orders if "ILD history" in o["summary"]]
    assert ild and ild[0]["indicator"] == "warning"
    assert ild[0]["source"]["topic"]["code"] == "order-contraindicated"
    assert "Condition/ild" in ild[0]["detail"] and words in ild[0]["detail"]


def test_no_ild_caution_without_ild_history():
    state = S.with_variants(progressed(S.base(), ("letrozole", "palbociclib")), S.variant("PIK3CA", "p.H1047R"))
    cards = cards_for(state)
    assert not any("ILD history" in c["summary"] for c in cards)


# D14: at first line the HER2 IHC needs an explicit 0 / ultralow / 1+ score too
# (C.2 step 2 "Testing at 1L"; C.3 row 9), although T-DXd itself is a later line.

@pytest.mark.parametrize("category, ihc", [("zero-unspecified", "0"), ("negative-unspecified", None)])
def test_first_line_unclassified_her2_ihc_0_or_bare_negative_gets_an_info_her2_retest_card(category, ihc):
    cards = cards_for(S.her2(S.base(), category, ihc))
    test = card(cards, "test-her2")
    assert test["indicator"] == "info"
    assert "Observation/her2" in test["detail"]
    assert "first line" in test["detail"]
    assert [a["resource"]["code"]["coding"][0]["code"] for s in test["suggestions"] for a in s["actions"]] == ["85319-2"]


def test_first_line_her2_low_or_null_gets_no_her2_retest_card():
    for category, ihc in (("low", "1+"), ("null", "0")):
        assert "test-her2" not in ordered_tests(cards_for(S.her2(S.base(), category, ihc)))


def test_ribociclib_cards_say_qt_prolonging_drugs_are_not_checked_but_no_longer_claim_long_qt_is_unread():
    # long QT syndrome is read from the Conditions now (a ribociclib caution); QT-prolonging
    # drugs are not (the reference gives no sourced list of them): C.2 safety overlays
    ai = card(cards_for(S.base()), "ai-cdk46i")
    assert ("- QT-prolonging co-medication not read from the record (long QT syndrome is read from the "
            "Conditions): check before ribociclib (C.2 safety overlays).") in ai["detail"]
    assert "congenital long QT" not in ai["detail"]


# D11 / D12: a card's summary must not contradict the patient's documented facts.

def test_ai_plus_cdk46i_summary_does_not_call_an_early_relapse_after_adjuvant_tamoxifen_endocrine_sensitive():
    ai = card(cards_for(S.adjuvant_relapse(S.base(), 3, drug="tamoxifen")), "ai-cdk46i")
    assert "endocrine-sensitive" not in ai["summary"] and "de novo" not in ai["summary"]
    assert ai["summary"].startswith("Aromatase inhibitor + CDK4/6 inhibitor: first line")


def test_first_line_fulvestrant_cdk46i_summary_does_not_call_a_de_novo_patient_endocrine_resistant():
    fc = card(cards_for(S.base()), "fulvestrant-cdk46i")
    assert "endocrine-resistant" not in fc["summary"]
    assert fc["summary"].startswith("Fulvestrant + CDK4/6 inhibitor: first line")


def test_tdxd_summary_names_the_label_route_that_fits():
    b = card(cards_for(S.with_lines(S.base(), ("paclitaxel",))), "trastuzumab-deruxtecan")
    assert "after endocrine therapy" not in b["summary"]
    assert "HER2-low after chemotherapy" in b["summary"]
    a = card(cards_for(progressed()), "trastuzumab-deruxtecan")
    assert "HER2-low/ultralow after endocrine therapy" in a["summary"]


# D15: each caution in a card cites its knowledge source and the patient fact that triggered it.

def test_every_caution_line_cites_its_source_and_the_triggering_patient_fact():
    state = S.with_variants(S.with_lines(S.base(), ("letrozole", "palbociclib"), last_endocrine_progression=dt.date(2023, 1, 1)),
                            S.variant("ESR1", "p.D538G", date=dt.date(2022, 6, 1)), esr1_current=False)
    el = card(cards_for(state), "elacestrant")
    line = next(x for x in el["detail"].splitlines() if "predates the latest progression" in x)
    assert "clinical-reference.md C.1" in line  # knowledge source of the caution
    assert "Patient:" in line and "2023-01-01" in line and "Observation/esr1-detected" in line
    dia = card(cards_for(S.diabetic(S.with_variants(progressed(), S.variant("PIK3CA", "p.E545K", specimen="tissue")))),
               "capivasertib-fulvestrant")
    line = next(x for x in dia["detail"].splitlines() if "Diabetes or hyperglycaemia documented" in x)
    assert "clinical-reference.md B.5" in line and "Condition/t2dm" in line


# --- initial endocrine-based therapy after first-line chemotherapy (review D1) -------
# C.2 step 2: visceral crisis -> chemotherapy, then ET-based therapy after stabilisation;
# the CDK4/6 inhibitor labels (B.9, B.10) say "initial endocrine-based therapy".

def _endocrine_naive_after_first_line_chemotherapy():
    return S.with_lines(S.base(), ("paclitaxel",))


def test_an_endocrine_naive_patient_after_first_line_chemotherapy_gets_ai_plus_cdk46i_first():
    cards = cards_for(_endocrine_naive_after_first_line_chemotherapy())
    assert regimen_topics(cards)[0] == "ai-cdk46i"
    ai = card(cards, "ai-cdk46i")
    assert "initial endocrine-based therapy after chemotherapy" in ai["summary"]
    assert "No endocrine-based therapy for metastatic disease yet, after 1 chemotherapy line" in ai["detail"]
    assert recommended(ai) == ["letrozole", "ribociclib"]


def test_after_first_line_chemotherapy_fulvestrant_is_offered_with_ribociclib_as_initial_endocrine_therapy():
    cards = cards_for(_endocrine_naive_after_first_line_chemotherapy())
    fulv = card(cards, "fulvestrant-cdk46i")
    # palbociclib / abemaciclib + fulvestrant stay labelled only after endocrine therapy
    assert suggestion_drugs(fulv) == [["fulvestrant", "ribociclib"]]
    assert "after progression on endocrine therapy" not in fulv["summary"]  # she never had any


@pytest.mark.parametrize("drugs", [("letrozole", "ribociclib"), ("fulvestrant", "ribociclib")])
def test_ordering_initial_endocrine_therapy_after_first_line_chemotherapy_is_not_called_not_indicated(drugs):
    orders = [x.to_json() for x in _order_view(_endocrine_naive_after_first_line_chemotherapy(), *drugs)]
    assert [o["summary"] for o in orders if o["source"]["topic"]["code"] == "order-not-indicated"] == []
    assert [o for o in orders if o["indicator"] != "info"] == []


def test_after_an_endocrine_line_ai_plus_cdk46i_is_not_offered_as_initial_therapy():
    cards = cards_for(S.with_lines(S.base(), ("letrozole", "palbociclib")))
    assert "ai-cdk46i" not in regimen_topics(cards)
    cards = cards_for(S.with_lines(S.base(), ("paclitaxel",), ("letrozole", "palbociclib")))
    assert "ai-cdk46i" not in regimen_topics(cards)


# --- every regimen card says why (review D4 follow-up, D3 follow-up) -------------------

def test_a_regimen_without_label_requirements_still_says_why_it_fits():
    ai = card(cards_for(S.base()), "ai-cdk46i")
    why = ai["detail"].split("**Why it fits this patient**")[1].split("**")[0]
    assert "First line for metastatic disease" in why
    assert "Not excluded: De novo metastatic disease" in why  # the adjuvant-AI exclusion was checked


def test_a_do_not_start_regimen_offers_its_order_only_as_an_explicit_override():
    state = S.ild(progressed(S.base(), ("letrozole", "palbociclib"), ("capecitabine",)), symptomatic=True)
    dato = card(cards_for(state), "datopotamab-deruxtecan")
    assert dato["indicator"] == "critical"
    assert [s["label"] for s in dato["suggestions"]] == [
        "Order Datopotamab deruxtecan despite: after symptomatic ILD (do not start)"]
    assert "**Why it fits this patient**" not in dato["detail"]
    assert "were it not for the stop below" in dato["detail"]


def test_an_incomplete_order_card_says_why_the_regimen_fits_not_an_empty_list():
    orders = [x.to_json() for x in _order_view(S.base(), "letrozole")]
    incomplete = [o for o in orders if o["source"]["topic"]["code"] == "order-incomplete-regimen"]
    assert incomplete
    after = incomplete[0]["detail"].split("fits this patient:")[1].split("\n\n")[0]
    assert "First line for metastatic disease" in after


def _with_unreadable_medication(state, reference):
    """The mapper's gap for a medication record whose drug could not be read."""
    from mappings.state import Gap
    state.gaps = [*state.gaps, Gap(code="medication-unreadable", sources=S.src(reference),
                                   message="Medication records whose drug could not be read, so lines of therapy "
                                           f"may be missing: {reference} (no drug code or name that can be read).")]
    return state


def test_every_regimen_card_warns_when_medication_records_could_not_be_read():
    # protocol review item 1: the lines every regimen is judged on may be incomplete
    cards = cards_for(_with_unreadable_medication(S.base(), "MedicationStatement/unread"))
    regimen_cards = [card(cards, t) for t in regimen_topics(cards)]
    assert regimen_cards
    for c in regimen_cards:
        assert c["indicator"] == "warning"
        assert "medication records unreadable" in c["summary"]
        assert "lines of therapy may be missing" in c["detail"] and "MedicationStatement/unread" in c["detail"]
    quiet = [card(cards_for(S.base()), t)["indicator"] for t in regimen_topics(cards_for(S.base()))]
    assert "warning" not in quiet  # the same patient with every record read


def test_order_cards_judged_on_the_therapy_history_say_when_medication_records_could_not_be_read():
    # regression review: patient-view warned, the order hooks said "not indicated" without a word
    state = _with_unreadable_medication(S.base(), "MedicationRequest/ndc-only")
    orders = [x.to_json() for x in _order_view(state, "elacestrant")]
    loud = [o for o in orders if o["indicator"] != "info"]
    assert loud and all("Therapy history may be incomplete" in o["detail"] for o in loud)
    assert all("MedicationRequest/ndc-only" in o["detail"] for o in loud)
    quiet = [x.to_json() for x in _order_view(S.base(), "elacestrant")]
    assert not any("Therapy history may be incomplete" in o["detail"] for o in quiet)


@pytest.mark.parametrize("sex", ["unknown", "other"])
def test_a_premenopausal_patient_whose_sex_is_not_recorded_as_female_still_needs_ovarian_suppression(sex):
    # factors review A4: a documented premenopausal status means functioning ovaries (C.3 row 15)
    state = S.factors(S.base(), sex=sex, menopausal_status="premenopausal",
                      menopausal_basis="observation", menopausal_sources=S.src("Observation/meno"))
    ai = card(cards_for(state), "ai-cdk46i")
    assert ai["indicator"] == "warning"
    assert "ovarian function suppression" in ai["detail"]
    assert any("goserelin" in " ".join(d.lower() for d in drugs) for drugs in suggestion_drugs(ai))


# --- the recommended suggestion never carries a "should not be started" caution (review #2, #3, #7) ----

def _no_recommended(c):
    return [s["label"] for s in c.get("suggestions", []) if s.get("isRecommended")] == []


def test_qtc_450_or_more_leaves_the_ribociclib_only_fulvestrant_card_without_a_recommended_order_and_says_why():
    from mappings.state import LabValue
    state = S.factors(S.base(), qtc_ms=LabValue(value=470, date=dt.date(2026, 10, 1), sources=S.src("Observation/ecg")))
    fulv = card(cards_for(state), "fulvestrant-cdk46i")
    # endocrine-naive first line: ribociclib is fulvestrant's only labelled partner (B.9), still offered
    assert suggestion_drugs(fulv) == [["fulvestrant", "ribociclib"]]
    assert _no_recommended(fulv)
    assert fulv["indicator"] == "warning"
    assert "not recommended: QTc >= 450 ms" in fulv["summary"]
    why_not = fulv["detail"].split("**No order on this card is recommended for this patient now**")[1].split("**Cautions")[0]
    assert "ribociclib should not be started" in why_not and "QTc 470 ms" in why_not
    assert "not offered to this patient" in why_not  # abemaciclib/palbociclib: not labelled here


def _ild_on(state, day, grade=2, symptomatic=True):
    return S.factors(state, lung=S.LungDisease(ild_history=True, grade=grade, symptomatic=symptomatic,
                                               sources=S.src("Condition/ild", day)))


def test_ild_that_began_on_abemaciclib_names_the_drug_and_date_and_another_cdk46i_partner_is_recommended():
    # line 1 letrozole + abemaciclib 2022-01-01 to 2023-01-01; ILD 2022-10-01
    state = _ild_on(S.with_lines(S.base(), ("letrozole", "abemaciclib")), dt.date(2022, 10, 1))
    fulv = card(cards_for(state), "fulvestrant-cdk46i")
    assert "abemaciclib" not in recommended(fulv)  # postMONARCH would have put it first (prefer_when)
    assert "ILD began on abemaciclib" in fulv["summary"]
    line = [x for x in fulv["detail"].splitlines() if x.startswith("- ⚠️ Fulvestrant + abemaciclib:")][0]
    assert "ILD/pneumonitis, grade 2, symptomatic diagnosed 2022-10-01, during abemaciclib (2022-01-01 to 2023-01-01)" in line
    assert "Condition/ild (2022-10-01)" in line and "MedicationStatement/line1" in line
    assert "permanently discontinue treatment in patients with severe ILD" in line and "UNVERIFIED" in line
    assert suggestion_drugs(fulv)[-1] == ["fulvestrant", "abemaciclib"]  # still offered, last


def test_the_ild_history_names_only_anticancer_drugs_it_began_on_not_metformin_goserelin_or_denosumab():
    from mappings.state import Drug, Exposure, Source
    state = _ild_on(S.with_lines(S.base(), ("letrozole", "palbociclib"), active_last=True), dt.date(2022, 6, 1))
    others = [Exposure(drugs=[Drug(name=n, drug_class=c)], start=dt.date(2019, 1, 1), active=True, setting="unknown",
                       sources=[Source(reference=f"MedicationStatement/{n}")])
              for n, c in (("metformin", "antihyperglycemic"), ("goserelin", "ovarian-suppression"),
                           ("denosumab", "bone-agent"))]
    state = state.model_copy(update={"therapy": state.therapy.model_copy(
        update={"exposures": [*state.therapy.exposures, *others]})})
    ild = [x for x in cards_for(state)[0]["detail"].splitlines() if "ILD/pneumonitis history" in x]
    assert ild and all("(began during or <= 30 days after: letrozole, palbociclib)" in x for x in ild)


def test_ild_within_30_days_after_the_last_dose_counts_as_begun_on_the_drug_and_later_ild_does_not():
    lines = S.with_lines(S.base(), ("letrozole", "abemaciclib"))  # abemaciclib ended 2023-01-01
    soon = card(cards_for(_ild_on(lines, dt.date(2023, 1, 20))), "fulvestrant-cdk46i")
    assert "ILD began on abemaciclib" in soon["summary"] and "judgement call" in soon["detail"]
    later = card(cards_for(_ild_on(lines, dt.date(2023, 3, 1))), "fulvestrant-cdk46i")
    assert "ILD began on" not in later["summary"] and recommended(later) == ["fulvestrant", "abemaciclib"]


def test_ild_that_began_on_adjuvant_palbociclib_leaves_the_inavolisib_triplet_without_a_recommended_order():
    state = S.with_lines(S.base(), early=(("letrozole", "palbociclib"),), adjuvant_endocrine_end=dt.date(2020, 1, 1),
                         months_from_adjuvant_endocrine_end_to_metastasis=6.0, endocrine_resistance="secondary")
    state = state.model_copy(update={"disease": state.disease.model_copy(update={"de_novo_metastatic": False})})
    state = _ild_on(S.with_variants(state, S.variant("PIK3CA", "p.H1047R")), dt.date(2019, 6, 1))
    ina = card(cards_for(state), "inavolisib-palbociclib-fulvestrant")
    assert _no_recommended(ina) and ina["suggestions"]
    assert "not recommended: ILD began on palbociclib" in ina["summary"]
    assert "during palbociclib (2015-01-01 to 2020-01-01)" in ina["detail"]


def _crisis(state):
    d = state.disease.model_copy(update={"visceral_crisis": True,
                                         "visceral_crisis_sources": S.src("Condition/crisis", dt.date(2026, 10, 28))})
    return state.model_copy(update={"disease": d})


def test_visceral_crisis_puts_a_chemotherapy_first_caution_on_every_endocrine_card_and_recommends_none_of_them():
    cards = cards_for(_crisis(S.base()))
    assert regimen_topics(cards)[0] == "chemotherapy"
    assert recommended(card(cards, "chemotherapy"))
    for topic in ("ai-cdk46i", "fulvestrant-cdk46i"):
        c = card(cards, topic)
        assert _no_recommended(c) and c["suggestions"], topic
        assert "not recommended: visceral crisis" in c["summary"] and c["indicator"] == "warning"
        assert ("Visceral crisis documented: chemotherapy first; endocrine-based therapy after stabilisation "
                "(C.2 step 2)") in c["detail"]
        assert "Visceral crisis asserted by a clinician, documented 2026-10-28 — Condition/crisis (2026-10-28)" in c["detail"]


def test_visceral_crisis_after_progression_recommends_no_endocrine_based_order_either():
    state = _crisis(S.with_variants(progressed(), S.variant("ESR1", "p.D538G", specimen="ctdna")))
    cards = cards_for(state)
    assert regimen_topics(cards)[0] == "chemotherapy"
    endocrine = [c for c in cards if c["source"]["topic"]["code"] in
                 {"elacestrant", "imlunestrant", "fulvestrant", "fulvestrant-cdk46i", "everolimus-exemestane"}]
    assert endocrine
    for c in endocrine:
        assert _no_recommended(c) and "visceral crisis" in c["summary"], c["summary"]


# --- "Not excluded" lines say why the exclusion does not apply (review #13) -----------------

def test_early_relapse_after_adjuvant_tamoxifen_is_shown_as_not_an_ai_not_as_a_reason_the_ai_card_fits():
    ai = card(cards_for(S.adjuvant_relapse(S.base(), 3, drug="tamoxifen")), "ai-cdk46i")
    line = [x for x in ai["detail"].splitlines() if x.startswith("- Not excluded")][0]
    assert line.startswith("- Not excluded: Early relapse after adjuvant endocrine therapy does not exclude an "
                           "aromatase inhibitor here: the adjuvant therapy was tamoxifen, not an aromatase inhibitor")
    assert "(no adjuvant AI documented)" not in ai["detail"]


def test_tdxd_after_asymptomatic_ild_says_the_ild_is_not_symptomatic_not_just_ild_history():
    state = _ild_on(progressed(), dt.date(2025, 2, 5), grade=1, symptomatic=False)
    tdxd = card(cards_for(state), "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "warning" and "do not start" not in tdxd["summary"]
    assert "Patient: ILD/pneumonitis history, grade 1, asymptomatic, diagnosed 2025-02-05" in tdxd["detail"]
