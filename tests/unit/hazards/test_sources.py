"""The hidden dangers the platform finds itself (hazards/sources.py, pure; the worker's scan on a database):
dangerous faults at once, recurring faults at the count, serious inspection findings; a finding seen again
opens nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service
from liftwatch.hazards.models import Hazard
from liftwatch.hazards.sources import (
    FaultSeen,
    InspectionFinding,
    SourceRule,
    inspection_findings,
    monitoring_findings,
)
from liftwatch.hazards.worker import HazardWorker
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from liftwatch.telemetry.models import Fault
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _fault(
    n: int, kind: str = "door_close_failure", days: float = 0, code: str = "E1", sev: str = "major"
) -> FaultSeen:
    return FaultSeen(f"F{n}", code, kind, sev, T0 + timedelta(days=days))


def _history(faults: list[FaultSeen]) -> dict[tuple[str, str], list[datetime]]:
    out: dict[tuple[str, str], list[datetime]] = {}
    for f in faults:
        out.setdefault((f.registration_code, f.fault_type), []).append(f.started_at)
    return out


def test_a_dangerous_fault_is_a_major_hazard_at_once() -> None:
    faults = [
        _fault(1, "unintended_movement"),
        _fault(2, "overspeed", sev="major"),  # 1.2x: the governor's business, not yet a hazard
        _fault(3, "overspeed", sev="critical", days=1),
        _fault(4, "esc_missing_step", code="S1", days=2),
    ]
    found = monitoring_findings(faults, _history(faults), set())
    assert [(f.source_ref, f.level, f.source) for f in found] == [
        ("fault:F1", HazardLevel.MAJOR, HazardSource.MONITORING),
        ("fault:F3", HazardLevel.MAJOR, HazardSource.MONITORING),
        ("fault:F4", HazardLevel.MAJOR, HazardSource.MONITORING),
    ]
    assert found[2].registration_code == "S1"


def test_a_recurring_fault_is_a_general_hazard_at_the_count_and_only_once() -> None:
    rule = SourceRule(repeat=5, repeat_days=30)
    four = [_fault(n, days=n * 5) for n in range(4)]  # days 0, 5, 10, 15
    assert monitoring_findings(four, _history(four), set(), rule) == []
    six = [*four, _fault(4, days=20), _fault(5, days=25)]
    found = monitoring_findings(six, _history(six), set(), rule)
    assert [(f.source_ref, f.level) for f in found] == [("repeat:door_close_failure:F4", HazardLevel.GENERAL)]
    assert "5 in 30 days" in found[0].description
    # while that hazard is open, more of the same fault on the elevator open nothing more
    assert monitoring_findings(six, _history(six), {("E1", "door_close_failure")}, rule) == []
    # another fault type on the elevator, or the same type on another elevator, is counted on its own
    other = [_fault(10 + n, "door_open_failure", days=n) for n in range(5)]
    assert len(monitoring_findings(other, _history(other), {("E1", "door_close_failure")}, rule)) == 1


def test_faults_further_apart_than_the_window_do_not_add_up() -> None:
    spread = [_fault(n, days=n * 8) for n in range(5)]  # 32 days from first to fifth
    assert monitoring_findings(spread, _history(spread), set(), SourceRule(5, 30)) == []
    assert len(monitoring_findings(spread, _history(spread), set(), SourceRule(5, 32))) == 1


def test_entrapments_power_cuts_and_alarms_are_not_the_elevators_defect() -> None:
    for kind in ("entrapment", "power_cut", "alarm_button", "terminal_offline"):
        many = [_fault(n, kind, days=n) for n in range(10)]
        assert monitoring_findings(many, _history(many), set()) == [], kind


def test_the_rule_refuses_a_count_of_one() -> None:
    with pytest.raises(ValueError, match="repeat"):
        SourceRule(repeat=1)


def test_serious_inspection_findings_are_general_hazards_minor_ones_stay() -> None:
    found = inspection_findings(
        [
            InspectionFinding(7, 3, "E1", "major", "曳引绳", "断丝超标"),
            InspectionFinding(8, 3, "E1", "minor", "照明", "轿厢照明不足"),
        ]
    )
    assert [(f.source_ref, f.source, f.level, f.description) for f in found] == [
        ("nonconformity:7", HazardSource.INSPECTION, HazardLevel.GENERAL, "曳引绳: 断丝超标")
    ]


# ---------------------------------------------------------------- the worker's scan


def _stored_fault(session: Session, n: int, code: str, kind: str, at: datetime, sev: str = "major") -> None:
    session.add(
        Fault(
            fault_id=f"scan-{n}",
            registration_code=code,
            fault_type=kind,
            severity=sev,
            started_at=at,
            raised_at=at,
        )
    )


def test_the_scan_opens_each_finding_once_and_skips_an_unknown_elevator(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = clock.now()
    _stored_fault(session, 1, "11SHA000001", "unintended_movement", now - timedelta(hours=3), "critical")
    for n in range(5):
        _stored_fault(
            session, 10 + n, "11SHA000002", "door_close_failure", now - timedelta(days=4 - n, hours=1)
        )
    _stored_fault(session, 20, "11SHZ999999", "overrun_top", now - timedelta(hours=2))  # not in the registry
    _stored_fault(
        session, 30, "11SHA000001", "overrun_bottom", now - timedelta(hours=72)
    )  # before the lookback
    session.commit()
    worker = HazardWorker(session_factory, clock, Settings(timezone="Asia/Shanghai"))
    with caplog.at_level(logging.WARNING, logger="liftwatch.hazards.worker"):
        assert worker.scan() == 2
    assert any("11SHZ999999" in r.getMessage() and "not reported" in r.getMessage() for r in caplog.records)
    rows = {h.source_ref: h for h in session.scalars(select(Hazard))}
    assert set(rows) == {"fault:scan-1", "repeat:door_close_failure:scan-14"}
    assert rows["fault:scan-1"].level == HazardLevel.MAJOR.value
    assert rows["fault:scan-1"].registration_code == "11SHA000001"
    assert rows["repeat:door_close_failure:scan-14"].level == HazardLevel.GENERAL.value
    assert worker.scan() == 0  # seen again: no second hazard
    # a sixth door fault while the recurring-fault hazard is open opens nothing either
    _stored_fault(session, 15, "11SHA000002", "door_close_failure", now - timedelta(minutes=5))
    session.commit()
    assert worker.scan() == 0
    assert (
        session.scalar(select(Hazard.id).where(Hazard.source_ref == "repeat:door_close_failure:scan-15"))
        is None
    )
    assert worker.found == 2
    assert service.open_counts_by_level(session)["11SHA000001"] == {HazardLevel.MAJOR.value: 1}


def test_the_scan_runs_on_its_period_only(
    session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    worker = HazardWorker(session_factory, clock, Settings(hazard_sources_every_s=60))
    calls: list[datetime] = []
    worker.scan = lambda: calls.append(clock.now()) or 0  # type: ignore[method-assign]
    worker.scan_if_due()
    clock.advance(timedelta(seconds=59))
    worker.scan_if_due()
    clock.advance(timedelta(seconds=1))
    worker.scan_if_due()
    assert len(calls) == 2 and calls[1] - calls[0] == timedelta(seconds=60)
