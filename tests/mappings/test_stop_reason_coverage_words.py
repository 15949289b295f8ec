"""(rt77) A stop for coverage written without a cost word ("Not covered", "No longer covered", "Not
approved", "Not reimbursed") is a reason other than progression (local_codes.yaml stop_reasons
non_progression_patterns; CR C.2 step 1), also beside a negated cost word ("cost not an issue",
"Cost: N/A", which ord11 reads as no reason)."""

from __future__ import annotations

import pytest

from mappings import build_patient_state
from tests.mappings.builders import LETROZOLE, PALBOCICLIB, PID, RIBOCICLIB, med_statement, metastatic_patient
from tests.mappings.test_therapy import AS_OF

ONE_LINE = [{"letrozole", "palbociclib", "ribociclib"}]
TWO_LINES = [{"letrozole", "palbociclib"}, {"letrozole", "ribociclib"}]


def _lines_after_palbociclib_stopped_for(reason: str) -> list[set[str]]:
    palbociclib = med_statement(PALBOCICLIB, "2020-02-01", "2020-10-01", status="stopped")
    palbociclib["statusReason"] = [{"text": reason}]
    s = build_patient_state(metastatic_patient("2020-01-15", med_statement(LETROZOLE, "2020-02-01", status="active"),
                                               palbociclib, med_statement(RIBOCICLIB, "2020-10-01", status="active")),
                            PID, AS_OF)
    return [set(ln.names) for ln in s.therapy.metastatic_lines]


@pytest.mark.parametrize("reason", ["Not covered; cost not an issue otherwise", "Cost: N/A - not covered",
                                    "Not covered", "No longer covered", "Prior authorisation not approved",
                                    "Not reimbursed", "Cost not an issue, never approved"])
def test_a_late_cdk46_switch_stopped_because_the_drug_was_not_covered_is_a_switch_within_the_line(reason):
    # before: two lines (letrozole + palbociclib; letrozole + ribociclib), the regimen change read as a
    # progression: "not covered" / "not approved" was no reason word, and the negated cost word beside it
    # ("cost not an issue", "Cost: N/A") is none since ord11
    assert _lines_after_palbociclib_stopped_for(reason) == ONE_LINE


@pytest.mark.parametrize("reason", ["Cost not an issue", "Cost: N/A", "Not covered - progression",
                                    "Not approved, progression on letrozole + palbociclib",
                                    "Prior authorization pending", "Payer: Aetna", "Not approved yet"])
def test_a_negated_cost_word_alone_or_a_coverage_word_beside_a_progression_is_still_the_next_line(reason):
    # no reason stated, or a progression stated: the regimen change is the next line (CR C.2 step 1)
    assert _lines_after_palbociclib_stopped_for(reason) == TWO_LINES


@pytest.mark.parametrize("reason", ["Insurance no issue but copay too high", "Cost not an issue; prior auth denied",
                                    "Cost: N/A - payer declined", "Cost issue: none; patient cannot pay",
                                    "High copayment", "Prior authorization denied",
                                    "Declined by the payer"])
def test_a_late_cdk46_switch_stopped_for_the_copay_the_payer_or_prior_authorisation_is_a_switch_within_the_line(reason):
    # before: two lines, the regimen change read as a progression: copay, payer, prior authorisation and
    # "cannot pay" were no reason words, and the negated cost word beside them is none since ord11
    assert _lines_after_palbociclib_stopped_for(reason) == ONE_LINE


@pytest.mark.parametrize("reason", ["No copay issue", "Not a copay issue", "Copay not an issue", "Copay: N/A",
                                    "No prior auth issues", "Not due to copay", "Payer not an issue"])
def test_a_negated_copay_payer_or_prior_authorisation_states_no_reason_as_a_negated_cost_does(reason):
    # the copay, payer and prior authorisation read as a reason of their own (above): negated, none is
    # stated, as "No cost issue" (stop_reasons negated_reason_patterns): the regimen change is the proxy
    assert _lines_after_palbociclib_stopped_for(reason) == TWO_LINES
