"""In-process profile of the patient-view hook call (no HTTP server, no load tool).

    .venv/bin/python bench/profile.py                 # 300 resources: stage timings + pyinstrument tree
    .venv/bin/python bench/profile.py --resources 3000 --calls 20
    .venv/bin/python bench/profile.py --cprofile      # cProfile, top functions by own time
    .venv/bin/python bench/profile.py --html out.html # pyinstrument HTML

Two views of the same call:

1. stage timings: the steps `service/routes.py:call_service` runs, timed one by
   one over `--calls` repetitions (median and p90 per stage): body parse,
   request validation, gathering (prefetch), mappings.build_patient_state,
   cards.patient_view_cards, Card.to_json, JSON encoding, and the whole call
   through Flask's test client;
2. a profile (pyinstrument, sampling every 0.1 ms, or cProfile) of `--calls`
   calls through the test client, so the hot spots are visible by function.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO_DIR))

import patients  # noqa: E402

SERVICE_PATH = "/cds-services/mbc-treatment-options"


def make_client(tmp: str):
    import logging

    from service.app import create_app

    app = create_app({"auth": "off", "demo": False, "database_url": f"sqlite:///{tmp}/feedback.sqlite",
                      "log_level": "WARNING"})
    logging.getLogger("mbc_cds").setLevel(logging.WARNING)  # the profile is about the hook, not the log
    return app, app.test_client()


def stage_timings(app, raw: bytes, calls: int) -> dict[str, list[float]]:
    """Each step of call_service, timed separately (ms)."""
    from flask import json as flask_json

    from service.gather import gather
    from service.hooks import load_services
    from service.pipeline import run_hook
    from service.routes import parse_hook_request
    import mappings
    import cards as cards_layer

    service = load_services()["mbc-treatment-options"]
    times: dict[str, list[float]] = {k: [] for k in (
        "json.loads(body)", "HookRequest + context validation", "gather (prefetch)",
        "mappings.build_patient_state", "cards.patient_view_cards", "Card.to_json",
        "JSON encoding (app.json.dumps)", "run_hook (pipeline total)")}
    with app.app_context():
        for _ in range(calls):
            t = time.perf_counter
            t0 = t()
            body = json.loads(raw)
            t1 = t()
            hook_request, context = parse_hook_request(body, service)
            t2 = t()
            gathered = gather(service.prefetch, context, hook_request.prefetch, None)
            t3 = t()
            state = mappings.build_patient_state(gathered.resources, context["patientId"])
            t4 = t()
            cards = cards_layer.patient_view_cards(state)
            t5 = t()
            payload = {"cards": [c.to_json() for c in cards]}
            t6 = t()
            flask_json.dumps(payload)
            t7 = t()
            run_hook(service.hook, context, gathered.resources, gathered.notes)
            t8 = t()
            for key, a, b in (("json.loads(body)", t0, t1), ("HookRequest + context validation", t1, t2),
                              ("gather (prefetch)", t2, t3), ("mappings.build_patient_state", t3, t4),
                              ("cards.patient_view_cards", t4, t5), ("Card.to_json", t5, t6),
                              ("JSON encoding (app.json.dumps)", t6, t7), ("run_hook (pipeline total)", t7, t8)):
                times[key].append((b - a) * 1000)
    return times


def whole_calls(client, raw: bytes, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        response = client.post(SERVICE_PATH, data=raw, content_type="application/json")
        out.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.get_data()[:300]
    return out


def summarize(times: dict[str, list[float]]) -> str:
    lines = [f"{'stage':40} {'median ms':>10} {'p90 ms':>8} {'share':>6}"]
    total = statistics.median(times["flask test client, whole call"])
    for key, values in times.items():
        values = sorted(values)
        med = statistics.median(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        lines.append(f"{key:40} {med:10.3f} {p90:8.3f} {100 * med / total:5.0f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="profile one patient-view hook call in-process")
    parser.add_argument("--resources", type=int, default=300)
    parser.add_argument("--calls", type=int, default=200, help="calls to time and to profile (default 200)")
    parser.add_argument("--cprofile", action="store_true", help="cProfile instead of pyinstrument")
    parser.add_argument("--html", type=Path, help="write pyinstrument's HTML report here")
    parser.add_argument("--top", type=int, default=30, help="cProfile: functions to show")
    args = parser.parse_args(argv)

    raw = patients.request_bytes(args.resources)
    with tempfile.TemporaryDirectory(prefix="mbc-cds-profile-") as tmp:
        app, client = make_client(tmp)
        whole_calls(client, raw, 5)  # warm-up: imports, caches, first-request set-up
        times = stage_timings(app, raw, args.calls)
        times["flask test client, whole call"] = whole_calls(client, raw, args.calls)
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
