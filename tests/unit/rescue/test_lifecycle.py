"""Incident lifecycle and three-level escalation with a controlled clock, on SQLite and PostgreSQL:
every path asserts each timestamp and level. Deadlines are database rows, so a "restarted" process (a new
session and nothing in memory) fires them at the right time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, NotFound
from liftwatch.registry import service as registry
from liftwatch.registry.models import ElevatorEvent
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, Source
from liftwatch.rescue.models import Incident, IncidentEvent, RescueTimer
from tests.factories import RESCUE_SITE, km_north

OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
CODE = "11SHA000001"  # maintained by MU-A
SITE = RESCUE_SITE
SETTINGS = rescue.RescueSettings()


def crew(username: str) -> Actor:
    return Actor(username, Role.MAINTENANCE)


def _phone(session: Session, clock: FixedClock, **kw: object) -> rescue.Outcome:
    call = rescue.Report(CODE, Source.PHONE, caller_name="张先生", **kw)  # type: ignore[arg-type]
    out = rescue.report(session, OPERATOR, call, clock, SETTINGS)
    session.commit()
    return out


def test_l1_in_time(session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    out = _phone(session, clock, persons_trapped=2)
    inc = out.incident
    assert out.created and inc.level == "L1" and inc.status == "dispatched"
    assert inc.crew_id == "A1" and inc.responder_unit == "MU-A"  # the nearest crew of the contracted unit
    assert inc.alarm_at == t0 and inc.dispatched_at == t0 and inc.arrival_limit_min == 30
    clock.advance(timedelta(minutes=1))
    rescue.acknowledge(session, crew("crew_a1"), inc.id, clock)
    clock.advance(timedelta(minutes=11))
    rescue.arrive(session, crew("crew_a1"), inc.id, clock)
    clock.advance(timedelta(minutes=3))
    rescue.release(session, crew("crew_a1"), inc.id, clock)
    clock.advance(timedelta(minutes=20))
    rescue.complete(session, crew("crew_a1"), inc.id, clock, SETTINGS, Cause.MISUSE, "乘客扒门")
    session.commit()
    clock.advance(timedelta(hours=2))
    assert rescue.fire_due_timers(session, clock, SETTINGS) == []  # every deadline was cancelled
    session.commit()
    inc = session.get(Incident, inc.id)
    assert inc is not None
    assert (inc.acknowledged_at, inc.arrived_at, inc.released_at, inc.completed_at) == (
        t0 + timedelta(minutes=1),
        t0 + timedelta(minutes=12),
        t0 + timedelta(minutes=15),
        t0 + timedelta(minutes=35),
    )
    assert inc.level == "L1" and inc.status == "completed" and inc.cause == "misuse" and inc.all_released
    kinds = [e.kind for e in session.scalars(select(IncidentEvent).order_by(IncidentEvent.id))]
    assert kinds == ["raised", "dispatched", "acknowledged", "arrived", "released", "completed"]
    on_file = session.scalar(
        select(func.count()).select_from(ElevatorEvent).where(ElevatorEvent.kind.like("incident_%"))
    )
    assert on_file == 6


def test_no_acknowledgement_goes_to_l2(session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    inc = _phone(session, clock).incident
    clock.advance(timedelta(minutes=4, seconds=59))
    assert rescue.fire_due_timers(session, clock, SETTINGS) == []
    clock.advance(timedelta(seconds=30))
    notices = rescue.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    assert [(n.kind, n.level) for n in notices] == [("escalated", "L2"), ("dispatched", "L2")]
    inc = session.get(Incident, inc.id)
    assert inc is not None
    assert inc.level == "L2" and inc.crew_id == "RS1" and inc.responder_unit == "RS-1"
    assert inc.escalated_l2_at == t0 + timedelta(minutes=5)  # dated at the deadline, not when noticed
    assert inc.dispatched_at == t0  # the first dispatch: the L2 one is a row of its own
    rescue.acknowledge(session, crew("crew_rs"), inc.id, clock)
    rescue.acknowledge(session, crew("crew_a1"), inc.id, clock)  # the L1 crew is still on the job
    levels = [
        (d.level, d.crew_id, d.acknowledged_at) for d in rescue.dispatches_of(session, OPERATOR, inc.id)
    ]
    assert levels == [("L1", "A1", clock.now()), ("L2", "RS1", clock.now())]


def test_late_arrival_goes_to_l2_then_l3(session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    inc = _phone(session, clock).incident
    clock.advance(timedelta(minutes=2))
    rescue.acknowledge(session, crew("crew_a1"), inc.id, clock)
    session.commit()
    clock.advance(timedelta(minutes=29))  # 31 min after the alarm, not arrived
    notices = rescue.fire_due_timers(session, clock, SETTINGS)
    assert notices[0].kind == "escalated" and notices[0].details == {"reason": "late_arrival"}
    session.commit()
    inc = session.get(Incident, inc.id)
    assert inc is not None and inc.level == "L2" and inc.escalated_l2_at == t0 + timedelta(minutes=30)
    clock.advance(timedelta(minutes=10))  # 41 min: limit + 10 min grace passed
    notices = rescue.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    assert [(n.kind, n.level, n.details.get("call")) for n in notices] == [("escalated", "L3", "119")]
    inc = session.get(Incident, inc.id)
    assert inc is not None and inc.level == "L3" and inc.escalated_l3_at == t0 + timedelta(minutes=40)


def test_predicted_late_arrival_escalates_at_once(session: Session, clock: FixedClock, city: None) -> None:
    for crew_id in ("A1", "A2"):  # the contracted unit's crews are 80 km away
        c = session.get(rescue.Crew, crew_id)
        assert c is not None
        c.latitude = km_north(80).lat
    session.commit()
    out = _phone(session, clock)
    assert [(n.kind, n.level) for n in out.notices][:3] == [
        ("raised", "L1"),
        ("dispatched", "L1"),
        ("escalated", "L2"),
    ]
    assert out.incident.level == "L2" and out.incident.crew_id == "RS1"


def test_false_alarm_closes_and_cancels(session: Session, clock: FixedClock, city: None) -> None:
    inc = _phone(session, clock).incident
    clock.advance(timedelta(minutes=2))
    rescue.false_alarm(session, OPERATOR, inc.id, clock, SETTINGS, "乘客已自行离开")
    session.commit()
    clock.advance(timedelta(hours=1))
    assert rescue.fire_due_timers(session, clock, SETTINGS) == []
    inc = session.get(Incident, inc.id)
    assert inc is not None and inc.status == "false_alarm" and inc.level == "L1"
    crew_a1 = session.get(rescue.Crew, "A1")
    assert crew_a1 is not None and crew_a1.busy_incident_id is None
    again = _phone(session, clock)  # the elevator has no open incident any more: a new one
    assert again.created and again.incident.id != inc.id
    with pytest.raises(Forbidden):
        rescue.false_alarm(session, crew("crew_a1"), again.incident.id, clock, SETTINGS)


def test_calls_join_the_iot_incident(session: Session, clock: FixedClock, city: None) -> None:
    fault = rescue.Report(CODE, Source.IOT, fault_id="11SHA000001:entrapment:1")
    iot = rescue.report(session, OPERATOR, fault, clock, SETTINGS)
    session.commit()
    clock.advance(timedelta(seconds=40))
    call = _phone(session, clock, persons_trapped=1)
    again = rescue.report(session, OPERATOR, fault, clock, SETTINGS)
    by_rescue_code = rescue.report(session, OPERATOR, rescue.Report("100001", Source.PUBLIC), clock, SETTINGS)
    session.commit()
    assert iot.created and not call.created and not again.created and not by_rescue_code.created
    assert call.incident.id == again.incident.id == by_rescue_code.incident.id == iot.incident.id
    assert session.scalar(select(func.count()).select_from(Incident)) == 1
    kinds = [e.kind for e in session.scalars(select(IncidentEvent).order_by(IncidentEvent.id))]
    assert kinds.count("joined") == 2  # the phone call and the public report; the redelivery adds nothing
    assert call.incident.persons_trapped == 1


def test_a_fault_that_joined_is_taken_in_once_whenever_it_comes_again(
    session: Session, clock: FixedClock, city: None
) -> None:
    """An alarm button pressed during an entrapment joins the entrapment's incident. Delivered again (a
    redelivery, a restore that re-reads the FAULTS stream), it must not join twice, nor, once the incident
    is closed, open a second incident for a person who is no longer trapped."""
    entrapment = rescue.Report(CODE, Source.IOT, fault_id="11SHA000001:entrapment:1")
    button = rescue.Report(CODE, Source.IOT, fault_id="11SHA000001:alarm_button:1")
    opened = rescue.report(session, OPERATOR, entrapment, clock, SETTINGS)
    clock.advance(timedelta(seconds=20))
    joined = rescue.report(session, OPERATOR, button, clock, SETTINGS)
    session.commit()
    assert opened.created and not joined.created and joined.incident.id == opened.incident.id
    again = rescue.report(session, OPERATOR, button, clock, SETTINGS)
    session.commit()
    assert not again.created and again.incident.id == opened.incident.id

    inc = opened.incident
    rescue.acknowledge(session, crew("crew_a1"), inc.id, clock)
    rescue.arrive(session, crew("crew_a1"), inc.id, clock)
    rescue.release(session, crew("crew_a1"), inc.id, clock)
    rescue.complete(session, crew("crew_a1"), inc.id, clock, SETTINGS, Cause.MISUSE, "")
    session.commit()
    clock.advance(timedelta(minutes=5))
    for fault in (button, entrapment):  # both again, after the incident closed
        late = rescue.report(session, OPERATOR, fault, clock, SETTINGS)
        assert not late.created and late.incident.id == inc.id
    session.commit()
    assert session.scalar(select(func.count()).select_from(Incident)) == 1
    kinds = [e.kind for e in session.scalars(select(IncidentEvent).order_by(IncidentEvent.id))]
    assert kinds.count("joined") == 1 and kinds.count("raised") == 1


def test_state_rules(session: Session, clock: FixedClock, city: None) -> None:
    inc = _phone(session, clock).incident
    with pytest.raises(Conflict):
        rescue.release(session, crew("crew_a1"), inc.id, clock)
    with pytest.raises(NotFound):
        rescue.acknowledge(session, crew("crew_a2"), inc.id, clock)  # not its incident
    with pytest.raises(Forbidden):
        rescue.report(
            session, Actor("m", Role.MAINTENANCE), rescue.Report(CODE, Source.PHONE), clock, SETTINGS
        )


def test_a_pending_escalation_fires_on_time_after_a_restart(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, city: None
) -> None:
    """The process that opened the incident is gone; a new one (fresh sessions, no state) fires the
    acknowledgement deadline at the right time from the database."""
    t0 = clock.now()
    inc_id = _phone(session, clock).incident.id
    session.close()
    restarted = FixedClock(t0 + timedelta(minutes=7))  # the new process starts late
    with session_factory() as fresh:
        pending = fresh.scalars(select(RescueTimer).where(RescueTimer.fired_at.is_(None))).all()
        assert sorted(t.kind for t in pending) == ["ack", "arrival", "l3"]
        notices = rescue.fire_due_timers(fresh, restarted, SETTINGS)
        fresh.commit()
    assert [n.kind for n in notices][:1] == ["escalated"]
    with session_factory() as check:
        inc = check.get(Incident, inc_id)
        assert inc is not None
        assert inc.level == "L2" and inc.escalated_l2_at == t0 + timedelta(minutes=5)
        # fired once: a second scheduler run finds nothing
        assert rescue.fire_due_timers(check, restarted, SETTINGS) == []


def test_surge_mode_plans_all_open_incidents_together(
    session: Session, clock: FixedClock, city: None
) -> None:
    """Four elevators trapped at once (threshold 3): every unanswered incident gets a crew from one plan,
    a crew may get a queue, and a crew that finishes takes the next one."""
    settings = rescue.RescueSettings(surge_threshold=3)
    for i, code in enumerate(("11SHA000002", "11SHB000003", "11SHB000004")):
        registry.update_elevator(
            session,
            SYSTEM_ACTOR,
            code,
            ElevatorUpdate(latitude=SITE.lat + 0.001 * (i + 1), longitude=SITE.lon),
            clock,
        )
    outs = [
        rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, settings)
        for code in ("11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004")
    ]
    session.commit()
    assert rescue_queries.open_count(session) == 4
    notices = rescue.replan_surge(session, clock, settings)
    session.commit()
    incidents = [session.get(Incident, o.incident.id) for o in outs]
    assert all(i is not None and i.crew_id in {"A1", "A2", "RS1"} for i in incidents)
    assert {n.details.get("surge") for n in notices} <= {True}
    crews = {c.id: c for c in session.scalars(select(rescue.Crew))}
    busy = {c.busy_incident_id for c in crews.values()} - {None}
    used = {i.crew_id for i in incidents if i is not None}
    assert len(busy) == len(used)  # one current job per crew in use ...
    queued = [i for i in incidents if i is not None and i.id not in busy]
    assert len(queued) == 4 - len(used) >= 1  # ... the near crews take two each rather than the far one
    waiting_for = crews[queued[0].crew_id or ""]
    ack = session.scalars(
        select(RescueTimer).where(
            RescueTimer.incident_id == queued[0].id,
            RescueTimer.kind == "ack",
            RescueTimer.cancelled.is_(False),
        )
    ).one()
    assert ack.due_at > clock.now() + timedelta(seconds=settings.ack_limit_s)  # counts from the planned start
    # the crew finishes its current job and takes the queued one
    current = session.get(Incident, waiting_for.busy_incident_id)
    assert current is not None
    worker = Actor(waiting_for.username or "", Role.MAINTENANCE)
    for step in (rescue.acknowledge, rescue.arrive, rescue.release):
        step(session, worker, current.id, clock)
    rescue.complete(session, worker, current.id, clock, SETTINGS, Cause.OTHER)
    session.commit()
    session.refresh(waiting_for)
    assert waiting_for.busy_incident_id == queued[0].id
    below = rescue.RescueSettings(surge_threshold=10)
    assert rescue.replan_surge(session, clock, below) == []  # under the threshold: nothing re-planned


def test_a_crew_off_shift_is_not_dispatched(session: Session, clock: FixedClock, city: None) -> None:
    """A1 (the nearest) works 08:00-17:30 Beijing time; the test clock is 17:00 there, then 18:00."""
    from datetime import time

    crew_a1 = session.get(rescue.Crew, "A1")
    assert crew_a1 is not None
    crew_a1.shift_start, crew_a1.shift_end = time(8, 0), time(17, 30)
    session.commit()
    first = _phone(session, clock).incident  # 17:00 Beijing: on duty
    assert first.crew_id == "A1"
    rescue.false_alarm(session, OPERATOR, first.id, clock, SETTINGS, "测试")
    session.commit()
    clock.advance(timedelta(hours=1))  # 18:00 Beijing: A1 has gone home
    second = _phone(session, clock).incident
    assert second.crew_id == "A2"
    night = rescue.add_crew(
        session, SYSTEM_ACTOR, "N1", "MU-A", "夜班", km_north(1), clock, shift=(time(17, 0), time(8, 0))
    )
    tz = SETTINGS.tz
    assert rescue.on_duty(night, clock.now(), tz) and not rescue.on_duty(
        night, clock.now() + timedelta(hours=15), tz
    )


def test_shifts_are_on_the_city_clock(session: Session, clock: FixedClock, city: None) -> None:
    """The same shift, 08:00-17:30, at 18:00 Beijing time (10:00 in London): the city's time zone decides."""
    from datetime import time

    from liftwatch.core.config import Settings

    crew_a1 = session.get(rescue.Crew, "A1")
    assert crew_a1 is not None
    crew_a1.shift_start, crew_a1.shift_end = time(8, 0), time(17, 30)
    session.commit()
    clock.advance(timedelta(hours=1))
    london = rescue.RescueSettings.for_city(Settings(timezone="Europe/London"))
    call = rescue.Report(CODE, Source.PHONE)
    assert rescue.report(session, OPERATOR, call, clock, london).incident.crew_id == "A1"
    session.rollback()
    assert rescue.report(session, OPERATOR, call, clock, SETTINGS).incident.crew_id == "A2"


def test_the_rescue_worker_survives_a_failing_surge_plan(
    session_factory: sessionmaker[Session],
    session: Session,
    clock: FixedClock,
    city: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Surge planning that raises must not stop the worker: the fault still becomes an incident, the
    stream is acknowledged (no endless redelivery) and deadlines still fire."""
    import asyncio

    import msgspec

    from liftwatch.core.bus import InProcessBus
    from liftwatch.rescue.intake import RescueWorker
    from liftwatch.telemetry.records import Topology

    def broken(*args: object, **kwargs: object) -> list[rescue.Notice]:
        raise RuntimeError("planner broken")

    monkeypatch.setattr(rescue, "replan_surge", broken)
    session.close()
    topo = Topology("t")
    change = {"fault_id": "F1", "registration_code": CODE, "fault_type": "entrapment", "raised": True,
              "severity": "critical", "at_ms": 1, "started_ms": 1}  # fmt: skip

    async def main() -> int:
        bus = InProcessBus()
        settings = rescue.RescueSettings(surge_threshold=1)
        worker = RescueWorker(bus, session_factory, clock, topo, settings, timer_every_s=0.0)
        await worker.start()
        await bus.publish(topo.faults_subject("entrapment"), msgspec.json.encode(change), msg_id="F1")
        assert await worker.step(timeout=0.5) == 1  # no exception out of the step
        clock.advance(timedelta(minutes=6))  # past the acknowledgement deadline
        await worker.step(timeout=0.1)  # nothing new on the stream: the step fires the deadline
        assert worker._warm_up is not None
        await worker._warm_up
        assert worker._consumer is not None
        return await worker._consumer.pending()

    assert asyncio.run(main()) == 0  # acknowledged
    with session_factory() as check:
        (inc,) = check.scalars(select(Incident)).all()
        assert inc.fault_id == "F1" and inc.level == "L2"
