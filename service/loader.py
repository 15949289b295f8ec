"""`mbc-cds load-demo`: put the demo patients into a FHIR R4 server.

Every resource of every demo bundle (service/demo/patients/*.json) is PUT on
its own at `{base}/{type}/{id}`, in dependency order (Patient first, then the
Specimens the Observations point at, then everything else). Separate PUTs work
on any FHIR server that allows client-assigned ids (HAPI, sekmet-fhir, most
EHR sandboxes), including those without transaction support. Loading twice
is harmless: a PUT of the same id updates the resource.
"""

from __future__ import annotations

import sys
import textwrap
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO
from urllib.parse import urlsplit

import requests

from service.demo import demo_patients

# Referenced resources before the resources that reference them.
TYPE_ORDER = [
    "Patient", "Practitioner", "Organization", "Location", "Specimen", "Medication",
    "Condition", "Procedure", "Observation", "DiagnosticReport",
    "MedicationStatement", "MedicationRequest", "MedicationAdministration",
]

FHIR_JSON = "application/fhir+json"


class LoadError(Exception):
    """A load that cannot go on; the message says what to do about it."""


@dataclass
class LoadedPatient:
    patient_id: str
    title: str
    description: str
    resources: int


@dataclass
class LoadResult:
    base_url: str
    patients: list[LoadedPatient] = field(default_factory=list)

    @property
    def resources(self) -> int:
        return sum(p.resources for p in self.patients)


def ordered_resources(resources: list[dict]) -> list[dict]:
    """Resources in the order they can be PUT (stable within a type)."""
    rank = {name: i for i, name in enumerate(TYPE_ORDER)}
    return sorted(resources, key=lambda r: rank.get(r.get("resourceType"), len(TYPE_ORDER)))


def check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LoadError(
            f"--fhir-server must be an absolute http(s) URL such as http://localhost:8081/fhir, not {base_url!r}"
        )
    return base_url.rstrip("/")


def outcome_message(response: requests.Response) -> str:
    """The server's own words: OperationOutcome diagnostics, else the body's start."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        texts = []
        for issue in body.get("issue") or []:
            if not isinstance(issue, dict):
                continue
            text = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code")
            if text:
                texts.append(str(text))
        if texts:
            return "; ".join(texts)[:500]
    text = (response.text or "").strip().replace("\n", " ")
    return text[:300] or (response.reason or "no message")


class DemoLoader:
    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 30.0,
                 session: requests.Session | None = None):
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": FHIR_JSON, "Content-Type": FHIR_JSON})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def wait_until_ready(self, wait: float = 0.0, sleep: Callable[[float], None] = time.sleep) -> None:
        """GET /metadata until it answers (up to `wait` seconds); explain failures."""
        deadline = time.monotonic() + max(wait, 0.0)
        url = f"{self.base_url}/metadata"
        while True:
            try:
                response = self.session.get(url, timeout=min(self.timeout, 10.0))
            except requests.RequestException as exc:
                if time.monotonic() < deadline:
                    sleep(2.0)
                    continue
                raise LoadError(
                    f"cannot reach the FHIR server at {self.base_url} ({type(exc).__name__}); "
                    "check the URL and that the server is running"
                    + ("" if wait else ", or pass --wait SECONDS while it starts")
                ) from None
            if response.status_code in (401, 403):
                raise LoadError(
                    f"the FHIR server refused access to {url} (HTTP {response.status_code}): "
                    "pass a bearer token with --token"
                )
            if response.status_code >= 500 and time.monotonic() < deadline:
                sleep(2.0)
                continue
            if response.status_code != 200:
                raise LoadError(
                    f"{url} answered HTTP {response.status_code}: {outcome_message(response)}; "
                    "is this the FHIR base URL (it usually ends in /fhir)?"
                )
            self._check_version(response)
            return

    def _check_version(self, response: requests.Response) -> None:
        try:
            statement = response.json()
        except ValueError:
            return  # not JSON: let the PUTs tell
        version = statement.get("fhirVersion") if isinstance(statement, dict) else None
        if isinstance(version, str) and not version.startswith("4.0"):
            raise LoadError(
                f"the FHIR server at {self.base_url} speaks FHIR {version}; the demo patients are FHIR R4 (4.0.x)"
            )

    def put(self, resource: dict) -> None:
        ref = f"{resource['resourceType']}/{resource['id']}"
        try:
            response = self.session.put(f"{self.base_url}/{ref}", json=resource, timeout=self.timeout)
        except requests.RequestException as exc:
            raise LoadError(f"PUT {ref}: the FHIR server stopped answering ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise LoadError(
                f"PUT {ref} was refused (HTTP {response.status_code}): the token needs write access "
                f"(e.g. system/*.write); server said: {outcome_message(response)}"
            )
        if not 200 <= response.status_code < 300:
            hint = ""
            if response.status_code in (400, 405, 409, 422) and resource["resourceType"] == "Patient":
                hint = " (does the server allow client-assigned ids? HAPI: client_id_strategy ALPHANUMERIC or ANY)"
            raise LoadError(
                f"PUT {ref} failed with HTTP {response.status_code}: {outcome_message(response)}{hint}"
            )

    def load_patient(self, resources: list[dict]) -> int:
        ordered = ordered_resources(resources)
        for resource in ordered:
            self.put(resource)
        return len(ordered)


def load_demo(
    base_url: str,
    token: str | None = None,
    *,
    wait: float = 0.0,
    out: TextIO | None = None,
    session: requests.Session | None = None,
    patients: dict[str, dict] | None = None,
) -> LoadResult:
    """PUT every demo patient into the FHIR server at `base_url`; print what each shows.

    Raises LoadError (with a message for the user) at the first failure.
    """
    out = out or sys.stdout
    loader = DemoLoader(base_url, token, session=session)
    loader.wait_until_ready(wait)
    result = LoadResult(loader.base_url)
    patients = demo_patients() if patients is None else patients
    if not patients:
        raise LoadError("no demo patients found in service/demo/patients/")
    print(f"Loading {len(patients)} demo patients into {loader.base_url}", file=out, flush=True)
    for patient_id, patient in patients.items():
        count = loader.load_patient(patient["resources"])
        loaded = LoadedPatient(patient_id, patient.get("title", ""), patient.get("description", ""), count)
        result.patients.append(loaded)
        print(f"  {patient_id} ({count} resources): {loaded.title}", file=out, flush=True)
        for line in textwrap.wrap(loaded.description, 96):
            print(f"      {line}", file=out)
    print(
        f"Loaded {len(result.patients)} patients ({result.resources} resources). Try one with a "
        f"patient-view request whose fhirServer is {loader.base_url} and patientId is one of the ids above.",
        file=out,
    )
    return result
