"""`liftwatch simulate` as an operator meets it: what it says when the registry has fewer terminals than
asked, its progress and summaries, and help on every flag."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.sim import telemetry
from liftwatch.sim.progress import PublishProgress, summary_line
from liftwatch.sim.telemetry import (
    MAX_TRAFFIC,
    FaultRates,
    FleetElevator,
    PublishReport,
    calibrate,
    synthetic_fleet,
)
from liftwatch.telemetry.faults import DetectorSettings


def test_more_elevators_than_terminals_warns_with_both_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry's 1,611 elevators with terminals, 2,000 asked: a warning naming both, then the run."""
    registry = synthetic_fleet(1611, seed=4)
    asked: list[int] = []

    def from_registry(url: str, n: int) -> list[FleetElevator]:
        asked.append(n)
        return registry[:n]

    monkeypatch.setattr(telemetry, "fleet_from_database", from_registry)
    args = ["simulate", "--duration", "0.3", "--rate", "50", "--database-url", f"sqlite:///{tmp_path}/x.db"]
    result = CliRunner().invoke(cli, [*args, "--elevators", "2000"])
    assert result.exit_code == 0, result.output
    assert asked == [2000]
    out = " ".join(result.output.split())
    assert "asked for 2,000 elevators, but the registry has only 1,611" in out
    assert "1611 registry elevators" in out and "sent" in out
    # as many as there are: no warning
    result = CliRunner().invoke(cli, [*args, "--elevators", "1611"])
    assert result.exit_code == 0, result.output
    assert "asked for" not in result.output


def _simulate_options() -> list[Any]:
    command: Any = typer.main.get_command(cli)  # typer's own click: a group of commands
    return [p for p in command.commands["simulate"].params if p.param_type_name == "option"]


def test_every_simulate_flag_has_help() -> None:
    options = _simulate_options()
    assert {"--duration", "--fault-scale", "--elevators"} <= {p.opts[0] for p in options}
    missing = [p.opts[0] for p in options if not p.help]
    assert not missing, f"flags without help: {missing}"


def test_every_simulate_flag_is_documented() -> None:
    """README and OPERATIONS name every flag of the simulator."""
    flags = [p.opts[0] for p in _simulate_options()]
    root = Path(__file__).resolve().parents[3]
    for doc in ("README.md", "docs/OPERATIONS.md"):
        text = (root / doc).read_text(encoding="utf-8")
        missing = [f for f in flags if not re.search(rf"`{re.escape(f)}[ =`]", text)]
        assert not missing, f"{doc} does not document {missing}"


def _report(seconds: float, sent: int) -> PublishReport:
    return PublishReport(sent=sent, seconds=seconds, truth=sent // 100, lag_ms=200)


def test_open_ended_run_off_a_terminal_logs_a_summary_every_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = io.StringIO()
    caplog.set_level(logging.INFO, logger="liftwatch.sim.progress")
    with PublishProgress(Console(file=out), duration_s=0, tty=False, every_s=10) as progress:
        for second in range(0, 31):
            progress.update(_report(second + 0.5, 1000 * second))
    lines = [r.getMessage() for r in caplog.records if r.name == "liftwatch.sim.progress"]
    assert len(lines) == 3, lines
    assert lines[0] == summary_line(_report(10.5, 10_000))
    assert "10,000 messages sent in 10 s (952/s), 100 faults injected, 0.2 s behind" in lines[0]
    assert out.getvalue() == ""  # nothing drawn where nobody looks


def test_open_ended_run_on_a_terminal_prints_the_summary(caplog: pytest.LogCaptureFixture) -> None:
    out = io.StringIO()
    with PublishProgress(Console(file=out, width=200), duration_s=0, tty=True, every_s=5) as progress:
        for second in range(0, 12):
            progress.update(_report(second, 500 * second))
    assert out.getvalue().count("messages sent") == 2
    assert not [r for r in caplog.records if r.name == "liftwatch.sim.progress"]


def test_finite_run_on_a_terminal_draws_a_progress_bar() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with PublishProgress(console, duration_s=4, tty=True) as progress:
        progress.update(_report(2, 4321))
        assert progress._bar is not None
        task = progress._bar.tasks[0]
        assert task.completed == 2 and task.total == 4
        assert "4,321 sent" in task.fields["status"]
    assert "messages sent" not in out.getvalue()


def test_calibration_measures_what_a_fleet_can_send() -> None:
    """Messages grow slower than traffic (rides take time): the rate is measured at the traffic chosen."""
    fleet = synthetic_fleet(300, seed=2)
    start = 1_790_000_000_000
    reachable = calibrate(fleet, 60.0, 1, start, FaultRates(), DetectorSettings())
    assert reachable.traffic > 1 and reachable.reachable >= 54
    too_much = calibrate(fleet, 100_000.0, 1, start, FaultRates(), DetectorSettings())
    assert too_much.traffic == MAX_TRAFFIC
    assert too_much.natural < too_much.reachable < too_much.natural * MAX_TRAFFIC / 2
