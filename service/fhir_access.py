"""Which FHIR servers the service may call for a request (SSRF guard).

Contract: allowed_fhir_server(url, settings, client) -> normalised base URL,
or raises errors.PreconditionFailed (no request is made).

A hook request names `fhirServer`, and the service would then send GETs (and
the client's bearer token) there. A hostile or compromised caller could name
any URL, so before any request:

- the URL must be a plain absolute base URL: https (http only with
  MBC_CDS_ALLOW_HTTP_FHIR=true), a host, an optional port and path; no
  credentials, query, fragment, backslashes, whitespace/control characters,
  percent-encoded dots/slashes or dot segments;
- the host must never be a link-local / cloud-metadata / unspecified /
  multicast / reserved address, in any spelling (decimal, octal, hex, short
  dotted forms, IPv4-mapped/NAT64/6to4 IPv6), nor a metadata host name;
- with an authenticated client: the base must be on that issuer's
  `fhir_servers` (no list = no FHIR server at all);
- with auth off: on MBC_CDS_FHIR_SERVERS if set; if unset ("any"), only
  public addresses unless MBC_CDS_ALLOW_HTTP_FHIR=true (local testing, where
  127.0.0.1 servers are the point).

Host names are resolved only when connecting: fhir_client checks the address
it actually connected to against the same rules (DNS rebinding, names that
resolve to 169.254.169.254).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from service.errors import PreconditionFailed

MAX_URL_CHARS = 2048

# Always refused, whatever the allowlist says.
_ALWAYS_BLOCKED_NETWORKS = [
    ipaddress.ip_network(n) for n in (
        "0.0.0.0/8",          # "this network"; 0.0.0.0 reaches localhost on Linux
        "169.254.0.0/16",     # link-local: cloud metadata (169.254.169.254), ECS, ...
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.192/32",     # Oracle Cloud (legacy) metadata
        "168.63.129.16/32",   # Azure platform (WireServer: agent and extension config)
        "224.0.0.0/4",        # multicast
        "240.0.0.0/4",        # reserved, broadcast
        "::/128",             # unspecified
        "fe80::/10",          # link-local
        "fd00:ec2::254/128",  # AWS IMDS over IPv6
        "ff00::/8",           # multicast
    )
]
_METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.internal", "metadata.packet.net",
})
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$")
_NUMERIC_ISH = re.compile(r"^[0-9a-fx.]+$")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\<>\"{}|^`]")
_ENCODED_TRAVERSAL = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class URLRejected(ValueError):
    pass


class AllowedFHIRBase(str):
    """A base URL that passed the guard; `public_only` tells the client to
    refuse non-public addresses when it connects (the 'any server' case)."""

    public_only: bool = False

    def __new__(cls, value: str, public_only: bool = False):
        obj = super().__new__(cls, value)
        obj.public_only = public_only
        return obj


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip))
    return None


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, public_only: bool) -> str | None:
    """Why the service must not connect to ip, or None."""
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            candidates.append(embedded)
    for candidate in candidates:
        if any(candidate in net for net in _ALWAYS_BLOCKED_NETWORKS if net.version == candidate.version):
            return "a link-local, metadata, unspecified, multicast or reserved address"
        if public_only and not candidate.is_global:
            return "a loopback or private address (allowed only with MBC_CDS_ALLOW_HTTP_FHIR=true or an allowlist)"
    return None


def parse_ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host string denotes numerically, in any spelling the
    resolver would accept (2852039166, 0xa9.0xfe.0xa9.0xfe, 0251.0376.., 169.254.43518)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_ISH.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _check_url(url: object, allow_http: bool, form_only: bool = False) -> tuple[str, str, str, int | None, str]:
    """Parse and vet a base URL. Returns (scheme, host, netloc, port, path).
    form_only: only whether it is a well-formed http(s) base URL (not whether the
    service may call it: http without MBC_CDS_ALLOW_HTTP_FHIR, metadata hosts and
    blocked addresses pass)."""
    if not isinstance(url, str) or not url:
        raise URLRejected("fhirServer is not a URL")
    if len(url) > MAX_URL_CHARS:
        raise URLRejected("fhirServer is too long")
    if _BAD_CHARS.search(url) or not url.isascii():
        raise URLRejected("fhirServer contains characters not allowed in a base URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise URLRejected("fhirServer is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.netloc:
        raise URLRejected("fhirServer is not an absolute http(s) URL")
    if scheme == "http" and not allow_http and not form_only:
        raise URLRejected("fhirServer must use https (set MBC_CDS_ALLOW_HTTP_FHIR=true for local testing)")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise URLRejected("fhirServer must not carry credentials in the URL")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise URLRejected("fhirServer must be a base URL without query or fragment")
    if _ENCODED_TRAVERSAL.search(parts.path):
        raise URLRejected("fhirServer path must not contain encoded dots, slashes or NULs")
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        raise URLRejected("fhirServer path must not contain dot segments")
    if port == 0:
        raise URLRejected("fhirServer port is not valid")
    host = (parts.hostname or "").lower()
    if not host:
        raise URLRejected("fhirServer has no host")
    if "%" in host:
        raise URLRejected("fhirServer host must not carry a zone id or percent-encoding")
    if host.endswith("."):
        raise URLRejected("fhirServer host must not end with a dot")
    ip = parse_ip_literal(host)
    if ip is None:
        if not _HOST_NAME.match(host):
            raise URLRejected("fhirServer host is not a valid host name")
        if not form_only and host in _METADATA_HOSTS:
            raise URLRejected("fhirServer names a cloud metadata host")
    elif not form_only:
        problem = address_problem(ip, public_only=False)
        if problem:
            raise URLRejected(f"fhirServer is {problem}")
    netloc = host if ip is None or ip.version == 4 else f"[{host}]"
    if ip is not None and ip.version == 4:
        netloc = str(ip)  # canonical dotted form
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    return scheme, host, netloc, port, parts.path.rstrip("/")


def normalise(url: str, allow_http: bool = True) -> str:
    scheme, _, netloc, _, path = _check_url(url, allow_http)
    return f"{scheme}://{netloc}{path}"


def config_url_problem(url: str) -> str | None:
    """For configured allowlists (clients file, MBC_CDS_FHIR_SERVERS)."""
    try:
        _check_url(url, allow_http=True)
    except URLRejected as exc:
        return str(exc).replace("fhirServer", "URL", 1)
    return None


def fhir_server_form_problem(url: str) -> str | None:
    """Why a request's fhirServer is not a well-formed base URL (a 400 on every request,
    whether or not the service would fetch from it), or None. Whether the service may
    call a well-formed one is allowed_fhir_server's question (412)."""
    try:
        _check_url(url, allow_http=True, form_only=True)
    except URLRejected as exc:
        return str(exc)
    return None


def _is_local_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def allowed_fhir_server(url: str, settings, client) -> str:
    try:
        scheme, host, netloc, _, path = _check_url(url, settings.allow_http_fhir)
    except URLRejected as exc:
        raise PreconditionFailed(str(exc)) from None
    base = f"{scheme}://{netloc}{path}"
    if client is not None:
        allowed = list(client.fhir_servers)
        if not allowed:
            raise PreconditionFailed("this client may not name a fhirServer (none configured for its issuer)")
    else:
        allowed = list(settings.fhir_servers)
    if allowed:
        normalised = set()
        for entry in allowed:
            try:
                normalised.add(normalise(entry))
            except URLRejected:
                continue
        if base not in normalised:
            raise PreconditionFailed("fhirServer is not on the allowlist for this client" if client is not None
                                     else "fhirServer is not one of the FHIR servers this service may call "
                                          "(MBC_CDS_FHIR_SERVERS)")
        return AllowedFHIRBase(base, public_only=False)
    # auth off, no allowlist: "any" server, but only public ones unless local testing
    public_only = not settings.allow_http_fhir
    if public_only:
        ip = parse_ip_literal(host)
        if _is_local_name(host) or (ip is not None and address_problem(ip, public_only=True)):
            raise PreconditionFailed(
                "fhirServer is a loopback or private address; allowed only with "
                "MBC_CDS_ALLOW_HTTP_FHIR=true or when listed in MBC_CDS_FHIR_SERVERS"
            )
    return AllowedFHIRBase(base, public_only=public_only)
