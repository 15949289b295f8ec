"""Patient factors: sex, age, menopausal status, ovarian suppression, diabetes,
ILD/pneumonitis, ECOG, QTc, long QT syndrome, a prolonged QT interval recorded as a Condition.

Menopausal status precedence (CR A.3): explicit observation > bilateral
oophorectomy > ongoing GnRH agonist > age >= 60 (INAVO121 criterion) > unknown.
One refinement: a pre/perimenopausal observation dated before a bilateral
oophorectomy, or on the same day (a pre-operative assessment), is superseded by the surgery, and
one made before the patient turned 60 by the age rule once she is 60 (only a completed,
not future-dated oophorectomy counts: FHIR R4 Procedure.status). An ongoing GnRH agonist never
overrides an explicit premenopausal observation (that patient is
"premenopausal with ovarian suppression", which is what the cards need).
Men: menopausal_basis "male", status unknown, no gap.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from functools import lru_cache
from typing import Any, Callable

from mappings import tables as T
from mappings.context import Ctx
from mappings.disease import condition_onset, condition_onset_last, unconfirmed_status
from mappings.fhir import (
    INACTIVE_CLINICAL_STATUS, Concept, _parse_date_str, concept, as_list, cc_as_written, cc_text, clinical_status_inactive,
    clinical_status_miscased, codings, is_icd10, is_loinc, is_snomed, memo_search, not_final_status, notes_text, number, obs_date, date_last, parse_date, partial_last,
    period, printable_clip, quantity, status_code, text_of,
)
from mappings.state import (
    FASTING_GLUCOSE_HIGH_MG_DL, HBA1C_HIGH_PERCENT, Diabetes, Exposure, LabValue, LongQT, LungDisease, PatientFactors,
    Source, TherapyHistory, date_written,
)
from mappings.depots import depot_weeks, window_days
from mappings.therapy import ADMIN_ACTIVE_DAYS_OFS, written_as_stopped

AGE_RULE_POSTMENOPAUSAL = 60
_UNSET: Any = object()
_INF = float("inf")
# "grade 2", "Grade II" or the CTCAE shorthand "G2"
_GRADE_RE = re.compile(r"\bgrade\s*([1-5]|i{1,3}|iv|v)\b|\bg([1-5])\b", re.I)
# a grade written as a range ("grade 1-2", "grade 1 to 2", "Grade I-II", "G1-2"): read by _grade_range
_GRADE_RANGE_RE = re.compile(r"\bgrade\s*([1-5]|i{1,3}|iv|v)\s*(?:-|to|/|or)\s*(?:grade\s*)?([1-5]|i{1,3}|iv|v)\b"
                             r"|\bg([1-5])\s*(?:-|/)\s*g?([1-5])\b", re.I)
# wordings of symptomatic ILD (CR B.11: symptomatic = grade >= 2; TB01 excluded ILD "requiring
# steroids"). "asymptomatic" and "non-symptomatic" do not match; "not ..." is checked per match.
# Oxygen for the ILD ("on oxygen", "requiring supplemental oxygen", "oxygen-dependent") is an
# intervention: CTCAE v5.0 grade 1 is "asymptomatic ...; intervention not indicated", grade 2
# "... intervention indicated" (CTCAE v5.0 grade definitions), so it is grade >= 2 (CR B.11).
_ILD_SYMPTOMATIC = re.compile(
    r"(?<![a-z-])symptomatic|requir\w*\s+(?:systemic\s+|oral\s+|iv\s+|high[- ]dose\s+)?(?:cortico)?steroids?"
    r"|(?:cortico)?steroids?\s+(?:required|requiring|dependent)|steroid-(?:requiring|dependent)"
    r"|\b(?:on|requir\w*|needing|needs)\s+(?:supplemental\s+|home\s+|continuous\s+)?oxygen\b"
    r"|\boxygen[- ](?:dependent|requiring|requirement)|\bsupplemental oxygen\b"
    # steroids given for it: an intervention (CTCAE v5.0 grade 2 "medical intervention indicated"),
    # as "requiring steroids" (CR B.13 TB01 excluded ILD/pneumonitis requiring steroids)
    r"|\b(?:treated|managed)\s+with\s+(?:systemic\s+|oral\s+|iv\s+|high[- ]dose\s+)?"
    r"(?:(?:cortico)?steroids?|prednis(?:o|olo)ne|methylprednisolone|dexamethasone)\b"
    r"|\bsteroid[- ](?:treated|responsive)\b", re.I)
_NEGATED_BEFORE = re.compile(r"\b(?:not|no|non|never|no longer|without)\b[\s-]*(?:\w+[\s-]+)?$", re.I)
_ILD_SYMPTOMATIC_SEVERITY = frozenset(
    str(e["code"]) for e in T.CODES["conditions"]["ild"].get("symptomatic_severity_snomed", ()))
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_OOPH_TEXT = re.compile(r"bilateral (salpingo-?)?oophorectomy|\bbso\b|bilateral ovariectomy|removal of both ovaries")
_ooph_text = memo_search(_OOPH_TEXT)
_ovarian_ablation_text = memo_search(T.OVARIAN_ABLATION_TEXT)
_meno_question_text = memo_search(T.MENO_QUESTION_TEXT)
# A Condition text that names the menopausal state itself ("Postmenopausal state", "Surgical
# menopause"), not another diagnosis worded with it: "Premenopausal breast cancer" (2010) is
# the status at that diagnosis, not now (CR A.3: derive defensively; unknown -> ask).
_meno_state_text = memo_search(re.compile(
    r"^\W*(?:(?:pre|peri|post|surgical|premature)[ -]?)?menopaus(?:e|al)"
    r"(?:\s+(?:state|status|woman|female))?(?:\s*\((?:finding|situation)\))?\W*$", re.I))


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _latest_birth_date(raw: Any, parsed: dt.date) -> dt.date:
    """The last day a partial birthDate ("1965", "1965-12") can be: the age is then the
    youngest the patient can be, never over-estimated (the age >= 60 rule must not fire
    on a patient who may be 59; parse_date takes the first day)."""
    if type(raw) is str:
        if re.fullmatch(r"\s*\d{4}\s*", raw):
            return dt.date(parsed.year, 12, 31)
        if re.fullmatch(r"\s*\d{4}-\d{2}\s*", raw):
            return dt.date(parsed.year, parsed.month, calendar.monthrange(parsed.year, parsed.month)[1])
    return parsed


# (date key, value, unit, code, Observation, comparator) of one lab result
_LabResult = tuple[dt.date, float, "str | None", str, dict[str, Any], "str | None"]
# FHIR R4 Quantity.comparator (QuantityComparator): the value is a bound, not the result
_COMPARATORS = frozenset({"<", "<=", ">=", ">"})
# a result written as text with its bound ("<6.5", ">= 14 %"; the signs ≤ ≥ as <= >=)
_VALUE_STRING = re.compile(r"\s*(<=|>=|\u2264|\u2265|<|>)?\s*(\d+(?:\.\d+)?)")
_SIGN_WRITTEN = {"\u2264": "<=", "\u2265": ">="}


def _latest_lab(ctx: Ctx, codes: frozenset[str], label: str, convert) -> LabValue | None:
    """The latest readable result with one of `codes` (LOINC), sent as an Observation of its
    own or as a component of another one (an ECG device sends one EKG Observation with the
    QT, QTc and heart rate as components: FHIR R4 Observation.component)."""
    best: _LabResult | None = None
    code_of = ctx.code_of
    for obs in ctx.observations_with(codes):
        try:
            hit = None
            cc = obs.get("code")
            items = cc.get("coding") if type(cc) is dict else None
            if type(items) is list and len(items) == 1 and type(items[0]) is dict:
                # one coding: what code_of(obs) would give, without building it
                c0 = items[0]
                c, s = c0.get("code"), c0.get("system")
                if type(c) is str and (s is None or type(s) is str):
                    c = c.strip()
                    s = s.strip() if s is not None else ""
                    hit = c if c in codes and (not s or "loinc" in s.lower()) else None
                    if not hit:
                        continue
            if hit is None:
                hit = _lab_code(code_of(obs), codes)
                if not hit:
                    continue
            found = _lab_result(ctx, obs, obs, hit, label, convert)
            # the later result (the one found last on a tie)
            if found is not None and (best is None or found[0] >= best[0]):
                best = found
        except Exception:  # noqa: BLE001
            ctx.ignore(obs, "unreadable-resource", f"{label} Observation could not be read")
    for obs, comp in ctx.components_with(codes):
        try:
            hit = _lab_code(codings(comp.get("code")), codes)
            if hit is None:
                continue
            found = _lab_result(ctx, obs, comp, hit, label, convert)
            if found is not None and (best is None or found[0] >= best[0]):
                best = found
        except Exception:  # noqa: BLE001
            ctx.ignore(obs, "unreadable-resource", f"{label} component could not be read")
    if best is None:
        return None
    key, val, unit, hit, obs, comparator = best
    d = None if key == dt.date.min else key
    # a date written without a day ("2024-06"): its last day, for the cards to show it as
    # written (the latest result is still picked by the first day, as before)
    last = partial_last(d, obs_date(obs, date_last))
    # a result not final (registered / preliminary / unknown) is still the latest result: it
    # may raise a caution but never clear one (LabValue.reaches, state.not_final_reaches)
    return LabValue(value=round(val, 2), unit=unit, date=d, comparator=comparator, date_last=last,
                    sources=[ctx.source(obs, d, f"{label} ({hit})", date_last=last)],
                    status_not_final=not_final_status(obs))


def _lab_code(cods: list[tuple[str, str, str]], codes: frozenset[str]) -> str | None:
    """The code of `codes` an Observation or a component is coded with (its codings), in
    LOINC or no system."""
    for s, c, _ in cods:
        if c in codes and is_loinc(s):
            return c
    return None


def _lab_result(ctx: Ctx, obs: dict[str, Any], unit: dict[str, Any], hit: str, label: str,
                convert) -> _LabResult | None:
    """(date key, value, unit, code, Observation, comparator) of one result: `unit` is the
    Observation itself or its component (whose date is the Observation's); None when there is
    no value, or the value is implausible in its unit (listed as ignored). The comparator
    (FHIR R4 Quantity.comparator, or the sign a valueString writes) is kept with the value:
    "<6.5 %" is a bound, not 6.5."""
    # a number beside a dataAbsentReason is not read either (obs-6: which is wrong cannot be told)
    if "dataAbsentReason" in unit and ctx.ignore_data_absent(obs, unit, f"{label} ({hit})", obs_date(obs)):
        return None
    q = unit.get("valueQuantity")
    comparator = None
    if type(q) is dict:
        # quantity(q), inlined for a plain dict
        v = q.get("value")
        tv = type(v)
        if tv is float or tv is int:
            val = float(v) if v == v and abs(v) != _INF else None
        else:
            val = number(v)
        qunit = q.get("unit")
        if not isinstance(qunit, str) or not qunit:
            code = q.get("code")
            qunit = code if isinstance(code, str) else None
        comparator = q.get("comparator")
    else:
        val, qunit, comparator = quantity(q)
    if val is None:
        comparator = None  # a comparator without a value bounds nothing
    elif comparator is not None and comparator not in _COMPARATORS:
        # not one of R4's four: what the number bounds cannot be told (no guess)
        ctx.ignore(obs, "unreadable-resource", f"{label} comparator {str(comparator)[:10]!r} is not a FHIR R4 "
                                               "comparator (<, <=, >=, >): not read")
        return None
    if val is None:
        # valueInteger (FHIR R4 Observation.value[x]): a number in the test's usual unit
        val = number(unit.get("valueInteger"))
    if val is None and isinstance(unit.get("valueString"), str):
        m = _VALUE_STRING.match(unit["valueString"])
        if m:
            val = float(m.group(2))
            comparator = _SIGN_WRITTEN.get(m.group(1), m.group(1))
            if not qunit and convert is _hba1c_conv:
                # A unit written after a valueString's number is the unit sent ("8.5 %": rt79, not read under
                # 59261-8), under every HbA1c code (rt83: "18 mmol/mol" under 4548-4 was read as 18 %); looked
                # for here, where the text is, not on every result (hp8)
                written = _HBA1C_UNIT_WRITTEN.match(unit["valueString"], m.end())
                if written:
                    qunit = "%" if written.group(1) == "%" else "mmol/mol"
    if val is None:
        return None
    if not qunit and hit in _UNIT_OF_CODE:
        # a result of a code whose unit is fixed, sent without one: in that unit, unless the number
        # is as plausible in the test's usual unit (which one was meant cannot be told: not read).
        qunit, ambiguous_below = _UNIT_OF_CODE[hit]
        if val < ambiguous_below:
            ctx.ignore(obs, "unreadable-resource", f"{label} ({hit}) value {val:g} sent without a unit: as "
                                                   f"plausible in % as in {qunit}, not read")
            return None
    # every converter can refuse an implausible value, so each value is converted (each
    # conversion is increasing, so a bound stays the same kind of bound); the value and unit sent
    # are kept for the message (named apart, not copied: this runs on every result, hp8)
    read, read_unit = convert(val, qunit)
    if read is None:
        ctx.ignore(obs, "unreadable-resource",
                   # (the unit as sent, clipped: it is quoted in the gap hba1c-missing, rt83)
                   f"{label} value {val:g} {printable_clip(str(qunit), 20)} is implausible in its unit: not "
                   "read" if qunit else
                   f"{label} value {val:g} sent without a unit: implausible or ambiguous without one, not read")
        return None
    ed = obs.get("effectiveDateTime")
    d = (_parse_date_str(ed) if type(ed) is str else None) or obs_date(obs)
    return d or dt.date.min, read, read_unit, hit, obs, comparator


# LOINC 59261-8, HbA1c by the IFCC protocol, is reported in mmol/mol (IFCC units; NGSP % = 0.09148 x IFCC
# + 2.152, http://www.ngsp.org/ifcc.asp): a value sent without a unit is in mmol/mol (pf7: "24", 4.3 %, was
# read as 24 %, an uncontrolled diabetes by laboratory values, the capivasertib HbA1c > 8.0 % caution).
# Below 20 mmol/mol (4.0 %) the number is as plausible as an NGSP % sent under the IFCC code: not read.
_UNIT_OF_CODE = {"59261-8": ("mmol/mol", 20.0)}
# an HbA1c unit as written: NGSP % or IFCC mmol/mol (one group; read after a valueString's number and in a
# screening's words, _SCREEN_HBA1C)
_HBA1C_UNIT = r"(%|mmol\s*/\s*mol\b)"
# an HbA1c unit written after a valueString's number ("8.5 %", "55 mmol/mol", "7.2% (55 mmol/mol)": the first)
_HBA1C_UNIT_WRITTEN = re.compile(r"\s*" + _HBA1C_UNIT, re.I)

# From this to 25 an HbA1c sent without a unit is as plausible in IFCC mmol/mol (20-25 mmol/mol =
# 4.0-4.4 %, a normal result: NGSP % = 0.09148 x IFCC + 2.152, http://www.ngsp.org/ifcc.asp) as in
# NGSP % (an extreme 20-25 %): a unitless 4548-4 of 22 was read as 22 %, an uncontrolled diabetes and the
# capivasertib HbA1c > 8.0 % caution for what may be a normal result: not read, the gap names it
_HBA1C_UNITLESS_AMBIGUOUS_FROM = 20.0

# Below this an HbA1c is not read as %: no living patient has an HbA1c under 2 %, and such
# values are usually a fraction (0.07 = 7 %) or another unit; which one cannot be told.
_HBA1C_MIN_PERCENT = 2.0


def _hba1c_conv(v: float, unit: str | None) -> tuple[float | None, str]:
    u = (unit or "").lower()
    if "mmol/mol" in u:
        return v / 10.929 + 2.15, "%"
    if v > 25:  # implausible as %, most likely mmol/mol without unit
        return v / 10.929 + 2.15, "%"
    if v >= _HBA1C_UNITLESS_AMBIGUOUS_FROM and "%" not in u:
        return None, "%"  # 20-25 without a unit: as plausible in mmol/mol as in %: not read, no guess
    if v < _HBA1C_MIN_PERCENT:
        return None, "%"  # implausible as %: not read (a gap), no guess
    return v, "%"


# Below this a unitless fasting glucose is not read as mg/dL: < 40 mg/dL is a
# critical hypoglycaemia, while 2-40 is the usual range of mmol/L values
# (7.5 mmol/L = 135 mg/dL, diabetic). Which one the lab meant cannot be told: no guess.
_GLUCOSE_MIN_UNITLESS_MG_DL = 40.0


# Glucose units as labs send them (UCUM codes and their usual spellings). g/L is common in
# France and Belgium (1.26 g/L = 126 mg/dL): read as mg/dL it hid a diabetic value (1.3 "mg/dL").
# Any other unit is not read (an ignored resource), never guessed as mg/dL.
_GLUCOSE_MG_DL_UNITS = frozenset({"mg/dl", "mg/100ml", "mg%"})
_GLUCOSE_G_L_UNITS = frozenset({"g/l"})


def _glucose_conv(v: float, unit: str | None) -> tuple[float | None, str]:
    u = (unit or "").strip().lower()
    if "mmol" in u:
        return v * 18.016, "mg/dL"
    if u in _GLUCOSE_G_L_UNITS:
        return v * 100, "mg/dL"
    if not u:
        if v < _GLUCOSE_MIN_UNITLESS_MG_DL:
            return None, "mg/dL"  # implausible in mg/dL, likely mmol/L without unit
        return v, "mg/dL"
    if u not in _GLUCOSE_MG_DL_UNITS:
        return None, "mg/dL"  # an unknown unit: not read
    return v, "mg/dL"


# A QTc is sent in ms or in seconds (UCUM "s"; "0.47" alone is seconds, no QTc is 0.47 ms).
# Outside this range in ms the value is not a QTc in a known unit (a typo, the QT in
# another unit, a heart rate): not read (an ignored resource), never guessed.
_QTC_SECONDS_UNITS = frozenset({"s", "sec", "secs", "second", "seconds"})
_QTC_MS_UNITS = frozenset({"ms", "msec", "msecs", "millisecond", "milliseconds"})
_QTC_UNITLESS_SECONDS_BELOW = 2.0
_QTC_PLAUSIBLE_MS = (200.0, 800.0)


def _qtc_conv(v: float, unit: str | None) -> tuple[float | None, str]:
    u = (unit or "").strip().lower()
    if u in _QTC_SECONDS_UNITS or (not u and v < _QTC_UNITLESS_SECONDS_BELOW):
        v = v * 1000
    elif u and u not in _QTC_MS_UNITS:
        return None, "ms"  # an unknown unit: not read
    if not _QTC_PLAUSIBLE_MS[0] <= v <= _QTC_PLAUSIBLE_MS[1]:
        return None, "ms"
    return v, "ms"


def build_factors(ctx: Ctx, therapy: TherapyHistory) -> PatientFactors:
    f = PatientFactors()
    pts = [p for p in ctx.of("Patient") if p.get("id") == ctx.patient_id] or ctx.of("Patient")
    birth_latest = None
    if pts:
        p = pts[0]
        g = text_of(p.get("gender")).strip()
        invalid = None
        if g in ("female", "male", "other", "unknown"):
            f.sex = g  # type: ignore[assignment]
        elif p.get("gender") not in (None, ""):
            # not a FHIR R4 AdministrativeGender code (required binding: male | female | other | unknown),
            # e.g. the HL7 v2 "M" / "F": not read (no guess), but said; a sex extension may still give it
            v2 = _V2_ADMINISTRATIVE_SEX.get(str(p.get("gender")).strip().upper())
            invalid = (f"{printable_clip(str(p.get('gender')), 20)!r} ("
                       + (f"the HL7 v2 Administrative Sex code for {v2}, " if v2 else "") + "not a FHIR AdministrativeGender code)")
        _sex_recorded_elsewhere(ctx, f, p, invalid)
        if invalid and not ctx.has_gap("sex-unclear"):
            ctx.gap("sex-unclear", f"Patient.gender is {invalid}: not read, the sex is unknown. Confirm the sex "
                    "for clinical use.", [ctx.source(p, None, "Patient.gender")])
        f.birth_date = parse_date(p.get("birthDate"))
        _deceased(ctx, f, p)
        if f.birth_date:
            # a deceased patient's age is the age at death, never counted on past it
            # (_deceased keeps only a death date between birth and as_of)
            birth_latest = _latest_birth_date(p.get("birthDate"), f.birth_date)
            # (a death date without a day may begin before the birth date: never a negative age)
            f.age = max(0, _age(birth_latest, f.deceased_date or ctx.as_of))
    else:
        ctx.gap("patient-demographics-missing", "No Patient resource: sex and age are unknown.")

    _menopause(ctx, f, therapy, birth_latest)
    f.diabetes = _diabetes(ctx, therapy)
    f.lung = _lung(ctx)
    _ecog(ctx, f)
    f.qtc_ms = _latest_lab(ctx, T.QTC_CODES, "QTc", _qtc_conv)
    f.long_qt = _long_qt(ctx)
    f.prolonged_qt = _prolonged_qt(ctx, f.qtc_ms)
    return f


# HL7 v2 Table 0001 Administrative Sex (F female, M male), which some FHIR facades pass through
# as Patient.gender: named in the gap sex-unclear, not read (FHIR R4 Patient.gender binds to
# AdministrativeGender, required: male | female | other | unknown; the value is invalid FHIR)
_V2_ADMINISTRATIVE_SEX = {"F": "female", "M": "male"}


def _sex_recorded_elsewhere(ctx: Ctx, f: PatientFactors, p: dict[str, Any], invalid: str | None = None) -> None:
    """A sex recorded in a Patient extension (codes.yaml patient_sex: US Core birth sex, US
    Core sex, sex parameter for clinical use).

    One that differs from a Patient.gender female / male: the gap sex-unclear names both, and
    Patient.gender stays the sex read (FHIR R4: the administrative gender, which decision support
    commonly defaults to), as no source here says which one the labels and ovarian suppression
    follow: a woman recorded male at birth, or a man recorded female at birth (who may have
    ovaries), is for the clinician to confirm (CR C.3 rows 15-16).

    Patient.gender "other" or "unknown" gives no sex to default to (FHIR R4 AdministrativeGender;
    Patient.gender: decision support "should ideally" use the record of the specific sex): when
    every current extension gives the same sex, that sex is read (f.sex_basis names it), so a man
    gets the rules for men (CR A.3 men, C.3 row 16: an LHRH agonist with an AI) and not the
    menopausal caution, and the gap sex-unclear says which sex the cards used and asks to confirm
    it. Extensions that differ among themselves settle nothing: Patient.gender stays. `invalid`:
    a Patient.gender that is no AdministrativeGender code, as the messages quote it (read as unknown;
    an extension does not replace it: "F" beside a birth sex M may be a woman recorded male at birth)."""
    exts = p.get("extension")
    if type(exts) is not list:
        return
    recorded: list[tuple[str, str]] = []  # (extension name, sex)
    for ext in exts:
        known = T.PATIENT_SEX_EXTENSIONS.get(ext.get("url")) if type(ext) is dict else None
        if known is None:
            continue
        name, codes, sub = known
        if sub and _sex_parameter_ended(ext, ctx.as_of):
            continue
        if sub:  # a complex extension: the value is in its sub-extension
            found = [codes.get(c) for e in as_list(ext.get("extension")) if type(e) is dict and e.get("url") == sub
                     for _, c, _ in codings(e.get("valueCodeableConcept"))]
        else:
            # valueCode (US Core birth sex; us-core-sex 6.1/7) or valueCoding (us-core-sex 8)
            coding = ext.get("valueCoding")
            code = ext.get("valueCode") or (coding.get("code") if type(coding) is dict else None)
            found = [codes.get(code.strip())] if isinstance(code, str) else []
        recorded += [(name, sex) for sex in found if sex]
    gender = f.sex
    shown = invalid or f"{gender} (administrative gender)"
    sexes = {sex for _, sex in recorded}
    named = ", ".join(dict.fromkeys(f"{name} {sex}" for name, sex in recorded if sex != gender))
    if not named:
        return
    source = [ctx.source(p, None, "Patient gender and recorded sex")]
    if gender in ("other", "unknown") and len(sexes) == 1 and invalid is None:
        f.sex = sexes.pop()  # type: ignore[assignment]
        f.sex_basis = named
        rules = ("the rules for men (an LHRH agonist with an aromatase inhibitor, C.3 row 16; no menopausal "
                 "status)" if f.sex == "male" else "the rules for women (menopausal status, ovarian suppression, "
                 "C.3 row 15)")
        ctx.gap("sex-unclear",
                f"Patient.gender is {gender} (administrative gender, no sex) and the record gives {named}: the "
                f"cards read the sex as {f.sex} and apply {rules}. Confirm the sex for clinical use.", source)
        return
    v2 = _V2_ADMINISTRATIVE_SEX.get(str(p.get("gender")).strip().upper()) if invalid else None
    if v2 is not None and sexes == {v2}:
        # the v2 code and every sex recorded agree: said as agreeing, still not read (no source
        # here reads an invalid Patient.gender; the record's own gender is to be corrected)
        ctx.gap("sex-unclear",
                f"Patient.gender is {shown} and the record gives {named}, which agree; Patient.gender is "
                f"not read (FHIR R4 binds it to AdministrativeGender, required: male | female | other | "
                f"unknown), so the cards read the sex as unknown. Confirm the sex for clinical use "
                f"(both say {v2}).", source)
        return
    ctx.gap("sex-unclear",
            f"Patient.gender is {shown} but the record gives "
            f"{named}: whether the labels for women or for men, ovarian "
            "suppression or the LHRH agonist for men apply is not settled by the record; the cards "
            f"follow Patient.gender ({gender}). Confirm the sex for clinical use.", source)


def _sex_parameter_ended(ext: dict[str, Any], as_of: dt.date) -> bool:
    """A sex parameter for clinical use whose sub-extension `period` ended before as_of (FHIR
    Extensions Pack patient-sexParameterForClinicalUse: value, period "the time period during
    which the sex parameter for clinical use applies", comment, supportingInfo) no longer
    applies. An end written without a day ("2024-06") is read at its last day: only an end
    wholly before as_of has ended."""
    for e in as_list(ext.get("extension")):
        if type(e) is dict and e.get("url") == "period" and isinstance(e.get("valuePeriod"), dict):
            end = date_last(e["valuePeriod"].get("end"))
            if end is not None and end < as_of:
                return True
    return False


def _deceased(ctx: Ctx, f: PatientFactors, p: dict[str, Any]) -> None:
    """Patient.deceased[x]: deceasedBoolean true, or any deceasedDateTime (FHIR R4: the
    element is present only for a patient recorded as dead), whatever its value.
    deceasedBoolean false = alive. A deceased patient gets no treatment advice.

    The death date is kept (and the age counted to it) only when it reads as a date between
    the birth date and as_of; an unreadable or implausible one is dropped and named in the
    gap `deceased-date-unreadable` (the age is then counted to as_of, not "at death")."""
    when = p.get("deceasedDateTime")
    if when is not None:
        f.deceased = True
        d = parse_date(when) if isinstance(when, str) else None
        # a date without a day ("2024-06"): any day of it; implausible only when every day is
        # (after as_of from its first day, before the birth from its last), as written
        last = partial_last(d, date_last(when))
        if d is None:
            shown = when if isinstance(when, str) else json.dumps(when, default=str)
            problem = f"cannot be read as a date ({shown[:40]!r})"
        elif d > ctx.as_of:
            problem = f"({date_written(d, last)}) is after the as-of date {ctx.as_of.isoformat()}"
        elif f.birth_date is not None and (last or d) < f.birth_date:
            problem = f"({date_written(d, last)}) is before the birth date {f.birth_date.isoformat()}"
        else:
            problem = ""
            f.deceased_date = d
            f.deceased_date_last = last
        if problem:
            ctx.gap("deceased-date-unreadable",
                    f"The patient is recorded as deceased, but the date of death {problem}: it is not "
                    "used, and the age shown is counted to the as-of date, not to the death.",
                    [ctx.source(p, None, "Patient.deceasedDateTime")])
    elif p.get("deceasedBoolean") is True:
        f.deceased = True
    if f.deceased:
        when = f" ({date_written(f.deceased_date, f.deceased_date_last)})" if f.deceased_date else ""
        f.deceased_sources = [ctx.source(p, f.deceased_date, "Patient recorded as deceased" + when,
                                         date_last=f.deceased_date_last)]


# --- menopause -----------------------------------------------------------------------


def _meno_value(obs: dict[str, Any]) -> tuple[str | None, str | None]:
    """(status, why it is unclear) of a menopausal-status answer: a coded answer, else its
    text (_meno_text)."""
    vcc = obs.get("valueCodeableConcept")
    for system, code, _ in codings(vcc):
        s = T.MENO_ANSWERS.get(code) if is_snomed(system) else None
        s = s or T.local_lookup(T.MENO_LOCAL_CODES, system, code)
        if s:
            return str(s), None
    return _meno_text(cc_text(vcc) + " " + text_of(obs.get("valueString")))


@lru_cache(maxsize=4096)
def _meno_text(text: str) -> tuple[str | None, str | None]:
    """(status, why it is unclear) a text states: the first status mentioned (negated mentions
    never match, T.MENO_TEXT), and the text as written (trimmed) when the status is written as
    a guess or a question ("? postmenopausal", "postmenopausal - to be confirmed") or, for a
    postmenopausal state, as brought on by chemotherapy (local_codes.yaml menopause unclear:
    CR A.3 derive defensively, CR C.1 ABC4 adequate OFS)."""
    for rx, status in T.MENO_TEXT:
        m = rx.search(text)
        if m:
            if (T.MENO_HEDGE_BEFORE.search(text[:m.start()]) or T.MENO_HEDGE_AFTER.search(text[m.end():])
                    or (status == "postmenopausal" and T.MENO_CHEMOTHERAPY.search(text))):
                return status, " ".join(text.split())[:80]
            return status, None
    return None, None


def _postmenopausal_held(status: str, unclear: str | None, obs: dict[str, Any],
                         d: dt.date | None) -> tuple[str, str] | None:
    """(why, source label) when a postmenopausal answer is not counted, else None. A
    premenopausal / perimenopausal one may raise the ovarian-suppression caution (the safe
    direction); a postmenopausal one would clear it, so it is not read, and named, when it is
    written as a guess, a question or a chemotherapy-induced state (_meno_text), or is not
    final (FHIR R4 ObservationStatus registered / preliminary / unknown)."""
    if status != "postmenopausal":
        return None
    when = d.isoformat() + ", " if d else ""
    if unclear:
        return (f'"{unclear}" ({when}not a stated postmenopausal status): confirm the menopausal status',
                f'Menopausal status written "{unclear}"')
    pending = not_final_status(obs)
    if pending:
        return (f"postmenopausal ({when}status {pending}): not final, the final result decides",
                f"Menopausal status: {status} (status {pending})")
    return None


def _menopause(ctx: Ctx, f: PatientFactors, therapy: TherapyHistory, birth_latest: dt.date | None) -> None:
    # bilateral oophorectomy (Procedure / Condition)
    ooph: list[tuple[dt.date | None, Source]] = []
    ablation: list[Source] = []  # ovarian ablation by radiotherapy: suppression only
    not_done: list[str] = []  # evidence not counted (an oophorectomy not done ...), named in the gap
    for res in ctx.of("Procedure"):
        try:
            status = status_code(res.get("status")) or ""
            if status in ("not-done", "entered-in-error", "preparation", "stopped"):
                continue
            con = concept(res.get("code"))
            if _oophorectomy_concept(con):
                what, words, shown = "bilateral oophorectomy", _OOPH_TEXT, "Bilateral oophorectomy"
            elif _ovarian_ablation_text(con.text):
                # ovarian ablation by radiotherapy: adequate ovarian suppression (CR C.1 ABC4),
                # no menopausal status (CR A.3 names the oophorectomy only)
                what, words, shown = "ovarian ablation", T.OVARIAN_ABLATION_TEXT, "Ovarian ablation by radiotherapy"
            else:
                continue
            d, _ = period(res, "performed")
            why = _ovarian_procedure_not_done(what, status, d, ctx.as_of) or _written_not_done(con, what, words)
            if why:
                not_done.append(why)
                continue
            src = ctx.source(res, d, shown, date_last=partial_last(d, period(res, "performed", date_last)[0]))
            if what == "bilateral oophorectomy":
                ooph.append((d, src))
            else:
                ablation.append(src)
        except Exception:  # noqa: BLE001
            continue
    for res in ctx.of("Condition"):
        try:
            codes = {T.norm_icd(c) for s, c, _ in ctx.code_of(res) if c and is_icd10(s)}
            if codes & T.OOPHORECTOMY_ICD:
                d = condition_onset(res)
                ooph.append((d, ctx.source(res, d, "Acquired absence of both ovaries", date_last=condition_onset_last(res, d))))
        except Exception:  # noqa: BLE001
            continue

    # explicit observation (latest)
    latest = _LatestStatus()
    meno_not_counted: list[tuple[str, Source]] = []
    for obs in ctx.obs_groups()[0]:  # a measurement (valueQuantity) is never a menopausal status
        try:
            con = ctx.concept_of(obs)
            is_q = con.memo.get("meno_q")
            if is_q is None:
                # the code asks for the menopausal status (per concept)
                is_q = con.memo["meno_q"] = any(
                    (c in T.MENO_QUESTION_CODES and is_snomed(s))
                    or (c.lower() in T.MENO_LOCAL_QUESTION_ANY and T.local_lookup(T.MENO_LOCAL_QUESTION, s, c))
                    for s, c, _ in con.codings
                ) or _meno_question_text(con.text)
            if not is_q:
                continue
            st, unclear = _meno_value(obs)
            if st is None or st == "unknown":
                continue
            d = obs_date(obs)
            held = _postmenopausal_held(st, unclear, obs, d)
            if held:
                why, label = held
                meno_not_counted.append((why, ctx.source(obs, d, label)))
                continue
            latest.offer(d, st, lambda: ctx.source(obs, d, f"Menopausal status: {st}",
                                                   date_last=partial_last(d, obs_date(obs, date_last))))
        except Exception:  # noqa: BLE001
            continue

    # problem-list Conditions stating the menopausal state count as explicit documentation,
    # while current (a resolved/inactive state is the past, as for _diabetes)
    for res in ctx.of("Condition"):
        try:
            if clinical_status_inactive(res):
                continue
            st = None
            for system, code, _ in ctx.code_of(res):
                if is_snomed(system) and code in T.MENO_ANSWERS:
                    st = T.MENO_ANSWERS[code]
                elif is_icd10(system) and T.norm_icd(code) in T.MENO_CONDITIONS_ICD:
                    st = T.MENO_CONDITIONS_ICD[T.norm_icd(code)]
                if st:
                    break
            unclear = None
            if st is None:
                text = ctx.code_text(res)
                if _meno_state_text(text):
                    st, unclear = _meno_text(text)
            if st is None or st == "unknown":
                continue
            d = condition_onset(res)
            if unclear and st == "postmenopausal":
                # "? Postmenopausal" on the problem list: as for an Observation (_meno_text)
                meno_not_counted.append((f'"{unclear}" ({d.isoformat() + ", " if d else ""}not a stated '
                                         "postmenopausal status): confirm the menopausal status",
                                         ctx.source(res, d, f'Menopausal status written "{unclear}"')))
                continue
            latest.offer(d, st, lambda: ctx.source(res, d, f"Menopausal status: {st} (problem list)",
                                                   date_last=condition_onset_last(res, d)))
        except Exception:  # noqa: BLE001
            continue

    obs_best, same_day = latest.best, latest.same_day
    ofs_active = [e for e in therapy.exposures if e.active and any(d.drug_class == "ovarian-suppression" for d in e.drugs)]
    ofs_stale = [(e, why) for e in ofs_active for why in (_ofs_record_not_current(ctx, e),) if why]
    if ofs_stale:
        ofs_active = [e for e in ofs_active if all(e is not s for s, _ in ofs_stale)]
        if not ofs_active:
            _ofs_not_current_gap(ctx, ofs_stale, f.sex == "male")
            f.ovarian_suppression_not_current = [why for _, why in ofs_stale]
            f.ovarian_suppression_not_current_sources = [s for e, _ in ofs_stale for s in e.sources]
    if ooph:
        f.ovarian_suppression = True
        f.ovarian_suppression_sources = [s for _, s in ooph]
    elif ablation or ofs_active:
        f.ovarian_suppression = True
        f.ovarian_suppression_sources = ablation + [s for e in ofs_active for s in e.sources]

    ofs_words_read = not f.ovarian_suppression and f.sex != "male" and obs_best is not None and len(same_day) <= 1
    if ofs_words_read and obs_best[1] in ("premenopausal", "perimenopausal"):  # type: ignore[index]
        _ofs_in_text_only(ctx, f, obs_best[2])  # type: ignore[index]
    elif ofs_words_read and obs_best[1] == "postmenopausal":  # type: ignore[index]
        # "Postmenopausal on goserelin" with no current record of it: a state brought on by
        # ovarian suppression not shown to go on, as "postmenopausal due to chemotherapy" is
        # (local_codes.yaml menopause unclear; CR C.1 ABC4, A.3 derive defensively): not counted,
        # named in the gap menopausal-status-unknown (an oophorectomy or the age rule may still decide)
        quoted = _ofs_written(ctx, obs_best[2])  # type: ignore[index]
        if quoted is not None:
            meno_not_counted.append((f'"{quoted}" (postmenopausal by ovarian suppression, no current GnRH-agonist '
                                     "record): confirm the menopausal status", obs_best[2]))  # type: ignore[index]
            obs_best = None
    if f.sex == "male":
        f.menopausal_basis = "male"
        return
    if len(same_day) > 1:
        # conflicting statuses on the latest date: none is read (DESIGN.md: ambiguous data is
        # said, never guessed); oophorectomy, GnRH agonist or the age rule may still decide
        when = "undated" if obs_best[0] == dt.date.min else f"on {obs_best[0].isoformat()}"  # type: ignore[index]
        not_done.append(f"conflicting statuses documented {when} ({', '.join(sorted(same_day))})")
        obs_best = None
    if obs_best is not None:
        d, st, src = obs_best
        superseded = st in ("premenopausal", "perimenopausal") and (any(
            od and (d == dt.date.min or od >= d) for od, _ in ooph  # same day: pre-operative
        ) or _before_age_rule(f.age, birth_latest, d))
        if not superseded:
            f.menopausal_status = st  # type: ignore[assignment]
            f.menopausal_basis = "observation"
            f.menopausal_sources = [src]
            return
    if ooph:
        f.menopausal_status = "postmenopausal"
        f.menopausal_basis = "oophorectomy"
        f.menopausal_sources = [s for _, s in ooph]
        return
    if ofs_active:
        f.menopausal_status = "postmenopausal"
        f.menopausal_basis = "gnrh-agonist"
        f.menopausal_sources = [s for e in ofs_active for s in e.sources]
        return
    if f.age is not None and f.age >= AGE_RULE_POSTMENOPAUSAL:
        f.menopausal_status = "postmenopausal"
        f.menopausal_basis = "age-rule"
        pts = ctx.of("Patient")
        if pts:
            f.menopausal_sources = [ctx.source(pts[0], f.birth_date, f"Age {f.age} (>= {AGE_RULE_POSTMENOPAUSAL})")]
        return
    if f.sex in ("female", "unknown", "other"):
        not_counted = list(not_done) + [w for w, _ in meno_not_counted]
        ctx.gap("menopausal-status-unknown",
                ("Menopausal status is not documented (no observation or oophorectomy; ovarian ablation by "
                 "radiotherapy suppresses ovarian function but states no menopausal status; age < 60 or unknown)"
                 if ablation else
                 "Menopausal status is not documented (no observation, oophorectomy or ovarian suppression; age < 60 or unknown)")
                + (f"; not counted: {'; '.join(not_counted)}" if not_counted else "") + ".",
                (list(same_day.values()) if len(same_day) > 1 else []) + [src for _, src in meno_not_counted] or None)


# A GnRH agonist depot lasts 28 days (goserelin 3.6 mg) or 12 weeks (10.8 mg) (DailyMed Zoladex
# 3.6 mg / 10.8 mg labels: one implant every 28 days / every 12 weeks); leuprolide and
# triptorelin depots are given on the same 1- or 3-monthly schedules. An order or a statement
# dated longer ago than the 3-monthly depot plus a margin, and nothing since, says no dose is
# still working: the window is the one an administration of ovarian suppression is read as
# current for (therapy.ADMIN_ACTIVE_DAYS_OFS, 12 weeks + 11 days).
OFS_ORDER_CURRENT_DAYS = ADMIN_ACTIVE_DAYS_OFS
# A longer depot lasts longer (leuprolide 30 mg 4-month, 45 mg 6-month; triptorelin 22.5 mg
# 24-week): the dose or the product's length wording an order / a statement gives lengthens the
# window to that depot plus the same margin (mappings/ofs_depots.yaml, DailyMed labels); a
# shorter one never shortens it, and without a dose the gap says the depot length was not read
# (mappings/depots.py; an administration given is read the same way, therapy.read_exposures).
# The records whose "active" status is only a claim that the drug is taken or ordered: an
# administration is a dose given (read as current for ADMIN_ACTIVE_DAYS_OFS, therapy.py)
_OFS_CLAIMS = {"MedicationRequest/": "order", "MedicationStatement/": "statement"}
# an administration is the dose itself: still given ("in-progress") or dated, it is current only
# within the same window from its date (therapy.py reads an in-progress one as active whatever its date)
_OFS_RECORDS = {**_OFS_CLAIMS, "MedicationAdministration/": "administration"}


def _ofs_record_not_current(ctx: Ctx, e: Exposure) -> str | None:
    """How an ovarian-suppression MedicationRequest or MedicationStatement still "active" is
    named when it is the only evidence of its dose and does not show a dose within
    OFS_ORDER_CURRENT_DAYS of as_of ("goserelin order MedicationRequest/x dated 2021-03-01"), else
    None. Open-ended (no end in its dosage bounds / effective period) and dated (authoredOn,
    effective start, or for a statement its dateAsserted, when the statement was made: FHIR R4
    MedicationStatement.dateAsserted, the later of the two) more than OFS_ORDER_CURRENT_DAYS
    before as_of, or not dated at all (an undated record cannot show a recent dose). Not ongoing
    suppression (CR A.3 / C.3 row 15: premenopausal + AI / CDK4/6i needs ongoing OFS): its status
    says the order or the statement stands, not that a depot was given since. One that starts
    after as_of ("dated 2024-07-01, after the as-of date") suppresses nothing yet; an
    administration still "in-progress" is read by its date as any dose is."""
    if not e.sources:
        return None
    kinds = {kind for s in e.sources for prefix, kind in _OFS_RECORDS.items() if s.reference.startswith(prefix)}
    if len(kinds) != 1 or not all(s.reference.startswith(tuple(_OFS_RECORDS)) for s in e.sources):
        return None
    kind = kinds.pop()
    if kind != "administration" and e.end is not None:
        return None  # an order / a statement whose period runs to as_of or past it
    asserted = None
    if kind == "statement":
        dates = [parse_date(r.get("dateAsserted")) for s in e.sources for r in (ctx.resolve({"reference": s.reference}),) if r]
        asserted = max((d for d in dates if d is not None), default=None)
    latest = max((d for d in (e.start, asserted) if d is not None), default=None)
    future = e.start is not None and e.start > ctx.as_of
    depot = _ofs_depot_weeks(ctx, e)
    window = window_days(OFS_ORDER_CURRENT_DAYS, depot)
    if latest is not None and not future and (ctx.as_of - latest).days <= window:
        return None
    drug = "/".join(d.name for d in e.drugs)
    if latest is None:
        return f"{drug} {kind} {e.sources[0].reference}, undated"
    when = f"dated {date_written(e.start, e.start_last)}" if e.start is not None else "undated"
    if future:
        when += ", after the as-of date"
    elif asserted is not None and asserted != e.start:
        when += f", asserted {asserted.isoformat()}"
    if depot:
        when += f", {depot[1]}: a {depot[0]}-week depot"
    return f"{drug} {kind} {e.sources[0].reference} {when}"


def _ofs_depot_weeks(ctx: Ctx, e: Exposure) -> tuple[int, str] | None:
    """How many weeks one depot of the order / statement lasts, and what said so (mappings.depots);
    the shortest of its records'."""
    names = {d.name for d in e.drugs if d.drug_class == "ovarian-suppression"}
    found = [w for s in e.sources for r in (ctx.resolve({"reference": s.reference}),) if r
             for w in (depot_weeks(r, names, lambda ref, r=r: ctx.resolve(ref, r)),) if w]
    return min(found) if found else None


def _ofs_not_current_gap(ctx: Ctx, stale: list[tuple[Exposure, str]], male: bool) -> None:
    # for a man the agonist goes with an aromatase inhibitor (C.3 row 16; B.10 Ibrance: men on
    # an AI, consider an LHRH agonist), for anyone else it is ovarian suppression (C.3 row 15)
    named = "; ".join(why for _, why in stale)
    kinds = {kind for e, _ in stale for prefix, kind in _OFS_RECORDS.items() if e.sources[0].reference.startswith(prefix)}
    record = next(iter(kinds)) if len(kinds) == 1 else "record"
    undated = any(why.endswith(", undated") for _, why in stale)
    what, counted, why = (("An LHRH agonist", "an ongoing LHRH agonist",
                           "C.3 row 16: for men on an aromatase inhibitor an LHRH agonist is considered") if male else
                          ("An ovarian-suppression", "ongoing ovarian suppression",
                           "C.3 row 15: premenopausal patients need ongoing OFS"))
    ctx.gap("ovarian-suppression-not-current",
            f"{what} {record} is still active but no dose is recorded since ({named}): a depot lasts "
            f"28 days (goserelin 3.6 mg) or 12 weeks (10.8 mg)"
            + ("" if all(_ofs_depot_weeks(ctx, e) for e, _ in stale) else
               " (the depot length was not read from the record: no depot dose or length it knows is written; a "
               "4- or 6-month depot, leuprolide 30 / 45 mg or triptorelin 22.5 mg, lasts longer)")
            + (", and an undated record cannot show a recent dose" if undated else "")
            + f", so it is not counted as {counted}. Confirm the last injection ({why}).",
            [s for e, _ in stale for s in e.sources])


# Ovarian suppression named in words ("on OFS", "ovarian function suppression", "GnRH / LHRH
# agonist", a GnRH-agonist name or brand of drugs.yaml): the vocabulary of CR C.3 row 15 / A.3
_OFS_WORDS = re.compile(
    r"\b(?:ofs|ovarian(?: function)? suppression|(?:gnrh|lhrh)[- ]?(?:agonist|analogue|analog)s?|"
    + "|".join(sorted((re.escape(n) for d in T.DRUGS.values() if d.drug_class == "ovarian-suppression"
                       for n in (d.name, *d.names)), key=len, reverse=True)) + r")\b", re.I)
# said not to be given, only weighed, or given in the past: "no OFS", "not on goserelin",
# "without", "off", "declined", "stopped", "planned", "discuss / consider OFS", "OFS?",
# "previously on goserelin", "goserelin completed 2019"; and (fix-rt17) not needed or not yet
# given: "OFS not indicated / not needed", "GnRH agonist contraindicated", "OFS deferred",
# "OFS if needed", "OFS would be required", "to start OFS", "since stopping goserelin" (the
# card must not name as given what the words say is not: CR A.3 derive defensively)
_OFS_WORDS_NEGATED_BEFORE = re.compile(
    r"\b(?:no|not|without|off|never|no longer|declined|refused|stopped|stopping|discontinu\w*|ceased|discuss\w*"
    r"|consider\w*|recommend\w*|offer\w*|plan\w*|candidate|eligible|needs?|requir\w*|for|if|to (?:start|begin|initiate)"
    r"|will|would|previous\w*|prior|former\w*|had|was|history of|h/o|past|completed|finished)\b[^.;,|]{0,20}$", re.I)
_OFS_WORDS_NEGATED_AFTER = re.compile(
    r"^(?:\s*\?|[^.;,|]{0,20}\b(?:stopped|discontinued|ceased|declined|refused|held|on hold|deferred|postponed"
    r"|not (?:yet )?(?:given|started|tolerated|needed|indicated|required|recommended|appropriate|wanted)"
    r"|contraindicated|ineligible|unsuitable|if (?:needed|required|indicated)|would|will"
    r"|planned|to (?:start|be started|begin)|recommended|discussed|considered|completed|finished|ended|until)\b)", re.I)


def _ofs_written(ctx: Ctx, status_source: Source) -> str | None:
    """The words of a menopausal-status record (its answer's text, valueString, notes), trimmed,
    when they name ovarian suppression given (not negated or only weighed), else None."""
    res = ctx.resolve({"reference": status_source.reference})
    if not res:
        return None
    value = res.get("valueCodeableConcept")
    written = " | ".join(t for t in (cc_as_written(value), res.get("valueString") if type(res.get("valueString")) is str else "",
                                     notes_text(res)) if t)
    for m in _OFS_WORDS.finditer(written):
        if not (_OFS_WORDS_NEGATED_BEFORE.search(written[:m.start()]) or _OFS_WORDS_NEGATED_AFTER.search(written[m.end():])):
            return printable_clip(" ".join(written.split()), 80)
    return None


def _ofs_in_text_only(ctx: Ctx, f: PatientFactors, status_source: Source) -> None:
    """A premenopausal / perimenopausal status whose own words say she has ovarian suppression
    ("Premenopausal on goserelin", "premenopausal, on OFS") while no GnRH-agonist record,
    oophorectomy or ablation shows it: the text is no therapy record (a drug, its dates and
    doses are read from MedicationRequest / Statement / Administration, FHIR R4), so it is not
    counted, but the card must not say "needs ovarian suppression" silently beside words that
    say she has it: the gap ovarian-suppression-text-only names it for the clinician to confirm
    (CR A.3 derive defensively; C.3 row 15: premenopausal patients need ongoing OFS)."""
    quoted = _ofs_written(ctx, status_source)
    if quoted is None:
        return
    why = f'menopausal status {status_source.reference} writes "{quoted}": ovarian suppression named in the text only'
    ctx.gap("ovarian-suppression-text-only",
            f'The menopausal status record {status_source.reference} writes "{quoted}", naming ovarian suppression, '
            "but no GnRH-agonist order, statement or administration, oophorectomy or ovarian ablation is "
            "recorded: not counted as ongoing ovarian suppression. Confirm it and record the therapy "
            "(C.3 row 15: premenopausal patients need ongoing OFS).", [status_source])
    f.ovarian_suppression_not_current = [*f.ovarian_suppression_not_current, why]
    f.ovarian_suppression_not_current_sources = [*f.ovarian_suppression_not_current_sources, status_source]


class _LatestStatus:
    """The latest documented menopausal status, and every status documented on that date:
    two that differ on one day cannot be ranked (which came last is the order of the
    resources in the request, not the record)."""

    __slots__ = ("best", "same_day")

    def __init__(self) -> None:
        self.best: tuple[dt.date, str, Source] | None = None
        self.same_day: dict[str, Source] = {}

    def offer(self, d: dt.date | None, status: str, source: Callable[[], Source]) -> None:
        """A status documented on d (None: undated, older than any dated one); its Source is
        built only when it is the latest so far."""
        key = d or dt.date.min
        if self.best is not None and key < self.best[0]:
            return
        if self.best is None or key > self.best[0]:
            self.same_day = {}
        self.best = (key, status, source())
        self.same_day.setdefault(status, self.best[2])


def _ovarian_procedure_not_done(what: str, status: str, performed: dt.date | None, as_of: dt.date) -> str | None:
    """Why a Procedure on the ovaries (`what`: a bilateral oophorectomy, an ovarian ablation)
    does not say it was done, else None.
    FHIR R4 Procedure.status (EventStatus): "completed" is the procedure done; "in-progress"
    is still occurring, "on-hold" temporarily stopped (expected to resume) and "unknown" not
    known: none of them says the ovaries were removed (CR A.3: derive defensively). A date
    after the as-of date is not yet done whatever the status says."""
    if status in ("in-progress", "on-hold", "unknown"):
        return f"{what} with status '{status}'"
    if performed is not None and performed > as_of:
        return f"{what} dated {performed.isoformat()}, after the as-of date"
    return None


def _before_age_rule(age: int | None, birth_latest: dt.date | None, observed: dt.date) -> bool:
    """A pre/perimenopausal observation made before the patient turned 60, while she is 60
    or older now: the age >= 60 criterion (CR A.3, INAVO121) defines her postmenopausal
    since, as a later bilateral oophorectomy does. An undated one cannot be placed: it is
    kept (explicit observation first). Ages are the youngest a partial birth date allows
    (counted from the last day it can mean), as for the age rule itself."""
    if age is None or age < AGE_RULE_POSTMENOPAUSAL or birth_latest is None or observed == dt.date.min:
        return False
    return _age(birth_latest, observed) < AGE_RULE_POSTMENOPAUSAL


def _written_not_done(con: Concept, what: str, words: re.Pattern[str]) -> str | None:
    """The words of a Procedure's text that say the procedure `words` names (a bilateral
    oophorectomy, an ovarian ablation) was not done or not yet ("No bilateral oophorectomy",
    "BSO declined", "Ovarian ablation by RT - planned": local_codes.yaml menopause
    oophorectomy_not_done), quoted; None when every mention is a procedure done. Memoised per
    distinct concept."""
    key = f"not_done {what}"
    found = con.memo.get(key, _UNSET)
    if found is _UNSET:
        found = None
        for part in con.text.split(" | "):  # the text and each display, read on their own
            for m in words.finditer(part):
                if T.OOPH_NOT_DONE_BEFORE.search(part[:m.start()]) or T.OOPH_NOT_DONE_AFTER.search(part[m.end():]):
                    found = f'{what} written "{" ".join(part.split())[:80]}"'
                    break
            if found:
                break
        con.memo[key] = found
    return found


def _oophorectomy_concept(con: Concept) -> bool:
    """A Procedure code (its Concept) naming a bilateral oophorectomy (SNOMED code or text),
    memoised per distinct concept."""
    found = con.memo.get("ooph")
    if found is None:
        found = con.memo["ooph"] = (
            any(c in T.OOPHORECTOMY_SNOMED and is_snomed(s) for s, c, _ in con.codings) or _ooph_text(con.text))
    return found


# --- diabetes -------------------------------------------------------------------------------


# _diabetes_type's answer, as written for a reader
_TYPE_TEXT = {"type1": "type 1", "type2": "type 2", "other": "other specified type", "unspecified": "type not recorded"}
_diabetes_suspected = memo_search(T.DIABETES_SUSPECTED)  # "suspected diabetes" (local_codes.yaml diabetes)
# "diabetes mellitus - resolved", "(refuted)", "history of gestational diabetes" (local_codes.yaml diabetes)
_diabetes_not_current = memo_search(T.DIABETES_NOT_CURRENT)
# "Type 1 diabetes?", "Diabetes unlikely", "Type 1 vs type 2 diabetes" (local_codes.yaml diabetes doubt_patterns)
_diabetes_doubted = memo_search(T.DIABETES_DOUBTED)
# A bracket after a diabetes that names another glucose condition before its "resolved" qualifies its own words:
# "Type 2 diabetes (previously prediabetes, resolved)", "(gestational diabetes 2010, resolved)", "(hypoglycaemia
# resolved)" say the prediabetes, the gestational diabetes, the hypoglycaemia is over, not the type 2 diabetes (pf8: read
# as over, the diabetes asked and not counted). Taken out before the diabetes's not_current_patterns are read; a bracket
# whose "resolved" comes first ("(resolved, was prediabetes)") or names nothing else ("(resolved)") is still read
# (FHIR R4 Condition.clinicalStatus resolved said in words; CR A.4 a diagnosis, C.3 row 14)
_OTHER_GLUCOSE_CONDITION_BRACKET = re.compile(
    r"\((?=(?:(?!resolved|refuted|remission|remitted)[^()|])*?(?:\bpre[-\s]*diabet|\bimpaired (?:fasting|glucose)"
    r"|\bborderline\b|\bi(?:fg|gt)\b|hyperglyc|hypoglyc|(?<!pre-)(?<!pre )\bgestational\b|\bgdm\b"
    # hyperglycaemia in the words pf8 reads as it ("high blood sugar resolved": drugs.yaml glucose_lowering_reasons
    # hyperglycaemia; rt83: "Type 2 diabetes (high blood sugar resolved)" was asked as a diabetes over)
    r"|\b(?:abnormal|elevated|raised|high|increased) (?:blood |serum |plasma |random )?(?:glucose|sugar)))[^()|]*\)")


# Another glucose condition written with its own "resolved" outside a bracket ("T1DM, pre diabetes resolved",
# "Hyperglycaemia resolved - type 1 diabetes", "Prediabetes - resolved (now type 2 diabetes)", "Gestational diabetes
# resolved - now T2DM"): its end, not the diabetes's (rt83: asked, not counted, the type 1 stop lost; CR C.3 row 14).
# Not one negated ("prediabetes not resolved"), nor across a diabetes named between them
_OTHER_GLUCOSE_CONDITION_RESOLVED = re.compile(
    r"(?:\bpre[-\s]*diabet\w*|\bimpaired (?:fasting|glucose)|\bborderline (?:diabet\w*|dm\b)|\bi(?:fg|gt)\b|hyperglyc"
    r"|hypoglyc|(?<!pre-)(?<!pre )\bgestational\s+diabet\w*(?:\s+mellitus)?|\bgdm\b"
    r"|\b(?:abnormal|elevated|raised|high|increased) (?:blood |serum |plasma |random )?(?:glucose|sugars?)\b)"
    r"(?:(?!\b(?:not|never|no longer)\b|n't\b|\bdiabet|\bt[12] ?dm\b|\bdm\b|\btype ?(?:[12]|ii?)\b|\bn?iddm\b)[^.;|,()]){0,40}?"
    r"\b(?:resolved|refuted|in remission|remitted)\b")


@lru_cache(maxsize=4096)
def _diabetes_over_in_words(text: str) -> bool:
    """The words say the diabetes is over, refuted or gestational (local_codes.yaml diabetes not_current_patterns),
    a bracket naming another glucose condition's end (_OTHER_GLUCOSE_CONDITION_BRACKET) left out, and another glucose
    condition's own "resolved" (_OTHER_GLUCOSE_CONDITION_RESOLVED) when a diabetes is still named without it (each of
    the text and the displays read apart: "Gestational diabetes - resolved" coded E11.9 is still asked)."""
    parts = []
    for part in text.split("|"):
        part = _OTHER_GLUCOSE_CONDITION_BRACKET.sub(" ", part)
        kept = _OTHER_GLUCOSE_CONDITION_RESOLVED.sub(" ", part)
        parts.append(kept if re.search(_DIABETES_WORDS, kept) else part)
    return bool(_diabetes_not_current("|".join(parts)))


_prediabetes_text = memo_search(T.PREDIABETES_TEXT)
_prediabetes_negated = memo_search(T.PREDIABETES_NEGATED)
_hyperglycaemia_negated = memo_search(T.HYPERGLYCAEMIA_NEGATED)


# LADA, latent autoimmune diabetes in adults: the ADA classes it with type 1 diabetes ("Type 1
# diabetes (due to autoimmune beta-cell destruction ...), including latent autoimmune diabetes of
# adulthood": ADA Standards of Care in Diabetes, section 2 Diagnosis and Classification), while CR's
# labels and trials name "type 1 diabetes" (B.1, B.4, B.5; C.3 row 14) without saying whether LADA is
# one. Read as a diabetes of unrecorded type (the caution), and the type asked (gap diabetes-type-unclear).
_LADA = memo_search(re.compile(r"\blada\b|\blatent autoimmune diabet", re.I))


# Ketosis-prone diabetes ("Flatbush diabetes", "ketosis-prone type 2 diabetes" in earlier reports)
# is a heterogeneous syndrome: autoantibody-positive, beta-cell-deficient (A+beta-) ketosis-prone
# diabetes is autoimmune type 1 diabetes, others behave as type 2 (Balasubramanyam et al., Endocr
# Rev 2008;29:292-302, PMID 18292467). Written with no type it is read as a diabetes of unrecorded
# type (the caution, CR C.3 row 14) and its type asked (gap diabetes-type-unclear), as LADA is: the
# labels and trials name type 1 diabetes (CR B.1, B.4, B.5). No code for it in CR A.4.
_KP = r"(?:\bketosis[- ]prone\b|\bflatbush\b)"
_KETOSIS_PRONE = re.compile(_KP, re.I)
# A ketosis-prone the words set aside within its clause: negated ("not ketosis prone", "ketosis
# prone? no"), ruled out or absent, or a relative's ("mother ketosis-prone", "ketosis-prone in
# mother"): no ketosis-prone diabetes of the patient's, its type not asked (rt59: pf4 asked it).
# The vocabulary of local_codes.yaml, as _MODY_NOT_THE_PATIENTS reads it (FHIR R4
# condition-ver-status 'refuted', FamilyMemberHistory; CR A.4 a diagnosis of the patient's)
_KV = T.VOCABULARY  # (_V is defined with the MODY readers below)
_KETOSIS_PRONE_NOT_THE_PATIENTS = re.compile(
    rf"\b(?:{_KV['negation_words']}|denied|free of|{_KV['relative_words']}(?:'s)?(?!\s+{_KV['relative_told_words']}\b))"
    rf"\b[^.;|,()]{{0,30}}?{_KP}"
    rf"|{_KP}\s*\?+\s*(?:{_KV['negation_words']}|negative)\b"
    rf"|{_KP}(?:(?!\b{_KV['still_open_words']}\b)[^.;|,()]){{0,30}}?\b(?:{_KV['ruled_out_words']}|{_KV['absent_words']})\b"
    rf"|{_KP}[^.;|,()]{{0,20}}?\bin\s+(?:(?:his|her|the|a)\s+)?{_KV['relative_words']}\b")


@lru_cache(maxsize=4096)
def _names_lada(text: str) -> bool:
    """The diabetes text names LADA once the mentions that are no diagnosis ("LADA excluded",
    "mother: LADA", _NOT_A_DIAGNOSIS) are taken out. Cached by text: the substitution's pattern is
    long and ran for every diabetes Condition on every call (hp3: ~0.5 M instructions a call)."""
    return bool(_LADA(_NOT_A_DIAGNOSIS.sub(" ", text)))


@lru_cache(maxsize=4096)
def _names_ketosis_prone(text: str) -> bool:
    """The diabetes text names a ketosis-prone diabetes once the mentions that are no diagnosis
    (_NOT_A_DIAGNOSIS) and the ketosis-prone ones not the patient's ("not ketosis prone", "mother
    ketosis-prone") are taken out. Cached by text, as _names_lada: the substitutions ran for every
    untyped diabetes Condition on every call."""
    return _KETOSIS_PRONE.search(_KETOSIS_PRONE_NOT_THE_PATIENTS.sub(" ", _NOT_A_DIAGNOSIS.sub(" ", text))) is not None


@lru_cache(maxsize=4096)
def _lada_as_diabetes(text: str) -> str | None:
    """A text naming a LADA and no other diabetes, the LADA written "diabetes", for the suspicion,
    doubt and not-current words of local_codes.yaml diabetes ("Possible LADA", "LADA?"), which do not
    name LADA (they would set aside a diabetes named beside it: "Type 1 diabetes, unlikely to be
    LADA" is a type 1 diabetes). None otherwise."""
    if "lada" not in text:
        return None
    alone = re.sub(r"\blada\b", "diabetes", text)
    return alone if not re.search(_DIABETES_WORDS, re.sub(r"\blada\b", " ", text)) else None


def _diabetes_code_and_words_disagree(res: dict[str, Any], con: Concept) -> str | None:
    """Why a diabetes Condition's code and its words disagree on whose diabetes it is, as the
    unconfirmed reading says it, else None: coded as a diabetes (codes.yaml conditions.diabetes)
    while its code.text names a diabetes only as a relative's, a family history or not the
    patient's ("Mother: type 2 diabetes", "Family history of type 2 diabetes" coded E11.9: pf4,
    counted as the patient's type 2 by the code alone), or coded as a family history of diabetes
    (Z83.3, 160303001) while its words name a diabetes ("Type 2 diabetes" coded Z83.3). Which is
    right the record does not say: asked (gap diabetes-unconfirmed), not counted (CR A.4 a
    diagnosis of the patient's; FHIR R4 FamilyMemberHistory is where a relative's belongs)."""
    why = con.memo.get("diabetes-disagree", _UNSET)
    if why is not _UNSET:
        return why  # type: ignore[return-value]
    why = None
    for system, code, _ in con.codings:
        if code and ((is_snomed(system) and code in T.DIABETES_FAMILY_HISTORY_SNOMED) or (
                is_icd10(system) and T.norm_icd(code).startswith(T.DIABETES_FAMILY_HISTORY_ICD))):
            why = f"coded {code}, a family history of diabetes: the code and the words disagree"
            break
    written = res["code"].get("text") if why is None and type(res.get("code")) is dict else None
    if type(written) is str and re.search(_DIABETES_WORDS, written.lower()) and _diabetes_text(written.lower()) is None:
        coded = next((code for system, code, _ in con.codings if code and _diabetes_coded(system, code)), None)
        if coded:
            why = f'coded {coded} as diabetes, written "{printable_clip(written, 80)}": the code and the words disagree'
    con.memo["diabetes-disagree"] = why
    return why


def _code_text_clip(res: dict[str, Any], con: Concept) -> str:
    """A Condition's code.text as the record writes it (else its concept's text), clipped for a
    message that quotes it."""
    written = res["code"].get("text") if type(res.get("code")) is dict else None
    return printable_clip(written if type(written) is str else con.text, 80)


def _diabetes(ctx: Ctx, therapy: TherapyHistory) -> Diabetes:
    dm = Diabetes()
    types: list[str] = []
    unconfirmed: list[tuple[str, Source]] = []  # ("type 1 (provisional)", source)
    prediabetes: list[Source] = []
    hyperglycaemia: list[tuple[str, Source]] = []  # a hyperglycaemia Condition, no diabetes named
    named_treatment: list[str] = []  # glucose-lowering drugs a type 2 / untyped diabetes's words say it is on
    lada: list[tuple[str, Source]] = []  # a counted diabetes written as LADA, not as type 1
    ketosis_prone: list[tuple[str, Source]] = []  # a counted diabetes of no written type, written as ketosis-prone
    for res in ctx.of("Condition"):
        try:
            if clinical_status_inactive(res):
                continue
            con = ctx.concept_of(res)
            t = con.memo.get("diabetes", _UNSET)
            if t is _UNSET:
                t = con.memo["diabetes"] = _diabetes_type(con)
            if not t and _prediabetes(con):
                prediabetes.append(ctx.source(res, condition_onset(res), "Prediabetes"))
                continue
            if not t and _diabetes_screen_positive(con.text):  # "T2DM screening positive": asked, not silent
                why = f'written "{_code_text_clip(res, con)}": a positive screening, not a diagnosis'
                shown = _TYPE_TEXT[_written_type(con.text) or "unspecified"]
                unconfirmed.append((f"{shown} ({why})", ctx.source(res, condition_onset(res), f"Diabetes ({shown}, {why})")))
                continue
            if not t and (gestational := _gestational_diabetes_current(ctx, res, con)):
                # a current gestational diabetes: its own type, not the labels' diabetes; asked, not silent
                why = (f"{gestational}: a diabetes of pregnancy, its own type; once the pregnancy is over a risk of "
                       "diabetes, not diabetes")
                unconfirmed.append((f"gestational diabetes ({why})",
                                    ctx.source(res, condition_onset(res), f"Diabetes (gestational, {why})")))
                continue
            if t in (None, "unspecified") and (coded := _unspecified_diabetes_in_pregnancy(res, con)):
                # ICD-10-CM O24.9: gestational or pre-existing not recorded; asked, not counted, not silent
                why = (f"{coded}: a diabetes in pregnancy, childbirth or the puerperium, whether gestational or "
                       "pre-existing not recorded")
                unconfirmed.append((f"type not recorded ({why})",
                                    ctx.source(res, condition_onset(res), f"Diabetes (type not recorded, {why})")))
                continue
            if not t and _hyperglycaemia_recorded(con):
                # (a code without words quoted by its code: 'not counted as diabetes ("")' named nothing)
                hyperglycaemia.append((_code_text_clip(res, con) or ", ".join(c for _, c, _ in con.codings if c),
                                       ctx.source(res, condition_onset(res), "Hyperglycaemia (no diabetes diagnosis)")))
                continue
            if t:
                # a provisional / differential / unconfirmed diagnosis (FHIR R4 condition-ver-status)
                # is a suspicion, not diabetes: type 1 would stop the PI3K/AKT inhibitors (CR C.3 row 14)
                why = unconfirmed_status(res)
                lada_alone = _lada_as_diabetes(con.text)
                if why is None and (_diabetes_suspected(con.text) or _mody_suspected_alone(con.text)
                                    or (lada_alone and _diabetes_suspected(lada_alone))):
                    why = "written as a suspicion"  # "suspected diabetes" (local_codes.yaml diabetes)
                if why is None and (_diabetes_over_in_words(con.text) or _diabetes_doubted(con.text) or (
                        lada_alone and (_diabetes_over_in_words(lada_alone) or _diabetes_doubted(lada_alone)))):
                    # the words say it is over, refuted or gestational, or doubt it or its type
                    # ("Type 1 diabetes?", "Type 1 vs type 2 diabetes"), the status does not
                    # (local_codes.yaml diabetes not_current_patterns, doubt_patterns): asked, not counted
                    why = f'written "{_code_text_clip(res, con)}"'
                written = res["code"].get("text") if type(res.get("code")) is dict else None
                if why is None and type(written) is str and _diabetes_screen_positive(written.lower()):
                    # "T2DM screening positive" coded E11.9 (displayed "Type 2 diabetes mellitus"), or not coded
                    why = f'written "{_code_text_clip(res, con)}": a positive screening, not a diagnosis'
                if why is None:  # "Mother: type 2 diabetes" coded E11.9, "Type 2 diabetes" coded Z83.3
                    why = _diabetes_code_and_words_disagree(res, con)
                if why is None and t == "type1":
                    # "Resolved" / "INACTIVE": no condition-clinical code (case-sensitive), so the
                    # status cannot be read, yet the record probably means it no longer applies.
                    # Type 1 stops the PI3K/AKT inhibitors (C.3 row 14): not a stop on a status
                    # that may say it is over, nor dropped; the clinician is asked (as for a
                    # visceral crisis, disease._visceral_crisis; FHIR R4 Condition.clinicalStatus).
                    # Type 2 stands as before (a caution either way, the status noted by build.py).
                    miscased = clinical_status_miscased(res)
                    if miscased is not None and miscased.lower() in INACTIVE_CLINICAL_STATUS:
                        why = f'clinicalStatus "{miscased}", not a condition-clinical code'
                if why:
                    onset = condition_onset(res)
                    unconfirmed.append((f"{_TYPE_TEXT[t]} ({why})", ctx.source(res, onset, f"Diabetes ({_TYPE_TEXT[t]}, {why})",
                                                                   date_last=condition_onset_last(res, onset))))
                    continue
                types.append(t)
                if t != "type1":
                    named_treatment.extend(_treatment_in_diabetes_words(con.text))
                    if _names_lada(con.text):  # not "LADA excluded", "mother: LADA"
                        lada.append((_code_text_clip(res, con),
                                     ctx.source(res, condition_onset(res), "Diabetes (LADA)")))
                    elif t == "unspecified" and _names_ketosis_prone(con.text):
                        ketosis_prone.append((_code_text_clip(res, con),
                                              ctx.source(res, condition_onset(res), "Diabetes (ketosis-prone)")))
                if _diabetes_history(con.text):  # the words as the record writes them (con.text is lower-case)
                    dm.history_written.append(printable_clip(" ".join(cc_as_written(res.get("code")).split()), 80))
                onset = condition_onset(res)
                shown = t if t in ("type1", "type2") else _TYPE_TEXT[t]
                dm.sources.append(ctx.source(res, onset, f"Diabetes ({shown})", date_last=condition_onset_last(res, onset)))
        except Exception:  # noqa: BLE001
            continue
    if lada and "type1" not in types:
        _diabetes_type_unclear(ctx, "Latent autoimmune diabetes in adults (LADA)", lada, "type2" in types,
                               "the type 2 diabetes it is also written as",
                               "the ADA classes LADA with type 1 (autoimmune) diabetes, and the labels and trials name "
                               "type 1 diabetes (inavolisib not studied in it, the capivasertib and alpelisib trials "
                               "excluded it: CR B.1, B.4, B.5, C.3 row 14) without saying whether LADA is one.")
    if ketosis_prone and not lada and "type1" not in types:
        _diabetes_type_unclear(ctx, "Ketosis-prone diabetes", ketosis_prone, "type2" in types,
                               "the type 2 diabetes recorded beside it",
                               "ketosis-prone diabetes may be autoimmune type 1 diabetes or behave as type 2 (Endocr "
                               "Rev 2008;29:292-302), and the labels and trials name type 1 diabetes (inavolisib not "
                               "studied in it, the capivasertib and alpelisib trials excluded it: CR B.1, B.4, B.5, "
                               "C.3 row 14).")
    if prediabetes and not types and not unconfirmed:
        # not diabetes, and the sources do not say whether it is a hyperglycaemia caution
        # (CR A.4 lists R73.03 with the diabetes codes, unverified; the labels of CR B name
        # diabetes): said, not decided
        ctx.gap("prediabetes-recorded",
                "Prediabetes recorded, not counted as diabetes: whether it calls for the hyperglycaemia "
                "caution of a PI3K/AKT/mTOR inhibitor is not settled by the sources (the labels name "
                "diabetes); check HbA1c and fasting glucose before one.", prediabetes)
    if hyperglycaemia and not types and not unconfirmed:
        # "Steroid-induced hyperglycaemia" as a Condition was silent: no diabetes, and the sources do
        # not say whether it is a caution (local_codes.yaml diabetes hyperglycaemia_negated_patterns)
        ctx.gap("hyperglycaemia-recorded",
                "Hyperglycaemia recorded without a diabetes diagnosis, not counted as diabetes ("
                + "; ".join(f'"{w}"' for w, _ in hyperglycaemia) + "): whether it calls for the hyperglycaemia "
                "caution of a PI3K/AKT/mTOR inhibitor is not settled by the sources (the labels name "
                "diabetes); check HbA1c and fasting glucose before one.", [src for _, src in hyperglycaemia])
    meds = [e for e in therapy.exposures if e.active and any(d.drug_class == "antihyperglycemic" for d in e.drugs)]
    # a record under way by its status whose text writes its drug as stopped or not taken
    # ("Metformin - stopped", "No insulin"): no treatment now (CR A.4), named; a diabetes
    # Condition still decides diabetes (then untreated unless another drug is taken)
    not_taken = [(e, words) for e in meds if (words := _glucose_lowering_not_taken(ctx, e))]
    if not_taken:
        meds = [e for e in meds if all(e is not n for n, _ in not_taken)]
        ctx.gap("glucose-lowering-not-taken",
                "Glucose-lowering drug records under way by their status write the drug as stopped or not "
                "taken, not counted as diabetes treatment: " + "; ".join(w for _, w in not_taken)
                + ". Confirm whether it is taken (a diabetes requiring anti-hyperglycaemic treatment is a caution "
                "before a PI3K/AKT/mTOR inhibitor, C.3 row 14).", [s for e, _ in not_taken for s in e.sources])
    # why each was given (drugs.yaml glucose_lowering_reasons; CR A.4: treatment *of diabetes*)
    # In a patient with a counted diabetes Condition a glucose-lowering drug is that diabetes's
    # treatment whatever the prescriber's reason (insulin "for steroid-induced hyperglycaemia" in a
    # type 2 diabetic): it lowers the same glucose, and the labels ask about "Type 2 diabetes mellitus
    # requiring ongoing anti-hyperglycemic treatment" (CR B, inavolisib 5.1) and the trials excluded
    # insulin-requiring type 2 diabetes (CR B.5, C.3 row 14): the other reason is not read then.
    reasons = [(e, (None, None) if types else _glucose_lowering_reason(ctx, e)) for e in meds]
    for e, (kind, why) in reasons:
        if kind in _NOT_COUNTED_REASONS:
            names = ", ".join(_glucose_lowering_names(ctx, e))
            dm.not_for_diabetes.append(f"{names}, {why}" if kind == "indication-unstated" else f"{names} for {why}")
            dm.not_for_diabetes_sources.extend(e.sources)
            dm.hyperglycaemia_treated = dm.hyperglycaemia_treated or kind == "hyperglycaemia"
        if kind == "gestational" and not any(w.startswith("gestational diabetes") for w, _ in unconfirmed):
            # insulin / metformin given for a gestational diabetes (pf8: read as a diabetes of unrecorded type, the
            # gestational hidden): still counted (on treatment: the caution, C.3 row 14), and named as the gestational
            # diabetes Condition is, once: a gestational diabetes Condition already named is the same one
            # (local_codes.yaml gestational_icd10_prefixes; ADA Standards of Care section 2)
            names = ", ".join(_glucose_lowering_names(ctx, e))
            why = (f"the reason {names} is given, {why}: a diabetes of pregnancy, its own type; once the pregnancy is "
                   "over a risk of diabetes, not diabetes")
            unconfirmed.extend((f"gestational diabetes ({why})", src) for src in e.sources[:1])
    meds = [e for e, (kind, _) in reasons if kind not in _NOT_COUNTED_REASONS]
    if unconfirmed and not types:
        # not counted as diabetes (no type 1 stop on a suspicion), but not silent either: the
        # hyperglycaemia caution of the PI3K/AKT/mTOR cards names it (C.3 row 14)
        dm.unconfirmed = [w for w, _ in unconfirmed]
        dm.unconfirmed_sources = [src for _, src in unconfirmed]
        ctx.gap("diabetes-unconfirmed",
                "Diabetes recorded but not confirmed, not counted as diabetes: " + "; ".join(dm.unconfirmed)
                + ". Confirm or refute it before a PI3K/AKT/mTOR inhibitor.", dm.unconfirmed_sources)
    # each drug by name, a fixed-dose combination by every ingredient (drugs.yaml combination_products)
    treated = {id(e): _glucose_lowering_names(ctx, e) for e in meds}
    specific = [
        e for e, (kind, _) in reasons if id(e) in treated and (kind in ("diabetes", "gestational") or (kind is None and any(
            T.DRUGS.get(n) and T.DRUGS[n].diabetes_specific for n in treated[id(e)])))
    ]
    if any(kind == "indication-unstated" for _, (kind, _) in reasons):
        # a reason not stated (a liraglutide step down, drugs.yaml weight_dose step_down_pattern): asked, not
        # said to be another reason than diabetes
        ctx.gap("glucose-lowering-not-for-diabetes",
                "Glucose-lowering drug recorded, not counted as diabetes treatment until its indication is known: "
                + "; ".join(dm.not_for_diabetes) + ". CR A.4 counts anti-hyperglycaemic treatment of diabetes: "
                "confirm whether it treats diabetes; check HbA1c and fasting glucose before a PI3K/AKT/mTOR inhibitor "
                "(C.2 safety overlays).", dm.not_for_diabetes_sources)
    elif dm.not_for_diabetes:
        ctx.gap("glucose-lowering-not-for-diabetes",
                "Glucose-lowering drug recorded for another reason than diabetes, not counted as diabetes treatment: "
                + "; ".join(dm.not_for_diabetes) + " (the record's reason; CR A.4 counts anti-hyperglycaemic treatment "
                "of diabetes). Check HbA1c and fasting glucose before a PI3K/AKT/mTOR inhibitor (C.2 safety overlays).",
                dm.not_for_diabetes_sources)
    dm.on_antihyperglycemic = bool(meds)
    dm.treatment = list(dict.fromkeys(n for e in meds for n in treated[id(e)]))
    dm.sources.extend(s for e in meds for s in e.sources)
    dm.hba1c = _latest_lab(ctx, T.HBA1C_CODES, "HbA1c", _hba1c_conv)
    dm.fasting_glucose = _latest_lab(ctx, T.FPG_CODES, "Fasting glucose", _glucose_conv)
    # HbA1c > 8.0 %: CAPItello-291 exclusion (CR B.5 capivasertib trial row; C.2 safety overlays);
    # the hyperglycaemia levels: mappings.state HBA1C_HIGH_PERCENT / FASTING_GLUCOSE_HIGH_MG_DL
    # (with their sources; the cards read the same). A result written as a bound ("<9 %")
    # that leaves a threshold undecided counts as no result for it (LabValue.reaches): not a guess.
    dm.uncontrolled = dm.hba1c is not None and dm.hba1c.reaches(8.0, strict=True) is True
    a1c_high = dm.hba1c is not None and dm.hba1c.reaches(HBA1C_HIGH_PERCENT) is True
    fg_high = dm.fasting_glucose is not None and dm.fasting_glucose.reaches(FASTING_GLUCOSE_HIGH_MG_DL) is True
    lab_high = a1c_high or fg_high
    if lab_high:
        dm.sources.extend((dm.hba1c.sources if a1c_high and dm.hba1c else [])
                          + (dm.fasting_glucose.sources if fg_high and dm.fasting_glucose else []))
    if types and not meds and named_treatment and "type1" not in types:
        # "Type 2 DM on insulin" with no medication record: the diagnosis's own words give the
        # treatment; the cards said "no glucose-lowering treatment recorded" while the record names
        # insulin (insulin-requiring type 2 diabetes: a CAPItello-291 exclusion, CR B.5; C.3 row 14)
        dm.treatment = list(dict.fromkeys(named_treatment))
    if "type1" in types:
        dm.status = "type1"
    elif types:
        dm.status = "type2-treated" if meds or dm.treatment else "type2-untreated"
    elif specific or (meds and lab_high):
        dm.status = "type2-treated"
    elif lab_high:
        dm.status = "lab-only"
    if dm.status in ("type2-treated", "type2-untreated"):
        # an untyped diabetes reads as type 2 for the caution (CR C.3 row 14: a caution, not the
        # type 1 stop), but the cards do not call it type 2 (codes.yaml conditions.diabetes)
        dm.type_recorded = ("type 2" if "type2" in types else "other specified" if "other" in types
                            else "not recorded")
    if dm.status == "type1" or not dm.type_recorded:
        dm.history_written = []
    return dm


# the reasons (_glucose_lowering_reason) a glucose-lowering drug is not counted as diabetes treatment for
_NOT_COUNTED_REASONS = ("not-diabetes", "hyperglycaemia", "indication-unstated")


def _diabetes_type_unclear(ctx: Ctx, what: str, found: list[tuple[str, Source]], type2_recorded: bool,
                           as_type2: str, why: str) -> None:
    """The gap diabetes-type-unclear for a counted diabetes whose type may be type 1 (LADA, ketosis-prone):
    the words quoted, the reading the cards give it (type_recorded: the type 2 recorded, else a diabetes of
    unrecorded type), why its type matters, and the question."""
    ctx.gap("diabetes-type-unclear",
            f"{what} recorded (" + "; ".join(f'"{w}"' for w, _ in found)
            + (f"), read as {as_type2}" if type2_recorded else "), read as a diabetes of unrecorded type")
            + f" (the hyperglycaemia caution): {why} Clarify the diabetes type before a PI3K/AKT/mTOR inhibitor.",
            [src for _, src in found])


_GLUCOSE_REASON_IN_TEXT = tuple(
    (kind, label, re.compile(T.GLUCOSE_LOWERING_REASON_LEAD + "(?:" + words.pattern + ")", re.I))
    for kind, label, _, _, words in T.GLUCOSE_LOWERING_REASONS)
# prediabetes and a diabetes the drug is to prevent ("diabetes prevention"): no diabetes of the
# patient's, taken out before the diabetes words are looked for (drugs.yaml; CR A.4: a diagnosis)
_NO_DIABETES_REASON = next(words for _, label, _, _, words in T.GLUCOSE_LOWERING_REASONS if label == "prediabetes")


@lru_cache(maxsize=1024)
def _reason_words(text: str, own_text: bool) -> tuple[str | None, str | None]:
    """(kind, label) a reason's words give: "diabetes" (a diabetes the diabetes reader reads),
    "not-diabetes" / "hyperglycaemia" (drugs.yaml glucose_lowering_reasons), else (None, None).
    `own_text`: the drug record's own words, where a diabetes named anywhere counts, another
    reason only when written after "for" / "indication" / "(" ("Metformin 500 mg for PCOS"), or
    a weight brand; a diabetes-only brand gives "diabetes-brand", a reason only when the record
    writes no other."""
    if not text:
        return None, None
    # a diabetes of the patient's the words name anywhere (in the record's own words, not only in
    # the reason's clause: "Semaglutide for obesity; also T2DM", a note "Known type 2 diabetes"):
    # diabetes treatment (CR A.4); a family history, a risk, "no diabetes" are no diagnosis (_diabetes_text)
    if _diabetes_text(_NO_DIABETES_REASON.sub(" ", text)):
        return "diabetes", None
    if own_text:
        for kind, label, rx in _GLUCOSE_REASON_IN_TEXT:
            if rx.search(text):
                return (None, None) if _hyperglycaemia_beside_bare_dm(kind, text) else (kind, label)
        if re.search(r"\b(?:wegovy|saxenda|zepbound)\b", text):
            return "not-diabetes", "weight management"
        if gestational := _gestational_reason(text):
            return "gestational", gestational
        if T.DIABETES_ONLY_BRAND_TEXT.search(text):
            # "Ozempic 1 mg weekly": a brand labelled for type 2 diabetes alone (drugs.yaml
            # glucose_lowering_reasons diabetes_only_brands): the label's reason, which a reason
            # the record writes elsewhere (reasonCode "Obesity") overrides (_glucose_lowering_reason)
            return "diabetes-brand", None
        return None, None
    for kind, label, _, _, words in T.GLUCOSE_LOWERING_REASONS:
        if words.search(text):
            return (None, None) if _hyperglycaemia_beside_bare_dm(kind, text) else (kind, label)
    if gestational := _gestational_reason(text):
        return "gestational", gestational
    return None, None


def _hyperglycaemia_beside_bare_dm(kind: str, text: str) -> bool:
    """A hyperglycaemia reason written beside a bare "DM" ("High sugars (DM)", "Hyperglycaemia - DM"): DM is the
    abbreviation of diabetes mellitus, not read alone as one (it stands for other conditions too), so whether the
    drug treats a diabetes or a hyperglycaemia cannot be told: read as a reason not recorded (counted, as before pf8
    read "high blood sugar"; rt83: not counted, the treated diabetes caution lost, CR A.4, C.3 row 14)."""
    return kind == "hyperglycaemia" and re.search(r"\bdm\b", text) is not None


def _gestational_reason(text: str) -> str | None:
    """How a glucose-lowering drug's reason names a current gestational diabetes ("gestational diabetes", "GDM"),
    read as _gestational_diabetes_current reads a Condition's words (not negated, a relative's, a history, over), or
    None. pf8: "Insulin for GDM" was read as a diabetes of unrecorded type, hiding that it is gestational."""
    if not _GESTATIONAL_WORDS.search(text) or not _gestational_words_current(text):
        return None
    return f'written "{printable_clip(" ".join(text.split()), 60)}"'


_DIABETES_ICD_PREFIXES = tuple(prefix for prefix, _ in T.DIABETES_ICD)


def _diabetes_coded(system: str, code: str) -> bool:
    """A coding of diabetes (codes.yaml conditions.diabetes: a SNOMED CT code or an ICD-10 prefix)."""
    return (is_snomed(system) and code in T.DIABETES_SNOMED) or (
        is_icd10(system) and T.norm_icd(code).startswith(_DIABETES_ICD_PREFIXES))


def _reason_code(cc: Any) -> tuple[str | None, str | None]:
    """(kind, label) of a reason CodeableConcept: its codes first (diabetes: codes.yaml
    conditions.diabetes; the others: drugs.yaml glucose_lowering_reasons), then its words."""
    found: tuple[str | None, str | None] = (None, None)
    for system, code, _ in codings(cc):
        if not code:
            continue
        if _diabetes_coded(system, code):
            return "diabetes", None
        if is_icd10(system) and T.norm_icd(code).startswith(T.GESTATIONAL_DIABETES_ICD) and not found[0]:
            # ICD-10-CM O24.4- gestational diabetes (local_codes.yaml gestational_icd10_prefixes): named, not hidden
            found = ("gestational", f"coded {code}")
        for kind, label, icd, snomed, _ in T.GLUCOSE_LOWERING_REASONS:
            if (is_snomed(system) and code in snomed) or (
                    is_icd10(system) and any(T.norm_icd(code).startswith(p) for p in icd)):
                found = found if found[0] else (kind, label)
        # a bare header of abnormal glucose (R73 / R73.0), read as R73.09 is (local_codes.yaml
        # abnormal_glucose_header_icd10): the hyperglycaemia reason
        if is_icd10(system) and T.norm_icd(code) in T.ABNORMAL_GLUCOSE_HEADER_ICD and not found[0]:
            found = next((k, lb) for k, lb, _, _, _ in T.GLUCOSE_LOWERING_REASONS if k == "hyperglycaemia")
    if found[0]:
        return found
    return _reason_words(cc_text(cc), False)


def _referenced_medication(ctx: Ctx, res: dict[str, Any]) -> dict[str, Any] | None:
    """The Medication a record's medicationReference points to (contained or in the request),
    or None (FHIR R4 Medication{Request,Statement,Administration}.medication[x])."""
    ref = res.get("medicationReference")
    return ctx.resolve(ref, res) if isinstance(ref, dict) else None


def _glucose_lowering_names(ctx: Ctx, e: Exposure) -> list[str]:
    """The glucose-lowering drugs of an exposure by name; a fixed-dose combination product its
    records name ("Janumet 50/1000", read as sitagliptin) by every ingredient (drugs.yaml
    combination_products): "sitagliptin, metformin"."""
    names = [d.name for d in e.drugs if d.drug_class == "antihyperglycemic"]
    found: list[str] = []
    for src in e.sources:
        res = ctx.resolve({"reference": src.reference})
        if res is None:
            continue
        med = _referenced_medication(ctx, res)
        text = cc_text(res.get("medicationCodeableConcept")) + " | " + (cc_text(med.get("code")) if med else "")
        found.extend(_combination_ingredients(text))
    return list(dict.fromkeys(found + names)) if found else names


@lru_cache(maxsize=1024)
def _combination_ingredients(text: str) -> tuple[str, ...]:
    """Every ingredient of the fixed-dose combination products `text` names, in order (a drug
    text read once per process, as _reason_words: the brand search runs on every call)."""
    return tuple(i for m in T.COMBINATION_PRODUCT_RE.finditer(text) for i in T.COMBINATION_PRODUCTS[m.group(1).lower()])


def _glucose_lowering_reason(ctx: Ctx, e: Exposure) -> tuple[str | None, str | None]:
    """Why a glucose-lowering drug was given, from its records (drugs.yaml glucose_lowering_reasons):
    ("diabetes", None) when any reason names diabetes; ("gestational", how) when one names a current gestational
    diabetes (ICD-10-CM O24.4- or written: counted, its words name it); ("not-diabetes" | "hyperglycaemia", label)
    when the reasons name only other ones; ("indication-unstated", label) when only its doses speak and
    they span diabetes and weight management (a liraglutide step down: asked, not counted); (None, None)
    when none is recorded (read as before).
    The reasons: FHIR R4 Medication{Request,Statement,Administration}.reasonCode and
    .reasonReference (the Condition or Observation it points to, else its display), then the
    record's own words (medication, dosage and note text). Insulin written as a sliding scale /
    correction dose and known only from MedicationAdministration records (doses given in hospital)
    is "hyperglycaemia": whether it treats a diabetes is not recorded."""
    kinds: dict[str, str] = {}
    only_given = True
    own_words: list[str] = []
    for src in e.sources:
        res = ctx.resolve({"reference": src.reference})
        if res is None:
            only_given = False
            continue
        only_given = only_given and res.get("resourceType") == "MedicationAdministration"
        found: list[tuple[str | None, str | None]] = [_reason_code(cc) for cc in as_list(res.get("reasonCode"))]
        for ref in as_list(res.get("reasonReference")):
            target = ctx.resolve(ref, res) if isinstance(ref, dict) else None
            if target is not None:
                found.append(_reason_code(target.get("code")))
            elif isinstance(ref, dict):
                found.append(_reason_words(text_of(ref.get("display")), False))
        texts = [cc_text(res.get("medicationCodeableConcept")), notes_text(res)]
        texts += [text_of(d.get("text")) for key in ("dosage", "dosageInstruction") for d in as_list(res.get(key))
                  if isinstance(d, dict)]
        if isinstance(res.get("dosage"), dict):  # MedicationAdministration.dosage (one)
            texts.append(text_of(res["dosage"].get("text")))
        med = _referenced_medication(ctx, res)
        if med is not None:
            texts.append(cc_text(med.get("code")))
        own = " | ".join(t for t in texts if t)
        own_words.append(own)
        found.append(_reason_words(own, True))
        if any(d.name == T.LIRAGLUTIDE_WEIGHT_DOSE["drug"] for d in e.drugs):
            weight = _liraglutide_weight_dose(res, med)
            if weight is not None and weight[1] is not None:
                # "Victoza 3 mg, reduce to 1.2 mg": the doses span both products and neither SmPC says
                # what a step down means (pf6: read as weight management, a fact): asked, in neutral words
                found.append(("indication-unstated", (
                    f"its indication, diabetes or weight management, not stated (the doses written span both: "
                    f"{weight[0]:g} mg, above {T.LIRAGLUTIDE_WEIGHT_DOSE['above_mg']:g} mg, the most Victoza gives "
                    f"for diabetes, and a step down to {weight[1]:g} mg, a Victoza diabetes dose; the labels do not "
                    f"say what a step down means)")))
            elif weight is not None:  # "Victoza 3 mg": the Saxenda dose, read as the reason (drugs.yaml weight_dose)
                found.append(("not-diabetes", f"weight management (a dose of {weight[0]:g} mg: above "
                              f"{T.LIRAGLUTIDE_WEIGHT_DOSE['above_mg']:g} mg, the most Victoza gives for diabetes; "
                              f"Saxenda, the weight product, reaches {T.LIRAGLUTIDE_WEIGHT_DOSE['up_to_mg']:g} mg)"))
        for kind, label in found:
            if kind:
                kinds.setdefault(kind, label or "")
    if "diabetes" in kinds:
        return "diabetes", None
    if "gestational" in kinds:
        return "gestational", kinds["gestational"]
    if "hyperglycaemia" in kinds:
        return "hyperglycaemia", kinds["hyperglycaemia"]
    if "not-diabetes" in kinds:
        return "not-diabetes", kinds["not-diabetes"]
    if "indication-unstated" in kinds:
        return "indication-unstated", kinds["indication-unstated"]
    if "diabetes-brand" in kinds:
        # no reason recorded but the brand's label (type 2 diabetes alone): diabetes treatment
        return "diabetes", None
    if only_given and e.sources and any(T.SLIDING_SCALE_TEXT.search(w) for w in own_words):
        return "hyperglycaemia", "a sliding scale in hospital (doses given only; no diabetes recorded as its reason)"
    return None, None


# a dose in mg as written ("3 mg", "3.0mg", "2,4 mg", "3 mg/day"), not a strength per volume or per
# pen ("6 mg/mL", "18 mg/3 mL", "6 mg per mL", "18 mg in 3 mL", "100 units/3.6 mg"); or in micrograms
# ("3000 mcg", "3,000 ug": pf6, not read, Victoza at Saxenda's weight dose read as diabetes treatment),
# converted to mg (1 mg = 1000 micrograms; UCUM "ug")
_MICROGRAM_UNITS = frozenset({"ug", "mcg", "\u00b5g", "\u03bcg", "microgram", "micrograms"})
_MG_DOSE = re.compile(r"(?<![/\d.,])(\d+(?:[.,]\d+)?)\s*(mg|mcg|ug|[\u00b5\u03bc]g|micrograms?)\b"
                      r"(?!\s*(?:(?:/|per\b)\s*(?:\d+(?:[.,]\d+)?\s*)?(?:ml|pen)\b|in\s+\d))", re.I)


def _in_mg(value: str, unit: str) -> float:
    """A dose as _MG_DOSE reads it, in mg (a comma before three digits of micrograms groups thousands:
    "3,000 mcg"; else it is a decimal comma, "2,4 mg")."""
    if unit.lower() in _MICROGRAM_UNITS:
        return float(re.sub(r",(?=\d{3}$)", "", value).replace(",", ".")) / 1000
    return float(value.replace(",", "."))


# a liraglutide titration written in one text, read by the dose it reaches, the last of its steps
# ("0.6 -> 1.2 -> 3 mg", "0.6mg → 1.2mg → 3mg", "0.6mg, increase to 3mg weekly steps": pf5, read by its
# first dose as diabetes treatment; drugs.yaml weight_dose titration_step_pattern, Saxenda / Victoza EU
# SmPC 4.2). A dose: a number in mg, or a bare number not followed by another unit or a time ("3 mL",
# "3 months"); a strength per volume or per pen ("18 mg/3 mL") ends the chain, as _MG_DOSE reads it. A
# step may follow its dose's schedule ("0.6 mg daily for 1 week, then 1.2 mg"). Read only when a dose
# of the chain, its first or its last, is written in mg. A bare number is a dose only where, after its
# schedule, the chain goes on (a step) or the clause ends (rt72: a count, a frequency or a time after a
# step, "then 3 monthly review", "-> 2 pens", "then 2 hours later", was read as the dose reached, in mg).
_NUM = r"\d+(?:[.,]\d+)?"
# a step up or, written as such, a step down ("3 mg, reduce to 1.2 mg": pf6; drugs.yaml weight_dose step_down_pattern)
_STEP = (rf"(?:{T.LIRAGLUTIDE_WEIGHT_DOSE['titration_step_pattern']}"
         rf"|{T.LIRAGLUTIDE_WEIGHT_DOSE['step_down_pattern']})")
_STEP_SCHEDULE = r"(?:\s*/\s*d(?:ay)?\b|\s+(?:once\s+)?(?:daily|a\s+day|per\s+day|od|qd|sc|s\.c\.)\b|\s+for\s+\d+\s+(?:days?|wks?|weeks?)\b)*"
# A step in micrograms ("0.6 mg -> 1.2 mg -> 3000 mcg", "600 mcg -> 1200 mcg -> 3000 mcg": pf7, the chain
# stopped before it, read by the step before, 1.2 mg, as diabetes treatment) is converted to mg (_in_mg), a bare
# number in the unit of the chain's other end.
_CHAIN_DOSE = (rf"({_NUM})(?:\s*(mg|mcg|ug|[\u00b5\u03bc]g|micrograms?)\b(?!\s*(?:(?:/|per\b)\s*(?:{_NUM}\s*)?(?:ml|pen)\b|in\s+\d))|(?![.,]\d|\s*(?:[%/µ]"
               r"|(?:mc?g|ug|ml|l|units?|iu|mmol|kg|g|x|times|d|days?|wks?|weeks?|months?|y|yrs?|years?)\b))"
               rf"(?={_STEP_SCHEDULE}\s*(?:$|[,;|)]|\.(?!\d)|{_STEP})))")
_TITRATION = re.compile(rf"(?<![/\d.,]){_CHAIN_DOSE}(?:{_STEP_SCHEDULE}\s*[,;]?\s*"
                        rf"{_STEP}\s*{_CHAIN_DOSE})+", re.I)


def _titration_reached(chain: re.Match[str]) -> list[float]:
    """The dose (mg) a titration reaches, the last of its steps ([] when no dose of it has a unit)."""
    unit = chain.group(4) or chain.group(2)
    return [_in_mg(chain.group(3), unit)] if unit else []


def _titration_start(chain: re.Match[str]) -> float:
    """The first dose (mg) of a titration that has a unit (_titration_reached not [])."""
    return _in_mg(chain.group(1), chain.group(2) or chain.group(4))


def _stepped_down_to(chain: re.Match[str]) -> list[float]:
    """The dose (mg) a titration ends at when it starts above the most Victoza gives for diabetes and
    ends within it ("3 mg, reduce to 1.2 mg", "3 mg then 1.2 mg"), else []."""
    reached = _titration_reached(chain)
    above = T.LIRAGLUTIDE_WEIGHT_DOSE["above_mg"]
    if reached and reached[0] <= above < _titration_start(chain) <= T.LIRAGLUTIDE_WEIGHT_DOSE["up_to_mg"]:
        return reached
    return []


def _liraglutide_weight_dose(res: dict[str, Any], med: dict[str, Any] | None) -> tuple[float, float | None] | None:
    """The dose (mg) of a liraglutide record when it is above the most Victoza gives for diabetes
    and no more than Saxenda's weight dose (drugs.yaml glucose_lowering_reasons weight_dose), with the
    dose a titration written steps down to from there within Victoza's doses ("3 mg, reduce to 1.2 mg":
    the doses span both products), else None. Read from FHIR R4 Dosage.doseAndRate.doseQuantity in mg (MedicationRequest.dosageInstruction,
    MedicationStatement.dosage; MedicationAdministration.dosage.dose), the dosage text, and the
    medication's own text just after the drug's name ("Victoza 3 mg"); not in a fixed-dose combination
    (Xultophy: insulin degludec and liraglutide, dosed in units)."""
    w = T.LIRAGLUTIDE_WEIGHT_DOSE
    doses: list[float] = []
    stepped_down: list[float] = []
    for d in as_list(res.get("dosageInstruction")) + as_list(res.get("dosage")):
        if not isinstance(d, dict):
            continue
        for q in [d.get("dose")] + [r.get("doseQuantity") for r in as_list(d.get("doseAndRate")) if isinstance(r, dict)]:
            # in mg only when the unit and the code written both say mg (unit "mg" with code "mL": rt59,
            # read as mg; FHIR R4 Quantity.code is the coded form of Quantity.unit)
            # (or both in micrograms, "ug" in UCUM: pf6, not read; converted to mg)
            units = {str(q.get(k)).strip().lower() for k in ("unit", "code") if q.get(k)} if isinstance(q, dict) else set()
            if units and units <= {"mg", "milligram", "milligrams"} and type(q.get("value")) in (int, float):
                doses.append(float(q["value"]))
            elif units and units <= _MICROGRAM_UNITS and type(q.get("value")) in (int, float):
                doses.append(float(q["value"]) / 1000)
        written = text_of(d.get("text"))
        doses += [_in_mg(m.group(1), m.group(2)) for m in _MG_DOSE.finditer(written)]
        for chain in _TITRATION.finditer(written):
            doses += _titration_reached(chain)
            stepped_down += _stepped_down_to(chain)
    for concept_ in (res.get("medicationCodeableConcept"), med.get("code") if med else None):
        text = cc_text(concept_)
        if _combination_ingredients(text):
            return None
        for name in T.LIRAGLUTIDE_NAME_TEXT.finditer(text):
            dose = _MG_DOSE.search(re.split(r"[|;,]", text[name.end():name.end() + 20])[0])  # "Victoza pen 3 mg/day"
            if dose:
                doses.append(_in_mg(dose.group(1), dose.group(2)))
            # a titration starting there, read on past a comma ("Victoza 0.6mg, increase to 3mg"): the dose it reaches
            after = text[name.end():name.end() + 120].split("|")[0]
            chain = _TITRATION.search(after)
            if chain and chain.start() <= 20 and not re.search(r"[,;]", after[:chain.start()]):
                doses += _titration_reached(chain)
                stepped_down += _stepped_down_to(chain)
    doses = [x for x in doses if x <= w["up_to_mg"]]  # more is no daily dose (a pen holds 18 mg)
    if not doses or max(doses) <= w["above_mg"]:
        return None
    return max(doses), (stepped_down[-1] if stepped_down else None)


def _glucose_lowering_not_taken(ctx: Ctx, e: Exposure) -> str | None:
    """The records of a glucose-lowering exposure as written ("MedicationStatement/ms-1
    ('Metformin - stopped')") when every one writes its drug as stopped, past use or a course
    completed (therapy.written_as_stopped: the reading the therapy history gives the anticancer
    drugs) or as not taken before its name, its only drug ("No insulin", "Not on metformin":
    drugs.yaml glucose_lowering_reasons not_taken_opening); None otherwise (a hold is a pause)."""
    said: list[str] = []
    for src in e.sources:
        res = ctx.resolve({"reference": src.reference})
        if res is None:
            return None
        med = _referenced_medication(ctx, res)
        written = cc_as_written(res.get("medicationCodeableConcept") if med is None else med.get("code"))
        if T.GLUCOSE_LOWERING_PROCEDURE_PAUSE.search(written):
            return None  # "No metformin on day of contrast": a hold around a study (not_taken_procedure_pause)
        if not (written_as_stopped(ctx, res) or _written_not_taken(written)):
            return None
        said.append(f"{src.reference} ('{printable_clip(' '.join(written.split()), 80)}')")
    return "; ".join(said) or None


@lru_cache(maxsize=1024)
def _written_not_taken(text: str) -> bool:
    """The text's drugs, joined as one list, written as not taken before the first ("No insulin",
    "Off Ozempic", "No metformin or insulin") or after the last ("Metformin - not taking"):
    drugs.yaml glucose_lowering_reasons not_taken_*."""
    names = [m for m in T.DRUG_NAME_RE.finditer(text) if T.drug_for_name(m.group(1))]
    if not names or not all(T.GLUCOSE_LOWERING_NOT_TAKEN_JOINED.match(text[a.end():b.start()])
                            for a, b in zip(names, names[1:])):
        return False
    if len(names) > 1 and not T.GLUCOSE_LOWERING_NOT_TAKEN_LAST_JOINED.match(text[names[-2].end():names[-1].start()]):
        return False  # "Not on insulin, metformin 1 g": metformin given (not_taken_names_last_joined)
    if T.DRUG_STOPPED_PAUSED.search(text):
        return False  # "Stopped metformin for 2 days (contrast)", "... restarted": a pause, as for the anticancer drugs
    return (T.GLUCOSE_LOWERING_NOT_TAKEN_OPENING.match(text[:names[0].start()]) is not None
            or T.GLUCOSE_LOWERING_NOT_TAKEN_CLOSING.match(text[names[-1].end():]) is not None)


# the words that put a diabetes on a drug ("on insulin", "treated with metformin", "insulin-requiring",
# "insulin-dependent" after an explicit type 2), and those that say it is not taken or was before
_TREATMENT_LEAD = re.compile(r"(?:\bon|\btaking|\btakes|\btreated (?:with|on)|\b(?:controlled|managed) (?:with|on|by)"
                             r"|\brequir(?:ing|es)|\bneeds|\bus(?:ing|es)|\bwith|\+)\s+(?:[\w/-]+\s+){0,2}?$")
_TREATMENT_AFTER = re.compile(r"[- ](?:treated|requiring|dependent|controlled)\b|\s+(?:since|held|on hold|paused)\b")
_TREATMENT_NOT_NOW = re.compile(r"\b(?:no|not|non|off|without|never|nor|stopped|discontinued|ceased|declined|refused|previously"
                                r"|formerly|prior|past|was|were|history|h/o|hx|until)\b|\bnon-$")
_TREATMENT_ENDED_AFTER = re.compile(r"\s*-?\s*(?:stopped|discontinued|ceased|declined|refused|not|no longer|previously|in the past)\b")
# a drug's name used for something other than the drug taken: the body's insulin ("insulin
# resistance", "insulin deficiency", "insulin levels"), a drug class ("insulin sensitiser": pioglitazone,
# not insulin), a drug the patient cannot take ("metformin intolerance", "metformin allergy")
_NOT_THE_DRUG_AFTER = re.compile(r"[\s-]*(?:resist\w*|sensiti[sz]\w*|deficien\w*|secret\w*|levels?\b|(?:auto)?antibod\w*"
                                 r"|intoleran\w*|allerg\w*|contraindicat\w*)")


@lru_cache(maxsize=1024)
def _treatment_in_diabetes_words(text: str) -> tuple[str, ...]:
    """The glucose-lowering drugs (drugs.yaml, class antihyperglycemic) a diabetes Condition's
    words say the patient is on, clause by clause ("Type 2 DM on insulin", "T2DM - insulin-requiring",
    "DM2 on metformin and insulin"); not one negated, stopped or past ("not on insulin",
    "previously on metformin", "insulin stopped"): drugs.yaml names; CR A.4 (active
    anti-hyperglycemic treatment); a hold is still treatment ("metformin held"), as for the drug records."""
    found: list[str] = []
    for clause in re.split(r"[.;|,()]", text):
        for m in T.DRUG_NAME_RE.finditer(clause):
            info = T.drug_for_name(m.group(1))
            if info is None or info.drug_class != "antihyperglycemic":
                continue
            before, after = clause[:m.start()], clause[m.end():]
            if _TREATMENT_NOT_NOW.search(before) or _TREATMENT_ENDED_AFTER.match(after) or _NOT_THE_DRUG_AFTER.match(after):
                continue
            if _TREATMENT_LEAD.search(before) or _TREATMENT_AFTER.match(after):
                found.append(info.name)
    return tuple(found)


def _prediabetes(con: Concept) -> bool:
    """The Condition names prediabetes (local_codes.yaml diabetes prediabetes_*), not negated.
    Memoised on the concept (run on every Condition that names no diabetes, on every call; hp8)."""
    found = con.memo.get("prediabetes")
    if found is None:
        found = con.memo["prediabetes"] = (
            any(is_icd10(system) and T.norm_icd(code) in T.PREDIABETES_ICD for system, code, _ in con.codings if code)
            or (_prediabetes_text(con.text) and not _prediabetes_negated(con.text)))
    return found


# the codes and words of a hyperglycaemia (drugs.yaml glucose_lowering_reasons hyperglycaemia),
# the words memoised per text (run on every Condition that names no diabetes)
_HYPERGLYCAEMIA = [(icd, snomed, memo_search(words)) for kind, _, icd, snomed, words in T.GLUCOSE_LOWERING_REASONS
                   if kind == "hyperglycaemia"]


# gestational diabetes written ("Gestational diabetes", "GDM"; local_codes.yaml diabetes gestational_icd10_prefixes);
# not a "pre-gestational diabetes", one there before the pregnancy (ICD-10-CM O24.0- / O24.1- / O24.3- pre-existing
# diabetes mellitus in pregnancy: rt79, taken out as gestational it was silent, the caution lost; CR C.3 row 14).
# The "pre" is looked behind once "gestational" has matched, not before: a pattern that opens with a lookbehind
# is tried at every position of the text, one that opens with its word is skipped to it (hp8: ~4x the time
# on the Condition texts of every call)
_GESTATIONAL_WORDS = re.compile(r"\bgestational(?<!pre-gestational)(?<!pre gestational)\s+diabet\w*(?:\s+mellitus)?|\bgdm\b")


@lru_cache(maxsize=4096)
def _gestational_words_current(text: str) -> bool:
    """Words naming a gestational diabetes (_GESTATIONAL_WORDS) say a current one of the patient's: read as the
    diabetes reader reads a diabetes's words (not negated, a relative's, a risk, a screening, a history or over).
    One reading for a Condition's words and a drug's reason (_gestational_diabetes_current, _gestational_reason),
    cached by text: it runs on every Condition naming one, on every call."""
    read = _GESTATIONAL_WORDS.sub("diabetes", text)
    return not (_diabetes_text(read) is None or _diabetes_history(read) or _diabetes_not_current(read))


# A gestational diabetes is one of a pregnancy, childbirth or the puerperium (ICD-10-CM O24.4-): a pregnancy and
# its puerperium last under a year (40 weeks and 6 weeks), so one that began longer ago is over: a risk of
# diabetes, not diabetes (ADA Standards of Care, section 2: the postpartum test for persistent diabetes)
_GESTATION_AND_PUERPERIUM_DAYS = 365


def _gestational_diabetes_current(ctx: Ctx, res: dict[str, Any], con: Concept) -> str | None:
    """How a Condition names a current gestational diabetes (coded ICD-10-CM O24.4- or written), or
    None: none named, one that began more than a year ago (its onset, else its recordedDate), or
    written as not the patient's, not now or as a history (the words read as the diabetes reader
    reads them, the gestational diabetes as a diabetes: negated, a relative's, a risk, a screening,
    "History of gestational diabetes", "resolved")."""
    # (its code and whether its words name one, memoised on the concept: run on every Condition that
    # names no diabetes, on every call; hp8)
    named = con.memo.get("gestational")
    if named is None:
        named = con.memo["gestational"] = (
            next((code for system, code, _ in con.codings
                  if code and is_icd10(system) and T.norm_icd(code).startswith(T.GESTATIONAL_DIABETES_ICD)), None),
            _GESTATIONAL_WORDS.search(con.text) is not None)
    coded, written_gestational = named
    if not coded and not written_gestational:
        return None
    began = condition_onset(res, date_last)  # the last day a partial date can mean ("2023": 2023-12-31)
    if began is not None and (ctx.as_of - began).days > _GESTATION_AND_PUERPERIUM_DAYS:
        return None
    if written_gestational and not _gestational_words_current(con.text):
        return None
    written = _code_text_clip(res, con)
    return f'written "{written}"' if written else f"coded {coded}"


_PREGNANCY_UNSPECIFIED_ICD = tuple(T.norm_icd(c) for c in T.LOCAL["diabetes"].get("pregnancy_unspecified_icd10_prefixes") or ())


def _unspecified_diabetes_in_pregnancy(res: dict[str, Any], con: Concept) -> str | None:
    """'coded O24.9..' when the Condition is coded ICD-10-CM O24.9- (local_codes.yaml diabetes
    pregnancy_unspecified_icd10_prefixes) and its own words name no diabetes type nor set one aside (no text, words
    naming no diabetes, or a diabetes of unrecorded type written: "Diabetes in pregnancy"); else None."""
    coded = con.memo.get("pregnancy-unspecified-icd", _UNSET)  # (memoised: run on every Condition, every call)
    if coded is _UNSET:
        coded = con.memo["pregnancy-unspecified-icd"] = next(
            (code for system, code, _ in con.codings
             if code and is_icd10(system) and T.norm_icd(code).startswith(_PREGNANCY_UNSPECIFIED_ICD)), None)
    if coded is None:
        return None
    written = res["code"].get("text") if type(res.get("code")) is dict else None
    # words that name a diabetes and say otherwise ("No diabetes", "History of gestational diabetes") decide; words
    # that name none ("Pregnancy", "Antenatal care": rt83, silent) leave the code to speak
    if type(written) is str and (re.search(_DIABETES_WORDS, low := written.lower()) or _GESTATIONAL_WORDS.search(low)) \
            and _diabetes_text(low) is None:
        return None
    return f"coded {coded}"


def _hyperglycaemia_recorded(con: Concept) -> bool:
    """The Condition names hyperglycaemia (drugs.yaml glucose_lowering_reasons hyperglycaemia: its
    ICD-10-CM / SNOMED CT codes or words, or a bare ICD-10-CM header of abnormal glucose, R73 / R73.0,
    read as R73.09 Other abnormal glucose is: local_codes.yaml abnormal_glucose_header_icd10), not
    negated, a relative's or a risk. Memoised on the concept (run on every Condition that names no
    diabetes, on every call; hp8)."""
    found = con.memo.get("hyperglycaemia")
    if found is None:
        found = con.memo["hyperglycaemia"] = _hyperglycaemia_named(con)
    return found


def _hyperglycaemia_named(con: Concept) -> bool:
    if any(is_icd10(system) and T.norm_icd(code) in T.ABNORMAL_GLUCOSE_HEADER_ICD for system, code, _ in con.codings if code):
        return True
    for icd, snomed, words in _HYPERGLYCAEMIA:
        if any((is_snomed(system) and code in snomed) or (is_icd10(system) and T.norm_icd(code).startswith(tuple(icd)))
               for system, code, _ in con.codings if code):
            return True
        if words(con.text) and not _hyperglycaemia_negated(con.text):
            return True
    return False


def _diabetes_type(con: Concept) -> str | None:
    """Diabetes type a Condition names (None: not diabetes): "type1", "type2", "other" (ICD-10-CM
    E13) or "unspecified". The first typed code decides; a code that gives no type 1 / type 2
    (73211009 Diabetes mellitus, E13) is read with the type the text or a display writes ("Type 1
    diabetes" coded 73211009 is type 1: it was read as type 2, missing the type 1 stop)."""
    untyped = None
    for system, code, _ in con.codings:
        if not code:
            continue
        t = None
        if is_snomed(system) and code in T.DIABETES_SNOMED:
            t = T.DIABETES_SNOMED[code]
        elif is_icd10(system):
            n = T.norm_icd(code)
            for prefix, typ in T.DIABETES_ICD:
                if n.startswith(prefix):
                    t = typ
        if t in ("type1", "type2"):
            return t
        untyped = untyped or t
    written = _diabetes_text(con.text)
    if untyped is None:
        return written
    return written if written in ("type1", "type2") else untyped


# diabetes as clinicians write it: the word, or the abbreviations T1DM/T2DM, DM1/DM2, type 2 DM, (N)IDDM
_DIABETES_WORDS_BUT_MODY = r"\bdiabet|\bt[12] ?dm\b|\bdm ?(type ?)?[12]\b|\btype ?([12]|ii?) ?dm\b|\bn?iddm\b|\blada\b"
_DIABETES_WORDS = _DIABETES_WORDS_BUT_MODY + r"|\bmody\b"
# type 1: also "insulin-dependent" (the old name of type 1; "non-insulin-dependent" is type 2), and
# "juvenile(-onset)" / "brittle" diabetes (inclusion terms of E10 Type 1 diabetes mellitus: WHO ICD-10
# 2019, https://icd.who.int/browse10/2019/en/GetConcept?ConceptId=E10-E14, and ICD-10-CM E10)
_TYPE1_WORDS = (r"type 1|type i\b|\biddm\b|(?<!non-)(?<!non )insulin[- ]dependent|\bt1 ?dm\b|\bdm ?(type ?)?1\b"
                r"|\b(?:juvenile(?:[- ]onset)?|brittle)\s+(?:diabet|dm\b)")
# an explicit type 2 wins over "insulin-dependent" ("Type 2 diabetes mellitus, insulin-dependent"
# is insulin-treated type 2, not type 1); "non-insulin-dependent" written out is NIDDM (type 2)
_TYPE2_WORDS = r"type 2|type ii\b|\bniddm\b|\bnon[- ]?insulin[- ]dependent|\bt2 ?dm\b|\bdm ?(type ?)?2\b"


# MODY, maturity-onset diabetes of the young (SNOMED CT 609561005), is a diabetes but neither
# type 1 nor type 2 (a monogenic form; ICD-10-CM and WHO ICD-10 class it differently, E13 other
# specified / E11): read as a diabetes whose type is not recorded (the caution, not the type 1
# stop, CR C.3 row 14). Its own subtype number ("MODY 3", "MODY type 1", HNF4A-MODY) is no
# diabetes type: taken out with it, so "MODY type 1" is not read as type 1 diabetes. MODY is
# not added to the negation / suspicion words of local_codes.yaml (they set aside the whole
# Condition: "Type 2 diabetes; MODY excluded" would lose its type 2); "no MODY" and a family
# history of it are taken out here (_NOT_A_DIAGNOSIS).
_MODY = re.compile(r"\b(?:mody|maturity[- ]onset diabetes(?: mellitus)? (?:of|in) the young)\b"
                   r"(?:[\s,(-]*(?:type\s*)?(?:\d+|[iv]+\b))?(?:\s*\(mody\))?")


_V = T.VOCABULARY
# A MODY the words set aside, within its own clause (no comma or bracket between, so "Type 2
# diabetes, not MODY" keeps its type 2 and "Type 2 diabetes, MODY excluded" is no longer read as
# no diabetes): negated ("no MODY", "not MODY"), ruled out or absent ("MODY ruled out", not
# "MODY not yet excluded"), or a relative's ("MODY in mother", "mother: MODY"; not a relative told
# of the patient's MODY, "Mother informed: MODY": pf4, read as the mother's and dropped, as the
# other readers skip it: relative_told_words, FHIR R4 Condition.subject), or one diagnosed in a
# relative ("MODY diagnosis in sister", "Mother informed of MODY diagnosed in her sister": rt59,
# read as the patient's MODY once the told mother was skipped). The vocabulary
# of local_codes.yaml (negation_words, ruled_out_words, still_open_words, absent_words,
# relative_words: FHIR R4 condition-ver-status 'refuted', FamilyMemberHistory; CR A.4 a diagnosis)
_MODY_NOT_THE_PATIENTS = re.compile(
    rf"\b(?:{_V['negation_words']}|denied|free of|{_V['relative_words']}(?:'s)?(?!\s+{_V['relative_told_words']}\b))"
    rf"\b[^.;|,()]{{0,30}}?\bmody\b"
    rf"|\bmody\b(?:(?!\b{_V['still_open_words']}\b)[^.;|,()]){{0,30}}?\b(?:{_V['ruled_out_words']}|{_V['absent_words']})\b"
    rf"|\bmody\b[^.;|,()]{{0,20}}?\bin\s+(?:(?:his|her|the|a)\s+)?{_V['relative_words']}\b")


@lru_cache(maxsize=4096)
def _mody_read(text: str) -> str:
    """The text with each MODY written " mody " (_MODY), the ones that are not the patient's
    taken out (_MODY_NOT_THE_PATIENTS)."""
    if "mody" not in text and "maturity" not in text:
        return text
    return _MODY_NOT_THE_PATIENTS.sub(" ", _MODY.sub(" mody ", text))


def _mody_suspected_alone(text: str) -> bool:
    """A MODY written as a suspicion ("possible MODY", "suspected MODY", "MODY not yet excluded":
    local_codes.yaml diabetes suspicion_patterns, read as they read a diabetes) with no other
    diabetes named: condition-ver-status unconfirmed, not counted (gap diabetes-unconfirmed).
    Beside a diabetes named ("Type 2 diabetes, possible MODY") the diabetes stands."""
    read = _mody_read(text)
    return ("mody" in read and not re.search(_DIABETES_WORDS_BUT_MODY, read)
            and bool(_diabetes_suspected(read.replace(" mody ", " diabetes "))))


@lru_cache(maxsize=4096)
def _diabetes_text(text: str) -> str | None:
    """Diabetes type named in a Condition's text (None: not diabetes).

    Only a diagnosis counts (CR A.4): a family history ("family history of", "FH"),
    a risk ("at risk for") or a screening names diabetes without the patient having it.
    """
    text = _mody_read(text)  # a diabetes; its subtype number is no diabetes type
    text = _PATIENT_AND_RELATIVE.sub(" patient ", text)  # "in mother and patient": the patient's too
    text = _NOT_A_DIAGNOSIS.sub(" ", text)  # the mentions that are no diagnosis, taken out
    # "not diabetic" sets aside the clause it is written in, not a diabetes named in another
    # clause ("Type 2 diabetes; type 1 diabetes ruled out" is a type 2 diabetes: it was read as no
    # diabetes, the caution lost, CR C.3 row 14); the patterns stop at . ; | as these clauses do
    if T.DIABETES_NOT_THE_PATIENTS.search(text) or (
            _BARE_TYPE.search(text) and T.DIABETES_NOT_THE_PATIENTS.search(_BARE_TYPE.sub(r"type \1 diabetes", text))):
        text = " ; ".join(_diabetes_clause_asserted(c) for c in re.split(r"[.;|]", text))
    if re.search(_DIABETES_WORDS, text) and not T.DIABETES_NOT_THE_PATIENTS.search(text):  # "not diabetic"
        if re.search(_TYPE2_WORDS, text):
            return "type2"
        return "type1" if re.search(_TYPE1_WORDS, text) else "unspecified"
    return None


def _diabetes_clause_asserted(clause: str) -> str:
    """The clause, or what of it names the patient's diabetes: a clause a negation, a relative or
    a risk sets aside is kept in its comma / bracket parts that name a diabetes of their own when
    the setting-aside words stand in another part naming the other type ("T2DM, not T1DM", "Type 1
    diabetes, not T2DM": the other type is negated, not the diabetes); else nothing ("Diabetes,
    ruled out", "No diabetes, mother has T2DM")."""
    typed = _BARE_TYPE.sub(r"type \1 diabetes", clause)  # "Type 1 diabetes, not type 2": type 2 set aside
    if not (re.search(_DIABETES_WORDS, typed) and T.DIABETES_NOT_THE_PATIENTS.search(typed)):
        return clause
    # (a spaced dash or a colon parts them too: "Diabetes - type 1 excluded", "LADA - not type 2")
    parts = re.split(r"[,():]|\s[-\u2013\u2014]+\s", clause)
    # a part that names a type alone ("type 1 excluded", "not type 1") speaks of that type of diabetes
    read = [p if re.search(_DIABETES_WORDS, p) else _BARE_TYPE.sub(r"type \1 diabetes", p) for p in parts]
    aside = [i for i, r in enumerate(read) if re.search(_DIABETES_WORDS, r) and T.DIABETES_NOT_THE_PATIENTS.search(r)]
    set_aside = [read[i] for i in aside]
    rest = " , ".join(p for i, p in enumerate(parts) if i not in aside)
    kept = _written_type(rest)
    # only the other type set aside: "No diabetes, mother has T2DM" stays no diabetes
    if (kept and set_aside and all(_written_type(p) not in (None, kept) for p in set_aside)
            and not T.DIABETES_NOT_THE_PATIENTS.search(rest)):
        return rest
    # "Diabetes (type 1 excluded)", "Diabetes, not T1DM", "T1DM excluded, LADA": only a type is set
    # aside, a diabetes of no written type is still named (untyped: the caution, not the type 1 stop,
    # CR C.3 row 14; rt54: a type written with its diabetes word, "T1DM", set the whole diabetes aside)
    if (set_aside and (all(parts[i] != read[i] for i in aside) or (not kept and all(_written_type(r) for r in set_aside)))
            and re.search(_DIABETES_WORDS, rest) and not T.DIABETES_NOT_THE_PATIENTS.search(rest)):
        return rest
    return ""


# a diabetes type written without the word diabetes ("type 1 excluded", "not type I"), as the type
# words of _TYPE1_WORDS / _TYPE2_WORDS write it
_BARE_TYPE = re.compile(r"\btype ?(1|2|ii|i)\b(?!\s*(?:diabet|dm\b|mellitus))")


def _written_type(text: str) -> str | None:
    """"type2" / "type1" as the words write it (an explicit type 2 wins), else None."""
    if not re.search(_DIABETES_WORDS, text):
        return None
    return "type2" if re.search(_TYPE2_WORDS, text) else "type1" if re.search(_TYPE1_WORDS, text) else None


@lru_cache(maxsize=4096)
def _diabetes_history(text: str) -> bool:
    """A counted diabetes Condition's text (or a display) writes it as a history ("History of
    diabetes mellitus"; local_codes.yaml diabetes history_patterns). A family history is taken
    out first (it is no diagnosis of the patient's)."""
    return any(T.DIABETES_HISTORY.search(_NOT_A_DIAGNOSIS.sub(" ", part)) for part in text.split(" | "))


# a diabetes mention that names no diabetes of the patient: prediabetes, diabetes insipidus,
# gestational diabetes, borderline diabetes (prediabetes: local_codes.yaml diabetes prediabetes_patterns), "no diabetes", a family history, a risk or a screening of it. Only the
# mention they qualify is taken out (within one clause: no comma, ";" or bracket between), so a
# diabetes named beside one is still read ("Type 2 diabetes; family history of diabetes",
# "Type 2 diabetes, high cardiovascular risk", "Gestational diabetes, now type 2 diabetes")
_MENTION = r"(?:diabet\w*|\bt[12] ?dm\b|\bdm ?(?:type ?)?[12]\b|\btype ?(?:[12]|ii?) ?dm\b|\bn?iddm\b|\bmody\b|\blada\b)"
_CLAUSE = r"[^.;|,()]{0,30}?"
# a screening that diagnosed the diabetes it names ("T2DM confirmed on screening", "Type 2 diabetes diagnosed at
# screening", "Screening positive - confirmed T2DM"): a diagnosis (CR A.4), not a screening taken out (rt72: the
# type 2 diabetes was lost, silently); not one that did not ("not confirmed", "to be confirmed", "not detected")
_DIAGNOSED = r"(?<!not )(?<!be )(?<!yet )(?<!never )\b(?:confirmed|diagnosed|detected|found|identified)\b"
_CLAUSE_UNDIAGNOSED = rf"(?:(?!{_DIAGNOSED})[^.;|,()]){{0,30}}?"
# a screening for a diabetes's complications ("Screen for diabetes complications", "Screening for diabetes-related
# eye disease": rt79, taken out as a screening for diabetes, the patient's diabetes lost) names the diabetes: the
# mention is not the screening's object when a complication follows it
_NOT_ITS_COMPLICATION = (r"\b(?!(?:\s+mellitus)?\s*-?\s*(?:related\b|complications?\b|eyes?\b|foot\b|feet\b|kidneys?\b"
                         r"|retinopathy|nephropathy|neuropathy|macular|microalbumin))")
# what may follow a "screen" written after the diabetes for it to be a screening for that diabetes: nothing in
# its clause, or the screening's result ("Diabetes screen negative", "Diabetes screen - HbA1c 5.2%", "T2DM screen")
_SCREEN_RESULT_ONLY = (r"(?=\s*[-:]?\s*(?:$|[.;|,()]|(?:result\w*\s*[-:]?\s*)?(?:negative|positive|normal|abnormal"
                       r"|neg\b|pos\b|[-+]ve\b|hb\s?a1c|a1c|ogtt|fasting|glucose)))")
# a relative's diabetes as written, with its type ("Diabetes mellitus type 2 in mother") or its type
# alone ("Type 1 diabetes, brother type 2", "Diabetes, mother type 1": rt54, the relative's type was
# read as the patient's, the type 1 stop lost or put on a relative's type 1; CR C.3 row 14)
_RELATIVES_DIABETES = (r"(?:" + _MENTION + r"(?:\s+mellitus)?(?:\s+type ?(?:[12]|ii?)\b)?"
                       r"|\btype ?(?:[12]|ii?)\b(?:\s*(?:diabet\w*|dm\b))?(?:\s+mellitus)?)")
# The patient named beside a relative ("Type 2 diabetes in mother and patient", "Patient and mother:
# T2DM", "self and sister"): the diabetes is the patient's too (FHIR R4 Condition.subject; CR A.4 a
# diagnosis of the patient's), read as the patient's before a relative's is taken out (rt59: coded
# E11.9 it was asked, the words read as a relative's alone). Not "patient's mother".
_PATIENT_NAMED = r"(?:the\s+)?(?:patient|pt|self|herself|himself)\b(?!'s)"
_PATIENT_AND_RELATIVE = re.compile(
    rf"\b(?:both\s+)?{_PATIENT_NAMED}\s*(?:and|&|\+|/)\s*(?:(?:her|his|the)\s+)?{_V['relative_words']}(?:'s)?\b"
    rf"|\b(?:both\s+)?{_V['relative_words']}\s*(?:and|&|\+|/)\s*{_PATIENT_NAMED}")
_NOT_A_DIAGNOSIS = re.compile(
    r"\bpre[-\s]*diabet\w*|" + _MENTION + r"\s+insipidus|\b(?:(?<!pre-)(?<!pre )gestational|borderline)\s+" + _MENTION
    + r"(?:\s+mellitus)?"
    r"|\bno\s+" + _MENTION
    + r"|(?:family (?:history|hx)|\bfh\b|\brisk\b)" + _CLAUSE + _MENTION
    + r"|screening" + _CLAUSE_UNDIAGNOSED + _MENTION + _NOT_ITS_COMPLICATION + rf"(?![^.;|,()]{{0,20}}?{_DIAGNOSED})"
    # (not a risk of something else after it: "Diabetes - at risk of foot ulcer", "T2DM at risk for
    # hypoglycaemia" name the patient's diabetes: rt59, coded E11.9 it was asked, not counted)
    + r"|" + _MENTION + _CLAUSE + r"(?:(?<!\bat )\brisk\b|\bat risk\b(?!\s+(?:of|for)\s+(?!(?:developing\s+)?"
    + _MENTION + r")))"
    + r"|" + _MENTION + _CLAUSE_UNDIAGNOSED + r"screening"
    # the word "screen" as "screening" ("Diabetes screen", "Diabetes screen negative", "Diabetes screen - HbA1c
    # 5.2%", "Screen for diabetes", "Screened for diabetes - negative": pf7, read as the patient's type 2
    # diabetes, the PI3K/AKT/mTOR caution as if diagnosed; _SCREENED_FOR_DIABETES reads "screen" so already),
    # written next to the diabetes it screens for: not a diabetic complication's screen ("Diabetic foot
    # screen", "Screen for diabetes complications": rt79) nor a diabetes beside a screen for something else
    # ("T2DM - screen for retinopathy"); a diabetes before "screen" only when nothing but the screening's
    # result follows ("Diabetes screen negative", "T2DM screen"), not a screen of something else ("Type 2
    # diabetes - screen eyes", "T1DM screen: coeliac": rt79, the diabetes lost, silently)
    + r"|\bscreen(?:ed)?\s+(?:test\s+)?for\s+(?:(?:type\s*(?:[12]|ii?)|t[12])\s+)?(?!diabetic\b)" + _MENTION
    + _NOT_ITS_COMPLICATION + rf"(?![^.;|,()]{{0,20}}?{_DIAGNOSED})"
    + r"|(?!diabetic\b)" + _MENTION + r"(?:\s+mellitus)?(?:\s+type\s*(?:[12]|ii?))?\s*[-:]?\s*screen\b" + _SCREEN_RESULT_ONLY
    + rf"(?![^.;|,()]{{0,20}}?{_DIAGNOSED})"
    # a LADA ruled out or absent (local_codes.yaml diabetes not_the_patients_patterns do not name LADA),
    # not one still open ("LADA not excluded": rt54, taken out, no diabetes and no gap), or negated
    # before ("Not LADA", "Type 2 diabetes (not LADA)": rt54, read as a LADA recorded, its type asked);
    # the vocabulary of local_codes.yaml as _MODY_NOT_THE_PATIENTS reads it (FHIR R4 condition-ver-status)
    + rf"|\blada\b(?:(?!\b{_V['still_open_words']}\b)[^.;|,()]){{0,30}}?\b(?:{_V['ruled_out_words']}|{_V['absent_words']})\b"
    + rf"|\b(?:ruled out|excluded|{_V['negation_words']}|denied|free of)\s+(?:for\s+)?lada\b"
    # a relative's diabetes, the relative named before it ("mother has T2DM", "father: type 1
    # diabetes") or after it ("T2DM in mother", "Type 2 diabetes (father)"): FHIR R4
    # FamilyMemberHistory, not the patient's (local_codes.yaml vocabulary relative_words, as the ILD
    # and long QT readers read them; CR A.4 a diagnosis of the patient's)
    # (not a relative told of the patient's diabetes, "Mother informed: type 2 diabetes": fx5,
    # local_codes.yaml vocabulary relative_told_words, FHIR R4 Condition.subject)
    + r"|\b" + _V["relative_words"] + r"(?:'s)?\b(?!\s+" + _V["relative_told_words"] + r"\b)" + _CLAUSE + _RELATIVES_DIABETES
    + r"|" + _RELATIVES_DIABETES + r"[^.;|,()]{0,10}?\bin\s+(?:(?:his|her|the|a|both|patient'?s)\s+)?" + _V["relative_words"] + r"\b"
    + r"|" + _RELATIVES_DIABETES + r"(?:\s+mellitus)?\s*[-:(]\s*" + _V["relative_words"] + r"\s*\)?\s*(?=$|[.;|,])")


# A diabetes screening written as positive ("T2DM screening positive", "Positive screen for type 2
# diabetes", "Diabetes screening: abnormal"): a screening test is no diagnosis (CR A.4 a diagnosis;
# local_codes.yaml: "a risk or a screening names a condition the patient does not have"), yet a positive
# one leaves a diabetes neither confirmed nor refuted: asked (gap diabetes-unconfirmed), not counted and
# not silent. pf5: uncoded it was read as no diabetes, "Positive screen for type 2 diabetes" as a type 2
# diabetes ("screen" was not read as "screening"), coded E11.9 as a code and words disagreeing on whose
# diabetes it is. The screening of diabetes itself, not of a diabetic complication ("Diabetic retinopathy
# screening positive") nor of prediabetes; within one clause; a negative, normal or not positive one is none.
# Nor a gestational diabetes's screening nor a family-history screen (rt72: "Gestational diabetes screen
# positive", "Positive family history screen for diabetes" were asked as the patient's diabetes screening;
# _NOT_A_DIAGNOSIS: gestational diabetes and a family history name no diabetes of the patient's).
# (not a complication's screen nor a "screen" of something else after the diabetes, as _NOT_A_DIAGNOSIS reads
# them: "T1DM screen: coeliac positive", "Screen for diabetes complications - abnormal" were a positive diabetes
# screening, the diabetes asked as not confirmed, rt79)
_SCREENED_FOR_DIABETES = re.compile(
    r"(?<!history )(?<!hx )(?<!\bfh )\bscreen(?:ing)?\s+(?:test\s+)?(?:for\s+)?(?:(?:type\s*(?:[12]|ii?)|t[12])\s+)?(?!diabetic)"
    + _MENTION + _NOT_ITS_COMPLICATION + r"|(?<!pre-)(?<!pre )(?<!gestational )(?<!borderline )\b(?!diabetic)" + _MENTION
    + r"(?:\s+mellitus)?(?:\s+type\s*(?:[12]|ii?))?\s*:?\s*(?:screening\b|screen\b" + _SCREEN_RESULT_ONLY + ")")
_SCREEN_POSITIVE = re.compile(r"(?<!\bnot )(?:\bpositive\b|\+ve\b|\bpos\b|\babnormal\b)")
_SCREEN_NEGATIVE = re.compile(r"\bnegative\b|-ve\b|\bnormal\b|\bnot (?:positive|abnormal)\b")
# an HbA1c written in the screening's clause in the diabetes range ("Screening for diabetes: HbA1c 6.8%":
# rt72, read as no diabetes, silently): positive as the word is (HbA1c >= 6.5 %, CR C.2 safety overlays,
# mappings.state HBA1C_HIGH_PERCENT); a bound ("<6.5%") is no value. Written in IFCC units as well
# ("HbA1c 53 mmol/mol": pf7, not read while "HbA1c 7.0%" was), converted to NGSP % by the NGSP / IFCC
# master equation as a coded result is (_hba1c_conv: NGSP % = 0.09148 x IFCC + 2.152, http://www.ngsp.org/ifcc.asp;
# IFCC HbA1c network, Hoelzel et al. Clin Chem 2004;50:166-74): 48 mmol/mol is 6.5 %
_SCREEN_HBA1C = re.compile(r"\b(?:hb\s?a1c|a1c)\b\s*(?:of|was|is|:|=)?\s*(\d+(?:\.\d+)?)\s*" + _HBA1C_UNIT)


def _screen_hba1c_percent(m: re.Match[str]) -> float:
    """The HbA1c an _SCREEN_HBA1C match writes, in NGSP % (a value in mmol/mol converted)."""
    value = float(m.group(1))
    return value if m.group(2) == "%" else _hba1c_conv(value, "mmol/mol")[0]


@lru_cache(maxsize=4096)
def _diabetes_screen_positive(text: str) -> bool:
    """The (lower-case) text writes a screening for diabetes as positive, in one clause, and names
    no diabetes beside it, in another clause ("Diabetes screening positive; type 2 diabetes confirmed")
    or in its own ("Diabetes screening positive - confirmed T2DM on OGTT": rt72, asked as a screening,
    the type 2 diabetes not counted): that is a diagnosis (CR A.4)."""
    if "screen" not in text:
        return False
    clauses = re.split(r"[;|]|\.(?!\d)", text)  # not at a decimal point ("HbA1c 6.8%")
    positive = [c for c in clauses if _SCREENED_FOR_DIABETES.search(c) and not _SCREEN_NEGATIVE.search(c) and (
        _SCREEN_POSITIVE.search(c) or any(_screen_hba1c_percent(m) >= HBA1C_HIGH_PERCENT for m in _SCREEN_HBA1C.finditer(c)))]
    # the screening taken out of its clause, what is left is read for a diabetes named
    rest = " ; ".join(_SCREENED_FOR_DIABETES.sub(" ", c) if c in positive else c for c in clauses)
    return bool(positive) and _diabetes_text(rest) is None


# --- lung ----------------------------------------------------------------------------------
_ild_text = memo_search(T.ILD_TEXT)
_ild_not_the_patients = memo_search(T.ILD_NOT_THE_PATIENTS)
_ild_suspected = memo_search(T.ILD_SUSPECTED)
_ild_infectious = memo_search(T.ILD_INFECTIOUS)
_ild_named = memo_search(T.ILD_INFECTIOUS_UNLESS)
_ild_cause_differential = memo_search(T.ILD_CAUSE_DIFFERENTIAL)
_ild_aspiration = memo_search(T.ILD_ASPIRATION)
# a pneumonitis whose cause leaves open whether it is the ILD/pneumonitis the labels mean
# (local_codes.yaml ild cause_differential_patterns, aspiration_patterns): why, as the gap says it
_ILD_CAUSE_UNCLEAR = {
    "cause-differential": "its cause written as infectious or not",
    "aspiration": "an aspiration pneumonitis (a chemical / infectious lung injury, not an interstitial lung "
                  "disease: whether the labels' ILD/pneumonitis means it is not settled, CR A.4, B.11)",
}
# Condition.clinicalStatus of an ILD no longer active, as the card says it (still history)
_NO_LONGER = {"resolved": "resolved", "remission": "in remission since", "inactive": "inactive since"}


def _grade(text: str) -> int | None:
    """The worst grade the text names ("now grade 1, was grade 3" is a grade 3 episode)."""
    grades = []
    for m in _GRADE_RE.finditer(text):
        g = (m.group(1) or m.group(2)).lower()
        grades.append(int(g) if g.isdigit() else _ROMAN[g])
    return max(grades, default=None)


@lru_cache(maxsize=4096)
def _ild_grade_text(text: str) -> str:
    """The text without the clauses that grade another side effect and name no ILD ("Grade 1
    pneumonitis, resolved; grade 3 diarrhoea", a note "also grade 3 neutropenia"): that grade is
    not the ILD's (a grade 3 there stopped T-DXd as symptomatic ILD, CR B.11). Side effects:
    local_codes.yaml stop_reasons side_effect_words."""
    if not text or not _GRADE_RE.search(text):
        return text
    # clauses also at a comma or a joining word ("Pneumonitis grade 1, diarrhoea grade 3",
    # "grade 1 pneumonitis with grade 3 neutropenia"): a grade beside a side effect and no ILD word
    return " ; ".join(c for c in re.split(r"[.;|\n,]|\b(?:and|with|plus|also)\b", text)
                      if not (_GRADE_RE.search(c) and _another_side_effect(c) and not _ild_text(c)))


# side-effect words that name no side effect of their own ("grade 3 toxicity", "adverse event",
# "infection excluded"): a grade beside them may be the ILD's
_GENERIC_SIDE_EFFECT = re.compile(r"toxicit|adverse|intoleran|side[- ]effect|infection", re.I)


def _another_side_effect(clause: str) -> bool:
    """The clause names a side effect (local_codes.yaml stop_reasons side_effect_words) other than
    a generic word: "diarrhoea", "neutropenia", not "toxicity" alone."""
    return any(not _GENERIC_SIDE_EFFECT.match(m.group(0)) for m in T.SIDE_EFFECT_TEXT.finditer(clause))


def _grade_range(text: str) -> tuple[str, list[str]]:
    """(the text with its grade ranges taken out, the ranges that span grade 1 and a symptomatic
    grade as written: "grade 1-2"). Grade 1 is asymptomatic, grade >= 2 symptomatic (CR B.11):
    such a range does not say which (the gap ild-grade-unclear); a range from grade 2 up ("grade
    2-3") is symptomatic either way, its worst grade counts."""
    spanning: list[str] = []

    def one(m: re.Match[str]) -> str:
        lo, hi = ((m.group(1) or m.group(3)).lower(), (m.group(2) or m.group(4)).lower())
        lo_n, hi_n = (int(x) if x.isdigit() else _ROMAN[x] for x in (lo, hi))
        if lo_n == 1 and hi_n >= 2:
            spanning.append(m.group(0))
            return " "
        return f" grade {max(lo_n, hi_n)} "
    return _GRADE_RANGE_RE.sub(one, text), spanning


_ASYMPTOMATIC = re.compile(r"\b(?:a|non-?)symptomatic\b", re.I)


def _asymptomatic_written(text: str) -> bool:
    """The words call the ILD asymptomatic (CTCAE v5.0 grade 1), not "not asymptomatic"."""
    return any(not _NEGATED_BEFORE.search(text[max(0, m.start() - 25):m.start()]) for m in _ASYMPTOMATIC.finditer(text))


@lru_cache(maxsize=4096)
def _symptomatic_words(text: str) -> tuple[str, ...]:
    """The words that call the ILD symptomatic, steroid-requiring or on oxygen, not negated
    ("not requiring steroids", "not on oxygen")."""
    return tuple(m.group(0) for m in _ILD_SYMPTOMATIC.finditer(text)
                 if not _NEGATED_BEFORE.search(text[max(0, m.start() - 25):m.start()])
                 and not _FOR_ANOTHER_CONDITION.match(text, m.end()))


# steroids or oxygen the record gives for another condition ("treated with prednisone for gout",
# "on home oxygen for COPD"): no intervention for the ILD (CTCAE v5.0 pneumonitis grade 2 is
# "medical intervention indicated" for it); not a time ("for 6 weeks", "for two weeks"), the ILD
# itself or its symptoms ("for the pneumonitis", "for dyspnoea")
_FOR_ANOTHER_CONDITION = re.compile(
    r"\s+(?:for|due to|because of)\s+(?!(?:the\s+|her\s+|his\s+|this\s+|its\s+)?(?:ild\b|pneumonitis|interstitial|lung|it\b|this\b"
    r"|symptom|cough|dyspn|breath|shortness|hypox|desat|sob\b)|\d|(?:a|an|one|two|three|four|five|six|several|few|some|many)\b"
    r"|(?:\w+\s+)?(?:days?|weeks?|months?|years?|wks?)\b)[a-z]", re.I)


def _symptomatic_severity(res: dict[str, Any]) -> str | None:
    """'severity moderate' / 'severity severe' when Condition.severity says so, else None."""
    sev = res.get("severity")
    if (any(c in _ILD_SYMPTOMATIC_SEVERITY and is_snomed(s) for s, c, _ in codings(sev))
            or re.fullmatch(r"\s*(moderate|severe)\s*", cc_text(sev), re.I)):
        return f"severity {cc_text(sev) or 'moderate/severe'}"
    return None


def _ild_reading(con: Concept) -> str | None:
    """How a Condition code reads (memoised per concept): "ild", "suspected" (written as a
    suspicion), a key of _ILD_CAUSE_UNCLEAR (a cause that leaves it open: named in the gap
    ild-unconfirmed, not counted), or None (not ILD / pneumonitis, not the patient's, or an
    infection)."""
    found = con.memo.get("ild", _UNSET)
    if found is not _UNSET:
        return found
    coded = any_cause = False
    for system, code, _ in con.codings:
        if not code:
            continue
        if is_snomed(system) and code in T.ILD_SNOMED:
            if code in T.ILD_ANY_CAUSE_SNOMED:
                any_cause = True
            else:
                coded = True
        elif is_icd10(system) and T.norm_icd(code).startswith(T.ILD_ICD):
            coded = True
    text = con.text
    suspected = _ild_suspected(text)
    if not (coded or any_cause or _ild_text(text) or suspected) or _ild_not_the_patients(text):
        found = None
    elif not coded and _ild_infectious(text) and not _ild_named(text):
        # "COVID-19 pneumonitis": an infection, not the non-infectious ILD the labels mean; "Radiation
        # vs viral pneumonitis" leaves the non-infectious one open
        found = "cause-differential" if _ild_cause_differential(text) else None
    elif not coded and not suspected and _ild_aspiration(text) and not _ild_named(text):
        found = "aspiration"
    else:
        found = "suspected" if suspected else "ild"
    con.memo["ild"] = found
    return found


def _ild_when(res: dict[str, Any], onset: dt.date | None, last: dt.date | None) -> str:
    """The onset as written, with the clinical status and abatement date of an ILD no longer
    active ("2023-05 (resolved 2023-08-01)"; FHIR R4 Condition.clinicalStatus, abatement[x])."""
    when = date_written(onset, last) if onset else "date unknown"
    status = next((c for _, c, _ in codings(res.get("clinicalStatus")) if c), "")
    abated, _ = period(res, "abatement")
    abated = abated or parse_date(res.get("abatementString"))
    if status not in _NO_LONGER and abated is None:
        return when
    words = _NO_LONGER.get(status, "abated")
    if abated is None:
        return f"{when} ({words.removesuffix(' since')})"
    raw = res.get("abatementDateTime") or res.get("abatementString") or (res.get("abatementPeriod") or {}).get("start")
    return f"{when} ({words} {date_written(abated, partial_last(abated, date_last(raw)))})"


def _ild_grade_unclear(ctx: Ctx, lung: LungDisease, kind: str, said: list[str], how: str) -> None:
    """Whether the ILD was symptomatic left open (LungDisease.symptomatic_unclear_kind `kind`: a
    grade 1 said symptomatic, an asymptomatic one said steroid-treated, a range), the record's
    words named in the gap ild-grade-unclear (CR B.11: symptomatic = grade >= 2)."""
    lung.symptomatic = None
    lung.symptomatic_unclear = said
    lung.symptomatic_unclear_kind = kind
    ctx.gap("ild-grade-unclear",
            "ILD/pneumonitis " + how + "; ".join(said)
            + ": whether it was symptomatic (grade >= 2) is unclear. Clarify before trastuzumab deruxtecan "
            "(the label permanently stops it after symptomatic ILD on it, B.11; a history of ILD is a "
            "prominent warning, C.2 safety overlays) or datopotamab deruxtecan.",
            lung.sources)


def _lung(ctx: Ctx) -> LungDisease:
    """ILD / pneumonitis from the patient's Conditions: a code (codes.yaml conditions.ild) or
    the words (local_codes.yaml ild). Not read: one whose text is not the patient's ("no
    evidence of ILD", "family history of pulmonary fibrosis", "at risk of pneumonitis") or an
    infection written as pneumonitis ("COVID-19 pneumonitis"). Refuted or entered-in-error ones
    never reach here (build._status_skip). A resolved / inactive one is still history (the
    labels ask about a history of ILD): the card says it resolved and when. A provisional /
    differential / unconfirmed one (FHIR R4 condition-ver-status) or one written as a
    suspicion is not counted: it is named in the gap ild-unconfirmed and in the ILD cautions,
    as an unconfirmed diabetes is, so it never stops T-DXd."""
    lung = LungDisease()
    grades: list[int] = []
    symptomatic = False
    unclear: list[str] = []
    ranged: list[str] = []  # a grade range spanning grade 1 and a symptomatic grade ("grade 1-2")
    asymptomatic_unclear: list[str] = []  # written as asymptomatic and as steroid-treated / symptomatic
    episodes: list[tuple[dt.date, str]] = []
    for res in ctx.of("Condition"):
        try:
            con = ctx.concept_of(res)
            reading = _ild_reading(con)
            if reading is None:
                continue
            text = con.text
            onset = condition_onset(res)
            last = condition_onset_last(res, onset)
            notes = notes_text(res)
            # every grade the record gives (text, notes, stage, grade extension): the worst counts
            graded, ranges = _grade_range(_ild_grade_text(text) + " " + cc_text(res.get("severity")) + " "
                                          + _ild_grade_text(notes))
            found = [_grade(graded)]
            for st in as_list(res.get("stage")):
                if isinstance(st, dict):
                    found.append(_grade(cc_text(st.get("summary"))))
            for ext in as_list(res.get("extension")):
                if isinstance(ext, dict) and "grade" in text_of(ext.get("url")):
                    vi = number(ext.get("valueInteger"))
                    found.append(int(vi) if vi is not None else _grade("grade " + cc_text(ext.get("valueCodeableConcept"))))
            g = max((x for x in found if x), default=None)
            said = list(dict.fromkeys(_symptomatic_words(text) + _symptomatic_words(notes)))
            severity = _symptomatic_severity(res)
            if severity:
                said.append(severity)
            when = _ild_when(res, onset, last)
            if reading == "suspected":  # the words that say so (the text, not a coding's display)
                words = next((part for part in text.split(" | ") if _ild_suspected(part)), text)
                why = unconfirmed_status(res) or f"written as a suspicion ({words[:80]!r})"
            elif reading in _ILD_CAUSE_UNCLEAR:
                why = unconfirmed_status(res) or f"{_ILD_CAUSE_UNCLEAR[reading]} ({text[:80]!r})"
            else:
                why = unconfirmed_status(res)
            if why:
                bits = "".join((f", grade {g}" if g else "", f", {', '.join(said)}" if said else ""))
                lung.unconfirmed.append(f"{why} ({when}{bits})")
                lung.unconfirmed_sources.append(ctx.source(res, onset, f"ILD / pneumonitis ({why})", date_last=last))
                continue
            lung.ild_history = True
            lung.sources.append(ctx.source(res, onset, "ILD / pneumonitis", date_last=last))
            if onset is not None or when != "date unknown":
                episodes.append((onset or dt.date.max, when))
            if g:
                grades.append(g)
            if ranges and not (g and g >= 2) and not said:
                # "ILD: grade 1-2": grade 1 or a symptomatic grade, the record does not say which
                ranged.append(", ".join(repr(w) for w in ranges) + f" ({when})")
            if said and g == 1:
                # grade 1 is asymptomatic (CR B.11): a record that also calls it symptomatic,
                # steroid-requiring or on oxygen does not say which is right
                unclear.append(", ".join(repr(w) for w in said) + f" ({when})")
            elif said and not g and _asymptomatic_written(text + " | " + notes):
                # "Asymptomatic pneumonitis, treated with prednisone": asymptomatic is CTCAE v5.0
                # grade 1, the steroids grade 2 - the record does not say which, as a grade 1 written so
                asymptomatic_unclear.append(", ".join(repr(w) for w in said) + f" ({when})")
            elif said:
                symptomatic = True
        except Exception:  # noqa: BLE001
            continue
    lung.episodes = list(dict.fromkeys(w for _, w in sorted(episodes, key=lambda e: e[0])))
    if grades:
        lung.grade = max(grades)
        lung.symptomatic = lung.grade >= 2
    if symptomatic:  # symptomatic without a grade (or with a lower one) is still grade >= 2 (CR B.11)
        lung.symptomatic = True
    elif unclear and lung.grade == 1:
        # neither grade >= 2 nor asymptomatic is what the record says
        _ild_grade_unclear(ctx, lung, "graded-1", unclear, "recorded as grade 1 but also written as ")
    elif asymptomatic_unclear and not (lung.grade and lung.grade >= 2):
        # asymptomatic (grade 1) and symptomatic words in one record
        _ild_grade_unclear(ctx, lung, "asymptomatic", asymptomatic_unclear,
                           "written as asymptomatic (grade 1) but also as ")
    elif ranged and not (lung.grade and lung.grade >= 2):
        # grade 1 (asymptomatic) or >= 2: the range does not say
        _ild_grade_unclear(ctx, lung, "range", ranged, "recorded with a grade range, ")
    if lung.unconfirmed:
        ctx.gap("ild-unconfirmed",
                "ILD/pneumonitis recorded but not confirmed, not counted: " + "; ".join(lung.unconfirmed)
                + ". Confirm or refute it before an ADC (trastuzumab or datopotamab deruxtecan), everolimus, "
                "a CDK4/6 inhibitor or alpelisib (C.2 safety overlays; A.4).", lung.unconfirmed_sources)
    return lung


# --- long QT syndrome ------------------------------------------------------------------------
_long_qt_text = memo_search(T.LONG_QT_TEXT)
_long_qt_not_the_patients = memo_search(T.LONG_QT_NOT_THE_PATIENTS)
_long_qt_suspected = memo_search(T.LONG_QT_SUSPECTED)


def _long_qt_coded(con: Concept) -> bool:
    """The Condition code is long QT syndrome (ICD-10-CM I45.81, SNOMED CT 9651007), memoised."""
    return _coded_memo(con, "long_qt", lambda s, c: (is_snomed(s) and c in T.LONG_QT_SNOMED)
                       or (is_icd10(s) and T.norm_icd(c) in T.LONG_QT_ICD))


def _long_qt(ctx: Ctx) -> LongQT:
    """Long QT syndrome (CR C.2 safety overlays: a ribociclib warning) from the patient's
    Conditions: a code (codes.yaml conditions.long_qt) or the words (local_codes.yaml long_qt).
    Not read: a Condition no longer active (clinicalStatus inactive/resolved/remission);
    refuted or entered-in-error ones never reach here (build._status_skip); one whose text
    is not the patient's ("no long QT", "family history of long QT syndrome": a relative's
    long QT belongs in FamilyMemberHistory, which is not read, and the same words in a
    Condition's text are not the patient's diagnosis either, whatever its code). A provisional /
    differential / unconfirmed one (FHIR R4 condition-ver-status) or one written as a
    suspicion ("suspected", "r/o", "?") is not counted: it is named in the gap
    long-qt-unconfirmed, as an unconfirmed diabetes is."""
    return _qt_conditions(ctx, _long_qt_coded, _long_qt_text, _long_qt_not_the_patients, _long_qt_suspected,
                          "Long QT syndrome", "long-qt-unconfirmed",
                          "Confirm or refute it before ribociclib (QT prolongation; C.2 safety overlays).")


_prolonged_qt_text = memo_search(T.PROLONGED_QT_TEXT)
_prolonged_qt_not_the_patients = memo_search(T.PROLONGED_QT_NOT_THE_PATIENTS)
_prolonged_qt_suspected = memo_search(T.PROLONGED_QT_SUSPECTED)


def _prolonged_qt_coded(con: Concept) -> bool:
    """The Condition code is a prolonged QT interval (SNOMED CT 111975006), memoised."""
    return _coded_memo(con, "prolonged_qt", lambda s, c: is_snomed(s) and c in T.PROLONGED_QT_SNOMED)


def _coded_memo(con: Concept, key: str, matches: Callable[[str, str], bool]) -> bool:
    """Whether a coding of the concept matches (system, code), memoised on the concept under `key`."""
    found = con.memo.get(key)
    if found is None:
        found = con.memo[key] = any(matches(s, c) for s, c, _ in con.codings if c)
    return found


def _prolonged_qt(ctx: Ctx, qtc: LabValue | None) -> LongQT:
    """A prolonged QT interval recorded as a Condition (codes.yaml conditions.prolonged_qt, the
    words of local_codes.yaml prolonged_qt): the Kisqali QT warning (CR B.10 ribociclib row
    "start only if QTcF <450 ms"; C.2 safety overlays) when no QTc is in the record to say so.
    Read as long QT syndrome is (current, confirmed, the patient's); a Condition that names the
    syndrome is read by _long_qt only. One whose onset a QTc result (8636-3) is dated on or
    after is not counted: the value measured since decides (the QTc caution reads it). A
    suspicion is the gap qt-prolongation-unconfirmed."""
    after = qtc.date if qtc is not None else None
    return _qt_conditions(ctx, _prolonged_qt_coded, _prolonged_qt_text, _prolonged_qt_not_the_patients,
                          _prolonged_qt_suspected, "Prolonged QT interval", "qt-prolongation-unconfirmed",
                          "Confirm it (ECG: QTcF) before ribociclib (start only if QTcF < 450 ms; B.10).",
                          skip=lambda res, con, onset: (_long_qt_coded(con) or _long_qt_text(con.text)
                                                        or (after is not None and onset is not None and after >= onset)))


def _qt_conditions(ctx: Ctx, coded: Callable[[Concept], bool], named: Callable[[str], Any],
                   not_theirs: Callable[[str], Any], suspected_in: Callable[[str], Any], label: str,
                   gap_code: str, advice: str,
                   skip: Callable[[dict[str, Any], Concept, dt.date | None], bool] | None = None) -> LongQT:
    """The current, confirmed Conditions `coded` / `named` reads (long QT syndrome, a prolonged
    QT interval), and the unconfirmed ones (kept only while none is confirmed), named in the
    gap `gap_code` with `advice`."""
    lqt = LongQT()
    for res in ctx.of("Condition"):
        try:
            # what the Condition names first (memoised per concept), its status only then: this
            # runs twice over every Condition (long QT, prolonged QT), nearly all of them neither
            con = ctx.concept_of(res)
            text = con.text
            suspected = suspected_in(text)
            if not (coded(con) or named(text) or suspected):
                continue
            if clinical_status_inactive(res) or not_theirs(text):
                continue
            onset = condition_onset(res)
            if skip is not None and skip(res, con, onset):
                continue
            last = condition_onset_last(res, onset)
            why = unconfirmed_status(res) or (f"written as a suspicion ({text[:80]!r})" if suspected else None)
            if why:
                lqt.unconfirmed.append(why)
                lqt.unconfirmed_sources.append(ctx.source(res, onset, f"{label} ({why})", date_last=last))
                continue
            lqt.documented = True
            lqt.sources.append(ctx.source(res, onset, label, date_last=last))
        except Exception:  # noqa: BLE001
            continue
    if lqt.documented:
        lqt.unconfirmed, lqt.unconfirmed_sources = [], []  # a confirmed one decides
    elif lqt.unconfirmed:
        ctx.gap(gap_code, f"{label} recorded but not confirmed, not counted: " + "; ".join(lqt.unconfirmed)
                + f". {advice}", lqt.unconfirmed_sources)
    return lqt


# --- ECOG -------------------------------------------------------------------------------------


def _ecog(ctx: Ctx, f: PatientFactors) -> None:
    best: tuple[dt.date, int, dict[str, Any], dt.date | None] | None = None
    for obs in ctx.observations_with(T.ECOG_CODES):
        try:
            for s, c, _ in ctx.code_of(obs):
                if c in T.ECOG_CODES and is_loinc(s):
                    break
            else:
                continue
            v = number(obs.get("valueInteger"))
            if v is None:
                v, _, _ = quantity(obs.get("valueQuantity"))
            if v is None:
                for cc in [obs.get("valueCodeableConcept")] + as_list(obs.get("interpretation")):
                    for _, code, _ in codings(cc):
                        if code in T.ECOG_ANSWERS:
                            v = T.ECOG_ANSWERS[code]
                            break
                        if code.isdigit() and len(code) == 1:
                            v = int(code)
                            break
                    if v is not None:
                        break
            if v is None and isinstance(obs.get("valueString"), str):
                m = re.search(r"\b([0-5])\b", obs["valueString"])
                v = int(m.group(1)) if m else None
            if v is None or not (0 <= v <= 5) or v != int(v):
                continue
            d = obs_date(obs)
            key = d or dt.date.min
            if best is None or key >= best[0]:
                best = (key, int(v), obs, d)
        except Exception:  # noqa: BLE001
            ctx.ignore(obs, "unreadable-resource", "ECOG Observation could not be read")
    if best:
        f.ecog = best[1]
        f.ecog_sources = [ctx.source(best[2], best[3], f"ECOG {best[1]}",
                                     date_last=partial_last(best[3], obs_date(best[2], date_last)))]
        f.ecog_status_not_final = not_final_status(best[2])  # type: ignore[assignment]
