"""Disease: primary breast cancer, metastatic status/date/sites, visceral crisis."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re
from functools import lru_cache, wraps
from typing import Any, Callable, Iterable, NamedTuple

from mappings import tables as T
from mappings.context import Ctx
from mappings.fhir import (
    INACTIVE_CLINICAL_STATUS, Concept, as_list, cc_text, clinical_status_code, clinical_status_inactive,
    clinical_status_miscased, codings, concept, date_last, is_icd10, is_loinc, is_snomed,
    not_final_status, notes_text, obs_date, parse_date, partial_last, period, status_code, text_of,
)
from mappings.state import Disease, MetastaticSite, Source, TherapyHistory, range_text

_BREAST_TEXT = re.compile(
    r"(malignant neoplasm|carcinoma|cancer|adenocarcinoma|malignancy)[^|]{0,40}\bbreast\b"
    r"|\bbreast\b[^|]{0,20}(cancer|carcinoma|malignan)",
)
# Words that name metastatic disease on any Condition. Stage text is not here: "stage 4"
# on chronic kidney disease or a pressure ulcer is no cancer stage; stage IV counts only
# on the breast-cancer Condition (CR A.4 "advanced/metastatic" = breast primary AND ...
# stage group IV), see _STAGE4_WORDS.
# "Secondary carcinoma of lung", "secondary deposits in liver": ICD-10-CM C77-C79 write a
# metastasis "secondary malignant neoplasm of <site>"; not "secondary cancer" / "secondary
# malignancy" alone, also written for a treatment-related second primary ("secondary AML").
# "MBC" (metastatic breast cancer) and a "distant recurrence / relapse" (AJCC 8th edition: M1 is
# distant metastasis) name it too, not a "distant recurrence risk / rate / score" (Oncotype DX);
# so do "peritoneal carcinomatosis" (ICD-10-CM C78.6) and
# "leptomeningeal disease / carcinomatosis" (C79.32 secondary malignant neoplasm of cerebral
# meninges, CR A.4 brain row); so does "lymphangitic carcinomatosis" / "lymphangitis
# carcinomatosa" (tumour spread through the lung's lymphatics: a lung metastasis, ICD-10-CM
# C78.0-, CR A.4 lung row; tables.SITE_TEXT reads it as the lung, not as lymph nodes).
# A "malignant pleural effusion" and "malignant ascites" (NCI Thesaurus / MeSH: fluid in the
# pleural cavity / the peritoneum as a complication of malignant disease; ICD-10-CM J91.0 and
# R18.0 "code first" the malignancy, C78.2 secondary malignant neoplasm of pleura / C78.6 of
# retroperitoneum and peritoneum; CR A.4 pleura and peritoneum rows, both visceral): not
# "non-malignant" / "nonmalignant" / "paramalignant" effusion (no metastasis named). (fix-dz2)
# Written the other way round too, "Pleural effusion, malignant" / "Pleural effusion
# (malignant)", as problem lists write a finding then its kind (not "..., malignant cells
# absent": what cytology found; (rt22) nor "..., malignant-appearing / malignant features on
# CT": how it looks, as "Malignant-appearing pleural effusion" is no metastasis; (fix-dz3) but
# "..., malignant cells present / seen / identified" is what cytology found: a malignant effusion,
# metastatic, pleura; and "Ascites, malignant" is malignant ascites, the peritoneum). A malignant pericardial
# effusion is the same for the pericardium (ICD-10-CM I31.31 "malignant pericardial effusion
# in diseases classified elsewhere", code first the neoplasm: a secondary one of the heart /
# pericardium is C79.89, CR A.4 "ICD C77-C79"): metastatic, site "other" as C79.89 reads (the
# visceral list of CR A.4 does not name the pericardium). "Carcinomatous meningitis" is
# leptomeningeal metastasis (ICD-10-CM C79.32 secondary malignant neoplasm of cerebral
# meninges, CR A.4 brain row; tables.SITE_TEXT "mening": brain).
_EFFUSION_SITE = r"(?:pleural|pericardial)(?:\s+and\s+(?:pleural|pericardial))?"
_SECONDARY_TEXT = re.compile(r"secondary malignant|secondary (?:carcinoma|adenocarcinoma|neoplasm|deposits?)\b"
                             r"|metasta|\bmets\b|\bmbc\b|\bdistant (?:recurrence|relapse)s?\b(?!\s*(?:risk|rate|score)\b)"
                             r"|\bcarcinomatosis\b|\blymphangitis carcinomatosa\b|\bleptomeningeal (?:disease|involvement)\b"
                             r"|\bcarcinomatous meningitis\b"
                             rf"|(?<![a-z-])(?<!non )malignant (?:{_EFFUSION_SITE} effusions?|ascites)\b"
                             rf"|\b(?:{_EFFUSION_SITE} effusions?|ascites)\s*(?:,\s*|\(\s*|-\s*)malignant\b(?![\s-]*(?:cells?|appearing|looking|features?)\b)"
                             # (fix-dz3) the cytology's finding written so: malignant cells found
                             # (rt28) and in ascites ("Ascites, malignant cells present": the peritoneum)
                             rf"|\b(?:{_EFFUSION_SITE} effusions?|ascites)\s*(?:,\s*|\(\s*|-\s*|with\s+)malignant cells?\s+"
                             r"(?:(?:are|were|is|was)\s+)?(?:present|seen|identified|detected|found)\b")
# "stage IV" / "stage 4" (IVA-C) written in the breast-cancer Condition's own text, or a TNM
# distant-metastasis category M1 (M1a-c, clinical cM1 or pathological pM1): CR A.4 counts
# "TNM M1 (cM1/pM1) OR stage group IV" alike. The M category is read on its own ("cM1", "M1
# (bone)") and inside a TNM string written without spaces ("pT2N0M1", "T2N1aM0"), where no
# word boundary stands before the M (AJCC 8th edition TNM notation).
# _TNM_M_BEFORE: an M, with its optional prefix (c, p, yc, yp, rc, rp...), not inside a word:
# after no letter ("cM1", "pT2N0M1", "N0(i+)M1") or after an N category ending in a letter,
# N1a-N3c, NX (not assessed) or N1mi (micrometastases) ("T2N1aM0", "pT2NXM1", "pT1N1miM1").
# A c right after a number, a digit not ending a TNM category ("2.5 cm1", "12cm1"; not "N0 cM1"),
# is the unit centimetres, not the clinical prefix: _NOT_CM.
_NOT_CM = r"(?<![^a-z]\dc)(?<![^a-z]\d\sc)(?<!^\dc)(?<!^\d\sc)"
_TNM_M_BEFORE = rf"(?:(?<![a-z])|(?<=n[0-3][a-d])|(?<=nx)|(?<=n1mi))(?:y?r?p|y?r?c{_NOT_CM})?m"
_M1_TERM = _TNM_M_BEFORE + r"1[abc]?(?![a-z0-9])"
_M0_TERM = _TNM_M_BEFORE + r"0(?![a-z0-9])"
# "stage" with the AJCC 8th edition classification prefix written onto it: c (clinical), p
# (pathological), yc / yp (after neoadjuvant therapy), r / rc / rp (recurrence): "pStage IV",
# "ypStage IV", "rpStage IV" (AJCC Cancer Staging Manual 8th ed., ch. 1 staging rules)
_STAGE_WORD = r"\b(?:y?r?[cp]|y|r)?stage"
_STAGE4_TERM = rf"(?:{_STAGE_WORD}\s*(?:iv|4)[abc]?\b|{_M1_TERM})"
_STAGE4_WORDS = re.compile(_STAGE4_TERM)
_M0_WORDS = re.compile(_M0_TERM)
# "not stage IV", "no stage IV disease", "stage IV ruled out": the stage written as not there
# (condition-ver-status "refuted", as metastasis_negations reads a metastasis); "stage IV not
# (yet) excluded" / "cannot be ruled out" leaves it open (the still-open words), read by
# _stage4_reading as a suspicion
# The negation words are vocabulary negation_words ("no", "not", "denies", "absence of"...) and
# "non" ("non-stage IV"), then at most one word or "evidence of" ("no evidence of stage IV").
_STAGE4_NEGATED_BEFORE = re.compile(
    rf"\b(?:{T.VOCABULARY['negation_words']}|non)\b[\s-]*(?:evidence\s+of\s+|\w+\s+)?{_STAGE4_TERM}")
# "cannot exclude stage IV", "unable to exclude M1" (vocabulary cannot_exclude): open, read
# before the negation ("can not exclude stage IV" holds "not")
_STAGE4_CANNOT_EXCLUDE = re.compile(rf"\b{T.VOCABULARY['cannot_exclude']}\b[\s:-]*{_STAGE4_TERM}")
_STAGE4_RULED_OUT_AFTER = re.compile(
    rf"{_STAGE4_TERM}(?P<between>[^.;,|]{{0,25}}?)\b{T.VOCABULARY['ruled_out_words']}\b")
# "M1 not assessed", "M1: unknown", "cM1 (not evaluated)": the M category written as not
# assessed is no finding (AJCC 8th edition: MX is not a valid category, an M not assessed is no
# M1; CR A.4 counts a TNM M1 found): read as if not written, neither M1 nor M0
_STAGE4_NOT_ASSESSED = re.compile(
    rf"{_STAGE4_TERM}[\s:(-]*(?:status\s+)?(?:"
    r"(?:not\s+(?:yet\s+)?(?:assessed|evaluated|evaluable|determined|known)|cannot\s+be\s+assessed|unassessed)\b"
    # "unknown" only as the whole answer: "Stage IV - unknown primary site" is stage IV
    r"|unknown\b(?=\s*(?:$|[).;,|])))")
# "Stage IV, M1 not assessed", "Stage IV (M not assessed)", "Stage IV, MX": a stage group IV
# beside an M category written as not assessed contradicts itself (AJCC 8th edition: stage IV
# is any T any N M1; an M not assessed is no M1, MX is no valid category): neither stage IV nor
# an earlier stage, read as open (_stage4_reading) and quoted in the gap metastasis-unconfirmed
# (CR A.4 counts a stage IV or an M1 found); other evidence (a metastasis Condition, an M1)
# still makes the patient metastatic.
_M1_WORDS = re.compile(_M1_TERM)
# (ds7) "M1(i+)": AJCC 8th edition (breast) has cM0(i+), tumour cells <= 0.2 mm in blood or marrow
# with no clinical or radiographic metastasis (M0, not metastatic), and M1, distant metastasis
# detected; "(i+)" / "(i-)" after an M1 is no AJCC category, an M0(i+) or an M1 mistyped: which
# one the text does not say. Was read as M1 (MBC first-line cards); now open (_stage4_reading),
# the gap metastasis-unconfirmed quoting it (CR A.4 counts an M1 found)
_M1_ITC = re.compile(_M1_TERM + r"\s*\(\s*i\s*[+-]\s*\)")
_STAGE_GROUP4 = re.compile(_STAGE_WORD + r"\s*(?:iv|4)[abc]?\b")
_M_NOT_ASSESSED = re.compile(
    rf"{_TNM_M_BEFORE}x(?![a-z0-9])"
    rf"|{_TNM_M_BEFORE}(?:1[abc]?)?(?![a-z0-9])[\s:(-]*(?:category\s+|status\s+)?(?:"
    r"(?:not\s+(?:yet\s+)?(?:assessed|evaluated|evaluable|determined|known)|cannot\s+be\s+assessed|unassessed)\b"
    r"|unknown\b(?=\s*(?:$|[).;,|])))")
# "suspected stage IV", "possible stage IV", "? stage IV", "stage IV?", "likely M1": the stage
# itself written as a suspicion or as probable (condition-ver-status "unconfirmed" /
# "provisional", vocabulary suspicion_words / probable_words), not a diagnosis made (CR A.4).
# Only words right before the stage, or a "?" / suspicion word closing it, hedge it: "Stage IV
# breast cancer, suspected liver metastases" and "Stage IV (?bone)" assert the stage (the doubt
# is the site's).
# the words that doubt what they stand before (vocabulary suspicion_words / probable_words), one
# alternation for every reader of a doubt written so
_DOUBT_WORDS = f"{T.VOCABULARY['suspicion_words']}|{T.VOCABULARY['probable_words']}"
# the words that, closing a stage IV / M1 statement, doubt it
_STAGE4_DOUBT_AFTER = (f"{T.VOCABULARY['suspicion_words_after']}|{T.VOCABULARY['suspicion_words']}"
                       f"|{T.VOCABULARY['probable_words']}|{T.VOCABULARY['pending_words_after']}")
_STAGE4_HEDGED = re.compile(
    # before it: "suspected stage IV", "likely M1", "? stage IV"
    rf"(?:\b(?:{_DOUBT_WORDS})\b[\s:-]*|\?\s*){_STAGE4_TERM}"
    # right after it: "stage IV?", "stage IV suspected"
    rf"|{_STAGE4_TERM}\s*(?:\?|\b{T.VOCABULARY['suspicion_words_after']}\b)"
    # (rt71) and after the disease it names: "Stage IV disease?", "stage 4 cancer (?)" (was
    # asserted, MBC first-line cards, as "Stage IV?" is not)
    rf"|{_STAGE4_TERM}\s+(?:disease|cancer|carcinoma|malignancy)\s*\(?\s*\?"
    # a bracket right after it holding only the doubt: "stage IV (?)", "M1 (suspected)"
    rf"|{_STAGE4_TERM}\s*\(\s*(?:\?|\b{T.VOCABULARY['suspicion_words_after']}\b)\s*\)"
    # after a comma, dash or colon, or in a bracket, words that close it: "Stage IV, to be
    # confirmed", "Stage IV (pending biopsy)", "M1 - not confirmed", "Stage IV, presumed"
    # (vocabulary pending_words_after; the probable words, as before it). Only words that end
    # the clause: "Stage IV, suspected liver metastases" asserts the stage, the doubt is the site's
    # (ds5) and the suspicion words written before a mention ("Stage IV, possible", "M1 - query"
    # were asserted: FHIR R4 condition-ver-status unconfirmed)
    rf"|{_STAGE4_TERM}\s*[,:(-]?\s*\b(?:{_STAGE4_DOUBT_AFTER})\b(?=\s*(?:$|[).;,|]))"
    # (ds4) the same after a bracket naming its sites: "M1 (HEP)?", "Stage IV (bone), suspected"
    # (was asserted: the patient counted metastatic, the liver visceral); (rt64) a bracket
    # doubting one of its sites too ("Stage IV (bone, ?liver), possible", "M1 (OSS, ?HEP)?"),
    # read since ds5 (_staged_bracket_sites), was asserted with the bone counted
    rf"|{_STAGE4_TERM}\s*\([^()]*\)\s*[,:-]?\s*(?:\?|\b(?:{_STAGE4_DOUBT_AFTER})\b)(?=\s*(?:$|[).;,|]))"
    # (ds5) and after the one site written "only" ("Stage IV, bone only?", "Stage IV, bone only -
    # suspected": were asserted, the bone counted)
    rf"|{_STAGE4_TERM}\s*[,:-]?\s*[a-z]+[\s-]+only\s*[,:(-]?\s*(?:\?|\b(?:{_STAGE4_DOUBT_AFTER})\b)(?=\s*(?:$|[).;,|]))"
    # one of two: "Stage IV vs III", "cM1 vs cM0" (condition-ver-status "differential", one of
    # a set of possible diagnoses)
    rf"|{_STAGE4_TERM}\s*(?:\bvs\b\.?|\bversus\b)\s*(?:stage\s*)?(?:y?r?[cp])?(?:m[01]|0|iv|i{{1,3}}|[1-4])")

# A metastasis written as a suspicion ("suspected bone metastases", "r/o liver mets",
# "possible brain metastasis", "lung metastases?") is a diagnosis not yet made: FHIR R4
# condition-ver-status "unconfirmed"/"provisional", which codes.yaml
# unconfirmed_verification_status already keeps out of the metastatic evidence (CR A.4
# counts a SecondaryCancerCondition, a diagnosis made). Read the same way: a gap, not M1.
# One written as probable ("likely liver metastases", "presumed bone metastases", imaging
# "consistent with" metastases) is provisional too, unless the metastasis Condition is
# verificationStatus "confirmed" (build_disease). The words are in local_codes.yaml
# metastasis_hedges (tables.MET_*), with their sources.
# One written as unlikely ("metastasis unlikely", "low suspicion for metastases", "favoured
# benign") is weaker than a suspicion: never metastatic evidence, not a ruling out either;
# read as a suspicion whose gap quotes the words (local_codes.yaml unlikely_before/_after).
# A mention is hedged by words before it ("suspected bone metastases", "r/o liver mets",
# "? liver metastases") or by a hedge after it ("liver metastasis - suspected", "lung
# metastases?", "metastasis cannot be excluded"); the text is hedged only when every
# mention is ("bone metastases, possible liver mets" asserts the bone metastases).

# A hedge followed by one of these before the mention qualifies a change of known metastases
# ("suspected progression of bone metastases", "concern for growth of liver mets"), not
# their presence: the metastases are asserted.
_CHANGE_WORDS = re.compile(r"\b(progress\w*|worsen\w*|grow\w*|increas\w*|enlarg\w*|respon\w*)\b")
# The same for a hedge after the mention: "progression of bone metastases unlikely"
_CHANGE_OF = re.compile(_CHANGE_WORDS.pattern + r"\s+(of|in)\s+(the\s+)?(\w+\s+){0,2}$")


def _hedge_before(rx: re.Pattern[str], window: str) -> str | None:
    """The hedge words rx finds right before a mention (in window), unless they qualify a change."""
    m = rx.search(window)
    if m is None or _CHANGE_WORDS.search(m.group(0)):
        return None
    return m.group("words") or "?"


def _hedge_after(rx: re.Pattern[str], window: str, after: str) -> str | None:
    """The hedge words rx finds right after a mention, unless they qualify a change written
    before it ("progression of bone metastases unlikely")."""
    m = rx.match(after)
    return m.group("words") if m and not _CHANGE_OF.search(window) else None


# (rt81) a "?" right after the mention answered no ("Liver mets? no (biopsy proven)", "? No, biopsy
# proven"): a confirmation after the "no" does not confirm the metastasis asked (was counted,
# the liver visceral); the question read as one going on (MET_QUESTION_AFTER: asked)
_QUESTION_ANSWERED_NO_AFTER = re.compile(r"^\w*\s*\(?\s*\?+\s*\)?\s*[:-]?\s*(?:no|none|negative|absent)\b", re.I)


def _hedge_of(part: str, start: int, end: int) -> tuple[str, str] | None:
    """How the mention part[start:end] is hedged: ("unlikely", its words), ("probable", its
    words), ("suspected", its words) or ("quoted", its words: a suspicion the gap quotes);
    None when it is asserted. Unlikely words first
    ("likely benign", "low suspicion for"), then probable ones: "highly suspicious for" is
    probable, not "suspicious for"."""
    window, after = part[max(0, start - 45):start], part[end:]
    # (ds) a "?" or a suspicion / probable word on the last of the sites listed before the
    # mention doubts that site, not the metastases ("Bone and ?liver metastases", "Bone and
    # possible liver metastases": bone counted, the liver asked, _listed_doubts)
    listed = _LISTED_DOUBT_END.search(window)
    if listed and _is_site_word(listed.group("listed")) and _is_site_word(listed.group("site")):
        window = window[:listed.end("listed")] + " "
    words = _hedge_before(T.MET_UNLIKELY_BEFORE, window) or _hedge_after(T.MET_UNLIKELY_AFTER, window, after)
    if words is not None:
        return "unlikely", words
    # (rt28) pathology confirming it later in the clause ("Bone metastases - radiological
    # diagnosis, biopsy confirmed"): the probable words and doubts after it no longer hedge it
    clause_end = _CLAUSE_END.search(part, end)
    confirmed = (_last_confirmation(part, clause_end.start() if clause_end else len(part)) >= end
                 and not _QUESTION_ANSWERED_NO_AFTER.match(after))
    words = _hedge_before(T.MET_PROBABLE_BEFORE, window) or (
        None if confirmed else _hedge_after(T.MET_PROBABLE_AFTER, window, after))
    if words is None and _imaging_only(_clause(part, start, end)):
        # "CT: consistent with liver metastases": an imaging impression, not pathology's
        words = _hedge_before(T.MET_IMAGING_ONLY_BEFORE, window)
    if words is not None:
        return "probable", words
    words = _hedge_before(T.MET_SUSPICION_BEFORE, window) or _hedge_after(T.MET_SUSPICION_AFTER, window, after)
    if words is None and (own := _QUESTION_CLOSES_OWN_SITE.match(after)) and _only_sites(own.group("sites")):
        # (ds4) a "?" closing the clause right after the mention's own site ("Metastatic to
        # bone?", "Metastatic breast cancer to the liver ?", "Metastases to bone (?)"): the
        # question is whether it spread there, the metastasis itself (rt50/rt55 counted it and
        # asked only the site; FHIR R4 condition-ver-status unconfirmed, CR A.4 counts a
        # diagnosis made). A "?" after a comma list ("to bone, liver?") still doubts its last site
        words = "?"
    if (words is None and not confirmed and (own := _OWN_SITE_BEFORE_QUESTION.match(after))
            and _only_sites(own.group("sites"))):
        # (ds5) the same "?" after the mention's own site with the clause going on ("Metastatic
        # to brain? MRI pending", "to bone? - biopsy booked"): a question going on, as "Brain
        # mets? - MRI booked" is (MET_QUESTION_AFTER: not a question of its course, treatment,
        # site or date, nor answered yes); the brain was counted (FHIR R4 condition-ver-status
        # unconfirmed; CR A.4 counts a diagnosis made). (rt64) Not when pathology answers it in
        # the clause ("Metastatic to bone? biopsy proven"), as "Bone mets? biopsy proven" (rt28)
        going_on = T.MET_QUESTION_AFTER.match(after[own.end():])
        if going_on is not None:
            return "quoted", going_on.group("words").strip()
    if words is None and (whole := _DOUBTED_SITE_LIST_END.search(window)) and _only_sites(whole.group("sites")):
        # (ds) a "?" before a list of sites before the mention ("?Bone and liver metastases"):
        # the whole list doubted, as "?bone metastases" is (was read as asserted)
        words = "?"
    if words is not None:
        return "suspected", words
    # (fix-dz3) a suspicion the gap quotes: the confirming test pending ("- awaiting biopsy"),
    # a question going on ("? biopsy planned"), one of two diagnoses ("or hemangioma"; (fix-dz4)
    # "?hemangioma", "/hemangioma")
    # (a confirmation after one of two diagnoses does not say which it confirmed: "Liver
    # metastasis or hemangioma, biopsy proven" stays a differential)
    words = (None if confirmed else _hedge_after(T.MET_PENDING_AFTER, window, after)
             or _hedge_after(T.MET_QUESTION_AFTER, window, after)) or _differential_or(window, after) \
        or _hedge_after(T.MET_DIFFERENTIAL_QUESTION_AFTER, window, after)
    return ("quoted", words.strip()) if words is not None else None


# (ds4) the rest of the mention's word, "breast cancer" / "disease" after it and its own site(s)
# ("to bone", "to the liver and lungs"); (rt61) a site of several words too ("to lymph nodes?",
# "to the left lung?", "to both lungs?": were counted metastatic, only the site asked), each
# word a site or a link (_only_sites)
_OWN_SITE = (r"^\w*(?:\s+(?:breast\s+)?(?:cancer|carcinoma|ca|disease))?\s+(?:to|of|in)\s+(?:the\s+)?"
             r"(?P<sites>[a-z-]+(?:\s*&?\s+[a-z-]+){0,5})")
# (ds4) _OWN_SITE and a "?" closing the clause or the text
_QUESTION_CLOSES_OWN_SITE = re.compile(
    _OWN_SITE + r"\s*\(?\s*\?+\s*\)?"
    # the end of the clause, or a "no" with more said after it ("Metastatic to bone? no,
    # responding": asked, not counted); (ds7) a "no" closing the clause is the question answered,
    # read by _as_answered before this ("Metastatic to bone? No.": no bone metastasis)
    r"\s*(?=$|[.;|]|(?:[:-]\s*)?(?:no|none|negative|absent)\b)", re.I)


# (ds5) _QUESTION_CLOSES_OWN_SITE's own site up to its "?", the clause going on after it
_OWN_SITE_BEFORE_QUESTION = re.compile(_OWN_SITE + r"(?=\s*\(?\s*\?)", re.I)


# (ds7) A template's metastasis question answered no, the answer closing its clause: "Metastatic
# to liver? no", "Liver mets? No.", "Metastatic to liver: no", and answered with the site it is
# instead, "Metastatic to liver? no, bone only" / "...? no; bone only". The answer closes the
# asked site (FHIR R4 condition-ver-status refuted: no site, nothing to ask) and the site written
# "only" after it is where the metastases are (counted; visceral or not per CR A.4). Each reader
# of a metastasis text reads it as answered (_as_answered), so none of them reads the "?" as a
# doubt ("Metastatic status unclear", the liver asked) or the other site as the asked one. A
# question with no answer ("Metastatic to liver?"), answered otherwise ("? - see MRI") or with
# more said after the "no" ("? no, responding") is not an answered no: read as before.
_ANSWERED_NO = re.compile(
    # (rt71) the em dash too: "Metastatic to liver \u2014 no" counted the liver, "\u2013 no" did not
    # (rt71) "none seen / identified / found / detected" the same answer ("Metastases: none seen"
    # counted metastatic disease, first-line cards), and the site instead after a dash too
    # ("? no - bone only" asked the liver)
    r"(?<=[a-z])\s*\(?\s*(?:\?+\s*\)?\s*[:-]?|:|\s[-\u2013\u2014])\s*"
    r"(?:no|none(?:\s+(?:seen|identified|found|detected)(?:\s+on\s+(?:ct|mri|pet(?:[ /-]?ct)?|imaging|bone scan|scans?))?)?"
    r"|negative|absent)\b\.?(?P<answer_end>)"
    # (ds11) and the site instead without "only" ("Metastatic to liver? no, bone": read as the
    # liver doubted, nothing counted; a clinician reads not liver, bone): the same answer when
    # the words after the "no," are sites and nothing else (_only_sites, checked by _as_answered)
    r"(?:(?:\s*[,;]\s*|\s+[-\u2013\u2014]\s+)(?P<other>[a-z][a-z &,-]*?)(?P<only>[\s-]+only\b)?\.?)?"
    r"(?=\s*(?:$|[.;|]))")
_CLAUSE_CLOSES = re.compile(r"\s*(?:$|[.;|])")
# (rt71) a metastasis answered no after a colon or dash and sent elsewhere for the rest
# ("Metastatic disease: No (see note)", "Metastatic to liver: no, see MRI"): counted (MBC
# first-line cards) while "Metastatic to liver? no, see MRI" is asked (ds7 guard): the separator
# read as the "?" of that question form (_as_answered), asked, not counted (CR A.4 counts a
# metastasis made)
_ANSWERED_NO_SEE_ELSEWHERE = re.compile(
    # and one with a test still awaited ("Metastases - none seen on CT, bone scan pending": counted)
    r"(?<=[a-z])\s*(?::|\s[-\u2013\u2014])\s*(?=(?:no|none)(?:\s+(?:seen|identified|found|detected)(?:\s+on\s+[a-z/ -]{1,20}?)?)?"
    r"\s*(?:,|\(|\s[-\u2013\u2014])\s*(?:see|per|refer|[a-z/ -]{0,25}?\b(?:pending|awaited|planned)\b))")


def _answered(reader: Callable[..., Any]) -> Callable[..., Any]:
    """The reader reads a metastasis text as its questions are answered (_as_answered). (rt71)
    Put under the reader's lru_cache, so that a text read before costs one cache look-up, not
    the rewrite's look-up too (the readers are called for every Condition on every call)."""
    @wraps(reader)
    def read(text: str, *args: Any, **kwargs: Any) -> Any:
        return reader(_as_answered(text) if text else text, *args, **kwargs)
    return read


@lru_cache(maxsize=4096)
def _as_answered(text: str) -> str:
    """text with each metastasis question answered no written as the answer reads, the asked
    comma piece negated: "metastatic to liver? no" -> "no metastatic to liver", "liver mets? no,
    bone only" -> "no liver mets; metastatic to bone only", "bone metastases, liver? no" -> "bone
    metastases, no liver" (_ANSWERED_NO). Only after a metastasis mention in the same clause; a
    site written after the answer, "only" or not ("? no, bone" as "? no, bone only", ds11), names
    sites and nothing else (_only_sites), else the text is left as written. (rt71) A "no" after a colon or dash sent elsewhere ("metastatic
    disease: no (see note)") is first written as the question form "? no (see note)" (asked).
    """
    if "(" in text or "[" in text:
        text = _scan_brackets_listed(text)
    if _FIELD_ANSWER_WORD.search(text):  # (ds13) a field answered no / y / n / "?" too
        text = _as_answered_yes(text)
    if "no" not in text and "negative" not in text and "absent" not in text:
        return text
    for m in reversed(list(_ANSWERED_NO_SEE_ELSEWHERE.finditer(text))):
        clause_start = max(text.rfind(c, 0, m.start()) for c in ".;|") + 1
        if _SECONDARY_TEXT.search(text, clause_start, m.start()):
            text = f"{text[:m.start()]}? {text[m.end():]}"
    for m in reversed(list(_ANSWERED_NO.finditer(text))):
        clause_start = max(text.rfind(c, 0, m.start()) for c in ".;|") + 1
        if not _SECONDARY_TEXT.search(text, clause_start, m.start()):
            continue
        other, end = m.group("other"), m.end()
        # (ds11) or sites with their metastasis word ("? no, bone mets": both sites were asked)
        mention = _SECONDARY_TEXT.search(other) if other is not None and not _only_sites(other) else None
        written = (mention is not None and not re.sub(r"^\w*", "", other[mention.end():]).strip()
                   and _only_sites(other[:mention.start()]))
        if other is not None and not _only_sites(other) and not written:
            if not _CLAUSE_CLOSES.match(text, m.end("answer_end")):
                continue
            # (ds11) the answer closes its clause, the next clause is not a site list ("liver? no;
            # metastatic to bone", ds8's yes written so): the answer alone, as before "only" was optional
            other, end = None, m.end("answer_end")
        piece_start = max(clause_start, text.rfind(",", clause_start, m.start()) + 1)
        asked = text[piece_start:m.start()].strip()
        if other is not None and _sites_named(asked) & _sites_named(other):
            # (rt71) "Metastatic to bone? no, bone and liver only": the answer rules out the site
            # it then names (ds7 counted both): left as written, asked
            if written:
                # (ds12) and with its metastasis word ("Metastatic to liver? no, liver mets",
                # "Liver mets? no, liver and bone mets"): the word is a mention of its own, read
                # asserted (the liver counted: visceral, CR A.4) though the answer denies it. The
                # answer contradicts itself: read without the word, as "? no, liver": asked
                text = f"{text[:m.start('other')]}{other[:mention.start()].strip()}{text[m.end('other'):]}"
            continue
        lead = " " if piece_start > 0 else ""
        then = ("" if other is None else f"; {'' if written else 'metastatic to '}{other.strip()}"
                f"{' only' if m.group('only') else ''}")
        text = f"{text[:piece_start]}{lead}no {asked}{then}{text[end:]}"
    return text


# the scans a site field, a cleared site or a scan bracket names ("bone? yes (CT)", "CT: liver clear",
# "liver clear (MRI)"): one list for their readers
_SCAN_WORDS = r"ct|mri|pet(?:[-/ ]?ct)?|us|ultrasound|imaging|scans?"
# (ds14) the scan written before or after a site field's site ("CT liver: clear", "Brain MRI: no"),
# after it with the date it was done ("Brain MRI 2020: no", "Brain MRI (03/2020): no")
_SCAN_BEFORE_SITE = rf"(?:(?:{_SCAN_WORDS})\s+)?"
_SCAN_AFTER_SITE = rf"(?:\s+(?:{_SCAN_WORDS})(?:\s+[\d/.-]+|\s*\(\s*[\d/.-]+\s*\))?)?"

# (ds8) a template's site question answered, its clause nothing else: "bone? yes", "to bone? yes",
# "liver? No." (the clause the "?" asks, the answer after it); (ds12) or after a colon or dash,
# a template's field ("Metastatic to liver? No. Bone: yes" was read as nothing: the bone dropped)
# (rt84) the answer followed by the scan or date that found it in a bracket, as _SCAN_BRACKET
# reads one ("bone? yes (CT)": the field unread, the liver answered no before it counted, the
# bone dropped)
# (ds13) a template's fields on a Condition coded as a metastasis, or under a heading naming
# metastases ("Metastases: liver: no, bone: yes", "Sites: bone (yes), liver (no)", "bone: y;
# liver: n", "lung: ?"): the answer also in a bracket, as y / n, or a "?" left for it (the field
# asked: a doubt, not counted)
_SITE_QUESTION_ANSWERED = re.compile(
    r"^\s*(?:(?P<heading>[a-z][a-z ]{0,30}?)\s*:\s*(?=[a-z][a-z &/-]*?\s*(?:\?|:|\s[-\u2013\u2014]|\(\s*(?:yes|no|y|n)\s*\))))?"
    # (ds14) or the scan that looked at the site, before or after it ("Brain MRI: no", "CT liver:
    # clear", "Bone scan: negative"): the field is the site's, read as "Brain: no" (was the brain
    # counted, visceral, CR A.4, C.1, its answer no unread); its result words negative / clear /
    # positive answer it no / no / yes (HL7 v3 ObservationInterpretation NEG / POS)
    rf"(?:to\s+(?:the\s+)?)?{_SCAN_BEFORE_SITE}(?P<sites>[a-z][a-z &/-]*?){_SCAN_AFTER_SITE}"
    r"\s*(?:(?:\?+\s*[:-]?|:|\s[-\u2013\u2014])\s*"
    r"(?:(?P<answer>(?:yes|no|y|n|negative|clear|positive)\b|\?+(?=\s*$))"
    # (ds13) or a doubt for its answer ("Metastases: Bone - probable" counted the bone, "Bone -
    # probable" read as nothing): asked, as a "?" left for it (suspicion_words, probable_words:
    # FHIR R4 condition-ver-status unconfirmed / provisional)
    rf"|(?P<hedged>\b(?:{_DOUBT_WORDS}))\b)"
    r"|\(\s*(?P<bracketed>yes|no|y|n)\s*\))(?P<doubt>\s*\?+)?"
    rf"(?:\s*[(\[]\s*(?:(?:{_SCAN_WORDS}|bone scan)"
    r"(?:\s+[\d/-]+)?|[\d/-]+)\s*[)\]])?\s*$")


# (ds13) a heading that is a plain label of metastases, asking of them ("Metastases:", "Mets:",
# "Metastatic sites:"); not one doubting, ruling out or dating them ("Suspected metastases:",
# "No metastases:", "History of metastases:": read as before, the fields asked) nor a work-up's
_METASTASIS_HEADING = re.compile(r"^\s*(?:metastas[ie]s|mets|metastatic (?:sites?|disease)|sites? of metastas[ie]s)\s*$")


def _field_answer(m: re.Match[str]) -> str:
    """yes, no or ? (left unanswered or doubted: "lung: ?", "bone: yes?") of a site field."""
    answer = m.group("answer") or m.group("bracketed") or "?"
    if answer.startswith("?") or m.group("doubt"):
        return "?"
    return {"y": "yes", "n": "no", "negative": "no", "clear": "no", "positive": "yes"}.get(answer, answer)
_CLAUSE_SPLIT = re.compile(r"([.;])")
# (ds13) a text that is a site doubted before it and nothing else ("possible liver" coded
# 128462008 counted the liver, visceral; "?liver" so coded is asked): read as the field "liver: ?"
_DOUBTED_SITE_BEFORE = re.compile(
    rf"^\s*(?P<hedged>\b(?:{_DOUBT_WORDS}))\s+"
    r"(?P<sites>[a-z][a-z &/-]*?)\s*$"
    # the groups of _SITE_QUESTION_ANSWERED, never set here (read by _field_answer)
    r"(?P<heading>(?!x)x)?(?P<answer>(?!x)x)?(?P<bracketed>(?!x)x)?(?P<doubt>(?!x)x)?")
_FIELD_ANSWER_WORD = re.compile(rf"(?:^|\|)\s*\b(?:{_DOUBT_WORDS})\s+[a-z]|"
r"\b(?:yes|no|y|n|negative|clear|positive)\b|[:(-]\s*\?|[:?\u2013\u2014-]\s*\b(?:"
                                rf"{_DOUBT_WORDS})\b")
_FIELD_SPLIT = re.compile(r"([.;,])")


def _as_answered_yes(text: str) -> str:
    """(ds8) text with each site question answered yes written as the site it asserts, in a
    metastasis template whose questions name no metastasis after the first: "metastatic to liver?
    no; to bone? yes" / "metastases: liver? no; bone? yes" / "liver mets? no; bone? yes" ->
    "...; metastatic to bone" (counted: CR A.4 counts a metastasis the clinician writes made; was
    "Metastatic disease not documented", nothing asked). Only after a clause asking of a metastasis
    (_SECONDARY_TEXT and a "?") in the same part. Site questions with no metastasis named in the
    part, two or more ("Liver? No; bone? yes": of what, the record does not say), are written as the question
    "metastatic to bone?": asked (Metastatic status unclear), not counted, never read as nothing."""
    parts = text.split(" | ")
    for i, part in enumerate(parts):
        if not _FIELD_ANSWER_WORD.search(part):
            continue
        # (ds12) a comma ends a template's field too: "Metastases: liver? no, bone? yes" counted
        # the liver (the "no" unread: the answer did not close its clause) and dropped the bone;
        # "Metastatic to liver? No. Bone: yes, lung: no" read as nothing
        pieces = _FIELD_SPLIT.split(part)
        clauses = pieces[0::2]
        answered = [_SITE_QUESTION_ANSWERED.match(c) for c in clauses]
        answered = [m if m is not None and _only_sites(m.group("sites")) else None for m in answered]
        doubted = [_DOUBTED_SITE_BEFORE.match(c) if m is None else None for m, c in zip(answered, clauses)]
        if any(d is not None and _only_sites(d.group("sites")) for d in doubted) and all(
                m is not None or (d is not None and _only_sites(d.group("sites"))) or not c.strip()
                for m, d, c in zip(answered, doubted, clauses)):
            # a site doubted before it among fields only ("possible liver"): read as one
            answered = [m or d for m, d in zip(answered, doubted)]
        # two site questions or more and nothing else: a template's list of sites ("Bone? yes"
        # alone could ask anything)
        templated = (sum(m is not None for m in answered) > 1
                     and all(m is not None or not c.strip() for m, c in zip(answered, clauses)))
        # (ds13) the fields asked of a metastasis: under a heading naming metastases ("Metastases:
        # liver: no, bone: yes"), or a template of fields on a Condition coded as a metastasis, its
        # display naming it in another part ("Liver: no. Bone: yes | secondary malignant neoplastic
        # disease": read metastatic status unknown, the bone asked, since ds12 762b642; a coded
        # 128462008 "Liver: no, bone: yes, lung: ?" counted the liver, the first site written). The
        # code says of what: the bone counted, the liver not (CR A.2 metastatic disease documented,
        # A.4 visceral sites); a field left "?" or doubted ("bone: yes?") asked, not counted
        # (a single field too: "Liver: no" so coded counted the liver, visceral)
        fields_only = any(m is not None for m in answered) and all(
            m is not None or not c.strip() for m, c in zip(answered, clauses))
        of_metastasis = fields_only and not _SECONDARY_TEXT.search(part) and any(
            _SECONDARY_TEXT.search(other) for k, other in enumerate(parts) if k != i)
        if not any(m is not None and (_field_answer(m) != "no" or of_metastasis) for m in answered):
            continue
        asked_of_metastasis = metastasis_written = False
        for j, (m, clause) in enumerate(zip(answered, clauses)):
            if m is not None and (of_metastasis or (m.group("heading") and _METASTASIS_HEADING.match(m.group("heading")))):
                asked_of_metastasis = True
                _write_field(pieces, j, m)
                metastasis_written = True
                continue
            if m is not None and _field_answer(m) != "yes" and (asked_of_metastasis or templated or metastasis_written
                                                                 or m.group("hedged")):
                # a field left "?" or doubted: asked; one answered no in a bracket or as "n"
                # ("liver (no)"): written as the plain field, not left a site listed
                if _field_answer(m) == "?" or m.group("bracketed") or m.group("answer") == "n":
                    _write_field(pieces, j, m)
                continue
            if m is not None and _field_answer(m) == "yes" and not _SECONDARY_TEXT.search(clause):
                if asked_of_metastasis or templated or metastasis_written:
                    _close_field_before(pieces, j)
                if asked_of_metastasis:
                    pieces[2 * j] = f" metastatic to {m.group('sites').strip()}"
                elif templated or metastasis_written:
                    # (ds9) or after a metastasis written, not asked ("No metastases. Bone? yes":
                    # read "Metastatic disease not documented", the bone dropped): the text says
                    # no and yes, asked (Metastatic status unclear), not counted (CR A.4)
                    pieces[2 * j] = f" metastatic to {m.group('sites').strip()}?"
            asked_of_metastasis = asked_of_metastasis or ("?" in clause and bool(_SECONDARY_TEXT.search(clause)))
            metastasis_written = metastasis_written or bool(_SECONDARY_TEXT.search(clause))
        parts[i] = "".join(pieces).strip()
    return " | ".join(parts)


def _close_field_before(pieces: list[str], j: int) -> None:
    """The field pieces[2 * j] rewritten closes the one before it ("liver? no;"): a comma between
    them (_FIELD_SPLIT) becomes a semicolon."""
    if j and pieces[2 * j - 1] == ",":
        pieces[2 * j - 1] = ";"


def _write_field(pieces: list[str], j: int, m: re.Match[str]) -> None:
    """The site field pieces[2 * j] (m) written as the metastasis it answers: "metastatic to bone",
    "no metastatic to bone", or asked "metastatic to bone?" (_field_answer), closing the one before."""
    _close_field_before(pieces, j)
    answer = _field_answer(m)
    pieces[2 * j] = f" {'no ' if answer == 'no' else ''}metastatic to {m.group('sites').strip()}{'?' if answer == '?' else ''}"


# "bone and ?liver " / "bone, ?liver " / "bone + ?liver " / "bone and possible liver " at the end
# of the words before a mention: the site joined to the list is doubted (_hedge_of, _listed_doubts)
_LISTED_DOUBT_END = re.compile(rf"\b(?P<listed>[a-z-]+)\s*(?:,|\band\b|&|\+|/)\s*(?P<doubt>\?+|\b(?:"
                               rf"{_DOUBT_WORDS})\b)\s*"
                               r"(?P<site>[a-z-]+)\s*$", re.I)
# "?bone and liver " at the end of the words before a mention: the "?" opens the list
_DOUBTED_SITE_LIST_END = re.compile(r"(?:^|[\s(,;:])\?+\s*(?P<sites>[^?.;|,()]+)$")


@lru_cache(maxsize=4096)  # (lt2) asked again for the same words by each mention of a clause
def _is_site_word(word: str) -> bool:
    return any(rx.search(word.lower()) for rx, _ in T.SITE_TEXT)


_LISTED_DOUBT_ROOM = 200


def _listed_doubts(clause: str, mention_at: int) -> tuple[tuple[int, int, str], ...]:
    """(start, end, the words) of a site doubted by a "?" as the last of the sites listed
    right before the mention in its clause ("Bone and ?liver metastases", "Bone, ?liver
    metastases": "?liver"): not counted (_text_site_list) but asked (_doubted_sites), as
    "Bone metastases, ?liver"."""
    # (lt2) searched in the 200 characters before the mention (the pattern ends at the mention:
    # a site list's last words), not from the clause's start for each mention (the square of a
    # clause's mentions); `pos` keeps the word boundary before the window as the whole clause has it
    m = _LISTED_DOUBT_END.search(clause, max(0, mention_at - _LISTED_DOUBT_ROOM), mention_at)
    if m is None or not (_is_site_word(m.group("listed")) and _is_site_word(m.group("site"))):
        return ()
    return ((m.start("doubt"), m.end("site"), clause[m.start("doubt"):m.end("site")]),)


# a site named as a finding of its own: "liver lesions", "indeterminate lung nodules", "liver
# cysts", "liver lesion (indeterminate)", "lung: nodule 4 mm, indeterminate" (ds2); benign when a cyst / haemangioma or written benign
_SITE_FINDING = re.compile(
    r"(?P<pre>(?:\b(?:benign|indeterminate|equivocal|non-?specific|possible|small|tiny|subcentimet(?:re|er)|calcified)\s+)*)"
    r"\b(?P<site>[a-z-]+)(?:\s*:\s*|\s+)(?P<finding>lesions?|nodules?|cysts?|ha?emangiomas?|granulomas?|foc(?:us|i)|opacit(?:y|ies))\b"
    r"(?P<post>(?:\s+\d+(?:\.\d+)?\s*(?:mm|cm)\b)?\s*[,(:-]?\s*(?:indeterminate|equivocal|benign|non-?specific)\b\)?)?", re.I)
# (rt44) a granuloma too ("calcified lung granulomas"), as coded_text_against reads it
_BENIGN_FINDING = re.compile(r"\b(?:benign|cysts?|ha?emangiomas?|granulomas?)\b", re.I)


@lru_cache(maxsize=1024)
def _every_site_finding(clause: str) -> tuple[re.Match[str], ...]:
    return tuple(_SITE_FINDING.finditer(clause))


def _site_findings_from(clause: str, pos: int) -> Any:
    """_SITE_FINDING.finditer(clause, pos), from one scan of the clause shared by its mentions
    (lt2: a scan from each mention's end was the square of a clause's mentions). The scan from
    the clause's start tries each position the scan from pos tries, in the same state, unless a
    match of it runs across pos: then the clause is scanned from pos."""
    every = _every_site_finding(clause)
    if any(f.start() < pos < f.end() for f in every):
        return _SITE_FINDING.finditer(clause, pos)
    return [f for f in every if f.start() >= pos]


def _site_findings(clause: str, mention_end: int) -> list[tuple[int, int, str, bool]]:
    """(start, end, the words, benign) of each site the clause names after the mention, and after
    a site named before, as a finding of its own (_SITE_FINDING: "Bone metastases and liver lesions", "... with
    indeterminate lung nodules", "... and benign liver cysts"): a lesion or nodule is not a
    metastasis said (not counted: asked, FHIR R4 condition-ver-status unconfirmed), a cyst or
    haemangioma another diagnosis (no site)."""
    found = []
    for f in _site_findings_from(clause, mention_end):
        # only beside a site the metastases are written at: "Metastatic disease with liver
        # lesions" writes where the metastases are
        if _is_site_word(f.group("site")) and _is_site_word(clause[:f.start()]):
            words = f.group(0).strip(" ,:-")
            # (rt44) a finding written as not there ("Bone metastases, no liver lesions") is no
            # site either, as a benign one (was asked as a doubted liver)
            no_site = bool(_BENIGN_FINDING.search(f.group(0))
                           or _NOT_THERE_BEFORE.search(clause[max(0, f.start() - 25):f.start()]))
            found.append((f.start(), f.end(), words, no_site))
    return found


def _differential_or(window: str, after: str) -> str | None:
    """'or <other>' right after a mention when <other> is another diagnosis ("Liver metastasis
    or hemangioma": condition-ver-status 'differential'), not more sites or metastases ("bone
    metastases or liver", "liver metastases or lung metastases": metastatic either way)."""
    m = T.MET_DIFFERENTIAL_OR_AFTER.match(after)
    if m is None or _CHANGE_OF.search(window):
        return None
    other = m.group("other")
    if _only_sites(other) or _SECONDARY_TEXT.search(other) or _OR_THE_SAME_DISEASE.match(other):
        return None
    # (rt28) metastatic involvement of another site ("Bone mets or marrow infiltration", "Lung
    # metastases or lymphangitic spread", "Brain mets or leptomeningeal spread"): metastatic
    # either way, as "or liver"; not nodes (regional nodes are no metastasis: AJCC 8th N vs M)
    sites = _INVOLVEMENT_WORDS.sub(" ", other)
    if sites != other and _only_sites(sites) and not T.SITE_TEXT[0][0].search(sites):
        return None
    return f"or {other}"


# (rt28) what "or" joins to a metastasis that is the same disease either way: more of it
# ("Liver metastases or both", "Bone metastases or progression"), or metastatic involvement of
# a site (_differential_or)
_OR_THE_SAME_DISEASE = re.compile(r"(?:both|progress\w*)\b")
_INVOLVEMENT_WORDS = re.compile(r"\b(?:disease|deposits?|lesions?|spread|involvement|infiltrat\w*|infiltrates?)\b")


# the end of a clause: ".", ";" or the " | " between joined texts
_CLAUSE_END = re.compile(r"[.;|]")


def _clause(part: str, start: int, end: int) -> str:
    """The clause of part[start:end]: between the nearest ".", ";" or "|" on either side; after
    it, a "." or ";" inside a bracket opened after the mention does not end it ("Bone metastases
    (liver: cyst; lung: nodule 4 mm, indeterminate)": the bracket is the mention's, ds2)."""
    # the nearest clause end before the mention, searched back from it (lt1: a scan from the
    # start of the part for each mention was quadratic in a long text)
    before = max(part.rfind(".", 0, start), part.rfind(";", 0, start), part.rfind("|", 0, start)) + 1
    stop = len(part)
    for m in _CLAUSE_END.finditer(part, end):
        between = part[end:m.start()]
        if m.group(0) == "|" or between.count("(") <= between.count(")"):
            stop = m.start()
            break
    return part[before:stop]


# (lt2) Where a pathology confirmation (MET_CONFIRMED_AFTER) starts, each place found once: a
# search of the rest of the clause for each mention was quadratic in a clause of many mentions
# (2,000 characters of "mets ": 80 ms)
_CONFIRMATION_STARTS = re.compile(f"(?=(?:{T.MET_CONFIRMED_AFTER.pattern}))", T.MET_CONFIRMED_AFTER.flags)


@lru_cache(maxsize=4096)
def _last_confirmation(part: str, stop: int) -> int:
    """Where the last confirmation in the clause ending at part[stop] starts (-1: none), so that
    a mention ending at `end` in that clause is confirmed after it when this is >= end (one scan
    of the clause for all its mentions; the confirmation ends by the clause's end, as the search
    of the clause's rest did)."""
    begin = max(part.rfind(".", 0, stop), part.rfind(";", 0, stop), part.rfind("|", 0, stop)) + 1
    last = -1
    for m in _CONFIRMATION_STARTS.finditer(part, begin, stop):
        last = m.start()
    return last


@lru_cache(maxsize=4096)  # (lt2) one clause's answer shared by its mentions (was one scan each)
def _imaging_only(clause: str) -> bool:
    """The clause names imaging and no pathology: "consistent with" there is an imaging
    impression. Naming neither (or both), it may be a pathology report's confirmation."""
    return bool(T.MET_IMAGING_WORDS.search(clause)) and not T.MET_PATHOLOGY_WORDS.search(clause)


@lru_cache(maxsize=4096)
@_answered
def _hedge_reading(text: str) -> tuple[str, str]:
    """("hedged", the unlikely words or ""), ("probable", the words), or ("asserted", ""): how
    the clinician's text or a display writes metastatic disease. In one of the " | "-joined
    parts (cc_text) every mention it does not refute is hedged: a suspicion or an unlikely one ("hedged") if no
    mention is hedged as probable, else "probable" (a confirmed verificationStatus confirms
    those). A code's display ("Secondary malignant neoplasm of liver") never unhedges what
    the text beside it says."""
    probable: list[str] = []
    for part in text.split(" | "):
        # a mention the text refutes says nothing either way: the others decide
        hedges = [m.hedge for m in _mentions(part) if m.refuted is None]
        if not hedges or not all(hedges):
            continue
        words = [h[1] for h in hedges if h and h[0] == "probable"]
        if not words:
            return "hedged", ", ".join(dict.fromkeys(h[1] for h in hedges if h and h[0] in ("unlikely", "quoted", "unclear")))
        probable += [w for w in words if w not in probable]
    return ("probable", ", ".join(probable)) if probable else ("asserted", "")


# A mention refuted by the words written for it (FHIR R4 condition-ver-status "refuted"; words
# in local_codes.yaml metastasis_negations, with their source): "no liver metastases", "liver
# metastasis ruled out". Each mention is read on its own, as the hedges: "Bone metastases;
# liver metastasis ruled out" refutes the liver metastasis only, and the bone metastases stay.
# Not a negation of their presence: a change of known metastases ("no change in liver
# metastases", as _CHANGE_WORDS for the hedges), or something else for them ("no chemotherapy
# for metastatic disease"; "no evidence for metastases" is one).
_NOT_PRESENCE = re.compile(r"\bchang\w*\b|\b(?!evidence\b)\w+\s+for\b")
# after a mention refuted by the words before it, "or"/"nor" and up to three words carry the
# negation to the next mention: "no bone metastases or liver metastases"
_NEGATION_GOES_ON = re.compile(r"^\w*\s+n?or\s+(\w+\s+){0,3}$")
# the end of a comma piece (a clause end or a comma; " | " joins parts, which are read apart)
_PIECE_END = re.compile(r"[.;,]")


class _Mention(NamedTuple):
    start: int
    end: int
    hedge: tuple[str, str] | None  # _hedge_of
    refuted: tuple[int, int] | None  # the span of the mention with the words that refute it


def _own_end(part: str, end: int) -> int:
    """The end of the rest of a mention's word and the site it names after it ("metastasis to
    liver"), from the mention's end."""
    own = T.MET_OWN_SITE.match(part, end)
    return own.end() if own else end


# how far past a mention's start the negation words' lookaheads may read (MET_NEGATION_BEFORE:
# "non" before "metastatic", "not" before "ruled", "risk of" before "developing distant")
_LOOKAHEAD_ROOM = 200


def _refuted_before(part: str, since: int, start: int) -> int | None:
    """Where the negation written for the mention at part[start] starts, when the last
    negation words before it (after the previous mention, which ends at since) refute it:
    at most 30 characters before it in its clause ("no evidence of liver metastasis"), or
    before a list of sites ("no hepatic, osseous or pulmonary metastases"); else None."""
    # (lt1) the scan stops a little after the mention (room for the words' lookaheads, "non"
    # before "metastatic"), not at the end of the text: a scan to the end for each mention was
    # quadratic in a long text (a 40 kB text blocked a worker for 40 s)
    hits = [h for h in T.MET_NEGATION_BEFORE.finditer(part, max(since, start - 80), start + _LOOKAHEAD_ROOM)
            if h.end() <= start]
    if not hits:
        return None
    between = part[hits[-1].end():start]
    if between.count(")") + between.count("]") > between.count("(") + between.count("["):
        # (ds11) the negation is inside a bracket closed before the mention: "Bone metastases (no
        # liver), lung metastases" dropped the lung (a visceral site: bone-only read) as if the
        # "no" were written for it
        return None
    *listed, last = between.split(",")
    if len(last) > 30 or any(rx.search(between) for rx in (_CLAUSE_END, _CHANGE_WORDS, _NOT_PRESENCE)):
        return None
    # a comma is read only in a list of sites: "no fracture, bone metastases" asserts them
    if any(_site_from_text(item) is None for item in listed):
        return None
    return hits[-1].start()


# Between a mention and the ruled-out words after it, a parenthesis or "with" / "but" / "while"
# opening other words ("liver metastasis (abscess excluded)", "bone metastases (fracture ruled
# out)", "liver metastasis with abscess excluded"): that other finding is ruled out, not the
# metastasis (FHIR R4 condition-ver-status 'refuted' is said of the condition named; an
# alternative ruled out leaves the metastasis standing, as "(ddx excluded)" does). Not the
# words of how or when it was ruled out ("(on MRI excluded)", "(biopsy: excluded)", "(has
# been ruled out)"): the metastasis is.
_OTHER_WORDS_OPEN = re.compile(r"(?:\(|\b(?:with|but|while)\b)(?P<words>[^()]*)$")
_HOW_RULED_OUT = frozenset({"on", "by", "at", "per", "via", "after", "the", "a", "an", "is", "was", "were", "are",
                            "has", "have", "been", "now", "since", "subsequently", "later", "definitively",
                            "clinically", "radiologically", "histologically", "also",
                            # (fix-rt17) how sure, and who or when: "(definitely excluded)", "(completely
                            # ruled out)", "(MDT: ruled out)", "(follow-up: excluded)", "(in 2021 excluded)"
                            "definitely", "completely", "conclusively", "finally", "firmly", "fully", "entirely",
                            "totally", "certainly", "confidently", "convincingly", "reliably", "safely", "with",
                            "certainty", "in", "during", "upon", "following", "mdt", "multidisciplinary", "team",
                            "tumor", "tumour", "board", "meeting", "consensus", "review", "follow-up", "followup"})


def _another_finding_named(between: str) -> bool:
    opened = _OTHER_WORDS_OPEN.search(between)
    return opened is not None and bool(_other_words(opened.group("words")))


def _other_words(words: str) -> list[str]:
    """The words that name something, not how or when it was ruled out (_HOW_RULED_OUT, imaging
    and pathology words)."""
    return [w for w in re.findall(r"[a-z][\w/-]*", words.lower())
            if w not in _HOW_RULED_OUT and not T.MET_IMAGING_WORDS.fullmatch(w)
            and not T.MET_PATHOLOGY_WORDS.fullmatch(w)]


def _refuted_after(after: str, rest: str = "") -> int | None:
    """How far the negation written after a mention reaches in `after` (the text after the
    mention, up to the next one), when it refutes it: past its own site and a short stretch
    naming no other site and no comma ("liver metastasis on CT ruled out"), or past link
    words ("metastases have been ruled out", "metastatic work-up negative"); not when the
    question stays open ("cannot be ruled out": a suspicion). Else None."""
    relative = T.MET_RELATIVE_AFTER.match(after)
    if relative is not None:  # "MBC in mother": a relative's cancer
        return relative.end()
    m = T.MET_NEGATION_AFTER_NEAR.match(after)
    if m is not None and _site_from_text(m.group("between")) is not None:
        m = None  # "bone metastases and pleural lesion ruled out": the other lesion's
    elif m is not None and T.DIFFERENTIAL_WORDS.search(m.group("between")):
        m = None  # "liver metastasis (DDx excluded)": the differential diagnoses are ruled out
    elif m is not None and _another_finding_named(m.group("between")):
        m = None  # "liver metastasis (abscess excluded)": the abscess is ruled out
    m = m or T.MET_NEGATION_AFTER_LINKED.match(after)
    if m is None and (answer := T.MET_NEGATION_ANSWER.match(rest or after)) is not None and answer.end() <= len(after) \
            and _answer_closes(after, rest, answer.end()):
        m = answer  # "Brain metastases: no" (rest: the whole text after it, to see the answer ends it)
    return m.end() if m is not None and not T.MET_NEGATION_OPEN.search(m.group(0)) else None


def _answer_closes(after: str, rest: str, at: int) -> bool:
    """(rt28) The "no" / "none" answer at after[:at] ends its row: not one a comma follows with
    more said of the same metastases ("Bone metastases - no, responding", "Liver metastases -
    no evidence, complete response": a known metastasis, its course written; CR C.2 step 0),
    only one whose comma opens the next row's metastasis ("Brain metastases: no, bone
    metastases: yes": `after` ends where the next mention starts, sites at most before it)."""
    tail = after[at:].lstrip()
    if not tail.startswith(","):
        return True
    between = tail[1:].strip()
    return len(after) < len(rest or after) and (not between or _only_sites(between))


@lru_cache(maxsize=4096)
def _mentions(part: str) -> tuple[_Mention, ...]:
    """Each mention of metastatic disease in one " | "-joined part of a text, with its hedge
    and, when the words written for it refute it, its span."""
    found = list(_SECONDARY_TEXT.finditer(part))
    out: list[_Mention] = []
    since, carried = 0, False  # the end of the previous mention; it was refuted by words before it
    open_negation: int | None = None  # (ds12) a negation in a bracket left open (_negation_in_unclosed_bracket)
    for i, m in enumerate(found):
        start, end = m.start(), m.end()
        upto = found[i + 1].start() if i + 1 < len(found) else len(part)
        own_end = _own_end(part, end)
        refuted: tuple[int, int] | None = None
        before = _refuted_before(part, since, start)
        hedge = _hedge_of(part, start, end)
        if (before is None and open_negation is not None
                and not re.search(r"[)\].;|]", part[since:start])):
            # (ds12) and every later mention the open bracket still holds: "Bone metastases (no
            # liver, lung metastases, brain metastases" asked the lung but counted the brain,
            # which the "no" may reach as much (visceral either way, CR A.4): asked too
            before = open_negation
        if before is not None and _negation_in_unclosed_bracket(part, before, start):
            open_negation = before
            # (ds11) "Bone metastases (no liver, lung metastases": whether the "no" reaches the
            # lung the bracket left open does not say (closed after the liver, the lung is
            # asserted; after the lung, both are ruled out): asked, neither dropped nor counted
            hedge, before = ("unclear", part[before:own_end].strip()), None
            out.append(_Mention(start, end, hedge, None))
            since, carried = end, False
            continue
        if before is None and carried and _NEGATION_GOES_ON.match(part[since:start]):
            before = since
        if before is not None:
            refuted = (before, own_end)
        else:
            reach = _refuted_after(part[end:upto], part[end:])
            if reach is not None:
                # the mention's own words from its piece's start ("liver metastasis ruled out")
                piece = [p.end() for p in _PIECE_END.finditer(part, since, start)]
                refuted = (max([since] + piece), end + reach)
        carried = before is not None
        open_negation = None
        out.append(_Mention(start, end, hedge, refuted))
        since = end
    return tuple(out)


def _negation_in_unclosed_bracket(part: str, negation_at: int, mention_at: int) -> bool:
    """(ds11) The negation words at part[negation_at] stand in a bracket opened before them and
    never closed in their clause, and a comma lies between them and the mention: where the
    bracket was meant to close, the record does not say."""
    if "," not in part[negation_at:mention_at]:
        return False
    clause_start = max(part.rfind(c, 0, negation_at) for c in ".;|") + 1
    clause_end = _CLAUSE_END.search(part, negation_at)
    before, after = part[clause_start:negation_at], part[negation_at:clause_end.start() if clause_end else len(part)]
    # counted, not scanned character by character (lt1/lt2: the readers stay linear in a long text)
    open_before = before.count("(") + before.count("[") - before.count(")") - before.count("]")
    closed_after = after.count(")") + after.count("]") - after.count("(") - after.count("[")
    return open_before > 0 and closed_after < open_before


# A stage group in text: after the word "stage" ("Stage IIA", "clinical stage 4", "stage
# group: IV"), or a bare value that is the whole text (or one display) ("IV", "2A", "cIV").
# Any other number is not a stage: "Stage IIA (tumour 4 cm)", "4 cycles AC" (CR A.3:
# stage IV = the AJCC stage group value).
_STAGE_VALUE = r"(?:y?[cp])?(0|iv|i{1,3}|[1-4])[a-d]?"
_STAGE_NAMED = re.compile(_STAGE_WORD + r"(?:\s+group)?\s*[:\-]?\s*" + _STAGE_VALUE + r"\b", re.I)
_STAGE_BARE = re.compile(r"^\s*(?:stage\s*)?" + _STAGE_VALUE + r"\s*$", re.I)
# "stage III-IV", "stage 3/4", "stage III or IV", "stage III vs IV": two stage groups, neither
# is the stage ("vs": condition-ver-status "differential", one of a set of possible diagnoses).
# Both are written in the same numerals (AJCC stage groups are written I-IV, or 1-4 by some
# systems): "Stage IV - 1 bone lesion" is a stage and a count, no range (_stage_range).
_STAGE_RANGE = re.compile(r"\s*(-|/|\bor\b|\bto\b|\bvs\b\.?|\bversus\b)\s*" + _STAGE_VALUE + r"\b", re.I)
_STAGE_RANK = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# metastatic within ~3 months of the first diagnosis counts as de novo (metastatic at diagnosis)
DE_NOVO_DAYS = 92
_STAGING_CODES = frozenset(T.STAGE_GROUP_CODES) | frozenset(T.M_CATEGORY_CODES)
# verificationStatus codes of a metastasis not (yet) confirmed (codes.yaml, with source)
_UNCONFIRMED = frozenset(str(c) for c in T.CODES["conditions"]["unconfirmed_verification_status"]["codes"])
_CONFIRMED = frozenset(str(c) for c in T.CODES["conditions"]["confirmed_verification_status"]["codes"])


def condition_onset(res: dict[str, Any], read: Callable[[Any], dt.date | None] = parse_date) -> dt.date | None:
    """onsetDateTime / onsetPeriod.start / onsetString (ISO-like), else recordedDate (read:
    parse_date, or date_last for the last day a partial date can mean)."""
    start, _ = period(res, "onset", read)
    return start or read(res.get("onsetString")) or read(res.get("recordedDate"))


def _onset_written(res: dict[str, Any]) -> bool:
    """The Condition gives its onset (onsetDateTime / onsetPeriod.start / onsetString), not only
    a recordedDate (FHIR R4 Condition.recordedDate: "date record was first recorded")."""
    start, _ = period(res, "onset", parse_date)
    return (start or parse_date(res.get("onsetString"))) is not None


_partial_last = partial_last  # the last day of a date without a day, else None (fhir.partial_last)


def condition_onset_last(res: dict[str, Any], onset: dt.date | None) -> dt.date | None:
    """The last day of a Condition's onset written without a day (only a first of the month
    can be one), else None."""
    if onset is None or onset.day != 1:
        return None
    return partial_last(onset, condition_onset(res, date_last))


def unconfirmed_status(res: dict[str, Any]) -> str | None:
    """The verificationStatus code when it leaves the Condition unconfirmed (provisional,
    differential, unconfirmed), in any case ("Differential", returned as written), as build.py
    reads a miscased "Refuted": FHIR R4 codes are case-sensitive, but counting a diagnosis the
    sender marked a differential is worse than asking about it. One reading for every caller
    (metastases, visceral crisis, diabetes, ILD, long QT, Z17 receptor status); else None."""
    vs = res.get("verificationStatus")
    if vs is None:
        return None
    for _, code, _ in codings(vs):
        if code in _UNCONFIRMED or (code and status_code(code) in _UNCONFIRMED):
            return code
    return None


def _confirmed(res: dict[str, Any]) -> bool:
    """verificationStatus "confirmed" (condition-ver-status, codes.yaml)."""
    return any(code in _CONFIRMED for _, code, _ in codings(res.get("verificationStatus")))


def _is_primary_breast(ctx: Ctx, res: dict[str, Any]) -> tuple[bool, bool]:
    """(is breast primary, is history-only Z85.3), memoised per concept."""
    con = ctx.concept_of(res)
    found = con.memo.get("breast")
    if found is None:
        found = con.memo["breast"] = _primary_breast_of(con)
    return found


def _primary_breast_of(con: Concept) -> tuple[bool, bool]:
    for system, code, _ in con.codings:
        if not code:
            continue
        if is_icd10(system):
            n = T.norm_icd(code)
            if n.startswith(T.BREAST_ICD_PREFIXES):
                return True, False
            if n in T.BREAST_HISTORY_ICD:
                return True, True
        elif is_snomed(system):
            if code in T.NOT_BREAST_PRIMARY:
                return False, False
            if code in T.BREAST_SNOMED:
                return True, False
    text = con.text
    if text and _breast_primary_text(text) and not _secondary_coded(con)[0] and _breast_not_refuted(text):
        # a text naming breast cancer on a Condition coded as a secondary neoplasm ("Bone
        # metastases from breast cancer" coded C79.51 / SNOMED 94222008) names the metastasis's
        # primary: the code says what the Condition is (CR A.4: mCODE SecondaryCancerDisorderVS,
        # ICD-10-CM C77-C79 "with breast primary"), read as a metastasis (build_disease)
        return True, False
    return False, False


# a relative's breast cancer ("mother had breast cancer", "family history of breast cancer"):
# not the patient's (FHIR R4 FamilyMemberHistory; vocabulary relative_words), words right before
# the mention in its clause, or a relative it is written "in" after it ("breast cancer in mother",
# tables.MET_RELATIVE_AFTER)
# a relative told of the patient's cancer ("Mother informed: breast cancer") is no relative's
# cancer (local_codes.yaml vocabulary relative_told_words, as the other readers skip it)
_RELATIVE_BEFORE = re.compile(rf"\b{T.VOCABULARY['relative_words']}('s)?\b(?!\s+{T.VOCABULARY['relative_told_words']}\b)"
                              r"[^.;|]{0,30}$")


_BREAST_RULED_OUT_AFTER = re.compile(rf"^[\s\w-]{{0,15}}\b(?:{T.VOCABULARY['ruled_out_words']})\b")


# "no residual / recurrent / active / new breast cancer", "no evidence of recurrent breast cancer",
# "no evidence of breast cancer recurrence" (after neoadjuvant therapy, a pathological complete
# response, or in follow-up): a breast cancer the patient had, not one ruled out (CR A.4 counts a
# breast cancer history, Z85.3, as the primary beside metastatic evidence)
_HISTORY_AFTER_NEGATION = re.compile(r"\b(?:residual|recurren\w*|remaining|active|current|new)\b[\s\w-]*$")
_RECURRENCE_AFTER_MENTION = re.compile(r"^\s*(?:recurren\w*|relapse\w*)\b")
# the ruled-out words after the breast cancer, and what stands between ("Breast cancer -
# metastasis excluded", "Breast cancer with mets excluded": that other finding is ruled out, as
# _another_finding_named reads a metastasis's; "ruled out on biopsy", "has been excluded": the
# breast cancer is)
_BREAST_RULED_OUT_BETWEEN = re.compile(rf"^(?P<between>[\s\w-]{{0,15}}?)\b(?:{T.VOCABULARY['ruled_out_words']})\b")


@lru_cache(maxsize=4096)
def _breast_not_refuted(text: str) -> bool:
    """A Condition's text names a breast cancer not written as ruled out ("No breast cancer",
    "Breast cancer ruled out": condition-ver-status 'refuted', no breast primary); "No
    residual breast cancer" / "no evidence of breast cancer recurrence" is one treated
    (_HISTORY_AFTER_NEGATION, _RECURRENCE_AFTER_MENTION), "Breast cancer - metastasis excluded"
    one standing beside another finding ruled out."""
    for m in _BREAST_TEXT.finditer(text):
        before = text[max(0, m.start() - 30):m.start()]
        after = text[m.end():m.end() + 30]
        negated = _REFUTED_BEFORE.search(before)
        if negated and (_HISTORY_AFTER_NEGATION.search(before[negated.start():]) or _RECURRENCE_AFTER_MENTION.match(after)):
            negated = None
        ruled_out = _BREAST_RULED_OUT_BETWEEN.match(after)
        if ruled_out and _other_words(ruled_out.group("between")):
            ruled_out = None
        if not (negated or ruled_out):
            return True
    return False


@lru_cache(maxsize=4096)
def _breast_primary_named(text: str) -> bool:
    """A metastasis Condition's text names its breast primary ("Liver metastases from breast
    cancer"), not one it writes as not there ("breast cancer ruled out", "no breast cancer":
    vocabulary negation_words / ruled_out_words, condition-ver-status 'refuted')."""
    return _breast_primary_text(text) and any(
        not (_REFUTED_BEFORE.search(text[max(0, m.start() - 30):m.start()])
             or _BREAST_RULED_OUT_AFTER.search(text[m.end():m.end() + 30]))
        for m in _BREAST_TEXT.finditer(text))


@lru_cache(maxsize=4096)
def _breast_primary_text(text: str) -> bool:
    return any(not _RELATIVE_BEFORE.search(text[max(0, m.start() - 45):m.start()])
               and not T.MET_RELATIVE_AFTER.match(text[m.end():m.end() + 60])
               for m in _BREAST_TEXT.finditer(text)) and not re.search(
        r"secondary (malignant )?(neoplasm|carcinoma|adenocarcinoma) of (the )?breast|metasta[a-z]* to (the )?breast|history of|"
        r"in situ|\bdcis\b|\blcis\b|benign|screening|risk of|suspected|rule out|r/o",
        text,
    )


@lru_cache(maxsize=4096)
def _stage4_reading(text: str) -> str | None:
    """How the text writes stage IV (or M1): "asserted", "negated" ("not stage IV", "stage IV
    ruled out"), "open" ("stage IV cannot be ruled out", "suspected stage IV", "stage IV?": a
    suspicion, _stage4_doubt names the words), "not assessed" (every stage IV / M1 written is
    written as not assessed, "M1 not assessed": no finding) or None (not written)."""
    if not _STAGE4_WORDS.search(text):
        return None
    # an M1 written beside it ("Stage IV, cM1; pM not assessed") is the stage's M1, and so are
    # distant metastases written as found at a site ("Stage IV, MX, bone metastases": AJCC 8th
    # edition M1 is distant metastasis detected by clinical or radiographic means); not words
    # of a search still under way ("metastatic work-up pending", "metastases not assessed")
    beside = _M_NOT_ASSESSED.sub(" ", text)
    m_not_assessed = (_STAGE_GROUP4.search(text) and _M_NOT_ASSESSED.search(text)
                      and not (_M1_WORDS.search(beside) or _metastases_found_at_a_site(beside)))
    if _STAGE4_NOT_ASSESSED.search(text):
        text = _STAGE4_NOT_ASSESSED.sub(" ", text)
        if not _STAGE4_WORDS.search(text):
            return "not assessed"
    if _M1_ITC.search(text):
        # (ds7) "M1(i+)": no AJCC category, M0(i+) or M1 not stated (_M1_ITC); a stage IV or M1
        # written beside it is read as before
        text = _M1_ITC.sub(" ", text)
        if not _STAGE4_WORDS.search(text):
            return "open"
    if _STAGE4_CANNOT_EXCLUDE.search(text):
        return "open"
    if _STAGE4_NEGATED_BEFORE.search(text):
        return "negated"
    after = _STAGE4_RULED_OUT_AFTER.search(text)
    if after is not None:
        return "open" if T.MET_NEGATION_OPEN.search(after.group("between")) else "negated"
    return "open" if m_not_assessed or _STAGE4_HEDGED.search(text) else "asserted"


# words that leave a metastasis beside a stage IV not found yet (a search under way or a doubt)
_METASTASIS_NOT_FOUND_YET = re.compile(
    r"\?|\b(pending|awaited|awaiting|suspect\w*|possible|probable|likely|query|work-?up|rule out|r/o|"
    r"not (yet )?(assessed|evaluated|known|confirmed)|unknown|unconfirmed)\b")


# "advanced breast cancer", "advanced BC", "breast cancer, advanced"; not "locally advanced"
# (not "Breast cancer, advanced age / care planning": another word after "advanced")
_ADVANCED = re.compile(r"(?<!locally )(?<!locally-)\badvanced\s+(?:breast\s+)?(?:cancer|carcinoma|disease|bc)\b"
                       r"|\bbreast\s+(?:cancer|carcinoma),?\s+advanced\b(?!\s+(?!disease\b|stage\b)[a-z])")


@lru_cache(maxsize=4096)
def _advanced_words(text: str) -> str | None:
    """The words of an "advanced breast cancer" the text asserts (_ADVANCED), not one written
    as not there ("no advanced disease": metastasis_negations before) or a relative's ("advanced
    breast cancer in mother"), else None."""
    for m in _ADVANCED.finditer(text):
        before = text[max(0, m.start() - 30):m.start()]
        if T.MET_NEGATION_BEFORE.search(re.split(r"[.;|,]", before)[-1]) or T.MET_RELATIVE_AFTER.match(text[m.end():m.end() + 60]):
            continue
        return m.group(0)
    return None
_NODAL = re.compile(r"\b(lymph(\s+nodes?)?|nodal|nodes?)\b")
# nodes written as distant: "distant nodal metastases" (M1 is distant metastasis), contralateral
# nodes (AJCC 8th edition breast: regional nodes are the ipsilateral axillary, internal mammary
# and supraclavicular ones, N1-N3; contralateral ones are M1). (fix-dz2) So are the nodes of
# any other region, which AJCC 8th edition codes as distant metastasis "including cervical or
# contralateral internal mammary" ones: cervical, mediastinal, hilar, para-aortic,
# retroperitoneal, inguinal nodes are M1, not asked as regional ones are
_DISTANT_NODES = re.compile(r"\b(distant|contra-?lateral|non-?regional|cervical|mediastinal|hilar|para-?aortic"
                            r"|retroperitoneal|inguinal)\s+(\w+\s+){0,2}(lymph|nodal|nodes?)\b")


@lru_cache(maxsize=4096)
def _distant_nodes(text: str) -> str | None:
    """The words of the first nodes the text writes distant (_DISTANT_NODES: "mediastinal lymph
    node", "contralateral axillary nodal") and not as not there ("no mediastinal nodal disease",
    "mediastinal nodes negative": vocabulary negation_words before, ruled_out_words / negative
    after, as for another primary) and written as metastases: a metastasis mention the text does
    not refute stands in the same comma piece ("mediastinal lymph node metastases", "metastatic
    to cervical nodes"; not "cervical lymph node biopsy benign", "hilar nodes from sarcoidosis":
    AJCC 8th edition codes nodal metastases of another region M1, not every node named there;
    rt22), else None."""
    for part in text.split(" | "):
        mentions = [m for m in _mentions(part) if m.refuted is None]
        for m in _DISTANT_NODES.finditer(part):
            if (_REFUTED_BEFORE.search(part[max(0, m.start() - 30):m.start()])
                    or _REFUTED_AFTER.search(part[m.end():m.end() + 30])):
                continue
            if any(not _PIECE_END.search(part, min(m.start(), n.start), max(m.end(), n.end))
                   or (n.start < m.start() and _NODE_LIST_AFTER_TO.match(part, n.start, m.start()))
                   for n in mentions):
                return m.group(0)
    return None


# "metastatic to axillary, mediastinal lymph nodes": the regions listed after "to" share the
# node word at the end; not "metastatic to axillary nodes, cervical lymph node biopsy benign"
# (a node word ends the list) (rt22)
_NODE_LIST_AFTER_TO = re.compile(r"\w+\s+to\s+(?:(?!lymph|nodal|nodes?\b)[\w/-]+(?:\s*,\s*|\s+(?:and\s+)?))+$")


@lru_cache(maxsize=4096)
def _distant_refuted(text: str) -> bool:
    """The text refutes distant metastases ("no distant metastases", "distant metastases ruled
    out"): nodes beside it are regional (AJCC 8th edition: M1 is distant metastasis, regional
    nodes the N category)."""
    return any(m.refuted is not None and re.search(r"\bdistant\s*$", part[:m.start])
               for part in text.split(" | ") for m in _mentions(part))


@lru_cache(maxsize=4096)
def _nodal_only(text: str) -> str | None:
    """The words of the metastasis mentions of a breast-cancer Condition's text when lymph nodes
    are the only site it names, not written distant, and every mention it does not refute has a
    node word beside it in its clause: within 40 characters or in its comma piece ("axillary
    nodal metastases", "2/15 nodes with metastases", "Metastatic breast cancer to axillary and
    supraclavicular nodes": AJCC 8th edition N3c), else None."""
    if {site for rx, site in T.SITE_TEXT if rx.search(text)} != {"lymph-node"} or (
            _distant_nodes(text) and not _distant_refuted(text) and not _M0_WORDS.search(text)
            and _stage_from_text(text) is not False):
        return None
    words = []
    for part in text.split(" | "):
        for m in _mentions(part):
            if m.refuted is not None:
                continue
            clause = _clause(part, m.start, m.end)
            at = part.find(clause)
            # the mention's comma piece in the clause
            piece_start = clause.rfind(",", 0, m.start - at) + 1
            piece_end = clause.find(",", m.start - at)
            piece_end = len(clause) if piece_end < 0 else piece_end
            near = [n for n in _NODAL.finditer(clause) if abs(n.start() - (m.start - at)) <= 40
                    or piece_start <= n.start() < piece_end]
            if not near:
                return None
            end = m.end - at + len(re.match(r"\w*", clause[m.end - at:]).group(0))  # the rest of its word
            a, b = min(m.start - at, near[0].start()), max(end, near[-1].end())
            words.append(clause[a:b].strip(" ,(-"))
    return "; ".join(words) or None


def _metastases_found_at_a_site(text: str) -> bool:
    """Distant metastases the text writes as found at a named site ("bone metastases")."""
    return (_site_in_text(text) is not None and _metastatic_text(text)
            and not _METASTASIS_NOT_FOUND_YET.search(text))


def _stage4_doubt(text: str) -> str:
    """Why a stage IV written in text is not read as one, for the gap: the hedge words as
    written, the stage IV and the M not assessed beside it, or "not ruled out"."""
    group, m_not_assessed = _STAGE_GROUP4.search(text), _M_NOT_ASSESSED.search(text)
    if group and m_not_assessed and not _STAGE4_HEDGED.search(text) and _stage4_reading(text) == "open":
        words = text[min(group.start(), m_not_assessed.start()):max(group.end(), m_not_assessed.end())].strip()
        words += ")" if words.count("(") > words.count(")") else ""
        return f'stage IV written "{words}" (AJCC stage IV is M1)'
    m = _STAGE4_HEDGED.search(text)
    if m is None and (itc := _M1_ITC.search(text)) is not None:
        return (f'"{itc.group(0).strip()}" written: no AJCC 8th edition M category (cM0(i+) is no '
                "metastasis, M1 is distant metastasis), which one not stated")
    if m is None:
        return "stage IV not ruled out in the text"
    words = m.group(0).strip()
    # a bracket the doubt closes ("stage iv (pending biopsy)"): quoted with it
    return f'stage IV written "{words})"' if words.count("(") > words.count(")") else f'stage IV written "{words}"'


@lru_cache(maxsize=4096)
def _metastatic_text(text: str) -> bool:
    """The text names secondary / metastatic disease, neither negated nor as a suspicion."""
    return _metastasis_in_text(text) == "asserted"


def _own_text(res: dict[str, Any]) -> str | None:
    """Condition.code.text as the user wrote it (FHIR R4 CodeableConcept.text), else None."""
    code = res.get("code")
    text = code.get("text") if isinstance(code, dict) else None
    return text if isinstance(text, str) else None


# words writing what follows as not there ("no cancer seen", "negative for malignancy", "no
# liver lesions")
_NOT_THERE_BEFORE = re.compile(r"\b(?:no|not|negative\s+for|without|free\s+of)\s+(?:[\w-]+\s+)?$", re.I)


def _site_field_not_answered_no(text: str) -> bool:
    """(ds14) The text is site fields only (_SITE_QUESTION_ANSWERED), one of them answered yes or
    left open ("?")."""
    fields = [_SITE_QUESTION_ANSWERED.match(c) for c in _FIELD_SPLIT.split(text)[0::2] if c.strip()]
    return bool(fields) and all(m is not None and _only_sites(m.group("sites")) for m in fields) and any(
        _field_answer(m) != "no" for m in fields)


@lru_cache(maxsize=4096)
def _text_against_code(text: str | None) -> str | None:
    """The text of a Condition coded as a metastasis when it names no metastasis (_SECONDARY_TEXT)
    and reads as a negative, benign or open finding ("Brain MRI negative", "Lung nodules,
    indeterminate": local_codes.yaml metastasis_negations coded_text_against; not a receptor or
    marker written negative, "HER2 negative", nor beside a malignancy named: coded_text_marker_negative,
    coded_text_malignant), else None."""
    if not text or _SECONDARY_TEXT.search(text.lower()) or any(
            not _NOT_THERE_BEFORE.search(text[max(0, m.start() - 25):m.start()])
            for m in T.MET_CODED_TEXT_MALIGNANT.finditer(text)):
        return None
    if _site_field_not_answered_no(text.lower()):
        # (ds14) site fields, one answered yes or left open ("Bone: yes; brain: negative", "Bone
        # scan: positive, brain MRI: negative", "Bone: ?; brain: negative"): the other field's
        # negative is its site's, not the metastasis's (was metastatic status unknown, the bone
        # dropped or asked: CR A.2), read as with "no" for it (_as_answered_yes)
        return None
    # (rt44) "HER2 negative", "CEA negative": a receptor or marker, not the finding, negative
    if not T.MET_CODED_TEXT_AGAINST.search(T.MET_CODED_TEXT_MARKER_NEGATIVE.sub(" ", text)):
        return None
    return text.strip()[:80]


@lru_cache(maxsize=4096)
@_answered
def _metastasis_in_text(text: str) -> str | None:
    """How the text names metastatic disease: "asserted", "hedged" (a suspicion, or written
    unlikely: _hedge_reading names the unlikely words), "probable"
    (likely, presumed: _hedge_reading names the words), "negated" (every mention ruled out,
    "no evidence of"), or None (not named). The mentions the text refutes are not read: "Bone
    metastases; liver metastasis ruled out" is "asserted"."""
    if not _SECONDARY_TEXT.search(text):
        return None
    # refuted only when every mention of a part is ("liver metastasis ruled out"); a code's
    # display beside it ("Secondary malignant neoplasm of liver") does not assert it again
    if any(mentions and all(m.refuted for m in mentions) for mentions in map(_mentions, text.split(" | "))):
        return "negated"
    return _hedge_reading(text)[0]


def _hedged_why(text: str, res: dict[str, Any] | None = None) -> str:
    """Why a hedged metastasis is unconfirmed, for the gap: "suspected in the text", or the
    probable or unlikely words as written ('"likely" in the text', '"unlikely" in the text')."""
    words = _hedge_reading(text)[1]
    if not words and _FIELD_ANSWER_WORD.search(text) and _as_answered_yes(text) != text:
        # (ds9) a site answered yes that _as_answered_yes asks ("No metastases. Bone? yes", "Liver?
        # No; bone? yes"): the doubt is the record's no and yes, quoted whole for the clinician
        words = text.split(" | ")[0].strip()[:80]
    if words and res is not None:
        words = _words_as_written(words, text, res)
    return f'"{words}" in the text' if words else "suspected in the text"


# (ds8) the separator _as_answered rewrites as a "?" ("Metastases - none seen on CT, bone scan
# pending" is read as "metastases? none seen on ct, bone scan pending"), before the words after it
_REWRITTEN_AS_QUESTION = re.compile(r"^\?+\s*")


def _code_text_as_written(res: dict[str, Any]) -> str:
    """Condition.code.text as written, else its displays as written (FHIR R4 CodeableConcept):
    (ds11) the gap quoted a display lower case ("no bone metastases") when no text was sent."""
    own = _own_text(res)
    return own if own else " | ".join(d for _, _, d in codings(res.get("code")) if d)


def _words_as_written(words: str, text: str, res: dict[str, Any]) -> str:
    """(ds8) words the readers found in the answered text (_as_answered: lower case, a colon or
    dash before a "no ..." rewritten as "?") as the record writes them, for the gap to quote what
    the clinician can find in the chart ("? none seen on ct, bone scan pending" was quoted for
    "Metastases - none seen on CT, bone scan pending"). Words that are not in the text as written
    (its lower-case form, cc_text) are quoted from the "?" on without it; words not found at all,
    or a text whose lower case changed its length, are left as read."""
    # (ds13) words read up to the end of the text run on into the codes' displays ("lung? |
    # secondary malignant neoplastic disease" for "lung: ?"): quoted up to the text's end
    if " | " in words and words.split(" | ")[0].strip():
        words = words.split(" | ")[0].strip()
    code = res.get("code")
    parts = [code["text"]] if isinstance(code, dict) and isinstance(code.get("text"), str) else []
    parts += [d for _, _, d in codings(code) if d]
    written = " | ".join(parts)
    if len(written) != len(text):
        return words
    at = text.find(words)
    # (ds13) or the words run on past it ("liver?; metastatic to bone?" for "Liver: ?, bone: ?")
    if at < 0 and "?" in words and (site := re.sub(r"^metastatic to\s+", "", words.split("?")[0].strip())):
        # (ds8/ds12) a site field answered yes, rewritten as a question ("Liver: yes" read "liver?"):
        # quoted with its answer as written (the last such field)
        field = None
        # (ds13) or answered with a doubt ("Bone - probable", "lung: ?": quoted "bone?")
        # (ds14) with the scan written beside the site ("Brain MRI: ?", "CT liver: ?")
        for field in re.finditer(_SCAN_BEFORE_SITE + re.escape(site) + _SCAN_AFTER_SITE +
                                 r"\s*(?:\?+\s*[:-]?|:|\s[-\u2013\u2014])\s*(?:(?:yes|y|positive)\b|\?+|\b(?:"
                                 rf"{_DOUBT_WORDS})\b)"
                                 rf"|\b(?:{_DOUBT_WORDS})\s+"
                                 + re.escape(site) + r"\b", text):
            pass
        if field is not None:
            return written[field.start():field.end()]
    if at < 0:
        words = _REWRITTEN_AS_QUESTION.sub("", words)
        at = text.find(words) if words else -1
    return written[at:at + len(words)] if at >= 0 else words



def _sites_as_written(sites: Iterable[tuple[str, str]], text: str, res: dict[str, Any]) -> list[tuple[str, str]]:
    """(ds9) (site, the words) with the words quoted as the record writes them (_words_as_written):
    the doubted / past-site gap quoted the lower case the readers read ("liver mets no longer
    visible" for "Liver mets no longer visible"). Past and doubted words go through it alike, so
    that a past site is still told from a doubted one by its words."""
    return [(site, _words_as_written(words, text, res)) for site, words in sites]


_FIRST_CLAUSE = re.compile(r"^[^.;|]*")
# (rt64) where the doubted phrase ends in its clause: its "?", a bracket, a dash or a colon
# ("Liver metastasis? biopsy planned, brain MRI clear", "Possible liver metastases - bone
# lesions benign", "Suspected liver metastases (lung nodules stable)")
_DOUBTED_PHRASE_END = re.compile(r"\?|\(|\s-\s|:")


@lru_cache(maxsize=4096)
@_answered
def _hedged_site_names(text: str, site: str | None) -> str | None:
    """(ds5) The sites a doubted metastasis lists, in the order written, for the gap ("Metastatic
    to bone and liver?", "?Bone and liver metastases": "bone and liver"; the gap named the liver
    only, the bone dropped: bone-only or visceral disease is what is asked, CR A.4 / C.3). Read in
    the first clause, where the doubted phrase stands, without the sites the text refutes; the
    one site (or none) as before when the clause names one only. (rt64) The phrase only: up to
    its "?", bracket, dash or colon, and the comma items after it naming sites only ("Suspected
    metastases to bone, liver and lung"); a finding after it ("brain MRI clear", "bone lesions
    benign", ", bone scan booked") is no doubted metastasis (was named "liver and brain")."""
    head = _DOUBTED_PHRASE_END.split(_FIRST_CLAUSE.match(text).group(0).lstrip(" ?"), maxsplit=1)[0]
    first, *items = head.split(",")
    clause = ",".join([first, *itertools.takewhile(lambda i: _only_sites(i.lower()), items)])
    refuted = _text_sites(text)[1]
    firsts: dict[str, int] = {}
    for rx, name in T.SITE_TEXT:
        if name not in refuted and (m := rx.search(clause)) is not None:
            firsts[name] = min(firsts.get(name, m.start()), m.start())
    named = sorted(firsts, key=firsts.get)
    if len(named) < 2 or (site is not None and site not in named):
        return site
    return ", ".join(named[:-1]) + " and " + named[-1]


def _secondary_profile(res: dict[str, Any]) -> bool:
    """The Condition claims the mCODE SecondaryCancerCondition profile (codes.yaml secondary_profile)."""
    profiles = (res.get("meta") or {}).get("profile") if isinstance(res.get("meta"), dict) else None
    return isinstance(profiles, list) and T.SECONDARY_PROFILE in profiles


def _secondary_site(ctx: Ctx, res: dict[str, Any]) -> tuple[bool, str | None, bool | None]:
    """(is secondary, site, explicit visceral override)."""
    con = ctx.concept_of(res)
    is_secondary, site, visceral = _secondary_coded(con)
    if _secondary_profile(res):
        is_secondary = True
    text = con.text
    reading = _metastasis_in_text(text) if text else None
    if reading == "negated":
        # "liver metastasis ruled out": whatever the code, the clinician refuted it
        is_secondary = False
    elif site is not None and reading is not None and site in _text_sites(text)[1]:
        # a liver code with "bone metastases; liver metastasis ruled out": the text refutes
        # the coded site, the site is the one it leaves standing (bodySite or text)
        site = visceral = None
    elif not is_secondary and reading is not None and not _other_primary(con):
        # "metastatic breast cancer" as a single concept is metastatic, site unknown (a
        # suspicion, "suspected liver metastasis", is read as unconfirmed by the caller).
        # Not on another cancer's Condition: "Metastatic colon cancer" (C18.9) is its spread
        is_secondary = True
    return _secondary_rest(res, text, is_secondary, site, visceral)


def _text_named_other_sites(con: Concept, coded_site: str) -> list[tuple[str, str, str | None]]:
    """(code, site, past words) for each metastatic site a secondary-coded Condition's text
    asserts that is not the coded site ("Breast cancer metastatic to liver" coded C79.51, bone):
    CR A.4 reads the site from the code; the text says otherwise, which the sources do not
    settle. The past words are those of a site the text writes in the past only ("Bone
    metastases; history of liver metastasis": _past_sites), else None."""
    code = next((c for s, c, _ in con.codings if c and (is_icd10(s) or is_snomed(s))), "")
    text = _without_past_cancer(con.text or "")
    past = _past_sites(text)
    return [(code, site, past.get(site)) for site in _text_site_list(text) if site != coded_site]


# (fix-dz2) a metastasis written in the past: "history of" / "previous" / "prior" before it in
# its comma piece ("history of liver metastasis", "prior brain mets"), or "resolved" /
# "resected" after it ("liver metastases, resolved"). Not "treated" ("brain mets treated with
# SRS" may still be there) nor a past word after the mention ("new liver metastases since
# prior CT": the CT is prior)
# (ds9) "resolved" before it too ("resolved liver metastases" was counted, visceral, while
# "Liver metastases - resolved" was asked); "complete response" / "complete remission" after it
# (RECIST 1.1 complete response: every lesion gone) as "no longer seen" is
_PAST_BEFORE = re.compile(r"\b(?:history of|hx of|h/o|previous(?:ly)?|prior|past|former|remote|resolved)\b[\s\w-]{0,25}$")
_PAST_WORDS = r"(?:resolved|resected|no longer (?:seen|present|visible)|complete (?:response|remission))"
_PAST_AFTER = re.compile(rf"^\w*[\s\w-]{{0,20}}?[\s(:-]*\b{_PAST_WORDS}\b")
# (ds9) a comma piece of the past words only, right after the mention's piece ("Liver metastases,
# resolved", ", resolved on CT"): said of it, as "Liver metastases - resolved" is
_PAST_PIECE_AFTER = re.compile(rf"^\s*\(?\s*{_PAST_WORDS}\b[^,]*$")


# (rt50) a comma item or bracket naming sites only, written in the past ("(previously liver)",
# ", prior liver and lung"): sites that were, as "previous liver metastasis" (_PAST_BEFORE)
_PAST_LISTED = re.compile(r"(?:^|[,;(])\s*((?:history of|hx of|h/o|previous(?:ly)?|prior|past|former(?:ly)?|remote)\s+([^,;()]+))")


def _past_listed_sites(text: str) -> dict[str, str]:
    """site -> the words, for each site a comma item or bracket written in the past names, with
    no other word than sites ("Metastatic breast cancer to bone (previously liver)": liver)."""
    past: dict[str, str] = {}
    low = text.lower()
    for m in _PAST_LISTED.finditer(low):
        if _only_sites(m.group(2)):
            for rx, site in T.SITE_TEXT:
                if rx.search(m.group(2)):
                    past.setdefault(site, m.group(1).strip())
            low = low[:m.start(1)] + " " * (m.end(1) - m.start(1)) + low[m.end(1):]
    # a site the text also asserts now ("... to bone, prior liver; liver metastases") stays current
    now = set(_text_site_list(low)) if past else set()
    return {site: words for site, words in past.items() if site not in now}


@lru_cache(maxsize=4096)
def _past_sites(text: str) -> dict[str, str]:
    """site -> the words of a mention the text writes in the past (_PAST_BEFORE / _PAST_AFTER)
    for each site only such mentions name ("Bone metastases; history of liver metastasis":
    liver): a site that was, not one the text asserts now."""
    past: dict[str, str] = {}
    now: set[str] = set()
    for part in text.split(" | "):
        piece_sites: dict[tuple[int, int, tuple[int, int] | None],
                          tuple[list[tuple[int, int]], str, tuple[str, ...]]] = {}
        ends = [0] + [p.end() for p in _PAST_PIECE_END.finditer(part)] + [len(part) + 1]
        mentions = _mentions(part)
        held = _brackets_holding(part, mentions)
        for m in mentions:
            if m.refuted is not None:
                continue
            a = max(e for e in ends if e <= m.start)
            b = min(e for e in ends if e > m.start) - 1
            inside = next(((o, c) for o, c in held if o < m.start < c), None)
            if inside is not None:  # (ds10) a mention in a bracket: its piece ends at the bracket
                a, b = max(a, inside[0] + 1), min(b, inside[1])
            # (lt2) a piece's sites found once for all its mentions (was a search each); in
            # SITE_TEXT's order, not a set's (whose order moved with each process's hash seed)
            if (a, b, inside) not in piece_sites:
                others = [span for span in held if span != inside]
                own = _blanked(part, tuple((o, c + 1) for o, c in others))  # "(" to ")" included
                names = tuple(dict.fromkeys(site for rx, site in T.SITE_TEXT if rx.search(own[a:b])))
                piece_sites[a, b, inside] = (others, own, names)
            others, own, names = piece_sites[a, b, inside]
            # a piece after an end inside another mention's bracket is that mention's
            said_past_after = None if any(o < b < c for o, c in others) else _past_piece_after(part, b)
            piece = part[a:b if said_past_after is None else said_past_after]  # quoted as written
            if _PAST_BEFORE.search(own[a:m.start]) or _PAST_AFTER.match(own[m.end:b]) or said_past_after:
                for site in names:
                    past.setdefault(site, _unbracketed(piece))
            else:
                now.update(names)
    return {site: words for site, words in past.items() if site not in now}


_BRACKET_PAIR = re.compile(r"\((?:[^()]|\([^()]*\))*\)")  # (ds11) one nested level: "(prior liver metastases (resected))"


def _brackets_holding(part: str, mentions: tuple[_Mention, ...]) -> list[tuple[int, int]]:
    """(ds10) The spans ("(" to ")") of the brackets holding a metastasis mention ("Bone
    metastases (prior liver metastases)"): the mention's own piece, not the one before it; a
    bracket of past words only ("Liver mets (resolved)") stays with its mention."""
    return [(b.start(), b.end() - 1) for b in _BRACKET_PAIR.finditer(part)
            if any(b.start() < m.start < b.end() for m in mentions)]


def _past_piece_after(part: str, piece_end: int) -> int | None:
    """(ds9) Where the comma piece after the one ending at piece_end ends, when it holds the past
    words only (_PAST_PIECE_AFTER: "Liver metastases, resolved") and no later piece of its clause
    says the disease progresses or is stable now ("..., resected, now progressing": current)."""
    if part[piece_end:piece_end + 1] != ",":
        return None
    clause_end = _CLAUSE_END.search(part, piece_end + 1)
    end = part.find(",", piece_end + 1, clause_end.start() if clause_end else len(part))
    end = end if end >= 0 else clause_end.start() if clause_end else len(part)
    rest = part[end:clause_end.start() if clause_end else len(part)]
    if not _PAST_PIECE_AFTER.match(part[piece_end + 1:end]) or _PROGRESSING_NOW.search(rest) or _STABLE_NOW.search(rest):
        return None
    return end


def _unbracketed(piece: str) -> str:
    """The piece without the spaces around it nor an opening or closing bracket left unpaired by
    the cut ("(previously liver": "previously liver"; "liver mets (resolved)" keeps its pair)."""
    piece = piece.strip()
    if piece.startswith("(") and piece.count("(") > piece.count(")"):
        piece = piece[1:].strip()
    if piece.endswith(")") and piece.count(")") > piece.count("("):
        piece = piece[:-1].strip()
    if piece.startswith("(") and piece.endswith(")") and piece.count("(") == 1 == piece.count(")"):
        piece = piece[1:-1].strip()  # a bracket holding the piece whole, as before
    return piece


# (rt55) a piece saying the disease at a site progresses now ("previous liver mets, now
# progressing in liver", "previously treated liver metastases now progressing"): current disease
_PROGRESSING_NOW = re.compile(r"\b(?:progress(?:ing|ion|ive)|growing|enlarging)\b", re.I)
_NO_LONGER = re.compile(r"\b(?:resolved|resected|no longer|complete (?:response|remission))\b", re.I)  # as _PAST_AFTER
# (fix-fx2) stable disease at a site is disease present now ("previous liver metastases, now
# stable"): CR A.4 counts the metastatic sites the patient has; RECIST "stable disease" is disease
_STABLE_NOW = re.compile(r"\bstable\b", re.I)


def _sites_progressing_now(own: str) -> set[str]:
    """The sites a comma piece names beside a word of progression or stability, not negated or
    cleared: a site written in the past ("previous liver mets") the text also says progresses or
    is stable now is current (CR A.4 visceral sites, C.2 step 2), not asked as a past site only.
    A stability word in a piece naming no site ("previous liver metastases, now stable") is said
    of the sites of the comma piece before it in its clause."""
    now: set[str] = set()
    for clause in _CLAUSE_END.split(own):
        before: set[str] = set()
        for piece in clause.split(","):
            low = piece.lower()
            sites = {site for rx, site in T.SITE_TEXT if rx.search(low)}
            # a "resected" / "resolved" before the progression word is the history it progresses after
            if ((progress := _PROGRESSING_NOW.search(low) or _STABLE_NOW.search(low))
                    and not T.MET_NEGATION_ANY.search(low)
                    and not _NO_LONGER.search(low, progress.end())
                    and not T.MET_SITE_CLEAR_AFTER.search(low)):
                now |= sites or (before if _STABLE_NOW.search(low) else set())
            before = set() if _NO_LONGER.search(low) else sites
    return now


def _past_only(own: str) -> dict[str, str]:
    """site -> the words, for each site own writes in the past only (_past_listed_sites,
    _past_sites), not said to progress or be stable now (_sites_progressing_now)."""
    progressing = _sites_progressing_now(own)
    return {site: words for site, words in {**_past_listed_sites(own), **_past_sites(own)}.items()
            if site not in progressing}


@lru_cache(maxsize=4096)
@_answered
def _sites_written_past(own: str) -> frozenset[tuple[str, str]]:
    """(ds8) (site, the words) of the sites _sites_now_and_asked asks as written in the past only,
    for the gap to say so (not "written with a doubt")."""
    return frozenset(_past_only(own).items())


@lru_cache(maxsize=4096)
@_answered
def _sites_now_and_asked(own: str, confirmed: bool, question_closes: bool = True
                         ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(the sites a metastasis text asserts now, in order; (site, the words) for each it doubts
    or writes in the past): a site written in the past only ("history of liver metastasis",
    "(previously liver)", ", prior liver and lung") is asked, not counted (whether it still
    counts no source settles); (rt28) a site after a "?" ("Metastatic breast cancer? bone") is
    a question where, not a site written; (rt50) nor is the site the "?" closes ("... to bone?",
    "... to bone, liver?": a site doubted, as "liver?" beside metastases is, rd2): asked
    (metastatic-site-unconfirmed). question_closes False: the "?" closing a metastasis mention
    is left to its hedge reading (_mentions: "Liver metastases? progression" asks the
    progression), a site after it still asked (ds3: "Metastatic to bone? liver" counted the
    liver). CR A.4 visceral sites, C.2 step 2; FHIR R4 condition-ver-status unconfirmed."""
    past = _past_only(own)
    # on a metastasis Condition (not question_closes) a "?" written right after a word only
    # ("bone? liver"): one before a site ("Bone, ?liver metastases") is that site's doubt
    question = re.search(r"(?<=[a-z])\?", own, re.I) if not question_closes else None
    head = own.split("?")[0] if question_closes else own[:question.start()] if question else own
    listed = _text_site_list(own, confirmed)
    # (rt81) the item ends at a clause's end too: "Metastatic to bone. Lung?" asked the bone
    # ("bone. Lung?") as well as the lung the "?" closes
    last_item = re.split(r",|&|[.;|]|\b(?:and|or|to)\b", head.lower())[-1] if "?" in own else ""
    at_question = [site for rx, site in T.SITE_TEXT if rx.search(last_item)]
    if not question_closes:
        # only sites the "?" closes that no mention asserts ("Metastatic to bone, liver? lungs
        # clear": the liver was dropped without a word)
        # (rt55) and every site of the item when the "?" closes the text or its clause ("Metastatic
        # to bone?": the bone doubted, as rt50 reads it on a breast cancer Condition, not counted)
        closes_clause = question is not None and re.match(r"\?*\s*\)?\s*(?:$|[.;|])", own[question.start():])
        at_question = ([site for site in at_question if closes_clause or site not in listed]
                       if _only_sites(last_item) else [])
        last_item = last_item if at_question else ""
    before_question = set(_text_site_list(head, confirmed)) - set(at_question)
    if question is not None and (clause_end := _CLAUSE_END.search(own, question.end())):
        # (rt55) a later clause stands on its own ("Metastatic to bone?; liver metastases": the
        # liver asserted, not asked as after the "?")
        before_question |= set(_text_site_list(own[clause_end.end():], confirmed)) - set(at_question)
    counted: list[str] = []
    after_question: list[str] = []
    for site in listed:
        if site not in past and site in before_question:
            counted.append(site)
        else:
            after_question.append(site)
    asked_words = own[len(head) - len(last_item):][:60].strip()
    doubted = _doubted_sites(own, confirmed)
    asked = [(site, asked_words) for site in dict.fromkeys(at_question + after_question) if site not in past
             and (question_closes or site not in {d for d, _ in doubted})]  # asked once ("liver?")
    unclear = _sites_an_open_bracket_leaves_unclear(own)
    asked += [(site, words) for site, words in doubted if site not in {s for s, _ in unclear}]
    asked += list(past.items())
    # (ds12) a site the open bracket leaves unclear is not counted (it was when listed before the
    # mention: "(no liver, lung, brain metastases" counted the lung)
    if unclear:
        # unless written standing elsewhere ("Lung metastases. Bone metastases (no liver, lung, ...")
        outside = own
        for _, words in unclear:
            outside = outside.replace(words, " " * len(words), 1)
        standing = set(_text_site_list(outside, confirmed))
        counted = [site for site in counted if site not in {s for s, _ in unclear} or site in standing]
    asked += [(site, words) for site, words in unclear
              if site not in counted and site not in {s for s, _ in asked}]
    asked += _sites_left_unread(own, set(counted) | {site for site, _ in asked})
    return tuple(counted), tuple(asked)


# (rt84) any word _PAST_BEFORE / _PAST_AFTER / _PAST_LISTED read a past site by: the past reading
# (_sites_written_past) only where one is written
_ANY_PAST_WORD = re.compile(r"\b(?:history|hx|h/o|previous|prior|past|former|remote|resolved|resected|no longer|complete)")


@lru_cache(maxsize=4096)
def _sites_its_text_asks(text: str, own: str, counting: str, confirmed: bool, candidates: frozenset[str]
                         ) -> tuple[tuple[str, ...], tuple[tuple[str, str, bool], ...]]:
    """(rt84) Of the `candidates` (a metastasis Condition's coded site and bodySites), (site, the
    words, written in the past) for each its text (`text`, lower case, with the codes' displays)
    doubts (_doubted_sites) or its own text writes in the past (_sites_written_past) and its own
    text does not assert (read in `counting`: `own`, without the displays, which name the coded
    site, or with them where no code names one, as read before, cached): "Metastases,
    ?liver" (the liver asked), not "Metastases, liver" nor "Liver metastases, ?bone" (the bone
    only); with the sites `own` asserts (read only when one is asked). Not a site word left
    unread ("M1 nodal disease" coded axillary nodes: the nodes counted, rt44). The doubt reader is
    the one the gap reads anyway (cached): a text asking none of them costs no other reading."""
    text = _without_past_cancer(text)
    asked = [(site, words, False) for site, words in _doubted_sites(text, confirmed) if site in candidates]
    if _ANY_PAST_WORD.search(own):
        # read in the own text: "history of liver" beside a display is not read as past
        asked += [(site, words, True) for site, words in sorted(_sites_written_past(_without_past_cancer(own)))
                  if site in candidates]
    if not asked:
        return (), ()
    counted = _sites_now_and_asked(_without_past_cancer(counting), confirmed, question_closes=False)[0]
    return counted, tuple(dict.fromkeys((site, words, was) for site, words, was in asked if site not in counted))


def _sites_an_open_bracket_leaves_unclear(own: str) -> list[tuple[str, str]]:
    """(ds11) (site, the words) for each site named in the last comma item of a mention that a
    negation in a bracket never closed may or may not reach (_negation_in_unclosed_bracket: "Bone
    metastases (no liver, lung metastases": the lung): asked, as a doubted site is, never dropped
    in silence nor counted (CR A.4 counts a metastasis made; visceral or not, C.2 step 2)."""
    # (ds12) every comma item after the first, not the last only: "(no liver, lung, brain
    # metastases" counted the lung (the "no" may reach it as much as the brain)
    unclear = [(site, m.hedge[1]) for part in own.split(" | ") for m in _mentions(part)
               if m.hedge is not None and m.hedge[0] == "unclear"
               for site in dict.fromkeys(s for item in m.hedge[1].split(",")[1:] for s in _sites_named(item))]
    return list({site: (site, words) for site, words in reversed(unclear)}.values())[::-1]  # each site once, first words


# (ds3) a piece of a metastasis text naming a finding at a site ("lung and brain metastases
# confirmed" after "possible liver, ", "; lung: nodule 4 mm, indeterminate" after the clause)
_FINDING_AT_SITE = re.compile(r"\b(?:metasta\w*|mets|deposits?|lesions?|nodules?|masses|mass|foc(?:us|i)|opacit(?:y|ies)"
                              r"|disease|involvement|spread)\b")
_UNREAD_PIECE_END = re.compile(r"[;|()]|\.(?!\d)")
# (ds4) an organ's function or its blood tests written stable ("liver function stable", "LFTs
# stable", "renal function stable"): no disease at the site said (engineer knowledge)
_ORGAN_TESTS = re.compile(r"\b(?:function|enzymes?|tests?|lfts?|bloods?|labs?|values?|markers?)\b")


# (rt55) a closed list of other, non-malignant diseases of an organ, written before "disease" or
# in a bracket after it ("fatty liver disease", "lung disease (COPD)"); anything else stays asked
# (engineer knowledge: common non-oncological disease names; a word not listed is asked, not dropped)
_OTHER_DISEASE_OF_ORGAN = re.compile(
    r"\b(?:fatty|(?:non-?)?alcoholic|nafld|nash|cirrho\w*|hepatitis|interstitial|ild|obstructive|copd|emphysema\w*"
    r"|asthma|chronic|small\s+vessel|microvascular|cerebrovascular|ischa?emic|white\s+matter|stroke|degenerative"
    r"|polycystic|diverticular|autoimmune|eczema|psoriasis|osteoporo\w*|paget'?s?)\b")


def _another_disease_of_the_site(low: str, rest: str) -> bool:
    """Whether a piece whose only finding is "disease" names another disease of the organ, no
    metastasis (_OTHER_DISEASE_OF_ORGAN before "disease" or in a bracket right after it: "fatty
    liver disease", "brain: small vessel disease", "lung disease (COPD)"). "liver disease" alone,
    "bilateral lung disease" or "(2 lesions)" stay asked. CR A.4 counts a secondary cancer, not
    any disease of a visceral organ."""
    if any(m.group() != "disease" for m in _FINDING_AT_SITE.finditer(low)):
        return False
    if _OTHER_DISEASE_OF_ORGAN.search(low.split("disease")[0]):
        return True
    bracket = re.match(r"\(([^()?]*)\)", rest)
    return bool(bracket and _OTHER_DISEASE_OF_ORGAN.search(bracket.group(1)) and not _FINDING_AT_SITE.search(bracket.group(1)))


def _bracket_names_another_diagnosis(rest: str) -> bool:
    """Whether a bracket right after a piece names its finding another diagnosis, with no "?"
    ("liver lesion (FNH)", "lung lesion (infection)"; local_codes.yaml differential_question_after):
    no metastasis said, not asked. "(? haemangioma)" stays a question."""
    bracket = re.match(r"\(([^()]*)\)", rest)
    return bool(bracket and "?" not in bracket.group(1) and T.OTHER_DIAGNOSIS.search(bracket.group(1))
                and not _FINDING_AT_SITE.search(bracket.group(1).lower()))


def _stable_at_site(low: str) -> bool:
    """(ds4) The words write something stable that is not an organ's function or tests ("liver
    stable", not "liver function stable", "LFTs stable")."""
    return bool(_STABLE_NOW.search(low)) and not _ORGAN_TESTS.search(low)


# (ds13) the question left open after a finding (local_codes.yaml not_yet_excluded)
_STILL_OPEN_AFTER = re.compile(rf"\b{T.VOCABULARY['not_yet_excluded']}\b")


def _sites_left_unread(own: str, read: set[str]) -> list[tuple[str, str]]:
    """(site, the words) for each site a piece of the text names beside a finding that no reading
    counted, asked, refuted, cleared or found benign: a site never dropped in silence, asked
    ('Bone metastases, possible liver, lung and brain metastases confirmed': the lung and brain
    as doubted as the liver, or confirmed, which the words do not settle). FHIR R4
    condition-ver-status unconfirmed; CR A.4 visceral sites, C.2 step 2."""
    refuted = _text_sites(own)[1]
    found: list[tuple[str, str]] = []
    bounds = [0] + [m.end() for m in _UNREAD_PIECE_END.finditer(own)] + [len(own) + 1]
    for a, b in zip(bounds, bounds[1:]):
        piece, low = own[a:b - 1], own[a:b - 1].lower()
        # (fix-fx2) progression at a site is a finding there too ("Bone metastases; prior liver
        # progression, now stable": the liver was dropped without a word); (ds4) and stability
        # ("Bone metastases; liver stable": stable disease there, most likely, but no metastasis
        # written; the liver was dropped without a word), not of an organ's function or tests
        # ("liver function stable", "LFTs stable")
        # (ds4) and a site a "?" doubts in its own clause ("Bone metastases; ?liver": dropped,
        # as ", ?liver" is not)
        finding = _FINDING_AT_SITE.search(low) or _PROGRESSING_NOW.search(low)
        # (rt61) but not another diagnosis doubted or stable there ("? pneumonia in the lung",
        # "hepatic steatosis stable": local_codes.yaml differential_question_after), no metastasis
        if (not (finding or ((_stable_at_site(low) or "?" in low) and not T.OTHER_DIAGNOSIS.search(low)))
                or _BENIGN_FINDING.search(low) or _another_disease_of_the_site(low, own[b - 1:].lower())
                or _bracket_names_another_diagnosis(own[b - 1:])):
            continue
        # (ds13) "not excluded" / "cannot be ruled out" leaves the question open, no negation
        # ("Metastatic breast cancer, liver mets not excluded": the liver dropped without a word)
        negated = T.MET_NEGATION_ANY.search(_STILL_OPEN_AFTER.sub(" ", low)) or T.MET_SITE_CLEAR_AFTER.search(low)
        for rx, site in T.SITE_TEXT:
            if site not in read and site not in refuted and rx.search(low):
                items = [i for i in low.split(",") if rx.search(i)]
                # (ds4) a negation or clearing in another comma item ("liver stable, no new
                # lesions", "liver stable, lungs clear") is not said of a site its own item writes stable
                if negated and not any(_stable_at_site(i) and not T.MET_NEGATION_ANY.search(i)
                                       and not T.MET_SITE_CLEAR_AFTER.search(i) for i in items):
                    continue
                if all(T.MET_SITE_CLEAR_AFTER.search(i) for i in items):
                    continue  # (ds4) its own comma item clears it ("liver clear, stable")
                # quoted as its comma item when that names the finding ("lung and brain metastases
                # confirmed"), else as the piece ("lung: nodule 4 mm, indeterminate")
                item = next((i for i in piece.split(",") if rx.search(i.lower())
                             and (_FINDING_AT_SITE.search(i.lower()) or _PROGRESSING_NOW.search(i.lower())
                                  or _STABLE_NOW.search(i.lower()))),
                            piece)
                found.append((site, item.strip(" ,")[:60]))
                read = read | {site}
    return found


def _metastasis_to_breast(con: Concept) -> str | None:
    """What names a metastasis Condition a secondary malignant neoplasm OF the breast (codes.yaml
    secondary_of_breast: SNOMED CT 145501000119108, ICD-10-CM C79.81, or the words "secondary
    malignant neoplasm of breast" / "metastasis to the breast") when it names no other metastatic
    site by code or text, memoised per concept; else None."""
    if "to_breast" not in con.memo:
        found = None
        codes = [(system, code) for system, code, _ in con.codings if code]
        other_site = any(
            (is_icd10(system) and T.norm_icd(code).startswith(T.SECONDARY_ICD_ROOTS)
             and T.norm_icd(code) not in T.SECONDARY_OF_BREAST_ICD)
            or (is_snomed(system) and code in T.SECONDARY_SNOMED) for system, code in codes)
        coded = next((code for system, code in codes if (is_icd10(system) and T.norm_icd(code) in T.SECONDARY_OF_BREAST_ICD)
                      or (is_snomed(system) and code in T.SECONDARY_OF_BREAST_SNOMED)), None)
        text = con.text or ""
        words = T.SECONDARY_OF_BREAST_TEXT.search(text)
        if not other_site and not _text_site_list(text) and (coded or words):
            found = f"coded {coded}" if coded else f'"{words.group(0)}" in the text'  # type: ignore[union-attr]
        con.memo["to_breast"] = found
    return con.memo["to_breast"]


def _text_pericardium(text: str) -> bool:
    """(ds4) The metastasis text asserts the pericardium, a site ICD-10-CM codes only as C79.89
    (other specified sites): "Pericardial metastasis", "Malignant pericardial effusion"."""
    return bool(text) and "pericardium" in _sites_now_and_asked(_without_past_cancer(text), False, False)[0]


def _site_words(site: str) -> str:
    """A site id as a gap's sentence writes it ("lymph-node": "the text names the lymph nodes")."""
    return "lymph nodes" if site == "lymph-node" else site


def _body_site_beside(site: str, written: str) -> str:
    """The words a gap quotes for a bodySite its Condition's text rules out or leaves open, with
    that text ("bodySite the liver, the text: Metastatic breast cancer (no liver)")."""
    return f"bodySite the {_site_words(site)}, the text: {written}"


def _other_primary(con: Concept) -> bool:
    """The Condition is coded as a primary cancer of another site (ICD-10-CM C18.9 colon;
    codes.yaml other_primary_icd10), memoised per concept."""
    found = con.memo.get("other_primary")
    if found is None:
        found = con.memo["other_primary"] = any(
            code and is_icd10(system) and T.other_primary_icd(code) for system, code, _ in con.codings)
    return found


def _metastasis_coded_as_another_primary(con: Concept) -> tuple[str, str] | None:
    """(The site the text names, the code) when the Condition is coded only as a primary cancer
    of another site (codes.yaml other_primary_icd10) but its text asserts a metastasis at a site
    and names no cancer whose spread it is ("Metastasis to lung" coded C34.90; not "Lung cancer
    with bone metastases": that cancer's spread, CR A.4), memoised per concept; else None."""
    if "primary_coded_metastasis" not in con.memo:
        found = None
        text = con.text
        if text and _other_primary(con) and _metastatic_text(text) and not (
                T.OTHER_PRIMARY_TEXT.search(text) or T.ORGAN_CANCER_LOOSE.search(text)):
            site = _site_in_text(text)
            code = next((code for system, code, _ in con.codings
                         if code and is_icd10(system) and T.other_primary_icd(code)), None)
            found = (site, code) if site and code else None
        con.memo["primary_coded_metastasis"] = found
    return con.memo["primary_coded_metastasis"]


# words that put another cancer in the past or beside the metastasis, not as its primary
# ("Bone metastases; history of colon cancer"): which cancer spread is then unclear
_PAST_CANCER = re.compile(r"\b(history|hx|h/o|prior|previous|past|remote|treated|resected)\b")


# the other primary written as not there: "melanoma excluded", "no lung primary" (vocabulary
# negation_words before, ruled_out_words after: condition-ver-status "refuted")
_REFUTED_BEFORE = re.compile(rf"\b{T.VOCABULARY['negation_words']}\b[\s\w-]{{0,15}}$")
_REFUTED_AFTER = re.compile(rf"^[\s\w-]{{0,15}}\b(?:{T.VOCABULARY['ruled_out_words']}|negative)\b")


def _other_primary_refuted(text: str, m: re.Match[str]) -> bool:
    """The other cancer written as not there, or as a relative's ("history of lung cancer in
    mother", "mother: colon cancer": FHIR R4 FamilyMemberHistory, _RELATIVE_BEFORE): not a
    primary whose spread the metastasis may be."""
    return bool(_REFUTED_BEFORE.search(text[max(0, m.start() - 30):m.start()])
                or _REFUTED_AFTER.search(text[m.end():m.end() + 30])
                or _RELATIVE_BEFORE.search(text[max(0, m.start() - 45):m.start()])
                or T.MET_RELATIVE_AFTER.match(text[m.end():m.end() + 60]))


@lru_cache(maxsize=4096)
def _differential_named(text: str) -> re.Match[str] | None:
    """Another cancer named in a differential diagnosis (tables.DIFFERENTIAL_NAMED: "(ddx
    lung)", "DDx includes lymphoma"), not one the text rules out ("ddx lymphoma excluded")."""
    return next((m for m in T.DIFFERENTIAL_NAMED.finditer(text) if not _REFUTED_AFTER.search(text[m.end():m.end() + 30])),
                None)


# a comma piece or clause (cc_text joins text and displays with " | ")
_PAST_PIECE_END = re.compile(r"[.;|,]")


def _past_piece(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    """The span of the comma piece (or clause) holding m when it writes that cancer in the past
    ("history of colon cancer", "prior melanoma resected") and names no metastasis, else None."""
    before = [e.end() for e in _PAST_PIECE_END.finditer(text, 0, m.start())]
    after = _PAST_PIECE_END.search(text, m.end())
    a, b = (before[-1] if before else 0), (after.start() if after else len(text))
    piece = text[a:b]
    return (a, b) if _PAST_CANCER.search(piece) and not _SECONDARY_TEXT.search(piece) else None


def _past_beside_breast_metastasis(text: str, m: re.Match[str]) -> bool:
    """The other cancer written in the past in a piece of its own ("; history of colon
    cancer", ", prior melanoma resected"), and a clause giving the metastasis a breast
    primary ("Metastatic breast cancer", "Liver metastases, breast primary"): the text says
    which cancer spread (CR A.4: metastases with breast primary), the other is history."""
    if _past_piece(text, m) is None:
        return False
    return any(_SECONDARY_TEXT.search(c) and re.search(r"\bbreast\b", c) for c in _CLAUSE_END.split(text))


@lru_cache(maxsize=4096)
@_answered
def _without_past_cancer(text: str) -> str:
    """text without the pieces naming another cancer in the past beside a breast cancer
    metastasis (_past_beside_breast_metastasis): no metastatic site is read from them ("Bone
    metastases from breast cancer. History of lung cancer": bone, not lung)."""
    for m in T.OTHER_PRIMARY_TEXT.finditer(text):
        if _past_beside_breast_metastasis(text, m):
            a, b = _past_piece(text, m)  # type: ignore[misc]
            text = text[:a] + " " * (b - a) + text[b:]
    return text


@lru_cache(maxsize=4096)
def _other_primary_named(text: str) -> tuple[str, bool] | None:
    """(The words of a metastasis Condition's text that name a primary cancer of another site,
    "colon cancer", "lung adenocarcinoma", "melanoma": tables.OTHER_PRIMARY_TEXT, sourced in
    local_codes.yaml other_primary_text; whether they name the metastasis's own primary: in
    the clause of the metastasis mention, no past or breast cancer beside them), else None."""
    m = next((m for m in T.OTHER_PRIMARY_TEXT.finditer(text)
              if not _other_primary_refuted(text, m) and not _past_beside_breast_metastasis(text, m)), None)
    if m is None:
        return None
    clause = _clause(text, m.start(), m.end())
    # "Liver metastases (ddx lung primary)", "Bone metastasis, differential: myeloma": that
    # cancer in the differential (condition-ver-status "differential"), no primary made
    in_differential = bool(T.DIFFERENTIAL_WORDS.search(text[max(0, m.start() - 30):m.start()]))
    own = (bool(_SECONDARY_TEXT.search(clause)) and not _PAST_CANCER.search(clause)
           and not re.search(r"\bbreast\b", text) and not in_differential)
    return m.group(0), own


@lru_cache(maxsize=4096)
def _organ_cancer_only(text: str, coded_secondary: bool) -> str | None:
    """The words of a loose "organ cancer" phrase ("metastatic lung cancer", "metastatic cancer
    of the liver": local_codes.yaml other_primary_text organ_cancer_loose) when nothing else in
    the text names whose cancer it is: no breast word and no other primary outside the phrase;
    uncoded (coded_secondary False), no other metastasis mention beside it either. Else None."""
    # not one written as not there or as a relative's ("no metastatic lung cancer")
    found = [m for m in T.ORGAN_CANCER_LOOSE.finditer(text) if not _other_primary_refuted(text, m)]
    if not found or re.search(r"\bbreast\b", text):
        return None
    rest = text
    for m in found:
        rest = rest[:m.start()] + " " * (m.end() - m.start()) + rest[m.end():]
    if T.OTHER_PRIMARY_TEXT.search(rest) or (not coded_secondary and _SECONDARY_TEXT.search(rest)):
        return None
    return found[0].group(0)


def _secondary_coded(con: Concept) -> tuple[bool, str | None, bool | None]:
    """_secondary_codes, memoised per concept (read for every Condition on every call)."""
    coded = con.memo.get("secondary")
    if coded is None:
        coded = con.memo["secondary"] = _secondary_codes(con)
    return coded


def _secondary_codes(con: Concept) -> tuple[bool, str | None, bool | None]:
    """(is secondary, site, explicit visceral override) from the codes alone."""
    is_secondary = False
    site: str | None = None
    visceral: bool | None = None
    for system, code, _ in con.codings:
        if not code:
            continue
        if is_icd10(system):
            n = T.norm_icd(code)
            if n.startswith(T.SECONDARY_ICD_ROOTS):
                is_secondary = True
                for prefix, s, v in T.SECONDARY_ICD:
                    if n.startswith(prefix):
                        site, visceral = s, v
                        break
        elif is_snomed(system):
            if code in T.SECONDARY_SNOMED:
                is_secondary, site = True, T.SECONDARY_SNOMED[code]
            elif code in T.SECONDARY_GENERIC_SNOMED:
                is_secondary = True
    return is_secondary, site, visceral


def _secondary_rest(res: dict[str, Any], text: str, is_secondary: bool, site: str | None,
                    visceral: bool | None) -> tuple[bool, str | None, bool | None]:
    if is_secondary and site is None:
        site = next(iter(_body_sites(res)), None)
    if is_secondary and site is None:
        # the first site the text asserts ("Bone metastases, possible liver mets": bone, not
        # the hedged liver; _text_site_list), else the part after "of"/"to" ("metastasis to
        # liver"), not a refuted one ("bone metastases; liver metastasis ruled out": bone)
        own = _without_past_cancer(text) if text else ""
        listed = _text_site_list(own) if own else ()
        site = listed[0] if listed else (_site_in_text(own) if own else None)
    return is_secondary, site, visceral


# (ds13) a bodySite naming the skin and lymphangitic spread, no lung
_SKIN_NOT_LUNG = re.compile(r"^(?!.*\b(?:lung|pulmonary)).*\b(?:skin|cutaneous|dermal|chest wall)\b", re.I | re.S)


def _body_sites(res: dict[str, Any]) -> list[str]:
    """The metastatic sites of Condition.bodySite, in order and each once (FHIR R4
    Condition.bodySite is 0..*: one secondary-cancer Condition may name bone and liver)."""
    out: list[str] = []
    for bs in as_list(res.get("bodySite")):
        site = next((T.BODY_SITES[code] for _, code, _ in codings(bs) if code in T.BODY_SITES), None)
        if site is None and (words := cc_text(bs)):
            site = _site_from_text(words)
            if site == "lung" and _SKIN_NOT_LUNG.search(words):
                # (ds13) "Skin of breast (lymphangitic spread)" read as the lung (visceral, CR C.1):
                # lymphangitic spread in the skin is dermal lymphatic spread (carcinoma erysipeloides,
                # ICD-10-CM C79.2, not visceral), as tables.SITE_TEXT reads the skin written after it
                site = None
        if site and site not in out:
            out.append(site)
    return out


def _breast_body_site(res: dict[str, Any]) -> str | None:
    """The words of a Condition.bodySite naming the breast (codes.yaml secondary_of_breast
    body_site: SNOMED CT breast structures or the word), else None."""
    for bs in as_list(res.get("bodySite")):
        words = cc_text(bs)
        if any(code in T.SECONDARY_OF_BREAST_BODY_SNOMED for _, code, _ in codings(bs)) \
                or (words and T.SECONDARY_OF_BREAST_BODY_TEXT.search(words)):
            return words or "breast"
    return None


# an "of" / "to" / "in" opening the site ("metastasis to liver")
_OF_TO_IN = re.compile(r"\b(of|to|in)\b")


@lru_cache(maxsize=4096)
def _site_after_of(text: str) -> str | None:
    """The site named after the first "of" / "to" / "in" (the text up to it dropped from its
    line's start), else in the whole text. (lt2) The same as re.sub(r".*?\b(of|to|in)\b", "",
    text, count=1), which retried its lazy ".*?" from every position of a text without those
    words: quadratic, 60 ms on a 2,000-character text."""
    m = _OF_TO_IN.search(text)
    if m is not None:
        text = text[:text.rfind("\n", 0, m.start()) + 1] + text[m.end():]
    return _site_from_text(text)


@lru_cache(maxsize=4096)
@_answered
def _text_sites(text: str) -> tuple[str | None, frozenset[str]]:
    """(The metastatic site the text names, _site_after_of; the sites it refutes). A refuted
    site is no site (FHIR condition-ver-status "refuted"): the text is read without each
    refuted mention's span, and without what a negation refutes in the rest of a comma piece
    after its last mention left standing (all the piece when none stands), _refuted_rest
    ("bone metastases, liver lesion ruled out", "bone metastases with no liver lesions",
    "Metastatic to bone. No evidence of liver metastasis": bone). A site the same part also names
    standing ("liver metastasis; second liver lesion: metastasis ruled out") is not refuted."""
    if not T.MET_NEGATION_ANY.search(text):
        # (fix-dz3) the site before an "of"/"to" that opens no site ("Bone mets (to be
        # confirmed)", "Liver metastasis? biopsy planned to confirm"), as below
        return _site_after_of(text) or _site_from_text(text), frozenset()
    kept_parts: list[str] = []
    refuted: set[str] = set()
    for part in text.split(" | "):
        mentions = _mentions(part)
        spans = [m.refuted for m in mentions if m.refuted is not None]
        standing = [(m.start, _own_end(part, m.end)) for m in mentions if m.refuted is None]
        ends = [0] + [p.end() for p in _PIECE_END.finditer(part)] + [len(part)]
        for a, b in zip(ends, ends[1:]):
            rest = max([a] + [own_end for start, own_end in standing if a <= start < b])
            spans += _refuted_rest(part, rest, b)
        spans += _refuted_in_closed_brackets(part, [start for start, _ in standing])
        kept = list(part)
        for a, b in spans:
            kept[a:b] = " " * (b - a)
        kept_text = "".join(kept)
        refuted |= ({site for a, b in spans for rx, site in T.SITE_TEXT if rx.search(part, a, b)}
                    - {site for rx, site in T.SITE_TEXT if rx.search(kept_text)})
        kept_parts.append(kept_text)
    # a code's display may still name the refuted site ("... | Secondary malignant neoplasm
    # of liver"): the first site named that the text does not refute
    kept_text = " | ".join(kept_parts)
    named = [_site_after_of(kept_text)] + [_site_after_of(k) for k in kept_parts] + \
        [site for rx, site in T.SITE_TEXT if rx.search(kept_text)]
    return next((s for s in named if s is not None and s not in refuted), None), frozenset(refuted)


# a closed bracket, one nested level ("(no liver (MRI))"), round or square
_CLOSED_BRACKET = re.compile(r"[(\[](?:[^()\[\]]|[(\[][^()\[\]]*[)\]])*[)\]]")


def _refuted_in_closed_brackets(part: str, standing: list[int]) -> list[tuple[int, int]]:
    """(rt81) What a negation inside a closed bracket refutes: from its words to the bracket's
    close. Since ds11 such a "no" stops at its bracket (_refuted_before: "Bone metastases (no
    liver), lung metastases" counts the lung), so the mention after the bracket stands; the sites
    inside it were then read as that mention's own ("(no liver or lung) bone metastases" counted
    the liver and lung, visceral, CR A.4) where the text rules them out. Not a bracket holding a
    mention left standing nor one whose "no" qualifies a change ("(no change in liver
    metastases)": read by the mentions, as before)."""
    if "(" not in part and "[" not in part:
        return []
    out = []
    for br in _CLOSED_BRACKET.finditer(part):
        neg = T.MET_NEGATION_BEFORE.search(part, br.start(), br.end())
        # (a bisect over the standing mentions, in order: linear in a long text, lt1/lt2)
        if (neg is not None and bisect.bisect_left(standing, br.start()) == bisect.bisect_left(standing, br.end())
                and not any(rx.search(part, neg.start(), br.end()) for rx in (_CLAUSE_END, _CHANGE_WORDS, _NOT_PRESENCE))):
            out.append((neg.start(), br.end()))
    return out


def _refuted_rest(part: str, rest: int, end: int) -> list[tuple[int, int]]:
    """What a negation refutes in part[rest:end], the rest of a comma piece after its last
    mention left standing: from negation words before a finding to the end ("with no liver
    lesions"), and up to "ruled out" / "excluded" / "negative" written after one ("and liver
    lesion ruled out", "negative bone scan")."""
    before = T.MET_NEGATION_BEFORE.search(part, rest, end)
    upto = before.start() if before else end
    after = list(T.MET_NEGATION_AFTER_WORDS.finditer(part, rest, upto))
    return ([(rest, after[-1].end())] if after else []) + ([(upto, end)] if before else [])


# the words a list of sites may hold beside the site words ("bone, liver and lung", "the
# T-spine", "lymph nodes")
_SITE_LIST_LINKS = frozenset({"and", "or", "the", "to", "of", "in", "both", "multiple", "several", "left", "right",
                              "bilateral", "lymph", "nodes", "node"})


def _sites_named(piece: str) -> set[str]:
    """The sites a piece's words name (tables SITE_TEXT)."""
    return {site for rx, site in T.SITE_TEXT if rx.search(piece)}


def _only_sites(piece: str) -> bool:
    """The comma piece names sites and nothing else ("liver and lung", "T-spine"); not a site
    doubted by a "?" ("Bone metastases, ?liver", "liver?"), as "possible liver" is not one: the
    "?" is the hedge metastasis_hedges reads before / after a mention (FHIR R4
    condition-ver-status unconfirmed; CR A.4 counts a diagnosis made)."""
    if "?" in piece:
        return False
    words = re.findall(r"[a-z][a-z-]*", piece)
    return bool(words) and all(w in _SITE_LIST_LINKS or any(rx.search(w) for rx, _ in T.SITE_TEXT) for w in words) \
        and any(rx.search(piece) for rx, _ in T.SITE_TEXT)


def _asserted_mention_pieces(text: str, confirmed: bool = False):
    """(piece, its offset in its " | " part, whether it holds the mention, the mention's offset
    in it) for each comma piece of the clause of each metastasis mention the text neither
    refutes nor hedges: the pieces _text_site_list counts sites in and _doubted_sites asks.
    confirmed: the Condition is verificationStatus confirmed, so that a mention written as
    probable is asserted ("Likely bone and liver metastases": bone and liver, rt44), as
    build_disease reads the mention itself."""
    for part in text.split(" | "):
        for m in _mentions(part):
            if m.refuted is not None or (m.hedge is not None and not (confirmed and m.hedge[0] == "probable")):
                continue
            clause = _clause(part, m.start, m.end)
            pos = part.find(clause)
            # sites written clear in a bracket of the clause, whose commas may split it across
            # pieces ("Bone metastases (liver, lungs clear)"), as offsets in the part
            clear = [(pos + a, pos + b) for a, b, _ in _bracket_clear(clause, m.start - pos)]
            # a site doubted as the last one listed before the mention ("Bone and ?liver
            # metastases", "Bone, ?liver metastases"), in the mention's piece
            listed = [(pos + a, pos + b, words) for a, b, words in _listed_doubts(clause, m.start - pos)]
            # a site named after the mention as another finding ("Bone metastases and liver
            # lesions", "... with indeterminate lung nodules"): asked; a benign one ("and liver
            # cysts") is no site
            for a, b, words, benign in _site_findings(clause, m.end - pos):
                if benign:
                    clear.append((pos + a, pos + b))
                elif not any(x <= pos + a < y for x, y in clear):  # not in a bracket written clear
                    listed.append((pos + a, pos + b, words))
            for piece in clause.split(","):
                yield (piece, pos, pos <= m.start < pos + len(piece) + 1, m.start - pos,
                       tuple((a - pos, b - pos) for a, b in clear),
                       tuple((a - pos, b - pos, words) for a, b, words in listed))
                pos += len(piece) + 1


# a list closing ("lung and brain", "lung or brain", "lung & brain")
_LIST_CLOSE = re.compile(r"\b(?:and|or)\b|&")


def _doubt_spread(pieces: list[tuple]) -> dict[int, str]:
    """index -> the list as written, for each comma piece a doubt before the first site of a list
    spreads to: the pieces after a doubted one ("possible liver", "?liver") that name only sites,
    up to the one closing the list with "and" / "or" ("Bone metastases, possible liver, lung and
    brain": the lung and the brain are as doubted as the liver; were counted, ds2). Not counted,
    asked (FHIR R4 condition-ver-status unconfirmed; CR A.4 counts a diagnosis made). A list that
    does not close (", ?liver, lung") is read as before: the lung asserted."""
    spread: dict[int, str] = {}
    i = 0
    while i < len(pieces):
        piece, holds = pieces[i][0].lower(), pieces[i][2]
        doubt = _DOUBT_BEFORE.match(piece)
        if not holds and doubt and _only_sites(piece[doubt.end():]) and not _LIST_CLOSE.search(piece):
            j = i + 1
            while (j < len(pieces) and not pieces[j][2] and _only_sites(pieces[j][0].lower())
                   and not _LIST_CLOSE.search(pieces[j][0].lower())):
                j += 1
            if (j < len(pieces) and not pieces[j][2] and _only_sites(pieces[j][0].lower())
                    and _LIST_CLOSE.search(pieces[j][0].lower())):
                words = ",".join(p[0] for p in pieces[i:j + 1]).strip()
                spread.update((k, words) for k in range(i + 1, j + 1))
                i = j
        i += 1
    return spread


def _blanked(piece: str, spans: tuple[tuple[int, int], ...]) -> str:
    """piece with each span (start, end) of it written as spaces."""
    if not spans:
        return piece
    chars = list(piece)
    for a, b in spans:
        a, b = max(a, 0), min(b, len(piece))
        if a < b:
            chars[a:b] = " " * (b - a)
    return "".join(chars)


@lru_cache(maxsize=4096)
@_answered
def _text_site_list(text: str, confirmed: bool = False) -> tuple[str, ...]:
    """Every metastatic site the text asserts, in the order written: the sites of each comma
    piece of a clause holding a metastasis mention neither refuted nor hedged, the mention's
    own piece or a piece naming only sites ("Metastases to bone, liver and lung", "Liver and
    bone metastases"), less the sites the text refutes (_text_sites). A piece naming something
    else ("liver lesion indeterminate") gives none."""
    refuted = _text_sites(text)[1]
    found: list[tuple[int, str]] = []
    pieces = list(_asserted_mention_pieces(text, confirmed))
    spread = _doubt_spread(pieces)
    read: set[tuple] = set()
    for index, (piece, pos, holds, at, clear, listed) in enumerate(pieces):
        if index in spread:
            continue  # as doubted as the site before it (_doubt_spread): asked, not counted
        if not holds:
            # (lt2) each mention of a clause yields the clause's other pieces again: one read
            # of a piece with the same sites written clear finds the same sites (was the square
            # of a clause's mentions: 400 mentions in 2,000 characters took 170 ms)
            if (pos, piece, clear) in read:
                continue
            read.add((pos, piece, clear))
        # a piece naming sites and a bracket of sites written clear names sites only
        # ("Metastases to bone, liver (lungs clear)": the liver)
        bare = _blanked(piece, clear)
        if holds or _only_sites(bare):
            # not a site doubted in a bracket of the mention's piece ("Bone metastases (?liver)")
            # nor one written clear in a bracket of its clause ("Bone metastases (liver clear)",
            # "(liver, lungs clear)")
            skip = [(a, b) for a, b, _ in _bracket_doubts(piece, at) + listed] if holds else []
            # (ds5) nor one a bracket writes stable with no metastasis word ("Bone metastases
            # (liver stable)" counted the liver where "; liver stable" asks it): asked
            # (_sites_left_unread), the text not saying the liver holds metastasis (CR A.4, C.3)
            skip += _bracket_stable(piece, at) if holds else []
            skip += clear
            if holds:
                # (lt2) the same piece with the same words skipped finds the same sites
                if ("holds", pos, piece, tuple(skip)) in read:
                    continue
                read.add(("holds", pos, piece, tuple(skip)))
            found += [(pos + hit.start(), site) for rx, site in T.SITE_TEXT for hit in rx.finditer(piece)
                      if not any(a <= hit.start() < b for a, b in skip)]
    ordered = [site for _, site in sorted(found)]
    return tuple(s for s in dict.fromkeys(ordered) if s not in refuted)


# a comma piece doubting the sites it names: "?" (or "??") or a suspicion / probable word before
# them, "?" or a suspicion word after them ("?liver", "liver?", "possible liver", "liver (query)")
_DOUBT_BEFORE = re.compile(rf"^\s*(?:\?+|\b(?:{_DOUBT_WORDS})\b)\s*")
# (ds) and a probable word after them ("Bone metastases, liver likely", "(liver - likely)")
# (ds13) or the question left open after them ("Metastatic breast cancer, liver mets not excluded" /
# "cannot be excluded" / "not ruled out": read nothing, and a bodySite the liver counted, visceral,
# CR C.1; local_codes.yaml not_yet_excluded, the after-form of cannot_exclude: condition-ver-status
# unconfirmed, not refuted): asked, not counted
_DOUBT_AFTER = re.compile(rf"\s*[(\[]?\s*(?:\?+|\b{T.VOCABULARY['suspicion_words_after']}\b"
                          rf"|\b{T.VOCABULARY['not_yet_excluded']}\b"
                          rf"|\b(?:{T.VOCABULARY['probable_words']})\b)\s*[)\]]?\s*$")
# a bracket (its closing one may lie past the comma piece: "Bone metastases (? liver, ? lung)")
_BRACKET = re.compile(r"[(\[]((?:[^()\[\]]|[(\[][^()\[\]]*[)\]])*)(?:[)\]]|$)")


def _balanced(words: str) -> str:
    """The words as quoted, without a bracket whose partner lies in another comma piece ("?liver)"
    of "Bone metastases (spine, ?liver)" is quoted "?liver")."""
    words = words.strip()
    # (ds13) a surplus closing bracket at the end dropped alone ("bone (2020))" of "(no liver (2019),
    # bone (2020))" was quoted "bone (2020", its own bracket cut)
    while words.endswith((")", "]")) and words.count(")") + words.count("]") > words.count("(") + words.count("["):
        words = words[:-1].rstrip()
    if words.count("(") + words.count("[") != words.count(")") + words.count("]"):
        words = words.strip("()[] ")
    return words


# what may stand before the sites written clear: the scan that cleared them ("(CT: liver, lungs
# clear)"), and the words naming a finding at a site, no site themselves ("(liver lesions = cysts)")
_CLEAR_SCAN_BEFORE = re.compile(rf"^\s*(?:{_SCAN_WORDS}|staging)\s*[:-]?\s*", re.I)
# (rt44) and the scan named after the site ("(bone scan clear)": the bone is clear, as in "(CT:
# bone clear)")
_FINDING_WORDS = re.compile(r"\b(?:lesions?|nodules?|findings?|scans?)\b")
# (ds11) and the scan or date that cleared them in a bracket after the words ("(liver clear (CT),
# lung metastases)": the liver was counted, the site_clear_after words read only at the end)
_CLEAR_SCAN_AFTER = re.compile(rf"\s*[(\[]\s*(?:{_SCAN_WORDS}|staging|[\d/.-]+)"
                               r"\s*[)\]]\s*$", re.I)
# (ds12) a scan or date bracket anywhere in a piece ("bone (CT)"), as _CLEAR_SCAN_AFTER names them
_SCAN_BRACKET = re.compile(rf"[(\[]\s*(?:{_SCAN_WORDS}|staging|bone scan|[\d/.-]+)"
                           r"\s*[)\]]", re.I)
# a dash opening more after a mention ("Bone metastases - liver, lungs clear")
_DASH_AFTER = re.compile(r"\s[-\u2013]\s")

# (ds13) a site with its scan or date in a bracket, then another site with no comma between
# ("(no liver (US) bone (CT))": the bone dropped without a word, while "(no liver (US), bone
# (CT))" asks it)
_SITE_SCAN_THEN_SITE = re.compile(rf"\b(?P<before>[a-z-]+)\s*{_SCAN_BRACKET.pattern}(?P<gap>\s)\s*(?P<after>[a-z-]+)")


def _scan_brackets_listed(text: str) -> str:
    """text with a comma in the space between a site's scan / date bracket and the next site
    ("liver (us) bone (ct)" -> "liver (us),bone (ct)"): a list of sites each with its scan, read
    as the list written with commas (ds12 cf0154b). The length kept, so that quotes map back to
    the text as written (_words_as_written)."""
    for m in reversed(list(_SITE_SCAN_THEN_SITE.finditer(text))):
        if _is_site_word(m.group("before")) and _is_site_word(m.group("after")):
            text = f"{text[:m.start('gap')]},{text[m.end('gap'):]}"
    return text



def _sites_written_clear(words: str) -> bool:
    """The words name only sites, then say they are clear (local_codes.yaml metastasis_negations
    site_clear_after): "liver, lungs clear", "CT: liver, lungs: no lesions", "liver: cyst"."""
    w = _CLEAR_SCAN_AFTER.sub("", words.lower()).strip()
    if w[:1] in "([" and w[-1:] in ")]":
        w = w[1:-1]  # (ds11) a bracket within the bracket read: "Bone metastases ((liver clear)"
    clear = T.MET_SITE_CLEAR_AFTER.search(w)
    return clear is not None and _only_sites(_FINDING_WORDS.sub(" ", _CLEAR_SCAN_BEFORE.sub("", w[:clear.start()])))


def _clear_items(words: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end, the words) of each run of comma / semicolon items of the words that names
    only sites written clear: an item written clear ("lungs clear", "liver: cyst") with the items
    naming only sites listed right before it ("liver, lungs clear"). An item naming more than
    sites ends the run, so that "lungs clear, liver mets" clears the lung alone and "liver mets,
    lungs clear" keeps the liver (rt44: a bracket not clear as a whole had every site in it
    counted, the lung of "(lungs clear, liver mets)" and the brain of "(brain clear, ...)" too)."""
    found, run_start, at = [], None, 0
    for item in re.split(r"([,;])", words):
        if item in (",", ";"):
            at += 1
            continue
        if _sites_written_clear(item):
            start = at if run_start is None else run_start
            found.append((offset + start, offset + at + len(item), words[start:at + len(item)].strip()))
            run_start = None
        elif _only_sites(_FINDING_WORDS.sub(" ", _CLEAR_SCAN_BEFORE.sub("", item.lower()))):
            run_start = at if run_start is None else run_start
        else:
            run_start = None
        at += len(item)
    return found


@lru_cache(maxsize=1024)
def _clear_brackets(clause: str) -> tuple[tuple[re.Match[str], list], ...]:
    """Each bracket of the clause and the sites written clear in it (_clear_items), read once for
    all the clause's mentions (lt2)."""
    return tuple((b, _clear_items(b.group(1), b.start(1))) for b in _BRACKET.finditer(clause))


def _bracket_clear(clause: str, mention_at: int) -> tuple[tuple[int, int, str], ...]:
    """(start, end, the words) of the sites written clear in each bracket in the mention's clause,
    not holding the mention ("Bone metastases (liver clear)", "(liver and lungs normal)",
    "(liver, lungs: no lesions)", "(CT: liver, lungs clear)", "(liver: cyst)", "(lungs clear,
    liver mets)": the lung; _clear_items), and in the words after a dash past the mention to the
    clause's end ("Bone metastases - liver, lungs clear"; the mention's own site written before
    the dash, so that "Metastases - bone, liver clear" keeps the bone): no site."""
    found = []
    for b, items in _clear_brackets(clause):
        if not (b.start() <= mention_at < b.end()):
            found += items
    dash = _DASH_AFTER.search(clause, mention_at)
    if dash is not None and not any(ch in clause[dash.end():] for ch in "()[]") \
            and _is_site_word(clause[:dash.start()]):
        found += _clear_items(clause[dash.end():], dash.end())
    return tuple(found)


def _bracket_doubts(piece: str, mention_at: int) -> tuple[tuple[int, int, str], ...]:
    """(start, end, the bracket as written) of each bracket in the mention's own comma piece,
    not holding the mention, that doubts what it names as _DOUBT_BEFORE / _DOUBT_AFTER read a
    comma piece ("Bone metastases (?liver)", "(liver?)", "(possible liver)"): the sites in it
    are not counted (_text_site_list) but asked (_doubted_sites), as "Bone metastases, ?liver"."""
    return tuple((a, b, words) for a, b, words in _doubting_brackets(piece) if not a <= mention_at < b)


@lru_cache(maxsize=1024)
def _doubting_brackets(piece: str) -> tuple[tuple[int, int, str], ...]:
    """_bracket_doubts' brackets, read once for all the piece's mentions (as lt2's _clear_brackets:
    (ds11) a bracket may hold another, so that each read goes further)."""
    found = []
    for b in _BRACKET.finditer(piece):
        # (ds11) less a scan or date bracket closing it ("(liver - likely (MRI))": the liver was counted)
        inner = _CLEAR_SCAN_AFTER.sub("", b.group(1).lower())
        if inner.strip() and _DOUBT_AFTER.sub("", _DOUBT_BEFORE.sub("", inner)) != inner.strip():
            found.append((b.start(), b.end(), b.group().strip()))
    return tuple(found)


def _bracket_stable(piece: str, mention_at: int) -> list[tuple[int, int]]:
    """(start, end) of each bracket in the mention's own comma piece, not holding the mention,
    writing a site stable with no finding named ("Bone metastases (liver stable)", "(liver
    function stable)"): read as "Bone metastases; liver stable" is (ds4, _sites_left_unread asks
    it; an organ's function or tests stable asks nothing), not counted. (rt64) Only beside
    metastases naming a site of their own: "Metastatic disease (liver stable)" writes where
    they are and their course, as "Metastases (liver, stable)" (the liver was dropped)."""
    return [(a, b) for a, b in _stable_brackets(piece) if not a <= mention_at < b]


@lru_cache(maxsize=1024)
def _stable_brackets(piece: str) -> tuple[tuple[int, int], ...]:
    """_bracket_stable's brackets, read once for all the piece's mentions (ds11, as _doubting_brackets)."""
    if not _is_site_word(_BRACKET.sub(" ", piece)):
        return ()
    return tuple((b.start(), b.end()) for b in _BRACKET.finditer(piece)
                 if _STABLE_NOW.search(inner := b.group(1).lower())
                 and not _FINDING_AT_SITE.search(inner) and not _PROGRESSING_NOW.search(inner))


@lru_cache(maxsize=4096)
@_answered
def _doubted_sites(text: str, confirmed: bool = False) -> tuple[tuple[str, str], ...]:
    """(site, the piece as written) for each comma piece beside an asserted metastasis mention
    that names only sites, doubted ("Bone metastases, ?liver", "Metastases to bone, possible
    liver"): _text_site_list does not count them (_only_sites); they are asked, not dropped in
    silence (FHIR R4 condition-ver-status unconfirmed; CR A.4 counts a diagnosis made)."""
    found: list[tuple[str, str]] = []
    pieces = list(_asserted_mention_pieces(text, confirmed))
    spread = _doubt_spread(pieces)
    for index, (piece, _, holds, at, _, listed) in enumerate(pieces):
        if index in spread:
            found += [(site, spread[index]) for rx, site in T.SITE_TEXT if rx.search(piece.lower())]
            continue
        if holds:
            # a site doubted in a bracket of the mention's own piece ("Bone metastases (?liver)")
            found += [(site, _balanced(words)) for _, _, words in _bracket_doubts(piece, at) + listed
                      for rx, site in T.SITE_TEXT if rx.search(words.lower())]
            continue
        bare = _DOUBT_AFTER.sub("", _DOUBT_BEFORE.sub("", piece.lower()))
        if bare != piece.lower().strip() and "?" not in bare and _only_sites(bare):
            found += [(site, _balanced(piece)) for rx, site in T.SITE_TEXT if rx.search(bare)]
        elif "?" not in bare and _SCAN_BRACKET.search(bare) and _only_sites(_SCAN_BRACKET.sub(" ", bare)):
            # (ds12) the same with the scan that found it in a bracket: "Metastatic breast cancer
            # (no liver (US), bone (CT))" asked nothing of the bone where "(no liver, bone)" asks it
            words = piece.strip()
            words = words[:-1] if words.endswith((")", "]")) and words.count(")") + words.count("]") > \
                words.count("(") + words.count("[") else words
            found += [(site, words) for rx, site in T.SITE_TEXT if rx.search(_SCAN_BRACKET.sub(" ", bare))]
    # (rt44) a finding inside a doubted bracket is asked once, as the bracket ("Bone metastases
    # (? liver lesions)" quoted "(? liver lesions)" and "liver lesions")
    return tuple(f for f in dict.fromkeys(found)
                 if not any(o != f and o[0] == f[0] and f[1].lower() in o[1].lower() for o in found))


def _site_in_text(text: str) -> str | None:
    """The metastatic site the text names, not one it refutes (_text_sites)."""
    return _text_sites(text)[0]


@lru_cache(maxsize=4096)
def _site_from_text(text: str) -> str | None:
    if not text:
        return None
    for rx, site in T.SITE_TEXT:
        if rx.search(text):
            return site
    return None


@lru_cache(maxsize=4096)
def _stage_from_text(text: str) -> bool | None:
    """True for stage IV, False for an earlier stage (0-III), None if no stage is written, or
    if it is written as a range ("stage III-IV": either) or stage IV as a suspicion, and none
    for a stage IV written as not there (_stage4_reading), though an earlier stage beside it
    is read ("Stage IIA, not stage IV"). With no stage group written, a TNM M1 ("pT2N0M1",
    "cM1") is stage IV: AJCC 8th edition, any T any N M1 is stage IV (CR A.4 counts M1 as stage
    IV does)."""
    reading = _stage4_reading(text)
    if reading == "open":
        return None
    for part in text.split("|"):  # cc_text joins text and displays with " | "
        bare = _STAGE_BARE.match(part)
        for m in [bare] if bare else _STAGE_NAMED.finditer(part):
            if _stage_range(m.group(1).lower(), _STAGE_RANGE.match(part, m.end())):
                return None
            stage4 = m.group(1).lower() in ("iv", "4")
            if not (stage4 and reading in ("negated", "not assessed")):
                return stage4
    return True if reading == "asserted" else None


def _stage_range(first: str, then: re.Match[str] | None) -> bool:
    """The stage value `first` and the value after it (then: _STAGE_RANGE) are a range of two
    stage groups: written in the same numerals ("III-IV", "3/4"; "0" goes with either), and
    after a dash or "to" an arabic end is higher than the start ("Stage 4 - 2 lesions" is a
    count). "Stage IV - 1 bone lesion", "Stage IV - 2 sites": a stage and a count, no range."""
    if then is None:
        return False
    end = then.group(2).lower()
    if "0" not in (first, end) and first.isdigit() != end.isdigit():
        return False
    counted = then.group(1) in ("-", "to") and end.isdigit()
    return not (counted and _STAGE_RANK[end] <= _STAGE_RANK[first])


def _is_stage4_value(cc: Any, text_fallback: bool = True) -> bool | None:
    """True for stage IV, False for a recognised earlier stage, None if unreadable.

    A code is evidence only when it is known: a stage-IV code of the tables, or an AJCC
    value (http://cancerstaging.org, e.g. "2A") read as a stage. Any other code (an
    unlisted SNOMED or local stage code may well be stage IV) says nothing either way;
    then the text decides, else None.
    """
    early = False
    for system, code, display in codings(cc):
        if not code:
            continue
        if system == T.AJCC or "cancerstaging" in system:
            if code.upper() in T.STAGE4_AJCC:
                return True
            ajcc = _stage_from_text(code)
            if ajcc:
                return True
            early = early or ajcc is False
        elif is_snomed(system) and code in T.STAGE4_VALUES:
            return True
    text = cc_text(cc) if isinstance(cc, dict) else text_of(cc)
    written = _stage_from_text(text) if text_fallback and text else None
    if written:
        return True
    return False if early or written is False else None


def _dated_before(date: dt.date | None, last: dt.date | None, diagnosed: dt.date | None) -> bool:
    """A stage dated more than the de novo window before the breast-cancer diagnosis, on every
    day its date can mean: staging comes with or after the diagnosis of the cancer it stages
    (AJCC: the stage of a cancer is assigned at its diagnosis, then at recurrence), so it
    stages an earlier cancer or the dates are wrong; a few weeks early is the usual work-up."""
    return date is not None and diagnosed is not None and ((diagnosed - (last or date)).days > DE_NOVO_DAYS)


def _stages_another_cancer(ctx: Ctx, res: dict[str, Any]) -> str | None:
    """The Condition a staging Observation's focus names (mCODE CancerStage: focus only
    Reference(PrimaryCancerCondition), the cancer staged; FHIR R4 Observation.focus) when
    every focus received is a Condition other than a breast cancer: its display; else None
    (no focus, one not received, or a breast cancer among them)."""
    focus = res.get("focus")
    if not focus:
        return None
    others: list[str] = []
    for ref in as_list(focus):
        cond = ctx.resolve(ref, res)
        if not isinstance(cond, dict) or cond.get("resourceType") != "Condition":
            return None
        if _is_primary_breast(ctx, cond)[0]:
            return None
        others.append(_display(cond, "Condition"))
    return "; ".join(others) or None


def _stage_text_unconfirmed(cc: Any, src: Source, unconfirmed: list[tuple[str, str, Source]]) -> None:
    """A stage value (stage group or M category) read as nothing because its text writes stage
    IV / M1 as a suspicion ("Stage IV?", "possible stage IV", "cM1 cannot be excluded"): named
    in the gap metastasis-unconfirmed, as a suspected metastasis is (CR A.4: a diagnosis made)."""
    text = cc_text(cc) if isinstance(cc, dict) else text_of(cc)
    if text and _stage4_reading(text) == "open":
        unconfirmed.append(("site not stated", _stage4_doubt(text), src))


def _coded_stage4_text_against(cc: Any) -> str | None:
    """The text of a value coded stage IV or M1 (AJCC, SNOMED: codes.yaml) when it writes
    otherwise: an earlier stage ("Stage IIA"), an M0 ("cM0(i+)") or an M not assessed ("pMX",
    "M not assessed"), AJCC 8th edition stage IV being any T any N M1. The code stays the
    reading (the coded answer; FHIR R4 CodeableConcept.text is the concept as the user entered
    it, a second statement), the text is named in the gap staging-conflict. Else None."""
    if not isinstance(cc, dict) or not isinstance(cc.get("text"), str) or not cc["text"].strip():
        return None
    coded4 = any(code and (code.upper() in T.STAGE4_AJCC or code.upper() in T.M1_AJCC
                           if system == T.AJCC or "cancerstaging" in system
                           else is_snomed(system) and (code in T.STAGE4_VALUES or code in T.M1_VALUES))
                 for system, code, _ in codings(cc))
    if not coded4:
        return None
    text = cc["text"].strip()
    low = text.lower()
    m1_beside = _M1_WORDS.search(_M_NOT_ASSESSED.sub(" ", low))
    if _stage_from_text(low) is False or (not m1_beside and (_M0_WORDS.search(low) or _M_NOT_ASSESSED.search(low))):
        return text
    return None


# (ds4) a bracket right after a stage IV or an M1 ("Stage IV (bone)", "M1 (OSS)", "cM1(pul)",
# "M1 (liver, lung)")
_STAGED_SITES = re.compile(rf"(?:{_STAGE_WORD}\s*(?:iv|4)[abc]?\b|{_M1_TERM})\s*[:-]?\s*\(\s*(?P<sites>[^()]*?)\s*\)", re.I)
# (ds4) or AJCC site suffixes written after M1 without a bracket ("M1 OSS", "M1: HEP, PUL");
# (rt61) the list closing the clause or the text: "M1 per CT", "M1 Mar 2024" (English words
# spelled as PER, MAR) read the peritoneum (visceral) and the bone
_M1_SUFFIX_WORD = rf"(?:{'|'.join(T.M1_SITE_SUFFIXES)})\b"
_M1_SUFFIXES_AFTER = re.compile(rf"{_M1_TERM}\s*[:-]?\s*(?P<sites>{_M1_SUFFIX_WORD}"
                                rf"(?:\s*(?:[,/+&]|\band\b)\s*{_M1_SUFFIX_WORD})*)(?=\s*(?:$|[.,;|()]))", re.I)
# (ds4) or a site written "only" right after it ("Stage IV, bone only", "M1 - bone-only disease")
_STAGED_SITE_ONLY = re.compile(rf"(?:{_STAGE_WORD}\s*(?:iv|4)[abc]?\b|{_M1_TERM})\s*[,:-]?\s*(?P<sites>[a-z]+)[\s-]+only\b", re.I)


@lru_cache(maxsize=4096)
def _staged_sites(text: str) -> tuple[str, ...]:
    """The metastatic sites a bracket right after a stage IV or an M1 names, each item an AJCC
    8th edition M1 site suffix (codes.yaml m1_site_suffixes: "M1 (OSS)", "cM1(pul)") or a site
    word alone ("Stage IV (bone)", "M1 (liver and lung)"); () when any item is something else
    ("Stage IV (de novo)", "M1 (biopsy pending)") or doubted ("M1 (?liver)"): read as before,
    metastatic with no site. CR A.4 visceral sites, C.2 step 2."""
    found: list[str] = []
    for sites, _ in _staged_bracket_sites(text):
        found += [s for s in sites if s not in found]
    for m in _M1_SUFFIXES_AFTER.finditer(text.lower()):
        found += [site for i in re.findall(r"[a-z]+", m.group("sites"))
                  if (site := T.M1_SITE_SUFFIXES.get(i)) and site not in found]
    for m in _STAGED_SITE_ONLY.finditer(text.lower()):
        if (site := _site_from_text(m.group("sites"))) is not None and site not in found:
            found.append(site)
    return tuple(found)


def _staged_bracket_sites(text: str) -> list[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]:
    """For each bracket after a stage IV / M1 naming sites only: (the sites it names, the
    (site, item) it doubts with a "?": "M1 (OSS, ?HEP)" counts the bone and asks the liver,
    (ds5) where it counted no site, the bone dropped). Empty when any item is something else."""
    read = []
    for m in _STAGED_SITES.finditer(text.lower()):
        items = [i.strip() for i in re.split(r"\s*(?:[,/;+&]|\band\b)\s*", m.group("sites")) if i.strip()]
        words = [i.replace("?", "").strip() for i in items]
        sites = [T.M1_SITE_SUFFIXES.get(w) or (_site_from_text(w) if _only_sites(w) else None) for w in words]
        if items and all(sites):
            read.append((tuple(s for s, i in zip(sites, items) if "?" not in i),
                         tuple((s, i) for s, i in zip(sites, items) if "?" in i)))
    return read


@lru_cache(maxsize=4096)
def _staged_doubted_sites(text: str) -> tuple[tuple[str, str], ...]:
    """(site, the item as written) a bracket after a stage IV / M1 doubts ("M1 (OSS, ?HEP)":
    the liver, "?hep"): asked, not counted (FHIR R4 condition-ver-status unconfirmed; visceral
    or not changes the guidance, CR A.4, C.2 step 2)."""
    return tuple(d for _, doubted in _staged_bracket_sites(text) for d in doubted)


# (ds4) disease written at one site only: "bone-only disease", "liver only involvement"
_SITE_ONLY = re.compile(r"\b(?P<site>[a-z]+)[\s-]+only\s+(?:disease|involvement|spread|recurrence|relapse)\b")


@lru_cache(maxsize=4096)
def _site_only_disease(text: str | None) -> tuple[str, str] | None:
    """(the words, the site) of disease a text writes at one metastatic site only ("Bone-only
    disease": the bone), not written as not there ("no bone-only disease"); else None."""
    low = text.lower() if text and "only" in text.lower() else ""
    for m in _SITE_ONLY.finditer(low):
        site = _site_from_text(m.group("site"))
        if site is not None and not _NOT_THERE_BEFORE.search(low[:m.start()]) and not _ruled_out_after(low[m.end():]):
            return text[m.start():m.end()], site
    return None


# (ds11) progression written at a site with no metastasis word ("Liver progression", "Disease
# progression in the liver"); not "progressive liver disease" (another disease of the organ may be
# meant, as _OTHER_DISEASE_OF_ORGAN)
_SITE_PROGRESSION = (re.compile(r"\b(?P<site>[a-z-]+)\s+(?:progression|progressing)\b"),
                     re.compile(r"\bprogression\s+(?:of|in|at)\s+(?:the\s+)?(?P<site>[a-z-]+)\b"))
# (rt81) and "no evidence of" before it, one more word allowed ("No evidence of (disease)
# progression in the liver": was asked, the gap quoting the progression as written), beside
# _NOT_THERE_BEFORE's one word after "no"
_NO_EVIDENCE_OF_BEFORE = re.compile(r"\bno\s+evidence\s+of\s+(?:[\w-]+\s+)?$")


@lru_cache(maxsize=4096)
def _site_progression(text: str | None) -> tuple[str, str] | None:
    """(ds11) (the words, the site) of progression a text writes at a metastatic site with no
    metastasis named ("Liver progression": was dropped without a word, "No metastatic site ... was
    found"; beside metastases it is asked, fix-fx2), not written as not there, not another disease
    of the organ ("progression of fatty liver disease"); else None."""
    low = text.lower() if text and "progress" in text.lower() else ""
    if not low or _OTHER_DISEASE_OF_ORGAN.search(low):
        return None
    for m in (m for rx in _SITE_PROGRESSION for m in rx.finditer(low)):
        site = _site_from_text(m.group("site"))
        if (site is not None and not _NOT_THERE_BEFORE.search(low[:m.start()])
                and not _NO_EVIDENCE_OF_BEFORE.search(low, max(0, m.start() - 40), m.start())
                and not _ruled_out_after(low[m.end():])):
            return text[m.start():m.end()], site
    return None


def _ruled_out_after(after: str) -> bool:
    """(ds5) The words right after a finding rule it out ("Bone-only disease ruled out",
    "... excluded": read as the question still open, metastatic status unclear; a ruled-out
    phrase says nothing of metastasis, FHIR R4 condition-ver-status refuted), not when they keep
    it open ("not ruled out", "to be excluded": vocabulary still_open_words). (rt64) Nor when
    other words stand between, as the breast cancer's reading has it (_breast_not_refuted):
    "Bone-only disease - liver ruled out" rules out the liver, the bone-only disease stands
    (was read as no metastasis evidence, the bone not even asked)."""
    m = _BREAST_RULED_OUT_BETWEEN.match(after)
    return (m is not None and not T.MET_NEGATION_OPEN.search(m.group("between"))
            and not _other_words(m.group("between")))


# (ds7) a cancer named by no organ ("malignant neoplasm", SNOMED CT 363346000 "Malignant neoplastic
# disease", "malignancy", "cancer", "carcinoma"), or "Stage IV disease" written alone
_UNNAMED_CANCER = re.compile(r"\b(?:malignant\s+neoplas\w*|malignancy|malignancies|cancer|carcinoma|neoplasm)\b"
                             rf"|^\s*{_STAGE_WORD}\s*(?:iv|4)[abc]?\s+disease\b")


@lru_cache(maxsize=4096)
def _stage4_of_an_unnamed_cancer(text: str, coded_unnamed: bool = False) -> bool:
    """The text writes stage IV, asserted or doubted ("Stage IV disease?", _stage4_reading), of a
    cancer it names by no organ in the same part (_UNNAMED_CANCER: not "CKD stage 4" beside a
    display "Malignant neoplastic disease") or coded so (coded_unnamed, codes.yaml
    unnamed_cancer_codes: "Stage IV" on SNOMED 363346000), and names neither the breast nor
    another organ's cancer (_other_primary_named)."""
    return (any((coded_unnamed or _UNNAMED_CANCER.search(part)) and _stage4_reading(part) in ("asserted", "open")
                for part in text.split(" | "))
            and not _breast_primary_text(text) and _other_primary_named(text) is None)


def _coded_unnamed_cancer(con: Concept) -> bool:
    """(rt71) A coding names a cancer by no organ (codes.yaml unnamed_cancer_codes)."""
    return any((is_snomed(system) and code in T.UNNAMED_CANCER_SNOMED)
               or (is_icd10(system) and T.norm_icd(code) in T.UNNAMED_CANCER_ICD)
               for system, code, _ in con.codings if code)


def _m_value(cc: Any) -> bool | None:
    """True = M1, False = M0, None unknown (cc: valueCodeableConcept, or a valueString)."""
    for system, code, _ in codings(cc):
        if not code:
            continue
        if code in T.M1_VALUES or code.upper() in T.M1_AJCC:
            return True
        if code in T.M0_VALUES or code.upper() in T.M0_AJCC:
            return False
    text = cc_text(cc) if isinstance(cc, dict) else text_of(cc)
    reading = _stage4_reading(text) if text else None
    if reading == "asserted":
        return True
    # an M0 is read unless an M1 is written as a suspicion ("M0, M1 not excluded"); beside an
    # M1 written as not there it stands ("cM0, M1 excluded")
    if reading in (None, "negated") and _M0_WORDS.search(text):
        return False
    return None  # not written, M1 written only as not there, or as a suspicion: no reading


def _icd_or_snomed_code(ctx: Ctx, res: dict[str, Any]) -> str | None:
    """The first ICD-10 or SNOMED CT code of a Condition, as a message names what it is coded."""
    return next((c for sy, c, _ in ctx.code_of(res) if c and (is_icd10(sy) or is_snomed(sy))), None)


def build_disease(ctx: Ctx) -> Disease:
    d = Disease()
    primary_dates: list[dt.date] = []
    met_evidence: list[tuple[dt.date | None, Source]] = []
    history_only: list[Source] = []
    # metastases coded secondary whose text names their breast primary ("Liver metastases from
    # breast cancer", C78.7): they name the primary, as Z85.3 does, when no primary Condition does
    named_by_metastasis: list[Source] = []
    early_sources: list[Source] = []  # explicit M0 / stage 0-III
    early_not_final: list[Source] = []  # an M0 / stage 0-III Observation not final (preliminary...)
    unconfirmed: list[tuple[str, str, Source]] = []  # (site, verificationStatus, source)
    # a metastasis coded at one site whose text asserts another (_text_named_other_sites)
    # (coded site, code, text site, the words when the text writes that site in the past, source)
    site_conflicts: list[tuple[str, str, str, str | None, Source]] = []
    # (ds11) (coded site, code, the text as written, source): a secondary code's site the text
    # beside it rules out while asserting another ("No bone metastases; liver metastases" coded
    # 94222008, bone): the text's site counted, the code's disagreement named
    coded_refuted: list[tuple[str, str, str, Source]] = []
    # (ds2) a metastasis coded at one site whose bodySites name others only: (coded site, code,
    # the bodySites' sites, source); every site counted, the disagreement named
    body_conflicts: list[tuple[str, str, list[str], Source]] = []
    # (ds11) (text's sites, bodySites, (rt81) the bodySites the text rules out, source)
    text_body_conflicts: list[tuple[list[str], list[str], list[str], Source]] = []
    # a staging value coded stage IV / M1 whose text writes otherwise: (why, source)
    staging_conflicts: list[tuple[str, Source]] = []
    # clinical stage IV evidence: (its date, None: undated; the last day a date without a day can mean)
    clinical_stage4: list[tuple[dt.date | None, dt.date | None]] = []
    # stage IV on the primary without an assessment date, dated by the primary's onset:
    # (its index in met_evidence, clinical)
    stage4_at_onset: list[tuple[int, bool]] = []
    sites: dict[str, MetastaticSite] = {}
    # a metastatic evidence dated without a day: id(its Source) -> the last day the date can mean
    evidence_last: dict[int, dt.date] = {}
    primary_lasts: list[dt.date] = []  # the last day each primary onset can mean
    doubted_sites: list[tuple[str, str, Source]] = []  # sites written with a doubt beside asserted metastases
    # (ds12) sites a Condition neither coded breast cancer nor a metastasis places a metastasis at
    # without writing one ("M1 (liver)", bodySite the liver beside "No bone metastases"): asked in
    # metastasis-unconfirmed, or, the patient metastatic, with the doubted sites
    asked_sites: list[tuple[str, str, str, Source]] = []  # (site, why, the doubted gap's words, source)
    past_sites: set[tuple[str, str]] = set()  # (site, words) of those written in the past only (ds8)
    sites_not_stated: list[Source] = []  # (ds5) metastasis Conditions naming no site at all

    def add_evidence(date: dt.date | None, src: Source, last: dt.date | None = None) -> None:
        met_evidence.append((date, src))
        if last is not None:  # dated without a day: the last day it can mean
            evidence_last[id(src)] = last

    def add_site(site: str, visceral_override: bool | None, date: dt.date | None, src: Source) -> None:
        visceral = visceral_override if visceral_override is not None else site in T.VISCERAL_SITES
        key = site
        cur = sites.get(key)
        if cur is None:
            sites[key] = MetastaticSite(site=site, visceral=visceral, date=date, sources=[src],
                                        date_last=src.date_last)
        else:
            cur.sources.append(src)
            cur.visceral = cur.visceral or visceral
            if date and (cur.date is None or date < cur.date):
                cur.date, cur.date_last = date, src.date_last
            elif date and date == cur.date and src.date_last is None:
                cur.date_last = None  # the same first day, written in full: that day

    def add_staged_sites(text: str, date: dt.date | None, src: Source, counted: tuple[str, ...] = ()) -> None:
        """(ds4) The sites a stage IV / M1 in `text` names ("M1 (HEP)", "Stage IV (bone)"), those
        not in `counted` counted, and those its bracket doubts ("M1 (OSS, ?HEP)") asked."""
        for site in _staged_sites(text):
            if site not in counted:
                add_site(site, None, date, src)
        doubted_sites.extend((site, words, src) for site, words in _staged_doubted_sites(text))

    before_diagnosis: list[Source] = []
    metastases_before: list[Source] = []  # of before_diagnosis, the metastasis Conditions
    # the Conditions that are no breast primary, read once every primary is: the earliest
    # diagnosis decides whether a metastasis dated well before it is its spread (_dated_before)
    others: list[tuple[dict[str, Any], dt.date | None, dt.date | None]] = []
    # the primaries' onsets written as such: a recordedDate alone says when the cancer was written
    # down, not diagnosed (it may be long after: a new EHR), so nothing is dated before it
    diagnosis_dates: list[dt.date] = []
    for res in ctx.of("Condition"):
        try:
            onset = condition_onset(res)
            onset_last = condition_onset_last(res, onset)
            is_primary, history = _is_primary_breast(ctx, res)
            if not is_primary:
                others.append((res, onset, onset_last))
                continue
            src = ctx.source(res, onset, _display(res, "Breast cancer"), date_last=onset_last)
            if history:
                history_only.append(src)
            else:
                d.primary_sources.append(src)
                if onset:
                    primary_dates.append(onset)
                    primary_lasts.append(onset_last or onset)
                    if _onset_written(res):
                        diagnosis_dates.append(onset)
            text = ctx.code_text(res)
            stage4 = _stage4_reading(text) if text else None
            if stage4 == "open":
                # "stage IV cannot be ruled out", "suspected stage IV": a suspicion, not M1
                # (CR A.4: a diagnosis made)
                unconfirmed.append(("site not stated", _stage4_doubt(text), src))
            stage4_words = stage4 == "asserted"
            hedge = _metastasis_in_text(text) if text and not stage4_words else None
            if hedge in ("hedged", "probable"):
                # "breast cancer, suspected / likely liver metastases": a suspicion or a
                # probable site, not M1 (a "stage IV" written beside it is asserted: the
                # doubt is the site's). A confirmed verificationStatus here confirms the
                # breast cancer, not the metastasis its text doubts.
                unconfirmed.append((_hedged_site_names(text, _site_in_text(text)) or "site not stated",
                                    _hedged_why(text, res), src))
            elif (text and stage4 is None and hedge is None and (advanced := _advanced_words(text))
                  and _stage_from_text(text) is not False):
                # "Advanced breast cancer": ESO-ESMO ABC (CR C.1) names inoperable locally
                # advanced and metastatic disease alike, and the labels write "locally advanced or
                # metastatic": which one the words do not say (CR A.4 counts metastases): asked
                unconfirmed.append(("site not stated", f'"{advanced}" in the text: locally advanced or '
                                    "metastatic not stated", src))
            elif text and stage4 is None and hedge is None and (only := _site_only_disease(text)) is not None:
                # (ds4) "Breast cancer, bone-only disease": metastatic at the bone most likely, but
                # no metastasis, M1 or stage IV written (CR A.4 counts one made): asked
                unconfirmed.append((only[1], f'"{only[0]}" in the text: metastatic disease not written', src))
            elif text and stage4 is None and hedge is None and (progression := _site_progression(text)) is not None:
                # (rt81) "Breast cancer, liver progression": as ds11 asks it on its own Condition
                # and ds4 "bone-only disease" here (CR A.4 counts a metastasis written): asked
                unconfirmed.append((progression[1], f'"{_words_as_written(progression[0], text, res)}" '
                                    "in the text: metastatic disease not written", src))
            elif text and not stage4_words and _metastatic_text(text) and (nodal := _nodal_only(text)):
                # "Breast cancer with axillary nodal metastases", "N1 (2/15 nodes with
                # metastases)": regional nodes of an early breast cancer are written so (AJCC 8th
                # edition: regional nodes are the N category, distant metastasis M1; CR A.4
                # counts M1 / stage IV); whether these nodes are distant the words do not say:
                # asked, as _node_only_conflict asks of coded nodes beside an early stage; not
                # when the text refutes distant metastases ("axillary nodal metastases, no distant
                # metastases") or writes an M0 or an early stage ("T2N1M0", "stage IIB"):
                # regional nodes (AJCC 8th edition stage 0-III is M0), nothing to ask
                if not (_distant_refuted(text) or _M0_WORDS.search(text) or _stage_from_text(text) is False):
                    unconfirmed.append(("lymph-node", f'"{nodal}" in the text: {NODES_ONLY_WORDS}, early breast '
                                        "cancer) or distant (M1) not stated", src))
                elif (distant := _distant_nodes(text)) is not None:
                    # "mediastinal lymph node metastases, no distant metastases" / "... T2N1M0":
                    # nodes AJCC 8th edition codes M1 beside words that say there is no M1; which
                    # one is right the text does not settle (fix-dz2): asked, not counted
                    unconfirmed.append(("lymph-node", f'"{distant}" in the text (distant nodes, M1 in AJCC 8th '
                                        "edition) beside no distant metastases, an M0 or an early stage: not stated "
                                        "which is right", src))
            elif text and (stage4_words or _metastatic_text(text)) and (
                    differential := T.BREAST_DIFFERENTIAL.search(text) or _differential_named(text)):
                # "Metastatic adenocarcinoma, breast vs lung primary", "Metastatic breast cancer
                # (ddx lung)": the breast one of two possible primaries, or another cancer in its
                # differential (condition-ver-status "differential"), no metastatic
                # breast cancer made (CR A.4: metastases with breast primary)
                unconfirmed.append(("site not stated",
                                    f'primary uncertain: "{differential.group(0)}" in the text', src))
            elif text and (stage4_words or _metastatic_text(text)) and (doubt := unconfirmed_status(res)):
                # "Metastatic breast cancer" on a Condition recorded differential / provisional /
                # unconfirmed: the diagnosis it writes is not made (FHIR R4 condition-ver-status),
                # its metastatic disease no more than a metastasis Condition recorded so
                unconfirmed.append(("site not stated", f"written on a breast cancer recorded {doubt}", src))
            elif text and (stage4_words or _metastatic_text(text)):
                # "Metastatic breast cancer" / "breast cancer, stage IV" as one concept:
                # metastatic, site unknown
                msrc = ctx.source(res, onset, _display(res, "Metastatic breast cancer"), date_last=onset_last)
                met_evidence.append((None, msrc))
                # (ds2) unless the text names it ("Metastatic breast cancer to bone", "... metastatic
                # to liver and lungs": bone-only or visceral changes the guidance, CR A.4 visceral
                # sites, C.2 step 2), read as a metastasis Condition's text is: the sites it asserts
                # (not those it refutes), a doubted one asked; a site written in the past only
                # ("...; history of liver metastasis") is not counted, asked (whether it still
                # counts no source settles). Undated, as the evidence: the onset dates the breast
                # cancer, not the spread
                counted, asked = _sites_now_and_asked(_without_past_cancer(text), _confirmed(res))
                # (ds4) and those a stage IV / M1 names ("Breast cancer, M1 (OSS)", "stage IV (bone)")
                for site in counted:
                    add_site(site, None, None, msrc)
                add_staged_sites(text, None, msrc, counted)
                # (ds12) and its bodySite ("Stage IV breast cancer", bodySite the liver): where the
                # condition manifests (FHIR R4 Condition.bodySite), counted as a secondary code's
                # bodySite is (was no site: visceral or not unknown, CR A.4). Not a lymph node: on
                # the primary's own Condition that may be its regional (axillary) nodes (AJCC 8th
                # edition N category); nor a site its text rules out, doubts or writes in the past
                # ("Stage IV breast cancer, ?liver": asked with its words below, as without a bodySite)
                # (its text ruling the bodySite's site out, "(no liver)": asked, not dropped in silence)
                body_counted = []
                for site in _body_sites(res) if res.get("bodySite") else ():
                    if site in {s for s, _ in asked}:
                        continue
                    if site != "lymph-node" and site not in _text_sites(text)[1]:
                        add_site(site, None, None, msrc)
                        body_counted.append(site)
                    elif site != "lymph-node":
                        doubted_sites.append((site, _body_site_beside(site, _code_text_as_written(res).strip()[:80]),
                                              msrc))
                if counted and body_counted and not set(counted) & set(body_counted):
                    # the text names other sites than the bodySite ("Metastatic breast cancer to bone",
                    # bodySite the liver): each counted, the disagreement named as on a metastasis
                    # Condition (ds11)
                    text_body_conflicts.append((list(counted), body_counted, [], msrc))
                doubted_sites += [(site, words, msrc) for site, words in _sites_as_written(asked, text, res)]
                past_sites |= set(_sites_as_written(_sites_written_past(_without_past_cancer(text)), text, res))
            for st in as_list(res.get("stage")):
                if not isinstance(st, dict):
                    continue
                s4 = _is_stage4_value(st.get("summary"))
                if s4 and (against := _coded_stage4_text_against(st.get("summary"))) is not None:
                    staging_conflicts.append((f'Stage IV (Condition.stage), coded stage IV but its text reads '
                                              f'"{against}"', src))
                if s4:
                    # (ds4) the sites its text names ("Stage IV (bone)"), undated as the primary's onset
                    add_staged_sites(cc_text(st.get("summary")), None, src)
                    assessed, assessed_last = _assessment_date(ctx, st, res)
                    if assessed is not None:
                        # dated by its own evidence (mCODE stage.assessment -> TNM stage group)
                        add_evidence(assessed, ctx.source(res, assessed, "Stage IV (Condition.stage)",
                                                                 date_last=assessed_last),
                                     assessed_last)
                        if _stage_is_clinical(st):
                            clinical_stage4.append((assessed, assessed_last or assessed))
                    else:
                        # no date of its own: the primary's onset, checked against the
                        # other evidence below (_date_undated_stage4)
                        stage4_at_onset.append((len(met_evidence), _stage_is_clinical(st)))
                        met_evidence.append((onset, ctx.source(res, onset, "Stage IV (Condition.stage)",
                                                                      date_last=onset_last)))
                elif s4 is False:
                    early_sources.append(ctx.source(res, onset, "Stage 0-III (Condition.stage)",
                                                    date_last=onset_last))
                else:
                    _stage_text_unconfirmed(st.get("summary"), src, unconfirmed)
        except Exception:  # noqa: BLE001 - never raise on bad data
            ctx.ignore(res, "unreadable-resource", "Condition could not be read")

    # the earliest breast-cancer diagnosis: a stage IV / M1 or a metastasis dated well before it
    # is not its stage or its spread (_dated_before)
    diagnosed_first = min(diagnosis_dates, default=None)
    # (ds) node metastasis Conditions naming only nodes that may be regional (_nodes_maybe_regional)
    maybe_regional_nodes: list[Source] = []
    for res, onset, onset_last in others:
        try:
            is_sec, site, visceral = _secondary_site(ctx, res)
            if is_sec:
                src = ctx.source(res, onset, _display(res, "Metastasis"), date_last=onset_last)
                coded_secondary, coded_site, _ = _secondary_coded(ctx.concept_of(res))
                loose = _organ_cancer_only(ctx.code_text(res), coded_secondary) if ctx.code_text(res) else None
                if loose is not None and not coded_secondary:
                    # "metastatic lung cancer" / "metastatic liver cancer" alone: a primary of
                    # that organ or breast cancer spread to it, which the words do not settle
                    # (ICD-10-CM C34 vs C78.0x, C78.7, C79.5x, C79.31): asked, not guessed
                    unconfirmed.append(("site not stated", f'"{loose}" in the text: a primary cancer of that '
                                        "organ or a metastasis to it, not stated", src))
                    continue
                if loose is not None and coded_site is not None and _site_from_text(loose) not in (None, coded_site):
                    # "Metastatic lung cancer (to bone)" coded C79.51: the code puts the metastasis in
                    # the bone, so the lung in the words is where a cancer began, a lung cancer's
                    # spread or a breast cancer's written loosely (ICD-10-CM C34 vs C79.51): asked
                    unconfirmed.append((site, f'coded a metastasis to the {coded_site}, but the text names "{loose}": '
                                        "a cancer of that organ that spread, or the breast cancer, not stated", src))
                    continue
                # coded C77-C79 (a secondary site) with only such a phrase: a metastasis to that organ
                other = None if loose is not None else _other_primary_named(ctx.code_text(res))
                if other is not None:
                    # "Metastatic colon cancer", "Liver metastases from colorectal cancer": that
                    # cancer's spread, not the breast cancer's (CR A.4: metastases "with breast
                    # primary"; ICD-10-CM Chapter 2 names the other primaries). Naming the breast
                    # too ("breast or colon primary"), or the other cancer apart from the
                    # metastasis ("bone metastases; history of colon cancer"), which cancer spread
                    # is unclear: named in the gap metastasis-unconfirmed
                    words, own = other
                    if own:
                        ctx.ignore(res, "not-breast-metastasis",
                                   f'Metastasis of another primary cancer ("{words}" in the text), '
                                   "not counted as breast cancer metastasis")
                    else:
                        unconfirmed.append((site or "site not stated",
                                            f'the text also names another primary cancer, "{words}"', src))
                    continue
                # (rt22) a bodySite naming a metastatic site (the liver) says where it is, as
                # a text naming another site does: read below (FHIR R4 Condition.bodySite)
                # (the per-concept memo first: the bodySite read only for a metastasis to the breast)
                if site in (None, "other") and not _body_sites(res) and (breast := _breast_body_site(res)):
                    # (ds3) C79.9 (unspecified site) with bodySite "Left breast" counted a site
                    # "other": a metastasis to the breast all the same (CR A.4 caution), asked below
                    code = _icd_or_snomed_code(ctx, res)
                    to_breast = f'{f"coded {code} " if code else ""}with bodySite "{breast}"'
                else:
                    to_breast = _metastasis_to_breast(ctx.concept_of(res))
                if to_breast is not None and not _body_sites(res):
                    # a secondary malignant neoplasm OF the breast: another cancer's spread to it
                    # (CR A.4 caution: "not MBC") or this one's to the other breast (M1), which
                    # the code does not say (fix-dz2): asked, not counted (a cancer the text names
                    # as its source is read above)
                    unconfirmed.append(("breast", f"{to_breast}: a metastasis to the breast, from this breast "
                                        "cancer or from another cancer, not stated", src))
                    continue
                why = unconfirmed_status(res)
                hedge = _metastasis_in_text(ctx.code_text(res)) if why is None else None
                if (hedge in ("hedged", "probable") and (coded_secondary or _secondary_profile(res))
                        and (own_words := _own_text(res)) and not _SECONDARY_TEXT.search(own_words.lower())):
                    # (ds13) the doubt is a site field's the text names no metastasis in, rewritten
                    # as a question ("Bone - probable", "Liver: no. Bone: yes" with no display naming
                    # the metastasis): the code makes the metastasis (CR A.2), the field's site is
                    # asked below (its text's doubted site), as "?bone" so coded is (was metastatic
                    # status unknown)
                    hedge = None
                if hedge == "hedged" or (hedge == "probable" and not _confirmed(res)):
                    # a suspicion; or "likely" / "presumed" the clinician has not confirmed
                    # (condition-ver-status "provisional" unless verificationStatus "confirmed")
                    why = _hedged_why(ctx.code_text(res), res)
                    site = _hedged_site_names(ctx.code_text(res), site)
                if (why is None and (coded_secondary or _secondary_profile(res))
                        and (against := _text_against_code(_own_text(res)))):
                    # (ds) "Brain MRI negative" coded C79.31: the code says a metastasis, the words
                    # a negative / benign / open finding (local_codes.yaml coded_text_against); the
                    # text as written, not joined to the codes' displays. (rt81) And on a Condition
                    # only its mCODE SecondaryCancerCondition profile says is one ("Liver lesion -
                    # benign" counted the liver, visceral), as ds11 reads the profile's negated text
                    why, site = f'coded a metastasis, but the text reads "{against}"', coded_site or site
                if why is not None:
                    # a suspected metastasis is no evidence of metastatic disease (nor a
                    # site); named in a gap below unless confirmed evidence exists
                    unconfirmed.append((site or "site not stated", why, src))
                    continue
                if _dated_before(onset, onset_last, diagnosed_first):
                    # years before the breast cancer was diagnosed: an earlier cancer's spread
                    # or wrong dates, as a stage IV dated so (gap metastatic-status-conflict)
                    before_diagnosis.append(src)
                    metastases_before.append(src)
                    continue
                add_evidence(onset, src, onset_last)
                if coded_site is not None and coded_site in _text_sites(ctx.code_text(res))[1]:
                    coded_refuted.append((coded_site, _icd_or_snomed_code(ctx, res) or "",
                                          _code_text_as_written(res).strip()[:80], src))
                body = _body_sites(res) if res.get("bodySite") else []
                if site == "other" and body:
                    # (ds2) a code of an unspecified / other site (C79.9, C79.89) with a bodySite:
                    # the bodySite names it (FHIR R4 Condition.bodySite; "other" dropped the liver)
                    site, visceral = body[0], None
                elif site == "other" and coded_site == "other" and _text_pericardium(ctx.code_text(res)):
                    # (ds4) the same code, its text naming the pericardium ("Pericardial metastasis"
                    # C79.89): a site with no code of its own, so no disagreement (was a site
                    # conflict, the pericardium not counted): named as written, not visceral
                    site, visceral = "pericardium", None
                # (ds3) the sites read from the text alone, as on a breast cancer Condition written
                # metastatic (_sites_now_and_asked): "Bone metastases (previously liver)" counted the
                # liver, "Metastatic to bone? liver" both sites; each now asked, not counted
                # (ds12) and so is a site read from the text where the text rules out the coded one
                # ("No liver metastases; history of bone metastases" coded a liver secondary counted
                # the past bone as current: now asked as past, as with no code, ds8)
                text_read = (_sites_now_and_asked(_without_past_cancer(ctx.code_text(res)), _confirmed(res),
                                                  question_closes=False)
                             if site is not None and not body and ctx.code_text(res)
                             and (coded_site is None or coded_site in _text_sites(ctx.code_text(res))[1])
                             else None)
                # (rt84) a coded site or bodySite the Condition's own text doubts ("Metastases, ?liver"
                # coded a liver secondary, or a secondary with bodySite the liver) was counted (the
                # liver: visceral, CR A.4) though the words leave it open: asked, as a stage IV breast
                # cancer's bodySite so written is (ds12), not counted; the metastasis still counted
                # (the code makes it). So is a bodySite written in the past ("Metastases, history of
                # liver"); a coded site written so, or beside other sites the text asserts ("Bone
                # metastases, ?liver" coded the liver: "Only the coded site is counted"), is read as
                # before (site_conflicts, b704e60)
                own = _own_text(res) if text_read is None else None
                # the own text, bounded as cc_text bounds it; with no code naming a site, the text
                # with its displays (read so above: one cached reading)
                own_bounded = cc_text({"text": own}) if own else ""
                own_read = ctx.code_text(res) if coded_site is None and own else own_bounded
                text_counts, text_doubts = (_sites_its_text_asks(ctx.code_text(res), own_bounded, own_read, _confirmed(res),
                                                                 frozenset({site, *body} - {None}))
                                            if own_read else ((), ()))
                text_asks = {s_: (words, was) for s_, words, was in text_doubts
                             if not (s_ == coded_site and (was or text_counts))}
                if (own_read and body and T.MET_NEGATION_ANY.search(own_read)
                        and (ruled_out := _text_sites(ctx.code_text(res))[1] & (set(body) - {coded_site}))
                        and not _sites_now_and_asked(_without_past_cancer(own_read), _confirmed(res),
                                                     question_closes=False)[0]):
                    # (rt84) and a bodySite the text rules out, naming no other site ("Metastases, no
                    # liver" coded 128462008, bodySite the liver) was counted without a word: asked, as
                    # a stage IV breast cancer's is (ds12); beside a site the text names it is counted
                    # and said (rt81, text_body_conflicts), a coded site so written said (coded_refuted)
                    text_asks.update({b: (_body_site_beside(b, own.strip()[:80]), False)
                                      for b in body if b in ruled_out and b not in text_asks})
                if site is None:
                    # (ds5) no site coded, written or in bodySite ("Metastatic disease",
                    # "Oligometastatic disease"): was counted as site "other" ("- Site: other" on the
                    # card); the site is not stated, which decides visceral or not (CR A.4, C.3):
                    # metastatic, no site, gap metastatic-site-not-stated below
                    sites_not_stated.append(src)
                elif ((text_read is None and site not in text_asks) or (text_read is not None and (
                        site in text_read[0] or site not in {s for s, _ in text_read[1]}))):
                    add_site(site, visceral, onset, src)
                if coded_site is not None and (site == coded_site or (coded_site, site) == ("other", "pericardium")):
                    # (rt61) and the pericardium named for C79.89: its other sites still a conflict
                    # ("Pericardial and liver metastases": the liver was dropped without a word)
                    # (ds11) the past words quoted as the record writes them (_words_as_written), as
                    # the other gaps quote since ds10: "History of Liver Metastases" was quoted
                    # "history of liver metastases", words the clinician cannot find in the chart
                    site_conflicts += [(coded_site, code, other_site,
                                        _words_as_written(past, ctx.code_text(res), res) if past else past, src)
                                       for code, other_site, past in _text_named_other_sites(ctx.concept_of(res), coded_site)
                                       if other_site != site]
                if coded_secondary and _breast_primary_named(ctx.code_text(res)):
                    named_by_metastasis.append(src)
                if body and body[0] == site:
                    # the site was read from bodySite: every other bodySite is a site too
                    for other in body[1:]:
                        if other not in text_asks:
                            add_site(other, None, onset, src)
                    written = (_sites_now_and_asked(_without_past_cancer(ctx.code_text(res)), _confirmed(res),
                                                    question_closes=False)[0]
                               if coded_site is None and ctx.code_text(res) else ())
                    # (ds11) and each site the text asserts, no code naming one ("Bone metastases" with
                    # bodySite the liver: the bone was dropped without a word, the liver alone counted),
                    # as a code and a bodySite naming different sites are (ds2): each counted; none
                    # of the text's among the bodySites, they disagree: named, checked
                    for other in written:
                        if other not in body:
                            add_site(other, None, onset, src)
                    if written and not set(written) & set(body):
                        # (rt81) a bodySite the text rules out ("Bone metastases (no liver)", bodySite
                        # the liver): still counted (as a coded site's bodySite, coded_refuted), the
                        # gap saying the text rules it out, not only that the text names another
                        ruled_out = _text_sites(ctx.code_text(res))[1]
                        # (rt84) not a bodySite the text doubts ("Bone metastases, ?liver"): asked, not counted
                        given = [b for b in body if b not in text_asks]
                        if given:
                            text_body_conflicts.append((list(written), given, [b for b in given if b in ruled_out], src))
                elif body and coded_site is not None and site == coded_site:
                    # (ds2) a bodySite naming a site the code does not ("C77.3" axillary nodes with
                    # a liver bodySite: only the nodes were counted, the liver dropped): FHIR R4
                    # Condition.bodySite (0..*) is where the condition manifests, each a site;
                    # when none is the coded one, code and bodySite disagree: named, checked
                    for other in body:
                        if other != site and other not in text_asks:
                            add_site(other, None, onset, src)
                    if site not in body:
                        code = _icd_or_snomed_code(ctx, res) or ""
                        body_conflicts.append((coded_site, code, [b for b in body if b != site], src))
                elif text_read is not None:
                    # the site was read from the text: every other site it asserts is one too
                    # ("Liver and bone metastases": liver and bone, not liver alone)
                    for other in text_read[0]:
                        if other != site:
                            add_site(other, None, onset, src)
                    doubted_sites += [(site_, words, src) for site_, words
                                      in _sites_as_written(text_read[1], ctx.code_text(res), res)]
                    past_sites |= set(_sites_as_written(_sites_written_past(_without_past_cancer(ctx.code_text(res))),
                                                        ctx.code_text(res), res))
                if ctx.code_text(res) and text_read is None:
                    doubted_sites += [(site_, piece, src) for site_, piece in
                                      _doubted_sites(_without_past_cancer(ctx.code_text(res)), _confirmed(res))]
                # (rt84) each site of code or bodySite its text asks (above), quoted as written, once
                said_here = {site_ for site_, _, src_ in doubted_sites if src_ is src}
                for site_, (words, was) in text_asks.items():
                    if site_ in said_here or site_ not in {site, *body}:
                        continue
                    quoted = _words_as_written(words, ctx.code_text(res), res)
                    doubted_sites.append((site_, quoted, src))
                    if was:
                        past_sites.add((site_, quoted))
                if site == "lymph-node" and _nodes_maybe_regional(ctx, res, body):
                    maybe_regional_nodes.append(src)
            elif (((coded := _secondary_coded(ctx.concept_of(res)))[0] or _secondary_profile(res)) and ctx.code_text(res)
                  and _metastasis_in_text(ctx.code_text(res)) == "negated"):
                # (ds11) or one only its profile says is a secondary cancer (mCODE
                # SecondaryCancerCondition, any code): "No bone metastases" on it was dropped in silence
                # (rt71) coded a metastasis (CR A.4 C77-C79, SNOMED secondary), the words ruling it
                # out ("Metastatic to bone? no", "No bone metastases"): was dropped without a word
                # ("Metastatic disease not documented"), on a Condition recorded confirmed too.
                # Code and words disagree and the record does not say which is right: asked, not
                # counted (as "Brain MRI negative" coded C79.31 is, _text_against_code)
                written = _code_text_as_written(res).strip()[:80]
                unconfirmed.append((coded[1] or "site not stated", f'coded a metastasis, but the text reads "{written}"',
                                    ctx.source(res, onset, _display(res, "Metastasis"), date_last=onset_last)))
            elif ((only := _site_only_disease(ctx.code_text(res))) is not None
                  and not _other_primary(ctx.concept_of(res))):
                # (ds4) "Bone-only disease", "Liver-only disease": oncologists' words for
                # metastatic disease at that site alone, but no metastasis, M1 or stage IV is
                # written (CR A.4 counts one made): asked, not dropped in silence
                unconfirmed.append((only[1], f'"{only[0]}" in the text: metastatic disease not written',
                                    ctx.source(res, onset, _display(res, "Condition"), date_last=onset_last)))
            elif ((progression := _site_progression(ctx.code_text(res))) is not None
                  and not _other_primary(ctx.concept_of(res))):
                # (ds11) "Liver progression": progression of disease at a metastatic site, most
                # likely metastatic, but no metastasis, M1 or stage IV written (CR A.4 counts one
                # made): asked, as "Bone-only disease" is, not dropped in silence
                unconfirmed.append((progression[1], f'"{_words_as_written(progression[0], ctx.code_text(res), res)}" '
                                    "in the text: metastatic disease not written",
                                    ctx.source(res, onset, _display(res, "Condition"), date_last=onset_last)))
            elif (coded := _metastasis_coded_as_another_primary(ctx.concept_of(res))) is not None:
                # "Metastasis to lung" coded C34.90: the code names a primary lung cancer, the
                # text a metastasis to the lung; which one it is the sources do not settle
                # (ICD-10-CM C34 primary vs C78.0x secondary): asked, not dropped silently
                text_site, code = coded
                unconfirmed.append((text_site, f"coded {code}, a primary cancer other than breast cancer, but the text "
                                    "names a metastasis", ctx.source(res, onset, _display(res, "Metastasis"),
                                                                     date_last=onset_last)))
            elif (ctx.code_text(res) and not _other_primary(ctx.concept_of(res))
                  and _stage4_of_an_unnamed_cancer(ctx.code_text(res), _coded_unnamed_cancer(ctx.concept_of(res)))):
                # (ds7) "Malignant neoplasm, stage IV disease", "Stage IV disease" (SNOMED 363346000
                # Malignant neoplastic disease): a stage IV of a cancer the record does not name,
                # coded neither breast cancer nor a metastasis, was dropped without a word
                # ("Metastatic disease not documented"); the breast cancer's stage IV or another
                # cancer's the record does not say (CR A.4 counts the breast cancer's stage IV):
                # asked, not counted
                unconfirmed.append(("site not stated", f'"{_display(res, "Condition")}": stage IV written on a record '
                                    "coded neither breast cancer nor a metastasis, of which cancer not stated",
                                    ctx.source(res, onset, _display(res, "Condition"), date_last=onset_last)))
            elif (ctx.code_text(res) and not _other_primary(ctx.concept_of(res))
                  and _stage4_reading(ctx.code_text(res)) == "asserted"
                  and (_staged_sites(ctx.code_text(res)) or _staged_doubted_sites(ctx.code_text(res)))
                  and _other_primary_named(ctx.code_text(res)) is None):
                # (ds12) "M1 (liver)", "Stage IV (liver)" as a Condition's whole text: a stage IV at
                # that site of a cancer the record does not name (as "Stage IV disease" above, ds7)
                # was dropped without a word; the breast cancer's or another's not stated (CR A.4
                # counts the breast cancer's stage IV): its sites asked, not counted; (rt84) so is a
                # site the bracket doubts ("Stage IV (?liver)" was dropped without a word)
                written = _code_text_as_written(res).strip()[:80]
                # (ds13) a resolved / inactive one said so ("M1 (liver)" resolved was asked as current)
                recorded = (f', recorded clinicalStatus "{clinical_status_code(res)}"'
                            if clinical_status_inactive(res) else "")
                asked_sites += [(site, f'"{written}": stage IV / M1 at the {_site_words(site)} written on a record '
                                 f"coded neither breast cancer nor a metastasis, of which cancer not stated{recorded}",
                                 written,
                                 ctx.source(res, onset, _display(res, "Condition"), date_last=onset_last))
                                for site in dict.fromkeys(_staged_sites(ctx.code_text(res)) + tuple(
                                    site for site, _ in _staged_doubted_sites(ctx.code_text(res))))]
            elif (ctx.code_text(res) and res.get("bodySite") and not _other_primary(ctx.concept_of(res))
                  and _metastasis_in_text(ctx.code_text(res)) == "negated"
                  and (refuted := _text_sites(ctx.code_text(res))[1])
                  and (body := [s for s in _body_sites(res) if s != "lymph-node" and s not in refuted])):
                # (ds12) "No bone metastases" with bodySite the liver, no code: the text rules out
                # a site ("No metastases" names none: read as ruling out the bodySite's), another than the one the record places it at (FHIR R4 Condition.bodySite:
                # where the condition manifests); a liver metastasis or not the record does not
                # say (CR A.4 visceral sites): the bodySite asked, not dropped without a word
                written = _code_text_as_written(res).strip()[:80]
                asked_sites += [(site, f'bodySite the {_site_words(site)}, but the text reads "{written}"',
                                 _body_site_beside(site, written),
                                 ctx.source(res, onset, _display(res, "Condition"), date_last=onset_last))
                                for site in body]
        except Exception:  # noqa: BLE001 - never raise on bad data
            ctx.ignore(res, "unreadable-resource", "Condition could not be read")

    for res in ctx.observations_with(_STAGING_CODES):
        try:
            other = _stages_another_cancer(ctx, res)
            if other is not None:
                # mCODE CancerStage: Observation.focus is the cancer the stage is of
                ctx.ignore(res, "not-breast-cancer-stage",
                           f"Staging Observation of another cancer ({other}, Observation.focus), "
                           "not of the breast cancer")
                continue
            date = obs_date(res)
            last = _partial_last(date, obs_date(res, date_last))
            pending = not_final_status(res)
            value = res.get("valueCodeableConcept") or res.get("valueString")
            for system, code, _ in ctx.code_of(res):
                if not code or not (is_loinc(system) or is_snomed(system)):
                    continue
                # value[x] as a code or as a string ("M1", "Stage IV"), for either question
                if code in T.STAGE_GROUP_CODES:
                    s4 = _is_stage4_value(value)
                    label = {True: "Stage group IV", False: "Stage group 0-III", None: "Stage group"}[s4]
                elif code in T.M_CATEGORY_CODES:
                    s4 = _m_value(value)
                    label = {True: "M1", False: "M0", None: "M category"}[s4]
                else:
                    continue
                src = ctx.source(res, date, f"{label} ({code})", date_last=last)
                if s4 is not None and pending is not None:
                    # a not-final stage is no stage yet (FHIR R4 ObservationStatus); stage IV / M1
                    # is named in the gap, as a suspected metastasis is
                    if s4:
                        unconfirmed.append(("site not stated", f"{src.display}, status {pending}: not final", src))
                    else:
                        # no early stage yet either; it still makes node-only evidence doubtful
                        # (_node_only_conflict names it, with its status)
                        early_not_final.append(ctx.source(res, date, f"{src.display}, status {pending}: not final",
                                                          date_last=last))
                elif s4 and _dated_before(date, last, diagnosed_first):
                    before_diagnosis.append(src)
                elif s4:
                    if T.STAGE_GROUP_CODES.get(code):  # a clinical stage group
                        clinical_stage4.append((date, last or date))
                    add_evidence(date, src, last)
                    # (ds4) the sites it names ("M1 (HEP)": the liver, visceral; was no site)
                    add_staged_sites(cc_text(value) if isinstance(value, dict) else text_of(value), date, src)
                    # (ds6) the site its bodySite names ("M1", bodySite liver: the liver, visceral as
                    # any liver site, CR A.4; was no site, and metastatic-site-not-stated beside a
                    # "Metastatic disease" Condition): FHIR R4 Observation.bodySite, the site on the
                    # body where the observation was made, read as Condition.bodySite is
                    for site in _body_sites(res) if res.get("bodySite") else ():
                        add_site(site, None, date, src)
                    if (against := _coded_stage4_text_against(value)) is not None:
                        staging_conflicts.append((f'{src.display}, {_as_written(date, last)}, coded '
                                                  f'{"M1" if code in T.M_CATEGORY_CODES else "stage IV"} '
                                                  f'but its text reads "{against}"', src))
                elif s4 is False:
                    early_sources.append(src)
                else:
                    _stage_text_unconfirmed(value, src, unconfirmed)
                break
        except Exception:  # noqa: BLE001
            ctx.ignore(res, "unreadable-resource", "Observation could not be read (staging)")
    if staging_conflicts:
        # the code is read (stage IV / M1), the text that contradicts it is shown, not dropped
        ctx.gap("staging-conflict",
                "; ".join(why for why, _ in staging_conflicts)
                + ". Read as the code (AJCC stage IV is M1): confirm the stage.",
                [src for _, src in staging_conflicts])
    if before_diagnosis:
        staged = len(before_diagnosis) > len(metastases_before)
        what = ("Stage IV / M1" if not metastases_before else
                "Metastasis and stage IV / M1" if staged else "Metastasis")
        ctx.gap(
            "metastatic-status-conflict",
            what + DATED_BEFORE_DIAGNOSIS_WORDS + "("
            + _as_written(diagnosed_first, None) + "): "
            + "; ".join(f"{s.display}, {_as_written(s.date, s.date_last)}" for s in before_diagnosis)
            + (". It may stage an earlier cancer: not counted as metastatic breast cancer. "
               "Confirm which cancer it stages and when." if not metastases_before else
               ". It may be an earlier cancer's: not counted as metastatic breast cancer. "
               "Confirm which cancer it belongs to and when."),
            before_diagnosis,
        )

    if maybe_regional_nodes and set(sites) == {"lymph-node"} and all(
            any(src is n for n in maybe_regional_nodes) for _, src in met_evidence):
        # (ds) lymph nodes the only metastatic evidence, none written distant: "C77.3" (axillary and
        # upper limb nodes) alone was metastatic. AJCC 8th edition breast: the ipsilateral axillary,
        # internal mammary and supraclavicular nodes are regional (N1-N3), contralateral and other
        # nodes distant (M1); ICD-10-CM C77.0 / C77.1 / C77.3 / C77.8 / C77.9 and a node text without
        # a distant word hold both (CR A.4's "C77-C79" rule meets node-positive early breast
        # cancer coded the same way): not counted, asked (metastasis-unconfirmed), as nodes written
        # only on the primary are
        unconfirmed += [("lymph-node", NODES_ONLY_WORDS + ", ipsilateral axillary, "
                         "internal mammary or supraclavicular) or distant (M1) not stated", src)
                        for src in maybe_regional_nodes]
        met_evidence.clear()
        sites.clear()
    if d.primary_sources:
        d.breast_cancer = "yes"
    elif (history_only or named_by_metastasis) and met_evidence:
        # Z85.3 "personal history" = no active disease (CR A.4): it names the primary
        # only of a documented metastatic disease (codes.yaml breast_cancer_history_icd10); so
        # does a metastasis whose text names its breast primary (CR A.4 "C77-C79 with breast
        # primary"), without a diagnosis date (its onset is the metastasis's)
        d.breast_cancer = "yes"
        d.primary_sources = history_only or named_by_metastasis
    d.primary_diagnosis_date = min(primary_dates) if primary_dates else None
    _date_undated_stage4(ctx, d, stage4_at_onset, met_evidence, clinical_stage4, evidence_last)

    if met_evidence:
        d.metastatic = "yes"
        dates = [x for x, _ in met_evidence if x]
        d.metastatic_date = min(dates) if dates else None
        d.metastatic_date_latest = _metastatic_date_latest(met_evidence, evidence_last, d.metastatic_date)
        d.metastatic_sources = [s for _, s in met_evidence]
    elif early_sources:
        d.metastatic = "no"
        d.non_metastatic_sources = early_sources
    if d.metastatic != "yes":
        unconfirmed += _treated_for_metastatic_breast_cancer(ctx)
        unconfirmed += [(site, why, src) for site, why, _, src in asked_sites]
    else:
        doubted_sites += [(site, words, src) for site, _, words, src in asked_sites]
    if unconfirmed and d.metastatic != "yes":
        ctx.gap(
            "metastasis-unconfirmed",
            "Unconfirmed metastasis, not counted as metastatic disease: "
            + "; ".join(f"{site} ({why})" for site, why, _ in unconfirmed)
            + ". Confirm or refute it.",
            [src for _, _, src in unconfirmed],
        )
    d.sites = sorted(sites.values(), key=lambda s: (not s.visceral, s.site))
    if d.metastatic == "yes" and sites_not_stated and not d.sites:
        # (ds5) the only metastasis records name no site: bone-only or visceral disease is
        # unknown, and it changes the regimen choice (CR A.4 visceral sites, C.3)
        ctx.gap("metastatic-site-not-stated",
                "Metastatic disease recorded without its site: site not stated (visceral or not changes "
                "the treatment guidance). Record the metastatic sites.", sites_not_stated)
    d.visceral_involvement = any(s.visceral for s in d.sites)
    # a site only the text names, the code another: the code's site is counted, the text's is
    # not (the sources do not say which one is right); visceral vs bone-only disease changes the
    # guidance (CR A.4 visceral sites, C.2 step 2), so the clinician is asked
    untold = [(c, code, t, src) for c, code, t, past, src in site_conflicts if t not in sites and past is None]
    # (fix-dz2) a site the text writes in the past only ("Bone metastases; history of liver
    # metastasis"): no disagreement with the code, but whether a past (visceral) site still
    # counts no source settles (CR A.4 counts metastases present): named with its words, asked
    untold_past = [(c, code, t, past, src) for c, code, t, past, src in site_conflicts if t not in sites and past]
    if untold or untold_past:
        said = []
        if untold:
            said.append(
                "Metastatic site coded and written differently: "
                + "; ".join(f"coded {code} ({_site_words(c)}) but the text names the {_site_words(t)}" for c, code, t, _ in untold)
                + f". Only the coded site is counted ({', '.join(dict.fromkeys(_site_words(t) for *_, t, _ in untold))} not counted"
                + "; visceral or not changes the treatment guidance): check the code or the text.")
        if untold_past:
            said.append(
                "Metastatic site written in the past beside the coded one: "
                + "; ".join(f'coded {code} ({_site_words(c)}), the text names the {_site_words(t)} in the past ("{past}")'
                            for c, code, t, past, _ in untold_past)
                + f". Only the coded site is counted ({', '.join(dict.fromkeys(_site_words(t) for _, _, t, _, _ in untold_past))} "
                "not counted as a current site): confirm whether it is still present.")
    else:
        said = []
    if coded_refuted:
        said.append(
            "Metastatic site coded and ruled out in the text: "
            + "; ".join(f'coded {code + " " if code else ""}({_site_words(c)}) but the text reads "{written}"'
                        for c, code, written, _ in coded_refuted)
            + ". " + "; ".join(dict.fromkeys(
                f"The {_site_words(c)} {'still counted, from bodySite' if c in sites else 'not counted, as the text says'}"
                for c, *_ in coded_refuted))
            + " (visceral or not changes the treatment guidance): check the code or the text.")
    if body_conflicts:
        said.append(
            "Metastatic site coded and given as bodySite differently: "
            + "; ".join(f"coded {code} ({_site_words(c)}) with bodySite the {', the '.join(_site_words(b) for b in given)}"
                        for c, code, given, _ in body_conflicts)
            + ". Each is counted (FHIR R4 Condition.bodySite: where the condition manifests; visceral or not "
            "changes the treatment guidance): check the code or the bodySite.")
    if text_body_conflicts:
        said.append(
            "Metastatic site written and given as bodySite differently: "
            + "; ".join(f"the text names the {', the '.join(_site_words(w) for w in written)}"
                        + (f" and rules out the {', the '.join(_site_words(r) for r in refuted)}" if refuted else "")
                        + f", bodySite the {', the '.join(_site_words(b) for b in given)}"
                        for written, given, refuted, _ in text_body_conflicts)
            + ". Each is counted (FHIR R4 Condition.bodySite: where the condition manifests; visceral or not "
            "changes the treatment guidance): check the text or the bodySite.")
    if said:
        ctx.gap("metastatic-site-conflict", " ".join(said), [src for *_, src in untold] + [src for *_, src in untold_past]
                + [src for *_, src in coded_refuted] + [src for *_, src in body_conflicts]
                + [src for *_, src in text_body_conflicts])
    # (rd2) a site written with a doubt beside asserted metastases ("Bone metastases, ?liver"): not
    # counted (_text_site_list), asked: visceral or not changes the guidance (CR A.4, C.2 step 2)
    doubted = [(site, piece, src) for site, piece, src in doubted_sites if site not in sites]
    # (ds8) a site written in the past ("Liver metastases - no longer seen", "history of liver
    # metastasis": _sites_now_and_asked) is no doubt: the metastasis was made (the disease is
    # metastatic, CR A.4), whether the site still counts as a current (visceral) one no source
    # settles: said so, not "written with a doubt"
    past = [(site, piece, src) for site, piece, src in doubted if (site, piece) in past_sites]
    doubted = [d for d in doubted if d not in past]
    if doubted or past:
        ctx.gap("metastatic-site-unconfirmed", " ".join(
                ["Metastatic site written with a doubt, not counted: "
                 + "; ".join(f'the {_site_words(site)} ("{piece}")' for site, piece, _ in doubted)
                 + ". Confirm or refute it (visceral or not changes the treatment guidance)."] * bool(doubted)
                + ["Metastatic site written in the past, not counted as a current site: "
                   + "; ".join(f'the {_site_words(site)} ("{piece}")' for site, piece, _ in past)
                   + ". Confirm whether it still counts (visceral or not changes the treatment guidance)."]
                * bool(past)),
                [src for *_, src in doubted + past])
    _node_only_conflict(ctx, sites, met_evidence, early_sources + early_not_final)

    if d.metastatic == "yes":
        diagnosed_last = min(primary_lasts) if primary_lasts else None
        at_diagnosis = _clinical_stage4_at_diagnosis(clinical_stage4, d.primary_diagnosis_date, diagnosed_last)
        if d.metastatic_date_earliest is not None:
            pass  # metastatic at diagnosis or later: unknown (gap metastatic-date-conflict)
        elif at_diagnosis:
            d.de_novo_metastatic = True
        elif d.metastatic_date and d.primary_diagnosis_date and at_diagnosis is False:
            d.de_novo_metastatic = _within_de_novo_window(
                d.metastatic_date, d.metastatic_date_latest or d.metastatic_date,
                d.primary_diagnosis_date, diagnosed_last or d.primary_diagnosis_date)
        if d.metastatic_date is None and d.de_novo_metastatic and d.primary_diagnosis_date:
            d.metastatic_date = d.primary_diagnosis_date
    elif d.metastatic == "no":
        d.de_novo_metastatic = False

    _visceral_crisis(ctx, d)
    return d


def _asserted_on(res: dict[str, Any], rtype: str, read: Callable[[Any], dt.date | None]) -> dt.date | None:
    """The date of a visceral-crisis assertion (read: parse_date, or date_last)."""
    if rtype == "Observation":
        return obs_date(res, read)
    if rtype == "Condition":
        return condition_onset(res, read)
    period_ = res.get("period")
    return read(period_.get("start") if isinstance(period_, dict) else None) or read(res.get("date"))


def _assessment_date(ctx: Ctx, stage: dict[str, Any],
                     condition: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    """The earliest date of the stage's assessment Observations received in this call
    (mCODE: Condition.stage.assessment -> the TNM stage-group Observation), else None; and
    the last day that earliest date can mean when it is written without a day (else None)."""
    dates, lasts = [], []
    for ref in as_list(stage.get("assessment")):
        obs = ctx.resolve(ref, condition)
        if isinstance(obs, dict) and obs.get("resourceType") == "Observation":
            date = obs_date(obs)
            if date is not None:
                dates.append(date)
                lasts.append(obs_date(obs, date_last) or date)
    if not dates:
        return None, None
    return min(dates), _partial_last(min(dates), min(lasts))


def _metastatic_date_latest(met_evidence: list[tuple[dt.date | None, Source]], evidence_last: dict[int, dt.date],
                            first: dt.date | None) -> dt.date | None:
    """The last day the metastatic date (the earliest dated evidence, CR C.2 step 1) can
    mean when evidence is dated without a day: the earliest of the evidence's last days
    ("2024" alone: 2024-12-31; "2024" and 2024-03-10: 2024-03-10). None when it is the first."""
    lasts = [evidence_last.get(id(src), x) for x, src in met_evidence if x]
    return _partial_last(first, min(lasts)) if lasts else None


def _within_de_novo_window(met_first: dt.date, met_last: dt.date,
                           diagnosed_first: dt.date, diagnosed_last: dt.date) -> bool | None:
    """De novo (metastatic within DE_NOVO_DAYS of the diagnosis) when every day the two dates
    can mean says so, not de novo when none does, else None (a date without a day, e.g.
    metastasis "2024" and diagnosis 2024-02-10: unknown rather than its first day's answer)."""
    if (met_last - diagnosed_first).days <= DE_NOVO_DAYS:
        return True
    if (met_first - diagnosed_last).days > DE_NOVO_DAYS:
        return False
    return None


def _date_undated_stage4(ctx: Ctx, d: Disease, stage4_at_onset: list[tuple[int, bool]],
                         met_evidence: list[tuple[dt.date | None, Source]],
                         clinical_stage4: list[tuple[dt.date | None, dt.date | None]],
                         evidence_last: dict[int, dt.date]) -> None:
    """A stage IV on the primary with no date of its own takes the primary's onset (stage IV
    at diagnosis), unless other metastatic evidence is dated only later than the de novo
    window: then the stage may have been recorded at diagnosis (metastatic since the onset)
    or at the recurrence (CR C.2 step 1: the metastatic date is the date of the stage IV
    evidence, not of the diagnosis). The data do not say which: the metastatic date stays
    the dated evidence, the onset is kept as the earliest it may be
    (Disease.metastatic_date_earliest: therapy between the two cannot be placed), and
    the gap metastatic-date-conflict says so. Other evidence dated without a day ("2024") is
    any day of its range: later than the window on its last day is enough for the conflict
    (on some days of the range the stage cannot be the diagnosis's)."""
    if not stage4_at_onset:
        return
    at_onset = {i for i, _ in stage4_at_onset}
    others = [(x, evidence_last.get(id(s), x)) for i, (x, s) in enumerate(met_evidence) if x and i not in at_onset]
    first_other = min(x for x, _ in others) if others else None
    # the latest day the earliest other evidence can mean
    first_other_last = min(last for _, last in others) if others else None
    for i, clinical in stage4_at_onset:
        onset, src = met_evidence[i]
        if onset is not None and first_other_last is not None and (first_other_last - onset).days > DE_NOVO_DAYS:
            first_text = _as_written(first_other, first_other_last if first_other_last != first_other else None)
            met_evidence[i] = (None, src)
            earliest = d.metastatic_date_earliest
            d.metastatic_date_earliest = onset if earliest is None else min(earliest, onset)
            ctx.gap(
                "metastatic-date-conflict",
                f"The breast cancer Condition carries stage IV without a date of its own (no dated stage "
                f"assessment; diagnosed {_as_written(onset, src.date_last)}), but the earliest dated metastatic evidence is "
                f"{first_text}. Metastatic at diagnosis or at a later recurrence cannot be told "
                f"apart: therapy given between the two is not placed in the early or metastatic setting. "
                f"Record the date of the stage IV assessment.",
                [src] + [s for k, (x, s) in enumerate(met_evidence) if x and k not in at_onset],
            )
            continue
        if clinical:
            # the diagnosis's own date: at diagnosis whatever day a partial onset means
            clinical_stage4.append((onset, onset))


def _as_written(first: dt.date | None, last: dt.date | None) -> str:
    """"2024-03-10"; a date without a day (last: its last day) "in 2024 (no day given)"."""
    if first is None:
        return "undated"
    return first.isoformat() if last is None else f"{range_text(first, last)} (no day given)"


def _clinical_stage4_at_diagnosis(stage4: list[tuple[dt.date | None, dt.date | None]],
                                  diagnosed: dt.date | None, diagnosed_last: dt.date | None) -> bool | None:
    """A clinical stage group IV makes the disease de novo metastatic (metastatic at diagnosis,
    CR C.2 step 1 ABC4 class "de novo") when it is undated, the diagnosis is undated, or it
    is dated within the de novo window of the diagnosis. One dated later staged a recurrence:
    it says nothing about the diagnosis (False: the dates decide, below). None when a date
    without a day ("2024") may fall inside or outside the window: de novo is unknown."""
    if any(x is None or diagnosed is None for x, _ in stage4):
        return True
    readings = [_within_de_novo_window(x, last or x, diagnosed, diagnosed_last or diagnosed)  # type: ignore[arg-type]
                for x, last in stage4]
    if any(r is True for r in readings):
        return True
    return None if None in readings else False


# disease written distant ("distant metastases", "distant recurrence"); not a risk of it or a
# survival free of it ("risk of distant recurrence", "distant recurrence-free")
_DISTANT_DISEASE = re.compile(r"(?<!risk of )(?<!risk for )\bdistant\s+(?:nodal\s+)?(?:metasta\w*|mets?\b|"
                              r"recurren\w*(?!-free)|relapse\w*(?!-free)|disease(?!-free)|spread)", re.I)


def _nodes_maybe_regional(ctx: Ctx, res: dict[str, Any], body: list[str]) -> bool:
    """A lymph-node metastasis Condition naming only nodes (its bodySites, the sites its text
    asserts) and none written distant: not an ICD-10-CM code of a region AJCC 8th edition holds
    distant for breast cancer (codes.yaml distant_node_icd10: C77.2 / C77.4 / C77.5), not a text
    writing distant nodes ("mediastinal lymph node metastases", _distant_nodes)."""
    if any(b != "lymph-node" for b in body):
        return False
    if any(is_icd10(system) and T.norm_icd(code or "").startswith(T.DISTANT_NODE_ICD)
           for system, code, _ in ctx.code_of(res)):
        return False
    text = ctx.code_text(res)
    if text and (_distant_nodes(text) or any(s != "lymph-node" for s in _text_site_list(_without_past_cancer(text)))):
        return False
    # (rt44) a text writing stage IV / M1 or distant disease ("Stage IV breast cancer, axillary
    # nodes", "M1 nodal disease", "Distant metastases to axillary nodes"): M1, AJCC 8th edition
    if text and (_stage4_reading(text) == "asserted" or (_DISTANT_DISEASE.search(text) and not _distant_refuted(text))):
        return False
    # (rt44) a code naming the nodal metastasis, its own text where ("cervical nodes" coded C77.0,
    # "contralateral axillary nodes" coded C77.3): nodes AJCC 8th edition holds distant (M1)
    own = _own_text(res)
    return not (own and not _mentions(own) and _distant_region_named(own))


def _distant_region_named(text: str) -> bool:
    """The text names nodes of a region distant for a breast cancer (_DISTANT_NODES: "cervical
    nodes", "mediastinal lymph nodes") not written as not there ("no cervical nodes", "cervical
    nodes negative"), as _distant_nodes reads it, without asking for a metastasis word: the
    Condition's code is the metastasis."""
    low = text.lower()
    return any(not (_REFUTED_BEFORE.search(low[max(0, m.start() - 30):m.start()])
                    or _REFUTED_AFTER.search(low[m.end():m.end() + 30]))
               for m in _DISTANT_NODES.finditer(low))


def _node_only_conflict(ctx: Ctx, sites: dict[str, MetastaticSite],
                        met_evidence: list[tuple[dt.date | None, Source]], early_sources: list[Source]) -> None:
    """Lymph nodes are the only metastatic evidence, yet an M0 / stage 0-III is on record.

    CR A.4 counts ICD-10-CM C77.x (lymph nodes) as metastatic and the status stays "yes" for
    nodes written distant (C77.2, "mediastinal"; nodes that may be regional, C77.3 / 94181007
    axillary, are asked before this: maybe_regional_nodes), but node-positive early breast
    cancer may be coded so too. The two records disagree, so the state says so (gap) instead of silently
    turning adjuvant therapy into metastatic lines. An M0 / early stage not final (FHIR R4
    ObservationStatus preliminary / registered) is no stage yet but doubts the nodes as much:
    it counts here, its source naming its status.
    """
    nodes = sites.get("lymph-node")
    if early_sources and nodes is not None and len(sites) == 1 and len(met_evidence) == len(nodes.sources):
        ctx.gap(
            "metastatic-status-conflict",
            "Lymph-node involvement is the only metastatic evidence, but an M0 category or an early stage "
            "group (0-III) is also on record; regional (axillary) nodes of early breast cancer are coded "
            "the same way. Confirm whether the disease is metastatic before reading therapy as metastatic lines.",
            nodes.sources + early_sources,
        )


def _stage_is_clinical(stage: dict[str, Any]) -> bool:
    t = cc_text(stage.get("type"))
    if "patholog" in t:
        return False
    # mCODE: summary codes from clinical staging unless typed otherwise
    return True


# the words of the gap metastasis-unconfirmed that say why (cards.pathway names them in the
# pathway reason: "Metastatic status unclear (nodes, regional or distant not stated)")
NODES_ONLY_WORDS = "lymph-node metastases only, regional (N"
TREATED_FOR_MBC_WORDS = "treated for metastatic breast cancer per "
# (rt50) the gap metastatic-status-conflict for a metastasis / stage IV dated > 92 days before the
# diagnosis, not counted: the pathway reason says the status is unclear, not "not documented"
DATED_BEFORE_DIAGNOSIS_WORDS = " dated before the breast cancer diagnosis "
# the drug records whose reason may name the disease treated (FHIR R4 reasonCode / reasonReference)
_DRUG_RECORDS = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")
_MBC_ABBREVIATION = re.compile(r"\bmbc\b")
# a reason naming the metastatic disease a drug is to prevent ("Prevention of metastatic breast
# cancer", "to prevent metastatic recurrence": adjuvant therapy), not one it treats; (rt50) also
# written as a risk reduction, before or after ("Risk reduction of metastatic breast cancer",
# "metastasis risk reduction": were read as MBC treated)
_PREVENTED = re.compile(r"\b(?:prevent\w*|prophyla\w*|reduc\w* (?:the )?risk|risk[- ]reduc\w*)\s+(?:\w+\s+){0,2}?(?:metasta|mbc\b)"
                        r"|\b(?:metasta\w*|mbc)\s+(?:\w+\s+)?risk[- ]reduc")


@lru_cache(maxsize=1024)
def _metastatic_breast_reason(words: str, breast_coded: bool) -> bool:
    """A drug's reason written as metastatic breast cancer ("Metastatic breast cancer", "MBC", a
    C50 code with "metastatic" in its text), asserted, not doubted nor negated (_metastatic_text)."""
    low = words.lower()
    return ((breast_coded or bool(_BREAST_TEXT.search(low)) or bool(_MBC_ABBREVIATION.search(low)))
            and not _PREVENTED.search(low) and _metastatic_text(low))


def _metastasis_coded_reason(con: Concept) -> bool:
    """A drug's reason coded as a metastasis at a site (ICD-10-CM C78-C79, SNOMED CT secondary
    codes: codes.yaml), not lymph nodes (regional N or distant M1 not stated, AJCC 8th edition)
    nor a secondary OF the breast (CR A.4 caution: another cancer's spread to it)."""
    secondary, site, _ = _secondary_codes(con)
    return (secondary and site not in (None, "lymph-node")
            and not any((is_icd10(sy) and T.norm_icd(c) in T.SECONDARY_OF_BREAST_ICD)
                        or (is_snomed(sy) and c in T.SECONDARY_OF_BREAST_SNOMED) for sy, c, _ in con.codings if c))


def _treated_for_metastatic_breast_cancer(ctx: Ctx) -> list[tuple[str, str, Source]]:
    """A drug recorded as given for metastatic breast cancer (FHIR R4 Medication{Statement,
    Request,Administration}.reasonCode, or a reasonReference's display), on a record without
    metastatic evidence: named in the gap metastasis-unconfirmed, not counted. CR A.4 defines
    metastatic disease by a secondary-site Condition, M1, stage IV or C77-C79 ("documented as a
    rule, not a code"; no precoordinated "metastatic breast cancer" concept found), and the
    labels of these drugs read "advanced or metastatic" (CR B.1-B.13): a reason written on an
    order or statement is no diagnosis made, and may stand for locally advanced disease. One
    item per reason as written, naming its records."""
    refs: dict[str, list[Source]] = {}
    for rtype in _DRUG_RECORDS:
        for res in ctx.of(rtype):
            reasons = [(_own_text({"code": cc}) or cc_text(cc), any(is_icd10(sys) and T.norm_icd(code).startswith(T.BREAST_ICD_PREFIXES)
                                         for sys, code, _ in codings(cc)))
                       for cc in as_list(res.get("reasonCode")) if isinstance(cc, dict)]
            reasons += [(text_of(ref.get("display")), False) for ref in as_list(res.get("reasonReference"))
                        if isinstance(ref, dict)]
            for words, breast_coded in reasons:
                if words and _metastatic_breast_reason(words, breast_coded):
                    refs.setdefault(words.strip()[:80], []).append(ctx.source(res, None, words.strip()[:80]))
            # (rt50) a reason coded as a secondary site ("C79.51 Secondary malignant neoplasm of
            # bone", C78-C79 / SNOMED, CR A.4) names a metastasis as much: was not read, "not
            # documented"; not nodes (regional or distant not stated, AJCC 8th edition), a
            # secondary OF the breast (another cancer's?, CR A.4 caution), nor one whose words
            # doubt, refute or prevent it ("Bone metastases ruled out", "... prophylaxis")
            for cc in as_list(res.get("reasonCode")):
                if not isinstance(cc, dict) or not _metastasis_coded_reason(concept(cc)):
                    continue
                written = (_own_text({"code": cc}) or cc_text(cc)).strip()[:80]
                low = written.lower()
                if written and (_PREVENTED.search(low) or re.search(r"\b(?:prevent|prophyla)", low)
                                or not _metastatic_text(low)):
                    continue
                words = written or ", ".join(code for _, code, _ in codings(cc) if code)[:80]
                src = ctx.source(res, None, words)
                if not any(s.reference == src.reference for s in refs.get(words, [])):
                    refs.setdefault(words, []).append(src)
    return [("site not stated",
             f"{TREATED_FOR_MBC_WORDS}{', '.join(s.reference for s in srcs[:3])}"
             + (f" and {len(srcs) - 3} more" if len(srcs) > 3 else "")
             + f' (reason "{words}"): a drug\'s reason is no metastasis documented (CR A.4)', src)
            for words, srcs in refs.items() for src in srcs[:1]]


def _display(res: dict[str, Any], default: str) -> str:
    cc = res.get("code")
    if isinstance(cc, dict):
        if isinstance(cc.get("text"), str) and cc["text"]:
            return cc["text"][:120]
        for _, code, disp in codings(cc):
            if disp:
                return f"{disp[:110]} ({code})" if code else disp[:120]
            if code:
                return f"{default} ({code})"
    return default


# The answer of an Observation that asks about a visceral crisis ("Visceral crisis: Not
# present / None / Unknown") does not assert one: CR C.3 row 12 reads only a clinician's
# assertion, and "not present" or "unknown" asserts nothing (CR C.1 ABC4: a crisis is a
# state of severe organ dysfunction the clinician has found).
_VC_NOT_ASSERTED = re.compile(
    r"\b(no|not|none|absent|negative|false|unknown|indeterminate|denied|ruled out|excluded|resolved)\b")


def _flag_current(res: dict[str, Any], as_of: dt.date) -> bool:
    """A Flag still raised: not inactive, and its period not ended by as_of (FHIR R4
    Flag.period: "from the activation of the flag to inactivation of the flag"). The status
    (FHIR R4 Flag.status: active | inactive | entered-in-error) is read in any case and without
    surrounding spaces, as every status here (fhir.status_code): " inactive " is inactive."""
    if status_code(res.get("status")) == "inactive":
        return False
    p = res.get("period")
    ended = parse_date(p.get("end")) if isinstance(p, dict) else None
    return ended is None or ended > as_of


def _vc_answer_asserts(answer: str) -> bool:
    """The written answer to a visceral-crisis question does not deny it: one that names the
    crisis is read with the negation patterns ("visceral crisis resolved"), a short answer
    with _VC_NOT_ASSERTED ("Not present", "None", "Unknown")."""
    if T.VISCERAL_CRISIS_TEXT.search(answer):
        return _vc_text_hit(answer)
    return not _VC_NOT_ASSERTED.search(answer)


def _condition_current(res: dict[str, Any]) -> bool:
    """A visceral-crisis Condition the clinician asserts now: not resolved/inactive/remission,
    not abated (FHIR R4 Condition.abatement[x]: "the date or estimated date that the condition
    resolved or went into remission"), not unconfirmed (condition-ver-status provisional /
    differential / unconfirmed: a suspicion, not the crisis CR C.3 row 12 asks a clinician
    to assert)."""
    if clinical_status_inactive(res):
        return False
    if any(res.get(k) not in (None, "", {}) for k in _ABATEMENT):
        return False
    return unconfirmed_status(res) is None


_ABATEMENT = ("abatementDateTime", "abatementPeriod", "abatementAge", "abatementRange", "abatementString")


def _vc_text_hit(text: str) -> bool:
    return bool(text) and bool(T.VISCERAL_CRISIS_TEXT.search(text)) and not T.VISCERAL_CRISIS_NEG.search(text)


def _vc_code_hit(cc: Any) -> bool:
    for system, code, _ in codings(cc):
        if T.local_lookup(T.VISCERAL_CRISIS_CODES, system, code):
            return True
    return False


def _mentions_visceral(ctx: Ctx, res: dict[str, Any], rtype: str) -> bool:
    """Cheap pre-filter: local code or the word 'visceral' somewhere a clinician writes."""
    if rtype == "Observation" and "valueQuantity" in res and not res.get("note"):
        return False  # a measurement (lab, vital sign) never asserts a visceral crisis
    con = ctx.concept_of(res)
    named = con.memo.get("visceral")
    if named is None:
        # a local visceral-crisis code or the word "visceral" in the code (per concept)
        named = con.memo["visceral"] = any(
            code.lower() in T.VISCERAL_CRISIS_ANY_CODE and T.local_lookup(T.VISCERAL_CRISIS_CODES, system, code)
            for system, code, _ in con.codings
        ) or "visceral" in con.text
    if named:
        return True
    if rtype == "Observation":
        vs = res.get("valueString")
        if type(vs) is str and "visceral" in vs.lower():
            return True
        vcc = res.get("valueCodeableConcept")
        if isinstance(vcc, dict):
            for system, code, disp in codings(vcc):
                if "visceral" in disp.lower() or code.lower() in T.VISCERAL_CRISIS_ANY_CODE:
                    return True
            if type(vcc.get("text")) is str and "visceral" in vcc["text"].lower():
                return True
        if not res.get("note"):
            return False
    if rtype == "ClinicalImpression":
        return "visceral" in text_of(res.get("summary")) + text_of(res.get("description"))
    return "visceral" in notes_text(res)


def _visceral_crisis(ctx: Ctx, d: Disease) -> None:
    """Clinician-asserted only: local code or text; never inferred from sites. A crisis
    written as impending or as a suspicion is not asserted: the gap visceral-crisis-unclear
    names it."""
    unclear: list[tuple[str, Source]] = []  # (the words as written, source)
    for rtype in ("Condition", "Observation", "Flag", "ClinicalImpression"):
        is_obs = rtype == "Observation"
        # Observations: a measurement (valueQuantity) without a note never asserts a
        # visceral crisis (as _mentions_visceral), so only the others are read
        for res in (ctx.obs_groups()[1] if is_obs else ctx.of(rtype)):
            try:
                if (is_obs and ctx.concept_of(res).memo.get("visceral") is False
                        and res.get("valueString") is None and res.get("valueCodeableConcept") is None
                        and not res.get("note")):
                    continue  # code known not to mention it, and nothing else written: as _mentions_visceral
                code = res.get("code")
                if not _mentions_visceral(ctx, res, rtype):
                    continue
                # a crisis no longer current (or not asserted) is no crisis now: checked only
                # for the resources that mention one
                if rtype == "Condition" and not _condition_current(res):
                    continue
                if rtype == "Flag" and not _flag_current(res, ctx.as_of):
                    continue
                hit = False
                if _vc_code_hit(code) or _vc_text_hit(ctx.code_text(res)):
                    hit = True
                    if rtype == "Observation":
                        vb = res.get("valueBoolean")
                        if vb is False:
                            hit = False
                        vcc = res.get("valueCodeableConcept")
                        if vcc is not None and T.ANSWERS.get(next(iter(
                                [c for _, c, _ in codings(vcc) if c] or [""]))) in ("negative", "absent"):
                            hit = False
                        if not _vc_answer_asserts(cc_text(vcc) + " " + text_of(res.get("valueString"))):
                            hit = False
                elif rtype == "Observation" and (
                    _vc_code_hit(res.get("valueCodeableConcept"))
                    or _vc_text_hit(cc_text(res.get("valueCodeableConcept")))
                    or _vc_text_hit(text_of(res.get("valueString")))
                ):
                    hit = True
                elif rtype == "ClinicalImpression" and _vc_text_hit(
                    text_of(res.get("summary")) + " " + text_of(res.get("description"))
                ):
                    hit = True
                elif rtype in ("Condition", "Observation") and _vc_text_hit(notes_text(res)):
                    hit = True
                if hit:
                    date, last = _asserted_on(res, rtype, parse_date), _asserted_on(res, rtype, date_last)
                    uncertain = _vc_uncertain_words(ctx, res, rtype)
                    if uncertain is not None:
                        unclear.append((f'written as "{uncertain}"',
                                        ctx.source(res, date, f'Visceral crisis written "{uncertain}"',
                                                   date_last=partial_last(date, last))))
                        continue
                    pending = not_final_status(res) if is_obs else None
                    if pending:
                        # FHIR R4 ObservationStatus registered / preliminary / unknown: an
                        # interim or unverified result, as a provisional Condition is a
                        # tentative diagnosis (CR C.3 row 12: clinician-asserted); neither
                        # asserted nor dropped, the clinician is asked (as a not-final disease
                        # status is no progression)
                        unclear.append((f'recorded in an Observation with status "{pending}" (not final)',
                                        ctx.source(res, date, f'Visceral crisis (Observation status "{pending}")',
                                                   date_last=partial_last(date, last))))
                        continue
                    status = clinical_status_miscased(res) if rtype == "Condition" else None
                    if status is not None and status.lower() in INACTIVE_CLINICAL_STATUS:
                        # "Resolved": no condition-clinical code (case-sensitive), so the status
                        # cannot be read; the record probably means resolved, which the service
                        # cannot tell: neither asserted nor dropped, the clinician is asked
                        unclear.append((f'recorded with clinicalStatus "{status}" (not a condition-clinical code: '
                                        "codes are case-sensitive)",
                                        ctx.source(res, date, f'Visceral crisis, clinicalStatus "{status}"',
                                                   date_last=partial_last(date, last))))
                        continue
                    d.visceral_crisis = d.visceral_crisis_documented = True
                    d.visceral_crisis_sources.append(ctx.source(res, date, "Visceral crisis (clinician-asserted)",
                                                                date_last=partial_last(date, last)))
            except Exception:  # noqa: BLE001
                continue
    if unclear and not d.visceral_crisis:
        # CR C.1 (ABC4) defines a crisis as present severe organ dysfunction; whether an
        # impending or suspected one puts chemotherapy first (C.2 step 2) no source here says: the
        # clinician is asked, the pathway does not guess either way (no crisis asserted)
        written = [w.removeprefix("written as ") for w, _ in unclear if w.startswith("written as ")]
        how = ([f"written as {'; '.join(dict.fromkeys(written))}"] if written else []) + list(
            dict.fromkeys(w for w, _ in unclear if not w.startswith("written as ")))
        ctx.gap(
            "visceral-crisis-unclear",
            f"Visceral crisis {'; '.join(how)}, not counted as a current visceral crisis "
            "(a crisis is severe organ dysfunction present now, ABC4). Confirm whether a visceral crisis "
            "is present: chemotherapy comes first only in a visceral crisis.",
            [src for _, src in unclear],
        )


def _vc_uncertain_words(ctx: Ctx, res: dict[str, Any], rtype: str) -> str | None:
    """The words that write a crisis as coming, as a suspicion or as probable, not present
    ("impending visceral crisis", "suspected visceral crisis", "r/o visceral crisis", "Visceral
    crisis?", "likely visceral crisis"; local_codes.yaml visceral_crisis uncertain_patterns,
    question_patterns, probable_patterns), wherever the clinician wrote on the resource; else
    None. Probable words are not a doubt on a Condition the clinician confirmed
    (verificationStatus "confirmed", as a probable metastasis)."""
    code_text = ctx.code_text(res)
    # what a clinician writes as a statement: not an Observation's question ("Visceral crisis?")
    statements = [notes_text(res)] if rtype == "Observation" else [code_text, notes_text(res)]
    texts = [code_text, statements[-1]]
    if rtype == "Observation":
        answer = f'{text_of(res.get("valueString"))} {cc_text(res.get("valueCodeableConcept"))}'
        statements.append(answer)
        # the question with its answer: "Visceral crisis: impending"
        texts.append(f"{code_text}: {answer}")
    elif rtype == "ClinicalImpression":
        more = [text_of(res.get("summary")), text_of(res.get("description"))]
        texts += more
        statements += more
    for rx, read in ((T.VISCERAL_CRISIS_UNCERTAIN, texts), (T.VISCERAL_CRISIS_QUESTIONED, statements),
                     (T.VISCERAL_CRISIS_PROBABLE, [] if rtype == "Condition" and _confirmed(res) else texts)):
        for text in read:
            m = rx.search(text) if text else None
            if m:
                return m.group(0)
    return None


def visceral_crisis_currency(d: Disease, therapy: TherapyHistory, as_of: dt.date) -> None:
    """A documented visceral crisis is current only while it has not been treated.

    CR C.1 (ESO-ESMO ABC4): visceral crisis is "severe organ dysfunction ... leading to a
    clinical indication for a more rapidly efficacious therapy", a state of the patient,
    not a permanent attribute; CR C.2 step 2 puts chemotherapy first on the flag. So once a
    metastatic systemic anticancer line started after the (latest dated) assertion, the
    crisis was treated: it stays documented (the summary shows it as history) but no longer
    sets the flag the pathway ranks on. A line started the same day does not count: it may
    have been started before the crisis was recorded (e.g. endocrine therapy that morning),
    so the crisis stays current and keeps chemotherapy first until a later line starts (a
    judgement call, for clinical review). An undated assertion cannot be shown to have been
    treated: it stays current.
    A new crisis is asserted anew by the clinician (a later dated assertion is current again
    until a line starts after it). A line that has not started by as_of (ordered, scheduled
    to start later) has treated nothing yet: the crisis stays current until its start.
    """
    if not d.visceral_crisis_documented:
        return
    dates = [s.date for s in d.visceral_crisis_sources]
    if not dates or any(x is None for x in dates):
        return
    latest = max(dates)  # type: ignore[type-var]
    after = [ln for ln in therapy.metastatic_lines if ln.start is not None and latest < ln.start <= as_of]
    if after:
        d.visceral_crisis = False
        d.visceral_crisis_treated_by = min(after, key=lambda ln: ln.start).number  # type: ignore[arg-type, return-value]
