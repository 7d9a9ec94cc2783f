"""The compiled detector (Cython, built by `make setup` from detector.py) is the one the platform runs, it is
built from the source as it is now, and it finds exactly what the same source run as plain Python finds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from liftwatch.sim.telemetry import FaultRates, TelemetrySimulator, synthetic_fleet
from liftwatch.telemetry import detector as compiled
from liftwatch.telemetry.faults import DetectorSettings, FaultChange
from liftwatch.telemetry.interpreted import detector_as_source

SOURCE = Path(compiled.__file__).with_name("detector.py")
TICK_MS = 1_000


def test_the_detector_is_compiled_from_its_current_source() -> None:
    path = Path(compiled.__file__)
    assert path.suffix == ".so", f"the detector runs uncompiled from {path}: run `make setup`"
    stale = SOURCE.stat().st_mtime > path.stat().st_mtime
    assert not stale, f"{path.name} is older than detector.py: run `make setup` to rebuild it"


def _run(module: ModuleType, seed: int, hours: float, split: bool) -> tuple[list[Any], list[Any], bytes]:
    """Changes, mode changes and the final dump of a simulated stretch; ``split``: half-way the detector
    is dumped and a new one (of the same module) carries on from the dump, as after a restart."""
    settings = DetectorSettings()
    start = int(datetime(2026, 11, 23, 1, tzinfo=UTC).timestamp() * 1000)
    end = start + int(hours * 3_600_000)
    fleet = synthetic_fleet(120, seed, escalator_share=0.3)
    sim = TelemetrySimulator(fleet, seed, start, FaultRates.stress(), settings)
    det = module.Detector(settings, sim.rated_speeds)
    changes: list[FaultChange] = []
    modes: list[Any] = []
    next_tick = start + TICK_MS
    half = start + (end - start) // 2
    for deliver, code, msg in sim.messages(end):
        while deliver >= next_tick:
            changes += det.tick(next_tick)
            next_tick += TICK_MS
        changes += det.feed(code, msg, deliver)
        modes += [msgspec.structs.astuple(m) for m in det.take_mode_changes()]  # each module's own type
        if split and deliver >= half:
            split = False
            blob = det.dump_all()
            det = module.Detector(settings, sim.rated_speeds)
            det.load_all(blob)
    changes += det.tick(end)
    stats = det.stats
    assert stats.messages > 0
    return changes, modes, det.dump_all()


@pytest.mark.parametrize("split", [False, True], ids=["straight", "restored-half-way"])
def test_the_compiled_detector_finds_what_the_source_finds(split: bool) -> None:
    plain = detector_as_source()
    assert not plain.cython.compiled
    got = _run(compiled, 31, 1.5, split)
    want = _run(plain, 31, 1.5, split)
    assert len(want[0]) > 50, "the stress rates should raise and clear many faults"
    assert {c.fault_type for c in want[0]} >= {"entrapment", "power_cut", "terminal_offline"}
    assert got[0] == want[0]
    assert len(want[1]) > 100
    assert got[1] == want[1]
    assert got[2] == want[2]  # the same state, byte for byte: a checkpoint moves between the two


def test_a_checkpoint_of_the_plain_detector_loads_into_the_compiled_one() -> None:
    plain = detector_as_source()
    changes, _, blob = _run(plain, 32, 0.5, False)
    assert changes
    det = compiled.Detector(DetectorSettings())
    det.load_all(blob)
    assert det.dump_all() == blob
