"""CDS Hooks 2.0.1 response models (Card, Suggestion, Action, Link, Coding).

`to_json()` drops None, empty strings, empty lists and empty objects, because
the spec forbids them ("JSON elements SHALL NOT be null or empty").
"""

from __future__ import annotations

import math
import os
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from cards.topics import TOPIC_SYSTEM, topic_display


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def new_uuid() -> str:
    """A random (version 4, RFC 4122 variant) UUID string, as str(uuid.uuid4()) writes it.

    The same 16 bytes of os.urandom as uuid.uuid4(), formatted without building a
    uuid.UUID (about 2.5x faster; ~30 per patient-view call).
    """
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def new_uuids(count: int) -> list[str]:
    """`count` new_uuid() values from one os.urandom read (16 random bytes each)."""
    h = os.urandom(16 * count).hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{_VARIANT[h[i + 16]]}{h[i + 17:i + 20]}-"
            f"{h[i + 20:i + 32]}" for i in range(0, 32 * count, 32)]


class Coding(BaseModel):
    system: str
    code: str
    display: str | None = None


class Source(BaseModel):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(BaseModel):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class Suggestion(BaseModel):
    label: str
    uuid: str = Field(default_factory=new_uuid)
    isRecommended: bool | None = None
    actions: list[Action] = Field(default_factory=list)


class Link(BaseModel):
    label: str
    url: str
    type: Literal["absolute", "smart"] = "absolute"
    appContext: str | None = None


class Card(BaseModel):
    summary: str
    indicator: Literal["info", "warning", "critical"]
    source: Source
    uuid: str = Field(default_factory=new_uuid)
    detail: str | None = None
    suggestions: list[Suggestion] = Field(default_factory=list)
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)

    @property
    def topic(self) -> str | None:
        return self.source.topic.code if self.source.topic else None

    def to_json(self) -> dict[str, Any]:
        """prune(self.model_dump(mode="json")), built in one pass (same dict, same key order)."""
        return _card_json(self)


def topic_source(topic: str, label: str, url: str | None = None) -> Source:
    """A card Source carrying the project's topic Coding."""
    return make_source(label, url, make_coding(TOPIC_SYSTEM, topic, topic_display(topic)))


# --- hot-path constructors --------------------------------------------------
# The card builders pass values that are valid by construction (plain str, bool,
# lists of these models, dicts of JSON values). Validating them again costs ~1-3 us
# per model and ~100 models per patient-view call; these set the same instance
# state a validated construction would (field values in declaration order, the
# explicitly passed fields as the fields set). tests/cards/test_fast_models.py
# checks every card the builders make validates to an equal model.

_new = object.__new__
# BaseModel's instance slots, set through their descriptors (what object.__setattr__
# ends up calling, without the attribute look-up)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _model(cls, values: dict, fields_set: set):
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def make_coding(system: str, code: str, display: str | None = None) -> Coding:
    return _model(Coding, {"system": system, "code": code, "display": display}, {"system", "code", "display"})


def make_source(label: str, url: str | None = None, topic: Coding | None = None) -> Source:
    return _model(Source, {"label": label, "url": url, "icon": None, "topic": topic}, {"label", "url", "topic"})


def make_link(label: str, url: str) -> Link:
    return _model(Link, {"label": label, "url": url, "type": "absolute", "appContext": None}, {"label", "url"})


def make_action(type: str, description: str, resource: dict[str, Any] | None = None) -> Action:
    return _model(Action, {"type": type, "description": description, "resource": resource, "resourceId": None},
                  {"type", "description", "resource"})


def make_suggestion(label: str, isRecommended: bool | None, actions: list[Action],
                    uuid: str | None = None) -> Suggestion:
    """uuid: one of new_uuids() (a new_uuid() when None); not an explicitly set field."""
    return _model(Suggestion, {"label": label, "uuid": uuid or new_uuid(), "isRecommended": isRecommended,
                               "actions": actions}, {"label", "isRecommended", "actions"})


def make_card(summary: str, indicator: str, source: Source, detail: str | None = None,
              suggestions: list[Suggestion] | None = None, selectionBehavior: str | None = None,
              links: list[Link] | None = None, uuid: str | None = None) -> Card:
    values = {"summary": summary, "indicator": indicator, "source": source, "uuid": uuid or new_uuid(),
              "detail": detail,
              "suggestions": [] if suggestions is None else suggestions, "selectionBehavior": selectionBehavior,
              "overrideReasons": [], "links": [] if links is None else links}
    fields = {"summary", "indicator", "source", "detail"}
    if suggestions is not None:
        fields.add("suggestions")
        fields.add("selectionBehavior")
    if links is not None:
        fields.add("links")
    return _model(Card, values, fields)


# --- to_json in one pass ------------------------------------------------------
# The same result as prune(model.model_dump(mode="json")): a None or "" field is
# dropped, a nested model or list is dropped when nothing is left in it, bools are
# kept. Values of `Any` fields (Action.resource) go through `_json_pruned`, which
# prunes plain JSON values directly and hands anything else to pydantic-core's
# JSON conversion first (what model_dump(mode="json") does with them).

class PrunedJSON(dict):
    """A JSON object already as to_json writes it: str/int/bool/dict/list values only, and
    none None, "", [] or {} at any depth. The draft resources of the card builders'
    suggestions (cards/render.py medication_request, service_request) are built so, and
    to_json hands them on as they are instead of walking and copying each again (about
    a million instructions per patient-view call). Never changed once built: parts of it
    may be shared by several resources. Validating a model copies it into a plain dict,
    which to_json prunes as any other."""

    __slots__ = ()


def _other_json(value: Any) -> Any:
    """A value other than str/int/bool/dict/list/None, as model_dump(mode="json") writes it, pruned."""
    if type(value) is float:
        return value if math.isfinite(value) else None  # inf/nan: null (ser_json_inf_nan="null")
    return prune(to_jsonable_python(value, inf_nan_mode="null"))


_DROPPED = object()


def _json_item(item: Any) -> Any:
    """One dict value or list item of `_json_pruned`, pruned; _DROPPED when nothing is left."""
    kind = type(item)
    if kind is str:
        return item if item else _DROPPED
    if kind is bool or kind is int:
        return item
    if kind is dict or kind is list:
        item = _json_pruned(item)
        return item if item else _DROPPED
    if item is None:
        return _DROPPED
    item = _other_json(item)
    return _DROPPED if item is None or item == "" or item == [] or item == {} else item


def _json_pruned(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                return prune(to_jsonable_python(value, inf_nan_mode="null"))
            item = _json_item(item)
            if item is not _DROPPED:
                out[key] = item
        return out
    if kind is list:
        items = []
        for item in value:
            item = _json_item(item)
            if item is not _DROPPED:
                items.append(item)
        return items
    return _other_json(value)


def pruned_json(value: dict) -> PrunedJSON:
    """A JSON object as to_json writes a resource, once (to build PrunedJSON parts from)."""
    return PrunedJSON(_json_pruned(value))


def _coding_json(c: Coding) -> dict:
    d = c.__dict__
    out = {}
    if d["system"]:
        out["system"] = d["system"]
    if d["code"]:
        out["code"] = d["code"]
    if d["display"]:
        out["display"] = d["display"]
    return out


def _source_json(s: Source) -> dict:
    d = s.__dict__
    out = {}
    if d["label"]:
        out["label"] = d["label"]
    if d["url"]:
        out["url"] = d["url"]
    if d["icon"]:
        out["icon"] = d["icon"]
    if d["topic"] is not None:
        topic = _coding_json(d["topic"])
        if topic:
            out["topic"] = topic
    return out


def _action_json(a: Action) -> dict:
    d = a.__dict__
    out = {}
    if d["type"]:
        out["type"] = d["type"]
    if d["description"]:
        out["description"] = d["description"]
    resource = d["resource"]
    if resource is not None:
        if type(resource) is not PrunedJSON:
            resource = _json_pruned(resource)
        if resource:
            out["resource"] = resource
    if d["resourceId"]:
        out["resourceId"] = d["resourceId"]
    return out


def _suggestion_json(s: Suggestion) -> dict:
    d = s.__dict__
    out = {}
    if d["label"]:
        out["label"] = d["label"]
    if d["uuid"]:
        out["uuid"] = d["uuid"]
    if d["isRecommended"] is not None:
        out["isRecommended"] = d["isRecommended"]
    if d["actions"]:
        actions = [x for x in map(_action_json, d["actions"]) if x]
        if actions:
            out["actions"] = actions
    return out


def _link_json(link: Link) -> dict:
    d = link.__dict__
    out = {}
    if d["label"]:
        out["label"] = d["label"]
    if d["url"]:
        out["url"] = d["url"]
    if d["type"]:
        out["type"] = d["type"]
    if d["appContext"]:
        out["appContext"] = d["appContext"]
    return out


def _card_json(card: Card) -> dict:
    d = card.__dict__
    out = {}
    if d["summary"]:
        out["summary"] = d["summary"]
    if d["indicator"]:
        out["indicator"] = d["indicator"]
    source = _source_json(d["source"])
    if source:
        out["source"] = source
    if d["uuid"]:
        out["uuid"] = d["uuid"]
    if d["detail"]:
        out["detail"] = d["detail"]
    if d["suggestions"]:
        suggestions = [x for x in map(_suggestion_json, d["suggestions"]) if x]
        if suggestions:
            out["suggestions"] = suggestions
    if d["selectionBehavior"]:
        out["selectionBehavior"] = d["selectionBehavior"]
    if d["overrideReasons"]:
        reasons = [x for x in map(_coding_json, d["overrideReasons"]) if x]
        if reasons:
            out["overrideReasons"] = reasons
    if d["links"]:
        links = [x for x in map(_link_json, d["links"]) if x]
        if links:
            out["links"] = links
    return out


_SCALARS = (bool, int, float)  # exact types: never None and never equal to "", [] or {}


def prune(value: Any) -> Any:
    """Recursively drop None, "", [] and {} (CDS Hooks: no null or empty elements).

    On the response path of every hook call: containers are pruned first and
    dropped when that leaves them empty; leaves are tested in place (plain str
    and numbers by exact type first), without a call per leaf: the same result
    as pruning every item, then dropping the empty ones.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                if not item:
                    continue
            elif kind in _SCALARS:
                pass
            elif isinstance(item, (dict, list)):
                item = prune(item)
                if not item:
                    continue
            elif item is None or item == "" or item == [] or item == {}:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        items = []
        for item in value:
            kind = type(item)
            if kind is str:
                if not item:
                    continue
            elif kind in _SCALARS:
                pass
            elif isinstance(item, (dict, list)):
                item = prune(item)
                if not item:
                    continue
            elif item is None or item == "" or item == [] or item == {}:
                continue
            items.append(item)
        return items
    return value
