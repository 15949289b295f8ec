"""Fixtures for the deployment kit: a real FHIR server (sekmet-fhir on
127.0.0.1, started once per session, stopped at its end) loaded with the demo
patients by `mbc-cds load-demo`'s code, and a service app in test mode."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from service.app import create_app

REPO_DIR = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_DIR / "docker"


@pytest.fixture(scope="session")
def demo_fhir_server(fhir_server):
    """The session's sekmet-fhir server (tests/conftest.py), for the demo patients."""
    return fhir_server


@pytest.fixture(scope="session")
def loaded_demo(demo_fhir_server):
    """The demo patients loaded into the FHIR server with the loader's code:
    (base_url, LoadResult, what it printed)."""
    from service.loader import load_demo

    out = io.StringIO()
    result = load_demo(demo_fhir_server, out=out)
    return demo_fhir_server, result, out.getvalue()


@pytest.fixture
def app(tmp_path):
    return create_app({
        "auth": "off",
        "allow_http_fhir": True,
        "database_url": f"sqlite:///{tmp_path}/feedback.sqlite",
    })


@pytest.fixture
def client(app):
    return app.test_client()
