"""`mbc-cds serve` with two workers spreads connections over both (MBC_CDS_REUSE_PORT,
service/config.py): each worker listens on its own SO_REUSEPORT socket, so a burst of
keep-alive connections does not all go to the worker that happened to wake first."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import time

import pytest

from bench.run import child_pids
from tests.servers import free_port, stop, venv_executable, wait_for

WORKERS = 2
CONNECTIONS = 20


@contextlib.contextmanager
def served(tmp_path, reuse_port: bool):
    """`mbc-cds serve --workers 2` on 127.0.0.1; yields (port, master pid); stopped after."""
    port = free_port()
    env = {**os.environ, "MBC_CDS_AUTH": "off", "MBC_CDS_DEMO": "false",
           "MBC_CDS_DATABASE_URL": f"sqlite:///{tmp_path}/feedback.sqlite",
           "MBC_CDS_REUSE_PORT": "true" if reuse_port else "false"}
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [venv_executable("mbc-cds"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(WORKERS)],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env, start_new_session=True,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz", process, log_path)
            deadline = time.monotonic() + 60
            while log_path.read_text().count("Booting worker") < WORKERS or len(child_pids(process.pid)) < WORKERS:
                assert time.monotonic() < deadline, log_path.read_text()[-2000:]
                time.sleep(0.2)
            time.sleep(1.0)  # the last worker loads the app after it has booted
            yield port, process.pid
        finally:
            stop(process)


def sockets_on_port(port: int) -> dict[str, str]:
    """inode -> TCP state ('0A' listening, '01' established) of the sockets whose
    local port is `port` (/proc/net/tcp and tcp6)."""
    states = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    states[fields[9]] = fields[3]
    return states


def held_by(pid: int, port: int, state: str) -> set[str]:
    """Inodes of the sockets in `state` on local `port` that process `pid` holds."""
    states = sockets_on_port(port)
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:[") and states.get(target[8:-1]) == state:
                held.add(target[8:-1])
    return held


def open_keep_alive_connections(port: int, n: int) -> list[http.client.HTTPConnection]:
    """n connections opened together, each answering one request and kept open."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(n)]
    for conn in conns:
        conn.connect()
    for conn in conns:
        conn.request("GET", "/healthz")
    for conn in conns:
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    return conns


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc")
def test_each_worker_listens_on_its_own_socket_and_a_burst_of_connections_reaches_both(tmp_path):
    with served(tmp_path, reuse_port=True) as (port, master):
        workers = child_pids(master)
        listening = {pid: held_by(pid, port, "0A") for pid in workers}
        assert all(len(inodes) == 1 for inodes in listening.values()), listening
        assert len(set().union(*listening.values())) == WORKERS  # not one shared socket
        for _attempt in range(3):
            conns = open_keep_alive_connections(port, CONNECTIONS)
            try:
                per_worker = {pid: len(held_by(pid, port, "01")) for pid in workers}
            finally:
                for conn in conns:
                    conn.close()
            # On a busy machine the burst can outlast gunicorn's 2 s keep-alive, and a
            # worker closes its first connections before they are counted: that count
            # says nothing about the spread, so the burst is tried again.
            if sum(per_worker.values()) == CONNECTIONS:
                break
            time.sleep(0.5)
        assert sum(per_worker.values()) == CONNECTIONS, per_worker
        assert all(n > 0 for n in per_worker.values()), per_worker


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc")
def test_with_reuse_port_off_the_workers_share_one_listening_socket(tmp_path):
    with served(tmp_path, reuse_port=False) as (port, master):
        listening = {pid: held_by(pid, port, "0A") for pid in [master, *child_pids(master)]}
        assert len(set().union(*listening.values())) == 1, listening
