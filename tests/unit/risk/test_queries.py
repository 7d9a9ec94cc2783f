"""The city-wide reads risk grading counts with (one GROUP BY per domain, {code: count or days}) and the
facts gathered from them, on a tiny hand-made data set: the rows are written straight into each domain's
tables so every window edge and every excluded kind is placed by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards.models import Hazard
from liftwatch.inspection import service as inspection
from liftwatch.inspection.models import Inspection, Nonconformity
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.maintenance.models import MaintenanceContract, MaintenanceFlag, MaintenanceRecord, WorkOrder
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue.models import Incident
from liftwatch.risk import queries
from liftwatch.telemetry import queries as telemetry_queries
from liftwatch.telemetry.models import Fault, LiveStatus, ServiceStateChange
from tests.conftest import NOW
from tests.factories import seed

A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
TODAY = date(2026, 11, 23)


def _fault(session: Session, code: str, days_ago: float, kind: str = "door_fault") -> None:
    at = NOW - timedelta(days=days_ago)
    n = session.query(Fault).count()
    session.add(
        Fault(
            fault_id=f"f{n}",
            registration_code=code,
            fault_type=kind,
            severity="major",
            started_at=at,
            raised_at=at,
        )
    )


def _incident(session: Session, code: str, days_ago: float, **closed: datetime) -> None:
    at = NOW - timedelta(days=days_ago)
    session.add(
        Incident(
            registration_code=code,
            source="terminal",
            status="completed",
            level="L1",
            arrival_limit_min=30,
            alarm_at=at,
            created_at=at,
            updated_at=at,
            **closed,
        )
    )


def _order(session: Session, code: str, due: datetime, state: str = "open", kind: str = "preventive") -> int:
    wo = WorkOrder(
        registration_code=code,
        unit_code="MU-A",
        kind=kind,
        source="plan",
        state=state,
        due_at=due,
        created_at=NOW,
        created_by="t",
        updated_at=NOW,
    )
    session.add(wo)
    session.flush()
    return wo.id


def _flag(session: Session, code: str, state: str, days_ago: float) -> None:
    wo = _order(session, code, NOW, state="completed")
    rec = MaintenanceRecord(
        work_order_id=wo,
        registration_code=code,
        worker="w",
        check_in_at=NOW,
        check_in_lat=31.2,
        check_in_lon=121.4,
        scanned_code="100001",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(rec)
    session.flush()
    session.add(
        MaintenanceFlag(
            key=f"k{wo}",
            work_order_id=wo,
            record_id=rec.id,
            registration_code=code,
            unit_code="MU-A",
            worker="w",
            kind="too_short",
            state=state,
            created_at=NOW - timedelta(days=days_ago),
        )
    )


def _inspection(
    session: Session, code: str, due: date, signed: bool, kind: str = "periodic", performed_days_ago: int = 30
) -> Inspection:
    at = NOW - timedelta(days=performed_days_ago) if signed else None
    row = Inspection(
        registration_code=code,
        kind=kind,
        body_unit_code="IB",
        inspector="i",
        scheduled_date=due,
        due_date=due,
        performed_at=at,
        signed_at=at,
        conclusion="pass_rectified" if signed else None,
        created_at=NOW,
        created_by="t",
        updated_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def city(session: Session, clock: FixedClock) -> Session:
    seed(session, clock)
    return session


def test_fault_counts_window_and_kinds(city: Session) -> None:
    s = city
    _fault(s, A1, 10)
    _fault(s, A1, 100)  # in the year only
    _fault(s, A1, 400)  # outside both
    _fault(s, A1, 5, "entrapment")  # rescue's count, not a fault
    _fault(s, A1, 5, "alarm_button")
    _fault(s, A1, 5, "terminal_offline")
    _fault(s, B3, 1)
    s.flush()
    assert telemetry_queries.fault_counts(s, NOW - timedelta(days=90)) == {A1: 1, B3: 1}
    assert telemetry_queries.fault_counts(s, NOW - timedelta(days=365)) == {A1: 2, B3: 1}
    assert telemetry_queries.fault_counts(s, NOW - timedelta(days=365), [B3, A2]) == {B3: 1}


def test_entrapment_counts_leave_out_false_alarms_and_cancellations(city: Session) -> None:
    s = city
    _incident(s, A1, 3)
    _incident(s, A1, 200)
    _incident(s, A1, 4, closed_false_at=NOW)
    _incident(s, A1, 4, cancelled_at=NOW)
    _incident(s, B4, 30)
    s.flush()
    assert rescue_queries.entrapment_counts(s, NOW - timedelta(days=90)) == {A1: 1, B4: 1}
    assert rescue_queries.entrapment_counts(s, NOW - timedelta(days=365), [A1]) == {A1: 2}


def test_trips_per_day_from_the_counters(city: Session) -> None:
    s = city
    s.add(LiveStatus(registration_code=A1, last_seen_at=NOW, trips=13_000, updated_at=NOW))
    s.add(
        ServiceStateChange(
            registration_code=A1,
            at=NOW - timedelta(days=10),
            kind="mode",
            value=0,
            trips=10_000,
            recorded_at=NOW,
        )
    )
    s.add(
        ServiceStateChange(
            registration_code=A1,
            at=NOW - timedelta(days=5),
            kind="mode",
            value=1,
            trips=11_000,
            recorded_at=NOW,
        )
    )
    s.add(LiveStatus(registration_code=A2, last_seen_at=NOW, trips=500, updated_at=NOW))  # no change recorded
    s.flush()
    assert telemetry_queries.trips_per_day(s, NOW) == {A1: 300.0}  # 3,000 trips over the 10 days


def test_maintenance_reads(city: Session) -> None:
    s = city
    _order(s, A1, NOW - timedelta(days=12))  # the oldest open visit counts
    _order(s, A1, NOW - timedelta(days=2))
    _order(s, A2, NOW - timedelta(days=30), state="completed")  # signed: not overdue
    _order(s, B3, NOW + timedelta(days=3))  # not due yet
    _order(s, B4, NOW - timedelta(days=20), kind="corrective")  # a repair, not a visit
    _flag(s, A1, "confirmed", 10)
    _flag(s, A1, "confirmed", 400)  # older than the year
    _flag(s, A2, "open", 1)
    _flag(s, B3, "dismissed", 1)
    s.add(
        MaintenanceContract(
            registration_code=A1,
            unit_code="MU-A",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            model="traditional",
            price_fen=1,
            created_at=NOW,
            created_by="t",
        )
    )
    s.add(
        MaintenanceContract(
            registration_code=A2,
            unit_code="MU-A",
            start_date=date(2025, 1, 1),
            end_date=date(2025, 12, 31),
            model="traditional",
            price_fen=1,
            created_at=NOW,
            created_by="t",
        )
    )
    s.flush()
    assert maintenance_queries.preventive_overdue_days(s, NOW) == {A1: 12.0}
    assert maintenance_queries.confirmed_flag_counts(s, NOW - timedelta(days=365)) == {A1: 1}
    assert maintenance_queries.codes_with_valid_contract(s, TODAY) == {A1}
    assert maintenance_queries.codes_with_valid_contract(s, TODAY, [A2]) == set()


def test_inspection_reads(city: Session) -> None:
    s = city
    _inspection(s, A1, TODAY - timedelta(days=40), signed=False)
    _inspection(s, A2, TODAY, signed=False)  # due today: still on time
    _inspection(s, B3, TODAY - timedelta(days=5), signed=False, kind="self_test")
    assert inspection.inspection_overdue_days(s, TODAY) == {A1: 40}

    old = _inspection(s, B4, TODAY, signed=True, performed_days_ago=400)
    latest = _inspection(s, B4, TODAY, signed=True, performed_days_ago=30)
    done = _order(s, B4, NOW, state="completed", kind="corrective")
    pending = _order(s, B4, NOW, state="assigned", kind="corrective")
    for i, (row, wo) in enumerate([(old, None), (latest, None), (latest, done), (latest, pending)]):
        s.add(
            Nonconformity(
                inspection_id=row.id,
                item_no=i,
                text="x",
                severity="minor",
                rectify_by=TODAY,
                work_order_id=wo,
            )
        )
    s.flush()
    # the latest inspection's items without an order or with an unfinished one; the older report is past
    assert inspection.open_nonconformity_counts(s) == {B4: 2}
    assert inspection.open_nonconformity_counts(s, [A1]) == {}


def test_gather_builds_the_facts_of_every_elevator_in_use(city: Session, clock: FixedClock) -> None:
    s = city
    _fault(s, A1, 10)
    _incident(s, A1, 3)
    _order(s, A1, NOW - timedelta(days=12))
    _flag(s, A1, "confirmed", 10)
    for n, state in enumerate(("reported", "rectifying", "verified")):  # the verified one is closed
        s.add(
            Hazard(registration_code=A1, source="inspection", source_ref=f"h{n}", level="general",
                   description="x", responsible_unit="UU-A", deadline=NOW, deadline_set_by="t", state=state,
                   supervised=False, reported_by="t", reported_at=NOW, verified_by="", close_reason="",
                   updated_at=NOW)
        )  # fmt: skip
    s.flush()
    full = {g.facts.elevator: g for batch in queries.gather(s, clock, Settings(), batch=3) for g in batch}
    assert sorted(full) == [A1, A2, B3, B4]
    a1 = full[A1].facts
    assert (a1.faults_90d, a1.faults_365d, a1.entrapments_90d, a1.entrapments_365d) == (1, 1, 1, 1)
    assert (a1.maintenance_overdue_days, a1.confirmed_fake_flags) == (12.0, 1)
    assert a1.open_hazards_general == 2 and full[A2].facts.open_hazards_general == 0
    assert a1.place_type == "residential" and a1.age_years == 21.7 and full[A1].district == "静安区"
    assert full[B3].facts.place_type == "mall" and full[B3].facts.faults_90d == 0
    # one district, and the incremental run of named codes, read the same facts for theirs
    district = [g.facts for b in queries.gather(s, clock, Settings(), district="静安区") for g in b]
    assert sorted(f.elevator for f in district) == [A1, A2]
    named = [g.facts for b in queries.gather(s, clock, Settings(), codes=[A1, "NOPE"]) for g in b]
    assert named == [a1]
