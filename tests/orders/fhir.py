"""FHIR R4 charts and order-hook requests for the HTTP tests (resources as dicts).

    chart = Chart("pt-1").hr_positive_mbc(metastatic_days_ago=500)
    chart.regimen(["letrozole", "palbociclib"], days_ago=480, ended_days_ago=20)
    chart.variant("PIK3CA", "p.His1047Arg")
    body = chart.order_sign(drafts=[med_request("mr-1", rx("1601381", "palbociclib 125 MG Oral Capsule"))])

Dates are relative to today because the HTTP path evaluates "as of" the day of
the request. Codes: ../shared/clinical-reference.md Part A (LOINC tumour markers,
Genomics Reporting variant components 69548-6 + 48018-6 HGNC, SNOMED conditions);
product-level RxNorm codes from ../shared/data/reference (mCODE trial-matching
lists): EHRs send products (SCD/SBD/packs), not ingredients.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from cards.knowledge import DRUGS

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org"
HGNC_IDS = {"ESR1": "HGNC:3467", "PIK3CA": "HGNC:8975", "AKT1": "HGNC:391", "PTEN": "HGNC:9588",
            "BRCA1": "HGNC:1100", "BRCA2": "HGNC:1101", "PALB2": "HGNC:26144"}
ORIGIN = {"germline": ("LA6683-2", "Germline"), "somatic": ("LA6684-0", "Somatic"),
          "unknown": ("LA18197-6", "Unknown genomic origin")}
SPECIMEN = {"ctdna": "Plasma cell-free DNA (ctDNA)", "tissue": "Tumor tissue biopsy (FFPE)", "blood": "Peripheral blood"}

# Product-level RxNorm codes as EHRs send them (shared mCODE trial-matching lists).
PRODUCTS = {
    "fulvestrant": ("727762", "fulvestrant 50 MG/ML Prefilled Syringe"),
    "alpelisib": ("2169302", "alpelisib 150 MG Oral Tablet [Piqray]"),
    "palbociclib": ("1601381", "palbociclib 125 MG Oral Capsule [Ibrance]"),
    "ribociclib": ("1873984", "ribociclib 200 MG Oral Tablet [Kisqali]"),
    "kisqali femara co-pack": ("1923053", "Kisqali Femara Co-Pack (ribociclib / letrozole)"),
    "letrozole": ("203769", "letrozole 2.5 MG Oral Tablet [Femara]"),
    "exemestane": ("310261", "exemestane 25 MG Oral Tablet"),
    "everolimus": ("845509", "everolimus 10 MG Oral Tablet [Afinitor]"),
    "olaparib": ("1597588", "olaparib 150 MG Oral Tablet [Lynparza]"),
    "talazoparib": ("2099947", "talazoparib 1 MG Oral Capsule [Talzenna]"),
    "trastuzumab deruxtecan": ("2267576", "fam-trastuzumab deruxtecan-nxki 100 MG Injection [Enhertu]"),
}
# Newer drugs have no product code in the shared lists: EHRs send text only.
TEXT_ONLY = {
    "capivasertib": "Truqap (capivasertib) 400 mg tablets, twice daily 4 days on / 3 days off",
    "inavolisib": "Itovebi (inavolisib) 9 mg tablet once daily",
    "elacestrant": "Orserdu (elacestrant) 345 mg tablet",
    "imlunestrant": "Inluriyo (imlunestrant) 400 mg daily",
    "datopotamab deruxtecan": "Datroway (datopotamab deruxtecan-dlnk) 6 mg/kg IV q3w",
}


def ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


def cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out: dict = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def searchset(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r, "search": {"mode": "match"}}
                      for r in resources]}


# --- draft orders ----------------------------------------------------------

def med_request(rid: str, drug: str, pid: str, how: str = "product") -> dict:
    """A draft MedicationRequest as an EHR sends it: product-level RxNorm code, or text only."""
    res = {"resourceType": "MedicationRequest", "id": rid, "status": "draft", "intent": "order",
           "subject": {"reference": f"Patient/{pid}"}, "authoredOn": ago(0)}
    if how == "text" or (how == "product" and drug in TEXT_ONLY):
        res["medicationCodeableConcept"] = {"text": TEXT_ONLY.get(drug, drug)}
    elif how == "ingredient":
        res["medicationCodeableConcept"] = cc(RXNORM, DRUGS[drug].rxnorm, drug)
    else:
        code, display = PRODUCTS[drug]
        res["medicationCodeableConcept"] = cc(RXNORM, code, display, display)
    res["dosageInstruction"] = [{"text": "as per protocol"}]
    return res


def other_request(rid: str, pid: str) -> list[dict]:
    """Non-oncology drafts: metformin and a CBC ServiceRequest."""
    return [
        {"resourceType": "MedicationRequest", "id": rid, "status": "draft", "intent": "order",
         "subject": {"reference": f"Patient/{pid}"},
         "medicationCodeableConcept": cc(RXNORM, "861007", "metformin hydrochloride 500 MG Oral Tablet")},
        {"resourceType": "ServiceRequest", "id": rid + "-cbc", "status": "draft", "intent": "order",
         "subject": {"reference": f"Patient/{pid}"}, "code": cc(LOINC, "58410-2", "CBC panel - Blood by Automated count")},
    ]


def drafted_test_order(rid: str, pid: str, code: dict) -> dict:
    """A drafted test order (ServiceRequest) as an EHR sends it with the drug orders."""
    return {"resourceType": "ServiceRequest", "id": rid, "status": "draft", "intent": "order",
            "subject": {"reference": f"Patient/{pid}"}, "code": code}


def draft_bundle(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


# --- the chart -------------------------------------------------------------

class Chart:
    def __init__(self, pid: str, gender: str = "female", birth: str = "1960-04-02"):
        self.pid = pid
        self._n = itertools.count(1)
        self.patient = {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}
        self.conditions: list[dict] = []
        self.markers: list[dict] = []
        self.genomics: list[dict] = []
        self.findings: list[dict] = []
        self.statements: list[dict] = []
        self.requests: list[dict] = []  # MedicationRequests of the record (not drafts)

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._n)}"

    def _subject(self) -> dict:
        return {"reference": f"Patient/{self.pid}"}

    def condition(self, code: dict, days_ago: int, prefix: str, **extra) -> "Chart":
        self.conditions.append({
            "resourceType": "Condition", "id": self._id(prefix),
            "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
            "verificationStatus": cc("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
            "code": code, "subject": self._subject(), "onsetDateTime": ago(days_ago), **extra})
        return self

    def _obs(self, into: list, prefix: str, code: dict, days_ago: int, **value) -> dict:
        res = {"resourceType": "Observation", "id": self._id(prefix), "status": "final", "code": code,
               "subject": self._subject(), "effectiveDateTime": ago(days_ago), **value}
        into.append(res)
        return res

    # disease and receptors
    def hr_positive_mbc(self, *, metastatic_days_ago: int = 500, primary_days_ago: int | None = None,
                        her2: str = "1+", menopause: str | None = "postmenopausal") -> "Chart":
        self.condition(cc(SCT, "254837009", "Malignant neoplasm of breast (disorder)"),
                       primary_days_ago or metastatic_days_ago, "primary")
        self.condition(cc(SCT, "94222008", "Secondary malignant neoplasm of bone"), metastatic_days_ago, "met-bone")
        self.receptor("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain",
                      metastatic_days_ago, "er")
        self.receptor("85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain",
                      metastatic_days_ago, "pr")
        self.her2(her2, metastatic_days_ago)
        if menopause:
            self.menopause(menopause, metastatic_days_ago)
        return self

    def receptor(self, code: str, display: str, days_ago: int, prefix: str) -> "Chart":
        self._obs(self.markers, prefix, cc(LOINC, code, display), days_ago,
                  valueCodeableConcept=cc(LOINC, "LA6576-8", "Positive"))
        return self

    def her2(self, ihc: str, days_ago: int, text: str | None = None) -> "Chart":
        self._obs(self.markers, "her2", cc(LOINC, "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain"),
                  days_ago, valueString=text or ihc)
        return self

    def her2_ish(self, amplified: bool, days_ago: int) -> "Chart":
        answer = ("10828004", "Positive") if amplified else ("260385009", "Negative")
        self._obs(self.markers, "her2-ish", cc(LOINC, "85318-4", "ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH"),
                  days_ago, valueCodeableConcept=cc(SCT, *answer))
        return self

    def menopause(self, status: str, days_ago: int) -> "Chart":
        code = {"premenopausal": "22636003", "postmenopausal": "76498008"}[status]
        self._obs(self.findings, "meno", cc(SCT, "161712005", "Menopause, function (observable entity)"), days_ago,
                  valueCodeableConcept=cc(SCT, code, status.capitalize() + " state"))
        return self

    # genomics: Genomics Reporting Variant (69548-6) with the HGNC gene component (48018-6)
    def variant(self, gene: str, protein: str | None = None, *, origin: str = "somatic", specimen: str = "tissue",
                days_ago: int = 60, detected: bool = True) -> "Chart":
        comps = [{"code": cc(LOINC, "48018-6", "Gene studied [ID]"), "valueCodeableConcept": cc(HGNC, HGNC_IDS[gene], gene)}]
        if protein and detected:
            comps.append({"code": cc(LOINC, "48005-3", "Amino acid change (pHGVS)"),
                          "valueCodeableConcept": cc("http://varnomen.hgvs.org", protein, protein)})
        comps.append({"code": cc(LOINC, "48002-0", "Genomic source class [Type]"),
                      "valueCodeableConcept": cc(LOINC, *ORIGIN[origin])})
        if detected:
            comps.append({"code": cc(LOINC, "53037-8", "Genetic variation clinical significance [Imp]"),
                          "valueCodeableConcept": cc(LOINC, "LA6668-3", "Pathogenic")})
        value = cc(LOINC, "LA9633-4", "Present") if detected else cc(LOINC, "LA9634-2", "Absent", "Not detected")
        self._obs(self.genomics, f"var-{gene.lower()}", cc(LOINC, "69548-6", "Genetic variant assessment"), days_ago,
                  valueCodeableConcept=value, component=comps, specimen={"display": SPECIMEN[specimen]})
        return self

    # therapy (MedicationStatement with product-level codes where the shared lists have them)
    def med(self, name: str, days_ago: int, ended_days_ago: int | None = None) -> "Chart":
        if name in PRODUCTS:
            code, display = PRODUCTS[name]
            concept = cc(RXNORM, code, display)
        else:
            concept = cc(RXNORM, DRUGS[name].rxnorm, name)
        period = {"start": ago(days_ago)}
        if ended_days_ago is not None:
            period["end"] = ago(ended_days_ago)
        self.statements.append({
            "resourceType": "MedicationStatement", "id": self._id("ms-" + name.replace(" ", "-")),
            "status": "completed" if ended_days_ago is not None else "active",
            "medicationCodeableConcept": concept, "subject": self._subject(), "effectivePeriod": period})
        return self

    def active_order(self, name: str, days_ago: int) -> str:
        """An active MedicationRequest (an order being taken) authored days_ago; returns its reference."""
        code, display = PRODUCTS[name]
        rid = self._id("rx-" + name.replace(" ", "-"))
        self.requests.append({
            "resourceType": "MedicationRequest", "id": rid, "status": "active", "intent": "order",
            "medicationCodeableConcept": cc(RXNORM, code, display), "subject": self._subject(),
            "authoredOn": ago(days_ago)})
        return f"MedicationRequest/{rid}"

    def regimen(self, names, days_ago: int, ended_days_ago: int | None = None) -> "Chart":
        for n in names:
            self.med(n, days_ago, ended_days_ago)
        return self

    def progression(self, days_ago: int) -> "Chart":
        self._obs(self.findings, "progression", cc(LOINC, "97509-4", "Cancer disease progression"), days_ago,
                  valueCodeableConcept=cc(SCT, "271299001", "Patient's condition worsened"))
        return self

    # patient factors
    def diabetes(self, type_: int, days_ago: int = 4000) -> "Chart":
        code = ("46635009", "Diabetes mellitus type 1") if type_ == 1 else ("44054006", "Diabetes mellitus type 2")
        return self.condition(cc(SCT, *code), days_ago, "diabetes")

    def ild(self, days_ago: int, text: str) -> "Chart":
        return self.condition(cc(SCT, "233703007", "Interstitial lung disease", text), days_ago, "ild")

    def hba1c(self, value: float, days_ago: int, unit: str = "%") -> "Chart":
        self._obs(self.findings, "hba1c", cc(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), days_ago,
                  valueQuantity={"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
        return self

    def fasting_glucose(self, value: float, days_ago: int) -> "Chart":
        self._obs(self.findings, "fpg", cc(LOINC, "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"),
                  days_ago, valueQuantity={"value": value, "unit": "mg/dL", "system": "http://unitsofmeasure.org",
                                           "code": "mg/dL"})
        return self

    def glycemia_ok(self) -> "Chart":
        return self.hba1c(5.4, 7).fasting_glucose(91, 7)

    # the request
    def prefetch(self) -> dict:
        return {
            "patient": self.patient,
            "conditions": searchset(self.conditions),
            "tumorMarkers": searchset(self.markers),
            "genomics": searchset(self.genomics),
            "clinicalFindings": searchset(self.findings),
            "medicationStatements": searchset(self.statements),
            "medicationRequests": searchset(self.requests) if self.requests else None,  # None: "looked and found nothing"
            "medicationAdministrations": None,
            "procedures": None,
        }

    def request(self, hook: str, drafts: list[dict], selections: list[str] | None = None) -> dict:
        context = {"userId": "Practitioner/onc-1", "patientId": self.pid, "encounterId": "enc-1",
                   "draftOrders": draft_bundle(drafts)}
        if hook == "order-select":
            context["selections"] = selections or []
        return {"hookInstance": str(uuid.uuid4()), "hook": hook, "context": context, "prefetch": self.prefetch()}

    def drafts(self, *specs) -> list[dict]:
        """specs: (id, drug) or (id, drug, "text"|"ingredient"|"product")."""
        return [med_request(s[0], s[1], self.pid, *(s[2:] or ())) for s in specs]
