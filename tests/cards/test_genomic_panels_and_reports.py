"""Genomic results written in shapes other than one Observation per variant: a multi-gene
panel Observation with one component per gene, a genomics DiagnosticReport that carries only a
conclusion, and a test that names "BRCA" without BRCA1 or BRCA2. Each is either read gene by
gene or named on the summary card, never skipped without a word while its test is asked again.

Scenario dates as tests/cards/test_fhir_scenarios.py: progression 2025-05-15, tests after it.
"""

import pytest

from tests.cards.helpers import card, ordered_tests, regimen_topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run

LOINC = "http://loinc.org"
HGNC = "http://www.genenames.org"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _gene(name: str, result: str, hgnc: str | None = None, **extra) -> dict:
    """A panel component: coded by the gene (its name as text, or an HGNC id alone), its result as text."""
    code = {"coding": [{"system": HGNC, "code": hgnc}]} if hgnc else {"text": name}
    return {"code": code, "valueCodeableConcept": {"text": result}, **extra}


def _panel(p, components: list[dict], name: str = "Breast cancer panel", on: str = "2025-06-01", **extra):
    return p.add({"resourceType": "Observation", "id": p._id("panel"), "status": "final",
                  "subject": p._subject(), "code": {"text": name}, "effectiveDateTime": on,
                  "component": components, **extra})


def _summary(cards: list[dict]) -> str:
    return card(cards, "patient-summary")["detail"]


def test_a_breast_cancer_panel_gives_each_gene_component_its_own_result():
    p = _panel(after_ai_cdk46i("gp-panel"), [
        _gene("PIK3CA", "Detected p.H1047R"), _gene("ESR1", "Not detected"),
        _gene("AKT1", "Not detected"), _gene("PTEN", "Not detected")])
    state, cards = run(p)
    assert {(v.gene, v.result) for v in state.biomarkers.results} == {
        ("PIK3CA", "detected"), ("ESR1", "not-detected"), ("AKT1", "not-detected"), ("PTEN", "not-detected")}
    assert regimen_topics(cards)[:2] == ["capivasertib-fulvestrant", "alpelisib-fulvestrant"]
    assert "p.H1047R" in card(cards, "capivasertib-fulvestrant")["detail"]
    assert "test-pik3ca-akt1-pten" not in ordered_tests(cards)
    assert "test-esr1" not in ordered_tests(cards)


def test_a_panel_component_coded_only_by_its_hgnc_id_is_read_for_that_gene():
    p = _panel(after_ai_cdk46i("gp-hgnc"), [_gene("ESR1", "Detected p.D538G", hgnc="HGNC:3467")])
    state, cards = run(p)
    assert regimen_topics(cards)[:2] == ["elacestrant", "imlunestrant"]
    assert "p.D538G" in card(cards, "elacestrant")["detail"]


def test_a_hedged_panel_component_is_named_on_the_summary_and_its_test_is_still_asked():
    p = _panel(after_ai_cdk46i("gp-hedge"), [
        _gene("ESR1", "Possible ESR1 mutation (not confirmed)"), _gene("PIK3CA", "Not detected")])
    state, cards = run(p)
    assert "elacestrant" not in regimen_topics(cards)
    assert "test-esr1" in ordered_tests(cards)
    assert ("PIK3CA", "not-detected") in {(v.gene, v.result) for v in state.biomarkers.results}
    assert "ESR1 result is indeterminate or unreadable (a component of 'Breast cancer panel')" in _summary(cards)


def test_a_panel_component_whose_interpretation_contradicts_its_value_is_not_read():
    neg = {"coding": [{"system": V3_INTERPRETATION, "code": "NEG"}]}
    p = _panel(after_ai_cdk46i("gp-conflict"), [_gene("ESR1", "Detected p.D538G", interpretation=[neg])])
    state, cards = run(p)
    assert "elacestrant" not in regimen_topics(cards)
    assert "test-esr1" in ordered_tests(cards)
    assert "ESR1 result (2025-06-01) unclear: the value says detected, the interpretation says not detected" \
        in _summary(cards)


def test_a_preliminary_panel_decides_no_regimen():
    p = _panel(after_ai_cdk46i("gp-prelim"), [_gene("ESR1", "Detected p.D538G")], status="preliminary")
    state, cards = run(p)
    assert "elacestrant" not in regimen_topics(cards)
    assert "status preliminary" in _summary(cards)


def test_a_hereditary_panel_negative_for_brca1_2_and_palb2_closes_the_germline_brca_test():
    p = _panel(after_ai_cdk46i("gp-germline"), [_gene("BRCA1/2", "Not detected"), _gene("PALB2", "Negative")],
               name="Hereditary breast cancer panel")
    state, cards = run(p)
    assert {(v.gene, v.result, v.origin) for v in state.biomarkers.results} == {
        ("BRCA1", "not-detected", "germline"), ("BRCA2", "not-detected", "germline"),
        ("PALB2", "not-detected", "germline")}
    assert "test-germline-brca" not in ordered_tests(cards)


def test_a_receptor_panel_with_a_her2_component_gives_no_genomic_result():
    p = _panel(after_ai_cdk46i("gp-receptors"), [_gene("ER", "Positive"), _gene("HER2", "Negative")],
               name="Breast cancer biomarker panel")
    state, cards = run(p)
    assert state.biomarkers.results == []


def test_a_genomic_report_with_only_a_conclusion_naming_no_gene_is_named_on_the_summary_card():
    # a conclusion naming genes is read (tests/cards/test_genomic_class_and_conclusions.py); one
    # naming none is named, not read, as before
    p = after_ai_cdk46i("gp-report").add({
        "resourceType": "DiagnosticReport", "id": "dr-1", "status": "final", "subject": {"reference": "Patient/gp-report"},
        "code": {"coding": [{"system": LOINC, "code": "51969-4", "display": "Genetic analysis report"}]},
        "effectiveDateTime": "2025-06-01", "conclusion": "No pathogenic variants detected"})
    state, cards = run(p)
    assert ("a genomic report (2025-06-01) was received with a conclusion but none of its result "
            "Observations: not read; its conclusion is in the report itself") in _summary(cards)
    assert "test-pik3ca-akt1-pten" in ordered_tests(cards)


def test_germline_brca_testing_that_names_neither_brca1_nor_brca2_is_not_read_and_is_named():
    p = after_ai_cdk46i("gp-brca").add({
        "resourceType": "Observation", "id": "brca-1", "status": "final", "subject": {"reference": "Patient/gp-brca"},
        "code": {"text": "Germline BRCA testing"}, "effectiveDateTime": "2025-06-01", "valueString": "negative"})
    state, cards = run(p)
    assert "test-germline-brca" in ordered_tests(cards)
    # the test's name quoted as written
    assert ("'Germline BRCA testing' (2025-06-01) names BRCA, not BRCA1 or BRCA2: it may be a test of both genes "
            "or of a few founder variants only, so it is not read as a BRCA1/2 result; the full report says which "
            "genes were tested") in _summary(cards)


def test_a_panel_note_about_one_gene_gives_no_significance_to_another_genes_variant():
    p = _panel(after_ai_cdk46i("gp-note"), [_gene("PIK3CA", "Detected p.H1047R"), _gene("ESR1", "Detected p.D538G")],
               note=[{"text": "ESR1 p.D538G: variant of uncertain significance"}])
    state, cards = run(p)
    assert "capivasertib-fulvestrant" in regimen_topics(cards)
    assert "alpelisib-fulvestrant" in regimen_topics(cards)


def _named_test(p, name: str, value: str):
    return p.add({"resourceType": "Observation", "id": p._id("test"), "status": "final", "subject": p._subject(),
                  "code": {"text": name}, "effectiveDateTime": "2025-06-01", "valueString": value})


def test_germline_brca1_2_testing_named_by_the_word_testing_is_read_as_a_negative_for_both_genes():
    state, cards = run(_named_test(after_ai_cdk46i("gp-brca12"), "Germline BRCA1/2 testing", "negative"))
    assert {(v.gene, v.result, v.origin) for v in state.biomarkers.results} == {
        ("BRCA1", "not-detected", "germline"), ("BRCA2", "not-detected", "germline")}
    assert "test-germline-brca" not in ordered_tests(cards)


def _named_coded_value(p, name: str, value: str):
    return p.add({"resourceType": "Observation", "id": p._id("test"), "status": "final", "subject": p._subject(),
                  "code": {"text": name}, "effectiveDateTime": "2025-06-01", "valueCodeableConcept": {"text": value}})


def test_a_local_brca1_2_result_named_by_its_germline_origin_alone_is_read_as_a_germline_negative_for_both_genes():
    for i, (name, add, value) in enumerate([("BRCA1/2 germline", _named_test, "Negative"),
                                            ("Germline BRCA1/2", _named_coded_value, "No pathogenic variant detected"),
                                            ("BRCA1 and BRCA2 (germline)", _named_coded_value, "Negative")]):
        state, cards = run(add(after_ai_cdk46i(f"gp-gorigin{i}"), name, value))
        assert {(v.gene, v.result, v.origin) for v in state.biomarkers.results} == {
            ("BRCA1", "not-detected", "germline"), ("BRCA2", "not-detected", "germline")}, name
        assert "test-germline-brca" not in ordered_tests(cards), name
        assert "BRCA1 not detected (germline, 2025-06-01)" in _summary(cards), name


def test_a_hedged_local_germline_brca1_2_result_is_named_as_unclear_and_the_test_is_still_asked():
    state, cards = run(_named_test(after_ai_cdk46i("gp-gorigin-hedge"), "BRCA1/2 germline", "Possible pathogenic variant"))
    assert state.biomarkers.results == []
    assert "test-germline-brca" in ordered_tests(cards)
    assert "BRCA1/BRCA2 result (2025-06-01) unclear: 'BRCA1/2 germline' reads 'Possible pathogenic variant'" in _summary(cards)


def test_an_esr1_test_named_by_the_word_test_is_read():
    state, cards = run(_named_test(after_ai_cdk46i("gp-esr1-test"), "ESR1 test, plasma", "Detected p.Y537S"))
    assert regimen_topics(cards)[:2] == ["elacestrant", "imlunestrant"]


def test_a_protein_stain_of_a_gene_named_as_a_test_is_not_a_variant_result():
    state, cards = run(_named_test(after_ai_cdk46i("gp-pten-ihc"), "PTEN IHC test", "Negative"))
    assert state.biomarkers.results == []
    assert "test-pik3ca-akt1-pten" in ordered_tests(cards)


def test_a_test_named_for_its_method_alone_with_gene_results_in_its_value_is_named_as_not_read():
    for i, (name, value, gene) in enumerate([("Tumour NGS", "sBRCA1 pathogenic variant detected", "BRCA1"),
                                             ("NGS panel", "PIK3CA H1047R detected", "PIK3CA")]):
        state, cards = run(_named_test(after_ai_cdk46i(f"gp-generic{i}"), name, value))
        assert state.biomarkers.results == [], name
        assert f"{gene} result (2025-06-01) not read: '{name}' names no gene tested, its value reads '{value}'" \
            in _summary(cards), name
        assert "test-germline-brca" in ordered_tests(cards)


def test_a_brca_test_named_for_its_method_is_named_once_as_not_read():
    # 'BRCA NGS' (BRCA without 1 or 2, and a method) with 'BRCA1 pathogenic variant detected' was
    # named twice for one resource ("2 resources not used"), the second saying it names no gene
    state, cards = run(_named_test(after_ai_cdk46i("gp-brca-ngs"), "BRCA NGS", "BRCA1 pathogenic variant detected"))
    assert state.biomarkers.results == []
    assert "- 1 resource not used: 'BRCA NGS' (2025-06-01) names BRCA, not BRCA1 or BRCA2" in _summary(cards)
    assert "names no gene tested" not in _summary(cards)


@pytest.mark.parametrize("name, value", [("ctDNA: ESR1 not detected", "Negative"), ("ctDNA ESR1", "Not detected"),
                                         ("Tumour NGS PIK3CA", "Detected")])
def test_a_test_named_for_its_method_and_a_gene_with_no_test_word_is_named_as_not_read(name, value):
    # skipped in silence: the testing cards asked again with no word of the result received
    state, cards = run(_named_test(after_ai_cdk46i("gp-method-gene"), name, value))
    assert state.biomarkers.results == []
    gene = "ESR1" if "ESR1" in name else "PIK3CA"
    assert (f"{gene} result (2025-06-01) not read: '{name}' names the gene beside a method, not as a test read "
            f"here, its value reads '{value}'") in _summary(cards)


@pytest.mark.parametrize("name, add, value", [("PTEN IHC", _named_coded_value, "Loss of PTEN expression"),
                                              ("PTEN protein expression by immunohistochemistry", _named_test, "Loss")])
def test_a_pten_loss_by_immunohistochemistry_is_named_as_not_read_and_opens_no_capivasertib(name, add, value):
    # CR B.5: capivasertib needs a PTEN alteration "as detected by an FDA-approved test" (B.15:
    # FoundationOne CDx, tissue DNA); whether IHC loss counts is not settled (C.2 step 3): it was
    # skipped in silence while the cards said "PTEN not tested"; now named, capivasertib still waits
    p = (after_ai_cdk46i("gp-pten-ihc").variant("PIK3CA", detected=False, specimen="tissue")
         .variant("AKT1", detected=False, specimen="tissue"))
    state, cards = run(add(p, name, value))
    assert state.biomarkers.for_gene("PTEN") == []
    assert "capivasertib-fulvestrant" not in regimen_topics(cards)
    assert (f"PTEN result (2025-06-01) not read: '{name}' is a protein (immunohistochemistry) test, its value "
            f"reads '{value}'; capivasertib needs a PTEN alteration detected by an FDA-approved test") in _summary(cards)
    assert "the reference does not say whether PTEN loss by IHC counts" in _summary(cards)
    assert "test-pik3ca-akt1-pten" in ordered_tests(cards)


@pytest.mark.parametrize("name, value", [("Tumour NGS (PTEN); ER/PR IHC", "PTEN c.388C>T detected"),
                                         ("Genomic profiling incl. PTEN, ER IHC", "PTEN p.R130* detected")])
def test_a_method_named_pten_dna_result_beside_another_markers_ihc_is_not_called_a_pten_protein_test(name, value):
    # the IHC in the name is the receptors' (ER/PR), not PTEN's: the DNA result was named "a
    # protein (immunohistochemistry) test" with the IHC-loss caveat; it is named as before fix-au2,
    # a test named for its method (not read either way: CR C.3 row 7, B.5)
    state, cards = run(_named_test(after_ai_cdk46i("gp-pten-dna-ihc"), name, value))
    assert state.biomarkers.for_gene("PTEN") == []
    assert "is a protein (immunohistochemistry) test" not in _summary(cards)
    assert f"PTEN result (2025-06-01) not read: '{name}' names no gene tested, its value reads '{value}'" \
        in _summary(cards)
