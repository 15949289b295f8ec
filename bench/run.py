"""Benchmark of mbc-cds against its budgets (issue 8, ../shared/DESIGN.md "Budgets").

    make bench                      # or: .venv/bin/python bench/run.py [--quick] [--skip-fhir]

Starts the service the way production does (`mbc-cds serve`: gunicorn, gthread,
MBC_CDS_THREADS threads per worker) on 127.0.0.1 with auth and demo off, and, under the same
gunicorn settings, the floor of this stack (bench/floor_app.py: a bare Flask
endpoint that parses the same request body and returns a fixed JSON body).
Drives both with `wrk` (Debian package; installed with apt-get when missing and
allowed; else a bounded Python keep-alive client) and reports, measured in the
same run:

  (a) 1 worker, keep-alive, concurrency 1: p50/p90/p99 latency for the ~300-resource
      patient with full prefetch (budget p50 <= 5 ms, p99 <= 25 ms), and the ratio
      to the floor;
  (b) 2 workers, concurrency 10: requests/s (budget >= 300) and latency;
  (c) RSS per worker after the load (budget <= 150 MB);
  (d) scaling at 30 / 300 / 3,000 resources: latency, cost per resource and the
      growth exponent (budget: linear or better, k <= 1);
  (e) no prefetch: the service fetches from a local sekmet-fhir server loaded
      with the 300-resource patient; total vs the slowest single FHIR query
      (budget: slowest + 10 ms), against `sekmet serve` (one request at a time),
      the same server under --sekmet-workers uvicorn processes, and those behind
      --fhir-latency-ms of latency per response (bench/latency_proxy.py).

--variant-env KEY=VALUE runs a second service with that environment in the same
interleaved windows as (a) and (b): an A/B test of a setting. --variant-venv DIR
does the same with the service installed in another virtualenv (DIR/bin/mbc-cds):
an A/B test of the interpreter or of dependency versions. The window order
rotates each round, and a Python speed probe is recorded with the machine,
because this host's speed changes with tenants no process list here shows.

Every server is bound to 127.0.0.1 and stopped by this script; every load loop is
bounded in time (wrk -d) and, for the Python fallback, in count too. The machine
load (other processes' CPU) is sampled around every measurement; a measurement
taken while others used more than --max-other-cpu is repeated (at most twice).

Results: bench/results/bench-<utc time>.json and bench/results/latest.json
(gitignored), and a table on stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))

from bench import patients  # noqa: E402  (the repo root is on sys.path from here)
from pydantic import TypeAdapter  # noqa: E402

from service.config import Settings  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
SERVICE_PATH = "/cds-services/mbc-treatment-options"
SIZES = (30, 300, 3000)
REALISTIC = 300
HOST = "127.0.0.1"
BUDGET = {"p50_ms": 5.0, "p99_ms": 25.0, "rps_2_workers_c10": 300.0, "rss_mb": 150.0,
          "no_prefetch_over_slowest_ms": 10.0}


def serve_setting(name: str):
    """A setting as `mbc-cds serve` reads it from MBC_CDS_<NAME> (pydantic's parsing of
    that field, service/config.py), else its default."""
    field = Settings.model_fields[name]
    raw = os.environ.get(f"MBC_CDS_{name.upper()}")
    return field.default if raw is None else TypeAdapter(field.annotation).validate_python(raw)


# gunicorn settings of `mbc-cds serve` (service/cli.py), checked at start-up.
GUNICORN = {"worker_class": "gthread", "timeout": 60,
            "threads": serve_setting("threads"), "reuse_port": serve_setting("reuse_port")}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


# -- small helpers -------------------------------------------------------------

def bin_path(name: str, venv: Path | None = None) -> str:
    """`name` from this interpreter's virtualenv, or from `venv` when given."""
    if venv is not None:
        return str(venv / "bin" / name)
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_cli_settings() -> None:
    """Warn when service/cli.py no longer runs gunicorn the way the floor is run."""
    text = (REPO_DIR / "service" / "cli.py").read_text(encoding="utf-8")
    found = dict(re.findall(r'cfg\.set\("(\w+)",\s*"?([\w.]+)"?\)', text))
    for key in ("threads", "reuse_port"):
        if found.get(key) == f"settings.{key}":
            found[key] = GUNICORN[key]
    for key, value in GUNICORN.items():
        if str(found.get(key)) != str(value):
            log(f"WARNING: service/cli.py sets gunicorn {key}={found.get(key)!r}, the floor uses {value!r}")


def child_pids(pid: int) -> list[int]:
    """The pids whose parent is `pid` (/proc), sorted."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return sorted(kids)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# -- machine load ----------------------------------------------------------------

def cpu_busy_ticks() -> int:
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle


def proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            parts = fh.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def children_ticks() -> int:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * CLK_TCK)


def self_ticks() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round((usage.ru_utime + usage.ru_stime) * CLK_TCK)


class LoadMeter:
    """CPU used by processes other than ours (in cores) over an interval."""

    def __init__(self, our_pids: list[int]):
        self.pids = our_pids

    def __enter__(self):
        self.t0 = time.monotonic()
        self.busy0 = cpu_busy_ticks()
        self.ours0 = sum(proc_ticks(p) for p in self.pids) + children_ticks() + self_ticks()
        return self

    def __exit__(self, *exc):
        elapsed = max(time.monotonic() - self.t0, 1e-3)
        busy = cpu_busy_ticks() - self.busy0
        ours = sum(proc_ticks(p) for p in self.pids) + children_ticks() + self_ticks() - self.ours0
        self.other_cores = max(busy - ours, 0) / CLK_TCK / elapsed
        self.our_cores = ours / CLK_TCK / elapsed
        return False


def wait_for_quiet(max_other: float, limit_s: float) -> float:
    """Wait (at most `limit_s`) until other processes use at most `max_other` cores;
    returns what they used in the last second sampled."""
    deadline = time.monotonic() + limit_s
    while True:
        with LoadMeter([]) as meter:
            time.sleep(1.0)
        if meter.other_cores <= max_other or time.monotonic() >= deadline:
            return meter.other_cores


# -- servers -------------------------------------------------------------------

class Server:
    """A process group bound to 127.0.0.1, always stopped by `stop()`."""

    running: list["Server"] = []

    def __init__(self, name: str, cmd: list[str], port: int, health_url: str, env: dict | None = None,
                 logfile: Path | None = None):
        self.name, self.cmd, self.port, self.health_url = name, cmd, port, health_url
        self.env = {**os.environ, **(env or {})}
        self.logfile = logfile
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Server":
        out = open(self.logfile, "wb") if self.logfile else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     cwd=REPO_DIR, start_new_session=True)
        Server.running.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=1)
                conn.request("GET", self.health_url)
                ok = conn.getresponse().status == 200
                conn.close()
                if ok and (self.expected_workers is None or len(self.workers()) >= self.expected_workers):
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        tail = self.logfile.read_text(errors="replace")[-2000:] if self.logfile else ""
        self.stop()
        raise RuntimeError(f"{self.name} did not start on {HOST}:{self.port}\n{tail}")

    expected_workers: int | None = None

    def workers(self) -> list[int]:
        """Child pids of the master (gunicorn workers)."""
        return child_pids(self.proc.pid) if self.proc else []

    companions: list["Server"] = []  # servers whose CPU counts as this one's (the FHIR server in (e))

    def pids(self) -> list[int]:
        own = ([self.proc.pid] if self.proc else []) + self.workers()
        return own + [pid for other in self.companions for pid in other.pids()]

    def rss_mb(self) -> list[dict]:
        out = []
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/status") as fh:
                    status = dict(line.split(":", 1) for line in fh if ":" in line)
                out.append({"pid": pid,
                            "rss_mb": round(int(status["VmRSS"].split()[0]) / 1024, 1),
                            "peak_rss_mb": round(int(status["VmHWM"].split()[0]) / 1024, 1)})
            except (OSError, KeyError, ValueError):
                continue
        return out

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self in Server.running:
            Server.running.remove(self)


def service_server(workers: int, tmp: Path, extra_env: dict | None = None, name: str = "service",
                   venv: Path | None = None) -> Server:
    port = free_port()
    env = {
        "MBC_CDS_AUTH": "off", "MBC_CDS_DEMO": "false",
        "MBC_CDS_DATABASE_URL": f"sqlite:///{tmp}/feedback-{port}.sqlite",
        "MBC_CDS_LOG_LEVEL": "INFO",  # production logs one line per hook call
        **(extra_env or {}),
    }
    server = Server(name, [bin_path("mbc-cds", venv), "serve", "--host", HOST, "--port", str(port),
                           "--workers", str(workers)],
                    port, "/healthz", env, tmp / f"{name}-{workers}w-{port}.log")
    server.expected_workers = workers
    return server


def floor_server(workers: int, tmp: Path) -> Server:
    port = free_port()
    cmd = [bin_path("gunicorn"), "--bind", f"{HOST}:{port}", "--workers", str(workers),
           "--worker-class", GUNICORN["worker_class"], "--threads", str(GUNICORN["threads"]),
           "--timeout", str(GUNICORN["timeout"]), *(["--reuse-port"] if GUNICORN["reuse_port"] else []),
           "--chdir", str(BENCH_DIR), "floor_app:app"]
    server = Server("floor", cmd, port, "/healthz", None, tmp / f"floor-{workers}w-{port}.log")
    server.expected_workers = workers
    return server


def stop_all() -> None:
    for server in list(Server.running):
        server.stop()


# -- load generation -------------------------------------------------------------

WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()

done = function(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  local e = summary.errors
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, ' ..
    '"p50": %d, "p90": %d, "p99": %d, "p99.9": %d}}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
  out:close()
end
"""


def ensure_wrk(allow_install: bool) -> str | None:
    path = shutil.which("wrk")
    if path or not allow_install:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk not found; installing the Debian package (apt-get install -y wrk)")
        try:
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, timeout=300,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return shutil.which("wrk")


class Loader:
    def __init__(self, wrk: str | None, tmp: Path):
        self.wrk = wrk
        self.tmp = tmp
        self.lua = tmp / "post.lua"
        self.lua.write_text(WRK_LUA)

    @property
    def tool(self) -> str:
        return "wrk" if self.wrk else "python-keepalive"

    def run(self, port: int, path: str, body_file: Path, connections: int, seconds: float,
            threads: int = 1, max_requests: int = 200_000) -> dict:
        if self.wrk:
            return self._wrk(port, path, body_file, connections, seconds, threads)
        return python_load(port, path, body_file.read_bytes(), connections, seconds, max_requests)

    def _wrk(self, port, path, body_file, connections, seconds, threads) -> dict:
        out = self.tmp / f"wrk-{port}-{connections}.json"
        out.unlink(missing_ok=True)
        cmd = [self.wrk, "-t", str(min(threads, connections)), "-c", str(connections),
               "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(self.lua),
               f"http://{HOST}:{port}{path}"]
        env = {**os.environ, "BENCH_BODY": str(body_file), "BENCH_OUT": str(out)}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk failed: {proc.stderr or proc.stdout}")
        raw = json.loads(out.read_text())
        lat = raw["latency_us"]
        errors = sum(raw["errors"].values())
        return {
            "tool": "wrk", "connections": connections, "requests": raw["requests"],
            "seconds": round(raw["duration_us"] / 1e6, 2),
            "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "p50_ms": lat["p50"] / 1000, "p90_ms": lat["p90"] / 1000, "p99_ms": lat["p99"] / 1000,
            "max_ms": lat["max"] / 1000, "mean_ms": round(lat["mean"] / 1000, 3),
            "errors": errors, "error_detail": raw["errors"],
        }


def python_load(port: int, path: str, body: bytes, connections: int, seconds: float,
                max_requests: int) -> dict:
    """Bounded keep-alive load: `connections` threads, each one HTTP/1.1 connection."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    per_thread = max(1, max_requests // connections)
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}

    def worker():
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        mine = []
        for _ in range(per_thread):
            if time.monotonic() >= deadline:
                break
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    elapsed = time.monotonic() - started
    lat = sorted(x * 1000 for x in latencies)
    return {
        "tool": "python-keepalive", "connections": connections, "requests": len(lat),
        "seconds": round(elapsed, 2), "rps": round(len(lat) / elapsed, 1),
        "p50_ms": round(percentile(lat, 50), 3), "p90_ms": round(percentile(lat, 90), 3),
        "p99_ms": round(percentile(lat, 99), 3), "max_ms": round(lat[-1], 3) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 3) if lat else None, "errors": errors[0],
    }


def check_response(port: int, path: str, body: bytes) -> dict:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"POST {path} -> {response.status}: {data[:500]!r}")
    parsed = json.loads(data)
    return {"status": response.status, "response_bytes": len(data),
            "cards": len(parsed.get("cards", [])) if isinstance(parsed, dict) else None}


def measure(loader: Loader, targets: list[tuple[str, Server, str]], body_file: Path, connections: int,
            opts, threads: int = 1) -> dict:
    """The same load on each server in interleaved short windows, the order rotating each round.

    The machine is shared: before each round it waits (bounded, opts.max_wait s)
    for other processes to use at most opts.max_other_cpu cores, and measures what
    they used during every window. The summary of a server is the median, over
    its quiet windows (others <= max_other_cpu), of each figure; when no window
    was quiet, the least disturbed window. Every window is kept in `windows`.
    """
    windows: dict[str, list[dict]] = {label: [] for label, _, _ in targets}
    for _, server, path in targets:  # warm-up: first requests, caches, connection set-up
        if opts.warmup > 0:
            loader.run(server.port, path, body_file, connections, opts.warmup, threads)
    for round_no in range(opts.rounds):
        before = wait_for_quiet(opts.max_other_cpu, opts.max_wait)
        # Each round starts with the next target: a window right after another
        # server's window was seen to run ~10 % slower (two identical services
        # compared in a fixed order), so no target may always come second.
        shift = round_no % len(targets)
        for label, server, path in targets[shift:] + targets[:shift]:
            with LoadMeter(server.pids()) as meter:
                result = loader.run(server.port, path, body_file, connections, opts.seconds, threads)
            if result["errors"]:
                log(f"  {label}: window with {result['errors']} socket/status errors"
                    f" ({result.get('error_detail')}); not used")
            result["other_cpu_cores"] = round(meter.other_cores, 2)
            result["our_cpu_cores"] = round(meter.our_cores, 2)
            result["other_cpu_cores_before"] = round(before, 2)
            result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
            windows[label].append(result)
    return {name: summarize_windows(ws, opts.max_other_cpu) for name, ws in windows.items()}


def summarize_windows(windows: list[dict], max_other: float) -> dict:
    valid = [w for w in windows if not w["errors"] and w["requests"]]
    if not valid:
        raise RuntimeError(f"every window failed: {windows}")
    quiet = [w for w in valid if w["other_cpu_cores"] <= max_other]
    chosen = quiet or [min(valid, key=lambda w: w["other_cpu_cores"])]
    out = {"tool": windows[0]["tool"], "connections": windows[0]["connections"]}
    for key in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "rps", "other_cpu_cores"):
        out[key] = round(statistics.median(w[key] for w in chosen), 3)
    out["max_ms"] = max(w["max_ms"] for w in chosen)
    out["requests"] = sum(w["requests"] for w in chosen)
    out["seconds"] = round(sum(w["seconds"] for w in chosen), 1)
    out["windows_used"] = len(chosen)
    out["windows_total"] = len(windows)
    out["machine_quiet"] = bool(quiet)
    out["all_windows_p50_ms"] = round(statistics.median(w["p50_ms"] for w in valid), 3)
    out["failed_windows"] = len(windows) - len(valid)
    out["windows"] = windows
    return out


# -- the FHIR server (no-prefetch case) -------------------------------------------

def start_sekmet(tmp: Path, workers: int = 0, public_port: int | None = None) -> tuple[Server, str]:
    """sekmet-fhir on 127.0.0.1 with its data in tmp/sekmet (kept between starts).

    workers 0: `sekmet serve`, one process as its CLI runs it; its FHIR route is
    one asyncio coroutine that does the database work inline, so it answers one
    request at a time. workers N: the same app (`sekmet.main:app_factory`, the
    entry point `sekmet serve` itself passes to uvicorn) under `uvicorn --workers N`
    on the same SQLite database: a server that answers N requests at once.
    """
    port = free_port()
    # public_port: where clients reach it (a latency proxy); its links name that port.
    base_url = f"http://{HOST}:{public_port or port}/fhir"
    workdir = tmp / "sekmet"
    workdir.mkdir(exist_ok=True)
    settings = workdir / "settings.yaml"
    settings.write_text(
        f"base_url: {base_url}\nhost: {HOST}\nport: {port}\n"
        f"data_dir: {workdir / 'data'}\nlog_inbound: false\nsimulator:\n  enabled: false\n"
    )
    if workers:
        cmd = [bin_path("python"), "-m", "uvicorn", "sekmet.main:app_factory", "--factory", "--host", HOST,
               "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    else:
        cmd = [bin_path("sekmet"), "serve", "-c", str(settings)]
    server = Server(f"sekmet-fhir x{workers or 1}", cmd, port, "/fhir/metadata",
                    {"NO_COLOR": "1", "SEKMET_CONFIG": str(settings)}, workdir / f"sekmet-{port}.log")
    server.expected_workers = workers if workers > 1 else None  # uvicorn forks only for 2+
    server.start(timeout=90)
    return server, base_url


def start_latency_proxy(port: int, upstream_port: int, delay_ms: float, tmp: Path) -> Server:
    """bench/latency_proxy.py on 127.0.0.1:port: every response from upstream_port `delay_ms` later."""
    cmd = [sys.executable, str(BENCH_DIR / "latency_proxy.py"), "--listen", str(port),
           "--upstream", str(upstream_port), "--delay-ms", str(delay_ms)]
    proxy = Server(f"latency proxy {delay_ms:g} ms", cmd, port, "/fhir/metadata", None,
                   tmp / f"latency-proxy-{port}.log")
    return proxy.start(timeout=30)


def put_patient(base_url: str, resources: list[dict], limit_s: float = 300.0) -> None:
    import requests

    deadline = time.monotonic() + limit_s
    order = {"Patient": 0}
    with requests.Session() as session:
        session.trust_env = False
        for res in sorted(resources, key=lambda r: order.get(r["resourceType"], 1)):
            if time.monotonic() > deadline:
                raise RuntimeError("loading the FHIR server took too long")
            url = f"{base_url}/{res['resourceType']}/{res['id']}"
            response = session.put(url, json=res, headers={"Content-Type": "application/fhir+json"},
                                   timeout=30)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"PUT {url} -> {response.status_code}: {response.text[:300]}")


def service_fhir_client(base_url: str):
    """A FHIRClient set up as service/routes.py:fhir_client_factory sets it up (same settings)."""
    import inspect

    from service.fhir_client import FHIRClient

    cfg = Settings()
    wanted = {
        "connect_timeout": cfg.fhir_connect_timeout, "read_timeout": cfg.fhir_read_timeout,
        "max_bytes": cfg.fhir_max_response_bytes, "max_pages": cfg.fhir_max_pages,
        "max_resources": cfg.fhir_max_resources, "page_size": getattr(cfg, "fhir_page_size", None),
    }
    params = inspect.signature(FHIRClient).parameters
    return FHIRClient(base_url, None, **{k: v for k, v in wanted.items() if k in params and v is not None})


def service_queries(base_url: str, patient_id: str) -> dict:
    """The searches the service sends for a hook without prefetch to this server
    (service.gather.plan_searches: templates rendered, same-type code searches
    merged, and folded into one Patient search with _revinclude where the
    server's CapabilityStatement declares them): label -> gather.Search."""
    from service.fhir_capabilities import RevincludeSupport
    from service.gather import plan_searches, render_template

    rendered = {key: render_template(t, {"patientId": patient_id})
                for key, t in patients.prefetch_templates().items()}
    declared = RevincludeSupport().learn(service_fhir_client(base_url)) if Settings().fhir_revinclude else frozenset()
    return plan_searches(rendered, declared)


def time_queries(base_url: str, patient_id: str, reps: int) -> dict:
    """Each prefetch query alone, as the service runs it (a fresh FHIRClient per call, as per
    hook call; same settings; paging followed), one after another."""
    from service.fhir_client import pooled_session
    from service.gather import fetch_search

    out = {}
    session = pooled_session(base_url)
    original_get = session.get
    pages = 0

    def counting_get(*args, **kwargs):
        nonlocal pages
        pages += 1
        return original_get(*args, **kwargs)

    session.get = counting_get
    try:
        for key, search in service_queries(base_url, patient_id).items():
            times, count, pages = [], 0, 0
            for _ in range(reps):
                client = service_fhir_client(base_url)
                t0 = time.perf_counter()
                resources = fetch_search(client, search)[0]  # (resources, complete, problems)
                times.append((time.perf_counter() - t0) * 1000)
                count = len(resources)
            times.sort()
            out[key] = {"resources": count, "pages": round(pages / reps, 1),
                        "p50_ms": round(percentile(times, 50), 2), "p90_ms": round(percentile(times, 90), 2),
                        "min_ms": round(times[0], 2)}
    finally:
        session.get = original_get
    return out


def time_queries_concurrently(base_url: str, patient_id: str, reps: int) -> dict:
    """All prefetch queries at once, one thread each (what the service's gather does):
    the wall time the FHIR server needs to answer them together."""
    import concurrent.futures as cf

    from service.gather import fetch_search

    queries = list(service_queries(base_url, patient_id).values())
    one = fetch_search

    times = []
    with cf.ThreadPoolExecutor(max_workers=len(queries)) as pool:
        for _ in range(reps):
            client = service_fhir_client(base_url)
            t0 = time.perf_counter()
            for future in [pool.submit(one, client, q) for q in queries]:
                future.result(timeout=60)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"queries": len(queries), "p50_ms": round(percentile(times, 50), 2),
            "p90_ms": round(percentile(times, 90), 2), "min_ms": round(times[0], 2)}


# -- the run -----------------------------------------------------------------------

def machine() -> dict:
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = None
    import gunicorn

    from importlib.metadata import version

    return {"nproc": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "interpreter": interpreter(sys.executable),
            "platform": platform.platform(), "gunicorn": gunicorn.__version__, "flask": version("flask"),
            "git_commit": commit, "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python_probe_ms": python_probe_ms()}


def interpreter(python: str) -> dict:
    """Which CPython build runs the service. A build without profile-guided and
    link-time optimisation (pyenv's default, `./configure` without
    --enable-optimizations --with-lto) runs this service measurably slower than
    Debian's python3.11 or the Docker image's (README, Performance)."""
    code = ("import json, platform, sys, sysconfig; "
            "print(json.dumps({'version': platform.python_version(), 'base': sys.base_prefix, "
            "'config_args': sysconfig.get_config_var('CONFIG_ARGS') or ''}))")
    try:
        info = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True,
                                         timeout=30, check=True).stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {"description": "unknown"}
    args = info.pop("config_args")
    if info["base"] == "/usr" and Path("/etc/debian_version").exists():
        build = "Debian's package (built with PGO, libpython linked in)"
    elif "--enable-optimizations" in args:
        build = "built with --enable-optimizations" + (" --with-lto" if "--with-lto" in args else "")
    else:
        build = "built without --enable-optimizations (no PGO/LTO)"
    info["description"] = f"CPython {info['version']} from {info['base']}, {build}"
    return info


def python_probe_ms(repeats: int = 7) -> float:
    """Median ms of a fixed pure-Python workload (dicts, strings, sorting), run here
    before the measurements. The host's speed changes with its other tenants,
    which no process list inside this machine shows; the same code measured
    35 % slower within an hour on the same machine. Compare runs by this figure
    (and by the floor) before comparing their milliseconds."""
    def workload():
        table = {f"code-{i}": i for i in range(20_000)}
        rows = sorted(((value % 97, key) for key, value in table.items()), reverse=True)
        return sum(len(key) for _, key in rows if key.endswith("7"))

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        workload()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measured window (default 3)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved windows per server and configuration (default 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per server (default 2)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s, 1 s warm-up (a smoke run)")
    parser.add_argument("--skip-fhir", action="store_true", help="skip (e), the no-prefetch case")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--max-other-cpu", type=float, default=0.3,
                        help="a window is quiet when other processes used at most this many cores (default 0.3)")
    parser.add_argument("--max-wait", type=float, default=15.0,
                        help="seconds to wait for a quiet machine before each round (default 15)")
    parser.add_argument("--only-single", action="store_true", help="only (a), (c) and (d): 1 worker")
    parser.add_argument("--only-throughput", action="store_true", help="only (b): 2 workers, concurrency 10")
    parser.add_argument("--only-fhir", action="store_true", help="only (e), the no-prefetch case")
    parser.add_argument("--sekmet-workers", type=int, default=2,
                        help="(e) is also run against sekmet-fhir under this many uvicorn worker processes"
                             " (default 2; 0 = only `sekmet serve`, which answers one request at a time)")
    parser.add_argument("--variant-env", action="append", default=[], metavar="KEY=VALUE",
                        help="A/B: also run a second service with this environment (repeatable, e.g."
                             " MBC_CDS_GC_GEN0_THRESHOLD=20000) in the same interleaved windows as (a) and (b)")
    parser.add_argument("--variant-venv", type=Path, metavar="DIR",
                        help="A/B: also run the service installed in this virtualenv (DIR/bin/mbc-cds), e.g. one"
                             " made with another Python build, in the same interleaved windows as (a) and (b)")
    parser.add_argument("--fhir-latency-ms", type=float, default=20.0,
                        help="(e) is also run with this much latency added to every FHIR response"
                             " (bench/latency_proxy.py; default 20; 0 = skip)")
    parser.add_argument("--query-reps", type=int, default=30, help="repetitions per FHIR query in (e)")
    args = parser.parse_args(argv)
    args.variant = dict(item.split("=", 1) for item in args.variant_env if "=" in item)
    if args.variant_venv is not None:
        args.variant_venv = args.variant_venv.resolve()
        if not (args.variant_venv / "bin" / "mbc-cds").exists():
            parser.error(f"--variant-venv: {args.variant_venv}/bin/mbc-cds not found (pip install the project there)")
    if len(args.variant) != len(args.variant_env):
        parser.error("--variant-env takes KEY=VALUE")
    if args.quick:
        args.seconds, args.rounds, args.warmup, args.max_wait, args.query_reps = 2.0, 2, 1.0, 3.0, 5

    check_cli_settings()
    RESULTS_DIR.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="mbc-cds-bench-"))
    loader = Loader(ensure_wrk(not args.no_install), tmp)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report: dict = {"started": started, "machine": machine(), "tool": loader.tool, "budgets": BUDGET,
                    "settings": {"seconds_per_window": args.seconds, "rounds": args.rounds,
                                 "warmup": args.warmup, "max_other_cpu": args.max_other_cpu,
                                 "max_wait": args.max_wait, "gunicorn": GUNICORN}}
    log(f"load tool: {loader.tool}; machine: {report['machine']['nproc']} x {report['machine']['cpu_model']}")

    bodies: dict[int, Path] = {}
    for n in SIZES:
        path = tmp / f"patient-view-{n}.json"
        path.write_bytes(patients.request_bytes(n))
        bodies[n] = path
    report["patients"] = {str(n): {"resources": n, "request_bytes": bodies[n].stat().st_size} for n in SIZES}

    def handle_signal(signum, _frame):
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, handle_signal)
    signal.signal(signal.SIGINT, handle_signal)
    try:
        run_all(args, loader, tmp, bodies, report)
    finally:
        stop_all()
    table = render(report)  # also adds the derived figures (scaling) to the report
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = RESULTS_DIR / f"bench-{stamp}.json"
    text = json.dumps(report, indent=2)
    out.write_text(text)
    (RESULTS_DIR / "latest.json").write_text(text)
    print(table)
    print(f"\nresults: {out.relative_to(REPO_DIR)}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def run_all(args, loader: Loader, tmp: Path, bodies: dict[int, Path], report: dict) -> None:
    if not args.only_fhir:
        run_http(args, loader, tmp, bodies, report)
    if args.skip_fhir or args.only_single or args.only_throughput:
        return
    run_fhir(args, loader, tmp, report)


def run_http(args, loader: Loader, tmp: Path, bodies: dict[int, Path], report: dict) -> None:
    if not args.only_throughput:
        run_single(args, loader, tmp, bodies, report)
    if args.only_single:
        return
    run_throughput(args, loader, tmp, bodies, report)


def variant_server(workers: int, tmp: Path, args) -> Server | None:
    """The A/B variant (--variant-env, --variant-venv), started, or None."""
    if not (args.variant or args.variant_venv):
        return None
    return service_server(workers, tmp, args.variant, name="variant", venv=args.variant_venv).start()


def variant_description(args) -> dict:
    out: dict = {"env": args.variant}
    if args.variant_venv:
        out["venv"] = str(args.variant_venv)
        out["python"] = interpreter(str(args.variant_venv / "bin" / "python"))
    return out


def run_single(args, loader: Loader, tmp: Path, bodies: dict[int, Path], report: dict) -> None:
    # (a), (c), (d): one worker each, concurrency 1, keep-alive.
    log("starting 1-worker service and floor")
    service = service_server(1, tmp).start()
    floor = floor_server(1, tmp).start()
    variant = variant_server(1, tmp, args)
    single: dict = {}
    try:
        for n in SIZES:
            body = bodies[n].read_bytes()
            check = check_response(service.port, SERVICE_PATH, body)
            check_response(floor.port, "/floor", body)
            log(f"(a/d) {n} resources, 1 worker, concurrency 1")
            targets = [("floor", floor, "/floor"), ("service", service, SERVICE_PATH)]
            if variant:
                answer = check_response(variant.port, SERVICE_PATH, body)
                if (answer["status"], answer["cards"]) != (check["status"], check["cards"]):
                    raise RuntimeError("the variant service answers differently from the service")
                targets.append(("variant", variant, SERVICE_PATH))
            if n == REALISTIC:
                targets.append(("floor-fixed", floor, "/fixed"))
            runs = measure(loader, targets, bodies[n], 1, args)
            runs["service"]["response"] = check
            runs["service"]["rss_after"] = service.rss_mb()
            single[str(n)] = runs
        report["single_worker_c1"] = single
        report["rss_1_worker"] = service.rss_mb()
        if variant:
            report["variant"] = {**variant_description(args), "rss_1_worker": variant.rss_mb()}
    finally:
        service.stop()
        floor.stop()
        if variant:
            variant.stop()



def run_throughput(args, loader: Loader, tmp: Path, bodies: dict[int, Path], report: dict) -> None:
    # (b), (c): two workers, concurrency 10 (2 wrk threads).
    log("starting 2-worker service and floor; (b) 300 resources, concurrency 10")
    service = service_server(2, tmp).start()
    floor = floor_server(2, tmp).start()
    variant = variant_server(2, tmp, args)
    try:
        targets = [("floor", floor, "/floor"), ("service", service, SERVICE_PATH)]
        if variant:
            targets.append(("variant", variant, SERVICE_PATH))
        runs = measure(loader, targets, bodies[REALISTIC], 10, args, threads=2)
        report["two_workers_c10"] = runs
        report["rss_2_workers"] = service.rss_mb()
        if variant:
            report.setdefault("variant", variant_description(args))["rss_2_workers"] = variant.rss_mb()
    finally:
        service.stop()
        floor.stop()
        if variant:
            variant.stop()



def run_fhir(args, loader: Loader, tmp: Path, report: dict) -> None:
    # (e): no prefetch, from a local sekmet-fhir: first as `sekmet serve` runs it
    # (one request at a time), then the same data under several worker processes,
    # then behind a latency proxy (a server at a network distance).
    log("(e) starting sekmet-fhir and loading the 300-resource patient")
    resources = patients.make_patient(REALISTIC)
    sekmet, base_url = start_sekmet(tmp)
    try:
        t0 = time.monotonic()
        put_patient(base_url, resources)
        load_s = time.monotonic() - t0
        serial = no_prefetch_run(args, loader, tmp, sekmet, base_url, resources, "sekmet serve (1 process)")
    finally:
        sekmet.stop()
    runs = [serial]
    workers_label = f"sekmet-fhir, {args.sekmet_workers} uvicorn workers" if args.sekmet_workers > 1 else "sekmet serve"
    if args.sekmet_workers > 1:
        sekmet, base_url = start_sekmet(tmp, args.sekmet_workers)
        try:
            runs.append(no_prefetch_run(args, loader, tmp, sekmet, base_url, resources, workers_label))
        finally:
            sekmet.stop()
    if args.fhir_latency_ms > 0:
        # The same server at a network distance: queries sent together wait out
        # their latency together, which is what "run concurrently" is for.
        proxy_port = free_port()
        sekmet, _ = start_sekmet(tmp, args.sekmet_workers if args.sekmet_workers > 1 else 0, public_port=proxy_port)
        proxy = None
        try:
            proxy = start_latency_proxy(proxy_port, sekmet.port, args.fhir_latency_ms, tmp)
            sekmet.companions = [proxy]
            base_url = f"http://{HOST}:{proxy_port}/fhir"
            runs.append(no_prefetch_run(args, loader, tmp, sekmet, base_url, resources,
                                        f"{workers_label} behind {args.fhir_latency_ms:g} ms of network latency"))
        finally:
            if proxy:
                proxy.stop()
            sekmet.stop()
    report["no_prefetch"] = {"load_seconds": round(load_s, 1), "servers": runs}


def no_prefetch_call(resources: list[dict], base_url: str) -> tuple[bytes, dict]:
    """A patient-view call without prefetch for the patient on `base_url`, and the
    environment a service needs to fetch from that plain-http local server."""
    body = json.dumps(patients.hook_request(resources, resources[0]["id"], prefetch=False,
                                            fhir_server=base_url)).encode()
    return body, {"MBC_CDS_ALLOW_HTTP_FHIR": "true", "MBC_CDS_FHIR_SERVERS": base_url}


def no_prefetch_run(args, loader: Loader, tmp: Path, sekmet: Server, base_url: str, resources: list[dict],
                    label: str) -> dict:
    pid = resources[0]["id"]
    body, env = no_prefetch_call(resources, base_url)
    body_file = tmp / f"patient-view-300-noprefetch-{sekmet.port}.json"
    body_file.write_bytes(body)
    wait_for_quiet(args.max_other_cpu, args.max_wait)
    queries = time_queries(base_url, pid, args.query_reps)
    together = time_queries_concurrently(base_url, pid, args.query_reps)
    service = service_server(1, tmp, env, name="service-fetch").start()
    service.companions = [sekmet]  # its CPU is part of the measurement, not "others"
    try:
        check = check_response(service.port, SERVICE_PATH, body)
        log(f"(e) 1 worker, concurrency 1, no prefetch, from {label}")
        run = measure(loader, [("service-fetch", service, SERVICE_PATH)], body_file, 1, args)["service-fetch"]
        run["response"] = check
    finally:
        service.stop()
    slowest_key = max(queries, key=lambda k: queries[k]["p50_ms"])
    return {
        "fhir_server": label, "queries": queries, "slowest_query": slowest_key,
        "slowest_query_p50_ms": queries[slowest_key]["p50_ms"],
        "sum_of_queries_p50_ms": round(sum(q["p50_ms"] for q in queries.values()), 2),
        "all_queries_concurrently": together,
        "over_concurrent_ms": round(run["p50_ms"] - together["p50_ms"], 2),
        "service": run,
        "over_slowest_ms": round(run["p50_ms"] - queries[slowest_key]["p50_ms"], 2),
    }


# -- the table ---------------------------------------------------------------------

def render_no_prefetch(nop: dict, load_seconds: float) -> list[str]:
    lines = [f"(e) no prefetch, 1 worker, concurrency 1, from {nop['fhir_server']} on 127.0.0.1"
             f" ({REALISTIC} resources, loaded in {load_seconds} s)"]
    lines.append(f"  {'query (alone, FHIRClient)':38} {'resources':>9} {'pages':>5} {'p50 ms':>8} {'p90 ms':>8}")
    for key, q in nop["queries"].items():
        lines.append(f"  {key:38} {q['resources']:9} {q['pages']:5g} {q['p50_ms']:8.2f} {q['p90_ms']:8.2f}")
    s = nop["service"]
    lines.append(f"  hook total: p50 {s['p50_ms']:.2f} ms, p90 {s['p90_ms']:.2f}, p99 {s['p99_ms']:.2f}"
                 f" (others {s['other_cpu_cores']:.2f} cores, quiet {s['windows_used']}/{s['windows_total']}"
                 f"{'' if s['machine_quiet'] else '!'}); slowest query ({nop['slowest_query']})"
                 f" p50 {nop['slowest_query_p50_ms']:.2f} ms; all queries one after another"
                 f" {nop['sum_of_queries_p50_ms']:.2f} ms")
    c = nop.get("all_queries_concurrently")
    if c:
        lines.append(f"  all {c['queries']} queries at once from {c['queries']} threads (no service): p50"
                     f" {c['p50_ms']:.2f} ms -> the server's own concurrency; the service adds"
                     f" {nop['over_concurrent_ms']:.2f} ms to that (parse, gather, mappings, cards)")
    limit = BUDGET["no_prefetch_over_slowest_ms"]
    lines.append(f"  budget: total <= slowest query (sent alone) + {limit:.0f} ms -> "
                 f"{verdict(nop['over_slowest_ms'] <= limit)} (total - slowest = {nop['over_slowest_ms']:.2f} ms)")
    if c:
        # Sent together, the slowest query finishes when the server has answered all
        # of them: on a server that cannot answer them in parallel that is later than
        # the same query sent alone, and no client can change it.
        lines.append(f"  same budget against the slowest query as a hook sends it (all {c['queries']} at once,"
                     f" last answer at p50 {c['p50_ms']:.2f} ms) -> {verdict(nop['over_concurrent_ms'] <= limit)}"
                     f" (total - that = {nop['over_concurrent_ms']:.2f} ms)")
    lines.append("")
    return lines


def growth_exponent(t_small: float, t_big: float, n_small: int, n_big: int) -> float:
    """k in time ~ n**k between two sizes: 1 = linear, < 1 = better, > 1 = worse."""
    import math

    if t_small <= 0 or t_big <= 0:
        return float("nan")
    return math.log(t_big / t_small) / math.log(n_big / n_small)


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"


def _row(label: str, r: dict, floor_p50: float) -> str:
    ratio = r["p50_ms"] / floor_p50 if floor_p50 else float("nan")
    quiet = f"{r['windows_used']}/{r['windows_total']}" + ("" if r["machine_quiet"] else "!")
    return (f"  {label:40} {r['p50_ms']:8.2f} {r['p90_ms']:8.2f} {r['p99_ms']:8.2f} {r['rps']:8.0f}"
            f" {ratio:8.2f} {r['other_cpu_cores']:7.2f} {quiet:>6}")


def render(report: dict) -> str:
    """The readable table; also stores the derived scaling figures in `report`."""
    m = report["machine"]
    lines = [
        f"mbc-cds benchmark  {report['started']}  commit {m['git_commit']}  tool {report['tool']}",
        f"machine: {m['nproc']} cores, {m['cpu_model']}, {m.get('interpreter', {}).get('description', 'Python ' + m['python'])},"
        f" gunicorn {m['gunicorn']}"
        f" (gthread, {GUNICORN['threads']} threads{', SO_REUSEPORT' if GUNICORN['reuse_port'] else ''})  loadavg at start {m['loadavg_at_start']}"
        f"  Python speed probe {m.get('python_probe_ms', '?')} ms (lower = faster host)",
        "request bodies (patient-view, full prefetch): " + ", ".join(
            f"{n} resources = {v['request_bytes'] / 1024:.0f} KiB" for n, v in report["patients"].items()),
        "",
    ]
    if report.get("variant"):
        v = report["variant"]
        what = [f"{k}={val}" for k, val in v["env"].items()]
        if v.get("venv"):
            what.append(f"from {v['venv']} ({v['python']['description']})")
        lines.insert(-1, "variant = the service " + " ".join(what))
    head = (f"  {'':40} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'req/s':>8} {'x floor':>8}"
            f" {'others':>7} {'quiet':>6}")
    single = report.get("single_worker_c1", {})
    if single:
        lines += ["(a, d) 1 worker, keep-alive, concurrency 1", head]
        for n, runs in single.items():
            fl = runs["floor"]["p50_ms"]
            lines.append(_row(f"{n:>5} res  floor (parse body, fixed JSON)", runs["floor"], fl))
            if "floor-fixed" in runs:
                lines.append(_row(f"{n:>5} res  floor (read body, no parse)", runs["floor-fixed"], fl))
            lines.append(_row(f"{n:>5} res  service", runs["service"], fl))
            if "variant" in runs:
                lines.append(_row(f"{n:>5} res  variant", runs["variant"], fl))
        s = single.get(str(REALISTIC), {}).get("service")
        if s:
            lines.append(f"  budget ({REALISTIC} resources): p50 <= {BUDGET['p50_ms']} ms -> "
                         f"{verdict(s['p50_ms'] <= BUDGET['p50_ms'])}; p99 <= {BUDGET['p99_ms']} ms -> "
                         f"{verdict(s['p99_ms'] <= BUDGET['p99_ms'])}")
        lines.append("")
        lines.append("(d) scaling: the service's own cost = service p50 - floor p50 (same body, same run)")
        report["scaling"] = {}
        for variant in ("service",):
            if not all(variant in runs for runs in single.values()):
                continue
            own = {int(n): runs[variant]["p50_ms"] - runs["floor"]["p50_ms"] for n, runs in single.items()}
            ns = sorted(own)
            slopes = [1000 * (own[b] - own[a]) / (b - a) for a, b in zip(ns, ns[1:])]
            growth = slopes[1] / slopes[0] if len(slopes) == 2 and slopes[0] > 0 else None
            lines.append(f"  {variant}: " + ", ".join(
                f"{n} res {own[n]:.2f} ms ({1000 * own[n] / n:.1f} us/res)" for n in ns))
            lines.append("    marginal " + ", ".join(
                f"{a}->{b} {slope:.1f} us/res" for (a, b), slope in zip(zip(ns, ns[1:]), slopes))
                + (f"; growth 300->3000 vs 30->300 = {growth:.2f} (1 = linear)" if growth else ""))
            total = {int(n): runs[variant]["p50_ms"] for n, runs in single.items()}
            exponents = {f"{a}->{b}": growth_exponent(total[a], total[b], a, b) for a, b in zip(ns, ns[1:])}
            own_exponents = {f"{a}->{b}": growth_exponent(own[a], own[b], a, b) for a, b in zip(ns, ns[1:])}
            lines.append("    growth exponent k = log(time ratio) / log(size ratio), 1 = linear: p50 "
                         + ", ".join(f"{span} {k:.2f}" for span, k in exponents.items())
                         + "; service minus floor " + ", ".join(f"{span} {k:.2f}" for span, k in own_exponents.items()))
            worst = max(exponents.values())
            lines.append(f"  budget: cost grows linearly, not worse (k <= 1 for the p50 at every step) -> "
                         f"{verdict(worst <= 1.0)}")
            report["scaling"][variant] = {
                "own_ms": {str(k): round(v, 3) for k, v in own.items()},
                "marginal_us_per_resource": [round(x, 2) for x in slopes],
                "growth_ratio": round(growth, 2) if growth else None,
                "growth_exponent_p50": {k: round(v, 3) for k, v in exponents.items()},
                "growth_exponent_own": {k: round(v, 3) for k, v in own_exponents.items()}}
        lines.append("")
    two = report.get("two_workers_c10")
    if two:
        lines += [f"(b) 2 workers, concurrency 10, {REALISTIC} resources", head]
        fl = two["floor"]["p50_ms"]
        lines.append(_row("floor (parse body, fixed JSON)", two["floor"], fl))
        lines.append(_row("service", two["service"], fl))
        if "variant" in two:
            lines.append(_row("variant", two["variant"], fl))
        rps = two["service"]["rps"]
        lines.append(f"  budget: >= {BUDGET['rps_2_workers_c10']:.0f} req/s -> "
                     f"{verdict(rps >= BUDGET['rps_2_workers_c10'])}; service/floor throughput ="
                     f" {rps / two['floor']['rps']:.2f}")
        lines.append("")
    rss = (report.get("rss_1_worker") or []) + (report.get("rss_2_workers") or [])
    if rss:
        worst = max(max(r["rss_mb"], r["peak_rss_mb"]) for r in rss)
        parts = []
        if report.get("rss_1_worker"):
            parts.append("1 worker after the 30/300/3000 runs: " + ", ".join(
                f"{r['rss_mb']} MB (peak {r['peak_rss_mb']})" for r in report["rss_1_worker"]))
        if report.get("rss_2_workers"):
            parts.append("2 workers after (b): " + ", ".join(
                f"{r['rss_mb']} MB (peak {r['peak_rss_mb']})" for r in report["rss_2_workers"]))
        lines.append("(c) RSS per worker: " + "; ".join(parts))
        lines.append(f"  budget: <= {BUDGET['rss_mb']:.0f} MB -> {verdict(worst <= BUDGET['rss_mb'])}")
        lines.append("")
    nop = report.get("no_prefetch")
    if nop:
        for server in nop.get("servers") or [nop]:  # reports before 2026-11-21 held one server
            lines += render_no_prefetch(server, nop["load_seconds"])
    lines.append("x floor = p50 / the floor's p50 in the same run. others = CPU cores other processes used during"
                 " the windows kept; quiet = windows kept / windows run ('!' = none was quiet: the least"
                 " disturbed is shown).")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
