"""What the cards say of medication records and drafted orders whose text the fix-tx merge read
(rt43 read-through): 'No letrozole' as not taken, a worsening coded as the stop reason."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.cards.fhir_builder import hr_positive_mbc
from tests.cards.helpers import card
from tests.cards.test_fhir_scenarios import de_novo, run

SNOMED = "http://snomed.info/sct"


@pytest.mark.parametrize("rtype", ["MedicationStatement", "MedicationRequest"])
def test_a_cdk46i_stopped_with_the_worsening_code_and_a_note_reads_as_the_same_code_with_its_display(rtype):
    # statusReason SNOMED CT 271299001 without a display beside a note "neutropenia" read the
    # note alone ("de novo metastatic", no progression on the line), while the same code with its
    # display "Patient's condition worsened" and the same note read a progression (primary
    # resistance): the code is read as its term is (FHIR R4 statusReason; CR C.1, C.2 step 1)
    details = []
    for coding in ({"system": SNOMED, "code": "271299001"},
                   {"system": SNOMED, "code": "271299001", "display": "Patient's condition worsened"}):
        p = de_novo(f"p-worse-{rtype}").med("letrozole", "2024-02-01")
        if rtype == "MedicationStatement":
            p.med("ribociclib", "2024-02-01", "2024-07-20", status="stopped")
        else:
            p.add({"resourceType": "MedicationRequest", "id": "mr-ribo", "status": "stopped", "intent": "order",
                   "subject": {"reference": f"Patient/p-worse-{rtype}"}, "authoredOn": "2024-02-01",
                   "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                             "code": "1873916", "display": "ribociclib"}]},
                   "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-02-01",
                                                                                  "end": "2024-07-20"}}}}]})
        p.resources[-1]["statusReason"] = ([{"coding": [coding]}] if rtype == "MedicationStatement"
                                           else {"coding": [coding]})
        p.resources[-1]["note"] = [{"text": "neutropenia"}]
        state, cards = run(p, dt.date(2024, 9, 1))
        assert state.therapy.endocrine_resistance == "primary", coding
        details.append(card(cards, "patient-summary")["detail"])
    assert all("- Endocrine sensitivity: primary resistance: progression within 6 months of first-line metastatic "
               "endocrine therapy (" in d for d in details)
