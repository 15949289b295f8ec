"""The `mbc-cds` command line: cards offline, serve under gunicorn."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from service.cli import main as cli_main
from tests.conftest import REAL_PATIENT_FILE, REAL_PATIENT_ID
from tests.servers import free_port


def test_cards_command_prints_the_summary_card_for_a_patient_bundle(capsys):
    assert cli_main(["cards", str(REAL_PATIENT_FILE)]) == 0
    out = capsys.readouterr().out
    assert "patient-summary" in out
    assert "INFO" in out


def test_cards_command_json_output_is_a_cds_hooks_response(capsys):
    assert cli_main(["cards", str(REAL_PATIENT_FILE), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["cards"][0]["source"]["topic"]["code"] == "patient-summary"


def test_cards_command_explains_an_unreadable_file(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert cli_main(["cards", str(missing)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_serve_starts_gunicorn_on_loopback_and_answers_discovery_and_a_hook(tmp_path):
    port = free_port()
    exe = Path(sys.executable).with_name("mbc-cds")
    env = {**os.environ, "MBC_CDS_AUTH": "off", "MBC_CDS_WORKERS": "1",
           "MBC_CDS_DATABASE_URL": f"sqlite:///{tmp_path}/fb.sqlite"}
    process = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                discovery = requests.get(f"{base}/cds-services", timeout=1)
                break
            except requests.RequestException:
                assert process.poll() is None, process.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert discovery.status_code == 200
        assert len(discovery.json()["services"]) == 3
        prefetch = {k: None for k in discovery.json()["services"][0]["prefetch"]}
        hook = requests.post(f"{base}/cds-services/mbc-treatment-options", timeout=5, json={
            "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": REAL_PATIENT_ID},
            "prefetch": prefetch,
        })
        assert hook.status_code == 200
        assert hook.json()["cards"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_runs_gunicorn_with_the_configured_workers_and_threads(monkeypatch):
    from gunicorn.app.base import BaseApplication

    seen = {}

    def record_instead_of_running(self):
        seen.update(bind=self.cfg.bind, workers=self.cfg.workers, threads=self.cfg.threads,
                    worker_class=self.cfg.worker_class_str)

    monkeypatch.setattr(BaseApplication, "run", record_instead_of_running)
    monkeypatch.setenv("MBC_CDS_WORKERS", "3")
    monkeypatch.setenv("MBC_CDS_THREADS", "2")
    assert cli_main(["serve", "--host", "127.0.0.1", "--port", "18080"]) == 0
    assert seen == {"bind": ["127.0.0.1:18080"], "workers": 3, "threads": 2, "worker_class": "gthread"}
