"""Patient-view and the order hooks say the same thing (code review r3, r6).

r3: a drafted regimen that fits gets, as an order-contraindicated warning, every warning
caution patient-view shows for it that no other order card reports (off-label use in a
man or a premenopausal woman: regimens.yaml extra_cautions / choice_cautions).
r6: documented ER-negative and PR-negative disease: the drugs whose every breast cancer
label names HR-positive or ER-positive disease are not indicated (order_rules.yaml
hr_negative_not_indicated), as the ER-negative / PR-positive case already was.
"""

from __future__ import annotations

import pytest

from mappings.state import LabValue, ReceptorStatus

from cards.engine import patient_view_cards

from tests.orders.helpers import by_topic, deleted, topics
from tests.orders.states import adjuvant_relapse, after_first_line, ago, base_state, draft, src
from tests.orders.test_order_rules import run


def premenopausal_on_ofs():
    s = after_first_line(base_state())
    s.factors.menopausal_status, s.factors.age = "premenopausal", 44
    s.factors.ovarian_suppression = True
    s.factors.ovarian_suppression_sources = [src("MedicationStatement/gos", 200)]
    return s


def man():
    s = after_first_line(base_state())
    s.factors.sex, s.factors.menopausal_status, s.factors.menopausal_basis = "male", "unknown", "male"
    return s


def patient_view_detail(state, topic: str) -> str:
    return next(c.detail for c in patient_view_cards(state) if c.source.topic.code == topic)


# --- r3: off-label cautions --------------------------------------------------------

def test_a_premenopausal_woman_on_ovarian_suppression_drafting_fulvestrant_ribociclib_hears_ribociclib_is_off_label():
    state = premenopausal_on_ofs()
    cards = run(state, [draft("f", "fulvestrant"), draft("r", "ribociclib")])
    card = by_topic(cards, "order-contraindicated")
    assert topics(cards) == ["order-contraindicated"]
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Ribociclib: off-label") and card["summary"].endswith("— caution")
    text = ('Off-label for a pre/perimenopausal woman: the Faslodex indication with ribociclib names '
            '"postmenopausal women" (B.9 (iii))')
    assert text in card["detail"] and "clinical-reference.md B.9" in card["detail"]
    # the same words as patient-view's fulvestrant + CDK4/6 inhibitor card
    assert text in patient_view_detail(state, "fulvestrant-cdk46i")
    assert "- MedicationRequest/r (ribociclib)" in card["detail"]
    assert not card.get("suggestions")  # a caution, nothing pre-selected


def test_a_premenopausal_woman_on_ovarian_suppression_drafting_fulvestrant_abemaciclib_gets_no_off_label_card():
    assert run(premenopausal_on_ofs(), [draft("f", "fulvestrant"), draft("a", "abemaciclib")]) == []


def test_order_select_of_fulvestrant_next_to_a_drafted_ribociclib_does_not_speak_about_ribociclib():
    drafts = [draft("f", "fulvestrant"), draft("r", "ribociclib")]
    assert run(premenopausal_on_ofs(), drafts, ["MedicationRequest/f"], "order-select") == []


def test_a_postmenopausal_woman_drafting_fulvestrant_ribociclib_gets_no_off_label_card():
    cards = run(after_first_line(base_state()), [draft("f", "fulvestrant"), draft("r", "ribociclib")])
    assert not any("off-label" in c["summary"] or "off-label" in c["detail"].lower() for c in cards)
    assert cards == []


@pytest.mark.parametrize("drafts, summary, topic", [
    (("fulvestrant", "abemaciclib"), "Fulvestrant: off-label (man) — caution", "fulvestrant-cdk46i"),
    (("fulvestrant",), "Fulvestrant: off-label (man) — caution", "fulvestrant"),
])
def test_a_man_drafting_fulvestrant_hears_the_faslodex_label_does_not_cover_him(drafts, summary, topic):
    state = man()
    cards = run(state, [draft(n[0], n) for n in drafts])
    assert [(c["indicator"], c["source"]["topic"]["code"], c["summary"]) for c in cards] == [
        ("warning", "order-contraindicated", summary)]
    line = next(x for x in cards[0]["detail"].splitlines() if x.startswith("**Label / trial**"))
    text = line.removeprefix("**Label / trial**: ").rsplit(" (clinical-reference.md", 1)[0]
    assert text.startswith("Off-label for a man: the Faslodex")
    assert text in patient_view_detail(state, topic)


@pytest.mark.parametrize("cdk", ["ribociclib", "abemaciclib"])
def test_order_select_of_the_cdk46_inhibitor_next_to_a_drafted_fulvestrant_for_a_man_does_not_speak_about_fulvestrant(cdk):
    # the off-label note is about fulvestrant (Faslodex names women); the CDK4/6 inhibitors'
    # fulvestrant indications name no sex (final regression check, b1)
    drafts = [draft("f", "fulvestrant"), draft("c", cdk)]
    assert run(man(), drafts, ["MedicationRequest/c"], "order-select") == []
    cards = run(man(), drafts, ["MedicationRequest/f"], "order-select")
    assert [c["summary"] for c in cards] == ["Fulvestrant: off-label (man) — caution"]


def test_a_caution_another_order_card_reports_is_not_repeated():
    # QTc >= 450 ms is an order_rules.yaml safety entry; missing ovarian suppression has its
    # own order-incomplete-regimen card: neither comes twice
    state = after_first_line(base_state())
    state.factors.qtc_ms = LabValue(value=470, date=ago(5), sources=[src("Observation/ecg", 5)])
    state.factors.menopausal_status, state.factors.age = "premenopausal", 44
    cards = run(state, [draft("f", "fulvestrant"), draft("r", "ribociclib")])
    summaries = [c["summary"] for c in cards]
    assert sum("QTc" in x for x in summaries) == 1, summaries
    assert sum("ovarian suppression" in x for x in summaries) == 1, summaries
    assert sum("off-label" in x for x in summaries) == 1, summaries  # ribociclib's, once


# --- r6: documented ER-negative and PR-negative disease ----------------------------

def hr_negative(state, er="negative", pr="negative"):
    state.er = ReceptorStatus(status=er, percent=0 if er == "negative" else None, date=ago(300),
                              sources=[src("Observation/er-neg", 300)] if er != "unknown" else [])
    state.pr = ReceptorStatus(status=pr, percent=0 if pr == "negative" else None, date=ago(300),
                              sources=[src("Observation/pr-neg", 300)] if pr != "unknown" else [])
    return state


@pytest.mark.parametrize("drafts, named, quote", [
    (("elacestrant",), "Elacestrant", "- elacestrant: \"ER-positive, HER2-negative, ESR1-mutated advanced or "
                                      "metastatic breast cancer\" (clinical-reference.md B.2"),
    (("alpelisib", "fulvestrant"), "Alpelisib + fulvestrant",
     "- alpelisib: \"hormone receptor (HR)-positive, human epidermal growth factor receptor 2 (HER2)-negative, "
     "PIK3CA-mutated, advanced or metastatic breast cancer\" (clinical-reference.md B.4"),
    (("letrozole", "ribociclib"), "Ribociclib",
     "- ribociclib: \"adult patients with HR+, HER2− advanced or metastatic breast cancer in combination with an "
     "aromatase inhibitor as initial endocrine-based therapy\" (clinical-reference.md B.10"),
])
def test_an_order_in_documented_er_and_pr_negative_disease_is_not_indicated_with_the_label_quote(drafts, named, quote):
    state = hr_negative(after_first_line(base_state()))
    cards = run(state, [draft(n[:3], n) for n in drafts])
    assert topics(cards) == ["order-not-indicated"]
    card = cards[0]
    assert card["indicator"] == "warning"
    assert card["summary"] == f"{named}: not indicated — ER-negative and PR-negative disease documented ({ago(300)})"
    assert quote in card["detail"]
    assert f"- ER negative (0%) on {ago(300)} — Observation/er-neg" in card["detail"]
    assert f"- PR negative (0%) on {ago(300)} — Observation/pr-neg" in card["detail"]
    # the removal is pre-selected, for the drafts of the named drugs only (not letrozole)
    hr_drugs = [n for n in drafts if n != "letrozole"]
    assert card["suggestions"][0]["isRecommended"] is True
    assert sorted(deleted(card["suggestions"][0])) == sorted(f"MedicationRequest/{n[:3]}" for n in hr_drugs)


def test_sacituzumab_govitecan_in_documented_er_and_pr_negative_disease_stays_silent():
    # Trodelvy has triple-negative indications (not in this service's scope): no "not indicated"
    assert run(hr_negative(after_first_line(base_state())), [draft("s", "sacituzumab govitecan")]) == []


@pytest.mark.parametrize("er, pr", [("unknown", "unknown"), ("negative", "unknown"), ("unknown", "negative")])
def test_an_order_with_receptors_not_documented_negative_stays_silent(er, pr):
    state = hr_negative(after_first_line(base_state()), er, pr)
    assert run(state, [draft("e", "elacestrant")]) == []
    assert run(state, [draft("a", "alpelisib"), draft("f", "fulvestrant")]) == []


# --- every drafted regimen choice against what patient-view says of it ----------------

def _patients():
    """The demo patients through the mappings, and the order-matrix situations."""
    import json

    from mappings.build import build_patient_state
    from tests.cards.test_demo_patients import DEMO_DIR, INDEX
    from tests.orders.test_order_matrix import situations

    out = {}
    for entry in INDEX:
        bundle = json.loads((DEMO_DIR / entry["file"]).read_text())
        out[entry["patient"]] = build_patient_state([e["resource"] for e in bundle["entry"]], entry["patient"])
    out.update(situations())
    # label requirements the record cannot decide (patient-view: "waiting on"), not a biomarker
    unknown_menopause = after_first_line(base_state())
    f = unknown_menopause.factors
    f.menopausal_status, f.menopausal_basis, f.menopausal_sources = "unknown", None, []
    out["menopausal-status-unknown"] = unknown_menopause
    timing = adjuvant_relapse(base_state(), months_after_end=6)
    timing.therapy.months_from_adjuvant_endocrine_end_to_metastasis = None
    timing.therapy.endocrine_resistance = "unknown"
    out["relapse-timing-unknown"] = timing
    return out


def _waiting_on_more_than_a_biomarker(state, a) -> bool:
    """patient-view lists the regimen as "waiting on" a fact that is not a biomarker result
    (the order-biomarker-missing card asks for those)."""
    from cards.orders import KNOWLEDGE
    from cards.rules import Context, evaluate_rule

    if a.status != "unknown":
        return False
    ctx = Context.of(state)
    refs = list(a.regimen.requires) + [r for route in a.regimen.routes for r in route.rules]
    biomarker = [evaluate_rule(r.rule, state, ctx, **r.kwargs) for r in refs if r.rule in KNOWLEDGE.biomarkers]
    return any(f not in biomarker for f in a.unknown)


def _choice_requirement_open(state, reg, names) -> bool:
    """patient-view offers the choice, but a requirement of it the pathway counts as met rests on
    a fact the record leaves open (order_rules.yaml choice_requirements_open: fulvestrant +
    palbociclib after an adjuvant relapse whose timing cannot be told, or while a first line with
    no recorded progression runs, B.9 (iv))."""
    from cards.orders import KNOWLEDGE
    from cards.rules import Context, evaluate_rule

    if state.therapy.endocrine_resistance in ("primary", "secondary"):
        return False
    ctx = Context.of(state)
    for ref in (r for n in names for r in reg.choice_requires.get(n, ())):
        entries = KNOWLEDGE.choice_open.get(ref.rule)
        if not entries or not evaluate_rule(ref.rule, state, ctx, **ref.kwargs).value:
            continue
        for open_when, unless, *_ in entries:
            if evaluate_rule(open_when, state, ctx).value is None and not (
                    unless and evaluate_rule(unless.rule, state, ctx, **unless.kwargs).value):
                return True
    return False


def _drafted_choice_cards(state, names, selected: int | None = None):
    """order-sign with the choice drafted, or order-select with its drug at `selected` picked."""
    from cards.orders import order_check_cards

    drafts = [draft(f"d{i}", n) for i, n in enumerate(names)]
    if selected is None:
        return order_check_cards(state.model_copy(deep=True), drafts, None, "order-sign")
    return order_check_cards(state.model_copy(deep=True), drafts, [f"MedicationRequest/d{selected}"], "order-select")


def test_a_drafted_regimen_that_patient_view_does_not_offer_or_warns_about_is_never_signed_in_silence():
    # The order hooks judge a draft by the same assessments patient-view shows. A regimen
    # choice drafted as it stands gets a warning or critical card whenever patient-view
    # does not offer it (not-fit, or the choice excluded) or offers it under a warning or
    # stop, and never an order-not-indicated card when patient-view offers it. A choice
    # patient-view lists as "waiting on" a fact that is not a biomarker result (relapse
    # timing, menopausal status ...) gets a warning too ("label requirement not confirmed").
    # The same
    # holds at order-select when a key drug of the choice is picked (picking only the
    # endocrine backbone beside a partner says nothing: order_select_backbone_classes).
    # The exceptions: order_rules.yaml placement_not_label `requirements_not_label`
    # (chemotherapy sequencing is guideline advice, not a label), and a renewal of the
    # current line (renewals are not re-checked). A choice patient-view offers whose own
    # requirement rests on a fact the record leaves open (relapse timing after adjuvant
    # therapy for fulvestrant + palbociclib / abemaciclib: order_rules.yaml
    # choice_requirements_open) gets "label requirement not confirmed", never "not indicated".
    from cards.knowledge import DRUGS, REGIMENS
    from cards.orders import KNOWLEDGE
    from cards.pathway import evaluate

    silent, contradicted = [], []
    for name, state in _patients().items():
        active = {d.name for e in state.therapy.exposures if e.active for d in e.drugs}
        assessed = {a.topic: a for a in evaluate(state.model_copy(deep=True))}
        for reg in REGIMENS:
            a = assessed.get(reg.topic)
            if reg.informational_only or a is None or not a.choices:
                continue  # outside the pathway or its phase: nothing to compare (no choices assessed)
            guideline_only = (KNOWLEDGE.placement_not_label.get(reg.topic) or {}).get("requirements_not_label")
            for names in reg.choices:
                if not all(DRUGS[n].rxnorm for n in names) or set(names) <= active:
                    continue
                choice = next(c for c in a.choices if c.names == tuple(names))
                offered = a.status == "fits" and not choice.excluded
                warned = offered and any(h.severity != "info" or h.never_recommended
                                         for h in a.cautions + choice.cautions)
                open_choice = offered and _choice_requirement_open(state, reg, names)
                waiting = not guideline_only and (_waiting_on_more_than_a_biomarker(state, a) or open_choice)
                picks = [None] + [i for i, n in enumerate(names)
                                  if len(names) == 1 or DRUGS[n].drug_class not in KNOWLEDGE.backbone_classes]
                for pick in picks:
                    cards = _drafted_choice_cards(state, names, pick)
                    loud = [c for c in cards if c.indicator != "info"]
                    if ((a.status == "not-fit" and not guideline_only) or choice.excluded or warned
                            or waiting) and not loud:
                        silent.append((name, names, pick, [f.text for f in a.reasons_not] or choice.excluded))
                    if offered and any(c.source.topic.code == "order-not-indicated" and not (
                            open_choice and "label requirement not confirmed" in c.summary) for c in cards):
                        contradicted.append((name, names, pick))
    assert silent == [] and contradicted == []


# --- relapse timing after adjuvant endocrine therapy the record cannot tell ------------------------

def _timing_unclear_cards(*names: str, ended: str = "2023-01", selected: str | None = None):
    """Adjuvant letrozole ended in January 2023 (no day given), metastatic relapse 2024-01-15: 11.5
    to 12.5 months, on either side of the 12-month line (mappings gap adjuvant-endocrine-end-unknown)."""
    from cards.engine import order_cards
    from cards.knowledge import DRUGS
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, _draft, adjuvant_relapse as fhir_relapse

    state = fhir_relapse(f"p-timing-{ended}", ended).state(FIRST_LINE_AS_OF)
    drafts = [_draft(n, DRUGS[n].drug_class, DRUGS[n].rxnorm) for n in names]
    hook, sel = ("order-select", [f"MedicationRequest/mr-{selected}"]) if selected else ("order-sign", None)
    return state, [c.to_json() for c in order_cards(state, drafts, sel, hook)]


@pytest.mark.parametrize("cdk, selected", [("palbociclib", None), ("abemaciclib", None),
                                           ("palbociclib", "palbociclib")])
def test_fulvestrant_with_palbociclib_or_abemaciclib_after_a_relapse_whose_timing_cannot_be_told_is_not_confirmed(
        cdk, selected):
    # B.9 (iv): labelled only "in women with disease progression after endocrine therapy"; a relapse
    # on or within 12 months of adjuvant ET meets it (ABC4, C.1), a later one does not. Before: silent
    state, cards = _timing_unclear_cards("fulvestrant", cdk, selected=selected)
    assert state.therapy.endocrine_resistance == "unknown"
    [card] = cards
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert card["summary"] == (f"Fulvestrant + {cdk}: label requirement not confirmed — Relapse timing unclear: "
                               "\"progression after endocrine therapy\" not confirmed…")
    # what patient-view says: the mapping's gap, and the open relapse-within-12-months fact
    gap = next(g for g in state.gaps if g.code == "adjuvant-endocrine-end-unknown")
    assert f"- {gap.message}" in card["detail"]
    assert gap.message in patient_view_detail(state, "patient-summary")
    assert "Adjuvant endocrine therapy documented but its end date relative to recurrence is unknown" in card["detail"]
    # the choice whose label needs no progression is offered, not pre-selected
    assert [(s["label"], s.get("isRecommended")) for s in card["suggestions"]] == [
        ("Replace with Fulvestrant + ribociclib", None)]


def test_patient_view_offers_fulvestrant_with_palbociclib_or_abemaciclib_naming_the_open_timing_the_order_card_names():
    # CR B.9 (iv), C.1: patient-view offered both with no word of the open relapse timing while the
    # order hooks said "label requirement not confirmed" for either drafted (rt35)
    state, cards = _timing_unclear_cards("fulvestrant", "palbociclib")
    open_fact = cards[0]["detail"].split("**Not decided by the record**\n- ", 1)[1].split(" cannot be told")[0]
    assert open_fact.startswith("Relapse timing unclear: \"progression after endocrine therapy\" not confirmed")
    [card] = [c.to_json() for c in patient_view_cards(state) if c.source.topic.code == "fulvestrant-cdk46i"]
    assert card["indicator"] == "info"  # the recommended fulvestrant + ribociclib is labelled either way
    assert f"- Fulvestrant + abemaciclib, Fulvestrant + palbociclib: {open_fact} cannot be told (" in card["detail"]
    assert [(s["label"], s.get("isRecommended")) for s in card["suggestions"]] == [
        ("Order Fulvestrant + ribociclib", True), ("Order Fulvestrant + abemaciclib", None),
        ("Order Fulvestrant + palbociclib", None)]
    # said once: the order hooks give no second (order-contraindicated) card for the same fact
    assert [c["source"]["topic"]["code"] for c in cards] == ["order-not-indicated"]


def test_naming_the_open_timing_does_not_reorder_the_choices_a_premenopausal_woman_gets_abemaciclib_first():
    # ribociclib + fulvestrant is off-label for her for certain (B.9 (iii)), abemaciclib's label may well be met
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, adjuvant_relapse as fhir_relapse

    state = fhir_relapse("p-timing-premenopausal", "2023-01").menopause("premenopausal").state(FIRST_LINE_AS_OF)
    [card] = [c.to_json() for c in patient_view_cards(state) if c.source.topic.code == "fulvestrant-cdk46i"]
    assert "progression after endocrine therapy\" not confirmed" in card["detail"]
    assert card["suggestions"][0]["label"].startswith("Order Fulvestrant + abemaciclib")
    assert card["suggestions"][0].get("isRecommended")


def test_patient_view_says_nothing_of_the_relapse_timing_when_the_record_decides_it():
    state, _ = _timing_unclear_cards("fulvestrant", "palbociclib", ended="2023-01-20")
    assert "progression after endocrine therapy\" not confirmed" not in patient_view_detail(state, "fulvestrant-cdk46i")


@pytest.mark.parametrize("names, ended", [
    (("fulvestrant", "ribociclib"), "2023-01"),      # "initial endocrine based therapy" too (B.9 (iii))
    (("fulvestrant", "palbociclib"), "2023-01-20"),  # 11.9 months: endocrine-resistant, label met
])
def test_fulvestrant_with_a_cdk46_inhibitor_whose_label_the_record_decides_stays_silent(names, ended):
    assert _timing_unclear_cards(*names, ended=ended)[1] == []


# --- fulvestrant + palbociclib / abemaciclib drafted while a first line runs, no progression recorded ----

def _running_first_line_cards(*names: str, patient=None):
    """De novo MBC on letrozole + palbociclib since 2024-02-01 (ongoing), asked 2024-09-01; `names` drafted."""
    import datetime as dt

    from cards.engine import order_cards
    from cards.knowledge import DRUGS
    from tests.cards.test_fhir_scenarios import _draft, de_novo

    if patient is None:
        patient = de_novo("p-running-first-line").regimen(("letrozole", "palbociclib"), "2024-02-01")
    state = patient.state(dt.date(2024, 9, 1))
    drafts = [_draft(n, DRUGS[n].drug_class, DRUGS[n].rxnorm) for n in names]
    return state, [c.to_json() for c in order_cards(state, drafts, None, "order-sign")]


@pytest.mark.parametrize("cdk", ["palbociclib", "abemaciclib"])
def test_fulvestrant_with_palbociclib_or_abemaciclib_drafted_on_a_running_first_line_without_progression_is_not_confirmed(
        cdk):
    # B.9 (iv): labelled only "in women with disease progression after endocrine therapy"; the running
    # letrozole + palbociclib (B.10, initial endocrine-based therapy) shows none. Patient-view offers the
    # regimen only "at progression". Before: only the active-drug card, nothing about the label
    state, cards = _running_first_line_cards("fulvestrant", cdk)
    [card] = [c for c in cards if "label requirement not confirmed" in c["summary"]]
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert card["summary"].startswith(f"Fulvestrant + {cdk}: label requirement not confirmed — "
                                      "No progression on endocrine therapy documented: the running first line")
    assert ("- No progression on endocrine therapy documented: the running first line (letrozole + palbociclib) "
            "has no recorded progression") in card["detail"]
    assert all(not s.get("isRecommended") for s in card["suggestions"])  # nothing pre-selected
    # patient-view: the regimen is a next-line option, at the running line's progression
    assert "the options below apply at progression" in patient_view_detail(state, "patient-summary")
    assert "fulvestrant-cdk46i" in [c.source.topic.code for c in patient_view_cards(state)]


def _progressed_on_line_1():
    from tests.cards.test_fhir_scenarios import de_novo

    return de_novo("p-running-line-progressed").regimen(("letrozole", "palbociclib"), "2024-02-01").progression("2024-08-15")


def _line_2_after_progression():
    from tests.cards.test_fhir_scenarios import de_novo

    return (de_novo("p-line-2").regimen(("letrozole", "palbociclib"), "2024-02-01", "2024-06-20")
            .progression("2024-06-15").regimen(("exemestane",), "2024-07-01"))


@pytest.mark.parametrize("names, patient", [
    (("fulvestrant", "ribociclib"), None),                    # "initial endocrine based therapy" too (B.9 (iii))
    (("fulvestrant", "palbociclib"), _progressed_on_line_1),  # progression recorded on the running line
    (("fulvestrant", "abemaciclib"), _line_2_after_progression),  # progression on an earlier endocrine line
])
def test_fulvestrant_with_a_cdk46_inhibitor_on_a_running_line_says_nothing_of_progression_when_its_label_is_met(
        names, patient):
    _, cards = _running_first_line_cards(*names, patient=patient() if patient else None)
    assert not [c for c in cards if "label requirement not confirmed" in c["summary"]]


def test_fulvestrant_with_palbociclib_drafted_in_de_novo_disease_with_no_running_line_keeps_todays_reading():
    from tests.cards.test_fhir_scenarios import de_novo

    _, cards = _running_first_line_cards("fulvestrant", "palbociclib", patient=de_novo("p-de-novo-no-line"))
    assert [c["summary"] for c in cards] == [
        "Fulvestrant + palbociclib: not indicated — No prior endocrine therapy (any setting) documented"]


# --- the draft's own words stating the progression (MedicationRequest note / reasonCode / statusReason) ----

def _running_first_line_fhir_cards(words: dict, *names: str, patient=None):
    """As _running_first_line_cards, the drafts read from FHIR MedicationRequests (mappings
    read_draft_orders), the first one carrying `words` (its note / reasonCode / statusReason)."""
    import datetime as dt

    from cards.engine import order_cards
    from cards.knowledge import DRUGS
    from mappings import read_draft_orders
    from tests.cards.test_fhir_scenarios import de_novo
    from tests.orders.fhir import RXNORM, cc

    pid = "p-running-first-line"
    if patient is None:
        patient = de_novo(pid).regimen(("letrozole", "palbociclib"), "2024-02-01")
    entries = [{"resource": {"resourceType": "MedicationRequest", "id": f"mr-{n}", "status": "draft", "intent": "order",
                             "subject": {"reference": f"Patient/{pid}"},
                             "medicationCodeableConcept": cc(RXNORM, DRUGS[n].rxnorm, n), **(words if i == 0 else {})}}
               for i, n in enumerate(names)]
    drafts = read_draft_orders({"resourceType": "Bundle", "entry": entries}, pid)
    state = patient.state(dt.date(2024, 9, 1))
    return [c.to_json() for c in order_cards(state, drafts, None, "order-sign")]


@pytest.mark.parametrize("words, quoted", [
    ({"note": [{"text": "Switching for progression on letrozole"}]}, "note: 'Switching for progression on letrozole'"),
    ({"reasonCode": [{"text": "Disease progression"}]}, "reasonCode: 'Disease progression'"),
    ({"statusReason": {"text": "progressive disease on CT 2024-08"}}, "statusReason: 'progressive disease on CT 2024-08'"),
    # FHIR R4 MedicationRequest.reasonReference, read by its display (before: not read, the warning stayed)
    ({"reasonReference": [{"reference": "Condition/pd-2024-08", "display": "Disease progression"}]},
     "reasonReference: 'Disease progression'"),
])
def test_fulvestrant_with_palbociclib_drafted_with_its_own_words_stating_progression_gets_an_info_card_asking_to_record_it(
        words, quoted):
    # B.9 (iv) "disease progression after endocrine therapy": the record holds none on the running
    # letrozole + palbociclib, the ordering clinician states it on the draft. Before: the warning
    # "label requirement not confirmed — No progression on endocrine therapy documented", the
    # clinician's words unread. Now their statement is the evidence, and the card asks to record it
    # (CancerDiseaseStatus, CR C.2 step 1)
    cards = _running_first_line_fhir_cards(words, "fulvestrant", "palbociclib")
    assert not [c for c in cards if "label requirement not confirmed" in c["summary"]]
    [card] = [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert card["indicator"] == "info" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert card["summary"] == ("Fulvestrant + palbociclib: progression stated on the draft, not in the record: "
                               + quoted.split(": ", 1)[1])
    assert f"- {quoted} (MedicationRequest/mr-fulvestrant)" in card["detail"]
    assert "**Not in the record**\n- No progression on endocrine therapy documented: the running first line" in card["detail"]
    assert "mCODE CancerDiseaseStatus 'worsening'" in card["detail"] and "CR C.2 step 1" in card["detail"]
    # the letrozole still active is still said (the draft's words do not stop it)
    assert any(c["summary"].startswith("Fulvestrant drafted while letrozole is active") for c in cards)


@pytest.mark.parametrize("text", [
    "To start at progression", "Continue until progression", "Suspected progression", "No progression on CT",
    "Reserve for progression",
])
def test_a_draft_planning_for_progression_or_doubting_it_keeps_the_label_requirement_not_confirmed_warning(text):
    cards = _running_first_line_fhir_cards({"note": [{"text": text}]}, "fulvestrant", "palbociclib")
    [card] = [c for c in cards if "label requirement not confirmed" in c["summary"]]
    assert card["indicator"] == "warning"
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]


def test_a_stated_progression_does_not_answer_a_relapse_timing_the_record_cannot_tell():
    # the relapse-timing entry (adjuvant end unknown) is not answered by a stated progression: it
    # does not date the relapse against the adjuvant end (C.1)
    from tests.cards.test_fhir_scenarios import adjuvant_relapse

    patient = adjuvant_relapse("p-running-first-line", None)
    cards = _running_first_line_fhir_cards({"note": [{"text": "progression on letrozole"}]},
                                           "fulvestrant", "palbociclib", patient=patient)
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]


def test_a_first_line_regimen_drafted_for_a_progression_stated_on_the_draft_names_that_statement_on_its_not_indicated_card():
    # letrozole + ribociclib drafted on the running letrozole + palbociclib "for progression": no longer
    # initial endocrine-based therapy (B.10), as the card says; the clinician's statement is named and the
    # ask to record it made (CR C.2 step 1). Before: the draft's words unread. The warning stays
    note = {"note": [{"text": "Switching for progression on letrozole"}]}
    [card] = [c for c in _running_first_line_fhir_cards(note, "letrozole", "ribociclib")
              if c["summary"].startswith("Letrozole + ribociclib: not indicated")]
    assert card["indicator"] == "warning"
    assert ("**Progression stated on the draft (the ordering clinician's words), not in the record**\n"
            "- note: 'Switching for progression on letrozole' (MedicationRequest/mr-letrozole)") in card["detail"]
    [unsaid] = [c for c in _running_first_line_fhir_cards({}, "letrozole", "ribociclib")
                if c["summary"].startswith("Letrozole + ribociclib: not indicated")]
    assert "Progression stated on the draft" not in unsaid["detail"]


@pytest.mark.parametrize("text", [
    # a symptom or another condition worse, not the cancer (the disease-status reading: CR C.2 step 1,
    # progression evidence is the cancer's status)
    "Progression of bone pain", "Worsening renal function", "Worsening performance status", "Recurrent UTI",
    "Resistant hypertension", "No response to antiemetics",
    # a resistance mutation is no progression (CR C.2 gap row 4: no switch on ESR1 emergence without
    # radiographic progression)
    "ESR1 resistance mutation on ctDNA",
    # a progression awaited or looked for, not stated
    "Await progression", "Before progression", "Restaging for progression",
])
def test_a_draft_whose_words_state_no_progression_of_the_cancer_keeps_the_label_requirement_not_confirmed_warning(text):
    # before: read with the stop-reason words alone, any "worse" / "progress" / "recurrent" /
    # "resistant" / "no response" turned the warning into "progression stated on the draft"
    cards = _running_first_line_fhir_cards({"note": [{"text": text}]}, "fulvestrant", "palbociclib")
    [card] = [c for c in cards if "label requirement not confirmed" in c["summary"]]
    assert card["indicator"] == "warning"
    assert not [c for c in cards if "progression stated on the draft" in c["summary"]]


@pytest.mark.parametrize("text", ["PD on CT", "Progressive disease", "Progressed", "New liver lesions on CT",
                                  "Progression in liver on letrozole"])
def test_a_draft_stating_the_cancers_progression_in_other_words_gets_the_info_card(text):
    cards = _running_first_line_fhir_cards({"note": [{"text": text}]}, "fulvestrant", "palbociclib")
    [card] = [c for c in cards if "progression stated on the draft" in c["summary"]]
    assert card["indicator"] == "info" and card["summary"].endswith(f"'{text}'")


# --- a regimen patient-view names as held for later (ord7) ----------------------------------------
# patient-view names, under "Not offered now", options the markers make relevant but the pathway
# holds for a later step (regimens.yaml named_before_its_phase: the PARP inhibitors for a germline
# BRCA carrier at first line, CR C.2 step 3; T-DXd label B at first line, C.2 step 4). Their labels
# are judged alone at ordering (order_rules.yaml placement_not_label); before, a drafted one whose
# label is met got no card at all while patient-view said "Not offered at first line".

def _first_line_fhir(patient, *names: str, selected: str | None = None):
    from cards.engine import order_cards
    from cards.knowledge import DRUGS
    from tests.cards.helpers import card, view
    from tests.cards.test_fhir_scenarios import FIRST_LINE_AS_OF, _draft

    state = patient.state(FIRST_LINE_AS_OF)
    summary = card(view(state), "patient-summary")["detail"]
    drafts = [_draft(n, DRUGS[n].drug_class, DRUGS[n].rxnorm) for n in names]
    hook, sel = ("order-select", [f"MedicationRequest/mr-{selected}"]) if selected else ("order-sign", None)
    return summary, [c.to_json() for c in order_cards(state, drafts, sel, hook)]


def _gbrca2_first_line(pid: str):
    from tests.cards.test_fhir_scenarios import adjuvant_relapse as fhir_relapse

    return fhir_relapse(pid, None).variant("BRCA2", "p.Glu1000Ter", origin="germline", specimen="blood",
                                           on="2024-01-20")


def _her2_low_relapse_after_adjuvant_chemo(pid: str, chemo_end: str = "2023-09-01"):
    from tests.cards.test_fhir_scenarios import adjuvant_relapse as fhir_relapse

    return (fhir_relapse(pid, "2023-12-01", her2="2+").her2_ish(False, "2024-01-25")
            .med("paclitaxel", "2023-06-01", chemo_end))


@pytest.mark.parametrize("selected", [None, "talazoparib"])
def test_talazoparib_drafted_at_first_line_for_a_germline_brca2_carrier_gets_an_info_card_with_patient_views_reason(
        selected):
    from tests.cards.helpers import not_offered_line

    summary, cards = _first_line_fhir(_gbrca2_first_line("ord7-tala"), "talazoparib", selected=selected)
    [card] = cards
    assert card["indicator"] == "info" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert card["summary"] == ("Talazoparib: label met; the pathway places PARP inhibitors after endocrine-based "
                               "therapy (CR C.2 step 3)")
    assert not card.get("suggestions") and not card.get("overrideReasons")
    # the very reason patient-view's summary gives, word for word
    reason = not_offered_line(summary, "Talazoparib").split(": ", 1)[1]
    assert f"**Pathway placement (as patient-view says it)**\n- {reason}" in card["detail"]
    assert "**Label requirements met**" in card["detail"] and "BRCA2 p.Glu1000Ter detected" in card["detail"]


def test_olaparib_drafted_at_first_line_after_adjuvant_chemotherapy_hears_its_label_is_met_and_the_pathway_holds_it():
    patient = _gbrca2_first_line("ord7-ola").med("paclitaxel", "2016-04-01", "2016-05-30")
    _, cards = _first_line_fhir(patient, "olaparib")
    [card] = cards
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Olaparib: label met; the pathway places PARP inhibitors")
    assert "the Lynparza label also needs prior chemotherapy" in card["detail"]


def test_olaparib_drafted_at_first_line_without_prior_chemotherapy_keeps_its_not_indicated_warning_alone():
    _, cards = _first_line_fhir(_gbrca2_first_line("ord7-ola-nochemo"), "olaparib")
    [card] = cards
    assert card["indicator"] == "warning"
    assert card["summary"] == "Olaparib: not indicated — No prior chemotherapy (any setting) documented"


def test_t_dxd_drafted_at_first_line_with_label_b_met_gets_an_info_card_not_a_warning():
    summary, cards = _first_line_fhir(_her2_low_relapse_after_adjuvant_chemo("ord7-tdxd"), "trastuzumab deruxtecan")
    [card] = cards
    assert card["indicator"] == "info" and card["source"]["topic"]["code"] == "order-not-indicated"
    assert card["summary"] == ("Trastuzumab deruxtecan: label met; the pathway places T-DXd after endocrine-based "
                               "therapy (CR C.2 step 4)")
    assert "- Label B (DESTINY-Breast04)" in card["detail"]
    assert "Recurrence during or within 6 months of completing adjuvant chemotherapy" in card["detail"]
    assert "Not offered at first line: Enhertu label B (DESTINY-Breast04) is met" in card["detail"]
    assert "Not offered at first line: Enhertu label B (DESTINY-Breast04) is met" in summary


def test_a_regimen_drafted_after_progression_where_patient_view_offers_it_gets_no_held_for_later_card():
    from tests.cards.test_fhir_scenarios import after_ai_cdk46i

    p = after_ai_cdk46i("ord7-tala-2l").variant("BRCA2", "p.Glu1000Ter", origin="germline", specimen="blood")
    from cards.engine import order_cards
    from cards.knowledge import DRUGS
    from tests.cards.test_fhir_scenarios import AS_OF, _draft

    d = DRUGS["talazoparib"]
    got = order_cards(p.state(AS_OF), [_draft("talazoparib", d.drug_class, d.rxnorm)], None, "order-sign")
    assert not [c for c in got if "the pathway places" in c.summary]


@pytest.mark.parametrize("drug", ["talazoparib", "trastuzumab deruxtecan"])
def test_a_held_for_later_drug_drafted_beside_letrozole_and_palbociclib_gets_only_the_extra_drug_warning_not_an_info_card_saying_the_label_allows_it(
        drug):
    # rt67: the extra-drug warning says no labelled regimen adds it to letrozole + palbociclib;
    # an info card beside it saying "its label is met ... The label allows it" contradicted it
    patient = (_gbrca2_first_line("rt67-extra-tala") if drug == "talazoparib"
               else _her2_low_relapse_after_adjuvant_chemo("rt67-extra-tdxd"))
    _, cards = _first_line_fhir(patient, drug, "letrozole", "palbociclib")
    name = drug.capitalize()
    assert [c["indicator"] for c in cards if c["summary"].startswith(f"{name} drafted with letrozole + palbociclib: "
                                                                    "no labelled regimen adds")] == ["warning"]
    assert not [c for c in cards if "the pathway places" in c["summary"]]
