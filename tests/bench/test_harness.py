"""The benchmark's own machinery (bench/run.py, bench/latency_proxy.py): the
latency proxy, the growth exponent and the window order. Fast; the proxy and
its upstream bind 127.0.0.1 and are stopped by the test that started them."""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from bench import run
from tests.servers import free_port, stop

BENCH_DIR = Path(run.__file__).resolve().parent
DELAY_S = 0.2


@pytest.fixture
def upstream():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body = (self.path * 2000).encode()  # bigger than one read of the proxy
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    port = free_port()
    process = subprocess.Popen([sys.executable, str(BENCH_DIR / "latency_proxy.py"), "--listen", str(port),
                                "--upstream", str(upstream), "--delay-ms", str(DELAY_S * 1000)])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/up", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "latency proxy did not start"
                time.sleep(0.1)
        yield port
    finally:
        stop(process)


def test_the_latency_proxy_passes_responses_through_whole_and_late(proxy):
    started = time.monotonic()
    response = requests.get(f"http://127.0.0.1:{proxy}/fhir/Patient/p1", timeout=5)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.text == "/fhir/Patient/p1" * 2000
    assert elapsed >= DELAY_S


def test_requests_sent_together_through_the_proxy_wait_out_their_delays_together(proxy):
    paths = [f"/fhir/Observation?n={i}" for i in range(6)]

    def get(path):
        with requests.Session() as session:  # a connection each, as the service's pool has
            return session.get(f"http://127.0.0.1:{proxy}{path}", timeout=5).text

    started = time.monotonic()
    with cf.ThreadPoolExecutor(len(paths)) as pool:
        bodies = list(pool.map(get, paths))
    elapsed = time.monotonic() - started
    assert bodies == [path * 2000 for path in paths]
    assert DELAY_S <= elapsed < 3 * DELAY_S  # one after another would take 6 delays


@pytest.mark.parametrize("t_small, t_big, expected", [(1.0, 10.0, 1.0), (2.0, 4.0, 0.30), (1.0, 100.0, 2.0)])
def test_the_growth_exponent_is_1_for_linear_cost(t_small, t_big, expected):
    assert run.growth_exponent(t_small, t_big, 300, 3000) == pytest.approx(expected, abs=0.01)


def test_each_measurement_round_starts_with_the_next_server(monkeypatch):
    order = []

    class RecordingLoader:
        def run(self, port, path, body_file, connections, seconds, threads):
            order.append(port)
            return {"errors": 0, "rps": 1.0, "p50_ms": 1.0, "p90_ms": 1.0, "p99_ms": 1.0}

    monkeypatch.setattr(run, "wait_for_quiet", lambda max_other, limit_s: 0.0)
    monkeypatch.setattr(run, "summarize_windows", lambda windows, max_other: len(windows))
    servers = [SimpleNamespace(port=port, pids=lambda: []) for port in (1, 2, 3)]
    targets = [(f"server {s.port}", s, "/") for s in servers]
    opts = SimpleNamespace(warmup=0, rounds=3, seconds=0.01, max_other_cpu=0.3, max_wait=0)
    summary = run.measure(RecordingLoader(), targets, Path("body.json"), 1, opts)
    assert order == [1, 2, 3, 2, 3, 1, 3, 1, 2]
    assert summary == {"server 1": 3, "server 2": 3, "server 3": 3}
