"""Complaints through the service with a controlled clock: idempotent intake, the responsible unit, scope
and personal data, the moves and their refusals, the SLA limits on durable timers (fired to the second,
also by a new process), a founded complaint opening a hidden danger once, and the feeds other domains read.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.complaints import queries, service
from liftwatch.complaints.workflow import Category, Channel, ComplaintSettings, ComplaintState, Verdict
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.hazards import service as hazards
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(timezone="Asia/Shanghai")
CS = ComplaintSettings(assign_hours=24, answer_hours=120, verify_days=3)


def _intake(
    session: Session,
    who: Actor,
    clock: FixedClock,
    ref: str = "12345-001",
    category: Category = Category.NOISE,
    code: str | None = "11SHA000001",
    unit: str | None = None,
    assign: bool = True,
) -> service.Outcome:
    data = service.Intake(
        Channel.HOTLINE_12345,
        ref,
        category,
        "电梯运行时有很大的异响",
        code=code,
        unit=unit,
        complainant_name="张三丰",
        complainant_phone="13812345678",
        assign=assign,
    )
    out = service.intake(session, who, data, clock, CS)
    session.commit()
    return out


def test_intake_is_idempotent_on_the_channel_reference(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    first = _intake(session, people["operator"], clock, code="100001")  # the rescue code in the car
    again = _intake(session, people["regulator"], clock, category=Category.FEES)
    assert (first.created, again.created) == (True, False)
    c = again.complaint
    assert c.id == first.complaint.id and c.category == "noise"
    assert (c.registration_code, c.maintenance_unit, c.use_unit) == ("11SHA000001", "MU-A", "UU-A")
    assert (c.responsible_unit, c.state) == ("MU-A", "assigned")  # noise: the maintenance unit's
    assert c.due_at == clock.now() + timedelta(hours=120)
    assert c.receipt.startswith("TS") and len(c.receipt) == 10
    assert [e.kind for e in service.events_of(session, c)] == ["received", "assigned"]
    # the same reference on another channel is another complaint
    other = service.intake(
        session,
        people["operator"],
        service.Intake(
            Channel.WECHAT, "12345-001", Category.FEES, "收费不合理，物业乱收费", code="11SHA000001"
        ),
        clock,
        CS,
    )
    assert other.created and other.complaint.responsible_unit == "UU-A"  # fees: the use unit's


def test_intake_refusals(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    for role in ("maint_a", "inspector", "gateway"):
        with pytest.raises(Forbidden):
            _intake(session, people[role], clock)
    with pytest.raises(InvalidInput) as exc:
        _intake(session, people["operator"], clock, code=None)
    assert exc.value.errors[0].field == "code"
    with pytest.raises(InvalidInput) as exc:
        _intake(session, people["operator"], clock, code="NOPE")
    assert exc.value.errors[0].field == "code"
    with pytest.raises(InvalidInput) as exc:
        _intake(session, people["operator"], clock, code=None, unit="XX-9")
    assert exc.value.errors[0].field == "unit"
    # a complaint naming a unit only, no elevator: that unit answers it
    named = _intake(session, people["operator"], clock, ref="12345-9", code=None, unit="MU-B")
    assert (named.complaint.registration_code, named.complaint.responsible_unit) == (None, "MU-B")


def test_scope_and_personal_data(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    c = _intake(session, people["operator"], clock).complaint
    for who in ("admin", "regulator", "operator", "maint_a", "owner_a"):  # owner_a: its own elevator
        assert service.get_complaint(session, people[who], c.id).id == c.id
    for who in ("maint_b", "owner_b"):
        with pytest.raises(NotFound):
            service.get_complaint(session, people[who], c.id)
        assert service.list_complaints(session, people[who], service.Filter(), clock.now()) == []
    for who in ("inspector", "gateway"):
        with pytest.raises(Forbidden):
            service.list_complaints(session, people[who], service.Filter(), clock.now())
    # a unit named in a complaint about another unit's elevator sees it once it must answer
    b = _intake(session, people["operator"], clock, ref="12345-2", unit="MU-B").complaint
    assert service.get_complaint(session, people["maint_b"], b.id).responsible_unit == "MU-B"
    assert service.sees_personal_data(people["regulator"]) and service.sees_personal_data(people["operator"])
    assert not service.sees_personal_data(people["maint_a"]) and not service.sees_personal_data(
        people["owner_a"]
    )
    assert (service.mask_name("张三丰"), service.mask_phone("13812345678")) == ("张**", "138****5678")
    assert service.mask_phone("55551234") == "******34"


def test_the_moves_answer_return_verify_close(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    c = _intake(session, people["operator"], clock).complaint
    with pytest.raises(Forbidden):  # not its unit's to answer (it can read it: its own elevator)
        service.answer(session, people["owner_a"], c.id, "已处理", clock, CS)
    with pytest.raises(Conflict):
        service.verify(session, people["regulator"], c.id, Verdict.FOUNDED, "ok", clock, SETTINGS)
    with pytest.raises(InvalidInput):
        service.answer(session, people["maint_a"], c.id, "  ", clock, CS)
    clock.advance(timedelta(hours=3))
    service.answer(session, people["maint_a"], c.id, "已更换导靴，异响消除", clock, CS)
    assert c.state == "answered" and c.due_at == clock.now() + timedelta(days=3)
    assert service.moves_for(session, people["regulator"], c) == {
        service.Action.VERIFY,
        service.Action.RETURN,
    }
    assert service.moves_for(session, people["maint_a"], c) == frozenset()
    with pytest.raises(Forbidden):
        service.return_answer(session, people["maint_a"], c.id, "x", clock, CS)
    service.return_answer(session, people["regulator"], c.id, "请说明检查结果", clock, CS)
    assert c.state == "assigned" and c.due_at == clock.now() + timedelta(hours=120)
    service.answer(session, people["maint_a"], c.id, "已检查曳引机并更换导靴", clock, CS)
    with pytest.raises(InvalidInput):
        service.verify(session, people["regulator"], c.id, Verdict.FOUNDED, "", clock, SETTINGS)
    service.verify(
        session, people["operator"], c.id, Verdict.UNFOUNDED, "回访乘客，未再出现", clock, SETTINGS
    )
    assert (c.state, c.verdict, c.due_at) == ("verified", "unfounded", None)
    service.close(session, people["operator"], c.id, "", clock)
    session.commit()
    assert c.state == "closed"
    kinds = [e.kind for e in service.events_of(session, c)]
    assert kinds == ["received", "assigned", "answered", "returned", "answered", "verified", "closed"]


def test_a_public_complaint_waits_for_the_centre_and_may_be_closed_unassigned(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    c = _intake(session, people["operator"], clock, assign=False).complaint
    assert c.state == "received" and c.due_at == clock.now() + timedelta(hours=24)
    with pytest.raises(InvalidInput):
        service.close(session, people["operator"], c.id, "", clock)
    with pytest.raises(InvalidInput):
        service.assign(session, people["operator"], c.id, clock, "NOPE", CS)
    service.assign(session, people["operator"], c.id, clock, "MU-B", CS)
    assert (c.state, c.responsible_unit) == ("assigned", "MU-B")
    d = _intake(session, people["operator"], clock, ref="dup", assign=False).complaint
    service.close(session, people["regulator"], d.id, "重复投诉", clock)
    assert d.state == "closed" and d.close_reason == "重复投诉"


def test_sla_limits_fire_to_the_second_and_survive_a_restart(
    session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    with session_factory() as s:
        c = _intake(s, people["operator"], clock, assign=False).complaint
        cid, start = c.id, clock.now()
    # another process (a new session) fires it
    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    with session_factory() as s:
        assert service.fire_due_timers(s, clock) == []
        s.commit()
    clock.advance(timedelta(seconds=1))
    with session_factory() as s:
        notices = service.fire_due_timers(s, clock)
        s.commit()
        assert [(n.kind, n.recipient, n.details["step"]) for n in notices] == [
            ("overdue", "regulator", "assign")
        ]
        assert "13812345678" not in str(notices[0].details) and "张" not in str(notices[0].details)
        c = service.get_complaint(s, people["admin"], cid)
        assert c.overdue_step == "assign" and service.is_overdue(c, clock.now())
        flt = service.Filter(overdue=True)
        assert [x.id for x in service.list_complaints(s, people["admin"], flt, clock.now())] == [cid]
        assert service.fire_due_timers(s, clock) == []  # fired once
        service.assign(s, people["operator"], cid, clock, None, CS)
        s.commit()
        assert not service.is_overdue(c, clock.now())
    # the answer limit tells the responsible unit and the regulator
    clock.advance(timedelta(hours=120))
    with session_factory() as s:
        notices = service.fire_due_timers(s, clock)
        s.commit()
        assert sorted(n.recipient for n in notices) == ["MU-A", "regulator"]
        kinds = [e.kind for e in service.events_of(s, service.get_complaint(s, people["admin"], cid))]
        assert kinds == ["received", "overdue", "assigned", "overdue"]
    # answered in time for the verification: a stale timer does nothing
    with session_factory() as s:
        service.answer(s, people["maint_a"], cid, "已处理", clock, CS)
        service.verify(s, people["regulator"], cid, Verdict.FOUNDED, "属实", clock, SETTINGS)
        s.commit()
    clock.advance(timedelta(days=10))
    with session_factory() as s:
        assert service.fire_due_timers(s, clock) == []
    assert start < clock.now()


def test_a_founded_complaint_opens_a_hidden_danger_once(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    c = _intake(session, people["operator"], clock, category=Category.UNSAFE).complaint
    service.answer(session, people["owner_a"], c.id, "已联系维保单位", clock, CS)
    with pytest.raises(Forbidden):  # the operator verifies, but only the regulator opens a hazard
        service.verify(
            session, people["operator"], c.id, Verdict.FOUNDED, "属实", clock, SETTINGS, open_hazard=True
        )
    with pytest.raises(InvalidInput):
        service.verify(
            session, people["regulator"], c.id, Verdict.UNFOUNDED, "x", clock, SETTINGS, open_hazard=True
        )
    service.verify(
        session, people["regulator"], c.id, Verdict.FOUNDED, "层门变形", clock, SETTINGS, open_hazard=True
    )
    session.commit()
    assert c.hazard_id is not None
    _, hazard_id, created = service.open_hazard_from(session, people["regulator"], c.id, clock, SETTINGS)
    assert (hazard_id, created) == (c.hazard_id, False)
    hz = hazards.get_hazard(session, people["regulator"], hazard_id)
    assert (hz.source, hz.source_ref, hz.responsible_unit) == ("complaint", str(c.id), "UU-A")
    assert [e.kind for e in service.events_of(session, c)].count("hazard") == 1


def test_the_feeds_leave_the_unfounded_out(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    start = clock.now()
    a = _intake(session, people["operator"], clock, ref="a").complaint  # 11SHA000001, MU-A
    _intake(session, people["operator"], clock, ref="b", code="11SHB000003")  # MU-B
    _intake(session, people["operator"], clock, ref="c", code=None, unit="MU-A")  # names MU-A
    _intake(session, people["operator"], clock, ref="d", unit="MU-B")  # about MU-A's elevator, names MU-B
    end = clock.now() + timedelta(seconds=1)
    assert queries.counts_by_elevator(session, start, end) == {"11SHA000001": 2, "11SHB000003": 1}
    assert queries.counts_by_elevator(session, start, end, ["11SHB000003"]) == {"11SHB000003": 1}
    assert queries.counts_by_unit(session, start, end) == {"MU-A": 3, "MU-B": 2}
    assert queries.received_between(session, start, end) == 4
    assert queries.codes_changed_since(session, start - timedelta(seconds=1)) == {
        "11SHA000001",
        "11SHB000003",
    }
    service.answer(session, people["maint_a"], a.id, "经查无异常", clock, CS)
    service.verify(session, people["regulator"], a.id, Verdict.UNFOUNDED, "不属实", clock, SETTINGS)
    session.commit()
    assert queries.counts_by_elevator(session, start, end) == {"11SHA000001": 1, "11SHB000003": 1}
    assert queries.counts_by_unit(session, start, end) == {"MU-A": 2, "MU-B": 2}
    assert queries.received_between(session, start, end) == 3
    rate = queries.complaint_rate(session, start, start + timedelta(days=30.44), elevators=20_000)
    assert rate.complaints == 3 and rate.per_10k_month == pytest.approx(1.5)
    assert queries.received_between(session, end, end + timedelta(days=1)) == 0
    assert ComplaintState.VERIFIED.value == a.state
