"""Instructions per patient-view call, counted by valgrind (callgrind): a measure of the
service's own work that, unlike wall-clock time, does not move with the other tenants of
a shared host (the same code gives the same count to within about 1 %).

    .venv/bin/python bench/count_instructions.py                  # 300 resources
    .venv/bin/python bench/count_instructions.py --resources 30
    .venv/bin/python bench/count_instructions.py --repo /path/to/other/checkout   # another version
    .venv/bin/python bench/count_instructions.py --stages --few 10 --many 60   # own work only

Each count runs the whole call in-process through Flask's test client (body parse and
depth check, gather, mappings, cards, the response), after a warm-up, with
PYTHONHASHSEED=0; the figure is the difference between a run of --many and a run of
--few calls, divided by the difference, so start-up and warm-up cancel out. About two
minutes at 300 resources (valgrind runs Python some 50 times slower). Needs valgrind
(Debian package `valgrind`).

With --stages the measured program leaves Flask, its test client, logging and metrics out
and calls the service's own stages directly (body parse and depth check, HookRequest,
gather, run_hook, the response body) with the collector off after gc.freeze(): the count
then repeats to about 0.01 M instead of moving by about 0.5 M between runs, which is what
a cut of a few tenths of a percent needs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
WARM_UP_CALLS = 30


def run_calls(calls: int, resources: int, repo: Path) -> None:
    """The measured program: WARM_UP_CALLS calls, gc.freeze() as in production, then `calls`,
    with the service's code (and its bench/) from `repo`."""
    import gc

    sys.path.insert(0, str(repo))
    from bench import patients
    from bench.profile_hook import SERVICE_PATH, make_client

    _, client = make_client(tempfile.mkdtemp())
    raw = patients.request_bytes(resources)

    def call() -> None:
        response = client.post(SERVICE_PATH, data=raw, content_type="application/json")
        assert response.status_code == 200, response.status_code

    for _ in range(WARM_UP_CALLS):
        call()
    gc.freeze()
    for _ in range(calls):
        call()


def run_stage_calls(calls: int, resources: int, repo: Path) -> bytes:
    """The measured program of --stages: the call's own stages without Flask, its test client,
    logging or metrics; WARM_UP_CALLS calls, gc.freeze(), the collector off, then `calls`.
    Returns the last response body."""
    import gc

    sys.path.insert(0, str(repo))
    from bench import patients
    from service.gather import gather
    from service.hooks import load_services
    from service.pipeline import cards_response, run_hook
    from service.routes import parse_hook_request
    from service.schemas import parse_json_body

    service = load_services()["mbc-treatment-options"]
    raw = patients.request_bytes(resources)

    def call() -> bytes:
        body = parse_json_body(raw, 10 * 2**20, 64)
        hook_request, context = parse_hook_request(body, service)
        gathered = gather(service.prefetch, context, hook_request.prefetch, None)
        cards = run_hook(service.hook, context, gathered.resources, gathered.notes,
                         incomplete=gathered.incomplete)
        return cards_response(cards)

    for _ in range(WARM_UP_CALLS):
        call()
    gc.freeze()
    gc.disable()
    for _ in range(calls):
        response = call()
    return response


def instructions(calls: int, resources: int, repo: Path, stages: bool = False) -> int:
    """Instructions callgrind collected for a whole run of run_calls(calls, resources, repo)
    (run_stage_calls with `stages`)."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
         "--run-calls", str(calls), "--resources", str(resources), "--repo", str(repo)]
        + (["--stages"] if stages else []),
        env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"valgrind run failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=300)
    parser.add_argument("--repo", type=Path, default=REPO_DIR,
                        help="checkout whose code is measured (default: this one)")
    parser.add_argument("--few", type=int, default=20, help="calls in the shorter run (default 20)")
    parser.add_argument("--many", type=int, default=100, help="calls in the longer run (default 100)")
    parser.add_argument("--stages", action="store_true",
                        help="count only the service's own stages, without Flask (repeats to ~0.01 M)")
    parser.add_argument("--run-calls", type=int, help=argparse.SUPPRESS)  # the measured child
    args = parser.parse_args(argv)
    if args.run_calls is not None:
        measured = run_stage_calls if args.stages else run_calls
        measured(args.run_calls, args.resources, args.repo.resolve())
        return 0
    if args.many <= args.few:
        parser.error("--many must be larger than --few")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    repo = args.repo.resolve()
    few = instructions(args.few, args.resources, repo, args.stages)
    many = instructions(args.many, args.resources, repo, args.stages)
    per_call = (many - few) / (args.many - args.few)
    what = "own stages" if args.stages else "whole call"
    print(f"patient-view ({what}), {args.resources} resources: {per_call / 1e6:.{3 if args.stages else 2}f} M instructions per call "
          f"(({many:,} - {few:,}) / {args.many - args.few} calls; code from {repo})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
