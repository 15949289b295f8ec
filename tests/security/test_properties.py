"""Property-based: valid hook and feedback requests mutated in every way a hostile
or broken client could (wrong types, nulls, huge strings, unicode, deep nesting,
wrong resource types in prefetch, other patients' references, junk headers and
bytes) never give a 5xx, never a traceback in the body, and the app keeps serving.

Bounded: 200 examples in all across the tests here, no deadline (CI machines vary).
Outbound HTTP is caught by `responses` (a mutation may add a fhirServer)."""

from __future__ import annotations

import copy
import json
import re
import uuid

import pytest
import responses
from hypothesis import HealthCheck, given, settings, strategies as st

from service.app import create_app

from .conftest import (
    EC_KID, PUBLIC_URL, SERVICE_PATH, auth_config, b64url, empty_prefetch, inline_client, write_clients,
)

PROPERTY_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ORDER_SELECT = "/cds-services/mbc-order-select"
FEEDBACK = "/cds-services/mbc-treatment-options/feedback"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("props")
    return create_app({"auth": "off", "database_url": f"sqlite:///{tmp}/fb.sqlite",
                       "fhir_connect_timeout": 0.2, "fhir_read_timeout": 0.2,
                       "max_request_bytes": 1024 * 1024})


# -- valid requests to start from ----------------------------------------------------------------


def patient_view() -> dict:
    prefetch = empty_prefetch("p1")
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
                      "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254837009"}]},
                      "clinicalStatus": {"coding": [{"code": "active"}]}},
         "search": {"mode": "match"}}]}
    prefetch["tumorMarkers"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "id": "er", "status": "final",
                      "subject": {"reference": "Patient/p1"},
                      "code": {"coding": [{"system": "http://loinc.org", "code": "85337-4"}]},
                      "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "10828004"}]},
                      "effectiveDateTime": "2024-01-02"}}]}
    prefetch["medicationStatements"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
                      "subject": {"reference": "Patient/p1"},
                      "medicationCodeableConcept": {"coding": [
                          {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "72965"}]},
                      "effectivePeriod": {"start": "2023-01-01", "end": "2024-01-01"}}}]}
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/dr-1", "patientId": "p1"}, "prefetch": prefetch}


def order_select() -> dict:
    body = patient_view()
    body["hook"] = "order-select"
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/p1"},
             "medicationCodeableConcept": {"coding": [
                 {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "2049106"}],
                 "text": "alpelisib"}}
    body["context"].update({"selections": ["MedicationRequest/draft-1"],
                            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft}]}})
    return body


def feedback() -> dict:
    return {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted",
                          "acceptedSuggestions": [{"id": str(uuid.uuid4())}],
                          "outcomeTimestamp": "2025-01-01T12:00:00Z"}]}


BASES = [(SERVICE_PATH, patient_view), (ORDER_SELECT, order_select), (FEEDBACK, feedback)]


# -- hostile values -----------------------------------------------------------------------------------


def nested(depth: int):
    value = []
    for _ in range(depth):
        value = [value]
    return value


OTHER_PATIENT = [
    {"resourceType": "Patient", "id": "p2", "gender": "male"},
    {"resourceType": "Condition", "id": "c-other", "subject": {"reference": "Patient/p2"},
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254837009"}]}},
    {"resourceType": "Observation", "id": "o-other", "status": "final",
     "subject": {"reference": "https://elsewhere.example/fhir/Patient/p3/_history/1"},
     "code": {"coding": [{"system": "http://loinc.org", "code": "85337-4"}]}},
    {"resourceType": "MedicationStatement", "id": "ms-other", "subject": {"reference": "Patient/p2"},
     "status": "active"},
]
WRONG_TYPES = [
    {"resourceType": "OperationOutcome", "issue": []},
    {"resourceType": "Bundle", "entry": "not-a-list"},
    {"resourceType": "Bundle", "entry": [None, 5, {"resource": "x"}, {"resource": {"resourceType": 7}}]},
    {"resourceType": "Binary", "data": "AAAA"},
    {"resourceType": ["Patient"], "id": {"a": 1}},
    {"resourceType": None},
    {"no": "resourceType"},
]
special_strings = st.sampled_from([
    "", " ", "\x00", "\u202e\u0000\ufeff", "💥" * 50, "Patient/p2", "Patient/../../metadata", "p1/../p2",
    "x" * 100_000, "https://169.254.169.254/latest/meta-data", "http://127.0.0.1:1/fhir",
    "{{context.patientId}}", "<script>alert(1)</script>", "' OR 1=1 --", "\\u0000", "ñ" * 1000,
    "2024-13-45", "9" * 400, "NaN", "null", "true",
])
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    special_strings,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
hostile_values = st.one_of(
    json_values,
    st.integers(min_value=20, max_value=600).map(nested),  # deeper: the raw-bytes test
    st.sampled_from(OTHER_PATIENT + WRONG_TYPES).map(copy.deepcopy),
)


def paths(value, prefix=()):
    """Every location in a JSON value (as a tuple of keys/indexes)."""
    yield prefix
    if len(prefix) > 30:  # do not descend into the deep-nesting values themselves
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, prefix + (index,))


def mutate(body: dict, path: tuple, action: str, value):
    if not path:
        return value if action == "replace" else body
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[f"x-{last}"] = value
    elif action == "add" and isinstance(parent, list):
        parent.append(value)
    elif action == "wrap":
        parent[last] = nested(40) + [parent[last]]
    return body


@st.composite
def mutated_requests(draw):
    path_url, make = draw(st.sampled_from(BASES))
    body = make()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        locations = list(paths(body)) if isinstance(body, (dict, list)) else [()]
        path = draw(st.sampled_from(locations))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add", "wrap"]))
        value = draw(hostile_values)
        if not isinstance(body, dict):
            break
        try:
            body = mutate(body, path, action, value)
        except (KeyError, IndexError, TypeError):
            pass
    return path_url, body


@st.composite
def other_patient_requests(draw):
    body = patient_view()
    for key in draw(st.lists(st.sampled_from(list(body["prefetch"])), min_size=1, max_size=4, unique=True)):
        resources = draw(st.lists(st.sampled_from(OTHER_PATIENT + WRONG_TYPES), min_size=1, max_size=4))
        if draw(st.booleans()):
            body["prefetch"][key] = {"resourceType": "Bundle", "type": "searchset",
                                     "entry": [{"resource": copy.deepcopy(r)} for r in resources]}
        else:
            body["prefetch"][key] = copy.deepcopy(resources[0])
    return body


# -- the property -----------------------------------------------------------------------------------


def assert_handled(app, response):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    assert response.is_json
    assert app.test_client().get("/healthz").status_code == 200


def post(app, path: str, body) -> object:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(".*"), status=500)  # nothing leaves the test
        return app.test_client().post(path, data=json.dumps(body), content_type="application/json")


@settings(max_examples=80, **PROPERTY_SETTINGS)
@given(mutated_requests())
def test_mutated_hook_and_feedback_requests_never_give_a_5xx(app, request_case):
    path, body = request_case
    assert_handled(app, post(app, path, body))


@settings(max_examples=50, **PROPERTY_SETTINGS)
@given(other_patient_requests())
def test_other_patients_and_wrong_resource_types_in_prefetch_never_give_a_5xx(app, body):
    response = post(app, SERVICE_PATH, body)
    assert_handled(app, response)
    assert response.status_code in (200, 412)  # 412: an OperationOutcome asks for a fetch, and no fhirServer
    text = response.get_data(as_text=True)
    assert "c-other" not in text and "o-other" not in text and "ms-other" not in text


@settings(max_examples=40, **PROPERTY_SETTINGS)
@given(st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"{" * 10_000, b'{"a":' * 5000, b"\xef\xbb\xbf{}", b'{"hook": "\xed\xa0\x80"}']),
))
def test_arbitrary_bytes_as_a_body_never_give_a_5xx(app, raw):
    response = app.test_client().post(SERVICE_PATH, data=raw, content_type="application/json")
    assert_handled(app, response)
    assert response.status_code in (400, 413)


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory):
    from .conftest import Keys
    tmp = tmp_path_factory.mktemp("props-auth")
    path = write_clients(tmp, [inline_client(Keys())])
    return create_app(auth_config(tmp, path))


junk_segments = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=", max_size=60),
    st.dictionaries(st.sampled_from(["alg", "kid", "typ", "jku", "iss", "aud", "exp", "iat", "jti", "crit"]),
                    json_values, max_size=6).map(lambda d: b64url(json.dumps(d).encode())),
    st.sampled_from([b64url(json.dumps({"alg": "ES384", "kid": EC_KID, "typ": "JWT"}).encode()),
                     b64url(json.dumps({"iss": "https://ehr.example.org", "aud": PUBLIC_URL}).encode())]),
)


@settings(max_examples=30, **PROPERTY_SETTINGS)
@given(st.one_of(
    st.lists(junk_segments, min_size=1, max_size=5).map(lambda parts: "Bearer " + ".".join(parts)),
    st.text(max_size=200).filter(lambda t: "\n" not in t and "\r" not in t),
))
def test_junk_authorization_headers_give_a_401_never_a_5xx(auth_app, header):
    try:
        response = auth_app.test_client().post(SERVICE_PATH, json=patient_view(), headers={"Authorization": header})
    except ValueError:
        return  # the test client itself refuses header values HTTP cannot carry
    assert_handled(auth_app, response)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
