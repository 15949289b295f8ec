"""Instructions per patient-view call, counted by valgrind (callgrind): a measure of the
service's own work that, unlike wall-clock time, does not move with the other tenants of
a shared host (the same code gives the same count to within about 1 %).

    .venv/bin/python bench/count_instructions.py                  # 300 resources
    .venv/bin/python bench/count_instructions.py --resources 30
    .venv/bin/python bench/count_instructions.py --repo /path/to/other/checkout   # another version

Each count runs the whole call in-process through Flask's test client (body parse and
depth check, gather, mappings, cards, the response), after a warm-up, with
PYTHONHASHSEED=0; the figure is the difference between a run of --many and a run of
--few calls, divided by the difference, so start-up and warm-up cancel out. About two
minutes at 300 resources (valgrind runs Python some 50 times slower). Needs valgrind
(Debian package `valgrind`).
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


def instructions(calls: int, resources: int, repo: Path) -> int:
    """Instructions callgrind collected for a whole run of run_calls(calls, resources, repo)."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
         "--run-calls", str(calls), "--resources", str(resources), "--repo", str(repo)],
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
    parser.add_argument("--run-calls", type=int, help=argparse.SUPPRESS)  # the measured child
    args = parser.parse_args(argv)
    if args.run_calls is not None:
        run_calls(args.run_calls, args.resources, args.repo.resolve())
        return 0
    if args.many <= args.few:
        parser.error("--many must be larger than --few")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    repo = args.repo.resolve()
    few = instructions(args.few, args.resources, repo)
    many = instructions(args.many, args.resources, repo)
    per_call = (many - few) / (args.many - args.few)
    print(f"patient-view, {args.resources} resources: {per_call / 1e6:.2f} M instructions per call "
          f"(({many:,} - {few:,}) / {args.many - args.few} calls; code from {repo})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
