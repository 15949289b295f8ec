"""Code tables, loaded once at import from the YAML data files in this package.

codes.yaml        standard codes (LOINC, SNOMED CT, ICD-10-CM, HGNC), each with a source
local_codes.yaml  site-extensible local codes and text patterns
drugs.yaml        drug table (RxNorm ingredient + product codes + names/brands)

Everything here is a plain dict / set / compiled regex lookup: the hot path never
touches YAML or pydantic validation of the tables.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_DIR = Path(__file__).resolve().parent


def _load(name: str) -> dict[str, Any]:
    with open(_DIR / name, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def _merge_site_file(base: dict[str, Any], path: str) -> dict[str, Any]:
    """Append a site's local codes/patterns (same layout as local_codes.yaml) to the shipped ones."""
    try:
        with open(path, encoding="utf-8") as fh:
            extra = yaml.safe_load(fh) or {}
    except OSError:
        return base
    for section, body in extra.items():
        if not isinstance(body, dict):
            continue
        target = base.setdefault(section, {})
        for key, value in body.items():
            if isinstance(value, list):
                # site entries first: for ordered pattern lists the site wins
                target[key] = value + list(target.get(key) or [])
            elif isinstance(value, dict) and isinstance(value.get("words"), list) and isinstance(target.get(key), dict):
                # a shared word list (vocabulary: {suspicion_words: {words: [...]}}): the site's words first
                target[key] = {**target[key], "words": value["words"] + list(target[key].get("words") or [])}
            elif key not in target:
                target[key] = value
    return base


CODES = _load("codes.yaml")
LOCAL = _load("local_codes.yaml")
# A site extends the local codes without touching code: MBC_CDS_LOCAL_CODES=/path/site_codes.yaml
if os.environ.get("MBC_CDS_LOCAL_CODES"):
    LOCAL = _merge_site_file(LOCAL, os.environ["MBC_CDS_LOCAL_CODES"])
DRUGS_DATA = _load("drugs.yaml")

SYSTEMS = CODES["systems"]
LOINC = SYSTEMS["loinc"]
SNOMED = SYSTEMS["snomed"]
RXNORM = SYSTEMS["rxnorm"]
ICD10 = SYSTEMS["icd10cm"]
AJCC = SYSTEMS["ajcc"]
HGNC_SYSTEMS = frozenset(SYSTEMS["hgnc"])


def _sys(alias: str) -> str:
    return SYSTEMS.get(alias, alias) if isinstance(SYSTEMS.get(alias, alias), str) else alias


def norm_icd(code: str) -> str:
    return code.replace(".", "").strip().upper()


# --- tumour markers ---------------------------------------------------------
TUMOR_MARKERS: dict[str, tuple[str, str]] = {
    e["code"]: (e["marker"], e["kind"]) for e in CODES["tumor_markers"]
}
ANSWERS: dict[str, str] = {}  # code -> meaning (codes are unique across systems here)
# ... but a short code of an HL7 code system ("POS", "ND") is also a common local code meaning
# something else ("ND" Not done): read only under its own system, or a coding with none, as it
# is written (FHIR R4 Coding.code "a symbol in syntax defined by the system"; HL7 v3 codes are
# case sensitive). The system as R4 (terminology.hl7.org), STU3 (hl7.org/fhir/v3/...) or its
# OID (FHIR R4 v3-ObservationInterpretation: OID 2.16.840.1.113883.5.83) writes it. The whole
# URI, not a part of it: a lab's ".../CodeSystem/ObservationInterpretation" or an OID under
# the HL7 one is another system (FHIR R4 Coding.system: the identity of the code system).
# HL7 v2 tables likewise: R4 ".../CodeSystem/v2-0078", STU3 "http://hl7.org/fhir/v2/0078". A code
# two HL7 systems define alike (v3 and v2 table 0078 "ND" Not detected) is read under either.
_STU3_URI_OF_R4_PREFIX = {"http://terminology.hl7.org/CodeSystem/v3-": "http://hl7.org/fhir/v3/",
                          "http://terminology.hl7.org/CodeSystem/v2-": "http://hl7.org/fhir/v2/"}
_ANSWER_OWN_SYSTEM: dict[str, frozenset[str]] = {}
for _e in CODES["answers"]:
    ANSWERS[str(_e["code"])] = _e["meaning"]
    if _e["system"] not in ("loinc", "snomed"):
        _uris = [_e["system"]] + [f"urn:oid:{o}" for o in _e.get("system_oids", [])] + list(_e.get("system_oids", []))
        for _r4, _stu3 in _STU3_URI_OF_R4_PREFIX.items():
            if _e["system"].startswith(_r4):  # its STU3 URI (FHIR STU3 v2 / v3 code systems)
                _uris.append(_stu3 + _e["system"].removeprefix(_r4))
        _own = _ANSWER_OWN_SYSTEM.get(str(_e["code"]), frozenset())
        _ANSWER_OWN_SYSTEM[str(_e["code"])] = _own | {u.lower() for u in _uris}

RECEPTOR_CONDITIONS: dict[str, dict[str, str]] = {
    norm_icd(e["code"]): {k: v for k, v in e.items() if k in ("er", "pr", "hr", "her2")}
    for e in CODES["receptor_status_conditions"]
}

# --- genomics ---------------------------------------------------------------
_G = CODES["genomics"]
VARIANT_CODES = frozenset(e["code"] for e in _G["variant_codes"])
REGION_STUDIED_CODES = frozenset(e["code"] for e in _G["region_studied_codes"])
GENOMIC_REPORT_CODES = frozenset(e["code"] for e in _G["report_codes"])
GENOMIC_REPORT_CATEGORIES = frozenset((e["system"], e["code"]) for e in _G["report_categories"])
COMP = {k: v["code"] for k, v in _G["components"].items()}
ORIGIN_ANSWERS = {e["code"]: e["origin"] for e in _G["origin_answers"]}
RESULT_ANSWERS = {e["code"]: e["result"] for e in _G["result_answers"]}
SIGNIFICANCE_ANSWERS = {e["code"]: e["significance"] for e in _G["significance_answers"]}
SPECIMEN_TYPE_CODES: dict[tuple[str, str], str] = {
    (_sys(e["system"]), str(e["code"])): e["kind"] for e in _G["specimen_type_codes"]
}
# 48019-4 DNA change type answers that make a variant a copy-number change or a fusion
CHANGE_TYPE_KINDS = {str(e["code"]): e["kind"] for e in _G["change_type_answers"]}
GENE_BY_HGNC = {str(e["hgnc"]): e["gene"] for e in _G["genes"]}
GENES = frozenset(GENE_BY_HGNC.values())
LEGACY_GENE_CODES = {
    e["code"]: (e["gene"], bool(e.get("germline"))) for e in _G["legacy_gene_codes"]
}

# --- other observations -------------------------------------------------------
# extension url -> (name, {code: female/male}, sub-extension holding the value or None)
PATIENT_SEX_EXTENSIONS: dict[str, tuple[str, dict[str, str], str | None]] = {
    e["url"]: (e["name"], {str(k): str(v) for k, v in e["codes"].items()}, e.get("value_extension"))
    for e in CODES.get("patient_sex") or ()
}
_O = CODES["observations"]
ECOG_CODES = frozenset(e["code"] for e in _O["ecog"])
ECOG_ANSWERS = {e["code"]: int(e["value"]) for e in _O["ecog_answers"]}
HBA1C_CODES = frozenset(e["code"] for e in _O["hba1c"])
FPG_CODES = frozenset(e["code"] for e in _O["fasting_glucose"])
QTC_CODES = frozenset(e["code"] for e in _O["qtc"])
MENO_QUESTION_CODES = frozenset(str(e["code"]) for e in _O["menopause_question"])
MENO_ANSWERS = {str(e["code"]): e["status"] for e in _O["menopause_answers"]}
MENO_CONDITIONS_ICD = {norm_icd(e["code"]): e["status"] for e in _O["menopause_conditions_icd10"]}
DISEASE_STATUS_CODES = frozenset(e["code"] for e in _O["disease_status"])
PROGRESSION_ANSWERS = frozenset(str(e["code"]) for e in _O["disease_status_progression_answers"])
NON_PROGRESSION_ANSWERS = frozenset(str(e["code"]) for e in _O["disease_status_other_answers"])
# the answer that the trend could not be judged (709137006 'Patient condition undetermined')
UNDETERMINED_ANSWERS = frozenset(str(e["code"]) for e in _O["disease_status_other_answers"] if e.get("undetermined"))

# --- staging -----------------------------------------------------------------
_S = CODES["staging"]
STAGE_GROUP_CODES = {str(e["code"]): bool(e["clinical"]) for e in _S["stage_group_codes"]}
M_CATEGORY_CODES = {str(e["code"]): bool(e["clinical"]) for e in _S["m_category_codes"]}
M1_VALUES = frozenset(str(e["code"]) for e in _S["m1_values"])
M0_VALUES = frozenset(str(e["code"]) for e in _S["m0_values"])
STAGE4_VALUES = frozenset(str(e["code"]) for e in _S["stage4_values"])
STAGE4_AJCC = frozenset(c.upper() for c in _S["stage4_ajcc_codes"]["codes"])
M1_AJCC = frozenset(c.upper() for c in _S["m1_ajcc_codes"]["codes"])
M0_AJCC = frozenset(c.upper() for c in _S["m0_ajcc_codes"]["codes"])

# --- conditions ----------------------------------------------------------------
_C = CODES["conditions"]
BREAST_ICD_PREFIXES = tuple(norm_icd(e["prefix"]) for e in _C["breast_cancer_icd10_prefixes"])
BREAST_HISTORY_ICD = frozenset(norm_icd(e["code"]) for e in _C["breast_cancer_history_icd10"])
NOT_BREAST_PRIMARY = frozenset(str(e["code"]) for e in _C["not_breast_primary_snomed"])
BREAST_SNOMED = frozenset(str(c) for c in _C["breast_cancer_snomed"]["codes"]) - NOT_BREAST_PRIMARY
SECONDARY_GENERIC_SNOMED = frozenset(str(e["code"]) for e in _C["secondary_generic_snomed"])
SECONDARY_PROFILE = _C["secondary_profile"]
# a metastasis to the breast (codes.yaml secondary_of_breast): asked, not counted
SECONDARY_OF_BREAST_SNOMED = frozenset(str(e["code"]) for e in _C["secondary_of_breast"]["codes"] if e["system"] == "snomed")
SECONDARY_OF_BREAST_ICD = frozenset(norm_icd(e["code"]) for e in _C["secondary_of_breast"]["codes"] if e["system"] == "icd10")
# (rt71) codes naming a cancer by no organ (codes.yaml unnamed_cancer_codes)
UNNAMED_CANCER_SNOMED = frozenset(str(e["code"]) for e in _C["unnamed_cancer_codes"] if e["system"] == "snomed")
UNNAMED_CANCER_ICD = frozenset(norm_icd(e["code"]) for e in _C["unnamed_cancer_codes"] if e["system"] == "icd10")
SECONDARY_OF_BREAST_TEXT = re.compile(_C["secondary_of_breast"]["text"], re.I)
SECONDARY_OF_BREAST_BODY_TEXT = re.compile(_C["secondary_of_breast"]["body_site"]["text"], re.I)
SECONDARY_OF_BREAST_BODY_SNOMED = frozenset(str(e["code"]) for e in _C["secondary_of_breast"]["body_site"]["snomed"])
SECONDARY_SNOMED = {str(e["code"]): e["site"] for e in _C["secondary_sites_snomed"]}
# ICD prefixes sorted longest first
SECONDARY_ICD: list[tuple[str, str | None, bool | None]] = sorted(
    ((norm_icd(e["prefix"]), e["site"], e.get("visceral")) for e in _C["secondary_sites_icd10"]),
    key=lambda t: -len(t[0]),
)
SECONDARY_ICD_ROOTS = ("C77", "C78", "C79", "C7B")
# node regions AJCC 8th edition holds distant (M1) for breast cancer (codes.yaml distant_node_icd10)
DISTANT_NODE_ICD = tuple(norm_icd(p) for p in _C["distant_node_icd10"]["prefixes"])
# (first, last) three-character ICD-10-CM categories of non-breast primary cancers (codes.yaml),
# compared as strings: a category with a letter (C4A, C7A) sorts after every digit, so it is a
# range of its own
OTHER_PRIMARY_ICD_RANGES = tuple((str(a), str(b)) for a, b in _C["other_primary_icd10"]["ranges"])


def other_primary_icd(code: str) -> bool:
    """An ICD-10-CM code of a primary cancer of a site other than the breast (C18.9 colon)."""
    category = norm_icd(code)[:3]
    return any(a <= category <= b for a, b in OTHER_PRIMARY_ICD_RANGES)


VISCERAL_SITES = frozenset(_C["visceral_sites"]["sites"])
M1_SITE_SUFFIXES = {str(k).lower(): v for k, v in _C["m1_site_suffixes"]["suffixes"].items()}
BODY_SITES = {str(e["code"]): e["site"] for e in _C["body_sites_snomed"]}
DIABETES_SNOMED = {str(e["code"]): e["type"] for e in _C["diabetes"]["snomed"]}
DIABETES_ICD = [(norm_icd(e["prefix"]), e["type"]) for e in _C["diabetes"]["icd10_prefixes"]]
# a family history of diabetes, coded (Z83.3, 160303001): no diabetes of the patient's
DIABETES_FAMILY_HISTORY_SNOMED = frozenset(str(e["code"]) for e in _C["diabetes"]["family_history"]["snomed"])
DIABETES_FAMILY_HISTORY_ICD = tuple(norm_icd(e["prefix"]) for e in _C["diabetes"]["family_history"]["icd10_prefixes"])
ILD_SNOMED = frozenset(str(e["code"]) for e in _C["ild"]["snomed"])
# ILD codes that name pneumonitis of any cause (infectious ones too): their text is read for an infection
ILD_ANY_CAUSE_SNOMED = frozenset(str(e["code"]) for e in _C["ild"]["snomed"] if e.get("any_cause"))
ILD_ICD = tuple(norm_icd(e["prefix"]) for e in _C["ild"]["icd10_prefixes"])
# long QT syndrome (a ribociclib warning, CR C.2 safety overlays): exact codes
LONG_QT_SNOMED = frozenset(str(e["code"]) for e in _C["long_qt"]["snomed"])
LONG_QT_ICD = frozenset(norm_icd(e["code"]) for e in _C["long_qt"]["icd10"])
PROLONGED_QT_SNOMED = frozenset(str(e["code"]) for e in _C["prolonged_qt"]["snomed"])
OOPHORECTOMY_SNOMED = frozenset(str(e["code"]) for e in _C["oophorectomy_bilateral_snomed"])
OOPHORECTOMY_ICD = frozenset(norm_icd(e["code"]) for e in _C["oophorectomy_icd10"])

# Text fallbacks for site names in a secondary-cancer display/text (order matters)
# "lymphangitic carcinomatosis" / "lymphangitis carcinomatosa" is the lung's (spread through
# its lymphatics, ICD-10-CM C78.0-), not the lymph nodes'; "malignant ascites" the peritoneum's
# (ICD-10-CM R18.0, code first C78.6), not ascites alone (liver disease)
SITE_TEXT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"lymph(?!angi)|nodal|node"), "lymph-node"),
    (re.compile(r"liver|hepatic"), "liver"),
    (re.compile(r"pleura"), "pleura"),
    # (ds4) the pericardium ("pericardial metastasis", "malignant pericardial effusion", ICD-10-CM
    # C79.89 other specified sites): named as written, not "other"; CR A.4's visceral list does
    # not name it (codes.yaml visceral_sites), so not visceral: the clinician decides
    (re.compile(r"pericard"), "pericardium"),
    # (fix-rt17) not a cutaneous one ("cutaneous lymphangitic carcinomatosis", "... of the skin /
    # chest wall": carcinoma erysipeloides, a skin metastasis, ICD-10-CM C79.2, not visceral)
    (re.compile(r"lung|pulmonary|(?<!cutaneous )(?<!skin )lymphangi(?![^|;.]*\b(?:skin|cutaneous|dermal|chest wall)\b)"), "lung"),
    (re.compile(r"brain|cerebr|mening|leptomening|cerebell"), "brain"),
    # (fix-dz3) also written the other way round, "Ascites, malignant" / "Ascites (malignant)"
    # (rt28) and "Ascites with malignant cells seen"
    (re.compile(r"perito|malignant ascites|ascites\s*(?:[,(-]|with)\s*malignant"), "peritoneum"),
    (re.compile(r"adrenal"), "adrenal"),
    (re.compile(r"bone|osseous|skelet|vertebra|spine|marrow"), "bone"),
]

# --- local codes ----------------------------------------------------------------


def _local_code_map(entries: list[dict[str, Any]], value_key: str) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for e in entries or []:
        out[(str(e.get("system", "*")), str(e["code"]).lower())] = e.get(value_key, True)
    return out


def local_lookup(table: dict[tuple[str, str], Any], system: str | None, code: str | None) -> Any:
    if not code:
        return None
    c = code.lower()
    hit = table.get((system or "", c))
    if hit is None:
        hit = table.get(("*", c))
    return hit


def answer_lookup(table: dict[str, Any], system: str, code: str | None) -> Any:
    """table's entry for a coded answer. LOINC codes, its answer ids (LA...) among them, are not
    case sensitive (FHIR R4 "Using LOINC with FHIR", Code row): "la9633-4" is LA9633-4 (before,
    a marker or genomic answer so written was no result). An HL7 code ("POS", "ND") only under its
    own system (_ANSWER_OWN_SYSTEM)."""
    if not code:
        return None
    found = table.get(code)
    if found is None and system == LOINC:
        found = table.get(code.upper())
    own = _ANSWER_OWN_SYSTEM.get(code)
    if found is not None and own and system and system.strip().rstrip("/").lower() not in own:
        return None  # a local "ND" (Not done) is no v3 ND (Not detected)
    return found


# The shared word lists (local_codes.yaml vocabulary): a reader's pattern names one as
# `<name>`; a reader's own `<mention>` is filled in the same way. A list may name the lists
# written above it.
_PLACEHOLDER = re.compile(r"(?<!\?P)<([a-z_]+)>")  # not a named group "(?P<name>"


def _fill_in(pattern: str, **own: str) -> str:
    """pattern with each `<name>` replaced by own[name] or by the vocabulary list's words as one
    alternation; an unknown name is an error in the data file, not words to match."""
    def words(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in own:
            return own[name]
        if name in VOCABULARY:
            return VOCABULARY[name]
        raise ValueError(f"local_codes.yaml: no vocabulary list <{name}> (in {pattern!r})")
    return _PLACEHOLDER.sub(words, pattern)


VOCABULARY: dict[str, str] = {}
for _name, _entry in (LOCAL.get("vocabulary") or {}).items():
    if isinstance(_entry, dict):
        _list = [_fill_in(w) for w in _entry.get("words") or []]
        VOCABULARY[_name] = f"(?:{'|'.join(_list)})" if _list else "(?!)"

_MH = LOCAL["metastasis_hedges"]


def _words(key: str, section: dict[str, Any] = _MH) -> str:
    """The word patterns of section[key] (metastasis_hedges unless told) as one alternation,
    vocabulary lists filled in (none: never matches)."""
    return "|".join(f"(?:{_fill_in(w)})" for w in section.get(key) or []) or "(?!)"


# A hedge up to 30 characters before a mention of metastatic disease, in the same clause
# (disease._hedge_of reads the 45 characters before the mention); group "words" is the words.
# A "?" before a mention ("? liver metastases") is a suspicion too.
MET_UNLIKELY_BEFORE = re.compile(rf"\b(?P<words>{_words('unlikely_before')})\b[^.;|]{{0,30}}$", re.I)
MET_SUSPICION_BEFORE = re.compile(rf"(\b(?P<words>{_words('suspicion_before')})\b[^.;|]{{0,30}}|\?\s*(\w+\s+){{0,2}})$", re.I)
MET_PROBABLE_BEFORE = re.compile(rf"\b(?P<words>{_words('probable_before')})\b[^.;|]{{0,30}}$", re.I)
MET_IMAGING_ONLY_BEFORE = re.compile(rf"\b(?P<words>{_words('imaging_only_before')})\b[^.;|]{{0,30}}$", re.I)
# A hedge after a mention, past the rest of its word and any after_link_words ("liver
# metastasis - suspected", "lung metastases?", "bone metastases (presumed)", "metastatic
# disease is unlikely"); group "words" is the words. The closing words (suspicion_after,
# probable_after) end the clause; suspicion_after_phrases and unlikely_after need not.
# the rest of the mention's word, link words, and one of , ( : - before the hedge
_AFTER_MENTION = rf"^\w*(?:\s+(?:{_words('after_link_words')}))*\s*[,(:-]?\s*"
# what follows a closing hedge word: an optional ")" and the end of the text or of a clause
_CLOSES = r"(?=\s*\)?\s*($|[.;|,]))"
MET_SUSPICION_AFTER = re.compile(
    rf"{_AFTER_MENTION}(?P<words>(\?|\b(?:{_words('suspicion_after')})\b){_CLOSES}"
    rf"|\b(?:{_words('suspicion_after_phrases')})\b)", re.I)
# (fix-dz3) a "?" right after the mention, the text going on ("Liver metastasis? biopsy planned",
# "Malignant pleural effusion? tap planned"), or after "metastatic breast cancer" ("Metastatic
# breast cancer?", "MBC? restaging", "Liver metastasis???"): a question, as "lung metastases?" at a clause end
# (condition-ver-status 'unconfirmed'); not after "to"/"of" ("Metastatic to ? bone" doubts the
# site), nor a template's question answered yes ("Liver metastases? yes": asserted). Group
# "words" is the "?" and the words after it in its clause, for the gap to quote. (rt28) Nor a
# question about the known metastasis's course, treatment, site or date ("Liver metastases?
# progression", "Brain metastases? for SRS", "Bone mets ? rib 5", "? since 2022": asserted;
# local_codes.yaml question_of_course_after / _treatment_after / _site_or_time_after).
MET_QUESTION_AFTER = re.compile(
    r"^\w*(?:\s+(?:disease|deposits?|lesions?|spread|involvement|(?:breast\s+)?(?:cancer|carcinoma|ca|malignancy)))?"
    rf"\s*\(?\s*(?P<words>\?+(?:\s+(?!(?:yes|y|present|positive|confirmed|{_words('question_of_course_after')}|{_words('question_of_treatment_after')}|{_words('question_of_site_or_time_after')})\b)[a-z(-](?:[^.;|]{{0,40}}?(?=\s*(?:$|[.;|]))|\S*)|(?=\s*\)?\s*(?:$|[.;|,]))))",
    re.I)
# (fix-dz3) the test that makes the diagnosis still pending, closing the mention ("Liver
# metastasis - awaiting biopsy", "Bone metastases TBC", "Metastatic breast cancer, awaiting
# biopsy" as "Stage IV, awaiting biopsy" is read): local_codes.yaml pending_after
_METASTATIC_CANCER = r"(?:\s+(?:breast\s+)?(?:cancer|carcinoma|ca|malignancy))?"
# (rt28) a date or a week after the pending test ("- awaiting biopsy 12/03/2024", "- biopsy
# pending (12/03)", "on 2024-03-12", "next week") still closes it: the test is pending all the same
_WHEN_AFTER = r"(?:\s*(?:on\s+|\(\s*)?(?:\d[\d/.-]*\d|\d|(?:next|this)\s+week|tomorrow|today)\s*\)?)?"
MET_PENDING_AFTER = re.compile(
    rf"^\w*{_METASTATIC_CANCER}{_AFTER_MENTION[2:]}\b(?P<words>{_words('pending_after')}){_WHEN_AFTER}{_CLOSES}", re.I)
# (fix-dz3) "Liver metastasis or hemangioma": one of two diagnoses (local_codes.yaml
# differential_or_after; disease._hedge_of checks what group "other" names)
MET_DIFFERENTIAL_OR_AFTER = re.compile(_MH.get("differential_or_after") or "(?!)", re.I)
# (fix-dz4) another diagnosis after a "?" or a "/" right after the mention ("Liver metastasis
# ?hemangioma", "(?haemangioma)", ", ? fracture", "Liver metastasis/hemangioma"): one of two
# diagnoses, as "or hemangioma" (local_codes.yaml differential_question_after, a closed list).
# Its own pattern, not in suspicion_after_phrases: those are wrapped in \b...\b, which cannot match
# a "?" after a space or "(". Not "? fracture risk" (the known metastasis's risk). Group "words"
# is the "?" or "/" and the diagnosis, for the gap to quote.
MET_DIFFERENTIAL_QUESTION_AFTER = re.compile(
    rf"{_AFTER_MENTION}(?P<words>(?:\?+|/)\s*(?:{_words('differential_question_after')})\b(?!\s+risk\b))", re.I)
# (rt55) the same closed list of other diagnoses, named on their own ("liver lesion (FNH)")
OTHER_DIAGNOSIS = re.compile(rf"\b(?:{_words('differential_question_after')})\b", re.I)
# (rt28) pathology confirming the mention later in its clause (local_codes.yaml confirmed_after)
MET_CONFIRMED_AFTER = re.compile(_MH.get("confirmed_after") or "(?!)", re.I)
MET_PROBABLE_AFTER = re.compile(rf"{_AFTER_MENTION}\b(?P<words>{_words('probable_after')})\b{_CLOSES}", re.I)
MET_UNLIKELY_AFTER = re.compile(rf"{_AFTER_MENTION}\b(?P<words>{_words('unlikely_after')})", re.I)
# A primary cancer of another site named in a text (local_codes.yaml other_primary_text, with
# its source): "colon cancer", "lung adenocarcinoma", "metastatic melanoma"
_OP = LOCAL["other_primary_text"]
OTHER_PRIMARY_TEXT = re.compile(
    rf"\b(?:{'|'.join(_OP['organs'])})\s+(?:(?!metasta|mets\b|secondary\b|of\b|to\b|from\b|in\b)[\w-]+\s+){{0,2}}?"
    rf"(?:{'|'.join(_OP['cancer_words'])})\b"
    rf"|\b(?:{'|'.join(_OP['tumour_types'])})\b", re.I)
# the breast named as one of two possible primaries ("breast vs lung primary"): a differential
BREAST_DIFFERENTIAL = re.compile(_OP["breast_differential"], re.I)
# the differential-diagnosis words (vocabulary differential_words: "ddx", "d/dx", "differential
# diagnosis") and, after them, another cancer or primary: "(ddx lung)", "DDx: lung primary",
# "differential diagnosis includes lymphoma" (condition-ver-status "differential")
DIFFERENTIAL_WORDS = re.compile(rf"\b{VOCABULARY['differential_words']}\b", re.I)
DIFFERENTIAL_NAMED = re.compile(
    rf"\b{VOCABULARY['differential_words']}(?:\s+(?:includes?|including|of|is))?[\s:(-]*(?:[\w-]+\s+){{0,2}}?"
    rf"(?:{'|'.join(_OP['organs'])}|{'|'.join(_OP['tumour_types'])}|primary)\b", re.I)
# "metastatic lung cancer", "metastatic liver cancer": a primary of that organ or a spread to it
ORGAN_CANCER_LOOSE = re.compile(_OP["organ_cancer_loose"], re.I)
MET_IMAGING_WORDS = re.compile(_MH.get("imaging_words") or "(?!)", re.I)
MET_PATHOLOGY_WORDS = re.compile(_MH.get("pathology_words") or "(?!)", re.I)

# A negation of one mention (local_codes.yaml metastasis_negations; disease._refuted_*):
# the words before it (the last of them in its 30 characters decides), the words after it
# past its own site ("metastasis to liver ruled out", MET_OWN_SITE) and a short stretch
# checked by the caller (group "between"), or past link words (hedges' and the negations').
_MN = LOCAL["metastasis_negations"]


def _neg_words(key: str) -> str:
    return _words(key, _MN)


MET_NEGATION_BEFORE = re.compile(rf"\b(?:{_neg_words('before')})\b", re.I)
# the rest of a mention's word and the site it names after of/to/in ("metastasis to liver",
# "metastases of the liver and lung")
MET_OWN_SITE = re.compile(r"\w*(?:\s+(?:of|to|in)\s+(?:the\s+)?\w+(?:\s+(?:and|or)\s+\w+)*)?", re.I)
MET_NEGATION_AFTER_NEAR = re.compile(
    rf"^{MET_OWN_SITE.pattern}(?P<between>[^.;|,]{{0,25}}?)\b(?:{_neg_words('after')})\b", re.I)
MET_NEGATION_AFTER_LINKED = re.compile(
    rf"^\w*(?:\s+(?:{_words('after_link_words')}|{_neg_words('after_link_words')}))*\s*[,(:-]?\s*"
    rf"\b(?:{_neg_words('after')}|{_neg_words('after_linked')})", re.I)
# (fix-dz3) a template's answer closing the mention ("Brain metastases: no"); matched on the
# whole rest of the text (disease._refuted_after), so a "no" before the next mention is not one
MET_NEGATION_ANSWER = re.compile(
    rf"^\w*(?:\s+(?:{_words('after_link_words')}|{_neg_words('after_link_words')}))*\s*[,(:-]?\s*"
    rf"\b(?:{_MN.get('after_answer') or '(?!)'})", re.I)
# a relative the mention is written "in" ("MBC in mother"): a relative's cancer, not the patient's
MET_RELATIVE_AFTER = re.compile(_fill_in(_MN["after_relative"]), re.I)
# "metastasis cannot be ruled out", "mets not excluded", "to be excluded": a question still open
MET_NEGATION_OPEN = re.compile(rf"\b{VOCABULARY['still_open_words']}\b", re.I)
# the words after a finding that refute it ("ruled out", "excluded", "negative")
MET_NEGATION_AFTER_WORDS = re.compile(rf"\b(?:{_neg_words('after')}|{_neg_words('after_linked')})", re.I)
# any negation word: a text without one is read as before (no span to set aside)
# sites written clear in a bracket beside a metastasis (local_codes.yaml metastasis_negations site_clear_after)
MET_SITE_CLEAR_AFTER = re.compile(_MN["site_clear_after"], re.I)
# a coded metastasis's text naming no metastasis but a negative / benign / open finding
# (local_codes.yaml metastasis_negations coded_text_against)
MET_CODED_TEXT_AGAINST = re.compile(_MN["coded_text_against"], re.I)
# (rt44) a receptor / marker / other test written negative, set aside; a malignancy named
MET_CODED_TEXT_MARKER_NEGATIVE = re.compile(_MN["coded_text_marker_negative"], re.I)
MET_CODED_TEXT_MALIGNANT = re.compile(_MN["coded_text_malignant"], re.I)
MET_NEGATION_ANY = re.compile(rf"{MET_NEGATION_BEFORE.pattern}|{MET_NEGATION_AFTER_WORDS.pattern}", re.I)

_VC = LOCAL["visceral_crisis"]
VISCERAL_CRISIS_CODES = _local_code_map(_VC.get("codes"), "code")
VISCERAL_CRISIS_ANY_CODE = frozenset(c for _, c in VISCERAL_CRISIS_CODES)
VISCERAL_CRISIS_TEXT = re.compile("|".join(map(_fill_in, _VC["text_patterns"])), re.I)
VISCERAL_CRISIS_NEG = re.compile("|".join(map(_fill_in, _VC["negation_patterns"])), re.I)
# a crisis written as coming or suspected ("impending", "suspected visceral crisis"): neither asserted nor dropped
VISCERAL_CRISIS_UNCERTAIN = re.compile("|".join(map(_fill_in, _VC.get("uncertain_patterns") or ["(?!)"])), re.I)
# "Visceral crisis?": a suspicion where a clinician writes a statement, not an Observation's question
VISCERAL_CRISIS_QUESTIONED = re.compile("|".join(map(_fill_in, _VC.get("question_patterns") or ["(?!)"])), re.I)
# a crisis written as probable ("likely visceral crisis"): unclear unless the Condition is confirmed
VISCERAL_CRISIS_PROBABLE = re.compile("|".join(map(_fill_in, _VC.get("probable_patterns") or ["(?!)"])), re.I)

_H = LOCAL["her2"]
HER2_LOCAL_CODES = _local_code_map(_H.get("codes"), "value")
HER2_TEXT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(e["pattern"], re.I), str(e["value"])) for e in _H["text_patterns"]
]
HER2_ISH_TEXT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(e["pattern"], re.I), str(e["value"])) for e in _H["ish_patterns"]
]
# ISH words inside IHC / interpretation text: only the clause after the ISH word is read.
HER2_ISH_IN_TEXT_WORD = re.compile(_H["in_text_words"], re.I)
HER2_ISH_IN_TEXT_CHARS = int(_H["in_text_clause_chars"])
HER2_ISH_IN_TEXT_NO_RESULT = re.compile(_H["in_text_no_result"]["pattern"], re.I)
HER2_ISH_TEXT_RATIO = re.compile(_H["in_text_counts"]["ratio"], re.I)
HER2_ISH_TEXT_COPIES = re.compile(_H["in_text_counts"]["copies"], re.I)
HER2_ISH_TEXT_NOT_HER2_BEFORE = re.compile(_H["in_text_counts"]["not_her2_before"], re.I)
# A HER2_TEXT match whose preceding text ends with a negation ("not ultralow") is not read.
HER2_TEXT_NEGATED_BEFORE = re.compile((_H.get("negation") or {}).get("before") or "(?!)", re.I)
HER2_EQUIVOCAL_TEXT = re.compile("|".join(_H["equivocal_patterns"]), re.I)
# an earlier result named after the current one in the same text (local_codes.yaml her2.history)
HER2_HISTORY_WORD = re.compile(_H["history"]["words"], re.I)
# an IHC 3+ in <= 10 % of the cells (local_codes.yaml her2.three_plus_few_cells)
HER2_THREE_PLUS_PERCENT = re.compile(_H["three_plus_few_cells"]["percent"], re.I)
HER2_THREE_PLUS_OTHER_MARKER = re.compile(_H["three_plus_few_cells"]["other_marker"], re.I)
# a note naming HER2-positive that is no result of the tumour (local_codes.yaml her2.note_not_a_result)
HER2_NOTE_NOT_A_RESULT = re.compile(_H["note_not_a_result"]["pattern"], re.I)
HER2_HISTORY_CLAUSE_END = re.compile(_H["history"]["clause_end"])
HER2_HISTORY_ZERO = re.compile(_H["history"]["zero_after_word"], re.I)
HER2_HISTORY_OTHER_RECEPTOR = re.compile(_H["history"]["other_receptor"], re.I)
HER2_HISTORY_CURRENT = re.compile(_H["history"]["current_words"], re.I)
# ... "was" / "were" only opening their clause or after the result's name / an earlier specimen
HER2_HISTORY_WAS_OPENING = re.compile(_H["history"]["was_clause_opening"], re.I)
HER2_HISTORY_WAS_CLAUSE_START = re.compile(_H["history"]["was_clause_start"])
# a history word naming the specimen of the result before it ("3+ on previous biopsy")
HER2_HISTORY_SPECIMEN_BEFORE = re.compile(_H["history"]["specimen_before"], re.I)
# two results in one text, the current one marked by a later year, a current word or a metastatic specimen
_H2 = _H["history"]["two_results"]
HER2_TWO_RESULTS_BREAK = re.compile(_H2["clause_break"])
HER2_TWO_RESULTS_YEAR = re.compile(_H2["year"])
HER2_TWO_RESULTS_METASTATIC = re.compile(_H2["metastatic_specimen"], re.I)
HER2_TWO_RESULTS_PRIMARY = re.compile(_H2["primary_specimen"], re.I)

_M = LOCAL["menopause"]
MENO_LOCAL_QUESTION = _local_code_map(_M.get("question_codes"), "code")
MENO_LOCAL_QUESTION_ANY = frozenset(c for _, c in MENO_LOCAL_QUESTION)
MENO_QUESTION_TEXT = re.compile("|".join(_M["question_text_patterns"]), re.I)
MENO_LOCAL_CODES = _local_code_map(_M.get("codes"), "status")
# A negated mention is not a statement of that status ("not postmenopausal" is not
# postmenopausal): each status pattern only matches where no negating word stands right
# before it (fixed-width look-behinds, one per word and separator) and no negating answer
# follows it.
_MENO_NEG = _M.get("negation") or {}
_MENO_NEG_BEFORE = "".join(
    f"(?<!\\b{re.escape(w)}{sep})" for w in _MENO_NEG.get("words_before", []) for sep in (" ", "-")
)
_MENO_NEG_AFTER = f"(?!{_MENO_NEG['after']})" if _MENO_NEG.get("after") else ""
MENO_TEXT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(f"{_MENO_NEG_BEFORE}(?:{e['pattern']}){_MENO_NEG_AFTER}", re.I), e["status"])
    for e in _M["text_patterns"]
]
# A status written as a guess or a question, before or after its words, and a menopause
# written as brought on by chemotherapy (local_codes.yaml menopause unclear; factors reads them)
_MU = _M.get("unclear") or {}
MENO_HEDGE_BEFORE = re.compile(_fill_in(_MU.get("before") or "(?!)"), re.I)
MENO_HEDGE_AFTER = re.compile(_fill_in(_MU.get("after") or "(?!)"), re.I)
MENO_CHEMOTHERAPY = re.compile(_fill_in(_MU.get("chemotherapy") or "(?!)"), re.I)
# A bilateral oophorectomy written as not (yet) done, and ovarian ablation by radiotherapy
# (local_codes.yaml menopause oophorectomy_not_done, ovarian_ablation_text)
_MO = _M.get("oophorectomy_not_done") or {}
OOPH_NOT_DONE_BEFORE = re.compile(_fill_in(_MO.get("before") or "(?!)"), re.I)
OOPH_NOT_DONE_AFTER = re.compile(_fill_in(_MO.get("after") or "(?!)", clause_ends=_MO.get("clause_ends") or ""), re.I)
OVARIAN_ABLATION_TEXT = re.compile((_M.get("ovarian_ablation_text") or {}).get("pattern") or "(?!)", re.I)

def _condition_patterns(reader: str, key: str) -> re.Pattern[str]:
    """local_codes.yaml reader[key] (a condition reader: long_qt, ild) as one pattern, the
    reader's `<mention>` and the vocabulary lists filled in (none: never matches)."""
    section = LOCAL[reader]
    own = {k: section[k] for k in ("mention", "symptom", "growth") if k in section}
    return re.compile("|".join(f"(?:{_fill_in(p, **own)})" for p in section.get(key) or [])
                      or "(?!)", re.I)


# words naming long QT syndrome; ones that make it not the patient's (negated, a relative's,
# a risk); ones that make it a suspicion (not counted, named in a gap)
LONG_QT_TEXT = _condition_patterns("long_qt", "text_patterns")
LONG_QT_NOT_THE_PATIENTS = _condition_patterns("long_qt", "not_the_patients_patterns")
LONG_QT_SUSPECTED = _condition_patterns("long_qt", "suspicion_patterns")
# the same for a prolonged QT interval (an ECG finding, not the syndrome)
PROLONGED_QT_TEXT = _condition_patterns("prolonged_qt", "text_patterns")
PROLONGED_QT_NOT_THE_PATIENTS = _condition_patterns("prolonged_qt", "not_the_patients_patterns")
PROLONGED_QT_SUSPECTED = _condition_patterns("prolonged_qt", "suspicion_patterns")
# diabetes named in a Condition's text that is not the patient's, or only a suspicion
DIABETES_NOT_THE_PATIENTS = _condition_patterns("diabetes", "not_the_patients_patterns")
DIABETES_SUSPECTED = _condition_patterns("diabetes", "suspicion_patterns")
DIABETES_NOT_CURRENT = _condition_patterns("diabetes", "not_current_patterns")
DIABETES_DOUBTED = _condition_patterns("diabetes", "doubt_patterns")
DIABETES_HISTORY = _condition_patterns("diabetes", "history_patterns")
# prediabetes (not diabetes; CR A.4 lists R73.03 with the diabetes caution codes, unverified)
PREDIABETES_TEXT = _condition_patterns("diabetes", "prediabetes_patterns")
PREDIABETES_NEGATED = _condition_patterns("diabetes", "prediabetes_negated_patterns")
PREDIABETES_ICD = frozenset(norm_icd(c) for c in LOCAL["diabetes"].get("prediabetes_icd10") or ())
ABNORMAL_GLUCOSE_HEADER_ICD = frozenset(norm_icd(c) for c in LOCAL["diabetes"].get("abnormal_glucose_header_icd10") or ())
GESTATIONAL_DIABETES_ICD = tuple(norm_icd(c) for c in LOCAL["diabetes"].get("gestational_icd10_prefixes") or ())
HYPERGLYCAEMIA_NEGATED = _condition_patterns("diabetes", "hyperglycaemia_negated_patterns")

# words naming ILD / pneumonitis; ones that make it not the patient's (negated, a relative's,
# a risk, a screening); ones that make it a suspicion (not counted, named in a gap); an
# infection written as pneumonitis (not ILD), unless the text names ILD or fibrosis as well
ILD_TEXT = _condition_patterns("ild", "text_patterns")
ILD_NOT_THE_PATIENTS = _condition_patterns("ild", "not_the_patients_patterns")
ILD_SUSPECTED = _condition_patterns("ild", "suspicion_patterns")
ILD_INFECTIOUS = _condition_patterns("ild", "infectious_patterns")
ILD_INFECTIOUS_UNLESS = re.compile(LOCAL["ild"].get("infectious_unless") or "(?!)", re.I)
ILD_CAUSE_DIFFERENTIAL = _condition_patterns("ild", "cause_differential_patterns")
ILD_ASPIRATION = _condition_patterns("ild", "aspiration_patterns")

# the written answer of a cancer disease status (LOINC 97509-4): words of a progression, ones
# that say there was none (negated, ruled out, absent) and ones that leave it open (a
# suspicion, probable, "cannot be excluded", pseudoprogression, a mixed response)
DISEASE_STATUS_PROGRESSION = _condition_patterns("disease_status", "text_patterns")
DISEASE_STATUS_REFUTED = _condition_patterns("disease_status", "refuted_patterns")
DISEASE_STATUS_UNCLEAR = _condition_patterns("disease_status", "unclear_patterns")
# a symptom written as what worsened ("Worse pain"), not the cancer
DISEASE_STATUS_SYMPTOM = _condition_patterns("disease_status", "symptom_patterns")
# words stating no readable trend (a growth without a RECIST 1.1 category, "equivocal"), asked
# unless a non-progression category is stated beside them
DISEASE_STATUS_UNDECIDED = _condition_patterns("disease_status", "undecided_patterns")
DISEASE_STATUS_STATED_CATEGORY = re.compile(LOCAL["disease_status"]["undecided_beside_stated"], re.I)
DISEASE_STATUS_STATED_NOT_WORSE = re.compile(LOCAL["disease_status"]["symptom_beside_stated_status"], re.I)
# the cancer joined to a worse symptom ("worsening LFTs and liver metastases"): worse too
DISEASE_STATUS_CANCER_AFTER_SYMPTOM = re.compile(LOCAL["disease_status"]["symptom_joined_to_cancer_after"], re.I)
DISEASE_STATUS_CANCER_BEFORE_SYMPTOM = re.compile(LOCAL["disease_status"]["symptom_joined_to_cancer_before"], re.I)

_AL = LOCAL["alteration"]
# (pattern, kind): words naming a copy-number change or a fusion, in order
ALTERATION_TEXT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(e["pattern"], re.I), e["kind"]) for e in _AL["text_patterns"]
]
ALTERATION_NEGATED_BEFORE = re.compile(_AL["negation_before"], re.I)

_SP = LOCAL["specimen"]
CTDNA_TEXT = re.compile("|".join(_SP["ctdna_patterns"]), re.I)
TISSUE_TEXT = re.compile("|".join(_SP["tissue_patterns"]), re.I)
BLOOD_TEXT = re.compile("|".join(_SP["blood_patterns"]), re.I)

_AR = LOCAL["archival_specimen"]
# a specimen described as archival or as the primary tumour (CR C.3 row 18): see local_codes.yaml
ARCHIVAL_TEXT = re.compile("|".join(_AR["archival_patterns"]), re.I)
PRIMARY_TISSUE_TEXT = re.compile("|".join(_AR["primary_patterns"]), re.I)
NOT_PRIMARY_TEXT = re.compile("|".join(_AR["not_primary_patterns"]), re.I)
ARCHIVAL_NEGATED_TEXT = re.compile("|".join(_AR["negated_patterns"]), re.I)

# a drafted test written by name only ("HbA1c", "Fasting glucose"): the LOINC code it stands
# for (local_codes.yaml drafted_test_names; build._test_ordered)
DRAFTED_TEST_LOINC = tuple((str(e["loinc"]), re.compile(e["pattern"], re.I))
                           for e in (LOCAL.get("drafted_test_names") or {}).get("loinc_by_name") or ())
# a drafted genomic test written by its product name ("BRACAnalysis CDx"): (pattern, genes, origin)
# (local_codes.yaml drafted_test_names genomic_tests_by_name; build._test_ordered)
DRAFTED_GENOMIC_TESTS = tuple((re.compile(e["pattern"], re.I), tuple(e["genes"]), e.get("origin"))
                              for e in (LOCAL.get("drafted_test_names") or {}).get("genomic_tests_by_name") or ())

# --- drugs ------------------------------------------------------------------------


@dataclass(frozen=True)
class DrugInfo:
    name: str
    drug_class: str
    rxnorm: str | None
    nsai: bool = False
    taxane: bool = False
    anthracycline: bool = False
    diabetes_specific: bool = False
    transplant_everolimus: bool = False
    names: tuple[str, ...] = field(default_factory=tuple)


DRUGS: dict[str, DrugInfo] = {}
DRUG_BY_CODE: dict[str, list[DrugInfo]] = {}


def _add_code(code: str, info: DrugInfo) -> None:
    lst = DRUG_BY_CODE.setdefault(str(code), [])
    if info not in lst:
        lst.append(info)


for _d in DRUGS_DATA["drugs"]:
    _info = DrugInfo(
        name=_d["name"],
        drug_class=_d["class"],
        rxnorm=str(_d["rxnorm"]) if _d.get("rxnorm") else None,
        nsai=bool(_d.get("nsai")),
        taxane=bool(_d.get("taxane")),
        anthracycline=bool(_d.get("anthracycline")),
        diabetes_specific=bool(_d.get("diabetes_specific")),
        transplant_everolimus=bool(_d.get("transplant_everolimus")),
        names=tuple(n.lower() for n in _d.get("names") or ()),
    )
    DRUGS[_info.name] = _info
    if _info.transplant_everolimus:
        continue  # shares the everolimus ingredient code; chosen by text only
    if _info.rxnorm:
        _add_code(_info.rxnorm, _info)
    for _c in (_d.get("extra_codes") or {}).get("codes", []):
        _add_code(_c, _info)
    for _c in (_d.get("product_codes") or {}).get("codes", []):
        _add_code(_c, _info)

TRANSPLANT_EVEROLIMUS = next(d for d in DRUGS.values() if d.transplant_everolimus)
TRANSPLANT_EVEROLIMUS_TEXT = re.compile(
    r"zortress|transplant|\b(0\.25|0\.5|0\.75|1)\s*mg\b", re.I
)

# name -> DrugInfo, one regex alternation, longest names first so that
# "trastuzumab deruxtecan" wins over "trastuzumab".
_NAME_TO_DRUG: dict[str, DrugInfo] = {}
for _info in DRUGS.values():
    for _n in _info.names:
        _NAME_TO_DRUG.setdefault(_n, _info)
_names_sorted = sorted(_NAME_TO_DRUG, key=len, reverse=True)
DRUG_NAME_RE = re.compile(
    r"(?<![a-z0-9])(" + "|".join(re.escape(n) for n in _names_sorted) + r")(?![a-z0-9])",
    re.I,
)


def drug_for_name(name: str) -> DrugInfo | None:
    return _NAME_TO_DRUG.get(name.lower())


# Why a glucose-lowering drug was given (drugs.yaml glucose_lowering_reasons; factors._diabetes):
# (kind, label, ICD-10-CM prefixes, SNOMED CT codes, words), kind "not-diabetes" or "hyperglycaemia"
_GLR = DRUGS_DATA["glucose_lowering_reasons"]
GLUCOSE_LOWERING_REASONS: tuple[tuple[str, str, tuple[str, ...], frozenset[str], re.Pattern[str]], ...] = tuple(
    (kind, e["label"], tuple(norm_icd(c) for c in e.get("icd10_prefixes") or ()),
     frozenset(str(c) for c in e.get("snomed") or ()), re.compile(e["pattern"], re.I))
    for key, kind in (("not_diabetes", "not-diabetes"), ("hyperglycaemia", "hyperglycaemia"))
    for e in _GLR[key])
GLUCOSE_LOWERING_REASON_LEAD = _GLR["reason_lead_pattern"]["pattern"]
SLIDING_SCALE_TEXT = re.compile(_GLR["sliding_scale_pattern"]["pattern"], re.I)
DIABETES_ONLY_BRAND_TEXT = re.compile(_GLR["diabetes_only_brands"]["pattern"], re.I)
# a liraglutide dose above Victoza's diabetes maximum, up to Saxenda's weight dose (drugs.yaml weight_dose)
LIRAGLUTIDE_WEIGHT_DOSE = _GLR["weight_dose"]
LIRAGLUTIDE_NAME_TEXT = re.compile(_GLR["weight_dose"]["names_pattern"], re.I)
GLUCOSE_LOWERING_NOT_TAKEN_OPENING = re.compile(_GLR["not_taken_opening"]["pattern"], re.I)
GLUCOSE_LOWERING_NOT_TAKEN_CLOSING = re.compile(_GLR["not_taken_closing"]["pattern"], re.I)
GLUCOSE_LOWERING_NOT_TAKEN_JOINED = re.compile(_GLR["not_taken_names_joined"]["pattern"], re.I)
GLUCOSE_LOWERING_NOT_TAKEN_LAST_JOINED = re.compile(_GLR["not_taken_names_last_joined"]["pattern"], re.I)
GLUCOSE_LOWERING_PROCEDURE_PAUSE = re.compile(_GLR["not_taken_procedure_pause"]["pattern"], re.I)
# the same words of any drug record (therapy.py reads an anticancer drug written so as stopped)
DRUG_NOT_TAKEN_OPENING = GLUCOSE_LOWERING_NOT_TAKEN_OPENING
DRUG_NOT_TAKEN_CLOSING = GLUCOSE_LOWERING_NOT_TAKEN_CLOSING

# fixed-dose combination products (drugs.yaml combination_products): brand -> every ingredient
COMBINATION_PRODUCTS: dict[str, tuple[str, ...]] = {
    str(k).lower(): tuple(v) for k, v in DRUGS_DATA["combination_products"]["products"].items()}
COMBINATION_PRODUCT_RE = re.compile(
    r"(?<![a-z0-9])(" + "|".join(re.escape(n) for n in sorted(COMBINATION_PRODUCTS, key=len, reverse=True)) + r")(?![a-z0-9])",
    re.I)



# Why a drug stopped (local_codes.yaml stop_reasons; therapy._stop_reason): removed first (a
# plan or instruction; a negated side effect), removed before the progression search (a
# negated / ruled-out progression; a progression word describing a side effect), then the
# progression and the non-progression words
_SR = LOCAL["stop_reasons"]
_SIDE_EFFECT = "|".join(_fill_in(w) for w in (_SR.get("side_effect_words") or {}).get("words") or []) or "(?!)"
# the side effects of the pathway drugs, as words (factors._ild_grade_text: a grade said of another one)
SIDE_EFFECT_TEXT = re.compile(_SIDE_EFFECT, re.I)


def _pattern_list(section: dict, key: str) -> re.Pattern[str]:
    """One case-insensitive pattern of the alternatives listed under section[key] (the shared
    vocabulary and `<side_effect>` filled in); one that matches nothing when none is listed."""
    return re.compile("|".join(f"(?:{_fill_in(p, side_effect=_SIDE_EFFECT)})" for p in section.get(key) or [])
                      or "(?!)", re.I)


def _stop_patterns(key: str) -> re.Pattern[str]:
    return _pattern_list(_SR, key)


STOP_NOT_STATED = _stop_patterns("not_stated_patterns")
STOP_NOT_A_PROGRESSION = _stop_patterns("not_a_progression_patterns")
STOP_PROGRESSION = _stop_patterns("progression_patterns")
STOP_NON_PROGRESSION = _stop_patterns("non_progression_patterns")
STOP_HEDGED_REASON = _stop_patterns("hedged_reason_patterns")
STOP_NEGATED_REASON = _stop_patterns("negated_reason_patterns")
STOP_PLANNED = _stop_patterns("planned_stop_patterns")
# a drafted order's words planning it for a progression to come (build._stated_reason)
DRAFT_PROGRESSION_PLAN = _stop_patterns("draft_plan_patterns")
# coded stop reasons that name no progression (FHIR R4 medicationrequest-status-reason)
STOP_NON_PROGRESSION_CODES = _local_code_map(_SR.get("non_progression_codes"), "display")
# coded stop reasons that name a worsening (SNOMED CT 271299001), read without a display
STOP_PROGRESSION_CODES = _local_code_map(_SR.get("progression_codes"), "display")
# a refusal given as the reason for a record's status (therapy._refused_before_use)
STOP_REFUSAL = _stop_patterns("refusal_patterns")
STOP_REFUSAL_CODES = _local_code_map(_SR.get("refusal_codes"), "display")
STOP_REFUSAL_WITHDRAWN = _stop_patterns("refusal_withdrawn_patterns")

# How a medication text names a drug (local_codes.yaml drug_mentions; therapy.drugs_from_text,
# therapy.unnamed_drug): a name in a not-given context (the text right before it matches
# DRUG_NOT_GIVEN_BEFORE, the text right after it DRUG_NOT_GIVEN_AFTER) is the reason for the
# record's drug or the drug before it ("premedication for paclitaxel", "abemaciclib
# diarrhoea"); UNNAMED_DRUG: (pattern, what it names) of a text naming a class of drug, a
# drug by its INN stem or an unnamed trial drug
_DM = LOCAL.get("drug_mentions") or {}


def _mention_patterns(key: str) -> re.Pattern[str]:
    return _pattern_list(_DM, key)


def _mention_regex(key: str) -> re.Pattern[str]:
    """drug_mentions[key], one pattern, case-insensitive; a pattern that matches nothing when absent."""
    return re.compile(_DM.get(key) or "(?!)", re.I)


DRUG_NOT_GIVEN_BEFORE = _mention_patterns("not_given_before")
DRUG_NOT_GIVEN_AFTER = _mention_patterns("not_given_after")
# the drug the record's drug was switched to ("Letrozole (switched to anastrozole)"), right
# before its name: not read as given by the record (therapy.drugs_switched_to)
DRUG_SWITCHED_TO_BEFORE = _mention_patterns("switched_to_before")
# the record's drug written as refused or never started, right after its last name or right
# before its first ("Fulvestrant - patient declined", "Declined fulvestrant")
DRUG_REFUSED_AFTER = _mention_regex("refused_after")
DRUG_REFUSED_BEFORE = _mention_regex("refused_before")
# ... and a change of its use named right after the drug ("Declined letrozole dose reduction"): not the drug refused
DRUG_REFUSED_CHANGE_AFTER = _mention_regex("refused_change_after")
# ... or after a regimen's last drug, said of every drug of it ("Letrozole + palbociclib (both declined)")
DRUG_REFUSED_WHOLE_AFTER = _mention_regex("refused_whole_after")
DRUG_REFUSED_WHOLE_BEFORE = _mention_regex("refused_whole_before")
DRUG_WHOLE_BEFORE_REFUSED_AFTER = _mention_regex("whole_before_refused_after")
# what stands between a drug refused before its name and the drug chosen instead ("Patient
# declined fulvestrant, chose letrozole")
DRUG_CHOSEN_INSTEAD = _mention_regex("chosen_instead")
DRUG_CHOSEN_SEPARATOR = _mention_regex("chosen_separator")
DRUG_CHOSEN_AFTER = _mention_regex("chosen_after")
# ... and a dose after a drug listed after a not-taken one ("Not on palbociclib, fulvestrant 500 mg"): given
DRUG_LISTED_GIVEN_DOSE_AFTER = _mention_regex("listed_given_dose_after")
# what stands right before a drug written as optional ("Fulvestrant ± palbociclib")
DRUG_OPTIONAL_BEFORE = _mention_regex("optional_before")
# the words joining a CDK4/6 inhibitor to the one before it as its alternative ("ribociclib or palbociclib")
DRUG_ALTERNATIVE_BETWEEN = _mention_regex("alternative_between")
# what follows the record's last drug when the text writes it as stopped ("Tamoxifen, stopped after 3 weeks (intolerance)")
DRUG_STOPPED_AFTER = _mention_regex("stopped_after")
# ... and the date of that stop written right after it ("Letrozole (stopped 2024-03)")
DRUG_STOPPED_WHEN_AFTER = _mention_regex("stopped_when_after")
# ... and whose stop it is, by the words right after the stop word: the record's drug's ("stopped
# (arthralgia)", "stopped it") or something else's ("stopped smoking"; tx13)
DRUG_STOP_OWN_OBJECT_AFTER = _mention_regex("stop_own_object_after")
DRUG_STOP_OTHER_OBJECT_AFTER = _mention_regex("stop_other_object_after")
# a stop verb before the drug's one name (drug_mentions stopped_verb_opening)
DRUG_STOPPED_VERB_OPENING = _mention_regex("stopped_verb_opening")
DRUG_NOT_TAKEN_BARE_AFTER = _mention_regex("not_taken_bare_after")
DRUG_NEVER_TAKEN = _mention_regex("never_taken_words")
# words before the record's first drug writing it as given no more ("No further letrozole")
DRUG_STOPPED_OPENING = _mention_regex("stopped_opening")
# ... and words after that stop writing it as a pause ("stopped and restarted")
DRUG_STOPPED_PAUSED = _mention_regex("stopped_paused")
# a stop written right beside a CDK4/6 (or PI3K/AKT/mTOR) inhibitor read current (therapy._stop_beside_current_partner)
DRUG_STOP_BESIDE_BEFORE = _mention_regex("stop_beside_before")
DRUG_STOP_ABBREVIATED_AFTER = _mention_regex("stop_abbreviated_after")
DRUG_NOT_TAKEN_HELD = _mention_regex("not_taken_held")
# a "no" before the drug negating a finding of it named right after ("No letrozole side effects")
DRUG_FINDING_NEGATED_OPENING = _mention_regex("finding_negated_opening")
DRUG_FINDING_NEGATED_AFTER = _mention_patterns("finding_negated_after")
# only "no" after the drug ("Letrozole: no"): an answer whose question is not kept
DRUG_ANSWERED_NO_AFTER = _mention_regex("answered_no_after")
DRUG_ANSWERED_NO_BEFORE = _mention_regex("answered_no_before")
DRUG_ANSWERED_NO_BETWEEN = _mention_regex("answered_no_between")
# ... and words writing the drug as past use before its first name or after its last ("Hx tamoxifen", "Letrozole (previous)")
DRUG_PAST_USE_OPENING = _mention_regex("past_use_opening")
DRUG_PAST_USE_CLOSING = _mention_regex("past_use_closing")
# ... and words after its last name writing its course as completed ("Tamoxifen (completed 5 years)"), with its date
DRUG_COMPLETED_CLOSING = _mention_regex("completed_closing")
# ... and a span of dates closing the text with no completion word ("Tamoxifen 2015-2020"): its end, when past
DRUG_SPAN_CLOSING = _mention_regex("span_closing")
DRUG_COMPLETED_OPENING = _mention_regex("completed_opening")
DRUG_COMPLETED_OPENING_TAIL = _mention_regex("completed_opening_tail")
# ... and the length of use such a completion writes ("completed 6 months"): a milestone on a metastatic line
DRUG_COMPLETED_LENGTH = _mention_regex("completed_length")
# what opens a record whose drug is only planned ("Planned letrozole", "Consider fulvestrant")
DRUG_PLANNED_OPENING = _mention_regex("planned_opening")
# ... unless a hedge opening it questions a fact of the drug after it ("Query letrozole adherence")
DRUG_HEDGED_OPENING = _mention_regex("hedged_opening")
DRUG_HEDGE_OF_A_FACT_AFTER = _mention_regex("hedge_of_a_drug_fact_after")
# ... and "?" after the last drug of a drafted order ("Fulvestrant?"): a hedge of the drug
DRUG_HEDGED_CLOSING = _mention_regex("hedged_closing")
# ... or follows its last drug ("Letrozole + palbociclib planned", "Palbociclib to start after OFS")
DRUG_PLANNED_CLOSING = _mention_regex("planned_closing")
# ... or follows the record's first drug as a condition for giving it ("Exemestane if intolerant to letrozole")
DRUG_PLANNED_CONDITION_AFTER = _mention_regex("planned_condition_after")
# ... unless the text then writes the drug as started on a date ("Letrozole planned, started 2020-02-01")
DRUG_PLANNED_THEN_STARTED = _mention_regex("planned_then_started")
# what follows the record's own drug when the record may be its premedication ("Paclitaxel premedication")
DRUG_PREMEDICATION_ONLY_AFTER = _mention_regex("premedication_only_after")
# what opens a record that names a drug as what its premedication is for ("Premedication: dexamethasone (paclitaxel day 1)")
DRUG_PREMEDICATION_OPENING = _mention_regex("premedication_opening")
# ... unless the drug is written as given after its name ("... then paclitaxel 80 mg/m2 infused")
DRUG_PREMEDICATION_OPENING_GIVEN_AFTER = _mention_regex("premedication_opening_given_after")
# what stands between two drug names written in sequence ("Letrozole then fulvestrant")
DRUG_SEQUENCE_BETWEEN = _mention_regex("sequence_between")
# an endocrine switch written in one record ("Tamoxifen stopped, now letrozole", "Switched from
# tamoxifen to letrozole"): the words before the first name and between the two drugs
DRUG_SWITCH_OPENING = _mention_regex("switch_opening")
DRUG_SWITCH_BETWEEN = _mention_regex("switch_between")
DRUG_SWITCH_FROM_OPENING = _mention_regex("switch_from_opening")
DRUG_SWITCH_FROM_BETWEEN = _mention_regex("switch_from_between")
DRUG_SWITCH_NOT_AFTER = _mention_regex("switch_not_after")
DRUG_SWITCH_STOPPED_SECOND_BETWEEN = _mention_regex("switch_stopped_second_between")
DRUG_SWITCH_STOP_BEFORE_SECOND = _mention_regex("switch_stop_before_second")
DRUG_SWITCH_STOP_OPENING_FIRST = _mention_regex("switch_stop_opening_first")
# the drug taken now after a regimen a stop opened (drug_mentions switch_after_stop_opening_between)
DRUG_SWITCH_AFTER_STOP_OPENING_BETWEEN = _mention_regex("switch_after_stop_opening_between")
DRUG_STOP_OPENING_CLAUSE_BREAK = _mention_regex("stop_opening_clause_break")
# the same clause break with the start written after the later drug ("Stopped letrozole. Fulvestrant
# started": drug_mentions switch_after_stop_opening_break_between, started_after)
DRUG_SWITCH_AFTER_STOP_OPENING_BREAK_BETWEEN = _mention_regex("switch_after_stop_opening_break_between")
DRUG_STARTED_AFTER = _mention_regex("started_after")
# a stop word opening a list of drugs joined by bare commas (drug_mentions stopped_list_opening / _between)
DRUG_STOPPED_LIST_OPENING = _mention_regex("stopped_list_opening")
DRUG_STOPPED_LIST_BETWEEN = _mention_regex("stopped_list_between")
# a date right after that list, no end read from it (drug_mentions stopped_list_date_after)
DRUG_STOPPED_LIST_DATE_AFTER = _mention_regex("stopped_list_date_after")
DRUG_IN_ERROR = _mention_regex("in_error")
DRUG_STOP_BEFORE_REPEAT = _mention_regex("stop_before_repeat")
DRUG_SINCE_WHEN_AFTER = _mention_regex("since_when_after")
# the cycle or side effect since which the repeated drug is not given (drug_mentions since_cause_after)
DRUG_SINCE_CAUSE_AFTER = re.compile(_fill_in(_DM.get("since_cause_after") or "(?!)", side_effect=_SIDE_EFFECT), re.I)
# a CDK4/6 inhibitor stopped, its partner after a clause break (drug_mentions switch_stop_first_break_between)
DRUG_SWITCH_STOP_FIRST_BREAK_BETWEEN = _mention_regex("switch_stop_first_break_between")
DRUG_GOING_ON_AFTER = _mention_regex("going_on_after")
# only a date after the partner of a CDK4/6 inhibitor written stopped (drug_mentions partner_dated_after)
DRUG_PARTNER_DATED_AFTER = _mention_regex("partner_dated_after")
# a stop hedged by the word before it (drug_mentions stop_hedged)
DRUG_STOP_HEDGED = _mention_regex("stop_hedged")
DRUG_SWITCH_SEQUENCE_ONLY = _mention_regex("switch_sequence_only")
DRUG_SWITCH_NEXT_AFTER = _mention_regex("switch_next_after")
DRUG_SWITCH_REASON_AFTER = _mention_regex("switch_reason_after")
# what may follow the drug a statusReason refuses: its form, the patient's reason
REFUSAL_REASON_AFTER = _mention_regex("refusal_reason_after")
# what stands between a regimen's last drug name and a class of drug refused in its own clause
CLASS_REFUSED_CLAUSE = _mention_regex("class_refused_clause")
# what stands between two names of one regimen ("fulvestrant + palbociclib")
DRUG_NAMES_JOINED = _mention_regex("names_joined")
# what may stand before a drug name or the words of an unnamed_drug_patterns entry for them to
# name the record's own drug (the start of the text, or qualifiers only)
LEADING_QUALIFIERS = re.compile(_DM["leading_qualifiers"], re.I)
# (pattern, what it names, the DrugClass values the words name) of unnamed_drug_patterns
UNNAMED_DRUG_CLASSES: list[tuple[re.Pattern[str], str, frozenset[str]]] = [
    (re.compile(_fill_in(e["pattern"]), re.I), str(e["names"]), frozenset(e.get("classes") or ()))
    for e in _DM.get("unnamed_drug_patterns") or []
]
# the same (pattern, what it names), each pattern compiled once
UNNAMED_DRUG: list[tuple[re.Pattern[str], str]] = [(pattern, names) for pattern, names, _ in UNNAMED_DRUG_CLASSES]
# (pattern of the whole text, the drugs it may stand for) of a text that is only an abbreviated
# drug name ("Palbo", "TAM": drug_mentions abbreviations), never read as a drug
_ABBR = _DM.get("abbreviations") or {}
DRUG_ABBREVIATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(_ABBR["whole_text"].replace("{abbreviation}", str(e["abbreviation"])), re.I), str(e["may_be"]))
    for e in _ABBR.get("entries") or []
]
# (word pattern, what it names, the DrugClass values it may stand for, the drug names it may
# stand for) of the same abbreviations joined to a drug the text names ("Letrozole + Palbo":
# therapy.class_beside_drug_classes), but those marked beside_a_drug: false ("cap", a capsule)
ABBREVIATION_BESIDE_A_DRUG: list[tuple[re.Pattern[str], str, frozenset[str], frozenset[str]]] = [
    (re.compile(rf"\b(?:{e['abbreviation']})\b\.?", re.I),
     f"an abbreviated drug name not read as a drug (it may stand for {e['may_be']})",
     frozenset(info.drug_class for n in str(e["may_be"]).split(" or ") if (info := drug_for_name(n)) is not None),
     frozenset(str(e["may_be"]).split(" or ")))
    for e in _ABBR.get("entries") or [] if e.get("beside_a_drug", True)
]
# what stands between a drug name and the words of an unnamed_drug_patterns entry joined to it
CLASS_JOINED = _mention_regex("class_joined")
