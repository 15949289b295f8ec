"""What each FHIR server says it supports, learnt from its CapabilityStatement.

Only one thing is looked up: the `_revinclude`s a server declares for Patient
searches (CapabilityStatement.rest[mode=server].resource[type=Patient]
.searchRevInclude, e.g. "Condition:patient"). Where all of them are declared,
service.gather can ask for the patient and their conditions, medications and
procedures in one search instead of six (fewer requests on the EHR's server,
and less time on one that answers a request at a time).

Per process, per base URL, bounded (`max_servers`): a server's answer is kept
`ttl` seconds, and so is "declares none" for a server that did not honour a
declared _revinclude; a server whose metadata could not be read is treated as
declaring none for `retry_after` seconds, then asked again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from service.fhir_client import FHIRClient, FHIRError

log = logging.getLogger("mbc_cds.fhir_capabilities")

NONE: frozenset[str] = frozenset()


def declared_patient_revincludes(capability: object) -> frozenset[str]:
    """The searchRevInclude values of a server CapabilityStatement's Patient resource."""
    if not isinstance(capability, dict) or capability.get("resourceType") != "CapabilityStatement":
        return NONE
    found: set[str] = set()
    rests = capability.get("rest")
    for rest in rests if isinstance(rests, list) else ():
        if not isinstance(rest, dict) or rest.get("mode") != "server":
            continue
        resources = rest.get("resource")
        for resource in resources if isinstance(resources, list) else ():
            if isinstance(resource, dict) and resource.get("type") == "Patient":
                values = resource.get("searchRevInclude")
                if isinstance(values, list):
                    found.update(v for v in values if isinstance(v, str))
    return frozenset(found)


class RevincludeSupport:
    """Per-process memory of which Patient _revincludes each FHIR server declares."""

    def __init__(self, ttl: float = 3600.0, retry_after: float = 300.0, max_servers: int = 64):
        self.ttl = ttl
        self.retry_after = retry_after
        self.max_servers = max_servers
        self._known: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, base_url: str) -> frozenset[str] | None:
        """What the server declares, or None if not (or no longer) known."""
        with self._lock:
            entry = self._known.get(base_url)
            if entry is None:
                return None
            expires, declared = entry
            if time.monotonic() >= expires:
                del self._known[base_url]
                return None
            return declared

    def learn(self, client: FHIRClient) -> frozenset[str]:
        """Read the server's CapabilityStatement and remember what it declares."""
        try:
            declared = declared_patient_revincludes(client.capability_statement())
            keep = self.ttl
        except FHIRError as exc:
            # exc.reason, not str(exc): what the server's OperationOutcome says is not logged
            log.info("FHIR server capabilities not read (%s); searching without _revinclude", exc.reason)
            declared, keep = NONE, self.retry_after
        self._remember(client.base_url, declared, keep)
        return declared

    def not_honoured(self, base_url: str) -> None:
        """The server refused or qualified a declared _revinclude: stop using it for a while."""
        log.info("FHIR server did not honour a declared _revinclude; searching without it for %ds", self.ttl)
        self._remember(base_url, NONE, self.ttl)

    def _remember(self, base_url: str, declared: frozenset[str], seconds: float) -> None:
        with self._lock:
            self._known[base_url] = (time.monotonic() + seconds, declared)
            self._known.move_to_end(base_url)
            while len(self._known) > self.max_servers:
                self._known.popitem(last=False)
