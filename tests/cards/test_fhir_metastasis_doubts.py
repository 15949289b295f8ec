"""(fix-dz3) A metastasis the text doubts after it ("? biopsy planned", "- awaiting biopsy", "or
hemangioma", "TBC"), on an early breast cancer: no metastatic regimen card until it is confirmed
(CR C.2 step 0 needs metastatic disease; FHIR R4 condition-ver-status unconfirmed / provisional /
differential is no diagnosis made, CR A.4), and the summary card quotes the doubt."""

import datetime as dt

import pytest

from tests.cards.fhir_builder import FhirPatient
from tests.cards.helpers import card, regimen_topics, topics, view
from tests.cards.invariants import check_invariants

FIRST_LINE_AS_OF = dt.date(2024, 2, 1)


def _early_patient_with(text: str) -> FhirPatient:
    p = FhirPatient("doubt").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    return p._condition({"text": text}, "2024-01-15", "met")  # verificationStatus confirmed


def _cards(p: FhirPatient) -> tuple:
    state = p.state(FIRST_LINE_AS_OF)
    cards = view(state)
    check_invariants(state, cards)
    return state, cards


@pytest.mark.parametrize("text,quoted", [
    # each was read as a liver / pleura / bone metastasis: "HR+/HER2-low MBC, first line" and
    # "Aromatase inhibitor + CDK4/6 inhibitor" cards for a patient with early breast cancer
    ("Liver metastasis? biopsy planned", 'liver ("? biopsy planned" in the text)'),
    ("Malignant pleural effusion? tap planned", 'pleura ("? tap planned" in the text)'),
    ("Liver metastasis or hemangioma", 'liver ("or hemangioma" in the text)'),
    ("Liver lesion: metastasis v haemangioma", "liver (suspected in the text)"),
    ("Malignant pleural effusion, cytology pending", 'pleura ("cytology pending" in the text)'),
    ("Liver metastasis - awaiting biopsy", 'liver ("awaiting biopsy" in the text)'),
    ("Bone metastases TBC", 'bone ("TBC" in the text)'),
    # (fix-dz4) another diagnosis after "?" or "/": were read as metastases (first-line cards)
    ("Liver metastasis ?hemangioma", 'liver ("?hemangioma" in the text)'),
    ("Bone metastasis, ? insufficiency fracture", 'bone ("? insufficiency" in the text)'),
    ("Lung metastases, ? infection", 'lung ("? infection" in the text)'),
    ("Liver metastasis/hemangioma", 'liver ("/hemangioma" in the text)'),
])
def test_fhir_a_metastasis_the_text_doubts_keeps_an_early_patient_out_of_the_pathway_and_quotes_the_doubt(text, quoted):
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic != "yes"
    assert topics(cards) == ["patient-summary"]
    summary = card(cards, "patient-summary")
    # (ds2) was "Metastatic disease not documented": the record writes a metastasis, asked
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear "
                                         "(metastasis not confirmed)")
    assert f"Unconfirmed metastasis, not counted as metastatic disease: {quoted}" in summary["detail"]


@pytest.mark.parametrize("text", ["Pleural effusion, malignant cells present",
                                  "Bone metastases, biopsy planned for receptor status"])
def test_fhir_a_malignant_effusion_found_or_a_metastasis_rebiopsied_for_receptors_gets_the_first_line_cards(text):
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes"
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


@pytest.mark.parametrize("text", ["Liver metastases - awaiting repeat CT", "Bone metastases, PET pending"])
def test_fhir_a_known_metastasis_awaiting_its_restaging_scan_keeps_the_first_line_cards(text):
    # (rt28) was: "Outside the HR+/HER2- MBC pathway", the scan awaited read as the metastasis
    # doubted; a restaging scan doubts nothing (CR C.2 step 0)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes"
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "Unconfirmed metastasis" not in card(cards, "patient-summary")["detail"]


def test_fhir_a_known_metastasis_queried_for_progression_keeps_the_first_line_cards():
    # (rt28) was: "Outside the HR+/HER2- MBC pathway", "? progression" read as the metastasis doubted
    state, cards = _cards(_early_patient_with("Liver metastases? progression"))
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "Unconfirmed metastasis" not in card(cards, "patient-summary")["detail"]


# --- (ds2) what the pathway reason says when a metastasis is asked --------------------------

def _early_patient_with_axillary_nodes() -> FhirPatient:
    """Nodes coded C77.3 (axillary and upper limb) the only metastatic evidence: regional (N) or
    distant (M1) the code does not say (AJCC 8th edition), asked."""
    p = FhirPatient("nodes").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    return p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C77.3"}]},
                        "2024-01-15", "node")


def _given_for(p: FhirPatient, reason: dict, key: str = "reasonCode") -> FhirPatient:
    p.resources[-1][key] = [reason]
    return p


MBC_REASON = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.911"}],
              "text": "Metastatic breast cancer"}


def test_fhir_nodes_that_may_be_regional_say_the_metastatic_status_is_unclear_and_why_not_that_none_is_documented():
    state, cards = _cards(_early_patient_with_axillary_nodes())
    assert state.disease.metastatic == "unknown" and topics(cards) == ["patient-summary"]
    # was: "Outside the HR+/HER2- MBC pathway: Metastatic disease not documented"
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (nodes, regional or distant not stated);")


def test_fhir_a_metastatic_line_given_for_metastatic_breast_cancer_is_named_in_the_gap_and_not_counted():
    p = _early_patient_with_axillary_nodes()
    _given_for(p.med("letrozole", "2024-02-01"), MBC_REASON)
    _given_for(p.med("palbociclib", "2024-02-01"), MBC_REASON)
    state, cards = _cards(p)
    # a drug's reason is no diagnosis (CR A.4), and the labels read "advanced or metastatic" (CR B)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear "
                                         "(nodes, regional or distant not stated; treated for MBC);")
    assert ("treated for metastatic breast cancer per MedicationStatement/med-letrozole-6, "
            'MedicationStatement/med-palbociclib-7 (reason "Metastatic breast cancer")') in summary["detail"]


def test_fhir_an_order_given_for_mbc_by_reason_reference_alone_is_asked_as_metastatic_status_unclear():
    p = FhirPatient("mbc-order").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    _given_for(p.med("fulvestrant", "2024-02-01"), {"display": "MBC"}, "reasonReference")
    state, cards = _cards(p)
    assert regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (treated for MBC);")


@pytest.mark.parametrize("reason", ["Breast cancer", "Suspected metastatic breast cancer",
                                    "Metastatic breast cancer ruled out", "Bone metastases prophylaxis",
                                    "Prevention of metastatic breast cancer",
                                    "Breast cancer, to prevent metastatic recurrence"])
def test_fhir_a_drug_given_for_early_suspected_or_no_metastatic_breast_cancer_asks_nothing(reason):
    p = FhirPatient("early-reason").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    _given_for(p.med("letrozole", "2024-02-01"), {"text": reason})
    state, cards = _cards(p)
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic disease not documented;")
    assert "treated for metastatic breast cancer" not in card(cards, "patient-summary")["detail"]


def test_fhir_a_metastatic_patient_given_a_drug_for_mbc_gets_no_question_about_it():
    p = FhirPatient("mbc-known").primary("2024-01-10").metastasis("liver", "2024-01-15")
    p.er("positive").pr("positive").her2("1+")
    _given_for(p.med("letrozole", "2024-02-01"), MBC_REASON)
    state, cards = _cards(p)
    assert state.disease.metastatic == "yes"
    assert "treated for metastatic breast cancer" not in card(cards, "patient-summary")["detail"]


# --- (ds2) sites written on a metastatic breast cancer Condition -----------------------------

def _metastatic_breast_cancer_written(text: str) -> tuple:
    p = FhirPatient("mbc-text").er("positive").pr("positive").her2("1+")
    p._condition({"text": text}, "2024-01-15", "mbc")
    return _cards(p)


@pytest.mark.parametrize("text,sites", [
    ("Metastatic breast cancer to bone", ["- Site: bone, date unknown"]),
    ("Left breast cancer metastatic to liver and lungs", ["- Site: liver (visceral)", "- Site: lung (visceral)"]),
    ("Breast cancer with bone metastases", ["- Site: bone"]),
])
def test_fhir_a_metastatic_breast_cancer_condition_naming_its_sites_in_text_lists_them(text, sites):
    # were: "Metastatic: yes" and no site at all (bone-only or visceral unknown; CR A.4, C.2 step 2)
    state, cards = _metastatic_breast_cancer_written(text)
    assert state.disease.metastatic == "yes"
    detail = card(cards, "patient-summary")["detail"]
    for site in sites:
        assert site in detail


def test_fhir_a_metastatic_breast_cancer_condition_asks_a_site_it_writes_in_the_past_or_with_a_doubt():
    state, cards = _metastatic_breast_cancer_written(
        "Metastatic breast cancer to bone, ?lung, previous liver metastasis")
    assert [s.site for s in state.disease.sites] == ["bone"]
    detail = card(cards, "patient-summary")["detail"]
    # (ds8) the past site said as past, not as a doubt
    assert ('Metastatic site written with a doubt, not counted: the lung ("?lung"). Confirm or refute it '
            '(visceral or not changes the treatment guidance). Metastatic site written in the past, not counted '
            'as a current site: the liver ("previous liver metastasis")') in detail


@pytest.mark.parametrize("text,quoted", [
    # the ";" inside the bracket ended the clause: the lung nodule was dropped without a word
    ("Bone metastases (liver: cyst; lung: nodule 4 mm, indeterminate)", "lung: nodule 4 mm, indeterminate"),
    ("Bone metastases (liver: cyst; lung: nodule)", "lung: nodule"),
    # was counted as a lung (visceral) site
    ("Bone metastases (lung: nodule 4.5 mm, indeterminate)", "lung: nodule 4.5 mm, indeterminate"),
])
def test_fhir_a_lung_nodule_written_site_colon_finding_in_the_bracket_of_bone_metastases_is_asked_not_counted(text, quoted):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert (f'Metastatic site written with a doubt, not counted: the lung ("{quoted}")'
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("text,doubted", [
    # lung and brain were counted (visceral, brain), only the liver asked
    ("Bone metastases, possible liver, lung and brain", ["liver", "lung", "brain"]),
    ("Bone metastases, ?liver, lung or brain", ["liver", "lung", "brain"]),
    # already asked each (since rd2 / rt44)
    ("Bone metastases, ?liver and lung", ["liver", "lung"]),
])
def test_fhir_a_doubt_before_a_list_of_sites_beside_bone_metastases_asks_each_site_and_counts_none(text, doubted):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    detail = card(cards, "patient-summary")["detail"]
    asked = detail[detail.index("Metastatic site written with a doubt"):].split(". Confirm")[0]
    assert all(f"the {site} (" in asked for site in doubted)


def test_fhir_a_doubted_site_before_an_unclosed_list_leaves_the_next_site_counted():
    state, _ = _cards(_early_patient_with("Bone metastases, ?liver, lung"))
    assert sorted(s.site for s in state.disease.sites) == ["bone", "lung"]


# --- (ds2) Condition.bodySite beside a site-specific code ------------------------------------

def _coded_metastasis_with_body_site(code: str, *body_sites: str) -> tuple:
    p = FhirPatient("body-site").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]}, "2024-01-15", "met",
                 bodySite=[{"text": b} for b in body_sites])
    return _cards(p)


def test_fhir_axillary_nodes_coded_c77_3_with_a_liver_body_site_count_the_liver_and_name_the_disagreement():
    # was: the lymph nodes only, the liver (visceral) dropped without a word
    state, cards = _coded_metastasis_with_body_site("C77.3", "Liver")
    assert sorted(s.site for s in state.disease.sites) == ["liver", "lymph-node"]
    assert state.disease.visceral_involvement
    detail = card(cards, "patient-summary")["detail"]
    assert "- Site: liver (visceral)" in detail
    assert ("Metastatic site coded and given as bodySite differently: coded C77.3 (lymph nodes) with bodySite "
            "the liver. Each is counted") in detail


def test_fhir_a_metastasis_of_an_unspecified_site_takes_its_site_from_the_body_site():
    # C79.9 "secondary malignant neoplasm of unspecified site": was the site "other", the liver dropped
    state, cards = _coded_metastasis_with_body_site("C79.9", "Liver")
    assert [s.site for s in state.disease.sites] == ["liver"]
    assert "bodySite differently" not in card(cards, "patient-summary")["detail"]


def test_fhir_a_body_site_naming_the_coded_site_and_another_counts_both_without_a_question():
    state, cards = _coded_metastasis_with_body_site("C78.7", "Liver", "Bone")
    assert sorted(s.site for s in state.disease.sites) == ["bone", "liver"]
    assert "bodySite differently" not in card(cards, "patient-summary")["detail"]


# --- (rt50) read-through of ds2 ----------------------------------------------------------------

@pytest.mark.parametrize("dated_before", [
    lambda p: p.metastasis("liver", "2020-01-01"),
    lambda p: p.stage_iv("2020-01-01"),
])
def test_fhir_a_metastasis_dated_before_the_diagnosis_says_the_metastatic_status_is_unclear_not_undocumented(dated_before):
    # was "Metastatic disease not documented" beside a gap metastatic-status-conflict that quotes
    # the metastasis: the record writes one, not counted (an earlier cancer's?), asked
    p = FhirPatient("before-dx").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    state, cards = _cards(dated_before(p))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (dated before the diagnosis);")


def test_fhir_a_patient_with_no_metastatic_evidence_at_all_still_reads_metastatic_disease_not_documented():
    p = FhirPatient("nothing").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    _, cards = _cards(p)
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic disease not documented;")


@pytest.mark.parametrize("reason", ["Risk reduction of metastatic breast cancer",
                                    "Breast cancer, metastasis risk reduction"])
def test_fhir_a_drug_given_to_reduce_the_risk_of_metastatic_disease_asks_nothing(reason):
    # was "Metastatic status unclear (treated for MBC)": a risk reduced is adjuvant, not MBC treated
    p = FhirPatient("risk-reason").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    _given_for(p.med("letrozole", "2024-02-01"), {"text": reason})
    _, cards = _cards(p)
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic disease not documented;")


@pytest.mark.parametrize("text,asked,counted", [
    # the liver was dropped without a word, the bone counted with a "?" after it
    ("Metastatic breast cancer to bone? liver", ['the bone ("bone? liver")', 'the liver ("bone? liver")'], []),
    ("Breast cancer metastatic to liver? bone", ['the liver ("liver? bone")', 'the bone ("liver? bone")'], []),
    # (ds4: "Metastatic breast cancer to bone?", the "?" closing its only site, now doubts the
    # metastasis itself: test_fhir_a_question_mark_closing_a_metastasis_after_its_own_site_...)
    ("Metastatic breast cancer to bone, liver? lungs clear", ['the liver ("liver? lungs clear")'], ["bone"]),
])
def test_fhir_a_site_a_question_mark_closes_or_follows_on_a_metastatic_breast_cancer_condition_is_asked_not_counted(
        text, asked, counted):
    # (ds2 read sites from "Metastatic breast cancer to <site>") a site doubted as "liver?" beside
    # metastases is (rd2): not counted, asked (visceral or not changes the guidance, CR A.4, C.2)
    state, cards = _metastatic_breast_cancer_written(text)
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == counted
    detail = card(cards, "patient-summary")["detail"]
    assert "Metastatic site written with a doubt, not counted: " + "; ".join(asked) in detail


@pytest.mark.parametrize("reason", [
    {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C79.51",
                 "display": "Secondary malignant neoplasm of bone"}]},
    {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.7"}], "text": "Liver metastases"},
])
def test_fhir_a_drug_given_for_a_metastasis_code_is_named_in_the_gap_and_not_counted(reason):
    # was "Metastatic disease not documented": a reason coded as a secondary site (C78-C79, CR A.4)
    # names a metastasis as much as "Metastatic breast cancer" does; a drug's reason is no
    # diagnosis made (CR A.4), so named, not counted
    p = FhirPatient("met-code-reason").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    _given_for(p.med("letrozole", "2024-02-01"), reason)
    state, cards = _cards(p)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear (treated for MBC);")
    assert "treated for metastatic breast cancer per MedicationStatement/med-letrozole-5" in summary["detail"]


@pytest.mark.parametrize("code,text", [("C77.3", None), ("C79.81", None), ("C79.51", "Bone metastases ruled out"),
                                       ("C79.51", "Bone metastasis prophylaxis"),
                                       ("C79.51", "Suspected bone metastases")])
def test_fhir_a_drug_given_for_nodes_a_metastasis_to_the_breast_or_one_doubted_is_not_named_as_treated_for_mbc(
        code, text):
    # nodes may be regional (AJCC 8th edition N), a secondary OF the breast may be another
    # cancer's (CR A.4 caution), words may refute, prevent or doubt the coded metastasis
    p = FhirPatient("node-reason").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    _given_for(p.med("letrozole", "2024-02-01"),
               {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}], **({"text": text} if text else {})})
    _, cards = _cards(p)
    assert "treated for metastatic breast cancer" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,asked", [
    ("Metastatic breast cancer to bone (previously liver)", 'the liver ("previously liver")'),
    ("Metastatic breast cancer to bone, prior liver and lung", 'the liver ("prior liver and lung"); '
                                                             'the lung ("prior liver and lung")'),
])
def test_fhir_a_site_written_in_the_past_on_a_metastatic_breast_cancer_condition_is_asked_not_counted(text, asked):
    # (ds2) "(previously liver)" was counted as a current liver (visceral) site; "previous liver
    # metastasis" is asked, and so is a site listed in the past without the word metastasis
    state, cards = _metastatic_breast_cancer_written(text)
    assert [s.site for s in state.disease.sites] == ["bone"] and not state.disease.visceral_involvement
    # (ds8) said as a past site, not "written with a doubt"
    assert (f"Metastatic site written in the past, not counted as a current site: {asked}"
            in card(cards, "patient-summary")["detail"])


# --- (ds3) the same reading on an ordinary metastasis Condition ---------------------------------

@pytest.mark.parametrize("text,asked", [
    # the liver was counted as a current visceral site
    ("Bone metastases (previously liver)", 'the liver ("previously liver")'),
    ("Bone metastases, history of liver metastases", 'the liver ("history of liver metastases")'),
    # the liver was dropped without a word
    ("Bone metastases, previously liver", 'the liver ("previously liver")'),
])
def test_fhir_a_site_written_in_the_past_beside_bone_metastases_is_asked_not_counted(text, asked):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and not state.disease.visceral_involvement
    # (ds8) said as a past site, not "written with a doubt"
    assert (f"Metastatic site written in the past, not counted as a current site: {asked}"
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("text,asked", [
    # the liver after the "?" was counted (visceral)
    ("Metastatic to bone? liver", 'the liver ("? liver")'),
    # the liver the "?" closes was dropped without a word
    ("Metastatic to bone, liver? lungs clear", 'the liver ("liver? lungs clear")'),
])
def test_fhir_a_site_after_or_closed_by_a_question_mark_on_a_metastasis_condition_is_asked_not_counted(text, asked):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and not state.disease.visceral_involvement
    assert f"Metastatic site written with a doubt, not counted: {asked}" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("body_site", [{"text": "Left breast"},
                                       {"coding": [{"system": "http://snomed.info/sct", "code": "76752008"}]}])
def test_fhir_a_metastasis_of_an_unspecified_site_in_the_breast_is_asked_as_c79_81_is(body_site):
    # C79.9 with bodySite the breast was counted as a metastatic site "other" (first-line cards):
    # a secondary OF the breast is another cancer's spread ("not MBC", CR A.4 caution) or this
    # one's to the other breast, as C79.81, which nothing here says
    p = FhirPatient("body-site").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C79.9"}]}, "2024-01-15", "met",
                 bodySite=[body_site])
    state, cards = _cards(p)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    detail = card(cards, "patient-summary")["detail"]
    assert ("Unconfirmed metastasis, not counted as metastatic disease: breast (coded C79.9 with bodySite" in detail
            and "a metastasis to the breast, from this breast cancer or from another cancer, not stated" in detail)


@pytest.mark.parametrize("text,asked", [
    # the doubt of "possible liver" spread by the hedge reader to the rest: lung and brain dropped
    # without a word (doubted as the liver, or confirmed, which the words do not settle)
    ("Bone metastases, possible liver, lung and brain metastases confirmed",
     'the liver ("possible liver"); the lung ("lung and brain metastases confirmed"); '
     'the brain ("lung and brain metastases confirmed")'),
    # outside the bracket, after ";": the lung nodule was dropped without a word
    ("Bone metastases; lung: nodule 4 mm, indeterminate", 'the lung ("lung: nodule 4 mm")'),
])
def test_fhir_a_site_finding_no_reading_counts_or_clears_beside_bone_metastases_is_asked_not_dropped(text, asked):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and not state.disease.visceral_involvement
    assert f"Metastatic site written with a doubt, not counted: {asked}." in card(cards, "patient-summary")["detail"]


# --- (rt55) read-through of ds3 ------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Bone metastases, previous liver mets, now progressing in liver",
    "Bone metastases, previously treated liver metastases now progressing",
])
def test_fhir_a_site_written_in_the_past_and_progressing_now_is_counted_as_a_current_visceral_site(text):
    # ds3 asked the liver as written in the past only, visceral involvement lost: the text says
    # the liver metastases progress now (current disease, CR A.4 visceral sites, C.2 step 2)
    state, cards = _cards(_early_patient_with(text))
    assert sorted(s.site for s in state.disease.sites) == ["bone", "liver"] and state.disease.visceral_involvement
    assert "Metastatic site written with a doubt, not counted" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", [
    "Bone metastases; previous liver metastases, now stable",
    "Bone metastases, prior liver mets now stable",
])
def test_fhir_a_site_written_in_the_past_and_stable_now_is_counted_as_a_current_visceral_site(text):
    # stable disease is disease present now (CR A.4 visceral sites, C.2 step 2), as "previous liver
    # mets, now progressing in liver" counts. Before: asked as a past site only, visceral lost
    state, cards = _cards(_early_patient_with(text))
    assert sorted(s.site for s in state.disease.sites) == ["bone", "liver"] and state.disease.visceral_involvement
    assert "Metastatic site written with a doubt, not counted" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,asked", [
    ("Bone metastases; prior liver progression, now stable", 'the liver ("prior liver progression")'),
    ("Bone metastases; liver progression", 'the liver ("liver progression")'),
])
def test_fhir_progression_at_a_site_no_metastasis_word_names_is_asked_not_dropped(text, asked):
    # the words say disease at the liver but not that it is a metastasis (CR A.4 counts a secondary
    # cancer): asked. Before: the liver dropped without a word (bone only, no gap)
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert f"Metastatic site written with a doubt, not counted: {asked}." in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", [
    "Bone metastases; lung disease (COPD)",
    "Bone metastases; interstitial lung disease",
    "Bone metastases; fatty liver disease",
    "Bone metastases; brain: small vessel disease",
    "Liver metastases; degenerative bone disease",
])
def test_fhir_another_disease_named_at_a_site_beside_metastases_is_no_metastatic_site_asked(text):
    # ds3 asked each as a metastatic site written with a doubt (a data gap): the words name
    # another disease of the organ, no metastasis (CR A.4 counts a secondary cancer)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and len(regimen_topics(cards)) == 2
    assert "Metastatic site written with a doubt, not counted" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,asked", [
    ("Bone metastases; liver disease", 'the liver ("liver disease")'),
    ("Bone metastases; liver disease (2 lesions)", 'the liver ("liver disease")'),
])
def test_fhir_disease_at_a_site_no_other_word_names_beside_metastases_is_still_asked(text, asked):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert f"Metastatic site written with a doubt, not counted: {asked}" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,sites,asked", [
    # (ds4: "Metastatic to liver?" doubts the metastasis itself, not only its site: see
    # test_fhir_a_question_mark_closing_a_metastasis_after_its_own_site_leaves_metastatic_status_unclear)
    # the liver asserted in its own clause after the "?" was asked, not counted (visceral lost)
    ("Metastatic to bone?; liver metastases", ["liver"], 'the bone ("bone?; liver metastases")'),
])
def test_fhir_a_site_the_question_mark_closes_is_asked_and_a_later_clause_stands_on_its_own(text, sites, asked):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == sites and state.disease.metastatic == "yes"
    assert f"Metastatic site written with a doubt, not counted: {asked}" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", [
    "Bone metastases; liver lesion (haemangioma)",
    "Bone metastases; liver lesion (FNH)",
    "Bone metastases; adrenal nodule (adenoma)",
    "Bone metastases; lung lesion (infection)",
])
def test_fhir_a_site_finding_a_bracket_names_as_another_diagnosis_is_no_metastatic_site_asked(text):
    # ds3 asked each as a metastatic site written with a doubt: the bracket names the finding
    # another diagnosis (local_codes.yaml differential_question_after, the closed list)
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and len(regimen_topics(cards)) == 2
    assert "Metastatic site written with a doubt, not counted" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,asked", [
    ("Bone metastases; liver lesion (? haemangioma)", 'the liver ("liver lesion")'),
    ("Bone metastases; lung nodule (indeterminate)", 'the lung ("lung nodule")'),
])
def test_fhir_a_site_finding_a_bracket_leaves_open_beside_metastases_is_still_asked(text, asked):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert f"Metastatic site written with a doubt, not counted: {asked}" in card(cards, "patient-summary")["detail"]


def test_fhir_a_resected_site_said_to_progress_now_is_counted():
    state, cards = _cards(_early_patient_with("Liver mets resected 2022 now progressing"))
    assert [s.site for s in state.disease.sites] == ["liver"] and state.disease.visceral_involvement


@pytest.mark.parametrize("text", ["Bone metastases; bilateral lung disease", "Bone metastases; lymphangitic lung disease",
                                  "Bone metastases; liver disease (bilateral lobes)"])
def test_fhir_disease_at_a_site_no_listed_other_disease_names_beside_metastases_stays_asked(text):
    state, cards = _cards(_early_patient_with(text))
    assert "Metastatic site written with a doubt, not counted" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,site", [
    # (ds4) each counted the metastasis and asked only its site ("Metastatic: yes", "Metastatic
    # site written with a doubt ... the bone"); "Metastatic to bone ?" and "(?)" counted the bone
    ("Metastatic to bone?", "bone"),
    ("Metastatic to liver?", "liver"),
    ("Metastases to the bone ?", "bone"),
    ("Metastatic to bone (?)", "bone"),
    ("Metastatic disease to bone?", "bone"),
    # read so already: the "?" on the metastasis word, or before it
    ("Metastatic disease?", "site not stated"),
    ("?Metastatic to liver", "liver"),
])
def test_fhir_a_question_mark_closing_a_metastasis_after_its_own_site_leaves_metastatic_status_unclear(text, site):
    # the "?" asks whether it spread there at all: no diagnosis made (FHIR R4 condition-ver-status
    # unconfirmed; CR A.4 counts a secondary cancer, M1 or stage IV made), so no MBC regimen card
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert f"Unconfirmed metastasis, not counted as metastatic disease: {site} (suspected in the text)" in summary["detail"]


def test_fhir_metastatic_breast_cancer_to_a_site_with_a_closing_question_mark_leaves_metastatic_status_unclear():
    # (ds4) was "Metastatic: yes" with the bone asked: the "?" doubts the metastatic disease
    state, cards = _metastatic_breast_cancer_written("Metastatic breast cancer to bone?")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")


@pytest.mark.parametrize("text,asked", [
    # (ds4) the liver (and lung) dropped without a word: bone-only read, visceral lost
    ("Bone metastases; liver stable", 'the liver ("liver stable")'),
    ("Bone metastases, liver stable", 'the liver ("liver stable")'),
    ("Bone mets; liver and lung stable", 'the liver ("liver and lung stable"); the lung ("liver and lung stable")'),
    # (ds9) quoted as written (was "liver: stable")
    ("Bone metastases. Liver: stable", 'the liver ("Liver: stable")'),
    # a negation or clearing in another comma item is not said of the liver
    ("Bone metastases; liver stable, no new lesions", 'the liver ("liver stable")'),
    ("Bone metastases; liver stable, lungs clear", 'the liver ("liver stable")'),
    # asked already: a lesion named
    ("Bone metastases; liver lesion stable", 'the liver ("liver lesion stable")'),
])
def test_fhir_a_site_written_stable_beside_metastases_without_a_metastasis_word_is_asked(text, asked):
    # stable disease at the liver most likely, but the words do not say metastasis (CR A.4 counts a
    # secondary cancer): asked, as visceral or not changes the guidance (CR A.4 visceral sites, C.2)
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert f"Metastatic site written with a doubt, not counted: {asked}." in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", [
    "Bone metastases; liver normal", "Bone metastases; liver cysts", "Bone metastases; liver clear, stable",
    "Bone metastases; liver function stable", "Bone metastases; LFTs stable", "Bone metastases; stable",
    "Bone metastases; no liver lesions, stable", "Bone metastases; liver function stable, no new lesions",
])
def test_fhir_a_site_written_clear_benign_or_its_function_stable_beside_metastases_asks_nothing(text):
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and len(regimen_topics(cards)) == 2
    assert "Metastatic site written with a doubt, not counted" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,coding", [
    ("Pericardial metastasis", None),
    ("Malignant pericardial effusion", None),
    ("Pericardial metastasis", {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C79.89"}),
])
def test_fhir_a_pericardial_metastasis_is_named_the_pericardium_on_the_card_not_other_nor_visceral(text, coding):
    # (ds4) the card read "- Site: other" (C79.89 coded: a site conflict, the pericardium not
    # counted): named as written; CR A.4's visceral list does not name it, so not "(visceral)"
    p = FhirPatient("peri").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"text": text, **({"coding": [coding]} if coding else {})}, "2024-01-15", "met")
    state, cards = _cards(p)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Site: pericardium, 2024-01-15" in detail and "Site: other" not in detail
    assert "coded and written differently" not in detail and len(regimen_topics(cards)) == 2


def test_fhir_a_pericardial_site_written_beside_a_coded_liver_metastasis_is_asked_not_dropped():
    # (ds4) C78.7 "Liver and pericardial metastases" counted the liver and dropped the pericardium
    p = FhirPatient("peri-liver").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.7"}],
                  "text": "Liver and pericardial metastases"}, "2024-01-15", "met")
    state, cards = _cards(p)
    assert [s.site for s in state.disease.sites] == ["liver"]
    assert "coded C78.7 (liver) but the text names the pericardium" in card(cards, "patient-summary")["detail"]


def _early_patient_staged(loinc: str, text: str) -> FhirPatient:
    p = FhirPatient("staged").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._obs("stage", {"coding": [{"system": "http://loinc.org", "code": loinc}]}, "2024-01-15",
           valueCodeableConcept={"text": text})
    return p


@pytest.mark.parametrize("loinc,text,sites", [
    # (ds4) each was metastatic with no site on the card (bone-only or visceral unknown): the
    # AJCC 8th edition M1 site suffix, or the site written, in the bracket names the sites
    ("21907-1", "M1 (HEP)", ["- Site: liver (visceral), 2024-01-15"]),
    ("21907-1", "cM1(pul)", ["- Site: lung (visceral), 2024-01-15"]),
    ("21907-1", "M1 (OSS)", ["- Site: bone, 2024-01-15"]),
    ("21907-1", "M1 (PUL, OSS)", ["- Site: lung (visceral), 2024-01-15", "- Site: bone, 2024-01-15"]),
    ("21908-9", "Stage IV (bone)", ["- Site: bone, 2024-01-15"]),
    # the suffix without a bracket
    ("21907-1", "M1: HEP", ["- Site: liver (visceral), 2024-01-15"]),
])
def test_fhir_the_sites_a_bracket_after_m1_or_stage_iv_names_are_on_the_card(loinc, text, sites):
    state, cards = _cards(_early_patient_staged(loinc, text))
    detail = card(cards, "patient-summary")["detail"]
    assert state.disease.metastatic == "yes" and all(line in detail for line in sites)


@pytest.mark.parametrize("text", ["M1 (de novo)", "M1 (?liver)", "M1"])
def test_fhir_a_bracket_after_m1_naming_no_site_or_a_doubted_one_counts_no_site(text):
    state, cards = _cards(_early_patient_staged("21907-1", text))
    assert state.disease.metastatic == "yes" and state.disease.sites == []


@pytest.mark.parametrize("text,site", [("Breast cancer, M1 (OSS)", "- Site: bone, date unknown"),
                                       ("Breast cancer, stage IV (liver)", "- Site: liver (visceral), date unknown")])
def test_fhir_a_breast_cancer_condition_written_m1_or_stage_iv_with_its_site_lists_the_site(text, site):
    # (ds4) was metastatic with no site, as "Metastatic breast cancer to bone" was before ds2
    state, cards = _metastatic_breast_cancer_written(text)
    assert site in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Bone-only disease", "Liver only disease"])
def test_fhir_disease_written_at_one_site_only_with_no_metastasis_word_is_asked_not_dropped(text):
    # (ds4) was "Metastatic status unknown" with nothing found quoted: the words are oncologists'
    # for metastatic disease at that site, but no metastasis, M1 or stage IV is written (CR A.4)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert f'("{text.lower()}" in the text: metastatic disease not written)' in summary["detail"]


def test_fhir_a_breast_cancer_condition_written_stage_iv_bone_only_lists_the_bone():
    # (ds4) was metastatic with no site
    state, cards = _metastatic_breast_cancer_written("Breast cancer, stage IV, bone only")
    assert "- Site: bone, date unknown" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["M1 (HEP)?", "M1 (bone) suspected", "Stage IV (liver), suspected"])
def test_fhir_an_m1_or_stage_iv_doubted_after_the_bracket_of_its_sites_leaves_metastatic_status_unclear(text):
    # (ds4) each was read as an asserted M1 / stage IV: MBC regimen cards for a doubted stage
    # ("M1?" and "M1 suspected" were already asked; AJCC 8th edition M1 is metastasis detected)
    state, cards = _cards(_early_patient_staged("21907-1", text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")


def test_fhir_a_metastasis_question_answered_no_after_its_site_is_not_counted():
    # (ds4) "Metastatic to bone? No." counted the bone (MBC regimen cards); asked, as
    # "Liver metastases? No." already was
    state, cards = _cards(_early_patient_with("Metastatic to bone? No."))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []


@pytest.mark.parametrize("text,asked", [("Bone metastases; ?liver", 'the liver ("?liver")'),
                                        ("Bone metastases. ? lung", 'the lung ("? lung")')])
def test_fhir_a_site_doubted_in_a_clause_of_its_own_beside_metastases_is_asked_not_dropped(text, asked):
    # (ds4) dropped without a word ("Bone metastases, ?liver" was asked)
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert f"Metastatic site written with a doubt, not counted: {asked}." in card(cards, "patient-summary")["detail"]


def test_fhir_a_condition_stage_summary_written_stage_iv_with_its_site_lists_the_site():
    # (ds4) Condition.stage.summary "Stage IV (bone)" was metastatic with no site
    p = FhirPatient("stage-summary").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p.resources[1]["stage"] = [{"summary": {"text": "Stage IV (liver)"}}]
    state, cards = _cards(p)
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == ["liver"]
    assert "- Site: liver (visceral)" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["M1 per CT", "cM1 per PET-CT", "M1 Mar 2024"])
def test_fhir_an_english_word_after_m1_spelled_like_an_ajcc_site_suffix_names_no_site(text):
    # (rt61) "per" read as PER (peritoneum, visceral) and "Mar" as MAR (bone marrow): a site the
    # text never names on the card. Bracketless, an AJCC 8th edition M1 site suffix list
    # (codes.yaml m1_site_suffixes) is read only when it closes the clause ("M1 OSS", "M1: HEP, PUL")
    state, cards = _cards(_early_patient_staged("21907-1", text))
    assert state.disease.metastatic == "yes" and state.disease.sites == []
    assert "- Site:" not in card(cards, "patient-summary")["detail"]


def test_fhir_a_breast_cancer_condition_staged_m1_per_ct_with_its_site_in_a_bracket_lists_that_site_only():
    state, cards = _metastatic_breast_cancer_written("Breast cancer cT2 N1 M1 per staging CT (bone)")
    detail = card(cards, "patient-summary")["detail"]
    assert "peritoneum" not in detail


def test_fhir_a_pericardial_metastasis_coded_other_whose_text_also_names_the_liver_asks_the_liver():
    # (rt61) C79.89 "Pericardial and liver metastases": the pericardium counted and the liver
    # dropped without a word (before ds4 the card named the liver as a site conflict)
    p = FhirPatient("peri-liver-other").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C79.89"}],
                  "text": "Pericardial and liver metastases"}, "2024-01-15", "met")
    state, cards = _cards(p)
    detail = card(cards, "patient-summary")["detail"]
    assert "- Site: pericardium, 2024-01-15" in detail
    assert "coded C79.89 (other) but the text names the liver" in detail
    assert "the pericardium" not in detail


@pytest.mark.parametrize("text", ["Bone metastases; ? pneumonia in the lung", "Bone metastases; ?infection right lung",
                                  "Bone metastases; hepatic steatosis stable", "Bone metastases; fatty liver stable"])
def test_fhir_another_diagnosis_of_an_organ_doubted_or_stable_beside_metastases_asks_no_metastatic_site(text):
    # (rt61) each asked "Metastatic site written with a doubt, not counted: the lung / liver":
    # the "?" or "stable" is said of a pneumonia, an infection, a steatosis (local_codes.yaml
    # differential_question_after), no metastasis there
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and len(regimen_topics(cards)) == 2
    assert "Metastatic site written with a doubt, not counted" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,site", [("Metastatic to lymph nodes?", "lymph-node"), ("Metastatic to the left lung?", "lung"),
                                       ("Metastatic to both lungs?", "lung")])
def test_fhir_a_question_mark_closing_a_metastasis_after_a_site_of_two_words_leaves_metastatic_status_unclear(text, site):
    # (rt61) ds4 read "Metastatic to bone?" as the metastasis doubted, but a site written in two
    # words was still counted metastatic (MBC first-line cards) with only its site asked
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert f"Unconfirmed metastasis, not counted as metastatic disease: {site} (suspected in the text)" in summary["detail"]


@pytest.mark.parametrize("text,quoted", [("Metastatic to brain? MRI pending", 'brain ("? MRI pending" in the text)'),
                                         ("Metastatic to bone? - biopsy booked", 'bone ("? - biopsy booked" in the text)')])
def test_fhir_a_question_mark_after_the_metastasis_site_with_the_clause_going_on_leaves_metastatic_status_unclear(text, quoted):
    # (ds5) the brain was counted (visceral, MBC first-line cards) and nothing asked, where
    # "Metastatic to bone?" and "Brain mets? - MRI booked" doubt the metastasis (FHIR R4
    # condition-ver-status unconfirmed; CR A.4 counts a diagnosis made)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert f"Unconfirmed metastasis, not counted as metastatic disease: {quoted}" in summary["detail"]


@pytest.mark.parametrize("text", ["Metastatic to brain? progression", "Metastatic to brain? for SRS", "Metastatic to bone? yes"])
def test_fhir_a_question_of_a_known_metastasis_course_or_treatment_after_its_site_keeps_the_first_line_cards(text):
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and len(regimen_topics(cards)) == 2


@pytest.mark.parametrize("text", ["Metastatic to bone and liver?", "?Bone and liver metastases",
                                  "Suspected bone and liver metastases"])
def test_fhir_a_doubted_metastasis_listing_several_sites_names_every_site_in_the_gap(text):
    # (ds5) the gap named the liver only: whether the bone is doubted too (bone-only or visceral
    # disease, CR A.4 / C.3) the card did not say
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert ("Unconfirmed metastasis, not counted as metastatic disease: bone and liver (suspected in the text)"
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("loinc,text", [("21908-9", "Stage IV, possible"), ("21908-9", "Stage IV (liver), possible"),
                                        ("21908-9", "Stage IV, bone only?"), ("21908-9", "Stage IV, bone only - suspected"),
                                        ("21907-1", "M1, possible")])
def test_fhir_a_hedge_closing_a_stage_iv_or_m1_statement_leaves_metastatic_status_unclear(loinc, text):
    # (ds5) each was read as an asserted stage IV / M1 (MBC first-line cards, "Stage IV, bone
    # only?" with the bone counted): FHIR R4 condition-ver-status unconfirmed, AJCC 8th M1 is
    # metastasis detected, CR A.4 counts a diagnosis made
    state, cards = _cards(_early_patient_staged(loinc, text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == [] and state.disease.sites == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert f'(stage IV written "{text.lower()}")' in summary["detail"]


def test_fhir_an_m1_suffix_doubted_with_a_question_mark_is_asked_and_the_other_suffixes_counted():
    # (ds5) "M1 (OSS, ?HEP)" counted no site at all (the bone dropped, the liver not asked)
    state, cards = _cards(_early_patient_staged("21907-1", "M1 (OSS, ?HEP)"))
    detail = card(cards, "patient-summary")["detail"]
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == ["bone"]
    assert 'Metastatic site written with a doubt, not counted: the liver ("?hep").' in detail


@pytest.mark.parametrize("text", ["Bone metastases (liver stable)", "Bone metastases; liver stable",
                                  "Metastatic breast cancer to bone (liver stable)"])
def test_fhir_a_site_written_stable_in_a_bracket_beside_metastases_is_asked_as_after_a_semicolon(text):
    # (ds5) the bracket counted the liver (visceral) where "; liver stable" asks it: the text does
    # not say the liver holds metastasis (CR A.4; visceral changes the regimen choice, C.3)
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert ('Metastatic site written with a doubt, not counted: the liver ("liver stable").'
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("text", ["Bone metastases (liver function stable)", "Bone metastases (LFTs stable)"])
def test_fhir_an_organ_function_written_stable_in_a_bracket_beside_metastases_counts_and_asks_nothing(text):
    # (ds5) "(liver function stable)" counted the liver, visceral; "; liver function stable" asks nothing
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and len(regimen_topics(cards)) == 2
    assert "Metastatic site written with a doubt" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Metastatic disease", "Oligometastatic disease"])
def test_fhir_a_metastasis_record_naming_no_site_says_site_not_stated_not_other(text):
    # (ds5) the card read "- Site: other": the site decides visceral or not (CR A.4, C.3)
    state, cards = _cards(_early_patient_with(text))
    detail = card(cards, "patient-summary")["detail"]
    assert state.disease.metastatic == "yes" and state.disease.sites == [] and len(regimen_topics(cards)) == 2
    assert "Site: other" not in detail
    assert "Metastatic disease recorded without its site: site not stated" in detail


def test_fhir_a_metastasis_record_naming_no_site_beside_one_naming_the_bone_asks_nothing():
    p = _early_patient_with("Metastatic disease")
    p._condition({"text": "Bone metastases"}, "2024-01-15", "met")
    state, cards = _cards(p)
    detail = card(cards, "patient-summary")["detail"]
    assert [s.site for s in state.disease.sites] == ["bone"] and "site not stated" not in detail


@pytest.mark.parametrize("text", ["Bone-only disease ruled out", "Bone-only disease excluded"])
def test_fhir_disease_at_one_site_only_written_ruled_out_is_no_metastasis_evidence(text):
    # (ds5) read "Metastatic status unclear" asking the bone: the ruled-out phrase says nothing
    # of metastasis (FHIR R4 condition-ver-status refuted), as "no bone-only disease" reads
    state, cards = _cards(_early_patient_with(text))
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic disease not documented;")
    assert "Unconfirmed metastasis" not in summary["detail"]



@pytest.mark.parametrize("text", ["Metastatic to bone? biopsy proven", "Metastatic to bone? histologically confirmed",
                                  "Metastatic to the liver? biopsy-proven"])
def test_fhir_a_question_after_the_metastasis_site_answered_by_pathology_keeps_the_first_line_cards(text):
    # (rt64) the ds5 reading of a "?" with the clause going on asked these, where "Bone mets?
    # biopsy proven" counts the bone: pathology confirming it answers the question (rt28,
    # MET_CONFIRMED_AFTER; CR A.4 counts a diagnosis made)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and len(regimen_topics(cards)) == 2
    assert "Unconfirmed metastasis" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text,named", [
    ("Liver metastasis? biopsy planned, brain MRI clear", 'liver ("? biopsy planned, brain MRI clear" in the text)'),
    ("Possible liver metastases - bone lesions benign", "liver (suspected in the text)"),
    ("Suspected liver metastases (lung nodules stable)", "liver (suspected in the text)"),
    ("Suspected liver metastasis, bone scan booked", "liver (suspected in the text)"),
])
def test_fhir_a_doubted_metastasis_names_only_the_sites_of_its_own_phrase_not_other_findings_in_the_text(text, named):
    # (rt64) ds5 named every site of the first clause: "liver and brain" for a brain MRI written
    # clear, "liver and bone" for bone lesions written benign, asking the clinician to confirm a
    # brain / bone metastasis the text never suspects (FHIR R4 condition-ver-status unconfirmed
    # is the liver's only)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert f"Unconfirmed metastasis, not counted as metastatic disease: {named}." in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Bone only disease - visceral excluded", "Bone-only disease - liver ruled out",
                                  "Bone-only disease with visceral excluded"])
def test_fhir_bone_only_disease_with_another_site_ruled_out_is_still_asked_not_dropped(text):
    # (rt64) ds5 read the ruled-out words of another site as ruling out the bone-only disease:
    # "Metastatic disease not documented", the bone not asked (the text writes disease at the
    # bone, the other site ruled out; FHIR R4 condition-ver-status refuted is the liver's)
    state, cards = _cards(_early_patient_with(text))
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert summary["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert "Unconfirmed metastasis, not counted as metastatic disease: bone" in summary["detail"]


@pytest.mark.parametrize("text", ["Metastatic disease (liver stable)", "Metastatic breast cancer (liver stable on CT)"])
def test_fhir_a_metastasis_naming_its_only_site_in_a_bracket_written_stable_counts_that_site(text):
    # (rt64) ds5 asked the liver as a doubted site beside metastases: with no site of their own
    # the bracket is where the metastases are, stable being their course (as "Metastases (liver,
    # stable)" counts it); the liver, visceral, was dropped (CR A.4 visceral sites, C.3)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == ["liver"]
    assert state.disease.visceral_involvement
    assert "Metastatic site written with a doubt" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("loinc,text", [("21908-9", "Stage IV (bone, ?liver), possible"), ("21907-1", "M1 (OSS, ?HEP)?")])
def test_fhir_a_hedge_closing_a_stage_iv_whose_bracket_doubts_a_site_leaves_metastatic_status_unclear(loinc, text):
    # (rt64) ds5 read a "?" site in the bracket (the bone counted, the liver asked) but the hedge
    # after such a bracket was not read: the stage asserted, first-line cards, where "Stage IV
    # (liver), possible" is unclear (FHIR R4 condition-ver-status unconfirmed; CR A.4)
    state, cards = _cards(_early_patient_staged(loinc, text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == [] and state.disease.sites == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")


@pytest.mark.parametrize("loinc,text,body_site,line", [
    ("21907-1", "M1", {"coding": [{"system": "http://snomed.info/sct", "code": "10200004"}]},
     "- Site: liver (visceral), 2024-01-15"),
    ("21908-9", "Stage IV", {"text": "Liver"}, "- Site: liver (visceral), 2024-01-15"),
    ("21907-1", "M1", {"text": "Bone"}, "- Site: bone, 2024-01-15"),
])
def test_fhir_a_staging_observation_m1_with_its_body_site_lists_the_site_and_asks_no_site(
        loinc, text, body_site, line):
    # (ds6) the bodySite was not read: beside "Metastatic disease" the card asked for the site
    # (metastatic-site-not-stated) although Observation.bodySite named it (FHIR R4)
    p = _early_patient_with("Metastatic disease")
    p._obs("stage", {"coding": [{"system": "http://loinc.org", "code": loinc}]}, "2024-01-15",
           valueCodeableConcept={"text": text}, bodySite=body_site)
    state, cards = _cards(p)
    detail = card(cards, "patient-summary")["detail"]
    assert line in detail and "site not stated" not in detail


@pytest.mark.parametrize("text,site,line", [
    ("Metastatic to liver? no, bone only", "bone", "- Site: bone, 2024-01-15"),
    ("Metastatic to liver? no; bone only", "bone", "- Site: bone, 2024-01-15"),
    ("Liver mets? no, bone only", "bone", "- Site: bone, 2024-01-15"),
    ("Metastatic to bone? no, liver only", "liver", "- Site: liver (visceral), 2024-01-15"),
])
def test_fhir_a_metastasis_question_answered_no_with_the_site_it_is_instead_counts_that_site_and_asks_nothing(
        text, site, line):
    # (ds7) each read "Metastatic status unclear" with the asked site suspected ("Metastatic to
    # bone? no, liver only" asked the liver as the doubted site, the answer's own site): the
    # answer closes the asked site and names where the metastases are (CR A.4 counts a
    # metastasis found; visceral per CR A.4; FHIR R4 condition-ver-status refuted for the other)
    state, cards = _cards(_early_patient_with(text))
    detail = card(cards, "patient-summary")["detail"]
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == [site]
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert line in detail
    assert "Unconfirmed metastasis" not in detail and "written with a doubt" not in detail


@pytest.mark.parametrize("text", ["Metastatic to liver? no", "Metastatic to liver? No.", "Liver metastases? No.",
                                  "Metastatic to liver (?) no", "Metastatic to liver? negative",
                                  "Metastatic to liver: no", "Metastatic to liver - no"])
def test_fhir_a_metastasis_question_answered_no_closes_the_site_and_asks_nothing(text):
    # (ds7) "? no" read "Metastatic status unclear", the liver asked as suspected; "Metastatic to
    # liver: no" / "- no" counted the liver (MBC first-line cards): the question is answered, no
    # metastasis there (FHIR R4 condition-ver-status refuted), as "Liver metastases: no" reads
    state, cards = _cards(_early_patient_with(text))
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic disease not documented;")
    assert "Unconfirmed metastasis" not in summary["detail"]


@pytest.mark.parametrize("text,site", [("Breast cancer, metastatic to liver? no, bone only", "bone"),
                                       ("Breast cancer metastatic to bone? no, liver only", "liver")])
def test_fhir_a_breast_cancer_written_metastatic_with_its_site_question_answered_no_counts_the_other_site(text, site):
    # (ds7) the same reading on the breast cancer's own Condition text: was "Metastatic status
    # unclear", the liver asked in both
    p = FhirPatient("answered").er("positive").pr("positive").her2("1+")
    p._condition({"text": text}, "2024-01-10", "primary")
    state, cards = _cards(p)
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == [site]
    assert "Unconfirmed metastasis" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Metastatic to liver?", "Metastatic to liver? - see MRI",
                                  "Metastatic to liver? no, see MRI", "Metastatic to bone? no, responding"])
def test_fhir_a_metastasis_question_not_answered_no_stays_unclear(text):
    # (ds7) guard: no answer, or more said after the "no", is no answer read
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")


def _coded_metastasis(code: str, text: str | None = None) -> FhirPatient:
    cc = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code,
                      "display": "Secondary malignant neoplasm of unspecified site"}]}
    if text:
        cc["text"] = text
    return FhirPatient("c799").primary("2024-01-10").er("positive").pr("positive").her2("1+")._condition(cc, "2024-01-15", "met")


def test_fhir_a_metastasis_coded_to_an_unspecified_site_names_no_site_only_the_gap():
    # (ds7) C79.9 "Secondary malignant neoplasm of unspecified site" read "- Site: other": an
    # unspecified site is no site; metastatic all the same (CR A.4 counts C77-C79), the gap
    # metastatic-site-not-stated says the site is missing (visceral or not decides, CR A.4 / C.3)
    state, cards = _cards(_coded_metastasis("C79.9"))
    detail = card(cards, "patient-summary")["detail"]
    assert state.disease.metastatic == "yes" and state.disease.sites == []
    assert "- Site: other" not in detail
    assert "Metastatic disease recorded without its site: site not stated" in detail
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


def test_fhir_a_metastasis_coded_to_an_unspecified_site_whose_text_names_the_liver_counts_the_liver():
    # (ds7) C79.9 with text "Liver metastases" counted "other" and left the liver out ("coded C79.9
    # (other) but the text names the liver"): the code names no site, the text does (CR A.4 visceral)
    state, cards = _cards(_coded_metastasis("C79.9", "Liver metastases"))
    detail = card(cards, "patient-summary")["detail"]
    assert [s.site for s in state.disease.sites] == ["liver"]
    assert "- Site: liver (visceral), 2024-01-15" in detail
    assert "coded and written differently" not in detail


@pytest.mark.parametrize("loinc,text", [("21907-1", "M1(i+)"), ("21901-4", "pM1(i+)"), ("21908-9", "cM1 (i+)")])
def test_fhir_an_m1_written_with_isolated_tumour_cells_is_no_ajcc_category_and_leaves_metastatic_status_unclear(loinc, text):
    # (ds7) read as M1: MBC first-line cards. AJCC 8th edition (breast) has cM0(i+) (tumour cells
    # <= 0.2 mm in blood / marrow, no clinical metastasis: M0) and M1; "M1(i+)" is neither, which
    # one was meant the text does not say: asked, not counted (CR A.4 counts an M1 found)
    state, cards = _cards(_early_patient_staged(loinc, text))
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert "written: no AJCC 8th edition M category" in summary["detail"]


def test_fhir_a_breast_cancer_text_with_a_tnm_m1_with_isolated_tumour_cells_leaves_metastatic_status_unclear():
    # (ds7) "pT2N1M1(i+)" on the breast cancer's Condition read as M1 (first-line cards)
    p = FhirPatient("itc").er("positive").pr("positive").her2("1+")
    p._condition({"text": "Breast cancer pT2N1M1(i+)"}, "2024-01-10", "primary")
    state, cards = _cards(p)
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []


@pytest.mark.parametrize("text", ["cM0(i+)", "M0(i+)", "pM0(i+)"])
def test_fhir_an_m0_with_isolated_tumour_cells_is_not_metastatic(text):
    # (ds7) guard: AJCC 8th edition cM0(i+) is M0 (no clinical or radiographic metastasis)
    state, cards = _cards(_early_patient_staged("21907-1", text))
    assert state.disease.metastatic == "no" and regimen_topics(cards) == []


@pytest.mark.parametrize("code,quoted", [
    ({"text": "Stage IV disease"}, "Stage IV disease"),
    ({"text": "Malignant neoplasm, stage IV disease"}, "Malignant neoplasm, stage IV disease"),
    ({"coding": [{"system": "http://snomed.info/sct", "code": "363346000", "display": "Malignant neoplastic disease"}],
      "text": "Stage IV cancer"}, "Stage IV cancer"),
])
def test_fhir_a_stage_iv_of_a_cancer_the_record_does_not_name_is_asked_not_dropped_in_silence(code, quoted):
    # (ds7) read "Metastatic disease not documented" ("No metastatic site, M1 category or stage IV
    # was found"), the record never named: the breast cancer's stage IV or another cancer's the
    # record does not say (CR A.4 counts the breast cancer's stage IV): asked, not counted
    p = FhirPatient("unnamed").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    state, cards = _cards(p._condition(code, "2024-01-15", "met"))
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert (f'Unconfirmed metastasis, not counted as metastatic disease: site not stated ("{quoted}": stage IV '
            "written on a record coded neither breast cancer nor a metastasis, of which cancer not stated)") in summary["detail"]


@pytest.mark.parametrize("text", ["CKD stage 4", "Stage IV pressure ulcer", "Stage IV colon cancer"])
def test_fhir_a_stage_4_of_no_cancer_or_of_another_named_cancer_asks_nothing(text):
    # (ds7) guard: a kidney disease's or an ulcer's stage, or another cancer's, is no breast cancer's
    state, cards = _cards(_early_patient_with(text))
    assert "Unconfirmed metastasis" not in card(cards, "patient-summary")["detail"]


# --- (rt71) read-through of ds7 ----------------------------------------------------------------

@pytest.mark.parametrize("system,code,text,site", [
    ("http://hl7.org/fhir/sid/icd-10-cm", "C79.51", "Metastatic to bone? no", "bone"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C78.7", "Liver mets? No.", "liver"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C78.7", "Metastatic to bone? no", "liver"),
    ("http://snomed.info/sct", "94222008", "Metastatic to bone? no", "bone"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C79.51", "No bone metastases", "bone"),
])
def test_fhir_a_metastasis_code_whose_text_answers_no_is_asked_not_dropped_in_silence(system, code, text, site):
    # (rt71) read "Metastatic disease not documented", nothing asked (ds7 read the answered
    # question as "negated", which drops the code whatever it says): the code asserts a
    # metastasis (CR A.4 C77-C79 / SNOMED secondary), the words say none, on a Condition
    # recorded confirmed: which is right the record does not say, asked, not counted
    p = FhirPatient("coded-no").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    p._condition({"coding": [{"system": system, "code": code}], "text": text}, "2024-01-15", "met")
    state, cards = _cards(p)
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")
    assert (f'Unconfirmed metastasis, not counted as metastatic disease: {site} (coded a metastasis, but the text '
            f'reads "{text}")') in summary["detail"]


def test_fhir_a_metastasis_question_answered_no_after_an_em_dash_reads_as_after_an_en_dash():
    # (rt71) "Metastatic to liver \u2014 no" counted the liver (MBC first-line cards, visceral) while
    # "\u2013 no" and "- no" read the question answered (ds7): the same answer
    state, cards = _cards(_early_patient_with("Metastatic to liver \u2014 no"))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic disease not documented;")


@pytest.mark.parametrize("text,words", [("Breast cancer, stage IV disease?", "stage iv disease?"),
                                        ("Breast cancer stage 4 disease ?", "stage 4 disease ?")])
def test_fhir_a_breast_cancer_written_stage_iv_disease_with_a_question_mark_is_asked_as_stage_iv_question_is(text, words):
    # (rt71) read as stage IV asserted (MBC first-line cards); "Breast cancer, stage IV?" is a
    # doubt (asked): the "?" after "stage IV disease" doubts it the same (FHIR R4
    # condition-ver-status unconfirmed; CR A.4 counts a stage IV found)
    p = FhirPatient("s4q").er("positive").pr("positive").her2("1+")
    p._condition({"text": text}, "2024-01-10", "primary")
    state, cards = _cards(p)
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert (f'Unconfirmed metastasis, not counted as metastatic disease: site not stated (stage IV written "{words}")'
            in summary["detail"])


@pytest.mark.parametrize("coding,text", [
    ({"system": "http://snomed.info/sct", "code": "363346000"}, "Stage IV"),
    ({"system": "http://snomed.info/sct", "code": "363346000", "display": "Malignant neoplastic disease"}, "Stage IV"),
    ({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C80.1"}, "Stage 4"),
])
def test_fhir_a_stage_iv_on_a_generic_cancer_code_is_asked_not_dropped_in_silence(coding, text):
    # (rt71) SNOMED CT 363346000 / ICD-10-CM C80.1 name a cancer by no organ; its text "Stage IV"
    # was dropped without a word (the text names no cancer, ds7 looked at the text alone): asked
    # as "Malignant neoplasm, stage IV disease" is (codes.yaml unnamed_cancer_codes; CR A.4)
    p = FhirPatient("generic").primary("2024-01-10").er("positive").pr("positive").her2("1+")
    state, cards = _cards(p._condition({"coding": [coding], "text": text}, "2024-01-15", "met"))
    summary = card(cards, "patient-summary")
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert (f'Unconfirmed metastasis, not counted as metastatic disease: site not stated ("{text}": stage IV '
            "written on a record coded neither breast cancer nor a metastasis, of which cancer not stated)") in summary["detail"]


@pytest.mark.parametrize("text", ["Metastases: none seen", "Metastases: none identified",
                                  "Metastatic disease - none found", "Metastases - none seen on CT"])
def test_fhir_metastases_answered_none_seen_are_not_counted(text):
    # (rt71) each counted as metastatic disease (MBC first-line cards, "site not stated") while
    # "Metastases: none" reads the template answered (ds7): "none seen" is the same answer
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic disease not documented;")


@pytest.mark.parametrize("text", ["Metastatic disease: No (see note)", "Metastatic disease: no, see note",
                                  "Metastatic to liver: no (see MRI)", "Metastatic to liver - no, see MRI",
                                  "Metastases - none seen on CT, bone scan pending"])
def test_fhir_a_metastasis_answered_no_with_a_see_elsewhere_is_asked_as_the_question_form_is(text):
    # (rt71) each counted (MBC first-line cards; the liver visceral): the answer is no, sent
    # elsewhere or to a test awaited for the rest, as "Metastatic to liver? no, see MRI" is read (ds7 guard: unclear);
    # the words say no metastasis is made (CR A.4 counts one made): asked, not counted
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")


@pytest.mark.parametrize("text", ["Metastatic to liver? no - bone only", "Metastatic to liver? No \u2013 bone only"])
def test_fhir_a_metastasis_question_answered_no_dash_the_site_it_is_instead_counts_that_site(text):
    # (rt71) "? no, bone only" counts the bone (ds7); "? no - bone only" asked the liver
    # ("Metastatic status unclear"): the same answer written with a dash
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == ["bone"]
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "Unconfirmed metastasis" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Bone mets: no new lesions", "Metastatic: no evidence of progression"])
def test_fhir_a_known_metastasis_written_with_no_new_lesions_keeps_the_first_line_cards(text):
    # (rt71) guard: "no new lesions" / "no evidence of progression" is no answer to the metastasis
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]


@pytest.mark.parametrize("text", ["Metastatic to bone? No, bone and liver only", "Liver mets? no, liver only"])
def test_fhir_a_metastasis_question_answered_no_then_naming_the_asked_site_only_stays_unclear(text):
    # (rt71) ds7 counted the liver and the bone (MBC first-line cards) from an answer that rules
    # the bone out and names it in the same breath: the record says both, asked, not counted
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    assert card(cards, "patient-summary")["summary"].startswith(
        "Outside the HR+/HER2- MBC pathway: Metastatic status unclear (metastasis not confirmed);")


@pytest.mark.parametrize("text,quoted", [
    ("Metastases - none seen on CT, bone scan pending", '("none seen on CT, bone scan pending" in the text)'),
    ("Metastatic disease: No, biopsy planned", 'site not stated ("No, biopsy planned" in the text)'),
    ("Metastatic disease: No (see note)", 'site not stated ("No (see note)" in the text)'),
    ("Bone metastases TBC", 'bone ("TBC" in the text)'),
])
def test_fhir_the_unconfirmed_metastasis_gap_quotes_the_words_as_the_record_writes_them(text, quoted):
    # (ds8) the gap quoted the answered rewrite (ds7 / rt71 _as_answered), lower case: "? none seen
    # on ct, bone scan pending", "? no, biopsy planned", words the clinician cannot find in the chart
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    detail = card(cards, "patient-summary")["detail"]
    assert quoted in detail and "? no" not in detail and "? none" not in detail


@pytest.mark.parametrize("text", ["Metastatic to liver? no; to bone? yes", "Metastatic to liver? no; bone? yes",
                                  "Liver mets? No; bone? yes", "Metastases: liver? no; bone? yes"])
def test_fhir_a_metastasis_template_answering_bone_yes_after_liver_no_counts_the_bone_not_the_liver(text):
    # (ds8) "Metastatic disease not documented", nothing asked: the "bone? yes" clause names no
    # metastasis word, but answers the template's question that does (CR A.4 counts a metastasis made)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and [s.site for s in state.disease.sites] == ["bone"]
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "Site: bone, 2024-01-15" in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Liver? No; bone? yes", "Liver? no. Bone? Yes."])
def test_fhir_site_questions_answered_yes_with_no_metastasis_named_are_asked_not_read_as_nothing(text):
    # (ds8) was "Metastatic disease not documented" with nothing asked: a bone answered yes the
    # record does not say is a metastasis; asked (Metastatic status unclear), not counted
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear "
                                         "(metastasis not confirmed)")
    assert "Unconfirmed metastasis, not counted as metastatic disease: bone" in summary["detail"]


@pytest.mark.parametrize("text,words", [("Liver metastases - no longer seen", "Liver metastases - no longer seen"),
                                        ("Liver mets no longer visible", "Liver mets no longer visible")])
def test_fhir_a_liver_metastasis_no_longer_seen_counts_metastatic_disease_and_asks_the_liver_as_a_past_site(text, words):
    # (ds8) the gap said the liver was "written with a doubt" ("Confirm or refute it"): the text
    # doubts nothing, the metastasis was made (metastatic disease counted, CR A.4); whether a site
    # no longer seen still counts as a current visceral one no source settles: asked as such
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    detail = card(cards, "patient-summary")["detail"]
    assert (f'Metastatic site written in the past, not counted as a current site: the liver ("{words}"). '
            "Confirm whether it still counts (visceral or not changes the treatment guidance).") in detail
    assert "written with a doubt" not in detail


# --- (ds9) a resolved site reads alike however it is punctuated; quotes as written ---------------

@pytest.mark.parametrize("text", [
    # the liver was counted as a current (visceral) site
    "Liver metastases, resolved", "resolved liver metastases", "Liver metastases: complete response",
    "Liver metastases - complete response", "Liver metastasis, resolved on CT",
    # asked already
    "Liver metastases - resolved", "Liver metastases - no longer seen", "Liver mets (resolved)",
])
def test_fhir_a_resolved_liver_metastasis_is_asked_as_a_past_site_whatever_its_punctuation(text):
    # the sources do not settle whether a resolved visceral site still counts (CR A.4 lists the
    # visceral sites only): every wording asks it as a past site (the clinician decides), the
    # metastasis itself was made (metastatic, first-line cards)
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "yes" and not state.disease.visceral_involvement
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert (f'Metastatic site written in the past, not counted as a current site: the liver ("{text}"). '
            "Confirm whether it still counts") in card(cards, "patient-summary")["detail"]


def test_fhir_a_resolved_liver_beside_current_bone_metastases_counts_the_bone_and_asks_the_liver():
    state, cards = _cards(_early_patient_with("Bone metastases; liver metastases, resolved"))
    assert [s.site for s in state.disease.sites] == ["bone"] and not state.disease.visceral_involvement
    assert ('written in the past, not counted as a current site: the liver ("liver metastases, resolved")'
            in card(cards, "patient-summary")["detail"])


@pytest.mark.parametrize("text", ["Liver metastases, resected, now progressing", "Previous liver metastases, now stable"])
def test_fhir_a_resected_liver_metastasis_now_progressing_still_counts_the_liver(text):
    # guard: disease at the site now (CR A.4 visceral sites, C.2 step 2)
    state, _ = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["liver"] and state.disease.visceral_involvement


@pytest.mark.parametrize("text", ["No metastases. Bone? yes", "No metastases; bone? yes", "Metastases: none. Bone? Yes"])
def test_fhir_no_metastases_then_a_bone_answered_yes_is_unclear_and_quoted_not_read_as_nothing(text):
    # was "Metastatic disease not documented", nothing asked: the text says no, then yes
    state, cards = _cards(_early_patient_with(text))
    assert state.disease.metastatic == "unknown" and regimen_topics(cards) == []
    summary = card(cards, "patient-summary")
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic status unclear "
                                         "(metastasis not confirmed)")
    assert f'Unconfirmed metastasis, not counted as metastatic disease: bone ("{text}" in the text)' in summary["detail"]


@pytest.mark.parametrize("text,quoted", [("Liver Mets no longer visible", 'the liver ("Liver Mets no longer visible")'),
                                         ("Bone metastases (Previously Liver)", 'the liver ("Previously Liver")'),
                                         ("Bone metastases, ?Liver", 'the liver ("?Liver")')])
def test_fhir_the_past_or_doubted_site_gap_quotes_the_record_as_written(text, quoted):
    # was quoted in lower case ("liver mets no longer visible"): words the clinician cannot find
    detail = card(_cards(_early_patient_with(text))[1], "patient-summary")["detail"]
    assert f"not counted{' as a current site' if '?' not in text else ''}: {quoted}." in detail


# --- (ds10) a site written in the past inside a bracket is a past site, the bone beside it current --------

@pytest.mark.parametrize("text,words", [
    # the liver was counted as a current (visceral) site: the bone mention's piece held the bracket
    ("Bone metastases (prior liver metastases)", "prior liver metastases"),
    ("Bone metastases (previous liver mets)", "previous liver mets"),
    ("Bone mets (history of liver metastases)", "history of liver metastases"),
    ("Bone metastases (liver metastases resolved)", "liver metastases resolved"),
    # the bone was asked as a past site too, no site counted
    ("Bone metastases (resolved liver metastases)", "resolved liver metastases"),
    ("Bone metastases (prior liver metastases, resected)", "prior liver metastases, resected"),
])
def test_fhir_bone_metastases_with_a_past_liver_metastasis_in_a_bracket_count_the_bone_and_ask_the_liver(text, words):
    # as "Bone metastases; history of liver metastases" reads: whether a past visceral site still
    # counts no source settles (CR A.4 lists the visceral sites only): asked, the bone counted
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"] and not state.disease.visceral_involvement
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    detail = card(cards, "patient-summary")["detail"]
    assert (f'Metastatic site written in the past, not counted as a current site: the liver ("{words}"). '
            "Confirm whether it still counts") in detail
    assert "the bone (" not in detail


@pytest.mark.parametrize("text", ["Bone metastases (liver metastases progressing)", "Bone metastases (and liver)",
                                  "Bone metastases (prior liver metastases) and liver metastases",
                                  "Bone metastases (new liver metastases since prior CT)"])
def test_fhir_bone_metastases_with_a_current_liver_site_in_a_bracket_still_count_the_liver(text):
    # guard: disease at the liver now (CR A.4 visceral sites, C.2 step 2)
    state, cards = _cards(_early_patient_with(text))
    assert sorted(s.site for s in state.disease.sites) == ["bone", "liver"] and state.disease.visceral_involvement
    assert "written in the past" not in card(cards, "patient-summary")["detail"]


@pytest.mark.parametrize("text", ["Metastatic to liver? no, bone", "Liver mets? no, bone mets"])
def test_fhir_a_metastasis_question_answered_no_with_the_bone_instead_gets_the_first_line_cards(text):
    # (ds11) was "Outside the HR+/HER2- MBC pathway: Metastatic status unclear", the liver asked:
    # read as "? no, bone only" is since ds7 (not liver, bone; CR A.4, C.2 step 0)
    state, cards = _cards(_early_patient_with(text))
    assert [s.site for s in state.disease.sites] == ["bone"]
    assert regimen_topics(cards) == ["ai-cdk46i", "fulvestrant-cdk46i"]
    assert "Unconfirmed metastasis" not in card(cards, "patient-summary")["detail"]
