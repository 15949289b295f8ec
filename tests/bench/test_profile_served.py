"""bench/profile_served.py reads py-spy's raw output into per-thread shares."""

from __future__ import annotations

from bench.profile_served import aggregate

# py-spy `record --threads --format raw`: the thread first, then the frames outermost
# first, then the number of samples with that stack.
RAW = [
    "thread (17381): ThreadPoolExecutor-0_0;handle (gunicorn/workers/gthread.py:553);"
    "call_service (service/routes.py:89);loads (service/schemas.py:211) 6",
    "thread (17381): ThreadPoolExecutor-0_0;handle (gunicorn/workers/gthread.py:553);"
    "call_service (service/routes.py:89) 2",
    "thread (17381): ThreadPoolExecutor-0_0;handle (gunicorn/workers/gthread.py:553);"
    "write (gunicorn/util.py:348) 2",
    "thread (17374): Thread-1 (_write_issued_forever);_insert_issued (service/feedback.py:125) 3",
    "with app.app_context(). See the documentation for more information.) 1",
]


def test_samples_are_counted_per_thread_with_inclusive_and_own_frames():
    profile = aggregate(RAW, top=10)
    assert list(profile) == ["ThreadPoolExecutor-0_0", "Thread-1 (_write_issued_forever)"]
    request = profile["ThreadPoolExecutor-0_0"]
    assert request["samples"] == 10
    inclusive = dict(request["inclusive"])
    assert inclusive["handle (gthread.py:553)"] == 10
    assert inclusive["call_service (routes.py:89)"] == 8
    own = dict(request["own"])
    assert own == {"loads (schemas.py:211)": 6, "call_service (routes.py:89)": 2, "write (util.py:348)": 2}


def test_a_line_that_continues_a_frame_text_is_not_counted_as_a_thread():
    profile = aggregate(RAW, top=10)
    assert sum(t["samples"] for t in profile.values()) == 13


def test_only_the_top_frames_are_kept():
    profile = aggregate(RAW, top=1)
    assert profile["ThreadPoolExecutor-0_0"]["own"] == [("loads (schemas.py:211)", 6)]
