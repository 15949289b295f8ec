"""Every pathway drug, alone and beside each partner, in several patient situations:
order checks never raise, every card meets the contract, suggestions apply cleanly,
and no drafted order ever gets two cards on the same topic and regimen."""

from __future__ import annotations

import itertools

import pytest

from mappings.state import Biomarkers, HER2Status, PatientState

from cards.knowledge import DRUGS
from cards.orders import order_check_cards

from tests.orders.helpers import checked
from tests.orders.states import PID, adjuvant_relapse, after_first_line, ago, base_state, draft, src, variant


def situations() -> dict[str, PatientState]:
    her2_pos = after_first_line(base_state())
    her2_pos.her2 = HER2Status(category="positive", ihc_score="3+", date=ago(30), sources=[src("Observation/h", 30)])
    pre = after_first_line(base_state())
    pre.factors.menopausal_status = "premenopausal"
    mutated = after_first_line(base_state())
    mutated.biomarkers = Biomarkers(results=[variant("PIK3CA"), variant("ESR1", specimen="ctdna", days=5),
                                             variant("BRCA2", origin="germline", specimen="blood")], esr1_current=True)
    unknown = base_state()
    unknown.er.status = "unknown"
    unknown.pr.status = "unknown"
    empty = PatientState(patient_id=PID, as_of=ago(0))
    return {"first-line": base_state(), "after-first-line": after_first_line(base_state()),
            "adjuvant-relapse": adjuvant_relapse(base_state(), 6), "her2-positive": her2_pos,
            "premenopausal": pre, "mutated": mutated, "receptors-unknown": unknown, "empty-record": empty}


DRAFTABLE = [n for n, d in DRUGS.items() if d.rxnorm]
PAIRS = [(a, b) for a, b in itertools.combinations(DRAFTABLE, 2)
         if {"fulvestrant", "letrozole", "exemestane"} & {a, b}]


@pytest.mark.parametrize("name", sorted(situations()))
def test_every_pathway_drug_alone_and_with_a_backbone_gives_valid_cards(name):
    state = situations()[name]
    for hook in ("order-sign", "order-select"):
        for combo in [(n,) for n in DRAFTABLE] + PAIRS:
            drafts = [draft(f"d{i}", n) for i, n in enumerate(combo)]
            refs = {d.reference for d in drafts}
            selections = ["MedicationRequest/d0"] if hook == "order-select" else None
            cards = checked(order_check_cards(state, drafts, selections, hook), PID, refs, hook)
            keys = [(c["source"]["topic"]["code"], c["summary"]) for c in cards]
            assert len(keys) == len(set(keys)), (combo, keys)
