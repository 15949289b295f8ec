"""Assessments -> CDS Hooks cards (patient-summary, regimen and testing cards).

Builds plain dicts (PrunedJSON: already as Card.to_json writes them) for the FHIR
resources the suggestions create (draft MedicationRequest / ServiceRequest); tests
validate them with fhir.resources.R4B, the hot path does not.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from itertools import chain
from typing import Any, Callable, Iterator, NamedTuple, TypeVar
from urllib.parse import quote, urlencode

from mappings.state import LINE_CLASSES, PatientState, Source

from cards.knowledge import DRUGS, KNOWLEDGE_VERSION, OFS_DRUG, SOURCES, DrugInfo, TestDef, TestOrder
from cards.models import (
    Card, Link, PrunedJSON, Source as CardSource, make_action, make_card, make_link, make_suggestion, new_uuids,
    pruned_json, topic_source,
)
from cards.pathway import PathwayStatus, RegimenAssessment
from cards.rules import (
    _ISO as ISO_TEXT, ENDOCRINE_CLASSES, Context, counted, diabetes_status_text, Finding, esr1_reference_of, evaluate_rule, fmt_date, iso,
    adjuvant_end_text, her2_status_text, ish_text, lab_text, latest_written, line_end_text, line_start_text,
    menopausal_basis_text, metastatic_when, ovarian_suppression_text, QTC_LIMIT_MS, _reaches, qtc_baseline_text,
    relapse_months_text, undecided_labs, undecided_need, written_on, variant_text, visceral_crisis_text,
)
from cards.testing import TestNeed, glycemic_due

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SERVICE_LABEL = "mbc-cds HR+/HER2- MBC pathway"
SERVICE_URL = "https://github.com/mbc-cds/mbc-cds"
TRIALS_URL = "https://clinicaltrials.gov/search"
MAX_SUMMARY = 139
MAX_CITED = 6
SUMMARY_SOURCE = topic_source("patient-summary", SERVICE_LABEL, SERVICE_URL)  # shared, never changed
T = TypeVar("T")


# --- small text helpers ----------------------------------------------------

_TRAIL = " ,;:-—(/+"


def upper_first(text: str) -> str:
    """text with its first character upper-cased and the rest kept as written (a sentence opening
    with a drug name: "Letrozole + ribociclib"; str.capitalize would lower-case "HER2", "ESR1")."""
    return text[:1].upper() + text[1:]


def clip(text: str, limit: int = MAX_SUMMARY) -> str:
    """text, or its longest prefix ending at a word boundary + "…" within limit characters
    (never cut mid-word: review clipped_summaries); a single over-long word is cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = head.rfind(" ")
    if text[limit - 1] != " " and cut > 0:  # the word at the limit is cut: drop it whole
        head = head[:cut]
    return head.rstrip(_TRAIL) + "…"


def clip_items(head: str, sections: list[tuple[str, list[str]]], limit: int = MAX_SUMMARY) -> str:
    """head + each section ("prefix" + ", ".join(items)) in priority order, as many whole
    items as fit; what does not fit is dropped (not truncated) and marked "…". The head is
    shortened at a word boundary only to keep the first item of the first section (the
    most important reason: a "do not start")."""
    sections = [(p, list(dict.fromkeys(i))) for p, i in sections if i]
    room = 3  # for a closing ", …" after the first item
    if sections and len(head) + len(sections[0][0]) + len(sections[0][1][0]) + room > limit:
        head = clip(head, limit - len(sections[0][0]) - len(sections[0][1][0]) - room)
    text = clip(head, limit)
    for n, (prefix, items) in enumerate(sections):
        more = n + 1 < len(sections)
        for i, item in enumerate(items):
            cand = text + (prefix if i == 0 else ", ") + item
            last = i + 1 == len(items) and not more
            if len(cand) + (0 if last else 3) <= limit:  # room left for a closing ", …"
                text = cand
                continue
            tail = (prefix + "…") if i == 0 else ", …"
            return text + tail if len(text + tail) <= limit else text + "…"
    return text


def _cited(s: Source) -> str:
    return f"{s.reference} ({fmt_date(s.date, s.date_last)})" if s.date else s.reference


def cite(sources) -> str:
    """' — Observation/a (2024-01-02), MedicationStatement/b' (deduplicated).

    The first MAX_CITED distinct references are shown (the first source of each);
    the rest are only counted.
    """
    if not sources:
        return ""
    if type(sources) is not list and type(sources) is not tuple:
        sources = list(sources)
    n = len(sources)
    if n == 1:
        s = sources[0]
        d = s.date
        if d and s.date_last is not None:  # written without a day: as written, not its first day
            return f" — {_cited(s)}"
        return f" — {s.reference} ({ISO_TEXT.get(d) or iso(d)})" if d else " — " + s.reference
    distinct = len({s.reference for s in sources})
    if distinct == n:  # no repeated reference (the usual case)
        head = sources[:MAX_CITED] if n > MAX_CITED else sources
    else:
        seen: set[str] = set()
        head = []
        for s in sources:
            ref = s.reference
            if ref not in seen:
                seen.add(ref)
                head.append(s)
                if len(head) == MAX_CITED:
                    break
    iso_get = ISO_TEXT.get  # iso() without the call when the date was formatted before
    shown = ", ".join([(f"{s.reference} ({iso_get(d) or iso(d)})" if s.date_last is None else _cited(s))
                       if (d := s.date) else s.reference for s in head])
    if distinct > MAX_CITED:
        return f" — {shown} +{distinct - MAX_CITED} more"
    return " — " + shown


def finding_cite(f: Finding) -> str:
    """cite(f.sources), once per Finding: rule results are memoised per call, so the
    same Finding is cited on several cards (kept in the frozen instance's __dict__)."""
    d = f.__dict__
    text = d.get("_cite")
    if text is None:
        text = d["_cite"] = cite(f.sources)
    return text


def fact(f: Finding) -> str:
    return f"- {f.text}{finding_cite(f)}"


def source_title(key: str) -> str:
    s = SOURCES.get(key) or {}
    return s.get("title", key)


@lru_cache(maxsize=256)
def _trials_url(term: str) -> str:
    query = urlencode({"cond": "HR-positive HER2-negative metastatic breast cancer", "term": term,
                       "aggFilters": "status:rec"}, quote_via=quote)
    return f"{TRIALS_URL}?{query}"


def trials_link(term: str) -> Link:
    return make_link(f"ClinicalTrials.gov: recruiting trials ({term})", _trials_url(term))


# --- FHIR resources the suggestions create --------------------------------

@lru_cache(maxsize=1024)
def _medication_parts(name: str, rxnorm: str | None, regimen_name: str) -> PrunedJSON:
    """What a draft MedicationRequest says of its drug and regimen, pruned (a drug without
    an RxNorm code gets a coding without "code"); made once per (drug, regimen name),
    shared by the resources made from it (PrunedJSON: never changed)."""
    return pruned_json({
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": rxnorm, "display": name}],
            "text": name,
        },
        "note": [{"text": f"Proposed by mbc-cds as part of {regimen_name}; dose and schedule per label."}],
    })


def medication_request(patient_id: str, drug: DrugInfo, regimen_name: str) -> PrunedJSON:
    return PrunedJSON(resourceType="MedicationRequest", status="draft", intent="proposal",
                      subject={"reference": f"Patient/{patient_id}"},
                      **_medication_parts(drug.name, drug.rxnorm, regimen_name))


def _order_code(order: TestOrder) -> PrunedJSON:
    """A draft ServiceRequest's "code" for an order of tests.yaml, pruned (made once per order:
    _made_once)."""
    code: dict = {"text": order.text}
    if order.code:
        code["coding"] = [dict(order.code)]
    return pruned_json({"code": code})


def service_request(patient_id: str, order: TestOrder, why: str) -> PrunedJSON:
    resource = PrunedJSON(resourceType="ServiceRequest", status="draft", intent="proposal",
                          subject={"reference": f"Patient/{patient_id}"}, **_made_once(order, _order_code))
    if why:  # an empty note is pruned away
        resource["note"] = [{"text": why}]
    return resource


# --- regimen cards ---------------------------------------------------------

def regimen_summary(a: RegimenAssessment, offered: list | None = None, why_not: list | None = None,
                    weighed: tuple | None = None) -> str:
    """why_not, weighed: a.not_recommended_because(offered), a.weighed_cautions(offered), when
    the caller has them already (regimen_card: its detail and indicator read them too)."""
    offered = a.offered_choices if offered is None else offered
    stops = [c.short for c in a.cautions if c.severity == "critical" and c.short]
    why_not = [h.short for _, h in (a.not_recommended_because(offered) if why_not is None else why_not) if h.short]
    # the cautions the indicator weighs (the regimen's and the recommended choice's), then
    # those of the other offered choices, named with their drug (RegimenAssessment.weighed_cautions)
    weighed, others = a.weighed_cautions(offered) if weighed is None else weighed
    shorts = [c.short for c in weighed if c.severity == "warning" and c.short and c.short not in why_not]
    other = [n for c in others if c.severity == "warning" and (n := c.named_short())
             and n not in why_not and n not in shorts]
    # the drug name, a "do not start", then why no order is recommended, then the cautions;
    # what does not fit is dropped whole, the other choices' cautions first (the detail lists all)
    return clip_items(f"{a.regimen.name}: {a.route_tag or a.regimen.tag(a.phase)}",
                      [(" — do not start: ", stops), (" — not recommended: ", why_not), (" — caution: ", shorts),
                       (", " if shorts else " — caution: ", other)])


class _Static(NamedTuple):
    """The parts of a regimen or testing card that depend on the knowledge only."""

    source: CardSource  # the card's source (label or guideline, with the topic)
    links: tuple[Link, ...]  # label / guideline links, then the trials search
    detail: tuple[str, ...] = ()  # regimen cards: evidence and label lines of the detail
    footer: str = ""  # regimen cards: the detail's last line


# What make(k) builds from a piece of knowledge k alone (a Regimen's or TestDef's _Static,
# a TestOrder's ServiceRequest code), made once per k and maker (and SOURCES / knowledge
# version): keyed by the object's id, the object kept with its parts so that another object
# reusing a freed id is never mistaken for it. What is made (Source and Link models, resource
# parts) is shared by every card made from that knowledge: nothing changes it once built
# (the cards are only read and serialised).
_MADE: dict[tuple[int, Callable], tuple] = {}


def _made_once(k, make: Callable[[Any], T]) -> T:
    key = (id(k), make)
    found = _MADE.get(key)
    if found is None or found[0] is not k or found[1] is not SOURCES or found[2] != KNOWLEDGE_VERSION:
        found = _MADE[key] = (k, SOURCES, KNOWLEDGE_VERSION, make(k))
    return found[3]


def _regimen_static(r) -> _Static:
    out: list[str] = []
    ev = r.evidence
    bits = [ev.get("trial", "")]
    if ev.get("pfs"):
        bits.append(f"PFS {ev['pfs']}")
    if ev.get("os"):
        bits.append(f"OS {ev['os']}")
    if ev.get("fda_approval_year"):
        bits.append(f"FDA approval {ev['fda_approval_year']}")
    out += ["", "**Evidence**: " + "; ".join(b for b in bits if b) + f" ({source_title(ev['source'])})."]
    lab = r.label
    approved = f" (approved {lab['approved']})" if lab.get("approved") else ""
    out += ["", f"**Label{approved}**: {r.label_statement}"]
    if lab.get("companion_diagnostic"):
        out.append(f"Companion diagnostic: {lab['companion_diagnostic']} (labels: FDA-approved test; "
                   "guidelines accept CLIA-validated assays).")
    if r.seed_vs_label:
        # the site's pathway tree (seed 002) is the "Seed" its text quotes; the order cards
        # name the same note the same way (orders._pathway_notes)
        out += ["", f"**Local pathway (seed) vs label**: {r.seed_vs_label}"]
    footer = f"_Knowledge: cards/knowledge/regimens.yaml v{KNOWLEDGE_VERSION}; {source_title(lab['source'])}._"
    return _Static(
        topic_source(r.topic, r.label_title, r.label_url),  # a label, or a guideline
        (*(make_link(title, url) for title, url in r.label_links), trials_link(r.trials_search)),
        tuple(out), footer)


def _testing_static(t: TestDef) -> _Static:
    return _Static(topic_source(t.topic, t.url_title, t.url),
                   (*(make_link(title, url) for title, url in t.all_links), trials_link(t.trials_search)))


def _choice_caution_lines(choice_cautions) -> list[str]:
    """One line per caution of the offered choices: a drug's caution that every choice holding
    the drug carries (palbociclib with letrozole, anastrozole and exemestane) is said once, under
    the choices it concerns; a text that already opens with its drug's name needs no label."""
    labels_of: dict[tuple[str, str], list[str]] = {}
    first_hit = {}
    for label, h in choice_cautions:
        key = (h.severity, _caution_line(h))
        labels_of.setdefault(key, []).append(label)
        first_hit.setdefault(key, h)
    lines = []
    for (severity, line), labels in labels_of.items():
        drug = first_hit[(severity, line)].drug
        names_its_drug = bool(drug) and line.lower().startswith(drug.lower())
        lead = "" if names_its_drug else ", ".join(labels) + ": "
        lines.append(f"{'⚠️ ' if severity == 'warning' else ''}{lead}{line}")
    return lines


def _caution_line(c) -> str:
    """'<text> (<source title>) Patient: <fact> — <resources>' (no patient part for an unconditional caution)."""
    text = f"{c.text} ({source_title(c.source)})"
    f = c.finding
    return f"{text} Patient: {f.text}{finding_cite(f)}" if f.text else text


def regimen_detail(a: RegimenAssessment, state: PatientState, position: int,
                   notes: list[str], offered: list | None = None, why_not: list | None = None) -> str:
    """why_not: a.not_recommended_because(offered), when the caller has it already."""
    offered = a.offered_choices if offered is None else offered
    r = a.regimen
    out = [f"**{r.name}** ({r.brand}) — option {position} for "
           f"{'first-line' if a.phase == 'first-line' else 'next-line'} therapy of HR+/HER2- metastatic breast cancer.",
           "", "**Why it would fit this patient, were it not for the stop below**" if a.critical
           else "**Why it fits this patient**"]
    out += [fact(f) for f in a.why()]
    if a.route:
        out.append(f"- Label route: {a.route}" + "".join(f"; also {r}" for r in a.also_routes))
    if why_not is None:
        why_not = a.not_recommended_because(offered)
    if why_not:
        # the orders stay on the card for the clinician, none marked recommended (review #2, #3, #7)
        out += ["", "**No order on this card is recommended for this patient now**"]
        for label, h in why_not:
            first = h.text.split(". ")[0].rstrip(".") + "."
            out.append(f"- {label + ': ' if label else ''}{first} Patient: {h.finding.text}{finding_cite(h.finding)}")
        if any(c.excluded for c in a.choices):
            out.append("- The other concrete regimens of this card are not offered to this patient "
                       "(see **Not known / not offered**).")
        out.append("- The orders stay on the card, none marked recommended; see the cautions below.")
    stop: list = []
    warn: list = []
    info: list = []
    for c in a.cautions:  # one pass, each list in the cautions' order
        (stop if c.severity == "critical" else warn if c.severity == "warning" else info).append(c)
    choice_cautions = [(c.label, h) for c in offered for h in c.cautions]
    if stop or warn or info or choice_cautions or r.general_cautions or a.needs_ofs:
        out += ["", "**Cautions for this patient**"]
        # each caution: its text, its knowledge source, and the patient fact that triggered it
        for c in stop:  # the order hooks' critical "do not start", same text
            out.append(f"- ⛔ Do not start ({c.short}): {_caution_line(c)}")
        for c in warn:
            out.append(f"- ⚠️ {_caution_line(c)}")
        for line in _choice_caution_lines(choice_cautions):
            out.append(f"- {line}")
        for c in info:
            out.append(f"- {_caution_line(c)}")
        for g in r.general_cautions:
            out.append(f"- Label/trial: {g}")
    static = _made_once(r, _regimen_static)
    out += static.detail
    unknown = _not_known(a, state, offered)
    if unknown:
        out += ["", "**Not known / not offered**"] + [f"- {u}" for u in unknown]
    if notes:
        out += ["", "**Other options**"] + [f"- {n}" for n in notes]
    out += ["", static.footer]
    return "\n".join(out)


def _not_known(a: RegimenAssessment, state: PatientState, offered: list | None = None) -> list[str]:
    offered = a.offered_choices if offered is None else offered
    out = []
    drug_infos = [d for c in offered for d in c.drugs]
    fa = state.factors
    dia = fa.diabetes
    # a lab written as a bound that leaves a threshold of this card's cautions undecided is,
    # for that threshold, as good as missing (rules.undecided_labs): said the same way
    names = {d.name for d in drug_infos}
    reg = a.regimen
    # the rules read lazily: undecided_labs returns at once unless a lab is a bound or not
    # final (the usual record), so the lists of rules were made for nothing on every card
    undecided = undecided_labs(state, chain((c.rule for c in reg.cautions), (
        c.rule for n, cs in reg.choice_cautions.items() if n in names for c in cs)))
    if any(d.drug_class == "pi3k-akt-mtor" for d in drug_infos):
        # only what is missing (a documented HbA1c is cited in the cautions)
        missing = [name for name, lab in (("HbA1c", dia.hba1c), ("fasting glucose", dia.fasting_glucose))
                   if lab is None]
        if missing:
            what = " and ".join(missing)
            out.append(f"{what[:1].upper() + what[1:]} not documented: needed before starting (see testing card).")
        # a result too old (or undated) to count is as good as missing: the labels test "before
        # initiating", C.2 safety overlays / C.3 row 14 ask for a recent one (the testing card orders it)
        stale = [due for due in glycemic_due(state, []) if due.lab is not None and not due.undecided]
        out += [f"{due.fact(state.as_of)}: a recent result is needed before starting (see testing card)."
                for due in stale]
        # an old result written as a bound: the recent one asked for above decides the threshold too
        out += [f"{undecided[k][1]}: {undecided_need(undecided[k][0])} before starting (see testing card)."
                for k in ("hba1c", "glucose") if k in undecided and k not in {due.when for due in stale}]
    if fa.qtc_ms is None and "ribociclib" in names:
        out.append("QTc not documented: ECG before ribociclib (start only if QTcF < 450 ms).")
    elif "qtc" in undecided and "ribociclib" in names:
        out.append(f"{undecided['qtc'][1]}: ECG before ribociclib (start only if QTcF < 450 ms).")
    elif ("ribociclib" in names and (not_baseline := qtc_baseline_text(state))
          and _reaches("qtc", fa.qtc_ms, QTC_LIMIT_MS, False) is False):
        # an old QTc below 450 ms is no baseline (rules.QTC_BASELINE_WINDOW_DAYS); one at or above
        # 450 ms says so in its caution (qtc_450_or_more)
        out.append(f"QTc {fa.qtc_ms.written} ms {not_baseline}{cite(fa.qtc_ms.sources)}.")
    if "ribociclib" in names:
        # C.2 safety overlays: congenital long QT and QT-prolonging drugs -> warning for
        # ribociclib. A documented long QT syndrome is a caution (long-qt-ribociclib); one only
        # suspected is named here. QT-prolonging drugs are not read: the reference gives no
        # sourced list of them, so say they are not checked.
        lqt = fa.long_qt
        if lqt.unconfirmed and not lqt.documented:
            out.append(f"Long QT syndrome recorded, not confirmed ({'; '.join(lqt.unconfirmed)})"
                       f"{cite(lqt.unconfirmed_sources)}: confirm or refute it before ribociclib "
                       "(C.2 safety overlays).")
        out.append("QT-prolonging co-medication not read from the record (long QT syndrome is read from "
                   "the Conditions): check before ribociclib (C.2 safety overlays).")
    if a.regimen.endocrine_based and fa.sex == "female" and fa.menopausal_basis == "age-rule":
        out.append("Menopausal status inferred from age (>= 60), not documented.")
    for c in a.choices:
        if c.excluded:
            # the failed requirement is named with its drug ("palbociclib: ..."), which a
            # one-drug choice already names: "Eribulin — eribulin: ..." said it twice
            why = c.excluded
            if len(c.names) == 1 and why.startswith(f"{c.names[0]}: "):
                why = why[len(c.names[0]) + 2:]
            out.append(f"Not offered: {c.label} — {why}.")
    return out


def regimen_card(a: RegimenAssessment, state: PatientState, position: int, notes: list[str],
                 ids: Iterator[str] | None = None) -> Card:
    """ids: UUIDs to use (cards.models.new_uuids, one read for the whole response); new ones when short."""
    pid = state.patient_id
    r = a.regimen
    offered = [c for c in a.choices if c.excluded is None]
    ofs = DRUGS[OFS_DRUG] if a.needs_ofs else None
    what_ofs = "LHRH agonist" if state.factors.sex == "male" else "ovarian suppression"
    if ids is None:
        ids = iter(new_uuids(len(offered) + 1))
    suggestions = []
    # a "do not start" regimen still carries its orders (the card contract), never
    # recommended, and each says what it overrides (review: no silent one-click order)
    stop = next((h.short or "do not start" for h in a.cautions if h.severity == "critical"), None)
    for c in offered:
        drugs = list(c.drugs) + ([ofs] if ofs and ofs not in c.drugs else [])
        label = c.label + (f" + {ofs.name} ({what_ofs})" if ofs else "")
        suggestions.append(make_suggestion(
            clip(f"Order {label} despite: {stop} (do not start)" if stop else f"Order {label}", 120),
            True if c.recommended else None,
            [
                make_action("create", f"Draft order: {d.name} (RxNorm {d.rxnorm})",
                            medication_request(pid, d, r.name))
                for d in drugs
            ],
            next(ids, None),
        ))
    static = _made_once(r, _regimen_static)
    # read by the summary and the indicator / the summary and the detail: made once
    weighed = a.weighed_cautions(offered)
    why_not = a.not_recommended_because(offered)
    return make_card(
        regimen_summary(a, offered, why_not, weighed),
        a.indicator_for(offered, weighed),  # with the offered choices computed once
        static.source,
        regimen_detail(a, state, position, notes, offered, why_not),
        suggestions,
        "at-most-one" if suggestions else None,
        list(static.links),
        next(ids, None),
    )


# --- testing cards ---------------------------------------------------------

def testing_card(need: TestNeed, state: PatientState, ids: Iterator[str] | None = None) -> Card:
    pid = state.patient_id
    t = need.test
    why = f"mbc-cds: {need.title}. " + "; ".join(f.text for f in need.reasons if f.value is not True)[:300]
    if need.alternatives:
        if ids is None:
            ids = iter(new_uuids(len(need.orders) + 1))
        suggestions = [
            make_suggestion(clip(f"Order: {o.text}", 120), True if i == need.recommended else None,
                            [make_action("create", f"Draft test order: {o.text}", service_request(pid, o, why))],
                            next(ids, None))
            for i, o in enumerate(need.orders)
        ]
        behavior = "at-most-one"
    else:
        if ids is None:
            ids = iter(new_uuids(2))
        suggestions = [make_suggestion(
            clip(t.suggestion if t.suggestion and len(need.orders) > 1
                 else "Order " + " + ".join(o.text for o in need.orders), 120),
            True if need.recommended is not None else None,
            [make_action("create", f"Draft test order: {o.text}", service_request(pid, o, why))
             for o in need.orders],
            next(ids, None),
        )]
        behavior = "at-most-one"
    lines = [f"**{need.title}**", "", "**Why now, for this patient**"]
    lines += [fact(f) for f in need.reasons if f.text]
    # a test needed "before" starting the regimens says so among its reasons ("Before starting
    # X, Y"): a second line naming them as waiting repeated it
    if need.waiting and need.verb != "before":
        lines.append(f"- Waiting on this result: {', '.join(need.waiting)}")
    if need.awaiting:
        lines += ["", need.awaiting]
    lines += ["", f"**Guideline**: {need.why}", "", "**Orders proposed**"]
    for o in need.orders:
        code = f" (LOINC {o.code['code']})" if o.code else " (no single orderable LOINC code; named by text)"
        lines.append(f"- {o.text}{code}")
    lines += ["", f"_Knowledge: cards/knowledge/tests.yaml; {source_title(t.source)}._"]
    # whole regimen names only; those that do not fit are dropped ("…"), the detail names all
    summary = clip_items(need.title, [(f" — {need.verb} ", need.waiting)])
    static = _made_once(t, _testing_static)
    return make_card(
        summary,
        need.indicator,
        static.source,
        "\n".join(lines),
        suggestions,
        behavior,
        list(static.links),
        next(ids, None),
    )


# --- patient summary -------------------------------------------------------

def _receptor_line(name: str, r) -> str:
    bits = [r.status]
    if r.percent is not None:
        bits.append(f"{r.percent:g} % cells")
    if r.low_positive:
        # ER-low is an ER category only (reference F #20); a PR of 1-10 % is "low positive"
        bits.append("ER-low (1-10 %)" if name == "ER" else "low positive (1-10 %)")
    if r.conflict:
        bits.append("results disagree, most recent used")
    return f"- {name}: {', '.join(bits)} ({_result_date(r.date, r.date_last, r.sources)}){cite(r.sources)}"


def _result_date(date, last, sources) -> str:
    """A receptor result's date; "no result read" when nothing was read at all: "ER: unknown
    (date unknown)" read as a result on record without its date."""
    return "no result read" if date is None and not sources else fmt_date(date, last)


_RES_WORDS = {"primary": "primary resistance", "secondary": "secondary resistance",
              # "before the metastatic diagnosis": a de novo patient may since have had endocrine
              # lines for metastatic disease (without a documented progression)
              "sensitive": "endocrine-sensitive",
              "de-novo": "de novo metastatic (no endocrine therapy before the metastatic diagnosis)",
              "unknown": "unknown"}


# Gap codes about the receptor results themselves (mappings: build.py, markers.py): the data
# step 0 of the pathway rests on (CR C.2 step 0: HR+ by ER/PR, HER2-negative by IHC/ISH)
_RECEPTOR_GAP_PREFIXES = ("er-", "pr-", "her2-", "receptor-")
# ... but not those grading a result step 0 reads the same either way: IHC 0 without the
# ultralow/null sub-class is HER2-negative, ER-low (1-10 %) is ER-positive (CR C.2 step 0, F #20)
# (nor ER-negative with PR positive: HR-positive either way; nor an earlier HER2 result named in
# the text of the one read, which decides)
_GRADING_GAPS = frozenset({"her2-zero-unspecified", "er-low", "er-negative-pr-positive", "her2-history-in-text"})
# Gaps about what data the service has at all (service/pipeline.py): a search the FHIR server
# reported incomplete, resources left out while gathering; a newer ER, PR or HER2 result may be
# among what is missing, and the most recent biopsy decides step 0 (CR C.2 step 0)
_DATA_GATHERING_GAPS = frozenset({"data-incomplete", "data-gathering"})
# Whether the disease is metastatic, step 0's other fact (CR C.2 step 0: metastatic/advanced
# disease; mappings: build.py, disease.py): no choice among HR+/HER2- regimens, so listed
_METASTATIC_STATUS_GAPS = frozenset({"metastatic-status-unknown", "metastatic-status-conflict",
                                     "metastasis-unconfirmed", "staging-conflict"})
# A gap naming more records than it cites: observation-status-missing cites the first 5 of the
# Observations it counts ("7 Observation(s) without a status ...", mappings/build.py), and a
# receptor result may be among those it does not cite
_CITES_SOME = frozenset({"observation-status-missing"})
_COUNT_OPENING = re.compile(r"(\d+) ")


def _outside_by_receptors(state: PatientState, status: PathwayStatus) -> bool:
    """Outside the pathway because of the receptors read (HER2-positive, or ER and PR negative:
    cards.pathway.pathway_status), for a living patient with breast cancer."""
    return (not status.in_pathway and status.receptors_known and not status.deceased
            and state.disease.breast_cancer == "yes"
            and (state.her2.category == "positive" or state.hormone_receptor_positive is False))


def _bears_on_step_0(g, state: PatientState) -> bool:
    """A gap about the ER, PR or HER2 results (by its code, or a receptor result among its
    sources, e.g. an observation-status-missing naming the HER2 observation), or one that may
    hide a receptor result (data not gathered in full, records counted but not all cited), or
    about whether the disease is metastatic."""
    if g.code in _GRADING_GAPS:
        return False
    if g.code.startswith(_RECEPTOR_GAP_PREFIXES) or g.code in _DATA_GATHERING_GAPS | _METASTATIC_STATUS_GAPS:
        return True
    counted = _COUNT_OPENING.match(g.message) if g.code in _CITES_SOME else None
    if counted and int(counted.group(1)) > len(g.sources):
        return True
    refs = {s.reference for r in (state.er, state.pr, state.her2) for s in r.sources}
    return any(s.reference in refs for s in g.sources)


def _endocrine_sensitivity(th) -> str:
    """The ABC4 category (C.1) and the facts it rests on: the adjuvant relapse timing and
    the first metastatic endocrine line; the mapper keeps the stronger resistance (review #16:
    "secondary" after a relapse > 12 months from adjuvant ET comes from the metastatic line)."""
    res = th.endocrine_resistance
    facts: list[tuple[str | None, str]] = []  # (category this fact gives on its own, text)
    m = th.months_from_adjuvant_endocrine_end_to_metastasis
    if th.on_adjuvant_endocrine_at_recurrence:
        early_et = [e for e in th.exposures if e.setting == "early" and any(
            d.drug_class in ENDOCRINE_CLASSES for d in e.drugs)]
        started = _earliest_text([(e.start, e.start_last) for e in early_et])
        facts.append((None, "relapse on adjuvant endocrine therapy"
                      + (f" started {started} (ABC4: in its first 2 years primary, later secondary)"
                         if started else "")))
    elif m is not None:
        own = "secondary" if m <= 12.0 else "sensitive"
        facts.append((own, f"relapse {relapse_months_text(th)} after completing adjuvant ET"
                           + (f" ({adjuvant_end_text(th)})" if th.adjuvant_endocrine_end else "")
                           + ((" (> 12 months)" if own == "sensitive" else " (within 12 months)") if own == res
                              else ": on its own endocrine-sensitive (> 12 months)" if own == "sensitive"
                              else ": on its own secondary resistance (within 12 months)")))
    first_et = next((ln for ln in th.metastatic_lines if ln.endocrine), None)
    # a line ended for a stated non-progression reason (progressed False) is no progression
    # fact: the class then comes from the adjuvant relapse (None: a hand-built line, as read)
    if first_et is not None and first_et.start and first_et.end and not first_et.active \
            and first_et.progressed is not False and res in ("primary", "secondary"):
        # the class mappings.therapy._resistance gave the line (a count of its own here
        # disagreed at the 6-month boundary and the fact was dropped); a disease-status
        # progression documented before the line's end decided it (added last, CR C.1)
        during = [s for s in th.endocrine_resistance_sources if s.display == "disease status: progression"
                  and s.date is not None and first_et.start < s.date < first_et.end]
        own = first_et.progression_class
        if during:
            facts.insert(0, (res, f"progression {'within 6 months' if res == 'primary' else 'after 6 months or more'} "
                                  f"of first-line metastatic endocrine therapy ({first_et.regimen_text}, "
                                  f"{line_start_text(first_et)} to {line_end_text(first_et)}; disease progression "
                                  f"recorded {fmt_date(during[-1].date, during[-1].date_last)}, the line given beyond it)"))
        elif own == res:
            facts.insert(0, (own, f"progression {'within 6 months' if own == 'primary' else 'after 6 months or more'} "
                                  f"of first-line metastatic endocrine therapy ({first_et.regimen_text}, "
                                  f"{line_start_text(first_et)} to {line_end_text(first_et)})"))
    elif first_et is not None and first_et.start and first_et.active and res in ("primary", "secondary"):
        # a progression documented on the first line still recorded as given
        # (mappings.therapy._first_progression_on_the_line adds its source last)
        shown = [s for s in th.endocrine_resistance_sources if s.display == "disease status: progression"]
        if shown:
            facts.insert(0, (res, f"progression {'within 6 months' if res == 'primary' else 'after 6 months or more'} "
                                  f"of first-line metastatic endocrine therapy ({first_et.regimen_text}, from "
                                  f"{line_start_text(first_et)}; disease progression recorded "
                                  f"{fmt_date(shown[-1].date, shown[-1].date_last)}, the line still recorded as given)"))
    if res == "sensitive" and not facts:
        facts.append(("sensitive", "no endocrine therapy before the metastatic diagnosis"))
    text = _RES_WORDS.get(res, res)
    if facts:
        text += ": " + "; ".join(t for _, t in facts)
    return text


def _earliest_text(dates: list[tuple[dt.date | None, dt.date | None]]) -> str | None:
    """The earliest of (first day, last day of a date without a day or None), as written:
    without a day only when every date on that first day has none."""
    firsts = [a for a, _ in dates if a]
    return written_on(min(firsts), dates) if firsts else None


def _no_end_text(first: dt.date | None, starts: list[tuple[dt.date | None, dt.date | None]]) -> str:
    """The end of a drug whose records give no end date: its last record's date when there are
    several (monthly refills, injections: "last record 2025-05-01, no end date"), not "date
    unknown" beside a line that reads the course as continuing."""
    latest = latest_written(starts)
    if latest is None or max(a for a, _ in starts if a) == first:
        return "date unknown"
    return f"last record {latest}, no end date"


def _gene_with_origin(gene: str, state: PatientState) -> str:
    """A BRCA1/2 variant named with its origin in the headline: only a germline one selects a
    PARP inhibitor, a somatic one 'should not be used for decision making' (CR C.2 step 1,
    B.6/B.7, ESO-ESMO ABC4), so "BRCA1 detected" alone read as a carrier on a somatic finding."""
    if gene not in ("BRCA1", "BRCA2"):
        return gene
    origins = {v.origin for v in state.biomarkers.results if v.gene == gene and v.actionable}
    if "germline" in origins:
        return f"germline {gene}"
    return f"somatic {gene}" if origins == {"somatic"} else f"{gene} (origin unknown)"


def summary_headline(state: PatientState, status: PathwayStatus, ctx: Context, gaps: int) -> str:
    if not status.in_pathway:
        head = status.reason.split(":")[0]
        return clip(f"Outside the HR+/HER2- MBC pathway: {head}; {counted(gaps, 'data gap')}" if status.receptors_known
                    or status.deceased or state.disease.breast_cancer != "yes" or state.disease.metastatic != "yes"
                    else f"{head}: testing needed before regimen advice; {counted(gaps, 'data gap')}")
    genes = sorted({_gene_with_origin(v.gene, state) for v in state.biomarkers.results if v.actionable})
    her2 = {"low": "HER2-low", "ultralow": "HER2-ultralow", "null": "HER2-null"}.get(state.her2.category, "HER2-")
    line = "first line" if ctx.lines == 0 else (f"on line {ctx.lines}" if ctx.current_line else f"after {counted(ctx.lines, 'line')}")
    # "no actionable variant" on a record without any gene result read as tested and negative;
    # a result not final yet decides nothing (FHIR Observation.status), so one with no final
    # result says which genes wait on a final report, not "no actionable variant"
    pending = sorted({v.gene for v in state.biomarkers.not_final})
    muts = (f"{', '.join(genes)} detected" if genes else
            "no actionable variant documented" if state.biomarkers.results
            else f"no final genomic result ({'/'.join(pending)} not final)" if pending
            else "no genomic result documented")
    return clip(f"HR+/{her2} MBC, {line}; {muts}; {counted(gaps, 'data gap')}")


class _EarlyCourse:
    """(Neo)adjuvant records of one drug (or combination) shown as one summary line.

    A long record holds a MedicationRequest per monthly refill and a
    MedicationAdministration per infusion: one line each buried the course. A record
    joins the drug's latest course when it starts within that course's recorded
    dates, or when the course and the record are both single-day administrations
    (a series, shown with its count, not as a continuous span). Anything else starts
    a line of its own: a record after the recorded end, and also a first
    prescription written before the recorded start, which the adjuvant end in
    mappings/therapy.py counts as bounded by the recorded end (that answers "when
    did it stop", this line shows the records as dated).
    """

    __slots__ = ("names", "start", "end", "sources", "records", "series", "starts", "ends")

    def __init__(self, e, names: tuple[str, ...]) -> None:
        self.names = " + ".join(names)
        self.start, self.end = e.start, e.end
        # (first day, last day of a date without a day): what the line shows, as written
        self.starts = [(e.start, e.start_last)]
        self.ends = [(e.end, e.end_last)]
        self.sources = list(e.sources)
        self.records = 1
        self.series = e.start is not None and e.start == e.end

    def takes(self, start: dt.date | None, end: dt.date | None) -> bool:
        if start is None:
            return False
        if self.series:
            return start == end or (self.start <= start <= self.end)  # type: ignore[operator]
        return self.start is not None and self.end is not None and self.start <= start <= self.end

    def add(self, e) -> None:
        self.records += 1
        self.sources += e.sources
        self.starts.append((e.start, e.start_last))
        self.ends.append((e.end, e.end_last))
        self.series = self.series and e.start == e.end
        if e.end is not None and e.end > self.end:  # type: ignore[operator]
            self.end = e.end

    def line(self) -> str:
        start, end = written_on(self.start, self.starts), latest_written(self.ends) or fmt_date(None)
        if self.records == 1:
            return f"- (Neo)adjuvant: {self.names}, {start} to {end}{cite(self.sources)}"
        if self.series:
            return f"- (Neo)adjuvant: {self.names}, {self.records} administrations from {start} to {end}{cite(self.sources)}"
        return (f"- (Neo)adjuvant: {self.names}, {start} to {end} ({self.records} records: the course and "
                f"{self.records - 1} dated within it){cite(self.sources)}")


def summary_card(state: PatientState, status: PathwayStatus, ctx: Context,
                 assessments: list[RegimenAssessment], needs: list[TestNeed], extra_gaps: list[Finding],
                 uuid: str | None = None) -> Card:
    d, th, fa = state.disease, state.therapy, state.factors
    out = [f"**What mbc-cds understood for Patient/{state.patient_id}** (as of {state.as_of.isoformat()})",
           "", f"**Pathway**: {status.reason}"]
    # disease
    out += ["", "**Disease**",
            f"- Breast cancer: {d.breast_cancer}"
            + (f", diagnosed {fmt_date(d.primary_diagnosis_date)}" if d.primary_diagnosis_date else "")
            + cite(d.primary_sources),
            f"- Metastatic: {d.metastatic}" + (f" {metastatic_when(d)}" if d.metastatic_date else "")
            + (" (de novo)" if d.de_novo_metastatic else "")
            + cite(d.metastatic_sources or d.non_metastatic_sources)]  # "no": the M0 / stage 0-III
    for site in d.sites:
        out.append(f"- Site: {site.site.replace('-', ' ')}{' (visceral)' if site.visceral else ''}, "  # "lymph node"
                   f"{fmt_date(site.date, site.date_last)}{cite(site.sources)}")
    if d.visceral_crisis_documented:  # current, or history once treated (rules.visceral_crisis_text)
        out.append(f"- {visceral_crisis_text(state)}{cite(d.visceral_crisis_sources)}")
    # receptors
    her2 = state.her2
    her2_bits = [her2_status_text(her2)] + ([f"IHC {her2.ihc_score}"] if her2.ihc_score else []) + \
        ([ish_text(her2.ish)] if her2.ish else []) + (["results disagree"] if her2.conflict else [])
    out += ["", "**Receptors**", _receptor_line("ER", state.er), _receptor_line("PR", state.pr),
            f"- HER2: {', '.join(her2_bits)} ({_result_date(her2.date, her2.date_last, her2.sources)}){cite(her2.sources)}"]
    if her2.category == "negative-unspecified":
        # the HER2 line above quotes a text naming two scores (rules.her2_status_text)
        out.append("- Which IHC score is the result the text does not say: not read as HER2-low."
                   if her2.scores_text else "- HER2 reported as 'negative' without an IHC score: not read as HER2-low.")
    # genomics
    out += ["", "**Genomic results**"]
    if state.biomarkers.results or state.biomarkers.not_final:
        out += [f"- {variant_text(state, ctx, v)}{cite(v.sources)}" for v in state.biomarkers.results]
        # not final yet (FHIR preliminary / registered / unknown): shown, read as no result
        out += [f"- {variant_text(state, ctx, v)}{cite(v.sources)}" for v in state.biomarkers.not_final]
        esr1 = state.biomarkers.for_gene("ESR1")  # read once (a pass over every result)
        if esr1:
            archival = any(v.archival_without_collection_date for v in esr1)
            current = {True: "yes", False: "no", None: "unknown (archival tissue without a collection date)"
                       if archival else "unknown (undated result)"}[state.biomarkers.esr1_current]
            ref = esr1_reference_of(state, ctx)
            if ref.documented:
                out.append(f"- ESR1 result current (it must follow {ref.text}): {current}{cite(ref.sources)}")
            elif state.biomarkers.esr1_current:
                out.append("- ESR1 result current: yes (no endocrine progression or line end documented before it)")
            else:
                out.append(f"- ESR1 result current: {current} (no endocrine progression or line end documented)")
    else:
        out.append("- None documented")
    # therapy
    out += ["", "**Therapy**"]
    if th.metastatic_lines:
        for ln in th.metastatic_lines:
            when = f"{line_start_text(ln)} to {'now (active)' if ln.active else line_end_text(ln)}"
            out.append(f"- Metastatic line {ln.number}: {ln.regimen_text}, {when}{cite(ln.sources)}")
    else:
        out.append(f"- Metastatic lines: {ctx.lines}")
    # one pass over the exposures (hundreds on a long record): the (neo)adjuvant
    # courses, and each ingredient's span for "Drugs on record" below
    # ingredient -> [earliest start, latest end, active, [(start, start_last)], [(end, end_last)]]
    spans: dict[str, list] = {}
    courses: list[_EarlyCourse] = []
    latest_course: dict[tuple[str, ...], _EarlyCourse] = {}  # drug names -> its latest course
    # GnRH-agonist records still "active" the mapper does not count as current (gap
    # ovarian-suppression-not-current, mappings/factors.py): not "to now" beside that gap
    not_current = {s.reference for s in fa.ovarian_suppression_not_current_sources}
    for e in th.exposures:
        drugs, start, end, active = e.drugs, e.start, e.end, e.active
        # only such a record's ovarian suppression is recorded active, not counted as current: the
        # regimen's drug it names beside it ("Letrozole + goserelin") is current by the record's
        # own status, as "Currently on" below reads it (rt52: it was "not counted as current" here
        # beside "Currently on letrozole")
        stale_record = bool(active and not_current and all(s.reference in not_current for s in e.sources))
        if e.setting == "early":
            key = tuple([x.name for x in drugs])
            course = latest_course.get(key)
            if course is not None and course.takes(start, end):
                course.add(e)
            else:
                latest_course[key] = course = _EarlyCourse(e, key)
                courses.append(course)
        for x in drugs:
            x_active = None if stale_record and x.drug_class == "ovarian-suppression" else active
            span = spans.get(x.name)
            if span is None:
                spans[x.name] = [start, end, x_active, [(start, e.start_last)], [(end, e.end_last)]]
                continue
            if start and (span[0] is None or start < span[0]):
                span[0] = start
            if end and (span[1] is None or end > span[1]):
                span[1] = end
            # True: some record current; None: only a recorded-active one not counted (above)
            span[2] = True if span[2] or x_active else (None if span[2] is None or x_active is None else False)
            span[3].append((start, e.start_last))
            span[4].append((end, e.end_last))
    out += [course.line() for course in courses]
    out.append(f"- Endocrine sensitivity: {_endocrine_sensitivity(th)}{cite(th.endocrine_resistance_sources)}")
    if spans:
        # a span per ingredient, not a course: letrozole given adjuvant and again in line 1
        # spans both with the gap between, which the lines above show
        out.append("- Drugs on record (first to last record): " + "; ".join(
            f"{name} ({written_on(a, starts)} to "
            f"{'now' if active else latest_written(ends) or _no_end_text(a, starts)}"
            f"{'; still recorded active, not counted as current: see the gaps' if active is None else ''})"
            for name, (a, b, active, starts, ends) in sorted(spans.items())))
    if ctx.current_line is not None:
        # the regimen's drugs (and ovarian suppression given with it), never a
        # metformin, a bone agent or another drug that is not cancer therapy; not an ovarian
        # suppression order the mapper does not count as ongoing (no dose recorded since:
        # gap ovarian-suppression-not-current, mappings/factors.py)
        stale = {s.reference for g in state.gaps if g.code == "ovarian-suppression-not-current" for s in g.sources}
        # (only the ovarian suppression of such a record: the regimen's drug it names beside it,
        # "Letrozole + goserelin (anastrozole stopped)", is current by the record's own status)
        current = sorted({d.name for e in th.exposures if e.active
                          for d in e.drugs if d.drug_class in LINE_CLASSES or (
                              d.drug_class == "ovarian-suppression"
                              and not (stale and all(s.reference in stale for s in e.sources)))})
        current = current or [ctx.current_line.regimen_text]
        out.append(f"- Currently on {' + '.join(current)} (metastatic line {ctx.current_line.number}): "
                   "the options below apply at progression.")
    # factors
    # a deceased patient's age is the age at death (mappings/factors.py)
    age = (f", age {fa.age}" + (" at death" if fa.deceased_date else "")) if fa.age is not None else ""
    out += ["", "**Patient factors**"]
    if fa.deceased:
        # a date sent but unreadable or implausible is dropped by the mapper and named in
        # its gap: "no date recorded" would contradict that gap
        undated = (" (date of death not usable: see the data gaps)"
                   if any(g.code == "deceased-date-unreadable" for g in state.gaps) else " (no date recorded)")
        out.append("- Deceased" + (f" {fmt_date(fa.deceased_date, fa.deceased_date_last)}" if fa.deceased_date
                                   else undated)
                   + cite(fa.deceased_sources))
    # a sex read from a sex extension (Patient.gender other / unknown gives none): said where from
    sex = f"{fa.sex} (read from {fa.sex_basis}; Patient.gender gives no sex)" if fa.sex_basis else fa.sex
    out += [f"- {sex}{age}; menopausal status {fa.menopausal_status}"
            + menopausal_basis_text(fa)
            + cite(fa.menopausal_sources)]
    if fa.ovarian_suppression:
        # "ongoing" only for a GnRH agonist: an oophorectomy is surgery done (CR A.3)
        out.append(f"- {ovarian_suppression_text(state)}{cite(fa.ovarian_suppression_sources)}")
    dia = fa.diabetes
    if dia.status != "none-documented" or dia.hba1c or dia.fasting_glucose or dia.unconfirmed:
        # in words and with units, as the regimen and order cards quote the same results
        bits = [diabetes_status_text(dia) if dia.status != "none-documented" or not dia.unconfirmed
                else f"diabetes recorded, not confirmed: {', '.join(dia.unconfirmed)}"]
        if dia.hba1c:
            bits.append(lab_text("HbA1c", dia.hba1c, "%"))
        if dia.fasting_glucose:
            bits.append(lab_text("fasting glucose", dia.fasting_glucose, "mg/dL"))
        srcs = list(dia.sources) + (dia.hba1c.sources if dia.hba1c else []) + \
            (dia.fasting_glucose.sources if dia.fasting_glucose else []) + list(dia.unconfirmed_sources)
        out.append(f"- {'; '.join(bits)}{cite(srcs)}")
    else:
        out.append("- No diabetes documented")
    if fa.lung.ild_history or fa.lung.unconfirmed:  # with grade, date and the drugs on at the time (as the cautions say)
        ild = evaluate_rule("ild_history", state, ctx)
        out.append(f"- {ild.text}{cite(ild.sources)}")
    if fa.ecog is not None:
        # a score not final is shown with its date and status, as lab_text shows a lab's
        # ("HbA1c 7.1 % (2024-06-10, status preliminary: not final)")
        not_final = ""
        if fa.ecog_status_not_final:
            src = fa.ecog_sources[0] if fa.ecog_sources else None
            when = f"{fmt_date(src.date, src.date_last)}, " if src and src.date else ""
            not_final = f" ({when}status {fa.ecog_status_not_final}: not final)"
        out.append(f"- ECOG {fa.ecog}{not_final}{cite(fa.ecog_sources)}")
    if fa.qtc_ms is not None:
        out.append(f"- {lab_text('QTc', fa.qtc_ms, 'ms')}{cite(fa.qtc_ms.sources)}")
    if fa.long_qt.documented:
        lqt = evaluate_rule("long_qt_syndrome", state, ctx)
        out.append(f"- {lqt.text}{cite(lqt.sources)}")
    if fa.prolonged_qt.documented:
        pqt = evaluate_rule("prolonged_qt_interval", state, ctx)
        out.append(f"- {pqt.text}{cite(fa.prolonged_qt.sources)}")
    # options
    if status.in_pathway:
        fit = [a for a in assessments if a.fits and not a.regimen.informational_only]
        out += ["", "**Options (ranked, one card each)**"]
        out += [f"{i}. {a.regimen.name}" for i, a in enumerate(fit, 1)] or ["- none fits the documented facts"]
        info = [a for a in assessments if a.fits and a.regimen.informational_only]
        for a in info:
            out.append(f"- Also: {a.regimen.name} — {a.regimen.unverified}")
        waiting = [a for a in assessments if a.status == "unknown"]
        notfit = [a for a in assessments if a.status == "not-fit"]
        # options of a later step that the patient's markers make relevant (PARP inhibitors for a
        # germline BRCA2 at first line, CR C.2 step 3): named with the reason they wait
        later = [a for a in assessments if a.status == "not-this-phase" and a.held_for_later is not None]
        if waiting or notfit or later:
            out += ["", "**Not offered now**"]
            # regimens held back by the same reason are named together, the reason said once
            # ("Elacestrant, Imlunestrant, Vepdegestrant: No actionable ESR1 alteration (...)")
            why_of: dict[str, list[str]] = {}
            for a in waiting:
                # one text once: two rules waiting on the same fact (T-DXd's two label
                # routes, both on the HER2 score) give the same text
                why_of.setdefault(f"waiting on — {'; '.join(dict.fromkeys(f.text for f in a.unknown))}",
                                  []).append(a.regimen.name)
            for a in notfit:
                # a course left open as a line that would meet the threshold read the other
                # way (rule unclear_course_decides_line_count): not offered, but said
                unclear = next((h.finding.text for h in a.cautions if h.rule == "unclear_course_decides_line_count"), "")
                why_of.setdefault(a.reasons_not[0].text + (f" — line count unclear: {unclear}" if unclear else ""),
                                  []).append(a.regimen.name)
            for a in later:
                why_of.setdefault(a.held_for_later.text, []).append(a.regimen.name)
            out += [f"- {', '.join(names)}: {why}" for why, names in why_of.items()]
    # gaps
    if _outside_by_receptors(state, status):
        # HER2-positive or HR-negative: the step-0 result rests on the receptor data (CR C.2
        # step 0; with the data that may hide a receptor result, and whether the disease is
        # metastatic: _bears_on_step_0); the HR+/HER2- pathway's gaps (genomic tests, lines, menopause,
        # labs) bear on a regimen choice that does not apply, so they are counted, not listed
        shown = [g for g in state.gaps if _bears_on_step_0(g, state)]
        gaps = [f"- {g.message}{cite(g.sources)}" for g in shown]
        hidden = len(state.gaps) - len(shown) + len(extra_gaps)
        out += ["", "**Data gaps that limit the advice**"] + (
            gaps or ["- none in the ER, PR and HER2 results that place the patient outside the pathway"])
        if hidden:
            why = status.reason.split(":")[0]  # "HER2-positive", "Triple-negative (ER-, PR-, HER2-)"
            why = why[:1].lower() + why[1:] if why[1:2].islower() else why
            out.append(f"- {counted(hidden, 'other gap')} not listed: they bear only on the choice among HR+/HER2- "
                       f"regimens, which does not apply to {why} disease.")
    else:
        gaps = [f"- {g.message}{cite(g.sources)}" for g in state.gaps] + [fact(f) for f in extra_gaps]
        out += ["", "**Data gaps that limit the advice**"] + (gaps or ["- none found"])
    if state.ignored:
        out.append(f"- {counted(len(state.ignored), 'resource')} not used: "
                   + "; ".join(g.message for g in state.ignored[:5]))
    counts = ", ".join(f"{n} {t}" for t, n in sorted(state.resource_counts.items())) or "none"
    out += ["", f"_Resources read: {counts}. Knowledge v{KNOWLEDGE_VERSION}._"]
    indicator = "warning" if (not status.in_pathway and not status.receptors_known and not status.deceased
                              and state.disease.breast_cancer == "yes" and state.disease.metastatic == "yes") else "info"
    return make_card(
        summary_headline(state, status, ctx, len(gaps)),
        indicator,
        SUMMARY_SOURCE,
        "\n".join(out),
        uuid=uuid,
    )
