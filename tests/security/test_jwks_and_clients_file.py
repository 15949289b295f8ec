"""JWK Sets fetched from jwks_url / allowlisted jku: timeouts, caching, one
rate-limited refresh on an unknown kid; the trusted-clients file and the
algorithm settings are checked at start-up."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
import responses
from pydantic import ValidationError

from service import auth
from service.app import create_app
from service.config import Settings

from .conftest import (
    EC_KID, EHR_FHIR, ISS, JKU_ALLOWED, JWKS_URL, SERVICE_PATH, Keys, auth_config, bearer,
    hook_body, sign, write_clients,
)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(auth, "_monotonic", fake)
    return fake


@pytest.fixture
def remote_app(tmp_path):
    clients = [{"iss": ISS, "jwks_url": JWKS_URL, "jku_allowlist": [JKU_ALLOWED], "fhir_servers": [EHR_FHIR]}]
    path = write_clients(tmp_path, clients)
    return create_app(auth_config(tmp_path, path, jwks_refresh_min_interval_seconds=60)).test_client()


def call(client, token):
    return client.post(SERVICE_PATH, json=hook_body(), headers=bearer(token))


def test_jwks_from_jwks_url_is_fetched_once_and_cached(remote_app, keys, clock):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=keys.jwks())
        for _ in range(3):
            assert call(remote_app, sign(keys.ec)).status_code == 200
            clock.now += 5
        assert len(rsps.calls) == 1


def test_an_unknown_kid_triggers_one_rate_limited_refresh(remote_app, keys, clock):
    rotated = Keys.jwk(keys.ec_other, "rotated-key")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=keys.jwks())
        assert call(remote_app, sign(keys.ec)).status_code == 200
        assert len(rsps.calls) == 1

        clock.now += 61  # past the refresh interval: one refetch for the unknown kid
        assert call(remote_app, sign(keys.ec, kid="not-yet-published")).status_code == 401
        assert len(rsps.calls) == 2

        for _ in range(5):  # within the interval: no more fetches, however many unknown kids
            clock.now += 1
            assert call(remote_app, sign(keys.ec, kid=f"junk-{clock.now}")).status_code == 401
        assert len(rsps.calls) == 2

        # the client rotates its key; after the interval the new kid is picked up
        rsps.replace(responses.GET, JWKS_URL, json={"keys": keys.jwks()["keys"] + [rotated]})
        clock.now += 61
        assert call(remote_app, sign(keys.ec_other, kid="rotated-key")).status_code == 200
        assert len(rsps.calls) == 3


def test_an_allowlisted_jku_is_used_for_the_key(remote_app, keys, clock):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JKU_ALLOWED, json=keys.jwks())
        token = sign(keys.ec, headers={"jku": JKU_ALLOWED})
        assert call(remote_app, token).status_code == 200
        assert [c.request.url for c in rsps.calls] == [JKU_ALLOWED]


def test_a_jwks_endpoint_that_fails_gives_a_401_not_a_500(remote_app, keys, clock):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, status=500, body="oops")
        response = call(remote_app, sign(keys.ec))
        assert response.status_code == 401
        assert "keys could not be fetched" in response.get_json()["message"]
        call(remote_app, sign(keys.ec))  # rate-limited: not fetched again at once
        assert len(rsps.calls) == 1


def test_a_jwks_endpoint_that_redirects_is_not_followed(remote_app, keys, clock):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, JWKS_URL, status=302, headers={"Location": "https://attacker.example.net/jwks"})
        rsps.add(responses.GET, "https://attacker.example.net/jwks", json=keys.jwks())
        assert call(remote_app, sign(keys.ec)).status_code == 401
        assert [c.request.url for c in rsps.calls] == [JWKS_URL]


def test_a_jwks_with_symmetric_or_private_keys_does_not_help_an_attacker(remote_app, keys, clock):
    secret_jwk = {"kty": "oct", "kid": EC_KID, "k": "c2VjcmV0"}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json={"keys": [secret_jwk]})
        from .conftest import hmac_token
        assert call(remote_app, hmac_token(b"secret")).status_code == 401
        assert call(remote_app, sign(keys.ec)).status_code == 401


# -- start-up checks ----------------------------------------------------------------------------


def start(tmp_path, clients, **extra):
    path = write_clients(tmp_path, clients) if not isinstance(clients, str) else clients
    return create_app(auth_config(tmp_path, path, **extra))


@pytest.mark.parametrize("clients, problem", [
    ({"iss": ISS}, "expected a list"),
    ([{"iss": ISS, "fhir_servers": []}], "needs jwks_url"),
    ([{"iss": ISS, "jwks_url": "http://ehr.example.org/jwks"}], "jwks_url"),
    ([{"iss": ISS, "jwks_url": "https://169.254.169.254/latest/meta-data/"}], "jwks_url"),
    ([{"iss": ISS, "jwks_url": JWKS_URL, "jku_allowlist": ["https://metadata.google.internal/jwks"]}], "jku"),
    ([{"iss": ISS, "jwks_url": JWKS_URL, "fhir_servers": "https://x"}], "fhir_servers"),
    ([{"iss": ISS, "jwks_url": JWKS_URL, "fhir_servers": ["https://169.254.169.254/"]}], "fhir_servers"),
    ([{"iss": ISS, "jwks": {"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}}], "symmetric"),
    ([{"iss": ISS, "jwks_url": JWKS_URL}, {"iss": ISS, "jwks_url": JWKS_URL}], "listed twice"),
    ([{"iss": ISS, "jwks_url": JWKS_URL, "unknown_field": 1}], "unknown_field"),
])
def test_a_malformed_clients_file_stops_start_up_with_the_problem_named(tmp_path, clients, problem):
    with pytest.raises(ValidationError) as excinfo:
        start(tmp_path, clients)
    message = str(excinfo.value)
    assert "MBC_CDS_CLIENTS_FILE" in message and problem in message


def test_an_inline_private_key_in_the_clients_file_stops_start_up(tmp_path, keys):
    from cryptography.hazmat.primitives.asymmetric import ec
    import jwt
    private = jwt.algorithms.ECAlgorithm.to_jwk(keys.ec, as_dict=True)
    private["kid"] = EC_KID
    assert isinstance(keys.ec, ec.EllipticCurvePrivateKey)
    with pytest.raises(ValidationError, match="private key"):
        start(tmp_path, [{"iss": ISS, "jwks": {"keys": [private]}}])


def test_a_missing_clients_file_stops_start_up(tmp_path):
    with pytest.raises(ValidationError, match="cannot be read"):
        start(tmp_path, str(tmp_path / "nope.yaml"))


def test_a_yaml_clients_file_is_read(tmp_path, keys):
    import json as _json
    path = tmp_path / "clients.yaml"
    jwks = _json.dumps(keys.jwks())
    path.write_text(f"- iss: {ISS}\n  jwks: {jwks}\n  fhir_servers:\n    - {EHR_FHIR}\n")
    client = start(tmp_path, str(path)).test_client()
    assert call(client, sign(keys.ec)).status_code == 200


@pytest.mark.parametrize("algorithms", [["HS256"], ["none"], ["ES384", "HS512"]])
def test_hmac_or_none_in_the_algorithm_settings_stops_start_up(algorithms):
    with pytest.raises(ValidationError, match="never none or HMAC"):
        Settings(auth="off", jwt_algorithms=algorithms)


def test_auth_on_without_a_clients_file_refuses_every_hook_call(tmp_path, keys):
    app = create_app({"auth": "on", "database_url": f"sqlite:///{tmp_path}/fb.sqlite"})
    response = app.test_client().post(SERVICE_PATH, json=hook_body(), headers=bearer(sign(keys.ec)))
    assert response.status_code == 401
    assert "no trusted clients" in response.get_json()["message"]


def test_the_replay_cache_forgets_a_jti_after_its_token_expired(monkeypatch):
    cache = auth.ReplayCache(max_entries=10)
    now = [1000.0]
    monkeypatch.setattr(auth, "_wall", lambda: now[0])
    assert cache.seen(("iss", "a"), 1100.0) is False
    assert cache.seen(("iss", "a"), 1100.0) is True
    now[0] = 1101.0
    assert cache.seen(("iss", "b"), 1200.0) is False
    assert len(cache) == 1  # "a" expired and was dropped
    assert cache.seen(("iss", "a"), 1300.0) is False


def test_the_replay_cache_is_bounded(monkeypatch):
    cache = auth.ReplayCache(max_entries=3)
    monkeypatch.setattr(auth, "_wall", lambda: 1000.0)
    for jti in "abc":
        cache.seen(("iss", jti), 2000.0)
    with pytest.raises(auth.Unauthorized):
        cache.seen(("iss", "d"), 2000.0)


def test_the_replay_cache_is_thread_safe():
    import threading
    cache = auth.ReplayCache(max_entries=100_000)
    results = []

    def worker():
        results.append(cache.seen(("iss", "shared-jti"), 9e12))

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(False) == 1 and results.count(True) == 31


def test_auth_with_clients_but_without_a_public_url_stops_start_up(tmp_path, keys):
    """Otherwise aud would be checked against the caller's Host header: a token minted
    for another CDS service of the same EHR could be replayed here."""
    from .conftest import inline_client
    path = write_clients(tmp_path, [inline_client(keys)])
    config = auth_config(tmp_path, path)
    del config["public_url"]
    with pytest.raises(ValidationError, match="MBC_CDS_PUBLIC_URL is required"):
        create_app(config)


@pytest.mark.parametrize("url", ["cds.example.org", "ftp://cds.example.org", "https://cds.example.org/?x=1"])
def test_a_malformed_public_url_stops_start_up(url):
    with pytest.raises(ValidationError, match="MBC_CDS_PUBLIC_URL"):
        Settings(auth="off", public_url=url)


def test_the_host_header_does_not_change_the_audience(auth_client, keys):
    token = sign(keys.ec, aud="https://other-cds.example.net" + SERVICE_PATH)
    response = auth_client.post(SERVICE_PATH, json=hook_body(), headers={
        **bearer(token), "Host": "other-cds.example.net"})
    assert response.status_code == 401


def test_an_oversized_jwks_is_refused(remote_app, keys, clock):
    huge = {"keys": keys.jwks()["keys"] + [{"kty": "EC", "kid": f"pad-{i}", "x": "A" * 200} for i in range(2000)]}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=huge)
        response = call(remote_app, sign(keys.ec))
    assert response.status_code == 401
    assert "keys could not be fetched" in response.get_json()["message"]


def test_auth_on_without_a_clients_file_warns_at_start_up_and_refuses_every_call(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="mbc_cds"):
        app = create_app({"auth": "on", "public_url": "https://cds.example.org",
                          "database_url": f"sqlite:///{tmp_path}/feedback.sqlite"})
    assert any("MBC_CDS_CLIENTS_FILE is unset" in r.getMessage() for r in caplog.records)
    response = app.test_client().post("/cds-services/mbc-treatment-options", json={"hook": "patient-view"})
    assert response.status_code == 401


def test_a_slow_key_refetch_forced_by_an_unknown_kid_does_not_stall_valid_tokens(remote_app, keys, clock):
    release = threading.Event()
    fetching = threading.Event()

    def slow_jwks(request):
        fetching.set()
        release.wait(10)  # the issuer's key server hangs until the valid call is done
        return 200, {}, json.dumps(keys.jwks())

    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, JWKS_URL, json=keys.jwks())
        assert call(remote_app, sign(keys.ec)).status_code == 200  # keys cached
        rsps.remove(responses.GET, JWKS_URL)
        rsps.add_callback(responses.GET, JWKS_URL, callback=slow_jwks)
        clock.now += 61  # an unknown kid may now force a refetch
        forged = threading.Thread(target=call, args=(remote_app, sign(keys.ec, kid="forged")))
        forged.start()
        try:
            assert fetching.wait(5)
            started = time.monotonic()
            assert call(remote_app, sign(keys.ec)).status_code == 200
            assert time.monotonic() - started < 2  # not behind the hanging fetch
        finally:
            release.set()
            forged.join(10)
