"""The analytics tests' fixed data set, made through the services, every figure worked out by hand in
tests/unit/analytics/test_service.py (and docs/ANALYTICS.md, "Worked example").

The seeded registry (tests/factories.seed; rescue_city puts 11SHA000001 at RESCUE_SITE with MU-A's crews)
on 23 November 2026, in Shanghai:

| elevator | district | place | age | terminal | coordinates | mobile signal | policy on the day |
|---|---|---|---|---|---|---|---|
| A1 11SHA000001 | 静安区 | residential | 21 (20+) | T-A1 | yes | yes | valid |
| A2 11SHA000002 | 静安区 | office (public) | 7 (5-10) | - | yes | no | expired 2025 |
| B3 11SHB000003 | 徐汇区 | mall (public) | 14 (10-15) | T-B3 | - | yes | valid |
| B4 11SHB000004 | 徐汇区 | residential | 28 (20+) | - | - | not checked | - |

October 2026 (31 days; the rates' month is 365/12 days, so a month's figure is x 365/372):

- incidents: A1 10 Oct (answered 2 min after dispatch, on site at 20 min, released, completed); A2 12 Oct
  (answered at 3, on site at 40: late for the 30-min limit); A1 14 Oct a false alarm. One rescue on A1 on
  2 November (outside October, in the trend).
- faults: B3 escalator safety circuit 5 Oct, A1 door close failure 20 Oct; A1 power cut 21 Oct (not an
  elevator fault); B4 door open failure 30 September 18:00 (outside).
- complaints: A2 8 Oct, B3 9 Oct; B4 3 November (outside).
- periodic inspections signed with their date 16 October: A1 pass, B3 fail, B4 pass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.complaints import service as complaints
from liftwatch.complaints.workflow import Category, Channel
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.inspection import service as inspection
from liftwatch.inspection.domain import Conclusion, Severity
from liftwatch.insurance import service as insurance
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, Source
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.faults import FaultChange, FaultType
from liftwatch.telemetry.faults import Severity as FaultSeverity
from tests.factories import RESCUE_SITE, rescue_city, seed

A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
CREW = Actor("crew_a1", Role.MAINTENANCE)
INSPECTOR = Actor("inspector", Role.INSPECTOR)
RESCUE = rescue.RescueSettings()
CITY = Settings(timezone="Asia/Shanghai")
START = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)  # the clock while the city is made


def _at(clock: FixedClock, when: datetime) -> None:
    clock.advance(when - clock.now())


def _rescue(session: Session, clock: FixedClock, code: str, alarm: datetime, ack: int, arrive: int) -> None:
    """A rescue on ``code``: crew A1 answers ``ack`` minutes after the alarm (the dispatch is at once),
    arrives at ``arrive``, releases 5 minutes later and completes 5 after that."""
    _at(clock, alarm)
    inc = rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, RESCUE).incident.id
    session.commit()
    for minutes, step in (
        (ack, lambda: rescue.acknowledge(session, CREW, inc, clock)),
        (arrive, lambda: rescue.arrive(session, CREW, inc, clock)),
        (arrive + 5, lambda: rescue.release(session, CREW, inc, clock)),
        (arrive + 10, lambda: rescue.complete(session, CREW, inc, clock, RESCUE, Cause.ELECTRO_MECHANICAL)),
    ):
        _at(clock, alarm + timedelta(minutes=minutes))
        step()
        session.commit()


def _false_alarm(session: Session, clock: FixedClock, code: str, alarm: datetime) -> None:
    _at(clock, alarm)
    inc = rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, RESCUE).incident.id
    _at(clock, alarm + timedelta(minutes=5))
    rescue.false_alarm(session, OPERATOR, inc, clock, RESCUE, note="无人被困")
    session.commit()


def _fault(session: Session, code: str, kind: FaultType, at: datetime) -> None:
    ms = int(at.timestamp() * 1000)
    telemetry.apply_fault_changes(session, [FaultChange(code, kind, True, ms, ms, FaultSeverity.MAJOR)])


def _complaint(session: Session, clock: FixedClock, ref: str, code: str, at: datetime) -> None:
    _at(clock, at)
    data = complaints.Intake(Channel.HOTLINE_12345, ref, Category.NOISE, "电梯运行时有很大的异响", code=code)
    complaints.intake(session, OPERATOR, data, clock)
    session.commit()


def _inspect(session: Session, clock: FixedClock, code: str, conclusion: Conclusion, at: datetime) -> None:
    row, _ = inspection.schedule_next(session, SYSTEM_ACTOR, code, "IB-1", "inspector", clock, CITY)
    findings = []
    if conclusion is not Conclusion.PASS:
        findings = [inspection.Finding("层门自闭装置失效", Severity.MAJOR, date(2026, 11, 30))]
    inspection.record_result(session, INSPECTOR, row.id, at, conclusion, f"DJ-{code}", findings, clock, CITY)
    inspection.sign(session, INSPECTOR, row.id, clock, CITY)
    session.commit()


def _policy(session: Session, clock: FixedClock, code: str, start: date, end: date) -> None:
    data = insurance.PolicyData(code, f"P-{code}-{start.year}", start, end, 100_000, 1_000_000, 5_000, "IN-A")
    insurance.record_policy(session, SYSTEM_ACTOR, data, clock)
    session.commit()


def analytics_city(session: Session) -> None:
    """The module docstring's data set; the caller queries with its own clock (23 November 2026)."""
    clock = FixedClock(START)
    seed(session, clock)
    rescue_city(session, clock)
    for code, change in (
        (A1, ElevatorUpdate(iot_terminal_id="T-A1", mobile_signal=True)),
        (A2, ElevatorUpdate(latitude=RESCUE_SITE.lat, longitude=RESCUE_SITE.lon, mobile_signal=False)),
        (B3, ElevatorUpdate(iot_terminal_id="T-B3", mobile_signal=True)),
    ):
        registry.update_elevator(session, SYSTEM_ACTOR, code, change, clock)
    session.commit()
    _policy(session, clock, A1, date(2026, 1, 1), date(2026, 12, 31))
    _policy(session, clock, A2, date(2025, 1, 1), date(2025, 12, 31))
    _policy(session, clock, B3, date(2026, 1, 1), date(2026, 12, 31))
    _fault(session, B4, FaultType.DOOR_OPEN_FAILURE, datetime(2026, 9, 30, 10, 0, tzinfo=UTC))
    _fault(session, B3, FaultType.ESC_SAFETY_CIRCUIT, datetime(2026, 10, 5, 2, 0, tzinfo=UTC))
    _fault(session, A1, FaultType.DOOR_CLOSE_FAILURE, datetime(2026, 10, 20, 2, 0, tzinfo=UTC))
    _fault(session, A1, FaultType.POWER_CUT, datetime(2026, 10, 21, 2, 0, tzinfo=UTC))
    session.commit()
    _complaint(session, clock, "12345-1", A2, datetime(2026, 10, 8, 2, 0, tzinfo=UTC))
    _complaint(session, clock, "12345-2", B3, datetime(2026, 10, 9, 2, 0, tzinfo=UTC))
    _rescue(session, clock, A1, datetime(2026, 10, 10, 2, 0, tzinfo=UTC), 2, 20)
    _rescue(session, clock, A2, datetime(2026, 10, 12, 2, 0, tzinfo=UTC), 3, 40)
    _false_alarm(session, clock, A1, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    inspected = datetime(2026, 10, 16, 2, 0, tzinfo=UTC)
    _at(clock, inspected + timedelta(hours=1))
    _inspect(session, clock, A1, Conclusion.PASS, inspected)
    _inspect(session, clock, B3, Conclusion.FAIL, inspected)
    _inspect(session, clock, B4, Conclusion.PASS, inspected)
    _rescue(session, clock, A1, datetime(2026, 11, 2, 2, 0, tzinfo=UTC), 1, 10)
    _complaint(session, clock, "12345-3", B4, datetime(2026, 11, 3, 2, 0, tzinfo=UTC))


def maintenance_actor(session: Session, unit: str) -> Actor:
    """A maintenance unit's staff member, by the unit's code."""
    found = registry_queries.unit_by_code(session, unit)
    assert found is not None, unit
    return Actor("m", Role.MAINTENANCE, found.id)
