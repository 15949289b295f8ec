"""Pydantic models of the CDS Hooks 2.0.1 request and feedback bodies.

Unknown fields are tolerated (forward compatibility, extensions); wrong types
and missing required fields are rejected with the field named.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import orjson
from typing import Any, Collection, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mappings.fhir import printable_clip
from mappings.state import draft_entry_id, selection_names
from service.errors import BadRequest, PayloadTooLarge

Str = Field(min_length=1, max_length=4096)


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)


class FhirAuthorization(_Tolerant):
    access_token: str = Field(min_length=1, max_length=16384, repr=False)
    # CDS Hooks 2.0.1 fhirAuthorization: fixed value "Bearer"; an OAuth 2.0 token_type
    # is case-insensitive (RFC 6749 §5.1, §7.1), so "bearer" is the same type
    token_type: Literal["Bearer"]
    # CDS Hooks: an integer; strict, so true, "300" and 300.0 are refused, not coerced
    expires_in: int = Field(ge=0, strict=True)
    # CDS Hooks: "" (like null, [] and {}) is prohibited; an optional field is omitted instead
    scope: str = Field(min_length=1, max_length=8192)
    subject: str = Str
    patient: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("token_type", mode="before")
    @classmethod
    def _bearer_in_any_case(cls, value: Any) -> Any:
        return "Bearer" if isinstance(value, str) and value.lower() == "bearer" else value


class PatientViewContext(_Tolerant):
    userId: str = Str
    patientId: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-\.]{1,64}$")
    encounterId: str | None = Field(default=None, min_length=1, max_length=4096)

    @field_validator("patientId")
    @classmethod
    def _not_a_dot_segment(cls, value: str) -> str:
        # "." and ".." match the FHIR id pattern but would name another URL path.
        if set(value) == {"."}:
            raise ValueError("patientId must not consist of dots only")
        return value


class OrderSignContext(PatientViewContext):
    draftOrders: dict[str, Any]

    @model_validator(mode="after")
    def _draft_orders_is_bundle(self):
        if self.draftOrders.get("resourceType") != "Bundle":
            raise ValueError("draftOrders must be a FHIR Bundle")
        problem = draft_bundle_problem(self.draftOrders)
        if problem:
            raise ValueError(problem)
        return self


def draft_bundle_problem(bundle: dict[str, Any]) -> str | None:
    """What makes the draftOrders Bundle unreadable as a list of draft resources, naming
    the field, or None. A draft that cannot be found is a draft that is never checked,
    so these are 400s rather than entries skipped in silence. (An imperfect resource
    inside a well-formed entry is read as far as possible, mappings.read_draft_orders.)"""
    entries = bundle.get("entry")
    if entries is None:
        return None
    if not isinstance(entries, list):
        return "draftOrders.entry must be a list of Bundle entries"
    for i, entry in enumerate(entries):
        where = f"draftOrders.entry[{i}]"
        if not isinstance(entry, dict):
            return f"{where} must be a Bundle entry (a JSON object with a resource)"
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            return f"{where} has no resource object"
        if not isinstance(resource.get("resourceType"), str) or not resource["resourceType"]:
            return f"{where}.resource has no resourceType"
    return None


_PLAIN_REFERENCE = re.compile(r"[A-Za-z]{1,64}/[A-Za-z0-9\-\.]{1,64}")


def _draft_references(bundle: dict[str, Any]) -> list[tuple[str | None, str | None, str | None]]:
    """('Type/id', id, fullUrl) of each draftOrders entry (the id its own, or its fullUrl's)."""
    drafts = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue  # draft_bundle_problem names it
        rid = draft_entry_id(entry.get("fullUrl"), resource)
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        drafts.append((f"{resource['resourceType']}/{rid}" if rid else None, rid, full_url))
    return drafts


class OrderSelectContext(OrderSignContext):
    # CDS Hooks order-select: REQUIRED, the newly selected orders among draftOrders
    # (an empty array is prohibited, like every empty JSON element)
    selections: list[str] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _selections_name_drafts(self):
        drafts = _draft_references(self.draftOrders)
        for i, selection in enumerate(self.selections):
            if not any(selection_names(selection, ref, rid, url) for ref, rid, url in drafts):
                # the value is repeated only when it cannot carry markup or control characters
                which = f"'{selection}'" if _PLAIN_REFERENCE.fullmatch(selection) else "it"
                raise ValueError(f"selections[{i}]: {which} names no resource in draftOrders "
                                 "(a selection is the 'Type/id' of a draftOrders entry)")
        return self


CONTEXT_MODELS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-select": OrderSelectContext,
    "order-sign": OrderSignContext,
}


class HookRequest(_Tolerant):
    hook: str = Str
    hookInstance: str = Str
    fhirServer: str | None = Field(default=None, min_length=1, max_length=2048)
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    # Values are checked per service (routes.parse_hook_request): a key the service's
    # templates ask for must be a JSON object or null; other keys are ignored, whatever they hold.
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _authorization_needs_server(self):
        # cds-r-1: fhirAuthorization implies fhirServer
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirServer is required when fhirAuthorization is given")
        return self


# Longest override reason code and display stored (feedback.py sizes its columns
# with these; SQLite ignores the sizes, PostgreSQL would refuse longer values).
OVERRIDE_CODE_MAX_LENGTH = 256
OVERRIDE_DISPLAY_MAX_LENGTH = 1024


class Coding(_Tolerant):
    system: str = Str  # CDS Hooks Coding: system and code REQUIRED
    code: str = Field(min_length=1, max_length=OVERRIDE_CODE_MAX_LENGTH)
    display: str | None = Field(default=None, max_length=OVERRIDE_DISPLAY_MAX_LENGTH)


class OverrideReason(_Tolerant):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="after")
    def _reason_or_comment(self):
        # cds-fb-3: overrideReason needs reason or userComment
        if self.reason is None and not self.userComment:
            raise ValueError("overrideReason needs a reason or a userComment")
        return self


class AcceptedSuggestion(_Tolerant):
    id: str = Str


_RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


class FeedbackItem(_Tolerant):
    card: str = Field(min_length=1, max_length=128)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=100)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: dt.datetime

    @field_validator("outcomeTimestamp", mode="before")
    @classmethod
    def _rfc3339_with_zone(cls, value: Any) -> Any:
        # CDS Hooks: an RFC 3339 §5.6 date-time (UTC). Not epoch numbers, dates
        # or local times, which name no single instant.
        if not isinstance(value, str) or not _RFC3339_DATE_TIME.fullmatch(value):
            raise ValueError("must be an RFC 3339 date-time with a time zone, e.g. 1985-04-12T23:20:50.52Z")
        return value.upper()  # 't' and 'z' are allowed too

    @field_validator("outcomeTimestamp")
    @classmethod
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        # Stored as UTC; an offset can move the instant outside years 1-9999,
        # which no datetime (nor the database column) can hold.
        try:
            return value.astimezone(dt.timezone.utc)
        except OverflowError:
            raise ValueError("the time in UTC is outside the years 1 to 9999") from None

    @model_validator(mode="after")
    def _accepted_names_suggestions(self):
        # cds-fb-2: accepted requires acceptedSuggestions
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self


class FeedbackRequest(_Tolerant):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=500)


def describe_validation_error(error: ValidationError, prefix: str = "") -> str:
    """'context.patientId: Field required; hook: ...' for a 400 message.

    Names the field; never echoes the offending value. Location parts that
    come from the caller (prefetch keys) are shortened.
    """
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:5]:
        loc = ".".join(_short(p) for p in item.get("loc", ()) if p != "__root__")
        loc = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "body"
        msg = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {_short(msg, 300)}")
    return "; ".join(parts)


def _short(part: object, limit: int = 64) -> str:
    return printable_clip(str(part), limit)


def json_too_deep(value: Any, limit: int) -> bool:
    """True if parsed JSON nests containers more than `limit` levels deep."""
    return _deeper_than(value, limit)


_BRACKETS_TO_PARENS = bytes.maketrans(b"[{]}", b"(())")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')


def raw_json_too_deep(raw: bytes, limit: int) -> bool:
    """json_too_deep on the undecoded UTF-8 body, without building the objects.

    Keeps only brackets and quotes (escaped quotes dropped first), removes
    string contents, then strips innermost "()" pairs `limit` times: anything
    left nests deeper. Bodies with NUL bytes (UTF-16/32) use the tree walk.
    About 3x cheaper than walking the parsed tree; same answers (tested against it).
    """
    if b"\x00" in raw:
        try:
            return json_too_deep(json.loads(raw), limit)
        except (ValueError, RecursionError):
            return False  # the parse itself will report it
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = raw.translate(_BRACKETS_TO_PARENS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[0::2])
    for _ in range(limit):
        if not marks:
            return False
        marks = marks.replace(b"()", b"")
    # A matched pair left means nesting beyond the limit; lone brackets mean
    # truncated or malformed JSON, which the parser reports as such.
    return b"()" in marks


def _deeper_than(value: Any, budget: int) -> bool:
    kind = type(value)
    if kind is dict:
        children = value.values()
    elif kind is list:
        children = value
    else:
        return False
    if budget <= 0:
        return True
    below = budget - 1
    for child in children:
        ckind = type(child)
        if (ckind is dict or ckind is list) and _deeper_than(child, below):
            return True
    return False


class JSONTooDeep(ValueError):
    """JSON that nests containers more levels deep than allowed."""


def loads_within_depth(raw: bytes, limit: int) -> Any:
    """orjson.loads(raw), or JSONTooDeep if it nests containers more than `limit`
    levels deep (json_too_deep's answer), whether or not it is valid JSON:
    orjson.JSONDecodeError only for JSON that is invalid and not too deep.
    For request bodies (bounded by max_request_bytes): the check writes an
    indented copy of the document, about twice the body's size, for a moment."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # (orjson itself stops at 1,024 levels: such bodies are too deep, not invalid)
        if raw_json_too_deep(raw, limit):
            raise JSONTooDeep from None
        raise
    if _parsed_too_deep(value, limit):
        raise JSONTooDeep
    return value


def _parsed_too_deep(value: Any, limit: int) -> bool:
    """json_too_deep(value, limit), settled for usual documents by orjson's
    indented output, at half the cost of raw_json_too_deep on the body: there a
    value k levels down starts a line with 2k spaces (strings cannot hold a raw
    newline), so with no line indented 2 * limit, no container is `limit` levels
    down. Otherwise (or if orjson cannot write it) the tree walk decides."""
    if limit >= 1:
        try:
            indented = orjson.dumps(value, option=orjson.OPT_INDENT_2)
        except orjson.JSONEncodeError:  # deeper than orjson writes (254 levels)
            return json_too_deep(value, limit)
        if b"\n" + b" " * (2 * limit) not in indented:
            return False
    return json_too_deep(value, limit)


def body_too_large(max_bytes: int) -> PayloadTooLarge:
    """The one 413 for an oversized body, whether it declared its length or not."""
    return PayloadTooLarge(f"request body is larger than allowed ({max_bytes} bytes at most)")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_json_body(raw: bytes, max_bytes: int, max_depth: int) -> dict:
    """A request body as a JSON object: 413 if too large, 400 (with the reason)
    if empty, not JSON (NaN/Infinity, unpaired surrogate escapes included), not
    an object, or nested more than max_depth levels."""
    # >=: without a Content-Length, Werkzeug stops reading at the limit and
    # hands over a truncated body; a body that reaches the limit is too large.
    if len(raw) >= max_bytes:
        raise body_too_large(max_bytes)
    if not raw:
        raise BadRequest("request body is empty; expected a JSON object")
    try:
        # orjson: strict RFC 8259 (UTF-8 only; NaN/Infinity and unpaired
        # surrogate escapes rejected) and about 1.7x faster than json.loads.
        body = loads_within_depth(raw, max_depth)
    except JSONTooDeep:
        raise BadRequest(f"request body is nested too deeply (more than {max_depth} levels)") from None
    except orjson.JSONDecodeError as exc:
        if not _is_utf8(raw):
            # orjson's own words here ("str is not valid UTF-8: surrogates not allowed")
            # speak of surrogates whatever the bytes were, e.g. a Latin-1 'é'
            raise BadRequest("request body is not valid JSON: it is not UTF-8 text (RFC 8259 §8.1: "
                             "JSON exchanged between systems MUST be encoded in UTF-8)") from None
        raise BadRequest(f"request body is not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


# Duplicate names (RFC 8259 §4: "The names within an object SHOULD be unique"; when
# they are not, "the behavior of software that receives such an object is
# unpredictable"). orjson keeps the last value, silently, so a body with two
# context.patientId values got cards for the second patient. A request field that
# says which patient or which orders (CDS Hooks Library 1.0.1, the hooks' context
# tables: patientId, draftOrders, selections) or a feedback field (CDS Hooks 2.0.1
# §Feedback) given twice is refused: which value the client meant is unclear.
#
# A hook body's context object is read a second time, keeping every name: it is
# found by its name, "context", where it is first written, and trusted to be the
# request's context only when it reads as the value orjson kept (which is the last
# one when the body gives "context" twice). The 300-resource body costs about
# 0.02 ms so; counting the names across the whole body cost 0.15 ms (0.4 ms for
# the order hooks) and missed a name written with a JSON escape ("patient\u0049d",
# RFC 8259 §7: the same name). Any other body (no "context" written so, or another
# object first) is read whole a second time, and then a repeated "context" is
# refused too. The other request fields (hook, fhirServer, access_token ...) are
# not looked for: counting them cost 1 ms, a fifth of a call.
HOOK_FIELDS_GIVEN_ONCE = {
    "patient-view": ("patientId",),
    "order-select": ("patientId", "draftOrders", "selections"),
    "order-sign": ("patientId", "draftOrders"),
}


class _RepeatedNames(dict):
    """A JSON object that gave some names more than once (the last value kept, as orjson does)."""

    repeated: tuple[str, ...] = ()


def _object_keeping_repeats(pairs: list[tuple[str, Any]]) -> dict:
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    seen: set[str] = set()
    repeated: list[str] = []
    for name, _ in pairs:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    marked = _RepeatedNames(value)
    marked.repeated = tuple(repeated)
    return marked


def _first_repeat(objects: list[tuple[str, Any, Collection[str]]]) -> str | None:
    """'context.patientId' for the first checked object repeating one of its checked names."""
    for path, value, names in objects:
        if isinstance(value, _RepeatedNames):
            for name in value.repeated:
                if name in names:
                    return f"{path}{name}"
    return None


def _refuse(repeated: str | None) -> None:
    if repeated:
        # the name is one of ours (never the caller's words)
        raise BadRequest(f"{repeated} is given more than once in one JSON object: which value is meant "
                         "is unclear (RFC 8259 §4: names within an object SHOULD be unique); send it once")


# "context" is a name when a colon follows (RFC 8259 §2: whitespace may come around it)
_CONTEXT_NAME = b'"context"'
_NAME_SEPARATOR = re.compile(rb"[ \t\n\r]*:[ \t\n\r]*")
# Bytes read after it first: a context with its draft orders is usually far smaller.
_CONTEXT_WINDOW = 16_384
# made once: its construction was a fifth of the check's time on every hook call
_DECODER_KEEPING_REPEATS = json.JSONDecoder(object_pairs_hook=_object_keeping_repeats)


def _context_keeping_repeats(raw: bytes, context: Any) -> Any:
    """The object first written as "context" in raw, read keeping repeated names, when it
    reads as `context` (orjson's value); None when it does not or cannot be read alone."""
    position = raw.find(_CONTEXT_NAME)  # bytes.find: faster than a regex search
    found = None
    while position >= 0:
        found = _NAME_SEPARATOR.match(raw, position + len(_CONTEXT_NAME))
        if found:
            break
        position = raw.find(_CONTEXT_NAME, position + 1)
    if found is None:
        return None
    start = found.end()
    for end in (start + _CONTEXT_WINDOW, len(raw)):
        try:
            # "ignore": only a character cut at the window's end can be incomplete
            value, _ = _DECODER_KEEPING_REPEATS.raw_decode(raw[start:end].decode("utf-8", "ignore"))
        except ValueError:  # the object goes on past the window
            if end >= len(raw):
                return None
            continue
        return value if value == context else None
    return None


def refuse_repeated_hook_fields(raw: bytes, hook: str, body: dict) -> None:
    """400 if the hook request gives its context more than once, or the context gives
    patientId (or, for the order hooks, draftOrders or selections) more than once.
    body: the request as parse_json_body read it."""
    names = HOOK_FIELDS_GIVEN_ONCE.get(hook, ())
    if not names:
        return
    context = _context_keeping_repeats(raw, body.get("context"))
    if context is not None:
        _refuse(_first_repeat([("context.", context, names)]))
        return
    whole = json.loads(raw, object_pairs_hook=_object_keeping_repeats)
    _refuse(_first_repeat([("", whole, {"context"}), ("context.", whole.get("context"), names)]))


# the names each feedback object gives once: its model's fields (made once, not per item)
_FEEDBACK_FIELDS = frozenset(FeedbackRequest.model_fields)
_FEEDBACK_ITEM_FIELDS = frozenset(FeedbackItem.model_fields)
_ACCEPTED_SUGGESTION_FIELDS = frozenset(AcceptedSuggestion.model_fields)
_OVERRIDE_REASON_FIELDS = frozenset(OverrideReason.model_fields)
_CODING_FIELDS = frozenset(Coding.model_fields)


def refuse_repeated_feedback_fields(raw: bytes, body: dict | None = None) -> None:
    """400 if a feedback body repeats one of its fields (feedback, card, outcome, ...).

    Every feedback body is parsed a second time: the names recur once per item,
    and feedback is off the hook's hot path (body, parse_json_body's reading, is not needed)."""
    body = json.loads(raw, object_pairs_hook=_object_keeping_repeats)
    items = body.get("feedback") if isinstance(body.get("feedback"), list) else []
    objects = [("", body, _FEEDBACK_FIELDS)]
    for index, item in enumerate(items[:500]):
        if isinstance(item, dict):
            objects.append((f"feedback[{index}].", item, _FEEDBACK_ITEM_FIELDS))
            accepted = item.get("acceptedSuggestions")
            for number, suggestion in enumerate(accepted[:100] if isinstance(accepted, list) else []):
                objects.append((f"feedback[{index}].acceptedSuggestions[{number}].", suggestion,
                                _ACCEPTED_SUGGESTION_FIELDS))
            reason = item.get("overrideReason")
            objects.append((f"feedback[{index}].overrideReason.", reason, _OVERRIDE_REASON_FIELDS))
            objects.append((f"feedback[{index}].overrideReason.reason.",
                            reason.get("reason") if isinstance(reason, dict) else None, _CODING_FIELDS))
    _refuse(_first_repeat(objects))
