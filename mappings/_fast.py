"""Construction of state models from values that are already of the right type.

pydantic's validated `Model(...)` re-checks every field (about 1 us for a Source,
several for an Exposure) and `model_construct()` is slower still for small
models. On the hot path the mappers build these models from values they typed
themselves (dates from `fhir.parse_date`, literals from fixed strings, models
from this package), so validation cannot fail there. These helpers set the
instance state exactly as validation would: the field values in declaration
order, every passed field in `model_fields_set`, fresh lists for list fields
(validation copies a list argument), no extra or private attributes.

Only call them with values that validation would accept unchanged; anything read
straight from the input JSON goes through the validated constructor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mappings.state import Exposure, Source

_new = object.__new__
_set = object.__setattr__

_SOURCE_FIELDS = ("reference", "date", "display", "specimen")
_EXPOSURE_FIELDS = ("drugs", "start", "end", "active", "setting", "sources", "status", "superseded")


def source(reference: str, date: dt.date | None, display: str | None, specimen: str | None) -> Source:
    """Source(reference=, date=, display=, specimen=) with all four passed."""
    s = _new(Source)
    _set(s, "__dict__", {"reference": reference, "date": date, "display": display, "specimen": specimen})
    _set(s, "__pydantic_fields_set__", set(_SOURCE_FIELDS))
    _set(s, "__pydantic_extra__", None)
    _set(s, "__pydantic_private__", None)
    return s


def exposure(drugs: list[Any], start: dt.date | None, end: dt.date | None, active: bool, setting: str,
             sources: list[Source], status: str | None, superseded: bool) -> Exposure:
    """Exposure(...) with all eight fields passed; `drugs` and `sources` must be fresh lists."""
    e = _new(Exposure)
    _set(e, "__dict__", {"drugs": drugs, "start": start, "end": end, "active": active, "setting": setting,
                         "sources": sources, "status": status, "superseded": superseded})
    _set(e, "__pydantic_fields_set__", set(_EXPOSURE_FIELDS))
    _set(e, "__pydantic_extra__", None)
    _set(e, "__pydantic_private__", None)
    return e


def construct(cls: type, values: dict[str, Any]) -> Any:
    """cls(**values) for a model whose every field is in `values`, in declaration order,
    already of the field's type (lists freshly made)."""
    m = _new(cls)
    _set(m, "__dict__", values)
    _set(m, "__pydantic_fields_set__", set(values))
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m
