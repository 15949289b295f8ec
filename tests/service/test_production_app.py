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
