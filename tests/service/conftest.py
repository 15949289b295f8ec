"""Fixtures for the service tests: an app with auth off and a temp database."""

from __future__ import annotations

import uuid

import pytest

from service.app import create_app
from service.hooks import load_services

FHIR_BASE = "https://fhir.example.org/r4"


@pytest.fixture
def app_config(tmp_path):
    return {
        "auth": "off",
        "database_url": f"sqlite:///{tmp_path}/feedback.sqlite",
        "fhir_connect_timeout": 0.5,
        "fhir_read_timeout": 0.5,
    }


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


def prefetch_keys() -> list[str]:
    return list(load_services()["mbc-treatment-options"].prefetch)


def patient_view_request(patient_id: str = "p1", prefetch: dict | None = None, **extra) -> dict:
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": patient_id},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body


def empty_prefetch() -> dict:
    """Every key present and null: the client looked and found nothing."""
    return {key: None for key in prefetch_keys()}


def searchset(resources: list[dict], next_url: str | None = None, outcome: dict | None = None) -> dict:
    entries = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    if outcome:
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def observation(obs_id: str, patient_id: str = "p1", code: str = "4548-4", status: str = "final") -> dict:
    return {
        "resourceType": "Observation", "id": obs_id, "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
