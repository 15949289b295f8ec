"""Hand-built PatientState / DraftOrder objects for the rule-level tests.

Dates are relative to AS_OF so the tests do not age.
"""

from __future__ import annotations

import datetime as dt

from mappings.state import (
    Diabetes, Disease, DraftOrder, Drug, Exposure, HER2Status, LabValue,
    PatientFactors, PatientState, ReceptorStatus, Source, TherapyHistory, TherapyLine, VariantResult,
)

from cards.knowledge import DRUGS

AS_OF = dt.date(2026, 6, 1)
PID = "p1"


def ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


def src(ref: str, days: int | None = None) -> Source:
    return Source(reference=ref, date=ago(days) if days is not None else None)


def drug(name: str) -> Drug:
    info = DRUGS[name]
    return Drug(rxnorm=info.rxnorm, name=info.name, drug_class=info.drug_class)


def variant(gene, result="detected", origin="unknown", specimen="tissue", days=60, ref=None, **kw) -> VariantResult:
    return VariantResult(gene=gene, result=result, origin=origin, specimen=specimen, date=ago(days),
                         significance=kw.pop("significance", "pathogenic" if result == "detected" else "not-reported"),
                         sources=[src(ref or f"Observation/var-{gene.lower()}", days)], **kw)


def base_state(**over) -> PatientState:
    """Postmenopausal woman, HR+/HER2-low MBC (bone), de novo -> first line, nothing tested."""
    s = PatientState(
        patient_id=PID,
        as_of=AS_OF,
        disease=Disease(breast_cancer="yes", primary_diagnosis_date=ago(400),
                        primary_sources=[src("Condition/bc", 400)], metastatic="yes",
                        metastatic_date=ago(400), metastatic_sources=[src("Condition/met-bone", 400)],
                        de_novo_metastatic=True),
        er=ReceptorStatus(status="positive", percent=90, date=ago(400), sources=[src("Observation/er", 400)]),
        pr=ReceptorStatus(status="positive", percent=50, date=ago(400), sources=[src("Observation/pr", 400)]),
        her2=HER2Status(category="low", ihc_score="1+", date=ago(400), sources=[src("Observation/her2", 400)]),
        therapy=TherapyHistory(endocrine_resistance="de-novo"),
        factors=PatientFactors(sex="female", age=66, menopausal_status="postmenopausal",
                               menopausal_basis="observation", menopausal_sources=[src("Observation/meno", 300)],
                               diabetes=Diabetes(hba1c=LabValue(value=5.4, unit="%", date=ago(10),
                                                                sources=[src("Observation/a1c", 10)]),
                                                 fasting_glucose=LabValue(value=92, unit="mg/dL", date=ago(10),
                                                                          sources=[src("Observation/fpg", 10)]))),
    )
    for k, v in over.items():
        setattr(s, k, v)
    return s


def after_first_line(state: PatientState, *, cdk: str = "palbociclib", ai: str = "letrozole",
                     months: int = 14) -> PatientState:
    """First line AI + CDK4/6i for metastatic disease, progressed (ended) 30 days ago."""
    start, end = ago(30 + months * 30), ago(30)
    exp = Exposure(drugs=[drug(ai), drug(cdk)], start=start, end=end, active=False, setting="metastatic",
                   sources=[src("MedicationStatement/l1", 30 + months * 30)])
    line = TherapyLine(number=1, drugs=[drug(ai), drug(cdk)], start=start, end=end, endocrine=True,
                       sources=[src("MedicationStatement/l1", 30 + months * 30)])
    state.therapy = TherapyHistory(
        exposures=[exp], metastatic_lines=[line], endocrine_resistance="de-novo",
        prior_cdk46i=True, metastatic_endocrine_lines=1, metastatic_systemic_lines=1,
        prior_endocrine_any_setting=True, prior_nonsteroidal_ai=ai in ("letrozole", "anastrozole"),
        last_endocrine_progression=end,
    )
    return state


def adjuvant_relapse(state: PatientState, months_after_end: float = 6, ai: str = "anastrozole") -> PatientState:
    """Recurrence some months after completing adjuvant AI (no metastatic line yet)."""
    end = ago(int(months_after_end * 30) + 10)
    exp = Exposure(drugs=[drug(ai)], start=end - dt.timedelta(days=5 * 365), end=end, setting="early",
                   sources=[src("MedicationStatement/adj", 2000)])
    state.disease.de_novo_metastatic = False
    state.disease.metastatic_date = ago(10)
    state.therapy = TherapyHistory(
        exposures=[exp], adjuvant_endocrine_end=end, months_from_adjuvant_endocrine_end_to_metastasis=months_after_end,
        endocrine_resistance="secondary" if months_after_end <= 12 else "sensitive",
        endocrine_resistance_sources=[src("MedicationStatement/adj", 2000)],
        prior_endocrine_any_setting=True, prior_nonsteroidal_ai=ai in ("letrozole", "anastrozole"),
    )
    return state


def draft(rid: str, *names: str, text: str | None = None) -> DraftOrder:
    return DraftOrder(resource_type="MedicationRequest", resource_id=rid, reference=f"MedicationRequest/{rid}",
                      drugs=[drug(n) for n in names], text=text or " + ".join(names), status="draft")
