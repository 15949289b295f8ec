"""The cards as an oncologist reads them: each fact said once, each summary short and
saying the decision, each wording matching the label (clinical-reference.md section B)."""

from tests.cards.helpers import card, not_offered_line
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, adjuvant_relapse, after_ai_cdk46i, de_novo, run


def test_the_palbociclib_survival_caution_is_said_once_on_the_first_line_ai_cdk46i_card_not_once_per_aromatase_inhibitor():
    _, cards = run(de_novo("cr-palbo-once"), FIRST_LINE_AS_OF)
    detail = card(cards, "ai-cdk46i")["detail"]
    assert detail.count("overall survival benefit not shown in PALOMA-2") == 1
    assert "Letrozole + palbociclib: Palbociclib:" not in detail


def test_the_fulvestrant_palbociclib_caution_does_not_name_the_pair_twice():
    _, cards = run(after_ai_cdk46i("cr-fulv-palbo"))
    detail = card(cards, "fulvestrant-cdk46i")["detail"]
    assert "- Palbociclib + fulvestrant: PALOMA-3 OS 34.9 vs 28.0 months" in detail
    assert "Fulvestrant + palbociclib: Palbociclib + fulvestrant" not in detail


def test_the_summary_headline_says_a_brca_variant_is_somatic_so_it_is_not_read_as_a_carrier():
    # CR C.2 step 1, B.6/B.7: only a germline BRCA1/2 variant selects a PARP inhibitor
    _, cards = run(after_ai_cdk46i("cr-sbrca").variant("BRCA1", origin="somatic", specimen="tissue"))
    assert "; somatic BRCA1 detected;" in card(cards, "patient-summary")["summary"]
    _, cards = run(after_ai_cdk46i("cr-gbrca").variant("BRCA2", origin="germline", specimen="blood"))
    assert "; germline BRCA2 detected;" in card(cards, "patient-summary")["summary"]



def test_the_inavolisib_evidence_says_overall_survival_once():
    p = adjuvant_relapse("cr-inavo", "2023-07-01").variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    _, cards = run(p, FIRST_LINE_AS_OF)
    detail = card(cards, "inavolisib-palbociclib-fulvestrant")["detail"]
    assert "OS 34.0 vs 27.0 months at the final analysis, HR 0.67" in detail
    assert "OS final OS" not in detail


def test_the_olaparib_card_of_a_patient_without_a_visceral_crisis_does_not_say_here_a_current_visceral_crisis():
    # B.6: "prior endocrine therapy or be considered inappropriate for endocrine therapy"; the
    # static text read as if this patient had a visceral crisis
    p = (after_ai_cdk46i("cr-olaparib").variant("BRCA2", origin="germline", specimen="blood")
         .med("paclitaxel", "2024-01-20", "2024-01-30"))
    _, cards = run(p)
    detail = card(cards, "olaparib")["detail"]
    assert "(here: a current visceral crisis)" not in detail
    assert "mbc-cds counts only a documented current visceral crisis as ET-inappropriate" in detail


def test_a_one_drug_choice_not_offered_is_not_named_twice():
    _, cards = run(after_ai_cdk46i("cr-eribulin"))
    detail = card(cards, "chemotherapy")["detail"]
    assert "Not offered: Eribulin — No anthracycline documented; no taxane documented;" in detail
    assert "Eribulin — eribulin:" not in detail


def test_the_post_cdk46i_evidence_caution_is_shown_only_after_a_cdk46i_and_names_the_drug_given():
    # B.9: postMONARCH and MAINTAIN are the evidence after a CDK4/6 inhibitor; on a first line
    # without one it sat under "Cautions for this patient" as if one had been given
    _, cards = run(de_novo("cr-no-cdk"), FIRST_LINE_AS_OF)
    assert "postMONARCH (abemaciclib" not in card(cards, "fulvestrant-cdk46i")["detail"]
    _, cards = run(after_ai_cdk46i("cr-after-cdk"))
    detail = card(cards, "fulvestrant-cdk46i")["detail"]
    assert "- After a prior CDK4/6 inhibitor the evidence is postMONARCH" in detail
    assert "Patient: Prior CDK4/6 inhibitor: ribociclib" in detail


def test_the_unverified_ember3_gnrh_note_is_shown_to_a_premenopausal_woman_only():
    # reference Part F #19 (B.3): an open question for premenopausal patients only
    post = after_ai_cdk46i("cr-imlu-post").variant("ESR1", "p.Tyr537Ser", on="2025-06-01")
    _, cards = run(post)
    assert "GnRH agonist in premenopausal patients is UNVERIFIED" not in card(cards, "imlunestrant")["detail"]
    pre = (after_ai_cdk46i("cr-imlu-pre", birth="1980-01-01", menopause="premenopausal")
           .med("goserelin", "2024-01-20").variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    _, cards = run(pre)
    detail = card(cards, "imlunestrant")["detail"]
    assert "- EMBER-3 requirement of a GnRH agonist in premenopausal patients is UNVERIFIED (reference F #19)." in detail


def test_the_summary_headline_of_a_record_without_any_gene_result_says_none_is_documented_not_no_actionable_variant():
    _, cards = run(after_ai_cdk46i("cr-untested"))
    assert "; no genomic result documented;" in card(cards, "patient-summary")["summary"]
    _, cards = run(after_ai_cdk46i("cr-esr1-negative").variant("ESR1", detected=False, on="2025-06-01"))
    assert "; no actionable variant documented;" in card(cards, "patient-summary")["summary"]


def test_the_glycemic_testing_card_names_the_regimens_it_comes_before_once():
    _, cards = run(after_ai_cdk46i("cr-glyc").variant("PIK3CA", "p.His1047Arg", specimen="tissue"))
    detail = card(cards, "test-glycemic")["detail"]
    assert "- Before starting Capivasertib + fulvestrant, Alpelisib + fulvestrant" in detail
    assert "Waiting on this result" not in detail


def test_a_somatic_only_brca_variant_never_tested_in_blood_says_a_germline_result_would_decide_the_parp_inhibitor():
    # C.3 row 7 / ABC4: somatic BRCA is not labelled; ASCO-SSO 2024 (C.1): germline testing decides
    _, cards = run(after_ai_cdk46i("cr-sbrca-open").variant("BRCA1", origin="somatic", specimen="tissue"))
    summary = card(cards, "patient-summary")["detail"]
    line = not_offered_line(summary, "Talazoparib")
    assert ": Somatic-only BRCA variant" in line
    assert line.endswith("; germline BRCA1/2 not tested: a germline pathogenic variant would select a PARP inhibitor")
    assert "germline BRCA1/2 not tested: a germline pathogenic variant" in card(cards, "test-germline-brca")["detail"]


def test_the_trastuzumab_deruxtecan_card_quotes_label_b_as_the_reference_gives_it():
    # clinical-reference.md B.11 Label B (DESTINY-Breast04), quoted as written
    _, cards = run(after_ai_cdk46i("cr-tdxd"))
    detail = card(cards, "trastuzumab-deruxtecan")["detail"]
    assert ('Enhertu label B (DESTINY-Breast04): "…unresectable or metastatic HER2-low (IHC 1+ or IHC 2+/ISH-) '
            "breast cancer, as determined by an FDA-approved test, who have received a prior chemotherapy in "
            "the metastatic setting or developed disease recurrence during or within 6 months of completing "
            'adjuvant chemotherapy."') in detail


def test_a_receptor_never_read_is_shown_as_no_result_read_not_as_a_result_without_its_date():
    from tests.cards.fhir_builder import FhirPatient
    _, cards = run(FhirPatient("cr-no-receptors").primary("2024-01-10").metastasis("bone", "2024-01-15"))
    detail = card(cards, "patient-summary")["detail"]
    assert "- ER: unknown (no result read)" in detail and "- HER2: unknown (no result read)" in detail
    assert "(date unknown)" not in detail


def test_a_somatic_only_brca_variant_beside_a_germline_test_not_final_does_not_say_germline_not_tested():
    # C.3 row 7 / ABC4: somatic BRCA is not labelled; a germline test under way (FHIR
    # preliminary) is done or being done, its final result decides (ASCO-SSO 2024, C.1)
    p = (after_ai_cdk46i("rt19-sbrca-pending").variant("BRCA1", origin="somatic", specimen="tissue")
         .variant("BRCA2", origin="germline", specimen="blood", detected=False, status="preliminary"))
    _, cards = run(p)
    line = not_offered_line(card(cards, "patient-summary")["detail"], "Talazoparib")
    assert ": Somatic-only BRCA variant" in line
    assert "germline BRCA1/2 not tested" not in line
    assert line.endswith("; germline BRCA1 not tested; no final germline BRCA2 result: a germline pathogenic "
                         "variant would select a PARP inhibitor")


def test_the_summary_headline_of_a_record_with_only_a_preliminary_gene_result_says_it_is_not_final_not_no_actionable_variant():
    # a preliminary ESR1 p.Tyr537Ser is not final (FHIR Observation.status): the headline read
    # "no actionable variant documented", as if tested and negative
    p = after_ai_cdk46i("rt19-esr1-prelim").variant("ESR1", "p.Tyr537Ser", status="preliminary")
    _, cards = run(p)
    summary = card(cards, "patient-summary")["summary"]
    assert "; no final genomic result (ESR1 not final);" in summary
    assert "no actionable variant" not in summary


def test_the_elacestrant_order_card_says_the_label_requires_esr1_mutated_disease_and_asco_a_current_result():
    # B.2 label: "ESR1-mutated"; "current" (taken at progression on endocrine therapy) is ASCO
    # 2023 (C.1) as C.3 row 18 reads it: the card credited the label with both
    from tests.cards.test_fhir_scenarios import _ELACESTRANT, _biomarker_card
    p = after_ai_cdk46i("rt19-esr1-old").variant("ESR1", detected=False, on="2024-06-01")
    state, _ = run(p)
    order = _biomarker_card(state, _ELACESTRANT)
    assert order["summary"] == ("Elacestrant: current ESR1 mutation result not documented — label requires "
                                "ESR1-mutated disease; current per ASCO 2023")
    assert order["detail"].startswith(
        "**Elacestrant: the label requires ESR1-mutated disease, and ASCO 2023 a current ESR1 result (taken at "
        "progression on endocrine therapy, C.1; C.3 row 18); none usable is documented.**")
    assert "label requires a current ESR1" not in order["detail"]
