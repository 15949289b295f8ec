"""bench/fetch_timeline.py marks each wrapped step, from the call's start, with its label."""

from __future__ import annotations

import types

from bench.fetch_timeline import Timeline, wrap


def test_a_wrapped_function_is_marked_before_and_after_with_its_label_and_still_answers():
    timeline = Timeline()
    owner = types.SimpleNamespace(get=lambda url: f"body of {url}")
    wrap(owner, "get", "sent", "parsed", timeline, label=lambda url: url.split("?")[0])
    timeline.start()
    assert owner.get("Observation?patient=p") == "body of Observation?patient=p"
    assert [name for name, _ in timeline.marks] == ["sent Observation", "parsed Observation"]
    sent, parsed = (at for _, at in timeline.marks)
    assert 0 <= sent <= parsed


def test_a_new_call_starts_a_new_timeline():
    timeline = Timeline()
    owner = types.SimpleNamespace(build=lambda: None)
    wrap(owner, "build", None, "built", timeline)
    timeline.start()
    owner.build()
    timeline.start()
    owner.build()
    assert [name for name, _ in timeline.marks] == ["built"]
