"""Where a call without prefetch spends its time: a timeline, in-process.

    .venv/bin/python bench/fetch_timeline.py                 # sekmet-fhir under 2 uvicorn workers, 60 calls
    .venv/bin/python bench/fetch_timeline.py --workers 0     # `sekmet serve` (one request at a time)
    .venv/bin/python bench/fetch_timeline.py --calls 200 --reps 50

Budget (e) compares a call's total with the slowest FHIR query sent alone. This
script shows what lies between the two: it loads the 300-resource benchmark
patient into a local sekmet-fhir (as `make bench` does), sends patient-view calls
without prefetch through Flask's test client, and marks, from each call's start,
when every FHIR request leaves and when its answer has been parsed, when the
mappings start and end, when the cards are built and when the response is ready
(p50 over the calls after the warm-up). Then it times the service's searches
each alone and all at once, without the service (bench/run.py's own functions), so
that "the server answering the searches together" and "the service's own work after
the last answer" can be told apart.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from bench import patients, run as bench  # noqa: E402  (the repo root is on sys.path from here)

SERVICE_PATH = "/cds-services/mbc-treatment-options"


class Timeline:
    """Named marks in ms since the current call started, from any thread."""

    def __init__(self):
        self.marks: list[tuple[str, float]] = []
        self.started = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        self.marks = []
        self.started = time.perf_counter()

    def mark(self, name: str) -> None:
        with self._lock:
            self.marks.append((name, (time.perf_counter() - self.started) * 1000))


def wrap(owner, name: str, before: str | None, after: str, timeline: Timeline, label=None) -> None:
    """Replace owner.name with a wrapper marking `before`/`after` around each call."""
    original = getattr(owner, name)

    def wrapped(*args, **kwargs):
        suffix = f" {label(*args)}" if label else ""
        if before:
            timeline.mark(before + suffix)
        result = original(*args, **kwargs)
        timeline.mark(after + suffix)
        return result

    setattr(owner, name, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers for sekmet-fhir (0 = sekmet serve)")
    parser.add_argument("--calls", type=int, default=60, help="calls timed after 10 warm-up calls")
    parser.add_argument("--reps", type=int, default=30, help="repetitions of each search alone / all at once")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="fetch-timeline-"))
    resources = patients.make_patient(bench.REALISTIC)
    sekmet, base_url = bench.start_sekmet(tmp, args.workers)
    try:
        bench.put_patient(base_url, resources)
        body, env = bench.no_prefetch_call(resources, base_url)
        os.environ.update(env)
        timeline = Timeline()
        import cards
        import mappings
        import service.fhir_client as fhir_client
        from service.app import create_app

        def query_label(_client, url, *_rest):
            return url.split("/fhir/", 1)[-1].split("?", 1)[0] + "?" if "?" in url else url.rsplit("/", 2)[-2]

        wrap(fhir_client.FHIRClient, "_get_json", "sent", "parsed", timeline, query_label)
        wrap(mappings, "build_patient_state", "mappings start", "mappings end", timeline)
        wrap(cards, "patient_view_cards", None, "cards end", timeline)
        client = create_app({"auth": "off", "log_level": "WARNING"}).test_client()

        rows: dict[str, list[float]] = {}
        for i in range(10 + args.calls):
            timeline.start()
            response = client.post(SERVICE_PATH, data=body, content_type="application/json")
            timeline.mark("response ready")
            if response.status_code != 200:
                raise SystemExit(f"the hook call answered {response.status_code}: {response.data[:300]!r}")
            if i >= 10:
                for name, at in timeline.marks:
                    rows.setdefault(name, []).append(at)
        print(f"one call without prefetch, {args.calls} calls, p50 ms from the call's start"
              f" (sekmet-fhir, {args.workers or 'sekmet serve, 1'} worker(s)):")
        for name, times in sorted(rows.items(), key=lambda item: statistics.median(item[1])):
            print(f"  {name:34} {statistics.median(times):7.2f}   (n={len(times)})")

        pid = resources[0]["id"]
        alone = bench.time_queries(base_url, pid, args.reps)
        together = bench.time_queries_concurrently(base_url, pid, args.reps)
        print("the service's searches, without the service (p50 ms):")
        for key, query in alone.items():
            print(f"  alone: {key[:60]:60} {query['p50_ms']:7.2f} ({query['resources']} resources)")
        print(f"  all {together['queries']} at once: {together['p50_ms']:.2f}")
    finally:
        sekmet.stop()


if __name__ == "__main__":
    main()
