"""A thin FHIR REST client: GET only, HTTP status mapped to exceptions,
searches follow `Bundle.link[next]` within bounds.

Bounds (settings): connect/read timeouts, bytes per response, pages per
search, resources per search. Redirects are never followed (a redirect could
send the bearer token to another host), and `next` links must stay under the
same base URL.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

FHIR_JSON = "application/fhir+json"


class FHIRError(Exception):
    """The FHIR server could not give us the data (message safe to show)."""


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


_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def pooled_session(base_url: str) -> requests.Session:
    """One keep-alive Session per FHIR origin, shared by worker threads."""
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with _sessions_lock:
        session = _sessions.get(origin)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never route patient data via env proxies
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[origin] = session
        return session


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
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = (connect_timeout, read_timeout)
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.max_resources = max_resources
        self.session = session or pooled_session(self.base_url)

    def __repr__(self) -> str:  # never show the token
        return f"FHIRClient({self.base_url!r})"

    # -- public --------------------------------------------------------------

    def read(self, path: str) -> dict | None:
        """GET one resource; None when the server says 404/410."""
        try:
            return self._get_json(self._url(path))
        except FHIRNotFound:
            return None

    def search(self, path: str) -> tuple[list[dict], bool]:
        """All `match` entries of a search, following next pages.

        Returns (resources, complete); complete is False when a bound cut
        the paging short.
        """
        url = self._url(path)
        resources: list[dict] = []
        seen_urls: set[str] = set()
        for _ in range(self.max_pages):
            seen_urls.add(url)
            bundle = self._get_json(url)
            if bundle.get("resourceType") != "Bundle":
                raise FHIRBadResponse(f"search {path.split('?')[0]} did not return a Bundle")
            resources.extend(bundle_matches(bundle))
            if len(resources) > self.max_resources:
                return resources[: self.max_resources], False
            url = next_link(bundle)
            if not url:
                return resources, True
            if not self._same_server(url):
                raise FHIRBadResponse("next link points outside the FHIR server; not followed")
            if url in seen_urls:
                return resources, False  # a server looping on next links
        return resources, False

    # -- internals -------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _same_server(self, url: str) -> bool:
        return url == self.base_url or url.startswith(self.base_url + "/") or url.startswith(
            self.base_url + "?"
        )

    def _get_json(self, url: str) -> dict:
        headers = {"Accept": FHIR_JSON}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self.session.get(
                url, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except requests.Timeout as exc:
            raise FHIRTimeout("the FHIR server did not answer in time") from exc
        except requests.RequestException as exc:
            raise FHIRUnreachable("the FHIR server could not be reached") from exc
        with response:
            self._check_status(response)
            body = self._read_bounded(response)
        content_type = response.headers.get("Content-Type", "")
        if "html" in content_type.lower():
            raise FHIRBadResponse("the FHIR server returned HTML, not FHIR JSON")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise FHIRBadResponse("the FHIR server returned malformed JSON") from exc
        if not isinstance(data, dict):
            raise FHIRBadResponse("the FHIR server returned JSON that is not a resource")
        return data

    def _check_status(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        if 300 <= status < 400:
            raise FHIRBadResponse(f"the FHIR server redirected ({status}); redirects are not followed")
        if status in (401, 403):
            raise FHIRAuthError(f"the FHIR server refused access ({status})")
        if status in (404, 410):
            raise FHIRNotFound(f"not found on the FHIR server ({status})")
        raise FHIRBadResponse(f"the FHIR server answered HTTP {status}")

    def _read_bounded(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FHIRBadResponse("the FHIR server response is larger than allowed")
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > self.max_bytes:
                    raise FHIRBadResponse("the FHIR server response is larger than allowed")
                chunks.append(chunk)
        except requests.Timeout as exc:
            raise FHIRTimeout("the FHIR server stopped sending mid-response") from exc
        except requests.RequestException as exc:
            raise FHIRUnreachable("the FHIR server connection broke mid-response") from exc
        return b"".join(chunks)


def bundle_matches(bundle: dict) -> list[dict]:
    """Entries that are search matches (drops OperationOutcome/include entries)."""
    found = []
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        mode = (entry.get("search") or {}).get("mode") if isinstance(entry.get("search"), dict) else None
        if mode not in (None, "match"):
            continue
        if resource.get("resourceType") == "OperationOutcome":
            continue
        found.append(resource)
    return found


def next_link(bundle: dict) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None
