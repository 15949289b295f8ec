"""Every pathway branch and label restriction, built from FHIR resources through
the whole pipeline: resources -> mappings.build_patient_state -> patient_view_cards.

Scenario dates: metastatic biopsy 2024-01-15; a first metastatic line
2024-02-01 .. 2025-05-20 (progression), tests after it; cards asked 2025-07-01.
"""

import datetime as dt

import pytest

from cards.engine import order_cards
from mappings import read_draft_orders
from cards.pathway import assess
from mappings.state import DraftOrder, Drug
from tests.cards.fhir_builder import FhirPatient, hr_positive_mbc
from tests.cards.helpers import card, not_offered_line, ordered_tests, recommended, regimen_topics, suggestion_drugs, topics, view
from tests.cards.invariants import check_invariants

AS_OF = dt.date(2025, 7, 1)
FIRST_LINE_AS_OF = dt.date(2024, 2, 1)


def _draft(drug: str, drug_class: str, rxnorm: str) -> DraftOrder:
    return DraftOrder(resource_type="MedicationRequest", resource_id=f"mr-{drug}", reference=f"MedicationRequest/mr-{drug}",
                      drugs=[Drug(name=drug, drug_class=drug_class, rxnorm=rxnorm)], text=drug)


def run(patient: FhirPatient, as_of: dt.date = AS_OF):
    state = patient.state(as_of)
    cards = view(state)
    check_invariants(state, cards)
    return state, cards


def de_novo(pid, **kw) -> FhirPatient:
    kw.setdefault("primary", "2024-01-10")
    return hr_positive_mbc(pid, **kw)


def after_ai_cdk46i(pid, cdk="ribociclib", **kw) -> FhirPatient:
    """De novo MBC, progressed on first-line letrozole + CDK4/6 inhibitor."""
    return de_novo(pid, **kw).regimen(("letrozole", cdk), "2024-02-01", "2025-05-20").progression("2025-05-15")


def adjuvant_relapse(pid, ended: str, **kw) -> FhirPatient:
    """Adjuvant letrozole 2016-06 .. `ended` (None: still on it), metastatic relapse 2024-01-15."""
    return hr_positive_mbc(pid, primary="2016-03-01", **kw).med("letrozole", "2016-06-01", ended)


# --- first line ------------------------------------------------------------

def test_fhir_de_novo_first_line_gets_ai_cdk46i_with_letrozole_ribociclib_recommended_then_fulvestrant_ribociclib():
    state, cards = run(de_novo("fl-denovo"), FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "de-novo"
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert recommended(card(cards, "ai-cdk46i")) == ["letrozole", "ribociclib"]
    assert ordered_tests(cards) == ["test-pik3ca-akt1-pten", "test-germline-brca"]


def test_fhir_relapse_two_years_after_adjuvant_ai_is_endocrine_sensitive_first_line():
    state, cards = run(adjuvant_relapse("fl-sensitive", "2021-12-31"), FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "sensitive"
    assert regimen_topics(cards)[0] == "ai-cdk46i"


def test_fhir_an_endocrine_sensitive_relapse_gets_fulvestrant_with_ribociclib_only_not_the_after_progression_partners():
    # C.2 step 2: endocrine-sensitive (> 12 months after adjuvant ET) -> AI + CDK4/6i or
    # fulvestrant + ribociclib ("initial endocrine-based therapy"); palbociclib / abemaciclib +
    # fulvestrant are labelled after progression on endocrine therapy (B.9 (iv)), which a
    # relapse 12 months and a day after adjuvant letrozole is not (ABC4, C.1)
    state, cards = run(adjuvant_relapse("fl-sensitive-fulv", "2023-01-14"), FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "sensitive"
    fulv = card(cards, "fulvestrant-cdk46i")
    assert suggestion_drugs(fulv) == [["fulvestrant", "ribociclib"]]
    assert ("Not offered: Fulvestrant + abemaciclib — abemaciclib: Recurrence 12 months and 1 day (more than 12) "
            "after completing adjuvant endocrine therapy (ended 2023-01-14): endocrine-sensitive") in fulv["detail"]
    # exactly 12 months (C.3 row 1: <= 12.0 inclusive) is endocrine-resistant: all three partners
    _, cards = run(adjuvant_relapse("fl-resistant-fulv", "2023-01-15"), FIRST_LINE_AS_OF)
    assert sorted(suggestion_drugs(card(cards, "fulvestrant-cdk46i"))) == [
        ["fulvestrant", "abemaciclib"], ["fulvestrant", "palbociclib"], ["fulvestrant", "ribociclib"]]


# B.9 (iv): palbociclib / abemaciclib + fulvestrant after progression on endocrine therapy. A
# relapse 3 years after adjuvant letrozole (endocrine-sensitive, ABC4 C.1), or de novo metastatic
# disease (no adjuvant endocrine therapy), whose first-line letrozole was stopped for arthralgia
# with no progression documented has not progressed on any endocrine therapy: fulvestrant +
# ribociclib ("initial endocrine-based therapy", B.9 (iii)/B.10) only; a progression on that
# line is one: all three partners
@pytest.mark.parametrize("start,resistance,why", [
    (lambda pid: adjuvant_relapse(pid, "2021-01-14"), "sensitive", ""),
    (de_novo, "de-novo", "de novo metastatic disease, no endocrine therapy before it")])
def test_fhir_a_first_line_ai_stopped_for_toxicity_after_a_sensitive_relapse_or_de_novo_gets_fulvestrant_with_ribociclib_only(
        start, resistance, why):
    p = start("tox-stop").med("letrozole", "2024-02-01", "2024-04-01", stopped_for="Arthralgia")
    state, cards = run(p, dt.date(2024, 5, 1))
    assert state.therapy.endocrine_resistance == resistance
    fulv = card(cards, "fulvestrant-cdk46i")
    assert suggestion_drugs(fulv) == [["fulvestrant", "ribociclib"]]
    assert ("Not offered: Fulvestrant + abemaciclib — abemaciclib: No progression on 1 endocrine-based line for "
            "metastatic disease documented (0 counted): stopped for a stated reason other than progression") in fulv["detail"]
    assert why in fulv["detail"]
    [order] = _order(state, [_draft("fulvestrant", "fulvestrant", "282357"), _draft(*PALBOCICLIB)])
    assert order["summary"].startswith("Fulvestrant + palbociclib: not indicated — No progression on 1 endocrine-based")
    p = start("prog").med("letrozole", "2024-02-01", "2024-04-01").progression("2024-03-25")
    _, cards = run(p, dt.date(2024, 5, 1))
    assert len(suggestion_drugs(card(cards, "fulvestrant-cdk46i"))) == 3


def test_fhir_the_relapse_months_on_a_card_cite_the_stage_iv_record_that_dates_the_metastatic_diagnosis():
    # C.2 step 1: metastatic_dx_date = the earliest of the metastasis, M1 and stage IV records;
    # stage IV on 2023-12-01, the metastasis Condition on 2024-01-15: 11.5 months after the
    # adjuvant end, a fact a reader checks against the record it cites (not 2024-01-15: 13 months)
    p = adjuvant_relapse("fl-dated-by-stage", "2022-12-15").stage_iv("2023-12-01").variant(
        "PIK3CA", "p.His1047Arg", on="2024-01-20")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic_date == dt.date(2023, 12, 1)
    why = card(cards, "inavolisib-palbociclib-fulvestrant")["detail"].split("**Why it fits this patient**")[1]
    fact = next(line for line in why.splitlines() if line.startswith("- Recurrence 11.5 months"))
    assert fact.endswith("MedicationStatement/med-letrozole-7 (2016-06-01), Observation/stage-8 (2023-12-01)")


def test_fhir_a_recurrence_without_any_recorded_adjuvant_endocrine_therapy_says_the_sensitivity_rests_on_that_absence():
    # C.2 step 1 (ABC4 class) and step 2: an adjuvant course given elsewhere that ended within 12
    # months would make this relapse endocrine-resistant (inavolisib / fulvestrant, not an AI):
    # the absence is read as endocrine-naive and the summary says so, as a data gap
    state, cards = run(hr_positive_mbc("fl-no-adjuvant-record", primary="2016-03-01"), FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "sensitive"
    assert regimen_topics(cards)[0] == "ai-cdk46i"
    gaps = card(cards, "patient-summary")["detail"].split("**Data gaps that limit the advice**")[1]
    assert ("- No (neo)adjuvant endocrine therapy is recorded before this recurrence (breast cancer diagnosed "
            "2016-03-01): read as endocrine-naive (endocrine-sensitive).") in gaps
    # de novo metastatic disease: nothing to confirm; a recorded adjuvant course: its dates decide
    for p in (de_novo("fl-de-novo-no-gap"), adjuvant_relapse("fl-adjuvant-recorded", "2021-12-31")):
        _, cards = run(p, FIRST_LINE_AS_OF)
        assert "(neo)adjuvant endocrine therapy is recorded" not in card(cards, "patient-summary")["detail"]


def test_fhir_a_premenopausal_diabetic_relapsing_8_months_after_adjuvant_ai_and_ofs_gets_inavolisib_with_ofs_and_the_alternative_named():
    # C.2 step 2: endocrine-resistant + PIK3CA -> inavolisib + palbociclib + fulvestrant, + OFS if
    # premenopausal; type 2 diabetes on treatment -> "hyperglycemia warning ('not studied') and
    # alternatives" (B.1 label 5.1): the warning names fulvestrant + CDK4/6i, the next card
    p = hr_positive_mbc("fl-premeno-diabetic", primary="2018-03-01", birth="1980-04-01", menopause="premenopausal")
    p.med("anastrozole", "2018-06-01", "2023-05-15").med("goserelin", "2018-06-01", "2023-05-15")
    p.variant("PIK3CA", "p.His1047Arg", specimen="tissue", on="2024-01-20").diabetes(2).med("metformin", "2015-01-01")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "secondary"
    assert regimen_topics(cards)[:2] == ["inavolisib-palbociclib-fulvestrant", "fulvestrant-cdk46i"]
    inavo = card(cards, "inavolisib-palbociclib-fulvestrant")
    assert inavo["indicator"] == "warning"
    assert recommended(inavo) == ["inavolisib", "palbociclib", "fulvestrant", "goserelin"]
    assert "have not been studied" in inavo["detail"]
    assert ("Alternative without a PI3K inhibitor: fulvestrant + a CDK4/6 inhibitor (C.2 step 2: the warning "
            "with its alternatives).") in inavo["detail"]


def test_fhir_inavolisib_after_an_adjuvant_cdk46_inhibitor_states_the_inavo120_population_and_that_the_reference_is_silent_on_it():
    # B.1: INAVO120 enrolled progression during or within 12 months of adjuvant ET, no prior therapy
    # for advanced disease; it says nothing of an adjuvant CDK4/6 inhibitor (monarchE abemaciclib):
    # the card said nothing at all; now an info caution states the population, the card stays info
    p = adjuvant_relapse("fl-inavo-adj-abema", "2023-06-01").med("abemaciclib", "2021-06-01", "2023-06-01")
    _, cards = run(p.variant("PIK3CA", "p.His1047Arg", on="2024-01-20"), FIRST_LINE_AS_OF)
    inavo = card(cards, "inavolisib-palbociclib-fulvestrant")
    assert inavo["indicator"] == "info" and recommended(inavo)[:3] == ["inavolisib", "palbociclib", "fulvestrant"]
    assert ("CDK4/6 inhibitor before metastatic disease: INAVO120 (B.1) enrolled PIK3CA-mutated HR+/HER2- advanced "
            "breast cancer with progression during or within 12 months of completing adjuvant endocrine therapy and no "
            "prior systemic therapy for advanced disease; the reference does not say whether patients given an "
            "adjuvant CDK4/6 inhibitor were enrolled (UNVERIFIED).") in inavo["detail"]
    assert "Patient: Prior CDK4/6 inhibitor: abemaciclib — MedicationStatement/med-abemaciclib-" in inavo["detail"]
    # adjuvant endocrine therapy alone: no such caution
    p = adjuvant_relapse("fl-inavo-adj-et", "2023-06-01").variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert "CDK4/6 inhibitor before metastatic disease" not in card(cards, "inavolisib-palbociclib-fulvestrant")["detail"]


def test_fhir_a_recurrence_on_adjuvant_tamoxifen_at_18_months_says_to_stop_tamoxifen_before_the_recommended_ribociclib():
    # ABC4 (C.1): relapse in the first 2 years of adjuvant ET is primary resistance; the cards
    # recommend ribociclib, which the order hooks warn on while tamoxifen is recorded as given
    # (order_rules.yaml ribociclib-tamoxifen, C.2 safety overlays): the card says it first
    p = hr_positive_mbc("fl-on-tamoxifen", primary="2022-05-01").med("tamoxifen", "2022-07-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "primary"
    assert regimen_topics(cards)[:2] == ["fulvestrant-cdk46i", "ai-cdk46i"]
    for topic in ("fulvestrant-cdk46i", "ai-cdk46i"):
        c = card(cards, topic)
        assert "ribociclib" in recommended(c) and c["indicator"] == "info"
        assert "Stop tamoxifen before ribociclib" in c["detail"]
        assert "Tamoxifen recorded as still given since 2022-07-15" in c["detail"]
    # a completed adjuvant tamoxifen course: nothing to stop
    _, cards = run(hr_positive_mbc("fl-tamoxifen-done", primary="2017-03-01").med("tamoxifen", "2017-06-01", "2022-07-15"),
                   FIRST_LINE_AS_OF)
    assert "Stop tamoxifen" not in card(cards, "ai-cdk46i")["detail"]


def test_fhir_an_adjuvant_tamoxifen_record_still_active_from_twelve_years_before_the_relapse_is_not_read_as_taken_at_it():
    # "active" since 2012, no end, nothing since, relapse 2024-01-15: was read as a relapse on adjuvant
    # ET (secondary resistance, the PIK3CA test deciding inavolisib, "Stop tamoxifen before ribociclib");
    # adjuvant ET lasts 5-10 years and its end (CR C.2 step 1 adjuvant_ET_end_date) is not written
    p = hr_positive_mbc("fl-old-tam", primary="2012-03-01").med("tamoxifen", "2012-06-01")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "unknown"
    assert state.therapy.on_adjuvant_endocrine_at_recurrence is False
    gap = next(g for g in state.gaps if g.code == "adjuvant-endocrine-end-unknown")
    assert "still under way by a record dated more than 10 years before the recurrence" in gap.message
    assert "MedicationStatement/med-tamoxifen-" in gap.message and "tamoxifen from 2012-06-01" in gap.message
    assert not any("Stop tamoxifen" in c["detail"] for c in cards)
    assert "PIK3CA / AKT1 / PTEN testing" in [c["summary"] for c in cards]
    # asserted as still taken in 2023 (FHIR R4 MedicationStatement.dateAsserted): read as before
    p = hr_positive_mbc("fl-old-tam-2", primary="2012-03-01").med("tamoxifen", "2012-06-01")
    p.resources[-1]["dateAsserted"] = "2023-11-01"
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "secondary" and state.therapy.on_adjuvant_endocrine_at_recurrence
    assert "Stop tamoxifen before ribociclib" in card(cards, "ai-cdk46i")["detail"]


def test_fhir_a_relapse_years_after_completing_adjuvant_ai_gets_no_esr1_test_until_a_metastatic_endocrine_line():
    # ASCO 2023 (C.1): ESR1 "at recurrence or progression on ET"; C.2 step 2 tests ESR1 at first
    # line only after an endocrine-resistant relapse ("since relapse on ET"), not after one
    # more than 12 months off adjuvant ET (it lists PIK3CA/AKT1/PTEN, germline BRCA1/2, HER2)
    state, cards = run(adjuvant_relapse("fl-sensitive-esr1", "2021-12-31"), FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "sensitive"
    assert ordered_tests(cards) == ["test-pik3ca-akt1-pten", "test-germline-brca"]
    # a relapse within 12 months of it: tested now (C.2 step 2, "since relapse on ET")
    _, cards = run(adjuvant_relapse("fl-resistant-esr1", "2023-07-01"), FIRST_LINE_AS_OF)
    assert "now (progression/recurrence on endocrine therapy)" in card(cards, "test-esr1")["detail"]
    # once a metastatic endocrine line runs: tested at its progression, as after a de novo start
    p = adjuvant_relapse("fl-sensitive-esr1-on-line", "2021-12-31").regimen(("letrozole", "ribociclib"), "2024-02-01")
    _, cards = run(p, dt.date(2024, 6, 1))
    assert "at progression on the current line" in card(cards, "test-esr1")["detail"]


def test_fhir_pik3ca_relapse_within_12_months_of_adjuvant_ai_gets_inavolisib_palbociclib_fulvestrant_first():
    p = adjuvant_relapse("fl-inavo", "2023-07-01").variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    state, cards = run(p, FIRST_LINE_AS_OF)
    regs = regimen_topics(cards)
    assert regs[:2] == ["inavolisib-palbociclib-fulvestrant", "fulvestrant-cdk46i"]
    assert "ai-cdk46i" not in regs
    ina = card(cards, "inavolisib-palbociclib-fulvestrant")
    assert suggestion_drugs(ina) == [["inavolisib", "palbociclib", "fulvestrant"]]
    assert "test-glycemic" in ordered_tests(cards) and "test-esr1" in ordered_tests(cards)


def test_fhir_refill_requests_inside_the_recorded_adjuvant_course_do_not_hide_an_early_relapse():
    # the same relapse as above, with the monthly refill requests an EHR keeps beside the
    # course: each has only authoredOn, and all fall within the recorded letrozole course
    p = adjuvant_relapse("fl-inavo-refills", "2023-07-01").variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    for authored in ("2016-06-01", "2019-03-15", "2022-11-20", "2023-06-25"):
        p.refill("letrozole", authored)
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "secondary"
    assert "adjuvant-endocrine-end-unknown" not in {g.code for g in state.gaps}
    assert regimen_topics(cards)[0] == "inavolisib-palbociclib-fulvestrant"


def test_fhir_a_refill_after_the_recorded_adjuvant_end_leaves_the_relapse_timing_unknown_and_says_so():
    p = adjuvant_relapse("fl-late-refill", "2023-07-01").variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    p.refill("letrozole", "2023-09-01")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "unknown"
    assert "inavolisib-palbociclib-fulvestrant" not in regimen_topics(cards)
    summary = card(cards, "patient-summary")
    assert "Adjuvant endocrine therapy is documented without an end date" in summary["detail"]


def test_fhir_relapse_on_adjuvant_ai_with_pik3ca_gets_inavolisib_first():
    p = adjuvant_relapse("fl-on-adj", None).variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards)[0] == "inavolisib-palbociclib-fulvestrant"


def test_fhir_early_relapse_without_pik3ca_result_gets_fulvestrant_cdk46i_and_a_pik3ca_test():
    _, cards = run(adjuvant_relapse("fl-untested", "2023-07-01"), FIRST_LINE_AS_OF)
    assert regimen_topics(cards) == ["fulvestrant-cdk46i"]
    assert "Inavolisib" in card(cards, "test-pik3ca-akt1-pten")["summary"]


def test_fhir_pik3ca_negative_in_plasma_only_asks_for_tissue_testing():
    p = adjuvant_relapse("fl-ctdna-neg", "2023-07-01").variant("PIK3CA", detected=False, specimen="ctdna", on="2024-01-20")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.biomarkers.status("PIK3CA") == "not-detected-ctdna-only"
    assert "inavolisib-palbociclib-fulvestrant" not in regimen_topics(cards)
    assert "tissue" in card(cards, "test-pik3ca-akt1-pten")["suggestions"][0]["label"]


def test_fhir_a_pik3ca_vus_in_plasma_only_is_shown_as_found_not_as_not_detected_and_asks_for_tissue():
    # a VUS is no actionable variant (C.2 step 1) and ctDNA without one is not wild-type (C.3
    # row 2): tissue is asked for, but the cards must not say the record found nothing
    p = after_ai_cdk46i("pp-pik3ca-vus-ctdna").variant("PIK3CA", "p.Glu545Lys", specimen="ctdna", on="2025-06-01",
                                                       significance="vus")
    state, cards = run(p)
    assert state.biomarkers.status("PIK3CA") == "not-detected-ctdna-only"
    test = card(cards, "test-pik3ca-akt1-pten")
    assert "PIK3CA not detected" not in test["detail"]
    assert "PIK3CA p.Glu545Lys detected (somatic, plasma ctDNA, vus, 2025-06-01)" in test["detail"]
    assert "tissue" in test["suggestions"][0]["label"]
    order = [c.to_json() for c in order_cards(state, [_draft("alpelisib", "pi3k-akt-mtor", "2169285"),
                                                      _draft("fulvestrant", "fulvestrant", "282357")], None, "order-sign")]
    missing = [c for c in order if c["source"]["topic"]["code"] == "order-biomarker-missing"]
    assert missing and "PIK3CA p.Glu545Lys detected (somatic, plasma ctDNA, vus, 2025-06-01)" in missing[0]["detail"]
    assert "No PIK3CA alteration in plasma ctDNA only" not in missing[0]["detail"]


def test_fhir_visceral_crisis_puts_chemotherapy_first():
    p = de_novo("fl-crisis", site="liver").visceral_crisis("2024-01-16")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards)[0] == "chemotherapy"
    assert recommended(card(cards, "chemotherapy")) == ["paclitaxel"]


def test_fhir_the_chemotherapy_card_in_a_visceral_crisis_allows_a_combination_and_says_endocrine_therapy_follows():
    # C.2 step 2: "chemotherapy card (single agent or combination per clinician) + note ET-based
    # therapy after stabilization"; without a crisis (a later line) the card does not say it
    p = de_novo("fl-crisis-note", site="liver").visceral_crisis("2024-01-15")
    _, cards = run(p, FIRST_LINE_AS_OF)
    chemo = card(cards, "chemotherapy")
    assert chemo["indicator"] == "info"
    assert ("- Visceral crisis: single-agent or combination chemotherapy as the clinician judges; endocrine-based "
            "therapy after stabilisation (C.2 step 2).") in chemo["detail"]
    _, cards = run(after_ai_cdk46i("fl-no-crisis-note"))
    assert "Visceral crisis:" not in card(cards, "chemotherapy")["detail"]


def test_fhir_a_visceral_crisis_treated_by_first_line_chemotherapy_no_longer_puts_chemotherapy_first():
    # CR C.1 (ABC4): a current state of organ dysfunction; paclitaxel started after the
    # crisis and was completed: the summary shows it as history, the ranking does not use it
    p = hr_positive_mbc("fl-crisis-treated", birth="1955-01-01", her2="0")
    p.visceral_crisis("2024-01-16").med("paclitaxel", "2024-02-01", "2024-08-01")
    state, cards = run(p, dt.date(2026, 11, 21))
    assert state.disease.visceral_crisis is False
    assert regimen_topics(cards)[0] != "chemotherapy"
    chemo = card(cards, "chemotherapy")
    assert "Visceral crisis asserted" not in chemo["detail"]
    summary = card(cards, "patient-summary")["detail"]
    assert ("Visceral crisis documented 2024-01-16, treated with metastatic line 1 (paclitaxel) from 2024-02-01; "
            "not current") in summary


def test_fhir_pik3ca_relapse_three_years_after_adjuvant_ai_gets_no_first_line_alpelisib_card():
    # endocrine-sensitive: ET + CDK4/6i first (C.2 step 2); alpelisib + fulvestrant after
    # progression (C.2 step 3; C.3 row 5 "not 1L"), as the PI3K/AKT regimens with a 12-month rule
    p = adjuvant_relapse("fl-alpelisib-sensitive", "2021-01-15").variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "sensitive"
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    summary = card(cards, "patient-summary")["detail"]
    assert "- Alpelisib + fulvestrant: 0 systemic lines for metastatic disease, at least 1 needed" in summary
    order = [c.to_json() for c in order_cards(state, [_draft("alpelisib", "pi3k-akt-mtor", "2169285"),
                                                      _draft("fulvestrant", "fulvestrant", "282357")], None, "order-sign")]
    assert [c["summary"].split(" — ")[0] for c in order] == ["Alpelisib + fulvestrant: not indicated"]
    assert "Recurrence 36.0 months (more than 12) after completing adjuvant endocrine therapy" in order[0]["detail"]


def test_fhir_pik3ca_relapse_within_12_months_of_adjuvant_ai_keeps_first_line_alpelisib_after_the_others():
    p = adjuvant_relapse("fl-alpelisib-resistant", "2023-07-01").variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards)[-1] == "alpelisib-fulvestrant"
    alp = card(cards, "alpelisib-fulvestrant")
    assert alp["summary"] == "Alpelisib + fulvestrant: PIK3CA-mutated relapse within 12 mo of adjuvant endocrine therapy"
    assert "Recurrence 6.5 months (within 12) after completing adjuvant endocrine therapy" in alp["detail"]


def test_fhir_liver_metastases_alone_are_not_a_visceral_crisis():
    _, cards = run(de_novo("fl-liver", site="liver"), FIRST_LINE_AS_OF)
    assert "chemotherapy" not in regimen_topics(cards)


# --- after progression on ET + CDK4/6i ------------------------------------

def test_fhir_esr1_after_progression_gets_elacestrant_and_imlunestrant_first():
    p = after_ai_cdk46i("pp-esr1").variant("ESR1", "p.Asp538Gly", on="2025-06-01")
    state, cards = run(p)
    assert state.biomarkers.esr1_current is True
    assert regimen_topics(cards)[:2] == ["elacestrant", "imlunestrant"]
    el = card(cards, "elacestrant")
    assert "EMERALD" in el["detail"] and "p.Asp538Gly" in el["detail"]
    assert any("clinicaltrials.gov" in link["url"] and "ESR1" in link["url"] for link in el["links"])
    assert "test-esr1" not in ordered_tests(cards)


def test_fhir_esr1_wild_type_before_the_latest_progression_asks_for_a_new_ctdna_test():
    p = after_ai_cdk46i("pp-esr1-stale").variant("ESR1", detected=False, on="2024-01-20")
    state, cards = run(p)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)


def test_fhir_an_esr1_wild_type_taken_during_a_line_stopped_for_progression_without_an_end_date_asks_for_a_re_test():
    # C.3 row 18: current only if after the most recent endocrine exposure and at/after the
    # latest progression. Letrozole + ribociclib stopped for progression, no end date: the end
    # is any day from its start to as_of, so a wild-type result taken during it is not current
    p = de_novo("pp-esr1-undated-end", her2="0").variant("ESR1", detected=False, on="2024-06-01", significance=None)
    for drug in ("letrozole", "ribociclib"):
        p.med(drug, "2024-02-01", stopped_for="Disease progression")
    state, cards = run(p)
    assert state.biomarkers.esr1_current is False
    assert "test-esr1" in ordered_tests(cards)
    assert ("The latest ESR1 result (2024-06-01) cannot be shown to follow the end of metastatic line 1 (letrozole + "
            "ribociclib) between 2024-02-01 and 2025-07-01 (no end date recorded): re-test ESR1 (ctDNA preferred).") in \
        card(cards, "patient-summary")["detail"]
    # a later line started: the undated line ended before it, a result after that start is current
    p.med("fulvestrant", "2024-09-01")
    p.variant("ESR1", detected=False, on="2024-10-01", significance=None)
    state, cards = run(p)
    assert state.biomarkers.esr1_current is True


def test_fhir_an_esr1_result_after_the_date_a_stopped_statement_was_asserted_is_current_without_an_end_date():
    # FHIR R4 MedicationStatement.dateAsserted: when the statement, status 'stopped', was
    # asserted, so the line had ended by then; an ESR1 result after it follows the end of the
    # line (C.3 row 18): current, no re-test. Before, the end was any day up to as_of and the
    # result a year later was read stale
    def stopped_asserted(pid: str, esr1_on: str) -> FhirPatient:
        p = de_novo(pid, her2="0").variant("ESR1", detected=False, on=esr1_on, significance=None)
        for drug in ("letrozole", "ribociclib"):
            p.med(drug, "2024-02-01", stopped_for="Disease progression")
            p.resources[-1]["dateAsserted"] = "2024-08-01"
        return p
    state, cards = run(stopped_asserted("pp-esr1-asserted-after", "2025-02-01"))
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    # a result taken before it was asserted may predate the end: re-test, the range ends then
    state, cards = run(stopped_asserted("pp-esr1-asserted-before", "2024-06-01"))
    assert state.biomarkers.esr1_current is False
    assert ("The latest ESR1 result (2024-06-01) cannot be shown to follow the end of metastatic line 1 (letrozole + "
            "ribociclib) between 2024-02-01 and 2024-08-01 (no end date recorded): re-test ESR1 (ctDNA preferred).") in \
        card(cards, "patient-summary")["detail"]


def test_fhir_esr1_result_between_two_endocrine_lines_is_stale_and_every_card_names_the_same_date_it_predates():
    # ESR1 tested after line 1, then line 2 (fulvestrant + abemaciclib) given and ended:
    # the result predates the end of line 2 (C.3 row 18: after the most recent endocrine
    # exposure), not the progression on line 1 it follows
    p = de_novo("pp-esr1-between", her2="0")
    p.med("letrozole", "2024-02-01", "2025-02-01").med("ribociclib", "2024-02-01", "2025-02-01")
    p.variant("ESR1", "p.Asp538Gly", on="2025-02-15")
    p.med("fulvestrant", "2025-03-01", "2026-08-01").med("abemaciclib", "2025-03-01", "2026-08-01")
    state, cards = run(p, dt.date(2026, 11, 21))
    assert state.biomarkers.esr1_current is False
    ref = "predates the end of metastatic line 2 (abemaciclib + fulvestrant) on 2026-08-01"
    for topic in ("elacestrant", "imlunestrant"):
        line = next(x for x in card(cards, topic)["detail"].splitlines() if "Patient: ESR1 result" in x)
        assert ref in line and "latest ESR1 result 2025-02-15" in line, line
        assert "2025-02-01" not in line
    summary = card(cards, "patient-summary")["detail"]
    gap = next(x for x in summary.splitlines() if "re-test ESR1" in x)
    assert f"The latest ESR1 result (2025-02-15) {ref}" in gap
    assert "MedicationStatement/" in gap  # the source of the date, next to the ESR1 result
    assert "ESR1 result current (it must follow the end of metastatic line 2" in summary


def _esr1_detected_before_line_2(pid: str, on: str | None = "2025-02-15") -> FhirPatient:
    """ESR1 found after line 1 (letrozole + ribociclib), then line 2 (fulvestrant +
    abemaciclib) given and ended 2026-08-01: the detection predates the latest endocrine line."""
    p = de_novo(pid, her2="0")
    p.med("letrozole", "2024-02-01", "2025-02-01").med("ribociclib", "2024-02-01", "2025-02-01")
    p.variant("ESR1", "p.Asp538Gly", on=on)
    return p.med("fulvestrant", "2025-03-01", "2026-08-01").med("abemaciclib", "2025-03-01", "2026-08-01")


def test_fhir_an_esr1_detection_before_the_latest_endocrine_line_gets_a_re_test_card_that_confirms_the_oral_serds():
    # C.3 row 18: a result is current only after the most recent endocrine exposure,
    # "otherwise recommend re-test"; the SERDs stay offered on the older detection
    state, cards = run(_esr1_detected_before_line_2("pp-esr1-stale-pos"), dt.date(2026, 11, 21))
    assert state.biomarkers.esr1_current is False
    assert regimen_topics(cards)[:2] == ["elacestrant", "imlunestrant"]
    test = card(cards, "test-esr1")
    assert test["summary"].startswith("ESR1 mutation testing (plasma ctDNA) — confirms Elacestrant, Imlunestrant")
    why = next(x for x in test["detail"].splitlines() if x.startswith("- ESR1 detection"))
    assert ("ESR1 detection predates the end of metastatic line 2 (abemaciclib + fulvestrant) on 2026-08-01: "
            "ESR1 p.Asp538Gly detected") in why
    assert "C.3 row 18" in why and "Observation/var-esr1-" in why
    assert [s["label"] for s in test["suggestions"]], "the re-test is one click away"


def test_fhir_an_undated_esr1_detection_after_endocrine_therapy_gets_a_re_test_card_that_says_it_is_undated():
    state, cards = run(_esr1_detected_before_line_2("pp-esr1-undated-pos", on=None), dt.date(2026, 11, 21))
    assert state.biomarkers.esr1_current is False
    why = next(x for x in card(cards, "test-esr1")["detail"].splitlines() if x.startswith("- ESR1 detection"))
    assert "ESR1 detection is undated, so it cannot be shown to follow the end of metastatic line 2" in why
    assert "predates" not in why


def test_fhir_a_current_esr1_detection_gets_no_re_test_card():
    state, cards = run(_esr1_detected_before_line_2("pp-esr1-current-pos", on="2026-08-20"), dt.date(2026, 11, 21))
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert regimen_topics(cards)[:2] == ["elacestrant", "imlunestrant"]


# C.3 row 18: ESR1 "at each recurrence/progression on ET; ctDNA preferred; archival primary tissue
# inappropriate"; a result is current only if the specimen was collected after the most recent ET
# exposure. A specimen described as archival / the primary tumour, with no collection date: the
# Observation's date is the test's, not the tissue's (local_codes.yaml archival_specimen).

@pytest.mark.parametrize("described", [
    "Archival primary tumour block (FFPE), 2016 mastectomy",
    "FFPE block of the primary",
    "Breast primary, lumpectomy specimen",
    "Archival tissue",
])
def test_fhir_an_esr1_negative_on_archival_primary_tissue_without_a_collection_date_is_not_current(described):
    p = after_ai_cdk46i("pp-esr1-archival").variant("ESR1", detected=False, specimen="tissue", on="2025-06-01",
                                                    specimen_text=described)
    state, cards = run(p)
    assert state.biomarkers.esr1_current is False
    assert assess(state, "elacestrant").status == "unknown"
    test = card(cards, "test-esr1")
    assert test["summary"].startswith("ESR1 mutation testing (plasma ctDNA) — decides Elacestrant, Imlunestrant")
    why = next(x for x in test["detail"].splitlines() if x.startswith("- Last ESR1 result"))
    assert ("Last ESR1 result cannot be shown to follow the progression on metastatic line 1 (letrozole + "
            "ribociclib) on 2025-05-20 (archival primary tissue is not suitable") in why
    assert ("ESR1 not detected (somatic, archival or primary-tumour tissue without a collection date, "
            "result of 2025-06-01)") in why
    summary = card(cards, "patient-summary")["detail"]
    serd = not_offered_line(summary, "Elacestrant")
    assert ": waiting on — " in serd and "a current ESR1 result is needed" in serd
    assert "re-test ESR1 (ctDNA preferred)" in summary


def test_fhir_an_esr1_negative_on_a_metastasis_biopsy_naming_the_breast_primary_stays_current():
    # "breast primary" names where the cancer started; the specimen is the metastasis
    p = after_ai_cdk46i("pp-esr1-met-biopsy").variant("ESR1", detected=False, specimen="tissue", on="2025-06-01",
                                                      specimen_text="Liver metastasis core biopsy of a breast primary")
    state, cards = run(p)
    assert state.biomarkers.esr1_current is True
    assert "test-esr1" not in ordered_tests(cards)
    assert assess(state, "elacestrant").status == "not-fit"


def test_fhir_an_esr1_negative_on_primary_tissue_collected_before_endocrine_therapy_is_stale_by_its_collection_date():
    # tested in 2025 on the 2024-01-10 mastectomy: the collection date decides (C.3 row 18)
    p = after_ai_cdk46i("pp-esr1-primary-dated").variant("ESR1", detected=False, specimen="tissue", on="2025-06-01",
                                                         specimen_text="Primary breast tumour tissue, mastectomy",
                                                         collected="2024-01-10")
    state, cards = run(p)
    assert state.biomarkers.esr1_current is False
    why = next(x for x in card(cards, "test-esr1")["detail"].splitlines() if x.startswith("- Last ESR1 result"))
    assert "Last ESR1 result predates the progression on metastatic line 1" in why
    assert "ESR1 not detected (somatic, tissue, 2024-01-10)" in why
    assert assess(state, "elacestrant").status == "unknown"


def test_fhir_an_esr1_detection_on_archival_tissue_without_a_collection_date_is_offered_with_a_re_test_card():
    # a detection is still a detection (the stale-detection rule): the SERDs are offered with
    # the not-current caution, and the re-test card "confirms" them
    p = after_ai_cdk46i("pp-esr1-archival-pos").variant("ESR1", "p.Asp538Gly", specimen="tissue", on="2025-06-01",
                                                        specimen_text="Archival primary tumour block (FFPE)")
    state, cards = run(p)
    assert state.biomarkers.esr1_current is False
    assert regimen_topics(cards)[:2] == ["elacestrant", "imlunestrant"]
    caution = next(x for x in card(cards, "elacestrant")["detail"].splitlines() if "Patient: ESR1 result" in x)
    assert "ESR1 result cannot be shown to follow the progression on metastatic line 1" in caution
    assert "predates the progression" not in caution
    test = card(cards, "test-esr1")
    assert test["summary"].startswith("ESR1 mutation testing (plasma ctDNA) — confirms Elacestrant, Imlunestrant")
    why = next(x for x in test["detail"].splitlines() if x.startswith("- ESR1 detection"))
    assert "ESR1 detection cannot be shown to follow the progression on metastatic line 1" in why
    assert "ESR1 p.Asp538Gly detected (somatic, archival or primary-tumour tissue without a collection date" in why


def test_fhir_esr1_result_after_the_latest_endocrine_line_is_current_and_says_what_it_follows():
    p = de_novo("pp-esr1-after", her2="0")
    p.med("letrozole", "2024-02-01", "2025-02-01").med("ribociclib", "2024-02-01", "2025-02-01")
    p.variant("ESR1", "p.Asp538Gly", on="2025-02-15")
    state, cards = run(p, dt.date(2025, 3, 1))
    assert state.biomarkers.esr1_current is True
    assert "re-test ESR1" not in card(cards, "patient-summary")["detail"]
    assert "predates" not in card(cards, "elacestrant")["detail"]


def _on_first_line_with_esr1(pid: str) -> FhirPatient:
    """De novo MBC on first-line letrozole + ribociclib since 2024-02-01, still going;
    ESR1 found in ctDNA on 2025-06-01."""
    p = de_novo(pid).regimen(("letrozole", "ribociclib"), "2024-02-01", None)
    return p.variant("ESR1", "p.Asp538Gly", specimen="ctdna", on="2025-06-01")


def test_fhir_esr1_found_on_an_ongoing_line_without_progression_recommends_no_switch_to_an_oral_serd():
    # C.3 row 4: do not switch on ctDNA ESR1 emergence without radiographic progression
    # (SERENA-6's pre-progression switch is not approved); the SERD labels need progression
    state, cards = run(_on_first_line_with_esr1("pp-esr1-emergence"))
    for topic in ("elacestrant", "imlunestrant"):
        c = card(cards, topic)
        assert c["indicator"] == "warning"
        assert "not recommended: ESR1 found before progression" in c["summary"]
        assert not any(s.get("isRecommended") for s in c["suggestions"])
        assert "Do not switch on ESR1 emergence without radiographic progression" in c["detail"]
        assert "during line 1: letrozole + ribociclib from 2024-02-01 (ongoing)" in c["detail"]


def test_fhir_esr1_found_on_a_line_held_for_toxicity_without_progression_recommends_no_switch_to_an_oral_serd():
    # FHIR R4 medication-statement-status "on-hold": temporarily halted, expected to continue;
    # the line has not ended, and C.3 row 4 still forbids the switch without progression
    p = (de_novo("pp-esr1-held").med("letrozole", "2024-02-01", status="on-hold")
         .med("ribociclib", "2024-02-01", status="on-hold")
         .variant("ESR1", "p.Asp538Gly", specimen="ctdna", on="2025-06-01"))
    state, cards = run(p)
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1;")
    for topic in ("elacestrant", "imlunestrant"):
        c = card(cards, topic)
        assert c["indicator"] == "warning"
        assert "not recommended: ESR1 found before progression" in c["summary"]


def test_fhir_esr1_found_on_an_ongoing_line_after_documented_progression_is_an_oral_serd_recommendation():
    p = _on_first_line_with_esr1("pp-esr1-progressed").progression("2025-06-10")
    _, cards = run(p)
    el = card(cards, "elacestrant")
    assert el["indicator"] == "info" and recommended(el) == ["elacestrant"]
    assert "ESR1 found before progression" not in el["detail"]


def test_fhir_order_for_an_oral_serd_on_esr1_emergence_without_progression_gets_the_same_warning():
    state = _on_first_line_with_esr1("pp-esr1-emergence-order").state(AS_OF)
    draft = _draft("elacestrant", "oral-serd", "2628469")
    got = [c.to_json() for c in order_cards(state, [draft], [draft.reference], "order-select")]
    assert [c["indicator"] for c in got] == ["warning", "warning"]
    assert "ESR1 found before progression" in got[0]["summary"]
    # the first-line letrozole is still active: elacestrant beside it is a second endocrine agent
    assert got[1]["summary"] == ("Elacestrant drafted while letrozole is active: no labelled regimen gives both — "
                                 "stop letrozole if switching")


def test_fhir_pik3ca_after_progression_gets_capivasertib_then_alpelisib():
    p = after_ai_cdk46i("pp-pik3ca").variant("PIK3CA", "p.Glu545Lys", specimen="tissue", on="2025-06-01")
    _, cards = run(p)
    regs = regimen_topics(cards)
    assert regs[:2] == ["capivasertib-fulvestrant", "alpelisib-fulvestrant"]
    assert suggestion_drugs(card(cards, "capivasertib-fulvestrant")) == [["capivasertib", "fulvestrant"]]


def _alpelisib_stopped_for_hyperglycaemia(pid: str, fulvestrant_end: str | None = None) -> FhirPatient:
    """Line 2 alpelisib + fulvestrant from 2025-06-01 after letrozole + ribociclib; alpelisib
    stopped for hyperglycaemia on 2025-08-01 with no progression recorded."""
    p = after_ai_cdk46i(pid).variant("PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-05-25")
    return (p.med("fulvestrant", "2025-06-01", fulvestrant_end)
            .med("alpelisib", "2025-06-01", "2025-08-01", stopped_for="hyperglycaemia"))


@pytest.mark.parametrize("fulvestrant_end", [None, "2025-08-01"])
def test_fhir_capivasertib_after_alpelisib_stopped_for_hyperglycaemia_is_offered_saying_the_evidence_after_it_is_not_established(
        fulvestrant_end):
    # CR B.5: the Truqap label has no prior-PI3K/AKT/mTOR exclusion, and the reference records
    # none for CAPItello-291 (SOLAR-1's, B.4 / C.3 row 5, is alpelisib's): a caution, not hidden
    _, cards = run(_alpelisib_stopped_for_hyperglycaemia("pp-capi-after-alpe", fulvestrant_end), dt.date(2025, 8, 15))
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["indicator"] == "warning"
    assert capi["summary"].endswith("caution: after another PI3K/AKT/mTOR inhibitor")
    assert ("After another PI3K/AKT/mTOR inhibitor: the Truqap label has no exclusion for it (B.5), but the reference "
            "does not say whether CAPItello-291 enrolled patients given one") in capi["detail"]
    assert "Patient: Prior PI3K/AKT/mTOR inhibitor: alpelisib" in capi["detail"]
    summary = card(cards, "patient-summary")["detail"]
    assert "excluded from CAPItello-291" not in summary
    assert "excluded from SOLAR-1" in not_offered_line(summary, "Alpelisib + fulvestrant")


def test_fhir_capivasertib_is_not_offered_again_after_capivasertib():
    p = after_ai_cdk46i("pp-capi-again").variant("PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-05-25")
    p.regimen(("fulvestrant", "capivasertib"), "2025-06-01", "2025-12-01").progression("2025-11-25")
    _, cards = run(p, dt.date(2026, 1, 5))
    assert "capivasertib-fulvestrant" not in regimen_topics(cards)
    line = not_offered_line(card(cards, "patient-summary")["detail"], "Capivasertib + fulvestrant")
    assert "Already treated with capivasertib. (Prior capivasertib in line 2: capivasertib + fulvestrant" in line


def test_fhir_order_for_capivasertib_after_alpelisib_stopped_for_hyperglycaemia_is_a_caution_not_not_indicated():
    state = _alpelisib_stopped_for_hyperglycaemia("pp-capi-after-alpe-order").state(dt.date(2025, 8, 15))
    draft = _draft("capivasertib", "pi3k-akt-mtor", "2669967")
    got = [c.to_json() for c in order_cards(state, [draft], [draft.reference], "order-select")]
    assert got[0]["indicator"] == "warning"
    assert got[0]["summary"].startswith("Capivasertib: after another PI3K/AKT/mTOR inhibitor")
    assert not any("not indicated" in c["summary"] for c in got)


def test_fhir_akt1_alteration_gets_capivasertib_only():
    p = (after_ai_cdk46i("pp-akt1").variant("AKT1", "p.Glu17Lys", specimen="tissue", on="2025-06-01")
         .variant("PIK3CA", detected=False, specimen="tissue", on="2025-06-01"))
    _, cards = run(p)
    regs = regimen_topics(cards)
    assert "capivasertib-fulvestrant" in regs and "alpelisib-fulvestrant" not in regs


def test_fhir_pten_alteration_gets_capivasertib_only():
    p = (after_ai_cdk46i("pp-pten").variant("PTEN", "p.Arg130Ter", specimen="tissue", on="2025-06-01")
         .variant("PIK3CA", detected=False, specimen="tissue", on="2025-06-01"))
    _, cards = run(p)
    regs = regimen_topics(cards)
    assert "capivasertib-fulvestrant" in regs and "alpelisib-fulvestrant" not in regs


# FHIR R4 ObservationStatus "preliminary": verified early results are available, but not all
# results are final. Such a result decides nothing: a detection leaves the regimen it would open
# waiting, a negative closes nothing and the test is still asked for.

def test_fhir_a_preliminary_pik3ca_detection_leaves_capivasertib_and_alpelisib_waiting_on_the_final_result():
    p = after_ai_cdk46i("pp-pik3ca-prelim").variant("PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-06-01",
                                                    status="preliminary")
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert "capivasertib-fulvestrant" not in regs and "alpelisib-fulvestrant" not in regs
    summary = card(cards, "patient-summary")["detail"]
    found = "PIK3CA p.His1047Arg detected (somatic, tissue, pathogenic, 2025-06-01, preliminary result, not final after 30 days)"
    for name in ("Capivasertib + fulvestrant", "Alpelisib + fulvestrant"):
        waiting = not_offered_line(summary, name)
        assert ": waiting on — " in waiting and f"{found}: the final result decides" in waiting
    assert f"- {found} — Observation/" in summary  # listed under the genomic results
    assert "PIK3CA p.His1047Arg detected (2025-06-01, status preliminary): not final" in summary  # the gap
    assert "no final genomic result (PIK3CA not final)" in card(cards, "patient-summary")["summary"]


def test_fhir_a_preliminary_pik3ca_negative_closes_nothing_and_the_test_is_still_asked_for():
    p = after_ai_cdk46i("pp-pik3ca-prelim-neg").variant("PIK3CA", detected=False, specimen="tissue", on="2025-06-01",
                                                        status="preliminary")
    state, cards = run(p)
    assert assess(state, "alpelisib-fulvestrant").status == "unknown"
    test = card(cards, "test-pik3ca-akt1-pten")
    assert "Alpelisib + fulvestrant" in test["summary"]
    assert ("- AKT1/PTEN not tested; PIK3CA not detected (somatic, tissue, 2025-06-01, preliminary result, "
            "not final after 30 days): the final result decides") in test["detail"]


def test_fhir_a_preliminary_pik3ca_detection_after_a_final_negative_reopens_alpelisib_as_waiting():
    p = (after_ai_cdk46i("pp-pik3ca-neg-then-prelim")
         .variant("PIK3CA", detected=False, specimen="tissue", on="2024-01-20")
         .variant("PIK3CA", "p.His1047Arg", specimen="ctdna", on="2025-06-01", status="preliminary"))
    state, cards = run(p)
    alp = assess(state, "alpelisib-fulvestrant")
    assert alp.status == "unknown"
    assert "PIK3CA p.His1047Arg detected (somatic, plasma ctDNA, pathogenic, 2025-06-01, preliminary result, " \
           "not final after 30 days): the final result decides" in alp.unknown[0].text


# "Preliminary" / "PRELIMINARY": not an ObservationStatus code (codes are lower case), but what
# the sender means; it was read as final and opened the oral SERDs on an early result
@pytest.mark.parametrize("status", ["preliminary", "Preliminary", "PRELIMINARY"])
def test_fhir_a_preliminary_esr1_detection_leaves_the_oral_serds_waiting_and_asks_for_esr1(status):
    p = after_ai_cdk46i("pp-esr1-prelim").variant("ESR1", "p.Asp538Gly", on="2025-06-01", status=status)
    state, cards = run(p)
    assert "elacestrant" not in regimen_topics(cards) and assess(state, "elacestrant").status == "unknown"
    test = card(cards, "test-esr1")
    assert test["summary"].startswith("ESR1 mutation testing (plasma ctDNA) — decides Elacestrant, Imlunestrant")
    assert ("- ESR1 p.Asp538Gly detected (somatic, plasma ctDNA, pathogenic, 2025-06-01, "
            "preliminary result, not final after 30 days): the final result decides") in test["detail"]


def test_fhir_a_gene_with_a_preliminary_result_is_not_called_untested_on_any_card():
    # "PIK3CA not tested; PIK3CA p.His1047Arg detected (preliminary ...)" contradicted itself on
    # the summary, the testing card and the order card; the order summary said the result was
    # "not documented" beside it
    p = after_ai_cdk46i("pp-prelim-untested").variant("PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-06-01",
                                                      status="preliminary")
    p.variant("ESR1", "p.Asp538Gly", on="2025-06-01", status="preliminary")
    state, cards = run(p)
    alp_fulv = [_draft("alpelisib", "pi3k-akt-mtor", "2169285"), _draft("fulvestrant", "fulvestrant", "282357")]
    orders = _order(state, alp_fulv) + _order(state, [_draft("elacestrant", "oral-serd", "2628469")])
    text = _all_text(cards) + "\n" + _all_text(orders)
    for untested in ("PIK3CA not tested", "PIK3CA/AKT1/PTEN not tested", "ESR1 not tested"):
        assert untested not in text
    found = "PIK3CA p.His1047Arg detected (somatic, tissue, pathogenic, 2025-06-01, preliminary result, not final after 30 days)"
    assert f"- AKT1/PTEN not tested; {found}: the final result decides — Observation/" in \
        card(cards, "test-pik3ca-akt1-pten")["detail"]
    assert f"- Alpelisib + fulvestrant: waiting on — {found}: the final result decides" in cards[0]["detail"]
    summaries = [c["summary"] for c in orders if c["source"]["topic"]["code"] == "order-biomarker-missing"]
    assert summaries == ["Alpelisib: PIK3CA mutation result not final yet — label requires it",
                         "Elacestrant: current ESR1 mutation result not final yet — label requires ESR1-mutated disease; current per ASCO 2023"]


def test_fhir_the_pik3ca_testing_card_names_a_preliminary_detection_that_follows_a_final_negative():
    # alpelisib waits on the preliminary detection (summary); the testing card that lists it as
    # waiting said only "PIK3CA not detected; AKT1/PTEN not tested"
    p = (after_ai_cdk46i("pp-neg-then-prelim-card")
         .variant("PIK3CA", detected=False, specimen="tissue", on="2024-01-20")
         .variant("PIK3CA", "p.His1047Arg", specimen="ctdna", on="2025-06-01", status="preliminary"))
    _, cards = run(p)
    test = card(cards, "test-pik3ca-akt1-pten")
    assert "Alpelisib + fulvestrant" in test["summary"]
    why = next(x for x in test["detail"].splitlines() if x.startswith("- PIK3CA not detected"))
    assert why.startswith("- PIK3CA not detected (somatic, tissue, 2024-01-20); AKT1/PTEN not tested; PIK3CA "
                          "p.His1047Arg detected (somatic, plasma ctDNA, pathogenic, 2025-06-01, preliminary result, "
                          "not final after 30 days): the final result decides")


# A result registered or preliminary means the test is done or under way (FHIR R4 ObservationStatus):
# when every gene a test card asks about waits on one, a new order repeats that test (cost, a
# second biopsy for tissue). The card stays, with its orders, none pre-selected, and says what it awaits.

_CAPI_FULV = [_draft("capivasertib", "pi3k-akt-mtor", "2680443"), _draft("fulvestrant", "fulvestrant", "282357")]
_ELACESTRANT = [_draft("elacestrant", "oral-serd", "2628469")]
_TALAZOPARIB = [_draft("talazoparib", "parp-inhibitor", "2049107")]


def _pre_selected(c: dict) -> list[str]:
    return [s["label"] for s in c["suggestions"] if s.get("isRecommended")]


def _biomarker_card(state, drafts) -> dict:
    return card(_order(state, drafts), "order-biomarker-missing")


def _awaiting(*results: str) -> str:
    return (f"**Awaiting the final report** of {'; '.join(results)}: order a new test only if it does not come. "
            "No order is pre-selected: the test is done or under way, and a new one would repeat it.")


@pytest.mark.parametrize("status,written", [("preliminary", "preliminary result, not final after 30 days"),
                                            ("registered", "registered, no final result yet after 30 days")])
def test_fhir_an_esr1_result_not_final_yet_is_awaited_on_the_testing_and_the_elacestrant_card_with_no_new_test_pre_selected(
        status, written):
    p = after_ai_cdk46i(f"pp-esr1-await-{status}").variant("ESR1", "p.Asp538Gly", on="2025-06-01", status=status)
    state, cards = run(p)
    found = f"ESR1 p.Asp538Gly detected (somatic, plasma ctDNA, pathogenic, 2025-06-01, {written})"
    test = card(cards, "test-esr1")
    assert test["summary"].startswith("ESR1 mutation testing (plasma ctDNA) — decides Elacestrant")
    assert test["indicator"] == "info" and [s["label"] for s in test["suggestions"]] == [
        "Order ESR1 mutation analysis, plasma cell-free DNA (ctDNA) NGS (e.g. Guardant360 CDx)"]
    assert _pre_selected(test) == []
    assert _awaiting(found) in test["detail"].splitlines()
    order = _biomarker_card(state, _ELACESTRANT)
    assert order["summary"] == "Elacestrant: current ESR1 mutation result not final yet — label requires ESR1-mutated disease; current per ASCO 2023"
    assert order["indicator"] == "warning" and order["suggestions"] and _pre_selected(order) == []
    assert _awaiting(found) in order["detail"].splitlines()


def test_fhir_pik3ca_akt1_and_pten_all_registered_are_awaited_on_the_testing_and_the_capivasertib_card():
    p = after_ai_cdk46i("pp-pi3k-all-registered")
    for gene in ("PIK3CA", "AKT1", "PTEN"):
        p.variant(gene, detected=False, specimen="tissue", on="2025-06-01", status="registered")
    state, cards = run(p)
    found = [f"{g} not detected (somatic, tissue, 2025-06-01, registered, no final result yet after 30 days)"
             for g in ("PIK3CA", "AKT1", "PTEN")]
    test = card(cards, "test-pik3ca-akt1-pten")
    assert "Capivasertib + fulvestrant" in test["summary"] and len(test["suggestions"]) == 2
    assert _pre_selected(test) == []
    assert _awaiting(*found) in test["detail"].splitlines()
    order = _biomarker_card(state, _CAPI_FULV)
    assert order["summary"] == "Capivasertib: PIK3CA/AKT1/PTEN alteration result not final yet — label requires it"
    assert len(order["suggestions"]) == 2 and _pre_selected(order) == []
    assert _awaiting(*found) in order["detail"].splitlines()


def test_fhir_akt1_and_pten_registered_beside_a_final_pik3ca_negative_are_awaited_with_no_tissue_test_pre_selected():
    p = (after_ai_cdk46i("pp-pi3k-akt1-pten-registered").variant("PIK3CA", detected=False, specimen="tissue")
         .variant("AKT1", detected=False, specimen="tissue", status="registered")
         .variant("PTEN", detected=False, specimen="tissue", status="registered"))
    state, cards = run(p)
    found = [f"{g} not detected (somatic, tissue, 2025-06-01, registered, no final result yet after 30 days)" for g in ("AKT1", "PTEN")]
    for c in (card(cards, "test-pik3ca-akt1-pten"), _biomarker_card(state, _CAPI_FULV)):
        assert _pre_selected(c) == [] and _awaiting(*found) in c["detail"].splitlines()


def test_fhir_a_preliminary_pik3ca_with_akt1_and_pten_untested_still_pre_selects_the_test_and_names_the_pending_result():
    p = after_ai_cdk46i("pp-pik3ca-prelim-akt1-pten-untested").variant(
        "PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-06-01", status="preliminary")
    state, cards = run(p)
    found = "PIK3CA p.His1047Arg detected (somatic, tissue, pathogenic, 2025-06-01, preliminary result, not final after 30 days)"
    for c in (card(cards, "test-pik3ca-akt1-pten"), _biomarker_card(state, _CAPI_FULV)):
        assert _pre_selected(c) == [
            "Order: PIK3CA, AKT1 and PTEN alteration testing, plasma ctDNA NGS (e.g. FoundationOne Liquid CDx)"]
        assert f"AKT1/PTEN not tested; {found}: the final result decides" in c["detail"]
        assert "Awaiting the final report" not in c["detail"]


def test_fhir_a_drafted_alpelisib_awaits_a_preliminary_pik3ca_result_its_label_alone_asks_about():
    # alpelisib's label asks about PIK3CA only (B.4): its result is under way; AKT1/PTEN, untested,
    # are capivasertib's question (its card and the testing card still pre-select the test)
    p = after_ai_cdk46i("pp-alpelisib-pik3ca-prelim").variant(
        "PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-06-01", status="preliminary")
    state, _ = run(p)
    order = _biomarker_card(state, [_draft("alpelisib", "pi3k-akt-mtor", "2169285"),
                                    _draft("fulvestrant", "fulvestrant", "282357")])
    assert order["summary"] == "Alpelisib: PIK3CA mutation result not final yet — label requires it"
    assert len(order["suggestions"]) == 2 and _pre_selected(order) == []
    assert _awaiting("PIK3CA p.His1047Arg detected (somatic, tissue, pathogenic, 2025-06-01, preliminary result, "
                     "not final after 30 days)") in order["detail"].splitlines()


def test_fhir_a_pik3ca_result_not_final_yet_beside_final_akt1_and_pten_negatives_does_not_call_them_untested():
    # the testing card read "AKT1/PTEN not tested; PIK3CA not detected (..., registered ...)" while
    # AKT1 and PTEN had final tissue results
    p = (after_ai_cdk46i("pp-pik3ca-registered-akt1-pten-final")
         .variant("PIK3CA", detected=False, specimen="tissue", status="registered")
         .variant("AKT1", detected=False, specimen="tissue").variant("PTEN", detected=False, specimen="tissue"))
    _, cards = run(p)
    test = card(cards, "test-pik3ca-akt1-pten")
    found = "PIK3CA not detected (somatic, tissue, 2025-06-01, registered, no final result yet after 30 days)"
    assert "not tested" not in test["detail"]
    assert f"- {found}: the final result decides — Observation/" in test["detail"]
    assert _pre_selected(test) == [] and _awaiting(found) in test["detail"].splitlines()


def test_fhir_an_akt1_negative_in_plasma_only_beside_registered_pik3ca_and_pten_still_asks_for_a_test_and_says_why():
    # ctDNA negative is not wild-type (C.3 row 2): AKT1 needs a test of its own; the card said
    # "AKT1 not tested" of a gene with a ctDNA result
    p = (after_ai_cdk46i("pp-akt1-ctdna-pik3ca-pten-registered")
         .variant("PIK3CA", detected=False, specimen="tissue", status="registered")
         .variant("AKT1", detected=False, specimen="ctdna")
         .variant("PTEN", detected=False, specimen="tissue", status="registered"))
    _, cards = run(p)
    test = card(cards, "test-pik3ca-akt1-pten")
    assert "AKT1 not tested" not in test["detail"]
    assert "the final result decides; AKT1 not detected in plasma ctDNA only (not wild-type)" in test["detail"]
    assert len(_pre_selected(test)) == 1 and "Awaiting the final report" not in test["detail"]


def test_fhir_germline_brca1_and_brca2_registered_are_awaited_on_the_testing_and_the_talazoparib_card():
    p = after_ai_cdk46i("pp-gbrca-registered")
    for gene in ("BRCA1", "BRCA2"):
        p.variant(gene, detected=False, origin="germline", specimen="blood", status="registered")
    state, cards = run(p)
    found = [f"{g} not detected (germline, blood, 2025-06-01, registered, no final result yet after 30 days)" for g in ("BRCA1", "BRCA2")]
    for c in (card(cards, "test-germline-brca"), _biomarker_card(state, _TALAZOPARIB)):
        assert c["suggestions"] and _pre_selected(c) == []
        assert _awaiting(*found) in c["detail"].splitlines()


# No source says how long a final report may take (C.3 has no time limit for a pending result):
# a result registered long ago stays awaited, and every card naming it says how long it has waited,
# so the reader can judge whether to chase or repeat the test.
def test_fhir_a_pik3ca_akt1_pten_and_germline_brca_registered_17_months_ago_are_awaited_and_say_how_long():
    p = after_ai_cdk46i("pp-old-registered")
    for gene in ("PIK3CA", "AKT1", "PTEN"):
        p.variant(gene, detected=False, specimen="tissue", on="2024-01-10", status="registered")
    for gene in ("BRCA1", "BRCA2"):
        p.variant(gene, detected=False, origin="germline", specimen="blood", on="2024-01-10", status="registered")
    state, cards = run(p)
    pi3k = [f"{g} not detected (somatic, tissue, 2024-01-10, registered, no final result yet after 17 months)"
            for g in ("PIK3CA", "AKT1", "PTEN")]
    brca = [f"{g} not detected (germline, blood, 2024-01-10, registered, no final result yet after 17 months)"
            for g in ("BRCA1", "BRCA2")]
    for c in (card(cards, "test-pik3ca-akt1-pten"), _biomarker_card(state, _CAPI_FULV)):
        assert _pre_selected(c) == [] and _awaiting(*pi3k) in c["detail"].splitlines()
    for c in (card(cards, "test-germline-brca"), _biomarker_card(state, _TALAZOPARIB)):
        assert _pre_selected(c) == [] and _awaiting(*brca) in c["detail"].splitlines()


def test_fhir_an_esr1_result_registered_before_the_latest_progression_is_named_with_its_wait_and_the_re_test_pre_selected():
    # C.3 row 18: an ESR1 result is current only from a specimen taken at/after the latest
    # progression on endocrine therapy; one registered before it would not be current even once final
    p = after_ai_cdk46i("pp-esr1-old-registered").variant("ESR1", detected=False, on="2024-01-10", status="registered")
    state, cards = run(p)
    test = card(cards, "test-esr1")
    assert _pre_selected(test) == ["Order ESR1 mutation analysis, plasma cell-free DNA (ctDNA) NGS (e.g. Guardant360 CDx)"]
    assert ("- ESR1 not detected (somatic, plasma ctDNA, 2024-01-10, registered, no final result yet after 17 months): "
            f"the result predates {_PROGRESSION}, so even once final it is not a current ESR1 result (C.3 row 18)"
            ) in test["detail"]
    assert "Awaiting the final report" not in test["detail"]
    order = _biomarker_card(state, _ELACESTRANT)
    assert len(_pre_selected(order)) == 1 and "after 17 months" in order["detail"]


def test_fhir_germline_brca1_registered_with_brca2_untested_still_pre_selects_the_germline_test():
    p = after_ai_cdk46i("pp-gbrca1-registered").variant("BRCA1", detected=False, origin="germline", specimen="blood",
                                                         status="registered")
    state, cards = run(p)
    for c in (card(cards, "test-germline-brca"), _biomarker_card(state, _TALAZOPARIB)):
        assert len(_pre_selected(c)) == 1 and "Awaiting the final report" not in c["detail"]
        assert "BRCA1 not detected (germline, blood, 2025-06-01, registered, no final result yet after 30 days)" in c["detail"]


def test_fhir_a_germline_brca_result_not_final_yet_is_not_beside_germline_status_not_documented():
    # the cards read "Germline BRCA1/2 status not documented; BRCA1 not detected (germline, ...,
    # registered, no final result yet)": a germline test under way is documented, only not final
    brca1, brca2 = (f"{g} not detected (germline, blood, 2025-06-01, registered, no final result yet after 30 days)"
                    for g in ("BRCA1", "BRCA2"))
    decides = ": the final result decides"
    p = after_ai_cdk46i("pp-gbrca1-registered-wording").variant("BRCA1", detected=False, origin="germline",
                                                                 specimen="blood", status="registered")
    state, cards = run(p)
    for c in (card(cards, "test-germline-brca"), _biomarker_card(state, _TALAZOPARIB)):
        assert f"- Germline BRCA2 not tested; no final germline BRCA1 result; {brca1}{decides} — Observation/" in c["detail"]
        assert "status not documented" not in c["detail"]
    p.variant("BRCA2", detected=False, origin="germline", specimen="blood", status="registered")
    state, cards = run(p)
    for c in (card(cards, "test-germline-brca"), _biomarker_card(state, _TALAZOPARIB)):
        assert f"- No final germline BRCA1/2 result; {brca1}; {brca2}{decides} — Observation/" in c["detail"]
    # BRCA1 final, BRCA2 registered: "Germline BRCA2 not tested" beside its registered result
    p = (after_ai_cdk46i("pp-gbrca2-registered-wording")
         .variant("BRCA1", detected=False, origin="germline", specimen="blood")
         .variant("BRCA2", detected=False, origin="germline", specimen="blood", status="registered"))
    state, cards = run(p)
    for c in (card(cards, "test-germline-brca"), _biomarker_card(state, _TALAZOPARIB)):
        assert (f"- No final germline BRCA2 result (germline BRCA1 tested: no pathogenic variant); {brca2}{decides} — "
                "Observation/") in c["detail"]


def test_fhir_a_somatic_brca_result_not_final_yet_does_not_stand_for_the_germline_test():
    # only a germline result answers the PARP inhibitor labels (C.3 row 7)
    p = after_ai_cdk46i("pp-sbrca-registered")
    for gene in ("BRCA1", "BRCA2"):
        p.variant(gene, detected=False, specimen="tissue", status="registered")
    _, cards = run(p)
    test = card(cards, "test-germline-brca")
    assert len(_pre_selected(test)) == 1 and "Awaiting the final report" not in test["detail"]


# An older ESR1 result (final, before the latest progression) and a newer one not final yet: a
# specimen taken after the ESR1 reference is the re-test under way (C.3 row 18); one taken before
# it would not be current even once final, so the re-test stays pre-selected.

_ESR1_OLD_NEGATIVE = "ESR1 not detected (somatic, plasma ctDNA, 2024-06-01)"
_PROGRESSION = "the progression on metastatic line 1 (letrozole + ribociclib) on 2025-05-20"


def test_fhir_a_preliminary_esr1_result_collected_after_the_progression_is_the_re_test_under_way_and_none_is_pre_selected():
    # the re-test was pre-selected beside an older negative, and the testing card never named it
    p = (after_ai_cdk46i("pp-esr1-old-neg-prelim-new").variant("ESR1", detected=False, on="2024-06-01")
         .variant("ESR1", "p.Asp538Gly", on="2025-06-20", collected="2025-06-01", status="preliminary"))
    state, cards = run(p)
    found = "ESR1 p.Asp538Gly detected (somatic, plasma ctDNA, pathogenic, 2025-06-01, preliminary result, not final after 30 days)"
    test = card(cards, "test-esr1")
    assert f"- Last ESR1 result predates {_PROGRESSION}: {_ESR1_OLD_NEGATIVE} — Observation/" in test["detail"]
    assert test["suggestions"] and _pre_selected(test) == [] and _awaiting(found) in test["detail"].splitlines()
    order = _biomarker_card(state, _ELACESTRANT)
    assert order["summary"] == "Elacestrant: current ESR1 mutation result not final yet — label requires ESR1-mutated disease; current per ASCO 2023"
    assert order["suggestions"] and _pre_selected(order) == [] and _awaiting(found) in order["detail"].splitlines()
    assert (f"- No actionable ESR1 alteration ({_ESR1_OLD_NEGATIVE}): the result predates {_PROGRESSION}, a current "
            f"ESR1 result is needed; {found}: the final result decides — Observation/") in order["detail"]


def test_fhir_a_preliminary_esr1_result_after_the_progression_beside_an_older_detection_is_the_confirming_re_test_awaited():
    p = (after_ai_cdk46i("pp-esr1-old-hit-prelim-new").variant("ESR1", "p.Tyr537Ser", on="2024-06-01")
         .variant("ESR1", detected=False, on="2025-06-10", status="preliminary"))
    _, cards = run(p)
    test = card(cards, "test-esr1")
    assert test["summary"].startswith("ESR1 mutation testing (plasma ctDNA) — confirms Elacestrant")
    assert _pre_selected(test) == [] and _awaiting(
        "ESR1 not detected (somatic, plasma ctDNA, 2025-06-10, preliminary result, not final after 21 days)") in test["detail"].splitlines()


@pytest.mark.parametrize("collected,specimen_text,found,timing", [
    ("2025-01-01", None, "plasma ctDNA, pathogenic, 2025-01-01", f"predates {_PROGRESSION}, so even once final it is "
     "not a current ESR1 result (C.3 row 18)"),
    (None, "Archival primary tumour block (FFPE)",
     "archival or primary-tumour tissue without a collection date, pathogenic, result of 2025-06-20",
     f"cannot be shown to follow {_PROGRESSION} (archival primary tissue is not suitable: ESR1 mutations emerge "
     "under endocrine therapy, C.3 row 18), so even once final it is not a current ESR1 result")])
def test_fhir_a_preliminary_esr1_result_from_before_the_progression_or_undated_is_named_as_not_counting_and_the_re_test_stays_pre_selected(
        collected, specimen_text, found, timing):
    p = (after_ai_cdk46i(f"pp-esr1-old-neg-prelim-{collected}").variant("ESR1", detected=False, on="2024-06-01")
         .variant("ESR1", "p.Asp538Gly", on="2025-06-20", collected=collected, status="preliminary",
                  specimen="tissue" if specimen_text else "ctdna", specimen_text=specimen_text))
    state, cards = run(p)
    # the wait is counted from the result's date: the collection date where the Specimen gives one
    waited = "after 6 months" if collected else "after 11 days"
    not_counting = (f"ESR1 p.Asp538Gly detected (somatic, {found}, preliminary result, not final {waited}): "
                    f"the result {timing}")
    test = card(cards, "test-esr1")
    assert _pre_selected(test) == ["Order ESR1 mutation analysis, plasma cell-free DNA (ctDNA) NGS (e.g. Guardant360 CDx)"]
    assert f"- {not_counting} — Observation/" in test["detail"] and "Awaiting the final report" not in test["detail"]
    order = _biomarker_card(state, _ELACESTRANT)
    assert order["summary"] == "Elacestrant: current ESR1 mutation result not documented — label requires ESR1-mutated disease; current per ASCO 2023"
    assert len(_pre_selected(order)) == 1 and f"a current ESR1 result is needed; {not_counting} — " in order["detail"]
    assert "the final result decides" not in order["detail"]


# A negative in plasma ctDNA only is not wild-type (C.3 row 2, ASCO 2021: test tumour tissue):
# a tissue result of the same gene not final yet is that tissue reflex under way.

def _tissue_pending(gene: str) -> str:
    return f"{gene} not detected (somatic, tissue, 2025-06-20, registered, no final result yet after 11 days)"


def test_fhir_a_pik3ca_negative_in_plasma_only_with_its_tissue_result_registered_is_awaited_with_no_tissue_test_pre_selected():
    # the tissue test was pre-selected again and the testing card did not name the tissue result
    p = (after_ai_cdk46i("pp-pik3ca-ctdna-tissue-registered").variant("PIK3CA", detected=False, specimen="ctdna")
         .variant("AKT1", detected=False, specimen="tissue").variant("PTEN", detected=False, specimen="tissue")
         .variant("PIK3CA", detected=False, specimen="tissue", on="2025-06-20", status="registered"))
    state, cards = run(p)
    test = card(cards, "test-pik3ca-akt1-pten")
    assert test["suggestions"][0]["label"] == (
        "Order PIK3CA, AKT1 and PTEN alteration testing, tumour tissue NGS (e.g. FoundationOne CDx)")
    assert f"- {_tissue_pending('PIK3CA')}: the final result decides — Observation/" in test["detail"]
    assert _pre_selected(test) == [] and _awaiting(_tissue_pending("PIK3CA")) in test["detail"].splitlines()
    for drafts in (_CAPI_FULV, [_draft("alpelisib", "pi3k-akt-mtor", "2169285"),
                                _draft("fulvestrant", "fulvestrant", "282357")]):
        order = _biomarker_card(state, drafts)
        assert order["suggestions"] and _pre_selected(order) == []
        assert _awaiting(_tissue_pending("PIK3CA")) in order["detail"].splitlines()


def test_fhir_pik3ca_akt1_and_pten_negative_in_plasma_only_with_all_three_tissue_results_registered_are_awaited():
    p = after_ai_cdk46i("pp-pi3k-ctdna-tissue-registered")
    for gene in ("PIK3CA", "AKT1", "PTEN"):
        p.variant(gene, detected=False, specimen="ctdna")
    for gene in ("PIK3CA", "AKT1", "PTEN"):
        p.variant(gene, detected=False, specimen="tissue", on="2025-06-20", status="registered")
    state, cards = run(p)
    found = [_tissue_pending(g) for g in ("PIK3CA", "AKT1", "PTEN")]
    for c in (card(cards, "test-pik3ca-akt1-pten"), _biomarker_card(state, _CAPI_FULV)):
        assert _pre_selected(c) == [] and _awaiting(*found) in c["detail"].splitlines()


def test_fhir_a_tissue_pik3ca_result_registered_does_not_stand_for_akt1_and_pten_negative_in_plasma_only():
    # the pending tissue result is named, but it answers PIK3CA only: AKT1/PTEN still need tissue
    p = after_ai_cdk46i("pp-pi3k-ctdna-pik3ca-tissue-registered")
    for gene in ("PIK3CA", "AKT1", "PTEN"):
        p.variant(gene, detected=False, specimen="ctdna")
    p.variant("PIK3CA", detected=False, specimen="tissue", on="2025-06-20", status="registered")
    state, cards = run(p)
    test = card(cards, "test-pik3ca-akt1-pten")
    assert f"- {_tissue_pending('PIK3CA')}: the final result decides — Observation/" in test["detail"]
    assert len(_pre_selected(test)) == 1 and "Awaiting the final report" not in test["detail"]
    # a plasma result not final yet is no tissue reflex: not awaited
    p = after_ai_cdk46i("pp-pik3ca-ctdna-ctdna-registered").variant("PIK3CA", detected=False, specimen="ctdna")
    p.variant("AKT1", detected=False, specimen="tissue").variant("PTEN", detected=False, specimen="tissue")
    p.variant("PIK3CA", detected=False, specimen="ctdna", on="2025-06-20", status="registered")
    _, cards = run(p)
    assert len(_pre_selected(card(cards, "test-pik3ca-akt1-pten"))) == 1


_PI3K_TISSUE = "Order: PIK3CA, AKT1 and PTEN alteration testing, tumour tissue NGS (e.g. FoundationOne CDx)"
_PI3K_CTDNA = "Order: PIK3CA, AKT1 and PTEN alteration testing, plasma ctDNA NGS (e.g. FoundationOne Liquid CDx)"


@pytest.mark.parametrize("gene,others", [("AKT1", "PIK3CA/PTEN"), ("PTEN", "PIK3CA/AKT1")])
def test_fhir_a_plasma_only_akt1_or_pten_negative_with_pik3ca_untested_pre_selects_the_tissue_test_and_the_order_card_names_it(
        gene, others):
    # the plasma test was pre-selected (it would leave the gene's plasma negative open: C.3 row 2,
    # ASCO 2021 "if no mutation is found in cell-free DNA, testing in tumor tissue"; the tissue
    # test covers all three genes), and capivasertib's order card said only "PIK3CA/PTEN not tested"
    p = after_ai_cdk46i(f"pp-{gene.lower()}-ctdna-pik3ca-untested").variant(gene, detected=False, specimen="ctdna")
    state, cards = run(p)
    test = card(cards, "test-pik3ca-akt1-pten")
    assert [s["label"] for s in test["suggestions"]] == [_PI3K_CTDNA, _PI3K_TISSUE]
    assert _pre_selected(test) == [_PI3K_TISSUE]
    assert (f"- {others} not tested; {gene} not detected in plasma ctDNA only (not wild-type): the tumour tissue test "
            "is pre-selected, as it tests PIK3CA, AKT1 and PTEN at once (C.3 row 2) — Observation/") in test["detail"]
    order = _biomarker_card(state, _CAPI_FULV)
    assert [s["label"] for s in order["suggestions"]] == [_PI3K_CTDNA, _PI3K_TISSUE]
    assert _pre_selected(order) == [_PI3K_TISSUE]
    assert (f"- {others} not tested; no {gene} alteration in plasma ctDNA only (ctDNA negative is not wild-type: "
            "tissue testing advised) — Observation/") in order["detail"]


def _pik3ca_status_unknown(pid):
    """After AI + CDK4/6i: PIK3CA p.His1047Arg in tissue with Observation.status "unknown", AKT1 and
    PTEN not detected in the same tissue."""
    return (after_ai_cdk46i(pid)
            .variant("PIK3CA", "p.His1047Arg", specimen="tissue", status="unknown")
            .variant("AKT1", detected=False, specimen="tissue").variant("PTEN", detected=False, specimen="tissue"))


_PIK3CA_STATUS_UNKNOWN = ("PIK3CA p.His1047Arg detected (somatic, tissue, pathogenic, 2025-06-01, status unknown, "
                          "not known to be final after 30 days)")


def test_fhir_a_pik3ca_detection_whose_status_is_unknown_selects_nothing_and_is_awaited_with_its_status_named():
    # FHIR R4 ObservationStatus "unknown": the source system does not know which status
    # applies, so the result is not known to be final; it was read as final, offering alpelisib
    state, cards = run(_pik3ca_status_unknown("pp-pik3ca-status-unknown"))
    found = _PIK3CA_STATUS_UNKNOWN
    assert "PIK3CA p.His1047Arg detected (2025-06-01, status unknown)" in next(
        g.message for g in state.gaps if g.code == "genomic-result-not-final")
    assert "alpelisib-fulvestrant" not in regimen_topics(cards)
    test = card(cards, "test-pik3ca-akt1-pten")
    assert f"- {found}: the final result decides — Observation/" in test["detail"]
    assert _pre_selected(test) == [] and _awaiting_status_unknown(found) in test["detail"].splitlines()
    order = _biomarker_card(state, [_draft("alpelisib", "pi3k-akt-mtor", "2169285"),
                                    _draft("fulvestrant", "fulvestrant", "282357")])
    assert order["summary"] == "Alpelisib: PIK3CA mutation result not final yet — label requires it"


def _awaiting_status_unknown(*results: str, which: str = "the result is") -> str:
    return (f"**Awaiting the final report** of {'; '.join(results)}: ask the laboratory whether {which} final "
            "(status unknown: the source system does not know which status applies), and order a new test only if "
            "no final report comes. No order is pre-selected: a new one could repeat a test already done.")


def test_fhir_a_result_whose_status_is_unknown_asks_the_laboratory_whether_it_is_final_not_says_the_test_is_under_way():
    # FHIR R4 ObservationStatus "unknown": the source system does not know which status applies,
    # so the result may be final already; "the test is done or under way" said more than the record
    state, cards = run(_pik3ca_status_unknown("pp-pik3ca-status-unknown-ask"))
    found = _PIK3CA_STATUS_UNKNOWN
    order = _biomarker_card(state, [_draft("capivasertib", "pi3k-akt-mtor", "2680443"),
                                    _draft("fulvestrant", "fulvestrant", "282357")])
    for c in (card(cards, "test-pik3ca-akt1-pten"), order):
        assert _awaiting_status_unknown(found) in c["detail"].splitlines()
        assert "done or under way" not in c["detail"]
    # beside a preliminary one: the one of status unknown is the one to ask about
    p = (after_ai_cdk46i("pp-pik3ca-status-unknown-and-preliminary")
         .variant("PIK3CA", "p.His1047Arg", specimen="tissue", status="unknown")
         .variant("AKT1", detected=False, specimen="tissue", status="preliminary")
         .variant("PTEN", detected=False, specimen="tissue"))
    _, cards = run(p)
    line = next(x for x in card(cards, "test-pik3ca-akt1-pten")["detail"].splitlines() if "Awaiting" in x)
    assert "ask the laboratory whether the result of status unknown is final" in line  # one: not "result(s)"
    assert "AKT1 not detected (somatic, tissue, 2025-06-01, preliminary result, not final after 30 days)" in line


def test_fhir_a_pik3ca_detection_without_a_status_is_still_read_as_final():
    # status is required in R4 but often omitted on final results: read as final, as before
    p = (after_ai_cdk46i("pp-pik3ca-no-status").variant("PIK3CA", "p.His1047Arg", specimen="tissue", status=None)
         .variant("AKT1", detected=False, specimen="tissue").variant("PTEN", detected=False, specimen="tissue"))
    state, cards = run(p)
    assert state.biomarkers.status("PIK3CA") == "detected"
    assert "test-pik3ca-akt1-pten" not in topics(cards) and "alpelisib-fulvestrant" in regimen_topics(cards)


def test_fhir_the_serd_caution_on_an_archival_esr1_detection_does_not_say_it_predates_or_show_a_bare_later_date():
    # the caution read "The ESR1 result predates the most recent endocrine therapy ... Patient: ESR1
    # result cannot be shown to follow the progression ... on 2025-05-20 ... (latest ESR1 result
    # 2025-06-01)": "predates" beside "cannot be shown to follow", and a date after the progression
    p = after_ai_cdk46i("pp-esr1-archival-caution").variant("ESR1", "p.Asp538Gly", specimen="tissue", on="2025-06-01",
                                                            specimen_text="Archival primary tumour block (FFPE)")
    _, cards = run(p)
    for topic in ("elacestrant", "imlunestrant"):
        caution = next(x for x in card(cards, topic)["detail"].splitlines() if "Patient: ESR1 result" in x)
        assert "predates" not in caution
        assert caution.startswith("- The ESR1 result is not shown to follow the most recent endocrine therapy")
        assert ("(latest ESR1 result reported 2025-06-01; the tissue's collection date is not recorded)"
                in caution)


def _pten_change(pid: str, change_type: tuple[str, str]) -> FhirPatient:
    """After ET + CDK4/6i; PIK3CA and AKT1 not detected in tissue; a PTEN copy-number change or
    fusion (48019-4 DNA change type, Sequence Ontology) detected."""
    return (after_ai_cdk46i(pid).variant("PIK3CA", detected=False, specimen="tissue", on="2025-06-01")
            .variant("AKT1", detected=False, specimen="tissue", on="2025-06-01")
            .variant("PTEN", specimen="tissue", on="2025-06-01", change_type=change_type))


def test_fhir_a_pten_copy_number_loss_is_an_inactivation_and_gets_capivasertib():
    # C.1 ASCO 2024 "PTEN inactivation"; C.2 step 3 "PTEN loss-of-function"
    state, cards = run(_pten_change("pp-pten-loss", ("SO:0001743", "copy_number_loss")))
    assert "capivasertib-fulvestrant" in regimen_topics(cards)
    assert "PTEN copy-number loss detected" in card(cards, "capivasertib-fulvestrant")["detail"]


def test_fhir_a_pten_copy_number_gain_is_not_an_inactivation_and_gets_no_capivasertib():
    state, cards = run(_pten_change("pp-pten-gain", ("SO:0001742", "copy_number_gain")))
    assert assess(state, "capivasertib-fulvestrant").status == "not-fit"
    summary = card(cards, "patient-summary")["detail"]
    assert "PTEN copy-number gain detected (not an inactivation" in summary


@pytest.mark.parametrize("change_type,named", [
    (("SO:0001565", "gene_fusion"), "PTEN fusion detected"),
    (("SO:0001019", "copy_number_variation"), "PTEN copy-number change detected"),
])
def test_fhir_a_pten_fusion_or_copy_number_change_of_unstated_direction_leaves_capivasertib_waiting_and_says_why(
        change_type, named):
    # whether it inactivates PTEN (C.1 ASCO 2024) is not stated: no capivasertib opened on it
    # silently, none closed either; the summary names it as a gap
    state, cards = run(_pten_change("pp-pten-unclear", change_type))
    assert "capivasertib-fulvestrant" not in regimen_topics(cards)
    assert assess(state, "capivasertib-fulvestrant").status == "unknown"
    summary = card(cards, "patient-summary")["detail"]
    waiting = next(x for x in summary.splitlines() if x.startswith("- Capivasertib + fulvestrant:"))
    assert f"waiting on — {named} (inactivation not stated" in waiting
    assert "capivasertib needs PTEN inactivation (C.1 ASCO 2024)" in waiting
    assert f"{named} (2025-06-01): the report does not say whether it inactivates PTEN" in summary
    order = [c.to_json() for c in order_cards(state, [_draft("capivasertib", "pi3k-akt-mtor", "2669967"),
                                                      _draft("fulvestrant", "fulvestrant", "282357")], None, "order-sign")]
    missing = [c for c in order if c["source"]["topic"]["code"] == "order-biomarker-missing"]
    assert missing and f"{named} (inactivation not stated" in missing[0]["detail"]


def test_fhir_a_drafted_capivasertib_beside_a_pten_fusion_names_it_and_preselects_no_new_test():
    # every gene has a final tissue result and patient-view asks for no test (the gap says
    # "check the report"); the order card said "PIK3CA/AKT1/PTEN alteration result not documented"
    # and pre-selected a plasma ctDNA panel
    state, cards = run(_pten_change("pp-pten-order", ("SO:0001565", "gene_fusion")))
    assert "test-pik3ca-akt1-pten" not in ordered_tests(cards)
    drafts = [_draft("capivasertib", "pi3k-akt-mtor", "2669967"), _draft("fulvestrant", "fulvestrant", "282357")]
    missing = next(c for c in _order(state, drafts) if c["source"]["topic"]["code"] == "order-biomarker-missing")
    assert missing["summary"] == ("Capivasertib: PTEN fusion detected, inactivation not stated — label requires a "
                                  "PIK3CA/AKT1/PTEN alteration")
    assert "**The open question is in the report**: whether the PTEN fusion inactivates PTEN" in missing["detail"]
    assert missing["suggestions"] and not any(s.get("isRecommended") for s in missing["suggestions"])


def test_fhir_germline_brca_gets_talazoparib_but_olaparib_only_after_chemotherapy():
    p = after_ai_cdk46i("pp-gbrca").variant("BRCA2", "p.Ser1982fs", origin="germline", specimen="blood", on="2024-03-01")
    _, cards = run(p)
    regs = regimen_topics(cards)
    assert "talazoparib" in regs and "olaparib" not in regs
    p2 = (after_ai_cdk46i("pp-gbrca-chemo").med("capecitabine", "2025-06-01", "2025-06-25")
          .variant("BRCA2", "p.Ser1982fs", origin="germline", specimen="blood", on="2024-03-01"))
    _, cards2 = run(p2)
    assert {"talazoparib", "olaparib"} <= set(regimen_topics(cards2))


def test_fhir_somatic_only_brca_gets_no_parp_inhibitor_and_a_germline_testing_card():
    p = after_ai_cdk46i("pp-sbrca").variant("BRCA1", "p.Glu1836fs", origin="somatic", specimen="tissue", on="2025-06-01")
    _, cards = run(p)
    regs = regimen_topics(cards)
    assert "talazoparib" not in regs and "olaparib" not in regs
    assert card(cards, "test-germline-brca")["indicator"] == "warning"


def test_fhir_no_actionable_alteration_gets_everolimus_exemestane_and_fulvestrant_options():
    p = (after_ai_cdk46i("pp-none", her2="IHC 0, no membrane staining (HER2-null)")
         .variant("ESR1", detected=False, on="2025-06-01")
         .variant("PIK3CA", detected=False, specimen="tissue", on="2025-06-01")
         .variant("AKT1", detected=False, specimen="tissue", on="2025-06-01")
         .variant("PTEN", detected=False, specimen="tissue", on="2025-06-01")
         .variant("BRCA1", detected=False, origin="germline", specimen="blood", on="2025-06-01")
         .variant("BRCA2", detected=False, origin="germline", specimen="blood", on="2025-06-01"))
    state, cards = run(p)
    assert state.her2.category == "null"
    assert regimen_topics(cards) == ["everolimus-exemestane", "fulvestrant-cdk46i", "fulvestrant", "chemotherapy"]
    assert recommended(card(cards, "fulvestrant-cdk46i")) == ["fulvestrant", "abemaciclib"]


# --- later lines -----------------------------------------------------------

def test_fhir_her2_low_after_endocrine_therapy_gets_trastuzumab_deruxtecan():
    _, cards = run(after_ai_cdk46i("ll-tdxd-low", her2="1+"))
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)


def test_fhir_her2_ultralow_text_gets_trastuzumab_deruxtecan():
    p = after_ai_cdk46i("ll-tdxd-ultralow", her2="IHC 0 with faint incomplete membrane staining in <=10% of cells (ultralow)")
    state, cards = run(p)
    assert state.her2.category == "ultralow"
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)


def test_fhir_a_drafted_trastuzumab_deruxtecan_for_her2_ultralow_after_chemotherapy_only_says_label_b_is_for_her2_low():
    # CR B.11 / C.3 row 9: HER2-ultralow only via label A (>= 1 metastatic endocrine line); label B
    # (prior metastatic chemotherapy) is HER2-low only. Before, the card listed "HER2 ultralow, IHC 0"
    # as a bare fact beside the missing endocrine line, not why label B does not apply
    p = (de_novo("ll-tdxd-ultralow-chemo", site="liver",
                 her2="IHC 0 with faint incomplete membrane staining in <=10% of cells (ultralow)")
         .visceral_crisis("2024-01-16").med("paclitaxel", "2024-02-01", "2024-08-01").progression("2024-08-01"))
    state, cards = run(p, dt.date(2024, 9, 1))
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    order = [c.to_json() for c in order_cards(state, [_draft("trastuzumab deruxtecan", "her2-adc", "2267582")],
                                               None, "order-sign")]
    assert order[0]["summary"].startswith("Trastuzumab deruxtecan: not indicated")
    assert ("- HER2 ultralow, IHC 0 (2024-01-15): label B (after chemotherapy) is for HER2-low (IHC 1+ or 2+/ISH-) "
            "only") in order[0]["detail"]


def test_fhir_her2_low_after_endocrine_therapy_and_metastatic_chemotherapy_names_both_trastuzumab_deruxtecan_labels():
    # CR C.3 row 9 "implement both labels": HER2 1+ after letrozole + ribociclib, then capecitabine
    # fits label A (DESTINY-Breast06) and label B (DESTINY-Breast04); before, the card named label A only
    p = after_ai_cdk46i("ll-tdxd-both", her2="1+").med("capecitabine", "2025-06-01", "2025-06-25").progression("2025-06-20")
    _, cards = run(p)
    assert regimen_topics(cards)[:2] == ["trastuzumab-deruxtecan", "datopotamab-deruxtecan"]
    assert ("- Label route: Label A (DESTINY-Breast06): HER2-low or -ultralow, progressed on >= 1 endocrine therapy "
            "in the metastatic setting; also Label B (DESTINY-Breast04): HER2-low after prior chemotherapy for "
            "metastatic disease or relapse within 6 months of adjuvant chemotherapy") in card(cards, "trastuzumab-deruxtecan")["detail"]
    # HER2-ultralow after the same therapy: label A only (C.3 row 9)
    p = after_ai_cdk46i("ll-tdxd-ultralow-a", her2="IHC 0 with faint incomplete membrane staining in <=10% of cells (ultralow)")
    _, cards = run(p.med("capecitabine", "2025-06-01", "2025-06-25"))
    assert "in the metastatic setting\n" in card(cards, "trastuzumab-deruxtecan")["detail"]
    assert "also Label B" not in card(cards, "trastuzumab-deruxtecan")["detail"]
    # only a route marked also_named is added: alpelisib's first-line route is a placement, not
    # said to a patient after progression (regimens.yaml routes)
    p = (adjuvant_relapse("ll-alpelisib-one-route", "2023-07-01").regimen(("fulvestrant", "palbociclib"), "2024-02-01", "2025-05-20")
         .progression("2025-05-15").variant("PIK3CA", "p.His1047Arg", on="2025-06-01"))
    detail = card(run(p)[1], "alpelisib-fulvestrant")["detail"]
    assert "- Label route: after progression on therapy for metastatic disease\n" in detail


def test_fhir_her2_zero_with_no_membrane_staining_is_null_and_gets_no_trastuzumab_deruxtecan():
    # CR C.3 row 9: HER2-null (IHC 0 without staining) is not eligible for T-DXd
    state, cards = run(after_ai_cdk46i("ll-her2-0-with-no-staining", her2="IHC 0 with no membrane staining"))
    assert state.her2.category == "null"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)


def test_fhir_a_her2_retest_after_a_bare_negative_names_the_earlier_her2_low_result_and_its_observation():
    # CR C.2 step 0: prefer the most recent biopsy, keep history (HER2-low status may differ
    # between primary and metastasis): a 2016 IHC 1+ primary, a 2024 report "HER2 negative"
    # with no score. The re-test card and the T-DXd waiting line name the 1+ and where it is
    p = after_ai_cdk46i("ll-her2-earlier-low-bare", her2="1+")
    p.resources = [r for r in p.resources if not r["id"].startswith("her2")]
    p.her2("1+", "2016-03-10").her2_negative("2024-01-15")
    state, cards = run(p)
    assert state.her2.category == "negative-unspecified"
    retest = card(cards, "test-her2")["detail"]
    line = next(x for x in retest.splitlines() if x.startswith("- Earlier HER2-low result"))
    assert line.startswith("- Earlier HER2-low result: IHC 1+ (2016-03-10); HER2-low status may differ between "
                           "primary tumour and metastasis (C.2 step 0): the re-test decides")
    assert "Observation/her2-" in line and "(2016-03-10)" in line.split(" — ")[1]
    summary = card(cards, "patient-summary")["detail"]
    assert ("Trastuzumab deruxtecan: waiting on — HER2 negative without an IHC score (2024-01-15); an earlier "
            "assessment was HER2-low: IHC 1+ (2016-03-10)") in summary
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)


def test_fhir_trastuzumab_deruxtecan_not_offered_for_a_recent_her2_null_names_the_earlier_her2_low_result():
    # CR C.2 step 0 (keep history) and B.11 ("as determined by an FDA-approved test": the
    # label does not say which specimen): the latest (null) decides, the older 1+ is named
    p = after_ai_cdk46i("ll-her2-earlier-low-null", her2="1+")
    p.resources = [r for r in p.resources if not r["id"].startswith("her2")]
    p.her2("1+", "2016-03-10").her2("0", "2024-01-15", text="IHC 0 with no membrane staining")
    state, cards = run(p)
    assert state.her2.category == "null"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    line = not_offered_line(card(cards, "patient-summary")["detail"], "Trastuzumab deruxtecan")
    assert ("HER2 null, IHC 0 (2024-01-15); an earlier assessment was HER2-low: IHC 1+ (2016-03-10) (the most "
            "recent decides, C.2 step 0; the label does not say which specimen, B.11)") in line


def test_fhir_her2_2_plus_with_ish_amplified_then_not_amplified_within_weeks_gets_testing_only_not_trastuzumab_deruxtecan():
    # CR C.2 step 0: HER2 discordant -> testing card only. Before, the later ISH (not amplified)
    # decided silently: HER2-low, T-DXd offered although the other specimen was HER2-positive
    p = after_ai_cdk46i("ll-her2-ish-discordant", her2="2+").her2_ish(True, "2024-01-20").her2_ish(False, "2024-02-10")
    state, cards = run(p)
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    assert "- HER2 unknown (IHC 2+, results disagree)" in card(cards, "test-er-pr-her2")["detail"]
    assert ("HER2 ISH results within one assessment disagree: amplified (2024-01-20); not amplified (2024-02-10)"
            in card(cards, "patient-summary")["detail"])


def test_fhir_trastuzumab_deruxtecan_for_a_recent_her2_low_names_the_earlier_her2_positive_assessment():
    # CR C.2 step 0: prefer the most recent biopsy (2024 IHC 2+/ISH not amplified: HER2-low),
    # keep history: the 2016 primary was IHC 2+/ISH amplified (HER2-positive). Before, the T-DXd
    # card named only the 2024 result and the summary said "HER2 results disagree"
    p = after_ai_cdk46i("ll-her2-earlier-positive", her2="2+").her2_ish(False, "2024-01-20")
    p.her2("2+", "2016-03-10").her2_ish(True, "2016-03-12")
    state, cards = run(p)
    assert state.her2.category == "low"
    assert ("- HER2 low, IHC 2+, ISH not amplified (2024-01-20); an earlier assessment differs: HER2-positive, "
            "IHC 2+, ISH amplified (2016-03-12) (the most recent decides, C.2 step 0)"
            in card(cards, "trastuzumab-deruxtecan")["detail"])


def test_fhir_a_her2_text_naming_an_earlier_3_plus_gets_trastuzumab_deruxtecan_with_the_earlier_her2_positive_named():
    # CR C.2 step 0: the most recent decides, keep history, as for two records (test above).
    # Before: "HER2 1+, previously 3+" read HER2 unknown, testing only, the 3+ named nowhere as such
    state, cards = run(after_ai_cdk46i("ll-her2-text-earlier-3", her2="HER2 1+, previously 3+"))
    assert (state.her2.category, state.her2.ihc_score) == ("low", "1+")
    assert ("- HER2 low, IHC 1+ (2024-01-15); an earlier assessment differs: HER2-positive, IHC 3+ ('previously 3+', "
            "named in the 2024-01-15 result) (the most recent decides, C.2 step 0)"
            in card(cards, "trastuzumab-deruxtecan")["detail"])


def test_fhir_a_metastasis_ihc_0_beside_a_primary_2_plus_with_its_fish_amplified_in_one_text_stays_in_the_pathway_with_both_named():
    # CR A.1: the FISH is the 2+'s reflex test; C.2 step 0: the liver metastasis (latest) decides.
    # Before: read HER2-positive from the primary's FISH: outside the pathway, the IHC 0 unsaid
    text = "HER2 0 (liver 2023); 2+ (primary 2015), FISH amplified"
    state, cards = run(after_ai_cdk46i("ll-her2-text-ish-primary", her2=text))
    assert state.her2.category == "zero-unspecified"
    assert "test-her2" in ordered_tests(cards) and "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert ("HER2 results disagree; the most recent assessment is used. Other result: HER2-positive, IHC 2+, ISH "
            "amplified ('2+ (primary 2015), FISH amplified', named in the 2024-01-15 result)."
            in card(cards, "patient-summary")["detail"])


def test_fhir_her2_written_as_possible_her2_low_gets_testing_only_not_trastuzumab_deruxtecan():
    # CR A.1 never infer HER2-low: before, "possible HER2-low" read as HER2-low and T-DXd was offered
    state, cards = run(after_ai_cdk46i("ll-her2-possible-low", her2="possible HER2-low"))
    assert state.her2.category == "unknown"
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    # the same words stated plainly are HER2-low, T-DXd offered
    _, cards = run(after_ai_cdk46i("ll-her2-low-words", her2="HER2-low"))
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)


def test_fhir_her2_written_as_0_to_1_plus_gets_a_her2_retest_not_trastuzumab_deruxtecan():
    # 0 or 1+: HER2-low not established (CR A.1 never infer HER2-low; T-DXd needs HER2-low/ultralow)
    state, cards = run(after_ai_cdk46i("ll-her2-0-1", her2="HER2 negative (0/1+)"))
    assert state.her2.category == "negative-unspecified"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" in ordered_tests(cards)


def test_fhir_her2_0_reported_with_the_ihc_0_definition_gets_a_her2_retest_not_trastuzumab_deruxtecan():
    # "no staining or faint, incomplete membrane staining in <=10%" is the IHC 0 definition (CR A.1):
    # it does not say which, so not ultralow (T-DXd, C.3 row 9) but a HER2 re-test
    p = after_ai_cdk46i("ll-her2-0-defined",
                        her2="IHC 0 (no staining or faint, incomplete membrane staining in <=10% of tumor cells)")
    state, cards = run(p)
    assert state.her2.category == "zero-unspecified"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" in ordered_tests(cards)


def test_fhir_her2_2_plus_with_an_ish_ratio_in_group_2_gets_no_regimen_until_the_laboratory_reads_it():
    # ratio 2.3 with 3.5 copies (ASCO/CAP 2018 group 2): CR A.1 gives no ISH groups, so not
    # HER2-low (no T-DXd) but HER2 status unclear, testing only (C.2 step 0)
    p = after_ai_cdk46i("ll-her2-ish-group-2", her2="2+").her2_ish_counts(2.3, 3.5)
    state, cards = run(p)
    assert state.her2.category == "equivocal-pending"
    assert regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("Receptor status unknown (HER2 (IHC 2+, ISH not decided))")
    assert "HER2/CEP17 ratio 2.3 with 3.5 HER2 copies per nucleus (ASCO/CAP 2018 group 2)" in summary["detail"]


def test_fhir_unclassified_her2_ihc0_gets_a_her2_retest_not_trastuzumab_deruxtecan():
    _, cards = run(after_ai_cdk46i("ll-her2-0", her2="0"))
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" in ordered_tests(cards)


def test_fhir_bare_her2_negative_is_never_her2_low():
    p = (FhirPatient("ll-her2-neg").primary("2024-01-10").metastasis("bone", "2024-01-15")
         .er("positive").pr("positive").her2_negative().menopause("postmenopausal")
         .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20"))
    state, cards = run(p)
    assert state.her2.category == "negative-unspecified"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" in ordered_tests(cards)


def test_fhir_trastuzumab_deruxtecan_after_symptomatic_ild_is_do_not_start_and_a_warning_after_asymptomatic_ild():
    # C.2 safety overlays: "T-DXd / Dato-DXd: history of ILD/pneumonitis -> prominent warning",
    # cards, not silent exclusions; the label's "permanently discontinue" is for ILD on T-DXd (B.11)
    p = after_ai_cdk46i("ll-ild-sym").ild("2023-05-01", "Drug-induced pneumonitis, grade 2, symptomatic")
    _, cards = run(p)
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "critical" and "do not start: after symptomatic ILD" in tdxd["summary"]
    assert not any(s.get("isRecommended") for s in tdxd.get("suggestions", []))
    p2 = after_ai_cdk46i("ll-ild").ild("2023-05-01", "Interstitial lung disease")
    _, cards2 = run(p2)
    assert card(cards2, "trastuzumab-deruxtecan")["indicator"] == "warning"


def test_fhir_ild_diagnosed_one_day_after_ribociclib_ended_says_1_day_after_not_day_s():
    # the ILD-began-on caution counts the days since the CDK4/6 inhibitor ended as a clinician writes
    # them (cards/rules.py counted; DESIGN.md: cards are read at the point of care); before: "1 day(s) after"
    _, cards = run(after_ai_cdk46i("ll-ild-one-day").ild("2025-05-21", "Drug-induced pneumonitis, grade 2"))
    detail = card(cards, "fulvestrant-cdk46i")["detail"]
    assert "diagnosed 2025-05-21, 1 day after ribociclib ended (2024-02-01 to 2025-05-20; within the 30-day" in detail
    assert "(s)" not in detail

def test_fhir_datopotamab_deruxtecan_after_metastatic_chemotherapy():
    p = after_ai_cdk46i("ll-dato").med("capecitabine", "2025-06-01", "2025-06-25")
    _, cards = run(p)
    assert "datopotamab-deruxtecan" in regimen_topics(cards)
    _, cards2 = run(after_ai_cdk46i("ll-no-dato"))
    assert "datopotamab-deruxtecan" not in regimen_topics(cards2)


def test_fhir_after_endocrine_therapy_and_metastatic_chemotherapy_the_labelled_abemaciclib_monotherapy_is_named_on_the_chemotherapy_card():
    # C.2 step 4: "Abemaciclib monotherapy (label: after ET and prior chemo in metastatic setting)"
    # (B.10 ind:fda.verzenio:3) was nowhere in patient-view; the card contract has no topic code
    # for it, so the chemotherapy card every such patient gets names it
    _, cards = run(after_ai_cdk46i("ll-abema-mono").med("capecitabine", "2025-06-01", "2025-06-25"))
    chemo = card(cards, "chemotherapy")
    assert chemo["indicator"] == "info"
    assert ("- Also labelled at this point (not a chemotherapy): abemaciclib monotherapy, Verzenio \"with disease "
            "progression following endocrine therapy and prior chemotherapy in the metastatic setting\" (B.10; C.2 "
            "step 4).") in chemo["detail"]
    # no metastatic chemotherapy yet: outside the label, not named
    _, cards = run(after_ai_cdk46i("ll-abema-mono-no"))
    assert "abemaciclib monotherapy" not in card(cards, "chemotherapy")["detail"]


def test_fhir_sacituzumab_after_endocrine_therapy_and_two_more_metastatic_lines():
    p = (after_ai_cdk46i("ll-sg").med("capecitabine", "2025-05-25", "2025-10-10")
         .med("paclitaxel", "2025-11-01"))
    state, cards = run(p, dt.date(2026, 1, 5))
    assert state.therapy.metastatic_systemic_lines == 3
    assert "sacituzumab-govitecan" in regimen_topics(cards)
    p2 = after_ai_cdk46i("ll-no-sg").med("capecitabine", "2025-06-01")
    _, cards2 = run(p2)
    assert "sacituzumab-govitecan" not in regimen_topics(cards2)



def _adjuvant_endocrine_then_two_chemotherapy_lines(pid: str) -> FhirPatient:
    """Relapse on adjuvant letrozole, then capecitabine and paclitaxel for metastatic disease:
    endocrine therapy only before metastatic disease (TROPiCS-02 took ET in any setting, B.12)."""
    return (hr_positive_mbc(pid, primary="2016-03-01").med("letrozole", "2016-06-01", "2024-01-10")
            .med("capecitabine", "2024-02-01", "2024-09-01").progression("2024-08-20")
            .med("paclitaxel", "2024-09-10", "2025-05-20").progression("2025-05-15"))


def test_fhir_sacituzumab_after_adjuvant_endocrine_therapy_and_two_metastatic_chemotherapy_lines_is_left_open_not_refused():
    state, cards = run(_adjuvant_endocrine_then_two_chemotherapy_lines("sg-adj-et"))
    assert "sacituzumab-govitecan" not in regimen_topics(cards)
    line = not_offered_line(card(cards, "patient-summary")["detail"], "Sacituzumab govitecan")
    assert line.startswith("- Sacituzumab govitecan: waiting on — Prior endocrine therapy (any setting): letrozole, "
                           "none for metastatic disease: the Trodelvy label")
    assert "does not say whether the endocrine-based therapy must be in the metastatic setting" in line
    assert "0 endocrine-based lines" not in line
    draft = _draft("sacituzumab govitecan", "trop2-adc", "2360232")
    got = [c.to_json() for c in order_cards(state, [draft], [draft.reference], "order-select")]
    assert [c["indicator"] for c in got] == ["warning"]
    assert got[0]["summary"].startswith("Sacituzumab govitecan: label requirement not confirmed — Prior endocrine")


def test_fhir_sacituzumab_after_adjuvant_endocrine_therapy_and_one_metastatic_line_is_not_offered_for_the_line_count_not_a_metastatic_endocrine_line():
    # B.12 / C.3 row 11: whether the endocrine-based therapy must be metastatic is open; two
    # metastatic lines are needed under either reading, so that is the reason given
    p = (hr_positive_mbc("sg-adj-et-1", primary="2016-03-01").med("letrozole", "2016-06-01", "2024-01-10")
         .med("capecitabine", "2024-02-01", "2025-05-20").progression("2025-05-15"))
    state, cards = run(p)
    line = not_offered_line(card(cards, "patient-summary")["detail"], "Sacituzumab govitecan")
    assert line.startswith("- Sacituzumab govitecan: 1 systemic line for metastatic disease, at least 2 needed")
    assert "endocrine-based line" not in line
    draft = _draft("sacituzumab govitecan", "trop2-adc", "2360232")
    for hook in ("order-select", "order-sign"):
        got = [c.to_json() for c in order_cards(state, [draft], [draft.reference], hook)]
        assert [c["indicator"] for c in got] == ["warning"]
        assert got[0]["summary"].startswith("Sacituzumab govitecan: not indicated — 1 systemic line for "
                                            "metastatic disease, at least 2 needed")
        assert ("Endocrine therapy only before metastatic disease (adjuvant): whether it is the label's "
                "endocrine-based therapy is left unclear") in got[0]["detail"]
        assert "with >= 2 metastatic lines needed either way" in got[0]["detail"]



def test_fhir_everolimus_after_an_adjuvant_anastrozole_completed_years_before_the_relapse_says_label_failure_is_not_established():
    # Afinitor: "after failure of treatment with letrozole or anastrozole" (CR B.8); C.3 row 8 gates
    # on a prior NSAI without saying whether a completed adjuvant course relapsing 31 months later is one
    p = (hr_positive_mbc("evx-adj-nsai", primary="2016-03-01").med("anastrozole", "2016-06-01", "2021-06-01")
         .regimen(("fulvestrant", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15"))
    _, cards = run(p)
    evx = card(cards, "everolimus-exemestane")
    assert evx["indicator"] == "info"
    assert ("- Non-steroidal AI only before metastatic disease, ended more than 12 months before the recurrence: "
            "'failure of letrozole or anastrozole' (label) not established.") in evx["detail"]
    assert "Anastrozole given only before metastatic disease; Recurrence 31.5 months (more than 12)" in evx["detail"]
    # a relapse on the adjuvant letrozole is its failure: nothing said
    _, cards = run(_adjuvant_endocrine_then_two_chemotherapy_lines("evx-on-adj-nsai"))
    assert "failure of letrozole or anastrozole" not in card(cards, "everolimus-exemestane")["detail"]
    # a non-steroidal AI for metastatic disease: nothing said
    _, cards = run(after_ai_cdk46i("evx-met-nsai"))
    assert "failure of letrozole or anastrozole" not in card(cards, "everolimus-exemestane")["detail"]


def test_fhir_everolimus_after_an_adjuvant_anastrozole_switched_to_tamoxifen_years_before_a_relapse_on_tamoxifen_says_label_failure_is_not_established():
    # B.8 "after failure of treatment with letrozole or anastrozole": the relapse on the later
    # adjuvant tamoxifen says nothing of the anastrozole stopped 5.5 years before it
    p = (hr_positive_mbc("evx-nsai-then-tam", primary="2016-03-01").med("anastrozole", "2016-06-01", "2018-06-01")
         .med("tamoxifen", "2018-06-10", "2024-01-10")
         .regimen(("fulvestrant", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15"))
    _, cards = run(p)
    evx = card(cards, "everolimus-exemestane")
    assert "'failure of letrozole or anastrozole' (label) not established." in evx["detail"]
    assert ("Anastrozole given only before metastatic disease, ended 2018-06-01, 67.5 months before the recurrence "
            "(adjuvant tamoxifen after it); Recurrence 0.2 months (within 12) after completing adjuvant endocrine therapy") in evx["detail"]


# --- label restrictions on the patient ------------------------------------

def test_fhir_premenopausal_woman_gets_no_elacestrant_and_ofs_warnings_on_endocrine_cards():
    p = (after_ai_cdk46i("lr-premeno", birth="1982-01-01", menopause="premenopausal")
         .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    _, cards = run(p)
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "everolimus-exemestane" not in regs
    im = card(cards, "imlunestrant")
    assert im["indicator"] == "warning"
    assert suggestion_drugs(im) == [["imlunestrant", "goserelin"]]


def test_fhir_premenopausal_woman_on_goserelin_needs_no_extra_ovarian_suppression():
    p = de_novo("lr-premeno-ofs", birth="1982-01-01", menopause="premenopausal").med("goserelin", "2024-01-20")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.factors.ovarian_suppression
    ai = card(cards, "ai-cdk46i")
    assert ai["indicator"] == "info" and all("goserelin" not in c for c in suggestion_drugs(ai))


def test_fhir_every_endocrine_card_of_a_premenopausal_woman_on_goserelin_names_the_suppression_to_keep():
    # C.3 row 15: OFS required with the endocrine-based regimens; documented, it is named so it
    # is kept through the change of line (it was named only when missing)
    p = (after_ai_cdk46i("lr-premeno-ofs-2l", birth="1982-01-01", menopause="premenopausal")
         .med("goserelin", "2025-06-20").variant("PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-06-01")
         .variant("ESR1", "p.Asp538Gly", specimen="ctdna", on="2025-06-01"))
    _, cards = run(p)
    kept = ("Premenopausal woman, ovarian function suppression documented: required with this endocrine-based "
            "regimen, keep it (C.3 row 15) — Observation/meno-")
    for topic in ("imlunestrant", "capivasertib-fulvestrant", "alpelisib-fulvestrant", "fulvestrant-cdk46i", "fulvestrant"):
        why = card(cards, topic)["detail"].split("**Cautions")[0]
        assert kept in why, topic
    for topic in ("trastuzumab-deruxtecan", "chemotherapy"):
        assert "ovarian function suppression documented" not in card(cards, topic)["detail"]


@pytest.mark.parametrize("goserelin", [False, True])
def test_fhir_a_woman_documented_premenopausal_after_a_bilateral_oophorectomy_is_not_told_to_keep_a_suppression(
        goserelin):
    # C.3 row 15 counts an oophorectomy as the suppression: permanent, nothing to keep going, so the
    # "keep it" line (said of an ongoing GnRH agonist) is not said of the surgery
    p = de_novo("lb-bso-premeno", menopause="premenopausal", birth="1980-05-01")
    p.add({"resourceType": "Procedure", "id": "bso", "status": "completed", "subject": {"reference": "Patient/lb-bso-premeno"},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": "29827000", "display": "Bilateral oophorectomy"}]},
           "performedDateTime": "2024-01-12"})
    if goserelin:
        p.med("goserelin", "2024-01-10")
    _, cards = run(p, FIRST_LINE_AS_OF)
    for topic in ("ai-cdk46i", "fulvestrant-cdk46i"):
        detail = card(cards, topic)["detail"]
        assert "keep it" not in detail and "needs ovarian suppression" not in card(cards, topic)["summary"], topic


def test_fhir_a_man_on_an_lhrh_agonist_is_told_to_keep_it_with_the_aromatase_inhibitor_not_with_fulvestrant():
    # C.2 step 2: men -> AI + CDK4/6i with LHRH agonist, or fulvestrant + CDK4/6i
    p = de_novo("lb-male-ai-lhrh", gender="male", birth="1961-02-01").med("goserelin", "2024-01-25")
    _, cards = run(p, FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert "Man on a documented LHRH agonist: keep it with this regimen (C.2 step 2)" in ai["detail"]
    assert all("goserelin" not in c for c in suggestion_drugs(ai))
    assert "Man on a documented LHRH agonist" not in card(cards, "fulvestrant-cdk46i")["detail"]


@pytest.mark.parametrize("words", ["Premenopausal on goserelin", "Premenopausal, on OFS"])
def test_fhir_premenopausal_status_written_on_ovarian_suppression_without_a_record_of_it_is_named_for_the_clinician(words):
    # the text is no therapy record: still "needs ovarian suppression", but the card no longer
    # says so silently beside words that say she has it (CR A.3; C.3 row 15)
    state, cards = run(de_novo("lr-premeno-ofs-text", birth="1982-01-01", menopause=words), FIRST_LINE_AS_OF)
    assert not state.factors.ovarian_suppression
    gap = next(g for g in state.gaps if g.code == "ovarian-suppression-text-only")
    assert f'writes "{words}"' in gap.message and "not counted as ongoing ovarian suppression" in gap.message
    ai = card(cards, "ai-cdk46i")
    assert ai["indicator"] == "warning"
    assert f'writes "{words}": ovarian suppression named in the text only' in ai["detail"]


@pytest.mark.parametrize("words", ["Premenopausal, not on OFS", "Premenopausal; OFS declined", "Premenopausal - discuss OFS?"])
def test_fhir_premenopausal_status_written_without_or_only_weighing_ovarian_suppression_raises_no_text_only_gap(words):
    state, _ = run(de_novo("lr-premeno-no-ofs-text", birth="1982-01-01", menopause=words), FIRST_LINE_AS_OF)
    assert "ovarian-suppression-text-only" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("words", ["Premenopausal, OFS not indicated", "Premenopausal, GnRH agonist contraindicated",
                                   "Premenopausal, OFS deferred", "Premenopausal, to start OFS", "Premenopausal, OFS if needed"])
def test_fhir_premenopausal_status_written_with_ovarian_suppression_not_needed_or_not_yet_given_does_not_name_it_as_given(words):
    # was: the AI + CDK4/6i caution said "ovarian suppression named in the text only" beside words
    # that say she does not have it
    state, cards = run(de_novo("lr-premeno-ofs-not-given", birth="1982-01-01", menopause=words), FIRST_LINE_AS_OF)
    assert "ovarian-suppression-text-only" not in {g.code for g in state.gaps}
    assert "named in the text only" not in card(cards, "ai-cdk46i")["detail"]


@pytest.mark.parametrize("words", ["Postmenopausal, ovarian suppression not needed", "Postmenopausal since stopping goserelin"])
def test_fhir_postmenopausal_status_written_with_ovarian_suppression_not_needed_or_stopped_stays_postmenopausal(words):
    # was: menopausal status unknown ("postmenopausal by ovarian suppression, no current GnRH-agonist record")
    state, _ = run(de_novo("lr-postmeno-ofs-not-needed", birth="1982-01-01", menopause=words), FIRST_LINE_AS_OF)
    assert state.factors.menopausal_status == "postmenopausal"
    assert "menopausal-status-unknown" not in {g.code for g in state.gaps}


def test_fhir_premenopausal_on_goserelin_in_words_and_with_a_goserelin_record_raises_no_text_only_gap():
    p = de_novo("lr-premeno-ofs-both", birth="1982-01-01", menopause="Premenopausal on goserelin").med("goserelin", "2024-01-20")
    state, _ = run(p, FIRST_LINE_AS_OF)
    assert state.factors.ovarian_suppression and "ovarian-suppression-text-only" not in {g.code for g in state.gaps}


def test_fhir_postmenopausal_status_written_on_goserelin_without_a_record_of_it_is_not_counted_and_is_named():
    # a state brought on by ovarian suppression not shown to go on (as "postmenopausal due to
    # chemotherapy", CR C.1 ABC4; A.3 derive defensively): read as postmenopausal, she got the
    # AI + CDK4/6i card with no ovarian-suppression caution
    state, cards = run(de_novo("lr-postmeno-ofs-text", birth="1982-01-01", menopause="Postmenopausal on goserelin"),
                       FIRST_LINE_AS_OF)
    assert state.factors.menopausal_status == "unknown"
    gap = next(g for g in state.gaps if g.code == "menopausal-status-unknown")
    assert '"Postmenopausal on goserelin" (postmenopausal by ovarian suppression, no current GnRH-agonist record)' in gap.message


@pytest.mark.parametrize("words", ["Postmenopausal; previously on goserelin", "Postmenopausal (goserelin completed 2019)"])
def test_fhir_postmenopausal_status_written_with_past_ovarian_suppression_stays_postmenopausal(words):
    state, _ = run(de_novo("lr-postmeno-ofs-past", birth="1982-01-01", menopause=words), FIRST_LINE_AS_OF)
    assert state.factors.menopausal_status == "postmenopausal"


def test_fhir_postmenopausal_status_written_on_goserelin_with_a_current_goserelin_record_stays_postmenopausal():
    p = de_novo("lr-postmeno-ofs-rec", birth="1982-01-01", menopause="Postmenopausal on goserelin").med("goserelin", "2024-01-20")
    state, _ = run(p, FIRST_LINE_AS_OF)
    assert state.factors.menopausal_status == "postmenopausal" and state.factors.ovarian_suppression


def test_fhir_man_gets_elacestrant_but_not_everolimus():
    p = after_ai_cdk46i("lr-male", gender="male", birth="1960-01-01").variant("ESR1", "p.Tyr537Ser", on="2025-06-01")
    _, cards = run(p)
    regs = regimen_topics(cards)
    assert "elacestrant" in regs and "everolimus-exemestane" not in regs


def test_fhir_diabetes_makes_pi3k_inhibitor_cards_warnings():
    p = (after_ai_cdk46i("lr-diabetes").diabetes().hba1c(7.6, "2025-06-20").fasting_glucose(150, "2025-06-20")
         .variant("PIK3CA", "p.His1047Arg", on="2025-06-01"))
    state, cards = run(p)
    for topic in ("capivasertib-fulvestrant", "alpelisib-fulvestrant", "everolimus-exemestane"):
        assert card(cards, topic)["indicator"] == "warning", topic
    assert "test-glycemic" not in ordered_tests(cards)  # both results within 30 days


def test_fhir_an_hba1c_older_than_30_days_is_named_on_the_pi3k_regimen_cards_as_needing_a_recent_result():
    # C.2 safety overlays / C.3 row 14: HbA1c and fasting glucose recent before start; before,
    # the regimen card named only the missing fasting glucose, as if the 14-month-old HbA1c counted
    p = after_ai_cdk46i("lr-stale-hba1c").hba1c(6.0, "2024-05-01").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    _, cards = run(p)
    for topic in ("capivasertib-fulvestrant", "alpelisib-fulvestrant"):
        detail = card(cards, topic)["detail"]
        assert "- Fasting glucose not documented: needed before starting (see testing card)." in detail
        assert ("- HbA1c 6 % from 2024-05-01 is older than 30 days: a recent result is needed before starting "
                "(see testing card).") in detail, topic
    assert "HbA1c 6 % from 2024-05-01 is older than 30 days" in card(cards, "test-glycemic")["detail"]
    # an old result written as a bound is asked for once, as too old (a recent one decides 8.0 % too)
    p = (after_ai_cdk46i("lr-stale-hba1c-bound").diabetes().hba1c(7.0, "2024-05-01", comparator=">")
         .variant("PIK3CA", "p.His1047Arg", on="2025-06-01"))
    detail = card(run(p)[1], "capivasertib-fulvestrant")["detail"]
    assert "- HbA1c >7 % from 2024-05-01 is older than 30 days: a recent result is needed before starting" in detail
    assert "does not say whether it is above 8.0 %" not in detail


def test_fhir_an_insulin_treated_type_2_diabetes_is_named_with_its_insulin_on_the_capivasertib_caution():
    # CR B.5 / C.2 safety overlays: CAPItello-291 excluded insulin-requiring type 2 diabetes; before,
    # the caution said only "on glucose-lowering treatment", so insulin could not be told from metformin
    p = (after_ai_cdk46i("lr-insulin").diabetes().med("insulin glargine", "2015-01-01").hba1c(7.0, "2025-06-20")
         .fasting_glucose(130, "2025-06-20").variant("PIK3CA", "p.His1047Arg", on="2025-06-01"))
    _, cards = run(p)
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["indicator"] == "warning"
    assert "Patient: type 2 diabetes, on glucose-lowering treatment (insulin glargine); HbA1c 7 % (2025-06-20)" in capi["detail"]


def test_fhir_a_diabetes_drug_whose_table_name_has_commas_is_named_without_them_in_the_list_of_drugs():
    # CR B.5 / C.2 safety overlays: the drugs are named so insulin can be told apart; drugs.yaml names
    # regular insulin "insulin, regular, human", which in the comma-separated list read as three drugs
    # ("metformin, insulin, regular, human"); now the record's own words for it (drugs.yaml names)
    p = (after_ai_cdk46i("lr-regular-insulin").diabetes().med("metformin", "2015-01-01")
         .med("insulin, regular, human", "2020-01-01").hba1c(7.0, "2025-06-20").fasting_glucose(130, "2025-06-20")
         .variant("PIK3CA", "p.His1047Arg", on="2025-06-01"))
    detail = card(run(p)[1], "capivasertib-fulvestrant")["detail"]
    assert "type 2 diabetes, on glucose-lowering treatment (metformin, insulin regular); HbA1c 7 %" in detail


def test_fhir_a_45_year_old_woman_without_a_documented_menopausal_status_gets_the_embryo_fetal_information():
    # C.2 safety overlays: embryo-fetal toxicity (informational); CR A.3 "unknown -> ask". Before, only a
    # documented pre/perimenopausal status gave it, so a woman under 60 with no status got none
    p = after_ai_cdk46i("ef-unknown", birth="1980-01-01", menopause=None).med("capecitabine", "2025-06-01", "2025-06-25")
    state, cards = run(p)
    assert state.factors.menopausal_status == "unknown"
    for topic in ("trastuzumab-deruxtecan", "datopotamab-deruxtecan", "chemotherapy"):
        c = card(cards, topic)
        assert ("- Embryo-fetal toxicity: effective contraception during treatment. (clinical-reference.md C.2 refined "
                "algorithm) Patient: female, menopausal status not documented: childbearing potential not excluded") \
            in c["detail"], topic
        assert c["indicator"] == "info" and "contraception" not in c["summary"]
    # a man and a postmenopausal woman: none
    for pid, kw in (("ef-man", {"gender": "male", "birth": "1980-01-01"}), ("ef-post", {})):
        _, cards = run(after_ai_cdk46i(pid, **kw).med("capecitabine", "2025-06-01", "2025-06-25"))
        assert "Embryo-fetal toxicity: effective contraception" not in card(cards, "datopotamab-deruxtecan")["detail"]


def test_fhir_a_45_year_old_woman_read_as_postmenopausal_only_from_her_gnrh_agonist_gets_the_embryo_fetal_information():
    # C.2 safety overlays (pregnancy potential, informational); CR A.3 derives "postmenopausal" from an
    # ongoing GnRH agonist for the endocrine choice, but suppressed ovaries are not a menopause. Before,
    # a woman of 45 on goserelin with no recorded status got no embryo-fetal line, while the same woman
    # recorded premenopausal got it; at 65 the age rule (A.3) excludes it either way
    p = after_ai_cdk46i("ef-gnrh", birth="1980-01-01", menopause=None).med("goserelin", "2025-06-15")
    state, cards = run(p.med("capecitabine", "2025-06-01", "2025-06-25"))
    assert state.factors.menopausal_basis == "gnrh-agonist"
    assert ("- Embryo-fetal toxicity: effective contraception during treatment. (clinical-reference.md C.2 refined "
            "algorithm) Patient: female, postmenopausal (by ongoing GnRH agonist): ovarian function suppressed, not "
            "ended: childbearing potential not excluded") in card(cards, "datopotamab-deruxtecan")["detail"]
    p = after_ai_cdk46i("ef-gnrh-65", birth="1960-01-01", menopause=None).med("goserelin", "2025-06-15")
    _, cards = run(p.med("capecitabine", "2025-06-01", "2025-06-25"))
    assert "Embryo-fetal toxicity: effective contraception" not in card(cards, "datopotamab-deruxtecan")["detail"]


def test_fhir_prolonged_qtc_moves_the_cdk46i_recommendation_away_from_ribociclib():
    p = de_novo("lr-qtc").qtc(480, "2024-01-25")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.factors.qtc_ms is not None
    assert recommended(card(cards, "ai-cdk46i")) == ["letrozole", "abemaciclib"]


LONG_QT_CAUTION = ("Long QT syndrome: a ribociclib warning (C.2 safety overlays: congenital long QT; Kisqali label: "
                   "QT prolongation), so ribociclib is not the recommended CDK4/6 inhibitor here.")


def test_fhir_documented_long_qt_syndrome_makes_ribociclib_a_warning_and_moves_the_recommendation_to_abemaciclib():
    # C.2 safety overlays: "Ribociclib: ... congenital long QT ... -> warning"; before, the cards
    # said long QT was not read and recommended letrozole + ribociclib
    state, cards = run(de_novo("lqt-first-line").long_qt("2019-03"), FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert recommended(ai) == ["letrozole", "abemaciclib"]
    assert ai["indicator"] == "warning"
    assert ai["summary"].endswith("caution: ribociclib long QT syndrome")
    # said once under the three ribociclib choices, not once per aromatase inhibitor
    assert (f"- ⚠️ Letrozole + ribociclib, Anastrozole + ribociclib, Exemestane + ribociclib: {LONG_QT_CAUTION}") in ai["detail"]
    assert "Patient: Long QT syndrome documented (2019-03) — Condition/long-qt-" in ai["detail"]
    fulv = card(cards, "fulvestrant-cdk46i")
    assert fulv["summary"].endswith("not recommended: long QT syndrome") and fulv["indicator"] == "warning"
    assert not any(sg.get("isRecommended") for sg in fulv["suggestions"])
    assert "- Long QT syndrome documented (2019-03) — Condition/long-qt-" in card(cards, "patient-summary")["detail"]


def test_fhir_provisional_long_qt_syndrome_leaves_ribociclib_recommended_and_asks_to_confirm_it():
    state, cards = run(de_novo("lqt-provisional").long_qt("2019-03", verification="provisional"), FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert recommended(ai) == ["letrozole", "ribociclib"] and ai["indicator"] == "info"
    assert "- Long QT syndrome recorded, not confirmed (provisional) — Condition/long-qt-" in ai["detail"]
    assert ": confirm or refute it before ribociclib (C.2 safety overlays)." in ai["detail"]
    assert ("- Long QT syndrome recorded but not confirmed, not counted: provisional. Confirm or refute it before "
            "ribociclib (QT prolongation; C.2 safety overlays). — Condition/long-qt-") in card(cards, "patient-summary")["detail"]


# --- outside the pathway ---------------------------------------------------

def test_fhir_her2_positive_gets_only_the_summary():
    p = de_novo("out-her2pos", her2="3+")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert topics(cards) == ["patient-summary"]


def test_fhir_an_overall_her2_positive_beside_ihc_1_plus_gets_no_her2_negative_regimens_and_a_her2_test():
    # CR C.2 step 0: HER2 discordant -> testing card only (not HER2-low, no trastuzumab deruxtecan)
    p = after_ai_cdk46i("out-her2-discordant", her2="1+").her2_interpretation("positive", "2024-01-20")
    state, cards = run(p)
    assert (state.her2.category, state.her2.conflict) == ("unknown", True)
    assert regimen_topics(cards) == []
    assert ordered_tests(cards) == ["test-er-pr-her2"]
    assert card(cards, "patient-summary")["summary"].startswith("Receptor status unknown (HER2)")
    assert "- HER2: unknown, IHC 1+, results disagree" in card(cards, "patient-summary")["detail"]


def test_fhir_triple_negative_gets_only_the_summary():
    p = (FhirPatient("out-tnbc").primary("2024-01-10").metastasis("lung", "2024-01-15")
         .er("negative").pr("negative").her2("0"))
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert topics(cards) == ["patient-summary"]


def test_fhir_early_breast_cancer_without_metastasis_gets_only_the_summary():
    p = FhirPatient("out-early").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert topics(cards) == ["patient-summary"]


def test_fhir_deceased_patient_gets_only_the_summary_card_naming_the_death_date():
    # Synthea robustness run D2: patients who had died got first-line regimen cards
    p = de_novo("out-dead", birth="1951-10-16").deceased("2023-11-22T10:00:00+01:00")
    _, cards = run(p, FIRST_LINE_AS_OF.replace(year=2025))
    assert topics(cards) == ["patient-summary"]  # no regimen, no testing card
    summary = cards[0]
    assert "Patient recorded as deceased (2023-11-22)" in summary["summary"]
    assert summary["indicator"] == "info"
    assert "**Pathway**: Patient recorded as deceased (2023-11-22): no treatment advice." in summary["detail"]
    assert "- Deceased 2023-11-22 — Patient/out-dead" in summary["detail"]
    assert "age 72 at death" in summary["detail"]  # 73 on the as-of date


def test_fhir_deceased_boolean_false_is_alive_and_keeps_the_regimen_cards():
    p = de_novo("out-alive").deceased(flag=False)
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert "ai-cdk46i" in topics(cards) and "deceased" not in cards[0]["detail"]


def test_fhir_deceased_patient_with_unknown_receptors_gets_no_receptor_testing_card():
    p = FhirPatient("out-dead-unknown").primary("2024-01-10").metastasis("bone", "2024-01-15").deceased(flag=True)
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert topics(cards) == ["patient-summary"]
    assert cards[0]["summary"].startswith("Outside the HR+/HER2- MBC pathway: Patient recorded as deceased;")


def test_fhir_patient_without_breast_cancer_gets_only_the_summary():
    _, cards = run(FhirPatient("out-none", gender="male"), FIRST_LINE_AS_OF)
    assert topics(cards) == ["patient-summary"]


def test_fhir_unknown_receptors_get_summary_and_receptor_testing_only():
    p = FhirPatient("out-unknown").primary("2024-01-10").metastasis("bone", "2024-01-15")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]


# --- more label restrictions through the pipeline --------------------------

def test_fhir_her2_low_after_first_line_chemotherapy_gets_trastuzumab_deruxtecan_via_label_b():
    p = de_novo("lb-tdxd-b", site="liver").visceral_crisis("2024-01-16").med("paclitaxel", "2024-02-01", "2024-08-01")
    state, cards = run(p, dt.date(2024, 9, 1))
    assert state.therapy.metastatic_endocrine_lines == 0 and state.therapy.metastatic_chemotherapy_lines == 1
    assert "Label B" in card(cards, "trastuzumab-deruxtecan")["detail"]


def test_fhir_relapse_in_a_month_without_a_day_that_straddles_6_months_after_adjuvant_chemotherapy_does_not_open_label_b():
    # paclitaxel ended 2023-07-10; metastatic "2024-01": 5.7 months from its first day, 6.7 from its last.
    # The only metastatic line (olaparib) is neither endocrine (label A) nor chemotherapy.
    p = (hr_positive_mbc("lb-tdxd-b-partial", primary="2023-01-10", metastatic="2024-01")
         .med("paclitaxel", "2023-03-01", "2023-07-10").med("olaparib", "2024-02-01", "2025-05-20")
         .progression("2025-05-15"))
    _, cards = run(p)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    line = next(x for x in card(cards, "patient-summary")["detail"].splitlines()
                if x.startswith("- Trastuzumab deruxtecan:"))
    assert "waiting on" in line and "within 6 months of completing adjuvant chemotherapy cannot be confirmed" in line


def test_fhir_de_novo_pik3ca_first_line_gets_no_pi3k_pathway_inhibitor():
    _, cards = run(de_novo("lb-denovo-pik3ca").variant("PIK3CA", "p.His1047Arg", on="2024-01-20"), FIRST_LINE_AS_OF)
    regs = regimen_topics(cards)
    assert regs[0] == "ai-cdk46i"
    assert not {"inavolisib-palbociclib-fulvestrant", "alpelisib-fulvestrant", "capivasertib-fulvestrant"} & set(regs)


def test_fhir_progression_on_letrozole_alone_puts_fulvestrant_plus_cdk46i_first():
    p = de_novo("lb-cdk-naive").med("letrozole", "2024-02-01", "2025-05-20").med("anastrozole", "2025-06-01")
    _, cards = run(p)
    assert regimen_topics(cards)[0] == "fulvestrant-cdk46i"


def test_fhir_man_on_an_aromatase_inhibitor_is_told_to_add_an_lhrh_agonist():
    _, cards = run(de_novo("lb-male-ai", gender="male", birth="1961-02-01"), FIRST_LINE_AS_OF)
    assert "LHRH agonist" in card(cards, "ai-cdk46i")["detail"]


def test_fhir_man_relapsing_early_with_pik3ca_gets_inavolisib_with_a_goserelin_order_and_says_why():
    # C.2 step 2: inavolisib + palbociclib + fulvestrant (+ LHRH agonist for men per clinical practice)
    p = adjuvant_relapse("lb-male-inavo", "2023-07-01", gender="male", birth="1961-02-01")
    _, cards = run(p.variant("PIK3CA", "p.His1047Arg", on="2024-01-20"), FIRST_LINE_AS_OF)
    inavo = card(cards, "inavolisib-palbociclib-fulvestrant")
    assert suggestion_drugs(inavo) == [["inavolisib", "palbociclib", "fulvestrant", "goserelin"]]
    assert "Men on inavolisib + palbociclib + fulvestrant: an LHRH agonist per clinical practice" in inavo["detail"]
    # no such advice on the fulvestrant regimens the reference does not give it for
    assert suggestion_drugs(card(cards, "capivasertib-fulvestrant")) == [["capivasertib", "fulvestrant"]]
    drafts = [_draft("inavolisib", "pi3k-akt-mtor", "2695422"), _draft("palbociclib", "cdk46i", "1601374"),
              _draft("fulvestrant", "fulvestrant", "282357")]
    order = [c.to_json() for c in order_cards(p.state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]
    lhrh = next(c for c in order if "LHRH" in c["summary"])
    assert lhrh["summary"] == "Man: add an LHRH agonist to Inavolisib + palbociclib + fulvestrant"
    assert "Men on inavolisib + palbociclib + fulvestrant: an LHRH agonist per clinical practice" in lhrh["detail"]


def test_fhir_no_alpelisib_after_prior_alpelisib_and_capivasertib_only_with_the_caution_on_its_evidence():
    # C.3 row 5: alpelisib not after a prior PI3K/AKT inhibitor (SOLAR-1); the Truqap label
    # has no such exclusion (B.5): capivasertib is offered with a warning
    p = (after_ai_cdk46i("lb-prior-alpelisib").regimen(("fulvestrant", "alpelisib"), "2025-06-01", "2026-01-10")
         .variant("PIK3CA", "p.His1047Arg", on="2025-05-25"))
    _, cards = run(p, dt.date(2026, 2, 1))
    regs = regimen_topics(cards)
    assert "alpelisib-fulvestrant" not in regs
    assert "caution: after another PI3K/AKT/mTOR inhibitor" in card(cards, "capivasertib-fulvestrant")["summary"]


def test_fhir_everolimus_needs_prior_letrozole_or_anastrozole():
    p = de_novo("lb-exe").regimen(("exemestane", "ribociclib"), "2024-02-01", "2025-05-20")
    _, cards = run(p)
    assert "everolimus-exemestane" not in regimen_topics(cards)
    assert "No prior non-steroidal aromatase inhibitor" in cards[0]["detail"]


def _gbrca_after_chemotherapy_without_endocrine_therapy(pid: str) -> FhirPatient:
    """De novo MBC, first-line paclitaxel 2024-02-01 .. 2025-05-20 (progression), germline
    BRCA1; no endocrine therapy in any setting."""
    p = de_novo(pid).med("paclitaxel", "2024-02-01", "2025-05-20").progression("2025-05-15")
    return p.variant("BRCA1", "p.Glu1836fs", origin="germline", specimen="blood", on="2024-03-01")


def test_fhir_olaparib_without_prior_endocrine_therapy_fits_when_a_visceral_crisis_holds_endocrine_therapy_back():
    # Lynparza: HR-positive patients "should have been treated with a prior endocrine therapy
    # or be considered inappropriate for endocrine therapy" (B.6); a current visceral crisis is
    # when the pathway itself holds endocrine therapy back (C.2 step 2)
    p = _gbrca_after_chemotherapy_without_endocrine_therapy("lb-olaparib-crisis").visceral_crisis("2025-06-15")
    state, cards = run(p)
    assert state.disease.visceral_crisis is True
    ola = card(cards, "olaparib")
    assert "Label route: endocrine therapy inappropriate now: visceral crisis (C.2 step 2)" in ola["detail"]
    assert "Visceral crisis asserted by a clinician" in ola["detail"]


def test_fhir_olaparib_without_prior_endocrine_therapy_or_visceral_crisis_is_not_offered_and_says_both():
    _, cards = run(_gbrca_after_chemotherapy_without_endocrine_therapy("lb-olaparib-no-et"))
    assert "olaparib" not in regimen_topics(cards) and "talazoparib" in regimen_topics(cards)
    line = not_offered_line(card(cards, "patient-summary")["detail"], "Olaparib")
    assert "No prior endocrine therapy" in line


def test_fhir_adjuvant_chemotherapy_counts_as_prior_chemotherapy_for_olaparib():
    p = (hr_positive_mbc("lb-olaparib-adj", primary="2016-03-01")
         .med("doxorubicin", "2016-04-01", "2016-06-01").med("cyclophosphamide", "2016-04-01", "2016-06-01")
         .med("paclitaxel", "2016-06-15", "2016-09-01").med("letrozole", "2016-10-01", "2021-10-01")
         .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20")
         .variant("BRCA1", "p.Glu1836fs", origin="germline", specimen="blood", on="2024-03-01"))
    _, cards = run(p)
    assert {"olaparib", "talazoparib"} <= set(regimen_topics(cards))
    assert "datopotamab-deruxtecan" not in regimen_topics(cards)  # adjuvant chemotherapy does not count


def test_fhir_brca_of_unknown_origin_gets_a_germline_test_not_a_parp_inhibitor():
    p = after_ai_cdk46i("lb-brca-unknown").variant("BRCA2", "p.Ser1982fs", origin="unknown", specimen="tissue",
                                                    on="2025-06-01")
    _, cards = run(p)
    assert "talazoparib" not in regimen_topics(cards)
    assert "test-germline-brca" in ordered_tests(cards)


def test_fhir_no_trastuzumab_deruxtecan_rechallenge():
    p = after_ai_cdk46i("lb-tdxd-again").med("trastuzumab deruxtecan", "2025-06-01", "2026-01-10")
    _, cards = run(p, dt.date(2026, 2, 1))
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)


def test_fhir_datopotamab_deruxtecan_with_ild_history_is_a_warning():
    p = after_ai_cdk46i("lb-dato-ild").med("capecitabine", "2025-06-01", "2025-06-25").ild("2023-05-01")
    _, cards = run(p)
    assert card(cards, "datopotamab-deruxtecan")["indicator"] == "warning"


# --- ILD / pneumonitis: what is read as the patient's ILD, and what the cards say ------------
# (mappings/factors.py _lung; CR A.4 codes, C.2 "history of ILD/pneumonitis", B.11 T-DXd)
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
_TDXD_STOP = "T-DXd must be permanently discontinued after symptomatic ILD"


def _after_chemo(pid: str) -> FhirPatient:
    """Progressed on first-line letrozole + ribociclib, then capecitabine: T-DXd and Dato-DXd both fit."""
    return after_ai_cdk46i(pid).med("capecitabine", "2025-06-01", "2025-06-25")


def _summary(cards) -> str:
    return card(cards, "patient-summary")["detail"]


def test_fhir_a_provisional_grade_2_pneumonitis_does_not_stop_trastuzumab_deruxtecan_and_the_caution_says_not_confirmed():
    p = _after_chemo("ild-provisional").ild("2023-05-01", "Drug-induced pneumonitis, grade 2, symptomatic",
                                            verification="provisional")
    state, cards = run(p)
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "warning"
    assert ("Patient: ILD/pneumonitis recorded, not confirmed: provisional (2023-05-01, grade 2, symptomatic): "
            "confirm or refute it before starting") in tdxd["detail"]
    assert card(cards, "datopotamab-deruxtecan")["indicator"] == "warning"
    assert "ild-unconfirmed" in [g.code for g in state.gaps]
    assert ("ILD/pneumonitis recorded but not confirmed, not counted: provisional (2023-05-01, grade 2, symptomatic)"
            in _summary(cards))
    assert _TDXD_STOP not in _summary(cards)


@pytest.mark.parametrize("text", ["Suspected drug-induced pneumonitis", "? pneumonitis", "Pneumonitis cannot be excluded",
                                  "Couldn't exclude pneumonitis"])
def test_fhir_ild_written_as_a_suspicion_is_named_as_not_confirmed_not_as_ild_history(text):
    p = _after_chemo("ild-suspected").ild("2023-05-01", f"{text}, grade 2")
    _, cards = run(p)
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "warning"
    written = repr(f"{text.lower()}, grade 2")  # as the card quotes it ("couldn't ..." in double quotes)
    assert f"ILD/pneumonitis recorded, not confirmed: written as a suspicion ({written})" in tdxd["detail"]
    assert "ILD/pneumonitis history" not in tdxd["detail"]


def test_fhir_a_confirmed_grade_1_ild_beside_a_provisional_grade_3_one_is_a_caution_naming_both():
    p = (_after_chemo("ild-mixed").ild("2022-01-10", "Grade 1 pneumonitis, asymptomatic")
         .ild("2025-06-01", "Pneumonitis grade 3", verification="provisional"))
    _, cards = run(p)
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "warning"
    assert ("ILD/pneumonitis history, grade 1, asymptomatic, diagnosed 2022-01-10; also recorded, not confirmed: "
            "provisional (2025-06-01, grade 3)") in tdxd["detail"]


@pytest.mark.parametrize("text,code", [
    ("At risk of pneumonitis", None), ("Screening for ILD", None), ("Surveillance for pneumonitis", None),
    ("Family history of pulmonary fibrosis", None), ("No evidence of ILD", None), ("ILD ruled out", None),
    # the ILD code with words that say it is not the patient's: the words decide
    ("No ILD", (SCT, "233703007", "Interstitial lung disease")),
])
def test_fhir_ild_words_that_are_not_the_patients_ild_give_no_ild_caution(text, code):
    _, cards = run(_after_chemo("ild-not-hers").ild("2023-05-01", text, code=code))
    assert card(cards, "trastuzumab-deruxtecan")["indicator"] == "info"
    assert card(cards, "datopotamab-deruxtecan")["indicator"] == "info"
    assert "ILD/pneumonitis" not in _summary(cards)


@pytest.mark.parametrize("text,code", [
    ("COVID-19 pneumonitis", None), ("Viral interstitial pneumonia", None), ("Pneumocystis pneumonitis", None),
    ("Pneumonitis due to influenza", None),
    # the pneumonitis code of any cause (CR A.4 205237003) with the infection in its text
    ("CMV pneumonitis", (SCT, "205237003", "Pneumonitis")),
])
def test_fhir_an_infection_written_as_pneumonitis_is_not_ild(text, code):
    _, cards = run(_after_chemo("ild-infection").ild("2023-05-01", text, code=code))
    assert card(cards, "trastuzumab-deruxtecan")["indicator"] == "info"
    assert "ILD/pneumonitis" not in _summary(cards)


@pytest.mark.parametrize("text", ["Non-infectious pneumonitis", "Pulmonary fibrosis after COVID-19 pneumonitis",
                                  # an alternative excluded is not the ILD excluded; a history without active ILD
                                  "Drug-induced pneumonitis, infection excluded", "History of pneumonitis; no active ILD"])
def test_fhir_non_infectious_pneumonitis_and_fibrosis_after_an_infection_are_still_ild(text):
    _, cards = run(_after_chemo("ild-noninfectious").ild("2023-05-01", text, code=None))
    assert card(cards, "trastuzumab-deruxtecan")["indicator"] == "warning"
    assert "- ILD/pneumonitis history, diagnosed 2023-05-01" in _summary(cards)


def test_fhir_radiation_pneumonitis_coded_j70_0_is_read_as_the_words_radiation_pneumonitis_are():
    p = _after_chemo("ild-j700").ild("2023-05-01", "Acute pulmonary manifestations due to radiation",
                                     code=(ICD10CM, "J70.0", "Acute pulmonary manifestations due to radiation"))
    _, cards = run(p)
    assert card(cards, "trastuzumab-deruxtecan")["indicator"] == "warning"
    assert "- ILD/pneumonitis history, diagnosed 2023-05-01" in _summary(cards)


def test_fhir_a_resolved_symptomatic_ild_still_stops_trastuzumab_deruxtecan_and_the_cards_say_when_it_resolved():
    p = _after_chemo("ild-resolved").ild("2023-05-01", "Drug-induced pneumonitis, grade 2", clinical="resolved",
                                         abated="2023-08-01")
    _, cards = run(p)
    assert card(cards, "trastuzumab-deruxtecan")["indicator"] == "critical"
    assert "(resolved 2023-08-01)" in card(cards, "trastuzumab-deruxtecan")["detail"]
    assert ("- ILD/pneumonitis history, grade 2, symptomatic, diagnosed 2023-05-01 (resolved 2023-08-01)"
            in _summary(cards))
    assert "(resolved 2023-08-01)" in card(cards, "datopotamab-deruxtecan")["detail"]


def test_fhir_ild_that_began_on_trastuzumab_deruxtecan_is_the_reason_it_is_not_offered_again_with_the_label_rule():
    # B.11: the Enhertu label's "permanently discontinue" is about symptomatic ILD on T-DXd; the
    # "Not offered now" line said only "Already treated with trastuzumab deruxtecan"
    p = (_after_chemo("ild-on-tdxd").med("trastuzumab deruxtecan", "2025-07-01", "2025-10-01")
         .ild("2025-10-01", "Drug-induced pneumonitis, grade 2, symptomatic").progression("2025-10-05"))
    _, cards = run(p, dt.date(2025, 11, 1))
    assert ("Trastuzumab deruxtecan: ILD/pneumonitis began on trastuzumab deruxtecan (Enhertu label, B.11: grade 1 "
            "interrupted until resolved; symptomatic, grade >= 2, permanently discontinued).") \
        in not_offered_line(_summary(cards), "Trastuzumab deruxtecan")
    assert card(cards, "datopotamab-deruxtecan")["indicator"] == "critical"


def test_fhir_an_order_for_trastuzumab_deruxtecan_after_grade_1_ild_on_it_does_not_say_the_label_stops_it_for_good():
    # B.11: grade 1 (asymptomatic) ILD interrupts T-DXd until resolved; the clipped order summary
    # said "the Enhertu label permanently discontinues it…" for it (rt35)
    p = (_after_chemo("ild1-on-tdxd").med("trastuzumab deruxtecan", "2025-07-01", "2025-10-01")
         .ild("2025-10-01", "Drug-induced pneumonitis, grade 1").progression("2025-10-05"))
    state = p.state(dt.date(2025, 11, 1))
    assert state.factors.lung.grade == 1 and state.factors.lung.symptomatic is False
    cards = _order(state, [_draft("trastuzumab deruxtecan", "her2-adc", "2287684")])
    summary = next(c["summary"] for c in cards if c["source"]["topic"]["code"] == "order-not-indicated")
    assert summary.startswith("Trastuzumab deruxtecan: not indicated — ILD/pneumonitis began on trastuzumab "
                              "deruxtecan (Enhertu label, B.11: grade 1 interrupted")
    assert "permanently" not in summary


def test_fhir_an_ild_onset_written_without_a_day_is_shown_as_written():
    _, cards = run(_after_chemo("ild-month").ild("2023-05"))
    assert "Patient: ILD/pneumonitis history, diagnosed 2023-05 — " in card(cards, "trastuzumab-deruxtecan")["detail"]
    assert "2023-05-01" not in _summary(cards)


def test_fhir_pneumonitis_on_oxygen_is_symptomatic_and_stops_trastuzumab_deruxtecan():
    _, cards = run(_after_chemo("ild-oxygen").ild("2023-05-01", "Drug-induced pneumonitis, on supplemental oxygen"))
    assert card(cards, "trastuzumab-deruxtecan")["indicator"] == "critical"
    assert card(cards, "datopotamab-deruxtecan")["indicator"] == "critical"
    _, cards2 = run(_after_chemo("ild-no-oxygen").ild("2023-05-01", "Drug-induced pneumonitis, not on oxygen"))
    assert card(cards2, "trastuzumab-deruxtecan")["indicator"] == "warning"


@pytest.mark.parametrize("words", ["requiring steroids", "symptomatic", "on oxygen"])
def test_fhir_grade_1_pneumonitis_also_written_as_symptomatic_gives_both_deruxtecan_adcs_the_same_warning_saying_it_is_unclear(words):
    # C.2 safety overlays: the same ILD stance for T-DXd and Dato-DXd; the grade the record leaves
    # unclear is said on both cards and as a data gap, neither is stopped nor silently dropped
    p = _after_chemo("ild-g1-unclear").ild("2023-05-01", f"Grade 1 pneumonitis, {words}")
    state, cards = run(p)
    assert _TDXD_STOP not in _summary(cards)
    unclear = ("ILD/pneumonitis history, grade 1, diagnosed 2023-05-01; graded 1 but also "
               f"written as '{words}' (2023-05-01): whether it was symptomatic (grade >= 2) is unclear")
    for topic in ("trastuzumab-deruxtecan", "datopotamab-deruxtecan"):
        c = card(cards, topic)
        assert c["indicator"] == "warning" and unclear in c["detail"]
    assert "ild-grade-unclear" in [g.code for g in state.gaps]


@pytest.mark.parametrize("text, said", [
    ("Pneumonitis grade 1-2", "graded as a range, 'grade 1-2' (2023-05-01)"),
    ("Asymptomatic pneumonitis, treated with prednisone",
     "written as asymptomatic (grade 1) but also as 'treated with prednisone' (2023-05-01)"),
])
def test_fhir_an_ild_grade_left_unclear_by_a_range_or_by_asymptomatic_and_steroid_words_is_worded_as_written(text, said):
    # CR B.11 (grade 1 asymptomatic, grade >= 2 symptomatic): before, both read "graded 1 but also
    # written as 'grade 1-2'" / "... as 'treated with prednisone'", a grade 1 the record never wrote
    _, cards = run(_after_chemo("ild-unclear-kind").ild("2023-05-01", text))
    for topic in ("trastuzumab-deruxtecan", "datopotamab-deruxtecan"):
        detail = card(cards, topic)["detail"]
        assert f"ILD/pneumonitis history, diagnosed 2023-05-01; {said}: whether it was symptomatic (grade >= 2) is unclear" in detail
        assert "graded 1 but" not in detail


def test_fhir_both_deruxtecan_adcs_after_a_symptomatic_ild_of_another_cause_get_the_same_do_not_start_naming_what_the_label_and_trials_say():
    # C.2 safety overlays: "T-DXd / Dato-DXd: history of ILD/pneumonitis -> prominent warning" (cards,
    # not silent exclusions). T-DXd was dropped to "Not offered now" after a radiation pneumonitis,
    # as if the label's "permanently discontinue" (for ILD on T-DXd, B.11) applied to any ILD, while
    # Dato-DXd (TROPION-Breast01 excluded ILD requiring steroids, B.13) was a "do not start" card
    p = _after_chemo("ild-radiation").ild("2023-05-01", "Radiation pneumonitis, grade 2, symptomatic")
    _, cards = run(p)
    assert "Trastuzumab deruxtecan:" not in _summary(cards).split("Not offered now")[1]
    for topic in ("trastuzumab-deruxtecan", "datopotamab-deruxtecan"):
        c = card(cards, topic)
        assert c["indicator"] == "critical" and "do not start: after symptomatic ILD" in c["summary"]
        assert not any(s.get("isRecommended") for s in c.get("suggestions", []))
        assert ("the Enhertu label's \"permanently discontinue\" is for symptomatic ILD (grade 2 or greater) on "
                "trastuzumab deruxtecan") in c["detail"]
        assert "TROPION-Breast01 (datopotamab deruxtecan) excluded ILD/pneumonitis requiring steroids" in c["detail"]
        assert "the reference does not quote what DESTINY-Breast04/06 excluded" in c["detail"]


def test_fhir_her2_2plus_without_ish_orders_the_ish_and_no_regimen():
    _, cards = run(de_novo("lb-her2-2plus", her2="2+"), FIRST_LINE_AS_OF)
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    assert card(cards, "test-er-pr-her2")["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "85318-4"


def test_fhir_her2_2plus_with_negative_ish_is_her2_low():
    p = de_novo("lb-her2-2plus-ish", her2="2+").her2_ish(amplified=False, on="2024-01-22")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.her2.category == "low"
    assert "ai-cdk46i" in regimen_topics(cards)


def test_fhir_woman_under_60_without_menopausal_status_gets_no_elacestrant_until_it_is_documented():
    p = after_ai_cdk46i("lb-meno-unknown", birth="1972-01-01", menopause=None).variant("ESR1", "p.Tyr537Ser",
                                                                                       on="2025-06-01")
    state, cards = run(p)
    assert state.factors.menopausal_status == "unknown"
    assert "elacestrant" not in regimen_topics(cards)
    assert card(cards, "imlunestrant")["indicator"] == "warning"


def test_fhir_er_low_tumour_makes_endocrine_cards_warnings():
    p = (FhirPatient("lb-er-low").primary("2024-01-10").metastasis("bone", "2024-01-15")
         .er("positive", "2024-01-15", percent=5).pr("negative", "2024-01-15").her2("1+", "2024-01-15")
         .menopause("postmenopausal"))
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.er.low_positive
    assert card(cards, "ai-cdk46i")["indicator"] == "warning"


def test_fhir_the_er_low_caution_names_only_options_the_patient_is_shown_at_first_line_and_after_progression():
    # it said "weigh chemotherapy or an ADC" to a first-line patient shown neither card: C.2 step 2
    # gives first-line chemotherapy only in visceral crisis; ADCs and chemotherapy come after a
    # metastatic line (C.2 steps 3-4, C.3 row 13)
    p = (FhirPatient("lb-er-low-1l").primary("2024-01-10").metastasis("bone", "2024-01-15")
         .er("positive", "2024-01-15", percent=5).pr("negative", "2024-01-15").her2("1+", "2024-01-15")
         .menopause("postmenopausal"))
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert not {"chemotherapy", "trastuzumab-deruxtecan"} & set(regimen_topics(cards))
    ai = card(cards, "ai-cdk46i")["detail"]
    assert "weigh chemotherapy or an ADC" not in ai
    assert ("this service shows first-line chemotherapy only in visceral crisis (C.2 step 2), otherwise at first "
            "line it is outside these cards") in ai
    _, cards = run(p.regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15"))
    assert {"chemotherapy", "trastuzumab-deruxtecan"} <= set(regimen_topics(cards))
    assert ("after a metastatic line the chemotherapy card and any ADC card shown here are the options where their "
            "labels fit") in card(cards, "fulvestrant-cdk46i")["detail"]


def test_fhir_eribulin_is_only_suggested_after_anthracycline_taxane_and_two_chemotherapy_lines():
    p = (after_ai_cdk46i("lb-eribulin").med("doxorubicin", "2025-06-01", "2025-09-01")
         .med("paclitaxel", "2025-10-01", "2026-01-10"))
    state, cards = run(p, dt.date(2026, 2, 1))
    assert state.therapy.metastatic_chemotherapy_lines == 2
    chemo = card(cards, "chemotherapy")
    assert ["eribulin"] in suggestion_drugs(chemo)
    assert ["paclitaxel"] not in suggestion_drugs(chemo) and ["doxorubicin"] not in suggestion_drugs(chemo)


def test_fhir_eribulin_not_offered_names_the_missing_requirement_and_what_was_given():
    p = after_ai_cdk46i("lb-eribulin-one").med("doxorubicin", "2025-06-01", "2025-09-01")
    state, cards = run(p, dt.date(2026, 2, 1))
    assert state.therapy.metastatic_chemotherapy_lines == 1
    chemo = card(cards, "chemotherapy")
    assert ["eribulin"] not in suggestion_drugs(chemo)
    line = next(ln for ln in chemo["detail"].splitlines() if "Not offered: Eribulin" in ln)
    assert "Not offered: Eribulin — No taxane documented; 1 chemotherapy line for metastatic " \
           "disease, at least 2 needed (line 2: doxorubicin from 2025-06-01" in line
    assert "). Given: anthracycline (doxorubicin). Eribulin label: " in line


def test_fhir_woman_postmenopausal_only_by_goserelin_gets_imlunestrant_without_ofs_warning_but_no_elacestrant():
    p = (after_ai_cdk46i("lb-gnrh-only", birth="1980-01-01", menopause=None).med("goserelin", "2024-01-20")
         .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    # an implant given within the 12-week depot window (DailyMed Zoladex 10.8 mg): suppression is current
    p.add({"resourceType": "MedicationAdministration", "id": "ma-goserelin", "status": "completed",
           "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                     "code": "50610", "display": "goserelin"}]},
           "subject": {"reference": "Patient/lb-gnrh-only"}, "effectiveDateTime": "2025-05-20"})
    state, cards = run(p)
    assert state.factors.menopausal_basis == "gnrh-agonist" and state.factors.ovarian_suppression
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "everolimus-exemestane" not in regs
    im = card(cards, "imlunestrant")
    assert im["indicator"] == "info" and suggestion_drugs(im) == [["imlunestrant"]]


def test_fhir_her2_null_on_the_2016_primary_only_asks_for_a_her2_retest_on_recent_tissue():
    p = (FhirPatient("lb-old-null").primary("2016-03-01").er("positive", "2016-03-05").pr("positive", "2016-03-05")
         .her2("0", "2016-03-05", text="IHC 0, no membrane staining (HER2-null)").metastasis("bone", "2024-01-15")
         .menopause("postmenopausal").regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20"))
    state, cards = run(p)
    assert state.her2.category == "null"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "before the metastatic diagnosis" in card(cards, "test-her2")["detail"]



def test_fhir_her2_null_dated_inside_a_metastatic_year_without_a_day_asks_for_a_her2_retest_saying_it_may_predate():
    # metastatic "2024" (any day of 2024) and HER2-null tissue of 2024-03: the tissue may predate the metastasis
    p = (FhirPatient("lb-null-partial").primary("2016-03-01").er("positive", "2024-03").pr("positive", "2024-03")
         .her2("0", "2024-03", text="IHC 0, no membrane staining (HER2-null)").metastasis("bone", "2024")
         .menopause("postmenopausal").regimen(("letrozole", "ribociclib"), "2025-01-10", "2025-05-20")
         .progression("2025-05-15"))
    state, cards = run(p)
    assert state.her2.category == "null" and state.therapy.metastatic_endocrine_lines == 1
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert ("possibly before the metastatic diagnosis (in 2024, no day given)"
            in card(cards, "test-her2")["detail"])


def test_fhir_her2_ihc_not_performed_with_a_score_in_its_note_is_no_result_and_the_summary_names_the_reason():
    p = (FhirPatient("pp-her2-absent").primary("2024-01-10").metastasis("bone", "2024-01-15")
         .er("positive", "2024-01-15").pr("positive", "2024-01-15").menopause("postmenopausal"))
    p._obs("her2", {"coding": [{"system": "http://loinc.org", "code": "85319-2"}]}, "2024-01-20",
           dataAbsentReason={"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                         "code": "not-performed", "display": "Not Performed"}]},
           note=[{"text": "Block exhausted; HER2 3+ on an outside biopsy"}])
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.her2.category == "unknown"
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    assert ("HER2 IHC (85319-2) not performed (dataAbsentReason), 2024-01-20: not read as a result"
            in card(cards, "patient-summary")["detail"])

def test_fhir_current_esr1_negative_in_plasma_is_a_negative_not_a_tissue_retest():
    # ASCO 2023: ctDNA is the preferred specimen for ESR1, so a current plasma
    # negative rules the oral SERDs out; only PIK3CA/AKT1/PTEN reflex to tissue.
    p = (after_ai_cdk46i("pp-esr1-ctdna-neg")
         .variant("ESR1", detected=False, specimen="ctdna", on="2025-06-01")
         .variant("PIK3CA", detected=False, specimen="ctdna", on="2025-06-01"))
    state, cards = run(p)
    assert state.biomarkers.esr1_current is True
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "imlunestrant" not in regs
    assert "test-esr1" not in ordered_tests(cards)
    assert "test-pik3ca-akt1-pten" in ordered_tests(cards)
    summary = card(cards, "patient-summary")["detail"]
    assert ": No actionable ESR1 alteration" in not_offered_line(summary, "Elacestrant")
    esr1_lines = [line for line in summary.splitlines() if "Elacestrant" in line]
    assert not any("tissue testing advised" in line for line in esr1_lines)


# --- oral SERD labels say "ER-positive", not "HR-positive" (B.2, B.3) --------

def _esr1_after_progression(pid: str, er: str | None, percent: float | None = None, pr: str = "positive"):
    """Progressed on letrozole + ribociclib, ESR1 Y537S in ctDNA after it; ER as given (None: no ER result)."""
    p = FhirPatient(pid).primary("2024-01-10").metastasis("bone", "2024-01-15")
    if er is not None:
        p.er(er, "2024-01-15", percent=percent)
    p.pr(pr, "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal")
    return (p.regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
            .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))


def test_fhir_er_negative_pr_positive_disease_with_esr1_gets_no_oral_serd_and_the_summary_says_the_label_wants_er_positive():
    state, cards = run(_esr1_after_progression("serd-er-neg", "negative"))
    assert state.hormone_receptor_positive is True  # in the pathway by PR
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "imlunestrant" not in regs
    assert "fulvestrant" in regs  # HR-positive labels: PR-positive is enough
    summary = card(cards, "patient-summary")["detail"]
    for name in ("Elacestrant", "Imlunestrant", "Vepdegestrant"):
        line = not_offered_line(summary, name)
        assert "ER-negative (2024-01-15)" in line and "the label requires ER-positive disease" in line, line
    assert "test-er-pr-her2" not in ordered_tests(cards)  # ER is known: nothing to test


def test_fhir_er_low_disease_with_esr1_still_gets_elacestrant_with_the_er_low_caution():
    state, cards = run(_esr1_after_progression("serd-er-low", "positive", percent=5, pr="negative"))
    assert state.er.low_positive
    el = card(cards, "elacestrant")
    assert regimen_topics(cards)[0] == "elacestrant"
    assert el["indicator"] == "warning"
    assert "ER-positive, 5 % cells, ER-low (ASCO/CAP: ER-positive)" in el["detail"]
    assert "ER-low (1-10 % of cells) and PR not positive" in el["detail"]


def test_fhir_er_not_documented_pr_positive_disease_with_esr1_waits_on_er_testing_for_the_oral_serds():
    _, cards = run(_esr1_after_progression("serd-er-unknown", None))
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "imlunestrant" not in regs
    er_card = card(cards, "test-er-pr-her2")
    assert er_card["summary"] == ("ER status needed: the label says ER-positive — decides Elacestrant, "
                                  "Imlunestrant, Vepdegestrant (label unverified)")
    assert "ER status not documented (PR positive): the label requires ER-positive disease" in er_card["detail"]
    orders = [a["resource"]["code"]["coding"][0]["code"] for s in er_card["suggestions"] for a in s["actions"]]
    assert orders == ["85337-4"]  # ER IHC only: PR and HER2 are known
    summary = card(cards, "patient-summary")["detail"]
    line = not_offered_line(summary, "Elacestrant")
    assert "waiting on" in line and "ER status not documented" in line, line


def test_fhir_er_negative_pr_positive_disease_without_an_esr1_result_gets_no_esr1_testing_card():
    # ASCO 2023 asks for ESR1 testing in ER-positive MBC (C.1); all it decides needs ER-positive
    def progressed(pid, er):
        return (FhirPatient(pid).primary("2024-01-10").metastasis("bone", "2024-01-15")
                .er(er, "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15")
                .menopause("postmenopausal")
                .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15"))

    _, cards = run(progressed("esr1-er-neg", "negative"))
    assert "test-esr1" not in ordered_tests(cards)
    _, cards = run(progressed("esr1-er-pos", "positive"))
    assert "test-esr1" in ordered_tests(cards)  # the same record with ER-positive disease


def test_fhir_deceased_patient_with_an_unreadable_death_date_is_not_given_an_age_at_death_and_the_gap_names_the_date():
    # review of the mappings changes, item 6: "2019-13-45" was sent; the card said
    # "(no date recorded)" and counted the age to today without saying so
    p = de_novo("out-dead-bad", birth="1951-10-16").deceased("2019-13-45")
    _, cards = run(p, FIRST_LINE_AS_OF.replace(year=2025))
    assert topics(cards) == ["patient-summary"]
    detail = cards[0]["detail"]
    assert "- Deceased (date of death not usable: see the data gaps) — Patient/out-dead-bad" in detail
    assert "no date recorded" not in detail and "at death" not in detail.split("**Data gaps")[0]
    assert ("- The patient is recorded as deceased, but the date of death cannot be read as a date ('2019-13-45'): "
            "it is not used, and the age shown is counted to the as-of date, not to the death.") in detail


def _esr1_detected_then_line_end(pid):
    """ESR1 p.Asp538Gly in plasma on 2024-06-01, then line 1 progressed and ended (2025-05)."""
    return after_ai_cdk46i(pid).variant("ESR1", "p.Asp538Gly", on="2024-06-01")


def test_fhir_esr1_detected_before_the_progression_and_not_detected_after_it_never_reads_stronger_than_the_detection_alone():
    # C.3 row 18: only a result collected after the latest progression is current; here it is
    # negative, so the older detection must not make ESR1 read as a current mutation
    _, stale_alone = run(_esr1_detected_then_line_end("pp-esr1-stale-pos"))
    p = _esr1_detected_then_line_end("pp-esr1-mixed").variant("ESR1", detected=False, on="2025-06-01")
    state, cards = run(p)
    serds = {"elacestrant", "imlunestrant"}
    assert serds <= set(regimen_topics(stale_alone))  # the detection alone: offered, with a caution
    assert not serds & set(regimen_topics(cards))
    assert state.biomarkers.status("ESR1") != "detected" and not state.biomarkers.actionable("ESR1")
    summary = card(cards, "patient-summary")
    assert "ESR1 detected" not in summary["summary"]
    gap = next(x for x in summary["detail"].splitlines() if "the current sample" in x)
    assert "ESR1 p.Asp538Gly detected on 2024-06-01, before the progression on metastatic line 1" in gap
    assert "ESR1 not detected on the current sample (2025-06-01)" in gap
    assert "not current: superseded by the result of 2025-06-01" in summary["detail"]


def test_fhir_a_germline_brca2_with_conflicting_interpretations_of_pathogenicity_raises_no_parp_card_and_says_what_was_found():
    # only pathogenic/likely pathogenic germline BRCA1/2 selects a PARP inhibitor (C.2 step 1)
    p = after_ai_cdk46i("pp-brca-conflicting").variant(
        "BRCA2", "p.Lys3326Ter", origin="germline", specimen="blood",
        significance="Conflicting interpretations of pathogenicity")
    state, cards = run(p)
    assert not state.biomarkers.actionable("BRCA2", "germline")
    assert not {"talazoparib", "olaparib"} & set(regimen_topics(cards))
    test = card(cards, "test-germline-brca")
    assert "BRCA2 p.Lys3326Ter detected (germline, blood, conflicting interpretations of pathogenicity" in test["detail"]


# --- dates of the metastatic diagnosis --------------------------------------------------------

def test_fhir_an_mcode_stage_iv_assessed_at_the_recurrence_keeps_adjuvant_letrozole_adjuvant_and_first_line_cards():
    """mCODE shape (as the real TrialMatching patient): the primary's Condition.stage summary IV
    points (stage.assessment) to the TNM stage-group Observation of the 2024 recurrence."""
    p = adjuvant_relapse("stage-assessed", "2021-06-01").stage_iv("2024-01-15")
    stage_group = p.resources[-1]["id"]
    primary = next(r for r in p.resources if r["id"] == p.primary_id)
    primary["stage"] = [{"summary": {"coding": [{"system": "http://cancerstaging.org", "code": "4", "display": "IV"}]},
                         "assessment": [{"reference": f"Observation/{stage_group}"}]}]
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic_date == dt.date(2024, 1, 15)
    assert state.therapy.metastatic_lines == [] and state.therapy.endocrine_resistance == "sensitive"
    assert regimen_topics(cards)[:2] == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "first line" in cards[0]["summary"]


def test_fhir_a_clinical_stage_iv_recorded_at_a_recurrence_years_after_diagnosis_is_not_shown_as_de_novo():
    state, cards = run(adjuvant_relapse("stage-recurrence", "2021-06-01").stage_iv("2024-01-15"), FIRST_LINE_AS_OF)
    assert state.disease.de_novo_metastatic is False
    assert "since 2024-01-15" in cards[0]["detail"] and "(de novo)" not in cards[0]["detail"]


def test_fhir_ongoing_letrozole_palbociclib_started_in_the_year_of_the_metastasis_does_not_open_the_endocrine_resistant_route():
    """Year-only starts ("2024") in the year of the metastasis (2024-06-15): adjuvant therapy
    at recurrence or a first metastatic line cannot be told, and the summary says so."""
    p = hr_positive_mbc("year-only", metastatic="2024-06-15").variant("PIK3CA", "p.His1047Arg", on="2024-06-20")
    p.med("letrozole", "2024").med("palbociclib", "2024")
    state, cards = run(p, dt.date(2025, 3, 1))
    assert state.therapy.endocrine_resistance == "unknown"
    assert "inavolisib-palbociclib-fulvestrant" not in regimen_topics(cards)
    assert "could not be placed in the early or metastatic setting" in cards[0]["detail"]
    assert "letrozole (started in 2024, no day given" in cards[0]["detail"]


def test_fhir_a_relapse_dated_by_year_only_does_not_open_the_inavolisib_route_on_its_first_day():
    """Adjuvant letrozole ended 2023-07-01, metastasis written "2024": 6 months (secondary,
    inavolisib) on 1 January, 18 months (endocrine-sensitive) on 31 December."""
    p = adjuvant_relapse("year-only-relapse", "2023-07-01", metastatic="2024").variant(
        "PIK3CA", "p.His1047Arg", on="2024-06-20")
    state, cards = run(p, dt.date(2025, 1, 10))
    assert state.therapy.endocrine_resistance == "unknown"
    assert "inavolisib-palbociclib-fulvestrant" not in regimen_topics(cards)
    assert "No day is given in the metastatic date (in 2024)" in cards[0]["detail"]


def test_fhir_a_metastatic_date_written_without_a_day_is_shown_as_written_not_as_its_first_day():
    """The summary says "in 2024 (no day given)", not "since 2024-01-01": the first day is not
    the date, and the setting and relapse timing read from it are said to be unknown. (The
    citations after it still show a resource's date as its first day.)"""
    p = adjuvant_relapse("year-only-summary", "2023-07-01", metastatic="2024")
    state, cards = run(p, dt.date(2025, 1, 10))
    metastatic = next(x for x in cards[0]["detail"].splitlines() if x.startswith("- Metastatic:"))
    assert metastatic.startswith("- Metastatic: yes in 2024 (no day given) — ")
    # the adjuvant end (2023-07-01) is known: the regimens waiting on the timing say what is not
    assert ("Aromatase inhibitor + CDK4/6 inhibitor: waiting on — not known whether this applies: Relapse on or "
            "within 12 months of an adjuvant aromatase inhibitor (Recurrence timing after adjuvant endocrine "
            "therapy unknown: the metastatic date is in 2024, no day given)") in cards[0]["detail"]
    assert "end date relative to recurrence is unknown" not in cards[0]["detail"]


def test_fhir_an_esr1_negative_inside_a_line_end_written_without_a_day_may_predate_it_and_the_cards_say_so():
    """Letrozole + ribociclib 2024-02-01 to "2025", ESR1 not detected 2025-03-10: the result may
    come before or after the progression (the mapping counts the end's last day, C.3 row 18),
    so the cards ask for a current result and say "may predate", and the line shows its end as
    written, not as 2025-01-01. (The "Drugs on record" spans and citations still show first days.)"""
    p = (de_novo("partial-line-end").regimen(("letrozole", "ribociclib"), "2024-02-01", "2025")
         .regimen(("fulvestrant", "abemaciclib"), "2026-01-10")
         .variant("ESR1", None, detected=False, significance=None, on="2025-03-10"))
    state, cards = run(p, dt.date(2026, 11, 21))
    summary = cards[0]["detail"]
    assert "- Metastatic line 1: letrozole + ribociclib, 2024-02-01 to 2025 (no day given) — " in summary
    assert ("The latest ESR1 result (2025-03-10) cannot be shown to follow the progression on metastatic line 1 "
            "(letrozole + ribociclib) in 2025 (no day given): re-test ESR1") in summary
    assert ("the result may predate the progression on metastatic line 1 (letrozole + ribociclib) in 2025, "
            "a current ESR1 result is needed") in summary
    assert card(cards, "test-esr1")["detail"].count("Last ESR1 result may predate the progression") == 1


# --- order hooks: a drafted regimen whose label fit the record cannot confirm ----------

NOT_CONFIRMED = ": label requirement not confirmed — "
LETROZOLE = ("letrozole", "aromatase-inhibitor", "72965")
PALBOCICLIB = ("palbociclib", "cdk46i", "1601374")


def _order(state, drafts, selections=None, hook="order-sign"):
    return [c.to_json() for c in order_cards(state, drafts, selections, hook)]


def _shown(cards):
    return [(c["indicator"], c["source"]["topic"]["code"], c["summary"]) for c in cards]


def _year_only_relapse(pid):
    """Adjuvant letrozole ended 2023-07-01, metastasis written "2024": relapse 6 or 18 months later."""
    p = adjuvant_relapse(pid, "2023-07-01", metastatic="2024").variant("PIK3CA", "p.His1047Arg", on="2024-06-20")
    return p.state(dt.date(2025, 1, 10))


def test_fhir_letrozole_palbociclib_drafted_when_the_relapse_timing_is_unknown_is_flagged_as_not_confirmed():
    state = _year_only_relapse("order-year-only-ai")
    drafts = [_draft(*LETROZOLE), _draft(*PALBOCICLIB)]
    cards = _order(state, drafts)
    assert [(i, t) for i, t, _ in _shown(cards)] == [("warning", "order-not-indicated")]
    card = cards[0]
    assert card["summary"].startswith(
        "Letrozole + palbociclib" + NOT_CONFIRMED + "not known whether this applies: Relapse on or within 12 months")
    assert len(card["summary"]) < 140 and "not indicated" not in card["summary"]
    detail = card["detail"]
    assert ("Recurrence timing after adjuvant endocrine therapy unknown: the metastatic date is in 2024, "
            "no day given) — MedicationStatement/med-letrozole-") in detail
    assert "in combination with an aromatase inhibitor as initial endocrine-based therapy" in detail  # the label
    fit = detail.split("**Regimens that fit (pathway rank order)**\n")[1].splitlines()
    assert fit[0] == "1. Fulvestrant + CDK4/6 inhibitor: Fulvestrant + ribociclib"
    # the drug may well be indicated: nothing pre-selected, no plain removal
    assert not any(s.get("isRecommended") for s in card.get("suggestions", []))
    assert all(any(a["type"] == "create" for a in s["actions"]) for s in card.get("suggestions", []))
    assert "benefit-outweighs-risk" in [r["code"] for r in card["overrideReasons"]]
    # order-select: the CDK4/6 inhibitor picked gets it; the AI backbone picked alone says nothing
    picked = _order(state, drafts, [drafts[1].reference], "order-select")
    assert [c["summary"] for c in picked] == [card["summary"]] and "overrideReasons" not in picked[0]
    assert _order(state, drafts, [drafts[0].reference], "order-select") == []
    # fulvestrant + palbociclib fits this patient as patient-view reads it, but its label (after
    # progression on endocrine therapy, B.9 (iv)) rests on the same open timing: not confirmed either
    fp = _order(state, [_draft("fulvestrant", "fulvestrant", "282357"), _draft(*PALBOCICLIB)])
    assert [(i, t) for i, t, _ in _shown(fp)] == [("warning", "order-not-indicated")]
    assert fp[0]["summary"].startswith("Fulvestrant + palbociclib" + NOT_CONFIRMED + "Relapse timing unclear")


def test_fhir_capivasertib_fulvestrant_drafted_when_the_relapse_timing_is_unknown_is_flagged_next_to_the_glucose_tests():
    state = _year_only_relapse("order-year-only-capi")
    cards = _order(state, [_draft("capivasertib", "pi3k-akt-mtor", "2674363"),
                           _draft("fulvestrant", "fulvestrant", "282357")])
    shown = _shown(cards)
    assert [(i, t) for i, t, _ in shown] == [("warning", "order-not-indicated"), ("info", "test-glycemic")]
    assert shown[0][2].startswith("Capivasertib + fulvestrant" + NOT_CONFIRMED
                                  + "Recurrence timing after adjuvant endocrine therapy unknown")


def test_fhir_trastuzumab_deruxtecan_drafted_when_label_b_cannot_be_confirmed_and_label_a_is_not_met_is_flagged():
    p = (hr_positive_mbc("order-tdxd-b-partial", primary="2023-01-10", metastatic="2024-01")
         .med("paclitaxel", "2023-03-01", "2023-07-10").med("olaparib", "2024-02-01", "2025-05-20")
         .progression("2025-05-15"))
    cards = _order(p.state(AS_OF), [_draft("trastuzumab deruxtecan", "her2-adc", "2287684")])
    assert [(i, t) for i, t, _ in _shown(cards)] == [("warning", "order-not-indicated")]
    card = cards[0]
    assert card["summary"].startswith("Trastuzumab deruxtecan" + NOT_CONFIRMED
                                      + "Recurrence within 6 months of completing adjuvant chemotherapy cannot be")
    assert ("cannot be confirmed: a date without a day (year or month only) decides it — "
            "MedicationStatement/med-paclitaxel-") in card["detail"]
    # label A (>= 1 endocrine therapy in the metastatic setting) is documented as not met
    assert "**Other label route not met**\n- 0 endocrine-based lines for metastatic disease" in card["detail"]
    assert not any(s.get("isRecommended") for s in card.get("suggestions", []))


def test_fhir_letrozole_refills_with_ribociclib_added_five_weeks_later_are_one_first_line_not_primary_resistance():
    # EHRs keep one completed MedicationRequest per monthly refill; the CDK4/6 inhibitor
    # started 5 weeks after the AI (common practice) joins the same regimen: no line
    # ended by progression after 5 weeks, so no primary endocrine resistance
    p = de_novo("fl-refills-cdk")
    for month in range(2, 18):
        p.refill("letrozole", f"{2024 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}-01")
    state, cards = run(p.med("ribociclib", "2024-03-10"))
    assert state.therapy.endocrine_resistance == "de-novo"
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1;")
    assert "- Metastatic line 1: letrozole + ribociclib, 2024-02-01 to now (active)" in summary["detail"]
    assert "Metastatic line 2" not in summary["detail"] and "primary resistance" not in summary["detail"]
    # the refills give no end date: the drug span names the last record, not "date unknown"
    assert "letrozole (2024-02-01 to last record 2025-05-01, no end date)" in summary["detail"]


# --- patient factors as a hospital feed sends them (h-factors read-through) -----

def test_fhir_a_prolonged_qtc_sent_inside_an_ecg_observation_moves_the_cdk46i_recommendation_away_from_ribociclib():
    p = de_novo("pf-qtc-ecg")
    p._obs("ecg", {"coding": [{"system": "http://loinc.org", "code": "11524-6", "display": "EKG study"}]}, "2024-01-25",
           component=[{"code": {"coding": [{"system": "http://loinc.org", "code": "8636-3"}]},
                       "valueQuantity": {"value": 480, "unit": "ms", "system": "http://unitsofmeasure.org", "code": "ms"}}])
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.factors.qtc_ms.value == 480
    assert recommended(card(cards, "ai-cdk46i")) == ["letrozole", "abemaciclib"]


def test_fhir_a_bilateral_oophorectomy_still_in_progress_gives_no_elacestrant_to_a_woman_under_60():
    p = (after_ai_cdk46i("pf-bso-in-progress", birth="1975-01-01", menopause=None)
         .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    p.add({"resourceType": "Procedure", "id": "bso-1", "status": "in-progress", "subject": {"reference": "Patient/pf-bso-in-progress"},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": "29827000", "display": "Bilateral oophorectomy"}]},
           "performedDateTime": "2025-06-30"})
    state, cards = run(p)
    assert state.factors.menopausal_status == "unknown" and not state.factors.ovarian_suppression
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "everolimus-exemestane" not in regs


def test_fhir_a_woman_documented_premenopausal_at_50_and_now_66_gets_elacestrant_by_the_age_rule():
    p = after_ai_cdk46i("pf-meno-old-obs", birth="1959-01-01", menopause=None).variant("ESR1", "p.Tyr537Ser", on="2025-06-01")
    p.menopause("premenopausal", on="2009-06-01")
    state, cards = run(p)
    assert state.factors.menopausal_basis == "age-rule"
    regs = regimen_topics(cards)
    assert "elacestrant" in regs
    assert all("goserelin" not in c for c in suggestion_drugs(card(cards, "imlunestrant")))


def test_fhir_a_provisional_type_1_diabetes_is_a_hyperglycaemia_caution_on_capivasertib_not_a_stop_and_not_silence():
    p = after_ai_cdk46i("pf-dm-provisional").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    p.hba1c(5.4, "2025-06-20").fasting_glucose(90, "2025-06-20")
    p._condition({"coding": [{"system": "http://snomed.info/sct", "code": "46635009", "display": "Diabetes mellitus type 1"}]},
                 "2025-06-10", "diabetes", verificationStatus={"coding": [
                     {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "provisional"}]})
    state, cards = run(p)
    assert state.factors.diabetes.status == "none-documented"
    assert "capivasertib-fulvestrant" in regimen_topics(cards)
    assert "Diabetes recorded but not confirmed" in card(cards, "patient-summary")["detail"]
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["indicator"] == "warning"  # not a critical stop on a suspicion, but not silent either
    caution = next(x for x in capi["detail"].splitlines() if "diabetes recorded, not confirmed" in x)
    assert "type 1 (provisional)" in caution and "Condition/" in caution
    assert "Type 1 diabetes documented" not in capi["detail"]
    assert "- diabetes recorded, not confirmed: type 1 (provisional); HbA1c 5.4 %" in card(cards, "patient-summary")["detail"]


# --- a condition recorded, not confirmed, in the card summaries ------------------------
# A diabetes or an ILD/pneumonitis only provisional / differential / unconfirmed (FHIR R4
# condition-ver-status) or written as a suspicion raises the caution, named "recorded, not
# confirmed" in its detail; the summary said "ILD history" / "diabetes/hyperglycaemia" as
# if documented. Now it says "not confirmed" when nothing confirmed backs the caution.

_TDXD_DRAFT = ("trastuzumab deruxtecan", "her2-adc", "2287684")
_CAPI_DRAFTS = [("capivasertib", "pi3k-akt-mtor", "2680443"), ("fulvestrant", "fulvestrant", "282357")]
_RIBO_FULV_DRAFTS = [("ribociclib", "cdk46i", "1873980"), ("fulvestrant", "fulvestrant", "282357")]


def _order_select(state, drafts: list[tuple[str, str, str]]) -> list[dict]:
    """order-select with the first draft selected."""
    ds = [_draft(*d) for d in drafts]
    return _order(state, ds, [ds[0].reference], "order-select")


def _summaries(cards) -> str:
    return "\n".join(c["summary"] for c in cards)


@pytest.mark.parametrize("verification,text", [
    ("provisional", "Drug-induced pneumonitis, grade 2, symptomatic"),
    ("differential", "Interstitial lung disease"),
    ("confirmed", "Suspected drug-induced pneumonitis"),
])
def test_fhir_an_ild_recorded_but_not_confirmed_is_summarised_as_not_confirmed_not_as_ild_history(verification, text):
    p = _after_chemo(f"sum-ild-{verification}").ild("2023-05-01", text, verification=verification)
    state, cards = run(p)
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert tdxd["summary"] == "Trastuzumab deruxtecan: HER2-low/ultralow after endocrine therapy — caution: ILD not confirmed"
    assert tdxd["indicator"] == "warning"  # the indicator is as before
    assert card(cards, "fulvestrant-cdk46i")["summary"].endswith(" — caution: ILD not confirmed")
    assert "ILD history" not in _summaries(cards)
    [tdxd_order] = _order_select(state, [_TDXD_DRAFT])
    assert (tdxd_order["indicator"], tdxd_order["summary"]) == (
        "warning", "Trastuzumab deruxtecan: ILD not confirmed (2023-05-01) — caution")
    assert tdxd_order["detail"].startswith("**Trastuzumab deruxtecan: ILD not confirmed** — needs care")
    assert "recorded, not confirmed" in tdxd_order["detail"] and tdxd_order.get("suggestions") is None
    ribo = [c for c in _order_select(state, _RIBO_FULV_DRAFTS) if "ILD" in c["summary"]]
    assert [c["summary"] for c in ribo] == ["Ribociclib: ILD not confirmed (2023-05-01) — caution"]


def test_fhir_a_confirmed_ild_beside_a_provisional_one_keeps_ild_history_in_the_summaries():
    p = (_after_chemo("sum-ild-mixed").ild("2022-01-10", "Grade 1 pneumonitis, asymptomatic")
         .ild("2025-06-01", "Pneumonitis grade 3", verification="provisional"))
    state, cards = run(p)
    assert card(cards, "trastuzumab-deruxtecan")["summary"].endswith(" — caution: ILD history")
    assert "not confirmed" not in _summaries(cards)
    [tdxd_order] = _order_select(state, [_TDXD_DRAFT])
    assert tdxd_order["summary"] == "Trastuzumab deruxtecan: ILD history (2025-06-01) — caution"


def _pik3ca_with_normal_glucose(pid: str):
    p = after_ai_cdk46i(pid).variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    return p.hba1c(5.4, "2025-06-20").fasting_glucose(90, "2025-06-20")


@pytest.mark.parametrize("type_,verification", [(1, "provisional"), (2, "provisional"), (2, "differential"),
                                                 (1, "unconfirmed")])
def test_fhir_a_diabetes_recorded_but_not_confirmed_is_summarised_as_not_confirmed_on_the_pi3k_akt_mtor_cards(
        type_, verification):
    p = _pik3ca_with_normal_glucose(f"sum-dm{type_}-{verification}").diabetes(type_, "2025-06-10", verification)
    state, cards = run(p)
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["summary"] == ("Capivasertib + fulvestrant: PIK3CA/AKT1/PTEN-altered, after endocrine therapy — "
                               "caution: diabetes not confirmed")
    assert capi["indicator"] == "warning"
    for topic in ("alpelisib-fulvestrant", "everolimus-exemestane"):
        assert card(cards, topic)["summary"].endswith(" — caution: diabetes not confirmed")
    assert "diabetes/hyperglycaemia" not in _summaries(cards) and "type 1 diabetes" not in _summaries(cards)
    [order] = _order_select(state, _CAPI_DRAFTS)
    assert (order["indicator"], order["summary"]) == ("warning", "Capivasertib: diabetes not confirmed (2025-06-10) — caution")
    assert order["detail"].startswith("**Capivasertib: diabetes not confirmed** — needs care")
    assert order.get("suggestions") is None  # glucose tests are recent: nothing to order, as before


def test_fhir_a_provisional_type_2_diabetes_on_metformin_keeps_diabetes_hyperglycaemia_in_the_summaries():
    # metformin is a confirmed fact behind the caution (on anti-hyperglycaemic treatment)
    p = _pik3ca_with_normal_glucose("sum-dm2-metformin").diabetes(2, "2025-06-10", "provisional")
    p.med("metformin", "2025-06-12")
    state, cards = run(p)
    assert card(cards, "capivasertib-fulvestrant")["summary"].endswith(" — caution: diabetes/hyperglycaemia")
    assert "not confirmed" not in _summaries(cards)
    [order] = _order_select(state, _CAPI_DRAFTS)
    assert order["summary"].startswith("Capivasertib: diabetes/hyperglycaemia (")


def test_fhir_a_provisional_long_qt_syndrome_puts_no_long_qt_words_in_any_summary():
    # only a confirmed long QT syndrome is a ribociclib caution (rules.long_qt_syndrome); one
    # only provisional is named in the detail, asking to confirm it, never in a summary
    state, cards = run(de_novo("sum-lqt-provisional").long_qt("2019-03", verification="provisional"),
                       FIRST_LINE_AS_OF)
    assert "long QT" not in _summaries(cards) and card(cards, "ai-cdk46i")["indicator"] == "info"
    assert "Long QT syndrome recorded, not confirmed (provisional)" in card(cards, "ai-cdk46i")["detail"]
    assert _order_select(state, [("ribociclib", "cdk46i", "1873980"), LETROZOLE]) == []


def _all_text(cards) -> str:
    return "\n".join(c["summary"] + "\n" + c["detail"] for c in cards)


def test_fhir_dates_written_without_a_day_are_shown_as_written_on_every_card_never_as_their_first_day():
    """Metastasis, site, ER, PR, HER2 and menopausal status "2024-02", letrozole + palbociclib from
    "2024-03", ESR1 not detected "2024": no card shows 2024-02-01, 2024-03-01 or 2024-01-01 (days
    the record does not contain); the summary, the citations, the line listings and the test card
    show the dates as written."""
    p = (hr_positive_mbc("partial-shown", primary="2023-03-10", metastatic="2024-02")
         .regimen(("letrozole", "palbociclib"), "2024-03")
         .variant("ESR1", None, detected=False, significance=None, on="2024"))
    state, cards = run(p, dt.date(2025, 1, 10))
    text = _all_text(cards)
    for first_day in ("2024-02-01", "2024-03-01", "2024-01-01"):
        assert first_day not in text
    summary = cards[0]["detail"]
    assert "- Site: bone, 2024-02 — Condition/met-bone-2 (2024-02)" in summary
    assert "- ER: positive (2024-02) — Observation/er-3 (2024-02)" in summary
    assert "- HER2: low, IHC 1+ (2024-02) — Observation/her2-5 (2024-02)" in summary
    assert "- ESR1 not detected (somatic, plasma ctDNA, 2024) — Observation/var-esr1-9 (2024)" in summary
    assert ("- Metastatic line 1: letrozole + palbociclib, 2024-03 (no day given) to now (active) — "
            "MedicationStatement/med-letrozole-7 (2024-03)") in summary
    assert "- Drugs on record (first to last record): letrozole (2024-03 to now); palbociclib (2024-03 to now)" in summary
    assert "Observation/meno-6 (2024-02)" in summary
    assert ("Last ESR1 result predates the current endocrine line (started 2024-03 (no day given)): "
            "ESR1 not detected (somatic, plasma ctDNA, 2024)") in card(cards, "test-esr1")["detail"]


def test_fhir_an_adjuvant_course_and_a_line_end_written_without_a_day_show_as_written_in_the_drug_spans():
    """Adjuvant letrozole 2016-06-01 to "2019" (relapse 2024-01-15: endocrine-sensitive on every day
    of 2019), then letrozole + ribociclib 2024-02-01 to "2025-05" and fulvestrant: the (neo)adjuvant
    line, the endocrine sensitivity and the "Drugs on record" spans say 2019 and 2025-05, not their
    first days."""
    p = (adjuvant_relapse("partial-spans", "2019")
         .regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05")
         .regimen(("fulvestrant",), "2025-06-10"))
    state, cards = run(p, dt.date(2025, 11, 21))
    assert state.therapy.endocrine_resistance in ("sensitive", "secondary")
    summary = cards[0]["detail"]
    assert "2019-01-01" not in summary and "2025-05-01" not in summary
    assert "- (Neo)adjuvant: letrozole, 2016-06-01 to 2019 — " in summary
    assert "after completing adjuvant ET (2019)" in summary
    assert "letrozole (2016-06-01 to 2025-05)" in summary
    assert "ribociclib (2024-02-01 to 2025-05)" in summary


# --- disease reading: suspicions and negative answers -----------------------------

def test_fhir_suspected_liver_metastases_alone_keep_the_patient_out_of_the_pathway_and_say_why():
    # CR C.2 step 0 needs metastatic disease; a suspicion is no diagnosis (FHIR condition-ver-status
    # "provisional"), so no regimen card until it is confirmed
    p = FhirPatient("out-suspected").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"text": "Suspected liver metastases"}, "2024-01-15", "met")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic != "yes"
    assert topics(cards) == ["patient-summary"]
    assert "Unconfirmed metastasis, not counted as metastatic disease: liver (suspected in the text)" \
        in card(cards, "patient-summary")["detail"]


def test_fhir_likely_liver_metastases_alone_keep_the_patient_out_of_the_pathway_and_the_summary_quotes_the_words():
    # an imaging impression without pathology or a clinician's confirmation is FHIR
    # condition-ver-status "provisional" (CR A.4 counts a diagnosis made): no regimen card yet
    p = FhirPatient("out-likely").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"text": "Likely liver metastases"}, "2024-01-15", "met", verificationStatus=None)
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic != "yes"
    assert topics(cards) == ["patient-summary"]
    assert 'Unconfirmed metastasis, not counted as metastatic disease: liver ("Likely" in the text)' \
        in card(cards, "patient-summary")["detail"]


def test_fhir_likely_liver_metastases_the_clinician_confirmed_get_the_first_line_cards():
    p = FhirPatient("in-likely").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"text": "Likely liver metastases"}, "2024-01-15", "met")  # verificationStatus confirmed
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "yes"
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


def _crisis_not_counted(p: FhirPatient) -> str:
    """Run p at first line: no visceral crisis asserted (C.2 step 2 not applied), endocrine therapy
    + CDK4/6 inhibitor first; the summary card's detail, where the clinician is asked."""
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.visceral_crisis is False
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    return card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,quoted", [
    # CR C.1 (ABC4) defines a crisis present now; "impending" is not settled by the sources
    ("Impending visceral crisis: bilirubin rising", "impending visceral crisis"),
    # a suspicion is no crisis the clinician asserts (CR C.3 row 12, C.1 ABC4)
    ("Suspected visceral crisis", "suspected visceral crisis"),
])
def test_fhir_an_impending_or_suspected_visceral_crisis_keeps_endocrine_therapy_first_and_asks_the_clinician(text, quoted):
    # no crisis asserted, not dropped either: a gap quotes the words
    p = de_novo("fl-crisis-impending", site="liver")
    p._condition({"text": text}, "2024-01-16", "crisis")
    assert (f'Visceral crisis written as "{quoted}", not counted as a current visceral crisis'
            in _crisis_not_counted(p))


@pytest.mark.parametrize("status", ["preliminary", "registered", "unknown", "Preliminary", "Preliminary "])
def test_fhir_a_visceral_crisis_observation_not_final_keeps_endocrine_therapy_first_and_asks_the_clinician(status):
    # a preliminary "Visceral crisis: yes" put chemotherapy first (C.2 step 2); an interim or
    # unverified result (FHIR R4 ObservationStatus) is no crisis the clinician asserts (CR C.3
    # row 12), as a provisional Condition is not: not counted, not dropped, the gap names it
    p = de_novo("fl-crisis-prelim", site="liver")
    p._obs("crisis", {"text": "Visceral crisis"}, "2024-01-16", valueBoolean=True)
    p.resources[-1]["status"] = status
    assert (f'Visceral crisis recorded in an Observation with status "{status.strip().lower()}" (not final), '
            "not counted as a current visceral crisis" in _crisis_not_counted(p))


def test_fhir_a_final_visceral_crisis_observation_still_puts_chemotherapy_first():
    p = de_novo("fl-crisis-final", site="liver")
    p._obs("crisis", {"text": "Visceral crisis"}, "2024-01-16", valueBoolean=True)
    p.resources[-1]["status"] = "amended"
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards)[0] == "chemotherapy"


def test_fhir_bone_metastases_beside_a_liver_metastasis_ruled_out_get_regimen_cards_and_the_summary_lists_bone_not_liver():
    # each mention is read on its own: condition-ver-status "refuted" is the liver's, the bone
    # metastases stay metastatic evidence (CR A.4) and the refuted liver is no site. The
    # patient was read as not metastatic (no regimen cards, no word why).
    p = FhirPatient("fl-liver-refuted").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p.menopause("postmenopausal", "2024-01-15")
    p._condition({"text": "Bone metastases; liver metastasis ruled out"}, "2024-01-15", "met")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    summary = card(cards, "patient-summary")["detail"]
    assert "- Metastatic: yes" in summary and "- Site: bone, 2024-01-15" in summary
    assert "Site: liver" not in summary


def test_fhir_a_liver_metastasis_written_unlikely_keeps_the_patient_out_of_the_pathway_and_the_summary_quotes_the_words():
    # "unlikely" is weaker than a suspicion (CR A.4 counts a diagnosis made), and an imaging
    # impression is no ruling out (condition-ver-status "refuted"): the clinician is asked
    p = FhirPatient("out-unlikely").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"coding": [{"system": "http://snomed.info/sct", "code": "94381002",
                              "display": "Secondary malignant neoplasm of liver"}],
                  "text": "Liver lesion on CT, metastasis unlikely"}, "2024-01-15", "met")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic != "yes"
    assert topics(cards) == ["patient-summary"]
    assert 'Unconfirmed metastasis, not counted as metastatic disease: liver ("unlikely" in the text)' \
        in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Suggestive of liver metastases", "Liver metastasis cannot be ruled out"])
def test_fhir_a_liver_metastasis_that_cannot_be_excluded_keeps_the_patient_out_of_the_pathway_and_says_so(text):
    # a question still open (condition-ver-status "unconfirmed"): not asserted, and not
    # dropped as ruled out either
    p = FhirPatient("out-not-excluded").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"text": text}, "2024-01-15", "met")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic != "yes"
    assert topics(cards) == ["patient-summary"]
    assert "Unconfirmed metastasis, not counted as metastatic disease: liver (suspected in the text)" \
        in card(cards, "patient-summary")["detail"]


def test_fhir_a_likely_visceral_crisis_keeps_endocrine_therapy_first_and_asks_the_clinician_unless_confirmed():
    # "likely" is condition-ver-status "provisional" (as a probable metastasis): no crisis asserted
    # (C.2 step 2 not applied) until the clinician confirms the Condition (CR C.3 row 12)
    p = de_novo("fl-crisis-likely", site="liver")
    p._condition({"text": "Likely visceral crisis"}, "2024-01-16", "crisis", verificationStatus=None)
    assert ('Visceral crisis written as "likely visceral crisis", not counted as a current visceral crisis'
            in _crisis_not_counted(p))
    confirmed = de_novo("fl-crisis-likely-confirmed", site="liver")
    confirmed._condition({"text": "Likely visceral crisis"}, "2024-01-16", "crisis")  # verificationStatus confirmed
    _, cards = run(confirmed, FIRST_LINE_AS_OF)
    assert regimen_topics(cards)[0] == "chemotherapy"


@pytest.mark.parametrize("text", ["Visceral crisis unlikely", "Low suspicion for visceral crisis",
                                  "Visceral crisis considered less likely"])
def test_fhir_a_visceral_crisis_written_as_unlikely_keeps_endocrine_therapy_first_and_asks_the_clinician(text):
    # read as a present crisis, it put chemotherapy first (C.2 step 2); "unlikely" is weaker than
    # a suspicion (as for a metastasis): never asserted, the clinician is asked (CR C.3 row 12)
    p = de_novo("fl-crisis-unlikely", site="liver")
    p._condition({"text": text}, "2024-01-16", "crisis", verificationStatus=None)
    assert "not counted as a current visceral crisis" in _crisis_not_counted(p)


def test_fhir_a_breast_cancer_written_not_metastatic_gets_no_metastatic_regimen_cards():
    # "not metastatic" was read as "metastatic breast cancer": an early breast cancer got first-line
    # MBC regimens (AI + CDK4/6 inhibitor); CR A.4 counts a diagnosis of metastatic disease made
    p = FhirPatient("nm-primary").primary("2024-01-10")
    p.resources[-1]["code"]["text"] = "Breast cancer, not metastatic"
    p.er("positive", "2024-01-10").pr("positive", "2024-01-10").her2("1+", "2024-01-10")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic != "yes"
    assert regimen_topics(cards) == []
    assert cards[0]["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic disease not documented")


def test_fhir_a_visceral_crisis_flag_written_with_a_question_mark_keeps_endocrine_therapy_first_and_asks_the_clinician():
    p = de_novo("fl-crisis-question", site="liver")
    p.add({"resourceType": "Flag", "id": "fl-crisis-question-flag", "status": "active",
           "subject": {"reference": "Patient/fl-crisis-question"}, "code": {"text": "Visceral crisis?"},
           "period": {"start": "2024-01-16"}})
    assert ('Visceral crisis written as "visceral crisis?", not counted as a current visceral crisis'
            in _crisis_not_counted(p))


def test_fhir_a_visceral_crisis_question_written_with_a_question_mark_answered_yes_puts_chemotherapy_first():
    p = de_novo("fl-crisis-asked", site="liver")
    p._obs("crisis", {"text": "Visceral crisis?"}, "2024-01-16", valueString="Yes")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards)[0] == "chemotherapy"


def test_fhir_a_visceral_crisis_resolved_in_the_wrong_case_keeps_endocrine_therapy_first_and_names_the_status():
    # condition-clinical is case-sensitive: "Resolved" cannot be read, and the record probably
    # means resolved: no crisis asserted (C.2 step 2 not applied), the clinician is asked
    p = de_novo("fl-crisis-miscased", site="liver").visceral_crisis("2024-01-16")
    p.resources[-1]["clinicalStatus"] = {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "Resolved"}]}
    summary = _crisis_not_counted(p)
    assert ('Visceral crisis recorded with clinicalStatus "Resolved" (not a condition-clinical code: codes are '
            "case-sensitive), not counted as a current visceral crisis") in summary
    assert (f"1 resource not used: Condition/{p.resources[-1]['id']} clinicalStatus 'Resolved' is not a "
            "condition-clinical code (codes are case-sensitive): read as no clinical status") in summary


def test_fhir_a_visceral_crisis_question_answered_not_present_keeps_endocrine_therapy_first():
    p = de_novo("fl-crisis-no", site="liver")
    p._obs("crisis", {"coding": [{"system": "urn:mbc-cds:local", "code": "visceral-crisis",
                                  "display": "Visceral crisis"}]}, "2024-01-16", valueString="Not present")
    _crisis_not_counted(p)


# --- a first line ended for a stated toxicity, then a regimen of another class -----------

DB06_CAUTION = "Progression within 6 months of first-line ET + CDK4/6 inhibitor"


def _first_line_stopped_then_fulvestrant_palbociclib(pid, letrozole_reason, abemaciclib_reason):
    """De novo HER2-low MBC: letrozole + abemaciclib 2024-02-01 .. 2024-05-01 (3 months), each
    stopped for the stated reason (None: none), then fulvestrant + palbociclib to progression."""
    return (de_novo(pid)
            .med("letrozole", "2024-02-01", "2024-05-01", stopped_for=letrozole_reason)
            .med("abemaciclib", "2024-02-01", "2024-05-01", stopped_for=abemaciclib_reason)
            .regimen(("fulvestrant", "palbociclib"), "2024-05-20", "2025-05-20").progression("2025-05-15"))


def test_fhir_a_progression_within_6_months_of_first_line_cdk46i_given_beyond_it_ranks_tdxd_first_as_db06():
    # C.2 step 1 time_on_1L_CDK46i: "PD < 6 months" (DB-06: progression within 6 months of
    # starting first-line ET + CDK4/6i) is timed to the progression (2024-07-31, 6 months less a
    # day), not to the day the line was stopped (2024-08-10); C.3 row 13: T-DXd first
    p = de_novo("db06-beyond").regimen(("letrozole", "ribociclib"), "2024-02-01", "2024-08-10").progression("2024-07-31")
    state, cards = run(p, dt.date(2024, 8, 20))
    assert state.therapy.endocrine_resistance == "primary"
    assert state.therapy.progression_within_6_months_on_cdk46i is True
    assert regimen_topics(cards)[0] == "trastuzumab-deruxtecan"
    assert DB06_CAUTION in card(cards, "trastuzumab-deruxtecan")["detail"]
    # a progression on the day 6 months after the start is no longer within them (ABC4: secondary)
    p = de_novo("db06-six").regimen(("letrozole", "ribociclib"), "2024-02-01", "2024-08-10").progression("2024-08-01")
    state, cards = run(p, dt.date(2024, 8, 20))
    assert state.therapy.progression_within_6_months_on_cdk46i is False
    assert DB06_CAUTION not in card(cards, "trastuzumab-deruxtecan")["detail"]


def test_fhir_a_progression_two_weeks_into_first_line_cdk46i_read_as_primary_resistance_also_ranks_tdxd_first_as_db06():
    # a progression 14 days after the start is on the line (PROGRESSION_AT_START_DAYS: fewer days
    # may be the baseline report, asked in a gap): ABC4 primary resistance (CR C.1), and the same
    # progression times the CDK4/6 inhibitor for DB-06 (C.2 step 1 "PD < 6 months", C.3 row 13),
    # not the line's end 7 months later
    p = de_novo("db06-day14").regimen(("letrozole", "ribociclib"), "2024-02-01", "2024-09-10").progression("2024-02-15")
    state, cards = run(p, dt.date(2024, 10, 1))
    assert state.therapy.endocrine_resistance == "primary"
    assert regimen_topics(cards)[0] == "trastuzumab-deruxtecan"
    assert DB06_CAUTION in card(cards, "trastuzumab-deruxtecan")["detail"]


def test_fhir_a_first_line_stopped_for_diarrhoea_after_three_months_is_no_primary_resistance_and_no_db06_ranking():
    state, cards = run(_first_line_stopped_then_fulvestrant_palbociclib("tox-switch", "Diarrhoea", "Diarrhoea"))
    th = state.therapy
    assert th.metastatic_systemic_lines == 2  # still a line given
    assert th.progression_within_6_months_on_cdk46i is None
    # ABC4 reads resistance from first-line ET, which did not progress; the later progression on
    # line 2 forbids "de novo (no ET progression)": unknown, and the summary says why
    assert th.endocrine_resistance == "unknown"
    summary = card(cards, "patient-summary")["detail"]
    assert "- Endocrine sensitivity: unknown" in summary and "primary resistance" not in summary
    assert "ended for a stated reason other than progression" in summary
    # T-DXd keeps its label A route (an endocrine line given) but not the DB-06 rank or caution
    assert regimen_topics(cards)[0] != "trastuzumab-deruxtecan"
    assert DB06_CAUTION not in card(cards, "trastuzumab-deruxtecan")["detail"]


@pytest.mark.parametrize("reason", ["Worsening diarrhoea", "Recurrent grade 3 neutropenia",
                                    "Progression ruled out, stopped for neutropenia"])
def test_fhir_a_first_line_stopped_for_a_side_effect_written_with_a_progression_word_is_no_primary_resistance(reason):
    # "worsening" / "recurrent" describe the side effect, a ruled-out progression is none
    # (local_codes.yaml stop_reasons; CR C.2 step 1, C.1): as for "Diarrhoea" above
    state, cards = run(_first_line_stopped_then_fulvestrant_palbociclib("tox-words", reason, reason))
    assert state.therapy.progression_within_6_months_on_cdk46i is None
    summary = card(cards, "patient-summary")["detail"]
    assert "- Endocrine sensitivity: unknown" in summary and "primary resistance" not in summary
    assert regimen_topics(cards)[0] != "trastuzumab-deruxtecan"
    assert DB06_CAUTION not in card(cards, "trastuzumab-deruxtecan")["detail"]


def test_fhir_a_cdk46_inhibitor_switched_for_worsening_neutropenia_on_continued_letrozole_is_still_line_1():
    p = (de_novo("tox-cdk-switch").med("letrozole", "2024-02-01")
         .med("palbociclib", "2024-02-01", "2024-05-01", stopped_for="Worsening neutropenia")
         .med("abemaciclib", "2024-05-10"))
    state, cards = run(p, dt.date(2024, 9, 1))
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 1;")
    assert "- Endocrine sensitivity: de novo metastatic" in summary["detail"]
    assert regimen_topics(cards)[0] != "trastuzumab-deruxtecan"


@pytest.mark.parametrize("letrozole_reason, abemaciclib_reason", [(None, None), (None, "Diarrhoea")],
                         ids=["no stated reason", "only one drug with a reason"])
def test_fhir_a_first_line_stopped_after_three_months_without_a_reason_for_every_drug_still_reads_as_primary_resistance(
        letrozole_reason, abemaciclib_reason):
    state, cards = run(_first_line_stopped_then_fulvestrant_palbociclib("tox-proxy", letrozole_reason, abemaciclib_reason))
    assert state.therapy.endocrine_resistance == "primary"
    assert state.therapy.progression_within_6_months_on_cdk46i is True
    assert "Endocrine sensitivity: primary resistance: progression within 6 months" in card(cards, "patient-summary")["detail"]
    assert regimen_topics(cards)[0] == "trastuzumab-deruxtecan"
    assert DB06_CAUTION in card(cards, "trastuzumab-deruxtecan")["detail"]


@pytest.mark.parametrize("reason, offered", [("Arthralgia", False), (None, True)],
                         ids=["stopped for arthralgia", "no stated reason"])
def test_fhir_an_oral_serd_needs_a_progression_on_endocrine_therapy_not_a_letrozole_stopped_for_arthralgia(reason, offered):
    # the SERD labels need "disease progression following" endocrine therapy (B.2, B.3; C.3 row 4):
    # the only endocrine line was stopped for a stated toxicity, then chemotherapy progressed
    p = (de_novo(f"tox-serd-{offered}").med("letrozole", "2024-02-01", "2024-05-01", stopped_for=reason)
         .med("capecitabine", "2024-05-20", "2025-05-20").progression("2025-05-15")
         .variant("ESR1", "p.Tyr537Ser", on="2025-06-01"))
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert ("elacestrant" in regs, "imlunestrant" in regs) == (offered, offered)
    if not offered:
        assert state.therapy.metastatic_lines[0].stopped_without_progression
        assert (": No progression on 1 endocrine-based line for metastatic disease documented "
                "(0 counted): stopped for a stated reason other than progression: line 1: letrozole") \
            in not_offered_line(card(cards, "patient-summary")["detail"], "Elacestrant")


def test_fhir_a_type_1_diabetes_stop_on_an_order_is_dated_by_the_diagnosis_not_by_the_latest_hba1c():
    # "Capivasertib: type 1 diabetes (2025-06-20)" read as a diagnosis last month; the date
    # is the Condition's, the HbA1c belongs to the glycaemic cards
    p = after_ai_cdk46i("t1-dated").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    p.hba1c(7.1, "2025-06-20").fasting_glucose(110, "2025-06-20")
    p._condition({"coding": [{"system": "http://snomed.info/sct", "code": "46635009", "display": "Diabetes mellitus type 1"}]},
                 "2015-03-01", "diabetes")
    state, _ = run(p)
    out = [c.to_json() for c in order_cards(state, [_draft("capivasertib", "pi3k-akt-mtor", "2472703"),
                                                    _draft("fulvestrant", "fulvestrant", "282357")], None, "order-sign")]
    stop = next(c for c in out if c["indicator"] == "critical")
    assert stop["summary"] == "Capivasertib: type 1 diabetes (2015-03-01) — do not start"
    assert "- Type 1 diabetes documented — Condition/diabetes-" in stop["detail"]


# --- lab results written as a bound (FHIR R4 Quantity.comparator), dates without a day ---

CAPI_FULV = [("capivasertib", "pi3k-akt-mtor", "2674363"), ("fulvestrant", "fulvestrant", "282357")]


def _pik3ca_after_et(pid: str) -> FhirPatient:
    return after_ai_cdk46i(pid).variant("PIK3CA", "p.His1047Arg", on="2025-06-01").fasting_glucose(100, "2025-06-20")


def test_fhir_an_hba1c_written_below_9_is_no_uncontrolled_diabetes_stop_and_asks_for_a_measured_hba1c():
    # "<9 %" read as 9 % stopped capivasertib and alpelisib ("HbA1c > 8.0 %", CR B.5) and warned on
    # everolimus (>= 6.5 %, C.2): it says neither, so each is unknown, as a missing HbA1c is
    state, cards = run(_pik3ca_after_et("a1c-below-9").hba1c(9, "2025-06-20", comparator="<"))
    undecided = "HbA1c <9 % (2025-06-20) does not say whether it is at or above 6.5 % or above 8.0 %"
    for topic in ("capivasertib-fulvestrant", "alpelisib-fulvestrant"):
        c = card(cards, topic)
        assert c["indicator"] == "info" and "do not start" not in c["summary"], topic
        assert f"- {undecided}: a measured value is needed before starting (see testing card)." in c["detail"]
    assert card(cards, "everolimus-exemestane")["indicator"] == "info"
    assert ("- HbA1c <9 % (2025-06-20) does not say whether it is at or above 6.5 %: a measured value is needed "
            "before starting (see testing card).") in card(cards, "everolimus-exemestane")["detail"]
    assert "test-glycemic" in ordered_tests(cards)
    assert f"- {undecided}: a measured value is needed — Observation/hba1c-" in card(cards, "test-glycemic")["detail"]
    assert "HbA1c <9 % (2025-06-20)" in card(cards, "patient-summary")["detail"]
    # the order hooks: no "do not start", the glucose tests instead
    shown = _shown(_order(state, [_draft(*d) for d in CAPI_FULV]))
    assert shown == [("info", "test-glycemic", "Capivasertib: measured HbA1c not documented in the last 30 days")]


@pytest.mark.parametrize("diabetes, words", [(None, "diabetes by laboratory values"), (2, "type 2 diabetes, no "
                                              "glucose-lowering treatment recorded")], ids=["lab-only", "type 2"])
def test_fhir_the_diabetes_status_and_its_glucose_results_read_in_words_and_units_on_every_card(diabetes, words):
    # the summary said "diabetes lab-only; HbA1c 7.6 (2025-06-20)" and the cautions "diabetes:
    # lab-only" where the regimen cards quote "HbA1c 7.6 % (2025-06-20)"
    p = _pik3ca_after_et(f"a1c-words-{diabetes}").hba1c(7.6, "2025-06-20")
    if diabetes:
        p.diabetes(diabetes)
    state, cards = run(p)
    orders = _order(state, [_draft(*d) for d in CAPI_FULV])
    text = _all_text(cards) + "\n" + _all_text(orders)
    for code in ("lab-only", "none-documented", "type2-untreated", "type2-treated", "diabetes: "):
        assert code not in text
    assert f"- {words}; HbA1c 7.6 % (2025-06-20); fasting glucose 100 mg/dL (2025-06-20) — " in cards[0]["detail"]
    caution = next(c for c in orders if c["source"]["topic"]["code"] == "order-contraindicated")
    assert f"- {words}; HbA1c 7.6 % (2025-06-20); fasting glucose 100 mg/dL (2025-06-20) — " in caution["detail"]


def test_fhir_treated_type_2_diabetes_says_its_treatment_once():
    # "type 2 diabetes, on glucose-lowering treatment; on anti-hyperglycaemic treatment" said it twice
    p = _pik3ca_after_et("a1c-treated").hba1c(7.6, "2025-06-20").diabetes(2).med("metformin", "2015-01-01", None)
    state, cards = run(p)
    assert state.factors.diabetes.status == "type2-treated"
    caution = next(x for x in card(cards, "capivasertib-fulvestrant")["detail"].splitlines() if "type 2 diabetes" in x)
    assert "type 2 diabetes, on glucose-lowering treatment (metformin); HbA1c 7.6 % (2025-06-20)" in caution
    assert "anti-hyperglycaemic" not in caution


def _with_diabetes_condition(pid: str, code: dict) -> FhirPatient:
    p = _pik3ca_after_et(pid).hba1c(7.6, "2025-06-20")
    p.add({"resourceType": "Condition", "id": f"{pid}-dm", "code": code, "subject": {"reference": f"Patient/{pid}"},
           "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                          "code": "active"}]}, "onsetDateTime": "2012-01-01"})
    return p


@pytest.mark.parametrize("code", [
    {"coding": [{"system": "http://snomed.info/sct", "code": "73211009", "display": "Diabetes mellitus"}]},
    {"text": "Diabetes mellitus"},
], ids=["snomed-73211009", "text"])
def test_fhir_a_diabetes_of_no_recorded_type_is_a_caution_that_says_the_type_is_not_recorded(code):
    # SNOMED 73211009 "Diabetes mellitus" (CR A.4) records no type: the cards called it "type 2
    # diabetes"; it is still the hyperglycaemia caution (CR C.3 row 14), never the type 1 stop
    state, cards = run(_with_diabetes_condition("dm-untyped", code))
    assert state.factors.diabetes.status == "type2-untreated"
    assert "type 2 diabetes, no glucose-lowering" not in _all_text(cards)
    caution = card(cards, "capivasertib-fulvestrant")["detail"]
    assert "diabetes (type not recorded), no glucose-lowering treatment recorded; HbA1c 7.6 % (2025-06-20)" in caution
    assert "capivasertib-fulvestrant" in regimen_topics(cards)


def test_fhir_a_generic_diabetes_code_whose_text_says_type_1_is_the_type_1_stop():
    # 73211009 "Diabetes mellitus" with the text "Type 1 diabetes mellitus": the code was read first,
    # as type 2 (a caution), missing the type 1 stop (Itovebi 5.1; CAPItello-291 / SOLAR-1 excluded type 1)
    code = {"coding": [{"system": "http://snomed.info/sct", "code": "73211009", "display": "Diabetes mellitus"}],
            "text": "Type 1 diabetes mellitus"}
    state, _ = run(_with_diabetes_condition("dm-generic-t1", code))
    assert state.factors.diabetes.status == "type1"


@pytest.mark.parametrize("code, written", [
    ({"text": "History of diabetes mellitus"}, "History of diabetes mellitus"),
    ({"coding": [{"system": "http://snomed.info/sct", "code": "161445009", "display": "History of diabetes mellitus"}]},
     "History of diabetes mellitus"),
    ({"text": "PMH: type 2 DM"}, "PMH: type 2 DM"),
], ids=["text", "snomed-display", "pmh-type-2"])
def test_fhir_a_diabetes_written_as_a_history_stays_a_caution_and_the_card_says_it_is_read_as_current(code, written):
    # diabetes is chronic: a history of it without a resolution is still the hyperglycaemia caution
    # (CR C.3 row 14; A.4 a diagnosis); the card now quotes the words and says how they were read
    state, cards = run(_with_diabetes_condition("dm-history", code))
    assert state.factors.diabetes.status == "type2-untreated"
    caution = card(cards, "capivasertib-fulvestrant")["detail"]
    assert (f"(written '{written}': read as current, diabetes is chronic and no resolution is recorded)"
            in caution)
    shown = "type 2 diabetes" if "type 2" in written else "diabetes (type not recorded)"
    assert f"Patient: {shown}, no glucose-lowering treatment recorded (written '{written}'" in caution


def test_fhir_diabetes_known_only_from_metformin_says_its_type_is_not_recorded():
    # no diabetes Condition: metformin (diabetes-specific, drugs.yaml) read as treated diabetes was
    # called "type 2 diabetes"; nothing in the record gives the type
    p = _pik3ca_after_et("dm-metformin-only").hba1c(7.6, "2025-06-20").med("metformin", "2015-01-01", None)
    state, cards = run(p)
    assert state.factors.diabetes.status == "type2-treated"
    caution = card(cards, "capivasertib-fulvestrant")["detail"]
    assert "diabetes (type not recorded), on glucose-lowering treatment (metformin); HbA1c 7.6 % (2025-06-20)" in caution


def test_fhir_an_hba1c_written_below_6_5_gives_no_hyperglycaemia_warning():
    state, cards = run(_pik3ca_after_et("a1c-below-6-5").hba1c(6.5, "2025-06-20", comparator="<"))
    assert state.factors.diabetes.status == "none-documented"
    for topic in ("capivasertib-fulvestrant", "alpelisib-fulvestrant", "everolimus-exemestane"):
        assert card(cards, topic)["indicator"] == "info", topic
        assert "does not say" not in card(cards, topic)["detail"]
    assert "test-glycemic" not in ordered_tests(cards)
    assert "- no diabetes documented; HbA1c <6.5 % (2025-06-20)" in card(cards, "patient-summary")["detail"]


def test_fhir_an_hba1c_written_above_14_in_a_month_without_a_day_stops_capivasertib_and_is_shown_as_written():
    state, cards = run(_pik3ca_after_et("a1c-above-14").hba1c(14, "2025-06", comparator=">"))
    assert card(cards, "capivasertib-fulvestrant")["indicator"] == "critical"
    assert "- diabetes by laboratory values; HbA1c >14 % (2025-06)" in card(cards, "patient-summary")["detail"]
    out = _order(state, [_draft(*d) for d in CAPI_FULV])
    stop = next(c for c in out if c["indicator"] == "critical")
    assert stop["summary"] == "Capivasertib: uncontrolled diabetes (HbA1c) (2025-06) — do not start"
    assert "- HbA1c >14 % on 2025-06, diabetes by laboratory values — Observation/hba1c-" in stop["detail"]


def test_fhir_a_qtc_written_below_460_leaves_ribociclib_recommended_and_asks_for_an_ecg_as_for_a_missing_qtc():
    # "<460 ms" read as 460 ms moved the recommendation away from ribociclib (QTcF >= 450 ms, CR B.10)
    state, cards = run(de_novo("qtc-below-460").qtc(460, "2024-01-25", comparator="<"), FIRST_LINE_AS_OF)
    c = card(cards, "ai-cdk46i")
    assert recommended(c) == ["letrozole", "ribociclib"] and c["indicator"] == "info"
    assert ("- QTc <460 ms (2024-01-25) does not say whether it is at or above 450 ms: ECG before ribociclib "
            "(start only if QTcF < 450 ms).") in c["detail"]
    assert "- QTc <460 ms (2024-01-25) — Observation/qtc-" in card(cards, "patient-summary")["detail"]


def test_fhir_a_qtc_written_above_500_keeps_the_ribociclib_caution_and_shows_the_bound():
    state, cards = run(de_novo("qtc-above-500").qtc(500, "2024-01-25", comparator=">"), FIRST_LINE_AS_OF)
    assert recommended(card(cards, "ai-cdk46i")) == ["letrozole", "abemaciclib"]
    assert "Patient: QTc >500 ms (2024-01-25)" in card(cards, "fulvestrant-cdk46i")["detail"]
    out = _order(state, [_draft("ribociclib", "cdk46i", "1873980"), _draft(*LETROZOLE)])
    caution = next(c for c in out if "QTc" in c["summary"])
    assert "- QTc >500 ms (2024-01-25) — Observation/qtc-" in caution["detail"]


def test_fhir_an_hba1c_of_a_month_without_a_day_is_shown_as_written_and_not_said_to_be_older_than_30_days():
    # "2025-06" on 2025-07-10 may be 10 or 39 days old: the test is still asked for (the labels'
    # "before initiating"), but the card no longer says it is older than 30 days from 2025-06-01
    state, cards = run(_pik3ca_after_et("a1c-month").hba1c(7.6, "2025-06"), dt.date(2025, 7, 10))
    test = card(cards, "test-glycemic")
    assert ("- HbA1c 7.6 % from 2025-06 (no day given) cannot be shown to be within the last 30 days "
            "— Observation/hba1c-") in test["detail"]
    assert "2025-06-01" not in test["detail"]
    assert "HbA1c 7.6 % (2025-06)" in card(cards, "patient-summary")["detail"]


def test_fhir_an_undated_hba1c_is_said_to_have_no_date_not_to_be_older_than_30_days():
    # the testing card and the order card read "HbA1c 7.6 % from date unknown is older than 30
    # days": an age the record does not give. The test is still asked for (not shown recent)
    p = _pik3ca_after_et("a1c-undated").hba1c(7.6, "2025-06-20")
    del p.resources[-1]["effectiveDateTime"]
    state, cards = run(p, dt.date(2025, 7, 10))
    test = card(cards, "test-glycemic")
    assert ("- HbA1c 7.6 % has no date, so it cannot be shown to be within the last 30 days "
            "— Observation/hba1c-") in test["detail"]
    [caution] = _order(state, [_draft(*d) for d in CAPI_FULV])
    assert ("- HbA1c 7.6 % has no date, so it cannot be shown to be within the last 30 days "
            "— Observation/hba1c-") in caution["detail"]
    assert "older than" not in test["detail"] + caution["detail"]


def test_fhir_a_drafted_capivasertib_caution_is_dated_by_the_hba1c_that_made_the_diabetes_and_says_why_it_orders_one():
    # lab-only diabetes by HbA1c 7.6 % (2025-06); fasting glucose 100 mg/dL (2025-06-20) is normal.
    # The order card read "diabetes/hyperglycaemia (2025-06-20)" (the normal glucose's date) and
    # pre-selected an HbA1c order without saying why
    state, cards = run(_pik3ca_after_et("a1c-caution-dated").hba1c(7.6, "2025-06"), dt.date(2025, 7, 10))
    [caution] = _order(state, [_draft(*d) for d in CAPI_FULV])
    assert caution["summary"] == "Capivasertib: diabetes/hyperglycaemia (2025-06) — caution"
    assert ("**Glucose tests before starting** (30-day window, C.2 safety overlays)\n- HbA1c 7.6 % on 2025-06 "
            "(no day given) cannot be shown to be within the last 30 days — Observation/hba1c-") in caution["detail"]
    assert [s["label"] for s in caution["suggestions"] if s.get("isRecommended")] == ["Order Hemoglobin A1c"]


def test_fhir_a_death_date_without_a_day_is_shown_as_written_not_as_its_first_day():
    p = de_novo("dead-month", birth="1951-10-16").deceased("2023-11")
    _, cards = run(p, FIRST_LINE_AS_OF.replace(year=2025))
    summary = cards[0]
    assert "Patient recorded as deceased (2023-11)" in summary["summary"]
    assert "**Pathway**: Patient recorded as deceased (2023-11): no treatment advice." in summary["detail"]
    assert "- Deceased 2023-11 — Patient/dead-month (2023-11)" in summary["detail"]
    assert "2023-11-01" not in summary["detail"]


def test_fhir_a_relapse_after_an_adjuvant_end_written_as_a_year_gives_the_months_as_the_range_the_year_allows():
    # "2021": 24.5 months (from 2021-12-31) to 36.5 (from 2021-01-01) before the 2024-01-15 relapse;
    # endocrine-sensitive either way (> 12 months, CR C.1 ABC4), as before
    state, cards = run(adjuvant_relapse("relapse-year", "2021"))
    assert state.therapy.endocrine_resistance == "sensitive"
    detail = card(cards, "patient-summary")["detail"]
    assert ("endocrine-sensitive: relapse 24.5 to 36.5 months after completing adjuvant ET (2021) (> 12 months)"
            in detail)
    assert ("Recurrence 24.5 to 36.5 months (more than 12) after completing adjuvant endocrine therapy "
            "(ended 2021)") in detail
    assert "2021-01-01" not in detail


def test_fhir_order_select_of_ribociclib_with_documented_long_qt_syndrome_gets_the_qt_warning_and_offers_abemaciclib():
    state, _ = run(de_novo("lqt-order").long_qt("2019-03"), FIRST_LINE_AS_OF)
    out = _order(state, [_draft("ribociclib", "cdk46i", "1873980"), _draft(*LETROZOLE)],
                 ["MedicationRequest/mr-ribociclib"], hook="order-select")
    assert _shown(out) == [("warning", "order-contraindicated", "Ribociclib: long QT syndrome (2019-03) — caution")]
    detail = out[0]["detail"]
    assert "- Long QT syndrome documented (2019-03) — Condition/long-qt-" in detail
    assert f"**Label / trial**: {LONG_QT_CAUTION}" in detail
    assert [sg["label"] for sg in out[0]["suggestions"]] == ["Replace with Letrozole + abemaciclib"]


def test_fhir_order_sign_of_ribociclib_with_long_qt_syndrome_and_a_qtc_of_480_gets_one_qt_warning_card():
    state, _ = run(de_novo("lqt-qtc-order").long_qt("2019-03").qtc(480, "2024-01-25"), FIRST_LINE_AS_OF)
    out = _order(state, [_draft("ribociclib", "cdk46i", "1873980"), _draft(*LETROZOLE)])
    qt = [c for c in _shown(out) if "QT" in c[2]]
    assert qt == [("warning", "order-contraindicated", "Ribociclib: QTc >= 450 ms (2024-01-25) — caution")]


def test_fhir_trastuzumab_deruxtecan_drafted_after_a_provisional_grade_2_pneumonitis_is_a_caution_not_a_stop():
    p = _after_chemo("order-ild-provisional").ild("2023-05-01", "Drug-induced pneumonitis, grade 2, symptomatic",
                                                  verification="provisional")
    cards = _order(p.state(AS_OF), [_draft("trastuzumab deruxtecan", "her2-adc", "2287684")])
    assert [(i, t) for i, t, _ in _shown(cards)] == [("warning", "order-contraindicated")]
    assert ("- ILD/pneumonitis recorded, not confirmed: provisional (2023-05-01, grade 2, symptomatic): "
            "confirm or refute it before starting") in cards[0]["detail"]


def test_fhir_ild_that_began_on_ribociclib_written_with_a_month_only_is_shown_as_written_on_the_cdk46i_caution():
    p = after_ai_cdk46i("ild-on-ribo-month").ild("2025-03", "Drug-induced pneumonitis")
    _, cards = run(p)
    detail = card(cards, "fulvestrant-cdk46i")["detail"]
    assert "Patient: ILD/pneumonitis diagnosed 2025-03, during ribociclib (2024-02-01 to 2025-05-20)" in detail
    assert "2025-03-01" not in detail


# --- a cancer disease status (LOINC 97509-4) as EHRs write its answer -------------------------

def _first_line_stopped_for_neutropenia(pid):
    """De novo HER2-low MBC: letrozole + ribociclib 2024-02-01 .. 2025-05-20, each stopped for
    neutropenia (no progression by the regimen-change proxy); ESR1 not detected at baseline.
    Whether the line progressed rests on the disease status recorded 2025-05-15."""
    return (de_novo(pid)
            .med("letrozole", "2024-02-01", "2025-05-20", stopped_for="Neutropenia")
            .med("ribociclib", "2024-02-01", "2025-05-20", stopped_for="Neutropenia")
            .variant("ESR1", None, detected=False, on="2024-01-20"))


@pytest.mark.parametrize("text", ["No evidence of disease progression", "Disease progression ruled out",
                                  "Progression excluded", "Negative for progression", "Progression absent"])
def test_fhir_a_disease_status_saying_progression_was_ruled_out_is_no_progression_and_offers_no_tdxd(text):
    # CR C.2 step 1: progression evidence is a CancerDiseaseStatus "worsening"; one written as
    # ruled out (condition-ver-status 'refuted' words) is none: no label A route for T-DXd
    state, cards = run(_first_line_stopped_for_neutropenia("ds-ruled-out").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression is None
    summary = card(cards, "patient-summary")["detail"]
    assert "- Endocrine sensitivity: de novo metastatic" in summary
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "disease status leaves the progression open" not in summary


@pytest.mark.parametrize("text, worsened, status, quoted", [
    ("Suspected progression", False, "final", "written 'Suspected progression'"),
    ("Progression cannot be excluded", False, "final", "written 'Progression cannot be excluded'"),
    ("Pseudoprogression", False, "final", "written 'Pseudoprogression'"),
    ("Mixed response", False, "final", "written 'Mixed response'"),
    ("No progression", True, "final", "coded as worsened but written 'No progression'"),
    (None, True, "preliminary", "a progression with status preliminary"),
], ids=["suspected", "cannot be excluded", "pseudoprogression", "mixed response", "coded worsened, written none",
        "preliminary"])
def test_fhir_a_disease_status_that_leaves_the_progression_open_is_not_counted_and_the_summary_says_so(
        text, worsened, status, quoted):
    p = _first_line_stopped_for_neutropenia("ds-open").disease_status("2025-05-15", text, worsened, status)
    state, cards = run(p)
    assert state.therapy.last_endocrine_progression is None
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    summary = card(cards, "patient-summary")["detail"]
    assert (f"A cancer disease status leaves the progression open and is not counted as one: {quoted} "
            "(2025-05-15). Confirm whether the disease progressed") in summary


@pytest.mark.parametrize("text", ["PD", "New liver lesions", "Progressive disease (RECIST)"])
def test_fhir_a_disease_status_written_as_pd_or_new_lesions_is_a_progression_with_tdxd_and_an_esr1_retest(text):
    # RECIST 1.1: PD, and new lesions are progression; the SERD / T-DXd label routes need it
    # and the baseline ESR1 result predates it (C.3 row 18)
    state, cards = run(_first_line_stopped_for_neutropenia("ds-pd").disease_status("2025-05-15", text))
    assert state.therapy.endocrine_resistance == "secondary"
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)
    assert ("Last ESR1 result predates the progression on metastatic line 1 (letrozole + ribociclib) on 2025-05-20"
            in card(cards, "test-esr1")["detail"])


def test_fhir_a_disease_status_sent_as_a_value_string_is_read():
    # FHIR R4 Observation.value[x]: a valueString "Progressive disease" says what the code would
    p = _first_line_stopped_for_neutropenia("ds-string")
    p._obs("status", {"coding": [{"system": "http://loinc.org", "code": "97509-4"}]}, "2025-05-15",
           valueString="Progressive disease")
    state, cards = run(p)
    assert state.therapy.last_endocrine_progression == dt.date(2025, 5, 20)
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)


def _disease_status_coded(p: FhirPatient, code: str, display: str | None = None, text: str | None = None):
    """A disease status (LOINC 97509-4) answered with a SNOMED code, its display and text."""
    value = {"coding": [{"system": "http://snomed.info/sct", "code": code,
                         **({"display": display} if display else {})}]}
    if text:
        value["text"] = text
    p._obs("status", {"coding": [{"system": "http://loinc.org", "code": "97509-4"}]}, "2025-05-15",
           valueCodeableConcept=value)
    return p


@pytest.mark.parametrize("code, display, text, quoted", [
    ("709137006", "Patient condition undetermined", None, "coded as undetermined, 'Patient condition undetermined'"),
    ("709137006", None, None, "coded as undetermined, SNOMED 709137006"),
    ("709137006", "Patient condition undetermined", "Not assessable this visit",
     "coded as undetermined, 'Patient condition undetermined', written 'Not assessable this visit'"),
    ("550991000124107", None, None, "coded 550991000124107 (not a ConditionStatusTrendVS answer)"),
], ids=["undetermined", "undetermined without display", "undetermined with text", "unknown code, nothing written"])
def test_fhir_a_disease_status_coded_undetermined_or_unreadable_is_named_as_unclear_not_read_as_no_progression(
        code, display, text, quoted):
    # mCODE ConditionStatusTrendVS 709137006: the trend could not be judged, which leaves the
    # progression open (CR C.2 step 1 reads a "worsening"): no progression, but the summary asks
    p = _disease_status_coded(_first_line_stopped_for_neutropenia("ds-undetermined"), code, display, text)
    state, cards = run(p)
    assert state.therapy.last_endocrine_progression is None
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert (f"A cancer disease status leaves the progression open and is not counted as one: {quoted} "
            "(2025-05-15). Confirm whether the disease progressed") in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Not determined", "Undetermined", "Unable to determine", "Not evaluable", "Unknown"])
def test_fhir_a_disease_status_written_as_not_determined_is_named_as_unclear(text):
    state, cards = run(_first_line_stopped_for_neutropenia("ds-not-determined").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression is None
    assert (f"not counted as one: written '{text}' (2025-05-15)") in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("code, display", [("268910001", "Patient's condition improved"),
                                           ("359746009", "Patient's condition stable"),
                                           ("260415000", "Not detected")])
def test_fhir_a_disease_status_coded_improved_stable_or_not_detected_is_no_progression_and_no_gap(code, display):
    state, cards = run(_disease_status_coded(_first_line_stopped_for_neutropenia("ds-stable"), code, display))
    assert state.therapy.last_endocrine_progression is None
    assert "disease status leaves the progression open" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Worse pain", "Worsening symptoms", "Worsening of bone pain", "Symptomatic worsening",
                                  "Pain worse", "Progressive back pain",
                                  # an organ's function or the general condition worsening names no cancer trend either
                                  "Worsening liver function", "Renal function worse", "Worse performance status",
                                  "Weight loss worse", "Worsening LFTs", "Worsening general condition"])
def test_fhir_a_disease_status_written_as_a_worse_symptom_organ_function_or_condition_is_not_a_progression_and_the_summary_asks(text):
    # mCODE CancerDiseaseStatus is the clinician's judgment of the cancer's trend; a worse symptom,
    # organ function or general condition names none (CR C.2 step 1 reads a "worsening" of the
    # disease): no T-DXd label route on it, the clinician is asked
    state, cards = run(_first_line_stopped_for_neutropenia("ds-symptom").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression is None
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert (f"not counted as one: written '{text}' (a symptom written as worse, not the cancer) (2025-05-15)"
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("text, worsened", [("Liver metastases worse", False), ("Worsening liver function", True)])
def test_fhir_a_disease_status_naming_the_cancer_worse_or_coded_worsened_beside_organ_function_is_a_progression(
        text, worsened):
    state, cards = run(_first_line_stopped_for_neutropenia("ds-organ-prog").disease_status("2025-05-15", text, worsened))
    assert state.therapy.last_endocrine_progression == dt.date(2025, 5, 20)
    assert "disease status leaves the progression open" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Stable disease; worse pain", "Responding, fatigue worse",
                                  "No progression; nodule of unknown significance"])
def test_fhir_a_disease_status_stating_the_cancer_is_not_worse_beside_a_worse_symptom_is_no_progression_and_no_gap(text):
    state, cards = run(_first_line_stopped_for_neutropenia("ds-stable-symptom").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression is None
    assert "disease status leaves the progression open" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text, worsened", [("Clinically worse", False), ("Clinical progression", False),
                                            ("Symptomatic progression", False), ("Worse pain", True),
                                            ("Worse pain, new liver lesions", False)])
def test_fhir_a_disease_status_judging_the_cancer_worse_on_clinical_grounds_is_a_progression(text, worsened):
    # mCODE: the judgment may rest on an assessment of symptoms; coded worsened, the symptom is its evidence
    p = _first_line_stopped_for_neutropenia("ds-clinical").disease_status("2025-05-15", text, worsened)
    state, cards = run(p)
    assert state.therapy.last_endocrine_progression == dt.date(2025, 5, 20)
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)
    assert "disease status leaves the progression open" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("reason", ["No evidence of disease progression; neutropenia", "Neutropenia; progression ruled out",
                                    "Neutropenia. Negative for progression", "Diarrhoea; free of progression",
                                    "Neutropenia (no new lesions)", "No progression", "Progression ruled out",
                                    "Stable disease", "Complete response"])
def test_fhir_a_line_stopped_with_a_reason_saying_the_disease_did_not_progress_is_no_progression(reason):
    # the stop reason says the disease did not progress (ruled out, stable, a response): a line given,
    # not a progression on endocrine therapy (no T-DXd label A route, C.3 row 4)
    p = (de_novo("stop-ruled-out").med("letrozole", "2024-02-01", "2025-05-20", stopped_for=reason)
         .med("ribociclib", "2024-02-01", "2025-05-20", stopped_for=reason))
    state, cards = run(p)
    assert state.therapy.metastatic_lines[0].stopped_without_progression
    assert "- Endocrine sensitivity: de novo metastatic" in card(cards, "patient-summary")["detail"]
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)


def test_fhir_a_progression_written_only_in_a_condition_is_named_as_a_data_gap_not_counted():
    # CR C.2 step 1 reads a progression from the disease status (or a regimen change): one
    # written only in a problem-list Condition is not counted, but the summary says it is there
    p = (de_novo("uncoded").regimen(("letrozole", "ribociclib"), "2024-02-01")
         .variant("ESR1", None, detected=False, on="2024-01-20"))
    p._condition({"text": "Progression of bone metastases"}, "2025-05-15", "prog")
    state, cards = run(p)
    assert state.therapy.last_endocrine_progression is None
    # the Condition's text quoted as written, and the record type named
    assert ("- A progression is written in a Condition, 'Progression of bone metastases' (2025-05-15), but no "
            "cancer disease status (LOINC 97509-4) records it: not counted (a progression is read from the disease "
            "status or a change of regimen). If the disease progressed, record it: lines of therapy, endocrine "
            "resistance and ESR1 currency depend on it.") in card(cards, "patient-summary")["detail"]
    # recorded as a disease status too: counted, and no gap
    state, cards = run(p.progression("2025-05-16"))
    assert state.therapy.last_endocrine_progression == dt.date(2025, 5, 16)
    assert "A progression is written in" not in card(cards, "patient-summary")["detail"]


def test_fhir_a_progression_written_in_a_condition_at_the_end_of_a_progressed_line_is_no_data_gap():
    # the line ended 2025-05-20 and the next started: read as progressed (C.2 step 1 proxy)
    p = after_ai_cdk46i("uncoded-line-end").regimen(("fulvestrant", "abemaciclib"), "2025-05-25")
    p.resources = [r for r in p.resources if (r.get("code") or {}).get("coding", [{}])[0].get("code") != "97509-4"]
    p._condition({"text": "Progression of liver metastases"}, "2025-05-10", "prog")
    state, cards = run(p)
    assert state.therapy.metastatic_lines[0].progressed
    assert "progression-not-coded" not in {g.code for g in state.gaps}


def test_fhir_an_er_given_only_as_allred_5_carries_the_er_low_caution_and_the_summary_says_why():
    # Allred total 5 = proportion score 2-4: >= 1 % of cells, maybe 1-10 % (ER-low, CR A.2);
    # it was read as a plain positive with no caution
    p = de_novo("allred-5")
    p.resources = [r for r in p.resources if not r["id"].startswith("er-")]
    p._obs("er", {"coding": [{"system": "http://loinc.org", "code": "85337-4"}]}, "2024-01-15", valueString="Allred 5")
    state, cards = run(p)
    summary = card(cards, "patient-summary")["detail"]
    assert "- ER: positive, ER-low (1-10 %) (2024-01-15)" in summary
    assert ("ER (2024-01-15): an Allred total of 5 may mean 1-10 % of cells stained (low) or more; read as positive "
            "with the ER-low caution. ER/PR status is read from the % of stained cells") in summary


# --- one lab text for several genes, and a ctDNA negative the report calls not informative ----

def _lab_text(p: FhirPatient, name: str, text: str, specimen: str = "Tumor tissue biopsy (FFPE)", **extra) -> FhirPatient:
    """A local lab test (no LOINC code) whose name says what it is, with a text result."""
    p._obs("lab-gene", {"coding": [{"system": "urn:oid:2.16.840.1.999.lab", "code": "NGS1", "display": name}]},
           "2025-06-01", valueString=text, specimen={"display": specimen}, **extra)
    return p


@pytest.mark.parametrize("name, text, gene, test", [
    ("ESR1 ctDNA test", "Insufficient sample", "ESR1", "test-esr1"),
    ("PIK3CA analysis", "See scanned report", "PIK3CA", "test-pik3ca-akt1-pten"),
    ("PIK3CA mutation analysis", "Equivocal", "PIK3CA", "test-pik3ca-akt1-pten")])
def test_fhir_a_named_local_gene_test_whose_text_gives_no_call_is_named_with_its_words_and_the_test_asked_again(
        name, text, gene, test):
    # a local test named for its gene whose result words give no call was dropped unseen: the
    # test was asked again and nothing said why; now the summary names the test and its words
    p = _lab_text(after_ai_cdk46i("named-unclear"), name, text, specimen="Plasma ctDNA")
    state, cards = run(p)
    assert state.biomarkers.for_gene(gene) == []
    assert f"{gene} result (2025-06-01) unclear: '{name}' reads '{text}'" in card(cards, "patient-summary")["detail"]
    assert test in topics(cards)


@pytest.mark.parametrize("status", ["final", "registered"])
def test_fhir_a_named_local_gene_test_with_no_value_at_all_is_named_as_no_result_and_the_test_asked_again(status):
    # was: skipped in silence (no value[x], component or interpretation: FHIR R4 Observation),
    # often the order filed as an Observation; now the summary names it, not as a result
    p = after_ai_cdk46i(f"named-empty-{status}")
    p._obs("lab-gene", {"coding": [{"system": "urn:oid:2.16.840.1.999.lab", "code": "NGS1", "display": "ESR1 ctDNA test"}]},
           "2025-06-01", status=status)
    state, cards = run(p)
    assert state.biomarkers.for_gene("ESR1") == []
    assert ("ESR1 test (2025-06-01) with no result: 'ESR1 ctDNA test' gives no value, component or interpretation "
            "(it may be the order, not its result)") in card(cards, "patient-summary")["detail"]
    assert "test-esr1" in topics(cards)


def test_fhir_an_akt1_variant_in_a_panel_text_that_also_lists_negative_genes_gets_capivasertib():
    # the whole text was read as one call, the first it found: AKT1 "not detected", so no
    # capivasertib and AKT1 was called negative (CR C.2 step 3: AKT1-mut -> capivasertib only)
    p = _lab_text(after_ai_cdk46i("pp-panel-akt1"), "Tumor NGS panel ESR1 PIK3CA AKT1 mutation",
                  "Not detected: ESR1, PIK3CA. Detected: AKT1 p.E17K")
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert "capivasertib-fulvestrant" in regs and "alpelisib-fulvestrant" not in regs and "elacestrant" not in regs
    assert "AKT1 p.E17K detected" in card(cards, "patient-summary")["detail"]


def test_fhir_a_panel_text_that_names_a_gene_without_its_result_leaves_that_gene_untested_and_says_so():
    # "Genes tested: ESR1, PIK3CA, AKT1. Result: AKT1 E17K detected" gave ESR1 and PIK3CA the
    # text's only call, detected: elacestrant and alpelisib were offered on no ESR1/PIK3CA variant
    p = _lab_text(after_ai_cdk46i("pp-panel-unclear"), "ESR1 PIK3CA AKT1 mutation panel",
                  "Genes tested: ESR1, PIK3CA, AKT1. Result: AKT1 E17K detected")
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert "capivasertib-fulvestrant" in regs
    assert "elacestrant" not in regs and "alpelisib-fulvestrant" not in regs
    assert "test-esr1" in ordered_tests(cards)
    assert "ESR1 result (2025-06-01) unclear: the report gives results for AKT1/ESR1/PIK3CA and none that is " \
        "clear for ESR1" in card(cards, "patient-summary")["detail"]


def test_fhir_a_germline_brca1_2_negative_written_as_one_word_closes_the_germline_brca_test():
    p = _lab_text(after_ai_cdk46i("pp-brca12-neg"), "BRCA1/2 germline sequencing",
                  "No pathogenic variants identified in BRCA1/2", specimen="Peripheral blood")
    state, cards = run(p)
    assert "test-germline-brca" not in ordered_tests(cards)
    assert "brca-germline-not-tested" not in {g.code for g in state.gaps}


def test_fhir_an_esr1_ctdna_negative_with_a_low_tumour_fraction_still_asks_for_the_esr1_test():
    # a ctDNA negative at a low tumour fraction cannot exclude a mutation (CR C.2 step 3:
    # "tissue reflex if ctDNA negative/low tumor fraction"; C.3 row 2): it closed ESR1 testing
    p = _lab_text(after_ai_cdk46i("pp-esr1-lowtf"), "ESR1 mutation analysis, plasma ctDNA",
                  "No ESR1 mutation; low tumour fraction, result not informative",
                  specimen="Plasma cell-free DNA (ctDNA, liquid biopsy)")
    state, cards = run(p)
    assert "test-esr1" in ordered_tests(cards)
    assert state.biomarkers.status("ESR1") == "not-tested"
    assert ("ESR1 not detected (2025-06-01), but the report says the result is not informative (low tumour "
            "fraction): not read as a negative") in card(cards, "patient-summary")["detail"]


def test_fhir_an_esr1_detection_whose_interpretation_says_absent_offers_no_oral_serd_and_asks_for_the_test():
    # the value decided alone: "Detected" with an Absent (LA9634-2) interpretation offered
    # elacestrant and imlunestrant; which is meant cannot be told, so the data are unclear
    p = after_ai_cdk46i("pp-esr1-contra").variant("ESR1", "p.Asp538Gly", on="2025-06-01")
    p.resources[-1]["interpretation"] = [{"coding": [{"system": "http://loinc.org", "code": "LA9634-2",
                                                      "display": "Absent"}]}]
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "imlunestrant" not in regs
    assert "test-esr1" in ordered_tests(cards)
    assert "ESR1 result (2025-06-01) unclear: the value says detected, the interpretation says not detected" \
        in card(cards, "patient-summary")["detail"]


def test_fhir_an_esr1_text_saying_both_detected_and_not_detected_offers_no_oral_serd_and_names_the_words():
    # was: read "not detected" (elacestrant withheld, no word of the p.D538G the report names);
    # now the result is named unclear with its words and the test asked for (CR C.2 step 3)
    p = after_ai_cdk46i("pp-esr1-both").variant("ESR1", "p.Asp538Gly", on="2025-06-01")
    p.resources[-1]["component"] = p.resources[-1]["component"][:1]
    p.resources[-1]["valueCodeableConcept"] = {"text": "ESR1 p.D538G detected, ESR1 not detected"}
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "imlunestrant" not in regs
    assert "test-esr1" in ordered_tests(cards)
    assert ("ESR1 result (2025-06-01) unclear: the report says both that ESR1 carries a variant and that it is "
            "negative ('ESR1 p.D538G detected, ESR1 not detected')") in card(cards, "patient-summary")["detail"]


def test_fhir_a_brca2_result_whose_text_says_germline_gets_talazoparib_and_no_germline_test():
    # "Germline BRCA2 pathogenic variant ... detected" without a 48002-0 component was of
    # unknown origin: no talazoparib and the germline test asked for again (CR C.3 row 7)
    p = _lab_text(after_ai_cdk46i("pp-brca2-germline-text"), "BRCA2 mutation analysis",
                  "Germline BRCA2 pathogenic variant c.5946delT detected", specimen="Peripheral blood")
    state, cards = run(p)
    assert "talazoparib" in regimen_topics(cards)
    assert "test-germline-brca" not in ordered_tests(cards)


def test_fhir_a_germline_brca2_text_writing_no_after_the_gene_offers_no_parp_inhibitor():
    # was: "Germline BRCA2 no pathogenic variant" read as a germline BRCA2 pathogenic variant and
    # talazoparib offered on a negative; now a germline BRCA2 negative (CR C.2 step 1, C.3 row 7)
    p = _lab_text(after_ai_cdk46i("pp-brca2-no-after-gene"), "BRCA2 mutation analysis",
                  "Germline BRCA2 no pathogenic variant", specimen="Peripheral blood")
    state, cards = run(p)
    assert "talazoparib" not in regimen_topics(cards) and "olaparib" not in regimen_topics(cards)
    assert state.biomarkers.status("BRCA2") == "not-detected"


def test_fhir_one_akt1_change_on_a_variant_that_also_lists_esr1_and_pik3ca_offers_neither_serd_nor_alpelisib():
    p = after_ai_cdk46i("pp-multi-gene-variant").variant("AKT1", "p.Glu17Lys", specimen="tissue", on="2025-06-01")
    v = p.resources[-1]
    v["component"][1:1] = [{"code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
                            "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org",
                                                                 "code": hgnc, "display": gene}]}}
                           for gene, hgnc in (("ESR1", "HGNC:3467"), ("PIK3CA", "HGNC:8975"))]
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert not {"elacestrant", "imlunestrant", "alpelisib-fulvestrant", "capivasertib-fulvestrant"} & set(regs)
    assert "test-pik3ca-akt1-pten" in ordered_tests(cards)
    assert "AKT1/ESR1/PIK3CA variant (2025-06-01) unclear: one variant names 3 genes and does not say which " \
        "carries it" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["ESR1 mutation ruled out", "ESR1 mutation suspected", "ESR1 mutation - not tested"])
def test_fhir_an_esr1_result_written_as_ruled_out_suspected_or_not_tested_offers_no_oral_serd(text):
    # each read as an ESR1 variant found ("mutation" is a detection word): elacestrant and
    # imlunestrant were offered. Ruled out is a negative; suspected / not tested no result,
    # so the ESR1 test is asked for (CR C.2 step 3: ESR1-mut -> oral SERD)
    p = _lab_text(after_ai_cdk46i("pp-esr1-words"), "ESR1 mutation analysis, plasma ctDNA", text,
                  specimen="Plasma cell-free DNA (ctDNA, liquid biopsy)")
    state, cards = run(p)
    regs = regimen_topics(cards)
    assert "elacestrant" not in regs and "imlunestrant" not in regs
    assert ("test-esr1" in ordered_tests(cards)) is (text != "ESR1 mutation ruled out")


# --- endocrine resistance at its boundaries (ABC4, CR C.1: PD within the first 6 months of
# first-line ET primary, >= 6 months secondary; calendar months as mappings count them) ------

def _summary_sensitivity(cards) -> str:
    return next(ln for ln in card(cards, "patient-summary")["detail"].split("\n") if "Endocrine sensitivity" in ln)


@pytest.mark.parametrize("start, end, words", [
    # 6 calendar months exactly (182 days): secondary
    ("2024-02-01", "2024-08-01", "secondary resistance: progression after 6 months or more of first-line"),
    # one day short of 6 calendar months (183 days): primary
    ("2024-03-01", "2024-08-31", "primary resistance: progression within 6 months of first-line"),
])
def test_fhir_a_first_line_progression_at_the_6_month_boundary_is_shown_with_the_fact_its_class_rests_on(start, end, words):
    p = (de_novo(f"res6-{start}").regimen(("letrozole", "ribociclib"), start, end).progression(end)
         .regimen(("fulvestrant",), (dt.date.fromisoformat(end) + dt.timedelta(days=3)).isoformat()))
    _, cards = run(p, dt.date(2025, 6, 1))
    assert words in _summary_sensitivity(cards)


@pytest.mark.parametrize("ended, relapsed, words", [
    # 12 months and 1 day (also from 31 January to 1 February, 28 February to 29 February):
    # more than 12, never printed as "12.0 months (more than 12)"
    ("2023-01-14", "2024-01-15", "Recurrence 12 months and 1 day (more than 12) after completing adjuvant"),
    ("2023-01-31", "2024-02-01", "Recurrence 12 months and 1 day (more than 12) after completing adjuvant"),
    ("2023-02-28", "2024-02-29", "Recurrence 12 months and 1 day (more than 12) after completing adjuvant"),
    # exactly 12 months: within 12 (CR C.3 row 1, inclusive)
    ("2023-01-15", "2024-01-15", "Recurrence 12.0 months (within 12) after completing adjuvant"),
    # 11 months and 30 days: within 12, never printed as "12.0"
    ("2023-01-16", "2024-01-15", "Recurrence 11 months and 30 days (within 12) after completing adjuvant"),
])
def test_fhir_a_relapse_beside_the_12_month_boundary_names_its_months_on_the_right_side_of_it(ended, relapsed, words):
    p = (hr_positive_mbc(f"res12-{ended}", primary="2016-03-01", metastatic=relapsed).med("letrozole", "2016-06-01", ended)
         .variant("PIK3CA", "p.His1047Arg", on="2024-03-01"))
    _, cards = run(p, dt.date(2024, 4, 1))
    assert words in card(cards, "patient-summary")["detail"]


def test_fhir_progression_one_day_short_of_6_months_on_a_cdk46i_is_not_printed_as_6_months():
    p = (de_novo("res-cdk-6").regimen(("letrozole", "ribociclib"), "2024-03-01", "2024-08-31").progression("2024-08-31")
         .regimen(("fulvestrant",), "2024-09-03"))
    _, cards = run(p, dt.date(2025, 6, 1))
    assert ("Progression within 6 months on first-line CDK4/6 inhibitor (line 1: letrozole + ribociclib from 2024-03-01 "
            "to 2024-08-31, 5 months and 30 days on the CDK4/6 inhibitor)") in card(cards, "trastuzumab-deruxtecan")["detail"]


@pytest.mark.parametrize("started, end_gap", [
    ("2023-09-01", False),  # 4.5 months before the recurrence: it ended within 6 months of it, whenever it ended
    ("2023-07-10", True),   # 6.2 months before: when it ended decides, and is not recorded (gap, route unknown)
])
def test_fhir_adjuvant_chemotherapy_recorded_without_an_end_date_is_never_read_as_failing_t_dxd_label_b(
        started, end_gap):
    # Enhertu label B (CR B.11): "recurrence during or within 6 months of completing adjuvant chemotherapy"
    p = (hr_positive_mbc(f"tdxd-b-no-end-{started}", primary="2023-03-01").med("paclitaxel", started, status="completed")
         .med("letrozole", "2023-12-05", "2024-01-10"))
    state = p.state(FIRST_LINE_AS_OF)
    cards = _order(state, [_draft("trastuzumab deruxtecan", "her2-adc", "2287684")])
    assert ("adjuvant-chemotherapy-end-not-recorded" in {g.code for g in state.gaps}) is end_gap
    if not end_gap:
        # label B met: no warning; only the pathway's placement said as info (CR C.2 step 4, ord7)
        assert [(c["indicator"], c["summary"]) for c in cards] == [
            ("info", "Trastuzumab deruxtecan: label met; the pathway places T-DXd after endocrine-based therapy "
                     "(CR C.2 step 4)")]
    else:
        # open, not failed: the order card says the record cannot confirm the label (it was silent,
        # as if checked and met); nothing pre-selected, the drug may well be indicated
        (c,) = cards
        assert c["summary"].startswith("Trastuzumab deruxtecan: label requirement not confirmed — Recurrence within "
                                       "6 months of completing adjuvant chemotherapy")
        assert c["indicator"] == "warning" and c["source"]["topic"]["code"] == "order-not-indicated"
        assert not any(s.get("isRecommended") for s in c.get("suggestions", []))


def test_fhir_adjuvant_chemotherapy_without_an_end_date_started_more_than_6_months_before_the_recurrence_leaves_t_dxd_label_b_open():
    # CR B.11 label B: "recurrence during or within 6 months of completing adjuvant chemotherapy";
    # paclitaxel started 10.5 months before the recurrence, no end recorded: when it ended decides
    p = (hr_positive_mbc("tdxd-b-end-not-recorded", primary="2023-01-01").med("paclitaxel", "2023-03-01", status="completed")
         .regimen(("olaparib",), "2024-02-01", "2025-05-20").progression("2025-05-15"))
    state, cards = run(p)
    gap = next(g for g in state.gaps if g.code == "adjuvant-chemotherapy-end-not-recorded")
    assert gap.message.startswith("The adjuvant chemotherapy (paclitaxel, started 2023-03-01) has no end date")
    open_ = ("Recurrence within 6 months of completing adjuvant chemotherapy cannot be confirmed: an adjuvant "
             "chemotherapy has no end date, and when it ended decides it")
    assert f"- Trastuzumab deruxtecan: waiting on — {open_}" in card(cards, "patient-summary")["detail"].splitlines()
    order = _order(state, [_draft("trastuzumab deruxtecan", "her2-adc", "2287684")])
    assert [c["summary"] for c in order] == [
        "Trastuzumab deruxtecan: label requirement not confirmed — Recurrence within 6 months of completing adjuvant "
        "chemotherapy cannot be…"]
    assert f"- {open_} — MedicationStatement/" in order[0]["detail"]


@pytest.mark.parametrize("ended", ["2024-01", "2024"])
def test_fhir_a_relapse_inside_the_month_or_year_a_long_adjuvant_course_ended_is_secondary_resistance_and_gets_inavolisib(ended):
    # letrozole from 2016: a recurrence on it (after its first 2 years) or within 12 months of its
    # end is secondary resistance either way (ABC4, CR C.1); inavolisib first (C.2 step 2, B.1)
    p = adjuvant_relapse(f"res-end-month-{ended}", ended).variant("PIK3CA", "p.His1047Arg", on="2024-01-20")
    state, cards = run(p, dt.date(2024, 3, 1))
    assert regimen_topics(cards)[0] == "inavolisib-palbociclib-fulvestrant"
    assert (f"- Endocrine sensitivity: secondary resistance: relapse 0.0 to 0.5 months after completing adjuvant ET "
            f"({ended}) (within 12 months)") in card(cards, "patient-summary")["detail"]
    assert "adjuvant-endocrine-end-unknown" not in {g.code for g in state.gaps}


def test_fhir_a_relapse_inside_the_month_a_short_adjuvant_course_ended_cannot_be_classified():
    # letrozole from 2022-06: on it in its first 2 years (primary) or within 12 months of its end
    # (secondary): the end day decides (CR C.1), so the class is not guessed
    p = hr_positive_mbc("res-end-month-short", primary="2022-03-01").med("letrozole", "2022-06-01", "2024-01")
    state, cards = run(p, dt.date(2024, 3, 1))
    assert state.therapy.endocrine_resistance == "unknown" and "adjuvant-endocrine-end-unknown" in {g.code for g in state.gaps}
    assert "- Endocrine sensitivity: unknown" in card(cards, "patient-summary")["detail"]


def test_fhir_a_relapse_on_adjuvant_et_after_a_pause_that_decides_primary_or_secondary_resistance_is_not_classed():
    # 2 months of tamoxifen, a 10-month pause, letrozole from 2022-06-01, relapse 2024-01-15: 31.5 months
    # from the first start (secondary) but 21.5 months on it (primary); ABC4 (CR C.1) does not say
    # which counts. The relapse is on ET either way: inavolisib stays first (B.1, C.2 step 2)
    p = (hr_positive_mbc("res-paused", primary="2021-03-01").med("tamoxifen", "2021-06-01", "2021-08-01")
         .med("letrozole", "2022-06-01").variant("PIK3CA", "p.His1047Arg", on="2024-01-20"))
    state, cards = run(p, dt.date(2024, 3, 1))
    assert regimen_topics(cards)[0] == "inavolisib-palbociclib-fulvestrant"
    detail = card(cards, "patient-summary")["detail"]
    assert "- Endocrine sensitivity: unknown: relapse on adjuvant endocrine therapy started 2021-06-01" in detail
    assert ("- Adjuvant endocrine therapy was interrupted (2021-06-01 to 2021-08-01, 2022-06-01 to the recurrence "
            "on 2024-01-15): the recurrence came on it 31.5 months after it first started but after 21.5 months on "
            "it. ESO-ESMO ABC4 classes a relapse in the first 2 years of adjuvant endocrine therapy as primary "
            "resistance and later as secondary, and does not say whether a pause counts: primary or secondary "
            "resistance cannot be told, so the adjuvant course does not class endocrine resistance: judge it from "
            "the dates above.") in detail


@pytest.mark.parametrize("first_end, words", [
    ("2022-12-01", "secondary resistance: relapse on adjuvant endocrine therapy"),  # 18 + 7.5 months on it: >= 2 years both ways
])
def test_fhir_a_pause_in_adjuvant_et_that_does_not_change_the_class_is_not_a_gap(first_end, words):
    p = hr_positive_mbc("res-paused-long", primary="2021-03-01").med("tamoxifen", "2021-06-01", first_end).med("letrozole", "2023-06-01")
    state, cards = run(p, dt.date(2024, 3, 1))
    assert words in card(cards, "patient-summary")["detail"]
    assert "adjuvant-endocrine-interrupted" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("ended, progressed, words", [
    # still recorded as given: it read "de novo metastatic" (the line runs, so it had not progressed)
    (None, "2024-05-15", "primary resistance: progression within 6 months"),
    (None, "2024-12-15", "secondary resistance: progression after 6 months or more"),
    # given beyond the progression and ended 2024-10-01: it read secondary by the line's end (8 months)
    ("2024-10-01", "2024-06-15", "primary resistance: progression within 6 months"),
    ("2024-10-01", "2024-09-15", "secondary resistance: progression after 6 months or more"),
])
def test_fhir_a_progression_documented_on_a_first_endocrine_line_classes_resistance_by_its_date(ended, progressed, words):
    # de novo, letrozole + palbociclib from 2024-02-01, a disease-status progression on it. ABC4 (CR
    # C.1) classes PD on first-line ET by the time from its start to the PD: within 6 months primary
    p = (de_novo(f"res-{ended}-{progressed}").regimen(("letrozole", "palbociclib"), "2024-02-01", ended)
         .progression(progressed))
    state, cards = run(p)
    detail = card(cards, "patient-summary")["detail"]
    line, tail = (("from 2024-02-01", "the line still recorded as given") if ended is None else
                  (f"2024-02-01 to {ended}", "the line given beyond it"))
    assert (f"- Endocrine sensitivity: {words} of first-line metastatic endocrine therapy (letrozole + "
            f"palbociclib, {line}; disease progression recorded {progressed}, {tail})") in detail


@pytest.mark.parametrize("ended, said", [(None, "still recorded as given"), ("2024-12-01", "given until 2024-12-01")])
def test_fhir_a_progression_without_a_day_on_either_side_of_6_months_of_a_first_line_leaves_resistance_unknown(ended, said):
    p = (de_novo(f"res-month-{ended}").regimen(("letrozole", "palbociclib"), "2024-02-15", ended)
         .progression("2024-08"))
    state, cards = run(p)
    assert "- Endocrine sensitivity: unknown" in card(cards, "patient-summary")["detail"]
    assert [g.message for g in state.gaps if g.code == "endocrine-resistance-unsettled"] == [
        "Disease progression is recorded in 2024-08 on metastatic line 1 (letrozole + palbociclib), the first "
        f"endocrine line, {said}, and a date without a day leaves open whether it came within "
        "6 months of the line's start (ESO-ESMO ABC4: primary) or later (secondary)."]


def test_fhir_a_first_endocrine_line_with_a_progression_only_at_its_end_is_classed_by_its_end():
    p = (de_novo("res-ended-at-end").regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-10-01")
         .progression("2024-10-01"))
    state, cards = run(p)
    assert ("- Endocrine sensitivity: secondary resistance: progression after 6 months or more of first-line "
            "metastatic endocrine therapy (letrozole + palbociclib, 2024-02-01 to 2024-10-01) —") \
        in card(cards, "patient-summary")["detail"]


def test_fhir_a_de_novo_patient_staged_only_by_a_tnm_string_with_m1_gets_first_line_cards():
    """The clinical M category sent as the TNM string "cT2N1M1" (no space before the M): the M1
    was not read, metastatic status was unknown and the patient got the summary only."""
    p = FhirPatient("tnm-m1").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p.menopause("postmenopausal")
    p._obs("m", {"coding": [{"system": "http://loinc.org", "code": "21907-1"}]}, "2024-01-15", valueString="cT2N1M1")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.de_novo_metastatic is True
    assert regimen_topics(cards)[:1] == ["ai-cdk46i"]
    assert "(de novo)" in cards[0]["detail"]


def test_fhir_a_stage_iv_dated_decades_before_the_breast_cancer_leaves_adjuvant_letrozole_adjuvant_and_gets_first_line_cards():
    """A stage group IV of 1995 (an earlier cancer) made the 2016 breast cancer metastatic since
    1995 and de novo: adjuvant letrozole became a first metastatic line and the cards were
    second-line ones (fulvestrant + CDK4/6 inhibitor, everolimus, T-DXd, chemotherapy)."""
    state, cards = run(adjuvant_relapse("old-stage", "2021-06-01").stage_iv("1995-03-01"), FIRST_LINE_AS_OF)
    assert state.therapy.metastatic_lines == [] and state.disease.de_novo_metastatic is False
    assert regimen_topics(cards)[:2] == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "first line" in cards[0]["summary"]
    assert "Stage IV / M1 dated before the breast cancer diagnosis (2016-03-01)" in cards[0]["detail"]


def test_fhir_early_breast_cancer_with_a_history_of_metastatic_colon_cancer_gets_only_the_summary():
    """"Metastatic colon cancer" coded C18.9 (a colon primary) was read as breast-cancer
    metastasis: an early breast cancer got metastatic first-line regimen cards."""
    p = FhirPatient("colon-mets").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C18.9"}],
                  "text": "Metastatic colon cancer"}, "2012-05-01", "colon")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic != "yes"
    assert topics(cards) == ["patient-summary"]


def test_fhir_a_woman_recorded_male_at_birth_gets_the_summary_asking_for_the_sex_for_clinical_use():
    # Patient.gender female, US Core birth sex M: the cards follow the gender (menopausal status
    # unknown, ovarian suppression), and the summary says the record gives two sexes
    p = de_novo("fl-birth-sex", menopause=None, birth="1970-01-01")
    p.resources[0]["extension"] = [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                                    "valueCode": "M"}]
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert ("Patient.gender is female (administrative gender) but the record gives birth sex (US Core) male"
            in card(cards, "patient-summary")["detail"])


def test_fhir_a_premenopausal_woman_whose_oophorectomy_was_declined_still_needs_ovarian_suppression():
    # a completed Procedure "BSO declined" was read as an oophorectomy: no ovarian-suppression
    # caution, no goserelin order (CR C.3 row 15)
    p = de_novo("fl-bso-declined", menopause="premenopausal", birth="1980-05-01")
    p.add({"resourceType": "Procedure", "id": "bso", "status": "completed", "code": {"text": "BSO declined"},
           "subject": {"reference": "Patient/fl-bso-declined"}, "performedDateTime": "2024-01-12"})
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert "caution: needs ovarian suppression" in card(cards, "ai-cdk46i")["summary"]


def test_fhir_a_premenopausal_woman_with_only_a_years_old_goserelin_statement_still_needs_ovarian_suppression():
    # an active MedicationStatement from 2021 with no end and no dose since was read as ongoing
    # suppression: no caution, no goserelin order (CR C.3 row 15; DailyMed Zoladex 28 days / 12 weeks)
    p = de_novo("fl-old-goserelin", menopause="premenopausal", birth="1980-05-01").med("goserelin", "2021-03-01")
    state, cards = run(p, FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert "caution: needs ovarian suppression" in ai["summary"]
    assert all(c[-1] == "goserelin" for c in suggestion_drugs(ai))
    assert "ovarian-suppression-not-current" in {g.code for g in state.gaps}
    # the caution says which record was read and why it is not counted
    assert ("Premenopausal woman without documented ovarian function suppression (GnRH-agonist records not counted "
            "as current: goserelin statement MedicationStatement/") in ai["detail"]
    assert "dated 2021-03-01)" in ai["detail"]


def test_fhir_a_years_old_goserelin_statement_not_counted_as_current_is_not_listed_as_taken_to_now():
    # the drug list said "goserelin (2021-03-01 to now)" beside the gap saying the statement is
    # not counted as ongoing suppression (no dose since; DailyMed Zoladex 28 days / 12 weeks)
    p = de_novo("fl-old-goserelin-list", menopause="premenopausal", birth="1980-05-01").med("goserelin", "2021-03-01")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert "ovarian-suppression-not-current" in {g.code for g in state.gaps}
    detail = card(cards, "patient-summary")["detail"]
    assert "goserelin (2021-03-01 to now)" not in detail
    assert "goserelin (2021-03-01 to date unknown; still recorded active, not counted as current: see the gaps)" in detail

def test_fhir_a_premenopausal_patient_of_gender_other_read_as_a_woman_from_her_birth_sex_is_told_where_the_sex_came_from():
    # the caution said "Premenopausal woman" of a Patient.gender 'other' with no word why; the
    # man's LHRH-agonist caution already names the extension (US Core birth sex; CR C.3 row 15)
    p = de_novo("fl-other-birth-sex-f", gender="other", birth="1980-05-01")
    p.resources[0]["extension"] = [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                                    "valueCode": "F"}]
    p.menopause("premenopausal", "2024-01-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.factors.sex == "female" and state.factors.menopausal_status == "premenopausal"
    ai = card(cards, "ai-cdk46i")
    assert "caution: needs ovarian suppression" in ai["summary"]
    assert ("Premenopausal woman without documented ovarian function suppression (sex read from birth sex "
            "(US Core) female; Patient.gender gives no sex)") in ai["detail"]

def test_fhir_a_man_whose_only_goserelin_record_is_years_old_gets_the_lhrh_agonist_caution_naming_it():
    # his 2021 goserelin statement (no end, no dose since) was read as an ongoing LHRH agonist: no
    # goserelin added to the AI (C.3 row 16; DailyMed Zoladex 28 days / 12 weeks)
    p = de_novo("fl-old-goserelin-man", gender="male", birth="1960-05-01").med("goserelin", "2021-03-01")
    _, cards = run(p, FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert all(c[-1] == "goserelin" for c in suggestion_drugs(ai))
    assert ("Man without a documented LHRH agonist (GnRH-agonist records not counted as current: goserelin "
            "statement MedicationStatement/") in ai["detail"]


def test_fhir_a_premenopausal_woman_after_ovarian_ablation_by_radiotherapy_needs_no_goserelin():
    # CR C.1 (ABC4): ovarian ablation by RT is adequate ovarian suppression; it was not read, so
    # the cards asked for suppression and added a goserelin order
    p = de_novo("fl-ovarian-rt", menopause="premenopausal", birth="1980-05-01")
    p.add({"resourceType": "Procedure", "id": "rt", "status": "completed",
           "code": {"text": "Ovarian ablation by radiotherapy"},
           "subject": {"reference": "Patient/fl-ovarian-rt"}, "performedDateTime": "2024-01-12"})
    _, cards = run(p, FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert "needs ovarian suppression" not in ai["summary"]
    assert "goserelin" not in str(ai.get("suggestions", [])).lower()


def test_fhir_a_one_day_pause_in_adjuvant_et_is_counted_as_one_day_off_it():
    # tamoxifen from 2022-01-14 to 2023-06-01, letrozole from 2023-06-03 (2023-06-02 off), relapse
    # 2024-01-15: 24 months and 1 day from the first start, 24.0 months on it: secondary both ways
    # (ABC4, CR C.1). Each pause was counted a day too long, 23 months and 30 days on it, a gap.
    p = (hr_positive_mbc("res-pause-1-day", primary="2021-12-01").med("tamoxifen", "2022-01-14", "2023-06-01")
         .med("letrozole", "2023-06-03"))
    state, cards = run(p, dt.date(2024, 3, 1))
    assert "adjuvant-endocrine-interrupted" not in {g.code for g in state.gaps}
    assert ("- Endocrine sensitivity: secondary resistance: relapse on adjuvant endocrine therapy"
            in card(cards, "patient-summary")["detail"])


def test_fhir_a_pause_gap_never_prints_24_months_for_both_readings_beside_the_2_year_boundary():
    # a 2-day pause: 24 months and 1 day from the first start, 23 months and 30 days on it; both
    # were printed "24.0 months" in the gap that says the two readings differ
    p = (hr_positive_mbc("res-pause-2-days", primary="2021-12-01").med("tamoxifen", "2022-01-14", "2023-06-01")
         .med("letrozole", "2023-06-04"))
    state, cards = run(p, dt.date(2024, 3, 1))
    gap = {g.code: g.message for g in state.gaps}["adjuvant-endocrine-interrupted"]
    assert ("the recurrence came on it 24 months and 1 day after it first started but after 23 months and 30 days "
            "on it") in gap


# --- which drug a medication record names (mappings/therapy.py drugs_from_text; local_codes.yaml
# drug_mentions) -------------------------------------------------------------------------------

def _statement(p: FhirPatient, concept: dict, start: str = "2025-06-01", end: str | None = None) -> FhirPatient:
    period = {"start": start, **({"end": end} if end else {})}
    return p.add({"resourceType": "MedicationStatement", "id": p._id("ms"), "status": "completed" if end else "active",
                  "medicationCodeableConcept": concept, "subject": p._subject(), "effectivePeriod": period})


@pytest.mark.parametrize("concept", [
    {"text": "Metformin 500 mg (alpelisib hyperglycaemia)"},
    {"text": "Dexamethasone premedication for paclitaxel"},
    {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "26225", "display": "ondansetron"}],
     "text": "Ondansetron 8 mg (for capecitabine-related nausea)"},
    {"text": "Loperamide - abemaciclib diarrhoea"},
    {"text": "Pegfilgrastim after docetaxel"},
    {"text": "Pre-meds for paclitaxel"}, {"text": "Dexamethasone 8 mg pre paclitaxel"},
])
def test_fhir_a_supportive_drug_whose_text_names_an_anticancer_drug_does_not_start_a_line_of_that_drug(concept):
    # the anticancer drug is the reason for the record's drug (FHIR R4: medication[x] is the drug
    # given), not a drug given: no second line, no prior PI3K inhibitor, no prior taxane
    state, cards = run(_statement(after_ai_cdk46i("p-supportive"), concept))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, after 1 line;")
    assert card(cards, "test-pik3ca-akt1-pten")["summary"].endswith("decides Capivasertib + fulvestrant, Alpelisib + fulvestrant")
    assert "datopotamab-deruxtecan" not in topics(cards)
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"]]


@pytest.mark.parametrize("text, drug", [("Capecitabine hand-foot syndrome grade 1, dose reduced", "capecitabine"),
                                        ("Paclitaxel 80 mg/m2 - premedication: dexamethasone 8 mg", "paclitaxel"),
                                        ("Paclitaxel - premeds given, infusion started", "paclitaxel")])
def test_fhir_a_record_starting_with_its_drug_counts_that_drug_whatever_the_note_after_it_says(text, drug):
    # the name the text starts with is the record's drug (the note after it is about that drug);
    # it was skipped as a premedication / side-effect mention: a chemotherapy line silently lost
    state, cards = run(_statement(after_ai_cdk46i("p-own-drug"), {"text": text}))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"], [drug]]


@pytest.mark.parametrize("text", ["Paclitaxel - premedication given", "Paclitaxel premedication", "Paclitaxel (premed)",
                                  "Paclitaxel pre-meds", "Paclitaxel premedication (dexamethasone, chlorphenamine)",
                                  # were (fix-rf3) a paclitaxel line: premedication words open the text
                                  "Premedication: dexamethasone (paclitaxel day 1)",
                                  "Premedication (paclitaxel): dexamethasone 20 mg IV"])
def test_fhir_a_record_naming_its_drug_and_then_only_a_premedication_asks_whether_the_drug_was_given(text):
    # the record may be the premedication for paclitaxel (an order-set name) or paclitaxel's own
    # record noting its premedication; a premedication given is not the drug given (FHIR R4
    # Medication.code). It was counted as a paclitaxel line ('on line 2'); now not counted and named
    state, cards = run(_statement(after_ai_cdk46i("p-premed"), {"text": text}))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, after 1 line;")
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"]]
    assert (f'(its text "{text}" names a premedication for its drug: whether the drug itself was given cannot be '
            "read)") in cards[0]["detail"]


@pytest.mark.parametrize("text", ["Premedication given; paclitaxel 80 mg/m2", "Premed given, paclitaxel 80 mg/m2 infused"])
def test_fhir_a_premedication_in_its_own_clause_before_the_drug_leaves_the_drug_given(text):
    state, _ = run(_statement(after_ai_cdk46i("p-premed-clause"), {"text": text}))
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"], ["paclitaxel"]]


def test_fhir_a_drafted_order_naming_a_second_ai_only_if_the_first_is_not_tolerated_is_checked_as_the_first():
    # "Letrozole then anastrozole if intolerant" was checked as two AI orders ("Anastrozole drafted
    # without ribociclib" beside letrozole's card); anastrozole is a conditional plan
    summaries = [c["summary"] for c in _drafted_cards("Letrozole then anastrozole if intolerant")]
    assert not any("anastrozole" in s.lower() for s in summaries), summaries
    assert any(s.startswith("Letrozole drafted without ribociclib") for s in summaries), summaries


@pytest.mark.parametrize("text", ["Premed dexamethasone 8 mg then paclitaxel 175 mg/m2 given",
                                  "Premedication dexamethasone 20 mg IV and paclitaxel 80 mg/m2 infused"])
def test_fhir_a_premedication_followed_by_its_chemotherapy_written_as_given_leaves_the_chemotherapy_given(text):
    # premedication words opening the text made it a gap: the paclitaxel line it writes as given
    # after its premedication was lost (fix-rf3)
    state, _ = run(_statement(after_ai_cdk46i("p-premed-then"), {"text": text}))
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"], ["paclitaxel"]]


def test_fhir_a_drafted_chemotherapy_after_its_premedication_is_checked_as_that_chemotherapy():
    # "Premed dexamethasone 8 mg then paclitaxel 175 mg/m2 given" said "Drafted order not checked:
    # its drug could not be read" (fix-rf3); paclitaxel is the drug ordered, as a paclitaxel order is
    text = "Premed dexamethasone 8 mg then paclitaxel 175 mg/m2 given"
    assert [c["summary"] for c in _drafted_cards(text)] == [c["summary"] for c in _drafted_cards("Paclitaxel 175 mg/m2")]


@pytest.mark.parametrize("text", ["Fulvestrant 500 mg to be given IM monthly",
                                  "Fulvestrant 500 mg to be given as two 250 mg injections"])
def test_fhir_a_fulvestrant_record_saying_how_it_is_to_be_given_is_a_fulvestrant_line(text):
    # read as planned ("to be given"), the fulvestrant line was a gap (fix-rf3)
    state, _ = run(_statement(after_ai_cdk46i("p-to-be-given"), {"text": text}))
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"], ["fulvestrant"]]


def test_fhir_a_drafted_regimen_with_a_drug_planned_in_a_later_clause_is_checked_as_the_regimen():
    # "Letrozole + palbociclib; fulvestrant to start at progression" was checked as fulvestrant +
    # palbociclib ("not indicated"): fulvestrant is the plan for later, letrozole + palbociclib the order
    summaries = [c["summary"] for c in _drafted_cards("Letrozole + palbociclib; fulvestrant to start at progression")]
    assert not any("fulvestrant" in s.lower() for s in summaries), summaries


def test_fhir_a_drafted_premedication_naming_the_chemotherapy_it_is_for_is_not_checked_as_that_chemotherapy():
    # "Premedication: dexamethasone (paclitaxel day 1)" was checked as a paclitaxel order
    text = "Premedication: dexamethasone (paclitaxel day 1)"
    got = _drafted_cards(text)
    assert [c["summary"] for c in got] == ["Drafted order not checked: its text names a premedication "
                                           "(MedicationRequest/mr-text)"]
    assert f'its text "{text}" names a premedication for its drug' in got[0]["detail"]


def test_fhir_a_premedication_given_before_a_chemotherapy_is_not_that_chemotherapy():
    # "pre-paclitaxel": chlorphenamine is the record's drug; paclitaxel was read as a line given
    state, cards = run(_statement(after_ai_cdk46i("p-pre"), {"text": "Chlorphenamine 10 mg IV pre-paclitaxel"}))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, after 1 line;")
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"]]


@pytest.mark.parametrize("text, first, then", [("Letrozole then fulvestrant", "letrozole", "fulvestrant"),
                                               ("Anastrozole 1 mg -> tamoxifen", "anastrozole", "tamoxifen"),
                                               ("Letrozole 2.5 mg daily followed by fulvestrant", "letrozole",
                                                "fulvestrant")])
def test_fhir_a_record_writing_an_endocrine_switch_across_classes_asks_the_line_count(text, first, then):
    # read in silence as one line of both drugs ('after 1 line(s)'): an AI -> SERD / SERM switch is
    # usually a new line after progression (CR C.2 step 1), and the record says neither when nor why
    state, cards = run(_statement(de_novo("p-then"), {"text": text}, "2024-02-01", "2025-05-20")
                       .progression("2025-05-15"))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, after 1 line;")
    gap = next(g for g in state.gaps if g.code == "line-count-unclear")
    assert (f'("{text}") writes {then} after {first}, endocrine therapy of another class, in one record: it is '
            f"counted as one line (metastatic line 1); whether {then} was a new line after progression on {first} "
            "(CR C.2 step 1), and when it started, is not written: confirm the lines of therapy.") in gap.message
    assert gap.message in cards[0]["detail"]


@pytest.mark.parametrize("text", ["Anastrozole then letrozole", "Paclitaxel then capecitabine", "Letrozole, fulvestrant"])
def test_fhir_a_sequence_within_one_class_or_of_chemotherapy_is_not_asked_as_a_line_count(text):
    state, _ = run(_statement(de_novo("p-seq"), {"text": text}, "2024-02-01", "2025-05-20").progression("2025-05-15"))
    assert not [g for g in state.gaps if g.code == "line-count-unclear"]


def test_fhir_a_record_naming_the_drug_it_replaced_counts_only_the_drug_given():
    p = de_novo("p-switch").med("palbociclib", "2024-02-01")
    state, cards = run(_statement(p, {"text": "Anastrozole 1 mg (switched from letrozole)"}, "2024-02-01"))
    assert [sorted(ln.names) for ln in state.therapy.metastatic_lines] == [["anastrozole", "palbociclib"]]
    # letrozole has no record of its own: not dropped in silence, named as not read (FHIR R4
    # Medication.code: anastrozole is the record's drug), never counted as given
    said = [x for x in cards[0]["detail"].splitlines() if "letrozole" in x.lower()]
    assert said == [x for x in said if x.startswith("- Medication records whose drug could not be read")] and said
    assert ('also names letrozole, not read as given by this record, and no record of it was read'
            in next(g.message for g in state.gaps if g.code == "medication-unreadable"))


def test_fhir_a_record_naming_the_drugs_the_cancer_progressed_on_names_those_without_a_record_of_their_own():
    # palbociclib was dropped from the history in silence (a CDK4/6 inhibitor line lost); the
    # record is fulvestrant's (FHIR R4 Medication.code), the others are named as not read
    state, cards = run(_statement(de_novo("p-after"), {"text": "Fulvestrant after progression on letrozole + "
                                                                   "palbociclib"}, "2025-06-01"))
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["fulvestrant"]]
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert ('its text "Fulvestrant after progression on letrozole + palbociclib" also names letrozole + palbociclib, '
            "not read as given by this record, and no record of them was read") in gap.message
    assert state.therapy.endocrine_resistance == "unknown"
    # with records of their own, nothing is asked
    state, _ = run(_statement(after_ai_cdk46i("p-after-2", cdk="palbociclib"),
                              {"text": "Fulvestrant after progression on letrozole + palbociclib"}, "2025-06-01"))
    assert "medication-unreadable" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("text, first, later", [("Letrozole (switched to anastrozole)", "letrozole", "anastrozole"),
                                                ("Palbociclib, changed to ribociclib", "palbociclib", "ribociclib"),
                                                ("Letrozole replaced by exemestane", "letrozole", "exemestane")])
def test_fhir_a_record_naming_the_drug_it_was_switched_to_counts_its_own_drug_and_names_the_other(text, first, later):
    # both drugs were read as given from the record's start; from when the later one was given
    # is not written (FHIR R4 Medication.code: the record's drug is the first)
    state, cards = run(_statement(de_novo("p-to"), {"text": text}, "2024-02-01", "2025-05-01"))
    assert [d.name for e in state.therapy.exposures for d in e.drugs] == [first]
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert (f'its text "{text}" also names {later} as the drug it was switched to, not read as given (from when is '
            "not written)") in gap.message


def test_fhir_a_record_naming_the_drug_it_was_switched_to_beside_a_record_of_that_drug_asks_nothing():
    # "Letrozole (switched to anastrozole)" beside the anastrozole record that gives its dates:
    # the gap said "lines of therapy may be missing" and a de novo patient's resistance went
    # unknown, while "Anastrozole (switched from letrozole)" beside a letrozole record asked nothing
    p = _statement(de_novo("p-to-read"), {"text": "Letrozole (switched to anastrozole)"}, "2024-02-01", "2024-02-20")
    state, cards = run(p.med("anastrozole", "2024-02-21"), dt.date(2024, 6, 1))
    assert "medication-unreadable" not in {g.code for g in state.gaps}
    assert "- Endocrine sensitivity: de novo metastatic" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text, earlier, later, asked", [
    ("Tamoxifen stopped, now letrozole", "tamoxifen", "letrozole", True),
    ("Completed tamoxifen, now letrozole", "tamoxifen", "letrozole", True),
    ("Switched from tamoxifen to letrozole", "tamoxifen", "letrozole", True),
    ("Tamoxifen -> letrozole", "tamoxifen", "letrozole", True),
    ("Tamoxifen → letrozole (2021)", "tamoxifen", "letrozole", True),
    ("Anastrozole, changed to exemestane due to arthralgia", "anastrozole", "exemestane", False),
    ("Letrozole then anastrozole", "letrozole", "anastrozole", False),
    ("Tamoxifen stopped (arthralgia), now letrozole", "tamoxifen", "letrozole", False),
    ("Tamoxifen stopped 2020, letrozole since", "tamoxifen", "letrozole", True),
    ("Exemestane; tamoxifen stopped", "tamoxifen", "exemestane", True),
    ("Exemestane (tamoxifen stopped due to arthralgia)", "tamoxifen", "exemestane", False),
])
def test_fhir_an_active_record_writing_an_endocrine_switch_is_on_the_later_drug_and_lists_the_earlier_as_stopped(
        text, earlier, later, asked):
    # both drugs were read as taken together ("Currently on tamoxifen + letrozole"), or the later
    # one dropped ("Anastrozole, changed to exemestane": currently on anastrozole): one
    # MedicationStatement is one medication use (FHIR R4), 'active' the drug taken now
    state, cards = run(_statement(de_novo("p-sw"), {"text": text}, "2024-02-01"))
    detail = card(cards, "patient-summary")["detail"]
    assert f"- Currently on {later} (metastatic line 1): the options below apply at progression." in detail
    assert f"{earlier} (2024-02-01 to date unknown)" in detail and f"{later} (2024-02-01 to now)" in detail
    assert "medication-unreadable" not in {g.code for g in state.gaps}
    # another class for progression or for no reason written may be a new line (CR C.2 step 1):
    # asked; a switch for toxicity (arthralgia) or within the class stays in the line
    counted = [g.message for g in state.gaps if g.code == "line-count-unclear"]
    assert bool(counted) == asked
    if asked:
        assert f"writes {later} after {earlier}, endocrine therapy of another class" in counted[0]


@pytest.mark.parametrize("text, label", [("Tamoxifen stopped, now letrozole", "tamoxifen (then letrozole)"),
                                         ("Tamoxifen stopped (arthralgia), now letrozole", "tamoxifen (then letrozole)"),
                                         ("Anastrozole, changed to exemestane due to arthralgia",
                                          "anastrozole (then exemestane)")])
def test_fhir_the_line_of_an_endocrine_switch_written_in_one_record_is_labelled_as_a_sequence(text, label):
    # another class after the switch was labelled "tamoxifen + letrozole", as if given together,
    # beside "Currently on letrozole" (one MedicationStatement is one medication use, FHIR R4)
    state, cards = run(_statement(de_novo("p-sw-label"), {"text": text}, "2024-02-01"))
    assert f"- Metastatic line 1: {label}, 2024-02-01 to now (active)" in card(cards, "patient-summary")["detail"]
    assert len(state.therapy.metastatic_lines) == 1


@pytest.mark.parametrize("text, label", [("Tamoxifen stopped, now letrozole", "tamoxifen (then letrozole)"),
                                         ("Letrozole then fulvestrant", "letrozole (then fulvestrant)")])
def test_fhir_the_line_of_an_ended_record_writing_an_endocrine_switch_is_labelled_as_a_sequence_too(text, label):
    # ended (status completed, an end date): both drugs past, the record one use; was labelled
    # "tamoxifen + letrozole", as if given together, while the same record still under way is
    # "tamoxifen (then letrozole)" (one MedicationStatement is one medication use, FHIR R4)
    state, cards = run(_statement(de_novo("p-sw-ended"), {"text": text}, "2024-02-01", "2024-08-01"))
    assert f"- Metastatic line 1: {label}, 2024-02-01 to 2024-08-01" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("texts", [("Tamoxifen stopped, now letrozole", "Letrozole stopped, now fulvestrant"),
                                   ("Letrozole stopped, now fulvestrant", "Tamoxifen stopped, now letrozole")])
def test_fhir_a_line_of_two_records_each_writing_a_switch_is_labelled_as_one_sequence_whatever_their_order(texts):
    # was "tamoxifen (then letrozole) + fulvestrant" (fulvestrant as if given with the first
    # drugs) or "tamoxifen (then letrozole (then fulvestrant))", by the order of the records
    p = de_novo("p-sw-chain")
    for text in texts:
        p = _statement(p, {"text": text}, "2024-02-01")
    state, cards = run(p)
    assert "- Metastatic line 1: tamoxifen (then letrozole, then fulvestrant), 2024-02-01 to now (active)" in card(
        cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text, earlier, later", [("Letrozole stopped for progression, now fulvestrant", "letrozole",
                                                  "fulvestrant"),
                                                 ("Letrozole stopped due to PD, now anastrozole", "letrozole",
                                                  "anastrozole")])
def test_fhir_an_active_record_writing_a_switch_at_progression_says_it_is_a_new_line_whose_start_is_not_written(
        text, earlier, later):
    # read as one regimen of both drugs, one line, nothing asked: a switch at progression is a
    # new line (CR C.2 step 1), of any class; when the later drug started is not written
    state, cards = run(_statement(de_novo("p-sw-pd"), {"text": text}, "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == [later]
    gap = next(g for g in state.gaps if g.code == "line-count-unclear")
    assert (f'("{text}") writes {later} after {earlier} stopped for progression, in one record: it is counted as '
            f"one line (metastatic line 1); a switch at progression is a new line (CR C.2 step 1), and when {later} "
            "started is not written: confirm the lines of therapy.") in gap.message
    assert gap.message in card(cards, "patient-summary")["detail"]


def test_fhir_a_record_coded_as_the_later_drug_of_a_switch_in_its_text_is_on_that_drug_and_lists_the_earlier():
    from cards.knowledge import DRUGS
    from tests.cards.fhir_builder import RXNORM
    # coded letrozole, its text "Tamoxifen stopped, now letrozole": tamoxifen was dropped in silence
    concept = {"coding": [{"system": RXNORM, "code": DRUGS["letrozole"].rxnorm, "display": "letrozole"}],
               "text": "Tamoxifen stopped, now letrozole"}
    state, cards = run(_statement(de_novo("p-sw-coded"), concept, "2024-02-01"))
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "tamoxifen (2024-02-01 to date unknown)" in detail


def test_fhir_a_record_coded_as_the_drug_its_text_writes_as_stopped_is_named_unclear_never_that_drug_current():
    from cards.knowledge import DRUGS
    from tests.cards.fhir_builder import RXNORM
    # coded tamoxifen, its text "Tamoxifen stopped, now letrozole": which drug is current (its code's
    # or its text's) cannot be told; tamoxifen, written stopped beside its name, is never read current
    # (tx12: read "on line 1" with tamoxifen taken now, the gap naming letrozole; CR A.3, C.2 step 1)
    concept = {"coding": [{"system": RXNORM, "code": DRUGS["tamoxifen"].rxnorm, "display": "tamoxifen"}],
               "text": "Tamoxifen stopped, now letrozole"}
    state, cards = run(_statement(de_novo("p-sw-coded-2"), concept, "2024-02-01"))
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert "tamoxifen" not in {d.name for d in state.therapy.current_drugs()}
    assert ('its text "Tamoxifen stopped, now letrozole" writes tamoxifen stopped beside drugs read as taken now: '
            "which drugs are taken now cannot be read") in gap.message
    assert "caution: medication records unreadable" in card(cards, "fulvestrant-cdk46i")["summary"]


def test_fhir_a_relapse_on_an_adjuvant_record_writing_tamoxifen_stopped_now_letrozole_says_nothing_of_stopping_tamoxifen():
    # the ribociclib card said "Stop tamoxifen before ribociclib" though the record writes tamoxifen as stopped
    p = _statement(hr_positive_mbc("p-sw-adj", primary="2016-03-01"), {"text": "Tamoxifen stopped, now letrozole"},
                   "2016-06-01")
    state, cards = run(p)
    assert "fulvestrant-cdk46i" in topics(cards)
    assert not any("stop tamoxifen" in c.get("detail", "").lower() for c in cards)
    assert state.therapy.on_adjuvant_endocrine_at_recurrence
    assert "- (Neo)adjuvant: tamoxifen, 2016-06-01 to date unknown" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text, current", [
    ("Letrozole + palbociclib", ["letrozole", "palbociclib"]),
    ("Letrozole; palbociclib not yet started", ["letrozole"]),
    ("Fulvestrant (previously letrozole + palbociclib)", ["fulvestrant"]),
    ("Letrozole then fulvestrant if progression", ["letrozole"]),
    ("Letrozole + palbociclib, now on cycle 3", ["letrozole", "palbociclib"]),
])
def test_fhir_a_regimen_a_history_note_or_a_plan_is_not_read_as_a_switch(text, current):
    # read as before: a regimen, a drug named as past use only by this record's note (asked:
    # medication-unreadable), a later drug planned on a condition
    state, _ = run(_statement(de_novo("p-not-sw"), {"text": text}, "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == current
    assert len(state.therapy.exposures) == 1


@pytest.mark.parametrize("text", ["Letrozole then fulvestrant, if progression", "Letrozole; fulvestrant if progression",
                                  "Letrozole (fulvestrant at progression)", "Letrozole then fulvestrant if PD",
                                  "Letrozole then anastrozole, if intolerant"])
def test_fhir_a_drug_written_for_a_progression_or_intolerance_to_come_is_a_plan_named_not_a_drug_given(text):
    # with a comma before the condition, "at progression" in a parenthesis or "if PD", the later drug
    # was read as given with letrozole ("Currently on fulvestrant + letrozole"): a drug to be given
    # only then is planned (FHIR R4 MedicationStatement.status intended), named as not read
    state, cards = run(_statement(de_novo("p-plan-c"), {"text": text}, "2024-02-01"))
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in card(
        cards, "patient-summary")["detail"]
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert f'its text "{text}" also names' in gap.message


@pytest.mark.parametrize("text, given, hedged", [("Letrozole (likely) + palbociclib", "palbociclib", "letrozole"),
                                                 ("Letrozole (?) + palbociclib", "palbociclib", "letrozole"),
                                                 ("Letrozole 2.5 mg (probable) / palbociclib 125 mg", "palbociclib",
                                                  "letrozole")])
def test_fhir_a_hedge_closing_one_drug_of_a_regimen_leaves_that_drug_not_given_and_named(text, given, hedged):
    # read as both given ("Currently on letrozole + palbociclib"), while "Letrozole + possible
    # palbociclib" leaves palbociclib named: the hedge is that drug's alone (FHIR R4
    # MedicationStatement.status intended vs active: which is true is not written, a gap)
    state, cards = run(_statement(de_novo("p-hedge-r"), {"text": text}, "2024-02-01"))
    assert f"- Currently on {given} (metastatic line 1): the options below apply at progression." in card(
        cards, "patient-summary")["detail"]
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert f'its text "{text}" also names {hedged}, not read as given by this record' in gap.message


@pytest.mark.parametrize("text", ["Fulvestrant (possible start)", "Fulvestrant - likely to start"])
def test_fhir_a_record_hedging_the_start_of_its_drug_is_asked_not_read_as_a_line(text):
    # read as fulvestrant given (line 1, "Already treated with fulvestrant"), while "Fulvestrant
    # (possible)" is asked: a start only considered is the same hedge
    state, cards = run(_statement(de_novo("p-hedge-s"), {"text": text}, "2024-02-01"))
    assert "- Metastatic lines: 0" in card(cards, "patient-summary")["detail"]
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert f'its text "{text}" writes its drug as planned or considered' in gap.message


def test_fhir_an_ended_record_writing_an_endocrine_sequence_reads_both_drugs_as_past_in_their_order():
    # FHIR R4 MedicationStatement.status 'completed': no drug of it is taken now; the sequence is kept
    p = _statement(hr_positive_mbc("p-sw-done", primary="2016-03-01"),
                   {"text": "Tamoxifen then letrozole, completed 2020"}, "2016-06-01", "2021-06-01")
    state, cards = run(p)
    assert state.therapy.current_drugs() == []
    assert "- (Neo)adjuvant: tamoxifen + letrozole, 2016-06-01 to 2021-06-01" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Letrozole then fulvestrant at progression", "Letrozole -> fulvestrant at PD",
                                  "Letrozole then fulvestrant on relapse", "Letrozole -> fulvestrant (proposed)",
                                  "Letrozole then fulvestrant later", "Anastrozole then exemestane at progression"])
def test_fhir_an_active_record_writing_the_next_endocrine_drug_for_progression_is_not_read_as_switched_to_it(text):
    # read as a switch done: "Currently on fulvestrant", letrozole listed as stopped, for a text
    # whose later drug is written for the next progression or proposed (a plan: FHIR R4
    # MedicationStatement.status 'intended', not the drug taken now)
    state, cards = run(_statement(de_novo("p-sw-next"), {"text": text}, "2024-02-01"))
    first = text.split()[0].lower()
    assert first in [d.name for d in state.therapy.current_drugs()]
    assert "to date unknown" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text, earlier, later, current", [
    ("Tamoxifen stopped, now letrozole + palbociclib", "tamoxifen", "letrozole", ["letrozole", "palbociclib"]),
    ("Tamoxifen stopped, now exemestane + everolimus", "tamoxifen", "exemestane", ["exemestane", "everolimus"]),
    ("Letrozole + palbociclib, now fulvestrant + palbociclib", "letrozole", "fulvestrant", ["fulvestrant", "palbociclib"]),
    ("Letrozole + palbociclib, now fulvestrant", "letrozole", "fulvestrant", ["fulvestrant"]),
])
def test_fhir_an_active_record_writing_an_endocrine_switch_with_a_partner_drug_is_on_the_later_regimen(
        text, earlier, later, current):
    # every drug read as taken together ("Currently on letrozole + palbociclib + tamoxifen", and
    # "Stop tamoxifen before ribociclib"): the switch was read only when every drug is endocrine
    state, cards = run(_statement(de_novo("p-sw-partner"), {"text": text}, "2024-02-01"))
    assert sorted(d.name for d in state.therapy.current_drugs()) == sorted(current)
    detail = card(cards, "patient-summary")["detail"]
    assert f"{earlier} (2024-02-01 to date unknown)" in detail and f"{later} (2024-02-01 to now)" in detail
    assert not any("stop tamoxifen" in c.get("detail", "").lower() for c in cards)


def test_fhir_an_active_record_writing_an_endocrine_switch_and_a_planned_partner_is_on_the_later_drug():
    # "Currently on letrozole + tamoxifen" and "Stop tamoxifen before ribociclib": a plan in the
    # last clause (palbociclib's) kept the switch before it from being read
    text = "Tamoxifen stopped, now letrozole; palbociclib to start next week"
    state, cards = run(_statement(de_novo("p-sw-planned"), {"text": text}, "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == ["letrozole"]
    assert "tamoxifen (2024-02-01 to date unknown)" in card(cards, "patient-summary")["detail"]
    assert not any("stop tamoxifen" in c.get("detail", "").lower() for c in cards)
    # palbociclib, planned, is still named as not read
    assert any("also names palbociclib" in g.message for g in state.gaps if g.code == "medication-unreadable")


@pytest.mark.parametrize("text, stopped", [("Tamoxifen, switched to AI", True), ("Tamoxifen stopped, now an AI", True),
                                           ("Tamoxifen then AI", False)])
def test_fhir_an_active_record_writing_a_switch_to_a_drug_class_names_it_as_not_read(text, stopped):
    # read in silence as tamoxifen taken now ("Stop tamoxifen before ribociclib"), or as stopped
    # with nothing after it: the drug taken now is written by its class only (CR A.5), not read
    state, cards = run(_statement(de_novo("p-sw-class"), {"text": text}, "2024-02-01"))
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert f'its text "{text}" also names an aromatase inhibitor, not which one, written after tamoxifen' in gap.message
    # written as done: tamoxifen no longer given; "then" alone may be a plan: read as before
    assert (state.therapy.current_drugs() == []) == stopped
    assert any("stop tamoxifen" in c.get("detail", "").lower() for c in cards) != stopped


def test_fhir_a_record_coded_as_the_later_endocrine_drug_of_a_switch_with_a_partner_is_on_the_coded_drug():
    from cards.knowledge import DRUGS
    from tests.cards.fhir_builder import RXNORM
    # the code names letrozole, as "Letrozole + palbociclib" coded letrozole reads letrozole alone
    concept = {"coding": [{"system": RXNORM, "code": DRUGS["letrozole"].rxnorm, "display": "letrozole"}],
               "text": "Tamoxifen stopped, now letrozole + palbociclib"}
    state, cards = run(_statement(de_novo("p-sw-coded-partner"), concept, "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == ["letrozole"]
    assert "tamoxifen (2024-02-01 to date unknown)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Tamoxifen stopped, now letrozole, stable disease",
                                  "Tamoxifen stopped, now letrozole, partial response"])
def test_fhir_words_on_how_the_later_drug_goes_are_not_read_as_why_the_first_stopped(text):
    # "stable disease" was read as tamoxifen's non-progression stop reason: the line count of
    # letrozole after tamoxifen (another class, CR C.2 step 1) was not asked
    state, _ = run(_statement(de_novo("p-sw-tail"), {"text": text}, "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == ["letrozole"]
    counted = [g.message for g in state.gaps if g.code == "line-count-unclear"]
    assert counted and "writes letrozole after tamoxifen, endocrine therapy of another class" in counted[0]


@pytest.mark.parametrize("text", ["Tamoxifen 2016-2021, now letrozole", "Tamoxifen (2016-2021), now letrozole",
                                  "Tamoxifen until 2021, now letrozole"])
def test_fhir_an_active_record_writing_the_years_of_the_first_drug_of_a_switch_is_on_the_later_drug(text):
    # read as tamoxifen + letrozole taken together, and "Stop tamoxifen before ribociclib"
    p = _statement(hr_positive_mbc("p-sw-years", primary="2016-03-01"), {"text": text}, "2016-06-01")
    state, cards = run(p)
    assert [d.name for d in state.therapy.current_drugs()] == ["letrozole"]
    assert not any("stop tamoxifen" in c.get("detail", "").lower() for c in cards)


def test_fhir_an_active_record_writing_three_endocrine_drugs_in_turn_is_on_the_last():
    # read as anastrozole + letrozole + exemestane taken together (three aromatase inhibitors)
    state, cards = run(_statement(de_novo("p-sw-chain"), {"text": "Anastrozole -> letrozole -> exemestane"},
                                  "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == ["exemestane"]
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on exemestane (metastatic line 1): the options below apply at progression." in detail
    assert "anastrozole (2024-02-01 to date unknown)" in detail and "letrozole (2024-02-01 to date unknown)" in detail


@pytest.mark.parametrize("text, drug", [("Fulvestrant after progression on letrozole", "fulvestrant"),
                                        ("Capecitabine (failed paclitaxel)", "capecitabine"),
                                        ("Elacestrant (after fulvestrant + palbociclib)", "elacestrant")])
def test_fhir_a_record_naming_the_drugs_the_cancer_progressed_on_counts_only_the_drug_given(text, drug):
    # "progression on letrozole" and the second drug of "after fulvestrant + palbociclib" made
    # a line of the record's drug with the drugs before it
    state, cards = run(_statement(after_ai_cdk46i("p-progressed-on"), {"text": text}))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"], [drug]]


@pytest.mark.parametrize("text, named", [
    ("Letrozol 2,5 mg", "a drug by a name the service does not know, whose INN stem is an anticancer class"),
    ("Aromatase inhibitor", "an aromatase inhibitor, not which one"),
    ("Endocrine therapy", "an endocrine therapy, not which drug"),
    ("Study drug (SERENA-4)", "a trial drug, not which one"),
    # qualifiers before the class words still name the record's drug
    ("Adjuvant aromatase inhibitor", "an aromatase inhibitor, not which one"),
])
def test_fhir_adjuvant_therapy_named_by_class_or_an_unknown_name_is_a_gap_not_an_endocrine_naive_relapse(text, named):
    # the record may be the adjuvant endocrine therapy: endocrine-naive (sensitive) would be a
    # guess; the unread record is named (gap medication-unreadable) instead of skipped
    p = hr_positive_mbc("p-unnamed", primary="2016-03-01")
    state, cards = run(_statement(p, {"text": text}, "2016-06-01", "2023-06-01"))
    assert state.therapy.endocrine_resistance == "unknown"
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    # the record's text quoted as written ("Letrozol 2,5 mg", not "letrozol")
    assert gap.message == ("Medication records whose drug could not be read, so lines of therapy may be missing: "
                           f"MedicationStatement/ms-7 (its text \"{text}\" names {named}).")
    assert any("Medication records whose drug could not be read" in c["detail"] for c in cards)


@pytest.mark.parametrize("text, may_be", [("Fulv", "fulvestrant"), ("TAM", "tamoxifen"), ("Palbo", "palbociclib"),
                                           ("Let", "letrozole"), ("Ana", "anastrozole"), ("Exe", "exemestane"),
                                           ("Everol", "everolimus"), ("Palbo 125 mg", "palbociclib")])
def test_fhir_adjuvant_therapy_written_only_as_an_abbreviation_is_named_not_skipped_in_silence(text, may_be):
    # the record was dropped in silence and the relapse read endocrine-naive (sensitive); an
    # abbreviated drug name is never read as a drug (ISMP error-prone abbreviations), but the
    # card says a medication record could not be read and quotes it
    p = hr_positive_mbc("p-abbr", primary="2016-03-01")
    state, cards = run(_statement(p, {"text": text}, "2016-06-01", "2023-06-01"))
    assert state.therapy.endocrine_resistance == "unknown"
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert (f'(its text "{text}" is an abbreviated drug name, not read as a drug (it may stand for {may_be}))'
            in gap.message)
    assert any(f'"{text}" is an abbreviated drug name' in c["detail"] for c in cards)
    assert state.therapy.exposures == []  # not mapped to a drug


def test_fhir_adjuvant_therapy_written_as_two_abbreviations_joined_is_named_not_skipped_in_silence():
    # "Letro + palbo" was read as a drug the pathway does not use: dropped in silence, the
    # relapse read endocrine-naive; each abbreviation is one the service never reads as a drug
    p = hr_positive_mbc("p-abbr2", primary="2016-03-01")
    state, cards = run(_statement(p, {"text": "Letro + palbo"}, "2016-06-01", "2023-06-01"))
    assert state.therapy.endocrine_resistance == "unknown"
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert ('(its text "Letro + palbo" names abbreviated drug names, not read as drugs (they may stand for '
            "letrozole and palbociclib))") in gap.message


@pytest.mark.parametrize("text", ["Fulvestrant - patient declined", "Fulvestrant (refused)",
                                  "Fulvestrant: not given, patient preference", "Fulvestrant - not started"])
def test_fhir_fulvestrant_written_as_refused_is_not_a_prior_line_and_fulvestrant_is_still_offered(text):
    # the refused fulvestrant counted as a second line given: fulvestrant looked tried (its
    # regimens withheld as already used); FHIR R4 not-taken / doNotPerform say "not given"
    p = _statement(after_ai_cdk46i("p-refused"), {"text": text}, "2025-06-01", "2025-06-20")
    state, cards = run(p)
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"]]
    assert any(g.code == "not-given" and text in g.message for g in state.ignored)
    assert "fulvestrant" in regimen_topics(cards)


@pytest.mark.parametrize("reason", [{"text": "Patient refused"},
                                    {"coding": [{"system": "http://snomed.info/sct", "code": "105480006",
                                                 "display": "Refusal of treatment by patient"}]}])
def test_fhir_fulvestrant_stopped_because_the_patient_refused_before_any_dose_is_still_offered(reason):
    # a stopped fulvestrant whose statusReason is the refusal and with only a date (no time of
    # use) counted as line 2 given: its regimens were withheld as already used (FHIR R4
    # MedicationStatement.statusReason: the reason for the status)
    p = after_ai_cdk46i("p-refused-reason")
    p.add({"resourceType": "MedicationStatement", "id": "ms-fulv-refused", "status": "stopped",
           "medicationCodeableConcept": {"text": "Fulvestrant 500 mg"}, "subject": p._subject(),
           "effectiveDateTime": "2025-06-01", "statusReason": [reason]})
    state, cards = run(p)
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"]]
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, after 1 line")
    assert "fulvestrant" in regimen_topics(cards)


def test_fhir_a_second_line_whose_fulvestrant_was_declined_inside_the_regimen_still_offers_fulvestrant():
    # "Fulvestrant (declined) + abemaciclib" read as fulvestrant + abemaciclib given: fulvestrant
    # looked tried and its regimens withheld; the refusal closes fulvestrant's own clause
    # (local_codes.yaml drug_mentions refused_after), only abemaciclib was given
    p = _statement(after_ai_cdk46i("p-refused-inside"), {"text": "Fulvestrant (declined) + abemaciclib"}, "2025-06-01")
    state, cards = run(p)
    assert [ln.names for ln in state.therapy.metastatic_lines] == [["letrozole", "ribociclib"], ["abemaciclib"]]
    assert "fulvestrant" in regimen_topics(cards)


@pytest.mark.parametrize("ended, followed, otherwise", [(None, False, "no progression on it yet"),
                                                        ("2025-05-20", True, "secondary resistance"),
                                                        ("2025-05-20", False, "no progression on it is documented")])
def test_fhir_a_progression_recorded_days_after_the_first_line_started_is_asked_about_not_read_as_primary_resistance(
        ended, followed, otherwise):
    # a disease status 'worsening' 4 days after letrozole + palbociclib started was read as a
    # progression on the line: primary resistance (ABC4, CR C.1) for a line given 15 months.
    # It may be the report that led to the line (CR C.2 step 1): the class is left unknown
    p = de_novo("p-at-start").regimen(("letrozole", "palbociclib"), "2024-02-01", ended).progression("2024-02-05")
    if followed:
        p.med("fulvestrant", "2025-05-25")
    state, cards = run(p)
    assert state.therapy.endocrine_resistance == "unknown"
    gap = next(g for g in state.gaps if g.code == "progression-at-line-start")
    assert gap.message.startswith("Disease progression is recorded on 2024-02-05, 4 days after metastatic line 1 "
                                  "(letrozole + palbociclib), the first endocrine line, started")
    assert f"if it led to the line, {otherwise}" in gap.message
    assert any("confirm what the report describes" in c["detail"] for c in cards)


def test_fhir_a_progression_two_weeks_or_more_into_the_first_line_is_still_primary_resistance():
    p = de_novo("p-after-start").regimen(("letrozole", "palbociclib"), "2024-02-01").progression("2024-02-15")
    state, _ = run(p)
    assert state.therapy.endocrine_resistance == "primary"
    assert all(g.code != "progression-at-line-start" for g in state.gaps)


def test_fhir_a_first_line_recorded_with_status_unknown_and_no_end_is_named_as_unknown_not_only_read_as_ended():
    # FHIR R4 status 'unknown': the authoring system does not know the status. It was read as
    # ended in silence ("after 1 line(s)"); it is still read so, but the summary names the question
    p = de_novo("p-unknown").med("letrozole", "2024-02-01", status="unknown").med("ribociclib", "2024-02-01",
                                                                                 status="unknown")
    state, cards = run(p)
    gap = next(g for g in state.gaps if g.code == "therapy-status-unknown")
    assert "status 'unknown'" in gap.message and "(letrozole)" in gap.message and "(ribociclib)" in gap.message
    assert any("Confirm whether the drug is still given" in c["detail"] for c in cards)


def test_fhir_a_first_line_with_status_unknown_and_a_recorded_end_raises_no_status_gap():
    p = de_novo("p-unknown").med("letrozole", "2024-02-01", "2025-05-20", status="unknown")
    state, _ = run(p)
    assert all(g.code != "therapy-status-unknown" for g in state.gaps)


def _drafted_text(text: str) -> list[DraftOrder]:
    return read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "mr-text", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {"text": text}}}]})


def _drafted_cards(text: str) -> list[dict]:
    """The order-sign cards for one MedicationRequest drafted as `text` for a de novo patient at first line."""
    state = de_novo("p-draft").state(FIRST_LINE_AS_OF)
    return [c.to_json() for c in order_cards(state, _drafted_text(text), None, "order-sign")]


@pytest.mark.parametrize("text, summaries", [
    ("Tamoxifen stopped, now letrozole",
     ["Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]),
    ("Exemestane; tamoxifen stopped",
     ["Exemestane drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]),
])
def test_fhir_a_drafted_order_writing_an_endocrine_switch_is_checked_as_the_drug_taken_after_it(text, summaries):
    # checked as tamoxifen + letrozole: "Tamoxifen drafted with letrozole: no labelled regimen
    # combines them — two endocrine agents", for a text writing tamoxifen as stopped
    assert [c["summary"] for c in _drafted_cards(text)] == summaries


def test_fhir_a_drafted_order_writing_a_switch_and_a_cdk46_inhibitor_is_not_warned_of_the_stopped_tamoxifen():
    # "Ribociclib: with tamoxifen — caution" for a tamoxifen the text writes as stopped
    summaries = [c["summary"] for c in _drafted_cards("Tamoxifen stopped, now letrozole + ribociclib")]
    assert not any("tamoxifen" in s.lower() for s in summaries), summaries


@pytest.mark.parametrize("text", ["Switch tamoxifen to letrozole", "Palbociclib, changed to ribociclib"])
def test_fhir_a_drafted_order_writing_a_switch_to_another_drug_is_not_checked_as_the_first(text):
    # checked in silence as a tamoxifen (palbociclib) order, or as two endocrine agents
    [got] = _drafted_cards(text)
    assert got["summary"] == "Drafted order not checked: its drug could not be read (MedicationRequest/mr-text)"
    # (a CDK4/6 inhibitor switch is read as the endocrine one is: "writes palbociclib as stopped or
    # switched from and ribociclib after it: which one it orders is not clear")
    assert "which one it orders is not clear" in got["detail"]


def test_fhir_an_active_record_writing_switch_to_as_an_instruction_is_on_the_first_drug_and_names_the_other():
    # read as tamoxifen + letrozole taken together: "Switch ... to" is an instruction, letrozole
    # not yet taken (FHIR R4 MedicationStatement.status intended); "Switched tamoxifen to
    # letrozole" is done: on letrozole
    state, _ = run(_statement(de_novo("p-sw-imp"), {"text": "Switch tamoxifen to letrozole at next visit"}, "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == ["tamoxifen"]
    assert any("also names letrozole" in g.message for g in state.gaps if g.code == "medication-unreadable")
    state, _ = run(_statement(de_novo("p-sw-done"), {"text": "Switched tamoxifen to letrozole"}, "2024-02-01"))
    assert [d.name for d in state.therapy.current_drugs()] == ["letrozole"]


def test_fhir_a_drafted_order_naming_only_the_drug_its_text_writes_as_switched_from_is_not_checked():
    # checked as a tamoxifen order in silence, its text writing that tamoxifen was switched to letrozole
    [got] = _drafted_cards("Tamoxifen (switched to letrozole)")
    assert got["summary"] == "Drafted order not checked: its drug could not be read (MedicationRequest/mr-text)"
    assert ('its text "Tamoxifen (switched to letrozole)" writes tamoxifen as stopped or switched from and letrozole '
            "after it: which one it orders is not clear") in got["detail"]


@pytest.mark.parametrize("text", ["Fulvestrant 500 mg IM declined palbociclib", "Fulvestrant; not started palbociclib",
                                  "Fulvestrant 500 mg IM q4w declined palbociclib"])
def test_fhir_a_drafted_order_writing_the_next_drug_as_refused_is_checked_as_the_drug_it_orders_alone(text):
    # read as fulvestrant + palbociclib, the order card said "Fulvestrant + palbociclib: not
    # indicated" for a CDK4/6 inhibitor the text says was declined / not started (a route after
    # the dose; "not started" before the name): checked as fulvestrant, as "Fulvestrant 500 mg;
    # declined palbociclib" is
    got = _drafted_cards(text)
    summaries = [c["summary"] for c in got]
    assert not any("palbociclib" in s.lower() for s in summaries), summaries
    assert any(s.startswith("Fulvestrant drafted without ribociclib") for s in summaries), summaries


@pytest.mark.parametrize("text", ["Fulvestrant; palbociclib not yet started", "Fulvestrant 500 mg IM | palbociclib declined"])
def test_fhir_a_drafted_order_whose_last_clause_writes_the_next_drug_as_not_started_is_checked_as_the_first_drug(text):
    # was "Drafted order not checked: its drug could not be read" (a refusal beside two drugs);
    # the refusal closes a clause of its own after ";" / "|": palbociclib's alone, as the history
    # reads it (fulvestrant given)
    summaries = [c["summary"] for c in _drafted_cards(text)]
    assert summaries == ["Fulvestrant drafted without ribociclib: Fulvestrant + CDK4/6 inhibitor is the labelled regimen"]


def test_fhir_a_drafted_order_writing_a_cdk46_inhibitor_as_optional_is_not_checked_as_that_regimen():
    # "Fulvestrant ± palbociclib" was checked as fulvestrant + palbociclib ("not indicated" warning)
    # though the order leaves palbociclib open: not checked, and why is said
    drafts = _drafted_text("Fulvestrant ± palbociclib")
    assert [o.drugs for o in drafts] == [[]]
    assert drafts[0].unreadable == ('its text "Fulvestrant ± palbociclib" writes palbociclib as optional: '
                                    "whether it orders palbociclib is not clear")
    state = de_novo("p-draft").state(FIRST_LINE_AS_OF)
    summaries = [c.to_json()["summary"] for c in order_cards(state, drafts, None, "order-sign")]
    assert summaries == ["Drafted order not checked: its drug could not be read (MedicationRequest/mr-text)"]


def test_fhir_a_drafted_order_for_a_drug_kept_for_intolerance_of_another_is_checked_as_its_own_drug_alone():
    # "Exemestane if letrozole not tolerated" was read as an order for exemestane + letrozole:
    # letrozole is the condition (local_codes.yaml drug_mentions planned_condition_after), as the
    # history reads it; the order is for exemestane
    drafts = _drafted_text("Exemestane if letrozole not tolerated")
    assert [[d.name for d in o.drugs] for o in drafts] == [["exemestane"]]
    # a drafted regimen kept for a progression is an order for the regimen (palbociclib was dropped)
    drafts = _drafted_text("Fulvestrant + palbociclib if progression")
    assert [[d.name for d in o.drugs] for o in drafts] == [["fulvestrant", "palbociclib"]]


@pytest.mark.parametrize("text", ["Palbociclib + AI", "Palbociclib 125 mg daily + AI", "Palbociclib 125 mg PO od + NSAI"])
def test_fhir_a_drafted_cdk46_inhibitor_with_an_unnamed_ai_says_the_partner_is_not_named_and_preselects_none(text):
    # read as palbociclib alone, the card said "drafted without letrozole" and pre-selected a
    # second AI order; the AI is drafted, only not named (CR A.5 classes: which AI cannot be checked)
    got = _drafted_cards(text)
    inc = card(got, "order-incomplete-regimen")
    assert inc["summary"].startswith("Palbociclib drafted with a partner not named")
    assert f'"{text}" also names an aromatase inhibitor, not which one' in inc["detail"]
    assert "drafted without" not in inc["detail"]
    assert not any(s.get("isRecommended") for s in inc["suggestions"])


@pytest.mark.parametrize("text", ["Letrozole + Palbo", "Letrozole 2.5 mg daily + palbo 125 mg"])
def test_fhir_a_drafted_ai_with_an_abbreviated_cdk46_inhibitor_preselects_no_second_cdk46_inhibitor(text):
    # read as letrozole alone, the card said "Letrozole drafted without ribociclib" and
    # pre-selected ribociclib beside the palbociclib the order abbreviates (ISMP: an
    # abbreviated drug name is not read as a drug, so which one cannot be checked)
    got = _drafted_cards(text)
    inc = card(got, "order-incomplete-regimen")
    assert inc["summary"].startswith("Letrozole drafted with a partner not named")
    assert "it may stand for palbociclib" in inc["detail"]
    assert not any(s.get("isRecommended") for s in inc["suggestions"])


def test_fhir_a_drafted_cdk46_inhibitor_alone_still_says_drafted_without_its_partner():
    got = _drafted_cards("Palbociclib 125 mg daily")
    inc = card(got, "order-incomplete-regimen")
    assert inc["summary"].startswith("Palbociclib drafted without letrozole")
    assert any(s.get("isRecommended") for s in inc["suggestions"])


@pytest.mark.parametrize("text", ["Paracetamol 500 mg", "Ondansetron (chemotherapy-induced nausea)",
                                  "Vitamin D for AI-induced bone loss", "Antiemetic for chemotherapy",
                                  # the record names its own drug first; the class words say what
                                  # else the patient takes (they flagged calcium, vitamin D and
                                  # sertraline as possibly a missing endocrine line)
                                  "Calcium carbonate 500 mg (patient on AI)", "Vitamin D3 - on AI therapy",
                                  "Sertraline for hot flushes on AI",
                                  # -ifene SERMs for osteoporosis / menopause (Evista, Duavee), not a
                                  # breast cancer line: not the tamoxifen group's INN stem
                                  "Raloxifene 60 mg", "Bazedoxifene/conjugated estrogens"])
def test_fhir_a_supportive_drug_naming_a_drug_class_as_its_reason_stays_silent(text):
    p = hr_positive_mbc("p-silent", primary="2016-03-01")
    state, _ = run(_statement(p, {"text": text}, "2016-06-01", "2023-06-01"))
    assert state.therapy.endocrine_resistance == "sensitive"
    assert all(g.code != "medication-unreadable" for g in state.gaps)


def test_fhir_a_record_whose_code_names_letrozole_but_whose_text_names_fulvestrant_is_named_not_read_by_its_code():
    # read by its code alone, the fulvestrant line was lost in silence and fulvestrant looked
    # untried; which drug was given is not known, so the record is named (as the draft-order
    # reader names such a draft: mappings.therapy.concept_conflict)
    p = _statement(after_ai_cdk46i("p-conflict"), {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "72965"}],
        "text": "Fulvestrant 500 mg IM"})
    state, cards = run(p)
    gap = next(g for g in state.gaps if g.code == "medication-unreadable")
    assert "(its code names letrozole but its text names fulvestrant)" in gap.message
    assert any("its code names letrozole but its text names fulvestrant" in c["detail"] for c in cards)


def test_fhir_fulvestrant_coded_with_the_rxnorm_oid_as_its_system_is_a_prior_fulvestrant_line():
    # FHIR R4 namingsystem-terminologies: RxNorm's OID is 2.16.840.1.113883.6.88 (C-CDA-derived
    # FHIR writes the system so); it was an unreadable record and fulvestrant looked untried
    p = _statement(after_ai_cdk46i("p-oid"), {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": "282357"}]})
    state, cards = run(p)
    assert [ln.names for ln in state.therapy.metastatic_lines][1:] == [["fulvestrant"]]
    assert "fulvestrant" not in regimen_topics(cards)
    assert all(g.code != "medication-unreadable" for g in state.gaps)


@pytest.mark.parametrize("ingredient, more", [
    ({"itemReference": {"reference": "Substance/fulv", "display": "Fulvestrant 250 mg/5 mL"}}, []),
    ({"itemReference": {"reference": "#fulv"}},
     [{"resourceType": "Substance", "id": "fulv",
       "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "282357"}]}}]),
])
def test_fhir_a_medication_whose_ingredient_is_a_reference_is_read_as_that_drug(ingredient, more):
    # FHIR R4 Medication.ingredient.item[x] is a CodeableConcept or a Reference(Substance |
    # Medication); the reference was not read: an unreadable record, fulvestrant offered as untried
    p = after_ai_cdk46i("p-ingredient")
    p.add({"resourceType": "MedicationStatement", "id": "ms-fulv", "status": "active", "subject": p._subject(),
           "effectivePeriod": {"start": "2025-06-01"}, "medicationReference": {"reference": "#med"},
           "contained": [{"resourceType": "Medication", "id": "med", "ingredient": [ingredient]}, *more]})
    state, cards = run(p)
    assert [ln.names for ln in state.therapy.metastatic_lines][1:] == [["fulvestrant"]]
    assert "fulvestrant" not in regimen_topics(cards)
    assert all(g.code != "medication-unreadable" for g in state.gaps)


# --- a chemotherapy course given while the endocrine line went on ----------

def _chemo_during_letrozole_palbociclib(pid: str, letrozole_end: str | None = None) -> FhirPatient:
    return (de_novo(pid).regimen(("letrozole", "palbociclib"), "2024-02-01", letrozole_end)
            .med("capecitabine", "2024-06-01", "2024-07-15"))


@pytest.mark.parametrize("letrozole_end", [None, "2025-03-01"])
def test_fhir_capecitabine_given_and_stopped_while_letrozole_palbociclib_went_on_says_the_line_count_is_unclear(
        letrozole_end):
    # CR C.2 step 1 counts the regimen change as line 2 and line 1 as progressed; the records
    # say line 1 went on after the capecitabine (with radiotherapy, for a crisis?): the summary
    # names the question instead of stating two lines silently
    state, cards = run(_chemo_during_letrozole_palbociclib("ln-beside", letrozole_end))
    summary = card(cards, "patient-summary")
    assert summary["summary"].endswith("8 data gaps")  # 7 without the question
    line = next(x for x in summary["detail"].splitlines() if "confirm the lines of therapy" in x)
    assert line.startswith("- capecitabine (2024-06-01 to 2024-07-15) was given while the endocrine therapy of "
                           "metastatic line 1 (letrozole + palbociclib) went on after it, without a documented "
                           "progression. It is counted as metastatic line 2")
    assert "MedicationStatement/med-capecitabine" in line and "MedicationStatement/med-letrozole" in line


def test_fhir_capecitabine_after_letrozole_palbociclib_stopped_is_a_second_line_without_a_line_count_question():
    state, cards = run(_chemo_during_letrozole_palbociclib("ln-after", letrozole_end="2024-05-25"))
    assert [ln.number for ln in state.therapy.metastatic_lines] == [1, 2]
    assert "line-count-unclear" not in {g.code for g in state.gaps}


def test_fhir_capecitabine_during_letrozole_palbociclib_after_a_documented_progression_raises_no_line_count_question():
    state, cards = run(_chemo_during_letrozole_palbociclib("ln-pd").progression("2024-05-20"))
    assert "line-count-unclear" not in {g.code for g in state.gaps}


# --- an aromatase inhibitor switched within its class without a recorded reason ---

def test_fhir_anastrozole_switched_to_letrozole_after_three_months_without_a_reason_names_the_question_in_the_summary():
    # CR C.2 step 1 reads the change as a progression (line 2, primary resistance by ABC4);
    # a stated reason keeps one line (next test), none is recorded here: the summary asks
    state, cards = run(de_novo("ln-ai-switch").med("anastrozole", "2024-02-01", "2024-05-01")
                       .med("letrozole", "2024-05-05"))
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert summary["summary"].endswith("8 data gaps")  # 7 without the question
    line = next(x for x in summary["detail"].splitlines() if "confirm why the drug was changed" in x)
    assert line.startswith("- letrozole (from 2024-05-05) replaced metastatic line 1 (anastrozole, from 2024-02-01) "
                           "with drugs of the same class, no reason or progression recorded. It is counted as "
                           "metastatic line 2")


def test_fhir_anastrozole_switched_to_letrozole_for_arthralgia_stays_line_one_without_a_question():
    state, cards = run(de_novo("ln-ai-arthralgia").med("anastrozole", "2024-02-01", "2024-05-01",
                                                       stopped_for="Arthralgia").med("letrozole", "2024-05-05"))
    assert card(cards, "patient-summary")["summary"].startswith("HR+/HER2-low MBC, on line 1;")
    assert not {"regimen-switch-unclear", "line-count-unclear"} & {g.code for g in state.gaps}


def test_fhir_anastrozole_switched_to_letrozole_after_seven_months_is_a_second_line_without_a_question():
    state, cards = run(de_novo("ln-ai-late").med("anastrozole", "2024-02-01", "2024-09-01")
                       .med("letrozole", "2024-09-05"))
    assert len(state.therapy.metastatic_lines) == 2
    assert "regimen-switch-unclear" not in {g.code for g in state.gaps}


# --- endocrine therapy started shortly before the metastatic date -------------

@pytest.mark.parametrize("started, days", [("2023-12-06", 40), ("2023-10-17", 90)])
def test_fhir_letrozole_first_started_weeks_before_the_metastatic_date_is_read_as_adjuvant_and_the_summary_asks(
        started, days):
    # ABC4 (CR C.1) reads a recurrence on adjuvant ET as primary resistance; had the letrozole
    # been started for the metastatic disease, it would be line 1 (CR C.2 step 1)
    state, cards = run(hr_positive_mbc("ln-near", primary="2016-03-01").med("letrozole", started), FIRST_LINE_AS_OF)
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, first line;")
    line = next(x for x in summary["detail"].splitlines() if "confirm when the metastatic disease was found" in x)
    assert line.startswith(f"- letrozole started {started}, {days} days before the metastatic date 2024-01-15, and "
                           "was still given at it, with no endocrine therapy before it. It is read as adjuvant")


@pytest.mark.parametrize("started", ["2023-10-16", "2023-12-26"])
def test_fhir_letrozole_started_more_than_90_or_at_most_30_days_before_the_metastatic_date_raises_no_setting_question(
        started):
    state, cards = run(hr_positive_mbc("ln-far", primary="2016-03-01").med("letrozole", started), FIRST_LINE_AS_OF)
    assert "therapy-setting-unclear" not in {g.code for g in state.gaps}


def test_fhir_an_adjuvant_switch_to_letrozole_weeks_before_the_relapse_after_years_of_tamoxifen_raises_no_setting_question():
    state, cards = run(hr_positive_mbc("ln-switch", primary="2016-03-01").med("tamoxifen", "2016-06-01", "2023-12-01")
                       .med("letrozole", "2023-12-06"), FIRST_LINE_AS_OF)
    assert "therapy-setting-unclear" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("started, metastatic, written", [
    # a start without a day: its last day (2023-10-31) is 76 days before the metastatic date
    ("2023-10", "2024-01-15", "letrozole started in 2023-10 (no day given), 76 to 106 days before the metastatic "
                              "date 2024-01-15"),
    # a metastatic date without a day is written as recorded, not as its first day
    ("2023-11-01", "2024-01", "letrozole started 2023-11-01, 61 to 91 days before the metastatic date in 2024-01 "
                              "(no day given)"),
])
def test_fhir_letrozole_started_weeks_before_the_metastatic_date_written_without_a_day_asks_and_writes_the_dates_as_recorded(
        started, metastatic, written):
    # the window was measured from the first day a partial date can mean: "2023-10" (possibly
    # 76 days before) raised no question, and a month was written as its first day
    state, cards = run(hr_positive_mbc("ln-near-partial", primary="2016-03-01", metastatic=metastatic)
                       .med("letrozole", started), dt.date(2024, 3, 1))
    line = next(x for x in card(cards, "patient-summary")["detail"].splitlines()
                if "confirm when the metastatic disease was found" in x)
    assert line.startswith(f"- {written}, and was still given at it")


def test_fhir_a_second_aromatase_inhibitor_switch_without_a_reason_is_asked_though_the_first_had_one():
    # anastrozole stopped for arthralgia, letrozole then replaced by exemestane with no reason:
    # the first switch's reason was read for the second, one silent line of three AIs
    state, cards = run(de_novo("ln-ai-twice").med("anastrozole", "2024-02-01", "2024-04-01", stopped_for="Arthralgia")
                       .med("letrozole", "2024-04-05", "2024-06-01").med("exemestane", "2024-06-05"))
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    line = next(x for x in summary["detail"].splitlines() if "confirm why the drug was changed" in x)
    assert line.startswith("- exemestane (from 2024-06-05) replaced metastatic line 1 (anastrozole + letrozole, "
                           "from 2024-02-01) with drugs of the same class, no reason or progression recorded.")


def test_fhir_two_unexplained_aromatase_inhibitor_switches_in_a_row_are_both_named_in_the_question():
    # both switches are counted as progressions (line 3); the gap named the first only
    state, cards = run(de_novo("ln-ai-two").med("anastrozole", "2024-02-01", "2024-04-01")
                       .med("letrozole", "2024-04-05", "2024-06-01").med("exemestane", "2024-06-05"))
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("HR+/HER2-low MBC, on line 3;")
    line = next(x for x in summary["detail"].splitlines() if "confirm why the drug was changed" in x)
    assert line.startswith("- letrozole (from 2024-04-05) replaced metastatic line 1 (anastrozole, from 2024-02-01)")
    assert ("exemestane (from 2024-06-05) replaced metastatic line 2 (letrozole, from 2024-04-05) with drugs of the "
            "same class, no reason or progression recorded. It is counted as metastatic line 3") in line
    assert "MedicationStatement/med-exemestane" in line


# --- an ECOG score not final (FHIR R4 ObservationStatus registered / preliminary / unknown) ---

@pytest.mark.parametrize("status", ["preliminary", "registered", "unknown", "Preliminary", "Preliminary "])
def test_fhir_an_ecog_score_not_final_is_shown_with_its_date_and_status_on_the_summary(status):
    p = after_ai_cdk46i(f"ecog-{status}").ecog(3, "2025-06-01", status=status)
    _, cards = run(p)
    line = next(ln for ln in _summary(cards).splitlines() if ln.startswith("- ECOG"))
    assert line.startswith(f"- ECOG 3 (2025-06-01, status {status.strip().lower()}: not final) — Observation/")


def test_fhir_a_final_ecog_score_is_shown_without_a_status():
    p = after_ai_cdk46i("ecog-final").ecog(1, "2025-06-01")
    _, cards = run(p)
    assert "- ECOG 1 — Observation/" in _summary(cards)


@pytest.mark.parametrize("gender", ["other", "unknown", "female"])
def test_fhir_a_patient_under_60_of_gender_other_or_unknown_without_a_menopausal_status_gets_the_unknown_status_caution(gender):
    # Patient.gender "other" (FHIR R4: neither male nor female) may have ovaries, as "unknown"
    # may: its menopausal status unknown was a gap without the card caution (CR A.3 unknown ->
    # ask; C.3 row 15 pre/perimenopausal needs OFS)
    state, cards = run(de_novo(f"fl-meno-{gender}", gender=gender, birth="1982-01-01", menopause=None), FIRST_LINE_AS_OF)
    assert state.factors.menopausal_status == "unknown"
    ai = card(cards, "ai-cdk46i")
    assert ai["indicator"] == "warning" and "caution: menopausal status unknown" in ai["summary"]
    assert "Menopausal status not documented: if pre/perimenopausal" in ai["detail"]


BIRTH_SEX_URL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"


def test_fhir_a_man_recorded_with_gender_other_gets_the_lhrh_agonist_for_men_not_the_menopausal_caution():
    # Patient.gender "other" with US Core birth sex M: the AI + CDK4/6i card cautioned "menopausal
    # status unknown" (for a man: CR A.3 men, no menopausal status) and added no LHRH agonist (C.3
    # row 16; Ibrance label). Now the man's rule, and the cards say which sex they used
    p = de_novo("fl-other-male", gender="other", birth="1980-05-01", menopause=None)
    p.resources[0]["extension"] = [{"url": BIRTH_SEX_URL, "valueCode": "M"}]
    state, cards = run(p, FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert "menopausal status unknown" not in ai["summary"]
    assert all(c[-1] == "goserelin" for c in suggestion_drugs(ai))
    assert ("Man without a documented LHRH agonist (sex read from birth sex (US Core) male; Patient.gender gives "
            "no sex)") in ai["detail"]
    summary = card(cards, "patient-summary")["detail"]
    assert "- male (read from birth sex (US Core) male; Patient.gender gives no sex), age 43" in summary


def test_fhir_a_woman_recorded_with_gender_other_keeps_the_menopausal_caution_and_says_the_sex_used():
    p = de_novo("fl-other-female", gender="other", birth="1980-05-01", menopause=None)
    p.resources[0]["extension"] = [{"url": BIRTH_SEX_URL, "valueCode": "F"}]
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert "caution: menopausal status unknown" in card(cards, "ai-cdk46i")["summary"]
    assert "- female (read from birth sex (US Core) female; Patient.gender gives no sex)" in \
        card(cards, "patient-summary")["detail"]


def test_fhir_a_patient_of_gender_other_aged_60_or_more_is_read_postmenopausal_by_age_without_the_caution():
    state, cards = run(de_novo("fl-meno-other-60", gender="other", birth="1958-01-01", menopause=None), FIRST_LINE_AS_OF)
    assert state.factors.menopausal_basis == "age-rule"
    assert "menopausal status unknown" not in card(cards, "ai-cdk46i")["summary"]


def test_fhir_a_premenopausal_woman_whose_only_goserelin_record_is_an_order_from_years_ago_needs_ovarian_suppression():
    # an "active" goserelin MedicationRequest authored in 2019, no implant or statement since,
    # was read as ongoing OFS: the AI + CDK4/6i card was plain info without goserelin (a depot
    # lasts 28 days / 12 weeks, DailyMed Zoladex; CR A.3, C.3 row 15)
    p = de_novo("fl-ofs-stale", birth="1982-01-01", menopause="premenopausal")
    p.add({"resourceType": "MedicationRequest", "id": "rx-goserelin-old", "status": "active", "intent": "order",
           "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                     "code": "50610", "display": "goserelin"}]},
           "subject": {"reference": "Patient/fl-ofs-stale"}, "authoredOn": "2019-03-01"})
    state, cards = run(p, FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert "caution: needs ovarian suppression" in ai["summary"] and ai["indicator"] == "warning"
    assert all("goserelin" in c for c in suggestion_drugs(ai))
    gap = next(g for g in state.gaps if g.code == "ovarian-suppression-not-current")
    assert "MedicationRequest/rx-goserelin-old dated 2019-03-01" in gap.message


def test_fhir_a_goserelin_order_not_counted_as_ongoing_suppression_is_not_listed_as_current_therapy():
    # was: "Currently on goserelin + letrozole + ribociclib" beside the gap saying the order is not
    # counted as ongoing ovarian suppression (no dose recorded since; CR A.3, C.3 row 15)
    p = de_novo("fl-ofs-stale-current", birth="1982-01-01", menopause="premenopausal").regimen(
        ("letrozole", "ribociclib"), "2024-02-01")
    p.add({"resourceType": "MedicationRequest", "id": "rx-gos", "status": "active", "intent": "order",
           "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                     "code": "50610", "display": "goserelin"}]},
           "subject": {"reference": "Patient/fl-ofs-stale-current"}, "authoredOn": "2024-02-01"})
    state, cards = run(p, dt.date(2024, 9, 1))
    assert "ovarian-suppression-not-current" in {g.code for g in state.gaps}
    assert "- Currently on letrozole + ribociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]
    # given recently, it is current
    p.add({"resourceType": "MedicationAdministration", "id": "ma-gos", "status": "completed",
           "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                     "code": "50610", "display": "goserelin"}]},
           "subject": {"reference": "Patient/fl-ofs-stale-current"}, "effectiveDateTime": "2024-08-20"})
    _, cards = run(p, dt.date(2024, 9, 1))
    assert "- Currently on goserelin + letrozole + ribociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]


def _prolonged_qt(p: FhirPatient, onset: str, text: str | None = None) -> FhirPatient:
    code = {"coding": [{"system": "http://snomed.info/sct", "code": "111975006", "display": "Prolonged QT interval"}]}
    if text:
        code = {"text": text}
    return p._condition(code, onset, "prolonged-qt")


@pytest.mark.parametrize("text", [None, "QTc prolongation", "Prolonged QTc (drug-induced)"])
def test_fhir_a_prolonged_qt_interval_recorded_as_a_condition_without_a_qtc_makes_ribociclib_a_warning(text):
    # CR B.10 Kisqali row "start only if QTcF <450 ms", C.2 safety overlays: a Condition "Prolonged
    # QT interval" (SNOMED CT 111975006 or the words) with no QTc Observation was not read, and
    # letrozole + ribociclib was recommended as plain info
    state, cards = run(_prolonged_qt(de_novo(f"pqt-{len(text or '')}"), "2023-11-02", text), FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert recommended(ai) == ["letrozole", "abemaciclib"] and ai["indicator"] == "warning"
    assert ai["summary"].endswith("caution: ribociclib prolonged QT interval")
    assert "Prolonged QT interval recorded, no QTc known to be measured since: ribociclib is not the recommended" in ai["detail"]
    assert ("- Prolonged QT interval documented (2023-11-02), no QTc measured since — Condition/prolonged-qt-"
            in card(cards, "patient-summary")["detail"])
    order = _order(state, [_draft("ribociclib", "cdk46i", "1873980"), _draft(*LETROZOLE)])
    assert any("prolonged QT interval" in c["summary"] and c["indicator"] == "warning" for c in order)


def test_fhir_a_prolonged_qt_interval_followed_by_a_normal_qtc_leaves_ribociclib_recommended():
    # the QTc measured since decides (qtc_450_or_more); an earlier one does not
    state, cards = run(_prolonged_qt(de_novo("pqt-then-qtc"), "2023-11-02").qtc(430, "2024-01-20"), FIRST_LINE_AS_OF)
    assert recommended(card(cards, "ai-cdk46i")) == ["letrozole", "ribociclib"]
    state, cards = run(_prolonged_qt(de_novo("qtc-then-pqt"), "2024-01-25").qtc(430, "2023-06-01"), FIRST_LINE_AS_OF)
    assert recommended(card(cards, "ai-cdk46i")) == ["letrozole", "abemaciclib"]


def test_fhir_an_undated_prolonged_qt_interval_beside_a_qtc_does_not_say_no_qtc_was_measured_since():
    # was: "Prolonged QT interval documented (date unknown), no QTc measured since" beside a QTc of
    # 430 ms: which came first cannot be told (no onset, no recordedDate); the warning stays
    p = _prolonged_qt(de_novo("pqt-undated"), None).qtc(430, "2024-01-20")
    state, cards = run(p, FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert ai["summary"].endswith("caution: ribociclib prolonged QT interval")
    assert "no QTc measured since" not in ai["detail"]
    assert "Prolonged QT interval recorded, no QTc known to be measured since" in ai["detail"]
    assert ("- Prolonged QT interval documented (date unknown); QTc 430 ms on 2024-01-20 may be older or newer "
            "— Condition/prolonged-qt-") in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text, gap", [("No QT prolongation", None), ("QT prolongation ruled out", None),
                                       ("Possible QT prolongation", "qt-prolongation-unconfirmed"),
                                       ("Abnormal ECG", None)])
def test_fhir_a_negated_or_suspected_prolonged_qt_interval_leaves_ribociclib_recommended(text, gap):
    state, cards = run(_prolonged_qt(de_novo(f"pqt-not-{len(text)}"), "2023-11-02", text), FIRST_LINE_AS_OF)
    assert recommended(card(cards, "ai-cdk46i")) == ["letrozole", "ribociclib"]
    assert (gap in {g.code for g in state.gaps}) if gap else not any("qt" in g.code for g in state.gaps)


def test_fhir_long_qt_syndrome_and_a_prolonged_qt_interval_give_the_long_qt_caution_once():
    state, cards = run(_prolonged_qt(de_novo("lqt-and-pqt").long_qt("2019-03"), "2023-11-02"), FIRST_LINE_AS_OF)
    ai = card(cards, "ai-cdk46i")
    assert ai["summary"].endswith("caution: ribociclib long QT syndrome")


@pytest.mark.parametrize("status", ["Resolved", "INACTIVE", " Remission"])
def test_fhir_a_type_1_diabetes_whose_clinical_status_is_resolved_in_another_case_is_asked_about_not_a_stop(status):
    # clinicalStatus "Resolved" is no condition-clinical code (case-sensitive): it was read as no
    # status, so the type 1 diabetes stood as current: "do not start: type 1 diabetes" on the
    # PI3K/AKT cards (C.3 row 14). The record probably means it no longer applies, which cannot
    # be told: the caution names it and asks, as for a visceral crisis (FHIR R4 clinicalStatus)
    p = _pik3ca_with_normal_glucose(f"dm1-miscased-{status.strip().lower()}").diabetes(1, "2015-06-10")
    p.resources[-1]["clinicalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                     "code": status}]}
    state, cards = run(p)
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["summary"].endswith(" — caution: diabetes not confirmed") and capi["indicator"] == "warning"
    assert "type 1 diabetes" not in _summaries(cards)
    gap = next(g for g in state.gaps if g.code == "diabetes-unconfirmed")
    assert f'type 1 (clinicalStatus "{status.strip()}", not a condition-clinical code)' in gap.message


def test_fhir_a_type_1_diabetes_with_clinical_status_active_or_none_still_stops_the_pi3k_akt_inhibitors():
    for status in ("active", None):
        p = _pik3ca_with_normal_glucose(f"dm1-status-{status}").diabetes(1, "2015-06-10")
        if status is None:
            del p.resources[-1]["clinicalStatus"]
        _, cards = run(p)
        assert "do not start: type 1 diabetes" in card(cards, "capivasertib-fulvestrant")["summary"]


@pytest.mark.parametrize("type_, text", [
    (1, "Type 1 diabetes - resolved"), (2, "Diabetes mellitus (refuted)"), (2, "Type 2 diabetes in remission"),
    (2, "History of gestational diabetes"),
])
def test_fhir_a_diabetes_whose_text_says_resolved_refuted_or_gestational_is_asked_about_not_counted(type_, text):
    # the code says diabetes and the status active, the words say it is over, ruled out or was
    # gestational (FHIR R4 clinicalStatus / verificationStatus said in words; CR A.4, C.3 row 14):
    # no type 1 stop and no type 2 caution on it, the caution names the words and asks
    p = _pik3ca_with_normal_glucose(f"dm-text-{type_}-{len(text)}").diabetes(type_, "2015-06-10")
    p.resources[-1]["code"]["text"] = text
    state, cards = run(p)
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["summary"].endswith(" — caution: diabetes not confirmed") and capi["indicator"] == "warning"
    gap = next(g for g in state.gaps if g.code == "diabetes-unconfirmed")
    assert f'type {type_} (written "{text}")' in gap.message
    assert state.factors.diabetes.status == "none-documented"


@pytest.mark.parametrize("code, text, read", [
    ("44054006", "Mother: type 2 diabetes", 'type 2 (coded 44054006 as diabetes, written "Mother: type 2 diabetes"'),
    ("44054006", "Family history of type 2 diabetes", 'type 2 (coded 44054006 as diabetes, written "Family history of'),
    ("Z83.3", "Type 2 diabetes", "type 2 (coded Z83.3, a family history of diabetes"),
])
def test_fhir_a_diabetes_whose_code_and_words_disagree_on_whose_it_is_is_asked_about_not_counted(code, text, read):
    # pf4: a relative's diabetes coded as the patient's (44054006 / E11) with words naming the relative was
    # counted by its code ("caution: type 2 diabetes"); a diabetes written on a Condition coded as a family
    # history (ICD-10-CM Z83.3) by its words. Whose diabetes it is the record does not settle: the
    # caution names it as not confirmed and asks (CR A.4 a diagnosis of the patient's; FHIR R4 FamilyMemberHistory)
    p = _pik3ca_with_normal_glucose(f"dm-disagree-{code}-{len(text)}").diabetes(2, "2015-06-10")
    p.resources[-1]["code"] = ({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}], "text": text}
                               if code.startswith("Z") else dict(p.resources[-1]["code"], text=text))
    state, cards = run(p)
    capi = card(cards, "capivasertib-fulvestrant")
    assert capi["summary"].endswith(" — caution: diabetes not confirmed") and capi["indicator"] == "warning"
    assert read in next(g for g in state.gaps if g.code == "diabetes-unconfirmed").message
    assert state.factors.diabetes.status == "none-documented"


def test_fhir_a_coded_diabetes_written_after_a_relative_told_of_it_or_beside_a_family_history_is_still_counted():
    for text in ("Mother informed: type 2 diabetes", "Type 2 diabetes; family history of diabetes"):
        p = _pik3ca_with_normal_glucose(f"dm-agree-{len(text)}").diabetes(2, "2015-06-10")
        p.resources[-1]["code"]["text"] = text
        state, _ = run(p)
        assert state.factors.diabetes.status == "type2-untreated"
        assert "diabetes-unconfirmed" not in {g.code for g in state.gaps}


def test_fhir_hyperglycaemia_resolved_beside_a_type_2_diabetes_keeps_the_diabetes():
    p = _pik3ca_with_normal_glucose("dm-text-kept").diabetes(2, "2015-06-10")
    p.resources[-1]["code"]["text"] = "Steroid hyperglycaemia resolved, type 2 diabetes mellitus"
    state, _ = run(p)
    assert state.factors.diabetes.status == "type2-untreated"
    assert "diabetes-unconfirmed" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("text", ["Worsening liver function and liver metastases", "Liver metastases and LFTs worse",
                                  "Worse fatigue and liver mets"])
def test_fhir_a_disease_status_joining_the_cancer_to_a_worse_organ_function_by_and_is_a_progression(text):
    # was: not counted, asked as 'a symptom written as worse, not the cancer', though the worse
    # word is said of the metastases too ('Worsening liver metastases and liver function' was a
    # progression already); CR C.2 step 1, mCODE CancerDiseaseStatus
    state, cards = run(_first_line_stopped_for_neutropenia("ds-joined").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression == dt.date(2025, 5, 20)
    assert "disease status leaves the progression open" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Bone metastases, pain worse", "Stable metastases and worse pain",
                                  "Worsening LFTs and known liver metastases", "Worsening pain and bone metastases unchanged",
                                  "Worsening pain and possible new lesions"])
def test_fhir_a_worse_symptom_after_a_comma_or_beside_a_stable_cancer_is_still_no_progression(text):
    state, cards = run(_first_line_stopped_for_neutropenia("ds-joined-not").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression is None


def test_fhir_a_pending_result_dated_by_month_only_says_the_least_it_has_waited():
    # was: 'not final after 30 days' for a preliminary ESR1 result dated '2025-06' read on
    # 2025-07-01, counted from the month's first day though it may be from its last
    p = after_ai_cdk46i("esr1-month").variant("ESR1", "p.Y537S", on="2025-06", status="preliminary")
    _, cards = run(p)
    detail = card(cards, "test-esr1")["detail"]
    assert "2025-06, preliminary result, not final after at least 1 day)" in detail
    assert "not final after 30 days" not in detail


def test_fhir_a_pending_genomic_result_dated_by_month_only_is_named_with_its_month_not_a_first_day():
    # was: 'ESR1 p.Y537S detected (2025-06-01, status preliminary)': a day the record does not give
    p = after_ai_cdk46i("esr1-month-gap").variant("ESR1", "p.Y537S", on="2025-06", status="preliminary")
    state, _ = run(p)
    gap = next(g for g in state.gaps if g.code == "genomic-result-not-final")
    assert gap.message.startswith("ESR1 p.Y537S detected (2025-06, status preliminary): not final")


def test_fhir_a_liver_metastasis_coded_c78_7_whose_text_names_the_breast_primary_dates_the_relapse():
    # "Liver metastases from breast cancer" coded C78.7 was read as a breast primary by its
    # text: no metastatic date, resistance unknown, an ESR1 test pre-selected; now the liver
    # metastasis of 2024-01-15, two years after adjuvant letrozole: endocrine-sensitive
    p = FhirPatient("fl-c78-breast-named").primary("2016-03-01")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.7"}],
                  "text": "Liver metastases from breast cancer"}, "2024-01-15", "met")
    p.er("positive", "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15")
    p.menopause("postmenopausal", "2024-01-15").med("letrozole", "2016-06-01", "2021-12-31")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert [s.site for s in state.disease.sites] == ["liver"] and state.therapy.endocrine_resistance == "sensitive"
    assert ordered_tests(cards) == ["test-pik3ca-akt1-pten", "test-germline-brca"]


def test_fhir_a_stage_iv_coded_with_a_pmx_text_stays_first_line_de_novo_and_the_summary_names_the_conflict():
    # the stage group coded stage IV (AJCC "4") with the text "pMX" was read as stage IV and the
    # text dropped silently; it still is stage IV (the code), and the data gaps name the text
    p = de_novo("st-conflict")
    p._obs("stage", {"coding": [{"system": "http://loinc.org", "code": "21908-9"}]}, "2024-01-12",
           valueCodeableConcept={"coding": [{"system": "http://cancerstaging.org", "code": "4"}], "text": "pMX"})
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.endocrine_resistance == "de-novo"
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert ('- Stage group IV (21908-9), 2024-01-12, coded stage IV but its text reads "pMX". Read as the code '
            "(AJCC stage IV is M1): confirm the stage." in card(cards, "patient-summary")["detail"])


def test_fhir_a_metastasis_dated_seven_months_before_the_diagnosis_is_named_with_both_dates_not_as_none_found():
    # outside the 92-day de novo window: not counted, the conflict names the diagnosis date and
    # the metastasis date it saw; the status line said "No metastatic site ... was found"
    # beside it, now "was counted"
    state, cards = run(hr_positive_mbc("win-7m", primary="2024-01-10", metastatic="2023-06-01"), FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    detail = card(cards, "patient-summary")["detail"]
    assert ("- Metastasis dated before the breast cancer diagnosis (2024-01-10): Secondary malignant neoplasm of bone "
            "(94222008), 2023-06-01. It may be an earlier cancer's" in detail)
    assert ("- No metastatic site, M1 category or stage IV was counted (the gaps above say what was found and why "
            "not): metastatic status unknown." in detail)
    assert "was found: metastatic status unknown" not in detail


@pytest.mark.parametrize("text", ["Progression vs pseudoprogression", "Flare vs progression", "DDx: progression vs treatment effect",
                                  "New lesion - likely benign", "Oligoprogression in bone",
                                  # was a progression: the words between "progressive" and "versus"
                                  "Progressive disease versus stable disease"])
def test_fhir_a_disease_status_weighing_progression_against_another_reading_or_a_benign_new_lesion_is_asked(text):
    # was: a progression (T-DXd offered, resistance "secondary") for the first four, silently
    # nothing for "Oligoprogression"; condition-ver-status "differential", RECIST 1.1 (a new lesion
    # must be unequivocal); whether an oligoprogression ended the line no source says
    state, cards = run(_first_line_stopped_for_neutropenia("ds-weighed").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression is None
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert (f"A cancer disease status leaves the progression open and is not counted as one: written '{text}' "
            "(2025-05-15). Confirm whether the disease progressed") in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Non-PD", "Non-CR/non-PD"])
def test_fhir_a_disease_status_written_non_pd_is_no_progression_and_offers_no_tdxd(text):
    # RECIST 1.1 non-target response "Non-CR/Non-PD": neither a response nor a progression; was
    # read as a progression ("PD")
    state, cards = run(_first_line_stopped_for_neutropenia("ds-non-pd").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression is None
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "disease status leaves the progression open" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Progression vs baseline", "New liver lesions, benign-appearing bone island",
                                  # was asked (fix-dz): a comparison with a dated scan
                                  "Progression vs 2024 scan", "Progression vs CT of 03/2024",
                                  # was no progression: the ruled-out words are the pseudoprogression's
                                  "Progression, pseudoprogression excluded", "Progression, ddx pseudoprogression excluded",
                                  # was no progression: the differential is excluded, not the progression
                                  "Progression (ddx excluded)", "New lesions (DDx excluded)"])
def test_fhir_a_disease_status_comparing_with_baseline_or_naming_a_benign_finding_beside_new_lesions_is_a_progression(text):
    state, cards = run(_first_line_stopped_for_neutropenia("ds-still-pd").disease_status("2025-05-15", text))
    assert state.therapy.last_endocrine_progression == dt.date(2025, 5, 20)
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)


def test_fhir_a_relatives_metastatic_breast_cancer_on_the_problem_list_puts_no_patient_on_the_mbc_pathway():
    # "Family history of metastatic breast cancer" was read as the patient's metastatic disease:
    # an early breast cancer got first-line MBC regimens. A relative's cancer is not the
    # patient's (FHIR R4 FamilyMemberHistory; vocabulary relative_words)
    p = FhirPatient("fam-hx").primary("2024-01-10")
    p._condition({"text": "Family history of metastatic breast cancer"}, "2024-01-10", "fhx")
    p.er("positive", "2024-01-12").pr("positive", "2024-01-12").her2("1+", "2024-01-12")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic disease not documented")


def test_fhir_an_early_breast_cancer_written_with_axillary_nodal_metastases_gets_no_mbc_regimens_and_is_asked():
    # "Left breast IDC with axillary nodal metastases" on the primary made the disease
    # metastatic: first-line MBC regimens for a node-positive early breast cancer (AJCC N, not M1)
    p = FhirPatient("nodal-text")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.912"}],
                  "text": "Left breast IDC with axillary nodal metastases"}, "2024-01-10", "primary")
    p.er("positive", "2024-01-12").pr("positive", "2024-01-12").her2("1+", "2024-01-12")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert ('lymph-node ("nodal metastases" in the text: lymph-node metastases only, regional (N, early breast '
            "cancer) or distant (M1) not stated)") in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Pleural effusion, malignant", "Malignant pericardial effusion", "Carcinomatous meningitis"])
def test_fhir_a_metastasis_written_as_a_malignant_effusion_or_carcinomatous_meningitis_gets_first_line_mbc_regimens(text):
    # was: "Outside the HR+/HER2- MBC pathway: Metastatic disease not documented" (not read)
    p = FhirPatient("effusion").primary("2024-01-10")
    p._condition({"text": text}, "2024-01-15", "met")
    p.er("positive", "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "yes" and regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


@pytest.mark.parametrize("condition,asked", [
    ({"text": "Malignant pleural effusion, cytology negative"}, 'pleura ("cytology negative" in the text)'),
    ({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C79.81"}]},
     "breast (coded C79.81: a metastasis to the breast, from this breast cancer or from another cancer, not stated)")])
def test_fhir_a_malignant_effusion_with_negative_cytology_or_a_metastasis_to_the_breast_gets_no_mbc_regimens_and_is_asked(
        condition, asked):
    # was: a pleural (visceral) metastasis / a metastasis at an "other" site: first-line MBC
    # regimens on a diagnosis the cytology did not make, or on a metastasis TO the breast (CR A.4
    # caution: "not MBC")
    p = FhirPatient("not-mbc").primary("2024-01-10")
    p._condition(condition, "2024-01-15", "met")
    p.er("positive", "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert asked in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("code,regimens", [("C77.3", []), ("C77.2", ["ai-cdk46i", "fulvestrant-cdk46i"])])
def test_fhir_axillary_nodes_coded_alone_get_no_mbc_regimens_and_are_asked_intra_abdominal_ones_do(code, regimens):
    # (ds) a C77.3 Condition (axillary and upper limb nodes) alone gave first-line MBC regimens:
    # ipsilateral axillary nodes are regional (AJCC 8th edition N), contralateral ones M1, and the
    # code does not say which; intra-abdominal nodes (C77.2) are distant (M1)
    p = FhirPatient("nodes-coded").primary("2024-01-10")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]}, "2024-01-15", "met")
    p.er("positive", "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards) == regimens
    asked = ("lymph-node (lymph-node metastases only, regional (N, ipsilateral axillary, internal mammary or "
             "supraclavicular) or distant (M1) not stated)")
    assert (asked in card(cards, "patient-summary")["detail"]) is (not regimens)


def test_fhir_a_liver_metastasis_coded_c78_7_whose_text_gives_its_biopsy_receptors_gets_first_line_mbc_regimens():
    # (rt44) "HER2 negative" in the text of a Condition coded C78.7 read as words against the code
    # (fix-ds coded_text_against): "Outside the HR+/HER2- MBC pathway", no regimen
    p = FhirPatient("coded-liver-receptors").primary("2024-01-10")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.7"}],
                  "text": "Liver lesion biopsy: breast carcinoma, ER positive, HER2 negative"}, "2024-01-15", "met")
    p.er("positive", "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "Site: liver (visceral)" in card(cards, "patient-summary")["detail"]


def test_fhir_a_breast_cancer_written_with_mediastinal_nodal_metastases_gets_first_line_mbc_regimens():
    # was: asked "regional (N, early breast cancer) or distant (M1) not stated", no regimen; AJCC
    # 8th edition: nodes outside the ipsilateral axillary, internal mammary and supraclavicular are M1
    p = FhirPatient("mediastinal")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.912"}],
                  "text": "Left breast IDC with mediastinal lymph node metastases"}, "2024-01-10", "primary")
    p.er("positive", "2024-01-12").pr("positive", "2024-01-12").her2("1+", "2024-01-12").menopause("postmenopausal", "2024-01-12")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "yes" and regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


def test_fhir_a_first_line_ordered_to_start_after_today_gets_first_line_cards_not_second_line_ones():
    # the orders' dosage bounds start after as_of (FHIR R4 boundsPeriod: when the drug is to be
    # taken): read as line 1 under way, the cards said "on line 1" and offered everolimus +
    # exemestane and T-DXd after an endocrine line never given
    p = de_novo("p-fut")
    for name, rxnorm in (("letrozole", "72965"), ("ribociclib", "1873916")):
        p.add({"resourceType": "MedicationRequest", "id": f"mr-{name}", "status": "active", "intent": "order",
               "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                          "code": rxnorm, "display": name}]},
               "subject": {"reference": "Patient/p-fut"}, "authoredOn": "2024-01-25",
               "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-02-15"}}}}]})
    state, cards = run(p, FIRST_LINE_AS_OF)
    summaries = [c["summary"] for c in cards]
    assert summaries[0].startswith("HR+/HER2-low MBC, first line;"), summaries
    assert "Aromatase inhibitor + CDK4/6 inhibitor: first line, initial endocrine-based therapy" in summaries
    assert not any(s.startswith(("Everolimus", "Trastuzumab deruxtecan")) for s in summaries), summaries


@pytest.mark.parametrize("text", ["Letrozole, stopped after 3 weeks (intolerance)", "Letrozole - discontinued due to arthralgia"])
def test_fhir_an_ai_whose_text_says_it_was_stopped_for_intolerance_then_replaced_in_class_stays_one_first_line(text):
    # the stop reason written in the drug's own text was not read: letrozole -> anastrozole was a
    # new line after a proxy progression ("on line 2", primary resistance, regimen-switch-unclear);
    # read as a statusReason "intolerance" is, it is a substitution within line 1
    p = de_novo("p-sub")
    p.add({"resourceType": "MedicationStatement", "id": "ms-let", "status": "completed",
           "subject": {"reference": "Patient/p-sub"}, "medicationCodeableConcept": {"text": text},
           "effectivePeriod": {"start": "2024-02-01", "end": "2024-02-21"}})
    p.med("anastrozole", "2024-03-01")
    state, cards = run(p)
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 1;"), cards[0]["summary"]
    assert state.therapy.endocrine_resistance == "de-novo"
    assert "regimen-switch-unclear" not in [g.code for g in state.gaps]


def test_fhir_an_ai_whose_text_says_it_was_discontinued_for_progression_is_still_a_line_ended_by_progression():
    p = de_novo("p-pd")
    p.add({"resourceType": "MedicationStatement", "id": "ms-let", "status": "completed",
           "subject": {"reference": "Patient/p-pd"},
           "medicationCodeableConcept": {"text": "Letrozole - discontinued due to progression"},
           "effectivePeriod": {"start": "2024-02-01", "end": "2024-02-21"}})
    p.med("anastrozole", "2024-03-01")
    state, cards = run(p)
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 2;")
    assert "regimen-switch-unclear" not in [g.code for g in state.gaps]  # the progression is written


def test_fhir_a_first_line_stopped_for_progression_without_an_end_date_is_counted_as_progressed_and_its_timing_asked():
    # status stopped, statusReason "Disease progression", no end, no next line: the line was read as
    # ended without a progression and the card said "de novo metastatic" (CR C.2 step 1: the stated
    # progression is the evidence; ABC4 needs its date, which is not written)
    p = de_novo("p-pd-undated").med("letrozole", "2024-02-01", stopped_for="Disease progression")
    state, cards = run(p)
    assert [ln.progressed for ln in state.therapy.metastatic_lines] == [True]
    assert "- Endocrine sensitivity: unknown" in cards[0]["detail"]
    assert ("Metastatic line 1 (letrozole), the first endocrine line, started 2024-02-01, is recorded as stopped for "
            "progression without an end date or a dated progression") in cards[0]["detail"]
    # a progression documented on it dates it: 10 months after the start, secondary (ABC4)
    state, _ = run(de_novo("p-pd-dated").med("letrozole", "2024-02-01", stopped_for="Disease progression")
                   .progression("2024-12-01"))
    assert state.therapy.endocrine_resistance == "secondary"
    assert not any(g.code == "endocrine-resistance-unsettled" for g in state.gaps)
    # the stop for progression written in the text of a record still active by status reads the same
    p = de_novo("p-pd-text")
    p.add({"resourceType": "MedicationStatement", "id": "ms-pd", "status": "active", "subject": {"reference": "Patient/p-pd-text"},
           "medicationCodeableConcept": {"text": "Letrozole - stopped for progression"}, "effectivePeriod": {"start": "2024-02-01"}})
    state, _ = run(p)
    assert [ln.progressed for ln in state.therapy.metastatic_lines] == [True]
    assert any(g.code == "endocrine-resistance-unsettled" for g in state.gaps)


@pytest.mark.parametrize("reason", ["Stopped for reasons other than progression", "Progression of arthralgia"])
def test_fhir_a_first_line_stopped_for_a_reason_that_is_not_the_cancer_progressing_is_not_counted_as_progressed(reason):
    # no end date, no next line: was counted as progressed, "Endocrine sensitivity: unknown" and its
    # date asked as a "stopped for progression" (fix-rf5); with an end date it was read as progressed
    # too ("secondary resistance"). The words rule a progression out or make it a side effect's
    # (CR C.2 step 1: progression is documented or not)
    state, cards = run(de_novo("p-not-pd").med("letrozole", "2024-02-01", stopped_for=reason))
    assert [ln.progressed for ln in state.therapy.metastatic_lines] == [False]
    assert "- Endocrine sensitivity: de novo metastatic" in cards[0]["detail"]
    assert "recorded as stopped for progression" not in cards[0]["detail"]
    state, _ = run(de_novo("p-not-pd-2").med("letrozole", "2024-02-01", "2024-10-01", status="stopped", stopped_for=reason))
    assert [ln.progressed for ln in state.therapy.metastatic_lines] == [False]
    assert state.therapy.endocrine_resistance == "de-novo"


@pytest.mark.parametrize("text", ["Tamoxifen (stopped)", "Tamoxifen, stopped after 3 weeks (intolerance)",
                                  # past use written for the drug (were read as tamoxifen under way: "on line 2")
                                  "Tamoxifen (history of)", "Hx tamoxifen", "Previous tamoxifen", "Tamoxifen - previously",
                                  # a course written as completed (also read as under way before)
                                  "Tamoxifen (completed 5 years)", "Tamoxifen - completed",
                                  # ... or before its drug (fix-rd2)
                                  "Completed 5 years of tamoxifen", "Finished tamoxifen", "Tamoxifen 5 years completed"])
def test_fhir_a_line_still_active_by_status_but_written_as_stopped_is_not_the_current_line_and_is_asked(text):
    # status 'active' with no end, text "stopped": the card said "on line 2" (tamoxifen under way);
    # the text written for the drug says it stopped, when is not written: "after 2 line(s)" and named
    p = de_novo("p-st").med("letrozole", "2024-02-01", "2025-01-01").progression("2024-12-20")
    p.add({"resourceType": "MedicationStatement", "id": "ms-tam", "status": "active",
           "subject": {"reference": "Patient/p-st"}, "medicationCodeableConcept": {"text": text},
           "effectivePeriod": {"start": "2025-01-10"}})
    state, cards = run(p)
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, after 2 lines;"), cards[0]["summary"]
    gap = next(g for g in state.gaps if g.code == "therapy-stopped-in-text")
    assert f"MedicationStatement/ms-tam (tamoxifen, status 'active': '{text}')" in gap.message
    assert "Confirm whether the drug is still given and when it stopped." in gap.message


@pytest.mark.parametrize("text, drugs", [("Completed 6 months of palbociclib", "palbociclib"),
                                         ("Fulvestrant, completed 1 year", "fulvestrant"),
                                         ("Letrozole + palbociclib, completed 6 months", "letrozole + palbociclib")])
def test_fhir_a_metastatic_line_active_by_status_with_months_of_a_drug_given_until_progression_completed_is_current(
        text, drugs):
    # was read as ended (therapy-stopped-in-text; "after 1 line(s)", the next-line options shown)
    # while the drug runs: in the metastatic setting CDK4/6 inhibitors, fulvestrant and AIs are
    # given until progression (CR B.2-B.10, C.2 step 1): "completed 6 months" is a milestone
    state, cards = run(_statement(de_novo("p-ms"), {"text": text}, "2024-02-01"))
    assert f"- Currently on {drugs} (metastatic line 1): the options below apply at progression." in card(
        cards, "patient-summary")["detail"]
    assert "therapy-stopped-in-text" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("text", ["Anastrozole, completed 5 years", "Completed 2 years of letrozole + palbociclib"])
def test_fhir_a_metastatic_record_completing_a_length_longer_than_its_time_on_drug_is_still_read_as_ended_and_asked(text):
    # started 2024-02-01, asked 2025-07-01: 5 years (2 years) cannot have been reached on this
    # record, so the length is no milestone of it (an earlier course's, or a wrong start): was read
    # as "Currently on anastrozole"; now as before the milestone reading, ended and asked
    state, cards = run(_statement(de_novo("p-ms-long"), {"text": text}, "2024-02-01"))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, after 1 line;")
    assert "therapy-stopped-in-text" in {g.code for g in state.gaps}
    # reached on the record (started 2019, metastatic 2019): a milestone, the line current
    state, cards = run(_statement(de_novo("p-ms-long2", primary="2019-01-10", metastatic="2019-01-15"), {"text": text},
                                  "2019-02-01"))
    assert cards[0]["summary"].startswith("HR+/HER2-low MBC, on line 1;")
    assert "therapy-stopped-in-text" not in {g.code for g in state.gaps}


@pytest.mark.parametrize("text", ["Completed 6 months of palbociclib", "Fulvestrant, completed 1 year",
                                  "Anastrozole (completed 5 years)"])
def test_fhir_an_adjuvant_record_active_by_status_with_its_course_completed_is_still_read_as_ended_and_asked(text):
    # started before the metastatic diagnosis: an early-breast-cancer course, its completion an end
    p = _statement(hr_positive_mbc("p-ms-adj", primary="2016-03-01"), {"text": text}, "2016-06-01")
    state, cards = run(p)
    assert "- Metastatic lines: 0" in card(cards, "patient-summary")["detail"]
    assert "therapy-stopped-in-text" in {g.code for g in state.gaps}


@pytest.mark.parametrize("text", ["Left breast IDC with axillary nodal metastases; cervical lymph node biopsy benign",
                                  "Left breast IDC with axillary nodal metastases, hilar nodes from sarcoidosis"])
def test_fhir_an_early_breast_cancer_with_a_benign_node_of_another_region_gets_no_mbc_regimens(text):
    # was (fix-dz2): first-line MBC regimens, the benign cervical / sarcoid hilar node read as a
    # distant nodal metastasis (AJCC 8th edition M1 is nodal metastasis of another region); the
    # axillary nodes are asked as before fix-dz2
    p = FhirPatient("early-nodes")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.912"}], "text": text},
                 "2024-01-10", "primary")
    p.er("positive", "2024-01-12").pr("positive", "2024-01-12").her2("1+", "2024-01-12").menopause("postmenopausal", "2024-01-12")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert "regional (N, early breast cancer) or distant (M1) not stated" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("condition", [
    {"text": "Malignant pleural effusion, cytology negative x1, positive x2"},
    {"text": "Liver metastases vs CT 2024-01"},
    {"text": "Pleural effusion, malignant; cytology: adenocarcinoma"}])
def test_fhir_a_metastasis_confirmed_on_repeat_cytology_or_compared_with_a_scan_gets_first_line_mbc_regimens(
        condition):
    # was (fix-dz2): no regimen, "Unconfirmed metastasis" asked of a diagnosis made (a later
    # positive cytology), of a comparison with an earlier CT read as a differential, or of a
    # C79.81 Condition whose bodySite is the liver (FHIR R4 Condition.bodySite)
    p = FhirPatient("mbc-read").primary("2024-01-10")
    p._condition(condition, "2024-01-15", "met")
    p.er("positive", "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "yes" and regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


def test_fhir_a_c79_81_metastasis_whose_body_site_is_the_liver_gets_first_line_mbc_regimens():
    # was (fix-dz2): no regimen, asked as "a metastasis to the breast" though Condition.bodySite
    # (FHIR R4) puts it in the liver
    p = FhirPatient("c7981-liver").primary("2024-01-10")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C79.81"}]}, "2024-01-15", "met",
                 bodySite=[{"coding": [{"system": "http://snomed.info/sct", "code": "10200004"}]}])
    p.er("positive", "2024-01-15").pr("positive", "2024-01-15").her2("1+", "2024-01-15").menopause("postmenopausal", "2024-01-15")
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.disease.metastatic == "yes" and regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


@pytest.mark.parametrize("text", ["Letrozole + ribociclib - awaiting OFS", "Letrozole + ribociclib (start after OFS)",
                                  "Ribociclib + letrozole (deferred)", "Letrozole + ribociclib - start date TBC"])
def test_fhir_a_drafted_regimen_written_to_start_later_orders_every_drug_of_it(text):
    # the start words close the whole regimen, one clause: the draft orders both drugs to start
    # later. Only the first was read as ordered: "Letrozole drafted without ribociclib" though
    # ribociclib is drafted in the same order
    state = de_novo("p-draft").state(FIRST_LINE_AS_OF)
    drafts = _drafted_text(text)
    assert sorted(d.name for d in drafts[0].drugs) == ["letrozole", "ribociclib"]
    summaries = [c.to_json()["summary"] for c in order_cards(state, drafts, None, "order-sign")]
    assert not any("drafted without" in s for s in summaries), summaries


def test_fhir_letrozole_drafted_beside_a_signed_ribociclib_order_starting_next_week_is_a_complete_regimen():
    # (fix-rf4 reads an order whose time of use starts after as_of as not given yet, no line; the
    # order hooks then lost it as a partner: "Letrozole drafted without ribociclib" beside the
    # ribociclib order the clinician signed for next week). Still an order: a partner, not a line
    p = de_novo("p-next-week")
    p.add({"resourceType": "MedicationRequest", "id": "mr-ribo-next", "status": "active", "intent": "order",
           "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "1873916", "display": "ribociclib"}]},
           "subject": {"reference": "Patient/p-next-week"}, "authoredOn": "2024-01-30",
           "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-02-08"}}}}]})
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.metastatic_lines == [] and "ribociclib" in state.therapy.to_be_given
    draft = _draft("letrozole", "aromatase-inhibitor", "72965")
    got = [c.to_json() for c in order_cards(state, [draft], [draft.reference], "order-select")]
    assert not any("without" in c["summary"] for c in got), [c["summary"] for c in got]
    # the same draft with no ribociclib order anywhere is still an incomplete regimen
    state, _ = run(de_novo("p-no-ribo"), FIRST_LINE_AS_OF)
    got = [c.to_json() for c in order_cards(state, [draft], [draft.reference], "order-select")]
    assert any("Letrozole drafted without" in c["summary"] for c in got), [c["summary"] for c in got]


@pytest.mark.parametrize("status", ["stopped", "completed"])
def test_fhir_a_ribociclib_order_for_next_week_already_stopped_or_completed_is_no_partner_of_a_drafted_letrozole(status):
    # FHIR R4 medicationrequest-status: "stopped" halts the order before all its administrations
    # (here before the first), "completed" says nothing more is to be given on it: nothing of it
    # will be taken next week, so the drafted letrozole still lacks its CDK4/6 inhibitor
    p = de_novo(f"p-next-week-{status}")
    p.add({"resourceType": "MedicationRequest", "id": "mr-ribo-next", "status": status, "intent": "order",
           "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "1873916", "display": "ribociclib"}]},
           "subject": {"reference": f"Patient/p-next-week-{status}"}, "authoredOn": "2024-01-30",
           "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-02-08"}}}}]})
    state, _ = run(p, FIRST_LINE_AS_OF)
    assert state.therapy.to_be_given == {}
    draft = _draft("letrozole", "aromatase-inhibitor", "72965")
    got = [c.to_json()["summary"] for c in order_cards(state, [draft], [draft.reference], "order-select")]
    assert any(s.startswith("Letrozole drafted without") for s in got), got


@pytest.mark.parametrize("earlier_low", [False, True])
def test_fhir_a_drafted_trastuzumab_deruxtecan_for_her2_null_names_the_her2_result_once_and_keeps_the_summary_whole(earlier_low):
    # CR B.11 / C.3 row 9: label A (HER2-low/ultralow) and label B (HER2-low) both fail on the
    # same HER2 result. Before, the order card listed that HER2 line twice (once per label), and
    # with an earlier HER2-low note the summary was cut mid-sentence with "…"
    p = after_ai_cdk46i("ll-tdxd-null-order", her2="1+").med("capecitabine", "2025-06-01", "2025-06-25")
    p = p.progression("2025-06-20")
    p.resources = [r for r in p.resources if not r["id"].startswith("her2")]
    if earlier_low:
        p.her2("1+", "2016-03-10")
    p.her2("0", "2024-01-15", text="IHC 0 with no membrane staining")
    order = _order(p.state(dt.date(2025, 9, 1)), [_draft("trastuzumab deruxtecan", "her2-adc", "2287684")])
    detail = order[0]["detail"]
    her2_lines = [x for x in detail.splitlines() if x.startswith("- HER2 null")]
    assert len(her2_lines) == 1
    assert order[0]["summary"] == "Trastuzumab deruxtecan: not indicated — HER2 null, IHC 0 (2024-01-15)"
    if earlier_low:
        assert "an earlier assessment was HER2-low: IHC 1+ (2016-03-10)" in her2_lines[0]


@pytest.mark.parametrize("ratio,copies", [(2.5, 3.5), (1.5, 6.5), (1.5, 4.5)])
def test_fhir_her2_2_plus_with_an_undecided_ish_group_says_ish_not_decided_on_the_testing_card_not_no_ish(ratio, copies):
    # CR A.1 gives no ISH groups: an ASCO/CAP group 2-4 ratio without a laboratory interpretation
    # leaves HER2 equivocal (gap her2-ish-unclear). Before, the ER/PR/HER2 testing card said
    # "HER2 equivocal (IHC 2+, no ISH)" beside the ISH Observations it cited
    p = after_ai_cdk46i("ll-her2-ish-group", her2="2+").her2_ish_counts(ratio, copies, "2024-01-25")
    state, cards = run(p)
    assert state.her2.category == "equivocal-pending"
    detail = card(cards, "test-er-pr-her2")["detail"]
    assert "- HER2 equivocal (IHC 2+, ISH not decided) — " in detail
    assert "no ISH" not in detail


def test_fhir_an_ihc_0_written_before_an_earlier_her2_low_result_gets_the_her2_re_test_not_trastuzumab_deruxtecan():
    # "HER2 0, previously HER2-low" read HER2-low alone (the comma after the 0 was taken for a
    # decimal comma) and offered T-DXd to a patient whose latest result is IHC 0 (CR A.1: IHC 0
    # not classified as null or ultralow -> re-test; B.11 needs HER2-low or -ultralow)
    p = hr_positive_mbc("p-her2-0-comma", her2="HER2 0, previously HER2-low")
    p.regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
    state, cards = run(p)
    assert state.her2.category == "zero-unspecified"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" in topics(cards)


def test_fhir_an_ihc_3_plus_with_an_ish_not_amplified_gets_the_her2_testing_card_only_and_the_summary_names_the_disagreement():
    # CR C.2 step 0: HER2 discordant -> testing card only. IHC 3+ is HER2-positive (ASCO/CAP 2018,
    # CR A.1), the ISH not amplified of the same assessment is not: before (mk3) read HER2-positive,
    # only the off-pathway summary, no HER2 re-test card
    state, cards = run(after_ai_cdk46i("p-her2-3-ish-neg", her2="3+").her2_ish(False, "2024-01-25"))
    assert state.her2.category == "unknown"
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    assert "- HER2 unknown (IHC 3+, ISH not amplified, results disagree)" in card(cards, "test-er-pr-her2")["detail"]
    assert ("- HER2 IHC 3+ (2024-01-15) with ISH not amplified (2024-01-25) in the same assessment: the results "
            "disagree. IHC 3+ is HER2-positive (ASCO/CAP 2018, CR A.1), an ISH not amplified is not; HER2 discordant "
            "is read as unknown, testing only (CR C.2 step 0): ask pathology to review both results."
            ) in card(cards, "patient-summary")["detail"]


def test_fhir_an_ihc_2_plus_with_an_ish_written_equivocal_gets_testing_only_saying_the_ish_did_not_decide():
    # ASCO/CAP 2013 "equivocal" ISH (no such category in the 2018 definitions, CR A.1): before,
    # the ISH was dropped and the cards said "IHC 2+ without ISH" / "no ISH"
    p = after_ai_cdk46i("p-her2-ish-equivocal", her2="2+")
    p._obs("her2-ish", {"coding": [{"system": "http://loinc.org", "code": "85318-4"}]}, "2024-01-25",
           valueString="Equivocal")
    state, cards = run(p)
    assert topics(cards) == ["patient-summary", "test-er-pr-her2"]
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("Receptor status unknown (HER2 (IHC 2+, ISH not decided))")
    assert "- HER2 ISH reported 'equivocal' (2024-01-25): the ASCO/CAP 2013 category" in summary["detail"]
    assert "- HER2 equivocal (IHC 2+, ISH not decided) — " in card(cards, "test-er-pr-her2")["detail"]


def test_fhir_er_negative_with_pr_positive_keeps_the_endocrine_options_and_the_summary_names_the_uncommon_result():
    # CR C.2 step 0: HR+ = ER or PR >= 1 %, so the pathway stands; ASCO/CAP 2020 asks that an
    # unusual result be worked up (regimens.yaml asco-cap-er-2020). Before: HR+ without a word
    p = FhirPatient("p-er-neg-pr-pos").primary("2016-03-01").metastasis("bone", "2024-01-15")
    p.er("negative", "2024-01-15", percent=0).pr("positive", "2024-01-15").her2("1+", "2024-01-15")
    p.menopause("postmenopausal", "2024-01-15")
    p.regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
    state, cards = run(p)
    assert state.hormone_receptor_positive is True
    assert "fulvestrant-cdk46i" in regimen_topics(cards)
    assert ("- ER-negative (2024-01-15) with PR positive (2024-01-15): an uncommon result. Read as HR-positive"
            in card(cards, "patient-summary")["detail"])


def test_fhir_her2_low_now_written_before_an_earlier_ihc_0_gets_trastuzumab_deruxtecan_and_the_summary_names_the_earlier_result():
    # CR C.2 step 0 (most recent decides, history kept); B.11 label A (HER2-low after >= 1 ET line).
    # Before, "HER2-low, previously HER2 0" read IHC 0: T-DXd withheld and a HER2 re-test asked
    state, cards = run(after_ai_cdk46i("p-her2-low-previously-0", her2="HER2-low, previously HER2 0"))
    assert state.her2.category == "low"
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)
    assert "test-her2" not in topics(cards)
    assert ("- The HER2 result of 2024-01-15 also names an earlier result ('previously HER2 0'): kept as history, the "
            "current result is read (the most recent decides, C.2 step 0).") in card(cards, "patient-summary")["detail"]


def test_fhir_ihc_0_now_written_before_an_earlier_her2_low_names_it_on_the_her2_re_test_card():
    state, cards = run(after_ai_cdk46i("p-her2-0-previously-low", her2="HER2 0, previously HER2-low"))
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert ("Earlier HER2-low result: 'previously HER2-low' (named in the 2024-01-15 result); HER2-low status may "
            "differ between primary tumour and metastasis (C.2 step 0): the re-test decides") in card(cards, "test-her2")["detail"]


def test_fhir_her2_negative_now_written_before_an_earlier_her2_low_gets_the_re_test_not_trastuzumab_deruxtecan():
    # CR A.1 (never infer HER2-low from "negative"), C.2 step 0 (most recent decides), B.11 (HER2-low)
    state, cards = run(after_ai_cdk46i("p-her2-neg-previously-low", her2="HER2 negative; previously HER2-low"))
    assert state.her2.category == "negative-unspecified"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    assert "test-her2" in topics(cards)


def test_fhir_her2_1_plus_on_the_liver_biopsy_beside_ihc_0_on_the_primary_in_one_text_offers_trastuzumab_deruxtecan():
    # CR C.2 step 0: prefer the most recent biopsy (metastatic site), keep history. Before, the two
    # scores of one text read HER2-negative without a score: T-DXd withheld and a HER2 re-test asked
    p = hr_positive_mbc("p-her2-liver-primary", her2="HER2 IHC 1+ on liver biopsy; IHC 0 on 2016 primary")
    p.regimen(("letrozole", "ribociclib"), "2024-02-01", "2025-05-20").progression("2025-05-15")
    state, cards = run(p)
    assert (state.her2.category, state.her2.ihc_score) == ("low", "1+")
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)
    assert ("also names an earlier result ('IHC 0 on 2016 primary')"
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("why,resistance,first_regimen", [
    ("disease progression", "primary resistance", "trastuzumab-deruxtecan"),
    ("Neutropenia", None, "everolimus-exemestane")])
def test_fhir_a_cdk46i_stopped_for_progression_while_letrozole_goes_on_is_a_progression_on_the_running_line(
        why, resistance, first_regimen):
    # CR C.2 step 1: a progression documented on the line (here ribociclib's statusReason, FHIR R4
    # MedicationStatement.statusReason) reads as a disease-status "worsening" during the line does:
    # dated the stop, under 6 months into first-line ET (primary resistance, ABC4 C.1); a stop for
    # neutropenia is no progression
    p = de_novo("partner-prog").med("letrozole", "2024-02-01").med(
        "ribociclib", "2024-02-01", "2024-07-20", stopped_for=why)
    state, cards = run(p, dt.date(2024, 9, 1))
    summary = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1)" in summary
    assert ("- Endocrine sensitivity: primary resistance" in summary) == (resistance is not None)
    assert regimen_topics(cards)[0] == first_regimen
    assert state.therapy.last_endocrine_progression == (dt.date(2024, 7, 20) if resistance else None)


@pytest.mark.parametrize("text, adjuvant_switch", [("Tamoxifen stopped for progression, now letrozole", False),
                                                   ("Tamoxifen stopped, now letrozole", True)])
def test_fhir_a_switch_at_progression_on_a_record_begun_in_the_adjuvant_setting_is_a_metastatic_line_of_unwritten_start(
        text, adjuvant_switch):
    # adjuvant since 2017, metastatic 2024-01-15: "Tamoxifen stopped for progression, now letrozole"
    # read letrozole as adjuvant since 2017 ("Metastatic lines: 0", relapse on adjuvant letrozole,
    # secondary resistance) with no question; letrozole follows a progression (CR C.2 step 1: a new
    # line starts at progression), its start not written: metastatic line 1, asked. A switch for no
    # reason written is the adjuvant tamoxifen-to-AI switch: unchanged
    p = _statement(hr_positive_mbc("p-sw-adj", primary="2016-03-01"), {"text": text}, "2017-01-10")
    state, cards = run(p, dt.date(2024, 9, 1))
    detail = card(cards, "patient-summary")["detail"]
    asked = [g.message for g in state.gaps if g.code == "line-count-unclear"]
    if adjuvant_switch:
        assert "- Metastatic lines: 0" in detail and not asked
        return
    assert "- Metastatic line 1: letrozole, date unknown to now (active)" in detail
    assert "- Currently on letrozole (metastatic line 1): the options below apply at progression." in detail
    assert "- (Neo)adjuvant: tamoxifen, 2017-01-10 to date unknown" in detail
    assert "- Endocrine sensitivity: unknown" in detail
    [question] = asked
    assert ("writes letrozole after tamoxifen stopped for progression: letrozole is counted as a metastatic line "
            "started after that progression, its start not written") in question


@pytest.mark.parametrize("text, asked", [
    ("Letrozole + palbociclib, now letrozole + ribociclib", False),
    ("Letrozole + palbociclib -> ribociclib", False),
    ("Letrozole + palbociclib, changed to ribociclib due to neutropenia", False),
    ("Letrozole + palbociclib stopped for progression, now letrozole + ribociclib", True),
    # the stop of the earlier CDK4/6 inhibitor written after the regimen taken now: was read as
    # "Currently on letrozole + palbociclib + ribociclib" too
    ("Letrozole + ribociclib (palbociclib stopped)", False),
    ("Letrozole + ribociclib; palbociclib stopped due to neutropenia", False)])
def test_fhir_an_active_record_writing_a_cdk46i_switch_under_the_same_ai_is_on_the_later_cdk46i_only(text, asked):
    # read as "Currently on letrozole + palbociclib + ribociclib": two CDK4/6 inhibitors at once,
    # which no regimen gives (CR B.9, B.10); one MedicationStatement is one medication use (FHIR
    # R4): the later CDK4/6 inhibitor is taken now, the earlier stopped, within the line; a switch
    # written as at progression is asked as a line count (CR C.2 step 1), as an endocrine one is
    state, cards = run(_statement(de_novo("p-cdk-sw"), {"text": text}, "2024-02-01"), dt.date(2024, 9, 1))
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole + ribociclib (metastatic line 1): the options below apply at progression." in detail
    assert "palbociclib (2024-02-01 to date unknown)" in detail
    assert len(state.therapy.metastatic_lines) == 1
    counted = [g.message for g in state.gaps if g.code == "line-count-unclear"]
    assert bool(counted) == asked
    if asked:
        assert "after palbociclib stopped for progression, in one record" in counted[0]


@pytest.mark.parametrize("text", ["Letrozole + palbociclib, now letrozole + ribociclib",
                                  "Letrozole + ribociclib (palbociclib stopped)"])
def test_fhir_a_drafted_order_writing_a_cdk46i_switch_is_checked_as_the_regimen_after_it(text):
    # checked as letrozole + palbociclib + ribociclib: "two CDK4/6 inhibitors" for a text writing
    # palbociclib as the one before
    assert _drafted_cards(text) == []


@pytest.mark.parametrize("text, asked", [("Palbociclib stopped, now ribociclib", False),
                                         ("Palbociclib stopped due to neutropenia, now ribociclib", False),
                                         ("Palbociclib stopped for progression, now ribociclib", True)])
def test_fhir_a_record_writing_a_cdk46i_switch_alone_beside_the_ai_record_is_on_the_later_cdk46i_only(text, asked):
    # read as "Currently on letrozole + palbociclib + ribociclib" (two CDK4/6 inhibitors at once,
    # CR B.9, B.10): a switch within the line (for toxicity or no reason written), the later one
    # taken now; written as at progression, the line count is asked (CR C.2 step 1)
    state, cards = run(_statement(de_novo("p-cdk-sw-alone").med("letrozole", "2024-02-01"), {"text": text}, "2024-02-01"),
                       dt.date(2024, 9, 1))
    assert "- Currently on letrozole + ribociclib (metastatic line 1): the options below apply at progression." \
        in card(cards, "patient-summary")["detail"]
    assert len(state.therapy.metastatic_lines) == 1
    assert bool([g for g in state.gaps if g.code == "line-count-unclear"]) == asked


def test_fhir_a_switch_at_a_suspected_progression_on_a_record_begun_in_the_adjuvant_setting_is_asked():
    # read as the adjuvant tamoxifen-to-AI switch with no question: the suspected progression, which
    # may have been the recurrence, was lost (CR C.2 step 1: a progression is documented or not)
    text = "Tamoxifen stopped due to suspected progression, now letrozole"
    state, cards = run(_statement(hr_positive_mbc("p-sw-adj-q", primary="2016-03-01"), {"text": text}, "2017-01-10"),
                       dt.date(2024, 9, 1))
    assert "- Metastatic lines: 0" in card(cards, "patient-summary")["detail"]
    [question] = [g.message for g in state.gaps if g.code == "line-count-unclear"]
    assert "writes letrozole after tamoxifen stopped for a progression only suspected" in question


@pytest.mark.parametrize("code, display, current, asked", [
    ("72965", "letrozole", "letrozole", False),  # the code names the endocrine drug only: by its code, as before
    ("1873916", "ribociclib", "ribociclib", False),  # the code names the later CDK4/6 inhibitor: on it
    ("1601374", "palbociclib", "palbociclib", True)])  # the code names the earlier: the later is named as not read
def test_fhir_a_coded_record_writing_a_cdk46i_switch_is_read_by_what_its_code_names(code, display, current, asked):
    concept = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": code, "display": display}],
               "text": "Letrozole + palbociclib, now letrozole + ribociclib"}
    state, cards = run(_statement(de_novo("p-cdk-sw-coded"), concept, "2024-02-01"), dt.date(2024, 9, 1))
    assert f"- Currently on {current} (metastatic line 1)" in card(cards, "patient-summary")["detail"]
    assert ("medication-unreadable" in {g.code for g in state.gaps}) == asked


@pytest.mark.parametrize("patient", [de_novo("partner-prog-why").med("letrozole", "2024-02-01"),
                                     adjuvant_relapse("partner-prog-why-adj", None)])
def test_fhir_primary_resistance_read_from_a_cdk46i_stopped_for_progression_says_which_progression_decided_it(patient):
    # the class came from ribociclib's stop for progression (CR C.1: PD within 6 months of 1L ET),
    # but the card gave no reason ("primary resistance — sources") or only the adjuvant relapse,
    # whose own words say secondary ("relapse on adjuvant endocrine therapy started 2016-06-01
    # (ABC4: in its first 2 years primary, later secondary)"), as if that made it primary
    patient.med("ribociclib", "2024-02-01", "2024-07-20", stopped_for="disease progression")
    state, cards = run(patient, dt.date(2024, 9, 1))
    assert state.therapy.endocrine_resistance == "primary"
    assert ("- Endocrine sensitivity: primary resistance: progression within 6 months of first-line metastatic "
            "endocrine therapy (") in card(cards, "patient-summary")["detail"]
    assert "disease progression recorded 2024-07-20, the line still recorded as given)" in card(
        cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Letrozole + palbociclib, changed to ribociclib due to neutropenia",
                                  "Letrozole + palbociclib, switched to ribociclib"])
def test_fhir_a_drafted_order_writing_a_cdk46i_switch_in_words_is_checked_with_the_cdk46i_switched_to(text):
    # checked as letrozole alone ("Letrozole drafted without ribociclib"): the CDK4/6 inhibitor the
    # text switches to was dropped, though the history reads the same text as letrozole + ribociclib
    assert _drafted_cards(text) == []


def test_fhir_the_undated_drug_after_an_early_progression_is_its_own_line_before_a_later_dated_line():
    # "Tamoxifen stopped for progression, now letrozole" (adjuvant since 2017) makes letrozole a
    # metastatic line of unwritten start; a later fulvestrant record joined it to fulvestrant's line
    # ("Currently on fulvestrant + letrozole"). Letrozole began at the progression, before fulvestrant
    # (CR C.2 step 1: a new line starts at progression): line 1 of its own, fulvestrant line 2
    p = _statement(hr_positive_mbc("p-sw-adj-fulv", primary="2016-03-01"),
                   {"text": "Tamoxifen stopped for progression, now letrozole"}, "2017-01-10")
    p = _statement(p, {"text": "Fulvestrant 500 mg"}, "2024-06-01")
    state, cards = run(p, dt.date(2024, 9, 1))
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 1: letrozole, date unknown to 2024-06-01" in detail
    assert "- Metastatic line 2: fulvestrant, 2024-06-01 to now (active)" in detail
    assert "- Currently on fulvestrant (metastatic line 2): the options below apply at progression." in detail
    assert any(g.code == "line-count-unclear" for g in state.gaps)


@pytest.mark.parametrize("text, current", [
    ("No palbociclib; letrozole 2.5 mg", "letrozole"),
    ("Letrozole, no palbociclib", "letrozole"),
    ("Fulvestrant; not on palbociclib", "fulvestrant"),
    ("Off letrozole, now on anastrozole", "anastrozole"),
    ("No letrozole or palbociclib", None),
])
def test_fhir_a_drug_written_as_not_taken_beside_a_drug_given_is_not_read_as_given(text, current):
    # a not-taken clause beside a drug given read every drug named as current ("Currently on
    # letrozole + palbociclib"); the negated drug is not given (drugs.yaml not_taken_opening, FHIR
    # R4 MedicationStatement.status not-taken), "Off X, now Y" is the switch, and every drug
    # negated and nothing of their use written is no therapy given, as "No letrozole" is (it was a
    # stop written, a line counted, until local_codes.yaml drug_mentions not_taken_bare_after)
    p = _statement(de_novo("p-not-taken"), {"text": text}, "2024-02-01")
    state, cards = run(p, dt.date(2024, 9, 1))
    detail = card(cards, "patient-summary")["detail"]
    if current is None:
        assert "Currently on" not in detail and "- Metastatic lines: 0" in detail
        assert [g.code for g in state.ignored] == ["not-given"]
        return
    assert f"- Currently on {current} (metastatic line 1)" in detail


@pytest.mark.parametrize("text", ["Stopped palbociclib; letrozole continues", "Ceased palbociclib (neutropenia); letrozole"])
def test_fhir_a_drug_written_as_stopped_beside_its_partner_stays_in_the_line(text):
    # the stop words of not_taken_opening write a drug once given: it stays part of the line's
    # history (a prior CDK4/6 inhibitor), not read as a drug not given
    p = _statement(de_novo("p-stopped-partner"), {"text": text}, "2024-02-01")
    state, cards = run(p, dt.date(2024, 9, 1))
    assert "- Metastatic line 1: palbociclib + letrozole, 2024-02-01" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Letrozole; no palbociclib this cycle", "Letrozole, no palbociclib until counts recover",
                                  "Letrozole 2.5 mg; no palbociclib this week", "Letrozole; no palbociclib (cycle delayed)"])
def test_fhir_a_cdk46_inhibitor_held_for_a_cycle_beside_letrozole_stays_part_of_the_line(text):
    # a hold of a drug under way (FHIR R4 MedicationStatement.status on-hold: a pause) is no
    # drug never given: the not-taken clause reading dropped palbociclib from line 1 and a draft of
    # the same text was checked as letrozole alone ('Letrozole drafted without ribociclib')
    p = _statement(de_novo("p-held-cycle"), {"text": text}, "2024-02-01")
    state, cards = run(p, dt.date(2024, 9, 1))
    assert "- Currently on letrozole + palbociclib (metastatic line 1)" in card(cards, "patient-summary")["detail"]
    assert _drafted_cards(text) == []


def test_fhir_the_undated_drug_after_an_early_progression_joins_the_dated_first_line_of_the_same_drug():
    # "Tamoxifen stopped for progression, now letrozole" beside a dated letrozole + palbociclib
    # line: the same letrozole, one line (CR C.2 step 1), not 'line 1: letrozole, date unknown to
    # 2024-02-01; line 2: letrozole + palbociclib' (two lines, the resistance of line 1 lost)
    p = _statement(hr_positive_mbc("p-sw-adj-same", primary="2016-03-01"),
                   {"text": "Tamoxifen stopped for progression, now letrozole"}, "2017-01-10")
    p = p.regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-10-01").progression("2024-09-20")
    state, cards = run(p, dt.date(2025, 3, 1))
    detail = card(cards, "patient-summary")["detail"]
    assert "- Metastatic line 2" not in detail
    assert "Sacituzumab govitecan: 1 systemic line for metastatic disease" in detail
    assert state.therapy.endocrine_resistance == "secondary"


def test_fhir_a_cdk46i_stopped_with_the_worsening_code_alone_is_a_progression_as_its_term_written_out_is():
    # statusReason SNOMED CT 271299001 with no display or text ("Patient's condition worsened",
    # mCODE ConditionStatusTrendVS) said nothing: "de novo metastatic", no progression on the
    # line, while the same term written out read "primary resistance" (CR C.1, C.2 step 1)
    p = de_novo("p-worse-code").med("letrozole", "2024-02-01").med("ribociclib", "2024-02-01", "2024-07-20", status="stopped")
    p.resources[-1]["statusReason"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "271299001"}]}]
    state, cards = run(p, dt.date(2024, 9, 1))
    assert state.therapy.endocrine_resistance == "primary"
    assert ("- Endocrine sensitivity: primary resistance: progression within 6 months of first-line metastatic endocrine "
            "therapy (letrozole + ribociclib, from 2024-02-01; disease progression recorded 2024-07-20") \
        in card(cards, "patient-summary")["detail"]


def test_fhir_a_cdk46i_written_as_not_taken_for_a_side_effect_beside_the_ai_is_not_counted_given_and_the_card_says_why_unclear():
    # "no palbociclib due to neutropenia": given then stopped for it, or never started; the card
    # said only "not read as given by this record" (CR C.2 step 1 counts drugs given; FHIR R4
    # MedicationStatement.status not-taken is the record's, not said of the palbociclib course)
    p = _statement(de_novo("p-nt-why"), {"text": "Letrozole; no palbociclib due to neutropenia"}, "2024-02-01")
    state, cards = run(p, dt.date(2024, 9, 1))
    detail = card(cards, "patient-summary")["detail"]
    assert "- Currently on letrozole (metastatic line 1)" in detail
    assert not state.therapy.prior_cdk46i
    assert ("also names palbociclib, not read as given by this record, and no record of it was read; it is written as "
            "not taken for a reason: whether it was given and stopped, or never started, is not written") in detail


@pytest.mark.parametrize("text,why", [
    ("Radiation vs viral pneumonitis", "its cause written as infectious or not"),
    ("Viral or drug-induced pneumonitis", "its cause written as infectious or not"),
    ("Aspiration pneumonitis", "an aspiration pneumonitis"),
    ("Pneumonitis due to aspiration", "an aspiration pneumonitis"),
])
def test_fhir_a_pneumonitis_whose_cause_leaves_the_labels_ild_open_is_named_as_not_confirmed(text, why):
    # was: "Radiation vs viral pneumonitis" dropped as an infection (no caution at all) and
    # "Aspiration pneumonitis" counted as ILD history (CR A.4 ILD codes, B.8, B.11 / B.13)
    _, cards = run(_after_chemo("ild-cause").ild("2023-05-01", text, code=None))
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "warning"
    assert f"ILD/pneumonitis recorded, not confirmed: {why}" in tdxd["detail"]
    assert "ILD/pneumonitis history" not in tdxd["detail"]


@pytest.mark.parametrize("text", ["CMV pneumonitis or drug toxicity", "Drug-induced pneumonitis vs CMV pneumonitis",
                                  "PCP pneumonitis or radiation pneumonitis"])
def test_fhir_a_pneumonitis_differential_naming_each_cause_with_its_own_pneumonitis_word_is_named_as_not_confirmed(text):
    # rt54: dropped as an infection (the cause differential read only "radiation vs viral" side by
    # side): no ILD caution at all on the T-DXd card (CR A.4, B.11 / B.13)
    _, cards = run(_after_chemo("ild-cause-words").ild("2023-05-01", text, code=None))
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert tdxd["indicator"] == "warning"
    assert "ILD/pneumonitis recorded, not confirmed: its cause written as infectious or not" in tdxd["detail"]


def test_fhir_a_pneumonitis_coded_icd10_j69_0_as_its_display_writes_it_is_named_as_an_aspiration_pneumonitis():
    # rt54: ICD-10-CM J69.0 "Pneumonitis due to inhalation of food and vomit" counted as ILD history
    # while "Aspiration pneumonitis" written out was asked (not among CR A.4's ILD codes; B.11 / B.13)
    display = "Pneumonitis due to inhalation of food and vomit"
    _, cards = run(_after_chemo("ild-j69").ild("2023-05-01", display, code=(ICD10CM, "J69.0", display)))
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert "ILD/pneumonitis recorded, not confirmed: an aspiration pneumonitis" in tdxd["detail"]
    assert "ILD/pneumonitis history" not in tdxd["detail"]


@pytest.mark.parametrize("text", ["No aspiration, pneumonitis grade 2", "Aspiration excluded, drug pneumonitis grade 2",
                                  "Pneumonitis not due to aspiration, grade 2"])
def test_fhir_a_grade_2_pneumonitis_beside_an_aspiration_negated_or_ruled_out_is_counted_and_stops_t_dxd(text):
    # rt54: read as an aspiration pneumonitis (only asked, "not confirmed"): the grade 2 ILD stop of
    # T-DXd lost although the record rules the aspiration out (CR B.11; CTCAE v5 pneumonitis grade 2)
    _, cards = run(_after_chemo("ild-no-aspiration").ild("2023-05-01", text, code=None))
    assert "ILD/pneumonitis history, grade 2" in _summary(cards)
    assert "not confirmed" not in card(cards, "trastuzumab-deruxtecan")["detail"]


@pytest.mark.parametrize("text", ["Not aspiration - pneumonitis grade 2", "Pneumonitis grade 2 - aspiration ruled out",
                                  "Pneumonitis grade 2 \u2013 aspiration absent"])
def test_fhir_a_grade_2_pneumonitis_beside_a_cause_ruled_out_across_a_spaced_dash_is_counted_and_stops_t_dxd(text):
    # fx3: the negation read across " - " dropped the pneumonitis entirely, and with it the grade 2
    # ILD stop of T-DXd; a ruled-out cause is no ruled-out pneumonitis (CR B.11)
    _, cards = run(_after_chemo("ild-dash-aspiration").ild("2023-05-01", text, code=None))
    assert "ILD/pneumonitis history, grade 2" in _summary(cards)


def test_fhir_a_pneumonitis_ruled_out_after_a_spaced_dash_is_still_not_the_patients():
    # "Pneumonitis - ruled out": the dash stands before the ruled-out words themselves (FHIR R4 refuted)
    _, cards = run(_after_chemo("ild-dash-ruled-out").ild("2023-05-01", "Pneumonitis - ruled out", code=None))
    assert "ILD/pneumonitis history" not in _summary(cards)


def test_fhir_a_question_mark_closing_the_word_before_a_pneumonitis_does_not_make_the_pneumonitis_a_suspicion():
    # "Cough? pneumonitis grade 2": the cough is the question; the grade 2 pneumonitis stops T-DXd (CR B.11)
    _, cards = run(_after_chemo("ild-cough").ild("2023-05-01", "Cough? pneumonitis grade 2", code=None))
    assert "ILD/pneumonitis history, grade 2" in _summary(cards)
    assert "not confirmed" not in card(cards, "trastuzumab-deruxtecan")["detail"]


@pytest.mark.parametrize("text,stopped", [("Type 1 diabetes, brother type 2", True), ("Diabetes, mother type 1", False),
                                          ("Diabetes (mother: type 1)", False)])
def test_fhir_a_relatives_diabetes_type_written_alone_is_not_the_patients_type(text, stopped):
    # rt54: "Type 1 diabetes, brother type 2" read as the patient's type 2 (the type 1 stop of the
    # PI3K/AKT inhibitors lost), "Diabetes, mother type 1" as the patient's type 1 (a stop on the
    # mother's diagnosis; CR C.3 row 14, FHIR R4 FamilyMemberHistory)
    p = _pik3ca_with_normal_glucose("rel-type")
    p._condition({"text": text}, "2015-01-01", "dm-rel")
    _, cards = run(p)
    assert ("do not start: type 1 diabetes" in card(cards, "capivasertib-fulvestrant")["summary"]) == stopped


def test_fhir_a_diabetes_beside_a_type_ruled_out_after_a_dash_keeps_the_hyperglycaemia_caution():
    # rt54: "Diabetes - type 1 excluded" read as no diabetes: no diabetes caution on capivasertib (CR C.3 row 14)
    p = _pik3ca_with_normal_glucose("dash-type")
    p._condition({"text": "Diabetes - type 1 excluded"}, "2015-01-01", "dm-dash")
    state, cards = run(p)
    assert state.factors.diabetes.type_recorded == "not recorded"
    assert "type not recorded" in card(cards, "capivasertib-fulvestrant")["detail"]
    assert "do not start" not in card(cards, "capivasertib-fulvestrant")["summary"]


def test_fhir_a_lada_negated_before_it_is_not_named_as_a_lada_recorded():
    # rt54: "Type 2 diabetes (not LADA)" gave the summary 'Latent autoimmune diabetes in adults (LADA) recorded'
    p = _pik3ca_with_normal_glucose("not-lada")
    p._condition({"text": "Type 2 diabetes (not LADA)"}, "2015-01-01", "dm-not-lada")
    _, cards = run(p)
    assert "(LADA) recorded" not in _summary(cards)
    assert "type 2" in card(cards, "capivasertib-fulvestrant")["detail"]


def test_fhir_a_lada_diabetes_gives_the_hyperglycaemia_caution_and_asks_its_type():
    # was: "LADA" no diabetes at all (no caution, no gap), "Latent autoimmune diabetes in adults" a
    # diabetes with no word that the ADA classes it with type 1 (CR B.1 / B.4 / B.5, C.3 row 14)
    p = after_ai_cdk46i("pf3-lada").variant("PIK3CA", "p.His1047Arg", specimen="tissue", on="2025-06-01")
    p._condition({"text": "LADA"}, "2015-01-01", "lada")
    state, cards = run(p)
    assert state.factors.diabetes.status == "type2-untreated"
    assert "diabetes-type-unclear" in [g.code for g in state.gaps]
    assert 'Latent autoimmune diabetes in adults (LADA) recorded ("LADA")' in _summary(cards)
    assert "type not recorded" in card(cards, "capivasertib-fulvestrant")["detail"]


@pytest.mark.parametrize("text", ["Parents informed: pneumonitis grade 2", "Mother informed: pneumonitis grade 2",
                                  "Husband and sisters aware - pneumonitis grade 2"])
def test_fhir_a_grade_2_pneumonitis_after_a_relative_told_of_it_is_the_patients_and_stops_t_dxd(text):
    # rt57: read as a relative's pneumonitis and dropped, with it the grade 2 ILD stop of T-DXd (CR B.11);
    # a relative informed / aware of it is told of the patient's condition (FHIR R4 Condition.subject)
    _, cards = run(_after_chemo("ild-relative-told").ild("2023-05-01", text, code=None))
    assert "ILD/pneumonitis history, grade 2" in _summary(cards)


def test_fhir_a_pneumonitis_written_after_a_relative_alone_is_still_not_the_patients():
    _, cards = run(_after_chemo("ild-relative-history").ild("2023-05-01", "Mother: pneumonitis", code=None))
    assert "ILD/pneumonitis history" not in _summary(cards)
