"""A real FHIR server for integration tests: sekmet-fhir on 127.0.0.1.

Started once per test session on a free port, stopped when the session ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sekmet_executable() -> str:
    candidate = Path(sys.executable).with_name("sekmet")
    return str(candidate) if candidate.exists() else (shutil.which("sekmet") or "sekmet")


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory):
    """Base URL of a running sekmet-fhir server (empty at start)."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("sekmet")
    base_url = f"http://127.0.0.1:{port}/fhir"
    settings = workdir / "settings.yaml"
    settings.write_text(
        f"base_url: {base_url}\nhost: 127.0.0.1\nport: {port}\n"
        f"data_dir: {workdir / 'data'}\nlog_inbound: false\nsimulator:\n  enabled: false\n"
    )
    log = open(workdir / "sekmet.log", "w")
    process = subprocess.Popen(
        [sekmet_executable(), "serve", "-c", str(settings)],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base_url}/metadata", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    "sekmet-fhir did not start: " + (workdir / "sekmet.log").read_text()[-2000:]
                )
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def put_resources(base_url: str, resources: list[dict]) -> None:
    """PUT each resource at Type/id so literal references keep resolving."""
    order = {"Patient": 0}
    for resource in sorted(resources, key=lambda r: order.get(r["resourceType"], 1)):
        url = f"{base_url}/{resource['resourceType']}/{resource['id']}"
        response = requests.put(
            url, json=resource, headers={"Content-Type": "application/fhir+json"}, timeout=10
        )
        assert response.status_code in (200, 201), (url, response.status_code, response.text[:300])
