"""Construction of state models from values that are already of the right type.

pydantic's validated `Model(...)` re-checks every field (about 1 us for a Source,
several for an Exposure) and `model_construct()` is slower still for small
models. On the hot path the mappers build these models from values they typed
themselves (dates from `fhir.parse_date`, literals from fixed strings, models
from this package), so validation cannot fail there. These helpers set the
instance state exactly as validation would: the field values in declaration
order, every passed field in `model_fields_set`, fresh lists for list fields
(validation copies a list argument), no extra or private attributes.

`source()` and `exposure()` pass every field, so all their instances share one
fields-set object instead of a copy each (about 200 set copies a call, 1.3 % of
a patient-view call's instructions). Sharing is safe because the set already holds
every field: pydantic only ever adds a field name to it on assignment (a no-op
here), and model_copy() gives the copy a set of its own.

Only call them with values that validation would accept unchanged; anything read
straight from the input JSON goes through the validated constructor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from mappings.state import Exposure, Source

_new = object.__new__
# BaseModel's slot descriptors: setting through them skips the attribute lookup
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__

# shared by every instance (see the module docstring)
_SOURCE_FIELDS = {"reference", "date", "display", "specimen", "date_last"}
_EXPOSURE_FIELDS = {"drugs", "start", "end", "active", "setting", "sources", "status", "superseded",
                    "start_last", "end_last"}


def source(reference: str, date: dt.date | None, display: str | None, specimen: str | None,
           date_last: dt.date | None = None) -> Source:
    """Source(reference=, date=, display=, specimen=, date_last=) with all five passed."""
    s = _new(Source)
    _set_dict(s, {"reference": reference, "date": date, "display": display, "specimen": specimen,
                  "date_last": date_last})
    _set_fields_set(s, _SOURCE_FIELDS)
    _set_extra(s, None)
    _set_private(s, None)
    return s


def exposure(drugs: list[Any], start: dt.date | None, end: dt.date | None, active: bool, setting: str,
             sources: list[Source], status: str | None, superseded: bool,
             start_last: dt.date | None = None, end_last: dt.date | None = None) -> Exposure:
    """Exposure(...) with all ten fields passed; `drugs` and `sources` must be fresh lists."""
    e = _new(Exposure)
    _set_dict(e, {"drugs": drugs, "start": start, "end": end, "active": active, "setting": setting,
                  "sources": sources, "status": status, "superseded": superseded,
                  "start_last": start_last, "end_last": end_last})
    _set_fields_set(e, _EXPOSURE_FIELDS)
    _set_extra(e, None)
    _set_private(e, None)
    return e


def construct(cls: type, values: dict[str, Any], fields_set: set[str] | None = None) -> Any:
    """cls(**values) for a model whose every field is in `values`, in declaration order,
    already of the field's type (lists freshly made). `fields_set`: the fields the
    original code passed or assigned (default: all of them)."""
    m = _new(cls)
    _set_dict(m, values)
    _set_fields_set(m, set(values) if fields_set is None else fields_set)
    _set_extra(m, None)
    _set_private(m, None)
    return m
