"""BRCA results written as words (a classification alone, an origin per clause), read through the
whole pipeline (FHIR resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, ordered_tests, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _brca_text(pid: str, words: str, test_name: str = "BRCA1/2 test"):
    p = after_ai_cdk46i(pid)
    p._obs("brca", {"text": test_name}, "2025-06-01", valueString=words)
    return run(p)


def _without_parp(pid: str, words: str, test_name: str = "BRCA1/2 test"):
    """The cards of a BRCA result written `words`, which must offer no PARP inhibitor, and the summary card's detail."""
    _, cards = _brca_text(pid, words, test_name)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    return cards, card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("words, shown", [
    ("germline BRCA1 pathogenic; somatic BRCA2 not detected", "BRCA1 detected (germline, pathogenic, 2025-06-01)"),
    ("germline BRCA1 likely pathogenic; somatic BRCA2 not detected",
     "BRCA1 detected (germline, likely-pathogenic, 2025-06-01)"),
    ("Germline BRCA1: pathogenic", "BRCA1 detected (germline, pathogenic, 2025-06-01)"),
    # CR B.6 / B.7: "deleterious or suspected deleterious gBRCAm" ("suspected" was read as a hedge
    # of the origin)
    ("germline BRCA2 suspected deleterious",
     "BRCA2 detected (germline, suspected deleterious, the PARP inhibitor labels' class, 2025-06-01)"),
    ("germline BRCA2 c.5946delT suspected deleterious variant",
     "BRCA2 c.5946delT detected (germline, suspected deleterious, the PARP inhibitor labels' class, 2025-06-01)"),
    ("germline BRCA2 deleterious mutation",
     "BRCA2 detected (germline, deleterious, the PARP inhibitor labels' class, 2025-06-01)"),
])
def test_a_germline_brca_stated_pathogenic_or_deleterious_without_the_word_detected_is_a_germline_variant_and_offers_the_parp_inhibitor(
        words, shown):
    # "pathogenic" / "deleterious" stated of the gene was no finding: the germline variant was lost,
    # the germline test asked again and talazoparib not offered (CR C.2 step 1, B.7 gBRCAm)
    _, cards = _brca_text("p-brca-path", words)
    assert shown in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)
    assert "test-germline-brca" not in ordered_tests(cards)


@pytest.mark.parametrize("words", ["germline BRCA1 VUS; somatic BRCA2 not detected",
                                   "germline BRCA1 possibly pathogenic",
                                   "germline BRCA1 not pathogenic",
                                   "germline BRCA1 non-pathogenic",
                                   "germline BRCA1 pathogenic: no",
                                   "germline BRCA2 ? pathogenic",
                                   "germline: BRCA1 pathogenic? ; repeat advised",
                                   "Germline BRCA1 pathogenic (suspected)"])
def test_a_brca_classification_that_is_a_vus_negated_or_hedged_is_no_pathogenic_variant_and_offers_no_parp_inhibitor(words):
    _, cards = _brca_text("p-brca-notpath", words)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "detected (germline" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("words", ["germline BRCA2 probably pathogenic", "germline BRCA2 presumed pathogenic",
                                   "germline BRCA2 pathogenic - awaiting confirmation"])
def test_a_germline_brca2_classification_stated_probable_or_awaiting_confirmation_offers_no_parp_inhibitor(words):
    # read as a germline BRCA2 pathogenic variant: talazoparib offered on a provisional result
    _, cards = _brca_text("p-brca-probable", words)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "detected (germline" not in card(cards, "patient-summary")["detail"]
    assert "test-germline-brca" in ordered_tests(cards)


@pytest.mark.parametrize("words", ["BRCA2 c.5946delT pathogenic detected; germline confirmation pending",
                                   "BRCA2 c.5946delT pathogenic variant, germline testing awaited"])
def test_a_brca2_variant_whose_germline_confirmation_is_pending_is_of_unknown_origin_and_offers_no_parp_inhibitor(words):
    # "germline" was read as the variant's origin: talazoparib offered before any germline result
    _, cards = _brca_text("p-brca-pending-germline", words)
    assert "BRCA2 c.5946delT detected (pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "test-germline-brca" in ordered_tests(cards)


def test_a_relatives_brca2_variant_after_a_germline_brca1_negative_offers_no_parp_inhibitor():
    # the per-gene comma list read "BRCA2 pathogenic in mother" as the patient's germline BRCA2
    # variant: talazoparib was offered on the mother's result
    _, cards = _brca_text("p-brca-mother", "germline BRCA1 negative, BRCA2 pathogenic in mother")
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "BRCA2 detected" not in card(cards, "patient-summary")["detail"]


def test_a_tumour_brca2_stated_pathogenic_is_a_variant_of_unknown_origin_and_still_asks_for_the_germline_test():
    _, cards = _brca_text("p-brca-tumour-path", "tumor BRCA2 pathogenic")
    assert "BRCA2 detected (pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "test-germline-brca" in ordered_tests(cards)


@pytest.mark.parametrize("words", ["Germline BRCA1/2: no pathogenic variant detected, somatic BRCA2: VUS",
                                   "No germline BRCA1/2 mutation",
                                   "No germline BRCA mutation",
                                   # a comma inside a gene list or a variant splits no origins
                                   "BRCA1, BRCA2 germline negative; somatic BRCA2 detected",
                                   "Germline BRCA1, BRCA2: negative; somatic BRCA2 c.5946delT, p.Ser1982fs detected"])
def test_a_germline_negative_opening_with_no_or_listing_its_genes_is_the_germline_test_done_and_not_asked_again(words):
    # the "no" of the result was taken for a hedge of the origin: the negative had no origin and
    # the germline test was asked again (CR C.3 row 7); the comma of "BRCA1, BRCA2" or
    # "c.5946delT, p.Ser1982fs" separates no germline and somatic results
    _, cards = _brca_text("p-brca-no", words)
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA1 p." not in detail
    assert "BRCA1 not detected (germline, 2025-06-01)" in detail
    assert "BRCA2 not detected (germline, 2025-06-01)" in detail
    assert "test-germline-brca" not in ordered_tests(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


@pytest.mark.parametrize("words, shown", [
    ("BRCA2 detected, germline negative", "BRCA2 detected (significance not reported, 2025-06-01)"),
    ("BRCA2 c.5946delT detected; germline BRCA1/2 negative",
     "BRCA2 c.5946delT detected (significance not reported, 2025-06-01)"),
])
def test_a_brca2_finding_before_a_germline_negative_is_a_tumour_variant_not_found_in_germline_testing(words, shown):
    # the finding before the germline clause was lost (read as a germline BRCA2 negative only)
    _, cards = _brca_text("p-brca-before", words)
    detail = card(cards, "patient-summary")["detail"]
    assert shown in detail
    assert "BRCA1 not detected (germline, 2025-06-01)" in detail
    assert "tumour BRCA variant not found in germline testing" in detail
    assert "test-germline-brca" not in ordered_tests(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


def test_a_brca2_variant_not_found_in_germline_is_kept_of_unknown_origin_and_the_germline_test_still_asked():
    # "not found in germline" speaks of this variant, not of a germline BRCA1/2 test: the variant
    # was lost and a germline BRCA2 negative read in its place
    _, cards = _brca_text("p-brca-notfound", "BRCA2 c.5946delT detected, not found in germline")
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA2 c.5946delT detected (significance not reported, 2025-06-01)" in detail
    assert "BRCA2 not detected (germline" not in detail
    assert "test-germline-brca" in ordered_tests(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


def test_a_germline_brca2_finding_after_a_brca1_negative_is_germline_and_offers_the_parp_inhibitor():
    _, cards = _brca_text("p-brca-after", "BRCA1 not detected; germline BRCA2 pathogenic")
    assert "BRCA2 detected (germline, pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)


@pytest.mark.parametrize("words", ["family history of BRCA1 pathogenic variant", "Mother: BRCA2 carrier",
                                   "BRCA2 pathogenic variant in mother", "BRCA1 pathogenic, carried by her sister",
                                   # the plain "found" made the mother's variant the patient's (talazoparib)
                                   "germline BRCA2 deleterious mutation found in mother",
                                   "germline BRCA2 pathogenic variant identified in her sister"])
def test_a_relatives_brca_variant_is_not_the_patients_result_offers_no_parp_inhibitor_and_is_named_unclear(words):
    # "family history of BRCA1 pathogenic variant" was read as the patient's BRCA1 variant
    cards, detail = _without_parp("p-brca-family", words)
    assert " detected (" not in detail
    assert "result (2025-06-01) unclear" in detail
    assert "test-germline-brca" in ordered_tests(cards)


@pytest.mark.parametrize("words", ["Germline negative. BRCA2 c.5946delT pathogenic variant",
                                   "Germline BRCA1/2 negative. BRCA2 c.5946delT pathogenic variant detected"])
def test_a_brca2_variant_after_a_germline_negative_is_not_germline_and_offers_no_parp_inhibitor(words):
    # the clause after "Germline negative" was taken as germline too: talazoparib was offered on a
    # variant the germline test did not find (CR C.3 row 7)
    cards, detail = _without_parp("p-brca-after-neg", words)
    assert "BRCA2 c.5946delT detected (pathogenic, 2025-06-01)" in detail
    assert "BRCA2 not detected (germline, 2025-06-01)" in detail
    assert "test-germline-brca" not in ordered_tests(cards)


def test_a_germline_list_with_brca1_negative_and_brca2_pathogenic_is_still_a_germline_brca2_variant():
    _, cards = _brca_text("p-brca-list", "Germline BRCA1: negative; BRCA2: c.5946delT pathogenic")
    assert "BRCA2 c.5946delT detected (germline, pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)


@pytest.mark.parametrize("words, shown", [
    ("Germline: BRCA1 negative, BRCA2 c.5946delT pathogenic detected",
     "BRCA2 c.5946delT detected (germline, pathogenic, 2025-06-01)"),
    ("germline BRCA1 c.68_69delAG pathogenic, BRCA2 c.5946delT VUS",
     "BRCA1 c.68_69delAG detected (germline, pathogenic, 2025-06-01)"),
])
def test_a_comma_list_of_one_result_per_gene_gives_each_gene_its_own_result(words, shown):
    # read whole, the list gave every gene the first call (negative) or significance (VUS) found:
    # the germline pathogenic variant was lost and talazoparib not offered
    _, cards = _brca_text("p-brca-list-comma", words)
    assert shown in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)


@pytest.mark.parametrize("words", ["No pathogenic variants in BRCA1, BRCA2 detected",
                                   "Not detected: BRCA1 c.68_69delAG, BRCA2 c.5946delT"])
def test_a_negation_over_a_comma_list_of_genes_stays_a_negative_for_each(words):
    _, cards = _brca_text("p-brca-neg-list", words)
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA1 not detected (2025-06-01)" in detail and "BRCA2 not detected (2025-06-01)" in detail
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


@pytest.mark.parametrize("words, offered, not_offered", [
    ("ESR1 not detected, PIK3CA p.H1047R detected", "alpelisib-fulvestrant", "elacestrant"),
    ("ESR1 p.D538G, PIK3CA wild-type", "elacestrant", "alpelisib-fulvestrant"),
    ("PIK3CA p.H1047R detected, possible ESR1 mutation", "alpelisib-fulvestrant", "elacestrant"),
])
def test_a_tumour_panel_comma_list_reads_each_gene_for_its_own_result(words, offered, not_offered):
    # read whole, "ESR1 not detected, PIK3CA p.H1047R detected" made both genes negative (no PI3K
    # inhibitor), and "possible ESR1 mutation" beside a PIK3CA finding made ESR1 detected (elacestrant)
    p = after_ai_cdk46i("p-panel-list")
    p._obs("g", {"text": "Tumor mutation panel ESR1 PIK3CA AKT1 sequencing"}, "2025-06-01", valueString=words)
    _, cards = run(p)
    assert offered in topics(cards)
    assert not_offered not in topics(cards)


@pytest.mark.parametrize("words, offered, not_offered", [
    ("PIK3CA p.H1047R detected, ESR1 pathogenic?", "alpelisib-fulvestrant", "elacestrant"),
    ("PIK3CA p.H1047R detected, ESR1 suspected", "alpelisib-fulvestrant", "elacestrant"),
    ("ESR1 p.D538G detected, PIK3CA possibly pathogenic", "elacestrant", "alpelisib-fulvestrant"),
    ("ESR1 p.D538G detected, PIK3CA p.E545K pathogenic in mother", "elacestrant", "alpelisib-fulvestrant"),
])
def test_a_gene_hedged_in_its_own_piece_of_a_panel_comma_list_gets_no_card_from_the_other_genes_finding(
        words, offered, not_offered):
    # read whole, the hedged gene took the other gene's finding and p. change ("ESR1 p.H1047R
    # detected"): elacestrant / alpelisib was offered on a hedged result
    p = after_ai_cdk46i("p-panel-hedged")
    p._obs("g", {"text": "Tumor mutation panel ESR1 PIK3CA AKT1 sequencing"}, "2025-06-01", valueString=words)
    _, cards = run(p)
    assert offered in topics(cards)
    assert not_offered not in topics(cards)
    assert "result (2025-06-01) unclear" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("words", ["germline BRCA2 c.5946delT: benign (previously reported pathogenic)",
                                   "germline BRCA2 c.5946delT reclassified from pathogenic to benign"])
def test_a_brca2_variant_no_longer_classified_pathogenic_offers_no_parp_inhibitor(words):
    # the former class was read as the current one: talazoparib offered on a benign variant
    _, cards = _brca_text("p-brca-reclassified", words)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "pathogenic, 2025-06-01" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("words", ["germline BRCA2 c.5946delT pathogenic, previously VUS",
                                   "germline BRCA2 c.5946delT reclassified from VUS to pathogenic"])
def test_a_germline_brca2_variant_reclassified_from_vus_to_pathogenic_is_pathogenic_and_offers_the_parp_inhibitor(words):
    # the former class was read as the class: a VUS, talazoparib withheld and the germline test asked again
    _, cards = _brca_text("p-brca-reclassified", words)
    assert "BRCA2 c.5946delT detected (germline, pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)
    assert "test-germline-brca" not in ordered_tests(cards)


def test_a_germline_brca2_variant_reclassified_down_to_vus_offers_no_parp_inhibitor():
    _, cards = _brca_text("p-brca-downgraded", "germline BRCA2 c.5946delT VUS, previously likely pathogenic")
    # (a guard: the former class set aside must not make the past "likely pathogenic" the class)
    assert "detected (germline, pathogenic" not in card(cards, "patient-summary")["detail"]
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


@pytest.mark.parametrize("words, shown, unclear", [
    ("germline: BRCA1 pathogenic, BRCA2 VUS", "BRCA1 detected (germline, pathogenic, 2025-06-01)", "BRCA2"),
    ("germline: BRCA1 VUS, BRCA2 pathogenic", "BRCA2 detected (germline, pathogenic, 2025-06-01)", "BRCA1"),
])
def test_a_germline_pathogenic_brca_gene_listed_beside_a_vus_in_the_other_is_a_variant_and_offers_the_parp_inhibitor(
        words, shown, unclear):
    # the VUS of one gene was given to the whole list: both genes unclear, talazoparib withheld
    _, cards = _brca_text("p-brca-path-vus", words)
    detail = card(cards, "patient-summary")["detail"]
    assert shown in detail
    assert f"{unclear} result (2025-06-01) unclear" in detail
    assert "talazoparib" in topics(cards)


def test_a_germline_negative_for_brca1_then_brca2_pathogenic_names_brca2_unclear_and_asks_the_germline_test():
    # "negative for BRCA1, BRCA2 pathogenic" was read as negative for both: BRCA2 germline tested
    # negative, the PARP inhibitor withheld without a word. Whether the negative reaches BRCA2 ("...
    # BRCA2 pathogenic [variants]") is not settled by the text: BRCA2 is named unclear
    _, cards = _brca_text("p-brca-neg-for", "Germline: negative for BRCA1, BRCA2 pathogenic")
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA1 not detected (germline, 2025-06-01)" in detail
    assert "BRCA2 not detected" not in detail
    assert "BRCA2 result (2025-06-01) unclear" in detail
    assert "test-germline-brca" in ordered_tests(cards)


def test_a_germline_negative_for_brca1_and_brca2_pathogenic_variants_is_negative_for_both():
    _, cards = _brca_text("p-brca-neg-for-both", "Germline: negative for BRCA1, BRCA2 pathogenic variants")
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA2 not detected (germline, 2025-06-01)" in detail
    assert "test-germline-brca" not in ordered_tests(cards)


@pytest.mark.parametrize("words", ["germline BRCA2 pathogenic variant; daughter tested negative",
                                   "germline BRCA2 pathogenic variant; daughter BRCA1 negative"])
def test_a_daughters_negative_after_the_patients_germline_brca2_variant_is_not_the_patients_brca1_result(words):
    # the daughter's negative was read as the patient's germline BRCA1 negative
    _, cards = _brca_text("p-brca-daughter", words)
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA2 detected (germline, pathogenic, 2025-06-01)" in detail
    assert "BRCA1 not detected" not in detail
    assert "BRCA1 result (2025-06-01) unclear" in detail
    assert "talazoparib" in topics(cards)


@pytest.mark.parametrize("words", ["germline BRCA2 not deleterious", "suspected germline BRCA2 deleterious"])
def test_a_brca2_stated_not_deleterious_or_of_suspected_germline_origin_offers_no_parp_inhibitor(words):
    _, cards = _brca_text("p-brca-not-deleterious", words)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "detected (germline" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("words", ["BRCA2 possibly deleterious", "BRCA2 probably deleterious",
                                   "BRCA2 deleterious (suspected)", "BRCA2 deleterious?", "BRCA2 likely deleterious"])
def test_a_hedged_deleterious_brca2_result_on_a_germline_test_offers_no_parp_inhibitor_and_names_brca2_unclear(words):
    # "deleterious" was read as the labels' class with no hedge: "BRCA2 detected (germline, deleterious,
    # the PARP inhibitor labels' class)" and talazoparib offered. "likely deleterious" is neither the
    # ACMG class (CR C.2 step 1) nor the labels' (CR B.6 / B.7): unclear, not guessed
    cards, detail = _without_parp("p-brca-hedged-del", words, test_name="Germline BRCA1/2 test")
    assert "BRCA2 detected" not in detail
    assert "BRCA2 result (2025-06-01) unclear" in detail
    assert "test-germline-brca" in ordered_tests(cards)


def test_a_patients_germline_brca2_variant_also_found_in_her_mother_stays_hers_and_offers_the_parp_inhibitor():
    _, cards = _brca_text("p-brca-also-mother", "germline BRCA2 pathogenic variant detected; also found in mother")
    assert "BRCA2 detected (germline, pathogenic, 2025-06-01)" in card(cards, "patient-summary")["detail"]
    assert "talazoparib" in topics(cards)


@pytest.mark.parametrize("words", ["BRCA2 possibly pathogenic variant detected", "BRCA2 possibly deleterious variant detected",
                                   "BRCA2 likely deleterious variant detected"])
def test_a_germline_brca2_variant_detected_with_a_hedged_class_asks_the_laboratory_and_offers_no_parp_inhibitor(words):
    # the plain "detected" let the hedged class through as pathogenic: "BRCA2 detected (germline, pathogenic)"
    # and talazoparib offered (CR C.2 step 1: a P/LP class stated)
    _, cards = _brca_text("p-brca-hedged-class", words, test_name="Germline BRCA1/2 test")
    detail = card(cards, "patient-summary")["detail"]
    assert "BRCA2 detected (germline, significance not reported, 2025-06-01)" in detail
    assert "ask the laboratory for the classification" in detail
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
