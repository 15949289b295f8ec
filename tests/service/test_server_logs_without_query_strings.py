"""The servers in front of the app (gunicorn for `mbc-cds serve` / `make run` / the
Docker image, Flask's development server for `mbc-cds serve --dev`) never log a
request's query string, nor the text of a request line they cannot parse: a
caller may put a patient's name there (`?patient=Jane Doe`)."""

import logging
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from flask import Flask
from werkzeug.serving import make_server

from service.app import create_app
from service.cli import main as cli_main
from tests.servers import free_port

DOCKER_GUNICORN_CONF = Path(__file__).resolve().parents[2] / "docker" / "gunicorn.conf.py"
REQUEST_LINES = [
    b"GET /cds-services?patient=JaneDoe HTTP/1.1",  # parsed: answered 200
    b"GET /cds-services?patient=Jane Doe HTTP/1.1",  # a space in the query: unparsable
    b"GET /cds-services?patient=JaneDoe\x01 HTTP/1.1",  # a control character: unparsable
]


def send_raw(port: int, request_line: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request_line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        return sock.recv(100)


def test_mbc_cds_serve_logs_no_query_string_not_even_of_a_request_line_gunicorn_cannot_parse(tmp_path):
    port = free_port()
    exe = Path(sys.executable).with_name("mbc-cds")
    env = {**os.environ, "MBC_CDS_AUTH": "off", "MBC_CDS_WORKERS": "1", "MBC_CDS_REUSE_PORT": "false",
           "MBC_CDS_DATABASE_URL": f"sqlite:///{tmp_path}/fb.sqlite"}
    process = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.RequestException:
                assert process.poll() is None
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        answers = [send_raw(port, line).split(b"\r\n")[0] for line in REQUEST_LINES]
    finally:
        process.terminate()
        stderr = process.communicate(timeout=15)[1].decode("utf-8", "replace")
    assert answers == [b"HTTP/1.1 200 OK", b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 400 Bad Request"]
    assert "Jane" not in stderr and "patient=" not in stderr
    assert "Invalid HTTP request line [request text not logged]" in stderr  # the refusal is still logged


def test_the_docker_images_gunicorn_uses_the_same_error_log_filter():
    settings = runpy.run_path(str(DOCKER_GUNICORN_CONF))
    assert settings["logger_class"] == "service.serve_logging.QuerylessGunicornLogger"
    assert settings["accesslog"] is None


def test_the_development_server_logs_request_paths_without_their_query_string(monkeypatch, tmp_path, caplog):
    chosen = {}
    monkeypatch.setattr(Flask, "run", lambda self, **options: chosen.update(options))
    monkeypatch.setenv("MBC_CDS_AUTH", "off")
    monkeypatch.setenv("MBC_CDS_DATABASE_URL", f"sqlite:///{tmp_path}/fb.sqlite")
    assert cli_main(["serve", "--dev", "--port", "18081"]) == 0
    app = create_app({"auth": "off", "database_url": f"sqlite:///{tmp_path}/fb.sqlite"})
    server = make_server("127.0.0.1", 0, app, request_handler=chosen["request_handler"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            answers = [send_raw(server.server_port, line).split(b"\r\n")[0] for line in REQUEST_LINES]
    finally:
        server.shutdown()
        thread.join(timeout=5)
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name == "werkzeug")
    assert answers[0].endswith(b" 200 OK") and b" 400 " in answers[1]
    assert "Jane" not in logged and "patient=" not in logged
    assert '"GET /cds-services?[query not logged] HTTP/1.1" 200' in logged


def test_gunicorn_with_a_statsd_host_still_sends_its_metrics_and_filters_its_error_log(capsys):
    # gunicorn switches to its statsd logger only when logger_class is its default one
    # (gunicorn/config.py, Config.logger_class): ours must not silence --statsd-host
    from gunicorn.config import Config

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    try:
        cfg = Config()
        cfg.set("logger_class", "service.serve_logging.QuerylessGunicornLogger")
        cfg.set("statsd_host", f"127.0.0.1:{receiver.getsockname()[1]}")
        logger = cfg.logger_class(cfg)
        logger.warning("Invalid request from ip=127.0.0.1: Invalid HTTP request line: 'GET /x?patient=Jane'")
        metric = receiver.recv(200)
    finally:
        receiver.close()
    assert metric.startswith(b"gunicorn.log.warning:1|c")
    logged = capsys.readouterr().err
    assert "Invalid HTTP request line [request text not logged]" in logged and "Jane" not in logged


def test_gunicorn_with_an_access_log_turned_on_logs_method_path_and_status_without_the_query(capsys):
    # an operator may turn it on (--access-logfile - in GUNICORN_CMD_ARGS, docker/gunicorn.conf.py)
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    cfg = Config()
    cfg.set("logger_class", "service.serve_logging.QuerylessGunicornLogger")
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s %(q)s "%(f)s" %({referer}i)s %({raw_uri}e)s')
    logger = cfg.logger_class(cfg)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/cds-services?patient=Jane", "PATH_INFO": "/cds-services",
               "QUERY_STRING": "patient=Jane", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": "https://ehr.example.org/chart?patient=Jane"}
    request = SimpleNamespace(headers=[("REFERER", "https://ehr.example.org/chart?patient=Jane")])
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    logger.access(response, request, environ, dt.timedelta(milliseconds=3))
    logged = capsys.readouterr()
    line = logged.out + logged.err
    assert "Jane" not in line and "patient=" not in line
    assert '"GET /cds-services?[query not logged] HTTP/1.1" 200 /cds-services' in line
