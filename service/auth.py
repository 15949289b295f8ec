"""Client authentication (CDS Hooks 2.0.1 "Trusting CDS Clients").

Placeholder until the security issue lands: with MBC_CDS_AUTH=off every call
is let in; with auth on and no verifier configured every hook call is refused.
Contract: authenticate(flask_request, settings, audience) -> Client | None,
raising errors.Unauthorized on failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.errors import Unauthorized


@dataclass(frozen=True)
class Client:
    iss: str
    fhir_servers: tuple[str, ...] = field(default_factory=tuple)
    jti: str | None = None
    tenant: str | None = None


def authenticate(flask_request, settings, audience: str) -> Client | None:
    if not settings.auth_enabled:
        return None
    raise Unauthorized("client authentication is required and no trusted clients are configured")
