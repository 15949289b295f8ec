"""Cards as an oncologist reads them: a summary that lists only the data gaps bearing on
what it decided, one reason said once, an unchecked draft said for what it is."""

import datetime as dt

import pytest

from tests.cards.fhir_builder import FhirPatient
from tests.cards.helpers import view
from tests.cards.invariants import check_invariants

AS_OF = dt.date(2025, 7, 1)


def _summary(p: FhirPatient) -> dict:
    state = p.state(AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return cards[0]


def _gaps(card: dict) -> list[str]:
    return card["detail"].split("**Data gaps that limit the advice**\n")[1].split("\n\n")[0].splitlines()


def _mbc(pid: str) -> FhirPatient:
    return FhirPatient(pid).primary("2016-03-01").metastasis("bone", "2024-01-15")


# --- outside the pathway by its receptors (CR C.2 step 0) ----------------------

def test_a_her2_positive_summary_lists_no_genomic_line_or_menopause_gap_and_says_why_they_are_left_out():
    card = _summary(_mbc("hp").er("positive").pr("negative").her2("3+"))
    assert card["summary"] == "Outside the HR+/HER2- MBC pathway: HER2-positive; 0 data gaps"
    gaps = _gaps(card)
    assert gaps[0] == "- none in the ER, PR and HER2 results that place the patient outside the pathway"
    assert gaps[1].endswith(" other gaps not listed: they bear only on the choice among HR+/HER2- regimens, "
                            "which does not apply to HER2-positive disease.")
    text = "\n".join(gaps)
    for unrelated in ("PIK3CA", "ESR1", "BRCA", "Menopausal", "ECOG", "HbA1c"):
        assert unrelated not in text


def test_a_triple_negative_summary_keeps_only_the_receptor_gaps_that_could_change_the_result():
    # HER2 IHC 2+ without ISH: HER2 could still be positive; it bears on step 0 and stays listed
    card = _summary(_mbc("hn").er("negative").pr("negative").her2("2+"))
    gaps = _gaps(card)
    assert gaps[0].startswith("- HER2 IHC 2+ without ISH result. — Observation/")
    assert gaps[1].endswith("which does not apply to ER and PR negative disease.")
    assert card["summary"].endswith("; 1 data gap")


def test_an_ihc_0_without_sub_class_is_no_gap_off_the_pathway_as_step_0_reads_it_her2_negative_either_way():
    card = _summary(_mbc("tn").er("negative").pr("negative").her2("0"))
    gaps = _gaps(card)
    assert gaps[0] == "- none in the ER, PR and HER2 results that place the patient outside the pathway"
    assert gaps[1].endswith("which does not apply to triple-negative (ER-, PR-, HER2-) disease.")


def test_an_hr_positive_her2_negative_summary_still_lists_every_gap():
    card = _summary(_mbc("in").er("positive").pr("positive").her2("1+"))
    text = "\n".join(_gaps(card))
    assert "No PIK3CA result." in text and "not listed" not in text


# --- "Not offered now": one line per reason -----------------------------------

def _not_offered(card: dict) -> list[str]:
    return card["detail"].split("**Not offered now**\n")[1].split("\n\n")[0].splitlines()


def test_regimens_waiting_on_the_same_result_are_named_on_one_line():
    from tests.cards.fhir_builder import hr_positive_mbc
    p = hr_positive_mbc("esr1-wait", primary="2024-01-10").regimen(("letrozole", "ribociclib"), "2024-02-01",
                                                                    "2025-05-20").progression("2025-05-15")
    lines = _not_offered(_summary(p))
    assert "- Elacestrant, Imlunestrant, Vepdegestrant: waiting on — ESR1 not tested" in lines
    assert not any(line.startswith("- Imlunestrant:") for line in lines)


def test_regimens_not_offered_for_the_same_result_say_it_once():
    from tests.cards.fhir_builder import hr_positive_mbc
    p = hr_positive_mbc("esr1-neg", primary="2024-01-10").regimen(("letrozole", "ribociclib"), "2024-02-01",
                                                                   "2025-05-20").progression("2025-05-15")
    p.variant("ESR1", detected=False, on="2025-06-01")
    lines = _not_offered(_summary(p))
    esr1 = [line for line in lines if "No actionable ESR1 alteration" in line]
    assert len(esr1) == 1 and esr1[0].startswith("- Elacestrant, Imlunestrant, Vepdegestrant: No actionable ESR1 "
                                                 "alteration (ESR1 not detected (somatic, plasma ctDNA, 2025-06-01))")


# --- the order hooks' "not checked" card says why in its summary ---------------------

def _not_checked(*texts: str) -> dict:
    from cards.engine import order_cards
    from mappings import read_draft_orders
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": f"mr-{i}", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {"text": t}}}
        for i, t in enumerate(texts)]})
    cards = [c.to_json() for c in order_cards(de_novo("p-draft").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]
    assert len(cards) == 1
    return cards[0]


def test_a_drafted_refusal_is_said_not_checked_because_its_text_writes_a_refusal_not_because_its_drug_is_unread():
    c = _not_checked("Fulvestrant (patient declined)")
    assert c["summary"] == "Drafted order not checked: its text writes a refusal (MedicationRequest/mr-0)"
    assert c["detail"].startswith("**Drafted order not checked** (its text writes a refusal)\n")
    assert "It cannot tell which drug is ordered, so none of those checks was made: an order whose code and " \
           "text name only the drug it orders is checked." in c["detail"]


@pytest.mark.parametrize("text", ["Letrozole + palbociclib (both declined)", "Letrozole + palbociclib: patient declined both"])
def test_a_drafted_regimen_written_as_refused_as_a_whole_is_said_not_checked_because_it_writes_a_refusal(text):
    # was checked as an order of letrozole and palbociclib (no card: the regimen the pathway offers)
    c = _not_checked(text)
    assert c["summary"] == "Drafted order not checked: its text writes a refusal (MedicationRequest/mr-0)"


@pytest.mark.parametrize("text", ["? Fulvestrant", "?fulvestrant", "Fulvestrant?", "Possible fulvestrant", "Letrozole + palbociclib?",
                                  "Likely fulvestrant", "Maybe fulvestrant"])
def test_a_draft_whose_text_hedges_its_drug_is_said_not_checked_whatever_the_hedge(text):
    # "? Fulvestrant" and "Fulvestrant?" were checked as fulvestrant ordered, "Possible fulvestrant" was not
    c = _not_checked(text)
    assert c["summary"] == "Drafted order not checked: its text does not name its drug as ordered (MedicationRequest/mr-0)"


@pytest.mark.parametrize("text", ["Possible fulvestrant dose reduction", "Query fulvestrant dose", "Likely fulvestrant-related arthralgia"])
def test_a_draft_whose_hedge_questions_a_dose_or_a_side_effect_of_its_drug_is_checked(text):
    # each was said "Drafted order not checked: its text does not name its drug as ordered": the
    # hedge questions the dose (FHIR R4 MedicationRequest.dosageInstruction) or a side effect of
    # the drug it orders, as "Query fulvestrant adherence" does, not whether it orders it
    from cards.engine import order_cards
    from mappings import read_draft_orders
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "mr-0", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {"text": text}}}]})
    cards = [c.to_json() for c in order_cards(de_novo("p-draft").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]
    assert cards and not any(c["summary"].startswith("Drafted order not checked") for c in cards)
    assert any("ulvestrant" in c["summary"] for c in cards)


@pytest.mark.parametrize("text", ["Maybe switch to fulvestrant", "Possibly change to fulvestrant", "Likely start fulvestrant"])
def test_a_draft_whose_text_hedges_a_switch_to_its_drug_is_said_not_checked_as_a_hedged_drug_is(text):
    # coded as fulvestrant, each was checked as fulvestrant ordered while "Maybe fulvestrant" was not:
    # the hedge is of the switch, so of the drug (local_codes.yaml drug_mentions hedged_opening, as
    # planned_opening reads it in a record)
    from cards.engine import order_cards
    from mappings import read_draft_orders
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "mr-0", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "282357"}], "text": text}}}]})
    cards = [c.to_json() for c in order_cards(de_novo("p-draft").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its text does not name its drug as ordered (MedicationRequest/mr-0)"]


def test_a_draft_coded_as_fulvestrant_whose_text_hedges_it_is_said_not_checked():
    # was checked as fulvestrant ordered ("Fulvestrant drafted without ribociclib")
    from cards.engine import order_cards
    from mappings import read_draft_orders
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "mr-0", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-draft"}, "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "282357"}],
            "text": "Possible fulvestrant"}}}]})
    cards = [c.to_json() for c in order_cards(de_novo("p-draft").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]
    assert [c["summary"] for c in cards] == [
        "Drafted order not checked: its text does not name its drug as ordered (MedicationRequest/mr-0)"]
    assert 'its text "Possible fulvestrant" names fulvestrant with a hedge' in cards[0]["detail"]


def test_a_drafted_sequence_of_endocrine_drugs_is_said_not_checked_for_that():
    c = _not_checked("Letrozole then fulvestrant")
    assert c["summary"] == ("Drafted order not checked: its text names one endocrine drug after another "
                            "(MedicationRequest/mr-0)")


def test_a_drafted_plan_is_said_not_checked_because_its_text_does_not_name_its_drug_as_ordered():
    c = _not_checked("Planned fulvestrant")
    assert c["summary"] == ("Drafted order not checked: its text does not name its drug as ordered "
                            "(MedicationRequest/mr-0)")


def test_a_drafted_class_name_still_says_its_drug_could_not_be_read():
    c = _not_checked("Aromatase inhibitor")
    assert c["summary"] == "Drafted order not checked: its drug could not be read (MedicationRequest/mr-0)"
    assert "It cannot tell which drug this order names, so none of those checks was made: an order coded with " \
           "its RxNorm code or written with the drug's name is checked." in c["detail"]


def test_two_drafts_unchecked_for_different_reasons_say_which_drug_they_order_is_not_clear():
    c = _not_checked("Fulvestrant (patient declined)", "Planned fulvestrant")
    assert c["summary"] == "2 drafted orders not checked: which drug they order is not clear"
    two_refusals = _not_checked("Fulvestrant (patient declined)", "Palbociclib declined")
    assert two_refusals["summary"] == "2 drafted orders not checked: their text writes a refusal"


# --- words a clinician uses ------------------------------------------------------

def test_a_menopausal_status_by_age_says_so_in_words_not_the_mappers_code():
    from tests.cards.fhir_builder import hr_positive_mbc
    p = hr_positive_mbc("meno-age", birth="1950-01-01", menopause=None)
    card = _summary(p)
    line = next(x for x in card["detail"].splitlines() if "menopausal status" in x)
    assert line.startswith("- female, age 75; menopausal status postmenopausal (by age >= 60, not recorded) — Patient/")
    assert "basis:" not in card["detail"]


def test_a_regimen_card_and_an_order_card_name_the_local_pathway_note_the_same_way():
    # "Seed 002 vs label" (regimen card) and "Pathway note" (order card) named one note two ways
    from cards.engine import order_cards
    from mappings.state import DraftOrder, Drug
    from tests.cards.fhir_builder import hr_positive_mbc
    state = hr_positive_mbc("seed", primary="2024-01-10").state(dt.date(2024, 2, 1))
    regimen = next(c for c in view(state) if c["source"]["topic"]["code"] == "ai-cdk46i")
    assert "\n\n**Local pathway (seed) vs label**: Seed prefers" in regimen["detail"]
    draft = DraftOrder(resource_type="MedicationRequest", resource_id="mr-e", reference="MedicationRequest/mr-e",
                       drugs=[Drug(name="everolimus", drug_class="pi3k-akt-mtor", rxnorm="141704")], text="everolimus")
    details = "".join(c.to_json()["detail"] for c in order_cards(state, [draft], None, "order-sign"))
    assert "\n\n**Local pathway (seed) vs label**: Seed: 'everolimus + exemestane" in details
    assert "Pathway note" not in details and "Seed 002" not in regimen["detail"]


def test_an_ish_result_reads_as_a_pathology_report_writes_it_on_the_summary_and_the_regimen_card():
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i
    state = after_ai_cdk46i("ish-words", her2="2+").her2_ish(False).state(AS_OF)
    cards = view(state)
    text = "\n".join(c["detail"] for c in cards)
    assert "- HER2: low, IHC 2+, ISH not amplified (2024-01-25) — " in cards[0]["detail"]
    tdxd = next(c for c in cards if c["source"]["topic"]["code"] == "trastuzumab-deruxtecan")
    assert "- HER2 low, IHC 2+, ISH not amplified (2024-01-25) — " in tdxd["detail"]
    assert "not-amplified" not in text


def test_an_unclassified_her2_ihc_0_and_a_lymph_node_site_read_in_words_not_codes():
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i
    p = after_ai_cdk46i("her2-words", her2="0")
    p.add({"resourceType": "Condition", "id": "met-ln", "subject": {"reference": "Patient/her2-words"},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": "94181007",
                                "display": "Secondary malignant neoplasm of axillary lymph nodes"}]},
           "onsetDateTime": "2024-01-15"})
    cards = view(p.state(AS_OF))
    summary = cards[0]["detail"]
    assert "- HER2: not classified as null or ultralow, IHC 0 (2024-01-15) — " in summary
    assert "- Trastuzumab deruxtecan: waiting on — HER2 not classified as null or ultralow, IHC 0 (2024-01-15)" \
        in summary.splitlines()
    assert "- Site: lymph node, 2024-01-15 — Condition/met-ln (2024-01-15)" in summary.splitlines()
    assert "zero-unspecified" not in "\n".join(c["detail"] + c["summary"] for c in cards)


# --- off the pathway by its receptors: a gap that may hide a newer receptor result stays listed ---

def test_a_her2_positive_summary_still_lists_a_search_the_fhir_server_reported_incomplete():
    # a truncated Observation search (service/gather.py, gap data-incomplete) may hold a newer
    # HER2 result, e.g. HER2-low on a metastatic re-biopsy, that would put the patient back on
    # the pathway (CR C.2 step 0: the most recent biopsy decides): never counted away as a gap
    # bearing only on the choice among HR+/HER2- regimens
    from service.pipeline import run_hook
    p = _mbc("hp-inc").er("positive").pr("negative").her2("3+")
    note = ("prefetch 'observations': the FHIR server reported an error with the results, which may be "
            "incomplete: results truncated: too many matches")
    [summary, *_] = run_hook("patient-view", {"patientId": "hp-inc"}, p.resources, [note], as_of=AS_OF,
                             incomplete=[note])
    assert f"- {note}" in _gaps(summary.to_json())


def test_a_her2_positive_summary_lists_the_missing_status_gap_when_the_her2_result_is_past_the_five_it_cites():
    # a sender that omits Observation.status everywhere: the HER2 3+ read as final though the record
    # does not say so (gap observation-status-missing cites the first 5 only); whether the result
    # that places the patient outside the pathway is final bears on step 0 (CR C.2 step 0)
    p = _mbc("hp-status")
    for day in range(1, 6):
        p.ecog(1, f"2024-06-0{day}")
    p.er("positive").pr("negative").her2("3+", on="2024-06-10")
    for res in p.resources:
        if res["resourceType"] == "Observation":
            del res["status"]
    gaps = _gaps(_summary(p))
    assert gaps[0].startswith("- 8 Observations without a status (required in FHIR R4), read as final though "
                              "the record does not say they are (the first 5 cited)")


def test_a_refusal_drafted_beside_a_checked_drug_is_named_under_the_plural_heading_in_the_plural():
    # the order cards name unchecked drafts under "Drafted orders not checked" (their drug could
    # not be read) for one draft or several; a refusal read "Drafted orders not checked (its text
    # writes a refusal)"
    from cards.engine import order_cards
    from mappings import read_draft_orders
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": f"mr-{i}", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/p-beside"}, "medicationCodeableConcept": {"text": t}}}
        for i, t in enumerate(("Fulvestrant", "Palbociclib declined"))]})
    cards = [c.to_json() for c in order_cards(de_novo("p-beside").state(FIRST_LINE_AS_OF), drafts, None, "order-sign")]
    assert cards and all("\n**Drafted orders not checked** (their text writes a refusal)\n- MedicationRequest/mr-1: "
                         in c["detail"] for c in cards)


def test_a_her2_positive_summary_without_a_metastasis_record_lists_the_metastatic_status_gap():
    # whether the disease is metastatic is step 0 too (CR C.2 step 0) and no choice among HR+/HER2-
    # regimens: it was counted among the gaps "bearing only on the choice among HR+/HER2- regimens"
    card = _summary(FhirPatient("hp-m").primary("2016-03-01").er("positive").pr("negative").her2("3+"))
    gaps = _gaps(card)
    assert gaps[0] == "- No metastatic site, M1 category or stage IV was found: metastatic status unknown."
    assert card["summary"] == "Outside the HR+/HER2- MBC pathway: HER2-positive; 1 data gap"
