"""The plan job (maintenance/schedule.py) on a controlled clock: each valid contract's next visit becomes a
preventive work order a few days ahead, once, with its reasons stored. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance import plans, schedule, service
from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import Appendix, Evidence, Interval, MaintenanceModel
from liftwatch.maintenance.service import ItemEntry
from liftwatch.maintenance.workflow import ItemResult
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.models import Fault
from tests.unit.maintenance.workorder_city import contract, people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(maintenance_plan_days_ahead=3)  # Asia/Shanghai: 09:00 UTC is 17:00 the same day
CODE = "11SHA000001"


def _go(clock: FixedClock, day: date) -> None:
    """Move the clock forward to 17:00 in Shanghai on ``day`` (the hour of NOW)."""
    clock.advance(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC) - clock.now())


def _preventive(session: Session, code: str = CODE) -> list[service.StoredWorkOrder]:
    return [o for o in service.list_work_orders(session, SYSTEM_ACTOR, code) if o.kind == "preventive"]


def _do_visit(session: Session, worker: Actor, wo: int, clock: FixedClock) -> None:
    """maint_a does the whole visit: every item its interval carries, then signs."""
    order = service.get_work_order(session, worker, wo)
    service.assign(session, worker, wo, "maint_a", clock)
    service.check_in(session, worker, wo, 31.23, 121.47, "100001", clock)
    items = [
        ItemEntry(i.code, ItemResult.OK, 1.0 if i.evidence is Evidence.MEASUREMENT else None)
        for i in load_catalogue().items_due(Appendix.A, Interval(order.interval or "half_month"))
    ]
    service.record_results(session, worker, wo, items, [], clock)
    clock.advance(timedelta(hours=2))
    service.check_out(session, worker, wo, 31.23, 121.47, clock)
    service.sign(session, worker, wo, clock)
    session.commit()


def test_a_traditional_contract_gets_its_visit_three_days_ahead_once(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
) -> None:
    p = people
    service.create_contract(session, p["admin"], contract(start=date(2026, 11, 15)), clock)
    session.commit()
    _go(clock, date(2026, 11, 23))  # first visit due 11-30: not yet within 3 days
    run = schedule.open_due_orders(session_factory, clock, SETTINGS)
    assert (run.opened, run.skipped) == ([], 1)
    _go(clock, date(2026, 11, 27))
    run = schedule.open_due_orders(session_factory, clock, SETTINGS)
    assert len(run.opened) == 1 and run.failed == 0
    (order,) = _preventive(session)
    assert (order.planned_date, order.interval, order.source_ref) == (
        date(2026, 11, 30), "half_month", "contract:1:2026-11-30",
    )  # fmt: skip
    plan = schedule.plan_of(session, order)
    assert plan is not None
    assert plan["reasons"] == [{"code": "traditional", "days": 15}]
    assert plan["due"] == "2026-11-30" and plan["unknown"] == []
    assert "contract start" in plan["explanation"]
    # the next run (and the day after) opens nothing while that order is not done
    assert schedule.open_due_orders(session_factory, clock, SETTINGS).opened == []
    clock.advance(timedelta(days=1))
    assert schedule.open_due_orders(session_factory, clock, SETTINGS).opened == []
    # done on 11-28: the next is due 15 days after it, opened 3 days ahead
    _do_visit(session, p["maint_a"], order.id, clock)
    _go(clock, date(2026, 12, 9))
    assert schedule.open_due_orders(session_factory, clock, SETTINGS).opened == []
    _go(clock, date(2026, 12, 10))
    assert len(schedule.open_due_orders(session_factory, clock, SETTINGS).opened) == 1
    latest = max(_preventive(session), key=lambda o: o.id)
    assert (latest.planned_date, latest.interval) == (date(2026, 12, 13), "half_month")


def test_an_overdue_first_visit_is_planned_for_today(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
) -> None:
    service.create_contract(session, people["admin"], contract(start=date(2026, 10, 1)), clock)
    session.commit()
    run = schedule.open_due_orders(session_factory, clock, SETTINGS)
    (order,) = _preventive(session)
    assert run.opened == [order.id]
    assert order.planned_date == date(2026, 11, 23)  # due 10-16, long past: today
    plan = schedule.plan_of(session, order)
    assert plan is not None and plan["due"] == "2026-10-16"


def test_an_on_demand_visit_comes_closer_with_faults_and_says_why(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    people: dict[str, Actor],
) -> None:
    terms = contract(start=date(2026, 11, 1))
    on_demand = service.ContractTerms(**{**terms.__dict__, "model": MaintenanceModel.ON_DEMAND})
    stored = service.create_contract(session, people["admin"], on_demand, clock)
    session.commit()
    seen: list[tuple[str, datetime]] = []

    def quiet(_: Session, code: str, since: datetime) -> plans.Usage:
        seen.append((code, since))
        return plans.Usage()

    def faulty(_: Session, code: str, since: datetime) -> plans.Usage:
        return plans.Usage(faults=2, entrapments=1, unknown=("trips", "door_cycles"))

    # quiet, but new: no visit yet, so the interval grows from the traditional 15 days to 30, not 90
    assert schedule.open_due_orders(session_factory, clock, SETTINGS, quiet).opened == []
    assert seen == [(CODE, datetime(2026, 10, 31, 16, 0, tzinfo=UTC))]  # since the start, city midnight
    planned = schedule.next_visit(session, stored, date(2026, 11, 23), SETTINGS, quiet)
    assert planned.due == date(2026, 12, 1)
    assert [r.code for r in planned.reasons] == ["growth_capped"]
    # 2 faults and an entrapment: 90 - 30 - 45 = 15 days after 11-01, past: planned today
    run = schedule.open_due_orders(session_factory, clock, SETTINGS, faulty)
    (order,) = _preventive(session)
    assert run.opened == [order.id] and order.planned_date == date(2026, 11, 23)
    plan = schedule.plan_of(session, order)
    assert plan is not None and plan["due"] == "2026-11-16"
    assert [r["code"] for r in plan["reasons"]] == ["faults", "entrapments", "growth_capped"]
    assert plan["unknown"] == ["trips", "door_cycles"]
    assert "trips and door cycles since the last visit unknown (counted as none)" in plan["explanation"]
    assert order.interval == "year"  # a new contract's first visit carries everything


def test_usage_from_the_database_counts_faults_and_incidents_since_the_last_visit(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    since = clock.now() - timedelta(days=10)
    for n, (kind, days_ago) in enumerate(
        [("door_fault", 3), ("overspeed", 5), ("door_fault", 20), ("entrapment", 2)]
    ):
        at = clock.now() - timedelta(days=days_ago)
        session.add(
            Fault(
                fault_id=f"f{n}",
                registration_code=CODE,
                fault_type=kind,
                severity="major",
                started_at=at,
                raised_at=at,
                cleared_at=None,
                evidence=[],
                clear_evidence=[],
                detail={},
            )
        )
    rescue.report(session, SYSTEM_ACTOR, rescue.Report(CODE, Source.PHONE), clock, rescue.RescueSettings())
    session.commit()
    usage = schedule.usage_from_database(session, CODE, since)
    # the entrapment fault counts once, as its incident; the fault 20 days ago is before the last visit
    # no terminal readings: trips and door cycles unknown
    assert usage == plans.Usage(faults=2, entrapments=1, unknown=("trips", "door_cycles"))
    assert schedule.usage_from_database(session, "11SHA000002", since) == plans.Usage(
        unknown=("trips", "door_cycles")
    )


def _live(session: Session, at: datetime, trips: int | None, doors: int | None) -> None:
    row = {
        "registration_code": CODE,
        "last_seen_at": at,
        "online": True,
        "open_faults": [],
        "updated_at": at,
        "trips": trips,
        "door_cycles": doors,
    }
    telemetry.upsert_live_status(session, [row])
    session.commit()


def _reading(session: Session, at: datetime, kind: str, value: int, trips: int, doors: int | None) -> None:
    row = telemetry.state_change_row(CODE, int(at.timestamp() * 1000), kind, value, None, trips, doors, at)
    telemetry.record_state_changes(session, [row])
    session.commit()


def test_trips_and_door_cycles_since_the_last_visit_come_from_the_counters(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """Count now less the reading around ``since``: the newest within a day before it, else the first
    within a day after (the visit's own switch to inspection); a count that went back is unknown."""
    since = clock.now() - timedelta(days=10)
    _reading(session, since - timedelta(days=20), "mode", 1, 1_000, 2_000)  # the visit before: too old
    assert schedule.counts_since(session, CODE, since) == (None, None)  # no count now
    _live(session, clock.now(), 4_000, None)
    assert schedule.counts_since(session, CODE, since) == (None, None)  # no reading near the last visit
    _reading(session, since + timedelta(hours=9), "mode", 2, 1_500, 3_100)  # switched to inspection
    assert schedule.counts_since(session, CODE, since) == (2_500, None)  # door cycles not counted now
    _reading(session, since - timedelta(hours=2), "online", 1, 1_400, 2_900)  # just before: preferred
    _live(session, clock.now(), 4_000, 9_000)
    usage = schedule.usage_from_database(session, CODE, since)
    assert (usage.trips, usage.door_cycles, usage.unknown) == (2_600, 6_100, ())
    _live(session, clock.now(), 12, 9_000)  # the terminal was replaced: its trips count from 0 again
    usage = schedule.usage_from_database(session, CODE, since)
    assert (usage.trips, usage.door_cycles, usage.unknown) == (0, 6_100, ("trips",))
