"""Prints the Synthea robustness run's report at the end of the session."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.robustness.test_synthea_population import SYNTHEA_REPORT

    report = config.stash.get(SYNTHEA_REPORT, None)
    if report:
        terminalreporter.write_sep("-", "Synthea robustness run (tests/robustness)")
        for line in report:
            terminalreporter.write_line(line)
