"""The live crews' hooks into the simulated terminals: a maintenance hold shows the mode and stops the rides
over exactly its span; a silence delivers nothing over it; both are deterministic, and a city with no hold
is unchanged."""

from __future__ import annotations

from liftwatch.sim.live import TerminalHooks
from liftwatch.sim.rides import MINUTE, SECOND, FleetElevator, ServiceMode
from liftwatch.sim.telemetry import Delivery, FaultRates, TelemetrySimulator
from liftwatch.telemetry.faults import FaultType
from liftwatch.telemetry.protocol import Status

T0 = 1_764_036_000_000  # Tuesday 2025-11-25 10:00 in Shanghai: lifts busy, the mall open
LIFT = FleetElevator("31103101002024000001", "traction", 12, 1.5, "office")
ESCALATOR = FleetElevator("33103101002024000002", "escalator", None, 0.5, "mall")


def _sim(*fleet: FleetElevator) -> TelemetrySimulator:
    return TelemetrySimulator(list(fleet), seed=3, start_ms=T0, fault_rates=FaultRates.quiet(), tz=None)


def _statuses(out: list[Delivery], code: str) -> list[tuple[int, Status]]:
    return [(msg.ts, msg) for _, c, msg in out if c == code and isinstance(msg, Status)]


def test_a_hold_changes_only_its_own_terminal() -> None:
    a = _sim(LIFT, ESCALATOR).run(T0 + 40 * MINUTE)
    b = _sim(LIFT, ESCALATOR)
    assert b.hold_mode(ESCALATOR.registration_code, ServiceMode.INSPECTION, T0 + MINUTE, T0 + 20 * MINUTE)
    assert not b.hold_mode("not-in-the-fleet", ServiceMode.INSPECTION, T0 + MINUTE, T0 + 2 * MINUTE)
    held = b.run(T0 + 40 * MINUTE)

    def of(out: list[Delivery], code: str) -> list[Delivery]:
        return [d for d in out if d[1] == code]

    assert of(held, LIFT.registration_code) == of(a, LIFT.registration_code)
    assert of(held, ESCALATOR.registration_code) != of(a, ESCALATOR.registration_code)


def test_inspection_hold_shows_the_mode_and_stops_the_rides() -> None:
    start, end = T0 + 10 * MINUTE, T0 + 40 * MINUTE
    sim = _sim(LIFT, ESCALATOR)
    assert sim.hold_mode(LIFT.registration_code, ServiceMode.INSPECTION, start, end)
    assert sim.hold_mode(ESCALATOR.registration_code, ServiceMode.INSPECTION, start, end)
    out = sim.run(T0 + 60 * MINUTE)
    for spec in (LIFT, ESCALATOR):
        statuses = _statuses(out, spec.registration_code)
        # ts carries the terminal's NTP offset (under a second)
        during = [s for ts, s in statuses if start + 2 * SECOND <= ts <= end - 2 * SECOND]
        assert during, spec.kind  # the full status every fifth heartbeat at least
        assert all(s.mode is ServiceMode.INSPECTION and not s.running for s in during)
        assert any(s.mode is ServiceMode.NORMAL for ts, s in statuses if ts < start - 2 * SECOND)
        after = [s for ts, s in statuses if ts > end + 2 * SECOND]
        assert after and after[0].mode is ServiceMode.NORMAL
    assert _sim(LIFT, ESCALATOR).run(T0 + 60 * MINUTE) != out
    again = _sim(LIFT, ESCALATOR)
    again.hold_mode(LIFT.registration_code, ServiceMode.INSPECTION, start, end)
    again.hold_mode(ESCALATOR.registration_code, ServiceMode.INSPECTION, start, end)
    assert again.run(T0 + 60 * MINUTE) == out  # deterministic


def test_silence_delivers_nothing_and_records_the_outage() -> None:
    start, end = T0 + 5 * MINUTE, T0 + 35 * MINUTE
    sim = _sim(LIFT)
    assert sim.silence(LIFT.registration_code, start, end)
    out = sim.run(T0 + 45 * MINUTE)
    times = [at for at, code, _ in out if code == LIFT.registration_code]
    assert not [t for t in times if start + 2 * SECOND < t < end]
    assert [t for t in times if t >= end]  # reconnected
    outages = [r for r in sim.truth if r.fault_type is FaultType.TERMINAL_OFFLINE]
    assert len(outages) == 1 and outages[0].start_ms <= start and outages[0].end_ms >= end


def test_hold_added_late_starts_at_once_and_a_past_one_is_dropped() -> None:
    sim = _sim(LIFT)
    sim.run(T0 + 20 * MINUTE)
    assert sim.hold_mode(LIFT.registration_code, ServiceMode.INSPECTION, T0, T0 + 5 * MINUTE)
    assert sim.hold_mode(LIFT.registration_code, ServiceMode.OUT_OF_SERVICE, T0, T0 + 30 * MINUTE)
    assert not sim.hold_mode(LIFT.registration_code, ServiceMode.INSPECTION, T0, T0)
    statuses = _statuses(sim.run(T0 + 40 * MINUTE), LIFT.registration_code)
    modes = [s.mode for ts, s in statuses]
    assert ServiceMode.INSPECTION not in modes
    assert ServiceMode.OUT_OF_SERVICE in modes
    assert all(s.mode is ServiceMode.NORMAL for ts, s in statuses if ts > T0 + 31 * MINUTE)


def test_hooks_asked_before_the_city_starts_reach_its_terminals() -> None:
    hooks = TerminalHooks()
    start, end = T0 + 5 * MINUTE, T0 + 15 * MINUTE
    assert not hooks.hold_mode(LIFT.registration_code, ServiceMode.INSPECTION, start, end)
    sim = _sim(LIFT)
    hooks.attach(sim)
    assert not hooks.silence("not-in-the-fleet", start, end)
    modes = [s.mode for ts, s in _statuses(sim.run(T0 + 20 * MINUTE), LIFT.registration_code)]
    assert ServiceMode.INSPECTION in modes
