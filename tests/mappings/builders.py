"""Small builders for FHIR R4 resources shaped the way EHRs and labs send them.

Each builder returns a plain dict (the JSON the service receives). Codes used
here are the public standard codes (LOINC / SNOMED CT / RxNorm / HGNC) or
deliberately unknown/local ones; the tests never import the mapping tables.
"""

from __future__ import annotations

import itertools
from typing import Any

PID = "p1"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
HGNC = "http://www.genenames.org"
HGNC_GENEID = "http://www.genenames.org/geneId"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def subject(pid: str = PID) -> dict[str, str]:
    return {"reference": f"Patient/{pid}"}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    c = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def cc(*codings_: dict[str, str], text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if codings_:
        out["coding"] = list(codings_)
    if text is not None:
        out["text"] = text
    return out


def patient(pid: str = PID, gender: str = "female", birth: str | None = "1960-05-01") -> dict[str, Any]:
    p: dict[str, Any] = {"resourceType": "Patient", "id": pid, "gender": gender}
    if birth:
        p["birthDate"] = birth
    return p


def condition(code: dict[str, Any], onset: str | None = None, pid: str = PID, rid: str | None = None,
              clinical: str | None = "active", **extra: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"resourceType": "Condition", "id": rid or _id("cond"), "code": code,
                         "subject": subject(pid)}
    if clinical:
        c["clinicalStatus"] = cc(coding("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical))
    if onset:
        c["onsetDateTime"] = onset
    c.update(extra)
    return c


def breast_cancer(onset: str | None = "2015-03-01", **kw: Any) -> dict[str, Any]:
    return condition(cc(coding(SNOMED, "254837009", "Malignant neoplasm of breast (disorder)")), onset, **kw)


def metastasis(snomed: str, display: str, onset: str | None = "2020-01-15", **kw: Any) -> dict[str, Any]:
    return condition(cc(coding(SNOMED, snomed, display)), onset, **kw)


def observation(code: dict[str, Any], date: str | None = "2020-02-01", pid: str = PID, rid: str | None = None,
                status: str = "final", **value: Any) -> dict[str, Any]:
    o: dict[str, Any] = {"resourceType": "Observation", "id": rid or _id("obs"), "status": status,
                         "code": code, "subject": subject(pid)}
    if date:
        o["effectiveDateTime"] = date
    o.update(value)
    return o


def loinc_obs(code: str, date: str | None = "2020-02-01", display: str | None = None, **value: Any) -> dict[str, Any]:
    return observation(cc(coding(LOINC, code, display)), date, **value)


def answer(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"valueCodeableConcept": cc(coding(system, code, display))}


def text_value(text: str) -> dict[str, Any]:
    return {"valueCodeableConcept": {"text": text}}


def quantity(value: float, unit: str = "%", comparator: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    if comparator:
        q["comparator"] = comparator
    return {"valueQuantity": q}


def data_absent(obs: dict[str, Any], reason: str = "not-performed") -> dict[str, Any]:
    """The Observation (or component) with a dataAbsentReason (FHIR R4: why value[x] is missing)."""
    obs["dataAbsentReason"] = cc(coding(DATA_ABSENT_REASON, reason))
    return obs


def component(code: str, **value: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"code": cc(coding(LOINC, code))}
    c.update(value)
    return c


def variant(gene_code: str | None, gene_display: str | None = None, *, system: str = HGNC,
            present: bool | None = True, date: str | None = "2021-06-01", protein: str | None = None,
            dna: str | None = None, origin: str | None = None, significance: str | None = None,
            specimen_display: str | None = None, value_text: str | None = None, rid: str | None = None,
            **extra: Any) -> dict[str, Any]:
    comps = []
    if gene_code is not None or gene_display is not None:
        g = {}
        if gene_code is not None:
            g = coding(system, gene_code, gene_display)
        elif gene_display:
            g = {"display": gene_display}
        comps.append(component("48018-6", valueCodeableConcept=cc(g)))
    if protein:
        comps.append(component("48005-3", valueCodeableConcept=cc(coding("http://varnomen.hgvs.org", protein))))
    if dna:
        comps.append(component("48004-6", valueCodeableConcept=cc(coding("http://varnomen.hgvs.org", dna))))
    if origin:
        comps.append(component("48002-0", valueCodeableConcept=cc(coding(LOINC, origin))))
    if significance:
        comps.append(component("53037-8", valueCodeableConcept=cc(coding(LOINC, significance))))
    value: dict[str, Any] = {}
    if value_text is not None:
        value = {"valueCodeableConcept": {"text": value_text}}
    elif present is True:
        value = answer(LOINC, "LA9633-4", "Present")
    elif present is False:
        value = answer(LOINC, "LA9634-2", "Absent")
    obs = loinc_obs("69548-6", date, "Genetic variant assessment", component=comps, rid=rid, **value)
    if specimen_display:
        obs["specimen"] = {"display": specimen_display}
    obs.update(extra)
    return obs


def med_statement(code: str | None, start: str | None, end: str | None = None, status: str = "completed",
                  display: str | None = None, text: str | None = None, pid: str = PID,
                  rid: str | None = None) -> dict[str, Any]:
    med = cc(*( [coding(RXNORM, code, display)] if code else []), text=text)
    r: dict[str, Any] = {"resourceType": "MedicationStatement", "id": rid or _id("ms"), "status": status,
                         "medicationCodeableConcept": med, "subject": subject(pid)}
    if end:
        r["effectivePeriod"] = {"start": start, "end": end} if start else {"end": end}
    elif start:
        r["effectiveDateTime"] = start
    return r


def med_request(code: str | None, authored: str | None, status: str = "active", intent: str = "order",
                display: str | None = None, text: str | None = None, pid: str = PID,
                end: str | None = None) -> dict[str, Any]:
    med = cc(*( [coding(RXNORM, code, display)] if code else []), text=text)
    r: dict[str, Any] = {"resourceType": "MedicationRequest", "id": _id("mr"), "status": status,
                         "intent": intent, "medicationCodeableConcept": med, "subject": subject(pid)}
    if authored:
        r["authoredOn"] = authored
    if end:
        r["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {"start": authored, "end": end}}}}]
    return r


def med_admin(code: str, date: str, status: str = "completed", display: str | None = None) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": _id("ma"), "status": status,
            "medicationCodeableConcept": cc(coding(RXNORM, code, display)), "subject": subject(),
            "effectiveDateTime": date}


def procedure(code: dict[str, Any], date: str, status: str = "completed") -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": _id("proc"), "status": status, "code": code,
            "subject": subject(), "performedDateTime": date}


# common RxNorm ingredient codes (CR A.5) used as inputs
LETROZOLE = "72965"
ANASTROZOLE = "84857"
EXEMESTANE = "258494"
TAMOXIFEN = "10324"
FULVESTRANT = "282357"
PALBOCICLIB = "1601374"
RIBOCICLIB = "1873916"
ABEMACICLIB = "1946825"
CAPECITABINE = "194000"
PACLITAXEL = "56946"
DOXORUBICIN = "3639"
CYCLOPHOSPHAMIDE = "3002"
GOSERELIN = "50610"
ZOLEDRONIC = "77655"
TDXD = "2267582"


def metastatic_patient(met_date: str = "2020-01-15", *more: dict[str, Any], birth: str = "1960-05-01") -> list[dict[str, Any]]:
    """A woman with breast cancer and a liver metastasis on met_date."""
    return [
        patient(birth=birth),
        breast_cancer("2015-03-01"),
        metastasis("94381002", "Secondary malignant neoplasm of liver", met_date),
        *more,
    ]
