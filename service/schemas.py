"""Pydantic models of the CDS Hooks 2.0.1 request and feedback bodies.

Unknown fields are tolerated (forward compatibility, extensions); wrong types
and missing required fields are rejected with the field named.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Str = Field(min_length=1, max_length=4096)


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)


class FhirAuthorization(_Tolerant):
    access_token: str = Field(min_length=1, max_length=16384, repr=False)
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: str = Field(max_length=8192)
    subject: str = Str
    patient: str | None = None


class PatientViewContext(_Tolerant):
    userId: str = Str
    patientId: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-\.]{1,64}$")
    encounterId: str | None = Field(default=None, max_length=4096)


class OrderSelectContext(PatientViewContext):
    selections: list[str] = Field(max_length=500)
    draftOrders: dict[str, Any]

    @model_validator(mode="after")
    def _draft_orders_is_bundle(self):
        if self.draftOrders.get("resourceType") != "Bundle":
            raise ValueError("draftOrders must be a FHIR Bundle")
        return self


class OrderSignContext(PatientViewContext):
    draftOrders: dict[str, Any]

    @model_validator(mode="after")
    def _draft_orders_is_bundle(self):
        if self.draftOrders.get("resourceType") != "Bundle":
            raise ValueError("draftOrders must be a FHIR Bundle")
        return self


CONTEXT_MODELS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-select": OrderSelectContext,
    "order-sign": OrderSignContext,
}


class HookRequest(_Tolerant):
    hook: str = Str
    hookInstance: str = Str
    fhirServer: str | None = Field(default=None, max_length=2048)
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, dict[str, Any] | None] | None = None

    @model_validator(mode="after")
    def _authorization_needs_server(self):
        # cds-r-1: fhirAuthorization implies fhirServer
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirServer is required when fhirAuthorization is given")
        return self


class Coding(_Tolerant):
    system: str | None = None
    code: str = Str
    display: str | None = None


class OverrideReason(_Tolerant):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=4096)


class AcceptedSuggestion(_Tolerant):
    id: str = Str


class FeedbackItem(_Tolerant):
    card: str = Field(min_length=1, max_length=128)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=100)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: dt.datetime

    @model_validator(mode="after")
    def _accepted_names_suggestions(self):
        # cds-fb-2: accepted requires acceptedSuggestions
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self


class FeedbackRequest(_Tolerant):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=500)


def describe_validation_error(error: ValidationError, prefix: str = "") -> str:
    """'context.patientId: Field required; hook: ...' for a 400 message."""
    parts = []
    for item in error.errors()[:5]:
        loc = ".".join(str(p) for p in item.get("loc", ()) if p != "__root__")
        loc = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "body"
        msg = item.get("msg", "invalid").removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)
