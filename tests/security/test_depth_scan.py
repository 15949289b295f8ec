"""The raw-bytes depth scan, and the check on the parsed document, answer exactly as the
walk over the parsed tree."""

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.schemas import JSONTooDeep, json_too_deep, loads_within_depth, raw_json_too_deep

leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    # strings full of the characters the scan must not be fooled by
    st.text(alphabet=st.sampled_from(list('[]{}"\\\\/aé\u2028 ')), max_size=12),
)
documents = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(alphabet=st.sampled_from(list('[]{}"\\\\k')), max_size=5), children, max_size=4),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(documents, st.integers(min_value=0, max_value=8), st.booleans())
def test_raw_scan_agrees_with_the_tree_walk(document, limit, ascii_only):
    raw = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8")
    assert raw_json_too_deep(raw, limit) == json_too_deep(json.loads(raw), limit)


def test_utf16_bodies_fall_back_to_the_tree_walk():
    raw = json.dumps({"a": [[[1]]]}).encode("utf-16")
    assert raw_json_too_deep(raw, 3) is True
    assert raw_json_too_deep(raw, 4) is False


def test_brackets_inside_strings_do_not_count():
    raw = json.dumps({"text": "[[[[[[[[[[{{{{{{{{{", "escaped": 'say \\"[[[[\\"'}).encode()
    assert raw_json_too_deep(raw, 1) is False


def test_truncated_json_is_left_to_the_parser_not_called_deep():
    assert raw_json_too_deep(b'{"hook": "patient-view"', 64) is False
    assert raw_json_too_deep(b'{"a": [1, 2', 1) is False


@settings(max_examples=300, deadline=None)
@given(documents, st.integers(min_value=0, max_value=8))
def test_the_check_on_the_parsed_document_agrees_with_the_tree_walk(document, limit):
    raw = json.dumps(document).encode("utf-8")
    try:
        parsed = loads_within_depth(raw, limit)
    except JSONTooDeep:
        assert json_too_deep(json.loads(raw), limit)
    else:
        # orjson.loads's own answer (it reads integers beyond 64 bits as floats, json.loads does not)
        assert parsed == orjson.loads(raw) and not json_too_deep(parsed, limit)


def test_json_deeper_than_the_parser_goes_is_too_deep_not_invalid():
    raw = b"[" * 2000 + b"]" * 2000
    with pytest.raises(JSONTooDeep):
        loads_within_depth(raw, 64)
    with pytest.raises(orjson.JSONDecodeError):
        loads_within_depth(b"[" * 10 + b"]" * 9, 64)


def test_json_deeper_than_orjson_writes_is_decided_by_the_tree_walk():
    raw = b"[" * 300 + b"]" * 300
    with pytest.raises(JSONTooDeep):
        loads_within_depth(raw, 64)
    assert loads_within_depth(raw, 300) == json.loads(raw)
