"""bench/count_instructions.py: the program it measures under valgrind makes real
patient-view calls, and a run that cannot count says why instead of printing a figure."""

from __future__ import annotations

import json

import pytest

from bench import count_instructions


def test_the_measured_program_makes_successful_patient_view_calls():
    # the child valgrind runs: warm-up plus the counted calls, each asserted to answer 200
    count_instructions.run_calls(2, 30, count_instructions.REPO_DIR)


def test_asking_for_fewer_calls_in_the_longer_run_is_refused_with_a_message(capsys):
    with pytest.raises(SystemExit):
        count_instructions.main(["--few", "50", "--many", "20"])
    assert "--many must be larger than --few" in capsys.readouterr().err


def test_the_stages_program_makes_patient_view_calls_that_answer_with_cards():
    # --stages: the same call without Flask; gather/run_hook/cards_response must run to the end
    import gc
    try:
        response = count_instructions.run_stage_calls(2, 30, count_instructions.REPO_DIR)
    finally:
        gc.enable()
        gc.unfreeze()
    cards = json.loads(response)["cards"]
    assert cards and all(card["summary"] for card in cards)
