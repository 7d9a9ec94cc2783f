"""Every dispatch on record, and the KPIs that follow from the records (issue 11, acceptance): lifecycle
tests with a controlled clock, on SQLite and PostgreSQL. Each test drives an incident through the service
(or the API), then asserts the dispatch rows and the KPI figures, worked out by hand in the comments.

The city (tests/factories.rescue_city): the elevator 11SHA000001 (MU-A, 30-min area) at RESCUE_SITE;
crews A1 (MU-A, 2 km: 6.7 min away), A2 (MU-A, 8 km) and RS1 (rescue station RS-1, 3 km: 10.1 min).
The test clock starts at 2026-11-23 09:00 UTC (17:00 in Beijing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, Level, Source
from liftwatch.rescue.kpis import Kpis, Ratio, compute_kpis
from liftwatch.rescue.models import Crew, NoticeOutbox
from tests.factories import PASSWORD, auth, token

OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
CODE = "11SHA000001"
SETTINGS = rescue.RescueSettings()
A1, RS1 = Actor("crew_a1", Role.MAINTENANCE), Actor("crew_rs", Role.MAINTENANCE)


def _open(session: Session, clock: FixedClock, code: str = CODE) -> int:
    out = rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, SETTINGS)
    session.commit()
    return out.incident.id


def _at(clock: FixedClock, t0: datetime, minutes: float) -> None:
    """Move the clock to ``minutes`` after t0."""
    clock.advance(t0 + timedelta(minutes=minutes) - clock.now())


def _fire(session: Session, clock: FixedClock) -> list[rescue.Notice]:
    notices = rescue.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    return notices


def _rows(session: Session, inc_id: int, t0: datetime) -> list[tuple[object, ...]]:
    """(level, unit, crew, dispatched, acknowledged, arrived, released, withdrawn) in minutes after t0."""

    def m(t: datetime | None) -> float | None:
        return None if t is None else (t - t0) / timedelta(minutes=1)

    return [
        (d.level, d.unit, d.crew_id, m(d.dispatched_at), m(d.acknowledged_at), m(d.arrived_at),
         m(d.released_at), m(d.withdrawn_at))
        for d in rescue.dispatches_of(session, OPERATOR, inc_id)
    ]  # fmt: skip


def _kpis(session: Session, clock: FixedClock, t0: datetime, unit: str | None = None) -> Kpis:
    """The KPIs of the day around t0, as of the clock's now, with the rescue settings' limits."""
    start, end = t0 - timedelta(hours=1), t0 + timedelta(hours=23)
    records = rescue_queries.incident_records(session, OPERATOR, start, end, unit=unit)
    return compute_kpis(records, 4, start, end, rescue.kpi_settings(SETTINGS), clock.now(), unit)


def pair(r: Ratio) -> tuple[int, int]:
    return (r.numerator, r.denominator)


def test_l1_acknowledges_arrives_late_and_l2_arrives_first(
    session: Session, clock: FixedClock, city: None
) -> None:
    t0 = clock.now()
    inc_id = _open(session, clock)  # 0: L1 dispatch to A1 (6.7 min away: no predicted lateness)
    _at(clock, t0, 2)
    rescue.acknowledge(session, A1, inc_id, clock)  # 2: A1 answers
    session.commit()
    _at(clock, t0, 30)
    notices = _fire(session, clock)  # 30: not arrived by the limit -> L2, RS1 (10.1 min: arrives ~40)
    assert [n.kind for n in notices] == ["escalated", "dispatched", "no_crew_in_time"]
    _at(clock, t0, 31)
    rescue.acknowledge(session, RS1, inc_id, clock)  # 31: RS1 answers its own dispatch
    _at(clock, t0, 38)
    rescue.arrive(session, RS1, inc_id, clock)  # 38: RS1 first on site
    _at(clock, t0, 41)
    rescue.arrive(session, A1, inc_id, clock)  # 41: A1 arrives late: still its job, not a 404
    _at(clock, t0, 42)
    rescue.release(session, RS1, inc_id, clock)  # 42
    _at(clock, t0, 50)
    rescue.complete(session, A1, inc_id, clock, SETTINGS, Cause.ELECTRO_MECHANICAL)  # 50: the L1 unit's cause
    _at(clock, t0, 55)
    rescue.call_back(session, OPERATOR, inc_id, clock, "已平安")  # 55
    session.commit()

    assert _rows(session, inc_id, t0) == [
        ("L1", "MU-A", "A1", 0, 2, 41, None, None),
        ("L2", "RS-1", "RS1", 30, 31, 38, 42, None),
    ]
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    # stage times derived: the first dispatch (0), the first answer (2), the first arrival (38)
    assert (inc.dispatched_at, inc.acknowledged_at, inc.arrived_at) == (
        t0, t0 + timedelta(minutes=2), t0 + timedelta(minutes=38)
    )  # fmt: skip
    assert (inc.level, inc.status) == ("L2", "completed")

    _at(clock, t0, 24 * 60)
    k = _kpis(session, clock, t0)
    assert pair(k.response_rate) == (1, 1)  # the first (L1) dispatch answered in 2 min <= 5
    assert k.average_arrival.minutes == 38.0  # first arrival - alarm
    assert pair(k.on_time_arrival) == (0, 1)  # 38 > 30
    assert pair(k.dispatch_rate) == (2, 2)  # both dispatches arrived
    assert pair(k.rescue_success) == (1, 1)
    assert pair(k.callback_rate) == (1, 1) and pair(k.cause_reported) == (1, 1)
    assert pair(k.by_level[Level.L2]) == (1, 1) and k.pending == 0
    mu_a = _kpis(session, clock, t0, "MU-A")  # MU-A's own dispatch only: answered in 2, arrived at 41
    assert pair(mu_a.response_rate) == (1, 1) and mu_a.average_arrival.minutes == 41.0
    assert pair(mu_a.on_time_arrival) == (0, 1) and pair(mu_a.rescue_success) == (1, 1)
    rs = _kpis(session, clock, t0, "RS-1")  # RS-1: answered 1 min after its dispatch, on site at 38
    assert pair(rs.response_rate) == (1, 1) and rs.average_arrival.minutes == 38.0
    assert pair(rs.on_time_arrival) == (0, 1)  # measured from the alarm, like every arrival
    assert rs.rescues == 0  # no incident is contracted to the station


def test_l1_never_answers(session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    inc_id = _open(session, clock)  # 0: A1
    _at(clock, t0, 5)
    _fire(session, clock)  # 5: no acknowledgement -> L2, RS1 (arrives by ~15: in time, no warning)
    _at(clock, t0, 6)
    rescue.acknowledge(session, RS1, inc_id, clock)  # 6
    _at(clock, t0, 14)
    rescue.arrive(session, RS1, inc_id, clock)  # 14
    _at(clock, t0, 17)
    rescue.release(session, RS1, inc_id, clock)  # 17
    _at(clock, t0, 20)
    rows = rescue.dispatches_of(session, OPERATOR, inc_id)
    with pytest.raises(InvalidInput):
        rescue.withdraw(session, OPERATOR, inc_id, rows[0].id, clock, SETTINGS, "  ")  # a reason is required
    rescue.withdraw(
        session, OPERATOR, inc_id, rows[0].id, clock, SETTINGS, "一级未应答"
    )  # 20: A1 off the job
    _at(clock, t0, 25)
    rescue.complete(session, RS1, inc_id, clock, SETTINGS, Cause.MISUSE)  # 25
    session.commit()
    with pytest.raises(Conflict):  # a withdrawn crew cannot act any more (it still sees the incident)
        rescue.acknowledge(session, A1, inc_id, clock)

    assert _rows(session, inc_id, t0) == [
        ("L1", "MU-A", "A1", 0, None, None, None, 20),
        ("L2", "RS-1", "RS1", 5, 6, 14, 17, None),
    ]
    a1 = session.get(Crew, "A1")
    assert a1 is not None and a1.busy_incident_id is None  # freed by the withdrawal

    _at(clock, t0, 24 * 60)
    k = _kpis(session, clock, t0)
    # the first dispatch (A1) was never answered: a miss, not credited with RS1's answer at 6
    assert pair(k.response_rate) == (0, 1)
    assert k.average_arrival.minutes == 14.0 and pair(k.on_time_arrival) == (1, 1)
    # A1 was withdrawn unanswered 15 min after its limit: a failed dispatch; RS1 arrived: 1 of 2
    assert pair(k.dispatch_rate) == (1, 2)
    assert pair(k.rescue_success) == (1, 1) and pair(k.callback_rate) == (0, 1)
    mu_a = _kpis(session, clock, t0, "MU-A")
    assert pair(mu_a.response_rate) == (0, 1) and mu_a.average_arrival.count == 0
    assert pair(mu_a.on_time_arrival) == (0, 1) and pair(mu_a.dispatch_rate) == (0, 1)
    rs = _kpis(session, clock, t0, "RS-1")
    assert pair(rs.response_rate) == (1, 1) and pair(rs.on_time_arrival) == (1, 1)


def test_l3_with_a_119_record(session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    inc_id = _open(session, clock)  # 0: A1
    _at(clock, t0, 1)
    rescue.acknowledge(session, A1, inc_id, clock)  # 1
    session.commit()
    _at(clock, t0, 30)
    _fire(session, clock)  # 30: late -> L2, RS1
    _at(clock, t0, 40)
    notices = _fire(session, clock)  # 40: limit + 10 min grace -> L3: call 119
    assert [(n.kind, n.level, n.details.get("call")) for n in notices] == [("escalated", "L3", "119")]
    _at(clock, t0, 41)
    with pytest.raises(Forbidden):
        rescue.record_fire_call(session, A1, inc_id, clock, "x")
    rescue.record_fire_call(session, OPERATOR, inc_id, clock, "119-2026-0042")  # 41
    with pytest.raises(Conflict):
        rescue.record_fire_call(session, OPERATOR, inc_id, clock, "again")  # one call on record
    _at(clock, t0, 53)
    # the fire service arrived at 52 (told at 53); the operator stands RS1 down
    rescue.record_fire_arrival(session, OPERATOR, inc_id, clock, t0 + timedelta(minutes=52))
    rs1_row = rescue.dispatches_of(session, OPERATOR, inc_id)[1]
    rescue.withdraw(session, OPERATOR, inc_id, rs1_row.id, clock, SETTINGS, "消防已到场")  # 53
    _at(clock, t0, 55)
    rescue.arrive(session, A1, inc_id, clock)  # 55
    _at(clock, t0, 60)
    rescue.record_fire_release(session, OPERATOR, inc_id, clock)  # 60
    _at(clock, t0, 70)
    rescue.complete(session, A1, inc_id, clock, SETTINGS, Cause.ELECTRO_MECHANICAL)  # 70
    session.commit()

    assert _rows(session, inc_id, t0) == [
        ("L1", "MU-A", "A1", 0, 1, 55, None, None),
        ("L2", "RS-1", "RS1", 30, None, None, None, 53),
        ("L3", "119", None, 41, None, 52, 60, None),
    ]
    fire = rescue.dispatches_of(session, OPERATOR, inc_id)[2]
    assert (fire.dispatched_by, fire.reference) == ("operator", "119-2026-0042")
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert inc.level == "L3" and inc.escalated_l3_at == t0 + timedelta(minutes=40)
    assert inc.arrived_at == t0 + timedelta(minutes=52) and inc.released_at == t0 + timedelta(minutes=60)
    kinds = [e.kind for e in rescue_queries.incident_events(session, inc)]
    assert {"fire_called", "fire_arrived", "fire_released", "withdrawn"} <= set(kinds)

    _at(clock, t0, 24 * 60)
    k = _kpis(session, clock, t0)
    assert pair(k.response_rate) == (1, 1)  # A1 answered in 1 min
    assert k.average_arrival.minutes == 52.0 and pair(k.on_time_arrival) == (0, 1)  # the fire service, 52
    # A1 arrived, the fire service arrived; RS1 was withdrawn after the deadline unanswered: 2 of 3
    assert pair(k.dispatch_rate) == (2, 3)
    assert pair(k.by_level[Level.L3]) == (1, 1) and pair(k.rescue_success) == (1, 1)
    assert k.average_on_site.minutes == 8.0  # release 60 - first arrival 52


def test_self_release(session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    inc_id = _open(session, clock)  # 0: A1
    _at(clock, t0, 1)
    rescue.acknowledge(session, A1, inc_id, clock)  # 1: on its way
    _at(clock, t0, 8)
    with pytest.raises(InvalidInput):  # they cannot have got out after now
        rescue.self_released(session, OPERATOR, inc_id, clock, SETTINGS, at=t0 + timedelta(minutes=9))
    # 8: the caller says they got out at 6 (自行脱困); the crew on the way is withdrawn
    rescue.self_released(
        session, OPERATOR, inc_id, clock, SETTINGS, "乘客自行打开轿门", t0 + timedelta(minutes=6)
    )
    _at(clock, t0, 10)
    rescue.call_back(session, OPERATOR, inc_id, clock, "已确认平安")
    session.commit()

    assert _rows(session, inc_id, t0) == [("L1", "MU-A", "A1", 0, 1, None, None, 8)]
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert (inc.status, inc.released_at, inc.completed_at, inc.all_released) == (
        "self_released", t0 + timedelta(minutes=6), t0 + timedelta(minutes=8), True
    )  # fmt: skip
    a1 = session.get(Crew, "A1")
    assert a1 is not None and a1.busy_incident_id is None
    assert rescue_queries.open_incident_of(session, CODE) is None  # the elevator can have a new incident
    _at(clock, t0, 40)
    assert _fire(session, clock) == []  # its deadlines were cancelled

    _at(clock, t0, 24 * 60)
    k = _kpis(session, clock, t0)
    assert k.rescues == 1 and k.self_released == 1
    assert pair(k.response_rate) == (1, 1)
    # nobody needed to arrive: the wait ended at 6, before the deadline; A1 was stood down, no failure
    assert pair(k.on_time_arrival) == (0, 0) and k.average_arrival.count == 0
    assert pair(k.dispatch_rate) == (0, 0)
    assert pair(k.rescue_success) == (1, 1) and pair(k.callback_rate) == (1, 1)
    assert pair(k.cause_reported) == (0, 1)  # closed without a cause


def test_cancelled_call_and_false_alarm_need_a_reason(
    session: Session, clock: FixedClock, city: None
) -> None:
    t0 = clock.now()
    first = _open(session, clock)
    with pytest.raises(InvalidInput):
        rescue.false_alarm(session, OPERATOR, first, clock, SETTINGS, "")
    rescue.false_alarm(session, OPERATOR, first, clock, SETTINGS, "按错按钮")
    session.commit()
    second = _open(session, clock)
    with pytest.raises(InvalidInput):
        rescue.cancel_call(session, OPERATOR, second, clock, SETTINGS, " ")
    _at(clock, t0, 3)
    rescue.cancel_call(session, OPERATOR, second, clock, SETTINGS, "来电人取消")
    session.commit()
    assert [r[-1] for r in _rows(session, second, t0)] == [3]  # A1 withdrawn with the call
    inc = rescue.get_incident(session, OPERATOR, second)
    assert (inc.status, inc.close_reason) == ("cancelled", "来电人取消")
    _at(clock, t0, 24 * 60)
    k = _kpis(session, clock, t0)
    assert (k.incidents, k.false_alarms, k.cancelled, k.rescues) == (2, 1, 1, 0)


def test_a_crew_acts_only_on_its_own_dispatch(session: Session, clock: FixedClock, city: None) -> None:
    t0 = clock.now()
    inc_id = _open(session, clock)
    _at(clock, t0, 5)
    _fire(session, clock)  # L2: RS1 added, A1 still on the job
    rows = rescue.dispatches_of(session, OPERATOR, inc_id)
    with pytest.raises(NotFound):  # RS1's user names A1's dispatch
        rescue.acknowledge(session, RS1, inc_id, clock, dispatch_id=rows[0].id)
    with pytest.raises(NotFound):  # A2 has no dispatch on it: the incident is not even visible
        rescue.acknowledge(session, Actor("crew_a2", Role.MAINTENANCE), inc_id, clock)
    with pytest.raises(NotFound):
        rescue.withdraw(session, RS1, inc_id, rows[0].id, clock, SETTINGS, "不是我的")
    rescue.acknowledge(session, RS1, inc_id, clock)  # its own
    rescue.acknowledge(session, A1, inc_id, clock)  # A1 late, but it answers its own dispatch
    rescue.withdraw(
        session, A1, inc_id, rows[0].id, clock, SETTINGS, "车辆故障"
    )  # a crew may withdraw itself
    session.commit()
    assert [(r[2], r[4], r[7]) for r in _rows(session, inc_id, t0)] == [("A1", 5, 5), ("RS1", 5, None)]
    assert [i.id for i in rescue.visible_incidents(session, A1, open_only=True)] == [inc_id]
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    assert inc.crew_id == "RS1" and inc.status == "acknowledged"


def test_l2_says_when_no_candidate_can_make_the_deadline(
    session: Session, clock: FixedClock, city: None
) -> None:
    """L2 takes the candidate with the soonest predicted arrival (RS1, 10.1 min; A2 is MU-A's, so not a
    candidate); at 25 min RS1 would arrive at ~35 > 30: recorded and noticed."""
    t0 = clock.now()
    inc_id = _open(session, clock)
    _at(clock, t0, 25)
    inc = rescue.get_incident(session, OPERATOR, inc_id)
    notices = rescue.escalate(session, inc, Level.L2, "operator", "operator", clock.now(), SETTINGS)
    session.commit()
    assert [n.kind for n in notices] == ["escalated", "dispatched", "no_crew_in_time"]
    late = notices[-1].details
    assert late["crew"] == "RS1" and late["deadline"] == (t0 + timedelta(minutes=30)).isoformat()
    assert session.scalar(select(NoticeOutbox.id).where(NoticeOutbox.kind == "no_crew_in_time")) is not None
    trail = [e.kind for e in rescue_queries.incident_events(session, inc)]
    assert trail[-1] == "no_crew_in_time"


# ---------------------------------------------------------------- through the API


def _reg(client: TestClient) -> dict[str, str]:
    return auth(client, Role.REGULATOR)


def test_open_past_its_deadline_and_the_month_reported_after_it(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """An alarm at 23:50 on 30 November in Beijing (15:50 UTC); A1 answers and never arrives; nobody
    closes it. November (as dates: 2026-11-01 to 2026-11-30, Beijing days) reported:
    - on 1 December 00:10 Beijing (16:10 UTC): the arrival deadline (00:20) is still ahead: pending;
    - at 00:30 Beijing: past the deadline: not on time (0 / 1); success still pending (closing limit 24 h);
    - on 2 December 00:00 Beijing (24 h 10 min after): not successful (0 / 1), nothing pending.
    The old code used min(period end, now) as "now": the month stayed undecided for ever."""
    clock.advance(datetime(2026, 11, 30, 15, 50, tzinfo=UTC) - clock.now())
    t0 = clock.now()
    inc_id = _open(session, clock)
    _at(clock, t0, 2)
    rescue.acknowledge(session, A1, inc_id, clock)
    session.commit()
    november = "/api/v1/rescue/kpis?from=2026-11-01&to=2026-11-30"

    _at(clock, t0, 20)
    k = client.get(november, headers=_reg(client)).json()
    assert k["period"] == {"from": "2026-10-31T16:00:00Z", "to": "2026-11-30T16:00:00Z"}
    assert k["incidents"] == 1 and k["pending"] == 1
    assert (k["on_time_arrival"]["numerator"], k["on_time_arrival"]["denominator"]) == (0, 0)
    assert (k["response_rate"]["numerator"], k["response_rate"]["denominator"]) == (1, 1)

    _at(clock, t0, 40)
    k = client.get(november, headers=_reg(client)).json()
    assert (k["on_time_arrival"]["numerator"], k["on_time_arrival"]["denominator"]) == (0, 1)
    assert (k["rescue_success"]["denominator"], k["pending"]) == (0, 1)
    stale = rescue_queries.stale_open_incidents(session, clock, SETTINGS)
    assert [(s.incident.id, s.overdue, s.unsettled, s.minutes_past) for s in stale] == [
        (inc_id, True, False, 10)
    ]

    _at(clock, t0, 24 * 60 + 10)
    k = client.get(november, headers=_reg(client)).json()
    assert (k["rescue_success"]["numerator"], k["rescue_success"]["denominator"]) == (0, 1)
    assert k["pending"] == 0 and k["rescue_success"]["met"] is False
    assert [s.unsettled for s in rescue_queries.stale_open_incidents(session, clock, SETTINGS)] == [True]


def test_a_period_given_as_dates_around_midnight_in_beijing(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """Alarms at 23:59 on 30 November (15:59 UTC) and 00:01 on 1 December (16:01 UTC), Beijing time.
    from=to=2026-12-01 is 1 December in Beijing, [11-30 16:00, 12-01 16:00) UTC: the second only; read
    as UTC days it would hold neither. from=to=2026-11-30: the first only."""
    clock.advance(datetime(2026, 11, 30, 15, 59, tzinfo=UTC) - clock.now())
    first = _open(session, clock, "11SHA000001")
    clock.advance(timedelta(minutes=2))
    second = _open(session, clock, "11SHA000002")
    reg = _reg(client)
    dec1 = client.get("/api/v1/rescue/kpis?from=2026-12-01&to=2026-12-01", headers=reg).json()
    assert dec1["period"] == {"from": "2026-11-30T16:00:00Z", "to": "2026-12-01T16:00:00Z"}
    assert dec1["incidents"] == 1
    nov30 = client.get("/api/v1/rescue/kpis?from=2026-11-30&to=2026-11-30", headers=reg).json()
    assert nov30["incidents"] == 1
    both = client.get("/api/v1/rescue/kpis?from=2026-11-30&to=2026-12-01", headers=reg).json()
    assert both["incidents"] == 2
    # a date-time without an offset is city time too: 00:00 on 1 December in Beijing
    naive = client.get("/api/v1/rescue/kpis?from=2026-12-01T00:00&to=2026-12-01T08:00", headers=reg).json()
    assert naive["incidents"] == 1
    listed = {i["id"] for i in client.get("/api/v1/rescue/incidents", headers=reg).json()}
    assert {first, second} <= listed
    bad = client.get("/api/v1/rescue/kpis?from=1.12.2026", headers=reg)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "from"


def test_kpi_answer_has_a_schema(client: TestClient, city: None) -> None:
    spec = client.get("/openapi.json").json()
    ok = spec["paths"]["/api/v1/rescue/kpis"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/KpisOut")
    fields = spec["components"]["schemas"]["KpisOut"]["properties"]
    assert {"timestamp_anomalies", "callback_rate", "cause_reported", "response_rate"} <= set(fields)
    k = client.get("/api/v1/rescue/kpis", headers=_reg(client)).json()
    assert k["timestamp_anomalies"] == [] and k["callback_rate"]["value"] is None


def test_the_response_limit_comes_from_the_rescue_settings(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """Answered 2 min after the dispatch: within the default 5 min, not within a 60-s setting."""
    t0 = clock.now()
    inc_id = _open(session, clock)
    _at(clock, t0, 2)
    rescue.acknowledge(session, A1, inc_id, clock)
    session.commit()
    url = "/api/v1/rescue/kpis?from=2026-11-23&to=2026-11-23"
    assert client.get(url, headers=_reg(client)).json()["response_rate"]["numerator"] == 1
    client.app.state.rescue_settings = rescue.RescueSettings(ack_limit_s=60)  # type: ignore[attr-defined]
    assert client.get(url, headers=_reg(client)).json()["response_rate"]["numerator"] == 0


def test_a_rescue_station_user_acts_as_its_crew_end_to_end(
    client: TestClient, session: Session, clock: FixedClock, city: None
) -> None:
    """An admin creates a maintenance-role user of the rescue station RS-1; the station's crew is bound to
    it; after an L2 escalation the user acknowledges and arrives through the crew API, sees only its
    station's incidents and nothing of MU-A's dispatch."""
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="rs_staff", password=PASSWORD, role=Role.MAINTENANCE, unit="RS-1"),
        clock,
    )
    session.commit()
    staff = {"Authorization": f"Bearer {token(client, 'rs_staff')}"}
    r = client.post(
        "/api/v1/rescue/crews",
        headers=staff,  # the station's own staff registers its crew
        json={"id": "RS2", "unit": "RS-1", "name": "救援站二组", "latitude": 31.231, "longitude": 121.47,
              "username": "rs_staff"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    t0 = clock.now()
    inc_id = _open(session, clock)
    assert client.get("/api/v1/rescue/incidents", headers=staff).json() == []  # not sent yet
    _at(clock, t0, 5)
    _fire(session, clock)  # L2: RS2 (0.1 km) beats RS1 (3 km)
    path = f"/api/v1/rescue/incidents/{inc_id}"
    assert [i["id"] for i in client.get("/api/v1/rescue/incidents", headers=staff).json()] == [inc_id]
    for step, minutes in (("acknowledge", 6), ("arrive", 9)):
        _at(clock, t0, minutes)
        r = client.post(f"{path}/{step}", headers=staff)
        assert r.status_code == 200, (step, r.text)
    detail = client.get(path, headers=staff).json()
    got = [
        (d["level"], d["crew_id"], bool(d["acknowledged_at"]), bool(d["arrived_at"]))
        for d in detail["dispatches"]
    ]
    assert got == [("L1", "A1", False, False), ("L2", "RS2", True, True)]
    a1_dispatch = detail["dispatches"][0]["id"]
    r = client.post(f"{path}/acknowledge?dispatch={a1_dispatch}", headers=staff)
    assert r.status_code == 404  # MU-A's dispatch is not the station's
    r = client.post(f"{path}/dispatches/{a1_dispatch}/withdraw", headers=staff, json={"reason": "x"})
    assert r.status_code == 404
