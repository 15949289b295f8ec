"""Hook calls of one worker compute one at a time (MBC_CDS_HOOK_COMPUTE_SLOTS),
while a call that waits on a FHIR server holds up no one.

HTTP is mocked at the FHIR boundary with `responses`.
"""

import re
import threading
import time

import responses

from service import routes
from service.app import create_app

from .conftest import FHIR_BASE, empty_prefetch, patient_view_request, searchset

SERVICE = "/cds-services/mbc-treatment-options"


def post_in_thread(app, body, results, name):
    def call():
        results[name] = app.test_client().post(SERVICE, json=body)

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def count_concurrent_hook_runs(monkeypatch, hold_seconds: float) -> dict:
    seen = {"now": 0, "most": 0}
    lock = threading.Lock()
    real_run_hook = routes.run_hook

    def slow_run_hook(*args, **kwargs):
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            time.sleep(hold_seconds)  # long enough for the other calls to arrive
            return real_run_hook(*args, **kwargs)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(routes, "run_hook", slow_run_hook)
    return seen


def test_hook_calls_in_one_worker_compute_one_at_a_time_by_default(app_config, monkeypatch):
    app = create_app(app_config)
    seen = count_concurrent_hook_runs(monkeypatch, hold_seconds=0.1)
    results = {}
    threads = [post_in_thread(app, patient_view_request(prefetch=empty_prefetch()), results, i) for i in range(4)]
    for thread in threads:
        thread.join(timeout=30)
    assert [results[i].status_code for i in range(4)] == [200] * 4
    assert seen["most"] == 1


def test_with_no_compute_limit_hook_calls_compute_together(app_config, monkeypatch):
    app = create_app({**app_config, "hook_compute_slots": 0})
    seen = count_concurrent_hook_runs(monkeypatch, hold_seconds=0.3)
    results = {}
    threads = [post_in_thread(app, patient_view_request(prefetch=empty_prefetch()), results, i) for i in range(4)]
    for thread in threads:
        thread.join(timeout=30)
    assert [results[i].status_code for i in range(4)] == [200] * 4
    assert seen["most"] > 1


def test_a_call_waiting_on_a_slow_fhir_server_does_not_hold_up_a_call_with_prefetch(app_config):
    app = create_app(app_config)
    fetch_started, release_fetch = threading.Event(), threading.Event()

    def slow_patient_read(_request):
        fetch_started.set()
        release_fetch.wait(timeout=10)
        return 200, {}, '{"resourceType": "Patient", "id": "p1", "gender": "female"}'

    results = {}
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, f"{FHIR_BASE}/Patient/p1", callback=slow_patient_read)
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?patient=p1.*"), json=searchset([]))
        waiting = post_in_thread(app, patient_view_request(fhirServer=FHIR_BASE), results, "fetching")
        assert fetch_started.wait(timeout=10)
        other = post_in_thread(app, patient_view_request(prefetch=empty_prefetch()), results, "prefetched")
        other.join(timeout=10)
        answered_while_the_other_waited = not other.is_alive() and not release_fetch.is_set()
        release_fetch.set()
        waiting.join(timeout=10)
    assert answered_while_the_other_waited
    assert results["prefetched"].status_code == 200
    assert results["fetching"].status_code == 200
