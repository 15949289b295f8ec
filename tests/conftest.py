"""Shared fixtures. Real FHIR data is read from ../shared (never copied here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_DIR.parent / "shared"
REAL_DIR = SHARED_DIR / "data" / "real"
REFERENCE_DIR = SHARED_DIR / "data" / "reference"
REAL_PATIENT_FILE = REAL_DIR / "mcode-ctma-TrialMatching_Patient01.json"
HER2_EXAMPLE_FILE = REAL_DIR / "genomics-reporting-Observation-HER2byImmuneStainExample.json"
PRODUCT_CODES_FILE = REFERENCE_DIR / "mcode-trialjectory-profile-system-codes.json"
REAL_PATIENT_ID = "mCODETrialMatchingPatientExample01"


def load_json(path: Path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def real_patient_bundle() -> dict:
    """The real mCODE trial-matching test patient (transaction Bundle, Apache-2.0)."""
    return load_json(REAL_PATIENT_FILE)


@pytest.fixture(scope="session")
def real_patient_resources(real_patient_bundle) -> list[dict]:
    return [e["resource"] for e in real_patient_bundle["entry"]]


@pytest.fixture(scope="session")
def her2_immune_stain_example() -> dict:
    """Genomics Reporting IG example Observation HER2byImmuneStainExample."""
    return load_json(HER2_EXAMPLE_FILE)


@pytest.fixture(scope="session")
def product_code_lists() -> dict:
    """Product-level RxNorm code lists per drug (mCODE trial-matching, Apache-2.0)."""
    return load_json(PRODUCT_CODES_FILE)


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory):
    """Base URL of a sekmet-fhir server on 127.0.0.1, shared by the session.

    Suites load their own patients into it (distinct ids); it is stopped when
    the session ends.
    """
    from tests.servers import sekmet_fhir

    with sekmet_fhir(tmp_path_factory.mktemp("sekmet")) as base_url:
        yield base_url
