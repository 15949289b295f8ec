"""Variant results for ESR1, PIK3CA, AKT1, PTEN, BRCA1, BRCA2, PALB2, ERBB2.

Sources: Genomics Reporting / mCODE variant Observations (69548-6 with a 48018-6
gene component; HGNC ids with or without the "HGNC:" prefix, systems
http://www.genenames.org and .../geneId; gene symbol fallback), legacy
single-gene LOINC codes (hints: gene from the code, result from the value),
region-studied Observations (53041-0: genes looked at; a gene studied with no
variant reported on that day becomes "not-detected"), and DiagnosticImplication
Observations carrying 53037-8 that point to the variant through derivedFrom, and a genomics
DiagnosticReport's conclusion / conclusionCode for the genes none of its result Observations gives.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, get_args

from mappings import tables as T
from mappings.context import Ctx
from mappings.fhir import (
    MONTH_NUMBERS, NOT_FINAL_STATUSES, as_list, cc_as_written, cc_text_m, codings_m, date_last, is_loinc, memo_search, not_final_status,
    notes_text, obs_date, parse_date, partial_last, ref_id, systemless_answer_message, text_of,
)
from mappings.fhir import bounded  # (lt1) a text read to fhir.TEXT_READ_LIMIT characters
from mappings._fast import construct as _construct
from mappings.state import Source, VariantResult, date_written

_NOT_DETECTED = re.compile(
    r"not detected|\bnegative\b|\babsent\b|wild[- ]?type|\bwt\b"
    # the usual short form of "negative" ("ESR1: neg"; as "wt"), named unclear and its test asked again
    r"|\bneg\b"
    # "Not present", "Mutation not identified", "Variant not found", "None detected"
    r"|\bnot (present|identified|found|seen|observed)\b|\bnone (detected|identified|found|present|reported)\b"
    # "ESR1 not mutated", "non-mutated", "not positive" (and the short forms spelled out,
    # _spelled_out: "ESR1 not mut"): read as a finding ("mutated"), elacestrant offered (CR C.2 step 3)
    r"|\bnot (?:mutated|mutation|positive)\b|\bnon-?\s?(?:mutated|mutation)\b"
    # a statement that opens with "no": "No ESR1 mutation identified", "No variants of clinical
    # significance detected", "No mutations"; only at the start of the text or of a clause, so
    # an aside ("Detected: PIK3CA H1047R (no other variants)") does not negate the finding
    # "no other / additional / further variants" follows a finding: it never negates it
    # ... also after the gene it is of ("BRCA2 no pathogenic variant", "ESR1 - no mutation"): the
    # "no" was passed over and "pathogenic variant" read as a finding (a germline negative read
    # as a pathogenic BRCA2 variant, CR C.2 step 1 / C.3 row 7)
    # (a clause's own leading space counts as its start: "PIK3CA p.H1047R detected; No ESR1 mutation
    # detected" is cut at ";" into " No ESR1 ...", whose "no" was passed over: ESR1 read detected)
    r"|(?:^|[|:;,.])\s*(?:(?:germline |somatic )?(?:[gst]?brca ?[12](?:/2)?|esr1|pik3ca|akt1|pten|palb2)\s*-?\s*)?"
    r"no\b(?!\s+(?:other|additional|further)\b)[^|:;,.()]{0,40}?\b(variant|mutation|alteration)s?\b"
    # "none" as the whole answer: "ESR1 mutation: none", "None", "Variants: none." (the answer
    # LL1971-2 calls Absent); not "none of ..." or "none detected" inside a longer clause
    r"|(?:^|[|:;])\s*none\s*(?:$|[|;.,])"
    # ... or opening a clause ("None of the tested hotspots mutated"), but not "none of the
    # other variants", which follows a finding (as "no other variants" above)
    r"|(?:^|[|:;,.])\s*none\b(?!\s+(?:of\s+the\s+)?(?:other|additional|further)\b)"
)
# A negative that the report itself says cannot be read as one: a plasma (ctDNA) test with a
# low tumour fraction cannot exclude a mutation ("ctDNA negative/low tumor fraction -> tissue
# reflex", CR C.2 step 3; "ctDNA negative is not wild-type", CR C.3 row 2), and a result the
# report calls not informative is no result. Only a negative is undone: a variant found at a
# low tumour fraction was still found.
_UNINFORMATIVE_NEGATIVE = re.compile(
    r"\b(?:not|non|un)[- ]?informative\b"
    r"|\blow (?:ctdna |circulating tumou?r dna |cfdna )?(?:tumou?r fraction|tf|ctdna fraction)\b"
    r"|\btumou?r fraction\W{0,3}(?:is |was )?(?:low|too low|below|insufficient|<)"
    r"|\binsufficient (?:tumou?r fraction|tumou?r content|ctdna)\b"
)
# A finding refuted after its name ("ESR1 mutation ruled out", "mutation excluded"), or the
# patient free of it ("Free of ESR1 mutations", "Without detectable ESR1 mutation",
# "Undetected"): these read as detected ("mutation" is a detection word). Words: the shared
# ruled_out_words (local_codes.yaml vocabulary, condition-ver-status "refuted"); a ruled-out
# word kept open ("cannot be excluded") is _UNSETTLED, read first.
_REFUTED = re.compile(
    rf"\b(?:mutation|variant|alteration)s?\b[^|;.]{{0,15}}?\b{T.VOCABULARY['ruled_out_words']}\b"
    # (not "without other / additional variants", "free of further alterations": an aside
    # after a finding, as "no other variants" in _NOT_DETECTED)
    r"|\bfree of\b(?!\s+(?:any\s+)?(?:other|additional|further)\b)[^|;.]{0,25}?\b(?:mutation|variant|alteration)s?\b"
    r"|\bwithout\b(?!\s+(?:any\s+)?(?:other|additional|further)\b)[^|;.]{0,25}?\b(?:mutation|variant|alteration)s?\b"
    r"|\bundetected\b"
)
# A pathogenic class hedged (read by _UNSETTLED and _HEDGED_CLASS): "deleterious" too, the PARP
# labels' class (CR B.6 / B.7): hedged, it is no call as a hedged "pathogenic" is ("possibly /
# probably deleterious", "deleterious (suspected)" offered talazoparib); stated probable ("probably /
# presumed pathogenic": condition-ver-status provisional, the shared probable_words), but "likely
# pathogenic" is the ACMG class itself (CR C.2 step 1); "likely deleterious" is neither an ACMG
# class (CR C.2 step 1: P/LP) nor a label's ("deleterious or suspected deleterious", CR B.6 / B.7):
# the sources do not settle it, so no call (unclear). The five ACMG/AMP tiers are pathogenic, likely
# pathogenic, uncertain significance, likely benign, benign (Richards et al., Genet Med 2015;17:405-24);
# "deleterious" / "suspected deleterious" are a laboratory's (Myriad) words the labels quote.
_HEDGED_CLASS_WORDS = (
    rf"\b{T.VOCABULARY['suspicion_words']}\b[^|;.]{{0,10}}?\b(?:likely )?(?:pathogenic(?!ity)|deleterious)"
    rf"|\b(?!likely\b){T.VOCABULARY['probable_words']}\s+(?:likely )?(?:pathogenic(?!ity)|deleterious)"
    r"|\blikely\s+deleterious\b"
    r"|\b(?:pathogenic|deleterious)\s*[(\[]?\s*\?"
    rf"|\b(?:pathogenic|deleterious)\b[^|;.]{{0,15}}?\b{T.VOCABULARY['suspicion_words_after']}\b")

# A finding not settled: hedged ("ESR1 mutation suspected", "Possible ESR1 mutation", "?mutation",
# "cannot be excluded", "not confirmed", "equivocal") or not given ("not tested", "pending",
# "see report"). Read as detected, each offered a targeted drug on no result; now no call
# (the gene stays untested). Words: the shared suspicion_words (before the finding),
# suspicion_words_after, cannot_exclude and not_yet_excluded lists (condition-ver-status
# "unconfirmed"; "has not been excluded", "yet to be excluded" were read as refuted). Not
# read when the text also states a finding plainly ("p.H1047R detected; possible germline
# variant": the hedge is about something else).
# a named change: HGVS protein ("p.Y537S", "p.(Tyr537Ser)") or the usual short hotspot form
# ("H1047R", "E545K", "D538G": one-letter amino acid, position, amino acid)
_CHANGE_WORD = r"(?:\bp\.\(?[a-z]{1,3}\d+|(?<![a-z0-9.])[acdefghiklmnpqrstvwy]\d{2,4}[acdefghiklmnpqrstvwy*](?![a-z0-9]))"
# a gene named between the hedge and its change ("possible ESR1 p.Y537S"), as _GENE_WORD (below)
_GENE_BEFORE_CHANGE = r"(?<![a-z0-9])(?:esr1|pik3ca|akt1|pten|brca ?1|brca ?2|palb2)(?![a-z0-9])"
# a change written before its hedge is not one written right after a word other than these genes
# or "mutation" / "variant": "KRAS G12D possible", "TP53 p.R175H (likely germline?)" hedge another
# gene's change (the reader reads these genes alone), which says nothing of this gene's result
_OWN_CHANGE_START = "(?:(?<![a-z0-9][\\s:])(?<![a-z0-9]:\\s)|" + "|".join(
    rf"(?<={w}{sep})" for w in ("esr1", "pik3ca", "akt1", "pten", "brca1", "brca2", "palb2", "mutation", "variant")
    for sep in (" ", ": ", ":")) + ")"
_HEDGED_CHANGE = (
    rf"|(?:\b(?:{T.VOCABULARY['suspicion_words']}|{T.VOCABULARY['probable_words']})\b|\?)\s*:?\s*"
    rf"(?:{_GENE_BEFORE_CHANGE}\s*:?\s*)?{_CHANGE_WORD}"
    rf"|{_OWN_CHANGE_START}{_CHANGE_WORD}[^|;.]{{0,25}}?\b{T.VOCABULARY['suspicion_words_after']}\b"
    rf"|{_OWN_CHANGE_START}{_CHANGE_WORD}\S*[\s,(\[-]*(?:possible|possibly|probable|likely|\?)\s*[)\]]?\s*(?=$|[|;.,])")
_HEDGED_CHANGE_RE = re.compile(_HEDGED_CHANGE[1:])
# a change written in the short form as this gene's (not after another gene's name: "KRAS G12D")
_OWN_SHORT_CHANGE = re.compile(_OWN_CHANGE_START + _CHANGE_WORD)
_UNSETTLED = re.compile(
    rf"\b{T.VOCABULARY['suspicion_words']}\b[^|;.]{{0,25}}?\b(?:mutation|variant|alteration|mutated)"
    rf"|\b(?:mutation|variant|alteration)s?\b[^|;.]{{0,25}}?\b{T.VOCABULARY['suspicion_words_after']}\b"
    rf"|\b{T.VOCABULARY['cannot_exclude']}\b"
    rf"|\b{T.VOCABULARY['not_yet_excluded']}\b"
    r"|\bequivocal\b|\bnot (?:tested|performed|assessed|evaluated)\b|\bpending\b"
    r"|\bsee (?:the |full |attached |separate )?report\b|\?\s*(?:mutation|variant|mutated|(?:likely )?pathogenic)"
    # a classification hedged ("possibly pathogenic", "probably deleterious": _HEDGED_CLASS_WORDS):
    # no call, as a hedged finding (_PATHOGENIC_STATED reads only a plain one)
    "|" + _HEDGED_CLASS_WORDS +
    # ... or a classification the report no longer gives ("benign (previously reported pathogenic)",
    # "reclassified from pathogenic to VUS"): read as the current one, a PARP inhibitor was offered
    # on a benign variant; which class stands is for the report to say (CR C.2 step 1: P/LP only)
    r"|\b(?:previously|formerly|originally|initially)\b[^|;.]{0,25}?\b(?:likely )?pathogenic\b"
    r"|\breclassified\s+(?:from\s+)?(?:likely\s+)?pathogenic\b"
    # ... or its confirmation still awaited ("pathogenic - awaiting confirmation": the shared
    # pending_words_after; "pending" alone is read above)
    rf"|\bpathogenic\b[^|;.]{{0,15}}?\b{T.VOCABULARY['pending_words_after']}"
    # a relative's variant ("family history of BRCA1 pathogenic variant", "mother: BRCA2 carrier"):
    # not the patient's result (FHIR R4 FamilyMemberHistory; the shared relative_words, without
    # "fh", a gene symbol on panels); not read when a finding is stated plainly beside it
    r"|\b(?:family (?:history|hx)|relatives?|mother|father|sister|brother|sibling|daughter|son|aunt|uncle|cousin"
    r"|grand(?:mother|father|parent))('s)?\b[^|;.]{0,30}?\b(?:mutation|variant|alteration|mutated|pathogenic|carrier)"
    # ... or named after it ("BRCA2 pathogenic in mother", "variant of her sister", "carrier
    # from father"): as much not the patient's (same source); read within the clause only
    r"|\b(?:mutation|variant|alteration|mutated|pathogenic|carrier)\b[^|;.]{0,20}?\b(?:in|of|from|carried\s+by)\s+"
    r"(?:(?:her|his|the|a|patient'?s|pt'?s)\s+)?(?:family|relatives?|mother|father|sister|brother|sibling|daughter"
    r"|son|aunt|uncle|cousin|grand(?:mother|father|parent))\b"
    # ... or a named change hedged ("possible p.Y537S", "?p.Y537S", "likely p.D538G", "H1047R
    # suspected at low VAF", "p.Y537S (possible)"): the shared suspicion_words / probable_words
    # before it (the gene may stand between), suspicion_words_after after it, or a hedge closing
    # its piece. Read as no hedge, a negative beside it ("ESR1 not detected, possible p.Y537S")
    # was the result, a variant the report names as possible unseen (condition-ver-status
    # 'unconfirmed'; CR C.2 step 3: a result not clear is no result). Not "likely pathogenic".
    + _HEDGED_CHANGE
)
# the relatives named (_RELATIVES_RESULT, _RELATIVE_WORD)
_RELATIVES = (r"relatives?|mother|father|sister|brother|sibling|daughter|son|aunt|uncle|cousin|niece|nephew"
              r"|grand(?:mother|father|parent|daughter|son)")
# a clause whose result is a relative's ("daughter tested negative", "mother BRCA1 negative",
# "sister: positive"): not the patient's result, whatever it says (FHIR R4 FamilyMemberHistory,
# as the relative words of _UNSETTLED). Read as hers, the daughter's negative was the patient's
# germline BRCA1 negative; no call now (_text_result), so the gene is named unclear
_RELATIVES_RESULT = re.compile(
    r"(?:^|[|:;,.(]\s*|\b(?:her|his|the|patient'?s|pt'?s)\s+)"
    rf"(?:{_RELATIVES})(?:'s|s)?\b[^|;.]{{0,40}}?"
    r"\b(?:tested|negative|positive|detected|carrier|wild[- ]?type|mutation|variant|mutated|pathogenic)\b"
    # ... or found in a relative, named after it ("BRCA2 deleterious mutation found in mother"): the
    # plain "found" made it the patient's germline variant and offered talazoparib (same source)
    r"|\b(?:detected|found|identified|present|positive|confirmed)\s+(?:also\s+)?in\s+"
    rf"(?:(?:her|his|the|a|patient'?s|pt'?s)\s+)?(?:{_RELATIVES})\b"
    # ... or a relative standing alone in brackets after the result ("germline BRCA2 pathogenic
    # variant (mother)"): the mother's result, or one the patient shares with her? Read as hers, the
    # patient's germline variant offered talazoparib; the report does not say, so no call (unclear)
    rf"|\(\s*(?:(?:her|his|the|in|from)\s+)*(?:{_RELATIVES})(?:'s)?\s*\)")
# a relative named (the words of _UNSETTLED's and _RELATIVES_RESULT's relatives)
_RELATIVE_WORD = re.compile(rf"\b(?:family (?:history|hx)|{_RELATIVES})(?:'s|s)?\b")
# a finding stated plainly ("p.H1047R detected", "variant identified", "found"), not "not
# detected" / "undetected": beside it a hedge is about something else (_text_result)
_STATED_FOUND = re.compile(r"(?<!not )(?<!un)\b(?:detected|present|positive|identified|found)\b")
# a gene's classification stated plainly as the result ("germline BRCA1 pathogenic", "tumor BRCA2
# likely pathogenic"): a variant classified pathogenic / likely pathogenic was found (CR C.2 step 1:
# P/LP are the actionable classes; gBRCA1/2 P/LP -> olaparib / talazoparib, CR B.6 / B.7). Read
# after the negations (_NOT_DETECTED: "no pathogenic variant", "pathogenic variants: none") and the
# hedges (_UNSETTLED: "possibly pathogenic"); not "non-/not pathogenic" (benign, _SIG_TEXT), not
# "pathogenicity" (the question), not "pathogenic: no". A VUS states no finding here (CR C.2 step
# 1: VUS ignored): it stays no call.
_PATHOGENIC_STATED = re.compile(
    r"(?<!not )(?<!non)(?<!non-)(?<!non )(?<!not likely )\b(?:likely )?(?:pathogenic|deleterious)\b(?!ity)(?!\W{0,3}no\b)")
# the PARP inhibitor labels' own classes: "deleterious or suspected deleterious gBRCAm" (CR B.6
# olaparib, B.7 talazoparib; the companion diagnostic's report wording). Both are the labelled
# class, so "suspected" there is the class's name, no hedge: read as a classification stated
# (pathogenic, the class the cards act on), and named as written on the card
# (VariantResult.significance_label_class). Not when negated ("not deleterious": benign, _SIG_TEXT)
_LABEL_CLASS = re.compile(r"(?<!not )(?<!non)(?<!non-)(?<!non )\b(suspected deleterious|deleterious)\b")
_DETECTED = re.compile(r"\bdetected\b|\bpresent\b|\bpositive\b|\bmutated\b|\bmutation\b|\bvariant\b")
# the short forms "mut", "pos", "neg" ("ESR1 mut", "PIK3CA pos", "ESR1: neg"; named unclear and the
# test asked again), read as the words they stand for, so that a negation or hedge of them is read
# as of the long form: read as a finding on their own, "ESR1: no mut", "ESR1 not pos", "ESR1 mut?"
# were ESR1 detected and elacestrant offered (CR C.2 step 3)
_SHORT_FORM = re.compile(r"\b(mut|pos|neg)\b")
_SHORT_FORM_WORDS = {"mut": "mutation", "pos": "positive", "neg": "negative"}


def _spelled_out(text: str) -> str:
    return _SHORT_FORM.sub(lambda m: _SHORT_FORM_WORDS[m.group(1)], text)


# a hormone-receptor status ("ER positive", "oestrogen receptor positive", "PR negative"): the
# receptor protein (CR A.1), no result of the ESR1 gene; read, "ER positive" under an ESR1 test or
# report was an ESR1 mutation detected and elacestrant offered (CR C.2 step 3: ESR1-mutated)
_RECEPTOR_STATUS = re.compile(
    r"\b(?:er|pr|pgr|hr|(?:o?estrogen|progesterone|hormone)[ -]receptors?)\s*(?:status\s*)?[:=]?\s*"
    r"(?:-\s*)?(?:positive|negative|\+|-(?![\w-]))")


# a finding asked, not stated ("ESR1 mutation?", "ESR1: positive?"), or a status said unknown ("ESR1
# mutation status unknown"): read as detected, elacestrant offered (CR C.2 step 3: a result that is
# not clear is no result)
_QUESTIONED = re.compile(r"\b(?:mutat\w*|variants?|alterations?|positive|detected|present)\s*\?"
                         r"|\b(?:mutation|mutational|variant)\s+status\s*:?\s*(?:unknown|unclear|not known|uncertain)\b")
_INDETERMINATE = re.compile(r"no call|indeterminate|inconclusive|failed|insufficient|\bqns\b")
# a BRCA gene with the labels' origin prefix as one word ("gBRCA2", "sBRCA1/2": germline /
# somatic, CR B.6 / B.7 "gBRCAm"; the origin itself is read by _GERMLINE_TEXT / _SOMATIC_TEXT)
_SYMBOL_RE = re.compile(r"(?<![A-Za-z0-9])(?:[gst](?=brca))?(ESR1|PIK3CA|AKT1|PTEN|BRCA1|BRCA2|PALB2|ERBB2|HER2)(?![A-Za-z0-9])", re.I)
# "BRCA1/2", "BRCA 1/2", "BRCA1 and 2", "BRCA1/BRCA2", "BRCA1 & BRCA2": the two genes of the
# germline BRCA test (CR B.15, BRACAnalysis CDx: BRCA1 and BRCA2); _SYMBOL_RE alone saw BRCA1
_BRCA_BOTH = re.compile(r"(?<![A-Za-z0-9])(?:[gst](?=brca))?brca ?1 ?(?:/|&|,|\+|and|or) ?(?:brca ?)?2(?![0-9])", re.I)


@lru_cache(maxsize=4096)
def genes_named(text: str) -> tuple[str, ...]:
    """The gene symbols a text names, in order, upper case ("HER2" as written; "BRCA1/2" as
    BRCA1 and BRCA2). Public: the draft-order reader (build._test_ordered) names the genes a
    drafted test orders with it."""
    found: list[str] = []
    # (_BRCA_BOTH always ends in a "2": a text without one is read as it is)
    for m in _SYMBOL_RE.finditer(_BRCA_BOTH.sub(" BRCA1 BRCA2 ", text) if "2" in text else text):
        g = m.group(1).upper()
        if g not in found:
            found.append(g)
    return tuple(found)


# p.(Glu545Lys) keeps its parentheses; in "(p.Ser1982fs)" the ")" is the text's, not HGVS
def _changes_written(rx: re.Pattern[str], text: str) -> str | None:
    """Every p. (or c.) change `rx` finds in `text`, in order, joined by ", " ("ESR1 p.D538G,
    p.Y537S detected": both, the second was dropped from the card); one written again in brackets
    after another ("p.H1047R (p.His1047Arg)") is the same change, not a second one. A change its
    own piece says is absent ("p.D538G detected, p.Y537S not detected") is not shown beside a found one."""
    found: list[str] = []
    pieces = _CHANGE_PIECE_SPLIT.split(text)
    absent = {m.group(0) for piece in pieces if _NOT_DETECTED.search(piece.lower()) for m in rx.finditer(piece)}
    for m in rx.finditer(text):
        if m.group(0) not in found and not (found and text[:m.start()].rstrip().endswith("(")):
            found.append(m.group(0))
    present = [c for c in found if c not in absent]
    return ", ".join(present or found) or None


# the pieces of a result text that each state one change's call: clauses, commas, brackets (not
# the "." of "p.D538G")
_CHANGE_PIECE_SPLIT = re.compile(r"[|;,()]|\.(?:\s|$)")


def _a_change_found_beside_changes_absent(text: str) -> bool:
    """"ESR1 p.D538G detected, p.Y537S not detected": one change found plainly, and every negation
    in the text is of another named change. Read whole, the negation won: ESR1 not detected and
    elacestrant withheld on an ESR1 p.D538G variant (CR C.2: a detected ESR1 mutation selects it)."""
    pieces = [p for p in _CHANGE_PIECE_SPLIT.split(text) if p.strip()]
    negated = [p for p in pieces if _NOT_DETECTED.search(p) or _REFUTED.search(p)]
    found = [p for p in pieces if p not in negated and _STATED_FOUND.search(p)]
    return (bool(negated) and bool(found) and all(_names_change(p) for p in negated)
            and any(_names_change(p) for p in found + [q for q in pieces if q not in negated]))


def _found_in_one_specimen_negative_in_another(text: str) -> bool:
    """"ESR1 D538G detected in ctDNA; tissue negative", "PIK3CA not detected in plasma; H1047R
    detected in tissue": a variant found in one specimen, and every negation says it is of another
    specimen. Read whole, the negation won or the result was named unclear, and elacestrant / the
    PIK3CA drugs withheld: a mutation found in tissue or ctDNA counts (CR C.2 step 3 "PIK3CA-mut
    (P/LP, tissue or ctDNA)"; ESR1 on ctDNA preferred; C.3 row 2: a ctDNA negative is no wild type)."""
    pieces = [p for p in _CHANGE_PIECE_SPLIT.split(text) if p.strip()]
    negated = [p for p in pieces if _NOT_DETECTED.search(p) or _REFUTED.search(p)]
    found = [p for p in pieces if p not in negated and _STATED_FOUND.search(p)]
    found_in = {_specimen_kind(p) for p in found} - {"unknown"}
    return (bool(negated) and len(found_in) == 1
            and all(_specimen_kind(p) not in found_in | {"unknown"} for p in negated))


def _names_change(piece: str) -> bool:
    """The piece names a p. or c. change (_PROTEIN_RE, _DNA_RE), or one in the short hotspot form
    ("Y537S not detected, D538G detected" read ESR1 not detected, elacestrant withheld on D538G),
    not one written after another gene's name: "KRAS G12D detected; ESR1 not detected" was an ESR1
    variant found beside its negative, ESR1 named unclear and its test asked again."""
    return bool(_PROTEIN_RE.search(piece) or _DNA_RE.search(piece) or _OWN_SHORT_CHANGE.search(piece.lower()))


# a finding told as the gene's past ("ESR1 not detected (previously detected 2023)"): a history
# beside today's result, not a second result of this test
_PAST_FINDING = re.compile(r"\b(?:previously|formerly|prior|earlier|history|historical|in the past)\b")
# a found variant of no clinical class for the gene's result: a VUS or benign variant beside "no
# pathogenic variant" is the usual report, not a contradiction (CR C.2 step 1: P/LP only)
_NOT_A_CLASS_FINDING = ("vus", "benign", "likely-benign")
_OF_A_VARIANT = re.compile(r"\b(?:mutat\w*|variants?|alterations?)\b")


def _result_pieces(clause: str) -> list[str]:
    """A clause cut where each piece states one call (_CHANGE_PIECE_SPLIT); whole when a negation
    comes before a gene it names: it heads a list ("negative for BRCA1, BRCA2 pathogenic variants",
    "No pathogenic variants in BRCA1, BRCA2 detected"), whose later pieces are no finding."""
    pieces = _CHANGE_PIECE_SPLIT.split(clause)
    for p in pieces:
        negation = _NOT_DETECTED.search(p) or _REFUTED.search(p)
        gene = re.search(_GENE_WORD, p)  # _GENE_WORD (below): a gene as a word
        if negation and gene and negation.start() < gene.start():
            return [clause]
    return pieces


@lru_cache(maxsize=4096)
def _gene_result_conflict(text: str) -> str | None:
    """One gene's result text stating both that the gene is negative (a negation naming no
    change: "ESR1 not detected", "PIK3CA: negative", "ESR1 wild type") and that a variant of it
    was found ("ESR1 p.D538G detected", "BRCA2 c.5946delT pathogenic", "ESR1 mutation detected").
    Which one holds is not ours to guess (DESIGN.md; CR C.2 step 3: a result that is not clear is
    no result): it was read negative, and elacestrant withheld without a word of the variant. A
    negation of a named change beside another found ("p.D538G detected, p.Y537S not detected") is
    no contradiction, nor a finding told as past or of no class (VUS). "found" for such a text,
    "hedged" for a negative beside a change named as possible, None otherwise."""
    text = _spelled_out(text.lower())
    pieces = [p.strip() for clause in _CLAUSE_SPLIT.split(text) for p in _result_pieces(clause) if p.strip()]
    gene_negative = any((_NOT_DETECTED.search(p) or _REFUTED.search(p)) and not _names_change(p)
                        and _text_result(p) == "not-detected" for p in pieces)
    # a finding stated of a variant ("detected" / "pathogenic" said of a change, the gene or its
    # mutation), not a change merely listed ("p.D538G, p.Y537S tested") nor another measure found
    # ("tumor fraction 5% detected")
    found = any(_text_result(p) == "detected" and (_STATED_FOUND.search(p) or _PATHOGENIC_STATED.search(p))
                and (_names_change(p) or _gene_symbols_named(p) or _OF_A_VARIANT.search(p))
                and not _PAST_FINDING.search(p) and _significance_text(p) not in _NOT_A_CLASS_FINDING
                for p in pieces)
    if not gene_negative or _found_in_one_specimen_negative_in_another(text):
        return None
    if found:
        return "found"
    # ... or a change of it named as possible ("ESR1 not detected, possible p.Y537S", "PIK3CA
    # negative; H1047R suspected at low VAF"): read as the negative, the possible variant unseen;
    # neither decides (CR C.2 step 3), the report is quoted for the clinician (_UNSETTLED's hedges)
    return "hedged" if any(_HEDGED_CHANGE_RE.search(p) for p in pieces) else None


# what the report says of a gene whose result text conflicts (_gene_result_conflict)
_CONFLICT_SAID = {"found": "both that {gene} carries a variant and that {it} is negative",
                  "hedged": "that {gene} is negative and names a variant of it as only possible"}


_PROTEIN_RE = re.compile(r"\bp\.(\()?[A-Za-z]{1,3}\d+[A-Za-z*=_]*[A-Za-z0-9*]*(?(1)\)?)")
_DNA_RE = re.compile(r"\bc\.[0-9_+\-*]+[ACGTacgt>delinsupdup0-9_]*")

GENOMIC_CODES = T.VARIANT_CODES | T.REGION_STUDIED_CODES | frozenset(T.LEGACY_GENE_CODES)
# a gene read here (T.GENES but ERBB2: a local "HER2" test is the receptor's), as a word
# ("brca 1" with a space too)
_GENE_WORD = r"(?<![a-z0-9])(?:[gst](?=brca))?(esr1|pik3ca|akt1|pten|brca ?1|brca ?2|palb2)(?![a-z0-9])"
# Local/unknown test codes whose name says what they are ("ESR1 mutation analysis, plasma")
_GENE_TEST_TEXT = re.compile(
    _GENE_WORD + r"[^|]{0,40}(mutation|variant|alteration|sequenc|\bngs\b|genotyp)"
    r"|(mutation|variant|alteration|sequenc|genotyp)[^|]{0,40}" + _GENE_WORD
)
_gene_test_text = memo_search(_GENE_TEST_TEXT)
# ... or by the word test / testing / analysis / panel after the gene ("Germline BRCA1/2
# testing", "ESR1 test, plasma"); not a protein test of the gene ("PTEN IHC", "ESR1 protein
# expression"), whose positive / negative is about staining, not a variant
_GENE_NAMED_TEST = re.compile(_GENE_WORD + r"[^|]{0,40}\b(tests?|testing|analysis|panel)\b"
                              # ... or by the gene's genomic origin beside it ("BRCA1/2 germline",
                              # "Germline BRCA1/2", "BRCA1 and BRCA2 (germline)"): germline / somatic
                              # is said of a variant, never of a protein (LOINC 48002-0 genomic source
                              # class, LA6683-2 Germline / LA6684-0 Somatic; CR A.2 row "Genomic
                              # source class"); the origin itself is read from the name by
                              # _origin_from_obs, the genes by genes_named ("BRCA1/2": both)
                              r"|" + _GENE_WORD + r"[^|]{0,40}\b(germline|somatic)\b"
                              r"|\b(germline|somatic)\b[^|]{0,40}" + _GENE_WORD)
_PROTEIN_TEST = re.compile(r"\bihc\b|immunohisto|\bexpression\b|\bprotein\b|\bstain")


@lru_cache(maxsize=4096)
def _names_gene_test(text: str) -> bool:
    """The code text names a test of a gene's variants (_GENE_TEST_TEXT, or a gene's test
    that is not a protein test)."""
    return _gene_test_text(text) or (_GENE_NAMED_TEST.search(text) is not None
                                      and _PROTEIN_TEST.search(text) is None)


names_gene_test = _names_gene_test  # public: build.py names a missing status on what it reads

# what the sender's significance wording says; _CONFLICTING is read as uncertain (vus) and
# kept on the variant (VariantResult.significance_conflicting) so cards can say why
_CONFLICTING = "conflicting"
_SIG_TEXT = [
    # ClinVar "Conflicting interpretations / classifications of pathogenicity": the submitters
    # disagree, so it is not pathogenic/likely pathogenic, the only actionable classes (CR C.2
    # step 1, CR A.2 LL4034-6); first, since it names "pathogenicity"
    (re.compile(r"\bconflicting\b"), _CONFLICTING),
    # negated first: "Non-pathogenic", "not (likely) pathogenic" must not read as pathogenic.
    # "pathogenicity" / "oncogenicity" name the question, not the answer ("Pathogenicity:
    # benign"), so they never count as "pathogenic"
    (re.compile(r"\b(non|not)[- ]?(likely )?(pathogenic|deleterious|oncogenic)(?!ity)"), "benign"),
    (re.compile(r"likely pathogenic(?!ity)"), "likely-pathogenic"),
    (re.compile(r"likely benign"), "likely-benign"),
    (re.compile(r"uncertain|\bvus\b|unknown (clinical )?significance"
                r"|(pathogenicity|oncogenicity|significance)\W{0,3}(unknown|undetermined|not determined)"
                r"|unknown (pathogenicity|oncogenicity)"), "vus"),
    (re.compile(r"pathogenic(?!ity)|deleterious|oncogenic(?!ity)"), "pathogenic"),
    (re.compile(r"benign"), "benign"),
]


def _code_set(cc: Any) -> set[str]:
    if type(cc) is dict:
        items = cc.get("coding")
        if type(items) is list and len(items) == 1 and type(items[0]) is dict:
            # one coding with a string code: what codings() would make of it
            c = items[0]
            code, system = c.get("code"), c.get("system")
            if type(code) is str and (system is None or type(system) is str):
                code = code.strip()
                return {code} if code and (system is None or is_loinc(system.strip())) else set()
    return {c for s, c, _ in codings_m(cc) if c and is_loinc(s)}


def _gene_from_cc(cc: Any) -> str | None:
    for system, code, display in codings_m(cc):
        if code and (system in T.HGNC_SYSTEMS or "genenames" in system.lower() or code.upper().startswith("HGNC:")):
            num = code.split(":", 1)[1] if ":" in code else code
            g = T.GENE_BY_HGNC.get(num.strip())
            if g:
                return g
    # symbol fallback in code/display/text (e.g. code "ESR1" or display "PIK3CA")
    for _, code, display in codings_m(cc):
        for t in (code, display):
            g = _symbol(t)
            if g:
                return g
    if isinstance(cc, dict) and isinstance(cc.get("text"), str):
        return _symbol(cc["text"])
    return None


def _symbol(text: str) -> str | None:
    if not text:
        return None
    m = _SYMBOL_RE.search(text)
    if not m:
        return None
    s = m.group(1).upper()
    return "ERBB2" if s == "HER2" else s


def _written_value_text(obs: dict[str, Any]) -> str:
    """The value's and the notes' words as written (cc_text and notes_text are lower case): a
    p. change read from them keeps its case (HGVS is case-sensitive: "p.E545K", not "p.e545k")."""
    vcc = obs.get("valueCodeableConcept")
    parts: list[Any] = [vcc.get("text")] if isinstance(vcc, dict) else []
    parts += [d for _, _, d in codings_m(vcc)] + [obs.get("valueString")]
    parts += [n.get("text") for n in as_list(obs.get("note")) if isinstance(n, dict)]
    return " | ".join(bounded(p) for p in parts if isinstance(p, str) and p)


def _written_value_only(obs: dict[str, Any]) -> str:
    """The value's words as written (its text and valueString; no displays, no notes)."""
    vcc = obs.get("valueCodeableConcept")
    parts = [vcc.get("text") if isinstance(vcc, dict) else None, obs.get("valueString")]
    return " | ".join(bounded(p) for p in parts if isinstance(p, str) and p)


def _value_text(c: dict[str, Any]) -> str:
    parts = []
    if isinstance(c.get("valueCodeableConcept"), dict):
        vcc = c["valueCodeableConcept"]
        parts.append(cc_text_m(vcc))
        for _, code, _ in codings_m(vcc):
            if code:
                parts.append(code)
    if isinstance(c.get("valueString"), str):
        parts.append(bounded(c["valueString"]))
    return " | ".join(p for p in parts if p)


def _significance(cc_or_text: Any) -> str | None:
    if isinstance(cc_or_text, dict):
        for system, code, _ in codings_m(cc_or_text):
            s = T.answer_lookup(T.SIGNIFICANCE_ANSWERS, system, code)
            if s:
                return s
        text = cc_text_m(cc_or_text)
    else:
        text = text_of(cc_or_text)
    return _significance_text(text)


def _interpretation_significance(obs: dict[str, Any]) -> str | None:
    """A clinical-significance answer in Observation.interpretation (some senders put the
    LL4034-6 answer there, CR A.2): an LL4034-6 code or a significance wording. Anything
    else there (Positive/Negative, Normal/Abnormal) is a qualifier of the result, not a
    significance, and _significance reads nothing from it."""
    for cc in as_list(obs.get("interpretation")):
        # "Negative for pathogenic variants" qualifies the result: it is no significance
        if isinstance(cc, dict) and not _NOT_DETECTED.search(cc_text_m(cc)):
            sig = _significance(cc)
            if sig:
                return sig
    return None


# a class the variant had before ("pathogenic, previously VUS", "reclassified from VUS to
# likely pathogenic", "formerly likely benign"): not its class now. Read first, the VUS of the
# past hid a germline BRCA2 pathogenic variant (CR C.2 step 1 reads the classification the
# result gives, P/LP only; the one it gives now is the one in force)
_FORMER_CLASS = re.compile(
    r"\b(?:previously|formerly|originally|initially|(?:re)?classified from|reclassified from|upgraded from"
    r"|downgraded from)(?: (?:classified|reported|called)(?: as)?)?(?: an?)?\W{0,3}"
    r"(?:(?:likely |not |non-?)?(?:pathogenic|benign|deleterious)(?!ity)|vus\b|variant of (?:uncertain|unknown)"
    r" (?:clinical )?significance|uncertain significance)")


# a pathogenic class hedged ("possibly pathogenic variant detected", "probably deleterious",
# "pathogenic (suspected)", "likely deleterious": the same hedges as _UNSETTLED's): the finding may
# be stated plainly, its class is not (condition-ver-status unconfirmed / provisional). Read as
# pathogenic, a PARP inhibitor was offered on it; no class now (CR C.2 step 1: P/LP stated only).
# "suspected deleterious" is the labels' class itself (CR B.6 / B.7), read before this
_HEDGED_CLASS = re.compile(_HEDGED_CLASS_WORDS)


# what the service says of a hedged class it does not read (_HEDGED_CLASS: "suspected pathogenic",
# "likely deleterious", "possibly pathogenic"): the report gave a class, only not one the sources
# act on. "suspected pathogenic" is no ACMG class (CR C.2 step 1: pathogenic / likely pathogenic)
# and not the labels' words ("deleterious or suspected deleterious gBRCAm", CR B.6 olaparib, B.7
# talazoparib); the sources do not settle it, so it is named, not guessed (DESIGN.md)
_HEDGED_CLASS_SAID = ("a class the reference does not act on (pathogenic or likely pathogenic, reference "
                      "C.2 step 1; the PARP inhibitor labels' 'deleterious or suspected deleterious', B.6 / B.7)")


@lru_cache(maxsize=4096)
def _hedged_class_written(text: str) -> str | None:
    """The hedged class `text` gives ("suspected pathogenic", "likely deleterious"), lower case,
    or None; "suspected deleterious" (the labels' class, _LABEL_CLASS) is none."""
    text = _label_class_unhedged(text.lower())
    m = _HEDGED_CLASS.search(text)
    if m is None:
        return None
    # the words as hedged: "likely pathogenic?" was shown as 'pathogenic', a class the reference
    # acts on, with the hedge that kept it unread cut off
    start = m.start()
    if likely := re.search(r"\blikely\s+$", text[:start]):
        start = likely.start()
    words = re.sub(r"\s*[(\[]\s*\?$", "?", text[start:m.end()].strip()).strip(" ([")
    # the hedge in brackets closes them ("deleterious (suspected": its bracket was left open)
    return words + ")" * (words.count("(") - words.count(")")) + "]" * (words.count("[") - words.count("]"))


def _hedged_class_note(text: str) -> str:
    """', classed '<words>': <why not read>' when `text` gives a hedged class, else ''."""
    words = _hedged_class_written(text)
    return f": the report classes it '{words}', {_HEDGED_CLASS_SAID}" if words else ""


@lru_cache(maxsize=4096)
def _significance_text(text: str) -> str | None:
    text = _FORMER_CLASS.sub(" ", text)
    for rx, v in _SIG_TEXT:
        if rx.search(text):
            if v in ("pathogenic", "likely-pathogenic") and _HEDGED_CLASS.search(
                    _label_class_unhedged(text)):
                return None
            return v
    return None


def _origin(cc: Any) -> str | None:
    for system, code, _ in codings_m(cc):
        o = T.answer_lookup(T.ORIGIN_ANSWERS, system, code)
        if o:
            return o
    t = cc_text_m(cc) if isinstance(cc, dict) else text_of(cc)
    # in the origin component itself, "Tumor" names the somatic source
    return _origin_text(t, True) if t else None


# "gBRCA" / "gBRCA1/2" / "gBRCAm" standing as a word: germline BRCA, as the Lynparza / Talzenna
# labels write "gBRCAm" (CR B.6, B.7, C.3 row 7); "sBRCA" somatic, "tBRCA" tumour BRCA (tumour
# counts as somatic only where "tumour" does: a tumour-only result is of unknown origin, C.3 row 7)
_GERMLINE_TEXT = re.compile(r"germline|hereditary|constitutional|inherited|\bgbrca[12m]?\b")
_SOMATIC_TEXT = re.compile(r"somatic|\bsbrca[12m]?\b")
_SOMATIC_OR_TUMOUR_TEXT = re.compile(r"somatic|tumou?r|\b[st]brca[12m]?\b")
# Origin decides germline-only drugs (C.3 row 7: require germline source; tumour-only is
# unknown origin), so a text counts only as a plain statement: a mention that is negated,
# hedged or advisory ("does not distinguish germline from somatic", "germline testing
# recommended", "germline status not determined") says nothing about this variant.
_ORIGIN_HEDGE = re.compile(
    r"\b(not|no|non|cannot|unable|distinguish\w*|recommend\w*|advis\w*|suggest\w*|consider\w*"
    r"|unknown|undetermined|indeterminate|possibl[ey]|may|might|suspected|if|vs"
    # ... or still to be confirmed ("germline confirmation pending", "germline testing awaited"):
    # FHIR R4 ObservationStatus registered / preliminary, no germline result yet (CR C.3 row 7)
    r"|pending|awaiting|awaited|unconfirmed)\b"
)


def origin_stated(text: str) -> str | None:
    """germline / somatic when a test's name states exactly one plainly ("BRCA1/2 germline
    sequencing"; "tumour" counts as somatic: "BRCA1/2 tumor NGS"), else None. Public: the
    draft-order reader (build._test_ordered) says which BRCA test is drafted (C.3 row 7)."""
    return _origin_text(text.lower(), True)


@lru_cache(maxsize=4096)
def _label_class_unhedged(text: str) -> str:
    """The text with the PARP labels' class "suspected deleterious" (_LABEL_CLASS: CR B.6 / B.7
    "deleterious or suspected deleterious gBRCAm") written as "deleterious", so that its
    "suspected" is read as no hedge of the class, the origin or the result."""
    return text.replace("suspected deleterious", "deleterious")


# "no other variants", "none of the other genes mutated": what the rest of the test found (_OTHERS_NEGATED)
_OTHERS_WORDS = r"(?:no|none\s+of\s+the|not\s+any)\s+(?:other|additional|further|remaining)\b"
_OTHERS_ASIDE = re.compile(rf"\b{_OTHERS_WORDS}[^|;.()]*")


def _origin_text(text: str, tumour_is_somatic: bool) -> str | None:
    """germline / somatic when the text states exactly one of them plainly, else None."""
    # "suspected deleterious" is the PARP labels' class (_LABEL_CLASS), no hedge of the origin; nor
    # is "no other variants" after the finding (its "no" made 'germline BRCA1 ... pathogenic (no
    # other variants)' of unknown origin: talazoparib withheld, the germline test asked again)
    if _ORIGIN_HEDGE.search(_OTHERS_ASIDE.sub(" ", _label_class_unhedged(text))):
        return None
    germline = _GERMLINE_TEXT.search(text) is not None
    somatic = (_SOMATIC_OR_TUMOUR_TEXT if tumour_is_somatic else _SOMATIC_TEXT).search(text) is not None
    if germline == somatic:  # neither, or both: not a statement of this variant's origin
        return None
    return "germline" if germline else "somatic"


def _collection_written(coll: dict[str, Any]) -> Any:
    """A Specimen.collection's date as written: collectedDateTime, or collectedPeriod.start when
    that is no date (FHIR R4 Specimen.collection.collected[x])."""
    written = coll.get("collectedDateTime")
    if parse_date(written) is None:
        cp = coll.get("collectedPeriod")
        written = cp.get("start") if isinstance(cp, dict) else None
    return written


def _specimen(ctx: Ctx, obs: dict[str, Any]) -> tuple[str, dt.date | None, dt.date | None, bool]:
    """(tissue | ctdna | blood | unknown, collection date, the last day of a collection date
    written without a day or None, whether the specimen's own description says it is
    archival or the primary tumour)."""
    texts = []
    described = []  # the specimen's own description: what says archival / primary tumour
    coded = None  # kind from Specimen.type codes (a specimen may carry no text at all)
    collected = collected_last = None
    spec_note = ""
    sp = obs.get("specimen")
    if isinstance(sp, dict):
        if isinstance(sp.get("display"), str):
            described.append(sp["display"])
        spec_res = ctx.resolve(sp, obs)
        if spec_res:
            described.append(cc_text_m(spec_res.get("type")))
            for s, c, _ in codings_m(spec_res.get("type")):
                coded = T.SPECIMEN_TYPE_CODES.get((s, c)) or coded
            coll = spec_res.get("collection")
            if isinstance(coll, dict):
                written = _collection_written(coll)
                collected, collected_last = parse_date(written), partial_last(parse_date(written), date_last(written))
                described.append(cc_text_m(coll.get("bodySite")))
                described.append(cc_text_m(coll.get("method")))
            spec_note = notes_text(spec_res)  # read for archival / primary only
    for c in as_list(obs.get("component")):
        if isinstance(c, dict) and "31208-2" in _code_set(c.get("code")):
            described.append(_value_text(c))
    texts.extend(described)
    texts.append(cc_text_m(obs.get("method")))
    for cat in as_list(obs.get("category")):
        texts.append(cc_text_m(cat))
    texts.append(ctx.code_text(obs))
    texts.append(notes_text(obs))
    kind = _specimen_kind(" | ".join(t for t in texts if t).lower())
    # a plasma code is more specific than "blood" text; otherwise the code fills in no text
    if coded and (coded == "ctdna" or kind == "unknown"):
        kind = coded
    archival = kind not in ("ctdna", "blood") and archival_text(
        " | ".join(t for t in described + [spec_note] if t).lower())
    return kind, collected, collected_last, archival


@lru_cache(maxsize=4096)
def archival_text(text: str) -> bool:
    """The specimen's description says it is archival tissue, or the primary tumour when it
    names no metastasis, recurrence or progression, and does not say that tissue is not used
    ("non-archival", "primary tumour not suitable": local_codes.yaml archival_specimen). Public:
    the draft-order reader (build._test_ordered) reads a drafted test's name with it."""
    text = T.ARCHIVAL_NEGATED_TEXT.sub(" ", text)
    if T.ARCHIVAL_TEXT.search(text):
        return True
    return T.PRIMARY_TISSUE_TEXT.search(text) is not None and T.NOT_PRIMARY_TEXT.search(text) is None


# Genes tested in tumour DNA to choose a targeted drug (PIK3CA/AKT1/PTEN, ESR1: CR B.15 CDx are
# tissue or plasma); a blood test of these is cell-free DNA unless it says it is germline.
# BRCA1/2 and PALB2 on blood are the germline test (CR B.15: BRACAnalysis CDx, blood).
_TUMOUR_DNA_GENES = frozenset({"ESR1", "PIK3CA", "AKT1", "PTEN"})


def _blood_kind(genes: list[str], origin: str | None) -> str:
    """The specimen kind of a result on blood: ctdna for a somatic result or a tumour gene
    without a germline origin (so a negative asks for tissue, CR C.3 row 2), else blood."""
    if origin == "germline":
        return "blood"
    if origin == "somatic" or any(g in _TUMOUR_DNA_GENES for g in genes):
        return "ctdna"
    return "blood"


# "in Blood or Tissue" (e.g. the LOINC display of legacy 38530-2 "BRCA2 gene mutations found")
# names the specimens the test accepts, not the one that was used
_EITHER_SPECIMEN = re.compile(r"\b(blood|tissue) or (blood|tissue)\b")


@lru_cache(maxsize=4096)
def _specimen_kind(text: str) -> str:
    if "or" in text:
        text = _EITHER_SPECIMEN.sub(" ", text)
    if T.CTDNA_TEXT.search(text):
        return "ctdna"
    if T.TISSUE_TEXT.search(text):
        return "tissue"
    if T.BLOOD_TEXT.search(text):
        return "blood"
    return "unknown"


# "BRCA" with no 1 or 2 ("Germline BRCA testing: negative"): the labels' gBRCAm test covers
# BRCA1 and BRCA2 (CR B.15, BRACAnalysis CDx), but a test named "BRCA" may as well be one of a
# few founder variants, whose negative is no negative for the genes: not read as either gene
_BRCA_UNNAMED = re.compile(r"(?<![a-z0-9])(?:[gst](?=brca))?brcam?(?![a-z0-9]|\s*[12])")


def _dated(date: dt.date | None) -> str:
    """' (2024-03-01)' after what a message names, or '' when the result is undated."""
    return f" ({date.isoformat()})" if date else ""


@lru_cache(maxsize=4096)
def _brca_unnamed(text: str) -> bool:
    """The text speaks of BRCA without naming BRCA1 or BRCA2 (nor any other gene read here)."""
    return _BRCA_UNNAMED.search(text) is not None and not genes_named(text)


def _ignore_brca_unnamed(ctx: Ctx, res: dict[str, Any], code: Any) -> None:
    when = obs_date(res)
    ctx.ignore(res, "indeterminate-genomic-result",
               f"'{cc_as_written(code) or 'BRCA'}'{_dated(when)} names BRCA, not BRCA1 or BRCA2: it may be a "
               "test of both genes or of a few founder variants only, so it is not read as a BRCA1/2 result; "
               "the full report says which genes were tested")


# a panel component's own keys: its code (the gene) and its result (R4 Observation.component:
# code, value[x], dataAbsentReason, interpretation, referenceRange)
_COMPONENT_KEYS = frozenset({"component", "interpretation", "dataAbsentReason", "referenceRange", "hasMember"})
# a numeric component ("PIK3CA variant allele fraction 12 %") is a measure, not a call
_CALL_VALUES = ("valueCodeableConcept", "valueString", "valueBoolean")


def _component_genes(code: Any) -> list[str]:
    """The genes a panel component's code names: an HGNC id (CR A.2 HGNC systems), or the
    symbol in its text, displays or local code; "HER2" alone is the receptor (IHC), not ERBB2."""
    genes: list[str] = []
    words: list[str] = []
    for system, c, display in codings_m(code):
        if c and (system in T.HGNC_SYSTEMS or "genenames" in system.lower() or c.upper().startswith("HGNC:")):
            g = T.GENE_BY_HGNC.get((c.split(":", 1)[1] if ":" in c else c).strip())
            if g and g not in genes:
                genes.append(g)
        elif c and not is_loinc(system):
            words.append(c)
        if display:
            words.append(display)
    if isinstance(code, dict) and isinstance(code.get("text"), str):
        words.append(code["text"])
    for g in genes_named(" | ".join(words)):
        if g in T.GENES and g not in genes:
            genes.append(g)
    return genes


def _panel_results(ctx: Ctx, candidates: list[dict[str, Any]],
                   panel_genes: dict[int, tuple[list[str], dict[str, Any]]]) -> tuple[list[dict[str, Any]], set[int]]:
    """A gene panel Observation ("Breast cancer panel") with one component per gene, each
    coded by the gene (HGNC id or name) and holding that gene's result ("Detected p.H1047R",
    "Not detected"): one result per component, the panel's status, date, specimen, method,
    category with the component's value and interpretation (FHIR R4
    Observation.component; the Genomics Reporting IG gives each gene its own Observation, the
    panel shape is an EHR lab's). The panel's notes speak of every gene ("ESR1 p.D538G: VUS"
    is no significance of the PIK3CA variant): they are read only for the specimen and a low
    tumour fraction. Returns the results and the ids of the panels read."""
    out: list[dict[str, Any]] = []
    panels: set[int] = set()
    for obs in candidates:
        comps = obs["component"]
        if type(comps) is not list:
            continue
        named = [(c, _component_genes(c.get("code"))) for c in comps if type(c) is dict]
        unnamed_brca = [c for c, genes in named if not genes and _brca_unnamed(cc_text_m(c.get("code")))]
        if not unnamed_brca and not any(genes for _, genes in named):
            continue
        panels.add(id(obs))
        base = {k: v for k, v in obs.items()
                if k not in _COMPONENT_KEYS and k != "note" and not k.startswith("value")}
        for c, genes in named:
            if not genes or not (any(k in c for k in _CALL_VALUES) or "interpretation" in c
                                 or "dataAbsentReason" in c):
                continue
            part = dict(base)
            part.update((k, v) for k, v in c.items() if k != "code")
            out.append(part)
            panel_genes[id(part)] = (genes, obs)
        for c in unnamed_brca:
            _ignore_brca_unnamed(ctx, obs, c.get("code"))
    ctx.derived.extend(out)
    return out, panels


# the DiagnosticReport elements a conclusion read as a result keeps (FHIR R4 DiagnosticReport:
# status, code, category, effective[x], issued, specimen 0..*; and its contained resources, a
# "#sp-1" specimen among them: not kept, the specimen was not found, its kind and collection
# date lost and the report's later date read as the result's, CR C.3 row 18)
_REPORT_KEYS = ("resourceType", "id", "status", "subject", "code", "category", "effectiveDateTime",
                "effectivePeriod", "issued", "contained")


def _collected_on(ctx: Ctx, specimen_ref: dict[str, Any], report: dict[str, Any]) -> dt.date | None:
    """The collection date of the Specimen a report points to (as _specimen reads it), or None."""
    spec_res = ctx.resolve(specimen_ref, report)
    coll = spec_res.get("collection") if isinstance(spec_res, dict) else None
    if not isinstance(coll, dict):
        return None
    return parse_date(_collection_written(coll))


def _report_conclusions(ctx: Ctx) -> dict[int, tuple[dict[str, Any], list[int]]]:
    """A genomics DiagnosticReport (CR A.2: 51969-4; 81247-9), or one whose name speaks of a gene
    read here, with a conclusion (or conclusionCode) naming genes read here: the conclusion is the
    report's clinically signed summary (FHIR R4 DiagnosticReport.conclusion "summary conclusion
    (interpretation/impression)"), read as the result text of one Observation named for the
    report ("PIK3CA H1047R detected", "No ESR1 mutation detected"). Named only, a result received
    was shown as none and its test asked again. The report's own result Observations win: a gene
    one of them gives is not read from the conclusion (build_variants). Returns id(part) -> (the
    part read as an Observation, the ids of the report's result Observations). A report whose
    conclusion names no gene read here, received without any of its results, is named, not read,
    so the testing cards do not ask for the test with no word of it."""
    parts: dict[int, tuple[dict[str, Any], list[int]]] = {}
    for dr in ctx.of("DiagnosticReport"):
        conclusion = bounded(dr["conclusion"]) if isinstance(dr.get("conclusion"), str) else ""
        written = "; ".join(t.strip() for t in [conclusion] + [cc_as_written(cc) for cc in as_list(dr.get("conclusionCode"))
                                                             if isinstance(cc, dict)] if t and t.strip())
        if not written:
            continue
        code_text = cc_text_m(dr.get("code"))
        # a genomics report by its code, or by its category (GE Genetics: "FoundationOne CDx report")
        genomic = bool({c for s, c, _ in codings_m(dr.get("code")) if c and is_loinc(s)} & T.GENOMIC_REPORT_CODES) \
            or any((s, c) in T.GENOMIC_REPORT_CATEGORIES for cat in as_list(dr.get("category")) for s, c, _ in codings_m(cat))
        if not (genomic or _names_gene_test(code_text) or _brca_unnamed(code_text)):
            continue
        results = [r for r in (ctx.resolve(ref, dr) for ref in as_list(dr.get("result"))) if r]
        said = written.lower() + " | " + code_text
        # a cancelled report (R4 DiagnosticReportStatus: "unavailable because the measurement was
        # not started or not completed") gives no result, whatever its conclusion says
        cancelled = isinstance(dr.get("status"), str) and dr["status"].strip().lower() == "cancelled"
        if _read_genes(said) and not cancelled:
            part = {k: dr[k] for k in _REPORT_KEYS if k in dr}
            if part.get("status") == "partial":
                # R4 DiagnosticReportStatus "partial": an initial, interim or preliminary report
                part["status"] = "preliminary"
            specimens = [sp for sp in as_list(dr.get("specimen")) if isinstance(sp, dict)]
            if len(specimens) == 1:
                part["specimen"] = specimens[0]
            elif specimens:
                # several specimens (plasma and tissue): which gave a gene's result the report does
                # not say, so no kind is read; dated by the first collected, as an ESR1 result is
                # current only if its specimen followed the progression (CR C.3 row 18): dated by
                # the report, samples all drawn before the progression read current
                first = min(filter(None, (_collected_on(ctx, sp, dr) for sp in specimens)), default=None)
                if first is not None:
                    part.pop("effectivePeriod", None)
                    part["effectiveDateTime"] = first.isoformat()
            part["valueString"] = written
            parts[id(part)] = (part, [id(r) for r in results])
            ctx.derived.append(part)  # kept for the call: the memos key on id()
            continue
        if results:
            continue  # its results are read on their own
        genes = [g for g in _gene_symbols_named(said) if g in T.GENES]
        about = "/".join(genes) or ("BRCA" if _brca_unnamed(said) else "")
        if not (genomic or about):
            continue
        ctx.ignore(dr, "indeterminate-genomic-result",
                   f"a genomic report{f' on {about}' if about else ''}{_dated(obs_date(dr))} was received with a "
                   "conclusion but none of its result Observations: not read; its conclusion is in the report itself")
    return parts


# A test named for a method, not a gene ("Tumour NGS", "NGS panel", "Genomic profiling",
# "Next-generation sequencing"): its name says nothing of which genes were tested, nor of
# the variant's origin or the specimen in a way the cards may rely on (CR C.3 row 7: a tumour
# test's BRCA is of unknown origin, not the germline test; row 2: ESR1 on the current
# specimen), so gene results written in its value are not read here
_GENERIC_GENOMIC_TEST = re.compile(r"\bngs\b|sequenc|next[- ]gen|genomic|molecular profil|gene panel|\bctdna\b"
                                   # ... "Tumour mutation panel", "Hotspot panel": a gene's result in
                                   # its value was skipped without a word
                                   r"|\bmutation (?:panel|profil|screen)|\bhotspot")
_generic_genomic_test = memo_search(_GENERIC_GENOMIC_TEST)


def _ignore_generic_gene_results(ctx: Ctx, obs: dict[str, Any]) -> None:
    """A code-less (no LOINC coding) Observation named only for its method whose value text
    names a gene read here ("Tumour NGS": "sBRCA1 pathogenic variant detected"): not read as
    a result, but named with its words, so the testing cards do not ask again with no word of
    a result received."""
    if any(c and is_loinc(s) for s, c, _ in ctx.code_of(obs)):
        return
    name = ctx.code_text(obs)
    if not _generic_genomic_test(name):
        return
    written = _written_value_text(obs)
    if not written:
        return
    genes = _read_genes(written)
    says = "names no gene tested"
    if not genes:
        # ... or a name giving the gene beside the method but no test word ("ctDNA ESR1",
        # "ctDNA: ESR1 not detected"): no gene test named (_GENE_NAMED_TEST), and the name may
        # itself hold a result its value contradicts or repeats: named, not read (the same rows)
        genes = _read_genes(name)
        says = "names the gene beside a method, not as a test read here"
    if not genes:
        return
    ctx.ignore(obs, "indeterminate-genomic-result",
               f"{'/'.join(genes)} result{_dated(obs_date(obs))} not read: "
               f"'{cc_as_written(obs.get('code')) or name}' {says}, "
               f"its value reads '{written[:120]}'")


# LOINC codes of a genomic report or of the gene studied (CR A.2: 51969-4, 81247-9 are
# DiagnosticReport.code; 48018-6 the gene-studied component), not of a variant result (69548-6):
# an Observation coded so that names a gene read here ("81247-9" with a gene component and
# "Present") was skipped without a word while its test was asked again. Which result it holds is
# not ours to guess from a report's code: named, not read
_REPORT_OR_GENE_CODES = T.GENOMIC_REPORT_CODES | {T.COMP["gene"]}


def _ignore_report_coded_observations(ctx: Ctx, skip: set[int]) -> None:
    for obs in ctx.observations_with(_REPORT_OR_GENE_CODES):
        if id(obs) in skip:
            continue
        loinc = [(c, d) for s, c, d in ctx.code_of(obs) if c and is_loinc(s)]
        if not loinc or any(c in GENOMIC_CODES for c, _ in loinc):
            continue
        named = [_gene_from_cc(c.get("valueCodeableConcept")) for c in as_list(obs.get("component"))
                 if isinstance(c, dict) and T.COMP["gene"] in _code_set(c.get("code"))]
        named.append(_gene_from_cc(obs.get("valueCodeableConcept")))
        genes = list(dict.fromkeys(g for g in named if g in T.GENES and g != "ERBB2"))
        if not genes:
            continue
        code, display = next(((c, d) for c, d in loinc if c in _REPORT_OR_GENE_CODES), loinc[0])
        ctx.ignore(obs, "indeterminate-genomic-result",
                   f"{'/'.join(genes)} result{_dated(obs_date(obs))} not read: the Observation is coded LOINC "
                   f"{code}{f' ({display})' if display else ''}, a genomic report or gene-studied code, "
                   "not a variant result (69548-6)")


# A PTEN protein test ("PTEN IHC": "Loss of PTEN expression"): capivasertib's label needs
# "PIK3CA/AKT1/PTEN-alterations as detected by an FDA-approved test" (CR B.5), whose
# companion diagnostic is tissue DNA sequencing (FoundationOne CDx, B.15); the reference does
# not say whether PTEN loss by immunohistochemistry counts (C.2 step 3 "PTEN loss-of-function").
# So it is not read as a PTEN result, but named with its words: without it the cards said
# "PTEN not tested" beside a PTEN result received. PTEN only: the one gene read here whose
# protein loss is reported as a result of its own (ESR1 protein is the ER receptor, A.1).
_PTEN_PROTEIN_NAME = re.compile(r"(?<![a-z0-9])pten(?![a-z0-9])")
# the protein word must be PTEN's: in the same clause of the name ("PTEN loss (IHC)"), not
# another marker's beside it ("Tumour NGS (PTEN); ER/PR IHC", "Genomic profiling incl. PTEN,
# ER IHC": a DNA result, named as a method-named test by _ignore_generic_gene_results)
_NAME_CLAUSE_SPLIT = re.compile(r"[;,|]")


def _ignore_pten_protein_test(ctx: Ctx, obs: dict[str, Any]) -> bool:
    """True, and `obs` named as not read, when it is a PTEN protein (IHC) test with a value."""
    name = ctx.code_text(obs)
    # most genomic results name no PTEN: the substring test spares them the clause split
    if "pten" not in name:
        return False
    if not any(_PTEN_PROTEIN_NAME.search(c) and _PROTEIN_TEST.search(c) for c in _NAME_CLAUSE_SPLIT.split(name)):
        return False
    written = _written_value_text(obs)
    if not written:
        return False
    ctx.ignore(obs, "indeterminate-genomic-result",
               f"PTEN result{_dated(obs_date(obs))} not read: '{cc_as_written(obs.get('code')) or name}' is a "
               f"protein (immunohistochemistry) test, its value reads '{written[:120]}'; capivasertib needs a "
               "PTEN alteration detected by an FDA-approved test (tissue DNA, FoundationOne CDx; reference B.5, "
               "B.15), and the reference does not say whether PTEN loss by IHC counts")
    return True


def _read_genes(text: str) -> list[str]:
    """The genes read here (not ERBB2: HER2 is read as a receptor) that `text` names."""
    return [g for g in _gene_symbols_named(text) if g in T.GENES and g != "ERBB2"]


def build_variants(ctx: Ctx) -> list[VariantResult]:
    """Every variant result; a result whose Observation is not final (status preliminary,
    registered or unknown, or a significance read from a DiagnosticImplication that is not final) has
    status_not_final set (build puts it in Biomarkers.not_final)."""
    results: list[VariantResult] = []
    implications: dict[str, str] = {}  # variant observation id -> significance
    # variant observation id -> the not-final status of the implication that gave its significance
    implications_not_final: dict[str, str] = {}
    # gene, date, specimen, origin, source, archival without a collection date, not-final status
    studied: list[tuple[str, dt.date | None, str, str | None, Source, bool, str | None]] = []

    # pass 1: DiagnosticImplication-style observations pointing at variants
    for obs in ctx.obs_groups()[3]:  # the Observations with derivedFrom
        try:
            derived = as_list(obs.get("derivedFrom"))
            sig = None
            if "53037-8" in _code_set(obs.get("code")):
                sig = _significance(obs.get("valueCodeableConcept") or obs.get("valueString"))
            for c in as_list(obs.get("component")):
                if isinstance(c, dict) and T.COMP["significance"] in _code_set(c.get("code")):
                    sig = _significance(c.get("valueCodeableConcept") or c.get("valueString")) or sig
            if sig:
                not_final = not_final_status(obs)
                for d in derived:
                    rid = ref_id(d, "Observation")
                    if rid:
                        implications[rid] = sig
                        if not_final:
                            implications_not_final[rid] = not_final
        except Exception:  # noqa: BLE001
            continue

    coded = ctx.observations_with(GENOMIC_CODES)
    coded_ids = {id(o) for o in coded}
    by_text = [o for o in ctx.obs_groups()[0]  # without valueQuantity
               if id(o) not in coded_ids and _names_gene_test(ctx.code_text(o))]
    # a multi-gene panel with one component per gene (the component's code names the gene or
    # gives its HGNC id, its value the gene's result): each component is read as its own result
    skip = coded_ids | {id(o) for o in by_text}
    # id of a component read as a result -> (the genes its code names, its panel)
    panel_genes: dict[int, tuple[list[str], dict[str, Any]]] = {}
    per_gene, panels = _panel_results(ctx, [o for o in ctx.obs_groups()[2] if id(o) not in skip], panel_genes)
    skip |= panels
    brca_unnamed = set()
    for obs in ctx.obs_groups()[0]:
        if id(obs) not in skip and _brca_unnamed(ctx.code_text(obs)):
            _ignore_brca_unnamed(ctx, obs, obs.get("code"))
            brca_unnamed.add(id(obs))
    conclusions = _report_conclusions(ctx)
    _ignore_report_coded_observations(ctx, skip)
    # id of an Observation (or panel) read below -> the genes it gives: a report's conclusion is
    # not read for a gene one of the report's own results gives
    genes_given: dict[int, set[str]] = {}
    genes_given_on: dict[dt.date, set[str]] = {}  # ... and on each date
    for obs in ctx.obs_groups()[0]:
        # one resource named once: a 'BRCA NGS' is named above for its unnumbered BRCA
        if id(obs) not in skip and id(obs) not in brca_unnamed and not _ignore_pten_protein_test(ctx, obs):
            _ignore_generic_gene_results(ctx, obs)
    for obs in coded + by_text + per_gene + [part for part, _ in conclusions.values()]:
        try:
            codes = {c for s, c, _ in ctx.code_of(obs) if c and is_loinc(s)}
            is_variant = bool(codes & T.VARIANT_CODES)
            is_region = bool(codes & T.REGION_STUDIED_CODES)
            legacy = next((T.LEGACY_GENE_CODES[c] for c in codes if c in T.LEGACY_GENE_CODES), None)
            named = id(obs) not in coded_ids
            in_panel, panel = panel_genes.get(id(obs), (None, obs))  # a panel component: its genes
            named_genes: list[str] = []
            if in_panel:
                named_genes = in_panel
            elif id(obs) in conclusions:
                named_genes = _read_genes(bounded(obs["valueString"]) + " | " + ctx.code_text(obs))
            elif named:
                named_genes = [g for g in genes_named(ctx.code_text(obs)) if g != "HER2"]
            if not (is_variant or is_region or legacy or named_genes):
                continue
            date = obs_date(obs)
            specimen, collected, collected_last, archival = _specimen(ctx, panel)
            # archival or primary-tumour tissue with no collection date: the date below is not
            # when the tissue was taken (CR C.3 row 18)
            archival_undated = archival and collected is None
            if collected is not None:
                date, last = collected, collected_last
            else:
                last = partial_last(date, obs_date(obs, date_last)) if date is not None and date.day == 1 else None
            comps = [c for c in as_list(obs.get("component")) if isinstance(c, dict)]
            genes: list[str] = []
            protein = dna = None
            origin = None
            sig = None
            alteration = None  # a copy-number change or fusion, coded (48019-4)
            variation_text = ""
            sig_written = ""  # a clinical-significance component's words ("Suspected deleterious")
            for c in comps:
                ccodes = _code_set(c.get("code"))
                if T.COMP["gene"] in ccodes:
                    g = _gene_from_cc(c.get("valueCodeableConcept"))
                    if g is None and isinstance(c.get("valueString"), str):
                        g = _symbol(c["valueString"])
                    if g and g not in genes:
                        genes.append(g)
                elif T.COMP["protein_change"] in ccodes:
                    protein = _hgvs(c) or protein
                elif T.COMP["dna_change"] in ccodes:
                    dna = _hgvs(c) or dna
                elif T.COMP["variation_code"] in ccodes:
                    # displays as written first, so a p. change keeps its case
                    vt = " | ".join([d for _, _, d in codings_m(c.get("valueCodeableConcept")) if d]
                                    + [_value_text(c)])
                    variation_text += " | " + vt
                    m = _PROTEIN_RE.search(vt) if protein is None else None
                    if m:
                        protein = m.group(0)
                elif T.COMP["dna_change_type"] in ccodes:
                    alteration = _change_type_kind(c.get("valueCodeableConcept")) or alteration
                elif T.COMP["origin"] in ccodes:
                    origin = _origin(c.get("valueCodeableConcept") or c.get("valueString"))
                elif T.COMP["significance"] in ccodes:
                    sig = _significance(c.get("valueCodeableConcept") or c.get("valueString"))
                    sig_written = _value_text(c)
            gene_from_component = bool(genes) or bool(in_panel)
            if named_genes and not genes:
                genes = named_genes
            if legacy and not genes:
                genes = [legacy[0]]
                if legacy[1] and origin is None:
                    origin = "germline"
            if not genes and is_variant:
                # no gene component: the code, value or a variation code's display
                # ("NM_006218.4(PIK3CA):c.3140A>G (p.His1047Arg)", ClinVar) names it
                g = _symbol(ctx.code_text(obs) + " " + _value_text(obs) + variation_text)
                if g:
                    genes = [g]
            genes = [g for g in genes if g in T.GENES]
            if not genes:
                continue
            # a text with results for several genes ("Not detected: ESR1, PIK3CA. Detected: AKT1
            # E17K") is read gene by gene: one call for the whole text gave every gene the first
            # call it found (AKT1 not detected)
            words = _value_words(obs)
            by_gene = _calls_by_gene(words) if words else None
            if by_gene is not None and not gene_from_component:
                # the Observation names no gene of its own (a local test's name, a variant
                # without a gene component): the genes its result text gives a result for
                genes += [g for g in by_gene.calls if g in T.GENES and g != "ERBB2" and g not in genes]
            if id(obs) in conclusions:
                # results win: the genes the report's own result Observations give are theirs, and
                # so are those a genomic Observation of the report's date gives (its result sent
                # without DiagnosticReport.result pointing to it: read twice, an ESR1 negative
                # Observation and a conclusion naming a variant gave elacestrant)
                given = set().union(*(genes_given.get(i, ()) for i in conclusions[id(obs)][1]),
                                    genes_given_on.get(date, ()))
                for g in (g for g in genes if g in given):
                    # ... a conclusion saying otherwise is named beside the result read
                    said = by_gene.result(g) if by_gene is not None else _text_result(words) if words else None
                    read = {r.result for r in results if r.gene == g and r.date == date}
                    if said in ("detected", "not-detected") and read and said not in read:
                        ctx.ignore(obs, "indeterminate-genomic-result",
                                   f"{g}: the genomic report's conclusion{_dated(date)} says {said.replace('-', ' ')} "
                                   f"('{obs['valueString'][:120]}'), its result Observation says "
                                   f"{' / '.join(sorted(read)).replace('-', ' ')}: the Observation is read")
                genes = [g for g in genes if g not in given]
                if not genes:
                    continue
            elif not (is_region and not is_variant):
                # (a region-studied Observation gives no result of its own, only the genes looked
                # at: negative where no variant is reported that day, and a conclusion's variant is
                # one. Counted as the result, the conclusion's ESR1 D538G was dropped unsaid and
                # ESR1 read negative, elacestrant withheld: CR A.2, C.2 step 3)
                genes_given.setdefault(id(obs), set()).update(genes)
                genes_given.setdefault(id(panel), set()).update(genes)
                if date is not None:
                    genes_given_on.setdefault(date, set()).update(genes)
            if by_gene is not None and len(genes) == 1 and set(by_gene.calls) <= {genes[0], "ERBB2"}:
                by_gene = None  # the text speaks of this gene alone: read as a whole, as before
            coded_origin = origin  # a genomic-source-class component's (or a legacy code's)
            if origin is None:
                # also for a region-studied panel: a germline panel's negatives are germline
                origin = _origin_from_obs(obs, ctx.code_text(obs))
            # a text stating a germline result and a somatic or tumour one, each in its own clauses;
            # also under a test name saying germline ("Germline BRCA1/2 test": "Germline: negative.
            # Somatic: BRCA2 ..."): each clause says whose its result is, the name only what was asked
            by_origin = _calls_by_origin(_written_value_only(obs)) if coded_origin is None and words else None
            if origin is None and by_origin is None and (value_text := _value_text(obs)):
                # the result's own words, when they state the origin plainly ("Germline BRCA2
                # pathogenic variant c.5946delT detected"); a hedge ("germline status unknown",
                # "germline testing recommended") states none (CR C.3 row 7: germline source)
                # ("germline BRCA1/2 not detected": its "not" is the result, set aside as in
                # _calls_by_origin, not a hedge of the origin)
                origin = _origin_text(_result_not_set_aside(value_text.lower()), False)
            if specimen == "blood":
                specimen = _blood_kind(genes, origin)
            if ctx.ignore_data_absent(obs, obs, _variant_label(genes, is_region), date):
                continue  # no call: not a variant, not a negative, and its notes are not read
            src = ctx.source(obs, date, _variant_label(genes, is_region), specimen, last)
            not_final = not_final_status(obs)
            if is_region and not is_variant:
                for g in genes:
                    studied.append((g, date, specimen, origin, src, archival_undated, not_final))
                continue
            if by_origin:
                # "gBRCA negative, somatic BRCA2 detected": a germline and a somatic result in one
                # text, each read with its own origin, so the germline test is not asked again
                # and the somatic variant selects no PARP inhibitor (CR C.3 row 7, B.6 / B.7)
                for o, calls in by_origin:
                    for g in genes:
                        g_result = calls.result(g)
                        if g_result is None:
                            continue
                        g_protein, g_dna, g_sig = (calls.change(g, calls.raw, None, None, None)
                                                   if g_result == "detected" else (None, None, None))
                        values = {"gene": g, "result": g_result, "protein_change": g_protein, "dna_change": g_dna,
                                  "origin": o, "significance": g_sig or "not-reported",
                                  "significance_conflicting": False, "significance_label_class": None, "specimen": specimen, "date": date,
                                  "sources": [src], "superseded_on": None, "date_last": last, "alteration": None,
                                  "archival_without_collection_date": archival_undated,
                                  "status_not_final": not_final}
                        results.append(_construct(VariantResult, values) if _valid_variant(values)
                                       else VariantResult(**values))
                continue
            rid = obs.get("id") if isinstance(obs.get("id"), str) else None
            if sig is None and rid in implications:
                sig = implications[rid]
                # the classification that decides is not final: neither is the result
                not_final = not_final or implications_not_final.get(rid)
            result = _result(obs, protein, dna, is_variant)
            if by_gene is None and words and (conflict := _gene_result_conflict(words)):
                # "ESR1 p.D538G detected, ESR1 not detected": the text found the gene's variant
                # and found it negative; named unclear with its words, not read (CR C.2 step 3)
                ctx.ignore(obs, "indeterminate-genomic-result",
                           f"{'/'.join(genes)} result{_dated(date)} unclear: the report says "
                           + _CONFLICT_SAID[conflict].format(gene='/'.join(genes), it="it")
                           + f" ('{_written_value_text(obs)[:120]}')")
                continue
            if by_gene is not None:
                gene_results = {g: by_gene.result(g) for g in genes}
                for g in genes:
                    own = " | ".join(by_gene.clauses.get(g, []))
                    conflict = _gene_result_conflict(own) if own else None
                    if conflict and (gene_results[g] is not None or conflict == "hedged"):
                        # one gene found (or possibly found) and negative in one text; the other
                        # genes read as before
                        gene_results[g] = None
                        written_own = "; ".join(c.strip() for c in _gene_clauses(_written_value_text(obs))
                                                if g in _gene_symbols_named(c))
                        ctx.ignore(obs, "indeterminate-genomic-result",
                                   f"{g} result{_dated(date)} unclear: the report says "
                                   + _CONFLICT_SAID[conflict].format(gene=g, it=g) + f" ('{written_own[:120]}')")
                        continue
                    if gene_results[g] is None:
                        if note := _hedged_class_note(own):
                            # "germline BRCA2 c.5946delT, suspected pathogenic": named with its class,
                            # not as a gene the report gave no result for
                            written_own = "; ".join(c.strip() for c in _gene_clauses(_written_value_text(obs))
                                                    if g in _gene_symbols_named(c))
                            ctx.ignore(obs, "indeterminate-genomic-result",
                                       f"{g} result{_dated(date)} unclear{note} ('{written_own[:120]}')")
                            continue
                        ctx.ignore(obs, "indeterminate-genomic-result",
                                   f"{g} result{_dated(date)} unclear: " + _why_no_gene_result(by_gene, g, own))
                found = [r for r in gene_results.values() if r]
                result = "detected" if "detected" in found else found[0] if found else None
                if result is None:
                    continue
            if result == "detected" and sig is None:
                sig = _interpretation_significance(obs)
            # what the components and the implication say, before the whole text is read: a
            # text with several genes gives each its own change and significance
            coded_change = (protein, dna, sig)
            if result == "detected" and (sig is None or protein is None and dna is None):
                vt = _value_text(obs) + " | " + notes_text(obs)
                sig = sig or _significance(vt) if not _NOT_DETECTED.search(vt) else sig
                written = _written_value_text(obs) if protein is None or dna is None else ""
                if protein is None:
                    protein = _changes_written(_PROTEIN_RE, written)
                if dna is None:
                    dna = _changes_written(_DNA_RE, written)
            if result is None:
                if unsaid := _systemless_unsaid(obs):
                    ctx.ignore(obs, "indeterminate-genomic-result",
                               f"{'/'.join(genes)} result{_dated(date)} unclear: {unsaid}")
                elif not named or in_panel:
                    note = _hedged_class_note(words) if words else ""
                    ctx.ignore(obs, "indeterminate-genomic-result",
                               (f"{'/'.join(genes)} result{_dated(date)} unclear{note} ('{_written_value_text(obs)[:120]}')"
                                if note else f"{'/'.join(genes)} result is indeterminate or unreadable")
                               + (f" (a component of '{cc_as_written(obs.get('code'))}')" if in_panel else ""))
                elif written := _written_value_text(obs) or _interpretation_words(obs) or _answer_codes_written(obs):
                    # a local test named for its gene ("ESR1 ctDNA test") whose words give no call
                    # ("Pending", "Insufficient sample", "See report"): no result, and said so with
                    # the test's name and its words, not dropped unseen while the test is asked again
                    ctx.ignore(obs, "indeterminate-genomic-result",
                               f"{'/'.join(genes)} result{_dated(date)} unclear: "
                               f"'{cc_as_written(obs.get('code')) or ctx.code_text(obs)}' reads '{written[:120]}'"
                               + _hedged_class_note(written).replace(": the report", "; the report", 1))
                elif _no_result_given(obs):
                    # a local test named for its gene with nothing in it (FHIR R4 Observation:
                    # no value[x], component or interpretation): often the order filed as an
                    # Observation. Named, not read as a result, so the test asked for again is
                    # seen beside it, not beside nothing
                    ctx.ignore(obs, "indeterminate-genomic-result",
                               f"{'/'.join(genes)} test{_dated(date)} with no result: "
                               f"'{cc_as_written(obs.get('code')) or ctx.code_text(obs)}' gives no value, component "
                               "or interpretation (it may be the order, not its result)")
                continue
            if by_gene is None and _contradicted(result, interpreted := _interpretation_call(obs), sig):
                # the value and Observation.interpretation disagree (Present with a NEG / Absent
                # interpretation, or the reverse): which one is meant is not ours to guess; so too
                # an interpretation code with no system whose words say otherwise ("ND" "Not done":
                # named so, not as "not detected")
                said = (f"the interpretation: {_systemless_unsaid(obs)}" if interpreted is _SYSTEMLESS_UNSAID
                        else f"the interpretation says {interpreted.replace('-', ' ')}")  # type: ignore[union-attr]
                ctx.ignore(obs, "indeterminate-genomic-result",
                           f"{'/'.join(genes)} result{_dated(date)} unclear: the value says {result.replace('-', ' ')}, "
                           + said)
                continue
            if alteration is None and protein is None and dna is None:
                # the result's own words, not the test's name: a panel named "mutations,
                # CNAs, fusions" says nothing of what this result is
                alteration = _alteration_text(" | ".join((_value_text(obs), variation_text)).lower())
            if result == "detected" and gene_from_component and len(genes) > 1 and alteration != "fusion":
                # one variant with several gene components (Genomics Reporting gene-studied is
                # 0..*, for fusions and the like): a sequence change sits in one gene, and it
                # was given to every gene (an AKT1 E17K made ESR1 and PIK3CA "detected" too).
                # The gene its HGVS or variation code names, else unclear.
                in_change = [g for g in _gene_symbols_named(" ".join((protein or "", dna or "", variation_text)))
                             if g in genes]
                if len(in_change) != 1:
                    ctx.ignore(obs, "indeterminate-genomic-result",
                               f"{'/'.join(genes)} variant{_dated(date)} unclear: one variant names {len(genes)} genes "
                               "and does not say which carries it")
                    continue
                genes = in_change
            if alteration is not None and result == "not-detected":
                # a copy-number or fusion test that found none says nothing of the gene's
                # mutations: no negative for the gene (its not-tested gap stays)
                ctx.ignore(obs, "not-a-mutation-result",
                           f"{'/'.join(genes)} {alteration.replace('-', ' ')} not detected: "
                           "not a test for mutations of the gene")
                continue
            # a negative the report says cannot exclude a mutation is no negative: the gene
            # stays untested and its test is asked for again (CR C.2 step 3, C.3 row 2)
            uninformative = _uninformative_negative(words + " | " + notes_text(panel))
            not_read: list[str] = []
            for g in genes:
                g_result, g_protein, g_dna, g_sig = result, protein, dna, sig
                if by_gene is not None:
                    g_result = gene_results[g]
                    if g_result is None:
                        continue
                    if g_result == "detected":
                        # the change and significance written beside this gene, not another's
                        g_protein, g_dna, g_sig = by_gene.change(g, _written_value_text(obs), *coded_change)
                    else:
                        # a negative has no class: "no additional pathogenic variants" gave the ESR1
                        # negative beside a PIK3CA finding the text's "pathogenic"
                        g_sig = None
                label_class = None
                if g_result == "detected" and g_sig == "pathogenic":
                    own = " | ".join(by_gene.clauses.get(g, [])) if by_gene is not None else words
                    # ... or in the significance component ("Suspected deleterious": named
                    # "pathogenic", not as the labels' class it is, CR B.6 / B.7)
                    m = _LABEL_CLASS.search(f"{own or words} | {sig_written}".lower())
                    label_class = m.group(1) if m else None
                if g_result == "not-detected" and uninformative:
                    not_read.append(g)
                    continue
                g_date, g_last = date, last
                if g_result in ("detected", "not-detected") and words:
                    own = " | ".join(by_gene.clauses.get(g, [])) if by_gene is not None else words
                    # a negative dated in its words ("ESR1 not detected (tissue, 2019)") is as old:
                    # read on the report's date, it stood as the current ESR1 result, no re-test
                    # asked at a later progression (CR C.3 row 18); only its written date is read
                    g_date, g_last, said = _finding_dated(own, date, last, negative=g_result == "not-detected")
                    if said:
                        # a data gap: the date the finding is read with is not the report's
                        what = "finding" if g_result == "detected" else "negative result"
                        ctx.gap(f"{g.lower()}-finding-date-in-words",
                                f"{g} {what} in a report of {date}: {said} ('{_written_value_text(obs)[:120]}')",
                                [src])
                values = {
                    "gene": g,
                    "result": g_result,
                    "protein_change": g_protein if g_result == "detected" else None,
                    "dna_change": g_dna if g_result == "detected" else None,
                    "origin": origin or "unknown",
                    "significance": "vus" if g_sig == _CONFLICTING else g_sig or "not-reported",
                    "significance_conflicting": g_sig == _CONFLICTING,
                    "significance_label_class": label_class,
                    "specimen": specimen,
                    "date": g_date,
                    "sources": [src],
                    "superseded_on": None,
                    "date_last": g_last,
                    "alteration": alteration,
                    "archival_without_collection_date": archival_undated,
                    "status_not_final": not_final,
                }
                results.append(_construct(VariantResult, values) if _valid_variant(values)
                               else VariantResult(**values))
            if result == "detected" and sig is None and (note := _hedged_class_note(sig_written)):
                # a significance component hedged ("Suspected pathogenic"): the variant is read with
                # no class (the germline card asks the laboratory for one), and the class it gave named
                ctx.ignore(obs, "indeterminate-genomic-result",
                           f"{'/'.join(genes)} variant{_dated(date)} classification not read{note}")
            if not_read:
                ctx.ignore(obs, "indeterminate-genomic-result",
                           f"{'/'.join(not_read)} not detected{_dated(date)}, but the report says the result is not "
                           "informative (low tumour fraction): not read as a negative")
        except Exception:  # noqa: BLE001
            ctx.ignore(obs, "unreadable-resource", "Genomic Observation could not be read")

    # genes studied with nothing reported on that day: a negative result
    for g, date, specimen, origin, src, archival_undated, not_final in studied:
        if any(r.gene == g and r.date == date for r in results):
            continue
        values = {"gene": g, "result": "not-detected", "protein_change": None, "dna_change": None,
                  "origin": origin or "unknown", "significance": "not-reported",
                  "significance_conflicting": False, "significance_label_class": None, "specimen": specimen,
                  "date": date, "sources": [src], "superseded_on": None, "date_last": src.date_last,
                  "alteration": None, "archival_without_collection_date": archival_undated,
                  "status_not_final": not_final}
        given = {"gene", "result", "specimen", "date", "sources"} | ({"origin"} if origin else set()) \
            | ({"date_last"} if src.date_last else set()) \
            | ({"archival_without_collection_date"} if archival_undated else set()) \
            | ({"status_not_final"} if not_final else set())
        if _valid_variant(values):
            results.append(_construct(VariantResult, values, given))
        else:
            results.append(VariantResult(**{k: values[k] for k in given}))
    results.sort(key=lambda r: (r.gene, r.date or dt.date.min))
    return results


# a year written beside a finding ("ESR1 D538G detected (tissue, 2019)", "PIK3CA H1047R (2021-03)",
# "detected in 03/2021", "(ctDNA, March 2024)", "ESR1 mutation 2024-03"): the finding's own date,
# when earlier than the report's (CR C.3 row 18: an ESR1 result is current only if collected after
# the latest progression; read as of the report's date, an old finding asked no re-test).
# Only a date standing as one: in brackets, after a comma or after "in / on / from / dated / since",
# and closing its piece; not a count such as "2000 reads". A date that names its month ("2024-03",
# "03/2024", "March 2024", "12/03/2024") is no count: it may also follow a bare space.
_MONTH_NAME = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
               r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_YEAR = r"(?:19|20)\d\d"
# day and month in either order ("12/03/2024": 12 March or December 3, as the sender's locale
# writes it), a month by name ("March 2024", "12 Mar 2024", "Mar-2024", "March 12, 2024"), or
# month / year and year-first forms ("03/2024", "2024", "2024-03", "2024/03", "2024-03-12")
_DATE_FORMS = (rf"(?P<a>\d{{1,2}})[/.](?P<b>\d{{1,2}})[/.](?P<y3>{_YEAR})"
               rf"|(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+)?(?P<mn>{_MONTH_NAME})[\s-]+"
               rf"(?:(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+)?(?P<y2>{_YEAR})"
               rf"|(?:(?P<m1>0?[1-9]|1[0-2])[/.])?(?P<y>{_YEAR})(?:(?P<sep>[-/.])(?P<m2>0[1-9]|1[0-2])(?:(?P=sep)(?P<d3>\d\d))?)?")
_DATE_WITH_MONTH = (rf"\d{{1,2}}[/.]\d{{1,2}}[/.]{_YEAR}"
                    rf"|(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH_NAME}[\s-]+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?{_YEAR}"
                    rf"|(?:0?[1-9]|1[0-2])[/.]{_YEAR}|{_YEAR}[-/.](?:0[1-9]|1[0-2])(?:[-/.]\d\d)?")
# a date closing its piece, or followed by the finding's allele fraction ("ESR1 Y537S 05/2024 VAF
# 3%": between the variant and its fraction, the date is the finding's)
_DATE_CLOSES_PIECE = (r"(?=\s*(?:[),;|]|\.(?:\s|$)|$)|\s+(?:vaf|maf|af|(?:variant |mutant )?allele (?:fraction|frequency)"
                      r"|variant frequency)\b)")
_DATED_SPECIMEN_OR_TEST = ("ctdna", "cfdna", "plasma", "blood", "tissue", "biopsy", "sample", "specimen",
                           "test", "assay", "panel", "ngs", "report", "collected", "drawn")
# the words a finding's date may follow after a bare space: its gene, its variant ("D538G",
# "c.1613A>G", "p.L536fs"), a word of its result, or the specimen or test, also as the bracket
# closing it ("ESR1 Y537S detected (ctDNA) 2024-03-12"); or its allele fraction ("ESR1 D538G, AF
# 0.5% 2024-05": a % read as one by _after_a_percent_not_allele_fraction) (each a fixed-width
# lookbehind; gx12)
_AFTER_FINDING_WORDS = "(?:" + "|".join(
    [rf"(?<=\b{w} )" for w in (*sorted(T.GENES), *_DATED_SPECIMEN_OR_TEST, "detected", "mutation", "mutations",
                                "mutated", "variant", "alteration", "positive", "identified", "found", "present")]
    + [rf"(?<=\b{w}\) )" for w in _DATED_SPECIMEN_OR_TEST]
    + [r"(?<=\d[a-z] )", r"(?<=>[a-z] )", r"(?<=\dfs )"]
    # the % as _ALLELE_FRACTION_BEFORE writes it: after a space, in its bracket ("VAF 3 % 2024-05",
    # "(AF 0.5%) 2024-05"; rt73)
    + [r"(?<=\d% )", r"(?<=\d % )", r"(?<=\d%\) )", r"(?<=\d %\) )"]) + ")"
# the allele fraction a date after a % must close ("AF 0.5%", "VAF: 3 %", "allele frequency 12%",
# "(AF 0.5%)", a decimal comma "AF 0,5%"): not a tumour fraction or a coverage, which date nothing
_ALLELE_FRACTION_BEFORE = re.compile(r"\b(?:vaf|maf|af|(?:variant |mutant )?allele (?:fraction|frequency)|variant "
                                     r"frequency)\s*[:=]?\s*\d+(?:[.,]\d+)?\s*%\)? $", re.I)


def _after_a_percent_not_allele_fraction(text: str, start: int) -> bool:
    """Whether the date at text[start:] follows a % (or its closing bracket) that closes no
    allele fraction."""
    return (text.endswith(("% ", "%) "), 0, start)
            and _ALLELE_FRACTION_BEFORE.search(text, max(0, start - 60), start) is None)
_WRITTEN_DATE = re.compile(r"(?:(?<=\()|(?<=, )|(?<=\bin )|(?<=\bon )|(?<=\bfrom )|(?<=\bdated )|(?<=\bsince )"
                           # ... or closing a bracket after the specimen or test it dates ("(ctDNA 2023-11)"),
                           # not after any word: "(COSMIC 2019)" is a database's release (FHIR R4
                           # Specimen.collection.collected: the date is the specimen's)
                           r"|(?:" + "|".join(rf"(?<=\b{w} )" for w in _DATED_SPECIMEN_OR_TEST) + r")"
                           rf"(?=(?:{_DATE_WITH_MONTH}|{_YEAR})\s*\))"
                           # ... or a date naming its month after a bare space, right after the finding's
                           # own words ("ESR1 mutation 2024-03", "ESR1 D538G detected 03/2024") or the
                           # specimen or test it dates, not after another thing a report dates ("Assay
                           # validated 03/2021", "ClinVar 2024-03", "reviewed 2024-03")
                           # (the date looked for first: cheaper than the words before it)
                           rf"|(?<= )(?=(?:{_DATE_WITH_MONTH}){_DATE_CLOSES_PIECE}){_AFTER_FINDING_WORDS})"
                           rf"(?:{_DATE_FORMS}){_DATE_CLOSES_PIECE}", re.IGNORECASE)
# a finding re-stated as the patient's past ("History of ESR1 mutation", "known ESR1 mutation",
# "previously detected"): a result of an earlier test, its date not written
# (words telling the finding itself as past, not "not seen on the prior test" beside a new one)
_PAST_FINDING_TOLD = re.compile(r"\b(?:(?:past |medical )?history of|hx of|known(?! to\b| (?:pathogenic|hotspot|activating|oncogenic|resistance|actionable|driver)\b)|historical|previously (?:known|"
                                r"detected|identified|found|reported|documented))\b")
# ... unless they say this test found it again ("Known ESR1 mutation, re-confirmed today", "still
# detected"): then the report's date is the finding's (CR C.3 row 18: a result after the progression)
_FOUND_AGAIN = re.compile(r"\b(?:re-?confirmed|confirmed (?:today|again|now|on (?:this|the current))|still (?:detected|"
                          r"present|seen)|persist(?:s|ent|ing)?|(?:detected|found|seen) again|again (?:detected|found)"
                          r"|re-?detected)\b")


# a date with a two-digit year ("3/12/24", "03.12.24", "3-12-24"): its century, and its day and
# month order, unsaid (ISO 8601 writes the year in full). Where _WRITTEN_DATE reads a date (in
# brackets, after a comma or "in / on / from / dated / since", or right after the finding's words)
# and closing its piece: not "exons 5/7/10" nor a ratio
_TWO_DIGIT_YEAR_DATE = re.compile(r"(?:(?<=\()|(?<=, )|(?<=\bin )|(?<=\bon )|(?<=\bfrom )|(?<=\bdated )|(?<=\bsince )"
                                  rf"|{_AFTER_FINDING_WORDS})"
                                  r"(?P<date>\d{1,2}(?P<sep>[/.-])\d{1,2}(?P=sep)\d\d)" + _DATE_CLOSES_PIECE, re.I)
# the thing a year written after it dates is a reference, not the specimen: a reference genome
# ("(ref GRCh37, 2009)": GRCh37's release) or a variant database ("(ClinVar, 2019)")
# ("reference" alone is no genome: "(ctDNA, reference lab, 2019)" dates the specimen the lab ran)
_REFERENCE_DATED = re.compile(r"\b(?:ref(?:erence)? (?:genome|assembly|build)|grch\d\d|hg\d\d|genome build|build \d\d|cosmic|clinvar"
                              r"|dbsnp|gnomad|oncokb|civic)\b[^(),;|]*,?\s*$", re.I)


def _dates_a_reference(text: str, start: int) -> bool:
    """Whether the date at text[start:] is the year of a reference genome or database it follows
    in its piece ("(ref GRCh37, 2009)"), or right before the bracket the year opens ("hg19 (2009)",
    "ClinVar (2019)": hg19's release, not the specimen's date)."""
    cut = max(text.rfind("(", 0, start), text.rfind(",", 0, start - 2), 0)
    end = start
    if not text[cut:start].strip(" (,"):  # the year opens its bracket: the words before it
        end = cut
        cut = max(text.rfind("(", 0, end), text.rfind(",", 0, end - 2), 0)
    return bool(_REFERENCE_DATED.search(text, cut, end))


@lru_cache(maxsize=4096)
def _finding_dated_by_text(text: str) -> tuple[tuple[dt.date, dt.date | None], ...] | str | None:
    """The dates the finding's words write, each (first day, last day; None when the words give the
    day): "2019" 2019-01-01 to 2019-12-31, "March 2024" 2024-03-01 to 2024-03-31, "12/03/2024"
    (day and month in either order) 2024-03-12 to 2024-12-03; "past" when they tell it as a past
    finding with no date; "two-digit year: <date>" for a date so written ("3/12/24": its century
    and day / month order unsaid); None when they say nothing of its date. A year right after a
    reference genome or database it dates ("(ref GRCh37, 2009)") is not the finding's."""
    for short in _TWO_DIGIT_YEAR_DATE.finditer(text):
        if not _after_a_percent_not_allele_fraction(text, short.start()):
            return f"two-digit year: {short['date']}"
    dates = {_written_date_span(m) for m in _WRITTEN_DATE.finditer(text)
             if not _dates_a_reference(text, m.start()) and not _after_a_percent_not_allele_fraction(text, m.start())}
    if dates:
        return tuple(sorted(dates, key=lambda span: (span[0], span[1] or span[0])))
    if _PAST_FINDING_TOLD.search(text.lower()) and not _FOUND_AGAIN.search(text.lower()):
        return "past"
    return None


def _written_date_span(m: re.Match[str]) -> tuple[dt.date, dt.date | None]:
    """(first day, last day: None when the words give the day) of a date _WRITTEN_DATE found."""
    if m["y3"]:
        a, b, year = int(m["a"]), int(m["b"]), int(m["y3"])
        days = {d for month, day in ((a, b), (b, a)) if (d := _a_day(year, month, day))}
        # no such day either way ("31/31/2024"): the year it names
        first, last = (min(days), max(days)) if days else (dt.date(year, 1, 1), dt.date(year, 12, 31))
        return first, (last if last != first else None)
    if m["y2"]:
        year, month = int(m["y2"]), MONTH_NUMBERS[m["mn"][:3].lower()]
        if m["d1"] or m["d2"]:  # "12 March 2024", "March 12, 2024"
            day = _a_day(year, month, int(m["d1"] or m["d2"]))
            if day:  # else no such day ("31 Feb 2024"): the month it names
                return day, None
    else:
        year, month = int(m["y"]), int(m["m1"] or m["m2"] or 0)
        if m["d3"] and (day := _a_day(year, month, int(m["d3"]))):  # "2025-05-25": that day
            return day, None
    if not month:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return dt.date(year, month, 1), dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _within(inner: tuple[dt.date, dt.date | None], outer: tuple[dt.date, dt.date | None]) -> bool:
    if _either_order(outer):  # "12/03/2024" is two days, not the days between: only they agree with it
        return inner[1] is None and inner[0] in outer
    return outer[0] <= inner[0] and (inner[1] or inner[0]) <= (outer[1] or outer[0])


def _either_order(span: tuple[dt.date, dt.date | None]) -> bool:
    """A day and month written in either order ("12/03/2024": 2024-03-12 or 2024-12-03): the
    only span _written_date_span gives that is no whole year or month."""
    return span[1] is not None and date_written(*span).startswith("between ")


def _a_day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:  # no such day ("31/02/2024", month 13)
        return None


def _finding_dated(text: str, date: dt.date | None, last: dt.date | None, negative: bool = False
                   ) -> tuple[dt.date | None, dt.date | None, str]:
    """The date of a finding its own words give: a year, month or day written beside it that is
    earlier than the report's ("ESR1 D538G detected (tissue, 2019)", "(ctDNA, March 2024)" in a
    2025 report read as current at a 2025 progression: no ESR1 re-test asked, CR C.3 row 18), read
    as written (a year or month without a day: its first day, shown as the year or month); none
    for a past finding re-stated with no date ("History of ESR1 mutation", "known ESR1 mutation":
    when it was found is unknown, so it cannot be shown to follow a progression), nor when the
    words write several earlier dates (which is the finding's is not said). (date, date_last,
    what is named; '' when the report's date stands). A negative (`negative`) is dated by a date
    written beside it only: "past" words there tell of something else ("no ESR1 mutation; history
    of ...")."""
    if negative:
        text = _own_clauses_of_a_negative(text)
    told = None if _a_finding_stated_undated_beside_a_dated_one(text) else _finding_dated_by_text(text)
    if told is None or date is None or (negative and told == "past"):
        return date, last, ""
    if told == "past":
        return None, None, ("told as a past finding with no date of its own: when it was found is unknown, "
                            "read as undated, not as of the report's date")
    if isinstance(told, str):  # "two-digit year: 3/12/24": which day of which century is not said
        written = told.removeprefix("two-digit year: ")
        return None, None, (f"its words write the date '{written}' with a two-digit year (its century and its day "
                            "and month order not stated): read as undated, not as of the report's date")
    # the words' date reaches the report's: the report's date stands; a day and month in either
    # order only when its earlier reading does too ("10/04/2025" in a June 2025 report: 10 April
    # may be the finding's, October 4 cannot; not read the hopeful way, CR C.3 row 18)
    if any((first if _either_order((first, end)) else end or first) >= date for first, end in told):
        return date, last, ""
    # dates that agree ("12 March 2024 ... March 2024"): the narrowest
    told = tuple(t for t in told if not any(o != t and _within(o, t) for o in told))
    if len(told) > 1:
        written = ", ".join(date_written(first, end) for first, end in told)
        return None, None, (f"its words write several dates ({written}) and do not say which is the finding's: "
                            "read as undated, not as of the report's date")
    (first, end), = told
    written = date_written(first, end)
    if _either_order((first, end)):
        return first, end, (f"its words date it {written} (day and month order not stated): read as of that span, "
                            "not of the report's date")
    return first, end, f"its words date it {written}: read as of {written}, not of the report's date"


# words of a clause telling of an earlier test ("compared with prior (tissue, 2019)")
_EARLIER_TEST = re.compile(r"\b(?:prior|previous(?:ly)?|earlier)\b")


def _own_clauses_of_a_negative(text: str) -> str:
    """The words that may date a negative: not a clause stating a finding or telling of an earlier
    test ("No ESR1 mutation detected. Previously ESR1 Y537S detected (ctDNA, 2023)", "ESR1 not
    detected; compared with prior (tissue, 2019)"): its date is that finding's or test's, not the
    negative's (CR C.3 row 18: a result is dated by its own specimen)."""
    clauses = _CLAUSE_SPLIT.split(text)
    # (a clause stating the negative is its own: "ESR1 not detected on prior tissue (2019)")
    own = [c for c in clauses if (said := _text_result(c.lower())) == "not-detected"
           or not (said == "detected" or _EARLIER_TEST.search(c.lower()) or _PAST_FINDING_TOLD.search(c.lower()))]
    return text if len(own) == len(clauses) else " | ".join(own)


def _a_finding_stated_undated_beside_a_dated_one(text: str) -> bool:
    """Several clauses state a finding of the gene and one of them with no date or past of its own
    ("History of ESR1 mutation; ESR1 D538G detected on current ctDNA", "ESR1 D538G detected. Known
    ESR1 Y537S previously reported"): that one is this report's finding, of the report's date (read
    as undated, an ESR1 re-test was asked of a result taken after the progression, CR C.3 row 18)."""
    findings = [c for c in _CLAUSE_SPLIT.split(text) if _text_result(c.lower()) == "detected"]
    told = [_finding_dated_by_text(c) for c in findings]
    return None in told and any(t is not None for t in told)


def _why_no_gene_result(by_gene: _GeneCalls, gene: str, own: str) -> str:
    """Why a text giving results for some genes gives none for `gene`: its variant classed a VUS
    ("BRCA1 VUS": no finding the reference acts on, CR C.2 step 1: VUS ignored, yet no negative
    either), the gene not named at all ("BRCA1 VUS" under a BRCA1/2 test says nothing of BRCA2),
    or what it says of the gene is not clear."""
    named = "/".join(sorted(by_gene.calls))
    if own and _significance_text(own.lower()) == "vus" and not _NOT_DETECTED.search(own.lower()):
        return (f"the report classes its {gene} variant a VUS (uncertain significance), a class the reference "
                f"does not act on (reference C.2 step 1), and gives no negative for {gene}")
    if gene not in by_gene.calls:
        return f"the report gives results for {named} only and none for {gene}"
    return f"the report gives results for {named} and none that is clear for {gene}"


def _literals(field: str) -> frozenset[str]:
    return frozenset(get_args(VariantResult.model_fields[field].annotation))


_VARIANT_LITERALS = {f: _literals(f) for f in ("gene", "result", "origin", "significance", "specimen")}
# the alteration literals and None
_ALTERATIONS = frozenset(get_args(get_args(VariantResult.model_fields["alteration"].annotation)[0])) | {None}


_LABEL_CLASSES = frozenset(("deleterious", "suspected deleterious"))


def _valid_variant(v: dict[str, Any]) -> bool:
    """The values are what VariantResult validation would keep as they are (then the
    model is built without it); otherwise the validated constructor decides."""
    for f, allowed in _VARIANT_LITERALS.items():
        x = v[f]
        if type(x) is not str or x not in allowed:
            return False
    p, d, date, last = v["protein_change"], v["dna_change"], v["date"], v["date_last"]
    return (v["alteration"] in _ALTERATIONS and (p is None or type(p) is str) and (d is None or type(d) is str)
            and (date is None or type(date) is dt.date) and (last is None or type(last) is dt.date)
            and type(v["archival_without_collection_date"]) is bool
            and (v["significance_label_class"] is None or v["significance_label_class"] in _LABEL_CLASSES)
            and (v["status_not_final"] is None or v["status_not_final"] in NOT_FINAL_STATUSES)
            and all(type(s) is Source for s in v["sources"]))


def _hgvs(c: dict[str, Any]) -> str | None:
    vcc = c.get("valueCodeableConcept")
    if isinstance(vcc, dict):
        for _, code, display in codings_m(vcc):
            if code:
                return code
            if display:
                return display
        if isinstance(vcc.get("text"), str):
            return bounded(vcc["text"])
    if isinstance(c.get("valueString"), str):
        return bounded(c["valueString"])
    return None


def _origin_from_obs(obs: dict[str, Any], code_text: str = "") -> str | None:
    texts = [cc_text_m(obs.get("method")), code_text]
    for cat in as_list(obs.get("category")):
        texts.append(cc_text_m(cat))
    t = " | ".join(x for x in texts if x)
    return _origin_text(t, False) if t else None


# a coded answer (value or interpretation) as a variant call
_ANSWER_CALL = {"present": "detected", "positive": "detected", "absent": "not-detected", "negative": "not-detected"}


def _coded_call(system: str, code: str | None) -> str | None:
    """detected / not-detected for a coded result answer (codes.yaml result_answers, or a
    presence / positivity answer), else None."""
    return T.answer_lookup(T.RESULT_ANSWERS, system, code) or _ANSWER_CALL.get(T.answer_lookup(T.ANSWERS, system, code))


# a coded answer written with no system whose words say otherwise, or with its system and words
# that contradict it: no call (_coded_call_of)
_SYSTEMLESS_UNSAID = "systemless-unsaid"
# words saying the test was not done (a cancelled or not performed test: no result, whatever its code),
# or gave none ("Quantity not sufficient", "No result": FHIR R4 data-absent-reason not-performed /
# error; rt73)
_NOT_DONE = re.compile(r"\bnot (?:done|performed|run|tested|sufficient)\b|\bcancel+ed\b|\bno results?\b")


def _coded_call_of(cc: Any, system: str, code: str, display: str) -> str | None:
    """_coded_call for one coding of cc. A code written with no system has no defined meaning
    (FHIR R4 Coding.system: "the identification of the code system that defines the meaning of
    the symbol"): a lab's own "ND" may be Not done, not HL7's Not detected. It is read only when
    its display and cc's text, those written (the code itself repeated says nothing), each say
    the same; else _SYSTEMLESS_UNSAID (unclear: 'ND' "Not done" read 'ESR1 not detected', the
    oral SERDs refused and no ESR1 test asked, CR C.2 step 3). No words at all: read as before.
    A code with its system (HL7 v3-ObservationInterpretation "ND") whose words contradict it
    (_words_contradict: "Not done", or the other call) is unclear too (gx12): FHIR R4
    Coding.display represents the code's meaning in its system, and words that say otherwise
    leave which one is meant unsaid ("ND" displayed "Not detected", or with no display: read)."""
    call = _coded_call(system, code)
    if call:
        text = cc.get("text") if isinstance(cc, dict) else None
        for words in (display, text):
            if isinstance(words, str) and words.strip() and words.strip().lower() != code.lower() and (
                    _text_result(words.lower()) != call if not system else _words_contradict(words.lower(), call)):
                return _SYSTEMLESS_UNSAID
    return call


def _words_contradict(words: str, call: str) -> bool:
    """The words of a code with its system say the test was not done, or give another call
    (indeterminate, or the opposite); words that decide nothing ("Abnormal") do not."""
    said = _text_result(words)
    return _NOT_DONE.search(words) is not None or (said is not _NO_CALL and said != call)


def _systemless_unsaid(obs: dict[str, Any]) -> str | None:
    """Why the result is unclear when a coded answer (value or interpretation) is written with
    no system and its words say otherwise, or with its system and words that contradict it
    (_coded_call_of), else None."""
    for cc in (obs.get("valueCodeableConcept"), *as_list(obs.get("interpretation"))):
        for system, code, display in codings_m(cc):
            if _coded_call_of(cc, system, code, display) is _SYSTEMLESS_UNSAID:
                if not system:
                    return systemless_answer_message(cc, code, display)
                text = cc.get("text") if isinstance(cc.get("text"), str) else ""
                said = " / ".join(w for w in dict.fromkeys((display.strip(), text.strip())) if w)
                return (f"its answer code '{code}' ({system}) and its words '{said[:120]}' disagree: which is "
                        "meant is not said (FHIR R4 Coding.display)")
    return None


def _result(obs: dict[str, Any], protein: str | None, dna: str | None, is_variant: bool) -> str | None:
    vcc = obs.get("valueCodeableConcept")
    for system, code, display in codings_m(vcc):
        r = _coded_call_of(vcc, system, code, display)
        if r is _SYSTEMLESS_UNSAID:
            return None
        if r:
            return r
    text = " | ".join(t for t in (cc_text_m(vcc), text_of(obs.get("valueString"))) if t)
    if isinstance(obs.get("valueBoolean"), bool):
        return "detected" if obs["valueBoolean"] else "not-detected"
    if text:
        r = _text_result(text)
        if r is not _NO_CALL:
            return r
    for cc in as_list(obs.get("interpretation")):
        # read like the value: coded POS/NEG/DET/ND, or a text that says detected / not
        # detected; "Normal" or "Abnormal" says nothing about a variant being found
        for system, code, display in codings_m(cc):
            r = _ANSWER_CALL.get(T.answer_lookup(T.ANSWERS, system, code))
            if r and _coded_call_of(cc, system, code, display) is _SYSTEMLESS_UNSAID:
                return None
            if r:
                return r
        t = cc_text_m(cc)
        if t:
            r = _text_result(t)
            if r is not _NO_CALL:
                return r
    if protein or dna:
        return "detected"
    if is_variant and vcc is None and not text:
        # a variant Observation with components but no value: a reported variant
        return "detected" if any(
            isinstance(c, dict) for c in as_list(obs.get("component"))
        ) and (protein or dna) else None
    return None


def _change_type_kind(cc: Any) -> str | None:
    """A 48019-4 DNA change type answer that names a copy-number change or a fusion."""
    for _, code, _ in codings_m(cc):
        kind = T.CHANGE_TYPE_KINDS.get(code.strip()) if code else None
        if kind:
            return kind
    return None


@lru_cache(maxsize=4096)
def _alteration_text(text: str) -> str | None:
    """The kind of copy-number change or fusion the report's words name, unless negated
    right before ("no amplification"); None for anything else (a mutation)."""
    for rx, kind in T.ALTERATION_TEXT:
        for m in rx.finditer(text):
            if not T.ALTERATION_NEGATED_BEFORE.search(text, 0, m.start()):
                return kind
    return None


def _variant_label(genes: list[str], region: bool) -> str:
    return f"{'/'.join(genes)} {'region studied' if region else 'variant'}"


_NO_CALL = "no-call"  # the text says nothing: go on with interpretation and components
# below the assay's limit of detection (LOD) / reporting limit: "below (the) LOD", "< LOD", "sub-LOD"
# (not the limit of quantification: below it the change is detected, only its fraction not measured,
# CLSI EP17 (LoQ >= LoD); "D538G detected, below the limit of quantification" is a finding)
_BELOW_LOD = re.compile(r"\b(?:below|under|beneath)\s+(?:the\s+)?(?:assay'?s?\s+)?(?:limit\s+of\s+(?:detection"
                        r"|blank)|detection\s+limit|lod|reporting\s+(?:limit|threshold))\b"
                        r"|<\s*(?:the\s+)?lod\b|\bsub-?lod\b")

# ... but not the assay's note that what falls below it is not reported ("results below the LOD are
# not reported"): no word on this finding (read unclear, elacestrant was withheld beside "ESR1 D538G detected")
_NOT_REPORTED_AFTER = re.compile(r"\s*(?:are|is|were|will\s+be)?\s*not\s+(?:reported|called|shown|listed|included)\b")


@lru_cache(maxsize=4096)
def _text_result(text: str) -> str | None:
    """_result's reading of the value text: None (indeterminate), detected / not-detected,
    or _NO_CALL when the text decides nothing."""
    text = _RECEPTOR_STATUS.sub(" ", _spelled_out(_label_class_unhedged(text)))
    if _INDETERMINATE.search(text) or _QUESTIONED.search(text) or _RELATIVES_RESULT.search(text.strip()):
        return None
    if _UNSETTLED.search(text) and not _STATED_FOUND.search(text):
        return None
    if _PTEN_PROTEIN_NAME.search(text) and _PROTEIN_TEST.search(text) and not (
            _PROTEIN_RE.search(text) or _DNA_RE.search(text)):
        # PTEN loss by a protein test ("PTEN loss detected by IHC", a genomic report's conclusion):
        # read as an alteration, capivasertib was offered; its label needs one detected by an
        # FDA-approved (DNA) test and the reference does not say whether IHC loss counts (CR B.5,
        # B.15; _ignore_pten_protein_test for a test named so): no call
        return None
    if (_NOT_DETECTED.search(text) or _REFUTED.search(text)) and not _a_change_found_beside_changes_absent(text) \
            and not _found_in_one_specimen_negative_in_another(text):
        return "not-detected"
    if (others := _OTHERS_NEGATED.search(text)) and not text[:others.start()].strip(" |;:,.("):
        # "No other mutations detected", "None of the other genes mutated" with no finding before it:
        # other than what is unsaid; read as a finding ("mutated", "detected"), elacestrant was
        # offered on an ESR1 test saying nothing of ESR1: no call (CR C.2 step 3)
        return None
    if any(not _NOT_REPORTED_AFTER.match(text, m.end()) for m in _BELOW_LOD.finditer(text)):
        # a finding below the assay's limit of detection ("D538G detected at 0.1% (below limit of
        # detection)"): read as detected, elacestrant was offered on a call the assay cannot make;
        # neither a finding nor a clear negative: no call (the test asked, CR C.2 step 3)
        return None
    if _DETECTED.search(text) or _PROTEIN_RE.search(text) or _DNA_RE.search(text):
        return "detected"
    if _OWN_SHORT_CHANGE.search(text):
        # a change written in the short hotspot form alone ("E545K (VAF 2%)", "AKT1 E17K"), as a
        # bare "p.E545K" already was: the variant found (named unclear, its test asked again)
        return "detected"
    if _PATHOGENIC_STATED.search(text) and _significance_text(text) in ("pathogenic", "likely-pathogenic"):
        return "detected"
    return _NO_CALL


def _no_result_given(obs: dict[str, Any]) -> bool:
    """The Observation gives no value[x], no component, no interpretation and groups no
    results (hasMember: a panel whose members carry them, each read on its own; FHIR R4)."""
    return not (any(k.startswith("value") and obs[k] not in (None, "", {}, []) for k in obs)
                or as_list(obs.get("component")) or as_list(obs.get("interpretation"))
                or as_list(obs.get("hasMember")))


def _value_words(obs: dict[str, Any]) -> str:
    """The words of the value (valueCodeableConcept text and displays, valueString), lower
    case, when the value has no coded answer (a coded answer decides alone, _result)."""
    vcc = obs.get("valueCodeableConcept")
    for system, code, _ in codings_m(vcc):
        if _coded_call(system, code):
            return ""
    if isinstance(obs.get("valueBoolean"), bool):
        return ""
    return " | ".join(t for t in (cc_text_m(vcc), text_of(obs.get("valueString"))) if t)


_uninformative_negative = memo_search(_UNINFORMATIVE_NEGATIVE)

# clauses of a result text: ";", "|", a line break, or a full stop that ends a sentence (not the
# one of "p.H1047R", "c.3140A>G" or "0.2 %")
_CLAUSE_SPLIT = re.compile(r"[|;\n]|\.(?=\s|$)")
# when two clauses of a gene disagree: a variant found in one clause was found (a gene may carry
# several variants and be negative for others); a failed clause leaves a negative incomplete
_CALL_RANK = {"detected": 3, None: 2, "not-detected": 1, _NO_CALL: 0}


def _per_gene_pieces(clause: str) -> list[str]:
    """A clause listing one result per gene, comma-separated ("Germline: BRCA1 negative, BRCA2
    c.5946delT pathogenic", "BRCA1 c.68_69delAG pathogenic, BRCA2 c.5946delT VUS"): its pieces, each
    read for its own gene; read whole, the first call found (negative) or significance (VUS) was
    given to every gene, and a germline BRCA2 pathogenic variant was lost. Split only when every
    piece names exactly one gene with its result written after it and nothing decided before it,
    so a negation or a heading over a list ("No pathogenic variants in BRCA1, BRCA2 detected",
    "Not detected: PIK3CA p.E545K, ESR1 p.D538G") keeps the whole clause."""
    if "," not in clause:
        return [clause]
    pieces = clause.split(",")
    unclear_tail = _negative_list_ending_in_a_class(pieces)
    if unclear_tail:
        return pieces[:-1] + [unclear_tail]
    if _negative_then_a_change_found(pieces):
        return pieces
    for piece in pieces:
        genes = _SYMBOL_RE.search(piece)
        if genes is None or len(_gene_symbols_named(piece)) != 1:
            return [clause]
        after = piece[genes.end():].lower()
        before = piece[:genes.start()].lower()
        result = _text_result(after)
        # a piece hedged on its own ("PIK3CA p.H1047R detected, ESR1 pathogenic?") is that gene's
        # no call: read whole, the other gene's finding (and its p. change) was given to it, and
        # elacestrant offered on a hedged ESR1 result
        # a piece giving its gene's class alone ("germline: BRCA1 pathogenic, BRCA2 VUS") is that
        # gene's own: read whole, the VUS was given to BRCA1 too and its pathogenic variant lost
        # (CR C.2 step 1: each variant's own classification, P/LP only)
        own_class = result is _NO_CALL and _significance_text(after.strip()) is not None
        if _text_result(before) is not _NO_CALL or (
                result in (_NO_CALL, None) and not _hedged_piece(after) and not own_class):
            return [clause]
    return pieces


def _negative_then_a_change_found(pieces: list[str]) -> bool:
    """"Negative for PIK3CA, ESR1 D538G detected", "Negative for PIK3CA, positive for ESR1 p.D538G":
    one gene each, each piece a clear call of its own, and a later piece stating its own change
    found. Read whole as a list headed by its negation, ESR1 was not detected and elacestrant
    withheld on a D538G (CR C.2 step 3); a list the negation heads names no change found in its
    items ("No pathogenic variants in BRCA1, BRCA2 detected", "Not detected: PIK3CA p.E545K, ESR1
    p.D538G"), so it is still read whole."""
    lowered = [p.lower() for p in pieces]
    return (all(len(_gene_symbols_named(p)) == 1 for p in pieces)
            and all(_text_result(p) in ("detected", "not-detected") for p in lowered)
            and _text_result(lowered[0]) == "not-detected"
            and any(_text_result(p) == "detected" and _STATED_FOUND.search(p) and _names_change(p)
                    for p in lowered[1:]))


# a gene list's last piece ending in a class with no noun after it ("BRCA2 pathogenic"; not
# "BRCA2 pathogenic variants", the noun of the list's negative)
_CLASS_ENDS_PIECE = re.compile(r"^\W*(?:likely )?(?:pathogenic|deleterious)\W*$")


def _negative_list_ending_in_a_class(pieces: list[str]) -> str | None:
    """"Germline: negative for BRCA1, BRCA2 pathogenic": a negative opening a gene list whose last
    gene is stated pathogenic. It may be BRCA1 negative and BRCA2 pathogenic, or "negative for
    BRCA1, BRCA2 pathogenic [variants]" cut short; read whole, BRCA2 was read negative (the germline
    test done, the PARP inhibitor withheld without a word). The sources do not settle which
    (CR C.2 step 1 reads a stated classification; C.3 row 7 a germline result): the last gene
    alone, with no result, so the service names its result unclear. None for any other list."""
    first = _SYMBOL_RE.search(pieces[0])
    if first is None or len(pieces) != 2 or _text_result(pieces[0][:first.start()].lower()) != "not-detected":
        return None
    last = _SYMBOL_RE.search(pieces[-1])
    if last is None or len(_gene_symbols_named(pieces[-1])) != 1 or pieces[-1][:last.start()].strip():
        return None
    if not _CLASS_ENDS_PIECE.search(pieces[-1][last.end():].lower()):
        return None
    return last.group(0)


# a gene's own piece closed by a suspicion word ("ESR1 suspected", "ESR1 - unconfirmed"): the
# shared suspicion_words_after (FHIR R4 condition-ver-status unconfirmed)
_SUSPECTED_AFTER = re.compile(rf"\b{T.VOCABULARY['suspicion_words_after']}\b")


def _hedged_piece(after: str) -> bool:
    """What a per-gene piece says after its gene is a hedge of its own (_UNSETTLED, or a
    suspicion word after it): that gene's no call, not the list's."""
    return bool(_UNSETTLED.search(after) or _SUSPECTED_AFTER.search(after))


# a clause saying the genes a finding did not name found nothing ("None of the other genes
# mutated", "no other mutations", "no additional variants detected")
_OTHERS_NEGATED = re.compile(rf"(?:^|[|:;,.(])\s*{_OTHERS_WORDS}")


# what an aside must say to be a negative for the genes not named: that no change was found
# ("no other mutations / pathogenic variants / genes mutated"); "no other genes tested", "no further
# testing performed", "no other results available" say those genes were not tested, or nothing:
# read as ESR1 not detected, elacestrant was refused and no ESR1 test asked (CR C.2 step 3)
_OTHERS_FINDING = re.compile(r"\b(?:mutat|variant|alteration|abnormalit|pathogenic|altered)")
# an aside about the named gene only ("no other PIK3CA mutations", "no other variants in exon 20"):
# nothing of the genes not named
_OTHERS_OF_ONE_GENE = re.compile(r"^\s*(?:[a-z-]+\s+)?" + _SYMBOL_RE.pattern + r"\s+(?:mutat|variant|alteration)"
                                 r"|\bin\s+(?:exon|codon|(?:this|that|the\s+same)\s+gene\b|" + _SYMBOL_RE.pattern + ")",
                                 re.IGNORECASE)


def _others_hedged(text: str) -> bool:
    """"no other mutations suspected / identified?": the genes not named are not known negative."""
    return bool(_UNSETTLED.search(text) or _QUESTIONED.search(text) or _INDETERMINATE.search(text))


def _gene_clauses(text: str) -> list[str]:
    """The clauses of a result text (_CLAUSE_SPLIT), a per-gene list cut at its commas."""
    return [piece for clause in _CLAUSE_SPLIT.split(text) for piece in _per_gene_pieces(clause)]


class _GeneCalls:
    """What a result text says of each gene it names: the call of the clauses naming the gene,
    and the call of the clauses naming no gene ("Genes: ESR1, PIK3CA. Result: negative")."""

    def __init__(self, text: str):
        self.raw = text  # the text as written (_calls_by_origin: the clauses of one origin)
        self.calls: dict[str, str | None] = {}
        self.clauses: dict[str, list[str]] = {}
        self.others: set[str | None] = set()  # what "no other mutations" says of the genes not named
        general: set[str | None] = set()
        for clause in _gene_clauses(text):
            if not clause.strip():
                continue
            call = _text_result(clause.lower())
            if call is None and _RELATIVE_WORD.search(clause.lower()):
                # a relative's result ("Family history of BRCA2 mutation (sister)") is no result of
                # the patient's, and no doubt about one: it left her germline BRCA2 negative of the
                # clause before unclear and the germline test asked again (FHIR R4 FamilyMemberHistory)
                call = _NO_CALL
            genes = _gene_symbols_named(clause)
            lowered = clause.lower()
            others_aside = False
            if others := _OTHERS_NEGATED.search(lowered):
                # "None of the other genes mutated", "no other mutations (detected)" after a finding:
                # the genes the text does not name found nothing (unclear when hedged), never a
                # finding ("mutated" read ESR1 detected beside a PIK3CA finding: elacestrant offered
                # on a PIK3CA/ESR1 test that found only PIK3CA, CR C.2 step 3)
                aside = lowered[others.end():]
                others_call = None if _others_hedged(lowered) or not _OTHERS_FINDING.search(aside) else "not-detected"
                if _OTHERS_OF_ONE_GENE.search(aside):
                    # "no other variants in exon 20": of the named gene only, nothing of the others
                    if not genes:
                        call = _NO_CALL
                else:
                    self.others.add(others_call)
                    others_aside = True
                    first_gene = _SYMBOL_RE.search(clause)
                    if first_gene is None or others.start() < first_gene.start():
                        # ... and the genes such a clause lists ("none of the other genes (ESR1, AKT1) mutated")
                        call = others_call
            if not genes and call is not _NO_CALL and not others_aside:
                # (an aside on the genes not named is no call on the named ones: "ESR1 not covered;
                # no other mutations" read ESR1 not detected, "BRCA2 VUS; no other variants" BRCA2)
                general.add(call)
            for g in genes:
                self.clauses.setdefault(g, []).append(clause)
                old = self.calls.get(g, _NO_CALL)
                self.calls[g] = call if _CALL_RANK[call] > _CALL_RANK[old] else old
        # general clauses that disagree ("Detected: ... Not detected: ..." written over lines)
        # say nothing of a gene named in neither
        self.general = general.pop() if len(general) == 1 else _NO_CALL

    def result(self, gene: str) -> str | None:
        """detected / not-detected, or None when the text says nothing clear of the gene."""
        call = self.calls.get(gene, _NO_CALL)
        if call is _NO_CALL:
            call = self.general
        if call is _NO_CALL and gene not in self.calls and len(self.others) == 1:
            call = next(iter(self.others))  # "PIK3CA H1047R detected (no other variants)": ESR1 negative
        return None if call is _NO_CALL else call

    def change(self, gene: str, raw: str, protein: str | None, dna: str | None,
               sig: str | None) -> tuple[str | None, str | None, str | None]:
        """The p. / c. change and significance written in the gene's own clauses (`raw`, the
        value text as written, keeps the case of a p. change); a coded component's change or
        significance when the text has none for it."""
        clauses = _gene_clauses(raw)
        own = " | ".join(c for c in clauses if gene in _gene_symbols_named(c))
        if not own and self.general == "detected":
            # the gene's finding is written in clauses naming no gene ("Detected: p.E545K. Note:
            # ESR1 testing recommended", on a PIK3CA variant): its change is written there too
            own = " | ".join(c for c in clauses if not _gene_symbols_named(c))
        m = _changes_written(_PROTEIN_RE, own)
        d = _changes_written(_DNA_RE, own)
        own_sig = _significance_text(own.lower()) if own and not _NOT_DETECTED.search(own.lower()) else None
        return (m or (None if self.clauses.get(gene) else protein),
                d or (None if self.clauses.get(gene) else dna),
                sig or own_sig)


# clauses of a result text for its origins (_origin_clauses): _CLAUSE_SPLIT, and a comma only
# before words stating an origin ("gBRCA negative, somatic BRCA2 detected"), not one inside a
# gene list or a variant ("BRCA1, BRCA2 germline negative", "c.5946delT, p.Ser1982fs detected")
# a result's "not" ("not detected", "none found"): the result, no hedge of the origin beside it
_RESULT_NOT_ONLY = re.compile(r"\bnot (detected|identified|found|present|seen|observed)\b"
                              r"|\bnone (detected|identified|found|present|reported)\b")
_RESULT_NOT = re.compile(_RESULT_NOT_ONLY.pattern
                         # ... and a statement opening with "no" ("Germline BRCA1/2: no pathogenic
                         # variant detected", "No germline BRCA mutation"), as _NOT_DETECTED reads it:
                         # it was taken for a hedge of the origin, so the germline negative had no origin
                         + r"|(?:^|(?<=[|:;,.]))\s*no\b(?=[^|:;,.()]{0,40}?\b(?:variant|mutation|alteration)s?\b)")


def _result_not_set_aside(text: str) -> str:
    """`text` without a result's "not" ("germline BRCA1/2 not detected": the not is the result,
    no hedge of the origin) when it reports nothing detected. Beside a variant detected
    ("BRCA2 c.5946delT detected; germline origin not identified", "germline variant not
    detected") the "not" speaks of the origin and stays: a hedge, origin unknown (CR C.3 row 7:
    a germline source must be stated)."""
    calls = _GeneCalls(text)
    if "detected" in calls.calls.values() or calls.general == "detected":
        return text
    return _RESULT_NOT.sub(" ", text)


def _clause_origin(clause: str) -> str | None:
    """germline / somatic as a clause states it plainly; "unknown" for a tumour finding (a
    tumour test is of unknown origin, CR C.3 row 7), else None."""
    words = _result_not_set_aside(clause.lower())
    stated = _origin_text(words, False)
    if stated is None and _origin_text(words, True) == "somatic":
        return "unknown"  # "tumour NGS: BRCA2 ...": not germline, not stated somatic
    return stated


def _origin_clauses(text: str) -> list[str]:
    """The clauses of `text` (_CLAUSE_SPLIT) cut again at each comma that opens words stating an
    origin; the comma pieces before the first such words belong to them ("BRCA1, BRCA2 germline
    negative" is one germline clause, not "BRCA1" alone and origin-less)."""
    out = []
    for clause in _CLAUSE_SPLIT.split(text):
        parts: list[str] = []
        for piece in clause.split(","):
            # a piece with a result of its own before an origin ("BRCA2 c.5946delT detected, not found
            # in germline") is not that origin's: it stays its own clause (_calls_by_origin)
            if parts and (_clause_origin(piece) is None or _clause_origin(parts[-1]) is None
                          and _text_result(parts[-1].lower()) is _NO_CALL):
                parts[-1] += "," + piece
            else:
                parts.append(piece)
        out += [p for p in parts if p.strip()]
    return out


@lru_cache(maxsize=4096)
def _calls_by_origin(text: str) -> tuple[tuple[str, _GeneCalls], ...] | None:
    """A result text stating a germline result and a somatic or tumour one in their own clauses
    ("Germline: negative. Somatic: BRCA2 c.5946delT pathogenic", "BRCA2 pathogenic variant in
    tumor; germline testing negative"): (origin, what its clauses say of each gene) for each;
    None when it states one origin, or none (read as a whole). A clause naming no origin
    belongs to the one before it."""
    clauses = _origin_clauses(text)
    own: dict[str, list[str]] = {}
    before_any_origin: list[str] = []
    current = None
    for clause in clauses:
        stated = _clause_origin(clause)
        if (stated is None and current == "germline" and _text_result(clause.lower()) == "detected"
                and _germline_negative_for(own["germline"], _gene_symbols_named(clause))):
            # a finding after a germline clause that found nothing of it ("Germline negative. BRCA2
            # c.5946delT detected") is not germline: it was read as a germline variant (a PARP
            # inhibitor offered when "pathogenic"); no origin stated: unknown (CR C.3 row 7). A
            # finding of another gene than the germline negatives named continues their list
            # ("Germline BRCA1: negative; BRCA2: c.5946delT pathogenic": germline, as before)
            stated = "unknown"
        current = stated or current
        if current:
            own.setdefault(current, []).append(clause)
        else:
            before_any_origin.append(clause)
    if before_any_origin and "germline" in own and (
            _nothing_detected(own["germline"])
            or _nothing_detected(before_any_origin) and _names_a_finding(own["germline"])):
        # a finding written before any origin, beside a germline clause that found nothing ("BRCA2
        # detected, germline negative", "BRCA2 c.5946delT detected; germline BRCA1/2 negative"): the
        # finding is not germline and states no origin: unknown (CR C.3 row 7: a germline source
        # must be stated; tumour-only is unknown origin). It was lost, or read as germline. So too a
        # negative before a germline finding of a gene named ("BRCA1 not detected; germline BRCA2
        # pathogenic": the whole text was of unknown origin, the "not" a hedge, and gBRCA2 lost);
        # not a finding before one ("BRCA2 ... detected; germline BRCA2 ... confirmed": read whole)
        own = {"unknown": before_any_origin + own.get("unknown", []), **{o: c for o, c in own.items() if o != "unknown"}}
        germline = " | ".join(own["germline"]).lower()
        if not genes_named(germline) and _RESULT_NOT_ONLY.search(germline):
            # ... but a germline clause naming no gene whose negative is a "not" said beside the
            # finding ("not found in germline", "germline variant not detected", "germline origin
            # not identified") speaks of that variant's origin, not of a germline BRCA1/2 test:
            # the finding is kept, of unknown origin, and no germline result is read (the germline
            # test is still asked for, CR C.3 row 7)
            del own["germline"]
            return tuple((o, _GeneCalls(" | ".join(c))) for o, c in own.items())
    if "germline" not in own or len(own) < 2:
        return None
    return tuple((o, _GeneCalls(" | ".join(c))) for o, c in own.items())


def _nothing_detected(clauses: list[str]) -> bool:
    """The clauses report a negative and nothing detected."""
    calls = _GeneCalls(" | ".join(clauses))
    said = set(calls.calls.values()) | {calls.general}
    return "not-detected" in said and "detected" not in said


def _germline_negative_for(clauses: list[str], genes: tuple[str, ...]) -> bool:
    """The germline clauses found nothing, and their negative covers `genes` (a negative naming
    no gene, or naming one of them; a finding naming no gene is covered by any negative)."""
    if not _nothing_detected(clauses):
        return False
    calls = _GeneCalls(" | ".join(clauses))
    return (not genes or calls.general == "not-detected"
            or any(calls.calls.get(g) == "not-detected" for g in genes))


def _names_a_finding(clauses: list[str]) -> bool:
    """The clauses give a finding of a gene they name (not "germline origin confirmed", which only
    says whose the finding before it is; nor "germline: positive", naming no gene)."""
    return "detected" in _GeneCalls(" | ".join(clauses)).calls.values()


def _gene_symbols_named(text: str) -> tuple[str, ...]:
    """genes_named with "HER2" as its HGNC symbol ERBB2 (as T.GENES and results name it)."""
    return tuple("ERBB2" if g == "HER2" else g for g in genes_named(text))


@lru_cache(maxsize=4096)
def _calls_by_gene(text: str) -> _GeneCalls | None:
    """The result text read gene by gene, or None when it names no gene."""
    if not (_SYMBOL_RE.search(text) or _BRCA_BOTH.search(text)):
        return None
    return _GeneCalls(text)


def _interpretation_words(obs: dict[str, Any]) -> str:
    """Observation.interpretation's words as written (texts and displays): a local test read
    only by its interpretation ("Not done" under a lab's own system) is named with them, not
    dropped unseen while its test is asked again."""
    parts = []
    for cc in as_list(obs.get("interpretation")):
        if isinstance(cc, dict) and isinstance(cc.get("text"), str):
            parts.append(cc["text"])
        parts += [d for _, _, d in codings_m(cc)]
    return " | ".join(p for p in dict.fromkeys(parts) if p)


def _answer_codes_written(obs: dict[str, Any]) -> str:
    """The value's and interpretation's codes as written, each with its system ("ND
    (http://lab.example.org/results)"), when they carry no words: a local test whose only answer
    is a code no reader knows (a lab's own "ND", HL7 v2 table 0078 "A" Abnormal) is named with
    it, not dropped unseen while its test is asked again (FHIR R4 Coding.system, Coding.code)."""
    parts = [f"{code} ({system})" if system else code
             for cc in (obs.get("valueCodeableConcept"), *as_list(obs.get("interpretation")))
             for system, code, _ in codings_m(cc) if code]
    return " | ".join(dict.fromkeys(parts))


def _interpretation_call(obs: dict[str, Any]) -> str | None:
    """detected / not-detected as Observation.interpretation states it (v3 POS/NEG/DET/ND,
    LL1971-2 Present/Absent, or words), else None."""
    for cc in as_list(obs.get("interpretation")):
        for system, code, display in codings_m(cc):
            r = _coded_call_of(cc, system, code, display)  # _SYSTEMLESS_UNSAID: a contradiction too
            if r:
                return r
        t = cc_text_m(cc)
        r = _text_result(t) if t else _NO_CALL
        if r is not _NO_CALL and r is not None:
            return r
    return None


# a variant found and classified not pathogenic: "Negative" in the interpretation means no
# pathogenic variant (CR C.2 step 1: VUS and benign ignored), which agrees with the value
_NOT_PATHOGENIC = frozenset({"vus", "benign", "likely-benign", _CONFLICTING})


def _contradicted(result: str, interpreted: str | None, sig: str | None) -> bool:
    if interpreted is None or interpreted == result:
        return False
    return not (result == "detected" and sig in _NOT_PATHOGENIC)
