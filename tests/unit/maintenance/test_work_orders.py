"""Work orders (工单): their life from opening to the use unit's sign-off, idempotent opening, the SLA on
durable deadlines (to the second, and after a restart), signed records that refuse edits, and scope.
Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core import outbox
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.maintenance import service
from liftwatch.maintenance.domain import Interval
from liftwatch.maintenance.models import MaintenanceNotice
from liftwatch.maintenance.service import ItemEntry, PartEntry
from liftwatch.maintenance.workflow import ItemResult, WorkOrderSource, WorkOrderState
from tests.conftest import NOW
from tests.factories import auth
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(maintenance_corrective_sla_h=24, maintenance_urgent_sla_h=4, maintenance_escalation_h=24)
OK = ItemResult.OK


def _open(
    session: Session, who: Actor, clock: FixedClock, ref: str = "F-1", code: str = "11SHA000001"
) -> int:
    out = service.open_corrective(session, who, code, WorkOrderSource.FAULT, ref, "门锁故障", clock, SETTINGS)
    session.commit()
    return out.work_order.id


def _assign_and_check_in(session: Session, p: dict[str, Actor], clock: FixedClock, wo: int) -> None:
    service.assign(session, p["maint_a"], wo, "maint_a", clock)
    service.check_in(session, p["maint_a"], wo, 31.23, 121.47, "100001", clock)
    session.commit()


def test_a_work_order_lives_from_opening_to_the_use_units_sign_off(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    p = people
    wo = _open(session, p["admin"], clock)
    order = service.get_work_order(session, p["admin"], wo)
    assert (order.state, order.unit_code, order.kind) == ("open", "MU-A", "corrective")
    assert order.due_at == NOW + timedelta(hours=24)
    with pytest.raises(InvalidInput) as bad:
        service.assign(session, p["maint_a"], wo, "maint_b", clock)  # another unit's worker
    assert bad.value.errors[0].field == "assignee"
    service.assign(session, p["maint_a"], wo, "maint_a", clock)
    clock.advance(timedelta(hours=1))
    with pytest.raises(InvalidInput) as wrong:
        service.check_in(session, p["maint_a"], wo, 31.23, 121.47, "100002", clock)  # the next car's code
    assert wrong.value.errors[0].field == "scanned_code"
    with pytest.raises(Conflict):  # not the assignee
        service.check_in(session, p["maint_a2"], wo, 31.23, 121.47, "100001", clock)
    record = service.check_in(session, p["maint_a"], wo, 31.23, 121.47, " 100 001 ", clock)
    assert record.scanned_code == "100001"
    assert service.get_work_order(session, p["admin"], wo).state == "in_progress"
    service.record_results(
        session,
        p["maint_a"],
        wo,
        [ItemEntry("A1-03", OK), ItemEntry("A1-05", ItemResult.FIXED, 0.4, "调整")],
        [PartEntry("门锁触点", 2)],
        clock,
    )
    service.record_results(
        session, p["maint_a"], wo, [ItemEntry("A1-03", ItemResult.NOT_OK, note="异响")], [], clock
    )
    with pytest.raises(Conflict):  # sign before checking out
        service.sign(session, p["maint_a"], wo, clock)
    clock.advance(timedelta(minutes=40))
    service.check_out(session, p["maint_a"], wo, 31.23, 121.47, clock)
    signed = service.sign(session, p["maint_a"], wo, clock)
    assert [(i["code"], i["result"]) for i in signed.items] == [("A1-03", "not_ok"), ("A1-05", "fixed")]
    assert signed.parts == [{"name": "门锁触点", "quantity": 2, "note": ""}]
    with pytest.raises(Forbidden):
        service.confirm(session, p["maint_a"], wo, clock)
    with pytest.raises(NotFound):  # UU-B does not use this elevator
        service.confirm(session, p["owner_b"], wo, clock)
    service.confirm(session, p["owner_a"], wo, clock, "已验收")
    session.commit()
    order = service.get_work_order(session, p["owner_a"], wo)
    assert order.state == WorkOrderState.CONFIRMED
    assert order.completed_at == NOW + timedelta(hours=1, minutes=40)
    events = service.events_of(session, order)
    assert [e.kind for e in events] == [
        "opened",
        "assigned",
        "checked_in",
        "results",
        "results",
        "checked_out",
        "signed",
        "confirmed",
    ]
    assert events[6].details["sla_met"] is True
    assert service.records_of(session, order)[0].unit_signed_by == "owner_a"


def test_opening_is_idempotent_on_the_source_reference(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    first = _open(session, people["operator"], clock, ref="incident:7")
    again = service.open_corrective(
        session, people["admin"], "100001", WorkOrderSource.FAULT, "incident:7", "x", clock, SETTINGS
    )
    assert (again.work_order.id, again.created) == (first, False)
    other = service.open_corrective(
        session, people["admin"], "11SHA000001", WorkOrderSource.RESCUE, "incident:7", "x", clock, SETTINGS
    )
    assert other.created and other.work_order.id != first  # another source, another key
    manual = [
        service.open_corrective(
            session, people["maint_a"], "11SHA000002", WorkOrderSource.MANUAL, None, "", clock, SETTINGS
        )
        for _ in range(2)
    ]
    assert all(m.created for m in manual) and manual[0].work_order.id != manual[1].work_order.id
    with pytest.raises(InvalidInput) as missing:
        service.open_corrective(
            session, people["admin"], "11SHA000001", WorkOrderSource.HAZARD, None, "", clock, SETTINGS
        )
    assert missing.value.errors[0].field == "source_ref"


def test_an_overdue_work_order_escalates_to_the_second(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    wo = _open(session, people["admin"], clock)
    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert service.fire_due_timers(session, clock, SETTINGS) == []
    clock.advance(timedelta(seconds=1))
    overdue = service.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    assert sorted((n.kind, n.recipient) for n in overdue) == [("overdue", "MU-A"), ("overdue", "UU-A")]
    order = service.get_work_order(session, people["admin"], wo)
    assert order.overdue_at == NOW + timedelta(hours=24) and order.escalated_at is None
    assert order.state == "open"  # overdue is a flag, not a state: the work still has to be done
    assert service.fire_due_timers(session, clock, SETTINGS) == []  # each deadline fires once
    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert service.fire_due_timers(session, clock, SETTINGS) == []
    clock.advance(timedelta(seconds=1))
    escalated = service.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    assert [(n.kind, n.recipient) for n in escalated] == [("escalated", "regulator")]
    assert service.get_work_order(session, people["admin"], wo).escalated_at == NOW + timedelta(hours=48)


def test_an_urgent_order_is_due_sooner_and_a_signed_one_never_escalates(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    out = service.open_corrective(
        session,
        people["operator"],
        "11SHA000001",
        WorkOrderSource.RESCUE,
        "incident:1",
        "困人后检修",
        clock,
        SETTINGS,
        urgent=True,
    )
    wo = out.work_order.id
    assert out.work_order.due_at == NOW + timedelta(hours=4)
    _assign_and_check_in(session, people, clock, wo)
    service.check_out(session, people["maint_a"], wo, 31.23, 121.47, clock)
    service.sign(session, people["maint_a"], wo, clock)
    session.commit()
    clock.advance(timedelta(days=5))
    assert service.fire_due_timers(session, clock, SETTINGS) == []


def test_a_restart_fires_the_pending_deadlines(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """Nothing lives in memory: a new process (a new session) finds the deadline in the database."""
    wo = _open(session, people["admin"], clock)
    session.close()
    clock.advance(timedelta(hours=30))
    with session_factory() as after_restart:
        notices = service.fire_due_timers(after_restart, clock, SETTINGS)
        after_restart.commit()
    assert {n.recipient for n in notices} == {"MU-A", "UU-A"}
    with session_factory() as reader:
        order = service.get_work_order(reader, people["admin"], wo)
        stored = service.notices_of(reader, order)
        assert {(n.kind, n.recipient) for n in stored} == {("overdue", "MU-A"), ("overdue", "UU-A")}
        assert len({n.key for n in stored}) == 2
        assert [e.kind for e in service.events_of(reader, order)][-1] == "overdue"


def test_a_preventive_visit_is_due_by_the_end_of_its_day_and_needs_every_item(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    out = service.open_preventive(
        session, people["maint_a"], "11SHA000001", date(2026, 11, 25), Interval.HALF_MONTH, clock, SETTINGS
    )
    again = service.open_preventive(
        session, people["admin"], "11SHA000001", date(2026, 11, 25), Interval.HALF_MONTH, clock, SETTINGS
    )
    assert again.work_order.id == out.work_order.id and not again.created
    # midnight after 25 November in Shanghai (UTC+8)
    assert out.work_order.due_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    with pytest.raises(NotFound):  # MU-B does not maintain it
        service.open_preventive(
            session,
            people["maint_b"],
            "11SHA000001",
            date(2026, 11, 26),
            Interval.HALF_MONTH,
            clock,
            SETTINGS,
        )
    wo = out.work_order.id
    _assign_and_check_in(session, people, clock, wo)
    service.record_results(session, people["maint_a"], wo, [ItemEntry("A1-01", OK)], [], clock)
    service.check_out(session, people["maint_a"], wo, 31.23, 121.47, clock)
    with pytest.raises(InvalidInput) as short:
        service.sign(session, people["maint_a"], wo, clock)
    assert short.value.errors[0].field == "items" and "30 items" in short.value.errors[0].message


def test_item_results_are_checked_against_the_catalogue(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    wo = _open(session, people["admin"], clock)
    _assign_and_check_in(session, people, clock, wo)
    cases = [
        (ItemEntry("Z9-99", OK), "items.0.code"),
        (ItemEntry("D1-01", OK), "items.0.code"),  # an escalator's item on a traction elevator
        (ItemEntry("A1-05", OK), "items.0.value"),  # a measured item without its measurement
    ]
    for entry, field in cases:
        with pytest.raises(InvalidInput) as bad:
            service.record_results(session, people["maint_a"], wo, [entry], [], clock)
        assert bad.value.errors[0].field == field
    service.record_results(
        session, people["maint_a"], wo, [ItemEntry("A1-05", ItemResult.NOT_APPLICABLE)], [], clock
    )


def test_scope_work_orders_outside_the_unit_are_not_found(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    wo = _open(session, people["admin"], clock)
    _open(session, people["admin"], clock, ref="F-2", code="11SHB000004")
    for who in ("admin", "regulator", "operator", "inspector", "maint_a", "owner_a"):
        assert service.get_work_order(session, people[who], wo).id == wo
    for who in ("maint_b", "owner_b"):
        with pytest.raises(NotFound):
            service.get_work_order(session, people[who], wo)
    with pytest.raises(Forbidden):
        service.get_work_order(session, people["gateway"], wo)
    counts = {
        who: len(service.list_work_orders(session, people[who]))
        for who in ("admin", "maint_a", "maint_b", "owner_b")
    }
    assert counts == {"admin": 2, "maint_a": 1, "maint_b": 1, "owner_b": 1}
    with pytest.raises(NotFound):  # nor can another unit's worker open one on it
        service.open_corrective(
            session, people["maint_b"], "11SHA000001", WorkOrderSource.MANUAL, None, "", clock, SETTINGS
        )
    with pytest.raises(NotFound):
        service.cancel(session, people["maint_b"], wo, "不是我们的", clock)
    service.cancel(session, people["maint_a"], wo, "重复报修", clock)
    with pytest.raises(Conflict):
        service.assign(session, people["maint_a"], wo, "maint_a", clock)


def test_a_signed_record_refuses_edits_with_409_and_takes_an_amendment(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    wo = _open(session, people["admin"], clock)
    _assign_and_check_in(session, people, clock, wo)
    headers = auth(client, Role.MAINTENANCE)  # maint_a
    base = f"/api/v1/maintenance/work-orders/{wo}"
    items = {"items": [{"code": "A1-03", "result": "ok"}], "parts": []}
    assert client.post(f"{base}/results", json=items, headers=headers).status_code == 200
    assert (
        client.post(
            f"{base}/check-out", json={"latitude": 31.2, "longitude": 121.4}, headers=headers
        ).status_code
        == 200
    )
    r = client.post(f"{base}/sign", headers=headers)
    assert r.status_code == 200, r.text
    original = r.json()
    changed = {"items": [{"code": "A1-03", "result": "fixed"}], "parts": []}
    for path, body in (
        ("results", changed),
        ("check-out", {"latitude": 31.2, "longitude": 121.4}),
        ("sign", None),
    ):
        refused = client.post(f"{base}/{path}", json=body, headers=headers)
        assert refused.status_code == 409, (path, refused.text)
    assert "amendment" in client.post(f"{base}/results", json=changed, headers=headers).json()["detail"]
    no_reason = client.post(f"{base}/amendments", json=changed, headers=headers)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    r = client.post(
        f"{base}/amendments", json={**changed, "reason": "A1-03 当时已调整，漏记"}, headers=headers
    )
    assert r.status_code == 201, r.text
    amendment = r.json()
    assert amendment["amends_id"] == original["id"] and amendment["items"][0]["result"] == "fixed"
    detail = client.get(base, headers=headers).json()
    assert [rec["items"][0]["result"] for rec in detail["records"]] == ["ok", "fixed"]  # the original stands
    assert detail["records"][0]["worker_signed_at"] == original["worker_signed_at"]
    other = auth(client, Role.USE_UNIT)  # owner_b: UU-B does not use 11SHA000001
    assert client.get(base, headers=other).status_code == 404


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_two_schedulers_never_fire_one_deadline_twice(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """PostgreSQL: due timers are claimed FOR UPDATE SKIP LOCKED, so two processes firing at once send each
    notice once."""
    for n in range(6):
        _open(session, people["admin"], clock, ref=f"F-{n}")
    clock.advance(timedelta(hours=25))
    results: list[list[service.Notice]] = []
    barrier = threading.Barrier(2)

    def fire() -> None:
        with session_factory() as s:
            barrier.wait()
            results.append(service.fire_due_timers(s, clock, SETTINGS))
            s.commit()

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [n.key for batch in results for n in batch]
    assert len(keys) == len(set(keys)) == 12  # 6 orders x (maintenance unit, use unit)


def test_notices_wait_in_the_outbox_until_delivered(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _open(session, people["admin"], clock)
    clock.advance(timedelta(hours=24))
    fired = service.fire_due_timers(session, clock, SETTINGS)
    session.commit()
    pending = outbox.pending(session, MaintenanceNotice)
    assert [n.key for n in pending] == [n.key for n in fired] and len(pending) == 2
    assert outbox.mark_delivered(session, MaintenanceNotice, [pending[0].key], clock.now()) == 1
    again = outbox.mark_delivered(session, MaintenanceNotice, [pending[0].key], clock.now())
    assert again == 0  # delivered once
    session.commit()
    assert [n.key for n in outbox.pending(session, MaintenanceNotice)] == [pending[1].key]
