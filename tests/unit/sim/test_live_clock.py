"""The simulator publishing live is wall-clock true: asked for far more messages than its fleet makes in real
time, it never stamps a message ahead of the wall clock, so the detector raises no clock_skew it did not
inject (issue 12: a sped-up run drifted 304 s ahead and raised 902 false clock-skew faults)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace

import pytest

from liftwatch.sim import live
from liftwatch.sim.telemetry import (
    FaultRates,
    PublishReport,
    TelemetrySimulator,
    publish,
    synthetic_fleet,
)
from liftwatch.telemetry.detector import Detector
from liftwatch.telemetry.faults import DetectorSettings, FaultType
from liftwatch.telemetry.protocol import Message, MessageType, decode, parse_topic
from tests.waiting import until

SETTINGS = DetectorSettings()
#: a simulated terminal's clock is NTP-synced, off by under a second (sim/rides.py): ahead of the wall
#: clock by no more than that, far inside the detector's clock_skew_ms (5 minutes)
NTP_ERROR_MS = 1_000


@dataclass
class FakeClock:
    """Wall and monotonic time that only move when the publisher sleeps (or does work: ``work_s``)."""

    wall_s: float
    mono_s: float = 0.0
    work_s: float = 0.0

    def monotonic(self) -> float:
        self.mono_s += self.work_s
        self.wall_s += self.work_s
        return self.mono_s

    def wall(self) -> float:
        return self.wall_s

    def sleep(self, dt: float) -> None:
        dt = max(dt, 0.001)
        self.mono_s += dt
        self.wall_s += dt


@dataclass
class RecordingSink:
    """An in-process sink: each message with the wall-clock ms it was sent at."""

    now: object
    sent: list[tuple[int, str, Message]] = field(default_factory=list)
    closed: bool = False

    def send(self, registration_code: str, kind: str, payload: bytes) -> None:
        at_ms = int(self.now() * 1000)  # type: ignore[operator]
        self.sent.append((at_ms, registration_code, decode(payload, MessageType(kind))))

    def close(self) -> None:
        self.closed = True


def _sped_up(start_ms: int, n: int = 20, seed: int = 3) -> TelemetrySimulator:
    """Fault rates far above real life (as the demo runs them) but no clock skew injected, so any skew is
    the publisher's; and the most traffic the CLI ever asks for."""
    scaled = FaultRates().scaled(2000)
    rates = replace(scaled, per_day={**scaled.per_day, FaultType.CLOCK_SKEW: 0.0})
    return TelemetrySimulator(synthetic_fleet(n, seed), seed, start_ms, rates, SETTINGS, traffic=60.0)


def _assert_clock_true(sim: TelemetrySimulator, sink: RecordingSink, report: PublishReport) -> None:
    assert sink.sent and sink.closed
    assert not [r for r in sim.truth if r.fault_type is FaultType.CLOCK_SKEW]
    ahead = [
        (code, msg.ts - at_ms)
        for at_ms, code, msg in sink.sent
        if max(msg.ts, msg.sent_ts or 0) > at_ms + NTP_ERROR_MS
    ]
    assert not ahead, f"{len(ahead)} messages stamped ahead of the wall clock, e.g. {ahead[:3]}"
    assert report.sim_end_ms <= sink.sent[-1][0]
    detector = Detector(SETTINGS, sim.rated_speeds)
    skew: list[str] = []
    for at_ms, code, msg in sink.sent:
        changes = detector.feed(code, msg, at_ms)
        skew += [c.registration_code for c in changes if c.fault_type is FaultType.CLOCK_SKEW]
    assert not skew, f"{len(skew)} clock_skew faults nobody injected: {skew[:5]}"


def test_sped_up_run_never_stamps_ahead_of_the_wall_clock() -> None:
    """Ten minutes (twice the skew tolerance) at a rate 20 terminals cannot make in real time."""
    clock = FakeClock(wall_s=1_790_000_000.0, work_s=0.0005)
    sim = _sped_up(int(clock.wall_s * 1000))
    sink = RecordingSink(clock.wall)
    report = publish(
        sim, sink, rate=5_000.0, duration_s=600.0, clock=clock.monotonic, sleep=clock.sleep, wall=clock.wall
    )
    _assert_clock_true(sim, sink, report)
    # it did publish all the while (not just at the start), and never ran ahead of the wall clock
    assert sink.sent[-1][0] - sink.sent[0][0] > 590_000
    assert 0 <= report.lag_ms < 1_000
    assert report.sent == len(sink.sent) < 5_000 * 600  # throttled to what the fleet makes


def test_real_time_run_is_clock_true_and_reports_progress() -> None:
    """The real clocks, for a short while: what `liftwatch simulate` does."""
    sim = _sped_up(int(time.time() * 1000), n=60, seed=8)
    sink = RecordingSink(time.time)
    seen: list[tuple[int, float]] = []
    report = publish(
        sim,
        sink,
        rate=100_000.0,
        duration_s=1.5,
        progress=lambda r: seen.append((r.sent, r.seconds)),
        progress_every_s=0.2,
    )
    _assert_clock_true(sim, sink, report)
    assert 1.5 <= report.seconds < 5
    assert len(seen) >= 3 and [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_open_ended_run_stops_on_ctrl_c_and_closes_the_sink() -> None:
    clock = FakeClock(wall_s=1_790_000_000.0)

    def sleep(dt: float) -> None:
        clock.sleep(dt)
        if clock.mono_s > 30:
            raise KeyboardInterrupt

    sim = _sped_up(int(clock.wall_s * 1000), n=10)
    sink = RecordingSink(clock.wall)
    report = publish(
        sim, sink, rate=1_000.0, duration_s=0, clock=clock.monotonic, sleep=sleep, wall=clock.wall
    )
    assert report.interrupted and sink.closed
    assert report.sent == len(sink.sent) > 0 and report.seconds >= 30


def test_live_city_hands_ingestion_nothing_ahead_of_its_receive_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's living city (in the web process) delivers each message when the wall clock reaches it."""
    fleet = synthetic_fleet(200, seed=9)
    monkeypatch.setattr(live, "fleet_from_database", lambda url, n: fleet[:n])
    got: list[tuple[int, str, Message]] = []

    class Inbox:
        def accept_mqtt(self, topic: str, payload: bytes, received_ms: int, source: str = "mqtt") -> bool:
            code, kind = parse_topic(topic)
            got.append((received_ms, code, decode(payload, kind)))
            return True

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            live.run_live_city(Inbox(), "sqlite://", stop, SETTINGS, elevators=200, fault_scale=0, step_s=0.1)
        )
        await until(lambda: len({at for at, _, _ in got}) >= 5, what=lambda: f"{len(got)} messages so far")
        stop.set()
        await task

    asyncio.run(main())
    now_ms = int(time.time() * 1000)
    assert all(at <= now_ms for at, _, _ in got)
    ahead = [(code, msg.ts - at) for at, code, msg in got if msg.ts > at + NTP_ERROR_MS]
    assert not ahead, ahead[:3]
    detector = Detector(SETTINGS, {e.registration_code: e.speed for e in fleet})
    skew = [
        c
        for at, code, msg in got
        for c in detector.feed(code, msg, at)
        if c.fault_type is FaultType.CLOCK_SKEW
    ]
    assert not skew, skew[:3]
