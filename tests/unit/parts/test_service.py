"""Parts and recalls through their service (parts.service), on SQLite and PostgreSQL: the recall of the
fixture city (tests/unit/parts/city.py) reaches exactly its elevators with one work order each, wear by
cycles reads the terminal's trip counter, scope and the rules of recording."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.models import WorkOrder
from liftwatch.parts import service
from liftwatch.parts.domain import PartKind, Wear
from liftwatch.parts.models import RecallItem
from liftwatch.parts.settings import PartSettings
from liftwatch.registry import queries as registry_queries
from liftwatch.telemetry.models import LiveStatus, ServiceStateChange
from tests.unit.maintenance.workorder_city import actor
from tests.unit.parts.city import REACHED, RECALL, SETTINGS, C, machine, parts_city

PS = PartSettings()
REGULATOR = Actor(username="regulator", role=Role.REGULATOR)


def _orders(session: Session) -> list[WorkOrder]:
    return list(session.scalars(select(WorkOrder).where(WorkOrder.source == "recall").order_by(WorkOrder.id)))


def test_a_recall_reaches_exactly_its_elevators_with_one_work_order_each(
    session: Session, clock: FixedClock
) -> None:
    parts_city(session, clock)
    preview = service.issue_recall(session, REGULATOR, RECALL, clock, SETTINGS, preview=True)
    assert preview.recall is None and sorted(a.registration_code for a in preview.affected) == REACHED
    assert _orders(session) == []  # a preview writes nothing

    issued = service.issue_recall(session, REGULATOR, RECALL, clock, SETTINGS)
    session.commit()
    assert issued.created and sorted(a.registration_code for a in issued.affected) == REACHED
    orders = _orders(session)
    assert sorted(o.registration_code for o in orders) == [C[1], C[2], C[3]]  # C8 has no maintenance unit
    assert {o.registration_code: o.unit_code for o in orders} == {C[1]: "MU-A", C[2]: "MU-A", C[3]: "MU-A"}
    assert all(o.kind == "corrective" and RECALL.reference in o.summary for o in orders)
    # due by the end of the recall's day on the city's clock (UTC+8)
    assert {o.due_at.isoformat() for o in orders} == {"2026-12-31T16:00:00+00:00"}

    view = service.get_recall(session, REGULATOR, issued.recall.id, clock)  # type: ignore[union-attr]
    status = {i.item.registration_code: i.status for i in view.items}
    assert status == {C[1]: "open", C[2]: "open", C[3]: "open", C[7]: "no_order"}
    assert "maintenance unit" in next(i.item.problem for i in view.items if i.item.registration_code == C[7])
    assert (view.progress.total, view.progress.done, view.progress.without_order) == (4, 0, 1)

    # issued again: the first recall, no second order
    again = service.issue_recall(session, REGULATOR, RECALL, clock, SETTINGS)
    assert not again.created and again.recall.id == issued.recall.id  # type: ignore[union-attr]
    assert len(_orders(session)) == 3
    other_terms = service.NewRecall(**{**RECALL.__dict__, "due_on": date(2027, 1, 31)})
    with pytest.raises(Conflict, match="other terms"):
        service.issue_recall(session, REGULATOR, other_terms, clock, SETTINGS)

    # the file of a reached elevator tells of it
    kinds = [
        e.kind
        for e in registry_queries.timeline(session, registry_queries.get_elevator(session, REGULATOR, C[1]))
    ]
    assert "recall_found" in kinds and "work_order_opened" in kinds


def test_a_recall_is_tracked_to_completion(session: Session, clock: FixedClock) -> None:
    parts_city(session, clock)
    recall = service.issue_recall(session, REGULATOR, RECALL, clock, SETTINGS).recall
    assert recall is not None
    orders = _orders(session)
    maintenance.cancel(session, SYSTEM_ACTOR, orders[0].id, "重复", clock)
    for order in orders[1:]:
        order.state = "completed"  # signed on site (the work order's own tests walk that path)
    session.commit()
    view = service.get_recall(session, REGULATOR, recall.id, clock)
    assert sorted(i.status for i in view.items) == ["cancelled", "done", "done", "no_order"]
    assert not view.progress.complete
    # after the deadline an unfinished order is overdue
    reopened = service.issue_recall(
        session,
        REGULATOR,
        service.NewRecall(
            **{
                **RECALL.__dict__,
                "reference": "R-2",
                "serial_first": "KM2020-0098",
                "serial_last": "KM2020-0098",
            }
        ),
        clock,
        SETTINGS,
    ).recall
    assert reopened is not None
    later = FixedClock(clock.now() + timedelta(days=60))
    assert [i.status for i in service.get_recall(session, REGULATOR, reopened.id, later).items] == ["overdue"]


def test_a_part_recorded_after_its_recall_is_reached(session: Session, clock: FixedClock) -> None:
    parts_city(session, clock)
    recall = service.issue_recall(session, REGULATOR, RECALL, clock, SETTINGS).recall
    assert recall is not None
    old = service.parts_of(session, SYSTEM_ACTOR, C[4], clock, SETTINGS, PS)[
        0
    ].part  # KM2020-0151: not reached
    new = machine("通力", "MX-10", "KM2020-0140", on=clock.today())
    done = service.replace_part(session, SYSTEM_ACTOR, old.id, new, "更换主机", clock, SETTINGS)
    assert [i.registration_code for i in done.recalled] == [C[4]]
    assert session.scalar(select(func.count(RecallItem.id)).where(RecallItem.recall_id == recall.id)) == 5
    assert sorted(o.registration_code for o in _orders(session)) == [C[1], C[2], C[3], C[4]]


def test_parts_past_design_life_by_cycles_use_the_trip_counter(session: Session, clock: FixedClock) -> None:
    parts_city(session, clock)
    now = clock.now()
    ropes = service.NewPart(
        PartKind.ROPES,
        "法尔胜",
        "8×19S+FC",
        "R-1",
        date(2025, 1, 1),
        design_life_cycles=1_000_000,
        counter_at_install=5_000,
    )
    brake = service.NewPart(
        PartKind.BRAKE, "通力", "BK-3", "B-1", date(2025, 6, 1), design_life_cycles=2_000_000
    )
    service.record_part(session, SYSTEM_ACTOR, C[1], ropes, clock, SETTINGS)
    service.record_part(session, SYSTEM_ACTOR, C[1], brake, clock, SETTINGS)
    session.add(LiveStatus(registration_code=C[1], last_seen_at=now, trips=1_005_000, updated_at=now))
    # the first trip reading 100 days ago at 805,000: 2,000 trips a day
    session.add(
        ServiceStateChange(
            registration_code=C[1],
            at=now - timedelta(days=100),
            kind="mode",
            value=1,
            trips=805_000,
            recorded_at=now,
        )
    )
    session.commit()
    views = {v.part.kind: v for v in service.parts_of(session, REGULATOR, C[1], clock, SETTINGS, PS)}
    rope = views["ropes"]
    assert rope.cycles is not None and (rope.cycles.used, rope.cycles.estimated) == (1_000_000, False)
    assert rope.assessment.state is Wear.PAST and rope.assessment.years_share is None
    brake_view = views["brake"]  # no counter at installation: 2,000 a day since 2025-06-01 noon (Shanghai)
    assert brake_view.cycles is not None and brake_view.cycles.estimated
    assert 1_080_000 <= brake_view.cycles.used <= 1_090_000  # about 540 days x 2,000
    assert brake_view.assessment.state is Wear.OK
    # the worn list reads the wear last judged: the ropes were recorded before the counter was heard
    assert service.worn_parts(session, REGULATOR, clock, SETTINGS, PS) == ([], False)
    assert (
        service.refresh_wear(session, clock, SETTINGS, PS, batch=5)[0] == 5
    )  # a batch of the 10 current parts
    assert service.refresh_wear(session, clock, SETTINGS, PS)[0] == 10
    session.commit()
    worn, cut = service.worn_parts(session, REGULATOR, clock, SETTINGS, PS)
    assert not cut and [(w.view.part.registration_code, w.view.part.kind) for w in worn] == [(C[1], "ropes")]
    assert worn[0].view.part.wear == "past" and worn[0].view.part.wear_share == 1.0
    assert worn[0].district == "长宁区"


def test_wear_by_years_lists_near_and_past_in_scope(session: Session, clock: FixedClock) -> None:
    parts_city(session, clock)
    old = service.NewPart(
        PartKind.CONTROLLER, "新时达", "AS380", "S-1", date(2008, 1, 1), design_life_years=20
    )
    older = service.NewPart(
        PartKind.CONTROLLER, "新时达", "AS380", "S-2", date(2005, 1, 1), design_life_years=20
    )
    service.record_part(session, SYSTEM_ACTOR, C[0], old, clock, SETTINGS)  # 18.9 of 20 years: near
    service.record_part(session, SYSTEM_ACTOR, C[5], older, clock, SETTINGS)  # 21.9: past
    session.commit()
    worn, _ = service.worn_parts(session, REGULATOR, clock, SETTINGS, PS)
    assert [(w.view.part.serial, w.view.assessment.state) for w in worn] == [
        ("S-2", Wear.PAST),
        ("S-1", Wear.NEAR),
    ]
    maint_a = actor(session, "maint_a", Role.MAINTENANCE, "MU-A")  # maintains C1-C4: only C1's
    assert [w.view.part.serial for w in service.worn_parts(session, maint_a, clock, SETTINGS, PS)[0]] == [
        "S-1"
    ]
    insurer = actor(session, "insurer_a", Role.INSURER, "IN-A")
    with pytest.raises(Forbidden):
        service.worn_parts(session, insurer, clock, SETTINGS, PS)


def test_recording_rules_and_scope(session: Session, clock: FixedClock) -> None:
    parts_city(session, clock)
    maint_a = actor(session, "maint_a", Role.MAINTENANCE, "MU-A")
    gear = service.NewPart(PartKind.SAFETY_GEAR, "华宁", "AQ1", "G-1", date(2020, 5, 1), design_life_years=25)
    recorded = service.record_part(session, maint_a, C[0], gear, clock, SETTINGS)
    assert recorded.part.created_by == "maint_a"
    with pytest.raises(Conflict, match="replace it"):
        service.record_part(session, maint_a, C[0], gear, clock, SETTINGS)
    with pytest.raises(NotFound):  # MU-B's elevator: outside maint_a's scope
        service.record_part(session, maint_a, C[4], gear, clock, SETTINGS)
    with pytest.raises(NotFound):
        service.get_part(
            session, maint_a, service.parts_of(session, SYSTEM_ACTOR, C[4], clock, SETTINGS, PS)[0].part.id
        )
    with pytest.raises(Forbidden):  # regulators read parts, the units record them
        service.record_part(session, REGULATOR, C[1], gear, clock, SETTINGS)
    steps = service.NewPart(PartKind.STEPS, "通力", "ST", "S-1", date(2020, 5, 1), design_life_years=20)
    with pytest.raises(InvalidInput, match="kind"):  # a lift has no escalator steps
        service.record_part(session, SYSTEM_ACTOR, C[1], steps, clock, SETTINGS)
    no_life = service.NewPart(PartKind.BRAKE, "通力", "BK", "B-9", date(2020, 5, 1))
    with pytest.raises(InvalidInput, match="design life"):
        service.record_part(session, SYSTEM_ACTOR, C[1], no_life, clock, SETTINGS)
    future = machine("通力", "MX", "F-1", on=clock.today() + timedelta(days=2))
    old = service.parts_of(session, SYSTEM_ACTOR, C[1], clock, SETTINGS, PS)[0].part
    with pytest.raises(InvalidInput, match="future"):
        service.replace_part(session, SYSTEM_ACTOR, old.id, future, "坏了", clock, SETTINGS)
    with pytest.raises(Forbidden):
        service.issue_recall(session, maint_a, RECALL, clock, SETTINGS)
    backwards = service.NewRecall(
        **{**RECALL.__dict__, "serial_first": "KM2020-0150", "serial_last": "KM2020-0099"}
    )
    with pytest.raises(InvalidInput, match="serial"):
        service.issue_recall(session, REGULATOR, backwards, clock, SETTINGS)
    past_due = service.NewRecall(**{**RECALL.__dict__, "due_on": clock.today()})
    with pytest.raises(InvalidInput, match="due_on"):
        service.issue_recall(session, REGULATOR, past_due, clock, SETTINGS)


def test_unit_staff_see_their_own_elevators_of_a_recall(session: Session, clock: FixedClock) -> None:
    parts_city(session, clock)
    recall = service.issue_recall(session, REGULATOR, RECALL, clock, SETTINGS).recall
    assert recall is not None
    session.commit()
    maint_a = actor(session, "maint_a", Role.MAINTENANCE, "MU-A")
    mine = service.get_recall(session, maint_a, recall.id, clock)
    assert [i.item.registration_code for i in mine.items] == [C[1], C[2], C[3]]
    owner_b = actor(session, "owner_b", Role.USE_UNIT, "UU-B")  # uses no reached elevator
    assert service.list_recalls(session, owner_b, clock) == []
    with pytest.raises(NotFound):
        service.get_recall(session, owner_b, recall.id, clock)
    with pytest.raises(Forbidden):
        service.list_recalls(session, Actor(username="operator", role=Role.RESCUE_OPERATOR), clock)
