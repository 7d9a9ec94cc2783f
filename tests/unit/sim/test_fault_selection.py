"""`liftwatch simulate --faults`: only the chosen fault scenarios start, the final line counts what was
injected by type, and an unknown kind is refused naming it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.sim.telemetry import FaultRates, TelemetrySimulator, synthetic_fleet
from liftwatch.telemetry.faults import DetectorSettings, FaultType

START = 1_764_000_000_000


def test_only_the_chosen_scenarios_start() -> None:
    rates = FaultRates().scaled(3_000_000).only([FaultType.ENTRAPMENT])
    assert set(rates.per_day) == {FaultType.ENTRAPMENT}
    sim = TelemetrySimulator(synthetic_fleet(200, seed=3), 3, START, rates, DetectorSettings(), traffic=60)
    sim.run(START + 120_000)
    kinds = {r.fault_type for r in sim.truth}
    assert FaultType.ENTRAPMENT in kinds
    # an entrapment between floors is also a stop outside the door zone, a trapped passenger may press the
    # alarm; nothing else starts (no clock skew, no offline terminal)
    assert kinds <= {FaultType.ENTRAPMENT, FaultType.STOPPED_OUTSIDE_DOOR_ZONE, FaultType.ALARM_BUTTON}


def test_the_summary_counts_what_was_injected_and_a_bad_kind_is_refused(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    args = ["simulate", "--duration", "0.5", "--rate", "50", "--database-url", f"sqlite:///{tmp_path}/x.db"]
    result = CliRunner().invoke(
        cli, [*args, "--faults", "alarm_button", "--fault-scale", "0", "--truth", str(truth)]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"faults injected up to the last message \(\S+Z\): none", result.output)
    assert truth.read_text() == ""
    result = CliRunner().invoke(cli, [*args, "--faults", "entrapment,teleport"])
    assert result.exit_code == 1
    assert "--faults: unknown teleport" in " ".join(result.output.split())
    assert [json.loads(line) for line in truth.read_text().splitlines()] == []
