"""A misbehaving FHIR server (a real one, on 127.0.0.1, started by the test):
slow, dripping, 500, HTML, truncated or malformed JSON, endless or looping next
links, oversized or over-deep answers -> a 412 with a reason, quickly; never a
500, never a hung worker, and the service keeps serving."""

from __future__ import annotations

import json
import time

import pytest

from service.app import create_app

from .conftest import SERVICE_PATH, fetch_one_key_body, open_config

FAST = 4.0  # seconds: every fault must be answered well within this


@pytest.fixture
def app(tmp_path):
    return create_app(open_config(
        tmp_path, allow_http_fhir=True,
        # 0.8 s: short enough that hangs and drips are cut well inside FAST, long
        # enough that a loaded CI machine still lets the local fault server answer.
        fhir_connect_timeout=0.8, fhir_read_timeout=0.8,
        fhir_max_pages=5, fhir_max_response_bytes=64 * 1024,
        hook_time_budget_seconds=3.0,
    ))


def call(app, base: str):
    started = time.monotonic()
    response = app.test_client().post(SERVICE_PATH, json=fetch_one_key_body(base))
    return response, time.monotonic() - started


def assert_412_quickly(response, elapsed, words: str | None = None):
    assert response.status_code == 412, response.get_data(as_text=True)
    assert elapsed < FAST
    body = response.get_json()
    assert body["error"] == "precondition-failed"
    assert "Traceback" not in body["message"]
    if words:
        assert words in body["message"]


def bundle(entries=(), next_url=None):
    data = {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in entries]}
    if next_url:
        data["link"] = [{"relation": "next", "url": next_url}]
    return data


def test_a_server_that_hangs_past_the_read_timeout_gives_a_412(app, fhir_test_server):
    def hang(handler):
        fhir_test_server.release.wait(10)  # until the test stops the server

    fhir_test_server.handlers["slow"] = hang
    assert_412_quickly(*call(app, fhir_test_server.base("slow")), "in time")


def test_a_server_that_drips_its_answer_byte_by_byte_gives_a_412(app, fhir_test_server):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(200):
            if fhir_test_server.release.is_set():
                return
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.1)  # always under the read timeout: only a total bound stops it

    fhir_test_server.handlers["drip"] = drip
    assert_412_quickly(*call(app, fhir_test_server.base("drip")))


def test_a_server_answering_500_gives_a_412(app, fhir_test_server):
    fhir_test_server.handlers["error"] = lambda h: h.send_json(500, {"resourceType": "OperationOutcome"})
    assert_412_quickly(*call(app, fhir_test_server.base("error")), "HTTP 500")


def test_a_server_answering_html_gives_a_412(app, fhir_test_server):
    def html(handler):
        body = b"<html><body>Login required</body></html>"
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    fhir_test_server.handlers["html"] = html
    assert_412_quickly(*call(app, fhir_test_server.base("html")), "HTML")


def test_html_labelled_as_json_gives_a_412(app, fhir_test_server):
    def html(handler):
        body = b"<!DOCTYPE html><html>proxy error</html>"
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    fhir_test_server.handlers["html2"] = html
    assert_412_quickly(*call(app, fhir_test_server.base("html2")), "HTML")


def test_truncated_json_gives_a_412(app, fhir_test_server):
    def truncated(handler):
        body = json.dumps(bundle([{"resourceType": "Condition", "id": "c1"}])).encode()[:25]
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    fhir_test_server.handlers["truncated"] = truncated
    assert_412_quickly(*call(app, fhir_test_server.base("truncated")), "malformed JSON")


def test_a_connection_closed_before_the_promised_length_gives_a_412(app, fhir_test_server):
    def cut(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Content-Length", "5000")
        handler.end_headers()
        handler.wfile.write(b'{"resourceType": "Bundle", "entry": [')
        handler.wfile.flush()
        handler.close_connection = True

    fhir_test_server.handlers["cut"] = cut
    assert_412_quickly(*call(app, fhir_test_server.base("cut")))


def test_endless_next_links_give_a_412(app, fhir_test_server):
    def endless(handler):
        page = int(handler.path.rsplit("page=", 1)[1]) if "page=" in handler.path else 0
        handler.send_json(200, bundle(next_url=fhir_test_server.base("endless") + f"/Condition?patient=p1&page={page + 1}"))

    fhir_test_server.handlers["endless"] = endless
    response, elapsed = call(app, fhir_test_server.base("endless"))
    assert_412_quickly(response, elapsed, "paging")
    assert len(fhir_test_server.requests) == 5  # fhir_max_pages


def test_next_links_that_loop_give_a_412(app, fhir_test_server):
    loop_url = fhir_test_server.base("loop") + "/Condition?patient=p1&page=1"
    fhir_test_server.handlers["loop"] = lambda h: h.send_json(200, bundle(next_url=loop_url))
    response, elapsed = call(app, fhir_test_server.base("loop"))
    assert_412_quickly(response, elapsed, "loop")
    assert len(fhir_test_server.requests) == 2


def test_an_answer_larger_than_allowed_gives_a_412(app, fhir_test_server):
    big = bundle([{"resourceType": "Condition", "id": f"c{i}", "note": [{"text": "x" * 1000}]} for i in range(100)])
    fhir_test_server.handlers["big"] = lambda h: h.send_json(200, big)
    assert_412_quickly(*call(app, fhir_test_server.base("big")), "larger than allowed")


def test_an_oversized_answer_without_content_length_gives_a_412(app, fhir_test_server):
    def chunked(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"[" * 8192
        for _ in range(64):
            if fhir_test_server.release.is_set():
                return
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")

    fhir_test_server.handlers["chunked"] = chunked
    assert_412_quickly(*call(app, fhir_test_server.base("chunked")), "larger than allowed")


def test_json_nested_too_deeply_gives_a_412(app, fhir_test_server):
    def deep(handler):
        body = b'{"resourceType": "Bundle", "entry": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    fhir_test_server.handlers["deep"] = deep
    assert_412_quickly(*call(app, fhir_test_server.base("deep")), "nested too deeply")


@pytest.mark.parametrize("payload", [[1, 2], "text", 42, None, {"resourceType": "Patient", "id": "p1"}])
def test_json_that_is_not_a_bundle_gives_a_412(app, fhir_test_server, payload):
    fhir_test_server.handlers["odd"] = lambda h: h.send_json(200, payload)
    assert_412_quickly(*call(app, fhir_test_server.base("odd")))


def test_a_server_that_refuses_connections_gives_a_412(app):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    assert_412_quickly(*call(app, f"http://127.0.0.1:{port}/fhir"), "could not be reached")


def test_the_service_keeps_serving_after_every_fault(app, fhir_test_server):
    fhir_test_server.handlers["slow"] = lambda h: fhir_test_server.release.wait(10)
    fhir_test_server.handlers["error"] = lambda h: h.send_json(500, {})
    fhir_test_server.handlers["ok"] = lambda h: h.send_json(200, bundle([
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}]))
    for behaviour in ["slow", "error", "slow", "error"]:
        assert call(app, fhir_test_server.base(behaviour))[0].status_code == 412
    response, elapsed = call(app, fhir_test_server.base("ok"))
    assert response.status_code == 200 and elapsed < FAST
    assert app.test_client().get("/healthz").status_code == 200


def test_the_hook_time_budget_bounds_a_call_without_prefetch(tmp_path, fhir_test_server):
    """Nine queries against a server that answers each one just under the read
    timeout, page after page: the hook budget ends it."""
    app = create_app(open_config(tmp_path, allow_http_fhir=True, fhir_connect_timeout=0.5,
                                 fhir_read_timeout=0.5, hook_time_budget_seconds=1.0, fhir_max_pages=50))

    def sluggish(handler):
        time.sleep(0.3)
        handler.send_json(200, bundle(next_url=fhir_test_server.base("sluggish") + f"/Condition?p={time.monotonic()}"))

    fhir_test_server.handlers["sluggish"] = sluggish
    started = time.monotonic()
    body = fetch_one_key_body(fhir_test_server.base("sluggish"))
    del body["prefetch"]
    response = app.test_client().post(SERVICE_PATH, json=body)
    assert response.status_code == 412
    assert time.monotonic() - started < 2.5
