"""Order checks for order-select / order-sign.

Contract: order_check_cards(state, drafts, selections, hook) -> list[Card]

    drafts      every drafted order of context.draftOrders, resolved to
                ingredients by mappings.read_draft_orders; drafts marked
                `not_checked` (a subject naming another patient than
                context.patientId; doNotPerform = true, which prohibits
                the drug; a status cancelled / entered-in-error / stopped /
                completed / revoked: the request orders nothing) are left
                out of every check
    selections  order-select: the "Type/id" references just picked (the cards
                speak only about them, but every draft counts when deciding
                whether a regimen is complete); order-sign: None (all drafts)

What fits and why not comes from the pathway (cards/pathway.py `assess` /
`evaluate` over cards/knowledge/regimens.yaml, predicates in cards/rules.py):
one source of truth. cards/knowledge/order_rules.yaml adds only what the
pathway does not encode (which requirements are biomarkers, safety stops, the
combination-only labels, HER2-positive labels, override reasons).

For each drafted pathway drug the checker picks the regimen it belongs to
("target"): a complete drafted combination that fits > a fitting regimen that
lacks a partner > the closest regimen that does not fit. Then:

    order-contraindicated (critical)   safety stop (symptomatic ILD with an ADC,
                                       type 1 / HbA1c-uncontrolled diabetes with
                                       a PI3K/AKT inhibitor); warning for the
                                       pathway's safety cautions (ILD history with
                                       an ADC, a CDK4/6 inhibitor, everolimus or
                                       alpelisib; ILD that began on the drafted
                                       CDK4/6 inhibitor, everolimus or alpelisib;
                                       QTc >= 450 ms or tamoxifen with ribociclib;
                                       visceral crisis with endocrine-based therapy;
                                       hyperglycaemia per drug: alpelisib,
                                       capivasertib, inavolisib, everolimus, with
                                       the HbA1c / fasting glucose orders). Where
                                       patient-view never recommends the drug (QTc,
                                       ILD began on it, visceral crisis) the card
                                       offers patient-view's replacements; warning
                                       too for every other warning caution
                                       patient-view shows for a drafted regimen that
                                       fits (off-label use: pathway_caution_cards)
    order-not-indicated (warning)      documented facts contradict the label; lists
                                       the regimens that fit in patient-view's rank
                                       order; replacements = their recommended
                                       choices (the drafted regimen's own too, e.g.
                                       paclitaxel for eribulin in a visceral crisis),
                                       never one the order hooks call "do not start"
                                       Also (warning) when the drafted regimen is
                                       "unknown" for this patient (patient-view:
                                       "waiting on") for a reason that is not a
                                       biomarker (relapse timing after adjuvant
                                       therapy, menopausal status, a T-DXd label
                                       route ...), or is a fitting choice whose own
                                       requirement the record leaves open (fulvestrant +
                                       palbociclib / abemaciclib after an adjuvant relapse
                                       whose timing cannot be told: order_rules.yaml
                                       choice_requirements_open): "<regimen>: label
                                       requirement not confirmed — <first open fact>", the open facts
                                       with their sources, the label, the regimens
                                       that fit; nothing pre-selected (the drug may
                                       well be indicated: replacements offered
                                       unselected, the drug-level safety and glucose
                                       cards and the ovarian suppression card stay).
                                       A draft whose own note / reasonCode / statusReason
                                       states the progression the running line lacks
                                       (DraftOrder.stated_progression; order_rules.yaml
                                       stated_on_draft) gets instead an info card "<regimen>:
                                       progression stated on the draft, not in the record:
                                       '<words>'" asking to record it (CR C.2 step 1).
                                       Only for a regimen drafted complete (one
                                       lacking a partner: order-incomplete-regimen
                                       names what is open) and not for guideline-only
                                       placement (chemotherapy)
                                       Also (warning) for a drafted drug no labelled
                                       regimen combines with the others drafted (two
                                       endocrine agents, two drugs of one class, a
                                       drug beside a complete regimen: order_rules.yaml
                                       extra_drug): names the extra drug, removal
                                       offered, not pre-selected (extra_drug_cards)
                                       Also (warning) for a drafted drug of the class
                                       of a drug the record shows active (or a second
                                       endocrine agent beside an active one): names
                                       the active drug ("stop it if switching"),
                                       nothing suggested; silent when the draft's
                                       priorPrescription is that active order
                                       (active_same_class_cards)
    order-biomarker-missing (warning)  a label biomarker is not documented
    order-incomplete-regimen           a partner is missing (combination-only
                                       labels: warning; otherwise info); or drafted
                                       only by its class ("Palbociclib + AI":
                                       DraftOrder.unnamed_partner), then "drafted with
                                       a partner not named", nothing pre-selected; ovarian
                                       suppression (warning), or an LHRH agonist
                                       for a man on an aromatase inhibitor. A
                                       drafted combination only a trial supports
                                       (order_rules.yaml trial_only_combinations:
                                       imlunestrant + abemaciclib, everolimus +
                                       fulvestrant / tamoxifen) is named on it,
                                       and no partner is pre-selected
    test-glycemic (info)               HbA1c / fasting glucose missing or stale
                                       before a PI3K/AKT/mTOR inhibitor

A test already drafted with these orders (a draftOrders ServiceRequest naming every
gene the biomarker card asks about, or coded with the glycemic test's LOINC code or
written by its name, "HbA1c", local_codes.yaml drafted_test_names) is not pre-selected a
second time: the card names the drafted order; the glycemic card pre-selects only the
tests not drafted (the card itself stays: no result yet). A drafted BRCA test whose name
says somatic / tumour is not the germline test (C.3 row 7), an ESR1 test on archival or
primary-tumour tissue not the current one (C.3 row 18): the card says so and pre-selects
its own; a counted BRCA test whose name does not say germline is named to check.

Every card also says when medication records could not be read (the therapy
history it is judged on may be incomplete), repeats the data-gathering notes
saying the patient's data may be incomplete (gap data-incomplete: an error
OperationOutcome in a search, a resource bound hit), and names the drafted medication
orders whose drug could not be read (DraftOrder.unreadable: e.g. a
medicationReference found neither contained nor in draftOrders, an NDC-only code,
codes and text naming different drugs): they were not
checked. Alone (no other card), such drafts get one info card (topic patient-summary, as
no order topic says "not checked") naming each and why: never an empty list, which would
read as "checked, nothing found", and not an HTTP 412, which CDS Hooks keeps for FHIR data
the service cannot obtain (not_checked_cards). Drafts whose subject is another patient
(DraftOrder.other_patient: a pathway drug, an unread drug or a genomic test, status not closed)
are named the same way, under "Drafted order(s) not checked (its subject is another patient ...)",
or alone in one info card "Drafted order not checked: it is for another patient (<reference>)"
(other_patient_cards: not an HTTP 400, see there).

A draft whose FHIR R4 MedicationRequest.intent is proposal, plan or option (not "order" or one
of its children, which alone authorise) is checked as an order is, but the cards name it by its
intent ("Drafted options checked", "against this proposal", "Remove the draft option"), and
neutrally ("draft") for mixed intents or a code outside the value set (ORDER_INTENTS).

A germline BRCA test drafted (its name says germline) when every BRCA gene it names has a final
germline result, or a germline pathogenic variant (gBRCAm) is documented, gets one info card
(topic test-germline-brca) with the results and their dates: a germline result does not change,
the pathway repeats only ESR1 at progression (germline_retest_cards). ESR1 and receptor
re-tests stay silent (re-tested at each progression, C.3 row 18; re-biopsy).

A drug one draft orders and another draft for this patient prohibits (FHIR R4
MedicationRequest.doNotPerform = true) gets one info card too (topic patient-summary,
contradiction_cards) naming both drafts, beside the other cards, which then pre-select nothing
when they are about that drug: each suggestion would rely on one of the two readings (a card
about another drug, e.g. a critical stop, keeps its pre-selected removal). The same drug drafted twice, both
ordering it (e.g. fulvestrant loading and monthly doses), is no contradiction: no card.

Outside the pathway (pathway_status: not metastatic, metastatic status unknown,
HER2-positive, HR-negative, deceased ...) the order hooks give no pathway advice
(no biomarker, incomplete-regimen, testing or visceral-crisis card). They still say
what documented facts hold against a drug's own label, one order-not-indicated card
per regimen group: HER2-positive disease and a HER2-negative label
(order_rules.yaml her2_positive_not_indicated, removal suggested), else documented
ER- and PR-negative disease and a label naming HR/ER-positive disease
(hr_negative_not_indicated, removal suggested), else documented
non-metastatic disease and a label for advanced/metastatic disease only
(advanced_disease_only, nothing pre-selected: locally advanced unresectable disease
may meet "advanced"); and the drug-level safety stops. Next to that advisory
non-metastatic card the drug may still be given, so the drug-level safety cautions
(warnings too, e.g. diabetes with a PI3K/AKT/mTOR inhibitor, with the HbA1c / fasting
glucose orders) and the test-glycemic card still apply (C.2 safety overlays, C.3 row 14);
a definitive not-indicated card (removal pre-selected) leaves only the critical stops.
A patient recorded as deceased gets neither the advisory card nor tests: only the
HER2-positive label-scope card and the critical stops (without test orders).
Receptor status unknown because an ER / PR / HER2 result is not final yet (gap
receptor-result-not-final): a drafted drug whose label that receptor decides (order_rules.yaml
her2_positive_not_indicated / hr_negative_not_indicated, and receptor_not_final_also) gets
order-biomarker-missing naming the result (status, date, source), the final report awaited, no
test pre-selected. A documented HER2-positive or ER-/PR-negative result with a newer one not
final yet: the not-indicated card names it and pre-selects no removal (advisory). In the pathway, a
biomarker card whose rule reads ER / HER2 (biomarker_rules `receptor`) names a newer result
not final yet the same way and pre-selects no test.

An order that fits gets no not-indicated, biomarker or incomplete-regimen card;
a safety caution of the pathway (a warning in patient-view too) is still raised
as a warning order-contraindicated card. Non-oncology drafts,
drugs outside the pathway and continuations of the current line (renewals)
get none either (only a critical safety stop is still raised). The pathway's
placement of a regimen is not always a label restriction (talazoparib has no
line clause, nor have olaparib and everolimus + exemestane; T-DXd label B can be
met at first line; chemotherapy sequencing is guideline advice): order_rules.yaml
`placement_not_label` says where only the label requirements count. An AI or
fulvestrant drafted alone after progression is a labelled monotherapy and stays
silent, unless the pathway excludes fulvestrant alone for this patient (already
given: judged as that regimen, not indicated, as patient-view says); abemaciclib
alone only when its monotherapy label (after endocrine therapy and prior
chemotherapy in the metastatic setting) is met (order_rules.yaml
`monotherapy_label`), otherwise it is an incomplete regimen (warning).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
import yaml

from mappings.fhir import TEXT_READ_LIMIT, months_between
from mappings.state import DraftOrder, PatientState, Source, selection_names
from mappings.therapy import SUBSTITUTION_MONTHS

from cards import testing
from cards.knowledge import (
    DRUGS, GLYCEMIC_WINDOW_DAYS, KNOWLEDGE_VERSION, OFS_DRUG, REGIMENS, REGIMENS_BY_TOPIC, SOURCES, TESTS,
    Caution, DrugInfo, Regimen, RuleRef, check_short_unconfirmed, regimens_with_drug,
)
from cards.models import Action, Card, Coding, Link, Suggestion, topic_source
from cards.pathway import (
    CautionHit, PathwayStatus, RegimenAssessment, assess, evaluate, exclusions_met, label_routes, pathway_status,
)
from cards.render import MAX_SUMMARY, SUMMARY_SOURCE, cite, clip, medication_request, service_request, upper_first
from cards.rules import (
    HER2_HISTORY_NOTE, PATHOGENIC, PREDICATE_GENES, RULES, Context, Finding, awaiting_final, awaiting_final_text, describe_variant, esr1_pending,
    evaluate_rule,
    fmt_date, ish_text, latest_date_text, variant_name, written_on,
)

RULES_FILE = Path(__file__).resolve().parent / "knowledge" / "order_rules.yaml"

ORDER_TOPICS = ("order-contraindicated", "order-not-indicated", "order-biomarker-missing",
                "order-incomplete-regimen", "test-glycemic")
INDICATOR_RANK = {"critical": 0, "warning": 1, "info": 2}
MAX_REPLACEMENTS = 3
MAX_PARTNER_SUGGESTIONS = 3
# drugs given with any regimen, judged on their own (ovarian suppression: ofs_card)
ADD_ON_CLASSES = ("ovarian-suppression", "bone-agent")
# said on every order-not-indicated card for documented non-metastatic disease
LABEL_SCOPE_SERVICE = "this service checks HR+/HER2- metastatic breast cancer labels."
NOT_METASTATIC_SCOPE = ("This service checks metastatic HR+/HER2- breast cancer; if the disease is locally "
                        "advanced and unresectable, the label's 'advanced' may apply.")


# Every predicate lives in cards/rules.py (the diabetes stops too: one stance in both
# hooks); results are memoised in ctx.memo, shared with the pathway's assessments.
run_rule = evaluate_rule


# --- knowledge -------------------------------------------------------------

@dataclass(frozen=True)
class BiomarkerRule:
    rule: str
    test: str
    what: str
    drugs: frozenset[str]
    source: str
    # the receptor result the rule reads (ER / HER2): one not final yet is named on the card
    receptor: str | None = None
    # when `what` adds a guideline's requirement to the label's (ESR1: "current" is ASCO 2023,
    # the label says "ESR1-mutated"): what the label requires, and what the guideline adds
    # (full, and short for the summary), so the card does not credit the label with both
    label_requires: str | None = None
    guideline_adds: str | None = None
    guideline_short: str | None = None


@dataclass(frozen=True)
class SafetyRule:
    id: str
    group: str
    indicator: str
    drugs: frozenset[str]
    short: str
    rule: RuleRef
    text: str
    source: str
    label_urls: dict[str, str]
    with_drugs: frozenset[str] = frozenset()  # fires when one of these is drafted or active too
    per_drug: bool = False  # the rule is asked about the drafted drug (rule parameter `drug`)
    pathway_advice: bool = False  # a pathway sequence (C.2), not drug safety: only inside the pathway
    # the pathway caution keeps the drug from being patient-view's recommended choice (QTc,
    # ILD began on it, visceral crisis): the card offers patient-view's replacements
    never_recommended: bool = False
    # the summary words when only an unconfirmed condition raises it (Finding.unconfirmed_only;
    # required for the rules in rules.UNCONFIRMED_RULES, as for regimens.yaml cautions)
    short_unconfirmed: str | None = None


@dataclass(frozen=True)
class OrderKnowledge:
    version: str
    override_reasons: tuple[tuple[Coding, frozenset[str] | None], ...]  # (reason, topics or None = all)
    biomarkers: dict[str, BiomarkerRule]
    safety: tuple[SafetyRule, ...]
    combination_only: dict[str, dict]
    monotherapy_label: dict[str, tuple[str, tuple[RuleRef, ...], str]]  # drug -> (label, requires, source)
    backbone_classes: frozenset[str]
    placement_not_label: dict[str, dict]
    her2_positive: dict[str, dict]
    advanced_only: dict[str, dict]  # drug -> {label, source}: every label indication is advanced disease
    sources: dict[str, dict]
    # drug -> {label, source}: every breast cancer label names HR-positive / ER-positive disease
    hr_negative: dict[str, dict] = field(default_factory=dict)
    # predicates of regimens.yaml cautions another order card reports (-> where)
    cautions_elsewhere: dict[str, str] = field(default_factory=dict)
    # receptor ("HER2" / "HR") -> {drug: {label, source}}: the labels a not-final result of it
    # decides, beside her2_positive / hr_negative (order_rules.yaml receptor_not_final_also)
    receptor_not_final_also: dict[str, dict[str, dict]] = field(default_factory=dict)
    # combinations a trial supports but no label does (order_rules.yaml trial_only_combinations):
    # (drugs, text, source), said on the incomplete-regimen card of a draft holding them all
    trial_only: tuple[tuple[frozenset[str], str, str], ...] = ()
    # a drafted drug no labelled regimen combines with the others (order_rules.yaml extra_drug):
    # endocrine_classes, combinable_classes, class_names, sources
    extra_drug: dict = field(default_factory=dict)
    # choice requirement rule -> (open_when rule, unless RuleRef or None, text, gap codes, source):
    # met for the pathway while the record cannot decide it (order_rules.yaml choice_requirements_open)
    # rule -> the facts that leave it open, each (open_when, unless, text, gaps, source,
    # stated_on_draft: the fact a drafted order's own stated progression answers as the ordering
    # clinician's statement, DraftOrder.stated_progression)
    choice_open: dict[str, list[tuple[str, RuleRef | None, str, tuple[str, ...], str, bool]]] = field(
        default_factory=dict)

    def receptor_labels(self, receptor: str) -> dict[str, dict]:
        """drug -> {label, source} for the drugs whose label the receptor ("HER2" / "HR") decides."""
        base = self.her2_positive if receptor == "HER2" else self.hr_negative
        return {**base, **self.receptor_not_final_also.get(receptor, {})}


def _distinct_facts(facts: list[Finding]) -> list[Finding]:
    """`facts` with each text once (two label routes failing on one fact give it twice), the
    sources of the repeats added to the first."""
    by_text: dict[str, Finding] = {}
    for f in facts:
        first = by_text.get(f.text)
        if first is None:
            by_text[f.text] = f
        elif any(s not in first.sources for s in f.sources):
            by_text[f.text] = Finding(first.value, first.text, first.sources
                                      + tuple(s for s in f.sources if s not in first.sources), first.unconfirmed_only)
    return list(by_text.values())


def _first_clauses(text: str, room: int) -> str:
    """`text` for a summary with `room` characters: whole, or without the HER2 history note
    (rules.HER2_HISTORY_NOTE: the earlier result stays in the detail) when it does not fit;
    clip cuts whatever is still too long."""
    return text.split(HER2_HISTORY_NOTE, 1)[0] if len(text) > room else text


def _not_final_lines(pending) -> list[str]:
    """The ER / PR / HER2 results not final yet (MarkerNotFinal) as the order cards list them."""
    return [f"- {r.named}: not final, not read{cite(r.sources)}" for r in pending]


def _pathway_caution(rule_name: str | None = None, cid: str | None = None) -> Caution:
    """The regimens.yaml caution with this id (a shared caution some regimen uses), or
    else the first caution (shared or per choice) that uses this predicate."""
    for reg in REGIMENS:
        # a shared caution may be used only per choice (ild-began-on-*: {caution: id, drug: ...})
        choice = [c for cs in reg.choice_cautions.values() for c in cs]
        for c in (*reg.cautions, *choice):
            if (c.id == cid) if cid else (c.rule.rule == rule_name):
                return c
    if cid:
        raise ValueError(f"order_rules.yaml: no regimen uses the regimens.yaml caution {cid}")
    raise ValueError(f"order_rules.yaml: no regimens.yaml caution uses rule {rule_name}")


def load_order_rules(path: Path = RULES_FILE) -> OrderKnowledge:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    sources = {**SOURCES, **(data.get("sources") or {})}
    system = data["override_reason_system"]
    reasons = tuple((Coding(system=system, code=r["code"], display=r["display"]),
                     frozenset(r["topics"]) if r.get("topics") else None) for r in data["override_reasons"])
    biomarkers = {
        name: BiomarkerRule(rule=name, test=b["test"], what=b["what"], drugs=frozenset(b["drugs"]),
                            source=b["source"], receptor=b.get("receptor"), label_requires=b.get("label_requires"),
                            guideline_adds=b.get("guideline_adds"), guideline_short=b.get("guideline_short"))
        for name, b in data["biomarker_rules"].items()
    }
    safety = []
    for s in data["safety"]:
        if "caution" in s or "caution_rule" in s:
            c = (_pathway_caution(cid=s["caution"]) if "caution" in s else _pathway_caution(s["caution_rule"]))
            ref, text, source, urls = c.rule, c.text, c.source, dict(s.get("label_urls") or {})
            never = c.never_recommended
        else:
            never = False
            # `with_drugs` entries need no predicate: the co-drafted/active drug is the fact
            ref = RuleRef(rule=s.get("rule", "always"), params=tuple(sorted((s.get("params") or {}).items())))
            text, source, urls = " ".join(s["text"].split()), s["source"], dict(s.get("label_urls") or {})
        safety.append(SafetyRule(id=s["id"], group=s["group"], indicator=s["indicator"],
                                 drugs=frozenset(s["drugs"]), short=s["short"], rule=ref, text=text,
                                 source=source, label_urls=urls, with_drugs=frozenset(s.get("with_drugs") or ()),
                                 per_drug=bool(s.get("per_drug")), pathway_advice=bool(s.get("pathway_advice")),
                                 never_recommended=never, short_unconfirmed=s.get("short_unconfirmed")))
        check_short_unconfirmed(f"order_rules.yaml: safety {s['id']}", ref.rule, s["short"], s.get("short_unconfirmed"))
    k = OrderKnowledge(
        version=str(data["version"]), override_reasons=reasons, biomarkers=biomarkers,
        safety=tuple(safety),
        combination_only=dict(data["combination_only"]),
        monotherapy_label={
            name: (" ".join(e["label"].split()),
                   tuple(RuleRef(rule=r["rule"], params=tuple(sorted((k, v) for k, v in r.items() if k != "rule")))
                         for r in e["requires"]), e["source"])
            for name, e in (data.get("monotherapy_label") or {}).items()
        },
        backbone_classes=frozenset(data["order_select_backbone_classes"]),
        placement_not_label=dict(data["placement_not_label"]), her2_positive=dict(data["her2_positive_not_indicated"]),
        advanced_only=dict(data["advanced_disease_only"]), sources=sources,
        hr_negative=dict(data["hr_negative_not_indicated"]),
        cautions_elsewhere=dict(data["pathway_cautions_reported_elsewhere"]),
        receptor_not_final_also={r: dict(t) for r, t in (data.get("receptor_not_final_also") or {}).items()},
        trial_only=tuple((frozenset(e["drugs"]), " ".join(e["text"].split()), e["source"])
                         for e in data.get("trial_only_combinations") or ()),
        extra_drug=dict(data.get("extra_drug") or {}),
        choice_open={
            rule: [(e["open_when"],
                    RuleRef(rule=e["unless"]["rule"],
                            params=tuple(sorted((k, v) for k, v in e["unless"].items() if k != "rule")))
                    if e.get("unless") else None,
                    " ".join(e["text"].split()), tuple(e.get("gaps") or ()), e["source"],
                    bool(e.get("stated_on_draft")))
                   for e in entries]
            for rule, entries in (data.get("choice_requirements_open") or {}).items()
        },
    )
    _check(k)
    _check_held_for_later(k)
    return k


def _check_held_for_later(k: OrderKnowledge) -> None:
    """placement_not_label `held_for_later` only for a regimen patient-view can name as held for
    later (regimens.yaml named_before_its_phase): the info card quotes that reason."""
    for topic, entry in k.placement_not_label.items():
        if entry.get("held_for_later") and REGIMENS_BY_TOPIC[topic].named_before_its_phase is None:
            raise ValueError(f"order_rules.yaml: placement_not_label {topic}: held_for_later without "
                             "regimens.yaml named_before_its_phase")


def _check(k: OrderKnowledge) -> None:
    """Fail at import on a broken order_rules.yaml (unknown rule, drug, test or source)."""
    known_rules = set(RULES)
    for b in k.biomarkers.values():
        if b.rule not in known_rules:
            raise ValueError(f"order_rules.yaml: unknown rule in biomarker {b.rule}")
        if b.test not in TESTS:
            raise ValueError(f"order_rules.yaml: unknown test topic {b.test}")
        if b.receptor not in (None, "ER", "HER2"):
            raise ValueError(f"order_rules.yaml: biomarker {b.rule}: receptor is ER or HER2")
        if b.source not in k.sources or not b.drugs <= set(DRUGS):
            raise ValueError(f"order_rules.yaml: biomarker {b.rule}: unknown source or drug")
    for s in k.safety:
        if s.rule.rule not in known_rules:
            raise ValueError(f"order_rules.yaml: safety {s.id} uses unknown rule {s.rule.rule}")
        if s.indicator not in ("critical", "warning") or s.source not in k.sources or not s.drugs <= set(DRUGS):
            raise ValueError(f"order_rules.yaml: safety {s.id}: bad indicator, source or drug")
        if not s.with_drugs <= set(DRUGS):
            raise ValueError(f"order_rules.yaml: safety {s.id}: unknown with_drugs")
        if not set(s.label_urls) <= s.drugs:
            raise ValueError(f"order_rules.yaml: safety {s.id}: label_urls for a drug it does not cover")
    if not set(k.receptor_not_final_also) <= {"HER2", "HR"}:
        raise ValueError("order_rules.yaml: receptor_not_final_also: receptors are HER2 and HR")
    for table in (k.combination_only, k.her2_positive, k.advanced_only, k.hr_negative,
                  *k.receptor_not_final_also.values()):
        for name, entry in table.items():
            if name not in DRUGS or entry["source"] not in k.sources:
                raise ValueError(f"order_rules.yaml: unknown drug or source for {name}")
    for drugs, _, source in k.trial_only:
        if not drugs <= set(DRUGS) or source not in k.sources:
            raise ValueError(f"order_rules.yaml: trial_only_combinations {sorted(drugs)}: unknown drug or source")
    if not set(k.extra_drug.get("sources") or ()) <= set(k.sources):
        raise ValueError("order_rules.yaml: extra_drug: unknown source")
    for rule, entries in k.choice_open.items():
        for open_when, unless, _, _, source, _ in entries:
            if ({rule, open_when} | ({unless.rule} if unless else set())) - known_rules or source not in k.sources:
                raise ValueError(f"order_rules.yaml: choice_requirements_open {rule}: unknown rule or source")
    for name, (_, refs, source) in k.monotherapy_label.items():
        if name not in DRUGS or source not in k.sources or any(r.rule not in known_rules for r in refs):
            raise ValueError(f"order_rules.yaml: monotherapy_label {name}: unknown drug, rule or source")
    for topic, entry in k.placement_not_label.items():
        if topic not in REGIMENS_BY_TOPIC or entry["source"] not in k.sources:
            raise ValueError(f"order_rules.yaml: placement_not_label: unknown topic or source {topic}")
    for _, topics in k.override_reasons:
        if topics and not topics <= {"order-contraindicated", "order-not-indicated", "order-biomarker-missing",
                                     "order-incomplete-regimen"}:
            raise ValueError(f"order_rules.yaml: override reason for unknown topics {sorted(topics)}")
    for r in k.cautions_elsewhere:
        if r not in known_rules:
            raise ValueError(f"order_rules.yaml: pathway_cautions_reported_elsewhere: unknown rule {r}")


KNOWLEDGE = load_order_rules()


def override_reasons(topic: str) -> list[Coding]:
    """The override reasons an order-sign warning/critical card of this topic offers."""
    return [r.model_copy() for r, topics in KNOWLEDGE.override_reasons if topics is None or topic in topics]


# --- the drafted orders ----------------------------------------------------

# FHIR R4 MedicationRequest.intent (required binding, value set medicationrequest-intent):
# "order" and its specialisations (original-order, reflex-order, filler-order, instance-order)
# are authorisations; a proposal is a suggestion, a plan an intention, and an option "one of
# several choices". Such a draft is checked all the same (a safety stop is still worth
# saying), but the cards call it by its intent, not "the drafted order". A draft without an
# intent (intent is 1..1, so a sender's omission) keeps the old wording; a code outside the
# value set (ServiceRequest's "directive", a typo) is named neutrally, "draft".
ORDER_INTENTS = frozenset({"order", "original-order", "reflex-order", "filler-order", "instance-order"})
NOT_ORDER_INTENTS = {"proposal": "a suggestion, not an order", "plan": "an intention, not an order",
                     "option": "one choice of several, not an order"}


def draft_noun(order: DraftOrder) -> str:
    """What the cards call this draft: "order", "proposal", "plan", "option" or "draft"."""
    intent = order.intent
    if intent is None or intent in ORDER_INTENTS:
        return "order"
    return intent if intent in NOT_ORDER_INTENTS else "draft"


def drafts_noun(orders) -> str:
    """One noun for these drafts: theirs when they share it, else the neutral "draft"."""
    nouns = {draft_noun(o) for o in orders} or {"order"}
    return nouns.pop() if len(nouns) == 1 else "draft"


_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count_word(n: int) -> str:
    """'three' for 3 (the summaries count drugs in words: 'three CDK4/6 inhibitors')."""
    return _COUNT_WORDS[n] if n < len(_COUNT_WORDS) else str(n)


def drafted_words(noun: str) -> str:
    """The drafts_noun as a "not checked" card names them: "draft", else "drafted <noun>"."""
    return "draft" if noun == "draft" else f"drafted {noun}"


def intent_note(order: DraftOrder) -> str:
    """'; intent option: one choice of several, not an order' for a draft that is not an order."""
    if draft_noun(order) == "order":
        return ""
    return f"; intent {order.intent}: {NOT_ORDER_INTENTS.get(order.intent, 'not read as an order')}"


@dataclass
class Draft:
    order: DraftOrder
    names: tuple[str, ...]  # pathway ingredient names (keys of DRUGS)
    focus: bool

    @property
    def reference(self) -> str | None:
        if self.order.reference:
            return self.order.reference
        if self.order.resource_id:
            return f"{self.order.resource_type}/{self.order.resource_id}"
        return None

    def describe(self) -> str:
        what = self.order.text or " + ".join(self.names)
        return f"{self.reference or self.order.resource_type + ' (no id)'} ({what}{intent_note(self.order)})"

    @property
    def noun(self) -> str:
        return draft_noun(self.order)


def _draft_words(d: "Draft") -> str:
    """'draft order' (as before), 'draft option' ..., or 'draft' for an intent not in the value set."""
    return "draft" if d.noun == "draft" else f"draft {d.noun}"


def _selected(order: DraftOrder, selections: list[str]) -> bool:
    ref = order.reference or (f"{order.resource_type}/{order.resource_id}" if order.resource_id else None)
    return any(isinstance(sel, str) and selection_names(sel, ref, order.resource_id, order.full_url) for sel in selections)


def _pathway_names(order: DraftOrder) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for d in order.drugs:
        info = DRUGS.get((d.name or "").lower())
        # by ingredient code only for a drug the mappings did not set apart: transplant-dose
        # everolimus (Zortress, class other) shares everolimus' RxCUI but is no breast
        # cancer therapy (CR A.5 product-level fixture source, everolimus)
        if info is None and d.rxnorm and d.drug_class != "other":
            info = next((x for x in DRUGS.values() if x.rxnorm == d.rxnorm), None)
        if info is not None:
            seen.setdefault(info.name, None)
    return tuple(seen)


# --- targets and groups ----------------------------------------------------

@dataclass
class Candidate:
    regimen: Regimen
    assessment: RegimenAssessment
    names: tuple[str, ...]
    missing: tuple[str, ...]
    drafted: int
    present: int
    order: int  # position of the choice in the pathway's ranking

    @property
    def choice(self):
        return next((c for c in self.assessment.choices if c.names == self.names), None)

    @property
    def fits(self) -> bool:
        c = self.choice
        return self.assessment.fits and c is not None and c.excluded is None


@dataclass
class Group:
    """The regimen one or more focus drugs belong to."""

    cand: Candidate
    focus: list[str] = field(default_factory=list)
    kind: str = "fits"  # fits | incomplete | not-fit
    continuation: bool = False
    # its order-not-indicated card only informs (documented non-metastatic disease: the label's
    # "advanced" may still apply; a label requirement the record cannot confirm), so the
    # drug-level safety cards still apply to its drugs
    advisory: bool = False
    # the documented facts its not-indicated card gives, and that card (a critical safety card
    # about the same drugs takes them over: safety_card)
    reasons_not: list = field(default_factory=list)
    not_indicated_card: "Card | None" = None
    # the card's "Also not documented" facts (biomarker requirements unmet): taken over with it
    missing_not: list = field(default_factory=list)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.cand.regimen.topic, self.cand.names)


def _caution_spared(s: SafetyRule, name: str, g: Group, not_indicated: set[str]) -> bool:
    """A caution (not a critical stop) is not given for a drug continued from an active order nor
    for one whose regimen is not indicated (safety_cards, _safety_with_active)."""
    return s.indicator != "critical" and (g.continuation or name in not_indicated)


STATUS_ORDER = {"fits": 0, "unknown": 1, "not-fit": 2, "not-this-phase": 3, "outside-pathway": 4}


class _Checker:
    def __init__(self, state: PatientState, drafts: list[Draft], selections: list[str] | None, hook: str,
                 unread: list[DraftOrder] = (), drafted_tests: list[DraftOrder] = (),
                 prohibiting: list[DraftOrder] = (), other_patient: list[DraftOrder] = ()) -> None:
        self.state = state
        # drafts whose subject is another patient (other_patient_drafts): every card names them
        # as not checked, as it names the unread ones
        self.other_patient = list(other_patient)
        # drafts for this patient with doNotPerform = true (FHIR R4 MedicationRequest.doNotPerform:
        # "do not do this"): never checked as orders, but a card that would add the drug one of
        # them prohibits names it and does not pre-select adding that drug
        self.prohibiting = list(prohibiting)
        self.unread = list(unread)
        # the ServiceRequests drafted with these orders: a test already drafted is not
        # pre-selected a second time (CDS Hooks order-select/order-sign: draftOrders holds
        # every order of the session, the selected ones and the others)
        self.drafted_tests = list(drafted_tests)
        self.hook = hook
        self.selections = selections
        self.drafts = drafts
        self.ctx = Context.of(state)
        self.status: PathwayStatus = pathway_status(state)
        self._assessed: dict[str, RegimenAssessment] = {}
        self._line_ctx: Context | None = None  # line_assessment
        self._line_assessed: dict[str, RegimenAssessment] = {}
        self._line_ranked: list[RegimenAssessment] | None = None
        self._ranked: list[RegimenAssessment] | None = None
        draft_refs = {d.reference for d in drafts if d.reference}
        # active medications, except records of these very drafts
        self.active: dict[str, list[Source]] = {}
        for e in state.therapy.exposures:
            if not e.active or any(s.reference in draft_refs for s in e.sources):
                continue
            for drug in e.drugs:
                if drug.name in DRUGS:
                    self.active.setdefault(drug.name, []).extend(e.sources)
        self.drafted = {n for d in drafts for n in d.names}
        # the pathway drugs each card is about, by card uuid (contradicted_drugs_cleared: a card
        # about a drug both ordered and prohibited pre-selects nothing, the others keep theirs)
        self.card_drugs: dict[str, set[str]] = {}
        self.drafted_regimen_drugs = {n for n in self.drafted if DRUGS[n].drug_class not in ADD_ON_CLASSES}
        # partners: the drafts, the active medications, and orders of a drug to be taken from a
        # later date (not given yet: TherapyHistory.to_be_given), except these very drafts
        self.to_be_given = {n for n, refs in state.therapy.to_be_given.items()
                            if n in DRUGS and not set(refs) <= draft_refs}
        self.pool = self.drafted | set(self.active) | self.to_be_given
        # open label facts a draft's stated progression answers (_open_choice_requirements)
        self.stated_answers: set[str] = set()
        # active drugs this session ends, the switch the active-drug card asks for: a draft names
        # the order as the one it replaces (FHIR R4 MedicationRequest.priorPrescription) or
        # prohibits the drug (doNotPerform); not taken *with* a drafted drug (safety with_drugs)
        replaced = {d.order.prior_prescription for d in drafts if d.order.prior_prescription}
        self.ending = {a for a, srcs in self.active.items()
                       if a not in self.drafted and a not in self.to_be_given
                       and (replaced & {x.reference for x in srcs}
                            or any(dr.name == a for o in self.prohibiting for dr in o.drugs))}
        # drugs an extra-drug card names (extra_drug_cards): no partner card of their own
        self.extra_names: set[str] = set()
        self.has_ofs = any(DRUGS[n].drug_class == "ovarian-suppression" for n in self.pool)
        # (drug, safety rule id) said on the active-drug card instead of a safety card of its own
        self.merged_safety: set[tuple[str, str]] = set()
        # uuids of not-indicated cards a critical safety card about the same drugs took over
        self.absorbed: set[str] = set()

    # -- pathway access ------------------------------------------------------
    def assessment(self, topic: str) -> RegimenAssessment:
        if topic not in self._assessed:
            self._assessed[topic] = assess(self.state, topic, self.ctx, self.status)
        return self._assessed[topic]

    def line_assessment(self, topic: str) -> RegimenAssessment:
        """The regimen assessed in the phase the running line started in (first line when it is
        line 1), the line itself not counted as given before (Context.line_swapped: fulvestrant +
        ribociclib swapped to fulvestrant + palbociclib is not a repeat of the combination): for a
        drug of the line swapped within it (_swaps_within_line). Its own Context (its own rule
        memo: a rule may read the phase), built only when such a draft comes."""
        if self._line_ctx is None:
            line = self.ctx.current_line
            before = max(self.ctx.lines - 1, 0)  # the lines given before the running one
            self._line_ctx = replace(
                self.ctx, lines=before, phase="first-line" if before == 0 else "after-progression", memo={},
                line_swapped=line.number, line_sources=tuple(s for s in self.ctx.line_sources if s not in line.sources))
        if topic not in self._line_assessed:
            self._line_assessed[topic] = assess(self.state, topic, self._line_ctx, self.status)
        return self._line_assessed[topic]

    def ranked_for(self, g: Group) -> list[RegimenAssessment]:
        """The pathway's ranking in the phase the group was judged in: a drug swapped within the
        running first line (line_assessment) is replaced by the first-line regimens, not by the
        options at its progression."""
        if not self._judged_in_line(g):
            return self.ranked()
        if self._line_ranked is None:
            self._line_ranked = evaluate(self.state, self._line_ctx, self.status)
        return self._line_ranked

    def _swaps_within_line(self, names: tuple[str, ...]) -> bool:
        """The regimen `names` is the running metastatic line with a drug of it swapped for a
        drafted drug of the same class (ribociclib -> palbociclib, anastrozole -> letrozole), no
        progression documented on the line: a substitution within the line (toxicity,
        intolerance, supply), not a new line. CR C.2 step 1: a new line starts when a new
        class/regimen starts after progression; the first-line labels give each CDK4/6 inhibitor
        with "an aromatase inhibitor" as initial endocrine-based therapy (B.10), so the swapped
        regimen is judged in the line's own phase. A swap to another class (an AI line, fulvestrant
        drafted) is another labelled regimen (B.9): not a swap, judged as today. Only an
        endocrine line: the progression the record shows on a running line is the endocrine one
        (TherapyHistory.last_endocrine_progression: a disease-status "worsening" after ET
        started); chemotherapy combinations are left to the clinician (C.2 step 2).
        As patient-view will count the switch once recorded (mappings/therapy.py
        _looks_like_substitution, _continues): within SUBSTITUTION_MONTHS of the line's start,
        a drug of the line continuing and no draft stating a progression, or later when a draft
        states a reason other than progression (_switch_reason: "switching for neutropenia", a
        doNotPerform of the old drug "for neutropenia", as a record's stop reason keeps it one
        line); a later switch with no
        such reason, or every drug replaced, is a new line by the regimen-change proxy (C.2 step 1)."""
        line = self.ctx.current_line
        if line is None or not line.endocrine or line.progressed or line.start is None:
            return False
        th = self.state.therapy
        progression = th.last_endocrine_progression_last or th.last_endocrine_progression
        if progression is not None and progression > line.start:
            # a progression on this line: what is drafted is the next line (one dated the day the
            # line started is the one it followed, as the mappings read it: _progression_documented)
            return False
        if self.state.as_of is None:
            return False
        taken, drafted = set(line.names), set(names)
        new, old = drafted - taken, taken - drafted
        # a line drug this session stops (self.ending: prohibited by a doNotPerform draft, or named
        # as the order a draft replaces) does not continue, though still active in the record
        continuing = (taken & drafted) - self.ending
        if not new or not continuing or len(drafted) != len(taken) or not new <= self.drafted:
            return False  # nothing of the line continues (both drugs replaced or stopped): a new regimen
        if sorted(DRUGS[n].drug_class for n in new) != sorted(DRUGS[n].drug_class for n in old):
            return False
        drafts, stopping = self._switch_drafts(names)
        if any(d.order.stated_progression for d in drafts + stopping):
            # a progression the drafts state: the replaced drug stops for it, a new line however
            # early (_looks_like_substitution: a stop for progression is no substitution)
            return False
        # a switch this late with no reason stated: the mappings count a new line (no progression
        # stated, checked above: the switch's own reason read from the same drafts)
        return (months_between(line.start, self.state.as_of) < SUBSTITUTION_MONTHS
                or bool(self._other_reason_draft(names, drafts, stopping)))

    def _switch_drafts(self, names) -> tuple[list[Draft], list[Draft]]:
        """The drafts of the regimen `names` and those prohibiting a drug of the running line it
        leaves out (doNotPerform: "palbociclib, do not give: neutropenia"), which state why that
        drug stops, as a record's stop reason does."""
        line = self.ctx.current_line
        replaced = set(line.names) - set(names) if line is not None else set()
        return self._drafts_of(names), [Draft(o, tuple(d.name for d in o.drugs), False) for o in self.prohibiting
                                        if replaced & {d.name for d in o.drugs}]

    def _switch_reason(self, names) -> Draft | None:
        """The first draft of the regimen `names` switching a drug in (or prohibiting the one it
        replaces) whose own words state a reason other than progression (DraftOrder.stated_other_reason: "switching for neutropenia", "palbociclib
        intolerance"), none of its drafts stating a progression: the reason that keeps a
        same-class switch within its line however late, as the therapy history counts it once
        recorded (mappings/therapy.py _looks_like_substitution: the replaced drug stopped for a
        reason that is not progression; CR C.2 step 1: a new line starts after progression)."""
        drafts, stopping = self._switch_drafts(names)
        if any(d.order.stated_progression for d in drafts + stopping):
            return None
        return self._other_reason_draft(names, drafts, stopping)

    def _other_reason_draft(self, names, drafts: list[Draft], stopping: list[Draft]) -> Draft | None:
        """_switch_reason's draft stating a reason other than progression, among the regimen's
        `drafts` and the `stopping` ones (_switch_drafts), none of them stating a progression."""
        line = self.ctx.current_line
        switched_in = set(names) - set(line.names if line is not None else ())
        # the switch's own reason: on the draft of the drug switched in or on the one stopping the
        # drug it replaces, as the record reads the replaced drug's stop reason (_looks_like_substitution:
        # `replaced`); a continuing drug's draft (letrozole re-ordered, "hot flushes") says why it is written
        said = [d for d in drafts if switched_in & set(d.names)] + stopping
        return next((d for d in said if d.order.stated_other_reason), None)

    def _judged_in_line(self, g: Group) -> bool:
        """The group was judged as a swap within the running line (line_assessment)."""
        return self._line_ctx is not None and g.cand.assessment is self._line_assessed.get(g.cand.regimen.topic)

    def _swapped_out(self, g: Group) -> set[str]:
        """The running line's drugs a group judged as a swap within the line (line_assessment)
        leaves out of its regimen: the drugs the draft replaces (ribociclib for a palbociclib
        drafted on fulvestrant + ribociclib). Empty for a group judged as today."""
        line = self.ctx.current_line
        if line is None or not self._judged_in_line(g):
            return set()
        return set(line.names) - set(g.cand.names)

    def ranked(self) -> list[RegimenAssessment]:
        if self._ranked is None:
            self._ranked = evaluate(self.state, self.ctx, self.status)  # the rule results already memoised
        return self._ranked

    # -- target selection ----------------------------------------------------
    def candidates(self, name: str) -> list[Candidate]:
        out = []
        for reg in regimens_with_drug(name):
            if reg.informational_only:
                continue
            in_phase = self.assessment(reg.topic)
            for i, names in enumerate(reg.choices):
                if name not in names:
                    continue
                a = self.line_assessment(reg.topic) if self._swaps_within_line(names) else in_phase
                ranked = [c.names for c in a.choices]
                order = ranked.index(names) if names in ranked else len(ranked) + i
                out.append(Candidate(
                    regimen=reg, assessment=a, names=names,
                    missing=tuple(n for n in names if n not in self.pool),
                    drafted=sum(1 for n in names if n in self.drafted),
                    present=sum(1 for n in names if n in self.pool), order=order,
                ))
        return out

    def target(self, name: str) -> Group | None:
        cands = self.candidates(name)
        if not cands:
            return None  # a drug outside the pathway's regimens (tamoxifen, carboplatin ...)
        complete = [c for c in cands if not c.missing]
        partial = [c for c in cands if c.missing]
        # a combination drafted together is the clinician's intent: judge it as a whole
        combos = [c for c in complete if c.drafted >= 2]
        if combos:
            best = min(combos, key=lambda c: (-c.drafted, not c.fits, STATUS_ORDER[c.assessment.status],
                                              c.assessment.rank, c.order))
            return Group(best, kind="fits" if best.fits else "not-fit")
        fit_complete = [c for c in complete if c.fits]
        if fit_complete:
            best = min(fit_complete, key=lambda c: (-c.drafted, -len(c.names), c.assessment.rank, c.order))
            return Group(best, kind="fits")
        fit_partial = [c for c in partial if c.fits]
        if fit_partial:
            # drafted alone, the drug is a pathway regimen of its own that the record excludes
            # (fulvestrant after progression on fulvestrant): judged as that regimen, not as
            # the backbone of a fitting combination; the combination is the replacement
            alone = [c for c in complete
                     if set(c.names) == self.drafted_regimen_drugs and c.assessment.excluded_by_rule]
            if alone:
                return Group(min(alone, key=lambda c: (c.assessment.rank, c.order)), kind="not-fit")
            best = min(fit_partial, key=lambda c: (-c.present, c.assessment.rank, c.order))
            return Group(best, kind="incomplete")

        def closeness(c: Candidate):
            return (STATUS_ORDER[c.assessment.status], len(c.missing), -c.present, -c.drafted,
                    c.assessment.rank, c.order)

        best = min(complete or partial, key=closeness)
        return Group(best, kind="not-fit")

    # -- main ----------------------------------------------------------------
    def run(self) -> list[Card]:
        groups: dict[tuple, Group] = {}
        drug_group: dict[str, Group] = {}
        focus_names = [n for d in self.drafts if d.focus for n in d.names]
        for name in dict.fromkeys(focus_names):
            if DRUGS[name].drug_class in ADD_ON_CLASSES:
                continue
            g = self.target(name)
            if g is None:
                continue
            g = groups.setdefault(g.key, g)
            if name not in g.focus:
                g.focus.append(name)
            drug_group[name] = g
        for g in groups.values():
            g.continuation = all(n in self.active for n in g.focus)

        cards: list[Card] = []
        # drugs with a definitive not-indicated card (removal suggested): no further warning or
        # testing card about them; an advisory one (Group.advisory) keeps the drug-level safety
        not_indicated: set[str] = set()
        ofs_needed: list[Group] = []
        extra = self._about(self.extra_drug_cards(), self.drafted_regimen_drugs) if self.status.in_pathway else []
        for g in groups.values():
            if g.continuation:
                continue
            got = self.group_cards(g)
            if set(g.focus) <= self.extra_names:
                # a drug named extra to the drafted regimen: adding a partner to it would build a
                # second regimen beside the first (two ribociclib suggestions for letrozole + anastrozole)
                got = [c for c in got if c.topic != "order-incomplete-regimen"]
            self._about(got, [*g.cand.names, *g.focus])
            if any(c.topic == "order-not-indicated" for c in got) and not g.advisory:
                not_indicated.update(g.focus)
            elif self.status.in_pathway and g.cand.assessment.needs_ofs and not self.has_ofs:
                ofs_needed.append(g)
            cards += got
        if ofs_needed:
            cards.append(self.ofs_card(ofs_needed))
            self._about(cards[-1:], [n for g in ofs_needed for n in (*g.cand.names, *g.focus)])
        cards += extra
        if self.status.in_pathway:
            cards += self._about(self.active_same_class_cards(drug_group, not_indicated), self.drafted_regimen_drugs)
        cards += self.safety_cards(drug_group, not_indicated)
        # a not-indicated card a critical safety card took over (safety_card): said there, once
        cards = [c for c in cards if c.uuid not in self.absorbed]
        cards += self.pathway_caution_cards(list(groups.values()), drug_group)
        cards.sort(key=lambda c: (INDICATOR_RANK[c.indicator], ORDER_TOPICS.index(c.topic)))
        if self.hook == "order-sign":
            for c in cards:
                if c.indicator in ("warning", "critical"):
                    c.overrideReasons = override_reasons(c.topic)
        return cards

    def _about(self, cards: list[Card], names) -> list[Card]:
        for c in cards:
            self.card_drugs.setdefault(c.uuid, set()).update(names)
        return cards

    # -- a drug no labelled regimen combines with the others drafted ---------
    def extra_drug_cards(self) -> list[Card]:
        """The drafted anticancer drugs (all drafts: the regimen is judged whole) that no labelled
        regimen of the pathway holds together (order_rules.yaml extra_drug; regimens.yaml choices,
        CR B labels): the labelled choice holding most of them is the regimen drafted, the others
        are extra. One order-not-indicated warning naming each extra drug (two endocrine agents,
        two drugs of one class, or a drug added to a complete regimen), when an extra drug is in
        focus (order-sign: always). Removing an extra draft is offered, not pre-selected: which of two drugs of one
        class is meant is the clinician's call. The same drug drafted twice (loading doses) is
        one drug here; chemotherapy drugs together are left to the clinician (C.2 step 2)."""
        rules = KNOWLEDGE.extra_drug
        self.extra_names = set()
        if not rules:
            return []
        combinable = set(rules.get("combinable_classes") or ())
        endocrine = set(rules.get("endocrine_classes") or ())
        # pathway drugs, and endocrine agents outside its regimens (tamoxifen beside an AI is two
        # endocrine agents all the same)
        drafted = [n for n in dict.fromkeys(n for d in self.drafts for n in d.names)
                   if DRUGS[n].drug_class not in ADD_ON_CLASSES
                   and (regimens_with_drug(n) or DRUGS[n].drug_class in endocrine)]
        focus = {n for d in self.drafts if d.focus for n in d.names}
        if len(drafted) < 2 or not focus & set(drafted):
            return []
        if all(DRUGS[n].drug_class in combinable for n in drafted):
            return []
        if any(set(drafted) <= drugs for drugs, _, _ in KNOWLEDGE.trial_only):
            return []  # said on the incomplete-regimen card (imlunestrant + abemaciclib ...)

        def splits(names: tuple[str, ...]) -> int:
            # drafts of several drugs (a co-pack: one product) the choice holds only part of:
            # such a draft cannot be removed in part, so its drugs are kept or extra together
            return sum(1 for d in self.drafts if set(d.names) & set(names) and set(d.names) & set(drafted) - set(names))

        def preference(reg: Regimen, names: tuple[str, ...]):
            a = self.assessment(reg.topic)
            held = len(set(names) & set(drafted))
            # most drafted drugs held, then fewest multi-drug drafts split (fulvestrant extra to the
            # Kisqali Femara Co-Pack, not the pack's letrozole), then fewest drugs not drafted
            # (fulvestrant alone, not capivasertib + fulvestrant, for anastrozole + fulvestrant),
            # then patient-view's order
            return (-held, splits(names), len(names) - held, STATUS_ORDER[a.status], a.rank)

        choices = [(reg, names) for reg in REGIMENS if not reg.informational_only for names in reg.choices]
        if any(set(drafted) <= set(names) for _, names in choices):
            return []
        reg, names = min(choices, key=lambda rc: preference(*rc))
        kept = [n for n in drafted if n in names]
        # a second chemotherapy drug beside a chemotherapy kept is a combination (C.2 step 2)
        chemo_kept = bool(kept) and all(DRUGS[k].drug_class in combinable for k in kept)
        extra = [n for n in drafted if n not in names and not (chemo_kept and DRUGS[n].drug_class in combinable)]
        if not extra or not kept:
            return []

        def clash_partners(n: str) -> set[str]:
            # the kept drugs an extra drug makes two of a class with (why: 'two CDK4/6 inhibitors
            # (palbociclib and ribociclib)', 'two endocrine agents (fulvestrant and letrozole)')
            cls = DRUGS[n].drug_class
            return {k for k in kept if DRUGS[k].drug_class == cls
                    or (cls in endocrine and DRUGS[k].drug_class in endocrine)}

        # order-select: spoken of when the extra drug itself is selected, or the drug it makes two
        # of a class with (ord11: letrozole selected beside drafted fulvestrant + ribociclib was
        # silent, fulvestrant selected got the warning: which of the two is 'extra' is this
        # function's pick, the clash the same); not when a drug the extra one is only added to is
        # selected (everolimus beside exemestane + fulvestrant)
        if not focus & (set(extra) | {k for n in extra for k in clash_partners(n)}):
            return []
        self.extra_names = set(extra)
        class_names = rules.get("class_names") or {}

        def why(n: str) -> str:
            cls = DRUGS[n].drug_class
            same = [k for k in kept if DRUGS[k].drug_class == cls]
            if same:
                return f"two {class_names.get(cls, cls + ' drugs')} ({n} and {' and '.join(same)})"
            if cls in endocrine and any(DRUGS[k].drug_class in endocrine for k in kept):
                other = [k for k in kept if DRUGS[k].drug_class in endocrine]
                return f"two endocrine agents ({n} and {' and '.join(other)})"
            return f"no labelled regimen adds {n} to {kept_label}"

        # the drafts the extra drugs were drafted with: the kept regimen and any chemotherapy
        # drafted beside a kept chemotherapy (capecitabine + docetaxel, a combination: C.2 step 2)
        kept_label = " + ".join(n for n in drafted if n not in extra)
        reasons = [why(n) for n in extra]
        extra_label = self._choice_label(extra)
        lines = [f"**{extra_label} drafted with {kept_label}**: no labelled regimen holds these drugs together. "
                 f"{reg.name} ({reg.brand}) is the labelled regimen closest to the drafts"
                 f"{'' if set(names) <= set(drafted) else ' (' + ' + '.join(names) + ')'}; "
                 f"{' and '.join(extra)} {'is' if len(extra) == 1 else 'are'} extra to it.",
                 "", "**Why**"]
        lines += [f"- {upper_first(r)}: each labelled regimen holds at most one endocrine agent and one "
                  "drug of each class (labels B.1-B.14)." if r.startswith("two") else
                  f"- {upper_first(r)} (labels B.1-B.14)." for r in reasons]
        lines.append("- If one draft replaces another (a switch), withdraw the one it replaces; a drug drafted twice "
                     "(loading doses) is not an extra drug.")
        lines += self._label_block(reg)
        lines += self._drafts_block(drafted) + self._footer()
        ds = [d for d in self._drafts_of(extra) if d.reference and set(d.names) <= set(extra)]
        suggestions = [Suggestion(
            label=clip("Remove the extra draft" + ("s" if len(ds) > 1 else "") + ": "
                       + ", ".join(d.order.text or " + ".join(d.names) for d in ds), 120),
            actions=[Action(type="delete", description=f"Remove {_draft_words(d)} {d.describe()}",
                            resourceId=d.reference) for d in ds])] if ds else []
        # what the references support: no label holds them (a combination may have been
        # studied, anastrozole + fulvestrant in SWOG S0226, not in the reference): not "not indicated"
        if len(reasons) > 1:
            summary = self._extra_drug_summary(extra_label, kept_label, drafted, extra, reasons, endocrine, class_names)
        else:
            summary = self._one_extra_drug_summary(extra_label, kept_label, drafted, reasons[0])
        return [self._not_indicated_topic_card(reg, summary, lines, suggestions)]

    @staticmethod
    def _one_extra_drug_summary(extra_label: str, kept_label: str, drafted: list[str], reason: str) -> str:
        """The extra-drug summary when one drug is extra: the fact whole, the drug names after it
        ('two aromatase inhibitors (exemestane and anastrozole)', 'adds X to <kept drafts>') only
        when they fit in the summary (DESIGN.md: 140 characters), as _extra_drug_summary does for
        several: every drug is named in the head and the detail, so dropping the bracket loses
        no fact, where clipping it cut a drug name ('... (exemestane and…'; labels B.1-B.14)."""
        head = f"{extra_label} drafted with {kept_label}: "
        short_head = f"{upper_first(_count_word(len(drafted)))} drugs drafted together: "
        if reason.startswith("two"):
            said = ["no labelled regimen combines them — " + reason,
                    "no labelled regimen combines them — " + reason.split(" (")[0]]
        else:
            said = [reason, reason.split(" to ")[0]]  # 'no labelled regimen adds X to Y' -> '... adds X'
        for h in (head, short_head):
            for s in said:
                if len(h + s) <= MAX_SUMMARY:
                    return h + s
        return clip(short_head + said[-1], MAX_SUMMARY)

    @staticmethod
    def _extra_drug_summary(extra_label: str, kept_label: str, drafted: list[str], extra: list[str],
                            reasons: list[str], endocrine: set[str], class_names: dict) -> str:
        """The extra-drug summary when several drugs are extra: each fact said, counted over the drafts
        (three whole regimens at once: 'three CDK4/6 inhibitors and three endocrine agents', not
        'two ...'), and a drug no labelled regimen adds named as such (two CDK4/6 inhibitors plus
        alpelisib); as many facts as fit in the summary (DESIGN.md: 140 characters), the drugs
        named before them only when all fit, the rest in the detail (labels B.1-B.14: one
        endocrine agent, one drug of each class; CR C.2)."""
        # the drugs each 'two <class>' fact is about, counted over every draft
        groups: dict[str, list[str]] = {}
        adds: list[str] = []
        for n, r in zip(extra, reasons):
            cls = DRUGS[n].drug_class
            if r.startswith("two endocrine agents"):
                groups["endocrine agents"] = [k for k in drafted if DRUGS[k].drug_class in endocrine]
            elif r.startswith("two "):
                groups[class_names.get(cls, cls + " drugs")] = [k for k in drafted if DRUGS[k].drug_class == cls]
            else:
                adds.append(n)
        if "endocrine agents" in groups:
            # two aromatase inhibitors beside fulvestrant: all of them are the endocrine agents counted
            groups = {g: ds for g, ds in groups.items()
                      if g == "endocrine agents" or not set(ds) <= set(groups["endocrine agents"])}
        counts = [f"{_count_word(len(ds))} {g}" for g, ds in groups.items()]
        facts = ([" and ".join(counts)] if counts else []) + (
            [f"no labelled regimen adds {' or '.join(adds)}"] if adds else [])
        head = f"{extra_label} drafted with {kept_label}: "
        short_head = f"{upper_first(_count_word(len(drafted)))} drugs drafted together: "
        if len({r.split(' (')[0] for r in reasons}) == len(reasons) and all(len(ds) == 2 for ds in groups.values()):
            full = head + "no labelled regimen combines them — " + "; ".join(reasons)
            if len(full) <= MAX_SUMMARY:
                return full
        for k in range(len(facts), 0, -1):
            said = "; ".join(facts[:k])
            ends = [" — no label combines them", ""] if not adds else [""]
            for h in (head, short_head):
                for end in ends:
                    if len(h + said + end) <= MAX_SUMMARY:
                        return h + said + end
        if adds and not counts:
            # too many drugs no labelled regimen adds to name them all: counted, each named in the
            # detail, not a list clipped mid drug name ('... or sacituzumab…')
            for said in (f"no labelled regimen adds {_count_word(len(adds))} of them to {kept_label}",
                         f"no labelled regimen adds {_count_word(len(adds))} of them"):
                if len(short_head + said) <= MAX_SUMMARY:
                    return short_head + said
        return clip(short_head + facts[0], MAX_SUMMARY)

    # -- a drafted drug beside an active drug of its class ---------------------
    def active_same_class_cards(self, drug_group: dict[str, Group], not_indicated: set[str] = frozenset()) -> list[Card]:
        """A drafted drug (in focus) of the class of a drug the record shows active (an active
        MedicationRequest / MedicationStatement, not one of these drafts), or a second endocrine
        agent beside an active one (order_rules.yaml extra_drug: the classes and their names):
        no labelled regimen gives both (labels B.1-B.14; CR B), so one order-not-indicated
        warning names the active drug, as the extra-drug card names a second draft of a class.
        A warning, not info: signed as it stands the patient would take two drugs of one class
        (two CDK4/6 inhibitors: overlapping neutropenia / QTc; two endocrine agents: no label);
        a switch is acknowledged with an override reason. Nothing is suggested or pre-selected:
        the active order is not a draft, and stopping it is the prescriber's act. Silent when
        the draft names that active order as the one it replaces (FHIR R4
        MedicationRequest.priorPrescription: a deliberate switch) or a draft prohibits the active
        drug (doNotPerform: the stop entered in the same session), for a drug that is itself
        active (a renewal), for an active drug drafted too (the extra-drug card judges the
        drafts) and for chemotherapy (combinations left to the clinician, C.2 step 2)."""
        rules = KNOWLEDGE.extra_drug
        if not rules or not self.active:
            return []
        combinable = set(rules.get("combinable_classes") or ())
        endocrine = set(rules.get("endocrine_classes") or ())
        conjugates = set(rules.get("conjugate_classes") or ())
        class_names = rules.get("class_names") or {}
        # an active drug a draft of this session prohibits (FHIR R4 MedicationRequest.doNotPerform:
        # "do not give it") is being stopped: that is the switch this card would ask for
        stopping = {dr.name for o in self.prohibiting for dr in o.drugs}
        pairs: dict[tuple[str, str], str] = {}  # (drafted, active) -> why
        basis = ("each labelled regimen holds at most one endocrine agent and one drug of each class "
                 "(labels B.1-B.14)")
        bases = {"two antibody-drug conjugates": "each label gives its conjugate alone, with no partner drug "
                                                 "(labels B.11-B.13)"}
        for d in self.drafts:
            if not d.focus:
                continue
            for n in d.names:
                cls = DRUGS[n].drug_class
                if (n in self.active or cls in ADD_ON_CLASSES or cls in combinable
                        or not (regimens_with_drug(n) or cls in endocrine)):
                    continue
                for a, srcs in self.active.items():
                    acls = DRUGS[a].drug_class
                    if a in self.drafted or a in stopping or d.order.prior_prescription in {s.reference for s in srcs}:
                        continue
                    if acls == cls:
                        why = f"two {class_names.get(cls, cls + ' drugs')}"
                    elif cls in endocrine and acls in endocrine:
                        why = "two endocrine agents"
                    elif cls in conjugates and acls in conjugates:
                        why = "two antibody-drug conjugates"
                    else:
                        continue
                    if any({n, a} <= set(names) for reg in REGIMENS for names in reg.choices):
                        continue  # a labelled regimen gives both (none today: kept honest)
                    pairs.setdefault((n, a), why)
        if not pairs:
            return []
        drafted = list(dict.fromkeys(n for n, _ in pairs))
        active = list(dict.fromkeys(a for _, a in pairs))
        merged = self._safety_with_active(drug_group, not_indicated, set(active))
        drafted += [n for _, n, _ in merged if n not in drafted]
        g = drug_group.get(drafted[0])
        reg = g.cand.regimen if g else next(
            (r for n in drafted + active for r in regimens_with_drug(n) if not r.informational_only), None)
        if reg is None:
            return []
        one = len(active) == 1
        active_label = " and ".join(active)
        drafted_label = " and ".join(drafted)
        drafted_label = upper_first(drafted_label)
        active_srcs = [s for a in active for s in self.active[a]]
        lines = [f"**{drafted_label} drafted while {active_label} "
                 f"{'is' if one else 'are'} active**{cite(active_srcs)}: no labelled regimen gives "
                 f"{'both' if len(pairs) == 1 and not merged else 'these together'}.", "", "**Why**"]
        lines += [f"- {upper_first(why)} ({n} drafted, {a} active): {bases.get(why, basis)}."
                  for (n, a), why in pairs.items()]
        for s, n, a in merged:
            head = f"{upper_first(n)} {s.short}"
            text = s.text[len(head) + 2:] if s.text.startswith(head + ": ") else s.text  # not said twice
            lines.append(f"- {head} ({n} drafted, {a} active): {text} ({self._source_title(s.source)})")
        lines += self._within_line_reason_lines(drug_group, drafted)
        lines += [f"- If this is a switch, stop the active {active_label} order{'' if one else 's'}: this card "
                  "does not stop {0}. A draft naming the order it replaces "
                  "(MedicationRequest.priorPrescription) gets no such card.".format(
                      "it, as it is not one of the drafts" if one else "them, as they are not among the drafts"),
                  f"- If the record is out of date ({active_label} already stopped), correct it."]
        lines += self._label_block(reg)
        lines += self._drafts_block(drafted + active) + self._footer()
        summary = (f"{drafted_label} drafted while {active_label} "
                   f"{'is' if one else 'are'} active: "
                   + (f"no labelled regimen gives both — stop {active_label} if switching" if len(pairs) == 1 else
                      f"no label combines them — stop the active {'drug' if one else 'ones'} if switching"))
        if merged:
            # the drafted drug's caution about the same active drug (ribociclib with tamoxifen) is
            # this card's too: stopping that drug answers both, so one card says both
            head = f"{drafted_label} drafted while {active_label} {'is' if one else 'are'} active: "
            facts = "; ".join([next(iter(pairs.values())) if len(pairs) == 1 else "no label combines them"]
                              + [f"{n} {s.short}" for s, n, _ in merged])
            stop = f"stop {active_label if one else 'the active ones'} if switching — "
            # too long to hold all three (two active drugs): clipping would cut the merged caution;
            # the stop advice is the detail's "If this is a switch" line
            summary = head + stop + facts if len(head + stop + facts) <= MAX_SUMMARY else head + facts
        card = self._not_indicated_topic_card(reg, summary, lines, [])
        if any(s.indicator == "critical" for s, _, _ in merged):
            card.indicator = "critical"  # the merged caution's own indicator, the stronger one
        return [card]

    def _within_line_reason_lines(self, drug_group: dict[str, Group], drafted: list[str]) -> list[str]:
        """The active-drug card's word on a drafted drug swapped within the running line for the
        reason its draft states (_switch_reason): judged as the line's own regimen, not as a new
        line, so no "first-line option" card; the safety and combination checks still apply."""
        line = self.ctx.current_line
        out = []
        groups = {id(drug_group[n]): drug_group[n] for n in drafted if n in drug_group}
        for g in groups.values():
            said = self._switch_reason(g.cand.names) if self._judged_in_line(g) else None
            if said is None or line is None:
                continue
            out.append(f"- Drafted for a reason other than progression ({said.order.stated_other_reason}, "
                       f"{said.reference or said.order.resource_type}): a switch within the running metastatic "
                       f"line {line.number} ({' + '.join(line.names)}), not a new line (CR C.2 step 1); "
                       f"{' + '.join(g.cand.names)} is judged as that line's regimen.")
        return out

    def _safety_with_active(self, drug_group: dict[str, Group], not_indicated: set[str],
                            active: set[str]) -> list[tuple[SafetyRule, str, str]]:
        """The safety cautions a drafted drug in focus would get for being taken with an active
        drug the active-drug card names (order_rules.yaml safety `with_drugs`: ribociclib with an
        active tamoxifen, CR C.2 safety overlays, B.10), only when that active drug is the whole
        fact (none of the `with_drugs` drafted): (rule, drafted drug, active drug(s)). Recorded in
        merged_safety so safety_cards does not give the same stop a card of its own."""
        out = []
        for s in KNOWLEDGE.safety:
            if not s.with_drugs or not self._safety_in_scope(s):
                continue
            present = s.with_drugs & self.pool
            if not present or not present <= active or present & self.drafted:
                continue
            for n, g in drug_group.items():
                if n not in s.drugs or (n, s.group) in {(m, r.group) for r, m, _ in out}:
                    continue
                if _caution_spared(s, n, g, not_indicated):
                    continue
                out.append((s, n, " and ".join(sorted(present))))
                self.merged_safety.add((n, s.id))
        return out

    # -- per regimen group ---------------------------------------------------
    def group_cards(self, g: Group) -> list[Card]:
        if not self.status.in_pathway:
            return self.outside_pathway_cards(g)
        # only a drug drafted without a partner can lack one its label needs
        combo_only = self.combination_only(g) if g.cand.missing else {}
        if g.kind == "not-fit" and g.cand.missing and not combo_only:
            # an AI / fulvestrant / abemaciclib alone outside a fitting pathway combination: the
            # monotherapy may be labelled (e.g. AI after antiestrogen); nothing to say from the pathway
            return []
        missing, bm_false = self.biomarkers(g)
        reasons = self.not_indicated_reasons(g, bm_false)
        cards: list[Card] = []
        if reasons:
            if not self.concerns_focus(g):
                return []
            g.reasons_not, g.missing_not = reasons, missing
            g.not_indicated_card = self.not_indicated_card(g, reasons, missing)
            return [g.not_indicated_card]
        by_test: dict[str, list[tuple[BiomarkerRule, Finding]]] = {}
        for b, f in missing:
            by_test.setdefault(b.test, []).append((b, f))
        for test, items in by_test.items():
            cards.append(self.biomarker_card(g, test, items))
        partner = self.incomplete_card(g, combo_only)
        if partner is not None:
            cards.append(partner)
        open_facts = self.open_label_requirements(g)
        if open_facts and self.concerns_focus(g):
            g.advisory = True  # the drug may well be indicated: its safety cards stay
            stated = self._stated_progression(g, open_facts)
            cards.append(self.stated_progression_card(g, open_facts, stated) if stated
                         else self.not_confirmed_card(g, open_facts))
        held = self.held_for_later_card(g, cards)
        if held is not None:
            g.advisory = True  # the label allows it: its safety cards stay
            cards.append(held)
        return cards

    def outside_pathway_cards(self, g: Group) -> list[Card]:
        """Outside the pathway (not metastatic, metastatic status unknown, HER2-positive,
        HR-negative, deceased ...) the pathway gives no advice: no biomarker, partner or
        testing card. Only what documented facts say against the drug's own label: one
        order-not-indicated card per regimen group, HER2-positive disease first (the
        HER2-negative labels), else documented non-metastatic disease (the labels for
        advanced or metastatic disease only). Safety stops: safety_cards."""
        if self.state.her2.category == "positive":
            hits = [n for n in g.focus if n in KNOWLEDGE.her2_positive]
            if hits:
                return [self.her2_positive_card(g, hits)]
        hr_negative = self.hr_negative_cards(g)
        if hr_negative:
            return hr_negative
        d = self.state.disease
        if self.status.deceased:
            # a patient recorded as deceased gets no treatment advice (README): no advisory
            # card, hence no safety warnings or glucose tests kept next to one
            return []
        if d.breast_cancer == "yes" and d.metastatic == "no":  # documented, not "unknown"
            hits = [n for n in g.focus if n in KNOWLEDGE.advanced_only]
            if hits:
                g.advisory = True  # the clinician may still give it: its safety cards stay
                return [self.not_metastatic_card(g, hits)]
        return self.receptor_not_final_cards(g)

    def _receptors_not_final(self) -> list[tuple[str, str, list, bool]]:
        """The receptors left unknown while a result of theirs is not final yet (FHIR R4
        Observation.status; gap receptor-result-not-final): (receptor, name, pending, complete),
        complete when every unknown marker of it has such a result (testing.receptor_test_needed
        reads them so)."""
        st = self.state
        out = []
        if st.her2.category in ("unknown", "equivocal-pending"):
            pending = testing.marker_pending(st.her2)
            if pending:
                out.append(("HER2", "HER2", pending, True))
        if st.hormone_receptor_positive is None:
            unknown = [m for m in (st.er, st.pr) if m.status == "unknown"]
            pending = [r for m in unknown for r in testing.marker_pending(m)]
            if pending:
                out.append(("HR", "/".join(dict.fromkeys(r.marker for r in pending)), pending,
                            all(testing.marker_pending(m) for m in unknown)))
        return out

    def receptor_not_final_cards(self, g: Group) -> list[Card]:
        """Receptor status unknown only because a result is not final yet: a drafted drug whose
        label that receptor decides (KNOWLEDGE.receptor_labels) gets an
        order-biomarker-missing warning naming the result, not read until the final report (as
        patient-view's testing card says), with no test pre-selected: one card per group."""
        found = []
        for receptor, name, pending, complete in self._receptors_not_final():
            table = KNOWLEDGE.receptor_labels(receptor)
            hits = [n for n in g.focus if n in table]
            if hits:
                found.append((name, pending, complete, hits, table))
        if not found:
            return []
        reg = g.cand.regimen
        labels = {n: t[n] for *_, hs, t in found for n in hs}  # drug -> its label entry, first receptor's
        hits = list(labels)
        names = " + ".join(hits)
        what = " and ".join(name for name, *_ in found)
        lines = [f"**{upper_first(names)}: the label names the {what} status, and the {what} result "
                 f"is not final yet, so this {drafts_noun(d.order for d in self._drafts_of(hits))} could "
                 "not be checked against the label.**", "",
                 "**What the record shows**"]
        for _, pending, *_rest in found:
            lines += _not_final_lines(pending)
        lines += [f"- Pathway: {self.status.reason}", ""]
        lines += [testing.markers_awaiting_text(pending, "; ".join(r.named for r in pending), complete)
                  for _, pending, complete, *_rest in found]
        lines += ["", "**Label requirement**"]
        lines += [f"- {n}: \"{e['label']}\" ({self._source_title(e['source'])})" for n, e in labels.items()]
        lines += self._label_block(reg) + self._drafts_block(g.cand.names) + self._footer()
        return [Card(
            summary=clip(f"{self._choice_label(hits)}: {what} result not final yet — label requires it"),
            indicator="warning",
            source=self._source("order-biomarker-missing", reg),
            detail="\n".join(lines),
            links=self._links(reg),
        )]

    def concerns_focus(self, g: Group) -> bool:
        """order-select speaks only about the selected drugs: a regimen judged as a whole
        (drafted together) is reported when a selected drug is one of its key drugs, i.e.
        not only the endocrine backbone a partner was added to (fulvestrant picked while
        an unsuitable alpelisib is already drafted says nothing; alpelisib picked does)."""
        if self.selections is None:
            return True
        key = [n for n in g.cand.names if DRUGS[n].drug_class not in KNOWLEDGE.backbone_classes]
        return not key or any(n in key for n in g.focus)

    def _biomarker_refs(self, reg: Regimen) -> list[RuleRef]:
        refs = list(reg.requires) + [r for route in reg.routes for r in route.rules]
        seen, out = set(), []
        for r in refs:
            if r.rule in KNOWLEDGE.biomarkers and r.rule not in seen:
                seen.add(r.rule)
                out.append(r)
        return out

    def biomarkers(self, g: Group):
        """(missing, documented-negative) biomarker findings about the focus drugs. An ESR1
        negative older than the ESR1 reference (the latest progression on endocrine therapy or
        end of a metastatic endocrine line, TherapyHistory.esr1_reference) is already undecided
        (esr1_mutated says what it predates), so it lands in missing as it is."""
        missing, negative = [], []
        refs = self._biomarker_refs(g.cand.regimen)
        routes = g.cand.regimen.routes
        values = {}
        for ref in refs:
            b = KNOWLEDGE.biomarkers[ref.rule]
            if not b.drugs & set(g.focus):
                continue
            values[ref.rule] = (b, run_rule(ref.rule, self.state, self.ctx, **ref.kwargs))
        # alternative label routes (T-DXd A/B): one decided route is enough
        route_rules = {r.rule for route in routes for r in route.rules}
        decided = [v for k, v in values.items() if k in route_rules and v[1].value is not None]
        for rule_name, (b, f) in values.items():
            if rule_name in route_rules and f.value is None and decided:
                continue
            if rule_name in route_rules and f.value is False and any(x[1].value for x in decided):
                continue
            if f.value is None:
                missing.append((b, f))
            elif f.value is False:
                negative.append(f)
        # keep one missing finding per test (the broadest requirement first)
        seen: set[str] = set()
        uniq = []
        for b, f in missing:
            if b.test not in seen:
                seen.add(b.test)
                uniq.append((b, f))
        return uniq, negative

    def open_label_requirements(self, g: Group) -> list[Finding]:
        """What the record cannot decide about the drafted regimen's label (status unknown),
        other than a biomarker (the order-biomarker-missing card asks for that test): relapse
        timing after adjuvant therapy, menopausal status, a T-DXd label route ... Only for a
        regimen drafted complete: one drafted without a partner gets the incomplete-regimen
        card, which names what is open, or is a labelled monotherapy. Not for a regimen whose
        pathway requirements are guideline sequencing (placement_not_label
        requirements_not_label), which is silent when not-fit too."""
        a = g.cand.assessment
        placement = KNOWLEDGE.placement_not_label.get(a.topic) or {}
        if g.cand.missing or placement.get("requirements_not_label"):
            return []
        if a.status == "not-this-phase":
            return self._open_outside_phase(a)
        if a.status == "fits":
            return self._open_choice_requirements(g)
        if a.status != "unknown":
            return []
        biomarker = [run_rule(ref.rule, self.state, self.ctx, **ref.kwargs)
                     for ref in self._biomarker_refs(a.regimen)]
        open_facts: dict[str, Finding] = {}
        for f in a.unknown:
            if f not in biomarker:
                open_facts.setdefault(f.text, f)  # one text once (T-DXd's routes may share a fact)
        return list(open_facts.values())

    def _open_choice_requirements(self, g: Group) -> list[Finding]:
        """A fitting regimen's drafted choice whose requirement the pathway counts as met while the
        record cannot decide it (order_rules.yaml choice_requirements_open: fulvestrant +
        palbociclib / abemaciclib after an adjuvant relapse whose timing cannot be told, or on a
        running endocrine line with no progression recorded, B.9 (iv)):
        the open fact, with the mapping gaps saying why, as patient-view names them."""
        open_facts: dict[str, Finding] = {}
        if self.state.therapy.endocrine_resistance in ("primary", "secondary"):
            # resistance documented (even without adjuvant dates): the relapse came on or within 12
            # months of adjuvant endocrine therapy (ABC4, C.1), which the label's "progression" is
            return []
        refs = [r for n in g.cand.names for r in g.cand.regimen.choice_requires.get(n, ())]
        for ref in refs:
            entries = KNOWLEDGE.choice_open.get(ref.rule)
            if not entries or not run_rule(ref.rule, self.state, self.ctx, **ref.kwargs).value:
                continue
            for open_when, unless, text, gaps, _, stated_on_draft in entries:
                opener = run_rule(open_when, self.state, self.ctx)
                if opener.value is not None or (unless and run_rule(unless.rule, self.state, self.ctx,
                                                                    **unless.kwargs).value):
                    continue
                fact = open_facts.setdefault(text, Finding(None, f"{text}: {opener.text}", opener.sources))
                if stated_on_draft:
                    self.stated_answers.add(fact.text)
                for gap in self.state.gaps:
                    if gap.code in gaps:
                        open_facts.setdefault(gap.message, Finding(None, gap.message, tuple(gap.sources)))
        return list(open_facts.values())

    def _open_outside_phase(self, a) -> list[Finding]:
        """A regimen the pathway does not assess in this phase (T-DXd at first line): what the
        record cannot decide about its label when nothing of it is documented as not met and no
        label route is met (T-DXd label B, "recurrence within 6 months of completing adjuvant
        chemotherapy", with the adjuvant chemotherapy's end not recorded: CR B.11). Read as
        not_indicated_reasons reads it (same ctx.memo); [] when the label is met or fails."""
        requires = [run_rule(ref.rule, self.state, self.ctx, **ref.kwargs) for ref in a.regimen.requires]
        if any(f.value is False for f in requires) or not a.regimen.routes:
            return []
        routes = label_routes(a.regimen, self.state, self.ctx)
        if routes.route is not None or routes.label_fails:
            return []
        open_facts: dict[str, Finding] = {}
        for f in [f for f in requires if f.value is None] + routes.unknown:
            open_facts.setdefault(f.text, f)
        return list(open_facts.values())

    def not_indicated_reasons(self, g: Group, bm_false: list[Finding]) -> list[Finding]:
        a = g.cand.assessment
        placement = KNOWLEDGE.placement_not_label.get(a.topic) or {}
        if a.status == "outside-pathway":
            return []  # no regimen advice possible (receptors unknown, not metastatic ...)
        if a.status == "not-this-phase":
            if placement.get("requirements_not_label"):
                return []
            # the pathway does not assess a regimen outside its phase: name the label
            # requirements that fail (regimens.yaml `requires`, rules.py predicates)
            failed = []
            for ref in a.regimen.requires:
                f = run_rule(ref.rule, self.state, self.ctx, **ref.kwargs)
                if f.value is False:
                    failed.append(f)
            # alternative label routes (T-DXd A/B), read as pathway.assess reads them
            # (same ctx.memo, so no rule runs twice)
            routes = label_routes(a.regimen, self.state, self.ctx)
            if routes.label_fails:
                failed += routes.failed
            if not placement:
                return failed + list(a.reasons_not)  # the phase is a label reason (AI + CDK4/6i: initial)
            # the placement alone is no label reason (placement_not_label), but a met exclusion
            # holds in every phase (a prior PARP inhibitor, e.g. adjuvant olaparib in OlympiA;
            # ILD on T-DXd, an earlier T-DXd: regimens.yaml excluded_if, CR B.6 / B.7 / B.11)
            return failed + exclusions_met(a.regimen, self.state, self.ctx)
        reasons: list[Finding] = []
        if a.status == "not-fit" and not placement.get("requirements_not_label"):
            # (no excluded_if rule is a safety stop any more: T-DXd after symptomatic ILD is the
            # critical caution symptomatic-ild-adc, excluded only after ILD on T-DXd itself, B.11)
            for f in a.reasons_not:
                if f.text.startswith("Every concrete regimen"):
                    continue  # replaced by the drafted choice's own reason below
                reasons.append(f)
            # a biomarker rule decided False belongs to the card even when it is about a partner
            for f in bm_false:
                if f not in reasons:
                    reasons.append(f)
        choice = g.cand.choice
        if choice is not None and choice.excluded:
            text = choice.excluded
            for n in choice.names:
                if text.startswith(n + ": "):
                    text = text[len(n) + 2:]
            reasons.append(Finding(False, f"{choice.label}: {text}" if text.startswith("already") else text))
        return reasons

    # -- cards ---------------------------------------------------------------
    def _stated_progression(self, g: Group, open_facts: list[Finding]) -> Draft | None:
        """The group's first draft whose own words state a progression (DraftOrder.stated_progression),
        when every open fact is one such a statement answers (order_rules.yaml
        choice_requirements_open stated_on_draft: no progression documented on the running line);
        None otherwise (a relapse timing the statement does not date stays open)."""
        if not all(f.text in self.stated_answers for f in open_facts):
            return None
        return self._stating_draft(g)

    def _stating_draft(self, g: Group) -> Draft | None:
        """The group's first draft whose own words state a progression (DraftOrder.stated_progression)."""
        return next((d for d in self._drafts_of(g.cand.names) if d.order.stated_progression), None)

    def _stated_progression_block(self, g: Group) -> list[str]:
        """A not-indicated card's drafts stating a progression (DraftOrder.stated_progression) the
        record lacks on the running endocrine line (endocrine_progression_documented_beyond_running_line
        open): AI + ribociclib drafted "for progression on letrozole + palbociclib" is then no longer
        initial endocrine-based therapy (B.10), as the card says. The statement is named and the ask
        to record it made (CR C.2 step 1); the card stays as it is (documented facts decide it)."""
        stated = self._stating_draft(g)
        if stated is None or run_rule("endocrine_progression_documented_beyond_running_line",
                                      self.state, self.ctx).value is not None:
            return []
        return ["", "**Progression stated on the draft (the ordering clinician's words), not in the record**",
                f"- {stated.order.stated_progression} ({stated.reference or stated.order.resource_type})",
                "- Record the progression in the chart (a disease-status observation, mCODE CancerDiseaseStatus "
                "'worsening', with its date and evidence: CR C.2 step 1)."]

    def _drafts_of(self, names) -> list[Draft]:
        names = set(names)
        return [d for d in self.drafts if names & set(d.names)]

    def _source(self, topic: str, reg: Regimen):
        # regimens.yaml label.title says what the label URL is (a label, or a guideline)
        return topic_source(topic, reg.label_title, reg.label_url)

    def _links(self, reg: Regimen) -> list[Link]:
        return [Link(label=title, url=url) for title, url in reg.label_links]  # one link per label

    def _label_block(self, reg: Regimen) -> list[str]:
        lab = reg.label
        approved = f" (approved {lab['approved']})" if lab.get("approved") else ""
        # the link named as patient-view names it (regimens.yaml label.title: a label or a guideline)
        out = ["", f"**Label{approved}**: {reg.label_statement} — [{reg.label_title}]({reg.label_url})"]
        if lab.get("companion_diagnostic"):
            out.append(f"Companion diagnostic: {lab['companion_diagnostic']}.")
        return out

    def _drafts_block(self, names) -> list[str]:
        ds = self._drafts_of(names)
        noun = drafts_noun(d.order for d in ds)
        out = ["", "**Drafts checked**" if noun == "draft" else f"**Drafted {noun}s checked**"]
        out += [f"- {d.describe()}{read_in_part_note(d.order)}" for d in ds]
        for n in names:
            if n in self.active and n not in self.drafted:
                out.append(f"- {n}: already active{cite(self.active[n])}")
        return out

    def _footer(self) -> list[str]:
        # every order card judged on the therapy history says when that history may be
        # incomplete, as the patient-view regimen cards do (caution medication-unreadable)
        unread = run_rule("medication_records_unreadable", self.state, self.ctx)
        gap = (["", f"**Therapy history may be incomplete**: {unread.text}{cite(unread.sources)}"]
               if unread.value else [])
        return gap + self._incomplete_data_block() + self._unread_drafts_block() + other_patient_block(
            self.other_patient) + ["", f"_Knowledge: cards/knowledge/regimens.yaml v{KNOWLEDGE_VERSION}, "
                          f"order_rules.yaml v{KNOWLEDGE.version}; hook {self.hook}._"]

    def _incomplete_data_block(self) -> list[str]:
        # data the service could not get completely (gap data-incomplete, service/gather.py:
        # an error OperationOutcome in a search, a resource bound hit) may hold what would
        # change this card, e.g. the biomarker result it asks for
        notes = [g.message for g in self.state.gaps if g.code == "data-incomplete"]
        if not notes:
            return []
        return ["", "**Patient data may be incomplete** (this check may change with the missing data)"] + [
            f"- {n}" for n in notes]

    def _unread_drafts_block(self) -> list[str]:
        # a drafted medication whose drug could not be read may be a pathway drug: never
        # pass over it in silence
        if not self.unread:
            return []
        noun = drafts_noun(self.unread)
        # the heading is plural for one draft or several ("their drug could not be read"), so is why
        why = (("their drug could not be read" if _all_unread_drug(self.unread) else
                unread_why(self.unread, several=True))
               if not any(o.prohibition_unclear for o in self.unread) else
               # drafted tests only (ServiceRequest.doNotPerform neither true nor false)
               "whether they order or prohibit their test is unclear"
               if all(o.resource_type == "ServiceRequest" for o in self.unread) else
               "their drug, or whether they order or prohibit it, could not be read")
        return ["", ("**Drafts not checked**" if noun == "draft" else f"**Drafted {noun}s not checked**")
                + f" ({why})"] + [f"- {unread_draft_text(o)}{intent_note(o)}" for o in self.unread]

    @staticmethod
    def _fact(f: Finding) -> str:
        return f"- {f.text}{cite(f.sources)}"

    def her2_positive_card(self, g: Group, hits: list[str]) -> Card:
        h = self.state.her2
        bits = [f"IHC {h.ihc_score}"] if h.ihc_score else []
        bits += [ish_text(h.ish)] if h.ish else []
        fact = Finding(False, f"HER2-positive ({', '.join(bits) or 'reported positive'}) on "
                              f"{fmt_date(h.date, h.date_last)}",
                       tuple(h.sources))
        return self._label_scope_card(
            g, hits, KNOWLEDGE.her2_positive, "not indicated in HER2-positive disease", LABEL_SCOPE_SERVICE, [fact],
            f"not indicated — HER2-positive disease documented ({fmt_date(h.date, h.date_last)})", self._removal(hits),
            pending=testing.marker_pending(h))

    def not_metastatic_card(self, g: Group, hits: list[str]) -> Card:
        """Documented non-metastatic disease and a drug labelled only for advanced or metastatic
        disease (order_rules.yaml advanced_disease_only). No removal is pre-selected: a locally
        advanced, unresectable tumour may meet the label's "advanced" (the record's M0 / stage
        0-III does not rule that out), so the card informs and the clinician decides."""
        d = self.state.disease
        facts = [Finding(False, s.display or "Non-metastatic disease", (s,)) for s in d.non_metastatic_sources]
        facts = facts or [Finding(False, "Metastatic disease: no (no source recorded)")]
        dated = [s for f in facts for s in f.sources if s.date]
        evidence = facts[0].text + (f", {latest_date_text(dated)}" if dated else "")
        return self._label_scope_card(
            g, hits, KNOWLEDGE.advanced_only, "labelled for advanced or metastatic breast cancer only",
            "the record documents non-metastatic disease.", facts,
            f"not indicated — no metastatic disease documented ({evidence}); label is for advanced disease",
            [], after_label=["", NOT_METASTATIC_SCOPE])  # deliberately no removal pre-selected (see docstring)

    def _label_scope_card(self, g: Group, hits: list[str], table: dict[str, dict], headline: str, context: str,
                          facts: list[Finding], summary: str, suggestions: list[Suggestion],
                          after_label: list[str] = (), pending: list = ()) -> Card:
        """An order-not-indicated warning for drugs outside their label's scope for this patient
        (HER2-positive, ER- and PR-negative, or documented non-metastatic disease): the documented
        facts, the label wording each drug's entry in the order_rules.yaml `table` quotes, the
        regimen's label and the drafts. The summary names only `hits`, the drugs whose label is
        out of scope (an AI drafted with palbociclib is not itself "not indicated").
        `pending`: newer results of the receptors read that are not final yet (FHIR R4
        Observation.status; testing.marker_pending): named as the receptor-not-final cards name
        them, and the removal offered, not pre-selected, since the final report may bring the
        patient back into the label."""
        reg = g.cand.regimen
        names = ", ".join(hits)
        lines = [f"**{upper_first(names)}: {headline}** — {context}", "", "**Documented facts**"]
        lines += [self._fact(f) for f in facts]
        lines += _not_final_lines(pending)
        lines += [f"- Pathway: {self.status.reason}", ""]
        if pending:
            g.advisory = True  # the final report may bring it into its label: its safety cards stay
            lines += [testing.markers_awaiting_text(pending, "; ".join(r.named for r in pending), complete=False)
                      + " The removal is offered, not pre-selected, until then.", ""]
            suggestions = [s.model_copy(update={"isRecommended": None}) for s in suggestions]
            markers = "/".join(dict.fromkeys(r.marker for r in pending))
            summary += f"; a newer {markers} result is not final yet"
        lines += ["**Label requirement**"]
        lines += [f"- {n}: \"{table[n]['label']}\" ({self._source_title(table[n]['source'])})" for n in hits]
        lines += list(after_label) + self._label_block(reg) + self._drafts_block(g.cand.names) + self._footer()
        return self._not_indicated_topic_card(reg, f"{self._choice_label(hits)}: {summary}", lines, suggestions)

    def _removal(self, names) -> list[Suggestion]:
        """A suggestion that deletes the drafted orders of these drugs (by resourceId)."""
        ds = [d for d in self._drafts_of(names) if d.reference and set(d.names) <= set(names)]
        if not ds:
            return []
        noun = drafts_noun(d.order for d in ds)
        return [Suggestion(label=clip("Remove the draft" + ("" if noun == "draft" else f" {noun}")
                                      + ("s" if len(ds) > 1 else "") + ": "
                                      + ", ".join(d.order.text or " + ".join(d.names) for d in ds), 120),
                           isRecommended=True,
                           actions=[Action(type="delete", description=f"Remove {_draft_words(d)} {d.describe()}",
                                           resourceId=d.reference) for d in ds])]

    def _source_title(self, key: str) -> str:
        return (KNOWLEDGE.sources.get(key) or {}).get("title", key)

    def not_indicated_card(self, g: Group, reasons: list[Finding], missing) -> Card:
        reg = g.cand.regimen
        a = g.cand.assessment
        drafted_label = self._choice_label([n for n in g.cand.names if n in self.pool])
        judged = "" if set(g.cand.names) <= self.pool else f", judged as {reg.name}, its labelled regimen"
        # T-DXd label A and label B both fail on the same HER2 result (CR B.11, C.3 row 9): one line
        reasons = _distinct_facts(reasons)
        lines = [f"**{drafted_label}**{judged} ({reg.brand}) does not fit this patient's documented facts "
                 f"({'first line' if a.phase == 'first-line' else 'after progression'} for metastatic disease).",
                 "", "**Why (documented facts)**"]
        lines += [self._fact(f) for f in reasons]
        lines += self._stated_progression_block(g)
        if a.reasons:
            lines += ["", "**Requirements met**"] + [self._fact(f) for f in a.reasons if f.text]
        if missing:
            lines += ["", "**Also not documented**"] + [self._fact(f) for _, f in missing]
        lines += self._label_block(reg) + self._pathway_notes(reg)
        suggestions, names = self.replacements(g)
        lines += self._fitting_block(names)
        lines += self._drafts_block(g.cand.names) + self._footer()
        head = f"{drafted_label}: not indicated — "
        return self._not_indicated_topic_card(reg, head + _first_clauses(reasons[0].text, MAX_SUMMARY - len(head)),
                                              lines, suggestions)

    def not_confirmed_card(self, g: Group, open_facts: list[Finding]) -> Card:
        """order-not-indicated, but only saying the record cannot confirm the label: the drafted
        regimen is "unknown" for this patient (patient-view lists it as "waiting on"). The
        detail reads as the not-indicated card's; no suggestion is pre-selected, since the
        drug may well be indicated once the open facts are known."""
        reg = g.cand.regimen
        a = g.cand.assessment
        drafted_label = self._choice_label([n for n in g.cand.names if n in self.pool])
        line = "first line" if a.phase == "first-line" else "after progression"
        lines = [f"**{drafted_label}** ({reg.brand}): the record cannot confirm that this patient meets the label "
                 f"({line} for metastatic disease). It may well be indicated; check the open facts before signing.",
                 "", "**Not decided by the record**"]
        lines += [self._fact(f) for f in open_facts]
        failed_routes = label_routes(reg, self.state, self.ctx).failed if reg.routes else []
        if failed_routes:
            lines += ["", "**Other label route not met**"] + [self._fact(f) for f in failed_routes]
        if a.reasons:
            lines += ["", "**Requirements met**"] + [self._fact(f) for f in a.reasons if f.text]
        lines += self._label_block(reg) + self._pathway_notes(reg)
        suggestions, names = self.replacements(g)
        for s in suggestions:
            s.isRecommended = None  # alternatives only: nothing pre-selected
        lines += self._fitting_block(names)
        lines += self._drafts_block(g.cand.names) + self._footer()
        return self._not_indicated_topic_card(
            reg, f"{drafted_label}: label requirement not confirmed — {open_facts[0].text}", lines, suggestions)

    def stated_progression_card(self, g: Group, open_facts: list[Finding], stated: Draft) -> Card:
        """The label requirement the record leaves open (no progression documented on the running
        endocrine line, B.9 (iv)) stated on the draft by the ordering clinician ("switching for
        progression on letrozole"): their statement is the evidence, so an info card, not the
        "label requirement not confirmed" warning; it names the statement and that the record
        lacks it (a CancerDiseaseStatus 'worsening', CR C.2 step 1), asking to record it. Safety
        cards are not touched (a draft's words never answer them)."""
        reg = g.cand.regimen
        drafted_label = self._choice_label([n for n in g.cand.names if n in self.pool])
        words = stated.order.stated_progression
        ref = stated.order.reference or stated.order.resource_type
        lines = [f"**{drafted_label}** ({reg.brand}): its label needs disease progression after endocrine "
                 f"therapy. The record does not document one; the draft states it.",
                 "", "**Progression stated on the draft (the ordering clinician's words)**",
                 f"- {words} ({ref})",
                 "", "**Not in the record**"]
        lines += [self._fact(f) for f in open_facts]
        lines += ["", "Taken as the clinician's statement of progression. Record the progression in the chart "
                  "(a disease-status observation, mCODE CancerDiseaseStatus 'worsening', with its date and "
                  "evidence: CR C.2 step 1) so later checks and the treatment options see it."]
        lines += self._label_block(reg) + self._drafts_block(g.cand.names) + self._footer()
        quoted = words.split(": ", 1)[-1]
        return Card(
            summary=clip(f"{drafted_label}: progression stated on the draft, not in the record: {quoted}"),
            indicator="info",
            source=self._source("order-not-indicated", reg),
            detail="\n".join(lines),
            links=self._links(reg),
        )

    def held_for_later_card(self, g: Group, cards: list[Card]) -> Card | None:
        """A drafted regimen patient-view names as held for later (RegimenAssessment.held_for_later,
        regimens.yaml named_before_its_phase: talazoparib / olaparib for a germline BRCA carrier
        at first line, CR C.2 step 3; T-DXd label B at first line, C.2 step 4) whose label the
        order hooks find met (order_rules.yaml placement_not_label: the placement is no label
        restriction), so no other order-not-indicated card speaks: an info card under that
        topic (as stated_progression_card) saying the pathway's placement, with patient-view's
        own reason text, and that the label is met. No warning: the label allows it; the
        clinician decides. None when another card already judges the label (not indicated,
        not confirmed), the regimen is drafted without its partner, or the drug is drafted extra
        to another regimen (extra_drug_cards' warning: no labelled regimen adds it, which "the
        label allows it" would contradict)."""
        a = g.cand.assessment
        placement = (KNOWLEDGE.placement_not_label.get(a.topic) or {}).get("held_for_later")
        if (a.status != "not-this-phase" or a.held_for_later is None or not placement or g.cand.missing
                or not self.concerns_focus(g) or any(c.topic == "order-not-indicated" for c in cards)
                or set(g.focus) & self.extra_names):
            return None
        reg = a.regimen
        met = [run_rule(ref.rule, self.state, self.ctx, **ref.kwargs) for ref in reg.requires]
        routes = label_routes(reg, self.state, self.ctx) if reg.routes else None
        if any(not f.value for f in met) or (routes is not None and routes.route is None):
            return None  # the label not met or not decided: not_indicated_reasons / _open_outside_phase speak
        met += routes.met if routes is not None else []
        drafted_label = self._choice_label([n for n in g.cand.names if n in self.pool])
        phase = "first line" if a.phase == "first-line" else "after progression"
        lines = [f"**{drafted_label}** ({reg.brand}): its label is met; the pathway places {placement}, not at "
                 f"{phase}. Patient-view names it under \"Not offered now\" for the same reason. "
                 "The label allows it: the clinician decides.",
                 "", "**Pathway placement (as patient-view says it)**", self._fact(a.held_for_later)]
        label_met = [self._fact(f) for f in _distinct_facts(met) if f.text]
        if routes is not None and routes.route is not None:
            label_met.insert(0, f"- {routes.route.label}")
        if label_met:
            lines += ["", "**Label requirements met**"] + label_met
        lines += self._label_block(reg) + self._pathway_notes(reg)
        lines += self._drafts_block(g.cand.names) + self._footer()
        return Card(
            summary=clip(f"{drafted_label}: label met; the pathway places {placement}"),
            indicator="info",
            source=self._source("order-not-indicated", reg),
            detail="\n".join(lines),
            links=self._links(reg),
        )

    def _not_indicated_topic_card(self, reg: Regimen, summary: str, lines: list[str],
                                  suggestions: list[Suggestion]) -> Card:
        """The order-not-indicated warning card every variant shares (label scope, not indicated,
        label requirement not confirmed): the regimen's label as source and links."""
        return Card(
            summary=clip(summary),
            indicator="warning",
            source=self._source("order-not-indicated", reg),
            detail="\n".join(lines),
            suggestions=suggestions,
            selectionBehavior="at-most-one" if suggestions else None,
            links=self._links(reg),
        )

    @staticmethod
    def _pathway_notes(reg: Regimen) -> list[str]:
        """The seed-vs-label note and, where the pathway's placement is not a label
        restriction (order_rules.yaml placement_not_label), why."""
        lines = ["", f"**Local pathway (seed) vs label**: {reg.seed_vs_label}"] if reg.seed_vs_label else []
        placement = KNOWLEDGE.placement_not_label.get(reg.topic)
        if placement:
            lines += ["", f"**Label vs pathway placement**: {placement['why']}"]
        return lines

    @staticmethod
    def _fitting_block(names: list[str]) -> list[str]:
        """The regimens that fit, in patient-view's rank order (the cards' replacements)."""
        return (["", "**Regimens that fit (pathway rank order)**"]
                + ([f"{i}. {n}" for i, n in enumerate(names, 1)] or ["- none fits the documented facts"]))

    @staticmethod
    def _choice_label(names) -> str:
        return upper_first(" + ".join(names))

    def replacements(self, g: Group) -> tuple[list[Suggestion], list[str]]:
        """The regimens that fit, in pathway rank order as patient-view shows them, each with
        the choice patient-view recommends, or why it recommends none (a "do not start" stop,
        a never-recommended caution such as a visceral crisis); and a "Replace with"
        suggestion for each recommended choice (at most MAX_REPLACEMENTS), never for a choice
        the patient should not start. The drafted regimen counts too when another of its
        choices is recommended: eribulin drafted in a visceral crisis, paclitaxel recommended
        (C.2 step 2: chemotherapy first; regression B2)."""
        pid = self.state.patient_id
        group_drafts = [d for d in self._drafts_of(g.cand.names)]
        swapped_out = self._swapped_out(g)
        suggestions, names = [], []
        for a in self.ranked_for(g):
            if not a.fits or a.regimen.informational_only:
                continue
            rname = a.regimen.name
            if a.critical:  # a regimen the safety stop says not to start is no replacement
                stops = [h.short for h in a.cautions if h.severity == "critical" and h.short]
                names.append(f"{rname} — do not start" + (f": {', '.join(stops)}" if stops else ""))
                continue
            choice = a.recommended
            if choice is not None and swapped_out & set(choice.names):
                # the recommended choice orders again the running drug the draft swaps out (a second
                # ribociclib order beside the active one): the regimen's next choice in pathway order
                # that is offered, not blocked, and without it; none: the regimen is no replacement
                choice = next((c for c in a.offered_choices
                               if not c.blocked_by and not swapped_out & set(c.names)), None)
                if choice is None:
                    continue
            if choice is None:
                why = list(dict.fromkeys(h.short for _, h in a.not_recommended_because() if h.short))
                names.append(f"{rname} — no order recommended now" + (f": {', '.join(why)}" if why else ""))
                continue
            drugs: list[DrugInfo] = list(choice.drugs)
            if a.needs_ofs and not self.has_ofs:
                drugs.append(DRUGS[OFS_DRUG])
            label = choice.label + (f" + {OFS_DRUG}" if DRUGS[OFS_DRUG] in drugs and DRUGS[OFS_DRUG] not in choice.drugs else "")
            names.append(label if label.lower() == rname.lower() else f"{rname}: {label}")
            if len(suggestions) >= MAX_REPLACEMENTS or any(d.rxnorm is None for d in choice.drugs):
                continue
            keep = {d.name for d in drugs}
            delete = [d for d in group_drafts if d.reference and not set(d.names) <= keep]
            remaining = {n for d in self.drafts if d not in delete for n in d.names}
            create = [d for d in drugs if d.name not in remaining]
            actions = [Action(type="delete", description=f"Remove {_draft_words(d)} {d.describe()}",
                              resourceId=d.reference) for d in delete]
            actions += [Action(type="create", description=f"Draft order: {d.name} (RxNorm {d.rxnorm})",
                               resource=medication_request(pid, d, a.regimen.name)) for d in create]
            if not any(x.type == "create" for x in actions):
                continue  # the recommended choice is what is drafted already
            suggestions.append(Suggestion(label=clip(f"Replace with {label}", 120),
                                          isRecommended=True if not suggestions else None, actions=actions))
        return suggestions, names

    def _test_orders(self, test: str):
        """The orders of the testing topic, chosen by the pathway's testing rule when it has an
        opinion, and the guideline text of what it asks (a narrower variant's own, e.g. ER for
        the oral SERD labels): (orders, alternatives, recommended index, why)."""
        t = TESTS[test]
        need = None
        try:
            need = testing.RULES[t.rule](self.state, self.ctx, self.status,
                                         {a.topic: a for a in self.ranked()})
        except Exception:  # the testing rule is advisory here; fall back to the topic's orders
            need = None
        if need is not None and need.orders:
            return list(need.orders), need.alternatives, need.recommended, need.why
        plain = [o for o in t.orders if o.when is None]
        if test == "test-pik3ca-akt1-pten":
            return list(t.orders), True, 0, t.why
        return plain or [t.orders[0]], False, 0, t.why

    def _testing_card_shown(self, test: str) -> bool:
        """Whether patient-view shows this testing card now (its rule asks for the test)."""
        try:
            return testing.RULES[TESTS[test].rule](self.state, self.ctx, self.status,
                                                   {a.topic: a for a in self.ranked()}) is not None
        except Exception:  # advisory, as in _test_orders
            return True

    def combination_only(self, g: Group) -> dict[str, tuple[str, str, list[Finding]]]:
        """Focus drugs drafted without a partner that their label needs: name -> (label, source,
        failing facts). combination_only drugs always; monotherapy_label drugs (abemaciclib)
        when a condition of their monotherapy label fails for this patient."""
        out: dict[str, tuple[str, str, list[Finding]]] = {}
        for n in g.focus:
            e = KNOWLEDGE.combination_only.get(n)
            if e is not None:
                out[n] = (e["label"], e["source"], [])
            elif n in KNOWLEDGE.monotherapy_label and g.cand.missing:
                label, refs, source = KNOWLEDGE.monotherapy_label[n]
                failed = [f for f in (run_rule(r.rule, self.state, self.ctx, **r.kwargs) for r in refs)
                          if not f.value]
                if failed:
                    out[n] = (label, source, failed)
        return out

    def biomarker_card(self, g: Group, test: str, items) -> Card:
        reg = g.cand.regimen
        pid = self.state.patient_id
        t = TESTS[test]
        drugs = sorted({n for b, _ in items for n in b.drugs if n in g.focus})
        what = items[0][0].what
        rule = items[0][0]
        # the label's requirement, and a guideline's beside it where `what` holds both
        requires = (f"{rule.label_requires}, and {rule.guideline_adds}" if rule.label_requires
                    else f"a {what}")
        requires_short = (f"label requires {rule.label_requires}; {rule.guideline_short}" if rule.label_requires
                          else "label requires it")
        orders, alternatives, rec, guideline = self._test_orders(test)
        # what the facts below name that decides nothing yet: a result not final (FHIR
        # preliminary / registered / unknown), or a PTEN change the report does not call an inactivation
        cited = {s.reference for _, f in items for s in f.sources}
        bm = self.state.biomarkers
        # (an ESR1 one taken before the ESR1 reference is named as not counting, C.3 row 18: not this)
        older = esr1_pending(self.state)[1]
        not_final = [v for v in bm.not_final if any(s.reference in cited for s in v.sources)
                     and not any(v is o for o in older)]
        unclear = [v for v in bm.results if v.result == "detected" and v.alteration_unclear
                   and v.superseded_on is None and any(s.reference in cited for s in v.sources)]
        # every gene has a final result: the report answers the question, not a new test
        # (patient-view shows no testing card)
        report_question = bool(unclear and not not_final and self.status.in_pathway
                               and not self._testing_card_shown(test))
        # every gene the label asks about waits on a result not final yet: the test is done or
        # under way (rules.awaiting_final, as patient-view's testing card reads it)
        awaiting = self._awaiting_final(items)
        # the test is already drafted with these orders: offered, not pre-selected twice
        drafted = self._genomic_tests_drafted(items)
        # a receptor result (ER / HER2) not final yet, newer than the one read: the final report
        # decides, no new test pre-selected (patient-view's testing card: testing.marker_pending)
        markers = {"ER": self.state.er, "HER2": self.state.her2}
        receptors = dict.fromkeys(b.receptor for b, _ in items if b.receptor)
        marker_pending = [r for m in receptors for r in testing.marker_pending(markers[m])]
        if marker_pending:
            not_final = not_final or marker_pending
        if report_question or awaiting or drafted or marker_pending:
            rec = None  # the tests stay offered, none pre-selected
        why = f"mbc-cds order check: {', '.join(drugs)} label requires {requires}."
        if alternatives:
            suggestions = [Suggestion(label=clip(f"Order: {o.text}", 120), isRecommended=True if i == rec else None,
                                      actions=[Action(type="create", description=f"Draft test order: {o.text}",
                                                      resource=service_request(pid, o, why))])
                           for i, o in enumerate(orders)]
        else:
            suggestions = [Suggestion(label=clip("Order " + " + ".join(o.text for o in orders), 120),
                                      isRecommended=True if rec is not None else None,
                                      actions=[Action(type="create", description=f"Draft test order: {o.text}",
                                                      resource=service_request(pid, o, why)) for o in orders])]
        label = " + ".join(drugs)
        lines = [f"**{upper_first(label)}: the label requires {requires}; none usable is documented.**"
                 if rule.label_requires else
                 f"**{upper_first(label)}: the label requires a {what}, and none usable is documented.**",
                 "", "**What the record shows**"]
        lines += [self._fact(f) for _, f in items]
        lines += _not_final_lines(marker_pending)
        if marker_pending:
            lines += ["", testing.markers_awaiting_text(
                marker_pending, "; ".join(r.named for r in marker_pending))]
        if awaiting:
            lines += ["", awaiting_final_text(self.state, self.ctx, awaiting)]
        if drafted:
            lines += ["", self._drafted_tests_text(drafted)]
        lines += self._drafted_tests_notes(items, drafted)
        if report_question:
            lines += ["", "**The open question is in the report**: whether the "
                      + " / ".join(dict.fromkeys(variant_name(v) for v in unclear))
                      + " inactivates PTEN (capivasertib needs PTEN inactivation, C.1 ASCO 2024). No test is "
                      "pre-selected: every gene has a result; a new test is needed only if the report cannot say."]
        lines += ["", f"**Guideline**: {guideline}"]
        lines += self._label_block(reg)
        lines += ["", "**Orders proposed**"] + [f"- {o.text}" for o in orders]
        lines += self._drafts_block(g.cand.names) + self._footer()
        return Card(
            summary=clip(f"{upper_first(label)}: " + (
                f"{'/'.join(dict.fromkeys(variant_name(v) for v in unclear))} detected, "
                f"inactivation not stated — label requires a {what.removesuffix(' result')}" if unclear and not not_final
                else f"{what} {'not final yet' if not_final else 'not documented'} — {requires_short}")),
            indicator="warning",
            source=self._source("order-biomarker-missing", reg),
            detail="\n".join(lines),
            suggestions=suggestions,
            selectionBehavior="at-most-one",
            links=self._links(reg) + [Link(label=title, url=url) for title, url in t.all_links],  # as patient-view
        )

    def _genomic_tests_drafted(self, items) -> list[DraftOrder]:
        """The drafted ServiceRequests that together name every gene the card's biomarker
        rules read (rules.PREDICATE_GENES); [] when a gene is left out (a drafted PIK3CA-only
        test does not answer capivasertib's AKT1/PTEN question). A draft _drafted_test_unfit
        calls another test (a somatic BRCA test, ESR1 on archival tissue) does not count."""
        genes, germline = self._card_genes(items)
        found = [o for o in self.drafted_tests if genes & set(o.genes) and not self._drafted_test_unfit(o, genes, germline)]
        if not genes or not found or not genes <= {g for o in found for g in o.genes}:
            return []
        return found

    @staticmethod
    def _card_genes(items) -> tuple[set[str], bool]:
        """The genes the card's biomarker rules read, and whether only germline results answer."""
        reads = [PREDICATE_GENES.get(b.rule) or ((), False) for b, _ in items]
        return {g for genes, _ in reads for g in genes}, any(germline for _, germline in reads)

    @staticmethod
    def _drafted_test_unfit(o: DraftOrder, genes: set[str], germline: bool) -> str | None:
        """Why a drafted test naming the card's genes is not the test the card asks for (None: it is)."""
        if germline and o.origin == "somatic":
            return ("its name says somatic / tumour: the olaparib and talazoparib labels need a germline BRCA1/2 "
                    "result (CR C.3 row 7; somatic BRCA is not labelled)")
        if "ESR1" in genes and "ESR1" in o.genes and o.archival:
            return ("its name says archival or primary-tumour tissue: ESR1 is tested at progression, on ctDNA "
                    "(preferred) or tissue taken then (CR C.3 row 18, C.1 ASCO 2023)")
        return None

    def _drafted_tests_notes(self, items, drafted: list[DraftOrder]) -> list[str]:
        """What the card says about drafted tests naming its genes that do not count (and why),
        and about a counted germline test whose name does not say germline."""
        genes, germline = self._card_genes(items)
        out = []
        for o in self.drafted_tests:
            why = self._drafted_test_unfit(o, genes, germline) if genes & set(o.genes) else None
            if why:
                out += ["", f"**Drafted test not counted**: {self._named_test(o)}: {why}."]
        if germline:
            unsaid = [o for o in drafted if o.origin is None]
            if unsaid:
                out += ["", "**Drafted test to check**: " + "; ".join(self._named_test(o) for o in unsaid)
                        + ": its name does not say germline; the olaparib and talazoparib labels need a germline "
                        "BRCA1/2 result (CR C.3 row 7), so make sure it is the germline test."]
        return out

    @staticmethod
    def _named_test(o: DraftOrder) -> str:
        return f"{o.reference or o.resource_type}" + (f" ('{clip(o.text, 100)}')" if o.text else "")

    def _drafted_tests_text(self, drafted: list[DraftOrder]) -> str:
        named = "; ".join(self._named_test(o) for o in drafted)
        return f"**Already drafted with these orders**: {named}. No second order of the same test is pre-selected."

    def _awaiting_final(self, items) -> list:
        """The results not final yet that are all the card's biomarker rules wait on
        (rules.awaiting_final over the genes each rule reads); [] when a test is needed."""
        pending: list = []
        for b, _ in items:
            reads = PREDICATE_GENES.get(b.rule)  # (genes, germline only)
            found = awaiting_final(self.state, *reads) if reads else []
            if not found:
                return []
            pending += [v for v in found if not any(v is p for p in pending)]
        return pending

    def incomplete_card(self, g: Group, combo_only: dict[str, tuple[str, str, list[Finding]]]) -> Card | None:
        missing = g.cand.missing
        if not missing:
            return None
        if not combo_only and (g.kind == "not-fit" or g.cand.assessment.phase != "first-line"):
            # after progression an AI or fulvestrant alone is a labelled option; first line,
            # ET + CDK4/6 inhibitor is the standard (ASCO 2024 rec 1.1)
            return None
        reg = g.cand.regimen
        a = g.cand.assessment
        pid = self.state.patient_id
        present = [n for n in g.cand.names if n in self.pool]
        # the fitting choices that contain every drug already drafted, pathway order
        options = [c for c in (a.offered_choices if a.fits else []) if set(present) <= set(c.names)]
        if not options and g.cand.choice is not None:
            options = [g.cand.choice]
        suggestions = []
        for c in options[:MAX_PARTNER_SUGGESTIONS]:
            add = [d for d in c.drugs if d.name not in self.pool and d.rxnorm]
            if not add:
                continue
            suggestions.append(Suggestion(
                label=clip("Add " + " + ".join(d.name for d in add) + f" ({c.label})", 120),
                isRecommended=True if not suggestions else None,
                actions=[Action(type="create", description=f"Draft order: {d.name} (RxNorm {d.rxnorm})",
                                resource=medication_request(pid, d, reg.name)) for d in add],
            ))
        if not suggestions:
            add = [DRUGS[n] for n in missing if DRUGS[n].rxnorm]
            if add:
                suggestions.append(Suggestion(
                    label=clip("Add " + " + ".join(d.name for d in add), 120), isRecommended=True,
                    actions=[Action(type="create", description=f"Draft order: {d.name} (RxNorm {d.rxnorm})",
                                    resource=medication_request(pid, d, reg.name)) for d in add]))
        indicator = "warning" if combo_only else "info"
        drafted = self._choice_label(present)
        partners = " + ".join(missing)
        # a partner the same draft set prohibits (doNotPerform): the conflict is said and adding
        # that partner is offered, not pre-selected (FHIR R4 MedicationRequest.doNotPerform)
        prohibited = {n: [o for o in self.prohibiting if any(d.name == n for d in o.drugs)] for n in missing}
        prohibited = {n: orders for n, orders in prohibited.items() if orders}
        if prohibited:
            suggestions = [s.model_copy(update={"isRecommended": None}) for s in suggestions]
        # a drafted order whose text joins a drug class to the drug read ("Palbociclib + AI":
        # DraftOrder.unnamed_partner): the partner is drafted, but not named, so which drug it is
        # (letrozole or anastrozole? CR A.5 classes) cannot be checked. When its class may be
        # every missing partner the card says so instead of "drafted without", and pre-selects
        # no partner (that would draft a second drug of the class)
        unnamed = [d for d in self._drafts_of(g.cand.names) if d.order.unnamed_partner]
        noun = drafts_noun(d.order for d in self._drafts_of(g.cand.names))
        these = "drafts" if noun == "draft" else noun + "s"
        unnamed_classes = {c for d in unnamed for c in d.order.unnamed_partner_classes}
        partner_unnamed = bool(unnamed) and all(DRUGS[n].drug_class in unnamed_classes for n in missing)
        if partner_unnamed:
            suggestions = [s.model_copy(update={"isRecommended": None}) for s in suggestions]
            quoted = "; ".join(f'"{clip(d.order.text or "", 80)}"' for d in unnamed)
            lines = [f"**{drafted} drafted with a partner not named**: {quoted} also names "
                     f"{unnamed[0].order.unnamed_partner}, so which drug it is cannot be checked (the pathway's "
                     f"choice: {partners}). "
                     f"{reg.name} ({reg.brand}) is the pathway regimen for these {these}: draft the partner "
                     "by its name.", "", "**Why**"]
        else:
            lines = [f"**{drafted} drafted without {partners}**: {reg.name} ({reg.brand}) is the pathway regimen "
                     f"for these {these}.", "", "**Why**"]
            lines[0] += "".join(f' {d.describe()} also names {d.order.unnamed_partner}: not checked.' for d in unnamed)
        if prohibited:
            lines[0:0] = [f"**A drafted {drafts_noun(orders)} prohibits {n}** (doNotPerform: do not give it): "
                          + ", ".join(self._prohibiting_text(o) for o in orders)
                          + f". {drafted} is drafted with it: withdraw one of the two, or, if {n} is to be given, "
                          "withdraw the prohibition before adding it." for n, orders in prohibited.items()] + [""]
        for n, (label, source, facts) in combo_only.items():
            lines.append(f"- {n}: labelled only \"{label}\" ({self._source_title(source)})")
            lines += ["  " + self._fact(f) for f in facts]
        # a drafted combination only a trial supports (imlunestrant + abemaciclib, C.3 row 4):
        # said, and the partner of the labelled regimen is offered, not pre-selected (it
        # would be added beside the drug it replaces)
        trial_only = [(text, source) for drugs, text, source in KNOWLEDGE.trial_only
                      if drugs <= set(self.pool) and drugs & set(present)]
        for text, source in trial_only:
            lines.append(f"- {text} ({self._source_title(source)})")
        if trial_only:
            suggestions = [s.model_copy(update={"isRecommended": None}) for s in suggestions]
        if a.fits:
            lines.append(f"- {reg.name} fits this patient:")
            lines += ["  " + self._fact(f) for f in a.why()]
            if a.route:
                lines.append(f"  - Label route: {a.route}")
        elif a.unknown:
            lines.append(f"- Whether {reg.name} fits is open: " + "; ".join(f.text for f in a.unknown))
        lines += self._label_block(reg)
        lines += self._drafts_block(g.cand.names) + self._footer()
        if prohibited:
            prohibitions = [o for orders in prohibited.values() for o in orders]
            summary = (f"{drafted} drafted while a drafted {drafts_noun(prohibitions)} prohibits "
                       f"{' + '.join(prohibited)}: "
                       f"{reg.name} is the labelled regimen")
        elif partner_unnamed:
            summary = f"{drafted} drafted with a partner not named: {reg.name} is the labelled regimen"
        else:
            summary = f"{drafted} drafted without {partners}: {reg.name} is the labelled regimen"
        return Card(
            summary=clip(summary),
            indicator=indicator,
            source=self._source("order-incomplete-regimen", reg),
            detail="\n".join(lines),
            suggestions=suggestions,
            selectionBehavior="at-most-one" if suggestions else None,
            links=self._links(reg),
        )

    @staticmethod
    def _prohibiting_text(o: DraftOrder) -> str:
        name = f' ("{clip(o.text, 80)}")' if o.text else ""
        return f"{o.reference or o.resource_type + ' (no id)'}{name}"

    def ofs_card(self, groups: list[Group]) -> Card:
        pid = self.state.patient_id
        ofs = DRUGS[OFS_DRUG]
        f = self.state.factors
        reg = groups[0].cand.regimen
        male = f.sex == "male"  # men on an AI: LHRH agonist (C.2 step 2), same GnRH agonist order
        rule_name = "male_without_lhrh_agonist" if male else "needs_ovarian_suppression"
        why = run_rule(rule_name, self.state, self.ctx)
        regs = ", ".join(dict.fromkeys(g.cand.regimen.name for g in groups))
        # the drafted regimens' own cautions behind this check (a man: the AI regimens', or
        # inavolisib's), else the shared one (a regimen that has none, e.g. one not for men)
        cautions = list(dict.fromkeys(c for g in groups for c in g.cand.regimen.cautions if c.rule.rule == rule_name))
        cautions = cautions or [_pathway_caution(cid="male-ai" if male else "ofs-missing")]
        head = (f"**LHRH agonist missing**: {regs} in a man." if male else
                f"**Ovarian function suppression missing**: {regs} in a {f.menopausal_status} woman.")
        on_ai = all(any(DRUGS[n].drug_class == "aromatase-inhibitor" for n in g.cand.names) for g in groups)
        lines = [head, "", "**Why**", self._fact(why)]
        # a drafted order prohibiting an LHRH agonist (doNotPerform; FHIR R4 MedicationRequest.
        # doNotPerform "do not do this"): named, and adding one offered, not pre-selected
        prohibiting = [o for o in self.prohibiting if any(d.drug_class == "ovarian-suppression" for d in o.drugs)]
        if prohibiting:
            lines[0:0] = [f"**A drafted {drafts_noun(prohibiting)} prohibits an LHRH agonist** (doNotPerform: do not give it): "
                          + ", ".join(self._prohibiting_text(o) for o in prohibiting)
                          + ". Withdraw the prohibition before adding one, or choose another regimen.", ""]
        for caution in cautions:
            lines.append(f"- {caution.text} ({self._source_title(caution.source)})")
        if not male:
            lines += ["- ESO-ESMO ABC4: adequate OFS = bilateral oophorectomy, continuous LHRH agonist, "
                      "or ovarian ablation by radiotherapy."]
        lines += self._label_block(reg)
        names = [n for g in groups for n in g.cand.names]
        lines += self._drafts_block(list(dict.fromkeys(names))) + self._footer()
        return Card(
            summary=clip(f"{'Man on an aromatase inhibitor' if on_ai else 'Man'}: add an LHRH agonist to {regs}" if male else
                         f"{f.menopausal_status.capitalize()} woman: add ovarian suppression to {regs}"),
            indicator="warning",
            source=self._source("order-incomplete-regimen", reg),
            detail="\n".join(lines),
            suggestions=[Suggestion(
                label=f"Add {ofs.name} ({'LHRH agonist' if male else 'ovarian function suppression'})",
                isRecommended=None if prohibiting else True,
                actions=[Action(type="create", description=f"Draft order: {ofs.name} (RxNorm {ofs.rxnorm})",
                                resource=medication_request(pid, ofs, ("LHRH agonist" if male else
                                                                       "ovarian function suppression") + f" with {regs}"))],
            )],
            selectionBehavior="at-most-one",
            links=self._links(reg),
        )

    # -- hormone receptor-negative disease (outside the pathway) ----------------
    def hr_negative_cards(self, g: Group) -> list[Card]:
        """ER negative AND PR negative documented (never when a receptor is unknown): the
        drugs whose every breast cancer label names HR-positive or ER-positive disease
        (order_rules.yaml hr_negative_not_indicated) are not indicated, removal suggested,
        as in HER2-positive disease. The others (sacituzumab govitecan, the PARP inhibitors,
        chemotherapy ...) have triple-negative or HR-independent indications: silent."""
        if self.state.hormone_receptor_positive is not False:
            return []
        hits = [n for n in g.focus if n in KNOWLEDGE.hr_negative]
        return [self.hr_negative_card(g, hits)] if hits else []

    def hr_negative_card(self, g: Group, hits: list[str]) -> Card:
        facts = []
        for what, r in (("ER", self.state.er), ("PR", self.state.pr)):
            pct = f" ({r.percent:g}%)" if r.percent is not None else ""
            facts.append(Finding(False, f"{what} negative{pct}" + (f" on {fmt_date(r.date, r.date_last)}" if r.date else ""),
                                 tuple(r.sources)))
        receptors = [(r.date, r.date_last) for r in (self.state.er, self.state.pr) if r.date]
        when = f" ({written_on(max(d for d, _ in receptors), receptors)})" if receptors else ""
        return self._label_scope_card(
            g, hits, KNOWLEDGE.hr_negative, "not indicated in hormone receptor-negative disease", LABEL_SCOPE_SERVICE,
            facts, f"not indicated — ER-negative and PR-negative disease documented{when}", self._removal(hits),
            pending=[r for m in (self.state.er, self.state.pr) for r in testing.marker_pending(m)])

    # -- the pathway's own warning cautions (as patient-view shows them) ---------
    def pathway_caution_cards(self, groups: list[Group], drug_group: dict[str, Group]) -> list[Card]:
        """A drafted regimen that fits gets the warning cautions patient-view shows on its
        card: the regimen's (shared and extra cautions) and the drafted choice's (a choice
        caution only when its drug is a focus drug: ribociclib off-label only when
        ribociclib is drafted or selected). One order-contraindicated warning per caution, in
        the safety card's shape, with the caution's text and source. Skipped: the predicates
        another order card reports (every order_rules.yaml `safety` entry, the ovarian
        suppression card, the footer: pathway_cautions_reported_elsewhere), continuations."""
        elsewhere = {s.rule.rule for s in KNOWLEDGE.safety if not s.with_drugs} | set(KNOWLEDGE.cautions_elsewhere)
        found: dict[str, tuple[CautionHit, list[str]]] = {}  # caution text -> (hit, drugs it is about)
        for g in groups:
            if g.kind != "fits" or g.continuation or not self.status.in_pathway:
                continue
            choice = g.cand.choice
            for h in [*g.cand.assessment.cautions, *(choice.cautions if choice else ())]:
                if h.severity != "warning" or h.rule in elsewhere:
                    continue
                names = [h.drug] if h.drug else [n for n in g.cand.names if n in g.focus]
                names = [n for n in names if n in g.focus and n in drug_group]
                if not names:
                    continue
                _, seen = found.setdefault(h.text, (h, []))
                seen += [n for n in names if n not in seen]
        cards = []
        for h, names in found.values():
            short = h.short or "caution"
            if h.drug and short.lower().startswith(h.drug + " "):
                short = short[len(h.drug) + 1:]  # the card is headed with the drug already
            s = SafetyRule(id=f"pathway-caution:{h.rule}", group="pathway-caution", indicator="warning",
                           drugs=frozenset(names), short=short, rule=RuleRef(rule=h.rule or "always"),
                           text=h.text, source=h.source, label_urls={})
            cards.append(self.safety_card(s, [(n, h.finding) for n in names], drug_group))
        return cards

    # -- safety --------------------------------------------------------------
    def _safety_in_scope(self, s: SafetyRule) -> bool:
        """Whether a safety rule speaks for this patient at all (safety_cards, _safety_with_active)."""
        if s.pathway_advice and not self.status.in_pathway:
            return False  # a treatment sequence of the pathway (C.2), not a drug-level stop
        if self.status.deceased and s.indicator != "critical":
            return False  # deceased: no advice, only the drug-level stops
        return True

    def safety_cards(self, drug_group: dict[str, Group], not_indicated: set[str]) -> list[Card]:
        fired: dict[str, list[tuple[str, Finding]]] = {}
        done: set[tuple[str, str]] = set()  # (drug, group) already covered
        for s in KNOWLEDGE.safety:
            if not self._safety_in_scope(s):
                continue
            for name, g in drug_group.items():
                if name not in s.drugs or (name, s.group) in done:
                    continue
                if (name, s.id) in self.merged_safety:
                    done.add((name, s.group))  # said on the active-drug card (_safety_with_active)
                    continue
                if _caution_spared(s, name, g, not_indicated):
                    continue
                kwargs = {**s.rule.kwargs, "drug": name} if s.per_drug else s.rule.kwargs
                f = (self._with_drugs_finding(name, s.with_drugs) if s.with_drugs
                     else run_rule(s.rule.rule, self.state, self.ctx, **kwargs))
                if f.value:
                    done.add((name, s.group))
                    fired.setdefault(s.id, []).append((name, f))
        cards = []
        by_id = {s.id: s for s in KNOWLEDGE.safety}
        for sid, hits in fired.items():
            cards.append(self.safety_card(by_id[sid], hits, drug_group))
        glycemic = self.glycemic_card(drug_group, not_indicated, {n for s in fired for n, _ in fired[s]
                                                                  if by_id[s].group == "glycemic"})
        if glycemic is not None:
            cards.append(glycemic)
        return cards

    def _with_drugs_finding(self, name: str, others: frozenset[str]) -> Finding:
        """Which of `others` is drafted or active alongside `name` (the fact, with its resources)."""
        present = sorted(others & (self.pool - self.ending))
        if not present:
            return Finding(False, "")
        srcs = [Source(reference=d.reference) for d in self.drafts if d.reference and set(d.names) & set(present)]
        srcs += [x for n in present for x in self.active.get(n, ())]
        what = " + ".join(present)
        return Finding(True, f"{upper_first(what)} drafted or active together with {name}", tuple(srcs))

    def safety_card(self, s: SafetyRule, hits: list[tuple[str, Finding]], drug_group: dict[str, Group]) -> Card:
        names = list(dict.fromkeys(n for n, _ in hits))
        reg = drug_group[names[0]].cand.regimen
        f = hits[0][1]
        label = upper_first(" + ".join(names))
        verb = "do not start" if s.indicator == "critical" else "caution"
        # raised by an unconfirmed condition alone: the card says so (SafetyRule.short_unconfirmed)
        short = s.short_unconfirmed if s.short_unconfirmed and all(x.unconfirmed_only for _, x in hits) else s.short
        lines = [f"**{label}: {short}** — {f'a documented safety reason against this {drafts_noun(d.order for d in self._drafts_of(names))}' if s.indicator == 'critical' else 'needs care for this patient'}.",
                 "", "**Documented facts**", self._fact(f), "", f"**Label / trial**: {s.text} ({self._source_title(s.source)})"]
        # a critical stop for drugs whose not-indicated card gives the same or further facts (T-DXd
        # drafted after symptomatic ILD on T-DXd: the label's permanent stop, B.11, and "already
        # treated"): one card, the critical one, says them all and offers that card's replacements.
        # Only for one regimen: the replacements are each not-indicated card's own (T-DXd and
        # Dato-DXd both drafted keep their two cards, or their replacements would be lost)
        groups = list({id(drug_group[n]): drug_group[n] for n in names}.values())
        took_over = s.indicator == "critical" and len(groups) == 1 and all(
            g.not_indicated_card is not None and set(g.focus) <= set(names) for g in groups)
        if took_over:
            lines += ["", "**Not indicated either (documented facts)**"]
            lines += [self._fact(x) for g in groups for x in _distinct_facts(g.reasons_not)]
            missing = [f for g in groups for _, f in g.missing_not]
            if missing:  # as the not-indicated card said them
                lines += ["", "**Also not documented**"] + [self._fact(f) for f in missing]
        lines += self._label_block(reg)
        continuing = [n for n in names if drug_group[n].continuation]
        if continuing:
            lines += ["", f"Continuation of an active order: {', '.join(continuing)}."]
        suggestions = self._removal(names) if s.indicator == "critical" else []
        if took_over:
            replacing, fit = self.replacements(groups[0])
            for x in replacing:
                x.isRecommended = None  # removing the draft is the one pre-selected
            suggestions += replacing
            lines += self._fitting_block(fit)
            self.absorbed.update(g.not_indicated_card.uuid for g in groups)
        if s.never_recommended and s.indicator != "critical" and self.status.in_pathway:
            # patient-view never recommends this drug here: offer what it recommends instead,
            # as the not-indicated card does (never a choice the patient should not start)
            suggestions, fit = self.replacements(drug_group[names[0]])
            lines += self._fitting_block(fit)
        if s.group == "glycemic" and not self.status.deceased:
            # the glucose tests this card orders (below), and why: as the test-glycemic card says
            due = testing.glycemic_due(self.state, [drug_group[n].cand.regimen for n in names])
            if due:
                lines += ["", f"**Glucose tests before starting** ({GLYCEMIC_WINDOW_DAYS}-day window, C.2 safety "
                          "overlays)"] + [self._fact(x) for x in self._glycemic_facts(due)]
        lines += self._drafts_block(names) + self._footer()
        if s.group == "glycemic" and not self.status.deceased:  # no test orders for a deceased patient
            suggestions += self._glycemic_suggestions([drug_group[n].cand.regimen for n in names])
            for x in suggestions[1:]:
                # one pre-selected (at-most-one): the removal of a stopped draft, else the tests;
                # after the replacements of a not-indicated card taken over, the tests are not
                x.isRecommended = None
        links = self._links(reg)
        url = s.label_urls.get(names[0])
        if url:
            links.insert(0, Link(label=f"Label safety information: {reg.brand}", url=url))
        shown = latest_date_text(self._evidence_sources(s, f))
        when = f" ({shown})" if shown else ""
        return self._about([Card(
            summary=clip(f"{label}: {short}{when} — {verb}"),
            indicator=s.indicator,
            source=(topic_source("order-contraindicated", f"Label safety information: {reg.brand}", url)
                    if url else self._source("order-contraindicated", reg)),
            detail="\n".join(lines),
            suggestions=suggestions,
            selectionBehavior="at-most-one" if suggestions else None,
            links=links,
        )], [n for x in names for n in (x, *drug_group[x].cand.names)])[0]

    def _evidence_sources(self, s: SafetyRule, f: Finding) -> tuple:
        """The sources whose latest date a safety card's summary shows. The hyperglycaemia
        caution cites every glucose result it quotes, but is dated by what makes it true (the
        diagnosis, a glucose-lowering drug, a result at the threshold, a diagnosis recorded
        unconfirmed: Diabetes.sources, unconfirmed_sources), not by a normal result beside it."""
        if s.rule.rule != "diabetes_or_hyperglycemia":
            return f.sources
        d = self.state.factors.diabetes
        return tuple(d.sources) + tuple(d.unconfirmed_sources) or f.sources

    def _glycemic_facts(self, stale: list[testing.GlycemicDue]) -> list[Finding]:
        """Why each glucose test is due ("HbA1c not documented", "... older than 30 days")."""
        return [Finding(None, d.fact(self.state.as_of, on="on", name=d.lab_name),
                        tuple(d.lab.sources) if d.lab else ()) for d in stale]

    def _glycemic_suggestions(self, regimens) -> list[Suggestion]:
        stale = testing.glycemic_due(self.state, regimens)
        if not stale:
            return []
        orders = [o for o in TESTS["test-glycemic"].orders if o.when in {d.when for d in stale}]
        # a test already drafted with these orders (same LOINC code) is not ordered twice:
        # the others are pre-selected; with every one drafted, they stay offered unselected
        missing = [o for o in orders if not self._glycemic_drafted(o)]
        # as patient-view: C.2 safety overlays (no everolimus label statement on testing is cited)
        why = f"mbc-cds order check: {TESTS['test-glycemic'].title} (C.2 safety overlays)."
        orders = missing or orders
        return [Suggestion(label=clip("Order " + " + ".join(o.text for o in orders), 120),
                           isRecommended=True if missing else None,
                           actions=[Action(type="create", description=f"Draft test order: {o.text}",
                                           resource=service_request(self.state.patient_id, o, why)) for o in orders])]

    def _glycemic_drafted(self, order) -> list[DraftOrder]:
        """The drafted ServiceRequests coded with this test's LOINC code (tests.yaml)."""
        code = (order.code or {}).get("code")
        return [o for o in self.drafted_tests if code and code in o.loinc]

    def glycemic_card(self, drug_group: dict[str, Group], not_indicated: set[str], covered: set[str]) -> Card | None:
        # outside the pathway no testing cards, except the labels' "before initiating" glucose
        # tests for a drug the clinician may still give: one with only an advisory
        # not-indicated card (documented non-metastatic disease; C.2 safety overlays, C.3 row 14)
        names = [n for n, g in drug_group.items()
                 if DRUGS[n].drug_class == "pi3k-akt-mtor" and not g.continuation
                 and n not in not_indicated and n not in covered and (self.status.in_pathway or g.advisory)]
        if not names or covered:
            return None
        regimens = [drug_group[n].cand.regimen for n in names]
        stale = testing.glycemic_due(self.state, regimens)
        if not stale:
            return None
        t = TESTS["test-glycemic"]
        facts = self._glycemic_facts(stale)
        label = " + ".join(names)
        lines = [f"**Before starting {label}**: test fasting glucose and HbA1c (C.2 safety overlays; "
                 "what each label says is under Label).",
                 "", "**What the record shows**"] + [self._fact(f) for f in facts]
        drafted: list[DraftOrder] = []
        for test in t.orders:
            if test.when in {d.when for d in stale}:
                drafted += [o for o in self._glycemic_drafted(test) if not any(o is d for d in drafted)]
        if drafted:
            lines += ["", self._drafted_tests_text(drafted)]
        lines += ["", f"**Label**: {t.why}", "", f"_Window: {GLYCEMIC_WINDOW_DAYS} days (tests.yaml; reference "
                  "C.2 marks the window length as a design choice)._"]
        lines += self._drafts_block(names) + self._footer()
        return self._about([Card(
            summary=clip(f"{upper_first(label)}: " + " and ".join(
                ("measured " if d.undecided else "") + d.lab_name
                for d in stale) + f" not documented in the last {GLYCEMIC_WINDOW_DAYS} days"),
            indicator="info",
            source=topic_source("test-glycemic", t.url_title, t.url),  # as patient-view's testing card
            detail="\n".join(lines),
            suggestions=self._glycemic_suggestions(regimens),
            selectionBehavior="at-most-one",
            links=[Link(label=title, url=url) for title, url in t.all_links],
        )], [n for x in names for n in (x, *drug_group[x].cand.names)])[0]


def unchecked_drafts(drafts: list[DraftOrder], selections: list[str] | None) -> list[DraftOrder]:
    """The drafts in focus (selected at order-select, all at order-sign; None: all) that
    the checks could not judge because their drug could not be read (DraftOrder.unreadable)."""
    return [o for o in drafts or [] if o.unreadable and not o.not_checked
            and (selections is None or _selected(o, selections))]


# Why a draft's drug is not checked, in a few words for a summary or heading: the reason
# line (DraftOrder.unreadable) says it in full. Read from the words the readers write
# (mappings.therapy drafted_drugs / drug_named_not_ordered / concept_conflict /
# medication_conflict); anything else: the drug itself could not be read.
_UNREAD_KINDS = (
    # (words of the reason, (one draft, several drafts))
    (("writes its drug as refused", "writes a refusal", "writes its drugs as refused"),
     ("its text writes a refusal", "their text writes a refusal")),
    (("names a premedication for its drug",),
     ("its text names a premedication", "their text names a premedication")),
    (("endocrine therapy of another class",),
     ("its text names one endocrine drug after another", "their text names one endocrine drug after another")),
    (("but not as the drug it orders",),
     ("its text does not name its drug as ordered", "their text does not name their drug as ordered")),
    (("codings name different drugs", "the Medication's code names"),
     ("its codes name different drugs", "their codes name different drugs")),
    (("its code names",),
     ("its code and text name different drugs", "their code and text name different drugs")),
)
_UNREAD_DRUG = ("its drug could not be read", "their drug could not be read")


def unread_kind(order: DraftOrder) -> tuple[str, str]:
    """(one draft, several drafts) words for why a draft's drug was not checked."""
    why = order.unreadable or ""
    return next((said for words, said in _UNREAD_KINDS if any(w in why for w in words)), _UNREAD_DRUG)


def unread_why(orders: list[DraftOrder], several: bool = False) -> str:
    """Those words for these drafts (no doNotPerform question among them): one kind said for
    all, several kinds as which drug they order not being clear (each reason line says why);
    `several`: said in the plural of one draft too (a heading in the plural)."""
    kinds = {unread_kind(o) for o in orders}
    if len(orders) == 1 and not several:
        return kinds.pop()[0]
    if len(kinds) == 1:
        return kinds.pop()[1]
    return "which drug they order is not clear"


def _all_unread_drug(orders: list[DraftOrder]) -> bool:
    return all(unread_kind(o) is _UNREAD_DRUG for o in orders)


def unread_draft_text(order: DraftOrder) -> str:
    """An unchecked draft as the order cards and the 'not checked' card name it: its reference and why."""
    return f"{order.reference or order.resource_type + ' (no id)'}: {order.unreadable}{read_in_part_note(order)}"


def read_in_part_note(order: DraftOrder) -> str:
    """(lt2) '; its text of 5,000 characters read only to its first 2,000 ...' for a draft whose
    text the readers cut at fhir.TEXT_READ_LIMIT (mappings.read_draft_orders), as patient-view's
    gap text-read-in-part names a record's: what follows may change the check."""
    if not order.text_read_in_part:
        return ""
    return (f"; its text of {order.text_read_in_part:,} characters read only to its first {TEXT_READ_LIMIT:,}: "
            "what follows is not read, check the order")


def order_check_cards(
    state: PatientState,
    drafts: list[DraftOrder],
    selections: list[str] | None,
    hook: str,
) -> list[Card]:
    items = []
    unread = unchecked_drafts(drafts, None)  # their drug is unknown: every card says they were not checked
    for order in drafts or []:
        if order.not_checked or order.unreadable:
            continue  # another patient's draft, one prohibiting the drug (doNotPerform), a closed one, or unread
        names = _pathway_names(order)
        if not names:
            continue  # non-oncology order or a drug the pathway does not know
        focus = True if selections is None else _selected(order, selections)
        items.append(Draft(order=order, names=names, focus=focus))
    cards = []
    card_drugs: dict[str, set[str]] = {}
    if any(d.focus for d in items):
        tests = [o for o in drafts or [] if o.resource_type == "ServiceRequest" and not o.not_checked]
        prohibiting = [o for o in drafts or [] if o.prohibits and o.drugs]
        checker = _Checker(state, items, selections, hook, unread, tests, prohibiting,
                           other_patient_drafts(drafts, None))
        cards, card_drugs = checker.run(), checker.card_drugs
    contradictions = contradicting_drafts(drafts, selections)
    if contradictions:
        # which reading holds is unknown: a card about a contradicted drug (its regimen, its test,
        # its partner, its removal) pre-selecting an order would rely on one of them, so the
        # clinician picks unaided; a card about another drug only (a critical stop for T-DXd
        # beside contradictory fulvestrant drafts) keeps its pre-selection. A card whose drugs
        # are not known pre-selects nothing either
        contradicted = {n.lower() for n in contradictions}
        for c in cards:
            about = card_drugs.get(c.uuid)
            if about is None or contradicted & {n.lower() for n in about}:
                for s in c.suggestions or []:
                    s.isRecommended = None
    # every other card names the unread drafts and those for another patient; with none, one
    # info card each says they were not checked
    cards = cards or (not_checked_cards(unchecked_drafts(drafts, selections), hook)
                      + other_patient_cards(other_patient_drafts(drafts, selections), hook))
    cards = cards + contradiction_cards(contradictions, hook) + germline_retest_cards(state, drafts, selections, hook)
    return cards + read_in_part_cards([d for d in items if d.focus], cards, hook)


def read_in_part_cards(checked: list[Draft], cards: list[Card], hook: str) -> list[Card]:
    """(ord11) The checked drafts in focus whose text the readers cut at fhir.TEXT_READ_LIMIT
    (DraftOrder.text_read_in_part) that no card names as read in part (a regimen card's drafts
    block does: read_in_part_note): one info card (topic patient-summary, DESIGN's "what the
    service understood, with data gaps", as not_checked_cards; no order topic says "read in part")
    naming them. With no card at all the clinician would take the whole draft as checked, while
    the words after the bound (a reason, a dose, another drug) were not read; patient-view's gap
    text-read-in-part names a record so."""
    cut = [d for d in checked if d.order.text_read_in_part
           and not any(f"{d.describe()}{read_in_part_note(d.order)}" in (c.detail or "")
                       or f"{_draft_text(d.order)}{read_in_part_note(d.order)}" in (c.detail or "") for c in cards)]
    if not cut:
        return []
    n = len(cut)
    noun = drafts_noun(d.order for d in cut)
    lines = [(f"**Draft{'s' if n > 1 else ''} read in part**" if noun == "draft" else
              f"**Drafted {noun}{'s' if n > 1 else ''} read in part**")]
    lines += [f"- {_draft_text(d.order)}{read_in_part_note(d.order)}" for d in cut]
    these, its = (f"these {noun}s", "their texts") if n > 1 else (f"this {noun}", "its text")
    lines += ["", f"This service reads each text only to its first {TEXT_READ_LIMIT:,} characters (some 300 "
              "words: FHIR R4 sets no length; the bound keeps a long text from slowing the checks). The label, "
              f"biomarker and safety checks of {these} used the first {TEXT_READ_LIMIT:,} characters of {its}"
              + ("" if cards else ", and raised no card on the text read")
              + ": words after them (a reason, a dose, another drug) were not read and may change the check. "
              "Check the order as written.",
              "", f"_Knowledge: order_rules.yaml v{KNOWLEDGE.version}; hook {hook}._"]
    drafted = drafted_words(noun)
    if n > 1:
        summary = f"{n} {drafted}s read in part: their texts read only to their first {TEXT_READ_LIMIT:,} characters"
    else:
        d = cut[0]
        summary = (f"{upper_first(' + '.join(d.names))} {_draft_words(d)}: its text read only to its first "
                   f"{TEXT_READ_LIMIT:,} characters")
        if len(summary) + len(d.reference or "") + 3 <= MAX_SUMMARY and d.reference:
            summary += f" ({d.reference})"
    return [Card(summary=clip(summary), indicator="info", source=SUMMARY_SOURCE, detail="\n".join(lines))]


def other_patient_drafts(drafts: list[DraftOrder], selections: list[str] | None) -> list[DraftOrder]:
    """The drafts in focus whose subject is another patient (DraftOrder.other_patient) and that
    the checks would have judged for this one: a pathway drug, a drug that could not be read, or
    a drafted genomic test (a gene named: the germline BRCA re-test card reads it). A metformin,
    CBC or HbA1c draft gets no card for this patient either, so none for another."""
    return [o for o in drafts or [] if o.other_patient
            and (selections is None or _selected(o, selections))
            and (_pathway_names(o) or o.unreadable or o.genes)]


def other_patient_block(others: list[DraftOrder]) -> list[str]:
    """The drafts for another patient, as a card's detail names them (a heading and one line each)."""
    if not others:
        return []
    n = len(others)
    drafted = drafted_words(drafts_noun(others))
    return ["", f"**{upper_first(drafted)}{'s' if n > 1 else ''} not checked** "
                f"({'their subject is' if n > 1 else 'its subject is'} another patient than the patient in context)"
            ] + [f"- {_draft_text(o)}" for o in others]


def other_patient_cards(others: list[DraftOrder], hook: str) -> list[Card]:
    """One info card (topic patient-summary, as not_checked_cards) naming the drafts in focus whose
    subject is another patient than context.patientId: they were not checked, and saying nothing
    would tell the clinician they were checked and raised nothing. Not an HTTP 400: CDS Hooks
    2.0.1 sets no rule tying draftOrders' subjects to patientId (order-select / order-sign
    draftOrders: "a Bundle of FHIR request resources"; 4xx only "MAY"), and a 400 would drop the
    checks of this patient's own drafts sent beside it (cds-hooks-notes.md 1.4, the hook table;
    DESIGN "Data it cannot get -> HTTP 412"). The other patient's id is not repeated (as the
    fhirAuthorization.patient 400 does not): the draft's own reference names it."""
    if not others:
        return []
    n = len(others)
    drafted = drafted_words(drafts_noun(others))
    lines = other_patient_block(others)[1:]
    lines += ["", f"This service checks the drafted orders against the record of the patient in context "
              f"(context.patientId). {'These drafts name' if n > 1 else 'This draft names'} another patient as "
              f"subject (FHIR R4 MedicationRequest.subject / ServiceRequest.subject), so none of the label, "
              f"biomarker and safety checks was made for {'them' if n > 1 else 'it'}: that patient's record was "
              "not read. Check that the order is drafted in the right patient's chart.",
              "", f"_Knowledge: order_rules.yaml v{KNOWLEDGE.version}; hook {hook}._"]
    summary = (f"{n} {drafted}s not checked: they are for another patient" if n > 1 else
               f"{upper_first(drafted)} not checked: it is for another patient "
               f"({others[0].reference or others[0].resource_type})")
    return [Card(summary=clip(summary), indicator="info", source=SUMMARY_SOURCE, detail="\n".join(lines))]


GERMLINE_BRCA = ("BRCA1", "BRCA2")


def germline_retest_cards(state: PatientState, drafts: list[DraftOrder], selections: list[str] | None,
                          hook: str) -> list[Card]:
    """A drafted germline BRCA test (a ServiceRequest whose name says germline: DraftOrder.origin)
    in focus when every BRCA gene it names already has a final germline result, of either outcome:
    one info card (topic test-germline-brca, the testing topic of this test; not
    order-biomarker-missing, which says a label biomarker is NOT documented) naming the results
    with their dates. A germline (inherited, LOINC LA6683-2) result is not repeated at
    progression: the pathway tests germline BRCA1/2 once (C.2 testing at first line; patient-view
    asks only while no germline result is documented, rules.germline_brca_tested), and repeats
    only ESR1 at each progression (C.2 "Always", C.3 row 18). Tumour and ctDNA tests (ESR1,
    PIK3CA ...) and receptor re-tests (re-biopsy at progression) get no such card. A result not
    final yet is not counted (Biomarkers.not_final)."""
    germline = [r for r in state.biomarkers.results if r.gene in GERMLINE_BRCA and r.origin == "germline"]
    if not germline:
        return []
    # a pathogenic / likely pathogenic germline variant (gBRCAm) answers the PARP inhibitor labels'
    # question whichever gene it is in (C.3 row 7; C.2 step 1: P/LP only): patient-view asks for
    # no germline test then, even without a result of the other gene (testing.germline_brca_test_needed)
    gbrcam = [r for r in germline if r.actionable and r.significance in PATHOGENIC]
    found = []
    for o in drafts or []:
        names = [g for g in GERMLINE_BRCA if g in o.genes]
        if (o.resource_type != "ServiceRequest" or o.not_checked or o.origin != "germline" or not names
                or (selections is not None and not _selected(o, selections))):
            continue
        results = [r for r in germline if r.gene in names]
        untested = [g for g in names if g not in {r.gene for r in results}]
        if not untested:
            found.append((o, results, []))
        elif gbrcam:
            found.append((o, list({id(r): r for r in results + gbrcam}.values()), untested))
    if not found:
        return []
    t = TESTS["test-germline-brca"]
    results = list({id(r): r for _, rs, _ in found for r in rs}.values())
    results.sort(key=lambda r: (r.gene, r.date or dt.date.min))
    latest = max((r.date for r in results if r.date), default=None)
    noun = drafts_noun(o for o, *_ in found)
    lines = [f"**Germline BRCA1/2 already tested**: the drafted {noun if noun != 'draft' else 'test'}"
             f"{'s' if len(found) > 1 else ''} repeat{'' if len(found) > 1 else 's'} a documented germline result.",
             "", "**Documented germline results (final)**"]
    lines += [f"- {describe_variant(r, state.as_of)}{cite(r.sources)}" for r in results]
    lines += ["", "**Drafted**"] + [f"- {_draft_text(o)}" for o, *_ in found]
    untested = list(dict.fromkeys(g for *_, u in found for g in u))
    if untested:
        lines += ["", f"No germline {'/'.join(untested)} result of its own is documented; the germline "
                  f"{' and '.join(dict.fromkeys(r.gene for r in gbrcam))} pathogenic variant already meets the "
                  "PARP inhibitor labels' gBRCAm (C.3 row 7), which a further germline result would not change."]
    lines += ["", "A germline (inherited) BRCA1/2 result does not change with treatment or progression: the "
              "pathway tests germline BRCA1/2 once (C.2, testing at first line), and repeats only ESR1, a "
              "tumour/ctDNA result, at each progression (C.2; C.3 row 18)."]
    others = [f"{_draft_text(o)}: {', '.join(g for g in o.genes if g not in GERMLINE_BRCA)}" for o, *_ in found
              if any(g not in GERMLINE_BRCA for g in o.genes)]
    if others:
        lines += ["", "**Other genes drafted, not judged here**: " + "; ".join(others) + "."]
    lines += ["", f"_Knowledge: cards/knowledge/tests.yaml v{KNOWLEDGE_VERSION}; hook {hook}._"]
    when = fmt_date(latest) if latest else "date unknown"
    return [Card(
        summary=clip(f"Germline BRCA1/2 already tested ({when}): a germline result does not change — "
                     "the drafted test repeats it" if not untested else
                     f"Germline {' and '.join(dict.fromkeys(r.gene for r in gbrcam))} pathogenic variant documented "
                     f"({when}): the drafted germline BRCA test would not change that"),
        indicator="info",
        source=topic_source("test-germline-brca", t.url_title, t.url),
        detail="\n".join(lines),
        links=[Link(label=title, url=url) for title, url in t.all_links],
    )]


def _draft_text(o: DraftOrder) -> str:
    """A draft as the cards name it: its reference and what the EHR called it."""
    what = o.text or " + ".join(d.name for d in o.drugs if d.name)
    return (f"{o.reference or o.resource_type + ' (no id)'}" + (f' ("{clip(what, 80)}"' if what else " (")
            + f"{intent_note(o)})").replace(" ()", "")


def contradicting_drafts(drafts: list[DraftOrder], selections: list[str] | None
                         ) -> dict[str, tuple[list[DraftOrder], list[DraftOrder]]]:
    """The drugs that one draft of this patient orders and another prohibits (FHIR R4
    MedicationRequest.doNotPerform = true: "do not do this"), with (ordering drafts, prohibiting
    drafts), when one of them is in focus (selected at order-select; all at order-sign). Signed
    together they say both "give" and "do not give" the same drug. A prohibited combination
    product (a co-pack: ribociclib + letrozole) prohibits that request, the combination: it is
    contradicted only when every drug of it is drafted to give, not by one of its drugs drafted
    alone (letrozole after the pack is prohibited: ribociclib stopped, the AI continued; the
    incomplete-regimen card names that prohibition)."""
    ordering = [o for o in drafts or [] if not (o.not_checked or o.unreadable)]
    given = {(d.name or "").lower() for o in ordering for d in o.drugs}
    prohibited: dict[str, list[DraftOrder]] = {}
    for o in drafts or []:
        names = {d.name.lower() for d in o.drugs if d.name}
        if o.prohibits and names <= given:
            for name in names:
                prohibited.setdefault(name, []).append(o)
    out: dict[str, tuple[list[DraftOrder], list[DraftOrder]]] = {}
    if not prohibited:
        return out
    for o in ordering:  # not another patient's, a prohibition itself, a closed one, or its drug unknown
        for d in o.drugs:
            name = (d.name or "").lower()
            if name in prohibited:
                giving, forbidding = out.setdefault(name, ([], prohibited[name]))
                if o not in giving:
                    giving.append(o)
    return {n: (g, p) for n, (g, p) in out.items()
            if selections is None or any(_selected(o, selections) for o in g + p)}


def contradiction_cards(contradictions: dict[str, tuple[list[DraftOrder], list[DraftOrder]]],
                        hook: str) -> list[Card]:
    """One info card (topic patient-summary: what the service understood, DESIGN; no order topic
    says "these drafts contradict each other") naming every drug both ordered and prohibited in
    these drafts, with both drafts (FHIR R4 MedicationRequest.doNotPerform)."""
    if not contradictions:
        return []
    lines = ["**Drafts that contradict each other**: the same drug drafted to give and prohibited "
             "(doNotPerform: do not give it)."]
    for name, (giving, forbidding) in contradictions.items():
        lines.append(f"- {name}: to give: {', '.join(_draft_text(o) for o in giving)}; prohibited: "
                     f"{', '.join(_draft_text(o) for o in forbidding)}")
    lines += ["", "Signed together these drafts say both \"give\" and \"do not give\": withdraw one of each "
              "pair. Until then nothing is pre-selected on the other order cards about these drugs, as "
              "each suggestion would rely on one of the two readings.",
              "", f"_Source: FHIR R4 MedicationRequest.doNotPerform; knowledge: order_rules.yaml "
                  f"v{KNOWLEDGE.version}; hook {hook}._"]
    names = list(contradictions)
    if len(names) == 1:
        giving, forbidding = contradictions[names[0]]
        refs = ", ".join(o.reference or "no id" for o in giving + forbidding)
        summary = f"{upper_first(names[0])} drafted both to give and not to give ({refs})"
        if len(summary) > MAX_SUMMARY:  # long ids: clipped, a reference was cut and its bracket left open
            summary = (f"{upper_first(names[0])} drafted both to give and not to give "
                       f"({len(giving + forbidding)} drafts, named below)")
    else:
        summary = f"{len(names)} drugs drafted both to give and not to give: {', '.join(names)}"
    return [Card(summary=clip(summary), indicator="info", source=SUMMARY_SOURCE, detail="\n".join(lines))]


def not_checked_cards(unchecked: list[DraftOrder], hook: str) -> list[Card]:
    """Drafts in focus whose drug could not be read, and no other card to name them: one info
    card (topic patient-summary, DESIGN's "what the service understood, with data gaps": no
    order topic says "not checked") naming each and why. An empty list would tell the clinician
    the orders were checked and raised nothing; an HTTP 412 is CDS Hooks 2.0.1's answer to FHIR
    data the service cannot obtain (prefetch or fhirServer), not to a draft it received and
    cannot read (cds-hooks-notes.md 1.4, 1.6; DESIGN "Data it cannot get -> HTTP 412")."""
    if not unchecked:
        return []
    n = len(unchecked)
    noun = drafts_noun(unchecked)
    # doNotPerform neither true nor false (DraftOrder.prohibition_unclear): the drug is read, the
    # direction is not
    unclear = [o for o in unchecked if o.prohibition_unclear]
    # drafted tests only (ServiceRequest.doNotPerform neither true nor false): said of the test
    tests = bool(unclear) and all(o.resource_type == "ServiceRequest" for o in unchecked)
    thing = "test" if tests else "drug"
    # one draft "it ... its drug", several "they ... their drugs" (the summary and heading name them all)
    why = (("the drug could not be read" if _all_unread_drug(unchecked) else unread_why(unchecked)) if not unclear else
           (f"whether it orders or prohibits its {thing} is unclear" if n == 1 else
            f"whether they order or prohibit their {thing}s is unclear") if len(unclear) == n else
           "the drug, or whether it is ordered or prohibited, could not be read")
    lines = [(f"**Draft{'s' if n > 1 else ''} not checked**" if noun == "draft" else
              f"**Drafted {noun}{'s' if n > 1 else ''} not checked**") + f" ({why})"]
    lines += [f"- {unread_draft_text(o)}{intent_note(o)}" for o in unchecked]
    these = f"these {noun}s" if n > 1 else f"this {noun}"
    if tests:
        # a drafted test is checked against the results on file (a repeat of a final result), not
        # by the drug checks: "this order orders" and "an order coded with its RxNorm code" read
        # badly of it
        lines += ["", "This service checks drafted genomic tests against the results on file. It cannot tell "
                  f"whether {these} request{'' if n > 1 else 's'} or prohibit{'' if n > 1 else 's'} "
                  f"{'their tests' if n > 1 else 'its test'}, so {'they were' if n > 1 else 'it was'} not "
                  "checked: a drafted test is read when its doNotPerform is true or false (FHIR R4 "
                  "ServiceRequest.doNotPerform).",
                  "", f"_Knowledge: order_rules.yaml v{KNOWLEDGE.version}; hook {hook}._"]
    else:
        # a refusal, premedication, sequence or plan names its drug: what is unclear is which it orders
        verb = "name" if _all_unread_drug(unchecked) else "order"
        cannot = ((f"It cannot tell which drug {these} name" + ("" if n > 1 else "s") if verb == "name"
                   else "It cannot tell which drug is ordered") if not unclear else
                  f"It cannot tell whether {these} give{'' if n > 1 else 's'} or prohibit{'' if n > 1 else 's'} "
                  "the drug" if len(unclear) == n else
                  f"It cannot tell which drug {these} name, or whether {these} give or prohibit it")
        lines += ["", "This service checks drafted anticancer orders for HR+/HER2- metastatic breast cancer (label, "
                  f"biomarker and safety checks). {cannot}, so none of those checks was made: "
                  + ("an order coded with its RxNorm code or written with the drug's name is checked" if verb == "name"
                     else "an order whose code and text name only the drug it orders is checked")
                  + (", and doNotPerform is read as true or false (FHIR R4 MedicationRequest.doNotPerform)."
                     if unclear else "."),
                  "", f"_Knowledge: order_rules.yaml v{KNOWLEDGE.version}; hook {hook}._"]
    drafted = drafted_words(noun)
    short = (f"whether it orders or prohibits its {thing} is unclear" if unclear else unread_why(unchecked))
    summary = (f"{n} {drafted}s not checked: " + (why if unclear else unread_why(unchecked))
               if n > 1 else f"{upper_first(drafted)} not checked: {short} "
                             f"({unchecked[0].reference or 'no id'})")
    return [Card(summary=clip(summary), indicator="info", source=SUMMARY_SOURCE, detail="\n".join(lines))]
