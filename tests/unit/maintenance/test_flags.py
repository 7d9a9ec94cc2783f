"""Fake-maintenance flags (假维保): a record is judged when its worker signs it, with what the database holds
(the check-in position against the elevator's, the worker's other visits, the duration against the items);
the flags are stored for a regulator, who confirms or dismisses each with a note. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.maintenance import fakes, service
from liftwatch.maintenance.service import ItemEntry
from liftwatch.maintenance.workflow import ItemResult, WorkOrderSource
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from tests.factories import RESCUE_SITE, auth, km_north
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = Settings()
OK = ItemResult.OK
FAR = km_north(2)  # about 2.2 km from the elevator
SECOND_SITE = km_north(20)  # another estate, 30 min away at 40 km/h


def _place(session: Session, clock: FixedClock) -> None:
    for code, at in (("11SHA000001", RESCUE_SITE), ("11SHA000002", SECOND_SITE)):
        registry.update_elevator(
            session, SYSTEM_ACTOR, code, ElevatorUpdate(latitude=at.lat, longitude=at.lon), clock
        )
    session.commit()


def _visit(
    session: Session,
    p: dict[str, Actor],
    clock: FixedClock,
    ref: str,
    code: str = "11SHA000001",
    scanned: str = "100001",
    at: tuple[float, float] = (RESCUE_SITE.lat, RESCUE_SITE.lon),
    minutes: float = 40,
    sign: bool = True,
) -> int:
    """A corrective work order of maint_a on ``code``: checked in at ``at``, one item, ``minutes`` on site."""
    wo = service.open_corrective(
        session, p["admin"], code, WorkOrderSource.FAULT, ref, "门锁故障", clock, SETTINGS
    ).work_order.id
    service.assign(session, p["maint_a"], wo, "maint_a", clock)
    service.check_in(session, p["maint_a"], wo, at[0], at[1], scanned, clock)
    service.record_results(session, p["maint_a"], wo, [ItemEntry("A1-03", OK)], [], clock)
    clock.advance(timedelta(minutes=minutes))
    service.check_out(session, p["maint_a"], wo, at[0], at[1], clock)
    if sign:
        service.sign(session, p["maint_a"], wo, clock)
    session.commit()
    return wo


def test_signing_a_short_visit_far_from_the_elevator_stores_two_open_flags(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    p = people
    _place(session, clock)
    wo = _visit(session, p, clock, "F-1", at=(FAR.lat, FAR.lon), minutes=2)
    flags = service.list_flags(session, p["regulator"])
    assert {f.kind for f in flags} == {"too_short", "far_check_in"}
    assert all(
        (f.state, f.work_order_id, f.worker, f.unit_code) == ("open", wo, "maint_a", "MU-A") for f in flags
    )
    by_kind = {f.kind: f for f in flags}
    assert 2000 < by_kind["far_check_in"].evidence["metres"] < 2500
    assert by_kind["too_short"].evidence["minutes"] == 2.0
    assert by_kind["too_short"].evidence["expected_min"] > 2.0
    # judging again adds nothing; the telemetry kinds: the elevator has no IoT terminal, and says so
    order = service.get_work_order(session, p["admin"], wo)
    record = service.records_of(session, order)[0]
    judgement = service.judge_record(session, order, record, clock.now())
    assert len(service.list_flags(session, p["regulator"])) == 2
    not_judged = {n.kind: n.reason for n in judgement.not_judged}
    assert set(fakes.TELEMETRY_KINDS) <= set(not_judged)
    assert not_judged[fakes.FakeKind.NO_INSPECTION_MODE] == "no IoT terminal"


def test_an_honest_visit_is_not_flagged(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _place(session, clock)
    _visit(session, people, clock, "F-1", minutes=40)
    assert service.list_flags(session, people["regulator"]) == []


def test_two_places_at_once_flags_both_visits(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    p = people
    _place(session, clock)
    first = _visit(session, p, clock, "F-1", minutes=40)
    clock.advance(timedelta(minutes=5))  # 5 min to cross 20 km
    second = _visit(
        session, p, clock, "F-2", code="11SHA000002", scanned="100002", at=(SECOND_SITE.lat, SECOND_SITE.lon)
    )
    flags = [f for f in service.list_flags(session, p["regulator"]) if f.kind == "two_places_at_once"]
    assert sorted(f.work_order_id for f in flags) == [first, second]
    by_order = {f.work_order_id: f for f in flags}
    assert by_order[second].evidence["other_elevator"] == "11SHA000001"
    assert by_order[first].evidence["other_elevator"] == "11SHA000002"
    assert by_order[first].evidence["travel_minutes"] > 25


def test_a_regulator_confirms_or_dismisses_a_flag_with_a_note(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    p = people
    _place(session, clock)
    _visit(session, p, clock, "F-1", at=(FAR.lat, FAR.lon), minutes=2)
    far, short = sorted(service.list_flags(session, p["regulator"]), key=lambda f: f.kind)
    with pytest.raises(Forbidden):
        service.review_flag(session, p["maint_a"], far.id, "dismissed", "我在现场", clock)
    with pytest.raises(Forbidden):
        service.review_flag(session, p["operator"], far.id, "confirmed", "x", clock)
    with pytest.raises(InvalidInput) as blank:
        service.review_flag(session, p["regulator"], far.id, "confirmed", "  ", clock)
    assert blank.value.errors[0].field == "note"
    with pytest.raises(NotFound):
        service.review_flag(session, p["regulator"], 999, "confirmed", "x", clock)
    clock.advance(timedelta(hours=1))
    done = service.review_flag(session, p["regulator"], far.id, "confirmed", "签到位置在2公里外", clock)
    session.commit()
    assert (done.state, done.reviewer, done.note, done.reviewed_at) == (
        "confirmed", "regulator", "签到位置在2公里外", clock.now(),
    )  # fmt: skip
    with pytest.raises(Conflict):
        service.review_flag(session, p["admin"], far.id, "dismissed", "again", clock)
    service.review_flag(session, p["admin"], short.id, "dismissed", "单项维修, 时间合理", clock)
    session.commit()
    assert [f.kind for f in service.list_flags(session, p["regulator"], state="open")] == []
    assert [f.kind for f in service.list_flags(session, p["regulator"], state="dismissed")] == ["too_short"]
    # the decision is on the elevator file (一梯一档)
    elevator = registry_queries.get_public_elevator(session, "11SHA000001")
    kinds = [e.kind for e in registry_queries.timeline(session, elevator)]
    assert kinds.count("maintenance_flag_reviewed") == 2


def test_the_elevator_file_shows_its_flags_to_whoever_may_read_it(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    p = people
    _place(session, clock)
    _visit(session, p, clock, "F-1", at=(FAR.lat, FAR.lon), minutes=2)
    for who in ("regulator", "inspector", "maint_a", "owner_a"):
        assert len(service.flags_of_elevator(session, p[who], "11SHA000001")) == 2, who
    for who in ("maint_b", "owner_b"):  # another unit's staff, another use unit
        assert service.flags_of_elevator(session, p[who], "11SHA000001") == [], who
    assert service.flags_of_elevator(session, p["regulator"], "11SHA000002") == []


def test_the_review_route_requires_a_decision_and_a_note(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _place(session, clock)
    _visit(session, people, clock, "F-1", at=(FAR.lat, FAR.lon), minutes=2)
    headers = auth(client, Role.REGULATOR)
    listed = client.get("/api/v1/maintenance/flags?state=open", headers=headers)
    assert listed.status_code == 200 and len(listed.json()) == 2
    flag_id = listed.json()[0]["id"]
    url = f"/api/v1/maintenance/flags/{flag_id}/review"
    assert client.post(url, headers=headers, json={"decision": "dismissed"}).status_code == 422
    assert client.post(url, headers=headers, json={"decision": "maybe", "note": "x"}).status_code == 422
    r = client.post(url, headers=headers, json={"decision": "dismissed", "note": "已核实"})
    assert r.status_code == 200 and r.json()["state"] == "dismissed"
    assert client.post(url, headers=headers, json={"decision": "confirmed", "note": "x"}).status_code == 409
    assert client.get("/api/v1/maintenance/flags?state=nope", headers=headers).status_code == 422
