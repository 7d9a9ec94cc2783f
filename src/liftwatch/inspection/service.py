"""The inspection domain's only writer: scheduling periodic inspections (定期检验) by the rule in force,
recording and signing results with their non-conformities (不符合项), the rectification work orders they open
in maintenance, re-inspections (复检), the maintenance unit's self-tests (自行检测), the overdue list, the
inspector's schedule and the first-attempt pass rate (检验合格率).

Scope (outside it an inspection is *not found*): admins and regulators read everything; an inspector of an
inspection body (an account with that body as its unit) the body's inspections, an inspector with no body
the inspections naming them; maintenance staff the inspections of elevators their unit maintained when
scheduled; use-unit staff those of the elevators they use. The 96333 operators, gateways and the public:
none (403). Self-tests: the centre and inspectors read all, a unit's staff their own, a use unit those of
its elevators; only the maintenance unit of the elevator records one.

A signed result is never changed (409). Signing opens one corrective work order per non-conformity through
``maintenance.service.open_corrective`` (source "inspection", ref "<inspection id>:<item n>"), idempotent
on that reference, so a retried signing never doubles an order. Settings: ``LIFTWATCH_INSPECTION_SCHEDULE``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Select, Subquery, case, false, func, select
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.inspection.domain import (
    Concluded,
    Conclusion,
    Due,
    InspectionKind,
    InspectionRule,
    PassRate,
    Schedule,
    Severity,
    add_years,
    first_attempt_pass_rate,
    is_overdue,
    next_due,
)
from liftwatch.inspection.models import Inspection, Nonconformity, SelfTest
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderSource
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.domain import UnitType

StoredInspection: TypeAlias = Inspection
StoredNonconformity: TypeAlias = Nonconformity
StoredSelfTest: TypeAlias = SelfTest

READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR})
SCHEDULERS = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR})
READERS = READ_ALL | {Role.INSPECTOR, Role.MAINTENANCE, Role.USE_UNIT}
#: how many days ahead the inspector's schedule counts an inspection as "due soon"
DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class Finding:
    """A non-conformity as the inspector enters it: what is wrong, how serious, the deadline for its
    rectification and (optional) the inspection item it concerns."""

    text: str
    severity: Severity
    rectify_by: date
    item: str = ""


@dataclass
class Signed:
    inspection: Inspection
    work_order_ids: list[int] = field(default_factory=list)
    next_inspection: Inspection | None = None


@dataclass(frozen=True)
class Overdue:
    registration_code: str
    inspection_id: int
    due_date: date
    days_overdue: int


def rule_from(settings: Settings) -> InspectionRule:
    return InspectionRule(Schedule(settings.inspection_schedule))


# ---------------------------------------------------------------- scope


def _scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """The condition limiting inspections to the actor's scope; None: no limit; 403 for roles with none."""
    if actor.role not in READERS:
        raise Forbidden(f"role '{actor.role.value}' may not read inspections")
    if actor.role in READ_ALL:
        return None
    if actor.role is Role.INSPECTOR:
        body = registry_queries.actor_unit_code(session, actor)
        return Inspection.body_unit_code == body if body else Inspection.inspector == actor.username
    if actor.role is Role.MAINTENANCE:
        unit = registry_queries.actor_unit_code(session, actor)
        return Inspection.unit_code == unit if unit else false()
    if actor.unit_id is None:
        return false()
    cond: ColumnElement[bool] = Inspection.registration_code.in_(
        registry_queries.code_subquery(use_unit_id=actor.unit_id)
    )
    return cond


def _scoped(session: Session, actor: Actor, stmt: Select[Any]) -> Select[Any]:
    cond = _scope(session, actor)
    return stmt if cond is None else stmt.where(cond)


def get_inspection(session: Session, actor: Actor, inspection_id: int) -> Inspection:
    found: Inspection | None = session.scalars(
        _scoped(session, actor, select(Inspection).where(Inspection.id == inspection_id))
    ).first()
    if found is None:
        raise NotFound(f"no inspection {inspection_id}")
    return found


def list_inspections(
    session: Session, actor: Actor, registration_code: str | None = None, limit: int = 500
) -> list[Inspection]:
    stmt = _scoped(session, actor, select(Inspection))
    if registration_code:
        stmt = stmt.where(Inspection.registration_code == registration_code)
    return list(session.scalars(stmt.order_by(Inspection.scheduled_date.desc(), Inspection.id).limit(limit)))


def nonconformities_of(session: Session, inspection: Inspection) -> list[Nonconformity]:
    return list(
        session.scalars(
            select(Nonconformity)
            .where(Nonconformity.inspection_id == inspection.id)
            .order_by(Nonconformity.item_no)
        )
    )


# ---------------------------------------------------------------- scheduling


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


def _local_date(at: datetime, settings: Settings) -> date:
    return at.astimezone(zone(settings.timezone)).date()


def body_of(session: Session, actor: Actor) -> str | None:
    """The inspection body an inspector belongs to (its account's unit), or None."""
    return registry_queries.actor_unit_code(session, actor) if actor.role is Role.INSPECTOR else None


def _check_body_and_inspector(session: Session, actor: Actor, body_unit_code: str, inspector: str) -> None:
    """The body must be an inspection body, the inspector an inspector's account of that body (or of none);
    an inspector of a body schedules for that body only."""
    body = registry_queries.unit_by_code(session, body_unit_code)
    if body is None or body.unit_type != UnitType.INSPECTION_BODY.value:
        raise InvalidInput(FieldError("body_unit_code", f"'{body_unit_code}' is not an inspection body"))
    own = body_of(session, actor)
    if own is not None and own != body_unit_code:
        raise InvalidInput(
            FieldError("body_unit_code", f"an inspector of '{own}' schedules for '{own}' only")
        )
    account = accounts.account_of(session, inspector)
    if account is None or account.role != Role.INSPECTOR.value:
        raise InvalidInput(FieldError("inspector", f"'{inspector}' is not an inspector's account"))
    if account.unit is not None and account.unit != body_unit_code:
        raise InvalidInput(FieldError("inspector", f"'{inspector}' is an inspector of '{account.unit}'"))


def _last_concluded(session: Session, code: str) -> Inspection | None:
    """The elevator's latest signed periodic inspection or re-inspection."""
    last: Inspection | None = session.scalars(
        select(Inspection)
        .where(
            Inspection.registration_code == code,
            Inspection.signed_at.is_not(None),
            Inspection.kind.in_([InspectionKind.PERIODIC.value, InspectionKind.RE_INSPECTION.value]),
        )
        .order_by(Inspection.performed_at.desc(), Inspection.id.desc())
    ).first()
    return last


def due_for(
    session: Session, elevator: registry_queries.StoredElevator, settings: Settings, today: date
) -> Due:
    """When the elevator's next periodic inspection is due: from its last concluded inspection when that
    passed (with or without rectification), at once (today) when it failed and no re-inspection has passed
    since; with no inspection on record, from its commissioning (today when that is unknown)."""
    rule = rule_from(settings)
    commissioned = elevator.commissioning_date or elevator.installation_date
    last = _last_concluded(session, elevator.registration_code)
    if last is not None and last.performed_at is not None:
        if last.conclusion == Conclusion.FAIL.value:
            return Due(today, 0, None)
        return next_due(_local_date(last.performed_at, settings), commissioned, rule)
    if commissioned is None:
        return Due(today, 0, None)
    return next_due(commissioned, commissioned, rule)


def _open_periodic(session: Session, code: str) -> Inspection | None:
    found: Inspection | None = session.scalars(
        select(Inspection).where(
            Inspection.registration_code == code,
            Inspection.kind == InspectionKind.PERIODIC.value,
            Inspection.signed_at.is_(None),
        )
    ).first()
    return found


def _maintenance_unit(session: Session, elevator: registry_queries.StoredElevator, on: date) -> str:
    contract = maintenance.valid_contract(session, elevator.registration_code, on)
    if contract is not None:
        return contract.unit_code
    return elevator.maintenance_unit.code if elevator.maintenance_unit is not None else ""


def schedule_next(
    session: Session,
    actor: Actor,
    code: str,
    body_unit_code: str,
    inspector: str,
    clock: Clock,
    settings: Settings,
    scheduled_date: date | None = None,
) -> tuple[Inspection, bool]:
    """Schedule the elevator's next periodic inspection, due by :func:`due_for` (``scheduled_date``
    defaults to the due date). One open periodic inspection per elevator: asked again, the one already
    scheduled is returned (``created`` False)."""
    if actor.role not in SCHEDULERS:
        raise Forbidden(f"role '{actor.role.value}' may not schedule inspections")
    found = registry_queries.get_public_elevator(session, code)
    elevator = registry_queries.get_elevator(session, actor, found.registration_code)
    existing = _open_periodic(session, elevator.registration_code)
    if existing is not None:
        return existing, False
    _check_body_and_inspector(session, actor, body_unit_code, inspector)
    today = _today(clock, settings)
    due = due_for(session, elevator, settings, today)
    return _new(
        session,
        actor,
        elevator,
        InspectionKind.PERIODIC,
        body_unit_code,
        inspector,
        scheduled_date or due.due,
        due.due,
        clock,
        today,
    ), True


def _new(
    session: Session,
    actor: Actor | str,
    elevator: registry_queries.StoredElevator,
    kind: InspectionKind,
    body_unit_code: str,
    inspector: str,
    scheduled: date,
    due: date,
    clock: Clock,
    today: date,
    original_id: int | None = None,
) -> Inspection:
    now = clock.now()
    row = Inspection(
        registration_code=elevator.registration_code,
        unit_code=_maintenance_unit(session, elevator, today),
        kind=kind.value,
        body_unit_code=body_unit_code,
        inspector=inspector,
        scheduled_date=scheduled,
        due_date=due,
        original_id=original_id,
        report_number="",
        created_at=now,
        created_by=actor if isinstance(actor, str) else actor.username,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- results


def may_record(session: Session, actor: Actor, row: Inspection) -> bool:
    """Whether ``actor`` may record the (visible) inspection's result: its named inspector, or any inspector
    of its inspection body (who then becomes its inspector: the report names who inspected)."""
    if actor.role is not Role.INSPECTOR:
        return False
    return row.inspector == actor.username or body_of(session, actor) == row.body_unit_code


def _own(session: Session, actor: Actor, inspection_id: int, signing: bool = False) -> Inspection:
    """The inspection for its inspector to record (any inspector of its body) or sign (the inspector who
    recorded it): others who can see it get 403, the rest 404."""
    row = get_inspection(session, actor, inspection_id)
    if not may_record(session, actor, row) or (signing and row.inspector != actor.username):
        raise Forbidden("only the inspection's inspector records and signs its result")
    if row.signed_at is not None:
        raise Conflict(f"inspection {inspection_id} is signed: its result is never changed")
    return row


def record_result(
    session: Session,
    actor: Actor,
    inspection_id: int,
    performed_at: datetime,
    conclusion: Conclusion,
    report_number: str,
    findings: Sequence[Finding],
    clock: Clock,
    settings: Settings | None = None,
) -> Inspection:
    """Record (or correct, while unsigned) the result: when, the conclusion, the report number and the
    non-conformities, numbered 1..n in the order given. ``pass`` carries none; a pass after rectification or
    a fail carries at least one, none with a rectification deadline before the day of the inspection (on
    the city's calendar with ``settings``, else UTC). A signed inspection refuses (409)."""
    row = _own(session, actor, inspection_id)
    performed = as_utc(performed_at)
    if performed > clock.now():
        raise InvalidInput(FieldError("performed_at", "lies in the future"))
    if conclusion is Conclusion.PASS and findings:
        raise InvalidInput(FieldError("nonconformities", "a pass has no non-conformities"))
    if conclusion is not Conclusion.PASS and not findings:
        raise InvalidInput(
            FieldError("nonconformities", f"a '{conclusion.value}' names its non-conformities")
        )
    performed_day = _local_date(performed, settings) if settings else performed.date()
    late = [
        FieldError(f"nonconformities.{n}.rectify_by", "precedes the day of the inspection")
        for n, f in enumerate(findings)
        if f.rectify_by < performed_day
    ]
    if late:
        raise InvalidInput(late)
    for old in nonconformities_of(session, row):
        session.delete(old)
    session.flush()
    for n, f in enumerate(findings, start=1):
        session.add(
            Nonconformity(
                inspection_id=row.id,
                item_no=n,
                item=f.item,
                text=f.text,
                severity=f.severity.value,
                rectify_by=f.rectify_by,
                work_order_id=None,
            )
        )
    row.inspector = actor.username
    row.performed_at = performed
    row.conclusion = conclusion.value
    row.report_number = report_number
    row.updated_at = clock.now()
    session.flush()
    return row


def open_rectifications(
    session: Session, actor: Actor, row: Inspection, clock: Clock, settings: Settings
) -> list[int]:
    """One rectification work order per non-conformity, through maintenance's public opener; idempotent
    on "<inspection id>:<item n>" (a second call returns the same orders)."""
    ids: list[int] = []
    for item in nonconformities_of(session, row):
        what = f"[{item.item}] {item.text}" if item.item else item.text
        summary = f"检验不符合项 {row.id}-{item.item_no}: {what} (整改期限 {item.rectify_by.isoformat()})"
        outcome = maintenance.open_corrective(
            session,
            actor,
            row.registration_code,
            WorkOrderSource.INSPECTION,
            f"{row.id}:{item.item_no}",
            summary,
            clock,
            settings,
            urgent=item.severity == Severity.MAJOR.value,
            due_by=item.rectify_by,  # the inspection body's rectification period, not the repair SLA
        )
        item.work_order_id = outcome.work_order.id
        ids.append(outcome.work_order.id)
    session.flush()
    return ids


def sign(session: Session, actor: Actor, inspection_id: int, clock: Clock, settings: Settings) -> Signed:
    """Sign the recorded result: from now on it is never changed. Opens the rectification work orders and,
    after a pass (with or without rectification) of a periodic inspection or re-inspection, schedules the
    next periodic inspection by the rule (same body and inspector). On the elevator file."""
    row = _own(session, actor, inspection_id, signing=True)
    if row.performed_at is None or row.conclusion is None:
        raise Conflict(f"inspection {inspection_id} has no result to sign")
    now = clock.now()
    row.signed_at = now
    row.updated_at = now
    session.flush()
    out = Signed(row, open_rectifications(session, actor, row, clock, settings))
    registry.append_system_entries(
        session,
        [
            registry.SystemEntry(
                row.registration_code,
                "inspection_signed",
                row.performed_at,
                "inspection_signed",
                {
                    "inspection_id": row.id,
                    "kind": row.kind,
                    "conclusion": row.conclusion,
                    "report_number": row.report_number,
                    "work_orders": out.work_order_ids,
                },
                f"inspection:{row.id}:signed",
            )
        ],
        recorded_by=actor.username,
    )
    if row.kind != InspectionKind.SELF_TEST.value and row.conclusion != Conclusion.FAIL.value:
        elevator = registry_queries.get_elevator(session, actor, row.registration_code)
        if _open_periodic(session, row.registration_code) is None:
            today = _today(clock, settings)
            due = due_for(session, elevator, settings, today)
            out.next_inspection = _new(
                session,
                actor,
                elevator,
                InspectionKind.PERIODIC,
                row.body_unit_code,
                row.inspector,
                due.due,
                due.due,
                clock,
                today,
            )
    return out


def schedule_re_inspection(
    session: Session,
    actor: Actor,
    original_id: int,
    scheduled_date: date,
    clock: Clock,
    settings: Settings,
) -> tuple[Inspection, bool]:
    """A re-inspection (复检) of a signed inspection that did not pass outright, after its rectification;
    same body and inspector. One per original: asked again, the open one is returned (``created`` False)."""
    if actor.role not in SCHEDULERS:
        raise Forbidden(f"role '{actor.role.value}' may not schedule inspections")
    original = get_inspection(session, actor, original_id)
    if original.signed_at is None or original.conclusion == Conclusion.PASS.value:
        raise Conflict(f"inspection {original_id} is not a signed result with non-conformities")
    existing: Inspection | None = session.scalars(
        select(Inspection).where(Inspection.original_id == original.id, Inspection.signed_at.is_(None))
    ).first()
    if existing is not None:
        return existing, False
    elevator = registry_queries.get_elevator(session, actor, original.registration_code)
    return _new(
        session,
        actor,
        elevator,
        InspectionKind.RE_INSPECTION,
        original.body_unit_code,
        original.inspector,
        scheduled_date,
        scheduled_date,
        clock,
        _today(clock, settings),
        original_id=original.id,
    ), True


# ---------------------------------------------------------------- overdue and the KPI


def overdue(session: Session, actor: Actor, clock: Clock, settings: Settings) -> list[Overdue]:
    """Elevators whose scheduled inspection is past its due date and not yet signed (oldest first)."""
    today = _today(clock, settings)
    stmt = _scoped(
        session,
        actor,
        select(Inspection).where(
            Inspection.signed_at.is_(None),
            Inspection.due_date < today,
            Inspection.kind != InspectionKind.SELF_TEST.value,
        ),
    )
    rows = session.scalars(stmt.order_by(Inspection.due_date, Inspection.id))
    return [
        Overdue(r.registration_code, r.id, r.due_date, (today - r.due_date).days)
        for r in rows
        if is_overdue(r.due_date, today)
    ]


def pass_rate(
    session: Session,
    actor: Actor,
    start: date,
    end: date,
    settings: Settings,
    unit_code: str | None = None,
    district: str | None = None,
) -> PassRate:
    """The first-attempt pass rate (检验合格率, :func:`domain.first_attempt_pass_rate`) of the inspections
    signed with a performance date in ``[start, end)`` (the city's days), in the actor's scope, optionally of
    one maintenance unit and/or one district."""
    if end <= start:
        raise InvalidInput(FieldError("end", "must be after start"))
    scope = _scope(session, actor)
    stmt = select(Inspection.kind, Inspection.conclusion, Inspection.performed_at).where(
        Inspection.signed_at.is_not(None),
        # a day's margin each side in UTC; the exact cut is on the city's days below
        Inspection.performed_at >= datetime.combine(start - timedelta(days=1), time(0), tzinfo=UTC),
        Inspection.performed_at < datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC),
    )
    if scope is not None:
        stmt = stmt.where(scope)
    if unit_code:
        stmt = stmt.where(Inspection.unit_code == unit_code)
    if district:
        stmt = stmt.where(Inspection.registration_code.in_(registry_queries.code_subquery(district=district)))
    rows = [
        Concluded(InspectionKind(kind), Conclusion(conclusion))
        for kind, conclusion, performed in session.execute(stmt)
        if conclusion is not None
        and performed is not None
        and start <= _local_date(performed, settings) < end
    ]
    return first_attempt_pass_rate(rows)


# ---------------------------------------------------------------- self-tests (自行检测)

SELF_TEST_READ_ALL = READ_ALL | {Role.INSPECTOR}


def _self_test_scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """Who reads self-tests: the centre and inspectors (who inspect after them) all; a maintenance unit's
    staff their unit's; use-unit staff those of their elevators; everyone else 403."""
    if actor.role not in READERS:
        raise Forbidden(f"role '{actor.role.value}' may not read self-tests")
    if actor.role in SELF_TEST_READ_ALL:
        return None
    if actor.role is Role.MAINTENANCE:
        unit = registry_queries.actor_unit_code(session, actor)
        return SelfTest.unit_code == unit if unit else false()
    if actor.unit_id is None:
        return false()
    cond: ColumnElement[bool] = SelfTest.registration_code.in_(
        registry_queries.code_subquery(use_unit_id=actor.unit_id)
    )
    return cond


def list_self_tests(
    session: Session, actor: Actor, registration_code: str | None = None, limit: int = 200
) -> list[SelfTest]:
    """Self-tests in the actor's scope, newest first (of one elevator with ``registration_code``)."""
    stmt = select(SelfTest)
    cond = _self_test_scope(session, actor)
    if cond is not None:
        stmt = stmt.where(cond)
    if registration_code:
        stmt = stmt.where(SelfTest.registration_code == registration_code)
    return list(session.scalars(stmt.order_by(SelfTest.tested_on.desc(), SelfTest.id.desc()).limit(limit)))


def record_self_test(
    session: Session,
    actor: Actor,
    code: str,
    tested_on: date,
    conclusion: Conclusion,
    tester: str,
    notes: str,
    clock: Clock,
    settings: Settings,
) -> SelfTest:
    """Record the self-test the maintenance unit made of an elevator (TSG T7008-2023): only the staff of
    the unit maintaining it on ``tested_on`` (by contract, else the registry) record it; an elevator outside
    their scope is not found (404). Once recorded it is never changed; the same elevator and day again is a
    conflict (409). On the elevator file."""
    if actor.role is not Role.MAINTENANCE:
        raise Forbidden("only the maintenance unit's staff record self-tests")
    found = registry_queries.get_public_elevator(session, code)
    elevator = registry_queries.get_elevator(session, actor, found.registration_code)  # 404 outside scope
    if tested_on > _today(clock, settings):
        raise InvalidInput(FieldError("tested_on", "lies in the future"))
    unit = registry_queries.actor_unit_code(session, actor)
    if not unit or _maintenance_unit(session, elevator, tested_on) != unit:
        raise NotFound(f"elevator '{code}' is not maintained by your unit")
    taken = session.scalar(
        select(SelfTest.id).where(
            SelfTest.registration_code == elevator.registration_code, SelfTest.tested_on == tested_on
        )
    )
    if taken is not None:
        raise Conflict(
            f"a self-test of '{elevator.registration_code}' on {tested_on.isoformat()} is recorded",
            [FieldError("tested_on", "a self-test of this elevator on this day is recorded")],
        )
    row = SelfTest(
        registration_code=elevator.registration_code,
        unit_code=unit,
        tested_on=tested_on,
        conclusion=conclusion.value,
        tester=tester,
        notes=notes,
        recorded_by=actor.username,
        recorded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    registry.append_system_entries(
        session,
        [
            registry.SystemEntry(
                row.registration_code,
                "inspection_self_test",
                clock.now(),
                "inspection_self_test",
                {"self_test_id": row.id, "tested_on": tested_on.isoformat(), "conclusion": row.conclusion},
                f"inspection:self_test:{row.id}",
            )
        ],
        recorded_by=actor.username,
    )
    return row


@dataclass(frozen=True)
class SelfTestDue:
    """An elevator that wants a self-test (待自检): its periodic inspection is due by ``due`` (``periodic``
    True, the unsigned inspection ``inspection_id``), or, under the reform schedule, ``due`` is the
    anniversary of its last inspection in a year without one (``periodic`` False)."""

    registration_code: str
    due: date
    periodic: bool
    inspection_id: int | None = None


def self_tests_due(
    session: Session, actor: Actor, clock: Clock, settings: Settings, days: int = DUE_SOON_DAYS
) -> list[SelfTestDue]:
    """The elevators in the actor's inspection scope (a maintenance unit: its own) with a self-test due
    within ``days`` (or already late), soonest first, so the unit tests before the inspection body comes:
    unsigned periodic inspections due by then, and with the reform schedule the anniversaries of the last
    passed inspection from ``days`` ago to ``days`` ahead. A self-test recorded in the last ``days`` days
    clears an elevator."""
    today = _today(clock, settings)
    until = today + timedelta(days=days)
    out: dict[str, SelfTestDue] = {}
    open_rows = session.scalars(
        _scoped(
            session,
            actor,
            select(Inspection).where(
                Inspection.kind == InspectionKind.PERIODIC.value,
                Inspection.signed_at.is_(None),
                Inspection.due_date <= until,
            ),
        ).order_by(Inspection.due_date, Inspection.id)
    )
    for row in open_rows:
        out.setdefault(row.registration_code, SelfTestDue(row.registration_code, row.due_date, True, row.id))
    rule = rule_from(settings)
    if rule.schedule is Schedule.REFORM:
        concluded = session.scalars(
            _scoped(
                session,
                actor,
                select(Inspection).where(
                    Inspection.signed_at.is_not(None),
                    Inspection.performed_at.is_not(None),
                    Inspection.kind.in_([InspectionKind.PERIODIC.value, InspectionKind.RE_INSPECTION.value]),
                ),
            ).order_by(Inspection.performed_at.desc(), Inspection.id.desc())
        )
        latest: dict[str, Inspection] = {}
        for row in concluded:
            latest.setdefault(row.registration_code, row)
        for code, row in latest.items():
            if code in out or row.conclusion == Conclusion.FAIL.value or row.performed_at is None:
                continue
            last = _local_date(row.performed_at, settings)
            near = [
                add_years(last, n)
                for n in range(1, today.year - last.year + 2)
                if today - timedelta(days=days) <= add_years(last, n) <= until
            ]
            if not near:  # no anniversary near: no need to read the elevator
                continue
            elevator = registry_queries.get_public_elevator(session, code)  # in scope by its inspection
            commissioned = elevator.commissioning_date or elevator.installation_date
            tests = [d for d in next_due(last, commissioned, rule).self_tests if d in near]
            if tests:
                out[code] = SelfTestDue(code, tests[0], False)
    if not out:
        return []
    tested = set(
        session.scalars(
            select(SelfTest.registration_code).where(
                SelfTest.registration_code.in_(list(out)), SelfTest.tested_on >= today - timedelta(days=days)
            )
        )
    )
    return sorted((d for c, d in out.items() if c not in tested), key=lambda d: (d.due, d.registration_code))


# ---------------------------------------------------------------- reads: an elevator, the schedule


@dataclass(frozen=True)
class ElevatorInspections:
    """An elevator's inspection record as its readers see it: when the next periodic inspection is due
    (with the self-tests before it under the reform schedule), its inspections and its self-tests."""

    registration_code: str
    due: Due
    inspections: list[Inspection]
    self_tests: list[SelfTest]


def elevator_inspections(
    session: Session, actor: Actor, code: str, clock: Clock, settings: Settings
) -> ElevatorInspections:
    """One elevator's inspections and self-tests in the actor's scope (404 for an elevator outside it)."""
    _scope(session, actor)  # 403 for roles that read no inspections
    found = registry_queries.get_public_elevator(session, code)
    elevator = registry_queries.get_elevator(session, actor, found.registration_code)
    reg = elevator.registration_code
    return ElevatorInspections(
        reg,
        due_for(session, elevator, settings, _today(clock, settings)),
        list_inspections(session, actor, reg),
        list_self_tests(session, actor, reg),
    )


@dataclass(frozen=True)
class Board:
    """The inspector's schedule (检验计划): unsigned inspections by where they stand, the latest signed and
    self-tests, each list with its full count (``counts``) and at most ``limit`` rows."""

    today: date
    overdue: list[Inspection]
    due_soon: list[Inspection]
    scheduled: list[Inspection]
    in_progress: list[Inspection]
    signed: list[Inspection]
    self_tests: list[SelfTest]
    counts: dict[str, int]


def schedule_board(
    session: Session, actor: Actor, clock: Clock, settings: Settings, limit: int = 50, days: int = 30
) -> Board:
    """The schedule in the actor's scope. Unsigned inspections: *in progress* once a result is recorded
    (a draft), else *overdue* (due date passed), *due soon* (due within ``DUE_SOON_DAYS``) or *scheduled*;
    *signed*: signed in the last ``days`` days, newest first; the self-tests of the last ``days`` days."""
    today = _today(clock, settings)
    soon = today + timedelta(days=DUE_SOON_DAYS)
    since = clock.now() - timedelta(days=days)
    unsigned = Inspection.signed_at.is_(None)
    blank = Inspection.performed_at.is_(None)
    lists: dict[str, tuple[ColumnElement[bool], Any]] = {
        "overdue": (unsigned & blank & (Inspection.due_date < today), Inspection.due_date),
        "due_soon": (
            unsigned & blank & (Inspection.due_date >= today) & (Inspection.due_date <= soon),
            Inspection.due_date,
        ),
        "scheduled": (unsigned & blank & (Inspection.due_date > soon), Inspection.due_date),
        "in_progress": (unsigned & Inspection.performed_at.is_not(None), Inspection.due_date),
        "signed": (Inspection.signed_at >= since, Inspection.signed_at.desc()),
    }
    scope = _scope(session, actor)
    rows: dict[str, list[Inspection]] = {}
    counts: dict[str, int] = {}
    for name, (cond, order) in lists.items():
        where = cond if scope is None else cond & scope
        counts[name] = int(session.scalar(select(func.count()).select_from(Inspection).where(where)) or 0)
        rows[name] = list(
            session.scalars(select(Inspection).where(where).order_by(order, Inspection.id).limit(limit))
        )
    tests_cond = SelfTest.tested_on >= today - timedelta(days=days)
    test_scope = _self_test_scope(session, actor)
    if test_scope is not None:
        tests_cond = tests_cond & test_scope
    counts["self_tests"] = int(
        session.scalar(select(func.count()).select_from(SelfTest).where(tests_cond)) or 0
    )
    tests = list(
        session.scalars(
            select(SelfTest)
            .where(tests_cond)
            .order_by(SelfTest.tested_on.desc(), SelfTest.id.desc())
            .limit(limit)
        )
    )
    return Board(
        today,
        rows["overdue"],
        rows["due_soon"],
        rows["scheduled"],
        rows["in_progress"],
        rows["signed"],
        tests,
        counts,
    )


def re_inspection_of(session: Session, actor: Actor, original: Inspection) -> Inspection | None:
    """The latest re-inspection of ``original`` in the actor's scope, if any."""
    found: Inspection | None = session.scalars(
        _scoped(session, actor, select(Inspection).where(Inspection.original_id == original.id)).order_by(
            Inspection.id.desc()
        )
    ).first()
    return found


# ---------------------------------------------------------------- city-wide counts (risk grading)
# One query each over the whole city or the given elevators; the caller decides who may read them.


def inspection_overdue_days(
    session: Session, today: date, codes: Collection[str] | None = None
) -> dict[str, int]:
    """Days the oldest unsigned scheduled inspection (periodic or re-inspection) of each elevator is past its
    due date (``overdue``'s rule: the due day itself is on time); elevators not overdue are absent."""
    stmt = select(Inspection.registration_code, func.min(Inspection.due_date)).where(
        Inspection.signed_at.is_(None),
        Inspection.due_date < today,
        Inspection.kind != InspectionKind.SELF_TEST.value,
    )
    if codes is not None:
        stmt = stmt.where(Inspection.registration_code.in_(list(codes)))
    rows = session.execute(stmt.group_by(Inspection.registration_code))
    return {code: (today - due).days for code, due in rows if due is not None and is_overdue(due, today)}


def pass_counts_by_unit(session: Session, start: datetime, end: datetime) -> dict[str, PassRate]:
    """The first-attempt pass rate's counts (:func:`domain.first_attempt_pass_rate`: periodic inspections
    concluded ``pass`` of those concluded) per maintenance unit of record, signed inspections performed in
    ``[start, end)``, in one GROUP BY (the ratings)."""
    passed = func.sum(case((Inspection.conclusion == Conclusion.PASS.value, 1), else_=0))
    stmt = (
        select(Inspection.unit_code, passed, func.count(Inspection.id))
        .where(
            Inspection.kind == InspectionKind.PERIODIC.value,
            Inspection.signed_at.is_not(None),
            Inspection.conclusion.is_not(None),
            Inspection.performed_at >= start,
            Inspection.performed_at < end,
        )
        .group_by(Inspection.unit_code)
    )
    return {str(unit): PassRate(int(p or 0), int(n)) for unit, p, n in session.execute(stmt)}


def open_nonconformity_counts(session: Session, codes: Collection[str] | None = None) -> dict[str, int]:
    """Non-conformities of each elevator's latest signed periodic inspection or re-inspection that are not
    rectified yet: no rectification work order, or one not finished (maintenance's read). A passed
    re-inspection has none, so it clears them."""
    kinds = [InspectionKind.PERIODIC.value, InspectionKind.RE_INSPECTION.value]
    latest = select(
        Inspection.registration_code.label("code"), func.max(Inspection.performed_at).label("at")
    ).where(Inspection.signed_at.is_not(None), Inspection.kind.in_(kinds))
    if codes is not None:
        latest = latest.where(Inspection.registration_code.in_(list(codes)))
    sub = latest.group_by(Inspection.registration_code).subquery()
    rows = session.execute(
        select(Inspection.registration_code, Nonconformity.work_order_id)
        .join(Nonconformity, Nonconformity.inspection_id == Inspection.id)
        .join(sub, (sub.c.code == Inspection.registration_code) & (sub.c.at == Inspection.performed_at))
        .where(Inspection.signed_at.is_not(None), Inspection.kind.in_(kinds))
    ).all()
    done = maintenance_queries.finished_work_orders(session, [wo for _, wo in rows if wo is not None])
    out: dict[str, int] = {}
    for code, wo in rows:
        if wo is None or wo not in done:
            out[code] = out.get(code, 0) + 1
    return out


# ---------------------------------------------------------------- a generated city's history


@dataclass(frozen=True)
class PastFinding:
    """A non-conformity of a past inspection (plain values)."""

    item: str
    text: str
    severity: Severity
    rectify_by: date


@dataclass(frozen=True)
class PastInspection:
    """A signed periodic inspection of a generated city's past (the demo), as plain values."""

    registration_code: str
    unit_code: str
    body_unit_code: str
    inspector: str
    scheduled_date: date
    due_date: date
    performed_at: datetime
    conclusion: Conclusion
    report_number: str
    signed_at: datetime
    created_at: datetime
    finding: PastFinding | None = None


def inspected_codes(session: Session) -> set[str]:
    """The elevators with any inspection on record."""
    return set(session.scalars(select(Inspection.registration_code).distinct()))


def bulk_load_history(session: Session, past: Sequence[PastInspection], recorded_by: str) -> list[Inspection]:
    """File a generated city's signed periodic inspections in bulk, with their non-conformities and their
    entries on the elevator file as :func:`sign` writes them (no work orders: what is still open goes
    through the functions above). For a generator, like ``registry.service.bulk_load``: no role or scope
    checks, the caller vouches for the data. Returns the rows in the order given (ids assigned)."""
    rows = [
        Inspection(
            registration_code=p.registration_code,
            unit_code=p.unit_code,
            kind=InspectionKind.PERIODIC.value,
            body_unit_code=p.body_unit_code,
            inspector=p.inspector,
            scheduled_date=p.scheduled_date,
            due_date=p.due_date,
            performed_at=p.performed_at,
            conclusion=p.conclusion.value,
            report_number=p.report_number,
            signed_at=p.signed_at,
            created_at=p.created_at,
            created_by=p.inspector,
            updated_at=p.performed_at,
        )
        for p in past
    ]
    session.add_all(rows)
    session.flush()
    for row, p in zip(rows, past, strict=True):
        if p.finding is not None:
            f = p.finding
            session.add(
                Nonconformity(
                    inspection_id=row.id,
                    item_no=1,
                    item=f.item,
                    text=f.text,
                    severity=f.severity.value,
                    rectify_by=f.rectify_by,
                    work_order_id=None,
                )
            )
    session.flush()
    registry.append_system_entries(
        session,
        [
            registry.SystemEntry(
                row.registration_code,
                "inspection_signed",
                row.performed_at or row.created_at,
                "inspection_signed",
                {
                    "inspection_id": row.id,
                    "kind": row.kind,
                    "conclusion": row.conclusion,
                    "report_number": row.report_number,
                    "work_orders": [],
                },
                f"inspection:{row.id}:signed",
            )
            for row in rows
        ],
        recorded_by=recorded_by,
    )
    return rows


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """The elevators with an inspection changed after ``since`` (what the risk worker rescores)."""
    stmt = select(Inspection.registration_code).where(Inspection.updated_at > since).distinct()
    return set(session.scalars(stmt))


def findings_signed_between(
    session: Session, start: datetime, end: datetime
) -> list[tuple[int, int, str, str, str, str]]:
    """The non-conformities of the inspections signed in [start, end): (non-conformity id, inspection id,
    registration code, severity, item, text), in signing order. What the hazard worker turns into hidden
    dangers (serious findings)."""
    stmt = (
        select(
            Nonconformity.id,
            Inspection.id,
            Inspection.registration_code,
            Nonconformity.severity,
            Nonconformity.item,
            Nonconformity.text,
        )
        .join(Inspection, Inspection.id == Nonconformity.inspection_id)
        .where(Inspection.signed_at >= as_utc(start), Inspection.signed_at < as_utc(end))
        .order_by(Inspection.signed_at, Nonconformity.id)
    )
    return [(int(n), int(i), c, sev, item, text) for n, i, c, sev, item, text in session.execute(stmt)]


def pass_counts_by_elevator(session: Session, start: datetime, end: datetime) -> dict[str, PassRate]:
    """The first-attempt pass rate's counts (:func:`domain.first_attempt_pass_rate`) per elevator: signed
    periodic inspections performed in ``[start, end)`` (instants: give the city's midnights), in one GROUP
    BY, only the elevators with one (the city's figures group them by district, age and so on). The
    caller decides who may read it."""
    passed = func.sum(case((Inspection.conclusion == Conclusion.PASS.value, 1), else_=0))
    stmt = (
        select(Inspection.registration_code, passed, func.count(Inspection.id))
        .where(
            Inspection.kind == InspectionKind.PERIODIC.value,
            Inspection.signed_at.is_not(None),
            Inspection.conclusion.is_not(None),
            Inspection.performed_at >= as_utc(start),
            Inspection.performed_at < as_utc(end),
        )
        .group_by(Inspection.registration_code)
    )
    return {str(code): PassRate(int(p or 0), int(n)) for code, p, n in session.execute(stmt)}


def pass_counts_by_group(
    session: Session, groups: Subquery | None, start: datetime, end: datetime
) -> dict[str, PassRate]:
    """The first-attempt pass rate's counts per group of elevators, in one GROUP BY (the city's figures):
    the inspections of :func:`pass_counts_by_elevator`; ``groups`` is a subquery of columns ``key`` and
    ``code`` (``registry.queries.group_key_subquery``), None counts the whole city as group ""."""
    passed = func.sum(case((Inspection.conclusion == Conclusion.PASS.value, 1), else_=0))
    where = (
        Inspection.kind == InspectionKind.PERIODIC.value,
        Inspection.signed_at.is_not(None),
        Inspection.conclusion.is_not(None),
        Inspection.performed_at >= as_utc(start),
        Inspection.performed_at < as_utc(end),
    )
    if groups is None:
        p, n = session.execute(select(passed, func.count(Inspection.id)).where(*where)).one()
        return {"": PassRate(int(p or 0), int(n))} if n else {}
    stmt = (
        select(groups.c.key, passed, func.count(Inspection.id))
        .join(groups, groups.c.code == Inspection.registration_code)
        .where(*where)
        .group_by(groups.c.key)
    )
    return {str(k): PassRate(int(p or 0), int(n)) for k, p, n in session.execute(stmt)}
