"""The telemetry kinds of fake maintenance (no_inspection_mode, normal_service_during_visit,
terminal_offline): judged not at signing but by the work order's durable ``telemetry`` timer, due at
check-out + the mode slack and fired LIFTWATCH_MAINTENANCE_TELEMETRY_LAG_MIN later, from the pipeline's
record of the elevator's service mode and online state. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor
from liftwatch.core.clock import FixedClock, as_utc
from liftwatch.core.config import Settings
from liftwatch.maintenance import fakes, service
from liftwatch.maintenance.models import WorkOrderTimer
from liftwatch.maintenance.service import ItemEntry
from liftwatch.maintenance.workflow import ItemResult, TimerKind, WorkOrderSource
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.protocol import ServiceMode
from tests.factories import RESCUE_SITE
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

CODE = "11SHA000001"
SETTINGS = Settings(maintenance_telemetry_lag_min=15)
NORMAL, INSPECTION = int(ServiceMode.NORMAL), int(ServiceMode.INSPECTION)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _changes(session: Session, *rows: tuple[datetime, str, int, int | None]) -> None:
    """What the detector worker would have recorded: (time, kind, value, trips)."""
    telemetry.record_state_changes(
        session,
        [
            telemetry.state_change_row(CODE, _ms(at), kind, value, None, trips, None, at)
            for at, kind, value, trips in rows
        ],
    )
    session.commit()


def _signed_visit(session: Session, p: dict[str, Actor], clock: FixedClock, terminal: bool = True) -> int:
    """maint_a's 40-minute visit on CODE at its site, signed at check-out (NOW + 40 min)."""
    registry.update_elevator(
        session,
        SYSTEM_ACTOR,
        CODE,
        ElevatorUpdate(
            latitude=RESCUE_SITE.lat, longitude=RESCUE_SITE.lon, iot_terminal_id="T-0001" if terminal else ""
        ),
        clock,
    )
    wo = service.open_corrective(
        session, p["admin"], CODE, WorkOrderSource.FAULT, "T-1", "门锁故障", clock, SETTINGS
    ).work_order.id
    service.assign(session, p["maint_a"], wo, "maint_a", clock)
    service.check_in(session, p["maint_a"], wo, RESCUE_SITE.lat, RESCUE_SITE.lon, "100001", clock)
    service.record_results(session, p["maint_a"], wo, [ItemEntry("A1-03", ItemResult.OK)], [], clock)
    clock.advance(timedelta(minutes=40))
    service.check_out(session, p["maint_a"], wo, RESCUE_SITE.lat, RESCUE_SITE.lon, clock)
    service.sign(session, p["maint_a"], wo, clock)
    session.commit()
    return wo


def _kinds(session: Session, p: dict[str, Actor]) -> list[str]:
    session.expire_all()
    return sorted(f.kind for f in service.list_flags(session, p["regulator"]))


def _timers(session: Session, wo: int) -> list[Any]:
    session.expire_all()
    return list(
        session.scalars(
            select(WorkOrderTimer).where(
                WorkOrderTimer.work_order_id == wo, WorkOrderTimer.kind == TimerKind.TELEMETRY.value
            )
        )
    )


def test_a_visit_without_inspection_mode_is_flagged_by_its_timer_after_a_restart(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    """The terminal stayed in normal service the whole visit. At signing nothing telemetry-based is
    flagged and one timer waits (check-out + 10 min slack); it does not fire before the lag has passed;
    fired from another session and clock (a restarted worker) it stores the flag once."""
    check_in = clock.now()
    _changes(session, (check_in - timedelta(hours=3), "mode", NORMAL, 5000))
    wo = _signed_visit(session, people, clock)
    assert _kinds(session, people) == []
    (timer,) = _timers(session, wo)
    check_out = check_in + timedelta(minutes=40)
    assert as_utc(timer.due_at) == check_out + timedelta(minutes=10) and timer.fired_at is None

    clock.advance(timedelta(minutes=24))  # due + 14 min: within the pipeline's lag
    assert service.fire_due_timers(session, clock, SETTINGS) == []
    session.commit()
    assert _kinds(session, people) == [] and _timers(session, wo)[0].fired_at is None

    restarted = FixedClock(check_out + timedelta(minutes=26))
    with session_factory() as fresh:
        assert service.fire_due_timers(fresh, restarted, SETTINGS) == []  # no notices: flags only
        fresh.commit()
    assert _kinds(session, people) == ["no_inspection_mode"]
    flag = service.list_flags(session, people["regulator"])[0]
    assert (flag.state, flag.work_order_id, flag.evidence["inspection_minutes"]) == ("open", wo, 0.0)
    assert _timers(session, wo)[0].fired_at is not None
    # fired once; judging again adds nothing
    with session_factory() as fresh:
        assert service.fire_due_timers(fresh, restarted, SETTINGS) == []
        order = service.get_work_order(fresh, people["admin"], wo)
        again = service.judge_telemetry(fresh, order, restarted.now())
        fresh.commit()
    assert again is not None and [f.kind for f in again.flags] == [fakes.FakeKind.NO_INSPECTION_MODE]
    assert _kinds(session, people) == ["no_inspection_mode"]


def test_a_terminal_silent_over_the_visit_is_flagged_and_an_honest_visit_is_not(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    check_in = clock.now()
    _changes(
        session,
        (check_in - timedelta(hours=3), "mode", NORMAL, 5000),
        (check_in - timedelta(minutes=5), "online", 0, 5010),  # went silent 5 min before check-in
        (check_in + timedelta(minutes=50), "online", 1, 5010),
    )
    _signed_visit(session, people, clock)
    clock.advance(timedelta(minutes=30))
    service.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    assert _kinds(session, people) == ["terminal_offline"]
    flag = service.list_flags(session, people["regulator"])[0]
    assert flag.evidence["offline_minutes"] == 40.0 and flag.evidence["offline_before_check_in_min"] == 5.0


def test_an_honest_visit_in_inspection_mode_is_not_flagged(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    check_in = clock.now()
    _changes(
        session,
        (check_in - timedelta(hours=3), "mode", NORMAL, 5000),
        (check_in + timedelta(minutes=3), "mode", INSPECTION, 5040),
        (check_in + timedelta(minutes=36), "mode", NORMAL, 5042),
    )
    wo = _signed_visit(session, people, clock)
    clock.advance(timedelta(minutes=30))
    service.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    assert _kinds(session, people) == []
    order = service.get_work_order(session, people["admin"], wo)
    judged = service.judge_telemetry(session, order, clock.now())
    assert judged is not None and judged.flags == () and judged.not_judged == ()


def test_an_elevator_without_a_terminal_gets_no_timer_and_says_why(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    wo = _signed_visit(session, people, clock, terminal=False)
    assert _timers(session, wo) == []
    order = service.get_work_order(session, people["admin"], wo)
    record = service.records_of(session, order)[0]
    judgement = service.judge_record(session, order, record, clock.now())
    reasons = {n.kind: n.reason for n in judgement.not_judged}
    assert {reasons[k] for k in fakes.TELEMETRY_KINDS} == {"no IoT terminal"}


def test_the_summary_spreads_the_trip_counter_over_normal_service() -> None:
    """runs: the counter's rise between two readings spread evenly, kept inside normal-service spans."""
    from liftwatch.telemetry import queries

    t0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    span = queries.Span(t0, t0 + timedelta(hours=4))
    history = queries.ServiceHistory(
        window=span,
        online=(span,),
        modes={},
        changes=(
            queries.Change(t0 + timedelta(hours=1), "mode", INSPECTION, NORMAL, 1060, None),
            queries.Change(t0 + timedelta(hours=2), "mode", NORMAL, INSPECTION, 1060, None),
        ),
        before=(queries.Change(t0 - timedelta(hours=1), "mode", NORMAL, None, 1000, None),),
        heard=True,
    )
    normal = [queries.Span(t0, t0 + timedelta(hours=1)), queries.Span(t0 + timedelta(hours=2), span.end)]
    now = queries.Counters(t0 + timedelta(hours=3), 1090, None)
    runs = service._runs(history, normal, now)
    # 60 trips over 2 h before the switch: 30 in the window; none in inspection; 30 in the hour after
    assert len(runs) == 60
    assert all(not (t0 + timedelta(hours=1) <= r.start < t0 + timedelta(hours=2)) for r in runs)
