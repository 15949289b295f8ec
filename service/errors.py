"""Errors the service answers with, rendered by one JSON handler in app.py."""

from __future__ import annotations


class ServiceError(Exception):
    status = 500
    code = "internal-error"

    def __init__(self, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": self.code, "message": self.message}


class BadRequest(ServiceError):
    status = 400
    code = "bad-request"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str, error_code: str | None = "invalid_token"):
        # RFC 6750 §3.1: a request without credentials (or with another scheme) gets
        # the bare challenge, no error code; a token that fails gets invalid_token
        challenge = f'Bearer error="{error_code}"' if error_code else "Bearer"
        super().__init__(message, {"WWW-Authenticate": challenge})


class NotFound(ServiceError):
    status = 404
    code = "not-found"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload-too-large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported-media-type"


class PreconditionFailed(ServiceError):
    """CDS Hooks: the service could not obtain the FHIR data it needs.

    own_words: the message without what a FHIR server said in it, to classify the
    failure by (metrics): the server's text is anybody's words."""

    status = 412
    code = "precondition-failed"

    def __init__(self, message: str, own_words: str | None = None):
        super().__init__(message)
        self.own_words = own_words or message
