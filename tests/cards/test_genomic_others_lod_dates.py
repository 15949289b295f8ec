"""Genomic result texts about the genes a finding did not name, findings below the limit of
detection, and findings dated in their own words, read through the whole pipeline (FHIR
resources -> mappings.build_patient_state -> cards): what the user sees."""

import pytest

from tests.cards.helpers import card, ordered_tests, topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _summary(cards) -> str:
    return card(cards, "patient-summary")["detail"]


def _result_text(pid: str, test: str, words: str, on: str = "2025-06-01"):
    p = after_ai_cdk46i(pid)
    p._obs("gx", {"text": test}, on, valueString=words)
    return run(p)


@pytest.mark.parametrize("words", [
    "PIK3CA H1047R detected. None of the other genes mutated",
    "PIK3CA H1047R detected; no other mutations detected",
    "PIK3CA H1047R detected; no other mutations",
    "PIK3CA H1047R detected (no other variants)",
    "PIK3CA H1047R; none of the other genes (ESR1, AKT1) mutated",
    "PIK3CA H1047R detected; no additional pathogenic variants identified",
])
def test_no_other_genes_mutated_after_a_pik3ca_finding_reads_esr1_not_detected_and_offers_no_oral_serd(words):
    # "None of the other genes mutated" was read as ESR1 mutated (elacestrant / imlunestrant
    # offered), "no other mutations" said nothing of ESR1 (ESR1 test asked after the panel tested
    # it); the genes a finding did not name found nothing (CR C.2 step 3)
    _, cards = _result_text("p-others", "PIK3CA/ESR1 mutation panel", words)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "- ESR1 not detected (2025-06-01)" in _summary(cards)
    assert "PIK3CA detected" in _summary(cards)


@pytest.mark.parametrize("words", [
    "ESR1 D538G detected at 0.1% (below limit of detection)",
    "ESR1 D538G detected at 0.1%, below LOD",
    "ESR1 p.D538G 0.05% (< LOD)",
])
def test_an_esr1_change_below_the_limit_of_detection_is_named_unclear_and_the_esr1_test_asked(words):
    # read as detected, elacestrant was offered on a call the assay cannot make (CR C.2 step 3)
    _, cards = _result_text("p-lod", "ESR1 mutation", words)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "test-esr1" in ordered_tests(cards)
    assert f"ESR1 result (2025-06-01) unclear: 'ESR1 mutation' reads '{words}'" in _summary(cards)


def _loinc_answers_in_lower_case(node) -> None:
    """LOINC answer codes written in lower case ("la6683-2"), their displays left off."""
    if isinstance(node, dict):
        if isinstance(node.get("code"), str) and node["code"].startswith("LA"):
            node["code"] = node["code"].lower()
            node.pop("display", None)
        for v in node.values():
            _loinc_answers_in_lower_case(v)
    elif isinstance(node, list):
        for v in node:
            _loinc_answers_in_lower_case(v)


def test_a_germline_brca2_variant_whose_loinc_answers_are_written_in_lower_case_offers_talazoparib():
    # LOINC codes are not case sensitive (FHIR R4 "Using LOINC with FHIR"): 'la9633-4' (Present),
    # 'la6683-2' (Germline), 'la6668-3' (Pathogenic) were no answers: 'BRCA2 result is
    # indeterminate or unreadable', talazoparib withheld and the germline test asked again
    p = after_ai_cdk46i("p-lower-la").variant("BRCA2", origin="germline", specimen="blood")
    _loinc_answers_in_lower_case(p.resources[-1])
    _, cards = run(p)
    assert "talazoparib" in topics(cards)
    assert "- BRCA2 detected (germline, blood, pathogenic, 2025-06-01)" in _summary(cards)
    assert "test-germline-brca" not in ordered_tests(cards)


@pytest.mark.parametrize("words, written", [
    ("ESR1 D538G detected (tissue, 2019)", "2019"),
    ("Known ESR1 D538G mutation (ctDNA 2023-11)", "2023-11"),
    ("ESR1 D538G detected in 03/2021", "2021-03"),
    # a month by name, or a month written after a bare space: read as the report's date before
    ("ESR1 Y537S detected (ctDNA, March 2024)", "2024-03"),
    ("ESR1 D538G detected (Mar-2024)", "2024-03"),
    ("ESR1 mutation 2024-03", "2024-03"),
    ("ESR1 D538G detected 03/2024", "2024-03"),
    ("ESR1 D538G detected on 12 March 2024", "2024-03-12"),
    # two dates that agree: the narrower
    ("ESR1 D538G (1 March 2024), ESR1 D538G detected (March 2024)", "2024-03-01"),
])
def test_an_esr1_finding_dated_in_its_words_before_the_progression_is_not_current_and_asks_an_esr1_re_test(words, written):
    # CR C.3 row 18: ESR1 re-tested at each progression on endocrine therapy, a result current only
    # if collected after it. The year written beside the finding was not read: a 2019 tissue
    # finding restated in a 2025 report read 'ESR1 result current: yes' and no re-test was asked
    state, cards = _result_text("p-esr1-year", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert f"- ESR1 detected (significance not reported, {written})" in detail
    assert (f"ESR1 finding in a report of 2025-06-01: its words date it {written}: read as of {written}, "
            f"not of the report's date ('{words}')") in detail
    assert "elacestrant" in topics(cards)  # still offered on the finding, as for any earlier detection


def test_an_esr1_finding_dated_day_and_month_in_either_order_is_read_as_that_span_and_asks_an_esr1_re_test():
    # "12/03/2024": 12 March or December 3, the order not stated; read as the report's date, the
    # finding counted as current at the 2025 progression and no re-test was asked (CR C.3 row 18)
    words = "ESR1 D538G detected (ctDNA, 12/03/2024)"
    state, cards = _result_text("p-esr1-dmy", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert "- ESR1 detected (significance not reported, between 2024-03-12 and 2024-12-03)" in detail
    assert ("ESR1 finding in a report of 2025-06-01: its words date it between 2024-03-12 and 2024-12-03 (day and "
            f"month order not stated): read as of that span, not of the report's date ('{words}')") in detail


def test_an_esr1_finding_dated_day_and_month_in_either_order_one_reading_after_the_report_asks_an_esr1_re_test():
    # "10/04/2025" in a 2025-06-01 report: 10 April (before the 2025-05-20 progression) or
    # October 4 (after the report). Its later reading reaching the report's date let the report's
    # date stand: 'ESR1 result current: yes', no re-test; one reading is stale, the data do not
    # say which, so not read the hopeful way (CR C.3 row 18; DESIGN: ambiguous data)
    words = "ESR1 D538G detected (ctDNA, 10/04/2025)"
    state, cards = _result_text("p-esr1-dmy-report", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert "- ESR1 detected (significance not reported, between 2025-04-10 and 2025-10-04)" in detail
    assert ("ESR1 finding in a report of 2025-06-01: its words date it between 2025-04-10 and 2025-10-04 (day and "
            f"month order not stated): read as of that span, not of the report's date ('{words}')") in detail


def test_a_month_between_the_two_readings_of_a_day_and_month_date_is_another_date_and_the_finding_undated():
    # "01/08/2025" is 1 August or January 8, never June: "June 2025" was taken to agree with it
    # (as if inside a span of every day between), the finding read as of June 2025, current at
    # the 2025-05-20 progression and no re-test asked; two dates that do not agree (CR C.3 row 18)
    words = "ESR1 D538G (ctDNA, 01/08/2025); ESR1 D538G detected (ctDNA, June 2025)"
    state, cards = _result_text("p-esr1-dmy-month", "ESR1 mutation", words, on="2025-09-01")
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert "- ESR1 detected (significance not reported, date unknown)" in detail
    assert ("ESR1 finding in a report of 2025-09-01: its words write several dates (between 2025-01-08 and "
            "2025-08-01, 2025-06) and do not say which is the finding's") in detail


def test_an_esr1_finding_whose_words_write_several_earlier_dates_is_undated_and_asks_an_esr1_re_test():
    # two dates, both before the report: which is the finding's is not said; read as the
    # report's date, 'ESR1 result current: yes' at a progression both dates precede (CR C.3 row 18)
    words = "ESR1 D538G detected (tissue, 2019); ESR1 D538G detected (ctDNA 2023-11)"
    state, cards = _result_text("p-esr1-two-dates", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert "- ESR1 detected (significance not reported, date unknown)" in detail
    assert ("ESR1 finding in a report of 2025-06-01: its words write several dates (2019, 2023-11) and do not say "
            f"which is the finding's: read as undated, not as of the report's date ('{words}')") in detail


@pytest.mark.parametrize("words, written", [
    ("No ESR1 mutation detected (tissue, 2019)", "2019"),
    ("ESR1 not detected (ctDNA, March 2024)", "2024-03"),
])
def test_an_esr1_negative_dated_in_its_words_before_the_progression_is_not_current_and_asks_an_esr1_re_test(
        words, written):
    # read on the report's date, an old negative stood as the current ESR1 result: 'ESR1 result
    # current: yes', no re-test asked at the progression it predates (CR C.3 row 18)
    state, cards = _result_text("p-esr1-neg-year", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert f"- ESR1 not detected ({written})" in detail
    assert (f"ESR1 negative result in a report of 2025-06-01: its words date it {written}: read as of {written}, "
            f"not of the report's date ('{words}')") in detail


@pytest.mark.parametrize("words", [
    "No ESR1 mutation detected. Previously ESR1 Y537S detected (ctDNA, 2023)",
    "ESR1 not detected; compared with prior (tissue, 2019)",
])
def test_an_esr1_negative_beside_the_dated_words_of_an_earlier_finding_or_test_is_of_the_report_s_date(words):
    # the date of the earlier finding or test dated this report's negative: 'ESR1 not detected
    # (2023)', 'ESR1 result current: no' and a re-test asked of a result taken after the
    # 2025-05-20 progression (CR C.3 row 18: a result is dated by its own specimen)
    state, cards = _result_text("p-esr1-neg-prior", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    detail = _summary(cards)
    assert "- ESR1 not detected (2025-06-01)" in detail
    assert "ESR1 negative result in a report of" not in detail


def test_an_esr1_finding_whose_words_give_a_day_after_the_progression_is_current_and_dated_that_day():
    # "(ctDNA 2025-05-25)" was read as May 2025 from its first day, before the 2025-05-20
    # progression: 'ESR1 result current: no' and a re-test asked of a sample drawn after it (CR C.3 row 18)
    words = "ESR1 D538G detected (ctDNA 2025-05-25)"
    state, cards = _result_text("p-esr1-day", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert "- ESR1 detected (significance not reported, 2025-05-25)" in _summary(cards)


@pytest.mark.parametrize("words", ["History of ESR1 mutation", "Known ESR1 mutation"])
def test_an_esr1_finding_told_as_past_with_no_date_is_undated_and_asks_an_esr1_re_test(words):
    # read on the Observation's date: 'ESR1 result current: yes' at a progression after the
    # finding was made, whenever that was (CR C.3 row 18)
    state, cards = _result_text("p-esr1-past", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert "- ESR1 detected (significance not reported, date unknown)" in detail
    assert ("ESR1 finding in a report of 2025-06-01: told as a past finding with no date of its own: when it was "
            f"found is unknown, read as undated, not as of the report's date ('{words}')") in detail


@pytest.mark.parametrize("words", [
    "ESR1 D538G detected; classified per ClinVar 2024-03",
    "ESR1 D538G detected. Assay validated 03/2021",
    "ESR1 D538G detected (ctDNA), reviewed 2024-03",
])
def test_an_esr1_finding_beside_a_date_of_something_else_after_a_bare_space_stays_current(words):
    # a month date after any bare space was read as the finding's: a database release, an assay's
    # validation or a review dated this report's finding, 'ESR1 result current: no' and a re-test
    # asked of a result taken after the 2025-05-20 progression (CR C.3 row 18: the specimen's date)
    state, cards = _result_text("p-esr1-other-date", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)


@pytest.mark.parametrize("words", ["ESR1 D538G detected (2025)", "ESR1 D538G detected, 2000 reads",
                                   "ESR1 D538G detected (ctDNA, June 2025)", "ESR1 D538G detected 2025-06"])
def test_an_esr1_finding_with_no_earlier_date_in_its_words_stays_current(words):
    state, cards = _result_text("p-esr1-now", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)


@pytest.mark.parametrize("words", ["BRCA1 VUS", "germline BRCA1 VUS"])
def test_a_brca1_vus_under_a_brca1_2_test_names_brca1_a_vus_and_brca2_not_reported(words):
    # both were named 'the report gives results for BRCA1 and none that is clear for BRCA1 / BRCA2':
    # the VUS unsaid (CR C.2 step 1: not acted on) and BRCA2's silence read as an unclear result
    _, cards = _result_text("p-brca1-vus", "BRCA1/2 test", words)
    detail = _summary(cards)
    assert not {"olaparib", "talazoparib"} & set(topics(cards))
    assert ("BRCA1 result (2025-06-01) unclear: the report classes its BRCA1 variant a VUS (uncertain significance), "
            "a class the reference does not act on (reference C.2 step 1), and gives no negative for BRCA1") in detail
    assert "BRCA2 result (2025-06-01) unclear: the report gives results for BRCA1 only and none for BRCA2" in detail
    assert "test-germline-brca" in ordered_tests(cards)


@pytest.mark.parametrize("words", ["No other mutations detected", "None of the other genes mutated"])
def test_no_other_mutations_with_no_finding_named_under_an_esr1_test_is_named_unclear_not_an_esr1_finding(words):
    # 'other' than what is unsaid: read as ESR1 detected ("mutated", "detected"), elacestrant offered
    _, cards = _result_text("p-others-alone", "ESR1 mutation", words)
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "test-esr1" in ordered_tests(cards)
    assert f"ESR1 result (2025-06-01) unclear: 'ESR1 mutation' reads '{words}'" in _summary(cards)


def test_no_other_mutations_suspected_after_a_pik3ca_finding_leaves_esr1_unclear():
    _, cards = _result_text("p-others-hedged", "PIK3CA/ESR1 mutation panel",
                            "PIK3CA H1047R detected; no other mutations suspected")
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "test-esr1" in ordered_tests(cards)
    assert "ESR1 not detected" not in _summary(cards)


@pytest.mark.parametrize("words", ["germline BRCA1 c.68_69delAG pathogenic (no other variants)",
                                   "germline BRCA1 c.68_69delAG pathogenic; no other pathogenic variants detected"])
def test_a_germline_brca1_pathogenic_variant_with_no_other_variants_is_germline_and_brca2_negative(words):
    # the aside's "no" was read as a hedge of the origin: 'germline origin not established',
    # talazoparib withheld and the germline test asked again; the second also read BRCA2 detected
    # (pathogenic). CR C.3 row 7 (germline source stated), B.7
    _, cards = _result_text("p-brca-no-other", "BRCA1/2 test", words)
    detail = _summary(cards)
    assert "- BRCA1 c.68_69delAG detected (germline, pathogenic, 2025-06-01)" in detail
    assert "- BRCA2 not detected (germline, 2025-06-01)" in detail
    assert "talazoparib" in topics(cards)
    assert "test-germline-brca" not in ordered_tests(cards)


def test_an_esr1_change_below_the_limit_of_quantification_is_detected_and_offers_an_oral_serd():
    # below the limit of quantification the change is detected, only its fraction not measured
    # (CLSI EP17: LoQ >= LoD); read as below the limit of detection, the ESR1 finding was named
    # unclear, elacestrant withheld and an ESR1 re-test asked (CR C.2 step 3)
    words = "ESR1 D538G detected, below the limit of quantification"
    state, cards = _result_text("p-loq", "ESR1 mutation", words)
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)
    assert "elacestrant" in topics(cards)
    assert "test-esr1" not in ordered_tests(cards)


@pytest.mark.parametrize("words", ["ESR1 D538G detected (COSMIC 2019)", "ESR1 D538G detected (hotspot list 2019)"])
def test_a_year_of_a_reference_named_beside_an_esr1_finding_does_not_date_the_finding(words):
    # only a date beside the specimen or test dates the finding ("(ctDNA 2023-11)"); a database's
    # release year read as its date made the 2025 finding 2019: 'ESR1 result current: no' and an
    # ESR1 re-test asked at a progression the result follows (CR C.3 row 18)
    state, cards = _result_text("p-esr1-cosmic", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert "its words date it" not in _summary(cards)


@pytest.mark.parametrize("words", ["Known ESR1 mutation, re-confirmed today", "Known ESR1 mutation, still detected",
                                   "ESR1 D538G previously detected, confirmed on this test"])
def test_a_known_esr1_finding_found_again_on_this_test_stays_current(words):
    # the words say this test found it again: the report's date is the finding's; read as undated,
    # 'ESR1 result current: no' and a re-test asked of a result taken after the progression (CR C.3 row 18)
    state, cards = _result_text("p-esr1-again", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)


@pytest.mark.parametrize("words", [
    "PIK3CA H1047R detected; no other genes tested",
    "PIK3CA H1047R detected; no further testing performed",
    "PIK3CA H1047R detected; no additional analysis was done",
    "PIK3CA H1047R detected; no other results available",
    "PIK3CA H1047R detected; no other PIK3CA mutations",
    "PIK3CA H1047R detected; no other variants in exon 20",
])
def test_an_aside_on_untested_genes_or_on_the_named_gene_only_leaves_esr1_unclear_and_asks_the_esr1_test(words):
    # read as 'ESR1 not detected' ("No actionable ESR1 alteration"): elacestrant refused and no
    # ESR1 test asked though the text says ESR1 was not tested, or speaks of PIK3CA alone (CR C.2 step 3)
    _, cards = _result_text("p-others-untested", "PIK3CA/ESR1 mutation panel", words)
    assert "ESR1 not detected" not in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)
    assert "PIK3CA detected" in _summary(cards)


@pytest.mark.parametrize("words", ["History of ESR1 mutation; ESR1 D538G detected on current ctDNA",
                                   "ESR1 D538G detected. Known ESR1 Y537S previously reported",
                                   "ESR1 D538G detected, hotspot known to confer resistance"])
def test_an_esr1_finding_stated_now_beside_a_past_one_stays_current(words):
    # the past words of one clause ("History of", "Known ... previously reported"), or 'known to',
    # made the whole ESR1 result undated: 'ESR1 result current: no' and a re-test asked of a
    # finding this report makes after the progression (CR C.3 row 18)
    state, cards = _result_text("p-esr1-now-and-past", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)


def test_no_other_mutations_after_esr1_not_covered_leaves_esr1_unclear_and_asks_the_esr1_test():
    # the aside on the genes not named was read as the call of every gene with no clear call of its
    # own: 'ESR1 not detected', elacestrant refused and no ESR1 test asked (CR C.2 step 3)
    _, cards = _result_text("p-others-not-covered", "PIK3CA/ESR1 mutation panel",
                            "PIK3CA H1047R detected; ESR1 not covered; no other mutations")
    assert "ESR1 not detected" not in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)


def test_a_brca2_vus_with_no_other_variants_names_brca2_a_vus_and_brca1_not_detected():
    # 'BRCA2 not detected' was shown for a BRCA2 variant of uncertain significance (CR C.2 step 1)
    _, cards = _result_text("p-brca2-vus-no-other", "BRCA1/2 germline test", "BRCA2 VUS; no other variants")
    detail = _summary(cards)
    assert "BRCA2 not detected" not in detail
    assert "BRCA2 result (2025-06-01) unclear: the report classes its BRCA2 variant a VUS" in detail
    assert "- BRCA1 not detected (germline, 2025-06-01)" in detail
    assert not {"olaparib", "talazoparib"} & set(topics(cards))


def test_an_esr1_finding_beside_the_assay_note_that_results_below_the_lod_are_not_reported_offers_an_oral_serd():
    # the note on what the assay leaves out was read as this finding below the limit of detection:
    # 'ESR1 result unclear', elacestrant withheld and an ESR1 test asked (CR C.2 step 3)
    _, cards = _result_text("p-lod-note", "ESR1 mutation",
                            "ESR1 D538G detected; assay LOD 0.1%, results below the LOD are not reported")
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)
    assert "elacestrant" in topics(cards)
    assert "test-esr1" not in ordered_tests(cards)


_V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _esr1_coded(pid: str, system: str | None, code: str, display: str | None = None):
    p = after_ai_cdk46i(pid)
    coding = ({"system": system} if system else {}) | {"code": code} | ({"display": display} if display else {})
    p._obs("gx", {"coding": [{"system": "http://loinc.org", "code": "48018-6"}], "text": "ESR1 mutation"},
           "2025-06-01", valueCodeableConcept={"coding": [coding]})
    return run(p)


@pytest.mark.parametrize("system", [
    "http://lab.example.org/results", "urn:oid:1.2.3.4",
    # a local system whose name only contains the HL7 one's, or an OID under or around it: the
    # system was matched by substring ('observationinterpretation' in the URL, '2.16.840.1.113883.5.83'
    # in the OID), a lab's 'Not done' read 'ESR1 not detected' (FHIR R4 Coding.system: the system
    # is the URI that identifies the code system, as a whole)
    "http://lab.example.org/fhir/CodeSystem/ObservationInterpretation",
    "http://lab.example.org/v3-ObservationInterpretation-local",
    "urn:oid:2.16.840.1.113883.5.83.99",
])
def test_a_local_nd_answer_meaning_not_done_is_no_esr1_negative_and_the_esr1_test_is_asked(system):
    # the HL7 v3 ObservationInterpretation code ND (Not detected) was read under any system: a
    # lab's own "ND" (Not done) read 'ESR1 not detected', elacestrant refused and no ESR1 test
    # asked (CR C.2 step 3). FHIR R4 Coding.code is a symbol of its system: read only under it
    _, cards = _esr1_coded("p-local-nd", system, "ND", "Not done")
    detail = _summary(cards)
    assert "ESR1 not detected" not in detail
    assert "ESR1 result (2025-06-01) unclear: 'ESR1 mutation' reads 'Not done'" in detail
    assert "test-esr1" in ordered_tests(cards)


@pytest.mark.parametrize("system", [_V3_INTERPRETATION, "http://hl7.org/fhir/v3/ObservationInterpretation",
                                    "urn:oid:2.16.840.1.113883.5.83"])
def test_the_hl7_nd_answer_under_its_own_system_still_reads_esr1_not_detected(system):
    _, cards = _esr1_coded("p-v3-nd", system, "ND")
    assert "- ESR1 not detected (2025-06-01)" in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)


def _esr1_interpreted(pid: str, coding: dict, text: str | None = None):
    """An ESR1 Observation whose only answer is its interpretation."""
    p = after_ai_cdk46i(pid)
    interpretation = {"coding": [coding]} | ({"text": text} if text else {})
    p._obs("gx", {"coding": [{"system": "http://loinc.org", "code": "48018-6"}], "text": "ESR1 mutation"},
           "2025-06-01", interpretation=[interpretation])
    return run(p)


@pytest.mark.parametrize("coding, text, said", [
    ({"code": "ND", "display": "Not done"}, None, "Not done"),
    ({"code": "ND"}, "Not done", "Not done"),
    ({"code": "ND"}, "not performed", "not performed"),
    ({"code": "NEG", "display": "Not tested"}, None, "Not tested"),
    ({"code": "ND", "display": "Not detected"}, "Not done", "Not detected / Not done"),
])
def test_an_interpretation_code_with_no_system_whose_words_say_not_done_is_no_esr1_negative(coding, text, said):
    # a code with no system has no defined meaning (FHIR R4 Coding.system: "the identification of
    # the code system that defines the meaning of the symbol"): 'ND' "Not done" was read as HL7's
    # Not detected, 'ESR1 not detected', the oral SERDs refused and no ESR1 test asked (CR C.2 step 3)
    _, cards = _esr1_interpreted("p-nosys-nd", coding, text)
    detail = _summary(cards)
    assert "ESR1 not detected" not in detail
    assert (f"ESR1 result (2025-06-01) unclear: its answer code '{coding['code']}' is written with no code system "
            f"and its words read '{said}': what the code means is not defined (FHIR R4 Coding.system)") in detail
    assert "test-esr1" in ordered_tests(cards)


@pytest.mark.parametrize("coding, text", [
    ({"code": "ND"}, None),
    ({"code": "ND", "display": "Not detected"}, None),
    ({"code": "ND", "display": "ND"}, "None detected"),
])
def test_an_interpretation_code_with_no_system_and_words_that_agree_or_none_still_reads_esr1_not_detected(coding, text):
    _, cards = _esr1_interpreted("p-nosys-nd-ok", coding, text)
    assert "- ESR1 not detected (2025-06-01)" in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)


def test_a_value_code_pos_with_no_system_whose_display_says_not_done_offers_no_oral_serd():
    # read as HL7 POS (Positive): elacestrant offered on a test not done
    _, cards = _esr1_coded("p-nosys-pos", None, "POS", "Not done")
    assert not {"elacestrant", "imlunestrant"} & set(topics(cards))
    assert "its answer code 'POS' is written with no code system and its words read 'Not done'" in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)


_V2_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v2-0078"


@pytest.mark.parametrize("system", [_V2_INTERPRETATION, "http://hl7.org/fhir/v2/0078", "urn:oid:2.16.840.1.113883.12.78"])
@pytest.mark.parametrize("code, seen", [("NEG", "- ESR1 not detected (2025-06-01)"), ("ND", "- ESR1 not detected (2025-06-01)"),
                                        ("DET", "- ESR1 detected (significance not reported, 2025-06-01)"),
                                        ("POS", "- ESR1 detected (significance not reported, 2025-06-01)")])
def test_an_hl7_v2_table_0078_interpretation_code_is_read_under_its_own_system(system, code, seen):
    # HL7 v2 table 0078 (OBX-8) defines POS, NEG, DET, ND as v3 does (added in v2.7): a v2 feed's
    # 'NEG' was no answer since the HL7 codes were read under v3 alone: 'ESR1 not tested', the
    # test asked again of a result in the record (codes.yaml answers)
    _, cards = _esr1_interpreted("p-v2-0078", {"system": system, "code": code})
    assert seen in _summary(cards)
    assert "test-esr1" not in ordered_tests(cards)


@pytest.mark.parametrize("words", ["ESR1 D538G detected (ctDNA, 3/12/24)", "ESR1 D538G detected 3/12/24",
                                   "ESR1 not detected (ctDNA, 3/12/24)", "ESR1 D538G detected 3/12/24 VAF 2%"])
def test_an_esr1_result_dated_with_a_two_digit_year_is_undated_and_asks_an_esr1_re_test(words):
    # '3/12/24' was not read as a date at all: the result stood on the report's date, 'ESR1 result
    # current: yes' and no re-test asked; its century and its day / month order are unsaid, so it
    # cannot be shown to follow the 2025-05-20 progression (CR C.3 row 18; DESIGN: ambiguous data)
    state, cards = _result_text("p-esr1-yy", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    detail = _summary(cards)
    assert "ESR1 result current (it must follow the progression on metastatic line 1 (letrozole + ribociclib) " \
           "on 2025-05-20): no" in detail
    assert ("its words write the date '3/12/24' with a two-digit year (its century and its day and month order "
            f"not stated): read as undated, not as of the report's date ('{words}')") in detail


@pytest.mark.parametrize("words, written", [
    ("ESR1 Y537S 05/2024 VAF 3%", "2024-05"),
    ("ESR1 Y537S detected 2024-05 allele fraction 3%", "2024-05"),
    ("ESR1 Y537S March 2024 AF 3%", "2024-03"),
])
def test_an_esr1_finding_dated_before_its_allele_fraction_is_dated_so_and_asks_an_esr1_re_test(words, written):
    # the date, between the variant and its allele fraction, does not close its piece: the finding
    # was read on the report's date, 'ESR1 result current: yes' at the 2025-05-20 progression the
    # finding predates and no re-test asked (CR C.3 row 18)
    state, cards = _result_text("p-esr1-vaf-date", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    assert f"- ESR1 detected (significance not reported, {written})" in _summary(cards)


@pytest.mark.parametrize("words", ["ESR1 D538G detected (ref GRCh37, 2009)", "ESR1 D538G detected (ClinVar, 2019)",
                                   "ESR1 Y537S 06/2025 VAF 3%",
                                   # numbers written as a short date, not where a date is read
                                   "ESR1 exons 5/7/10 sequenced: D538G detected", "ESR1 D538G detected, ratio 1/2/10"])
def test_an_esr1_finding_beside_the_year_of_its_reference_genome_or_database_stays_current(words):
    # the reference genome's release year (GRCh37, 2009) dated the 2025 finding: 'ESR1 result
    # current: no' and a re-test asked of a result taken after the progression (CR C.3 row 18: the
    # specimen's date)
    state, cards = _result_text("p-esr1-ref-year", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)


@pytest.mark.parametrize("words, on, said", [
    # 12 March or December 3: the gap named 12 March alone, the reading the line beside it does not give
    ("ESR1 D538G detected (ctDNA, 12/03/2024)", "2025-06-01",
     "The latest ESR1 result (between 2024-03-12 and 2024-12-03) predates the progression"),
    # 10 April (before the 2025-05-20 progression) or October 4 (after it): 'predates' said of a
    # result that may follow it
    ("ESR1 D538G detected (ctDNA, 10/04/2025)", "2025-06-01",
     "The latest ESR1 result (between 2025-04-10 and 2025-10-04) cannot be shown to follow the progression"),
    # a month: named as its first day ('2025-05-01 predates' a 2025-05-20 progression it may follow)
    ("ESR1 D538G detected (ctDNA, May 2025)", "2025-06-01",
     "The latest ESR1 result (2025-05) cannot be shown to follow the progression"),
])
def test_the_stale_esr1_gap_names_the_latest_result_s_date_as_its_line_writes_it(words, on, said):
    # CR C.3 row 18: the result must follow the progression; the gap said which date it read
    _, cards = _result_text("p-esr1-stale-span", "ESR1 mutation", words, on=on)
    assert said in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)


def test_an_esr1_finding_beside_an_interpretation_code_with_no_system_saying_not_done_is_named_so():
    # value and interpretation disagreed as 'the interpretation says not detected': the
    # interpretation said 'Not done' under a code with no system (FHIR R4 Coding.system)
    p = after_ai_cdk46i("p-nosys-interp-value")
    p._obs("gx", {"coding": [{"system": "http://loinc.org", "code": "48018-6"}], "text": "ESR1 mutation"}, "2025-06-01",
           valueString="ESR1 D538G detected", interpretation=[{"coding": [{"code": "ND", "display": "Not done"}]}])
    _, cards = run(p)
    detail = _summary(cards)
    assert ("ESR1 result (2025-06-01) unclear: the value says detected, the interpretation: its answer code 'ND' is "
            "written with no code system and its words read 'Not done'") in detail
    assert "the interpretation says not detected" not in detail


@pytest.mark.parametrize("coding", [{"system": "http://lab.example.org/results", "code": "ND", "display": "Not done"},
                                    {"code": "nd", "display": "Not done"}])
def test_an_esr1_test_read_only_by_an_interpretation_saying_not_done_is_named_with_its_words(coding):
    # no value, an interpretation no reader knows: dropped unseen ('No ESR1 result') while the
    # ESR1 test was asked again beside nothing
    _, cards = _esr1_interpreted("p-local-interp", coding)
    assert "ESR1 result (2025-06-01) unclear: 'ESR1 mutation' reads 'Not done'" in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)


@pytest.mark.parametrize("words, said", [
    # 10 April (before the 2025-05-20 progression) or October 4 (after it); a month reaching it
    ("ESR1 D538G detected (ctDNA, 10/04/2025)", "ESR1 detection cannot be shown to follow the progression"),
    ("ESR1 D538G detected (ctDNA, May 2025)", "ESR1 detection cannot be shown to follow the progression"),
    # a span wholly before it does predate it
    ("ESR1 D538G detected (ctDNA, 12/03/2024)", "ESR1 detection predates the progression"),
])
def test_the_esr1_retest_order_says_a_detection_dated_by_a_span_reaching_the_progression_cannot_be_shown_to_follow_it(
        words, said):
    # CR C.3 row 18: the test-order card said "predates" of a result that may follow the
    # progression, while the summary said "cannot be shown to follow" (fix-gx11)
    _, cards = _result_text("p-esr1-order-span", "ESR1 mutation", words, on="2025-06-01")
    assert "test-esr1" in ordered_tests(cards)
    assert said in card(cards, "test-esr1")["detail"]


@pytest.mark.parametrize("span_words, day_words, day, said", [
    # 10 April (before the 2025-05-20 progression) or October 4 (after it), beside a result of
    # 2025-05-01: the gap named 2025-05-01 as the latest, 'predates', of a record that may follow
    ("ESR1 D538G detected (ctDNA, 10/04/2025)", "ESR1 D538G detected", "2025-05-01",
     "The latest ESR1 result (between 2025-04-10 and 2025-10-04) cannot be shown to follow the progression"),
    # a May 2025 result may be of 25 May, after the progression: not 2025-05-01 'predates'
    ("ESR1 D538G detected (ctDNA, May 2025)", "ESR1 D538G detected", "2025-05-01",
     "The latest ESR1 result (2025-05) cannot be shown to follow the progression"),
])
def test_the_stale_esr1_gap_names_as_latest_the_result_that_may_follow_the_progression(span_words, day_words, day, said):
    # CR C.3 row 18: the result must follow the progression; the gap must not say the latest
    # result predates it while a result on record may follow it
    p = after_ai_cdk46i("p-esr1-two-dates")
    p._obs("gx", {"text": "ESR1 mutation"}, "2025-07-01", valueString=span_words)
    p._obs("gx", {"text": "ESR1 mutation"}, day, valueString=day_words)
    _, cards = run(p)
    detail = _summary(cards)
    assert said in detail
    assert f"The latest ESR1 result ({day}) predates" not in detail
    assert "test-esr1" in ordered_tests(cards)


@pytest.mark.parametrize("where", ["interpretation", "value"])
@pytest.mark.parametrize("coding, written", [
    ({"system": "http://lab.example.org/results", "code": "ND"}, "ND (http://lab.example.org/results)"),
    # HL7 v2 table 0078 A (Abnormal) says nothing of a variant being found
    ({"system": _V2_INTERPRETATION, "code": "A"}, f"A ({_V2_INTERPRETATION})"),
])
def test_an_esr1_test_whose_only_answer_is_a_code_no_reader_knows_is_named_with_the_code(where, coding, written):
    # no display, no text: the Observation was dropped unseen ('No ESR1 result') while the ESR1
    # test was asked again beside nothing (FHIR R4 Coding.system / Coding.code as written)
    p = after_ai_cdk46i("p-local-code-only")
    answer = {"interpretation": [{"coding": [coding]}]} if where == "interpretation" \
        else {"valueCodeableConcept": {"coding": [coding]}}
    p._obs("gx", {"coding": [{"system": "http://loinc.org", "code": "48018-6"}], "text": "ESR1 mutation"},
           "2025-06-01", **answer)
    _, cards = run(p)
    assert f"ESR1 result (2025-06-01) unclear: 'ESR1 mutation' reads '{written}'" in _summary(cards)
    assert "test-esr1" in ordered_tests(cards)


@pytest.mark.parametrize("words", ["ESR1 D538G detected hg19 (2009)", "ESR1 D538G detected on GRCh37 (2009)",
                                   "ESR1 D538G detected, ClinVar (2019)"])
def test_an_esr1_finding_beside_its_reference_genome_s_year_in_brackets_stays_current(words):
    # 'hg19 (2009)': hg19's release year dated the 2025 finding 2009, 'ESR1 result current: no'
    # and a re-test asked of a result taken after the progression (CR C.3 row 18: the specimen's date)
    state, cards = _result_text("p-esr1-ref-year-brackets", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert "- ESR1 detected (significance not reported, 2025-06-01)" in _summary(cards)


@pytest.mark.parametrize("words", ["ESR1 D538G detected (ctDNA, reference lab, 2019)",
                                   "ESR1 D538G detected (plasma sent to reference laboratory, 2019)"])
def test_an_esr1_finding_dated_beside_the_reference_lab_that_ran_it_keeps_its_date(words):
    # 'reference lab' was read as a reference genome: the 2019 finding stood on the 2025 report's
    # date, 'ESR1 result current: yes', the oral SERDs offered on it and no re-test asked (CR C.3 row 18)
    state, cards = _result_text("p-esr1-ref-lab", "ESR1 mutation", words)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    assert "- ESR1 detected (significance not reported, 2019)" in _summary(cards)
