"""Shared pieces of the security tests: keys generated here (never checked in),
a trusted-clients file, JWT minting (honest and hostile), request bodies, a
log capture, and a misbehaving FHIR server on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.app import create_app
from service.hooks import load_services
from service.logs import JsonFormatter

PUBLIC_URL = "https://cds.example.org"
SERVICE_PATH = "/cds-services/mbc-treatment-options"
SERVICE_URL = PUBLIC_URL + SERVICE_PATH
FEEDBACK_PATH = SERVICE_PATH + "/feedback"
ISS = "https://ehr.example.org"
JWKS_URL = "https://ehr.example.org/.well-known/jwks.json"
JKU_ALLOWED = "https://ehr.example.org/jku/jwks.json"
EHR_FHIR = "https://ehr.example.org/fhir/r4"
EC_KID = "ec-key-1"
RSA_KID = "rsa-key-1"


# -- keys ------------------------------------------------------------------------------


class Keys:
    def __init__(self):
        self.ec = ec.generate_private_key(ec.SECP384R1())
        self.ec_other = ec.generate_private_key(ec.SECP384R1())
        self.ec256 = ec.generate_private_key(ec.SECP256R1())
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @staticmethod
    def jwk(private_key, kid: str) -> dict:
        public = private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            data = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            data = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        data["kid"] = kid
        data["use"] = "sig"
        return data

    def jwks(self) -> dict:
        return {"keys": [self.jwk(self.ec, EC_KID), self.jwk(self.rsa, RSA_KID),
                         self.jwk(self.ec256, "ec256-key")]}

    def public_pem(self) -> bytes:
        return self.ec.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


# -- tokens ------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides) -> dict:
    now = int(time.time())
    payload = {"iss": ISS, "aud": SERVICE_URL, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    for key, value in overrides.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def sign(private_key, alg: str = "ES384", kid: str = EC_KID, headers: dict | None = None, **claim_overrides) -> str:
    header = {"typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    header.update(headers or {})
    return jwt.encode(claims(**claim_overrides), private_key, algorithm=alg, headers=header)


def unsigned_token(header: dict, payload: dict, signature: bytes = b"") -> str:
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(payload).encode())
    return f"{head}.{body}.{b64url(signature)}"


def hmac_token(secret: bytes, kid: str = EC_KID, **claim_overrides) -> str:
    """HS256 signed with `secret` (the classic: the issuer's *public* key as HMAC secret)."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64url(json.dumps(claims(**claim_overrides)).encode())
    signing_input = f"{head}.{body}".encode()
    return f"{head}.{body}.{b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())}"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- clients file and apps -----------------------------------------------------------------


def write_clients(tmp_path, clients: list[dict], name: str = "clients.json"):
    path = tmp_path / name
    path.write_text(json.dumps(clients))
    return path


def inline_client(keys: Keys, **extra) -> dict:
    client = {"iss": ISS, "jwks": keys.jwks(), "fhir_servers": [EHR_FHIR]}
    client.update(extra)
    return client


def auth_config(tmp_path, clients_file, **extra) -> dict:
    config = {
        "auth": "on",
        "clients_file": str(clients_file),
        "public_url": PUBLIC_URL,
        "database_url": f"sqlite:///{tmp_path}/feedback.sqlite",
        "fhir_connect_timeout": 0.5,
        "fhir_read_timeout": 0.5,
    }
    config.update(extra)
    return config


@pytest.fixture
def auth_app_factory(tmp_path, keys):
    def make(clients: list[dict] | None = None, **extra):
        clients_file = write_clients(tmp_path, clients if clients is not None else [inline_client(keys)])
        return create_app(auth_config(tmp_path, clients_file, **extra))

    return make


@pytest.fixture
def auth_client(auth_app_factory):
    return auth_app_factory().test_client()


def open_config(tmp_path, **extra) -> dict:
    config = {
        "auth": "off",
        "database_url": f"sqlite:///{tmp_path}/feedback.sqlite",
        "fhir_connect_timeout": 0.5,
        "fhir_read_timeout": 0.5,
    }
    config.update(extra)
    return config


# -- request bodies --------------------------------------------------------------------------


def prefetch_keys() -> list[str]:
    return list(load_services()["mbc-treatment-options"].prefetch)


def empty_prefetch(patient_id: str = "p1") -> dict:
    prefetch = {key: None for key in prefetch_keys()}
    prefetch["patient"] = {"resourceType": "Patient", "id": patient_id, "gender": "female"}
    return prefetch


def hook_body(patient_id: str = "p1", prefetch: dict | None = None, **extra) -> dict:
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": patient_id},
        "prefetch": empty_prefetch(patient_id) if prefetch is None else prefetch,
    }
    body.update(extra)
    return body


def fetch_one_key_body(fhir_server: str, key: str = "conditions", **extra) -> dict:
    """Everything prefetched (null) except one key, which must be fetched."""
    prefetch = empty_prefetch()
    del prefetch[key]
    return hook_body(prefetch=prefetch, fhirServer=fhir_server, **extra)


def feedback_body() -> dict:
    return {"feedback": [{
        "card": str(uuid.uuid4()), "outcome": "overridden",
        "outcomeTimestamp": "2025-01-01T12:00:00Z",
    }]}


# -- logs ----------------------------------------------------------------------------------------


class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def service_logs():
    """Everything the service logs (all mbc_cds loggers, DEBUG and up), formatted."""
    root = logging.getLogger("mbc_cds")
    handler = LogCapture()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


# -- a misbehaving FHIR server on 127.0.0.1 --------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    """Tests hang up on slow answers on purpose; the server thread then meets a
    reset connection. That is expected, so it is not printed over the test output."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class FHIRTestServer:
    """A tiny threaded HTTP server. Paths /fhir/<behaviour>/... pick the behaviour;
    `handlers` maps behaviour -> callable(handler). `requests` records (path, headers)."""

    def __init__(self):
        self.handlers: dict[str, Callable] = {}
        self.requests: list[tuple[str, dict]] = []
        self.release = threading.Event()  # set on stop: slow handlers give up
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers)))
                parts = self.path.split("/")
                behaviour = parts[2] if len(parts) > 2 else ""
                handler = outer.handlers.get(behaviour)
                try:
                    if handler is None:
                        self.send_json(404, {"resourceType": "OperationOutcome"})
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def send_json(self, status: int, data, headers: dict | None = None):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def base(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.port}/fhir/{behaviour}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fhir_test_server():
    server = FHIRTestServer().start()
    yield server
    server.stop()
