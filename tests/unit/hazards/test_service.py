"""Hazards (隐患) through the service with a controlled clock: idempotent reports, escalation on durable
deadlines (to the second, step after step, after a restart), evidence and the regulator's verdict, scope,
and the corrective work order opened once. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.core import outbox
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.hazards import service
from liftwatch.hazards.models import HazardNotice
from liftwatch.hazards.workflow import HazardLevel, HazardSource, HazardState
from liftwatch.maintenance import service as maintenance
from liftwatch.registry import queries as registry_queries
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(timezone="Asia/Shanghai")
# NOW is 2026-11-23 17:00 in Shanghai: a general hazard is due at the end of 2026-12-23 (30 days), a major
# one at the end of 2026-12-08 (15 days); escalation 7 and 3 days later
GENERAL_DUE = datetime(2026, 12, 23, 16, 0, tzinfo=UTC)
MAJOR_DUE = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def _report(
    session: Session,
    who: Actor,
    clock: FixedClock,
    ref: str = "DJ-1:1",
    level: HazardLevel = HazardLevel.GENERAL,
    code: str = "11SHA000001",
) -> int:
    out = service.report(
        session, who, code, HazardSource.INSPECTION, ref, level, "层门门锁啮合深度不足", clock, SETTINGS
    )
    session.commit()
    return out.hazard.id


def _set(clock: FixedClock, at: datetime) -> None:
    clock.advance(at - clock.now())


def _fired(session: Session, clock: FixedClock) -> set[tuple[str, str]]:
    notices = service.fire_due_timers(session, clock)
    session.commit()
    return {(n.kind, n.recipient) for n in notices}


def test_a_redelivered_report_is_one_hazard(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    first = service.report(
        session,
        people["inspector"],
        "100001",
        HazardSource.INSPECTION,
        "DJ-1:1",
        HazardLevel.GENERAL,
        "x",
        clock,
        SETTINGS,
    )
    again = service.report(
        session,
        people["inspector"],
        "11SHA000001",
        HazardSource.INSPECTION,
        "DJ-1:1",
        HazardLevel.MAJOR,
        "y",
        clock,
        SETTINGS,
    )
    session.commit()
    assert (first.created, again.created) == (True, False)
    assert again.hazard.id == first.hazard.id
    hazard = service.get_hazard(session, people["admin"], first.hazard.id)
    assert (hazard.registration_code, hazard.level, hazard.responsible_unit) == (
        "11SHA000001",
        "general",
        "UU-A",
    )
    assert hazard.deadline == GENERAL_DUE
    assert [e.kind for e in service.events_of(session, hazard)] == ["reported"]
    assert len(service.list_hazards(session, people["admin"])) == 1
    assert service.open_counts(session) == {"11SHA000001": 1}


def test_escalation_fires_at_the_deadline_and_again_for_the_next_step(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hz = _report(session, people["inspector"], clock)
    _set(clock, GENERAL_DUE - timedelta(seconds=1))
    assert _fired(session, clock) == set()
    assert not service.is_overdue(service.get_hazard(session, people["admin"], hz), clock.now())
    _set(clock, GENERAL_DUE)
    assert _fired(session, clock) == {("overdue", "UU-A")}  # the responsible unit
    assert _fired(session, clock) == set()  # fired once
    hazard = service.get_hazard(session, people["admin"], hz)
    assert (hazard.overdue_at, hazard.supervised) == (GENERAL_DUE, False)
    assert service.is_overdue(hazard, clock.now())
    _set(clock, GENERAL_DUE + timedelta(days=7) - timedelta(seconds=1))
    assert _fired(session, clock) == set()
    clock.advance(timedelta(seconds=1))
    assert _fired(session, clock) == {("escalated", "regulator")}
    assert [e.kind for e in service.events_of(session, hazard)] == ["reported", "overdue", "escalated"]
    assert service.public_supervised(session, clock.now()) == []  # a general hazard is not supervised


def test_a_major_hazard_overdue_is_supervised_and_listed_for_the_public(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hz = _report(session, people["regulator"], clock, level=HazardLevel.MAJOR)
    _set(clock, MAJOR_DUE)
    assert _fired(session, clock) == {("overdue", "UU-A"), ("supervised", "regulator")}
    hazard = service.get_hazard(session, people["admin"], hz)
    assert (hazard.supervised, hazard.supervised_at) == (True, MAJOR_DUE)
    listed = service.public_supervised(session, clock.now())
    assert [(p.hazard_id, p.district, p.level, p.overdue) for p in listed] == [(hz, "静安区", "major", True)]
    public_fields = set(vars(listed[0]))
    assert not public_fields & {"description", "reported_by", "verified_by", "source_ref"}
    elevator = registry_queries.get_elevator(session, people["admin"], "11SHA000001")
    kinds = [e.kind for e in registry_queries.timeline(session, elevator)]
    assert {"hazard_reported", "hazard_overdue", "hazard_supervised"} <= set(kinds)
    _set(clock, MAJOR_DUE + timedelta(days=3))
    assert _fired(session, clock) == {("escalated", "regulator")}


def test_a_restart_fires_the_pending_deadlines(
    session_factory: sessionmaker[Session], session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """Nothing lives in memory: a new process (a new session, a new clock) finds the deadlines in the
    database, and fires every step that came due while it was down."""
    hz = _report(session, people["inspector"], clock)
    session.close()
    later = FixedClock(GENERAL_DUE + timedelta(days=8))
    with session_factory() as after_restart:
        notices = service.fire_due_timers(after_restart, later)
        after_restart.commit()
    assert {(n.kind, n.recipient) for n in notices} == {("overdue", "UU-A"), ("escalated", "regulator")}
    with session_factory() as reader:
        hazard = service.get_hazard(reader, people["admin"], hz)
        stored = service.notices_of(reader, hazard)
        assert len({n.key for n in stored}) == 2
        assert {n.key for n in outbox.pending(reader, HazardNotice)} == {n.key for n in stored}
        assert outbox.mark_delivered(reader, HazardNotice, [stored[0].key], later.now()) == 1
        assert [n.key for n in outbox.pending(reader, HazardNotice)] == [stored[1].key]


def test_evidence_then_verify_closes_it(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hz = _report(session, people["inspector"], clock)
    owner = people["owner_a"]  # staff of UU-A, the responsible unit
    assert service.start(session, owner, hz, clock).state == HazardState.RECTIFYING.value
    clock.advance(timedelta(days=2))
    service.submit_evidence(session, owner, hz, "更换门锁并调整啮合深度至 9 mm", clock)
    session.commit()
    hazard = service.get_hazard(session, people["regulator"], hz)
    assert (hazard.state, hazard.rectified_at) == ("rectified", clock.now())
    service.verify(session, people["regulator"], hz, clock, "现场核查合格")
    session.commit()
    hazard = service.get_hazard(session, people["admin"], hz)
    assert (hazard.state, hazard.verified_by) == ("verified", "regulator")
    assert service.open_counts(session) == {}
    [evidence] = service.evidence_of(session, hazard)
    assert (evidence.decision, evidence.submitted_by) == ("verified", "owner_a")
    _set(clock, GENERAL_DUE + timedelta(days=30))
    assert _fired(session, clock) == set()  # a verified hazard escalates no more
    with pytest.raises(Conflict):
        service.submit_evidence(session, owner, hz, "again", clock)


def test_a_rejected_fix_goes_back_to_rectifying_and_its_deadline_runs_again(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hz = _report(session, people["inspector"], clock)
    owner, regulator = people["owner_a"], people["regulator"]
    service.submit_evidence(session, owner, hz, "已处理", clock)
    session.commit()
    _set(clock, GENERAL_DUE + timedelta(hours=1))
    assert _fired(session, clock) == set()  # rectified: waiting for the regulator, not overdue
    with pytest.raises(InvalidInput):
        service.reject(session, regulator, hz, "", clock)
    hazard = service.reject(session, regulator, hz, "未提供检测数据", clock)
    session.commit()
    assert (hazard.state, hazard.rectified_at) == ("rectifying", None)
    assert ("rejected", "UU-A") in {(n.kind, n.recipient) for n in service.notices_of(session, hazard)}
    assert _fired(session, clock) == {("overdue", "UU-A")}  # the deadline had passed: at once
    service.submit_evidence(session, owner, hz, "补充检测数据", clock)
    service.verify(session, regulator, hz, clock)
    session.commit()
    decisions = [e.decision for e in service.evidence_of(session, hazard)]
    assert decisions == ["rejected", "verified"]


def test_a_new_deadline_restarts_the_escalation(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hz = _report(session, people["inspector"], clock)
    _set(clock, GENERAL_DUE)
    assert _fired(session, clock) == {("overdue", "UU-A")}
    hazard = service.set_deadline(session, people["regulator"], hz, date(2027, 1, 10), clock, SETTINGS)
    session.commit()
    assert (hazard.overdue_at, hazard.deadline_set_by) == (None, "regulator")
    assert not service.is_overdue(hazard, clock.now())
    _set(clock, datetime(2027, 1, 10, 16, 0, tzinfo=UTC))
    assert _fired(session, clock) == {("overdue", "UU-A")}
    with pytest.raises(InvalidInput):  # a day already gone
        service.set_deadline(session, people["regulator"], hz, date(2027, 1, 1), clock, SETTINGS)


def test_scope_another_units_elevator_is_not_found_and_a_forbidden_move_is_refused(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    p = people
    with pytest.raises(NotFound):  # MU-B does not maintain 11SHA000001
        _report(session, p["maint_b"], clock)
    with pytest.raises(Forbidden):
        _report(session, p["operator"], clock)
    with pytest.raises(Forbidden):  # only the regulator sets a deadline other than the level's
        service.report(
            session, p["inspector"], "11SHA000001", HazardSource.SPOT_CHECK, "S-1", HazardLevel.GENERAL, "x",
            clock, SETTINGS, deadline_date=date(2026, 12, 1),
        )  # fmt: skip
    hz = _report(session, p["maint_a"], clock, ref="WB-7", code="11SHA000001")  # on its own elevator
    with pytest.raises(NotFound):
        service.get_hazard(session, p["owner_b"], hz)
    with pytest.raises(NotFound):
        service.submit_evidence(session, p["maint_b"], hz, "x", clock)
    assert service.list_hazards(session, p["owner_b"]) == []
    assert [h.id for h in service.list_hazards(session, p["owner_a"])] == [hz]
    with pytest.raises(Forbidden):  # visible to MU-A, but only the regulator verifies
        service.verify(session, p["maint_a"], hz, clock)
    with pytest.raises(Forbidden):  # visible, but UU-A is the responsible unit, not MU-A
        service.submit_evidence(session, p["maint_a"], hz, "x", clock)
    with pytest.raises(Forbidden):
        service.list_hazards(session, p["operator"])
    with pytest.raises(Conflict):  # nothing to verify yet
        service.verify(session, p["regulator"], hz, clock)


def test_a_corrective_work_order_is_opened_once(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hz = _report(session, people["inspector"], clock, level=HazardLevel.MAJOR)
    hazard, wo, created = service.open_work_order(session, people["regulator"], hz, clock, SETTINGS)
    session.commit()
    again = service.open_work_order(session, people["owner_a"], hz, clock, SETTINGS)
    assert (created, again[1], again[2]) == (True, wo, False)
    order = maintenance.get_work_order(session, people["admin"], wo)
    assert (order.source, order.source_ref, order.unit_code, order.urgent) == (
        "hazard",
        str(hz),
        "MU-A",
        True,
    )
    assert order.due_at == MAJOR_DUE == hazard.deadline  # due by the hazard's deadline
    assert [e.kind for e in service.events_of(session, hazard)] == ["reported", "work_order"]
    with pytest.raises(InvalidInput):  # a photo must be of the hazard's own work order
        service.submit_evidence(session, people["owner_a"], hz, "已修复", clock, attachment_id=999)
