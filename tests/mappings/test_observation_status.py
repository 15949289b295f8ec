"""Observation.status (FHIR R4 ObservationStatus) and Condition.verificationStatus
(condition-ver-status) across the readers: what a result that is not final, cancelled or
entered in error may decide."""

import pytest

from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import ordered_tests, regimen_topics
from tests.cards.test_fhir_scenarios import after_ai_cdk46i, run


def _set_status(patient, prefix: str, status: str) -> None:
    [r for r in patient.resources if r["id"].startswith(prefix)][-1]["status"] = status


@pytest.mark.parametrize("status", ["Entered-In-Error", "ENTERED-IN-ERROR", "Cancelled", " cancelled "])
def test_an_er_negative_marked_entered_in_error_or_cancelled_in_another_case_is_never_read(status):
    p = after_ai_cdk46i("p")
    p.er("negative", on="2025-06-01")
    _set_status(p, "er", status)
    state, cards = run(p)
    assert state.er.status == "positive"
    assert "fulvestrant-cdk46i" in regimen_topics(cards)
    assert any(g.code in ("entered-in-error", "not-given") and repr(status) in g.message for g in state.ignored)


def test_a_menopause_observation_marked_entered_in_error_in_another_case_is_not_the_status():
    p = hr_positive_mbc("p", birth="1975-01-01", menopause=None).menopause("premenopausal")
    _set_status(p, "meno", "Entered-In-Error")
    state, _ = run(p)
    assert state.factors.menopausal_status == "unknown"


# --- ER / PR / HER2 results not final (FHIR R4 ObservationStatus; CR C.2 step 0) ---------

def _card(cards, summary_start: str) -> dict:
    return next(c for c in cards if c["summary"].startswith(summary_start))


def _her2_1_plus_with_status(status: str):
    """After AI + CDK4/6i with HER2 0, then a HER2 IHC 1+ (2025-06-01) of Observation.status `status`: run."""
    p = after_ai_cdk46i("p", her2="0")
    p.her2("1+", on="2025-06-01")
    _set_status(p, "her2", status)
    return run(p)


@pytest.mark.parametrize("status", ["preliminary", "registered", "Preliminary", "unknown"])
def test_a_her2_ihc_1_plus_not_final_opens_no_trastuzumab_deruxtecan_and_the_her2_card_awaits_its_final_report(status):
    state, cards = _her2_1_plus_with_status(status)
    assert state.her2.category == "zero-unspecified"
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    gap = next(g for g in state.gaps if g.code == "receptor-result-not-final")
    assert f"HER2 IHC 1+ (2025-06-01, status {status.lower()})" in gap.message
    her2 = _card(cards, "HER2 IHC re-test")
    # the final report named once, and what to do meanwhile
    ask = ("ask the laboratory whether the result of status unknown is final (the source system does not know "
           "which status applies), and order") if status == "unknown" else "order"
    assert (f"**Awaiting the final report** of HER2 IHC 1+ (2025-06-01, status {status.lower()}): {ask} a new test "
            "only if the final pathology report does not come. No order is pre-selected: the test is done or under "
            "way, and a new one would repeat it.") in her2["detail"]
    assert [s.get("isRecommended") for s in her2["suggestions"]] == [None]


@pytest.mark.parametrize("status", ["final", "amended", "corrected", "FINAL"])
def test_a_final_amended_or_corrected_her2_ihc_1_plus_still_opens_trastuzumab_deruxtecan(status):
    state, cards = _her2_1_plus_with_status(status)
    assert state.her2.category == "low"
    assert "trastuzumab-deruxtecan" in regimen_topics(cards)
    assert "receptor-result-not-final" not in {g.code for g in state.gaps}


def test_a_preliminary_er_and_pr_negative_does_not_take_an_hr_positive_patient_out_of_the_pathway():
    p = after_ai_cdk46i("p")
    p.er("negative", on="2025-06-01").pr("negative", on="2025-06-01")
    _set_status(p, "er", "preliminary")
    _set_status(p, "pr", "preliminary")
    state, cards = run(p)
    assert (state.er.status, state.pr.status) == ("positive", "positive")
    assert "fulvestrant-cdk46i" in regimen_topics(cards)
    gap = next(g for g in state.gaps if g.code == "receptor-result-not-final")
    assert gap.message.startswith("ER negative (2025-06-01, status preliminary); PR negative (2025-06-01, "
                                  "status preliminary): not final, so not read")


def test_receptors_known_only_from_results_not_final_ask_for_no_new_test_but_for_the_final_report():
    from tests.cards.fhir_builder import FhirPatient

    p = FhirPatient("p").primary("2016-03-01").metastasis("bone", "2024-01-15").menopause("postmenopausal")
    p.er("positive", "2024-01-20").pr("positive", "2024-01-20").her2("1+", "2024-01-20")
    for prefix in ("er", "pr", "her2"):
        _set_status(p, prefix, "registered")
    state, cards = run(p)
    assert (state.er.status, state.pr.status, state.her2.category) == ("unknown", "unknown", "unknown")
    assert regimen_topics(cards) == []
    test = _card(cards, "ER / PR / HER2 testing needed")
    assert ("**Awaiting the final report** of ER positive (2024-01-20, status registered); PR positive "
            "(2024-01-20, status registered); HER2 IHC 1+ (2024-01-20, status registered)") in test["detail"]
    assert [s.get("isRecommended") for s in test["suggestions"]] == [None]


def test_receptor_results_not_final_beside_a_missing_her2_are_named_in_one_readable_sentence():
    # the ER/PR/HER2 test is still needed (no HER2 result): the results not final are named,
    # the final report once, and the question to the laboratory reads as a sentence
    from tests.cards.fhir_builder import FhirPatient

    p = FhirPatient("p").primary("2016-03-01").metastasis("bone", "2024-01-15").menopause("postmenopausal")
    p.er("positive", "2024-01-20").pr("positive", "2024-01-20")
    _set_status(p, "er", "unknown")
    _set_status(p, "pr", "registered")
    state, cards = run(p)
    test = _card(cards, "ER / PR / HER2 testing needed")
    assert ("**Not final yet**: ER positive (2024-01-20, status unknown); PR positive (2024-01-20, status "
            "registered): not read until the final pathology report comes; ask the laboratory whether the result "
            "of status unknown is final (the source system does not know which status applies).") in test["detail"]


# --- ICD-10-CM receptor-status Conditions (Z17.x) and condition-ver-status ------------------

def _z17_patient(verification: str | None):
    from tests.cards.fhir_builder import FhirPatient, _cc

    p = FhirPatient("p").primary("2016-03-01").metastasis("bone", "2024-01-15").menopause("postmenopausal")
    for code, display in (("Z17.0", "Estrogen receptor positive status [ER+]"),
                          ("Z17.21", "Progesterone receptor positive status")):
        p._condition(_cc("http://hl7.org/fhir/sid/icd-10-cm", code, display), "2016-03-01", "z17")
        if verification is None:
            p.resources[-1].pop("verificationStatus")
        else:
            p.resources[-1]["verificationStatus"]["coding"][0]["code"] = verification
    return p.her2("1+")


# "Provisional": a miscased code still means it (as the metastasis reader reads it)
@pytest.mark.parametrize("verification", ["provisional", "unconfirmed", "differential", "Provisional"])
def test_a_receptor_status_condition_not_confirmed_is_not_read_as_hr_positive_and_is_named(verification):
    state, cards = run(_z17_patient(verification))
    assert (state.er.status, state.pr.status) == ("unknown", "unknown")
    assert regimen_topics(cards) == []
    assert "test-er-pr-her2" in ordered_tests(cards)
    gap = next(g for g in state.gaps if g.code == "receptor-status-unconfirmed")
    # the code's display quoted as written, and the date
    assert gap.message == ("Receptor status recorded only as a diagnosis that is not confirmed (FHIR R4 "
                           "condition-ver-status), so not read: Z17.0 'Estrogen receptor positive status [ER+]' "
                           f"({verification}, 2016-03-01); Z17.21 'Progesterone receptor positive status' "
                           f"({verification}, 2016-03-01). The ER/PR/HER2 pathology report decides: add its result "
                           "if it is not recorded.")


@pytest.mark.parametrize("verification", ["confirmed", None])
def test_a_confirmed_or_unqualified_receptor_status_condition_is_still_read(verification):
    state, cards = run(_z17_patient(verification))
    assert (state.er.status, state.pr.status) == ("positive", "positive")
    assert "ai-cdk46i" in regimen_topics(cards)


# --- safety labs not final: they may raise a caution, never clear one -----------------------

def _capivasertib_card(hba1c: float, status: str) -> dict:
    p = after_ai_cdk46i("p").variant("PIK3CA", "p.H1047R").hba1c(hba1c, on="2025-06-01")
    _set_status(p, "hba1c", status)
    _, cards = run(p)
    return _card(cards, "Capivasertib + fulvestrant")


@pytest.mark.parametrize("status", ["preliminary", "Registered", "unknown"])
def test_a_normal_hba1c_not_final_does_not_clear_the_glycaemic_caution_and_asks_for_the_final_result(status):
    detail = _capivasertib_card(5.2, status)["detail"]
    assert (f"HbA1c 5.2 % (2025-06-01, status {status.lower()}: not final) cannot clear the caution: not known "
            "whether it is at or above 6.5 % or above 8.0 %: the final result is needed before starting") in detail


def test_a_final_normal_hba1c_still_clears_the_glycaemic_caution():
    detail = _capivasertib_card(5.2, "final")["detail"]
    assert "cannot clear the caution" not in detail and "not final" not in detail


def test_a_high_hba1c_not_final_still_stops_capivasertib_and_says_it_is_not_final():
    c = _capivasertib_card(9.0, "preliminary")
    assert "do not start: uncontrolled diabetes (HbA1c)" in c["summary"]
    assert "Patient: HbA1c 9 % on 2025-06-01 (status preliminary: not final)" in c["detail"]


def _first_line_cards(qtc: float, status: str):
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, de_novo

    p = de_novo("p").qtc(qtc, on="2024-01-25")
    _set_status(p, "qtc", status)
    return run(p, FIRST_LINE_AS_OF)[1]


def test_a_normal_qtc_not_final_does_not_clear_the_ribociclib_caution():
    c = _card(_first_line_cards(420, "preliminary"), "Aromatase inhibitor + CDK4/6 inhibitor")
    assert ("QTc 420 ms (2024-01-25, status preliminary: not final) cannot clear the caution: not known whether "
            "it is at or above 450 ms: ECG before ribociclib") in c["detail"]


def test_a_long_qtc_not_final_still_raises_the_ribociclib_caution():
    c = _card(_first_line_cards(470, "preliminary"), "Aromatase inhibitor + CDK4/6 inhibitor")
    assert "caution: ribociclib QTc >= 450 ms" in c["summary"]
    assert "QTc 470 ms (2024-01-25, status preliminary: not final)" in c["detail"]


@pytest.mark.parametrize("status", ["preliminary", "Unknown"])
def test_a_postmenopausal_status_not_final_does_not_clear_ovarian_suppression_and_is_named(status):
    p = hr_positive_mbc("p", birth="1975-01-01", menopause=None).menopause("postmenopausal")
    _set_status(p, "meno", status)
    state, cards = run(p)
    assert state.factors.menopausal_status == "unknown"
    gap = next(g for g in state.gaps if g.code == "menopausal-status-unknown")
    assert (f"not counted: postmenopausal (2024-01-20, status {status.lower()}): not final, the final result "
            "decides") in gap.message
    assert "caution" in _card(cards, "Aromatase inhibitor + CDK4/6 inhibitor")["summary"]


def test_a_premenopausal_status_not_final_still_raises_ovarian_suppression():
    p = hr_positive_mbc("p", birth="1975-01-01", menopause=None).menopause("premenopausal")
    _set_status(p, "meno", "preliminary")
    state, _ = run(p)
    assert state.factors.menopausal_status == "premenopausal"


# --- Observation.status missing (FHIR R4: required, 1..1) -----------------------------
# Read as final by every reader (fhir.not_final_status): neither that nor "not final" is clearly
# safer, so the omission is named in one gap (observation-status-missing), the decisions unchanged.

@pytest.mark.parametrize("prefix", ["var-pik3ca", "her2", "er"])
def test_a_result_without_a_status_decides_as_a_final_one_and_the_summary_names_the_missing_status(prefix):
    final = after_ai_cdk46i("p").variant("PIK3CA", "p.His1047Arg", specimen="tissue")
    missing = after_ai_cdk46i("p").variant("PIK3CA", "p.His1047Arg", specimen="tissue")
    del [r for r in missing.resources if r["id"].startswith(prefix)][-1]["status"]
    (state_f, cards_f), (state_m, cards_m) = run(final), run(missing)
    assert regimen_topics(cards_m) == regimen_topics(cards_f)
    assert "capivasertib-fulvestrant" in regimen_topics(cards_m)
    gap = next(g for g in state_m.gaps if g.code == "observation-status-missing")
    assert gap.message == ("1 Observation without a status (required in FHIR R4), read as final though the "
                           "record does not say it is")
    assert [s.reference.split("/")[1].rsplit("-", 1)[0] for s in gap.sources] == [prefix]
    summary = next(c for c in cards_m if c["summary"].startswith("HR+"))
    assert f"- {gap.message} — Observation/{prefix}-" in summary["detail"]
    assert "observation-status-missing" not in {g.code for g in state_f.gaps}


def _vital_sign_without_status(patient, code: str, display: str) -> None:
    patient.resources.append({
        "resourceType": "Observation", "id": f"vs-{code}", "subject": {"reference": "Patient/p"},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
        "effectiveDateTime": "2025-06-01", "valueQuantity": {"value": 120, "unit": "mm[Hg]"},
    })


@pytest.mark.parametrize("code, display", [("8480-6", "Systolic blood pressure"), ("39156-5", "Body mass index"),
                                           ("72166-2", "Tobacco smoking status")])
def test_an_observation_no_reader_reads_without_a_status_raises_no_missing_status_gap(code, display):
    p = after_ai_cdk46i("p")
    _vital_sign_without_status(p, code, display)
    state, _ = run(p)
    assert "observation-status-missing" not in {g.code for g in state.gaps}


def test_an_er_result_without_a_status_beside_a_vital_sign_without_one_names_only_the_er_result():
    p = after_ai_cdk46i("p")
    _vital_sign_without_status(p, "8480-6", "Systolic blood pressure")
    del [r for r in p.resources if r["id"].startswith("er")][-1]["status"]
    state, _ = run(p)
    gap = next(g for g in state.gaps if g.code == "observation-status-missing")
    assert [s.reference.split("/")[1].rsplit("-", 1)[0] for s in gap.sources] == ["er"]


def test_a_snomed_coded_gene_test_read_by_its_words_without_a_status_is_named_as_missing_its_status():
    # was: read (ESR1 detected, by the genomics text reader) yet not named: a SNOMED CT code outside
    # the read codes was taken as read by no reader (FHIR R4 Observation.status 1..1)
    p = after_ai_cdk46i("p")
    p.resources.append({
        "resourceType": "Observation", "id": "esr1-text", "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "405824009", "display": "Genetic test"}],
                 "text": "ESR1 mutation test"},
        "effectiveDateTime": "2025-06-01", "valueString": "Detected: p.D538G",
    })
    state, _ = run(p)
    assert state.biomarkers.status("ESR1") == "detected"
    gap = next(g for g in state.gaps if g.code == "observation-status-missing")
    assert "Observation/esr1-text" in [s.reference for s in gap.sources]


def _ecg_panel_without_status(patient, component_code: str) -> None:
    patient.resources.append({
        "resourceType": "Observation", "id": "ecg-panel", "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "11524-6", "display": "EKG study"}]},
        "effectiveDateTime": "2025-06-01",
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": component_code}]},
                       "valueQuantity": {"value": 430, "unit": "ms"}}],
    })


def test_an_ecg_panel_without_a_status_is_named_when_a_reader_reads_its_component_and_not_otherwise():
    # a QTc (8636-3) sent as a component of an ECG panel is read by the QTc reader; a heart-rate
    # component (8867-4) by none
    read, unread = after_ai_cdk46i("p"), after_ai_cdk46i("p")
    _ecg_panel_without_status(read, "8636-3")
    _ecg_panel_without_status(unread, "8867-4")
    gap = next(g for g in run(read)[0].gaps if g.code == "observation-status-missing")
    assert [s.reference for s in gap.sources] == ["Observation/ecg-panel"]
    assert "observation-status-missing" not in {g.code for g in run(unread)[0].gaps}
