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
    ("Bone metastases TBC", 'bone ("tbc" in the text)'),
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
    assert summary["summary"].startswith("Outside the HR+/HER2- MBC pathway: Metastatic disease not documented")
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
