"""ER / PR status and HER2 category from tumour-marker Observations.

ER/PR: presence/interpretation answers (LOINC LA, SNOMED qualifiers, HL7
interpretation codes), strings ("Positive, 95%", "neg", "ER-low"), numbers and
% positive cells. ASCO/CAP threshold: >= 1 % positive; 1-10 % = ER-low (flagged).
A bound ("<1%", ">10%") is not a measured value: it decides the status or ER-low only
when every % it allows falls on one side ("<50%" decides nothing; ">10%" is not ER-low);
a range ("0-1%", "1-10%") likewise, never read as its top.
A positive word under a negation ("not positive", "no positive cells") is negative.
The most recent result wins (results within the same day are combined); any
disagreement sets `conflict`. Results that disagree on the most recent day make
the status "unknown".

HER2: IHC score 0/1+/2+/3+ from local codes, valueString, valueCodeableConcept
text/display, integers; IHC 0 sub-class (ultralow / null) from text and local
codes; ISH amplified / not amplified; overall interpretation (48676-1). A bare
"negative" is "negative-unspecified", never HER2-low; the words "HER2-low" without
a score are "low" with no IHC score (HER2-low = IHC 1+ or 2+/ISH-). "Present" without a score
(antigen detected) is "unknown": it could be anything from ultralow to 3+.
A category named under a negation ("not ultralow", "Non-HER2-low", "2+ (not 3+)") is not read.
ISH words are read only when they clearly say amplified or not amplified ("No evidence
of HER2 gene amplification" is not amplified; "not positive" is not read); other words
are noted, never amplified. In IHC / interpretation text only the clause after an ISH word
("IHC 2+; FISH: no evidence of amplification") is read, and not when it has no result yet.
An earlier result the same text names beside the current one ("HER2-low, previously HER2 0",
"Previously HER2 0, now 1+", "1+, previously 3+") is history (named, not read as the result; CR
C.2 step 0; one on the other side of HER2-positive is named as a conflict, as two records are);
so is, with no history word, the one of two clauses the text does not mark as current by a later
year, a review ("HER2 0; on review 1+"), a history word after its result ("3+ previously") or a
metastatic specimen beside the primary ("1+ on liver biopsy; IHC 0 on 2016 primary"; an ISH clause
after a 2+ goes with that 2+: "0 (liver 2023); 2+ (primary 2015), FISH amplified"), and an
earlier ISH before "now" ("ISH previously not amplified, now amplified"); unmarked or
contradicting marks leave both (unread). An ISH written "equivocal" (ASCO/CAP 2013) is
never read as a result, only named.
IHC 3+ beside an ISH not amplified (and none amplified) in one assessment is HER2 discordant:
unknown, testing card only (CR C.2 step 0), the disagreement named.
ISH: the lab's interpretation, else HER2/CEP17 ratio and copies per nucleus when both
agree (ASCO/CAP groups 1 and 5; groups 2-4 undecided, see _ish_result). Serum HER2 codes
are excluded. The assessment is the most recent HER2 result day plus results within the 45
days before it (reflex ISH after IHC).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import Any, Iterator

from mappings import tables as T
from mappings.context import Ctx
from mappings.disease import condition_onset, unconfirmed_status
from mappings.fhir import (
    Concept, absent_reason, as_list, cc_as_written, cc_text_m, clinical_status_inactive, codings_m, concept, is_icd10,
    is_loinc, memo_search,
    date_last, not_final_status, notes_text, number, obs_date, partial_last, quantity, systemless_answer_message,
)
from mappings.state import HER2Status, MarkerNotFinal, ReceptorStatus, Source, written_last

# "nn%" in text, with a bound written before it ("<1%", "greater than 10%")
_PCT_RE = re.compile(r"(<=|>=|\u2264|\u2265|<|>|\b(?:less than|greater than|more than|over|above|at least"
                     r"|under|below|up to)\b)?\s*(\d+(?:\.\d+)?)\s*%")
_BOUND_WORDS = {"\u2264": "<=", "\u2265": ">=", "less than": "<", "under": "<", "below": "<", "up to": "<=",
                "greater than": ">", "more than": ">", "over": ">", "above": ">", "at least": ">="}
# "lo-hi%" / "lo to hi %" in text: a range, not the value at its top ("0-1%" is not 1 %)
_RANGE_PCT_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*%?\s*(?:-|\u2013|\bto\b)\s*(\d+(?:\.\d+)?)\s*%")
_NUM_RE = re.compile(r"^\s*(<|>|<=|>=)?\s*(\d+(?:\.\d+)?)\s*$")
_ALLRED_RE = re.compile(r"allred[^0-9]{0,20}(\d)")
# the Allred total when the text gives its parts too ("proportion score 2, intensity 1, total 3",
# "PS 5 IS 3 TS 8", "3/8"): the first digit would be the proportion score
_ALLRED_TOTAL_RE = re.compile(r"allred.*?(?:(?:\btotal(?:\s+score)?|\bts)\s*[:=]?|=)\s*(\d)\b|allred.*?\b(\d)\s*/\s*8\b")
# the name of an Allred part before the first digit ("Allred PS 2, IS 3": 2 is no total)
_ALLRED_PARTS_RE = re.compile(r"\b(proportion|intensity|ps)\b")
# "IS" is the intensity score only beside the proportion score ("Allred IS 3, PS 2"): alone it
# is the verb ("Allred score is 7", the total)
_ALLRED_IS_RE = re.compile(r"\bis\b")
_ALLRED_PS_RE = re.compile(r"\b(proportion|ps)\b")
# the Allred proportion score when the text names it ("proportion score 2", "PS 2", "PS=1")
_ALLRED_PS_VALUE_RE = re.compile(r"\b(?:proportion(?:\s+score)?|ps)\s*[:=]?\s*([0-5])\b")
# Allred (Harvey et al. 1999 J Clin Oncol 17:1474; Allred et al. 1998 Mod Pathol 11:155): total =
# proportion score (PS 0 none, 1 < 1/100, 2 1/100-1/10, 3 1/10-1/3, 4 1/3-2/3, 5 > 2/3 of cells)
# + intensity score (IS 1-3 when any cell stains). CR A.2 (Allred row) derives positivity from the
# % of cells (>= 1 % positive, ASCO/CAP; 1-10 % ER-low). The % each PS means:
_ALLRED_PS_PERCENT = {0: "none", 1: "negative", 2: "low", 3: "high", 4: "high", 5: "high"}
# ... and the PS a total allows (PS = total - IS, IS 1-3): total 2 is PS 1 (< 1 %); 3 is PS 1-2
# (< 1 % or 1-10 %); 4 is PS 1-3 (< 1 %, 1-10 % or more); 5 is PS 2-4 (>= 1 %, maybe 1-10 %); 6-8
# is PS >= 3 (> 10 %). Read from the total alone: 0-2 negative, 6-8 positive, 5 positive that may
# be ER-low, 3-4 undecided (may be < 1 %: ER-negative by ASCO/CAP 2020).
_ALLRED_TOTAL_UNDECIDED = frozenset({3, 4})
_ALLRED_TOTAL_MAY_BE_LOW = 5
# an H-score (0-300: 1 x % weak + 2 x % moderate + 3 x % strong cells, McCarty 1985): the % of
# stained cells p it allows is H/3 <= p <= H. CR A.2 / ASCO-CAP 2020 read p (>= 1 % positive,
# 1-10 % ER-low), so from H alone: 0 negative (no cell stained); 3-30 positive that may be ER-low
# (p >= 1 %, and p <= 10 % is possible); > 30 positive, not low (p > 10 %); 1-2 undecided (p may
# be < 1 %). Read only without a call or a % beside it: those decide (CR A.2 reads the %)
_H_SCORE_RE = re.compile(r"\bh[- ]?score\b\s*(?:of|[:=])?\s*(\d{1,3})\b|\bhscore\b\s*[:=]?\s*(\d{1,3})\b")
_H_SCORE_MAX = 300
_H_SCORE_POSITIVE = 3  # H >= 3: p >= H/3 >= 1 %
_H_SCORE_MAY_BE_LOW = 30  # H <= 30: p may be <= 10 % (ER-low); H > 30: p >= H/3 > 10 %
# ER-low wording; a bare "low" is not ("low grade", "Ki-67 low")
_LOW_RE = re.compile(r"\b(er|pr|pgr)[- ]?low\b|low[- ]positive|weakly positive|low[- ]?expressing")
_POS_RE = re.compile(r"\bpositive\b|\bpos\b|^\s*\+\s*$|\bdetected\b|\bpresent\b|\breactive\b"
                     r"|\b(er|pr|pgr|hr)\s*\+")
# a positive word under a negation ("not positive", "no positive cells") is a negative statement
_NEG_RE = re.compile(r"\bnegative\b|\bneg\b|not detected|\babsent\b|no staining|\bnon[- ]?reactive\b"
                     r"|\bnot (positive|present|reactive|expressed)\b|\bno positive\b"
                     r"|\b(er|pr|pgr|hr)\s*-(?![a-z0-9])|^\s*-\s*$")
# "no ER expression", "no receptor expression": a negative statement (CR A.1: expression absent)
_NO_EXPRESSION_RE = re.compile(r"\bno (\w+ ){0,2}expression\b")
# an ER/PR result written as a suspicion or a probability ("possibly positive", "positive?",
# "likely negative", "positive - to be confirmed"): not a result (shared vocabulary,
# local_codes.yaml; FHIR condition-ver-status unconfirmed/provisional: not to be treated as
# confirmed). Read as no status (gap er-unknown / pr-unknown) unless a % decides.
_V = T.VOCABULARY
_HEDGED_RE = re.compile(
    rf"\b(?:{_V['suspicion_words']}|{_V['probable_words']})\s+(?:weakly\s+|strongly\s+)?(?:positive|negative)\b"
    rf"|\b(?:positive|negative)\s*\?|\b(?:positive|negative)\b[^.;|]{{0,20}}\b{_V['suspicion_words_after']}\b", re.I)
_hedged = memo_search(_HEDGED_RE)
# an ISH result written as a question ("Possibly amplified", "Amplified? repeat pending",
# "amplified - suspected"): the same vocabulary as a hedged positive / negative (_HEDGED_RE)
_ISH_HEDGED = memo_search(re.compile(
    rf"\b(?:{_V['suspicion_words']}|{_V['probable_words']})\s+(?:not\s+|non-?)?amplif|\bamplif\w*\s*\?"
    rf"|\bamplif\w*\b[^.;|]{{0,20}}\b{_V['suspicion_words_after']}\b", re.I))
# the end of an ISH clause in IHC text: '|' (value | notes), ';' or a full stop (not "1.3")
_ISH_CLAUSE_END = re.compile(r"[|;]|\.(?!\d)")
_EQ_RE = re.compile(r"\bequivocal\b|\bindeterminate\b|\binconclusive\b|\bborderline\b")

_low_text = memo_search(_LOW_RE)

SAME_ASSESSMENT_DAYS = 45
_MARKER_CODES = frozenset(T.TUMOR_MARKERS)
_GENOMIC_CODES = T.VARIANT_CODES | T.REGION_STUDIED_CODES


@dataclass
class _Rec:
    status: str | None  # positive | negative | None (unknown)
    percent: float | None
    low: bool
    date: dt.date | None
    src: Source
    # why the status is open or may be low when the result is read from an Allred total or an
    # H-score alone
    allred_note: str | None = None


@dataclass
class _Her2:
    kind: str  # ihc | ish | interp
    date: dt.date | None
    src: Source
    ihc: str | None = None  # 0 1+ 2+ 3+
    sub: str | None = None  # ultralow | null
    qual: str | None = None  # positive | negative | equivocal | present | indeterminate | low
    ish: str | None = None  # amplified | not-amplified
    ratio: float | None = None  # HER2/CEP17
    copies: float | None = None  # HER2 copies per nucleus
    site: str | None = None  # where the tissue came from, as the record names it (_specimen_words)
    words: str | None = None  # the text of a result read as indeterminate (named in a gap)
    unsaid: str | None = None  # why its answer code is unclear (_unsaid_answer; named in a gap)
    # an ISH result written "equivocal" (ASCO/CAP 2013 wording; the 2018 definitions CR A.1 uses
    # have no ISH equivocal category): neither amplified nor not amplified, named in a gap
    ish_equivocal: bool = False
    # an earlier result the same text names after this one ("HER2-low, previously HER2 0"), as
    # written (_her2_history): not read as this result, named (CR C.2 step 0 keeps history)
    history: str | None = None
    # a note of the Observation naming a HER2-positive result beside a value that is not, as written
    note_other: str | None = None


@dataclass
class _Acc:
    er: list[_Rec] = field(default_factory=list)
    pr: list[_Rec] = field(default_factory=list)
    her2: list[_Her2] = field(default_factory=list)
    # results whose Observation is not final (MarkerNotFinal), by target (er / pr / her2)
    not_final: dict[str, list[MarkerNotFinal]] = field(default_factory=lambda: {"er": [], "pr": [], "her2": []})
    # ER / PR results given only as an H-score (its words, date, source), by target
    h_scores: dict[str, list[tuple[str, Source]]] = field(default_factory=lambda: {"er": [], "pr": []})
    # ER / PR results given only as a number whose unit does not say it is a % (its words, source)
    bare_numbers: dict[str, list[tuple[str, Source]]] = field(default_factory=lambda: {"er": [], "pr": []})
    # ER / PR results whose answer code has no system and words that say otherwise (_unsaid_answer):
    # (why, date, source), by target
    unsaid: dict[str, list[tuple[str, dt.date | None, Source]]] = field(default_factory=lambda: {"er": [], "pr": []})


# --- value readers ------------------------------------------------------------


def _answer(cc: Any) -> str | None:
    """The answer meaning of a coded value (a CodeableConcept or its Concept), memoised."""
    con = cc if type(cc) is Concept else concept(cc)
    memo = con.memo
    if "answer" in memo:
        return memo["answer"]
    found = unsaid = None
    for system, code, display in con.codings:
        # a LOINC answer in any case ("la6576-8" is LA6576-8; before, an ER / HER2 answer so
        # written was no result: ER unknown, testing card only)
        m = T.answer_lookup(T.ANSWERS, system, code)
        if m and not system and not _words_say(m, code, con.text):
            # a code written with no system has no defined meaning (FHIR R4 Coding.system: "the
            # identification of the code system that defines the meaning of the symbol"): a lab's
            # 'POS' "Not done" is no HL7 Positive (before, read ER positive / HER2-positive). Read
            # only when its words say the same, as genomics (_coded_call_of); else unclear
            unsaid = unsaid or (code, display)
            continue
        if m:
            found = m
            break
    memo["answer"] = found
    memo["unsaid"] = None if found else unsaid
    return found


# an answer meaning and the words that say it (_words_say): HL7 IND Indeterminate and a
# receptor's "equivocal" (CR A.1 HER2 2+) are both no positive / negative call
_SAID_AS = {"positive": "positive", "present": "positive", "negative": "negative", "absent": "negative",
            "indeterminate": "equivocal", "equivocal": "equivocal"}


def _words_say(meaning: str, code: str, text: str) -> bool:
    """True when every word written beside a coded answer (display, text; the code itself
    repeated says nothing) reads as `meaning`: a positive / negative word, or a % of stained cells
    on its side of 1 % (CR A.2: "ER 90 %" says positive). No words at all: True (read as before)."""
    for words in text.split(" | "):
        words = words.strip()
        if not words or words == code.lower():
            continue
        said = _qual_from_text(words)
        if said is None and (pct := _percent_in_text(words)) is not None:
            said = _percent_status(*pct)
        if said is None or said != _SAID_AS.get(meaning):
            return False
    return True


def _unsaid_answer(cc: Any) -> str | None:
    """Why cc's answer is unclear when its only answer code is written with no system and its
    words say otherwise (_answer), naming the code and its words; else None."""
    if not isinstance(cc, dict):
        return None
    con = concept(cc)
    _answer(con)
    if con.memo.get("unsaid") is None:
        return None
    return systemless_answer_message(cc, *con.memo["unsaid"])


def _unsaid_interpretation(unit: dict[str, Any]) -> str | None:
    """_unsaid_answer of the first of an Observation's (or component's) interpretations that
    has one, else None."""
    return next(filter(None, map(_unsaid_answer, as_list(unit.get("interpretation")))), None)


@lru_cache(maxsize=4096)
def _qual_from_text(text: str) -> str | None:
    if not text:
        return None
    if _EQ_RE.search(text):
        return "equivocal"
    neg = _NEG_RE.search(text)
    pos = _POS_RE.search(_NEG_RE.sub(" ", text) if neg else text)
    if neg and not pos:
        return "negative"
    if pos and not neg:
        return "positive"
    return None


def _observation_values(obs: dict[str, Any]) -> tuple[Concept, str, float | None, str | None, str | None]:
    """(the codeable value's Concept, all value text, number, unit, comparator)."""
    vcc = obs.get("valueCodeableConcept")
    vcon = concept(vcc)
    texts = []
    num = unit = comp = None
    if isinstance(vcc, dict):
        texts.append(vcon.text)
    vs = obs.get("valueString")
    if isinstance(vs, str):
        texts.append(vs.lower())
        m = _NUM_RE.match(vs)
        if m:
            num, comp = float(m.group(2)), m.group(1)
    if "valueQuantity" in obs:
        num, unit, comp = quantity(obs.get("valueQuantity"))
    if "valueInteger" in obs:
        num = number(obs.get("valueInteger"))
    if isinstance(obs.get("valueRatio"), dict):
        r = obs["valueRatio"]
        n, _, _ = quantity(r.get("numerator"))
        dd, _, _ = quantity(r.get("denominator"))
        if n is not None and dd:
            num = n if dd == 100 else n / dd
    if "valueBoolean" in obs and isinstance(obs.get("valueBoolean"), bool):
        texts.append("positive" if obs["valueBoolean"] else "negative")
    return vcon, " | ".join(t for t in texts if t), num, unit, comp


def _interp(obs: dict[str, Any]) -> str | None:
    for cc in as_list(obs.get("interpretation")):
        a = _answer(cc)
        if a:
            return a
        q = _qual_from_text(cc_text_m(cc))
        if q:
            return q
    return None


# --- ER / PR -----------------------------------------------------------------------


_MARKER_WORDS = {"er": ("er", "estrogen receptor", "oestrogen receptor"),
                 "pr": ("pr", "pgr", "progesterone receptor")}
_PAIR_RE = re.compile(
    r"\b(er|pr|pgr|estrogen receptor|oestrogen receptor|progesterone receptor)\s*:?\s*"
    r"(\+|-(?![a-z0-9])|positive\b|negative\b|pos\b|neg\b)")


@lru_cache(maxsize=4096)
def _marker_pair(text: str, target: str) -> str | None:
    """'ER+/PR-' style text: the status named for `target` (er / pr), if any."""
    found = None
    for m in _PAIR_RE.finditer(text):
        if m.group(1) in _MARKER_WORDS[target]:
            found = "positive" if m.group(2) in ("+", "positive", "pos") else "negative"
    return found


_MARKER_MENTION_RE = re.compile(r"\b(er|pr|pgr|estrogen receptor|oestrogen receptor|progesterone receptor)\b")
# between two marker names, nothing but a joint: "ER/PR", "ER and PR", "ER, PR:" share what follows
_SHARED_RE = re.compile(r"\s*(/|&|\+|,|and)?\s*:?\s*$")


@lru_cache(maxsize=4096)
def _own_marker_text(text: str, target: str) -> str:
    """The words of a text naming both ER and PR that speak of `target`: from each mention of
    it (with a marker named jointly beside it, "ER/PR") to the next mention of the other ("ER
    positive (Allred 3), PR positive (Allred 8)": each its own score). The whole text when it
    names one marker or neither."""
    mentions = [(m.start(), m.end(), m.group(1) in _MARKER_WORDS[target]) for m in _MARKER_MENTION_RE.finditer(text)]
    if all(mine for *_, mine in mentions) or not any(mine for *_, mine in mentions):
        return text
    groups: list[list[tuple[int, int, bool]]] = []
    for mention in mentions:
        if groups and _SHARED_RE.match(text[groups[-1][-1][1]:mention[0]]):
            groups[-1].append(mention)
        else:
            groups.append([mention])
    parts = [_own_of_pairs(text[g[0][0]:(groups[i + 1][0][0] if i + 1 < len(groups) else len(text))],
                           [mine for *_, mine in g])
             for i, g in enumerate(groups) if any(mine for *_, mine in g)]
    return " ".join(parts)


# two values written as one pair after markers named jointly ("ER/PR 90%/5%", "H-score 250/20",
# "Allred 8/3"): the first is the first marker's, as the names are ordered
_VALUE_PAIR_RE = re.compile(r"(?<![\d/.])(\d{1,3}(?:\.\d+)?\s*%?)\s*/\s*(\d{1,3}(?:\.\d+)?\s*%?)(?![\d/.])")


def _own_of_pairs(part: str, mine: list[bool]) -> str:
    """The words of a group of markers named jointly ("ER/PR ...") with each value pair
    ("90%/5%") replaced by the value of this marker's place in the names; as written when the
    group names one marker or this marker in no single place."""
    if len(mine) != 2 or mine.count(True) != 1:
        return part
    place = mine.index(True) + 1
    return _VALUE_PAIR_RE.sub(lambda m: m.group(place), part)


def _read_receptor(obs: dict[str, Any], kind: str, text_extra: str, target: str = "er"
                   ) -> tuple[str | None, float | None, bool, str | None]:
    """(status, % of cells, ER-low, why an Allred total alone leaves it open or maybe low)."""
    vcc, vtext, num, unit, comp = _observation_values(obs)
    status: str | None = None
    low = False
    allred_note: str | None = None
    text = vtext + (" | " + text_extra if text_extra else "")
    # a text naming ER and PR ("ER 90%, PR 5%"): the % written for this marker
    # a Quantity whose UCUM code is "%" is a % whatever its display unit says ("per cent", "positive
    # cells"): FHIR R4 Quantity.code is the computable form, Quantity.unit the human one
    pct = _reported_percent(kind, _own_marker_text(vtext, target), num, "%" if _ucum_percent(obs) else unit, comp)
    percent = _stored_percent(pct)
    a = _answer(vcc)
    if a in ("positive", "present"):
        status = "positive"
    elif a in ("negative", "absent"):
        status = "negative"
    elif a in ("indeterminate", "equivocal"):
        status = None
    elif vtext:
        text = _own_marker_text(text, target)  # the Allred score and its parts of this marker
        allred = _allred_score(text)
        pair = _marker_pair(vtext, target)
        if _hedged(vtext):
            status = None
        elif pct is None and (mixed := _score_beside_own_number(text, target, allred)):
            status, allred_note = None, mixed
        elif pair:
            status = pair
            if pair == "positive" and allred is not None:
                # "ER positive (Allred score 3)": the call stands, the total says how low it may be;
                # a score meaning < 1 % of cells disagrees with it: read as neither (_allred_reading)
                read, low, allred_note = _allred_reading(allred, text, pair)
                if read is None and allred_note is not None:
                    status = None
            elif pair == "positive" and pct is None and (h := _h_score_value(text)) is not None:
                status, low, allred_note = _positive_beside_h_score(h)
        elif allred is not None:
            status, low, allred_note = _allred_reading(allred, text, _qual_from_text(vtext))
        else:
            q = _qual_from_text(vtext)
            status = q if q in ("positive", "negative") else None
            h = _h_score_value(text) if pct is None else None
            if q is None and h is not None:
                status, low, allred_note = _h_score_reading(h)
            elif q == "positive" and h is not None:
                status, low, allred_note = _positive_beside_h_score(h)
            if status is None and q is None and _NO_EXPRESSION_RE.search(vtext):
                status = "negative"
    if status is None and a is None:
        i = _interp(obs)
        if i in ("positive", "present"):
            status = "positive"
        elif i in ("negative", "absent"):
            status = "negative"
    if kind == "legacy" and status is None:
        return None, None, False, None  # quantitative ligand assay without interpretation
    if pct is not None:
        allred_note = None  # the % decides (CR A.2), not the Allred total
        pstatus = _percent_status(*pct)
        if status is None:
            status = pstatus
        elif pstatus and status != pstatus:
            # the reported category and the percentage disagree: trust neither
            return None, percent, False, None
        low = status == "positive" and _percent_low(*pct)
    if status == "positive" and pct is None and _low_text(text):
        low = True  # the wording counts only without a reported % (ER-low = 1-10 %)
    return status, percent, low, allred_note


# this marker named with a bare number ("PR 20", not "PR 20%", "PR 3+" or "PR 2-3+" (an intensity),
# "PR H-score 20", "PR Allred 3", or an antibody clone: "PR 1E2", "ER 6F11", "ER 1D5")
_OWN_NUMBER_RE = {t: re.compile(rf"\b(?:{'|'.join(words)})\s*:?\s*(\d{{1,3}}(?:\.\d+)?)"
                                r"(?![\d.\w]|\s*%|\s*/|\s*\+|\s*(?:-|to)\s*\d\s*\+)")
                  for t, words in _MARKER_WORDS.items()}


@lru_cache(maxsize=4096)
def _score_beside_own_number(text: str, target: str, allred: int | None) -> str | None:
    """Why an Allred total or H-score in the marker's own words is not read: the words also
    give the marker a bare number of its own that is not that score ("H-score: 150 (PR 20)" on
    a PR result: is PR 20 a % or an H-score, and whose is the 150?). CR A.2 reads the % of
    stained cells; which number is this marker's % or score no source settles. None otherwise."""
    score = allred if allred is not None else _h_score_value(text)
    if score is None:
        return None
    own = [m.group(1) for m in _OWN_NUMBER_RE[target].finditer(text)]
    # a number above 300 is no %, Allred total (0-8) or H-score (0-300): a clone ("PgR 636"), not a reading
    other = [n for n in own if float(n) != score and float(n) <= _H_SCORE_MAX]
    if not other:
        return None
    kind = "an Allred total" if allred is not None else "an H-score"
    return (f"'{text.strip()[:80]}' gives {kind} of {score} and {target.upper()} {other[0]} beside it "
            "(a % or a score, and whose is which?)")


def _allred_reading(total: int, text: str, qual: str | None) -> tuple[str | None, bool, str | None]:
    """(status, maybe ER-low, note) from an Allred total (and its proportion score when the
    text names it), by the % of cells each allows (_ALLRED_PS_PERCENT): CR A.2 reads the %.
    A total of 3-4 alone may be < 1 % (negative) or 1-10 % (low): undecided, unless the
    report calls it positive (then at most ER-low, with the caution); 5 is positive and may
    be ER-low. The note says so; None when the score decides."""
    m = _ALLRED_PS_VALUE_RE.search(text)
    ps = int(m.group(1)) if m else None
    if ps is not None and ps <= total:
        kind = _ALLRED_PS_PERCENT[ps]
        if kind in ("none", "negative"):
            return _allred_negative(qual, f"an Allred proportion score of {ps}")
        return "positive", kind == "low", None
    if total < 3:
        return _allred_negative(qual, f"an Allred total of {total}")
    if total in _ALLRED_TOTAL_UNDECIDED:
        status = "positive" if qual == "positive" else None
        return status, status == "positive", (
            f"an Allred total of {total} may mean < 1 % of cells stained (negative by ASCO/CAP) or 1-10 % (low)"
            + (" or more" if total == 4 else ""))
    if total == _ALLRED_TOTAL_MAY_BE_LOW:
        return "positive", True, f"an Allred total of {total} may mean 1-10 % of cells stained (low) or more"
    return "positive", False, None


def _allred_negative(qual: str | None, score: str) -> tuple[str | None, bool, str | None]:
    """An Allred score meaning < 1 % of cells stained (PS 0-1, total 0-2; or an H-score of 0,
    _positive_beside_h_score): negative, unless the
    report calls it positive (an older cut-off, Allred >= 3, or a typing slip): the call and the
    score disagree, read as neither, as a call against a reported % is (CR A.2; ASCO/CAP 2020)."""
    if qual == "positive":
        return None, False, (f"the report calls it positive, and {score} means < 1 % of cells stained "
                             "(negative by ASCO/CAP)")
    return "negative", False, None


def _h_score_reading(h: int) -> tuple[str | None, bool, str | None]:
    """(status, maybe ER-low, note) from an H-score alone, by the % of stained cells it allows
    (H/3 <= p <= H, _H_SCORE_RE): 0 negative; 1-2 undecided (may be < 1 %); 3-30 positive
    that may be ER-low; > 30 positive. The note says why; None when the score decides."""
    if h == 0:
        return "negative", False, None
    if h < _H_SCORE_POSITIVE:
        return None, False, (f"an H-score of {h} may mean < 1 % of cells stained (negative by ASCO/CAP) "
                             "or 1-10 % (low)")
    return _positive_beside_h_score(h)  # H >= 3: positive, read as a positive call beside it is


def _positive_beside_h_score(h: int) -> tuple[str | None, bool, str | None]:
    """A positive call beside an H-score ("ER positive, H-score 20", "Positive (H-score 20)"):
    the call stands, and an H of 1-30 (1-10 % of cells may be stained, _H_SCORE_RE) carries the
    ER-low caution, as an Allred total of 3-5 does; an H of 0 (no cell stained) disagrees with
    it: read as neither, as a positive call beside an Allred total of 0-2 is (CR A.2)."""
    if h == 0:
        return _allred_negative("positive", "an H-score of 0")
    if h <= _H_SCORE_MAY_BE_LOW:
        return "positive", True, f"an H-score of {h} may mean 1-10 % of cells stained (low) or more"
    return "positive", False, None


@lru_cache(maxsize=4096)
def _h_score_value(text: str) -> int | None:
    """The H-score in the text (0-300); None when none, or one out of range (not an H-score)."""
    m = _H_SCORE_RE.search(text)
    h = int(m.group(1) or m.group(2)) if m else None
    return h if h is not None and h <= _H_SCORE_MAX else None


def _h_score(text: str) -> str | None:
    """The H-score as written ("H-score 150"), if the text gives one."""
    m = _H_SCORE_RE.search(text)
    return f"H-score {m.group(1) or m.group(2)}" if m else None


def _reported_percent(kind: str, vtext: str, num: float | None, unit: str | None, comp: str | None
                      ) -> tuple[float, str | None] | tuple[float, str, float] | None:
    """(% of cells, bound) from an explicit % kind, a % unit or "nn%" in the text; the
    bound is None for a measured value, else "<", "<=", ">" or ">=" ("<1%", ">10%")."""
    if num is not None and ((kind == "percent" and not _names_other_unit(unit)) or (unit and "%" in unit)):
        pct = (num, comp if comp in ("<", "<=", ">", ">=") else None)
    else:
        pct = _percent_in_text(vtext)
    if pct is None or not (0 <= pct[0] <= 100) or (len(pct) > 2 and not pct[2] <= 100):  # type: ignore[misc]
        return None
    return pct


# a unit that says % of cells ("%", UCUM "%", "percent", "per cent", "cells/100 cells")
_PERCENT_UNIT_RE = re.compile(r"%|per ?cent|\bpct\b|100")


def _ucum_percent(obs: dict[str, Any]) -> bool:
    """valueQuantity coded "%" in UCUM (or with no system named): the number is a % of cells."""
    q = obs.get("valueQuantity")
    return (isinstance(q, dict) and q.get("code") == "%"
            and q.get("system") in (None, "http://unitsofmeasure.org"))


def _names_other_unit(unit: str | None) -> bool:
    """A unit that is not a % ("score", "{Allred}", "{H-score}"): a number on a % code with it
    is not read as the % (an Allred score of 3 is not 3 % of cells, CR A.1 Allred row)."""
    return bool(unit and unit.strip() and not _PERCENT_UNIT_RE.search(unit.lower()))


def _percent_status(value: float, bound: str | None, top: float | None = None) -> str | None:
    """positive (>= 1 %) or negative (< 1 %) when every % the report allows agrees; a bound
    that spans the 1 % threshold ("<50%", ">0%") decides nothing, nor does a range that
    does ("0-1%": `value` its bottom, `top` its top)."""
    if bound == "range":
        return "positive" if value >= 1 else "negative" if top is not None and top < 1 else None
    if bound in (">", ">="):
        return "positive" if value >= 1 else None
    if bound == "<":
        return "negative" if value <= 1 else None
    if bound == "<=":
        return "negative" if value < 1 else None
    return "positive" if value >= 1 else "negative"


def _percent_low(value: float, bound: str | None, top: float | None = None) -> bool:
    """ER-low (1-10 %) for a positive result. A lower bound that puts every allowed % above
    10 (">10%", "more than 10%") is not low: the bound is not the value. A bound or a range
    that still allows 1-10 % (">5%", ">=10%", "1-10%", "5-20%") keeps the ER-low caution, as a
    measured value would."""
    if bound == "range":  # any part of it in 1-10 %
        return value <= 10 and top is not None and top >= 1
    if (bound == ">" and value >= 10) or (bound == ">=" and value > 10):
        return False
    return 1 <= value <= 10


def _stored_percent(pct: tuple[float, str | None] | None) -> float | None:
    """The % shown: a measured value; "<1%" as 0.5 (negative); no number for another bound
    (">10%" shown as "10 %" would read as ER-low)."""
    if pct is None:
        return None
    value, bound = pct[0], pct[1]
    if bound is None:
        return value
    if bound == "range":
        return None  # neither end is the value
    if _percent_status(value, bound) == "negative":
        return min(value, 0.5)
    return None


@lru_cache(maxsize=4096)
def _percent_in_text(vtext: str) -> tuple[float, str | None] | tuple[float, str, float] | None:
    """"nn%" in the value text, with its bound ("<1%", "greater than 10%"); a range "lo-hi%"
    as (lo, "range", hi). The first of them in the text is the result's ("ER 90%, PR 5-10%" is
    90 %; "95% of cells (range 90-100%)" is 95 %)."""
    r = _RANGE_PCT_RE.search(vtext)
    m = _PCT_RE.search(vtext)
    if r and float(r.group(1)) <= float(r.group(2)) and (m is None or r.start() <= m.start()):
        return float(r.group(1)), "range", float(r.group(2))
    if not m:
        return None
    word = (m.group(1) or "").lower()
    return float(m.group(2)), (_BOUND_WORDS.get(word, word) or None)


@lru_cache(maxsize=4096)
def _allred_score(text: str) -> int | None:
    """The Allred total score in the text; None when it names only the proportion / intensity
    parts (a part is not the total: "proportion score 2, intensity 1" is not Allred 2)."""
    m = _ALLRED_TOTAL_RE.search(text)
    if m:
        return int(m.group(1) or m.group(2))
    m = _ALLRED_RE.search(text)
    if m is None or _ALLRED_PARTS_RE.search(m.group(0)):
        return None
    if _ALLRED_IS_RE.search(m.group(0)) and _ALLRED_PS_RE.search(text):
        return None
    return int(m.group(1))


def _combine_receptor(recs: list[_Rec]) -> ReceptorStatus:
    out = ReceptorStatus()
    if not recs:
        return out
    out.sources = [r.src for r in recs]
    known = [r for r in recs if r.status]
    statuses = {r.status for r in known}
    out.conflict = len(statuses) > 1
    dated = [r for r in recs if r.date]
    if dated:
        latest = max(r.date for r in dated)  # type: ignore[type-var]
        group = [r for r in dated if r.date == latest]
    else:
        latest = None
        group = recs
    gstat = {r.status for r in group if r.status}
    if not gstat and dated:
        # latest day had only unreadable values: fall back to the latest readable day
        kd = [r for r in known if r.date]
        if kd:
            latest = max(r.date for r in kd)  # type: ignore[type-var]
            group = [r for r in kd if r.date == latest]
            gstat = {r.status for r in group}
        elif known:
            group = known
            gstat = statuses
    out.date = latest
    out.date_last = written_last(latest, [r.src for r in group])
    if len(gstat) == 1:
        out.status = gstat.pop()  # type: ignore[assignment]
    else:
        out.status = "unknown"
        if len(gstat) > 1:
            out.conflict = True
    measured = [r for r in group if r.percent is not None]
    if measured:
        out.percent = measured[-1].percent
    # a measured % decides ER-low (1-10 %) over wording in another result of the day
    out.low_positive = out.status == "positive" and any(r.low for r in (measured or group))
    return out


# --- HER2 ----------------------------------------------------------------------------


def _her2_local(cc: Any) -> str | None:
    for system, code, _ in (cc.codings if type(cc) is Concept else codings_m(cc)):
        v = T.local_lookup(T.HER2_LOCAL_CODES, system, code)
        if v:
            return str(v)
    return None


@lru_cache(maxsize=4096)
def _her2_text_score(text: str) -> str | None:
    """The first text pattern (local_codes.yaml her2.text_patterns) with a match that no
    negation stands right before ("not ultralow", "2+ (not 3+)", "Non-HER2-low")."""
    for rx, value in T.HER2_TEXT:
        if any(not _negated_before(text, m.start()) for m in rx.finditer(text)):
            return value
    return None


_SCORE_OF = {"ultralow": "0", "null": "0"}  # IHC 0 sub-classes are the score 0


@lru_cache(maxsize=4096)
def _three_plus_in_few_cells(text: str) -> bool:
    """A 3+ whose clause gives it at most 10 % of the cells ("HER2 3+ (heterogeneous, 10% of
    cells)"): 3+ is intense complete staining in > 10 %, in <= 10 % it is 2+ (CR A.1, ASCO/CAP;
    local_codes.yaml her2.three_plus_few_cells). Before, read HER2-positive (out of the pathway)."""
    for m in T.HER2_THREE_PLUS_PERCENT.finditer(text):
        if not m.group(1) and float(m.group(2)) <= 10 and not T.HER2_THREE_PLUS_OTHER_MARKER.search(m.group()):
            return True
    return False


@lru_cache(maxsize=4096)
def _her2_text_scores(text: str) -> frozenset[str]:
    """Every IHC score the text names, each not under a negation (ultralow / null count as 0;
    the category words HER2-low are no score): "0-1+", "1+ to 2+", "3+ in 20%, 0 in 80%",
    "1+, previously 3+" name two."""
    found = set()
    for rx, value in T.HER2_TEXT:
        if value != "low" and any(not _negated_before(text, m.start()) for m in rx.finditer(text)):
            found.add(_SCORE_OF.get(value, value))
    return frozenset(found)


def _several_scores(scores: frozenset[str]) -> tuple[str | None, str | None]:
    """(score, qual) for a text naming more than one IHC score, never the highest or the first
    as if measured: 0 or 1+ is HER2-negative with the HER2-low question open (qual negative:
    gap her2-score-missing, CR A.1 "never infer HER2-low"); 1+ or 2+ is HER2-negative only
    after ISH (2+ kept: ISH decides, CR A.1 2+ -> reflex ISH); any other pair (3+ named, or 0
    with 2+) could be HER2-positive or HER2-0: unread (CR C.2 step 0, missing or discordant)."""
    if scores == {"0", "1+"}:
        return None, "negative"
    if scores == {"1+", "2+"}:
        return "2+", None
    return None, "indeterminate"


# the words "HER2-low" (tables.HER2_TEXT entry "low")
_HER2_LOW_TEXT = next(rx for rx, value in T.HER2_TEXT if value == "low")


@lru_cache(maxsize=4096)
def _her2_low_named(text: str) -> bool:
    """The words HER2-low in `text`, one mention not under a negation."""
    return any(not _negated_before(text, m.start()) for m in _HER2_LOW_TEXT.finditer(text))


_LOW_POSITIVE = re.compile(r"\blow[ -]+positive\b", re.I)  # "HER2 low positive", "HER2 low-positive"


@lru_cache(maxsize=4096)
def _her2_low_words_unsure(text: str) -> bool:
    """The words "HER2-low" in `text` do not state a result: every mention hedged ("possible
    HER2-low", "likely HER2-low", "HER2-low?", "HER2-low cannot be excluded": the hedge words
    of metastasis_hedges, local_codes.yaml, FHIR condition-ver-status unconfirmed/provisional),
    or the text also names an IHC score outside HER2-low ("HER2-low on primary; 0 on metastasis":
    two results in one text, CR C.2 step 0 discordant), or calls it positive ("HER2 low
    positive": HER2-low or HER2-positive?). CR A.1: HER2-low is IHC 1+ or 2+/ISH-; never inferred."""
    if _her2_text_scores(text) - {"1+", "2+"} - ({"0"} if _only_hedged_zero(text) else set()):
        return True
    if _LOW_POSITIVE.search(text):
        return True
    for m in _HER2_LOW_TEXT.finditer(text):
        if not _negated_before(text, m.start()) and not _hedged_at(text, m.start(), m.end()):
            return False
    return True


# a HER2 result written refuted right after it ("HER2 1+ ruled out", "3+ excluded"; FHIR R4
# condition-ver-status 'refuted'; local_codes.yaml vocabulary ruled_out_words)
_REFUTED_AFTER = re.compile(rf"^\W*(?:(?:is|was|has|been|now)\s+)*{_V['ruled_out_words']}\b", re.I)
# a HER2 result written unconfirmed right after it, whatever the clause goes on with ("HER2 3+ not
# confirmed on review", "3+ - not confirmed by central review"): FHIR R4 condition-ver-status
# 'unconfirmed'; local_codes.yaml vocabulary suspicion_words_after. The metastasis readers need the
# words to close the clause; a HER2 score does not (CR A.1 / C.2 step 0: HER2 status must be known).
_UNCONFIRMED_AFTER = re.compile(rf"^\W*(?:(?:is|was|has|been)\s+)*{_V['suspicion_words_after']}\b", re.I)


def _qual_unsure(text: str) -> bool:
    """A HER2 "positive" / "negative" in `text` written as a question ("positive?", "possibly
    positive", "positive - to be confirmed": _HEDGED_RE, as for ER / PR) or refuted ("HER2-positive
    ruled out", _REFUTED_AFTER): FHIR R4 condition-ver-status unconfirmed / refuted."""
    return bool(_hedged(text)) or any(_REFUTED_AFTER.search(text[m.end():])
                                      for m in re.finditer(r"\b(?:positive|negative)\b", text, re.I))


def _hedged_at(text: str, start: int, end: int) -> bool:
    """The mention text[start:end] is hedged ("possible ...", "... suspected"): the hedge words
    _her2_low_words_unsure reads (local_codes.yaml metastasis_hedges), or written refuted ("HER2 1+
    ruled out": no result either; rt51, before read as 1+, T-DXd offered)."""
    before, after = text[max(0, start - 45):start], text[end:]
    return bool(T.MET_SUSPICION_BEFORE.search(before) or T.MET_PROBABLE_BEFORE.search(before)
                or T.MET_SUSPICION_AFTER.search(after) or T.MET_PROBABLE_AFTER.search(after)
                or _REFUTED_AFTER.search(after) or _UNCONFIRMED_AFTER.search(after))


@lru_cache(maxsize=4096)
def _only_hedged(text: str, value: str) -> bool:
    """Every unnegated mention of the HER2 text pattern `value` in `text` is hedged (cached by
    text: it runs all of HER2_TEXT over the text, on every call for the same IHC words)."""
    found = [m for rx, v in T.HER2_TEXT if v == value for m in rx.finditer(text)
             if not _negated_before(text, m.start())]
    return bool(found) and all(_hedged_at(text, m.start(), m.end()) for m in found)


def _only_hedged_zero(text: str) -> bool:
    """The text's IHC 0 is only a hedged ultralow / null ("HER2 low; possible ultralow"): a
    question about the sub-class, not a second result (a hedged 3+ still is one)."""
    zero = [v for rx, v in T.HER2_TEXT if _SCORE_OF.get(v, v) == "0"
            and any(not _negated_before(text, m.start()) for m in rx.finditer(text))]
    return bool(zero) and all(v in ("ultralow", "null") and _only_hedged(text, v) for v in zero)


@lru_cache(maxsize=4096)
def _her2_history(text: str) -> tuple[str, str | None]:
    """(the text without its history clause, the history clause) when a HER2 result (a score,
    a category or "negative") stands before a history word and the clause from it ('; | )' or the end) names a result: "HER2-low,
    previously HER2 0" is HER2-low now, IHC 0 before (the result named first is the current one;
    CR C.2 step 0 keeps the history). (text, None) otherwise (local_codes.yaml her2.history).
    "1+, previously 3+" too: the 1+ is read, the 3+ named as a conflict (_text_history_conflict)."""
    for m in _history_words(text):
        before = text[:m.start()]
        if not _names_current_result(before) or T.HER2_HISTORY_SPECIMEN_BEFORE.search(before):
            # no result before it, or the word names that result's specimen as the earlier one
            # ("3+ on previous biopsy, 1+ on current"): no history clause opens here
            continue
        end = T.HER2_HISTORY_CLAUSE_END.search(text, m.end())
        stop = end.start() if end else len(text)
        history, now = text[m.start():stop], before + text[stop:]
        c = T.HER2_HISTORY_CURRENT.search(history)
        if c and not history[:c.start()].strip(" ,;:-").removeprefix(m.group()).strip(" ,;:-"):
            # the history word after its result, a current word next ("HER2 1+ previously, now 2+
            # ISH neg"): the result before it is the earlier one (before, the 1+ was read and
            # "previously, now 2+ ISH neg" named as its history)
            now = _CURRENT_WORD_OPENING.sub("", text[m.start() + c.start():])
            if _names_current_result(now) and (_her2_text_scores(before) or _her2_low_named(before)):
                return now, text[:m.end()].strip(" ,;")
            continue
        named = _her2_text_scores(history)
        # an earlier ISH beside this result's own ("HER2 2+ (FISH not amplified; previously
        # amplified)"), as _her2_history_first reads one written before
        earlier_ish = _one_reading(_ish_readings(history)) is not None and _ish_in_text(now) is not None
        if not (named or earlier_ish or _her2_low_named(history) or T.HER2_HISTORY_ZERO.search(history)
                or _her2_positive_history(history)  # "previously HER2-positive": named as history
                or _her2_negative_history(text, history)):  # "Positive (previously negative)"
            continue
        # a 3+ on either side too ("1+, previously 3+"): the most recent decides and an earlier
        # result on the other side of HER2-positive is named as a conflict (_text_history_conflicts),
        # as "1+, previously HER2-positive" and two records are (CR C.2 step 0)
        return now, history.strip()
    now, history = _her2_history_first(text)
    return (now, history) if history is not None else _her2_current_of_two(text)


def _history_words(text: str) -> Iterator[re.Match[str]]:
    """The history words of `text` (local_codes.yaml her2.history words), "was" / "were" only
    opening their clause or after the result's own name or an earlier specimen ("HER2 1+ (was
    0)", "primary was 0"; was_clause_opening): "10% of cells were 2+", "the other block was 2+"
    tell the heterogeneity of this specimen, not its history."""
    for m in T.HER2_HISTORY_WORD.finditer(text):
        if m.group().lower() in ("was", "were"):
            starts = [b.end() for b in T.HER2_HISTORY_WAS_CLAUSE_START.finditer(text, 0, m.start())]
            if not T.HER2_HISTORY_WAS_OPENING.match(text[starts[-1] if starts else 0:m.start()]):
                continue
        yield m


def _names_current_result(text: str) -> bool:
    """A HER2 result in `text`: an IHC score or category, or a bare "negative" / "positive" ("HER2 negative;
    previously HER2-low" is negative now, never HER2-low: CR A.1 never infers HER2-low)."""
    # a bare "positive" too: "HER2 positive (previously 1+)" is HER2-positive now (before, the
    # history's 1+ was read as current: HER2-low); CR C.2 step 0, the most recent decides
    return _her2_text_score(text) is not None or _qual_from_text(text) in ("negative", "positive")


def _her2_history_first(text: str) -> tuple[str, str | None]:
    """A history written before the current result, which a word marks ("Previously HER2 0, now
    HER2 1+", "HER2 was 0, currently 1+"): (the text without the history, the history), on the
    same terms as _her2_history; (text, None) otherwise."""
    m = next(_history_words(text), None)
    c = T.HER2_HISTORY_CURRENT.search(text, m.end()) if m else None
    if m is None or c is None or T.HER2_HISTORY_SPECIMEN_BEFORE.search(text[:m.start()]):
        # a history word naming the specimen of a result before it ("HER2 3+ on previous biopsy;
        # 1+ on current biopsy") writes no history first: the clauses are read by their marks
        # (before, "HER2 3+ on current biopsy" was read, the current 1+ named as history)
        return text, None
    history, now = text[m.start():c.start()], text[:m.start()] + text[c.start():]
    named = _her2_text_scores(history)
    # an earlier ISH beside the current one ("HER2 2+, ISH previously not amplified, now amplified")
    earlier_ish = _one_reading(_ish_readings(history)) is not None and _ish_in_text(now) is not None
    if not _names_current_result(now) or not (named or _her2_low_named(history) or earlier_ish
                                              or T.HER2_HISTORY_ZERO.search(history)
                                              or _her2_positive_history(history)):
        return text, None
    return now, history.strip(" ,;")  # a 3+ on either side too, as _her2_history


def _her2_current_of_two(text: str) -> tuple[str, str | None]:
    """Two results in one text with no history word, each in its own clause naming one IHC
    score, the current one marked by a later year, a current or review word, or a metastatic
    specimen beside the primary ("HER2 IHC 1+ on liver biopsy; IHC 0 on 2016 primary": 1+ now,
    "IHC 0 on 2016 primary" history; CR C.2 step 0 prefers the most recent biopsy, metastatic
    site, and keeps history). (text, None) when no mark or marks that disagree (local_codes.yaml
    her2.history two_results)."""
    scored, votes = _two_results(text)
    if not scored:
        return _latest_of_dated(text)
    if len(votes) != 1:
        return text, None
    a, b = scored[1 - next(iter(votes))]
    history = text[a:b].strip(" ,;|")
    if history.endswith(")") and history.count(")") > history.count("("):
        history = history[:-1].rstrip()  # the bracket the clause closes is not its own
    # the current clause read without the review word opening it ("on review, 0": a 0 the score
    # patterns read only as a text's opening)
    now = _ARROW_OPENING.sub("", (text[:a] + text[b:]).strip(" ,;|"))  # "1+ (2019) -> 0 (2024)"
    return _CURRENT_WORD_OPENING.sub("", now), history


# an arrow opening the current clause once the earlier one is cut off (local_codes.yaml her2.history
# two_results clause_break)
# or a slash ("1+ (2020) / 0 (2024)") or a spaced dash ("1+ (2019) - 0 (2024)", rt51)
_ARROW_OPENING = re.compile(r"^\s*(?:-+>|=>|\u2192|/|[-\u2013\u2014](?=\s))\s*")


# the score a clause's words name when results are read as several scores (_undecided_dated_scores,
# _read_her2): the words HER2-low stand for 1+ (1+ or 2+/ISH-, CR A.1): with a 0, HER2-negative with
# the HER2-low question open, as "HER2 0, 1+" is; HER2-positive in words stands for 3+ (with any
# other score, unread)
_SCORE_OF_WORDS = {"low": "1+", "positive": "3+"}


def _break_spans(text: str) -> list[tuple[int, int]]:
    """The spans of `text`'s clauses, cut at the breaks between results (local_codes.yaml her2.history
    two_results clause_break), the breaks themselves left out."""
    breaks = list(T.HER2_TWO_RESULTS_BREAK.finditer(text))
    return list(zip([0, *(b.end() for b in breaks)], [*(b.start() for b in breaks), len(text)]))


@lru_cache(maxsize=4096)
def _latest_of_dated(text: str) -> tuple[str, str | None]:
    """Three or more results in one text, each clause naming one IHC score and one year, every
    year different ("1+ (2019), 0 (2024), 1+ (2025)"): (the latest clause, the earlier clauses as
    written), so every earlier result is named (CR C.2 step 0: the most recent decides, keep
    history; before, the later 1+ was read and the 0 of 2024 never named). (text, None) otherwise,
    as for two results (_two_results); an ISH clause of its own leaves the text as it is."""
    spans = _ish_with_its_2_plus(text, _break_spans(text))
    scored = [(a, b) for a, b in spans if _clause_scores(text[a:b])]
    if len(scored) < 3 or any(T.HER2_ISH_IN_TEXT_WORD.search(text[a:b]) for a, b in spans if (a, b) not in scored):
        return text, None
    years = [set(T.HER2_TWO_RESULTS_YEAR.findall(text[a:b])) for a, b in scored]
    named = [_clause_scores(text[a:b]) for a, b in scored]
    # a 3+ / HER2-positive among them: unread as before (testing only); the conflict one earlier
    # result names (_text_history_conflict) is not told for several
    if (any(len(sc) != 1 or sc & {"3+", "positive"} for sc in named) or any(len(y) != 1 for y in years)
            or len(set().union(*years)) != len(scored)):
        return text, None
    latest = max(range(len(scored)), key=lambda i: int(next(iter(years[i]))))
    a, b = scored[latest]
    others = [(x, y) for i, (x, y) in enumerate(scored) if i != latest]
    if latest in (0, len(scored) - 1):  # the earlier results in one piece, quoted as written
        earlier = text[others[0][0]:others[-1][1]].strip(" ,;|")
    else:
        earlier = "; ".join(text[x:y].strip(" ,;|") for x, y in others)
    return _ARROW_OPENING.sub("", text[a:b].strip(" ,;|")), earlier


@lru_cache(maxsize=4096)
def _undecided_dated_scores(text: str) -> frozenset[str]:
    """The IHC scores of a text of three or more clauses each naming one score (as _latest_of_dated
    reads them) that name more than one score and whose latest result _latest_of_dated could not
    tell (a year given twice or missing); empty otherwise."""
    named = [sc for a, b in _ish_with_its_2_plus(text, _break_spans(text)) if (sc := _clause_scores(text[a:b]))]
    if len(named) < 3 or any(len(sc) != 1 for sc in named) or _latest_of_dated(text)[1] is not None:
        return frozenset()
    scores = frozenset(_SCORE_OF_WORDS.get(s, s) for sc in named for s in sc)
    return scores if len(scores) > 1 else frozenset()


# a clause that is only a current or review word ("on review", "now") (local_codes.yaml her2.history current_words)
_CURRENT_WORD_ALONE = re.compile(r"^\W*(?:" + T.HER2_HISTORY_CURRENT.pattern + r")\W*$", re.I)
_CURRENT_WORD_OPENING = re.compile(r"^\W*(?:" + T.HER2_HISTORY_CURRENT.pattern + r")\W*(?=\S)", re.I)


@lru_cache(maxsize=4096)
def _two_results(text: str) -> tuple[list[tuple[int, int]], frozenset[int]]:
    """The two clauses of `text` (their spans) that each name one IHC score, different,
    and which of them (0, 1) the marks of _her2_current_of_two say is current: both when the marks
    disagree ("HER2 1+ (liver 2016), 0 (primary 2024)": the later year and the metastatic site point
    to different clauses). ([], {}) when the text is not two such clauses."""
    spans = _break_spans(text)
    for i in range(len(spans) - 2, -1, -1):
        a, b = spans[i]
        if _CURRENT_WORD_ALONE.match(text[a:b]):
            # "HER2 0; on review, 1+": the review word opens the clause after it
            spans[i:i + 2] = [(a, spans[i + 1][1])]
    spans = _ish_with_its_2_plus(text, spans)
    scored = [(a, b) for a, b in spans if _clause_scores(text[a:b])]
    if len(scored) != 2 or any(T.HER2_ISH_IN_TEXT_WORD.search(text[a:b]) for a, b in spans if (a, b) not in scored):
        # an ISH clause of its own not after a 2+ ("0 (primary), FISH not amplified; 1+ (liver)"):
        # which result it goes with the clauses do not say (read with the current one, the
        # primary's amplified ISH made an IHC 0 on the metastasis HER2-positive)
        return [], frozenset()
    clauses = [text[a:b] for a, b in scored]
    scores = [_clause_scores(c) for c in clauses]
    # the same score twice is two results when an ISH goes with one of them ("2+ (liver 2023); 2+
    # (primary 2015), FISH amplified": the primary's reflex ISH is not the liver 2+'s, CR A.1; rt51:
    # before, read with the liver 2+, HER2-positive on the primary's ISH)
    if any(len(sc) != 1 for sc in scores) or (scores[0] == scores[1] and (
            scores[0] != {"2+"} or _ish_in_text(clauses[0]) == _ish_in_text(clauses[1]))):
        return [], frozenset()
    if "low" in scores[0] | scores[1] and ((scores[0] | scores[1]) & {"1+", "2+"}
                                           or any(_her2_text_score(c) in ("ultralow", "null") for c in clauses)):
        # the words HER2-low beside a 1+ / 2+ (no second category) or an IHC 0 sub-class, stated or
        # hedged ("HER2 low; possible ultralow on re-review"): read as before
        return [], frozenset()
    return scored, _marked_current(clauses[0], clauses[1])


def _ish_with_its_2_plus(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` with an ISH clause of its own joined to the clause before it when that clause names
    IHC 2+ alone: "2+ (primary 2015), FISH amplified" is the 2+'s reflex ISH (CR A.1, ASCO/CAP:
    IHC 2+ -> reflex ISH; an ISH does not decide IHC 0 / 1+ / 3+), so it goes where its 2+ goes
    (history or current). Any other ISH clause is left on its own."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if (out and T.HER2_ISH_IN_TEXT_WORD.search(text[a:b]) and not _clause_scores(text[a:b])
                and _clause_scores(text[out[-1][0]:out[-1][1]]) == {"2+"}):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _clause_scores(clause: str) -> frozenset[str]:
    """The IHC scores a clause of two results names, or "low" for the words HER2-low with no score
    ("HER2-low (2019); 0 (2024)": before, the 0 was read alone or the HER2-low alone, the other
    never named)."""
    clause = _CURRENT_WORD_OPENING.sub("", clause)  # "On review, 0": the score after the review word
    return _her2_text_scores(clause) or (frozenset({"low"}) if _her2_low_named(clause) else
                                         frozenset({"positive"}) if _positive_in_words(clause) else frozenset())


_POSITIVE_WORD = re.compile(r"\bpos(?:itive)?\b")


def _positive_in_words(clause: str) -> bool:
    """HER2-positive in words in a clause of two results ("HER2 positive in 2015, now 1+": before,
    the 1+ was read with the earlier HER2-positive never named): not negated ("not HER2-positive"),
    not an ISH's ("FISH positive" is the ISH of its clause) nor ER / PR's (CR A.1)."""
    return (not T.HER2_ISH_IN_TEXT_WORD.search(clause) and not T.HER2_HISTORY_OTHER_RECEPTOR.search(clause)
            and any(not _negated_before(clause, m.start()) for m in _POSITIVE_WORD.finditer(clause)))


def _marked_current(first: str, second: str) -> frozenset[int]:
    """Which of two clauses (0, 1) the marks of _her2_current_of_two say is current: none, one,
    or both when the marks disagree."""
    votes = set()
    years = [max((int(y) for y in T.HER2_TWO_RESULTS_YEAR.findall(c)), default=None) for c in (first, second)]
    if years[0] and years[1] and years[0] != years[1]:
        votes.add(0 if years[0] > years[1] else 1)
    marked = [T.HER2_HISTORY_CURRENT.search(c) is not None for c in (first, second)]
    if marked[0] != marked[1]:
        votes.add(0 if marked[0] else 1)
    # a history word after its result ("1+ now, 3+ previously"): the other clause is current
    earlier = [next(_history_words(c), None) is not None for c in (first, second)]
    if earlier[0] != earlier[1]:
        votes.add(1 if earlier[0] else 0)
    site = [(T.HER2_TWO_RESULTS_METASTATIC.search(c) is not None, T.HER2_TWO_RESULTS_PRIMARY.search(c) is not None)
            for c in (first, second)]
    if site[0] == (True, False) and site[1] == (False, True):
        votes.add(0)
    elif site[0] == (False, True) and site[1] == (True, False):
        votes.add(1)
    return frozenset(votes)


def _as_written(obs: dict[str, Any], words: str) -> str:
    """`words` (read from the lower-cased value text) as the record wrote them, when found."""
    raw = obs.get("valueString") or (obs.get("valueCodeableConcept") or {}).get("text")
    if isinstance(raw, str):
        at = raw.lower().find(words)
        if at >= 0:
            return raw[at:at + len(words)]
        if "; " in words:  # earlier results joined from either side of the current one (_latest_of_dated)
            return "; ".join(_as_written(obs, w) for w in words.split("; "))
    return words


_NO_SOURCE = Source(reference="Observation/-")  # a history clause read on its own, not a record


@lru_cache(maxsize=1024)
def _history_category(words: str) -> str | None:
    """The HER2 category an earlier result named in words gives ("previously HER2-low": low)."""
    rec = _read_her2({"valueString": words}, "ihc", None, _NO_SOURCE, "")
    if rec is None:
        return "zero-unspecified" if T.HER2_HISTORY_ZERO.search(words) else None
    return _her2_category([rec])[0]


@lru_cache(maxsize=1024)
def _history_assessment(words: str) -> tuple[str, str | None, str | None] | None:
    """(category, IHC score, ISH) of an earlier result named in words ("previously 3+")."""
    rec = _read_her2({"valueString": words}, "ihc", None, _NO_SOURCE, "")
    return _her2_category([rec]) if rec else None


def _positive_stated(text: str) -> bool:
    """A positive word in `text` not under a HER2 negation: "HER2-low, not HER2-positive" restates
    HER2-negative (CR A.1), it names no second result; "HER2-low on primary, HER2-positive on
    metastasis" does (_NEG_RE reads "not positive" but not "not HER2-positive")."""
    return any(not _negated_before(text, m.start()) for m in _POS_RE.finditer(text))


def _her2_negative_history(text: str, history: str) -> bool:
    """A HER2-negative result in words in a history clause ("HER2 positive (previously negative)":
    before, the two words read no result, HER2 unknown with nothing named; CR C.2 step 0: the most
    recent decides, the history is named). Not in a text naming an ISH ("FISH previously
    negative" is the ISH's history) nor in one naming ER / PR (CR A.1: separate results)."""
    return (_qual_from_text(history) == "negative" and not T.HER2_ISH_IN_TEXT_WORD.search(text)
            and not T.HER2_HISTORY_OTHER_RECEPTOR.search(history))


def _her2_positive_history(history: str) -> bool:
    """A HER2-positive result in words in a history clause: not one naming ER / PR ("previously
    ER positive" is that receptor's; CR A.1, local_codes.yaml her2.history other_receptor)."""
    return _positive_stated(history) and not T.HER2_HISTORY_OTHER_RECEPTOR.search(history)


def _negated_before(text: str, start: int) -> bool:
    return T.HER2_TEXT_NEGATED_BEFORE.search(text[max(0, start - 40):start]) is not None


# HER2 named in a text (CR A.1: HER2 = ERBB2, "HER2/neu"); other receptors' names: _MARKER_MENTION_RE
_HER2_MENTION_RE = re.compile(r"\b(?:her-?2|c-?erbb-?2|erbb2)\b")


@lru_cache(maxsize=4096)
def _her2_own_text(text: str) -> str:
    """A text naming HER2 and ER / PR ("ER 95%, PR 2+, HER2 1+": a receptor panel in one line)
    without the words that speak of ER / PR: from each ER / PR mention to the next HER2 mention,
    ISH word, ';' or '|'. An ER or PR intensity ("PR 2+", "ER 3+") is that receptor's (CR A.1:
    separate results), no HER2 score: it made "ER 95%, PR 2+, HER2 1+" HER2 2+ (testing only)
    and "ER 3+, HER2 1+" two scores (unknown). The whole text when it names no HER2."""
    if not _HER2_MENTION_RE.search(text):
        return text
    out, at = [], 0
    for m in _MARKER_MENTION_RE.finditer(text):
        if m.start() < at:
            continue  # inside the ER / PR words already left out ("ER/PR positive")
        stop = [x.start() for x in (_HER2_MENTION_RE.search(text, m.end()), _OTHER_RECEPTOR_END.search(text, m.end()),
                                    T.HER2_ISH_IN_TEXT_WORD.search(text, m.end())) if x]
        out.append(text[at:m.start()])
        at = min(stop, default=len(text))
    return "".join(out) + text[at:] if out else text


_OTHER_RECEPTOR_END = re.compile(r"[;|]")


def _read_her2(obs: dict[str, Any], kind: str, date: dt.date | None, src: Source,
               extra_text: str) -> _Her2 | None:
    vcc, vtext, num, unit, comp = _observation_values(obs)
    history = None
    if kind in ("ihc", "interpretation"):
        vtext = _her2_own_text(vtext) if vtext else vtext  # "ER 95%, PR 2+, HER2 1+": the HER2 words
        extra_text = _her2_own_text(extra_text) if extra_text else extra_text
    if kind in ("ihc", "interpretation") and vtext:
        vtext, history = _her2_history(vtext)  # "HER2-low, previously HER2 0": the first is current
    text = " | ".join(t for t in (vtext, extra_text) if t)
    if kind in ("ihc", "interpretation"):
        rec = _Her2(kind="ihc" if kind == "ihc" else "interp", date=date, src=src)
        if history:
            rec.history = _as_written(obs, history)
        local = _her2_local(vcc)
        score = None
        sub = None
        if local in ("ultralow", "null"):
            score, sub = "0", local
        elif local:
            score = local
        if score is None and num is not None and kind == "ihc" and num in (0, 1, 2, 3):
            score = {0: "0", 1: "1+", 2: "2+", 3: "3+"}[int(num)]
        low_text = False
        several = None  # the qual a text naming more than one IHC score stands for
        if score is None or (score == "0" and sub is None):
            # the value's own words first; the notes only when the value names no score, or
            # for the sub-class of a 0 (a note "3+ on the 2016 primary" is not this result)
            t = _her2_text_score(vtext) if vtext else None
            read = vtext
            if extra_text and t in (None, "low", "0"):
                tn = _her2_text_score(extra_text)
                if t is None or t == "low" or tn in ("ultralow", "null"):
                    t, read = (tn, extra_text) if tn else (t, read)
            scores = _her2_text_scores(read) if t and t != "low" else frozenset()
            if "3+" in scores and _her2_low_named(read):
                # "HER2-low, 3+ in 20%": two results in one text, as "1+, 3+" (with a history word the
                # 3+ is split off first, _her2_history)
                scores = scores | {"1+"}
            if len(scores) > 1 and score is None:
                t, several = _several_scores(scores)
            elif score is None and _two_results(read)[0] and len(_two_results(read)[1]) != 1:
                # two results whose marks point to different clauses (a later year on the primary,
                # the metastatic site on the other), or with no mark ("HER2 1+ on core; 0 on
                # excision": the 0 is read only as its clause's opening): which is current the text
                # does not say (CR C.2 step 0): read as two scores, as a text naming both ("HER2 0,
                # 1+") is; before, one clause's score went unread ("0 (primary 2024)") and the other
                # was read alone
                named = frozenset().union(*(_clause_scores(read[a:b]) for a, b in _two_results(read)[0]))
                t, several = _several_scores(frozenset(_SCORE_OF_WORDS.get(s, s) for s in named))
            elif score is None and (named := _undecided_dated_scores(read)):
                # three or more dated results the latest year does not decide ("1+ (2019), 0 (2024),
                # 1+ (2024)"): read as the scores they name, as two unmarked results are (rt51;
                # before, a 1+ was read and the 0 never named: T-DXd offered)
                t, several = _several_scores(named)
            if t in ("ultralow", "null") and _her2_low_named(read) and _only_hedged_zero(read):
                # "HER2 low; possible ultralow on re-review": the result is HER2-low, the IHC 0
                # sub-class only a question (CR A.1; label B is for HER2-low only, B.11)
                t = "low"
            if t in ("ultralow", "null") and _only_hedged(read, t):
                # "possible ultralow", "HER2 0, likely ultralow": an IHC 0 whose sub-class is
                # only a question (read as ultralow, it opened T-DXd label A on a hedge): IHC 0
                # not classified, the re-test decides (CR A.1; B.11 HER2-ultralow)
                score = "0"
            elif t in ("ultralow", "null"):
                score, sub = "0", t
            elif t == "low" and _her2_low_words_unsure(read):
                several = "indeterminate"  # hedged, or beside a score outside HER2-low: unread
            elif t == "low":
                low_text = True  # "HER2-low" without a score: the category, not a score
            elif t and score is None and _only_hedged(_EQUIVOCAL_WORD.sub(" ", read), t):
                # "HER2 1+?", "possibly 1+": a score written as a question (as "possible HER2-low"):
                # not read, quoted (CR A.1 never infer HER2-low; read as 1+ it offered T-DXd).
                # "2+ (equivocal)" is the 2+ category's name (CR A.1), no hedge
                several = "indeterminate"
            elif t == "3+" and score is None and _three_plus_in_few_cells(read):
                several = "indeterminate"  # "3+ (heterogeneous, 10% of cells)": 2+ by definition (CR A.1)
            elif t and score is None:
                score = t
        if score is None and sub is None and several is None and text and _zero_text(text):
            score = "0"
        rec.ihc = score
        rec.sub = sub
        ish = (_ish_in_text(text) or _ish_counts_in_text(text)) if text else None
        note_ish_earlier = (ish is not None and bool(extra_text) and score is not None and not _ish_in_text(vtext or "")
                            and (_EARLIER_SPECIMEN.search(extra_text) or next(_history_words(extra_text), None)))
        if note_ish_earlier:
            # '1+' with a note 'FISH positive on primary': the primary's / an earlier ISH, not this
            # result's (it made an IHC 1+ HER2-positive, out of the pathway); named below if amplified
            ish = None
        if ish is None and kind == "interpretation" and _amplif_text(vtext):
            # the overall status written as the ISH result ("Not amplified", "Amplified"):
            # amplification is what ISH reports (CR A.1: HER2-negative = IHC 0/1+ or 2+/ISH-)
            ish = _one_reading(_ish_readings(vtext))
        if ish:
            rec.ish = ish
        elif text and _ish_clause_equivocal(text):
            rec.ish_equivocal = True  # "IHC 2+; FISH equivocal": an ISH that decides nothing
        elif text and not note_ish_earlier:
            # counts in the text that decide nothing ("ISH ratio 2.1, copy number 3.8", ASCO/CAP group
            # 2): kept so the gap names them (_note_undecided_ish), as for the two Observations; never
            # read into the category (_her2_category takes counts from ISH records only)
            rec.ratio, rec.copies = _ish_counts_of_text(text)
        a = _answer(vcc)
        q = _qual_from_text(vtext)
        if q in ("positive", "negative") and score is None and not several and not a and _qual_unsure(vtext):
            # "HER2 positive?", "possibly positive", "HER2-positive ruled out": no result, quoted
            # as "HER2 1+?" is (rt51; before, read HER2-positive: out of the pathway on a question)
            q = "indeterminate"
        if a == "indeterminate" and q == "equivocal":
            # HL7 IND (Indeterminate) displayed "Equivocal": the lab's words name the HER2 category
            # (CR A.1: equivocal = IHC 2+, ISH decides), read as the text "Equivocal" alone is;
            # before, HER2 unknown, "'equivocal' (a hedge ...)" and no ISH asked
            a = q
        rec.qual = several or a or q or (_interp(obs) if not score else None)
        if score is None and rec.ish is None and (unsaid := _unsaid_answer(obs.get("valueCodeableConcept")) or (
                None if rec.qual else _unsaid_interpretation(obs))):
            # an answer code with no system whose words say otherwise ('POS' "Not done", read
            # HER2-positive: out of the pathway): no result, named (gap receptor-answer-unclear)
            rec.qual, rec.unsaid, low_text = "indeterminate", unsaid, False
        if low_text and score is None and (rec.qual in (None, "negative") or (
                rec.qual == "positive" and not several and not a and _qual_from_text(vtext) == "positive"
                and not _positive_stated(vtext))):
            # "Negative (HER2-low)", "HER2-low, not HER2-positive": the more specific statement
            rec.qual = "low"
        elif low_text and score is None and rec.qual == "positive" and rec.ish != "amplified":
            # "HER2-low on primary, HER2-positive on metastasis": HER2-low or HER2-positive?
            # (CR C.2 step 0 discordant; an ISH amplified beside it is HER2-positive, A.1)
            rec.qual = "indeterminate"
        if rec.ihc is None and rec.qual is None and rec.ish is None and not rec.ish_equivocal:
            return None
        if (rec.qual == "indeterminate" or several == "negative") and rec.ihc is None and rec.ish is None \
                and rec.unsaid is None:  # an unclear code is named for what it is (_note_unsaid_answers)
            raw = obs.get("valueString") or (obs.get("valueCodeableConcept") or {}).get("text")
            rec.words = raw if isinstance(raw, str) and raw.strip() else (vtext or extra_text or None)  # as written
        if (rec.history is None and extra_text and rec.ihc in ("0", "1+", "2+") and rec.ish != "amplified"
                and ("3+" in _her2_text_scores(extra_text) or _positive_in_words(extra_text)
                     or (note_ish_earlier and _ish_in_text(extra_text) == "amplified"))
                and not T.HER2_NOTE_NOT_A_RESULT.search(extra_text) and not _three_plus_in_few_cells(extra_text)):
            # a note naming HER2-positive beside a value that is not ("1+", note "HER2 3+ on the 2016
            # primary"): the value decides, the note is named as the conflict it is (CR C.2 step 0
            # keep history; before, the note's HER2-positive was dropped unsaid). Not a note on the
            # stain's controls, a refuted 3+ (local_codes.yaml her2.note_not_a_result) or a 3+ in
            # <= 10 % of cells (2+ by definition, CR A.1): no HER2-positive result (rt51)
            rec.note_other = _note_as_written(obs, extra_text)
        return rec
    if kind in ("ish", "ish-ratio", "ish-copies"):
        rec = _Her2(kind="ish", date=date, src=src)
        if kind == "ish-ratio":
            rec.ratio = num
            return rec if num is not None and num >= 0 else None
        if kind == "ish-copies":
            rec.copies = num
            return rec if num is not None and num >= 0 else None
        a = _answer(vcc) or _interp(obs)
        if a in ("positive", "present"):
            rec.ish = "amplified"
        elif a in ("negative", "absent"):
            rec.ish = "not-amplified"
        elif a == "equivocal":
            rec.ish_equivocal = True
        elif vtext and _ISH_HEDGED(vtext):
            # "Possibly amplified": a question, not a result (read as amplified it made an IHC 2+
            # HER2-positive, out of the pathway); named as an ISH not read (_note_unread_ish)
            return None
        else:
            rec.ish = _ish_in_words(vtext, extra_text)
            two = _ish_current_of_two(vtext) if rec.ish is None and vtext else None
            if two:
                # "Not amplified (previously amplified)", "Amplified on primary; not amplified on
                # metastasis": the current ISH decides, the other is named (CR C.2 step 0: the most
                # recent / the metastatic biopsy decides, keep history); before, neither was read
                # and the gap said "IHC 2+ without ISH result"
                rec.ish, other = two
                rec.history = _as_written(obs, other)
            rec.ish_equivocal = rec.ish is None and _ish_equivocal_words(vtext or extra_text)
        return rec if rec.ish or rec.ish_equivocal else None
    return None


_zero_text = memo_search(re.compile(r"\bzero\b"))
_EQUIVOCAL_WORD = re.compile(r"\bequivocal\b")
# a note's ISH of another, earlier specimen ("FISH positive on primary"); not "breast", which may be
# this result's own core biopsy (local_codes.yaml her2.history two_results primary_specimen is wider)
_EARLIER_SPECIMEN = re.compile(r"\b(?:primary|original|initial)\b")
_amplif_text = memo_search(re.compile(r"amplif"))


def _ish_in_words(vtext: str, notes: str) -> str | None:
    """An ISH result written in words: the value text, else the notes; only when every
    reading agrees (local_codes.yaml her2.ish_patterns). None when the words say neither
    amplified nor not amplified, or both: never read as amplified by default."""
    found = _ish_readings(vtext) if vtext else frozenset()
    if not found and notes:
        found = _ish_readings(notes)
    return _one_reading(found)


@lru_cache(maxsize=4096)
def _ish_current_of_two(text: str) -> tuple[str, str] | None:
    """(the current ISH reading, the other result's words) of an ISH text naming two results, the
    current one marked as in IHC text (_her2_history, _her2_current_of_two; local_codes.yaml
    her2.history): the other after a history word ("not amplified (previously amplified)",
    "previously amplified, now not amplified"), or two clauses of which a later year, a current
    word or the metastatic specimen beside the primary marks one ("amplified on primary; not
    amplified on metastasis"). None when no mark, marks that disagree, or not two readings."""
    m = next(_history_words(text), None)
    if m is not None:
        c = T.HER2_HISTORY_CURRENT.search(text, m.end())
        end = c.start() if c else (e.end() if (e := T.HER2_HISTORY_CLAUSE_END.search(text, m.end())) else len(text))
        other, now = text[m.start():end], text[:m.start()] + text[end:]
    else:
        clauses = [text[a:b] for a, b in _break_spans(text) if _ish_readings(text[a:b])]
        votes = _marked_current(*clauses) if len(clauses) == 2 else frozenset()
        if len(votes) != 1:
            return None
        now, other = clauses[next(iter(votes))], clauses[1 - next(iter(votes))]
    now_reading, other_reading = _one_reading(_ish_readings(now)), _one_reading(_ish_readings(other))
    if now_reading is None or other_reading is None or now_reading == other_reading:
        return None
    other = other.strip(" ,;|")
    if other.startswith("(") and ")" not in other:
        other = other[1:].lstrip()
    if other.endswith(")") and other.count(")") > other.count("("):
        other = other[:-1].rstrip()  # the bracket the clause closes is not its own
    return now_reading, other


def _one_reading(found: frozenset[str] | set[str]) -> str | None:
    """amplified / not-amplified when that is the only reading; an "unread" match ("not
    positive") or two readings: None."""
    return next(iter(found)) if len(found) == 1 and "unread" not in found else None


@lru_cache(maxsize=4096)
def _ish_readings(text: str) -> frozenset[str]:
    """Every ISH reading in the text, each pattern tried on what the earlier matches left
    ("not amplified" is taken out before "amplified" is looked for)."""
    found = set()
    for rx, value in T.HER2_ISH_TEXT:
        text, n = rx.subn(" ", text)
        if n:
            found.add(value)
    return frozenset(found)


@lru_cache(maxsize=4096)  # read again on every call for an ISH record, as _ish_readings is
def _ish_equivocal_words(text: str) -> bool:
    """ISH words saying "equivocal" / "borderline" (local_codes.yaml her2.equivocal_patterns), not
    under a negation ("not equivocal", "non-equivocal": her2.negation before; which result it then
    is the words do not say, read as before: no ISH result)."""
    return bool(text) and any(not _negated_before(text.lower(), m.start()) for m in T.HER2_EQUIVOCAL_TEXT.finditer(text))


@lru_cache(maxsize=4096)
def _ish_clause_equivocal(text: str) -> bool:
    """An ISH clause in IHC / interpretation text that says equivocal ("IHC 2+; FISH equivocal")."""
    return any(_ish_equivocal_words(_ish_clause(text, m.end())) for m in T.HER2_ISH_IN_TEXT_WORD.finditer(text))


def _note_unread_ish(ctx: Ctx, obs: dict[str, Any], unit: dict[str, Any]) -> None:
    """An ISH result with words that could not be read is named (not silently dropped)."""
    vtext = _observation_values(unit)[1]
    if unsaid := _unsaid_answer(unit.get("valueCodeableConcept")):
        # 'POS' "Not done" with no system: read as amplified before (HER2-positive, out of the pathway)
        ctx.ignore(obs, "unreadable-resource", f"HER2 ISH result not read: {unsaid}")
    elif vtext:
        ctx.ignore(obs, "unreadable-resource",
                   f"HER2 ISH result not read (neither clearly amplified nor not amplified): '{vtext[:80]}'")


@lru_cache(maxsize=4096)
def _ish_in_text(text: str) -> str | None:
    """An ISH result written in IHC/interpretation text ("IHC 2+; FISH: no evidence of
    amplification"). Only the clause after each ISH word is read (the whole text would read
    "HER2 negative (IHC 1+)" as ISH not amplified), with the ISH words of _ish_readings, and
    only when every clause gives the same single reading; a clause saying the ISH has no
    result yet ("FISH pending, HER2 negative") is not read."""
    found: set[str] = set()
    for m in T.HER2_ISH_IN_TEXT_WORD.finditer(text):
        clause = _ish_clause(text, m.end())
        if not T.HER2_ISH_IN_TEXT_NO_RESULT.search(clause):
            found |= _ish_readings(clause)
    return _one_reading(found)


@lru_cache(maxsize=4096)
def _ish_counts_in_text(text: str) -> str | None:
    """An ISH written as its counts in IHC / interpretation text that names an ISH ("HER2 2+ (FISH
    ratio 1.5, copy number 3.2)"): read as the ratio and copies Observations are (_ish_result,
    ASCO/CAP group 1 amplified, 5 not amplified); None when either is missing, given twice, or
    the counts fall in an undecided group (local_codes.yaml her2.in_text_counts)."""
    ratio, copies = _ish_counts_of_text(text)
    if ratio is None or copies is None:
        return None
    return _ish_result([_Her2(kind="ish", date=None, src=_NO_SOURCE, ratio=ratio, copies=copies)])


@lru_cache(maxsize=4096)
def _ish_counts_of_text(text: str) -> tuple[float | None, float | None]:
    """(HER2/CEP17 ratio, HER2 copies per nucleus) an IHC / interpretation text naming an ISH gives,
    each None when missing or given twice (local_codes.yaml her2.in_text_counts)."""
    if not T.HER2_ISH_IN_TEXT_WORD.search(text):
        return None, None
    ratios = {float(m.group(1)) for m in T.HER2_ISH_TEXT_RATIO.finditer(text)}
    copies = {float(m.group(1) or m.group(2)) for m in T.HER2_ISH_TEXT_COPIES.finditer(text)
              if not T.HER2_ISH_TEXT_NOT_HER2_BEFORE.search(text[max(0, m.start() - 25):m.start()])}
    return (ratios.pop() if len(ratios) == 1 else None), (copies.pop() if len(copies) == 1 else None)


def _ish_clause(text: str, start: int) -> str:
    clause = text[start:start + T.HER2_ISH_IN_TEXT_CHARS]
    end = _ISH_CLAUSE_END.search(clause)
    return clause[:end.start()] if end else clause


def _ish_result(ish: list[_Her2]) -> str | None:
    """Reported ISH interpretation, else the ratio and copies when both say the same.

    Ratio >= 2.0 with >= 4 copies: amplified (ASCO/CAP group 1); ratio < 2.0 with < 4 copies:
    not amplified (group 5). The groups in between (2: ratio >= 2.0 with < 4 copies; 3: ratio
    < 2.0 with >= 6 copies; 4: ratio < 2.0 with 4-6 copies) and a ratio without copies are
    undecided: their reading depends on the IHC and a recount, which the reference (CR A.1)
    does not give; the laboratory's interpretation decides (gap her2-ish-unclear).
    """
    qual = [r.ish for r in ish if r.ish]
    if qual:
        return qual[-1]
    group = _ish_group(ish)
    return {1: "amplified", 5: "not-amplified"}.get(group[0]) if group else None


def _ish_group(ish: list[_Her2]) -> tuple[int | None, float, float | None] | None:
    """(ASCO/CAP 2018 dual-probe group or None without copies, ratio, copies) of the latest
    ratio and copies per nucleus; None without a ratio."""
    ratio = next((r.ratio for r in reversed(ish) if r.ratio is not None), None)
    copies = next((r.copies for r in reversed(ish) if r.copies is not None), None)
    if ratio is None:
        return None
    if copies is None:
        return None, ratio, None
    if ratio >= 2.0:
        return (1 if copies >= 4.0 else 2), ratio, copies
    return (3 if copies >= 6.0 else 4 if copies >= 4.0 else 5), ratio, copies


def _note_undecided_ish(ctx: Ctx, recs: list[_Her2], her2: HER2Status) -> None:
    """An ISH given as ratio and copies that _ish_result leaves undecided, in the assessment
    used, with no interpretation, where the ISH decides (IHC 2+ or no score): named, so "IHC 2+
    without ISH" is not all the user reads."""
    if her2.ish is not None or her2.category not in ("equivocal-pending", "unknown", "negative-unspecified"):
        return  # read, or an IHC score decides without the ISH (0, 1+, 3+)
    group = [r for r in recs if r.date == her2.date or (
        her2.date and r.date and 0 <= (her2.date - r.date).days <= SAME_ASSESSMENT_DAYS)]
    ish = [r for r in group if r.kind == "ish"]
    found = _ish_group(ish)
    if found is None:  # counts written in the IHC / interpretation text ("IHC 2+ ISH ratio 2.1, copy number 3.8")
        ish = [r for r in group if r.kind != "ish" and r.ratio is not None]
        found = _ish_group(ish)
    if found is None:
        return
    g, ratio, copies = found
    what = (f"HER2/CEP17 ratio {ratio:g} with {copies:g} HER2 copies per nucleus (ASCO/CAP 2018 group {g})"
            if g else f"HER2/CEP17 ratio {ratio:g} without the HER2 copy number")
    ctx.gap("her2-ish-unclear",
            f"HER2 ISH: {what} and no laboratory interpretation; the service's reference (A.1) does not say how to "
            "read it; ask the laboratory whether HER2 is amplified. HER2 status unclear until then.",
            [r.src for r in ish])


def _note_equivocal_ish(ctx: Ctx, recs: list[_Her2], her2: HER2Status) -> None:
    """An ISH written "equivocal" in the assessment used, where the ISH decides (IHC 2+ or no
    score) and no other ISH result was read: named. "Equivocal" is the ASCO/CAP 2013 ISH
    category; the 2018 update (the definitions CR A.1 uses) replaced it with dual-probe groups 2-4,
    read with the IHC after a recount, which the reference does not give (see _ish_result). Never
    read as amplified or not amplified (DESIGN.md: never guess)."""
    if her2.ish is not None or her2.category not in ("equivocal-pending", "unknown", "negative-unspecified"):
        return
    group = [r for r in recs if r.date == her2.date or (
        her2.date and r.date and 0 <= (her2.date - r.date).days <= SAME_ASSESSMENT_DAYS)]
    equivocal = [r for r in group if r.ish_equivocal]
    if not equivocal:
        return
    days = _result_days(equivocal) or "undated"
    ctx.gap("her2-ish-equivocal",
            f"HER2 ISH reported 'equivocal' ({days}): the ASCO/CAP 2013 category; the 2018 definitions (CR A.1) "
            "have none and read such a case by its ratio, HER2 copies per nucleus and the IHC. HER2 status by ISH "
            "unclear: ask the laboratory for the ASCO/CAP 2018 interpretation, or re-test.",
            [r.src for r in equivocal])


def _her2_category(group: list[_Her2]) -> tuple[str, str | None, str | None]:
    """(category, ihc score, ish) for one assessment (results sorted oldest first)."""
    ihc = [r for r in group if r.kind == "ihc"]
    ish = [r for r in group if r.kind == "ish"] + [
        _Her2(kind="ish", date=r.date, src=r.src, ish=r.ish) for r in group if r.kind != "ish" and r.ish]
    interp = [r for r in group if r.kind == "interp"]
    score = next((r.ihc for r in reversed(ihc) if r.ihc), None)
    if score is None:
        score = next((r.ihc for r in reversed(interp) if r.ihc), None)
    sub = next((r.sub for r in reversed(ihc + interp) if r.sub), None)
    ish_v = _ish_result(ish)
    if ish_v == "amplified" or score == "3+":
        return "positive", score, ish_v
    if score == "2+":
        return ("low" if ish_v == "not-amplified" else "equivocal-pending"), score, ish_v
    if score == "1+":
        return "low", score, ish_v
    if score == "0":
        return ({"ultralow": "ultralow", "null": "null"}.get(sub or "", "zero-unspecified")), score, ish_v
    quals = [r.qual for r in ihc + interp if r.qual]
    q = quals[-1] if quals else None
    if q == "low":
        return "low", None, ish_v  # "HER2-low" in words (CR A.1: IHC 1+ or 2+/ISH-)
    if q == "positive":
        # IHC "positive" with no score: HER2-positive wording. On an IHC code with an
        # ISH result not amplified, the word cannot be trusted: unknown.
        if ish_v == "not-amplified":
            return "unknown", None, ish_v
        return "positive", None, ish_v
    if q == "equivocal":
        return ("negative-unspecified" if ish_v == "not-amplified" else "equivocal-pending"), None, ish_v
    if q == "negative" or ish_v == "not-amplified":
        return "negative-unspecified", None, ish_v
    return "unknown", None, ish_v


_COMPATIBLE_NEG = {"low", "ultralow", "null", "zero-unspecified", "negative-unspecified", "equivocal-pending"}


def _combine_her2(recs: list[_Her2]) -> HER2Status:
    out = HER2Status()
    if not recs:
        return out
    out.sources = [r.src for r in recs]
    dated = sorted((r for r in recs if r.date), key=lambda r: r.date)  # type: ignore[arg-type, return-value]
    if dated:
        latest = dated[-1].date
        group = [r for r in dated if (latest - r.date).days <= SAME_ASSESSMENT_DAYS]  # type: ignore[operator]
        older = [r for r in recs if r not in group]
    else:
        latest = None
        group = list(recs)
        older = []
    cat, score, ish = _her2_category(group)
    ish_discordant = score != "3+" and len(_ish_results(group)) > 1
    if ish_discordant:
        ish = None  # neither result is the assessment's ISH (gap her2-ish-discordant names both)
    # IHC 3+ beside an ISH not amplified in one assessment: positive by the IHC (ASCO/CAP 2018,
    # CR A.1), not by the ISH; the results disagree (_note_ihc_3_plus_beside_ish_not_amplified)
    # (not beside another ISH amplified: IHC 3+ with ISH amplified is positive either way, as before)
    ihc_ish_discordant = score == "3+" and ish == "not-amplified" and "amplified" not in _ish_results(group)
    discordant = _overall_disagrees(group, cat) or ish_discordant or ihc_ish_discordant
    if discordant:
        cat = "unknown"  # CR C.2 step 0: HER2 discordant -> testing card only
    if cat == "unknown" and older and not discordant:
        # latest result unreadable: use the latest readable assessment
        o_dated = sorted((r for r in older if r.date), key=lambda r: r.date)  # type: ignore[arg-type, return-value]
        if o_dated:
            l2 = o_dated[-1].date
            g2 = [r for r in o_dated if (l2 - r.date).days <= SAME_ASSESSMENT_DAYS]  # type: ignore[operator]
            c2, s2, i2 = _her2_category(g2)
            if c2 != "unknown":
                cat, score, ish, latest, group = c2, s2, i2, l2, g2
    out.category = cat  # type: ignore[assignment]
    out.ihc_score = score  # type: ignore[assignment]
    out.ish = ish  # type: ignore[assignment]
    out.date = latest
    out.date_last = written_last(latest, [r.src for r in group if r.date == latest])
    # conflicts: other assessments disagreeing on positive vs negative, or on the
    # IHC score within the current assessment
    cats = {cat}
    rest = [r for r in recs if r not in group]
    if rest:
        by_date: dict[Any, list[_Her2]] = {}
        for r in rest:
            by_date.setdefault(r.date, []).append(r)
        for g in by_date.values():
            cats.add(_her2_category(g)[0])
    cats.discard("unknown")
    pos = "positive" in cats
    if pos and cats & _COMPATIBLE_NEG:
        out.conflict = True
        # CR C.2 step 0 keeps the history: the other assessments on the other side of positive
        # vs negative are named (newest first); the most recent still decides
        mine = cat == "positive"
        for day, other in _assessments(rest):
            if other[0] != "unknown" and (other[0] == "positive") != mine:
                out.conflict_with.append(_assessment_text(day, *other))
    if cat == "negative-unspecified":
        out.scores_text = next((r.words for r in group if r.words and r.qual == "negative"), None)
    for r in group:
        if cat != "unknown" and (earlier := _text_history_conflict(r, cat) or _note_conflict(r, cat)):
            out.conflict = True
            out.conflict_with.append(earlier)
    scores = {r.ihc for r in group if r.kind == "ihc" and r.ihc}
    if len(scores) > 1 or discordant:
        out.conflict = True
    return out


_HER2_NEGATIVE = frozenset({"low", "ultralow", "null", "zero-unspecified"})

# a category as a report writes it (HER2Status.category codes that are not words)
_CATEGORY_WORDS = {"zero-unspecified": "HER2 IHC 0", "negative-unspecified": "HER2-negative without an IHC score",
                   "equivocal-pending": "HER2 equivocal"}


def _assessments(recs: list[_Her2]) -> list[tuple[dt.date | None, tuple[str, str | None, str | None]]]:
    """(latest date, category) of each assessment among `recs`, newest first: a result and the
    results within SAME_ASSESSMENT_DAYS before it, as the latest assessment is grouped (an IHC
    and its reflex ISH a few days later are one assessment); undated results together, last."""
    dated = sorted((r for r in recs if r.date), key=lambda r: r.date, reverse=True)  # type: ignore[arg-type, return-value]
    out: list[tuple[dt.date | None, tuple[str, str | None, str | None]]] = []
    while dated:
        day = dated[0].date
        group = [r for r in dated if (day - r.date).days <= SAME_ASSESSMENT_DAYS]  # type: ignore[operator]
        dated = [r for r in dated if r not in group]
        out.append((day, _her2_category(sorted(group, key=lambda r: r.date))))  # type: ignore[arg-type, return-value]
    undated = [r for r in recs if not r.date]
    if undated:
        out.append((None, _her2_category(undated)))
    return out


def _assessment_text(day: dt.date | None, cat: str, score: str | None, ish: str | None) -> str:
    """'HER2-positive, IHC 2+, ISH amplified (2016-03-12)'."""
    return f"{_assessment_words(cat, score, ish)} ({day.isoformat() if day else 'undated'})"


def _assessment_words(cat: str, score: str | None, ish: str | None) -> str:
    """'HER2-positive, IHC 2+, ISH amplified'."""
    bits = [_CATEGORY_WORDS.get(cat, f"HER2-{cat}")]
    if score and cat != "zero-unspecified":
        bits.append(f"IHC {score}")
    if ish:
        bits.append("ISH " + ish.replace("-", " "))
    return ", ".join(bits)


def _note_as_written(obs: dict[str, Any], words: str) -> str:
    """The Observation.note text(s) `words` (lower-cased, own HER2 words) were read from, as written."""
    notes = [n.get("text") for n in obs.get("note") or [] if isinstance(n, dict) and isinstance(n.get("text"), str)]
    found = [n.strip() for n in notes if n.strip() and n.lower().strip() in words]
    return "; ".join(found) if found else words.strip()


def _note_conflict(rec: _Her2, cat: str) -> str | None:
    """The HER2-positive result a note of `rec` names beside a category that is not positive:
    'HER2-positive, IHC 3+ (note of the 2024-01-15 result: 'HER2 3+ on the 2016 primary')'."""
    if not rec.note_other or rec.date is None or cat in ("positive", "unknown"):
        return None
    hist = _history_assessment(rec.note_other.lower())
    what = _assessment_words(*hist) if hist and hist[0] == "positive" else "HER2-positive"
    return f"{what} (note of the {rec.date.isoformat()} result: '{rec.note_other[:80]}')"


def _text_history_conflict(rec: _Her2, cat: str) -> str | None:
    """The earlier result `rec`'s own text names (_her2_history) when it is on the other side of
    HER2-positive from the category read ("HER2 1+, previously 3+"; "HER2 0 (liver 2023); 2+
    (primary 2015), FISH amplified"): named as two records are, 'HER2-positive, IHC 3+
    ('previously 3+', named in the 2024-01-15 result)'. CR C.2 step 0: the most recent decides,
    the history is kept (HER2 can change). None otherwise (the history gap names it)."""
    if not rec.history or rec.date is None:
        return None
    hist = _history_assessment(rec.history.lower()) if rec.kind != "ish" else None
    if hist is None and (other := _one_reading(_ish_readings(rec.history.lower()))):
        # an ISH Observation naming another ISH result (_ish_current_of_two), or an IHC text naming
        # an earlier ISH ('previously amplified'): a conflict when one of the two is amplified
        # (HER2-positive) and the category read is on the other side
        if (other == "amplified") == (cat == "positive") or cat not in _COMPATIBLE_NEG | {"positive"}:
            return None
        return f"ISH {other.replace('-', ' ')} ('{rec.history}', named in the {rec.date.isoformat()} result)"
    if (hist is None or (hist[0] == "positive") == (cat == "positive")
            or not {hist[0], cat} - {"positive"} <= _COMPATIBLE_NEG):
        return None
    return f"{_assessment_words(*hist)} ('{rec.history}', named in the {rec.date.isoformat()} result)"


def _ish_results(group: list[_Her2]) -> dict[str, list[_Her2]]:
    """The ISH interpretations of one assessment (ISH Observations and ISH words in IHC text), by
    result. Amplified on one and not amplified on another (two specimens, or a repeat) is not
    settled by taking the later one: amplified is HER2-positive, not amplified with IHC 2+ is
    HER2-low (CR A.1, C.2 step 0), and CR does not say which specimen decides: HER2 discordant,
    testing card only (C.2 step 0). IHC 3+ is HER2-positive either way."""
    found: dict[str, list[_Her2]] = {}
    for r in group:
        if r.ish:
            found.setdefault(r.ish, []).append(r)
    return found


def _note_discordant_ish(ctx: Ctx, recs: list[_Her2], her2: HER2Status) -> None:
    """Names the two ISH results that left HER2 unknown (see _ish_results)."""
    if her2.category != "unknown" or not her2.conflict or her2.date is None:
        return
    group = _in_assessment(recs, her2)
    found = _ish_results(group)
    if len(found) < 2:
        return
    said = "; ".join(f"{v.replace('-', ' ')} ({_result_days(rs)})"
                     for v, rs in sorted(found.items()))
    ctx.gap("her2-ish-discordant",
            f"HER2 ISH results within one assessment disagree: {said}. Amplified is HER2-positive, not "
            "amplified (with IHC 2+) HER2-low; the reference does not say which specimen decides (CR C.2 step 0: "
            "discordant, testing only): ask pathology which specimen each result is from.",
            [r.src for rs in found.values() for r in rs])


def _note_ihc_3_plus_beside_ish_not_amplified(ctx: Ctx, recs: list[_Her2], her2: HER2Status) -> None:
    """IHC 3+ and an ISH not amplified in the assessment used: the IHC says HER2-positive (CR A.1
    ASCO/CAP 2018: IHC 3+ is positive), the ISH does not, and HER2-negative is IHC 0, 1+ or 2+ with
    ISH not amplified (C.2 step 0), which IHC 3+ is not. The results disagree: HER2 discordant ->
    testing card only (C.2 step 0; _combine_her2 reads it unknown), as an ISH amplified beside one
    not amplified is. Named, so the user can ask pathology to review them."""
    if her2.category not in ("positive", "unknown") or her2.ihc_score != "3+" or her2.date is None:
        return
    group = _in_assessment(recs, her2)
    ihc = [r for r in group if r.ihc == "3+"]
    not_amplified = _ish_results(group).get("not-amplified", [])
    if not not_amplified and her2.ish == "not-amplified":
        # no interpretation: the ratio and copies of ASCO/CAP group 5 (_ish_result)
        not_amplified = [r for r in group if r.kind == "ish" and (r.ratio is not None or r.copies is not None)]
    if not ihc or not not_amplified:
        return
    ctx.gap("her2-ihc-ish-discordant",
            f"HER2 IHC 3+ ({_result_days(ihc)}) with ISH not amplified ({_result_days(not_amplified)}) in the same assessment: "
            "the results disagree. IHC 3+ is HER2-positive (ASCO/CAP 2018, CR A.1), an ISH not amplified is not; "
            + ("HER2 discordant is read as unknown, testing only (CR C.2 step 0)" if her2.category == "unknown" else
               "with an ISH amplified too, HER2 is read as positive")
            + ": ask pathology to review both results.",
            [r.src for r in ihc + not_amplified])


def _overall_disagrees(group: list[_Her2], cat: str) -> bool:
    """The lab's overall HER2 interpretation (48676-1 "Positive"/"Negative" with no score or ISH
    of its own) and the IHC score / ISH of the same assessment say opposite things: an overall
    "Positive" beside IHC 1+ is not HER2-low (the positive may rest on an ISH not sent), an
    overall "Negative" beside IHC 3+ is not simply positive. CR C.2 step 0: HER2 discordant ->
    testing card only."""
    overall = {r.qual for r in group if r.kind == "interp" and r.ihc is None and r.ish is None}
    return ("positive" in overall and cat in _HER2_NEGATIVE) or ("negative" in overall and cat == "positive")


def _specimen_words(obs: dict[str, Any]) -> str | None:
    """The specimen of a HER2 result in the record's words: Observation.bodySite (FHIR R4
    CodeableConcept: text, else the first coding's display), else Observation.specimen's
    display (Reference.display). None when neither is given."""
    site = obs.get("bodySite")
    if isinstance(site, dict):
        if isinstance(site.get("text"), str) and site["text"].strip():
            return site["text"].strip()
        for c in as_list(site.get("coding")):
            if isinstance(c, dict) and isinstance(c.get("display"), str) and c["display"].strip():
                return c["display"].strip()
    spec = obs.get("specimen")
    if isinstance(spec, dict) and isinstance(spec.get("display"), str) and spec["display"].strip():
        return spec["display"].strip()
    return None


# Latest categories for which an earlier HER2-low result matters (trastuzumab deruxtecan
# needs HER2-low/ultralow): the earlier result is named, the latest still decides.
_NOT_LOW_NOW = frozenset({"null", "zero-unspecified", "negative-unspecified"})


def _note_earlier_her2_low(ctx: Ctx, recs: list[_Her2], her2: HER2Status) -> None:
    """CR C.2 step 0: prefer the most recent biopsy but keep history (HER2-low status may
    differ between primary and metastasis). An older HER2-low assessment is a note."""
    if her2.category not in _NOT_LOW_NOW or her2.date is None:
        return
    by_date: dict[dt.date, list[_Her2]] = {}
    for r in recs:
        if r.date and (her2.date - r.date).days > SAME_ASSESSMENT_DAYS:
            by_date.setdefault(r.date, []).append(r)
    for day in sorted(by_date, reverse=True):
        cat, score, ish = _her2_category(by_date[day])
        if cat == "low":
            what = f"IHC {score}" if score else "reported as HER2-low"
            sites = sorted({r.site for r in by_date[day] if r.site})
            her2.earlier_low = (f"{what}{', ISH not amplified' if ish == 'not-amplified' else ''} "
                                f"({', '.join([day.isoformat(), *sites])})")
            her2.earlier_low_sources = [r.src for r in by_date[day]]
            ctx.gap("her2-low-earlier",
                    f"An earlier HER2 assessment ({day.isoformat()}, {what}) was HER2-low; the most recent "
                    f"({her2.date.isoformat()}) is used. HER2 can differ between primary tumour and metastasis.",
                    [r.src for r in by_date[day]])
            return
    for r in _in_assessment(recs, her2):
        if r.history and _history_category(r.history.lower()) == "low":
            her2.earlier_low = f"'{r.history}' (named in the {her2.date.isoformat()} result)"
            her2.earlier_low_sources = [r.src]
            ctx.gap("her2-low-earlier",
                    f"The HER2 result of {her2.date.isoformat()} also names an earlier HER2-low result "
                    f"('{r.history}'); the current result is used. HER2 can differ between primary tumour and "
                    "metastasis.", [r.src])
            return


def _result_days(rs: list[_Her2]) -> str:
    """The days of results, each once, in order ("2024-03-01, 2024-03-05"); "" when none is dated."""
    return ", ".join(sorted({r.date.isoformat() for r in rs if r.date}))


def _in_assessment(recs: list[_Her2], her2: HER2Status) -> list[_Her2]:
    """The results of the assessment HER2 is read from (its date and the 45 days before it)."""
    if her2.date is None:
        return []
    return [r for r in recs if r.date and 0 <= (her2.date - r.date).days <= SAME_ASSESSMENT_DAYS]


def _note_her2_history_in_text(ctx: Ctx, recs: list[_Her2], her2: HER2Status) -> None:
    """An earlier result named in the text of the assessment used (_her2_history), not already
    named as an earlier HER2-low (_note_earlier_her2_low): said, so the history is kept (CR C.2
    step 0) and the user sees which result was read as current."""
    if her2.date is None:
        return
    # not one on the other side of HER2-positive: her2-conflict names it (_text_history_conflict)
    said = [r for r in _in_assessment(recs, her2) if r.history and her2.earlier_low_sources != [r.src]
            and _text_history_conflict(r, her2.category) is None]
    if said:
        ctx.gap("her2-history-in-text",
                "; ".join(f"The HER2 result of {r.date.isoformat()} also names an earlier result ('{r.history}')"  # type: ignore[union-attr]
                          for r in said)
                + ": kept as history, the current result is read (the most recent decides, C.2 step 0).",
                [r.src for r in said])


# --- entry point --------------------------------------------------------------------------


def _marker_of(coding_list: Any) -> tuple[str, str, str] | None:
    """(marker, kind, LOINC code) of a tumour-marker code, memoised per concept."""
    con = concept(coding_list)
    memo = con.memo
    if "marker" in memo:
        return memo["marker"]
    found = None
    for system, code, _ in con.codings:
        if code and is_loinc(system) and code in T.TUMOR_MARKERS:
            marker, kind = T.TUMOR_MARKERS[code]
            found = marker, kind, code
            break
    memo["marker"] = found
    return found


def _z17_not_read_gap(ctx: Ctx, acc: _Acc, entries: list[tuple[tuple[str, ...], str, Source]], code: str,
                      why: str) -> None:
    """A receptor-status diagnosis (Z17.x) not read, named where it would have been a marker's
    only evidence (no Observation of that marker was read)."""
    unread = [(what, src) for markers, what, src in entries if any(not getattr(acc, m) for m in markers)]
    if unread:
        ctx.gap(code, f"Receptor status recorded only as {why}: " + "; ".join(w for w, _ in unread)
                + ". The ER/PR/HER2 pathology report decides: add its result if it is not recorded.",
                [src for _, src in unread])


def build_markers(ctx: Ctx) -> tuple[ReceptorStatus, ReceptorStatus, HER2Status]:
    acc = _Acc()
    marker_obs = ctx.observations_with(_MARKER_CODES)
    marker_ids = {id(o) for o in marker_obs}
    genomic_ids = {id(o) for o in ctx.observations_with(_GENOMIC_CODES)}
    panels = [o for o in ctx.obs_groups()[2]  # with a component
              if id(o) not in marker_ids and id(o) not in genomic_ids]
    for obs in marker_obs + panels:
        try:
            date = obs_date(obs)
            last = partial_last(date, obs_date(obs, date_last)) if date is not None and date.day == 1 else None
            spec = None
            units = [obs]
            comps = [c for c in as_list(obs.get("component")) if isinstance(c, dict)]
            units.extend(comps)
            top = _marker_of(obs.get("code"))
            extra = notes_text(obs)
            # a result not final (registered / preliminary / unknown, FHIR R4 ObservationStatus;
            # any case: fhir.not_final_status, as every result reader) decides nothing: a
            # preliminary "HER2 IHC 1+" must not open trastuzumab deruxtecan, a preliminary "ER
            # negative" not take an HR+ patient out of the pathway (CR C.2 step 0 reads the
            # pathology report). Kept in not_final with what it says; the final report decides
            pending = not_final_status(obs)
            for unit in units:
                m = top if unit is obs else _marker_of(unit.get("code"))
                if m is None:
                    continue
                if unit is not obs and top is not None and m == top:
                    continue
                marker, kind, code = m
                label = _label(marker, kind, code)
                if ctx.ignore_data_absent(obs, unit, label, date):
                    continue
                src = ctx.source(obs, date, label, spec, last)
                if marker in ("er", "pr", "er-pr"):
                    if kind == "intensity":
                        continue
                    targets = ("er", "pr") if marker == "er-pr" else (marker,)
                    for t in targets:
                        st, pct, low, allred_note = _read_receptor(unit, kind, extra, t)
                        unsaid = _unsaid_answer(unit.get("valueCodeableConcept"))
                        if unsaid is None and st is None and pct is None:
                            unsaid = _unsaid_interpretation(unit)
                        if unsaid and not pending:
                            # a coded answer whose meaning is not defined: no result, whatever its
                            # words read ('POS' "Negative"), named (gap receptor-answer-unclear)
                            acc.unsaid[t].append((unsaid, date, src))
                            getattr(acc, t).append(_Rec(None, None, False, date, src))
                            continue
                        if pending:
                            acc.not_final[t].append(_not_final_marker(t, _receptor_words(st, pct), pending, date, src))
                            continue
                        if st is None and pct is None:
                            if allred_note is not None:
                                getattr(acc, t).append(_Rec(None, None, False, date, src, allred_note))
                            elif h := _h_score(words := _observation_values(unit)[1]):
                                # the H-score of the words naming this marker ("H-score 150 (ER), 20
                                # (PR)": not 150 for PR); else the words quoted
                                h = _h_score(_own_marker_text(words, t)) or f"H-score in '{words[:80]}'"
                                acc.h_scores[t].append((f"{h}{f' ({date.isoformat()})' if date else ''}", src))
                            elif (bare := _bare_number(unit)) is not None:
                                acc.bare_numbers[t].append((f"{bare}{f', {date.isoformat()}' if date else ''}", src))
                            continue
                        getattr(acc, t).append(_Rec(st, pct, low, date, src, allred_note))
                elif marker == "her2":
                    if kind in ("serum", "legacy"):
                        continue
                    rec = _read_her2(unit, kind, date, src, extra)
                    if pending:
                        acc.not_final["her2"].append(
                            _not_final_marker("her2", _her2_words(rec), pending, date, src))
                    elif rec is not None:
                        rec.site = _specimen_words(obs)
                        acc.her2.append(rec)
                    elif kind == "ish":
                        _note_unread_ish(ctx, obs, unit)
        except Exception:  # noqa: BLE001
            ctx.ignore(obs, "unreadable-resource", "Tumour-marker Observation could not be read")

    # ICD-10-CM receptor-status Conditions (Z17.x): weakest evidence, used only
    # when no Observation reports that marker.
    z_er: list[_Rec] = []
    z_pr: list[_Rec] = []
    z_her2: list[_Her2] = []
    # Z17.x recorded as provisional / differential / unconfirmed (FHIR R4 condition-ver-status:
    # not a diagnosis made) is not read, as the other Condition readers do (diabetes, long QT,
    # ILD, metastases); named in the gap receptor-status-unconfirmed when it would have been
    # the marker's only evidence. Refuted / entered-in-error never reach here (build._status_skip).
    z_unconfirmed: list[tuple[tuple[str, ...], str, Source]] = []
    z_inactive: list[tuple[tuple[str, ...], str, Source]] = []  # clinicalStatus inactive/resolved/remission
    # every Z17.x read: (er | pr | hr | her2, the status it states, its code as written, date, source),
    # for the gap receptor-status-discordant (_note_discordant_z17)
    z_read: list[tuple[str, str, str, dt.date | None, Source]] = []
    for cond in ctx.of("Condition"):
        try:
            for system, code, display in ctx.code_of(cond):
                if not code or not is_icd10(system):
                    continue
                z = T.RECEPTOR_CONDITIONS.get(T.norm_icd(code))
                if not z:
                    continue
                why = unconfirmed_status(cond)
                # a receptor status the record says no longer applies (FHIR R4 condition-clinical
                # inactive / resolved / remission: "no longer evidence of the condition") is not
                # read as today's status; neither guessed current nor dropped unseen (gap below)
                inactive = (next((c for _, c, _ in codings_m(cond.get("clinicalStatus")) if c), None)
                            if clinical_status_inactive(cond) else None)
                date = condition_onset(cond)
                src = ctx.source(cond, date, f"Receptor status {code} (ICD-10-CM{f', {why}' if why else ''}"
                                 f"{f', clinicalStatus {inactive}' if inactive else ''})",
                                 date_last=partial_last(date, condition_onset(cond, date_last)))
                if why or inactive:
                    markers = tuple(m for m in ("er", "pr", "her2") if z.get(m) or (m != "her2" and z.get("hr")))
                    written = f" '{display.strip()}'" if isinstance(display, str) and display.strip() else ""
                    when = f", {date.isoformat()}" if date else ""
                    (z_unconfirmed if why else z_inactive).append(
                        (markers, f"{code}{written} ({why or f'clinicalStatus {inactive}'}{when})", src))
                    continue
                written = f"{code} '{display.strip()}'" if isinstance(display, str) and display.strip() else code
                z_read += [(m, z[m], written, date, src) for m in ("er", "pr", "hr", "her2") if z.get(m)]
                er = z.get("er") or z.get("hr")
                pr = z.get("pr")
                if er and "hr" not in z:
                    z_er.append(_Rec(er, None, False, date, src))
                elif "hr" in z and z["hr"] == "negative":
                    z_er.append(_Rec("negative", None, False, date, src))
                    z_pr.append(_Rec("negative", None, False, date, src))
                elif "hr" in z:
                    # HR+ means ER and/or PR positive: record on ER only when nothing better
                    z_er.append(_Rec("positive", None, False, date, src))
                if pr:
                    z_pr.append(_Rec(pr, None, False, date, src))
                if z.get("her2"):
                    z_her2.append(_Her2(kind="interp", date=date, src=src, qual=z["her2"]))
        except Exception:  # noqa: BLE001
            continue
    _z17_not_read_gap(ctx, acc, z_unconfirmed, "receptor-status-unconfirmed",
                      "a diagnosis that is not confirmed (FHIR R4 condition-ver-status), so not read")
    _z17_not_read_gap(ctx, acc, z_inactive, "receptor-status-inactive",
                      "a diagnosis the record marks as no longer active (FHIR R4 condition-clinical), so not "
                      "read as the current status")
    er = _combine_receptor(acc.er or z_er)
    pr = _combine_receptor(acc.pr or z_pr)
    _note_allred_or_h_score(ctx, acc, er, pr)
    her2 = _combine_her2(acc.her2 or z_her2)
    er.not_final, pr.not_final, her2.not_final = acc.not_final["er"], acc.not_final["pr"], acc.not_final["her2"]
    _note_earlier_her2_low(ctx, acc.her2 or z_her2, her2)
    _note_her2_history_in_text(ctx, acc.her2, her2)
    _note_discordant_z17(ctx, acc, z_read, er, pr, her2)
    _note_undecided_ish(ctx, acc.her2, her2)
    _note_discordant_ish(ctx, acc.her2, her2)
    _note_ihc_3_plus_beside_ish_not_amplified(ctx, acc.her2, her2)
    _note_equivocal_ish(ctx, acc.her2, her2)
    _note_unclear_her2_text(ctx, acc.her2, her2)
    _note_unsaid_answers(ctx, acc, er, pr, her2)
    _note_uncoded_tests(ctx, er, pr, her2)
    return er, pr, her2


# An ER / PR / HER2 test whose Observation.code has no code, only text (FHIR R4
# CodeableConcept.text: "HER2 IHC", "HER2/neu by immunohistochemistry", "Estrogen receptor"), or
# only a local code (no LOINC / SNOMED CT code: _local_codes_only) beside such words. The
# readers above read a result by its LOINC code (CR A.1), which says which test it is (IHC score,
# ISH, overall interpretation); the text does not say it reliably, so the result is not read, and
# named: never "No HER2 result recorded" beside it (gaps her2-test-uncoded, receptor-test-uncoded).
# The marker's own name in the text: HER2 (HER-2, HER2/neu, ERBB2, c-erbB-2; CR A.1 LOINC names
# "HER2 [Presence] in Tissue by Immune stain", "ERBB2 gene ... by FISH"); ER / PR by the receptor's
# name, or 'ER' / 'PR' / 'PgR' beside a test word ("ER IHC", "PR status", "ER %"): 'PR' alone is
# also the ECG's PR interval, 'ER' alone the emergency room.
_UNCODED_HER2 = re.compile(r"(?<![a-z0-9])(?:her-?2(?:/neu)?|c-?erb-?b-?2|erbb-?2)(?![a-z0-9])")
# not a tissue HER2 test: serum / plasma HER2 (the coded reader skips that kind too) or a variant test
# of the gene (the genomics reader's: mutation / variant / sequencing / NGS)
_UNCODED_NOT_TISSUE = re.compile(r"\b(?:serum|plasma|shed|ecd|extracellular|circulating|mutation|mutated|variant|"
                                 r"sequenc\w*|ngs|genotyp\w*|"
                                 # a blood / liquid-biopsy test ("ERBB2 amplification (ctDNA)"): no tissue
                                 # result either (rt73)
                                 r"ctdna|cfdna|cell[- ]free|liquid|blood)\b")
# words only a receptor stain is read in ("ER Allred", "PR H-score", "ER quick score", "ER percent",
# "ER intensity", "ER proportion", "ER nuclear staining": CR A.1 rows '% positive cells', 'staining
# intensity', Allred; the Allred score is a proportion + an intensity score, the H-score a weighted %,
# the quick score Allred's other name): they name a receptor test whatever the value (were dropped
# unseen, 'No readable ER result' beside them; gx14)
_RECEPTOR_ONLY_WORD = (r"(?:allred|h[- ]?score|quick[- ]?score|per ?cent\w*|pct\b|intensity|proportion|"
                       r"nuclear[- ]stain\w*|positive[- ]cells)")
# a stain word: the receptor-only words and the stain's own ("ER IHC", "ER %", "ER expression")
_STAIN_WORD = r"(?:ihc|immunohisto\w*|stain\w*|expression|receptors?|%|" + _RECEPTOR_ONLY_WORD + ")"
# ... or a word any result has ('ER status', 'ER score', 'ER positivity', 'ER total score': named only with a
# value reading as a receptor result; gx14)
_TEST_WORD = r"(?:status|result|by|(?:total )?score|positivity|" + _STAIN_WORD + ")"
# a word before a bare 'ER' / 'PR' naming it a receptor test ("IHC ER", "Allred score ER"): not
# 'result', 'status' or 'by', which any lab has ("Troponin result ER", "Glucose by ER": the emergency
# room's; rt73)
# ... and of the receptor-only words the scores ("Allred ER", "H-score PR"): not 'intensity', 'percent',
# 'proportion' before it ("Pain intensity ER", "Percent ER occupancy": the emergency room's; gx14)
_TEST_WORD_BEFORE = r"(?:ihc|immunohisto\w*|stain\w*|expression|receptors?(?: status)?|score|%|allred|h[- ]?score)"
# the ER / PR pair names both receptors ("ER/PR", "ER and PR status": the ER was not named, its result
# dropped unseen beside the PR's; rt78); a comma may stand before the test word ("ER, IHC"; rt78)
_ER_PR_PAIR = r"\ber\s*(?:[/&,]|\band\b)\s*(?:pr|pgr)\b"
# the receptor's other names, named only with a value reading as a receptor result (gx14): 'ER alpha'
# (ERα, the receptor ESR1 codes), 'Estrogen rec' / 'Estrogen Rcptr' / 'Oestrogen Rec.' (receptor cut
# short: 'estrogen' alone is also a serum hormone level), 'Hormone receptor status' (ER and PR together:
# CR A.1 'ER+PR combined IHC' row, LOINC part LP28852-9 Estrogen+Progesterone receptor). 'ESR1' (the
# gene: 'ESR1 mutation', 'ESR1 ctDNA' are genomic) names the receptor only beside a stain word
# ("ESR1 IHC"), and then whatever the value, as 'ER IHC'
_RECEPTOR_CUT_SHORT = r"[- ]r(?:ec|ecep|ecept|cpt|cptr)\b\.?"
_ER_OTHER_NAME = r"\ber[\s-]?(?:alpha|α)(?![a-z0-9])|\bo?estrogen" + _RECEPTOR_CUT_SHORT
_PR_OTHER_NAME = r"\bprogesterone" + _RECEPTOR_CUT_SHORT
# ... not the thyroid's ('Thyroid stimulating hormone receptor Ab': TRAb, a thyroid test)
_HORMONE_RECEPTOR = r"(?<!stimulating )(?<!thyroid )\bhormone[- ]receptors?\b(?![\s-]*(?:ab|antibod\w*|binding)\b)"
_ESR1_STAINED = r"\besr-?1\b[\s(:,-]*(?:by\s+)?(?:ihc|immunohisto\w*|stain\w*)"
_UNCODED_RECEPTOR = {
    "er": re.compile(r"\b(?:o?estrogen|oestrogen)[- ]receptors?\b|" + _ER_PR_PAIR + r"|\ber\b[\s(:,-]*"
                     + _TEST_WORD + r"|" + _TEST_WORD_BEFORE + r"[\s(:-]*\ber\b(?![\s-]*(?:visit|room))|"
                     + _ER_OTHER_NAME + "|" + _HORMONE_RECEPTOR + "|" + _ESR1_STAINED),
    "pr": re.compile(r"\bprogesterone[- ]receptors?\b|\b(?:pr|pgr)\b[\s(:,-]*" + _TEST_WORD
                     + r"|" + _ER_PR_PAIR + r"|" + _TEST_WORD_BEFORE
                     + r"[\s(:-]*\b(?:pr|pgr)\b(?![\s-]*interval)|" + _PR_OTHER_NAME + "|" + _HORMONE_RECEPTOR),
}
# words naming the ECG's PR or the emergency room's ER, not a receptor ("PR by ECG", "ER score
# (triage)"; rt73)
_NOT_RECEPTOR = re.compile(r"\b(?:ecg|ekg|electrocardio\w*|triage|emergency)\b")
# ... of those, the names that are a receptor test whatever their value: the receptor's name, a
# stain word ("ER IHC", "ER %", "IHC ER") or the ER / PR pair ("ER/PR status"). 'ER status', 'ER
# result', 'ER by', 'ER score' alone are as much the emergency room's ("ER Status" = "discharged",
# a clinical-status field: was named an uncoded ER test; gx13): named only when their value reads
# as a receptor result (_reads_as_receptor_result)
# ... the stain word also after 'status' / 'result' / 'score' ("ER Status (IHC)", "ER result by IHC":
# were named only with a value reading as a result, 'See report' dropped unseen; rt78)
_STAIN_AFTER = r"\b[\s(:,-]*(?:(?:status|result|score)\b[\s(:,-]*)?(?:by\s+)?" + _STAIN_WORD
_NAMED_AS_RECEPTOR_TEST = {
    "er": re.compile(r"\b(?:o?estrogen|oestrogen)[- ]receptors?\b|" + _ER_PR_PAIR + r"|(?:\ber|" + _ER_OTHER_NAME
                     + ")" + _STAIN_AFTER + r"|" + _STAIN_WORD + r"(?: status)?[\s(:-]*\ber\b|" + _ESR1_STAINED),
    "pr": re.compile(r"\bprogesterone[- ]receptors?\b|" + _ER_PR_PAIR + r"|(?:\b(?:pr|pgr)|" + _PR_OTHER_NAME
                     + ")" + _STAIN_AFTER + r"|" + _STAIN_WORD + r"(?: status)?[\s(:-]*\b(?:pr|pgr)\b"),
}
# a value that reads as an ER / PR result: a number (%, Allred, H-score: CR A.1 Allred row), a
# positive / negative / equivocal call (_qual_from_text), ER-low or a staining intensity (Allred
# intensity score none / weak / intermediate / strong, Allred et al. 1998), no expression
_RECEPTOR_WORDS = r"\blow\b|\b(?:weak|moderate|intermediate|strong)\w*"
# ... or a laboratory's word for a result elsewhere, awaited or not obtained ("See report", "Pending",
# "Not performed", "QNS": quantity not sufficient; "focal" a staining pattern): an 'ER status' so valued
# was named before gx13 and dropped unseen after it, "No ER result recorded" beside a result on its way
# or in a report. Naming the record is the safe side: an emergency room's "pending" named as an ER
# test costs a line, a real one lost is a result the clinician is told does not exist (CR A.1)
_AWAITED_RESULT_WORDS = r"|\bsee\b.{0,40}\breport\b|\bpending\b|\bnot\s+(?:performed|done)\b|\bqns\b|\bfocal\w*"
# ... or 'IND' (v3-ObservationInterpretation IND = Indeterminate, sent as the value's code with no display
# or as the interpretation: 'ER status' = IND was dropped unseen while 'Indeterminate' was named; gx14)
_INDETERMINATE_CODE = r"|\bind\b"
_RECEPTOR_RESULT_WORDS = re.compile(r"\d|\+|" + _RECEPTOR_WORDS + _AWAITED_RESULT_WORDS + _INDETERMINATE_CODE)
# ... but not a number in another unit, a lab's or a vital sign's ('PR result' = 160 ms: the ECG's PR
# interval; 'PR result' = 88 mmHg): a receptor is read as a % of cells or a score (a UCUM
# annotation "{score}", "{Allred}"; CR A.1 Allred row). The unit is a word ("ms", "mmHg", "/min",
# "mmol/L") after the whole number: not a digit, '+' or '/8' ('90', '7/8', '2+': a bare %, an Allred
# score, an intensity were read as 9 in '0', 7 in '/8', 2 in '+' and dropped unseen; rt78)
_NUMBER_AND_UNIT = re.compile(r"^\s*(?:<=|>=|<|>)?\s*\d+(?:[.,]\d+)?(?![\d.,])\s*(/?\s*[^\W\d_].*?)\s*$")
# ... nor a call, an intensity or 'of 8' (an Allred score) after the number: '90 positive', '3 strong',
# '7 out of 8' were read as 90 in the unit 'positive' and dropped unseen (rt78)
_RECEPTOR_UNIT = re.compile(r"%|per ?cent|\bpct\b|score|allred|cells|^\{|\bof 8\b|" + _RECEPTOR_WORDS)
# a name that is only 'ER', 'PR' or 'PgR' ("ER", "PR:"; an HL7 v2 OBX text): the emergency room, the
# pulse rate or the ECG's PR interval ('PR' = 72) as much as a receptor, so named only with a value
# that is a receptor call: positive / negative / equivocal (_qual_from_text), ER-low, a % of cells or an
# Allred / H-score (CR A.1 Allred row), never a bare number or a yes / no ('Positive (90%)' was dropped
# unseen, 'No readable ER result' beside it; rt78)
_BARE_RECEPTOR_NAME = {"er": ("er",), "pr": ("pr",), "pgr": ("pr",)}
# ... 'ER Stat' / 'PR stat' (a laboratory's 'status' cut short) the same: 'stat' is also the urgent order
# ('PR stat' = 72 a pulse taken at once; 'ER Stat' = 'Positive' was dropped unseen; gx14)
_STAT = re.compile(r"[\s:-]*stat\b\.?$")
# ... and 'HR' ('HR status', 'HR result', 'HR (IHC)'): the hormone receptors, ER and PR together, as much as
# the heart rate ('HR status' = 72), so named (both) only with a receptor call ('HR status' = 'Positive' was
# dropped unseen, 'No readable ER result' beside it; CR A.1 'ER+PR combined IHC' row; gx14)
_HR_NAME = re.compile(r"hr(?:[\s(:,-]*(?:status|result|by|ihc|immunohisto\w*)\)?)*")
# ... or the receptors' own signs ('HR status' / 'ER' = 'ER+/PR-': positive and negative, no call read; gx14)
_RECEPTOR_CALL = re.compile(r"%|\b(?:er|pr|pgr)[- ]?low\b|allred|\bh[- ]?score\b|\b(?:er|pr|pgr)\s*[+-](?![a-z0-9])")


@lru_cache(maxsize=2048)
def _uncoded_markers(text: str) -> tuple[tuple[str, bool], ...]:
    """The markers (er, pr, her2) an uncoded test's text names as its test, in that order, each
    with whether the name alone says it is one (HER2 always; ER / PR: _NAMED_AS_RECEPTOR_TEST)."""
    if _UNCODED_NOT_TISSUE.search(text):
        return ()
    found = () if _NOT_RECEPTOR.search(text) else tuple(
        (m, bool(_NAMED_AS_RECEPTOR_TEST[m].search(text))) for m, pat in _UNCODED_RECEPTOR.items() if pat.search(text))
    return found + ((("her2", True),) if _UNCODED_HER2.search(text) else ())


@lru_cache(maxsize=2048)
def _bare_receptor_name(text: str) -> tuple[str, ...]:
    """The markers (er, pr) a name that is only 'ER', 'PR', 'PgR' or 'HR' (status) says (each of its text
    and displays: "er | er"), else ()."""
    parts = [_STAT.sub("", part.strip(" :-")) for part in text.split("|")]
    found = {("er", "pr") if _HR_NAME.fullmatch(part) else _BARE_RECEPTOR_NAME.get(part, ()) for part in parts}
    return found.pop() if len(found) == 1 else ()


def _reads_as_receptor_result(unit: dict[str, Any], value: str, call_only: bool = False) -> bool:
    """Whether an uncoded test's value (as written) reads as an ER / PR result: a number (with no
    unit, a % or a score), a true / false (read by the coded readers as positive / negative), or
    result words; with call_only (a bare 'ER' / 'PR'), only a receptor call (_RECEPTOR_CALL)."""
    text = value.lower()
    if call_only:
        return bool(_qual_from_text(text) or _RECEPTOR_CALL.search(text))
    if type(unit.get("valueBoolean")) is bool:
        return True
    measured = _NUMBER_AND_UNIT.match(text)
    if measured and not (_RECEPTOR_UNIT.search(measured[1]) or _qual_from_text(measured[1])):
        return False
    return bool(_RECEPTOR_RESULT_WORDS.search(text) or _qual_from_text(text) or _NO_EXPRESSION_RE.search(text))


def _local_codes_only(cods: list[tuple[str, str, str]]) -> str | None:
    """'' when Observation.code has no code (text, or a display alone), the codes as written
    ("'HER2IHC' (urn:oid:1.2.3)") when each is a local one (not LOINC, not SNOMED CT: no marker
    reader looks it up, CR A.1), None when a standard code is there (its own reader's)."""
    written = []
    for system, code, _ in cods:
        if not code:
            continue
        if code in T.TUMOR_MARKERS or (system and (is_loinc(system) or system == T.SNOMED)):
            return None
        written.append(f"'{code}'" + (f" ({system})" if system else ""))
    return "; ".join(written)


def _value_as_written(obs: dict[str, Any]) -> str:
    """The result as the record writes it (valueString, the value's text / display, a quantity)."""
    vs = obs.get("valueString")
    if isinstance(vs, str) and vs.strip():
        return vs.strip()
    vcc = obs.get("valueCodeableConcept")
    if isinstance(vcc, dict):
        t = vcc.get("text")
        if isinstance(t, str) and t.strip():
            return t.strip()
        for _, code, display in codings_m(vcc):
            if display or code:
                return (display or code).strip()
    num, unit, comp = quantity(obs.get("valueQuantity")) if "valueQuantity" in obs else (None, None, None)
    if num is not None:
        return f"{comp or ''}{num:g}{f' {unit}' if unit else ''}"
    # the other values the coded readers read (FHIR R4 Observation.value[x]; _observation_values)
    vi = obs.get("valueInteger")
    if type(vi) is int:
        return str(vi)
    vb = obs.get("valueBoolean")
    if type(vb) is bool:
        return "true" if vb else "false"
    ratio = obs.get("valueRatio")
    if isinstance(ratio, dict):
        n, d = (quantity(ratio.get(part))[0] for part in ("numerator", "denominator"))
        if n is not None:
            return f"{n:g}" + (f"/{d:g}" if d is not None else "")
    return ""


def _interpretation_as_written(unit: dict[str, Any]) -> str:
    """The first interpretation as written ("POS", "Positive"), for a test with no value: a HER2
    IHC sent with interpretation POS alone was dropped unseen, 'No HER2 result recorded' beside it
    (gx13)."""
    for cc in as_list(unit.get("interpretation")):
        written = _value_as_written({"valueCodeableConcept": cc})
        if written:
            return written
    return ""


def _latest_results(er: ReceptorStatus, pr: ReceptorStatus, her2: HER2Status
                    ) -> dict[str, tuple[str, dt.date | None, bool]]:
    """Each marker's (name, date of the result that decides, whether its status is unknown)."""
    return {"er": ("ER", er.date, er.status == "unknown"), "pr": ("PR", pr.date, pr.status == "unknown"),
            "her2": ("HER2", her2.date, her2.category == "unknown")}


def _what_is_read(name: str, latest: dt.date | None, unknown: bool, date: dt.date | None) -> str | None:
    """What stands instead of a result of `date` that is not read: the marker unknown, the latest
    result, or another result of its day; None when it is older than the latest (not named)."""
    if not (unknown or latest is None or date is None or date >= latest):
        return None
    return (f"{name} status unknown" if unknown else
            f"the result of {latest.isoformat()} is used" if latest and latest != date else
            "another result of the day is used")


def _note_uncoded_tests(ctx: Ctx, er: ReceptorStatus, pr: ReceptorStatus, her2: HER2Status) -> None:
    """Gaps her2-test-uncoded / receptor-test-uncoded: an Observation coded only by text that
    names an ER / PR / HER2 test (_uncoded_markers), with a value and no dataAbsentReason, not read
    (see above), named when that marker is unknown or the record is not older than its latest
    result (as _note_unsaid_answers)."""
    latest = _latest_results(er, pr, her2)
    said: dict[str, list[tuple[str, Source]]] = {"her2": [], "receptor": []}
    # only those that may lack a LOINC / SNOMED CT code, collected in the pass building the code
    # index (a second pass over every Observation cost each call ~250 iterations for none); and a
    # panel's components so coded (FHIR R4 Observation.component.code: "HER2 IHC" = "3+" in a
    # breast panel was dropped unseen, 'No HER2 result recorded' beside it; rt73)
    units = chain(((obs, obs) for obs in ctx.observations_maybe_local()), ctx.components_maybe_local())
    for obs, unit in units:
        try:
            code = ctx.concept_of(obs) if unit is obs else concept(unit.get("code"))
            local = _local_codes_only(code.codings)
            if local is None or absent_reason(unit) is not None:
                continue
            markers = _uncoded_markers(code.text)
            bare = () if markers else _bare_receptor_name(code.text)
            markers = markers or tuple((m, False) for m in bare)
            value = _value_as_written(unit) if markers else ""
            # no value: its interpretation is its result as read (FHIR R4 Observation.interpretation)
            interpretation = "" if value or not markers else _interpretation_as_written(unit)
            if not (value or interpretation):
                continue
            reads = f"'{value[:80]}'" if value else f"interpretation '{interpretation[:80]}'"
            date = obs_date(obs)
            pending = not_final_status(obs)
            name = cc_as_written(unit.get("code"))
            src = ctx.source(obs, date, f"{name} ({'local code' if local else 'no code'})")
            coded = f"with only a local code ({local})" if local else "without a code"
            for m, named in markers:
                if not named and not _reads_as_receptor_result(unit, value or interpretation, call_only=bool(bare)):
                    continue
                label, day, unknown = latest[m]
                read = _what_is_read(label, day, unknown, date)
                if read is None:
                    continue
                # a result not final named so (FHIR R4 ObservationStatus; the coded one is awaited: gap
                # receptor-result-not-final; rt73)
                when = ", ".join([date.isoformat()] * (date is not None) + [f"status {pending}: not final"] * bool(pending))
                when = f" ({when})" if when else ""
                said["her2" if m == "her2" else "receptor"].append(
                    (f"{label} result recorded {coded}: '{name}' reads {reads}{when}, not read "
                     f"(a result is read by its LOINC code, CR A.1); {read}", src))
        except Exception:  # noqa: BLE001
            continue
    tail = ". The pathology report decides: add its coded result."
    if said["receptor"]:
        ctx.gap("receptor-test-uncoded", "; ".join(w for w, _ in said["receptor"]) + tail,
                [src for _, src in said["receptor"]])
    if said["her2"]:
        ctx.gap("her2-test-uncoded", "; ".join(w for w, _ in said["her2"]) + tail, [src for _, src in said["her2"]])


def _note_unsaid_answers(ctx: Ctx, acc: _Acc, er: ReceptorStatus, pr: ReceptorStatus, her2: HER2Status) -> None:
    """The gap receptor-answer-unclear: an ER / PR / HER2 result not read because its answer code
    is written with no code system and its words say otherwise (_unsaid_answer), named when it is
    the latest result of that marker or the marker is unknown (CR A.1; C.2 step 0 testing)."""
    said: list[tuple[str, Source]] = []
    her2_unsaid = [(r.unsaid, r.date, r.src) for r in acc.her2 if r.unsaid]
    latest = _latest_results(er, pr, her2)
    for marker, found in (("er", acc.unsaid["er"]), ("pr", acc.unsaid["pr"]), ("her2", her2_unsaid)):
        name, day, unknown = latest[marker]
        for why, date, src in found:
            read = _what_is_read(name, day, unknown, date)
            if read is not None:
                when = f" ({date.isoformat()})" if date else ""
                said.append((f"{name} result{when} not read: {why}; {read}", src))
    if said:
        ctx.gap("receptor-answer-unclear", "; ".join(w for w, _ in said) + ". The pathology report decides.",
                [src for _, src in said])


def _note_unclear_her2_text(ctx: Ctx, recs: list[_Her2], her2: HER2Status) -> None:
    """HER2 unknown because the deciding result's words state no single result (a hedged
    "possible HER2-low", "HER2-low on primary, HER2-positive on metastasis", "3+ in 20%, 0 in 80%"): the words are
    quoted, so the gap says what is unclear (CR A.1: HER2-low never inferred; C.2 step 0)."""
    if her2.category != "unknown":
        return
    unclear = [r for r in recs if r.words and (her2.date is None or r.date == her2.date)]
    if unclear:
        ctx.gap("her2-text-unclear",
                "HER2 result not read: " + "; ".join(f"'{r.words[:80]}'" for r in unclear)  # type: ignore[index]
                + " (a hedge, or more than one result in one text). The pathology report decides.",
                [r.src for r in unclear])


def _observed_status(marker: str, acc: _Acc, er: ReceptorStatus, pr: ReceptorStatus, her2: HER2Status
                     ) -> tuple[str, dt.date | None] | None:
    """(positive | negative, date) that the tumour-marker Observations give `marker` (er, pr, hr:
    ER and/or PR, her2); None when no Observation of it was read or they decide neither."""
    if marker in ("er", "pr"):
        rs = er if marker == "er" else pr
        return (rs.status, rs.date) if getattr(acc, marker) and rs.status in ("positive", "negative") else None
    if marker == "hr":  # HR+ = ER and/or PR positive (CR A.1 Z17.41x); HR- = both negative
        read = [rs for rs, recs in ((er, acc.er), (pr, acc.pr)) if recs and rs.status in ("positive", "negative")]
        dates = [rs.date for rs in read if rs.date]
        if any(rs.status == "positive" for rs in read):
            return "positive", max(dates, default=None)
        return ("negative", max(dates, default=None)) if len(read) == 2 else None
    if not acc.her2:
        return None
    if her2.category == "positive":
        return "positive", her2.date
    return ("negative", her2.date) if her2.category in _HER2_NEGATIVE | {"negative-unspecified"} else None


def _note_discordant_z17(ctx: Ctx, acc: _Acc, z_read: list[tuple[str, str, str, dt.date | None, Source]],
                         er: ReceptorStatus, pr: ReceptorStatus, her2: HER2Status) -> None:
    """The gap receptor-status-discordant: a receptor-status diagnosis (Z17.x) dated on or after
    the tumour-marker result that decides (or either undated) states the opposite status. The
    result still decides: Z17 is a billing code, read only when no result exists (CR A.1), often
    copied forward; but a newer opposite status may be a receptor conversion on a re-biopsy
    whose report is not in the record (CR C.2 step 0: the most recent, metastatic biopsy
    guides), which no source lets us tell apart. Named with both results and dates, never
    silent. An older Z17.x is superseded by the newer result (CR C.2 step 0), not named."""
    said: list[tuple[str, Source]] = []
    for marker, stated, written, date, src in z_read:
        observed = _observed_status(marker, acc, er, pr, her2)
        if observed is None or observed[0] == stated:
            continue
        status, on = observed
        if date is not None and on is not None and date < on:
            continue
        if marker == "her2" and her2.category != status:
            status = f"{status}, {her2.category}"  # "negative, low": HER2-low is HER2-negative
        when = ("undated" if date is None else "same day" if date == on else "later") if on else "result undated"
        name = {"er": "ER", "pr": "PR", "hr": "HR (ER/PR)", "her2": "HER2"}[marker]
        said.append((f"{name}: the pathology result is read ({status}"
                     f"{f', {on.isoformat()}' if on else ''}); the diagnosis {written} "
                     f"({f'{date.isoformat()}, ' if date else ''}{when}) says {stated}", src))
    if said:
        ctx.gap("receptor-status-discordant",
                "; ".join(w for w, _ in said) + ". The diagnosis may record a receptor change on a re-biopsy "
                "whose report is not recorded (the newer result would then guide) or be a code carried forward: "
                "add the latest pathology report, or correct the diagnosis.",
                [src for _, src in said])


def _note_allred_or_h_score(ctx: Ctx, acc: _Acc, er: ReceptorStatus, pr: ReceptorStatus) -> None:
    """The gap receptor-score-unread: the ER/PR result that decides (its latest day) is an
    Allred total or an H-score alone that leaves the status open or maybe ER-low, or the marker
    is unknown and an H-score not read was all it had. CR A.2 reads the % of stained cells;
    neither score gives it."""
    said: list[tuple[str, Source]] = []
    for name, rs, recs in (("ER", er, acc.er), ("PR", pr, acc.pr)):
        # the Allred result of the day that decides, or a later one left open (the day before it decides)
        noted = [r for r in recs if r.allred_note and (r.date == rs.date or (
            r.status is None and r.date is not None and rs.date is not None and r.date > rs.date))]
        if noted and not any(r.percent is not None for r in recs if r.date == noted[-1].date):
            r = noted[-1]
            read = ("not read as positive or negative" + (f": the result of {rs.date.isoformat()} is used"
                                                          if rs.date != r.date and rs.date else "")
                    if r.status is None else
                    "read as positive with the ER-low caution" if name == "ER" and rs.low_positive else
                    f"read as {rs.status}")
            when = f" ({r.date.isoformat()})" if r.date else ""
            said.append((f"{name}{when}: {r.allred_note}; {read}", r.src))
        if rs.status == "unknown":
            said += [(f"{name} given only as the number {n}): not read (without a % unit it may be an Allred "
                      "score, 0-8, an H-score, 0-300, or a % of stained cells)", src)
                     for n, src in acc.bare_numbers[name.lower()]]
            said += [(f"{name} given only as an {h}: not read (an H-score, 0-300, is intensity times % of "
                      "stained cells, not the % itself)", src) for h, src in acc.h_scores[name.lower()]]
    if said:
        ctx.gap("receptor-score-unread",
                "; ".join(w for w, _ in said) + ". ER/PR status is read from the % of stained cells (>= 1 % "
                "positive, 1-10 % ER-low, ASCO/CAP): add the % or the pathologist's interpretation.",
                [src for _, src in said])


def _bare_number(unit: dict[str, Any]) -> str | None:
    """A result's number as written ("5 (no unit", "3 (unit score") when it is all the result
    gives and nothing says it is a % (_read_receptor read no status or % from it)."""
    _, vtext, num, unit_name, _ = _observation_values(unit)
    if num is None or (vtext and not _NUM_RE.match(vtext)):
        return None
    return f"{num:g} ({f'unit {unit_name}' if unit_name else 'no unit'}"


def _not_final_marker(target: str, reading: str, status: str, date: dt.date | None, src: Source) -> MarkerNotFinal:
    return MarkerNotFinal(marker=target.upper(), reading=reading, status=status, date=date, sources=[src])


def _receptor_words(status: str | None, percent: float | None) -> str:
    """A receptor result in words, as read ("negative", "positive, 90 %"); "no readable result"."""
    words = [w for w in (status, f"{percent:g} %" if percent is not None else None) if w]
    return ", ".join(words) or "no readable result"


def _her2_words(rec: _Her2 | None) -> str:
    """A HER2 result in words, as read ("IHC 1+", "ISH not amplified", "negative")."""
    if rec is None:
        return "no readable result"
    if rec.ihc:
        return f"IHC {rec.ihc}" + (f" ({rec.sub})" if rec.sub else "")
    if rec.ish:
        return f"ISH {rec.ish.replace('-', ' ')}"
    if rec.ish_equivocal and rec.ihc is None:
        return "ISH equivocal"
    if rec.ratio is not None or rec.copies is not None:
        return "ISH " + ", ".join(w for w in (f"ratio {rec.ratio:g}" if rec.ratio is not None else None,
                                              f"{rec.copies:g} copies" if rec.copies is not None else None) if w)
    return rec.qual or "no readable result"


@lru_cache(maxsize=1024)
def _label(marker: str, kind: str, code: str) -> str:
    name = {"er": "ER", "pr": "PR", "er-pr": "ER/PR", "her2": "HER2"}[marker]
    what = {
        "status": "status", "percent": "% cells", "legacy": "assay", "ihc": "IHC",
        "interpretation": "interpretation", "ish": "ISH", "ish-ratio": "ISH ratio",
        "ish-copies": "ISH copies",
    }.get(kind, kind)
    return f"{name} {what} ({code})"


__all__ = ["build_markers"]
