"""Routes of elevators under focused supervision: the 15-year list with each elevator's assessment status,
an elevator's assessments and three-no measures, recording an assessment, its decision and the hazard it
opens, and recording a three-no measure. Thin: the service decides scope and rules; every writing route
commits what the service changed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from liftwatch.assessment import service
from liftwatch.assessment.domain import DueStatus
from liftwatch.assessment.schemas import (
    AssessmentIn,
    AssessmentOut,
    DecisionIn,
    DueOut,
    ElevatorSupervisionOut,
    HazardOpenedOut,
    MeasureIn,
    MeasureOut,
    MeasureRecordedOut,
    OldRowOut,
    RecordedOut,
)
from liftwatch.assessment.settings import current_rule
from liftwatch.core.config import zone
from liftwatch.core.types import DbId, PathCode, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/assessment", tags=["assessment"])


@router.get("/old-elevators", response_model=list[OldRowOut])
def old_elevators(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    district: Annotated[QueryStr | None, Query(max_length=64)] = None,
    place_type: Annotated[QueryStr | None, Query(max_length=32)] = None,
    status: Annotated[list[DueStatus] | None, Query()] = None,
) -> list[OldRowOut]:
    """The elevators in use 15 years and more in the caller's scope, residential first, each with its
    assessment status (``status=due&status=overdue`` for those to chase)."""
    today = clock.now().astimezone(zone(settings.timezone)).date()
    rows = service.old_register(session, actor, today, current_rule(), district, place_type, status or ())
    return [
        OldRowOut(
            registration_code=r.entry.registration_code,
            district=r.entry.district,
            place_type=r.entry.place_type,
            use_unit=r.entry.use_unit,
            started=r.entry.started,
            age=r.age,
            due=DueOut.model_validate(r.due),
            latest=AssessmentOut.model_validate(r.latest) if r.latest else None,
        )
        for r in rows
    ]


@router.get("/elevators/{code}", response_model=ElevatorSupervisionOut)
def elevator(
    code: PathCode, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> ElevatorSupervisionOut:
    """An elevator's assessment status, assessments and three-no measures (404 outside scope)."""
    view = service.supervision_of(session, actor, code, clock, settings, current_rule())
    return ElevatorSupervisionOut(
        registration_code=view.registration_code,
        due=DueOut.model_validate(view.due),
        three_no_status=view.three_no_status.value,
        assessments=[AssessmentOut.model_validate(a) for a in view.assessments],
        measures=[MeasureOut.model_validate(m) for m in view.measures],
    )


@router.post(
    "/elevators/{code}/assessments",
    response_model=RecordedOut,
    status_code=201,
    responses={200: {"model": RecordedOut}},
)
def record_assessment(
    code: PathCode,
    data: AssessmentIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> RecordedOut:
    """Record a safety assessment: 201 when new, 200 when this request key was recorded before."""
    out = service.record_assessment(
        session,
        actor,
        code,
        data.request_key,
        data.assessor,
        data.assessed_on,
        data.result,
        clock,
        settings,
        findings=data.findings,
        assessor_unit=data.assessor_unit,
        decision=data.decision,
        decision_on=data.decision_on,
        open_hazard=data.open_hazard,
    )
    session.commit()
    response.status_code = 201 if out.created else 200
    return RecordedOut(created=out.created, assessment=AssessmentOut.model_validate(out.assessment))


@router.put("/assessments/{assessment_id}/decision", response_model=AssessmentOut)
def set_decision(
    assessment_id: DbId,
    data: DecisionIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> AssessmentOut:
    """The decision taken after the assessment (none, major repair, modernisation, replacement), its day."""
    row = service.set_decision(
        session, actor, assessment_id, data.decision, data.decision_on, clock, settings
    )
    session.commit()
    return AssessmentOut.model_validate(row)


@router.post(
    "/assessments/{assessment_id}/hazard",
    response_model=HazardOpenedOut,
    status_code=201,
    responses={200: {"model": HazardOpenedOut}},
)
def open_hazard(
    assessment_id: DbId,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HazardOpenedOut:
    """Open the hidden danger of an assessment that calls for work, once: 201 when opened, 200 when it was."""
    row, hazard_id, created = service.open_hazard_for(session, actor, assessment_id, clock, settings)
    session.commit()
    response.status_code = 201 if created else 200
    return HazardOpenedOut(created=created, hazard_id=hazard_id, assessment=AssessmentOut.model_validate(row))


@router.post(
    "/elevators/{code}/measures",
    response_model=MeasureRecordedOut,
    status_code=201,
    responses={200: {"model": MeasureRecordedOut}},
)
def add_measure(
    code: PathCode,
    data: MeasureIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> MeasureRecordedOut:
    """Record a measure taken on a three-no elevator and the status it leaves it in."""
    row, created = service.add_measure(
        session,
        actor,
        code,
        data.request_key,
        data.kind,
        data.taken_on,
        data.taken_by,
        clock,
        settings,
        note=data.note,
        status=data.status,
    )
    session.commit()
    response.status_code = 201 if created else 200
    return MeasureRecordedOut(created=created, measure=MeasureOut.model_validate(row))
