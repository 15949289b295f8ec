"""Deterministic synthetic HR+/HER2- metastatic breast cancer patients for the benchmark.

`make_patient(n)` returns exactly `n` FHIR R4 resources (JSON dicts) for one patient:

- a clinical core of 30 resources (the patient, primary breast cancer and its
  bone and liver metastases, type 2 diabetes, ER/PR/HER2 tumour markers at
  diagnosis and at the metastatic biopsy with the Part A.1 LOINC codes of
  ../shared/clinical-reference.md, ESR1 (ctDNA) and PIK3CA (tissue) 69548-6
  variants with 48018-6 HGNC components, stage, menopausal status, ECOG, HbA1c,
  adjuvant and metastatic lines of therapy as MedicationStatements with RxNorm
  ingredient codes, biopsies and surgery);
- then the longitudinal record that makes up most of a real chart: fasting
  glucose and HbA1c results, ECOG scores, monthly prescription refills
  (MedicationRequest), fulvestrant and zoledronic acid injections
  (MedicationAdministration) and imaging (Procedure), spread evenly over
  2019-01 .. 2025-05.

The shape follows US Core / mCODE (meta.profile, identifier, category, coding
plus text, subject and encounter references, performer, reference ranges), with
no narrative `text.div`, so a 300-resource patient is ~205 KiB as a CDS Hooks
request with full prefetch, like the DESIGN budget's "realistic patient".

`hook_request(resources, patient_id)` wraps them as a patient-view request whose
prefetch has every key of service/hooks.yaml, each filled with the searchset
Bundle the EHR would have returned for that key's query.

Everything is seeded: the same arguments give the same bytes.

    python bench/patients.py 300 > /tmp/patient-view-300.json
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import uuid
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs

import yaml

REPO_DIR = Path(__file__).resolve().parents[1]
HOOKS_FILE = REPO_DIR / "service" / "hooks.yaml"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
HGNC = "http://www.genenames.org"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
COND_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
MRN_SYSTEM = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14"
ORDER_SYSTEM = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"

CORE_SIZE = 30
HISTORY_START = dt.date(2019, 1, 7)
HISTORY_END = dt.date(2025, 5, 19)

# Lines of therapy (RxNorm ingredient codes, clinical-reference.md A.5).
LETROZOLE = ("72965", "letrozole", "letrozole 2.5 MG Oral Tablet")
TAMOXIFEN = ("10324", "tamoxifen", "tamoxifen 20 MG Oral Tablet")
PALBOCICLIB = ("1601374", "palbociclib", "palbociclib 125 MG Oral Capsule")
FULVESTRANT = ("282357", "fulvestrant", "fulvestrant 250 MG in 5 ML Prefilled Syringe")
METFORMIN = ("6809", "metformin", "metformin hydrochloride 500 MG Oral Tablet")
ZOLEDRONIC = ("77655", "zoledronic acid", "zoledronic acid 4 MG in 100 ML Injection")

ADJUVANT_TAMOXIFEN = (dt.date(2017, 5, 2), dt.date(2019, 6, 28))
ADJUVANT_LETROZOLE = (dt.date(2019, 7, 1), dt.date(2022, 5, 2))
FIRST_LINE = (dt.date(2023, 3, 6), dt.date(2024, 8, 19))  # letrozole + palbociclib
SECOND_LINE_START = dt.date(2024, 9, 2)  # fulvestrant, ongoing
METASTATIC_DATE = dt.date(2023, 2, 13)
LIVER_PROGRESSION = dt.date(2024, 8, 12)
DIAGNOSIS_DATE = dt.date(2017, 3, 21)
DIABETES_DATE = dt.date(2018, 10, 2)


class _Ids:
    """Deterministic, EHR-looking opaque ids (23 characters) from the seeded RNG."""

    ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

    def __init__(self, rng: random.Random):
        self.rng = rng

    def new(self) -> str:
        return "e" + "".join(self.rng.choice(self.ALPHABET) for _ in range(22))


def _cc(system: str, code: str, display: str, text: str | None = None) -> dict:
    out: dict[str, Any] = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        out["text"] = text
    return out


def _iso(day: dt.date, rng: random.Random, hour: int | None = None) -> str:
    h = rng.randint(7, 17) if hour is None else hour
    return f"{day.isoformat()}T{h:02d}:{rng.randint(0, 59):02d}:00-05:00"


class _Builder:
    def __init__(self, patient_id: str, seed: int):
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.patient_id = patient_id
        self.subject = {"reference": f"Patient/{patient_id}"}
        self.oncologist = {"reference": "Practitioner/onc-4471", "display": "Helen Okafor, MD"}
        self.pathology = {"reference": "Organization/path-main", "display": "Riverside Pathology"}

    # -- resource shapes -------------------------------------------------------

    def patient(self) -> dict:
        return {
            "resourceType": "Patient",
            "id": self.patient_id,
            "meta": {"profile": [US_CORE + "us-core-patient", MCODE + "mcode-cancer-patient"]},
            "identifier": [{
                "use": "usual",
                "type": _cc("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical Record Number"),
                "system": MRN_SYSTEM, "value": "E4417739",
            }],
            "active": True,
            "name": [{"use": "official", "family": "Whitfield", "given": ["Margaret", "Anne"]}],
            "telecom": [{"system": "phone", "value": "555-0142", "use": "home"}],
            "gender": "female",
            "birthDate": "1958-07-14",
            "address": [{"line": ["41 Larch Street"], "city": "Springfield", "state": "IL",
                         "postalCode": "62704", "country": "US"}],
            "communication": [{"language": _cc("urn:ietf:bcp:47", "en-US", "English (United States)")}],
        }

    def condition(self, snomed: tuple[str, str], icd: tuple[str, str] | None, onset: dt.date,
                  profile: str, category: str = "problem-list-item", body_site: tuple[str, str] | None = None,
                  extra: dict | None = None) -> dict:
        code = {"coding": [{"system": SNOMED, "code": snomed[0], "display": snomed[1]}], "text": snomed[1]}
        if icd:
            code["coding"].append({"system": ICD10, "code": icd[0], "display": icd[1]})
        res = {
            "resourceType": "Condition",
            "id": self.ids.new(),
            "meta": {"profile": [profile]},
            "clinicalStatus": _cc(COND_CLINICAL, "active", "Active"),
            "verificationStatus": _cc(COND_VERIFICATION, "confirmed", "Confirmed"),
            "category": [_cc(COND_CATEGORY, category, category.replace("-", " ").title())],
            "code": code,
            "subject": self.subject,
            "onsetDateTime": onset.isoformat(),
            "recordedDate": _iso(onset, self.rng),
            "recorder": self.oncologist,
        }
        if body_site:
            res["bodySite"] = [_cc(SNOMED, body_site[0], body_site[1])]
        if extra:
            res.update(extra)
        return res

    def observation(self, code: tuple[str, str, str], day: dt.date, value: dict, *,
                    category: str = "laboratory", profile: str | None = None,
                    interpretation: tuple[str, str] | None = None, ref_range: str | None = None,
                    performer: dict | None = None, extra: dict | None = None) -> dict:
        system, c, display = code
        res: dict[str, Any] = {"resourceType": "Observation", "id": self.ids.new()}
        if profile:
            res["meta"] = {"profile": [profile]}
            res["identifier"] = [{"system": ORDER_SYSTEM, "value": str(self.rng.randint(10**8, 10**9 - 1))}]
        res.update({
            "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
            "code": _cc(system, c, display),
            "subject": self.subject,
            "effectiveDateTime": _iso(day, self.rng),
        })
        if performer:
            res["performer"] = [performer]
        res.update(value)
        if interpretation:
            res["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": interpretation[0]}]}]
        if ref_range:
            res["referenceRange"] = [{"text": ref_range}]
        if extra:
            res.update(extra)
        return res

    def marker(self, code: str, display: str, day: dt.date, value: dict, specimen: str) -> dict:
        return self.observation(
            (LOINC, code, display), day, value, profile=MCODE + "mcode-tumor-marker-test",
            performer=self.pathology, extra={"specimen": {"display": specimen}},
        )

    def variant(self, gene: tuple[str, str], hgvs_p: str, hgvs_c: str, vaf: float, day: dt.date,
                specimen: str) -> dict:
        comps = [
            {"code": _cc(LOINC, "48018-6", "Gene studied [ID]"),
             "valueCodeableConcept": {"coding": [{"system": HGNC, "code": gene[0], "display": gene[1]}]}},
            {"code": _cc(LOINC, "48004-6", "DNA change (c.HGVS)"),
             "valueCodeableConcept": {"coding": [{"system": "http://varnomen.hgvs.org", "code": hgvs_c}]}},
            {"code": _cc(LOINC, "48005-3", "Amino acid change (pHGVS)"),
             "valueCodeableConcept": {"coding": [{"system": "http://varnomen.hgvs.org", "code": hgvs_p}]}},
            {"code": _cc(LOINC, "48002-0", "Genomic source class [Type]"),
             "valueCodeableConcept": _cc(LOINC, "LA6684-0", "Somatic")},
            {"code": _cc(LOINC, "81258-6", "Sample variant allelic frequency [NFr]"),
             "valueQuantity": {"value": vaf, "unit": "relative frequency of a particular allele in the specimen",
                               "system": UCUM, "code": "1"}},
        ]
        return self.observation(
            (LOINC, "69548-6", "Genetic variant assessment"), day,
            {"valueCodeableConcept": _cc(LOINC, "LA9633-4", "Present")},
            profile=MCODE + "mcode-genomic-variant", performer=self.pathology,
            extra={"method": _cc(LOINC, "LA26398-0", "Sequencing"), "specimen": {"display": specimen},
                   "component": comps},
        )

    def med_statement(self, drug: tuple[str, str, str], start: dt.date, end: dt.date | None,
                      reason: str | None = None) -> dict:
        res = {
            "resourceType": "MedicationStatement",
            "id": self.ids.new(),
            "meta": {"profile": [MCODE + "mcode-cancer-related-medication-statement"]},
            "status": "completed" if end else "active",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": drug[0], "display": drug[1]}], "text": drug[2],
            },
            "subject": self.subject,
            "effectivePeriod": {"start": start.isoformat(), **({"end": end.isoformat()} if end else {})},
            "dateAsserted": _iso(start, self.rng),
            "informationSource": self.oncologist,
        }
        if reason:
            res["reasonReference"] = [{"reference": reason}]
        return res

    def med_request(self, drug: tuple[str, str, str], day: dt.date, dose: str) -> dict:
        return {
            "resourceType": "MedicationRequest",
            "id": self.ids.new(),
            "status": "completed",
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": drug[0], "display": drug[1]}], "text": drug[2],
            },
            "subject": self.subject,
            "authoredOn": _iso(day, self.rng),
            "requester": {"reference": self.oncologist["reference"]},
            "dosageInstruction": [{"text": dose}],
        }

    def med_administration(self, drug: tuple[str, str, str], day: dt.date, dose: tuple[float, str],
                           route: tuple[str, str]) -> dict:
        return {
            "resourceType": "MedicationAdministration",
            "id": self.ids.new(),
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": drug[0], "display": drug[1]}], "text": drug[2],
            },
            "subject": self.subject,
            "effectiveDateTime": _iso(day, self.rng),
            "dosage": {"route": _cc(SNOMED, *route),
                       "dose": {"value": dose[0], "unit": dose[1], "system": UCUM, "code": dose[1]}},
        }

    def procedure(self, code: tuple[str, str], day: dt.date, body_site: tuple[str, str] | None = None,
                  category: tuple[str, str] = ("103693007", "Diagnostic procedure")) -> dict:
        res = {
            "resourceType": "Procedure",
            "id": self.ids.new(),
            "status": "completed",
            "category": _cc(SNOMED, category[0], category[1]),
            "code": _cc(SNOMED, code[0], code[1]),
            "subject": self.subject,
            "performedDateTime": _iso(day, self.rng),
        }
        if body_site:
            res["bodySite"] = [_cc(SNOMED, body_site[0], body_site[1])]
        return res

    # -- the chart -------------------------------------------------------------

    def core(self) -> list[dict]:
        b = self
        primary = b.condition(
            ("353431000119107", "Primary malignant neoplasm of female left breast"),
            ("C50.912", "Malignant neoplasm of unspecified site of left female breast"),
            DIAGNOSIS_DATE, MCODE + "mcode-primary-cancer-condition", category="encounter-diagnosis",
            body_site=("80248007", "Left breast structure"),
        )
        primary_ref = f"Condition/{primary['id']}"
        secondary = MCODE + "mcode-secondary-cancer-condition"
        out = [
            b.patient(),
            primary,
            b.condition(("94222008", "Secondary malignant neoplasm of bone"), ("C79.51", "Secondary malignant neoplasm of bone"),
                        METASTATIC_DATE, secondary, body_site=("272673000", "Bone structure")),
            b.condition(("94381002", "Secondary malignant neoplasm of liver"),
                        ("C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct"),
                        LIVER_PROGRESSION, secondary, body_site=("10200004", "Liver structure")),
            b.condition(("44054006", "Diabetes mellitus type 2"), ("E11.9", "Type 2 diabetes mellitus without complications"),
                        DIABETES_DATE, US_CORE + "us-core-condition-problems-health-concerns"),
        ]
        # Tumour markers at diagnosis (core biopsy, left breast) and at the metastatic biopsy (liver).
        breast = "Core needle biopsy, left breast"
        liver = "Core needle biopsy, liver (segment VI)"
        pos = {"valueCodeableConcept": _cc(LOINC, "LA6576-8", "Positive")}
        out += [
            b.marker("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain", DIAGNOSIS_DATE, pos, breast),
            b.marker("85329-1", "Cells.estrogen receptor/100 cells in Breast cancer specimen by Immune stain", DIAGNOSIS_DATE,
                     {"valueQuantity": {"value": 95, "unit": "%", "system": UCUM, "code": "%"}}, breast),
            b.marker("85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain", DIAGNOSIS_DATE, pos, breast),
            b.marker("85325-9", "Cells.progesterone receptor/100 cells in Breast cancer specimen by Immune stain", DIAGNOSIS_DATE,
                     {"valueQuantity": {"value": 60, "unit": "%", "system": UCUM, "code": "%"}}, breast),
            b.marker("85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain", DIAGNOSIS_DATE,
                     {"valueCodeableConcept": {"text": "1+"}, "note": [{"text": "Faint, incomplete membrane staining in 30% of invasive tumour cells (IHC 1+)."}]}, breast),
            b.marker("48676-1", "HER2 [Interpretation] in Tissue", DIAGNOSIS_DATE,
                     {"valueCodeableConcept": _cc(LOINC, "LA6577-6", "Negative")}, breast),
            b.marker("85318-4", "ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH", DIAGNOSIS_DATE,
                     {"valueCodeableConcept": _cc(SNOMED, "2667000", "Absent")}, breast),
            b.marker("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain", LIVER_PROGRESSION, pos, liver),
            b.marker("85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain", LIVER_PROGRESSION,
                     {"valueCodeableConcept": _cc(LOINC, "LA6577-6", "Negative")}, liver),
            b.marker("85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain", LIVER_PROGRESSION,
                     {"valueCodeableConcept": {"text": "1+"}}, liver),
        ]
        # Genomics: PIK3CA on tissue at metastatic diagnosis, ESR1 on ctDNA at progression.
        out += [
            b.variant(("HGNC:8975", "PIK3CA"), "NP_006209.2:p.(His1047Arg)", "NM_006218.4:c.3140A>G", 0.31,
                      METASTATIC_DATE + dt.timedelta(days=20), "Bone lesion biopsy, FFPE tissue"),
            b.variant(("HGNC:3467", "ESR1"), "NP_000116.2:p.(Asp538Gly)", "NM_000125.4:c.1613A>G", 0.042,
                      LIVER_PROGRESSION + dt.timedelta(days=9), "Peripheral blood plasma (ctDNA)"),
            b.observation((LOINC, "53041-0", "DNA region of interest panel"), LIVER_PROGRESSION + dt.timedelta(days=9),
                          {"component": [
                              {"code": _cc(LOINC, "48018-6", "Gene studied [ID]"),
                               "valueCodeableConcept": {"coding": [{"system": HGNC, "code": g, "display": s}]}}
                              for g, s in (("HGNC:3467", "ESR1"), ("HGNC:8975", "PIK3CA"), ("HGNC:391", "AKT1"),
                                           ("HGNC:9588", "PTEN"), ("HGNC:1100", "BRCA1"), ("HGNC:1101", "BRCA2"))
                          ]}, profile=MCODE + "mcode-genomic-region-studied", performer=b.pathology),
        ]
        # Stage, menopausal status, latest ECOG and HbA1c.
        out += [
            b.observation((LOINC, "21907-1", "Distant metastases.clinical [Class] Cancer"), METASTATIC_DATE,
                          {"valueCodeableConcept": _cc(SNOMED, "1229903009", "American Joint Committee on Cancer cM1")},
                          category="survey", profile=MCODE + "mcode-tnm-distant-metastases-category",
                          performer=b.oncologist),
            b.observation((SNOMED, "161712005", "Menopause, function"), METASTATIC_DATE,
                          {"valueCodeableConcept": _cc(SNOMED, "76498008", "Postmenopausal state")},
                          category="social-history", profile=US_CORE + "us-core-observation-clinical-result",
                          performer=b.oncologist),
            b.observation((LOINC, "89247-1", "ECOG Performance Status score"), HISTORY_END,
                          {"valueInteger": 1}, category="survey", profile=MCODE + "mcode-ecog-performance-status",
                          performer=b.oncologist,
                          extra={"interpretation": [_cc(LOINC, "LA9623-5", "Restricted in physically strenuous activity but ambulatory and able to carry out work of a light or sedentary nature")]}),
            self.hba1c(HISTORY_END - dt.timedelta(days=3)),
        ]
        # Lines of therapy.
        out += [
            b.med_statement(TAMOXIFEN, *ADJUVANT_TAMOXIFEN, reason=primary_ref),
            b.med_statement(LETROZOLE, *ADJUVANT_LETROZOLE, reason=primary_ref),
            b.med_statement(LETROZOLE, *FIRST_LINE, reason=primary_ref),
            b.med_statement(PALBOCICLIB, *FIRST_LINE, reason=primary_ref),
            b.med_statement(FULVESTRANT, SECOND_LINE_START, None, reason=primary_ref),
            b.med_statement(METFORMIN, DIABETES_DATE, None),
        ]
        # Procedures.
        out += [
            b.procedure(("44578009", "Core needle biopsy of breast"), DIAGNOSIS_DATE - dt.timedelta(days=4),
                        ("80248007", "Left breast structure")),
            b.procedure(("392021009", "Lumpectomy of breast"), DIAGNOSIS_DATE + dt.timedelta(days=28),
                        ("80248007", "Left breast structure"), ("387713003", "Surgical procedure")),
        ]
        assert len(out) == CORE_SIZE, len(out)
        return out

    def hba1c(self, day: dt.date) -> dict:
        value = round(self.rng.uniform(6.3, 7.4), 1)
        return self.observation(
            (LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), day,
            {"valueQuantity": {"value": value, "unit": "%", "system": UCUM, "code": "%"}},
            interpretation=("H", "High") if value > 5.6 else None, ref_range="<5.7 %",
        )

    def fasting_glucose(self, day: dt.date) -> dict:
        value = round(self.rng.gauss(128, 22))
        return self.observation(
            (LOINC, "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"), day,
            {"valueQuantity": {"value": value, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}},
        )

    def ecog(self, day: dt.date) -> dict:
        score = 0 if day < LIVER_PROGRESSION else 1
        answer = ("LA9622-7", "Fully active, able to carry on all pre-disease performance without restriction") if score == 0 \
            else ("LA9623-5", "Restricted in physically strenuous activity but ambulatory and able to carry out work of a light or sedentary nature")
        return self.observation(
            (LOINC, "89247-1", "ECOG Performance Status score"), day, {"valueInteger": score},
            category="survey", extra={"interpretation": [_cc(LOINC, *answer)]},
        )

    def refill(self, day: dt.date) -> dict:
        if day < ADJUVANT_TAMOXIFEN[1]:
            return self.med_request(TAMOXIFEN, day, "Take 1 tablet (20 mg) by mouth daily")
        if day < ADJUVANT_LETROZOLE[1] or FIRST_LINE[0] <= day < FIRST_LINE[1] and day.toordinal() % 2:
            return self.med_request(LETROZOLE, day, "Take 1 tablet (2.5 mg) by mouth daily")
        if FIRST_LINE[0] <= day < FIRST_LINE[1]:
            return self.med_request(PALBOCICLIB, day, "Take 1 capsule (125 mg) by mouth daily for 21 days, then 7 days off")
        return self.med_request(METFORMIN, day, "Take 1 tablet (500 mg) by mouth twice daily with meals")

    def administration(self, day: dt.date) -> dict:
        if day >= SECOND_LINE_START and day.toordinal() % 3:
            return self.med_administration(FULVESTRANT, day, (500, "mg"), ("78421000", "Intramuscular route"))
        return self.med_administration(ZOLEDRONIC, day, (4, "mg"), ("47625008", "Intravenous route"))

    def imaging(self, day: dt.date) -> dict:
        studies = [
            (("77477000", "Computed tomography"), ("818981001", "Abdomen and pelvis")),
            (("41747008", "Nuclear medicine scan of bone"), ("272673000", "Bone structure")),
            (("169069000", "Computed tomography of chest"), ("51185008", "Thoracic structure")),
        ]
        code, site = studies[day.toordinal() % len(studies)]
        return self.procedure(code, day, site, ("363679005", "Imaging"))

    # A visit's worth of records, in the proportions of a real oncology chart:
    # labs dominate, then refills and infusions, then imaging. Only labs a prefetch
    # template asks for (service/hooks.yaml): a diabetic patient on metformin is
    # followed with fasting glucose and HbA1c.
    VISIT = ("fasting", "refill", "hba1c", "fasting", "ecog", "administration", "fasting",
             "refill", "fasting", "imaging")

    def history(self, count: int) -> list[dict]:
        out = []
        span = (HISTORY_END - HISTORY_START).days
        for i in range(count):
            day = HISTORY_START + dt.timedelta(days=int(span * i / max(count, 1)))
            kind = self.VISIT[i % len(self.VISIT)]
            if kind == "fasting":
                out.append(self.fasting_glucose(day))
            elif kind == "hba1c":
                out.append(self.hba1c(day))
            elif kind == "ecog":
                out.append(self.ecog(day))
            elif kind == "refill":
                out.append(self.refill(day))
            elif kind == "administration":
                out.append(self.administration(day))
            else:
                out.append(self.imaging(day))
        return out


def make_patient(n_resources: int = 300, seed: int = 8, patient_id: str | None = None) -> list[dict]:
    """Exactly `n_resources` (>= 30) FHIR resources of one HR+/HER2- MBC patient."""
    if n_resources < CORE_SIZE:
        raise ValueError(f"a patient has at least {CORE_SIZE} resources")
    builder = _Builder(patient_id or f"bench-{n_resources}", seed)
    return builder.core() + builder.history(n_resources - CORE_SIZE)


# -- prefetch ------------------------------------------------------------------

def prefetch_templates() -> dict[str, str]:
    with open(HOOKS_FILE, encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)["prefetch"])


def _codes_of(resource: dict) -> set[tuple[str, str]]:
    code = resource.get("code") or {}
    return {(c.get("system", ""), c.get("code", "")) for c in code.get("coding", [])}


def _matcher(template: str):
    """(resourceType, code filter or None, is_read) of a prefetch template."""
    path, _, query = template.partition("?")
    rtype = path.split("/")[0]
    if not query:
        return rtype, None, True
    codes = None
    params = parse_qs(query)
    if "code" in params:
        codes = {tuple(item.split("|", 1)) for value in params["code"] for item in value.split(",")}
    return rtype, codes, False


def assign_prefetch(resources: Iterable[dict], templates: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """Which prefetch key's query returns each resource (the first match wins)."""
    templates = templates or prefetch_templates()
    matchers = {key: _matcher(t) for key, t in templates.items()}
    out: dict[str, list[dict]] = {key: [] for key in templates}
    for resource in resources:
        for key, (rtype, codes, _) in matchers.items():
            if resource["resourceType"] != rtype:
                continue
            if codes is not None and not (_codes_of(resource) & codes):
                continue
            out[key].append(resource)
            break
        else:
            raise ValueError(f"no prefetch key returns {resource['resourceType']}/{resource['id']}")
    return out


def searchset(resources: list[dict], base: str, query: str) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{base}/{query}"}],
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def hook_request(resources: list[dict], patient_id: str, *, prefetch: bool = True,
                 fhir_server: str | None = None, hook_instance: str | None = None) -> dict:
    """A patient-view request; with `prefetch`, every hooks.yaml key is filled."""
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": hook_instance or str(uuid.UUID(int=len(resources), version=4)),
        "context": {"userId": "Practitioner/onc-4471", "patientId": patient_id},
    }
    if fhir_server:
        body["fhirServer"] = fhir_server
    if prefetch:
        base = fhir_server or "https://ehr.example.org/fhir"
        templates = prefetch_templates()
        by_key = assign_prefetch(resources, templates)
        body["prefetch"] = {}
        for key, template in templates.items():
            query = template.replace("{{context.patientId}}", patient_id)
            if _matcher(template)[2]:
                body["prefetch"][key] = by_key[key][0] if by_key[key] else None
            else:
                body["prefetch"][key] = searchset(by_key[key], base, query)
    return body


def request_bytes(n_resources: int, seed: int = 8, **kwargs) -> bytes:
    """The patient-view request body for an `n_resources` patient, compact JSON."""
    resources = make_patient(n_resources, seed)
    pid = resources[0]["id"]
    return json.dumps(hook_request(resources, pid, **kwargs), separators=(",", ":")).encode()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    sys.stdout.write(request_bytes(n).decode())
