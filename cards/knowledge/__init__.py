"""The regimen and testing knowledge files, loaded once at import.

`regimens.yaml` and `tests.yaml` beside this module are the one source of truth
for regimen eligibility, cautions, evidence and label text (cards/pathway.py
evaluates them; cards/orders.py may reuse them). Parsed into frozen dataclasses
so the hot path never touches YAML.

Public API (stable):
    KNOWLEDGE_VERSION, DRUGS, REGIMENS, REGIMENS_BY_TOPIC, TESTS, SOURCES,
    GLYCEMIC_WINDOW_DAYS, OFS_DRUG
    drug(name) -> DrugInfo
    regimens_with_drug(name) -> list[Regimen]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from cards.topics import REGIMEN_TOPICS, TESTING_TOPICS

HERE = Path(__file__).resolve().parent
REGIMENS_FILE = HERE / "regimens.yaml"
TESTS_FILE = HERE / "tests.yaml"


@dataclass(frozen=True)
class DrugInfo:
    name: str
    rxnorm: str | None
    drug_class: str
    source: str
    unverified: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RuleRef:
    """A named predicate from cards/rules.py with its parameters."""

    rule: str
    params: tuple[tuple[str, Any], ...] = ()
    text: str | None = None  # for exclusions: why it excludes

    def __post_init__(self) -> None:
        # Not dataclass fields (equality, hash and repr unchanged): the parameters as
        # keyword arguments and the memo key cards.rules.evaluate_rule files the result
        # under, computed once instead of at each of ~100 rule look-ups per call.
        kw = dict(self.params)
        object.__setattr__(self, "kw", kw)
        object.__setattr__(self, "memo_key", (self.rule, *sorted(kw.items())) if kw else self.rule)

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class Caution:
    id: str
    rule: RuleRef
    severity: str  # "warning" | "info"
    text: str
    source: str
    short: str | None = None  # a few words for the card summary
    # the summary words when only an unconfirmed condition raises it (Finding.unconfirmed_only;
    # required for the rules in cards.rules.UNCONFIRMED_RULES)
    short_unconfirmed: str | None = None
    # The caution says the drug should not be started (or re-started) for this patient:
    # a concrete regimen carrying it is never the recommended suggestion, and a regimen-level
    # one leaves no suggestion of the card recommended (cards/pathway.py _recommendable).
    never_recommended: bool = False
    # The drug a regimen-level caution is about (the Faslodex off-label note on fulvestrant +
    # CDK4/6 inhibitor is about fulvestrant): the order hooks name that drug, and order-select
    # raises it only when that drug is selected. Choice cautions know their drug already.
    about: str | None = None


@dataclass(frozen=True)
class Route:
    label: str
    rules: tuple[RuleRef, ...]
    tag: str | None = None  # card summary tag when this route fits (else the regimen's)
    # named on the card ("; also <label>") when an earlier route fits and this one does too
    # (regimens.yaml `also_named`; T-DXd label B, CR C.3 row 9)
    also_named: bool = False


@dataclass(frozen=True)
class Preference:
    rule: RuleRef
    order: tuple[str, ...]


@dataclass(frozen=True)
class AlsoAfterProgression:
    rule: RuleRef
    rank: int
    tag: str
    source: str


@dataclass(frozen=True)
class NamedBeforeItsPhase:
    """A regimen the pathway places in a later phase, named on the summary's "Not offered now"
    list while `when` holds (the patient's markers make it relevant: a germline BRCA2 at first
    line), with the reason the pathway holds it back (`text`, citing its CR row)."""

    when: tuple[RuleRef, ...]
    text: str
    source: str
    # rules of `when` the record may leave undecided and the regimen still named, its label's
    # state then "not established" (`text_undecided`: T-DXd label B with an adjuvant
    # chemotherapy end written without a day, where the order hooks say "label requirement not
    # confirmed"); empty: every `when` rule must hold
    undecided: frozenset[str] = frozenset()
    text_undecided: str = ""


@dataclass(frozen=True)
class Regimen:
    topic: str
    name: str
    brand: str
    choices: tuple[tuple[str, ...], ...]  # concrete regimens, preference order
    phases: tuple[str, ...]
    rank: dict[str, int]
    requires: tuple[RuleRef, ...]
    routes: tuple[Route, ...]
    excluded_if: tuple[RuleRef, ...]
    cautions: tuple[Caution, ...]
    choice_cautions: dict[str, tuple[Caution, ...]]
    choice_requires: dict[str, tuple[RuleRef, ...]]
    prefer_when: tuple[Preference, ...]
    rank_when: tuple[tuple[RuleRef, int, str | None], ...]  # (rule, rank, phase or None)
    exclude_choices_already_given: bool
    endocrine_based: bool
    # men get an LHRH agonist order with it although not every choice holds an AI
    # (regimens whose every choice holds one get it anyway: pathway.assess)
    lhrh_agonist_for_men: bool
    informational_only: bool
    unverified: str | None
    general_cautions: tuple[str, ...]
    label: dict[str, Any]
    evidence: dict[str, Any]
    seed_vs_label: str | None
    trials_search: str
    summary_tag: dict[str, str]  # phase -> few words for the card summary
    # a first-line regimen also assessed after progression while this rule holds, then
    # ranked and summarised as given (ai-cdk46i: initial endocrine-based therapy after
    # first-line chemotherapy)
    also_after_progression: AlsoAfterProgression | None = None
    named_before_its_phase: NamedBeforeItsPhase | None = None

    def tag(self, phase: str) -> str:
        return self.summary_tag.get(phase) or next(iter(self.summary_tag.values()))

    @property
    def drug_names(self) -> tuple[str, ...]:
        """Every ingredient that appears in any choice (first-seen order)."""
        seen: dict[str, None] = {}
        for choice in self.choices:
            for name in choice:
                seen.setdefault(name, None)
        return tuple(seen)

    @property
    def label_url(self) -> str:
        return self.label["url"]

    @property
    def label_title(self) -> str:
        """What label.url is ("FDA label: Truqap (2023 PDF)"): the card's source label."""
        return self.label.get("title") or f"Label: {self.brand}"

    @property
    def label_statement(self) -> str:
        """The card's words after "Label:". A label's own words go inside quotation marks,
        verbatim as clinical-reference.md Part B quotes them, cuts marked with "…" (label.text,
        or label.quotes naming whose label each is); a statement that is no quotation
        (label.statement: B.3b, B.14 quote no label text) is printed without them."""
        lab = self.label
        if "quotes" in lab:
            return "; ".join(f'{q["of"]}: "{q["text"]}"' for q in lab["quotes"])
        return f'"{lab["text"]}"' if "text" in lab else lab["statement"]

    @property
    def label_links(self) -> tuple[tuple[str, str], ...]:
        """(title, url) of label.url, then of every other label of the regimen (one link per label)."""
        return ((self.label_title, self.label_url),
                *((x["title"], x["url"]) for x in self.label.get("links") or ()))


@dataclass(frozen=True)
class TestOrder:
    text: str
    code: dict[str, str] | None = None
    when: str | None = None


@dataclass(frozen=True)
class TestDef:
    topic: str
    rule: str
    rank: int
    title: str
    why: str
    url: str
    source: str
    orders: tuple[TestOrder, ...]
    trials_search: str
    suggestion: str | None = None  # label of the single suggestion when it orders several tests
    url_title: str = ""  # what `url` is (the card's source label and link label)
    links: tuple[tuple[str, str], ...] = ()  # further (title, url) links
    # narrower needs of the same test: (key, title, why); TestNeed.variant names one
    variants: tuple[tuple[str, str, str], ...] = ()

    def variant(self, key: str | None) -> tuple[str, str]:
        """(title, why) of the variant `key`, or of the test itself (key None). An unknown key
        is a programming error: fail, do not fall back to the broader text."""
        if key is None:
            return self.title, self.why
        for k, title, why in self.variants:
            if k == key:
                return title, why
        raise KeyError(f"tests.yaml {self.title}: no variant {key!r} (known: {[k for k, _, _ in self.variants]})")

    @property
    def all_links(self) -> tuple[tuple[str, str], ...]:
        return ((self.url_title, self.url), *self.links)


def _rule(raw: Any, text_key: str = "text") -> RuleRef:
    if isinstance(raw, str):
        return RuleRef(rule=raw)
    params = tuple(
        sorted((k, v) for k, v in raw.items()
               if k not in ("rule", text_key, "severity", "source", "order", "rank", "short", "short_unconfirmed", "phase",
                            "never_recommended", "about"))
    )
    return RuleRef(rule=raw["rule"], params=params, text=raw.get(text_key))


def _caution(raw: dict, cid: str) -> Caution:
    return Caution(
        id=cid, rule=_rule(raw), severity=raw["severity"], text=" ".join(raw["text"].split()),
        source=raw["source"], short=raw.get("short"), short_unconfirmed=raw.get("short_unconfirmed"),
        never_recommended=bool(raw.get("never_recommended")), about=raw.get("about"),
    )


def _choice_caution(raw: dict, cid: str, shared: dict[str, Caution]) -> Caution:
    """A choice caution written out, or `{caution: <shared id>, <param>: ...}`: the shared
    caution (text, severity, source) with these rule parameters added, e.g. the drug of the
    choice; `{drug}` in its short text is filled in. Keeps the shared caution's id (the order
    hooks find it by id)."""
    if "caution" not in raw:
        return _caution(raw, cid)
    base = shared[raw["caution"]]
    extra = {k: v for k, v in raw.items() if k != "caution"}
    params = tuple(sorted({**dict(base.rule.params), **extra}.items()))
    ref = RuleRef(rule=base.rule.rule, params=params, text=base.rule.text)
    check_rule_params(f"regimens.yaml: {{caution: {raw['caution']}, ...}}", ref)  # before {drug} is filled in
    short = base.short.format(**extra) if base.short else None
    short_unconfirmed = base.short_unconfirmed.format(**extra) if base.short_unconfirmed else None
    return replace(base, rule=ref, short=short, short_unconfirmed=short_unconfirmed)


def _also_after_progression(raw: dict | None) -> AlsoAfterProgression | None:
    if not raw:
        return None
    rule = _rule({k: v for k, v in raw.items() if k != "tag"})  # _rule already leaves out rank and source
    return AlsoAfterProgression(rule=rule, rank=int(raw["rank"]), tag=raw["tag"], source=raw["source"])


def _named_before_its_phase(raw: dict | None) -> NamedBeforeItsPhase | None:
    if not raw:
        return None
    undecided = frozenset(raw.get("undecided") or ())
    when = tuple(_rule(x) for x in raw["when"])
    if not undecided <= {r.rule for r in when} or bool(undecided) != bool(raw.get("text_undecided")):
        raise ValueError("regimens.yaml: named_before_its_phase: `undecided` names rules of `when`, "
                         "with a `text_undecided`")
    return NamedBeforeItsPhase(when=when, text=" ".join(raw["text"].split()), source=raw["source"],
                               undecided=undecided, text_undecided=" ".join((raw.get("text_undecided") or "").split()))


def _date_str(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, (str, int)) else value


def load(regimens_file: Path = REGIMENS_FILE, tests_file: Path = TESTS_FILE) -> tuple[dict, dict, dict, list, dict, dict]:
    """Parse and check the knowledge files: (drugs, regimens_by_topic, tests, regimens, sources, meta)."""
    with open(regimens_file, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    with open(tests_file, encoding="utf-8") as fh:
        tdata = yaml.safe_load(fh)
    sources = dict(data["sources"])
    drugs = {
        name: DrugInfo(
            name=name, rxnorm=d.get("rxnorm"), drug_class=d["class"], source=d["source"],
            unverified=d.get("unverified"), note=d.get("note"),
        )
        for name, d in data["drugs"].items()
    }
    shared = {cid: _caution(c, cid) for cid, c in data["shared_cautions"].items()}
    regimens = []
    for r in data["regimens"]:
        choices = tuple(tuple(c) for c in r["choices"]) if "choices" in r else (tuple(r["drugs"]),)
        # a shared caution by name, or {caution: <name>, <param>: ...} with rule parameters
        cautions = [shared[c] if isinstance(c, str) else _choice_caution(c, c["caution"], shared)
                    for c in r.get("cautions", [])]
        cautions += [_caution(c, f"{r['topic']}-{i}") for i, c in enumerate(r.get("extra_cautions", []))]
        label = {k: (v if k in ("links", "quotes") else _date_str(v)) for k, v in r["label"].items()}
        for key in ("text", "statement"):
            if key in label:
                label[key] = " ".join(label[key].split())
        if "quotes" in label:
            label["quotes"] = [{"of": q["of"], "text": " ".join(q["text"].split())} for q in label["quotes"]]
        regimens.append(Regimen(
            topic=r["topic"],
            name=r["name"],
            brand=r.get("brand", ""),
            choices=choices,
            phases=tuple(r["phases"]),
            rank=dict(r["rank"]),
            requires=tuple(_rule(x) for x in r.get("requires", [])),
            routes=tuple(
                Route(label=x["label"], rules=tuple(_rule(y) for y in x["rules"]), tag=x.get("tag"),
                      also_named=bool(x.get("also_named")))
                for x in r.get("routes", [])
            ),
            excluded_if=tuple(_rule(x) for x in r.get("excluded_if", [])),
            cautions=tuple(cautions),
            choice_cautions={
                drug: tuple(_choice_caution(c, f"{r['topic']}-{drug}-{i}", shared) for i, c in enumerate(cs))
                for drug, cs in (r.get("choice_cautions") or {}).items()
            },
            choice_requires={
                drug: tuple(_rule(x) for x in rs)
                for drug, rs in (r.get("choice_requires") or {}).items()
            },
            prefer_when=tuple(
                Preference(rule=_rule(p), order=tuple(p["order"])) for p in r.get("prefer_when", [])
            ),
            rank_when=tuple((_rule(x), int(x["rank"]), x.get("phase")) for x in r.get("rank_when", [])),
            exclude_choices_already_given=bool(r.get("exclude_choices_already_given")),
            endocrine_based=bool(r.get("endocrine_based")),
            lhrh_agonist_for_men=bool(r.get("lhrh_agonist_for_men")),
            informational_only=bool(r.get("informational_only")),
            unverified=r.get("unverified"),
            general_cautions=tuple(" ".join(g.split()) for g in r.get("general_cautions", [])),
            label=label,
            evidence={k: _date_str(v) for k, v in r["evidence"].items()},
            seed_vs_label=" ".join(r["seed_vs_label"].split()) if r.get("seed_vs_label") else None,
            trials_search=r.get("trials_search", ""),
            summary_tag=(dict(r["summary_tag"]) if isinstance(r["summary_tag"], dict)
                         else {p: r["summary_tag"] for p in r["phases"]}),
            also_after_progression=_also_after_progression(r.get("also_after_progression")),
            named_before_its_phase=_named_before_its_phase(r.get("named_before_its_phase")),
        ))
    tests = {
        topic: TestDef(
            topic=topic, rule=t["rule"], rank=int(t["rank"]), title=t["title"],
            why=" ".join(t["why"].split()), url=t["url"], source=t["source"],
            orders=tuple(
                TestOrder(text=o["text"], code=o.get("code"), when=o.get("when")) for o in t["orders"]
            ),
            trials_search=t.get("trials_search", ""),
            suggestion=t.get("suggestion"),
            url_title=t["url_title"],
            links=tuple((x["title"], x["url"]) for x in t.get("links") or ()),
            variants=tuple((k, v["title"], " ".join(v["why"].split()))
                           for k, v in (t.get("variants") or {}).items()),
        )
        for topic, t in tdata["tests"].items()
    }
    meta = {
        "version": str(data["version"]),
        "tests_version": str(tdata["version"]),
        "ofs_drug": data["ovarian_suppression_drug"],
        "glycemic_window_days": int(tdata["glycemic_window_days"]),
    }
    _check(drugs, regimens, tests, sources)
    return drugs, {r.topic: r for r in regimens}, tests, regimens, sources, meta


def _rule_refs(r: Regimen) -> list[RuleRef]:
    """Every predicate reference of one regimen."""
    refs = [*r.requires, *r.excluded_if, *(c.rule for c in r.cautions)]
    refs += [rule for route in r.routes for rule in route.rules]
    refs += [c.rule for cs in r.choice_cautions.values() for c in cs]
    refs += [x for xs in r.choice_requires.values() for x in xs]
    refs += [p.rule for p in r.prefer_when] + [x for x, _, _ in r.rank_when]
    refs += [r.also_after_progression.rule] if r.also_after_progression else []
    refs += list(r.named_before_its_phase.when) if r.named_before_its_phase else []
    return refs


def check_rule_params(where: str, ref: RuleRef) -> None:
    """Fail at load on a rule reference the predicate would reject at request time: an
    unknown rule, or a key it takes no parameter for (a misspelt key, or a caution field
    such as `severity` added to a `{caution: id, ...}` entry, which cannot override it)."""
    import inspect

    from cards.rules import RULES  # imports only mappings.state: no cycle
    fn = RULES.get(ref.rule)
    if fn is None:
        raise ValueError(f"{where}: unknown rule {ref.rule}")
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = set(list(params)[2:])  # after (state, ctx)
    unknown = sorted(k for k, _ in ref.params if k not in accepted)
    if unknown:
        raise ValueError(f"{where}: rule {ref.rule} takes no parameter {', '.join(unknown)} "
                         f"(it takes: {', '.join(sorted(accepted)) or 'none'})")


def check_short_unconfirmed(where: str, rule_name: str, short: str | None, short_unconfirmed: str | None) -> None:
    """Fail at load when a caution on a rule that an unconfirmed condition alone can make
    true (cards.rules.UNCONFIRMED_RULES) has summary words but none for that case: its
    summary would state as history what the record only suspects."""
    from cards.rules import UNCONFIRMED_RULES  # imports only mappings.state: no cycle
    if short and rule_name in UNCONFIRMED_RULES and not short_unconfirmed:
        raise ValueError(f"{where}: rule {rule_name} can rest on an unconfirmed condition alone: "
                         "give `short_unconfirmed` beside `short`")
    if short_unconfirmed and rule_name not in UNCONFIRMED_RULES:
        raise ValueError(f"{where}: `short_unconfirmed` on rule {rule_name}, which never rests on an "
                         "unconfirmed condition alone (cards.rules.UNCONFIRMED_RULES)")


def _check(drugs: dict, regimens: list, tests: dict, sources: dict) -> None:
    """Fail at import on a broken knowledge file (unknown topic, drug or source)."""
    for r in regimens:
        if r.topic not in REGIMEN_TOPICS:
            raise ValueError(f"regimens.yaml: unknown topic {r.topic}")
        for name in r.drug_names:
            if name not in drugs:
                raise ValueError(f"regimens.yaml: {r.topic} uses unknown drug {name}")
        for c in r.cautions:
            if c.about is not None and c.about not in r.drug_names:
                raise ValueError(f"regimens.yaml: {r.topic} caution {c.id} is about {c.about}, not a drug of the regimen")
        for c in (*r.cautions, *(c for cs in r.choice_cautions.values() for c in cs)):
            check_short_unconfirmed(f"regimens.yaml: {r.topic} caution {c.id}", c.rule.rule, c.short, c.short_unconfirmed)
        also = [r.also_after_progression.source] if r.also_after_progression else []
        also += [r.named_before_its_phase.source] if r.named_before_its_phase else []
        choice = [c.source for cs in r.choice_cautions.values() for c in cs]
        for src in [r.label["source"], r.evidence["source"], *(c.source for c in r.cautions), *choice, *also]:
            if src not in sources:
                raise ValueError(f"regimens.yaml: {r.topic} cites unknown source {src}")
        for phase in r.phases:
            if phase not in ("first-line", "after-progression") or phase not in r.rank:
                raise ValueError(f"regimens.yaml: {r.topic} phase/rank mismatch {phase}")
        for ref in _rule_refs(r):
            check_rule_params(f"regimens.yaml: {r.topic}", ref)
    for topic, t in tests.items():
        if topic not in TESTING_TOPICS:
            raise ValueError(f"tests.yaml: unknown topic {topic}")
        if t.source not in sources:
            raise ValueError(f"tests.yaml: {topic} cites unknown source {t.source}")


DRUGS, REGIMENS_BY_TOPIC, TESTS, REGIMENS, SOURCES, _META = load()
KNOWLEDGE_VERSION: str = _META["version"]
TESTS_VERSION: str = _META["tests_version"]
OFS_DRUG: str = _META["ofs_drug"]
GLYCEMIC_WINDOW_DAYS: int = _META["glycemic_window_days"]

_BY_RXNORM = {d.rxnorm: d for d in DRUGS.values() if d.rxnorm}


def drug(name_or_rxnorm: str) -> DrugInfo | None:
    """Look a drug up by ingredient name (lower case) or RxNorm ingredient CUI."""
    return DRUGS.get(name_or_rxnorm.lower()) or _BY_RXNORM.get(name_or_rxnorm)


def regimens_with_drug(name_or_rxnorm: str) -> list[Regimen]:
    """Every regimen whose choices contain this ingredient."""
    info = drug(name_or_rxnorm)
    if info is None:
        return []
    return [r for r in REGIMENS if info.name in r.drug_names]


def all_rule_names() -> set[str]:
    """Every predicate name the knowledge files use (checked against cards/rules.py)."""
    return {ref.rule for r in REGIMENS for ref in _rule_refs(r)}
