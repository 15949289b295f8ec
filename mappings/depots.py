"""How long one GnRH-agonist depot lasts, read from the record that orders, states or gives it
(mappings/ofs_depots.yaml, DailyMed labels), for the window an ovarian-suppression record is
read as current for: factors._ofs_record_not_current (orders, statements) and therapy.read_exposures
(administrations). Only ever lengthens the 12-week window (a 4- or 6-month depot); a shorter one
keeps it."""

from __future__ import annotations

import re
from typing import Any, Callable

from mappings import tables as T
from mappings.fhir import as_list, cc_text, number, text_of

_DEPOT_WEEKS = {(e["drug"], float(e["mg"])): int(e["weeks"]) for e in T._load("ofs_depots.yaml")["depots"]}
_MG_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*mg\b", re.I)
_NUMBER_WORDS = {"one": 1, "three": 3, "four": 4, "six": 6}
# "6-month", "6 month", "six-month", "24 weeks" in the product name (Lupron Depot / Eligard /
# Trelstar product names; RxNorm SCD / SBD names "6 MONTH leuprolide acetate 45 MG ..."), read
# only from the medication's own name: a dosage text "monthly for 6 months" is a course, not a depot
# Lupron Depot-PED (leuprolide for central precocious puberty) shares strengths with the adult
# depots but not their lengths: 11.25 / 15 mg monthly, 30 mg every 3 months, 45 mg every 6 months
# (DailyMed Lupron Depot-PED label, Dosage and Administration). Its strengths are not read as an adult depot's
# (30 mg is not the adult 4-month depot); its product wording ("3-month") still is.
_PEDIATRIC_RE = re.compile(r"\bped\b|p(a)?ediatric", re.I)
_LENGTH_RE = re.compile(r"\b(\d+|one|three|four|six)[\s-]*(month|mo|week|wk)s?\b", re.I)
# a length that is how long a course runs, not one depot: "monthly for 6 months", "x 6 months",
# "over 24 weeks", "during 6 months", "course of 6 months" (written in the medication's name too)
_COURSE_BEFORE_RE = re.compile(r"(?:\b(?:for|x|over|during|of|within)|×)\s*$", re.I)


def depot_weeks(res: dict[str, Any], names: set[str],
                resolve: Callable[[Any], dict[str, Any] | None]) -> tuple[int, str] | None:
    """(weeks one depot lasts, what said so: "45 mg", "6-month") for a MedicationRequest /
    MedicationStatement / MedicationAdministration of the GnRH agonists `names`, from its
    medication (code text and displays, or the Medication it references) and its dosage (text;
    doseQuantity, or an administration's dosage.dose, in mg). Several that differ ("22.5 mg"
    beside "6-month"): the shortest, as counting suppression too long offers an AI without OFS
    (CR C.3 row 15). None when nothing the table knows is written."""
    med = res.get("medicationCodeableConcept")
    if med is None:
        m = resolve(res.get("medicationReference"))
        med = m.get("code") if m else None
    med_text = cc_text(med)
    dosage = [x for x in as_list(res.get("dosageInstruction") or res.get("dosage")) if isinstance(x, dict)]
    mg_texts = [med_text] + [text_of(x.get("text")) for x in dosage]
    for x in dosage:
        quantities = [dr.get("doseQuantity") for dr in as_list(x.get("doseAndRate")) if isinstance(dr, dict)] + [x.get("dose")]
        for q in quantities:
            if isinstance(q, dict) and text_of(q.get("unit") or q.get("code")) == "mg" and number(q.get("value")) is not None:
                mg_texts.append(f"{q['value']} mg")
    found: list[tuple[int, str]] = []
    if _PEDIATRIC_RE.search(med_text):
        mg_texts = []  # a pediatric depot's strength says nothing of an adult depot's length
    for t in mg_texts:
        for m_ in _MG_RE.finditer(t):
            mg = float(m_.group(1))
            found += [(_DEPOT_WEEKS[(n, mg)], f"{m_.group(1)} mg") for n in sorted(names) if (n, mg) in _DEPOT_WEEKS]
    for m_ in _LENGTH_RE.finditer(med_text):
        if _COURSE_BEFORE_RE.search(med_text, 0, m_.start()):
            continue
        n = _NUMBER_WORDS.get(m_.group(1).lower()) or int(m_.group(1))
        weeks = n * 4 if m_.group(2).lower().startswith("mo") else n
        if 0 < weeks <= 26:
            found.append((weeks, m_.group(0)))
    return min(found) if found else None


def window_days(base_days: int, depot: tuple[int, str] | None) -> int:
    """The current window for a depot: `base_days` (the 12-week depot + its margin), or a longer
    depot's weeks + the same margin."""
    return max(base_days, depot[0] * 7 + base_days - 12 * 7) if depot else base_days
