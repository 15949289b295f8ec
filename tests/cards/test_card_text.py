"""Card text and evidence: what a clinician reads (review of the card text, items
#4-#17): label wording per patient, per-drug hyperglycaemia cautions, summaries cut
at word/item boundaries, links named for what they are, open items marked UNVERIFIED."""

import datetime as dt

from cards.render import clip
from mappings.state import Diabetes, LabValue
from tests.cards import states as S
from tests.cards.helpers import card, not_offered_line, recommended, suggestion_drugs, view
from tests.cards.invariants import check_invariants


def cards_for(state):
    cards = view(state)
    check_invariants(state, cards)
    return cards


def progressed(state=None, *lines, **kw):
    return S.with_lines(state or S.base(), *(lines or (("letrozole", "ribociclib"),)), **kw)


def man(state):
    return S.factors(state, sex="male", menopausal_status="unknown", menopausal_basis="male")


def line_with(c: dict, text: str) -> str:
    return next(x for x in c["detail"].splitlines() if text in x)


# --- #4 / #5 fulvestrant label wording per patient (B.9; C.3 rows 15-16) --------------

def test_a_man_is_told_fulvestrant_is_off_label_because_every_faslodex_indication_names_women():
    cards = cards_for(man(progressed()))
    for topic in ("fulvestrant", "fulvestrant-cdk46i"):
        c = card(cards, topic)
        assert c["indicator"] == "warning"
        assert "off-label (man)" in c["summary"]
        line = line_with(c, "Off-label for a man")
        assert "does not cover this patient" in line and "Patient: Man, age 66" in line
    assert "Verzenio" in line_with(card(cards, "fulvestrant-cdk46i"), "Off-label for a man")
    # the reference names no LHRH agonist for fulvestrant in men: none is added
    assert suggestion_drugs(card(cards, "fulvestrant")) == [["fulvestrant"]]


def test_a_premenopausal_woman_is_told_fulvestrant_alone_is_off_label_and_needs_ovarian_suppression():
    state = S.factors(progressed(S.base(), ("letrozole",)), menopausal_status="premenopausal", age=44)
    c = card(cards_for(state), "fulvestrant")
    assert c["indicator"] == "warning"
    line = line_with(c, "Off-label for a pre/perimenopausal woman")
    assert '"postmenopausal women" (B.9 (i), (ii))' in line and "ovarian function suppression" in line
    assert "Premenopausal woman, no ovarian function suppression documented" in line


def test_fulvestrant_plus_ribociclib_is_off_label_for_a_premenopausal_woman_so_abemaciclib_is_recommended():
    state = S.factors(progressed(S.base(), ("letrozole",)), menopausal_status="premenopausal", age=44)
    c = card(cards_for(state), "fulvestrant-cdk46i")
    assert c["indicator"] == "warning"
    line = line_with(c, "Fulvestrant + ribociclib: Off-label for a pre/perimenopausal woman")
    assert "(B.9 (iii))" in line
    assert recommended(c)[:2] == ["fulvestrant", "abemaciclib"]  # "women" (B.9 (iv)) covers her


def _premenopausal_on_ofs_after_an_ai():
    return S.factors(progressed(S.base(), ("letrozole",)), menopausal_status="premenopausal", age=44,
                     ovarian_suppression=True, ovarian_suppression_sources=S.src("MedicationStatement/goserelin"))


def test_an_off_label_ribociclib_choice_that_is_not_recommended_does_not_raise_the_card_and_is_named_in_the_summary():
    # regression B3: fulvestrant + abemaciclib ("women", B.9 (iv)) is recommended and on-label;
    # only the non-recommended fulvestrant + ribociclib ("postmenopausal women", B.9 (iii)) is not
    c = card(cards_for(_premenopausal_on_ofs_after_an_ai()), "fulvestrant-cdk46i")
    assert recommended(c) == ["fulvestrant", "abemaciclib"]
    assert c["indicator"] == "info"
    assert c["summary"] == "Fulvestrant + CDK4/6 inhibitor: next-line endocrine-based therapy — caution: ribociclib off-label"
    assert "(B.9 (iii))" in line_with(c, "- ⚠️ Fulvestrant + ribociclib: Off-label for a pre/perimenopausal woman")


def test_a_non_recommended_choices_caution_comes_after_the_weighed_cautions_in_the_summary():
    # premenopausal without ovarian suppression: the regimen-level caution weighs (warning) and
    # comes first; ribociclib's off-label follows, named with its drug
    state = S.factors(progressed(S.base(), ("letrozole",)), menopausal_status="premenopausal", age=44)
    c = card(cards_for(state), "fulvestrant-cdk46i")
    assert c["indicator"] == "warning"
    assert c["summary"].endswith(" — caution: needs ovarian suppression, ribociclib off-label")


def test_a_non_recommended_choices_caution_is_dropped_first_when_the_summary_runs_out_of_room():
    from cards.pathway import CautionHit, assess
    from cards.render import regimen_summary
    from cards.rules import Finding
    a = assess(_premenopausal_on_ofs_after_an_ai(), "fulvestrant-cdk46i")
    for word in ("regimen caution aaaa", "regimen caution bbbb"):  # room for these, not for a third
        a.cautions.append(CautionHit("warning", word, "ref-C2", Finding(True, word), short=word))
    summary = regimen_summary(a)
    assert len(summary) < 140
    assert summary.endswith(" — caution: regimen caution aaaa, regimen caution bbbb, …")
    assert a.indicator == "warning"  # the regimen-level warnings weigh


def test_with_no_recommended_choice_every_offered_choices_caution_still_raises_the_card():
    # first line only fulvestrant + ribociclib is labelled for her; off-label and offered alone
    state = S.factors(S.base(), menopausal_status="premenopausal", age=44, ovarian_suppression=True,
                      ovarian_suppression_sources=S.src("MedicationStatement/goserelin"))
    c = card(cards_for(state), "fulvestrant-cdk46i")
    assert recommended(c) == ["fulvestrant", "ribociclib"]  # off-label but not a "do not start"
    assert c["indicator"] == "warning" and c["summary"].endswith(" — caution: off-label")


def test_a_postmenopausal_woman_gets_no_off_label_caution_on_fulvestrant():
    cards = cards_for(progressed())
    for topic in ("fulvestrant", "fulvestrant-cdk46i"):
        c = card(cards, topic)
        assert "off-label" not in c["detail"].lower() and c["indicator"] == "info"


def test_the_fulvestrant_cdk46i_card_quotes_the_faslodex_ribociclib_indication_with_postmenopausal_women():
    label = line_with(card(cards_for(S.base()), "fulvestrant-cdk46i"), "**Label")
    assert ("in postmenopausal women in combination with ribociclib, as initial endocrine based therapy or "
            "following disease progression on endocrine therapy") in label
    assert "in combination with palbociclib or abemaciclib in women with disease progression after endocrine therapy" in label


# --- #8 hyperglycaemia per drug ----------------------------------------------------

def diabetic_pik3ca():
    return S.diabetic(S.with_variants(progressed(), S.variant("PIK3CA", "p.E545K", specimen="tissue")))


def test_each_pi3k_mtor_drug_card_gives_its_own_hyperglycaemia_source_and_only_itovebi_says_not_studied():
    cards = cards_for(diabetic_pik3ca())
    capi = line_with(card(cards, "capivasertib-fulvestrant"), "Diabetes or hyperglycaemia documented")
    assert "not studied in type 1" not in capi and "HbA1c > 8.0 %" in capi and "clinical-reference.md B.5" in capi
    alp = line_with(card(cards, "alpelisib-fulvestrant"), "Diabetes or hyperglycaemia documented")
    assert "SOLAR-1 excluded type 1 and uncontrolled type 2 diabetes" in alp and "ITOVEBI" not in alp
    eve = line_with(card(cards, "everolimus-exemestane"), "Diabetes or hyperglycaemia documented")
    assert "Everolimus causes hyperglycaemia (B.8" in eve and "UNVERIFIED" in eve and "CAPItello" not in eve
    ina_state = S.diabetic(S.with_variants(S.adjuvant_relapse(S.base(), months=6), S.variant("PIK3CA", "p.H1047R")))
    ina = line_with(card(cards_for(ina_state), "inavolisib-palbociclib-fulvestrant"), "Diabetes or hyperglycaemia")
    assert "The safety of ITOVEBI in patients with Type 1 diabetes mellitus" in ina


def test_not_known_lists_only_the_missing_glucose_test_when_hba1c_is_documented():
    c = card(cards_for(diabetic_pik3ca()), "capivasertib-fulvestrant")
    assert "- Fasting glucose not documented: needed before starting" in c["detail"]
    assert "HbA1c and/or" not in c["detail"] and "HbA1c not documented" not in c["detail"]


def test_the_glycemic_testing_card_says_per_drug_what_the_reference_says_and_names_its_links():
    c = card(cards_for(diabetic_pik3ca()), "test-glycemic")
    assert "Everolimus: hyperglycaemia (B.8); no label statement on testing before starting" in c["detail"]
    assert "(labels: test before initiating)" not in c["detail"]
    assert c["source"]["label"] == "FDA label: Truqap (2023 PDF)" and "218197" in c["source"]["url"]
    labels = {link["label"]: link["url"] for link in c["links"]}
    assert "219249" in labels["FDA label: Itovebi (2024 PDF), 5.1 Hyperglycemia"]
    assert "Guideline" not in labels


# --- #9 PR is never "ER-low" ------------------------------------------------------

def test_a_low_pr_is_called_low_positive_not_er_low():
    pr = S.base().pr.model_copy(update={"percent": 10, "low_positive": True})
    summary = card(cards_for(S.base().model_copy(update={"pr": pr})), "patient-summary")
    line = line_with(summary, "- PR:")
    assert "low positive (1-10 %)" in line and "ER-low" not in line


# --- #10 summaries cut at word / list-item boundaries -------------------------------

def test_clip_never_cuts_a_word():
    text = "Olaparib: not indicated — Somatic-only BRCA variant: BRCA1 p.(Glu23ValfsTer17) detected (somatic, tissue)"
    out = clip(text, 100)
    assert len(out) <= 100 and out.endswith("…")
    assert out[:-1].rstrip() and text.startswith(out[:-1]) and text[len(out) - 1] in " ,()"


def type1(state):
    return S.factors(state, diabetes=Diabetes(status="type1", hba1c=LabValue(
        value=7.0, unit="%", date=dt.date(2026, 10, 20), sources=S.src("Observation/hba1c")),
        sources=S.src("Condition/t1dm")))


def test_a_long_regimen_summary_keeps_the_drug_and_the_stop_and_drops_whole_caution_items():
    state = type1(S.with_variants(S.adjuvant_relapse(S.base(), months=6), S.variant("PIK3CA", "p.H1047R")))
    cards = cards_for(state)
    s = card(cards, "inavolisib-palbociclib-fulvestrant")["summary"]
    assert len(s) < 140
    assert s.startswith("Inavolisib + palbociclib + fulvestrant:") and "do not start: type 1 diabetes" in s
    assert s.endswith("— caution: …")  # the caution item is dropped whole, the detail keeps it
    for c in cards:
        assert len(c["summary"]) < 140
        if c["summary"].endswith("…"):
            body = c["summary"][:-1].rstrip()
            assert body.endswith((":", ",")) or body in c["detail"] or body[-1].isalnum() or body[-1] in ")"


def test_the_glycemic_testing_card_summary_names_whole_regimens_only():
    state = S.with_variants(S.adjuvant_relapse(S.base(), months=6), S.variant("PIK3CA", "p.H1047R"))
    s = card(cards_for(state), "test-glycemic")["summary"]
    assert len(s) < 140
    names = s.split(" — before ")[1].rstrip("…").rstrip(", ").split(", ")
    assert all(n in ("Inavolisib + palbociclib + fulvestrant", "Capivasertib + fulvestrant",
                     "Alpelisib + fulvestrant") for n in names)


# --- #11 links say what they are -----------------------------------------------------

def test_the_chemotherapy_card_links_guidelines_named_as_guidelines_not_a_label():
    c = card(cards_for(S.visceral_crisis(S.base())), "chemotherapy")
    assert c["source"]["label"].startswith("Guideline: ESO-ESMO ABC4") and "PMC7360146" in c["source"]["url"]
    for link in c["links"]:
        if "9676" in link["url"]:
            assert link["label"].startswith("Guideline: ASCO 2024")
        assert not link["label"].startswith("Label:")


def test_the_ai_cdk46i_card_links_each_cdk46i_label_under_its_own_name():
    links = {link["label"]: link["url"] for link in card(cards_for(S.base()), "ai-cdk46i")["links"]}
    for brand in ("Kisqali", "Verzenio", "Ibrance"):
        assert links[f"FDA label (DailyMed search): {brand}"].endswith(f"query={brand.upper()}")


def test_testing_cards_on_the_asco_2024_page_do_not_say_asco_cap():
    state = progressed()  # PIK3CA not tested
    c = card(cards_for(state), "test-pik3ca-akt1-pten")
    assert "9676" in c["source"]["url"] and "ASCO/CAP" not in c["source"]["label"]
    assert c["source"]["label"].startswith("Guideline: ASCO 2024")


# --- #12 open items and approvals -------------------------------------------------

def test_the_ember3_combination_numbers_are_marked_unverified():
    state = S.with_variants(progressed(), S.variant("ESR1", "p.D538G"), esr1_current=True)
    line = line_with(card(cards_for(state), "imlunestrant"), "9.4 vs 5.5")
    assert "UNVERIFIED, reference F #11" in line


def test_the_tdxd_card_says_which_approval_year_is_which_label():
    state = S.her2(progressed(), "low", "1+")
    c = card(cards_for(state), "trastuzumab-deruxtecan")
    assert "FDA approval 2022 (label B, DESTINY-Breast04); 2025 (label A, DESTINY-Breast06)" in c["detail"]
    assert "**Label (approved label A 2025-01-27, DESTINY-Breast06; label B 2022-08-05, DESTINY-Breast04)**" in c["detail"]


# --- #14 germline BRCA card names every drug it decides ---------------------------------

def test_the_germline_brca_card_names_olaparib_and_talazoparib_when_both_wait_on_it():
    state = progressed(S.base(), ("letrozole", "ribociclib"), ("capecitabine",))
    cards = cards_for(state)
    assert card(cards, "test-germline-brca")["summary"].endswith("decides Olaparib, Talazoparib")
    waiting = not_offered_line(card(cards, "patient-summary")["detail"], "Olaparib")
    assert ": waiting on — " in waiting


# --- #16 endocrine sensitivity says what it rests on --------------------------------------

def test_endocrine_sensitivity_says_secondary_comes_from_the_metastatic_line_not_the_late_adjuvant_relapse():
    state = progressed(S.base(de_novo_metastatic=False), ("letrozole", "ribociclib"), early=(("letrozole",),),
                       adjuvant_endocrine_end=dt.date(2020, 1, 1), months_from_adjuvant_endocrine_end_to_metastasis=32.5,
                       endocrine_resistance="secondary")
    line = line_with(card(cards_for(state), "patient-summary"), "Endocrine sensitivity")
    assert line.startswith("- Endocrine sensitivity: secondary resistance: progression after 6 months or more of "
                           "first-line metastatic endocrine therapy (letrozole + ribociclib, 2022-01-01 to 2023-01-01)")
    assert "relapse 32.5 months after completing adjuvant ET (2020-01-01): on its own endocrine-sensitive" in line


# --- #17 T-DXd's early-progression fact has its dates and records ---------------------------

def test_the_tdxd_early_progression_caution_cites_the_cdk46i_line_dates_and_records():
    state = S.her2(progressed(progression_within_6_months_on_cdk46i=True, cdk46i_months=4.0), "low", "1+")
    line = line_with(card(cards_for(state), "trastuzumab-deruxtecan"), "Patient: Progression within 6 months")
    assert "line 1: letrozole + ribociclib from 2022-01-01 to 2023-01-01, 4.0 months on the CDK4/6 inhibitor" in line
    assert "MedicationStatement/line1 (2022-01-01)" in line


def test_the_summary_says_an_esr1_result_tested_before_any_endocrine_therapy_is_current_without_a_reference_event():
    state = S.with_variants(S.base(), S.variant("ESR1", result="not-detected", date=dt.date(2026, 10, 1)), esr1_current=True)
    lines = [x for x in card(cards_for(state), "patient-summary")["detail"].splitlines() if "ESR1 result current" in x]
    assert lines == ["- ESR1 result current: yes (no endocrine progression or line end documented before it)"]


def test_the_summary_says_what_a_stale_esr1_result_must_follow_with_the_source_of_that_date():
    state = S.with_variants(S.with_lines(S.base(), ("letrozole", "palbociclib")),
                            S.variant("ESR1", result="not-detected", date=dt.date(2021, 6, 1)), esr1_current=False)
    line = next(x for x in card(cards_for(state), "patient-summary")["detail"].splitlines() if "ESR1 result current" in x)
    assert line.startswith("- ESR1 result current (it must follow the end of metastatic line 1 (letrozole + palbociclib) on ")
    assert "): no — MedicationStatement/" in line


# --- the summary's (neo)adjuvant therapy: courses, not one line per refill ------------

def _adjuvant_summary_lines(*resources) -> list[str]:
    from mappings import build_patient_state
    from tests.mappings.builders import PID, metastatic_patient

    state = build_patient_state(metastatic_patient("2020-01-15", *resources), PID, dt.date(2024, 6, 1))
    summary = card(cards_for(state), "patient-summary")
    return [x for x in summary["detail"].splitlines() if x.startswith("- (Neo)adjuvant:")]


def test_the_summary_shows_an_adjuvant_course_and_the_refills_dated_within_it_as_one_line():
    from tests.mappings.builders import LETROZOLE, med_request, med_statement

    refills = [med_request(LETROZOLE, day, status="completed") for day in ("2014-03-20", "2016-07-01", "2018-11-30")]
    lines = _adjuvant_summary_lines(med_statement(LETROZOLE, "2014-02-15", "2019-02-15"), *refills)
    assert len(lines) == 1
    assert "letrozole, 2014-02-15 to 2019-02-15 (4 records: the course and 3 dated within it)" in lines[0]
    assert all(f"MedicationRequest/{r['id']}" in lines[0] for r in refills)


def test_a_refill_dated_after_the_recorded_end_keeps_a_summary_line_of_its_own():
    from tests.mappings.builders import LETROZOLE, med_request, med_statement

    statement = med_statement(LETROZOLE, "2014-02-15", "2019-02-15")
    late = med_request(LETROZOLE, "2019-06-01", status="completed")
    lines = _adjuvant_summary_lines(statement, late)
    assert lines == [
        f"- (Neo)adjuvant: letrozole, 2014-02-15 to 2019-02-15 — MedicationStatement/{statement['id']} (2014-02-15)",
        f"- (Neo)adjuvant: letrozole, 2019-06-01 to date unknown — MedicationRequest/{late['id']} (2019-06-01)",
    ]


def test_adjuvant_infusions_are_one_series_line_with_their_count_not_a_continuous_course():
    from tests.mappings.builders import ZOLEDRONIC, med_admin

    infusions = [med_admin(ZOLEDRONIC, day) for day in ("2016-01-10", "2016-07-12", "2017-01-09")]
    lines = _adjuvant_summary_lines(*infusions)
    assert len(lines) == 1
    assert "zoledronic acid, 3 administrations from 2016-01-10 to 2017-01-09" in lines[0]


def test_the_summary_names_the_current_regimen_without_the_patients_metformin_or_bone_agent():
    from mappings import build_patient_state
    from tests.mappings.builders import FULVESTRANT, PID, ZOLEDRONIC, med_statement, metastatic_patient

    metformin = "6809"  # mappings/drugs.yaml: antihyperglycemic
    state = build_patient_state(metastatic_patient(
        "2020-01-15",
        med_statement(FULVESTRANT, "2020-02-01", status="active"),
        med_statement(metformin, "2018-10-02", status="active"),
        med_statement(ZOLEDRONIC, "2020-02-01", status="active"),
    ), PID, dt.date(2024, 6, 1))
    summary = card(cards_for(state), "patient-summary")
    assert line_with(summary, "- Currently on") == (
        "- Currently on fulvestrant (metastatic line 1): the options below apply at progression.")


def test_a_regimen_waiting_on_one_fact_through_two_label_routes_names_it_once():
    # after chemotherapy and an endocrine line both T-DXd label routes are open, and
    # both wait on the HER2 IHC score
    state = S.her2(progressed(S.base(), ("paclitaxel",), ("letrozole",)), "negative-unspecified")
    summary = card(cards_for(state), "patient-summary")
    waiting = line_with(summary, "- Trastuzumab deruxtecan: waiting on")
    reason = waiting.split("waiting on — ", 1)[1]
    assert reason and reason.split("; ") == list(dict.fromkeys(reason.split("; ")))
    assert "HER2 negative without an IHC score" in reason


def test_a_de_novo_patient_after_metastatic_endocrine_lines_is_not_said_to_have_had_no_endocrine_therapy():
    state = progressed(S.base(), ("letrozole",))
    assert state.therapy.endocrine_resistance == "de-novo"
    summary = card(cards_for(state), "patient-summary")
    line = line_with(summary, "- Endocrine sensitivity:")
    assert "de novo metastatic (no endocrine therapy before the metastatic diagnosis)" in line
    assert "no prior endocrine therapy" not in summary["detail"]


def test_drugs_on_record_say_their_dates_are_first_and_last_records_not_a_continuous_course():
    from mappings import build_patient_state
    from tests.mappings.builders import LETROZOLE, PALBOCICLIB, PID, med_statement, metastatic_patient

    state = build_patient_state(metastatic_patient(
        "2020-01-15",
        med_statement(LETROZOLE, "2014-02-15", "2019-02-15"),  # adjuvant
        med_statement(LETROZOLE, "2020-02-01", "2021-03-01"),  # metastatic line 1, after a gap
        med_statement(PALBOCICLIB, "2020-02-01", "2021-03-01"),
    ), PID, dt.date(2024, 6, 1))
    summary = card(cards_for(state), "patient-summary")
    assert "letrozole (2014-02-15 to 2021-03-01)" in line_with(summary, "- Drugs on record (first to last record): ")
