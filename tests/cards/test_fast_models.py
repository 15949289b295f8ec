"""cards/models.py hot-path helpers: fast constructors, one-pass to_json, new_uuid.

They must give exactly what the validated models and prune(model_dump(mode="json"))
give; every card of tests/cards also goes through helpers.model_problems.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cards.models import (
    Action, Card, Coding, Link, Source, Suggestion, make_action, make_card, make_coding, make_link, make_source,
    make_suggestion, new_uuid, new_uuids, prune, topic_source,
)


def reference_json(card: Card) -> dict:
    return prune(card.model_dump(mode="json"))


def same(card: Card) -> None:
    got, want = card.to_json(), reference_json(card)
    assert got == want
    assert repr(got) == repr(want)  # key order and value types too


def test_new_uuid_is_a_random_version_4_uuid():
    seen = set()
    for _ in range(2000):
        text = new_uuid()
        u = uuid.UUID(text)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == text
        seen.add(text)
    assert len(seen) == 2000


@pytest.mark.parametrize("count", [1, 2, 9])
def test_new_uuids_are_random_version_4_uuids(count):
    texts = new_uuids(count)
    assert len(texts) == count == len(set(texts))
    for text in texts:
        u = uuid.UUID(text)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == text


def test_fast_constructors_equal_validated_models():
    coding = make_coding("s", "c", "d")
    assert repr(coding) == repr(Coding(system="s", code="c", display="d"))
    assert repr(make_source("l", None, coding)) == repr(Source(label="l", url=None, topic=coding))
    assert repr(make_link("l", "u")) == repr(Link(label="l", url="u"))
    action = make_action("create", "x", {"a": 1})
    assert repr(action) == repr(Action(type="create", description="x", resource={"a": 1}))
    s = make_suggestion("l", True, [action])
    assert repr(s) == repr(Suggestion(label="l", uuid=s.uuid, isRecommended=True, actions=[action]))
    c = make_card("s", "info", topic_source("patient-summary", "x"), "d", [s], "at-most-one", [make_link("a", "b")])
    v = Card(summary="s", indicator="info", source=topic_source("patient-summary", "x"), uuid=c.uuid, detail="d",
             suggestions=[s], selectionBehavior="at-most-one", links=[make_link("a", "b")])
    assert repr(c) == repr(v) and c == v
    assert c.model_fields_set == {"summary", "indicator", "source", "detail", "suggestions", "selectionBehavior",
                                  "links"}
    bare = make_card("s", "info", topic_source("patient-summary", "x"))
    assert bare.suggestions == [] and bare.links == [] and bare.overrideReasons == []
    assert bare.suggestions is not make_card("s", "info", topic_source("patient-summary", "x")).suggestions


@pytest.mark.parametrize("resource", [
    {"resourceType": "MedicationRequest", "status": "draft", "note": [{"text": ""}], "x": [], "y": {}, "z": None},
    {"a": {"b": {"c": [None, "", [], {}, 0, False, 0.0, 1.5]}}, "d": True},
    {"date": dt.date(2026, 1, 2), "when": dt.datetime(2026, 1, 2, 3, 4, 5), "t": ("a", "", None), "s": [("x",)]},
    {"nan": float("nan"), "inf": float("inf"), "ninf": [float("-inf")], "big": 10 ** 30},
    {"keys": {1: "a", 2: ""}},
    {"model": Coding(system="s", code="c"), "models": [Coding(system="", code="")]},
    {"empty": {"deeper": {"deepest": [{}]}}},
])
def test_to_json_is_prune_of_model_dump(resource):
    action = Action(type="create", description="", resource=resource)
    card = Card(summary="s", indicator="warning", source=Source(label="l", icon=""),
                suggestions=[Suggestion(label="", actions=[action]), Suggestion(label="x", isRecommended=False)],
                overrideReasons=[Coding(system="s", code="c", display=""), Coding(system="", code="")],
                links=[Link(label="l", url="u", appContext="")])
    same(card)


def test_to_json_drops_what_prune_drops():
    same(Card(summary="", indicator="info", source=Source(label="")))
    same(Card.model_construct(summary="s", indicator="", source=Source(label="l"), detail="",
                              suggestions=[Suggestion.model_construct(label="", uuid="", actions=[
                                  Action.model_construct(type="", description="")])],
                              links=[Link.model_construct(label="", url="", type="")]))
