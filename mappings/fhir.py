"""Small, defensive readers for FHIR R4 JSON dicts (no model validation).

Every helper accepts anything (None, wrong types) and returns an empty/None
result instead of raising.
"""

from __future__ import annotations

import datetime as dt
import re
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Callable

# (lt1) How much of one free-text field the readers read. FHIR R4 sets no length on a string
# (R4 datatypes, string: "should not exceed 1MB"), so the bound is ours. The longest texts the
# readers are written for are a radiology impression or a pathology conclusion
# (DiagnosticReport.conclusion, Observation.note, valueString): a few hundred characters, rarely
# over 1,000; 2,000 characters (some 300 words) holds them with room. The text readers' cost
# grows with a text's length, some with its square (a 40 kB Condition.code.text took 40 s):
# a longer text is read to its first TEXT_READ_LIMIT characters, and build.py names the record
# (gap text-read-in-part), so that no request can hold a worker for long.
TEXT_READ_LIMIT = 2000
# the texts cut in this build (build.py sets a list for each call; None outside a build)
_CUT_TEXTS: ContextVar[list[str] | None] = ContextVar("mappings_cut_texts", default=None)


def bounded(text: str) -> str:
    """text up to TEXT_READ_LIMIT characters; a longer one is cut there and noted for the gap."""
    if len(text) <= TEXT_READ_LIMIT:
        return text
    cut = _CUT_TEXTS.get()
    if cut is not None:
        cut.append(text)
    return text[:TEXT_READ_LIMIT]


_DATE_RE = re.compile(r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
# a month written by name, by its first three letters ("Mar", "March": 3)
MONTH_NUMBERS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                             "nov", "dec"), start=1)}


def parse_date(value: Any) -> dt.date | None:
    """FHIR date/dateTime/instant -> date. Partial dates take the first day (date_last
    gives the last: a decision that depends on where the date falls reads both)."""
    if type(value) is str:
        return _parse_date_str(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    return _parse_date_str(value)


@lru_cache(maxsize=8192)
def _parse_date_str(value: str) -> dt.date | None:
    m = _DATE_RE.match(value)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def date_last(value: Any) -> dt.date | None:
    """The last day a FHIR date/dateTime can mean: a year-only date ("2024") the 31st of
    December, a year-month ("2024-03") the last day of the month, a full date itself.
    parse_date gives the first day; the two differ only for a partial date."""
    if not isinstance(value, str):
        return parse_date(value)
    return _date_last_str(value)


@lru_cache(maxsize=8192)
def _date_last_str(value: str) -> dt.date | None:
    first = _parse_date_str(value)
    if first is None:
        return None
    m = _DATE_RE.match(value)
    if m is None or m.group(3):
        return first
    if m.group(2):
        return dt.date(first.year, first.month, _days_in_month(first.year, first.month))
    return dt.date(first.year, 12, 31)


def partial_last(first: dt.date | None, last: dt.date | None) -> dt.date | None:
    """The last day of a date written without a day ("2024", "2024-06") read first as
    `first` (last: the same field read with date_last); None for a full date or no date.
    What a Source, a site, an exposure or a result keeps beside its first day, so that a
    card shows the date as written, not as a day the record does not contain."""
    return last if first is not None and last is not None and last != first else None


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def codings(cc: Any) -> list[tuple[str, str, str]]:
    """(system, code, display) for each coding of a CodeableConcept (or Coding)."""
    if not isinstance(cc, dict):
        return []
    items = cc.get("coding")
    if items is None:
        if "code" in cc or "system" in cc:
            items = [cc]  # a bare Coding
        else:
            return []
    elif not isinstance(items, list):
        items = [items]
    out = []
    for c in items:
        if not isinstance(c, dict):
            continue
        code = c.get("code")
        system = c.get("system")
        display = c.get("display")
        if type(code) is not str:
            code = str(code) if isinstance(code, int) and not isinstance(code, bool) else ""
        out.append((
            system.strip() if type(system) is str else "",
            code.strip(),
            # (bounded(display) inlined: codings() is on the hot path)
            (display if len(display) <= TEXT_READ_LIMIT else bounded(display)) if type(display) is str else "",
        ))
    return out


def raw_cc_key(cc: dict[str, Any]) -> tuple[Any, ...] | None:
    """A CodeableConcept dict's text and (system, code, display) of each coding, taken
    as they are, when all are str or None: they then determine codings() and cc_text()
    exactly, so the key can memoise anything computed from those two. None otherwise."""
    items = cc.get("coding")
    text = cc.get("text")
    if type(items) is not list or (text is not None and type(text) is not str):
        return None
    if len(items) == 1:
        c = items[0]
        if type(c) is dict:
            sy, co, di = c.get("system"), c.get("code"), c.get("display")
            if ((sy is None or type(sy) is str) and (co is None or type(co) is str)
                    and (di is None or type(di) is str)):
                return (text, sy, co, di)
        return None
    key: list[Any] = [text]
    for c in items:
        if type(c) is not dict:
            return None
        sy, co, di = c.get("system"), c.get("code"), c.get("display")
        if ((sy is not None and type(sy) is not str) or (co is not None and type(co) is not str)
                or (di is not None and type(di) is not str)):
            return None
        key += (sy, co, di)
    return tuple(key)


class Concept:
    """A CodeableConcept as the mappers read it: codings() and cc_text(), plus `memo`
    for anything a mapper derives from those two alone (e.g. "names a bilateral
    oophorectomy"). Shared between resources and calls when the concept is keyable
    (raw_cc_key): read it, never change `codings`."""

    __slots__ = ("codings", "text", "memo", "cut")

    def __init__(self, cods: list[tuple[str, str, str]], text: str) -> None:
        self.codings = cods
        self.text = text
        self.memo: dict[str, Any] = {}
        # its texts longer than TEXT_READ_LIMIT (noted again each time the shared concept is read)
        self.cut: tuple[str, ...] = ()


_CONCEPTS: dict[tuple[Any, ...], Concept] = {}
_CONCEPTS_MAX = 8192


def concept(cc: Any) -> Concept:
    """Concept(codings(cc), cc_text(cc)), memoised per distinct concept (raw_cc_key)."""
    if type(cc) is dict:
        key = raw_cc_key(cc)
        if key is not None:
            hit = _CONCEPTS.get(key)
            if hit is None:
                if len(_CONCEPTS) >= _CONCEPTS_MAX:
                    _CONCEPTS.clear()
                hit = _CONCEPTS[key] = Concept(codings(cc), cc_text(cc))
                # the key's text and displays (key[3::3]) that bounded() cut
                hit.cut = tuple(t for t in key[:1] + key[3::3] if type(t) is str and len(t) > TEXT_READ_LIMIT)
            elif hit.cut:
                cut = _CUT_TEXTS.get()
                if cut is not None:
                    cut.extend(hit.cut)
            return hit
    return Concept(codings(cc), cc_text(cc))


def codings_m(cc: Any) -> list[tuple[str, str, str]]:
    """codings(cc) through the concept memo (a shared list: read it, never change it)."""
    return concept(cc).codings


def cc_text_m(cc: Any) -> str:
    """cc_text(cc) through the concept memo."""
    return concept(cc).text


def codes_of(cc: Any) -> set[str]:
    return {c for _, c, _ in codings(cc) if c}


def cc_text(cc: Any) -> str:
    """All human text of a CodeableConcept: text + coding displays, lower case."""
    if not isinstance(cc, dict):
        return ""
    parts = []
    t = cc.get("text")
    if isinstance(t, str):
        parts.append(t if len(t) <= TEXT_READ_LIMIT else bounded(t))
    for _, _, d in codings(cc):
        if d:
            parts.append(d)
    return " | ".join(parts).lower()


def cc_as_written(cc: Any) -> str:
    """A CodeableConcept's text as the record writes it (its text, else its first display;
    where cc_text starts), for a message to quote; "" when it has none."""
    if not isinstance(cc, dict):
        return ""
    if isinstance(cc.get("text"), str) and cc["text"].strip():
        return bounded(cc["text"]).strip()
    return next((d.strip() for _, _, d in codings(cc) if isinstance(d, str) and d.strip()), "")


def is_loinc(system: str) -> bool:
    return not system or "loinc" in system.lower()


def is_snomed(system: str) -> bool:
    return not system or "snomed" in system.lower()


def is_icd10(system: str) -> bool:
    return "icd-10" in system.lower() or "icd10" in system.lower()


# RxNorm's OID, as C-CDA-derived FHIR writes the system (FHIR R4 namingsystem-terminologies:
# RxNorm http://www.nlm.nih.gov/research/umls/rxnorm, OID 2.16.840.1.113883.6.88)
_RXNORM_OID = "2.16.840.1.113883.6.88"


def is_rxnorm(system: str) -> bool:
    s = system.lower()
    return "rxnorm" in s or s.removeprefix("urn:oid:") == _RXNORM_OID


def ref_str(ref: Any) -> str | None:
    if isinstance(ref, dict):
        r = ref.get("reference")
        return r if isinstance(r, str) else None
    return None


def ref_type_and_id(reference: str) -> tuple[str, str] | None:
    """('Medication', '1') from 'Medication/1' or 'http://x/fhir/Medication/1/_history/2'
    (a version ignored), or None when the reference names no type and id."""
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return (parts[-2], parts[-1]) if len(parts) >= 2 else None


def contained_resource(container: dict[str, Any], reference: str) -> dict[str, Any] | None:
    """The resource contained in `container` that a '#id' reference names, or None."""
    return next((c for c in container.get("contained") or []
                 if isinstance(c, dict) and c.get("id") == reference[1:]), None)


def printable_clip(text: str, limit: int) -> str:
    """A caller's value as a message may quote it: printable, one line, at most `limit` characters."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def ref_id(ref: Any, rtype: str | None = None) -> str | None:
    """'Patient/123', 'http://x/fhir/Patient/123/_history/2' -> '123'."""
    r = ref_str(ref)
    if not r:
        return None
    parts = r.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and (rtype is None or parts[-2] == rtype):
        return parts[-1]
    return None


def obs_date(res: dict[str, Any], read: Callable[[Any], dt.date | None] = parse_date) -> dt.date | None:
    """effective[x], else issued (read: parse_date, or date_last for the last day a
    partial date can mean)."""
    d = read(res.get("effectiveDateTime"))
    if d:
        return d
    p = res.get("effectivePeriod")
    if isinstance(p, dict):
        d = read(p.get("start")) or read(p.get("end"))
        if d:
            return d
    return read(res.get("effectiveInstant")) or read(res.get("issued"))


def period(res: dict[str, Any], prefix: str,
           read: Callable[[Any], dt.date | None] | None = None) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) from <prefix>DateTime / <prefix>Period (read: parse_date, or date_last
    for the last day a partial date can mean)."""
    read = read or parse_date
    d = read(res.get(prefix + "DateTime"))
    if d:
        return d, None
    p = res.get(prefix + "Period")
    if isinstance(p, dict):
        return read(p.get("start")), read(p.get("end"))
    return None, None


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value and abs(value) != float("inf") else None
    return None


def quantity(q: Any) -> tuple[float | None, str | None, str | None]:
    """(value, unit, comparator) of a Quantity."""
    if not isinstance(q, dict):
        return None, None, None
    unit = q.get("unit") if isinstance(q.get("unit"), str) else None
    code = q.get("code") if isinstance(q.get("code"), str) else None
    comp = q.get("comparator") if isinstance(q.get("comparator"), str) else None
    return number(q.get("value")), unit or code, comp


def text_of(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return (value if len(value) <= TEXT_READ_LIMIT else bounded(value)).lower()


def absent_reason(unit: Any) -> str | None:
    """Why the value is missing, when an Observation (or a component) has a dataAbsentReason
    (FHIR R4 Observation.dataAbsentReason: "why the expected value in the element
    Observation.value[x] is missing", e.g. not-performed, indeterminate, error): the reason
    in words ("not performed"), else None. Such a unit is never read as a result: not its
    value (obs-6 forbids both), interpretation or notes."""
    if not isinstance(unit, dict) or not unit.get("dataAbsentReason"):
        return None
    cc = unit["dataAbsentReason"]
    for _, code, display in codings(cc):
        if display or code:
            return (display or code).replace("-", " ").strip().lower() or "no reason given"
    return cc_text(cc).strip() or "no reason given"


def absent_message(label: str, reason: str, date: dt.date | None) -> str:
    """'HER2 IHC (85319-2) not performed (dataAbsentReason), 2024-03-01: not read as a result'."""
    when = f", {date.isoformat()}" if date else ""
    return f"{label} {reason} (dataAbsentReason){when}: not read as a result"


def systemless_answer_message(cc: dict[str, Any], code: str, display: str) -> str:
    """Why an answer is unclear when its code is written with no system and its words (display,
    cc's text) say otherwise, naming the code and those words (markers, genomics)."""
    text = cc.get("text") if isinstance(cc.get("text"), str) else ""
    said = " / ".join(w for w in dict.fromkeys((display.strip(), text.strip())) if w)
    return (f"its answer code '{code}' is written with no code system and its words read '{said[:120]}': "
            "what the code means is not defined (FHIR R4 Coding.system)")


def notes_text(res: dict[str, Any]) -> str:
    parts = []
    for n in as_list(res.get("note")):
        if isinstance(n, dict) and isinstance(n.get("text"), str):
            parts.append(bounded(n["text"]))
    return " | ".join(parts).lower()


# Condition.clinicalStatus codes of a condition that no longer applies (FHIR R4 CodeSystem
# condition-clinical: inactive and its children remission, resolved). The code system is
# case-sensitive (caseSensitive: true): "Resolved" is not its code, so it is read as no
# status (the Condition stands as written), as verificationStatus codes are read; build.py
# says so for each such Condition (clinical_status_miscased, below), and a visceral-crisis
# Condition with an inactive code in another case is unclear (disease._visceral_crisis).
INACTIVE_CLINICAL_STATUS = frozenset({"inactive", "remission", "resolved"})


# Every code of FHIR R4 CodeSystem condition-clinical (http://terminology.hl7.org/CodeSystem/
# condition-clinical, caseSensitive: true): active (recurrence, relapse), inactive (remission,
# resolved).
CONDITION_CLINICAL_CODES = frozenset({"active", "recurrence", "relapse"}) | INACTIVE_CLINICAL_STATUS


def clinical_status_code(res: dict[str, Any]) -> str:
    """The first code of a Condition's clinicalStatus ("" when none)."""
    return next((c for _, c, _ in codings(res.get("clinicalStatus")) if c), "")


def clinical_status_inactive(res: dict[str, Any]) -> bool:
    """A Condition whose clinicalStatus (its first code) says it no longer applies."""
    return clinical_status_code(res) in INACTIVE_CLINICAL_STATUS


def clinical_status_miscased(res: dict[str, Any]) -> str | None:
    """The clinicalStatus code as written when it is no condition-clinical code but is one in
    another case ("Resolved", "INACTIVE", "Active"): read as no status (the code system is
    case-sensitive), which the caller says; else None."""
    code = clinical_status_code(res)
    if code in CONDITION_CLINICAL_CODES or code.lower() not in CONDITION_CLINICAL_CODES:
        return None
    return code


def counted(n: int, noun: str) -> str:
    """ "1 Observation", "2 Observations": a count as a clinician writes it, not the form-letter
    "Observation(s)" (DESIGN.md: cards are read at the point of care). cards/rules.py counted
    says it for the cards; mappings does not import cards, so the gaps it writes use this one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def status_code(value: Any) -> str | None:
    """A status code compared without case or surrounding spaces ("Preliminary", " CANCELLED");
    None when not a string. FHIR R4 codes are case-sensitive, but a sender that writes a status
    in another case still means it: reading a miscased "entered-in-error" or "preliminary" as
    some other status (or as final) is worse than reading it as meant."""
    return value.strip().lower() if type(value) is str else None


def do_not_perform(value: Any) -> bool | None:
    """FHIR R4 MedicationRequest.doNotPerform (boolean; absent: false). The string "true" /
    "false" in any case is the boolean's own lexical form (FHIR R4 datatypes: boolean "true |
    false") sent as a JSON string: read as meant, as status codes are (status_code). Any
    other value (1, "yes") is None: unclear, never read as an order to give the drug."""
    if value is None or type(value) is bool:
        return bool(value)
    code = status_code(value)
    return {"true": True, "false": False}.get(code) if code is not None else None


# FHIR R4 ObservationStatus codes that say a result is not (known to be) final: "registered"
# (the observation exists, no result yet available), "preliminary" (verified early results
# are available, but not all results are final), "unknown" (the authoring/source system does
# not know which of the status values currently applies: it cannot be read as final).
# final / amended / corrected are final; cancelled and entered-in-error are never read
# (build._status_skip).
NOT_FINAL_STATUSES = frozenset({"preliminary", "registered", "unknown"})


def not_final_status(obs: dict[str, Any]) -> str | None:
    """The Observation.status when it says the result is not (known to be) final
    (NOT_FINAL_STATUSES, in any case: status_code), else None. One reading for every result
    reader: variants (genomics), ER / PR / HER2 (markers), safety labs and menopausal status
    (factors)."""
    # a missing status is read as final: Observation.status is required (1..1) in R4, but
    # senders often omit it on results that are final, and reading every such result as
    # not final would drop most real genomic data; an explicit "unknown" is not read. The
    # omission is named (build: gap observation-status-missing)
    status = obs.get("status")
    if type(status) is not str:
        return None
    if status not in NOT_FINAL_STATUSES:
        status = status_code(status)
    return status if status in NOT_FINAL_STATUSES else None


def months_between(a: dt.date, b: dt.date) -> float:
    """Calendar months from a to b (negative if b < a): whole months + days/30.4375."""
    sign = 1.0
    if b < a:
        a, b, sign = b, a, -1.0
    months = (b.year - a.year) * 12 + (b.month - a.month)
    anchor_month = a.month - 1 + months
    y, m = a.year + anchor_month // 12, anchor_month % 12 + 1
    # clamp the day for short months
    day = min(a.day, _days_in_month(y, m))
    anchor = dt.date(y, m, day)
    if anchor > b:
        months -= 1
        anchor_month = a.month - 1 + months
        y, m = a.year + anchor_month // 12, anchor_month % 12 + 1
        anchor = dt.date(y, m, min(a.day, _days_in_month(y, m)))
    return sign * (months + (b - anchor).days / 30.4375)


def months_text(months: float, boundary: float) -> str:
    """months (as months_between counts them: whole months + days / 30.4375) with one decimal,
    unit included, except where one decimal would print the boundary for a value on either
    side of it (12 months and 1 day as "12.0" beside "more than 12"; 5 months and 30 days as
    "6.0" beside "within 6 months"): whole months and days then, months_between undone."""
    text = f"{months:.1f}"
    if float(text) != boundary or months == boundary:
        return f"{text} months"
    whole = int(months)
    days = round((months - whole) * 30.4375)
    return f"{whole} months and {days} day{'' if days == 1 else 's'}"


def _days_in_month(y: int, m: int) -> int:
    if m == 12:
        return 31
    return (dt.date(y, m + 1, 1) - dt.date(y, m, 1)).days


def memo_search(rx: re.Pattern[str], maxsize: int = 4096) -> Callable[[str], bool]:
    """`bool(rx.search(text))`, memoised per distinct text.

    For patterns run on the code text of every resource of a type: a chart repeats
    the same few concepts (every glucose, every ECOG), so most calls are a dict hit.
    """
    cache: dict[str, bool] = {}
    search = rx.search

    def test(text: str) -> bool:
        try:
            return cache[text]
        except KeyError:
            pass
        hit = search(text) is not None
        if type(text) is str:  # only exact str keys (a subclass may compare equal yet differ)
            if len(cache) >= maxsize:
                cache.clear()
            cache[text] = hit
        return hit

    return test
