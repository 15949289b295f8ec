"""The code tables are data with a source for every entry, and a site can extend them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import yaml

from mappings import state
from mappings import tables as T

MAPPINGS_DIR = Path(T.__file__).parent
REPO = MAPPINGS_DIR.parent


def load(name):
    return yaml.safe_load((MAPPINGS_DIR / name).read_text())


def entries_without_source(node, inherited=False, path="$"):
    """Every mapping that defines a code/prefix/pattern must carry (or inherit) a source."""
    bad = []
    if isinstance(node, dict):
        has = inherited or "source" in node
        if any(k in node for k in ("code", "prefix", "pattern")) and not has:
            bad.append(path)
        for k, v in node.items():
            bad += entries_without_source(v, has, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            bad += entries_without_source(v, inherited, f"{path}[{i}]")
    return bad


def test_every_code_table_entry_has_a_source():
    for name in ("codes.yaml", "local_codes.yaml", "drugs.yaml"):
        assert entries_without_source(load(name)) == [], name
    for d in load("drugs.yaml")["drugs"]:
        assert d.get("source"), d["name"]
        if "product_codes" in d:
            assert "mcode-trialjectory-profile-system-codes.json" in d["product_codes"]["source"]


def test_unverified_entries_are_marked_in_the_files():
    text = (MAPPINGS_DIR / "codes.yaml").read_text()
    assert "unverified: true" in text
    drugs = load("drugs.yaml")["drugs"]
    assert all(d.get("unverified") for d in drugs if d["class"] == "antihyperglycemic")


def test_every_drug_class_is_a_state_drug_class():
    allowed = set(typing.get_args(state.DrugClass))
    assert {d["class"] for d in load("drugs.yaml")["drugs"]} <= allowed


def test_drug_table_covers_the_pathway_drug_classes():
    names = {d["name"] for d in load("drugs.yaml")["drugs"]}
    for n in ("letrozole", "anastrozole", "exemestane", "tamoxifen", "fulvestrant", "elacestrant",
              "imlunestrant", "palbociclib", "ribociclib", "abemaciclib", "alpelisib", "capivasertib",
              "inavolisib", "everolimus", "olaparib", "talazoparib", "trastuzumab deruxtecan",
              "sacituzumab govitecan", "datopotamab deruxtecan", "capecitabine", "paclitaxel", "docetaxel",
              "eribulin", "doxorubicin", "gemcitabine", "vinorelbine", "cyclophosphamide", "goserelin",
              "leuprolide", "zoledronic acid", "denosumab", "metformin"):
        assert n in names, n


def test_no_rxnorm_code_means_both_tdxd_and_plain_trastuzumab():
    for code, infos in T.DRUG_BY_CODE.items():
        names = {i.name for i in infos}
        assert not {"trastuzumab", "trastuzumab deruxtecan"} <= names, code


def test_excluded_shared_codes_are_explained_and_not_mapped_to_that_drug():
    for d in load("drugs.yaml")["drugs"]:
        for ex in d.get("excluded_codes", []):
            assert ex["reason"]
            assert d["name"] not in {i.name for i in T.DRUG_BY_CODE.get(ex["code"], [])}


def test_a_site_file_extends_local_codes_without_touching_code(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({
        "visceral_crisis": {"codes": [{"system": "urn:oid:1.2.840.99.1", "code": "VC01", "source": "site"}]},
        "menopause": {"text_patterns": [{"status": "postmenopausal", "pattern": "no menses for over a year"}]},
    }))
    script = """
import json
from mappings import build_patient_state
p = {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1980-01-01"}
vc = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"},
      "code": {"coding": [{"system": "urn:oid:1.2.840.99.1", "code": "VC01"}]}}
m = {"resourceType": "Observation", "id": "o", "status": "final", "subject": {"reference": "Patient/p"},
     "code": {"text": "Menopausal status"}, "valueString": "No menses for over a year"}
s = build_patient_state([p, vc, m], "p")
print(json.dumps([s.disease.visceral_crisis, s.factors.menopausal_status]))
"""
    env = {**os.environ, "MBC_CDS_LOCAL_CODES": str(site)}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == [True, "postmenopausal"]
    env.pop("MBC_CDS_LOCAL_CODES")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == [False, "unknown"]


def test_every_gap_and_ignored_code_emitted_is_documented_for_the_cards(real_patient_resources,
                                                                        her2_immune_stain_example):
    import mappings.build as build
    from tests.mappings.builders import PID, loinc_obs, med_statement, patient

    states = [
        build.build_patient_state(real_patient_resources, "mCODETrialMatchingPatientExample01"),
        build.build_patient_state([her2_immune_stain_example, None], "CGPatientExample01"),
        build.build_patient_state([], PID),
        build.build_patient_state([patient(), loinc_obs("85319-2", valueString="0"),
                                   loinc_obs("85329-1", valueQuantity={"value": 5, "unit": "%"}),
                                   med_statement("72965", None, status="active")], PID),
    ]
    doc = build.__doc__
    for s in states:
        for g in s.gaps + s.ignored:
            assert g.code in doc, g.code


def test_every_shared_word_list_has_a_source_and_words():
    # local_codes.yaml vocabulary: the suspicion / negation words several readers share
    for name, entry in load("local_codes.yaml")["vocabulary"].items():
        assert entry.get("source") and entry.get("words"), name


def test_a_suspicion_word_a_site_adds_once_to_the_shared_list_reaches_every_reader(tmp_path):
    # one word in vocabulary.suspicion_words: a suspected metastasis, visceral crisis, long QT
    # syndrome and ILD alike (FHIR condition-ver-status unconfirmed), each named in its gap
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"vocabulary": {"suspicion_words": {"words": ["under investigation for"]}}}))
    script = """
import json
from mappings import build_patient_state
from tests.mappings.builders import PID, breast_cancer, cc, condition, patient
texts = ["Under investigation for liver metastases", "Under investigation for visceral crisis",
         "Under investigation for long QT syndrome", "Under investigation for interstitial lung disease"]
s = build_patient_state([patient(), breast_cancer(), *(condition(cc(text=t), "2022-03-01") for t in texts)], PID)
print(json.dumps([s.disease.metastatic, s.disease.visceral_crisis, s.factors.long_qt.documented,
                  s.factors.lung.ild_history, sorted(g.code for g in s.gaps if g.code.endswith(("-unconfirmed", "-unclear")))]))
"""
    env = {**os.environ, "MBC_CDS_LOCAL_CODES": str(site)}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == [
        "unknown", False, False, False,
        ["ild-unconfirmed", "long-qt-unconfirmed", "metastasis-unconfirmed", "visceral-crisis-unclear"]]
    env.pop("MBC_CDS_LOCAL_CODES")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == ["yes", True, True, True, []]
