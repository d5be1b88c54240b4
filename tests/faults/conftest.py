"""The figures every fault test measured: one line each at the end of the run, and
``faults-report.json`` (under pytest's base temporary directory, or at
``PMO_FAULTS_REPORT`` when set)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import harness


@pytest.fixture(scope="session", autouse=True)
def faults_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    if not harness.REPORT:
        return
    target = os.environ.get("PMO_FAULTS_REPORT")
    path = Path(target) if target else tmp_path_factory.getbasetemp() / "faults-report.json"
    path.write_text(json.dumps(harness.REPORT, indent=2, default=str) + "\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not harness.REPORT:
        return
    terminalreporter.section("fault test figures")
    for entry in harness.REPORT:
        figures = " ".join(f"{k}={harness.fmt_figure(v)}" for k, v in entry.items() if k != "test")
        terminalreporter.write_line(f"{entry['test']}: {figures}")
