"""A small FHIR R4 scenario builder for pipeline tests (resources as dicts).

    p = FhirPatient("pt-esr1", gender="female", birth="1958-05-01")
    p.primary("2016-03-01").metastasis("bone", "2024-01-15")
    p.er("positive").pr("positive").her2("1+")
    p.variant("ESR1", "p.Asp538Gly", specimen="ctdna", on="2025-06-01")
    p.med("letrozole", "2024-02-01", "2025-05-20").med("ribociclib", "2024-02-01", "2025-05-20")
    state = p.state(as_of=date(2025, 7, 1))      # mappings.build_patient_state

Codes are the standard ones of ../shared/clinical-reference.md Part A (LOINC
tumour markers, Genomics Reporting variant components, SNOMED conditions,
RxNorm ingredient codes from cards/knowledge/regimens.yaml).
"""

from __future__ import annotations

import datetime as dt
import itertools

from cards.knowledge import DRUGS

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org"
LOCAL = "urn:mbc-cds:local"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
# Genomics Reporting IG TbdCodesCS (id tbd-codes-cs under the IG canonical)
GR_TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"

HGNC_IDS = {"ESR1": "HGNC:3467", "PIK3CA": "HGNC:8975", "AKT1": "HGNC:391", "PTEN": "HGNC:9588",
            "BRCA1": "HGNC:1100", "BRCA2": "HGNC:1101", "PALB2": "HGNC:26144", "ERBB2": "HGNC:3430"}
EXTRA_RXNORM = {"cyclophosphamide": "3002", "metformin": "6809", "insulin glargine": "274783",
                "insulin, regular, human": "253182"}  # mappings/drugs.yaml
SITES = {  # SNOMED secondary malignant neoplasm codes, Part A.4
    "bone": ("94222008", "Secondary malignant neoplasm of bone"),
    "liver": ("94381002", "Secondary malignant neoplasm of liver"),
    "lung": ("94391008", "Secondary malignant neoplasm of lung"),
    "brain": ("94225005", "Secondary malignant neoplasm of brain"),
}
ORIGIN = {"germline": ("LA6683-2", "Germline"), "somatic": ("LA6684-0", "Somatic"),
          "unknown": ("LA18197-6", "Unknown genomic origin")}
SPECIMEN_TEXT = {"ctdna": "Plasma cell-free DNA (ctDNA, liquid biopsy)", "tissue": "Tumor tissue biopsy (FFPE)",
                 "blood": "Peripheral blood"}


def _cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


class FhirPatient:
    def __init__(self, pid: str, gender: str = "female", birth: str = "1958-05-01"):
        self.pid = pid
        self._ids = itertools.count(1)
        self.resources: list[dict] = [{"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}]
        self.primary_id: str | None = None
        self._variant_ids: dict[str, str] = {}  # gene -> id of its last variant Observation

    # --- helpers ---------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _subject(self) -> dict:
        return {"reference": f"Patient/{self.pid}"}

    def add(self, resource: dict) -> "FhirPatient":
        self.resources.append(resource)
        return self

    def _condition(self, code: dict, onset: str | None, prefix: str, **extra) -> "FhirPatient":
        res = {
            "resourceType": "Condition", "id": self._id(prefix),
            "clinicalStatus": _cc("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
            "verificationStatus": _cc("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
            "code": code, "subject": self._subject(), **extra,
        }
        if onset:
            res["onsetDateTime"] = onset
        return self.add(res)

    def _obs(self, prefix: str, code: dict, on: str, **value) -> dict:
        res = {"resourceType": "Observation", "id": self._id(prefix), "status": "final", "code": code,
               "subject": self._subject(), "effectiveDateTime": on, **value}
        self.add(res)
        return res

    # --- disease ---------------------------------------------------------
    def primary(self, onset: str = "2016-03-01") -> "FhirPatient":
        self._condition(_cc(SCT, "254837009", "Malignant neoplasm of breast (disorder)"), onset, "primary")
        self.primary_id = self.resources[-1]["id"]
        return self

    def metastasis(self, site: str = "bone", onset: str = "2024-01-15") -> "FhirPatient":
        code, display = SITES[site]
        return self._condition(_cc(SCT, code, display), onset, f"met-{site}")

    def stage_iv(self, on: str) -> "FhirPatient":
        self._obs("stage", _cc(LOINC, "21908-9", "Stage group.clinical Cancer"), on,
                  valueCodeableConcept=_cc("http://cancerstaging.org", "4", "IV"))
        return self

    def m0(self, on: str) -> "FhirPatient":
        """Clinical M category cM0 (LOINC 21907-1, SNOMED 1229901006; reference A.3)."""
        self._obs("m0", _cc(LOINC, "21907-1", "Distant metastases.clinical [Class] Cancer"), on,
                  valueCodeableConcept=_cc(SCT, "1229901006", "cM0"))
        return self

    def deceased(self, on: str | None = None, *, flag: bool | None = None) -> "FhirPatient":
        """Patient.deceasedDateTime = on, else Patient.deceasedBoolean = flag."""
        patient = self.resources[0]
        if on is not None:
            patient["deceasedDateTime"] = on
        else:
            patient["deceasedBoolean"] = flag
        return self

    def visceral_crisis(self, onset: str) -> "FhirPatient":
        return self._condition(_cc(LOCAL, "visceral-crisis", "Visceral crisis", "Visceral crisis (clinician assessment)"),
                               onset, "crisis")

    def diabetes(self, type_: int = 2, onset: str = "2010-01-01", verification: str | None = None) -> "FhirPatient":
        """Diabetes type `type_` (SNOMED); condition-ver-status `verification` when given (else none)."""
        code = ("44054006", "Diabetes mellitus type 2") if type_ == 2 else ("46635009", "Diabetes mellitus type 1")
        self._condition(_cc(SCT, *code), onset, "diabetes")
        if verification:
            self.resources[-1]["verificationStatus"] = _cc(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification)
        return self

    def ild(self, onset: str | None, text: str = "Interstitial lung disease", *,
            code: tuple[str, str, str] | None = (SCT, "233703007", "Interstitial lung disease"),
            verification: str = "confirmed", clinical: str = "active", abated: str | None = None) -> "FhirPatient":
        """An ILD / pneumonitis Condition: SNOMED 233703007 with `text` by default, another
        (system, code, display), or code None for the text alone (codes.yaml conditions.ild,
        local_codes.yaml ild); condition-ver-status `verification`, condition-clinical
        `clinical`, abatementDateTime `abated`."""
        cc = _cc(*code, text) if code else {"text": text}
        self._condition(cc, onset, "ild", **({"abatementDateTime": abated} if abated else {}))
        self.resources[-1]["verificationStatus"] = _cc(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification)
        self.resources[-1]["clinicalStatus"] = _cc(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", clinical)
        return self

    def long_qt(self, onset: str | None, verification: str = "confirmed") -> "FhirPatient":
        """Long QT syndrome, ICD-10-CM I45.81 (codes.yaml conditions.long_qt)."""
        self._condition(_cc(ICD10CM, "I45.81", "Long QT syndrome"), onset, "long-qt")
        self.resources[-1]["verificationStatus"] = _cc(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification)
        return self

    # --- tumour markers --------------------------------------------------
    def er(self, result: str = "positive", on: str = "2024-01-20", percent: float | None = None) -> "FhirPatient":
        self._marker("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain",
                     result, on, "er")
        if percent is not None:
            self._obs("er-pct", _cc(LOINC, "85329-1", "Cells.estrogen receptor/100 cells in Breast cancer specimen "
                                                       "by Immune stain"), on,
                      valueQuantity={"value": percent, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"})
        return self

    def pr(self, result: str = "positive", on: str = "2024-01-20") -> "FhirPatient":
        return self._marker("85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain",
                            result, on, "pr")

    def _marker(self, code: str, display: str, result: str, on: str, prefix: str) -> "FhirPatient":
        answer = {"positive": ("LA6576-8", "Positive"), "negative": ("LA6577-6", "Negative")}[result]
        self._obs(prefix, _cc(LOINC, code, display), on, valueCodeableConcept=_cc(LOINC, *answer))
        return self

    def her2(self, ihc: str, on: str = "2024-01-20", text: str | None = None) -> "FhirPatient":
        """HER2 IHC score as valueString ("0", "1+", "2+", "3+") or a pathologist's text."""
        self._obs("her2", _cc(LOINC, "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain"), on,
                  valueString=text or ihc)
        return self

    def her2_ish(self, amplified: bool, on: str = "2024-01-25") -> "FhirPatient":
        answer = ("10828004", "Positive") if amplified else ("260385009", "Negative")
        self._obs("her2-ish", _cc(LOINC, "85318-4", "ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH"),
                  on, valueCodeableConcept=_cc(SCT, *answer))
        return self

    def her2_ish_counts(self, ratio: float, copies: float, on: str = "2024-01-25") -> "FhirPatient":
        """HER2 ISH as HER2/CEP17 ratio (49683-6) and HER2 copies per nucleus (74860-8), no interpretation."""
        self._obs("her2-ratio", _cc(LOINC, "49683-6", "ERBB2 gene copy number/Chromosome 17 copy number in Tissue by FISH"),
                  on, valueQuantity=_quantity(ratio, "{ratio}"))
        self._obs("her2-copies", _cc(LOINC, "74860-8", "ERBB2 gene copy number/nucleus in Tissue by FISH"),
                  on, valueQuantity=_quantity(copies, "{copies}/{nucleus}"))
        return self

    def her2_negative(self, on: str = "2024-01-20") -> "FhirPatient":
        """Overall HER2 interpretation 'Negative' without an IHC score (never HER2-low)."""
        return self.her2_interpretation("negative", on)

    def her2_interpretation(self, result: str, on: str = "2024-01-20") -> "FhirPatient":
        """Overall HER2 interpretation (48676-1) 'Positive' / 'Negative', no IHC score."""
        answer = {"positive": ("LA6576-8", "Positive"), "negative": ("LA6577-6", "Negative")}[result]
        self._obs("her2-interp", _cc(LOINC, "48676-1", "HER2 [Interpretation] in Tissue"), on,
                  valueCodeableConcept=_cc(LOINC, *answer))
        return self

    # --- genomics --------------------------------------------------------
    def variant(self, gene: str, protein: str | None = None, *, origin: str = "somatic",
                specimen: str = "ctdna", on: str = "2025-06-01", detected: bool = True,
                significance: str | None = "pathogenic", specimen_text: str | None = None,
                collected: str | None = None, status: str | None = "final",
                change_type: tuple[str, str] | None = None) -> "FhirPatient":
        """specimen_text: the specimen's own description instead of the usual one for `specimen`;
        collected: the Specimen's collection.collectedDateTime (a Specimen resource is added, its
        type text the description); status: Observation.status (FHIR R4 ObservationStatus; None:
        no status);
        change_type: a 48019-4 DNA change type answer (Sequence Ontology code, display)."""
        comps = [{"code": _cc(LOINC, "48018-6", "Gene studied [ID]"),
                  "valueCodeableConcept": _cc(HGNC, HGNC_IDS[gene], gene)}]
        if change_type:
            comps.append({"code": _cc(LOINC, "48019-4", "DNA change type"),
                          "valueCodeableConcept": _cc("http://sequenceontology.org", *change_type)})
        if protein and detected:
            comps.append({"code": _cc(LOINC, "48005-3", "Amino acid change (pHGVS)"),
                          "valueCodeableConcept": _cc("http://varnomen.hgvs.org", protein, protein)})
        comps.append({"code": _cc(LOINC, "48002-0", "Genomic source class [Type]"),
                      "valueCodeableConcept": _cc(LOINC, *ORIGIN[origin])})
        if significance and detected:
            # "pathogenic" / "vus" coded (LL4034-6); any other string is the sender's own wording
            sig = {"pathogenic": ("LA6668-3", "Pathogenic"), "vus": ("LA26333-7", "Uncertain significance")}.get(significance)
            comps.append({"code": _cc(LOINC, "53037-8", "Genetic variation clinical significance [Imp]"),
                          "valueCodeableConcept": _cc(LOINC, *sig) if sig else {"text": significance}})
        value = _cc(LOINC, "LA9633-4", "Present") if detected else {"text": "Not detected"}
        described = specimen_text or SPECIMEN_TEXT[specimen]
        specimen_ref = {"display": described}
        if collected:
            specimen_ref = {"reference": f"Specimen/{self._id('specimen')}"}
            self.add({"resourceType": "Specimen", "id": specimen_ref["reference"].split("/")[1],
                      "subject": self._subject(), "type": {"text": described},
                      "collection": {"collectedDateTime": collected}})
        obs = self._obs(f"var-{gene.lower()}", _cc(LOINC, "69548-6", "Genetic variant assessment"), on,
                        valueCodeableConcept=value, component=comps, specimen=specimen_ref)
        if status is None:
            del obs["status"]  # senders omit it (required in R4)
        else:
            obs["status"] = status
        self._variant_ids[gene] = obs["id"]
        return self

    def implication(self, gene: str, significance: str = "pathogenic", on: str = "2025-06-01") -> "FhirPatient":
        """The clinical significance of the last `gene` variant as its own Observation (Genomics
        Reporting STU3 DiagnosticImplication: code TbdCodesCS#diagnostic-implication, a 53037-8
        component, derivedFrom the variant; clinical-reference A.2). Build the variant with
        significance=None so the implication is the only place that says it."""
        sig = {"pathogenic": ("LA6668-3", "Pathogenic"), "vus": ("LA26333-7", "Uncertain significance")}[significance]
        self._obs(f"dx-impl-{gene.lower()}", _cc(GR_TBD, "diagnostic-implication", "Diagnostic Implication"), on,
                  derivedFrom=[{"reference": f"Observation/{self._variant_ids[gene]}"}],
                  component=[{"code": _cc(LOINC, "53037-8", "Genetic variation clinical significance [Imp]"),
                              "valueCodeableConcept": _cc(LOINC, *sig)}])
        return self

    # --- therapy ---------------------------------------------------------
    def med(self, name: str, start: str, end: str | None = None, status: str | None = None,
            stopped_for: str | None = None) -> "FhirPatient":
        """stopped_for: the statusReason text of a drug stopped (status "stopped") for that reason."""
        code = EXTRA_RXNORM.get(name) or DRUGS[name].rxnorm
        period = {"start": start}
        if end:
            period["end"] = end
        resource = {
            "resourceType": "MedicationStatement", "id": self._id(f"med-{name.replace(' ', '-')}"),
            "status": status or ("stopped" if stopped_for else "completed" if end else "active"),
            "medicationCodeableConcept": _cc(RXNORM, code, name),
            "subject": self._subject(), "effectivePeriod": period,
        }
        if stopped_for:
            resource["statusReason"] = [{"text": stopped_for}]
        self.add(resource)
        return self

    def refill(self, name: str, authored: str) -> "FhirPatient":
        """A completed MedicationRequest as EHRs keep one per refill: authoredOn, no dates of use."""
        code = EXTRA_RXNORM.get(name) or DRUGS[name].rxnorm
        self.add({
            "resourceType": "MedicationRequest", "id": self._id(f"rx-{name.replace(' ', '-')}"),
            "status": "completed", "intent": "order",
            "medicationCodeableConcept": _cc(RXNORM, code, name),
            "subject": self._subject(), "authoredOn": authored,
        })
        return self

    def regimen(self, names: tuple[str, ...], start: str, end: str | None = None) -> "FhirPatient":
        for n in names:
            self.med(n, start, end)
        return self

    def progression(self, on: str) -> "FhirPatient":
        """mCODE CancerDiseaseStatus 'worsening' (LOINC 97509-4)."""
        self._obs("status", _cc(LOINC, "97509-4", "Cancer disease progression"), on,
                  valueCodeableConcept=_cc(SCT, "271299001", "Patient's condition worsened"))
        return self

    def disease_status(self, on: str, text: str | None = None, worsened: bool = False,
                       status: str = "final") -> "FhirPatient":
        """mCODE CancerDiseaseStatus (LOINC 97509-4) as an EHR writes it: its answer text,
        with or without the 'worsened' code, and an Observation.status."""
        value = _cc(SCT, "271299001", "Patient's condition worsened") if worsened else {}
        if text is not None:
            value["text"] = text
        res = self._obs("status", _cc(LOINC, "97509-4", "Cancer disease status"), on, valueCodeableConcept=value)
        res["status"] = status
        return self

    # --- patient factors -------------------------------------------------
    def menopause(self, status: str, on: str = "2024-01-20") -> "FhirPatient":
        code = {"premenopausal": "22636003", "postmenopausal": "76498008"}.get(status)
        value = _cc(SCT, code, status.capitalize() + " state") if code else {"text": status}
        self._obs("meno", _cc(SCT, "161712005", "Menopause, function"), on, valueCodeableConcept=value)
        return self

    def hba1c(self, value: float, on: str, comparator: str | None = None) -> "FhirPatient":
        """comparator: FHIR R4 Quantity.comparator ("<", "<=", ">=", ">"), a result written as a bound."""
        self._obs("hba1c", _cc(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), on,
                  valueQuantity=_quantity(value, "%", comparator))
        return self

    def fasting_glucose(self, value: float, on: str, comparator: str | None = None) -> "FhirPatient":
        self._obs("fpg", _cc(LOINC, "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"), on,
                  valueQuantity=_quantity(value, "mg/dL", comparator))
        return self

    def ecog(self, score: int, on: str, status: str = "final") -> "FhirPatient":
        """status: FHIR R4 Observation.status (registered / preliminary / unknown: not final)."""
        self._obs("ecog", _cc(LOINC, "89247-1", "ECOG Performance Status score"), on,
                  valueInteger=score)["status"] = status
        return self

    def qtc(self, ms: float, on: str, comparator: str | None = None) -> "FhirPatient":
        self._obs("qtc", _cc(LOINC, "8636-3", "QT interval corrected"), on, valueQuantity=_quantity(ms, "ms", comparator))
        return self

    # --- pipeline --------------------------------------------------------
    def state(self, as_of: dt.date):
        from mappings.build import build_patient_state

        return build_patient_state(self.resources, self.pid, as_of=as_of)


def hr_positive_mbc(pid: str, *, gender: str = "female", birth: str = "1958-05-01", her2: str = "1+",
                    primary: str = "2016-03-01", metastatic: str = "2024-01-15",
                    site: str = "bone", menopause: str | None = "postmenopausal") -> FhirPatient:
    """The common start: HR+ breast cancer with a metastasis, receptors on the metastatic biopsy."""
    p = FhirPatient(pid, gender=gender, birth=birth).primary(primary).metastasis(site, metastatic)
    p.er("positive", metastatic).pr("positive", metastatic).her2(her2, metastatic)
    if menopause and gender == "female":
        p.menopause(menopause, metastatic)
    return p


def _quantity(value: float, unit: str, comparator: str | None = None) -> dict:
    """A UCUM Quantity; with a comparator (FHIR R4 Quantity.comparator) when given."""
    q = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    if comparator:
        q["comparator"] = comparator
    return q
