"""Client JWT authentication (CDS Hooks 2.0.1 "Trusting CDS Clients"): each attack
is refused with a 401, a WWW-Authenticate header and a short reason, and the token
is never echoed in the answer or written to the log."""

from __future__ import annotations

import json
import time

import responses

from .conftest import (
    EC_KID, FEEDBACK_PATH, ISS, JKU_ALLOWED, PUBLIC_URL, RSA_KID, SERVICE_PATH, bearer,
    claims, feedback_body, hmac_token, hook_body, inline_client, sign, unsigned_token,
)


def assert_refused(response, token: str | None, logs=None, reason: str | None = None):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["error"] == "unauthorized"
    if reason:
        assert reason in body["message"]
    if token:
        assert token not in response.get_data(as_text=True)
        assert all(token not in value for value in response.headers.values())
        if logs is not None:
            assert token not in logs.text()
            # nor any of its three parts (a signature or payload on its own is still the token)
            assert all(part not in logs.text() for part in token.split(".") if len(part) > 8)


def call(client, token: str | None, body: dict | None = None, path: str = SERVICE_PATH):
    headers = bearer(token) if token else {}
    return client.post(path, json=body or hook_body(), headers=headers)


# -- accepted --------------------------------------------------------------------------


def test_a_valid_es384_token_is_accepted(auth_client, keys):
    response = call(auth_client, sign(keys.ec, "ES384", EC_KID))
    assert response.status_code == 200
    assert "cards" in response.get_json()


def test_a_valid_rs384_token_is_accepted(auth_client, keys):
    response = call(auth_client, sign(keys.rsa, "RS384", RSA_KID))
    assert response.status_code == 200


def test_an_aud_array_containing_the_endpoint_url_is_accepted(auth_client, keys):
    token = sign(keys.ec, aud=[PUBLIC_URL + "/cds-services", PUBLIC_URL + SERVICE_PATH])
    assert call(auth_client, token).status_code == 200


def test_feedback_needs_a_token_too_and_accepts_a_valid_one(auth_client, keys, service_logs):
    refused = auth_client.post(FEEDBACK_PATH, json=feedback_body())
    assert_refused(refused, None, reason="missing bearer token")
    token = sign(keys.ec, aud=PUBLIC_URL + FEEDBACK_PATH)
    accepted = auth_client.post(FEEDBACK_PATH, json=feedback_body(), headers=bearer(token))
    assert accepted.status_code == 200


def test_discovery_stays_open_without_a_token(auth_client):
    response = auth_client.get("/cds-services")
    assert response.status_code == 200
    assert response.get_json()["services"]


def test_es256_is_accepted_only_when_configured(auth_app_factory, keys):
    token = sign(keys.ec256, "ES256", "ec256-key")
    default_app = auth_app_factory().test_client()
    assert_refused(call(default_app, token), token, reason="algorithm")
    es256_app = auth_app_factory(jwt_algorithms=["ES384", "ES256"]).test_client()
    assert call(es256_app, sign(keys.ec256, "ES256", "ec256-key")).status_code == 200


# -- refused ----------------------------------------------------------------------------------


def test_a_call_without_a_token_is_refused(auth_client):
    assert_refused(call(auth_client, None), None, reason="missing bearer token")


def test_a_non_bearer_authorization_header_is_refused(auth_client):
    response = auth_client.post(SERVICE_PATH, json=hook_body(), headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert_refused(response, "dXNlcjpwdw==")


def test_alg_none_is_refused(auth_client, service_logs):
    token = unsigned_token({"alg": "none", "typ": "JWT", "kid": EC_KID}, claims())
    assert_refused(call(auth_client, token), token, service_logs, reason="algorithm")


def test_alg_none_with_odd_capitalisation_is_refused(auth_client, service_logs):
    token = unsigned_token({"alg": "nOnE", "typ": "JWT", "kid": EC_KID}, claims())
    assert_refused(call(auth_client, token), token, service_logs, reason="algorithm")


def test_hs256_signed_with_the_issuers_public_key_is_refused(auth_client, keys, service_logs):
    token = hmac_token(keys.public_pem())
    assert_refused(call(auth_client, token), token, service_logs, reason="algorithm")


def test_a_token_signed_with_the_wrong_key_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec_other, "ES384", EC_KID)  # right kid, someone else's key
    assert_refused(call(auth_client, token), token, service_logs, reason="signature")


def test_a_tampered_payload_is_refused(auth_client, keys, service_logs):
    head, _, signature = sign(keys.ec).split(".")
    from .conftest import b64url
    forged = b64url(json.dumps(claims(iss=ISS, tenant="someone-else")).encode())
    token = f"{head}.{forged}.{signature}"
    assert_refused(call(auth_client, token), token, service_logs, reason="signature")


def test_an_expired_token_is_refused(auth_client, keys, service_logs):
    now = int(time.time())
    token = sign(keys.ec, iat=now - 900, exp=now - 600)
    assert_refused(call(auth_client, token), token, service_logs, reason="expired")


def test_a_token_issued_in_the_future_is_refused(auth_client, keys, service_logs):
    now = int(time.time())
    token = sign(keys.ec, iat=now + 600, exp=now + 900)
    assert_refused(call(auth_client, token), token, service_logs, reason="future")


def test_a_token_for_another_audience_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, aud="https://other-service.example.org/cds-services/mbc-treatment-options")
    assert_refused(call(auth_client, token), token, service_logs, reason="audience")


def test_a_token_for_another_endpoint_of_this_service_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, aud=PUBLIC_URL + "/cds-services/mbc-order-sign")
    assert_refused(call(auth_client, token), token, service_logs, reason="audience")


def test_a_token_from_an_unknown_issuer_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, iss="https://attacker.example.net")
    assert_refused(call(auth_client, token), token, service_logs, reason="unknown issuer")


def test_a_token_without_jti_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, jti=None)
    assert_refused(call(auth_client, token), token, service_logs, reason="jti")


def test_a_token_without_exp_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, exp=None)
    assert_refused(call(auth_client, token), token, service_logs, reason="exp")


def test_a_token_without_iat_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, iat=None)
    assert_refused(call(auth_client, token), token, service_logs, reason="iat")


def test_a_replayed_jti_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec)
    assert call(auth_client, token).status_code == 200
    assert_refused(call(auth_client, token), token, service_logs, reason="replayed")


def test_a_new_token_reusing_a_seen_jti_is_refused(auth_client, keys, service_logs):
    first = sign(keys.ec, jti="same-nonce-123")
    assert call(auth_client, first).status_code == 200
    second = sign(keys.rsa, "RS384", RSA_KID, jti="same-nonce-123")
    assert_refused(call(auth_client, second), second, service_logs, reason="replayed")


def test_a_jku_not_on_the_issuers_allowlist_is_refused_without_fetching_it(auth_app_factory, keys, service_logs):
    client = auth_app_factory([inline_client(keys, jku_allowlist=[JKU_ALLOWED])]).test_client()
    token = sign(keys.ec, headers={"jku": "https://attacker.example.net/jwks.json"})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, "https://attacker.example.net/jwks.json", json=keys.jwks())
        response = call(client, token)
        assert len(rsps.calls) == 0
    assert_refused(response, token, service_logs, reason="jku")


def test_an_unknown_kid_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, kid="no-such-key")
    assert_refused(call(auth_client, token), token, service_logs, reason="unknown key")


def test_a_token_without_kid_is_refused(auth_client, keys, service_logs):
    token = sign(keys.ec, kid=None)
    assert_refused(call(auth_client, token), token, service_logs, reason="kid")


def test_a_key_of_the_wrong_type_for_the_alg_is_refused(auth_client, keys, service_logs):
    # RS384 header naming the EC key: the key must fit the algorithm
    token = sign(keys.rsa, "RS384", EC_KID)
    assert_refused(call(auth_client, token), token, service_logs, reason="unknown key")


def test_a_token_living_longer_than_the_maximum_is_refused(auth_client, keys, service_logs):
    now = int(time.time())
    token = sign(keys.ec, iat=now, exp=now + 24 * 3600)
    assert_refused(call(auth_client, token), token, service_logs, reason="lifetime")


def test_a_token_that_expires_before_it_was_issued_is_refused(auth_client, keys, service_logs):
    now = int(time.time())
    token = sign(keys.ec, iat=now, exp=now - 10)  # inside the leeway: not refused as expired
    assert_refused(call(auth_client, token), token, service_logs, reason="exp/iat")


def test_a_tenant_outside_the_issuers_tenants_is_refused(auth_app_factory, keys, service_logs):
    client = auth_app_factory([inline_client(keys, tenants=["org-1"])]).test_client()
    assert call(client, sign(keys.ec, tenant="org-1")).status_code == 200
    token = sign(keys.ec, tenant="org-2")
    assert_refused(call(client, token), token, service_logs, reason="tenant")


def test_garbage_in_the_bearer_token_is_refused(auth_client):
    for token in ["abc", "a.b.c", "....", "e30.e30.", "x" * 20000]:
        response = call(auth_client, token)
        assert response.status_code == 401, token[:20]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_failed_authentication_logs_the_reason_and_issuer_but_not_the_token(auth_client, keys, service_logs):
    token = sign(keys.ec, aud="https://elsewhere.example.org/")
    call(auth_client, token)
    lines = [json.loads(line) for line in service_logs.lines]
    failures = [line for line in lines if line["msg"] == "client authentication failed"]
    assert failures and failures[0]["reason"] == "wrong audience" and failures[0]["iss"] == ISS
    assert token not in service_logs.text()


def test_auth_failure_is_checked_before_the_body_is_read(auth_client):
    response = auth_client.post(SERVICE_PATH, data="not json at all", content_type="application/json")
    assert response.status_code == 401


def test_an_unauthenticated_call_to_an_unknown_service_learns_only_401(auth_client, keys):
    for path in ("/cds-services/secret-svc", "/cds-services/secret-svc/feedback"):
        body = feedback_body() if path.endswith("/feedback") else hook_body()
        refused = auth_client.post(path, json=body)
        assert_refused(refused, None, reason="missing bearer token")
        assert "service" not in refused.get_json()["message"]
        # an authenticated caller is told the service does not exist
        found = auth_client.post(path, json=body, headers=bearer(sign(keys.ec, aud=PUBLIC_URL + path)))
        assert found.status_code == 404
        assert found.get_json()["message"] == "no CDS service with this id; see /cds-services"


def test_an_accepted_call_logs_the_clients_iss_and_jti_but_never_the_token(auth_client, keys, service_logs):
    import json as _json

    from tests.security.conftest import ISS

    token = sign(keys.ec, "ES384", EC_KID)
    assert call(auth_client, token).status_code == 200
    hook_lines = [_json.loads(line) for line in service_logs.lines if _json.loads(line)["msg"] == "hook"]
    assert hook_lines[-1]["iss"] == ISS and hook_lines[-1]["jti"]
    assert token not in service_logs.text()
