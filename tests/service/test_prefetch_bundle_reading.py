"""A prefetched search Bundle is read in one pass (_UsableForPatient.add_bundle), a fetched
one through fhir_client.bundle_contents, gather._of_types and _UsableForPatient.add: two
copies of one rule (which entries count, which types, which patient, which copy stays).
These tests hold them to the same answer on the odd entries EHRs send."""

import re

import pytest
import responses

from service.fhir_client import FHIRClient
from service.gather import gather
from service.hooks import load_services

from .conftest import FHIR_BASE, empty_prefetch, observation

TEMPLATES = load_services()["mbc-treatment-options"].prefetch
CONTEXT = {"patientId": "p1", "userId": "Practitioner/1"}
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female"}
ERROR = {"resourceType": "OperationOutcome",
         "issue": [{"severity": "error", "code": "too-costly", "diagnostics": "results truncated"}]}


def _statement(sid, subject="Patient/p1", **extra):
    return {"resourceType": "MedicationStatement", "id": sid, "status": "active",
            "subject": {"reference": subject}, "medicationReference": {"reference": "Medication/m1"}, **extra}


def _odd_entries():
    """Entries of every kind a medication search Bundle may hold, in one list."""
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "palbociclib"}}
    return [
        {"resource": _statement("ms1"), "search": {"mode": "match"}},
        {"resource": _statement("ms2")},  # no search element: a match
        {"resource": _statement("ms3"), "search": "match"},  # not an object: a match
        {"resource": medication, "search": {"mode": "include"}},  # what the search includes
        {"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}},
         "search": {"mode": "include"}},  # included, but not of a type the search includes
        {"resource": {"resourceType": "Procedure", "id": "pr1", "subject": {"reference": "Patient/p1"}},
         "search": {"mode": "match"}},  # a match of another type
        {"resource": _statement("ms4"), "search": {"mode": "outcome"}},
        {"resource": ERROR, "search": {"mode": "outcome"}},
        {"search": {"mode": "match"}},  # no resource
        {"resource": None}, None, "entry", 5,
        {"resource": {"resourceType": ["MedicationStatement"], "id": "odd"}},
        {"resource": _statement("ms5", f"{FHIR_BASE}/Patient/x/_history/2")},  # another patient
        {"resource": _statement("ms6", "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427")},
        {"resource": _statement("ms7", patient={"reference": "Patient/x"})},
        {"resource": _statement("ms8", status="ENTERED-IN-ERROR")},
        {"resource": _statement("ms9", status="entered-in-error")},
        {"resource": _statement("ms1", meta={"versionId": "2"}, status="completed")},  # a later copy
        {"resource": _statement("ms10", meta={"versionId": "1"})},
    ]


def _prefetched(entries):
    prefetch = empty_prefetch()
    prefetch["patient"] = PATIENT
    prefetch["medicationStatements"] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    return gather(TEMPLATES, CONTEXT, prefetch, None)


def _fetched(entries):
    prefetch = empty_prefetch()
    prefetch["patient"] = PATIENT
    del prefetch["medicationStatements"]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/MedicationStatement\?patient=p1.*"),
                 json={"resourceType": "Bundle", "type": "searchset", "entry": entries})
        return gather(TEMPLATES, CONTEXT, prefetch,
                      lambda: FHIRClient(FHIR_BASE, None, connect_timeout=0.5, read_timeout=0.5))


def _kept(result):
    return [(r["resourceType"], r["id"], r.get("meta")) for r in result.resources]


@pytest.mark.parametrize("entries", [
    _odd_entries(),
    list(reversed(_odd_entries())),
    [e for e in _odd_entries() if not (isinstance(e, dict) and e.get("resource") is ERROR)],
], ids=["in-order", "reversed", "without-outcome"])
def test_a_prefetched_search_keeps_the_same_resources_as_the_same_search_fetched_from_the_fhir_server(entries):
    prefetched, fetched = _prefetched(entries), _fetched(entries)
    # (fetched resources come in another order: the same ones, and the same copy of ms1)
    assert sorted(_kept(prefetched), key=repr) == sorted(_kept(fetched), key=repr)
    assert prefetched.notes[-1] == fetched.notes[-1] == (
        "ignored 2 resources that belong to another patient than the one in context")


def test_a_prefetched_search_says_what_it_left_out_and_keeps_the_first_copy_of_a_resource():
    result = _prefetched(_odd_entries())
    assert _kept(result) == [
        ("Patient", "p1", None),
        ("MedicationStatement", "ms1", None), ("MedicationStatement", "ms2", None),
        ("MedicationStatement", "ms3", None), ("Medication", "m1", None),
        ("MedicationStatement", "ms6", None),  # a urn:uuid names no Patient: not another patient's
        ("MedicationStatement", "ms8", None),  # miscased: mappings/build skips it, with a gap
        ("MedicationStatement", "ms10", {"versionId": "1"}),
    ]
    assert result.notes == [
        "prefetch 'medicationStatements': the FHIR server reported an error with the results, which may be"
        " incomplete: results truncated",
        "prefetch 'medicationStatements': ignored 2 resources that are not MedicationStatement",
        "ignored 2 resources that belong to another patient than the one in context",  # ms5, ms7
    ]


def test_of_one_observation_in_two_prefetch_keys_the_copy_in_the_key_read_first_stays():
    # hooks.yaml lists tumorMarkers before clinicalFindings; within a key the first entry stays
    assert list(TEMPLATES).index("tumorMarkers") < list(TEMPLATES).index("clinicalFindings")
    prefetch = empty_prefetch()
    first, second = dict(observation("o1"), meta={"versionId": "9"}), observation("o1")
    prefetch["clinicalFindings"] = {"resourceType": "Bundle", "entry": [{"resource": second}]}
    prefetch["tumorMarkers"] = {"resourceType": "Bundle", "entry": [{"resource": first},
                                                                      {"resource": dict(first)}]}
    result = gather(TEMPLATES, CONTEXT, prefetch, None)
    assert len(result.resources) == 1 and result.resources[0] is first
