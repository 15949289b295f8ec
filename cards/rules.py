"""Named predicates the knowledge files refer to, implemented once.

Every rule is `rule(state, ctx, **params) -> Finding` where `Finding.value` is
True (holds), False (does not hold) or None (cannot be determined from the
record: a data gap). `Finding.text` states the fact a clinician reads in the
card, and `Finding.sources` the resources it came from.

Add a rule: write the function, decorate it with `@rule`, name it in
cards/knowledge/regimens.yaml. tests/cards checks every name used in the
knowledge files exists here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from mappings.factors import AGE_RULE_POSTMENOPAUSAL
from mappings.fhir import months_between, months_text
from mappings.tables import DRUGS as DRUG_TABLE
from mappings.state import (
    ARCHIVAL_ESR1_WHY, ARCHIVAL_TISSUE, ENDOCRINE_CLASSES, FASTING_GLUCOSE_HIGH_MG_DL, HBA1C_HIGH_PERCENT, HER2Status,
    LINE_CLASSES, Disease, LabValue, PatientState, Source, TherapyLine, VariantResult, range_text,
    bound_reaches, not_final_reaches, date_written, day_written_last, esr1_result_current, written_last,
)

NSAI = {"letrozole", "anastrozole"}
PATHOGENIC = ("pathogenic", "likely-pathogenic")
SPECIMEN_TEXT = {"ctdna": "plasma ctDNA", "tissue": "tissue", "blood": "blood"}


@dataclass(frozen=True, init=False)
class Finding:
    value: bool | None
    text: str
    sources: tuple[Source, ...] = ()
    # True when the value rests only on a condition the record does not confirm (FHIR R4
    # condition-ver-status provisional / differential / unconfirmed, or written as a
    # suspicion): a caution it raises is summarised with its `short_unconfirmed` words, so
    # the summary never states as history what the record only suspects (UNCONFIRMED_RULES)
    unconfirmed_only: bool = False

    def __init__(self, value: bool | None, text: str, sources: tuple[Source, ...] = (),
                 unconfirmed_only: bool = False) -> None:
        # the generated frozen __init__ calls object.__setattr__ per field; a rule call
        # makes dozens of Findings (equality, hash and repr stay the generated ones)
        d = self.__dict__
        d["value"] = value
        d["text"] = text
        d["sources"] = sources
        d["unconfirmed_only"] = unconfirmed_only


@dataclass
class Context:
    """Facts derived once per PatientState, shared by all rules."""

    lines: int  # metastatic lines so far, the active one included
    phase: str  # "first-line" | "after-progression"
    current_line: TherapyLine | None
    metastatic_drug_sets: list[frozenset[str]] = field(default_factory=list)
    metastatic_drugs: set[str] = field(default_factory=set)
    all_drugs: set[str] = field(default_factory=set)
    early_drugs: set[str] = field(default_factory=set)
    classes_any: set[str] = field(default_factory=set)
    line_sources: tuple[Source, ...] = ()
    memo: dict = field(default_factory=dict)  # rule results for this state (rules are pure)
    name_sources: dict[str, list[Source]] = field(default_factory=dict)  # ingredient -> exposure sources
    class_names: dict[str, set[str]] = field(default_factory=dict)  # drug class -> ingredients seen
    # the running metastatic line a drafted drug of it is swapped within (the order hooks'
    # line_assessment): the line being judged, so the rules asking which lines gave a
    # regimen (_lines_of) do not count it as given before. None: every line counts
    line_swapped: int | None = None

    @staticmethod
    def of(state: PatientState) -> "Context":
        th = state.therapy
        mlines = th.metastatic_lines
        lines = max(th.metastatic_systemic_lines, len(mlines))
        current = next((ln for ln in mlines if ln.active), None)
        line_names = [ln.names for ln in mlines]
        sets = [frozenset(names) for names in line_names]
        metastatic = {n for names in line_names for n in names}
        # one pass over the exposures (hundreds on a long record); same contents and
        # insertion orders as a pass per field
        early: set[str] = set()
        name_sources: dict[str, list[Source]] = {}
        class_names: dict[str, set[str]] = {}
        exposure_metastatic: list[str] = []
        for e in th.exposures:
            setting = e.setting
            sources = e.sources
            for d in e.drugs:
                name = d.name
                if setting == "metastatic":
                    exposure_metastatic.append(name)
                elif setting == "early":
                    early.add(name)
                found = name_sources.get(name)
                if found is None:
                    name_sources[name] = list(sources)
                else:
                    found.extend(sources)
                names = class_names.get(d.drug_class)
                if names is None:
                    class_names[d.drug_class] = {name}
                elif name not in names:
                    names.add(name)
        metastatic |= set(exposure_metastatic)
        # every ingredient / class seen, in first-seen order (the dicts' key order)
        all_drugs = {n for n in name_sources}
        all_drugs |= metastatic
        classes = {c for c in class_names}
        classes |= {c for ln in mlines for c in ln.classes}
        srcs = tuple(s for ln in mlines for s in ln.sources)
        return Context(
            name_sources=name_sources,
            class_names=class_names,
            lines=lines,
            phase="first-line" if lines == 0 else "after-progression",
            current_line=current,
            metastatic_drug_sets=sets,
            metastatic_drugs=metastatic,
            all_drugs=all_drugs,
            early_drugs=early,
            classes_any=classes,
            line_sources=srcs,
        )


RuleFn = Callable[..., Finding]
RULES: dict[str, RuleFn] = {}


def rule(fn: RuleFn) -> RuleFn:
    RULES[fn.__name__] = fn
    return fn


# The rules that can be true on an unconfirmed condition alone (Finding.unconfirmed_only: a
# diabetes or an ILD/pneumonitis recorded provisional / differential / unconfirmed, FHIR R4
# condition-ver-status, or written as a suspicion; mappings.factors gaps diabetes-unconfirmed,
# ild-unconfirmed). A caution or order safety check on one of them must give, next to its
# `short` summary words, `short_unconfirmed` words that say so (checked at load). A long QT
# syndrome only suspected raises no caution (long_qt_syndrome reads a confirmed one only).
UNCONFIRMED_RULES = frozenset({"diabetes_or_hyperglycemia", "ild_history"})


def evaluate_rule(name: str, state: PatientState, ctx: Context, **params) -> Finding:
    key = (name, *sorted(params.items())) if params else name
    found = ctx.memo.get(key)
    if found is None:
        found = ctx.memo[key] = RULES[name](state, ctx, **params)
    return found


# --- formatting helpers ----------------------------------------------------

_ISO: dict[dt.date, str] = {}  # date -> isoformat(); a card call formats hundreds of dates, few distinct
_ISO_MAX = 50_000
_DATE = dt.date


def iso(value: dt.date) -> str:
    """value.isoformat(), remembered for plain dates (an equal datetime may differ in text)."""
    text = _ISO.get(value)
    if text is None or type(value) is not _DATE:
        text = value.isoformat()
        if type(value) is _DATE:
            if len(_ISO) >= _ISO_MAX:
                _ISO.clear()
            _ISO[value] = text
    return text


def fmt_date(value: dt.date | None, last: dt.date | None = None) -> str:
    """A date as the record wrote it: "2024-03-10"; one written without a day (`last`: the last
    day it can mean, e.g. Source.date_last) "2024" or "2024-06", never its first day, which
    the record does not contain ("between 2024-01-01 and 2024-03-10" for a range of several
    dates); "date unknown" when undated."""
    if not value:
        return "date unknown"
    if last is None:
        return iso(value)
    return date_written(value, last)


def written_on(day: dt.date | None, dates) -> str:
    """`day` as written, given the (first day, last day of a date without a day or None) pairs
    it was picked from: without a day only when every date on that first day has none."""
    return fmt_date(day, day_written_last(day, dates))


def latest_date_text(sources) -> str | None:
    """The latest date of `sources`, as written (fmt_date); None when none is dated."""
    dates = [s.date for s in sources if s.date]
    if not dates:
        return None
    latest = max(dates)
    return fmt_date(latest, written_last(latest, list(sources)))


def metastatic_when(d: Disease) -> str:
    """"since 2024-03-10"; for a date written without a day "in 2024 (no day given)" (its
    first day is not the date: Disease.metastatic_date_latest); "" when undated."""
    if d.metastatic_date is None:
        return ""
    if d.metastatic_date_latest is None:
        return f"since {iso(d.metastatic_date)}"
    return f"{range_text(d.metastatic_date, d.metastatic_date_latest)} (no day given)"


def latest_result_text(results: list[VariantResult]) -> str:
    """The date of the latest dated result, as written (a date without a day only when every
    result of that day has none)."""
    latest = max(v.date for v in results if v.date)  # type: ignore[type-var]
    return written_on(latest, [(v.date, v.date_last) for v in results])


def _esr1_follow(ref: "Esr1Reference") -> str:
    return f"follow {ref.text}" if ref.documented else "be current"


def esr1_archival_timing(ref: "Esr1Reference") -> str:
    """How an ESR1 result on archival / primary-tumour tissue without a collection date stands
    to the date it must follow (the result's own text names the specimen)."""
    return f"cannot be shown to {_esr1_follow(ref)} ({ARCHIVAL_ESR1_WHY})"


def esr1_result_timing(ref: "Esr1Reference", v: VariantResult) -> str:
    """How one ESR1 result stands to the date it must follow (C.3 row 18): "predates <ref>"
    ("may predate" inside a reference written without a day), "is undated, so it cannot be
    shown to follow <ref>", or esr1_archival_timing; with no reference documented, "... be
    current"."""
    if v.archival_without_collection_date:
        return esr1_archival_timing(ref)
    if v.date is None:
        return f"is undated, so it cannot be shown to {_esr1_follow(ref)}"
    if v.date_last is not None and ref.date is not None and v.date_last >= ref.date:
        # a date span reaching the reference date ("10/04/2025": 10 April or October 4, beside a
        # 2025-05-20 progression; "May 2025") may fall after it: not "predates" (as the summary's
        # ESR1 currency gap says it, mappings/build.py _esr1_currency; C.3 row 18)
        return f"cannot be shown to {_esr1_follow(ref)}"
    return f"{ref.predates(v.date)} {ref.text}"


# VariantResult.status_not_final as the card names it (FHIR R4 ObservationStatus; "unknown":
# "the authoring/source system does not know which of the status values currently applies")
NOT_FINAL_TEXT = {"preliminary": "preliminary result, not final", "registered": "registered, no final result yet",
                  "unknown": "status unknown, not known to be final"}


# VariantResult.alteration as the card names it
_ALTERATION_TEXT = {"copy-number-gain": "copy-number gain", "copy-number-loss": "copy-number loss",
                    "copy-number-change": "copy-number change", "fusion": "fusion"}


def variant_name(v: VariantResult) -> str:
    """"PIK3CA p.His1047Arg", "PTEN fusion", or the gene alone."""
    change = v.protein_change or v.dna_change or _ALTERATION_TEXT.get(v.alteration)
    return f"{v.gene} {change}" if change else v.gene


def pending_age_text(dated: dt.date | None, as_of: dt.date | None, dated_last: dt.date | None = None) -> str:
    """How long a result not final yet has waited, from its date to as_of: "after 30 days",
    "after 17 months" (whole calendar months, fhir.months_between, from 61 days on); "" when
    undated or not earlier than as_of. A date written without a day ("2025-06", dated_last its
    last day) gives the least wait, from its last day: "after at least 30 days" ("" when that
    day is not earlier than as_of). A registered / preliminary result is the test under way
    (FHIR R4 ObservationStatus); no source says how long a final report may take, so the card
    names the wait and leaves judging it to the reader rather than dropping the result."""
    at_least = dated_last is not None and dated is not None and dated_last > dated
    start = dated_last if at_least else dated
    if start is None or as_of is None or start >= as_of:
        return ""
    prefix = "after at least" if at_least else "after"
    days = (as_of - start).days
    if days <= 60:
        return f"{prefix} {days} day{'' if days == 1 else 's'}"
    return f"{prefix} {int(months_between(start, as_of))} months"


def describe_variant(v: VariantResult, as_of: dt.date | None = None) -> str:
    """as_of: the date the card is read (PatientState.as_of): a result not final yet then says
    how long it has waited (pending_age_text)."""
    what = variant_name(v)
    bits = []
    if v.alteration_unclear:  # a PTEN fusion / change of unstated direction: neither
        bits.append("inactivation not stated")
    elif not v.alteration_selects:  # the mapping's reading: not what the gene's drugs need
        bits.append("not an inactivation" if v.gene == "PTEN" else "not a mutation")
    if v.origin != "unknown":
        bits.append(v.origin)
    if v.archival_without_collection_date:
        bits.append(ARCHIVAL_TISSUE)
    elif v.specimen != "unknown":
        bits.append(SPECIMEN_TEXT.get(v.specimen, v.specimen))
    if v.significance_conflicting:
        bits.append("conflicting interpretations of pathogenicity, read as uncertain")
    elif v.significance_label_class is not None:  # the labels' own words (CR B.6 / B.7)
        bits.append(f"{v.significance_label_class}, the PARP inhibitor labels' class")
    elif v.significance != "not-reported":
        bits.append(v.significance)
    elif v.result == "detected":  # a test that found nothing has no significance to report
        bits.append("significance not reported")
    # on archival tissue without a collection date the date is the result's, not the tissue's
    bits.append(("result of " if v.archival_without_collection_date else "") + fmt_date(v.date, v.date_last))
    if v.status_not_final is not None:
        waited = pending_age_text(v.date, as_of, v.date_last)
        bits.append(NOT_FINAL_TEXT[v.status_not_final] + (f" {waited}" if waited else ""))
    verb = "detected" if v.result == "detected" else "not detected"
    if v.superseded_on is not None:
        # the mapping's decision (C.3 row 18): a current result found nothing actionable
        return f"{what} {verb} ({', '.join(bits)}; not current: superseded by the result of {fmt_date(v.superseded_on)})"
    return f"{what} {verb} ({', '.join(bits)})"


class Esr1Reference(NamedTuple):
    text: str  # "the end of metastatic line 2 (abemaciclib + fulvestrant) on 2026-08-01"
    sources: tuple[Source, ...]
    documented: bool  # False: no progression on or end of endocrine therapy documented
    # the first day of a reference written without a day ("in 2025"); else None
    uncertain_from: dt.date | None = None
    date: dt.date | None = None  # the reference's date (its first day when written without a day)

    def predates(self, result_date: dt.date | None) -> str:
        """"predates", or "may predate" for a result dated inside the range of a reference
        written without a day (the mapping counts its last day: C.3 row 18)."""
        inside = self.uncertain_from is not None and result_date is not None and result_date >= self.uncertain_from
        return "may predate" if inside else "predates"


def esr1_reference_of(state: PatientState, ctx: Context) -> Esr1Reference:
    """What an ESR1 result must follow to be current, with its date and sources: "the end
    of metastatic line 2 (abemaciclib + fulvestrant) on 2026-08-01". The date is the one
    the mapping's staleness decision used (TherapyHistory.esr1_reference, CR C.3 row 18);
    computed once per call (ctx.memo)."""
    ref = ctx.memo.get("_esr1_reference")  # not a rule name
    if ref is None:
        r = state.therapy.esr1_reference()
        ref = ctx.memo["_esr1_reference"] = (
            Esr1Reference("no progression on or end of endocrine therapy documented", (), False) if r is None
            else Esr1Reference(f"{r.event} {r.when_text}", tuple(r.sources), True,
                               r.date if r.date_last is not None else None, r.date))
    return ref


def _srcs(*groups) -> tuple[Source, ...]:
    out: list[Source] = []
    for g in groups:
        out.extend(g or [])
    return tuple(out)


def _no_day(value: dt.date | None, last: dt.date | None) -> str:
    return fmt_date(value, last) + (" (no day given)" if value is not None and last is not None else "")


def line_end_text(ln: TherapyLine) -> str:
    """A line's end as recorded: "2025-03-10", or "2025 (no day given)" for an end read from
    a date without a day (TherapyLine.end_last; ESR1 currency counts its last day)."""
    return _no_day(ln.end, ln.end_last)


def line_start_text(ln: TherapyLine) -> str:
    """A line's start as recorded: "2024-03-10", or "2024 (no day given)" when its records
    give the start without a day (TherapyLine.start_last), not 2024-01-01."""
    return _no_day(ln.start, ln.start_last)


def _line_text(ln: TherapyLine) -> str:
    when = f"from {line_start_text(ln)}" + (" (ongoing)" if ln.active else f" to {line_end_text(ln)}" if ln.end else "")
    return f"line {ln.number}: {ln.regimen_text} {when}"


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def line_listing(ctx: Context, lines: list[TherapyLine]) -> str:
    """'; '.join(_line_text(ln) for ln in lines), each line's text made once per call."""
    texts = ctx.memo.get("_line_texts")  # not a rule name: rules are public functions
    if texts is None:
        texts = ctx.memo["_line_texts"] = {}
    out = []
    for ln in lines:
        text = texts.get(id(ln))
        if text is None:
            text = texts[id(ln)] = _line_text(ln)
        out.append(text)
    return "; ".join(out)


# --- genomics --------------------------------------------------------------

def _gene_index(state: PatientState, ctx: Context) -> tuple:
    """Per call: (biomarkers, gene -> results in record order, gene -> status, id -> text)."""
    idx = ctx.memo.get("_genes")  # not a rule name
    bm = state.biomarkers
    if idx is None or idx[0] is not bm:
        by_gene: dict[str, list[VariantResult]] = {}
        for v in bm.results:
            found = by_gene.get(v.gene)
            if found is None:
                by_gene[v.gene] = [v]
            else:
                found.append(v)
        idx = ctx.memo["_genes"] = (bm, by_gene, {}, {})
    return idx


def variant_text(state: PatientState, ctx: Context, v: VariantResult) -> str:
    """describe_variant(v), once per call."""
    texts = _gene_index(state, ctx)[3]
    text = texts.get(id(v))
    if text is None:
        text = texts[id(v)] = describe_variant(v, state.as_of)
    return text


def _gene_status(idx: tuple, gene: str) -> str:
    statuses = idx[2]
    found = statuses.get(gene)
    if found is None:
        found = statuses[gene] = idx[0].status(gene)
    return found


def _gene_finding(state: PatientState, ctx: Context, genes: tuple[str, ...], label: str,
                  ctdna_negative_is_negative: bool = False) -> Finding:
    """What the final results of `genes` say. A gene without a final result but with one not
    final yet (Biomarkers.not_final) is not "not tested": _open_while_not_final names that result."""
    idx = _gene_index(state, ctx)
    by_gene = idx[1]
    hits = [v for g in genes if g in by_gene for v in by_gene[g] if v.actionable]
    if hits:
        return Finding(True, "; ".join([variant_text(state, ctx, v) for v in hits]),
                       _srcs(*(v.sources for v in hits)))
    statuses = {g: _gene_status(idx, g) for g in genes}
    results = [v for g in genes if g in by_gene for v in by_gene[g]]
    srcs = _srcs(*(v.sources for v in results))
    # a PTEN fusion / copy-number change of unstated direction: not a negative, not a hit
    # (VariantResult.alteration_unclear): the question stays open and the finding names it
    unclear = "; ".join([f"{variant_text(state, ctx, v)}: capivasertib needs {v.gene} inactivation (C.1 ASCO 2024)"
                         for v in results if v.result == "detected" and v.alteration_unclear
                         and v.superseded_on is None])
    ctdna_only = [] if ctdna_negative_is_negative else [g for g, s in statuses.items()
                                                         if s == "not-detected-ctdna-only"]
    if any(s == "not-tested" for s in statuses.values()):
        untested = [g for g, s in statuses.items() if s == "not-tested"]
        # a gene negative in plasma only beside them is open too (C.3 row 2): named, not dropped
        plasma = _ctdna_only_text(state, ctx, "/".join(ctdna_only),
                                  [v for v in results if v.gene in ctdna_only]) if ctdna_only else ""
        return Finding(None, untested_text(state, untested, unclear, _lower(plasma)), srcs)
    if unclear:
        return Finding(None, unclear, srcs)
    if ctdna_only:
        return Finding(None, _ctdna_only_text(state, ctx, label, results), srcs)
    # the results that decide first: a detection superseded by a current negative (ESR1, C.3
    # row 18) after them, so a clipped order-card summary does not lead with "detected"
    ordered = [v for v in results if v.superseded_on is None] + [v for v in results if v.superseded_on is not None]
    detail = "; ".join([variant_text(state, ctx, v) for v in ordered])
    return Finding(False, f"No actionable {label} alteration ({detail})", srcs)


def _ctdna_only_text(state: PatientState, ctx: Context, label: str, results: list[VariantResult]) -> str:
    """"No PIK3CA/AKT1/PTEN alteration in plasma ctDNA only (ctDNA negative is not wild-type:
    tissue testing advised)" (C.3 row 2); a variant the sender classified VUS/benign was found:
    said (it is not "no alteration")."""
    found = [v for v in results if v.result == "detected"]
    what = (f"No actionable {label} alteration in plasma ctDNA only ("
            + "; ".join([variant_text(state, ctx, v) for v in found]) + ")" if found
            else f"No {label} alteration in plasma ctDNA only")
    return f"{what} (ctDNA negative is not wild-type: tissue testing advised)"


def untested_text(state: PatientState, untested: list[str], *more: str) -> str:
    """"AKT1/PTEN not tested", and the further texts `more`: a gene with a result that is not
    final yet is left out (it was tested; its result is named with "the final result decides",
    so a card never says "PIK3CA not tested; PIK3CA ... detected (preliminary result ...)")."""
    waiting = {v.gene for v in state.biomarkers.not_final}
    named = [g for g in untested if g not in waiting]
    return "; ".join(([f"{'/'.join(named)} not tested"] if named else []) + [m for m in more if m])


def not_final_text(state: PatientState, ctx: Context, results: list[VariantResult]) -> str:
    """"PIK3CA p.His1047Arg detected (..., preliminary result, not final): the final result
    decides", for results that are not final (Biomarkers.not_final); "" for none."""
    if not results:
        return ""
    return "; ".join([variant_text(state, ctx, v) for v in results]) + ": the final result decides"


def pending_results(state: PatientState, genes: tuple[str, ...]) -> list[VariantResult]:
    """The genes' results that are not final yet (FHIR preliminary / registered / unknown)."""
    return [v for v in state.biomarkers.not_final if v.gene in genes]


def _open_while_not_final(state, ctx, f: Finding, genes: tuple[str, ...],
                          selects: Callable[[VariantResult], bool] = lambda v: v.actionable_if_final,
                          pending: list[VariantResult] | None = None) -> Finding:
    """A result that is not final yet decides nothing (FHIR R4: preliminary = "not all results
    are final"): one that would select the drug leaves an undecided or negative question open,
    and where the question is open every such result of the genes is named. A final hit decides.
    pending: the results that count (default: every result of the genes not final yet)."""
    pending = pending_results(state, genes) if pending is None else pending
    if not pending or f.value is True:
        return f
    named = pending if f.value is None else [v for v in pending if selects(v)]
    if not named:
        return f  # a final negative, and nothing pending that would change it
    return Finding(None, "; ".join(t for t in (f.text, not_final_text(state, ctx, named)) if t),
                   _srcs(f.sources, *(v.sources for v in named)))


# the genes each genomic predicate reads, and whether only germline results answer it (the PARP
# inhibitor labels select on germline BRCA1/2, C.3 row 7): which results a test card waits on
PI3K_PATHWAY_GENES = ("PIK3CA", "AKT1", "PTEN")
PREDICATE_GENES: dict[str, tuple[tuple[str, ...], bool]] = {
    "esr1_mutated": (("ESR1",), False),
    "pik3ca_mutated": (("PIK3CA",), False),
    "pik3ca_akt1_or_pten_altered": (PI3K_PATHWAY_GENES, False),
    "germline_brca_mutated": (("BRCA1", "BRCA2"), True),
}


def esr1_pending(state: PatientState) -> tuple[list[VariantResult], list[VariantResult]]:
    """The ESR1 results not final yet, as (current, not current): a specimen taken after the
    ESR1 reference (the latest progression on endocrine therapy, TherapyHistory.esr1_reference)
    is the re-test under way; an older, undated or archival one would not be current even once
    final (C.3 row 18; mappings.state.esr1_result_current, the mapping's reading of one result)."""
    pending = pending_results(state, ("ESR1",))
    if not pending:
        return [], []
    ref = state.therapy.esr1_reference()
    current = [v for v in pending if esr1_result_current(v, ref)]
    return current, [v for v in pending if not any(v is c for c in current)]


def esr1_not_current_pending_text(state: PatientState, ctx: Context, results: list[VariantResult]) -> str:
    """"ESR1 p.Asp538Gly detected (..., preliminary result, not final): the result predates the
    progression ... on 2025-05-20, so even once final it is not a current ESR1 result (C.3 row
    18)", for ESR1 results not final yet that esr1_pending does not count; "" for none."""
    ref = esr1_reference_of(state, ctx)
    out = []
    for v in results:
        out.append(f"{variant_text(state, ctx, v)}: the result {esr1_result_timing(ref, v)}, so even once final it "
                   "is not a current ESR1 result" + ("" if v.archival_without_collection_date else " (C.3 row 18)"))  # cited once
    return "; ".join(out)


def awaiting_final(state: PatientState, genes: tuple[str, ...], germline: bool = False) -> list[VariantResult]:
    """The results not final yet that are all a test of `genes` waits on: each gene without a
    final result has one (FHIR R4 ObservationStatus: registered = "the existence of the
    observation is registered, but there is no result yet", preliminary = "not all results are
    final", unknown = the source system does not know which status applies, so it may be final
    already: the test is done or under way, a new order would repeat it; awaiting_final_text
    asks to check with the laboratory for an unknown one). [] when a test is
    needed: a gene has no result at all, or final results that leave it open and no result
    not final yet that closes it: a negative in plasma ctDNA only (not wild-type, C.3 row 2)
    waits on a pending TISSUE result only (the tissue reflex under way); an ESR1 result not
    shown to be current (C.3 row 18) on a pending one taken after the ESR1 reference (the
    re-test under way: esr1_pending; an older pending ESR1 result never counts); a germline
    BRCA variant without a classification on none (ask the laboratory).
    germline: only germline results answer (BRCA1/2 for the PARP inhibitors).
    One reading for patient-view's testing cards and the order hooks' biomarker cards."""
    bm = state.biomarkers
    germline_tested = _germline_tested_genes(bm.results) if germline else set()
    out: list[VariantResult] = []
    for g in genes:
        final = [v for v in bm.for_gene(g) if not germline or v.origin == "germline"]
        if germline:
            pending = [v for v in pending_results(state, (g,)) if v.origin == "germline"]
        elif g == "ESR1":
            pending = esr1_pending(state)[0]
        else:
            pending = pending_results(state, (g,))
        if final:
            if germline:
                if g in germline_tested:
                    continue
                return []
            if g == "ESR1":
                if bm.esr1_current is True:
                    continue
            elif bm.status(g) != "not-detected-ctdna-only":
                continue
            else:
                pending = [v for v in pending if v.specimen == "tissue"]
        if not pending:
            return []
        out += pending
    return out


def awaiting_final_text(state: PatientState, ctx: Context, pending: list[VariantResult]) -> str:
    """The line a test card shows when it waits only on results not final yet (awaiting_final).
    A result of status "unknown" may be final already or not (FHIR R4 ObservationStatus: "the
    authoring/source system does not know which of the status values currently applies"): the
    card asks to check with the laboratory rather than saying the test is under way."""
    named = "; ".join([variant_text(state, ctx, v) for v in pending])
    unknown = [v for v in pending if v.status_not_final == "unknown"]
    if not unknown:
        return (f"**Awaiting the final report** of {named}: order a new test only if it does not come. "
                "No order is pre-selected: the test is done or under way, and a new one would repeat it.")
    which = ("the result is" if len(pending) == 1 else "the results are" if len(unknown) == len(pending)
             else "the result of status unknown is" if len(unknown) == 1 else "the results of status unknown are")
    return (f"**Awaiting the final report** of {named}: ask the laboratory whether {which} final (status "
            "unknown: the source system does not know which status applies), and order a new test only if no "
            "final report comes. No order is pre-selected: a new one could repeat a test already done.")


@rule
def esr1_mutated(state, ctx):
    # ESR1: plasma ctDNA is the preferred specimen (ASCO 2023 rapid update), so a
    # ctDNA negative is a negative; the tissue reflex applies to PIK3CA/AKT1/PTEN
    # (ASCO 2021: "if no mutation is found in cell-free DNA, test tissue").
    f = _gene_finding(state, ctx, ("ESR1",), "ESR1", ctdna_negative_is_negative=True)
    if f.value is False and state.biomarkers.esr1_current is False:
        # a negative from before the ESR1 reference (the latest progression on endocrine
        # therapy or end of a metastatic endocrine line, TherapyHistory.esr1_reference) does
        # not rule out a mutation emerging since: undecided until a current result (C.3 row
        # 18; ASCO 2023 re-test)
        ref = esr1_reference_of(state, ctx)
        esr1 = state.biomarkers.for_gene("ESR1")
        # the date of a result on archival tissue without a collection date is not the tissue's
        latest = max((v.date for v in esr1 if v.date and not v.archival_without_collection_date), default=None)
        timing = (esr1_archival_timing(ref) if latest is None and any(v.archival_without_collection_date for v in esr1)
                  else f"{ref.predates(latest)} {ref.text}")
        f = Finding(None, f"{f.text}: the result {timing}, a current ESR1 result is needed",
                    _srcs(f.sources, ref.sources))
    # a result not final yet decides nothing; one taken before the ESR1 reference would not
    # decide even once final (not current, C.3 row 18): named as such, it leaves f as it is
    current, older = esr1_pending(state)
    f = _open_while_not_final(state, ctx, f, ("ESR1",), pending=current)
    if older and f.value is not True:
        f = Finding(f.value, "; ".join(t for t in (f.text, esr1_not_current_pending_text(state, ctx, older)) if t),
                    _srcs(f.sources, *(v.sources for v in older)))
    return f


@rule
def pik3ca_mutated(state, ctx):
    return _open_while_not_final(state, ctx, _gene_finding(state, ctx, ("PIK3CA",), "PIK3CA"), ("PIK3CA",))


@rule
def pik3ca_akt1_or_pten_altered(state, ctx):
    return _open_while_not_final(state, ctx, _gene_finding(state, ctx, PI3K_PATHWAY_GENES, "PIK3CA/AKT1/PTEN"),
                                 PI3K_PATHWAY_GENES)


@rule
def esr1_result_not_current(state, ctx):
    # the decision is the mapping's (biomarkers.esr1_current); the text shows the dates it
    # compared, from the same definition (TherapyHistory.esr1_reference)
    cur = state.biomarkers.esr1_current
    results = state.biomarkers.for_gene("ESR1")
    dated = [v.date for v in results if v.date]
    latest = f"latest ESR1 result {latest_result_text(results)}" if dated else "ESR1 result undated"
    ref = esr1_reference_of(state, ctx)
    # the dates the mapping compared: not that of a result on archival tissue without a collection date
    collected = [v.date for v in results if v.date and not v.archival_without_collection_date]
    archival_only = not collected and any(v.archival_without_collection_date for v in results)
    timing = (esr1_archival_timing(ref) if archival_only
              else f"{ref.predates(max(collected) if collected else None)} {ref.text}")
    if archival_only and dated:
        # the date is the report's, after the reference: shown bare it reads as a current result
        latest = f"latest ESR1 result reported {latest_result_text(results)}; the tissue's collection date is not recorded"
    text = {False: f"ESR1 result {timing} ({latest})",
            True: f"ESR1 result is current ({latest}; must follow {ref.text})" if ref.documented
            else f"ESR1 result is current ({latest}; {ref.text})",
            None: f"ESR1 result currency unknown ({latest})"}[cur]
    return Finding(cur is False, text, _srcs(*(v.sources for v in results), ref.sources))


@rule
def esr1_result_undated(state, ctx):
    hits = [v for v in state.biomarkers.actionable("ESR1") if v.date is None]
    return Finding(bool(hits), "ESR1 result without a date" if hits else "ESR1 result dated",
                   _srcs(*(v.sources for v in hits)))


@rule
def esr1_found_on_ongoing_line_without_progression(state, ctx):
    """An ESR1 mutation found while the current metastatic endocrine line goes on (specimen
    dated after the line started) and no progression documented since it started: the
    ctDNA 'emergence' of SERENA-6, whose switch before progression is not approved. C.3 row
    4: do not recommend switching on ESR1 emergence without radiographic progression; the
    SERD labels need "disease progression following" endocrine therapy (B.2, B.3)."""
    line = ctx.current_line
    if line is None or not line.endocrine or line.start is None:
        return Finding(False, "No ongoing endocrine line")
    found = [v for v in state.biomarkers.actionable("ESR1") if v.date is not None and v.date > line.start]
    if not found:
        return Finding(False, f"No ESR1 mutation found after {_line_text(line)} started")
    progression = state.therapy.last_endocrine_progression
    if progression is not None and progression > line.start:
        return Finding(False, f"Progression documented on {fmt_date(progression)} during {_line_text(line)}",
                       tuple(state.therapy.last_endocrine_progression_sources))
    variants = "; ".join(variant_text(state, ctx, v) for v in found)  # each with its date
    return Finding(True, f"{variants} during {_line_text(line)}; no progression documented since it started",
                   _srcs(*(v.sources for v in found), line.sources))


@rule
def germline_brca_mutated(state, ctx):
    # a BRCA variant not final yet that, final, would be germline or of unknown origin
    return _open_while_not_final(state, ctx, _germline_brca_finding(state, ctx), ("BRCA1", "BRCA2"),
                                 lambda v: v.actionable_if_final and v.origin != "somatic")


def _germline_brca_finding(state, ctx):
    by_gene = _gene_index(state, ctx)[1]
    results = by_gene.get("BRCA1", []) + by_gene.get("BRCA2", [])
    srcs = _srcs(*(v.sources for v in results))
    germ = [v for v in results if v.actionable and v.origin == "germline"]
    # PARP inhibitor labels: "deleterious or suspected deleterious gBRCAm"; C.2 step 1:
    # pathogenic/likely pathogenic only. A germline call without a classification may be a VUS.
    classified = [v for v in germ if v.significance in PATHOGENIC]
    if classified:
        return Finding(True, "; ".join([variant_text(state, ctx, v) for v in classified]),
                       _srcs(*(v.sources for v in classified)))
    if germ:
        return Finding(None, "Germline BRCA variant without a reported classification (PARP inhibitors need a "
                       "pathogenic or likely pathogenic variant; ask the laboratory for the classification): "
                       + "; ".join([variant_text(state, ctx, v) for v in germ]), _srcs(*(v.sources for v in germ)))
    other = [v for v in results if v.actionable]
    done = _germline_tested_genes(results)
    if done >= {"BRCA1", "BRCA2"}:  # germline_brca_tested, with the genes reused below
        # germline testing done without a pathogenic variant: a tumour BRCA variant is then
        # not germline, and only germline BRCA1/2 selects a PARP inhibitor (C.3 row 7, ABC4)
        text = "Germline BRCA1/2 tested: no pathogenic variant" + _germline_not_actionable(state, ctx, results)
        if other:
            text += ("; tumour BRCA variant not found in germline testing (somatic, not labelled for PARP "
                     "inhibitors): " + "; ".join([variant_text(state, ctx, v) for v in other]))
        # a PALB2 variant beside it was only on the summary's list: C.2 step 3 "PALB2 -> no
        # labelled PARPi; recommend germline testing/genetics referral" (C.3 row 7) said where
        # the PARP inhibitors are declined; germline testing is done, so the referral is left.
        # A tumour PALB2 variant with no germline PALB2 result: C.2 step 3 "Somatic-only BRCA,
        # PALB2 -> ... recommend germline testing/genetics referral" (whether it is inherited is open)
        palb2_results = by_gene.get("PALB2", [])
        palb2 = [v for v in palb2_results if v.actionable]
        if palb2:
            if any(v.origin == "germline" for v in palb2):
                referral = "; genetics referral"
            elif "PALB2" not in _germline_tested_genes(palb2_results):
                referral = "; no germline PALB2 result: germline testing/genetics referral, C.2 step 3"
            else:
                referral = ""
            text += ("; PALB2 variant (no labelled PARP inhibitor, C.3 row 7" + referral + "): "
                     + "; ".join([variant_text(state, ctx, v) for v in palb2]))
            srcs = _srcs(srcs, *(v.sources for v in palb2))
        return Finding(False, text, srcs)
    if any(v.origin == "unknown" for v in other):
        return Finding(None, "BRCA variant detected but germline origin not established: "
                       + "; ".join([variant_text(state, ctx, v) for v in other]), srcs)
    # a germline result not final yet (named after this text by _open_while_not_final): the
    # test is done or under way, so no "not tested" / "not documented" beside it
    pending = {v.gene for v in pending_results(state, ("BRCA1", "BRCA2")) if v.origin == "germline"}
    if other:
        # not offered on the somatic finding (C.3 row 7, ABC4), but germline status is still
        # open for a gene never tested in blood: say what decides it (ASCO-SSO 2024, C.1). A
        # germline test under way is not "not tested": its final result decides.
        untested = [g for g in ("BRCA1", "BRCA2") if g not in done and g not in pending]
        waiting = sorted(pending - done)
        open_germline = "".join(
            [f"; germline {_genes_text(untested)} not tested" if untested else "",
             f"; no final germline {_genes_text(waiting)} result" if waiting else "",
             ": a germline pathogenic variant would select a PARP inhibitor" if untested or waiting else ""])
        return Finding(False, "Somatic-only BRCA variant (not labelled for PARP inhibitors): "
                       + "; ".join([variant_text(state, ctx, v) for v in other]) + open_germline, srcs)
    if done:
        missing = [g for g in ("BRCA1", "BRCA2") if g not in done]
        opening = (f"No final germline {'/'.join(missing)} result" if set(missing) <= pending
                   else f"Germline {'/'.join(missing)} not tested")
        return Finding(None, f"{opening} (germline {'/'.join(sorted(done))} tested: "
                       "no pathogenic variant" + _germline_not_actionable(state, ctx, results) + ")", srcs)
    if pending:
        untested = [g for g in ("BRCA1", "BRCA2") if g not in pending]
        no_final = f"final germline {_genes_text(sorted(pending))} result"
        return Finding(None, f"Germline {'/'.join(untested)} not tested; no {no_final}" if untested
                       else f"No {no_final}", srcs)
    return Finding(None, "Germline BRCA1/2 status not documented", srcs)


def _genes_text(genes: list[str]) -> str:
    """"BRCA1/2" for both genes (as the cards say it), else the gene."""
    return "BRCA1/2" if genes == ["BRCA1", "BRCA2"] else "/".join(genes)


# A germline result classified VUS/benign is a test done with nothing actionable
# (ASCO-SSO: "VUS should not change management"; C.2 step 1: VUS ignored).
NOT_ACTIONABLE = ("vus", "likely-benign", "benign")


def _germline_tested_genes(results: list[VariantResult]) -> set[str]:
    return {v.gene for v in results if v.origin == "germline"
            and (v.result == "not-detected" or v.significance in NOT_ACTIONABLE)}


def _germline_not_actionable(state: PatientState, ctx: Context, results: list[VariantResult]) -> str:
    vus = [v for v in results if v.origin == "germline" and v.result == "detected" and v.significance in NOT_ACTIONABLE]
    return "; not actionable: " + "; ".join([variant_text(state, ctx, v) for v in vus]) if vus else ""


def germline_brca_tested(results: list[VariantResult]) -> bool:
    """Germline BRCA1/2 testing is done (a test already done is not ordered again): both genes,
    since a BRCA1-only result leaves BRCA2 untested (C.2: gBRCA1/2; ASCO-SSO: BRCA1/2 testing)."""
    return _germline_tested_genes(results) >= {"BRCA1", "BRCA2"}


# --- HER2 ------------------------------------------------------------------

# HER2Status.category codes that are not words a report uses (mappings/markers.py): said in
# words on every card that names the category (CR C.2 step 1 "HER2 category")
HER2_CATEGORY_TEXT = {
    "zero-unspecified": "not classified as null or ultralow",  # IHC 0, membrane staining not reported
    "negative-unspecified": "negative without an IHC score",
    "equivocal-pending": "equivocal",  # IHC 2+ without a decided ISH (the IHC score is said beside it)
}


def her2_category_text(category: str) -> str:
    return HER2_CATEGORY_TEXT.get(category, category)


def her2_status_text(her2: HER2Status) -> str:
    """The HER2 category in words, quoting the text when it names more than one IHC score without
    saying which is the result (HER2Status.scores_text): "negative without an IHC score" is untrue
    of 'HER2 1+ (core biopsy), HER2 0 (resection)', which names two (CR C.2 step 1 "HER2 category")."""
    if her2.category == "negative-unspecified" and her2.scores_text:
        return f"negative, the text names more than one IHC score ('{her2.scores_text[:80]}')"
    return her2_category_text(her2.category)


def ish_text(ish: str) -> str:
    """'ISH not amplified' as a pathology report writes it (HER2Status.ish holds the code
    'not-amplified')."""
    return "ISH " + ish.replace("-", " ")


def _her2_text(state: PatientState) -> str:
    h = state.her2
    bits = [f"HER2 {her2_status_text(h)}"]
    if h.ihc_score:
        bits.append(f"IHC {h.ihc_score}")
    if h.ish:
        bits.append(ish_text(h.ish))
    return f"{', '.join(bits)} ({fmt_date(h.date, h.date_last)})"


# what _her2_finding adds after the HER2 fact (the history note); an order card's summary drops it
HER2_HISTORY_NOTE = "; an earlier assessment "


def _her2_finding(state: PatientState, val: bool | None, text: str) -> Finding:
    """A HER2 fact for trastuzumab deruxtecan; when it is not HER2-low but an earlier
    assessment was, that result is named beside it: CR C.2 step 0 prefers the most recent
    biopsy and keeps the history (HER2-low status may differ between primary and metastasis),
    and the label's "as determined by an FDA-approved test" (B.11) does not say which specimen."""
    h = state.her2
    if val is True and h.conflict_with:
        # HER2-low now, HER2-positive before (HER2 can change, C.2 step 0): said beside it
        return Finding(val, f"{text}{HER2_HISTORY_NOTE}differs: {'; '.join(h.conflict_with)} (the most "
                            "recent decides, C.2 step 0)", tuple(h.sources))
    if val is True or not h.earlier_low:
        return Finding(val, text, tuple(h.sources))
    return Finding(val, f"{text}{HER2_HISTORY_NOTE}was HER2-low: {h.earlier_low} (the most recent "
                        "decides, C.2 step 0; the label does not say which specimen, B.11)",
                   tuple(h.sources) + tuple(s for s in h.earlier_low_sources if s not in h.sources))


@rule
def her2_low(state, ctx):
    cat = state.her2.category
    val = True if cat == "low" else None if cat in ("zero-unspecified", "negative-unspecified", "equivocal-pending", "unknown") else False
    text = _her2_text(state)
    if cat == "ultralow":
        # T-DXd label B (DESTINY-Breast04, the only user of this rule) names HER2-low only; an
        # ultralow tumour is labelled through label A alone (CR B.11, C.3 row 9)
        text += ": label B (after chemotherapy) is for HER2-low (IHC 1+ or 2+/ISH-) only"
    return _her2_finding(state, val, text)


@rule
def her2_low_or_ultralow(state, ctx):
    cat = state.her2.category
    if cat in ("low", "ultralow"):
        val = True
    elif cat in ("zero-unspecified", "negative-unspecified", "equivocal-pending", "unknown"):
        val = None
    else:
        val = False
    return _her2_finding(state, val, _her2_text(state))


# --- lines and prior therapy ----------------------------------------------

def _lines_of(ctx: Context, state: PatientState, pred) -> list[TherapyLine]:
    return [ln for ln in state.therapy.metastatic_lines if pred(ln) and ln.number != ctx.line_swapped]


def _lines_fact(state: PatientState, ctx: Context, kind: str) -> tuple[int, str, tuple[Source, ...]]:
    """(count, listing, sources) of the endocrine or chemotherapy metastatic lines, once per call
    (the rules ask for several thresholds)."""
    key = ("_lines", kind)  # not a rule name
    found = ctx.memo.get(key)
    if found is None:
        th = state.therapy
        # a line a drug is swapped within (Context.line_swapped) is the one being judged, not
        # one given before it
        swapped = [ln for ln in th.metastatic_lines if ln.number == ctx.line_swapped]
        if kind == "endocrine":
            lines = [ln for ln in th.metastatic_lines if ln.endocrine and ln not in swapped]
            count = max(th.metastatic_endocrine_lines - sum(ln.endocrine for ln in swapped), len(lines))
        else:
            lines = [ln for ln in th.metastatic_lines if ln.chemotherapy and ln not in swapped]
            count = max(th.metastatic_chemotherapy_lines - sum(ln.chemotherapy for ln in swapped), len(lines))
        found = ctx.memo[key] = (count, line_listing(ctx, lines) or "none documented",
                                 _srcs(*(ln.sources for ln in lines)))
    return found


def counted(n: int, noun: str) -> str:
    """ "1 line", "2 lines", "0 chemotherapy lines": a count as a clinician writes it, not the
    form-letter "line(s)" (DESIGN.md: cards are read at the point of care)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _lines_text(count: int, kind: str, listing: str, needed: int | None = None) -> str:
    short = f", at least {needed} needed" if needed is not None else ""
    return f"{counted(count, kind + ' line')} for metastatic disease{short} ({listing})"


def _lines_at_least(count: int, n: int, kind: str, listing: str, srcs) -> Finding:
    """A line count against a threshold. When it falls short the text names the threshold,
    so a "not offered" line says what was needed, not only what was found."""
    return Finding(count >= n, _lines_text(count, kind, listing, None if count >= n else n), srcs)


@rule
def metastatic_endocrine_lines_at_least(state, ctx, n: int):
    count, listing, srcs = _lines_fact(state, ctx, "endocrine")
    return _lines_at_least(count, n, "endocrine-based", listing, srcs)


@rule
def progressed_on_metastatic_endocrine_lines_at_least(state, ctx, n: int):
    """The "disease progression following" endocrine therapy routes (SERD labels B.2, B.3,
    B.3b; capivasertib B.5; T-DXd label A B.11; C.3 rows 4, 6, 9): the endocrine lines as
    metastatic_endocrine_lines_at_least counts them (an ongoing line: the decision at its
    progression), less a line stopped for a stated non-progression reason with no
    progression documented (TherapyLine.stopped_without_progression: toxicity, choice),
    which was given but is no progression to open a label route on."""
    stopped = [ln for ln in state.therapy.metastatic_lines if ln.endocrine and ln.stopped_without_progression]
    if not stopped:
        return evaluate_rule("metastatic_endocrine_lines_at_least", state, ctx, n=n)
    count, _, _ = _lines_fact(state, ctx, "endocrine")
    kept = [ln for ln in state.therapy.metastatic_lines if ln.endocrine and not ln.stopped_without_progression]
    left = max(count - len(stopped), 0)
    why = f"stopped for a stated reason other than progression: {line_listing(ctx, stopped)}"
    srcs = _srcs(*(ln.sources for ln in kept + stopped))
    if left >= n:
        return Finding(True, f"{counted(left, 'endocrine-based line')} for metastatic disease ({line_listing(ctx, kept)}); "
                             f"not counted, {why}", srcs)
    return Finding(False, f"No progression on {counted(n, 'endocrine-based line')} for metastatic disease documented "
                          f"({left} counted): {why}", srcs)


@rule
def metastatic_chemotherapy_lines_at_least(state, ctx, n: int):
    count, listing, srcs = _lines_fact(state, ctx, "chemotherapy")
    return _lines_at_least(count, n, "chemotherapy", listing, srcs)


@rule
def metastatic_chemotherapy_lines_below(state, ctx, n: int):
    count, listing, srcs = _lines_fact(state, ctx, "chemotherapy")
    return Finding(count < n, _lines_text(count, "chemotherapy", listing), srcs)


@rule
def metastatic_systemic_lines_at_least(state, ctx, n: int):
    listing = line_listing(ctx, state.therapy.metastatic_lines) or "none documented"
    return _lines_at_least(ctx.lines, n, "systemic", listing, ctx.line_sources)


def _endocrine_only_before_metastatic(state, ctx) -> Finding | None:
    """Endocrine therapy given, but none as a metastatic line (adjuvant only): the prior-therapy
    fact, else None."""
    if evaluate_rule("metastatic_endocrine_lines_at_least", state, ctx, n=1).value:
        return None
    early = evaluate_rule("prior_endocrine_any_setting", state, ctx)
    return early if early.value else None


@rule
def sacituzumab_endocrine_therapy(state, ctx):
    """The Trodelvy indication (CR B.12): "who have received endocrine-based therapy and at least
    two additional systemic therapies in the metastatic setting"; C.3 row 11 encodes it as a
    metastatic endocrine line and two more. With endocrine therapy only before metastatic disease
    (adjuvant) and two metastatic lines, the label's words do not say whether "in the metastatic
    setting" binds the endocrine-based therapy too, and TROPiCS-02 took endocrine therapy "in any
    setting" (B.12): the reference does not settle it, so it is left open (None: the summary's
    "waiting on", the order's "label requirement not confirmed"), not refused. With fewer than two
    metastatic lines it stays open too: the refusal is then sacituzumab_systemic_lines' (at least
    2 needed either way), not a metastatic endocrine line the label may not ask for."""
    early = _endocrine_only_before_metastatic(state, ctx)
    if early is None:
        return evaluate_rule("metastatic_endocrine_lines_at_least", state, ctx, n=1)
    return Finding(None, f"{early.text}, none for metastatic disease: the Trodelvy label (\"endocrine-based "
                         "therapy and at least two additional systemic therapies in the metastatic setting\") "
                         "does not say whether the endocrine-based therapy must be in the metastatic setting; "
                         "TROPiCS-02 took it in any setting (B.12)", early.sources)


@rule
def sacituzumab_systemic_lines(state, ctx):
    """The "at least two additional systemic therapies in the metastatic setting" (B.12): with a
    metastatic endocrine line, that line and two more (>= 3 metastatic lines, C.3 row 11); after
    endocrine therapy only before metastatic disease, two metastatic lines (the endocrine
    question is sacituzumab_endocrine_therapy's)."""
    n = 2 if _endocrine_only_before_metastatic(state, ctx) is not None else 3
    return evaluate_rule("metastatic_systemic_lines_at_least", state, ctx, n=n)


# The rules that count metastatic lines: what a course the records leave open as a line can
# decide (unclear_course_decides_line_count)
LINE_COUNT_RULES = frozenset({
    "metastatic_endocrine_lines_at_least", "progressed_on_metastatic_endocrine_lines_at_least",
    "metastatic_chemotherapy_lines_at_least", "metastatic_chemotherapy_lines_below",
    "metastatic_systemic_lines_at_least", "prior_metastatic_chemo_or_early_adjuvant_chemo_relapse",
    "eribulin_label_pretreatment", "visceral_crisis_or_prior_metastatic_line",
    "sacituzumab_endocrine_therapy", "sacituzumab_systemic_lines",
})


def _line_thresholds(reg, state: PatientState, ctx: Context, choice: str | None) -> tuple[bool, list[Finding]]:
    """Whether a regimen's line-count requirements are met as assess reads them (each of its
    `requires`, and one of its label `routes` whole; for a choice, its `choice_requires`),
    with the line-count findings read."""
    refs = reg.choice_requires.get(choice, ()) if choice else reg.requires
    found = [evaluate_rule(r.rule, state, ctx, **r.kw) for r in refs if r.rule in LINE_COUNT_RULES]
    if choice:
        return all(f.value for f in found), found
    met = all(f.value for f in found)
    if any(ref.rule in LINE_COUNT_RULES for route in reg.routes for ref in route.rules):
        routed = False
        for route in reg.routes:
            fs = [evaluate_rule(ref.rule, state, ctx, **ref.kw) for ref in route.rules]
            found += [f for ref, f in zip(route.rules, fs) if ref.rule in LINE_COUNT_RULES]
            if all(f.value for f in fs):
                routed = True
                break
        met = met and routed
    return met, found


@rule
def unclear_course_decides_line_count(state, ctx, regimen: str, choice: str | None = None):
    """A course the records leave open as a line (gaps line-count-unclear,
    regimen-switch-unclear: TherapyHistory.other_line_readings) decides whether this
    regimen's line-count requirements are met: met one way, not the other. The finding names
    the course, its dates and records, and the counts both ways. A course that does not
    change the outcome raises nothing (the summary card asks the question)."""
    readings = state.therapy.other_line_readings
    if not readings:
        return Finding(False, "Every course reads one way as a line")
    from cards.knowledge import REGIMENS_BY_TOPIC  # the knowledge loader checks this module's rules

    reg = REGIMENS_BY_TOPIC[regimen]
    met, found = _line_thresholds(reg, state, ctx, choice)
    said, srcs = [], []
    for r in readings:
        other = state.model_copy(update={"therapy": state.therapy.model_copy(update={
            "metastatic_lines": r.metastatic_lines, "other_line_readings": [],
            "metastatic_endocrine_lines": r.metastatic_endocrine_lines,
            "metastatic_chemotherapy_lines": r.metastatic_chemotherapy_lines,
            "metastatic_systemic_lines": r.metastatic_systemic_lines})})
        other_met, other_found = _line_thresholds(reg, other, Context.of(other), choice)
        if bool(met) == bool(other_met):
            continue
        now = "; ".join(f.text for f, o in zip(found, other_found) if bool(f.value) != bool(o.value))
        alt = "; ".join(o.text for f, o in zip(found, other_found) if bool(f.value) != bool(o.value))
        said.append(f"{r.course} is counted as {r.read_as} ({r.code}): {now}, "
                    f"{'met' if met else 'not met'}; read as {r.other}: {alt}, {'met' if other_met else 'not met'}")
        srcs += r.sources
    if not said:
        return Finding(False, "No course left open as a line changes whether the line requirements are met")
    return Finding(True, ". ".join(said), tuple(srcs))


def _prior(ctx: Context, flag: bool, names: set[str], what: str) -> Finding:
    """A prior-therapy fact from the exposures (indexed once in Context) or the mapper's flag."""
    name_sources = ctx.name_sources
    seen = sorted([n for n in names if n in name_sources])
    if not seen:
        srcs: tuple = ()
    elif len(seen) == 1:
        srcs = tuple(name_sources[seen[0]])
    else:
        srcs = tuple(s for n in seen for s in name_sources[n])
    value = bool(flag or seen)
    text = f"Prior {what}: {', '.join(seen)}" if seen else (f"Prior {what} documented" if value else f"No prior {what} documented")
    return Finding(value, text, srcs)


def _class(ctx: Context, *classes: str) -> set[str]:
    class_names = ctx.class_names
    return {n for c in classes if c in class_names for n in class_names[c]}


@rule
def prior_endocrine_any_setting(state, ctx):
    return _prior(ctx, state.therapy.prior_endocrine_any_setting, _class(ctx, *ENDOCRINE_CLASSES),
                  "endocrine therapy (any setting)")


@rule
def abemaciclib_monotherapy_label(state, ctx):
    """The Verzenio monotherapy indication's conditions (CR B.10 `ind:fda.verzenio:3`: "with disease
    progression following endocrine therapy and prior chemotherapy in the metastatic setting";
    C.2 step 4), read as order_rules.yaml monotherapy_label reads them for an abemaciclib order."""
    found = [evaluate_rule("prior_endocrine_any_setting", state, ctx),
             evaluate_rule("metastatic_chemotherapy_lines_at_least", state, ctx, n=1)]
    value = None if any(f.value is None for f in found) else all(f.value for f in found)
    return Finding(value, "; ".join(f.text for f in found), (*found[0].sources, *found[1].sources))


@rule
def prior_chemotherapy_any_setting(state, ctx):
    return _prior(ctx, state.therapy.prior_chemotherapy_any_setting, _class(ctx, "chemotherapy"),
                  "chemotherapy (any setting)")


@rule
def prior_cdk46i(state, ctx):
    return _prior(ctx, state.therapy.prior_cdk46i, _class(ctx, "cdk46i"), "CDK4/6 inhibitor")


@rule
def no_prior_cdk46i(state, ctx):
    f = evaluate_rule("prior_cdk46i", state, ctx)
    return Finding(not f.value, f.text, f.sources)


@rule
def prior_nonsteroidal_ai(state, ctx):
    return _prior(ctx, state.therapy.prior_nonsteroidal_ai, NSAI, "non-steroidal aromatase inhibitor")


@rule
def nonsteroidal_ai_only_adjuvant_long_before_relapse(state, ctx):
    """A non-steroidal AI given only before metastatic disease, the recurrence more than 12 months
    after adjuvant endocrine therapy was completed (endocrine-sensitive, C.1). The Afinitor label
    asks for "failure of treatment with letrozole or anastrozole" (B.8); the reference gives
    BOLERO-2 as "progression on NSAI" and gates on a prior NSAI (C.2 step 3, C.3 row 8) without
    saying whether such a completed adjuvant course is a failure: the card says so, the patient is
    still offered it (the reference's gate)."""
    given = sorted(n for n in NSAI if n in ctx.name_sources)
    if not given or any(n in ctx.metastatic_drugs for n in given):
        return Finding(False, "")
    relapse = evaluate_rule("adjuvant_endocrine_relapse_within_12_months", state, ctx)
    if relapse.value is True:
        # the relapse on or soon after a later adjuvant endocrine therapy (anastrozole switched
        # to tamoxifen) is that drug's failure: the NSAI's own end decides, as a completed course's
        switched = _nonsteroidal_ai_stopped_before_other_adjuvant_et(state, given)
        if switched is not None:
            return Finding(True, f"{switched[0]}; {relapse.text}: {_NSAI_FAILURE_OPEN}",
                           _srcs(*(ctx.name_sources[n] for n in given), relapse.sources, switched[1]))
    if relapse.value is not False or state.therapy.months_from_adjuvant_endocrine_end_to_metastasis is None:
        return Finding(False, relapse.text, relapse.sources)
    return Finding(True, f"{', '.join(given).capitalize()} given only before metastatic disease; {relapse.text}: "
                         f"{_NSAI_FAILURE_OPEN}", _srcs(*(ctx.name_sources[n] for n in given), relapse.sources))


_NSAI_FAILURE_OPEN = ("whether a completed adjuvant course is the Afinitor label's \"failure of treatment with "
                      "letrozole or anastrozole\" the reference does not say (B.8: BOLERO-2, progression on NSAI; "
                      "C.3 row 8 gates on a prior NSAI)")


def _nonsteroidal_ai_stopped_before_other_adjuvant_et(state, given: list[str]) -> tuple[str, tuple] | None:
    """The adjuvant NSAI courses all ended, more than 12 months before the metastatic diagnosis
    (its earliest date), another adjuvant endocrine therapy after them (C.1: more than 12 months
    after the end, endocrine-sensitive): (text, that therapy's sources); else None."""
    met = state.disease.metastatic_date
    early = [e for e in state.therapy.exposures if e.setting == "early"]
    nsai = [e for e in early if any(d.name in given for d in e.drugs)]
    if met is None or not nsai or any(e.end is None or e.active for e in nsai):
        return None
    end = max(e.end_last or e.end for e in nsai)
    months = months_between(end, met)
    later = [e for e in early if e not in nsai and e.start is not None and e.start >= end
             and any(d.drug_class in ENDOCRINE_CLASSES for d in e.drugs)]
    if months <= 12.0 or not later:
        return None
    names = sorted({d.name for e in later for d in e.drugs if d.drug_class in ENDOCRINE_CLASSES})
    return (f"{', '.join(given).capitalize()} given only before metastatic disease, ended {fmt_date(end)}, "
            f"{months_text(months, 12.0)} before the recurrence (adjuvant {', '.join(names)} after it)",
            _srcs(*(e.sources for e in later)))


def _prior_drug(state, ctx: Context, name: str, flag: bool = False) -> Finding:
    """_prior for one drug, naming the metastatic line(s) that gave it with their dates
    ("Prior fulvestrant in line 2: fulvestrant + abemaciclib from ..."), not the drug again;
    given only before metastatic disease (adjuvant abemaciclib), that setting."""
    f = _prior(ctx, flag, {name}, name)
    lines = _lines_of(ctx, state, lambda ln: name in ln.names) if f.value else []
    if lines:
        return Finding(True, f"Prior {name} in {line_listing(ctx, lines)}", f.sources)
    if f.value and name in ctx.early_drugs and name not in ctx.metastatic_drugs:
        return Finding(True, f"Prior {name} in the adjuvant/neoadjuvant setting (before metastatic disease)", f.sources)
    return f


@rule
def prior_this_cdk46i(state, ctx, drug: str):
    """`drug`, one CDK4/6 inhibitor, given before in any setting: its choice on the fulvestrant
    + CDK4/6i card would give it again (B.9: the evidence after a CDK4/6 inhibitor is
    postMONARCH, abemaciclib, and MAINTAIN, a switch of inhibitor)."""
    return _prior_drug(state, ctx, drug)


@rule
def prior_fulvestrant(state, ctx):
    return _prior_drug(state, ctx, "fulvestrant", state.therapy.prior_fulvestrant)


@rule
def prior_pi3k_akt_mtor(state, ctx):
    return _prior(ctx, state.therapy.prior_pi3k_akt_mtor, _class(ctx, "pi3k-akt-mtor"), "PI3K/AKT/mTOR inhibitor")


@rule
def prior_other_pi3k_akt_mtor(state, ctx, drug: str):
    """A PI3K/AKT/mTOR inhibitor other than `drug` given before (alpelisib, inavolisib or
    everolimus before capivasertib). Not an exclusion where the label has none (CR B.5: the
    Truqap label needs only endocrine progression or an early adjuvant relapse): a caution."""
    others = _class(ctx, "pi3k-akt-mtor") - {drug}
    return _prior(ctx, bool(others), others, "PI3K/AKT/mTOR inhibitor")


@rule
def prior_capivasertib(state, ctx):
    return _prior_drug(state, ctx, "capivasertib")


@rule
def prior_everolimus(state, ctx):
    return _prior_drug(state, ctx, "everolimus")


@rule
def prior_elacestrant(state, ctx):
    return _prior_drug(state, ctx, "elacestrant")


@rule
def prior_imlunestrant(state, ctx):
    return _prior_drug(state, ctx, "imlunestrant")


@rule
def prior_parp_inhibitor(state, ctx):
    return _prior(ctx, state.therapy.prior_parp_inhibitor, _class(ctx, "parp-inhibitor"), "PARP inhibitor")


@rule
def prior_tdxd(state, ctx):
    return _prior(ctx, state.therapy.prior_tdxd, {"trastuzumab deruxtecan"}, "trastuzumab deruxtecan")


@rule
def prior_datodxd(state, ctx):
    return _prior(ctx, state.therapy.prior_datodxd, {"datopotamab deruxtecan"}, "datopotamab deruxtecan")


@rule
def prior_sacituzumab(state, ctx):
    return _prior(ctx, state.therapy.prior_sacituzumab, {"sacituzumab govitecan"}, "sacituzumab govitecan")


@rule
def progressed_on_fulvestrant_cdk46i(state, ctx):
    lines = _lines_of(ctx, state, lambda ln: "fulvestrant" in ln.names and "cdk46i" in ln.classes)
    text = line_listing(ctx, lines) or "No metastatic line of fulvestrant + CDK4/6 inhibitor"
    return Finding(bool(lines), text, _srcs(*(ln.sources for ln in lines)))


@rule
def first_line_or_prior_endocrine(state, ctx):
    if ctx.phase == "first-line":
        return Finding(True, "First line for metastatic disease")
    initial = evaluate_rule("no_metastatic_endocrine_line", state, ctx)
    if initial.value:
        # ribociclib + fulvestrant is also labelled as initial endocrine-based therapy
        # (B.9/B.10), which it still is after first-line chemotherapy (review D1)
        return initial
    return evaluate_rule("prior_endocrine_any_setting", state, ctx)


@rule
def tamoxifen_still_given(state, ctx):
    """Tamoxifen recorded as still given (a recurrence on adjuvant tamoxifen, the record not yet
    stopped): the order hooks warn on ribociclib with it (order_rules.yaml ribociclib-tamoxifen,
    C.2 safety overlays), so a card recommending ribociclib says to stop it first."""
    given = [e for e in state.therapy.exposures if e.active and any(d.name == "tamoxifen" for d in e.drugs)]
    if not given:
        return Finding(False, "No tamoxifen recorded as still given")
    start = min((e.start for e in given if e.start), default=None)
    since = f" since {fmt_date(start)}" if start else ""
    return Finding(True, f"Tamoxifen recorded as still given{since}", _srcs(*(e.sources for e in given)))


@rule
def progression_on_or_after_endocrine_therapy(state, ctx):
    """The "disease progression following / after endocrine therapy" of the palbociclib and
    abemaciclib + fulvestrant labels (B.9 (iv), ind:fda.verzenio:2, ind:fda.ibrance:1): an
    endocrine line for metastatic disease, or an endocrine-resistant relapse on or within 12
    months of adjuvant endocrine therapy (ABC4, C.1). A relapse more than 12 months after it is
    endocrine-sensitive: C.2 step 2 gives it "AI + CDK4/6i ... or fulvestrant + ribociclib
    (label: 'initial endocrine-based therapy')", not the post-progression combinations. Only a
    relapse shown to be endocrine-sensitive, or de novo metastatic disease, whose metastatic
    endocrine lines all stopped without progression fails; a timing the record leaves open keeps the
    prior endocrine therapy as before (a concrete choice has no "unknown" state: an order for
    it would read "not indicated")."""
    count, listing, srcs = _lines_fact(state, ctx, "endocrine")
    if count:
        on_lines = evaluate_rule("progressed_on_metastatic_endocrine_lines_at_least", state, ctx, n=1)
        before = {"sensitive": "endocrine-sensitive before it",
                  "de-novo": "de novo metastatic disease, no endocrine therapy before it"}
        if on_lines.value is False and state.therapy.endocrine_resistance in before:
            # every metastatic endocrine line stopped for toxicity or choice, no progression on
            # it, after an endocrine-sensitive relapse or in de novo metastatic disease (no
            # adjuvant endocrine therapy): no progression on endocrine therapy yet (B.9 (iv))
            return Finding(False, f"{on_lines.text}; {before[state.therapy.endocrine_resistance]} (labelled "
                                  "after progression on endocrine therapy; C.2 step 2)",
                           on_lines.sources + _srcs(state.therapy.endocrine_resistance_sources))
        return Finding(True, f"{counted(count, 'endocrine-based line')} for metastatic disease ({listing})", srcs)
    prior = evaluate_rule("prior_endocrine_any_setting", state, ctx)
    swapped = ctx.current_line if ctx.line_swapped is not None else None
    if swapped is not None:
        # a drug swapped within the running line, judged as at its start (the order hooks'
        # line_assessment): no metastatic endocrine line before it, so the endocrine therapy
        # before it is the (neo)adjuvant one; the running line shows no progression (C.2 step 1)
        early = _class(ctx, *ENDOCRINE_CLASSES) & ctx.early_drugs
        if not early:
            return Finding(False, f"No progression on endocrine therapy before the running "
                                  f"{line_listing(ctx, [swapped])}, none documented on it (labelled after "
                                  "progression on endocrine therapy; B.9 (iv))", _srcs(swapped.sources))
        prior = _prior(ctx, False, early, "endocrine therapy (any setting)")
    if not prior.value:
        return prior
    adj = evaluate_rule("adjuvant_endocrine_relapse_within_12_months", state, ctx)
    if adj.value:
        return adj
    if adj.value is False and state.therapy.endocrine_resistance == "sensitive":
        return Finding(False, f"{adj.text}: endocrine-sensitive, no progression on endocrine therapy "
                              "(labelled after progression on endocrine therapy; C.2 step 2)", adj.sources)
    return prior


@rule
def progression_after_endocrine_therapy_unconfirmed(state, ctx):
    """progression_on_or_after_endocrine_therapy met on prior endocrine therapy alone while the
    relapse timing after adjuvant endocrine therapy is undecided (no metastatic endocrine line,
    no documented primary/secondary resistance): palbociclib / abemaciclib + fulvestrant stay
    offered, and the card says their label's "disease progression after endocrine therapy"
    (B.9 (iv)) is not confirmed, as the order hooks' "label requirement not confirmed" card does
    (order_rules.yaml choice_requirements_open, the same reading)."""
    met = evaluate_rule("progression_on_or_after_endocrine_therapy", state, ctx)
    if not met.value or state.therapy.endocrine_resistance in ("primary", "secondary"):
        return Finding(False, met.text, met.sources)
    if evaluate_rule("metastatic_endocrine_lines_at_least", state, ctx, n=1).value:
        return Finding(False, met.text, met.sources)
    timing = evaluate_rule("adjuvant_endocrine_relapse_within_12_months", state, ctx)
    return Finding(timing.value is None, timing.text, timing.sources)


@rule
def endocrine_progression_documented_beyond_running_line(state, ctx):
    """Whether the "disease progression after endocrine therapy" of the palbociclib and abemaciclib
    + fulvestrant labels (B.9 (iv)) rests on a documented progression, or only on the running
    metastatic endocrine line, which progressed_on_or_after_endocrine_therapy counts as given (the
    pathway reads an ongoing line at its progression: patient-view offers the regimen as the next
    line). None (open) when the running line is endocrine, no progression is documented on it
    (a disease-status "worsening" dated after its start, or its end by progression), no earlier
    metastatic endocrine line ended otherwise than for a stated non-progression reason, and no
    endocrine resistance (a relapse on or within 12 months of adjuvant ET, C.1) is documented:
    an order signed now would not meet the label. True otherwise (nothing running: the pathway's
    own reading stands)."""
    th = state.therapy
    line = ctx.current_line
    if line is None or not line.endocrine or line.progressed or th.endocrine_resistance in ("primary", "secondary"):
        return Finding(True, "")
    progression = th.last_endocrine_progression_last or th.last_endocrine_progression
    if progression is not None and line.start is not None and progression > line.start:
        return Finding(True, "")  # dated after the line started: a progression on it (C.2 step 1)
    if any(ln.endocrine and not ln.stopped_without_progression for ln in th.metastatic_lines if ln is not line):
        return Finding(True, "")  # an earlier endocrine line, ended by progression (the mappings' proxy)
    which = "first line" if line.number == 1 else f"line {line.number}"
    return Finding(None, f"the running {which} ({' + '.join(line.names)}) has no recorded progression",
                   _srcs(line.sources))


@rule
def no_metastatic_endocrine_line(state, ctx):
    """No endocrine-based line for metastatic disease yet: endocrine-based therapy would be
    the initial one, also after chemotherapy (C.2 step 2: visceral crisis -> chemotherapy,
    then ET-based therapy after stabilisation; B.10 "initial endocrine-based therapy")."""
    count, _, _ = _lines_fact(state, ctx, "endocrine")
    if count:
        return Finding(False, f"{counted(count, 'endocrine-based line')} for metastatic disease")
    chemo, listing, srcs = _lines_fact(state, ctx, "chemotherapy")
    if chemo:
        return Finding(True, f"No endocrine-based therapy for metastatic disease yet, after "
                             f"{counted(chemo, 'chemotherapy line')} ({listing}): endocrine-based therapy would be the initial one", srcs)
    return Finding(True, "No endocrine-based therapy for metastatic disease yet")


@rule
def visceral_crisis_or_prior_metastatic_line(state, ctx):
    if state.disease.visceral_crisis:
        return evaluate_rule("visceral_crisis", state, ctx)
    f = evaluate_rule("metastatic_systemic_lines_at_least", state, ctx, n=1)
    if f.value:
        return f
    # both alternatives named: chemotherapy comes first only in a visceral crisis (C.2 step 2)
    return Finding(False, "No visceral crisis asserted and no systemic line for metastatic disease yet",
                   f.sources)


@rule
def prior_metastatic_chemo_or_early_adjuvant_chemo_relapse(state, ctx):
    th = state.therapy
    f = evaluate_rule("metastatic_chemotherapy_lines_at_least", state, ctx, n=1)
    if f.value:
        return f
    within = th.chemotherapy_within_6_months_of_adjuvant_end
    if within or within is None:
        srcs = tuple(s for n in sorted(_class(ctx, "chemotherapy")) for s in ctx.name_sources.get(n, ()))
        if within is None:  # gaps adjuvant-chemotherapy-end-unknown / -end-not-recorded
            why = ("an adjuvant chemotherapy has no end date, and when it ended decides it"
                   if any(g.code == "adjuvant-chemotherapy-end-not-recorded" for g in state.gaps)
                   else "a date without a day (year or month only) decides it")
            return Finding(None, "Recurrence within 6 months of completing adjuvant chemotherapy cannot be "
                                 f"confirmed: {why}", srcs)
        return Finding(True, "Recurrence during or within 6 months of completing adjuvant chemotherapy", srcs)
    return Finding(False, "No chemotherapy for metastatic disease and no relapse within 6 months of adjuvant chemotherapy")


ANTHRACYCLINES = ("doxorubicin", "epirubicin")
TAXANES = ("paclitaxel", "docetaxel", "paclitaxel protein-bound")
ERIBULIN_LABEL = ("Eribulin label: after an anthracycline and a taxane and >= 2 chemotherapy regimens "
                  "for metastatic disease")


@rule
def eribulin_label_pretreatment(state, ctx):
    # Each of the three requirements is named with what the record shows, so a "not
    # offered" line says which one is missing, not only that the label is not met.
    th = state.therapy
    anth = [n for n in ANTHRACYCLINES if n in ctx.all_drugs]
    tax = [n for n in TAXANES if n in ctx.all_drugs]
    chemo = evaluate_rule("metastatic_chemotherapy_lines_at_least", state, ctx, n=2)
    has_anth, has_tax = bool(th.prior_anthracycline or anth), bool(th.prior_taxane or tax)
    ok = bool(has_anth and has_tax and chemo.value)
    facts = [(has_anth, f"anthracycline ({', '.join(anth)})" if anth else "anthracycline" if has_anth
              else "no anthracycline documented"),
             (has_tax, f"taxane ({', '.join(tax)})" if tax else "taxane" if has_tax else "no taxane documented"),
             (bool(chemo.value), chemo.text)]
    srcs = _srcs(*(ctx.name_sources.get(n, ()) for n in anth + tax), chemo.sources)
    # the facts first: an order card's summary shows its first words. When the label is not
    # met, what it still needs comes first and what was given after "Given:", so a "not
    # offered" line does not read as if the anthracycline or taxane kept eribulin off (B.14)
    missing = [t for met, t in facts if not met]
    given = [t for met, t in facts if met]
    text = "; ".join(missing or given) + (f". Given: {'; '.join(given)}" if missing and given else "")
    return Finding(ok, f"{text[:1].upper()}{text[1:]}. {ERIBULIN_LABEL}", srcs)


# --- endocrine resistance --------------------------------------------------

def _adjuvant_et_sources(state: PatientState) -> tuple[Source, ...]:
    srcs = _srcs(state.therapy.endocrine_resistance_sources)
    if not srcs:
        srcs = _srcs(*(e.sources for e in state.therapy.exposures
                       if e.setting == "early" and any(d.drug_class in ENDOCRINE_CLASSES for d in e.drugs)))
    return srcs


def latest_written(dates: list[tuple[dt.date | None, dt.date | None]]) -> str | None:
    """The latest of (first day, last day or None), as written: a date without a day shows as
    written when it holds the latest first day; a full date later than a partial one's first
    day but inside its range leaves "between"."""
    firsts = [a for a, _ in dates if a]
    if not firsts:
        return None
    first = max(firsts)
    last = max(b or a for a, b in dates if a)
    return fmt_date(first, last if last != first else None)


def adjuvant_end_text(th) -> str:
    """The adjuvant ET end the relapse timing used (the latest early ET end), as written."""
    ends = [(e.end, e.end_last) for e in th.exposures if e.setting == "early" and e.end == th.adjuvant_endocrine_end
            and any(d.drug_class in ENDOCRINE_CLASSES for d in e.drugs)]
    return latest_written(ends) or fmt_date(th.adjuvant_endocrine_end)


def relapse_months_text(th) -> str:
    """The months from the end of adjuvant ET to the recurrence: "14.2 months", or "13.2 to 25.1
    months" when the end or the metastatic date has no day (TherapyHistory..._range): never a
    count from a first day the record does not contain. The 12-month boundary (CR C.3 row 1)
    is never printed for a value beside it (months_text)."""
    span = th.months_from_adjuvant_endocrine_end_to_metastasis_range
    if span is not None:
        low, high = months_text(span[0], 12.0), months_text(span[1], 12.0)
        return f"{low.removesuffix(' months')} to {high}"
    return months_text(th.months_from_adjuvant_endocrine_end_to_metastasis, 12.0)


@rule
def adjuvant_endocrine_relapse_within_12_months(state, ctx):
    th = state.therapy
    srcs = _adjuvant_et_sources(state)
    if th.on_adjuvant_endocrine_at_recurrence:
        return Finding(True, "Recurrence on adjuvant endocrine therapy", srcs)
    months = th.months_from_adjuvant_endocrine_end_to_metastasis
    if months is not None:
        ok = months <= 12.0
        # the 12 months named either way and early (an order card's summary is clipped),
        # so a "not indicated" reason says what was needed
        return Finding(ok, f"Recurrence {relapse_months_text(th)} ({'within' if ok else 'more than'} 12) "
                           f"after completing adjuvant endocrine therapy (ended {adjuvant_end_text(th)})", srcs)
    if th.endocrine_resistance == "de-novo" or state.disease.de_novo_metastatic:
        return Finding(False, "De novo metastatic disease (no adjuvant endocrine therapy)", srcs)
    early_et = any(d.drug_class in ENDOCRINE_CLASSES for e in th.exposures if e.setting == "early" for d in e.drugs)
    if early_et or th.adjuvant_endocrine_end:
        d = state.disease
        if d.metastatic_date is not None and d.metastatic_date_latest is not None:
            # the end may be known: it is the recurrence that has no day (mappings gap
            # adjuvant-endocrine-end-unknown says which dates decide)
            return Finding(None, "Recurrence timing after adjuvant endocrine therapy unknown: the metastatic date "
                                 f"is {range_text(d.metastatic_date, d.metastatic_date_latest)}, no day given",
                           srcs + _srcs(d.metastatic_sources[:1]))
        return Finding(None, "Adjuvant endocrine therapy documented but its end date relative to recurrence is unknown", srcs)
    if th.endocrine_resistance in ("primary", "secondary"):
        return Finding(None, f"Endocrine resistance '{th.endocrine_resistance}' documented without adjuvant dates", srcs)
    return Finding(False, "No adjuvant endocrine therapy documented", srcs)


@rule
def relapse_on_or_within_12_months_of_adjuvant_ai(state, ctx):
    f = evaluate_rule("adjuvant_endocrine_relapse_within_12_months", state, ctx)
    early = {d.name: d.drug_class for e in state.therapy.exposures if e.setting == "early"
             for d in e.drugs if d.drug_class in ENDOCRINE_CLASSES}
    early_et = sorted(early)
    if "aromatase-inhibitor" not in early.values():
        # Shown as "Not excluded: ..." on the AI card: say why the timing does not matter
        # (C.2 step 2: only an adjuvant AI makes the patient AI-resistant), so an early
        # relapse after tamoxifen does not read as the reason the regimen fits (review #13)
        if not early_et:
            text = f.text if f.value is False else f"No adjuvant aromatase inhibitor documented ({_lower(f.text)})"
        elif f.value:
            text = (f"Early relapse after adjuvant endocrine therapy does not exclude an aromatase inhibitor here: "
                    f"the adjuvant therapy was {', '.join(early_et)}, not an aromatase inhibitor; {_lower(f.text)}")
        else:
            text = (f"The adjuvant endocrine therapy was {', '.join(early_et)}, not an aromatase inhibitor; "
                    f"{_lower(f.text)}")
        return Finding(False, text, f.sources)
    # an undecidable timing stays undecidable (None): read as False it would make the
    # patient endocrine-sensitive by default (C.2 step 2 needs the timing)
    return Finding(f.value, f.text, f.sources)


@rule
def primary_resistance_on_first_line_cdk46i(state, ctx):
    th = state.therapy
    v = th.progression_within_6_months_on_cdk46i
    if not v:
        return Finding(False, "No early progression on CDK4/6 inhibitor documented")
    # the fact with its line, dates and records, like every other fact on a card (review #17);
    # the line is the first metastatic line with a CDK4/6 inhibitor, as mappings time it
    ln = next((x for x in th.metastatic_lines if "cdk46i" in x.classes), None)
    if ln is None:
        return Finding(True, "Progression within 6 months on first-line CDK4/6 inhibitor")
    months = f", {months_text(th.cdk46i_months, 6.0)} on the CDK4/6 inhibitor" if th.cdk46i_months is not None else ""
    return Finding(True, f"Progression within 6 months on first-line CDK4/6 inhibitor "
                         f"({_line_text(ln)}{months})", tuple(ln.sources))


@rule
def er_positive(state, ctx):
    """ER-positive disease, as the oral SERD labels say ("ER-positive", B.2 Orserdu, B.3 Inluriyo,
    B.3b Veppanu as reported), where the other labels say "HR-positive" (PR-positive enough).
    ER-low (1-10 % of cells) is ER-positive (ASCO/CAP 2020: 1-100 % "should be interpreted as ER
    positive", reported as ER Low Positive; source asco-cap-er-2020); the er-low caution says
    what that means. ER not documented decides nothing: the regimen waits on ER testing."""
    er, pr = state.er, state.pr
    if er.status == "positive":
        pct = f", {er.percent:g} % cells" if er.percent is not None else ""
        low = ", ER-low (ASCO/CAP: ER-positive)" if er.low_positive else ""
        return Finding(True, f"ER-positive{pct}{low} ({fmt_date(er.date, er.date_last)})", tuple(er.sources))
    if er.status == "negative":
        return Finding(False, f"ER-negative ({fmt_date(er.date, er.date_last)}), PR {pr.status}: the label requires "
                              "ER-positive disease", tuple(er.sources) + tuple(pr.sources))
    return Finding(None, f"ER status not documented (PR {pr.status}): the label requires ER-positive disease",
                   tuple(pr.sources))


@rule
def er_low_only(state, ctx):
    er, pr = state.er, state.pr
    val = er.status == "positive" and er.low_positive and pr.status != "positive"
    pct = f" {er.percent:g} %" if er.percent is not None else ""
    return Finding(val, f"ER-low{pct}, PR {pr.status}" if val else f"ER {er.status}{pct}",
                   tuple(er.sources) + tuple(pr.sources))


# --- patient factors -------------------------------------------------------

# What the menopausal status rests on (PatientFactors.menopausal_basis, mappings/factors.py), in
# words: "basis: age-rule" / "basis: gnrh-agonist" were the mapper's codes
MENOPAUSAL_BASIS_TEXT = {
    "observation": "recorded",
    "oophorectomy": "by bilateral oophorectomy",
    "gnrh-agonist": "by ongoing GnRH agonist",
    "age-rule": f"by age >= {AGE_RULE_POSTMENOPAUSAL}, not recorded",
    "male": "not applicable to a man",
}


def menopausal_basis_text(f) -> str:
    """' (recorded)', ' (by age >= 60, not recorded)' ...; '' when the basis is unknown."""
    words = MENOPAUSAL_BASIS_TEXT.get(f.menopausal_basis)
    return f" ({words})" if words else ""


def _meno_text(state: PatientState) -> str:
    f = state.factors
    return f"{f.sex}, {f.menopausal_status}{menopausal_basis_text(f)}"


def _sex_read_from(f) -> str:
    """Where a sex not from Patient.gender was read (PatientFactors.sex_basis), for the cards to say."""
    return f" (sex read from {f.sex_basis}; Patient.gender gives no sex)" if f.sex_basis else ""


@rule
def male(state, ctx):
    f = state.factors
    return Finding(f.sex == "male", "Man" + (f", age {f.age}" if f.age is not None else "") + _sex_read_from(f)
                   if f.sex == "male" else f"Sex: {f.sex}")


def _gnrh_not_current(f) -> str:
    """The GnRH-agonist records read but not counted as current (gap ovarian-suppression-not-current:
    no dose within the depot's 28 days / 12 weeks, undated, or starting after as_of), for a caution to name."""
    if not f.ovarian_suppression_not_current:
        return ""
    return " (GnRH-agonist records not counted as current: " + "; ".join(f.ovarian_suppression_not_current) + ")"


@rule
def male_without_lhrh_agonist(state, ctx):
    # C.2 step 2: "Men -> AI + CDK4/6i with LHRH agonist" (Ibrance label: consider one, C.3 row 16)
    f = state.factors
    if f.sex != "male":
        return Finding(False, f"Sex: {f.sex}")
    if f.ovarian_suppression:
        return Finding(False, "Man on a documented LHRH agonist", tuple(f.ovarian_suppression_sources))
    return Finding(True, "Man without a documented LHRH agonist" + _gnrh_not_current(f) + _sex_read_from(f),
                   _srcs(f.menopausal_sources, f.ovarian_suppression_not_current_sources))


@rule
def postmenopausal_woman(state, ctx):
    f = state.factors
    if f.sex == "male":
        return Finding(False, "Male patient (label: postmenopausal women only)")
    if f.sex != "female":
        return Finding(None, f"Sex not documented as female ({f.sex})")
    if f.menopausal_status == "postmenopausal" and f.menopausal_basis == "gnrh-agonist":
        return Finding(None, "Postmenopausal only by ongoing GnRH agonist (ovarian suppression), natural "
                             "menopausal status not documented (label: postmenopausal women)", tuple(f.menopausal_sources))
    if f.menopausal_status == "postmenopausal":
        return Finding(True, _meno_text(state), tuple(f.menopausal_sources))
    if f.menopausal_status == "unknown":
        return Finding(None, "Menopausal status not documented", tuple(f.menopausal_sources))
    return Finding(False, f"{f.menopausal_status.capitalize()} woman (label: postmenopausal women only)",
                   tuple(f.menopausal_sources))


@rule
def postmenopausal_woman_or_man(state, ctx):
    if state.factors.sex == "male":
        return Finding(True, "Adult man")
    f = evaluate_rule("postmenopausal_woman", state, ctx)
    if f.value is False:
        return Finding(False, f.text.replace("postmenopausal women only", "postmenopausal women or adult men only"), f.sources)
    return f


@rule
def pre_or_perimenopausal(state, ctx):
    """A pre/perimenopausal patient who is not a man, with or without ovarian suppression:
    outside a label's "postmenopausal women" (fulvestrant, B.9; C.3 row 15)."""
    f = state.factors
    if not _functioning_ovaries(f):
        return Finding(False, _meno_text(state))
    ofs = "ovarian function suppression documented" if f.ovarian_suppression else \
        "no ovarian function suppression documented"
    who = "woman" if f.sex == "female" else "patient"
    return Finding(True, f"{f.menopausal_status.capitalize()} {who}, {ofs}",
                   _srcs(f.menopausal_sources, f.ovarian_suppression_sources))


def _functioning_ovaries(f) -> bool:
    """A documented pre/perimenopausal status means functioning ovaries whatever the
    recorded sex says (unknown, other): only a man is excluded (C.3 row 15)."""
    return f.sex != "male" and f.menopausal_status in ("premenopausal", "perimenopausal")


@rule
def needs_ovarian_suppression(state, ctx):
    f = state.factors
    val = _functioning_ovaries(f) and not f.ovarian_suppression
    who = "woman" if f.sex == "female" else "patient"
    text = f"{f.menopausal_status.capitalize()} {who} without documented ovarian function suppression" if val \
        else ("Ovarian function suppression documented" if f.ovarian_suppression else _meno_text(state))
    if val:
        # "woman" of a Patient.gender other / unknown: say the sex came from a sex extension, as the man's caution does
        text += _gnrh_not_current(f) + _sex_read_from(f)
    return Finding(val, text, _srcs(f.menopausal_sources, f.ovarian_suppression_sources,
                                    f.ovarian_suppression_not_current_sources if val else ()))


def _suppression_by_drug(state) -> tuple:
    """The GnRH-agonist records among those the documented suppression counts
    (PatientFactors.ovarian_suppression_sources: an active ovarian-suppression drug, not an
    oophorectomy or ablation, which the mapping counts instead of a drug when both are there)."""
    counted = {s.reference for s in state.factors.ovarian_suppression_sources}
    return tuple(s for e in state.therapy.exposures if e.active
                 and any(d.drug_class == "ovarian-suppression" for d in e.drugs)
                 for s in e.sources if s.reference in counted)


def ovarian_suppression_text(state) -> str:
    """The summary's words for a documented ovarian function suppression: "ongoing" only for a
    GnRH agonist; a bilateral oophorectomy ends ovarian function (postmenopausal by surgery, CR
    A.3) and an ovarian ablation by radiotherapy is permanent suppression (CR C.1 ABC4), neither
    a suppression that goes on (mappings/factors.py counts the surgery before a drug and names
    each source: "Bilateral oophorectomy", "Acquired absence of both ovaries", "Ovarian ablation
    by radiotherapy")."""
    if _suppression_by_drug(state):
        # a man has no ovaries: his GnRH agonist is the LHRH agonist C.2 step 2 gives with an AI,
        # as his regimen cards name it ("Man on a documented LHRH agonist")
        return "LHRH agonist ongoing (C.2 step 2)" if state.factors.sex == "male" else "Ovarian function suppression ongoing"
    shown = [s.display or "" for s in state.factors.ovarian_suppression_sources]
    if shown and all(d.startswith("Ovarian ablation") for d in shown):
        return "Ovarian ablation by radiotherapy: permanent ovarian function suppression (CR C.1 ABC4)"
    status = state.factors.menopausal_status
    if status in ("premenopausal", "perimenopausal"):
        # a status recorded after the surgery: CR A.3 ranks the recorded status above the
        # oophorectomy (mappings/factors.py), so "postmenopausal by surgery" would contradict the
        # status line above; the records disagree and the clinician confirms which holds
        return (f"Bilateral oophorectomy documented, yet the menopausal status recorded is {status}: confirm which "
                "holds (CR A.3 ranks a recorded status first); no ovarian suppression to keep going")
    return "Bilateral oophorectomy: postmenopausal by surgery (CR A.3), no ovarian suppression to keep going"


@rule
def suppression_to_continue(state, ctx, men: bool = False):
    """The suppression an endocrine-based card needs is documented, so the card names it as a
    requirement met and to be kept through the change of line (the cautions ofs-missing /
    male-ai-lhrh cover its absence): ovarian function suppression in a patient with functioning
    ovaries, or postmenopausal only by an ongoing GnRH agonist (C.3 row 15: OFS required with
    AI, fulvestrant, CDK4/6i, capivasertib, inavolisib); with `men`, the regimen's LHRH agonist for
    a man (C.2 step 2: with an AI; with inavolisib + palbociclib + fulvestrant per clinical practice)."""
    f = state.factors
    if not f.ovarian_suppression:
        return Finding(False, "No ovarian function suppression documented")
    srcs = tuple(f.ovarian_suppression_sources)
    if not _suppression_by_drug(state):
        # a bilateral oophorectomy or an ovarian ablation (C.3 row 15): permanent, nothing to keep going
        return Finding(False, "Ovarian function suppression by surgery or ablation: nothing to keep going", srcs)
    if f.sex == "male":
        if not men:
            return Finding(False, "Man: the reference asks for an LHRH agonist only with an AI or inavolisib", srcs)
        return Finding(True, "Man on a documented LHRH agonist: keep it with this regimen (C.2 step 2)"
                       + _sex_read_from(f), srcs)
    if _functioning_ovaries(f):
        who = "woman" if f.sex == "female" else "patient"
        return Finding(True, f"{f.menopausal_status.capitalize()} {who}, ovarian function suppression documented: "
                             "required with this endocrine-based regimen, keep it (C.3 row 15)",
                       _srcs(f.menopausal_sources, srcs))
    if f.menopausal_basis == "gnrh-agonist":
        return Finding(True, "Postmenopausal only by an ongoing GnRH agonist (ovarian function suppression): "
                             "required with this endocrine-based regimen, keep it (C.3 row 15)", srcs)
    return Finding(False, _meno_text(state), srcs)


@rule
def menopausal_status_unknown_female(state, ctx):
    """Menopausal status unknown in a patient who may have ovaries: anyone not recorded as a
    man. Patient.gender "other" (FHIR R4 AdministrativeGender: neither male nor female) is
    read as "unknown" is (the mapper's gap menopausal-status-unknown names both): CR A.3
    "unknown -> ask", C.3 row 15 (pre/perimenopausal: OFS required)."""
    f = state.factors
    val = f.sex != "male" and f.menopausal_status == "unknown" and not f.ovarian_suppression
    return Finding(val, "Menopausal status not documented" if val else _meno_text(state))


@rule
def childbearing_potential(state, ctx):
    """Pre/perimenopausal, or anyone not recorded as a man whose menopausal status is not
    documented (CR A.3 "unknown -> ask"; the age rule already reads >= 60 as postmenopausal):
    the embryo-fetal information (C.2 safety overlays) is for them, the patient line says which."""
    f = state.factors
    if _functioning_ovaries(f):
        return Finding(True, _meno_text(state))
    if f.sex != "male" and f.menopausal_status == "unknown":
        return Finding(True, f"{f.sex}, menopausal status not documented: childbearing potential not excluded")
    if (f.sex != "male" and f.menopausal_basis == "gnrh-agonist"
            and (f.age is None or f.age < AGE_RULE_POSTMENOPAUSAL)):
        # "postmenopausal" read from an ongoing GnRH agonist only (CR A.3 ranks it above the age
        # rule for the endocrine choice): the ovaries are suppressed, not ended, and the sources
        # do not say that excludes pregnancy, so not excluded (as for a recorded premenopausal
        # woman on ovarian suppression, who gets it)
        return Finding(True, f"{_meno_text(state)}: ovarian function suppressed, not ended: "
                             "childbearing potential not excluded", _srcs(f.menopausal_sources))
    return Finding(False, _meno_text(state))


# --- lab values against thresholds ------------------------------------------
# HbA1c >= 6.5 % and fasting glucose >= 126 mg/dL: mappings.state (HBA1C_HIGH_PERCENT,
# FASTING_GLUCOSE_HIGH_MG_DL, with their sources), the levels the mapper reads too. QTcF >=
# 450 ms: CR B.10 ribociclib row ("start only if QTcF <450 ms"), C.2 safety overlays ("QTc
# >=450 ms"). The HbA1c stop threshold (8.0 %, CR B.5 CAPItello-291) is regimens.yaml's
# threshold_percent.
QTC_LIMIT_MS = 450.0
# lab key -> (name in a sentence, default unit)
LAB_NAMES = {"hba1c": ("HbA1c", "%"), "glucose": ("fasting glucose", "mg/dL"), "qtc": ("QTc", "ms")}


def lab_text(name: str, lab: LabValue, unit: str) -> str:
    """"HbA1c 7.1 % (2024-06-10)": the value as written (a bound with its comparator, "<6.5"),
    the date as written ("2024-06" for a month without a day, never its first day)."""
    status = f", status {lab.status_not_final}: not final" if lab.status_not_final else ""
    return f"{name} {lab.written} {lab.unit or unit} ({fmt_date(lab.date, lab.date_last)}{status})"


def rule_lab_thresholds(rule_name: str, kw: dict) -> list[tuple[str, float, bool]]:
    """(lab key, threshold, strict ">") of each lab the rule reads against a threshold."""
    if rule_name == "diabetes_or_hyperglycemia":
        return [("hba1c", HBA1C_HIGH_PERCENT, False), ("glucose", FASTING_GLUCOSE_HIGH_MG_DL, False)]
    if rule_name == "uncontrolled_diabetes_by_hba1c":
        return [("hba1c", float(kw["threshold_percent"]), True)]
    if rule_name == "qtc_450_or_more":
        return [("qtc", QTC_LIMIT_MS, False)]
    return []


def _lab(state: PatientState, key: str) -> LabValue | None:
    f = state.factors
    return {"hba1c": f.diabetes.hba1c, "glucose": f.diabetes.fasting_glucose, "qtc": f.qtc_ms}[key]


def _reaches(key: str, lab: LabValue, threshold: float, strict: bool) -> bool | None:
    value = hba1c_percent(lab) if key == "hba1c" else lab.value
    # a result not final raises a caution but never clears one (state.not_final_reaches)
    return not_final_reaches(bound_reaches(value, lab.comparator, threshold, strict),  # type: ignore[arg-type]
                             lab.status_not_final)


def _threshold_text(key: str, threshold: float) -> str:
    return f"{threshold:.1f}" if key == "hba1c" else f"{threshold:g}"


def undecided_need(lab: LabValue) -> str:
    """What an undecided lab (undecided_labs) needs: a measured value for a bound, the final
    result for a result not final (FHIR R4 ObservationStatus)."""
    return ("the final result is needed" if lab.status_not_final and not lab.comparator
            else "a measured value is needed")


def undecided_labs(state: PatientState, refs) -> dict[str, tuple[LabValue, str]]:
    """The labs the rules of `refs` (RuleRefs) read against a threshold that their value, written
    as a bound ("HbA1c >7 %"), leaves undecided: lab key -> (the lab, "HbA1c >7 % (2025-06-20) does
    not say whether it is above 8.0 %"). The rules then decide nothing (Finding value None),
    so the cards treat the lab as missing for that threshold, never guess."""
    f = state.factors
    # only a bound or a result not final can leave a threshold undecided (called for every
    # regimen card; a loop, not any(<generator>), for the three labs)
    for lab in (f.diabetes.hba1c, f.diabetes.fasting_glucose, f.qtc_ms):
        if lab is not None and (lab.comparator or lab.status_not_final):
            break
    else:
        return {}
    open_: dict[str, set[tuple[float, bool]]] = {}
    for ref in refs:
        for key, threshold, strict in rule_lab_thresholds(ref.rule, ref.kw):
            lab = _lab(state, key)
            if lab is not None and _reaches(key, lab, threshold, strict) is None:
                open_.setdefault(key, set()).add((threshold, strict))
    out: dict[str, tuple[LabValue, str]] = {}
    for key, thresholds in open_.items():
        lab = _lab(state, key)
        name, unit = LAB_NAMES[key]
        which = " or ".join(f"{'above' if strict else 'at or above'} {_threshold_text(key, t)} {unit}"
                            for t, strict in sorted(thresholds))
        says = ("cannot clear the caution: not known whether it is " + which
                if lab.status_not_final and not lab.comparator else f"does not say whether it is {which}")  # type: ignore[union-attr]
        out[key] = (lab, f"{lab_text(name[:1].upper() + name[1:], lab, unit)} {says}")  # type: ignore[arg-type]
    return out


# Diabetes.status as a clinician reads it (the summary, the cautions and the order cards)
DIABETES_STATUS_TEXT = {"type1": "type 1 diabetes", "type2-treated": "type 2 diabetes, on glucose-lowering treatment",
                        "type2-untreated": "type 2 diabetes, no glucose-lowering treatment recorded",
                        "lab-only": "diabetes by laboratory values", "none-documented": "no diabetes documented"}


# a type2-* status whose type the record does not give as type 2 (Diabetes.type_recorded)
_DIABETES_UNTYPED_TEXT = {"not recorded": "diabetes (type not recorded)",
                          "other specified": "other specified diabetes (not type 1 or 2)"}


def _drug_in_list(name: str) -> str:
    """A drug's name as one item of a comma-separated list: the drugs.yaml table name, unless it
    has a comma or a parenthesis of its own ("insulin, regular, human" would read as three drugs,
    "insulin (unspecified)" nests brackets): then the first name drugs.yaml lists for it, the
    words a record uses ("insulin regular", "nph insulin", "insulin")."""
    info = DRUG_TABLE.get(name)
    if info is not None and info.names and any(c in name for c in ",()"):
        return info.names[0]
    return name


def diabetes_status_text(d) -> str:
    """Diabetes.status as a clinician reads it (DIABETES_STATUS_TEXT), with the type the record
    gives ("diabetes (type not recorded)" for SNOMED 73211009 / "Diabetes" / glucose-lowering drugs
    only: it reads as type 2 for the caution, CR C.3 row 14, but is not called type 2) and the
    words of a diabetes written as a history, read as current."""
    text = DIABETES_STATUS_TEXT[d.status]
    if d.status == "type2-treated" and d.treatment:
        # which drugs: insulin-requiring type 2 diabetes was a CAPItello-291 exclusion (CR B.5)
        text += f" ({', '.join(_drug_in_list(n) for n in d.treatment)})"
    untyped = _DIABETES_UNTYPED_TEXT.get(d.type_recorded) if d.status.startswith("type2-") else None
    if untyped:
        text = text.replace("type 2 diabetes", untyped, 1)
    if d.history_written:
        text += (f" (written {', '.join(repr(w) for w in d.history_written)}: read as current, diabetes is "
                 "chronic and no resolution is recorded)")
    return text


@rule
def diabetes_or_hyperglycemia(state, ctx):
    d = state.factors.diabetes
    bits = []
    if d.status != "none-documented":
        bits.append(diabetes_status_text(d))
    if d.on_antihyperglycemic and d.status != "type2-treated":  # that status already says so
        bits.append("on anti-hyperglycaemic treatment")
    # True / False, or None for a bound that leaves the threshold undecided ("HbA1c <9 %")
    high_a1c = _reaches("hba1c", d.hba1c, HBA1C_HIGH_PERCENT, False) if d.hba1c is not None else False
    high_fg = (_reaches("glucose", d.fasting_glucose, FASTING_GLUCOSE_HIGH_MG_DL, False)
               if d.fasting_glucose is not None else False)
    if d.hba1c is not None:
        bits.append(lab_text("HbA1c", d.hba1c, "%")
                    + (f", not known whether at or above {HBA1C_HIGH_PERCENT:.1f} %" if high_a1c is None else ""))
    if d.fasting_glucose is not None:
        bits.append(lab_text("fasting glucose", d.fasting_glucose, "mg/dL")
                    + (f", not known whether at or above {FASTING_GLUCOSE_HIGH_MG_DL:g} mg/dL" if high_fg is None
                       else ""))
    if d.uncontrolled:
        bits.append("uncontrolled (HbA1c > 8.0 %)")
    if d.unconfirmed:
        # a suspected diabetes is not a stop, but the caution must not stay silent on it
        bits.append(f"diabetes recorded, not confirmed: {', '.join(d.unconfirmed)}")
    if d.not_for_diabetes:
        # a glucose-lowering drug given for another reason (mappings.factors._glucose_lowering_reason):
        # not diabetes (CR A.4); hyperglycaemia treated with it still raises the caution, as not confirmed
        bits.append(f"glucose-lowering drug not counted as diabetes treatment: {'; '.join(d.not_for_diabetes)}")
    confirmed = bool(d.status != "none-documented" or d.on_antihyperglycemic or d.uncontrolled
                     or high_a1c is True or high_fg is True)
    val: bool | None = confirmed or bool(d.unconfirmed) or d.hyperglycaemia_treated
    if not val and (high_a1c is None or high_fg is None):
        val = None  # nothing else documented, and a bound leaves the lab undecided: unknown
    srcs = _srcs(d.sources, d.hba1c.sources if d.hba1c else [], d.fasting_glucose.sources if d.fasting_glucose else [],
                 d.unconfirmed_sources, d.not_for_diabetes_sources)
    return Finding(val, "; ".join(bits) or "No diabetes documented", srcs,
                   unconfirmed_only=bool(val) and not confirmed)


def hba1c_percent(lab: LabValue | None) -> float | None:
    """HbA1c as NGSP %, converting IFCC mmol/mol (NGSP = 0.0915 * IFCC + 2.15)."""
    if lab is None:
        return None
    unit = (lab.unit or "%").lower()
    if "mmol" in unit:
        return round(0.0915 * lab.value + 2.15, 1)
    return lab.value


def _dia_sources(state: PatientState) -> tuple[Source, ...]:
    d = state.factors.diabetes
    return tuple(d.sources) + tuple(d.hba1c.sources if d.hba1c else ())


@rule
def type1_diabetes(state: PatientState, ctx: Context) -> Finding:
    d = state.factors.diabetes
    if d.status != "type1":
        return Finding(False, "No type 1 diabetes documented")
    # the diagnosis and its own records: the stop card's summary shows the latest date of
    # these, which must be the diagnosis's, not a recent HbA1c's (the glycaemic cards show those)
    diagnosis = tuple(s for s in d.sources if s.reference.startswith("Condition/"))
    return Finding(True, "Type 1 diabetes documented", diagnosis or _dia_sources(state))


@rule
def uncontrolled_diabetes_by_hba1c(state: PatientState, ctx: Context, threshold_percent: float) -> Finding:
    d = state.factors.diabetes
    pct = hba1c_percent(d.hba1c)
    if pct is None:
        return Finding(bool(d.uncontrolled), "Diabetes documented as uncontrolled" if d.uncontrolled
                       else "No HbA1c documented", _dia_sources(state))
    lab = d.hba1c
    shown = f"{lab.written} {lab.unit or '%'}" + (f" (= {lab.comparator or ''}{pct:g} %)" if pct != lab.value else "")
    kind = diabetes_status_text(d) if d.status != "none-documented" else ""
    text = (f"HbA1c {shown} on {fmt_date(lab.date, lab.date_last)}"
            + (f" (status {lab.status_not_final}: not final)" if lab.status_not_final else "")
            + (f", {kind}" if kind else ""))
    # a bound that leaves the threshold undecided (">7 %" against 8.0 %) decides nothing (None)
    above = _reaches("hba1c", lab, threshold_percent, True)
    if above is None:
        text += f"; not known whether above {_threshold_text('hba1c', threshold_percent)} %"
    return Finding(above, text, _dia_sources(state))


@rule
def medication_records_unreadable(state, ctx):
    """The mapper could not read the drug of some medication records (gap
    medication-unreadable): the lines of therapy every regimen is judged on may be
    incomplete, so every regimen card says so (protocol review item 1)."""
    gaps = [g for g in state.gaps if g.code == "medication-unreadable"]
    if not gaps:
        return Finding(False, "Every medication record was read")
    return Finding(True, gaps[0].message, tuple(s for g in gaps for s in g.sources))


# ILD/pneumonitis that began within this many days after the last dose of a drug is read as
# having begun on that drug. A judgement call (no source sets a window): drug-induced
# pneumonitis can be diagnosed shortly after a drug is stopped, and a record's end date is
# often the date the drug was stopped because of it. The cards say so.
ILD_AFTER_EXPOSURE_DAYS = 30


def _ild_exposures(state: PatientState, ctx: Context) -> list[tuple]:
    """[(ILD onset date, ILD source, drug name, exposure, days after its end or None)], once per
    call: the exposures whose time on drug covers an ILD onset, or ended at most
    ILD_AFTER_EXPOSURE_DAYS before it. An exposure without an end date counts from its start
    (ongoing or end unknown); one without a start date is not placed."""
    found = ctx.memo.get("_ild_exposures")  # not a rule name
    if found is None:
        found = []
        onsets = [(s.date, s) for s in state.factors.lung.sources if s.date]
        for e in state.therapy.exposures:
            if e.start is None:
                continue
            for day, src in onsets:
                if day < e.start:
                    continue
                after = None
                if e.end is not None and day > e.end:
                    after = (day - e.end).days
                    if after > ILD_AFTER_EXPOSURE_DAYS:
                        continue
                for d in e.drugs:
                    if d.drug_class in LINE_CLASSES:  # anticancer therapy only (not metformin, goserelin ...)
                        found.append((day, src, d.name, e, after))
        ctx.memo["_ild_exposures"] = found
    return found


def _ild_grade_text(state: PatientState) -> str:
    lung = state.factors.lung
    grade = f", grade {lung.grade}" if lung.grade is not None else ""
    return grade + {True: ", symptomatic", False: ", asymptomatic", None: ""}[lung.symptomatic]


def _ild_unconfirmed_text(lung) -> str:
    """"recorded, not confirmed: <each one: why, when>" (LungDisease.unconfirmed)."""
    return f"recorded, not confirmed: {'; '.join(lung.unconfirmed)}"


@rule
def ild_history(state, ctx):
    lung = state.factors.lung
    if not lung.ild_history:
        if lung.unconfirmed:
            # a suspicion is not a history, but the ILD cautions must not stay silent on it
            # (as an unconfirmed diabetes; mappings.factors._lung)
            return Finding(True, f"ILD/pneumonitis {_ild_unconfirmed_text(lung)}: confirm or refute it before starting",
                           tuple(lung.unconfirmed_sources), unconfirmed_only=True)
        return Finding(False, "No ILD/pneumonitis documented", tuple(lung.sources))
    # the onset date(s) as written, whether it resolved, and the drugs on at the time, so
    # every ILD caution names them
    text = f"ILD/pneumonitis history{_ild_grade_text(state)}"
    # as the mappings wrote them; a state built without them: the source dates as written
    episodes = lung.episodes or list(dict.fromkeys(
        fmt_date(s.date, s.date_last) for s in sorted(lung.sources, key=lambda s: s.date or dt.date.max) if s.date))
    if episodes:
        text += f", diagnosed {', '.join(episodes)}"
        on = list(dict.fromkeys(name for _, _, name, _, _ in _ild_exposures(state, ctx)))
        if on:
            text += f" (began during or <= {ILD_AFTER_EXPOSURE_DAYS} days after: {', '.join(on)})"
    if lung.symptomatic_unclear:
        # worded as the record leaves it (LungDisease.symptomatic_unclear_kind): a grade 1 said
        # symptomatic, an asymptomatic one said steroid-treated, or a range ("grade 1-2"); CR B.11
        written = "; ".join(lung.symptomatic_unclear)
        text += "; " + {"graded-1": f"graded 1 but also written as {written}",
                        "asymptomatic": f"written as asymptomatic (grade 1) but also as {written}",
                        "range": f"graded as a range, {written}"}[lung.symptomatic_unclear_kind]
        text += ": whether it was symptomatic (grade >= 2) is unclear"
    if lung.unconfirmed:
        text += f"; also {_ild_unconfirmed_text(lung)}"
    return Finding(True, text, tuple(lung.sources) + tuple(lung.unconfirmed_sources))


@rule
def symptomatic_ild(state, ctx):
    """Symptomatic (grade >= 2) ILD/pneumonitis confirmed on record (CR B.11: T-DXd is
    permanently discontinued after it). None when a grade 1 record also calls it symptomatic
    (the record does not say which): the T-DXd card then waits on it and says so."""
    lung = state.factors.lung
    val: bool | None = bool(lung.ild_history and (lung.symptomatic is True or (lung.grade or 0) >= 2))
    if not val and lung.symptomatic_unclear:
        val = None
    text = evaluate_rule("ild_history", state, ctx).text
    if val is False and lung.ild_history:
        # shown as "Not excluded: ..." on the T-DXd card: say what is not met
        text += ": not documented as symptomatic or grade >= 2"
    elif val is False and lung.unconfirmed:
        text += " (not counted: only a confirmed ILD/pneumonitis is)"
    return Finding(val, text, tuple(lung.sources) + tuple(lung.unconfirmed_sources))


@rule
def ild_began_on(state, ctx, drug: str):
    """ILD/pneumonitis began while on `drug` (or within ILD_AFTER_EXPOSURE_DAYS after it)."""
    hits = [h for h in _ild_exposures(state, ctx) if h[2] == drug]
    if not hits:
        # shown as "Not excluded: ..." on the T-DXd card: no ILD at all is said as such
        lung = state.factors.lung
        return Finding(False, f"No ILD/pneumonitis documented during {drug}" if lung.ild_history or lung.unconfirmed
                       else "No ILD/pneumonitis documented")
    day, src, _, e, after = hits[0]
    span = (f"{fmt_date(e.start, e.start_last)} to "
            f"{'now' if e.active else fmt_date(e.end, e.end_last) if e.end else 'end date unknown'}")
    when = (f"{counted(after, 'day')} after {drug} ended ({span}; within the {ILD_AFTER_EXPOSURE_DAYS}-day window read "
            "as during the drug, a judgement call)" if after else f"during {drug} ({span})")
    text = f"ILD/pneumonitis{_ild_grade_text(state)} diagnosed {fmt_date(day, src.date_last)}, {when}"
    if (state.factors.lung.grade or 0) >= 3:  # CTCAE grade 3-4 = severe: the labels' "permanently discontinue"
        text += "; grade 3-4 is severe ILD/pneumonitis"
    return Finding(True, text, (src, *e.sources))


# A QTc older than this (before as_of: the day ribociclib would start or its order is signed), or
# dated after as_of, or undated, is no baseline: Kisqali asks for an "ECG before start; start only if
# QTcF <450 ms" (CR B.10 ribociclib row), which a QTc from years before does not answer. No source
# sets the window: the same length and design as the HbA1c / fasting glucose tests "before
# initiating" (cards/knowledge/tests.yaml glycemic_window_days; CR C.2 safety overlays: a design
# choice, "suggest <= 30 days"). The cards name the QTc's date and this window.
QTC_BASELINE_WINDOW_DAYS = 30


def qtc_not_baseline(state: PatientState) -> str | None:
    """Why the latest QTc is no baseline ECG for starting ribociclib now ("dated 2019-03-01, more
    than 30 days before 2025-07-01"), or None when it is one (or there is none)."""
    q = state.factors.qtc_ms
    if q is None:
        return None
    as_of = state.as_of
    if q.date is None:
        return "undated"
    when = fmt_date(q.date, q.date_last)
    if q.date > as_of:
        return f"dated {when}, after {as_of.isoformat()}"
    if (as_of - (q.date_last or q.date)).days > QTC_BASELINE_WINDOW_DAYS:
        return f"dated {when}, more than {QTC_BASELINE_WINDOW_DAYS} days before {as_of.isoformat()}"
    return None


def qtc_baseline_text(state: PatientState) -> str:
    """What the cards say of a QTc that is no baseline (qtc_not_baseline), after its value, "" otherwise."""
    why = qtc_not_baseline(state)
    if why is None:
        return ""
    return (f"{why}: not a baseline (window {QTC_BASELINE_WINDOW_DAYS} days, a design choice as for the "
            "glucose tests; no source sets one): ECG before starting ribociclib (start only if QTcF < 450 ms, B.10)")


@rule
def qtc_450_or_more(state, ctx):
    q = state.factors.qtc_ms
    if q is None:
        return Finding(False, "QTc not documented")
    # a bound that leaves 450 ms undecided ("<470 ms") decides nothing (None)
    over = _reaches("qtc", q, QTC_LIMIT_MS, False)
    # a QTc >= 450 ms that is no baseline still warns (the safe direction), saying it is old
    stale = qtc_baseline_text(state) if over else ""
    return Finding(over, lab_text("QTc", q, "ms") + (f"; not known whether at or above {QTC_LIMIT_MS:g} ms"
                                                   if over is None else "") + (f"; this QTc is {stale}" if stale else ""),
                   tuple(q.sources))


@rule
def long_qt_syndrome(state, ctx):
    """Long QT syndrome documented: a current, confirmed Condition (mappings.factors._long_qt;
    CR C.2 safety overlays: a ribociclib warning)."""
    lqt = state.factors.long_qt
    if not lqt.documented:
        return Finding(False, "No long QT syndrome documented")
    return Finding(True, f"Long QT syndrome documented ({latest_date_text(lqt.sources) or 'date unknown'})",
                   tuple(lqt.sources))


@rule
def prolonged_qt_interval(state, ctx):
    """A prolonged QT interval recorded as a current, confirmed Condition, no QTc dated since
    (mappings.factors._prolonged_qt; CR B.10 ribociclib row: start only if QTcF < 450 ms, C.2
    safety overlays). A documented long QT syndrome is its own caution (long_qt_syndrome):
    not said twice."""
    f = state.factors
    if not f.prolonged_qt.documented:
        return Finding(False, "No prolonged QT interval documented")
    if f.long_qt.documented:
        return Finding(False, "Prolonged QT interval documented; long QT syndrome documented too (its caution applies)")
    when = latest_date_text(f.prolonged_qt.sources)
    qtc = f.qtc_ms
    if when is None and qtc is not None:
        # an undated Condition beside a QTc: which came first cannot be told (the mapper counts
        # it: only a QTc dated on or after its onset decides); not "no QTc measured since"
        on = f" on {fmt_date(qtc.date, qtc.date_last)}" if qtc.date else ""
        return Finding(True, f"Prolonged QT interval documented (date unknown); QTc {qtc.value:g} ms{on} "
                             "may be older or newer", tuple(f.prolonged_qt.sources))
    return Finding(True, f"Prolonged QT interval documented ({when or 'date unknown'}), no QTc measured since",
                   tuple(f.prolonged_qt.sources))


def visceral_crisis_text(state: PatientState) -> str:
    """The visceral crisis as the pathway reads it: current, or history (treated by a later
    metastatic line: mappings.disease.visceral_crisis_currency, CR C.1 ABC4 definition)."""
    d = state.disease
    documented = latest_date_text(d.visceral_crisis_sources)
    if d.visceral_crisis:
        return "Visceral crisis asserted by a clinician" + (f", documented {documented}" if documented else "")
    if not d.visceral_crisis_documented:
        return "No visceral crisis asserted"
    ln = next((x for x in state.therapy.metastatic_lines if x.number == d.visceral_crisis_treated_by), None)
    treated = (f", treated with metastatic line {ln.number} ({ln.regimen_text}) from {line_start_text(ln)}"
               if ln else "")
    return (f"Visceral crisis documented {documented or 'date unknown'}{treated}; "
            "not current (a crisis treated by a later line is history)")


@rule
def visceral_crisis(state, ctx):
    d = state.disease
    return Finding(d.visceral_crisis, visceral_crisis_text(state), tuple(d.visceral_crisis_sources))


@rule
def always(state, ctx):
    return Finding(True, "")
