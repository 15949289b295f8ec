"""C.2 step 3 (after progression on ET +/- CDK4/6i) and C.3 rows 2, 4-8, 18, read end to end
from FHIR patients: the options each label allows, and what each card says of them."""

import datetime as dt

from tests.cards.helpers import card, not_offered_line, regimen_topics, suggestion_drugs
from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, de_novo, run


def _cautions(c: dict) -> str:
    detail = c["detail"]
    return detail[detail.index("**Cautions for this patient**"):detail.index("**Evidence**")]


def test_fulvestrant_palbociclib_after_progression_on_palbociclib_says_no_trial_gives_palbociclib_again():
    # B.9: after a CDK4/6 inhibitor the reference cites postMONARCH (abemaciclib) and MAINTAIN
    # (a switch of inhibitor); the palbociclib choice was offered again with no word of it
    _, cards = run(after_ai_cdk46i("st3-palbo-again", cdk="palbociclib"))
    fc = card(cards, "fulvestrant-cdk46i")
    assert suggestion_drugs(fc)[0] == ["fulvestrant", "abemaciclib"]
    assert ["fulvestrant", "palbociclib"] in suggestion_drugs(fc)
    cautions = _cautions(fc)
    assert "Palbociclib again: the reference's evidence after a CDK4/6 inhibitor is postMONARCH" in cautions
    assert "it cites no trial of palbociclib after palbociclib" in cautions
    assert "Patient: Prior palbociclib in line 1: letrozole + palbociclib from 2024-02-01 to 2025-05-20" in cautions
    assert "Ribociclib again" not in cautions and "Abemaciclib again" not in cautions


def test_fulvestrant_cdk46i_after_ribociclib_or_abemaciclib_names_that_inhibitor_given_again():
    _, cards = run(after_ai_cdk46i("st3-ribo-again", cdk="ribociclib"))
    cautions = _cautions(card(cards, "fulvestrant-cdk46i"))
    assert "Ribociclib again: MAINTAIN, the reference's ribociclib evidence after a CDK4/6 inhibitor" in cautions
    assert "Palbociclib again" not in cautions
    _, cards = run(after_ai_cdk46i("st3-abema-again", cdk="abemaciclib"))
    cautions = _cautions(card(cards, "fulvestrant-cdk46i"))
    assert "Abemaciclib again: postMONARCH supports abemaciclib after a CDK4/6 inhibitor" in cautions
    assert "fulvestrant-cdk46i" in regimen_topics(cards)



def test_ai_cdk46i_after_adjuvant_abemaciclib_says_abemaciclib_is_given_again():
    # fix-au2 said "X again" on fulvestrant + CDK4/6i only: after adjuvant abemaciclib + letrozole
    # (monarchE) and an endocrine-sensitive relapse, AI + abemaciclib was offered with no word of
    # the inhibitor given before (B.9: the reference's evidence after a CDK4/6 inhibitor is
    # postMONARCH and MAINTAIN; it cites no trial of abemaciclib after abemaciclib)
    p = (hr_positive_mbc("st3-adj-abema", primary="2016-03-01").med("letrozole", "2016-06-01", "2021-06-01")
         .med("abemaciclib", "2016-06-01", "2018-06-01"))
    _, cards = run(p, dt.date(2024, 2, 1))
    ai = card(cards, "ai-cdk46i")
    assert ["letrozole", "abemaciclib"] in suggestion_drugs(ai)
    cautions = _cautions(ai)
    assert ("Abemaciclib again: the reference cites no trial of abemaciclib after abemaciclib; its evidence after "
            "a CDK4/6 inhibitor is postMONARCH (abemaciclib + fulvestrant, including after an adjuvant CDK4/6 "
            "inhibitor) and MAINTAIN (a switch of inhibitor and of endocrine partner) (B.9).") in cautions
    assert "Patient: Prior abemaciclib" in cautions
    assert "Ribociclib again" not in cautions and "Palbociclib again" not in cautions
    # de novo, no CDK4/6 inhibitor before: not said
    _, cards = run(de_novo("st3-denovo-first"), dt.date(2024, 2, 1))
    assert "again" not in _cautions(card(cards, "ai-cdk46i"))


def test_a_drug_given_only_before_metastatic_disease_is_named_with_its_setting_where_the_card_says_again():
    # the patient fact read "Prior abemaciclib: abemaciclib" (the drug again, no setting) when no
    # metastatic line gave it; the metastatic lines are named with their dates
    p = (hr_positive_mbc("st3-adj-abema-fact", primary="2016-03-01").med("letrozole", "2016-06-01", "2023-06-01")
         .med("abemaciclib", "2016-06-01", "2018-06-01"))
    _, cards = run(p, dt.date(2024, 2, 1))
    cautions = _cautions(card(cards, "fulvestrant-cdk46i"))
    assert "Abemaciclib again: postMONARCH supports abemaciclib after a CDK4/6 inhibitor" in cautions
    assert "Patient: Prior abemaciclib in the adjuvant/neoadjuvant setting (before metastatic disease)" in cautions
    assert "Prior abemaciclib: abemaciclib" not in cautions


def test_a_germline_palb2_variant_with_germline_brca_negative_is_named_where_the_parp_inhibitors_are_declined():
    # C.2 step 3 / C.3 row 7: PALB2 -> no labelled PARP inhibitor, genetics referral; with BRCA1/2
    # tested negative in blood the PALB2 variant stood only in the summary's list of results
    p = (after_ai_cdk46i("st3-palb2").variant("PALB2", "p.Gln775Ter", origin="germline", specimen="blood")
         .variant("BRCA1", detected=False, origin="germline", specimen="blood")
         .variant("BRCA2", detected=False, origin="germline", specimen="blood"))
    _, cards = run(p)
    assert "talazoparib" not in regimen_topics(cards) and "olaparib" not in regimen_topics(cards)
    summary = card(cards, "patient-summary")["detail"]
    assert not_offered_line(summary, "Talazoparib").endswith(
        ": Germline BRCA1/2 tested: no pathogenic variant; PALB2 variant (no labelled PARP "
        "inhibitor, C.3 row 7; genetics referral): PALB2 p.Gln775Ter detected (germline, blood, pathogenic, "
        "2025-06-01)")



def test_a_tumour_palb2_variant_with_germline_brca_negative_and_no_germline_palb2_result_names_germline_testing():
    # C.2 step 3: "Somatic-only BRCA, PALB2 -> no labelled PARPi; recommend germline
    # testing/genetics referral". A tumour PALB2 variant beside germline BRCA1/2 negative was named
    # with no referral (fix-au2 gave it to a germline PALB2 only), though no germline PALB2 result
    # is recorded: whether it is inherited is open
    p = (after_ai_cdk46i("st3-palb2-tumour").variant("PALB2", "p.Gln775Ter", origin="somatic", specimen="tissue")
         .variant("BRCA1", detected=False, origin="germline", specimen="blood")
         .variant("BRCA2", detected=False, origin="germline", specimen="blood"))
    _, cards = run(p)
    assert not_offered_line(card(cards, "patient-summary")["detail"], "Talazoparib").endswith(
        ": Germline BRCA1/2 tested: no pathogenic variant; PALB2 variant (no labelled PARP inhibitor, C.3 row 7; "
        "no germline PALB2 result: germline testing/genetics referral, C.2 step 3): PALB2 p.Gln775Ter detected "
        "(somatic, tissue, pathogenic, 2025-06-01)")
    # germline PALB2 tested negative: the tumour variant is not inherited, no referral for it
    p.variant("PALB2", detected=False, origin="germline", specimen="blood")
    _, cards = run(p)
    line = not_offered_line(card(cards, "patient-summary")["detail"], "Talazoparib")
    assert "PALB2 variant (no labelled PARP inhibitor, C.3 row 7): PALB2 p.Gln775Ter detected (somatic" in line
    assert "referral" not in line

def test_talazoparib_after_first_line_chemotherapy_alone_does_not_claim_it_is_offered_after_endocrine_therapy():
    # the card read "Offered after endocrine therapy in HR+ disease" to a patient who had none:
    # the phase is after a first metastatic line, and the label has no endocrine clause (B.7)
    p = (de_novo("st3-tala-chemo").med("paclitaxel", "2024-02-01", "2024-08-01").progression("2024-07-25")
         .variant("BRCA2", "p.Glu1953Ter", origin="germline", specimen="blood"))
    _, cards = run(p)
    detail = card(cards, "talazoparib")["detail"]
    assert "Offered after endocrine therapy" not in detail
    assert "Offered after a first metastatic line (seed: 'generally after appropriate endocrine use" in detail
    assert "the label has no endocrine-therapy clause, so prior endocrine therapy is not checked" in detail


def _after_elacestrant_then_capivasertib(pid: str):
    """Letrozole + palbociclib, then elacestrant (ESR1), then capivasertib + fulvestrant
    (PIK3CA), each to progression; cards asked 2026-06-01."""
    p = after_ai_cdk46i(pid, cdk="palbociclib").variant("ESR1", "p.Tyr537Ser", on="2025-05-18")
    p.variant("PIK3CA", "p.His1047Arg", on="2025-05-18")
    p.med("elacestrant", "2025-06-01", "2025-11-20").progression("2025-11-15")
    return p.regimen(("capivasertib", "fulvestrant"), "2025-12-01", "2026-05-20").progression("2026-05-15")


def test_imlunestrant_after_progression_on_elacestrant_says_its_trial_came_after_an_aromatase_inhibitor_not_a_serd():
    # B.3: EMBER-3 enrolled after AI +/- CDK4/6i; the switch between oral SERDs is offered (not
    # settled by the reference) but was shown with no word of it
    _, cards = run(_after_elacestrant_then_capivasertib("st3-serd-after-serd"), dt.date(2026, 6, 1))
    assert "imlunestrant" in regimen_topics(cards) and "elacestrant" not in regimen_topics(cards)
    cautions = _cautions(card(cards, "imlunestrant"))
    assert ("After elacestrant: EMBER-3 enrolled patients after an aromatase inhibitor +/- a CDK4/6 inhibitor "
            "(B.3); the reference cites no trial of imlunestrant after another oral SERD.") in cautions
    assert "Patient: Prior elacestrant in line 2: elacestrant from 2025-06-01 to 2025-11-20" in cautions


def test_fulvestrant_cdk46i_after_progression_on_capivasertib_fulvestrant_says_fulvestrant_is_given_again():
    _, cards = run(_after_elacestrant_then_capivasertib("st3-fulv-again"), dt.date(2026, 6, 1))
    cautions = _cautions(card(cards, "fulvestrant-cdk46i"))
    assert "Fulvestrant again: MAINTAIN switched the endocrine partner as well" in cautions
    assert "Patient: Prior fulvestrant in line 3: capivasertib + fulvestrant from 2025-12-01 to 2026-05-20" in cautions
    # not said to a patient who never had fulvestrant
    _, cards = run(after_ai_cdk46i("st3-fulv-naive"))
    assert "Fulvestrant again" not in _cautions(card(cards, "fulvestrant-cdk46i"))


def test_elacestrant_after_progression_on_imlunestrant_says_its_trial_came_after_endocrine_lines_with_a_cdk46i():
    p = after_ai_cdk46i("st3-ela-after-imlu", cdk="palbociclib").variant("ESR1", "p.Tyr537Ser", on="2025-05-18")
    p.med("imlunestrant", "2025-06-01", "2025-11-20").progression("2025-11-15")
    _, cards = run(p, dt.date(2025, 12, 1))
    cautions = _cautions(card(cards, "elacestrant"))
    assert ("After imlunestrant: EMERALD enrolled 1-2 prior endocrine lines including a CDK4/6 inhibitor (B.2); "
            "the reference cites no trial of elacestrant after another oral SERD.") in cautions


def test_alpelisib_for_a_premenopausal_woman_says_solar1_enrolled_only_men_and_postmenopausal_women():
    # B.4: SOLAR-1 "men and postmenopausal women"; label "adults" since 2024-01: offered with OFS
    p = after_ai_cdk46i("st3-alpelisib-premeno", birth="1980-01-01", menopause="premenopausal")
    _, cards = run(p.variant("PIK3CA", "p.His1047Arg", on="2025-06-01"))
    cautions = _cautions(card(cards, "alpelisib-fulvestrant"))
    assert ("SOLAR-1 enrolled men and postmenopausal women only (the label's 2019 wording; \"adults\" since "
            "2024-01): the reference cites no alpelisib trial in premenopausal women.") in cautions
    # a postmenopausal woman is not told
    _, cards = run(after_ai_cdk46i("st3-alpelisib-postmeno").variant("PIK3CA", "p.His1047Arg", on="2025-06-01"))
    assert "SOLAR-1 enrolled men and postmenopausal women only" not in _cautions(card(cards, "alpelisib-fulvestrant"))


def test_imlunestrant_drafted_with_abemaciclib_is_called_trial_evidence_not_labelled_and_no_partner_is_preselected():
    # C.3 row 4: imlunestrant + abemaciclib is "trial data (EMBER-3), not FDA-labelled"; the card
    # spoke only of abemaciclib lacking fulvestrant and pre-selected adding fulvestrant beside
    # imlunestrant
    from cards.knowledge import DRUGS
    from tests.cards.test_fhir_scenarios import _draft, order_cards
    state = after_ai_cdk46i("st3-imlu-abema").variant("ESR1", "p.Tyr537Ser").state(dt.date(2025, 7, 1))
    drafts = [_draft(n, DRUGS[n].drug_class, DRUGS[n].rxnorm) for n in ("imlunestrant", "abemaciclib")]
    cards = [c.to_json() for c in order_cards(state, drafts, None, "order-sign")]
    incomplete = [c for c in cards if c["source"]["topic"]["code"] == "order-incomplete-regimen"]
    assert len(incomplete) == 1
    assert ("- imlunestrant + abemaciclib: trial evidence (EMBER-3, PFS 9.4 vs 5.5 months vs imlunestrant alone), "
            "not FDA-labelled: Inluriyo is labelled as monotherapy (C.3 row 4).") in incomplete[0]["detail"]
    assert not any(s.get("isRecommended") for s in incomplete[0]["suggestions"])
    # abemaciclib drafted alone still gets the partner pre-selected
    cards = [c.to_json() for c in order_cards(state, drafts[1:], None, "order-sign")]
    incomplete = [c for c in cards if c["source"]["topic"]["code"] == "order-incomplete-regimen"]
    assert "imlunestrant + abemaciclib" not in incomplete[0]["detail"]
    assert incomplete[0]["suggestions"][0].get("isRecommended") is True


def test_everolimus_drafted_with_fulvestrant_is_called_off_label_and_exemestane_is_not_preselected_beside_it():
    # C.3 row 8: "mark other partners off-label"; the card said only "drafted without exemestane"
    # and pre-selected adding exemestane beside fulvestrant
    from cards.knowledge import DRUGS
    from tests.cards.test_fhir_scenarios import _draft, order_cards
    state = after_ai_cdk46i("st3-evero-fulv").state(dt.date(2025, 7, 1))
    drafts = [_draft(n, DRUGS[n].drug_class, DRUGS[n].rxnorm) for n in ("everolimus", "fulvestrant")]
    cards = [c.to_json() for c in order_cards(state, drafts, None, "order-sign")]
    incomplete = next(c for c in cards if c["source"]["topic"]["code"] == "order-incomplete-regimen")
    assert "- everolimus + fulvestrant: off-label (C.3 row 8), trial-based (PrECOG 0102" in incomplete["detail"]
    assert not any(s.get("isRecommended") for s in incomplete["suggestions"])
