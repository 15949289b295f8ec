"""A thin FHIR REST client: GET only, HTTP status mapped to exceptions,
searches follow `Bundle.link[next]` within bounds.

Bounds (settings): connect/read timeouts, total time per request (and the hook
call's deadline, set by gather), bytes per response, JSON nesting depth, pages
per search, resources per search and per client (= per hook call, one patient).
Redirects are never followed (a redirect could send the bearer token to
another host); `next` links must stay on the same scheme/host/port and under
the base path; a `next` link seen twice or paging past the page bound is an
error (a server looping on next links), not an endless loop.

Connections are vetted at connect time: the address a host name resolves to
must not be link-local/metadata/unspecified/multicast/reserved (DNS rebinding,
names resolving to 169.254.169.254), nor non-public when the base was allowed
under "any server" (fhir_access.AllowedFHIRBase.public_only). Sessions keep no
cookies and ignore proxy/netrc environment settings.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from service.fhir_access import address_problem
from service.schemas import raw_json_too_deep

FHIR_JSON = "application/fhir+json"
MAX_JSON_DEPTH = 64
MAX_ERROR_BODY_BYTES = 64 * 1024  # an error answer's OperationOutcome, read for its reason


class FHIRError(Exception):
    """The FHIR server could not give us the data (message safe to show).

    server_says: what the server's OperationOutcome said, cleaned and clipped; part of
    the message shown to the caller (str), never of `reason`, which is what gets logged
    (a server's text may name the patient).
    """

    def __init__(self, reason: str, server_says: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.server_says = server_says

    def __str__(self) -> str:
        return f"{self.reason} (the server says: {self.server_says})" if self.server_says else self.reason


class FHIRUnreachable(FHIRError):
    pass


class FHIRTimeout(FHIRError):
    pass


class FHIRAuthError(FHIRError):
    pass


class FHIRNotFound(FHIRError):
    pass


class FHIRBadResponse(FHIRError):
    pass


# -- connection-time address guard ---------------------------------------------------


class FHIRSearchQualified(FHIRBadResponse):
    """A strict search whose results the server qualified with a warning."""


class BlockedAddress(NewConnectionError):
    """The host resolved to an address the service must not connect to."""


class _GuardedConnectionMixin:
    public_only = False

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        addresses = []
        for _family, _type, _proto, _canon, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            problem = address_problem(ip, self.public_only)
            if problem:
                # One bad address is enough to refuse the name altogether.
                raise BlockedAddress(self, f"refused: the FHIR server host resolves to {problem}")
            if ip not in addresses:
                addresses.append(ip)
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return urllib3_connection.create_connection(
                    (str(ip), self.port), self.timeout,
                    source_address=self.source_address, socket_options=self.socket_options,
                )
            except socket.timeout as exc:
                last_error = ConnectTimeoutError(self, f"Connection to {self.host} timed out")
                last_error.__cause__ = exc
            except OSError as exc:
                last_error = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
        raise last_error or NewConnectionError(self, "no address to connect to")


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _PublicHTTPConnection(_GuardedHTTPConnection):
    public_only = True


class _PublicHTTPSConnection(_GuardedHTTPSConnection):
    public_only = True


def _pool(base, connection_cls):
    return type(f"Guarded{base.__name__}", (base,), {"ConnectionCls": connection_cls})


_POOLS = {
    False: {"http": _pool(HTTPConnectionPool, _GuardedHTTPConnection),
            "https": _pool(HTTPSConnectionPool, _GuardedHTTPSConnection)},
    True: {"http": _pool(HTTPConnectionPool, _PublicHTTPConnection),
           "https": _pool(HTTPSConnectionPool, _PublicHTTPSConnection)},
}


class GuardedAdapter(HTTPAdapter):
    def __init__(self, public_only: bool = False, **kwargs):
        self.public_only = public_only
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS[self.public_only])


_sessions: dict[tuple[str, bool], requests.Session] = {}
_sessions_lock = threading.Lock()


def pooled_session(base_url: str, public_only: bool | None = None) -> requests.Session:
    """One keep-alive Session per FHIR origin (and address policy), shared by worker threads."""
    if public_only is None:
        public_only = bool(getattr(base_url, "public_only", False))
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with _sessions_lock:
        session = _sessions.get((origin, public_only))
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never route patient data via env proxies, no .netrc
            # No cookies: one origin's session is shared by every user's hook calls.
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            adapter = GuardedAdapter(public_only, pool_connections=4, pool_maxsize=32, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[(origin, public_only)] = session
        return session


# -- the client ------------------------------------------------------------------------------


class FHIRClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_bytes: int = 20 * 1024 * 1024,
        max_pages: int = 20,
        max_resources: int = 5000,
        request_timeout: float | None = None,
        max_depth: int = MAX_JSON_DEPTH,
        page_size: int | None = None,
        session: requests.Session | None = None,
    ):
        public_only = bool(getattr(base_url, "public_only", False))
        self.base_url = str(base_url).rstrip("/")
        self._token = token
        self.timeout = (connect_timeout, read_timeout)
        # Whole-request bound (a server dripping one byte per read_timeout).
        self.request_timeout = request_timeout or (connect_timeout + 2 * read_timeout)
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.max_resources = max_resources
        self.page_size = page_size
        self.max_depth = max_depth
        self.deadline: float | None = None  # time.monotonic() bound for the hook call
        self._resources_left = max_resources  # across all searches of this client
        self._budget_lock = threading.Lock()
        base = urlsplit(self.base_url)
        self._origin = (base.scheme.lower(), (base.hostname or "").lower(), base.port)
        self._base_path = base.path.rstrip("/")
        self.session = session or pooled_session(self.base_url, public_only)

    def __repr__(self) -> str:  # never show the token
        return f"FHIRClient({self.base_url!r})"

    # -- public --------------------------------------------------------------

    def read(self, path: str) -> dict | None:
        """GET one resource; None when the server says 404/410."""
        try:
            resource = self._get_json(self._url(path))
        except FHIRNotFound:
            return None
        kind = path.split("/")[0][:64]  # the type, not the id: the reason may be logged
        if resource.get("resourceType") == "OperationOutcome" and kind != "OperationOutcome":
            # a read answers with the resource (FHIR R4 http.html §read); an OperationOutcome
            # in its place says why not, and is no record of the patient
            raise FHIRBadResponse(f"the FHIR server answered the {kind} read with an OperationOutcome, "
                                  "not the resource", _first_error(resource, self._token))
        return resource

    def search(self, path: str, *, included: bool | frozenset[str] = False, strict: bool = False,
               echoed: tuple[str, ...] = (), problems: list[str] | None = None) -> tuple[list[dict], bool]:
        """All `match` entries of a search, following next pages.

        Returns (resources, complete); complete is False when the resource
        bound cut the result short. Paging past max_pages, or a next link
        seen twice, raises FHIRBadResponse.

        included: also keep `include` entries (a search with _include/_revinclude):
        True for any type, or the set of types the search's _include brings.
        strict: send `Prefer: handling=strict` (a server that cannot honour a
        parameter must refuse, not ignore it) and raise FHIRSearchQualified if
        the server adds a warning or error OperationOutcome to the results
        (FHIR R4 search §3.1.1.4.9, e.g. "include results were truncated").
        echoed: parameters the server must list in the first page's `self` link
        (R4 §3.1.1.2: it SHALL return the parameters it actually used), else
        FHIRSearchQualified: a server that dropped one would otherwise look like
        a patient without such data.
        problems: if given, the error/fatal OperationOutcome issues the server
        put in the results (bundle_errors) are appended to it, to be shown.
        """
        if self.page_size and "_count=" not in path:
            # Ask for big pages: fewer round trips (servers may cap it lower).
            path += ("&" if "?" in path else "?") + f"_count={self.page_size}"
        url = self._url(path)
        resources: list[dict] = []
        seen_urls: set[str] = set()
        kind = path.split("?")[0][:64]
        headers = {"Prefer": "handling=strict"} if strict else None
        for page in range(self.max_pages):
            seen_urls.add(url)
            bundle = self._get_json(url, headers)
            if bundle.get("resourceType") != "Bundle":
                raise FHIRBadResponse(f"search {kind} did not return a Bundle", _first_error(bundle, self._token))
            if strict and bundle_warns(bundle):
                raise FHIRSearchQualified(f"search {kind}: the FHIR server qualified its results with a warning")
            if echoed and page == 0 and not _parameters_echoed(path, bundle, echoed):
                raise FHIRSearchQualified(f"search {kind}: the FHIR server did not say it used {', '.join(echoed)}")
            matches, has_outcome = bundle_contents(bundle, included)
            if problems is not None and has_outcome:
                new = [p for p in bundle_errors(bundle, self._token) if p not in problems]
                problems.extend(new[: MAX_PROBLEMS - len(problems)])
            allowed = self._take_budget(len(matches))
            resources.extend(matches[:allowed])
            if allowed < len(matches):
                return resources, False
            url = next_link(bundle)
            if not url:
                return resources, True
            if not self._same_server(url):
                raise FHIRBadResponse("next link points outside the FHIR server; not followed")
            if url in seen_urls:
                raise FHIRBadResponse(f"search {kind}: the FHIR server's next links loop")
        raise FHIRBadResponse(
            f"search {kind}: the FHIR server kept paging past {self.max_pages} pages"
        )

    def capability_statement(self) -> dict:
        """GET [base]/metadata (the server's CapabilityStatement)."""
        return self._get_json(self._url("metadata"))

    # -- internals -------------------------------------------------------------

    def _take_budget(self, wanted: int) -> int:
        with self._budget_lock:
            granted = max(0, min(wanted, self._resources_left))
            self._resources_left -= granted
            return granted

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _same_server(self, url: str) -> bool:
        if not isinstance(url, str) or len(url) > 8192 or "\\" in url or "#" in url:
            return False
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            return False
        if (parts.scheme.lower(), (parts.hostname or "").lower(), port) != self._origin:
            return False
        path = parts.path
        if any(seg in (".", "..") for seg in path.split("/")) or "%2e" in path.lower() or "%2f" in path.lower():
            return False
        return path == self._base_path or path.startswith(self._base_path + "/") or (
            path == "" and self._base_path == ""
        )

    def _time_left(self) -> float:
        left = self.request_timeout
        if self.deadline is not None:
            left = min(left, self.deadline - time.monotonic())
        return left

    def _get_json(self, url: str, extra_headers: dict[str, str] | None = None) -> dict:
        if self._time_left() <= 0:
            raise FHIRTimeout("the FHIR server did not return the data in time")
        headers = {"Accept": FHIR_JSON, **(extra_headers or {})}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        started = time.monotonic()
        connect, read = self.timeout
        left = self._time_left()
        try:
            response = self.session.get(
                url, headers=headers, timeout=(min(connect, left), min(read, left)),
                allow_redirects=False, stream=True,
            )
        except requests.Timeout as exc:
            raise FHIRTimeout("the FHIR server did not answer in time") from exc
        except requests.ConnectionError as exc:
            if _blocked(exc):
                raise FHIRUnreachable("the FHIR server's address is not allowed") from exc
            raise FHIRUnreachable("the FHIR server could not be reached") from exc
        except requests.RequestException as exc:
            raise FHIRUnreachable("the FHIR server could not be reached") from exc
        with response:
            self._check_status(response, started)
            content_type = response.headers.get("Content-Type", "")
            if "html" in content_type.lower():
                raise FHIRBadResponse("the FHIR server returned HTML, not FHIR JSON")
            body = self._read_bounded(response, started)
        if body.lstrip()[:1] == b"<":
            raise FHIRBadResponse("the FHIR server returned HTML/XML, not FHIR JSON")
        if raw_json_too_deep(body, self.max_depth):
            raise FHIRBadResponse("the FHIR server returned JSON nested too deeply")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise FHIRBadResponse("the FHIR server returned malformed JSON") from exc
        if not isinstance(data, dict):
            raise FHIRBadResponse("the FHIR server returned JSON that is not a resource")
        return data

    def _check_status(self, response: requests.Response, started: float) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise FHIRBadResponse(f"the FHIR server redirected ({status}); redirects are not followed")
        if status in (404, 410):
            raise FHIRNotFound(f"not found on the FHIR server ({status})")
        # FHIR R4 http.html: an error answer SHOULD carry an OperationOutcome; what it
        # says ("unknown search parameter", "insufficient scope") is what an integration
        # team needs from the 412
        said = self._outcome_said(response, started)
        if status in (401, 403):
            if not self._token:
                # The usual cause then: the hook request carried no fhirAuthorization
                # (CDS Hooks 2.0.1: the service presents the client's access_token)
                raise FHIRAuthError(f"the FHIR server refused access ({status}) to a request without a "
                                    "bearer token: the hook request had no fhirAuthorization", said)
            raise FHIRAuthError(f"the FHIR server refused access ({status})", said)
        raise FHIRBadResponse(f"the FHIR server answered HTTP {status}", said)

    def _outcome_said(self, response: requests.Response, started: float) -> str | None:
        """The first error issue of an error answer's OperationOutcome (outcome_errors),
        else None. Read within the usual bounds; an unreadable body just says nothing."""
        if "html" in response.headers.get("Content-Type", "").lower():
            return None
        try:
            body = self._read_bounded(response, started, MAX_ERROR_BODY_BYTES)
            outcome = orjson.loads(body) if not raw_json_too_deep(body, self.max_depth) else None
        except (FHIRError, orjson.JSONDecodeError):
            return None
        return _first_error(outcome, self._token)

    def _read_bounded(self, response: requests.Response, started: float, max_bytes: int | None = None) -> bytes:
        max_bytes = max_bytes or self.max_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FHIRBadResponse("the FHIR server response is larger than allowed")
        chunks, size = [], 0
        raw = response.raw
        try:
            while True:
                if self._time_left() <= 0 or time.monotonic() - started > self.request_timeout:
                    raise FHIRTimeout("the FHIR server was too slow sending its response")
                # read1: at most one socket read, so a slow drip cannot hold us past the deadline
                chunk = raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FHIRBadResponse("the FHIR server response is larger than allowed")
                chunks.append(chunk)
        except FHIRError:
            raise
        except (requests.Timeout, socket.timeout, TimeoutError) as exc:
            raise FHIRTimeout("the FHIR server stopped sending mid-response") from exc
        except Exception as exc:  # urllib3 protocol/decode errors, broken connections
            if "timed out" in str(exc).lower():
                raise FHIRTimeout("the FHIR server stopped sending mid-response") from exc
            raise FHIRUnreachable("the FHIR server connection broke mid-response") from exc
        return b"".join(chunks)


def _blocked(exc: BaseException) -> bool:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, BlockedAddress):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        else:
            current = current.__cause__ or current.__context__
        seen += 1
    return False


def bundle_contents(bundle: dict, included: bool | frozenset[str] = False) -> tuple[list[dict], bool]:
    """The entries that are search matches (OperationOutcome entries dropped) and
    `include` entries: of any type if `included` is True, of the given types
    if it is a set (what the search's own _include asks for), else none; and
    whether the Bundle holds an OperationOutcome entry (without one,
    bundle_errors finds nothing, so it need not look)."""
    found: list[dict] = []
    has_outcome = False
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return found, has_outcome
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        rtype = resource.get("resourceType")
        if rtype == "OperationOutcome":
            has_outcome = True
            continue
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        if mode == "include":
            # (a non-string resourceType is no type a search includes; `in` would raise on a list)
            if not (included is True or (included and type(rtype) is str and rtype in included)):
                continue
        elif mode not in (None, "match"):
            continue
        found.append(resource)
    return found, has_outcome


# How much of a server's OperationOutcome text a data gap repeats: enough to
# say what went wrong ("results truncated: too many matches"), not a stack trace.
MAX_PROBLEM_CHARS = 160
MAX_PROBLEMS = 3  # per search: a card is not the place for a server's whole error list
_CONTROL_OR_MARKUP = re.compile(r"[\x00-\x1f\x7f<>`]+")


def bundle_errors(bundle: dict, access_token: str | None = None) -> list[str]:
    """What the error/fatal issues of OperationOutcome entries in a search Bundle
    say (FHIR R4 search §3.1.1.4.9: e.g. results truncated), one line each: the
    issue's details.text, else its diagnostics, else its code; on one line, no
    markup (it goes into a card's markdown), clipped to MAX_PROBLEM_CHARS; at
    most MAX_PROBLEMS of them."""
    found: list[str] = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not (isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome"):
            continue
        for text in outcome_errors(resource, access_token):
            if text not in found:
                found.append(text)
    return found[:MAX_PROBLEMS]


def _first_error(value, access_token: str | None = None) -> str | None:
    """The first error issue of an OperationOutcome (outcome_errors), or None."""
    if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
        said = outcome_errors(value, access_token)
        return said[0] if said else None
    return None


def outcome_errors(outcome: dict, access_token: str | None = None) -> list[str]:
    """What the error/fatal issues of one OperationOutcome say, cleaned and clipped
    as bundle_errors describes; the access token the request carried, should the
    server repeat it ("token eyJ... expired"), named instead, before the clipping
    could leave a piece of it (RFC 6750 §5.3: a bearer token is not disclosed; the
    text goes into a 412 or a card)."""
    found: list[str] = []
    issues = outcome.get("issue")
    for issue in issues if isinstance(issues, list) else ():
        if not (isinstance(issue, dict) and issue.get("severity") in ("fatal", "error")):
            continue
        details = issue.get("details")
        texts = [details.get("text") if isinstance(details, dict) else None,
                 issue.get("diagnostics"), issue.get("code")]
        text = next((t for t in texts if isinstance(t, str) and t.strip()), "no reason given")
        if access_token:
            text = text.replace(access_token, "[the access token]")
        text = " ".join(_CONTROL_OR_MARKUP.sub(" ", text).split())
        if len(text) > MAX_PROBLEM_CHARS:
            text = text[: MAX_PROBLEM_CHARS - 1].rstrip() + "…"
        found.append(text)
    return found


def bundle_warns(bundle: dict) -> bool:
    """An OperationOutcome entry with a fatal, error or warning issue."""
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            issues = resource.get("issue")
            for issue in issues if isinstance(issues, list) else ():
                if isinstance(issue, dict) and issue.get("severity") in ("fatal", "error", "warning"):
                    return True
    return False


def next_link(bundle: dict) -> str | None:
    return _link(bundle, "next")


def _link(bundle: dict, relation: str) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == relation and isinstance(link.get("url"), str):
            return link["url"]
    return None


def _parameters_echoed(sent_path: str, bundle: dict, names: tuple[str, ...]) -> bool:
    """Every `names` parameter sent is in the bundle's self link, with its value."""
    self_url = _link(bundle, "self")
    if self_url is None:
        return False
    used = set(parse_qsl(urlsplit(self_url).query))
    sent = parse_qsl(sent_path.partition("?")[2])
    return all((name, value) in used for name, value in sent if name in names)
