"""Fixtures for the deployment kit: a real FHIR server (sekmet-fhir on
127.0.0.1, started once per session, stopped at its end) loaded with the demo
patients by `mbc-cds load-demo`'s code, and a service app in test mode."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from service.app import create_app

REPO_DIR = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_DIR / "docker"


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


@pytest.fixture(scope="session")
def demo_fhir_server(tmp_path_factory):
    """Base URL of an empty sekmet-fhir server on 127.0.0.1 (stopped at session end)."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("sekmet-deploy")
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


@pytest.fixture(scope="session")
def loaded_demo(demo_fhir_server):
    """The demo patients loaded into the FHIR server with the loader's code:
    (base_url, LoadResult, what it printed)."""
    from service.loader import load_demo

    out = io.StringIO()
    result = load_demo(demo_fhir_server, out=out)
    return demo_fhir_server, result, out.getvalue()


@pytest.fixture
def app(tmp_path):
    return create_app({
        "auth": "off",
        "allow_http_fhir": True,
        "database_url": f"sqlite:///{tmp_path}/feedback.sqlite",
    })


@pytest.fixture
def client(app):
    return app.test_client()
