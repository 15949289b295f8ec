"""CDS Hooks 2.0.1 response models (Card, Suggestion, Action, Link, Coding).

`to_json()` drops None, empty strings, empty lists and empty objects, because
the spec forbids them ("JSON elements SHALL NOT be null or empty").
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from cards.topics import TOPIC_SYSTEM, topic_display


def new_uuid() -> str:
    return str(uuid.uuid4())


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
        return prune(self.model_dump(mode="json"))


def topic_source(topic: str, label: str, url: str | None = None) -> Source:
    """A card Source carrying the project's topic Coding."""
    return Source(
        label=label,
        url=url,
        topic=Coding(system=TOPIC_SYSTEM, code=topic, display=topic_display(topic)),
    )


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
