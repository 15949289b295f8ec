"""Which tests a decision is waiting on (definitions in knowledge/tests.yaml).

    testing_needs(state, assessments, status) -> list[TestNeed]

One function per testing topic, named by `rule` in tests.yaml. Each returns a
TestNeed (why, which orders, which order is recommended) or None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from mappings.state import LabValue, MarkerNotFinal, PatientState, ReceptorStatus, HER2Status, range_text

from cards.knowledge import GLYCEMIC_WINDOW_DAYS, TESTS, TestDef, TestOrder
from cards.pathway import PathwayStatus, RegimenAssessment
from cards.rules import (
    LAB_NAMES, PI3K_PATHWAY_GENES, Context, Finding, awaiting_final, awaiting_final_text, describe_variant,
    esr1_not_current_pending_text, esr1_pending, esr1_reference_of, esr1_result_timing,
    evaluate_rule, fmt_date, germline_brca_tested, her2_category_text, ish_text, line_start_text, not_final_text, pending_results,
    undecided_labs, undecided_need,
    untested_text,
)


@dataclass
class TestNeed:
    topic: str
    test: TestDef
    reasons: list[Finding]  # the patient facts that make the test needed
    orders: list[TestOrder]  # what the suggestion(s) order
    alternatives: bool = False  # True: one suggestion per order (at-most-one), else one suggestion with all
    # index of the recommended order when alternatives; None: no order is pre-selected (the
    # card waits on results not final yet: `awaiting`)
    recommended: int | None = 0
    waiting: list[str] = field(default_factory=list)  # regimen names waiting on the result
    indicator: str = "info"
    verb: str = "decides"  # card summary: "<title> — <verb> <waiting>"
    variant: str | None = None  # one of the test's `variants` (tests.yaml): its own title and why
    awaiting: str = ""  # rules.awaiting_final_text: the results not final yet it waits on, if only those

    @property
    def title(self) -> str:
        return self.test.variant(self.variant)[0]

    @property
    def why(self) -> str:
        return self.test.variant(self.variant)[1]

    @property
    def rank(self) -> int:
        return self.test.rank


Rule = Callable[[PatientState, Context, PathwayStatus, dict[str, RegimenAssessment]], "TestNeed | None"]
RULES: dict[str, Rule] = {}


def rule(fn: Rule) -> Rule:
    RULES[fn.__name__] = fn
    return fn


def _awaiting(need: TestNeed, state: PatientState, ctx: Context, genes: tuple[str, ...],
              germline: bool = False) -> TestNeed:
    """The need, with no order pre-selected and the results named when all it waits on are
    results not final yet (rules.awaiting_final: the test is done or under way)."""
    pending = awaiting_final(state, genes, germline)
    if pending:
        need.recommended = None
        need.awaiting = awaiting_final_text(state, ctx, pending)
    return need


def marker_pending(marker: ReceptorStatus | HER2Status) -> list[MarkerNotFinal]:
    """The marker's results not final yet (MarkerNotFinal) that may still change what it reads:
    none older than the result it reads now (an undated one counts)."""
    read = marker.date
    return [r for r in marker.not_final if read is None or r.date is None or r.date >= read]


def _awaiting_markers(need: TestNeed, pending: list[MarkerNotFinal], complete: bool = True) -> TestNeed:
    """The need, waiting on ER / PR / HER2 results not final yet (FHIR R4 ObservationStatus):
    the test is done or under way, so the card names them and says the final report decides;
    complete: every result the test asks for has one (then no order is pre-selected, as
    rules.awaiting_final_text does for a genomic result), else they are only named."""
    if not pending:
        return need
    if complete:
        need.recommended = None
    need.awaiting = markers_awaiting_text(pending, "; ".join(r.named for r in pending), complete)
    return need


def markers_awaiting_text(pending: list[MarkerNotFinal], named: str, complete: bool = True) -> str:
    """What a card says about ER / PR / HER2 results not final yet (`named`: how the card names
    them): not read until the final report; complete (the test is done or under way): no new
    order pre-selected. One wording for patient-view's testing cards and the order cards."""
    unknown = any(r.status == "unknown" for r in pending)
    ask = ("ask the laboratory whether the result of status unknown is final (the source system does not "
           "know which status applies)") if unknown else ""
    if not complete:
        return (f"**Not final yet**: {named}: not read until the final pathology report comes"
                + (f"; {ask}." if ask else "."))
    # the heading says the final report is awaited: the text says what to do meanwhile
    return (f"**Awaiting the final report** of {named}: {f'{ask}, and order' if ask else 'order'} a new "
            "test only if the final pathology report does not come. No order is pre-selected: the test "
            "is done or under way, and a new one would repeat it.")


def _orders(topic: str, *whens: str | None) -> list[TestOrder]:
    return [o for o in TESTS[topic].orders if o.when in whens]


def _waiting(by_topic: dict[str, RegimenAssessment], topics: tuple[str, ...], gene_words: tuple[str, ...]) -> list[str]:
    """Regimens whose only open question is this result."""
    out = []
    for t in topics:
        a = by_topic.get(t)
        if a and a.status == "unknown" and all(any(w in f.text for w in gene_words) for f in a.unknown):
            out.append(_regimen_named(a))
    return out


def _regimen_named(a: RegimenAssessment) -> str:
    # an informational-only regimen (no card, no order) is named as its ESR1 cards name it
    return a.regimen.name + (" (label unverified)" if a.regimen.informational_only else "")


_ER_OPEN = "ER status not documented"  # rules.er_positive's undecided text


def _er_test_for_label(state, by_topic) -> "TestNeed | None":
    """In the pathway by PR alone (ER not documented): the regimens whose label says
    "ER-positive" (rules.er_positive: the oral SERDs) wait on ER; ask for it, naming them."""
    if state.er.status != "unknown":
        return None
    waiting, only_er, reasons = [], True, []
    for a in by_topic.values():
        er = [f for f in a.unknown if f.text.startswith(_ER_OPEN)] if a.status == "unknown" else []
        if not er:
            continue
        waiting.append(a.regimen.name + (" (label unverified)" if a.regimen.informational_only else ""))
        only_er = only_er and len(er) == len(a.unknown)
        if not reasons:
            reasons.append(er[0])
    if not waiting:
        return None
    need = TestNeed("test-er-pr-her2", TESTS["test-er-pr-her2"], reasons, _orders("test-er-pr-her2", "er"),
                    waiting=waiting, verb="decides" if only_er else "needed for", variant="er-for-label")
    return _awaiting_markers(need, marker_pending(state.er))


@rule
def receptor_test_needed(state, ctx, status, by_topic):
    d = state.disease
    if status.in_pathway:
        return _er_test_for_label(state, by_topic)
    if status.deceased or d.breast_cancer != "yes" or d.metastatic != "yes" or status.receptors_known:
        return None
    if state.her2.category == "positive" or state.hormone_receptor_positive is False:
        return None
    whens = []
    reasons = []
    if state.er.status == "unknown":
        whens.append("er")
    if state.pr.status == "unknown":
        whens.append("pr")
    if state.hormone_receptor_positive is None:
        reasons.append(Finding(None, f"ER {state.er.status}, PR {state.pr.status}",
                               tuple(state.er.sources) + tuple(state.pr.sources)))
    if state.her2.category in ("unknown", "equivocal-pending"):
        whens.append("her2" if state.her2.category == "unknown" else "her2-ish")
        reasons.append(Finding(None, f"HER2 {her2_category_text(state.her2.category)}{_her2_ihc_ish(state)}",
                               tuple(state.her2.sources)))
    if not whens:
        return None
    need = TestNeed("test-er-pr-her2", TESTS["test-er-pr-her2"], reasons, _orders("test-er-pr-her2", *whens),
                    indicator="warning")
    # a result not final yet of a marker the test asks for: the final report decides it
    asked = {"er": state.er, "pr": state.pr, "her2": state.her2, "her2-ish": state.her2}
    pending = {w: marker_pending(asked[w]) for w in whens}
    return _awaiting_markers(need, [r for w in whens for r in pending[w]], complete=all(pending.values()))


def _her2_ihc_ish(state: PatientState) -> str:
    """' (IHC 2+, no ISH)' beside an unknown / equivocal HER2; an unknown from results that
    disagree (markers._combine_her2: an overall interpretation against the IHC, or ISH
    amplified and not amplified) says so rather than 'no ISH', and an ISH ratio that does not
    decide it (gap her2-ish-unclear, ASCO/CAP groups 2-4) or an ISH written "equivocal" (gap
    her2-ish-equivocal) 'ISH not decided', as the pathway line."""
    h = state.her2
    if not h.ihc_score:
        return ""
    bits = [f"IHC {h.ihc_score}"]
    if h.ish:
        bits.append(ish_text(h.ish))
    elif h.category == "equivocal-pending" and any(g.code in ("her2-ish-unclear", "her2-ish-equivocal")
                                                   for g in state.gaps):
        bits.append("ISH not decided")
    elif h.category == "equivocal-pending" or not h.conflict:
        bits.append("no ISH")
    if h.conflict and h.category == "unknown":
        bits.append("results disagree")
    return f" ({', '.join(bits)})"


def _earlier_her2_low(state: PatientState) -> list[Finding]:
    """The earlier HER2-low result the re-test card names (CR C.2 step 0: keep history; HER2-low
    status may differ between primary and metastasis), with the Observation(s) it came from."""
    h = state.her2
    if not h.earlier_low:
        return []
    return [Finding(None, f"Earlier HER2-low result: {h.earlier_low}; HER2-low status may differ between primary "
                          "tumour and metastasis (C.2 step 0): the re-test decides", tuple(h.earlier_low_sources))]


@rule
def her2_test_needed(state, ctx, status, by_topic):
    if not status.in_pathway:
        return None
    cat = state.her2.category
    tdxd = by_topic.get("trastuzumab-deruxtecan")
    if tdxd is None:
        return None
    met_date = state.disease.metastatic_date
    # a metastatic date without a day ("2024") is any day of its range: tissue dated inside
    # it may predate the metastasis, and a missed re-test hides a possible T-DXd route while
    # a needless one is only a suggestion (the reason says "may")
    met_latest = state.disease.metastatic_date_latest or met_date
    her2_date = state.her2.date
    old_null = (cat == "null" and tdxd.status == "not-fit" and met_latest is not None and her2_date is not None
                and her2_date < met_latest
                and not any(f.value is True for f in tdxd.reasons_not)  # no label exclusion (ILD, prior T-DXd)
                and evaluate_rule("progressed_on_metastatic_endocrine_lines_at_least", state, ctx, n=1).value)  # label A otherwise met
    if old_null:
        # HER2-null only on tissue older than the metastatic disease, and HER2 is the only
        # thing keeping T-DXd out: re-test recent tissue (HER2 can change; C.1 ASCO/CAP 2023 commentary)
        met_text = (fmt_date(met_date) if state.disease.metastatic_date_latest is None
                    else f"{range_text(met_date, met_latest)}, no day given")  # type: ignore[arg-type]
        # surely before only when every day the two dates can mean is (both may lack a day)
        when = "before" if (state.her2.date_last or her2_date) < met_date else "possibly before"  # type: ignore[operator]
        reasons = [Finding(None, f"HER2-null (IHC 0 without staining) on a specimen of "
                                 f"{fmt_date(her2_date, state.her2.date_last)}, "
                                 f"{when} the metastatic diagnosis ({met_text}): HER2 may differ on "
                                 "metastatic tissue", tuple(state.her2.sources))] + _earlier_her2_low(state)
        return _awaiting_markers(TestNeed("test-her2", TESTS["test-her2"], reasons, _orders("test-her2", None),
                                          waiting=[tdxd.regimen.name]), marker_pending(state.her2))
    if cat not in ("zero-unspecified", "negative-unspecified"):
        return None
    # first line: T-DXd is a later-line option (not assessed now), but C.2 step 2 asks for
    # HER2 IHC with explicit 0 vs ultralow vs 1+ reporting at first line (C.3 row 9)
    first_line = tdxd.status == "not-this-phase" and ctx.phase == "first-line"
    if tdxd.status != "unknown" and not first_line:
        return None
    what = (f"HER2 text names more than one IHC score ('{state.her2.scores_text[:80]}') without saying which is "
            "the result: HER2-low/ultralow cannot be inferred" if cat == "negative-unspecified" and state.her2.scores_text else
            "HER2 reported as a bare 'negative' without an IHC score: HER2-low/ultralow cannot be inferred"
            if cat == "negative-unspecified" else "HER2 IHC 0 without the null vs ultralow classification")
    reasons = [Finding(None, f"{what} ({fmt_date(state.her2.date, state.her2.date_last)})",
                       tuple(state.her2.sources))] + _earlier_her2_low(state)
    if first_line:
        reasons.append(Finding(None, "Testing at first line (C.2 step 2): the HER2 score decides trastuzumab "
                                     "deruxtecan at a later line"))
        return _awaiting_markers(TestNeed("test-her2", TESTS["test-her2"], reasons, _orders("test-her2", None)),
                                 marker_pending(state.her2))
    reasons += [f for f in tdxd.reasons]
    return _awaiting_markers(TestNeed("test-her2", TESTS["test-her2"], reasons, _orders("test-her2", None),
                                      waiting=[tdxd.regimen.name]), marker_pending(state.her2))


def _relapse_off_endocrine_therapy(state: PatientState) -> bool:
    """The only endocrine therapy so far is adjuvant, completed more than 12 months before the
    recurrence (endocrine-sensitive), and no metastatic endocrine line yet. ASCO 2023 (C.1)
    tests for emerging ESR1 mutations "at recurrence or progression on ET"; C.2 step 2 tests
    ESR1 at first line only after an endocrine-resistant relapse ("since relapse on ET"), not
    in the endocrine-sensitive branch. The first metastatic endocrine line brings the card
    back (test at its progression)."""
    th = state.therapy
    return th.endocrine_resistance == "sensitive" and not any(ln.endocrine for ln in th.metastatic_lines)


@rule
def esr1_test_needed(state, ctx, status, by_topic):
    if not status.in_pathway:
        return None
    bm = state.biomarkers
    if bm.actionable("ESR1") and bm.esr1_current is not False:
        return None
    if evaluate_rule("er_positive", state, ctx).value is False:
        # ER-negative (HR-positive by PR): ASCO 2023 asks for ESR1 testing in ER-positive MBC
        # (C.1), and every regimen an ESR1 result decides is labelled for ER-positive disease
        return None
    et = evaluate_rule("prior_endocrine_any_setting", state, ctx)
    if not et.value:
        return None  # ESR1 mutations emerge under endocrine therapy (none yet)
    if _relapse_off_endocrine_therapy(state):
        return None
    results = bm.for_gene("ESR1")
    stale_detection = False
    # results not final yet: one taken after the ESR1 reference is the (re-)test under way
    # (named, and awaited by _awaiting); an older one would not be current even once final
    # (C.3 row 18): named as not counting, the test stays pre-selected
    current, older = esr1_pending(state)
    not_counting = ([Finding(None, esr1_not_current_pending_text(state, ctx, older),
                             tuple(s for v in older for s in v.sources))] if older else [])
    if not results:
        # not final: the test is still asked for
        why = Finding(None, untested_text(state, ["ESR1"], not_final_text(state, ctx, current),
                                          *(f.text for f in not_counting)),
                      tuple(s for v in current + older for s in v.sources))
        not_counting = []
    elif bm.actionable("ESR1"):
        # a detection from before the latest progression on (or end of) endocrine therapy:
        # still read as ESR1-mutated (the SERD cards say it predates), but C.3 row 18 asks
        # for a re-test, and ASCO 2023 tests at each progression (a clone can be lost)
        last = max(bm.actionable("ESR1"), key=lambda v: v.date or dt.date.min)
        ref = esr1_reference_of(state, ctx)
        when = esr1_result_timing(ref, last)  # ref is documented: esr1_current is False
        why = Finding(None, f"ESR1 detection {when}: {describe_variant(last)}; "
                            "a current result confirms the ESR1-directed options (C.3 row 18)",
                      tuple(last.sources) + ref.sources)
        stale_detection = True
    elif bm.esr1_current is False:
        last = max(results, key=lambda v: v.date or dt.date.min)
        ref = esr1_reference_of(state, ctx)
        when = esr1_result_timing(ref, last)  # a date span reaching the reference: "cannot be shown to follow"
        why = Finding(None, f"Last ESR1 result {when}: {describe_variant(last)}", tuple(last.sources) + ref.sources)
    elif bm.status("ESR1") == "not-detected-ctdna-only" and bm.esr1_current is None:
        last = max(results, key=lambda v: v.date or dt.date.min)
        why = Finding(None, f"ESR1 currency unknown: {describe_variant(last)}", tuple(last.sources))
    elif (ctx.current_line is not None and ctx.current_line.endocrine
          and all(v.date is None or v.archival_without_collection_date
                  or (ctx.current_line.start and v.date < ctx.current_line.start) for v in results)):
        # wild-type before the current endocrine line: the options shown apply at its
        # progression, when ESR1 must be re-tested (ASCO 2023: at each progression); a result
        # on archival tissue without a collection date is not shown to follow its start either
        last = max(results, key=lambda v: v.date or dt.date.min)
        when = ("cannot be shown to follow the start of the current endocrine line"
                if last.archival_without_collection_date else "predates the current endocrine line")
        why = Finding(None, f"Last ESR1 result {when} (started {line_start_text(ctx.current_line)}): "
                            f"{describe_variant(last)}", tuple(last.sources))
    else:
        return None
    when = ("at progression on the current line" if ctx.current_line is not None
            else "now (progression/recurrence on endocrine therapy)")
    reasons = [why, *not_counting, Finding(True, f"{et.text}; test {when}", et.sources)]
    serds = ("elacestrant", "imlunestrant", "vepdegestrant")
    if stale_detection:
        # the SERDs are offered on the older detection: the re-test confirms them
        offered = [_regimen_named(by_topic[t]) for t in serds if t in by_topic and by_topic[t].status == "fits"]
        return _awaiting(TestNeed("test-esr1", TESTS["test-esr1"], reasons, _orders("test-esr1", None),
                                  waiting=offered, verb="confirms"), state, ctx, ("ESR1",))
    return _awaiting(TestNeed("test-esr1", TESTS["test-esr1"], reasons, _orders("test-esr1", None),
                              waiting=_waiting(by_topic, serds, ("ESR1",))), state, ctx, ("ESR1",))


def _nothing_actionable(bm, genes: tuple[str, ...], where: str = "", lower: bool = False) -> str:
    """"PIK3CA not detected<where>", or, when the record holds a variant that is not
    actionable (VUS, benign: C.2 step 1), what it found: "No actionable PIK3CA alteration<where>
    (PIK3CA p.E545K detected (somatic, plasma ctDNA, vus, ...))". A VUS is not "not detected"."""
    names = "/".join(genes)
    found = [v for g in genes for v in bm.for_gene(g) if v.result == "detected"]
    if not found:
        return f"{names} not detected{where}"
    text = f"No actionable {names} alteration{where} ({'; '.join(describe_variant(v) for v in found)})"
    return text[:1].lower() + text[1:] if lower else text


def _pending_answers(state: PatientState, untested: list[str], ctdna_only: list[str]) -> list:
    """The PI3K-pathway results not final yet that may answer what is open: any of a gene not
    tested; a TISSUE one of a gene negative in plasma ctDNA only (the tissue reflex under way,
    C.3 row 2; another plasma result would not close it); one that would select once final (a
    preliminary detection after a final negative: alpelisib waits on it)."""
    return [v for v in pending_results(state, PI3K_PATHWAY_GENES)
            if v.gene in untested or v.actionable_if_final or (v.gene in ctdna_only and v.specimen == "tissue")]


@rule
def pi3k_pathway_test_needed(state, ctx, status, by_topic):
    if not status.in_pathway:
        return None
    bm = state.biomarkers
    if any(bm.actionable(g) for g in PI3K_PATHWAY_GENES):
        return None
    pik = bm.status("PIK3CA")
    # AKT1/PTEN still open for capivasertib: untested, or negative only in ctDNA (not
    # wild-type: C.3 row 2, ASCO 2021 "test tumour tissue")
    untested = [g for g in ("AKT1", "PTEN") if bm.status(g) == "not-tested"]
    ctdna_only = [g for g in ("AKT1", "PTEN") if bm.status(g) == "not-detected-ctdna-only"]
    others = untested + ctdna_only
    srcs = tuple(s for g in PI3K_PATHWAY_GENES for v in bm.for_gene(g) for s in v.sources)
    if pik == "not-tested":
        # a result not final yet closes nothing (the test is still asked for): named
        pending = pending_results(state, PI3K_PATHWAY_GENES)
        # AKT1/PTEN named untested only when they are (a final result is no "not tested")
        open_ = [untested_text(state, ["PIK3CA", *untested], not_final_text(state, ctx, pending))] + \
            ([f"{_nothing_actionable(bm, tuple(ctdna_only), ' in plasma ctDNA only', lower=True)} (not wild-type)"]
             if ctdna_only else [])
        orders, alternatives = _orders("test-pik3ca-akt1-pten", "ctdna", "tissue"), True
        rec = 0
        if ctdna_only:
            # a gene negative in plasma only needs tumour tissue (C.3 row 2; ASCO 2021: "if no
            # mutation is found in cell-free DNA, testing in tumor tissue"), and the tissue test
            # covers all three genes (tests.yaml): a new plasma test would leave that gene open
            rec = next(i for i, o in enumerate(orders) if o.when == "tissue")
            open_[-1] += (": the tumour tissue test is pre-selected, as it tests PIK3CA, AKT1 and PTEN at once "
                          "(C.3 row 2)")
        reasons = [Finding(None, "; ".join(open_), tuple(s for v in pending for s in v.sources)
                           + tuple(s for g in ctdna_only for v in bm.for_gene(g) for s in v.sources))]
    elif pik == "not-detected-ctdna-only":
        reasons = [Finding(None, f"{_nothing_actionable(bm, ('PIK3CA',), ' in plasma ctDNA only')}: ctDNA "
                                 "negative is not wild-type (low tumour fraction); test tumour tissue", srcs)]
        # a tissue result not final yet is the reflex under way (_awaiting: none pre-selected
        # when it answers every gene): named
        pending = _pending_answers(state, untested, ["PIK3CA", *ctdna_only])
        if pending:
            reasons.append(Finding(None, not_final_text(state, ctx, pending),
                                   tuple(s for v in pending for s in v.sources)))
        orders, alternatives, rec = _orders("test-pik3ca-akt1-pten", "tissue"), False, 0
    elif others:
        pending = _pending_answers(state, untested, ctdna_only)
        open_ = ([untested_text(state, untested, not_final_text(state, ctx, pending))] if untested or pending else []) + \
            ([f"{_nothing_actionable(bm, tuple(ctdna_only), ' in plasma ctDNA only', lower=True)} (not wild-type)"]
             if ctdna_only else [])
        # beside a newer PIK3CA result not final yet, the final one is shown with its date
        pik_final = ("; ".join(describe_variant(v) for v in bm.for_gene("PIK3CA"))
                     if any(v.gene == "PIK3CA" for v in pending) else _nothing_actionable(bm, ("PIK3CA",)))
        reasons = [Finding(None, f"{pik_final}; {'; '.join(open_)} (capivasertib also "
                                 "covers AKT1/PTEN alterations)", srcs + tuple(s for v in pending for s in v.sources))]
        orders, alternatives, rec = _orders("test-pik3ca-akt1-pten", "tissue"), False, 0
    else:
        return None
    waiting = _waiting(by_topic, ("inavolisib-palbociclib-fulvestrant", "capivasertib-fulvestrant",
                                  "alpelisib-fulvestrant"), PI3K_PATHWAY_GENES)
    if not waiting and ctx.phase == "first-line":
        # nothing waits on it now (de novo or endocrine-sensitive first line): C.2 step 2 asks for
        # it at first line all the same, for the regimens after progression (as test-her2 says)
        reasons.append(Finding(True, "Testing at first line (C.2 step 2): the result decides capivasertib + "
                                     "fulvestrant or alpelisib + fulvestrant at progression"))
    return _awaiting(TestNeed("test-pik3ca-akt1-pten", TESTS["test-pik3ca-akt1-pten"], reasons, orders,
                              alternatives=alternatives, recommended=rec, waiting=waiting),
                     state, ctx, PI3K_PATHWAY_GENES)


@rule
def germline_brca_test_needed(state, ctx, status, by_topic):
    if not status.in_pathway:
        return None
    f = evaluate_rule("germline_brca_mutated", state, ctx)
    if f.value is True:
        return None
    somatic = [v for g in ("BRCA1", "BRCA2") for v in state.biomarkers.actionable(g) if v.origin != "germline"]
    palb2 = state.biomarkers.actionable("PALB2")
    brca = state.biomarkers.for_gene("BRCA1") + state.biomarkers.for_gene("BRCA2")
    if f.value is False and (not somatic or germline_brca_tested(brca)):
        return None  # germline tested negative (a somatic variant does not call for a repeat)
    reasons = [f]
    if palb2:
        reasons.append(Finding(None, "PALB2 variant: " + "; ".join(describe_variant(v) for v in palb2)
                               + " (no labelled PARP inhibitor; ASCO: insufficient evidence)",
                               tuple(s for v in palb2 for s in v.sources)))
    need = TestNeed("test-germline-brca", TESTS["test-germline-brca"], reasons,
                    _orders("test-germline-brca", None),
                    # every PARP inhibitor the result decides (olaparib's other requirements,
                    # prior chemotherapy and ET, are met when it waits only on BRCA)
                    waiting=_waiting(by_topic, ("olaparib", "talazoparib"), ("BRCA",)),
                    indicator="warning" if somatic else "info")
    return _awaiting(need, state, ctx, ("BRCA1", "BRCA2"), germline=True)


def _offers_class(a: RegimenAssessment, drug_class: str) -> bool:
    """any(d.drug_class == drug_class for c in a.offered_choices for d in c.drugs)"""
    for c in a.choices:
        if c.excluded is None:
            for d in c.drugs:
                if d.drug_class == drug_class:
                    return True
    return False


def _stale(lab: LabValue | None, as_of: dt.date) -> bool:
    # by the first day of a date without a day ("2024-06"): within the window only when every
    # day it can mean is (the labels' "before initiating", C.2 safety overlays)
    return lab is None or lab.date is None or (as_of - lab.date).days > GLYCEMIC_WINDOW_DAYS


class GlycemicDue(NamedTuple):
    when: str  # the tests.yaml order it needs, a rules.LAB_NAMES key: "hba1c" | "glucose"
    lab: LabValue | None
    undecided: str | None = None  # why a recent result decides nothing (a bound: rules.undecided_labs)

    @property
    def lab_name(self) -> str:
        """"HbA1c", "fasting glucose": in a sentence (rules.LAB_NAMES)."""
        return LAB_NAMES[self.when][0]

    @property
    def name(self) -> str:
        """"HbA1c", "Fasting glucose": at the start of a line."""
        return self.lab_name[:1].upper() + self.lab_name[1:]

    def fact(self, as_of: dt.date, on: str = "from", name: str | None = None) -> str:
        """What the record shows, as a testing card says it (name: of a dated result)."""
        lab = self.lab
        if lab is None:
            return f"{self.name} not documented"
        if self.undecided:
            return self.undecided
        unit = lab.unit or LAB_NAMES[self.when][1]  # as rules.lab_text shows it
        if lab.date is None:
            # no age to state: undated, so not shown to be recent (_stale)
            return (f"{name or self.name} {lab.written} {unit} has no date, so it cannot be shown to be within "
                    f"the last {GLYCEMIC_WINDOW_DAYS} days")
        shown = f"{name or self.name} {lab.written} {unit} {on} {fmt_date(lab.date, lab.date_last)}"
        if lab.date_last is not None and (as_of - lab.date_last).days <= GLYCEMIC_WINDOW_DAYS:
            # written without a day, and only part of it lies in the window
            return f"{shown} (no day given) cannot be shown to be within the last {GLYCEMIC_WINDOW_DAYS} days"
        return f"{shown} is older than {GLYCEMIC_WINDOW_DAYS} days"


def glycemic_due(state: PatientState, regimens) -> list[GlycemicDue]:
    """The HbA1c / fasting glucose to order before the PI3K/AKT/mTOR inhibitors of `regimens`
    (C.2 safety overlays; tests.yaml test-glycemic): not documented, older than the window, or
    a recent result written as a bound that leaves a threshold of the regimens' cautions
    undecided ("HbA1c >7 %" against 8.0 %): for that threshold it is as good as missing.
    One reading for patient-view's testing card and the order hooks."""
    undecided = undecided_labs(state, [c.rule for r in regimens for c in r.cautions])
    dia = state.factors.diabetes
    out = []
    for when, lab in (("hba1c", dia.hba1c), ("glucose", dia.fasting_glucose)):
        if _stale(lab, state.as_of):
            out.append(GlycemicDue(when, lab))
        elif when in undecided:
            out.append(GlycemicDue(when, lab, f"{undecided[when][1]}: {undecided_need(lab)}"))
    return out


@rule
def glycemic_test_needed(state, ctx, status, by_topic):
    pi3k = [a for a in by_topic.values() if a.status == "fits" and not a.regimen.informational_only
            and _offers_class(a, "pi3k-akt-mtor")]
    if not pi3k:
        return None
    whens, reasons = [], []
    for due in glycemic_due(state, [a.regimen for a in pi3k]):
        whens.append(due.when)
        reasons.append(Finding(None, due.fact(state.as_of), tuple(due.lab.sources) if due.lab else ()))
    if not whens:
        return None
    names = [a.regimen.name for a in pi3k]
    # "labels" only where a label says so (Itovebi, Piqray, Truqap); everolimus: C.2 (tests.yaml why)
    reasons.append(Finding(True, "Before starting " + ", ".join(names) + " (C.2 safety overlays; what each "
                                 "label says is under Guideline)"))
    return TestNeed("test-glycemic", TESTS["test-glycemic"], reasons, _orders("test-glycemic", *whens),
                    waiting=names, verb="before", indicator="warning" if evaluate_rule(
                        "diabetes_or_hyperglycemia", state, ctx).value else "info")


def testing_needs(state: PatientState, assessments: list[RegimenAssessment], status: PathwayStatus,
                  ctx: Context | None = None) -> list[TestNeed]:
    ctx = ctx or Context.of(state)
    by_topic = {a.topic: a for a in assessments}
    needs = []
    for topic, test in TESTS.items():
        need = RULES[test.rule](state, ctx, status, by_topic)
        if need is not None:
            needs.append(need)
    needs.sort(key=lambda n: n.rank)
    return needs
