"""Genomic classes the sources do not act on, and genomic report conclusions, read through the
whole pipeline (FHIR resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, ordered_tests, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run

_NOT_ACTED_ON = ("a class the reference does not act on (pathogenic or likely pathogenic, reference C.2 step 1; "
                 "the PARP inhibitor labels' 'deleterious or suspected deleterious', B.6 / B.7)")


def _summary(cards) -> str:
    return card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("words, said", [
    ("germline BRCA2 c.5946delT, suspected pathogenic", "suspected pathogenic"),
    ("germline BRCA2 c.5946delT likely deleterious", "likely deleterious"),
    # the hedge in brackets: quoted with its bracket left open ('deleterious (suspected')
    ("germline BRCA2 c.5946delT, deleterious (suspected)", "deleterious (suspected)"),
])
def test_a_germline_brca2_classed_suspected_pathogenic_or_likely_deleterious_is_named_with_its_class_and_offers_no_parp_inhibitor(
        words, said):
    # neither an ACMG class (CR C.2 step 1) nor the labels' "deleterious or suspected deleterious"
    # (B.6 / B.7): no call, as before, but it was named "the report gives results for BRCA2 and
    # none that is clear for BRCA2", its class unsaid
    p = after_ai_cdk46i("p-class-hedged")
    p._obs("brca", {"text": "BRCA1/2 test"}, "2025-06-01", valueString=words)
    _, cards = run(p)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert (f"BRCA2 result (2025-06-01) unclear: the report classes it '{said}', {_NOT_ACTED_ON} ('{words}')"
            in _summary(cards))
    assert "none that is clear for BRCA2" not in _summary(cards)


@pytest.mark.parametrize("words, said", [
    ("germline BRCA2 c.5946delT deleterious", "deleterious"),
    ("germline BRCA2 c.5946delT: Suspected Deleterious", "suspected deleterious"),
])
def test_a_germline_brca2_classed_deleterious_or_suspected_deleterious_in_words_offers_talazoparib(words, said):
    # the PARP inhibitor labels' classes (CR B.6 / B.7 "deleterious or suspected deleterious
    # gBRCAm"), read as pathogenic and named as written; not the ACMG tiers (Richards 2015)
    p = after_ai_cdk46i("p-class-label-words")
    p._obs("brca", {"text": "BRCA1/2 test"}, "2025-06-01", valueString=words)
    _, cards = run(p)
    assert "talazoparib" in topics(cards)
    assert f"BRCA2 c.5946delT detected (germline, {said}, the PARP inhibitor labels' class, 2025-06-01)" in _summary(cards)


def test_a_coded_germline_brca2_variant_whose_significance_reads_suspected_deleterious_is_named_as_the_labels_class():
    # CR B.6 / B.7 "deleterious or suspected deleterious gBRCAm": read as pathogenic, but the card
    # said "pathogenic", not the class the report gave
    p = after_ai_cdk46i("p-class-coded-label").variant("BRCA2", origin="germline", specimen="blood",
                                                        significance="Suspected deleterious")
    _, cards = run(p)
    assert ("BRCA2 detected (germline, blood, suspected deleterious, the PARP inhibitor labels' class, 2025-06-01)"
            in _summary(cards))
    assert "talazoparib" in topics(cards)


def test_a_coded_germline_brca2_variant_whose_significance_reads_suspected_pathogenic_names_the_class_not_read():
    # no class read (CR C.2 step 1: P/LP stated only): the summary said "significance not
    # reported" and never what the report gave
    p = after_ai_cdk46i("p-class-coded-hedged").variant("BRCA2", origin="germline", specimen="blood",
                                                         significance="Suspected pathogenic")
    _, cards = run(p)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert (f"BRCA2 variant (2025-06-01) classification not read: the report classes it 'suspected pathogenic', "
            f"{_NOT_ACTED_ON}") in _summary(cards)


# --- a genomics DiagnosticReport's conclusion ---------------------------------------------------

LOINC = "http://loinc.org"


def _report(p, pid: str, results: tuple[str, ...] = (), **said):
    """A genomics DiagnosticReport (CR A.2: 51969-4) with `said` (conclusion / conclusionCode)."""
    return p.add({"resourceType": "DiagnosticReport", "id": "dr-1", "status": "final",
                  "subject": {"reference": f"Patient/{pid}"},
                  "code": {"coding": [{"system": LOINC, "code": "51969-4", "display": "Genetic analysis report"}]},
                  "effectiveDateTime": "2025-06-01",
                  "result": [{"reference": f"Observation/{r}"} for r in results], **said})


@pytest.mark.parametrize("said", [{"conclusion": "PIK3CA p.H1047R detected; ESR1 not detected"},
                                  {"conclusionCode": [{"text": "PIK3CA p.H1047R detected"},
                                                      {"text": "No ESR1 mutation detected"}]}])
def test_a_genomic_report_received_with_only_its_conclusion_is_read_gene_by_gene(said):
    # the conclusion, the report's signed summary (FHIR R4 DiagnosticReport.conclusion /
    # conclusionCode), was named 'not read': every card said PIK3CA and ESR1 untested and both
    # tests were asked again
    _, cards = run(_report(after_ai_cdk46i("p-dr-only"), "p-dr-only", **said))
    detail = _summary(cards)
    assert "PIK3CA p.H1047R detected (significance not reported, 2025-06-01) — DiagnosticReport/dr-1" in detail
    assert "ESR1 not detected (2025-06-01) — DiagnosticReport/dr-1" in detail
    assert "capivasertib-fulvestrant" in topics(cards)
    assert "test-pik3ca-akt1-pten" not in ordered_tests(cards)
    assert "test-esr1" not in ordered_tests(cards)
    assert "was received with a conclusion" not in detail


def test_a_genomic_reports_own_result_observation_wins_over_its_conclusion_for_that_gene():
    # the conclusion is read only for the genes none of the report's results gives: ESR1 stays the
    # result Observation's negative, PIK3CA (in the conclusion alone) is read
    p = after_ai_cdk46i("p-dr-results")
    p._obs("esr1", {"text": "ESR1 ctDNA test"}, "2025-06-01", valueString="ESR1 not detected")["id"] = "o-esr1"
    _, cards = run(_report(p, "p-dr-results", ("o-esr1",),
                           conclusion="ESR1 p.D538G detected; PIK3CA p.H1047R detected"))
    detail = _summary(cards)
    assert "ESR1 not detected (plasma ctDNA, 2025-06-01) — Observation/o-esr1" in detail
    assert "ESR1 p.D538G detected (" not in detail
    # the conclusion saying otherwise is named beside it
    assert ("ESR1: the genomic report's conclusion (2025-06-01) says detected ('ESR1 p.D538G detected; PIK3CA "
            "p.H1047R detected'), its result Observation says not detected: the Observation is read") in detail
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "PIK3CA p.H1047R detected (significance not reported, 2025-06-01) — DiagnosticReport/dr-1" in detail


# --- words of one result --------------------------------------------------------------------------

def _named_result(pid: str, name: str, words: str):
    p = after_ai_cdk46i(pid)
    p._obs("g", {"text": name}, "2025-06-01", valueString=words)
    return run(p)[1]


def test_a_germline_brca2_variant_with_a_relative_alone_in_brackets_is_unclear_and_offers_no_parp_inhibitor():
    # "(mother)": the mother's variant, or one the patient shares? Read as the patient's germline
    # variant, talazoparib was offered (FHIR R4 FamilyMemberHistory: a relative's result is not hers)
    cards = _named_result("p-rel-bracket", "BRCA1/2 germline test", "germline BRCA2 pathogenic variant (mother)")
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert "BRCA2 detected" not in _summary(cards)
    assert "BRCA2 result (2025-06-01) unclear" in _summary(cards)
    assert "test-germline-brca" in ordered_tests(cards)


def test_a_germline_brca2_variant_written_maternal_is_still_the_patients_and_offers_talazoparib():
    cards = _named_result("p-rel-maternal", "BRCA2 germline test", "BRCA2 c.5946delT pathogenic (maternal)")
    assert "BRCA2 c.5946delT detected (germline, pathogenic, 2025-06-01)" in _summary(cards)
    assert "talazoparib" in topics(cards)


@pytest.mark.parametrize("name, words, gene, regimen", [
    ("PIK3CA mutation analysis", "E545K (VAF 2%)", "PIK3CA", "alpelisib-fulvestrant"),
    ("PIK3CA mutation analysis", "PIK3CA: E545K (VAF 2%)", "PIK3CA", "alpelisib-fulvestrant"),
    ("AKT1 mutation analysis", "AKT1 E17K", "AKT1", "capivasertib-fulvestrant"),
])
def test_a_hotspot_change_written_alone_in_its_short_form_is_the_variant_found(name, words, gene, regimen):
    # "p.E545K" alone was read as found, "E545K" alone was 'unclear' and the test asked again
    cards = _named_result("p-short-change", name, words)
    assert f"{gene} detected (significance not reported, 2025-06-01)" in _summary(cards)
    assert regimen in topics(cards)
    assert "test-pik3ca-akt1-pten" not in ordered_tests(cards)


def test_another_genes_short_form_change_under_an_esr1_test_is_no_esr1_variant():
    cards = _named_result("p-short-kras", "ESR1 mutation analysis", "KRAS G12D")
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "ESR1 result (2025-06-01) unclear: 'ESR1 mutation analysis' reads 'KRAS G12D'" in _summary(cards)


@pytest.mark.parametrize("name, words, regimen", [
    ("ESR1 mutation analysis", "ESR1 D538G detected in ctDNA; tissue negative", "elacestrant"),
    ("ESR1 mutation analysis", "ESR1 not detected in ctDNA; p.D538G detected in tissue", "elacestrant"),
    ("PIK3CA mutation analysis", "PIK3CA not detected in plasma; H1047R detected in tissue", "alpelisib-fulvestrant"),
])
def test_a_variant_found_in_one_specimen_and_negative_in_another_is_the_variant_found(name, words, regimen):
    # named 'unclear: both that ESR1 carries a variant and that it is negative' (or read negative):
    # a mutation in tissue or ctDNA counts (CR C.2 step 3), a ctDNA negative is no wild type (C.3 row 2)
    cards = _named_result("p-two-specimens", name, words)
    assert regimen in topics(cards)
    assert "unclear" not in _summary(cards)


def test_a_variant_found_and_a_negative_naming_no_other_specimen_stay_unclear():
    cards = _named_result("p-two-specimens-same", "ESR1 mutation analysis", "ESR1 D538G detected in ctDNA; ESR1 not detected")
    assert "elacestrant" not in topics(cards)
    assert "ESR1 result (2025-06-01) unclear: the report says both that ESR1 carries a variant" in _summary(cards)


# --- results skipped without a word ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["Tumour mutation panel", "Hotspot panel"])
def test_a_gene_result_under_a_method_named_mutation_panel_is_named_not_skipped_in_silence(name):
    # no card said a word of it while the PIK3CA/AKT1/PTEN test was asked again
    cards = _named_result("p-mutation-panel", name, "AKT1 E17K")
    assert f"AKT1 result (2025-06-01) not read: '{name}' names no gene tested, its value reads 'AKT1 E17K'" \
        in _summary(cards)


@pytest.mark.parametrize("code, display", [("81247-9", "Master HL7 genetic variant reporting panel"),
                                           ("48018-6", "Gene studied [ID]")])
def test_an_observation_coded_as_a_genomic_report_or_gene_studied_is_named_not_skipped_in_silence(code, display):
    p = after_ai_cdk46i("p-report-coded")
    gene = {"coding": [{"system": "http://www.genenames.org", "code": "HGNC:8975", "display": "PIK3CA"}]}
    present = {"coding": [{"system": LOINC, "code": "LA9633-4", "display": "Present"}]}
    if code == "48018-6":
        p._obs("g", {"coding": [{"system": LOINC, "code": code, "display": display}]}, "2025-06-01",
               valueCodeableConcept=gene)
    else:
        p._obs("g", {"coding": [{"system": LOINC, "code": code, "display": display}]}, "2025-06-01",
               valueCodeableConcept=present,
               component=[{"code": {"coding": [{"system": LOINC, "code": "48018-6"}]}, "valueCodeableConcept": gene}])
    _, cards = run(p)
    assert (f"PIK3CA result (2025-06-01) not read: the Observation is coded LOINC {code} ({display}), a genomic "
            "report or gene-studied code, not a variant result (69548-6)") in _summary(cards)
    assert "test-pik3ca-akt1-pten" in ordered_tests(cards)


def test_a_report_named_for_its_product_but_categorised_genetics_has_its_conclusion_read():
    # "FoundationOne CDx report" names no gene test: its conclusion was skipped without a word; the
    # category GE (HL7 v2-0074 Genetics; mCODE GenomicsReport) says it is a genomics report
    p = after_ai_cdk46i("p-dr-ge").add({
        "resourceType": "DiagnosticReport", "id": "dr-1", "status": "final", "subject": {"reference": "Patient/p-dr-ge"},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "GE"}]}],
        "code": {"text": "FoundationOne CDx report"}, "effectiveDateTime": "2025-06-01",
        "conclusion": "PIK3CA p.E545K detected"})
    _, cards = run(p)
    # (FoundationOne CDx: tissue, CR B.15)
    assert "PIK3CA p.E545K detected (tissue, significance not reported, 2025-06-01) — DiagnosticReport/dr-1" in _summary(cards)
    assert "alpelisib-fulvestrant" in topics(cards)


def test_a_cancelled_genomic_reports_conclusion_is_not_read():
    # R4 DiagnosticReportStatus cancelled: the measurement was not started or not completed
    p = after_ai_cdk46i("p-dr-cancelled")
    _, cards = run(_report(p, "p-dr-cancelled", conclusion="PIK3CA p.H1047R detected"))
    p.resources[-1]["status"] = "cancelled"
    _, cards = run(p)
    assert "PIK3CA p.H1047R detected" not in _summary(cards)
    assert "alpelisib-fulvestrant" not in topics(cards)
    assert "test-pik3ca-akt1-pten" in ordered_tests(cards)


def test_a_genomic_observation_of_the_reports_date_not_linked_to_it_wins_over_its_conclusion():
    # the report's result sent without DiagnosticReport.result pointing to it: read twice, the
    # conclusion's ESR1 variant beside the Observation's ESR1 negative offered elacestrant
    p = after_ai_cdk46i("p-dr-unlinked").variant("ESR1", detected=False)
    _, cards = run(_report(p, "p-dr-unlinked", conclusion="ESR1 p.D538G detected"))
    detail = _summary(cards)
    assert "ESR1 p.D538G detected (" not in detail
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert ("ESR1: the genomic report's conclusion (2025-06-01) says detected ('ESR1 p.D538G detected'), its result "
            "Observation says not detected: the Observation is read") in detail


def test_an_esr1_change_found_beside_another_change_absent_both_in_the_short_form_is_esr1_detected():
    # "Y537S not detected" won over "D538G detected" (only p. / c. changes counted as named):
    # elacestrant withheld on an ESR1 D538G variant (CR C.2: a detected ESR1 mutation selects it)
    cards = _named_result("p-short-two", "ESR1 mutation analysis", "ESR1 Y537S not detected, D538G detected")
    assert "ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)
    assert "elacestrant" in topics(cards)


@pytest.mark.parametrize("words", ["Germline BRCA1/2: no pathogenic variants. Family history of BRCA2 mutation (sister).",
                                   "BRCA1/2 negative; mother BRCA2 carrier"])
def test_a_germline_brca_negative_beside_a_relatives_brca2_variant_is_the_patients_negative(words):
    # the relative's clause (no result of hers) left BRCA2 unclear: 'Germline BRCA2 not tested',
    # the germline test asked again after a negative germline BRCA1/2 test (CR C.3 row 7)
    cards = _named_result("p-rel-negative", "BRCA1/2 germline test", words)
    assert "BRCA2 not detected (germline, 2025-06-01)" in _summary(cards)
    assert "test-germline-brca" not in ordered_tests(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


@pytest.mark.parametrize("words, shown, regimen", [
    ("ESR1 mut", "ESR1 detected (significance not reported, 2025-06-01)", "elacestrant"),
    ("ESR1: neg", "ESR1 not detected (2025-06-01)", None),
])
def test_the_short_forms_mut_and_neg_are_read_as_written(words, shown, regimen):
    # both were named unclear and the ESR1 test asked again
    cards = _named_result("p-abbrev", "ESR1 mutation analysis", words)
    assert shown in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)
    if regimen:
        assert regimen in topics(cards)


# --- short forms negated or hedged, and another gene's short-form change (read-through rt48) ------

@pytest.mark.parametrize("words", ["ESR1 not mut", "ESR1 non-mut", "ESR1: no mut", "ESR1 no mut detected",
                                   "ESR1 mut ruled out", "mut ESR1 excluded", "ESR1 not pos",
                                   "ESR1 not mutated", "ESR1 non-mutated"])
def test_a_negated_short_form_mut_or_pos_is_an_esr1_negative_and_offers_no_elacestrant(words):
    # "mut" / "pos" were read as a finding wherever they stood: "ESR1 not mut", "ESR1: no mut" read
    # ESR1 detected and elacestrant / imlunestrant offered (CR C.2 step 3 / B.2 / B.3: an ESR1
    # mutation detected). Written out ("no mutation", "mutation ruled out") they read negative
    cards = _named_result("p-short-negated", "ESR1 mutation analysis", words)
    assert "ESR1 not detected (2025-06-01)" in _summary(cards)
    assert "ESR1 detected" not in _summary(cards)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))


@pytest.mark.parametrize("words", ["ESR1 mut?", "ESR1: pos?", "ESR1 possible mut", "ESR1 mut status unknown",
                                   "ESR1 mutation?", "ESR1 mutation status unknown"])
def test_a_hedged_short_form_or_a_status_unknown_is_an_unclear_esr1_result_and_offers_no_elacestrant(words):
    # read as ESR1 detected, elacestrant offered on a question mark (CR C.2 step 3: a result that is
    # not clear is no result): named unclear and the ESR1 test asked again
    cards = _named_result("p-short-hedged", "ESR1 mutation analysis", words)
    assert "ESR1 detected" not in _summary(cards)
    assert "ESR1 result (2025-06-01) unclear" in _summary(cards)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "test-esr1" in ordered_tests(cards)


def test_another_genes_short_form_change_found_beside_an_esr1_negative_leaves_esr1_negative():
    # "KRAS G12D detected" counted as a change of ESR1 found: ESR1 named unclear ("both that ESR1
    # carries a variant and that it is negative") and the ESR1 test asked again after a negative
    cards = _named_result("p-short-kras-negative", "ESR1 mutation analysis", "KRAS G12D detected; ESR1 not detected")
    assert "ESR1 not detected (2025-06-01)" in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)


# --- the date of a result read from a report's conclusion: ESR1 current at progression -------------

def _esr1_report_with_specimens(pid: str, specimens: list[dict], contained: list[dict] | None = None):
    """after_ai_cdk46i progressed 2025-05-15 (line ended 2025-05-20); the report is dated after it,
    its specimens were collected before it."""
    p = after_ai_cdk46i(pid)
    for sp in specimens:
        p.add({"resourceType": "Specimen", "subject": {"reference": f"Patient/{pid}"}, **sp})
    report = {"resourceType": "DiagnosticReport", "id": "dr-1", "status": "final",
              "subject": {"reference": f"Patient/{pid}"},
              "code": {"coding": [{"system": LOINC, "code": "51969-4", "display": "Genetic analysis report"}]},
              "effectiveDateTime": "2025-06-10", "conclusion": "ESR1 p.D538G detected",
              "specimen": [{"reference": f"Specimen/{sp['id']}"} for sp in specimens]
              + [{"reference": f"#{sp['id']}"} for sp in contained or []]}
    if contained:
        report["contained"] = contained
    return run(p.add(report))[1]


def test_an_esr1_conclusion_whose_contained_specimen_was_collected_before_progression_is_not_current():
    # the contained Specimen (FHIR R4 Resource.contained) was not found from the result read, so the
    # report's date (after the progression) was the result's: 'ESR1 result current: yes' on a plasma
    # sample drawn before it (CR C.3 row 18: current only if collected at/after the latest progression)
    cards = _esr1_report_with_specimens("p-dr-contained", [], contained=[
        {"resourceType": "Specimen", "id": "sp-1", "type": {"text": "Plasma ctDNA"},
         "collection": {"collectedDateTime": "2025-04-01"}}])
    assert "ESR1 p.D538G detected (plasma ctDNA, significance not reported, 2025-04-01)" in _summary(cards)
    assert "The latest ESR1 result (2025-04-01) predates the progression" in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)


def test_an_esr1_conclusion_of_two_specimens_both_collected_before_progression_is_not_current():
    # with two specimens the result was dated by the report (after the progression): 'current: yes'
    # though every sample predates it (CR C.3 row 18); now dated by the first collected
    cards = _esr1_report_with_specimens("p-dr-two-specimens", [
        {"id": "sp-1", "type": {"text": "Plasma ctDNA"}, "collection": {"collectedDateTime": "2025-04-01"}},
        {"id": "sp-2", "type": {"text": "Tumour tissue"}, "collection": {"collectedDateTime": "2025-04-02"}}])
    assert "The latest ESR1 result (2025-04-01) predates the progression" in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)


def test_an_esr1_conclusion_of_two_specimens_collected_after_progression_stays_current():
    cards = _esr1_report_with_specimens("p-dr-two-after", [
        {"id": "sp-1", "type": {"text": "Plasma ctDNA"}, "collection": {"collectedDateTime": "2025-06-01"}},
        {"id": "sp-2", "type": {"text": "Tumour tissue"}, "collection": {"collectedDateTime": "2025-06-02"}}])
    assert "ESR1 p.D538G detected (significance not reported, 2025-06-01)" in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)
    assert "elacestrant" in topics(cards)


@pytest.mark.parametrize("words", ["Negative for PIK3CA, ESR1 D538G detected",
                                   "Negative for PIK3CA, positive for ESR1 p.D538G"])
def test_a_gene_negative_followed_by_another_genes_change_found_reads_each_gene_on_its_own(words):
    # the comma list was read whole as headed by its negation: ESR1 not detected and elacestrant
    # withheld on a D538G found (CR C.2 step 3: an ESR1 mutation detected selects it). A later piece
    # stating its own change found is no item of the negated list
    _, cards = run(_report(after_ai_cdk46i("p-dr-neg-then-found"), "p-dr-neg-then-found", conclusion=words))
    detail = _summary(cards)
    assert "ESR1 not detected" not in detail
    assert "PIK3CA not detected (2025-06-01)" in detail
    assert "elacestrant" in topics(cards)


def test_a_negation_heading_a_gene_list_closed_by_detected_stays_negative_for_every_gene():
    cards = _named_result("p-neg-list", "BRCA1/2 germline test", "No pathogenic variants in BRCA1, BRCA2 detected")
    assert "BRCA1 not detected (germline, 2025-06-01)" in _summary(cards)
    assert "BRCA2 not detected (germline, 2025-06-01)" in _summary(cards)


@pytest.mark.parametrize("words", ["ER positive", "ER+ (Allred 8/8)", "Oestrogen receptor positive, PR negative"])
def test_a_receptor_status_in_an_esr1_tests_words_is_no_esr1_variant(words):
    # "ER positive" (the oestrogen receptor protein, CR A.1) under an ESR1 test or report read as an
    # ESR1 mutation detected: elacestrant / imlunestrant offered (CR C.2 step 3 needs ESR1-mutated)
    for cards in (_named_result("p-er-words", "ESR1 mutation analysis", words),
                  run(after_ai_cdk46i("p-er-report").add({
                      "resourceType": "DiagnosticReport", "id": "dr-1", "status": "final",
                      "subject": {"reference": "Patient/p-er-report"}, "code": {"text": "ESR1 mutation analysis"},
                      "effectiveDateTime": "2025-06-01", "conclusion": words}))[1]):
        assert "ESR1 detected" not in _summary(cards)
        assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
        assert "test-esr1" in ordered_tests(cards)


@pytest.mark.parametrize("words", ["PTEN loss detected by IHC", "PTEN: loss of protein expression detected"])
def test_pten_loss_by_a_protein_test_written_in_a_genomic_reports_conclusion_offers_no_capivasertib(words):
    # read as a PTEN alteration detected: capivasertib offered, though its label needs a PTEN
    # alteration by an FDA-approved (DNA) test and the reference does not say whether PTEN loss by
    # IHC counts (CR B.5, B.15), as for a test named 'PTEN IHC'
    for cards in (run(_report(after_ai_cdk46i("p-dr-pten-ihc"), "p-dr-pten-ihc", conclusion=words))[1],
                  _named_result("p-pten-ihc-words", "PTEN mutation analysis", words)):
        assert "PTEN detected" not in _summary(cards)
        assert "capivasertib-fulvestrant" not in topics(cards)
        assert "test-pik3ca-akt1-pten" in ordered_tests(cards)


@pytest.mark.parametrize("words, said", [("germline BRCA2 c.5946delT, likely pathogenic?", "likely pathogenic?"),
                                         ("germline BRCA2 c.5946delT pathogenic (?)", "pathogenic?")])
def test_a_class_hedged_by_a_question_mark_is_named_with_its_words(words, said):
    # named "the report classes it 'pathogenic', a class the reference does not act on (pathogenic
    # or likely pathogenic ...)": the hedge that made it unread was cut off the words shown
    cards = _named_result("p-class-question", "BRCA1/2 germline test", words)
    assert f"the report classes it '{said}', {_NOT_ACTED_ON}" in _summary(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


@pytest.mark.parametrize("linked", [True, False])
def test_a_variant_in_a_reports_conclusion_beside_its_region_studied_observation_is_read(linked):
    # a region-studied Observation (53041-0) says which genes were looked at; a gene studied with no
    # variant reported that day is negative. The conclusion reports the variant, yet the region
    # studied counted as the report's result for ESR1: ESR1 not detected, the D538G dropped without a
    # word and elacestrant withheld (CR C.2 step 3)
    p = after_ai_cdk46i("p-dr-region")
    region = p._obs("region", {"coding": [{"system": LOINC, "code": "53041-0"}]}, "2025-06-01", component=[
        {"code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
         "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org", "code": "HGNC:3467",
                                              "display": "ESR1"}]}}])
    _, cards = run(_report(p, "p-dr-region", (region["id"],) if linked else (), conclusion="ESR1 p.D538G detected"))
    detail = _summary(cards)
    assert "ESR1 p.D538G detected (significance not reported, 2025-06-01) — DiagnosticReport/dr-1" in detail
    assert "ESR1 not detected" not in detail
    assert "elacestrant" in topics(cards)
