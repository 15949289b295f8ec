"""The response path's encoding (cards/models.py prune, service/pipeline.py cards_response)
gives the same JSON as the straightforward implementations it replaced."""

from __future__ import annotations

import json
from collections import OrderedDict

from hypothesis import given, settings, strategies as st

from cards.models import Card, prune, topic_source
from service.pipeline import cards_response


def reference_prune(value):
    """The original, obviously correct prune."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = reference_prune(item)
            if item is None or item == "" or item == [] or item == {}:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        items = [reference_prune(v) for v in value]
        return [v for v in items if not (v is None or v == "" or v == [] or v == {})]
    return value


leaves = st.one_of(st.none(), st.just(""), st.text(max_size=3), st.booleans(), st.integers(-2, 2),
                   st.floats(allow_nan=False), st.just(()), st.just((1,)), st.just(b""))
values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=2), children, max_size=4),
        st.dictionaries(st.text(max_size=2), children, max_size=3).map(OrderedDict),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_prune_matches_the_reference(value):
    got, want = prune(value), reference_prune(value)
    assert got == want and type(got) is type(want)
    assert list(json.dumps(got, default=repr)) == list(json.dumps(want, default=repr))  # key order too


def test_cards_response_is_the_same_json_as_json_dumps():
    card = Card(summary="Fulvestrant — ≥1 line; HER2-low", indicator="warning",
                source=topic_source("fulvestrant", "label", None), detail="")
    body = cards_response([card, card])
    assert isinstance(body, bytes)
    expected = {"cards": [card.to_json(), card.to_json()]}
    assert json.loads(body) == expected
    assert body == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    assert "detail" not in json.loads(body)["cards"][0]  # pruned


# any text a card may carry (record text included), without lone surrogates: the request
# parser rejects them and no encoder can write them as UTF-8
card_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(card_text, card_text, st.sampled_from(["info", "warning", "critical"]))
def test_cards_response_writes_any_card_text_byte_for_byte_as_json_dumps(summary, detail, indicator):
    card = Card(summary=summary, indicator=indicator, source=topic_source("fulvestrant", detail, None),
                detail=detail)
    expected = {"cards": [card.to_json()]}
    assert cards_response([card]) == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
