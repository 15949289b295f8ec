"""Lines of therapy, setting, adjuvant endocrine timing and endocrine resistance."""

from __future__ import annotations

import datetime as dt

import pytest

from mappings import build_patient_state
from tests.mappings.builders import (
    ABEMACICLIB, ANASTROZOLE, CAPECITABINE, CYCLOPHOSPHAMIDE, DOXORUBICIN, EXEMESTANE, FULVESTRANT,
    GOSERELIN, LETROZOLE, PACLITAXEL, PALBOCICLIB, PID, RIBOCICLIB, TAMOXIFEN, ZOLEDRONIC, loinc_obs,
    med_admin, med_request, med_statement, metastatic_patient, cc, coding, RXNORM, SNOMED,
    patient, breast_cancer, LOINC,
)

AS_OF = dt.date(2024, 6, 1)


def state(*resources, met="2020-01-15", as_of=AS_OF):
    return build_patient_state(metastatic_patient(met, *resources), PID, as_of)


def test_adjuvant_tamoxifen_is_early_setting_and_does_not_count_as_a_line():
    s = state(med_statement(TAMOXIFEN, "2015-05-01", "2018-05-01"))
    assert s.therapy.exposures[0].setting == "early"
    assert s.therapy.metastatic_lines == []
    assert s.therapy.prior_endocrine_any_setting


def test_recurrence_11_months_after_adjuvant_et_is_secondary_resistance():
    s = state(med_statement(ANASTROZOLE, "2014-02-15", "2019-02-15"), met="2020-01-15")
    th = s.therapy
    assert th.adjuvant_endocrine_end == dt.date(2019, 2, 15)
    assert 10.9 < th.months_from_adjuvant_endocrine_end_to_metastasis < 11.1
    assert th.endocrine_resistance == "secondary"


def test_recurrence_13_months_after_adjuvant_et_is_endocrine_sensitive():
    s = state(med_statement(ANASTROZOLE, "2013-12-15", "2018-12-15"), met="2020-01-15")
    assert 12.9 < s.therapy.months_from_adjuvant_endocrine_end_to_metastasis < 13.1
    assert s.therapy.endocrine_resistance == "sensitive"


def test_recurrence_exactly_12_months_after_adjuvant_et_is_secondary_boundary_inclusive():
    s = state(med_statement(ANASTROZOLE, "2014-01-15", "2019-01-15"), met="2020-01-15")
    assert s.therapy.months_from_adjuvant_endocrine_end_to_metastasis == 12.0
    assert s.therapy.endocrine_resistance == "secondary"


def test_recurrence_on_adjuvant_et_after_two_years_is_secondary_with_zero_months():
    s = state(med_statement(LETROZOLE, "2016-01-01", status="active"), met="2020-01-15")
    th = s.therapy
    assert th.on_adjuvant_endocrine_at_recurrence is True
    assert th.months_from_adjuvant_endocrine_end_to_metastasis == 0
    assert th.endocrine_resistance == "secondary"


def test_recurrence_in_the_first_two_years_of_adjuvant_et_is_primary_resistance():
    s = state(med_statement(LETROZOLE, "2018-09-01", status="active"), met="2020-01-15")
    assert s.therapy.endocrine_resistance == "primary"


def test_adjuvant_et_without_an_end_date_leaves_resistance_unknown_and_says_so():
    s = state(med_statement(LETROZOLE, "2015-01-01", status="completed"), met="2020-01-15")
    assert s.therapy.endocrine_resistance == "unknown"
    assert "adjuvant-endocrine-end-unknown" in {g.code for g in s.gaps}


def test_refills_without_end_dates_inside_a_documented_adjuvant_course_are_bounded_by_its_end():
    # Real records: one MedicationStatement with the course's dates, and a completed
    # MedicationRequest per refill with only an authoredOn date.
    s = state(
        med_statement(LETROZOLE, "2014-02-15", "2019-02-15"),
        med_request(LETROZOLE, "2014-03-20", status="completed"),
        med_request(LETROZOLE, "2018-11-30", status="completed"),
        med_request(LETROZOLE, "2019-02-15", status="completed"),
        met="2020-01-15",
    )
    th = s.therapy
    assert th.adjuvant_endocrine_end == dt.date(2019, 2, 15)
    assert 10.9 < th.months_from_adjuvant_endocrine_end_to_metastasis < 11.1
    assert th.endocrine_resistance == "secondary"
    assert "adjuvant-endocrine-end-unknown" not in {g.code for g in s.gaps}


def test_a_first_prescription_written_before_the_recorded_start_is_bounded_by_the_recorded_end():
    s = state(
        med_request(LETROZOLE, "2014-02-03", status="completed"),  # written 12 days before the start
        med_statement(LETROZOLE, "2014-02-15", "2019-02-15"),
        med_request(LETROZOLE, "2016-07-01", status="completed"),
        met="2020-01-15",
    )
    assert s.therapy.adjuvant_endocrine_end == dt.date(2019, 2, 15)
    assert s.therapy.endocrine_resistance == "secondary"
    assert "adjuvant-endocrine-end-unknown" not in {g.code for g in s.gaps}


def test_a_refill_after_the_documented_end_of_adjuvant_et_leaves_the_end_unknown_and_names_that_refill():
    late = med_request(LETROZOLE, "2019-06-01", status="completed")
    s = state(
        med_statement(LETROZOLE, "2014-02-15", "2019-02-15"),
        med_request(LETROZOLE, "2018-11-30", status="completed"),
        late,
        met="2020-01-15",
    )
    assert s.therapy.endocrine_resistance == "unknown"
    gap = next(g for g in s.gaps if g.code == "adjuvant-endocrine-end-unknown")
    assert [src.reference for src in gap.sources] == [f"MedicationRequest/{late['id']}"]


def test_a_refill_of_another_drug_is_not_covered_by_a_documented_course():
    s = state(
        med_statement(LETROZOLE, "2014-02-15", "2019-02-15"),
        med_request(TAMOXIFEN, "2016-01-10", status="completed"),
        met="2020-01-15",
    )
    assert s.therapy.endocrine_resistance == "unknown"
    assert "adjuvant-endocrine-end-unknown" in {g.code for g in s.gaps}


def test_ai_plus_cdk46i_then_fulvestrant_then_capecitabine_are_three_lines():
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2021-03-01"),
        med_statement(PALBOCICLIB, "2020-02-10", "2021-03-01"),
        med_statement(FULVESTRANT, "2021-03-15", "2022-01-10"),
        med_statement(CAPECITABINE, "2022-01-20", status="active"),
    )
    lines = s.therapy.metastatic_lines
    assert [ln.names for ln in lines] == [["letrozole", "palbociclib"], ["fulvestrant"], ["capecitabine"]]
    assert [ln.number for ln in lines] == [1, 2, 3]
    assert [ln.endocrine for ln in lines] == [True, True, False]
    assert lines[2].chemotherapy and lines[2].active and not lines[0].active
    th = s.therapy
    assert (th.metastatic_endocrine_lines, th.metastatic_chemotherapy_lines, th.metastatic_systemic_lines) == (2, 1, 3)
    assert th.prior_nonsteroidal_ai and th.prior_fulvestrant and th.prior_cdk46i
    assert th.last_endocrine_progression == dt.date(2022, 1, 10)  # fulvestrant stopped at progression


def test_first_line_et_progressing_before_six_months_is_primary_resistance():
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2020-06-20"),
        med_statement(RIBOCICLIB, "2020-02-01", "2020-06-20"),
        med_statement(CAPECITABINE, "2020-07-01", status="active"),
    )
    th = s.therapy
    assert th.endocrine_resistance == "primary"
    assert th.progression_within_6_months_on_cdk46i is True
    assert th.cdk46i_months < 6


def test_first_line_et_progressing_after_six_months_is_secondary_resistance():
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2021-06-01"),
        med_statement(RIBOCICLIB, "2020-02-01", "2021-06-01"),
        med_statement(FULVESTRANT, "2021-06-10", status="active"),
    )
    assert s.therapy.endocrine_resistance == "secondary"
    assert s.therapy.progression_within_6_months_on_cdk46i is False


def test_de_novo_stage_iv_without_et_progression_is_de_novo():
    res = [patient(), breast_cancer("2020-01-10")]
    res.append({"resourceType": "Condition", "id": "bone", "subject": {"reference": f"Patient/{PID}"},
                "code": cc(coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone")),
                "onsetDateTime": "2020-01-20"})
    s = build_patient_state(res + [med_statement(LETROZOLE, "2020-02-01", status="active")], PID, AS_OF)
    assert s.disease.de_novo_metastatic is True
    assert s.therapy.endocrine_resistance == "de-novo"


def test_de_novo_stage_iv_with_an_unreadable_medication_record_is_not_called_de_novo():
    # the unread record may be a first-line endocrine therapy that progressed (primary /
    # secondary, CR C.1 ABC4): de-novo would be a guess, as endocrine-naive is for a relapse
    res = [patient(), breast_cancer("2020-01-10")]
    res.append({"resourceType": "Condition", "id": "bone", "subject": {"reference": f"Patient/{PID}"},
                "code": cc(coding(SNOMED, "94222008", "Secondary malignant neoplasm of bone")),
                "onsetDateTime": "2020-01-20"})
    unread = _by_reference(med_statement(None, "2020-02-01", "2021-01-01", rid="ms-unread"), "Medication/gone")
    s = build_patient_state(res + [med_statement(LETROZOLE, "2021-02-01", status="active"), unread], PID, AS_OF)
    assert s.disease.de_novo_metastatic is True
    assert s.therapy.endocrine_resistance == "unknown" and s.therapy.endocrine_resistance_sources == []
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and [src.reference for src in gap.sources] == ["MedicationStatement/ms-unread"]


def test_fulvestrant_continuing_when_palbociclib_is_added_after_progression_carries_into_the_new_line():
    worse = loinc_obs("97509-4", "2020-05-20", valueCodeableConcept=cc(coding(SNOMED, "271299001", "Patient's condition worsened")))
    s = state(
        med_statement(FULVESTRANT, "2020-02-01", status="active"),
        worse,
        med_statement(PALBOCICLIB, "2020-06-01", status="active"),
    )
    lines = s.therapy.metastatic_lines
    assert len(lines) == 2
    assert set(lines[1].names) == {"fulvestrant", "palbociclib"} and lines[1].endocrine


def test_a_cdk46_inhibitor_added_to_an_ongoing_aromatase_inhibitor_weeks_later_is_one_line():
    from tests.mappings.builders import variant
    s = state(
        med_statement(LETROZOLE, "2020-02-01", status="active"),
        med_statement(PALBOCICLIB, "2020-03-22", status="active"),  # 50 days later, no progression documented
        variant("HGNC:3467", "ESR1", date="2020-02-20", present=False, specimen_display="plasma"),
    )
    th = s.therapy
    assert [(ln.names, ln.start, ln.active) for ln in th.metastatic_lines] == [
        (["letrozole", "palbociclib"], dt.date(2020, 2, 1), True)]
    assert th.metastatic_endocrine_lines == 1
    assert th.last_endocrine_progression is None
    assert th.endocrine_resistance == "sensitive"  # relapse without adjuvant ET, no progression on ET
    assert all(not e.superseded for e in th.exposures)
    assert s.biomarkers.esr1_current is True and "esr1-stale" not in {g.code for g in s.gaps}


def test_a_cdk46_inhibitor_added_months_into_an_endocrine_line_without_documented_progression_is_one_line():
    s = state(
        med_statement(FULVESTRANT, "2020-02-01", status="active"),
        med_statement(PALBOCICLIB, "2020-06-01", status="active"),
    )
    th = s.therapy
    assert [ln.names for ln in th.metastatic_lines] == [["fulvestrant", "palbociclib"]]
    assert th.last_endocrine_progression is None and th.endocrine_resistance != "primary"
    assert th.cdk46i_months == 48.0  # time on the CDK4/6 inhibitor, from its own start (2020-06-01 to 2024-06-01)


def test_a_cdk46_inhibitor_added_more_than_6_months_into_an_endocrine_line_is_a_new_line():
    # the regimen change itself is the progression evidence CR C.2 step 1 accepts, as for
    # a late same-class substitution (SUBSTITUTION_MONTHS)
    s = state(
        med_statement(LETROZOLE, "2020-02-01", status="active"),
        med_statement(PALBOCICLIB, "2021-04-01", status="active"),  # 14 months later
    )
    th = s.therapy
    assert [ln.names for ln in th.metastatic_lines] == [["letrozole"], ["letrozole", "palbociclib"]]
    assert th.last_endocrine_progression is not None


def test_a_cdk46_inhibitor_added_after_the_endocrine_drug_stopped_for_progression_is_a_new_line():
    s = state(
        _with_note(med_statement(LETROZOLE, "2020-02-01", "2020-09-01", status="stopped"), "progression"),
        med_statement(LETROZOLE, "2020-09-01", status="active"),
        med_statement(PALBOCICLIB, "2020-09-01", status="active"),
    )
    assert len(s.therapy.metastatic_lines) == 2


def test_cdk46i_switch_for_toxicity_with_the_same_endocrine_partner_stays_one_line():
    s = state(
        med_statement(LETROZOLE, "2020-02-01", status="active"),
        med_statement(ABEMACICLIB, "2020-02-01", "2020-04-01"),
        med_statement(RIBOCICLIB, "2020-04-10", status="active"),
    )
    assert len(s.therapy.metastatic_lines) == 1
    assert s.therapy.endocrine_resistance != "primary"
    # written as the regimen it was, not as a combination of two CDK4/6 inhibitors
    assert s.therapy.metastatic_lines[0].regimen_text == "letrozole + abemaciclib (then ribociclib)"


def test_a_line_names_drugs_combined_within_their_class_as_a_combination_and_a_switch_after_the_drug_replaced():
    s = state(
        med_statement(DOXORUBICIN, "2020-02-01", "2020-04-01"),
        med_statement(CYCLOPHOSPHAMIDE, "2020-02-01", "2020-04-01"),
    )
    assert s.therapy.metastatic_lines[0].regimen_text == "doxorubicin + cyclophosphamide"  # AC
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2020-03-01"),
        med_statement(PALBOCICLIB, "2020-02-01", status="active"),
        med_statement(ANASTROZOLE, "2020-03-05", status="active"),
    )
    assert s.therapy.metastatic_lines[0].regimen_text == "letrozole (then anastrozole) + palbociclib"


def test_ovarian_suppression_and_bone_agents_never_count_as_lines():
    s = state(
        med_statement(GOSERELIN, "2020-02-01", status="active"),
        med_statement(ZOLEDRONIC, "2020-03-01", status="active"),
    )
    assert s.therapy.metastatic_lines == []
    assert s.therapy.metastatic_systemic_lines == 0
    assert {d.drug_class for e in s.therapy.exposures for d in e.drugs} == {"ovarian-suppression", "bone-agent"}


def test_adjuvant_chemotherapy_counts_for_prior_chemo_and_timing_but_not_as_a_line():
    s = state(
        med_statement(DOXORUBICIN, "2019-01-01", "2019-03-01"),
        med_statement(CYCLOPHOSPHAMIDE, "2019-01-01", "2019-03-01"),
        med_statement(PACLITAXEL, "2019-03-15", "2019-08-20"),
        met="2020-01-15",
    )
    th = s.therapy
    assert th.prior_chemotherapy_any_setting and th.prior_anthracycline and th.prior_taxane
    assert th.chemotherapy_within_6_months_of_adjuvant_end is True
    assert th.metastatic_chemotherapy_lines == 0



@pytest.mark.parametrize("end,met", [
    ("2023-07-10", "2024-01"),   # metastatic month: 5.7 months from its first day, 6.7 from its last
    ("2023-07", "2024-01-15"),   # adjuvant end month: 6.5 months from its first day, 5.5 from its last
])
def test_relapse_within_6_months_of_adjuvant_chemotherapy_is_unknown_when_a_date_without_a_day_decides_it(end, met):
    s = state(med_statement(PACLITAXEL, "2023-03-01", end), met=met)
    assert s.therapy.chemotherapy_within_6_months_of_adjuvant_end is None
    gap = next(g for g in s.gaps if g.code == "adjuvant-chemotherapy-end-unknown")
    assert "6 months" in gap.message and "cannot be confirmed" in gap.message


def test_adjuvant_chemotherapy_without_an_end_date_started_more_than_6_months_before_the_recurrence_leaves_label_b_unknown():
    # CR B.11 label B: "within 6 months of completing adjuvant chemotherapy"; the end decides, unrecorded
    s = state(med_statement(PACLITAXEL, "2023-03-01", status="completed"), met="2024-01-15")
    assert s.therapy.chemotherapy_within_6_months_of_adjuvant_end is None
    gap = next(g for g in s.gaps if g.code == "adjuvant-chemotherapy-end-not-recorded")
    assert gap.message.startswith("The adjuvant chemotherapy (paclitaxel, started 2023-03-01) has no end date")


def test_a_cycle_request_without_an_end_inside_a_recorded_adjuvant_chemotherapy_course_is_bounded_by_its_end():
    s = state(med_statement(PACLITAXEL, "2023-03-01", "2023-06-01"),
              med_request(PACLITAXEL, "2023-04-01", status="completed"), met="2024-01-15")
    assert s.therapy.chemotherapy_within_6_months_of_adjuvant_end is False
    assert "adjuvant-chemotherapy-end-not-recorded" not in {g.code for g in s.gaps}


def test_a_combination_course_record_without_an_end_beside_one_dated_record_per_drug_and_cycle_is_bounded_by_them():
    # "Doxorubicin + cyclophosphamide" from 2023-03-01, no end, and a MedicationAdministration
    # per drug and cycle to 2023-05-03: the cycles' ends were not read as bounding the course
    # (they are records of one drug each), so T-DXd label B was left open (gap)
    cycles = [med_admin(drug, day) for drug in (DOXORUBICIN, CYCLOPHOSPHAMIDE)
              for day in ("2023-03-01", "2023-03-22", "2023-04-12", "2023-05-03")]
    s = state(med_statement(None, "2023-03-01", status="completed", text="Doxorubicin + cyclophosphamide"), *cycles,
              met="2024-01-15")
    assert s.therapy.chemotherapy_within_6_months_of_adjuvant_end is False
    assert "adjuvant-chemotherapy-end-not-recorded" not in {g.code for g in s.gaps}


@pytest.mark.parametrize("end,met,expected", [
    ("2023-05", "2024-01", False),   # 7.0 months at the closest days
    ("2023-09", "2024-01", True),    # 4.0 months at the farthest days
    ("2023-07-10", "2024-01-05", True),
])
def test_relapse_within_6_months_of_adjuvant_chemotherapy_is_decided_when_every_day_gives_the_same_answer(
        end, met, expected):
    s = state(med_statement(PACLITAXEL, "2023-03-01", end), met=met)
    assert s.therapy.chemotherapy_within_6_months_of_adjuvant_end is expected
    assert "adjuvant-chemotherapy-end-unknown" not in {g.code for g in s.gaps}

def test_medication_requests_and_administrations_build_the_same_line():
    s = state(
        med_request(EXEMESTANE, "2020-02-01", status="active"),
        med_admin(FULVESTRANT, "2020-02-03"),
        med_admin(FULVESTRANT, "2020-03-03"),
    )
    assert len(s.therapy.metastatic_lines) == 1
    assert set(s.therapy.metastatic_lines[0].names) == {"exemestane", "fulvestrant"}


def test_recent_administration_is_active_and_an_old_one_is_not():
    s = state(med_admin(FULVESTRANT, "2024-05-20"), med_admin(CAPECITABINE, "2021-05-20"),
              as_of=dt.date(2024, 6, 1))
    active = {d.name for e in s.therapy.exposures if e.active for d in e.drugs}
    assert active == {"fulvestrant"}


def test_draft_or_cancelled_medication_requests_are_not_therapy_given():
    s = state(med_request(PALBOCICLIB, "2024-05-01", status="draft", intent="proposal"),
              med_request(RIBOCICLIB, "2024-05-01", status="cancelled"))
    assert s.therapy.exposures == []
    assert {g.code for g in s.ignored} == {"not-given"}


def test_a_medication_request_that_is_only_an_option_of_an_order_set_is_not_therapy_given():
    # FHIR R4 medicationrequest-intent "option": one choice of a RequestGroup, not an order
    option = med_request(FULVESTRANT, "2024-05-01", intent="option")
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), option)
    th = s.therapy
    assert [ln.names for ln in th.metastatic_lines] == [["letrozole"]] and th.metastatic_lines[0].active
    assert th.prior_fulvestrant is False and th.endocrine_resistance == "sensitive"
    assert [(g.code, g.sources[0].reference) for g in s.ignored] == [("not-given", f"MedicationRequest/{option['id']}")]


def test_a_medication_request_that_prohibits_the_drug_is_not_therapy_given():
    forbidden = med_request(PALBOCICLIB, "2024-02-01")
    forbidden["doNotPerform"] = True  # FHIR R4: the request prohibits the action
    s = state(forbidden, med_request(LETROZOLE, "2024-02-01", status="active"))
    th = s.therapy
    assert [ln.names for ln in th.metastatic_lines] == [["letrozole"]]
    assert th.prior_cdk46i is False
    assert [(g.code, g.sources[0].reference) for g in s.ignored] == [("not-given", f"MedicationRequest/{forbidden['id']}")]


@pytest.mark.parametrize("written", ["true", "TRUE", " True "])
def test_a_medication_request_whose_do_not_perform_is_the_string_true_is_not_therapy_given(written):
    # FHIR R4 boolean's lexical form sent as a JSON string: still a prohibition (as the draft reader)
    forbidden = med_request(PALBOCICLIB, "2024-02-01")
    forbidden["doNotPerform"] = written
    s = state(forbidden, med_request(LETROZOLE, "2024-02-01", status="active"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    assert s.therapy.prior_cdk46i is False
    assert [(g.code, g.sources[0].reference) for g in s.ignored] == [("not-given", f"MedicationRequest/{forbidden['id']}")]


@pytest.mark.parametrize("written", ["yes", 1, "N"])
def test_a_medication_request_whose_do_not_perform_is_neither_true_nor_false_is_named_not_read_as_given(written):
    unclear = med_request(PALBOCICLIB, "2024-02-01")
    unclear["doNotPerform"] = written
    s = state(unclear, med_request(LETROZOLE, "2024-02-01", status="active"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    gap = next(g for g in s.gaps if g.code == "medication-unreadable")
    assert f"MedicationRequest/{unclear['id']}" in gap.message and "neither true nor false" in gap.message


def test_a_medication_request_whose_do_not_perform_is_the_string_false_is_therapy_given():
    given = med_request(PALBOCICLIB, "2024-02-01", status="active")
    given["doNotPerform"] = "false"
    s = state(given, med_request(LETROZOLE, "2024-02-01", status="active"))
    assert [sorted(ln.names) for ln in s.therapy.metastatic_lines] == [["letrozole", "palbociclib"]]
    assert "medication-unreadable" not in {g.code for g in s.gaps}


def test_exposure_without_dates_is_flagged():
    s = state(med_statement(LETROZOLE, None, status="active"))
    assert "therapy-dates-missing" in {g.code for g in s.gaps}


def test_an_undated_active_therapy_in_a_metastatic_patient_is_a_metastatic_line_and_flagged():
    s = state(med_request(FULVESTRANT, None), med_request(PALBOCICLIB, None))  # active, no date
    th = s.therapy
    assert [(ln.names, ln.start, ln.active) for ln in th.metastatic_lines] == [(["fulvestrant", "palbociclib"], None, True)]
    assert th.metastatic_systemic_lines == 1 and th.metastatic_endocrine_lines == 1
    assert {e.setting for e in th.exposures} == {"metastatic"}
    assert "therapy-dates-missing" in {g.code for g in s.gaps}
    # it may have started as adjuvant therapy: endocrine sensitivity is not guessed
    assert th.endocrine_resistance == "unknown"


def test_an_undated_active_drug_joins_the_last_dated_line():
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), med_request(PALBOCICLIB, None))
    assert [sorted(ln.names) for ln in s.therapy.metastatic_lines] == [["letrozole", "palbociclib"]]


def test_an_undated_therapy_no_longer_given_stays_out_of_the_lines_and_is_flagged():
    s = state(med_statement(TAMOXIFEN, None, status="completed"))
    assert s.therapy.metastatic_lines == []
    assert s.therapy.exposures[0].setting == "unknown"
    gaps = {g.code: g.message for g in s.gaps}
    assert "therapy-dates-missing" in gaps
    assert "no start date" in gaps["therapy-setting-unknown"]


def test_without_a_metastatic_date_the_setting_is_unknown_and_flagged():
    res = [patient(), breast_cancer("2015-01-01"),
           {"resourceType": "Condition", "id": "liver", "subject": {"reference": f"Patient/{PID}"},
            "code": cc(coding(SNOMED, "94381002"))},
           med_statement(LETROZOLE, "2016-01-01", "2021-01-01")]
    s = build_patient_state(res, PID, AS_OF)
    assert s.therapy.exposures[0].setting == "unknown"
    assert "therapy-setting-unknown" in {g.code for g in s.gaps}


def test_a_metformin_record_is_not_named_in_the_therapy_setting_or_dates_gaps():
    # metformin is no anticancer therapy: it is in no line, so it cannot make them doubtful
    s = state(med_request(None, "2015-03-01", text="metformin hydrochloride 500 MG Oral Tablet"),
              med_statement(None, None, text="Metformin 500 mg tablet"))
    codes = {g.code for g in s.gaps}
    assert "therapy-setting-unknown" not in codes and "therapy-dates-missing" not in codes


def test_the_setting_gap_names_each_unplaced_anticancer_therapy_with_its_own_reason():
    s = state(med_statement(TAMOXIFEN, None, status="completed"),
              med_statement(None, "2019-01-01", status="active", text="Metformin 500 mg tablet"))
    gap = next(g for g in s.gaps if g.code == "therapy-setting-unknown")
    assert gap.message.endswith(": tamoxifen (no start date, and not documented as still given).")
    assert len(gap.sources) == 1
    res = [patient(), breast_cancer("2015-01-01"),
           {"resourceType": "Condition", "id": "liver", "subject": {"reference": f"Patient/{PID}"},
            "code": cc(coding(SNOMED, "94381002"))},
           med_statement(LETROZOLE, "2016-01-01", "2021-01-01"), med_statement(TAMOXIFEN, None)]
    gap = next(g for g in build_patient_state(res, PID, AS_OF).gaps if g.code == "therapy-setting-unknown")
    assert "letrozole (started 2016-01-01; the metastatic date is unknown)" in gap.message
    assert "tamoxifen (no start date; the metastatic date is unknown)" in gap.message


# review of the mappings changes, item 7: one entry per (drug, reason) with its count, at
# most UNREADABLE_NAMED entries named, and the right reason for a drug still given

def _setting_gap(s):
    return next(g for g in s.gaps if g.code == "therapy-setting-unknown")


def test_six_undated_completed_refills_of_one_drug_are_one_entry_with_their_count():
    s = state(*[med_request(LETROZOLE, None, status="completed") for _ in range(6)])
    gap = _setting_gap(s)
    assert gap.message.endswith(": letrozole (no start date, and not documented as still given; 6 records).")
    assert len(gap.sources) == 6


def test_the_setting_gap_names_at_most_five_entries_and_counts_the_rest():
    from mappings.therapy import UNREADABLE_NAMED
    assert UNREADABLE_NAMED == 5
    res = [patient(), breast_cancer("2015-01-01"),
           {"resourceType": "Condition", "id": "liver", "subject": {"reference": f"Patient/{PID}"},
            "code": cc(coding(SNOMED, "94381002"))},
           *[med_statement(LETROZOLE, f"201{y}-01-01", f"201{y}-06-01") for y in range(6)],
           med_statement(TAMOXIFEN, None), med_statement(TAMOXIFEN, None)]
    gap = _setting_gap(build_patient_state(res, PID, AS_OF))
    assert gap.message.count("letrozole (started") == 5 and "2015-01-01" not in gap.message
    assert gap.message.endswith("letrozole (started 2014-01-01; the metastatic date is unknown); and 3 more records.")
    assert len(gap.sources) == 8


def test_a_drug_still_given_without_a_start_date_before_a_future_metastatic_date_is_not_called_no_longer_given():
    s = state(med_request(LETROZOLE, None, status="active"), met="2027-01-10", as_of=dt.date(2026, 11, 21))
    assert s.therapy.metastatic_lines == []
    assert _setting_gap(s).message.endswith(
        ": letrozole (no start date; still given, but the metastatic date 2027-01-10 is after the as-of date "
        "2026-11-21).")


def _esr1_negative_before_the_first_line_ended():
    """ESR1 negative in plasma (2020-01-20), then letrozole + palbociclib to 2021-06-01, then fulvestrant."""
    from tests.mappings.builders import variant
    return state(
        med_statement(LETROZOLE, "2020-02-01", "2021-06-01"),
        med_statement(PALBOCICLIB, "2020-02-01", "2021-06-01"),
        med_statement(FULVESTRANT, "2021-06-10", status="active"),
        variant("HGNC:3467", "ESR1", date="2020-01-20", present=False, specimen_display="plasma"),
    )


def test_esr1_tested_before_the_last_et_progression_is_stale():
    s = _esr1_negative_before_the_first_line_ended()
    assert s.biomarkers.esr1_current is False
    assert "esr1-stale" in {g.code for g in s.gaps}


def test_the_stale_esr1_gap_names_the_progression_it_predates_with_its_date_and_source():
    s = _esr1_negative_before_the_first_line_ended()
    ref = s.therapy.esr1_reference()
    assert ref.date == s.therapy.last_endocrine_progression == dt.date(2021, 6, 1)
    gap = next(g for g in s.gaps if g.code == "esr1-stale")
    assert gap.message == ("The latest ESR1 result (2020-01-20) predates the progression on metastatic line 1 "
                           "(letrozole + palbociclib) on 2021-06-01: re-test ESR1 (ctDNA preferred).")
    assert {x.reference for x in ref.sources} <= {x.reference for x in gap.sources}


def test_the_esr1_reference_is_a_later_line_end_when_the_patient_moved_on_without_a_coded_progression():
    # C.3 row 18: after the most recent endocrine exposure; line 2 ended after line 1's progression
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2021-06-01"),
        med_statement(FULVESTRANT, "2021-06-10", "2022-09-01"),
        met="2020-01-15", as_of=dt.date(2023, 1, 1),
    )
    assert s.therapy.last_endocrine_progression == dt.date(2021, 6, 1)
    ref = s.therapy.esr1_reference()
    assert (ref.date, ref.event) == (dt.date(2022, 9, 1), "the end of metastatic line 2 (fulvestrant)")


def test_an_endocrine_line_end_after_today_is_not_a_date_the_esr1_result_must_follow():
    # review of the mappings changes, item 3: a completed letrozole line whose recorded end
    # (2027-05-01) is after as_of has not ended yet; the ESR1 result is not stale against it
    from tests.mappings.builders import variant
    s = state(
        med_statement(LETROZOLE, "2022-02-01", "2027-05-01"),
        variant("HGNC:3467", "ESR1", date="2024-04-01", present=False, specimen_display="plasma"),
        met="2022-01-10", as_of=dt.date(2026, 11, 21),
    )
    assert s.therapy.esr1_reference() is None
    assert s.biomarkers.esr1_current is True
    assert not [g.message for g in s.gaps if g.code == "esr1-stale"]


def test_a_progression_dated_after_today_neither_counts_nor_hides_the_last_real_one():
    status = loinc_obs("97509-4", "2027-03-01", valueCodeableConcept=cc(coding(SNOMED, "271299001", "Patient's condition worsened")))
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2021-06-01"),
        med_statement(FULVESTRANT, "2021-06-10", status="active"),
        status, as_of=dt.date(2026, 11, 21),
    )
    assert s.therapy.last_endocrine_progression == dt.date(2021, 6, 1)
    ref = s.therapy.esr1_reference()
    assert (ref.date, ref.event) == (dt.date(2021, 6, 1), "the progression on metastatic line 1 (letrozole)")


def test_esr1_tested_at_progression_is_current():
    from tests.mappings.builders import variant
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2021-06-01"),
        med_statement(FULVESTRANT, "2021-06-10", status="active"),
        variant("HGNC:3467", "ESR1", date="2021-06-05", specimen_display="plasma ctDNA"),
    )
    assert s.biomarkers.esr1_current is True
    assert "esr1-stale" not in {g.code for g in s.gaps}


def test_disease_status_worsening_on_et_moves_the_last_et_progression():
    status = loinc_obs("97509-4", "2023-03-01", valueCodeableConcept=cc(coding(SNOMED, "271299001", "Patient's condition worsened")))
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), status)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)


def _on_letrozole_with_status(text: str):
    """The state of a patient on letrozole since 2020-02-01 with a disease status written `text` on 2023-03-01."""
    status = loinc_obs("97509-4", "2023-03-01", valueCodeableConcept=cc(text=text))
    return state(med_statement(LETROZOLE, "2020-02-01", status="active"), status)


@pytest.mark.parametrize("text", ["No progression - stable disease", "Stable disease, no evidence of progression",
                                  "Not worse than before", "without progression", "No evidence of disease progression",
                                  "Progression ruled out", "Progression-free since 2022",
                                  "Non-progressive disease", "Progression: no", "Stable, not progressing",
                                  "No new lesions"])
def test_a_disease_status_written_as_no_progression_is_not_a_progression(text):
    s = _on_letrozole_with_status(text)
    assert s.therapy.last_endocrine_progression is None
    assert s.therapy.endocrine_resistance == "sensitive"


def test_a_disease_status_written_as_progression_is_a_progression():
    status = loinc_obs("97509-4", "2023-03-01", valueCodeableConcept=cc(text="Progressive disease (new liver lesions)"))
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), status)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)


def _status_gap(s):
    return next((g.message for g in s.gaps if g.code == "disease-status-unclear"), None)


@pytest.mark.parametrize("text", ["No new lesions but progression in the liver", "Stable bone metastases; progression in liver",
                                  "PD", "New liver lesions", "Worsening"])
def test_a_disease_status_asserting_a_progression_beside_other_words_is_a_progression(text):
    s = _on_letrozole_with_status(text)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)
    assert _status_gap(s) is None


@pytest.mark.parametrize("value, status, why", [
    (cc(coding(SNOMED, "268910001", "Patient's condition improved"), text="Progression in the liver"), "final",
     "coded as not worsened but written 'Progression in the liver'"),
    (cc(coding(SNOMED, "271299001", "Patient's condition worsened"), text="Possible progression"), "final",
     "coded as worsened but written 'Possible progression'"),
    (cc(coding(SNOMED, "271299001", "Patient's condition worsened")), "registered", "a progression with status registered"),
    (cc(coding(SNOMED, "271299001", "Patient's condition worsened")), "unknown", "a progression with status unknown"),
    (cc(text="Progression unlikely"), "final", "written 'Progression unlikely'"),
    (cc(text="Likely progression"), "final", "written 'Likely progression'"),
])
def test_a_disease_status_left_open_is_no_progression_and_the_gap_names_it(value, status, why):
    # CR C.2 step 1 counts a CancerDiseaseStatus "worsening"; FHIR R4 ObservationStatus
    # registered / preliminary / unknown is no (known) final result
    obs = loinc_obs("97509-4", "2023-03-01", valueCodeableConcept=value)
    obs["status"] = status
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), obs)
    assert s.therapy.last_endocrine_progression is None
    assert f"{why} (2023-03-01)" in _status_gap(s)


@pytest.mark.parametrize("status", ["Preliminary", "REGISTERED", " unknown "])
def test_a_worsening_whose_not_final_status_is_written_in_another_case_is_no_progression(status):
    # read as final (a progression counted) while the same status on a variant, a receptor,
    # a lab or a menopausal status was read as not final (fhir.not_final_status)
    obs = loinc_obs("97509-4", "2023-03-01", valueCodeableConcept=cc(coding(SNOMED, "271299001", "Patient's condition worsened")))
    obs["status"] = status
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), obs)
    assert s.therapy.last_endocrine_progression is None
    assert f"a progression with status {status.strip().lower()} (2023-03-01)" in _status_gap(s)


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_an_amended_worsening_is_still_a_progression(status):
    obs = loinc_obs("97509-4", "2023-03-01", valueCodeableConcept=cc(coding(SNOMED, "271299001", "Patient's condition worsened")))
    obs["status"] = status
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), obs)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)


@pytest.mark.parametrize("code", [TAMOXIFEN, LETROZOLE])
def test_superseded_statement_does_not_make_an_old_line_active(code):
    s = state(
        med_statement(code, "2020-02-01", status="active"),
        med_statement(CAPECITABINE, "2021-02-01", status="active"),
    )
    lines = s.therapy.metastatic_lines
    assert not lines[0].active and lines[1].active
    assert {d.name for d in s.therapy.current_drugs()} == {"capecitabine"}


def test_superseded_exposure_keeps_the_resource_status_and_says_it_was_superseded():
    s = state(
        med_statement(LETROZOLE, "2020-02-01", status="active"),
        med_statement(CAPECITABINE, "2021-02-01", status="active"),
    )
    old = next(e for e in s.therapy.exposures if e.drugs[0].name == "letrozole")
    assert old.status == "active" and old.superseded is True and old.active is False


def test_intended_medication_statement_is_not_therapy_given():
    s = state(med_statement(PALBOCICLIB, "2024-05-01", status="intended"))
    assert s.therapy.exposures == [] and s.ignored[0].code == "not-given"


def _with_note(resource, text):
    resource["note"] = [{"text": text}]
    return resource


def test_last_line_stopped_for_progression_counts_as_progression_without_a_next_line():
    s = state(
        _with_note(med_statement(LETROZOLE, "2020-02-01", "2020-07-15", status="stopped"), "progression in liver"),
        _with_note(med_statement(RIBOCICLIB, "2020-02-01", "2020-07-15", status="stopped"), "progression in liver"),
    )
    th = s.therapy
    assert th.progression_within_6_months_on_cdk46i is True
    assert th.endocrine_resistance == "primary"
    assert th.last_endocrine_progression == dt.date(2020, 7, 15)


def test_last_line_stopped_for_toxicity_is_not_progression():
    s = state(
        _with_note(med_statement(LETROZOLE, "2020-02-01", "2020-04-01", status="stopped"), "intolerance"),
        _with_note(med_statement(RIBOCICLIB, "2020-02-01", "2020-04-01", status="stopped"), "neutropenia grade 4"),
    )
    th = s.therapy
    assert th.progression_within_6_months_on_cdk46i is None
    assert th.endocrine_resistance == "sensitive"  # relapse without prior ET, no ET progression
    assert th.last_endocrine_progression is None


@pytest.mark.parametrize("reason", ["Suspected progression", "? PD", "possible progression", "progression not confirmed"])
def test_a_last_line_stopped_for_a_progression_only_suspected_is_no_documented_progression_and_the_gap_quotes_it(reason):
    # the disease-status reader already leaves a hedged progression open (gap
    # disease-status-unclear); a stop reason that hedges it was counted as a progression
    # (CR C.2 step 1: a documented progression; local_codes.yaml disease_status unclear_patterns)
    s = state(
        _with_note(med_statement(LETROZOLE, "2020-02-01", "2020-07-15", status="stopped", rid="ms-let"), reason),
        _with_note(med_statement(RIBOCICLIB, "2020-02-01", "2020-07-15", status="stopped", rid="ms-rib"), reason),
    )
    th = s.therapy
    assert th.last_endocrine_progression is None
    assert th.progression_within_6_months_on_cdk46i is None
    gap = next(g for g in s.gaps if g.code == "stop-reason-unclear")
    assert f"MedicationStatement/ms-let (letrozole: '{reason}')" in gap.message
    assert "not counted as a documented progression" in gap.message


@pytest.mark.parametrize("adjuvant, line_end, expected", [
    # no adjuvant class: a progression after 5.5 months would be primary, none would leave the
    # patient endocrine-sensitive / de novo: which one is not known
    (None, "2020-07-15", "unknown"),
    # recurrence 11 months after adjuvant ET (secondary): a progression within 6 months of
    # first-line ET would outrank it (primary), one after 14 months would not
    ("2019-02-15", "2020-07-15", "unknown"),
    ("2019-02-15", "2021-04-01", "secondary"),
])
def test_resistance_is_not_read_past_a_first_line_stopped_for_a_progression_only_suspected(adjuvant, line_end, expected):
    # the hedged stop made the line not progressed, and resistance fell back on the adjuvant
    # timing or on endocrine-naive ("sensitive" / "de-novo"): a guess where a progression on
    # the line would have given another class (CR C.1, ABC4 by progression on first-line ET)
    early = [med_statement(ANASTROZOLE, "2014-02-15", adjuvant)] if adjuvant else []
    s = state(*early,
              _with_note(med_statement(LETROZOLE, "2020-02-01", line_end, status="stopped"), "Suspected progression"),
              _with_note(med_statement(RIBOCICLIB, "2020-02-01", line_end, status="stopped"), "Suspected progression"))
    assert s.therapy.endocrine_resistance == expected
    assert any(g.code == "stop-reason-unclear" for g in s.gaps)


@pytest.mark.parametrize("later", [
    # palbociclib given again 9 days after the hedged stop: the line goes on
    [med_statement(PALBOCICLIB, "2020-05-10", status="active")],
    # ... and ended a year later for stated side effects, then fulvestrant
    [_with_note(med_statement(PALBOCICLIB, "2020-05-10", "2021-03-01", status="stopped"), "Neutropenia"),
     med_statement(FULVESTRANT, "2021-03-10", status="active")],
])
def test_resistance_is_read_when_a_suspected_progression_did_not_end_the_first_line(later):
    # the hedged stop of an early palbociclib record is not what ended the line (the drug was
    # given again; the line ended for a stated side effect): no progression on first-line ET
    # to weigh (CR C.1), so endocrine-naive stands as before the hedged-stop mend (6b4f6f4)
    letrozole_end = "2021-03-01" if len(later) > 1 else None
    letrozole = med_statement(LETROZOLE, "2020-02-01", letrozole_end, status="stopped" if letrozole_end else "active")
    s = state(_with_note(letrozole, "Arthralgia") if letrozole_end else letrozole,
              _with_note(med_statement(PALBOCICLIB, "2020-02-01", "2020-05-01", status="stopped"), "Suspected progression"),
              *later)
    assert [ln.regimen_text for ln in s.therapy.metastatic_lines][0] == "letrozole + palbociclib"
    assert s.therapy.endocrine_resistance == "sensitive"
    assert any(g.code == "stop-reason-unclear" for g in s.gaps)


@pytest.mark.parametrize("reason", ["Possible progression - completed planned cycles", "Possible progression - maintenance",
                                    "Completed 6 cycles, progression cannot be excluded",
                                    # words that only introduce the reason (local_codes.yaml reason_lead_patterns)
                                    "Stopped due to possible progression", "Discontinued because of suspected progression",
                                    "Stopped for ? PD",
                                    # ... beside a stated side effect, choice or cost: the line may have ended
                                    # for it and for the suspected progression (read 'other': hedge lost, no gap)
                                    "Stopped due to neutropenia and possible progression",
                                    "Possible progression; neutropenia", "Discontinued due to cost, possible progression"])
def test_a_suspected_progression_beside_a_completion_or_planned_stop_leaves_the_stop_reason_unclear(reason):
    # "Possible progression - completed planned cycles" read as a stated non-progression stop
    # (the completion word) and the hedge was lost without a gap, while the same hedge beside
    # "maintenance" asked: the line may have ended as planned or for the suspected progression.
    # "Stopped due to possible progression" likewise ("stopped due to" states a reason: here the suspicion)
    s = state(
        _with_note(med_statement(LETROZOLE, "2020-02-01", "2020-07-15", status="stopped", rid="ms-let"), reason),
        _with_note(med_statement(RIBOCICLIB, "2020-02-01", "2020-07-15", status="stopped", rid="ms-rib"), reason),
    )
    gap = next(g for g in s.gaps if g.code == "stop-reason-unclear")
    assert f"MedicationStatement/ms-let (letrozole: '{reason}')" in gap.message
    assert s.therapy.last_endocrine_progression is None  # still not a documented progression
    assert s.therapy.endocrine_resistance == "unknown"  # not read past it (was endocrine-naive)


@pytest.mark.parametrize("reason", ["Progressive disease", "Suspected progression in liver; new bone metastases",
                                    "PD"])
def test_a_stop_reason_asserting_a_progression_is_still_one_and_raises_no_stop_reason_gap(reason):
    s = state(
        _with_note(med_statement(LETROZOLE, "2020-02-01", "2020-07-15", status="stopped"), reason),
        _with_note(med_statement(RIBOCICLIB, "2020-02-01", "2020-07-15", status="stopped"), reason),
    )
    assert s.therapy.last_endocrine_progression == dt.date(2020, 7, 15)
    assert not any(g.code == "stop-reason-unclear" for g in s.gaps)


def test_status_reason_progression_on_a_medication_request_is_read():
    mr = med_request(FULVESTRANT, "2021-01-01", status="stopped", end="2022-03-01")
    mr["statusReason"] = cc(text="Disease progression")
    s = state(mr)
    assert s.therapy.last_endocrine_progression == dt.date(2022, 3, 1)


def test_adjuvant_ai_continued_at_recurrence_with_an_added_cdk46i_is_one_endocrine_first_line():
    s = state(
        med_statement(LETROZOLE, "2017-01-01", status="active"),
        med_statement(PALBOCICLIB, "2020-02-01", status="active"),
        met="2020-01-15",
    )
    th = s.therapy
    assert th.on_adjuvant_endocrine_at_recurrence
    assert len(th.metastatic_lines) == 1
    assert set(th.metastatic_lines[0].names) == {"letrozole", "palbociclib"}
    assert th.metastatic_lines[0].endocrine


def test_adjuvant_ai_still_marked_active_is_superseded_by_a_switch_to_fulvestrant():
    s = state(
        med_statement(LETROZOLE, "2017-01-01", status="active"),
        med_statement(FULVESTRANT, "2020-02-01", status="active"),
        med_statement(PALBOCICLIB, "2020-02-01", status="active"),
        met="2020-01-15",
    )
    assert {d.name for d in s.therapy.current_drugs()} == {"fulvestrant", "palbociclib"}
    assert s.therapy.endocrine_resistance == "secondary"


def test_note_saying_no_progression_is_not_progression():
    s = state(
        _with_note(med_statement(LETROZOLE, "2020-02-01", "2020-04-01", status="stopped"),
                   "stopped for arthralgia, no progression"),
    )
    assert s.therapy.last_endocrine_progression is None


def test_line_end_is_the_documented_stop_not_the_next_line_start_when_refills_have_no_end():
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2021-03-01", status="completed"),
        med_request(LETROZOLE, "2020-05-01", status="completed"),
        med_request(LETROZOLE, "2021-02-01", status="completed"),
        med_statement(FULVESTRANT, "2021-04-15", status="active"),
    )
    assert s.therapy.metastatic_lines[0].end == dt.date(2021, 3, 1)


def test_cdk46i_switch_after_progression_with_the_same_endocrine_partner_is_a_new_line():
    s = state(
        med_statement(FULVESTRANT, "2020-02-01", status="active"),
        _with_note(med_statement(PALBOCICLIB, "2020-02-01", "2021-05-01", status="stopped"), "progression"),
        med_statement(ABEMACICLIB, "2021-05-10", status="active"),
    )
    assert len(s.therapy.metastatic_lines) == 2


def test_late_cdk46i_switch_without_a_reason_is_a_new_line():
    s = state(
        med_statement(FULVESTRANT, "2020-02-01", status="active"),
        med_statement(PALBOCICLIB, "2020-02-01", "2021-05-01", status="completed"),
        med_statement(ABEMACICLIB, "2021-05-10", status="active"),
    )
    assert len(s.therapy.metastatic_lines) == 2


# --- medication records whose drug cannot be read (a gap, never silence) ---------------


def _by_reference(resource, reference, display=None):
    resource.pop("medicationCodeableConcept")
    resource["medicationReference"] = {"reference": reference, **({"display": display} if display else {})}
    return resource


def _gap(s, code):
    return next((g for g in s.gaps if g.code == code), None)


def test_a_medication_statement_whose_referenced_medication_is_not_in_the_data_is_a_gap_naming_it():
    ms = _by_reference(med_statement(RIBOCICLIB, "2020-02-01", status="active", rid="ms-ribo"), "Medication/med-ribo")
    s = state(ms)
    gap = _gap(s, "medication-unreadable")
    assert gap is not None, [g.code for g in s.gaps]
    assert "MedicationStatement/ms-ribo" in gap.message and "Medication/med-ribo" in gap.message
    assert "not in the data" in gap.message and "lines of therapy may be missing" in gap.message
    assert [src.reference for src in gap.sources] == ["MedicationStatement/ms-ribo"]
    assert s.therapy.metastatic_lines == []  # nothing invented from it


def test_the_same_statement_with_its_medication_in_the_data_is_a_line_and_no_gap():
    ms = _by_reference(med_statement(RIBOCICLIB, "2020-02-01", status="active"), "Medication/med-ribo")
    med = {"resourceType": "Medication", "id": "med-ribo", "code": cc(coding(RXNORM, RIBOCICLIB))}
    s = state(ms, med)
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["ribociclib"]]
    assert _gap(s, "medication-unreadable") is None


def test_medication_records_with_no_drug_code_or_name_are_a_gap_with_the_reason_for_each():
    no_drug = med_statement(None, "2020-02-01", status="active", rid="ms-empty")
    no_drug.pop("medicationCodeableConcept")
    only_local = med_request(None, "2020-03-01")
    only_local["medicationCodeableConcept"] = cc(coding("urn:oid:1.2.3.4", "X77"))
    empty_med = _by_reference(med_statement(LETROZOLE, "2020-02-01", status="active", rid="ms-m"), "Medication/m-empty")
    s = state(no_drug, only_local, empty_med, {"resourceType": "Medication", "id": "m-empty"})
    gap = _gap(s, "medication-unreadable")
    assert gap is not None
    refs = {src.reference for src in gap.sources}
    assert refs == {"MedicationStatement/ms-empty", f"MedicationRequest/{only_local['id']}", "MedicationStatement/ms-m"}
    assert "MedicationStatement/ms-empty (no medication code or reference)" in gap.message
    assert f"MedicationRequest/{only_local['id']} (no drug code or name that can be read)" in gap.message
    assert "MedicationStatement/ms-m (the referenced Medication/m-empty has no drug code or name)" in gap.message


@pytest.mark.parametrize("code, text, named", [
    (PALBOCICLIB, "Palbociclib + AI", "an aromatase inhibitor, not which one"),
    (RIBOCICLIB, "Ribociclib with an aromatase inhibitor", "an aromatase inhibitor, not which one"),
    (ABEMACICLIB, "Abemaciclib + NSAI", "an aromatase inhibitor, not which one"),
    (None, "Palbociclib 125 mg + AI", "an aromatase inhibitor, not which one"),
    # a dose with its frequency, route or schedule between (FHIR R4 Dosage.timing / route)
    (PALBOCICLIB, "Palbociclib 125 mg daily + AI", "an aromatase inhibitor, not which one"),
    (RIBOCICLIB, "Ribociclib 600 mg PO od 3 weeks on 1 off + NSAI", "an aromatase inhibitor, not which one"),
    (None, "Palbociclib (125 mg daily, 21/28) + AI", "an aromatase inhibitor, not which one"),
    (LETROZOLE, "Letrozole + CDK4/6i", "a CDK4/6 inhibitor, not which one"),
])
def test_a_pathway_drug_written_beside_a_class_of_drug_is_read_and_the_gap_names_the_class(code, text, named):
    # the AI partner of "Palbociclib + AI" was lost without a word: the line's regimen (and a
    # prior non-steroidal AI) may be missing; the named drug is still read (CR A.5 classes)
    s = state(med_statement(code, "2020-02-01", status="active", text=text, rid="ms-with-class"))
    drug = {PALBOCICLIB: "palbociclib", RIBOCICLIB: "ribociclib", ABEMACICLIB: "abemaciclib", LETROZOLE: "letrozole",
            None: "palbociclib"}[code]
    assert [d.name for e in s.therapy.exposures for d in e.drugs] == [drug]
    gap = _gap(s, "medication-unreadable")
    assert gap is not None
    assert f'MedicationStatement/ms-with-class (its text "{text}" also names {named})' in gap.message


@pytest.mark.parametrize("text, named", [
    ("Letrozole + Palbo", "an abbreviated drug name not read as a drug (it may stand for palbociclib)"),
    ("Palbo + letrozole", "an abbreviated drug name not read as a drug (it may stand for palbociclib)"),
    ("Letrozole 2.5 mg daily + Ribo 600 mg",
     "an abbreviated drug name not read as a drug (it may stand for ribociclib)"),
    ("Fulvestrant 500 mg IM / Abema", "an abbreviated drug name not read as a drug (it may stand for abemaciclib)"),
])
def test_a_pathway_drug_written_beside_an_abbreviated_drug_name_is_read_and_the_gap_names_the_abbreviation(text, named):
    # the abbreviation alone is named (ISMP: error-prone, never read as a drug); beside a named
    # drug it was dropped in silence: a letrozole line without its CDK4/6 inhibitor
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-with-abbr"))
    assert len(s.therapy.exposures) == 1
    gap = _gap(s, "medication-unreadable")
    assert gap is not None
    assert f'MedicationStatement/ms-with-abbr (its text "{text}" also names {named})' in gap.message


@pytest.mark.parametrize("text", ["Letrozole (Let)", "Palbociclib 125 mg cap + letrozole", "Capecitabine, cape"])
def test_an_abbreviation_of_the_drug_named_or_a_capsule_beside_it_is_no_gap(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert s.therapy.exposures and _gap(s, "medication-unreadable") is None


@pytest.mark.parametrize("text", ["Letrozole, aromatase inhibitor", "Palbociclib (CDK4/6 inhibitor)",
                                  "Palbociclib + letrozole", "Palbociclib + AI-induced arthralgia"])
def test_a_class_that_describes_the_drug_beside_it_or_a_side_effect_is_no_gap(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert s.therapy.exposures and _gap(s, "medication-unreadable") is None


@pytest.mark.parametrize("code, text", [
    (FULVESTRANT, "Fulvestrant - patient declined"), (PALBOCICLIB, "Palbociclib (refused)"),
    (LETROZOLE, "Letrozole - not started"), (FULVESTRANT, "Fulvestrant: not given, patient preference"),
    (None, "Declined fulvestrant"), (None, "Fulvestrant 500 mg - refused by patient"),
    (None, "Fulvestrant – declined"), (None, "Patient does not want fulvestrant"), (FULVESTRANT, "Fulvestrant - patient refuses"),
])
def test_a_drug_written_as_refused_or_never_started_is_no_therapy_given_and_says_why(code, text):
    # the refusal was read as a line given (a class already used, a line counted): FHIR R4
    # MedicationStatement.status 'not-taken' / MedicationRequest.doNotPerform say the same
    s = state(med_statement(code, "2020-02-01", "2020-06-01", status="completed", text=text, rid="ms-refused"))
    assert s.therapy.exposures == [] and s.therapy.metastatic_lines == []
    ignored = [g for g in s.ignored if g.code == "not-given"]
    assert [src.reference for g in ignored for src in g.sources] == ["MedicationStatement/ms-refused"]
    assert f'its text "{text}" says the drug was refused or not started' in ignored[0].message


@pytest.mark.parametrize("text", ["Fulvestrant - declined further cycles", "Palbociclib - refused cycle 3",
                                  "Letrozole (patient declined chemo)", "Letrozole; chemotherapy declined",
                                  "Fulvestrant 500 mg not given today", "Fulvestrant - declined initially, started in June",
                                  "Palbociclib (refused, later agreed)"])
def test_a_stop_after_starting_or_a_refusal_of_another_treatment_is_still_the_drug_given(text):
    s = state(med_statement(None, "2020-02-01", "2020-06-01", status="completed", text=text))
    assert len(s.therapy.metastatic_lines) == 1
    assert not any(g.code == "not-given" for g in s.ignored)


def test_a_refusal_written_beside_two_drugs_is_a_record_that_cannot_be_read():
    s = state(med_statement(None, "2020-02-01", "2020-06-01", status="completed", rid="ms-two",
                            text="Letrozole + palbociclib - patient declined"))
    assert s.therapy.metastatic_lines == []
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and "MedicationStatement/ms-two (its text \"Letrozole + palbociclib - patient declined\" " \
        "writes a refusal and names more than one drug" in gap.message


@pytest.mark.parametrize("text, given", [
    ("Letrozole (declined) + palbociclib", ["palbociclib"]),
    ("Palbociclib (patient declined) + letrozole", ["letrozole"]),
    ("Letrozole - not started; palbociclib", ["palbociclib"]),
    ("Anastrozole 1 mg (not yet started) + ribociclib", ["ribociclib"]),
    ("Letrozole - declined by patient / palbociclib", ["palbociclib"]),
    ("Letrozole - declined / palbociclib", ["palbociclib"]),
    ("Letrozole + palbociclib (palbociclib declined)", ["letrozole"]),
    ("Letrozole + palbociclib; palbociclib declined", ["letrozole"]),
    # a last clause of its own written as not started / refused: that clause's drugs alone (was:
    # "writes a refusal and names more than one drug", no line, the letrozole given lost)
    ("Letrozole; palbociclib not yet started", ["letrozole"]),
    ("Letrozole. Palbociclib not started", ["letrozole"]),
    ("Letrozole 2.5 mg | palbociclib declined by patient", ["letrozole"]),
    ("Letrozole; palbociclib + ribociclib not started", ["letrozole"]),
])
def test_a_refusal_inside_a_regimen_leaves_only_the_other_drug_given(text, given):
    # the refusal closes its own drug's clause: that drug was not given, the other one was
    # (local_codes.yaml drug_mentions refused_after); both were read as one line given
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [[d.name for d in ln.drugs] for ln in s.therapy.metastatic_lines] == [given]
    assert _gap(s, "medication-unreadable") is None


@pytest.mark.parametrize("text", ["Fulvestrant (not started yet)", "Fulvestrant - yet to start"])
def test_a_drug_written_as_not_started_yet_or_yet_to_start_is_no_therapy_given(text):
    # "not yet started" written otherwise: fulvestrant was read as a line given
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert s.therapy.metastatic_lines == [] and _gap(s, "medication-unreadable") is None
    assert any(g.code == "not-given" for g in s.ignored)


def test_a_drug_to_be_added_in_a_last_clause_of_its_own_is_planned_and_the_drug_before_it_given():
    # palbociclib was read as given beside letrozole (a CDK4/6 inhibitor used)
    s = state(med_statement(None, "2020-02-01", status="active", text="Letrozole; palbociclib to be added after OFS"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    assert "also names palbociclib, not read as given by this record" in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Letrozole; palbociclib?", "Letrozole + possible palbociclib"])
def test_a_hedged_second_drug_is_named_and_the_drug_before_it_given(text):
    # palbociclib was read as given beside letrozole (a CDK4/6 inhibitor used)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    assert "also names palbociclib, not read as given by this record" in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Letrozole - possible + palbociclib", "Letrozole 2.5 mg daily? + palbociclib",
                                  "Letrozole? + palbociclib", "Letrozole possible & palbociclib"])
def test_a_hedge_closing_the_first_drug_of_a_regimen_before_a_plus_leaves_that_drug_unconfirmed(text):
    # letrozole was read as given beside palbociclib ('letrozole + palbociclib', a first-line AI +
    # CDK4/6 inhibitor), while "Letrozole (possible) + palbociclib" was letrozole's hedge alone
    # (local_codes.yaml drug_mentions hedged_closing: a hedge then "+", "&", "/" or "plus")
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["palbociclib"]]
    assert "also names letrozole, not read as given by this record" in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Letrozole + palbociclib (both declined)", "Letrozole + palbociclib: patient declined both",
                                  "Letrozole + palbociclib - regimen refused", "Letrozole + palbociclib: both not started",
                                  "Declined both letrozole and palbociclib", "Both letrozole and palbociclib declined"])
def test_a_refusal_said_of_every_drug_of_a_regimen_is_no_therapy_given_and_is_named(text):
    # was read as both drugs given: an AI + CDK4/6 inhibitor line counted (FHIR R4
    # MedicationStatement.status not-taken for each; local_codes.yaml drug_mentions refused_whole_after)
    s = state(med_statement(None, "2020-02-01", "2020-06-01", status="completed", text=text, rid="ms-both"))
    assert s.therapy.exposures == [] and s.therapy.metastatic_lines == []
    ignored = [g for g in s.ignored if g.code == "not-given"]
    assert [src.reference for g in ignored for src in g.sources] == ["MedicationStatement/ms-both"]
    assert f'its text "{text}" says the drug was refused or not started' in ignored[0].message


@pytest.mark.parametrize("text", ["Prior letrozole", "Letrozole (previous)", "History of letrozole", "H/O letrozole + palbociclib"])
def test_an_active_record_written_as_past_use_is_not_ongoing_and_its_unknown_end_is_named(text):
    # was read as the drug under way (the current line): the words say past use, the status says ongoing
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-past"))
    assert [e.active for e in s.therapy.exposures] == [False] and s.therapy.exposures[0].end is None
    assert "MedicationStatement/ms-past" in _gap(s, "therapy-stopped-in-text").message


@pytest.mark.parametrize("text", ["Likely letrozole-related arthralgia", "Maybe letrozole dose reduction", "Query letrozole dose",
                                  "Perhaps letrozole dosing"])
def test_a_hedge_of_a_dose_or_a_side_effect_of_the_drug_keeps_the_drug_given(text):
    # each was read as letrozole only considered (gap medication-unreadable, no line): the hedge
    # questions a fact of the drug given (its dose: FHIR R4 MedicationStatement.dosage; a side
    # effect it caused), not whether it is given ("Likely", "Maybe" were read so since fix-rf5)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [(ln.names, ln.active) for ln in s.therapy.metastatic_lines] == [(["letrozole"], True)]
    assert _gap(s, "medication-unreadable") is None


@pytest.mark.parametrize("text", ["Previously letrozole", "Previously on letrozole + palbociclib", "Formerly letrozole"])
def test_a_record_opening_with_previously_or_formerly_before_its_own_drug_is_that_drug_given(text):
    # each named no drug given and was dropped without a word (no line, no gap): "previously"
    # before a drug is read as another drug's time ("Fulvestrant, previously letrozole"), but
    # before the record's first drug, with nothing else before it, it is past use of its own drug
    # (local_codes.yaml drug_mentions past_use_opening): a line, its end read from its period
    s = state(med_statement(None, "2020-02-01", "2021-03-01", status="completed", text=text))
    assert [ln.names[0] for ln in s.therapy.metastatic_lines] == ["letrozole"]
    assert str(s.therapy.metastatic_lines[0].end) == "2021-03-01"
    # still active by status: no longer given, its unknown end named (as "Previous letrozole")
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-past"))
    assert [e.active for e in s.therapy.exposures] == [False] * len(s.therapy.exposures) != []
    assert "MedicationStatement/ms-past" in _gap(s, "therapy-stopped-in-text").message


@pytest.mark.parametrize("text,given,past", [("Previous letrozole, now anastrozole", "anastrozole", "letrozole"),
                                             ("Prior tamoxifen; letrozole", "letrozole", "tamoxifen"),
                                             ("Hx tamoxifen; now letrozole", "letrozole", "tamoxifen"),
                                             ("Letrozole (prior tamoxifen)", "letrozole", "tamoxifen")])
def test_a_drug_written_as_past_use_beside_the_record_drug_is_not_given_with_it(text, given, past):
    # the past drug was read as given with the current one, one line of both (two endocrine drugs
    # at once), as "Previously letrozole, now anastrozole" is not: past use ("previous", "prior",
    # "hx") before another drug than the record's own regimen is that drug's earlier time
    # (local_codes.yaml drug_mentions not_given_before; FHIR R4 MedicationStatement.medication[x])
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [[given]]
    assert past not in {d.name for e in s.therapy.exposures for d in e.drugs}


@pytest.mark.parametrize("text", ["Tamoxifen (completed 5 years)", "Letrozole - completed", "Anastrozole (completed)",
                                  "Letrozole 2.5 mg daily, course completed"])
def test_an_active_record_written_as_a_completed_course_is_not_ongoing_and_its_unknown_end_is_named(text):
    # was read as the drug under way (the current line): a course completed is past use, as
    # "(stopped)" / "(previous)" (local_codes.yaml drug_mentions completed_closing)
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-done"))
    assert [e.active for e in s.therapy.exposures] == [False] and s.therapy.exposures[0].end is None
    assert "MedicationStatement/ms-done" in _gap(s, "therapy-stopped-in-text").message


@pytest.mark.parametrize("text,end", [("Anastrozole, course completed 2021", "2021-01-01"),
                                      ("Letrozole - completed 03/2021", "2021-03-01"),
                                      ("Tamoxifen (completed 5 years, 2021-06-30)", "2021-06-30")])
def test_an_active_record_written_as_a_course_completed_on_a_date_ended_then(text, end):
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-done"))
    assert [(e.active, str(e.end)) for e in s.therapy.exposures] == [(False, end)]
    assert _gap(s, "therapy-stopped-in-text") is None


@pytest.mark.parametrize("text", ["Letrozole + palbociclib, completed cycle 3", "Fulvestrant - completed loading dose"])
def test_an_active_record_with_a_part_of_its_course_completed_stays_ongoing(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [e.active for e in s.therapy.exposures] == [True] * len(s.therapy.exposures) != []
    assert _gap(s, "therapy-stopped-in-text") is None


@pytest.mark.parametrize("text", ["Letrozole", "Prior to letrozole: anastrozole", "Letrozole (previous dose reduced)"])
def test_an_active_record_without_past_use_words_for_its_drug_stays_ongoing(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [e.active for e in s.therapy.exposures if e.drugs[0].name in text.lower()][-1] is True
    assert _gap(s, "therapy-stopped-in-text") is None


@pytest.mark.parametrize("text", ["Letrozole + palbociclib - both declined, restarted", "Letrozole - declined, restarted",
                                  "Letrozole + palbociclib (both declined; resumed)", "Letrozole + palbociclib (both refused, recommenced)"])
def test_a_refusal_taken_back_by_a_restart_is_the_drug_given(text):
    # was read as refused (no line; 'not-given'): a restart or a resumption after the refusal says
    # the drug was taken, as "started" / "re-started" after it already did (local_codes.yaml
    # stop_reasons refusal_withdrawn_patterns; FHIR R4 MedicationStatement.status active)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names[0] for ln in s.therapy.metastatic_lines] == ["letrozole"]
    assert not any(g.code == "not-given" for g in s.ignored)


def test_both_refused_after_drugs_in_clauses_of_their_own_cannot_say_which_were_given():
    # was read as both drugs given: "both" may be the last clause's drugs or every drug named
    s = state(med_statement(None, "2020-02-01", status="active", text="Letrozole; palbociclib - both declined"))
    assert s.therapy.metastatic_lines == []
    assert "writes a refusal and names more than one drug" in _gap(s, "medication-unreadable").message


def test_a_refusal_after_a_comma_list_of_two_drugs_still_cannot_say_which_was_given():
    # a comma may list both drugs as not started: only a clause break (";", "|", ".") makes the
    # refusal the last clause's alone
    s = state(med_statement(None, "2020-02-01", status="active", rid="ms-list",
                            text="Letrozole, palbociclib not yet started"))
    assert s.therapy.metastatic_lines == []
    assert "writes a refusal and names more than one drug" in _gap(s, "medication-unreadable").message


def test_each_drug_of_a_regimen_written_as_refused_in_its_own_clause_is_no_therapy_given():
    # was: "writes a refusal and names more than one drug" (unreadable) though each is refused
    s = state(med_statement(None, "2020-02-01", status="active", text="Letrozole (declined), palbociclib (declined)"))
    assert s.therapy.exposures == [] and _gap(s, "medication-unreadable") is None
    assert any(g.code == "not-given" for g in s.ignored)


@pytest.mark.parametrize("text", ["Letrozole (declined chemo) + palbociclib"])
def test_words_that_are_another_treatments_refusal_leave_the_regimen_given(text):
    # "Letrozole, declined palbociclib" was here (both given); its refusal names palbociclib as its
    # object: test_a_drug_refused_after_the_record_drug_is_not_given_and_the_record_drug_is
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [[d.name for d in ln.drugs] for ln in s.therapy.metastatic_lines] == [["letrozole", "palbociclib"]]


def test_a_class_of_drug_written_as_refused_beside_a_drug_is_a_record_that_cannot_be_read():
    # "Palbociclib + AI (declined)": the refusal closes the regimen, as in "Letrozole +
    # palbociclib (declined)": it may be the AI's or the regimen's; palbociclib was read as a
    # line given and the AI as named but not which one
    s = state(med_statement(None, "2020-02-01", status="active", rid="ms-ai", text="Palbociclib + AI (declined)"))
    assert s.therapy.metastatic_lines == []
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and 'MedicationStatement/ms-ai (its text "Palbociclib + AI (declined)" writes a refusal ' \
        "and names more than one drug: which one was given cannot be read)" in gap.message


def _unreadable_record(text: str, rid: str) -> str:
    """An active record written `text`: no line is read from it; the medication-unreadable gap's message."""
    s = state(med_statement(None, "2020-02-01", status="active", rid=rid, text=text))
    assert s.therapy.metastatic_lines == []
    gap = _gap(s, "medication-unreadable")
    assert gap is not None
    return gap.message


@pytest.mark.parametrize("text", ["Palbociclib + letrozole; AI declined",
                                  "Palbociclib 125 mg + letrozole 2.5 mg; aromatase inhibitor - patient declined",
                                  "Palbociclib + letrozole; CDK4/6 inhibitor declined"])
def test_the_class_of_a_named_drug_refused_after_the_regimen_is_a_record_that_cannot_be_read(text):
    # letrozole is an AI yet written as given: which drug (or an earlier AI) was refused is not
    # written; the class refused in its own clause was not read and both drugs were a line given
    assert f'MedicationStatement/ms-class (its text "{text}" writes a refusal and names more than one drug: which ' \
        "one was given cannot be read)" in _unreadable_record(text, "ms-class")


def test_the_class_of_a_named_drug_refused_after_a_dash_is_a_record_that_cannot_be_read():
    s = state(med_statement(None, "2020-02-01", status="active", text="Palbociclib + letrozole - AI declined"))
    assert s.therapy.metastatic_lines == [] and _gap(s, "medication-unreadable") is not None


@pytest.mark.parametrize("text", ["Letrozole (then fulvestrant if progression)", "Letrozole; plan fulvestrant on progression",
                                  "Letrozole; consider fulvestrant",
                                  "Letrozole, consider adding fulvestrant", "Letrozole; plan to add fulvestrant"])
def test_a_drug_written_as_planned_or_given_only_if_the_disease_progresses_is_not_read_as_given(text):
    _assert_letrozole_given_and_next_drug_named(text, "fulvestrant")


@pytest.mark.parametrize("text, planned", [("Letrozole then anastrozole if intolerant", "anastrozole"),
                                           ("Letrozole; exemestane in case of intolerance", "exemestane"),
                                           ("Letrozole then fulvestrant if not tolerated", "fulvestrant"),
                                           ("Letrozole then anastrozole if side effects", "anastrozole")])
def test_a_drug_to_be_given_only_if_the_first_is_not_tolerated_is_not_read_as_given(text, planned):
    # the conditional plan was read as given beside letrozole (a prior second AI / SERD) (fix-rf3)
    _assert_letrozole_given_and_next_drug_named(text, planned)


def _assert_letrozole_given_and_next_drug_named(text, planned):
    # fulvestrant was read as given beside letrozole (a prior SERD, no fulvestrant card); it is
    # planned (FHIR R4 MedicationStatement.status intended): named, not counted
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and f"also names {planned}, not read as given by this record" in gap.message


@pytest.mark.parametrize("text", ["Letrozole - patient declined palbociclib", "Letrozole; patient declined palbociclib",
                                  "Letrozole, declined palbociclib", "Letrozole - declined palbociclib / ribociclib",
                                  # was (before fix-od3): letrozole read as refused, palbociclib given
                                  "Letrozole 2.5 mg; declined palbociclib",
                                  # were (after fix-od3): both read as given, the refusal passed over
                                  "Letrozole 2.5 mg (declined palbociclib)", "Letrozole 2.5 mg - declined palbociclib",
                                  "Letrozole 2.5 mg: patient declined palbociclib", "Letrozole 2.5 mg declined palbociclib",
                                  "Letrozole 2.5 mg; declined: palbociclib", "Letrozole 2.5 mg/day declined palbociclib",
                                  # were (fix-rf3): both read as given ("not started" only read after the
                                  # name; a route or frequency after the dose hid the clause end)
                                  "Letrozole; not started palbociclib", "Letrozole, not yet started on palbociclib",
                                  "Letrozole 2.5 mg PO declined palbociclib", "Letrozole 2.5 mg PO daily declined palbociclib",
                                  "Letrozole 2.5mg once daily declined palbociclib"])
def test_a_drug_refused_after_the_record_drug_is_not_given_and_the_record_drug_is(text):
    # the refusal runs into the next drug's name (its object): palbociclib was read as given beside
    # letrozole, a CDK4/6 inhibitor line the patient declined
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]


def test_a_refusal_of_the_next_drug_taken_back_leaves_both_given():
    s = state(med_statement(None, "2020-02-01", status="active",
                            text="Letrozole; declined palbociclib initially, later agreed"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole", "palbociclib"]]


@pytest.mark.parametrize("text", ["Letrozole + palbociclib planned", "Palbociclib to start after OFS",
                                  "Fulvestrant 500 mg (to be started)", "Letrozole + palbociclib (planned)"])
def test_a_record_writing_its_drugs_as_planned_after_them_is_a_gap_not_a_line(text):
    # plan words after the drugs were passed over: a letrozole + palbociclib (or palbociclib) line
    # read as given from a record that says it was planned (fix-rf3)
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-plan"))
    assert s.therapy.metastatic_lines == []
    assert f'MedicationStatement/ms-plan (its text "{text}" writes its drug as planned or considered: whether it ' \
        "was given cannot be read)" in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Letrozole planned 5 years", "Letrozole, planned for 5 years",
                                  "Letrozole planned dose reduction to 2.5 mg alternate days",
                                  # were (fix-rf3) a gap: a length in words, or how the drug is given
                                  "Letrozole, planned for five years", "Letrozole planned for a total of 5 years",
                                  "Letrozole 2.5 mg to be given orally once daily",
                                  "Letrozole 2.5 mg to be given as one tablet daily"])
def test_a_planned_length_of_therapy_or_how_the_drug_is_to_be_given_leaves_the_drug_given(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    assert _gap(s, "medication-unreadable") is None


@pytest.mark.parametrize("text, planned", [("Letrozole + palbociclib; fulvestrant to start at progression", "fulvestrant"),
                                           ("Letrozole + palbociclib; fulvestrant planned", "fulvestrant"),
                                           ("Letrozole 2.5 mg + palbociclib 125 mg. Fulvestrant to be started",
                                            "fulvestrant")])
def test_plan_words_in_a_last_clause_of_their_own_leave_the_drugs_before_it_given(text, planned):
    # the plan words after fulvestrant made the whole record a gap: the letrozole + palbociclib
    # line its first clause writes as given was lost (fix-rf3); fulvestrant is planned, named
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole", "palbociclib"]]
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and f"also names {planned}, not read as given by this record" in gap.message


@pytest.mark.parametrize("text", ["Letrozole planned, started 2020-02-01", "Letrozole (planned), started 2020-02",
                                  "Letrozole to start after OFS - started on 2020-02-03"])
def test_a_plan_the_text_then_writes_as_started_leaves_the_drug_given(text):
    # "planned ... started <date>": the plan was carried out; it was a gap (fix-rf3)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    assert _gap(s, "medication-unreadable") is None


@pytest.mark.parametrize("text", ["Letrozole planned, not yet started 2020-02", "Letrozole to start after OFS"])
def test_a_plan_not_written_as_started_stays_a_gap(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert s.therapy.metastatic_lines == []
    assert "writes its drug as planned or considered" in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Palbociclib, start after OFS", "Palbociclib - start when OFS established",
                                  "Fulvestrant 500 mg IM to start after OFS", "Fulvestrant IM (not started until 2020-03)",
                                  "Exemestane if intolerant to letrozole", "Exemestane if letrozole not tolerated",
                                  "Fulvestrant if progression",
                                  # a regimen kept for a progression: letrozole alone was read as given
                                  "Letrozole + palbociclib if progression on tamoxifen",
                                  # a start still awaited: each was read as a line given
                                  "Palbociclib - pending insurance approval", "Palbociclib (awaiting OFS)",
                                  "Abemaciclib - awaiting start", "Fulvestrant (deferred)",
                                  "Ribociclib - will start next week", "Fulvestrant - start date TBC",
                                  "Letrozole (palbociclib to follow)",
                                  # a hedge: a drug considered, read as a line given
                                  "Palbociclib?", "Possible palbociclib", "? Fulvestrant", "Query fulvestrant",
                                  "Likely fulvestrant", "Maybe palbociclib", "Perhaps fulvestrant"])
def test_a_record_writing_its_drug_with_a_start_condition_or_a_later_start_is_a_gap_not_a_line(text):
    # each was read as a line given from the record's start (and "Exemestane if letrozole not
    # tolerated" as exemestane + letrozole): a start after OFS, a start put off to 2020-03 or a
    # drug kept for intolerance or progression is planned by its words (FHIR R4
    # MedicationStatement.status intended), taken by its status: which is not written
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-plan"))
    assert s.therapy.metastatic_lines == []
    assert f'MedicationStatement/ms-plan (its text "{text}" writes its drug as planned or considered' \
        in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Capecitabine, start on 2020-02-01", "Palbociclib 125 mg if ANC > 1000",
                                  # the condition is the second drug's alone (not_given_after)
                                  "Letrozole, fulvestrant if progression"])
def test_a_start_date_or_a_dose_condition_after_the_drug_leaves_it_given(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert len(s.therapy.metastatic_lines) == 1
    gap = _gap(s, "medication-unreadable")
    assert gap is None or "writes its drug as planned" not in gap.message


def test_a_regimen_written_as_planned_in_one_clause_stays_a_gap():
    s = state(med_statement(None, "2020-02-01", status="active", text="Letrozole 2.5 mg + palbociclib 125 mg planned",
                            rid="ms-plan"))
    assert s.therapy.metastatic_lines == []
    assert "writes its drug as planned or considered" in _gap(s, "medication-unreadable").message


def test_a_drug_to_be_resumed_once_side_effects_settle_is_given():
    # "once side effects settle" is when palbociclib resumes, not a drug kept for intolerance:
    # it was read as not given beside letrozole (fix-rf3)
    s = state(med_statement(None, "2020-02-01", status="active", text="Letrozole + palbociclib once side effects settle"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole", "palbociclib"]]


@pytest.mark.parametrize("text", ["Planned letrozole + palbociclib", "Consider fulvestrant", "Plan: letrozole + palbociclib"])
def test_a_record_whose_only_drug_is_written_as_planned_is_a_gap_not_skipped_in_silence(text):
    # since plan words before a name read it as not given, a record naming its drug only so was
    # skipped as a record of no pathway drug: no line, no gap (its status says taken)
    assert f'MedicationStatement/ms-plan (its text "{text}" writes its drug as planned or considered: whether it ' \
        "was given cannot be read)" in _unreadable_record(text, "ms-plan")


@pytest.mark.parametrize("text, given", [("Letrozole + palbociclib; plan: fulvestrant at progression",
                                          ["letrozole", "palbociclib"]),
                                         ("Fulvestrant + palbociclib (considered abemaciclib)", ["fulvestrant", "palbociclib"])])
def test_a_drug_after_plan_with_a_colon_or_considered_is_not_read_as_given(text, given):
    # fulvestrant (a prior SERD) / abemaciclib were read as given in the line
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [given]
    assert "not read as given by this record" in _gap(s, "medication-unreadable").message


def test_another_class_refused_after_a_regimen_leaves_the_regimen_given():
    s = state(med_statement(None, "2020-02-01", status="active", text="Letrozole + palbociclib; chemotherapy declined"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole", "palbociclib"]]


SNOMED_REFUSAL = {"coding": [{"system": "http://snomed.info/sct", "code": "105480006",
                               "display": "Refusal of treatment by patient"}]}


def _with_reason(res, reason=None, note=None):
    if reason is not None:
        res["statusReason"] = [reason]
    if note is not None:
        res["note"] = [{"text": note}]
    return res


@pytest.mark.parametrize("status", ["stopped", "completed"])
@pytest.mark.parametrize("start, end", [(None, None), ("2020-02-01", None), ("2020-02-01", "2020-02-01")])
@pytest.mark.parametrize("reason, note", [({"text": "Patient refused"}, None), (SNOMED_REFUSAL, None),
                                          ({"coding": [{"system": "http://snomed.info/sct", "code": "105480006"}]}, None),
                                          (None, "Declined by patient."), ({"text": "Refused"}, None),
                                          ({"text": "Patient declined fulvestrant"}, None),
                                          ({"text": "Never started"}, None), (None, "Not started - cost"),
                                          ({"text": "Did not start"}, None),
                                          ({"text": "Not started yet, awaiting approval"}, None),
                                          ({"text": "Patient refused fulvestrant injections"}, None),
                                          (None, "Pt declined fulvestrant - prefers oral therapy")])
def test_a_refusal_as_the_reason_for_an_ended_record_with_no_time_of_use_is_no_therapy_given(status, start, end,
                                                                                           reason, note):
    # FHIR R4 statusReason, "the reason for the current status": stopped / completed because
    # the patient refused, and no time the drug was taken (no effective[x], a date alone, a
    # zero-length period): not given. It was read as a line given
    res = _with_reason(med_statement(FULVESTRANT, start, end, status=status, rid="ms-refused-reason"), reason, note)
    s = state(res)
    assert s.therapy.exposures == [] and s.therapy.metastatic_lines == []
    ignored = [g for g in s.ignored if g.code == "not-given"]
    assert [src.reference for g in ignored for src in g.sources] == ["MedicationStatement/ms-refused-reason"]
    assert ("gives a refusal (or a drug never started) as the reason for its status and no time the drug was taken"
            in ignored[0].message)


@pytest.mark.parametrize("text", ["Patient declined fulvestrant, chose letrozole",
                                  "Declined fulvestrant; started letrozole instead",
                                  "Patient refused fulvestrant, opted for letrozole",
                                  "Refused fulvestrant; letrozole started"])
def test_a_drug_refused_and_another_chosen_instead_leaves_only_the_chosen_drug_given(text):
    # local_codes.yaml drug_mentions chosen_instead: the refusal covers the drugs before the
    # choice; it was "writes a refusal and names more than one drug" (no line read)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    assert _gap(s, "medication-unreadable") is None


def test_a_status_reason_refusing_the_records_own_drug_and_choosing_another_is_no_therapy_given():
    # the words after the refusal ("chose letrozole") kept the fulvestrant record read as a line given
    res = _with_reason(med_statement(FULVESTRANT, "2020-02-01", status="stopped", rid="ms-chose"),
                       {"text": "Patient declined fulvestrant, chose letrozole"})
    s = state(res)
    assert s.therapy.metastatic_lines == []
    assert [src.reference for g in s.ignored if g.code == "not-given" for src in g.sources] == ["MedicationStatement/ms-chose"]


@pytest.mark.parametrize("text", ["Declined fulvestrant, palbociclib", "Patient declined fulvestrant, prefers letrozole"])
def test_a_refusal_before_a_list_or_a_preference_is_not_read_as_another_drug_chosen(text):
    # a list stays one refusal of every drug named; a preference does not say the drug was started
    s = state(med_statement(None, "2020-02-01", status="active", rid="ms-list", text=text))
    assert s.therapy.metastatic_lines == []
    assert _gap(s, "medication-unreadable") is not None


@pytest.mark.parametrize("make", [med_statement, med_request])
@pytest.mark.parametrize("status", ["stopped", "completed", "active"])
def test_a_refusal_written_as_the_reason_the_drug_was_ordered_is_not_read_as_a_refusal(make, status):
    # FHIR R4 MedicationRequest / MedicationStatement.reasonCode is why the drug was ordered or
    # taken, not why it was not given (that is statusReason): "Patient refused" there is a
    # misplaced note, and the record stays a line given with no refusal gap (guard)
    res = make(FULVESTRANT, "2020-02-01", status=status)
    res["reasonCode"] = [{"text": "Patient refused"}, SNOMED_REFUSAL]
    s = state(res)
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]]
    assert not [g for g in s.ignored if g.code == "not-given"]
    assert _gap(s, "medication-refusal-unclear") is None


@pytest.mark.parametrize("reason", [{"text": "Patient refused"}, SNOMED_REFUSAL])
def test_a_refusal_after_weeks_of_use_is_a_line_given_and_stopped_by_choice_not_by_progression(reason):
    # given, then refused further: the line counts; the coded refusal (no words read) made the
    # last line's stop read as a progression (a "stopped" record without a reason)
    s = state(_with_reason(med_statement(FULVESTRANT, "2020-02-01", "2020-04-15", status="stopped"), reason))
    [line] = s.therapy.metastatic_lines
    assert line.names == ["fulvestrant"] and line.progressed is False and line.stopped_without_progression


@pytest.mark.parametrize("text", ["Declined further cycles", "Patient refused chemotherapy", "Chemotherapy declined.",
                                  "Not started on time", "Insurance denied", "Patient declined, later agreed and started",
                                  "Stopped taking it, refused", "Patient declined letrozole",
                                  "Patient declined fulvestrant injections after 2 doses"])
def test_a_refusal_after_starting_or_of_another_treatment_in_the_status_reason_is_still_the_drug_given(text):
    s = state(_with_reason(med_statement(FULVESTRANT, "2020-02-01", status="stopped"), {"text": text}))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]]


def test_a_refused_order_with_only_its_order_date_is_read_as_given_and_named_as_unclear():
    # an order date is no time of use: whether the drug was taken before the refusal is not
    # written (FHIR R4 MedicationRequest.authoredOn); read as before, the question named
    res = _with_reason(med_request(FULVESTRANT, "2020-02-01", status="stopped"), {"text": "Patient refused"})
    s = state(res)
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]]
    gap = _gap(s, "medication-refusal-unclear")
    assert gap is not None and f"{res['resourceType']}/{res['id']} (fulvestrant: 'Patient refused')" in gap.message
    assert "whether the drug was started before the refusal is not written" in gap.message


def test_an_administration_not_done_is_no_dose_given():
    # FHIR R4 medication-admin-status 'not-done': "the administration was not given"
    s = state(med_admin(FULVESTRANT, "2020-02-01", status="not-done"))
    assert s.therapy.exposures == [] and s.therapy.metastatic_lines == []


def test_an_administration_on_hold_with_no_other_record_of_its_drug_is_read_as_given_and_named():
    # 'on-hold' (temporarily halted) does not say whether the dose was given: it counted as a
    # line in silence; read as before, the question named
    held = med_admin(FULVESTRANT, "2020-02-01", status="on-hold")
    s = state(held)
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]]
    gap = _gap(s, "therapy-administration-on-hold")
    assert gap is not None and f"MedicationAdministration/{held['id']} (fulvestrant, 2020-02-01)" in gap.message
    # a dose of it given before: the line is read from that one, nothing asked
    s = state(med_admin(FULVESTRANT, "2020-01-20"), med_admin(FULVESTRANT, "2020-02-17", status="on-hold"))
    assert _gap(s, "therapy-administration-on-hold") is None


def test_a_readable_medication_that_is_not_a_pathway_drug_stays_silent():
    statin = med_statement("83367", "2020-02-01", status="active", display="atorvastatin")
    named = med_request(None, "2020-02-01", text="Paracetamol 500 mg tablet")
    unresolved_named = _by_reference(med_statement(None, "2020-02-01", status="active"), "Medication/nope",
                                     display="omeprazole 20 mg capsule")
    s = state(statin, named, unresolved_named)
    assert s.therapy.exposures == []
    assert _gap(s, "medication-unreadable") is None


def test_a_relapse_with_an_unreadable_medication_record_is_not_called_endocrine_naive():
    # the unread record may be the adjuvant or metastatic endocrine therapy: sensitive
    # (endocrine-naive) would be a guess, so resistance is unknown and the gap says why
    unread = _by_reference(med_statement(None, "2016-02-01", "2020-01-01", rid="ms-unread"), "Medication/gone")
    s = state(unread)
    assert s.therapy.endocrine_resistance == "unknown" and s.therapy.endocrine_resistance_sources == []
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and [src.reference for src in gap.sources] == ["MedicationStatement/ms-unread"]
    assert state().therapy.endocrine_resistance == "sensitive"  # the same relapse with nothing unread


# --- ESR1 currency when the patient moved on from an endocrine line without coded progression
# (review D6; CR C.2 step 1 "must post-date most recent ET exposure", C.3 row 18) ---

def _de_novo_after_first_line(esr1_date, specimen="liver biopsy tissue"):
    from tests.mappings.builders import answer, variant
    return state(
        loinc_obs("85337-4", "2024-01-20", **answer(LOINC, "LA6576-8", "Positive")),
        loinc_obs("85319-2", "2024-01-20", **answer(LOINC, "LA6577-6", "Negative")),
        variant("HGNC:3467", "ESR1", present=False, date=esr1_date, specimen_display=specimen),
        med_statement(LETROZOLE, "2024-02-01", "2025-06-01"),
        med_statement(PALBOCICLIB, "2024-02-01", "2025-06-01"),
        met="2024-01-15", as_of=dt.date(2025, 7, 1),
    )


def test_an_esr1_result_from_before_an_endocrine_line_the_patient_has_moved_on_from_is_not_current():
    from cards import patient_view_cards
    s = _de_novo_after_first_line("2024-01-20")
    assert s.therapy.last_endocrine_progression is None  # no progression coded
    assert s.biomarkers.esr1_current is False
    assert "esr1-stale" in {g.code for g in s.gaps}
    assert "test-esr1" in {c.source.topic.code for c in patient_view_cards(s) if c.source.topic}


def test_an_esr1_result_taken_after_the_last_endocrine_line_ended_is_current():
    s = _de_novo_after_first_line("2025-06-10", specimen="plasma ctDNA")
    assert s.biomarkers.esr1_current is True
    assert "esr1-stale" not in {g.code for g in s.gaps}


def _esr1_detected_before_the_first_line_ended(*later):
    """ESR1 p.Asp538Gly in plasma (2020-01-20), then letrozole + palbociclib to 2021-06-01, then fulvestrant."""
    from tests.mappings.builders import variant
    return state(
        med_statement(LETROZOLE, "2020-02-01", "2021-06-01"),
        med_statement(PALBOCICLIB, "2020-02-01", "2021-06-01"),
        med_statement(FULVESTRANT, "2021-06-10", status="active"),
        variant("HGNC:3467", "ESR1", date="2020-01-20", protein="p.Asp538Gly", specimen_display="plasma"),
        *later,
    )


def test_an_esr1_detection_before_the_last_progression_with_a_current_negative_reads_as_not_detected_and_says_both():
    # C.3 row 18: the current (post-progression) result decides; the older detection is not current
    from tests.mappings.builders import variant
    s = _esr1_detected_before_the_first_line_ended(
        variant("HGNC:3467", "ESR1", date="2021-06-20", present=False, specimen_display="plasma"))
    alone = _esr1_detected_before_the_first_line_ended()
    assert (alone.biomarkers.status("ESR1"), alone.biomarkers.esr1_current) == ("detected", False)
    assert s.biomarkers.status("ESR1") == "not-detected-ctdna-only" and not s.biomarkers.actionable("ESR1")
    assert s.biomarkers.esr1_current is True
    old = next(r for r in s.biomarkers.for_gene("ESR1") if r.result == "detected")
    assert old.superseded_on == dt.date(2021, 6, 20) and old.protein_change == "p.Asp538Gly"
    gap = next(g for g in s.gaps if g.code == "esr1-not-current-detection")
    assert gap.message.startswith(
        "ESR1 p.Asp538Gly detected on 2020-01-20, before the progression on metastatic line 1 "
        "(letrozole + palbociclib) on 2021-06-01; ESR1 not detected on the current sample (2021-06-20).")
    assert {x.reference for r in s.biomarkers.for_gene("ESR1") for x in r.sources} <= {x.reference for x in gap.sources}


def test_an_undated_esr1_detection_with_a_current_negative_is_not_current_either():
    from tests.mappings.builders import variant
    s = state(
        med_statement(LETROZOLE, "2020-02-01", "2021-06-01"),
        variant("HGNC:3467", "ESR1", date=None, protein="p.Tyr537Ser", specimen_display="plasma"),
        variant("HGNC:3467", "ESR1", date="2021-06-20", present=False, specimen_display="plasma"),
    )
    assert s.biomarkers.status("ESR1") != "detected"
    gap = next(g for g in s.gaps if g.code == "esr1-not-current-detection")
    assert "ESR1 p.Tyr537Ser detected without a date" in gap.message


# --- partial dates: "2024" is any day of 2024, not the 1st of January ----------------------

def _statement_started(code: str, start: str, end: str | None = None, status: str = "active") -> dict:
    r = med_statement(code, None, status=status)
    r["effectivePeriod"] = {"start": start, **({"end": end} if end else {})}
    return r


def test_a_year_only_start_in_the_year_of_the_metastasis_leaves_the_setting_unknown_and_says_so():
    s = state(_statement_started(LETROZOLE, "2024"), _statement_started(PALBOCICLIB, "2024"),
              # a partial date wholly before the metastasis stays adjuvant
              _statement_started(TAMOXIFEN, "2016-05", "2021", status="completed"),
              met="2024-06-15", as_of=dt.date(2025, 3, 1))
    settings = {e.drugs[0].name: e.setting for e in s.therapy.exposures}
    assert settings == {"tamoxifen": "early", "letrozole": "unknown", "palbociclib": "unknown"}
    assert s.therapy.on_adjuvant_endocrine_at_recurrence is not True
    assert s.therapy.endocrine_resistance not in ("primary", "secondary")
    gap = next(g.message for g in s.gaps if g.code == "therapy-setting-unknown")
    assert "letrozole (started in 2024, no day given" in gap and "2024-06-15" in gap


def test_a_year_month_start_whose_month_straddles_the_metastatic_date_is_unknown_and_a_later_month_metastatic():
    # the metastatic setting starts 30 days before the metastatic date (2024-06-20 here)
    s = state(_statement_started(LETROZOLE, "2024-06"), _statement_started(RIBOCICLIB, "2024-08"),
              met="2024-07-20", as_of=dt.date(2025, 3, 1))
    settings = {e.drugs[0].name: e.setting for e in s.therapy.exposures}
    assert settings == {"letrozole": "unknown", "ribociclib": "metastatic"}


def test_an_adjuvant_end_given_as_a_year_only_that_straddles_the_12_month_boundary_leaves_resistance_unknown():
    # ended "2019": 1 January (12.5 months before the relapse: sensitive) to 31 December (secondary)
    s = state(_statement_started(ANASTROZOLE, "2014-02-15", "2019", status="completed"), met="2020-01-15")
    assert s.therapy.endocrine_resistance == "unknown"
    assert "without a day" in next(g.message for g in s.gaps if g.code == "adjuvant-endocrine-end-unknown")
    # a year-only end wholly more than 12 months before the relapse stays sensitive
    far = state(_statement_started(ANASTROZOLE, "2012-02-15", "2017", status="completed"), met="2020-01-15")
    assert far.therapy.endocrine_resistance == "sensitive"


# --- a metastatic date without a day ("2024") is any day of that year ----------------------

def test_a_start_inside_a_year_only_metastatic_date_is_in_an_unknown_setting_and_one_after_the_year_is_metastatic():
    s = state(med_statement(TAMOXIFEN, "2016-05-01", "2021-05-01"),
              med_statement(LETROZOLE, "2024-03-10", "2024-12-01"),
              med_statement(RIBOCICLIB, "2025-02-10", None, status="active"),
              met="2024", as_of=dt.date(2025, 6, 1))
    assert s.disease.metastatic_date == dt.date(2024, 1, 1)
    assert s.disease.metastatic_date_latest == dt.date(2024, 12, 31)
    settings = {e.drugs[0].name: e.setting for e in s.therapy.exposures}
    assert settings == {"tamoxifen": "early", "letrozole": "unknown", "ribociclib": "metastatic"}
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["ribociclib"]]
    gap = next(g.message for g in s.gaps if g.code == "therapy-setting-unknown")
    assert "letrozole (started 2024-03-10; the metastatic date is in 2024, no day given" in gap


def test_a_year_month_metastatic_date_places_a_start_before_its_month_and_one_after_it():
    s = state(med_statement(LETROZOLE, "2024-04-20", "2024-05-01"), med_statement(RIBOCICLIB, "2024-07-15"),
              met="2024-06", as_of=dt.date(2025, 3, 1))
    settings = {e.drugs[0].name: e.setting for e in s.therapy.exposures}
    # 2024-04-20 is before 2024-06-01 - 30 days: early whatever day of June; 2024-07-15 after
    assert settings == {"letrozole": "early", "ribociclib": "metastatic"}


def test_an_adjuvant_end_within_12_months_of_the_first_day_of_a_year_only_relapse_but_not_its_last_leaves_resistance_unknown():
    # ended 2023-06-15: 6.5 months before 2024-01-01 (secondary), 18.5 before 2024-12-31 (sensitive)
    s = state(med_statement(ANASTROZOLE, "2018-06-15", "2023-06-15"), met="2024", as_of=dt.date(2025, 3, 1))
    assert s.therapy.endocrine_resistance == "unknown"
    gap = next(g.message for g in s.gaps if g.code == "adjuvant-endocrine-end-unknown")
    assert gap.startswith("No day is given in the metastatic date (in 2024)")
    # a year-month relapse 10-11 months after the end: secondary on every day of the month
    month = state(med_statement(ANASTROZOLE, "2018-06-15", "2023-06-15"), met="2024-05", as_of=dt.date(2025, 3, 1))
    assert month.therapy.endocrine_resistance == "secondary"


# --- ESR1 currency against a line end without a day (C.3 row 18) ---------------------------

def test_an_esr1_negative_dated_inside_the_year_a_line_ended_without_a_day_is_not_shown_current():
    from cards import patient_view_cards
    from tests.mappings.builders import variant
    from tests.mappings.builders import answer
    line = [_statement_started(LETROZOLE, "2024-02-01", "2025", status="completed"),
            _statement_started(PALBOCICLIB, "2024-02-01", "2025", status="completed"),
            loinc_obs("85337-4", "2024-01-20", **answer(LOINC, "LA6576-8", "Positive")),
            loinc_obs("85319-2", "2024-01-20", **answer(LOINC, "LA6577-6", "Negative"))]
    s = state(variant("HGNC:3467", "ESR1", present=False, date="2025-03-10", specimen_display="plasma ctDNA"),
              *line, met="2024-01-15", as_of=dt.date(2026, 1, 20))
    assert s.therapy.metastatic_lines[0].end == dt.date(2025, 1, 1)
    assert s.biomarkers.esr1_current is False
    gap = next(g.message for g in s.gaps if g.code == "esr1-stale")
    assert "cannot be shown to follow the end of metastatic line 1 (letrozole + palbociclib) in 2025 (no day given)" in gap
    assert "test-esr1" in {c.source.topic.code for c in patient_view_cards(s) if c.source.topic}
    # a result after the whole year is current
    later = state(variant("HGNC:3467", "ESR1", present=False, date="2026-01-05", specimen_display="plasma ctDNA"),
                  *line, met="2024-01-15", as_of=dt.date(2026, 1, 20))
    assert later.biomarkers.esr1_current is True


def test_an_esr1_result_inside_a_year_only_recurrence_after_adjuvant_therapy_is_not_shown_current():
    from tests.mappings.builders import variant
    s = state(variant("HGNC:3467", "ESR1", present=False, date="2024-03-10", specimen_display="plasma ctDNA"),
              med_statement(TAMOXIFEN, "2016-05-01", "2021-05-01"), met="2024", as_of=dt.date(2025, 3, 1))
    assert s.biomarkers.esr1_current is False
    assert s.therapy.last_endocrine_progression_last == dt.date(2024, 12, 31)


# --- the same course recorded the way EHRs send it --------------------------------------


def _stopped_for(resource, reason):
    resource["statusReason"] = [{"text": reason}]
    return resource


def _worsening(date):
    return loinc_obs("97509-4", date, "Cancer disease status",
                     valueCodeableConcept=cc(coding(SNOMED, "271299001", "Patient's condition worsened")))


def _monthly_fulvestrant(first="2020-02-01", months=50):
    # loading doses on days 1 and 15, then one injection a month (each a MedicationAdministration)
    first_day = dt.date.fromisoformat(first)
    doses = [first_day, first_day + dt.timedelta(days=14)]
    doses += [dt.date(first_day.year + (first_day.month - 1 + k) // 12, (first_day.month - 1 + k) % 12 + 1, 1)
              for k in range(1, months)]
    return [med_admin(FULVESTRANT, d.isoformat()) for d in doses]


def test_an_aromatase_inhibitor_recorded_as_monthly_refills_with_a_cdk46_inhibitor_added_five_weeks_later_is_one_line():
    refills = [med_request(LETROZOLE, f"2020-{m:02d}-01", status="completed") for m in range(2, 13)]
    s = state(*refills, med_statement(PALBOCICLIB, "2020-03-10", status="active"),
              med_request(LETROZOLE, "2021-01-01", status="active"))
    th = s.therapy
    assert [ln.regimen_text for ln in th.metastatic_lines] == ["letrozole + palbociclib"]
    assert th.metastatic_lines[0].active
    assert th.endocrine_resistance == "sensitive"
    assert th.last_endocrine_progression is None


def test_fulvestrant_given_as_monthly_injections_with_palbociclib_added_five_weeks_later_is_one_line():
    s = state(*_monthly_fulvestrant(), med_statement(PALBOCICLIB, "2020-03-10", status="active"))
    th = s.therapy
    assert [ln.regimen_text for ln in th.metastatic_lines] == ["fulvestrant + palbociclib"]
    assert th.metastatic_lines[0].start == dt.date(2020, 2, 1) and th.metastatic_lines[0].active
    assert th.endocrine_resistance == "sensitive"


def test_a_cdk46_inhibitor_switch_on_monthly_fulvestrant_injections_without_progression_stays_one_line():
    s = state(*_monthly_fulvestrant(), med_statement(PALBOCICLIB, "2020-02-01", "2020-05-01", status="stopped"),
              med_statement(ABEMACICLIB, "2020-05-10", status="active"))
    th = s.therapy
    assert [ln.regimen_text for ln in th.metastatic_lines] == ["fulvestrant + palbociclib (then abemaciclib)"]
    assert th.endocrine_resistance == "sensitive"
    assert th.progression_within_6_months_on_cdk46i is False


def test_a_cdk46_inhibitor_switch_after_a_documented_disease_progression_is_a_new_line():
    # CR C.2 step 1: a new line starts after progression (mCODE disease status "worsening")
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"),
              med_statement(PALBOCICLIB, "2020-02-01", "2020-05-01", status="stopped"),
              _worsening("2020-04-28"),
              med_statement(ABEMACICLIB, "2020-05-10", status="active"))
    th = s.therapy
    assert [ln.regimen_text for ln in th.metastatic_lines] == ["letrozole + palbociclib", "letrozole + abemaciclib"]
    assert th.endocrine_resistance == "primary"
    assert th.progression_within_6_months_on_cdk46i is True


@pytest.mark.parametrize("second", [ANASTROZOLE, EXEMESTANE])
def test_an_aromatase_inhibitor_given_alone_and_switched_for_a_stated_toxicity_stays_one_line(second):
    s = state(_stopped_for(med_statement(LETROZOLE, "2020-02-01", "2020-04-15", status="stopped"), "Arthralgia"),
              med_statement(second, "2020-04-20", status="active"))
    th = s.therapy
    assert len(th.metastatic_lines) == 1 and th.metastatic_lines[0].active
    assert th.metastatic_lines[0].regimen_text.startswith("letrozole (then ")
    assert th.endocrine_resistance == "sensitive"
    assert th.last_endocrine_progression is None


def test_a_progression_recorded_the_day_a_line_starts_is_not_a_progression_on_that_line():
    # the progression that led to the line (CR C.2 step 1: the new line starts after it)
    s = state(_worsening("2020-02-01"), med_statement(LETROZOLE, "2020-02-01", "2020-05-01", status="completed"))
    th = s.therapy
    assert th.endocrine_resistance == "sensitive"
    assert th.last_endocrine_progression is None


def test_a_medication_statement_asserted_after_its_recorded_end_is_adjuvant_therapy_not_a_metastatic_line():
    # FHIR R4 dateAsserted: when the statement was made, not when the drug was started;
    # the letrozole ended 11 months before the relapse (CR C.1 ABC4: secondary resistance)
    ms = med_statement(LETROZOLE, None, "2019-02-15")
    ms["dateAsserted"] = "2020-03-01"
    th = state(ms, met="2020-01-15").therapy
    assert th.metastatic_lines == []
    assert th.exposures[0].setting == "early" and th.exposures[0].start is None
    assert th.adjuvant_endocrine_end == dt.date(2019, 2, 15)
    assert th.endocrine_resistance == "secondary"


# --- a line ended for a stated non-progression reason, then a regimen of another class ---


def _first_line_letrozole_abemaciclib(letrozole_reason, abemaciclib_reason):
    """Letrozole + abemaciclib 2020-02-01 .. 2020-05-01 (3 months), each record with its
    stated stop reason (None: none), then fulvestrant + palbociclib from 2020-05-20."""
    def stopped(code, reason):
        resource = med_statement(code, "2020-02-01", "2020-05-01", status="stopped")
        return _stopped_for(resource, reason) if reason else resource
    return (stopped(LETROZOLE, letrozole_reason), stopped(ABEMACICLIB, abemaciclib_reason),
            med_statement(FULVESTRANT, "2020-05-20", status="active"),
            med_statement(PALBOCICLIB, "2020-05-20", status="active"))


def test_a_first_line_stopped_for_diarrhoea_and_followed_by_another_class_is_a_line_given_but_no_progression():
    th = state(*_first_line_letrozole_abemaciclib("Diarrhoea", "Diarrhoea")).therapy
    assert [ln.regimen_text for ln in th.metastatic_lines] == ["letrozole + abemaciclib", "fulvestrant + palbociclib"]
    # ABC4 (CR C.1): primary resistance is progression within 6 months of first-line ET; there was none
    assert th.endocrine_resistance == "sensitive"  # relapse without adjuvant ET, no ET progression
    assert th.progression_within_6_months_on_cdk46i is None
    assert th.last_endocrine_progression is None
    assert [ln.progressed for ln in th.metastatic_lines] == [False, False]
    # ESR1 currency still follows the end of the endocrine line (CR C.3 row 18), named as an end
    ref = th.esr1_reference()
    assert ref.date == dt.date(2020, 5, 1)
    assert ref.event == "the end of metastatic line 1 (letrozole + abemaciclib)"


def test_a_first_line_stopped_without_a_stated_reason_before_another_class_still_reads_as_progression():
    th = state(*_first_line_letrozole_abemaciclib(None, None)).therapy
    assert th.endocrine_resistance == "primary"
    assert th.progression_within_6_months_on_cdk46i is True
    assert th.last_endocrine_progression == dt.date(2020, 5, 1)


@pytest.mark.parametrize("reason", ["Drug not effective", "Lack of efficacy", "No response to treatment"])
def test_a_first_line_stopped_because_it_did_not_work_reads_as_progression_not_as_a_stated_toxicity(reason):
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert th.endocrine_resistance == "primary"
    assert th.metastatic_lines[0].progressed is True


@pytest.mark.parametrize("reason", ["Treatment changed", "Per oncologist"])
def test_a_vague_stop_reason_says_nothing_and_keeps_the_regimen_change_proxy(reason):
    # only a named non-progression reason (toxicity, intolerance, choice) rebuts the proxy
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert th.endocrine_resistance == "primary"
    assert th.progression_within_6_months_on_cdk46i is True


def test_a_first_line_with_one_drug_stopped_for_toxicity_and_the_other_without_a_reason_still_reads_as_progression():
    th = state(*_first_line_letrozole_abemaciclib(None, "Neutropenia")).therapy
    assert th.endocrine_resistance == "primary"
    assert th.progression_within_6_months_on_cdk46i is True


def test_a_first_line_stopped_for_toxicity_with_a_disease_worsening_recorded_on_it_is_a_progression():
    th = state(*_first_line_letrozole_abemaciclib("Diarrhoea", "Diarrhoea"), _worsening("2020-04-20")).therapy
    assert th.endocrine_resistance == "primary"
    assert th.progression_within_6_months_on_cdk46i is True
    assert th.last_endocrine_progression == dt.date(2020, 5, 1)


def test_a_later_endocrine_progression_after_a_first_line_stopped_for_toxicity_leaves_the_adjuvant_reading_with_a_gap():
    # adjuvant anastrozole ended 11 months before the relapse: secondary (ABC4, CR C.1); the first
    # metastatic line stopped for diarrhoea at 3 months is no primary resistance, and the
    # progression on line 2 is not first-line ET: the metastatic reading is named unsettled
    s = state(med_statement(ANASTROZOLE, "2014-02-15", "2019-02-15"),
              *_first_line_letrozole_abemaciclib("Diarrhoea", "Diarrhoea")[:2],
              med_statement(FULVESTRANT, "2020-05-20", "2021-03-01", status="completed"),
              med_statement(PALBOCICLIB, "2020-05-20", "2021-03-01", status="completed"),
              med_statement(CAPECITABINE, "2021-03-10", status="active"))
    th = s.therapy
    assert th.endocrine_resistance == "secondary"
    assert "endocrine-resistance-unsettled" in [g.code for g in s.gaps]
    assert [ln.progressed for ln in th.metastatic_lines] == [False, True, False]


# --- stop reasons as EHRs write them (local_codes.yaml stop_reasons) ---------------------


@pytest.mark.parametrize("reason", [
    "Worsening diarrhoea", "Recurrent grade 3 neutropenia", "Refractory nausea", "Rash progressed to grade 3",
    "Diarrhea worsened despite loperamide", "Grade 3 neutropenia, recurrent",
    "Progression ruled out; stopped for arthralgia", "No evidence of disease progression; stopped for diarrhoea",
    "Progression-free, stopped for neutropenia",
])
def test_a_first_line_stopped_for_a_side_effect_written_with_a_progression_word_is_a_line_given_not_a_progression(reason):
    # the progression word describes the side effect, or the progression is negated: the stated
    # reason is a side effect (CR C.2 step 1: no progression, so no primary resistance, CR C.1)
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert [ln.progressed for ln in th.metastatic_lines] == [False, False]
    assert th.endocrine_resistance == "sensitive"
    assert th.progression_within_6_months_on_cdk46i is None


@pytest.mark.parametrize("reason", ["QTc prolongation", "Thrombocytopenia", "Transaminitis", "Not tolerated",
                                    "Pt preference", "Insurance denial", "Interstitial lung disease",
                                    # RECIST 1.1 stable disease at the stop: not a progression (fix-pd)
                                    "Stable disease; no toxicity"])
def test_a_first_line_stopped_for_a_named_side_effect_choice_or_cost_is_a_line_given_not_a_progression(reason):
    # label warnings of the pathway drugs (CR Part B) and other named non-progression reasons
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert [ln.progressed for ln in th.metastatic_lines] == [False, False]
    assert th.endocrine_resistance == "sensitive"


@pytest.mark.parametrize("reason", ["Not as planned: progression", "Not completed: progression",
                                    "Not as planned - PD", "No toxicity: progression on CT"])
def test_a_progression_written_after_a_negated_phrase_and_a_colon_or_dash_is_still_a_progression(reason):
    # the negation ("not as planned", "no toxicity") closes at the colon / dash: the reason
    # after it is a progression (CR C.2 step 1), not a negated one
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert th.metastatic_lines[0].progressed is True and th.endocrine_resistance == "primary"


@pytest.mark.parametrize("reason", ["Not a cost issue - progression", "Not due to insurance - progression",
                                    "Not a formulary issue - progression", "Not a cost issue but progression",
                                    "Not tolerated - progression", "Not stable \u2013 progression"])
def test_a_progression_written_after_a_negated_phrase_and_a_spaced_dash_or_but_is_still_a_progression(reason):
    # before: the negation ("not a cost issue") read across the dash / "but" as negating the
    # progression after it (disease_status refuted_patterns): a stop reason other than progression,
    # the line given but not progressed, resistance 'sensitive'. The negation closes there, as the
    # stop reasons' own not_a_progression_patterns say (CR C.2 step 1: a stop for progression)
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert th.metastatic_lines[0].progressed is True and th.endocrine_resistance == "primary"


TWO_LINES = [["letrozole", "palbociclib"], ["letrozole", "ribociclib"]]
ONE_LINE = [["letrozole", "palbociclib", "ribociclib"]]


@pytest.mark.parametrize("reason, lines", [
    ("Not a cost issue - progression", TWO_LINES), ("Not due to insurance - progression", TWO_LINES),
    ("Not because of cost; progressed", TWO_LINES),
    # a coverage reason negated and nothing else: no reason stated, the regimen change is the proxy
    ("Not due to cost", TWO_LINES), ("Not a formulary issue", TWO_LINES), ("Not for financial reasons", TWO_LINES),
    ("No cost issues", TWO_LINES), ("No financial concerns", TWO_LINES), ("No insurance coverage", ONE_LINE),
    # a coverage reason stated: a switch within the line
    ("Not covered by insurance", ONE_LINE), ("Not on formulary", ONE_LINE), ("Not affordable", ONE_LINE),
    ("Cost", ONE_LINE), ("Formulary switch", ONE_LINE),
])
def test_a_late_cdk46_switch_after_a_negated_coverage_reason_is_no_switch_within_the_line(reason, lines):
    # before: "Not a cost issue - progression", "Not due to cost": the negated coverage word read as
    # the stop reason (cost), one other than progression: one line (letrozole + palbociclib, then
    # ribociclib) where a switch after progression is a new line (CR C.2 step 1); a negated reason
    # states none (stop_reasons negated_reason_patterns, as "not for toxicity"): the regimen change
    # 8 months into the line is the proxy, as with no reason
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"),
              _stopped_for(med_statement(PALBOCICLIB, "2020-02-01", "2020-10-01", status="stopped"), reason),
              med_statement(RIBOCICLIB, "2020-10-01", status="active"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == lines


@pytest.mark.parametrize("reason", ["Nonformulary", "Drug costs too high", "Costly"])
def test_a_late_cdk46_switch_stopped_for_a_cost_written_as_one_word_or_plural_is_a_switch_within_the_line(reason):
    # before: 'nonformulary', 'costs', 'costly' matched no coverage word: no reason, the regimen change
    # read as a progression, two lines (letrozole + palbociclib; letrozole + ribociclib) where a switch for
    # cost or coverage is one (stop_reasons non_progression_patterns; CR C.2 step 1)
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"),
              _stopped_for(med_statement(PALBOCICLIB, "2020-02-01", "2020-10-01", status="stopped"), reason),
              med_statement(RIBOCICLIB, "2020-10-01", status="active"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == ONE_LINE


@pytest.mark.parametrize("reason", ["Has not been completed", "Course not completed", "Never completed",
                                    "Treatment has not yet been completed"])
def test_a_course_written_as_not_completed_states_no_reason_and_keeps_the_regimen_change_proxy(reason):
    # "not completed" names no reason (not a completion, no toxicity): like "Treatment changed",
    # the next line stays the progression evidence (CR C.2 step 1 regimen change)
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert th.endocrine_resistance == "primary"
    assert th.metastatic_lines[0].progressed is True


@pytest.mark.parametrize("reason", ["Tolerating well, no side effects", "Continue until disease progression or unacceptable toxicity",
                                    "No toxicity; plan reviewed"])
def test_a_note_naming_no_reason_keeps_the_regimen_change_proxy(reason):
    # a negated side effect or a stop rule states no reason: the next line stays the progression evidence
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert th.endocrine_resistance == "primary"
    assert th.metastatic_lines[0].progressed is True


@pytest.mark.parametrize("reason", ["Disease progression and worsening fatigue", "Progressive disease and neutropenia",
                                    "No toxicity, progression on CT", "New liver lesions"])
def test_a_stated_progression_beside_a_side_effect_is_still_a_progression(reason):
    th = state(*_first_line_letrozole_abemaciclib(reason, reason)).therapy
    assert th.metastatic_lines[0].progressed is True and th.endocrine_resistance == "primary"


@pytest.mark.parametrize("note", ["Worsening neutropenia", "Recurrent grade 3 neutropenia",
                                  "Continue until disease progression or unacceptable toxicity"])
def test_a_cdk46_inhibitor_switched_for_a_worsening_side_effect_with_letrozole_continued_stays_one_line(note):
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"),
              _with_note(med_statement(PALBOCICLIB, "2020-02-01", "2020-05-01", status="stopped"), note),
              med_statement(ABEMACICLIB, "2020-05-10", status="active"))
    th = s.therapy
    assert len(th.metastatic_lines) == 1 and th.metastatic_lines[0].active
    assert "palbociclib (then abemaciclib)" in th.metastatic_lines[0].regimen_text
    assert th.endocrine_resistance == "sensitive"
    assert th.progression_within_6_months_on_cdk46i is False


def test_a_record_that_ends_before_it_starts_is_named_in_a_gap_and_its_end_is_not_used():
    # FHIR R4 Period: the end is not before the start; which date is wrong cannot be told
    s = state(med_statement(TAMOXIFEN, "2019-03-01", "2014-03-01", rid="ms-tam"))
    gap = _gap(s, "therapy-end-before-start")
    assert gap is not None, [g.code for g in s.gaps]
    assert gap.message == ("Anticancer medication records end before they start, so their end is not used and when "
                           "the drug stopped is unknown: MedicationStatement/ms-tam (tamoxifen: end 2014-03-01, "
                           "start 2019-03-01). Confirm the dates.")
    assert [src.reference for src in gap.sources] == ["MedicationStatement/ms-tam"]
    assert s.therapy.exposures[0].end is None and s.therapy.adjuvant_endocrine_end is None
    assert s.therapy.endocrine_resistance == "unknown"


def test_a_metformin_record_that_ends_before_it_starts_is_not_named():
    s = state(med_statement("6809", "2019-03-01", "2014-03-01"))
    assert _gap(s, "therapy-end-before-start") is None


@pytest.mark.parametrize("code", ["sintol", "salg"])
def test_a_first_line_stopped_with_a_coded_intolerance_or_allergy_without_display_is_a_line_given(code):
    # FHIR R4 CodeSystem medicationrequest-status-reason: sintol "Suspected intolerance", salg "Allergy"
    reason = cc(coding("http://terminology.hl7.org/CodeSystem/medicationrequest-status-reason", code))
    records = _first_line_letrozole_abemaciclib(None, None)
    for r in records[:2]:
        r["statusReason"] = [reason]
    th = state(*records).therapy
    assert [ln.progressed for ln in th.metastatic_lines] == [False, False]
    assert th.endocrine_resistance == "sensitive"


@pytest.mark.parametrize("make", [lambda c: med_statement(c, "2020-02-01", status="on-hold"),
                                  lambda c: med_request(c, "2020-02-01", status="on-hold")],
                         ids=["MedicationStatement", "MedicationRequest"])
def test_a_metastatic_line_held_is_still_the_current_line(make):
    # FHIR R4 medication-statement-status / medicationrequest-status "on-hold": temporarily
    # halted, expected to continue later: the line has not ended
    th = state(make(LETROZOLE), make(PALBOCICLIB)).therapy
    assert len(th.metastatic_lines) == 1 and th.metastatic_lines[0].active
    assert th.metastatic_lines[0].end is None
    assert {d.name for d in th.current_drugs()} == {"letrozole", "palbociclib"}


def test_adjuvant_endocrine_therapy_held_without_an_end_still_leaves_its_end_unknown():
    s = state(med_statement(TAMOXIFEN, "2016-03-01", status="on-hold"))
    assert s.therapy.on_adjuvant_endocrine_at_recurrence is False
    assert s.therapy.endocrine_resistance == "unknown"
    assert _gap(s, "adjuvant-endocrine-end-unknown") is not None


def test_an_mcode_stu1_disease_status_coded_88040_1_worsened_is_a_progression():
    # mCODE STU1 CancerDiseaseStatus: LOINC 88040-1 'Response to cancer treatment'
    status = loinc_obs("88040-1", "2023-03-01", "Response to cancer treatment",
                       valueCodeableConcept=cc(coding(SNOMED, "271299001", "Patient's condition worsened")))
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), status)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)
    assert s.therapy.esr1_reference().event == "the disease progression recorded after endocrine therapy started"


@pytest.mark.parametrize("status", [" not-taken ", "Not-Taken ", " DRAFT"])
def test_a_medication_statement_whose_status_says_not_taken_with_spaces_is_not_therapy_given(status):
    # FHIR R4 medication-statement-status not-taken / draft: nothing was given; read through
    # fhir.status_code (" not-taken " was a letrozole line)
    s = state(med_statement(LETROZOLE, "2020-02-01", "2021-01-01", status=status))
    assert s.therapy.metastatic_lines == []


@pytest.mark.parametrize("intent", [" option ", "Proposal ", " PLAN"])
def test_a_medication_request_whose_intent_says_not_an_order_with_spaces_is_not_therapy_given(intent):
    # FHIR R4 medicationrequest-intent proposal / plan / option: not an order; read in any case
    # and without surrounding spaces, as the status beside it (fhir.status_code): " option " was
    # a fulvestrant line, the patient read as fulvestrant-pretreated
    option = med_request(FULVESTRANT, "2024-05-01", intent=intent)
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), option)
    th = s.therapy
    assert [ln.names for ln in th.metastatic_lines] == [["letrozole"]]
    assert th.prior_fulvestrant is False
    assert [(g.code, g.sources[0].reference) for g in s.ignored] == [("not-given", f"MedicationRequest/{option['id']}")]


@pytest.mark.parametrize("text", ["Palbociclib + AI (letrozole)", "Letrozole/AI + palbociclib",
                                  "Palbociclib + CDK4/6i + letrozole"])
def test_a_class_whose_drug_the_same_text_names_is_no_gap(text):
    # the class words describe a drug the text names elsewhere (letrozole is the AI): the
    # gap medication-unreadable said the text "also names an aromatase inhibitor, not which one"
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert {d.name for e in s.therapy.exposures for d in e.drugs} == {"palbociclib", "letrozole"}
    assert _gap(s, "medication-unreadable") is None


def test_a_refused_order_with_only_its_order_date_beside_weeks_of_administrations_of_its_drug_asks_nothing():
    # the administrations show the drug was given: the gap asked "whether the drug was started
    # before the refusal" beside four doses given (FHIR R4 MedicationAdministration: a dose given)
    refused = _with_reason(med_request(FULVESTRANT, "2020-02-01", status="stopped"), {"text": "Patient refused"})
    doses = [med_admin(FULVESTRANT, day) for day in ("2020-02-01", "2020-02-15", "2020-03-01", "2020-03-29")]
    s = state(refused, *doses)
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]]
    assert _gap(s, "medication-refusal-unclear") is None


@pytest.mark.parametrize("text", ["Declined - dose reduced to 100 mg", "Patient declined; dose reduced",
                                  "Refused, dose reduction", "Declined: took 2 cycles"])
def test_a_refusal_in_the_status_reason_beside_a_dose_reduction_or_cycles_taken_is_still_the_drug_given(text):
    # a dose reduced or cycles counted were taken: the record dated by a single day was read as
    # no therapy given (a refusal with no time of use)
    s = state(_with_reason(med_statement(PALBOCICLIB, "2020-02-01", status="stopped"), {"text": text}))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["palbociclib"]]


@pytest.mark.parametrize("text, given", [
    ("Palbociclib 125 mg - declined, dose reduced to 100 mg", ["palbociclib"]),
    ("Letrozole (declined, later agreed) + palbociclib", ["letrozole", "palbociclib"]),
    ("Letrozole (declined, dose reduced) + palbociclib", ["letrozole", "palbociclib"]),
    ("Letrozole (declined) + palbociclib", ["palbociclib"]),
])
def test_a_refusal_in_a_drug_text_taken_back_or_beside_a_dose_reduction_leaves_the_drug_given(text, given):
    s = state(med_statement(None, "2020-02-01", "2020-08-01", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [given]


@pytest.mark.parametrize("reason, notes", [({"text": "Patient declined"}, ["Later agreed, started 2020-02-10"]),
                                           (None, ["Patient declined.", "Agreed and started 2020-02-10"]),
                                           ({"text": "Patient refused"}, ["Given 2 doses"]),
                                           (SNOMED_REFUSAL, ["Reconsidered; fulvestrant started"])])
def test_a_refusal_taken_back_in_another_note_or_status_reason_is_still_the_drug_given(reason, notes):
    # notes are added over time: the one after the refusal says the drug was started, yet the
    # record dated by one day was read as no therapy given (only words in the refusal's own text
    # took it back)
    res = med_statement(FULVESTRANT, "2020-02-01", status="stopped")
    if reason is not None:
        res["statusReason"] = [reason]
    res["note"] = [{"text": n} for n in notes]
    s = state(res)
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]]


def test_a_refusal_beside_another_note_that_says_nothing_of_use_is_still_no_therapy_given():
    res = _with_reason(med_statement(FULVESTRANT, "2020-02-01", status="stopped"), {"text": "Not started - cost"})
    res["note"] = [{"text": "Never started"}, {"text": "Allergy to latex"}]
    assert state(res).therapy.metastatic_lines == []


@pytest.mark.parametrize("text", ["POD", "POD in the liver", "Progression, liver lesion excluded", "PD, abscess ruled out",
                                  "Progression (abscess excluded)"])
def test_a_disease_status_written_as_pod_or_beside_another_thing_excluded_is_a_progression(text):
    # "POD" is progression of disease; "liver lesion excluded" rules out that lesion, not the
    # progression (local_codes.yaml disease_status mention / refuted_patterns). Both were read
    # as no progression: the endocrine line stayed "sensitive"
    s = _on_letrozole_with_status(text)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)
    assert _status_gap(s) is None


@pytest.mark.parametrize("text", ["Not stable - progression", "No response \u2013 progressive disease",
                                  "Not responding but progressing"])
def test_a_disease_status_written_as_a_negated_phrase_then_a_spaced_dash_or_but_and_a_progression_is_a_progression(text):
    # before: the negation read across the dash / "but" as negating the progression after it
    # (disease_status refuted_patterns): no progression, the endocrine line 'sensitive'; the
    # negation closes there (rt70, as the stop reasons read it; CR C.2 step 1)
    s = _on_letrozole_with_status(text)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)
    assert _status_gap(s) is None


@pytest.mark.parametrize("text", ["Progression (has been ruled out)", "Progression (now excluded)",
                                  "Progression (definitively ruled out)", "Progression, clinically excluded", "PD (MDT: excluded)"])
def test_a_progression_ruled_out_with_how_or_when_it_was_ruled_out_is_no_progression(text):
    # was: a progression (c2aa2a9 read the words after the comma / parenthesis as another thing
    # ruled out): the endocrine line counted as progressed on a progression the record rules out
    s = _on_letrozole_with_status(text)
    assert s.therapy.last_endocrine_progression is None
    assert _status_gap(s) is None


@pytest.mark.parametrize("text", ["Increase in size of liver metastases", "Enlarging liver lesions",
                                  "Liver metastases increased in size", "Equivocal", "Non-PD criteria not met",
                                  # a growth beside a receptor, a creatinine or a response not yet assessed: "PR",
                                  # "Cr" and "response to" were read as a stated RECIST category (silently none)
                                  "Enlarging liver lesions; ER+/PR+", "Increase in size of liver metastases (Cr 1.2)",
                                  "Increase in size, PR status pending", "Enlarging lesions, response to be assessed"])
def test_a_disease_status_written_as_a_growth_without_a_recist_category_or_equivocal_is_asked(text):
    # RECIST 1.1: progressive disease is a >= 20 % increase of the target lesions' sum (or an
    # unequivocal non-target progression); a growth without it, "Equivocal" and a double
    # negation are no category: no progression counted, but no longer silently "none"
    s = _on_letrozole_with_status(text)
    assert s.therapy.last_endocrine_progression is None
    assert f"written '{text}' (2023-03-01)" in _status_gap(s)


@pytest.mark.parametrize("text", ["No POD", "No increase in size of the bone metastases", "Bone mets not enlarging",
                                  "POD 3 after mastectomy, stable disease", "POD day 3 after mastectomy, stable disease",
                                  "Stable disease; POD d2 after port insertion",
                                  # a growth beside a stated RECIST category
                                  "Stable disease (slight increase in size)", "SD, lesions slightly larger",
                                  "Partial response; one node enlarging"])
def test_a_disease_status_negating_pod_or_growth_or_stating_a_recist_category_beside_a_growth_is_no_progression(text):
    # RECIST 1.1 stable disease: neither enough shrinkage for a response nor enough increase for
    # progression; the stated category answers, the growth asks nothing
    s = _on_letrozole_with_status(text)
    assert s.therapy.last_endocrine_progression is None
    assert _status_gap(s) is None


def test_a_growth_beside_a_progression_written_per_recist_is_a_progression():
    status = loinc_obs("97509-4", "2023-03-01", valueCodeableConcept=cc(text="Increase in size of liver metastases, PD per RECIST"))
    s = state(med_statement(LETROZOLE, "2020-02-01", status="active"), status)
    assert s.therapy.last_endocrine_progression == dt.date(2023, 3, 1)


def test_a_drug_written_as_started_after_a_refused_one_is_given_not_refused():
    # "declined palbociclib, ribociclib started": the comma joined ribociclib to the refusal, so it
    # read as refused too and letrozole alone as given (chosen_separator / chosen_after name it chosen)
    s = state(med_statement(None, "2020-02-01", status="active",
                            text="Letrozole, declined palbociclib, ribociclib started"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole", "ribociclib"]]


def test_a_drug_joined_by_or_to_a_refused_one_is_a_gap_not_a_line():
    # "declined palbociclib or ribociclib": ribociclib read as given beside letrozole (a prior
    # CDK4/6 inhibitor the refusal may cover); whether it was given is not written
    s = state(med_statement(None, "2020-02-01", status="active", rid="ms-or",
                            text="Letrozole 2.5 mg; declined palbociclib or ribociclib"))
    assert not any("ribociclib" in ln.names for ln in s.therapy.metastatic_lines)
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and ('its text "Letrozole 2.5 mg; declined palbociclib or ribociclib" writes a refusal '
                                "before ribociclib: whether ribociclib was given cannot be read") in gap.message


def _ordered_from(code: str, bounds_start: str | None, authored: str = "2020-02-01", **kw) -> dict:
    res = med_request(code, authored, **kw)
    if bounds_start:
        res["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {"start": bounds_start}}}}]
    return res


@pytest.mark.parametrize("status", ["active", "on-hold"])
def test_an_order_whose_dosage_starts_after_the_as_of_date_is_no_line_yet(status):
    # FHIR R4 MedicationRequest.dosageInstruction.timing.repeat.boundsPeriod: when the drug is to
    # be taken; one starting after as_of was read as the current line (and a CDK4/6i already used)
    s = state(_ordered_from(PALBOCICLIB, "2021-02-01", status=status), as_of=dt.date(2021, 1, 1))
    assert s.therapy.metastatic_lines == [] and not s.therapy.prior_cdk46i
    assert any("is to be taken from 2021-02-01, after the as-of date 2021-01-01: not given yet" in g.message
               for g in s.ignored if g.code == "not-given")


def test_a_statement_whose_period_starts_after_the_as_of_date_is_no_line_yet():
    # MedicationStatement.effective[x]: the time the drug "is/was/will be taken"
    s = state(med_statement(FULVESTRANT, "2021-02-01", status="active"), as_of=dt.date(2021, 1, 1))
    assert s.therapy.metastatic_lines == []


def test_an_order_authored_or_dispensable_ahead_without_a_later_dosage_start_is_still_read():
    # only the dosage bounds say when the drug is taken: an order dated ahead stays as before
    res = _ordered_from(PALBOCICLIB, None, authored="2020-02-01")
    res["dispenseRequest"] = {"validityPeriod": {"start": "2021-02-01"}}
    s = state(res, as_of=dt.date(2021, 1, 1))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["palbociclib"]]


@pytest.mark.parametrize("text", ["Fulvestrant ± palbociclib", "Fulvestrant +/- palbociclib",
                                  "Fulvestrant with or without palbociclib", "Fulvestrant and/or palbociclib"])
def test_a_drug_written_as_optional_beside_the_record_drug_is_named_not_read_as_given(text):
    # a blinded arm or a choice left open: palbociclib was read as given (a CDK4/6 inhibitor
    # already used); now fulvestrant is the line and palbociclib is asked
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-opt"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]] and not s.therapy.prior_cdk46i
    assert f'MedicationStatement/ms-opt (its text "{text}" also names palbociclib, not read as given by this record' \
        in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Fulvestrant +/- investigational agent (blinded)", "Fulvestrant ± study drug"])
def test_an_optional_trial_drug_beside_the_record_drug_is_named_as_a_trial_drug(text):
    # "+/-" was no joiner: the blinded trial drug passed in silence (a line may be missing)
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-trial"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["fulvestrant"]]
    assert f'MedicationStatement/ms-trial (its text "{text}" also names a trial drug, not which one)' \
        in _gap(s, "medication-unreadable").message


# --- read-through of fix-rf4: ordinary records the new plan / stop words over-read -----------

@pytest.mark.parametrize("text", ["Letrozole - awaiting bone scan result", "Letrozole (awaiting restaging)",
                                  "Letrozole - pending review", "Palbociclib (pending cycle 4)",
                                  "Palbociclib 125 mg (deferred 1 week for neutropenia)",
                                  "Fulvestrant 500 mg IM (deferred dose)",
                                  "Palbociclib will start cycle 5 on 2024-06-10", "Palbociclib - to follow up in clinic"])
def test_a_drug_given_while_a_test_review_or_dose_is_awaited_or_deferred_is_still_a_line(text):
    # the wait / deferral is of a scan, a review, a cycle or one dose, not of the drug's start:
    # each was read as a plan (medication-unreadable, no line: the current line lost)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert len(s.therapy.metastatic_lines) == 1
    gap = _gap(s, "medication-unreadable")
    assert gap is None or "writes its drug as planned" not in gap.message


@pytest.mark.parametrize("text, given", [
    ("Tamoxifen 20 mg; if intolerant change to letrozole", ["tamoxifen"]),
    ("Letrozole, if progression then fulvestrant", ["letrozole"]),
    ("Letrozole; if progression, fulvestrant", ["letrozole"]),
    ("Letrozole - if progression consider fulvestrant", ["letrozole"]),
])
def test_a_condition_followed_by_the_next_drug_is_that_drugs_plan_and_the_record_drug_is_given(text, given):
    # the condition leads to the drug after it: the record's drug was read as a plan (no line);
    # the drug after the condition is not given (named)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [given]
    gap = _gap(s, "medication-unreadable")
    assert gap is not None and "writes its drug as planned" not in gap.message


# the stop is the second drug's ("palbociclib stopped"), or a pause ("stopped and restarted"):
# the whole record was read as stopped (therapy-stopped-in-text, the current line read as ended)
@pytest.mark.parametrize("text", ["Letrozole + palbociclib, palbociclib stopped (neutropenia)",
                                  "Letrozole (palbociclib stopped)",
                                  "Letrozole - stopped and restarted", "Letrozole - stopped for 2 weeks, resumed",
                                  "Letrozole - stopped temporarily (surgery)", "Palbociclib - stopped, restarted at 100 mg"])
def test_a_stop_of_the_second_drug_or_a_pause_on_an_active_record_does_not_end_the_current_line(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert s.therapy.metastatic_lines[0].active
    assert _gap(s, "therapy-stopped-in-text") is None


# "palbociclib stopped (neutropenia)" or "stopped for 2 weeks, resumed" says nothing of why the
# course ended: it was read as a stated non-progression stop (stopped_without_progression: no
# resistance, the next-line proxy rebutted)
@pytest.mark.parametrize("text", ["Letrozole + palbociclib, palbociclib stopped (neutropenia)",
                                  "Letrozole - stopped for 2 weeks (arthralgia), resumed"])
def test_a_second_drugs_stop_or_a_pause_written_in_an_ended_record_is_not_its_stop_reason(text):
    s = state(med_statement(None, "2020-02-01", "2021-06-01", status="completed", text=text),
              med_statement(FULVESTRANT, "2021-07-01", status="active"))
    assert s.therapy.metastatic_lines[0].progressed
    assert not s.therapy.metastatic_lines[0].stopped_without_progression


@pytest.mark.parametrize("text", ["Query letrozole adherence", "? Letrozole compliance", "Possible letrozole side effects"])
def test_a_hedge_about_the_adherence_or_side_effects_of_a_drug_given_leaves_it_a_line(text):
    # the question is the adherence / side effect, not the drug: it was read as a drug only
    # considered (no line, medication-unreadable)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["letrozole"]]
    assert _gap(s, "medication-unreadable") is None


def test_a_record_whose_end_is_before_its_later_start_is_named_not_read_as_a_drug_to_come():
    # the start after as_of and the end before it cannot both be right (FHIR R4 Period): the
    # record was dropped as "not given yet", in silence (no line, no therapy-end-before-start)
    s = state(med_statement(LETROZOLE, "2024-09-01", "2022-03-01", status="completed", rid="ms-back"))
    assert "MedicationStatement/ms-back" in _gap(s, "therapy-end-before-start").message
    assert not any(g.code == "not-given" for g in s.ignored)


@pytest.mark.parametrize("text", ["Palbociclib 125 mg; if intolerant reduce to 100 mg",
                                  "Abemaciclib 150 mg bd - if intolerant, dose reduce", "Letrozole; if progression stop"])
def test_a_condition_for_a_dose_change_or_stop_of_the_drug_given_leaves_it_a_line(text):
    # the condition says what to do with a drug taken now (reduce, stop): it was read as the
    # drug kept for the condition (a plan: no line, medication-unreadable)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert len(s.therapy.metastatic_lines) == 1
    assert _gap(s, "medication-unreadable") is None


def test_a_dose_escalation_awaiting_approval_leaves_the_drug_given_and_a_deferral_until_later_stays_asked():
    s = state(med_statement(None, "2020-02-01", status="active", text="Palbociclib 100 mg - pending approval for dose escalation"))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [["palbociclib"]]
    # "deferred until counts recover" may put off its start: whether it was given is asked
    s = state(med_statement(None, "2020-02-01", status="active", text="Palbociclib - deferred until counts recover"))
    assert s.therapy.metastatic_lines == []
    assert "writes its drug as planned or considered" in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Letrozole declined then anastrozole not started", "Declined letrozole; anastrozole not started"])
def test_a_refusal_in_the_first_clause_too_is_not_read_as_that_drug_given(text):
    # the last clause's refusal was read as its drug's alone and the first drug as given, though
    # the text writes it as declined too: a letrozole line never taken (was: medication-unreadable)
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert s.therapy.metastatic_lines == []


def _renewal(code: str, authored: str, bounds_start: str, bounds_end: str, status: str = "active") -> dict:
    res = med_request(code, authored, status=status)
    res["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {"start": bounds_start, "end": bounds_end}}}}]
    return res


def test_a_renewal_ordered_before_the_running_order_ends_and_starting_after_today_keeps_the_line_under_way():
    # the letrozole order ran to yesterday; its renewal, written while it ran, starts in two
    # weeks: the patient is on letrozole. The renewal was dropped as "not given yet" and line 1
    # read as ended (the cards said "after 1 line(s)" and offered next-line therapy)
    s = state(_renewal(LETROZOLE, "2020-02-01", "2020-02-01", "2024-05-31", status="completed"),
              _renewal(LETROZOLE, "2024-05-28", "2024-06-15", "2024-12-31"))
    assert [(ln.names, ln.active) for ln in s.therapy.metastatic_lines] == [(["letrozole"], True)]


def test_an_order_to_start_after_today_of_a_drug_given_long_before_is_still_no_line_yet():
    # adjuvant letrozole ended years before; the new order starts next month: not given yet
    s = state(med_statement(LETROZOLE, "2014-02-15", "2019-02-15"),
              _renewal(LETROZOLE, "2024-05-28", "2024-07-01", "2024-12-31"))
    assert s.therapy.metastatic_lines == []


@pytest.mark.parametrize("text", ["Fulvestrant (possible)", "Fulvestrant - likely", "Letrozole (probable)", "Fulvestrant (query)",
                                  "Fulvestrant possible", "Fulvestrant 500 mg IM possible", "Fulvestrant (TBC)",
                                  "Letrozole + palbociclib (possible)", "Anastrozole - planned?"])
def test_a_record_whose_hedge_follows_its_drug_is_a_gap_not_a_line_as_a_hedge_before_it_is(text):
    # each was read as a line given from the record's start, while "Possible fulvestrant" and
    # "Fulvestrant?" were a gap (local_codes.yaml drug_mentions planned_closing)
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-plan"))
    assert s.therapy.metastatic_lines == []
    assert f'MedicationStatement/ms-plan (its text "{text}" writes its drug as planned or considered' \
        in _gap(s, "medication-unreadable").message


@pytest.mark.parametrize("text", ["Letrozole, possible arthralgia", "Fulvestrant (query adherence)", "Letrozole - likely progression"])
def test_a_hedge_after_the_drug_of_a_finding_or_a_fact_of_it_leaves_the_drug_given(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert len(s.therapy.metastatic_lines) == 1
    gap = _gap(s, "medication-unreadable")
    assert gap is None or "writes its drug as planned" not in gap.message


@pytest.mark.parametrize("text", ["Completed 5 years of tamoxifen", "Completed letrozole", "Finished tamoxifen",
                                  "Anastrozole x5y completed", "Tamoxifen 5 years completed", "Anastrozole - course complete",
                                  "Completed adjuvant anastrozole (5 years)"])
def test_an_active_record_written_as_completed_before_its_drug_or_after_its_length_is_not_ongoing(text):
    # each was read as the drug under way, while "Tamoxifen (completed 5 years)" was past use
    # (local_codes.yaml drug_mentions completed_opening / completed_closing)
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-done"))
    assert [e.active for e in s.therapy.exposures] == [False] and s.therapy.exposures[0].end is None
    assert "MedicationStatement/ms-done" in _gap(s, "therapy-stopped-in-text").message


@pytest.mark.parametrize("text", ["Tamoxifen - done", "Tamoxifen: done", "Letrozole done"])
def test_an_active_record_written_as_done_after_its_drug_is_not_ongoing(text):
    # was read as the drug under way (the current line), while "Tamoxifen - completed" was past use
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-done"))
    assert [e.active for e in s.therapy.exposures] == [False] and s.therapy.exposures[0].end is None
    assert "MedicationStatement/ms-done" in _gap(s, "therapy-stopped-in-text").message


@pytest.mark.parametrize("text", ["Tamoxifen 2015-2020 completed", "Tamoxifen (2015 to 2020) completed",
                                  "Tamoxifen 06/2015 - 05/2020 done", "Tamoxifen completed 2015-2020"])
def test_an_active_adjuvant_record_written_with_its_years_then_completed_ended_in_the_last_year(text):
    # was read as tamoxifen still taken at the 2022 relapse (on adjuvant ET at recurrence,
    # 'secondary' resistance); the span's last year written before the completion is when it
    # ended (local_codes.yaml drug_mentions completed_closing group until; CR C.1: a relapse more
    # than 12 months after adjuvant ET ended is endocrine sensitive)
    s = state(med_statement(None, "2015-06-01", status="active", text=text, rid="ms-done"), met="2022-01-15")
    assert [e.active for e in s.therapy.exposures] == [False]
    assert s.therapy.exposures[0].end.year == 2020
    assert not s.therapy.on_adjuvant_endocrine_at_recurrence and s.therapy.endocrine_resistance == "sensitive"


@pytest.mark.parametrize("text", ["Completed 2 years of letrozole + palbociclib", "Fulvestrant, completed 1 year"])
def test_a_length_of_use_completed_of_drugs_given_until_progression_is_a_milestone_on_a_metastatic_line_only(text):
    # started after the metastatic diagnosis: CDK4/6 inhibitors, fulvestrant and AIs are given
    # until progression there (CR B.2-B.10, C.2 step 1), the record's status 'active' is read
    s = state(med_statement(None, "2020-02-01", status="active", text=text, rid="ms-on"))
    assert [e.active for e in s.therapy.exposures] == [True] and _gap(s, "therapy-stopped-in-text") is None
    # started before it (an early-breast-cancer course): a completed course, as before
    s = state(med_statement(None, "2018-02-01", status="active", text=text, rid="ms-done"))
    assert [e.active for e in s.therapy.exposures] == [False]
    assert "MedicationStatement/ms-done" in _gap(s, "therapy-stopped-in-text").message


@pytest.mark.parametrize("text,end", [("Finished letrozole 2019", "2019-01-01"), ("Completed tamoxifen 03/2019", "2019-03-01")])
def test_an_active_record_written_as_completed_before_its_drug_on_a_date_ended_then(text, end):
    s = state(med_statement(None, "2018-02-01", status="active", text=text, rid="ms-done"))
    assert [(e.active, str(e.end)) for e in s.therapy.exposures] == [(False, end)]
    assert _gap(s, "therapy-stopped-in-text") is None


@pytest.mark.parametrize("text", ["Completed cycle 3 palbociclib", "Completed loading dose fulvestrant"])
def test_an_active_record_opening_with_a_part_of_its_course_completed_stays_ongoing(text):
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [e.active for e in s.therapy.exposures] == [True]
    assert _gap(s, "therapy-stopped-in-text") is None


@pytest.mark.parametrize("status, end", [("active", None), ("completed", "2021-02-01")])
def test_a_cdk46i_stop_written_after_the_regimen_taken_now_is_a_switch_within_the_line_in_order(status, end):
    # "Letrozole + ribociclib (palbociclib stopped)" read palbociclib and ribociclib as given at
    # once ('letrozole + ribociclib (then palbociclib)', both current on the active record)
    s = state(med_statement(None, "2020-02-01", end, status=status, text="Letrozole + ribociclib (palbociclib stopped)"))
    [line] = s.therapy.metastatic_lines
    assert line.regimen_text == "palbociclib (then ribociclib) + letrozole"
    if status == "active":
        assert sorted(d.name for d in s.therapy.current_drugs()) == ["letrozole", "ribociclib"]


@pytest.mark.parametrize("text, given", [("Palbociclib if tolerated, else ribociclib", ["palbociclib"]),
                                         ("Letrozole + palbociclib, otherwise ribociclib", ["letrozole", "palbociclib"]),
                                         ("Palbociclib (if tolerated)", ["palbociclib"])])
def test_a_drug_written_as_the_alternative_to_the_record_drug_is_not_given_and_a_condition_of_tolerance_is(text, given):
    # the alternative was read as given beside it (two CDK4/6 inhibitors current, CR B.9, B.10);
    # "if tolerated" alone is a condition for going on with a drug given: given, as before
    s = state(med_statement(None, "2020-02-01", status="active", text=text))
    assert [ln.names for ln in s.therapy.metastatic_lines] == [given]
    gap = _gap(s, "medication-unreadable")
    assert ("also names ribociclib, not read as given by this record" in gap.message) if "ribociclib" in text else gap is None
