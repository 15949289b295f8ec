"""Structured log lines (one JSON object per line).

What is logged: service id, hookInstance, status, latency, card count, the
calling client's iss, jti (hashed) and tenant. Never tokens, never patient
identifiers or data.

A value the caller chose (the URL's service id, hookInstance, a token's iss) is
logged as sent only when its form cannot carry anything else: a client that puts a
patient's name or record number there must not put it in our log. Otherwise a fixed
marker names what it was not, and its length. A trusted client's jti is logged only as
a short hash, and so is its tenant unless it is one configured for the issuer (clients
file `tenants`): no form tells a nonce from an identifier-shaped value ("MRN123456", an
e-mail), so none is written as sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import time


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, default=str)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger("mbc_cds")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level.upper())


def log_event(logger: logging.Logger, message: str, **fields) -> None:
    logger.info(message, extra={"fields": fields})


# CDS Hooks 2.0.1 §HTTP Request: hookInstance is "a universally unique identifier
# (UUID) for this particular hook call"; the 3.0 logical models type it `uuid`
# (implied urn:uuid: prefix), so that form is accepted too.
_UUID = re.compile(r"(?:urn:uuid:)?[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def caller_value_withheld(what: str, value: str) -> str:
    """The fixed marker logged instead of a caller's value: what it is not, and its length."""
    return f"<not {what}; {len(value)} characters>"


def hook_instance_for_log(value: object) -> str:
    """hookInstance as sent when it is a UUID, else a marker (never its text); '' when absent."""
    if not isinstance(value, str):
        return ""
    return value if _UUID.fullmatch(value) else caller_value_withheld("a UUID", value)


def service_id_for_log(service_id: str, known_ids) -> str:
    """The URL's service id as sent when it is one of ours, else a marker."""
    return service_id if service_id in known_ids else caller_value_withheld("a known service id", service_id)


def hashed_for_log(value: str) -> str:
    """A caller's claim as the first 12 hex digits of its SHA-256 ("sha256:3f2a..."): one
    value gives one entry, so a call can still be found from the client's jti (which the
    client can hash the same way), and nothing the caller wrote there (a record number, an
    e-mail) is in the log. (RFC 7519 §4.1.7: jti is the client's own choice of string.)"""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def jti_for_log(jti: str) -> str:
    """A token's jti, hashed: any string may be a jti, an MRN-like "MRN123456" too."""
    return hashed_for_log(jti)


def tenant_for_log(tenant: str, configured: tuple[str, ...] | list[str] | None) -> str:
    """A token's tenant as sent when it is one the clients file lists for the issuer (our own
    configuration, not the caller's words), else hashed."""
    return tenant if configured and tenant in configured else hashed_for_log(tenant)
