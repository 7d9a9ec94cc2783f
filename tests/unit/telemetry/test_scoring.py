"""Acceptance: the fault detector against the simulator's ground truth.

Every fault type is injected over many elevators, with the network's noise (latency, duplicates,
reordering, lost messages) and chatter that must not raise anything. Each message goes to
``Detector.feed`` at its delivery time, ``tick`` runs every simulated second. A raised fault matches a
truth record of the same elevator and type whose start is within ``TOLERANCE_MS``; precision and recall
per fault type must be >= 0.99 on the seeds together. ``pytest -s`` prints the table.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import pytest

from liftwatch.sim.telemetry import FaultRates, TelemetrySimulator, TruthRecord, synthetic_fleet
from liftwatch.telemetry.faults import DetectorSettings, FaultChange, FaultType

detector = pytest.importorskip("liftwatch.telemetry.detector")

SEEDS = (11, 12, 13)
#: Lifts and escalators per seed, simulated hours, and local start hours (peaks and opening hours vary).
FLEET = 400
ESCALATOR_SHARE = 0.35
HOURS = 5.0
START_HOURS_LOCAL = (9, 13, 17)
#: A raised fault matches a truth record when its start is this close (latency, clock offsets, reordering).
TOLERANCE_MS = 10_000
#: Faults that start this close to the end may not have reached their hold time yet: not scored.
HORIZON_MS = 300_000
TICK_MS = 1_000
MIN_SAMPLES = 100
TARGET = 0.99


@dataclass
class Score:
    truth: int = 0
    raised: int = 0
    matched: int = 0
    end_checked: int = 0
    end_ok: int = 0
    misses: list[TruthRecord] = field(default_factory=list)
    false: list[FaultChange] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.raised if self.raised else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0


def run_seed(seed: int, start_hour: int, scores: dict[FaultType, Score]) -> tuple[int, float]:
    """Simulate, detect and match one seed; adds to ``scores``; returns (messages, seconds)."""
    settings = DetectorSettings()
    day = datetime(2026, 11, 23, tzinfo=UTC).timestamp() * 1000
    start = int(day + (start_hour - 8) * 3_600_000)  # local time is UTC+8
    end = start + int(HOURS * 3_600_000)
    fleet = synthetic_fleet(FLEET, seed, escalator_share=ESCALATOR_SHARE)
    sim = TelemetrySimulator(fleet, seed, start, FaultRates.stress(), settings)
    det = detector.Detector(settings, sim.rated_speeds)
    raised: dict[str, FaultChange] = {}
    cleared: dict[str, FaultChange] = {}

    def take(changes: list[FaultChange]) -> None:
        for ch in changes:
            if ch.raised:
                raised.setdefault(ch.fault_id, ch)
            else:
                cleared[ch.fault_id] = ch

    began = time.perf_counter()
    n = 0
    next_tick = start + TICK_MS
    feed, tick = det.feed, det.tick
    for deliver, code, msg in sim.messages(end):
        while deliver >= next_tick:
            if changes := tick(next_tick):
                take(changes)
            next_tick += TICK_MS
        if changes := feed(code, msg, deliver):
            take(changes)
        n += 1
    while next_tick <= end:
        take(tick(next_tick))
        next_tick += TICK_MS
    seconds = time.perf_counter() - began

    cutoff = end - HORIZON_MS
    truth = defaultdict(list)
    for r in sim.truth:
        if r.start_ms <= cutoff:
            truth[(r.registration_code, r.fault_type)].append(r)
            scores[r.fault_type].truth += 1
    found = defaultdict(list)
    for ch in raised.values():
        if ch.started_ms <= cutoff:
            found[(ch.registration_code, ch.fault_type)].append(ch)
            scores[ch.fault_type].raised += 1
    for key in set(truth) | set(found):
        score = scores[key[1]]
        left = sorted(found.get(key, []), key=lambda c: c.started_ms)
        for r in sorted(truth.get(key, []), key=lambda r: r.start_ms):
            best = min(left, key=lambda c: abs(c.started_ms - r.start_ms), default=None)
            if best is None or abs(best.started_ms - r.start_ms) > TOLERANCE_MS:
                score.misses.append(r)
                continue
            left.remove(best)
            score.matched += 1
            clear = cleared.get(best.fault_id)
            if r.end_ms is not None and r.end_ms <= cutoff:
                score.end_checked += 1
                if clear is not None and abs(clear.at_ms - r.end_ms) <= TOLERANCE_MS:
                    score.end_ok += 1
        score.false.extend(left)
    return n, seconds


def test_detector_precision_and_recall_per_fault_type() -> None:
    scores: dict[FaultType, Score] = defaultdict(Score)
    total = 0
    seconds = 0.0
    for seed, hour in zip(SEEDS, START_HOURS_LOCAL, strict=True):
        n, s = run_seed(seed, hour, scores)
        total += n
        seconds += s

    head = ("truth", "raised", "match", "precision", "recall", "end ok")
    lines = [f"{'fault type':28} " + " ".join(f"{h:>9}" for h in head)]
    for ft in FaultType:
        sc = scores[ft]
        end = f"{sc.end_ok / sc.end_checked:.3f}" if sc.end_checked else "-"
        cells = (
            f"{sc.truth}",
            f"{sc.raised}",
            f"{sc.matched}",
            f"{sc.precision:.3f}",
            f"{sc.recall:.3f}",
            end,
        )
        lines.append(f"{ft.value:28} " + " ".join(f"{c:>9}" for c in cells))
    lines.append(f"{total} messages simulated and detected in {seconds:.1f} s ({total / seconds:,.0f}/s)")
    print("\n" + "\n".join(lines))

    failures = []
    for ft in FaultType:
        sc = scores[ft]
        assert sc.truth >= MIN_SAMPLES, f"{ft.value}: only {sc.truth} truth records, the score means little"
        if sc.precision < TARGET or sc.recall < TARGET:
            miss = [(r.registration_code, r.start_ms, r.end_ms, r.cause.value) for r in sc.misses[:3]]
            false = [(c.registration_code, c.started_ms, c.at_ms) for c in sc.false[:3]]
            failures.append(
                f"{ft.value}: precision {sc.precision:.3f} recall {sc.recall:.3f}; "
                f"missed {miss}; false {false}"
            )
    assert not failures, "\n".join(failures)


def test_scoring_fails_a_detector_without_anti_chatter() -> None:
    """The score can fail: a detector that raises at once (no confirmation window) is caught by the
    chatter the simulator injects (power blips, door-zone flicker)."""

    real = detector.Detector

    def hasty(settings: DetectorSettings, rated: dict[str, float]) -> object:
        return real(msgspec.structs.replace(settings, confirm_ms=0), rated)

    detector.Detector = hasty
    try:
        scores: dict[FaultType, Score] = defaultdict(Score)
        run_seed(SEEDS[0], START_HOURS_LOCAL[0], scores)
    finally:
        detector.Detector = real
    assert scores[FaultType.POWER_CUT].precision < 0.9
    assert scores[FaultType.STOPPED_OUTSIDE_DOOR_ZONE].precision < 0.9
    assert scores[FaultType.POWER_CUT].recall == 1.0
