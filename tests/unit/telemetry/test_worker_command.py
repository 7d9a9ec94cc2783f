"""`liftwatch worker`: what it refuses before it starts anything (one red line, exit 1), and the old name
`liftwatch ingest` still reaching it. Running workers: tests/integration/test_worker_process.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.core.config import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["worker", "ingest"])
def test_an_unknown_role_is_refused(command: str) -> None:
    code, out = _run(command, "--role", "detect", "--role", "dance")
    assert code == 1
    assert "--role: expected one of archive, detect, ingest, maintenance, rescue" in out


def test_split_roles_need_a_shared_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTWATCH_BUS_URL", "")
    code, out = _run("worker", "--role", "rescue")
    assert code == 1
    assert "split roles need a shared bus" in out


def test_a_bad_detector_threshold_stops_it_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTWATCH_DETECTOR_ENTRAPMENT_OUTSIDE_ZONE_MS", "half a minute")
    code, out = _run("worker", "--role", "detect")
    assert code == 1
    assert "LIFTWATCH_DETECTOR_ENTRAPMENT_OUTSIDE_ZONE_MS='half a minute'" in out


def test_the_old_name_is_hidden_from_the_help() -> None:
    code, out = _run("--help")
    assert code == 0
    commands = [line.strip("│ ").split(" ")[0] for line in out.splitlines()]
    assert "worker" in commands and "ingest" not in commands
