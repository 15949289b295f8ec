"""Writes the demo patients (patients/*.json + patients/index.yaml) and the
demo draft orders (orders/*.json + orders/index.yaml).

The JSON and YAML next to this file are generated: edit the cases here and run

    .venv/bin/python service/demo/generate.py

A test checks that the committed files are what this script writes.

Every code comes from ../shared/clinical-reference.md Part A (LOINC, SNOMED CT,
ICD-10-CM, RxNorm ingredient and product-level CUIs, HGNC, LOINC answer codes),
or from mappings/local_codes.yaml for facts without a standard code (visceral
crisis, HER2 IHC score local codes). The patients are fictional; dates are set
so that on or after 2026-11 each case sits where its description says.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

# The README's curl posts requests/patient-view.json for this patient.
FLAGSHIP_PATIENT = "demo-esr1-post-cdk46i"
# requests/order-select.json and order-sign.json carry this draft order.
FLAGSHIP_ORDER = "ild-her2-low-tdxd.json"

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
RXN = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org"
HGVS = "http://varnomen.hgvs.org"
UCUM = "http://unitsofmeasure.org"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CAT = "http://terminology.hl7.org/CodeSystem/condition-category"
COND_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
V3_INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LOCAL = "urn:mbc-cds:local"  # mappings/local_codes.yaml (visceral crisis)
LT_HER2 = "https://tx.hl7.lt/fhir/CodeSystem/her2-ihc-score"  # CR A.1 (Lithuanian IG local CodeSystem)
MCODE_SECONDARY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"
MCODE_PRIMARY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"
GR_VARIANT = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant"

ALL_REGIMENS = [
    "ai-cdk46i", "fulvestrant-cdk46i", "inavolisib-palbociclib-fulvestrant", "elacestrant",
    "imlunestrant", "vepdegestrant", "alpelisib-fulvestrant", "capivasertib-fulvestrant",
    "olaparib", "talazoparib", "everolimus-exemestane", "fulvestrant", "trastuzumab-deruxtecan",
    "datopotamab-deruxtecan", "sacituzumab-govitecan", "chemotherapy",
]


def cc(system: str, code: str, display: str, text: str | None = None) -> dict:
    out = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        out["text"] = text
    return out


def cc2(codings: list[tuple[str, str, str]], text: str | None = None) -> dict:
    out = {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codings]}
    if text:
        out["text"] = text
    return out


def pct(value: float) -> dict:
    return {"value": value, "unit": "%", "system": UCUM, "code": "%"}


class Case:
    """One demo patient: its resources, and what the index says about it."""

    def __init__(self, slug: str, name: tuple[str, str], gender: str, birth: str, *,
                 title: str, description: str, expected: list[str], forbidden: list[str],
                 expected_warnings: list[str] | None = None, first_regimen: str | None = None):
        self.pid = f"demo-{slug}"
        self.slug = slug
        self.title = title
        self.description = description
        self.expected = ["patient-summary", *expected]
        self.forbidden = forbidden
        self.expected_warnings = expected_warnings or []
        self.first_regimen = first_regimen
        self.resources: list[dict] = []
        self._n: dict[str, int] = {}
        given, family = name
        self.add({
            "resourceType": "Patient",
            "id": self.pid,
            "meta": {"tag": [{"system": "urn:mbc-cds:demo", "code": "demo", "display": "mbc-cds demo patient (fictional)"}]},
            "identifier": [{"system": "urn:mbc-cds:demo:mrn", "value": f"DEMO-{slug.upper()}"}],
            "active": True,
            "name": [{"use": "official", "family": family, "given": [given]}],
            "gender": gender,
            "birthDate": birth,
        })

    # --- helpers -----------------------------------------------------------
    def rid(self, kind: str) -> str:
        self._n[kind] = self._n.get(kind, 0) + 1
        return f"{self.pid}-{kind}-{self._n[kind]}"

    @property
    def subject(self) -> dict:
        return {"reference": f"Patient/{self.pid}"}

    def add(self, resource: dict) -> dict:
        self.resources.append(resource)
        return resource

    # --- conditions --------------------------------------------------------
    def condition(self, kind: str, code: dict, onset: str, *, status: str = "active",
                  category: str = "problem-list-item", profile: str | None = None,
                  note: str | None = None, body_site: dict | None = None) -> dict:
        resource = {
            "resourceType": "Condition",
            "id": self.rid(kind),
            "clinicalStatus": cc(COND_CLIN, status, status.capitalize()),
            "verificationStatus": cc(COND_VER, "confirmed", "Confirmed"),
            "category": [cc(COND_CAT, category, "Problem List Item" if category == "problem-list-item" else "Encounter Diagnosis")],
            "code": code,
            "subject": self.subject,
            "onsetDateTime": onset,
            "recordedDate": onset,
        }
        if profile:
            resource["meta"] = {"profile": [profile]}
        if body_site:
            resource["bodySite"] = [body_site]
        if note:
            resource["note"] = [{"text": note}]
        return self.add(resource)

    def primary(self, onset: str, coding: str = "left") -> dict:
        codes = {
            "left": cc2([(SCT, "353431000119107", "Primary malignant neoplasm of female left breast"),
                         (ICD, "C50.912", "Malignant neoplasm of unspecified site of left female breast")]),
            "right-icd": cc(ICD, "C50.911", "Malignant neoplasm of unspecified site of right female breast"),
            "breast": cc(SCT, "254837009", "Malignant neoplasm of breast"),
            "unspecified": cc2([(SCT, "372137005", "Primary malignant neoplasm of breast"),
                                (ICD, "C50.919", "Malignant neoplasm of unspecified site of unspecified female breast")]),
        }
        return self.condition("primary", codes[coding], onset, profile=MCODE_PRIMARY)

    def metastasis(self, site: str, onset: str) -> dict:
        codes = {
            "bone": cc2([(SCT, "94222008", "Secondary malignant neoplasm of bone"),
                         (ICD, "C79.51", "Secondary malignant neoplasm of bone")]),
            "bone-icd": cc(ICD, "C79.51", "Secondary malignant neoplasm of bone"),
            "liver": cc2([(SCT, "94381002", "Secondary malignant neoplasm of liver"),
                          (ICD, "C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct")]),
            "lung": cc2([(SCT, "94391008", "Secondary malignant neoplasm of lung"),
                         (ICD, "C78.00", "Secondary malignant neoplasm of unspecified lung")]),
            "pleura": cc2([(SCT, "94493005", "Secondary malignant neoplasm of pleura"),
                           (ICD, "C78.2", "Secondary malignant neoplasm of pleura")]),
            "nodes": cc(ICD, "C77.3", "Secondary and unspecified malignant neoplasm of axilla and upper limb lymph nodes"),
        }
        return self.condition("met", codes[site], onset, profile=MCODE_SECONDARY)

    # --- observations ------------------------------------------------------
    def observation(self, kind: str, code: dict, date: str, *, category: str = "laboratory",
                    specimen: dict | None = None, method: dict | None = None, **value) -> dict:
        resource = {
            "resourceType": "Observation",
            "id": self.rid(kind),
            "status": "final",
            "category": [cc(OBS_CAT, category, {"laboratory": "Laboratory", "exam": "Exam",
                                                  "social-history": "Social History",
                                                  "survey": "Survey"}[category])],
            "code": code,
            "subject": self.subject,
            "effectiveDateTime": date,
        }
        resource.update(value)
        if method:
            resource["method"] = method
        if specimen:
            resource["specimen"] = {"reference": f"Specimen/{specimen['id']}",
                                    "display": specimen["type"]["text"]}
        return self.add(resource)

    def specimen(self, kind: str, collected: str, label: str) -> dict:
        types = {
            "plasma": (SCT, "119361006", "Plasma specimen"),
            "tissue": (SCT, "119376003", "Tissue specimen"),
            "blood": (SCT, "119297000", "Blood specimen"),
        }
        system, code, display = types[kind]
        return self.add({
            "resourceType": "Specimen",
            "id": self.rid("specimen"),
            "status": "available",
            "type": cc(system, code, display, text=label),
            "subject": self.subject,
            "collection": {"collectedDateTime": collected},
        })

    def er(self, date: str, *, status: str | None = "pos", percent: float | None = None, style: str = "85337-4") -> None:
        if status:
            answers = {"pos": ("LA6576-8", "Positive"), "neg": ("LA6577-6", "Negative")}
            if style == "85337-4":
                self.observation("er", cc(LOINC, "85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain"),
                                 date, valueCodeableConcept=cc(LOINC, *answers[status]))
            elif style == "16112-5":
                snomed = {"pos": ("10828004", "Positive (qualifier value)"), "neg": ("260385009", "Negative (qualifier value)")}
                self.observation("er", cc(LOINC, "16112-5", "Estrogen receptor [Interpretation] in Tissue"),
                                 date, valueCodeableConcept=cc(SCT, *snomed[status]))
            elif style == "40556-3":
                self.observation("er", cc(LOINC, "40556-3", "Estrogen receptor Ag [Presence] in Tissue by Immune stain"),
                                 date, valueString="Positive" if status == "pos" else "Negative",
                                 interpretation=[cc(V3_INTERP, "POS" if status == "pos" else "NEG",
                                                    "Positive" if status == "pos" else "Negative")])
        if percent is not None:
            code = ("85329-1", "Cells.estrogen receptor/100 cells in Breast cancer specimen by Immune stain") \
                if style != "16112-5" else ("14228-1", "Cells.estrogen receptor/100 cells in Tissue by Immune stain")
            self.observation("er-pct", cc(LOINC, *code), date, valueQuantity=pct(percent))

    def pr(self, date: str, *, status: str = "pos", percent: float | None = None, style: str = "85339-0") -> None:
        answers = {"pos": ("LA6576-8", "Positive"), "neg": ("LA6577-6", "Negative")}
        if style == "85339-0":
            self.observation("pr", cc(LOINC, "85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain"),
                             date, valueCodeableConcept=cc(LOINC, *answers[status]))
        else:
            self.observation("pr", cc(LOINC, "40557-1", "Progesterone receptor Ag [Presence] in Tissue by Immune stain"),
                             date, valueCodeableConcept=cc(LOINC, *answers[status]))
        if percent is not None:
            self.observation("pr-pct", cc(LOINC, "85325-9", "Cells.progesterone receptor/100 cells in Breast cancer specimen by Immune stain"),
                             date, valueQuantity=pct(percent))

    def her2_ihc(self, date: str, **value) -> None:
        self.observation("her2-ihc", cc(LOINC, "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain"),
                         date, **value)

    def her2_overall(self, date: str, positive: bool) -> None:
        answer = ("LA6576-8", "Positive") if positive else ("LA6577-6", "Negative")
        self.observation("her2-status", cc(LOINC, "48676-1", "HER2 [Interpretation] in Tissue"),
                         date, valueCodeableConcept=cc(LOINC, *answer))

    def her2_ish_not_amplified(self, date: str) -> None:
        self.observation("her2-ish", cc(LOINC, "85318-4", "ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH"),
                         date, valueCodeableConcept=cc(SCT, "2667000", "Absent", text="Not amplified (HER2/CEP17 ratio 1.3)"))

    def menopause(self, date: str, state: str) -> None:
        values = {"post": ("76498008", "Postmenopausal state"), "pre": ("22636003", "Premenopausal state")}
        self.observation("menopause", cc(SCT, "161712005", "Menopause, function (observable entity)", text="Menopausal status"),
                         date, category="social-history", valueCodeableConcept=cc(SCT, *values[state]))

    def hba1c(self, date: str, value: float) -> None:
        self.observation("hba1c", cc(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), date,
                         valueQuantity=pct(value))

    def ecog(self, date: str, value: int) -> None:
        answers = {0: ("LA9622-7", "0"), 1: ("LA9623-5", "1"), 2: ("LA9624-3", "2")}
        self.observation("ecog", cc(LOINC, "89247-1", "ECOG Performance Status score"), date, category="survey",
                         valueInteger=value, interpretation=[cc(LOINC, *answers[value])])

    def m1(self, date: str) -> None:
        self.observation("m-category", cc(LOINC, "21907-1", "Distant metastases.clinical [Class] Cancer"), date,
                         category="exam", valueCodeableConcept=cc(SCT, "1229903009", "American Joint Committee on Cancer cM1 (qualifier value)"))

    GENES = {
        "ESR1": ("HGNC:3467", "NM_000125.4", "NP_000116.2"),
        "PIK3CA": ("HGNC:8975", "NM_006218.4", "NP_006209.2"),
        "AKT1": ("HGNC:391", "NM_005163.2", "NP_005154.2"),
        "PTEN": ("HGNC:9588", "NM_000314.8", "NP_000305.3"),
        "BRCA1": ("HGNC:1100", "NM_007294.4", "NP_009225.1"),
        "BRCA2": ("HGNC:1101", "NM_000059.4", "NP_000050.3"),
    }

    def variant(self, gene: str, specimen: dict, date: str, method_text: str, *,
                found: bool = True, dna: str | None = None, protein: str | None = None,
                origin: str = "somatic", significance: str = "pathogenic") -> dict:
        hgnc, transcript, protein_ref = self.GENES[gene]
        components = [{
            "code": cc(LOINC, "48018-6", "Gene studied [ID]"),
            "valueCodeableConcept": cc(HGNC, hgnc, gene),
        }]
        if found:
            value = cc(LOINC, "LA9633-4", "Present")
            if dna:
                components.append({"code": cc(LOINC, "48004-6", "DNA change (c.HGVS)"),
                                   "valueCodeableConcept": cc(HGVS, f"{transcript}:{dna}", f"{transcript}:{dna}")})
            if protein:
                components.append({"code": cc(LOINC, "48005-3", "Amino acid change (pHGVS)"),
                                   "valueCodeableConcept": cc(HGVS, f"{protein_ref}:{protein}", f"{protein_ref}:{protein}")})
            significance_codes = {"pathogenic": ("LA6668-3", "Pathogenic"),
                                  "likely-pathogenic": ("LA26332-9", "Likely pathogenic")}
            components.append({"code": cc(LOINC, "53037-8", "Genetic variation clinical significance [Imp]"),
                               "valueCodeableConcept": cc(LOINC, *significance_codes[significance])})
        else:
            value = cc(LOINC, "LA9634-2", "Absent", text="Not detected")
        origins = {"somatic": ("LA6684-0", "Somatic"), "germline": ("LA6683-2", "Germline")}
        components.append({"code": cc(LOINC, "48002-0", "Genomic source class [Type]"),
                           "valueCodeableConcept": cc(LOINC, *origins[origin])})
        resource = self.observation(
            f"{gene.lower()}", cc(LOINC, "69548-6", "Genetic variant assessment"), date,
            specimen=specimen,
            method=cc(LOINC, "LA26398-0", "Sequencing", text=method_text),
            valueCodeableConcept=value,
            component=components,
        )
        resource["meta"] = {"profile": [GR_VARIANT]}
        resource["category"].append(cc("http://terminology.hl7.org/CodeSystem/v2-0074", "GE", "Genetics"))
        if not found:
            resource["interpretation"] = [cc(V3_INTERP, "ND", "Not detected")]
        return resource

    # --- medications -------------------------------------------------------
    def med(self, medication: dict, start: str, end: str | None = None, *, status: str | None = None,
            note: str | None = None) -> dict:
        resource = {
            "resourceType": "MedicationStatement",
            "id": self.rid("med"),
            "status": status or ("completed" if end else "active"),
            "medicationCodeableConcept": medication,
            "subject": self.subject,
            "effectivePeriod": {"start": start, **({"end": end} if end else {})},
            "dateAsserted": end or start,
        }
        if note:
            resource["note"] = [{"text": note}]
        return self.add(resource)

    def med_request(self, medication: dict, authored: str, *, status: str = "active") -> dict:
        return self.add({
            "resourceType": "MedicationRequest",
            "id": self.rid("medrx"),
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": medication,
            "subject": self.subject,
            "authoredOn": authored,
        })

    def procedure(self, code: dict, date: str) -> dict:
        return self.add({
            "resourceType": "Procedure",
            "id": self.rid("proc"),
            "status": "completed",
            "code": code,
            "subject": self.subject,
            "performedDateTime": date,
        })

    # --- output ------------------------------------------------------------
    def bundle(self) -> dict:
        return {
            "resourceType": "Bundle",
            "id": f"{self.pid}-bundle",
            "type": "transaction",
            "entry": [{
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            } for r in self.resources],
        }

    def index_entry(self) -> dict:
        entry = {
            "file": f"{self.slug}.json",
            "patient": self.pid,
            "title": self.title,
            "description": self.description,
            "expected_topics": self.expected,
            "forbidden_topics": self.forbidden,
        }
        if self.expected_warnings:
            entry["expected_warnings"] = self.expected_warnings
        if self.first_regimen:
            entry["first_regimen"] = self.first_regimen
        return entry


# --- medication codings (RxNorm; CR A.5 ingredient CUIs, product CUIs from the
# shared Trialjectory lists as listed in mappings/drugs.yaml) ----------------
def rx(code: str, display: str, text: str | None = None) -> dict:
    return cc(RXN, code, display, text=text)


LETROZOLE_TAB = rx("200064", "letrozole 2.5 MG Oral Tablet")
ANASTROZOLE_TAB = rx("199224", "anastrozole 1 MG Oral Tablet")
EXEMESTANE = rx("258494", "exemestane")
TAMOXIFEN = rx("10324", "tamoxifen")
FULVESTRANT_SYR = rx("727762", "fulvestrant 50 MG/ML Prefilled Syringe", text="Fulvestrant 500 mg IM (2 x 250 mg/5 mL)")
FULVESTRANT = rx("282357", "fulvestrant")
PALBOCICLIB_CAP = rx("1601380", "palbociclib 125 MG Oral Capsule [Ibrance]")
PALBOCICLIB = rx("1601374", "palbociclib")
ABEMACICLIB_TAB = rx("1946840", "abemaciclib 150 MG Oral Tablet [Verzenio]")
KISQALI_FEMARA = rx("1923053", "{63 (ribociclib 200 MG Oral Tablet) / 28 (letrozole 2.5 MG Oral Tablet) } Pack [Kisqali Femara Co-Pack]")
ANASTROZOLE = rx("84857", "anastrozole")
EVEROLIMUS = rx("141704", "everolimus", text="Afinitor (everolimus) 10 mg daily")
CAPECITABINE_TAB = rx("200328", "capecitabine 500 MG Oral Tablet")
PACLITAXEL = rx("56946", "paclitaxel", text="Paclitaxel 80 mg/m2 IV weekly")
DOXORUBICIN = rx("3639", "doxorubicin")
CYCLOPHOSPHAMIDE = rx("3002", "cyclophosphamide")
ZOLEDRONIC = rx("77655", "zoledronic acid")
METFORMIN_TAB = rx("861007", "metformin hydrochloride 500 MG Oral Tablet")


def cases() -> list[Case]:
    out = []

    # 1 -----------------------------------------------------------------
    c = Case("denovo-first-line", ("Ana", "Alves"), "female", "1964-03-12",
             title="De novo metastatic, endocrine-sensitive, first line",
             description=("62-year-old postmenopausal woman, de novo bone-only metastatic ER+/PR+ "
                          "HER2-low (IHC 1+) disease, no prior therapy: AI + CDK4/6 inhibitor first line; "
                          "PIK3CA/AKT1/PTEN testing still missing."),
             expected=["ai-cdk46i", "test-pik3ca-akt1-pten"],
             forbidden=["chemotherapy", "trastuzumab-deruxtecan", "inavolisib-palbociclib-fulvestrant",
                        "capivasertib-fulvestrant", "alpelisib-fulvestrant", "elacestrant", "imlunestrant",
                        "everolimus-exemestane", "olaparib", "talazoparib", "test-er-pr-her2", "test-her2"])
    c.primary("2026-10-02", "right-icd")
    c.metastasis("bone", "2026-10-02")
    c.m1("2026-10-02")
    c.er("2026-10-06", percent=95)
    c.pr("2026-10-06", percent=80)
    c.her2_ihc("2026-10-06", valueCodeableConcept={"text": "1+"})
    c.her2_overall("2026-10-06", positive=False)
    c.menopause("2026-10-02", "post")
    c.ecog("2026-10-02", 0)
    c.hba1c("2026-10-05", 5.6)
    c.med(ZOLEDRONIC, "2026-10-15", note="Bone-modifying agent for bone metastases (not a line of therapy)")
    out.append(c)

    # 2 -----------------------------------------------------------------
    c = Case("early-relapse-pik3ca", ("Beatriz", "Borges"), "female", "1968-07-30",
             title="Relapse on adjuvant AI, PIK3CA-mutated",
             description=("58-year-old postmenopausal woman who relapsed (liver, bone) while still on adjuvant "
                          "anastrozole, PIK3CA H1047R in plasma ctDNA: endocrine-resistant first line -> "
                          "inavolisib + palbociclib + fulvestrant (INAVO120) or capivasertib + fulvestrant; "
                          "no AI + CDK4/6 inhibitor."),
             expected=["inavolisib-palbociclib-fulvestrant", "capivasertib-fulvestrant"],
             forbidden=["ai-cdk46i", "elacestrant", "imlunestrant", "olaparib", "talazoparib",
                        "chemotherapy", "trastuzumab-deruxtecan", "test-er-pr-her2"])
    c.primary("2021-02-15", "left")
    c.er("2021-02-20", percent=80, style="16112-5")
    c.pr("2021-02-20", status="neg", style="40557-1")
    c.her2_ihc("2026-06-18", valueString="IHC 0 with faint incomplete membrane staining in <10% of tumour cells (HER2-ultralow)")
    c.med(ANASTROZOLE_TAB, "2021-06-01", "2026-06-20", status="stopped",
          note="Adjuvant anastrozole; stopped at metastatic relapse")
    c.metastasis("liver", "2026-06-10")
    c.metastasis("bone", "2026-06-10")
    plasma = c.specimen("plasma", "2026-06-25", "Plasma (cell-free DNA)")
    c.variant("PIK3CA", plasma, "2026-07-02", "FoundationOne Liquid CDx (plasma ctDNA NGS)",
              dna="c.3140A>G", protein="p.(His1047Arg)")
    c.variant("ESR1", plasma, "2026-07-02", "FoundationOne Liquid CDx (plasma ctDNA NGS)", found=False)
    c.menopause("2021-02-15", "post")
    c.hba1c("2026-07-01", 5.4)
    c.ecog("2026-07-01", 1)
    out.append(c)

    # 3 (flagship: the README's request) ------------------------------------
    c = Case("esr1-post-cdk46i", ("Carmen", "Castro"), "female", "1959-01-21",
             title="ESR1-mutated after AI + CDK4/6 inhibitor",
             description=("67-year-old postmenopausal woman, late recurrence after adjuvant letrozole, progressed "
                          "on first-line ribociclib + letrozole (Kisqali Femara Co-Pack product code); ESR1 Y537S "
                          "in ctDNA taken after progression: elacestrant or imlunestrant; HER2-null, germline "
                          "BRCA1/2 negative."),
             expected=["elacestrant", "imlunestrant"],
             forbidden=["ai-cdk46i", "inavolisib-palbociclib-fulvestrant", "trastuzumab-deruxtecan",
                        "olaparib", "talazoparib", "capivasertib-fulvestrant", "alpelisib-fulvestrant",
                        "test-er-pr-her2", "test-germline-brca"])
    c.primary("2015-04-09", "breast")
    c.er("2015-04-14", percent=90)
    c.pr("2015-04-14", status="neg")
    c.her2_ihc("2023-03-20", valueString="0 - no staining (HER2-null)")
    c.her2_overall("2023-03-20", positive=False)
    c.med(LETROZOLE_TAB, "2015-07-01", "2020-07-01", note="Adjuvant letrozole, 5 years completed")
    c.metastasis("bone", "2023-03-15")
    c.metastasis("lung", "2023-03-15")
    c.med(KISQALI_FEMARA, "2023-04-01", "2026-08-15", status="stopped",
          note="First-line ribociclib + letrozole; stopped for radiographic progression 2026-08")
    blood = c.specimen("blood", "2023-04-20", "Peripheral blood (germline)")
    c.variant("BRCA1", blood, "2023-05-10", "BRACAnalysis CDx (germline blood)", found=False, origin="germline")
    c.variant("BRCA2", blood, "2023-05-10", "BRACAnalysis CDx (germline blood)", found=False, origin="germline")
    plasma = c.specimen("plasma", "2026-09-01", "Plasma (cell-free DNA)")
    c.variant("ESR1", plasma, "2026-09-08", "Guardant360 CDx (plasma ctDNA NGS)",
              dna="c.1610A>C", protein="p.(Tyr537Ser)")
    c.variant("PIK3CA", plasma, "2026-09-08", "Guardant360 CDx (plasma ctDNA NGS)", found=False)
    c.menopause("2015-04-09", "post")
    c.ecog("2026-09-01", 1)
    c.med(ZOLEDRONIC, "2023-04-01", note="Bone-modifying agent")
    out.append(c)

    # 4 -----------------------------------------------------------------
    c = Case("pik3ca-diabetes", ("Dolores", "Duarte"), "female", "1955-05-03",
             title="PIK3CA-mutated after CDK4/6 inhibitor, type 2 diabetes",
             description=("71-year-old woman (postmenopausal by age, no explicit status) with type 2 diabetes on "
                          "metformin, HbA1c 7.4 % in April; PIK3CA E545K in tissue; progressed on first-line "
                          "anastrozole + palbociclib: capivasertib or alpelisib + fulvestrant with a hyperglycaemia "
                          "warning and a fresh HbA1c/fasting glucose order."),
             expected=["capivasertib-fulvestrant", "alpelisib-fulvestrant", "test-glycemic"],
             expected_warnings=["capivasertib-fulvestrant", "alpelisib-fulvestrant"],
             forbidden=["inavolisib-palbociclib-fulvestrant", "elacestrant", "imlunestrant", "ai-cdk46i",
                        "olaparib", "talazoparib", "trastuzumab-deruxtecan"])
    c.condition("diabetes", cc2([(SCT, "44054006", "Diabetes mellitus type 2"),
                                 (ICD, "E11.9", "Type 2 diabetes mellitus without complications")]), "2015-03-01")
    c.med_request(METFORMIN_TAB, "2015-03-01")
    c.primary("2023-11-06", "unspecified")
    c.metastasis("bone", "2023-11-06")
    c.m1("2023-11-06")
    c.er("2023-11-10", style="40556-3")
    c.pr("2023-11-10")
    c.her2_ihc("2023-11-10", valueString="IHC 0, no membrane staining")
    c.her2_overall("2023-11-10", positive=False)
    tissue = c.specimen("tissue", "2023-11-08", "Breast core biopsy (FFPE tissue)")
    c.variant("PIK3CA", tissue, "2024-01-15", "FoundationOne CDx (tissue NGS)",
              dna="c.1633G>A", protein="p.(Glu545Lys)")
    c.med(ANASTROZOLE, "2023-12-01", "2026-07-20", status="stopped", note="First-line; progression 2026-07")
    c.med(PALBOCICLIB, "2023-12-01", "2026-07-20", status="stopped", note="First-line; progression 2026-07")
    plasma = c.specimen("plasma", "2026-08-05", "Plasma (cell-free DNA)")
    c.variant("ESR1", plasma, "2026-08-12", "Guardant360 CDx (plasma ctDNA NGS)", found=False)
    c.hba1c("2026-04-10", 7.4)
    c.ecog("2026-08-05", 1)
    out.append(c)

    # 5 -----------------------------------------------------------------
    c = Case("akt1-text-meds", ("Elena", "Esteves"), "female", "1962-09-18",
             title="AKT1-only alteration, medications recorded as text",
             description=("64-year-old postmenopausal woman whose medication history has no codes (free text "
                          "only: adjuvant letrozole, then letrozole + abemaciclib); AKT1 E17K in tissue, PIK3CA "
                          "and PTEN not altered: capivasertib + fulvestrant only (alpelisib needs PIK3CA)."),
             expected=["capivasertib-fulvestrant"],
             forbidden=["alpelisib-fulvestrant", "inavolisib-palbociclib-fulvestrant", "elacestrant",
                        "imlunestrant", "trastuzumab-deruxtecan", "ai-cdk46i"])
    c.primary("2016-06-02", "left")
    c.er("2016-06-08", percent=70)
    c.pr("2016-06-08", percent=40)
    c.her2_ihc("2024-01-25", valueString="0 (no staining)")
    c.her2_overall("2024-01-25", positive=False)
    c.med({"text": "Letrozole 2.5 mg PO daily (adjuvant)"}, "2016-09-01", "2021-09-01")
    c.metastasis("bone-icd", "2024-01-20")
    c.med({"text": "Letrozole 2.5 mg PO daily"}, "2024-02-01", "2026-09-01", status="stopped",
          note="Progression on bone scan and CT 2026-08")
    c.med({"text": "Verzenio (abemaciclib) 150 mg PO twice daily"}, "2024-02-01", "2026-09-01", status="stopped",
          note="Progression on bone scan and CT 2026-08")
    tissue = c.specimen("tissue", "2026-09-10", "Bone metastasis biopsy (FFPE tissue)")
    c.variant("AKT1", tissue, "2026-09-28", "FoundationOne CDx (tissue NGS)", dna="c.49G>A", protein="p.(Glu17Lys)")
    c.variant("PIK3CA", tissue, "2026-09-28", "FoundationOne CDx (tissue NGS)", found=False)
    c.variant("PTEN", tissue, "2026-09-28", "FoundationOne CDx (tissue NGS)", found=False)
    c.variant("ESR1", tissue, "2026-09-28", "FoundationOne CDx (tissue NGS)", found=False)
    c.menopause("2016-06-02", "post")
    c.hba1c("2026-10-20", 5.5)
    out.append(c)

    # 6 -----------------------------------------------------------------
    c = Case("gbrca2-prior-chemo", ("Fatima", "Farah"), "female", "1980-02-11",
             title="Germline BRCA2 carrier after chemotherapy and CDK4/6 inhibitor",
             description=("46-year-old woman, germline BRCA2 pathogenic variant (blood), bilateral "
                          "salpingo-oophorectomy 2019, adjuvant AC-paclitaxel then tamoxifen/exemestane; relapsed "
                          "2025 and progressed on letrozole + abemaciclib: olaparib (prior chemotherapy met) and "
                          "talazoparib."),
             expected=["olaparib", "talazoparib"],
             forbidden=["test-germline-brca", "ai-cdk46i", "elacestrant", "imlunestrant"])
    c.primary("2018-05-03", "left")
    c.er("2018-05-08", percent=85)
    c.pr("2018-05-08", percent=30)
    c.her2_ihc("2025-03-20", valueString="0, no staining")
    c.her2_overall("2025-03-20", positive=False)
    blood = c.specimen("blood", "2018-05-10", "Peripheral blood (germline)")
    c.variant("BRCA2", blood, "2018-05-30", "BRACAnalysis CDx (germline blood)", origin="germline",
              dna="c.5946del", protein="p.(Ser1982ArgfsTer22)")
    c.med(DOXORUBICIN, "2018-06-04", "2018-08-06", note="Adjuvant AC x4")
    c.med(CYCLOPHOSPHAMIDE, "2018-06-04", "2018-08-06", note="Adjuvant AC x4")
    c.med(PACLITAXEL, "2018-08-20", "2018-11-05", note="Adjuvant weekly paclitaxel x12")
    c.med(TAMOXIFEN, "2018-12-01", "2019-06-30", note="Adjuvant; switched to exemestane after oophorectomy")
    c.procedure(cc(SCT, "52572001", "Bilateral salpingo-oophorectomy"), "2019-06-20")
    c.med(EXEMESTANE, "2019-07-01", "2024-07-01", note="Adjuvant exemestane completed")
    c.metastasis("bone", "2025-03-12")
    c.metastasis("liver", "2025-03-12")
    c.med(LETROZOLE_TAB, "2025-04-01", "2026-08-25", status="stopped", note="First-line; progression 2026-08")
    c.med(ABEMACICLIB_TAB, "2025-04-01", "2026-08-25", status="stopped", note="First-line; progression 2026-08")
    plasma = c.specimen("plasma", "2026-09-02", "Plasma (cell-free DNA)")
    c.variant("ESR1", plasma, "2026-09-09", "Guardant360 CDx (plasma ctDNA NGS)", found=False)
    c.variant("PIK3CA", plasma, "2026-09-09", "Guardant360 CDx (plasma ctDNA NGS)", found=False)
    c.menopause("2019-07-01", "post")
    c.ecog("2026-09-02", 0)
    out.append(c)

    # 7 -----------------------------------------------------------------
    c = Case("somatic-brca1", ("Grace", "Gomes"), "female", "1971-11-27",
             title="Somatic-only BRCA1 on tumour sequencing",
             description=("55-year-old postmenopausal woman whose tumour-only tissue NGS found a BRCA1 pathogenic "
                          "variant of somatic origin, never tested in blood: germline BRCA1/2 testing is "
                          "recommended; no PARP inhibitor on a somatic result."),
             expected=["test-germline-brca"],
             forbidden=["olaparib", "talazoparib"])
    c.primary("2017-03-14", "left")
    c.er("2017-03-20", percent=90)
    c.pr("2017-03-20", percent=60)
    c.her2_ihc("2024-05-15", valueString="0 - no staining (HER2-null)")
    c.her2_overall("2024-05-15", positive=False)
    c.med(ANASTROZOLE_TAB, "2017-06-01", "2022-06-01", note="Adjuvant anastrozole completed")
    c.metastasis("bone", "2024-05-10")
    c.med(FULVESTRANT_SYR, "2024-06-01", "2026-09-15", status="stopped", note="First-line; progression 2026-09")
    c.med(PALBOCICLIB_CAP, "2024-06-01", "2026-09-15", status="stopped", note="First-line; progression 2026-09")
    tissue = c.specimen("tissue", "2026-09-20", "Bone metastasis biopsy (FFPE tissue)")
    c.variant("BRCA1", tissue, "2026-10-05", "FoundationOne CDx (tumour-only tissue NGS)", origin="somatic",
              dna="c.68_69del", protein="p.(Glu23ValfsTer17)")
    c.variant("PIK3CA", tissue, "2026-10-05", "FoundationOne CDx (tumour-only tissue NGS)", found=False)
    c.variant("AKT1", tissue, "2026-10-05", "FoundationOne CDx (tumour-only tissue NGS)", found=False)
    c.variant("PTEN", tissue, "2026-10-05", "FoundationOne CDx (tumour-only tissue NGS)", found=False)
    c.variant("ESR1", tissue, "2026-10-05", "FoundationOne CDx (tumour-only tissue NGS)", found=False)
    c.menopause("2017-03-14", "post")
    out.append(c)

    # 8 -----------------------------------------------------------------
    c = Case("no-actionable-postmenopausal", ("Hana", "Hoffmann"), "female", "1957-04-04",
             title="No actionable alteration, postmenopausal, after AI + CDK4/6 inhibitor",
             description=("69-year-old postmenopausal woman, progressed on first-line letrozole + palbociclib; "
                          "ESR1, PIK3CA, AKT1 and PTEN not altered in tissue and ctDNA, germline BRCA negative: "
                          "everolimus + exemestane (after a non-steroidal AI) or fulvestrant-based therapy."),
             expected=["everolimus-exemestane", "fulvestrant", "fulvestrant-cdk46i"],
             forbidden=["elacestrant", "imlunestrant", "capivasertib-fulvestrant", "alpelisib-fulvestrant",
                        "inavolisib-palbociclib-fulvestrant", "olaparib", "talazoparib", "ai-cdk46i",
                        "trastuzumab-deruxtecan"])
    c.primary("2014-01-20", "left")
    c.er("2014-01-24", percent=95)
    c.pr("2014-01-24", percent=50)
    c.her2_ihc("2023-02-15", valueString="0 - no staining")
    c.her2_overall("2023-02-15", positive=False)
    c.med(LETROZOLE_TAB, "2014-04-01", "2019-04-01", note="Adjuvant letrozole completed")
    c.metastasis("bone", "2023-02-10")
    c.med(LETROZOLE_TAB, "2023-03-01", "2026-08-10", status="stopped", note="First-line; progression 2026-08")
    c.med(PALBOCICLIB_CAP, "2023-03-01", "2026-08-10", status="stopped", note="First-line; progression 2026-08")
    blood = c.specimen("blood", "2023-03-05", "Peripheral blood (germline)")
    c.variant("BRCA1", blood, "2023-03-25", "Germline hereditary cancer panel (blood)", found=False, origin="germline")
    c.variant("BRCA2", blood, "2023-03-25", "Germline hereditary cancer panel (blood)", found=False, origin="germline")
    tissue = c.specimen("tissue", "2026-08-25", "Bone metastasis biopsy (FFPE tissue)")
    for gene in ("PIK3CA", "AKT1", "PTEN", "ESR1"):
        c.variant(gene, tissue, "2026-09-12", "FoundationOne CDx (tissue NGS)", found=False)
    plasma = c.specimen("plasma", "2026-08-25", "Plasma (cell-free DNA)")
    c.variant("ESR1", plasma, "2026-09-01", "Guardant360 CDx (plasma ctDNA NGS)", found=False)
    c.menopause("2014-01-20", "post")
    c.hba1c("2026-11-02", 5.3)
    c.observation("fpg", cc(LOINC, "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"), "2026-11-02",
                  valueQuantity={"value": 92, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"})
    out.append(c)

    # 9 -----------------------------------------------------------------
    c = Case("premenopausal-no-ofs", ("Iris", "Ivanova"), "female", "1987-08-09",
             title="Premenopausal, no ovarian suppression documented",
             description=("39-year-old premenopausal woman with de novo metastatic ER+/PR+ HER2-low (IHC 2+, ISH "
                          "not amplified) disease and no GnRH agonist or oophorectomy: AI + CDK4/6 inhibitor with "
                          "a warning that ovarian function suppression is required (goserelin added)."),
             expected=["ai-cdk46i"],
             expected_warnings=["ai-cdk46i"],
             forbidden=["everolimus-exemestane", "elacestrant", "trastuzumab-deruxtecan", "chemotherapy"])
    c.primary("2026-09-28", "left")
    c.metastasis("bone", "2026-09-28")
    c.metastasis("nodes", "2026-09-28")
    c.m1("2026-09-28")
    c.er("2026-10-01", percent=90)
    c.pr("2026-10-01", percent=70)
    c.her2_ihc("2026-10-01", valueString="2+")
    c.her2_ish_not_amplified("2026-10-08")
    c.menopause("2026-09-28", "pre")
    c.ecog("2026-09-28", 0)
    out.append(c)

    # 10 ----------------------------------------------------------------
    c = Case("her2-low-after-et", ("Julia", "Jansen"), "female", "1966-12-01",
             title="HER2-low, early progression on first-line ET + CDK4/6 inhibitor",
             description=("60-year-old postmenopausal woman, de novo liver and bone metastases, progressed within "
                          "6 months of first-line ribociclib + letrozole; HER2 IHC 1+ on the liver biopsy (local "
                          "score code), no targetable alteration: trastuzumab deruxtecan (DESTINY-Breast06)."),
             expected=["trastuzumab-deruxtecan"],
             forbidden=["test-her2", "ai-cdk46i", "elacestrant", "imlunestrant", "olaparib", "talazoparib",
                        "capivasertib-fulvestrant", "alpelisib-fulvestrant"])
    c.primary("2026-02-10", "left")
    c.metastasis("liver", "2026-02-10")
    c.metastasis("bone", "2026-02-10")
    c.m1("2026-02-10")
    c.er("2026-02-14", percent=60)
    c.pr("2026-02-14", status="neg")
    c.med(KISQALI_FEMARA, "2026-03-01", "2026-08-20", status="stopped",
          note="First-line ribociclib + letrozole; progression in the liver after 5.5 months")
    tissue = c.specimen("tissue", "2026-09-03", "Liver metastasis biopsy (FFPE tissue)")
    c.her2_ihc("2026-09-08", valueCodeableConcept=cc(LT_HER2, "1", "1+", text="HER2 IHC 1+"))
    c.her2_overall("2026-09-08", positive=False)
    for gene in ("PIK3CA", "AKT1", "PTEN", "ESR1"):
        c.variant(gene, tissue, "2026-09-25", "FoundationOne CDx (tissue NGS)", found=False)
    blood = c.specimen("blood", "2026-03-01", "Peripheral blood (germline)")
    c.variant("BRCA1", blood, "2026-03-20", "Germline hereditary cancer panel (blood)", found=False, origin="germline")
    c.variant("BRCA2", blood, "2026-03-20", "Germline hereditary cancer panel (blood)", found=False, origin="germline")
    c.menopause("2026-02-10", "post")
    c.ecog("2026-09-03", 1)
    out.append(c)

    # 11 ----------------------------------------------------------------
    c = Case("her2-zero-unspecified", ("Keiko", "Kato"), "female", "1960-06-22",
             title="HER2 IHC 0 not further classified, ESR1 never tested",
             description=("66-year-old postmenopausal woman after adjuvant exemestane and first-line anastrozole + "
                          "abemaciclib; HER2 reported only as IHC score '0' (null vs ultralow unknown): HER2 "
                          "re-test for T-DXd eligibility; ESR1 and PIK3CA never tested."),
             expected=["test-her2", "test-esr1", "test-pik3ca-akt1-pten"],
             forbidden=["trastuzumab-deruxtecan", "elacestrant", "imlunestrant"])
    c.primary("2017-09-05", "left")
    c.er("2017-09-09", percent=80)
    c.pr("2017-09-09", percent=20)
    c.her2_ihc("2025-01-20", valueString="0")
    c.her2_overall("2025-01-20", positive=False)
    c.med(EXEMESTANE, "2017-12-01", "2022-12-01", note="Adjuvant exemestane completed")
    c.metastasis("bone", "2025-01-15")
    c.med(ANASTROZOLE_TAB, "2025-02-01", "2026-09-20", status="stopped", note="First-line; progression 2026-09")
    c.med(ABEMACICLIB_TAB, "2025-02-01", "2026-09-20", status="stopped", note="First-line; progression 2026-09")
    c.menopause("2017-09-05", "post")
    out.append(c)

    # 12 ----------------------------------------------------------------
    c = Case("ild-her2-low", ("Lucia", "Lopes"), "female", "1963-10-10",
             title="HER2-low with a history of interstitial lung disease",
             description=("63-year-old postmenopausal woman, HER2-low (IHC 2+, ISH not amplified), progressed on two "
                          "endocrine lines; interstitial lung disease diagnosed 2025 during abemaciclib: "
                          "trastuzumab deruxtecan only with an ILD warning; a T-DXd order is flagged."),
             expected=["trastuzumab-deruxtecan"],
             expected_warnings=["trastuzumab-deruxtecan"],
             forbidden=["ai-cdk46i", "inavolisib-palbociclib-fulvestrant"])
    c.primary("2016-02-02", "left")
    c.er("2016-02-06", percent=75)
    c.pr("2016-02-06", percent=10)
    c.med(ANASTROZOLE_TAB, "2016-05-01", "2021-05-01", note="Adjuvant anastrozole completed")
    c.metastasis("lung", "2024-02-12")
    c.metastasis("bone", "2024-02-12")
    c.her2_ihc("2024-02-20", valueString="2+")
    c.her2_ish_not_amplified("2024-02-27")
    c.med(LETROZOLE_TAB, "2024-03-01", "2025-02-10", status="stopped", note="First-line; stopped with abemaciclib")
    c.med(ABEMACICLIB_TAB, "2024-03-01", "2025-02-10", status="stopped", note="Stopped for interstitial lung disease")
    c.condition("ild", cc2([(SCT, "233703007", "Interstitial lung disease"),
                            (ICD, "J84.9", "Interstitial pulmonary disease, unspecified")]), "2025-02-05",
                note="CT: bilateral ground-glass opacities during abemaciclib; drug stopped.")
    c.med(FULVESTRANT, "2025-03-01", "2026-09-05", status="stopped", note="Second-line; progression 2026-09")
    tissue = c.specimen("tissue", "2024-02-18", "Lung metastasis biopsy (FFPE tissue)")
    for gene in ("PIK3CA", "AKT1", "PTEN"):
        c.variant(gene, tissue, "2024-03-10", "FoundationOne CDx (tissue NGS)", found=False)
    plasma = c.specimen("plasma", "2026-09-10", "Plasma (cell-free DNA)")
    c.variant("ESR1", plasma, "2026-09-17", "Guardant360 CDx (plasma ctDNA NGS)", found=False)
    c.menopause("2016-02-02", "post")
    out.append(c)

    # 13 ----------------------------------------------------------------
    c = Case("later-line-after-chemo", ("Maria", "Moreau"), "female", "1967-03-30",
             title="Later line after endocrine therapy and two chemotherapy lines",
             description=("59-year-old postmenopausal woman, HER2-null, after ribociclib + letrozole, everolimus + "
                          "exemestane, capecitabine and weekly paclitaxel for metastatic disease: "
                          "datopotamab deruxtecan or sacituzumab govitecan."),
             expected=["datopotamab-deruxtecan", "sacituzumab-govitecan"],
             forbidden=["ai-cdk46i", "trastuzumab-deruxtecan", "inavolisib-palbociclib-fulvestrant",
                        "everolimus-exemestane"])
    c.primary("2012-05-15", "left")
    c.condition("receptor-status", cc(ICD, "Z17.0", "Estrogen receptor positive status [ER+]"), "2012-05-20",
                category="encounter-diagnosis")
    c.er("2012-05-20", percent=85)
    c.pr("2012-05-20", percent=15)
    c.med(TAMOXIFEN, "2012-08-01", "2017-08-01", note="Adjuvant tamoxifen completed")
    c.metastasis("bone", "2021-06-03")
    c.metastasis("liver", "2021-06-03")
    c.her2_ihc("2021-06-10", valueString="0 - no staining (HER2-null)")
    c.her2_overall("2021-06-10", positive=False)
    c.med(KISQALI_FEMARA, "2021-07-01", "2023-05-20", status="stopped", note="First line")
    c.med(EVEROLIMUS, "2023-06-01", "2024-04-15", status="stopped", note="Second line")
    c.med(EXEMESTANE, "2023-06-01", "2024-04-15", status="stopped", note="Second line")
    c.med(CAPECITABINE_TAB, "2024-05-01", "2025-06-10", status="stopped", note="Third line")
    c.med(PACLITAXEL, "2025-07-01", "2026-08-30", status="stopped", note="Fourth line")
    blood = c.specimen("blood", "2021-07-10", "Peripheral blood (germline)")
    c.variant("BRCA1", blood, "2021-08-01", "Germline hereditary cancer panel (blood)", found=False, origin="germline")
    c.variant("BRCA2", blood, "2021-08-01", "Germline hereditary cancer panel (blood)", found=False, origin="germline")
    tissue = c.specimen("tissue", "2023-05-28", "Liver metastasis biopsy (FFPE tissue)")
    for gene in ("PIK3CA", "AKT1", "PTEN"):
        c.variant(gene, tissue, "2023-06-15", "FoundationOne CDx (tissue NGS)", found=False)
    plasma = c.specimen("plasma", "2026-09-05", "Plasma (cell-free DNA)")
    c.variant("ESR1", plasma, "2026-09-12", "Guardant360 CDx (plasma ctDNA NGS)", found=False)
    c.menopause("2012-05-15", "post")
    c.ecog("2026-09-05", 1)
    out.append(c)

    # 14 ----------------------------------------------------------------
    c = Case("visceral-crisis", ("Nadia", "Nowak"), "female", "1972-01-14",
             title="Visceral crisis at presentation",
             description=("54-year-old postmenopausal woman with de novo extensive liver metastases and a "
                          "clinician-documented visceral crisis (rising bilirubin): chemotherapy (a taxane) "
                          "first; endocrine-based first line only after stabilisation."),
             expected=["chemotherapy"],
             first_regimen="chemotherapy",
             forbidden=["elacestrant", "imlunestrant", "everolimus-exemestane", "trastuzumab-deruxtecan"])
    c.primary("2026-10-20", "left")
    c.metastasis("liver", "2026-10-20")
    c.metastasis("bone", "2026-10-20")
    c.m1("2026-10-20")
    c.condition("crisis", cc(LOCAL, "visceral-crisis", "Visceral crisis",
                             text="Visceral crisis: hepatic dysfunction with rising bilirubin from liver metastases"),
                "2026-10-28", category="encounter-diagnosis")
    c.er("2026-10-24", percent=90)
    c.pr("2026-10-24", percent=40)
    c.her2_ihc("2026-10-24", valueString="1+")
    c.her2_overall("2026-10-24", positive=False)
    c.menopause("2026-10-20", "post")
    c.ecog("2026-10-28", 2)
    out.append(c)

    # 15 ----------------------------------------------------------------
    c = Case("receptor-status-unknown", ("Olga", "Olsen"), "female", "1969-08-19",
             title="Receptor status not documented",
             description=("57-year-old woman with metastatic breast cancer (bone, liver) and no ER, PR or HER2 result "
                          "in the record: ER/PR/HER2 testing first; no regimen is proposed on unknown receptors."),
             expected=["test-er-pr-her2"],
             forbidden=list(ALL_REGIMENS))
    c.primary("2026-09-15", "breast")
    c.metastasis("bone", "2026-09-15")
    c.metastasis("liver", "2026-09-15")
    c.menopause("2026-09-15", "post")
    out.append(c)

    # 16 ----------------------------------------------------------------
    c = Case("her2-positive", ("Paula", "Pereira"), "female", "1976-05-05",
             title="HER2-positive: outside this pathway",
             description=("50-year-old woman with metastatic ER+ HER2-positive (IHC 3+) disease: outside the "
                          "HR+/HER2- pathway, so no regimen cards, only the summary of what was understood."),
             expected=[],
             forbidden=[*ALL_REGIMENS, "test-er-pr-her2", "test-her2"])
    c.primary("2026-08-01", "left")
    c.metastasis("lung", "2026-08-01")
    c.er("2026-08-05", percent=60)
    c.pr("2026-08-05", status="neg")
    c.her2_ihc("2026-08-05", valueString="3+")
    c.her2_overall("2026-08-05", positive=True)
    c.menopause("2026-08-01", "pre")
    out.append(c)

    return out


# --- demo draft orders (context.draftOrders for order-select / order-sign) --
ORDER_CASES = [
    {
        "file": "ild-her2-low-tdxd.json",
        "patient": "demo-ild-her2-low",
        "title": "T-DXd ordered despite interstitial lung disease",
        "description": "Trastuzumab deruxtecan (Enhertu product code) drafted for a patient with documented ILD: flagged.",
        "expected_topics": ["order-contraindicated"],
        "forbidden_topics": [],
        "drugs": [rx("2267581", "fam-trastuzumab deruxtecan-nxki 100 MG Injection [Enhertu]",
                     text="Enhertu 5.4 mg/kg IV every 3 weeks")],
    },
    {
        "file": "early-relapse-pik3ca-inavolisib-alone.json",
        "patient": "demo-early-relapse-pik3ca",
        "title": "Inavolisib without its regimen partners",
        "description": "Inavolisib drafted alone; the label regimen also needs palbociclib and fulvestrant.",
        "expected_topics": ["order-incomplete-regimen"],
        "forbidden_topics": [],
        "drugs": [rx("2695422", "inavolisib", text="Itovebi (inavolisib) 9 mg PO daily")],
    },
    {
        "file": "premenopausal-no-ofs-everolimus-exemestane.json",
        "patient": "demo-premenopausal-no-ofs",
        "title": "Everolimus + exemestane for a premenopausal woman",
        "description": "Everolimus + exemestane is labelled for postmenopausal women after a non-steroidal AI only.",
        "expected_topics": ["order-not-indicated"],
        "forbidden_topics": [],
        "drugs": [rx("141704", "everolimus", text="Afinitor (everolimus) 10 mg PO daily"),
                  rx("258494", "exemestane", text="Exemestane 25 mg PO daily")],
    },
    {
        "file": "her2-zero-unspecified-elacestrant.json",
        "patient": "demo-her2-zero-unspecified",
        "title": "Elacestrant without an ESR1 result",
        "description": "Elacestrant needs an ESR1 mutation; this patient was never tested.",
        "expected_topics": ["order-biomarker-missing"],
        "forbidden_topics": [],
        "drugs": [rx("2628469", "elacestrant", text="Orserdu (elacestrant) 345 mg PO daily")],
    },
    {
        "file": "esr1-post-cdk46i-elacestrant.json",
        "patient": "demo-esr1-post-cdk46i",
        "title": "Elacestrant that fits (no warning expected)",
        "description": "Elacestrant drafted for the ESR1-mutated postmenopausal patient: nothing to flag.",
        "expected_topics": [],
        "forbidden_topics": ["order-biomarker-missing", "order-not-indicated", "order-contraindicated",
                             "order-incomplete-regimen"],
        "drugs": [rx("2628469", "elacestrant", text="Orserdu (elacestrant) 345 mg PO daily")],
    },
]


def draft_orders_bundle(order: dict) -> dict:
    stem = order["file"].removesuffix(".json")
    entries = []
    for i, medication in enumerate(order["drugs"], 1):
        resource = {
            "resourceType": "MedicationRequest",
            "id": f"draft-{stem}-{i}",
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": medication,
            "subject": {"reference": f"Patient/{order['patient']}"},
            "authoredOn": "2026-11-20",
        }
        entries.append({"resource": resource})
    return {"resourceType": "Bundle", "id": f"draft-{stem}", "type": "collection", "entry": entries}


def dump_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def dump_yaml(path: Path, header: str, data) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None)
    path.write_text(header + text, encoding="utf-8")


PATIENT_INDEX_HEADER = """\
# Demo patients: one FHIR R4 transaction Bundle (PUT, stable ids) per case.
# GENERATED by service/demo/generate.py - edit the cases there, then re-run it.
#
# Per file: the patient id, a title, one line on the case, the card topics the
# patient-view call must produce (expected_topics) and must not produce
# (forbidden_topics), optionally the topics whose card must be a warning
# (expected_warnings) and the regimen that must be ranked first (first_regimen).
# Topic codes: cards/topics.py. tests/deploy checks every entry against a real
# FHIR server loaded with `mbc-cds load-demo`.
"""

ORDER_INDEX_HEADER = """\
# Demo draft orders: context.draftOrders Bundles for the order-select and
# order-sign hooks, one per order-check rule, each for a demo patient.
# GENERATED by service/demo/generate.py - edit the cases there, then re-run it.
"""


def hook_requests() -> dict[str, dict]:
    """Ready CDS Hooks requests with neither prefetch nor fhirServer: in demo
    mode (`make run`) the service answers them from the embedded patients."""
    order = next(o for o in ORDER_CASES if o["file"] == FLAGSHIP_ORDER)
    draft = draft_orders_bundle(order)
    selections = [f"MedicationRequest/{e['resource']['id']}" for e in draft["entry"]]
    user = "Practitioner/demo-oncologist"
    return {
        "patient-view.json": {
            "hook": "patient-view",
            "hookInstance": "2d5ae5b8-6a0e-4a7e-9d7a-0c1f4f5b9e01",
            "context": {"userId": user, "patientId": FLAGSHIP_PATIENT},
        },
        "order-select.json": {
            "hook": "order-select",
            "hookInstance": "6f1c2a43-8d55-4f0e-a3b1-5b7e8c2d9f02",
            "context": {"userId": user, "patientId": order["patient"],
                        "selections": selections, "draftOrders": draft},
        },
        "order-sign.json": {
            "hook": "order-sign",
            "hookInstance": "a93e0d71-2c4b-4b8f-8e6a-7d1f3c5a2b03",
            "context": {"userId": user, "patientId": order["patient"], "draftOrders": draft},
        },
    }


def write_all(root: Path = HERE) -> list[Path]:
    """Write every generated file under `root` (default: this folder)."""
    patients_dir, orders_dir, requests_dir = root / "patients", root / "orders", root / "requests"
    for folder in (patients_dir, orders_dir, requests_dir):
        folder.mkdir(parents=True, exist_ok=True)
    written = []
    index = []
    for case in cases():
        path = patients_dir / f"{case.slug}.json"
        dump_json(path, case.bundle())
        written.append(path)
        index.append(case.index_entry())
    dump_yaml(patients_dir / "index.yaml", PATIENT_INDEX_HEADER, {"patients": index})
    written.append(patients_dir / "index.yaml")
    order_index = []
    for order in ORDER_CASES:
        path = orders_dir / order["file"]
        dump_json(path, draft_orders_bundle(order))
        written.append(path)
        order_index.append({k: v for k, v in order.items() if k != "drugs"})
    dump_yaml(orders_dir / "index.yaml", ORDER_INDEX_HEADER, {"orders": order_index})
    written.append(orders_dir / "index.yaml")
    for name, body in hook_requests().items():
        dump_json(requests_dir / name, body)
        written.append(requests_dir / name)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path.relative_to(HERE))
