"""The figures of the ratings gathered from the other domains' reads for one period, on a small data set
written straight into each domain's tables so every edge (outside the period, false alarm, cancelled work,
re-inspection, unconfirmed flag) is placed by hand, and every figure worked out by hand below.

Period 2026-Q3: 1 July to 1 October 2026 (Shanghai), 3 months.

- Elevators: MU-A has A1 and A2 all year and B4 from 1 September (3 elevators); MU-B has B3 (its B4
  contract ended on 30 June: not counted): 1 elevator.
- Incidents in August: (1) A1, MU-A answered in 2 min, arrived after 20 min; (2) A2, MU-A answered after
  9 min (late: the limit is 5), arrived after 45 (late: 30); (3) A1 a false alarm (left out); (4) B3, MU-B
  answered in 1 min, arrived after 25; (5) B3 (MU-B's elevator) answered by MU-A sent at level 2 in 3 min,
  arrived after 28. One in October (outside).
  MU-A: entrapments on its elevators 2 (1, 2): 2 x 100 / 3 elevators / 3 months = 22.22 a month;
  response 2 of its 3 dispatches (1, 5), arrival 2 of 3.  MU-B: entrapments 2 (4, 5) on 1 elevator:
  66.67 a month; response 1 of 1 (its own dispatch only), arrival 1 of 1.
- Work due in the period: MU-A signed on time, signed late, never signed, cancelled (left out): 2 late of 3;
  one due in October (outside). MU-B one on time: 0 of 1.
- Periodic inspections signed in the period: MU-A pass and pass after rectification: 1 of 2 (a passed
  re-inspection is no attempt). MU-B none: no case (None).
- Fake-maintenance flags: MU-A one confirmed in August (an open one and one confirmed in October left out):
  1 x 100 / 3 = 33.33 per 100 over the period. MU-B none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.inspection.models import Inspection
from liftwatch.maintenance.models import MaintenanceContract, MaintenanceFlag, MaintenanceRecord, WorkOrder
from liftwatch.ratings import queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.models import Dispatch, Incident
from tests.conftest import NOW
from tests.factories import seed

A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
START = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 1 July 00:00 in Shanghai
END = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
AUG = datetime(2026, 8, 10, 2, 0, tzinfo=UTC)
KPI = rescue.kpi_settings(rescue.RescueSettings())


def contract(session: Session, code: str, unit: str, start: date, end: date) -> None:
    session.add(
        MaintenanceContract(
            registration_code=code,
            unit_code=unit,
            start_date=start,
            end_date=end,
            model="traditional",
            price_fen=1,
            created_at=NOW,
            created_by="t",
        )
    )


def incident(
    session: Session,
    code: str,
    unit: str,
    alarm: datetime,
    *dispatches: tuple[str, int, int],
    status: str = "",
) -> None:
    """An incident on ``code`` (contracted to ``unit``) with dispatches (unit, minutes to answer, to arrive
    after the alarm)."""
    inc = Incident(
        registration_code=code,
        source="phone",
        status=status or "completed",
        level="L1",
        maintenance_unit=unit,
        arrival_limit_min=30,
        alarm_at=alarm,
        dispatched_at=alarm + timedelta(minutes=1) if dispatches else None,
        closed_false_at=alarm + timedelta(minutes=5) if status == "false_alarm" else None,
        completed_at=alarm + timedelta(hours=1) if status != "false_alarm" else None,
        all_released=True,
        created_at=alarm,
        updated_at=alarm,
    )
    session.add(inc)
    session.flush()
    for who, answer, arrive in dispatches:
        session.add(
            Dispatch(
                incident_id=inc.id,
                level="L1" if who == unit else "L2",
                unit=who,
                dispatched_at=alarm + timedelta(minutes=1),
                acknowledged_at=alarm + timedelta(minutes=1 + answer),
                arrived_at=alarm + timedelta(minutes=arrive),
            )
        )


def work(session: Session, code: str, unit: str, due: datetime, signed: datetime | None, state: str) -> int:
    wo = WorkOrder(
        registration_code=code,
        unit_code=unit,
        kind="preventive",
        source="plan",
        state=state,
        due_at=due,
        completed_at=signed,
        created_at=NOW,
        created_by="t",
        updated_at=NOW,
    )
    session.add(wo)
    session.flush()
    return wo.id


def inspection(session: Session, code: str, unit: str, kind: str, conclusion: str, at: datetime) -> None:
    session.add(
        Inspection(
            registration_code=code,
            unit_code=unit,
            kind=kind,
            body_unit_code="IB-1",
            inspector="inspector",
            scheduled_date=at.date(),
            due_date=at.date(),
            performed_at=at,
            conclusion=conclusion,
            signed_at=at,
            created_at=at,
            created_by="t",
            updated_at=at,
        )
    )


def flag(session: Session, code: str, unit: str, state: str, at: datetime) -> None:
    before = at - timedelta(days=100)  # the visit flagged: due and signed before the period
    wo = work(session, code, unit, before, before, "completed")
    rec = MaintenanceRecord(
        work_order_id=wo,
        registration_code=code,
        worker="w",
        check_in_at=at,
        check_in_lat=31.2,
        check_in_lon=121.4,
        scanned_code="100001",
        created_at=at,
        updated_at=at,
    )
    session.add(rec)
    session.flush()
    n = session.query(MaintenanceFlag).count()
    session.add(
        MaintenanceFlag(
            key=f"k{n}",
            work_order_id=wo,
            record_id=rec.id,
            registration_code=code,
            unit_code=unit,
            worker="w",
            kind="too_short",
            state=state,
            created_at=at,
        )
    )


def hand_made_quarter(session: Session, clock: FixedClock) -> None:
    """The data set of the module docstring (MU-A and MU-B over 2026-Q3) on the seeded registry."""
    seed(session, clock)
    quarter_records(session)


def quarter_records(session: Session) -> None:
    """The module docstring's contracts, incidents, work, inspections and flags (the registry seeded)."""
    year = (date(2026, 1, 1), date(2026, 12, 31))
    contract(session, A1, "MU-A", *year)
    contract(session, A2, "MU-A", *year)
    contract(session, B4, "MU-A", date(2026, 9, 1), date(2027, 8, 31))
    contract(session, B3, "MU-B", *year)
    contract(session, B4, "MU-B", date(2025, 7, 1), date(2026, 6, 30))
    incident(session, A1, "MU-A", AUG, ("MU-A", 2, 20))
    incident(session, A2, "MU-A", AUG + timedelta(days=1), ("MU-A", 9, 45))
    incident(session, A1, "MU-A", AUG + timedelta(days=2), ("MU-A", 1, 10), status="false_alarm")
    incident(session, B3, "MU-B", AUG + timedelta(days=3), ("MU-B", 1, 25))
    incident(session, B3, "MU-B", AUG + timedelta(days=4), ("MU-A", 3, 28))
    incident(session, A1, "MU-A", END + timedelta(days=3), ("MU-A", 9, 50))  # October: outside
    due = AUG - timedelta(days=5)
    work(session, A1, "MU-A", due, due - timedelta(hours=2), "completed")  # on time
    work(session, A2, "MU-A", due, due + timedelta(days=3), "confirmed")  # late
    work(session, A1, "MU-A", due + timedelta(days=15), None, "open")  # never signed
    work(session, A2, "MU-A", due + timedelta(days=15), None, "cancelled")  # left out
    work(session, A1, "MU-A", END + timedelta(days=2), None, "open")  # October: outside
    work(session, B3, "MU-B", due, due - timedelta(days=1), "completed")
    inspection(session, A1, "MU-A", "periodic", "pass", AUG)
    inspection(session, A2, "MU-A", "periodic", "pass_after_rectification", AUG)
    inspection(session, A2, "MU-A", "re_inspection", "pass", AUG + timedelta(days=20))
    flag(session, A1, "MU-A", "confirmed", AUG)
    flag(session, A2, "MU-A", "open", AUG)
    flag(session, A2, "MU-A", "confirmed", END + timedelta(days=1))
    session.flush()


@pytest.fixture
def quarter(session: Session, clock: FixedClock) -> Session:
    hand_made_quarter(session, clock)
    return session


def test_each_units_figures_worked_by_hand(quarter: Session) -> None:
    got = queries.gather(quarter, START, END, date(2026, 7, 1), date(2026, 9, 30), 3, NOW, KPI)
    by_unit = {c.figures.unit: c for c in got}
    assert sorted(by_unit) == ["MU-A", "MU-B"]
    a, b = by_unit["MU-A"], by_unit["MU-B"]
    assert a.counts == {
        "elevators": 3,
        "months": 3,
        "entrapments": 2,
        "responses_on_time": 2,
        "responses": 3,
        "arrivals_on_time": 2,
        "arrivals": 3,
        "work_late": 2,
        "work_due": 3,
        "inspections_passed": 1,
        "inspections": 2,
        "fake_flags": 1,
        "complaints": 0,
    }
    f = a.figures
    assert f.elevators == 3 and f.entrapments_per_100 == pytest.approx(200 / 9)
    assert f.response_on_time_share == pytest.approx(2 / 3) and f.arrival_on_time_share == pytest.approx(
        2 / 3
    )
    assert f.overdue_work_share == pytest.approx(2 / 3) and f.inspection_pass_rate == 0.5
    assert f.fake_flags_per_100 == pytest.approx(100 / 3) and f.complaints_per_100 == 0
    g = b.figures
    assert g.elevators == 1 and g.entrapments_per_100 == pytest.approx(200 / 3)
    assert g.response_on_time_share == 1 and g.arrival_on_time_share == 1
    assert g.overdue_work_share == 0 and g.inspection_pass_rate is None and g.fake_flags_per_100 == 0
    assert b.counts["responses"] == 1 and b.counts["inspections"] == 0


def test_an_open_period_counts_only_what_is_decided(quarter: Session) -> None:
    # computed on 12 August: the work due on the 20th is not due yet, so not late
    now = datetime(2026, 8, 12, 0, 0, tzinfo=UTC)
    got = {
        c.figures.unit: c
        for c in queries.gather(quarter, START, END, date(2026, 7, 1), date(2026, 9, 30), 3, now, KPI)
    }
    assert got["MU-A"].counts["work_due"] == 2 and got["MU-A"].counts["work_late"] == 1
