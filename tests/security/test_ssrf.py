"""The service is never a tool against other servers: a fhirServer that is not
allowed for the calling issuer, a metadata / link-local address in any spelling,
credentials in the URL, a redirect or a next link to elsewhere -> 412 and no
request to anywhere it was not allowed to go. HTTP is mocked with `responses`:
a catch-all records any outbound call that should not have happened."""

from __future__ import annotations

import ipaddress
import re
import socket

import pytest
import responses

from service.app import create_app
from service.auth import Client
from service.config import Settings
from service.errors import PreconditionFailed
from service.fhir_access import allowed_fhir_server
from service.fhir_client import FHIRClient, FHIRUnreachable

from .conftest import (
    EHR_FHIR, SERVICE_PATH, bearer, fetch_one_key_body, inline_client, open_config, sign,
)

ANY_URL = re.compile(r".*")


def catch_all(rsps):
    """Register a 200 for every URL: any outbound request shows up in rsps.calls."""
    rsps.add(responses.GET, ANY_URL, json={"resourceType": "Bundle", "type": "searchset", "entry": []})


def post_as_client(client, keys, body):
    return client.post(SERVICE_PATH, json=body, headers=bearer(sign(keys.ec)))


def test_a_fhir_server_not_allowed_for_the_issuer_is_a_412_without_any_request(auth_client, keys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        response = post_as_client(auth_client, keys, fetch_one_key_body("https://other-ehr.example.net/fhir"))
        assert len(rsps.calls) == 0
    assert response.status_code == 412
    assert "allowlist" in response.get_json()["message"]


def test_the_allowed_fhir_server_is_called_with_the_token(auth_client, keys):
    auth = {"access_token": "fhir-token-123", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "mbc-cds"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        response = post_as_client(auth_client, keys, fetch_one_key_body(EHR_FHIR, fhirAuthorization=auth))
        assert [c.request.url.split("?")[0] for c in rsps.calls] == [EHR_FHIR + "/Condition"]
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer fhir-token-123"
    assert response.status_code == 200


def test_a_client_with_no_fhir_servers_configured_may_not_name_one(auth_app_factory, keys):
    client = auth_app_factory([inline_client(keys, fhir_servers=[])]).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        response = post_as_client(client, keys, fetch_one_key_body(EHR_FHIR))
        assert len(rsps.calls) == 0
    assert response.status_code == 412


@pytest.mark.parametrize("url", [
    "https://169.254.169.254/latest/meta-data",
    "http://169.254.169.254/latest/meta-data",
    "https://169.254.169.254:443/computeMetadata/v1",
    "https://2852039166/",                  # decimal
    "https://0xa9fea9fe/",                  # hex
    "https://0xa9.0xfe.0xa9.0xfe/",         # dotted hex
    "https://0251.0376.0251.0376/",         # dotted octal
    "https://169.254.43518/",               # short form
    "https://[::ffff:169.254.169.254]/",    # IPv4-mapped IPv6
    "https://[::ffff:a9fe:a9fe]/",
    "https://[64:ff9b::a9fe:a9fe]/",        # NAT64
    "https://[fe80::1]/",                   # IPv6 link-local
    "https://[fd00:ec2::254]/",             # AWS IMDS over IPv6
    "https://100.100.100.200/",             # Alibaba metadata
    "http://168.63.129.16/machine",         # Azure WireServer
    "https://metadata.google.internal/computeMetadata/v1",
    "https://0.0.0.0/",
    "https://[::]/",
])
def test_metadata_and_link_local_addresses_are_refused_even_when_any_server_is_allowed(tmp_path, url):
    # the most permissive set-up there is: auth off, no allowlist, http allowed
    app = create_app(open_config(tmp_path, allow_http_fhir=True))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        response = app.test_client().post(SERVICE_PATH, json=fetch_one_key_body(url))
        assert len(rsps.calls) == 0
    assert response.status_code == 412


@pytest.mark.parametrize("url, reason", [
    ("https://user:secret@ehr.example.org/fhir", "credentials"),
    ("https://ehr.example.org@attacker.example.net/fhir", "credentials"),
    ("https://ehr.example.org\\@attacker.example.net/fhir", "characters"),
    ("https://ehr.example.org/fhir/../admin", "dot segments"),
    ("https://ehr.example.org/fhir/%2e%2e/admin", "encoded"),
    ("https://ehr.example.org/fhir?target=http://169.254.169.254", "query"),
    ("https://ehr.example.org/fhir#frag", "query or fragment"),
    ("https://ehr.example.org\n.attacker.example.net/fhir", "characters"),
    ("https://еhr.example.org/fhir", "characters"),  # Cyrillic e
    ("file:///etc/passwd", "http(s)"),
    ("gopher://ehr.example.org:6379/_FLUSHALL", "http(s)"),
    ("https://ehr.example.org:99999/fhir", "not a valid URL"),
    ("http://ehr.example.org/fhir", "https"),
])
def test_hostile_fhir_server_urls_are_refused_before_any_request(tmp_path, url, reason):
    app = create_app(open_config(tmp_path))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        response = app.test_client().post(SERVICE_PATH, json=fetch_one_key_body(url))
        assert len(rsps.calls) == 0
    # 400: not a well-formed base URL (checked on every request); 412: well-formed, refused
    assert response.status_code in (400, 412)
    assert reason in response.get_json()["message"]


@pytest.mark.parametrize("url", ["https://127.0.0.1/fhir", "https://localhost/fhir", "https://10.0.0.8/fhir",
                                 "https://192.168.1.10/fhir", "https://[::1]/fhir"])
def test_with_any_server_allowed_private_addresses_need_local_testing_mode(tmp_path, url):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        refused = create_app(open_config(tmp_path)).test_client().post(SERVICE_PATH, json=fetch_one_key_body(url))
        assert len(rsps.calls) == 0
    assert refused.status_code == 412
    local = create_app(open_config(tmp_path, allow_http_fhir=True))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        assert local.test_client().post(SERVICE_PATH, json=fetch_one_key_body(url)).status_code == 200


def test_with_auth_off_the_fhir_servers_setting_is_the_allowlist(tmp_path):
    app = create_app(open_config(tmp_path, fhir_servers="https://EHR.example.org:443/fhir/r4/"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        catch_all(rsps)
        client = app.test_client()
        assert client.post(SERVICE_PATH, json=fetch_one_key_body("https://other.example.org/fhir")).status_code == 412
        assert len(rsps.calls) == 0
        # scheme/host case and the default port do not matter; the path does
        assert client.post(SERVICE_PATH, json=fetch_one_key_body(EHR_FHIR)).status_code == 200
        assert client.post(SERVICE_PATH, json=fetch_one_key_body(EHR_FHIR + "/x")).status_code == 412
        assert len(rsps.calls) == 1


def test_a_redirecting_fhir_server_is_not_followed_and_the_token_stays_home(auth_client, keys):
    auth = {"access_token": "fhir-token-xyz", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "mbc-cds"}
    elsewhere = "https://attacker.example.net/steal"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(EHR_FHIR) + ".*"), status=302, headers={"Location": elsewhere})
        rsps.add(responses.GET, elsewhere, json={})
        response = post_as_client(auth_client, keys, fetch_one_key_body(EHR_FHIR, fhirAuthorization=auth))
        urls = [c.request.url for c in rsps.calls]
    assert response.status_code == 412
    assert "redirect" in response.get_json()["message"]
    assert urls and all(u.startswith(EHR_FHIR) for u in urls)
    assert not any(u.startswith(elsewhere) for u in urls)


@pytest.mark.parametrize("next_url", [
    "https://attacker.example.net/fhir/r4/Condition?page=2",
    "https://ehr.example.org:8443/fhir/r4/Condition?page=2",
    "http://ehr.example.org/fhir/r4/Condition?page=2",
    "https://ehr.example.org/admin/Condition?page=2",
    "https://ehr.example.org/fhir/r4/../../admin?page=2",
    "https://ehr.example.org/fhir/r4@attacker.example.net/x",
    "https://user@ehr.example.org/fhir/r4/Condition?page=2",
])
def test_next_links_leaving_the_fhir_server_are_not_followed(tmp_path, next_url):
    app = create_app(open_config(tmp_path, fhir_servers=EHR_FHIR))
    page = {"resourceType": "Bundle", "type": "searchset", "entry": [],
            "link": [{"relation": "next", "url": next_url}]}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        # the first page (whatever _count the client adds), then nothing else
        rsps.add(responses.GET, re.compile(re.escape(f"{EHR_FHIR}/Condition?patient=p1") + r"(&.*)?$"), json=page)
        catch_all(rsps)
        response = app.test_client().post(SERVICE_PATH, json=fetch_one_key_body(EHR_FHIR))
        assert len(rsps.calls) == 1
    assert response.status_code == 412
    assert "next link" in response.get_json()["message"]


def test_a_host_name_resolving_to_the_metadata_address_is_refused_at_connect_time(monkeypatch):
    """DNS rebinding: the name passed the URL check; the address it resolves to is checked
    before connecting, and no connection is opened."""
    connects = []
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.example.org":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    import urllib3.util.connection as uconn
    monkeypatch.setattr(uconn, "create_connection", lambda *a, **k: connects.append(a) or (_ for _ in ()).throw(OSError("no")))
    base = allowed_fhir_server("https://rebind.example.org/fhir", Settings(auth="off"), None)
    client = FHIRClient(base, "token", connect_timeout=0.5, read_timeout=0.5)
    with pytest.raises(FHIRUnreachable, match="address is not allowed"):
        client.read("Patient/p1")
    assert connects == []


def test_with_any_server_allowed_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    base = allowed_fhir_server("https://internal-looking.example.org/fhir", Settings(auth="off"), None)
    assert base.public_only
    with pytest.raises(FHIRUnreachable, match="address is not allowed"):
        FHIRClient(base, None, connect_timeout=0.5, read_timeout=0.5).read("Patient/p1")


def test_an_allowlisted_client_base_may_be_on_a_private_network(monkeypatch):
    client = Client(iss="x", fhir_servers=("https://ehr.hospital.internal/fhir",))
    base = allowed_fhir_server("https://ehr.hospital.internal/fhir", Settings(auth="off"), client)
    assert base == "https://ehr.hospital.internal/fhir" and not base.public_only


def test_the_guard_sees_every_spelling_of_169_254_169_254():
    from service.fhir_access import address_problem, parse_ip_literal
    for spelling in ["169.254.169.254", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518",
                     "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1"]:
        ip = parse_ip_literal(spelling)
        assert ip is not None, spelling
        assert address_problem(ip, public_only=False), spelling
    assert address_problem(ipaddress.ip_address("93.184.216.34"), public_only=True) is None


def test_the_fhir_session_keeps_no_cookies(fhir_test_server):
    seen_cookies = []

    def set_cookie(handler):
        seen_cookies.append(handler.headers.get("Cookie"))
        handler.send_json(200, {"resourceType": "Patient", "id": "p1"},
                          headers={"Set-Cookie": "session=user-a; Path=/"})

    fhir_test_server.handlers["cookie"] = set_cookie
    base = allowed_fhir_server(fhir_test_server.base("cookie"), Settings(auth="off", allow_http_fhir=True), None)
    for _ in range(2):
        FHIRClient(base, None, connect_timeout=1, read_timeout=1).read("Patient/p1")
    assert seen_cookies == [None, None]


def test_the_guard_raises_precondition_failed_not_a_500_for_non_strings():
    for value in [None, 5, ["https://x"], {"a": 1}, ""]:
        with pytest.raises(PreconditionFailed):
            allowed_fhir_server(value, Settings(auth="off"), None)
