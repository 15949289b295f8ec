"""PatientState: what the service understood about one patient.

This is the contract between `mappings/` (which builds it from FHIR) and
`cards/` (which reasons on it). Every derived fact carries the resources it
came from (`sources`), so a card can say *why*. A fact that could not be
determined is explicitly "unknown" (or None), never silently defaulted.

Extend by adding fields with defaults; never rename or remove a field
without updating `cards/`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from mappings.fhir import months_between


class Source(BaseModel):
    """One FHIR resource a fact was read from."""

    reference: str  # "Observation/abc"
    date: dt.date | None = None
    display: str | None = None  # short human label, e.g. "ER IHC (40556-3)"
    specimen: Literal["tissue", "ctdna", "blood", "unknown"] | None = None
    # the date written without a day ("2024", "2024-06"): the last day it can mean (date is
    # the first, which the record does not contain: cards show the date as written)
    date_last: dt.date | None = None


def written_last(date: dt.date | None, sources: list[Source]) -> dt.date | None:
    """The last day of `date` when every source dated that day wrote it without a day
    (Source.date_last); None when one of them gives the day in full, or none is dated so."""
    return day_written_last(date, [(s.date, s.date_last) for s in sources])


def day_written_last(day: dt.date | None,
                     dates: list[tuple[dt.date | None, dt.date | None]]) -> dt.date | None:
    """The last day of `day` when every (first day, last day or None) pair on that first day
    was written without a day; None when one gives the day in full, or none falls on it."""
    lasts = [b for a, b in dates if a == day] if day is not None else []
    return None if not lasts or None in lasts else max(lasts)  # type: ignore[type-var]


class Gap(BaseModel):
    """Something missing or unreadable that limits the advice."""

    code: str  # stable id, e.g. "her2-unknown", "esr1-stale", "unreadable-resource"
    message: str  # what a clinician reads
    sources: list[Source] = Field(default_factory=list)


# --- disease ---------------------------------------------------------------

class MetastaticSite(BaseModel):
    site: str  # "bone", "liver", "lung", "brain", "pleura", "peritoneum", "lymph-node", "adrenal", "pericardium", "other"
    visceral: bool
    date: dt.date | None = None
    sources: list[Source] = Field(default_factory=list)
    date_last: dt.date | None = None  # the date written without a day: its last day (as Source)


class Disease(BaseModel):
    breast_cancer: Literal["yes", "no", "unknown"] = "unknown"
    primary_diagnosis_date: dt.date | None = None
    primary_sources: list[Source] = Field(default_factory=list)
    metastatic: Literal["yes", "no", "unknown"] = "unknown"
    metastatic_date: dt.date | None = None
    # set when the metastatic date is uncertain: the earliest it may be (a stage IV on the
    # primary without a date of its own, diagnosed this day, while the other metastatic
    # evidence is dated later; gap metastatic-date-conflict). Therapy started between this
    # and metastatic_date is in an unknown setting.
    metastatic_date_earliest: dt.date | None = None
    # set when the metastatic date is written without a day ("2024", "2024-06"): the last
    # day it can mean (metastatic_date is the first). A decision that depends on where in
    # that range the date falls (therapy setting, relapse timing, de novo) is unknown.
    metastatic_date_latest: dt.date | None = None
    metastatic_sources: list[Source] = Field(default_factory=list)
    # metastatic "no": the M0 category / stage 0-III records it rests on (order checks cite them)
    non_metastatic_sources: list[Source] = Field(default_factory=list)
    sites: list[MetastaticSite] = Field(default_factory=list)
    visceral_involvement: bool = False
    # Clinician-asserted only (local code or text); never inferred from sites.
    # visceral_crisis is the CURRENT state the pathway ranks on (CR C.2 step 2: chemotherapy
    # first). CR C.1 (ABC4) defines visceral crisis as a state of severe organ dysfunction
    # "leading to a clinical indication for a more rapidly efficacious therapy", so a
    # documented crisis after which a metastatic systemic line started (strictly after the
    # date of the latest dated assertion, and by as_of) was treated and is history, not current.
    # mappings (disease.visceral_crisis_currency): visceral_crisis_documented is any
    # assertion; visceral_crisis is documented and not yet treated (an undated assertion
    # stays current: it cannot be shown to have been treated); visceral_crisis_treated_by
    # is then None, else the number of the first metastatic line started after it (by as_of).
    visceral_crisis: bool = False
    visceral_crisis_sources: list[Source] = Field(default_factory=list)
    visceral_crisis_documented: bool = False
    visceral_crisis_treated_by: int | None = None
    # de novo stage IV: metastatic at (or within ~3 months of) first diagnosis
    de_novo_metastatic: bool | None = None


# --- receptors -------------------------------------------------------------

# FHIR R4 ObservationStatus codes of a result not (known to be) final (fhir.NOT_FINAL_STATUSES,
# read by fhir.not_final_status): one type for the variant, receptor and lab results
NotFinalStatus = Literal["preliminary", "registered", "unknown"]


class MarkerNotFinal(BaseModel):
    """An ER / PR / HER2 result whose Observation.status is registered, preliminary or
    unknown (FHIR R4 ObservationStatus: no result yet / "not all results are final" / the
    source does not know which status applies): not read, as a variant result that is not
    final is not (genomics): the final report decides (gap receptor-result-not-final)."""

    marker: Literal["ER", "PR", "HER2"]
    reading: str  # what it says, as the service would read it once final ("negative", "IHC 1+")
    status: NotFinalStatus
    date: dt.date | None = None
    sources: list[Source] = Field(default_factory=list)

    @property
    def named(self) -> str:
        """"HER2 IHC 1+ (2025-06-01, status preliminary)": the result as the gap
        receptor-result-not-final and the testing cards name it."""
        return f"{self.marker} {self.reading} (" + (f"{self.date.isoformat()}, " if self.date else "") \
            + f"status {self.status})"


class ReceptorStatus(BaseModel):
    status: Literal["positive", "negative", "unknown"] = "unknown"
    percent: float | None = None  # % positive cells when reported
    low_positive: bool = False  # ER-low: 1-10 %
    conflict: bool = False  # results disagree; the most recent wins, flagged
    date: dt.date | None = None
    sources: list[Source] = Field(default_factory=list)
    date_last: dt.date | None = None  # the date written without a day: its last day (as Source)
    # results not final yet, not read (MarkerNotFinal)
    not_final: list[MarkerNotFinal] = Field(default_factory=list)


HER2Category = Literal[
    "positive",  # IHC 3+ or ISH amplified
    "low",  # IHC 1+, or 2+ with ISH not amplified
    "ultralow",  # IHC 0 with membrane staining
    "null",  # IHC 0 without staining
    "zero-unspecified",  # IHC 0, sub-class not reported
    "equivocal-pending",  # IHC 2+ without ISH
    "negative-unspecified",  # "negative" with no IHC score: never HER2-low
    "unknown",
]


class HER2Status(BaseModel):
    category: HER2Category = "unknown"
    ihc_score: Literal["0", "1+", "2+", "3+"] | None = None
    ish: Literal["amplified", "not-amplified"] | None = None
    date: dt.date | None = None
    sources: list[Source] = Field(default_factory=list)
    conflict: bool = False
    date_last: dt.date | None = None  # the date written without a day: its last day (as Source)
    # results not final yet, not read (MarkerNotFinal)
    not_final: list[MarkerNotFinal] = Field(default_factory=list)
    # with conflict: the other assessments on the other side of positive vs negative, e.g.
    # "HER2-positive, IHC 2+, ISH amplified (2016-03-12)", newest first (CR C.2 step 0 history)
    conflict_with: list[str] = Field(default_factory=list)
    # negative-unspecified because the text names more than one IHC score and does not say which
    # is current ("HER2 1+ (core biopsy), HER2 0 (resection)", "0-1+"): the text as written, so the
    # cards quote it instead of calling it a bare "negative" (CR A.1: HER2-low never inferred)
    scores_text: str | None = None
    # the most recent earlier assessment that was HER2-low when the latest is not (IHC 0,
    # null, or negative without a score), e.g. "IHC 1+ (2016-03-10)": CR C.2 step 0 keeps
    # the history (HER2-low status may differ between primary and metastasis); cards name it
    earlier_low: str | None = None
    earlier_low_sources: list[Source] = Field(default_factory=list)


# --- genomics --------------------------------------------------------------

Gene = Literal["ESR1", "PIK3CA", "AKT1", "PTEN", "BRCA1", "BRCA2", "PALB2", "ERBB2"]


# VariantResult.archival_without_collection_date in words, and why an ESR1 result on such
# tissue is not current (CR C.3 row 18): one text for the mapping's gaps and the cards
ARCHIVAL_TISSUE = "archival or primary-tumour tissue without a collection date"
ARCHIVAL_ESR1_WHY = "archival primary tissue is not suitable: ESR1 mutations emerge under endocrine therapy, C.3 row 18"


class VariantResult(BaseModel):
    """One gene result: a variant found, or a test that looked and found none."""

    gene: Gene
    result: Literal["detected", "not-detected"]
    protein_change: str | None = None  # p.HGVS
    dna_change: str | None = None  # c.HGVS
    origin: Literal["germline", "somatic", "unknown"] = "unknown"
    significance: Literal[
        "pathogenic", "likely-pathogenic", "vus", "likely-benign", "benign", "not-reported"
    ] = "not-reported"
    # the sender reported conflicting interpretations of pathogenicity (ClinVar wording):
    # read as "vus" (not pathogenic/likely pathogenic, so never actionable, CR C.2 step 1);
    # kept so cards can say what was reported
    significance_conflicting: bool = False
    # the report's class is one the PARP inhibitor labels name ("deleterious or suspected
    # deleterious gBRCAm", CR B.6 / B.7): read as pathogenic, kept as written so cards name it
    significance_label_class: Literal["deleterious", "suspected deleterious"] | None = None
    specimen: Literal["tissue", "ctdna", "blood", "unknown"] = "unknown"
    date: dt.date | None = None
    sources: list[Source] = Field(default_factory=list)
    # ESR1: a variant detected before the date an ESR1 result must follow (not current,
    # CR C.3 row 18) when a current result of the gene found nothing actionable: the date
    # of that current result. The current result decides (the variant is shown, never
    # actionable). mappings: set by build._esr1_currency.
    superseded_on: dt.date | None = None
    date_last: dt.date | None = None  # the date written without a day: its last day (as Source)
    # a copy-number change or a fusion (48019-4 DNA change type, or the report's words), not
    # a sequence variant; None: a sequence variant or not stated
    alteration: Literal["copy-number-gain", "copy-number-loss", "copy-number-change", "fusion"] | None = None
    # the specimen is described as archival or as the primary tumour (local_codes.yaml
    # archival_specimen) and no collection date is recorded: `date` is the Observation's (when
    # it was tested or reported), not when the tissue was taken. An ESR1 result on it cannot
    # be shown to follow endocrine therapy (CR C.3 row 18: "archival primary tissue
    # inappropriate"; current only if collected after the most recent ET exposure):
    # build._esr1_currency reads it as undated.
    archival_without_collection_date: bool = False
    # the Observation's status says the result is not final (FHIR R4 ObservationStatus:
    # "preliminary" = verified early results, not all final; "registered" = no result yet
    # available; "unknown" = the source system does not know which status applies, so it is
    # not known to be final): such a result decides nothing until final. mappings: kept out
    # of Biomarkers.results, in Biomarkers.not_final; cards name it where the question is
    # open. A missing status is read as final (fhir.not_final_status).
    status_not_final: NotFinalStatus | None = None

    @property
    def actionable(self) -> bool:
        """Detected, not reported as VUS/benign, not superseded by a current result, and
        of a kind that selects the gene's drugs (alteration_selects).

        A detected variant whose significance the sender did not report counts
        (tumour panels often omit it) but cards must say so; explicit VUS,
        likely benign and benign never count.
        """
        return self.actionable_if_final and self.status_not_final is None

    @property
    def actionable_if_final(self) -> bool:
        """What `actionable` would be were the result final: a result that is not final yet
        (status_not_final) and would select a drug leaves that drug undecided."""
        return self.result == "detected" and self.significance in (
            "pathogenic", "likely-pathogenic", "not-reported"
        ) and self.superseded_on is None and self.alteration_selects

    @property
    def alteration_selects(self) -> bool:
        """False for a copy-number change or fusion that is not what the gene's drugs need:
        ESR1, PIK3CA and AKT1 select by mutation (CR B.2/B.3 "ESR1-mutated", CDx ESR1 LBD
        missense; C.1 ASCO 2024 "PIK3CA or AKT1 mutations"); PTEN by inactivation (C.1 "PTEN
        inactivation", C.2 "loss-of-function"), which a copy-number gain is not (a PTEN loss
        is). A PTEN fusion or copy-number change of unstated direction does not select either:
        whether it inactivates PTEN is not stated (alteration_unclear; the cards leave
        capivasertib undecided and name it). BRCA1/2, PALB2: the classification decides (a
        large deletion is pathogenic)."""
        if self.alteration is None:
            return True
        if self.gene in ("ESR1", "PIK3CA", "AKT1"):
            return False
        return not (self.gene == "PTEN" and self.alteration != "copy-number-loss")

    @property
    def alteration_unclear(self) -> bool:
        """A PTEN fusion or copy-number change of unstated direction: it may or may not be the
        inactivation capivasertib needs (C.1 ASCO 2024 "PTEN inactivation"; a loss is one, a
        gain is not); the sources do not settle it, so it is neither a hit nor a negative."""
        return self.gene == "PTEN" and self.alteration in ("copy-number-change", "fusion")


GeneStatus = Literal[
    "detected",  # an actionable variant is documented
    "not-detected",  # tested, nothing actionable found
    "not-detected-ctdna-only",  # negative only in plasma: tissue reflex advised
    "not-tested",
]


class Biomarkers(BaseModel):
    results: list[VariantResult] = Field(default_factory=list)
    # ESR1 is current only if collected after the most recent endocrine exposure and
    # at/after the latest progression (CR C.3 row 18; ASCO 2023). None when no ESR1
    # result exists. mappings: the reference date is therapy.esr1_reference() (the one
    # definition, also used by every card text that explains it). True when there is no
    # reference date and a result is dated (None when every result is undated:
    # unknown); False when every ESR1 result is undated or older than the reference
    # date (14-day tolerance).
    esr1_current: bool | None = None
    # results whose Observation is not final (VariantResult.status_not_final): not in
    # `results`, so they neither select nor rule out a drug (a preliminary "not detected"
    # closes nothing, the test is still asked for); shown, and named where a decision waits
    not_final: list[VariantResult] = Field(default_factory=list)

    def for_gene(self, gene: str) -> list[VariantResult]:
        return [r for r in self.results if r.gene == gene]

    def actionable(self, gene: str, origin: str | None = None) -> list[VariantResult]:
        return [
            r for r in self.for_gene(gene)
            if r.actionable and (origin is None or r.origin == origin)
        ]

    def status(self, gene: str) -> GeneStatus:
        found = self.for_gene(gene)
        if not found:
            return "not-tested"
        if any(r.actionable for r in found):
            return "detected"
        # a superseded detection is neither found nor a negative: the current result decides
        negatives = [r for r in found
                     if r.superseded_on is None and (r.result == "not-detected" or not r.actionable)]
        if negatives and all(r.specimen == "ctdna" for r in negatives):
            return "not-detected-ctdna-only"
        return "not-detected"


# --- therapy ---------------------------------------------------------------

DrugClass = Literal[
    "aromatase-inhibitor", "serm", "fulvestrant", "oral-serd", "cdk46i",
    "pi3k-akt-mtor", "parp-inhibitor", "her2-adc", "trop2-adc", "her2-targeted",
    "chemotherapy", "ovarian-suppression", "bone-agent", "antihyperglycemic", "other",
]
# the classes of endocrine therapy, and the classes that make lines of therapy (anticancer
# therapy; ovarian suppression, bone agents, antihyperglycemics and "other" do not)
ENDOCRINE_CLASSES: frozenset[str] = frozenset({"aromatase-inhibitor", "serm", "fulvestrant", "oral-serd"})
LINE_CLASSES: frozenset[str] = frozenset({
    "aromatase-inhibitor", "serm", "fulvestrant", "oral-serd", "cdk46i", "pi3k-akt-mtor",
    "parp-inhibitor", "her2-adc", "trop2-adc", "her2-targeted", "chemotherapy",
})
# line classes whose drugs are combined with each other (AC, trastuzumab + pertuzumab); in
# every other line class two drugs of one line are one replacing the other (a switch the
# line grouping keeps, mappings/therapy.py): no labelled regimen combines them
# (cards/knowledge/regimens.yaml; tests/cards/test_knowledge.py checks it)
COMBINED_WITHIN_CLASS: frozenset[str] = frozenset({"chemotherapy", "her2-targeted"})


class Drug(BaseModel):
    rxnorm: str | None = None  # ingredient RxCUI
    name: str  # ingredient name, lower case ("letrozole")
    drug_class: DrugClass


class Exposure(BaseModel):
    """One medication resource, resolved to ingredients."""

    drugs: list[Drug]
    start: dt.date | None = None
    end: dt.date | None = None
    active: bool = False
    setting: Literal["early", "metastatic", "unknown"] = "unknown"  # early = neo/adjuvant
    sources: list[Source] = Field(default_factory=list)
    # The resource's own status ("active", "completed", ...). `active` can be False
    # while status says "active" when a later line replaced the drug (superseded).
    status: str | None = None
    superseded: bool = False
    # start / end written without a day ("2024"): the last day each can mean (start and end
    # are the first; the setting reads both, cards show them as written)
    start_last: dt.date | None = None
    end_last: dt.date | None = None


class TherapyLine(BaseModel):
    number: int  # 1-based, metastatic setting
    drugs: list[Drug]
    start: dt.date | None = None
    end: dt.date | None = None
    active: bool = False
    endocrine: bool = False  # contains AI/SERM/fulvestrant/oral SERD
    chemotherapy: bool = False
    sources: list[Source] = Field(default_factory=list)
    # the end read from a date without a day ("2025"): the last day it can mean (end is the first)
    end_last: dt.date | None = None
    # the same for the start (the earliest start of the line's records)
    start_last: dt.date | None = None
    # ended by progression as mappings read it: documented (a stop reason, a disease-status
    # "worsening" on it), or a next line followed (the regimen-change proxy, CR C.2 step 1)
    # unless every drug of the line ended with a stated non-progression reason (toxicity,
    # intolerance, choice). False while it runs. None: not read (a hand-built history).
    progressed: bool | None = None
    # ended (not progressed) with a stated non-progression reason on the latest record of
    # every drug and no progression documented: a line given, never a progression on ET
    stopped_without_progression: bool = False
    # ended with no end date recorded: a day by which it had ended (the latest dateAsserted of
    # its statements, all 'stopped' / 'completed'; FHIR R4 MedicationStatement.dateAsserted)
    ended_by: dt.date | None = None
    # drug name -> the drugs one record of the line writes as taken after it ("Tamoxifen stopped,
    # now letrozole": tamoxifen -> [letrozole]; mappings.therapy reads the switch): regimen_text
    # writes them in sequence, not as given together
    followed_by: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def classes(self) -> set[str]:
        return {d.drug_class for d in self.drugs}

    @property
    def progression_class(self) -> Literal["primary", "secondary"] | None:
        """The ABC4 class (CR C.1) a progression at the end of this line gives when it is the
        first metastatic endocrine line: within 6 calendar months of its start primary, later
        secondary (mappings.therapy classes the line, cards/render says why); None without a
        start and an end. Whether it progressed is the caller's question."""
        if self.start is None or self.end is None:
            return None
        return "primary" if months_between(self.start, self.end) < 6 else "secondary"

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.drugs]

    @property
    def regimen_text(self) -> str:
        """The line's drugs as the regimen a clinician would write: joined by " + ", and a drug
        that replaced an earlier one of its class within the line after it ("fulvestrant +
        abemaciclib (then ribociclib)"), not as a combination of both; so is a drug of another class
        one record writes as taken after it (followed_by: "tamoxifen (then letrozole)"), a chain of
        them as one sequence ("tamoxifen (then letrozole, then fulvestrant)"), whatever the order of
        the line's drugs."""
        groups: dict[object, list[str]] = {}
        for d in self.drugs:
            key = d.name if d.drug_class in COMBINED_WITHIN_CLASS else d.drug_class
            groups.setdefault(key, []).append(d.name)
        if not self.followed_by:  # no switch written in one record (most lines): the joined groups alone
            return " + ".join(g[0] + (f" (then {', then '.join(g[1:])})" if len(g) > 1 else "") for g in groups.values())
        later = {key: [k for k, other in groups.items() if k != key and other[0] in self.followed_by.get(g[-1], ())]
                 for key, g in groups.items()}
        placed: set[object] = set()

        def steps(key: object) -> list[str]:
            placed.add(key)
            after = [k for k in later[key] if k not in placed]
            placed.update(after)
            if len(after) == 1:
                return groups[key] + steps(after[0])
            return groups[key] + ([" + ".join(text(k) for k in after)] if after else [])

        def text(key: object) -> str:
            s = steps(key)
            return s[0] + (f" (then {', then '.join(s[1:])})" if len(s) > 1 else "")

        # groups no other is written before first (a switch's earlier drugs, or no switch), then any left
        pointed = {k for ks in later.values() for k in ks}
        first = [k for k in groups if k not in pointed] + [k for k in groups if k in pointed]
        return " + ".join(text(k) for k in first if k not in placed)


EndocrineResistance = Literal[
    "primary",  # relapse in first 2 y of adjuvant ET, or PD < 6 mo on 1L ET for MBC
    "secondary",  # relapse on adjuvant ET after 2 y, or <= 12 mo after completing it, or PD >= 6 mo on 1L ET
    "sensitive",  # relapse > 12 mo after completing adjuvant ET
    "de-novo",  # metastatic at diagnosis, no prior ET
    "unknown",
]


class EndocrineEvent(BaseModel):
    """A dated event in the endocrine history (see TherapyHistory.esr1_reference)."""

    date: dt.date
    event: str  # worded to follow "predates": "the end of metastatic line 2 (abemaciclib + fulvestrant)"
    sources: list[Source] = Field(default_factory=list)
    # a date written without a day ("2025"): the last day it can mean (date is the first)
    date_last: dt.date | None = None
    # why the date is a range, as a card says it after the range
    range_why: str = "no day given"

    @property
    def latest(self) -> dt.date:
        """The last day the event can have happened: a result must follow it to be shown current."""
        return self.date_last or self.date

    @property
    def when_text(self) -> str:
        """"on 2025-03-10"; for a date without a day "in 2025", "in 2025-03" (else "between ...")."""
        return "on " + self.date.isoformat() if self.date_last is None else range_text(self.date, self.date_last)


# an ESR1 specimen taken up to this many days before its reference date (the latest
# progression on endocrine therapy, TherapyHistory.esr1_reference) still counts as taken at
# that progression: the mapping's tolerance for a progression dated a little after the draw
# (no source gives a number; unchanged, moved here from build.py to be read once)
ESR1_PROGRESSION_TOLERANCE_DAYS = 14


def esr1_result_current(result: "VariantResult", ref: EndocrineEvent | None) -> bool:
    """Whether one ESR1 result's specimen is shown to be taken after `ref` (CR C.3 row 18:
    "current" only if collected after the most recent endocrine exposure and at/after the
    latest progression): dated, not on archival or primary-tumour tissue without a collection
    date, and on or after ref.latest less the tolerance; with no reference, any dated result.
    The one reading of a single result, for the mapping's decision (build._esr1_currency) and
    for a result not final yet that the cards weigh as a re-test under way."""
    if result.date is None or result.archival_without_collection_date:
        return False
    return ref is None or result.date >= ref.latest - dt.timedelta(days=ESR1_PROGRESSION_TOLERANCE_DAYS)


def range_text(first: dt.date, last: dt.date) -> str:
    """A date known only to lie between first and last, as written: "in 2024", "in 2024-06",
    else "between 2024-01-01 and 2024-03-10"."""
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and first.year == last.year:
        return f"in {first.year}"
    if first.day == 1 and (first.year, first.month) == (last.year, last.month) \
            and (last + dt.timedelta(days=1)).day == 1:
        return f"in {first.isoformat()[:7]}"
    return f"between {first.isoformat()} and {last.isoformat()}"


def date_written(first: dt.date, last: dt.date | None = None) -> str:
    """A date as the record wrote it: "2024-03-10"; one written without a day (last: the last
    day it can mean) "2024" or "2024-06", never its first day, which the record does not
    contain ("between 2024-01-01 and 2024-03-10" for a range). The mapping's texts and the
    cards' (cards.rules.fmt_date) write dates this one way."""
    return first.isoformat() if last is None else range_text(first, last).removeprefix("in ")


class OtherLineReading(BaseModel):
    """A course the records leave unclear as a line (gaps line-count-unclear,
    regimen-switch-unclear) and the metastatic lines read the other way: the cards check
    whether a line-count threshold is met either way (cards.rules
    unclear_course_decides_line_count)."""

    code: str  # the gap code that asks about it
    course: str  # "capecitabine (2024-08-01 to 2024-11-01)"
    read_as: str  # how the service counts it: "metastatic line 2"
    other: str  # the other reading: "part of metastatic line 1 (letrozole + palbociclib)"
    sources: list[Source] = Field(default_factory=list)  # the course's records
    metastatic_lines: list[TherapyLine] = Field(default_factory=list)  # read the other way
    metastatic_endocrine_lines: int = 0
    metastatic_chemotherapy_lines: int = 0
    metastatic_systemic_lines: int = 0


class TherapyHistory(BaseModel):
    exposures: list[Exposure] = Field(default_factory=list)
    metastatic_lines: list[TherapyLine] = Field(default_factory=list)
    # the courses whose reading as a line the records leave open, each with the lines read
    # the other way (empty: every line reads one way)
    other_line_readings: list[OtherLineReading] = Field(default_factory=list)

    adjuvant_endocrine_end: dt.date | None = None
    on_adjuvant_endocrine_at_recurrence: bool = False
    months_from_adjuvant_endocrine_end_to_metastasis: float | None = None  # 0 if on treatment
    # set when the adjuvant ET end or the metastatic date is written without a day: the fewest
    # and the most months those dates allow (the figure above counts from their first days; the
    # relapse class is the same across the range, else no months are given: mappings/therapy.py)
    months_from_adjuvant_endocrine_end_to_metastasis_range: tuple[float, float] | None = None
    endocrine_resistance: EndocrineResistance = "unknown"
    endocrine_resistance_sources: list[Source] = Field(default_factory=list)

    # anticancer drugs ordered (or stated) to be taken from a date after as_of: not given yet,
    # no line (mappings/therapy.py read_exposures); drug name -> the records' references. The
    # order hooks count them as the partners of a drug drafted beside them (a signed ribociclib
    # order starting next week completes a drafted letrozole)
    to_be_given: dict[str, list[str]] = Field(default_factory=dict)

    prior_cdk46i: bool = False  # any setting
    cdk46i_months: float | None = None  # time on the metastatic CDK4/6i (to its first documented progression, if any)
    progression_within_6_months_on_cdk46i: bool | None = None
    # the date the history was read as of (PatientState.as_of); events dated after it
    # (a planned line end, a future-dated record) have not happened yet. None: not known
    # (a hand-built history), nothing is filtered.
    as_of: dt.date | None = None
    # for ESR1 currency. mappings: the latest of the metastatic date after adjuvant
    # ET, the end of a metastatic ET line ended by progression, and a disease-status
    # "worsening" Observation after ET started; none dated after as_of.
    last_endocrine_progression: dt.date | None = None
    # what happened on that date, worded to follow "predates" (e.g. "the progression on
    # metastatic line 1 (letrozole + ribociclib)"), and the resources it was read from
    last_endocrine_progression_event: str | None = None
    last_endocrine_progression_sources: list[Source] = Field(default_factory=list)
    # that date written without a day: the last day it can mean (else None)
    last_endocrine_progression_last: dt.date | None = None

    metastatic_endocrine_lines: int = 0
    metastatic_chemotherapy_lines: int = 0
    metastatic_systemic_lines: int = 0
    prior_chemotherapy_any_setting: bool = False
    # for T-DXd label B; None: a date without a day ("2024") leaves it unknown (gap
    # adjuvant-chemotherapy-end-unknown)
    chemotherapy_within_6_months_of_adjuvant_end: bool | None = False

    prior_endocrine_any_setting: bool = False
    prior_nonsteroidal_ai: bool = False  # letrozole/anastrozole (everolimus label)
    prior_fulvestrant: bool = False
    prior_pi3k_akt_mtor: bool = False
    prior_parp_inhibitor: bool = False
    prior_tdxd: bool = False
    prior_sacituzumab: bool = False
    prior_datodxd: bool = False
    prior_taxane: bool = False
    prior_anthracycline: bool = False

    def current_drugs(self) -> list[Drug]:
        return [d for e in self.exposures if e.active for d in e.drugs]

    def esr1_reference(self) -> EndocrineEvent | None:
        """The date an ESR1 result must follow to be current, what happened then, and its sources.

        The one definition used by the staleness decision (mappings/build.py) and by every
        card text that explains it. CR C.3 row 18: an ESR1 result is "current" only if the
        specimen was collected after the most recent endocrine exposure and at/after the
        latest progression; CR C.1 (ASCO 2023): ESR1 mutations emerge under endocrine
        therapy, test at each progression. So the latest of: the latest progression on
        endocrine therapy, and the end of a metastatic endocrine line the patient has moved
        on from (ended, not active) even when no progression is coded (ended without an end
        date: any day from its start to the next line's start, else as_of). An ongoing line does
        not count (no re-test before progression, C.3 row 4). On the same date the
        progression is named (it says more). An event dated after as_of (a line end or a
        progression still in the future) has not happened: it is no reference.
        """
        cands: list[tuple[dt.date, int, EndocrineEvent]] = []
        if self.last_endocrine_progression is not None:
            cands.append((self.last_endocrine_progression, 1, EndocrineEvent(
                date=self.last_endocrine_progression,
                event=self.last_endocrine_progression_event or "the latest progression on endocrine therapy",
                sources=list(self.last_endocrine_progression_sources),
                date_last=self.last_endocrine_progression_last)))
        for ln in self.metastatic_lines:
            if ln.endocrine and ln.end is not None and not ln.active:
                cands.append((ln.end, 0, EndocrineEvent(
                    date=ln.end, event=f"the end of metastatic line {ln.number} ({ln.regimen_text})",
                    sources=list(ln.sources), date_last=ln.end_last)))
            elif ln.endocrine and ln.end is None and not ln.active and ln.start is not None:
                # ended (stopped or completed, perhaps for progression) with no end date: it
                # ended some day after its start and before the next line started (else
                # before as_of). A result must follow every day it can mean (C.3 row 18), so
                # one taken during it is not shown current: the re-test is asked, not skipped
                later = [x.start for x in self.metastatic_lines if x.number > ln.number
                         and x.start is not None and x.start >= ln.start]
                # ... or before the day its ended statements were asserted (ln.ended_by)
                bound = min(later + ([ln.ended_by] if ln.ended_by else []), default=self.as_of or dt.date.today())
                cands.append((ln.start, 0, EndocrineEvent(
                    date=ln.start, event=f"the end of metastatic line {ln.number} ({ln.regimen_text})",
                    sources=list(ln.sources), date_last=bound if bound > ln.start else None,
                    range_why="no end date recorded")))
        if self.as_of is not None:
            cands = [c for c in cands if c[0] <= self.as_of]
        if not cands:
            return None
        # the latest event; one written without a day ("2025") counts as its last day (a
        # result must follow every day it can mean, C.3 row 18)
        return max(cands, key=lambda c: (c[2].latest, c[1]))[2]


# --- patient factors -------------------------------------------------------

LabComparator = Literal["<", "<=", ">=", ">"]


class LabValue(BaseModel):
    value: float
    unit: str | None = None
    date: dt.date | None = None
    sources: list[Source] = Field(default_factory=list)
    # FHIR R4 Quantity.comparator: the result was written as a bound ("<6.5 %", ">14 %": the
    # assay's limit), not measured; `value` is the bound. None: a measured value.
    comparator: LabComparator | None = None
    # the date written without a day ("2024-06"): the last day it can mean (date is the first,
    # which the record does not contain: cards show the date as written)
    date_last: dt.date | None = None
    # the Observation.status when the result is not (known to be) final: registered /
    # preliminary / unknown (FHIR R4 ObservationStatus, any case; fhir.not_final_status)
    status_not_final: NotFinalStatus | None = None

    @property
    def written(self) -> str:
        """The value as the lab wrote it: "7.1", "<6.5", ">14"."""
        return f"{self.comparator or ''}{self.value:g}"

    def reaches(self, threshold: float, strict: bool = False) -> bool | None:
        """Whether the result is >= threshold (strict: > threshold): bound_reaches; for a
        result not final, not_final_reaches."""
        return not_final_reaches(bound_reaches(self.value, self.comparator, threshold, strict), self.status_not_final)


def not_final_reaches(reaches: bool | None, status_not_final: str | None) -> bool | None:
    """What a safety lab's reading against a caution threshold may decide when the result is
    not final (FHIR R4 ObservationStatus registered / preliminary / unknown): one at or above it
    still raises the caution (the safe direction: a caution shown early, the result named with
    its status), one below it does not clear the caution: undecided (None), as a bound that
    leaves the threshold open is, so the cards treat the lab as not known for that threshold
    and say so, until the final result."""
    return None if status_not_final is not None and reaches is False else reaches


def bound_reaches(value: float, comparator: str | None, threshold: float, strict: bool = False) -> bool | None:
    """Whether a result written `comparator value` (FHIR R4 Quantity.comparator; None: measured)
    is >= threshold (strict: > threshold). A bound decides only when every value it allows
    agrees: "<6.5" is below any threshold >= 6.5, ">14" above 8; ">7" or "<9" against 8 leave
    it undecided (None: unknown, never a guess)."""
    if comparator is None:
        return value > threshold if strict else value >= threshold
    if comparator in ("<", "<="):
        # every allowed value is under the threshold ("<=" at the threshold may reach it)
        below = value <= threshold if (comparator == "<" or strict) else value < threshold
        return False if below else None
    above = value >= threshold if (comparator == ">" or not strict) else value > threshold
    return True if above else None


# The levels at which a glucose result counts as hyperglycaemia, for the mapping (a lab-only
# diabetes status, Diabetes.sources) and the cards' cautions alike: HbA1c >= 6.5 %, CR C.2
# safety overlays ("HbA1c >=6.5% — capivasertib data show more hyperglycemia"); fasting
# glucose >= 126 mg/dL, no row in the reference (the diabetes criterion this service has
# always read). The HbA1c above which diabetes is uncontrolled (8.0 %, CR B.5 CAPItello-291)
# is Diabetes.uncontrolled here and regimens.yaml's threshold_percent in the cards.
HBA1C_HIGH_PERCENT = 6.5
FASTING_GLUCOSE_HIGH_MG_DL = 126.0


class Diabetes(BaseModel):
    status: Literal[
        "type1", "type2-treated", "type2-untreated", "lab-only", "none-documented"
    ] = "none-documented"
    on_antihyperglycemic: bool = False
    # the active glucose-lowering drugs by name, as the cards name them: whether a type 2 diabetes
    # needs insulin matters (CR B.5 / C.2 safety overlays: CAPItello-291 excluded insulin-requiring
    # type 2 diabetes; C.3 row 14)
    treatment: list[str] = Field(default_factory=list)
    hba1c: LabValue | None = None  # latest
    fasting_glucose: LabValue | None = None  # latest, mg/dL
    uncontrolled: bool = False  # HbA1c > 8.0 % (CAPItello-291 exclusion)
    sources: list[Source] = Field(default_factory=list)
    # diabetes Conditions recorded provisional/differential/unconfirmed (and none confirmed):
    # not a status, but a reason for the hyperglycaemia caution ("type 1 (provisional)")
    unconfirmed: list[str] = Field(default_factory=list)
    unconfirmed_sources: list[Source] = Field(default_factory=list)
    # the type the record gives a type2-* status (mappings.factors._diabetes): "type 2" (coded
    # E11 / 44054006 or written), "other specified" (ICD-10-CM E13) or "not recorded" (SNOMED
    # 73211009 Diabetes mellitus, "Diabetes", or only glucose-lowering drugs / laboratory values);
    # each reads as type 2 for the caution (CR C.3 row 14), the cards say which. None: not read
    # (a hand-built state), shown as type 2
    type_recorded: Literal["type 2", "other specified", "not recorded"] | None = None
    # the counted diabetes Conditions written as a history ("History of diabetes mellitus"): read
    # as current (diabetes is chronic; none of them says it resolved), the cards quote them
    history_written: list[str] = Field(default_factory=list)
    # active glucose-lowering drugs whose records give another reason than diabetes ("metformin for
    # polycystic ovary syndrome"; drugs.yaml glucose_lowering_reasons, FHIR R4 reasonCode /
    # reasonReference): not counted as diabetes treatment (CR A.4), named (gap
    # glucose-lowering-not-for-diabetes); hyperglycaemia_treated: one of them treats hyperglycaemia
    # that is no diabetes diagnosis (steroid-induced, sliding-scale insulin): the caution names it
    not_for_diabetes: list[str] = Field(default_factory=list)
    not_for_diabetes_sources: list[Source] = Field(default_factory=list)
    hyperglycaemia_treated: bool = False


class LungDisease(BaseModel):
    """ILD / pneumonitis on record (mappings.factors._lung): a caution for T-DXd, Dato-DXd,
    everolimus, CDK4/6 inhibitors and alpelisib (CR A.4, C.2); symptomatic (grade >= 2) ILD
    stops T-DXd (CR B.11). A Condition no longer active (resolved, inactive) is still history."""

    ild_history: bool = False  # a confirmed ILD / pneumonitis Condition (current or past)
    grade: int | None = None  # the worst grade of those Conditions
    # grade >= 2 when graded; None: not stated, or unclear (symptomatic_unclear)
    symptomatic: bool | None = None
    sources: list[Source] = Field(default_factory=list)
    # each of those Conditions' onset as written and, when it no longer applies, its clinical
    # status and abatement date ("2023-05 (resolved 2023-08-01)"), in date order; an undated
    # active one is not listed
    episodes: list[str] = Field(default_factory=list)
    # those graded 1 but also written as symptomatic, steroid-requiring, on oxygen or of
    # moderate/severe severity (CR B.11: grade 1 is asymptomatic): whether one was grade >= 2
    # is unclear ("'requiring steroids' (2023-05-01)"); symptomatic is then None, not False
    symptomatic_unclear: list[str] = Field(default_factory=list)
    # how the record leaves it unclear, so the cards word it as written: a grade 1 also written as
    # symptomatic ("graded-1"), no grade but written as asymptomatic and as steroid-treated /
    # symptomatic ("asymptomatic"), or a grade range spanning 1 and >= 2 ("range", "grade 1-2")
    symptomatic_unclear_kind: Literal["graded-1", "asymptomatic", "range"] = "graded-1"
    # ILD Conditions recorded provisional/differential/unconfirmed or written as a suspicion:
    # not counted, named in the gap ild-unconfirmed and in the ILD cautions
    unconfirmed: list[str] = Field(default_factory=list)
    unconfirmed_sources: list[Source] = Field(default_factory=list)


class LongQT(BaseModel):
    """Long QT syndrome on record (a ribociclib warning, CR C.2 safety overlays): a current,
    confirmed Condition (congenital or acquired: ICD-10-CM I45.81 does not tell them apart)."""

    documented: bool = False
    sources: list[Source] = Field(default_factory=list)
    # long QT syndrome Conditions recorded provisional/differential/unconfirmed or written as a
    # suspicion (and none confirmed): not counted, named in the gap long-qt-unconfirmed
    unconfirmed: list[str] = Field(default_factory=list)
    unconfirmed_sources: list[Source] = Field(default_factory=list)


class PatientFactors(BaseModel):
    sex: Literal["female", "male", "other", "unknown"] = "unknown"
    # where the sex was read from when not Patient.gender: Patient.gender "other" / "unknown" gives
    # no sex, and every current sex extension gives the same one ("birth sex (US Core) male";
    # mappings.factors._sex_recorded_elsewhere). "": Patient.gender
    sex_basis: str = ""
    birth_date: dt.date | None = None
    age: int | None = None
    menopausal_status: Literal[
        "premenopausal", "perimenopausal", "postmenopausal", "unknown"
    ] = "unknown"
    menopausal_basis: Literal[
        "observation", "oophorectomy", "gnrh-agonist", "age-rule", "male", "unknown"
    ] = "unknown"
    menopausal_sources: list[Source] = Field(default_factory=list)
    ovarian_suppression: bool = False  # ongoing GnRH agonist or bilateral oophorectomy
    ovarian_suppression_sources: list[Source] = Field(default_factory=list)
    # GnRH-agonist records still "active" not read as current suppression (no dose within the depot
    # window, undated, or starting after as_of: mappings.factors._ofs_record_not_current), as named
    # in the gap ovarian-suppression-not-current, for the cautions to say ("goserelin statement
    # MedicationStatement/x dated 2021-03-01"); empty when another record shows current suppression
    ovarian_suppression_not_current: list[str] = Field(default_factory=list)
    ovarian_suppression_not_current_sources: list[Source] = Field(default_factory=list)
    diabetes: Diabetes = Field(default_factory=Diabetes)
    lung: LungDisease = Field(default_factory=LungDisease)
    ecog: int | None = None
    ecog_sources: list[Source] = Field(default_factory=list)
    # the ECOG Observation.status when not (known to be) final: registered / preliminary /
    # unknown (FHIR R4 ObservationStatus, any case; fhir.not_final_status). Display only: no
    # rule reads ECOG, the summary names the status beside the score
    ecog_status_not_final: NotFinalStatus | None = None
    qtc_ms: LabValue | None = None
    long_qt: LongQT = Field(default_factory=LongQT)
    # a prolonged QT interval recorded as a current, confirmed Condition (SNOMED CT 111975006 or
    # the words), not the syndrome, with no QTc dated since (mappings/factors._prolonged_qt):
    # the Kisqali QT warning (CR B.10, C.2 safety overlays)
    prolonged_qt: LongQT = Field(default_factory=LongQT)
    # Patient.deceasedBoolean true or any Patient.deceasedDateTime (the date when readable)
    deceased: bool = False
    deceased_date: dt.date | None = None
    # the death date written without a day ("2024-06"): the last day it can mean (deceased_date
    # is the first, which the record does not contain: cards show the date as written)
    deceased_date_last: dt.date | None = None
    deceased_sources: list[Source] = Field(default_factory=list)


class PatientState(BaseModel):
    patient_id: str
    as_of: dt.date
    disease: Disease = Field(default_factory=Disease)
    er: ReceptorStatus = Field(default_factory=ReceptorStatus)
    pr: ReceptorStatus = Field(default_factory=ReceptorStatus)
    her2: HER2Status = Field(default_factory=HER2Status)
    biomarkers: Biomarkers = Field(default_factory=Biomarkers)
    therapy: TherapyHistory = Field(default_factory=TherapyHistory)
    factors: PatientFactors = Field(default_factory=PatientFactors)
    gaps: list[Gap] = Field(default_factory=list)
    # resource counts by type that were read, e.g. {"Observation": 12}
    resource_counts: dict[str, int] = Field(default_factory=dict)
    # resources skipped and why (entered-in-error, other patient, unreadable)
    ignored: list[Gap] = Field(default_factory=list)

    @property
    def hormone_receptor_positive(self) -> bool | None:
        if "positive" in (self.er.status, self.pr.status):
            return True
        if self.er.status == "negative" and self.pr.status == "negative":
            return False
        return None


def selection_names(selection: str, reference: str | None, resource_id: str | None,
                    full_url: str | None = None) -> bool:
    """Whether an order-select selection names a draft: its 'Type/id' reference, an
    absolute URL ending in it, its bare id, or its entry's fullUrl (a draft not yet saved
    may have only a urn:uuid) (CDS Hooks: selections reference entries in draftOrders).
    One reading for the request check and the order cards."""
    if reference and (selection == reference or selection.endswith("/" + reference)):
        return True
    if full_url and selection == full_url:
        return True
    return bool(resource_id) and selection == resource_id


def draft_entry_id(full_url: Any, resource: dict) -> str | None:
    """The id of a draftOrders entry's resource: its own, else the one an absolute fullUrl
    '.../Type/id' gives it (FHIR R4 Bundle: the fullUrl is the resource's identity), so a
    draft sent without an id can still be selected and named in a delete action."""
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return rid
    if not isinstance(full_url, str) or full_url.startswith("urn:"):
        return None
    parts = full_url.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == resource.get("resourceType") and parts[-1]:
        return parts[-1]
    return None


class DraftOrder(BaseModel):
    """One drafted order from context.draftOrders, resolved to ingredients."""

    resource_type: str  # "MedicationRequest", "ServiceRequest", ...
    resource_id: str | None = None
    reference: str | None = None  # "MedicationRequest/abc"
    drugs: list[Drug] = Field(default_factory=list)  # pathway drugs recognised
    text: str | None = None  # what the EHR called it
    status: str | None = None
    # FHIR R4 MedicationRequest.intent / ServiceRequest.intent as sent (lower case; None: absent):
    # "order" and its children authorise, a proposal / plan / option does not (the order cards
    # check it all the same, and name it by its intent)
    intent: str | None = None
    # why the order checks must leave this draft alone: its subject names another
    # patient than context.patientId, or doNotPerform = true (None: check it)
    not_checked: str | None = None
    # its subject names another patient than context.patientId (and its status is not closed): not
    # checked against this patient's record, and the order cards say so rather than pass over it
    other_patient: bool = False
    # doNotPerform = true on a draft for this patient (FHIR R4 MedicationRequest.doNotPerform: "do
    # not do this"): not checked as an order, but the order cards name it where they would suggest
    # adding the drug it prohibits
    prohibits: bool = False
    # why the drug of a drafted medication order could not be read (its medicationReference
    # not found in draftOrders, no medication[x] ...): the order cards say it was not checked
    unreadable: str | None = None
    # unreadable because doNotPerform is neither true nor false (its drug was read): whether it
    # orders or prohibits the drug is unclear
    prohibition_unclear: bool = False
    # a second drug its text joins to the drug read, named only by its class or an abbreviation
    # ("Palbociclib + AI", "Letrozole + Palbo": therapy.class_beside_drug_classes), e.g. 'an aromatase
    # inhibitor, not which one', and the DrugClass values those words name (or the abbreviation
    # may stand for): the order cards say the partner is drafted unnamed, not absent
    unnamed_partner: str | None = None
    unnamed_partner_classes: list[str] = Field(default_factory=list)
    # (lt2) the length of its longest text the readers cut at fhir.TEXT_READ_LIMIT (None: none
    # cut): its checks read only the first 2,000 characters, and the order cards say so
    text_read_in_part: int | None = None
    full_url: str | None = None  # its draftOrders entry's fullUrl (a selection may name it)
    # a progression the draft's own words state (FHIR R4 MedicationRequest.note, .reasonCode,
    # .statusReason, .reasonReference by its display or, with none, the code of the Condition /
    # Observation the draft contains: "switching for progression on letrozole", reasonCode "Disease progression"),
    # as "<element>: '<words>'": the ordering clinician's statement, not a record of it (no
    # CancerDiseaseStatus: CR C.2 step 1). A plan or condition ("to start at progression",
    # "until progression") and a suspicion ("suspected progression") state none (None)
    stated_progression: str | None = None
    # a reason other than progression the draft's own words state (the same elements, read as a
    # record's stop reason: "switching for neutropenia", "palbociclib intolerance", reasonCode
    # "Adverse reaction to drug"), as "<element>: '<words>'", when none states a progression: a
    # same-class switch drafted for it stays within its line, as the therapy history counts it
    # once recorded (mappings/therapy.py _looks_like_substitution; CR C.2 step 1)
    stated_other_reason: str | None = None
    # FHIR R4 MedicationRequest.priorPrescription ("Type/id", a version or base URL dropped): the
    # order this draft replaces. A draft naming the active order of a drug of its class is a
    # deliberate switch, so the order cards do not say that drug is still active
    prior_prescription: str | None = None
    # a drafted test (ServiceRequest): the LOINC codes of its code and the gene symbols its text
    # and displays name, so the order cards do not pre-select a second order of the same test
    loinc: list[str] = Field(default_factory=list)
    genes: list[str] = Field(default_factory=list)
    # the genomic source its name states (germline / somatic, "tumour" read as somatic; None:
    # not stated), and whether it names archival or primary-tumour tissue: a somatic BRCA test
    # is not the germline test the PARP inhibitor labels need (C.3 row 7), an ESR1 test on
    # archival tissue not the current one (C.3 row 18)
    origin: Literal["germline", "somatic"] | None = None
    archival: bool = False
