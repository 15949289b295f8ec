"""Which FHIR servers the service may call for a request (SSRF guard).

Contract: allowed_fhir_server(url, settings, client) -> normalised base URL,
or raises errors.PreconditionFailed (no request is made).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from service.errors import PreconditionFailed


def _normalise(url: str) -> str:
    return url.rstrip("/")


def allowed_fhir_server(url: str, settings, client) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise PreconditionFailed("fhirServer is not an absolute http(s) URL")
    if parts.scheme == "http" and not settings.allow_http_fhir:
        raise PreconditionFailed("fhirServer must use https (set MBC_CDS_ALLOW_HTTP_FHIR=true for local testing)")
    if parts.username or parts.password:
        raise PreconditionFailed("fhirServer must not carry credentials in the URL")
    allowed = list(client.fhir_servers) if client is not None else list(settings.fhir_servers)
    base = _normalise(url)
    if allowed and base not in {_normalise(a) for a in allowed}:
        raise PreconditionFailed("fhirServer is not on the allowlist for this client")
    return base
