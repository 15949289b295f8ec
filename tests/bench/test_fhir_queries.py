"""make bench (e) times the searches the service sends without prefetch, against a
real sekmet-fhir: the helpers that do it must keep working as gather changes."""

from __future__ import annotations

import pytest

from bench import patients
from bench.run import put_patient, service_queries, time_queries, time_queries_concurrently

pytestmark = pytest.mark.integration

PATIENT_ID = "bench-queries-30"


@pytest.fixture(scope="module")
def loaded(fhir_server):
    put_patient(fhir_server, patients.make_patient(30, patient_id=PATIENT_ID))
    return fhir_server


def test_each_search_the_service_sends_is_timed_and_finds_the_patients_resources(loaded):
    timed = time_queries(loaded, PATIENT_ID, reps=1)
    assert set(timed) == set(service_queries(loaded, PATIENT_ID))
    assert sum(q["resources"] for q in timed.values()) >= 30  # the patient and everything that names it
    assert all(q["p50_ms"] > 0 and q["pages"] >= 1 for q in timed.values()), timed


def test_the_searches_sent_together_are_timed_as_one_wall_time(loaded):
    together = time_queries_concurrently(loaded, PATIENT_ID, reps=1)
    assert together["queries"] == len(service_queries(loaded, PATIENT_ID))
    assert together["p50_ms"] > 0
