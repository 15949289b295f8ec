"""The treatment pathway: PatientState -> regimen assessments (stable API).

    evaluate(state) -> list[RegimenAssessment]
        One assessment per regimen of cards/knowledge/regimens.yaml: fitting
        regimens first in pathway rank order, then the others. Each says whether
        it fits, why (facts with sources), why not, what is unknown, the cautions
        for this patient and the concrete choices with the recommended one.
    assess(state, topic) -> RegimenAssessment
    pathway_status(state) -> PathwayStatus   (is the patient in this pathway?)

Knowledge lives in regimens.yaml; the predicates it names live in cards/rules.py.
Pure functions of the state, no I/O; cheap enough for the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from mappings.disease import DATED_BEFORE_DIAGNOSIS_WORDS, NODES_ONLY_WORDS, TREATED_FOR_MBC_WORDS
from mappings.state import PatientState, Source

from cards.knowledge import DRUGS, REGIMENS, REGIMENS_BY_TOPIC, DrugInfo, Regimen, Route, RuleRef
from cards.rules import RULES, Context, Finding, counted, fmt_date, line_listing, metastatic_when

Status = Literal["fits", "not-fit", "unknown", "not-this-phase", "outside-pathway"]


@dataclass(frozen=True)
class PathwayStatus:
    in_pathway: bool  # HR+/HER2- metastatic breast cancer: regimen cards possible
    receptors_known: bool
    reason: str  # why the patient is (not) in the pathway
    findings: tuple[Finding, ...] = ()
    deceased: bool = False  # Patient.deceased[x]: no treatment advice at all


@dataclass
class CautionHit:
    severity: str  # "critical" (the order hooks' "do not start") | "warning" | "info"
    text: str
    source: str  # knowledge source key
    finding: Finding  # the patient facts that triggered it
    short: str | None = None  # a few words for the card summary
    never_recommended: bool = False  # the drug should not be started: never the recommended choice
    drug: str | None = None  # a choice caution: the drug of the choice it is about (regimens.yaml choice_cautions)
    rule: str | None = None  # the cards/rules.py predicate behind it (the order hooks skip those another card reports)

    def named_short(self) -> str | None:
        """The summary words naming the drug, for a caution of a choice that is not the
        recommended one ("ribociclib off-label"); as is when they already name it."""
        if not self.short or not self.drug or self.drug in self.short.lower():
            return self.short
        return f"{self.drug} {self.short}"


@dataclass
class ChoiceAssessment:
    drugs: tuple[DrugInfo, ...]
    label: str  # "Letrozole + ribociclib"
    recommended: bool = False
    excluded: str | None = None  # why this concrete regimen is not offered
    cautions: list[CautionHit] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.drugs)

    @property
    def blocked_by(self) -> list[CautionHit]:
        """Its cautions that say the drug should not be started (it is never recommended)."""
        return [h for h in self.cautions if h.never_recommended]


@dataclass
class RegimenAssessment:
    topic: str
    regimen: Regimen
    status: Status
    rank: int
    phase: str
    reasons: list[Finding] = field(default_factory=list)  # requirements met (why it fits)
    reasons_not: list[Finding] = field(default_factory=list)  # requirements failed / exclusions
    unknown: list[Finding] = field(default_factory=list)  # requirements that cannot be decided
    route: str | None = None  # the label route that fits, when the label has several
    route_tag: str | None = None  # that route's summary tag (regimens.yaml routes[].tag)
    # the later label routes that fit as well (T-DXd HER2-low after ET and metastatic
    # chemotherapy: label A and label B, CR C.3 row 9 "implement both labels"): said on the card
    also_routes: list[str] = field(default_factory=list)
    cautions: list[CautionHit] = field(default_factory=list)
    choices: list[ChoiceAssessment] = field(default_factory=list)
    needs_ofs: bool = False
    # the suppression the regimen needs, documented (rules.suppression_to_continue): named
    # among the facts it fits by, to be kept through the change of line (C.3 row 15)
    suppression_kept: Finding | None = None
    checked: list[Finding] = field(default_factory=list)  # label exclusions checked and not met
    # not-this-phase, but the patient's markers make it relevant (regimens.yaml
    # named_before_its_phase): why the pathway holds it back, and its label's state; the
    # summary's "Not offered now" names it (an option must not vanish without a word)
    held_for_later: Finding | None = None

    def why(self) -> list[Finding]:
        """The facts a card gives for "why it fits": the requirements met, then the label
        exclusions checked and found not to apply; at least the line of therapy, so the
        card never shows an empty "why" (review D4)."""
        facts = [f for f in self.reasons if f.text]
        if not facts:
            line = "First line" if self.phase == "first-line" else "Next line"
            facts.append(Finding(True, f"{line} for metastatic disease; the label sets no other requirement "
                                       "that the record has to show"))
        if self.suppression_kept is not None:
            facts.append(self.suppression_kept)
        facts += [Finding(f.value, f"Not excluded: {f.text}", f.sources) for f in self.checked if f.text]
        return facts

    @property
    def fits(self) -> bool:
        return self.status == "fits"

    @property
    def excluded_by_rule(self) -> bool:
        """One of the regimen's `excluded_if` rules applies (assess records it in reasons_not
        with value True; a failed requirement or the phase has value False)."""
        return any(f.value is True for f in self.reasons_not)

    @property
    def critical(self) -> bool:
        """A regimen-level safety stop applies (the order hooks say "do not start")."""
        # a loop, not any(<generator>): read some 50 times a patient-view call, mostly of an
        # empty or one-caution list, where making the generator cost more than the test
        for c in self.cautions:
            if c.severity == "critical":
                return True
        return False

    def weighed_cautions(self, offered: list | None = None) -> tuple[list[CautionHit], list[CautionHit]]:
        """The one rule for what a regimen card's indicator and its summary's "caution:" list
        weigh (review of regressions, B3): (weighed, others). weighed = the regimen-level
        cautions and those of the recommended choice; with no recommended choice, those of
        every offered choice. others = the cautions of the offered choices that are not the
        recommended one: shown in the detail under their choice, in the summary only after
        the weighed ones and named with their drug (CautionHit.named_short), and they do not
        raise the indicator (fulvestrant + ribociclib off-label for a premenopausal woman
        while fulvestrant + abemaciclib, on-label, is recommended)."""
        offered = self.offered_choices if offered is None else offered
        rec = None
        for c in offered:
            if c.recommended:
                rec = c
                break
        if rec is None:
            return self.cautions + [h for c in offered for h in c.cautions], []
        return self.cautions + rec.cautions, [h for c in offered if c is not rec for h in c.cautions]

    def indicator_for(self, offered: list | None = None, weighed: tuple | None = None) -> str:
        """critical under a regimen-level "do not start"; warning when a weighed caution
        (weighed_cautions) is a warning, or when an offered choice that is not recommended
        carries a caution saying its drug should not be started (ribociclib with QTcF >= 450
        ms next to a recommended abemaciclib): the card still offers that order in one
        click, so it needs care; else info. `weighed`: weighed_cautions(offered), when the
        caller has it already (a regimen card reads it for its summary too)."""
        if self.critical:
            return "critical"
        weighed, others = self.weighed_cautions(offered) if weighed is None else weighed
        # loops, not any(<generator>), over the card's few cautions (each regimen card)
        for h in weighed:
            if h.severity == "warning":
                return "warning"
        for h in others:
            if h.never_recommended and h.severity == "warning":
                return "warning"
        return "info"

    @property
    def indicator(self) -> str:
        return self.indicator_for()

    @property
    def recommended(self) -> ChoiceAssessment | None:
        return next((c for c in self.choices if c.recommended), None)

    def not_recommended_because(self, offered: list | None = None) -> list[tuple[str | None, CautionHit]]:
        """Why no suggestion of this card is recommended although some are offered: the
        regimen-level cautions that say not to start it now (label None), else each offered
        choice's such cautions (label = the choice). Empty when one is recommended, when none
        is offered, or under a "do not start" stop (the card says that itself)."""
        offered = self.offered_choices if offered is None else offered
        if not offered or self.critical or any(c.recommended for c in offered):
            return []
        regimen = [(None, h) for h in self.cautions if h.never_recommended]
        return regimen or [(c.label, h) for c in offered for h in c.blocked_by]

    @property
    def offered_choices(self) -> list[ChoiceAssessment]:
        return [c for c in self.choices if c.excluded is None]


# --- pathway entry (reference C.2 step 0) ----------------------------------

def _src(*groups) -> tuple[Source, ...]:
    return tuple(s for g in groups for s in (g or []))


def pathway_status(state: PatientState) -> PathwayStatus:
    d, er, pr, her2 = state.disease, state.er, state.pr, state.her2
    dx = Finding(d.breast_cancer == "yes", f"Breast cancer: {d.breast_cancer}", _src(d.primary_sources))
    met = Finding(d.metastatic == "yes", f"Metastatic disease: {d.metastatic}"
                  + (f" ({metastatic_when(d)})" if d.metastatic_date else ""),
                  _src(d.metastatic_sources or d.non_metastatic_sources))
    rec = Finding(None, f"ER {er.status}, PR {pr.status}, HER2 {her2.category}",
                  _src(er.sources, pr.sources, her2.sources))
    fa = state.factors
    if fa.deceased:
        # before any clinical reason: a patient recorded as dead gets no treatment advice
        # (the date and the Patient resource as its source; deceasedBoolean false = alive)
        when = f" ({fmt_date(fa.deceased_date, fa.deceased_date_last)})" if fa.deceased_date else ""
        dead = Finding(False, f"Patient recorded as deceased{when}", _src(fa.deceased_sources))
        known = (state.hormone_receptor_positive is not None
                 and her2.category not in ("unknown", "equivocal-pending"))
        return PathwayStatus(False, known, f"Patient recorded as deceased{when}: no treatment advice.",
                             (dead, dx, met, rec), deceased=True)
    if d.breast_cancer == "no":
        return PathwayStatus(False, False, "No breast cancer diagnosis: outside this pathway.", (dx,))
    if d.breast_cancer != "yes":
        return PathwayStatus(False, False, "No breast cancer diagnosis documented: no regimen advice.", (dx,))
    if her2.category == "positive":
        return PathwayStatus(False, True, "HER2-positive: outside this HR+/HER2- pathway (HER2-targeted therapy).", (dx, rec))
    if state.hormone_receptor_positive is False:
        her2_neg = her2.category not in ("unknown", "equivocal-pending")
        reason = ("Triple-negative (ER-, PR-, HER2-): outside this HR+/HER2- pathway." if her2_neg
                  else "ER and PR negative: outside this HR+ pathway.")
        return PathwayStatus(False, True, reason, (dx, rec))
    if d.metastatic != "yes":
        what = ("No metastatic disease" if d.metastatic == "no" else _metastatic_status_unclear(state)
                or "Metastatic disease not documented")
        return PathwayStatus(False, state.hormone_receptor_positive is True, f"{what}: no metastatic-line advice.", (dx, met, rec))
    if state.hormone_receptor_positive is None or her2.category in ("unknown", "equivocal-pending"):
        missing = []
        if state.hormone_receptor_positive is None:
            missing.append("ER/PR")
        if her2.category == "unknown":
            missing.append("HER2")
        if her2.category == "equivocal-pending":
            # an ISH ratio of groups 2-4 or an ISH written "equivocal" (mappings.markers): not decided
            undecided = any(g.code in ("her2-ish-unclear", "her2-ish-equivocal") for g in state.gaps)
            missing.append("HER2 (IHC 2+, ISH not decided)" if undecided else "HER2 (IHC 2+ without ISH)")
        return PathwayStatus(False, False, f"Receptor status unknown ({', '.join(missing)}): testing only, no regimen advice.",
                             (dx, met, rec))
    return PathwayStatus(True, True, "HR-positive, HER2-negative metastatic breast cancer.", (dx, met, rec))


def _metastatic_status_unclear(state: PatientState) -> str | None:
    """Why the metastatic status is unclear when the record writes a metastasis the service asks
    about (gap metastasis-unconfirmed: nodes that may be regional, a drug given for metastatic
    breast cancer, a suspicion): "not documented" would read as nothing written (CR A.4 counts
    M1 / stage IV / secondary sites; AJCC 8th edition: ipsilateral axillary nodes are N, not M1),
    or a metastasis dated before the diagnosis (gap metastatic-status-conflict). None when nothing
    is asked."""
    asked = next((g.message for g in state.gaps if g.code == "metastasis-unconfirmed"), None)
    # (rt50) a metastasis or stage IV dated before the diagnosis is written, not counted (gap
    # metastatic-status-conflict: an earlier cancer's?): asked too, not "not documented"
    before = any(g.code == "metastatic-status-conflict" and DATED_BEFORE_DIAGNOSIS_WORDS in g.message
                 for g in state.gaps)
    if asked is None and not before:
        return None
    asked = asked or ""
    whys = ["nodes, regional or distant not stated"] if NODES_ONLY_WORDS in asked else []
    if TREATED_FOR_MBC_WORDS in asked:
        whys.append("treated for MBC")
    if asked and not whys:
        whys.append("metastasis not confirmed")
    if before:
        whys.append("dated before the diagnosis")
    return f"Metastatic status unclear ({'; '.join(whys)})"


# --- evaluation ------------------------------------------------------------
# Every rule result is memoised per state in ctx.memo under RuleRef.memo_key (the
# key cards.rules.evaluate_rule uses), so a rule several regimens name runs once.

_NEEDS_OFS = RuleRef("needs_ovarian_suppression")
_MALE_NO_LHRH = RuleRef("male_without_lhrh_agonist")
_SUPPRESSION_KEPT = RuleRef("suppression_to_continue")
_SUPPRESSION_KEPT_MEN = RuleRef("suppression_to_continue", (("men", True),))


def _eval(ref: RuleRef, state: PatientState, ctx: Context) -> Finding:
    found = ctx.memo[ref.memo_key] = RULES[ref.rule](state, ctx, **ref.kw)
    return found


def _run(ref: RuleRef, state: PatientState, ctx: Context) -> Finding:
    found = ctx.memo.get(ref.memo_key)
    return _eval(ref, state, ctx) if found is None else found
# The loops below that run a rule per knowledge entry (some 190 look-ups a patient-view
# call, most of them memo hits) read ctx.memo themselves and call _eval only on a miss:
# _run's call per look-up cost more than the look-up.


def _caution_hits(cautions, state, ctx, drug: str | None = None) -> list[CautionHit]:
    hits = []
    memo = ctx.memo
    for c in cautions:
        f = memo.get(c.rule.memo_key)
        if f is None:
            f = _eval(c.rule, state, ctx)
        if f.value:
            # raised by an unconfirmed condition alone: the summary says so (Caution.short_unconfirmed)
            short = c.short_unconfirmed if f.unconfirmed_only and c.short_unconfirmed else c.short
            hits.append(CautionHit(c.severity, c.text, c.source, f, short, c.never_recommended, drug or c.about,
                                   c.rule.rule))
    return hits


@dataclass
class RouteOutcome:
    """How a regimen's alternative label routes (regimens.yaml `routes`, T-DXd A/B) read."""

    route: Route | None = None  # the first route whose requirements are all met
    met: list[Finding] = field(default_factory=list)  # that route's findings
    also: list[Route] = field(default_factory=list)  # the later `also_named` routes all met too
    failed: list[Finding] = field(default_factory=list)  # requirements documented as not met
    unknown: list[Finding] = field(default_factory=list)  # undecided, of routes with none failed

    @property
    def label_fails(self) -> bool:
        """Only when every route has a requirement documented as not met."""
        return self.route is None and not self.unknown and bool(self.failed)


def label_routes(reg: Regimen, state: PatientState, ctx: Context) -> RouteOutcome:
    """The one reading of the label routes, shared by assess and the order checks (which
    read them for a regimen assess does not assess outside its phase)."""
    out = RouteOutcome()
    for i, route in enumerate(reg.routes):
        fs = [_run(ref, state, ctx) for ref in route.rules]
        if all(f.value for f in fs):
            out.route, out.met = route, fs
            out.also = [r for r in reg.routes[i + 1:]
                        if r.also_named and all(_run(ref, state, ctx).value for ref in r.rules)]
            break
        if any(f.value is False for f in fs):
            out.failed += [f for f in fs if f.value is False]
        else:
            out.unknown += [f for f in fs if f.value is None]
    return out


def _recommendable(choice: ChoiceAssessment) -> bool:
    """The one rule for whether a concrete regimen may be the recommended suggestion: it is
    offered and carries no caution saying the drug should not be started for this patient
    (e.g. ribociclib with QTcF >= 450 ms, a drug the patient's ILD began on). Such a choice
    stays offered, with its caution, for the clinician to choose; it is ranked after the
    others and, when it is the only one, the card recommends nothing and says why. The
    regimen-level counterpart is in assess()."""
    return choice.excluded is None and not choice.blocked_by


def _choice_label(drugs: tuple[DrugInfo, ...]) -> str:
    text = " + ".join(d.name for d in drugs)
    return text[:1].upper() + text[1:]


# regimen -> its concrete choices prepared once: (names, drugs, label, set of names,
# ((name, choice requirements, choice cautions), ...)). Keyed by the Regimen and
# the DRUGS table it was prepared with (knowledge is immutable once loaded).
_CHOICE_PLANS: dict[int, tuple] = {}


def _choice_plan(reg: Regimen) -> tuple:
    plan = _CHOICE_PLANS.get(id(reg))
    if plan is None or plan[0] is not reg or plan[1] is not DRUGS:
        rows = []
        for names in reg.choices:
            drugs = tuple(DRUGS[n] for n in names)
            checks = tuple((n, reg.choice_requires.get(n, ()), reg.choice_cautions.get(n, ())) for n in names
                           if reg.choice_requires.get(n) or reg.choice_cautions.get(n))  # the others do nothing
            rows.append((names, drugs, _choice_label(drugs), set(names), checks))
        plan = _CHOICE_PLANS[id(reg)] = (reg, DRUGS, tuple(rows))
    return plan[2]


def _assess_choice(drugs, label, name_set, checks, given, exclude_given: bool,
                   state: PatientState, ctx: Context) -> ChoiceAssessment:
    """One concrete regimen: excluded if already given or a requirement fails; its cautions."""
    choice = ChoiceAssessment(drugs, label)
    if exclude_given:
        # `given` is ctx.metastatic_drug_sets, one set per metastatic line in line order
        # (Context.of): the reason names the line(s) that gave it, with their dates
        gave = [ln for ln, s in zip(state.therapy.metastatic_lines, given) if name_set <= s]
        if gave:
            choice.excluded = f"already given for metastatic disease ({line_listing(ctx, gave)})"
    for n, requires, cautions in checks:
        for ref in requires:
            f = ctx.memo.get(ref.memo_key)
            if f is None:
                f = _eval(ref, state, ctx)
            if not f.value and choice.excluded is None:
                choice.excluded = f"{n}: {f.text}" if f.text else f"{n}: requirement not met"
        if cautions:
            choice.cautions += _caution_hits(cautions, state, ctx, n)
    return choice


def _assess_choices(reg: Regimen, state: PatientState, ctx: Context) -> list[ChoiceAssessment]:
    given = ctx.metastatic_drug_sets or []
    exclude_given = reg.exclude_choices_already_given
    plan = _choice_plan(reg)
    if len(plan) == 1 and not reg.prefer_when:  # one concrete regimen: recommended unless excluded
        _, drugs, label, name_set, checks = plan[0]
        choice = _assess_choice(drugs, label, name_set, checks, given, exclude_given, state, ctx)
        choice.recommended = _recommendable(choice)
        return [choice]
    out = [(_assess_choice(drugs, label, name_set, checks, given, exclude_given, state, ctx), names)
           for names, drugs, label, name_set, checks in plan]
    # recommended: a recommendable choice (never one the patient should not start) first, then
    # no warning, then the preference order for this patient, then data order
    order: tuple[str, ...] = ()
    for pref in reg.prefer_when:
        if _run(pref.rule, state, ctx).value:
            order = pref.order
            break

    offered = []
    for idx, (c, names) in enumerate(out):
        if c.excluded is None:
            warn = False
            for h in c.cautions:
                if h.severity == "warning":
                    warn = True
                    break
            pos = len(order)
            for n in names:
                if n in order and order.index(n) < pos:
                    pos = order.index(n)
            offered.append(((not _recommendable(c), warn, pos, idx), c))
    if len(offered) > 1:
        offered.sort(key=itemgetter(0))
    if offered and _recommendable(offered[0][1]):
        offered[0][1].recommended = True
    # keep suggestions in the order shown to the clinician: the recommended first
    ranked = [c for _, c in offered] + [c for c, _ in out if c.excluded is not None]
    return ranked


def assess(state: PatientState, topic: str, ctx: Context | None = None,
           status: PathwayStatus | None = None) -> RegimenAssessment:
    reg = REGIMENS_BY_TOPIC[topic]
    ctx = ctx or Context.of(state)
    status = status or pathway_status(state)
    phase = ctx.phase
    memo = ctx.memo
    rank = reg.rank.get(phase, 1000)
    for ref, r, when in reg.rank_when:
        if when is None or when == phase:
            f = memo.get(ref.memo_key)
            if f is None:
                f = _eval(ref, state, ctx)
            if f.value:
                rank = r
    a = RegimenAssessment(topic, reg, "fits", rank, phase)
    if not status.in_pathway:
        a.status = "outside-pathway"
        a.reasons_not.append(Finding(False, status.reason, ()))
        return a
    also = reg.also_after_progression if phase == "after-progression" and phase not in reg.phases else None
    gate = _run(also.rule, state, ctx) if also is not None else None
    if gate is not None and gate.value:
        # a first-line regimen that is still the initial one of its kind (ai-cdk46i after
        # first-line chemotherapy, C.2 step 2): assessed now, with its own rank and summary
        a.rank, a.route_tag = also.rank, also.tag
        a.reasons.append(gate)
    elif phase not in reg.phases:
        a.status = "not-this-phase"
        text = ("A first-line option; the patient has had metastatic therapy "
                f"({counted(ctx.lines, 'line')})" if phase == "after-progression"
                else "An option after progression on endocrine therapy; no metastatic line yet")
        a.reasons_not.append(Finding(False, text, ctx.line_sources))
        if reg.named_before_its_phase is not None:
            a.held_for_later = _held_for_later(reg, state, ctx)
        return a
    reasons, unknown, reasons_not = a.reasons, a.unknown, a.reasons_not
    for ref in reg.requires:
        f = memo.get(ref.memo_key)
        if f is None:
            f = _eval(ref, state, ctx)
        (reasons if f.value else unknown if f.value is None else reasons_not).append(f)
    if reg.routes:
        routes = label_routes(reg, state, ctx)
        if routes.route is not None:
            a.route = routes.route.label
            a.route_tag = routes.route.tag
            a.also_routes = [r.label for r in routes.also]
            a.reasons += routes.met
        elif routes.unknown:
            a.unknown += routes.unknown
        else:
            a.reasons_not += routes.failed
    for ref in reg.excluded_if:
        f = memo.get(ref.memo_key)
        if f is None:
            f = _eval(ref, state, ctx)
        if f.value:
            reasons_not.append(_exclusion(ref, f))
        elif f.value is None:
            # an exclusion the record cannot decide is a data gap, not a pass: the
            # regimen waits on it (status unknown) and the summary says what is missing
            what = (ref.text or "").split(":")[0]
            text = f"not known whether this applies: {what} ({f.text})" if what else f.text
            unknown.append(Finding(None, text, f.sources))
        else:
            a.checked.append(f)
    a.choices = choices = _assess_choices(reg, state, ctx)
    for c in choices:
        if c.excluded is None:
            break
    else:
        reasons_not.append(Finding(False, "Every concrete regimen of this card was already given or is excluded"))
    a.cautions += _caution_hits(reg.cautions, state, ctx)
    if a.cautions and (a.critical or any(h.never_recommended for h in a.cautions)):  # most have none
        # shown with the stop or the caution (C.2: warnings, not silent exclusions) but never
        # recommended (e.g. endocrine-based therapy during a visceral crisis, C.2 step 2)
        for c in choices:
            c.recommended = False
    if reg.endocrine_based:
        f = _run(_NEEDS_OFS, state, ctx)
        a.needs_ofs = f.value is True
        if not a.needs_ofs and (reg.lhrh_agonist_for_men
                                or all(any(d.drug_class == "aromatase-inhibitor" for d in c.drugs) for c in choices)):
            # men on an AI need an LHRH agonist too (C.2 step 2), and men on inavolisib +
            # palbociclib + fulvestrant (C.2 step 2, per clinical practice); the same GnRH agonist order
            a.needs_ofs = _run(_MALE_NO_LHRH, state, ctx).value is True
            men = True
        else:
            men = False
        if not a.needs_ofs:
            # documented: said among the facts it fits by, so that it is not dropped at the
            # change of line (C.3 row 15; C.2 step 2 for men)
            kept = _run(_SUPPRESSION_KEPT_MEN if men else _SUPPRESSION_KEPT, state, ctx)
            if kept.value:
                a.suppression_kept = kept
    else:
        a.needs_ofs = reg.endocrine_based
    if reasons_not:
        a.status = "not-fit"
    elif unknown:
        a.status = "unknown"
    return a


def _exclusion(ref, f: Finding) -> Finding:
    """A met `excluded_if` rule as cards name it: the entry's own words, then the fact."""
    text = f"{ref.text} ({f.text})" if ref.text and f.text else (ref.text or f.text)
    return Finding(True, text, f.sources)


def exclusions_met(reg: Regimen, state: PatientState, ctx: Context) -> list[Finding]:
    """The regimen's `excluded_if` rules that apply, whatever the phase: an exclusion (a prior
    PARP inhibitor, ILD on T-DXd, CR B.6 / B.7 / B.11) does not depend on the line, so an order
    drafted before the regimen's phase is judged on it too (same ctx.memo: no rule runs twice)."""
    return [_exclusion(ref, f) for ref in reg.excluded_if for f in [_run(ref, state, ctx)] if f.value]


def _held_for_later(reg: Regimen, state: PatientState, ctx: Context) -> Finding | None:
    """Why a regimen the pathway places in a later phase is not offered now, when the facts
    that make it relevant hold (regimens.yaml named_before_its_phase: a germline BRCA2 at first
    line, CR C.2 step 3): the pathway's reason, the facts, and what its label still needs (the
    olaparib label's prior chemotherapy, B.6), so that the reason a later card will give is
    known now. None when those facts do not hold (nothing to say)."""
    held = reg.named_before_its_phase
    facts = [_run(ref, state, ctx) for ref in held.when]
    if not all(f.value or (f.value is None and ref.rule in held.undecided) for ref, f in zip(held.when, facts)):
        return None
    if exclusions_met(reg, state, ctx):
        # excluded in its own phase too (a prior PARP inhibitor: adjuvant olaparib, regimens.yaml
        # excluded_if): nothing held for later, so "come after endocrine-based therapy" would be false
        return None
    if any(f.value is None for f in facts):
        return _held_for_later_undecided(held, facts)
    still = [f for ref in reg.requires if ref not in held.when for f in [_run(ref, state, ctx)] if not f.value]
    words = list(dict.fromkeys(f.text for f in still if f.text))
    if reg.routes:
        routes = label_routes(reg, state, ctx)
        if routes.route is None:
            # alternatives (olaparib: prior endocrine therapy, or a visceral crisis): named as such,
            # not as if each were needed
            missed = routes.failed + routes.unknown
            still += missed
            words.append(f"no label route met ({_said(missed)})")
    text = f"{held.text} — " + _said(facts)
    if words:
        text += "; label not met yet: " + "; ".join(words)
    return Finding(False, text, tuple(s for f in facts + still for s in f.sources))


def _said(findings) -> str:
    """The findings' texts, each once, in order, as one clause list ("a; b")."""
    return "; ".join(dict.fromkeys(f.text for f in findings if f.text))


def _held_for_later_undecided(held, facts: list[Finding]) -> Finding:
    """A regimen held for later whose label the record cannot decide (named_before_its_phase
    `undecided`: T-DXd label B with the adjuvant chemotherapy's end written without a day, B.11):
    the pathway's reason, the facts that hold, and the label's state "not established" with the
    undecided facts (the order hooks' "label requirement not confirmed" names the same ones)."""
    known = _said(f for f in facts if f.value)
    open_ = _said(f for f in facts if f.value is None)
    text = f"{held.text_undecided} — " + (f"{known}; " if known else "") + f"label not established: {open_}"
    return Finding(False, text, tuple(s for f in facts for s in f.sources))


def evaluate(state: PatientState, ctx: Context | None = None,
             status: PathwayStatus | None = None) -> list[RegimenAssessment]:
    """Every regimen assessed for this patient; fitting ones first, ranked."""
    ctx = ctx or Context.of(state)
    status = status or pathway_status(state)
    order = _topic_order()
    keyed = []
    for r in REGIMENS:
        a = assess(state, r.topic, ctx, status)
        # fitting regimens with a safety stop come after the other fitting ones
        keyed.append(((False, a.critical, a.rank, order[a.topic]) if a.status == "fits"
                      else (True, False, 0, order[a.topic]), a))
    keyed.sort(key=itemgetter(0))
    return [a for _, a in keyed]


_ORDER: list = [None, None]  # [REGIMENS it was made from, topic -> position]


def _topic_order() -> dict[str, int]:
    if _ORDER[0] is not REGIMENS:
        _ORDER[1] = {r.topic: i for i, r in enumerate(REGIMENS)}
        _ORDER[0] = REGIMENS
    return _ORDER[1]


def fitting(state: PatientState) -> list[RegimenAssessment]:
    return [a for a in evaluate(state) if a.fits]
