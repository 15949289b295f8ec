"""What the cards say when a record's or a drafted order's words hedge its drug after its name
(local_codes.yaml drug_mentions hedged_closing / planned_closing)."""

from __future__ import annotations

import pytest

from cards.engine import order_cards
from mappings import read_draft_orders
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo


def _draft_cards(text: str) -> list[dict]:
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "mr-0", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {"text": text}}}]})
    return [c.to_json() for c in order_cards(de_novo("p-draft").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]


@pytest.mark.parametrize("text", ["Fulvestrant (possible)", "Fulvestrant - likely", "Fulvestrant (query)", "Letrozole (probable)",
                                  "Anastrozole - planned?", "Fulvestrant 500 mg IM possible", "Letrozole + palbociclib (possible)"])
def test_a_draft_whose_hedge_follows_its_drug_is_said_not_checked_as_one_whose_hedge_comes_first(text):
    # each was checked as the drug ordered ("Fulvestrant drafted without ribociclib"), while
    # "Possible fulvestrant" and "Fulvestrant?" were said not checked
    cards = _draft_cards(text)
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its text does not name its drug as ordered (MedicationRequest/mr-0)"]
    assert f'its text "{text}" names' in cards[0]["detail"] and "with a hedge" in cards[0]["detail"]


@pytest.mark.parametrize("text", ["Fulvestrant (query adherence)", "Fulvestrant, possible injection-site pain"])
def test_a_draft_whose_hedge_after_the_drug_is_of_a_fact_or_a_finding_is_checked(text):
    cards = _draft_cards(text)
    assert not any(c["summary"].startswith("Drafted order not checked") for c in cards)
    assert any("ulvestrant" in c["summary"] for c in cards)


def test_fhir_an_esr1_negative_beside_a_possible_y537s_asks_for_the_test_and_quotes_the_report():
    # was: ESR1 read not detected (current), no ESR1 test card and no word of the possible
    # p.Y537S; now no ESR1 result (CR C.2 step 3), the test asked for and the words quoted
    from tests.cards.helpers import card, ordered_tests, regimen_topics
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-esr1-possible").variant("ESR1", detected=False, on="2025-06-01")
    p.resources[-1]["valueCodeableConcept"] = {"text": "ESR1 not detected, possible p.Y537S"}
    state, cards = run(p)
    assert "elacestrant" not in regimen_topics(cards) and "test-esr1" in ordered_tests(cards)
    assert ("ESR1 result (2025-06-01) unclear: the report says that ESR1 is negative and names a variant of it as "
            "only possible ('ESR1 not detected, possible p.Y537S')") in card(cards, "patient-summary")["detail"]


def test_fhir_a_liver_written_with_a_question_mark_beside_bone_metastases_is_no_visceral_site_and_is_asked():
    # the summary said "Site: liver (visceral)" for "Bone metastases, ?liver"
    from tests.cards.fhir_builder import FhirPatient
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, run
    p = FhirPatient("p-qliver").primary("2015-03-01")
    p._condition({"text": "Bone metastases, ?liver"}, "2024-01-15", "met")
    p.er("positive", "2024-01-12").pr("positive", "2024-01-12").her2("1+", "2024-01-12").menopause("postmenopausal", "2024-01-12")
    _, cards = run(p, FIRST_LINE_AS_OF)
    detail = card(cards, "patient-summary")["detail"]
    assert "Site: liver" not in detail and "Site: bone" in detail
    assert 'Metastatic site written with a doubt, not counted: the liver ("?liver")' in detail


def test_fhir_ozempic_without_a_reason_is_named_as_diabetes_treatment_on_the_pi3k_akt_cautions():
    # the capivasertib caution said "Patient: on anti-hyperglycaemic treatment", not which
    # drug nor that it treats diabetes; Ozempic's label names type 2 diabetes alone
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-ozempic").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    p.add({"resourceType": "MedicationStatement", "id": "ms-glp", "status": "active",
           "subject": {"reference": "Patient/pp-ozempic"}, "medicationCodeableConcept": {"text": "Ozempic 1 mg weekly"},
           "effectivePeriod": {"start": "2024-06-01"}})
    _, cards = run(p)
    assert "Patient: diabetes (type not recorded), on glucose-lowering treatment (semaglutide)" \
        in card(cards, "capivasertib-fulvestrant")["detail"]


@pytest.mark.parametrize("text, hedged", [("Letrozole (likely) + palbociclib", "letrozole"),
                                          ("Letrozole + possible palbociclib", "palbociclib"),
                                          # these two were checked as letrozole + palbociclib ordered (the
                                          # hedge before "+" was not read: local_codes.yaml hedged_closing)
                                          ("Letrozole - possible + palbociclib", "letrozole"),
                                          ("Letrozole 2.5 mg daily? + palbociclib", "letrozole")])
def test_a_draft_hedging_one_drug_of_its_regimen_is_said_not_checked_and_names_that_drug(text, hedged):
    # "Letrozole + possible palbociclib" was checked as "Letrozole drafted without ribociclib" (and,
    # once the history named the hedged letrozole, "Palbociclib drafted without letrozole"): the
    # order names the hedged drug, and whether it orders it is not written (FHIR R4
    # MedicationRequest.medication[x])
    cards = _draft_cards(text)
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its text does not name its drug as ordered (MedicationRequest/mr-0)"]
    assert f'its text "{text}" names {hedged} with a hedge' in cards[0]["detail"]


def test_fhir_an_adjuvant_tamoxifen_record_still_active_but_written_2016_2021_completed_is_a_completed_course():
    # the summary said "secondary resistance: relapse on adjuvant endocrine therapy started
    # 2016-06-01" and "tamoxifen (2016-06-01 to now)": the years written before "completed" are
    # its end (local_codes.yaml drug_mentions completed_closing; CR C.1: relapse > 12 months after
    # adjuvant ET is endocrine sensitive)
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import hr_positive_mbc, run
    p = hr_positive_mbc("p-tam-done", primary="2016-03-01")
    p.add({"resourceType": "MedicationStatement", "id": "ms-tam", "status": "active",
           "subject": {"reference": "Patient/p-tam-done"}, "medicationCodeableConcept": {"text": "Tamoxifen 2016-2021 completed"},
           "effectivePeriod": {"start": "2016-06-01"}})
    _, cards = run(p, FIRST_LINE_AS_OF)
    detail = card(cards, "patient-summary")["detail"]
    assert "Endocrine sensitivity: endocrine-sensitive: relapse 24.5 to 36.5 months after completing adjuvant ET (2021)" in detail
    assert "tamoxifen (2016-06-01 to 2021)" in detail


def test_fhir_mounjaro_without_a_reason_is_named_as_diabetes_treatment_on_the_pi3k_akt_cautions():
    # was "Patient: on anti-hyperglycaemic treatment": Mounjaro's US label is type 2 diabetes only
    # (tirzepatide for weight is Zepbound); drugs.yaml diabetes_only_brands
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-mounjaro").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    p.add({"resourceType": "MedicationStatement", "id": "ms-tzp", "status": "active",
           "subject": {"reference": "Patient/pp-mounjaro"}, "medicationCodeableConcept": {"text": "Mounjaro 7.5 mg weekly"},
           "effectivePeriod": {"start": "2024-06-01"}})
    _, cards = run(p)
    assert "Patient: diabetes (type not recorded), on glucose-lowering treatment (tirzepatide)" \
        in card(cards, "capivasertib-fulvestrant")["detail"]


def test_fhir_a_steroid_induced_hyperglycaemia_condition_is_named_on_the_patient_summary():
    # was silent on every card; not a diabetes, and the sources do not say whether it is a caution
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-hyper").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    p.add({"resourceType": "Condition", "id": "c-hyper", "subject": {"reference": "Patient/pp-hyper"},
           "code": {"text": "Steroid-induced hyperglycaemia"}, "onsetDateTime": "2025-01-10"})
    _, cards = run(p)
    assert ('Hyperglycaemia recorded without a diabetes diagnosis, not counted as diabetes ("Steroid-induced '
            'hyperglycaemia")') in card(cards, "patient-summary")["detail"]


def test_fhir_pneumonitis_written_unlikely_is_named_not_confirmed_and_does_not_steer_away_from_the_cdk46_inhibitor():
    # was: read as ILD history begun on ribociclib: "Fulvestrant + ribociclib: ILD/pneumonitis began
    # on this CDK4/6 inhibitor, so it is not the recommended choice"
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-unlikely")
    p.add({"resourceType": "Condition", "id": "c-unlikely", "subject": {"reference": "Patient/pp-unlikely"},
           "code": {"text": "Pneumonitis unlikely"}, "onsetDateTime": "2025-01-10"})
    _, cards = run(p)
    assert "ILD/pneumonitis recorded, not confirmed: written as a suspicion ('pneumonitis unlikely')" \
        in card(cards, "patient-summary")["detail"]
    assert not any("began on this CDK4/6 inhibitor" in c.get("detail", "") for c in cards)


def test_fhir_a_type_2_diabetes_written_on_insulin_is_not_called_untreated_on_the_capivasertib_caution():
    # was "Patient: type 2 diabetes, no glucose-lowering treatment recorded"
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-dm-ins").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    p.add({"resourceType": "Condition", "id": "c-dm-ins", "subject": {"reference": "Patient/pp-dm-ins"},
           "code": {"text": "Type 2 DM on insulin"}, "onsetDateTime": "2015-01-10"})
    _, cards = run(p)
    assert "Patient: type 2 diabetes, on glucose-lowering treatment (insulin)" \
        in card(cards, "capivasertib-fulvestrant")["detail"]


def test_fhir_type_1_diabetes_written_with_a_question_mark_is_a_caution_to_confirm_not_the_type_1_stop():
    # was: the type 1 stop of the PI3K/AKT inhibitors on "Type 1 diabetes?"
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-t1q").variant("PIK3CA", "p.His1047Arg", on="2025-06-01")
    p.add({"resourceType": "Condition", "id": "c-t1q", "subject": {"reference": "Patient/pp-t1q"},
           "code": {"text": "Type 1 diabetes?"}, "onsetDateTime": "2015-01-10"})
    _, cards = run(p)
    assert 'diabetes recorded, not confirmed: type 1 (written "Type 1 diabetes?")' \
        in card(cards, "capivasertib-fulvestrant")["detail"]


def test_fhir_pneumonitis_treated_with_prednisone_reads_as_symptomatic_ild_on_the_t_dxd_card():
    # was "caution: ILD history" (grade unknown); steroids given for it are an intervention
    # (CTCAE v5.0 grade 2), as "requiring steroids" already read (CR B.11, B.13)
    from tests.cards.helpers import card
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run
    p = after_ai_cdk46i("pp-pred")
    p.add({"resourceType": "Condition", "id": "c-pred", "subject": {"reference": "Patient/pp-pred"},
           "code": {"text": "Pneumonitis, treated with prednisone"}, "onsetDateTime": "2025-01-10"})
    _, cards = run(p)
    tdxd = card(cards, "trastuzumab-deruxtecan")
    assert "do not start: after symptomatic" in tdxd["summary"] and tdxd["indicator"] == "critical"
