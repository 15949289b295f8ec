"""What a caller chose (hookInstance, the URL's service id, a token's iss / jti /
tenant) reaches the log only in a form that cannot carry a patient's name or
record number; anything else is logged as a marker with its length. A jti, and a
tenant the clients file does not list, are logged only as a short SHA-256 hash."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from service.app import create_app

from .conftest import (
    FEEDBACK_PATH, SERVICE_PATH, bearer, feedback_body, hook_body, inline_client, open_config, sign,
)

PATIENT_TEXT = "Jane Doe MRN 12345"


@pytest.fixture
def client(tmp_path):
    return create_app(open_config(tmp_path)).test_client()


def logged(service_logs, message: str) -> list[dict]:
    return [line for line in map(json.loads, service_logs.lines) if line["msg"] == message]


def test_a_hook_instance_that_names_a_patient_never_reaches_the_log(client, service_logs):
    response = client.post(SERVICE_PATH, json=hook_body(hookInstance=PATIENT_TEXT))
    assert response.status_code == 200  # the call is answered; only its log line withholds the text
    assert "Jane" not in service_logs.text() and "12345" not in service_logs.text()
    assert logged(service_logs, "hook")[-1]["hookInstance"] == "<not a UUID; 18 characters>"


def test_a_uuid_hook_instance_is_logged_as_sent(client, service_logs):
    hook_instance = str(uuid.uuid4())
    assert client.post(SERVICE_PATH, json=hook_body(hookInstance=hook_instance)).status_code == 200
    assert logged(service_logs, "hook")[-1]["hookInstance"] == hook_instance


def test_a_urn_uuid_hook_instance_is_logged_as_sent(client, service_logs):
    hook_instance = f"urn:uuid:{uuid.uuid4()}"
    assert client.post(SERVICE_PATH, json=hook_body(hookInstance=hook_instance)).status_code == 200
    assert logged(service_logs, "hook")[-1]["hookInstance"] == hook_instance


@pytest.mark.parametrize("path", ["/cds-services/{}", "/cds-services/{}/feedback"], ids=["hook", "feedback"])
def test_a_service_id_that_names_a_patient_never_reaches_the_log(client, service_logs, path):
    body = feedback_body() if path.endswith("feedback") else hook_body()
    response = client.post(path.format("Jane%20Doe%20MRN%2012345"), json=body)
    assert response.status_code == 404
    assert "Jane" not in service_logs.text() and "12345" not in service_logs.text()
    line = logged(service_logs, "feedback" if path.endswith("feedback") else "hook")[-1]
    assert line["service"] == "<not a known service id; 18 characters>"


def test_a_known_service_id_is_logged_as_sent(client, service_logs):
    assert client.post(FEEDBACK_PATH, json=feedback_body()).status_code == 200
    assert logged(service_logs, "feedback")[-1]["service"] == "mbc-treatment-options"


def test_an_untrusted_issuer_that_names_a_patient_never_reaches_the_log(auth_client, keys, service_logs):
    token = sign(keys.ec, iss=PATIENT_TEXT)
    assert auth_client.post(SERVICE_PATH, json=hook_body(), headers=bearer(token)).status_code == 401
    assert "Jane" not in service_logs.text() and "12345" not in service_logs.text()
    failure = logged(service_logs, "client authentication failed")[-1]
    assert failure["reason"] == "unknown issuer"
    assert failure["iss"] == "<not a trusted issuer; 18 characters>"


def test_a_trusted_issuer_is_still_named_when_its_token_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, aud="https://elsewhere.example.org/cds-services/mbc-treatment-options")
    assert auth_client.post(SERVICE_PATH, json=hook_body(), headers=bearer(token)).status_code == 401
    assert logged(service_logs, "client authentication failed")[-1]["iss"] == "https://ehr.example.org"


def sha256_12(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def test_a_jti_or_tenant_with_words_in_it_is_logged_only_as_a_hash(auth_app_factory, keys, service_logs):
    client = auth_app_factory([inline_client(keys)]).test_client()
    jti = f"{PATIENT_TEXT} {uuid.uuid4()}"
    token = sign(keys.ec, jti=jti, tenant=PATIENT_TEXT)
    assert client.post(SERVICE_PATH, json=hook_body(), headers=bearer(token)).status_code == 200
    assert "Jane" not in service_logs.text() and "12345" not in service_logs.text()
    line = logged(service_logs, "hook")[-1]
    assert (line["jti"], line["tenant"]) == (sha256_12(jti), sha256_12(PATIENT_TEXT))


@pytest.mark.parametrize("jti, tenant", [("MRN123456", "jane.doe@example.org"),
                                         ("jane.doe@example.org", "MRN-12345")])
def test_an_identifier_shaped_jti_or_tenant_never_reaches_the_log(auth_client, keys, service_logs, jti, tenant):
    # was: logged as sent, since one token without spaces passed as an opaque id: a client
    # putting a record number or an e-mail there put it in our log
    token = sign(keys.ec, jti=jti, tenant=tenant)
    assert auth_client.post(SERVICE_PATH, json=hook_body(), headers=bearer(token)).status_code == 200
    text = service_logs.text()
    assert "12345" not in text and "jane.doe" not in text
    authenticated = logged(service_logs, "client authenticated")[-1]
    hook = logged(service_logs, "hook")[-1]
    assert authenticated["jti"] == hook["jti"] == sha256_12(jti)
    assert authenticated["tenant"] == hook["tenant"] == sha256_12(tenant)


def test_a_uuid_jti_is_logged_as_a_short_hash_the_same_for_the_same_jti(auth_client, keys, service_logs):
    # the client can find its call in our log by hashing its own jti (correlation stays)
    jti = str(uuid.uuid4())
    token = sign(keys.ec, jti=jti, tenant="site-7")
    assert auth_client.post(SERVICE_PATH, json=hook_body(), headers=bearer(token)).status_code == 200
    line = logged(service_logs, "hook")[-1]
    assert line["jti"] == sha256_12(jti) and jti not in service_logs.text()
    assert line["tenant"] == sha256_12("site-7")  # no tenants configured for this issuer: hashed


def test_a_tenant_the_clients_file_lists_for_the_issuer_is_logged_as_sent(auth_app_factory, keys, service_logs):
    client = auth_app_factory([inline_client(keys, tenants=["org-1", "org-2"])]).test_client()
    token = sign(keys.ec, tenant="org-2")
    assert client.post(SERVICE_PATH, json=hook_body(), headers=bearer(token)).status_code == 200
    assert logged(service_logs, "hook")[-1]["tenant"] == "org-2"
