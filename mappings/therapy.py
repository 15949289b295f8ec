"""Therapy history: medication resources -> exposures -> metastatic lines.

Drug resolution: RxNorm ingredient or product codes (drugs.yaml; packs expand to
every ingredient), else names/brands in coding displays and text (longest name
wins: "trastuzumab deruxtecan" is T-DXd, never trastuzumab). medicationReference
is followed to a contained or received Medication (code and ingredients; an ingredient
itemReference is read by the Substance or Medication it names, else its display).
Everolimus written as Zortress or a transplant strength is "everolimus
(transplant dose)", class other. A name written as the reason for the record's drug
or as the drug before it ("Ondansetron (for capecitabine-related nausea)", "premedication
for paclitaxel", "switched from letrozole": local_codes.yaml drug_mentions) is not a drug
given. A record whose text writes its drug as refused or never started ("Fulvestrant - patient
declined", "Letrozole - not started": drug_mentions refused_after / refused_before) is not
therapy given (ignored, not-given), as status "not-taken" would say; with two drugs named, which
was refused cannot be read (medication-unreadable). A record read but naming no pathway drug is skipped, unless its text names a drug
class, a trial drug or a name the service does not know with an anticancer INN stem
("Aromatase inhibitor", "Study drug", "Letrozol"): that one, like a record whose drug
cannot be read (no medication[x], a concept with neither text nor an RxNorm code, a
reference to a Medication not in the data or without code, codes and text naming
different drugs: concept_conflict), is named in the gap medication-unreadable (lines may
be missing). An RxNorm code is read under its URL or its OID (2.16.840.1.113883.6.88).

Setting: an exposure starting on/after (metastatic date - 30 days) is metastatic,
earlier is early (neo/adjuvant). A partial start ("2024", "2024-03") is the whole
year/month: when that range holds the boundary the setting is unknown (gap
therapy-setting-unknown), and so is a start that is metastatic on the last day of a
metastatic date written without a day (Disease.metastatic_date_latest) but not on its
first, or a start after the earliest an uncertain metastatic
date may be (Disease.metastatic_date_earliest, gap metastatic-date-conflict). With no metastatic date: all metastatic if de
novo stage IV, all early if the disease is documented non-metastatic, else unknown.
With a metastatic date but no start date: metastatic if still given (active at
as_of, after the metastatic date), else unknown (not in the lines; gaps
therapy-dates-missing and therapy-setting-unknown).

Lines (metastatic, anticancer classes only; ovarian suppression, bone agents,
antihyperglycemics and other drugs never count):
- exposures starting within 28 days of a line's start belong to that line;
- an exposure whose drugs are all already in the current line continues it;
- a drug is still given on a day when its record runs past it, or when it was
  recorded as single doses or refills (an administration, a MedicationRequest
  with no end) and another record of it follows that day (the next injection or
  refill: fulvestrant every 4 weeks, letrozole refilled monthly);
- a same-class substitution while another drug of the regimen continues
  (abemaciclib -> ribociclib with fulvestrant continued; letrozole ->
  anastrozole with palbociclib), or of a drug given alone whose record states a
  non-progression reason (letrozole stopped for arthralgia -> anastrozole),
  stays in the line (toxicity switch), unless progression is documented by then
  (a drug of the line stopped for progression, or a disease-status "worsening"
  after the line started), or the switch comes >= 6 months into the line with
  no stated non-progression reason;
- any other new drug starts a new line (regimen change = progression proxy; the line
  ended reads as progressed, TherapyLine.progressed, unless the latest record of every
  drug of it states a non-progression reason (diarrhoea, neutropenia, patient choice)
  and no progression is documented on it (a stop for progression, a disease-status
  "worsening" from after its start to 30 days after its end): then it is a line given,
  not a progression, for resistance, the CDK4/6i timing and the ESR1 reference);
- a targeted add-on (CDK4/6i, PI3K/AKT/mTOR, PARP) of a class new to the line,
  starting < 6 months into the line while every drug of the line (endocrine
  therapy among them) continues, joins the line unless progression is documented
  by then (a drug of the line stopped for progression, or a disease-status
  "worsening" after the line started; CR C.2: a new line starts after
  progression). With progression documented the still-running endocrine drug
  is carried into the new line (fulvestrant + added palbociclib). Drugs of the
  previous line still marked active and not carried into a new line are
  treated as superseded (their exposure becomes inactive).
- metastatic exposures without a start date join the last line (gap
  therapy-dates-missing); one without a start that ended before the metastatic
  date (30 days' tolerance) is early. A MedicationStatement's dateAsserted stands
  for a missing effective start only when it is not after the recorded end.
- a disease-status "worsening" dated the day a line starts led to that line: it is
  not a progression on it.

Endocrine resistance (ESO-ESMO ABC4, CR C.1; 12-month boundary inclusive, CR
C.3 row 1, calendar months):
- relapse on adjuvant ET: < 24 months of adjuvant ET -> primary, else secondary (counted
  from its first start; after a pause in it, when counting only the time on it gives the
  other class, unknown: gap adjuvant-endocrine-interrupted, ABC4 does not say);
- relapse <= 12.0 months after completing adjuvant ET -> secondary; > 12 -> sensitive;
  completion is the latest recorded end of the adjuvant ET records. A record without
  an end date (typically one MedicationRequest per monthly refill, authoredOn only)
  written on or before the latest recorded end of the same drug(s) is bounded by it
  (refills inside the course, or a first prescription written before its recorded
  start); any other adjuvant ET record without an end (written after that end, of a
  drug with no recorded end, undated) leaves completion unknown (gap
  adjuvant-endocrine-end-unknown, naming those records), and so does a partial
  end ("2019") whose first and last day give different relapse timings (except on
  it after its first 2 years vs within 12 months of its end: secondary either way,
  the months read 0 to the first day's count), or a
  metastatic date or adjuvant start without a day whose range gives different
  classes (the most and least resistant readings differ);
- first metastatic ET line ended by progression after < 6 months -> primary,
  >= 6 months -> secondary (the more resistant of the adjuvant and metastatic
  readings wins); a first ET line ended for a stated non-progression reason sets no
  class, and when a later ET line progressed, ABC4 does not class that progression
  (gap endocrine-resistance-unsettled): the adjuvant reading if any, else unknown
  (never de novo or endocrine-sensitive past an ET progression);
- de novo stage IV without ET progression -> de-novo; relapse with no
  adjuvant ET and no progression on metastatic ET -> sensitive (endocrine-naive),
  unless a medication record could not be read (gap medication-unreadable: it may
  have been endocrine therapy, adjuvant or a first line that progressed) or, for a
  relapse, an endocrine drug has no start date or setting (it may have been
  adjuvant): then unknown.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from mappings import _fast
from mappings import tables as T
from mappings.context import Ctx
from mappings.depots import depot_weeks, window_days
from mappings.disease import condition_onset
from mappings.fhir import (
    MONTH_NUMBERS, raw_cc_key, as_list, cc_as_written, cc_text, codings, contained_resource, date_last, do_not_perform, is_loinc,
    is_rxnorm, months_between, months_text, not_final_status, obs_date, parse_date, partial_last, period, printable_clip, ref_str,
    ref_type_and_id, status_code, text_of,
)
from mappings.fhir import bounded  # (lt1) a text read to fhir.TEXT_READ_LIMIT characters
from mappings.state import (
    ENDOCRINE_CLASSES, LINE_CLASSES, Disease, Drug, OtherLineReading, Source, TherapyHistory, TherapyLine,
    date_written, range_text,
)

REGIMEN_WINDOW_DAYS = 28
_SETTING_CLASSES = LINE_CLASSES | {"ovarian-suppression", "bone-agent"}
SETTING_TOLERANCE_DAYS = 30
# a completed administration reads as still given for this many days (a monthly injection such
# as fulvestrant q28 days, with two weeks' slack: a judgement, no source sets it); a longer pause
# between doses over a documented progression ends the line (_doses_paused_over_a_progression)
ADMIN_ACTIVE_DAYS = 42
ADMIN_ACTIVE_DAYS_OFS = 95
ADD_ON_CLASSES = frozenset({"cdk46i", "pi3k-akt-mtor", "parp-inhibitor"})
# drugs given until progression in the metastatic setting (CR B.2-B.10: CDK4/6 inhibitors, fulvestrant,
# aromatase inhibitors, labelled for advanced disease with no fixed length; CR C.2 step 1: a line ends
# at progression or a new regimen): a completion with a length written of them on a record of a
# metastatic line ("Completed 6 months of palbociclib") is a milestone, not an end. Tamoxifen is not
# here: "Completed 5 years of tamoxifen" is the adjuvant course's wording (read as ended, as before)
COMPLETION_MILESTONE_CLASSES = frozenset({"cdk46i", "fulvestrant", "aromatase-inhibitor"})
_SKIP_STATUS = {
    "entered-in-error": "entered-in-error",
    "not-taken": "not-given",
    "not-done": "not-given",
    "cancelled": "not-given",
    "draft": "not-given",
    "intended": "not-given",
}
# Statuses of a therapy still under way (FHIR R4 medication-statement-status and
# medicationrequest-status): "on-hold" is temporarily halted and expected to continue
# later (held for neutropenia, for surgery): the line goes on, it has not ended
_ONGOING_STATEMENT = frozenset({"active", "intended", "on-hold"})
_ONGOING_REQUEST = frozenset({"active", "on-hold"})
# FHIR R4 medicationrequest-intent: a proposal, a plan or an option (one of the choices of a
# RequestGroup, e.g. an order set) is not an order; nothing was given on it
_NOT_AN_ORDER_INTENTS = frozenset({"proposal", "plan", "option"})


class _Med:
    """One resolved medication concept: its drugs and what the history needs of them,
    computed once per distinct concept (EHRs repeat the same concept on every refill)."""

    __slots__ = ("drugs", "label", "names", "display", "models", "setting", "endocrine", "line",
                 "line_names", "line_classes", "classes", "chemo", "ofs", "nsai", "taxane", "anthracycline",
                 "also_unread", "also_unread_classes", "named_not_given", "endocrine_sequence", "stop_written",
                 "written_stopped", "completed_on", "span_end", "completion_milestone", "switch",
                 "switched_at_progression", "switched_for", "switch_past_written",
                 "stop_object_unclear")

    def __init__(self, drugs: tuple[T.DrugInfo, ...], label: str) -> None:
        self.drugs = drugs
        self.label = label
        self.names = " + ".join(d.name for d in drugs)
        self.display = f"{label[:80]} -> {self.names}" if label else None
        self.models = tuple(to_drug(d) for d in drugs)
        classes = [d.drug_class for d in drugs]
        self.classes = frozenset(classes)
        self.setting = any(c in _SETTING_CLASSES for c in classes)
        self.endocrine = any(c in ENDOCRINE_CLASSES for c in classes)
        self.line = any(c in LINE_CLASSES for c in classes)
        self.line_names = frozenset(d.name for d in drugs if d.drug_class in LINE_CLASSES)
        self.line_classes = frozenset(c for c in classes if c in LINE_CLASSES)
        self.chemo = "chemotherapy" in classes
        self.ofs = "ovarian-suppression" in classes
        self.nsai = any(d.nsai for d in drugs)
        self.taxane = any(d.taxane for d in drugs)
        self.anthracycline = any(d.anthracycline for d in drugs)
        # a class of drug or an abbreviated drug name the concept's text also names, joined to
        # its drug ("Palbociclib + AI", "Letrozole + Palbo": class_beside_drug_classes), in the words of
        # the gap medication-unreadable; else None; and the DrugClass values those words name
        self.also_unread: str | None = None
        self.also_unread_classes: frozenset[str] = frozenset()
        # (the text quoted as written, the drug names it writes as not given by this record:
        # the drug before it, "Fulvestrant after progression on letrozole + palbociclib"; and the
        # drug it was switched to, "Letrozole (switched to anastrozole)"): named in the gap
        # medication-unreadable when no record of them is read (_not_given_without_a_record)
        self.named_not_given: tuple[str, frozenset[str], frozenset[str]] | None = None
        # (the text quoted as written, the endocrine drugs before and after a sequence word) when
        # the text writes endocrine therapy of another class after its first ("Letrozole then
        # fulvestrant": _endocrine_sequence): asked as a line count (gap line-count-unclear)
        self.endocrine_sequence: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None
        # why the text writes its drug as stopped after its name ("Tamoxifen, stopped after 3 weeks
        # (intolerance)": _stop_reason_of_text of the words from the stop on; local_codes.yaml
        # drug_mentions stopped_after), read when the record states no stop reason of its own
        self.stop_written: str | None = None
        # the text writes its drug as stopped ("Tamoxifen (stopped)": drug_mentions stopped_after)
        # or as past use ("Hx tamoxifen": past_use_opening / past_use_closing)
        self.written_stopped = False
        # the first and last day the completion its text writes can mean ("Anastrozole, course
        # completed 2019": drug_mentions completed_closing), when it writes one
        self.completed_on: tuple[dt.date, dt.date] | None = None
        # the first and last day the end of a span of dates closing its text can mean, no completion
        # word written ("Tamoxifen 2015-2020": drug_mentions span_closing): an end once it is past
        # (read_exposures), the drug's status read before it
        self.span_end: tuple[dt.date, dt.date] | None = None
        # that completion writes a length of use and no date, of drugs all given until progression
        # in the metastatic setting ("Completed 6 months of palbociclib"): on a metastatic line a
        # milestone, not an end, once reached (read_exposures; COMPLETION_MILESTONE_CLASSES): the
        # shortest number of days the longest length written can mean; None when no such completion
        self.completion_milestone: int | None = None
        # an endocrine switch its text writes ("Tamoxifen stopped, now letrozole": _written_switch):
        # the _Med of the drug taken now and the _Med of the drug before it (written as stopped, its
        # stop reason as written); read as two uses on a record still under way (read_exposures)
        self.switch: tuple[_Med, _Med] | None = None
        # the drug of such a switch taken now, its text writing the one before it as stopped for
        # progression ("Letrozole stopped for progression, now fulvestrant"): a new line (CR C.2
        # step 1) whose start is not written, as the line-count question says
        self.switched_at_progression = False
        # the stop reason written of the drug before it (_stop_reason_of_text: "unclear" for a
        # progression only suspected), None when none is written
        self.switched_for: str | None = None
        # a CDK4/6 inhibitor switch whose text writes the endocrine partner in the regimen stopped too
        # ("Letrozole + palbociclib stopped for progression, now letrozole + ribociclib"): the _Med of
        # that whole regimen, the use before the switch of a record begun before the metastatic
        # setting (read_exposures: the adjuvant course as written); None otherwise
        self.switch_past_written: _Med | None = None
        # why whose stop its text writes cannot be read, when a stop word after its drugs is followed by
        # a word that neither writes their stop nor names something else stopped ("Letrozole; stopped
        # foo": _stop_object; tx13); None otherwise
        self.stop_object_unclear: str | None = None


@dataclass(slots=True)
class _Exp:
    drugs: list[T.DrugInfo]
    start: dt.date | None
    end: dt.date | None
    active: bool
    src: Source
    setting: str = "unknown"
    superseded: bool = False
    status: str | None = None
    # progression | other (toxicity, completed, choice) | unclear (a progression written as a
    # suspicion: _stop_reason_of_text) | None when not stated
    stop: str | None = None
    med: _Med | None = field(default=None, compare=False, repr=False)
    # (start or date.min, source reference): the order of exposures and lines
    order: tuple[dt.date, str] | None = field(default=None, compare=False, repr=False)
    # a partial start ("2024", "2024-03"): the last day it can mean (start is the first); None for a full date
    start_last: dt.date | None = field(default=None, compare=False, repr=False)
    # the same for a partial end (end is its first day)
    end_last: dt.date | None = field(default=None, compare=False, repr=False)
    # its stop reason / note says it ended as planned (maintenance, planned cycles completed):
    # local_codes.yaml stop_reasons planned_stop_patterns (_planned_switch)
    planned: bool = field(default=False, compare=False, repr=False)
    # a statement ended by its status ('stopped' / 'completed') with no end date: the day it
    # was asserted (FHIR R4 MedicationStatement.dateAsserted), by which it had ended
    ended_by: dt.date | None = field(default=None, compare=False, repr=False)
    # the drug taken after a drug stopped for progression on a record begun in the early setting,
    # its start not written (_switched_at_progression_since_the_recurrence): a metastatic line
    # begun at that progression, before any dated line (_build_lines)
    after_early_progression: bool = field(default=False, compare=False, repr=False)


class _Line:
    __slots__ = ("exps", "carried", "start", "_names", "_classes")

    def __init__(self, exps: list[_Exp], start: dt.date | None) -> None:
        self.exps: list[_Exp] = []
        self.carried: list[_Exp] = []
        self.start = start
        self._names: set[str] = set()
        self._classes: set[str] = set()
        self.add(exps)

    def add(self, group: list[_Exp]) -> None:
        self.exps.extend(group)
        for e in group:
            m = e.med
            if m is None:
                for d in e.drugs:
                    if d.drug_class in LINE_CLASSES:
                        self._names.add(d.name)
                        self._classes.add(d.drug_class)
            elif m.line:
                self._names |= m.line_names
                self._classes |= m.line_classes

    def carry(self, e: _Exp) -> None:
        self.carried.append(e)
        self._names.update(d.name for d in e.drugs if d.drug_class in LINE_CLASSES)

    def drop_carried(self, classes: set[str]) -> None:
        keep = [c for c in self.carried if not ({d.drug_class for d in c.drugs} & classes)]
        if len(keep) != len(self.carried):
            self.carried = keep
            self._names = {d.name for e in self.exps + self.carried for d in e.drugs if d.drug_class in LINE_CLASSES}

    def names(self) -> set[str]:
        return self._names

    def classes(self) -> set[str]:
        return self._classes


# --- drug resolution -------------------------------------------------------------


def drugs_from_cc(cc: Any) -> list[T.DrugInfo]:
    found: list[T.DrugInfo] = []
    for system, code, _ in codings(cc):
        if code and (is_rxnorm(system) or not system):
            for info in T.DRUG_BY_CODE.get(code, ()):
                if info not in found:
                    found.append(info)
    if not found:
        found = drugs_from_text(cc_text(cc))
    elif any(d.name == "trastuzumab" for d in found):
        # a plain-trastuzumab code whose text names an ADC (T-DXd, T-DM1) is mis-coded:
        # the more specific text wins, so T-DXd is never read as trastuzumab
        named = [d for d in drugs_from_text(cc_text(cc)) if d.name != "trastuzumab" and "trastuzumab" in d.name]
        if named:
            found = [d for d in found if d.name != "trastuzumab"] + [d for d in named if d not in found]
    elif any(d.name == "everolimus" for d in found):
        if T.TRANSPLANT_EVEROLIMUS_TEXT.search(cc_text(cc)):
            found = [T.TRANSPLANT_EVEROLIMUS if d.name == "everolimus" else d for d in found]
    return found


def drugs_from_text(text: str) -> list[T.DrugInfo]:
    """The drugs a medication text names as given: the drug it starts with, and the others
    unless written as the reason for the record's drug, as the drug before it or as the drug it
    was switched to ("Ondansetron (for capecitabine-related nausea)", "premedication for
    paclitaxel", "switched from letrozole", "switched to anastrozole": _named_as_given,
    drugs_switched_to)."""
    found: list[T.DrugInfo] = []
    for info, switched_to in _drug_mentions(text):
        if switched_to is None and info not in found:
            found.append(info)
    if any(d.name == "everolimus" for d in found) and T.TRANSPLANT_EVEROLIMUS_TEXT.search(text):
        found = [T.TRANSPLANT_EVEROLIMUS if d.name == "everolimus" else d for d in found]
    return found


def drugs_switched_to(text: str) -> list[T.DrugInfo]:
    """The drugs a medication text names as the ones its drug was switched to ("Letrozole
    (switched to anastrozole)": local_codes.yaml drug_mentions switched_to_before), not named
    as given too."""
    given = {info.name for info, switched_to in _drug_mentions(text) if switched_to is None}
    found: list[T.DrugInfo] = []
    for info, switched_to in _drug_mentions(text):
        if switched_to and info.name not in given and info not in found:
            found.append(info)
    return found


@lru_cache(maxsize=4096)
def _drug_mentions(text: str) -> tuple[tuple[T.DrugInfo, bool | None], ...]:
    """Each drug name of a text with how it is named: None as given; True as the drug the
    record's drug was switched to; False as not given otherwise (the reason for it, the drug
    before it). Cached by text (EHRs repeat the same few)."""
    if not text:
        return ()
    out: list[tuple[T.DrugInfo, bool | None]] = []
    not_given_end = -1  # where the last name read as not given ends
    not_given_as: bool | None = None  # how that name was read
    # plan words closing a last clause of their own: its drugs are planned, not given
    # ("Letrozole + palbociclib; fulvestrant to start at progression"; a text that is one
    # planned clause is a gap: _planned_record)
    planned_from = _planned_clause_start(text.lower())
    names = _named_drugs(text)
    if planned_from is not None and names and planned_from <= names[0][0].start():
        # the plan is the whole text's, one clause ("Letrozole + ribociclib - awaiting OFS"): the
        # record's own drugs, all of them (a record is a gap, _planned_record; a draft orders them)
        planned_from = None
    # the record's drug written with a condition for giving it: a drug named inside the
    # condition is not given by the record ("Exemestane if letrozole not tolerated")
    condition_from = _conditional_plan(text.lower())
    if condition_from is not None:
        planned_from = condition_from if planned_from is None else min(planned_from, condition_from)
    # past-use words alone before the first name of one regimen ("Previously letrozole",
    # "Formerly on letrozole + palbociclib"): its own drug(s), used before (local_codes.yaml
    # drug_mentions past_use_opening, read by _read_class_beside_drug), not the time of another
    # drug, as "previously" before a later name is (not_given_before: "Fulvestrant, previously letrozole")
    own_past_use = bool(names) and bool(T.DRUG_PAST_USE_OPENING.match(text[:names[0][0].start()].lower())) \
        and (len(names) == 1 or _one_regimen(text.lower(), list(names)))
    not_taken = _not_taken_clause_names(text.lower())
    for i, (m, info) in enumerate(names):
        if i in not_taken and len(not_taken) < len(names):
            # "No palbociclib; letrozole 2.5 mg": the drug of a not-taken clause beside a drug
            # given is not given (all of them not taken: a stop written, _read_class_beside_drug)
            out.append((info, False))
            continue
        if i + 1 < len(names) and _hedged_in_regimen(text[m.end():names[i + 1][0].start()]):
            # "Letrozole (likely) + palbociclib", "Letrozole (?) + palbociclib": a hedge closing
            # this drug's own clause inside the regimen is this drug's alone, as "Letrozole +
            # possible palbociclib" is palbociclib's: not written as given, the others as before
            out.append((info, False))
            continue
        # a name at the start of the text (after qualifiers only) is the record's own drug,
        # whatever the note after it says ("Capecitabine hand-foot syndrome"; premedication words
        # alone after it make the record unreadable: _premedication_record); one joined to a
        # name not given shares its context ("after fulvestrant + palbociclib", "switched to
        # fulvestrant + ribociclib")
        if T.LEADING_QUALIFIERS.match(text[:m.start()]) or _hedge_of_a_drug_fact(text, m) \
                or (m is names[0][0] and own_past_use):
            out.append((info, None))
            continue
        if not_given_end >= 0 and T.DRUG_NAMES_JOINED.match(text[not_given_end:m.start()]):
            as_ = not_given_as
        elif T.DRUG_SWITCHED_TO_BEFORE.search(text[max(0, m.start() - NOT_GIVEN_BEFORE_CHARS):m.start()]):
            as_ = True
        elif T.DRUG_OPTIONAL_BEFORE.search(text[max(0, m.start() - NOT_GIVEN_BEFORE_CHARS):m.start()]):
            as_ = False  # "Fulvestrant ± palbociclib": optional, not written as given
        elif _alternative_cdk46i(text, names, i):
            # "Ribociclib or palbociclib + letrozole": palbociclib the alternative, not given; the
            # names joined to it after are the regimen's (letrozole given), not the alternative's
            out.append((info, False))
            continue
        elif planned_from is not None and m.start() >= planned_from:
            as_ = False
        elif condition_from is not None:
            as_ = None  # a drug of the regimen the condition follows: the record's (a plan: _planned_record)
        else:
            as_ = None if _named_as_given(text, m.start(), m.end()) else False
        if as_ is not None:
            not_given_end, not_given_as = m.end(), as_
        out.append((info, as_))
    return tuple(out)


def _alternative_cdk46i(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...], i: int) -> bool:
    """Name i is a CDK4/6 inhibitor joined by "or" to another one named right before it ("Letrozole
    + ribociclib or palbociclib"): its alternative, one CDK4/6 inhibitor being given at a time (CR
    B.9, B.10; local_codes.yaml drug_mentions alternative_between). Not after a refusal ("declined
    palbociclib or ribociclib": perhaps both refused, _refusal_or_another)."""
    if not i:
        return False
    (prev, before), (m, info) = names[i - 1], names[i]
    return before.drug_class == info.drug_class == "cdk46i" and before.name != info.name \
        and T.DRUG_ALTERNATIVE_BETWEEN.match(text[prev.end():m.start()]) is not None \
        and info.name not in _or_joined_to_a_refusal(text.lower())


# the clause separators before a drug name that may open a not-taken clause of its own
# (and "without" itself, a not_taken_opening word: "Letrozole without palbociclib" as "Letrozole, no
# palbociclib"; rt57: read as both taken. Not "with or without", a choice: _or_joined readings);
# an opening bracket or a spaced dash too ("Letrozole (no palbociclib)", "Letrozole - no palbociclib":
# tx3, read as both taken, as "Letrozole, no palbociclib" was before fx1)
# A colon closes the endocrine drug's clause as a comma does ("Letrozole: not for palbociclib",
# "Letrozole: no palbociclib": tx5, read as both taken)
_NOT_TAKEN_CLAUSE_BREAK = re.compile(r"[;:,.(\[–—]|\s-\s|(?<!\bor )(?=\bwithout\b)", re.I)
# ... and the not_taken_opening words that write a stop of a drug once given ("Stopped palbociclib;
# letrozole continues": palbociclib part of the line, a stop within it): not read as not given
_STOP_OF_A_DRUG_GIVEN = re.compile(r"^\W*(?:off|no\s+longer|stopped|discontinued|ceased)\b", re.I)
# ... and a bare "not" opening a clause after a break ("Letrozole, not palbociclib", "Letrozole (not
# palbociclib - cost)": tx4, read as both taken): the drug set against the one given, not taken, as
# "Letrozole, no palbociclib" reads (FHIR R4 MedicationStatement.status not-taken); so "not yet" / "not
# now" there ("Letrozole, not yet palbociclib": not started) and "not for" ("Letrozole: not for
# palbociclib": not a candidate for it, tx5). At the text's opening too ("Not letrozole, palbociclib":
# tx5, read as both given), as "No letrozole, palbociclib" reads (unsettled list: _unsettled_not_taken_list)
_BARE_NOT_AFTER_BREAK = re.compile(r"^\s*not(?:\s+(?:yet|now|for\s+now|for|currently))?\s*$", re.I)


def _not_taken_clause_names(text: str) -> frozenset[int]:
    """The indices of the anticancer drug names (LINE_CLASSES) of a text that a not-taken word
    opens a clause of ("No palbociclib; letrozole 2.5 mg", "Letrozole, no palbociclib", "No
    letrozole or palbociclib": drugs.yaml glucose_lowering_reasons not_taken_opening, FHIR R4
    MedicationStatement.status not-taken) with the names joined to it by "or" / "nor" / "/"
    (not_taken_names_joined / not_taken_names_last_joined), the "no" up to a comma when the drug after
    it is written given ("Not on letrozole, palbociclib 125 mg", "... alone"; else unsettled:
    _not_taken_clauses). Empty for switch words between two names
    ("Stopped tamoxifen, now letrozole": _written_switch) and a pause ("Off letrozole for 2 weeks")."""
    return _not_taken_clauses(text)[0]


@lru_cache(maxsize=1024)
def _not_taken_clauses(text: str) -> tuple[frozenset[int], bool]:
    """_not_taken_clause_names' indices, and whether the text writes a not-taken word before drugs
    joined by a bare comma ("No palbociclib, ribociclib"): the "no" of the first or of all of them,
    not settled (then no index, as before tx3: _unsettled_not_taken_list names the record)."""
    names = _named_drugs(text)
    if not names or T.DRUG_STOPPED_PAUSED.search(text) or any(
            (between := T.DRUG_SWITCH_BETWEEN.match(text[a.end():b.start()])) is not None
            and (between.group("stop") or between.group("to")) for (a, _), (b, _) in zip(names, names[1:])):
        return frozenset(), False  # (the switch words of _written_switch, which reads such a text)
    out: set[int] = set()
    i = 0
    while i < len(names):
        m, info = names[i]
        before = text[names[i - 1][0].end() if i else 0:m.start()]
        if info.drug_class in LINE_CLASSES and i + 1 < len(names) \
                and (_NOT_TAKEN_CLAUSE_BREAK.search(before) if i else not before.strip(" \t*•-")) \
                and T.DRUG_ANSWERED_NO_BETWEEN.match(text[m.end():names[i + 1][0].start()]):
            # "Palbociclib: not now, letrozole continues": the answer closes that drug's clause, not
            # given now (local_codes.yaml drug_mentions answered_no_between; tx4: read as given)
            out.add(i)
            i += 1
            continue
        if i and not _NOT_TAKEN_CLAUSE_BREAK.search(before):
            i += 1
            continue
        clause = _NOT_TAKEN_CLAUSE_BREAK.split(before)[-1] if i else before
        if info.drug_class not in LINE_CLASSES \
                or not (T.DRUG_NOT_TAKEN_OPENING.match(clause) or _BARE_NOT_AFTER_BREAK.match(clause)) \
                or _STOP_OF_A_DRUG_GIVEN.match(clause) or _finding_of_drug_negated(text, m.start(), m.end()):
            i += 1
            continue
        j = i
        while j + 1 < len(names) and T.GLUCOSE_LOWERING_NOT_TAKEN_JOINED.match(
                text[names[j][0].end():names[j + 1][0].start()]):
            j += 1
        if j > i and not T.GLUCOSE_LOWERING_NOT_TAKEN_LAST_JOINED.match(text[names[j - 1][0].end():names[j][0].start()]):
            # a list not closed by "or" / "nor" / "/": the "no" reaches up to the first comma ("No
            # palbociclib, letrozole alone": palbociclib not taken, letrozole given, as "Not on
            # insulin, metformin 1 g" reads: drugs.yaml not_taken_names_last_joined; tx3: both read
            # as taken). Names joined by "and" alone stay unread, as before
            comma = next((k for k in range(i, j) if "," in text[names[k][0].end():names[k + 1][0].start()]), None)
            if comma is None:
                return frozenset(), False
            if not _written_given_after(text, names, comma + 1) \
                    and any(names[k][1].drug_class in LINE_CLASSES for k in range(comma + 1, j + 1)):
                # "No palbociclib, ribociclib": nothing writes the later drug given ("alone", a dose);
                # the "no" may be of all of them (rt62: tx3 read ribociclib as the current line).
                # A later drug of no line ("No palbociclib, goserelin") leaves the lines as tx3 read them
                return frozenset(), True
            j = comma
        if any(names[k][1].drug_class not in LINE_CLASSES for k in range(i, j + 1)):
            return frozenset(), False
        after = text[names[j][0].end():names[j + 1][0].start() if j + 1 < len(names) else len(text)]
        if T.DRUG_NOT_TAKEN_HELD.search(after):
            i = j + 1  # "no palbociclib this cycle": a hold of a drug under way, read as given
            continue
        out.update(range(i, j + 1))
        i = j + 1
    return frozenset(out), False


def _written_given_after(text: str, names: list[tuple[re.Match[str], T.DrugInfo]], k: int) -> bool:
    """The words after drug name k, up to the next name, write it given: "alone", "only", "started"
    (local_codes.yaml drug_mentions chosen_after) or its dose (listed_given_dose_after: "Not on
    palbociclib, fulvestrant 500 mg", as "Not on insulin, metformin 1 g" reads)."""
    after = text[names[k][0].end():names[k + 1][0].start() if k + 1 < len(names) else len(text)]
    return bool(T.DRUG_CHOSEN_AFTER.match(after) or T.DRUG_LISTED_GIVEN_DOSE_AFTER.match(after))


@lru_cache(maxsize=1024)
def _stop_then_drug(written: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The drugs stopped and the drugs named after them, for a text that opens with a stop word,
    then after a clause break names a drug it did not stop, with no words writing the switch done
    ("Stopped letrozole. Fulvestrant", "Stopped palbociclib and letrozole; fulvestrant 500 mg":
    _written_switch reads "... . Now fulvestrant"): which drugs are taken now is not written
    (local_codes.yaml drug_mentions stop_opening_clause_break; tx7: all were read current, never so
    written). None for any other text."""
    lowered = written.lower() if written else ""
    names = _named_drugs(lowered)
    brk = _stop_opening_clause_break(lowered, names)
    if brk is None:
        return None
    k = brk[0]
    if {info.name for _, info in names[k:]} <= {info.name for _, info in names[:k]} \
            or any(read is False for _, read in _drug_mentions(lowered)[k:]) or _written_switch(lowered) is not None:
        return None
    if all(info.drug_class == "cdk46i" for _, info in names[:k]) \
            and all(info.drug_class in ENDOCRINE_CLASSES for _, info in names[k:]):
        # "Ceased palbociclib (neutropenia); letrozole 2025-03": the CDK4/6 inhibitor and the endocrine
        # partner it is given with (CR B.9, B.10) stay one line, as read before (not asked here)
        return None
    stopped = frozenset(info.name for _, info in names[:k])
    return stopped, frozenset(info.name for _, info in names[k:]) - stopped


def _unsettled_stop_then_drug(written: str) -> _Unreadable | None:
    """An _Unreadable for a record whose text writes a stop, then another drug with no start
    written (_stop_then_drug): which drugs are taken now cannot be read."""
    split = _stop_then_drug(written)
    if split is None:
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" writes a stop before {_listed(set(split[0]))} and '
                       f"names {_listed(set(split[1]))} after it without writing that drug started: which drugs are taken "
                       "now cannot be read")


def _stop_clause_before_plan(text: str, names: list[tuple[re.Match[str], T.DrugInfo]], med: _Med) -> int | None:
    """Where the stop clause ends in a text that opens with a stop word, names the record's drugs,
    then after a clause break names only drugs written as not given ("Stopped letrozole.
    Fulvestrant to start next week", "Stopped letrozole - progression. Plan fulvestrant": the
    plan words of _drug_mentions): the stop is of the drugs before the break, read as
    "Stopped letrozole - progression" is (drug_mentions switch_stop_opening_first,
    stop_opening_clause_break; FHIR R4 MedicationStatement.status stopped written in the text).
    None for any other text. So is the stop written right after the last name before the break
    ("Palbociclib stopped. Fulvestrant to start next week", "Letrozole stopped; fulvestrant
    planned": drug_mentions stopped_after; tx10: read "Currently on palbociclib")."""
    brk = _stop_opening_clause_break(text, names) or _stopped_after_clause_break(text, names)
    if brk is None:
        return None
    # a drug refused after the break ("Stopped palbociclib; letrozole declined": refused_in_regimen)
    # is not given either (tx10: the stop was left unread, "Currently on palbociclib")
    refused = refused_in_regimen(text)
    mentions = _drug_mentions(text)
    k, at = brk
    if not all(read is False or info.name in refused for info, read in mentions[k:]):
        # "Palbociclib stopped. Letrozole stopped. Fulvestrant to start": the break before the
        # first of the drugs not given closes clauses that each write their drugs stopped
        # (_each_clause_stopped; rt82: read "Currently on letrozole + palbociclib")
        k = next((i for i in range(k + 1, len(names))
                  if all(read is False or info.name in refused for info, read in mentions[i:])), None)
        if k is None:
            return None
        gap_start = names[k - 1][0].end()
        later_brk = T.DRUG_STOP_OPENING_CLAUSE_BREAK.search(text[gap_start:names[k][0].start()])
        if later_brk is None or _each_clause_stopped(text[:gap_start + later_brk.start()], names[:k]) is None:
            return None
        at = gap_start + later_brk.start()
    if {d.name for d in med.drugs} <= {info.name for _, info in names[:k]}:
        return at
    return None


def _stopped_after_clause_break(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...]) -> tuple[int, int] | None:
    """For a text that opens with a drug (qualifiers only before it) and names two drugs or more:
    the first clause break between two names when a stop is written right after the name before it
    (drug_mentions leading_qualifiers, stopped_after, stop_opening_clause_break), as
    _stop_opening_clause_break gives it. None for any other text."""
    if len(names) < 2 or not T.LEADING_QUALIFIERS.match(text[:names[0][0].start()]):
        return None
    for k in range(1, len(names)):
        gap_start = names[k - 1][0].end()
        brk = T.DRUG_STOP_OPENING_CLAUSE_BREAK.search(text[gap_start:names[k][0].start()])
        if brk is not None:
            stopped = T.DRUG_STOPPED_AFTER.match(text[gap_start:])  # (sliced: the pattern opens with ^)
            return (k, gap_start + brk.start()) if stopped is not None and stopped.end() <= brk.start() else None
    return None


def _stop_opening_clause_break(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...]) -> tuple[int, int] | None:
    """For a text that opens with a stop word and names two drugs or more: the first clause break
    between two names (drug_mentions switch_stop_opening_first, stop_opening_clause_break), as the
    index of the name after it and where it starts in text. None for any other text."""
    if len(names) < 2 or not T.DRUG_SWITCH_STOP_OPENING_FIRST.match(text[:names[0][0].start()]):
        return None
    for k in range(1, len(names)):
        gap_start = names[k - 1][0].end()
        brk = T.DRUG_STOP_OPENING_CLAUSE_BREAK.search(text[gap_start:names[k][0].start()])
        if brk is not None:
            return k, gap_start + brk.start()
    return None


@lru_cache(maxsize=1024)
def _unsettled_not_taken_list(written: str) -> _Unreadable | None:
    """An _Unreadable for a record whose text writes a not-taken word before drugs joined by a bare
    comma, nothing after the later ones writing them given ("No palbociclib, ribociclib", "No
    letrozole, palbociclib"): the "no" of the first drug or of the list, which the sources do not
    settle (FHIR R4 MedicationStatement.status not-taken is of the whole record); rt62: tx3 read the
    later drug as the current line, before it both drugs were read as given."""
    if not written or not _not_taken_clauses(written.lower())[1]:
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" writes "no" before drugs joined by a comma, '
                       "nothing after the later ones writing them given: which of them were not taken cannot be read")


# what may follow a hedge closing a drug's clause before the next drug of its regimen: the
# parenthesis' end and a joiner (local_codes.yaml class_joined's joiners, a comma or ";")
_HEDGE_THEN_NEXT_DRUG = re.compile(r"\s*[)\]]?\s*(?:\+|&|/|,|;|and\b|plus\b|with\b)\s*$", re.I)


def _hedged_in_regimen(between: str) -> bool:
    """The words between a drug and the next name close the drug's clause with a hedge
    ("(likely) + ", "(?) + ", " - possible, "): local_codes.yaml drug_mentions hedged_closing, the
    hedge "Fulvestrant (possible)" is of a whole record, then a joiner."""
    hedged = T.DRUG_HEDGED_CLOSING.match(between)
    return hedged is not None and _HEDGE_THEN_NEXT_DRUG.match(between, hedged.end()) is not None


def _hedge_of_a_drug_fact(text: str, name: re.Match[str]) -> bool:
    """A hedge opening the text questions a fact of the drug named after it, not the drug ("Query
    letrozole adherence", "Possible letrozole side effects": local_codes.yaml drug_mentions
    hedged_opening, hedge_of_a_drug_fact_after): the drug is the record's, given."""
    return bool(T.DRUG_HEDGED_OPENING.match(text[:name.start()]) and T.DRUG_HEDGE_OF_A_FACT_AFTER.match(text[name.end():]))


@lru_cache(maxsize=4096)
def _named_drugs(text: str) -> tuple[tuple[re.Match[str], T.DrugInfo], ...]:
    """Each drug name a text writes, in order, with the drug it names (T.DRUG_NAME_RE words
    that T.drug_for_name knows): what the text readers here walk. Cached by text: one record's
    text is read by several of them on every call."""
    return tuple((m, info) for m in T.DRUG_NAME_RE.finditer(text)
                 if (info := T.drug_for_name(m.group(1))) is not None)


# what ends a clause between drug names, for plan words after the last name
# (local_codes.yaml drug_mentions planned_closing): ";", "|", a line end, a full stop (not a
# decimal point: "2.5 mg") or "then" ("Letrozole + palbociclib; fulvestrant to start at progression")
_CLAUSE_BREAK = re.compile(r"[;|\n]|\.(?!\d)|\bthen\b", re.I)


def _planned_clause_start(text: str) -> int | None:
    """Where the clause starts that plan words after the text's last drug name close
    (local_codes.yaml drug_mentions planned_closing: "Letrozole + palbociclib planned" 0,
    "Letrozole; fulvestrant to start at progression" after the ";"); None without such words."""
    names = [m for m, _ in _named_drugs(text)]
    tail = text[names[-1].end():] if names else ""
    planned = T.DRUG_PLANNED_CLOSING.match(tail)
    if planned is None or T.DRUG_PLANNED_THEN_STARTED.search(tail, planned.end()):
        return None  # no plan words, or the plan written as carried out ("planned, started 2020-02-01")
    breaks = [b.end() for b in _CLAUSE_BREAK.finditer(text, 0, names[-1].start())]
    return breaks[-1] if breaks else 0


# names_joined without the comma: "Letrozole, fulvestrant if progression" may be letrozole now and
# fulvestrant later (the condition is fulvestrant's: not_given_after), not one regimen kept for it
_REGIMEN_JOINED = re.compile(r"^\s*(?:\+|&|/|and|plus|with)\s*$", re.I)


def _conditional_plan(text: str) -> int | None:
    """Where the condition starts that follows the record's own drug, named first, or its regimen
    ("Exemestane if intolerant to letrozole", "Fulvestrant if progression", "Letrozole +
    palbociclib if progression on tamoxifen": local_codes.yaml drug_mentions
    planned_condition_after, names_joined): drugs to be given only then; None without one. Not
    cached itself: its one caller (_drug_mentions) and _condition_after_drug are."""
    found = _condition_after_drug(text)
    return found[0] if found is not None else None


@lru_cache(maxsize=4096)
def _condition_after_drug(text: str) -> tuple[int, int] | None:
    """(start, end) of the condition _conditional_plan reads, its end after its trigger word
    ("if progression", "if intolerant")."""
    names = _named_drugs(text)
    if not names or not T.LEADING_QUALIFIERS.match(text[:names[0][0].start()]):
        return None
    last = 0  # the last name of the regimen the text opens with
    while last + 1 < len(names) and _REGIMEN_JOINED.match(text[names[last][0].end():names[last + 1][0].start()]):
        last += 1
    after = names[last][0].end()
    found = T.DRUG_PLANNED_CONDITION_AFTER.match(text[after:])
    return (after + found.start("condition"), after + found.end()) if found is not None else None


# what follows a condition that leads to another drug, not back to the record's: past the
# condition's own object ("if progression on tamoxifen"), a switch word or "then" ("Tamoxifen
# 20 mg; if intolerant change to letrozole", "Letrozole, if progression then fulvestrant",
# "Letrozole - if progression consider fulvestrant") or another drug's name ("Letrozole; if
# progression, fulvestrant"); or a dose change or stop of the drug taken now ("Palbociclib 125
# mg; if intolerant reduce to 100 mg", "Letrozole; if progression stop": a drug given, FHIR R4
# Dosage.text as commonly written)
_CONDITION_OBJECT = re.compile(r"^(?:\s+(?:on|to|with|of)\s+[\w-]+)?[\s,;:]*", re.I)
_CONDITION_LEADS_ON = re.compile(r"(?:then|switch\w*|chang\w*|mov\w*|consider\w*|start\w*|add\w*|give|use|go\s+to|"
                                 r"reduc\w*|decreas\w*|lower\w*|dose\w*|hold|withhold|interrupt\w*|stop\w*|"
                                 r"discontinu\w*|ceas\w*)\b", re.I)


@lru_cache(maxsize=4096)
def _conditional_plan_of_own_drug(text: str) -> bool:
    """The condition after the record's drug (_conditional_plan) is one for giving that drug
    ("Exemestane if intolerant to letrozole": a plan), not one leading to the drug after it
    ("Letrozole; if progression, fulvestrant": letrozole given as its status says, fulvestrant
    the plan and not given, as in "Letrozole, fulvestrant if progression") or to a dose change
    or stop of the drug given ("Letrozole; if progression stop")."""
    found = _condition_after_drug(text)
    if found is None:
        return False
    next_at = found[1] + _CONDITION_OBJECT.match(text[found[1]:]).end()  # type: ignore[union-attr]
    if _CONDITION_LEADS_ON.match(text, next_at):
        return False
    return not any(m.start() == next_at for m, _ in _named_drugs(text))


# How much text before and after a drug's words the not_given_before / not_given_after
# patterns read: a design choice, longer than their longest context ("previously on",
# "grade 2 hand-foot") and short enough that a long note is not searched whole for each name.
NOT_GIVEN_BEFORE_CHARS = 40
NOT_GIVEN_AFTER_CHARS = 60


def _named_as_given(text: str, start: int, end: int) -> bool:
    """text[start:end] names a drug as the drug of the record, not as the reason for it or the
    drug before it (local_codes.yaml drug_mentions not_given_before / not_given_after). A side
    effect after it negated by a "no" before it ("No letrozole side effects") is no side effect
    of a drug given: the drug is the record's (_finding_of_drug_negated)."""
    return not (T.DRUG_NOT_GIVEN_BEFORE.search(text[max(0, start - NOT_GIVEN_BEFORE_CHARS):start])
                or (_followed_by_not_given(text, end) and not _finding_of_drug_negated(text, start, end)))


def _finding_of_drug_negated(text: str, start: int, end: int) -> bool:
    """A "no" opening the clause of the drug text[start:end] negates a finding of it named right
    after, not the drug (_negated_finding_end)."""
    return _negated_finding_end(text, start, end) is not None


def _negated_finding_end(text: str, start: int, end: int) -> int | None:
    """Where the finding ends, when a "no" opening the clause of the drug text[start:end] negates a
    finding of it named right after ("No letrozole side effects", "No letrozole dose changes", "No letrozole missed doses":
    local_codes.yaml drug_mentions finding_negated_opening / finding_negated_after), not the drug:
    the drug is given, neither written as not taken nor as the cause of a side effect only. So are
    the drugs of a list the one "no" covers ("No letrozole or palbociclib side effects": the words
    one negation covers, drugs.yaml not_taken_names_joined, or one regimen's, drug_mentions
    names_joined): the "no" opens the list's first name, the finding follows its last (rt52: letrozole
    was read as stopped, palbociclib as the cause of a side effect only, the record unread)."""
    names = _named_drugs(text)
    at = next((i for i, (m, _) in enumerate(names) if m.start() == start), None)
    first = last = at
    if at is not None:
        def joined(i: int) -> bool:  # names[i] and names[i + 1] one list
            between = text[names[i][0].end():names[i + 1][0].start()]
            return bool(T.GLUCOSE_LOWERING_NOT_TAKEN_JOINED.match(between) or T.DRUG_NAMES_JOINED.match(between))
        while first > 0 and joined(first - 1):
            first -= 1
        while last + 1 < len(names) and joined(last):
            last += 1
        start, end = names[first][0].start(), names[last][0].end()
    clause = _NOT_TAKEN_CLAUSE_BREAK.split(text[:start])[-1]
    if T.DRUG_FINDING_NEGATED_OPENING.match(clause) is None:
        return None
    finding = T.DRUG_FINDING_NEGATED_AFTER.match(text[end:])
    return None if finding is None else end + finding.end()


def _followed_by_not_given(text: str, end: int) -> bool:
    """The words right after text[:end] make it the cause of what they name or the drug a
    premedication is for ("AI-induced arthralgia", "paclitaxel premedication": not_given_after)."""
    return T.DRUG_NOT_GIVEN_AFTER.match(text[end:end + NOT_GIVEN_AFTER_CHARS]) is not None


@lru_cache(maxsize=4096)
def unnamed_drug(text: str) -> str | None:
    """What a medication text that names no drug of drugs.yaml names instead, when that may be
    a line of therapy: a class ("Aromatase inhibitor", "CDK4/6i", "chemotherapy"), a trial drug
    not named, or a name the service does not know whose INN stem is an anticancer class
    ("Letrozol", "palazestrant"): e.g. 'names an aromatase inhibitor, not which one'.
    A text that is only an abbreviated drug name ("Palbo", "TAM": drug_mentions abbreviations)
    is named too: 'is an abbreviated drug name, not read as a drug (it may stand for palbociclib)'.
    None: no such words at the start of the text, where a record names its own drug ("Calcium
    carbonate (patient on AI)" is calcium, "Antiemetic for chemotherapy" an antiemetic), or
    words followed by a side effect of them ("AI-induced arthralgia": not_given_after)."""
    for pattern, names in T.UNNAMED_DRUG:
        for m in pattern.finditer(text):
            # only qualifiers before the words: the not_given_before contexts cannot stand there
            if T.LEADING_QUALIFIERS.match(text[:m.start()]) and not _followed_by_not_given(text, m.end()):
                return f"names {names}"
    # only an abbreviated drug name ("Palbo", "TAM"): error-prone, never read as a drug (ISMP;
    # local_codes.yaml drug_mentions abbreviations), and it may be a line of therapy
    for pattern, may_be in T.DRUG_ABBREVIATIONS:
        if pattern.match(text):
            return f"is an abbreviated drug name, not read as a drug (it may stand for {may_be})"
    # abbreviated names joined as one regimen at the start ("Letro + palbo", "Pac / carbo"):
    # each is one of these, so the record is one too (drug_mentions abbreviations, class_joined)
    found = sorted((m.start(), m.end(), may_be) for pattern, _, _, names in T.ABBREVIATION_BESIDE_A_DRUG
                   for m in pattern.finditer(text) for may_be in [" or ".join(sorted(names))])
    if len(found) > 1 and T.LEADING_QUALIFIERS.match(text[:found[0][0]]) \
            and T.CLASS_JOINED.match(text[found[0][1]:found[1][0]]):
        return ("names abbreviated drug names, not read as drugs (they may stand for "
                f"{found[0][2]} and {found[1][2]})")
    return None


def unnamed_drug_in_text(written: str) -> str | None:
    """unnamed_drug of a text, with the text quoted as the record writes it (a message
    quotes it so): '"Study drug (SERENA-4)" names a trial drug, not which one'."""
    why = unnamed_drug(written.lower())
    return f'"{printable_clip(written.strip(), 80)}" {why}' if why else None


def unnamed_drug_in_concept(cc: Any) -> str | None:
    """unnamed_drug of a drug concept's text (fhir.cc_text: its text, then its displays), the
    concept quoted as written: its text, else its first display, where cc_text starts and
    unnamed_drug reads (only at the start of the text)."""
    why = unnamed_drug(cc_text(cc)) if isinstance(cc, dict) else None
    return f'"{printable_clip(cc_as_written(cc), 80)}" {why}' if why else None


def class_beside_drug_classes(text: str) -> tuple[str, frozenset[str]] | None:
    """What a medication text that names a pathway drug also names, joined to it as one
    regimen, without naming it, and the DrugClass values those words name: a class of drug,
    a trial drug or a drug by its INN stem (local_codes.yaml unnamed_drug_patterns with their
    `classes`, class_joined: "Palbociclib + AI", "Ribociclib with an aromatase inhibitor",
    "AI + palbociclib"), e.g. ('an aromatase inhibitor, not which one', {aromatase-inhibitor}),
    or an abbreviated drug name (drug_mentions abbreviations: "Letrozole + Palbo"), so that a
    draft-order check can tell whether the words may be the partner it misses.
    None when the words are the class of the drug beside them ("Letrozole, aromatase
    inhibitor": they describe it) or an abbreviation of it ("Letrozole (Let)"), when the text
    names a drug of their class elsewhere ("Palbociclib + AI (letrozole)": letrozole is the
    AI), or no such words are joined to a drug read as given."""
    if not text:
        return None
    given = {d.name for d in drugs_from_text(text)}
    names = [(m.start(), m.end(), info) for m, info in _named_drugs(text) if info.name in given]
    if not names:
        return None
    named_classes = {info.drug_class for _, _, info in names}
    for pattern, what, classes in T.UNNAMED_DRUG_CLASSES:
        if classes & named_classes:
            continue  # the words name a drug the text names too
        if _joined_to_a_name(text, pattern, names):
            return what, classes
    # an abbreviated drug name joined to the drug read ("Letrozole + Palbo"): a second drug not
    # read (drug_mentions abbreviations), unless it may be the drug named ("Letrozole (Let)")
    for pattern, what, classes, may_be in T.ABBREVIATION_BESIDE_A_DRUG:
        if may_be & given:
            continue
        if _joined_to_a_name(text, pattern, names):
            return what, classes
    return None


def _joined_to_a_name(text: str, pattern: re.Pattern[str], names: list[tuple[int, int, Any]]) -> re.Match[str] | None:
    """The first match of pattern joined to one of the drug names (start, end, _) as one regimen
    (local_codes.yaml class_joined), not inside a name and not followed by a side effect."""
    spans = [(n.start(), n.end()) for n, _ in _named_drugs(text)]
    for m in pattern.finditer(text):
        if any(start < m.end() and m.start() < end for start, end in spans):
            # the words are inside a drug name ("palbociclib" is an INN stem too), one read as
            # given or not ("Fulvestrant ± palbociclib": palbociclib is named, only optional)
            continue
        if _followed_by_not_given(text, m.end()):
            continue  # "Palbociclib + AI-induced arthralgia"
        for start, end, _ in names:
            joined = (T.CLASS_JOINED.match(text[end:m.start()]) if end <= m.start()
                      else T.CLASS_JOINED.match(text[m.end():start]))
            if joined:
                return m
    return None


@lru_cache(maxsize=4096)
def refusal_in_text(text: str) -> str | None:
    """Whether a medication text writes its drug as refused or never started (local_codes.yaml
    drug_mentions refused_after / refused_before: "Fulvestrant - patient declined", "Palbociclib
    (refused)", "Letrozole - not started"): "refused" when it names one drug, "unclear" when it
    names several (which one was refused cannot be read), None when it writes no refusal of its
    drug ("Fulvestrant - declined further cycles": given, then stopped)."""
    found = _named_drugs(text)
    names = [m for m, _ in found]
    if not names:
        return None
    whole = _whole_regimen_refused(text, found)
    if whole is not None:
        return whole
    if _refusal_after_class_words(text, names[-1].end()):
        # "Palbociclib + AI (declined)": the words closing the regimen are refused, and they
        # may stand for the regimen or for the class alone: which drug was given cannot be read
        return "unclear"
    if len({m.group(1).lower() for m in names}) > 1 and _class_of_a_named_drug_refused_after(text, found):
        # "Palbociclib + letrozole; AI declined": letrozole is an AI, yet written as given in the
        # regimen; whether it, the regimen or an AI before it was refused cannot be read
        return "unclear"
    tail = text[names[-1].end():]
    after = T.DRUG_REFUSED_AFTER.match(tail)
    if not after and _refused_then_chosen(text):
        return None  # "Patient declined fulvestrant, chose letrozole": refused_in_regimen drops fulvestrant
    if _refused_named_again(text):
        return None  # "Letrozole + palbociclib (palbociclib declined)": refused_in_regimen drops palbociclib
    if not (after or T.DRUG_REFUSED_BEFORE.match(text[:names[0].start()])):
        return None
    if not after and T.DRUG_REFUSED_CHANGE_AFTER.match(tail):
        return None  # "Declined letrozole dose reduction": the change refused, letrozole given (refused_change_after)
    if after and T.STOP_REFUSAL_WITHDRAWN.search(tail, after.end()):
        return None  # taken back ("Fulvestrant - declined initially, started 2025-06"): as recorded
    if after and _refused_in_last_clause(text):
        return None  # "Letrozole; palbociclib not yet started": refused_in_regimen drops palbociclib
    drugs = {info for _, info in found}
    if len(drugs) == 1:
        return "refused"
    # each drug before the last written as refused in its own clause too ("Letrozole
    # (declined), palbociclib (declined)"): every drug was refused
    last = found[-1][1]
    return "refused" if {d.name for d in drugs if d != last} <= refused_in_regimen(text) else "unclear"


def _whole_regimen_refused(text: str, found: tuple[tuple[re.Match[str], T.DrugInfo], ...]) -> str | None:
    """A text naming several drugs with a refusal said of all of them, not taken back after it
    ("Letrozole + palbociclib (both declined)", "... : patient declined both", "... - regimen
    refused", "Declined both letrozole and palbociclib", "Both letrozole and palbociclib declined":
    local_codes.yaml drug_mentions refused_whole_after / refused_whole_before): "refused" when
    the names are one regimen (_one_regimen: every drug refused or not started, FHIR R4
    MedicationStatement.status not-taken), "unclear" when they are not (which drugs "both"
    covers is not written); None without such words."""
    if len(found) < 2:
        return None
    tail = text[found[-1][0].end():]
    opening = text[:found[0][0].start()]
    said = T.DRUG_REFUSED_WHOLE_AFTER.match(tail)
    if said is None and T.DRUG_WHOLE_BEFORE_REFUSED_AFTER.match(opening):
        said = T.DRUG_REFUSED_AFTER.match(tail)
    if said is not None:
        if T.STOP_REFUSAL_WITHDRAWN.search(tail, said.end()):
            return None
    elif not T.DRUG_REFUSED_WHOLE_BEFORE.match(opening) or T.STOP_REFUSAL_WITHDRAWN.search(tail):
        return None
    return "refused" if _one_regimen(text, list(found)) else "unclear"


def _refusal_after_class_words(text: str, end: int) -> bool:
    """The text after its last drug name (from `end`) joins a class of drug or an abbreviated
    name to it (local_codes.yaml class_joined: "+ AI", "with an aromatase inhibitor") and
    writes those words as refused (refused_after: "Palbociclib + AI (declined)")."""
    tail = text[end:]
    for pattern in (*(p for p, _, _ in T.UNNAMED_DRUG_CLASSES), *(p for p, _, _, _ in T.ABBREVIATION_BESIDE_A_DRUG)):
        for m in pattern.finditer(tail):
            if T.CLASS_JOINED.match(tail[:m.start()]) and T.DRUG_REFUSED_AFTER.match(tail[m.end():]):
                return True
    return False


def _class_of_a_named_drug_refused_after(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...]) -> bool:
    """A clause after the last drug name (past a clause separator: local_codes.yaml
    drug_mentions class_refused_clause) starts with the class of a drug the text names
    (unnamed_drug_patterns) written as refused (refused_after): "Palbociclib + letrozole; AI
    declined". A class the text does not name ("Letrozole; chemotherapy declined") is another
    treatment refused."""
    named = {info.drug_class for _, info in names}
    tail = text[names[-1][0].end():]
    for pattern, _, classes in T.UNNAMED_DRUG_CLASSES:
        if not classes & named:
            continue
        for m in pattern.finditer(tail):
            if T.CLASS_REFUSED_CLAUSE.match(tail[:m.start()]) and T.DRUG_REFUSED_AFTER.match(tail[m.end():]):
                return True
    return False


# what closes the clause of a regimen text before a refusal of the next drug: a separator
# ("2.5 mg; declined ", "2.5 mg (declined ", "2.5 mg - declined ") or the drug's dose ("2.5 mg
# declined "): the refusal words then open the next drug's clause (local_codes.yaml drug_mentions
# refused_before; a thousands comma, "1,000 mg", splits inside the dose, before the refusal)
# a dose closes its drug's clause, with the route and frequency written after it ("Fulvestrant
# 500 mg IM declined palbociclib": FHIR R4 Dosage.route / Dosage.timing as commonly written, the
# words local_codes.yaml drug_mentions class_joined reads after a strength)
_LAST_CLAUSE = re.compile(r"[;,/|(:\[–—]|\s-\s|\d\s*(?:mg|mcg|µg|g)\b(?:/m2|/day|/d\b)?"
                          r"(?:\s+(?:im|iv|sc|po|oral|orally|daily|od|bd|bid|qd|monthly|(?:once|twice)\s+(?:daily|a\s+day)"
                          r"|q\s?\d+\s?(?:d|w|wk|wks|weeks?|days?)|every\s+\d+\s+(?:days|weeks))\b)*")


def _refusal_opens_last_clause(between: str) -> bool:
    """The words between two drug names are, or end with a clause opened by, refusal words
    (refused_before): "Letrozole - declined palbociclib", "Letrozole 2.5 mg (declined palbociclib)"."""
    # read from each clause end on: the words may hold one themselves ("2.5 mg; declined: ")
    return bool(T.DRUG_REFUSED_BEFORE.match(between)
                or any(T.DRUG_REFUSED_BEFORE.match(between[end.end():]) for end in _LAST_CLAUSE.finditer(between)))


@lru_cache(maxsize=4096)
def refused_in_regimen(text: str) -> frozenset[str]:
    """The drugs a regimen's text writes as refused inside it, before the next drug it names
    ("Letrozole (declined) + palbociclib", "Letrozole - not started; palbociclib"): the
    refusal closes its own clause (local_codes.yaml drug_mentions refused_after), so it is
    that drug's alone and the others were given. A refusal running straight into the next name
    ("Letrozole - patient declined palbociclib", "Letrozole; declined palbociclib":
    refused_before) is that next drug's, and of the drugs joined to it (names_joined: "declined
    palbociclib or ribociclib" is not read), not the drug's before it: letrozole given."""
    names = _named_drugs(text)
    refused: set[str] = set()
    refusing_next = False  # the refusal before the previous name covers the names joined to it
    for i, ((m, info), (following, following_info)) in enumerate(zip(names, names[1:])):
        between = text[m.end():following.start()]
        if _refusal_opens_last_clause(between):
            # "Letrozole - patient declined palbociclib", "Letrozole 2.5 mg; declined palbociclib"
            # (the refusal opens the last clause before the name): the verb's object is the next drug
            # (FHIR R4 MedicationStatement.status not-taken for it alone); unless taken back
            # after it ("declined palbociclib initially, later started")
            until = names[i + 2][0].start() if i + 2 < len(names) else len(text)
            refusing_next = not T.STOP_REFUSAL_WITHDRAWN.search(text[following.end():until])
            if refusing_next:
                refused.add(following_info.name)
            continue
        if refusing_next and T.DRUG_NAMES_JOINED.match(between):
            if T.DRUG_CHOSEN_SEPARATOR.match(between) and T.DRUG_CHOSEN_AFTER.match(text[following.end():]):
                # "declined palbociclib, ribociclib started": the name after the comma is the drug
                # chosen (chosen_separator / chosen_after, as _refused_then_chosen reads it), not refused
                refusing_next = False
                continue
            refused.add(following_info.name)
            continue
        refusing_next = False
        # matched with the next name's first letter: the end of `between` is no clause end
        # ("Fulvestrant 500 mg; declined palbociclib": palbociclib declined, not fulvestrant)
        after = T.DRUG_REFUSED_AFTER.match(text[m.end():following.start() + 1])
        # taken back or the drug taken after all ("Letrozole (declined, later agreed) + ...",
        # "(declined, dose reduced)": stop_reasons refusal_withdrawn_patterns), as refusal_in_text reads it
        if after and not T.STOP_REFUSAL_WITHDRAWN.search(between, after.end()):
            refused.add(info.name)
    return frozenset(refused) | _refused_then_chosen(text) | _refused_named_again(text) | _refused_in_last_clause(text)


@lru_cache(maxsize=4096)
def _refused_in_last_clause(text: str) -> frozenset[str]:
    """The drugs of a last clause of their own (after ";", "|", a line end, a full stop or
    "then": _CLAUSE_BREAK, as plan words closing a last clause are read) that the text writes as
    refused or not started after them ("Letrozole; palbociclib not yet started": {palbociclib};
    local_codes.yaml drug_mentions refused_after), when the clause names only those drugs (joined
    as one regimen: names_joined) and the clauses before it name others: the refusal is that
    clause's alone (FHIR R4 MedicationStatement.status not-taken for its drugs), the drugs before
    it were given. A comma is no such break ("Letrozole, palbociclib not started" may be a list of
    both): that stays unclear (refusal_in_text)."""
    found = _named_drugs(text)
    if len(found) < 2:
        return frozenset()
    last = found[-1][0]
    tail = text[last.end():]
    after = T.DRUG_REFUSED_AFTER.match(tail)
    if after is None or T.STOP_REFUSAL_WITHDRAWN.search(tail, after.end()):
        return frozenset()
    found_breaks = list(_CLAUSE_BREAK.finditer(text, 0, last.start()))
    breaks = [b.end() for b in found_breaks]
    if not breaks or refusal_in_text(text[:found_breaks[-1].start()]) is not None:
        # the clauses before write a refusal too ("Letrozole declined then anastrozole not
        # started"): not the last clause's alone, read as before (refusal_in_text)
        return frozenset()
    clause = [(m, info) for m, info in found if m.start() >= breaks[-1]]
    before = {info.name for m, info in found if m.start() < breaks[-1]}
    names = {info.name for _, info in clause}
    if not before or names & before or not T.LEADING_QUALIFIERS.match(text[breaks[-1]:clause[0][0].start()]) \
            or not all(T.DRUG_NAMES_JOINED.match(text[a.end():b.start()]) for (a, _), (b, _) in zip(clause, clause[1:])):
        return frozenset()
    return frozenset(names)


@lru_cache(maxsize=4096)
def _refused_named_again(text: str) -> frozenset[str]:
    """The drug a regimen's text names again, last, to write it as refused ("Letrozole +
    palbociclib (palbociclib declined)", "Letrozole + palbociclib; palbociclib declined": the
    refusal names its drug, so it is that drug's alone: local_codes.yaml drug_mentions
    refused_after), when the text names another drug too; empty otherwise."""
    found = _named_drugs(text)
    names = [info.name for _, info in found]
    if len(names) < 3 or names[-1] not in names[:-1] or set(names) == {names[-1]}:
        return frozenset()
    tail = text[found[-1][0].end():]
    after = T.DRUG_REFUSED_AFTER.match(tail)
    if after is None or T.STOP_REFUSAL_WITHDRAWN.search(tail, after.end()):
        return frozenset()
    return frozenset({names[-1]})


@lru_cache(maxsize=4096)
def _refused_then_chosen(text: str) -> frozenset[str]:
    """The drugs a text writes as refused before their names when a later clause names the drug
    chosen or started instead ("Patient declined fulvestrant, chose letrozole": {fulvestrant};
    local_codes.yaml drug_mentions refused_before, chosen_instead / chosen_after: "Refused
    fulvestrant; letrozole started"); empty when it does not."""
    names = _named_drugs(text)
    if not names or not T.DRUG_REFUSED_BEFORE.match(text[:names[0][0].start()]):
        return frozenset()
    for i in range(1, len(names)):
        between = text[names[i - 1][0].end():names[i][0].start()]
        if T.DRUG_CHOSEN_INSTEAD.match(between) or (T.DRUG_CHOSEN_SEPARATOR.match(between)
                                                     and T.DRUG_CHOSEN_AFTER.match(text[names[i][0].end():])):
            refused = {info.name for _, info in names[:i]}
            chosen = {info.name for _, info in names[i:]}
            return frozenset(refused - chosen)
    return frozenset()


class _NotGiven:
    """A medication record whose text writes its drug as refused or never started: no therapy
    given (FHIR R4 MedicationStatement.status 'not-taken', MedicationRequest.doNotPerform)."""

    __slots__ = ("why", "if_ended")

    def __init__(self, why: str) -> None:
        self.why = why
        # the record read as given, when its status says a course ended (set by _read_text for a
        # text that writes its drugs as not taken and nothing more: _not_taken_record)
        self.if_ended: _Med | _Unreadable | _NotGiven | None = None


@lru_cache(maxsize=1024)
def _not_taken_record(written: str) -> _NotGiven | None:
    """A _NotGiven for a record whose text writes every anticancer drug it names as not taken, and
    nothing more after the last name than its strength or route ("No letrozole", "Never on
    letrozole", "No letrozole or palbociclib": _not_taken_clause_names, local_codes.yaml
    drug_mentions not_taken_bare_after): not given, as status 'not-taken' says (FHIR R4
    MedicationStatement.status); it was read as a line given, stopped on a day not written. A stop
    word ("Off letrozole") or words after the name ("No letrozole since 2023") are a stop written."""
    lowered = written.lower() if written else ""
    names = _named_drugs(lowered)
    if not names or len(_not_taken_clause_names(lowered)) != len(names) \
            or not T.DRUG_NOT_TAKEN_BARE_AFTER.match(lowered[names[-1][0].end():]):
        return None
    return _NotGiven(f'its text "{printable_clip(written.strip(), 80)}" writes {_listed({info.name for _, info in names})} '
                     "as not taken and nothing of its use")


def _refused(written: str) -> _NotGiven | _Unreadable | None:
    """A _NotGiven (or, naming several drugs, an _Unreadable) for a record whose drug text
    writes a refusal (refusal_in_text), quoted as written; None otherwise."""
    said = refusal_in_text(written.lower()) if written else None
    if said is None:
        return None
    quoted = printable_clip(written.strip(), 80)
    if said == "refused":
        return _NotGiven(f'its text "{quoted}" says the drug was refused or not started')
    return _Unreadable(f'its text "{quoted}" writes a refusal and names more than one drug: '
                       "which one was given cannot be read")


@lru_cache(maxsize=1024)
def _premedication_record(written: str) -> _Unreadable | None:
    """An _Unreadable for a record whose text names its drug followed only by premedication words
    ("Paclitaxel premedication", "Paclitaxel - premedication given": local_codes.yaml
    drug_mentions premedication_only_after) or opened by premedication words in its clause
    ("Premedication: dexamethasone (paclitaxel day 1)": premedication_opening): the premedication
    or the drug, not written."""
    m = T.DRUG_NAME_RE.search(written) if written else None
    if m is None or T.drug_for_name(m.group(1)) is None:
        return None
    # "Premedication: dexamethasone (paclitaxel day 1)": premedication words open the drug's clause
    # unless the drug is written as given after it ("... then paclitaxel 80 mg/m2 infused")
    opened = bool(T.DRUG_PREMEDICATION_OPENING.match(written[:m.start()])
                  and not T.DRUG_PREMEDICATION_OPENING_GIVEN_AFTER.search(written[m.end():]))
    if not opened and not (T.LEADING_QUALIFIERS.match(written[:m.start()])
                           and T.DRUG_PREMEDICATION_ONLY_AFTER.match(written[m.end():])):
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" names a premedication for its drug: '
                       "whether the drug itself was given cannot be read")


@lru_cache(maxsize=1024)
def _in_error_record(written: str) -> _Unreadable | None:
    """An _Unreadable for a record whose text writes it, or its drug's stop, as made in error
    ("Letrozole stopped in error", "Letrozole - entered in error": local_codes.yaml drug_mentions
    in_error): no stop of the drug; the record in error only by its status (FHIR R4
    entered-in-error, skipped before its text is read), so here the two disagree and the gap names
    the words (tx4: a stop, its end asked; or the current line)."""
    said = T.DRUG_IN_ERROR.search(written) if written else None
    if said is None:
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" writes "{" ".join(said.group(0).split())}", '
                       "while its status does not say the record was entered in error: whether the drug was given "
                       "cannot be read")


@lru_cache(maxsize=1024)
def _planned_record(written: str) -> _Unreadable | None:
    """An _Unreadable for a record whose text names its first drug after plan words and no drug
    as given ("Planned letrozole + palbociclib", "Consider fulvestrant": local_codes.yaml
    drug_mentions planned_opening; it was skipped as a record of no pathway drug), or plan words
    after its last drug ("Letrozole + palbociclib planned": planned_closing; it was read as a
    line): planned by its words, taken by its status, which is not settled."""
    names = [m for m, _ in _named_drugs(written.lower())] if written else []
    # plan words closing a last clause of their own are that clause's drugs' alone (_drug_mentions)
    planned_from = _planned_clause_start(written.lower()) if names else None
    opening = written[:names[0].start()] if names else ""
    if names and _hedge_of_a_drug_fact(written, names[0]):
        opening = ""  # "Query letrozole adherence": the adherence is questioned, letrozole given
    if not names or not (T.DRUG_PLANNED_OPENING.match(opening)
                         or (planned_from is not None and planned_from <= names[0].start())
                         or _conditional_plan_of_own_drug(written.lower())):
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" writes its drug as planned or '
                       "considered: whether it was given cannot be read")


# the joiner ending the words between two drugs of one regimen (class_joined's doses and
# schedules before it): not a comma, which may list drugs of other times ("Letrozole,
# palbociclib stopped" may be palbociclib alone), nor an optional one ("±")
_REGIMEN_JOINER = re.compile(r"(?:\+|&|/|\band|\bplus|\bwith)\s*(?:(?:an?|the)\s+)?$", re.I)


def _one_regimen(text: str, names: list[tuple[re.Match[str], T.DrugInfo]]) -> bool:
    """The names of text are one regimen, each named once and joined by "+" / "and" / "with"
    (local_codes.yaml class_joined): a stop written after the last ("Letrozole + palbociclib -
    stopped (progression)") is the record's, not only the last drug's, as it is when the stop
    names its drug again ("Letrozole + palbociclib, palbociclib stopped (neutropenia)") or the
    drug stands apart ("Letrozole (palbociclib stopped)"): there letrozole is not stopped."""
    if len({info.name for _, info in names}) != len(names):
        return False
    return all(T.CLASS_JOINED.match(text[a.end():b.start()]) and _REGIMEN_JOINER.search(text[a.end():b.start()])
               for (a, _), (b, _) in zip(names, names[1:]))


def _read_class_beside_drug(med: _Med, text: str) -> None:
    """Sets med.also_unread (class_beside_drug_classes of its text, as the medication-unreadable gap
    writes it, the text quoted as written) and the classes those words name; and
    med.named_not_given: the drugs the text names before its drug and, without such class
    words, the drug its drug was switched to (drugs_switched_to): FHIR R4 Medication.code is the
    record's drug, and from when the other was given is not written."""
    if not text:
        return
    lowered = text.lower()
    found = class_beside_drug_classes(lowered)
    if found is not None:
        med.also_unread = f'its text "{printable_clip(text.strip(), 80)}" also names {found[0]}'
        med.also_unread_classes = found[1]
    switched_to_class = _switched_to_class(lowered) if found is None else None
    if switched_to_class is not None:
        # "Tamoxifen, switched to AI", "Tamoxifen stopped, now an AI": the drug taken now is named
        # by its class only (CR A.5), not read; read in silence as tamoxifen still taken ("Stop
        # tamoxifen before ribociclib"). Named as not read; a switch written as done (stop, "now",
        # "switched to") writes the record's drug as stopped, as "Tamoxifen (stopped)" is
        what, classes, done = switched_to_class
        med.also_unread = (f'its text "{printable_clip(text.strip(), 80)}" also names {what}, written after '
                           f"{_listed({d.name for d in med.drugs})}")
        med.also_unread_classes = classes
        med.written_stopped = med.written_stopped or done
    before = {info.name for info, switched_to in _drug_mentions(lowered) if switched_to is False} - {
        d.name for d in med.drugs}
    later = {d.name for d in drugs_switched_to(lowered)} if found is None else set()
    if before or later:
        med.named_not_given = (printable_clip(text.strip(), 80), frozenset(before), frozenset(later))
    names = _named_drugs(lowered)
    # "Stopped letrozole. Fulvestrant to start next week": the stop is read of the clause before the
    # plan, the drug planned after it not given (rt76: the second name left the stop unread,
    # "Currently on letrozole"); every other text is read whole
    cut = _stop_clause_before_plan(lowered, names, med)
    stop_text = lowered if cut is None else lowered[:cut]
    stop_names = names if cut is None else _named_drugs(stop_text)
    # the end of a finding negated of the drugs named ("No letrozole or palbociclib side effects"),
    # when it follows the last of them: they are one regimen given (_negated_finding_end)
    finding_end = _negated_finding_end(stop_text, stop_names[0][0].start(), stop_names[0][0].end()) if stop_names else None
    if finding_end is not None and finding_end < stop_names[-1][0].end():
        finding_end = None
    if stop_names and (_one_regimen(stop_text, stop_names) or finding_end is not None):
        # a stop, past use or completion written of the whole regimen, after it or after a finding
        # of it negated ("No letrozole side effects, discontinued for progression": rt52, it was
        # read as taken now, "Currently on letrozole", as the finding's "no" left the stop unread)
        after = stop_names[-1][0].end() if finding_end is None else finding_end
        tail = stop_text[after:]
        opening = stop_text[:stop_names[0][0].start()]
        stopped = T.DRUG_STOPPED_AFTER.match(tail)
        # "Letrozole; stopped smoking": the stop is of what follows the stop word, not of the record's
        # drug, which goes on (tx13: read stopped, its end asked); a word that settles neither is asked
        whose = _stop_object(tail[stopped.end():]) if stopped is not None else None
        if whose == "other":
            stopped = None
        elif whose == "unclear":
            med.stop_object_unclear = (f'its text "{printable_clip(text.strip(), 80)}" writes a stop word after '
                                       f"{_listed({d.name for d in med.drugs})} followed by words that do not "
                                       "say whose stop it is: whether its drugs are still taken cannot be read")
        if stopped is not None and not T.DRUG_STOPPED_PAUSED.search(stop_text, after + stopped.end()):
            med.written_stopped = True
            med.stop_written = _stop_reason_of_text(tail)
            # "Letrozole (stopped 2024-03)": its date, when written right after the stop, is when it
            # ended (drug_mentions stopped_when_after), as a completion's is
            when = T.DRUG_STOPPED_WHEN_AFTER.match(tail[stopped.end():])
            med.completed_on = _written_day_range(when.group("when")) if when is not None else None
        elif "?" in tail and T.DRUG_COMPLETED_CLOSING.match(tail.replace("?", " ")):
            # "Tamoxifen completed?", "Tamoxifen 2015-2020 done?": a completion queried does not
            # settle whether the drug goes on or when it ended: a stop written, its end asked (no
            # date read from it), not the drug read as still taken in silence
            med.written_stopped = True
        elif T.DRUG_STOPPED_OPENING.match(opening) and finding_end is None and _bare_or_a_stop_reason(tail):
            # "No further letrozole", "No more letrozole - progression": given, then stopped
            med.written_stopped = True
            med.stop_written = _stop_reason_of_text(tail)
        elif T.DRUG_PAST_USE_OPENING.match(opening) or T.DRUG_PAST_USE_CLOSING.match(tail):
            # "Hx tamoxifen", "Letrozole (previous)": past use, as a stop written after it (no stop reason)
            med.written_stopped = True
        elif (completed := T.DRUG_COMPLETED_CLOSING.match(tail) or _completion_opening(stop_text, stop_names[0][0], tail)) \
                is not None:
            # "Tamoxifen (completed 5 years)", "Anastrozole, course completed 2019", "Completed 5 years of
            # tamoxifen", "Finished letrozole 2019": a course completed is past use (no stop reason);
            # its written date, if any, is when it ended
            # ("Tamoxifen 2015-2020 completed": the span's last year is when it ended)
            when = completed.group("when") or completed.groupdict().get("until")
            med.written_stopped = True
            med.completed_on = _written_day_range(when)
            if not when and "adjuvant" not in stop_text \
                    and all(d.drug_class in COMPLETION_MILESTONE_CLASSES for d in med.drugs):
                med.completion_milestone = _written_length_days(stop_text)
        elif (span := T.DRUG_SPAN_CLOSING.match(tail)) is not None:
            # "Tamoxifen 2015-2020": the time of use written, no stop or completion word; its end
            # ends the course once it is past (read_exposures), never read as taken after it
            med.span_end = _written_day_range(span.group("until"))
            if len(stop_names) == 1 and T.DRUG_STOPPED_VERB_OPENING.match(opening):
                # "Stopped letrozole 2025-01 to 2025-02": the span may be when it was stopped (a
                # break, taken again after it) or when it ran: a stop written, its end asked (gap
                # therapy-stopped-in-text), no end read from the span (tx10: ended 2025-02 in silence)
                med.written_stopped, med.span_end = True, None
            elif span.group("stop"):
                # "Tamoxifen (2015-2020) stopped": a stop written, the span's end when it ended
                med.written_stopped, med.completed_on, med.span_end = True, med.span_end, None
        elif ((T.DRUG_NOT_TAKEN_OPENING.match(opening) and finding_end is None)
              or T.DRUG_NOT_TAKEN_CLOSING.match(tail)) and not T.DRUG_STOPPED_PAUSED.search(stop_text):
            # ("No letrozole dose changes": the "no" is of the dose changes, letrozole goes on)
            # "No letrozole", "Off letrozole", "Letrozole - not taking" (FHIR R4 MedicationStatement.status
            # not-taken, written in the text): not given now, read as a stop written (when, not written);
            # a pause ("Off letrozole for 2 weeks") and a hold ("Letrozole held", no such word) are not
            med.written_stopped = True
            if len(stop_names) == 1 and T.DRUG_STOPPED_VERB_OPENING.match(opening):
                # "Stopped letrozole 2025-03 - progression": the date and reason right after the one
                # name read as "Letrozole stopped 2025-03 - progression" reads them (drug_mentions
                # stopped_verb_opening, stopped_when_after; tx7: no date, no reason was read)
                med.stop_written = _stop_reason_of_text(tail)
                when = T.DRUG_STOPPED_WHEN_AFTER.match(tail)
                med.completed_on = _written_day_range(when.group("when")) if when is not None else None
            elif (since := T.DRUG_SINCE_WHEN_AFTER.match(tail)) is not None:
                # "Off letrozole since 2025-03", "No letrozole since March 2025", "Off letrozole +
                # palbociclib since 2025-03" (the one regimen): not taken since then, so it stopped
                # then, as "... - no palbociclib since 2025-03" reads the stop of a drug named again
                # (drug_mentions since_when_after; tx10: its end was asked)
                med.completed_on = _written_day_range(since.group("when"))
    elif stop_names and _stopped_list(stop_text, stop_names):
        # "Stopped palbociclib, letrozole": the stop opening the list is of every drug in it, as
        # "Stopped palbociclib and letrozole" reads (tx6: both were read current; local_codes.yaml
        # drug_mentions stopped_list_opening / stopped_list_between; when it ended: asked)
        med.written_stopped = True
        med.stop_written = _stop_reason_of_text(lowered[names[-1][0].end():])
    elif stop_names and (stops := _each_clause_stopped(stop_text, stop_names)) is not None:
        # "Palbociclib stopped 2025-03; letrozole stopped 2025-05", "Stopped palbociclib; letrozole
        # stopped": each clause writes its own drugs stopped, so the whole regimen is (tx10: both
        # were read current); it ended with the last stop when each is dated, else its end is asked
        med.written_stopped = True
        med.stop_written = _stop_reason_of_text(stop_text[stop_names[-1][0].end():])
        days = [_written_day_range(when) for when in stops]
        med.completed_on = max(days, key=lambda d: d[1]) if all(days) else None
    if names and len(_not_taken_clause_names(lowered)) == len(names):
        # "No letrozole or palbociclib": every drug named is written as not taken, as "No letrozole"
        med.written_stopped = True
    if med.endocrine:
        sequence = _endocrine_sequence(lowered)
        if sequence is not None:
            med.endocrine_sequence = (printable_clip(text.strip(), 80), *sequence)


def _switched_to_class(text: str) -> tuple[str, frozenset[str], bool] | None:
    """The class words (local_codes.yaml unnamed_drug_patterns) a text writes after its last drug
    name with the words of a switch (drug_mentions switch_between: "Tamoxifen, switched to AI",
    "Tamoxifen stopped, now an AI", "Tamoxifen then AI"), a class the text names no drug of: what
    they name, its classes, and whether the switch is written as done (stop words, "now",
    "switched to"; not a sequence word alone, which may be a plan: switch_sequence_only). None
    otherwise, or when words after the class write it as a plan or condition (switch_not_after)."""
    names = _named_drugs(text)
    if not names:
        return None
    last_end = names[-1][0].end()
    named_classes = {info.drug_class for _, info in names}
    for pattern, what, classes in T.UNNAMED_DRUG_CLASSES:
        if not classes or classes & named_classes:
            continue
        m = pattern.search(text, last_end)
        if m is None or _followed_by_not_given(text, m.end()) or T.DRUG_SWITCH_NOT_AFTER.search(text, m.end()):
            continue
        between = T.DRUG_SWITCH_BETWEEN.match(re.sub(r"\b(?:an?|the)\s+$", "", text[last_end:m.start()]))
        if between is None or not (between.group("stop") or between.group("to")):
            continue
        if between.group("stop") and T.DRUG_STOPPED_PAUSED.search(text, last_end, m.end()):
            continue  # "Metformin stopped until after chemotherapy": a pause around the event, no switch (tx5)
        done = bool(between.group("stop")) or not T.DRUG_SWITCH_SEQUENCE_ONLY.match(between.group("to"))
        return what, frozenset(classes), done
    return None


def _completion_opening(text: str, first: re.Match[str], tail: str) -> re.Match[str] | None:
    """The words after the last name of a text opening with a completion before its first name
    and naming no more than a length or a date after it ("Completed 5 years of tamoxifen",
    "Finished letrozole 2019": local_codes.yaml drug_mentions completed_opening /
    completed_opening_tail; its group "when" the date); None otherwise."""
    if not T.DRUG_COMPLETED_OPENING.match(text[:first.start()]):
        return None
    return T.DRUG_COMPLETED_OPENING_TAIL.match(tail)


_LENGTH_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                        "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
# the fewest days a unit of local_codes.yaml completed_length can mean (a month 28 days, a cycle 21:
# the shortest cycle of the drugs COMPLETION_MILESTONE_CLASSES holds, CR B.2-B.10 dosing)
_LENGTH_UNIT_DAYS = {"y": 365, "m": 28, "c": 21, "w": 7}


def _written_length_days(text: str) -> int | None:
    """The fewest days the longest length of use a text writes can mean ("completed 6 months":
    168); None when it writes none (local_codes.yaml drug_mentions completed_length)."""
    days = []
    for m in T.DRUG_COMPLETED_LENGTH.finditer(text):
        number = re.match(r"\d+(?:[.,]\d+)?|[a-z]+", m.group())
        if number is None:
            continue
        word = number.group()
        value = float(word.replace(",", ".")) if word[0].isdigit() else _LENGTH_NUMBER_WORDS.get(word)
        unit = m.group()[number.end():].strip(" \t-")[:1]
        if value is not None and unit in _LENGTH_UNIT_DAYS:
            days.append(int(value * _LENGTH_UNIT_DAYS[unit]))
    return max(days) if days else None


def _written_day_range(when: str | None) -> tuple[dt.date, dt.date] | None:
    """The first and last day a date written in a text can mean: "2019" the year, "2019-03",
    "03/2019" or "March 2019" the month, "2019-03-10" the day; None when none is written or it is
    no date."""
    if not when:
        return None
    if when[0].isalpha():
        # "since March 2025" (drug_mentions since_when_after): the month, as "since 2025-03"
        month_word, _, year = when.rpartition(" ")
        month = MONTH_NUMBERS.get(month_word[:3].lower())
        if month is None:
            return None
        when = f"{year}-{month:02d}"
    parts = when.split("/")[::-1] if "/" in when else when.split("-")
    try:
        year = int(parts[0])
        if len(parts) == 1:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        month = int(parts[1])
        if len(parts) == 2:
            following = dt.date(year + month // 12, month % 12 + 1, 1)
            return dt.date(year, month, 1), following - dt.timedelta(days=1)
        day = dt.date(year, month, int(parts[2]))
        return day, day
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _written_switch(text: str) -> tuple[tuple[T.DrugInfo, ...], tuple[T.DrugInfo, ...], str, str | None] | None:
    """The endocrine drugs a text writes as stopped / switched from and those it writes as taken
    after them, the words that may give why the first stopped, and the date the text writes the
    first stopped on when written right after the stop ("Letrozole + palbociclib (palbociclib
    stopped 2025-03)", "... - no palbociclib since 2025-03": "2025-03"; else None) ("Tamoxifen stopped, now
    letrozole", "Switched from tamoxifen to letrozole", "Anastrozole, changed to exemestane due to
    arthralgia": local_codes.yaml drug_mentions switch_opening / switch_between /
    switch_from_opening / switch_from_between); None for any other text: a drug not endocrine,
    names not joined as one regimen on either side, plan, condition or stop words closing it
    ("Letrozole then fulvestrant if progression", "Tamoxifen then letrozole, completed 2020")."""
    planned_from = _planned_clause_start(text)
    if planned_from is not None:
        # "Tamoxifen stopped, now letrozole; palbociclib to start next week": the plan closes a
        # clause of its own, whose drugs are not given (_drug_mentions); the switch is read in the
        # text before it. A plan of the whole text ("Tamoxifen -> letrozole planned") leaves none
        text = text[:planned_from]
    names = _named_drugs(text)
    outside = {info.drug_class for _, info in names} - _SWITCH_CLASSES
    if len(names) < 2 or outside - {"ovarian-suppression"}:
        return None
    tail = text[names[-1][0].end():]
    if _conditional_plan(text) is not None \
            or T.DRUG_HEDGED_CLOSING.match(tail) or T.DRUG_SWITCH_NOT_AFTER.search(tail):
        return None
    opening = text[:names[0][0].start()]
    if (dropped := _cdk46i_stopped_before_partner(text, names, opening, tail)) is not None:
        return dropped
    # ("Palbociclib + letrozole; palbociclib stopped smoking": what stopped is not the drug; tx13)
    stopped = _stop_of_the_drug(tail)
    if outside and (stopped is None or names[-1][1].drug_class in outside):
        # ovarian suppression is read only as the partner kept by the endocrine drug written as
        # stopped after the regimen (below); other switches naming it are left as before
        return None
    if stopped is not None:
        # the date written right after that stop, when the drug stopped ("Letrozole + palbociclib
        # (palbociclib stopped 2025-03)": drug_mentions stopped_when_after), as a whole record's is
        # (_read_class_beside_drug; tx6: it was dropped, the course read "to date unknown")
        when = T.DRUG_STOPPED_WHEN_AFTER.match(tail[stopped.end():])
        stopped_on = when.group("when") if when is not None else None
        # "Exemestane; tamoxifen stopped": the drug named second is the one stopped (two names)
        if len(names) == 2 and not outside and T.LEADING_QUALIFIERS.match(opening) \
                and T.DRUG_SWITCH_STOPPED_SECOND_BETWEEN.match(text[names[0][0].end():names[1][0].start()]) \
                and not T.DRUG_STOPPED_PAUSED.search(tail, stopped.end()):
            if names[0][1].drug_class in ENDOCRINE_CLASSES and names[1][1].drug_class in _ENDOCRINE_PARTNER_CLASSES:
                # (tx10: so is a PI3K/AKT/mTOR inhibitor, "Exemestane. Everolimus stopped": CR B.1,
                # B.4, B.5, B.8; both were read current)
                # "Letrozole. Palbociclib stopped (neutropenia)": the CDK4/6 inhibitor given with the
                # endocrine drug (CR B.9, B.10) is stopped and the endocrine drug goes on (fx1: both were
                # read current); a drug dropped from the regimen, not a new line (CR C.2 step 1)
                return (names[1][1],), (names[0][1],), tail, stopped_on
            return _switch_sides((names[1][1],), (names[0][1],), tail, stopped_on)
        last = names[-1][1]
        # (rt82: and so is a PI3K/AKT/mTOR inhibitor in the four rules below, as tx10 read "Exemestane.
        # Everolimus stopped": CR B.4, B.5, B.8; "Exemestane + everolimus (everolimus stopped)" was read
        # "Currently on everolimus + exemestane")
        if len(names) > 2 and last.drug_class in _ENDOCRINE_PARTNER_CLASSES and (partner := _endocrine_partner(text, names[:-1])) \
                and T.LEADING_QUALIFIERS.match(opening) \
                and T.DRUG_SWITCH_STOPPED_SECOND_BETWEEN.match(text[names[-2][0].end():names[-1][0].start()]) \
                and not T.DRUG_STOPPED_PAUSED.search(tail, stopped.end()):
            # "Letrozole + goserelin (palbociclib stopped)": the CDK4/6 inhibitor, not named before,
            # stopped and its endocrine partner with ovarian suppression going on, as "Letrozole
            # (palbociclib stopped)" reads two names above (CR A.3, B.9, B.10, C.2 step 1; tx9: both
            # letrozole and palbociclib were read current)
            return (last,), partner, tail, stopped_on
        partners = _partners_of_cdk46i_named_again(text, names, opening)
        if partners and T.DRUG_SWITCH_STOPPED_SECOND_BETWEEN.match(_DOSE_FIRST.sub("", text[names[-2][0].end():names[-1][0].start()])) \
                and not T.DRUG_STOPPED_PAUSED.search(tail, stopped.end()):
            # "Letrozole + palbociclib (palbociclib stopped)": the CDK4/6 inhibitor of the regimen is
            # written stopped and its endocrine partner goes on (CR B.9, B.10), a drug dropped from
            # the line, not a new line (CR C.2 step 1), as "Letrozole. Palbociclib stopped" (fx4:
            # both were read current)
            return (last,), partners, tail, stopped_on
        taken = tuple(dict.fromkeys(info for _, info in names[:-1]))
        if len(names) > 2 and any(_switch_family(d) == _switch_family(last) and d.name != last.name for d in taken) \
                and T.LEADING_QUALIFIERS.match(opening) \
                and T.DRUG_SWITCH_STOPPED_SECOND_BETWEEN.match(text[names[-2][0].end():names[-1][0].start()]) \
                and all(T.DRUG_NAMES_JOINED.match(text[a.end():b.start()]) for (a, _), (b, _) in zip(names[:-1], names[1:-1])) \
                and not T.DRUG_STOPPED_PAUSED.search(tail, stopped.end()):
            # "Letrozole + ribociclib (palbociclib stopped)": the CDK4/6 inhibitor named last was given
            # with the endocrine drug of the regimen before it (CR B.9, B.10: with endocrine therapy)
            # and replaced by the one named there (_cdk46i_switch), not given at once with it; so is
            # an endocrine drug named last ("Letrozole + ribociclib (anastrozole stopped)": replaced
            # by letrozole, ribociclib kept; one endocrine drug of a line at a time, CR A.5); so is
            # ovarian suppression beside it ("Letrozole + goserelin (anastrozole stopped)": goserelin
            # kept, CR A.5; tx2: two aromatase inhibitors were read current)
            partners = tuple(d for d in taken if _switch_family(d) != _switch_family(last))
            return _switch_sides((*partners, last), taken, tail, stopped_on)
        return None
    if T.DRUG_PAST_USE_CLOSING.match(tail) or T.DRUG_COMPLETED_CLOSING.match(tail):
        return None
    if len(names) == 2 and not outside and names[0][1].drug_class in ENDOCRINE_CLASSES \
            and names[1][1].drug_class in _ENDOCRINE_PARTNER_CLASSES and T.LEADING_QUALIFIERS.match(opening) \
            and T.DRUG_SWITCH_STOP_BEFORE_SECOND.match(text[names[0][0].end():names[1][0].start()]) \
            and not T.DRUG_STOPPED_PAUSED.search(tail):
        # "Letrozole; stopped palbociclib", "Letrozole (off palbociclib)": the CDK4/6 inhibitor
        # stopped, the endocrine drug going on, as "Letrozole. Palbociclib stopped" (tx3: both were
        # read current; local_codes.yaml drug_mentions switch_stop_before_second; CR B.9, B.10)
        return (names[1][1],), (names[0][1],), tail, None
    partners = _partners_of_cdk46i_named_again(text, names, opening)
    if partners and ((since := T.DRUG_SINCE_WHEN_AFTER.match(tail)) or T.DRUG_SINCE_CAUSE_AFTER.match(tail)) \
            and T.DRUG_STOP_BEFORE_REPEAT.match(text[names[-2][0].end():names[-1][0].start()]):
        # "Letrozole + palbociclib - no palbociclib since 2025-03": the CDK4/6 inhibitor stopped, its
        # endocrine partner going on, as "... (palbociclib stopped 2025-03)" (tx4: both were read
        # current; local_codes.yaml drug_mentions stop_before_repeat, since_when_after, since_cause_after;
        # tx5: since a cycle or a side effect; CR B.9, B.10); the date since when is when it
        # stopped (tx6: dropped, the course read "to date unknown")
        return (names[-1][1],), partners, "", since.group("when") if since else None
    from_opening = bool(T.DRUG_SWITCH_FROM_OPENING.match(opening))
    if not from_opening and not T.DRUG_SWITCH_OPENING.match(opening):
        return None
    between_re = T.DRUG_SWITCH_FROM_BETWEEN if from_opening else T.DRUG_SWITCH_BETWEEN
    # "Stopped palbociclib and letrozole. Now fulvestrant": after a stop verb opening the text, a
    # full stop and "now" / "started" write the switch too (drug_mentions
    # switch_after_stop_opening_between; tx7: all three read current)
    stop_opened = not from_opening and bool(T.DRUG_SWITCH_STOP_OPENING_FIRST.match(opening))
    # each step of the switch ("Anastrozole -> letrozole -> exemestane": two); the names between
    # two steps are one regimen ("Tamoxifen stopped, now letrozole + palbociclib")
    steps = []
    for i in range(1, len(names)):
        gap = text[names[i - 1][0].end():names[i][0].start()]
        between = between_re.match(gap)
        started_after = False
        if stop_opened and not steps and (between is None or not (between.group("stop") or between.group("to"))):
            after_stop = T.DRUG_SWITCH_AFTER_STOP_OPENING_BETWEEN.match(gap)
            if after_stop is None and T.DRUG_STARTED_AFTER.match(tail):
                # "Stopped letrozole; fulvestrant started": the start written after the later drug
                # (drug_mentions switch_after_stop_opening_break_between, started_after; tx8)
                after_stop = T.DRUG_SWITCH_AFTER_STOP_OPENING_BREAK_BETWEEN.match(gap)
                started_after = after_stop is not None
            between = after_stop or between
        if between is not None and (from_opening or between.group("stop") or between.group("to") or started_after):
            if between.group("stop") and T.DRUG_STOPPED_PAUSED.search(between.group("stop")):
                return None  # "Tamoxifen stopped and restarted, letrozole": no switch written
            steps.append((i, between))
        elif not T.DRUG_NAMES_JOINED.match(gap):
            return None
    if not steps:
        return None
    if any(read is False for _, read in _drug_mentions(text)[steps[0][0]:]):
        return None  # a later drug written as not given ("then fulvestrant if progression": planned)
    i, between = steps[-1]
    if not from_opening and not between.group("stop") and T.DRUG_SWITCH_SEQUENCE_ONLY.match(between.group("to")) \
            and T.DRUG_SWITCH_NEXT_AFTER.search(tail):
        return None  # "Letrozole then fulvestrant at progression": the later drug is the next plan
    before = tuple(dict.fromkeys(info for _, info in names[:i]))
    after = tuple(dict.fromkeys(info for _, info in names[i:]))
    reason_words = between.group("stop") or ""
    if T.DRUG_SWITCH_REASON_AFTER.match(tail) or _stop_reason_of_text(tail) in ("progression", "unclear"):
        # "..., changed to exemestane due to arthralgia": why the switch was made. Words after the
        # later drug without such an opening may say how it goes ("now letrozole, stable
        # disease"): not read as why the first stopped (a non-progression reason would keep the
        # line count from being asked), but a progression written there is still asked of
        reason_words += " " + tail
    return _switch_sides(before, after, reason_words, _stop_date_of(between.group("stop")))


def _stop_date_of(stop: str | None) -> str | None:
    """The date a stop clause writes first, right after the stopped drug ("Stopped letrozole
    2025-03; fulvestrant started": "2025-03"; drug_mentions stopped_when_after, read in the group
    "stop" of switch_stop_first_break_between / switch_after_stop_opening_between); None without one."""
    when = T.DRUG_STOPPED_WHEN_AFTER.match(stop) if stop else None
    if when is None and stop and (reason := _REASON_IN_BRACKETS.match(stop)) is not None:
        # "(neutropenia) 2025-03": the date written after the reason in brackets (rt82)
        when = T.DRUG_STOPPED_WHEN_AFTER.match(stop[reason.end():])
    return when.group("when") if when is not None else None


# a reason in brackets opening a stop clause ("(neutropenia) 2025-03")
_REASON_IN_BRACKETS = re.compile(r"^\s*[(\[][^()\[\]]*[)\]]")


@lru_cache(maxsize=1024)
def _questioned_partner_stop(written: str) -> _Unreadable | None:
    """An _Unreadable for a text that _cdk46i_stopped_before_partner would read but for a "?" in
    the stop clause ("Palbociclib stopped?; letrozole", "? stopped palbociclib; letrozole",
    "Palbociclib stopped (?); letrozole"): whether the CDK4/6 (or PI3K/AKT/mTOR) inhibitor is still
    taken cannot be read (tx10: read both current, or the stop as written). None for any other text."""
    lowered = written.lower() if written else ""
    names = _named_drugs(lowered)
    if len(names) < 2 or "?" not in lowered[:names[1][0].start()]:
        return None
    plain = lowered.replace("?", " ")
    found = _named_drugs(plain)
    if _cdk46i_stopped_before_partner(plain, found, plain[:found[0][0].start()], plain[found[-1][0].end():]) is None:
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" questions the stop of {found[0][1].name} '
                       f"before {_listed({info.name for _, info in found[1:]})}: which drugs are taken now cannot be read")


@lru_cache(maxsize=1024)
def _partner_after_comma_unsettled(written: str) -> str | None:
    """Why the drugs taken now cannot be read, for a text writing a CDK4/6 (or PI3K/AKT/mTOR)
    inhibitor stopped right after its name (a date or reason may follow the stop), then its endocrine
    partner alone after a comma with nothing after it ("Palbociclib stopped, letrozole", "Palbociclib
    stopped (neutropenia), letrozole", "Everolimus stopped, exemestane."), or the other way round: the
    partner may go on, as after a ";" ("Palbociclib stopped; letrozole": _cdk46i_stopped_before_partner),
    or be the list stopped, as "Stopped palbociclib, letrozole" reads (_stopped_list); the text does
    not say (drug_mentions stopped_after, switch_stop_first_break_between, not_taken_bare_after;
    rt82, tx10 leftover: both were read current). None for any other text."""
    lowered = written.lower() if written else ""
    names = _named_drugs(lowered)
    # (either order: "Letrozole stopped, palbociclib" leaves the same question)
    if len(names) != 2 or not ((names[0][1].drug_class in _ENDOCRINE_PARTNER_CLASSES and _endocrine_partner(lowered, names[1:]))
                               or (names[0][1].drug_class in ENDOCRINE_CLASSES
                                   and names[1][1].drug_class in _ENDOCRINE_PARTNER_CLASSES)) \
            or not T.LEADING_QUALIFIERS.match(lowered[:names[0][0].start()]) or T.DRUG_STOPPED_PAUSED.search(lowered):
        return None
    gap = lowered[names[0][0].end():names[1][0].start()]
    stopped = T.DRUG_STOPPED_AFTER.match(gap)
    broken = T.DRUG_SWITCH_STOP_FIRST_BREAK_BETWEEN.match(gap[stopped.end():]) if stopped is not None else None
    tail = lowered[names[1][0].end():]
    # (a dose after the partner writes it given: "Palbociclib stopped, letrozole 2.5 mg" reads
    # letrozole alone now, drug_mentions listed_given_dose_after)
    if broken is None or broken.group("brk") != "," or broken.group("on") \
            or not T.DRUG_NOT_TAKEN_BARE_AFTER.match(tail) or T.DRUG_LISTED_GIVEN_DOSE_AFTER.match(tail):
        return None
    partner = names[1][1].name
    return (f'its text "{printable_clip(written.strip(), 80)}" writes {names[0][1].name} stopped, then {partner} '
            "after a comma: whether it goes on or stopped too cannot be read")


def _stop_beside_current_partner(med: _Med, written: str) -> str | None:
    """Why the drugs taken now cannot be read, for a record read as taking a CDK4/6 (or
    PI3K/AKT/mTOR) inhibitor now whose text writes a stop right beside that drug's name ("Off
    palbociclib, on letrozole", "Palbociclib + letrozole: palbociclib stopped", "Capivasertib
    stopped; fulvestrant + palbociclib", "Letrozole + palbociclib; palbociclib d/c 2025-03"): the
    readers above left the stop unread, and the drug written stopped must never be read current (tx11:
    "Currently on letrozole + palbociclib" hid the next line's options; CR A.3, B.9, B.10, C.2 step 1).
    So too an endocrine drug or ovarian suppression written stopped beside its name ("Off letrozole, on
    fulvestrant", "No longer on fulvestrant, on elacestrant"; tx12: read "Currently on fulvestrant +
    letrozole", a switch read as a combination; CR A.3, B.2, C.2 step 1).
    None when no such drug is read current, or the text writes a pause (drug_mentions stopped_paused)."""
    now = med.switch[0].drugs if med.switch is not None else () if med.written_stopped else med.drugs
    stopped = _partners_written_stopped(written.lower() if written else "")
    named = sorted({d.name for d in now} & stopped)
    if not named:
        return None
    # ("d/c": discontinued or discharged, ISMP error-prone abbreviations; drug_mentions stop_abbreviated_after)
    stop = '"d/c" (discontinued or discharged)' if _ABBREVIATED_STOP.search(written) else "stopped"
    return (f'its text "{printable_clip(written.strip(), 80)}" writes {_listed(set(named))} {stop} beside drugs '
            "read as taken now: which drugs are taken now cannot be read")


_ABBREVIATED_STOP = re.compile(r"\bd/c\b(?!'?d)", re.I)


@lru_cache(maxsize=1024)
def _partners_written_stopped(lowered: str) -> frozenset[str]:
    """The CDK4/6 (or PI3K/AKT/mTOR) inhibitors, endocrine drugs and ovarian suppression (tx12) a text
    names with a stop right before the name
    (drug_mentions stop_beside_before: "stopped palbociclib", "off palbociclib", "no longer on
    palbociclib") or right after it (stopped_after, stop_abbreviated_after: "palbociclib stopped",
    "palbociclib d/c"); none when the text writes a pause (stopped_paused: "for 2 weeks"), nor, of the
    endocrine drugs, when it writes a hold (not_taken_held: "(letrozole held)", as before tx12). Cached by text."""
    names = _named_drugs(lowered)
    if not names or T.DRUG_STOPPED_PAUSED.search(lowered):
        return frozenset()
    classes = _STOP_BESIDE_CLASSES if not T.DRUG_NOT_TAKEN_HELD.search(lowered) else _ENDOCRINE_PARTNER_CLASSES
    bounds = [0] + [m.end() for m, _ in names]
    ends = [m.start() for m, _ in names[1:]] + [len(lowered)]
    # a stop right before the next name is that drug's ("Letrozole; stopped palbociclib": palbociclib
    # stopped, not letrozole; tx12, as the endocrine drug named first is read here too)
    return frozenset(info.name for i, (m, info) in enumerate(names)
                     if info.drug_class in classes
                     and (T.DRUG_STOP_BESIDE_BEFORE.search(lowered[bounds[i]:m.start()])
                          or ((i + 1 == len(names) or not T.DRUG_STOP_BESIDE_BEFORE.search(lowered[m.end():ends[i]]))
                              and (_stop_of_the_drug(lowered[m.end():ends[i]])
                                   or T.DRUG_STOP_ABBREVIATED_AFTER.match(lowered[m.end():ends[i]])))))


def _stop_of_the_drug(after_name: str) -> re.Match[str] | None:
    """The stop word right after a drug's name (drug_mentions stopped_after) unless it is followed by
    something else it stops ("palbociclib; stopped smoking": _stop_object; tx13); None else."""
    stopped = T.DRUG_STOPPED_AFTER.match(after_name)
    return stopped if stopped is not None and _stop_object(after_name[stopped.end():]) != "other" else None


@lru_cache(maxsize=1024)
def _stop_object_unsettled_after_a_name(written: str) -> str | None:
    """Why the drugs taken now cannot be read, for a text naming two drugs or more, one of a line
    written right after its name with a stop word followed by a word that says neither whose stop it
    is (_stop_object 'unclear': "Letrozole + palbociclib; palbociclib stopped swimming"; tx13: read
    stopped). None for any other text; a one-drug text is _Med.stop_object_unclear's. Cached by text."""
    lowered = written.lower() if written else ""
    names = _named_drugs(lowered)
    if len(names) < 2 or T.DRUG_STOPPED_PAUSED.search(lowered):
        return None
    ends = [m.start() for m, _ in names[1:]] + [len(lowered)]
    for i, (m, info) in enumerate(names):
        after = lowered[m.end():ends[i]]
        stopped = T.DRUG_STOPPED_AFTER.match(after)
        if info.drug_class in LINE_CLASSES and stopped is not None and _stop_object(after[stopped.end():]) == "unclear":
            return (f'its text "{printable_clip(written.strip(), 80)}" writes a stop word after {info.name} followed '
                    "by words that do not say whose stop it is: whether its drugs are still taken cannot be read")
    return None


@lru_cache(maxsize=1024)
def _stop_object(after_stop: str) -> str:
    """Whose stop the words right after a stop word written after a drug write (drug_mentions
    stop_own_object_after, stop_other_object_after): 'own' (the drug's: nothing, a bracket, a date,
    a reason (stop_reasons too), "it", "taking", "treatment"), 'other' (a habit or a drug not of the pathway: "smoking",
    "calcium", "HRT"; the drug goes on) or 'unclear' (any other word: a misread stop ends a line, a
    misread going on keeps it running, neither safe: asked). Cached by text (EHRs repeat them)."""
    # (a pause after it, "stopped for 2 weeks", "stopped, restarted": the drug's, read as before)
    if T.DRUG_STOP_OTHER_OBJECT_AFTER.match(after_stop):
        return "other"
    # (a stop reason right after it, "stopped PD", "stopped w/ progression": stop_reasons)
    if T.DRUG_STOP_OWN_OBJECT_AFTER.match(after_stop) or T.DRUG_STOPPED_PAUSED.search(after_stop) \
            or _stop_reason_of_text(after_stop) is not None:
        return "own"
    return "unclear"


@lru_cache(maxsize=1024)
def _hedged_stop(written: str) -> str | None:
    """Why the drugs taken now cannot be read, for a text hedging a stop by the word right before
    it ("Possibly stopped palbociclib; letrozole", "Palbociclib possibly stopped": drug_mentions
    stop_hedged; rt82, they were read as taken now). None for any other text. Cached by text."""
    lowered = written.lower() if written else ""
    names = _named_drugs(lowered)
    # the hedged stop must be of a drug of a line (or ovarian suppression, CR A.3) named right before
    # or after it ("Letrozole; possibly stopped smoking", "Letrozole - possibly off work", "Letrozole,
    # denosumab possibly stopped" hedge no stop of such a drug); "off" ends its clause or meets the name
    hedged = next((m for m in T.DRUG_STOP_HEDGED.finditer(lowered)
                   if any((n.end() <= m.start() and _HEDGE_TO_NAME.match(lowered[n.end():m.start()])
                           and (not m.group(0).endswith("off") or _CLAUSE_ENDS.match(lowered, m.end())))
                          or (m.end() <= n.start() and _HEDGE_TO_NAME.match(lowered[m.end():n.start()]))
                          for n, info in names if info.drug_class in LINE_CLASSES | {"ovarian-suppression"})), None)
    if hedged is None:
        return None
    return (f'its text "{printable_clip(written.strip(), 80)}" hedges a stop ("{written[hedged.start():hedged.end()].strip(" ([;,")}"): '
            "whether its drugs are still taken cannot be read")


# only spaces, a bracket or a dose between a hedged stop and its drug ("palbociclib (possibly stopped",
# "possibly stopped palbociclib", "letrozole 2.5 mg possibly stopped", "possibly off palbociclib")
_HEDGE_TO_NAME = re.compile(r"^(?:\s*\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|g))?[\s(\[:,-]*$")


_CLAUSE_ENDS = re.compile(r"\s*(?:$|[).;,\]])")


# the words up to the bracket closing a stop written in brackets ("(stopped 2025-03); ": " 2025-03")
_CLOSING_BRACKET = re.compile(r"^([^()\[\]]*)[)\]]")


def _cdk46i_stopped_before_partner(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...], opening: str,
                                   tail: str) -> tuple[tuple[T.DrugInfo, ...], tuple[T.DrugInfo, ...], str, None] | None:
    """A stop word opening the text, a CDK4/6 inhibitor, a clause break, then its endocrine partner
    going on ("Stopped palbociclib; letrozole continues", "Stopped palbociclib; letrozole"): the
    CDK4/6 inhibitor stopped and the partner taken, with the reason written before the break. The
    partner may be written with ovarian suppression ("Stopped palbociclib; letrozole + goserelin"):
    an AI given to a premenopausal woman with ovarian suppression is one endocrine partner (CR A.3,
    B.9, B.10; tx8: the record was named unreadable, line 1 dropped). None for any other text."""
    if len(names) > 1 and "?" in text[:names[1][0].start()]:
        return None  # "Palbociclib stopped?; letrozole": the stop questioned (_questioned_partner_stop)
    partner = _endocrine_partner(text, names[1:])
    # (tx10: so is a PI3K/AKT/mTOR inhibitor, given with endocrine therapy too: CR B.1, B.4, B.5,
    # B.8; "Everolimus stopped; exemestane continues" was read both current)
    if not partner or names[0][1].drug_class not in _ENDOCRINE_PARTNER_CLASSES:
        return None
    gap = text[names[0][0].end():names[1][0].start()]
    if not T.DRUG_SWITCH_STOP_OPENING_FIRST.match(opening):
        # "Palbociclib stopped; letrozole continues", "Palbociclib stopped 2025-03; letrozole": the
        # stop written right after the CDK4/6 inhibitor is the same stop, read the same way past it
        # (drug_mentions stopped_after; tx10: both were read current)
        stop_after = T.DRUG_STOPPED_AFTER.match(gap) if T.LEADING_QUALIFIERS.match(opening) else None
        if stop_after is None:
            return None
        # "Palbociclib (stopped 2025-03); letrozole": the bracket the stop opened closes before the break
        opened, gap = gap[:stop_after.end()], gap[stop_after.end():]
        if "(" in opened or "[" in opened:
            gap = _CLOSING_BRACKET.sub(r"\1", gap, count=1)
    broken = T.DRUG_SWITCH_STOP_FIRST_BREAK_BETWEEN.match(gap)
    if broken is not None \
            and (T.DRUG_GOING_ON_AFTER.match(tail) or T.DRUG_LISTED_GIVEN_DOSE_AFTER.match(tail)
                 # "Stopped palbociclib, letrozole started": the start written after the partner is
                 # of it alone, as tx8 reads "Stopped letrozole, fulvestrant started" (drug_mentions
                 # started_after; tx9: palbociclib was read current)
                 or T.DRUG_STARTED_AFTER.match(tail)
                 # "Stopped palbociclib; letrozole dose reduction declined": a change of the partner's
                 # dose refused, the partner going on at its dose (tx12; tx11 named it unclear)
                 or _dose_change_refused_after(tail)
                 # "Stopped palbociclib; letrozole 2025-03": a date after the partner alone writes no
                 # stop (drug_mentions partner_dated_after; tx10: both were read current)
                 or ((broken.group("on") or broken.group("brk") in (";", "."))
                     and (T.DRUG_NOT_TAKEN_BARE_AFTER.match(tail) or T.DRUG_PARTNER_DATED_AFTER.match(tail)))) \
            and not T.DRUG_STOPPED_PAUSED.search(tail) and not T.DRUG_STOPPED_PAUSED.search(broken.group("stop") or "") \
            and (not broken.group("brk").endswith("and") or T.DRUG_GOING_ON_AFTER.match(tail) or T.DRUG_STARTED_AFTER.match(tail)):
        # (tx11: "Palbociclib stopped and letrozole continued": after "and" only a partner written
        # going on or started; "Stopped palbociclib and letrozole 2.5 mg" may stop both)
        # "Stopped palbociclib; letrozole continues": the CDK4/6 inhibitor stopped, the endocrine
        # drug going on in the same line (tx4: both were read current; local_codes.yaml drug_mentions
        # switch_stop_opening_first, going_on_after; CR B.9, B.10, C.2 step 1); so is the endocrine
        # drug given by its dose ("Stopped palbociclib, letrozole 2.5 mg", as listed_given_dose_after
        # reads "No palbociclib, letrozole 2.5 mg"; tx6: both were read current), and the one named
        # alone after a full stop or ";" ("Stopped palbociclib; letrozole": the stop clause names
        # palbociclib alone; rt76: both were read current). A reason written before the break is the
        # stop's ("Ceased palbociclib (neutropenia); letrozole": switch_stop_first_break_between;
        # rt76: it left both read current), and so are the words writing the partner going on before
        # it ("Stopped palbociclib. Continue letrozole"); a pause ("for 2 weeks") is no stop (stopped_paused)
        return (names[0][1],), partner, broken.group("stop") or "", _stop_date_of(broken.group("stop"))
    return None


def _endocrine_partner(text: str, named: tuple[tuple[re.Match[str], T.DrugInfo], ...]) -> tuple[T.DrugInfo, ...]:
    """The drugs of named when they are one endocrine drug, alone or with ovarian suppression,
    joined as one regimen ("letrozole", "letrozole + goserelin"): the endocrine partner of a CDK4/6
    inhibitor (an AI given to a premenopausal woman with ovarian suppression, CR A.3, B.9, B.10);
    () for any other names."""
    if not named or sum(info.drug_class in ENDOCRINE_CLASSES for _, info in named) != 1 \
            or not all(info.drug_class in ENDOCRINE_CLASSES or info.drug_class == "ovarian-suppression" for _, info in named) \
            or not all(T.DRUG_NAMES_JOINED.match(text[a.end():b.start()]) for (a, _), (b, _) in zip(named, named[1:])):
        return ()
    return tuple(dict.fromkeys(info for _, info in named))


def _partners_of_cdk46i_named_again(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...], opening: str
                                    ) -> tuple[T.DrugInfo, ...]:
    """The endocrine drugs of a regimen whose CDK4/6 (or PI3K/AKT/mTOR, rt82) inhibitor the text names again last, in the
    order written ("Letrozole + palbociclib (palbociclib stopped)", "Letrozole + palbociclib - no
    palbociclib since 2025-03": letrozole): more than two names, the last a CDK4/6 inhibitor named
    before it too, every other drug endocrine (CR B.9, B.10: given with endocrine therapy), the names
    before the last joined as one regimen (drug_mentions names_joined), only qualifiers before the
    first. Empty for any other text; what the words after the regimen write of the CDK4/6 inhibitor
    (a stop, "no ... since") is _written_switch's to read."""
    last = names[-1][1]
    if len(names) <= 2 or last.drug_class not in _ENDOCRINE_PARTNER_CLASSES or last.name not in {info.name for _, info in names[:-1]} \
            or not T.LEADING_QUALIFIERS.match(opening) \
            or not all(T.DRUG_NAMES_JOINED.match(_DOSE_FIRST.sub("", text[a.end():b.start()]))
                       for (a, _), (b, _) in zip(names[:-1], names[1:-1])):
        return ()
    partners = tuple(dict.fromkeys(info for _, info in names[:-1] if info.name != last.name))
    return partners if partners and all(d.drug_class in ENDOCRINE_CLASSES for d in partners) else ()


def _dose_change_refused_after(tail: str) -> bool:
    """Whether the words after a drug's name write a change of its dose refused and nothing more
    ("letrozole dose reduction declined", "letrozole dose change (declined)", "letrozole treatment
    break refused by patient"): the change refused, the drug going on at its dose, as drug_mentions
    refused_change_after reads "Declined letrozole dose reduction" (FHIR R4 MedicationStatement.status
    of the record, its Dosage unchanged; CR C.2 steps 1-3 the line under way)."""
    change = T.DRUG_REFUSED_CHANGE_AFTER.match(tail)
    rest = tail[change.end():] if change else ""
    refused = T.DRUG_REFUSED_AFTER.match(rest) if change else None
    return refused is not None and _ONLY_PUNCTUATION.match(rest, refused.end()) is not None


_ONLY_PUNCTUATION = re.compile(r"[\s.;,)\]]*$")


# a dose written right after a drug's name ("letrozole 2.5 mg + palbociclib 125 mg (palbociclib
# stopped)": rt82, the doses left the regimen unjoined, both read current)
_DOSE_FIRST = re.compile(r"^\s*\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|g)(?:/m2|/day|/d)?(?:\s+(?:daily|od|qd|bd|bid|po|oral))*")


def _stopped_list(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...]) -> bool:
    """A stop word opens text and its drugs, each named once, are a list joined by bare commas
    ("Stopped palbociclib, letrozole", "Discontinued palbociclib, letrozole and goserelin"), nothing
    after the last but a stop reason (local_codes.yaml drug_mentions stopped_list_opening /
    stopped_list_between): the stop is of the list. Not a pause, nor the last drug written given
    ("..., letrozole alone", "..., letrozole 2.5 mg": _written_switch reads them)."""
    if len(names) < 2 or len({info.name for _, info in names}) != len(names) \
            or not T.DRUG_STOPPED_LIST_OPENING.match(text[:names[0][0].start()]) \
            or T.DRUG_STOPPED_PAUSED.search(text):
        return False
    gaps = [text[a.end():b.start()] for (a, _), (b, _) in zip(names, names[1:])]
    if "," not in "".join(gaps) or not all(T.DRUG_STOPPED_LIST_BETWEEN.match(g) for g in gaps):
        return False
    tail = text[names[-1][0].end():]
    if T.DRUG_LISTED_GIVEN_DOSE_AFTER.match(tail) or T.DRUG_CHOSEN_AFTER.match(tail) or T.DRUG_GOING_ON_AFTER.match(tail):
        return False
    if (dated := T.DRUG_STOPPED_LIST_DATE_AFTER.match(tail)) is not None:
        # "Stopped palbociclib, letrozole 2025-03": the words after the date say the rest (rt74: the
        # date left both read current); the date is not read as their end (stopped_list_date_after)
        tail = tail[dated.end():]
    return _bare_or_a_stop_reason(tail)


def _bare_or_a_stop_reason(tail: str) -> bool:
    """The words after the drugs a stop word opens on say nothing else: none (a dose, punctuation:
    drug_mentions not_taken_bare_after), a stop reason (stop_reasons: "- progression") or a reason
    negated ("- cost not an issue", "- not due to cost": stop_reasons negated_reason_patterns), which
    states none, as nothing would (rt82, rt77 bug 2: "No further palbociclib - cost not an issue" was
    read as taken since fix-ord11 read the negation as no reason)."""
    return bool(T.DRUG_NOT_TAKEN_BARE_AFTER.match(tail)) or _stop_reason_of_text(tail) is not None \
        or (T.STOP_NEGATED_REASON.search(tail) is not None
            and T.DRUG_NOT_TAKEN_BARE_AFTER.match(T.STOP_NEGATED_REASON.sub(" ", tail)) is not None)


def _each_clause_stopped(text: str, names: tuple[tuple[re.Match[str], T.DrugInfo], ...]) -> tuple[str | None, ...] | None:
    """For a text of two clauses or more split by a full stop or ";" between drug names
    (drug_mentions stop_opening_clause_break), each naming its drugs as one regimen (names_joined)
    and writing them stopped, by a stop word before them (switch_stop_opening_first: "Stopped
    palbociclib") or right after them (stopped_after: "letrozole stopped"), no pause written
    (stopped_paused): the date each stop writes right after it (stopped_when_after) or None, one a
    clause. None for any other text."""
    if len(names) < 2 or T.DRUG_STOPPED_PAUSED.search(text):
        return None
    first_opening = text[:names[0][0].start()]
    if not (T.LEADING_QUALIFIERS.match(first_opening) or T.DRUG_SWITCH_STOP_OPENING_FIRST.match(first_opening)):
        return None
    clauses, start, clause_from = [], 0, 0
    for k in range(1, len(names) + 1):
        gap_from = names[k - 1][0].end()
        gap = text[gap_from:names[k][0].start()] if k < len(names) else text[gap_from:]
        brk = T.DRUG_STOP_OPENING_CLAUSE_BREAK.search(gap) if k < len(names) else None
        if k < len(names) and brk is None:
            if not T.DRUG_NAMES_JOINED.match(gap):
                return None
            continue
        clause_end = gap_from + brk.start() if brk is not None else len(text)
        opening = text[clause_from:names[start][0].start()]
        after = text[gap_from:clause_end]
        stopped = T.DRUG_STOPPED_AFTER.match(after)
        if stopped is not None:  # "letrozole stopped 2025-05"
            when = T.DRUG_STOPPED_WHEN_AFTER.match(after[stopped.end():])
        elif T.DRUG_SWITCH_STOP_OPENING_FIRST.match(opening):  # "Stopped palbociclib 2025-03"
            when = T.DRUG_STOPPED_WHEN_AFTER.match(after)
            if when is None and not T.DRUG_NOT_TAKEN_BARE_AFTER.match(after) and _stop_reason_of_text(after) is None:
                return None
        else:
            return None
        clauses.append(when.group("when") if when is not None else None)
        start, clause_from = k, clause_end + 1
    return tuple(clauses) if len(clauses) > 1 else None


# drugs given with endocrine therapy that a written switch may carry on either side ("Tamoxifen
# stopped, now letrozole + palbociclib", "Letrozole + palbociclib, now fulvestrant + palbociclib",
# "Tamoxifen stopped, now exemestane + everolimus"): CDK4/6 inhibitors (CR B.9, B.10) and the
# PI3K/AKT/mTOR inhibitors (B.1, B.4, B.5, B.8); not chemotherapy ("AC then paclitaxel" stays one
# regimen). Not ovarian suppression: a statement naming it is read by its depot length
# (mappings/depots.py), which a split into two uses would have to carry; left as before, but as
# the partner kept when the endocrine drug named last is written as stopped ("Letrozole + goserelin
# (anastrozole stopped)": _written_switch), the depot read on the record before the split.
# drugs given with endocrine therapy, not alone: CDK4/6 inhibitors (CR B.9, B.10), PI3K/AKT/mTOR
# inhibitors (B.1, B.4, B.5, B.8)
_ENDOCRINE_PARTNER_CLASSES = frozenset({"cdk46i", "pi3k-akt-mtor"})
_SWITCH_CLASSES = ENDOCRINE_CLASSES | _ENDOCRINE_PARTNER_CLASSES
# the drugs the stop-beside safety net reads (_partners_written_stopped): the inhibitors given with
# endocrine therapy (tx11), the endocrine drugs and ovarian suppression, which CR A.3 counts with the
# endocrine drug (tx12: "Off letrozole, on fulvestrant" read both current; CR B.2, C.2 step 1)
_STOP_BESIDE_CLASSES = _SWITCH_CLASSES | {"ovarian-suppression"}


def _switch_family(drug: T.DrugInfo) -> str:
    """'endocrine' for an endocrine drug (CR A.5: AI, SERM, SERD), else its class (cdk46i, ...)."""
    return "endocrine" if drug.drug_class in ENDOCRINE_CLASSES else drug.drug_class


def _switch_sides(before: tuple[T.DrugInfo, ...], after: tuple[T.DrugInfo, ...], reason_words: str,
                  stopped_on: str | None) -> tuple[tuple[T.DrugInfo, ...], tuple[T.DrugInfo, ...], str, str | None] | None:
    """The drugs stopped and those taken after them when the switch is one of endocrine therapy:
    endocrine therapy on both sides, another endocrine drug after (CR A.5: AI, SERM, SERD); a
    partner named on both sides is taken still ("Letrozole + palbociclib, now fulvestrant +
    palbociclib": palbociclib now, letrozole stopped). None otherwise ("Letrozole then letrozole +
    palbociclib", "Palbociclib stopped, now ribociclib + letrozole": no endocrine switch)."""
    endocrine_before = {d.name for d in before if d.drug_class in ENDOCRINE_CLASSES}
    endocrine_after = {d.name for d in after if d.drug_class in ENDOCRINE_CLASSES}
    cdk_switch = _cdk46i_switch(before, after, endocrine_before, endocrine_after)
    if cdk_switch is not None:
        return (*cdk_switch, reason_words, stopped_on)
    if not endocrine_before or not endocrine_after or endocrine_before & endocrine_after:
        return None
    kept = {d.name for d in after}
    return tuple(d for d in before if d.name not in kept), after, reason_words, stopped_on


def _cdk46i_switch(before: tuple[T.DrugInfo, ...], after: tuple[T.DrugInfo, ...], endocrine_before: set[str],
                   endocrine_after: set[str]) -> tuple[tuple[T.DrugInfo, ...], tuple[T.DrugInfo, ...]] | None:
    """A switch of CDK4/6 inhibitor under the same endocrine therapy ("Letrozole + palbociclib, now
    letrozole + ribociclib", "Letrozole + palbo -> ribo"): the earlier CDK4/6 inhibitor stopped,
    the later one taken now with the endocrine drug, written again or not (a CDK4/6 inhibitor is
    given with endocrine therapy, CR B.9, B.10); two CDK4/6 inhibitors are not given at once. The
    endocrine drug after it, if named, one of those before; None otherwise (another endocrine drug
    after: an endocrine switch, read by _switch_sides). A record naming the CDK4/6 inhibitors alone
    ("Palbociclib stopped, now ribociclib", its endocrine partner on a record of its own) is the
    same switch: two CDK4/6 inhibitors are not given at once either."""
    cdk_before = tuple(d for d in before if d.drug_class == "cdk46i")
    cdk_after = tuple(d for d in after if d.drug_class == "cdk46i")
    if not cdk_before or not cdk_after or not endocrine_after <= endocrine_before \
            or {d.name for d in cdk_before} & {d.name for d in cdk_after} \
            or any(d.drug_class not in ENDOCRINE_CLASSES | {"cdk46i"} for d in before + after):
        return None
    kept = tuple(d for d in before if d.name in endocrine_before and d.name not in endocrine_after)
    return cdk_before, kept + after


def _read_written_switch(med: _Med, written: str, text_only: bool) -> None:
    """Sets med.switch to the endocrine switch its text writes (_written_switch) when the record's
    drugs are drugs of that switch: the _Med of the drugs taken after it (with the line-count
    question of another class, _endocrine_sequence_question) and the _Med of those before it
    (written as stopped, with the stop reason written). Read only on a record still under way
    (read_exposures); a record ended reads as before (both past, sequence kept). A record whose
    code names only the drug written as stopped ("Tamoxifen stopped, now letrozole" coded
    tamoxifen: text_only False) is read by its code, as before: which drug is current, its code's
    or its text's, cannot be told, and the gap medication-unreadable names the later drug."""
    if not written:
        return
    lowered = written.lower()
    switch = _written_switch(lowered)
    if switch is None:
        return
    before, after, reason_words, stopped_on = switch
    read = {d.name for d in med.drugs}
    if read - {d.name for d in before + after}:
        return  # the record's code names another drug than its text: not this reading
    later = {d.name for d in after}
    if not text_only and not read & later:
        if med.named_not_given is None:
            med.named_not_given = (printable_clip(written.strip(), 80), frozenset(), frozenset(later))
        return
    if not text_only:
        if not any(d.drug_class in ENDOCRINE_CLASSES for d in before) and not read & {
                d.name for d in after if d.drug_class == "cdk46i"}:
            # coded letrozole, "Letrozole + palbociclib, now letrozole + ribociclib": the code names
            # the endocrine drug given throughout, not which CDK4/6 inhibitor: read by its code, as before
            return
        # coded letrozole, "Tamoxifen stopped, now letrozole + palbociclib": the code names the drug
        # taken now (FHIR R4 medication[x]), as "Letrozole + palbociclib" coded letrozole reads
        after = tuple(d for d in after if d.name in read)
    now, past = _Med(after, med.label), _Med(before, med.label)
    past.written_stopped = True
    past.stop_written = _stop_reason_of_text(reason_words)
    past.completed_on = _written_day_range(stopped_on)  # when it stopped, if written (read_exposures)
    # another class after the first: of endocrine therapy (a switch of CDK4/6 inhibitor under the same
    # endocrine drug, _cdk46i_switch, stops none: the endocrine drug after it is no other class)
    endocrine_stopped = any(d.drug_class in ENDOCRINE_CLASSES for d in before)
    # (ovarian suppression kept beside the drug after, "Letrozole + goserelin (anastrozole stopped)",
    # is no class of a line: CR C.2, OFS agents do not count as lines; rt52: it asked whether
    # anastrozole -> letrozole, one class, was a new line, as "Letrozole (anastrozole stopped)" does not)
    added = {d.drug_class for d in after if d.drug_class != "ovarian-suppression"} - {d.drug_class for d in before}
    if (added and endocrine_stopped
            and past.stop_written != "other") or past.stop_written == "progression":
        # another class after the first, for no reason written: whether it is a new line (CR
        # C.2 step 1) and when it started is not written: asked, as for "Letrozole then
        # fulvestrant" (_endocrine_sequence_question); a switch written as at progression (any
        # class) is a new line whose start is not written: asked too. A switch written as for
        # toxicity or another non-progression reason stays in the line (CR C.2: no new line)
        now.endocrine_sequence = (printable_clip(written.strip(), 80), tuple(d.name for d in before),
                                  tuple(d.name for d in after))
        now.switched_at_progression = past.stop_written == "progression"
    now.switched_for = past.stop_written
    med.switch = (now, past)
    partners = _partners_written_before_cdk46i_stop(lowered, before, after)
    if partners:
        whole = _Med(partners + before, med.label)
        whole.written_stopped, whole.stop_written = True, past.stop_written
        med.switch_past_written = whole


def _partners_written_before_cdk46i_stop(text: str, before: tuple[T.DrugInfo, ...], after: tuple[T.DrugInfo, ...]
                                         ) -> tuple[T.DrugInfo, ...]:
    """The endocrine drugs of the regimen after a CDK4/6 inhibitor switch that the text names before
    the CDK4/6 inhibitor stopped, itself named before the one taken after ("Letrozole + palbociclib
    stopped for progression, now letrozole + ribociclib": letrozole): the regimen written as stopped
    is the endocrine drug with it (CR B.9, B.10: a CDK4/6 inhibitor is given with endocrine therapy).
    Empty for other switches and when the stop is written after the later drug ("Letrozole +
    ribociclib (palbociclib stopped)": letrozole is written with ribociclib)."""
    stopped = {d.name for d in before}
    if not stopped or any(d.drug_class != "cdk46i" for d in before):
        return ()
    later = {d.name for d in after if d.drug_class == "cdk46i"}
    names = _named_drugs(text)
    first_stopped = next((i for i, (_, info) in enumerate(names) if info.name in stopped), None)
    first_later = next((i for i, (_, info) in enumerate(names) if info.name in later), None)
    if first_stopped is None or first_later is None or first_stopped > first_later:
        return ()
    kept = {d.name for d in after if d.drug_class in ENDOCRINE_CLASSES}
    return tuple(dict.fromkeys(info for _, info in names[:first_stopped] if info.name in kept))


@lru_cache(maxsize=1024)
def _endocrine_sequence(text: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The endocrine drugs a text names before and after a sequence word when those after add
    a class ("Letrozole then fulvestrant": (letrozole,), (fulvestrant,); local_codes.yaml
    drug_mentions sequence_between); None for one class ("Anastrozole then letrozole") or none."""
    names = _named_drugs(text)
    for i in range(1, len(names)):
        if not T.DRUG_SEQUENCE_BETWEEN.match(text[names[i - 1][0].end():names[i][0].start()]):
            continue
        first = [info for _, info in names[:i] if info.drug_class in ENDOCRINE_CLASSES]
        then = [info for _, info in names[i:] if info.drug_class in ENDOCRINE_CLASSES]
        if first and then and not {d.drug_class for d in then} <= {d.drug_class for d in first}:
            return tuple(dict.fromkeys(d.name for d in first)), tuple(dict.fromkeys(d.name for d in then))
    return None


def _unnamed_in(cc: Any) -> _Unreadable | None:
    """A drug concept that names no pathway drug but words unnamed_drug reads, as unreadable."""
    why = unnamed_drug_in_concept(cc)
    return _Unreadable(f"its text {why}") if why else None


_CC_CACHE: dict[tuple[Any, ...], tuple[list[T.DrugInfo], str]] = {}
_CC_CACHE_MAX = 4096


def _resolve_cc(cc: dict[str, Any]) -> tuple[list[T.DrugInfo], str]:
    """drugs_from_cc + label, cached by the concept's codings and text (EHRs repeat them)."""
    cods = codings(cc)
    text = cc.get("text") if type(cc.get("text")) is str else None
    key = (tuple(cods), text)
    hit = _CC_CACHE.get(key)
    if hit is None:
        if len(_CC_CACHE) >= _CC_CACHE_MAX:
            _CC_CACHE.clear()
        hit = _CC_CACHE[key] = (drugs_from_cc(cc), _cc_label(cc))
    return list(hit[0]), hit[1]


def find_in_bundle(ref: Any, res: dict[str, Any], index: dict[tuple[str, str], Any]) -> dict[str, Any] | None:
    """The resource a Reference inside a Bundle entry names: '#id' a contained resource;
    otherwise the entry whose fullUrl is the reference (urn:uuid:..., absolute URL:
    FHIR R4 Bundle resolution), else the entry with that type and id (relative or
    absolute 'Type/id', a _history version ignored). `index` as bundle_index builds it."""
    r = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(r, str) or not r:
        return None
    if r.startswith("#"):
        return contained_resource(res, r)
    hit = index.get(("fullUrl", r))
    if hit is not None:
        return hit
    type_and_id = ref_type_and_id(r)
    return index.get(type_and_id) if type_and_id is not None else None


def bundle_index(entries: list[tuple[str | None, dict[str, Any]]]) -> dict[tuple[str, str], Any]:
    """(fullUrl, resource) pairs indexed for find_in_bundle: by ("fullUrl", url), by
    (type, id), and, for a resource without an id, by the type and id its fullUrl ends in."""
    index: dict[tuple[str, str], Any] = {}
    for full_url, r in entries:
        rtype = r.get("resourceType")
        if isinstance(full_url, str) and full_url:
            index[("fullUrl", full_url)] = r
        if not isinstance(rtype, str):
            continue
        if isinstance(r.get("id"), str):
            index[(rtype, r["id"])] = r
        elif isinstance(full_url, str) and not full_url.startswith("urn:"):
            parts = full_url.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == rtype:
                index.setdefault((rtype, parts[-1]), r)
    return index


def resolve_medication(ctx: Ctx | None, res: dict[str, Any], index: dict[tuple[str, str], Any] | None = None
                       ) -> tuple[list[T.DrugInfo], str]:
    """Drugs and the human text of a medication[x] element."""
    cc = res.get("medicationCodeableConcept")
    if isinstance(cc, dict):
        return _resolve_cc(cc)
    ref = res.get("medicationReference")
    med = None
    if ctx is not None:
        med = ctx.resolve(ref, res)
    elif index is not None:
        med = find_in_bundle(ref, res, index)
    label = ref.get("display") if isinstance(ref, dict) and isinstance(ref.get("display"), str) else ""
    if isinstance(med, dict):
        found = drugs_from_cc(med.get("code"))
        resolve = (lambda r: ctx.resolve(r, res)) if ctx is not None else (
            (lambda r: find_in_bundle(r, res, index)) if index is not None else None)
        for item in ingredient_items(med, resolve):
            for info in drugs_from_cc(item):
                if info not in found:
                    found.append(info)
        if found:
            return found, _cc_label(med.get("code")) or label
        label = _cc_label(med.get("code")) or label
    if label:
        return drugs_from_text(label), label
    return [], label


def medication_conflict(res: dict[str, Any], index: dict[tuple[str, str], Any]) -> str | None:
    """What makes the drug of a drafted medication order ambiguous, or None: its codes
    and its text, two of its codings, or a Medication's code and its ingredients name
    different drugs (e.g. RxNorm palbociclib with the text "Kisqali 200 mg tablets").
    drugs_from_cc would read the codes alone, a guess: the order checks must say the
    draft was not checked instead (DESIGN: ambiguous data is named, never guessed)."""
    cc = res.get("medicationCodeableConcept")
    if isinstance(cc, dict):
        return concept_conflict(cc)
    med = find_in_bundle(res.get("medicationReference"), res, index)
    if not isinstance(med, dict):
        return None
    items = ingredient_items(med, lambda r: find_in_bundle(r, res, index))
    for concept in [med.get("code")] + items:
        conflict = concept_conflict(concept) if isinstance(concept, dict) else None
        if conflict:
            return conflict
    code_drugs = _names(drugs_from_cc(med.get("code"))) if isinstance(med.get("code"), dict) else set()
    ingredient_drugs = {n for i in items for n in _names(drugs_from_cc(i))}
    if code_drugs and ingredient_drugs and not _compatible(code_drugs, ingredient_drugs):
        return (f"the Medication's code names {_listed(code_drugs)} but its ingredients name "
                f"{_listed(ingredient_drugs)}")
    return None


def concept_conflict(cc: dict[str, Any]) -> str | None:
    """Codings of one CodeableConcept are translations of one concept: no coding may name
    drugs another coding does not cover (a pack code with its components' codes is one
    concept). Its text names the drug the prescriber picked: when it names a therapy drug
    and shares none with the codes, the two disagree."""
    coded = [(code, _names(T.DRUG_BY_CODE.get(code, ()))) for system, code, _ in codings(cc)
             if code and (is_rxnorm(system) or not system)]
    coded = [(code, names) for code, names in coded if names]
    union = {n for _, names in coded for n in names}
    if coded and not any(names >= union for _, names in coded):
        return "its codings name different drugs (" + "; ".join(
            f"RxNorm {code}: {_listed(names)}" for code, names in coded) + ")"
    text = bounded(cc["text"]) if isinstance(cc.get("text"), str) else ""
    named = {n for n in _names(drugs_from_text(text), _SETTING_CLASSES) if n}
    if union and named and not _compatible(union, named):
        return f"its code names {_listed(union)} but its text names {_listed(named)}"
    return None


def _names(infos, classes: frozenset[str] | set[str] | None = None) -> set[str]:
    # transplant-dose everolimus is everolimus as far as agreement goes (the text decides
    # the dose: drugs_from_cc)
    return {"everolimus" if i is T.TRANSPLANT_EVEROLIMUS else i.name for i in infos
            if classes is None or i.drug_class in classes}


def _compatible(a: set[str], b: set[str]) -> bool:
    """a and b share a drug; a plain-trastuzumab code with a trastuzumab ADC named is the
    known mis-coding drugs_from_cc resolves to the ADC (CR A.5 hazard), not a conflict."""
    if a & b:
        return True
    adc_for_plain = ("trastuzumab" in a and any("trastuzumab" in n for n in b)) or (
        "trastuzumab" in b and any("trastuzumab" in n for n in a))
    return adc_for_plain


def _listed(names: set[str]) -> str:
    return " + ".join(sorted(names))


def _drug_names(exps: list[_Exp], classes: frozenset[str]) -> set[str]:
    """The names of the drugs of `classes` the exposures give."""
    return {d.name for e in exps for d in e.drugs if d.drug_class in classes}


def _cc_label(cc: Any) -> str:
    if not isinstance(cc, dict):
        return ""
    if isinstance(cc.get("text"), str) and cc["text"]:
        return cc["text"][:120]
    for _, code, disp in codings(cc):
        if disp:
            return disp[:120]
    for _, code, _ in codings(cc):
        if code:
            return f"RxNorm {code}"
    return ""


_DRUG_CACHE: dict[T.DrugInfo, Drug] = {}


def to_drug(info: T.DrugInfo) -> Drug:
    """The Drug model for a table entry (one shared instance per ingredient; treat as read-only)."""
    d = _DRUG_CACHE.get(info)
    if d is None:
        d = _DRUG_CACHE[info] = Drug(rxnorm=info.rxnorm, name=info.name, drug_class=info.drug_class)  # type: ignore[arg-type]
    return d


# --- exposures -----------------------------------------------------------------------


def _dates(res: dict[str, Any], rtype: str,
           read: Callable[[Any], dt.date | None] = parse_date) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) of a medication record (read_exposures inlines it with parse_date);
    with read=date_last, the last day each can mean when it is a partial date."""
    if rtype == "MedicationStatement":
        start, end = period(res, "effective", read)
        return start or _asserted_start(res, end, read), end
    if rtype == "MedicationAdministration":
        start, end = period(res, "effective", read)
        return start, end or start
    # MedicationRequest
    start = end = None
    for di in as_list(res.get("dosageInstruction")):
        if isinstance(di, dict) and isinstance(di.get("timing"), dict):
            rep = di["timing"].get("repeat")
            if isinstance(rep, dict) and isinstance(rep.get("boundsPeriod"), dict):
                bp = rep["boundsPeriod"]
                start = start or read(bp.get("start"))
                end = end or read(bp.get("end"))
    dr = res.get("dispenseRequest")
    if isinstance(dr, dict) and isinstance(dr.get("validityPeriod"), dict):
        vp = dr["validityPeriod"]
        start = start or read(vp.get("start"))
        if status_code(res.get("status")) in ("completed", "stopped"):
            end = end or read(vp.get("end"))
    return start or read(res.get("authoredOn")), end


def _ended_by_assertion(res: dict[str, Any], statement: bool, status: str | None, start: dt.date | None,
                        end: dt.date | None, as_of: dt.date) -> dt.date | None:
    """A MedicationStatement ended by its status ('stopped' / 'completed') without an end date:
    its dateAsserted (FHIR R4: when the statement was asserted, its status then) is a day by
    which the drug had ended, when it is within its time of use (not before its start, not
    after as_of); else None."""
    if not statement or status not in _ENDED_STATUSES or end is not None:
        return None
    asserted = parse_date(res.get("dateAsserted"))
    if asserted is None or asserted > as_of or (start is not None and asserted < start):
        return None
    return asserted


def _asserted_start(res: dict[str, Any], end: dt.date | None,
                    read: Callable[[Any], dt.date | None] = parse_date) -> dt.date | None:
    """A MedicationStatement without an effective start: its dateAsserted (FHIR R4: when
    the statement was made) stands for the start only when it is not after the recorded
    end; asserted after the drug stopped (an intake history), it says nothing about when
    the drug was started (the start is unknown)."""
    asserted = read(res.get("dateAsserted"))
    if asserted is not None and end is not None and asserted > end:
        return None
    return asserted


class _Unreadable:
    """A medication[x] whose drug cannot be read, and why. Not the same as a drug the
    pathway does not use: an unread record may be the missing line of therapy, so it
    becomes a gap (medication-unreadable) instead of being skipped."""

    __slots__ = ("why", "if_ended")

    def __init__(self, why: str) -> None:
        self.why = why
        # the record read as given, when its status says a course ended or is held ("Letrozole:
        # no" on a completed record: no longer taken, as the status says; set by _read_text)
        self.if_ended: _Med | None = None


_NO_DRUG_NAME = _Unreadable("no drug code or name that can be read")


def drug_concept_readable(cc: Any) -> bool:
    """The concept names a drug the service can read: some text or display, or an
    RxNorm code (drugs.yaml lists every pathway drug's codes, so an RxNorm code not
    there is a drug the pathway does not use). A code of another system alone
    (local, NDC) cannot be read."""
    if cc_text(cc).strip():
        return True
    return any(code and (not system or is_rxnorm(system)) for system, code, _ in codings(cc))


def _unreadable(ctx: Ctx, res: dict[str, Any]) -> _Unreadable | None:
    """Why the drug of a medication resource that resolved to no pathway drug cannot be
    read; None when it was read (then it is a drug the pathway does not use)."""
    cc = res.get("medicationCodeableConcept")  # not a dict here: _med_of decided those
    ref = res.get("medicationReference")
    if ref is None:
        return _Unreadable("no medication code or reference" if cc is None else "medicationCodeableConcept is not readable")
    display = ref.get("display") if isinstance(ref, dict) else None
    med = ctx.resolve(ref, res)
    if isinstance(display, str) and display.strip():
        # read from the reference's display (or the Medication's code)
        return _unnamed_in(med.get("code") if isinstance(med, dict) else None) or _unnamed_in({"text": display})
    target = ref_str(ref)
    if not target:
        return _Unreadable("the medication reference names no Medication")
    target = target[:120]
    if not isinstance(med, dict):
        return _Unreadable(f"the referenced {target} is not in the data")
    if medication_readable(med):
        return _unnamed_in(med.get("code"))
    return _Unreadable(f"the referenced {target} has no drug code or name")


def medication_readable(med: dict[str, Any]) -> bool:
    """A Medication resource names a drug the service can read, by its code or one of its
    ingredients (drug_concept_readable)."""
    return drug_concept_readable(med.get("code")) or any(drug_concept_readable(i) for i in ingredient_items(med))


def ingredient_items(med: dict[str, Any], resolve: Callable[[Any], Any] | None = None) -> list[dict[str, Any]]:
    """The drug concepts of a Medication's ingredients (FHIR R4 Medication.ingredient.item[x]:
    a CodeableConcept, or a Reference(Substance | Medication): the code of the resource it
    names, contained in the Medication or found by `resolve`, else its display)."""
    items: list[dict[str, Any]] = []
    for ing in as_list(med.get("ingredient")):
        if not isinstance(ing, dict):
            continue
        item = ing.get("itemCodeableConcept")
        if isinstance(item, dict):
            items.append(item)
            continue
        ref = ing.get("itemReference")
        if not isinstance(ref, dict):
            continue
        r = ref_str(ref)
        target = contained_resource(med, r) if r and r.startswith("#") else None
        if target is None and r and resolve is not None:
            target = resolve(ref)
        code = target.get("code") if isinstance(target, dict) else None
        if isinstance(code, dict):
            items.append(code)
        elif isinstance(ref.get("display"), str) and ref["display"].strip():
            items.append({"text": ref["display"]})
    return items


_MED_CACHE: dict[tuple[Any, ...], _Med | _Unreadable | _NotGiven | None] = {}
_MISSING: Any = object()
_DATE_MIN = dt.date.min
_ORDER = attrgetter("order")  # read_exposures sets it on every _Exp


def _med_of(ctx: Ctx, res: dict[str, Any]) -> _Med | _Unreadable | _NotGiven | None:
    """resolve_medication(ctx, res) as a _Med (None: read, but no drug the pathway cares
    about; _Unreadable: the drug could not be read)."""
    cc = res.get("medicationCodeableConcept")
    if isinstance(cc, dict):
        key = raw_cc_key(cc)
        if key is not None:
            try:
                return _MED_CACHE[key]
            except KeyError:
                pass
        drugs, label = _resolve_cc(cc)
        if drugs:
            # codes and text (or two codings) naming different drugs: reading the code alone
            # would be a guess (the draft-order reader says so too: medication_conflict)
            conflict = concept_conflict(cc)
            written = cc_as_written(cc)
            med = _Unreadable(conflict) if conflict else _read_text(drugs, label, written, not any(
                T.DRUG_BY_CODE.get(code) for system, code, _ in codings(cc) if code and (is_rxnorm(system) or not system)))
        else:
            med = (_planned_record(cc_as_written(cc))
                   or (_unnamed_in(cc) if drug_concept_readable(cc) else _NO_DRUG_NAME))
        if key is not None:
            if len(_MED_CACHE) >= _CC_CACHE_MAX:
                _MED_CACHE.clear()
            _MED_CACHE[key] = med
        return med
    drugs, label = resolve_medication(ctx, res)
    if not drugs:
        return _unreadable(ctx, res)
    return _read_text(drugs, label, label, False)


def _read_text(drugs: list[T.DrugInfo], label: str, written: str, text_only: bool) -> _Med | _Unreadable | _NotGiven:
    """What a medication record's text says of the drugs read from it: all refused or not started
    (_NotGiven), a refusal or a premedication whose drug cannot be told (_Unreadable), else the
    drugs given but those refused inside the regimen (_Med), with what its text says beside them
    (_read_class_beside_drug, _read_written_switch). The therapy history and the draft-order
    reader (drafted_drugs) read a record's text the same way. A text writing its drugs as not taken and nothing more ("No letrozole":
    _not_taken_record) keeps its reading without that rule (_NotGiven.if_ended): on a record whose
    status says a course ended or is held (completed, stopped, on-hold) it says the drug is not taken now, as "Off
    letrozole" does, not that it was never given (FHIR R4 MedicationStatement.status completed:
    "no longer being taken"; a drug never taken has its own status, not-taken). "Never on
    letrozole" there disagrees with the status: unreadable (drug_mentions never_taken_words)."""
    in_error = _in_error_record(written)
    if in_error is not None:
        return in_error
    refused = _refused(written)
    if refused is not None:
        return refused
    med = (_premedication_record(written) or _refusal_or_another(drugs, written) or _planned_record(written)
           or _unsettled_not_taken_list(written) or _unsettled_stop_then_drug(written) or _questioned_partner_stop(written)
           or _given_of(drugs, label, written))
    if type(med) is _Med:
        _read_class_beside_drug(med, written)
        _read_written_switch(med, written, text_only)
        # "Stopped palbociclib; letrozole + anastrozole", "Anastrozole + goserelin + letrozole
        # (palbociclib stopped)": two aromatase inhibitors read as taken now, which no labelled
        # regimen gives together (CR B.9, B.10: a CDK4/6 inhibitor "in combination with an
        # aromatase inhibitor"; cards/order_rules.yaml extra_drug warns of two drafted): which
        # one is taken cannot be read (tx10: both were read current)
        together = _aromatase_inhibitors_taken_together(med, written)
        ais_unsettled = (f'its text "{printable_clip(written.strip(), 80)}" writes {_listed(set(together))} '
                         "as its regimen, two aromatase inhibitors no labelled regimen gives together: "
                         "which one is taken cannot be read") if together else None
        # "Palbociclib stopped, letrozole", "Possibly stopped palbociclib; letrozole": which drugs
        # are taken now is not written (rt82)
        unsettled = ais_unsettled or _partner_after_comma_unsettled(written) or _hedged_stop(written) \
            or _stop_beside_current_partner(med, written) or med.stop_object_unclear \
            or _stop_object_unsettled_after_a_name(written)
        if unsettled is not None:
            # on a record whose status says its course ended or is held, read as before (if_ended):
            # no drug read current
            unclear = _Unreadable(unsettled)
            unclear.if_ended = med
            return unclear
    answered_no = _answered_no(written)
    if answered_no is not None:
        unclear = _Unreadable(answered_no.why)  # (a copy: _answered_no's answer is cached)
        if type(med) is _Med and _answer_beside_drug(written)[0] != "not yet":  # ("not yet": never started)
            # on a record whose status says its course ended or is held, "no" agrees with it: not
            # taken now, as "No letrozole" there reads (its end asked when not recorded)
            med.written_stopped = True
            unclear.if_ended = med
        return unclear
    not_taken = _not_taken_record(written)
    if not_taken is None:
        return med
    never = _NotGiven(not_taken.why)  # (a copy: _not_taken_record's answer is cached)
    never.if_ended = med if not T.DRUG_NEVER_TAKEN.search(written) else _Unreadable(
        f'its text "{printable_clip(written.strip(), 80)}" writes its drug as never taken, while its status says it '
        "was taken (completed, stopped, on-hold): whether it was given cannot be read")
    return never


def _aromatase_inhibitors_taken_together(med: _Med, written: str) -> tuple[str, ...]:
    """The aromatase inhibitors the record is read as taking now when there are two or more (its
    drugs, or those after a written switch: "Letrozole (anastrozole stopped)" takes one) and its
    text joins them as one regimen or as alternatives ("letrozole + anastrozole", "letrozole /
    anastrozole", "letrozole or anastrozole": drug_mentions names_joined, alternative_between);
    () else ("Anastrozole then exemestane at progression": a sequence, read as before)."""
    now = med.switch[0].drugs if med.switch is not None else med.drugs
    ais = tuple(dict.fromkeys(d.name for d in now if d.drug_class == "aromatase-inhibitor"))
    if len(ais) < 2:
        return ()
    lowered = written.lower()
    names = _named_drugs(lowered)
    # the first name of each: "Letrozole + anastrozole (anastrozole stopped)" joins them too (the
    # stop of the one named again is not read: which one is taken stays unclear)
    at = sorted(next(i for i, (_, info) in enumerate(names) if info.name == ai) for ai in ais
                if any(info.name == ai for _, info in names))
    # (or listed, only punctuation and a dose between them: "Letrozole 2.5 mg; anastrozole 1 mg",
    # drug_mentions not_taken_bare_after's shape)
    if len(at) < 2 or any(not (T.CLASS_JOINED.match(gap) or T.DRUG_ALTERNATIVE_BETWEEN.match(gap)
                               or T.DRUG_NOT_TAKEN_BARE_AFTER.match(gap))
                          for gap in (lowered[names[i][0].end():names[i + 1][0].start()] for i in range(at[0], at[-1]))):
        return ()
    return ais


@lru_cache(maxsize=1024)
def _answered_no(written: str) -> _Unreadable | None:
    """An _Unreadable for a record whose text writes only "no" after its drug(s) ("Letrozole: no",
    "Letrozole - no": local_codes.yaml drug_mentions answered_no_after): the answer to a question
    the record does not keep (taking it, tolerating it, refusing it), so whether the drug was given
    cannot be read; it was read as given in silence ("Currently on letrozole")."""
    said = _answer_beside_drug(written)
    if said is None:
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" writes only "{said[0]}" {said[1]} its drug: '
                       "whether it was given, refused or stopped cannot be read")


@lru_cache(maxsize=1024)
def _answer_beside_drug(written: str) -> tuple[str, str] | None:
    """The answer a text writes alone after its drug(s) (local_codes.yaml drug_mentions
    answered_no_after): "no" ("Letrozole: no", "Letrozole - nil"), "not now" as written ("Letrozole:
    not now", its spaces made one), with "after"; or "not now" written first, closed by a colon,
    nothing but a dose after the drug ("Not now: letrozole": answered_no_before), with "before";
    None when it writes none."""
    lowered = written.lower() if written else ""
    names = _named_drugs(lowered)
    if not names:
        return None
    answered = T.DRUG_ANSWERED_NO_AFTER.match(lowered[names[-1][0].end():])
    if answered is not None:
        return (" ".join(answered.group("answer").split()) if answered.group("answer").startswith("not") else "no"), "after"
    first = T.DRUG_ANSWERED_NO_BEFORE.match(lowered[:names[0][0].start()])
    if first is not None and T.DRUG_NOT_TAKEN_BARE_AFTER.match(lowered[names[-1][0].end():]) \
            and all(T.DRUG_NAMES_JOINED.match(lowered[a.end():b.start()]) for (a, _), (b, _) in zip(names, names[1:])):
        return " ".join(first.group("answer").split()), "before"
    return None


def written_as_stopped(ctx: Ctx, res: dict[str, Any]) -> bool:
    """The record's text writes its drug as stopped, as past use or as a course completed
    ("Metformin - stopped", "Insulin (discontinued)", "Hx metformin"), whatever its status: the
    reading _read_class_beside_drug gives every record (the therapy history acts on it for the
    anticancer drugs; the diabetes reader, mappings.factors, for the glucose-lowering ones)."""
    med = _med_of(ctx, res)
    return type(med) is _Med and med.written_stopped


def _refusal_or_another(drugs: list[T.DrugInfo], written: str) -> _Unreadable | None:
    """An _Unreadable for a record whose text joins one of its drugs by "or" to a refused one
    ("Letrozole; declined palbociclib or ribociclib": _or_joined_to_a_refusal): whether that
    drug was given or refused cannot be read; None otherwise."""
    unclear = _or_joined_to_a_refusal(written.lower()) & {d.name for d in drugs} if written else frozenset()
    if not unclear:
        return None
    return _Unreadable(f'its text "{printable_clip(written.strip(), 80)}" writes a refusal before {_listed(set(unclear))}: '
                       f"whether {_listed(set(unclear))} was given cannot be read")


def drafted_drugs(drugs: list[T.DrugInfo], label: str, written: str) -> tuple[list[T.DrugInfo], str | None]:
    """The drugs a drafted medication order's text orders, read as the therapy history reads a
    record's text (_read_text's rules, said of an order), and why none can be checked: a
    refusal ("Fulvestrant (patient declined)"), a premedication for the drug ("Paclitaxel
    premedication"), or endocrine therapy
    of another class written after the first ("Letrozole then fulvestrant": _endocrine_sequence;
    the order does not say which one it orders now). Drugs written as refused inside the regimen
    are not ordered ("Letrozole + palbociclib (palbociclib declined)": letrozole)."""
    if not written:
        return drugs, None
    quoted = printable_clip(written.strip(), 80)
    in_error = T.DRUG_IN_ERROR.search(written)
    if in_error is not None:
        return [], f'its text "{quoted}" writes "{" ".join(in_error.group(0).split())}": whether it orders its drug is not clear'
    refusal = refusal_in_text(written.lower())
    if refusal is not None:
        # a draft is an order: one that writes its drug as refused may be entered in error or
        # record the refusal; which, the service cannot tell
        return [], (f'its text "{quoted}" writes ' + ("its drug as refused or not started: whether it orders it"
                                                      if refusal == "refused" else
                                                      "a refusal and names more than one drug: which one it orders")
                    + " is not clear")
    if (said := _answer_beside_drug(written)) is not None:
        return [], (f'its text "{quoted}" writes only "{said[0]}" {said[1]} its drug: whether it '
                    "orders it is not clear")
    if _unsettled_not_taken_list(written) is not None:
        return [], f'its text "{quoted}" writes "no" before drugs joined by a comma: which one it orders is not clear'
    if (split := _stop_then_drug(written)) is not None:
        # "Stopped letrozole. Fulvestrant": the history names such a record unreadable (tx7); an
        # order so written was checked as every drug named ordered (rt76: "Letrozole drafted with
        # fulvestrant: ... two endocrine agents")
        return [], (f'its text "{quoted}" writes a stop before {_listed(set(split[0]))} and names {_listed(set(split[1]))} '
                    "after it without writing that drug started: which one it orders is not clear")
    if _not_taken_record(written) is not None:
        # "No letrozole", "No letrozole or palbociclib": the history reads such a record as no
        # therapy given (FHIR R4 MedicationStatement.status not-taken); an order so written was
        # checked as ordering the drug it says is not taken
        named = _listed({info.name for _, info in _named_drugs(written.lower())})
        return [], (f'its text "{quoted}" names {named} as not taken, but not as the drug it orders: whether it '
                    f"orders {named} is not clear")
    if _premedication_record(written) is not None:
        return [], (f'its text "{quoted}" names a premedication for its drug: whether it orders the drug or its '
                    "premedication is not clear")
    hedged = _hedged_draft(written.lower())
    if hedged is not None:
        return [], (f'its text "{quoted}" names {hedged} with a hedge ("?", "possible", "likely", "query"), but not as the drug it '
                    "orders: whether it orders it is not clear")
    med = _given_of(drugs, label, written)
    if type(med) is not _Med:
        return [], f'its text "{quoted}" writes its drugs as refused or not started: whether it orders them is not clear'
    refused_next = _refusal_before_a_later_name(written.lower()) & {d.name for d in med.drugs}
    if refused_next:
        # "Fulvestrant 500 mg; declined palbociclib": the history reads the regimen (the words may
        # be the next drug's refusal, refused_in_regimen); an order is not checked as that drug
        return [], (f'its text "{quoted}" writes a refusal before {_listed(refused_next)}: whether it orders '
                    f"{_listed(refused_next)} is not clear")
    hedged_one = _hedged_in_regimen_names(written.lower())
    if hedged_one:
        # "Letrozole (likely) + palbociclib", "Letrozole + possible palbociclib": the history names
        # the hedged drug as not given; an order is not checked as if it left that drug out
        return [], (f'its text "{quoted}" names {_listed(set(hedged_one))} with a hedge ("?", "possible", "likely", '
                    f'"query"), but not as the drug it orders: whether it orders {_listed(set(hedged_one))} is not clear')
    optional = _optional_names(written.lower())
    if optional:
        # "Fulvestrant ± palbociclib": a blinded arm or a choice left open (drug_mentions optional_before)
        return [], (f'its text "{quoted}" writes {_listed(set(optional))} as optional: whether it orders '
                    f"{_listed(set(optional))} is not clear")
    sequence = _endocrine_sequence(written.lower())
    # ("Fulvestrant, then letrozole if progression": letrozole is a plan, fulvestrant ordered)
    if sequence is not None and set(sequence[1]) & {d.name for d in med.drugs}:
        first, then = sequence
        return [], (f'its text "{quoted}" writes {_listed(set(then))} after '
                    f"{_listed(set(first))}, endocrine therapy of another class: which one it orders now is not "
                    "written")
    switch = _drafted_switch(written.lower(), drugs)
    if switch is not None:
        # "Tamoxifen stopped, now letrozole": the order is of the drug taken after the switch, as
        # the history reads an active record (_written_switch); read as both, it was checked as
        # tamoxifen + letrozole ("two endocrine agents"). An order naming only the drug written as
        # stopped ("Tamoxifen (switched to letrozole)") orders which one is not clear
        stopped, later = switch
        if not later & {d.name for d in med.drugs}:
            return [], (f'its text "{quoted}" writes {_listed(stopped)} as stopped or switched from and '
                        f"{_listed(later)} after it: which one it orders is not clear")
        # "Letrozole + palbociclib, changed to ribociclib" read from its text (its drugs name the
        # one stopped: no code names them): ribociclib, which that reading leaves out as switched
        # to, is ordered with letrozole, as the history reads the text (_read_written_switch);
        # checked as letrozole alone, it was not ("Letrozole drafted without ribociclib")
        named = {d.name for d in drugs}
        later_unread = [d for d in drugs_switched_to(written.lower()) if d.name in later - named] \
            if named & stopped else []
        return [d for d in drugs if d in med.drugs and d.name in later] + later_unread, None
    switched_to = {d.name for d in drugs_switched_to(written.lower())} - {d.name for d in med.drugs}
    if switched_to:
        # "Switch tamoxifen to letrozole", "Palbociclib, changed to ribociclib": checked in silence
        # as the drug switched from (the history reads it so, the other named as not read); an
        # order of it, or of the drug switched to, which one is not clear
        return [], (f'its text "{quoted}" names {_listed(switched_to)} as the drug '
                    f"{_listed({d.name for d in med.drugs})} is switched to: which one it orders is not clear")
    return [d for d in drugs if d in med.drugs], None


def _drafted_switch(text: str, drugs: list[T.DrugInfo]) -> tuple[frozenset[str], frozenset[str]] | None:
    """The drugs a drafted order's text writes as stopped and those after them (_written_switch),
    when its drugs are drugs of that switch and the switch is written as done: not a sequence
    word alone between two names ("Letrozole then anastrozole": a sequence, which may be a plan;
    drug_mentions sequence_between), as "stopped", "now" or "switched to" write it."""
    switch = _written_switch(text)
    if switch is None:
        return None
    before, after, _, _ = switch
    names = _named_drugs(text)
    if {d.name for d in drugs} - {d.name for d in before + after} or any(
            T.DRUG_SEQUENCE_BETWEEN.match(text[a.end():b.start()]) for (a, _), (b, _) in zip(names, names[1:])):
        return None
    return frozenset(d.name for d in before), frozenset(d.name for d in after)


def _hedged_draft(text: str) -> str | None:
    """The drugs a drafted order's text hedges ("? Fulvestrant", "Possible fulvestrant", "Query
    fulvestrant", "Fulvestrant?": local_codes.yaml drug_mentions hedged_opening / hedged_closing),
    not a hedge of a fact of it ("Query letrozole adherence": _hedge_of_a_drug_fact); None otherwise."""
    names = _named_drugs(text)
    if not names:
        return None
    first, last = names[0][0], names[-1][0]
    regimen = len(names) == 1 or _one_regimen(text, list(names))
    if T.DRUG_HEDGED_OPENING.match(text[:first.start()]) and not _hedge_of_a_drug_fact(text, first):
        return _listed({info.name for _, info in names}) if regimen else names[0][1].name
    # "?" after a regimen's last drug is the regimen's; after a clause of its own ("Letrozole;
    # palbociclib?") it is that clause's drug's alone, which is not ordered (_drug_mentions)
    if T.DRUG_HEDGED_CLOSING.match(text[last.end():]) and regimen:
        return _listed({info.name for _, info in names})
    return None


def _hedged_in_regimen_names(text: str) -> frozenset[str]:
    """The drugs of a regimen a text hedges alone: a hedge closing the drug's clause before the
    next name (_hedged_in_regimen: "Letrozole (likely) + palbociclib") or opening the clause of a
    later name (local_codes.yaml drug_mentions hedged_opening: "Letrozole + possible palbociclib")."""
    names = _named_drugs(text)
    found = {info.name for (m, info), (nxt, _) in zip(names, names[1:]) if _hedged_in_regimen(text[m.end():nxt.start()])}
    found |= {info.name for (prev, _), (m, info) in zip(names, names[1:])
              if T.DRUG_HEDGED_OPENING.match(text[prev.end():m.start()])
              and not T.DRUG_HEDGE_OF_A_FACT_AFTER.match(text[m.end():])}
    return frozenset(found)


def _optional_names(text: str) -> frozenset[str]:
    """The drugs a text writes as optional after another ("Fulvestrant ± palbociclib":
    {palbociclib}; local_codes.yaml drug_mentions optional_before)."""
    names = _named_drugs(text)
    return frozenset(info.name for i, (m, info) in enumerate(names) if i and (
        T.DRUG_OPTIONAL_BEFORE.search(text[max(0, m.start() - NOT_GIVEN_BEFORE_CHARS):m.start()])
        or _alternative_cdk46i(text, names, i)))


def _refusal_before_a_later_name(text: str) -> frozenset[str]:
    """The drugs after the first a text names right after refusal words opening their clause
    (local_codes.yaml drug_mentions refused_before, read past the clause end the history reader
    reads, _refusal_opens_last_clause: "Letrozole, declined palbociclib", "Fulvestrant 500 mg;
    patient refused palbociclib")."""
    names = _named_drugs(text)
    return frozenset(info.name for (prev, _), (m, info) in zip(names, names[1:])
                     if _refusal_opens_last_clause(text[prev.end():m.start()])) | _or_joined_to_a_refusal(text)


_OR_JOINED = re.compile(r"^\s*or\s*$", re.I)


@lru_cache(maxsize=1024)
def _or_joined_to_a_refusal(text: str) -> frozenset[str]:
    """The drugs a text joins by "or" to a drug written right after refusal words ("declined
    palbociclib or ribociclib": {ribociclib}): they may be refused too. refused_in_regimen reads
    the first alone as refused (names_joined has no "or": "letrozole or anastrozole" is no
    regimen of both), so whether the others were given, or are ordered, is not written."""
    names = _named_drugs(text)
    found: set[str] = set()
    refusing = joined = False
    for (prev, _), (m, info) in zip(names, names[1:]):
        between = text[prev.end():m.start()]
        joined = (refusing or joined) and bool(_OR_JOINED.match(between))
        refusing = _refusal_opens_last_clause(between)
        if joined:
            found.add(info.name)
    return frozenset(found)


def drug_named_not_ordered(written: str) -> str | None:
    """Why a drafted order whose text names no drug as ordered cannot be passed over as a drug
    the pathway does not use: the text opens with words naming a pathway drug as planned, as
    the drug a premedication is for or as the reason for the order ("Planned fulvestrant",
    "Consider fulvestrant", "Premedication for paclitaxel": local_codes.yaml drug_mentions
    not_given_before, read at the start of the text only, where a record names its own drug),
    so the order may be that drug or another one (the history reads such a record as no
    therapy given; a draft is an order, and which drug it orders is not written). None when
    another word comes first ("Dexamethasone pre paclitaxel": dexamethasone is ordered)."""
    text = written.lower() if written else ""
    first = next(((info, m) for m, info in _named_drugs(text)), None)
    if first is None or any(as_ is None for _, as_ in _drug_mentions(text)):
        return None
    before = T.DRUG_NOT_GIVEN_BEFORE.search(text[:first[1].start()])
    if before is None or text[:before.start()].strip(" \t-:([*"):
        return None
    return (f'its text "{printable_clip(written.strip(), 80)}" names {first[0].name} but not as the drug it orders '
            "(a plan, a premedication for it, the reason for the order): which drug it orders is not written")


def _given_of(drugs: list[T.DrugInfo], label: str, written: str) -> _Med | _NotGiven:
    """The _Med of a record's drugs but those its text writes as refused inside the regimen
    (refused_in_regimen: "Letrozole (declined) + palbociclib" is palbociclib given); a
    _NotGiven when that leaves none."""
    refused = refused_in_regimen(written.lower()) if written else frozenset()
    if refused:
        given = [d for d in drugs if d.name not in refused]
        if not given:
            return _NotGiven(f'its text "{printable_clip(written.strip(), 80)}" says the drugs were refused or '
                             "not started")
        drugs = given
    stopped = _supportive_drugs_written_stopped(written.lower()) if written else frozenset()
    if stopped and any(d.name not in stopped for d in drugs):
        drugs = [d for d in drugs if d.name not in stopped]
    return _Med(tuple(drugs), label)


# the drugs beside the pathway's that a card acts on when taken now: glucose-lowering drugs (the
# treated-diabetes caution of the PI3K/AKT inhibitor cards, CR A.4, C.3 row 14) and bone agents
# (the bone-agent wording); named in another drug's record with a stop, they are not taken now
_SUPPORTIVE_CLASSES = frozenset({"antihyperglycemic", "bone-agent"})
# ... and ovarian suppression, no line either (CR "lines of therapy": OFS agents do not count as
# lines): "Letrozole; goserelin stopped after BSO" is letrozole taken now, goserelin not (rt85: tx12's
# stop safety net named the record unclear, its line dropped; before tx12 goserelin was read current)
_DROPPED_WHEN_WRITTEN_STOPPED = _SUPPORTIVE_CLASSES | {"ovarian-suppression"}


@lru_cache(maxsize=1024)
def _supportive_drugs_written_stopped(lowered: str) -> frozenset[str]:
    """The glucose-lowering drugs, bone agents and ovarian suppression (rt85) a text names after its first drug, another one,
    with a stop right before the name (drug_mentions stop_beside_before: "Letrozole; stopped
    metformin", "Letrozole; off metformin") or right after it (stopped_after, stop_abbreviated_after:
    "Letrozole (metformin stopped)", "Letrozole; metformin discontinued"): stopped, not taken now, so
    not read from that record, whose own drug goes on (tx14: read as taken now, the treated-diabetes
    caution shown, the bone-agent wording changed). None when the text writes a pause (stopped_paused:
    "stopped metformin for 2 days"), nor of the record's own drug named again. Cached by text."""
    names = _named_drugs(lowered)
    if len(names) < 2 or T.DRUG_STOPPED_PAUSED.search(lowered):
        return frozenset()
    own = names[0][1].name
    bounds = [m.end() for m, _ in names]
    ends = [m.start() for m, _ in names[2:]] + [len(lowered)]
    return frozenset(info.name for i, (m, info) in enumerate(names[1:])
                     if info.drug_class in _DROPPED_WHEN_WRITTEN_STOPPED and info.name != own
                     and (T.DRUG_STOP_BESIDE_BEFORE.search(lowered[bounds[i]:m.start()])
                          or _stop_of_the_drug(lowered[m.end():ends[i]])
                          or T.DRUG_STOP_ABBREVIATED_AFTER.match(lowered[m.end():ends[i]])))


UNREADABLE_NAMED = 5  # records named in the medication-unreadable message (all are in its sources)


def _records_gap(ctx: Ctx, code: str, records: list[tuple[Source, str]], text: str) -> None:
    """A gap naming the first UNREADABLE_NAMED records ("{named}" in text; "and N more"), citing all."""
    if not records:
        return
    named = "; ".join(why for _, why in records[:UNREADABLE_NAMED])
    if len(records) > UNREADABLE_NAMED:
        named += f"; and {len(records) - UNREADABLE_NAMED} more"
    ctx.gap(code, text.format(named=named), [src for src, _ in records])


def _written_end_within(done: tuple[dt.date, dt.date] | None, start: dt.date | None, as_of: dt.date
                        ) -> tuple[dt.date, dt.date | None] | None:
    """The end a date written in a record's text gives its course (_written_day_range: its first
    day, and its last when the date names a month or a year), when it is within the time of use:
    not before the course's start, not after as_of. None else (not written, or not read as its end)."""
    if done is not None and (start is None or done[0] >= start) and done[1] <= as_of:
        return done[0], (done[1] if done[1] != done[0] else None)
    return None


def read_exposures(ctx: Ctx, metastatic_from: dt.date | None = None) -> list[_Exp]:
    """The exposures of ctx's medication records. metastatic_from: the first start day surely in
    the metastatic setting (build_therapy's m_sure), None when no metastatic date is known: a
    completion milestone (_Med.completion_milestone) on a record started then is not an end."""
    exps: list[_Exp] = []
    unread: list[tuple[str, str]] = []  # (reference, why) of records whose drug could not be read
    backwards: list[tuple[Source, str]] = []  # anticancer records whose end is before their start
    hedged_stops: list[tuple[Source, str]] = []  # anticancer records stopped for a progression only suspected
    in_error_notes: list[tuple[Source, str]] = []  # records whose stop reason / note writes "in error"
    hedged_other = False  # ... or for another reason only suspected ("toxicity?": _stop_reason_of_text)
    status_unknown: list[tuple[Source, str]] = []  # anticancer records with status 'unknown', not ended by as_of
    stopped_in_text: list[tuple[Source, str]] = []  # anticancer records under way by their status, stopped by their text
    named_not_given: list[tuple[str, _Med]] = []  # (reference, med) of records naming drugs not given by them
    refusal_open: list[tuple[Source, str, str, frozenset[str]]] = []  # anticancer records refused after an open start (_time_of_use): source, why, reference, drugs
    held: list[tuple[Source, str, frozenset[str]]] = []  # anticancer administrations on-hold (and their drugs)
    append = exps.append
    as_of = ctx.as_of
    source = _fast.source
    # records whose time of use starts after as_of, read once every other record is: a renewal
    # of a drug under way is read, the others are not given yet (_renews)
    deferred: list[tuple[str, dict[str, Any]]] = []
    for rtype, records, renewing in _exposure_passes(ctx, deferred):
        request = rtype == "MedicationRequest"
        statement = rtype == "MedicationStatement"
        admin = rtype == "MedicationAdministration"
        for res in records:
            try:
                # any case, no spaces: status_code(res.get("status")) or "", inlined (fhir.status_code)
                status = written.strip().lower() if type(written := res.get("status")) is str else ""
                if status in _SKIP_STATUS:
                    ctx.ignore(res, _SKIP_STATUS[status], f"{rtype} with status '{status}' is not therapy given")
                    continue
                if request:
                    # any case, no surrounding spaces, as the status (fhir.status_code, inlined)
                    intent = written.strip().lower() if type(written := res.get("intent")) is str else None
                    if intent in _NOT_AN_ORDER_INTENTS:
                        ctx.ignore(res, "not-given", f"MedicationRequest with intent '{intent}' is not therapy given")
                        continue
                    dnp = res.get("doNotPerform")
                    prohibits = False if dnp is None or dnp is False else do_not_perform(dnp)
                    if prohibits:  # FHIR R4: the request prohibits the drug ("true" as a string too)
                        ctx.ignore(res, "not-given", "MedicationRequest with doNotPerform=true is not therapy given")
                        continue
                cc = res.get("medicationCodeableConcept")
                med = _MISSING
                if type(cc) is dict:
                    items = cc.get("coding")
                    if type(items) is list and len(items) == 1 and type(c0 := items[0]) is dict:
                        # raw_cc_key(cc) for one coding, inlined without its str-or-None checks: the
                        # cache holds only raw_cc_key's keys (str or None throughout), which a key with
                        # another component (a number, a bool) never equals; an unhashable one (a list,
                        # a dict) raises TypeError, and _med_of reads the record as before
                        try:
                            med = _MED_CACHE.get((cc.get("text"), c0.get("system"), c0.get("code"),
                                                  c0.get("display")), _MISSING)
                        except TypeError:
                            pass
                    else:
                        key = raw_cc_key(cc)
                        if key is not None:
                            med = _MED_CACHE.get(key, _MISSING)
                if med is _MISSING:
                    med = _med_of(ctx, res)
                if med is None:
                    continue  # read: not a drug the pathway cares about
                if type(med) in (_NotGiven, _Unreadable) and med.if_ended is not None and status in _TAKEN_STATUSES:
                    # "No letrozole" on a record whose status says its course ended or is held: not
                    # taken now, as the status says (a stop written: _read_class_beside_drug)
                    med = med.if_ended
                if type(med) is _Unreadable:
                    unread.append((ctx.ref(res), med.why))
                    continue
                if request and prohibits is None and type(med) is _Med:
                    # doNotPerform neither true nor false (1, "yes"): whether the request gave or
                    # prohibited the drug is unclear, never read as given (as the draft reader)
                    unread.append((ctx.ref(res), f"its doNotPerform is {printable_clip(repr(dnp), 40)}, neither "
                                                 "true nor false: whether it ordered or prohibited the drug is unclear"))
                    continue
                if type(med) is _NotGiven:
                    ctx.ignore(res, "not-given", f"{rtype}: {med.why}, so it is not therapy given")
                    continue
                if med.also_unread is not None and not renewing:  # (named on the first pass)
                    # the named drug is read; the drug its text joins to it is not
                    unread.append((ctx.ref(res), med.also_unread))
                if med.named_not_given is not None and not renewing:
                    named_not_given.append((ctx.ref(res), med))
                # _dates(res, rtype), inlined
                if request:
                    start = end = None
                    dis = res.get("dosageInstruction")
                    if dis is not None:
                        for di in (dis if isinstance(dis, list) else [dis]):
                            if isinstance(di, dict):
                                timing = di.get("timing")
                                if isinstance(timing, dict):
                                    rep = timing.get("repeat")
                                    if isinstance(rep, dict):
                                        bp = rep.get("boundsPeriod")
                                        if isinstance(bp, dict):
                                            start = start or parse_date(bp.get("start"))
                                            end = end or parse_date(bp.get("end"))
                    bounds_start = start
                    dr = res.get("dispenseRequest")
                    if isinstance(dr, dict):
                        vp = dr.get("validityPeriod")
                        if isinstance(vp, dict):
                            start = start or parse_date(vp.get("start"))
                            if status in ("completed", "stopped"):
                                end = end or parse_date(vp.get("end"))
                    start = start or parse_date(res.get("authoredOn"))
                else:
                    start, end = period(res, "effective")
                    if statement:
                        start = start or _asserted_start(res, end)
                    else:
                        end = end or start
                if start and start > as_of and med.line and not admin and not (end and end < start):
                    # the time of use written starts after as_of (FHIR R4 MedicationRequest.
                    # dosageInstruction.timing.repeat.boundsPeriod "when the medication is to be
                    # taken"; MedicationStatement.effective[x] "is/was/will be taken"): a drug to be
                    # given, not yet given, as a statement 'intended' (_SKIP_STATUS); no line, no
                    # class used. Not an order's authoredOn or dispense validity alone: a refill
                    # written ahead says nothing of the dose taken today. Not a period ending
                    # before its start either: one of its dates is wrong (therapy-end-before-start)
                    if (not request or bounds_start) and not renewing:
                        deferred.append((rtype, res))  # read after the others: a renewal? (_renews)
                        continue
                    if (not request or bounds_start) and not _renews(exps, med, res):
                        ctx.ignore(res, "not-given", f"{rtype} ({med.names}) is to be taken from "
                                                     f"{start.isoformat()}, after the as-of date "
                                                     f"{as_of.isoformat()}: not given yet")
                        # still an order of the drug: a partner of a drug drafted beside it
                        # (cards/orders.py), not a line; unless its status says nothing more will
                        # be given on it (_ENDED_STATUSES: stopped before its start, completed)
                        rid = res.get("id")
                        if status not in _ENDED_STATUSES:
                            for d in med.drugs:
                                ctx.to_be_given.setdefault(d.name, []).append(
                                    f"{rtype}/{rid if isinstance(rid, str) and rid else '?'}")
                        continue
                ended_before_start = None
                if start and end and end < start:
                    # FHIR R4 Period: end, when present, is not before start; one of the two is
                    # wrong and which cannot be told: the end is not used, a gap names it
                    ended_before_start, end = end, None
                # a partial date reads as its first day: keep the last day it can mean
                # where it may matter (the setting is decided on the start's whole range)
                start_last = end_last = None
                if (start is not None and start.day == 1) or (end is not None and end.day == 1):
                    start_last, end_last = _dates(res, rtype, date_last)
                    start_last = start_last if start_last != start else None
                    end_last = end_last if end is not None and end_last != end else None
                # ongoing on as_of: a statement / request not ended before it whose status is
                # still under way (_ONGOING_*); an administration in progress, or completed
                # within the dosing window (ADMIN_ACTIVE_DAYS, longer for ovarian suppression)
                if end and end < as_of and not admin:
                    active = False
                elif statement:
                    active = status in _ONGOING_STATEMENT
                elif request:
                    active = status in _ONGOING_REQUEST
                elif status == "in-progress":
                    active = True
                elif status == "completed" and (end or start):
                    window = ADMIN_ACTIVE_DAYS_OFS if med.ofs else ADMIN_ACTIVE_DAYS
                    if med.ofs:  # a 4- or 6-month depot given lasts longer (mappings/depots.py)
                        window = window_days(window, depot_weeks(
                            res, {d.name for d in med.drugs if d.drug_class == "ovarian-suppression"},
                            lambda ref, res=res: ctx.resolve(ref, res)))
                    active = 0 <= (as_of - (end or start)).days <= window  # type: ignore[operator]
                else:
                    active = False
                rid = res.get("id")
                ref = f"{rtype}/{rid if isinstance(rid, str) and rid else '?'}"
                src = source(ref, start, med.display if med.display is not None else f"{med.names} ({rtype})", None,
                             start_last)
                if ended_before_start is not None and med.line:
                    backwards.append((src, f"{ref} ({med.names}: end {ended_before_start.isoformat()}, "
                                           f"start {start.isoformat()})"))  # type: ignore[union-attr]
                said = bool(res.get("statusReason") or res.get("note"))
                if said and status in _ENDED_STATUSES and not admin and _refusal_stated(res, med):
                    used = _time_of_use(res, request)
                    if used is None:
                        ctx.ignore(res, "not-given", f"{rtype} with status '{status}' gives a refusal (or a drug "
                                                     "never started) as the reason for its status and no time the drug was taken, "
                                                     "so it is not therapy given")
                        continue
                    if used == "open" and med.line:
                        refusal_open.append((_src_of(_ref_of(rtype, res), start, med, rtype, start_last),
                                             f"{_ref_of(rtype, res)} ({med.names}: "
                                             f"'{printable_clip(_stop_words(res), 80)}')", ref, med.line_names))
                stop, planned = _stop_reading(res) if said else (None, False)
                if stop is None and med.stop_written is not None:
                    stop = med.stop_written  # "Tamoxifen, stopped after 3 weeks (intolerance)"
                span = med.span_end
                if span is not None and end is None and med.line and not admin and span[1] < as_of:
                    # "Tamoxifen 2015-2020" with no end recorded: the span's end, past, ends the course
                    # (drug_mentions span_closing; an adjuvant course so written was read as taken at the
                    # recurrence: CR C.1, C.3). A span ending before the record's own start is named
                    if start is None or span[0] >= start:
                        end, end_last = span[0], (span[1] if span[1] != span[0] else None)
                    elif active:
                        stopped_in_text.append((src, f"{ref} ({med.names}, status '{status}': "
                                                     f"'{printable_clip(med.label, 80)}')"))
                    active = False
                if active and med.written_stopped and med.line and not admin \
                        and not _milestone_reached(med, start, metastatic_from, as_of):
                    # "Tamoxifen (stopped)" on a record still 'active' / 'on-hold' with no end
                    # before as_of: the text, written for this drug, says it stopped; the status
                    # may not have been updated. Read as no longer given, when it stopped is not
                    # written: named (as status 'unknown' is); a completion with its date written
                    # ("course completed 2019") ended then, when that is within its time of use
                    active = False
                    written_end = _written_end_within(med.completed_on, start, as_of)
                    if written_end is not None:
                        end, end_last = written_end
                    else:
                        stopped_in_text.append((src, f"{ref} ({med.names}, status '{status}': "
                                                     f"'{printable_clip(med.label, 80)}')"))
                if status == "unknown" and med.line and not (end and end < as_of):
                    # FHIR R4 medication-statement-status / medicationrequest-status / medication-
                    # admin-status 'unknown': the authoring system does not know the status. Read
                    # as not ongoing (as before), but whether the drug is still given is not known
                    status_unknown.append((src, f"{ref} ({med.names})"))
                if admin and status == "on-hold" and med.line:
                    held.append((src, f"{ref} ({med.names}, {start.isoformat() if start else 'undated'})",
                                 med.line_names))
                if said and med.line and T.DRUG_IN_ERROR.search(words := _stop_words(res)):
                    # "Stopped in error" / "entered in error" as its statusReason or note: the record in
                    # error only by its status (entered-in-error, skipped above); here named, read by
                    # its status and dates (tx4: it read as a stop with no reason, in silence)
                    in_error_notes.append((src, f"{ref} ({med.names}: '{printable_clip(words, 120)}')"))
                if stop == "unclear" and med.line:
                    # (the reason hedged in the drug's text, "Letrozole stopped - toxicity?", when the
                    # record gives no statusReason / note: that text is quoted; tx6: it quoted '')
                    words = _stop_words(res) or med.label
                    hedged_stops.append((src, f"{ref} ({med.names}: '{printable_clip(words, 120)}')"))
                    # ("Toxicity?": a reason other than progression only suspected; tx4)
                    hedged_other = hedged_other or not T.DISEASE_STATUS_UNCLEAR.search(words.lower())
                if active and med.switch is not None:
                    # "Tamoxifen stopped, now letrozole" on a record under way: the drug written last
                    # is taken now, the one before it was taken from the record's start and stopped
                    # (when is not written), for the reason written if any (_read_written_switch)
                    now, past = med.switch
                    if named_not_given and named_not_given[-1][1] is med and \
                            {n for names in med.named_not_given[1:] for n in names} <= {  # type: ignore[index]
                                d.name for d in now.drugs + past.drugs}:
                        named_not_given.pop()  # the drugs it names are read here (both uses)
                    if med.switch_past_written is not None and start is not None and metastatic_from is not None \
                            and start < metastatic_from:
                        # begun before the metastatic setting, "Letrozole + palbociclib stopped for
                        # progression, now ...": the use before the switch is the whole regimen written
                        # (tx3: letrozole was dropped from the adjuvant course, "(Neo)adjuvant: palbociclib")
                        past = med.switch_past_written
                    # its end: the date the text writes it stopped on ("(palbociclib stopped 2025-03)",
                    # "no palbociclib since 2025-03": _written_switch), when within its time of use, as a
                    # whole record's stop date is read (above); else not written (tx6: the date was dropped)
                    past_end, past_end_last = _written_end_within(past.completed_on, start, as_of) or (None, None)
                    append(_Exp(list(past.drugs), start, past_end, False, src, "unknown", False, status or None,
                                past.stop_written, past, (start or _DATE_MIN, ref), start_last, past_end_last, False,
                                None))
                    append(_Exp(list(now.drugs), start, end, True, src, "unknown", False, status or None, stop, now,
                                (start or _DATE_MIN, ref), start_last, end_last, planned, None))
                    continue
                drugs = med.drugs
                if med.switch is not None:
                    # an ended record writing a switch: the drugs stopped first, as the line's regimen
                    # reads a class's drugs in order ("Letrozole + ribociclib (palbociclib stopped)":
                    # palbociclib, then ribociclib; TherapyLine.regimen_text)
                    first = {d.name for d in med.switch[1].drugs}
                    drugs = [d for d in drugs if d.name in first] + [d for d in drugs if d.name not in first]
                append(_Exp(drugs, start, end, active, src, "unknown", False, status or None, stop, med,
                            (start or _DATE_MIN, ref), start_last, end_last, planned,
                            _ended_by_assertion(res, statement, status, start, end, as_of) if statement else None))
            except Exception:  # noqa: BLE001
                ctx.ignore(res, "unreadable-resource", f"{rtype} could not be read")
    _not_given_without_a_record(exps, named_not_given, unread)
    _records_gap(ctx, "medication-unreadable", [(source(ref, None, why, None), f"{ref} ({why})") for ref, why in unread],
                 "Medication records whose drug could not be read, so lines of therapy may be missing: {named}.")
    _records_gap(ctx, "therapy-status-unknown", status_unknown,
                 "Anticancer medication records have status 'unknown' (the recording system does not know it) "
                 "and no end: {named}. They are read as not given today, so the current line may be read as "
                 "ended. Confirm whether the drug is still given.")
    _records_gap(ctx, "therapy-stopped-in-text", stopped_in_text,
                 "Anticancer medication records are under way by their status but their text writes the drug "
                 "as stopped, not taken ('No letrozole') or as past use ('history of', 'previous'), and no end before today is recorded: {named}. They are read as no longer given, "
                 "so the current line may be read as ended. Confirm whether the drug is still given and when it "
                 "stopped.")
    _records_gap(ctx, "therapy-in-error-in-text", in_error_notes,
                 "Anticancer medication records write in their stop reason or note that something was stopped or "
                 "entered in error, while their status does not say the record was entered in error: {named}. "
                 "They are read by their status and dates. Confirm whether the record stands and whether the drug "
                 "is still given.")
    _records_gap(ctx, "stop-reason-unclear", hedged_stops,
                 "Anticancer medication records give a progression "
                 + ("or another reason (a side effect) " if hedged_other else "")
                 + "that is only suspected as the reason they stopped, not counted as a documented progression"
                 + (" nor as a stated other reason" if hedged_other else "") + ": {named}. Confirm "
                 + ("why the drug stopped and " if hedged_other else "") + "whether the disease "
                 "progressed: lines of therapy, endocrine resistance and ESR1 currency depend on it.")
    # FHIR R4 medication-admin-status 'on-hold' ("temporarily halted ... expected to continue
    # later") does not say whether the dose was given ('not-done' says it was not): read as
    # given (as before); named when no other record of the drug was read
    given_elsewhere = _drugs_read_as_given(exps) if held else set()
    _records_gap(ctx, "therapy-administration-on-hold",
                 [(src, why) for src, why, names in held if not names <= given_elsewhere],
                 "Anticancer administrations have status 'on-hold' and no other record of their drug was read: "
                 "{named}. FHIR R4 'on-hold' says the administration was halted, not whether the dose was given; "
                 "they are read as given. Confirm whether the drug was given: lines of therapy and the classes "
                 "already used depend on it.")
    # a refused record with an open start asks whether the drug was given: not when another record
    # of its drug (an administration, a statement with its period) was read (as for on-hold above)
    given_apart = _drugs_read_as_given(exps, {ref for _, _, ref, _ in refusal_open}) if refusal_open else set()
    _records_gap(ctx, "medication-refusal-unclear",
                 [(src, why) for src, why, _, names in refusal_open if not names <= given_apart],
                 "Anticancer medication records give a refusal (or a drug never started) as the reason they were "
                 "stopped or completed, "
                 "and only a start or an order date, no time the drug was taken, and no other record of their drug "
                 "was read: {named}. They are read as "
                 "given; whether the drug was started before the refusal is not written. Confirm whether it "
                 "was given: lines of therapy and the classes already used depend on it.")
    _records_gap(ctx, "therapy-end-before-start", backwards,
                 "Anticancer medication records end before they start, so their end is not used and when the "
                 "drug stopped is unknown: {named}. Confirm the dates.")
    return exps


def _exposure_passes(ctx: Ctx, deferred: list[tuple[str, dict[str, Any]]]
                     ) -> Iterator[tuple[str, Iterable[dict[str, Any]], bool]]:
    """(resource type, records, renewing) for read_exposures: each medication resource type,
    then the records deferred meanwhile (their time of use starts after as_of), by type."""
    for rtype in ("MedicationStatement", "MedicationRequest", "MedicationAdministration"):
        yield rtype, ctx.of(rtype), False
    for rtype in ("MedicationStatement", "MedicationRequest"):
        yield rtype, [res for t, res in deferred if t == rtype], True


def _renews(exps: list[_Exp], med: _Med, res: dict[str, Any]) -> bool:
    """A record whose time of use starts after as_of renews its drugs' records under way: each of
    its line drugs has a record read that is ongoing on as_of or ended on or after the day the
    renewal was written (authoredOn, dateAsserted), i.e. it was written while they ran: the drug
    is given, the renewal continues it (FHIR R4 MedicationRequest: a new order for the next
    supply, its boundsPeriod starting when the last one runs out). A drug given long before ("an
    adjuvant letrozole") is no such record: the order is a drug to be given (not given yet)."""
    written = parse_date(res.get("authoredOn") or res.get("dateAsserted"))
    if written is None:
        return False
    running = {d.name for e in exps if e.active or (e.end is not None and e.end >= written) for d in e.drugs}
    return bool(med.line_names) and med.line_names <= running


def _drugs_read_as_given(exps: list[_Exp], left_out: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """The drugs of the records read, but those of on-hold administrations (FHIR R4 'on-hold':
    whether the dose was given is not written) and of the records referenced in left_out: the
    other records whose drug the on-hold and refusal gaps look for."""
    return {d.name for e in exps if e.src.reference not in left_out
            and not (e.src.reference.startswith("MedicationAdministration/") and e.status == "on-hold")
            for d in e.drugs}


def _not_given_without_a_record(exps: list[_Exp], named: list[tuple[str, _Med]],
                                unread: list[tuple[str, str]]) -> None:
    """Adds to unread the records whose text names a drug before theirs ("Fulvestrant after
    progression on letrozole + palbociclib") or the drug theirs was switched to ("Letrozole
    (switched to anastrozole)"): _Med.named_not_given, of which no record was read: FHIR R4
    Medication.code makes fulvestrant / letrozole the record's drug, so the others are not read
    as given by it, but dropping them would lose a line of therapy (CR C.2 step 1 counts lines
    from the drugs given). A record of the other drug gives its dates: nothing is asked."""
    if not named:
        return
    read = {d.name for e in exps for d in e.drugs}
    seen: set[str] = set()
    for ref, med in named:
        quoted, before, later = med.named_not_given  # type: ignore[misc]
        missing, missing_later = before - read, later - read
        if not (missing or missing_later) or ref in seen:
            continue
        seen.add(ref)
        said = []
        if missing_later:
            said.append(f"{_listed(missing_later)} as the drug it was switched to, not read as given (from when is "
                        "not written)")
        if missing:
            said.append(f"{_listed(missing)}, not read as given by this record, and no record of "
                        f"{'them' if len(missing) > 1 else 'it'} was read")
            if missing & _not_taken_for_a_reason(quoted.lower()):
                # "Letrozole; no palbociclib due to neutropenia": perhaps given and stopped for it (a
                # CDK4/6 inhibitor used), perhaps never started: not read as given, and said so
                said[-1] += ("; it is written as not taken for a reason: whether it was given and stopped, "
                             "or never started, is not written")
        unread.append((ref, f'its text "{quoted}" also names ' + "; and ".join(said)))


def _not_taken_for_a_reason(text: str) -> set[str]:
    """The drugs of a text's not-taken clauses (_not_taken_clause_names) followed by a reason
    (local_codes.yaml stop_reasons: "no palbociclib due to neutropenia")."""
    names = _named_drugs(text)
    out = set()
    for i in _not_taken_clause_names(text):
        after = text[names[i][0].end():names[i + 1][0].start() if i + 1 < len(names) else len(text)]
        if _stop_reason_of_text(after) is not None:
            out.add(names[i][1].name)
    return out


# FHIR R4 medication-statement-status / medicationrequest-status of a record that has ended
_ENDED_STATUSES = frozenset({"completed", "stopped"})
# ... and those saying the drug was taken, ended or paused since (FHIR R4 MedicationStatement.status
# on-hold: "temporarily halted"): a text writing it as not taken agrees with them (_read_text)
_TAKEN_STATUSES = _ENDED_STATUSES | {"on-hold"}


def _ref_of(rtype: str, res: dict[str, Any]) -> str:
    rid = res.get("id")
    return f"{rtype}/{rid if isinstance(rid, str) and rid else '?'}"


def _src_of(ref: str, start: dt.date | None, med: _Med, rtype: str, start_last: dt.date | None) -> Source:
    return _fast.source(ref, start, med.display if med.display is not None else f"{med.names} ({rtype})", None,
                        start_last)


def _refusal_stated(res: dict[str, Any], med: _Med) -> bool:
    """A statusReason or note that starts with a refusal of the drug (local_codes.yaml
    stop_reasons refusal_patterns: "Patient refused", "Declined by patient"; or the record's
    own drug named after it, drug_mentions refused_before: "Patient declined fulvestrant") or a
    statusReason coded as one (refusal_codes: SNOMED CT 105480006 Refusal of treatment by patient),
    unless another statusReason or note takes it back or says the drug was taken (refusal_withdrawn_patterns:
    statusReason "Patient declined" and a note "Later agreed, started 2020-02-10"), as words after
    the refusal in its own text do (_refusal_words)."""
    reasons = as_list(res.get("statusReason"))
    coded = any(T.local_lookup(T.STOP_REFUSAL_CODES, system, code) for cc in reasons for system, code, _ in codings(cc))
    texts = [t for t in [cc_text(cc) for cc in reasons] + [text_of(n.get("text")) for n in as_list(res.get("note"))
                                                           if isinstance(n, dict)] if t]
    refusing = [_refusal_words(t) or _refuses_its_own_drug(t.lower(), med.names) for t in texts]
    if not (coded or any(refusing)):
        return False
    return not any(T.STOP_REFUSAL_WITHDRAWN.search(t) for t, refuses in zip(texts, refusing) if not refuses)


@lru_cache(maxsize=1024)
def _refusal_words(text: str) -> bool:
    """refusal_patterns at the start of the text, not taken back after it
    (refusal_withdrawn_patterns: "Patient declined, later agreed and started")."""
    m = T.STOP_REFUSAL.search(text)
    return m is not None and not T.STOP_REFUSAL_WITHDRAWN.search(text, m.end())


@lru_cache(maxsize=1024)
def _refuses_its_own_drug(text: str, names: str) -> bool:
    """The text starts with a refusal of drugs that are all the record's own (names: its
    _Med.names) and says nothing after them ("Patient declined fulvestrant.", "Refused
    letrozole"): drug_mentions refused_before before the first name."""
    found = _named_drugs(text)
    if not found or not T.DRUG_REFUSED_BEFORE.match(text[:found[0][0].start()]):
        return False
    own = set(names.split(" + "))
    refused_first = _refused_then_chosen(text)
    if refused_first:
        # "Patient declined fulvestrant, chose letrozole": the drugs before the choice are refused
        return refused_first <= own
    # nothing after the names but their form or the patient's reason ("Patient refused
    # fulvestrant injections", "Pt declined fulvestrant - prefers oral therapy":
    # drug_mentions refusal_reason_after)
    rest = text[found[-1][0].end():]
    return all(info.name in own for _, info in found) and (re.match(r"[\s.;,|)-]*$", rest) is not None
                                                           or T.REFUSAL_REASON_AFTER.match(rest) is not None)


def _time_of_use(res: dict[str, Any], request: bool) -> str | None:
    """How long a record says its drug was taken: None for no time (no effective[x], a date
    alone, a period whose start is its end; an order whose dosage bounds or validity start and
    end the same day: FHIR R4 Period, no length of use); "open" for a start (or an order date)
    with no end: the length is not written; "period" for a start and a later end."""
    if request:
        first = last = None
        for di in as_list(res.get("dosageInstruction")):
            bp = (((di.get("timing") or {}).get("repeat") or {}).get("boundsPeriod")
                  if isinstance(di, dict) and isinstance(di.get("timing"), dict)
                  and isinstance(di["timing"].get("repeat"), dict) else None)
            if isinstance(bp, dict):
                first, last = first or parse_date(bp.get("start")), last or parse_date(bp.get("end"))
        dr = res.get("dispenseRequest")
        vp = dr.get("validityPeriod") if isinstance(dr, dict) else None
        if isinstance(vp, dict):
            first, last = first or parse_date(vp.get("start")), last or parse_date(vp.get("end"))
        if first and last:
            return "period" if last > first else None
        return "open"  # an order date, or bounds with one end: how long it was taken is not written
    if parse_date(res.get("effectiveDateTime")):
        return None
    p = res.get("effectivePeriod")
    first, last = (parse_date(p.get("start")), parse_date(p.get("end"))) if isinstance(p, dict) else (None, None)
    if first and last:
        return "period" if last > first else None
    return "open" if (first or last) else None


def _stop_reading(res: dict[str, Any]) -> tuple[str | None, bool]:
    """(_stop_reason, _planned_stop_text) of a record: its statusReason and note read once."""
    text = _stop_text(res)
    return _stop_reason(res, text), _planned_stop_text(text)


def _stop_reason(res: dict[str, Any], text: str) -> str | None:
    """'progression' / 'other' (toxicity, completion, choice) / 'unclear' (a progression only
    suspected) from statusReason or note (text: their _stop_text); None if not stated.

    A statusReason or note counts as 'other' only when it names a non-progression reason
    (toxicity, intolerance, a named side effect, the patient's choice, completion, stable
    disease or a response) or says the disease did not progress ("no progression",
    "progression ruled out"): a stated 'other' rebuts the regimen-change proxy for
    progression, so a vague one ("treatment changed", "per oncologist") says nothing (None).
    The words are local_codes.yaml stop_reasons (_stop_reason_of_text).
    """
    if not res.get("statusReason") and not res.get("note"):
        return None
    reasons = as_list(res.get("statusReason"))
    coded_other = any(T.local_lookup(T.STOP_NON_PROGRESSION_CODES, system, code)
                      for cc in reasons for system, code, _ in codings(cc))
    worsened = [term for cc in reasons for system, code, _ in codings(cc)
                if (term := T.local_lookup(T.STOP_PROGRESSION_CODES, system, code))]
    if worsened and not coded_other:
        # "Patient's condition worsened" coded without its display is read as its term written
        # out is, beside a note too ("neutropenia": read with the display, a progression)
        text = " | ".join(worsened) + " | " + text
    stated = _stop_reason_of_text(text)
    if stated is None and coded_other:
        return "other"  # a coded side effect, allergy, interaction, pregnancy (a code without display)
    return stated


def _stop_words(res: dict[str, Any]) -> str:
    """A record's statusReason and note as written (a gap quotes them)."""
    reasons = [t for t in (cc_as_written(cc) for cc in as_list(res.get("statusReason")) if isinstance(cc, dict)) if t]
    notes = [n["text"].strip() for n in as_list(res.get("note"))
             if isinstance(n, dict) and isinstance(n.get("text"), str) and n["text"].strip()]
    return " | ".join(reasons + notes)


def _stop_text(res: dict[str, Any]) -> str:
    """A record's statusReason and note texts as the stop readers read them ("reason | notes")."""
    reason = " | ".join(t for t in (cc_text(cc) for cc in as_list(res.get("statusReason"))) if t)
    notes = " | ".join(t for t in (text_of(n.get("text")) for n in as_list(res.get("note")) if isinstance(n, dict)) if t)
    return reason + " | " + notes


@lru_cache(maxsize=1024)
def _planned_stop_text(text: str) -> bool:
    """The statusReason / note (_stop_text) says the course ended as planned (local_codes.yaml
    stop_reasons planned_stop_patterns: "maintenance", "completed planned cycles")."""
    return bool(T.STOP_PLANNED.search(T.STOP_NOT_STATED.sub(" ", text.lower())))


@lru_cache(maxsize=4096)
def _stop_reason_of_text(text: str) -> str | None:
    """'progression' / 'other' / 'unclear' / None for a stop reason's words (EHRs repeat the
    same few: cached by text). 'unclear': a progression written as a suspicion and no other
    reason ("suspected progression", "? PD"): not a stop for progression, and not a stop
    without a reason either (the line's end reason is open: gap stop-reason-unclear). A plan or instruction ("until progression or unacceptable toxicity")
    and a negated side effect are no reason; a negated or ruled-out progression and a
    progression word describing a side effect ("worsening diarrhoea", "recurrent
    neutropenia") are no progression."""
    text = T.STOP_NOT_STATED.sub(" ", text.lower())
    rest = _without_refuted_progression(text)
    # a progression left open ("suspected progression", "? PD", "progression not confirmed":
    # local_codes.yaml disease_status unclear_patterns, as the disease-status reader reads
    # them) is no documented progression (CR C.2 step 1)
    asserted, hedged = T.DISEASE_STATUS_UNCLEAR.subn(" ", rest)
    if T.STOP_PROGRESSION.search(asserted):
        return "progression"
    # words saying the disease did not progress ("no progression", "progression ruled out"):
    # the proxy must not read a progression into it
    if rest != text:
        return "other"
    # any other reason beside a progression only suspected ("Possible progression - completed
    # planned cycles", "Stopped due to possible progression", "Stopped due to neutropenia and
    # possible progression"): the course may have ended for that reason or for the suspected
    # progression (CR C.2 step 1: progression is documented or not; the hedge must not be
    # lost): the stop reason is unclear, not a stated non-progression one
    if hedged:
        return "unclear"
    # a non-progression reason hedged ("toxicity?", "? intolerance") or negated ("not for
    # toxicity") is none stated: removed before the search (local_codes.yaml stop_reasons
    # hedged_reason_patterns, negated_reason_patterns; tx4: read as 'other'); a hedged one left
    # alone is unclear, as a hedged progression is
    text, hedged = T.STOP_HEDGED_REASON.subn(" ", text)
    text = T.STOP_NEGATED_REASON.sub(" ", text)
    # a named non-progression reason (toxicity, choice, completion)
    if T.STOP_NON_PROGRESSION.search(text):
        return "other"
    return "unclear" if hedged else None


def _symptom_alone(m: re.Match[str]) -> str:
    """A worse symptom removed from a disease status's words, unless the cancer is joined to it
    ("Worsening liver function and liver metastases"): then its worse word is the cancer's too,
    unless the words state the cancer not worse ("stable metastases and worse pain")."""
    if (T.DISEASE_STATUS_CANCER_AFTER_SYMPTOM.match(m.string, m.end())
            or T.DISEASE_STATUS_CANCER_BEFORE_SYMPTOM.search(m.string, 0, m.start())) and \
            not T.DISEASE_STATUS_STATED_NOT_WORSE.search(m.string):
        return m.group(0)
    return " "


@lru_cache(maxsize=1024)
def _status_text_reading(text: str) -> str | None:
    """What the written answer of a disease status says (local_codes.yaml disease_status):
    "progression"; "unclear" (left open: "suspected progression", "undetermined"); "symptom"
    when what it writes as worse is a symptom ("Worse pain"), not the cancer; "none" when it
    says there was none ("no progression", "progression ruled out"); None when it names no
    progression. A progression asserted anywhere wins ("stable bone metastases; progression in
    the liver")."""
    rest = T.DISEASE_STATUS_REFUTED.sub(" ", text)
    refuted = rest != text
    rest, symptoms = T.DISEASE_STATUS_SYMPTOM.subn(_symptom_alone, rest)
    left_open = T.DISEASE_STATUS_UNCLEAR.subn(" ", rest)
    # "Increase in size of liver metastases", "Equivocal", "Non-PD criteria not met": no
    # RECIST 1.1 category stated (its "PD" is not a progression written)
    asserted, undecided = T.DISEASE_STATUS_UNDECIDED.subn(" ", left_open[0])
    if T.DISEASE_STATUS_PROGRESSION.search(asserted):
        return "progression"
    if left_open[1] or (undecided and not T.DISEASE_STATUS_STATED_CATEGORY.search(asserted)):
        return "unclear"
    if symptoms and not T.DISEASE_STATUS_STATED_NOT_WORSE.search(left_open[0]):
        return "symptom"
    return "none" if refuted else None


def _status_answer(obs: dict[str, Any]) -> tuple[str | None, str]:
    """A disease-status Observation's answer: ("progression", "") / ("unclear", why) / (None, "").

    A coded ConditionStatusTrendVS answer (codes.yaml disease_status_progression_answers /
    _other_answers) is read with the written text beside it (valueCodeableConcept.text or
    valueString): a worsening written as "no progression" or "suspected progression", or an
    improved / stable answer written as a progression, is a contradiction, not a
    progression (gap disease-status-unclear). Without a known answer code the text and the
    codes' displays are read.

    Left open as well: the answer "undetermined" (ConditionStatusTrendVS 709137006, or words
    such as "not determined" / "not evaluable"), a symptom written as what worsened ("Worse
    pain": mCODE's status is the trend of the cancer) unless the answer is coded worsened, and
    an answer coded only with codes outside the value set and nothing written."""
    vcc = obs.get("valueCodeableConcept")
    codes = {c for _, c, _ in codings(vcc)}
    worse, other = bool(codes & T.PROGRESSION_ANSWERS), bool(codes & T.NON_PROGRESSION_ANSWERS)
    undetermined = codes & T.UNDETERMINED_ANSWERS
    own = vcc.get("text") if isinstance(vcc, dict) else None
    shown = " | ".join(t for t in (own, obs.get("valueString")) if isinstance(t, str) and t)  # as written
    written = shown.lower()
    # without a known answer code its displays are read as well (cc_text: text + displays)
    said = _status_text_reading(written if worse or other else
                                " | ".join(t for t in (cc_text(vcc), text_of(obs.get("valueString"))) if t))
    if worse and other:
        return "unclear", "coded both as worsened and as not worsened"
    if worse and said in ("none", "unclear"):
        return "unclear", f"coded as worsened but written '{shown}'"
    if other and said == "progression":
        return "unclear", f"coded as not worsened but written '{shown}'"
    if worse or said == "progression":
        return "progression", ""
    if undetermined:
        # the clinician recorded that the trend could not be judged: no stated non-progression
        shown_code = next((f"'{d}'" for _, c, d in codings(vcc) if c in undetermined and d),
                          f"SNOMED {min(undetermined)}")
        return "unclear", f"coded as undetermined, {shown_code}" + (f", written '{shown}'" if shown else "")
    if said in ("unclear", "symptom"):
        return "unclear", f"written '{shown or cc_text(vcc)}'" + (
            " (a symptom written as worse, not the cancer)" if said == "symptom" else "")
    if codes and not other and not cc_text(vcc) and not text_of(obs.get("valueString")):
        # an answer code outside ConditionStatusTrendVS, with no display or text: unreadable
        return "unclear", "coded " + ", ".join(sorted(c for c in codes if c)) + " (not a ConditionStatusTrendVS answer)"
    return None, ""


def _without_refuted_progression(text: str) -> str:
    """text without the progressions it says did not happen: "no evidence of disease
    progression", "progression ruled out / excluded", "negative for / free of progression",
    "no new lesions" (local_codes.yaml disease_status refuted_patterns), and the stop
    reasons' own not_a_progression_patterns (a negation within its clause, "nor worse"; a
    progression word describing a side effect, "worsening diarrhoea")."""
    return T.STOP_NOT_A_PROGRESSION.sub(" ", T.DISEASE_STATUS_REFUTED.sub(" ", text))


def _progression_dates(ctx: Ctx, sources: list[Source], lasts: list[dt.date | None]) -> list[dt.date]:
    """Dates of disease-status "worsening" Observations; `sources` gets their Source and
    `lasts` the last day a date without a day can mean (else None), in the same order.
    One whose answer leaves the progression open (_status_answer) or whose status is not
    final is not counted: the gap disease-status-unclear names it."""
    out = []
    unclear: list[tuple[str, Source]] = []
    for obs in ctx.observations_with(T.DISEASE_STATUS_CODES):
        try:
            if not any(c in T.DISEASE_STATUS_CODES for s, c, _ in ctx.code_of(obs) if is_loinc(s)):
                continue
            said, why = _status_answer(obs)
            # a progression whose Observation.status is not (known to be) final (FHIR R4
            # ObservationStatus registered / preliminary / unknown, in any case, as every result
            # reader reads it) is not counted: named in the gap disease-status-unclear
            status = not_final_status(obs)
            if said == "progression" and status:
                said, why = "unclear", f"a progression with status {status}"
            d = obs_date(obs)
            if said == "progression" and d:
                out.append(d)
                last = partial_last(d, obs_date(obs, date_last))
                sources.append(ctx.source(obs, d, "disease status: progression", date_last=last))
                lasts.append(last)
            elif said == "unclear":
                when = obs.get("effectiveDateTime") if isinstance(obs.get("effectiveDateTime"), str) else None
                unclear.append((f"{why} ({when or (d.isoformat() if d else 'undated')})",
                                ctx.source(obs, d, f"disease status: {why}")))
        except Exception:  # noqa: BLE001
            continue
    if unclear:
        ctx.gap("disease-status-unclear",
                "A cancer disease status leaves the progression open and is not counted as one: "
                + "; ".join(w for w, _ in unclear)
                + ". Confirm whether the disease progressed: lines of therapy, endocrine resistance "
                "and ESR1 currency depend on it.", [src for _, src in unclear])
    return out


# A cancer named beside a progression in a Condition's or a ClinicalImpression's text
# ("Progression of bone metastases", "Progressive metastatic breast cancer"), not "progression
# of CKD": the record says the cancer progressed
_CANCER_WORDS = re.compile(r"metasta|\bmets?\b|cancer|carcinoma|malignan|tumou?r|neoplas|lesion")
_UNCODED_TOLERANCE_DAYS = 30


@lru_cache(maxsize=4096)
def _names_cancer_progression(text: str) -> bool:
    return bool(_CANCER_WORDS.search(text)) and _status_text_reading(text) == "progression"


def _uncoded_progression_gap(ctx: Ctx, progressions: list[dt.date], et_exps: list[_Exp]) -> None:
    """The gap progression-not-coded: a Condition or ClinicalImpression dated after endocrine
    therapy started (and by as_of) writes that the cancer progressed, and no disease-status
    progression nor the end of a line read as progressed (`progressions`) is within 30 days of it. CR C.2 step 1 reads a progression from the
    disease status (or a change of regimen), so it is not counted; the gap says it is there."""
    first = min((e.start for e in et_exps if e.start), default=None)
    if first is None:
        return
    named: list[tuple[str, Source]] = []
    for rtype in ("Condition", "ClinicalImpression"):
        for res in ctx.by_type.get(rtype, ()):
            try:
                if rtype == "Condition":
                    text, d = ctx.code_text(res), condition_onset(res)
                    shown = cc_as_written(res.get("code")) or text
                else:
                    written = [bounded(t) for t in (res.get("summary"), res.get("description")) if isinstance(t, str) and t]
                    text, shown = " | ".join(t.lower() for t in written), " | ".join(written)
                    d = parse_date(res.get("effectiveDateTime")) or parse_date(res.get("date"))
                if not text or d is None or not first < d <= ctx.as_of or not _names_cancer_progression(text):
                    continue
                if any(abs((p - d).days) <= _UNCODED_TOLERANCE_DAYS for p in progressions):
                    continue
                # quoted as the record writes it (text is lower case, for matching only)
                named.append((f"{'a Condition' if rtype == 'Condition' else 'a ClinicalImpression'}, "
                              f"'{shown}' ({d.isoformat()})", ctx.source(res, d, f"{rtype}: {shown}")))
            except Exception:  # noqa: BLE001
                continue
    if named:
        ctx.gap("progression-not-coded",
                "A progression is written in " + "; ".join(w for w, _ in named)
                + ", but no cancer disease status (LOINC 97509-4) records it: not counted (a progression "
                "is read from the disease status or a change of regimen). If the disease progressed, "
                "record it: lines of therapy, endocrine resistance and ESR1 currency depend on it.",
                [src for _, src in named])


# --- history ------------------------------------------------------------------------------


def build_therapy(ctx: Ctx, disease: Disease) -> TherapyHistory:
    th = TherapyHistory(as_of=ctx.as_of)
    mdate = disease.metastatic_date
    # an exposure starting on/after this day is metastatic ((start - mdate).days >= -30)
    try:
        m_from = mdate - dt.timedelta(days=SETTING_TOLERANCE_DAYS) if mdate else None
    except OverflowError:  # a metastatic date in year 1: every start is after it
        m_from = dt.date.min
    # a metastatic date without a day ("2024"): a start is metastatic only when it is so
    # on the last day the date can mean (Disease.metastatic_date_latest)
    m_sure = m_from
    if disease.metastatic_date_latest is not None and mdate is not None:
        try:
            m_sure = disease.metastatic_date_latest - dt.timedelta(days=SETTING_TOLERANCE_DAYS)
        except OverflowError:
            m_sure = dt.date.min
    exps = read_exposures(ctx, m_sure)
    th.to_be_given = ctx.to_be_given
    unsure_from = _unsure_from(disease)
    for e in exps:
        if not e.med.setting:  # type: ignore[union-attr]
            continue  # antihyperglycemics etc.: no oncology setting
        if mdate and e.start:
            e.setting = _dated_setting(e, m_from, m_sure, unsure_from)  # type: ignore[arg-type]
        elif mdate is None and disease.metastatic == "yes" and disease.de_novo_metastatic:
            e.setting = "metastatic"
        elif disease.metastatic == "no":
            e.setting = "early"
        elif mdate and e.start is None:
            # no start date: a drug still given after the metastatic date is given in
            # the metastatic setting (it joins the last line, never silently lost); one
            # that ended before the metastatic date (with the same tolerance) started
            # before it too: early; any other cannot be placed (gaps
            # therapy-dates-missing/-setting-unknown)
            if e.active and mdate <= ctx.as_of:
                e.setting = "metastatic"
            elif e.end is not None and _ended_before(e, m_from, unsure_from):  # type: ignore[arg-type]
                e.setting = "early"
            else:
                e.setting = "unknown"
        if e.setting == "early" and mdate and mdate <= ctx.as_of:
            _switched_at_progression_since_the_recurrence(e, ctx)
    for e in exps:
        if e.status == "on-hold" and e.setting == "early":
            # a held neo/adjuvant record says nothing of whether the course went on to the
            # recurrence: read as before, not ongoing (an end not recorded is a gap)
            e.active = False
    # settings are final from here: the endocrine exposures, read by several steps
    et_exps = [e for e in exps if e.med.endocrine]  # type: ignore[union-attr]
    early_et = [e for e in et_exps if e.setting == "early"]
    stale_early = _stale_adjuvant_records(ctx, early_et, mdate)
    for e in stale_early:
        e.active = False  # its end is asked (adjuvant-endocrine-end-unknown), not read as the recurrence's

    # adjuvant endocrine therapy still running at recurrence can continue into
    # the first metastatic line (e.g. letrozole continued + palbociclib added)
    ongoing_early = [
        e for e in early_et
        if mdate is not None
        and ((e.end is None and e.active) or (e.end is not None and e.end > mdate))
    ]
    if mdate is not None:
        _started_just_before_the_recurrence_gap(ctx, early_et, ongoing_early, mdate,
                                                disease.metastatic_date_latest or mdate)
    progression_sources: list[Source] = []
    progression_lasts: list[dt.date | None] = []
    progressions = _progression_dates(ctx, progression_sources, progression_lasts)
    metastatic = [e for e in exps if e.setting == "metastatic"]
    asked: list[_Asked] = []
    lines = _build_lines(metastatic, ctx, ongoing_early, progressions, asked)

    # Exposure(...) without re-validation: every value is typed here (dates from
    # parse_date, setting one of the literals, Drug models from to_drug)
    exposure = _fast.exposure
    th.exposures = [
        exposure(list(e.med.models), e.start, e.end, e.active and not e.superseded,  # type: ignore[union-attr]
                 e.setting, [e.src], e.status, e.superseded, e.start_last, e.end_last)
        for e in sorted(exps, key=_ORDER)
    ]
    th.metastatic_lines = [_to_line(i + 1, ln, lines, ctx.as_of) for i, ln in enumerate(lines)]
    _mark_progressed(th.metastatic_lines, lines, progressions)
    th.metastatic_endocrine_lines = sum(1 for ln in th.metastatic_lines if ln.endocrine)
    th.metastatic_chemotherapy_lines = sum(1 for ln in th.metastatic_lines if ln.chemotherapy)
    th.metastatic_systemic_lines = len(th.metastatic_lines)
    # each course the records leave open, with the lines read the other way: a card whose
    # line-count threshold it decides says so (cards.rules unclear_course_decides_line_count)
    th.other_line_readings = [_other_reading(u, metastatic, exps, ongoing_early, progressions, ctx.as_of)
                              for u in asked]
    _partner_stops_for_progression(th.metastatic_lines, lines, ctx.as_of,
                                   progressions, progression_sources, progression_lasts)

    meds = {id(e.med): e.med for e in exps}.values()  # the distinct concepts
    classes = {c for m in meds for c in m.classes}  # type: ignore[union-attr]
    names = {d.name for m in meds for d in m.drugs}  # type: ignore[union-attr]
    th.prior_cdk46i = "cdk46i" in classes
    th.prior_endocrine_any_setting = bool(classes & ENDOCRINE_CLASSES)
    th.prior_nonsteroidal_ai = any(m.nsai for m in meds)  # type: ignore[union-attr]
    th.prior_fulvestrant = "fulvestrant" in classes
    th.prior_pi3k_akt_mtor = "pi3k-akt-mtor" in classes
    th.prior_parp_inhibitor = "parp-inhibitor" in classes
    th.prior_tdxd = "trastuzumab deruxtecan" in names
    th.prior_sacituzumab = "sacituzumab govitecan" in names
    th.prior_datodxd = "datopotamab deruxtecan" in names
    th.prior_taxane = any(m.taxane for m in meds)  # type: ignore[union-attr]
    th.prior_anthracycline = any(m.anthracycline for m in meds)  # type: ignore[union-attr]
    th.prior_chemotherapy_any_setting = "chemotherapy" in classes

    _early_endocrine(th, exps, disease, ctx, early_et, stale_early)
    _chemo_adjuvant(th, exps, disease, ctx)
    _cdk46i(th, lines, ctx.as_of, list(zip(progressions, progression_lasts)))
    _resistance(th, exps, disease, ctx, early_et, ctx.has_gap("medication-unreadable"),
                list(zip(progressions, progression_sources, progression_lasts)))
    _last_et_progression(th, disease, progressions, et_exps, progression_sources, progression_lasts)
    # a line ended by progression (its end) counts as the progression recorded
    _uncoded_progression_gap(ctx, progressions + [ln.end for ln in th.metastatic_lines if ln.progressed and ln.end],
                             et_exps)
    # the two gaps name only the therapies the pathway counts (LINE_CLASSES: endocrine,
    # targeted, chemotherapy, ADCs as drugs.yaml classifies them); a metformin or a bone
    # agent record is neither in the lines nor a reason to doubt them
    counted = [e for e in exps if e.med.line]  # type: ignore[union-attr]
    if any(e.start is None for e in counted):
        ctx.gap("therapy-dates-missing",
                "Some anticancer medications have no start date: lines of therapy may be incomplete.",
                [e.src for e in counted if e.start is None])
    unplaced = [e for e in counted if e.setting == "unknown"]
    if disease.metastatic == "yes" and unplaced:
        _setting_unknown_gap(ctx, unplaced, disease)
    return th


def _switched_at_progression_since_the_recurrence(e: _Exp, ctx: Ctx) -> None:
    """The drug taken now of a record started in the early setting whose text writes a switch at
    progression ("Tamoxifen stopped for progression, now letrozole", started before the metastatic
    date, under way): read before as early-setting therapy since the record's start ("Metastatic
    lines: 0", relapse on adjuvant letrozole) with no question. A drug stopped for progression
    is stopped at a progression of the disease, as a rule the recurrence the metastatic date dates
    or one after it, and the drug after it is then a metastatic line (CR C.2 step 1: a new line
    starts at progression) whose start is not written: read as a metastatic course with no start
    (a line, gap therapy-dates-missing), the drug before it as early-setting therapy stopped for
    progression (its end not written: adjuvant-endocrine-end-unknown). The records do not rule out
    the other readings (the first drug also given as a metastatic line; a progression before
    surgery on neoadjuvant therapy, the later drug then early-setting too): asked
    (line-count-unclear)."""
    med = e.med
    if not (e.active and med is not None and med.endocrine_sequence):
        return
    quoted, first, then = med.endocrine_sequence
    if med.switched_for == "unclear":
        # "Tamoxifen stopped due to suspected progression, now letrozole": whether it was the
        # recurrence is left open (CR C.2 step 1: documented or not); the reading is kept, asked
        ctx.gap("line-count-unclear",
                f'{e.src.reference} ("{quoted}") writes {_listed(set(then))} after {_listed(set(first))} stopped for a '
                f"progression only suspected, in a record begun before the metastatic date: {_listed(set(then))} is read "
                f"as early-setting therapy from the record's start. Whether that progression was the recurrence, and "
                f"{_listed(set(then))} a metastatic line started after it, is not written: confirm the lines of therapy.",
                [e.src])
        return
    if not med.switched_at_progression:
        return
    e.setting, e.start, e.start_last = "metastatic", None, None
    e.after_early_progression = True
    written = e.src.date.isoformat() if e.src.date else "undated"
    ctx.gap("line-count-unclear",
            f'{e.src.reference} ("{quoted}", from {written}, before the metastatic date) writes {_listed(set(then))} '
            f"after {_listed(set(first))} stopped for progression: {_listed(set(then))} is counted as a metastatic line "
            f"started after that progression, its start not written, and {_listed(set(first))} as early-setting therapy. "
            f"Whether {_listed(set(first))} was also given as a metastatic line before it, or stopped for a progression "
            f"before surgery ({_listed(set(then))} then early-setting therapy too), and when {_listed(set(then))} "
            "started, are not written "
            "(CR C.2 step 1): confirm the lines of therapy.", [e.src])
    # asked here, not as a sequence within one metastatic line (_endocrine_sequence_question); a
    # copy: the record's _Med is cached by its concept (_MED_CACHE)
    e.med = copy.copy(med)
    e.med.endocrine_sequence = None


# An endocrine course first started this many days or fewer before the metastatic date (more
# than SETTING_TOLERANCE_DAYS) and still given at it may have been started for the metastatic
# disease found before the date recorded for it (work-up, biopsy). A judgement call: no source
# sets the window, and the gap below only asks; the reading (adjuvant) is kept.
SETTING_QUESTION_DAYS = 90


def _started_just_before_the_recurrence_gap(ctx: Ctx, early_et: list[_Exp], ongoing_early: list[_Exp],
                                            mdate: dt.date, mdate_last: dt.date) -> None:
    """The only endocrine therapy before the metastatic date started shortly before it and
    went on: read as adjuvant ET on which the cancer recurred (ABC4, CR C.1: primary
    resistance in its first 2 years), which decides the first-line cards; had it been
    started for the metastatic disease, it would be metastatic line 1 (CR C.2 step 1).
    A date without a day ("2023-10", mdate_last: the metastatic date's last day) counts by
    the days it allows: asked when the nearest is inside the window."""
    starts = [e.start for e in early_et if e.start is not None]
    if not ongoing_early or len(starts) != len(early_et):
        return
    first = min(starts)
    near = [e for e in ongoing_early if e.start == first]
    if not near:
        return
    first_last = max(e.start_last or first for e in near)
    days = (mdate - first_last).days
    if days > SETTING_QUESTION_DAYS:
        return
    days_most = (mdate_last - first).days
    started = first.isoformat() if first_last == first else f"{range_text(first, first_last)} (no day given)"
    found = mdate.isoformat() if mdate_last == mdate else f"{range_text(mdate, mdate_last)} (no day given)"
    names = _listed(_drug_names(near, ENDOCRINE_CLASSES))
    ctx.gap("therapy-setting-unclear",
            f"{names} started {started}, {days if days == days_most else f'{days} to {days_most}'} days before "
            f"the metastatic date {found}, and was still given at it, with no endocrine therapy before it. It is "
            "read as adjuvant therapy on which the cancer recurred (ESO-ESMO ABC4: recurrence on adjuvant endocrine "
            "therapy), not as metastatic line 1; if it was started for the metastatic disease (found before the "
            "date recorded), the endocrine resistance and first-line cards change: confirm when the metastatic "
            f"disease was found and why {names} was started.",
            [e.src for e in near])


def _ended_before(e: _Exp, m_from: dt.date, unsure_from: dt.date | None) -> bool:
    """An undated start whose record ended (its whole range, for an end without a day)
    before the first day a start is metastatic (and before the earliest an uncertain
    metastatic date may be): it was given in the early setting."""
    last = e.end_last or e.end
    return last < m_from and (unsure_from is None or last < unsure_from)  # type: ignore[operator]


def _unsure_from(disease: Disease) -> dt.date | None:
    """With an uncertain metastatic date (Disease.metastatic_date_earliest), the first
    start day whose setting is unknown (the same tolerance as the metastatic date)."""
    earliest = disease.metastatic_date_earliest
    if earliest is None:
        return None
    try:
        return earliest - dt.timedelta(days=SETTING_TOLERANCE_DAYS)
    except OverflowError:
        return dt.date.min


def _dated_setting(e: _Exp, m_from: dt.date, m_sure: dt.date, unsure_from: dt.date | None) -> str:
    """metastatic / early for a start on / before m_from; unknown when the start cannot be
    put on one side: a partial start ("2024") whose range holds m_from, a start between
    m_from and m_sure (a metastatic date without a day: m_from from its first day, m_sure
    from its last), or a start after the earliest the uncertain metastatic date may be
    (gap metastatic-date-conflict)."""
    start = e.start
    if start >= m_sure:  # type: ignore[operator]
        return "metastatic"
    if (e.start_last or start) >= m_from:  # type: ignore[operator]
        return "unknown"
    if unsure_from is not None and start >= unsure_from:  # type: ignore[operator]
        return "unknown"
    return "early"


def _setting_unknown_gap(ctx: Ctx, unplaced: list[_Exp], disease: Disease) -> None:
    # one entry per (drug, reason) with its record count (six undated refills of one drug
    # are one entry), at most UNREADABLE_NAMED entries named; every record is a source
    groups: dict[tuple[str, str], int] = {}
    for e in unplaced:
        key = (e.med.names, _unplaced_reason(e, disease, ctx.as_of))  # type: ignore[union-attr]
        groups[key] = groups.get(key, 0) + 1
    entries = [f"{names} ({why}{f'; {n} records' if n > 1 else ''})" for (names, why), n in groups.items()]
    rest = sum(list(groups.values())[UNREADABLE_NAMED:])
    more = f"; and {rest} more record{'s' if rest > 1 else ''}" if rest else ""
    ctx.gap("therapy-setting-unknown",
            "Some anticancer therapies could not be placed in the early or metastatic setting, "
            f"so they are not in the lines of therapy: {'; '.join(entries[:UNREADABLE_NAMED])}{more}.",
            [e.src for e in unplaced])


def _unplaced_reason(e: _Exp, disease: Disease, as_of: dt.date) -> str:
    """Why build_therapy left this exposure's setting unknown, in the gap's words."""
    mdate = disease.metastatic_date
    if mdate is None:
        started = f"started {e.start.isoformat()}" if e.start else "no start date"
        return f"{started}; the metastatic date is unknown"
    m_latest = disease.metastatic_date_latest
    if (e.start is not None and m_latest is not None
            and ((e.start_last or e.start) - mdate).days >= -SETTING_TOLERANCE_DAYS):
        started = (f"started {range_text(e.start, e.start_last)}, no day given" if e.start_last is not None
                   else f"started {e.start.isoformat()}")
        return (f"{started}; the metastatic date is {range_text(mdate, m_latest)}, no day given: "
                f"before or after it cannot be told")
    if e.start is not None and e.start_last is not None:
        return (f"started {range_text(e.start, e.start_last)}, no day given: before or after "
                f"the metastatic date {mdate.isoformat()} cannot be told")
    if e.start is not None:
        return (f"started {e.start.isoformat()}, after the stage IV diagnosis but before the dated "
                f"metastatic evidence {mdate.isoformat()}")
    if e.active and mdate > as_of:
        # still given, but the metastatic date is after as_of: given after it cannot be shown
        return f"no start date; still given, but the metastatic date {mdate.isoformat()} is after the as-of date {as_of.isoformat()}"
    # a metastatic date but no start date, and not documented as still given after it
    return "no start date, and not documented as still given"


def _exposure_order(e: _Exp) -> tuple[dt.date, str]:
    if e.order is not None:
        return e.order
    return (e.start or dt.date.min, e.src.reference)


class _Asked(NamedTuple):
    """A course _build_lines counted one way that the records leave open (its gap code), the
    key of its group (id of the group's first exposure) and the words for both readings."""
    code: str
    key: int
    course: str
    read_as: str
    other: str
    sources: list[Source]


def _build_lines(exps: list[_Exp], ctx: Ctx | None, ongoing_early: list[_Exp] | None = None,
                 progressions: list[dt.date] | None = None, asked: list[_Asked] | None = None,
                 other_way: int | None = None) -> list[_Line]:
    """The metastatic lines. asked: receives each course counted as a line of its own that
    the records leave open (gaps line-count-unclear / regimen-switch-unclear). other_way: the
    key of one such course to read the other way (part of the line before it); the gaps
    are then not raised (ctx None): _other_reading."""
    exps = [e for e in exps if e.med.line]  # type: ignore[union-attr]
    # (e.start, e.src.reference) for a dated exposure is its _exposure_order
    dated = sorted((e for e in exps if e.start), key=_exposure_order)
    undated = [e for e in exps if not e.start]
    groups: list[list[_Exp]] = []
    for e in dated:
        if groups and groups[-1][0].start == e.start:
            groups[-1].append(e)
        else:
            groups.append([e])
    later = _LaterRecords(dated)
    lines: list[_Line] = []
    # each line counted without documented progression that the records leave open, by gap
    # code (the context keeps one message per code): every one is named, in one gap
    questions: dict[str, list[tuple[str, list[Source]]]] = {}
    # a pseudo line holding adjuvant ET still running: only used for carry-over
    cur: _Line | None = _Line(list(ongoing_early), None) if ongoing_early else None
    pseudo = cur
    for group in groups:
        start = group[0].start
        split = False
        if len(group) == 1:
            gnames = set(group[0].med.line_names)  # type: ignore[union-attr]
            gclasses = set(group[0].med.line_classes)  # type: ignore[union-attr]
        else:
            gnames = {n for e in group for n in e.med.line_names}  # type: ignore[union-attr]
            gclasses = {c for e in group for c in e.med.line_classes}  # type: ignore[union-attr]
        if cur is None:
            cur = _Line(list(group), start)
            lines.append(cur)
            continue
        if (cur is not pseudo and (start - cur.start).days <= REGIMEN_WINDOW_DAYS  # type: ignore[operator]
                and not _stopped_for_progression(cur, start)):
            cur.add(group)
            # a drug of the same class joining the window replaces a carried one
            cur.drop_carried(gclasses)
            continue
        if cur is not pseudo and gnames <= cur.names() and not _restarted_after_progression(cur, start, progressions,
                                                                                              later):
            cur.add(group)
            continue
        if (cur is not pseudo and gclasses <= cur.classes()
                and (_continues(cur, gnames, gclasses, start, later) or _switched_alone_for_a_reason(cur, gclasses))
                and _looks_like_substitution(cur, gclasses, start, progressions)):
            planned = _planned_switch(cur, group, gclasses, start, progressions)
            if planned:
                question = _planned_switch_question(planned, group, len(lines), False)
                questions.setdefault("line-count-unclear", []).append(question)
                if asked is not None:
                    asked.append(_Asked("line-count-unclear", id(group[0]), _course_text(group),
                                        f"part of metastatic line {len(lines)} ({_listed(cur.names())})",
                                        f"metastatic line {len(lines) + 1}", [e.src for e in group]))
            split = bool(planned) and id(group[0]) == other_way  # read the other way: a line of its own
            if not split:
                # same-class substitution with the rest of the regimen continuing
                # (e.g. abemaciclib -> ribociclib with fulvestrant): same line
                for prev in cur.exps:
                    pn = {d.name for d in prev.drugs if d.drug_class in LINE_CLASSES}
                    pc = {d.drug_class for d in prev.drugs if d.drug_class in LINE_CLASSES}
                    if prev.active and pc and pc <= gclasses and not pn & gnames:
                        prev.superseded = True
                cur.add(group)
                continue
        new = _Line(list(group), start)
        if gclasses <= ADD_ON_CLASSES:
            running: set[str] = set()  # line drugs of the current line still running at `start`
            for prev in cur.exps + cur.carried:
                ongoing = later.still_given(prev, start)
                pcls = {d.drug_class for d in prev.drugs}
                if ongoing:
                    running.update(d.name for d in prev.drugs if d.drug_class in LINE_CLASSES)
                if ongoing and pcls & ENDOCRINE_CLASSES and not pcls & gclasses:
                    new.carry(prev)
            if (new.carried and cur is not pseudo and not gclasses & cur.classes() and running >= cur.names()
                    and cur.start is not None and months_between(cur.start, start) < SUBSTITUTION_MONTHS
                    and not _progression_documented(cur, start, progressions)):
                # a new class added early (< 6 months, as for substitutions) while the whole
                # regimen (with endocrine therapy) continues, progression not documented:
                # the regimen grows, no new line (a new line here would invent a
                # progression: resistance, ESR1 currency). Later, the regimen change itself
                # is the progression evidence CR C.2 step 1 accepts: a new line.
                cur.add(group)
                continue
        if cur is not pseudo and not _progression_documented(cur, start, progressions):
            unclear = False
            planned = _planned_switch(cur, group, gclasses, start, progressions)
            for code, question in (
                    ("line-count-unclear", _given_beside_a_continuing_line(cur, group, len(lines), later)),
                    ("regimen-switch-unclear", _unexplained_switch_in_class(cur, group, gclasses, len(lines))),
                    ("line-count-unclear",
                     planned and _planned_switch_question(planned, group, len(lines), True))):
                if question:
                    questions.setdefault(code, []).append(question)
                    # one other reading per course, however many questions it raises (given
                    # beside the endocrine line and a planned switch: the same two counts)
                    if asked is not None and not unclear:
                        asked.append(_Asked(code, id(group[0]), _course_text(group),
                                            f"metastatic line {len(lines) + 1}",
                                            f"part of metastatic line {len(lines)} ({_listed(cur.names())})",
                                            [e.src for e in group]))
                    unclear = True
            if unclear and id(group[0]) == other_way and not split:
                # read the other way: given within the line before it (beside its endocrine
                # therapy, or a substitution within its class)
                cur.add(group)
                continue
        for prev in cur.exps + cur.carried:
            if prev not in new.carried and prev.active:
                prev.superseded = True
        lines.append(new)
        cur = new
    if ctx is not None:
        for number, line in enumerate(lines, 1):
            for e in line.exps:
                if e.med is not None and e.med.endocrine_sequence is not None:
                    questions.setdefault("line-count-unclear", []).append(_endocrine_sequence_question(e, number))
        for code, said in questions.items():
            ctx.gap(code, " ".join(message for message, _ in said), [src for _, sources in said for src in sources])
    # the drug taken after an early-setting drug stopped for progression began at that progression,
    # before a dated line (CR C.2 step 1: a new line starts at progression): a line of its own
    # first, not part of the last line (read 'Currently on fulvestrant + letrozole')
    first = [e for e in undated if e.after_early_progression]
    if first and lines:
        undated = [e for e in undated if not e.after_early_progression]
        own = _Line(first, None)
        if own.names() <= lines[0].names():
            # ... unless the first dated line gives the same drug(s) ("now letrozole" beside a dated
            # letrozole + palbociclib): the same course, part of that line, not a line more
            lines[0].add(first)
            if len(lines) > 1:
                for e in first:
                    e.superseded = e.active
        else:
            for e in first:
                e.superseded = e.active
            lines.insert(0, own)
    if undated:
        if lines:
            lines[-1].add(undated)
        else:
            lines.append(_Line(list(undated), None))
    return lines


# A chemotherapy started within this many days of the end of the one before it follows it
# at once (a switch, not a later line): a judgement call for _planned_switch, no source sets it
PLANNED_SWITCH_DAYS = 31


def _planned_switch(cur: _Line, group: list[_Exp], gclasses: set[str], start: dt.date,
                    progressions: list[dt.date] | None) -> list[_Exp]:
    """The chemotherapy records of the current line that the group (chemotherapy only)
    replaced at once (started within PLANNED_SWITCH_DAYS of their end, before or after it)
    after they ended as planned (maintenance, planned cycles completed: _Exp.planned), not
    for progression and with none documented; else []. Paclitaxel then capecitabine
    "maintenance": one line or two is not settled by the reference (CR C.2 step 1), so the
    service asks."""
    if gclasses != {"chemotherapy"} or _progression_documented(cur, start, progressions):
        return []
    chemo = [e for e in cur.exps if e.med is not None and e.med.chemo]
    if not chemo or any(e.end is None for e in chemo):
        return []
    last_end = max(e.end for e in chemo)  # type: ignore[type-var]
    # "at once": the records of a switch often overlap by a few days, or leave a short gap
    if abs((start - last_end).days) > PLANNED_SWITCH_DAYS:
        return []
    ended = [e for e in chemo if e.end == last_end]
    if any(e.stop == "progression" for e in ended) or not any(e.planned for e in ended):
        return []
    return ended


def _planned_switch_question(replaced: list[_Exp], group: list[_Exp], number: int,
                             new_line: bool) -> tuple[str, list[Source]]:
    """The question (message, sources) for a chemotherapy that followed one stopped as planned."""
    counted = (_counted_as_new_line(number) if new_line else
               f"It is counted as part of metastatic line {number} (a switch for a stated reason that is not "
               "progression)")
    # a stop that also names a suspected progression ("Suspected progression; switch
    # maintenance": gap stop-reason-unclear) was not only planned: the question must not say so
    stopped = ("stopped for a reason that names a plan (maintenance, completed cycles) beside a progression only "
               "suspected, not documented" if any(e.stop == "unclear" for e in replaced) else
               "stopped as planned (maintenance, completed cycles) without a documented progression")
    return (f"{_course_text(group)} followed {_course_text(replaced)} at once, {stopped}. {counted}; whether a "
            "planned switch (switch maintenance) is a line of its own is not settled by the reference: confirm the "
            "lines of therapy and any progression.",
            [e.src for e in replaced] + [e.src for e in group])


def _course_text(group: list[_Exp]) -> str:
    """'capecitabine (2024-08-01 to 2024-11-01)' / 'letrozole (from 2024-05-05)': a course in
    the words of the line questions."""
    start = group[0].start
    ends = [e.end_last or e.end for e in group]
    when = (f"{start.isoformat()} to {max(ends).isoformat()}" if start and all(ends)  # type: ignore[type-var]
            else f"from {start.isoformat()}" if start else "undated")
    return f"{_listed(_drug_names(group, LINE_CLASSES))} ({when})"


def _other_reading(u: _Asked, metastatic: list[_Exp], all_exps: list[_Exp], ongoing_early: list[_Exp],
                   progressions: list[dt.date], as_of: dt.date) -> OtherLineReading:
    """The metastatic lines with the course `u` read the other way (part of the line before
    it). _build_lines marks exposures superseded: the flags of the reading the service
    keeps are put back after."""
    kept = [(e, e.superseded) for e in all_exps]
    for e in all_exps:
        e.superseded = False
    try:
        raw = _build_lines(metastatic, None, ongoing_early, progressions, other_way=u.key)
        tls = [_to_line(i + 1, ln, raw, as_of) for i, ln in enumerate(raw)]
        _mark_progressed(tls, raw, progressions)
    finally:
        for e, flag in kept:
            e.superseded = flag
    return OtherLineReading(
        code=u.code, course=u.course, read_as=u.read_as, other=u.other, sources=u.sources, metastatic_lines=tls,
        metastatic_endocrine_lines=sum(1 for ln in tls if ln.endocrine),
        metastatic_chemotherapy_lines=sum(1 for ln in tls if ln.chemotherapy),
        metastatic_systemic_lines=len(tls))


def _given_beside_a_continuing_line(cur: _Line, group: list[_Exp], number: int,
                                    later: "_LaterRecords") -> tuple[str, list[Source]] | None:
    """The question (message, sources) when a regimen of another class (chemotherapy given
    for a crisis or with radiotherapy) started and ended while the endocrine therapy of the
    current line went on after it, progression not documented. CR C.2 step 1 counts it as a
    new line (the regimen change is the progression evidence), so the line before it reads
    as progressed; but the records also say that line continued, and no source settles
    whether such a course is a line of its own: the count stands, and the service says it
    is unclear."""
    ends = [e.end_last or e.end for e in group]
    if any(e.med is not None and e.med.endocrine for e in group):
        return None
    if not all(ends):
        return _given_beside_an_ongoing_line(cur, group, number)
    last_end = max(ends)  # type: ignore[type-var]
    went_on = [prev for prev in cur.exps + cur.carried
               if prev.med is not None and prev.med.endocrine and later.still_given(prev, last_end)]
    if not went_on:
        return None
    return _beside_endocrine_question(
        cur, group, number, went_on,
        f"({group[0].start.isoformat()} to {last_end.isoformat()}) was given", "went on after it",  # type: ignore[union-attr]
        _counted_as_new_line(number) + "; whether it was a line of its own or given beside the endocrine line "
        "(with radiotherapy, for a crisis) is not in the records: confirm the lines of therapy and any progression.")


def _given_beside_an_ongoing_line(cur: _Line, group: list[_Exp], number: int) -> tuple[str, list[Source]] | None:
    """The question when a regimen of another class with no end recorded (still given) started
    while the endocrine therapy of the current line is recorded as still given too (active,
    no end), progression not documented. CR C.2 step 1 makes it the current line and the line
    before it progressed; the records also say that line goes on (a record not updated, or
    chemotherapy given beside it): the count and the current line stand, the service asks."""
    if not any(e.active for e in group):
        return None
    going = [prev for prev in cur.exps + cur.carried
             if prev.med is not None and prev.med.endocrine and prev.active and prev.end is None]
    if not going:
        return None
    return _beside_endocrine_question(
        cur, group, number, going,
        f"(from {group[0].start.isoformat()}, no end recorded) is recorded as given",  # type: ignore[union-attr]
        "is recorded as still given too",
        _counted_as_new_line(number, " (the current line)") + "; whether the endocrine therapy stopped (a record "
        "not updated) or goes on beside it is not in the records: confirm the current therapy and any progression.")


def _beside_endocrine_question(cur: _Line, group: list[_Exp], number: int, endocrine: list[_Exp], given_when: str,
                               endocrine_went: str, counted_and_asked: str) -> tuple[str, list[Source]]:
    """A line question (message, sources) for a regimen of another class given while the line's
    endocrine therapy (`endocrine`, its records) went on: the two _given_beside_* readings."""
    given, beside = _listed(_drug_names(group, LINE_CLASSES)), _listed(cur.names())
    return (f"{given} {given_when} while the endocrine therapy of metastatic line {number} ({beside}) "
            f"{endocrine_went}, without a documented progression. {counted_and_asked}",
            [e.src for e in group] + [e.src for e in endocrine])


def _endocrine_sequence_question(e: _Exp, number: int) -> tuple[str, list[Source]]:
    """The question (message, sources) for a record writing endocrine therapy of another class
    after its first ("Letrozole then fulvestrant"): counted as one line, as written."""
    quoted, first, then = e.med.endocrine_sequence  # type: ignore[union-attr,misc]
    if e.med.switched_at_progression:  # type: ignore[union-attr]
        return (f'{e.src.reference} ("{quoted}") writes {_listed(then)} after {_listed(first)} stopped for progression, '
                f"in one record: it is counted as one line (metastatic line {number}); a switch at progression is a "
                f"new line (CR C.2 step 1), and when {_listed(then)} started is not written: confirm the lines of "
                "therapy.", [e.src])
    return (f'{e.src.reference} ("{quoted}") writes {_listed(then)} after {_listed(first)}, endocrine therapy of '
            f"another class, in one record: it is counted as one line (metastatic line {number}); whether "
            f"{_listed(then)} was a new line after progression on {_listed(first)} (CR C.2 step 1), and when it "
            "started, is not written: confirm the lines of therapy.", [e.src])


def _counted_as_new_line(number: int, note: str = "") -> str:
    """How the line questions say a course was counted by the regimen-change proxy."""
    return (f"It is counted as metastatic line {number + 1}{note}, and line {number} as ended by progression "
            "(a regimen change, CR C.2 step 1)")


def _unexplained_switch_in_class(cur: _Line, group: list[_Exp], gclasses: set[str],
                                 number: int) -> tuple[str, list[Source]] | None:
    """The question (message, sources) when endocrine therapy is replaced by drugs of the
    classes the line already had (anastrozole -> letrozole) within SUBSTITUTION_MONTHS, no
    reason or progression recorded: a new line by the regimen-change proxy (CR C.2 step 1),
    which makes the line before it a progression (primary endocrine resistance when it is
    the first, ABC4 CR C.1). A switch within a class is as often made for side effects (a
    stated one keeps the line: _switched_alone_for_a_reason); the records do not say which,
    so the service says so."""
    start = group[0].start
    if (not gclasses & ENDOCRINE_CLASSES or not gclasses <= cur.classes() or cur.start is None
            or start is None or months_between(cur.start, start) >= SUBSTITUTION_MONTHS):
        return None
    given, before = _listed(_drug_names(group, LINE_CLASSES)), _listed(cur.names())
    return (f"{given} (from {start.isoformat()}) replaced metastatic line {number} ({before}, from "
            f"{cur.start.isoformat()}) with drugs of the same class, no reason or progression recorded. "
            + _counted_as_new_line(number) + "; a switch within a class is often made for side effects, which "
            "would keep one line: confirm why the drug was changed.",
            [e.src for e in cur.exps + cur.carried] + [e.src for e in group])


def _progression_documented(cur: _Line, start: dt.date, progressions: list[dt.date] | None) -> bool:
    """Progression on the current line documented by `start`: one of its drugs stopped
    for progression, or a disease-status "worsening" after the line started."""
    return _stopped_for_progression(cur, start) or (
        cur.start is not None and any(cur.start < p <= start for p in progressions or ()))


def _stopped_for_progression(cur: _Line, start: dt.date) -> bool:
    """A drug of the current line stopped for progression by `start` (its stop reason says so).
    Within the regimen window (drugs started within REGIMEN_WINDOW_DAYS are one regimen) only
    this ends the line: a disease status read then may be the baseline scan's report."""
    return any(e.stop == "progression" and e.end is not None and e.end <= start for e in cur.exps + cur.carried)


def _restarted_after_progression(cur: _Line, start: dt.date, progressions: list[dt.date] | None,
                                 later: "_LaterRecords") -> bool:
    """The line's drugs given again from `start` after every one of them had stopped, with a
    progression on the line documented by then (a stop for progression or a disease-status
    "worsening", _progression_documented): a new line (CR C.2 step 1: a documented
    progression ends the line; a rechallenge is counted as the line it is). Records of a
    drug that go on (a refill, the next injection) without a stop keep the line, as does a
    restart with no progression documented (an interruption). A record with no end of its
    own (a refill, a single dose: end missing or on its start day) does not say when the drug
    stopped, so it never reads as stopped here (a refill series goes on as one line)."""
    if not _progression_documented(cur, start, progressions):
        return False
    if _doses_paused_over_a_progression(cur, start, progressions):
        return True
    return all(prev.end is not None and prev.start is not None and prev.end > prev.start
               and not later.still_given(prev, start) for prev in cur.exps + cur.carried)


def _doses_paused_over_a_progression(cur: _Line, start: dt.date, progressions: list[dt.date] | None) -> bool:
    """The line is a series of single doses (FHIR R4 MedicationAdministration: a dose given at
    effective[x], no end of its own: fulvestrant injections) whose last dose before `start`
    came more than ADMIN_ACTIVE_DAYS before it, with a disease-status progression documented
    after that dose and by `start`: the drug had stopped when the disease progressed, so the
    restart is a new line (CR C.2 step 1: a documented progression ends the line). A dose
    series without a pause keeps the line (treatment beyond progression), as does a pause
    with no progression in it (an interruption). Refill requests say nothing of the supply
    they cover (30 or 90 days), so a pause between them is not read (they stay one line).
    A record of the line with an end date of its own (a palbociclib MedicationStatement beside
    fulvestrant injections) was given to that end: the pause runs from the later of the last
    dose and that end."""
    exps = cur.exps + cur.carried
    if not progressions or not exps:
        return False
    given_until = []
    for e in exps:
        if e.start is None:
            return False
        single_dose = e.src.reference.startswith("MedicationAdministration/")
        if single_dose and (e.end is None or e.end == e.start):
            given_until.append(e.start)
        elif not single_dose and e.end is not None and e.end > e.start:
            given_until.append(e.end)
        else:
            return False  # no end of its own (a refill request, an ongoing statement)
    if not any(e.src.reference.startswith("MedicationAdministration/") for e in exps):
        return False  # no dose series: _restarted_after_progression reads ended records
    last_given = max(given_until)
    if (start - last_given).days <= ADMIN_ACTIVE_DAYS:
        return False
    return any(last_given < p <= start for p in progressions)


SUBSTITUTION_MONTHS = 6


def _looks_like_substitution(cur: _Line, gclasses: set[str], start: dt.date,
                             progressions: list[dt.date] | None) -> bool:
    """A same-class switch reads as a toxicity substitution unless progression is
    documented by then (the replaced drug, or another of the line, stopped for
    progression, or a disease-status "worsening" after the line started: CR C.2 step 1,
    a new line starts after progression), or the switch comes late (>= 6 months into
    the line) without a stated non-progression reason."""
    replaced = [e for e in cur.exps if {d.drug_class for d in e.drugs} & gclasses]
    if any(e.stop == "progression" for e in replaced) or _progression_documented(cur, start, progressions):
        return False
    if any(e.stop == "other" for e in replaced):
        return True
    return cur.start is None or months_between(cur.start, start) < SUBSTITUTION_MONTHS


def _continues(cur: _Line, gnames: set[str], gclasses: set[str], start: dt.date, later: _LaterRecords) -> bool:
    """The group shares a drug with the line, or a drug of another class of the line is
    still given when it starts (the rest of the regimen continues)."""
    if gnames & cur.names():
        return True
    for prev in cur.exps + cur.carried:
        pc = {d.drug_class for d in prev.drugs if d.drug_class in LINE_CLASSES}
        if pc and not pc & gclasses and later.still_given(prev, start):
            return True
    return False


def _switched_alone_for_a_reason(cur: _Line, gclasses: set[str]) -> bool:
    """A drug given without a partner (letrozole alone) replaced by one of its class
    (anastrozole, exemestane) after a record of it states a reason that is not
    progression (toxicity, intolerance, choice): a substitution, as when a partner
    continues. The stated reason rebuts the regimen-change proxy for progression
    (CR C.2 step 1); without one, the switch stays a new line. The drug replaced is the
    latest of its class (each record of it: refills): an earlier switch's reason is not this one's."""
    of_class = [e for e in cur.exps if {d.drug_class for d in e.drugs} & gclasses]
    latest = max((e.start for e in of_class if e.start is not None), default=None)
    names = {d.name for e in of_class if e.start == latest for d in e.drugs if d.drug_class in gclasses}
    replaced = [e for e in of_class if {d.name for d in e.drugs} & names]
    return any(e.stop == "other" for e in replaced) and not any(e.stop == "progression" for e in replaced)


class _LaterRecords:
    """When each line drug has a dated metastatic record: an administration (one dose)
    or a refill (one supply, no end date) is not the whole course; the drug is still
    given while another record of it follows (the next injection, the next refill)."""

    __slots__ = ("_last_start",)

    def __init__(self, dated: list[_Exp]) -> None:
        self._last_start: dict[str, dt.date] = {}
        for e in dated:  # sorted by start: the last one seen is the latest
            for d in e.drugs:
                if d.drug_class in LINE_CLASSES:
                    self._last_start[d.name] = e.start  # type: ignore[assignment]

    def still_given(self, prev: _Exp, day: dt.date) -> bool:
        """prev's drug is still given on `day`: its own record runs past it (active without
        an end, or an end after it), or prev is a single-day or open record (no end, or
        ending the day it started) on/before `day` and a record of the same drug starts
        after `day`. A record with an end of its own before `day` stopped there."""
        if (prev.end is None and prev.active) or (prev.end is not None and prev.end > day):
            return True
        if prev.start is None or prev.start > day or (prev.end is not None and prev.end != prev.start):
            return False
        return any(self._last_start.get(d.name, day) > day for d in prev.drugs if d.drug_class in LINE_CLASSES)


def _to_line(number: int, ln: _Line, lines: list[_Line], as_of: dt.date) -> TherapyLine:
    idx = number - 1
    nxt = lines[idx + 1] if idx + 1 < len(lines) else None
    drugs: list[T.DrugInfo] = []
    done: set[int] = set()  # concepts already read (a line repeats its refills)
    for e in ln.carried + ln.exps:
        if e.med is not None:
            if id(e.med) in done:
                continue
            done.add(id(e.med))
        for d in e.drugs:
            if d.drug_class in LINE_CLASSES and d not in drugs:
                drugs.append(d)
    own_ends = [e.end for e in ln.exps]
    end_last = None
    if nxt is not None:
        active = False
        known = [x for x in own_ends if x]
        # a record of the line still under way with no end ("Letrozole + palbociclib (palbociclib
        # stopped 2024-05)", letrozole going on: read_exposures; or a letrozole record of its own
        # beside a palbociclib record stopped 2024-05-15) writes the line going on after the other
        # ends: it runs to the next line, those dates ending their drugs' courses only (CR B.9,
        # B.10, C.2 step 1; rt74, tx7: the line ended on palbociclib's stop, a progression 14
        # months in read as primary resistance). A line whose every record has ended ends on them,
        # and so does a drug with a record under way beside one of it ended (a refill, an order left
        # open: the ended one is read, as before)
        going = {d for e in ln.exps if e.active and e.end is None for d in e.drugs}
        ended = {d.name for e in ln.exps if e.end is not None or not e.active for d in e.drugs}
        running_on = {d for d in going if d.name not in ended}
        # ... but not a drug given only with endocrine therapy (a CDK4/6 inhibitor, CR B.9, B.10; a
        # PI3K/AKT/mTOR inhibitor, B.1, B.4, B.5, B.8) left open beside the line's endocrine drugs
        # all ended: the endocrine therapy, and the line, ended on their dates (rt76: an open
        # palbociclib record beside letrozole stopped 2024-05-15 ran line 1 to the next line)
        if running_on and all(d.drug_class in _ENDOCRINE_PARTNER_CLASSES for d in running_on) \
                and any(d.drug_class in ENDOCRINE_CLASSES for e in ln.exps for d in e.drugs):
            running_on = set()
        # ... nor beside a drug of the line stopped for progression: a documented progression ends
        # the line (CR C.2 step 1; rt76: palbociclib stopped for progression 3.5 months in, letrozole
        # left open, read as a line to the next one and secondary resistance)
        if any(e.stop == "progression" and e.end is not None for e in ln.exps):
            running_on = set()
        if running_on:
            known = []
        if known:
            # the latest evidence of the line (an end date, or a later refill/administration)
            last = max(known + [e.start for e in ln.exps if e.start])
            end = min(last, nxt.start) if nxt.start else last
            end_last = _line_end_last(ln, end, nxt.start)
        else:
            end = nxt.start
    else:
        active = any(e.active and not e.superseded for e in ln.exps + ln.carried)
        end = None if active else (max(own_ends) if own_ends and all(own_ends) else None)  # type: ignore[type-var]
        if end is not None:
            end_last = _line_end_last(ln, end, None)
    # ended, no end date, no next line: every record stated ended as of its dateAsserted, so
    # the line had ended by the latest of them (ESR1 currency, C.3 row 18)
    asserted = [e.ended_by for e in ln.exps]
    ended_by = max(asserted) if (nxt is None and not active and end is None and asserted  # type: ignore[type-var]
                                 and None not in asserted) else None
    classes = {d.drug_class for d in drugs}
    # TherapyLine(...) without re-validation: number an int, dates from parse_date,
    # active a bool (any() or False), Drug models from to_drug
    return _fast.construct(TherapyLine, {
        "number": number,
        "drugs": [to_drug(d) for d in drugs],
        "start": ln.start,
        "end": end,
        "active": active,
        "endocrine": bool(classes & ENDOCRINE_CLASSES),
        "chemotherapy": "chemotherapy" in classes,
        "sources": [e.src for e in ln.carried + ln.exps],
        "end_last": end_last,
        "start_last": _line_start_last(ln),
        "progressed": None,  # _mark_progressed, once every line is built
        "stopped_without_progression": False,
        "ended_by": ended_by,
        "followed_by": _switches_of(ln.carried + ln.exps),
    })


def _milestone_reached(med: _Med, start: dt.date | None, metastatic_from: dt.date | None,
                       as_of: dt.date) -> bool:
    """Whether a completion written with a length on a metastatic-line record ("Completed 6
    months of palbociclib": _Med.completion_milestone) is a milestone reached, not an end: only
    once reachable on this record ("Anastrozole, completed 5 years" on a record started 17
    months ago writes another course's length, or a wrong start: read as the completion it
    writes), with the same tolerance as a setting's dates."""
    return (med.completion_milestone is not None and metastatic_from is not None
            and start is not None and start >= metastatic_from
            and (as_of - start).days + SETTING_TOLERANCE_DAYS >= med.completion_milestone)


def _switches_of(exps: list[_Exp]) -> dict[str, list[str]]:
    """Drug name -> the drugs one record writes as taken after it: the two uses read_exposures
    reads of a record writing a switch ("Tamoxifen stopped, now letrozole": the earlier written
    as stopped, the later not), the same record (order: start, reference), or the one use of such
    a record ended (both past: _Med.switch); for TherapyLine.followed_by."""
    if not any(e.med is not None and (e.med.written_stopped or e.med.switch is not None) for e in exps):
        return {}  # no use written as stopped and no ended switch record (most lines): no switch
    by_record: dict[object, list[_Exp]] = {}
    switches: list[tuple[list[T.DrugInfo], list[T.DrugInfo]]] = []
    for e in exps:
        by_record.setdefault(e.order, []).append(e)
        if e.med is not None and e.med.switch is not None:
            now_med, past_med = e.med.switch
            switches.append((list(past_med.drugs), list(now_med.drugs)))
    for pair in by_record.values():
        if len(pair) != 2 or pair[0].med is None or pair[1].med is None:
            continue
        past, now = pair if pair[0].med.written_stopped else pair[::-1]
        if not past.med.written_stopped or now.med.written_stopped:  # type: ignore[union-attr]
            continue
        switches.append((past.drugs, now.drugs))
    out: dict[str, list[str]] = {}
    for past_drugs, now_drugs in switches:
        if all(d.drug_class in _ENDOCRINE_PARTNER_CLASSES for d in past_drugs) \
                and not any(d.drug_class in _ENDOCRINE_PARTNER_CLASSES for d in now_drugs):
            # "Letrozole. Palbociclib stopped": the CDK4/6 inhibitor dropped from the endocrine drug
            # it was given with (CR B.9, B.10), which was taken before it stopped: no drug after it
            # (rt57: the line read "palbociclib (then letrozole)"); so is a PI3K/AKT/mTOR inhibitor
            # ("Everolimus stopped; exemestane continues": CR B.1, B.4, B.5, B.8; tx10)
            continue
        later = [d.name for d in now_drugs if d.drug_class in LINE_CLASSES]
        for d in past_drugs:
            if d.drug_class in LINE_CLASSES and later:
                out.setdefault(d.name, [])
                out[d.name] += [n for n in later if n not in out[d.name]]
    return out


def _line_start_last(ln: _Line) -> dt.date | None:
    """The last day of a line's start when every record starting that day wrote it without a
    day ("2024": the line started in 2024, not on 1 January); None for a full date."""
    if ln.start is None:
        return None
    lasts = [e.start_last for e in ln.exps if e.start == ln.start]
    return None if not lasts or None in lasts else min(lasts)  # type: ignore[type-var]


def _line_end_last(ln: _Line, end: dt.date, next_start: dt.date | None) -> dt.date | None:
    """The last day a line's end can mean when it was read from dates without a day (an end
    "2025" is any day of 2025: ESR1 currency, C.3 row 18, must not take its first), as
    _to_line reads the end (the latest end or later start, not after the next line's
    start); None when that is the end itself."""
    lasts = [e.end_last or e.end for e in ln.exps if e.end] + [e.start_last or e.start for e in ln.exps if e.start]
    last = max(lasts)  # type: ignore[type-var]
    if next_start is not None:
        last = min(last, next_start)  # type: ignore[type-var]
    return last if last > end else None  # type: ignore[operator]


def _dating_sources(disease: Disease, n: int) -> list[Source]:
    """The first n records of the metastatic diagnosis, those dated on metastatic_date first:
    that date is the earliest of the metastasis, M1 and stage IV records (CR C.2 step 1), and
    a fact timed from it ("relapse 11.5 months after ...") must cite the record that dates it,
    not a later one read first."""
    srcs = disease.metastatic_sources
    first = [s for s in srcs if s.date is not None and s.date == disease.metastatic_date]
    if len(first) >= n:
        return first[:n]  # (spares comparing every record with those dated on it)
    return (first + [s for s in srcs if s not in first])[:n]


def _early_endocrine(th: TherapyHistory, exps: list[_Exp], disease: Disease, ctx: Ctx,
                     early_et: list[_Exp] | None = None, stale: list[_Exp] | None = None) -> None:
    if early_et is None:
        early_et = [e for e in exps if e.setting == "early" and e.med.endocrine]  # type: ignore[union-attr]
    if not early_et or disease.metastatic != "yes" or disease.metastatic_date is None:
        return
    m = disease.metastatic_date
    on_treatment = any(
        (e.end is None and e.active) or (e.end is not None and (m - e.end).days <= 0) for e in early_et
    )
    ends = [e.end for e in early_et if e.end]
    th.endocrine_resistance_sources = [e.src for e in early_et] + _dating_sources(disease, 1)
    if _partial_dates_decide(early_et, disease):
        _partial_dates_gap(ctx, early_et, disease)
        return
    if on_treatment:
        th.on_adjuvant_endocrine_at_recurrence = True
        th.months_from_adjuvant_endocrine_end_to_metastasis = 0.0
        th.adjuvant_endocrine_end = max(ends) if ends and max(ends) >= m else None  # type: ignore[type-var]
        _interrupted_course_gap(ctx, early_et, m)
        return
    latest_end = _latest_recorded_end(early_et)
    open_ended = [e for e in early_et if not e.end and not _bounded_by_recorded_end(e, latest_end)]
    if ends and not open_ended and _partial_end_matters(early_et, m):
        ctx.gap("adjuvant-endocrine-end-unknown",
                "Adjuvant endocrine therapy ended at a date without a day (year or month only), and where in "
                "that period it ended decides whether the recurrence came on it, within 12 months or later: "
                "endocrine resistance cannot be classified.",
                [e.src for e in early_et if e.end_last is not None])
    elif ends and not open_ended:
        th.adjuvant_endocrine_end = max(ends)  # type: ignore[type-var]
        th.months_from_adjuvant_endocrine_end_to_metastasis = round(months_between(th.adjuvant_endocrine_end, m), 2)
        # dates without a day: the months are a range (the class is the same over it, checked
        # above by _partial_dates_decide and _partial_end_matters); cards show the range
        end_last = max((e.end_last or e.end) for e in early_et if e.end)  # type: ignore[type-var]
        m_last = disease.metastatic_date_latest or m
        if end_last != th.adjuvant_endocrine_end or m_last != m:
            # an end month holding the recurrence day (_partial_end_matters): 0 at the latest
            th.months_from_adjuvant_endocrine_end_to_metastasis_range = (
                round(max(0.0, months_between(end_last, m)), 2),
                round(months_between(th.adjuvant_endocrine_end, m_last), 2))
    elif stale and all(e in stale for e in open_ended):
        ctx.gap("adjuvant-endocrine-end-unknown",
                f"Adjuvant endocrine therapy is documented as still under way by a record dated more than "
                f"{ADJUVANT_ET_STALE_YEARS} years before the recurrence, with no end date and no record since "
                f"({', '.join(f'{e.src.reference}: {e.med.names} from {date_written(e.start, e.start_last)}' for e in stale)}"
                "). Adjuvant endocrine therapy lasts 5 to 10 years: whether it was still taken at the recurrence, "
                "and when it ended, is not written, so it is not read as taken at the recurrence and endocrine "
                "resistance cannot be classified. Record its end date.",
                [e.src for e in open_ended])
    else:
        ctx.gap("adjuvant-endocrine-end-unknown",
                "Adjuvant endocrine therapy is documented without an end date: endocrine resistance cannot be classified.",
                [e.src for e in open_ended])


# Adjuvant endocrine therapy is given for 5 to 10 years (the brief of this rule; CR C.1 / C.2
# step 1 need its end date, adjuvant_ET_end_date, and name no duration). A record of it still
# under way by its status (FHIR R4 MedicationStatement.status active: "is being consumed";
# MedicationRequest.status active) whose latest date (its start, a statement's dateAsserted) is
# more than this many years before the recurrence, with no record of adjuvant endocrine therapy
# dated since, is not read as the drug taken at the recurrence: its end is not written and is
# asked (adjuvant-endocrine-end-unknown), as mappings/factors.py _ofs_record_not_current asks of
# an old ovarian-suppression record. Reading it as ongoing made the relapse "on adjuvant ET"
# (secondary resistance: inavolisib, fulvestrant + CDK4/6i routes, "Stop tamoxifen" notes).
ADJUVANT_ET_STALE_YEARS = 10


def _stale_adjuvant_records(ctx: Ctx, early_et: list[_Exp], m: dt.date | None) -> list[_Exp]:
    """The adjuvant endocrine records still under way by status, with no end, dated (start or
    dateAsserted) more than ADJUVANT_ET_STALE_YEARS before the metastatic date m, when no
    adjuvant endocrine record is dated (start or end) since then; [] otherwise."""
    if m is None:
        return []
    try:
        cutoff = m.replace(year=m.year - ADJUVANT_ET_STALE_YEARS)
    except ValueError:  # 29 February
        cutoff = m.replace(year=m.year - ADJUVANT_ET_STALE_YEARS, day=28)
    open_ = [e for e in early_et if e.active and e.end is None]
    if not open_:
        return []

    def latest(e: _Exp) -> dt.date | None:
        dates = [d for d in (e.start_last or e.start, e.end_last or e.end) if d is not None]
        if e.src.reference.startswith("MedicationStatement/"):
            res = ctx.resolve({"reference": e.src.reference})
            asserted = parse_date(res.get("dateAsserted")) if isinstance(res, dict) else None
            if asserted is not None:
                dates.append(asserted)
        return max(dates, default=None)

    dated = [latest(e) for e in early_et]
    if any(d is None or d >= cutoff for d in dated):
        return []  # a record dated since (or undated): the course may have gone on
    return open_


def _interrupted_course_gap(ctx: Ctx, early_et: list[_Exp], m: dt.date) -> None:
    """A recurrence on adjuvant ET after a pause in it (tamoxifen 2021-06-01 to 2021-08-01, letrozole
    from 2022-06-01): ABC4 (CR C.1) classes a relapse "while on the first 2 years of adjuvant ET"
    primary and does not say whether the first 2 years run from its first start or count the time
    on it. When the two readings give different classes the gap says so and _resistance leaves the
    adjuvant reading unknown. Only full dates with recorded periods are read (a record ended without
    an end date, such as a refill request, says nothing about a pause)."""
    if any((e.end is None and not e.active) or e.start is None or e.start_last or e.end_last for e in early_et):
        return
    spans: list[list[dt.date]] = []
    for e in sorted(early_et, key=lambda x: x.start):  # type: ignore[arg-type, return-value]
        start, end = e.start, min(e.end or m, m)  # type: ignore[type-var]
        if spans and start <= spans[-1][1] + dt.timedelta(days=1):  # type: ignore[operator]
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])  # type: ignore[list-item]
    if len(spans) < 2:
        return
    # the days off it are the days between two spans (none when one starts the day after the
    # other ends); every other day from the first start to the recurrence is on it
    off_days = sum((later[0] - earlier[1]).days - 1 for earlier, later in zip(spans, spans[1:]))
    on_days = (m - spans[0][0]).days - off_days
    from_start = months_between(spans[0][0], m)
    on_months = months_between(m - dt.timedelta(days=on_days), m)
    if _class_on_adjuvant(from_start) == _class_on_adjuvant(on_months):
        return
    periods = ", ".join(f"{a} to {'the recurrence on ' if b == m else ''}{b}" for a, b in spans)
    ctx.gap("adjuvant-endocrine-interrupted",
            f"Adjuvant endocrine therapy was interrupted ({periods}): the recurrence came on it "
            f"{months_text(from_start, 24.0)} after it first started but after {months_text(on_months, 24.0)} on "
            "it. ESO-ESMO ABC4 classes a relapse in the first 2 years of adjuvant endocrine therapy as primary "
            "resistance and later as secondary, and does not say whether a pause counts: primary or secondary "
            "resistance cannot be told, so the adjuvant course does not class endocrine resistance: judge "
            "it from the dates above.",
            [e.src for e in early_et])


def _class_on_adjuvant(months_on: float) -> str:
    """The ABC4 class (CR C.1) of a relapse on adjuvant ET this many calendar months after it
    started: in its first 2 years primary, later secondary."""
    return "primary" if months_on < 24 else "secondary"


def _adjuvant_class(early_et: list[_Exp], m: dt.date, last_days: bool) -> str:
    """The ABC4 class (CR C.1; 12 months inclusive, CR C.3 row 1) of a recurrence on m after
    the adjuvant ET records, as _early_endocrine and _resistance read it: on ET within its
    first 2 years primary, later secondary; <= 12 months after its end secondary, later
    sensitive; unknown without the dates it needs. last_days: partial starts and ends read
    at their last day (the most resistant reading with m the earliest metastatic day),
    else at their first."""
    ends = [(e.end_last or e.end) if last_days else e.end for e in early_et if e.end]
    if any(e.end is None and e.active for e in early_et) or any((m - x).days <= 0 for x in ends):  # type: ignore[operator]
        starts = [(e.start_last or e.start) if last_days else e.start for e in early_et if e.start]
        if not starts:
            return "unknown"
        return _class_on_adjuvant(months_between(min(starts), m))  # type: ignore[type-var, arg-type]
    if not ends:
        return "unknown"
    return "secondary" if months_between(max(ends), m) <= 12.0 else "sensitive"  # type: ignore[type-var, arg-type]


def _partial_dates_decide(early_et: list[_Exp], disease: Disease) -> bool:
    """A metastatic date without a day (Disease.metastatic_date_latest), or a partial
    adjuvant start, is any day of its range: it decides when the most resistant reading
    (earliest metastatic day, latest ET days) and the least (the reverse) differ. The class
    only moves one way along each date, so the two ends of the ranges bound every reading.
    A partial end alone is _partial_end_matters' (its own message)."""
    m = disease.metastatic_date
    m_last = disease.metastatic_date_latest
    if m is None or (m_last is None and not any(e.start_last for e in early_et)):
        return False
    return _adjuvant_class(early_et, m, True) != _adjuvant_class(early_et, m_last or m, False)


def _partial_dates_gap(ctx: Ctx, early_et: list[_Exp], disease: Disease) -> None:
    m, m_last = disease.metastatic_date, disease.metastatic_date_latest
    partial = []
    if m_last is not None:
        partial.append(f"the metastatic date ({range_text(m, m_last)})")  # type: ignore[arg-type]
    if any(e.start_last or e.end_last for e in early_et):
        partial.append("the adjuvant endocrine therapy dates")
    ctx.gap("adjuvant-endocrine-end-unknown",
            f"No day is given in {' or '.join(partial)} (year or month only), and where in that "
            "period the dates fall decides whether the recurrence came on adjuvant endocrine therapy "
            "(in its first 2 years or later), within 12 months of its end or later: endocrine resistance "
            "cannot be classified.",
            [e.src for e in early_et] + _dating_sources(disease, 2))


def _relapse_timing(end: dt.date, m: dt.date) -> str:
    """The ABC4 reading of an adjuvant ET end against the metastatic date m (CR C.1,
    12 months inclusive per CR C.3 row 1): on therapy, within 12 months, or later."""
    if (m - end).days <= 0:
        return "on"
    return "within-12" if months_between(end, m) <= 12.0 else "later"


def _partial_end_matters(early_et: list[_Exp], m: dt.date) -> bool:
    """A partial end ("2019") is any day of its range: it matters when its first and last
    day give different relapse timings."""
    first = max(e.end for e in early_et if e.end)  # type: ignore[type-var]
    last = max((e.end_last or e.end) for e in early_et if e.end)  # type: ignore[type-var]
    timings = {_relapse_timing(first, m), _relapse_timing(last, m)}  # type: ignore[arg-type]
    if last == first or len(timings) == 1:
        return False
    # on it (after its first 2 years) or within 12 months of its end: secondary either way
    # (ABC4, CR C.1), so an end month holding the recurrence day does not decide the class
    return not (timings == {"on", "within-12"}
                and _adjuvant_class(early_et, m, True) == _adjuvant_class(early_et, m, False) == "secondary")


def _latest_recorded_end(early: list[_Exp]) -> dict[str, dt.date]:
    """drug name -> the latest end date recorded in the early setting for a record of it (alone
    or in a combination: "Doxorubicin + cyclophosphamide", or one record per drug and cycle)."""
    latest: dict[str, dt.date] = {}
    for f in early:
        if f.end is not None:
            for d in f.drugs:
                if d.name not in latest or f.end > latest[d.name]:
                    latest[d.name] = f.end
    return latest


def _bounded_by_recorded_end(e: _Exp, latest_end: dict[str, dt.date]) -> bool:
    """An early-setting record without an end date (typically one MedicationRequest per
    refill, authoredOn only) written on or before the latest recorded end of each of its
    drugs: that record of when the drug stopped bounds it too. This holds for refills
    inside the recorded course, for a first prescription written days before its recorded
    start, and for a course record of a combination beside one record per drug and cycle;
    either way the adjuvant end is the recorded one. Written after it, of another drug, or
    undated: open-ended (the gap names it)."""
    return e.start is not None and bool(e.drugs) and all(
        d.name in latest_end and e.start <= latest_end[d.name] for d in e.drugs)


def _chemo_adjuvant(th: TherapyHistory, exps: list[_Exp], disease: Disease, ctx: Ctx) -> None:
    """T-DXd label B (CR B.11): recurrence during or within 6 months of completing adjuvant
    chemotherapy. A chemotherapy end or metastatic date without a day is any day of its
    range: where the ranges give both answers the route is unknown (None) and a gap says so."""
    m = disease.metastatic_date
    if m is None:
        return
    m_last = disease.metastatic_date_latest or m
    straddling = []
    early_chemo = [e for e in exps if e.setting == "early" and e.med.chemo]  # type: ignore[union-attr]
    recorded_end = _latest_recorded_end(early_chemo)
    end_not_recorded = []  # ended on no recorded day, started more than 6 months before
    for e in early_chemo:
        if e.end is None and not e.active:
            # ended without an end date: it ended on or after its start, so a start
            # within 6 months of the recurrence (its first day against the metastatic
            # date's last) settles "during or within 6 months"; an earlier start settles
            # nothing: the unrecorded end may fall either side of the 6 months, so unless
            # a recorded end of its drug(s) bounds it (_bounded_by_recorded_end: one
            # record per cycle beside the course's record) the route is unknown
            if e.start is not None and months_between(e.start, m_last) <= 6.0:
                th.chemotherapy_within_6_months_of_adjuvant_end = True
                return
            if e.start is not None and not _bounded_by_recorded_end(e, recorded_end):
                end_not_recorded.append(e)
            continue
        # active at recurrence: "during"; else the least and the most favourable readings
        surely = e.end is None or months_between(e.end, m_last) <= 6.0
        if surely:
            th.chemotherapy_within_6_months_of_adjuvant_end = True
            return
        if months_between(e.end_last or e.end, m) <= 6.0:
            straddling.append(e)
    if straddling:
        th.chemotherapy_within_6_months_of_adjuvant_end = None
        _adjuvant_chemo_end_gap(ctx, straddling, disease)
    if end_not_recorded:
        th.chemotherapy_within_6_months_of_adjuvant_end = None
        first = min(e.start for e in end_not_recorded)  # type: ignore[type-var]
        drugs = sorted({n for e in end_not_recorded for n in e.med.names.split(" + ")})  # type: ignore[union-attr]
        ctx.gap("adjuvant-chemotherapy-end-not-recorded",
                f"The adjuvant chemotherapy ({', '.join(drugs)}, started {first}) has no end date, and when "
                "it ended decides whether the recurrence "
                "came within 6 months of completing adjuvant chemotherapy: trastuzumab deruxtecan label B "
                "(HER2-low after chemotherapy) cannot be confirmed.",
                [e.src for e in end_not_recorded] + _dating_sources(disease, 2))


def _adjuvant_chemo_end_gap(ctx: Ctx, straddling: list[_Exp], disease: Disease) -> None:
    m, m_last = disease.metastatic_date, disease.metastatic_date_latest
    partial = [f"the adjuvant chemotherapy end ({range_text(e.end, e.end_last)})"  # type: ignore[arg-type]
               for e in straddling if e.end_last is not None][:1]
    if m_last is not None:
        partial.append(f"the metastatic date ({range_text(m, m_last)})")  # type: ignore[arg-type]
    ctx.gap("adjuvant-chemotherapy-end-unknown",
            f"No day is given in {' or '.join(partial)} (year or month only), and where in that period "
            "the dates fall decides whether the recurrence came within 6 months of completing adjuvant "
            "chemotherapy: trastuzumab deruxtecan label B (HER2-low after chemotherapy) cannot be confirmed.",
            [e.src for e in straddling] + _dating_sources(disease, 2))


def _mark_progressed(tls: list[TherapyLine], raw: list[_Line], progressions: list[dt.date]) -> None:
    """TherapyLine.progressed for every line: what resistance, the CDK4/6i timing and the
    ESR1 reference read (one reading for all of them), and stopped_without_progression."""
    for i, ln in enumerate(tls):
        if ln.active:
            ln.progressed = False
            continue
        exps = raw[i].exps + raw[i].carried if i < len(raw) else []
        if ln.end is None:
            # ended with no end date and no next line: a stop reason / text saying progression
            # ("Letrozole - stopped for progression", statusReason "Disease progression") is the
            # progression evidence of CR C.2 step 1 all the same; when it came is not written
            # (_resistance asks when that decides the ABC4 class: _undated_progression_gap)
            ln.progressed = any(e.stop == "progression" for e in exps)
            continue
        stated = _ended_for_stated_reasons(exps)
        ln.progressed = _line_progressed(ln, exps, i + 1 < len(tls), progressions, stated)
        ln.stopped_without_progression = stated and not ln.progressed


def _partner_stops_for_progression(tls: list[TherapyLine], raw: list[_Line], as_of: dt.date,
                                   progressions: list[dt.date], sources: list[Source],
                                   lasts: list[dt.date | None]) -> None:
    """A drug of a running endocrine line stopped for progression while the line's other drug
    goes on (ribociclib stopped 2024-07-20, statusReason "disease progression"; letrozole still
    active) is a progression on that line, dated its stop (CR C.2 step 1: progression
    documented; FHIR R4 MedicationStatement.statusReason), as a disease-status "worsening"
    during the line is: added to `progressions` (and its source), which resistance, the CDK4/6i
    timing and the ESR1 reference read. An ended line stopped for progression is progressed
    already (_mark_progressed)."""
    for i, ln in enumerate(tls):
        if not (ln.active and ln.endocrine) or i >= len(raw):
            continue
        for e in raw[i].exps + raw[i].carried:
            # a stop before the line started (an adjuvant drug carried into it) is no progression on it
            if e.stop != "progression" or e.end is None or e.end > as_of or e.end in progressions \
                    or (ln.start is not None and e.end < ln.start):
                continue
            progressions.append(e.end)
            # labelled as a disease-status progression is: the resistance fact names it from that
            # label (cards.render), and without it the class stood with no reason given
            sources.append(e.src.model_copy(update={"date": e.end, "date_last": e.end_last,
                                                    "display": "disease status: progression"}))
            lasts.append(e.end_last)


def _line_progressed(ln: TherapyLine, exps: list[_Exp], followed: bool, progressions: list[dt.date],
                     stated: bool) -> bool:
    """An ended metastatic line (its records `exps`) ended by progression.

    Evidence: a stop reason / note saying progression; a disease-status "worsening"
    Observation between its start and 30 days after its end (not on its first day); a
    later line started (`followed`: the regimen-change proxy, CR C.2 step 1), unless every
    drug of the line ended with a stated non-progression reason (`stated`:
    _ended_for_stated_reasons); or, for the last line, a drug "stopped" (not completed)
    without a toxicity reason.
    """
    if any(e.stop == "progression" for e in exps):
        return True
    # a progression dated the day the line started is the one that led to it (CR C.2
    # step 1: a new line starts after progression), not a progression on it
    if any(ln.start and ln.start < p <= ln.end + dt.timedelta(days=30) for p in progressions):  # type: ignore[operator]
        return True
    if followed:
        # a next line is the progression proxy, but not when the records say why the line
        # ended and it was not progression (diarrhoea, neutropenia, patient choice): the
        # stated reason rebuts the proxy, as for a same-class switch (_switched_alone_for_a_reason)
        return not stated
    return any(e.status == "stopped" and e.stop is None for e in exps) and not any(e.stop == "other" for e in exps)


def _ended_for_stated_reasons(exps: list[_Exp]) -> bool:
    """Every drug of the line ended with a stated non-progression reason: the latest
    record(s) of each drug (its end, else its start) all say "other" (toxicity,
    intolerance, choice). A drug with an undated record, or whose last record states no
    reason, leaves the line to the regimen-change proxy (unchanged)."""
    last = _last_records(exps)
    return bool(last) and all(e.stop == "other" for e in last)


def _last_records(exps: list[_Exp]) -> list[_Exp] | None:
    """The latest record(s) of each line drug (by end, else start): what says how the line
    ended; None when a record is undated (which is latest cannot be told)."""
    latest: dict[str, tuple[dt.date, list[_Exp]]] = {}
    for e in exps:
        day = e.end or e.start
        if day is None:
            return None
        for name in {d.name for d in e.drugs if d.drug_class in LINE_CLASSES}:
            seen = latest.get(name)
            if seen is None or day > seen[0]:
                latest[name] = (day, [e])
            elif day == seen[0]:
                seen[1].append(e)
    return [e for _, last in latest.values() for e in last]


def _cdk46i(th: TherapyHistory, lines: list[_Line], as_of: dt.date,
            progressions: list[tuple[dt.date, dt.date | None]] = ()) -> None:
    """progressions: the disease-status progressions (_progression_dates) as (date, last day
    of a date without a day or None)."""
    tls = th.metastatic_lines
    for i, ln in enumerate(tls):
        if "cdk46i" in ln.classes and ln.start:
            stop = ln.end if not ln.active else as_of
            if stop is None:
                return
            # time on the CDK4/6i (CR C.2 time_on_1L_CDK46i): from its own start, which
            # is later than the line's when it was added to continuing endocrine therapy
            cdk_starts = [e.start for e in (lines[i].exps if i < len(lines) else ())
                          if e.start and any(d.drug_class == "cdk46i" for d in e.drugs)]
            start = min(cdk_starts) if cdk_starts else ln.start
            # "PD < 6 months" (CR C.2 step 1; DB-06: progression within 6 months of starting
            # first-line ET + CDK4/6i) is timed to the progression: the first disease-status
            # progression documented on a line that progressed or is still recorded as given
            # (given beyond progression), as _resistance reads the first endocrine line, not
            # the later day the line ended. One fewer than PROGRESSION_AT_START_DAYS after the
            # start may be the report that led to the line (_progression_at_line_start, which
            # counts one that many days after it on the line): not read here.
            if ln.progressed or ln.active:
                on_line = sorted((p, last) for p, last in progressions
                                 if (p - start).days >= PROGRESSION_AT_START_DAYS and p <= as_of
                                 and (ln.active or p < stop))
                if on_line:
                    first, last = on_line[0]
                    months = months_between(start, first)
                    th.cdk46i_months = round(months, 2)
                    within = months < 6
                    # a date without a day on both sides of the 6 months: not known (as _resistance)
                    if last is not None and (months_between(start, last) < 6) != within:
                        return
                    th.progression_within_6_months_on_cdk46i = within
                    return
            months = months_between(start, stop)
            th.cdk46i_months = round(months, 2)
            if ln.active:
                th.progression_within_6_months_on_cdk46i = False if months >= 6 else None
            elif ln.progressed:
                th.progression_within_6_months_on_cdk46i = months < 6
            return


_RANK = {"primary": 3, "secondary": 2, "sensitive": 1, "de-novo": 0, "unknown": -1}


def _resistance(th: TherapyHistory, exps: list[_Exp], disease: Disease, ctx: Ctx,
                early_et: list[_Exp] | None = None, unread_meds: bool = False,
                progressions: list[tuple[dt.date, Source, dt.date | None]] | None = None) -> None:
    """unread_meds: some medication record could not be read (gap medication-unreadable);
    progressions: the disease-status progressions (_progression_dates: date, source, last day)."""
    if disease.metastatic != "yes":
        return
    if early_et is None:
        early_et = [e for e in exps if e.setting == "early" and e.med.endocrine]  # type: ignore[union-attr]
    adj = "unknown"
    if early_et and disease.metastatic_date:
        if th.on_adjuvant_endocrine_at_recurrence:
            starts = [e.start for e in early_et if e.start]
            # a pause in it decides primary vs secondary (_interrupted_course_gap): unknown
            if starts and not ctx.has_gap("adjuvant-endocrine-interrupted"):
                adj = _class_on_adjuvant(months_between(min(starts), disease.metastatic_date))  # type: ignore[type-var]
        elif th.months_from_adjuvant_endocrine_end_to_metastasis is not None:
            adj = "secondary" if th.months_from_adjuvant_endocrine_end_to_metastasis <= 12.0 else "sensitive"
    met = "unknown"
    tls = th.metastatic_lines
    first_et = next((ln for ln in tls if ln.endocrine), None)
    unnamed = _progressed_with_an_unnamed_endocrine_drug(tls, first_et, exps)
    if unnamed is not None:
        # a line before the first one read as endocrine joins an endocrine class not named to
        # its drug ("Palbociclib + AI": gap medication-unreadable) and progressed: it was the
        # first-line ET; where the class it would give outranks the adjuvant one, not known
        could_be = unnamed.progression_class
        if could_be is None or _RANK[could_be] > _RANK[adj]:
            return
        first_et = None  # the line read as the first endocrine one is not (ABC4 reads the first)
    # the first disease-status progression documented on the first ET line decides its ABC4
    # class (CR C.1: by the time from the line's start to the PD): on a line still recorded
    # as given, or on one given beyond it that ended later (a progression only at its end
    # or none before it: the end, the stop for progression, decides)
    on_line = None
    if first_et is not None and first_et.start and first_et.progressed and first_et.end:
        on_line = _first_progression_on_the_line(first_et, progressions or [], th.as_of, before=first_et.end)
        if on_line is None:
            met = first_et.progression_class  # type: ignore[assignment]
            th.endocrine_resistance_sources = th.endocrine_resistance_sources + first_et.sources
    elif first_et is not None and (first_et.active or (first_et.progressed and first_et.end is None)):
        # still recorded as given, or ended by a stated progression whose date is not written:
        # the first documented progression on it by as_of
        on_line = _first_progression_on_the_line(first_et, progressions or [], th.as_of)
        if on_line is None and not first_et.active and first_et.start:
            if th.as_of is not None and months_between(first_et.start, th.as_of) < 6:
                met = "primary"  # every day it can have come is within 6 months of the start
            elif _RANK["primary"] > _RANK[adj]:
                _undated_progression_gap(ctx, first_et)
                return
    if on_line is not None and first_et is not None and _RANK["primary"] > _RANK[adj]:
        at_start = _progression_at_line_start(first_et, progressions or [], th.as_of,
                                              _progressed_otherwise(first_et, tls, exps))
        if at_start is not None:
            # primary if it is a progression on the line; it may be the baseline report that
            # led to the line (CR C.2 step 1: a line starts after progression), and CR C.1 does
            # not say how soon after the start a progression is on it: left unknown, named
            _progression_at_line_start_gap(ctx, first_et, *at_start)
            return
    if on_line is not None and first_et is not None:
        met, progression_source = on_line
        if met == "unknown":
            # a date without a day on either side of the 6 months: primary or secondary
            if adj != "primary":
                ctx.gap("endocrine-resistance-unsettled",
                        "Disease progression is recorded "
                        f"{range_text(progression_source.date, progression_source.date_last or progression_source.date)}"  # type: ignore[arg-type]
                        f" on metastatic line "
                        f"{first_et.number} ({first_et.regimen_text}), the first endocrine line, "
                        + ("still recorded as given" if first_et.active else
                           f"given until {date_written(first_et.end, first_et.end_last)}")  # type: ignore[arg-type]
                        + ", and a date without a day leaves open whether it came within 6 months of the "
                        "line's start (ESO-ESMO ABC4: primary) or later (secondary).",
                        first_et.sources + [progression_source])
                return
        else:
            th.endocrine_resistance_sources = (th.endocrine_resistance_sources + first_et.sources
                                               + [progression_source])
    unsettled = _later_et_progression_after_a_stated_stop(tls, first_et)
    if unsettled is not None:
        _resistance_unsettled_gap(ctx, first_et, unsettled)  # type: ignore[arg-type]
    if first_et is not None and not first_et.progressed and _ended_on_a_suspected_progression(first_et, exps):
        # the first metastatic ET line stopped for a progression only suspected (gap
        # stop-reason-unclear): had it progressed, ABC4 (CR C.1) would class it by the line's
        # length; where that class would outrank the adjuvant one, the class is not known
        could_be = first_et.progression_class
        if could_be is None or _RANK[could_be] > _RANK[adj]:
            return
    best = max((adj, met), key=lambda x: _RANK[x])
    if best != "unknown":
        th.endocrine_resistance = best  # type: ignore[assignment]
        return
    if early_et or unsettled is not None:
        # adjuvant ET with unknown dates; or ET progression after all (a later line): a
        # de-novo or endocrine-sensitive reading would deny it. Left unknown
        return
    if unread_meds:
        # an unreadable medication record may have been endocrine therapy (adjuvant, or a
        # metastatic first line that progressed: primary / secondary, CR C.1 ABC4): de-novo or
        # endocrine-naive would then be a guess (unknown, the gap medication-unreadable says why)
        return
    if disease.de_novo_metastatic:
        th.endocrine_resistance = "de-novo"
        th.endocrine_resistance_sources = _dating_sources(disease, 2)
    elif disease.de_novo_metastatic is False and not any(
        # an unplaced or undated endocrine drug may have been adjuvant therapy: endocrine-naive
        # is then a guess (unknown, the gap says why)
        (e.setting == "unknown" or e.start is None) and e.med.endocrine for e in exps  # type: ignore[union-attr]
    ):
        th.endocrine_resistance = "sensitive"
        th.endocrine_resistance_sources = _dating_sources(disease, 2)
        if not any(ln.endocrine for ln in th.metastatic_lines):
            # read from the absence of a record: a recurrence whose (neo)adjuvant endocrine
            # therapy was given elsewhere, or not recorded, would be endocrine-resistant if it
            # came on it or within 12 months of its end (ABC4, CR C.1), and C.2 step 2 then
            # chooses otherwise (inavolisib, fulvestrant rather than an AI): the card says so
            diagnosed = (f" (breast cancer diagnosed {date_written(disease.primary_diagnosis_date, None)})"
                         if disease.primary_diagnosis_date else "")
            ctx.gap("adjuvant-endocrine-not-recorded",
                    f"No (neo)adjuvant endocrine therapy is recorded before this recurrence{diagnosed}: "
                    "read as endocrine-naive (endocrine-sensitive). A recurrence on adjuvant endocrine "
                    "therapy or within 12 months of its end is endocrine-resistant (ESO-ESMO ABC4) and "
                    "changes the first-line choice: confirm whether any was given.",
                    disease.primary_sources[:1] + _dating_sources(disease, 1))


def _first_progression_on_the_line(line: TherapyLine, progressions: list[tuple[dt.date, Source, dt.date | None]],
                                   as_of: dt.date | None, before: dt.date | None = None) -> tuple[str, Source] | None:
    """The ABC4 class (CR C.1: "PD within the first 6 months of 1L ET" primary, "PD >= 6 months
    after initiating ET" secondary) of the first disease-status progression documented on a
    first endocrine line still recorded as given (given beyond progression, or a record not
    updated: either way the disease progressed on it), or, with before (an ended line's end),
    documented before that end (given beyond progression), by the time from the line's start
    to that progression, with its source; "unknown" when a date without a day leaves the
    6 months open; None without such a progression (after the line's first day, by as_of,
    before `before`)."""
    if line.start is None:
        return None
    on_line = sorted((p, src, last) for p, src, last in progressions
                     if line.start < p and (as_of is None or p <= as_of)  # type: ignore[operator]
                     and (before is None or p < before))
    if not on_line:
        return None
    p, src, last = on_line[0]
    earliest = months_between(line.start_last or line.start, p)
    latest = months_between(line.start, last or p)
    if (earliest < 6) != (latest < 6):
        return "unknown", src
    return ("primary" if latest < 6 else "secondary"), src


# A disease-status progression dated this few days after the first endocrine line started may
# be the report that led to the line (a baseline scan recorded late) or a progression on it;
# no source sets the window (CR C.1 counts progression on ET; C.2 step 1 starts a line after
# progression): a judgement, within which the class is asked, not read (_progression_at_line_start)
PROGRESSION_AT_START_DAYS = 14


def _line_records(line: TherapyLine, exps: list[_Exp]) -> list[_Exp]:
    """The records a therapy line was read from (its sources), in the order of exps."""
    refs = {s.reference for s in line.sources}
    return [e for e in exps if e.src.reference in refs]


def _progressed_otherwise(line: TherapyLine, tls: list[TherapyLine], exps: list[_Exp]) -> bool:
    """An ended line reads as progressed at its end without a disease-status progression: a
    later line followed it (the regimen-change proxy, CR C.2 step 1; TherapyLine.progressed
    says whether a stated reason rebuts it) or a record of it stopped for progression."""
    if line.active or line.end is None:
        return False
    if any(ln.number > line.number for ln in tls):
        return True
    return any(e.stop == "progression" for e in _line_records(line, exps))


def _progression_at_line_start(line: TherapyLine, progressions: list[tuple[dt.date, Source, dt.date | None]],
                               as_of: dt.date | None, progressed_otherwise: bool) -> tuple[Source, int, str | None] | None:
    """The first disease-status progression on a first endocrine line when it is dated within
    PROGRESSION_AT_START_DAYS after the line's start (days after it) and the class read without
    it is not primary too (the next progression on the line, else the line's end class if it
    ended by progression otherwise: _progressed_otherwise, else None: still given, or no
    progression on it documented): (its source, days, that class); else None."""
    if line.start is None or line.start_last is not None:
        return None
    before = None if line.active else line.end
    first = _first_progression_on_the_line(line, progressions, as_of, before)
    if first is None:
        return None
    src = first[1]
    days = (src.date - line.start).days if src.date else None  # type: ignore[operator]
    if days is None or days >= PROGRESSION_AT_START_DAYS or src.date_last not in (None, src.date):
        return None
    later = [p for p in progressions if (p[0] - line.start).days >= PROGRESSION_AT_START_DAYS]
    after = _first_progression_on_the_line(line, later, as_of, before)
    without = after[0] if after is not None else (line.progression_class if progressed_otherwise and line.progressed
                                                  else None)
    return None if without == "primary" else (src, days, without)


def _progression_at_line_start_gap(ctx: Ctx, line: TherapyLine, src: Source, days: int, without: str | None) -> None:
    otherwise = {"secondary": "secondary resistance (ESO-ESMO ABC4: a progression 6 months or more after its start)",
                 "unknown": "a class that a date without a day leaves open"}.get(
        without or "", "no progression on it yet" if line.active else "no progression on it is documented")
    ctx.gap("progression-at-line-start",
            f"Disease progression is recorded on {src.date.isoformat()}, {days} day{'s' if days != 1 else ''} "  # type: ignore[union-attr]
            f"after metastatic line {line.number} ({line.regimen_text}), the first endocrine line, started: it "
            "may be the progression that led to the line (a baseline report) or a progression on it. Counted on "
            "the line it is primary endocrine resistance (ESO-ESMO ABC4: progression within the first 6 months "
            f"of first-line endocrine therapy); if it led to the line, {otherwise}. Endocrine resistance is left "
            "unknown: confirm what the report describes.", line.sources + [src])


def _progressed_with_an_unnamed_endocrine_drug(tls: list[TherapyLine], first_et: TherapyLine | None,
                                               exps: list[_Exp]) -> TherapyLine | None:
    """The first progressed metastatic line before first_et (all, without one), not read as
    endocrine, one of whose records joins an endocrine class to its drug without naming it
    ("Palbociclib 125 mg daily + AI": _Med.also_unread_classes)."""
    for ln in tls:
        if ln is first_et:
            return None
        if ln.progressed and not ln.endocrine:
            if any(e.med is not None and e.med.also_unread_classes & ENDOCRINE_CLASSES
                   for e in _line_records(ln, exps)):
                return ln
    return None


def _ended_on_a_suspected_progression(line: TherapyLine, exps: list[_Exp]) -> bool:
    """The line ended and the latest record of one of its drugs stopped for a progression
    only suspected (stop 'unclear'). An earlier record's hedged stop did not end the line (the
    drug was given again, or the line ended later for another reason); with an undated record,
    which is latest is unknown and any hedged stop counts."""
    if line.active:
        return False
    own = _line_records(line, exps)
    last = _last_records(own)
    return any(e.stop == "unclear" for e in (own if last is None else last))


def _later_et_progression_after_a_stated_stop(tls: list[TherapyLine],
                                              first_et: TherapyLine | None) -> TherapyLine | None:
    """The first later endocrine line ended by progression when the first metastatic endocrine
    line ended for a stated non-progression reason (not progressed, a next line followed).
    ABC4 (CR C.1) reads metastatic resistance from progression on first-line ET only, so
    that later progression sets no class; but it is an ET progression: neither de novo
    nor endocrine-sensitive may be read past it."""
    if first_et is None or first_et.progressed is not False or first_et.active or first_et.number >= len(tls):
        return None
    return next((ln for ln in tls[first_et.number:] if ln.endocrine and ln.progressed), None)


def _undated_progression_gap(ctx: Ctx, first_et: TherapyLine) -> None:
    """The first metastatic endocrine line ended for a stated progression with no end date, no
    next line and no dated progression on it: ABC4 (CR C.1) classes it by when the progression
    came (within 6 months of the line's start primary, later secondary), which is not written."""
    ctx.gap("endocrine-resistance-unsettled",
            f"Metastatic line {first_et.number} ({first_et.regimen_text}), the first endocrine line, started "
            f"{date_written(first_et.start, first_et.start_last)}, is recorded as stopped for progression "  # type: ignore[arg-type]
            "without an end date or a dated progression: it is counted as progressed, but ESO-ESMO ABC4 classes "
            "endocrine resistance by when the progression came (within 6 months of the line's start primary, "
            "later secondary), which is not written. Record the date it stopped.",
            first_et.sources)


def _resistance_unsettled_gap(ctx: Ctx, first_et: TherapyLine, later: TherapyLine) -> None:
    ctx.gap("endocrine-resistance-unsettled",
            f"Metastatic line {first_et.number} ({first_et.regimen_text}), the first endocrine line, ended for a "
            f"stated reason other than progression; metastatic line {later.number} ({later.regimen_text}) "
            "progressed later. ESO-ESMO ABC4 classes endocrine resistance by progression on first-line "
            "endocrine therapy: the metastatic reading is not settled (only an adjuvant relapse timing can set it).",
            first_et.sources + later.sources)


def _last_et_progression(th: TherapyHistory, disease: Disease,
                         progressions: list[dt.date], et_exps: list[_Exp],
                         progression_sources: list[Source], progression_lasts: list[dt.date | None]) -> None:
    # (date, what happened, sources): the event and its sources are shown by the cards
    # that explain ESR1 currency (TherapyHistory.esr1_reference)
    # (date, what happened, sources, the last day a date without a day can mean or None)
    cands: list[tuple[dt.date, str, list[Source], dt.date | None]] = []
    if any(e.setting == "early" for e in et_exps) and disease.metastatic_date:
        cands.append((disease.metastatic_date, "the recurrence after early-setting endocrine therapy",
                      _dating_sources(disease, 2), disease.metastatic_date_latest))
    tls = th.metastatic_lines
    for i, ln in enumerate(tls):
        if ln.endocrine and ln.progressed:
            when = ln.end or (tls[i + 1].start if i + 1 < len(tls) else None)
            if when:
                cands.append((when, f"the progression on metastatic line {ln.number} ({ln.regimen_text})",
                              ln.sources, ln.end_last if ln.end else None))
    et_starts = [e.start for e in et_exps if e.start]
    if et_starts:
        first = min(et_starts)
        # _progression_dates fills progressions and progression_sources in step
        cands.extend((p, "the disease progression recorded after endocrine therapy started",
                      [progression_sources[k]], progression_lasts[k])
                     for k, p in enumerate(progressions) if p > first)
    # an event after as_of has not happened yet: it neither counts nor hides an earlier one
    if th.as_of is not None:
        cands = [c for c in cands if c[0] <= th.as_of]
    if cands:
        # the latest date; on a tie the first found (recurrence, line, recorded progression)
        # (a date without a day counts as its last day: a result must follow all of it)
        best = max(cands, key=lambda c: c[3] or c[0])
        th.last_endocrine_progression, th.last_endocrine_progression_event = best[0], best[1]
        th.last_endocrine_progression_sources = list(best[2])
        th.last_endocrine_progression_last = best[3]
    else:
        th.last_endocrine_progression = None
