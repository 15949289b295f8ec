"""Order-check rules on hand-built PatientState / DraftOrder objects.

Each test drives cards.orders.order_check_cards directly; every card passes the
shared contract checker, R4B validation of created resources and the order
rules (delete actions name a drafted order, override reasons on order-sign).
The same rules through HTTP with FHIR prefetch: test_order_hooks_http.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from mappings.state import (
    Biomarkers, Diabetes, DraftOrder, Drug, Exposure, HER2Status, LabValue, LungDisease, ReceptorStatus,
)

from cards.orders import order_check_cards

from tests.cards.test_fhir_scenarios import after_ai_cdk46i
from tests.orders.helpers import by_topic, checked, created_drugs, deleted, no_noise, topics
from tests.orders.states import (
    PID, adjuvant_relapse, after_first_line, ago, base_state, draft, drug, src, variant,
)


def run(state, drafts, selections=None, hook="order-sign"):
    refs = {d.reference for d in drafts if d.reference}
    return checked(order_check_cards(state, drafts, selections, hook), PID, refs, hook)


def pik3ca(state, *results):
    state.biomarkers = Biomarkers(results=list(results) or [variant("PIK3CA")])
    return state


# --- order-biomarker-missing -------------------------------------------------

def test_capivasertib_without_any_pik3ca_akt1_pten_result_asks_for_the_test():
    cards = run(after_first_line(base_state()), [draft("c", "capivasertib"), draft("f", "fulvestrant")])
    card = by_topic(cards, "order-biomarker-missing")
    assert card["indicator"] == "warning"
    assert "PIK3CA/AKT1/PTEN" in card["summary"]
    requests = [a["resource"] for s in card["suggestions"] for a in s["actions"]]
    assert requests and all(r["resourceType"] == "ServiceRequest" for r in requests)
    assert any("tissue" in r["code"]["text"] for r in requests)
    assert "not tested" in card["detail"] and "Truqap" in card["source"]["label"]


def test_alpelisib_with_pik3ca_negative_only_in_plasma_asks_for_tissue_testing():
    state = pik3ca(after_first_line(base_state()), variant("PIK3CA", result="not-detected", specimen="ctdna"))
    card = by_topic(run(state, [draft("a", "alpelisib"), draft("f", "fulvestrant")]), "order-biomarker-missing")
    texts = [a["resource"]["code"]["text"] for s in card["suggestions"] for a in s["actions"]]
    assert texts and all("tissue" in t for t in texts)
    assert "ctDNA" in card["detail"]


def test_inavolisib_triplet_after_early_adjuvant_relapse_without_pik3ca_result_asks_for_it():
    state = adjuvant_relapse(base_state(), months_after_end=6)
    cards = run(state, [draft("i", "inavolisib"), draft("p", "palbociclib"), draft("f", "fulvestrant")])
    assert topics(cards) == ["order-biomarker-missing"]
    assert "PIK3CA" in cards[0]["summary"]


def test_elacestrant_without_esr1_result_asks_for_ctdna_esr1():
    card = by_topic(run(after_first_line(base_state()), [draft("e", "elacestrant")]), "order-biomarker-missing")
    assert "ESR1" in card["summary"]
    assert "ctDNA" in card["suggestions"][0]["actions"][0]["resource"]["code"]["text"]


def test_an_esr1_negative_result_older_than_the_last_progression_counts_as_missing():
    state = after_first_line(base_state())
    state.biomarkers = Biomarkers(results=[variant("ESR1", result="not-detected", specimen="ctdna", days=500)],
                                  esr1_current=False)
    cards = run(state, [draft("i", "imlunestrant")])
    assert topics(cards) == ["order-biomarker-missing"]
    assert "predates the latest progression" in cards[0]["detail"]


def test_an_esr1_negative_taken_between_two_endocrine_lines_is_missing_and_the_card_names_the_later_line_end():
    # the date the order card shows is the one the mapping's staleness decision used
    # (TherapyHistory.esr1_reference, C.3 row 18), not the earlier progression on line 1
    import datetime as dt
    from tests.cards.fhir_builder import hr_positive_mbc
    p = hr_positive_mbc(PID, her2="0")
    p.med("letrozole", "2024-02-01", "2025-02-01").med("ribociclib", "2024-02-01", "2025-02-01")
    p.variant("ESR1", detected=False, on="2025-02-15")
    p.med("fulvestrant", "2025-03-01", "2026-08-01").med("abemaciclib", "2025-03-01", "2026-08-01")
    state = p.state(dt.date(2026, 11, 21))
    cards = run(state, [draft("e", "elacestrant")])
    card = by_topic(cards, "order-biomarker-missing")
    assert card["detail"].count("predates the end of metastatic line 2 (abemaciclib + fulvestrant) on 2026-08-01") == 1
    assert "2025-02-01" not in card["detail"]


@pytest.mark.parametrize("parp", ["olaparib", "talazoparib"])
def test_parp_inhibitor_without_germline_brca_result_asks_for_germline_testing(parp):
    state = after_first_line(base_state())
    state.therapy.prior_chemotherapy_any_setting = True
    card = by_topic(run(state, [draft("o", parp)]), "order-biomarker-missing")
    assert "germline BRCA1/2" in card["summary"]
    assert "BRACAnalysis" in card["suggestions"][0]["actions"][0]["resource"]["code"]["text"]


def test_brca_variant_of_unknown_origin_is_not_yet_a_germline_result():
    state = after_first_line(base_state())
    state.biomarkers = Biomarkers(results=[variant("BRCA1", origin="unknown")])
    card = by_topic(run(state, [draft("t", "talazoparib")]), "order-biomarker-missing")
    assert "germline origin not established" in card["detail"]


def test_tdxd_with_her2_ihc_0_not_classified_null_or_ultralow_asks_for_her2_retest():
    state = after_first_line(base_state())
    state.her2 = HER2Status(category="zero-unspecified", ihc_score="0", date=ago(90),
                            sources=[src("Observation/her2-0", 90)])
    card = by_topic(run(state, [draft("t", "trastuzumab deruxtecan")]), "order-biomarker-missing")
    assert "HER2" in card["summary"]
    assert card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "85319-2"
    assert "Observation/her2-0" in card["detail"]


# --- order-not-indicated -----------------------------------------------------

def test_alpelisib_for_an_akt1_only_tumour_is_not_indicated_and_capivasertib_replaces_it():
    state = pik3ca(after_first_line(base_state()), variant("AKT1"), variant("PIK3CA", result="not-detected"))
    cards = run(state, [draft("a", "alpelisib"), draft("f", "fulvestrant")])
    card = by_topic(cards, "order-not-indicated")
    assert card["indicator"] == "warning" and "PIK3CA" in card["summary"]
    first = card["suggestions"][0]
    assert first["isRecommended"] is True and card["selectionBehavior"] == "at-most-one"
    assert deleted(first) == ["MedicationRequest/a"]  # fulvestrant stays drafted
    assert created_drugs(first) == ["capivasertib"]
    assert "Observation/var-pik3ca" in card["detail"] and "PIQRAY" in card["detail"]


def test_elacestrant_for_a_premenopausal_woman_is_not_indicated():
    state = after_first_line(base_state())
    state.biomarkers = Biomarkers(results=[variant("ESR1", specimen="ctdna", days=15)], esr1_current=True)
    state.factors.menopausal_status = "premenopausal"
    card = by_topic(run(state, [draft("e", "elacestrant")]), "order-not-indicated")
    assert "Premenopausal" in card["summary"]
    first = card["suggestions"][0]
    assert deleted(first) == ["MedicationRequest/e"]
    assert created_drugs(first) == ["imlunestrant", "goserelin"]  # ESR1 option + ovarian suppression


def test_everolimus_exemestane_for_a_premenopausal_woman_is_not_indicated():
    state = after_first_line(base_state())
    state.factors.menopausal_status = "premenopausal"
    cards = run(state, [draft("v", "everolimus"), draft("x", "exemestane")])
    card = by_topic(cards, "order-not-indicated")
    assert "postmenopausal women only" in card["summary"]
    assert sorted(deleted(card["suggestions"][0])) == ["MedicationRequest/v", "MedicationRequest/x"]


def test_inavolisib_after_progression_on_metastatic_therapy_is_not_indicated():
    state = pik3ca(after_first_line(base_state()))
    cards = run(state, [draft("i", "inavolisib"), draft("p", "palbociclib"), draft("f", "fulvestrant")])
    card = by_topic(cards, "order-not-indicated")
    assert "Inavolisib + palbociclib + fulvestrant" in card["summary"]
    assert "A first-line option; the patient has had metastatic therapy" in card["detail"]
    names = [created_drugs(s) for s in card["suggestions"]]
    assert ["capivasertib"] in names  # fulvestrant kept, capivasertib added


def test_inavolisib_in_de_novo_metastatic_disease_is_not_indicated():
    state = pik3ca(base_state())
    cards = run(state, [draft("i", "inavolisib"), draft("p", "palbociclib"), draft("f", "fulvestrant")])
    assert topics(cards) == ["order-not-indicated"]
    assert "De novo" in cards[0]["summary"]


def test_tdxd_for_her2_ihc_0_null_is_not_indicated():
    state = after_first_line(base_state())
    state.her2 = HER2Status(category="null", ihc_score="0", date=ago(90), sources=[src("Observation/her2-null", 90)])
    card = by_topic(run(state, [draft("t", "trastuzumab deruxtecan")]), "order-not-indicated")
    assert "null" in card["summary"]
    assert all(deleted(s) == ["MedicationRequest/t"] for s in card["suggestions"])
    assert "HER2-ultralow (IHC 0 with membrane staining)" in card["detail"]


def test_olaparib_for_a_somatic_only_brca_variant_is_not_indicated():
    state = after_first_line(base_state())
    state.therapy.prior_chemotherapy_any_setting = True
    state.biomarkers = Biomarkers(results=[variant("BRCA2", origin="somatic")])
    card = by_topic(run(state, [draft("o", "olaparib")]), "order-not-indicated")
    assert "Somatic-only BRCA" in card["summary"]


@pytest.mark.parametrize("name", ["talazoparib", "olaparib"])
def test_parp_inhibitor_in_her2_positive_disease_is_not_indicated(name):
    state = after_first_line(base_state())
    state.her2 = HER2Status(category="positive", ihc_score="3+", date=ago(40), sources=[src("Observation/her2-3", 40)])
    state.biomarkers = Biomarkers(results=[variant("BRCA1", origin="germline", specimen="blood")])
    cards = run(state, [draft("x", name), draft("l", "letrozole")])
    assert topics(cards) == ["order-not-indicated"]  # letrozole: outside this pathway, silent
    assert "HER2-positive" in cards[0]["summary"] and "Observation/her2-3" in cards[0]["detail"]


def test_tdxd_in_her2_positive_disease_is_not_called_not_indicated_but_its_ild_stop_still_applies():
    # The Enhertu label covers HER2-positive metastatic disease too (outside this service).
    state = after_first_line(base_state())
    state.her2 = HER2Status(category="positive", ihc_score="3+", date=ago(40), sources=[src("Observation/her2-3", 40)])
    assert run(state, [draft("t", "trastuzumab deruxtecan")]) == []
    state.factors.lung = LungDisease(ild_history=True, grade=3, sources=[src("Condition/ild", 60)])
    cards = run(state, [draft("t", "trastuzumab deruxtecan")])
    assert topics(cards) == ["order-contraindicated"] and cards[0]["indicator"] == "critical"


def test_ai_with_cdk46_inhibitor_after_progression_is_not_a_first_line_order_any_more():
    cards = run(after_first_line(base_state()), [draft("l", "letrozole"), draft("r", "ribociclib")])
    card = by_topic(cards, "order-not-indicated")
    assert "first-line" in card["summary"].lower()


# --- order-contraindicated ---------------------------------------------------

@pytest.mark.parametrize("adc", ["trastuzumab deruxtecan", "datopotamab deruxtecan"])
def test_deruxtecan_adc_after_symptomatic_ild_is_critical_with_the_fact_and_its_date(adc):
    state = after_first_line(base_state())
    state.therapy.metastatic_chemotherapy_lines = 1
    state.factors.lung = LungDisease(ild_history=True, grade=2, symptomatic=True,
                                     sources=[src("Condition/ild", 100)])
    cards = run(state, [draft("t", adc)])
    card = by_topic(cards, "order-contraindicated")
    assert card["indicator"] == "critical" and cards[0] is card
    assert ago(100).isoformat() in card["summary"]
    assert "Condition/ild" in card["detail"] and "permanently discontinue" in card["detail"]


def test_tdxd_drafted_after_symptomatic_ild_on_tdxd_gets_one_critical_card_with_the_labels_stop_by_grade():
    # CR B.11 (Enhertu: grade 1 interrupted, grade >= 2 permanently discontinued) and C.2 safety
    # overlays: one critical card holds the stop, the not-indicated facts and the replacements
    patient = (after_ai_cdk46i("p-ild").regimen(("capecitabine",), "2025-05-25", "2025-12-01")
               .progression("2025-11-25").regimen(("trastuzumab deruxtecan",), "2025-12-05", "2026-03-01")
               .ild("2026-02-20", text="Grade 2 pneumonitis"))
    state = patient.state(dt.date(2026, 4, 1))
    d = draft("t", "trastuzumab deruxtecan")
    cards = checked(order_check_cards(state, [d], None, "order-sign"), "p-ild", {d.reference})
    [card] = cards
    assert card["indicator"] == "critical" and card["source"]["topic"]["code"] == "order-contraindicated"
    assert card["summary"] == "Trastuzumab deruxtecan: after symptomatic ILD (2026-02-20) — do not start"
    assert ("ILD/pneumonitis began on trastuzumab deruxtecan (Enhertu label, B.11: grade 1 interrupted until "
            "resolved; symptomatic, grade >= 2, permanently discontinued)") in card["detail"]
    assert "Already treated with trastuzumab deruxtecan." in card["detail"]
    assert "1. Sacituzumab govitecan" in card["detail"]
    # removing the draft is the one pre-selected; the pathway's first replacement is offered beside it
    assert [s["label"] for s in card["suggestions"]][:2] == ["Remove the draft order: trastuzumab deruxtecan",
                                                           "Replace with Sacituzumab govitecan"]
    assert [s.get("isRecommended") for s in card["suggestions"]][:2] == [True, None]


def test_tdxd_and_dato_dxd_both_drafted_and_both_not_indicated_after_ild_on_tdxd_still_get_the_replacements():
    # the critical stop names both drafts; each not-indicated card (T-DXd given before, B.11; Dato-DXd
    # without prior chemotherapy, B.13) keeps its facts and the regimens that fit (C.2 step 3)
    patient = (after_ai_cdk46i("p-ild-two").regimen(("trastuzumab deruxtecan",), "2025-06-05", "2026-03-01")
               .ild("2026-02-20", text="Grade 2 pneumonitis"))
    state = patient.state(dt.date(2026, 4, 1))
    drafts = [draft("t", "trastuzumab deruxtecan"), draft("d", "datopotamab deruxtecan")]
    cards = checked(order_check_cards(state, drafts, None, "order-sign"), "p-ild-two", {d.reference for d in drafts})
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["summary"].startswith("Trastuzumab deruxtecan + datopotamab deruxtecan: after symptomatic ILD")
    summaries = [c["summary"] for c in cards]
    assert any(x.startswith("Trastuzumab deruxtecan: not indicated — ILD/pneumonitis began on") for x in summaries)
    assert any(x.startswith("Datopotamab deruxtecan: not indicated — 0 chemotherapy lines") for x in summaries)
    offered = [s["label"] for c in cards for s in c.get("suggestions", [])]
    assert "Replace with Everolimus + exemestane" in offered


def _type_1_diabetes_after_alpelisib():
    """Line 2 alpelisib + fulvestrant given (ended 200 days ago), type 1 diabetes, PIK3CA never tested."""
    state = after_first_line(base_state())
    state.therapy.exposures.append(Exposure(drugs=[drug("alpelisib"), drug("fulvestrant")], start=ago(300),
                                            end=ago(200), setting="metastatic",
                                            sources=[src("MedicationStatement/alp", 300)]))
    state.therapy.prior_pi3k_akt_mtor = True
    state.factors.diabetes = Diabetes(status="type1", on_antihyperglycemic=True, sources=[src("Condition/t1dm", 5000)])
    return state


def test_alpelisib_drafted_again_in_type_1_diabetes_gets_one_critical_card_with_only_the_removal_pre_selected():
    # the critical stop (C.2 safety overlays) takes over the not-indicated card (C.3 row 5): its
    # replacements and the glucose tests are offered, never pre-selected beside the removal
    cards = run(_type_1_diabetes_after_alpelisib(), [draft("a", "alpelisib")])
    [card] = cards
    assert card["indicator"] == "critical" and card["summary"].startswith("Alpelisib: type 1 diabetes")
    assert [s["label"] for s in card["suggestions"] if s.get("isRecommended")] == ["Remove the draft order: alpelisib"]
    assert "Order Hemoglobin A1c + Fasting glucose" in [s["label"] for s in card["suggestions"]]
    assert "Prior PI3K/AKT/mTOR inhibitor: excluded from SOLAR-1 (C.3 row 5)" in card["detail"]


def test_a_critical_stop_taking_over_a_not_indicated_card_keeps_what_that_card_said_was_not_documented():
    # the not-indicated card said "PIK3CA not tested" (the Piqray label's PIK3CA requirement, B.4)
    cards = run(_type_1_diabetes_after_alpelisib(), [draft("a", "alpelisib")])
    assert "**Also not documented**\n- PIK3CA not tested" in cards[0]["detail"]


def test_tdxd_after_asymptomatic_ild_is_a_warning_not_a_stop():
    state = after_first_line(base_state())
    state.factors.lung = LungDisease(ild_history=True, grade=1, symptomatic=False, sources=[src("Condition/ild", 300)])
    card = by_topic(run(state, [draft("t", "trastuzumab deruxtecan")]), "order-contraindicated")
    assert card["indicator"] == "warning"


@pytest.mark.parametrize("name", ["capivasertib", "alpelisib"])
def test_pi3k_akt_inhibitor_in_type_1_diabetes_is_critical(name):
    state = pik3ca(after_first_line(base_state()))
    state.factors.diabetes = Diabetes(status="type1", on_antihyperglycemic=True, sources=[src("Condition/t1dm", 5000)],
                                      hba1c=LabValue(value=7.2, unit="%", date=ago(20), sources=[src("Observation/a1c", 20)]),
                                      fasting_glucose=LabValue(value=130, date=ago(20), sources=[src("Observation/fpg", 20)]))
    cards = run(state, [draft("x", name), draft("f", "fulvestrant")])
    assert topics(cards) == ["order-contraindicated"]  # one glycaemic card, the critical one
    assert cards[0]["indicator"] == "critical" and "type 1 diabetes" in cards[0]["summary"]
    assert "Condition/t1dm" in cards[0]["detail"]


@pytest.mark.parametrize("value,unit", [(9.1, "%"), (75, "mmol/mol")])
def test_pi3k_inhibitor_with_hba1c_above_8_percent_is_critical(value, unit):
    state = pik3ca(after_first_line(base_state()))
    state.factors.diabetes = Diabetes(status="type2-treated", on_antihyperglycemic=True,
                                      hba1c=LabValue(value=value, unit=unit, date=ago(12), sources=[src("Observation/a1c", 12)]),
                                      sources=[src("Condition/t2dm", 4000)])
    cards = run(state, [draft("a", "alpelisib"), draft("f", "fulvestrant")])
    card = by_topic(cards, "order-contraindicated")
    assert card["indicator"] == "critical" and "HbA1c" in card["summary"]
    assert f"HbA1c {value:g} {unit}" in card["detail"] and ago(12).isoformat() in card["detail"]
    # fasting glucose missing: the card proposes it
    assert any("Fasting glucose" in a["resource"]["code"]["text"] for s in card["suggestions"] for a in s["actions"]
               if a["type"] == "create")
    # and the critical card offers to remove the drafted PI3K inhibitor (by resourceId)
    assert deleted(card["suggestions"][0]) == ["MedicationRequest/a"]


def test_pi3k_inhibitor_in_controlled_treated_type_2_diabetes_is_a_warning():
    state = pik3ca(after_first_line(base_state()))
    state.factors.diabetes = Diabetes(status="type2-treated", on_antihyperglycemic=True, sources=[src("Condition/t2dm", 4000)],
                                      hba1c=LabValue(value=6.9, unit="%", date=ago(12), sources=[src("Observation/a1c", 12)]),
                                      fasting_glucose=LabValue(value=118, date=ago(12), sources=[src("Observation/fpg", 12)]))
    cards = run(state, [draft("c", "capivasertib"), draft("f", "fulvestrant")])
    assert [(c["indicator"], topics([c])[0]) for c in cards] == [("warning", "order-contraindicated")]


@pytest.mark.parametrize("drafts,own,not_said", [
    (("capivasertib", "fulvestrant"), "Capivasertib (B.5)", "The safety of ITOVEBI"),
    (("alpelisib", "fulvestrant"), "Piqray label (B.4)", "The safety of ITOVEBI"),
    (("everolimus", "exemestane"), "Everolimus causes hyperglycaemia (B.8", "CAPItello"),
])
def test_the_order_hyperglycaemia_warning_quotes_the_drafted_drugs_own_source(drafts, own, not_said):
    state = pik3ca(after_first_line(base_state()))
    state.factors.diabetes = Diabetes(status="type2-treated", on_antihyperglycemic=True, sources=[src("Condition/t2dm", 4000)],
                                      hba1c=LabValue(value=6.9, unit="%", date=ago(12), sources=[src("Observation/a1c", 12)]),
                                      fasting_glucose=LabValue(value=118, date=ago(12), sources=[src("Observation/fpg", 12)]))
    card = by_topic(run(state, [draft(n[0], n) for n in drafts]), "order-contraindicated")
    assert card["indicator"] == "warning" and own in card["detail"] and not_said not in card["detail"]


def test_pi3k_inhibitor_without_recent_hba1c_proposes_the_glycaemic_tests_as_info():
    state = pik3ca(after_first_line(base_state()))
    state.factors.diabetes = Diabetes()
    cards = run(state, [draft("c", "capivasertib"), draft("f", "fulvestrant")])
    assert topics(cards) == ["test-glycemic"] and cards[0]["indicator"] == "info"
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in cards[0]["suggestions"][0]["actions"]]
    assert codes == ["4548-4", "1558-6"]


# --- the order hooks give patient-view's reasons for not recommending an order (review #2, #3, #7) ---

def _ild_on_first_line_cdk(cdk: str):
    state = after_first_line(base_state(), cdk=cdk)  # the line ended 30 days ago
    state.factors.lung = LungDisease(ild_history=True, grade=2, symptomatic=True, sources=[src("Condition/ild", 40)])
    return state


def test_an_order_for_the_cdk46_inhibitor_an_ild_began_on_names_the_drug_and_the_ild_date():
    cards = run(_ild_on_first_line_cdk("abemaciclib"), [draft("a", "abemaciclib"), draft("f", "fulvestrant")])
    card = by_topic(cards, "order-contraindicated")
    assert card["indicator"] == "warning"
    assert card["summary"] == f"Abemaciclib: ILD began on this drug ({ago(40).isoformat()}) — caution"
    assert f"diagnosed {ago(40).isoformat()}, during abemaciclib" in card["detail"] and "Condition/ild" in card["detail"]
    assert "permanently discontinue treatment in patients with severe ILD" in card["detail"]


def test_an_order_for_another_cdk46_inhibitor_after_ild_on_abemaciclib_gets_the_ild_history_caution_only():
    cards = run(_ild_on_first_line_cdk("abemaciclib"), [draft("r", "ribociclib"), draft("f", "fulvestrant")])
    card = by_topic(cards, "order-contraindicated")
    assert card["summary"].startswith("Ribociclib: ILD history")
    assert "during abemaciclib" not in card["detail"]


def test_an_endocrine_based_order_during_a_visceral_crisis_says_chemotherapy_first():
    state = base_state()
    state.disease.visceral_crisis = True
    state.disease.visceral_crisis_sources = [src("Condition/crisis", 5)]
    cards = run(state, [draft("l", "letrozole"), draft("r", "ribociclib")])
    card = by_topic(cards, "order-contraindicated")
    assert card["indicator"] == "warning" and "visceral crisis" in card["summary"]
    assert "chemotherapy first; endocrine-based therapy after stabilisation (C.2 step 2)" in card["detail"]


def _visceral_crisis_first_line():
    state = base_state()
    state.disease.visceral_crisis = True
    state.disease.visceral_crisis_sources = [src("Condition/crisis", 5)]
    return state


def _patient_view_recommended(state) -> list[tuple[str, str]]:
    """(regimen card summary head, its recommended suggestion's label) in patient-view order."""
    from cards.engine import patient_view_cards
    out = []
    for c in patient_view_cards(state)[1:]:
        card = c.to_json()
        rec = [s["label"] for s in card.get("suggestions", []) if s.get("isRecommended")]
        if card["source"]["topic"]["code"].startswith("test-") or not rec:
            continue
        out.append((card["summary"].split(":")[0], rec[0]))
    return out


def test_an_eribulin_order_in_a_visceral_crisis_offers_the_paclitaxel_patient_view_recommends():
    # regression B2: the replacement skipped the drafted regimen (single-agent chemotherapy),
    # so the card said "none fits" while patient-view ranks chemotherapy first (C.2 step 2)
    state = _visceral_crisis_first_line()
    assert _patient_view_recommended(state)[0] == ("Single-agent chemotherapy", "Order Paclitaxel")
    card = by_topic(run(state, [draft("e", "eribulin")]), "order-not-indicated")
    assert card["summary"].startswith("Eribulin: not indicated — No anthracycline documented")
    first = card["suggestions"][0]
    assert first["label"] == "Replace with Paclitaxel" and first["isRecommended"] is True
    assert deleted(first) == ["MedicationRequest/e"] and created_drugs(first) == ["paclitaxel"]
    assert "none fits the documented facts" not in card["detail"]
    fit = card["detail"].split("**Regimens that fit (pathway rank order)**\n")[1].split("\n\n")[0]
    assert fit.splitlines() == [
        "1. Single-agent chemotherapy: Paclitaxel",
        "2. Aromatase inhibitor + CDK4/6 inhibitor — no order recommended now: visceral crisis",
        "3. Fulvestrant + CDK4/6 inhibitor — no order recommended now: visceral crisis",
    ]


@pytest.mark.parametrize("drafts", [("eribulin",), ("elacestrant",), ("alpelisib", "fulvestrant"),
                                    ("inavolisib", "palbociclib", "fulvestrant"), ("olaparib",)])
def test_an_order_card_never_says_none_fits_when_patient_view_recommends_an_order(drafts):
    state = _visceral_crisis_first_line()
    recommended = _patient_view_recommended(state)
    card = by_topic(run(state, [draft(n[:3], n) for n in drafts]), "order-not-indicated")
    assert recommended and "none fits the documented facts" not in card["detail"]
    # the order card's recommended replacement is patient-view's first recommended order
    rec = [s["label"] for s in card["suggestions"] if s.get("isRecommended")]
    assert rec == [recommended[0][1].replace("Order ", "Replace with ", 1)]


def test_a_ribociclib_order_with_qtc_450_or_more_says_it_should_not_be_started():
    state = base_state()
    state.factors.qtc_ms = LabValue(value=470, date=ago(5), sources=[src("Observation/ecg", 5)])
    card = by_topic(run(state, [draft("f", "fulvestrant"), draft("r", "ribociclib")]), "order-contraindicated")
    assert card["indicator"] == "warning" and "QTc >= 450 ms" in card["summary"]
    assert "ribociclib should not be started" in card["detail"]


def test_a_letrozole_ribociclib_order_with_qtc_470_offers_the_letrozole_abemaciclib_patient_view_recommends():
    state = base_state()
    state.factors.qtc_ms = LabValue(value=470, date=ago(5), sources=[src("Observation/ecg", 5)])
    assert ("Aromatase inhibitor + CDK4/6 inhibitor", "Order Letrozole + abemaciclib") in _patient_view_recommended(state)
    card = by_topic(run(state, [draft("l", "letrozole"), draft("r", "ribociclib")]), "order-contraindicated")
    assert card["summary"].startswith("Ribociclib: QTc >= 450 ms")
    first = card["suggestions"][0]
    assert first["label"] == "Replace with Letrozole + abemaciclib" and first["isRecommended"] is True
    assert deleted(first) == ["MedicationRequest/r"] and created_drugs(first) == ["abemaciclib"]
    assert all("ribociclib" not in created_drugs(x) for x in card["suggestions"])


def test_a_letrozole_palbociclib_order_in_a_visceral_crisis_offers_the_paclitaxel_patient_view_recommends():
    state = _visceral_crisis_first_line()
    card = by_topic(run(state, [draft("l", "letrozole"), draft("p", "palbociclib")]), "order-contraindicated")
    assert "visceral crisis" in card["summary"]
    first = card["suggestions"][0]
    assert first["label"] == "Replace with Paclitaxel" and first["isRecommended"] is True
    assert sorted(deleted(first)) == ["MedicationRequest/l", "MedicationRequest/p"] and created_drugs(first) == ["paclitaxel"]
    assert "1. Single-agent chemotherapy: Paclitaxel" in card["detail"]


def test_replacements_never_propose_the_ribociclib_combination_patient_view_does_not_recommend():
    state = base_state()
    state.factors.qtc_ms = LabValue(value=470, date=ago(5), sources=[src("Observation/ecg", 5)])
    card = by_topic(run(state, [draft("e", "elacestrant")]), "order-not-indicated")
    replacements = [created_drugs(s) for s in card["suggestions"] if s["label"].startswith("Replace")]
    assert replacements and all("ribociclib" not in drugs for drugs in replacements)
    assert ["letrozole", "abemaciclib"] in replacements


# --- order-incomplete-regimen ------------------------------------------------

def test_first_line_aromatase_inhibitor_without_cdk46_inhibitor_in_endocrine_sensitive_disease():
    state = adjuvant_relapse(base_state(), months_after_end=30)  # > 12 months: endocrine-sensitive
    cards = run(state, [draft("l", "letrozole")])
    card = by_topic(cards, "order-incomplete-regimen")
    assert card["indicator"] == "info"
    assert [created_drugs(s) for s in card["suggestions"]] == [["ribociclib"], ["abemaciclib"], ["palbociclib"]]
    assert card["suggestions"][0]["isRecommended"] is True


@pytest.mark.parametrize("name", ["capivasertib", "alpelisib"])
def test_capivasertib_or_alpelisib_without_fulvestrant_is_incomplete(name):
    cards = run(pik3ca(after_first_line(base_state())), [draft("x", name)])
    card = by_topic(cards, "order-incomplete-regimen")
    assert card["indicator"] == "warning" and "without fulvestrant" in card["summary"]
    assert created_drugs(card["suggestions"][0]) == ["fulvestrant"]
    assert "labelled only" in card["detail"]


@pytest.mark.parametrize("drafts", [[("l", "letrozole"), ("r", "ribociclib")], [("f", "fulvestrant")]])
def test_endocrine_therapy_for_a_premenopausal_woman_without_ovarian_suppression_adds_goserelin(drafts):
    state = base_state() if len(drafts) == 2 else after_first_line(base_state())
    state.factors.menopausal_status = "premenopausal"
    cards = run(state, [draft(i, n) for i, n in drafts])
    card = by_topic(cards, "order-incomplete-regimen")
    assert card["indicator"] == "warning" and "ovarian suppression" in card["summary"]
    assert created_drugs(card["suggestions"][0]) == ["goserelin"]


def test_ovarian_suppression_drafted_or_documented_completes_the_regimen():
    state = base_state()
    state.factors.menopausal_status = "premenopausal"
    assert run(state, [draft("l", "letrozole"), draft("r", "ribociclib"), draft("g", "goserelin")]) == []
    state.factors.ovarian_suppression = True
    assert run(state, [draft("l", "letrozole"), draft("r", "ribociclib")]) == []


# --- fits, so silent ---------------------------------------------------------

def test_capivasertib_with_fulvestrant_for_a_pik3ca_mutated_tumour_after_first_line_is_silent():
    assert run(pik3ca(after_first_line(base_state())), [draft("c", "capivasertib"), draft("f", "fulvestrant")]) == []


def test_first_line_ai_with_ribociclib_de_novo_is_silent():
    assert run(base_state(), [draft("l", "letrozole"), draft("r", "ribociclib")]) == []


def test_inavolisib_triplet_after_early_adjuvant_relapse_with_pik3ca_is_silent():
    state = pik3ca(adjuvant_relapse(base_state(), months_after_end=6))
    assert run(state, [draft("i", "inavolisib"), draft("p", "palbociclib"), draft("f", "fulvestrant")]) == []


def test_inavolisib_triplet_after_a_late_adjuvant_relapse_says_the_relapse_was_more_than_12_months_after():
    state = pik3ca(adjuvant_relapse(base_state(), months_after_end=30))
    card = by_topic(run(state, [draft("i", "inavolisib"), draft("p", "palbociclib"), draft("f", "fulvestrant")]),
                    "order-not-indicated")
    assert card["summary"].startswith("Inavolisib + palbociclib + fulvestrant: not indicated — Recurrence 30.0 "
                                      "months (more than 12) after completing adjuvant endocrine therapy")
    end = state.therapy.adjuvant_endocrine_end.isoformat()
    assert f"(more than 12) after completing adjuvant endocrine therapy (ended {end}) — MedicationStatement/adj" \
        in card["detail"]


def test_tdxd_for_her2_low_after_one_endocrine_line_is_silent():
    assert run(after_first_line(base_state()), [draft("t", "trastuzumab deruxtecan")]) == []


def test_talazoparib_for_germline_brca_is_silent():
    state = after_first_line(base_state())
    state.biomarkers = Biomarkers(results=[variant("BRCA1", origin="germline", specimen="blood")])
    assert run(state, [draft("t", "talazoparib")]) == []


def test_elacestrant_for_a_postmenopausal_woman_with_current_esr1_mutation_is_silent():
    state = after_first_line(base_state())
    state.biomarkers = Biomarkers(results=[variant("ESR1", specimen="ctdna", days=15)], esr1_current=True)
    no_noise(run(state, [draft("e", "elacestrant")]))
    assert run(state, [draft("e", "elacestrant")]) == []


def test_non_oncology_drafts_and_drugs_outside_the_pathway_get_no_cards():
    metformin = DraftOrder(resource_type="MedicationRequest", resource_id="m", reference="MedicationRequest/m",
                           drugs=[Drug(name="metformin", rxnorm="6809", drug_class="antihyperglycemic")],
                           text="metformin 500 MG Oral Tablet")
    lab = DraftOrder(resource_type="ServiceRequest", resource_id="s", reference="ServiceRequest/s", text="CBC")
    unknown = DraftOrder(resource_type="MedicationRequest", resource_id="u", reference="MedicationRequest/u",
                         text="ondansetron 8 mg")
    assert run(after_first_line(base_state()), [metformin, lab, unknown, draft("t", "tamoxifen")]) == []


def test_renewing_the_current_line_is_not_rechecked_against_first_line_rules():
    state = after_first_line(base_state())
    for item in (state.therapy.exposures[0], state.therapy.metastatic_lines[0]):
        item.active, item.end = True, None
    assert run(state, [draft("p", "palbociclib")]) == []


# --- order-select vs order-sign ----------------------------------------------

def test_order_select_counts_an_already_drafted_fulvestrant_as_the_capivasertib_partner():
    state = pik3ca(after_first_line(base_state()))
    drafts = [draft("c", "capivasertib"), draft("f", "fulvestrant")]
    assert run(state, drafts, ["MedicationRequest/c"], "order-select") == []


def test_order_select_speaks_only_about_the_selected_order():
    state = after_first_line(base_state())
    state.her2 = HER2Status(category="null", ihc_score="0", date=ago(90), sources=[src("Observation/her2-null", 90)])
    drafts = [draft("t", "trastuzumab deruxtecan"), draft("f", "fulvestrant")]
    assert run(state, drafts, ["MedicationRequest/f"], "order-select") == []
    selected = run(state, drafts, ["MedicationRequest/t"], "order-select")
    # HER2-null T-DXd, and T-DXd beside fulvestrant (T-DXd is a single agent, B.11)
    assert topics(selected) == ["order-not-indicated", "order-not-indicated"]
    assert "overrideReasons" not in selected[0]
    signed = run(state, drafts, None, "order-sign")
    assert topics(signed) == ["order-not-indicated", "order-not-indicated"] and signed[0]["overrideReasons"]


def test_picking_the_backbone_beside_an_unsuitable_partner_does_not_repeat_the_partner_card():
    state = pik3ca(after_first_line(base_state()), variant("AKT1"), variant("PIK3CA", result="not-detected"))
    drafts = [draft("a", "alpelisib"), draft("f", "fulvestrant")]
    assert run(state, drafts, ["MedicationRequest/f"], "order-select") == []
    assert topics(run(state, drafts, ["MedicationRequest/a"], "order-select")) == ["order-not-indicated"]


def test_order_sign_override_reasons_are_codings_with_display():
    state = after_first_line(base_state())
    state.factors.menopausal_status = "premenopausal"
    cards = run(state, [draft("v", "everolimus"), draft("x", "exemestane")])
    reasons = cards[0]["overrideReasons"]
    displays = {r["display"] for r in reasons}
    assert "Patient enrolled in a clinical trial" in displays
    assert "Benefit outweighs risk, discussed with patient" in displays
    assert all(r["system"] == "https://mbc-cds.org/fhir/CodeSystem/order-override-reason" for r in reasons)


def test_cards_come_critical_first_and_summaries_stay_under_140_characters():
    state = pik3ca(after_first_line(base_state()), variant("AKT1"), variant("PIK3CA", result="not-detected"))
    state.factors.lung = LungDisease(ild_history=True, grade=3, sources=[src("Condition/ild", 60)])
    state.factors.diabetes.status = "type1"
    cards = run(state, [draft("a", "alpelisib"), draft("t", "trastuzumab deruxtecan"), draft("l", "letrozole")])
    ranks = [{"critical": 0, "warning": 1, "info": 2}[c["indicator"]] for c in cards]
    assert ranks == sorted(ranks) and ranks[0] == 0
    assert all(len(c["summary"]) < 140 for c in cards)


# --- robustness and knowledge file -------------------------------------------

def test_a_draft_without_id_gets_its_card_but_no_delete_action():
    state = after_first_line(base_state())
    state.factors.menopausal_status = "premenopausal"
    state.biomarkers = Biomarkers(results=[variant("ESR1", specimen="ctdna", days=15)], esr1_current=True)
    anonymous = DraftOrder(resource_type="MedicationRequest", drugs=draft("x", "elacestrant").drugs, text="Orserdu")
    cards = run(state, [anonymous])
    card = by_topic(cards, "order-not-indicated")
    assert all(deleted(s) == [] for s in card["suggestions"])
    assert "MedicationRequest (no id)" in card["detail"]


def test_selections_given_as_absolute_urls_still_match_the_drafts():
    state = after_first_line(base_state())
    cards = run(state, [draft("e", "elacestrant")], ["https://ehr.example.org/fhir/MedicationRequest/e"], "order-select")
    assert topics(cards) == ["order-biomarker-missing"]


def test_critical_and_her2_positive_cards_offer_to_remove_the_draft():
    state = after_first_line(base_state())
    state.factors.lung = LungDisease(ild_history=True, grade=3, sources=[src("Condition/ild", 60)])
    card = by_topic(run(state, [draft("t", "trastuzumab deruxtecan")]), "order-contraindicated")
    assert deleted(card["suggestions"][0]) == ["MedicationRequest/t"]
    assert "enhertuhcp.com" in card["source"]["url"]
    state.her2 = HER2Status(category="positive", ihc_score="3+", date=ago(40), sources=[src("Observation/her2-3", 40)])
    state.factors.lung = LungDisease()
    card = by_topic(run(state, [draft("z", "talazoparib")]), "order-not-indicated")
    assert deleted(card["suggestions"][0]) == ["MedicationRequest/z"]


def test_a_broken_order_rules_file_fails_at_load(tmp_path):
    import yaml

    from cards.orders import RULES_FILE, load_order_rules

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    data["safety"][0]["caution_rule"] = "no_such_rule"  # the safety stops name regimens.yaml cautions
    broken = tmp_path / "order_rules.yaml"
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match="no_such_rule"):
        load_order_rules(broken)



def test_an_order_safety_check_that_an_unconfirmed_condition_alone_can_raise_without_short_unconfirmed_fails_at_load(
        tmp_path):
    import yaml

    from cards.orders import RULES_FILE, load_order_rules

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    entry = next(s for s in data["safety"] if s["id"] == "hyperglycemia-capivasertib")
    del entry["short_unconfirmed"]
    broken = tmp_path / "order_rules.yaml"
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match="safety hyperglycemia-capivasertib: rule diabetes_or_hyperglycemia"):
        load_order_rules(broken)


# --- pathway placement is not always the label -------------------------------

def test_talazoparib_first_line_for_germline_brca_gets_no_warning_its_label_has_no_line_clause_only_the_placement_as_info():
    # ord7: the pathway's placement (CR C.2 step 3), which patient-view names under "Not offered
    # now", is said on an info card; no warning, the label allows it
    state = base_state()
    state.biomarkers = Biomarkers(results=[variant("BRCA2", origin="germline", specimen="blood")])
    cards = run(state, [draft("z", "talazoparib")])
    assert [(c["indicator"], c["summary"]) for c in cards] == [
        ("info", "Talazoparib: label met; the pathway places PARP inhibitors after endocrine-based therapy (CR C.2 step 3)")]


def test_first_line_chemotherapy_is_guideline_sequencing_not_a_label_contradiction():
    assert run(base_state(), [draft("c", "capecitabine")]) == []


def test_eribulin_without_its_label_pretreatment_is_not_indicated_and_says_which_requirement_is_missing():
    card = by_topic(run(after_first_line(base_state()), [draft("e", "eribulin")]), "order-not-indicated")
    assert card["summary"].startswith("Eribulin: not indicated — No anthracycline documented; no taxane documented; "
                                      "0 chemotherapy lines for metastatic disease, at least 2")
    assert ("at least 2 needed (none documented). Eribulin label: after an anthracycline and a taxane and >= 2 "
            "chemotherapy regimens for metastatic disease") in card["detail"]


def test_an_aromatase_inhibitor_alone_after_progression_is_a_labelled_option_and_silent():
    assert run(after_first_line(base_state(), ai="letrozole"), [draft("x", "exemestane")]) == []


def test_everolimus_first_line_names_the_failed_label_requirement_not_only_the_phase():
    card = by_topic(run(base_state(), [draft("v", "everolimus"), draft("x", "exemestane")]), "order-not-indicated")
    assert "No prior non-steroidal aromatase inhibitor" in card["summary"]
    assert "Label vs pathway placement" in card["detail"]
    assert "no line clause" in card["detail"]


@pytest.mark.parametrize("ai", ["letrozole", "anastrozole"])
def test_everolimus_first_line_after_relapse_on_an_adjuvant_nonsteroidal_ai_is_not_called_not_indicated(ai):
    # Afinitor label (B.8): "after failure of treatment with letrozole or anastrozole", no
    # line clause; the relapse on the adjuvant AI is that failure (C.3 row 8)
    state = adjuvant_relapse(base_state(), months_after_end=3, ai=ai)
    cards = run(state, [draft("v", "everolimus"), draft("x", "exemestane")])
    assert not [c for c in cards if c["source"]["topic"]["code"] == "order-not-indicated"]
    assert not [c for c in cards if c["indicator"] != "info"]


def test_everolimus_first_line_after_an_adjuvant_steroidal_ai_is_still_not_indicated_by_its_label():
    state = adjuvant_relapse(base_state(), months_after_end=3, ai="exemestane")
    card = by_topic(run(state, [draft("v", "everolimus"), draft("x", "exemestane")]), "order-not-indicated")
    assert "No prior non-steroidal aromatase inhibitor" in card["summary"]


def test_override_reasons_fit_the_card_topic():
    state = after_first_line(base_state())
    incomplete = by_topic(run(pik3ca(state), [draft("c", "capivasertib")]), "order-incomplete-regimen")
    assert "partner-ordered-separately" in {r["code"] for r in incomplete["overrideReasons"]}
    missing = by_topic(run(after_first_line(base_state()), [draft("e", "elacestrant")]), "order-biomarker-missing")
    codes = {r["code"] for r in missing["overrideReasons"]}
    assert {"clinical-trial", "outside-data"} <= codes and "partner-ordered-separately" not in codes


# --- review fixes --------------------------------------------------------------

def _after_serd(state, serd):
    """after_first_line, then a second (ended) metastatic line of the oral SERD."""
    from mappings.state import Exposure, TherapyLine
    from tests.orders.states import drug
    start, end = ago(200), ago(20)
    srcs = [src("MedicationStatement/l2", 200)]
    th = state.therapy
    th.exposures = [*th.exposures, Exposure(drugs=[drug(serd)], start=start, end=end, setting="metastatic",
                                            sources=srcs)]
    th.metastatic_lines = [*th.metastatic_lines, TherapyLine(number=2, drugs=[drug(serd)], start=start, end=end,
                                                             endocrine=True, sources=srcs)]
    th.metastatic_endocrine_lines = th.metastatic_systemic_lines = 2
    return state


@pytest.mark.parametrize("serd", ["elacestrant", "imlunestrant"])
def test_reordering_an_oral_serd_after_progression_on_it_is_not_indicated(serd):
    state = _after_serd(after_first_line(base_state()), serd)
    state.biomarkers = Biomarkers(results=[variant("ESR1", specimen="ctdna", days=15)], esr1_current=True)
    card = by_topic(run(state, [draft("e", serd)]), "order-not-indicated")
    assert card["indicator"] == "warning"
    assert f"Already treated with {serd}" in card["summary"]
    assert "MedicationStatement/l2" in card["detail"]


def test_reordering_fulvestrant_alone_after_progression_on_it_is_not_indicated_and_offers_a_cdk46_partner():
    # fulvestrant alone is a regimen of its own (excluded: already given), not only the
    # backbone of fulvestrant + CDK4/6 inhibitor, which still fits and is the replacement
    state = _after_serd(after_first_line(base_state()), "fulvestrant")
    state.therapy.prior_fulvestrant = True
    card = by_topic(run(state, [draft("f", "fulvestrant")]), "order-not-indicated")
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Fulvestrant: not indicated — Already treated with fulvestrant")
    assert "Prior fulvestrant in line 2" in card["detail"] and "MedicationStatement/l2" in card["detail"]
    assert "Fulvestrant + CDK4/6 inhibitor" in card["detail"]
    # postMONARCH: abemaciclib first after a CDK4/6 inhibitor; the fulvestrant draft stays
    partner = [s for s in card["suggestions"] if s["label"] == "Replace with Fulvestrant + abemaciclib"]
    assert partner and created_drugs(partner[0]) == ["abemaciclib"] and not deleted(partner[0])


def test_fulvestrant_alone_after_progression_on_an_ai_stays_a_silent_labelled_option():
    assert run(after_first_line(base_state()), [draft("f", "fulvestrant")]) == []


def test_fulvestrant_with_a_cdk46_inhibitor_after_progression_on_fulvestrant_alone_is_silent():
    state = _after_serd(after_first_line(base_state()), "fulvestrant")
    state.therapy.prior_fulvestrant = True
    assert run(state, [draft("f", "fulvestrant"), draft("a", "abemaciclib")]) == []


def test_talazoparib_for_a_germline_brca_variant_without_a_classification_asks_for_it():
    state = after_first_line(base_state())
    state.biomarkers = Biomarkers(results=[variant("BRCA1", origin="germline", specimen="blood",
                                                   significance="not-reported")])
    card = by_topic(run(state, [draft("t", "talazoparib")]), "order-biomarker-missing")
    assert card["indicator"] == "warning"
    assert "germline BRCA1/2" in card["summary"]
    assert "without a reported classification" in card["detail"]


# D9: abemaciclib alone is labelled only after endocrine therapy AND prior chemotherapy
# in the metastatic setting (B.10, ind:fda.verzenio:3; C.2 step 4).

def _with_metastatic_chemo(state):
    from mappings.state import Exposure, TherapyLine
    from tests.orders.states import drug
    start, end = ago(200), ago(20)
    srcs = [src("MedicationStatement/l2", 200)]
    th = state.therapy
    th.exposures = [*th.exposures, Exposure(drugs=[drug("capecitabine")], start=start, end=end,
                                            setting="metastatic", sources=srcs)]
    th.metastatic_lines = [*th.metastatic_lines, TherapyLine(number=2, drugs=[drug("capecitabine")], start=start,
                                                             end=end, chemotherapy=True, sources=srcs)]
    th.metastatic_systemic_lines, th.metastatic_chemotherapy_lines = 2, 1
    th.prior_chemotherapy_any_setting = True
    return state


@pytest.mark.parametrize("state_of", [lambda: after_first_line(base_state()), base_state],
                         ids=["after-endocrine-progression", "first-line"])
def test_abemaciclib_alone_without_prior_metastatic_chemotherapy_is_a_warning_not_its_monotherapy_label(state_of):
    card = by_topic(run(state_of(), [draft("a", "abemaciclib")]), "order-incomplete-regimen")
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Abemaciclib drafted without")
    assert "prior chemotherapy in the metastatic setting" in card["detail"]
    assert "0 chemotherapy lines for metastatic disease" in card["detail"]
    assert created_drugs(card["suggestions"][0])  # add the endocrine partner


def test_abemaciclib_alone_after_endocrine_therapy_and_metastatic_chemotherapy_is_its_labelled_monotherapy():
    no_noise(run(_with_metastatic_chemo(after_first_line(base_state())), [draft("a", "abemaciclib")]))


# D10: C.2 safety overlays: "Ribociclib: ... Tamoxifen combination -> warning (UNVERIFIED label statement)".

def test_ribociclib_drafted_with_tamoxifen_gets_an_unverified_tamoxifen_combination_warning():
    cards = run(base_state(), [draft("r", "ribociclib"), draft("t", "tamoxifen")])
    warn = [c for c in cards if "tamoxifen" in c["summary"].lower() and c["source"]["topic"]["code"] == "order-contraindicated"]
    assert len(warn) == 1 and warn[0]["indicator"] == "warning"
    assert "UNVERIFIED" in warn[0]["detail"]
    assert "MedicationRequest/t" in warn[0]["detail"]  # the triggering fact


def test_ribociclib_with_letrozole_gets_no_tamoxifen_warning():
    cards = run(base_state(), [draft("r", "ribociclib"), draft("l", "letrozole")])
    assert not any("tamoxifen" in c["summary"].lower() for c in cards)


# D7 / D8: the order checks follow the labels where the pathway's placement (after
# progression) is not a label clause: olaparib (no line clause, B.6) and T-DXd label B
# (recurrence within 6 months of adjuvant chemotherapy, B.11).

def _early_relapse_after_adjuvant_chemo_and_et(state):
    from mappings.state import Exposure
    from tests.orders.states import drug
    state = adjuvant_relapse(state, months_after_end=3)
    th = state.therapy
    th.exposures = [*th.exposures, Exposure(drugs=[drug("paclitaxel")], start=ago(900), end=ago(200),
                                            setting="early", sources=[src("MedicationStatement/adj-chemo", 900)])]
    th.prior_chemotherapy_any_setting = True
    th.chemotherapy_within_6_months_of_adjuvant_end = True
    return state


def test_olaparib_first_line_is_not_called_not_indicated_when_its_label_conditions_are_met():
    state = _early_relapse_after_adjuvant_chemo_and_et(base_state())
    state.biomarkers = Biomarkers(results=[variant("BRCA2", origin="germline", specimen="blood")])
    assert not [c for c in run(state, [draft("o", "olaparib")]) if c["indicator"] != "info"]


def test_olaparib_first_line_without_any_prior_chemotherapy_is_not_indicated_by_its_label():
    state = base_state()
    state.biomarkers = Biomarkers(results=[variant("BRCA2", origin="germline", specimen="blood")])
    card = by_topic(run(state, [draft("o", "olaparib")]), "order-not-indicated")
    assert "No prior chemotherapy" in card["summary"]
    assert "Label vs pathway placement" in card["detail"]


def test_tdxd_first_line_by_label_b_relapse_within_6_months_of_adjuvant_chemotherapy_is_not_called_not_indicated():
    state = _early_relapse_after_adjuvant_chemo_and_et(base_state())
    assert not [c for c in run(state, [draft("t", "trastuzumab deruxtecan")]) if c["indicator"] != "info"]


def test_tdxd_first_line_without_either_label_route_is_not_indicated():
    card = by_topic(run(base_state(), [draft("t", "trastuzumab deruxtecan")]), "order-not-indicated")
    assert "0 endocrine-based lines for metastatic disease" in card["detail"]
    assert "No chemotherapy for metastatic disease and no relapse within 6 months" in card["detail"]


# D13: C.2 step 2 "Men -> AI + CDK4/6i with LHRH agonist".

def test_a_man_drafted_letrozole_ribociclib_without_an_lhrh_agonist_is_prompted_to_add_one():
    state = base_state()
    state.factors.sex, state.factors.menopausal_status, state.factors.menopausal_basis = "male", "unknown", "male"
    card = by_topic(run(state, [draft("l", "letrozole"), draft("r", "ribociclib")]), "order-incomplete-regimen")
    assert card["indicator"] == "warning"
    assert "LHRH agonist" in card["summary"] and "woman" not in card["summary"]
    assert created_drugs(card["suggestions"][0]) == ["goserelin"]


def test_a_man_drafted_fulvestrant_ribociclib_needs_no_lhrh_agonist():
    state = base_state()
    state.factors.sex, state.factors.menopausal_status, state.factors.menopausal_basis = "male", "unknown", "male"
    cards = run(state, [draft("f", "fulvestrant"), draft("r", "ribociclib")])
    # no LHRH agonist card; only patient-view's "fulvestrant off-label (man)" caution
    # (tests/orders/test_order_consistency.py)
    assert [c["summary"] for c in cards] == ["Fulvestrant: off-label (man) — caution"]


def test_a_regimen_the_order_hook_would_stop_is_never_offered_as_a_replacement():
    # D3 consistency: type 1 diabetes stops capivasertib/alpelisib, so a not-indicated
    # everolimus order must not propose them as "Replace with"
    from tests.cards import states as S
    state = S.with_variants(S.with_lines(S.her2(S.base(PID), "null", "0"), ("letrozole", "palbociclib"),
                                         ("fulvestrant", "abemaciclib")), S.variant("PIK3CA", "p.H1047R"))
    state = S.factors(state, menopausal_status="premenopausal", age=44, diabetes=S.Diabetes(
        status="type1", on_antihyperglycemic=True, sources=S.src("Condition/t1dm")))
    card = by_topic(run(state, [draft("e", "everolimus"), draft("x", "exemestane")]), "order-not-indicated")
    offered = [d for s in card["suggestions"] for d in created_drugs(s)]
    assert offered and not {"capivasertib", "alpelisib", "inavolisib"} & set(offered)


# --- outside the pathway: label scope only (Synthea robustness run D3, D4, D2) ---

def her2_positive(state):
    state.her2 = HER2Status(category="positive", ihc_score="3+", date=ago(40), sources=[src("Observation/her2-3", 40)])
    return state


def non_metastatic(state, days: int = 80):
    """Documented cM0 (the mapping reads metastatic "no" and keeps the M0 as its source)."""
    from mappings.state import Disease, Source
    state.disease = Disease(breast_cancer="yes", primary_diagnosis_date=ago(90), primary_sources=[src("Condition/bc", 90)],
                            metastatic="no", non_metastatic_sources=[Source(reference="Observation/cm0", date=ago(days),
                                                                        display="M0 (21907-1)")])
    return state


@pytest.mark.parametrize("drafts, cdk, quote", [
    (("letrozole", "palbociclib"), "palbociclib", "(HER2)-negative locally advanced or metastatic breast cancer"),
    (("letrozole", "ribociclib"), "ribociclib", "HR+, HER2− advanced or metastatic breast cancer in combination with"),
    (("fulvestrant", "abemaciclib"), "abemaciclib", "HR+, HER2− advanced or metastatic breast cancer with disease"),
])
def test_cdk46_inhibitor_in_her2_positive_disease_is_not_indicated_with_the_label_quote(drafts, cdk, quote):
    state = her2_positive(base_state())
    cards = run(state, [draft(n[0], n) for n in drafts])
    assert topics(cards) == ["order-not-indicated"]
    card = cards[0]
    assert card["summary"].startswith(f"{cdk.capitalize()}: not indicated — HER2-positive disease documented")
    assert drafts[0] not in card["summary"].lower()  # the AI / fulvestrant is not called not indicated
    assert f"- {cdk}: \"" in card["detail"] and quote in card["detail"] and "Observation/her2-3" in card["detail"]
    assert deleted(card["suggestions"][0]) == [f"MedicationRequest/{cdk[0]}"]  # only the CDK4/6 inhibitor draft


@pytest.mark.parametrize("name", ["letrozole", "fulvestrant", "anastrozole"])
def test_an_aromatase_inhibitor_or_fulvestrant_alone_in_her2_positive_disease_stays_silent(name):
    assert run(her2_positive(base_state()), [draft("x", name)]) == []


@pytest.mark.parametrize("hook", ["order-sign", "order-select"])
def test_a_documented_cm0_patients_elacestrant_order_is_not_indicated_without_a_test_or_a_removal(hook):
    state = non_metastatic(base_state())
    cards = run(state, [draft("e", "elacestrant")], ["MedicationRequest/e"] if hook == "order-select" else None, hook)
    assert topics(cards) == ["order-not-indicated"]  # no ESR1 ctDNA test proposal (order-biomarker-missing)
    card = cards[0]
    assert card["indicator"] == "warning" and not card.get("suggestions")  # no removal pre-selected
    assert card["summary"].startswith("Elacestrant: not indicated — no metastatic disease documented "
                                      f"(M0 (21907-1), {ago(80).isoformat()})")
    assert f"- M0 (21907-1) — Observation/cm0 ({ago(80).isoformat()})" in card["detail"]
    assert ("ESR1-mutated advanced or metastatic breast cancer with disease progression following at least one "
            "line of endocrine therapy\" (clinical-reference.md B.2") in card["detail"]
    assert ("This service checks metastatic HR+/HER2- breast cancer; if the disease is locally advanced and "
            "unresectable, the label's 'advanced' may apply.") in card["detail"]


@pytest.mark.parametrize("drafts", [("abemaciclib",), ("letrozole",), ("letrozole", "abemaciclib"),
                                    ("letrozole", "ribociclib"), ("olaparib",), ("trastuzumab deruxtecan",),
                                    ("paclitaxel",)])
def test_a_documented_cm0_patients_orders_with_an_early_breast_cancer_label_stay_silent(drafts):
    # abemaciclib (monarchE), ribociclib (NATALEE), AIs, olaparib (OlympiA), T-DXd (2026 early HER2+
    # approvals), chemotherapy: an early-stage indication exists, so no "not indicated"
    state = non_metastatic(base_state())
    assert run(state, [draft(n, n) for n in drafts]) == []


@pytest.mark.parametrize("name, extra, glycemic", [("everolimus", "exemestane", True),
                                                   ("capivasertib", "fulvestrant", True),
                                                   ("sacituzumab govitecan", None, False),
                                                   ("palbociclib", "letrozole", False)])
def test_a_documented_cm0_patients_advanced_disease_only_drug_is_not_indicated_and_only_a_pi3k_mtor_inhibitor_gets_the_glucose_tests(
        name, extra, glycemic):
    # no pathway testing card (biomarkers), but the labels' "before initiating" HbA1c / fasting
    # glucose stays next to this advisory card: the drug may still be given (regression B1)
    state = non_metastatic(base_state())
    state.factors.diabetes = Diabetes()  # no HbA1c, no fasting glucose
    drafts = [draft("x", name)] + ([draft("y", extra)] if extra else [])
    cards = run(state, drafts)
    assert topics(cards) == ["order-not-indicated"] + (["test-glycemic"] if glycemic else [])
    assert name in cards[0]["summary"].lower() and not cards[0].get("suggestions")


@pytest.mark.parametrize("name, partners", [("alpelisib", ("fulvestrant",)), ("capivasertib", ("fulvestrant",)),
                                            ("everolimus", ("exemestane",)),
                                            ("inavolisib", ("palbociclib", "fulvestrant"))])
def test_a_documented_cm0_diabetic_patients_pi3k_mtor_order_gets_the_advisory_card_and_the_hyperglycaemia_warning(
        name, partners):
    # regression B1: the advisory non-metastatic card (no removal) hid the drug-level
    # diabetes caution and its HbA1c / fasting glucose orders (C.2 safety overlays, C.3 row 14)
    import datetime as dt
    from tests.cards.fhir_builder import FhirPatient
    p = FhirPatient(PID).primary("2024-02-20").m0("2024-03-02").er("positive", "2024-02-20")
    p.pr("positive", "2024-02-20").her2("1+", "2024-02-20").menopause("postmenopausal", "2024-02-20")
    p.diabetes(2, "2015-01-01").hba1c(6.6, "2025-05-20")
    state = p.state(dt.date(2026, 6, 1))
    assert state.disease.metastatic == "no"
    cards = run(state, [draft("x", name)] + [draft(f"y{i}", n) for i, n in enumerate(partners)])
    assert topics(cards) == ["order-contraindicated", "order-not-indicated"]
    warn, advisory = cards
    assert advisory["summary"].startswith(f"{name.capitalize()}") and "no metastatic disease documented" in advisory["summary"]
    assert not advisory.get("suggestions")  # advisory: nothing pre-selected
    assert warn["indicator"] == "warning"
    assert warn["summary"] == f"{name.capitalize()}: diabetes/hyperglycaemia (2025-05-20) — caution"
    assert "HbA1c 6.6 %" in warn["detail"]
    order = [s for s in warn["suggestions"] if s.get("isRecommended")]
    assert [s["label"] for s in order] == ["Order Hemoglobin A1c + Fasting glucose"]
    codes = {c["code"] for a in order[0]["actions"] for c in a["resource"]["code"].get("coding", [])}
    assert {"4548-4", "1558-6"} <= codes


def test_a_her2_positive_patients_alpelisib_order_keeps_only_the_definitive_not_indicated_card():
    # the HER2-positive card pre-selects the removal: no warning or testing card next to it
    state = her2_positive(base_state())
    state.factors.diabetes = Diabetes(status="type2-untreated", hba1c=LabValue(value=6.6, unit="%", date=ago(30)),
                                      sources=[src("Condition/t2dm", 900)])
    cards = run(state, [draft("a", "alpelisib"), draft("f", "fulvestrant")])
    assert topics(cards) == ["order-not-indicated"]


def test_a_metastatic_status_unknown_patients_elacestrant_order_gets_no_biomarker_card():
    from mappings.state import Disease
    state = base_state(disease=Disease(breast_cancer="yes", primary_diagnosis_date=ago(90),
                                       primary_sources=[src("Condition/bc", 90)], metastatic="unknown"))
    assert run(state, [draft("e", "elacestrant")]) == []


@pytest.mark.parametrize("adc", ["trastuzumab deruxtecan", "datopotamab deruxtecan"])
def test_an_adc_order_with_symptomatic_ild_in_a_cm0_patient_still_gets_the_critical_stop(adc):
    state = non_metastatic(base_state())
    state.factors.lung = LungDisease(ild_history=True, grade=3, symptomatic=True, sources=[src("Condition/ild", 60)])
    cards = run(state, [draft("t", adc)])
    stop = by_topic(cards, "order-contraindicated")
    assert stop["indicator"] == "critical" and deleted(stop["suggestions"][0]) == ["MedicationRequest/t"]
    # Dato-DXd is also advanced-disease only: its not-indicated card comes with the stop
    assert topics(cards) == (["order-contraindicated"] if adc.startswith("trastuzumab")
                             else ["order-contraindicated", "order-not-indicated"])


def test_a_deceased_patients_order_gets_no_pathway_advice():
    state = base_state()
    state.factors.deceased, state.factors.deceased_date = True, ago(400)
    state.factors.diabetes = Diabetes()
    assert run(state, [draft("e", "elacestrant")]) == []  # no ESR1 test card
    assert run(state, [draft("c", "capivasertib")]) == []  # no PIK3CA test, partner or glycaemic card
    assert run(state, [draft("l", "letrozole")]) == []  # no "add a CDK4/6 inhibitor"


def test_a_deceased_patient_with_documented_cm0_gets_no_advisory_card_and_no_glucose_test_orders():
    state = non_metastatic(base_state())
    state.factors.deceased, state.factors.deceased_date = True, ago(400)
    state.factors.diabetes = Diabetes()
    assert run(state, [draft("x", "everolimus"), draft("y", "exemestane")]) == []
    # a treated type 2 diabetes would otherwise give a warning with HbA1c / glucose orders
    state.factors.diabetes = Diabetes(status="type2-treated", on_antihyperglycemic=True, sources=[src("Condition/t2dm", 4000)])
    assert run(state, [draft("x", "everolimus"), draft("y", "exemestane")]) == []


def test_a_deceased_patients_critical_glycaemic_stop_stays_without_test_orders():
    state = pik3ca(after_first_line(base_state()))
    state.factors.deceased, state.factors.deceased_date = True, ago(400)
    state.factors.diabetes = Diabetes(status="type1", on_antihyperglycemic=True, sources=[src("Condition/t1dm", 5000)])
    cards = run(state, [draft("a", "alpelisib"), draft("f", "fulvestrant")])
    assert topics(cards) == ["order-contraindicated"] and cards[0]["indicator"] == "critical"
    assert [a["type"] for s in cards[0]["suggestions"] for a in s["actions"]] == ["delete"]


def test_a_documented_cm0_through_the_fhir_mapping_cites_the_m0_observation_on_the_order_card():
    import datetime as dt
    from tests.cards.fhir_builder import FhirPatient
    p = FhirPatient(PID).primary("2026-02-20").m0("2026-03-02").er("positive", "2026-02-20")
    p.pr("positive", "2026-02-20").her2("1+", "2026-02-20").menopause("postmenopausal", "2026-02-20")
    state = p.state(dt.date(2026, 6, 1))
    assert state.disease.metastatic == "no"
    cards = run(state, [draft("e", "elacestrant")])
    assert topics(cards) == ["order-not-indicated"]
    assert "(M0 (21907-1), 2026-03-02)" in cards[0]["summary"] and "Observation/" in cards[0]["detail"]


# --- the oral SERD labels say "ER-positive" (B.2, B.3), not "HR-positive" -------------

def _esr1_current(state):
    state.biomarkers = Biomarkers(results=[variant("ESR1", specimen="ctdna", days=15)], esr1_current=True)
    return state


@pytest.mark.parametrize("drug,brand", [("elacestrant", "ORSERDU"), ("imlunestrant", "INLURIYO")])
def test_an_oral_serd_for_er_negative_pr_positive_disease_is_not_indicated_citing_the_er_positive_label(drug, brand):
    state = _esr1_current(after_first_line(base_state()))
    state.er = ReceptorStatus(status="negative", percent=0, date=ago(400), sources=[src("Observation/er", 400)])
    card = by_topic(run(state, [draft("e", drug)]), "order-not-indicated")
    assert card["summary"].startswith(f"{drug.capitalize()}: not indicated — ER-negative (")
    assert "the label requires ER-positive disease" in card["summary"]
    assert "Observation/er" in card["detail"]
    assert f'"{brand} is an estrogen receptor antagonist indicated for treatment of ' in card["detail"] and "with ER-positive, HER2-negative, ESR1-mutated" in card["detail"]
    offered = [d for s in card["suggestions"] for d in created_drugs(s)]
    assert "elacestrant" not in offered and "imlunestrant" not in offered  # neither SERD is a replacement


def test_elacestrant_with_er_not_documented_in_pr_positive_disease_asks_for_the_er_test():
    state = _esr1_current(after_first_line(base_state()))
    state.er = ReceptorStatus()
    card = by_topic(run(state, [draft("e", "elacestrant")]), "order-biomarker-missing")
    assert card["summary"] == "Elacestrant: positive ER result not documented — label requires it"
    assert "ER status not documented (PR positive)" in card["detail"]
    assert 'labelled for "ER-positive" disease' in card["detail"]
    codes = [a["resource"]["code"]["coding"][0]["code"] for s in card["suggestions"] for a in s["actions"]]
    assert codes == ["85337-4"]


def test_elacestrant_for_er_low_disease_is_not_stopped_by_the_er_requirement():
    state = _esr1_current(after_first_line(base_state()))
    state.er = ReceptorStatus(status="positive", percent=5, low_positive=True, date=ago(400),
                              sources=[src("Observation/er", 400)])
    cards = run(state, [draft("e", "elacestrant")])
    assert not {"order-not-indicated", "order-biomarker-missing"} & set(topics(cards))


# --- the order hooks' testing cards use patient-view's titles, links and wording (tests.yaml) ----

def test_the_everolimus_glucose_test_card_cites_c2_not_a_label_and_links_what_patient_view_links():
    from cards.knowledge import TESTS
    state = after_first_line(base_state())
    state.factors.diabetes = Diabetes()
    card = by_topic(run(state, [draft("x", "everolimus"), draft("y", "exemestane")]), "test-glycemic")
    t = TESTS["test-glycemic"]
    assert card["source"]["label"] == t.url_title and card["source"]["url"] == t.url
    assert [(x["label"], x["url"]) for x in card["links"]] == list(t.all_links)
    assert "(labels" not in card["detail"] and "(C.2 safety overlays;" in card["detail"]
    notes = [n["text"] for s in card["suggestions"] for a in s["actions"] for n in a["resource"]["note"]]
    assert notes and all("(labels)" not in n and "C.2 safety overlays" in n for n in notes)


def test_the_order_biomarker_card_links_the_tests_guidelines_under_their_own_titles():
    from cards.knowledge import TESTS
    state = after_first_line(base_state())
    state.er = ReceptorStatus(status="unknown")
    state.biomarkers = Biomarkers(results=[variant("ESR1", specimen="ctdna", days=15)], esr1_current=True)
    card = by_topic(run(state, [draft("e", "elacestrant")]), "order-biomarker-missing")
    labels = [x["label"] for x in card["links"]]
    assert all(title in labels for title, _ in TESTS["test-er-pr-her2"].all_links)
    assert not any(x.startswith("Guideline: ER / PR / HER2 testing") for x in labels)


def test_the_chemotherapy_order_cards_label_link_is_named_as_the_abc4_table_it_points_to():
    card = by_topic(run(_visceral_crisis_first_line(), [draft("e", "eribulin")]), "order-not-indicated")
    line = next(x for x in card["detail"].splitlines() if x.startswith("**Label"))
    assert line.endswith("— [Guideline: ESO-ESMO ABC4 consensus table (visceral crisis, endocrine resistance)]"
                         "(https://pmc.ncbi.nlm.nih.gov/articles/PMC7360146/table/t0020)")


# A "given before" reason names the line that gave the drug, with its dates, not the drug again.

def test_reordering_everolimus_names_the_line_that_gave_it():
    state = _after_serd(after_first_line(base_state()), "everolimus")
    line = state.therapy.metastatic_lines[-1]
    card = by_topic(run(state, [draft("v", "everolimus"), draft("x", "exemestane")]), "order-not-indicated")
    assert (f"Already treated with everolimus. (Prior everolimus in line 2: everolimus from "
            f"{line.start.isoformat()} to {line.end.isoformat()}) — MedicationStatement/l2") in card["detail"]
    assert "Prior everolimus: everolimus" not in card["detail"]


def test_reordering_a_chemotherapy_already_given_names_its_line():
    state = _with_metastatic_chemo(after_first_line(base_state()))
    line = state.therapy.metastatic_lines[-1]
    card = by_topic(run(state, [draft("c", "capecitabine")]), "order-not-indicated")
    assert card["summary"] == ("Capecitabine: not indicated — Capecitabine: already given for metastatic disease "
                               f"(line 2: capecitabine from {line.start.isoformat()} to {line.end.isoformat()})")


# --- a drafted regimen whose label fit the record cannot confirm (status unknown) ------

NOT_CONFIRMED = ": label requirement not confirmed — "


def _menopausal_status_unknown():
    state = after_first_line(base_state())
    state.biomarkers = Biomarkers(results=[variant("ESR1", specimen="ctdna", days=15)], esr1_current=True)
    f = state.factors
    f.menopausal_status, f.menopausal_basis, f.menopausal_sources = "unknown", None, []
    return state


def _relapse_timing_unknown(state):
    state = adjuvant_relapse(state, months_after_end=6)
    state.therapy.months_from_adjuvant_endocrine_end_to_metastasis = None
    state.therapy.endocrine_resistance = "unknown"
    return state


@pytest.mark.parametrize("drafts, named", [
    (("elacestrant",), "Elacestrant"),
    (("everolimus", "exemestane"), "Everolimus + exemestane"),
])
def test_an_order_for_postmenopausal_women_with_menopausal_status_not_documented_is_flagged_as_not_confirmed(drafts, named):
    cards = run(_menopausal_status_unknown(), [draft(n[:3], n) for n in drafts])
    assert topics(cards) == ["order-not-indicated"]
    card = cards[0]
    assert card["indicator"] == "warning"
    assert card["summary"] == f"{named}{NOT_CONFIRMED}Menopausal status not documented"
    assert "**Not decided by the record**\n- Menopausal status not documented" in card["detail"]
    assert not any(s.get("isRecommended") for s in card.get("suggestions", []))


def test_order_select_of_everolimus_not_of_exemestane_speaks_about_an_unconfirmed_everolimus_exemestane():
    drafts = [draft("v", "everolimus"), draft("x", "exemestane")]
    picked = run(_menopausal_status_unknown(), drafts, ["MedicationRequest/v"], "order-select")
    assert [c["summary"] for c in picked] == [f"Everolimus + exemestane{NOT_CONFIRMED}Menopausal status not documented"]
    assert run(_menopausal_status_unknown(), drafts, ["MedicationRequest/x"], "order-select") == []


def test_a_regimen_waiting_only_on_a_biomarker_keeps_just_the_biomarker_card_and_relapse_timing_unknown_adds_one():
    drafts = [draft("c", "capivasertib"), draft("f", "fulvestrant")]
    assert topics(run(after_first_line(base_state()), drafts)) == ["order-biomarker-missing"]
    cards = run(_relapse_timing_unknown(base_state()), drafts)
    assert topics(cards) == ["order-not-indicated", "order-biomarker-missing"]
    assert cards[0]["summary"].startswith("Capivasertib + fulvestrant" + NOT_CONFIRMED
                                          + "Adjuvant endocrine therapy documented but its end date")
    assert "PIK3CA/AKT1/PTEN" in cards[1]["summary"]  # the test is asked for on its own card, not here
    assert "PIK3CA" not in cards[0]["detail"].split("**Not decided by the record**")[1].split("\n\n")[0]


def test_a_fitting_regimen_next_to_an_unconfirmed_one_stays_silent():
    state = _relapse_timing_unknown(base_state())
    assert topics(run(state, [draft("l", "letrozole"), draft("r", "ribociclib")])) == ["order-not-indicated"]
    assert run(state, [draft("f", "fulvestrant"), draft("r", "ribociclib")]) == []


def test_an_unconfirmed_ai_cdk46i_for_a_premenopausal_woman_still_asks_for_ovarian_suppression():
    # the drug may well be indicated: the card informs, the other cards about it stay
    state = _relapse_timing_unknown(base_state())
    state.factors.menopausal_status, state.factors.age = "premenopausal", 44
    cards = run(state, [draft("l", "letrozole"), draft("r", "ribociclib")])
    assert topics(cards) == ["order-not-indicated", "order-incomplete-regimen"]
    assert NOT_CONFIRMED in cards[0]["summary"]
    assert cards[1]["summary"] == "Premenopausal woman: add ovarian suppression to Aromatase inhibitor + CDK4/6 inhibitor"


# The order cards quote the label words of order_rules.yaml inside quotation marks:
# clinical-reference.md Part B's words, cuts marked (B.4, B.10; tests/cards/test_label_quotes.py)

def test_alpelisib_in_her2_positive_disease_quotes_the_piqray_label_in_its_own_words():
    cards = run(her2_positive(pik3ca(after_first_line(base_state()))), [draft("a", "alpelisib"), draft("f", "fulvestrant")])
    card = by_topic(cards, "order-not-indicated")
    assert ('- alpelisib: "hormone receptor (HR)-positive, human epidermal growth factor receptor 2 '
            '(HER2)-negative, PIK3CA-mutated" (') in card["detail"]


def test_palbociclib_alone_is_labelled_only_with_an_aromatase_inhibitor_or_fulvestrant_quoted_with_the_cut_marked():
    card = by_topic(run(base_state(), [draft("p", "palbociclib")]), "order-incomplete-regimen")
    assert ('- palbociclib: labelled only "in combination with an aromatase inhibitor [...] in combination '
            'with fulvestrant" (') in card["detail"]


# --- a drug no labelled regimen combines with the others drafted (extra drug) -----------
# order_rules.yaml extra_drug: every labelled regimen (B.1-B.14) holds at most one endocrine agent
# and one drug of each class; the drafts are judged whole and the extra drug is named

def _extra_card(cards: list[dict]) -> dict:
    found = [c for c in cards if " drafted with " in c["summary"] and c["source"]["topic"]["code"] == "order-not-indicated"]
    assert len(found) == 1, [c["summary"] for c in cards]
    return found[0]


def test_fulvestrant_drafted_beside_everolimus_and_exemestane_is_warned_as_an_extra_endocrine_agent():
    cards = run(after_first_line(base_state()), [draft("e", "everolimus"), draft("x", "exemestane"),
                                                 draft("f", "fulvestrant")])
    card = _extra_card(cards)
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Fulvestrant drafted with everolimus + exemestane: no labelled regimen combines them — "
                                      "two endocrine agents (fulvestrant and exemestane)")
    assert "Afinitor" in card["source"]["label"]
    # which draft goes is the clinician's call: removal offered, not pre-selected
    assert [deleted(s) for s in card["suggestions"]] == [["MedicationRequest/f"]]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


def test_letrozole_and_anastrozole_drafted_together_are_warned_as_two_aromatase_inhibitors():
    for state in (after_first_line(base_state()), base_state()):
        cards = run(state, [draft("l", "letrozole"), draft("a", "anastrozole")])
        assert "two aromatase inhibitors (anastrozole and letrozole)" in _extra_card(cards)["summary"]
    # first line: the kept AI is asked for its CDK4/6 inhibitor once, the extra AI not (no second regimen)
    partner = [c["summary"] for c in cards if c["source"]["topic"]["code"] == "order-incomplete-regimen"]
    assert partner == ["Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]


def test_exemestane_drafted_with_fulvestrant_after_progression_is_warned_as_two_endocrine_agents():
    card = _extra_card(run(after_first_line(base_state()), [draft("x", "exemestane"), draft("f", "fulvestrant")]))
    assert "two endocrine agents" in card["summary"]


def test_two_cdk46_inhibitors_with_letrozole_at_first_line_name_the_extra_cdk46_inhibitor():
    cards = run(base_state(), [draft("p", "palbociclib"), draft("r", "ribociclib"), draft("l", "letrozole")])
    assert topics(cards) == ["order-not-indicated"]
    assert cards[0]["summary"].startswith("Palbociclib drafted with ribociclib + letrozole: no labelled regimen combines them — "
                                          "two CDK4/6 inhibitors (palbociclib and ribociclib)")


def test_imlunestrant_drafted_with_fulvestrant_and_abemaciclib_names_imlunestrant_as_extra():
    card = _extra_card(run(after_first_line(base_state()), [draft("i", "imlunestrant"), draft("a", "abemaciclib"),
                                                            draft("f", "fulvestrant")]))
    assert card["summary"].startswith("Imlunestrant drafted with abemaciclib + fulvestrant")


def test_an_ai_with_a_cdk46_inhibitor_and_fulvestrant_at_first_line_is_warned_as_two_endocrine_agents():
    cards = run(base_state(), [draft("r", "ribociclib"), draft("l", "letrozole"), draft("f", "fulvestrant")])
    assert "two endocrine agents" in _extra_card(cards)["summary"]


def test_capecitabine_drafted_with_an_aromatase_inhibitor_is_warned_as_no_labelled_regimen():
    card = _extra_card(run(after_first_line(base_state()), [draft("c", "capecitabine"), draft("l", "letrozole")]))
    assert "no labelled regimen adds letrozole to capecitabine" in card["summary"]


def test_a_cdk46_inhibitor_drafted_with_trastuzumab_deruxtecan_is_named_extra_to_the_complete_single_agent():
    # T-DXd is labelled as a single agent (B.11) and fits after one ET line (HER2-low): it is the
    # regimen drafted, palbociclib (no partner of its own drafted) the extra drug
    card = _extra_card(run(after_first_line(base_state()), [draft("t", "trastuzumab deruxtecan"),
                                                            draft("p", "palbociclib")]))
    assert card["summary"].startswith("Palbociclib drafted with trastuzumab deruxtecan: no labelled regimen adds palbociclib to trastuzumab deruxtecan")
    assert [deleted(s) for s in card["suggestions"]] == [["MedicationRequest/p"]]


def test_a_labelled_regimen_fulvestrant_drafted_twice_and_chemotherapy_drugs_together_get_no_extra_drug_card():
    state = after_first_line(base_state())
    for drafts in ([draft("f1", "fulvestrant"), draft("f2", "fulvestrant"), draft("a", "abemaciclib")],
                   [draft("c", "capecitabine"), draft("d", "docetaxel")],
                   [draft("r", "ribociclib"), draft("l", "letrozole"), draft("g", "goserelin")]):
        assert not [c["summary"] for c in run(state, drafts) if " drafted with " in c["summary"]]
    assert not [c for c in run(base_state(), [draft("r", "ribociclib"), draft("l", "letrozole")])]


def test_order_select_names_the_extra_drug_only_when_it_is_selected():
    drafts = [draft("e", "everolimus"), draft("x", "exemestane"), draft("f", "fulvestrant")]
    state = after_first_line(base_state())
    assert run(state, drafts, ["MedicationRequest/e"], "order-select") == []
    assert _extra_card(run(state, drafts, ["MedicationRequest/f"], "order-select"))["summary"].startswith("Fulvestrant")


def test_tamoxifen_drafted_with_an_aromatase_inhibitor_is_warned_as_two_endocrine_agents_and_alone_stays_silent():
    state = after_first_line(base_state())
    card = _extra_card(run(state, [draft("l", "letrozole"), draft("t", "tamoxifen")]))
    assert card["summary"].startswith("Tamoxifen drafted with letrozole: no labelled regimen combines them — two endocrine agents")
    assert run(state, [draft("t", "tamoxifen")]) == []


def test_fulvestrant_drafted_beside_the_kisqali_femara_co_pack_is_the_extra_draft_not_the_letrozole_inside_the_pack():
    # one product, two ingredients (DESIGN.md: combination packs expand to every ingredient): the
    # pack cannot be split, so its letrozole is not the drug named extra (no draft to remove);
    # the separate fulvestrant draft is, and its removal is offered
    for state in (after_first_line(base_state()), base_state()):
        cards = run(state, [draft("f", "fulvestrant"),
                            draft("k", "ribociclib", "letrozole", text="Kisqali Femara Co-Pack")])
        card = _extra_card(cards)
        assert card["summary"].startswith("Fulvestrant drafted with ribociclib + letrozole"), card["summary"]
        assert [deleted(s) for s in card["suggestions"]] == [["MedicationRequest/f"]]


def test_anastrozole_drafted_with_fulvestrant_says_no_labelled_regimen_combines_them_not_that_it_is_not_indicated():
    # the references hold labels only (B.9 Faslodex alone or with a CDK4/6 inhibitor); the
    # combination was studied (SWOG S0226) and is not in them: the card claims what they support
    card = _extra_card(run(after_first_line(base_state()), [draft("a", "anastrozole"), draft("f", "fulvestrant")]))
    assert card["summary"] == ("Anastrozole drafted with fulvestrant: no labelled regimen combines them — "
                               "two endocrine agents (anastrozole and fulvestrant)")
    assert "not indicated" not in card["summary"] + card["detail"]
    card = _extra_card(run(after_first_line(base_state()), [draft("o", "olaparib"), draft("f", "fulvestrant")]))
    assert card["summary"] == "Olaparib drafted with fulvestrant: no labelled regimen adds olaparib to fulvestrant"


def test_letrozole_drafted_with_capecitabine_and_docetaxel_names_both_chemotherapy_drafts_it_was_drafted_with():
    card = _extra_card(run(after_first_line(base_state()), [draft("c", "capecitabine"), draft("d", "docetaxel"),
                                                            draft("l", "letrozole")]))
    assert card["summary"] == ("Letrozole drafted with capecitabine + docetaxel: no labelled regimen adds letrozole "
                               "to capecitabine + docetaxel")
    assert [deleted(s) for s in card["suggestions"]] == [["MedicationRequest/l"]]


@pytest.mark.parametrize("drafted, summary", [
    (("letrozole", "palbociclib", "fulvestrant", "abemaciclib"),
     "Palbociclib + fulvestrant drafted with letrozole + abemaciclib: two CDK4/6 inhibitors and two endocrine agents "
     "— no label combines them"),
    (("letrozole", "palbociclib", "anastrozole", "ribociclib"),
     "Palbociclib + anastrozole drafted with letrozole + ribociclib: two CDK4/6 inhibitors and two aromatase "
     "inhibitors — no label combines them"),
])
def test_two_whole_regimens_drafted_at_once_are_warned_as_two_cdk46_inhibitors_and_two_endocrine_agents_both_in_the_summary(
        drafted, summary):
    # before: '... no labelled regimen combines them — two CDK4/6 inhibitors (palbociclib and…', the
    # summary clipped before the second fact (two endocrine agents): labels B.1-B.14 hold one of each
    cards = run(base_state(), [draft(n[0] + str(i), n) for i, n in enumerate(drafted)])
    card = _extra_card(cards)
    assert card["indicator"] == "warning" and card["summary"] == summary
    for n in drafted:
        assert f"({n})" in card["detail"]  # every draft named under the drafts checked


def _extra_drug_card(cards: list[dict]) -> dict:
    # the extra-drug warning, with the drugs named ('... drafted with ...') or counted ('... drafted together')
    found = [c for c in cards if c["source"]["topic"]["code"] == "order-not-indicated"
             and (" drafted with " in c["summary"] or " drafted together: " in c["summary"])]
    assert len(found) == 1, [c["summary"] for c in cards]
    return found[0]


@pytest.mark.parametrize("drafted, summary", [
    (("letrozole", "palbociclib", "fulvestrant", "abemaciclib", "anastrozole", "ribociclib"),
     "Six drugs drafted together: three CDK4/6 inhibitors and three endocrine agents — no label combines them"),
    (("letrozole", "palbociclib", "anastrozole", "ribociclib", "exemestane", "abemaciclib"),
     "Six drugs drafted together: three CDK4/6 inhibitors and three aromatase inhibitors — no label combines them"),
    (("letrozole", "palbociclib", "ribociclib", "abemaciclib"),
     "Palbociclib + abemaciclib drafted with letrozole + ribociclib: three CDK4/6 inhibitors — no label combines them"),
])
def test_three_whole_regimens_drafted_at_once_are_counted_as_three_of_each_class_in_the_summary(drafted, summary):
    # before: '... drafted with letrozole + ribociclib: two CDK4/6 inhibitors and two aromatase…' (the count
    # wrong, the summary clipped): labels B.1-B.14 hold one endocrine agent and one drug of each class
    card = _extra_drug_card(run(base_state(), [draft(n[0] + str(i), n) for i, n in enumerate(drafted)]))
    assert card["indicator"] == "warning" and card["summary"] == summary
    assert len(card["summary"]) <= 140
    for n in drafted:
        assert f"({n})" in card["detail"]  # every draft named in the detail


@pytest.mark.parametrize("drafted, summary, detail", [
    (("fulvestrant", "palbociclib", "ribociclib", "alpelisib"),
     "Palbociclib + alpelisib drafted with fulvestrant + ribociclib: two CDK4/6 inhibitors; no labelled regimen "
     "adds alpelisib", "No labelled regimen adds alpelisib to fulvestrant + ribociclib"),
    (("letrozole", "palbociclib", "ribociclib", "capecitabine"),
     "Palbociclib + capecitabine drafted with letrozole + ribociclib: two CDK4/6 inhibitors; no labelled regimen "
     "adds capecitabine", "No labelled regimen adds capecitabine to letrozole + ribociclib"),
    (("letrozole", "palbociclib", "anastrozole", "capecitabine"),
     "Anastrozole + capecitabine drafted with letrozole + palbociclib: two aromatase inhibitors; no labelled "
     "regimen adds capecitabine", "No labelled regimen adds capecitabine to letrozole + palbociclib"),
])
def test_two_drugs_of_a_class_and_a_drug_no_label_adds_are_both_said_in_the_summary(drafted, summary, detail):
    # before: '... no labelled regimen combines them — two CDK4/6 inhibitors (palbociclib and…', the drug
    # no label adds (alpelisib, capecitabine) said only in the detail (labels B.1-B.14)
    for state in (base_state(), after_first_line(base_state())):
        card = _extra_drug_card(run(state, [draft(n[0] + str(i), n) for i, n in enumerate(drafted)]))
        assert card["indicator"] == "warning" and card["summary"] == summary
        assert detail in card["detail"]


@pytest.mark.parametrize("drafted", [
    ("elacestrant", "sacituzumab govitecan", "talazoparib", "trastuzumab deruxtecan", "palbociclib", "capecitabine"),
    ("trastuzumab deruxtecan", "ribociclib", "eribulin", "tamoxifen", "alpelisib", "docetaxel", "sacituzumab govitecan"),
])
def test_many_drugs_no_labelled_regimen_adds_are_counted_in_the_summary_never_cut_mid_name(drafted):
    # before: 'Six drugs drafted together: no labelled regimen adds elacestrant or sacituzumab govitecan or
    # talazoparib or trastuzumab deruxtecan or…' / '... or sacituzumab…': the list clipped, a drug name cut
    # and the drugs after it unsaid (DESIGN.md: 140 characters); each stays named in the detail
    card = _extra_drug_card(run(base_state(), [draft(n[0] + str(i), n) for i, n in enumerate(drafted)]))
    summary = card["summary"]
    assert "…" not in summary and len(summary) <= 140, summary
    extra = [line for line in card["detail"].splitlines() if line.startswith("- No labelled regimen adds ")]
    assert summary.startswith(f"{['Six', 'Seven'][len(drafted) - 6]} drugs drafted together: no labelled regimen "
                              f"adds {['two', 'three', 'four', 'five', 'six'][len(extra) - 2]} of them"), summary
    for line in extra:
        assert line.split(" adds ")[1].split(" to ")[0] in card["detail"]


@pytest.mark.parametrize("drafted, summary, detail", [
    (("anastrozole", "exemestane", "palbociclib"),
     "Exemestane drafted with anastrozole + palbociclib: no labelled regimen combines them — two aromatase inhibitors",
     "- Two aromatase inhibitors (exemestane and anastrozole): "),
    (("fulvestrant", "everolimus", "capivasertib"),
     "Everolimus drafted with fulvestrant + capivasertib: no labelled regimen combines them — two PI3K/AKT/mTOR "
     "inhibitors", "- Two PI3K/AKT/mTOR inhibitors (everolimus and capivasertib): "),
    (("fulvestrant", "capivasertib", "trastuzumab deruxtecan"),
     "Trastuzumab deruxtecan drafted with fulvestrant + capivasertib: no labelled regimen adds trastuzumab deruxtecan",
     "- No labelled regimen adds trastuzumab deruxtecan to fulvestrant + capivasertib (labels B.1-B.14)."),
])
def test_one_extra_drug_whose_drug_names_do_not_fit_keeps_its_fact_whole_and_names_the_drugs_in_the_detail(
        drafted, summary, detail):
    # before: '... no labelled regimen combines them — two aromatase inhibitors (exemestane and…' / '... adds
    # trastuzumab deruxtecan to fulvestrant…': a drug name cut (DESIGN.md: 140 characters); the names
    # are in the head and, whole, in the detail (labels B.1-B.14)
    card = _extra_card(run(base_state(), [draft(n[0] + str(i), n) for i, n in enumerate(drafted)]))
    assert card["indicator"] == "warning" and card["summary"] == summary
    assert "…" not in card["summary"] and len(card["summary"]) <= 140
    assert detail in card["detail"]


def test_order_select_names_the_extra_endocrine_agent_also_when_the_endocrine_agent_it_doubles_is_selected():
    # fulvestrant + ribociclib drafted (the labelled regimen after a first line), letrozole beside them: two
    # endocrine agents. Before: the warning came only when letrozole (the drug the card calls extra) was
    # selected; fulvestrant selected, the other half of the same clash, was silent (ord11)
    drafts = [draft("f", "fulvestrant"), draft("r", "ribociclib"), draft("l", "letrozole")]
    state = after_first_line(base_state())
    for selected in ("l", "f"):
        card = _extra_card(run(state, drafts, [f"MedicationRequest/{selected}"], "order-select"))
        assert card["summary"] == ("Letrozole drafted with fulvestrant + ribociclib: no labelled regimen combines "
                                   "them — two endocrine agents (letrozole and fulvestrant)")
    # ribociclib selected: not one of the two endocrine agents, the extra drug not added to it by class
    assert not [c for c in run(state, drafts, ["MedicationRequest/r"], "order-select") if " drafted with " in c["summary"]]
