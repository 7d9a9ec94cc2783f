"""Crews managed by command, API and service (scope, validation, shifts, standing down), and incidents
that wait for a crew dispatched as soon as one appears or becomes free: by the command that adds it, by
the completion that frees it, by the rescue worker's loop when a shift starts; never twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.cli import app as cli
from liftwatch.core.clock import FixedClock
from liftwatch.core.db import make_session_factory
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.domain import UnitType
from liftwatch.registry.schemas import ElevatorUpdate, UnitCreate
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, GeoPoint, Source
from liftwatch.rescue.models import Crew, Dispatch, Incident, IncidentEvent, NoticeOutbox, RescueTimer
from tests.factories import RESCUE_SITE, auth, certify, km_north, seed

SETTINGS = rescue.RescueSettings()
OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
A1, A2, B3 = "11SHA000001", "11SHA000002", "11SHB000003"  # MU-A, MU-A, MU-B


def _city(session: Session, clock: FixedClock) -> None:
    """The seeded registry with every elevator at RESCUE_SITE, a rescue station RS-1, and no crew at all."""
    seed(session, clock)
    for code in (A1, A2, B3, "11SHB000004"):
        registry.update_elevator(
            session,
            SYSTEM_ACTOR,
            code,
            ElevatorUpdate(latitude=RESCUE_SITE.lat, longitude=RESCUE_SITE.lon),
            clock,
        )
    registry.create_unit(
        session,
        SYSTEM_ACTOR,
        UnitCreate(code="RS-1", name="黄浦救援站", unit_type=UnitType.RESCUE_STATION),
        clock,
    )
    session.commit()


def _call(session: Session, clock: FixedClock, code: str = A1) -> Incident:
    out = rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, SETTINGS)
    session.commit()
    return out.incident


def _staff(session: Session, unit: str, role: Role = Role.MAINTENANCE) -> Actor:
    row = registry_queries.unit_by_code(session, unit)
    assert row is not None
    return Actor(f"staff_{unit}", role, row.id)


def _rows(session: Session, inc_id: int) -> list[Dispatch]:
    stmt = select(Dispatch).where(Dispatch.incident_id == inc_id).order_by(Dispatch.id)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def _notices(session: Session, inc_id: int) -> list[NoticeOutbox]:
    stmt = select(NoticeOutbox).where(NoticeOutbox.incident_id == inc_id).order_by(NoticeOutbox.id)
    return list(session.scalars(stmt))


def _trail(session: Session, inc_id: int) -> list[IncidentEvent]:
    stmt = select(IncidentEvent).where(IncidentEvent.incident_id == inc_id).order_by(IncidentEvent.id)
    return list(session.scalars(stmt))


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------- by command


def test_a_crew_added_by_command_dispatches_a_waiting_incident_at_once(engine: Engine) -> None:
    """An incident opened while its unit had no crew waits (the unit told, nobody sendable); `liftwatch
    crews add` gives it the new crew in the command's own transaction: the unit's dispatch gets the crew,
    the trail and the outbox say so, and running the dispatcher again changes nothing."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))  # the command runs on the wall clock
    url = engine.url.render_as_string(hide_password=False)
    with make_session_factory(engine)() as session:
        _city(session, clock)
        inc = _call(session, clock)
        t0 = inc.alarm_at
        assert (inc.status, inc.level, inc.crew_id) == ("dispatched", "L1", None)
        [told] = _rows(session, inc.id)
        assert (told.unit, told.crew_id) == ("MU-A", None)
        assert [n.kind for n in _notices(session, inc.id)] == ["raised", "no_crew"]
        inc_id, told_id = inc.id, told.id
    code, out, err = _run(
        "crews", "add", "--id", "A-9", "--unit", "MU-A", "--name", "浦江九组", "--phone", "138 0000 0009",
        "--lat", str(km_north(2).lat), "--lon", str(km_north(2).lon), "--shift", "00:00-23:59",
        "--database-url", url,
    )  # fmt: skip
    assert code == 0, out + err
    assert "crew 'A-9' added to 'MU-A'" in err and f"dispatched to incident {inc_id}" in err
    with make_session_factory(engine)() as session:
        [row] = _rows(session, inc_id)  # filled, not doubled: the unit's dispatch now has its crew
        assert (row.id, row.crew_id, row.unit, row.level) == (told_id, "A-9", "MU-A", "L1")
        assert row.dispatched_at == t0 and row.eta_s is not None and row.eta_s > 0
        now = session.get(Incident, inc_id)
        assert now is not None and (now.status, now.crew_id, now.dispatched_at) == ("dispatched", "A-9", t0)
        crew = session.get(Crew, "A-9")
        assert crew is not None and crew.busy_incident_id == inc_id and crew.phone == "13800000009"
        last = _trail(session, inc_id)[-1]
        assert (last.kind, last.actor) == ("dispatched", "system")
        assert last.details == {
            "level": "L1", "unit": "MU-A", "crew": "A-9", "eta_s": row.eta_s, "dispatch": row.id,
        }  # fmt: skip
        notice = _notices(session, inc_id)[-1]
        assert (notice.kind, notice.level, notice.delivered_at) == ("dispatched", "L1", None)
        assert notice.details["crew"] == "A-9" and notice.key == f"{inc_id}:{last.id}:dispatched"
        # the acknowledgement deadline still runs from the unit's dispatch (docs/KPIS.md)
        acks = session.scalars(
            select(RescueTimer).where(RescueTimer.incident_id == inc_id, RescueTimer.kind == "ack")
        ).all()
        assert [(t.due_at, t.cancelled) for t in acks] == [
            (t0 + timedelta(seconds=SETTINGS.ack_limit_s), False)
        ]
        assert rescue.dispatch_waiting(session, clock, SETTINGS) == []  # idempotent
        session.commit()
        assert len(_rows(session, inc_id)) == 1 and len(_notices(session, inc_id)) == 3


def test_crews_commands_list_update_disable_enable_and_say_what_is_wrong(sqlite_engine: Engine) -> None:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with make_session_factory(sqlite_engine)() as session:
        _city(session, clock)
    base = ["crews", "add", "--unit", "MU-B", "--name", "申城一组", "--lat", "31.2", "--lon", "121.4"]
    for extra, expected in (
        (["--id", "B 1"], "id: String should match pattern"),
        (["--id", "B1", "--phone", "12345"], "phone: not a mainland mobile"),
        (["--id", "B1", "--shift", "8-20"], "shift: '8-20' is not HH:MM-HH:MM"),
        (["--id", "B1", "--shift", "08:00-25:00"], "shift: '08:00-25:00': hours 00-23"),
        (["--id", "B1", "--user", "maint_a"], "username: 'maint_a' belongs to unit 'MU-A'"),
    ):
        code, out, err = _run(*base, *extra, "--database-url", url)
        assert code == 1 and expected in " ".join(err.split()), (extra, out, err)
    code, _, err = _run("crews", "add", "--id", "X1", "--unit", "NOPE", "--name", "x", "--lat", "31", "--lon",
                        "121", "--database-url", url)  # fmt: skip
    assert code == 1 and "no unit with code 'NOPE'" in err
    code, _, err = _run(*base, "--id", "B1", "--lat", "95", "--database-url", url)
    assert code == 1 and "latitude:" in err
    code, out, err = _run(*base, "--id", "B1", "--shift", "20:00-08:00", "--database-url", url)
    assert code == 0, err
    code, _, err = _run(*base, "--id", "B1", "--database-url", url)
    assert code == 1 and "id: already exists" in err
    code, out, _ = _run("crews", "list", "--json", "--database-url", url)
    assert code == 0
    [listed] = json.loads(out)
    assert (listed["id"], listed["unit"], listed["shift_start"], listed["shift_end"], listed["on_shift"]) == (
        "B1", "MU-B", "20:00:00", "08:00:00", True,
    )  # fmt: skip
    code, _, err = _run("crews", "update", "--id", "B1", "--phone", "021 5555 1234", "--shift", "",
                        "--name", "申城夜班", "--database-url", url)  # fmt: skip
    assert code == 0, err
    code, _, err = _run("crews", "update", "--id", "B1", "--lat", "31", "--database-url", url)
    assert code == 1 and "--lat and --lon go together" in err
    code, _, err = _run("crews", "update", "--id", "NOPE", "--name", "x", "--database-url", url)
    assert code == 1 and "no crew 'NOPE'" in err
    code, _, err = _run("crews", "disable", "--id", "B1", "--database-url", url)
    assert code == 0 and "stood down" in err
    code, out, _ = _run("crews", "list", "--unit", "MU-B", "--database-url", url)
    assert code == 0 and out.split("\n")[0].split("\t") == [
        "B1", "MU-B", "申城夜班", "021-55551234", "-", "all day", "stood down",
    ]  # fmt: skip
    with make_session_factory(sqlite_engine)() as session:  # stood down: a call waits
        inc = _call(session, clock, B3)
        assert inc.crew_id is None
        inc_id = inc.id
    code, _, err = _run("crews", "enable", "--id", "B1", "--database-url", url)
    assert code == 0 and f"crew 'B1' dispatched to incident {inc_id}" in err
    with make_session_factory(sqlite_engine)() as session:
        assert [r.crew_id for r in _rows(session, inc_id)] == ["B1"]


# ---------------------------------------------------------------- the service: scope and validation


def test_scope_of_crews(session: Session, clock: FixedClock) -> None:
    _city(session, clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "A1", "MU-A", "一组", km_north(2), clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "B1", "MU-B", "申城一组", km_north(3), clock)
    session.commit()
    mu_a, mu_b, uu_b = (
        _staff(session, "MU-A"),
        _staff(session, "MU-B"),
        _staff(session, "UU-B", Role.USE_UNIT),
    )
    assert [c.id for c in rescue.list_crews(session, SYSTEM_ACTOR)] == ["A1", "B1"]
    assert [c.id for c in rescue.list_crews(session, OPERATOR)] == ["A1", "B1"]
    assert [c.id for c in rescue.list_crews(session, mu_a)] == ["A1"]
    assert [c.id for c in rescue.list_crews(session, uu_b)] == []
    assert [c.id for c in rescue.list_crews(session, SYSTEM_ACTOR, "MU-B")] == ["B1"]
    with pytest.raises(NotFound):
        rescue.list_crews(session, mu_a, "MU-B")
    with pytest.raises(Forbidden):
        rescue.list_crews(session, Actor("inspector", Role.INSPECTOR))
    with pytest.raises(NotFound):  # another unit's crew is not found, for reading or changing
        rescue.get_crew(session, mu_b, "A1")
    with pytest.raises(NotFound):
        rescue.update_crew(session, mu_b, "A1", rescue.CrewChange(name="x"), clock, SETTINGS)
    with pytest.raises(Forbidden):  # the operator reads crews, but does not manage them
        rescue.update_crew(session, OPERATOR, "A1", rescue.CrewChange(name="x"), clock, SETTINGS)
    with pytest.raises(NotFound):  # unit staff cannot move their crew to another unit
        rescue.update_crew(session, mu_a, "A1", rescue.CrewChange(unit="MU-B"), clock, SETTINGS)
    with pytest.raises(Forbidden):
        rescue.add_crew(session, Actor("inspector", Role.INSPECTOR), "I1", "MU-A", "x", km_north(1), clock)
    crew = rescue.update_crew(session, mu_a, "A1", rescue.CrewChange(name="浦江一组", phone="13900000001"),
                              clock, SETTINGS)  # fmt: skip
    assert (crew.name, crew.phone) == ("浦江一组", "13900000001")
    moved = rescue.update_crew(session, SYSTEM_ACTOR, "A1", rescue.CrewChange(unit="RS-1"), clock, SETTINGS)
    assert moved.unit == "RS-1"


def test_validation_of_crews(session: Session, clock: FixedClock) -> None:
    _city(session, clock)
    for text, expected in (
        ("", None), (" 08:00 - 20:00 ", (time(8), time(20))), ("20:00-8:00", (time(20), time(8))),
    ):  # fmt: skip
        assert rescue.parse_shift(text) == expected
    for bad in ("08:00", "8-20", "24:00-08:00", "08:60-09:00", "08:00-08:00", "早上八点"):
        with pytest.raises(InvalidInput) as err:
            rescue.parse_shift(bad)
        assert err.value.errors[0].field == "shift", bad
    for kwargs, field in (
        ({"phone": "call me"}, "phone"),
        ({"name": "  "}, "name"),
        ({"crew_id": "a b"}, "id"),
        ({"position": GeoPoint(91, 121)}, "latitude"),
        ({"username": "nobody"}, "username"),
        ({"username": "maint_a", "unit": "MU-B"}, "username"),  # a user of another unit
    ):
        args: dict[str, object] = {"crew_id": "N1", "unit": "MU-A", "name": "新组", "position": km_north(1)}
        args.update(kwargs)
        with pytest.raises(InvalidInput) as err:
            rescue.add_crew(session, SYSTEM_ACTOR, clock=clock, **args)  # type: ignore[arg-type]
        assert err.value.errors[0].field == field, kwargs
    rescue.add_crew(session, SYSTEM_ACTOR, "A1", "MU-A", "一组", km_north(1), clock, username="maint_a")
    with pytest.raises(Conflict) as conflict:  # one login, one crew
        rescue.add_crew(session, SYSTEM_ACTOR, "A2", "MU-A", "二组", km_north(1), clock, username="maint_a")
    assert conflict.value.errors[0].field == "username"
    with pytest.raises(InvalidInput) as err:  # moved to another unit, its login would hand it over
        rescue.update_crew(session, SYSTEM_ACTOR, "A1", rescue.CrewChange(unit="MU-B"), clock, SETTINGS)
    assert err.value.errors[0].field == "username"
    crew = rescue.update_crew(
        session, SYSTEM_ACTOR, "A1", rescue.CrewChange(unit="MU-B", username=""), clock, SETTINGS
    )
    assert (crew.unit, crew.username) == ("MU-B", None)
    with pytest.raises(InvalidInput):
        rescue.update_crew(session, SYSTEM_ACTOR, "A1", rescue.CrewChange(shift="x"), clock, SETTINGS)


# ---------------------------------------------------------------- waiting incidents


def test_a_crew_freed_by_completing_takes_the_next_waiting_incident(
    session: Session, clock: FixedClock
) -> None:
    _city(session, clock)
    create_user(session, SYSTEM_ACTOR, UserCreate(username="crew_a1", password="long-password",
                role=Role.MAINTENANCE, unit="MU-A"), clock)  # fmt: skip
    certify(session, "crew_a1", "MU-A", clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "A1", "MU-A", "一组", km_north(2), clock, username="crew_a1")
    session.commit()
    first = _call(session, clock, A1)
    clock.advance(timedelta(minutes=1))
    second = _call(session, clock, A2)  # the unit's only crew is busy: the unit is told, nobody sendable
    assert (first.crew_id, second.crew_id) == ("A1", None)
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []  # nobody free: nothing changes
    me = Actor("crew_a1", Role.MAINTENANCE)
    for step in (rescue.acknowledge, rescue.arrive):
        clock.advance(timedelta(minutes=1))
        step(session, me, first.id, clock)
    rescue.release(session, me, first.id, clock)
    session.commit()
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []  # released, not done: still busy
    clock.advance(timedelta(minutes=1))
    rescue.complete(session, me, first.id, clock, SETTINGS, Cause.MISUSE)
    session.commit()
    [row] = _rows(session, second.id)
    assert (row.crew_id, row.dispatched_at) == ("A1", second.alarm_at)
    crew = session.get(Crew, "A1")
    assert crew is not None and crew.busy_incident_id == second.id
    assert second.status == "dispatched" and second.crew_id == "A1"
    assert [n.kind for n in _notices(session, second.id)] == ["raised", "no_crew", "dispatched"]
    # the crew now sees and answers it
    rescue.acknowledge(session, me, second.id, clock)
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []


def test_no_double_dispatch_and_no_crew_sent_back_unasked(session: Session, clock: FixedClock) -> None:
    _city(session, clock)
    inc = _call(session, clock, A1)
    rescue.add_crew(session, SYSTEM_ACTOR, "A1", "MU-A", "一组", km_north(2), clock, settings=SETTINGS)
    rescue.add_crew(session, SYSTEM_ACTOR, "A2", "MU-A", "二组", km_north(4), clock, settings=SETTINGS)
    session.commit()
    assert [r.crew_id for r in _rows(session, inc.id)] == ["A1"]  # the first one only; A2 stays free
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []
    a2 = session.get(Crew, "A2")
    assert a2 is not None and a2.busy_incident_id is None
    # the operator takes A1 off: A2 gets it at once; A1, free again, is not sent back to it
    [row] = _rows(session, inc.id)
    rescue.withdraw(session, OPERATOR, inc.id, row.id, clock, SETTINGS, "车辆故障")
    session.commit()
    assert [(r.crew_id, r.withdrawn_at is not None) for r in _rows(session, inc.id)] == [
        ("A1", True), ("A2", False),
    ]  # fmt: skip
    a1 = session.get(Crew, "A1")
    assert a1 is not None and a1.busy_incident_id is None
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []
    assert len(_rows(session, inc.id)) == 2


def test_a_stood_down_crew_gets_nothing_and_a_shift_start_is_picked_up_by_the_worker_loop(
    session: Session, clock: FixedClock
) -> None:
    """09:00 UTC is 17:00 in the city: a crew whose shift starts at 18:00 takes the waiting incident when
    the rescue worker's loop runs after 18:00 (no command involved)."""
    _city(session, clock)
    rescue.add_crew(
        session, SYSTEM_ACTOR, "N1", "MU-A", "夜班", km_north(1), clock, shift=(time(18), time(6))
    )
    inc = _call(session, clock, A1)
    assert inc.crew_id is None
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []
    rescue.set_crew_on_shift(session, SYSTEM_ACTOR, "N1", False, clock, SETTINGS)
    clock.advance(timedelta(hours=1, minutes=1))
    assert rescue.dispatch_waiting(session, clock, SETTINGS) == []  # stood down
    crew = rescue.set_crew_on_shift(session, SYSTEM_ACTOR, "N1", True, clock, SETTINGS)
    assert crew.busy_incident_id == inc.id  # enabled inside its shift: dispatched by the enabling itself


def test_the_worker_loop_dispatches_waiting_incidents(
    engine: Engine, session: Session, clock: FixedClock
) -> None:
    from liftwatch.rescue.intake import RescueWorker

    _city(session, clock)
    evening = (time(17, 3), time(6))  # 09:00 UTC is 17:00 in the city
    rescue.add_crew(session, SYSTEM_ACTOR, "N1", "MU-A", "夜班", km_north(1), clock, shift=evening)
    inc = _call(session, clock, A1)
    session.commit()
    factory = make_session_factory(engine)
    worker = RescueWorker(None, factory, clock, None, SETTINGS)  # type: ignore[arg-type]
    assert worker._fire() is False
    clock.advance(timedelta(minutes=4))  # its shift has started; the acknowledgement limit not passed
    assert worker._fire() is True
    session.expire_all()
    assert [r.crew_id for r in _rows(session, inc.id)] == ["N1"]


def test_at_l2_a_waiting_incident_takes_another_units_crew(session: Session, clock: FixedClock) -> None:
    """No crew anywhere: unanswered, the incident goes to L2 and still waits; a crew of the contracted unit
    is not what L2 picks, a rescue station's is (a dispatch row of its own, measured from now)."""
    _city(session, clock)
    inc = _call(session, clock, A1)
    clock.advance(timedelta(seconds=SETTINGS.ack_limit_s))
    rescue.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    assert inc.level == "L2" and inc.crew_id is None
    rescue.add_crew(session, SYSTEM_ACTOR, "A1", "MU-A", "一组", km_north(1), clock, settings=SETTINGS)
    assert [r.crew_id for r in _rows(session, inc.id)] == [None]
    clock.advance(timedelta(minutes=1))
    rescue.add_crew(session, SYSTEM_ACTOR, "RS1", "RS-1", "救援站", km_north(3), clock, settings=SETTINGS)
    session.commit()
    rows = _rows(session, inc.id)
    assert [(r.level, r.unit, r.crew_id) for r in rows] == [("L1", "MU-A", None), ("L2", "RS-1", "RS1")]
    assert rows[1].dispatched_at == clock.now() and inc.level == "L2" and inc.crew_id == "RS1"
    assert _notices(session, inc.id)[-1].kind == "dispatched"


# ---------------------------------------------------------------- the API


def test_crews_api(client: TestClient, session: Session, clock: FixedClock) -> None:
    _city(session, clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "B1", "MU-B", "申城一组", km_north(2), clock)
    session.commit()
    inc = _call(session, clock, A1)
    admin, maint = auth(client, Role.ADMIN), auth(client, Role.MAINTENANCE)  # maint_a: staff of MU-A
    assert [c["id"] for c in client.get("/api/v1/rescue/crews", headers=admin).json()] == ["B1"]
    assert client.get("/api/v1/rescue/crews", headers=maint).json() == []
    assert client.get("/api/v1/rescue/crews?unit=MU-B", headers=maint).status_code == 404
    assert client.patch("/api/v1/rescue/crews/B1", headers=maint, json={"name": "x"}).status_code == 404
    r = client.post(
        "/api/v1/rescue/crews",
        headers=maint,
        json={"id": "A1", "unit": "MU-A", "name": "一组", "latitude": 31.24, "longitude": 121.47},
    )
    assert r.status_code == 201 and r.json()["busy_incident_id"] == inc.id, r.text  # dispatched at once
    r = client.patch("/api/v1/rescue/crews/A1", headers=maint, json={"phone": "call me"})
    assert r.status_code == 422 and "phone" in r.text
    r = client.patch("/api/v1/rescue/crews/A1", headers=maint, json={"latitude": 31.2})
    assert r.status_code == 422
    r = client.patch(
        "/api/v1/rescue/crews/A1",
        headers=maint,
        json={"shift": "08:00-20:00", "phone": "13800000001", "on_shift": False},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["shift_start"], r.json()["on_shift"], r.json()["busy_incident_id"]) == (
        "08:00:00", False, inc.id,
    )  # fmt: skip
    r = client.patch("/api/v1/rescue/crews/A1", headers=maint, json={"shift": None, "username": None})
    assert r.status_code == 200 and r.json()["shift_start"] is None
    assert [c["id"] for c in client.get("/api/v1/rescue/crews?unit=MU-A", headers=maint).json()] == ["A1"]


@pytest.mark.postgres
def test_two_transactions_at_once_never_dispatch_twice(pg_database_url: str) -> None:
    """Two crews added at the same moment by two processes (the command, the API) for one waiting
    incident: the one that holds the dispatcher's lock sends its crew; the other skips, and once the first
    committed, the incident no longer waits."""
    from liftwatch.core.db import make_engine
    from tests.conftest import _truncate_all

    engine = make_engine(pg_database_url, connect_args={"options": "-c lock_timeout=3000"})  # never hang
    _truncate_all(engine)
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    factory = make_session_factory(engine)
    try:
        with factory() as setup:
            _city(setup, clock)
            inc_id = _call(setup, clock, A1).id
        first, second = factory(), factory()
        rescue.add_crew(first, SYSTEM_ACTOR, "A1", "MU-A", "一组", km_north(2), clock, settings=SETTINGS)
        rescue.add_crew(second, SYSTEM_ACTOR, "A2", "MU-A", "二组", km_north(1), clock, settings=SETTINGS)
        second.commit()  # it found the dispatcher taken: its crew stays free
        first.commit()
        with factory() as check:
            assert [r.crew_id for r in _rows(check, inc_id)] == ["A1"]
            assert rescue.dispatch_waiting(check, clock, SETTINGS) == []  # no longer waiting
            check.commit()
            a2 = check.get(Crew, "A2")
            assert a2 is not None and a2.busy_incident_id is None
        first.close()
        second.close()
    finally:
        engine.dispose()


def test_a_crew_freed_through_the_api_takes_a_waiting_incident(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    """The operator closes the crew's incident as a false alarm through the API: in that same request the
    crew is sent to the incident that waited for it."""
    _city(session, clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "A1", "MU-A", "一组", km_north(2), clock)
    session.commit()
    first = _call(session, clock, A1)
    clock.advance(timedelta(minutes=1))
    second = _call(session, clock, A2)
    assert (first.crew_id, second.crew_id) == ("A1", None)
    op = auth(client, Role.RESCUE_OPERATOR)
    r = client.post(f"/api/v1/rescue/incidents/{first.id}/false-alarm", headers=op, json={"note": "无人被困"})
    assert r.status_code == 200, r.text
    detail = client.get(f"/api/v1/rescue/incidents/{second.id}", headers=op).json()
    assert detail["crew_id"] == "A1" and [d["crew_id"] for d in detail["dispatches"]] == ["A1"]
    assert [e["kind"] for e in detail["events"]][-1] == "dispatched"
