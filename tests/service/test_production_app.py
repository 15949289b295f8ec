"""production_app(): the app as gunicorn serves it, garbage collector tuned."""

import gc

import pytest

from service.app import production_app


@pytest.fixture
def restore_gc():
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@pytest.fixture
def served_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MBC_CDS_AUTH", "off")
    monkeypatch.setenv("MBC_CDS_DATABASE_URL", f"sqlite:///{tmp_path}/fb.sqlite")


def test_production_app_moves_start_up_objects_out_of_the_collectors_scans(served_env, restore_gc):
    production_app()
    assert gc.get_freeze_count() > 10_000


def test_production_app_keeps_pythons_young_generation_threshold_by_default(served_env, restore_gc):
    gc.set_threshold(700, 10, 10)
    production_app()
    assert gc.get_threshold() == (700, 10, 10)


def test_production_app_sets_the_configured_young_generation_threshold(served_env, restore_gc, monkeypatch):
    monkeypatch.setenv("MBC_CDS_GC_GEN0_THRESHOLD", "12345")
    gc.set_threshold(700, 10, 10)
    production_app()
    assert gc.get_threshold() == (12345, 10, 10)


@pytest.fixture
def restore_collector():
    was_enabled = gc.isenabled()
    yield
    (gc.enable if was_enabled else gc.disable)()


def _collector_state_during_requests(app, *bodies: bytes | None) -> list[bool]:
    """gc.isenabled() inside each request (a GET without body, or a hook call with it)."""
    seen = []
    app.before_request(lambda: seen.append(gc.isenabled()))  # runs after the pause's own hook
    client = app.test_client()
    for body in bodies:
        if body is None:
            client.get("/healthz")
        else:
            client.post("/cds-services/mbc-treatment-options", data=body, content_type="application/json")
    return seen


def test_the_collector_is_paused_while_a_request_is_handled_and_runs_again_after_it(
        served_env, restore_gc, restore_collector):
    gc.enable()
    app = production_app()
    assert _collector_state_during_requests(app, None) == [False]
    assert gc.isenabled()


def test_the_collector_is_not_paused_for_a_request_body_of_a_mebibyte_or_more(
        served_env, restore_gc, restore_collector):
    from service.app import CollectorPause

    gc.enable()
    app = production_app()
    large = b" " * CollectorPause.MAX_BODY_BYTES + b"{}"
    assert _collector_state_during_requests(app, large, b"{}") == [True, False]
    assert gc.isenabled()


def test_the_collector_runs_again_after_a_request_that_failed(served_env, restore_gc, restore_collector):
    gc.enable()
    app = production_app()
    response = app.test_client().post("/cds-services/mbc-treatment-options", data=b"{not json",
                                      content_type="application/json")
    assert response.status_code == 400
    assert gc.isenabled()


def test_the_collector_pause_can_be_turned_off(served_env, restore_gc, restore_collector, monkeypatch):
    monkeypatch.setenv("MBC_CDS_GC_PAUSE_DURING_REQUESTS", "false")
    gc.enable()
    app = production_app()
    assert _collector_state_during_requests(app, None) == [True]


def test_a_collector_disabled_before_start_up_stays_disabled(served_env, restore_gc, restore_collector):
    gc.disable()
    app = production_app()
    app.test_client().get("/healthz")
    assert not gc.isenabled()


def test_with_overlapping_requests_the_collector_comes_back_when_the_last_one_ends(restore_collector):
    from flask import Flask

    from service.app import CollectorPause

    gc.enable()
    app, pause = Flask(__name__), CollectorPause()
    with app.test_request_context():
        pause.enter()
        with app.app_context(), app.test_request_context():  # another thread's request: its own g
            pause.enter()
            pause.leave()
        assert not gc.isenabled()
        pause.leave()
    assert gc.isenabled()


def test_requests_that_overlap_without_a_gap_still_get_a_full_collection_every_so_often(
        restore_collector, monkeypatch):
    from flask import Flask

    from service.app import CollectorPause

    collections = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args))
    gc.enable()
    app, pause = Flask(__name__), CollectorPause(max_pause_seconds=0.0)
    with app.test_request_context():
        pause.enter()  # a long request, still running ...
        for _ in range(3):  # ... while others come and go on other threads
            with app.app_context(), app.test_request_context():
                pause.enter()
                pause.leave()
        assert not gc.isenabled() and len(collections) == 3
        pause.leave()
    assert gc.isenabled() and len(collections) == 3  # the last one out enables it: no extra collection
