"""In-process profile of the patient-view hook call (no HTTP server, no load tool).

    .venv/bin/python bench/profile_hook.py                 # 300 resources: stage timings + pyinstrument tree
    .venv/bin/python bench/profile_hook.py --resources 3000 --calls 20
    .venv/bin/python bench/profile_hook.py --cprofile      # cProfile, top functions by own time
    .venv/bin/python bench/profile_hook.py --html out.html # pyinstrument HTML
    .venv/bin/python bench/profile_hook.py --scaling 300,1000,3000   # per-stage cost per resource

Two views of the same call:

1. stage timings: the steps `service/routes.py:call_service` runs (body parse,
   request validation, gathering, mappings.build_patient_state,
   cards.patient_view_cards, Card.to_json, JSON encoding), each wrapped where it
   is looked up and timed inside `--calls` real calls through Flask's test
   client (median and p90 per stage; stages nest: run_hook holds mappings and cards);
2. a profile (pyinstrument, sampling every 0.1 ms, or cProfile) of `--calls`
   calls through the test client, so the hot spots are visible by function.

`--scaling` instead times the stages at several patient sizes in one process and
prints each stage's cost per resource and its growth exponent between sizes
(log(time ratio) / log(size ratio): 1 = linear, below 1 = fixed costs being spread,
above 1 = worse than linear), to find which stage, if any, grows faster than the data.

As in production (service.app.production_app), the objects loaded at start-up
are frozen out of the garbage collector's scans after the warm-up calls.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))

from bench import patients  # noqa: E402  (the repo root is on sys.path from here)

SERVICE_PATH = "/cds-services/mbc-treatment-options"


def make_client(tmp: str):
    import logging

    from service.app import create_app

    app = create_app({"auth": "off", "demo": False, "database_url": f"sqlite:///{tmp}/feedback.sqlite",
                      "log_level": "WARNING"})
    logging.getLogger("mbc_cds").setLevel(logging.WARNING)  # the profile is about the hook, not the log
    return app, app.test_client()


# The steps of service/routes.py:call_service, wrapped where they are looked up,
# so the timings follow the real request path as the other layers change.
STAGES = [
    ("service.routes", "json_body", "read + parse + check body (routes.json_body)"),
    ("service.routes", "parse_hook_request", "HookRequest + context validation"),
    ("service.routes", "gather", "gather (prefetch -> resources)"),
    ("mappings", "build_patient_state", "mappings.build_patient_state"),
    ("cards", "patient_view_cards", "cards.patient_view_cards"),
    ("service.routes", "run_hook", "run_hook (mappings + cards)"),
    ("service.routes", "remember_cards", "remember_cards (feedback queue)"),
    ("service.routes", "cards_response", "cards_response (to_json + JSON encoding)"),
    ("cards.models.Card", "to_json", "Card.to_json (all cards)"),
]


def instrument(times: dict[str, list[float]], current: dict[str, float]):
    """Wrap each stage; returns an undo function."""
    import importlib

    undo = []
    for target, attr, label in STAGES:
        module_name, _, cls = target.partition(".models.")
        if cls:
            owner = getattr(importlib.import_module(module_name + ".models"), cls)
        else:
            owner = importlib.import_module(target)
        if not hasattr(owner, attr):
            continue
        original = getattr(owner, attr)

        def wrapper(*args, __original=original, __label=label, **kwargs):
            t0 = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                current[__label] = current.get(__label, 0.0) + (time.perf_counter() - t0) * 1000

        setattr(owner, attr, wrapper)
        undo.append((owner, attr, original))
        times.setdefault(label, [])

    def restore():
        for owner, attr, original in reversed(undo):
            setattr(owner, attr, original)

    return restore


def stage_timings(client, raw: bytes, calls: int) -> dict[str, list[float]]:
    """Per-stage ms of `calls` real calls through the Flask test client."""
    times: dict[str, list[float]] = {}
    current: dict[str, float] = {}
    restore = instrument(times, current)
    whole = []
    try:
        for _ in range(calls):
            current.clear()
            whole.extend(whole_calls(client, raw, 1))
            for label in times:
                times[label].append(current.get(label, 0.0))
    finally:
        restore()
    times["whole call (Flask test client)"] = whole
    return times


def whole_calls(client, raw: bytes, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        response = client.post(SERVICE_PATH, data=raw, content_type="application/json")
        out.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.get_data()[:300]
    return out


def scaling_table(sizes: list[int], calls: int) -> str:
    """Median ms per stage at each size, microseconds per resource, growth exponents."""
    medians: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="mbc-cds-profile-") as tmp:
        _app, client = make_client(tmp)
        for n in sizes:
            raw = patients.request_bytes(n)
            whole_calls(client, raw, 3)
            gc.collect()
            gc.freeze()
            times = stage_timings(client, raw, calls)
            medians[n] = {label: statistics.median(values) for label, values in times.items()}
    pairs = list(zip(sizes, sizes[1:]))
    head = (f"{'stage':46}" + "".join(f" {f'{n} res ms':>11}" for n in sizes)
            + "".join(f" {f'us/res {n}':>11}" for n in sizes)
            + "".join(f" {f'k {a}->{b}':>11}" for a, b in pairs))
    lines = [f"patient-view, {calls} calls per size; k = growth exponent (1 = linear)", "", head]
    for label in medians[sizes[0]]:
        ms = [medians[n][label] for n in sizes]
        per = [1000 * m / n for m, n in zip(ms, sizes)]
        exps = [math.log(ms[j + 1] / ms[j]) / math.log(b / a) if ms[j] > 0 and ms[j + 1] > 0 else float("nan")
                for j, (a, b) in enumerate(pairs)]
        lines.append(f"{label:46}" + "".join(f" {m:11.3f}" for m in ms) + "".join(f" {p:11.2f}" for p in per)
                     + "".join(f" {k:11.2f}" for k in exps))
    return "\n".join(lines)


def summarize(times: dict[str, list[float]]) -> str:
    lines = [f"{'stage':46} {'median ms':>10} {'p90 ms':>8} {'share':>6}"]
    total = statistics.median(times["whole call (Flask test client)"])
    for key, values in times.items():
        values = sorted(values)
        med = statistics.median(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        lines.append(f"{key:46} {med:10.3f} {p90:8.3f} {100 * med / total:5.0f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="profile one patient-view hook call in-process")
    parser.add_argument("--resources", type=int, default=300)
    parser.add_argument("--calls", type=int, default=200, help="calls to time and to profile (default 200)")
    parser.add_argument("--cprofile", action="store_true", help="cProfile instead of pyinstrument")
    parser.add_argument("--html", type=Path, help="write pyinstrument's HTML report here")
    parser.add_argument("--top", type=int, default=30, help="cProfile: functions to show")
    parser.add_argument("--scaling", help="comma-separated patient sizes, e.g. 30,300,3000: stage cost per resource")
    args = parser.parse_args(argv)
    if args.scaling:
        sizes = sorted({int(n) for n in args.scaling.split(",")})
        print(scaling_table(sizes, args.calls))
        return 0

    raw = patients.request_bytes(args.resources)
    with tempfile.TemporaryDirectory(prefix="mbc-cds-profile-") as tmp:
        app, client = make_client(tmp)
        whole_calls(client, raw, 5)  # warm-up: imports, caches, first-request set-up
        gc.collect()
        gc.freeze()
        times = stage_timings(client, raw, args.calls)
        print(f"patient-view, {args.resources} resources, {len(raw) / 1024:.0f} KiB body, {args.calls} calls\n")
        print(summarize(times))
        print()
        if args.cprofile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            whole_calls(client, raw, args.calls)
            profiler.disable()
            stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime")
            stats.print_stats(args.top)
            return 0
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001)
        profiler.start()
        whole_calls(client, raw, args.calls)
        profiler.stop()
        if args.html:
            args.html.write_text(profiler.output_html())
            print(f"pyinstrument HTML: {args.html}")
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
