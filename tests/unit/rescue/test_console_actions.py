"""The operator's console, the service side (issue 11 item 4): the board's order (pure), re-dispatch,
escalation and withdrawal by hand with a reason (dispatch rows and trail asserted, safe under a double
submit), every call joining an incident kept with its caller, number and note, call-back numbers checked
and normalised, and codes found however they are typed. On SQLite and PostgreSQL.

The city (tests/factories.rescue_city): elevator 11SHA000001 (MU-A) at RESCUE_SITE; crews A1 (MU-A, 2 km:
6.7 min away), A2 (MU-A, 8 km: 26.9 min) and RS1 (rescue station RS-1, 3 km: 10.1 min)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import (
    Cause,
    Level,
    Source,
    Urgency,
    most_urgent_first,
    normalise_phone,
    urgency_rank,
)
from liftwatch.rescue.models import Crew, NoticeOutbox, RescueTimer
from liftwatch.rescue.queries import urgency_of
from tests.factories import auth

OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
CODE = "11SHA000001"
SETTINGS = rescue.RescueSettings()
T = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _open(session: Session, clock: FixedClock, code: str = CODE, persons_trapped: int | None = None) -> int:
    call = rescue.Report(code, Source.PHONE, persons_trapped=persons_trapped)
    out = rescue.report(session, OPERATOR, call, clock, SETTINGS)
    session.commit()
    return out.incident.id


def _rows(session: Session, inc_id: int) -> list[tuple[object, ...]]:
    """(id, level, unit, crew, dispatched_by, withdrawn?, withdrawn_by, withdraw_reason) of every dispatch."""
    return [
        (d.id, d.level, d.unit, d.crew_id, d.dispatched_by, d.withdrawn_at is not None, d.withdrawn_by,
         d.withdraw_reason)
        for d in rescue.dispatches_of(session, OPERATOR, inc_id)
    ]  # fmt: skip


def _trail(session: Session, inc_id: int) -> list[tuple[str, str, dict[str, object]]]:
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    return [(e.kind, e.actor, dict(e.details)) for e in rescue_queries.incident_events(session, inc)]


def _notices(session: Session, inc_id: int) -> list[tuple[str, str, dict[str, object]]]:
    rows = session.scalars(
        select(NoticeOutbox).where(NoticeOutbox.incident_id == inc_id).order_by(NoticeOutbox.id)
    )
    return [(n.kind, n.level, dict(n.details)) for n in rows]


# ---------------------------------------------------------------- the board's order (pure)


def test_most_urgent_first() -> None:
    """Overdue with someone trapped, overdue, trapped, the rest; newest alarm first within each."""

    def at(minute: int) -> datetime:
        return T + timedelta(minutes=minute)

    items = {
        "released_old": Urgency(trapped=False, overdue=False, alarm_at=at(0)),
        "trapped_old": Urgency(trapped=True, overdue=False, alarm_at=at(1)),
        "overdue_nobody": Urgency(trapped=False, overdue=True, alarm_at=at(2)),
        "overdue_trapped_old": Urgency(trapped=True, overdue=True, alarm_at=at(3)),
        "trapped_new": Urgency(trapped=True, overdue=False, alarm_at=at(9)),
        "overdue_trapped_new": Urgency(trapped=True, overdue=True, alarm_at=at(4)),
        "released_new": Urgency(trapped=False, overdue=False, alarm_at=at(8)),
    }
    order = most_urgent_first(list(items), lambda name: items[name])
    assert order == [
        "overdue_trapped_new",
        "overdue_trapped_old",
        "overdue_nobody",
        "trapped_new",
        "trapped_old",
        "released_new",
        "released_old",
    ]
    assert [urgency_rank(items[n]) for n in order] == [0, 0, 1, 2, 2, 3, 3]
    # equal alarm times keep their given order (stable)
    same = [Urgency(True, False, at(5)), Urgency(True, False, at(5))]
    assert most_urgent_first([0, 1], lambda i: same[i]) == [0, 1]
    assert most_urgent_first([], lambda i: same[i]) == []


def test_urgency_of_an_incident(session: Session, clock: FixedClock, city: None) -> None:
    """Someone trapped until released (unknown counts as trapped; 0 does not); overdue once the
    acknowledgement or the arrival deadline passed, or past the closing limit; a released incident stays on
    the board below the open ones."""
    t0 = clock.now()
    inc_id = _open(session, clock)
    zero = _open(session, clock, "11SHA000002", persons_trapped=0)
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert urgency_of(inc, t0, SETTINGS) == Urgency(True, False, inc.alarm_at)
    assert not urgency_of(rescue.get_incident(session, OPERATOR, zero), t0, SETTINGS).trapped
    assert urgency_of(inc, t0 + timedelta(seconds=300), SETTINGS).overdue is False
    assert urgency_of(inc, t0 + timedelta(seconds=301), SETTINGS).overdue is True  # not acknowledged
    crew = Actor("crew_a1", Role.MAINTENANCE)
    rescue.acknowledge(session, crew, inc_id, clock)
    assert urgency_of(inc, t0 + timedelta(minutes=30), SETTINGS).overdue is False
    assert urgency_of(inc, t0 + timedelta(minutes=30, seconds=1), SETTINGS).overdue is True  # arrival
    rescue.arrive(session, crew, inc_id, clock)
    rescue.release(session, crew, inc_id, clock)
    session.commit()
    assert urgency_of(inc, t0 + timedelta(hours=2), SETTINGS) == Urgency(False, False, inc.alarm_at)
    assert urgency_of(inc, t0 + timedelta(hours=24, seconds=1), SETTINGS).overdue  # past closing
    on_board = [i.id for i in rescue_queries.board_incidents(session)]
    assert on_board == [zero, inc_id]  # released but not completed: still on the board, newest first
    rescue.complete(session, crew, inc_id, clock, SETTINGS, Cause.MISUSE)
    session.commit()
    assert [i.id for i in rescue_queries.board_incidents(session)] == [zero]


# ---------------------------------------------------------------- re-dispatch by hand


def test_redispatch_to_a_crew_by_hand(session: Session, clock: FixedClock, city: None) -> None:
    inc_id = _open(session, clock)  # L1: A1
    clock.advance(timedelta(minutes=2))
    row, created = rescue.redispatch(
        session, OPERATOR, inc_id, clock, SETTINGS, " 一组电话不通 ", crew_id="RS1"
    )
    session.commit()
    assert created and (row.level, row.unit, row.crew_id, row.dispatched_by) == (
        "L2",
        "RS-1",
        "RS1",
        "operator",
    )
    assert row.eta_s == 606  # 3 km x 1.4 at 25 km/h
    assert [r[1:] for r in _rows(session, inc_id)] == [
        ("L1", "MU-A", "A1", "system", False, "", ""),  # the first crew stays on the job
        ("L2", "RS-1", "RS1", "operator", False, "", ""),
    ]
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert inc.level == "L2" and inc.escalated_l2_at == clock.now()  # another unit: the level follows
    kind, actor, details = _trail(session, inc_id)[-1]
    assert (kind, actor) == ("redispatched", "operator")
    assert details == {
        "dispatch": row.id, "level": "L2", "unit": "RS-1", "crew": "RS1", "eta_s": 606,
        "reason": "一组电话不通", "withdrawn": [],
    }  # fmt: skip
    assert _notices(session, inc_id)[-1] == (
        "dispatched",
        "L2",
        {"crew": "RS1", "eta_s": 606, "unit": "RS-1", "by_hand": True, "reason": "一组电话不通"},
    )
    assert session.get(Crew, "RS1").busy_incident_id == inc_id  # type: ignore[union-attr]
    ack = session.scalars(
        select(RescueTimer).where(RescueTimer.incident_id == inc_id, RescueTimer.kind == "ack")
    ).all()
    assert [(t.due_at, t.cancelled) for t in ack][-1] == (clock.now() + timedelta(minutes=5), False)

    # A double submit: the crew is on the job already; nothing new, nothing said twice.
    count = len(_trail(session, inc_id)), len(_notices(session, inc_id))
    again, created = rescue.redispatch(
        session, OPERATOR, inc_id, clock, SETTINGS, "一组电话不通", crew_id="RS1"
    )
    session.commit()
    assert (again.id, created) == (row.id, False)
    assert (len(_trail(session, inc_id)), len(_notices(session, inc_id))) == count
    assert len(_rows(session, inc_id)) == 2

    # The RS1 crew answers; the incident's stage time is its answer.
    rescue.acknowledge(session, Actor("crew_rs", Role.MAINTENANCE), inc_id, clock)
    assert rescue.get_incident(session, OPERATOR, inc_id).acknowledged_at == clock.now()


def test_redispatch_to_a_unit_replacing_the_earlier_crews(
    session: Session, clock: FixedClock, city: None
) -> None:
    """To a unit: its free crew with the soonest arrival (A1 is on the job: A2); with ``replace_earlier``
    the dispatches not yet on site are withdrawn with the same reason and their crews are free again."""
    inc_id = _open(session, clock)
    row, created = rescue.redispatch(
        session, OPERATOR, inc_id, clock, SETTINGS, "一组车辆故障", unit="MU-A", replace_earlier=True
    )
    session.commit()
    first = rescue.dispatches_of(session, OPERATOR, inc_id)[0].id
    assert created and (row.level, row.crew_id) == ("L1", "A2")
    assert [r[1:] for r in _rows(session, inc_id)] == [
        ("L1", "MU-A", "A1", "system", True, "operator", "一组车辆故障"),
        ("L1", "MU-A", "A2", "operator", False, "", ""),
    ]
    assert session.get(Crew, "A1").busy_incident_id is None  # type: ignore[union-attr]
    assert _trail(session, inc_id)[-1][2]["withdrawn"] == [first]
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert (inc.level, inc.crew_id, inc.status) == ("L1", "A2", "dispatched")
    # The same request again a moment later (a double submit): the dispatch on record.
    clock.advance(timedelta(seconds=5))
    again, created = rescue.redispatch(
        session, OPERATOR, inc_id, clock, SETTINGS, "一组车辆故障", unit="MU-A", replace_earlier=True
    )
    assert (again.id, created) == (row.id, False) and len(_rows(session, inc_id)) == 2
    # No crew of MU-A left that was not sent already (A1 was taken off, A2 is on it): the unit is told
    # (a dispatch without a crew, a no_crew notice).
    clock.advance(timedelta(minutes=2))
    told, created = rescue.redispatch(
        session, OPERATOR, inc_id, clock, SETTINGS, "请单位另派人员", unit="MU-A"
    )
    session.commit()
    assert created and (told.unit, told.crew_id) == ("MU-A", None)
    assert _notices(session, inc_id)[-1][0] == "no_crew"


def test_a_redispatch_replacing_a_crew_tells_the_crew_taken_off_once(
    session: Session, clock: FixedClock, city: None
) -> None:
    """A re-dispatch that replaces the earlier crews withdraws them as a withdrawal by hand does: each gets
    one ``withdrawn`` notice (and a ``withdrawn`` event) with the operator's reason; a double submit says
    nothing again."""
    inc_id = _open(session, clock)
    first = rescue.dispatches_of(session, OPERATOR, inc_id)[0].id
    rescue.redispatch(
        session, OPERATOR, inc_id, clock, SETTINGS, "一组车辆故障", crew_id="RS1", replace_earlier=True
    )
    session.commit()
    told = [n for n in _notices(session, inc_id) if n[0] == "withdrawn"]
    assert told == [
        ("withdrawn", "L1", {"dispatch": first, "unit": "MU-A", "crew": "A1", "reason": "一组车辆故障"})
    ]
    assert ("withdrawn", "operator", {"dispatch": first, "crew": "A1", "reason": "一组车辆故障"}) in _trail(
        session, inc_id
    )
    clock.advance(timedelta(seconds=5))
    rescue.redispatch(
        session, OPERATOR, inc_id, clock, SETTINGS, "一组车辆故障", crew_id="RS1", replace_earlier=True
    )
    session.commit()
    assert [n for n in _notices(session, inc_id) if n[0] == "withdrawn"] == told


def test_a_crew_on_the_road_is_told_when_the_incident_is_closed_without_it(
    session: Session, clock: FixedClock, city: None
) -> None:
    """A false alarm, a cancelled call or passengers who got out alone close the incident while a crew may
    still be driving to it: the crew gets one ``withdrawn`` notice naming why, and turns back."""
    inc_id = _open(session, clock)
    first = rescue.dispatches_of(session, OPERATOR, inc_id)[0].id
    clock.advance(timedelta(minutes=2))
    rescue.false_alarm(session, OPERATOR, inc_id, clock, SETTINGS, "乘客误按")
    session.commit()
    told = [n for n in _notices(session, inc_id) if n[0] == "withdrawn"]
    assert told == [
        ("withdrawn", "L1", {"dispatch": first, "unit": "MU-A", "crew": "A1", "reason": "false_alarm"})
    ]
    (row,) = rescue.dispatches_of(session, OPERATOR, inc_id)
    assert row.withdrawn_at == clock.now() and row.withdraw_reason == "false_alarm"


def test_redispatch_refusals(session: Session, clock: FixedClock, city: None) -> None:
    inc_id = _open(session, clock)

    def field_of(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
        return [e.field for e in exc.value.errors]

    with pytest.raises(InvalidInput) as exc:
        rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "   ", crew_id="RS1")
    assert field_of(exc) == ["reason"]
    with pytest.raises(InvalidInput) as exc:
        rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "原因")
    assert field_of(exc) == ["crew_id"]
    with pytest.raises(InvalidInput) as exc:
        rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "原因", crew_id="NOPE")
    assert field_of(exc) == ["crew_id"] and "NOPE" in str(exc.value)
    with pytest.raises(InvalidInput) as exc:
        rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "原因", unit="NOPE")
    assert field_of(exc) == ["unit"]
    with pytest.raises(InvalidInput) as exc:
        rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "原因", crew_id="RS1", unit="MU-A")
    assert field_of(exc) == ["unit"]
    session.get(Crew, "RS1").on_shift = False  # type: ignore[union-attr]
    with pytest.raises(InvalidInput) as exc:
        rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "原因", crew_id="RS1")
    assert field_of(exc) == ["crew_id"] and "off shift" in str(exc.value)
    for who in (Actor("regulator", Role.REGULATOR), Actor("crew_a1", Role.MAINTENANCE)):
        with pytest.raises(Forbidden):
            rescue.redispatch(session, who, inc_id, clock, SETTINGS, "原因", crew_id="A2")
    with pytest.raises(NotFound):
        rescue.redispatch(session, OPERATOR, 999, clock, SETTINGS, "原因", crew_id="A2")
    rescue.false_alarm(session, OPERATOR, inc_id, clock, SETTINGS, "误报")
    with pytest.raises(Conflict):
        rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "原因", crew_id="A2")
    assert len(_rows(session, inc_id)) == 1


# ---------------------------------------------------------------- escalate and withdraw by hand


def test_escalate_by_hand_level_by_level(session: Session, clock: FixedClock, city: None) -> None:
    inc_id = _open(session, clock)
    clock.advance(timedelta(minutes=1))
    inc, done = rescue.escalate_by_hand(
        session, OPERATOR, inc_id, clock, SETTINGS, "被困者有心脏病", Level.L1
    )
    session.commit()
    assert done and inc.level == "L2" and inc.escalated_l2_at == clock.now()
    assert [r[1:5] for r in _rows(session, inc_id)] == [
        ("L1", "MU-A", "A1", "system"),  # stays on the job
        ("L2", "RS-1", "RS1", "operator"),  # the soonest other crew
    ]
    escalated = [t for t in _trail(session, inc_id) if t[0] == "escalated"]
    assert escalated == [
        ("escalated", "operator", {"to": "L2", "reason": "operator", "note": "被困者有心脏病"})
    ]
    assert ("escalated", "L2", {"reason": "operator", "note": "被困者有心脏病"}) in _notices(session, inc_id)

    # The same form sent twice (it said L1): nothing more.
    before = len(_trail(session, inc_id))
    inc, done = rescue.escalate_by_hand(
        session, OPERATOR, inc_id, clock, SETTINGS, "被困者有心脏病", Level.L1
    )
    assert not done and inc.level == "L2" and len(_trail(session, inc_id)) == before

    # L2 -> L3: the operator is asked to call 119 (recorded apart).
    inc, done = rescue.escalate_by_hand(
        session, OPERATOR, inc_id, clock, SETTINGS, "两组均无法开门", Level.L2
    )
    session.commit()
    assert done and inc.level == "L3"
    assert _notices(session, inc_id)[-1] == (
        "escalated", "L3", {"reason": "operator", "call": "119", "note": "两组均无法开门"},
    )  # fmt: skip
    with pytest.raises(Conflict):
        rescue.escalate_by_hand(session, OPERATOR, inc_id, clock, SETTINGS, "再升级")
    with pytest.raises(InvalidInput) as exc:
        rescue.escalate_by_hand(session, OPERATOR, inc_id, clock, SETTINGS, "")
    assert [e.field for e in exc.value.errors] == ["reason"]
    with pytest.raises(Forbidden):
        rescue.escalate_by_hand(session, Actor("regulator", Role.REGULATOR), inc_id, clock, SETTINGS, "x")


def test_withdraw_by_hand(session: Session, clock: FixedClock, city: None) -> None:
    inc_id = _open(session, clock)
    rescue.redispatch(session, OPERATOR, inc_id, clock, SETTINGS, "加派", crew_id="RS1")
    first = rescue.dispatches_of(session, OPERATOR, inc_id)[0].id
    clock.advance(timedelta(minutes=3))
    rescue.withdraw(session, OPERATOR, inc_id, first, clock, SETTINGS, "一组在另一起事件")
    session.commit()
    assert [r[1:] for r in _rows(session, inc_id)] == [
        ("L1", "MU-A", "A1", "system", True, "operator", "一组在另一起事件"),
        ("L2", "RS-1", "RS1", "operator", False, "", ""),
    ]
    assert _trail(session, inc_id)[-1] == (
        "withdrawn", "operator", {"dispatch": first, "crew": "A1", "reason": "一组在另一起事件"},
    )  # fmt: skip
    assert _notices(session, inc_id)[-1] == (  # the crew taken off the job is told so
        "withdrawn", "L1", {"dispatch": first, "unit": "MU-A", "crew": "A1", "reason": "一组在另一起事件"},
    )  # fmt: skip
    assert session.get(Crew, "A1").busy_incident_id is None  # type: ignore[union-attr]
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert (inc.crew_id, inc.responder_unit) == ("RS1", "RS-1")
    with pytest.raises(Conflict):  # a double submit: already withdrawn
        rescue.withdraw(session, OPERATOR, inc_id, first, clock, SETTINGS, "一组在另一起事件")


# ---------------------------------------------------------------- calls that join


def test_every_call_is_kept_with_its_caller_number_and_note(
    session: Session, clock: FixedClock, city: None
) -> None:
    """An alarm first (no caller), then two calls: the first person's number becomes the incident's
    call-back number; every call keeps its own caller, number and note."""
    out = rescue.report(
        session, SYSTEM_ACTOR, rescue.Report(CODE, Source.IOT, fault_id="f-1"), clock, SETTINGS
    )
    inc_id = out.incident.id
    clock.advance(timedelta(minutes=1))
    joined = rescue.report(
        session, OPERATOR,
        rescue.Report("100001", Source.PHONE, persons_trapped=2, caller_name="李女士",
                      callback_phone="138 0000 0000", notes="九楼，轿厢灯亮"),
        clock, SETTINGS,
    )  # fmt: skip
    clock.advance(timedelta(minutes=1))
    rescue.report(
        session, OPERATOR,
        rescue.Report(CODE, Source.PHONE, caller_name="物业王先生", callback_phone="021-5555 1234",
                      notes="物业已到场安抚"),
        clock, SETTINGS,
    )  # fmt: skip
    session.commit()
    assert not joined.created and joined.incident.id == inc_id
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert (inc.caller_name, inc.callback_phone, inc.persons_trapped) == ("李女士", "13800000000", 2)
    calls = rescue_queries.calls_of(session, inc)
    assert [(c.source, c.caller, c.phone, c.note, c.persons, c.taken_by, c.first) for c in calls] == [
        ("iot", "", "", "", None, "system", True),
        ("phone", "李女士", "13800000000", "九楼，轿厢灯亮", 2, "operator", False),
        ("phone", "物业王先生", "021-55551234", "物业已到场安抚", None, "operator", False),
    ]
    assert [c.at for c in calls] == [inc.alarm_at, inc.alarm_at + timedelta(minutes=1), clock.now()]
    joined_event = next(t for t in _trail(session, inc_id) if t[0] == "joined")
    assert joined_event[2]["note"] == "九楼，轿厢灯亮" and joined_event[2]["phone"] == "13800000000"


# ---------------------------------------------------------------- call-back numbers


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800000000", "13800000000"),
        (" 138 0000 0000 ", "13800000000"),
        ("138-0000-0000", "13800000000"),
        ("+86 138 0000 0000", "13800000000"),
        ("0086-13800000000", "13800000000"),
        ("１３８００００００００", "13800000000"),  # full-width, from a Chinese keyboard
        ("021-55551234", "021-55551234"),
        ("(021) 5555 1234", "021-55551234"),
        ("010 8888 8888", "010-88888888"),
        ("0571-8888888", "0571-8888888"),
        ("+86 21 5555 1234", "021-55551234"),
        ("", ""),
    ],
)
def test_phone_numbers_normalised(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["abc", "12345", "110", "1280000000", "12800000000", "138000000001", "021-555", "+1 212 555 1234"],
)
def test_phone_numbers_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(typed)


def test_a_wrong_number_is_refused_naming_the_field(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    with pytest.raises(InvalidInput) as exc:
        rescue.report(
            session, OPERATOR, rescue.Report(CODE, Source.PHONE, callback_phone="abc"), clock, SETTINGS
        )
    assert [e.field for e in exc.value.errors] == ["callback_phone"]
    headers = auth(client, Role.RESCUE_OPERATOR)
    r = client.post(
        "/api/v1/rescue/incidents", json={"code": "100001", "callback_phone": "abc"}, headers=headers
    )
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["callback_phone"]
    assert r.json()["detail"].startswith("callback_phone: not a phone number")
    r = client.post(
        "/api/v1/rescue/incidents",
        json={"code": "100001", "callback_phone": "+86 138-0000-0000"},
        headers=headers,
    )
    assert r.status_code == 201 and r.json()["incident"]["callback_phone"] == "13800000000"


# ---------------------------------------------------------------- codes as typed


def test_codes_found_however_typed(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    registry.update_elevator(
        session, SYSTEM_ACTOR, "11SHA000002", ElevatorUpdate(equipment_code="3110310100201906001"), clock
    )
    session.commit()
    for typed, found in (
        ("100001", CODE),
        (" 100 001 ", CODE),
        ("１００００１", CODE),  # full-width digits
        ("11sha000001", CODE),
        ("11SHA 000 001", CODE),
        ("\u300011sha000001", CODE),  # an ideographic space
        ("3110310100201906001", "11SHA000002"),  # the equipment code
        ("3110 3101 0020 1906 001", "11SHA000002"),
    ):
        assert registry_queries.get_public_elevator(session, typed).registration_code == found, typed
    with pytest.raises(NotFound):
        registry_queries.get_public_elevator(session, "1000 02x")
    # The API takes a call by any of them.
    headers = auth(client, Role.RESCUE_OPERATOR)
    r = client.post("/api/v1/rescue/incidents", json={"code": "11sha 000002"}, headers=headers)
    assert r.status_code == 201 and r.json()["incident"]["registration_code"] == "11SHA000002"
    r = client.post("/api/v1/rescue/incidents", json={"code": "100 001"}, headers=headers)
    assert r.status_code == 201 and r.json()["incident"]["registration_code"] == CODE


# ---------------------------------------------------------------- the API


def test_api_redispatch_and_escalate(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    inc_id = _open(session, clock)
    headers = auth(client, Role.RESCUE_OPERATOR)
    url = f"/api/v1/rescue/incidents/{inc_id}"
    r = client.post(f"{url}/redispatch", json={"crew_id": "RS1", "reason": "加派救援站"}, headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["level"], body["unit"], body["crew_id"], body["dispatched_by"]) == (
        "L2",
        "RS-1",
        "RS1",
        "operator",
    )
    again = client.post(f"{url}/redispatch", json={"crew_id": "RS1", "reason": "加派救援站"}, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    for payload, field in (
        ({"crew_id": "RS1"}, "reason"),
        ({"crew_id": "RS1", "reason": ""}, "reason"),
        ({"crew_id": "NOPE", "reason": "x"}, "crew_id"),
        ({"reason": "x"}, "body"),
    ):
        r = client.post(f"{url}/redispatch", json=payload, headers=headers)
        assert r.status_code == 422, payload
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert "crew_id or unit" in client.post(f"{url}/redispatch", json={"reason": "x"}, headers=headers).text

    r = client.post(f"{url}/escalate", json={"reason": "", "from_level": "L2"}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(f"{url}/escalate", json={"reason": "两组均未到", "from_level": "L2"}, headers=headers)
    assert r.status_code == 200 and r.json()["level"] == "L3"
    r = client.post(f"{url}/escalate", json={"reason": "两组均未到", "from_level": "L2"}, headers=headers)
    assert r.status_code == 200 and r.json()["level"] == "L3"  # a repeat: unchanged
    assert client.post(f"{url}/escalate", json={"reason": "再升"}, headers=headers).status_code == 409
    detail = client.get(url, headers=headers).json()
    assert [e["kind"] for e in detail["events"]].count("escalated") == 1
    crew = auth(client, Role.MAINTENANCE)  # maint_a is no crew here
    assert (
        client.post(f"{url}/redispatch", json={"crew_id": "A2", "reason": "x"}, headers=crew).status_code
        == 403
    )
