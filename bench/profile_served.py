"""Where a served worker's time goes: py-spy samples a gunicorn worker under wrk load.

    .venv/bin/python bench/profile_served.py                      # 300 resources, 10 s, concurrency 1
    .venv/bin/python bench/profile_served.py --resources 30 --seconds 20 --top 60
    .venv/bin/python bench/profile_served.py --no-prefetch            # the service fetches from sekmet-fhir

`bench/profile_hook.py` profiles a hook call in-process, through Flask's test client.
That leaves out what only a served call pays: gunicorn reading the request and
writing the response, its thread hand-offs and heartbeat, the background threads of
the worker (the feedback writer), and freeing the call's objects after the view
returns. It also runs one call after another in a tight loop, where the parsed body
and everything built from it stay in the CPU caches; a served worker between calls
does not (README, Performance: parsing and freeing the 300-resource body took about
four times as long served as in a loop).

This script starts the service the way `make bench` does (`mbc-cds serve`, one
worker, 127.0.0.1, auth and demo off), drives it with `wrk` at the given
concurrency, samples the worker with py-spy (a sampling profiler that attaches to a
running process; it needs ptrace, which root has and a container may need
SYS_PTRACE for), and prints, per thread, the share of samples in each frame
(inclusive and own time), next to wrk's latency and the service's own log of each
call's time from request start to the end of the view.

--no-prefetch sends calls without prefetch: the service fetches the patient from a
local sekmet-fhir (2 uvicorn workers, as in `make bench` (e)), so the profile shows
the fetch threads and what the worker does after the FHIR answers arrive.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from bench import patients  # noqa: E402
from bench.run import (  # noqa: E402
    SERVICE_PATH, Loader, bin_path, ensure_wrk, no_prefetch_call, percentile, put_patient, service_server,
    start_sekmet, stop_all,
)

_RAW_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_THREAD = re.compile(r"^(?:process \d+:)?\"?thread \((?P<tid>\d+)\): (?P<name>.*?)\"?$")


def frame_label(frame: str) -> str:
    """'func (path/to/file.py:12)' -> 'func (file.py:12)'."""
    name, sep, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if sep else frame


def aggregate(raw_lines, top: int) -> dict:
    """py-spy `record --threads --format raw` lines ("thread (tid): name;frame;... count")
    -> per thread: samples, and the `top` frames by inclusive and by own samples."""
    threads: dict[str, dict] = {}
    for line in raw_lines:
        match = _RAW_LINE.match(line.rstrip("\n"))
        if not match:
            continue
        frames = match.group("stack").split(";")
        count = int(match.group("count"))
        head = _THREAD.match(frames[0])
        if head is None:
            continue  # the rest of a frame whose text held a line break
        thread = head.group("name")
        stack = [frame_label(f) for f in frames[1:]]
        entry = threads.setdefault(thread, {"samples": 0, "inclusive": Counter(), "own": Counter()})
        entry["samples"] += count
        for label in set(stack):
            entry["inclusive"][label] += count
        if stack:
            entry["own"][stack[-1]] += count
    return {
        name: {"samples": t["samples"],
               "inclusive": t["inclusive"].most_common(top),
               "own": t["own"].most_common(top)}
        for name, t in sorted(threads.items(), key=lambda kv: -kv[1]["samples"])
    }


def logged_latencies(logfile: Path, since_line: int) -> list[float]:
    """latency_ms of the service's hook log lines after `since_line`."""
    out = []
    for line in logfile.read_text(errors="replace").splitlines()[since_line:]:
        if '"latency_ms"' not in line:
            continue
        try:
            out.append(float(json.loads(line)["latency_ms"]))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=300, help="patient size (default 300)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds sampled (default 10)")
    parser.add_argument("--connections", type=int, default=1, help="wrk connections (default 1)")
    parser.add_argument("--rate", type=int, default=1000, help="py-spy samples per second (default 1000)")
    parser.add_argument("--top", type=int, default=40, help="frames shown per list (default 40)")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--no-prefetch", action="store_true",
                        help="calls without prefetch, fetched from a local sekmet-fhir (2 uvicorn workers)")
    args = parser.parse_args(argv)

    py_spy = bin_path("py-spy")
    if not shutil.which(py_spy):
        print("py-spy not found: .venv/bin/pip install py-spy (it is in the test extras)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="mbc-cds-profile-"))
    loader = Loader(ensure_wrk(not args.no_install), tmp)
    if loader.tool != "wrk":
        print("wrk not found (apt-get install wrk): the Python load client would share the sampled CPU",
              file=sys.stderr)
        return 2
    body = tmp / f"patient-view-{args.resources}.json"
    env = None
    try:
        if args.no_prefetch:
            resources = patients.make_patient(args.resources)
            sekmet, base_url = start_sekmet(tmp, workers=2)
            put_patient(base_url, resources)
            raw, env = no_prefetch_call(resources, base_url)
            body.write_bytes(raw)
        else:
            body.write_bytes(patients.request_bytes(args.resources))
        service = service_server(1, tmp, env)
        service.start()
        worker = service.workers()[0]
        loader.run(service.port, SERVICE_PATH, body, args.connections, 3)  # warm-up
        log_lines = len(service.logfile.read_text(errors="replace").splitlines())
        result: dict = {}
        load = threading.Thread(target=lambda: result.update(
            loader.run(service.port, SERVICE_PATH, body, args.connections, args.seconds + 2)))
        load.start()
        time.sleep(1.0)
        raw = tmp / "py-spy.raw"
        spy = subprocess.run([py_spy, "record", "--pid", str(worker), "--duration", str(round(args.seconds)),
                              "--rate", str(args.rate), "--format", "raw", "--output", str(raw), "--threads",
                              "--nonblocking"], capture_output=True, text=True, timeout=args.seconds + 60)
        load.join()
        if spy.returncode != 0 or not raw.exists():
            print(f"py-spy failed (it needs ptrace on the worker):\n{spy.stderr[-2000:]}", file=sys.stderr)
            return 1
        latencies = sorted(logged_latencies(service.logfile, log_lines))
        profile = aggregate(raw.read_text(errors="replace").splitlines(), args.top)
    finally:
        stop_all()
    what = "no prefetch, fetched from sekmet-fhir" if args.no_prefetch else f"{body.stat().st_size / 1024:.0f} KiB body"
    print(f"{args.resources} resources ({what}), {args.connections} connection(s),"
          f" worker {worker} sampled {args.seconds:.0f} s at {args.rate}/s")
    print(f"wrk: p50 {result.get('p50_ms', 0):.2f} ms, p90 {result.get('p90_ms', 0):.2f}, "
          f"{result.get('rps', 0):.0f} req/s")
    if latencies:
        print(f"service log (request start to end of view): p50 {percentile(latencies, 50):.2f} ms,"
              f" p90 {percentile(latencies, 90):.2f} over {len(latencies)} calls")
    total = sum(t["samples"] for t in profile.values()) or 1
    for name, t in profile.items():
        print(f"\nthread {name}: {t['samples']} samples ({t['samples'] / total:.0%} of all active samples)")
        print("  inclusive")
        for label, count in t["inclusive"]:
            print(f"    {count / t['samples']:6.1%}  {label}")
        print("  own")
        for label, count in t["own"]:
            print(f"    {count / t['samples']:6.1%}  {label}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
