"""Hand-built PatientState objects for developing the pathway rules.

The FHIR-based scenario tests (tests/cards/fhir_scenarios.py) cover the same
branches through the whole pipeline; these isolate the rules from the mapper.
"""

from __future__ import annotations

import datetime as dt

from mappings.state import (
    HER2Status, Biomarkers, Diabetes, Disease, Drug, Exposure, LabValue, LungDisease,
    MetastaticSite, PatientFactors, PatientState, ReceptorStatus, Source, TherapyHistory,
    TherapyLine, VariantResult,
)

AS_OF = dt.date(2026, 11, 1)

CLASSES = {
    "letrozole": "aromatase-inhibitor", "anastrozole": "aromatase-inhibitor",
    "exemestane": "aromatase-inhibitor", "tamoxifen": "serm", "fulvestrant": "fulvestrant",
    "palbociclib": "cdk46i", "ribociclib": "cdk46i", "abemaciclib": "cdk46i",
    "elacestrant": "oral-serd", "imlunestrant": "oral-serd", "alpelisib": "pi3k-akt-mtor",
    "capivasertib": "pi3k-akt-mtor", "inavolisib": "pi3k-akt-mtor", "everolimus": "pi3k-akt-mtor",
    "olaparib": "parp-inhibitor", "talazoparib": "parp-inhibitor",
    "trastuzumab deruxtecan": "her2-adc", "sacituzumab govitecan": "trop2-adc",
    "datopotamab deruxtecan": "trop2-adc", "capecitabine": "chemotherapy", "paclitaxel": "chemotherapy",
    "docetaxel": "chemotherapy", "doxorubicin": "chemotherapy", "cyclophosphamide": "chemotherapy",
    "eribulin": "chemotherapy", "goserelin": "ovarian-suppression", "leuprolide": "ovarian-suppression",
}
ENDOCRINE = {"aromatase-inhibitor", "serm", "fulvestrant", "oral-serd"}


def src(ref: str, date: dt.date | None = None) -> list[Source]:
    return [Source(reference=ref, date=date)]


def drugs(*names: str) -> list[Drug]:
    return [Drug(name=n, drug_class=CLASSES[n]) for n in names]


def base(pid: str = "p1", **kw) -> PatientState:
    """Postmenopausal woman, de novo HR+/HER2-low MBC, no therapy yet, nothing tested."""
    state = PatientState(
        patient_id=pid,
        as_of=AS_OF,
        disease=Disease(breast_cancer="yes", metastatic="yes", metastatic_date=dt.date(2026, 9, 1),
                        primary_sources=src("Condition/primary", dt.date(2026, 9, 1)),
                        metastatic_sources=src("Condition/bone-met", dt.date(2026, 9, 1)),
                        sites=[MetastaticSite(site="bone", visceral=False, date=dt.date(2026, 9, 1),
                                              sources=src("Condition/bone-met"))],
                        de_novo_metastatic=True),
        er=ReceptorStatus(status="positive", percent=90, date=dt.date(2026, 9, 5), sources=src("Observation/er")),
        pr=ReceptorStatus(status="positive", percent=40, date=dt.date(2026, 9, 5), sources=src("Observation/pr")),
        her2=HER2Status(category="low", ihc_score="1+", date=dt.date(2026, 9, 5), sources=src("Observation/her2")),
        therapy=TherapyHistory(endocrine_resistance="de-novo"),
        factors=PatientFactors(sex="female", age=66, menopausal_status="postmenopausal",
                               menopausal_basis="observation", menopausal_sources=src("Observation/meno")),
    )
    return state.model_copy(update=kw)


def variant(gene: str, change: str = "p.X", origin: str = "somatic", specimen: str = "ctdna",
            date: dt.date = dt.date(2026, 10, 1), result: str = "detected",
            significance: str = "pathogenic") -> VariantResult:
    return VariantResult(gene=gene, result=result, protein_change=change if result == "detected" else None,
                         origin=origin, significance=significance, specimen=specimen, date=date,
                         sources=src(f"Observation/{gene.lower()}-{result}", date))


def with_variants(state: PatientState, *variants: VariantResult, esr1_current: bool | None = None) -> PatientState:
    bm = Biomarkers(results=[*state.biomarkers.results, *variants], esr1_current=esr1_current)
    return state.model_copy(update={"biomarkers": bm})


def with_lines(state: PatientState, *lines: tuple[str, ...], active_last: bool = False,
               early: tuple[tuple[str, ...], ...] = (), **therapy_kw) -> PatientState:
    """Metastatic lines (each a tuple of ingredient names), oldest first, plus early-setting exposures."""
    tl, exposures = [], []
    start = dt.date(2022, 1, 1)
    for i, names in enumerate(lines, 1):
        ds = drugs(*names)
        active = active_last and i == len(lines)
        end = None if active else dt.date(start.year + 1, start.month, 1)
        srcs = src(f"MedicationStatement/line{i}", start)
        tl.append(TherapyLine(number=i, drugs=ds, start=start, end=end, active=active,
                              endocrine=any(d.drug_class in ENDOCRINE for d in ds),
                              chemotherapy=any(d.drug_class == "chemotherapy" for d in ds), sources=srcs))
        exposures.append(Exposure(drugs=ds, start=start, end=end, active=active, setting="metastatic", sources=srcs))
        start = dt.date(start.year + 1, start.month, 1)
    for j, names in enumerate(early):
        exposures.append(Exposure(drugs=drugs(*names), start=dt.date(2015, 1, 1), end=dt.date(2020, 1, 1),
                                  setting="early", sources=src(f"MedicationStatement/early{j}")))
    all_drugs = [d for e in exposures for d in e.drugs]
    names = {d.name for d in all_drugs}
    classes = {d.drug_class for d in all_drugs}
    th = TherapyHistory(
        exposures=exposures,
        metastatic_lines=tl,
        metastatic_systemic_lines=len(tl),
        metastatic_endocrine_lines=sum(1 for ln in tl if ln.endocrine),
        metastatic_chemotherapy_lines=sum(1 for ln in tl if ln.chemotherapy),
        prior_cdk46i="cdk46i" in classes,
        prior_endocrine_any_setting=bool(classes & ENDOCRINE),
        prior_chemotherapy_any_setting="chemotherapy" in classes,
        prior_nonsteroidal_ai=bool(names & {"letrozole", "anastrozole"}),
        prior_fulvestrant="fulvestrant" in names,
        prior_pi3k_akt_mtor="pi3k-akt-mtor" in classes,
        prior_parp_inhibitor="parp-inhibitor" in classes,
        prior_tdxd="trastuzumab deruxtecan" in names,
        prior_sacituzumab="sacituzumab govitecan" in names,
        prior_datodxd="datopotamab deruxtecan" in names,
        prior_taxane=bool(names & {"paclitaxel", "docetaxel"}),
        prior_anthracycline="doxorubicin" in names,
        endocrine_resistance=therapy_kw.pop("endocrine_resistance", "secondary" if early else "de-novo"),
        **therapy_kw,
    )
    return state.model_copy(update={"therapy": th})


def adjuvant_relapse(state: PatientState, months: float, drug: str = "letrozole") -> PatientState:
    """Relapse `months` after completing adjuvant endocrine therapy (0 = on it), no metastatic line."""
    s = with_lines(state, early=((drug,),), adjuvant_endocrine_end=dt.date(2025, 1, 1),
                   on_adjuvant_endocrine_at_recurrence=months == 0,
                   months_from_adjuvant_endocrine_end_to_metastasis=float(months),
                   endocrine_resistance="secondary" if months <= 12 else "sensitive")
    disease = s.disease.model_copy(update={"de_novo_metastatic": False})
    return s.model_copy(update={"disease": disease})


def factors(state: PatientState, **kw) -> PatientState:
    return state.model_copy(update={"factors": state.factors.model_copy(update=kw)})


def diabetic(state: PatientState) -> PatientState:
    return factors(state, diabetes=Diabetes(status="type2-treated", on_antihyperglycemic=True,
                                            hba1c=LabValue(value=7.4, unit="%", date=dt.date(2026, 10, 20),
                                                           sources=src("Observation/hba1c")),
                                            sources=src("Condition/t2dm")))


def ild(state: PatientState, symptomatic: bool) -> PatientState:
    return factors(state, lung=LungDisease(ild_history=True, symptomatic=symptomatic,
                                           grade=2 if symptomatic else 1, sources=src("Condition/ild")))


def her2(state: PatientState, category: str, ihc: str | None = None) -> PatientState:
    return state.model_copy(update={"her2": HER2Status(category=category, ihc_score=ihc, date=dt.date(2026, 9, 5),
                                                       sources=src("Observation/her2"))})


def visceral_crisis(state: PatientState) -> PatientState:
    d = state.disease.model_copy(update={"visceral_crisis": True,
                                         "visceral_crisis_sources": src("Condition/crisis")})
    return state.model_copy(update={"disease": d})
