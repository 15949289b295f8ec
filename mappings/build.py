"""Build a PatientState from the patient's FHIR resources (JSON dicts).

Contract (keep it):

    build_patient_state(resources, patient_id, as_of=None) -> PatientState
        resources: every resource gathered for the hook (dicts, any type, any
        order, possibly duplicated across prefetch keys, possibly malformed).
        Never raises on bad data: unreadable resources become `ignored` entries.

    read_draft_orders(bundle, patient_id=None) -> list[DraftOrder]
        bundle: context.draftOrders (a Bundle dict); never raises. Drafts whose
        subject names another patient than patient_id, with doNotPerform = true, or
        with a status saying the request is withdrawn or over (cancelled, entered-in-error,
        stopped, completed, revoked) are marked `not_checked` (with the reason) and left
        out of the checks.

Reads fields straight from the JSON (no fhir.resources validation on this
path); code tables are loaded once at import (mappings/tables.py).

Input handling
--------------
- Bundles inside `resources` are flattened; OperationOutcome entries are skipped.
- Duplicates (same resourceType/id from several prefetch keys) count once. When the
  copies differ (meta aside), the newest is read: meta.versionId as a number, else
  meta.lastUpdated; when they do not say, the first received is read and the gap
  duplicate-resource-conflict names them.
- `ignored` entries (Gap objects) have these codes:
    unreadable-resource     not a dict / no resourceType / a field could not be read /
                            a Condition clinicalStatus in the wrong case ("Resolved": no
                            condition-clinical code, read as no status; the Condition is read) /
                            a lab value implausible in its unit (HbA1c under 2 %,
                            unitless fasting glucose under 40) / HER2 ISH words that
                            say neither amplified nor not amplified
    entered-in-error        status or verificationStatus entered-in-error (in any case:
                            "Entered-In-Error" too, the message quotes it)
    refuted                 Condition verificationStatus refuted (any case)
    other-patient           subject/patient reference names another patient
    not-given               an Observation cancelled (any case), medication status
                            not-taken/not-done/cancelled/draft, or
                            a MedicationRequest with intent proposal/plan or
                            doNotPerform true
    indeterminate-genomic-result  variant Observation with no call / failed; a gene a
                            several-gene result text lists with no clear result of its own;
                            a negative the report calls not informative (low tumour fraction);
                            a gene panel component with no clear result; a local test named
                            for its gene whose written value gives no call ("ESR1 ctDNA
                            test": "Insufficient sample"), with its name and words; a test named "BRCA"
                            without BRCA1/BRCA2; a genomics DiagnosticReport received with a
                            conclusion and none of its result Observations (not read)
    not-a-mutation-result   a copy-number or fusion result (48019-4 change type or its
                            words) that found none: no negative for the gene's mutations
    not-breast-cancer-stage a staging Observation (stage group / M category) whose focus is
                            another cancer's Condition (mCODE CancerStage: focus is the
                            cancer staged): not the breast cancer's stage
    not-breast-metastasis   a metastasis Condition whose text names another primary cancer
                            as its own ("Metastatic colon cancer", local_codes.yaml
                            other_primary_text): that cancer's spread, not counted
    data-absent             a tumour-marker result (or component), variant Observation or
                            HbA1c / fasting glucose / QTc with a dataAbsentReason (FHIR R4:
                            why value[x] is missing): never read as a result, not its value
                            (obs-6 forbids both), interpretation or notes; the message names
                            the test, the reason and the date
    mapping-error           an internal step failed (the rest of the state is kept)

Gap codes (PatientState.gaps; stable ids the cards read)
--------------------------------------------------------
    breast-cancer-not-documented  no primary breast cancer Condition (a Z85.3 personal
                                  history counts only with metastatic evidence, CR A.4)
    metastatic-status-unknown     no secondary-site Condition, M1 or stage IV
    metastatic-date-unknown       metastatic, but no date on any metastatic evidence
    metastatic-date-conflict      a stage IV on the primary without a date of its own
                                  (no dated stage assessment) while the other metastatic
                                  evidence is dated > 92 days after the diagnosis: the
                                  metastatic date is the dated evidence, therapy between
                                  the two is in an unknown setting (CR C.2 step 1)
    metastatic-status-conflict    lymph nodes (e.g. axillary C77.3) are the only metastatic
                                  evidence but an M0 / stage 0-III is on record (status
                                  stays "yes" per CR A.4; confirm it); or a stage IV / M1
                                  Observation or a metastasis Condition dated > 92 days
                                  before the breast cancer diagnosis (an earlier cancer's
                                  stage or spread?): not counted
    staging-conflict              a stage group / M category (Observation value or
                                  Condition.stage.summary) coded stage IV / M1 whose text
                                  writes an earlier stage, an M0 ("cM0(i+)") or an M not
                                  assessed ("pMX", "M not assessed"): read as the code,
                                  the text quoted (AJCC stage IV is any T any N M1)
    metastasis-unconfirmed        a metastasis Condition is only provisional/differential/
                                  unconfirmed (verificationStatus), or its text writes it as
                                  a suspicion ("suspected", "r/o", "?", "suggestive of",
                                  "cannot be excluded"), as unlikely ("unlikely", "low
                                  suspicion for", "favoured benign": the words quoted) or as
                                  probable ("likely", "presumed", imaging "consistent with":
                                  the words quoted; a confirmed verificationStatus on the
                                  metastasis confirms these), or a stage IV / M1 written as
                                  a suspicion ("Stage IV?", "possible stage IV") or on a
                                  staging Observation not final (preliminary, registered,
                                  unknown), and no confirmed evidence makes the disease
                                  metastatic: not counted, named here; so is a drug record
                                  whose reasonCode / reasonReference names metastatic breast
                                  cancer, or is coded as a secondary site (C78-C79, not nodes
                                  nor the breast, rt50) (a drug's reason is no diagnosis, CR
                                  A.4; the labels read "advanced or metastatic", CR B);
                                  (ds12) and a Condition naming no cancer with a stage IV / M1
                                  at a site ("M1 (liver)"; rt84: "M1 (?liver)") or a bodySite beside a text ruling
                                  out another site ("No bone metastases", bodySite the liver)
    metastatic-site-not-stated    (ds5) metastatic, but the only metastasis records name no
                                  site ("Metastatic disease"): site not stated (was "other");
                                  visceral or not changes the guidance (CR A.4, C.3)
    metastatic-site-conflict      a metastasis coded at one site whose text names another ("Breast
                                  cancer metastatic to liver" coded C79.51: the coded site
                                  counted) or names another site in the past ("history of liver
                                  metastasis": is it still present?), or whose bodySite names
                                  another site than its code (both counted); (ds11) a coded site
                                  the text rules out beside another it asserts (the text's
                                  counted), a site the text writes and the bodySite does not (both
                                  counted; rt81: a bodySite the text rules out said so; ds12: on
                                  a metastatic breast cancer Condition too): visceral
                                  or not changes the guidance (CR A.4, C.2 step 2), named to check
    metastatic-site-unconfirmed   beside metastases asserted, a site written with a doubt
                                  ("Bone metastases, ?liver", "possible liver", "liver?"):
                                  that site not counted, named here with its words; (ds12) so
                                  are the sites metastasis-unconfirmed names on a metastatic
                                  patient, and a stage IV breast cancer's bodySite its text
                                  rules out ("Metastatic breast cancer (no liver)", bodySite
                                  the liver; a bodySite not ruled out is counted, not a node);
                                  (rt84) a metastasis Condition's coded site or bodySite its
                                  own text doubts ("Metastases, ?liver" coded C78.7 or with
                                  bodySite the liver; the coded site unless the text asserts
                                  another) or a bodySite it writes in the past, or rules out
                                  naming no other site ("Metastases, no liver", bodySite the
                                  liver; beside another site: counted, metastatic-site-conflict);
                                  (ds13) a site written "not excluded" / "not ruled out", and
                                  a site field on a coded metastasis left "?" or answered with
                                  a doubt ("lung: ?", "Bone - probable": the code still counts
                                  the metastasis)
    visceral-crisis-unclear       a visceral crisis written as "impending"/"imminent", as
                                  a suspicion ("suspected", "possible", "?" before or after,
                                  "r/o"; a "?" after an Observation's question is no doubt) or
                                  as probable ("likely", "presumed", "probable"; a confirmed
                                  verificationStatus on the Condition confirms these), or a
                                  crisis Condition whose clinicalStatus is an inactive code in
                                  the wrong case ("Resolved": unreadable), or a crisis
                                  Observation not final (preliminary, registered, unknown)
                                  (CR C.1 defines a
                                  present crisis; no source settles these) and none asserted:
                                  not counted, the words or the status quoted
    er-unknown / pr-unknown       no readable ER / PR result
    er-conflict / pr-conflict     results disagree (most recent wins, or unknown if
                                  the most recent results disagree)
    er-low                        ER 1-10 % (ER-low): endocrine benefit uncertain
    er-negative-pr-positive       ER negative, PR positive: read HR+ (C.2 step 0), the uncommon
                                  result named (ASCO/CAP 2020: unusual results worked up; re-test ER)
    receptor-score-unread         the deciding ER / PR result is an Allred total alone of 3-5
                                  (3-4: may be < 1 %, not read as positive or negative unless
                                  the report says positive; 5: positive, may be ER-low), or a
                                  later one of 3-4 left open; or an H-score alone of 1-30
                                  (1-2: may be < 1 %, not read; 3-30: positive, may be ER-low;
                                  H/3 <= % stained <= H, McCarty 1985), or ER / PR unknown and
                                  given only as an H-score not read (> 300, or hedged), or
                                  only as a number without a % unit on a status code ("5": an
                                  Allred score, an H-score or a %?) or with a unit other than %
                                  on a % code ("3 score": not 3 %), or an Allred total / H-score
                                  with another bare number of the same marker beside it ("H-score:
                                  150 (PR 20)" on PR: whose, and % or score?): CR A.2
                                  reads the % of stained cells, which neither score gives
                                  (Allred 1998 proportion score)
    her2-unknown                  no readable HER2 result (incl. "Present" without score)
    her2-score-missing            HER2 "negative" without IHC score: cannot tell 0/ultralow/low
    her2-zero-unspecified         IHC 0 without ultralow/null sub-class
    her2-equivocal-pending        IHC 2+ without ISH result
    her2-conflict                 HER2 results disagree, the most recent assessment decides (also an
                                  earlier result on the other side of HER2-positive named in the
                                  text of the one used: "HER2 1+, previously 3+")
                                  (when they leave HER2 unknown, e.g. an overall interpretation
                                  48676-1 against the IHC/ISH of the same assessment, CR C.2
                                  step 0 "discordant": her2-unknown says it, no her2-conflict)
    her2-ish-unclear              an ISH given only as HER2/CEP17 ratio and copies per nucleus
                                  in ASCO/CAP 2018 group 2, 3 or 4 (or a ratio without copies)
                                  with no laboratory interpretation: not read as amplified or
                                  not amplified (CR A.1 gives no ISH groups); named
    her2-text-unclear             HER2 unknown because the deciding result's words state no
                                  single result ("possible HER2-low", "HER2-low on primary, HER2-positive on metastasis",
                                  "3+ in 20%, 0 in 80%"): quoted (CR A.1, C.2 step 0)
    her2-ish-discordant           ISH amplified and not amplified within one assessment (IHC not
                                  3+): HER2 unknown, both results named (CR C.2 step 0 discordant)
    her2-ish-equivocal            an ISH written "equivocal" (ASCO/CAP 2013 category, none in 2018)
                                  where the ISH decides (IHC 2+ or no score): not read, named
    her2-history-in-text          the HER2 text of the assessment used names an earlier result after
                                  the current one ("HER2 1+; previously 0"): the first is read, the
                                  earlier named (CR C.2 step 0 keeps history); an earlier HER2-low
                                  behind a result that is not low is her2-low-earlier instead
    her2-ihc-ish-discordant       IHC 3+ and ISH not amplified within one assessment: HER2 still
                                  positive (IHC 3+, CR A.1 ASCO/CAP 2018), the disagreement named
    her2-low-earlier              the latest HER2 is 0/null/negative without score, an earlier
                                  assessment (> 45 days before) was HER2-low: named with its
                                  date; the latest still decides (CR C.2 step 0, keep history)
    esr1-not-tested               no ESR1 result
    esr1-stale                    ESR1 result predates the last progression on
                                  endocrine therapy, or the end of the last
                                  metastatic endocrine line (or is undated, or is on
                                  archival / primary-tumour tissue without a collection
                                  date: VariantResult.archival_without_collection_date,
                                  C.3 row 18 "archival primary tissue inappropriate");
                                  the date is TherapyHistory.esr1_reference(); one
                                  written without a day ("2025") counts as its last day
    esr1-not-current-detection    an ESR1 variant detected before that date (or undated) and
                                  nothing actionable on a current result: the current result
                                  decides (C.3 row 18), the detection is superseded
                                  (VariantResult.superseded_on), shown, never actionable
    esr1-undated                  ESR1 result without a date (or only on archival tissue
                                  without a collection date) and no endocrine
                                  progression documented: currency unknown
    disease-status-unclear        a cancer disease status (LOINC 97509-4) that leaves the
                                  progression open: written as a suspicion, probable or not
                                  excluded ("suspected progression", "progression cannot be
                                  excluded"), pseudoprogression or a mixed response
                                  (local_codes.yaml disease_status), an answer coded or
                                  written as undetermined / not evaluable (ConditionStatus-
                                  TrendVS 709137006), a symptom written as what worsened
                                  ("Worse pain") without the worsened code, an answer coded
                                  outside the value set with nothing written, a worsening code whose
                                  text says none or hedges it, an improved/stable code whose
                                  text says progression, or a progression whose
                                  Observation.status is registered/preliminary/unknown
                                  (FHIR R4 ObservationStatus): not counted as a progression
                                  (CR C.2 step 1), named here with its words and date
    progression-not-coded         a Condition or ClinicalImpression dated after endocrine
                                  therapy started writes that the cancer progressed
                                  ("Progression of bone metastases") and no disease-status
                                  progression is recorded within 30 days: not counted (CR
                                  C.2 step 1 reads the disease status or a regimen change),
                                  named here
    receptor-answer-unclear       an ER / PR / HER2 answer code written with no code system
                                  whose display / text say otherwise ("POS" "Not done"): not
                                  read (FHIR R4 Coding.system: no system, no defined meaning)
    receptor-test-uncoded         an Observation coded only by text (no code, or only local
    her2-test-uncoded             ones; FHIR R4 CodeableConcept.text) naming an ER / PR (HER2) test
                                  ("Estrogen receptor", "HER2 IHC") with a value: not read (a
                                  result is read by its LOINC code, CR A.1; the text does not
                                  say which test), named with its value when the marker is
                                  unknown or the record is its latest; her2-unknown then says
                                  a HER2 result is recorded, never "No HER2 result recorded"
    receptor-result-not-final     an ER / PR / HER2 result whose Observation.status is
                                  preliminary, registered or unknown (any case; FHIR R4
                                  ObservationStatus, fhir.not_final_status): not read,
                                  kept in ReceptorStatus / HER2Status.not_final with what it
                                  says; the other results decide and the testing cards wait on
                                  the final report rather than ask for a new test (CR C.2 step 0)
    receptor-status-inactive      an ICD-10-CM receptor-status Condition (Z17.x) whose
                                  clinicalStatus is inactive / resolved / remission (FHIR R4
                                  condition-clinical: no longer applies) and that would have been
                                  the marker's only evidence: not read, named here
    receptor-status-discordant    an ICD-10-CM receptor-status Condition (Z17.x) dated on or after
                                  the ER / PR / HR / HER2 result that decides (or either undated)
                                  states the opposite status: the result still decides (Z17 only
                                  without a result, CR A.1), both named with their dates (a
                                  re-biopsy conversion, CR C.2 step 0, or a code carried forward:
                                  no source tells them apart)
    receptor-status-unconfirmed   an ICD-10-CM receptor-status Condition (Z17.x) whose
                                  verificationStatus is provisional / differential / unconfirmed
                                  (condition-ver-status: no diagnosis made) where it would be the
                                  marker's only evidence: not read (as diabetes-unconfirmed), named
    genomic-result-not-final      a variant result whose Observation.status is preliminary,
                                  registered or unknown (FHIR R4 ObservationStatus: not
                                  (known to be) final; a missing status reads as final; or whose
                                  significance comes from a DiagnosticImplication that is not
                                  final): kept in Biomarkers.not_final, read as no result
                                  (selects nothing, rules out nothing); named here
    <gene>-finding-date-in-words  (esr1-, pik3ca-, brca2-..., gx10) a finding or negative whose own
                                  words date it ("ESR1 not detected (tissue, 2019)", a month /
                                  day date beside the gene): read on that date, not the report's
                                  (C.3 row 18 currency), the words quoted
    pik3ca-not-tested             no PIK3CA result
    pik3ca-ctdna-negative-only    PIK3CA negative only in plasma: tissue reflex advised
    akt1-pten-not-tested          neither AKT1 nor PTEN result (capivasertib)
    pten-alteration-unclear       a PTEN fusion or copy-number change of unstated direction and
                                  no PTEN inactivation: whether it inactivates PTEN is not
                                  stated (C.1 ASCO 2024 "PTEN inactivation"), so capivasertib
                                  is undecided on it (VariantResult.alteration_unclear)
    brca-germline-not-tested      no germline BRCA1/2 result (tumour-only or none)
    menopausal-status-unknown     woman < 60 (or age unknown) without status evidence; names
                                  a postmenopausal status not counted: not final, or written
                                  as a guess / question ("? postmenopausal") or as brought on
                                  by chemotherapy (local_codes.yaml menopause unclear), and
                                  a bilateral oophorectomy written as not done ("BSO
                                  declined", "planned": menopause oophorectomy_not_done)
    ovarian-suppression-not-current  a GnRH agonist order or statement still active but
                                  open-ended and dated (start, or a statement's dateAsserted)
                                  > 95 days before as_of (longer for a 4- / 6-month depot whose
                                  dose the record gives: ofs_depots.yaml), or undated, with no
                                  dose or recent statement since (a depot lasts 28 days / 12
                                  weeks): not counted as ongoing ovarian suppression; names the records
    ovarian-suppression-text-only  a pre/perimenopausal status written with ovarian suppression
                                  ("Premenopausal on goserelin") and no record of it: not
                                  counted; the caution names the words for the clinician to confirm
    ecog-unknown                  no ECOG observation
    hba1c-missing                 no HbA1c (before PI3K/AKT/mTOR inhibitors)
                                  (an Observation named HbA1c without its LOINC code is
                                  named in it, not read; so for fasting-glucose-missing)
    hba1c-latest-not-read         a newer HbA1c than the one read sent but not read (its why and
                                  date named; the older one used)
    fasting-glucose-latest-not-read  the same for fasting glucose
    diabetes-unconfirmed          a diabetes Condition is only provisional/differential/
                                  unconfirmed (verificationStatus), written as a suspicion
                                  ("suspected diabetes", local_codes.yaml diabetes) or written as
                                  resolved / refuted / in remission / gestational ("Diabetes
                                  mellitus - resolved") and no confirmed one: not counted as
                                  diabetes, named here
    diabetes-type-unclear         LADA or ketosis-prone diabetes (pf4; not negated nor a
                                  relative's, rt59) and no type 1 recorded: read as diabetes of
                                  unrecorded type (or the type 2 written beside it), the type
                                  asked: the labels and trials name type 1 (CR B.1, B.4, B.5,
                                  C.3 row 14) without saying whether these are
    prediabetes-recorded          a Condition names prediabetes / impaired fasting glucose or
                                  glucose tolerance (R73.03) and no diabetes is recorded: not
                                  diabetes; whether it is a hyperglycaemia caution is not settled
                                  by the sources (CR A.4 lists R73.03, unverified)
    hyperglycaemia-recorded       a Condition names hyperglycaemia ("steroid-induced
                                  hyperglycaemia", R73.9 / R73.09 / SNOMED 80394007) and no
                                  diabetes is recorded: not diabetes; whether it is a caution is
                                  not settled by the sources (named, as prediabetes is)
    glucose-lowering-not-for-diabetes  an active glucose-lowering drug whose reasonCode /
                                  reasonReference or own words give another reason ("for PCOS",
                                  prediabetes, weight: Wegovy / Saxenda / Zepbound, heart failure,
                                  steroid-induced hyperglycaemia, in-hospital sliding-scale insulin;
                                  drugs.yaml glucose_lowering_reasons): not counted as diabetes
                                  treatment (CR A.4), named here; hyperglycaemia is a caution;
                                  never beside a counted diabetes Condition (the drug treats it)
    glucose-lowering-not-taken    an active glucose-lowering drug record whose text writes the drug
                                  as stopped or past use ("Metformin - stopped": therapy.py
                                  written_as_stopped) or as not taken before or after its name
                                  ("No insulin", "Not on metformin", "Metformin - not taking":
                                  drugs.yaml not_taken_opening / not_taken_closing):
                                  not counted as diabetes treatment (CR A.4); a diabetes Condition
                                  still counts; a hold or a pause ("Metformin held", "stopped for 2 days") is still treatment
    long-qt-unconfirmed           a long QT syndrome Condition is only provisional/differential/
                                  unconfirmed (verificationStatus) or written as a suspicion
                                  ("suspected", "r/o", "?") and no confirmed one: not counted
                                  (no ribociclib warning), named here
    qt-prolongation-unconfirmed   the same for a prolonged QT interval Condition (SNOMED CT
                                  111975006 or the words; local_codes.yaml prolonged_qt)
    ild-unconfirmed               an ILD / pneumonitis Condition is provisional/differential/
                                  unconfirmed (verificationStatus) or written as a suspicion
                                  ("suspected", "r/o", "?", "cannot be excluded"): not ILD
                                  history (never the T-DXd stop), named here and in the ILD
                                  cautions ("recorded, not confirmed")
    ild-grade-unclear             a grade 1 ILD also written as symptomatic, steroid-requiring,
                                  on oxygen or moderate/severe (CR B.11: grade 1 is
                                  asymptomatic): whether it was grade >= 2 is unclear, the
                                  T-DXd card waits on it
    fasting-glucose-missing       no fasting glucose
    patient-demographics-missing  no Patient resource
    deceased-date-unreadable      Patient.deceasedDateTime not a date, after as_of or before the
                                  birth date: the date not used, the age counted to as_of
    sex-unclear                   a birth sex or sex (US Core) or sex for clinical use (FHIR
                                  extension) that differs from Patient.gender: both named,
                                  the gender still read (codes.yaml patient_sex); with
                                  Patient.gender other / unknown and one sex recorded, that
                                  sex is read and the gap says so (confirm it)
    duplicate-resource-conflict   copies of the same resource (type/id) differ and none says
                                  which is newer (meta.versionId / lastUpdated): the first
                                  received is read; the gap names them and their status
    medication-unreadable         a medication record whose drug cannot be read (no code
                                  or name, referenced Medication not in the data):
                                  lines of therapy may be missing, and a relapse is not
                                  called endocrine-naive (resistance unknown)
    therapy-dates-missing         an anticancer medication without start date
    line-count-unclear            a regimen of another class (chemotherapy) started and ended while
                                  the endocrine therapy of the current metastatic line went on after
                                  it, progression not documented: counted as a new line (the
                                  regimen-change proxy, CR C.2 step 1), the question named;
                                  and a record writing endocrine therapy of another class after
                                  its first ("Letrozole then fulvestrant"): counted as one line,
                                  whether the second drug was a new line asked (CR C.2 step 1)
    regimen-switch-unclear        endocrine therapy replaced by drugs of its line's classes within
                                  6 months (anastrozole -> letrozole), no reason or progression
                                  recorded: counted as a new line and a progression (CR C.2 step 1),
                                  the question named (a stated reason keeps one line)
    medication-refusal-unclear    an anticancer medication record stopped / completed with a refusal
                                  as its statusReason or note ("Patient refused", SNOMED CT
                                  105480006) and only a start or an order date: read as given,
                                  whether it was started before the refusal is named (with no
                                  time of use at all it is not therapy given; with a period, given);
                                  not named when another record of its drug was read
    progression-at-line-start     the first progression on the first metastatic endocrine line is
                                  dated within 14 days after its start (PROGRESSION_AT_START_DAYS,
                                  no source sets it) and the class without it is not primary:
                                  the baseline report that led to the line or a progression on
                                  it (ABC4 primary) cannot be told; resistance left unknown
    therapy-administration-on-hold  an anticancer MedicationAdministration with status on-hold
                                  (FHIR R4: halted; whether the dose was given is not said) and
                                  no other record of its drug: read as given, named
    therapy-end-before-start      an anticancer medication record whose end is before its start
                                  (FHIR R4 Period): which date is wrong cannot be told, the end is
                                  not used (when the drug stopped is unknown), the records named
    therapy-status-unknown        an anticancer medication record with status 'unknown' (FHIR
                                  R4: the authoring system does not know the status) and no end
                                  before as_of: read as not ongoing, whether it still is is named
    therapy-stopped-in-text       an anticancer medication record still under way by its status
                                  (active, on-hold) whose drug text writes it as stopped
                                  ("Tamoxifen (stopped)") or as past use ("Hx tamoxifen",
                                  "Letrozole (previous)") and no end before as_of: read as not
                                  ongoing, when it stopped is named as unknown
    therapy-in-error-in-text      (tx4) an anticancer medication record whose stop reason or note
                                  says it was stopped / entered "in error" while its status does
                                  not: read by its status and dates (not a stop), named so the
                                  clinician confirms whether the record stands
    stop-reason-unclear           an anticancer medication record whose stop reason gives a
                                  progression only suspected ("suspected progression", "? PD",
                                  "progression not confirmed": local_codes.yaml disease_status
                                  unclear_patterns) and no other reason: not a documented
                                  progression (CR C.2 step 1), nor a stop without a reason
    therapy-setting-unclear       the only endocrine therapy before the metastatic date started
                                  31-90 days before it (a date without a day: the nearest day it
                                  allows) and went on (SETTING_QUESTION_DAYS): read as adjuvant
                                  (a recurrence on it), possibly metastatic line 1
    therapy-setting-unknown       metastatic date (or an ended therapy's start) unknown, or
                                  a start inside the range of a partial ("2024") start or
                                  metastatic date: setting of some therapy unknown (both therapy gaps
                                  name only the classes lines count, LINE_CLASSES;
                                  this one gives each record its reason)
    adjuvant-endocrine-end-unknown  adjuvant ET without end date (a record such as a refill
                                  request written on or before the latest recorded end of
                                  the same drug is bounded by it; names only the others), or
                                  a partial end ("2019") whose first and last day give
                                  different relapse timings (on ET / <= 12 months / later),
                                  or a metastatic date / adjuvant start without a day whose
                                  range gives different ABC4 classes, or a record still under
                                  way by status dated more than 10 years before the recurrence
                                  with nothing since (therapy.ADJUVANT_ET_STALE_YEARS: not read
                                  as taken at the recurrence)
    adjuvant-endocrine-interrupted  a recurrence on adjuvant ET after a pause in it, where
                                  counting its first 2 years from the first start or by the
                                  time on it gives different ABC4 classes (CR C.1 does not
                                  say): primary vs secondary resistance unknown
    adjuvant-endocrine-not-recorded  a recurrence after a breast cancer with no (neo)adjuvant
                                  endocrine therapy and no metastatic endocrine line recorded:
                                  read as endocrine-naive (sensitive, ABC4 CR C.1), whether any
                                  was given elsewhere asked (it would change the first line)
    endocrine-resistance-unsettled  the first metastatic endocrine line ended for a stated
                                  non-progression reason (toxicity, choice) and a later
                                  endocrine line progressed: ABC4 (CR C.1) reads resistance
                                  from first-line ET only, so that progression sets no class,
                                  and de novo / endocrine-sensitive are not read past it
                                  (unknown unless the adjuvant relapse timing sets it)
                                  ; or it ended for a stated progression with no end date, no
                                  next line and no dated progression on it: counted as
                                  progressed, its ABC4 class (6 months) not known
    adjuvant-chemotherapy-end-unknown  an adjuvant chemotherapy end or the metastatic date
                                  without a day whose range gives both answers to "recurrence
                                  within 6 months of completing adjuvant chemotherapy"
                                  (T-DXd label B, CR B.11): that route is unknown
    observation-status-missing  Observations without a status (FHIR R4: required, 1..1), read as
                                  final (fhir.not_final_status): named so they can be checked
    adjuvant-chemotherapy-end-not-recorded  an adjuvant chemotherapy without an end date
                                  that started more than 6 months before the recurrence:
                                  its end decides T-DXd label B (CR B.11), that route is unknown
    text-read-in-part             (lt1) a free text (code text or display, note, valueString...)
                                  longer than fhir.TEXT_READ_LIMIT (2,000) characters: read only
                                  to its first 2,000 (FHIR R4 sets no length; the bound keeps one
                                  request from holding a worker); names the records, what
                                  follows is not read
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from mappings._fast import construct
from mappings.context import Ctx
from mappings.disease import build_disease, visceral_crisis_currency
from mappings.factors import build_factors
from mappings.fhir import (
    _CUT_TEXTS, TEXT_READ_LIMIT, absent_reason, as_list, bounded, obs_date, cc_as_written, clinical_status_miscased, codings, contained_resource, counted,
    do_not_perform, is_loinc,
    printable_clip, ref_id, ref_str, ref_type_and_id,
    status_code,
)
from mappings import tables as T
from mappings.genomics import archival_text, build_variants, genes_named, names_gene_test, origin_stated
from mappings.markers import build_markers
from mappings.state import (
    ARCHIVAL_ESR1_WHY, ARCHIVAL_TISSUE, Biomarkers, Disease, DraftOrder, EndocrineEvent, Gap,
    HER2Status, MarkerNotFinal, PatientFactors, PatientState, ReceptorStatus, Source, TherapyHistory, VariantResult, draft_entry_id,
    date_written, esr1_result_current,
)
from mappings.therapy import (
    build_therapy, bundle_index, drafted_drugs, drug_concept_readable, drug_named_not_ordered, find_in_bundle,
    medication_conflict, medication_readable, resolve_medication, to_drug, unnamed_drug_in_concept, unnamed_drug_in_text, class_beside_drug_classes,
)
# the stop-reason reading of a record's statusReason / note (local_codes.yaml stop_reasons), read
# of a drafted order's own words the same way (_stated_reason), with the disease-status
# reading of a status's written answer (local_codes.yaml disease_status): it is the cancer that progressed
from mappings.therapy import _status_text_reading, _stop_reason_of_text

_SUBJECT_FIELDS = ("subject", "patient", "beneficiary")
_MAX_DEPTH = 4


def _flatten(resources: Any, ctx: Ctx, out: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(resources, dict):
        resources = [resources]
    if not isinstance(resources, (list, tuple)):
        if resources is not None:
            ctx.ignored.append(Gap(code="unreadable-resource", message="Resources were not a list"))
        return
    append = out.append
    for r in resources:
        if type(r) is dict:
            rt = r.get("resourceType")
            if type(rt) is str and rt and rt != "Bundle":
                append(r)  # the common case: a plain resource
                continue
        if isinstance(r, dict) and r.get("resourceType") == "Bundle":
            entries = r.get("entry")
            if not isinstance(entries, list):
                continue
            sub = []
            for e in entries:
                if isinstance(e, dict) and "resource" in e:
                    sub.append(e["resource"])
                elif e is not None:
                    ctx.ignored.append(Gap(code="unreadable-resource", message="Bundle entry without resource"))
            _flatten(sub, ctx, out, depth + 1)
            continue
        if not isinstance(r, dict) or not isinstance(r.get("resourceType"), str) or not r.get("resourceType"):
            ctx.ignored.append(Gap(
                code="unreadable-resource",
                message=f"Not a FHIR resource ({type(r).__name__}); skipped",
            ))
            continue
        out.append(r)


# Resource statuses never read, as written in any case or with spaces around ("Entered-In-Error",
# "CANCELLED"): FHIR R4 codes are case-sensitive, but a miscased "entered-in-error" is still the
# sender saying the resource is wrong, and reading it (a HER2 1+ opening T-DXd, an HbA1c clearing
# a caution) is worse than skipping it. entered-in-error on any resource (FHIR R4 "this should
# not have existed"); cancelled on an Observation (ObservationStatus "the observation is
# unavailable because the measurement was not started or not completed").
_NEVER_READ_STATUS = frozenset({"entered-in-error", "cancelled"})
# the usual statuses, as the specification writes them: no need to look at their case
_READ_STATUS = frozenset({"final", "amended", "corrected", "preliminary", "registered", "active", "completed",
                          "stopped", "on-hold", "intended", "unknown", "in-progress", "not-done"})


def _status_skip(r: dict[str, Any]) -> tuple[str, str] | None:
    status = status_code(r.get("status"))
    written = r.get("status")
    if status == "entered-in-error":
        return "entered-in-error", f"{r['resourceType']} marked entered-in-error" + (
            "" if written == status else f" (status {written!r})")
    if r["resourceType"] == "Observation" and status == "cancelled":
        return "not-given", "Observation cancelled" + ("" if written == status else f" (status {written!r})")
    vs = r.get("verificationStatus")
    for _, code, _ in (codings(vs) if vs is not None else ()):
        code = status_code(code)
        if code == "entered-in-error":
            return "entered-in-error", f"{r['resourceType']} verificationStatus entered-in-error"
        if code == "refuted":
            return "refuted", f"{r['resourceType']} refuted"
    return None


def _other_patient(r: dict[str, Any], patient_id: str) -> bool:
    if r["resourceType"] == "Patient":
        rid = r.get("id")
        return isinstance(rid, str) and rid != patient_id
    for f in _SUBJECT_FIELDS:
        ref = r.get(f)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            pid = ref_id(ref, "Patient")
            if pid is not None and pid != patient_id:
                return True
            return False
    return False


def _ingest(resources: Any, ctx: Ctx) -> Counter[str]:
    if type(resources) is list and not ctx.ignored and not ctx.by_type and not ctx.index:
        # the usual input, a list of plain resources, read in one pass; anything else
        # (a Bundle, something unreadable) starts again the general way, so that the
        # flattening gaps come first as they always did
        counts = _accept(resources, ctx, plain_only=True)
        if counts is not None:
            return counts
        ctx.by_type.clear()
        ctx.index.clear()
        ctx.ignored.clear()
    flat: list[dict[str, Any]] = []
    _flatten(resources, ctx, flat)
    return _accept(flat, ctx)  # type: ignore[return-value]


_NO_TYPE = object()  # _accept's type of the previous resource before the first: equal to none


def _accept(flat: list[Any], ctx: Ctx, plain_only: bool = False) -> Counter[str] | None:
    """Dedup, skip (entered-in-error, refuted, other patient) and index the resources.
    plain_only: None as soon as an item is not a plain resource (not a dict with a
    non-empty string resourceType other than Bundle)."""
    # resources already seen: the accepted ones are in `index` (type -> id -> resource,
    # no key object per resource), the skipped ones in `skipped` (key -> resource)
    skipped: dict[tuple[str, str], dict[str, Any]] = {}
    # later copies (other objects) of a type/id already seen: compared after the loop
    dups: list[dict[str, Any]] = []
    n_ignored = len(ctx.ignored)
    by_type = ctx.by_type
    index = ctx.index
    patient_id = ctx.patient_id
    # "Patient/<id>" names this patient whatever ref_id makes of it, unless the id
    # itself has a "/" (then only the full _other_patient check can tell)
    own_ref = "Patient/" + patient_id if "/" not in patient_id else None
    # resources usually come grouped by type: the index and by_type entries of the
    # previous resource's type are kept at hand (created on first use, as before)
    # (a resource of the previous resource's type needs no type checks: that type passed them)
    run_type: Any = _NO_TYPE
    ids = lst = None
    for r in flat:
        if plain_only:
            if type(r) is not dict:
                return None
            rtype = r.get("resourceType")
        else:
            rtype = r["resourceType"]
        if rtype != run_type:
            if plain_only and (type(rtype) is not str or not rtype or rtype == "Bundle"):
                return None
            if rtype == "OperationOutcome":
                continue
            run_type = rtype
            ids = index.get(rtype)
            lst = by_type.get(rtype)
        rid = r.get("id")
        if isinstance(rid, str) and rid:
            if ids is None:
                ids = index[rtype] = {}
            elif rid in ids:
                if ids[rid] is not r:
                    dups.append(r)
                continue
            key = True
            if skipped and (rtype, rid) in skipped:
                if skipped[(rtype, rid)] is not r:
                    dups.append(r)
                continue
        else:
            key = None
        try:
            status = r.get("status")
            # a status read as written (the usual one) skips nothing by itself
            if ((r.get("verificationStatus") is not None) if type(status) is str and status in _READ_STATUS else
                    (status == "entered-in-error" or status == "cancelled"
                     or (type(status) is str and status_code(status) in _NEVER_READ_STATUS)
                     or r.get("verificationStatus") is not None)):
                skip = _status_skip(r)
                if skip:
                    ctx.ignore(r, skip[0], skip[1])
                    if key is not None:
                        skipped[(rtype, rid)] = r
                    continue
            subject = r.get("subject")
            if (own_ref is None or type(subject) is not dict or subject.get("reference") != own_ref
                    or rtype == "Patient"):
                if _other_patient(r, patient_id):
                    ctx.ignore(r, "other-patient", f"{rtype} belongs to another patient than {patient_id}")
                    if key is not None:
                        skipped[(rtype, rid)] = r
                    continue
        except Exception:  # noqa: BLE001
            ctx.ignore(r, "unreadable-resource", f"{rtype} could not be read")
            if key is not None:
                skipped[(rtype, rid)] = r
            continue
        if lst is None:
            lst = by_type[rtype] = [r]
        else:
            lst.append(r)
        if key is not None:
            ids[rid] = r
    if dups:
        newer = _duplicates(dups, index, skipped, ctx)
        if newer:
            # a later copy is the newer version: read again with only the newest copy of
            # each such resource (rare; the first pass's results are dropped)
            del ctx.ignored[n_ignored:]
            by_type.clear()
            index.clear()
            return _accept([r for r in flat if _keep(r, newer)], ctx)
    # read counts by type, in order of first appearance (as by_type)
    return Counter({t: len(lst) for t, lst in by_type.items()})


def _without_meta(r: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in r.items() if k != "meta"}


def _version_key(r: dict[str, Any], by: str) -> Any:
    """meta.versionId as a number (by="version") or meta.lastUpdated as an aware
    datetime (by="updated"); None when absent or unreadable."""
    meta = r.get("meta")
    if not isinstance(meta, dict):
        return None
    if by == "version":
        v = meta.get("versionId")
        return int(v) if isinstance(v, str) and v.isascii() and v.isdigit() else None
    v = meta.get("lastUpdated")
    if not isinstance(v, str):
        return None
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None  # FHIR instant: a timezone is required


def _newest(copies: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest copy by meta.versionId (a number), else meta.lastUpdated; None when
    the copies do not all say, or two share the newest version."""
    for by in ("version", "updated"):
        keys = [_version_key(c, by) for c in copies]
        if all(k is not None for k in keys):
            top = max(keys)
            if keys.count(top) == 1:
                return copies[keys.index(top)]
    return None


def _status_word(r: dict[str, Any]) -> str:
    status = r.get("status")
    if isinstance(status, str) and status:
        return status
    return next((code for _, code, _ in codings(r.get("verificationStatus")) if code), "no status")


def _difference(copies: list[dict[str, Any]]) -> str:
    words = [_status_word(c) for c in copies]
    if len(set(words)) > 1:
        return "status " + " vs ".join(words)
    return f"{len(copies)} copies, all {words[0]}, with different contents"


def _duplicates(dups: list[dict[str, Any]], index: dict[str, dict[str, Any]],
                skipped: dict[tuple[str, str], dict[str, Any]], ctx: Ctx) -> dict[tuple[str, str], dict[str, Any]]:
    """Copies of the same type/id that differ (beyond meta): the newer version when the
    copies say which it is (returned by key when it is not the copy read), else a gap
    naming them (the copy received first stays read)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in dups:
        key = (r["resourceType"], r["id"])
        copies = groups.get(key)
        if copies is None:
            first = index.get(key[0], {}).get(key[1]) or skipped[key]
            copies = groups[key] = [first]
        bare = _without_meta(r)
        if all(r is not c and bare != _without_meta(c) for c in copies):
            copies.append(r)
    newer: dict[tuple[str, str], dict[str, Any]] = {}
    unsettled: list[tuple[str, list[dict[str, Any]]]] = []
    for (rtype, rid), copies in groups.items():
        if len(copies) < 2:
            continue  # the same content (meta aside): nothing to choose
        best = _newest(copies)
        if best is None:
            unsettled.append((f"{rtype}/{rid}", copies))
        elif best is not copies[0]:
            newer[(rtype, rid)] = best
    if unsettled and not newer:
        ctx.gap(
            "duplicate-resource-conflict",
            "Copies of the same record disagree and none says which is newer (meta.versionId / "
            "lastUpdated); the copy received first is used: "
            + "; ".join(f"{ref} ({_difference(copies)})" for ref, copies in unsettled)
            + ". Check which is current.",
            [Source(reference=ref) for ref, _ in unsettled],
        )
    return newer


def _keep(r: Any, newer: dict[tuple[str, str], dict[str, Any]]) -> bool:
    rid = r.get("id")
    if not isinstance(rid, str):
        return True
    best = newer.get((r["resourceType"], rid))
    return best is None or best is r


def _nothing() -> None:
    return None


def _step(ctx: Ctx, name: str, fn, fallback):
    """fn(), or fallback() when fn fails (made only then: a validated empty model costs
    1-2 us and the steps almost never fail)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - never raise; record and continue
        ctx.ignored.append(Gap(code="mapping-error", message=f"{name} could not be mapped: {type(exc).__name__}"))
        return fallback()


def build_patient_state(
    resources: list[dict[str, Any]], patient_id: str, as_of: dt.date | None = None
) -> PatientState:
    as_of = as_of if isinstance(as_of, dt.date) else dt.date.today()
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    pid = patient_id if isinstance(patient_id, str) else str(patient_id)
    ctx = Ctx(pid, as_of)
    # the texts the readers cut at fhir.TEXT_READ_LIMIT in this call (gap text-read-in-part)
    cut_texts: list[str] = []
    token = _CUT_TEXTS.set(cut_texts)
    try:
        return _build(ctx, resources, cut_texts)
    finally:
        _CUT_TEXTS.reset(token)


def _build(ctx: Ctx, resources: Any, cut_texts: list[str]) -> PatientState:
    pid, as_of = ctx.patient_id, ctx.as_of
    counts = _step(ctx, "input", lambda: _ingest(resources, ctx), Counter)
    _step(ctx, "clinical status", lambda: _note_miscased_clinical_status(ctx), _nothing)
    _step(ctx, "observation status", lambda: _note_missing_observation_status(ctx), _nothing)

    disease = _step(ctx, "disease", lambda: build_disease(ctx), Disease)
    er, pr, her2 = _step(ctx, "receptors", lambda: build_markers(ctx),
                         lambda: (ReceptorStatus(), ReceptorStatus(), HER2Status()))
    variants = _step(ctx, "genomics", lambda: build_variants(ctx), list)
    therapy = _step(ctx, "therapy", lambda: build_therapy(ctx, disease),
                    lambda: TherapyHistory(as_of=as_of))
    # a visceral crisis treated by a later line is history, not the current state (CR C.1, C.2)
    _step(ctx, "visceral crisis", lambda: visceral_crisis_currency(disease, therapy, as_of), _nothing)
    factors = _step(ctx, "patient factors", lambda: build_factors(ctx, therapy), PatientFactors)
    # a result that is not final (FHIR preliminary / registered / unknown) decides nothing until it is
    biomarkers = Biomarkers(results=[v for v in variants if v.status_not_final is None],
                            not_final=[v for v in variants if v.status_not_final is not None])
    _step(ctx, "currency", lambda: _esr1_currency(ctx, biomarkers, therapy), _nothing)
    _step(ctx, "gaps", lambda: _gaps(ctx, disease, er, pr, her2, biomarkers, factors), _nothing)
    if cut_texts:
        _step(ctx, "long texts", lambda: _note_cut_texts(ctx, cut_texts), _nothing)

    counts = dict(counts)
    if type(pid) is str and type(as_of) is dt.date and all(type(k) is str for k in counts):
        # every part is already a model of the right type: what validation would build
        return construct(PatientState, {
            "patient_id": pid, "as_of": as_of, "disease": disease, "er": er, "pr": pr, "her2": her2,
            "biomarkers": biomarkers, "therapy": therapy, "factors": factors, "gaps": list(ctx.gaps),
            "resource_counts": counts, "ignored": list(ctx.ignored),
        })
    return PatientState(
        patient_id=pid,
        as_of=as_of,
        disease=disease,
        er=er,
        pr=pr,
        her2=her2,
        biomarkers=biomarkers,
        therapy=therapy,
        factors=factors,
        gaps=ctx.gaps,
        resource_counts=counts,
        ignored=ctx.ignored,
    )


def _note_cut_texts(ctx: Ctx, cut_texts: list[str]) -> None:
    """Gap text-read-in-part naming the records whose texts the readers cut at TEXT_READ_LIMIT
    (fhir.bounded). Looked for only when a text was cut: no cost for the usual request."""
    cut = set(cut_texts)
    found: dict[str, int] = {}  # record reference -> its longest text cut

    def walk(value: Any, ref: str, depth: int) -> None:
        if type(value) is str:
            if len(value) > TEXT_READ_LIMIT and value in cut:
                found[ref] = max(found.get(ref, 0), len(value))
        elif depth < 12 and type(value) is dict:
            for v in value.values():
                walk(v, ref, depth + 1)
        elif depth < 12 and type(value) is list:
            for v in value:
                walk(v, ref, depth + 1)

    for resources in ctx.by_type.values():
        for r in resources:
            walk(r, ctx.ref(r), 0)
    named = "; ".join(f"{ref} ({n:,} characters)" for ref, n in found.items()) or \
        f"{counted(len(cut), 'text')} ({max(map(len, cut_texts)):,} characters at most)"
    ctx.gap("text-read-in-part",
            f"Text longer than {TEXT_READ_LIMIT:,} characters read only to its first {TEXT_READ_LIMIT:,}: {named}. "
            "What follows is not read: check the record",
            [ctx.source(r) for t in ctx.by_type.values() for r in t if ctx.ref(r) in found])


def _note_miscased_clinical_status(ctx: Ctx) -> None:
    """A Condition whose clinicalStatus is a condition-clinical code in another case ("Resolved")
    is read as having no clinical status (FHIR R4: the code system is case-sensitive; the
    Condition stands as written). Not guessed either way, but said: listed as ignored
    (unreadable-resource), the Condition itself still read."""
    for res in ctx.of("Condition"):
        code = clinical_status_miscased(res)
        if code is not None:
            ctx.ignore(res, "unreadable-resource",
                       f"{ctx.ref(res)} clinicalStatus {code!r} is not a condition-clinical code (codes are "
                       "case-sensitive): read as no clinical status")


def _note_missing_observation_status(ctx: Ctx) -> None:
    """An Observation without a status is invalid (FHIR R4 Observation.status is 1..1): every
    reader reads it as final (fhir.not_final_status: senders omit it on final results, and
    reading it as not final would hold back results that are final). Neither reading is
    clearly safer, so the record's omission is said, not settled: gap observation-status-missing
    names them, and the clinician can check that they are final. Only the Observations a reader
    may read are named: one coded (LOINC or SNOMED CT) outside every code a reader looks up (a
    vital sign, a BMI, a smoking status) decides nothing, so its missing status is noise, unless
    its words name a gene test (read by text whatever its code); one with only a local code or
    text may be read by a text reader, so it is still named."""
    missing = [res for res in ctx.of("Observation")
               if type(res.get("status")) is not str and _read_by_a_reader(ctx, res)]
    if not missing:
        return
    ctx.gap("observation-status-missing",
            f"{counted(len(missing), 'Observation')} without a status (required in FHIR R4), read as final though "
            f"the record does not say {'it is' if len(missing) == 1 else 'they are'}"
            + (" (the first 5 cited)" if len(missing) > 5 else ""),
            [ctx.source(res) for res in missing[:5]])


# every Observation code a reader looks up (ctx.observations_with / components_with callers):
# receptors (markers), genomics, ECOG, HbA1c / fasting glucose, QTc, menopause question,
# disease status, stage group and M category (mappings/codes.yaml, each entry with its source)
_READ_OBSERVATION_CODES = (
    frozenset(T.TUMOR_MARKERS) | T.VARIANT_CODES | T.REGION_STUDIED_CODES | frozenset(T.LEGACY_GENE_CODES)
    | T.ECOG_CODES | T.HBA1C_CODES | T.FPG_CODES | T.QTC_CODES | T.MENO_QUESTION_CODES
    | T.DISEASE_STATUS_CODES | frozenset(T.STAGE_GROUP_CODES) | frozenset(T.M_CATEGORY_CODES)
)
_STANDARD_CODE_SYSTEMS = frozenset({T.LOINC, T.SNOMED})


def _read_by_a_reader(ctx: Ctx, res: dict[str, Any]) -> bool:
    """True unless every coding is a LOINC / SNOMED CT code no reader looks up (then the
    Observation decides nothing; a local code or text alone may still be read by text)."""
    codings = ctx.code_of(res)
    if not codings or any(system not in _STANDARD_CODE_SYSTEMS or code in _READ_OBSERVATION_CODES
                          for system, code, _ in codings):
        return True
    if names_gene_test(ctx.code_text(res)):
        return True  # the genomics text reader reads a code whose words name a gene test, any system
    # a component read by code (an ECG panel sending QTc as a component): the index the lab
    # readers use (ctx.components_with, built once per call)
    return any(obs is res for obs, _ in ctx.components_with(_READ_OBSERVATION_CODES))


def _esr1_currency(ctx: Ctx, bm: Biomarkers, therapy: TherapyHistory) -> None:
    esr1 = bm.for_gene("ESR1")
    if not esr1:
        return
    # the date the result must follow: one definition (TherapyHistory.esr1_reference, CR
    # C.3 row 18), which the card texts that explain this decision also show
    ref = therapy.esr1_reference()
    # the results whose date says when the specimen was taken: not one on archival or
    # primary-tumour tissue without a collection date (its date is the test's, C.3 row 18)
    dated = [r for r in esr1 if r.date is not None and not r.archival_without_collection_date]
    archival = any(r.archival_without_collection_date for r in esr1)
    if ref is None:
        # Nothing to be stale against, but an undated result cannot be shown to
        # reflect the disease now: unknown, said as a gap, never assumed current.
        if dated:
            bm.esr1_current = True
        else:
            bm.esr1_current = None
            ctx.gap(
                "esr1-undated",
                (_ARCHIVAL_ESR1 if archival else "The ESR1 result has no date")
                + ": whether it reflects the disease after the latest endocrine therapy cannot be checked.",
                [s for r in esr1 for s in r.sources],
            )
        return
    # a reference written without a day ("2025") is any day of it: a result current only
    # if it follows the last (C.3 row 18; DESIGN: ambiguous data are not read the hopeful way)
    current = [r for r in dated if esr1_result_current(r, ref)]
    bm.esr1_current = bool(current)
    if current and not any(r.actionable for r in current):
        # the current results decide (C.3 row 18): an older detection is not current, and
        # a later negative must not leave it reading as current (it would then count as
        # a current ESR1 mutation, stronger than the older detection alone)
        _supersede_stale_esr1(ctx, [r for r in esr1 if not any(r is c for c in current)], current, ref)
    if not bm.esr1_current:
        # the latest result's date as its own line writes it: a day and month in either order
        # ("12/03/2024") is "between 2024-03-12 and 2024-12-03", not its earlier reading alone;
        # a month or year is no day. The latest is the one that may be latest: of its last possible
        # day ("10/04/2025" may be October 4, after a 2025-05-01 result; "2025-05" may be 25 May):
        # not a day's result said to "predate" while one on record may follow (CR C.3 row 18)
        latest = max(dated, key=lambda r: (r.date_last or r.date, r.date), default=None)
        after = f" {ref.event} {ref.when_text}" + (f" ({ref.range_why})" if ref.date_last is not None else "")
        why = []
        if latest is not None:
            # ... and a span reaching the reference date ("2025-05", or 10 April / October 4 2025,
            # beside a 2025-05-20 progression) may be before or after it: not "predates"
            reaches = latest.date_last is not None and latest.date_last >= ref.date
            why.append(f"The latest ESR1 result ({date_written(latest.date, latest.date_last)}) "  # type: ignore[arg-type]
                       + ("cannot be shown to follow" if reaches else _predates(ref, latest.date))  # type: ignore[arg-type]
                       + after)
        if archival:
            why.append(f"{_ARCHIVAL_ESR1}, so it cannot be shown to follow{after}")
        if not why:
            why.append(f"The ESR1 result is undated, so it cannot be shown to follow{after}")
        ctx.gap("esr1-stale", "; ".join([why[0]] + [w[:1].lower() + w[1:] for w in why[1:]])
                + ": re-test ESR1 (ctDNA preferred).", [s for r in esr1 for s in r.sources] + ref.sources)


# an ESR1 result on a specimen the mapping reads as archival / primary tumour without a
# collection date (VariantResult.archival_without_collection_date; CR C.3 row 18: archival
# primary tissue is inappropriate for ESR1 testing, which looks for mutations that emerge
# under endocrine therapy)
_ARCHIVAL_ESR1 = f"The ESR1 result is on {ARCHIVAL_TISSUE} ({ARCHIVAL_ESR1_WHY})"


def _predates(ref: EndocrineEvent, result_date: dt.date) -> str:
    """"predates", or "cannot be shown to follow" for a result inside the range of a
    reference written without a day ("2025"): it may have come before or after it."""
    return "cannot be shown to follow" if ref.date_last is not None and result_date >= ref.date else "predates"


def _supersede_stale_esr1(ctx: Ctx, stale: list[VariantResult], current: list[VariantResult],
                          ref: EndocrineEvent) -> None:
    """Marks the stale actionable ESR1 detections superseded by the current results (none of
    them actionable) and says what happened in a gap, which the summary card shows."""
    detections = [r for r in stale if r.actionable]
    if not detections:
        return
    latest = max(current, key=lambda r: r.date or dt.date.min)  # every current result is dated
    for r in detections:
        r.superseded_on = latest.date
    after = f"{ref.event} {ref.when_text}"
    earlier = "; ".join(
        f"ESR1 {r.protein_change or r.dna_change or 'variant'} detected on {ARCHIVAL_TISSUE} "
        f"(not shown to follow {after})"
        if r.archival_without_collection_date else
        f"ESR1 {r.protein_change or r.dna_change or 'variant'} detected on {r.date.isoformat()}, before {after}"
        if r.date else
        f"ESR1 {r.protein_change or r.dna_change or 'variant'} detected without a date (not shown to follow {after})"
        for r in detections)
    now = ("not detected" if all(r.result == "not-detected" for r in current)
           else "no actionable variant found")
    ctx.gap(
        "esr1-not-current-detection",
        f"{earlier}; ESR1 {now} on the current sample ({latest.date.isoformat()}). The current result "
        f"decides (C.3 row 18): ESR1 reads as {now}, and the earlier detection selects no ESR1-directed drug.",
        [s for r in detections for s in r.sources] + [s for r in current for s in r.sources] + ref.sources,
    )


def _marker_not_final_text(results: list[MarkerNotFinal]) -> str:
    """The ER / PR / HER2 results not final yet in words, for the gap and the cards: what each
    says, its date and status, and that the final report decides (an "unknown" status may be
    final already: ask the laboratory)."""
    named = "; ".join(r.named for r in results)
    ask = (" Ask the laboratory whether the result of status unknown is final."
           if any(r.status == "unknown" for r in results) else "")
    return (f"{named}: not final, so not read (FHIR R4 Observation.status); the final pathology report "
            f"decides.{ask}")


def _result_words(r: VariantResult) -> str:
    """"p.His1047Arg detected", "variant detected", "not detected"."""
    if r.result == "not-detected":
        return "not detected"
    return f"{r.protein_change or r.dna_change or 'variant'} detected"


def _on(date: dt.date | None, last: dt.date | None) -> str:
    """' (2024-01-15)' as a result's date is written; '' without a date."""
    return f" ({date_written(date, last)})" if date else ""


# the LOINC codes of a HER2 test (mappings/codes.yaml tumor_markers, marker her2; CR A.1)
_HER2_TEST_CODES = frozenset(code for code, (marker, _) in T.TUMOR_MARKERS.items() if marker == "her2")


def _her2_test_recorded(ctx: Ctx) -> bool:
    """Whether an Observation read (not skipped as entered in error / cancelled / another
    patient's), or one of its components, is a HER2 test with no dataAbsentReason (a test not
    performed records no result: FHIR R4 Observation.dataAbsentReason), as mappings/markers.py
    finds them: by LOINC code."""
    for obs in ctx.by_type.get("Observation", ()):
        units = [obs] + [c for c in as_list(obs.get("component")) if isinstance(c, dict)]
        if any(absent_reason(u) is None and any(code in _HER2_TEST_CODES and is_loinc(system)
                                                 for system, code, _ in codings(u.get("code")))
               for u in units):
            return True
    return False


def _gaps(ctx: Ctx, d: Disease, er: ReceptorStatus, pr: ReceptorStatus, her2: HER2Status,
          bm: Biomarkers, f: PatientFactors) -> None:
    if d.breast_cancer != "yes":
        ctx.gap("breast-cancer-not-documented", "No primary breast cancer diagnosis was found.")
    if d.metastatic == "unknown" and (ctx.has_gap("metastatic-status-conflict") or ctx.has_gap("metastasis-unconfirmed")):
        # one was found but not counted (dated before the diagnosis, a suspicion...): "none was
        # found" beside the gap that names it would contradict it
        ctx.gap("metastatic-status-unknown",
                "No metastatic site, M1 category or stage IV was counted (the gaps above say what was "
                "found and why not): metastatic status unknown.")
    elif d.metastatic == "unknown":
        ctx.gap("metastatic-status-unknown",
                "No metastatic site, M1 category or stage IV was found: metastatic status unknown.")
    elif d.metastatic == "yes" and d.metastatic_date is None:
        ctx.gap("metastatic-date-unknown", "Metastatic disease is documented without a date.",
                d.metastatic_sources)
    for name, rs in (("er", er), ("pr", pr)):
        label = name.upper()
        if rs.status == "unknown":
            ctx.gap(f"{name}-unknown", f"No readable {label} result.", rs.sources)
        if rs.conflict:
            ctx.gap(f"{name}-conflict",
                    f"{label} results disagree; the most recent is used" +
                    (" but it is itself contradictory." if rs.status == "unknown" else "."),
                    rs.sources)
    if er.low_positive:
        ctx.gap("er-low", "ER-low (1-10 %): benefit of endocrine therapy is uncertain.", er.sources)
    if er.status == "negative" and pr.status == "positive":
        # CR C.2 step 0 reads HR+ as ER or PR >= 1 %, so PR alone keeps the patient in the pathway;
        # ASCO/CAP 2020 ER/PgR (cards/knowledge/regimens.yaml source asco-cap-er-2020; not in CR,
        # Part F #20) uses PgR "primarily for prognostic purposes in the setting of an ER-positive
        # cancer" and asks that unusual / discordant results be worked up: said, never silent
        ctx.gap("er-negative-pr-positive",
                f"ER-negative{_on(er.date, er.date_last)} with PR positive{_on(pr.date, pr.date_last)}: "
                "an uncommon result. Read as HR-positive (C.2 step 0: ER or PR >= 1 %); ASCO/CAP 2020 uses PR mainly "
                "for prognosis in ER-positive cancer and asks that unusual results be worked up, and the service's "
                "reference does not say how well endocrine therapy works here: ask pathology to confirm ER "
                "(re-test, metastatic tissue when feasible).", er.sources + pr.sources)
    cat = her2.category
    others = (f" Other result{'' if len(her2.conflict_with) == 1 else 's'}: {'; '.join(her2.conflict_with)}."
              if her2.conflict_with else "")
    if cat == "unknown" and her2.conflict:
        # said once: no her2-conflict beside it ("the most recent assessment is used" is untrue
        # when HER2 is read as unknown: CR C.2 step 0, HER2 discordant -> testing card only)
        named = ctx.has_gap("her2-ihc-ish-discordant") or ctx.has_gap("her2-ish-discordant")
        ctx.gap("her2-unknown", ("HER2 results disagree (named above): HER2 status unknown, testing only (CR C.2 step 0)."
                                 if named else
                                 "HER2 results disagree and the most recent assessment does not settle it "
                                 "(e.g. an overall interpretation against the IHC score): HER2 status unknown.")
                + others, her2.sources)
    elif cat == "unknown":
        # with no HER2 record at all there is no "result" to describe: said as missing (au5: the
        # gap spoke of an unreadable result while the card said "HER2: no result read"); a HER2
        # record with no value, or not final yet (receptor-result-not-final names it), is a result
        # recorded and not read, never "no HER2 result recorded"
        ctx.gap("her2-unknown",
                "HER2 result without an IHC score, ISH or interpretation that can be read"
                " (e.g. antigen 'Present'): HER2 status unknown." if her2.sources else
                "HER2 result without an IHC score, ISH or interpretation that can be read: HER2 status "
                "unknown (testing, CR C.2 step 0)." if her2.not_final or _her2_test_recorded(ctx) else
                # a HER2 test coded only by text is a result recorded, not read (gap her2-test-uncoded)
                "HER2 result recorded without a LOINC code (named above): HER2 status unknown (testing, CR "
                "C.2 step 0)." if ctx.has_gap("her2-test-uncoded") else
                "No HER2 result recorded: HER2 status unknown (testing, CR C.2 step 0).",
                her2.sources)
    elif cat == "negative-unspecified":
        ctx.gap("her2-score-missing",
                (f"HER2 text names more than one IHC score ('{her2.scores_text[:80]}') without saying which is "
                 "the result" if her2.scores_text else "HER2 reported negative without an IHC score")
                + ": HER2-0, -ultralow and -low cannot be told apart.", her2.sources)
    elif cat == "zero-unspecified":
        ctx.gap("her2-zero-unspecified",
                "HER2 IHC 0 without ultralow/null sub-class: ask pathology (membrane staining?).",
                her2.sources)
    elif cat == "equivocal-pending":
        ctx.gap("her2-equivocal-pending",
                "HER2 IHC 2+ with an ISH ratio that does not decide it (see HER2 ISH above)."
                if ctx.has_gap("her2-ish-unclear") else
                "HER2 IHC 2+ with an ISH reported 'equivocal' (see HER2 ISH above)."
                if ctx.has_gap("her2-ish-equivocal") else "HER2 IHC 2+ without ISH result.", her2.sources)
    if her2.conflict and cat != "unknown":  # unknown: her2-unknown above says it
        ctx.gap("her2-conflict", "HER2 results disagree; the most recent assessment is used." + others,
                her2.sources)
    marker_pending = er.not_final + pr.not_final + her2.not_final
    if marker_pending:
        ctx.gap("receptor-result-not-final", _marker_not_final_text(marker_pending), [
            s for r in marker_pending for s in r.sources])
    pending = {r.gene for r in bm.not_final}  # genes with a result that is not final yet
    if bm.not_final:
        ctx.gap("genomic-result-not-final",
                "; ".join(f"{r.gene} {_result_words(r)} ("
                          + (f"{date_written(r.date, r.date_last)}, " if r.date else "") + f"status {r.status_not_final})"
                          for r in bm.not_final)
                + ": not final, so read as no result until the final report (FHIR Observation.status).",
                [s for r in bm.not_final for s in r.sources])
    if bm.status("ESR1") == "not-tested":
        ctx.gap("esr1-not-tested", f"No {'final ' if 'ESR1' in pending else ''}ESR1 result "
                                   "(test at progression on endocrine therapy, ctDNA preferred).")
    pik = bm.status("PIK3CA")
    if pik == "not-tested":
        ctx.gap("pik3ca-not-tested", f"No {'final ' if 'PIK3CA' in pending else ''}PIK3CA result.")
    elif pik == "not-detected-ctdna-only":
        ctx.gap("pik3ca-ctdna-negative-only",
                "PIK3CA not detected in plasma only: test tumour tissue (ctDNA negative is not wild-type).",
                [s for r in bm.for_gene("PIK3CA") for s in r.sources])
    if bm.status("AKT1") == "not-tested" and bm.status("PTEN") == "not-tested":
        ctx.gap("akt1-pten-not-tested", f"No {'final ' if pending & {'AKT1', 'PTEN'} else ''}AKT1 or PTEN result.")
    unclear = [r for r in bm.for_gene("PTEN") if r.result == "detected" and r.alteration_unclear]
    if unclear and bm.status("PTEN") != "detected":
        ctx.gap("pten-alteration-unclear",
                "; ".join(f"PTEN {'fusion' if r.alteration == 'fusion' else 'copy-number change'} detected"
                          + (f" ({r.date.isoformat()})" if r.date else "") for r in unclear)
                + ": the report does not say whether it inactivates PTEN (capivasertib needs PTEN "
                  "inactivation, C.1 ASCO 2024; a loss is one, a gain is not): not read as either; "
                  "check the report.",
                [s for r in unclear for s in r.sources])
    brca = bm.for_gene("BRCA1") + bm.for_gene("BRCA2")
    if not any(r.origin == "germline" for r in brca):
        ctx.gap("brca-germline-not-tested",
                "No germline BRCA1/2 result" + (" (tumour-only BRCA results do not establish germline status)."
                                                if brca else "."),
                [s for r in brca for s in r.sources])
    if f.ecog is None:
        ctx.gap("ecog-unknown", "No ECOG performance status.")
    if f.diabetes.hba1c is None:
        _lab_missing_gap(ctx, "hba1c-missing", "HbA1c", "HbA1c", "4548-4", T.HBA1C_CODES)
    else:
        _later_lab_not_read_gap(ctx, "hba1c-latest-not-read", f.diabetes.hba1c, "HbA1c", "HbA1c", T.HBA1C_CODES)
    if f.diabetes.fasting_glucose is None:
        _lab_missing_gap(ctx, "fasting-glucose-missing", "Fasting glucose", "fasting glucose", "1558-6", T.FPG_CODES)
    else:
        _later_lab_not_read_gap(ctx, "fasting-glucose-latest-not-read", f.diabetes.fasting_glucose,
                                "Fasting glucose", "fasting glucose", T.FPG_CODES)


def _later_lab_not_read_gap(ctx: Ctx, code: str, used: Any, label: str, words: str, codes: frozenset[str]) -> None:
    """A gap when results of a lab newer than the one read were sent but not read (a unitless 22,
    an implausible value, a dataAbsentReason: listed as ignored by its reader): the older result
    is used, and without the gap nothing said the latest was skipped (rt83; the HbA1c > 8.0 %
    capivasertib caution and the diabetes control read from a value the chart has replaced)."""
    unread = _labs_sent_not_read(ctx, label)
    if not unread or used.date is None:
        return
    dated = {ctx.ref(o): obs_date(o) for o in ctx.observations_with(codes)}
    later = [(why, s) for why, s in unread if (dated.get(s.reference) or dt.date.min) > used.date]
    if later:
        ctx.gap(code, f"A newer {words} result than the one read was sent but not read: "
                + _first_three([f"{why} ({s.reference}, {dated[s.reference].isoformat()})" for why, s in later])
                + f" The {words} of {used.date.isoformat()} is used.", [s for _, s in later])


def _lab_missing_gap(ctx: Ctx, code: str, label: str, words: str, loinc: str, codes: frozenset[str]) -> None:
    """The gap for a lab with no result read: "No <words> result.", or "No readable ..." with the
    results sent under its code but not read (its reader's `label`), and the Observations naming
    it without its LOINC code."""
    named = _lab_named_not_coded(ctx, loinc, codes)
    unread = _labs_sent_not_read(ctx, label)
    ctx.gap(code, f"No {'readable ' if unread else ''}{words} result."
            + _unread_text(unread) + _named_not_coded_text(named, words, codes),
            [s for _, s in unread] + [s for _, s in named])


def _labs_sent_not_read(ctx: Ctx, label: str) -> list[tuple[str, Any]]:
    """(why, source) of the results of a lab (factors._latest_lab's `label`) its reader listed as
    ignored: sent under the test's code but not read (no unit where one decides, implausible in
    its unit, a dataAbsentReason). Without them the gap said "No HbA1c result." beside an HbA1c
    sent as a unitless 8.5 under the IFCC code (rt79): the clinician was told there was none."""
    return [(g.message, g.sources[0]) for g in ctx.ignored
            if g.sources and g.message.startswith((f"{label} ", f"{label}:"))]


def _unread_text(unread: list[tuple[str, Any]]) -> str:
    if not unread:
        return ""
    return (f" {counted(len(unread), 'result')} sent but not read: "
            + _first_three([f"{why} ({s.reference})" for why, s in unread]))


def _first_three(listed: list[str]) -> str:
    """The first three of a gap's records, "; and N more" for more (was "; ...", which ran
    into the full stop as "; ...."; rt83), and where to look."""
    return "; ".join(listed[:3]) + (f"; and {len(listed) - 3} more" if len(listed) > 3 else "") + ". Check the value there."


def _lab_named_not_coded(ctx: Ctx, loinc: str, codes: frozenset[str]) -> list[tuple[str, Any]]:
    """Observations whose code names the test in words (local_codes.yaml drafted_test_names
    loinc_by_name: "HbA1c", "Fasting glucose") but carries none of its LOINC codes: a result is
    read by its code only (factors._latest_lab), so it was not read; the gap names it, so "No
    HbA1c result" does not stand unexplained beside one (FHIR R4 Observation.code)."""
    pattern = next((rx for code, rx in T.DRAFTED_TEST_LOINC if code == loinc), None)
    if pattern is None:
        return []
    found = []
    for obs in ctx.of("Observation"):
        cc = obs.get("code")
        if any(code in codes for _, code, _ in codings(cc)):
            continue  # coded: read (or ignored with its reason) by the lab reader
        written = cc_as_written(cc)
        if written and pattern.search(written):
            found.append((printable_clip(" ".join(written.split()), 60), ctx.source(obs, obs_date(obs))))
    return found


def _named_not_coded_text(named: list[tuple[str, Any]], label: str, codes: frozenset[str]) -> str:
    if not named:
        return ""
    return (f" {counted(len(named), 'Observation')} named {label} without its LOINC code ({', '.join(sorted(codes))}) "
            f"{'was' if len(named) == 1 else 'were'} not read: " + _first_three([f'"{w}" ({s.reference})' for w, s in named]))


# --- draft orders ---------------------------------------------------------------------------


def read_draft_orders(bundle: Any, patient_id: str | None = None) -> list[DraftOrder]:
    """The drafted orders of context.draftOrders. A draft with doNotPerform = true or a
    closed status (_CLOSED_REQUEST_STATUSES), and with patient_id (context.patientId) a
    draft whose subject names another patient, is marked `not_checked`."""
    try:
        return _read_draft_orders(bundle, patient_id)
    except Exception:  # noqa: BLE001 - never raise
        return []


def _read_draft_orders(bundle: Any, patient_id: str | None = None) -> list[DraftOrder]:
    if not isinstance(bundle, dict):
        return []
    if bundle.get("resourceType") == "Bundle" or "entry" in bundle:
        # (service/schemas.py refuses entries without a resource object: none is dropped here)
        entries = [
            (e.get("fullUrl"), e["resource"]) for e in as_list(bundle.get("entry"))
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
    else:
        entries = [(None, bundle)]
    index = bundle_index(entries)
    orders = []
    for full_url, r in entries:
        rtype = r.get("resourceType")
        if not isinstance(rtype, str) or rtype == "Medication":
            continue
        # (lt2) the draft's texts cut at TEXT_READ_LIMIT, noted as build_patient_state notes a
        # record's (drafts are read outside it): the order cards name the draft read in part
        cut: list[str] = []
        token = _CUT_TEXTS.set(cut)
        try:
            order = _read_draft_order(r, rtype, index, patient_id, full_url)
        except Exception:  # noqa: BLE001
            order = DraftOrder(resource_type=rtype, unreadable="the order could not be read")
        finally:
            _CUT_TEXTS.reset(token)
        if cut:
            order.text_read_in_part = max(map(len, cut))
        orders.append(order)
    return orders


_MEDICATION_REQUEST_TYPES = ("MedicationRequest", "MedicationStatement", "MedicationAdministration",
                             "MedicationDispense")


def _read_draft_order(r: dict, rtype: str, index: dict, patient_id: str | None, full_url: Any) -> DraftOrder:
    ref = r.get("medicationReference")
    if isinstance(ref, dict) and isinstance(ref.get("display"), str) and len(ref["display"]) > TEXT_READ_LIMIT:
        # (sv4) its medicationReference display read through fhir.bounded as every other text of
        # the draft (the medication readers take a Reference.display as it is: a 100 kB one was
        # read whole), and so named read in part (DraftOrder.text_read_in_part)
        r = {**r, "medicationReference": {**ref, "display": bounded(ref["display"])}}
    rid = draft_entry_id(full_url, r)
    not_checked = None
    prohibits = False
    other_patient = False
    prohibition = do_not_perform(r.get("doNotPerform"))
    if patient_id is not None and _other_patient(r, patient_id):
        not_checked = "its subject is another patient than the patient in context"
        other_patient = _closed_status(r.get("status")) is None  # a cancelled one orders nothing
    elif prohibition is True:  # FHIR R4: the request prohibits the drug
        prohibits = _closed_status(r.get("status")) is None  # a cancelled prohibition prohibits nothing
        not_checked = "doNotPerform: it prohibits the drug, it does not order it"
    elif (status := _closed_status(r.get("status"))) is not None:
        not_checked = f"its status is {status}: it no longer orders anything"
    drugs = []
    text = None
    unreadable = None
    prohibition_unclear = False
    partner = None
    loinc: list[str] = []
    genes: list[str] = []
    origin, archival = None, False
    if rtype in _MEDICATION_REQUEST_TYPES:
        infos, text = resolve_medication(None, r, index)
        unreadable = medication_conflict(r, index) if infos else _unread_drug(r, index)
        if infos and not unreadable:
            # its text read as the therapy history reads a record's (refusals, premedication,
            # a later endocrine class: which drug it orders is not clear, so it is not checked)
            cc = r.get("medicationCodeableConcept")
            infos, unreadable = drafted_drugs(infos, text, cc_as_written(cc) if isinstance(cc, dict) else text)
        elif not infos and not unreadable and text:
            unreadable = drug_named_not_ordered(text)  # "Planned fulvestrant": not passed over in silence
        drugs = [to_drug(i) for i in infos]
        prohibition_unclear = prohibition is None and not_checked is None and not unreadable
        if prohibition_unclear:
            # neither true nor false: whether it orders or prohibits the drug is unknown, so it is
            # not checked as an order, and the cards say so (never read as "give")
            unreadable = _do_not_perform_unclear(r, "drug")
        if unreadable:
            drugs = []  # which drug is ordered is not known: not checked, and the cards say so
        elif drugs and text:
            # "Palbociclib + AI": the AI is drafted but not named (as the therapy history reads it)
            partner = class_beside_drug_classes(text.lower())
    else:
        cc = r.get("code")
        if isinstance(cc, dict):
            text = bounded(cc["text"]) if isinstance(cc.get("text"), str) else next(
                (d for _, _, d in codings(cc) if d), None)
            loinc, genes, origin, archival = _test_ordered(cc)
        if (loinc or genes) and prohibition is None and not_checked is None:
            # ServiceRequest.doNotPerform (FHIR R4, boolean) neither true nor false: whether the
            # test is ordered or prohibited is unknown, so it is not read as a drafted test (the
            # cards would neither suggest it nor name a repeat of it) and the cards say so, as for
            # a drafted drug (above)
            prohibition_unclear = True
            unreadable = _do_not_perform_unclear(r, "test")
            loinc, genes, origin, archival = [], [], None, False
    prior = ref_str(r.get("priorPrescription")) if rtype == "MedicationRequest" else None
    reason, stated = _stated_reason(r) if rtype == "MedicationRequest" and drugs else (None, None)
    prior_key = ref_type_and_id(prior) if prior else None
    return DraftOrder(
        resource_type=rtype,
        resource_id=rid,
        prior_prescription="/".join(prior_key) if prior_key else None,
        reference=f"{rtype}/{rid}" if rid else None,
        drugs=drugs,
        text=text or None,
        status=status_code(r.get("status")) or None,
        intent=status_code(r.get("intent")) or None,
        not_checked=not_checked,
        other_patient=other_patient,
        prohibits=prohibits,
        unreadable=unreadable,
        prohibition_unclear=prohibition_unclear,
        unnamed_partner=partner[0] if partner else None,
        unnamed_partner_classes=sorted(partner[1]) if partner else [],
        full_url=full_url if isinstance(full_url, str) and full_url else None,
        stated_progression=stated if reason == "progression" else None,
        stated_other_reason=stated if reason == "other" else None,
        loinc=loinc,
        genes=genes,
        origin=origin,
        archival=archival,
    )


# The elements where a drafted MedicationRequest says why it is ordered (FHIR R4
# MedicationRequest.reasonCode: "reason or indication for ordering"; .reasonReference: the
# "condition or observation that supports why the prescription is being written", read by its
# display, Reference.display "text alternative for the resource", as the therapy history reads a
# record's (mappings/disease.py, factors.py), or without one, when it names a Condition /
# Observation the draft contains ('#c1': FHIR R4 Resource.contained, Reference.reference), by that
# resource's code (CodeableConcept text / coding display / code; an Observation's by its value when
# it has one); one refuted, entered in error or cancelled states nothing; a reference to a resource
# elsewhere without a display stays unread (no fetch on the order path); .note; .statusReason), in
# the order a card quotes the first that states a progression
_DRAFT_REASON_ELEMENTS = ("reasonCode", "reasonReference", "note", "statusReason")
_CONTAINED_REASON_TYPES = ("Condition", "Observation")  # MedicationRequest.reasonReference targets (FHIR R4)


def _reason_concept(r: dict, element: str, item: dict) -> Any:
    """The CodeableConcept an item of a reason element says its reason with: the item itself
    (reasonCode, statusReason, a note: Annotation.text), a reasonReference's display as a text, or,
    with no display, the code of the Condition (the value of the Observation) it names among the
    draft's contained resources; None for a reference to anything else or to a contained resource
    refuted, entered in error or cancelled."""
    if element != "reasonReference":
        return item
    target = item.get("reference")
    found = contained_resource(r, target) if isinstance(target, str) and target.startswith("#") else None
    if (isinstance(found, dict) and isinstance(found.get("resourceType"), str)
            and _status_skip(found) is not None):
        # a contained reason refuted, entered in error or (an Observation) cancelled states
        # nothing, whatever the reference's display says of it: the record reading skips such a
        # resource too (_status_skip; FHIR R4 condition-ver-status, ObservationStatus)
        return None
    answer = valued = None
    if isinstance(found, dict) and found.get("resourceType") == "Observation":
        answer = _yes_no_answer(found)
        if answer is False:
            # a contained Observation answering no to the question its code asks ('Disease
            # progression': false / No) states nothing, whatever the reference's display names it
            # (FHIR R4 Observation.value[x]; Reference.display only a text alternative for the resource)
            return None
        valued = any(k.startswith("value") for k in found)
        if found.get("dataAbsentReason") is not None and not valued:
            # ... nor does one whose value is missing (FHIR R4 Observation.dataAbsentReason: why the
            # expected value is missing, 'unknown', 'not-performed'): its code is a question left
            # unanswered, not the finding (rt70: 'Disease progression' so sent read as a progression stated)
            return None
        if (answer or not valued) and _interpreted_negative(found):
            # ... nor one whose code would be read as stated (answered yes, or the finding itself with
            # no value) while its interpretation says negative / normal / not detected (FHIR R4
            # Observation.interpretation; rt70: 'Disease progression' interpreted 'Negative' read as a
            # progression stated): the two disagree, no progression is stated
            return None
    display = item.get("display")
    if isinstance(display, str) and display.strip():
        return {"text": display}
    if not found or found.get("resourceType") not in _CONTAINED_REASON_TYPES:
        return None
    if found["resourceType"] == "Observation":
        # what was found, not what was observed (FHIR R4 Observation.value[x] / Observation.code:
        # a disease status coded 'Disease status' valued 'Progressive disease'; one coded
        # 'Disease progression assessment' valued 'No progression'); the code alone when there is
        # no value (an observation whose code is the finding)
        if answer:
            # a yes answer to the question its code asks ('Disease progression': true / Yes):
            # it states what the code names (FHIR R4 Observation.value[x])
            return _question_answered(found["code"]) if isinstance(found.get("code"), dict) else None
        value = found.get("valueCodeableConcept")
        if isinstance(value, dict):
            return value
        if isinstance(found.get("valueString"), str):
            return {"text": found["valueString"]}
        if valued:
            return None  # valueBoolean false, a quantity ...: the code alone would misstate it
    return found["code"] if isinstance(found.get("code"), dict) else None


# FHIR R4 Observation.interpretation codes (terminology.hl7.org CodeSystem
# v3-ObservationInterpretation) and words saying the finding is absent or normal: NEG Negative,
# N Normal, ND Not detected
_NEGATIVE_INTERPRETATION_CODES = frozenset({"NEG", "N", "ND"})
_NEGATIVE_INTERPRETATION_WORDS = frozenset({"negative", "normal", "not detected", "absent"})


def _answer_word(words: str) -> str:
    """An interpretation's or an answer's words as compared with the word lists below: trimmed,
    a final full stop dropped, lower case ('Negative.' -> 'negative')."""
    return words.strip().rstrip(".").lower()


def _interpreted_negative(obs: dict) -> bool:
    """The Observation's interpretation says negative / normal / not detected."""
    for cc in as_list(obs.get("interpretation")):
        if not isinstance(cc, dict):
            continue
        if any(code in _NEGATIVE_INTERPRETATION_CODES for system, code, _ in codings(cc)
               if "observationinterpretation" in system.lower()):
            return True
        words = [cc.get("text")] + [d for _, _, d in codings(cc)]
        if any(isinstance(w, str) and _answer_word(bounded(w)) in _NEGATIVE_INTERPRETATION_WORDS for w in words):
            return True
    return False


def _question_answered(code: dict) -> dict:
    """An Observation's code answered yes, its text and displays without the question mark that
    writes them as the question ('Disease progression?': rt70, read as a progression only
    suspected, none stated): what the yes answer states."""
    def said(words: Any) -> Any:
        return words.rstrip().rstrip("?").rstrip() if isinstance(words, str) and words.rstrip().endswith("?") else words
    out = dict(code, text=said(code["text"])) if "text" in code else dict(code)
    if isinstance(code.get("coding"), list):
        out["coding"] = [dict(c, display=said(c["display"])) if isinstance(c, dict) and "display" in c else c
                         for c in code["coding"]]
    return out


# The answers "yes" / "no" an Observation's value gives to the question its code asks (FHIR R4
# Observation.value[x]: valueBoolean; a valueCodeableConcept coded SNOMED CT 373066001 |Yes| /
# 373067005 |No|, HL7 v2 table 0136 Y / N (terminology.hl7.org CodeSystem v2-0136), or so worded
# with no code; a valueString so worded)
_YES_NO_CODES = {("snomed", "373066001"): True, ("snomed", "373067005"): False,
                 ("0136", "Y"): True, ("0136", "N"): False}
_YES_NO_WORDS = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}


def _yes_no_answer(obs: dict) -> bool | None:
    """True / False when a contained Observation's value answers yes / no; None for any other
    value (a finding, a quantity) or one saying both, read as before."""
    if isinstance(obs.get("valueBoolean"), bool):
        return obs["valueBoolean"]
    value = obs.get("valueCodeableConcept")
    if isinstance(value, dict):
        coded = {_YES_NO_CODES.get((key, code)) for system, code, _ in codings(value)
                 for key in ("snomed", "0136") if key in system.lower()} - {None}
        words = [value.get("text")] + [d for _, _, d in codings(value)]
        said = {_YES_NO_WORDS.get(_answer_word(bounded(w))) for w in words if isinstance(w, str) and w.strip()}
        if not coded and None in said:
            return None  # a word that is not yes / no beside one: read as before
        # a yes / no word written beside a code counts as well: a yes code written 'No' (its text
        # or its display) says both (rt70: read as the code alone, a progression stated)
        answers = coded | (said - {None})
        return answers.pop() if len(answers) == 1 else None
    if isinstance(obs.get("valueString"), str):
        return _YES_NO_WORDS.get(_answer_word(bounded(obs["valueString"])))
    return None


def _stated_reason(r: dict) -> tuple[str | None, str | None]:
    """Why a drafted MedicationRequest's own words say it is ordered, as ("progression" | "other",
    "<element>: '<words>'") or (None, None).

    "progression" (DraftOrder.stated_progression): its reasonCode / statusReason text or displays (a
    progression code of local_codes.yaml stop_reasons progression_codes too) or a note's text,
    read as a stop reason is (local_codes.yaml stop_reasons: a negated, hedged or conditional
    progression, "until progression", is none) and as a disease status's written answer is (the
    cancer's: a symptom's or another condition's worsening is none), and not a plan for a progression to come
    (draft_plan_patterns). The clinician's statement, not a record (CR C.2 step 1).
    "other" (DraftOrder.stated_other_reason): no element states a progression, and one states a
    reason that is none, read as a record's stop reason is (mappings/therapy.py _stop_reason_of_text
    'other': "switching for neutropenia", "palbociclib intolerance", "no progression, switching
    for toxicity"; a non-progression code of stop_reasons non_progression_codes): the reason that
    makes a same-class switch a substitution within its line once recorded (_looks_like_substitution)."""
    other, coded_worsened = None, False
    for element in _DRAFT_REASON_ELEMENTS:
        for item in as_list(r.get(element)):
            item = _reason_concept(r, element, item) if isinstance(item, dict) else None
            if not isinstance(item, dict):
                continue
            item_codings = codings(item) if element != "note" else []  # (a note is an Annotation: its text alone)
            coded = any(T.local_lookup(T.STOP_PROGRESSION_CODES, system, code) for system, code, _ in item_codings)
            coded_other = any(T.local_lookup(T.STOP_NON_PROGRESSION_CODES, system, code)
                              for system, code, _ in item_codings)
            # (sv4) its text (a note's, a reasonCode's, a reference's display, a contained
            # resource's code or value) read through fhir.bounded as every other free text (a
            # 100 kB note was read whole); displays are bounded by codings() already
            text = item.get("text")
            texts = [bounded(text) if isinstance(text, str) else text] + [d for _, _, d in item_codings]
            for text in texts:
                if not isinstance(text, str) or not text.strip():
                    continue
                said = " ".join(text.split())
                if T.DRAFT_PROGRESSION_PLAN.search(said):
                    return None, None  # a plan for a progression to come: no statement, whatever else it says
                # the stop-reason reading says a progression ("worsening", "recurrent", "no
                # response" are one there, beside an anticancer drug's stop); the disease-status
                # reading that it is the cancer's (not "progression of bone pain", "worsening renal
                # function", "recurrent UTI", "ESR1 resistance mutation": CR C.2 step 1)
                stop = _stop_reason_of_text(said)
                if stop == "progression" and _status_text_reading(said.lower()) == "progression":
                    return "progression", f"{element}: '{printable_clip(said, 80)}'"
                if stop == "other" and other is None:
                    other = f"{element}: '{printable_clip(said, 80)}'"
            if not any(isinstance(t, str) and t.strip() for t in texts):
                if coded:
                    return "progression", f"{element}: coded progression"
                if coded_other and other is None:
                    other = f"{element}: coded {next(d or c for _, c, d in item_codings if c)}"
            # a progression code beside a text naming another reason ("Patient's condition worsened"
            # sent without its display, text "Neutropenia"): a record's statusReason so coded reads
            # as a progression (mappings/therapy.py _stop_reason), so no reason other than it is stated
            coded_worsened = coded_worsened or (coded and not coded_other)
    return ("other", other) if other and not coded_worsened else (None, None)


def _do_not_perform_unclear(r: dict, what: str) -> str:
    """Why a draft whose doNotPerform is neither true nor false is not checked (FHIR R4 boolean)."""
    return (f"its doNotPerform is {printable_clip(repr(r.get('doNotPerform')), 40)}, neither true "
            f"nor false: whether it orders or prohibits the {what} is unclear")


def _test_ordered(cc: dict) -> tuple[list[str], list[str], str | None, bool]:
    """What a drafted ServiceRequest orders, as the order cards compare it with the tests they
    would propose: its LOINC codes (FHIR R4 ServiceRequest.code; a test written by name only,
    "HbA1c", as the code it stands for: local_codes.yaml drafted_test_names), the gene symbols
    its text and displays name (ESR1, PIK3CA, AKT1, PTEN, BRCA1/2 ...: mappings.genomics), the
    genomic source they state (germline / somatic) and whether they name archival or
    primary-tumour tissue (local_codes.yaml archival_specimen, C.3 row 18)."""
    loinc = [code for system, code, _ in codings(cc) if code and system and is_loinc(system)]
    words = [bounded(cc["text"])] if isinstance(cc.get("text"), str) else []  # (sv4) as codings() bounds a display
    words += [d for _, _, d in codings(cc) if d]
    if not words:
        return loinc, [], None, False
    text = " | ".join(words)
    loinc += [code for code, rx in T.DRAFTED_TEST_LOINC if code not in loinc and rx.search(text)]
    # a test on plasma / ctDNA is on no archival tissue (as a result's specimen is read: genomics)
    archival = not T.CTDNA_TEXT.search(text) and archival_text(text.lower())
    genes = list(genes_named(text))
    if not {"BRCA1", "BRCA2"} & set(genes) and _BRCA_UNNUMBERED.search(text):
        # "Germline BRCA testing", "gBRCA": BRCA1 and BRCA2, as the PARP inhibitor labels write
        # "gBRCAm" for a germline BRCA1/2 mutation (CR B.6, C.3 row 7); a drafted test's name only
        genes += ["BRCA1", "BRCA2"]
    origin = origin_stated(text)
    for rx, named_genes, named_origin in T.DRAFTED_GENOMIC_TESTS:
        if rx.search(text):
            # a test named by its product ("BRACAnalysis CDx": germline BRCA1/2, CR B.15): its
            # genes and source, unless the name states another source itself
            genes += [g for g in named_genes if g not in genes]
            origin = origin or named_origin
    return loinc, genes, origin, archival


# "BRCA" / "gBRCA" written without 1 or 2 (not "BRCA1", "BRCA 2", "BRCA1/2")
_BRCA_UNNUMBERED = re.compile(r"(?<![a-z0-9])g?brca(?! ?[12])(?![a-z0-9])", re.I)


# FHIR R4 MedicationRequest.status and ServiceRequest.status (both modifier elements): the
# codes saying the request is withdrawn, void or over, so it orders nothing now. A draft sent
# with one (an order-sign re-sign bundle, an EHR keeping a cancelled line) neither gets cards
# nor completes a regimen. draft / active / on-hold / unknown are still orders to check.
_CLOSED_REQUEST_STATUSES = frozenset({"cancelled", "entered-in-error", "stopped", "completed", "revoked"})


def _closed_status(status: Any) -> str | None:
    code = status_code(status)
    return code if code in _CLOSED_REQUEST_STATUSES else None


def _unread_drug(r: dict, index: dict) -> str | None:
    """Why a drafted medication order names no drug the service can read (None: it names
    one, e.g. metformin, that the pathway simply does not know). Such a draft could be a
    pathway drug: the order cards must say it was not checked, not pass over it."""
    cc = r.get("medicationCodeableConcept")
    if isinstance(cc, dict):
        # as in the therapy history (therapy.drug_concept_readable): a name, or an RxNorm
        # code drugs.yaml does not list (a drug the pathway does not use); a code of
        # another system alone (NDC, local) could be any drug, a pathway drug too
        if drug_concept_readable(cc):
            # a class, a trial drug or a name the service does not know ("Aromatase inhibitor",
            # "Letrozol"): it may be a pathway drug, so it is not passed over either
            why = unnamed_drug_in_concept(cc)
            return f"its medicationCodeableConcept {why}" if why else None
        if codings(cc):
            return f"its medicationCodeableConcept has no name and no RxNorm code ({_other_codes(cc)})"
        return "its medicationCodeableConcept has neither a coding nor a text"
    ref = r.get("medicationReference")
    if not isinstance(ref, dict):
        return "it names no drug (no medicationCodeableConcept or medicationReference)"
    target = ref.get("reference")
    display = ref["display"] if isinstance(ref.get("display"), str) and ref["display"].strip() else None
    if not isinstance(target, str) or not target:
        if display is None:
            return "its medicationReference has neither a reference nor a display"
        why = unnamed_drug_in_text(display)
        return f"its medicationReference display {why}" if why else None
    med = find_in_bundle(ref, r, index)
    if med is None:
        return (f"its medicationReference '{printable_clip(target, 80)}' is neither a contained resource "
                "nor an entry of draftOrders")
    if medication_readable(med) or display is not None:
        why = unnamed_drug_in_concept(med.get("code")) or (unnamed_drug_in_text(display) if display else None)
        return f"the Medication '{printable_clip(target, 80)}' {why}" if why else None
    return (f"the Medication '{printable_clip(target, 80)}' has no drug name and no RxNorm code"
            + (f" ({_other_codes(med.get('code'))})" if codings(med.get("code")) else ""))


def _other_codes(cc: Any) -> str:
    """The codes of a drug concept the service cannot read, as a card may quote them."""
    return printable_clip(", ".join(f"{system or 'no system'} {code}" for system, code, _ in codings(cc)), 120)
