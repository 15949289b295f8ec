"""Order checks through HTTP: POST /cds-services/mbc-order-select and mbc-order-sign.

Every request carries full prefetch built from FHIR resources (Patient,
Conditions, tumour-marker and Genomics Reporting variant Observations,
MedicationStatements, HbA1c ...) and draftOrders shaped as EHRs send them:
product-level RxNorm codes, text-only medications, combination packs, several
drafts at once. Every response goes through the shared card contract checker,
R4B validation of the resources suggestions create, and the order rules
(delete actions name a drafted order; order-sign warnings carry override reasons).
"""

from __future__ import annotations

import pytest

from cards.contract import response_problems
from service.app import create_app

from tests.orders.fhir import LOINC, RXNORM, Chart, ago, cc, other_request, drafted_test_order
from tests.orders.helpers import by_topic, checked, created_drugs, deleted, topics


@pytest.fixture
def client(tmp_path):
    return create_app({"auth": "off", "database_url": f"sqlite:///{tmp_path}/fb.sqlite"}).test_client()


def post(client, chart: Chart, hook: str, drafts: list[dict], selections: list[str] | None = None) -> list[dict]:
    service = {"order-select": "mbc-order-select", "order-sign": "mbc-order-sign"}[hook]
    response = client.post(f"/cds-services/{service}", json=chart.request(hook, drafts, selections))
    assert response.status_code == 200, response.get_json()
    refs = {f"{d['resourceType']}/{d['id']}" for d in drafts}
    return checked(response.get_json(), chart.pid, refs, hook)


def after_first_line(pid: str, **kw) -> Chart:
    """Postmenopausal, HR+/HER2-low (IHC 1+) bone-metastatic; letrozole + palbociclib first line, progressed."""
    chart = Chart(pid).hr_positive_mbc(metastatic_days_ago=600, **kw)
    chart.regimen(["letrozole", "palbociclib"], 580, 20).progression(25)
    return chart


def first_line_de_novo(pid: str, **kw) -> Chart:
    return Chart(pid).hr_positive_mbc(metastatic_days_ago=10, **kw)


# --- order-biomarker-missing -------------------------------------------------

def test_capivasertib_text_order_with_fulvestrant_product_and_no_pik3ca_result_asks_for_the_test(client):
    chart = after_first_line("bm-1").glycemia_ok()
    cards = post(client, chart, "order-sign", chart.drafts(("c", "capivasertib"), ("f", "fulvestrant")))
    card = by_topic(cards, "order-biomarker-missing")
    assert "PIK3CA/AKT1/PTEN" in card["summary"]
    assert all(a["resource"]["resourceType"] == "ServiceRequest" for s in card["suggestions"] for a in s["actions"])


def test_elacestrant_without_esr1_result_asks_for_ctdna_esr1(client):
    chart = after_first_line("bm-2")
    cards = post(client, chart, "order-select", chart.drafts(("e", "elacestrant")), ["MedicationRequest/e"])
    assert topics(cards) == ["order-biomarker-missing"] and "ESR1" in cards[0]["summary"]


def test_olaparib_product_code_without_germline_brca_result_asks_for_germline_testing(client):
    chart = after_first_line("bm-3").med("paclitaxel", 2000, 1900)
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("o", "olaparib"))), "order-biomarker-missing")
    assert "germline BRCA1/2" in card["summary"]


def test_tdxd_with_a_bare_ihc_0_asks_for_her2_retesting(client):
    chart = after_first_line("bm-4", her2="0")
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("t", "trastuzumab deruxtecan"))),
                    "order-biomarker-missing")
    assert "HER2" in card["summary"]


def _suggested(card: dict) -> list[tuple[str, bool]]:
    return [(s["label"], s.get("isRecommended") is True) for s in card["suggestions"]]


def test_elacestrant_drafted_with_an_esr1_ctdna_test_still_warns_but_does_not_preselect_a_second_esr1_test(client):
    chart = after_first_line("dt-1")
    elacestrant = chart.drafts(("e", "elacestrant"))
    card = by_topic(post(client, chart, "order-select", elacestrant, ["MedicationRequest/e"]), "order-biomarker-missing")
    assert any(recommended for _, recommended in _suggested(card))  # no test drafted: the test is pre-selected
    esr1 = drafted_test_order("s", chart.pid, {"text": "ESR1 mutation analysis, plasma ctDNA (Guardant360)"})
    card = by_topic(post(client, chart, "order-select", elacestrant + [esr1], ["MedicationRequest/e"]),
                    "order-biomarker-missing")
    assert "ESR1 mutation result not documented" in card["summary"]
    assert not any(recommended for _, recommended in _suggested(card))
    assert "Already drafted with these orders**: ServiceRequest/s ('ESR1 mutation analysis" in card["detail"]


@pytest.mark.parametrize("text", ["BRCA1+2", "BRCA1&2", "BRCA1,2"])
def test_olaparib_drafted_with_a_test_named_brca1_plus_2_in_one_word_does_not_preselect_a_second_test(client, text):
    # "BRCA1+2" with no space or "/" was read as BRCA1 alone: the germline test was
    # pre-selected again beside the drafted one
    chart = after_first_line("dt-4").med("paclitaxel", 2000, 1900)
    brca = drafted_test_order("s", chart.pid, {"text": text})
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("o", "olaparib")) + [brca]),
                    "order-biomarker-missing")
    assert not any(recommended for _, recommended in _suggested(card))
    assert f"Already drafted with these orders**: ServiceRequest/s ('{text}')" in card["detail"]


def test_capivasertib_drafted_with_a_pik3ca_only_test_still_preselects_the_akt1_pten_test(client):
    chart = after_first_line("dt-2").glycemia_ok()
    drafts = chart.drafts(("c", "capivasertib"), ("f", "fulvestrant"))
    pik3ca_only = drafted_test_order("s", chart.pid, {"text": "PIK3CA mutation analysis (therascreen), tissue"})
    card = by_topic(post(client, chart, "order-sign", drafts + [pik3ca_only]), "order-biomarker-missing")
    assert any(recommended for _, recommended in _suggested(card)) and "Already drafted" not in card["detail"]
    panel = drafted_test_order("s", chart.pid, {"text": "PIK3CA / AKT1 / PTEN NGS panel, plasma ctDNA"})
    card = by_topic(post(client, chart, "order-sign", drafts + [panel]), "order-biomarker-missing")
    assert not any(recommended for _, recommended in _suggested(card)) and "ServiceRequest/s" in card["detail"]


def test_alpelisib_drafted_with_an_hba1c_order_preselects_only_the_fasting_glucose_still_missing(client):
    chart = after_first_line("dt-3").variant("PIK3CA", "p.His1047Arg", days_ago=15)
    drafts = chart.drafts(("a", "alpelisib"), ("f", "fulvestrant"))
    hba1c = drafted_test_order("h", chart.pid, cc(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"))
    glucose = drafted_test_order("g", chart.pid, cc(LOINC, "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"))
    card = by_topic(post(client, chart, "order-sign", drafts + [hba1c]), "test-glycemic")
    assert _suggested(card) == [("Order Fasting glucose", True)]
    card = by_topic(post(client, chart, "order-sign", drafts + [hba1c, glucose]), "test-glycemic")
    assert _suggested(card) == [("Order Hemoglobin A1c + Fasting glucose", False)]
    assert "ServiceRequest/h" in card["detail"] and "ServiceRequest/g" in card["detail"]


# --- order-not-indicated -----------------------------------------------------

def test_alpelisib_for_an_akt1_only_tumour_is_replaced_by_capivasertib_keeping_the_fulvestrant_draft(client):
    chart = after_first_line("ni-1").glycemia_ok()
    chart.variant("AKT1", "p.Glu17Lys", days_ago=15).variant("PIK3CA", days_ago=15, detected=False)
    cards = post(client, chart, "order-sign", chart.drafts(("a", "alpelisib"), ("f", "fulvestrant")))
    card = by_topic(cards, "order-not-indicated")
    first = card["suggestions"][0]
    assert deleted(first) == ["MedicationRequest/a"] and created_drugs(first) == ["capivasertib"]
    assert "Observation/var-pik3ca" in card["detail"]


def test_elacestrant_for_a_premenopausal_woman_is_not_indicated(client):
    chart = after_first_line("ni-2", menopause="premenopausal").variant("ESR1", "p.Asp538Gly", specimen="ctdna", days_ago=10)
    cards = post(client, chart, "order-select", chart.drafts(("e", "elacestrant")), ["MedicationRequest/e"])
    card = by_topic(cards, "order-not-indicated")
    assert "Premenopausal" in card["summary"] and deleted(card["suggestions"][0]) == ["MedicationRequest/e"]


def test_everolimus_exemestane_for_a_premenopausal_woman_is_not_indicated(client):
    chart = after_first_line("ni-3", menopause="premenopausal")
    cards = post(client, chart, "order-sign", chart.drafts(("v", "everolimus"), ("x", "exemestane")))
    assert "postmenopausal women only" in by_topic(cards, "order-not-indicated")["summary"]


def test_inavolisib_triplet_after_progression_on_first_line_is_not_indicated(client):
    chart = after_first_line("ni-4").glycemia_ok().variant("PIK3CA", "p.His1047Arg", days_ago=15)
    drafts = chart.drafts(("i", "inavolisib"), ("p", "palbociclib"), ("f", "fulvestrant"))
    card = by_topic(post(client, chart, "order-sign", drafts), "order-not-indicated")
    assert "Inavolisib + palbociclib + fulvestrant" in card["summary"]
    assert ["capivasertib"] in [created_drugs(s) for s in card["suggestions"]]


def test_fulvestrant_alone_after_progression_on_fulvestrant_is_not_indicated_and_keeps_the_draft_for_a_partner(client):
    chart = after_first_line("ni-4b")
    chart.regimen(["fulvestrant"], 300, 10).progression(12)
    cards = post(client, chart, "order-select", chart.drafts(("f", "fulvestrant")), ["MedicationRequest/f"])
    card = by_topic(cards, "order-not-indicated")
    assert card["summary"].startswith("Fulvestrant: not indicated — Already treated with fulvestrant. "
                                      "(Prior fulvestrant in line 2: fulvestrant from ")
    partner = [s for s in card["suggestions"] if "Fulvestrant + abemaciclib" in s["label"]]
    assert partner and created_drugs(partner[0]) == ["abemaciclib"] and not deleted(partner[0])


def test_tdxd_for_her2_null_is_not_indicated(client):
    chart = after_first_line("ni-5", her2="0")
    chart.her2("0", 30, text="HER2 IHC 0: no staining observed (HER2-null)")
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("t", "trastuzumab deruxtecan"))),
                    "order-not-indicated")
    assert "null" in card["summary"]


def test_olaparib_for_a_somatic_only_brca2_variant_is_not_indicated(client):
    chart = after_first_line("ni-6").med("paclitaxel", 2000, 1900)
    chart.variant("BRCA2", "p.Asn1784fs", origin="somatic", days_ago=40)
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("o", "olaparib"))), "order-not-indicated")
    assert "Somatic-only BRCA" in card["summary"]


def test_talazoparib_in_her2_positive_disease_is_not_indicated_but_tdxd_is_not_called_so(client):
    # Enhertu's label also covers HER2-positive disease: outside this service, not "not indicated"
    chart = after_first_line("ni-7", her2="3+").variant("BRCA1", "p.Gln1756fs", origin="germline", specimen="blood")
    drafts = chart.drafts(("z", "talazoparib"), ("t", "trastuzumab deruxtecan"))
    cards = post(client, chart, "order-sign", drafts)
    assert topics(cards) == ["order-not-indicated"]
    assert cards[0]["summary"].startswith("Talazoparib: not indicated") and "HER2-positive" in cards[0]["summary"]
    assert "deruxtecan" not in cards[0]["summary"].lower()


# --- order-contraindicated ---------------------------------------------------

@pytest.mark.parametrize("adc", ["trastuzumab deruxtecan", "datopotamab deruxtecan"])
def test_deruxtecan_adc_after_symptomatic_ild_is_critical_with_its_date_and_source(client, adc):
    chart = after_first_line("ci-1").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    cards = post(client, chart, "order-sign", chart.drafts(("t", adc)))
    card = cards[0]
    assert card["indicator"] == "critical" and card["source"]["topic"]["code"] == "order-contraindicated"
    ild_id = chart.conditions[-1]["id"]
    assert f"Condition/{ild_id}" in card["detail"]
    assert chart.conditions[-1]["onsetDateTime"] in card["summary"]


def test_capivasertib_in_type_1_diabetes_is_critical(client):
    chart = after_first_line("ci-2").variant("PIK3CA", "p.His1047Arg", days_ago=15)
    chart.diabetes(1).hba1c(7.0, 10).fasting_glucose(140, 10)
    cards = post(client, chart, "order-sign", chart.drafts(("c", "capivasertib"), ("f", "fulvestrant")))
    assert [(c["indicator"], c["source"]["topic"]["code"]) for c in cards] == [("critical", "order-contraindicated")]
    assert "type 1 diabetes" in cards[0]["summary"]


def test_alpelisib_with_hba1c_9_percent_in_type_2_diabetes_is_critical(client):
    chart = after_first_line("ci-3").variant("PIK3CA", "p.His1047Arg", days_ago=15)
    chart.diabetes(2).hba1c(9.1, 14).fasting_glucose(180, 14)
    cards = post(client, chart, "order-select", chart.drafts(("a", "alpelisib"), ("f", "fulvestrant")),
                 ["MedicationRequest/a"])
    card = by_topic(cards, "order-contraindicated")
    assert card["indicator"] == "critical" and "HbA1c 9.1 %" in card["detail"]
    assert chart.findings[-2]["effectiveDateTime"] in card["detail"]


# --- order-incomplete-regimen ------------------------------------------------

def test_first_line_letrozole_alone_in_de_novo_disease_suggests_adding_a_cdk46_inhibitor(client):
    chart = first_line_de_novo("ir-1")
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("l", "letrozole"))), "order-incomplete-regimen")
    assert card["indicator"] == "info"
    assert created_drugs(card["suggestions"][0]) == ["ribociclib"]


@pytest.mark.parametrize("drug", ["capivasertib", "alpelisib"])
def test_capivasertib_or_alpelisib_without_fulvestrant_suggests_adding_it(client, drug):
    chart = after_first_line("ir-2").glycemia_ok().variant("PIK3CA", "p.His1047Arg", days_ago=15)
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("x", drug))), "order-incomplete-regimen")
    assert card["indicator"] == "warning" and created_drugs(card["suggestions"][0]) == ["fulvestrant"]


def test_co_pack_for_a_premenopausal_woman_without_ovarian_suppression_adds_goserelin(client):
    chart = first_line_de_novo("ir-3", menopause="premenopausal")
    cards = post(client, chart, "order-sign", chart.drafts(("k", "kisqali femara co-pack")))
    card = by_topic(cards, "order-incomplete-regimen")
    assert card["indicator"] == "warning" and created_drugs(card["suggestions"][0]) == ["goserelin"]


# --- fits, so silent ---------------------------------------------------------

def test_order_select_capivasertib_with_fulvestrant_already_drafted_is_complete_and_silent(client):
    chart = after_first_line("ok-1").glycemia_ok().variant("PIK3CA", "p.His1047Arg", days_ago=15)
    drafts = chart.drafts(("c", "capivasertib"), ("f", "fulvestrant"))
    assert post(client, chart, "order-select", drafts, ["MedicationRequest/c"]) == []
    assert post(client, chart, "order-sign", drafts) == []


def test_first_line_co_pack_in_de_novo_postmenopausal_disease_is_silent(client):
    chart = first_line_de_novo("ok-2")
    assert post(client, chart, "order-sign", chart.drafts(("k", "kisqali femara co-pack"))) == []


def test_tdxd_for_her2_low_after_one_endocrine_line_is_silent(client):
    chart = after_first_line("ok-3")
    assert post(client, chart, "order-sign", chart.drafts(("t", "trastuzumab deruxtecan"))) == []


def test_talazoparib_for_germline_brca1_is_silent(client):
    chart = after_first_line("ok-4").variant("BRCA1", "p.Gln1756fs", origin="germline", specimen="blood")
    assert post(client, chart, "order-sign", chart.drafts(("z", "talazoparib"))) == []


def test_elacestrant_text_order_with_a_current_esr1_mutation_is_silent(client):
    chart = after_first_line("ok-5").variant("ESR1", "p.Asp538Gly", specimen="ctdna", days_ago=10)
    assert post(client, chart, "order-sign", chart.drafts(("e", "elacestrant", "text"))) == []


def test_non_oncology_drafts_and_drugs_outside_the_pathway_get_no_cards(client):
    chart = after_first_line("ok-6")
    drafts = other_request("m", chart.pid) + [{
        "resourceType": "MedicationRequest", "id": "tam", "status": "draft", "intent": "order",
        "subject": {"reference": f"Patient/{chart.pid}"}, "medicationCodeableConcept": {"text": "tamoxifen 20 mg daily"}}]
    assert post(client, chart, "order-sign", drafts) == []
    assert post(client, chart, "order-select", drafts, ["MedicationRequest/m"]) == []


# --- order-select vs order-sign ----------------------------------------------

def test_order_select_speaks_about_the_selection_and_order_sign_about_every_draft(client):
    chart = after_first_line("sel-1", menopause="premenopausal")
    chart.med("goserelin", 580)  # ongoing ovarian suppression
    drafts = chart.drafts(("v", "everolimus"), ("x", "exemestane"), ("t", "trastuzumab deruxtecan"))
    # T-DXd selected: only that no labelled regimen adds it to everolimus + exemestane (B.11 single agent)
    [extra] = post(client, chart, "order-select", drafts, ["MedicationRequest/t"])
    assert extra["summary"].startswith("Trastuzumab deruxtecan drafted with everolimus + exemestane: no labelled regimen adds")
    selected = post(client, chart, "order-select", drafts, ["MedicationRequest/v"])
    assert topics(selected) == ["order-not-indicated"] and "overrideReasons" not in selected[0]
    signed = post(client, chart, "order-sign", drafts)
    assert topics(signed) == ["order-not-indicated", "order-not-indicated"]
    assert {r["display"] for r in signed[0]["overrideReasons"]} >= {
        "Patient enrolled in a clinical trial", "Benefit outweighs risk, discussed with patient"}


def test_a_fitting_pi3k_order_with_an_old_hba1c_gets_only_an_info_card_proposing_the_tests(client):
    chart = after_first_line("gly-1").variant("PIK3CA", "p.His1047Arg", days_ago=15).hba1c(5.6, 200)
    cards = post(client, chart, "order-sign", chart.drafts(("c", "capivasertib"), ("f", "fulvestrant")))
    assert [(c["indicator"], c["source"]["topic"]["code"]) for c in cards] == [("info", "test-glycemic")]
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in cards[0]["suggestions"][0]["actions"]]
    assert codes == ["4548-4", "1558-6"]
    assert "overrideReasons" not in cards[0]


# --- drafts the checks must leave alone ----------------------------------------

def test_a_draft_order_for_another_patient_is_not_checked_against_the_patient_in_context(client):
    chart = after_first_line("pt-1").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    # the same draft for this patient gets this patient's ILD stop ...
    assert topics(post(client, chart, "order-sign", drafts)) == ["order-contraindicated"]
    # ... a draft naming another patient is not judged by this patient's ILD history: one info
    # card says it was not checked (before: 200 with no card at all, as if checked and clean)
    drafts[0]["subject"] = {"reference": "Patient/someone-else"}
    for cards in (_sign_cards(client, chart, drafts),
                  _sign_cards(client, chart, drafts, "order-select", ["MedicationRequest/t"])):
        assert [(c["indicator"], c["source"]["topic"]["code"], c["summary"]) for c in cards] == [
            ("info", "patient-summary", "Drafted order not checked: it is for another patient (MedicationRequest/t)")]
        assert "- MedicationRequest/t (\"" in cards[0]["detail"]
        assert "its subject is another patient than the patient in context" in cards[0]["detail"]
        assert "someone-else" not in cards[0]["detail"]  # the other patient's id is not repeated
        assert "suggestions" not in cards[0] or not cards[0]["suggestions"]
    # not selected at order-select: not in focus, no card
    unselected = _sign_cards(client, chart, drafts + chart.drafts(("c", "capivasertib")), "order-select",
                             ["MedicationRequest/c"])
    assert all("another patient" not in c["summary"] for c in unselected)
    # and it does not complete a regimen for this patient either
    own = chart.drafts(("c", "capivasertib"))
    other = chart.drafts(("f", "fulvestrant"))
    other[0]["subject"] = {"reference": "https://ehr.example.org/fhir/Patient/someone-else"}
    cards = post(client, chart, "order-sign", own + other)
    assert "order-incomplete-regimen" in topics(cards)
    # every card about this patient's drafts names the other patient's draft as not checked
    assert all("**Drafted order not checked** (its subject is another patient than the patient in context)\n"
               "- MedicationRequest/f (\"" in c["detail"] for c in cards)


def test_a_non_oncology_draft_for_another_patient_gets_no_card_as_for_this_patient(client):
    chart = after_first_line("pt-3")
    drafts = other_request("x", "someone-else")
    assert _sign_cards(client, chart, drafts) == []


def test_a_cancelled_draft_for_another_patient_gets_no_card(client):
    chart = after_first_line("pt-4")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    drafts[0]["subject"] = {"reference": "Patient/someone-else"}
    drafts[0]["status"] = "cancelled"
    assert _sign_cards(client, chart, drafts) == []


def test_a_progression_stated_on_a_drafted_order_never_removes_its_critical_safety_stop(client):
    # the draft's own words (DraftOrder.stated_progression) answer only "no progression documented"
    # (order_rules.yaml stated_on_draft), never a safety card (CR C.2 safety overlays, B.11)
    chart = after_first_line("pt-stated").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    drafts[0]["note"] = [{"text": "Progression on capecitabine, CT last week"}]
    drafts[0]["reasonCode"] = [{"text": "Disease progression"}]
    cards = post(client, chart, "order-sign", drafts)
    assert [(c["indicator"], c["source"]["topic"]["code"]) for c in cards] == [("critical", "order-contraindicated")]


def test_a_draft_order_without_a_subject_is_checked_for_the_patient_in_context(client):
    chart = after_first_line("pt-2").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    del drafts[0]["subject"]
    cards = post(client, chart, "order-sign", drafts)
    assert topics(cards) == ["order-contraindicated"] and cards[0]["indicator"] == "critical"


def test_a_draft_that_prohibits_the_drug_is_not_checked_as_an_order_to_give_it(client):
    chart = after_first_line("dnp-1").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    drafts[0]["doNotPerform"] = False  # an order to give it: checked
    assert topics(post(client, chart, "order-sign", drafts)) == ["order-contraindicated"]
    drafts[0]["doNotPerform"] = True  # FHIR R4: the request prohibits the drug
    assert post(client, chart, "order-sign", drafts) == []
    assert post(client, chart, "order-select", drafts, ["MedicationRequest/t"]) == []
    # a prohibited partner does not complete the regimen either
    both = chart.drafts(("c", "capivasertib"), ("f", "fulvestrant"))
    both[1]["doNotPerform"] = True
    assert "order-incomplete-regimen" in topics(post(client, chart, "order-sign", both))


def _tdxd_drafted_after_symptomatic_ild(pid, status):
    """A chart after a first line and capecitabine with a symptomatic (grade 2) ILD, and a drafted
    trastuzumab deruxtecan order with MedicationRequest.status `status`."""
    chart = after_first_line(pid).regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    drafts[0]["status"] = status
    return chart, drafts


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "stopped", "completed"])
def test_a_withdrawn_or_finished_draft_is_not_checked_and_does_not_complete_a_regimen(client, status):
    # FHIR R4 MedicationRequest.status (a modifier): a cancelled, entered-in-error, stopped or
    # completed request orders nothing, as an order-sign bundle re-signing revised orders may carry
    chart, drafts = _tdxd_drafted_after_symptomatic_ild(f"closed-{status}", status)
    assert post(client, chart, "order-sign", drafts) == []
    assert post(client, chart, "order-select", drafts, ["MedicationRequest/t"]) == []
    # capivasertib with a withdrawn fulvestrant line is still capivasertib alone (combination-only label)
    both = chart.drafts(("c", "capivasertib"), ("f", "fulvestrant"))
    both[1]["status"] = status
    card = by_topic(post(client, chart, "order-select", both, ["MedicationRequest/c"]), "order-incomplete-regimen")
    assert card["summary"].startswith("Capivasertib drafted without fulvestrant")


@pytest.mark.parametrize("status", ["draft", "active", "on-hold", "unknown"])
def test_a_draft_active_or_on_hold_order_is_still_checked(client, status):
    chart, drafts = _tdxd_drafted_after_symptomatic_ild(f"open-{status}", status)
    assert topics(post(client, chart, "order-sign", drafts)) == ["order-contraindicated"]



def test_order_select_of_drafts_sent_without_ids_finds_each_by_its_entrys_full_url(client):
    # drafts review: a draft identified only by its Bundle entry's fullUrl (a urn:uuid, or
    # '.../MedicationRequest/p' with no id in the resource) could not be selected: 400, no check
    chart = after_first_line("furl-1")
    elacestrant, alpelisib = chart.drafts(("e", "elacestrant"), ("p", "alpelisib"))
    del elacestrant["id"], alpelisib["id"]
    urn = "urn:uuid:6c1f3f2e-2b8a-4d52-9d1e-000000000001"
    url = "https://ehr.example.org/fhir/MedicationRequest/p"
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": urn, "resource": elacestrant}, {"fullUrl": url, "resource": alpelisib}]}
    for selection, about in [(urn, "Elacestrant"), ("MedicationRequest/p", "Alpelisib"), (url, "Alpelisib")]:
        body = chart.request("order-select", [], [selection])
        body["context"]["draftOrders"] = bundle
        response = client.post("/cds-services/mbc-order-select", json=body)
        assert response.status_code == 200, response.get_json()
        cards = response.get_json()["cards"]
        assert cards and all(c["summary"].startswith(about) for c in cards if c["source"]["topic"]["code"] != "test-glycemic")
    # the draft its fullUrl names can be removed by a suggestion (delete names Type/id): alpelisib
    # beside elacestrant is named as the extra drug (no labelled regimen holds both, B.2/B.4)
    extra = by_topic(cards, "order-not-indicated")
    assert extra["summary"].startswith("Alpelisib drafted with elacestrant: no labelled regimen adds")
    assert [a.get("resourceId") for s in extra["suggestions"] for a in s["actions"]] == ["MedicationRequest/p"]


# --- draftOrders the checks cannot read --------------------------------------

def _ild_chart(pid: str) -> Chart:
    chart = after_first_line(pid).regimen(["capecitabine"], 300, 60)
    return chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")


def _sign(client, chart: Chart, draft_orders: dict):
    body = chart.request("order-sign", [])
    body["context"]["draftOrders"] = draft_orders
    return client.post("/cds-services/mbc-order-sign", json=body)


@pytest.mark.parametrize("entry, named", [
    (lambda mr: [mr], "draftOrders.entry[0] has no resource object"),  # the resource without its entry
    (lambda mr: "x", "draftOrders.entry must be a list"),
    (lambda mr: [1, None], "draftOrders.entry[0] must be a Bundle entry"),
    (lambda mr: [{"resource": mr}, {"resource": "x"}], "draftOrders.entry[1] has no resource object"),
    (lambda mr: [{"resource": {"id": "t"}}], "draftOrders.entry[0].resource has no resourceType"),
])
def test_a_draft_orders_bundle_whose_entries_cannot_be_read_is_a_400_naming_the_entry(client, entry, named):
    chart = _ild_chart("dob-1")
    [tdxd] = chart.drafts(("t", "trastuzumab deruxtecan"))
    response = _sign(client, chart, {"resourceType": "Bundle", "type": "collection", "entry": entry(tdxd)})
    assert response.status_code == 400
    assert named in response.get_json()["message"]


def _tdxd_by_reference(chart: Chart, reference: str) -> dict:
    [tdxd] = chart.drafts(("t", "trastuzumab deruxtecan"))
    del tdxd["medicationCodeableConcept"]
    tdxd["medicationReference"] = {"reference": reference}
    return tdxd


ENHERTU = {"resourceType": "Medication",
           "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "2267581"}]}}


@pytest.mark.parametrize("full_url, reference", [
    ("urn:uuid:7f1c0e2a-0000-4000-8000-000000000001", "urn:uuid:7f1c0e2a-0000-4000-8000-000000000001"),
    ("https://ehr.example.org/fhir/Medication/enhertu-100", "https://ehr.example.org/fhir/Medication/enhertu-100"),
    ("https://ehr.example.org/fhir/Medication/enhertu-100", "Medication/enhertu-100"),  # the Medication has no id
])
def test_a_drafted_drug_named_by_reference_to_a_draft_orders_entry_is_checked(client, full_url, reference):
    chart = _ild_chart("dob-2")
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": full_url, "resource": ENHERTU},
        {"fullUrl": "urn:uuid:7f1c0e2a-0000-4000-8000-000000000002", "resource": _tdxd_by_reference(chart, reference)},
    ]}
    response = _sign(client, chart, bundle)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert topics(cards) == ["order-contraindicated"] and "Trastuzumab deruxtecan" in cards[0]["summary"]


def _unchecked_alone_and_beside(client, chart: Chart, draft: dict, beside: dict,
                                said: str = "its drug could not be read") -> tuple[str, list[dict]]:
    """A draft whose drug the service cannot read: alone, one info card says it was not
    checked and why (`said`: its summary's words; HTTP 200; its detail returned); beside a draft
    that gets cards, every card names it under "Drafted orders not checked" (the cards returned)."""
    response = _sign(client, chart, {"resourceType": "Bundle", "entry": [{"resource": draft}]})
    assert response.status_code == 200
    [alone] = response.get_json()["cards"]
    assert alone["indicator"] == "info" and alone["source"]["topic"]["code"] == "patient-summary"
    assert alone["summary"] == f"Drafted order not checked: {said} (MedicationRequest/{draft['id']})"
    assert not response_problems(response.get_json(), chart.pid)
    cards = post(client, chart, "order-sign", [beside, draft])
    assert cards and all("**Drafted orders not checked**" in c["detail"] for c in cards)
    return alone["detail"], cards


def test_a_drafted_drug_whose_reference_cannot_be_resolved_is_never_passed_over_in_silence(client):
    chart = _ild_chart("dob-3")
    unresolved = _tdxd_by_reference(chart, "Medication/enhertu-100")
    [capivasertib] = chart.drafts(("c", "capivasertib"))
    message, cards = _unchecked_alone_and_beside(client, chart, unresolved, capivasertib)
    # the refusal names the draft and the reference; each card beside names it too
    assert "MedicationRequest/t" in message and "'Medication/enhertu-100'" in message and "not checked" in message
    for card in cards:
        assert "MedicationRequest/t: its medicationReference 'Medication/enhertu-100'" in card["detail"]



NDC = "http://hl7.org/fhir/sid/ndc"
ENHERTU_NDC = {"coding": [{"system": NDC, "code": "65597-406-01"}]}  # no name, no RxNorm code


@pytest.mark.parametrize("how", ["medicationCodeableConcept", "contained Medication"])
def test_an_adc_draft_coded_only_by_ndc_after_symptomatic_ild_is_never_signed_in_silence(client, how):
    # drafts review: an NDC-only draft was read as "a drug the pathway does not use" and
    # the ILD stop never fired (the therapy history already called such a record unreadable)
    chart = _ild_chart("ndc-1")
    [tdxd] = chart.drafts(("t", "trastuzumab deruxtecan"))
    if how == "medicationCodeableConcept":
        tdxd["medicationCodeableConcept"] = ENHERTU_NDC
    else:
        del tdxd["medicationCodeableConcept"]
        tdxd["contained"] = [{"resourceType": "Medication", "id": "m", "code": ENHERTU_NDC}]
        tdxd["medicationReference"] = {"reference": "#m"}
    [capivasertib] = chart.drafts(("c", "capivasertib"))
    message, cards = _unchecked_alone_and_beside(client, chart, tdxd, capivasertib)
    assert "MedicationRequest/t" in message and "no RxNorm code" in message and "65597-406-01" in message
    assert all("MedicationRequest/t: " in card["detail"] for card in cards)


@pytest.mark.parametrize("text, named", [
    ("Study drug (DESTINY-Breast trial)", '"Study drug (DESTINY-Breast trial)" names a trial drug, not which one'),
    ("Chemotherapy", '"Chemotherapy" names a chemotherapy, not which drug'),
])
def test_a_drafted_drug_written_as_a_class_or_a_trial_drug_after_symptomatic_ild_is_never_signed_in_silence(
        client, text, named):
    # "Study drug" / "Chemotherapy" was read as a drug the pathway does not use and the draft
    # passed in silence after symptomatic ILD; which drug is ordered is not known, so the
    # service says it did not check it (local_codes.yaml drug_mentions unnamed_drug_patterns)
    chart = _ild_chart(f"unn-{len(text)}")
    [tdxd] = chart.drafts(("t", "trastuzumab deruxtecan"))
    tdxd["medicationCodeableConcept"] = {"text": text}
    [capivasertib] = chart.drafts(("c", "capivasertib"))
    message, cards = _unchecked_alone_and_beside(client, chart, tdxd, capivasertib)
    # the record's text quoted as written, not lower-cased
    assert f"- MedicationRequest/t: its medicationCodeableConcept {named}" in message
    assert all(f"MedicationRequest/t: its medicationCodeableConcept {named}" in card["detail"] for card in cards)


def _qtc_470(pid: str) -> Chart:
    chart = first_line_de_novo(pid)
    chart._obs(chart.findings, "qtc", cc(LOINC, "8636-3", "QT interval corrected"), 5,
               valueQuantity={"value": 470, "unit": "ms", "system": "http://unitsofmeasure.org", "code": "ms"})
    return chart


@pytest.mark.parametrize("concept, conflict", [
    # the prescriber picked Kisqali; the orderable's code says palbociclib
    ({"coding": [{"system": RXNORM, "code": "1601381"}], "text": "Kisqali 200 mg tablets"},
     "its code names palbociclib but its text names ribociclib"),
    # two codings of one concept that name different drugs
    ({"coding": [{"system": RXNORM, "code": "1873984"}, {"system": RXNORM, "code": "1601381"}]},
     "its codings name different drugs (RxNorm 1873984: ribociclib; RxNorm 1601381: palbociclib)"),
])
def test_a_cdk46_draft_whose_codes_and_text_disagree_is_named_not_checked_instead_of_read_by_its_code(
        client, concept, conflict):
    # drafts review: the code won in silence, so a Kisqali order with QTc 470 ms met no
    # QTc warning; which drug is ordered is not known, so the service says it did not check it
    chart = _qtc_470("cfl-1")
    [cdk] = chart.drafts(("k", "ribociclib"))
    cdk["medicationCodeableConcept"] = concept
    [letrozole] = chart.drafts(("l", "letrozole"))
    said = "its codes name different drugs" if "codings" in conflict else "its code and text name different drugs"
    message, cards = _unchecked_alone_and_beside(client, chart, cdk, letrozole, said)
    assert conflict in message
    assert all(f"MedicationRequest/k: {conflict}" in c["detail"] for c in cards)
    # one concept read the same way throughout: a pack code with its component's code, and
    # a plain-trastuzumab code with the ADC named (CR A.5 hazard) are not conflicts
    cdk["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": "1923053"},
                                                   {"system": RXNORM, "code": "1873984"}], "text": "Kisqali"}
    assert topics(post(client, chart, "order-sign", [cdk])) == ["order-contraindicated"]



def test_a_transplant_dose_everolimus_draft_is_not_checked_as_the_breast_cancer_everolimus(client):
    # drafts review: the mappings read Zortress as "everolimus (transplant dose)", but the order
    # checks matched it to everolimus by its ingredient code (ILD caution, exemestane partner,
    # glucose tests on an anti-rejection drug); CR A.5: only oncology strengths/brands count
    chart = _ild_chart("ztx-1")
    [zortress] = chart.drafts(("z", "everolimus"))
    zortress["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": "1308430"}],
                                             "text": "Zortress 0.75 mg tablet twice daily"}
    assert post(client, chart, "order-sign", [zortress]) == []
    [afinitor] = chart.drafts(("a", "everolimus"))  # the oncology product is still checked
    assert "order-contraindicated" in topics(post(client, chart, "order-sign", [afinitor]))


# --- data the service could not get completely ----------------------------------

def test_an_order_card_says_when_a_prefetch_search_reported_an_error_and_may_be_incomplete(client):
    chart = after_first_line("inc-1")
    body = chart.request("order-sign", chart.drafts(("e", "elacestrant")))
    body["prefetch"]["genomics"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "too-costly", "details": {"text": "Results truncated: too many matches"}}]},
         "search": {"mode": "outcome"}}]}
    response = client.post("/cds-services/mbc-order-sign", json=body)
    assert response.status_code == 200
    card = by_topic(response.get_json()["cards"], "order-biomarker-missing")
    assert "ESR1" in card["summary"]
    assert "**Patient data may be incomplete**" in card["detail"]
    assert "prefetch 'genomics'" in card["detail"] and "Results truncated: too many matches" in card["detail"]


def test_an_order_card_says_nothing_of_incomplete_data_when_every_search_was_complete(client):
    chart = after_first_line("inc-2")
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("e", "elacestrant"))), "order-biomarker-missing")
    assert "may be incomplete" not in card["detail"]


# --- a receptor result not final yet (gap receptor-result-not-final) ----------------

def _not_final(chart: Chart, prefix: str, status: str = "preliminary") -> Chart:
    for m in chart.markers:
        if m["id"].startswith(prefix + "-"):
            m["status"] = status
    return chart


def _after_chemotherapy_her2_only_preliminary(pid: str) -> Chart:
    chart = Chart(pid).hr_positive_mbc(metastatic_days_ago=600)
    _not_final(chart, "her2")
    chart.regimen(["letrozole", "palbociclib"], 580, 20).progression(25)
    return chart.regimen(["capecitabine"], 19, 6)


def test_tdxd_drafted_while_the_only_her2_result_is_preliminary_says_it_is_not_final_and_preselects_no_test(client):
    # was: no card at all (receptor status unknown: outside the pathway, order signed in silence)
    chart = _after_chemotherapy_her2_only_preliminary("rnf-1")
    [card] = post(client, chart, "order-sign", chart.drafts(("t", "trastuzumab deruxtecan")))
    assert card["source"]["topic"]["code"] == "order-biomarker-missing" and card["indicator"] == "warning"
    assert card["summary"] == "Trastuzumab deruxtecan: HER2 result not final yet — label requires it"
    assert f"- HER2 IHC 1+ ({ago(600)}, status preliminary): not final, not read — Observation/her2-" in card["detail"]
    assert "**Awaiting the final report** of HER2 IHC 1+" in card["detail"]
    assert not card.get("suggestions")


def test_a_cdk46_inhibitor_drafted_while_er_and_pr_are_preliminary_says_they_are_not_final(client):
    chart = _not_final(_not_final(first_line_de_novo("rnf-2"), "er"), "pr", "registered")
    cards = post(client, chart, "order-sign", chart.drafts(("l", "letrozole"), ("p", "palbociclib")))
    [card] = cards
    assert card["summary"] == "Palbociclib: ER/PR result not final yet — label requires it"
    assert "ER positive (" in card["detail"] and "status preliminary): not final, not read" in card["detail"]
    assert "PR positive (" in card["detail"] and "status registered): not final, not read" in card["detail"]
    assert '- palbociclib: "hormone receptor (HR)-positive' in card["detail"]


def test_an_aromatase_inhibitor_alone_gets_no_receptor_card_its_label_does_not_hang_on_hr_status(client):
    chart = _not_final(_not_final(first_line_de_novo("rnf-3"), "er"), "pr")
    response = client.post("/cds-services/mbc-order-sign", json=chart.request("order-sign", chart.drafts(("l", "letrozole"))))
    assert response.status_code == 200 and response.get_json()["cards"] == []


def test_tdxd_after_a_final_her2_0_with_a_newer_preliminary_result_names_it_and_preselects_no_new_test(client):
    chart = Chart("rnf-4").hr_positive_mbc(metastatic_days_ago=600, her2="0")
    chart.her2("1+", 5)
    chart.markers[-1]["status"] = "preliminary"
    chart.regimen(["letrozole", "palbociclib"], 580, 20).progression(25).regimen(["capecitabine"], 19, 6)
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("t", "trastuzumab deruxtecan"))),
                    "order-biomarker-missing")
    assert card["summary"].endswith("not final yet — label requires it")
    assert f"- HER2 IHC 1+ ({ago(5)}, status preliminary): not final, not read" in card["detail"]
    assert "**Awaiting the final report** of HER2 IHC 1+" in card["detail"]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


def test_elacestrant_in_the_pathway_by_pr_with_a_preliminary_er_names_the_er_result_not_final(client):
    chart = _not_final(after_first_line("rnf-5"), "er")
    chart.variant("ESR1", "p.Asp538Gly", specimen="ctdna", days_ago=10)
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("e", "elacestrant"))), "order-biomarker-missing")
    assert card["summary"] == "Elacestrant: positive ER result not final yet — label requires it"
    assert "ER positive (" in card["detail"] and "status preliminary): not final, not read" in card["detail"]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


# --- what the EHR sees when nothing is checked ---------------------------------------

def test_a_drafted_drug_that_cannot_be_read_is_answered_200_with_a_not_checked_card_never_a_412(client):
    # CDS Hooks 2.0.1 keeps 412 for FHIR data the service cannot obtain; the draft came in the request
    chart = after_first_line("nc-1")
    [draft] = chart.drafts(("x", "letrozole"))
    draft["medicationCodeableConcept"] = {"text": "Chemotherapy"}
    response = client.post("/cds-services/mbc-order-select",
                           json=chart.request("order-select", [draft], ["MedicationRequest/x"]))
    assert response.status_code == 200
    [card] = response.get_json()["cards"]
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("info", "patient-summary")
    assert card["summary"] == "Drafted order not checked: its drug could not be read (MedicationRequest/x)"
    assert ('- MedicationRequest/x: its medicationCodeableConcept "Chemotherapy" names a chemotherapy, '
            "not which drug") in card["detail"] and "none of those checks was made" in card["detail"]
    assert "suggestions" not in card and not response_problems(response.get_json(), chart.pid)


def test_an_unreadable_draft_not_selected_at_order_select_gets_no_card(client):
    chart = after_first_line("nc-2")
    [draft] = chart.drafts(("x", "letrozole"))
    draft["medicationCodeableConcept"] = {"text": "Chemotherapy"}
    metformin, cbc = other_request("m", chart.pid)
    response = client.post("/cds-services/mbc-order-select",
                           json=chart.request("order-select", [draft, metformin], ["MedicationRequest/m"]))
    assert response.status_code == 200 and response.get_json()["cards"] == []


@pytest.mark.parametrize("drafts", [[], "non-anticancer"], ids=["empty draftOrders", "metformin and a CBC only"])
def test_draft_orders_with_nothing_for_this_service_to_check_are_answered_200_with_no_cards(client, drafts):
    chart = after_first_line(f"nc-3-{len(drafts)}")
    drafts = other_request("m", chart.pid) if drafts == "non-anticancer" else drafts
    response = client.post("/cds-services/mbc-order-sign", json=chart.request("order-sign", drafts))
    assert response.status_code == 200 and response.get_json() == {"cards": []}


# --- drafted tests that are, or are not, the test a card asks for ----------------------

def _named_test(rid: str, chart: Chart, text: str) -> dict:
    return drafted_test_order(rid, chart.pid, {"text": text})


def _talazoparib_signed_with_test(client, pid: str, text: str) -> dict:
    """The order-biomarker-missing card of talazoparib signed beside a drafted test named `text`
    (after a first line and capecitabine: the germline BRCA test is what the card asks for)."""
    chart = after_first_line(pid).regimen(["capecitabine"], 19, 6)
    return by_topic(post(client, chart, "order-sign", chart.drafts(("z", "talazoparib")) + [_named_test("s", chart, text)]),
                    "order-biomarker-missing")


@pytest.mark.parametrize("text", ["BRCA1/2 tumor NGS (somatic)", "Tumor NGS panel incl BRCA1/2"])
def test_a_drafted_somatic_brca_test_is_not_taken_for_the_germline_test_a_parp_inhibitor_needs(client, text):
    # was: "Already drafted with these orders" and the germline test not pre-selected
    card = _talazoparib_signed_with_test(client, f"dt-1-{len(text)}", text)
    assert f"**Drafted test not counted**: ServiceRequest/s ('{text}'): its name says somatic / tumour" in card["detail"]
    assert "Already drafted" not in card["detail"]
    [suggestion] = card["suggestions"]
    assert suggestion["isRecommended"] is True and "Germline BRCA1 and BRCA2" in suggestion["label"]


def test_a_drafted_brca_test_that_does_not_say_germline_is_counted_and_the_card_asks_to_check_it(client):
    card = _talazoparib_signed_with_test(client, "dt-2", "BRCA1 and BRCA2 sequencing")
    assert "**Already drafted with these orders**: ServiceRequest/s ('BRCA1 and BRCA2 sequencing')" in card["detail"]
    assert ("**Drafted test to check**: ServiceRequest/s ('BRCA1 and BRCA2 sequencing'): its name does not say "
            "germline") in card["detail"]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


@pytest.mark.parametrize("text", ["Germline BRCA testing", "gBRCA mutation test (blood)"])
def test_a_drafted_germline_brca_test_named_without_1_and_2_counts_as_drafted(client, text):
    # was: no gene read from "BRCA" alone, so the germline BRCA1/2 test was pre-selected a second
    # time ("gBRCAm": germline BRCA1/2-mutated, the Lynparza / Talzenna labels, CR B.6 / C.3 row 7)
    card = _talazoparib_signed_with_test(client, f"dt-7-{len(text)}", text)
    assert f"**Already drafted with these orders**: ServiceRequest/s ('{text}')" in card["detail"]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


@pytest.mark.parametrize("text", ["gBRCA mutation test (blood)", "gBRCA1/2 testing"])
def test_a_drafted_gbrca_test_is_read_as_the_germline_test_without_asking_to_check_it(client, text):
    # was: "Drafted test to check ... its name does not say germline" ("gBRCA1/2": no gene read
    # either); "gBRCAm" is germline BRCA1/2-mutated in the Lynparza / Talzenna labels (CR B.6 / B.7, C.3 row 7)
    card = _talazoparib_signed_with_test(client, f"dt-9-{len(text)}", text)
    assert f"**Already drafted with these orders**: ServiceRequest/s ('{text}')" in card["detail"]
    assert "does not say germline" not in card["detail"]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


def test_a_drafted_sbrca_test_is_read_as_the_somatic_test_and_not_counted(client):
    card = _talazoparib_signed_with_test(client, "dt-10", "sBRCA1/2 testing")
    assert ("**Drafted test not counted**: ServiceRequest/s ('sBRCA1/2 testing'): its name says somatic / tumour"
            in card["detail"])


@pytest.mark.parametrize("text", ["ESR1 ctDNA (not archival tissue)", "ESR1 mutation, plasma - primary tumour not suitable",
                                  "ESR1 on non-archival tissue from the new liver biopsy"])
def test_a_drafted_esr1_test_whose_name_rules_out_archival_tissue_counts_as_drafted(client, text):
    # was: "Drafted test not counted: its name says archival or primary-tumour tissue" and a
    # second ESR1 test pre-selected: the name says the archival / primary tissue is NOT used
    chart = after_first_line(f"dt-8-{len(text)}")
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("e", "elacestrant")) + [_named_test("s", chart, text)]),
                    "order-biomarker-missing")
    assert "Drafted test not counted" not in card["detail"]
    assert f"**Already drafted with these orders**: ServiceRequest/s ('{text}')" in card["detail"]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


@pytest.mark.parametrize("text", ["ESR1 mutation analysis on archival tissue", "ESR1 mutation, primary tumour block"])
def test_a_drafted_esr1_test_on_archival_tissue_leaves_the_ctdna_esr1_test_pre_selected(client, text):
    chart = after_first_line(f"dt-3-{len(text)}")
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("e", "elacestrant")) + [_named_test("s", chart, text)]),
                    "order-biomarker-missing")
    assert f"**Drafted test not counted**: ServiceRequest/s ('{text}'): its name says archival" in card["detail"]
    assert "CR C.3 row 18" in card["detail"]
    assert [s["isRecommended"] for s in card["suggestions"] if "ctDNA" in s["label"]] == [True]


def test_a_drafted_esr1_test_on_a_new_biopsy_still_counts_as_drafted(client):
    chart = after_first_line("dt-4")
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("e", "elacestrant"))
                         + [_named_test("s", chart, "ESR1 mutation, liver biopsy")]), "order-biomarker-missing")
    assert "**Already drafted with these orders**: ServiceRequest/s" in card["detail"]
    assert not any(s.get("isRecommended") for s in card["suggestions"])


@pytest.mark.parametrize("texts, left", [
    (["HbA1c", "Fasting glucose"], None),
    (["Hemoglobin A1c"], "Order Fasting glucose"),
    (["Glucose, fasting"], "Order Hemoglobin A1c"),
])
def test_glycemic_tests_drafted_by_name_only_are_not_pre_selected_again(client, texts, left):
    # was: not recognised without a LOINC code; both tests pre-selected again
    chart = after_first_line(f"dt-5-{len(texts[0])}")
    chart.variant("PIK3CA", "p.His1047Arg", days_ago=30)
    drafts = chart.drafts(("c", "capivasertib"), ("f", "fulvestrant")) + [
        _named_test(f"s{i}", chart, t) for i, t in enumerate(texts)]
    card = by_topic(post(client, chart, "order-sign", drafts), "test-glycemic")
    assert "**Already drafted with these orders**: ServiceRequest/s0" in card["detail"]
    [suggestion] = card["suggestions"]
    if left is None:
        assert suggestion["label"] == "Order Hemoglobin A1c + Fasting glucose" and not suggestion.get("isRecommended")
    else:
        assert suggestion["label"] == left and suggestion["isRecommended"] is True


@pytest.mark.parametrize("text", ["Non-fasting glucose", "Non fasting blood sugar"])
def test_a_drafted_non_fasting_glucose_is_not_taken_for_the_fasting_glucose(client, text):
    # was: read as fasting glucose (LOINC 1558-6): "Already drafted", fasting glucose no longer
    # pre-selected, though a random glucose does not answer the fasting test (CR A.3, C.2)
    chart = after_first_line(f"dt-6-{len(text)}")
    chart.variant("PIK3CA", "p.His1047Arg", days_ago=30)
    drafts = chart.drafts(("c", "capivasertib"), ("f", "fulvestrant")) + [_named_test("s0", chart, text)]
    card = by_topic(post(client, chart, "order-sign", drafts), "test-glycemic")
    assert "Already drafted" not in card["detail"]
    [suggestion] = card["suggestions"]
    assert suggestion["label"] == "Order Hemoglobin A1c + Fasting glucose" and suggestion["isRecommended"] is True


# --- a documented receptor result out of the label's scope, with a newer one not final yet ----

def test_er_and_pr_negative_with_a_newer_preliminary_er_names_it_and_does_not_preselect_removal(client):
    # was: "not indicated — ER-negative and PR-negative disease documented", removal pre-selected,
    # the newer ER result (status preliminary) not named: the final report may make it HR-positive
    chart = Chart("rnf-6").hr_positive_mbc(metastatic_days_ago=600)
    for m in chart.markers:
        if m["id"].startswith(("er-", "pr-")):
            m["valueCodeableConcept"] = cc(LOINC, "LA6577-6", "Negative")
    chart.regimen(["letrozole", "palbociclib"], 580, 20).progression(25)
    chart.receptor("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain", 5, "er")
    chart.markers[-1]["status"] = "preliminary"
    [card] = post(client, chart, "order-sign", chart.drafts(("e", "elacestrant")))
    assert card["source"]["topic"]["code"] == "order-not-indicated"
    assert card["summary"].endswith("; a newer ER result is not final yet")
    assert f"- ER positive ({ago(5)}, status preliminary): not final, not read — Observation/er-" in card["detail"]
    assert "**Not final yet**: ER positive" in card["detail"]
    assert [s.get("isRecommended") for s in card["suggestions"]] == [None]  # removal offered, not pre-selected


def test_her2_positive_with_a_newer_preliminary_her2_result_names_it_and_does_not_preselect_removal(client):
    chart = after_first_line("rnf-7", her2="3+")
    chart.her2("1+", 5)
    chart.markers[-1]["status"] = "preliminary"
    [card] = post(client, chart, "order-sign", chart.drafts(("e", "elacestrant")))
    assert card["source"]["topic"]["code"] == "order-not-indicated"
    assert card["summary"].endswith("; a newer HER2 result is not final yet")
    assert f"- HER2 IHC 1+ ({ago(5)}, status preliminary): not final, not read — Observation/her2-" in card["detail"]
    assert [s.get("isRecommended") for s in card["suggestions"]] == [None]


def test_er_and_pr_negative_with_only_older_results_not_final_still_preselects_removal(client):
    chart = Chart("rnf-8").hr_positive_mbc(metastatic_days_ago=600)
    chart.receptor("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain", 700, "er")
    chart.markers[-1]["status"] = "preliminary"
    for m in chart.markers[:2]:
        m["valueCodeableConcept"] = cc(LOINC, "LA6577-6", "Negative")
    chart.regimen(["letrozole", "palbociclib"], 580, 20).progression(25)
    [card] = post(client, chart, "order-sign", chart.drafts(("e", "elacestrant")))
    assert "not final" not in card["summary"] and card["suggestions"][0]["isRecommended"] is True


def test_a_not_indicated_card_waiting_on_a_newer_receptor_result_keeps_the_drugs_safety_warnings(client):
    # the removal is not pre-selected while the final report may bring the drug back into its
    # label: as for documented non-metastatic disease, the drug's safety warnings stay
    chart = _ild_chart("rnf-9")
    for m in chart.markers:
        if m["id"].startswith(("er-", "pr-")):
            m["valueCodeableConcept"] = cc(LOINC, "LA6577-6", "Negative")
    chart.receptor("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain", 5, "er")
    chart.markers[-1]["status"] = "preliminary"
    cards = post(client, chart, "order-sign", chart.drafts(("v", "everolimus"), ("x", "exemestane")))
    assert {"order-contraindicated", "order-not-indicated"} <= set(topics(cards))  # (and test-glycemic, as advisory)
    assert by_topic(cards, "order-not-indicated")["summary"].endswith("; a newer ER result is not final yet")


def test_palbociclib_in_documented_er_and_pr_negative_disease_is_not_indicated_as_the_other_cdk46_inhibitors_are(client):
    # was: no card (palbociclib left out of hr_negative_not_indicated), while the same draft with
    # an ER/PR result not final yet got "label requires it" quoting the Ibrance USPI's
    # "hormone receptor (HR)-positive" words (label-ibrance-indications)
    chart = Chart("rnf-10").hr_positive_mbc(metastatic_days_ago=10)
    for m in chart.markers:
        if m["id"].startswith(("er-", "pr-")):
            m["valueCodeableConcept"] = cc(LOINC, "LA6577-6", "Negative")
    cards = post(client, chart, "order-sign", chart.drafts(("l", "letrozole"), ("p", "palbociclib")))
    card = by_topic(cards, "order-not-indicated")
    assert card["summary"].startswith("Palbociclib: not indicated — ER-negative and PR-negative disease documented")
    assert '- palbociclib: "hormone receptor (HR)-positive' in card["detail"]
    assert deleted(card["suggestions"][0]) == ["MedicationRequest/p"]


def test_capivasertib_drafted_beside_an_order_prohibiting_fulvestrant_names_it_and_does_not_preselect_fulvestrant(client):
    # FHIR R4 MedicationRequest.doNotPerform: "do not do this"; capivasertib is labelled only with
    # fulvestrant (CR B.5): the card names the prohibiting draft instead of pre-selecting the drug it prohibits
    chart = after_first_line("dnp-2").glycemia_ok().variant("PIK3CA", "p.His1047Arg", days_ago=15)
    both = chart.drafts(("c", "capivasertib"), ("f", "fulvestrant"))
    both[1]["doNotPerform"] = True
    card = by_topic(post(client, chart, "order-sign", both), "order-incomplete-regimen")
    assert card["summary"].startswith("Capivasertib drafted while a drafted order prohibits fulvestrant")
    assert card["detail"].startswith("**A drafted order prohibits fulvestrant** (doNotPerform: do not give it): "
                                     "MedicationRequest/f")
    assert _suggested(card) == [("Add fulvestrant (Capivasertib + fulvestrant)", False)]
    # a cancelled prohibition prohibits nothing: the usual card, fulvestrant pre-selected
    both[1]["status"] = "cancelled"
    card = by_topic(post(client, chart, "order-sign", both), "order-incomplete-regimen")
    assert card["summary"].startswith("Capivasertib drafted without fulvestrant")
    assert _suggested(card) == [("Add fulvestrant (Capivasertib + fulvestrant)", True)]


def test_a_co_pack_for_a_premenopausal_woman_beside_an_order_prohibiting_goserelin_names_it_and_does_not_preselect_it(client):
    # FHIR R4 MedicationRequest.doNotPerform: the OFS card names the prohibiting draft (CR C.2 step 2)
    chart = first_line_de_novo("dnp-3", menopause="premenopausal")
    drafts = chart.drafts(("k", "kisqali femara co-pack"), ("g", "goserelin", "ingredient"))
    drafts[1]["doNotPerform"] = True
    card = by_topic(post(client, chart, "order-sign", drafts), "order-incomplete-regimen")
    assert card["detail"].startswith("**A drafted order prohibits an LHRH agonist** (doNotPerform: do not give it): "
                                     "MedicationRequest/g")
    assert [preselected for _, preselected in _suggested(card)] == [False]


# --- drafts that contradict each other -------------------------------------------

def _sign_cards(client, chart: Chart, drafts: list[dict], hook: str = "order-sign",
                selections: list[str] | None = None) -> list[dict]:
    """The cards of a request whose answer may hold the patient-summary info card (which the
    order-topic checker `post` refuses), through the shared contract checker."""
    response = client.post(f"/cds-services/mbc-{hook}", json=chart.request(hook, drafts, selections))
    assert response.status_code == 200 and not response_problems(response.get_json(), chart.pid)
    return response.get_json()["cards"]


@pytest.mark.parametrize("hook, selections", [("order-sign", None), ("order-select", ["MedicationRequest/f2"])])
def test_a_drug_drafted_beside_a_draft_prohibiting_the_same_drug_gets_one_info_card_naming_both(client, hook, selections):
    # FHIR R4 MedicationRequest.doNotPerform = true: "do not do this"; signed beside an order for the
    # same drug the drafts say both "give" and "do not give" fulvestrant: no card said so
    chart = after_first_line("dnp-4")
    drafts = chart.drafts(("f", "fulvestrant"), ("f2", "fulvestrant"))
    drafts[1]["doNotPerform"] = True
    [card] = _sign_cards(client, chart, drafts, hook, selections)
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("info", "patient-summary")
    assert card["summary"] == ("Fulvestrant drafted both to give and not to give "
                               "(MedicationRequest/f, MedicationRequest/f2)")
    assert ('- fulvestrant: to give: MedicationRequest/f ("fulvestrant 50 MG/ML Prefilled Syringe"); '
            'prohibited: MedicationRequest/f2 ("fulvestrant 50 MG/ML Prefilled Syringe")') in card["detail"]


def test_a_drug_both_ordered_and_prohibited_leaves_nothing_preselected_on_its_order_cards(client):
    # elacestrant without an ESR1 result pre-selected the ESR1 test although another draft
    # prohibits elacestrant: the test would rely on the "give" reading (FHIR R4 doNotPerform)
    chart = after_first_line("dnp-5")
    drafts = chart.drafts(("e", "elacestrant"), ("e2", "elacestrant", "text"))
    drafts[1]["doNotPerform"] = True
    cards = _sign_cards(client, chart, drafts)
    assert topics(cards) == ["order-biomarker-missing", "patient-summary"]
    assert cards[0]["suggestions"] and not any(s.get("isRecommended") for s in cards[0]["suggestions"])
    assert "Until then nothing is pre-selected on the other order cards" in cards[1]["detail"]
    # a cancelled prohibition prohibits nothing: the test is pre-selected, no contradiction card
    drafts[1]["status"] = "cancelled"
    cards = _sign_cards(client, chart, drafts)
    assert topics(cards) == ["order-biomarker-missing"] and cards[0]["suggestions"][0]["isRecommended"] is True


def test_the_same_drug_drafted_twice_without_a_prohibition_gets_no_contradiction_card(client):
    # two active drafts of fulvestrant (e.g. the 500 mg loading doses and the monthly dose): a
    # duplicate is no contradiction, and no source here settles whether it is an error
    chart = after_first_line("dnp-6")
    assert _sign_cards(client, chart, chart.drafts(("f", "fulvestrant"), ("f2", "fulvestrant"))) == []


# --- drafts that are not orders (FHIR R4 MedicationRequest.intent) ---------------

def _with_intent(drafts: list[dict], intent: str) -> list[dict]:
    for d in drafts:
        d["intent"] = intent
    return drafts


@pytest.mark.parametrize("intent, noun, gloss", [
    ("option", "option", "one choice of several, not an order"),
    ("proposal", "proposal", "a suggestion, not an order"),
    ("plan", "plan", "an intention, not an order"),
])
def test_a_safety_stop_on_a_drafted_option_or_proposal_is_still_said_but_not_against_the_drafted_order(
        client, intent, noun, gloss):
    # FHIR R4 MedicationRequest.intent: only "order" and its children authorise; the card called an
    # option (one choice of several) "this order" and offered to "Remove the draft order"
    chart = after_first_line(f"int-1-{intent}").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    [card] = post(client, chart, "order-sign", _with_intent(chart.drafts(("t", "trastuzumab deruxtecan")), intent))
    assert card["indicator"] == "critical"
    assert f"a documented safety reason against this {noun}." in card["detail"]
    assert f"**Drafted {noun}s checked**\n- MedicationRequest/t (" in card["detail"]
    assert f"; intent {intent}: {gloss})" in card["detail"]
    assert "order" not in card["suggestions"][0]["label"].lower()
    assert card["suggestions"][0]["label"].startswith(f"Remove the draft {noun}: ")


def test_an_incomplete_regimen_drafted_as_options_names_them_options_and_an_order_keeps_its_wording(client):
    chart = after_first_line("int-2").glycemia_ok().variant("PIK3CA", "p.His1047Arg", days_ago=15)
    card = by_topic(post(client, chart, "order-sign", _with_intent(chart.drafts(("c", "capivasertib")), "option")),
                    "order-incomplete-regimen")
    assert "is the pathway regimen for these options." in card["detail"]
    assert "**Drafted options checked**" in card["detail"] and "Drafted orders checked" not in card["detail"]
    card = by_topic(post(client, chart, "order-sign", chart.drafts(("c", "capivasertib"))), "order-incomplete-regimen")
    assert "is the pathway regimen for these orders." in card["detail"] and "**Drafted orders checked**" in card["detail"]
    assert "intent order" not in card["detail"]


def test_drafts_of_mixed_or_unknown_intents_are_named_neutrally_as_drafts(client):
    chart = after_first_line("int-3")
    drafts = chart.drafts(("l", "letrozole"), ("p", "palbociclib"))
    drafts[0]["intent"] = "option"
    card = by_topic(post(client, chart, "order-sign", drafts), "order-not-indicated")
    assert "**Drafts checked**" in card["detail"]
    assert [a["description"].split(" MedicationRequest/")[0] for a in card["suggestions"][0]["actions"]
            if a["type"] == "delete"] == ["Remove draft option", "Remove draft order"]


def test_a_drafted_option_whose_drug_cannot_be_read_is_not_called_an_order(client):
    chart = after_first_line("int-4")
    [draft] = _with_intent(chart.drafts(("x", "letrozole")), "option")
    draft["medicationCodeableConcept"] = {"text": "Chemotherapy"}
    [card] = _sign_cards(client, chart, [draft])
    assert card["summary"] == "Drafted option not checked: its drug could not be read (MedicationRequest/x)"
    assert "It cannot tell which drug this option names" in card["detail"]


# --- a test drafted that is already resulted ---------------------------------------

def _germline_negative(pid: str) -> Chart:
    return (after_first_line(pid).variant("BRCA1", origin="germline", detected=False, days_ago=400)
            .variant("BRCA2", origin="germline", detected=False, days_ago=400))


def test_a_germline_brca_test_drafted_after_a_final_germline_result_gets_an_info_card_with_the_result_date(client):
    # a germline (inherited) result is not repeated at progression: the pathway tests germline
    # BRCA1/2 once and repeats only ESR1 (CR C.2, C.3 row 18); the drafted test got no card
    chart = _germline_negative("gr-1")
    test = drafted_test_order("s", chart.pid, {"text": "Germline BRCA1/2 testing"})
    [card] = _sign_cards(client, chart, [test])
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("info", "test-germline-brca")
    assert card["summary"] == (f"Germline BRCA1/2 already tested ({ago(400)}): a germline result does not change — "
                               "the drafted test repeats it")
    assert f"- BRCA1 not detected (germline, tissue, {ago(400)}) — Observation/" in card["detail"]
    assert '- ServiceRequest/s ("Germline BRCA1/2 testing")' in card["detail"]
    assert "suggestions" not in card
    # order-select: only when the test itself is picked
    drafts = [test] + chart.drafts(("f", "fulvestrant"))
    assert _sign_cards(client, chart, drafts, "order-select", ["MedicationRequest/f"]) == []
    assert topics(_sign_cards(client, chart, drafts, "order-select", ["ServiceRequest/s"])) == ["test-germline-brca"]


def test_a_germline_brca_test_drafted_after_a_germline_pathogenic_variant_in_one_gene_says_it_would_not_change_that(client):
    # gBRCAm in either gene meets the PARP inhibitor labels (CR C.3 row 7): patient-view asks for no test
    chart = after_first_line("gr-2").variant("BRCA2", "p.Lys3326Ter", origin="germline", days_ago=300)
    test = drafted_test_order("s", chart.pid, {"text": "gBRCA"})
    [card] = _sign_cards(client, chart, [test])
    assert card["summary"] == (f"Germline BRCA2 pathogenic variant documented ({ago(300)}): the drafted germline "
                               "BRCA test would not change that")
    assert "No germline BRCA1 result of its own is documented" in card["detail"]


@pytest.mark.parametrize("text", ["BRCA1/2 tumour NGS", "BRCA1/2 sequencing"])
def test_a_brca_test_whose_name_does_not_say_germline_gets_no_already_tested_card(client, text):
    chart = _germline_negative("gr-3")
    assert _sign_cards(client, chart, [drafted_test_order("s", chart.pid, {"text": text})]) == []


def test_a_germline_brca_test_with_only_one_gene_resulted_gets_no_already_tested_card(client):
    # BRCA2 untested and no gBRCAm: patient-view still asks for germline BRCA1/2 testing
    chart = after_first_line("gr-4").variant("BRCA1", origin="germline", detected=False, days_ago=400)
    test = drafted_test_order("s", chart.pid, {"text": "Germline BRCA1/2 testing"})
    assert _sign_cards(client, chart, [test]) == []


@pytest.mark.parametrize("text", ["BRACAnalysis CDx", "Myriad BRACAnalysis CDx (blood)"])
def test_a_bracanalysis_test_drafted_after_a_final_germline_result_gets_the_already_tested_card(client, text):
    # BRACAnalysis CDx is the germline BRCA1/2 blood test (CR B.6 / B.7 CDx, B.15): its name gives
    # no gene, so the repeat got no card
    chart = _germline_negative("gr-6")
    [card] = _sign_cards(client, chart, [drafted_test_order("s", chart.pid, {"text": text})])
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("info", "test-germline-brca")
    assert card["summary"].startswith(f"Germline BRCA1/2 already tested ({ago(400)})")


@pytest.mark.parametrize("value", ["yes", 1])
def test_a_drafted_test_whose_do_not_perform_is_neither_true_nor_false_is_named_not_checked_not_read_as_drafted(
        client, value):
    # FHIR R4 ServiceRequest.doNotPerform is a boolean: "yes" was read as the test drafted (a repeat
    # of the germline test got the already-tested card as if ordered); now named as unclear
    chart = _germline_negative("gr-7")
    test = drafted_test_order("s", chart.pid, {"text": "Germline BRCA1/2 testing"})
    test["doNotPerform"] = value
    [card] = _sign_cards(client, chart, [test])
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("info", "patient-summary")
    assert card["summary"] == ("Drafted order not checked: whether it orders or prohibits its test is unclear "
                               "(ServiceRequest/s)")
    assert f"- ServiceRequest/s: its doNotPerform is {value!r}, neither true nor false" in card["detail"]
    assert "FHIR R4 ServiceRequest.doNotPerform" in card["detail"]


def test_a_drafted_test_with_an_unclear_do_not_perform_beside_a_checked_drug_is_named_in_that_card(client):
    chart = after_first_line("gr-8").variant("PIK3CA", "p.His1047Arg", days_ago=15).glycemia_ok()
    test = drafted_test_order("s", chart.pid, {"text": "ESR1 ctDNA test"})
    test["doNotPerform"] = "yes"
    card = by_topic(post(client, chart, "order-sign", [test] + chart.drafts(("c", "capivasertib"))),
                    "order-incomplete-regimen")
    assert "**Drafted orders not checked** (whether they order or prohibit their test is unclear)" in card["detail"]
    assert "- ServiceRequest/s: its doNotPerform is 'yes', neither true nor false" in card["detail"]


def test_esr1_and_receptor_tests_drafted_beside_earlier_results_stay_silent(client):
    # ESR1 is re-tested in ctDNA at each progression (CR C.2 "Always", C.3 row 18), and receptors
    # on a re-biopsy at progression (CR C.2 step 0: the most recent biopsy decides)
    chart = after_first_line("gr-5").variant("ESR1", "p.Asp538Gly", specimen="ctdna", days_ago=400)
    for text in ("ESR1 mutation analysis, plasma ctDNA", "ER/PR/HER2 on biopsy of liver metastasis"):
        assert _sign_cards(client, chart, [drafted_test_order("s", chart.pid, {"text": text})]) == []


@pytest.mark.parametrize("value", ["true", "True"])
def test_a_draft_whose_do_not_perform_is_the_string_true_prohibits_the_drug_and_is_not_checked_as_an_order(client, value):
    # FHIR R4 boolean "true" sent as a JSON string was read as an order to give the drug: a critical
    # "do not start" card pre-selected removing what was in fact the prohibition
    chart = after_first_line(f"dnp-s-{value}").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    drafts[0]["doNotPerform"] = value
    assert _sign_cards(client, chart, drafts) == []


@pytest.mark.parametrize("value", ["yes", 1])
def test_a_draft_whose_do_not_perform_is_neither_true_nor_false_is_named_not_checked_not_read_as_an_order(client, value):
    chart = after_first_line(f"dnp-u-{value}").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"))
    drafts[0]["doNotPerform"] = value
    [card] = _sign_cards(client, chart, drafts)
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("info", "patient-summary")
    assert card["summary"] == ("Drafted order not checked: whether it orders or prohibits its drug is unclear "
                               "(MedicationRequest/t)")
    assert f"- MedicationRequest/t: its doNotPerform is {value!r}, neither true nor false" in card["detail"]


def test_a_critical_stop_for_another_drug_keeps_its_preselected_removal_beside_a_contradiction(client):
    # fulvestrant drafted to give and prohibited says nothing about T-DXd: after symptomatic ILD the
    # critical "do not start" card must still pre-select removing the T-DXd draft (it lost it)
    chart = after_first_line("dnp-7").regimen(["capecitabine"], 300, 60)
    chart.ild(120, "Drug-induced pneumonitis grade 2 (symptomatic), treated with steroids")
    drafts = chart.drafts(("t", "trastuzumab deruxtecan"), ("f", "fulvestrant"), ("f2", "fulvestrant"))
    drafts[2]["doNotPerform"] = True
    critical, extra, summary = _sign_cards(client, chart, drafts)
    assert critical["summary"].startswith("Trastuzumab deruxtecan: after symptomatic ILD")
    # T-DXd is a single agent (B.11): fulvestrant drafted beside it is named extra, nothing pre-selected
    # (T-DXd after symptomatic ILD is a "do not start" pathway card, not an excluded one: C.2 safety overlays)
    assert extra["summary"].startswith("Fulvestrant drafted with trastuzumab deruxtecan: no labelled regimen adds")
    assert not any(s.get("isRecommended") for s in extra.get("suggestions", []))
    assert _suggested(critical) == [(critical["suggestions"][0]["label"], True)]
    assert critical["suggestions"][0]["label"].startswith("Remove the draft order: ")
    assert summary["summary"] == "Fulvestrant drafted both to give and not to give (MedicationRequest/f, MedicationRequest/f2)"
    assert "nothing is pre-selected on the other order cards about these drugs" in summary["detail"]


def test_one_drug_of_a_prohibited_co_pack_drafted_alone_is_no_contradiction_but_the_pack_given_beside_its_drug_prohibited_is(client):
    # "do not give" the Kisqali Femara Co-Pack prohibits that combination (FHIR R4 doNotPerform on
    # the request): letrozole drafted alone beside it (ribociclib stopped) was called "drafted both
    # to give and not to give"; the incomplete-regimen card names the prohibited ribociclib instead
    chart = first_line_de_novo("dnp-8")
    drafts = chart.drafts(("k", "kisqali femara co-pack"), ("l", "letrozole"))
    drafts[0]["doNotPerform"] = True
    cards = _sign_cards(client, chart, drafts)
    assert topics(cards) == ["order-incomplete-regimen"]
    assert cards[0]["summary"].startswith("Letrozole drafted while a drafted order prohibits ribociclib")
    # the pack drafted to give beside a draft prohibiting its letrozole: both say something of letrozole
    drafts = chart.drafts(("k", "kisqali femara co-pack"), ("l", "letrozole"))
    drafts[1]["doNotPerform"] = True
    [card] = _sign_cards(client, chart, drafts)
    assert card["summary"] == "Letrozole drafted both to give and not to give (MedicationRequest/k, MedicationRequest/l)"


def test_a_contradiction_between_drafts_with_long_ids_is_summarised_without_a_cut_reference(client):
    # the references clipped at 140 characters left "(MedicationRequest/trastuzumab-...-aaaa…" open
    chart = after_first_line("dnp-9")
    drafts = chart.drafts(("trastuzumab-deruxtecan-draft-0001-aaaa", "trastuzumab deruxtecan"),
                          ("trastuzumab-deruxtecan-draft-0002-bbbb", "trastuzumab deruxtecan"))
    drafts[1]["doNotPerform"] = True
    card = [c for c in _sign_cards(client, chart, drafts) if c["source"]["topic"]["code"] == "patient-summary"][0]
    assert card["summary"] == "Trastuzumab deruxtecan drafted both to give and not to give (2 drafts, named below)"
    assert "prohibited: MedicationRequest/trastuzumab-deruxtecan-draft-0002-bbbb" in card["detail"]


def test_two_drafted_tests_whose_do_not_perform_is_unclear_are_named_in_the_plural_without_the_drug_checks_wording(client):
    # the card read "2 drafted orders not checked: whether it orders or prohibits its test is unclear"
    # and "It cannot tell whether this order orders or prohibits the test ... an order coded with its
    # RxNorm code or written with the drug's name is checked" (a drug's wording, of a test)
    chart = _germline_negative("gr-9")
    tests = [drafted_test_order("s", chart.pid, {"text": "Germline BRCA1/2 testing"}),
             drafted_test_order("s2", chart.pid, {"text": "ESR1 ctDNA test"})]
    tests[0]["doNotPerform"], tests[1]["doNotPerform"] = "yes", 1
    [card] = _sign_cards(client, chart, tests)
    assert card["summary"] == "2 drafted orders not checked: whether they order or prohibit their tests is unclear"
    assert "It cannot tell whether these orders request or prohibit their tests, so they were not checked" \
        in card["detail"]
    assert "RxNorm" not in card["detail"] and "drug" not in card["detail"]


def test_a_drafted_test_whose_do_not_perform_is_unclear_is_said_to_be_unclear_of_its_test_not_of_a_drug(client):
    chart = _germline_negative("gr-10")
    test = drafted_test_order("s", chart.pid, {"text": "Germline BRCA1/2 testing"})
    test["doNotPerform"] = "yes"
    [card] = _sign_cards(client, chart, [test])
    assert "It cannot tell whether this order requests or prohibits its test, so it was not checked: a drafted " \
        "test is read when its doNotPerform is true or false (FHIR R4 ServiceRequest.doNotPerform)." in card["detail"]
    assert "orders orders" not in card["detail"] and "RxNorm" not in card["detail"]


# --- a drafted order's text read as the therapy history reads a record's ------

def _written(draft: dict, text: str, how: str) -> dict:
    """The draft's drug written as `text` only: its medicationCodeableConcept, or a contained
    Medication its medicationReference names."""
    del draft["medicationCodeableConcept"]
    if how == "medicationCodeableConcept":
        draft["medicationCodeableConcept"] = {"text": text}
    else:
        draft["contained"] = [{"resourceType": "Medication", "id": "m", "code": {"text": text}}]
        draft["medicationReference"] = {"reference": "#m"}
    return draft


@pytest.mark.parametrize("how", ["medicationCodeableConcept", "contained Medication"])
@pytest.mark.parametrize("text, why", [
    # a refusal in a draft: whether it orders the drug is not clear (was: checked as fulvestrant)
    ("Fulvestrant (patient declined)", 'its text "Fulvestrant (patient declined)" writes its drug as refused or not started: '
                                       "whether it orders it is not clear"),
    # the premedication order set or the drug itself (was: checked as paclitaxel)
    ("Paclitaxel premedication", 'its text "Paclitaxel premedication" names a premedication for its drug: whether it '
                                 "orders the drug or its premedication is not clear"),
    # two endocrine classes in sequence (was: checked as letrozole and fulvestrant drafted together)
    ("Letrozole then fulvestrant", 'its text "Letrozole then fulvestrant" writes fulvestrant after letrozole, '
                                   "endocrine therapy of another class: which one it orders now is not written"),
    # a class joined to the drug written as refused (was: palbociclib checked, partner not named)
    ("Palbociclib + AI (declined)", 'its text "Palbociclib + AI (declined)" writes a refusal and names more than '
                                    "one drug: which one it orders is not clear"),
])
def test_a_draft_whose_text_does_not_say_which_drug_it_orders_is_named_not_checked(client, text, why, how):
    chart = first_line_de_novo(f"dtx-{len(text)}-{len(how)}")
    [draft] = chart.drafts(("d", "letrozole"))
    [beside] = chart.drafts(("l", "letrozole"))
    # the summary says what the text writes (the reason line says it in full)
    said = ("its text names a premedication" if "premedication" in why else
            "its text names one endocrine drug after another" if "then" in text else "its text writes a refusal")
    message, cards = _unchecked_alone_and_beside(client, chart, _written(draft, text, how), beside, said)
    assert f"- MedicationRequest/d: {why}" in message
    assert all(f"MedicationRequest/d: {why}" in c["detail"] for c in cards)


@pytest.mark.parametrize("how", ["medicationCodeableConcept", "contained Medication"])
def test_a_drug_written_as_refused_inside_a_drafted_regimen_is_not_checked_as_ordered(client, how):
    chart = first_line_de_novo(f"dtr-{len(how)}")
    # palbociclib declined: letrozole alone is ordered (was: a complete AI + CDK4/6i regimen, no card)
    [draft] = chart.drafts(("d", "letrozole"))
    cards = post(client, chart, "order-sign", [_written(draft, "Letrozole + palbociclib (palbociclib declined)", how)])
    assert [c["summary"] for c in cards] == [
        "Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]
    # fulvestrant declined, letrozole chosen: no card about a fulvestrant order (was: one for each)
    [draft] = chart.drafts(("d", "letrozole"))
    cards = post(client, chart, "order-sign", [_written(draft, "Declined fulvestrant, chose letrozole", how)])
    assert [c["summary"] for c in cards] == [
        "Letrozole drafted without ribociclib: Aromatase inhibitor + CDK4/6 inhibitor is the labelled regimen"]
    # refusal words opening the next drug's clause, as the history reads them: fulvestrant alone is
    # ordered (was: checked as fulvestrant + palbociclib, "not indicated")
    [draft] = chart.drafts(("d", "letrozole"))
    cards = post(client, chart, "order-sign", [_written(draft, "Fulvestrant 500 mg; declined palbociclib", how)])
    assert [c["summary"] for c in cards] == [
        "Fulvestrant drafted without ribociclib: Fulvestrant + CDK4/6 inhibitor is the labelled regimen"]


def test_a_draft_written_as_two_abbreviated_drug_names_is_not_passed_over_in_silence(client):
    # "Letro + palbo": was read as a drug the pathway does not use, no card at all
    chart = first_line_de_novo("dab-1")
    [draft] = chart.drafts(("d", "letrozole"))
    [beside] = chart.drafts(("l", "letrozole"))
    message, _ = _unchecked_alone_and_beside(client, chart, _written(draft, "Letro + palbo", "contained"), beside)
    assert ('- MedicationRequest/d: the Medication \'#m\' "Letro + palbo" names abbreviated drug names, not read as '
            "drugs (they may stand for letrozole and palbociclib)") in message


@pytest.mark.parametrize("text, drug", [("Planned fulvestrant", "fulvestrant"), ("Consider fulvestrant", "fulvestrant"),
                                        ("Premedication for paclitaxel", "paclitaxel")])
def test_a_draft_naming_its_pathway_drug_only_as_planned_or_premedicated_is_not_passed_over_in_silence(
        client, text, drug):
    # was: read as a drug the pathway does not use, no card at all
    chart = first_line_de_novo(f"dpl-{len(text)}")
    [draft] = chart.drafts(("d", "letrozole"))
    [beside] = chart.drafts(("l", "letrozole"))
    message, _ = _unchecked_alone_and_beside(client, chart, _written(draft, text, "medicationCodeableConcept"), beside,
                                             "its text does not name its drug as ordered")
    assert f'- MedicationRequest/d: its text "{text}" names {drug} but not as the drug it orders' in message
    # a drug of its own named first stays a drug the pathway does not use
    [draft] = chart.drafts(("d", "letrozole"))
    assert post(client, chart, "order-sign", [_written(draft, "Dexamethasone pre paclitaxel", "contained")]) == []


def test_a_drafted_endocrine_drug_with_another_class_planned_only_on_progression_is_checked_as_ordered(client):
    # "then letrozole if progression" is a plan (local_codes.yaml drug_mentions not_given_after):
    # fulvestrant is ordered now, not a sequence whose current drug is unknown
    chart = first_line_de_novo("dpp-1")
    [draft] = chart.drafts(("d", "letrozole"))
    cards = post(client, chart, "order-sign", [_written(draft, "Fulvestrant, then letrozole if progression", "contained")])
    assert [c["summary"] for c in cards] == [
        "Fulvestrant drafted without ribociclib: Fulvestrant + CDK4/6 inhibitor is the labelled regimen"]


@pytest.mark.parametrize("text", ["Fulvestrant 500 mg (declined palbociclib)", "Fulvestrant 500 mg - declined palbociclib",
                                  "Fulvestrant 500 mg: patient declined palbociclib", "Fulvestrant 500 mg declined palbociclib"])
def test_a_refusal_opening_the_next_drugs_clause_after_a_dose_is_that_drugs_refusal_in_a_draft(client, text):
    # as after "; " or ", ": palbociclib declined, fulvestrant ordered (was: fulvestrant + palbociclib
    # drafted, the refusal passed over in silence)
    chart = first_line_de_novo(f"drd-{len(text)}")
    [draft] = chart.drafts(("d", "letrozole"))
    cards = post(client, chart, "order-sign", [_written(draft, text, "medicationCodeableConcept")])
    assert [c["summary"] for c in cards] == [
        "Fulvestrant drafted without ribociclib: Fulvestrant + CDK4/6 inhibitor is the labelled regimen"]


def test_a_draft_refusing_a_drug_or_another_is_not_checked_as_ordering_the_other(client):
    # "declined palbociclib or ribociclib": was checked as letrozole + ribociclib ordered, a
    # complete regimen, no card; the refusal may cover both, so the order is named not checked
    chart = first_line_de_novo("dor-1")
    text = "Letrozole 2.5 mg; declined palbociclib or ribociclib"
    [draft] = chart.drafts(("d", "letrozole"))
    [beside] = chart.drafts(("l", "letrozole"))
    message, _ = _unchecked_alone_and_beside(client, chart, _written(draft, text, "medicationCodeableConcept"), beside,
                                             "its text writes a refusal")
    assert (f'- MedicationRequest/d: its text "{text}" writes a refusal before ribociclib: whether it orders '
            "ribociclib is not clear") in message


def test_a_draft_writing_a_drug_started_after_a_refused_one_is_checked_as_ordering_it(client):
    # was: checked as letrozole alone, "Letrozole drafted without ribociclib" while it names ribociclib started
    chart = first_line_de_novo("dch-1")
    [draft] = chart.drafts(("d", "letrozole"))
    cards = post(client, chart, "order-sign",
                 [_written(draft, "Letrozole 2.5 mg, declined palbociclib, ribociclib started", "medicationCodeableConcept")])
    assert not any("drafted without" in c["summary"] for c in cards)
