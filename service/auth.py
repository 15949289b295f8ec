"""Client authentication (CDS Hooks 2.0.1 "Trusting CDS Clients").

With MBC_CDS_AUTH=on (the default) every hook and feedback call must carry
`Authorization: Bearer <JWT>` signed by a trusted CDS client. Discovery stays
open. Trusted clients come from the file named by MBC_CDS_CLIENTS_FILE (YAML or
JSON), a list of:

    - iss: https://ehr.example.org          # the client's `iss`, exactly
      jwks_url: https://ehr.example.org/.well-known/jwks.json   # or
      jwks: {keys: [...]}                   # an inline JWK Set (public keys)
      jku_allowlist: [https://ehr.example.org/jwks.json]        # optional
      fhir_servers: [https://ehr.example.org/fhir/r4]           # FHIR bases it may name
      tenants: [org-1]                      # optional: allowed `tenant` claims

Checks, in order (each failure -> errors.Unauthorized, 401 + WWW-Authenticate):
header `alg` in the configured allowlist (never `none`, never HMAC: rejected
before any key lookup); `typ` JWT if present; `kid` present; `iss` known;
`jku` (if any) on the issuer's allowlist; the key named by `kid` in the
issuer's key set (remote sets cached, refreshed on an unknown `kid` at most
once per MBC_CDS_JWKS_REFRESH_MIN_INTERVAL_SECONDS per issuer); signature;
`exp`, `iat`, `jti`, `aud`, `iss` required; `aud` equal to the called endpoint
URL; `exp` not past; `iat` not in the future beyond the leeway; lifetime not
longer than MBC_CDS_JWT_MAX_LIFETIME_SECONDS; `tenant` allowed; `jti` not seen
before within its lifetime (in-process replay cache).

The token is never logged, stored or echoed; failures log the reason and the
(unverified, truncated) `iss` only.

Contract: authenticate(flask_request, settings, audience) -> Client | None.
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from service.errors import Unauthorized
from service.fhir_access import config_url_problem
from service.logs import caller_value_withheld, jti_for_log, tenant_for_log

log = logging.getLogger("mbc_cds.auth")

# Asymmetric algorithms only. `none` and HS256/384/512 are never accepted,
# whatever the settings say (config.Settings rejects them at start-up).
ASYMMETRIC_ALGORITHMS = frozenset({
    "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
})
_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_PUBLIC_JWK_MEMBERS = ("kty", "kid", "use", "alg", "crv", "x", "y", "n", "e", "key_ops")
_PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")

MAX_TOKEN_CHARS = 16 * 1024
MAX_JWKS_BYTES = 256 * 1024
MAX_CLIENTS_FILE_BYTES = 1024 * 1024
MAX_JTI_CHARS = 256
REPLAY_CACHE_MAX_ENTRIES = 200_000

_BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9_\-\.=]+)\s*$")

# Clocks, module-level so tests can move time.
_monotonic = time.monotonic
_wall = time.time


@dataclass(frozen=True)
class Client:
    iss: str
    fhir_servers: tuple[str, ...] = field(default_factory=tuple)
    jti: str | None = None
    tenant: str | None = None
    # the issuer's allowed tenant claims (clients file `tenants`): logged as sent, others hashed
    known_tenants: tuple[str, ...] = ()


class ClientsFileError(ValueError):
    """The trusted-clients file is missing or malformed (a start-up error)."""


# -- the trusted-clients file ------------------------------------------------------


def _key_url_ok(url: str) -> bool:
    """JWK Set URLs: https, or http to the loopback host (local testing); never a
    link-local / cloud-metadata address or host name (as for fhir_servers)."""
    if config_url_problem(url):  # unparsable, credentials, no host, a metadata address
        return False
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _public_jwk(jwk_dict: dict) -> dict:
    return {k: jwk_dict[k] for k in _PUBLIC_JWK_MEMBERS if k in jwk_dict}


class TrustedClientConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1, max_length=2048)
    jwks_url: str | None = Field(default=None, max_length=2048)
    jwks: dict[str, Any] | None = None
    jku_allowlist: list[str] = Field(default_factory=list, max_length=20)
    fhir_servers: list[str] = Field(default_factory=list, max_length=200)
    tenants: list[str] | None = None

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_https(cls, value):
        if value is not None and not _key_url_ok(value):
            raise ValueError("must be an https URL without credentials")
        return value

    @field_validator("jku_allowlist")
    @classmethod
    def _jku_https(cls, value):
        for url in value:
            if not _key_url_ok(url):
                raise ValueError(f"{url!r} must be an https URL without credentials")
        return value

    @field_validator("fhir_servers")
    @classmethod
    def _fhir_servers_valid(cls, value):
        for url in value:
            problem = config_url_problem(url)
            if problem:
                raise ValueError(f"{url!r}: {problem}")
        return value

    @field_validator("jwks")
    @classmethod
    def _inline_jwks_public(cls, value):
        if value is None:
            return value
        keys = value.get("keys")
        if not isinstance(keys, list) or not keys:
            raise ValueError("must be a JWK Set: {keys: [...]} with at least one key")
        for i, key in enumerate(keys):
            if not isinstance(key, dict):
                raise ValueError(f"keys[{i}] is not an object")
            if key.get("kty") not in ("EC", "RSA"):
                raise ValueError(f"keys[{i}]: kty must be EC or RSA (no symmetric keys)")
            if any(m in key for m in _PRIVATE_JWK_MEMBERS):
                raise ValueError(f"keys[{i}] contains private key material; give the public key only")
            if not isinstance(key.get("kid"), str) or not key["kid"]:
                raise ValueError(f"keys[{i}] has no kid")
            try:
                jwt.PyJWK(_public_jwk(key))
            except Exception as exc:  # PyJWT raises several types here
                raise ValueError(f"keys[{i}] is not a usable public key ({exc.__class__.__name__})")
        return value

    @model_validator(mode="after")
    def _has_a_key_source(self):
        if self.jwks_url and self.jwks:
            raise ValueError("give either jwks_url or jwks, not both")
        if not (self.jwks_url or self.jwks or self.jku_allowlist):
            raise ValueError("needs jwks_url, jwks (inline JWK Set) or jku_allowlist")
        return self


class _ClientsFile(BaseModel):
    clients: list[TrustedClientConfig] = Field(max_length=1000)


def load_clients_file(path: str) -> dict[str, TrustedClientConfig]:
    """Read and validate the trusted-clients file: iss -> config."""
    try:
        size = os.path.getsize(path)
        if size > MAX_CLIENTS_FILE_BYTES:
            raise ClientsFileError(f"MBC_CDS_CLIENTS_FILE {path}: larger than {MAX_CLIENTS_FILE_BYTES} bytes")
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except ClientsFileError:
        raise
    except OSError as exc:
        raise ClientsFileError(f"MBC_CDS_CLIENTS_FILE {path}: cannot be read ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ClientsFileError(f"MBC_CDS_CLIENTS_FILE {path}: not valid YAML/JSON ({exc.__class__.__name__})") from None
    if isinstance(data, dict) and "clients" in data:
        data = data["clients"]
    if not isinstance(data, list):
        raise ClientsFileError(
            f"MBC_CDS_CLIENTS_FILE {path}: expected a list of clients "
            "({iss, jwks_url | jwks, jku_allowlist?, fhir_servers})"
        )
    try:
        parsed = _ClientsFile(clients=data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            loc = [str(p) for p in err.get("loc", ())]
            if loc and loc[0] == "clients":
                loc = loc[1:]
            where = f"clients[{loc[0]}]" + "".join(f".{p}" for p in loc[1:]) if loc else "clients"
            problems.append(f"{where}: {err.get('msg', 'invalid').removeprefix('Value error, ')}")
        raise ClientsFileError(f"MBC_CDS_CLIENTS_FILE {path}: " + "; ".join(problems)) from None
    clients: dict[str, TrustedClientConfig] = {}
    for i, client in enumerate(parsed.clients):
        if client.iss in clients:
            raise ClientsFileError(f"MBC_CDS_CLIENTS_FILE {path}: clients[{i}].iss {client.iss!r} is listed twice")
        clients[client.iss] = client
    return clients


def check_settings(settings) -> None:
    """Start-up checks (called from config.Settings): algorithms, clients file."""
    bad = [a for a in settings.jwt_algorithms if a not in ASYMMETRIC_ALGORITHMS]
    if bad:
        raise ValueError(
            f"MBC_CDS_JWT_ALGORITHMS: {', '.join(bad)} not allowed; choose from "
            f"{', '.join(sorted(ASYMMETRIC_ALGORITHMS))} (never none or HMAC)"
        )
    if settings.public_url is not None:
        try:
            parts = urlsplit(settings.public_url)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("MBC_CDS_PUBLIC_URL must be an absolute http(s) base URL, e.g. https://cds.example.org")
    if settings.auth_enabled and settings.clients_file:
        if not settings.public_url:
            # Without it the JWT `aud` would be checked against the caller's own
            # Host header, and a token minted for another service would pass.
            raise ValueError(
                "MBC_CDS_PUBLIC_URL is required with MBC_CDS_AUTH=on: the JWT aud is checked "
                "against it, never against the request's Host header"
            )
        registry_for(settings.clients_file)


# -- key sets ------------------------------------------------------------------------


class _KeySet:
    """One JWK Set: kid -> public JWK dict."""

    def __init__(self, keys: dict[str, dict], fetched_at: float):
        self.keys = keys
        self.fetched_at = fetched_at
        self._parsed: dict[tuple[str, str], Any] = {}

    @classmethod
    def from_jwks(cls, jwks: Any, fetched_at: float) -> "_KeySet":
        keys: dict[str, dict] = {}
        if isinstance(jwks, dict) and isinstance(jwks.get("keys"), list):
            for key in jwks["keys"]:
                if not isinstance(key, dict) or key.get("kty") not in ("EC", "RSA"):
                    continue  # never a symmetric key
                kid = key.get("kid")
                if isinstance(kid, str) and kid and kid not in keys:
                    keys[kid] = _public_jwk(key)
        return cls(keys, fetched_at)

    def key_for(self, kid: str, alg: str):
        """The verification key for kid/alg, or None if the key does not fit alg."""
        cached = self._parsed.get((kid, alg))
        if cached is not None:
            return cached
        jwk_dict = self.keys.get(kid)
        if jwk_dict is None or not _key_fits(jwk_dict, alg):
            return None
        try:
            key = jwt.PyJWK(jwk_dict, algorithm=alg).key
        except Exception:
            return None
        if jwk_dict["kty"] == "RSA" and getattr(key, "key_size", 0) < 2048:
            return None
        self._parsed[(kid, alg)] = key
        return key


def _key_fits(jwk_dict: dict, alg: str) -> bool:
    if jwk_dict.get("use") not in (None, "sig"):
        return False
    if jwk_dict.get("alg") not in (None, alg):
        return False
    if alg.startswith("ES"):
        return jwk_dict.get("kty") == "EC" and jwk_dict.get("crv") == _EC_CURVES[alg]
    return jwk_dict.get("kty") == "RSA"


class _IssuerKeys:
    """Key sets for one issuer: inline, jwks_url, allowlisted jku URLs."""

    def __init__(self, config: TrustedClientConfig):
        self.config = config
        self.inline = _KeySet.from_jwks(config.jwks, 0.0) if config.jwks else None
        self.remote: dict[str, _KeySet] = {}
        self.last_fetch: float | None = None  # monotonic, any URL of this issuer
        self.attempted: set[str] = set()
        self.lock = threading.Lock()

    def key_for(self, url: str | None, kid: str, alg: str, settings):
        if url is None:
            return self.inline.key_for(kid, alg) if self.inline else None
        keyset = self.remote.get(url)
        if (keyset is not None and kid in keyset.keys
                and _monotonic() - keyset.fetched_at <= settings.jwks_cache_seconds):
            # a known key of a fresh set needs no lock: a refetch that another token
            # forced (an unknown kid, one a minute) must not stall the issuer's valid calls
            return keyset.key_for(kid, alg)
        with self.lock:
            now = _monotonic()
            keyset = self.remote.get(url)
            first_look = url not in self.attempted
            rate_ok = (
                self.last_fetch is None
                or now - self.last_fetch >= settings.jwks_refresh_min_interval_seconds
            )
            may_fetch = first_look or rate_ok
            stale = keyset is None or now - keyset.fetched_at > settings.jwks_cache_seconds
            if stale and may_fetch:
                keyset = self._fetch(url, settings) or keyset
                may_fetch = False
            if keyset is not None and kid not in keyset.keys and may_fetch:
                # unknown kid: the client may have rotated keys; refresh, rate-limited
                keyset = self._fetch(url, settings) or keyset
            if keyset is None:
                raise _fail("the issuer's keys could not be fetched", self.config.iss)
            return keyset.key_for(kid, alg)

    def _fetch(self, url: str, settings) -> _KeySet | None:
        now = _monotonic()
        self.last_fetch = now
        self.attempted.add(url)
        try:
            jwks = fetch_jwks(url, settings)
        except Exception as exc:
            log.warning("jwks fetch failed", extra={"fields": {
                "iss": self.config.iss[:200], "jwks": url[:200], "reason": str(exc)[:200]}})
            return None
        keyset = _KeySet.from_jwks(jwks, now)
        self.remote[url] = keyset
        return keyset


_jwks_session: requests.Session | None = None
_jwks_session_lock = threading.Lock()


def _session() -> requests.Session:
    global _jwks_session
    with _jwks_session_lock:
        if _jwks_session is None:
            from http.cookiejar import DefaultCookiePolicy

            session = requests.Session()
            session.trust_env = False
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            _jwks_session = session
        return _jwks_session


def fetch_jwks(url: str, settings) -> dict:
    """GET a JWK Set with timeouts, no redirects, a size bound."""
    timeout = (settings.jwks_connect_timeout, settings.jwks_read_timeout)
    response = _session().get(
        url, timeout=timeout, allow_redirects=False, stream=True,
        headers={"Accept": "application/jwk-set+json, application/json"},
    )
    deadline = _monotonic() + settings.jwks_connect_timeout + settings.jwks_read_timeout
    with response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body, size = [], 0
        while True:
            if _monotonic() > deadline:
                raise ValueError("JWK Set endpoint too slow")
            chunk = response.raw.read1(16384, decode_content=True)  # one socket read at a time
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_JWKS_BYTES:
                raise ValueError("JWK Set larger than allowed")
            body.append(chunk)
    data = json.loads(b"".join(body))
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWK Set")
    return data


# -- registry and replay cache ----------------------------------------------------------


class _Registry:
    def __init__(self, clients: dict[str, TrustedClientConfig]):
        self.clients = clients
        self.keys = {iss: _IssuerKeys(cfg) for iss, cfg in clients.items()}


_registries: dict[tuple, _Registry] = {}
_registries_lock = threading.Lock()


def registry_for(path: str) -> _Registry:
    """The trusted clients of `path`, loaded once (again only if the file changes)."""
    try:
        st = os.stat(path)
        cache_key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    except OSError:
        cache_key = (os.path.abspath(path), None, None)
    registry = _registries.get(cache_key)
    if registry is not None:
        return registry
    with _registries_lock:
        registry = _registries.get(cache_key)
        if registry is None:
            registry = _Registry(load_clients_file(path))
            _registries[cache_key] = registry
        return registry


class ReplayCache:
    """(iss, jti) seen within the token's lifetime. Thread-safe, in-process only."""

    def __init__(self, max_entries: int = REPLAY_CACHE_MAX_ENTRIES):
        self.max_entries = max_entries
        self._expiry: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def seen(self, key: tuple[str, str], expires_at: float) -> bool:
        """True if key is a replay; otherwise remember it until expires_at."""
        now = _wall()
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                expiry, old = heapq.heappop(self._heap)
                if self._expiry.get(old) == expiry:
                    del self._expiry[old]
            if key in self._expiry:
                return True
            if len(self._expiry) >= self.max_entries:
                raise Unauthorized("too many recent tokens; try again shortly")
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            return False

    def __len__(self) -> int:
        return len(self._expiry)


replay_cache = ReplayCache()


# -- authenticate --------------------------------------------------------------------------


def _untrusted_issuer(iss: Any) -> str | None:
    """What is logged of an iss that no trusted client has: a marker, never its text
    (an unverified token's claims are anybody's words, a patient's name included)."""
    return caller_value_withheld("a trusted issuer", iss) if isinstance(iss, str) else None


def _fail(reason: str, iss: Any = None, *, token_sent: bool = True) -> Unauthorized:
    """iss: a trusted issuer, or _untrusted_issuer's marker (logged, up to 200 characters)."""
    fields = {"reason": reason}
    if isinstance(iss, str):
        fields["iss"] = iss[:200]
    log.warning("client authentication failed", extra={"fields": fields})
    return Unauthorized(reason, "invalid_token" if token_sent else None)


def allowed_algorithms(settings) -> list[str]:
    return [a for a in settings.jwt_algorithms if a in ASYMMETRIC_ALGORITHMS]


def authenticate(flask_request, settings, audience: str) -> Client | None:
    if not settings.auth_enabled:
        return None
    header_value = flask_request.headers.get("Authorization")
    if not header_value:
        raise _fail("missing bearer token", token_sent=False)
    if len(header_value) > MAX_TOKEN_CHARS:
        raise _fail("bearer token too large")
    match = _BEARER.match(header_value)
    if not match:
        # another scheme (Basic ...), or 'Bearer' with nothing after it, carries no
        # bearer token at all: the bare challenge (RFC 6750 §3.1)
        scheme, _, credentials = header_value.strip().partition(" ")
        token_sent = scheme.lower() == "bearer" and bool(credentials.strip())
        raise _fail("Authorization must be 'Bearer <JWT>'", token_sent=token_sent)
    token = match.group(1)

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _fail("malformed token") from None
    alg = header.get("alg")
    # none and HMAC never reach a key lookup: they are not in the allowlist.
    if not isinstance(alg, str) or alg not in allowed_algorithms(settings):
        raise _fail("token algorithm not allowed")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
        raise _fail("token typ must be JWT")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _fail("token header has no kid")

    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _fail("malformed token") from None
    iss = unverified.get("iss")

    if not settings.clients_file:
        raise _fail("no trusted clients are configured", _untrusted_issuer(iss))
    try:
        registry = registry_for(settings.clients_file)
    except ClientsFileError as exc:
        log.error("trusted clients file unusable: %s", exc)
        raise _fail("no trusted clients are configured", _untrusted_issuer(iss)) from None
    if not isinstance(iss, str) or iss not in registry.clients:
        raise _fail("unknown issuer", _untrusted_issuer(iss))
    config = registry.clients[iss]

    jku = header.get("jku")
    if jku is not None:
        if not isinstance(jku, str) or jku not in config.jku_allowlist:
            raise _fail("jku not on the allowlist for this issuer", iss)
        source = jku
    elif config.jwks is not None:
        source = None
    elif config.jwks_url:
        source = config.jwks_url
    else:
        raise _fail("token has no jku and the issuer has no key set on record", iss)

    key = registry.keys[iss].key_for(source, kid, alg, settings)
    if key is None:
        raise _fail("unknown key id", iss)

    try:
        claims = jwt.decode(
            token, key, algorithms=[alg], audience=audience, issuer=iss,
            leeway=settings.jwt_leeway_seconds,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.InvalidSignatureError:
        raise _fail("invalid signature", iss) from None
    except jwt.ExpiredSignatureError:
        raise _fail("token expired", iss) from None
    except jwt.ImmatureSignatureError:
        raise _fail("token issued in the future", iss) from None
    except jwt.InvalidAudienceError:
        raise _fail("wrong audience", iss) from None
    except jwt.MissingRequiredClaimError as exc:
        raise _fail(f"missing claim: {exc.claim}", iss) from None
    except jwt.InvalidIssuedAtError:
        raise _fail("invalid iat", iss) from None
    except jwt.PyJWTError:
        raise _fail("invalid token", iss) from None

    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
        raise _fail("invalid jti", iss)
    exp, iat = claims.get("exp"), claims.get("iat")
    # (a token that expires before it was issued is no token a real client mints)
    if not isinstance(exp, (int, float)) or not isinstance(iat, (int, float)) or exp < iat:
        raise _fail("invalid exp/iat", iss)
    if exp - iat > settings.jwt_max_lifetime_seconds:
        raise _fail("token lifetime too long", iss)
    tenant = claims.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise _fail("invalid tenant", iss)
    if config.tenants is not None and tenant not in config.tenants:
        raise _fail("tenant not allowed for this issuer", iss)
    if replay_cache.seen((iss, jti), float(exp) + settings.jwt_leeway_seconds):
        raise _fail("token replayed (jti already seen)", iss)

    log.debug("client authenticated", extra={"fields": {
        "iss": iss[:200], "jti": jti_for_log(jti), "tenant": tenant_for_log(tenant, config.tenants) if tenant else ""}})
    return Client(iss=iss, fhir_servers=tuple(config.fhir_servers), jti=jti, tenant=tenant,
                  known_tenants=tuple(config.tenants or ()))
