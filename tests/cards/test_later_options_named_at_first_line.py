"""An option the patient's markers make relevant does not vanish without a word (np1).

At first line the pathway offers endocrine-based therapy (CR C.2 step 2); the PARP inhibitors
(C.2 step 3) and T-DXd label B (C.2 step 4) come later. A germline BRCA2 carrier or a HER2-low
patient relapsing within 6 months of adjuvant chemotherapy is told, on the summary's "Not
offered now" list, why they are not offered yet and what their labels say (B.6, B.7, B.11).
And a bilateral oophorectomy is named as surgery, not as an ongoing suppression (CR A.3).
"""

from cards.engine import order_cards
from cards.knowledge import DRUGS
from tests.cards.helpers import card, not_offered_line, regimen_topics
from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, _draft, adjuvant_relapse, after_ai_cdk46i, de_novo, run


def _summary(cards) -> str:
    return card(cards, "patient-summary")["detail"]


def _gbrca2_relapse_on_adjuvant_ai(pid: str):
    """Relapse on adjuvant letrozole (first line, endocrine-resistant), germline BRCA2 pathogenic."""
    return adjuvant_relapse(pid, None).variant("BRCA2", "p.Glu1000Ter", origin="germline", specimen="blood",
                                               on="2024-01-20")


def test_a_germline_brca2_carrier_at_first_line_is_told_the_parp_inhibitors_come_after_endocrine_therapy():
    state, cards = run(_gbrca2_relapse_on_adjuvant_ai("np1-gbrca-1l"), FIRST_LINE_AS_OF)
    assert not {"talazoparib", "olaparib"} & set(regimen_topics(cards))  # C.2 decides the order
    summary = _summary(cards)
    tala = not_offered_line(summary, "Talazoparib")
    assert "Not offered at first line: PARP inhibitors come after endocrine-based therapy (CR C.2 step 3)" in tala
    assert "the Talzenna label sets no prior-therapy condition (B.7)" in tala
    assert "BRCA2 p.Glu1000Ter detected (germline, blood, pathogenic" in tala
    ola = not_offered_line(summary, "Olaparib")
    assert "the Lynparza label also needs prior chemotherapy (neoadjuvant, adjuvant or metastatic)" in ola
    assert ola.endswith("label not met yet: No prior chemotherapy (any setting) documented")


def test_a_germline_brca2_carrier_given_adjuvant_chemotherapy_hears_olaparibs_label_conditions_are_met():
    p = _gbrca2_relapse_on_adjuvant_ai("np1-gbrca-1l-chemo").med("paclitaxel", "2016-04-01", "2016-05-30")
    _, cards = run(p, FIRST_LINE_AS_OF)
    ola = not_offered_line(_summary(cards), "Olaparib")
    assert "C.2 step 3" in ola and "label not met yet" not in ola


def test_a_de_novo_germline_brca1_carrier_hears_olaparibs_endocrine_alternatives_as_alternatives():
    # B.6: "prior endocrine therapy or be considered inappropriate for endocrine therapy" (the
    # regimen's two label routes): both unmet, named as routes, not as two requirements
    p = de_novo("np1-gbrca1-denovo").variant("BRCA1", "p.Gln1756ProfsTer74", origin="germline", specimen="blood",
                                             on="2024-01-20")
    _, cards = run(p, FIRST_LINE_AS_OF)
    ola = not_offered_line(_summary(cards), "Olaparib")
    assert ola.endswith("label not met yet: No prior chemotherapy (any setting) documented; no label route met "
                        "(No prior endocrine therapy (any setting) documented; No visceral crisis asserted)")


def test_a_first_line_patient_without_a_germline_brca_variant_hears_nothing_of_parp_inhibitors():
    _, cards = run(adjuvant_relapse("np1-no-brca-1l", None), FIRST_LINE_AS_OF)
    assert "Talazoparib" not in _summary(cards) and "Olaparib" not in _summary(cards)


def test_after_progression_a_germline_brca2_carrier_still_gets_the_talazoparib_card_not_a_not_offered_line():
    p = after_ai_cdk46i("np1-gbrca-2l").variant("BRCA2", "p.Glu1000Ter", origin="germline", specimen="blood")
    _, cards = run(p)
    assert "talazoparib" in regimen_topics(cards)
    assert "Not offered at first line" not in _summary(cards)


def _her2_low_relapse_after_adjuvant_chemo(pid: str):
    """HER2 IHC 2+/ISH-, adjuvant paclitaxel ending 2023-09-01, relapse 2024-01-15 (4.5 months)."""
    return (adjuvant_relapse(pid, "2023-12-01", her2="2+").her2_ish(False, "2024-01-25")
            .med("paclitaxel", "2023-06-01", "2023-09-01"))


def test_a_her2_low_relapse_within_6_months_of_adjuvant_chemotherapy_is_told_why_t_dxd_is_not_offered_at_first_line():
    _, cards = run(_her2_low_relapse_after_adjuvant_chemo("np1-tdxd-1l"), FIRST_LINE_AS_OF)
    assert "trastuzumab-deruxtecan" not in regimen_topics(cards)
    line = not_offered_line(_summary(cards), "Trastuzumab deruxtecan")
    assert ("Not offered at first line: Enhertu label B (DESTINY-Breast04) is met, but the pathway places T-DXd "
            "after endocrine-based therapy (CR C.2 step 4, later lines") in line
    assert "Recurrence during or within 6 months of completing adjuvant chemotherapy" in line


def test_the_order_hooks_agree_that_label_b_is_met_when_t_dxd_is_drafted_at_first_line():
    # the order hooks judge the label alone (order_rules.yaml placement_not_label): no
    # not-indicated warning, as patient-view says the label is met and only the pathway holds it
    # back (ord7: an info card says that placement)
    state = _her2_low_relapse_after_adjuvant_chemo("np1-tdxd-1l-order").state(FIRST_LINE_AS_OF)
    d = DRUGS["trastuzumab deruxtecan"]
    got = [c.to_json() for c in order_cards(state, [_draft("trastuzumab deruxtecan", d.drug_class, d.rxnorm)],
                                            None, "order-sign")]
    assert not [c for c in got if c["source"]["topic"]["code"] == "order-not-indicated" and c["indicator"] != "info"]


def test_a_her2_low_first_line_patient_without_adjuvant_chemotherapy_hears_nothing_of_t_dxd():
    _, cards = run(adjuvant_relapse("np1-her2low-1l", "2023-12-01"), FIRST_LINE_AS_OF)
    assert "Trastuzumab deruxtecan" not in _summary(cards)


def _with_procedure(p, code: str, display: str):
    p.add({"resourceType": "Procedure", "id": "np1-proc", "status": "completed",
           "subject": {"reference": f"Patient/{p.pid}"},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
           "performedDateTime": "2019-06-20"})
    return p


def test_a_bilateral_oophorectomy_is_named_as_surgery_on_the_summary_not_as_an_ongoing_suppression():
    p = _with_procedure(adjuvant_relapse("np1-bso", "2021-12-31", birth="1980-05-01", menopause=None),
                        "29827000", "Bilateral oophorectomy")
    _, cards = run(p, FIRST_LINE_AS_OF)
    summary = _summary(cards)
    assert "Ovarian function suppression ongoing" not in summary
    assert ("- Bilateral oophorectomy: postmenopausal by surgery (CR A.3), no ovarian suppression to keep going "
            "— Procedure/np1-proc (2019-06-20)") in summary


def test_a_woman_on_goserelin_is_still_told_her_ovarian_function_suppression_is_ongoing():
    p = adjuvant_relapse("np1-gos", "2021-12-31", birth="1980-05-01", menopause="premenopausal")
    p.med("goserelin", "2024-01-25")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert "- Ovarian function suppression ongoing — MedicationStatement/" in _summary(cards)


def test_an_ovarian_ablation_by_radiotherapy_is_named_as_permanent_suppression_not_as_ongoing():
    p = adjuvant_relapse("np1-ovrt", "2021-12-31", birth="1980-05-01", menopause="premenopausal")
    p.add({"resourceType": "Procedure", "id": "np1-ovrt-proc", "status": "completed",
           "subject": {"reference": "Patient/np1-ovrt"}, "code": {"text": "Ovarian irradiation"},
           "performedDateTime": "2023-11-02"})
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert ("- Ovarian ablation by radiotherapy: permanent ovarian function suppression (CR C.1 ABC4) "
            "— Procedure/np1-ovrt-proc (2023-11-02)") in _summary(cards)


def test_a_her2_low_relapse_whose_adjuvant_chemotherapy_ended_in_a_month_without_a_day_hears_t_dxd_named_with_its_label_not_established():
    # adjuvant paclitaxel ended "2023-07" (no day), relapse 2024-01-15: 5.5 to 6.5 months, on either
    # side of label B's 6 months (B.11). Before: patient-view said nothing of T-DXd while a drafted
    # T-DXd got "label requirement not confirmed"; now both name the same open fact (ord7)
    p = (adjuvant_relapse("ord7-tdxd-month", "2023-12-01", her2="2+").her2_ish(False, "2024-01-25")
         .med("paclitaxel", "2023-02-01", "2023-07"))
    state, cards = run(p, FIRST_LINE_AS_OF)
    line = not_offered_line(_summary(cards), "Trastuzumab deruxtecan")
    assert ("Trastuzumab deruxtecan: Not offered at first line: the pathway places T-DXd after endocrine-based "
            "therapy (CR C.2 step 4") in line
    assert "Enhertu label B (DESTINY-Breast04) may apply — HER2 low, IHC 2+, ISH not amplified (2024-01-25)" in line
    open_fact = ("label not established: Recurrence within 6 months of completing adjuvant chemotherapy cannot be "
                 "confirmed: a date without a day (year or month only) decides it")
    assert open_fact in line and "is met" not in line
    d = DRUGS["trastuzumab deruxtecan"]
    [order] = [c.to_json() for c in order_cards(state, [_draft("trastuzumab deruxtecan", d.drug_class, d.rxnorm)],
                                                None, "order-sign")]
    assert order["indicator"] == "warning"
    assert order["summary"].startswith("Trastuzumab deruxtecan: label requirement not confirmed — Recurrence within 6 "
                                       "months of completing adjuvant chemotherapy cannot be")
    assert open_fact.split(": ", 1)[1] in order["detail"]


def test_a_first_line_patient_with_her2_unknown_hears_nothing_of_t_dxd_though_her_adjuvant_chemotherapy_end_is_undecided():
    # only the relapse timing may be undecided (named_before_its_phase `undecided`); HER2-low must hold
    p = adjuvant_relapse("ord7-tdxd-her2-0", "2023-12-01", her2="0").med("paclitaxel", "2023-02-01", "2023-07")
    _, cards = run(p, FIRST_LINE_AS_OF)
    assert "Trastuzumab deruxtecan" not in _summary(cards)


def test_a_premenopausal_status_recorded_after_a_bilateral_oophorectomy_is_not_contradicted_by_postmenopausal_by_surgery():
    # rt67: CR A.3 ranks a recorded menopausal status above the oophorectomy: the summary said
    # "menopausal status premenopausal (recorded)" and, two lines on, "Bilateral oophorectomy:
    # postmenopausal by surgery"; now the oophorectomy line names the conflict for the clinician
    p = _with_procedure(adjuvant_relapse("rt67-bso-premeno", "2021-12-31", birth="1980-05-01", menopause="premenopausal"),
                        "29827000", "Bilateral oophorectomy")
    _, cards = run(p, FIRST_LINE_AS_OF)
    summary = _summary(cards)
    assert "menopausal status premenopausal (recorded)" in summary
    assert "postmenopausal by surgery" not in summary
    assert ("- Bilateral oophorectomy documented, yet the menopausal status recorded is premenopausal: confirm which "
            "holds (CR A.3 ranks a recorded status first); no ovarian suppression to keep going "
            "— Procedure/np1-proc (2019-06-20)") in summary


def test_a_germline_brca2_carrier_given_adjuvant_olaparib_is_not_told_parp_inhibitors_come_later_at_first_line():
    # rt67: after progression the pathway excludes both PARP inhibitors ("Prior PARP inhibitor.",
    # regimens.yaml excluded_if) and a drafted talazoparib gets "not indicated"; at first line the
    # summary said they "come after endocrine-based therapy" and a drafted talazoparib got the
    # info card "label met; the pathway places PARP inhibitors after endocrine-based therapy"
    p = (_gbrca2_relapse_on_adjuvant_ai("rt67-adj-olaparib").med("paclitaxel", "2016-04-01", "2016-05-30")
         .med("olaparib", "2016-07-01", "2017-07-01"))
    state, cards = run(p, FIRST_LINE_AS_OF)
    assert "PARP inhibitors come after endocrine-based therapy" not in _summary(cards)
    d = DRUGS["talazoparib"]
    got = [c.to_json() for c in order_cards(state, [_draft("talazoparib", d.drug_class, d.rxnorm)], None, "order-sign")]
    assert not [c for c in got if "the pathway places PARP inhibitors" in c["summary"]]


def test_a_germline_brca2_carrier_given_adjuvant_olaparib_who_is_drafted_a_parp_inhibitor_at_first_line_is_told_it_is_not_indicated():
    # ord9: the exclusion "Prior PARP inhibitor." (regimens.yaml excluded_if; CR B.6 / B.7) does not
    # depend on the line: after progression the draft got "not indicated — Prior PARP inhibitor", at
    # first line no card at all (rt67 rightly stopped the "held for later" info card)
    p = (_gbrca2_relapse_on_adjuvant_ai("ord9-adj-olaparib").med("paclitaxel", "2016-04-01", "2016-05-30")
         .med("olaparib", "2016-07-01", "2017-07-01"))
    state, _ = run(p, FIRST_LINE_AS_OF)
    for drug, name in (("talazoparib", "Talazoparib"), ("olaparib", "Olaparib")):
        d = DRUGS[drug]
        [order] = [c.to_json() for c in order_cards(state, [_draft(drug, d.drug_class, d.rxnorm)], None, "order-sign")]
        assert order["indicator"] == "warning"
        assert order["summary"] == f"{name}: not indicated — Prior PARP inhibitor. (Prior PARP inhibitor: olaparib)"
        assert "- Prior PARP inhibitor. (Prior PARP inhibitor: olaparib) — MedicationStatement/" in order["detail"]


def test_trastuzumab_deruxtecan_drafted_at_first_line_after_an_earlier_course_with_ild_on_it_names_both_exclusions():
    # ord9: the card named only the phase's label routes; the exclusions ILD on T-DXd and prior
    # T-DXd (regimens.yaml excluded_if, CR B.11) hold at every line
    p = (adjuvant_relapse("ord9-tdxd-again", None, her2="1+").med("paclitaxel", "2016-04-01", "2016-05-30")
         .med("trastuzumab deruxtecan", "2017-01-01", "2017-06-01").ild("2017-05-01"))
    state, _ = run(p, FIRST_LINE_AS_OF)
    d = DRUGS["trastuzumab deruxtecan"]
    [order] = [c.to_json() for c in order_cards(state, [_draft("trastuzumab deruxtecan", d.drug_class, d.rxnorm)],
                                                None, "order-sign")]
    assert order["indicator"] == "warning" and "not indicated" in order["summary"]
    assert "- ILD/pneumonitis began on trastuzumab deruxtecan (Enhertu label, B.11" in order["detail"]
    assert ("- Already treated with trastuzumab deruxtecan. (Prior trastuzumab deruxtecan: trastuzumab deruxtecan)"
            in order["detail"])


def test_trastuzumab_deruxtecan_drafted_at_first_line_after_a_symptomatic_ild_on_it_gets_the_do_not_start_card():
    # ord9 check (held on the old code too): the critical caution symptomatic-ild-adc is not tied to the line
    p = (adjuvant_relapse("ord9-tdxd-ild", None, her2="1+").med("paclitaxel", "2016-04-01", "2016-05-30")
         .med("trastuzumab deruxtecan", "2017-01-01", "2017-06-01").ild("2017-05-01", "Drug-induced pneumonitis, grade 2"))
    state, _ = run(p, FIRST_LINE_AS_OF)
    d = DRUGS["trastuzumab deruxtecan"]
    [order] = [c.to_json() for c in order_cards(state, [_draft("trastuzumab deruxtecan", d.drug_class, d.rxnorm)],
                                                None, "order-sign")]
    assert order["indicator"] == "critical"
    assert order["summary"] == "Trastuzumab deruxtecan: after symptomatic ILD (2017-05-01) — do not start"


def test_a_man_on_leuprolide_is_told_his_lhrh_agonist_is_ongoing_not_an_ovarian_function_suppression():
    # rt67: the summary said "Ovarian function suppression ongoing" for a man, while his regimen
    # cards say "Man on a documented LHRH agonist" (C.2 step 2: men, AI + CDK4/6i with an LHRH agonist)
    p = adjuvant_relapse("rt67-man-lhrh", "2021-12-31", gender="male").med("leuprolide", "2024-01-25")
    _, cards = run(p, FIRST_LINE_AS_OF)
    summary = _summary(cards)
    assert "Ovarian function suppression" not in summary
    assert "- LHRH agonist ongoing (C.2 step 2) — MedicationStatement/" in summary
