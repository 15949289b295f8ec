"""Local servers for tests: free ports, console scripts of this venv, start/wait/stop,
and sekmet-fhir (a real FHIR R4 server) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def venv_executable(name: str) -> str:
    """A console script of the running interpreter's environment (.venv/bin/NAME)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def wait_for(url: str, process: subprocess.Popen, log_path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up: " + log_path.read_text(errors="replace")[-2000:])
        time.sleep(0.25)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def sekmet_fhir(workdir: Path):
    """An empty sekmet-fhir server on 127.0.0.1; yields its FHIR base URL, stops it after."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/fhir"
    settings = workdir / "settings.yaml"
    settings.write_text(
        f"base_url: {base_url}\nhost: 127.0.0.1\nport: {port}\n"
        f"data_dir: {workdir / 'data'}\nlog_inbound: false\nsimulator:\n  enabled: false\n"
    )
    log_path = workdir / "sekmet.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [venv_executable("sekmet"), "serve", "-c", str(settings)],
            stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env={**os.environ, "NO_COLOR": "1"},
        )
        try:
            wait_for(f"{base_url}/metadata", process, log_path)
            yield base_url
        finally:
            stop(process)
