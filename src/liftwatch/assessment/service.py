"""The only writer of elevators under focused supervision: the safety assessments (安全评估) of residential
elevators in use 15 years and more, and the measures taken on three-no elevators (三无电梯).

Scope (outside it an elevator is *not found*, 404): admins, regulators and inspectors read every elevator's
assessments and measures; maintenance and use-unit staff those of the elevators their unit maintains or uses
(the registry's scope). Other roles: 403. Recording an assessment, its decision and the hazard it opens:
admins, regulators and inspectors. Recording a three-no measure: admins and regulators (the street or
community acts through them). Each record is written once per request key, so a form sent twice is one row.

An assessment whose result calls for work (rectification, or modernisation or major repair recommended) may
open a hidden danger through ``hazards.service.report`` (source spot check, the reference
``assessment:<id>``, so it is opened once); a recommendation of modernisation or major repair is a major
hazard. The due rule is domain.due with the settings' rule (``LIFTWATCH_ASSESSMENT_*``, settings.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.assessment import domain
from liftwatch.assessment.domain import (
    DEFAULT_RULE,
    AssessmentResult,
    AssessmentRule,
    Decision,
    Due,
    DueStatus,
    MeasureKind,
    ThreeNoStatus,
)
from liftwatch.assessment.models import SafetyAssessment, ThreeNoMeasure
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from liftwatch.registry import queries as registry
from liftwatch.registry import service as registry_service

StoredAssessment: TypeAlias = SafetyAssessment
StoredMeasure: TypeAlias = ThreeNoMeasure

READERS = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR, Role.MAINTENANCE, Role.USE_UNIT})
ASSESSORS = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR})
MEASURE_TAKERS = frozenset({Role.ADMIN, Role.REGULATOR})
HAZARD_REF = "assessment:{id}"


@dataclass
class Recorded:
    """An assessment as recorded (``created`` False when its request key was recorded before) and the
    hazard it opened, if any."""

    assessment: SafetyAssessment
    created: bool
    hazard_id: int | None = None


@dataclass(frozen=True)
class OldRow:
    """A line of the 15-year list: the registry's entry, its age and its assessment status."""

    entry: registry.RegisterEntry
    age: int | None
    due: Due
    latest: SafetyAssessment | None


# ---------------------------------------------------------------- scope


def _reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden(f"role '{actor.role.value}' may not read safety assessments or three-no measures")


def _elevator(session: Session, actor: Actor, code: str) -> registry.StoredElevator:
    """The elevator by registration or rescue code, in the actor's scope (404 outside it)."""
    _reader(actor)
    found = registry.get_public_elevator(session, code)
    return registry.get_elevator(session, actor, found.registration_code)


def started(elevator: registry.StoredElevator) -> date | None:
    """When it went into use: the commissioning date, else the installation date."""
    return elevator.commissioning_date or elevator.installation_date


def _file_entry(
    session: Session, who: str, code: str, kind: str, at: datetime, key: str, /, **details: Any
) -> None:
    """An entry on the elevator file (一梯一档), once per ``key``."""
    registry_service.append_system_entries(
        session, [registry_service.SystemEntry(code, kind, at, kind, details, key)], recorded_by=who
    )


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


def _not_future(name: str, day: date, today: date) -> None:
    if day > today:
        raise InvalidInput(FieldError(name, f"{day.isoformat()} is in the future"))


# ---------------------------------------------------------------- assessments


def _by_key(session: Session, key: str) -> SafetyAssessment | None:
    row: SafetyAssessment | None = session.scalars(
        select(SafetyAssessment).where(SafetyAssessment.request_key == key)
    ).first()
    return row


def _check_decision(decision: Decision, decision_on: date | None, assessed_on: date, today: date) -> None:
    if decision is Decision.NONE:
        if decision_on is not None:
            raise InvalidInput(FieldError("decision_on", "a date goes with a decision other than 'none'"))
        return
    if decision_on is None:
        raise InvalidInput(FieldError("decision_on", f"give the day '{decision.value}' was decided"))
    if decision_on < assessed_on:
        raise InvalidInput(FieldError("decision_on", f"{decision_on.isoformat()} is before the assessment"))
    _not_future("decision_on", decision_on, today)


def record_assessment(
    session: Session,
    actor: Actor,
    code: str,
    request_key: str,
    assessor: str,
    assessed_on: date,
    result: AssessmentResult,
    clock: Clock,
    settings: Settings,
    findings: str = "",
    assessor_unit: str = "",
    decision: Decision = Decision.NONE,
    decision_on: date | None = None,
    open_hazard: bool = False,
) -> Recorded:
    """Record a safety assessment of the elevator with this registration or rescue code: who assessed (the
    body's name, and its unit code when registered), the day, the result and the findings, and the
    decision taken if already known. With ``open_hazard`` a result that calls for work opens a hazard
    (``open_hazard_for``). Idempotent on ``request_key``."""
    elevator = _elevator(session, actor, code)  # 404 outside scope, then 403 for a role that may not
    if actor.role not in ASSESSORS:
        raise Forbidden(f"role '{actor.role.value}' may not record safety assessments")
    if not request_key.strip():
        raise InvalidInput(FieldError("request_key", "name the record (its idempotency key)"))
    existing = _by_key(session, request_key)
    if existing is not None:
        if existing.registration_code != elevator.registration_code:
            raise Conflict(f"request key '{request_key}' is an assessment of {existing.registration_code}")
        return Recorded(existing, False, existing.hazard_id)
    today = _today(clock, settings)
    if not assessor.strip():
        raise InvalidInput(FieldError("assessor", "name the body that assessed"))
    if assessor_unit and registry.unit_by_code(session, assessor_unit) is None:
        raise InvalidInput(FieldError("assessor_unit", f"no unit with code '{assessor_unit}'"))
    _not_future("assessed_on", assessed_on, today)
    _check_decision(decision, decision_on, assessed_on, today)
    if open_hazard and result not in domain.NEEDS_WORK:
        raise InvalidInput(FieldError("open_hazard", "a 'safe' result has nothing to rectify"))
    if open_hazard and not findings.strip():
        raise InvalidInput(FieldError("findings", "say what must be rectified"))
    now = clock.now()
    row = SafetyAssessment(
        request_key=request_key,
        registration_code=elevator.registration_code,
        assessor=assessor.strip(),
        assessor_unit=assessor_unit,
        assessed_on=assessed_on,
        result=result.value,
        findings=findings,
        decision=decision.value,
        decision_on=decision_on,
        recorded_by=actor.username,
        recorded_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        again = _by_key(session, request_key)
        if again is None:
            raise
        return Recorded(again, False, again.hazard_id)
    _file_entry(
        session, actor.username, row.registration_code, "safety_assessment", now,
        f"assessment:{row.id}", assessment_id=row.id, assessed_on=assessed_on.isoformat(),
        result=result.value, assessor=row.assessor, decision=decision.value,
    )  # fmt: skip
    hazard_id = None
    if open_hazard:
        _, hazard_id, _ = open_hazard_for(session, actor, row.id, clock, settings)
    return Recorded(row, True, hazard_id)


def get_assessment(session: Session, actor: Actor, assessment_id: int) -> SafetyAssessment:
    """The assessment, if its elevator is in the actor's scope (404 otherwise)."""
    _reader(actor)
    row = session.get(SafetyAssessment, assessment_id)
    if row is None:
        raise NotFound(f"no safety assessment {assessment_id}")
    try:
        registry.get_elevator(session, actor, row.registration_code)
    except NotFound:
        raise NotFound(f"no safety assessment {assessment_id}") from None
    return row


def open_hazard_for(
    session: Session, actor: Actor, assessment_id: int, clock: Clock, settings: Settings
) -> tuple[SafetyAssessment, int, bool]:
    """Open the hidden danger of an assessment whose result calls for work, once (the hazards service is
    idempotent on the reference ``assessment:<id>``): a spot-check hazard, major when modernisation or
    major repair is recommended. Returns the assessment, the hazard id and whether it was opened now."""
    row = get_assessment(session, actor, assessment_id)
    if actor.role not in ASSESSORS:
        raise Forbidden(f"role '{actor.role.value}' may not open hazards from assessments")
    result = AssessmentResult(row.result)
    if result not in domain.NEEDS_WORK:
        raise InvalidInput(FieldError("result", "a 'safe' result has nothing to rectify"))
    level = HazardLevel.MAJOR if result is AssessmentResult.MAJOR_WORK else HazardLevel.GENERAL
    description = row.findings.strip() or f"安全评估 {row.assessed_on.isoformat()}: {row.result}"
    outcome = hazards.report(
        session,
        actor,
        row.registration_code,
        HazardSource.SPOT_CHECK,
        HAZARD_REF.format(id=row.id),
        level,
        description,
        clock,
        settings,
    )
    row.hazard_id = outcome.hazard.id
    row.updated_at = clock.now()
    return row, outcome.hazard.id, outcome.created


def set_decision(
    session: Session,
    actor: Actor,
    assessment_id: int,
    decision: Decision,
    decision_on: date | None,
    clock: Clock,
    settings: Settings,
) -> SafetyAssessment:
    """Record the decision taken after the assessment (none, major repair, modernisation, replacement) and
    its day."""
    row = get_assessment(session, actor, assessment_id)
    if actor.role not in ASSESSORS:
        raise Forbidden(f"role '{actor.role.value}' may not record assessment decisions")
    _check_decision(decision, decision_on, row.assessed_on, _today(clock, settings))
    row.decision, row.decision_on = decision.value, decision_on
    row.updated_at = now = clock.now()
    if decision is not Decision.NONE:
        on = decision_on.isoformat() if decision_on else ""
        _file_entry(
            session, actor.username, row.registration_code, "assessment_decision", now,
            f"assessment:{row.id}:decision:{decision.value}:{on}", assessment_id=row.id,
            decision=decision.value, decision_on=on,
        )  # fmt: skip
    return row


def assessments_of(session: Session, actor: Actor, code: str) -> list[SafetyAssessment]:
    """The elevator's assessments, newest first (404 outside scope)."""
    elevator = _elevator(session, actor, code)
    return list(
        session.scalars(
            select(SafetyAssessment)
            .where(SafetyAssessment.registration_code == elevator.registration_code)
            .order_by(SafetyAssessment.assessed_on.desc(), SafetyAssessment.id.desc())
        )
    )


def latest_assessments(session: Session, codes: Iterable[str]) -> dict[str, SafetyAssessment]:
    """The latest assessment of each of these elevators (the caller has limited them to the actor's
    scope), in one query per thousand codes."""
    wanted = sorted(set(codes))
    out: dict[str, SafetyAssessment] = {}
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        latest = (
            select(SafetyAssessment.registration_code, func.max(SafetyAssessment.assessed_on).label("day"))
            .where(SafetyAssessment.registration_code.in_(chunk))
            .group_by(SafetyAssessment.registration_code)
            .subquery()
        )
        stmt = (
            select(SafetyAssessment)
            .join(
                latest,
                (latest.c.registration_code == SafetyAssessment.registration_code)
                & (latest.c.day == SafetyAssessment.assessed_on),
            )
            .order_by(SafetyAssessment.id)
        )
        for row in session.scalars(stmt):
            out[row.registration_code] = row  # the later record of the same day wins
    return out


def status_of(
    elevator: registry.StoredElevator,
    latest: SafetyAssessment | None,
    today: date,
    rule: AssessmentRule = DEFAULT_RULE,
) -> Due:
    return domain.due(started(elevator), latest.assessed_on if latest else None, today, rule)


def elevator_status(
    session: Session,
    actor: Actor,
    code: str,
    clock: Clock,
    settings: Settings,
    rule: AssessmentRule = DEFAULT_RULE,
) -> Due:
    """The elevator's assessment status on the city's today (404 outside scope)."""
    elevator = _elevator(session, actor, code)
    latest = latest_assessments(session, [elevator.registration_code]).get(elevator.registration_code)
    return status_of(elevator, latest, _today(clock, settings), rule)


@dataclass(frozen=True)
class Supervision:
    """An elevator's assessment status, its assessments and its three-no measures, newest first."""

    registration_code: str
    started: date | None
    due: Due
    three_no_status: ThreeNoStatus
    assessments: list[SafetyAssessment]
    measures: list[ThreeNoMeasure]


def supervision_of(
    session: Session,
    actor: Actor,
    code: str,
    clock: Clock,
    settings: Settings,
    rule: AssessmentRule = DEFAULT_RULE,
) -> Supervision:
    """All an elevator's focused-supervision records with its status on the city's today (404 outside
    scope)."""
    elevator = _elevator(session, actor, code)
    reg = elevator.registration_code
    assessments = list(
        session.scalars(
            select(SafetyAssessment)
            .where(SafetyAssessment.registration_code == reg)
            .order_by(SafetyAssessment.assessed_on.desc(), SafetyAssessment.id.desc())
        )
    )
    measures = list(
        session.scalars(
            select(ThreeNoMeasure)
            .where(ThreeNoMeasure.registration_code == reg)
            .order_by(ThreeNoMeasure.id.desc())
        )
    )
    latest = assessments[0] if assessments else None
    due = status_of(elevator, latest, _today(clock, settings), rule)
    status = three_no_status(measures[0] if measures else None)
    return Supervision(reg, started(elevator), due, status, assessments, measures)


def old_register(
    session: Session,
    actor: Actor,
    today: date,
    rule: AssessmentRule = DEFAULT_RULE,
    district: str | None = None,
    place_type: str | None = None,
    statuses: Sequence[DueStatus] = (),
) -> list[OldRow]:
    """The elevators in use ``rule.first_years`` years and more in the actor's scope (registry order:
    residential first, then the oldest), each with its assessment status, optionally only some statuses."""
    _reader(actor)
    entries = registry.old_elevators(session, actor, today, rule.first_years, district, place_type)
    latest = latest_assessments(session, [e.registration_code for e in entries])
    out = []
    for e in entries:
        last = latest.get(e.registration_code)
        status = domain.due(e.started, last.assessed_on if last else None, today, rule)
        if statuses and status.status not in statuses:
            continue
        out.append(OldRow(e, e.full_years(today), status, last))
    return out


# ---------------------------------------------------------------- three-no measures


def add_measure(
    session: Session,
    actor: Actor,
    code: str,
    request_key: str,
    kind: MeasureKind,
    taken_on: date,
    taken_by: str,
    clock: Clock,
    settings: Settings,
    note: str = "",
    status: ThreeNoStatus | None = None,
) -> tuple[ThreeNoMeasure, bool]:
    """Record a measure taken on a three-no elevator (kind, day, who took it, a note) and the status it
    leaves it in (``in_progress`` unless given). Idempotent on ``request_key``."""
    elevator = _elevator(session, actor, code)  # 404 outside scope, then 403 for a role that may not
    if actor.role not in MEASURE_TAKERS:
        raise Forbidden(f"role '{actor.role.value}' may not record three-no measures")
    if not request_key.strip():
        raise InvalidInput(FieldError("request_key", "name the record (its idempotency key)"))
    existing = session.scalars(
        select(ThreeNoMeasure).where(ThreeNoMeasure.request_key == request_key)
    ).first()
    if existing is not None:
        if existing.registration_code != elevator.registration_code:
            raise Conflict(f"request key '{request_key}' is a measure on {existing.registration_code}")
        return existing, False
    if not taken_by.strip():
        raise InvalidInput(FieldError("taken_by", "say who took the measure"))
    if kind is MeasureKind.OTHER and not note.strip():
        raise InvalidInput(FieldError("note", "say what the measure was"))
    _not_future("taken_on", taken_on, _today(clock, settings))
    row = ThreeNoMeasure(
        request_key=request_key,
        registration_code=elevator.registration_code,
        kind=kind.value,
        taken_on=taken_on,
        taken_by=taken_by.strip(),
        note=note,
        status=domain.status_after(kind, status).value,
        recorded_by=actor.username,
        recorded_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        again = session.scalars(
            select(ThreeNoMeasure).where(ThreeNoMeasure.request_key == request_key)
        ).first()
        if again is None:
            raise
        return again, False
    _file_entry(
        session, actor.username, row.registration_code, "three_no_measure", row.recorded_at,
        f"three_no_measure:{row.id}", measure_id=row.id, kind=row.kind, taken_on=taken_on.isoformat(),
        taken_by=row.taken_by, status=row.status,
    )  # fmt: skip
    return row, True


def measures_of(session: Session, actor: Actor, code: str) -> list[ThreeNoMeasure]:
    """The elevator's three-no measures, newest first (404 outside scope)."""
    elevator = _elevator(session, actor, code)
    return list(
        session.scalars(
            select(ThreeNoMeasure)
            .where(ThreeNoMeasure.registration_code == elevator.registration_code)
            .order_by(ThreeNoMeasure.id.desc())
        )
    )


def latest_measures(session: Session, codes: Iterable[str]) -> dict[str, ThreeNoMeasure]:
    """The latest measure of each of these elevators (the caller has limited them to the actor's scope)."""
    wanted = sorted(set(codes))
    out: dict[str, ThreeNoMeasure] = {}
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        last = (
            select(func.max(ThreeNoMeasure.id))
            .where(ThreeNoMeasure.registration_code.in_(chunk))
            .group_by(ThreeNoMeasure.registration_code)
        )
        for row in session.scalars(select(ThreeNoMeasure).where(ThreeNoMeasure.id.in_(last))):
            out[row.registration_code] = row
    return out


def three_no_status(latest: ThreeNoMeasure | None) -> ThreeNoStatus:
    """An elevator's follow-up status: its latest measure's, ``identified`` before any."""
    return ThreeNoStatus(latest.status) if latest is not None else ThreeNoStatus.IDENTIFIED


def recorded_since(session: Session, since: datetime) -> set[str]:
    """The elevators with an assessment or measure recorded or changed after ``since``."""
    a = select(SafetyAssessment.registration_code).where(SafetyAssessment.updated_at > since)
    m = select(ThreeNoMeasure.registration_code).where(ThreeNoMeasure.recorded_at > since)
    return set(session.scalars(a.union(m)))
