"""Routes of people: certificates (特种设备作业人员证) with their state, revocation, training, drills
(应急演练) and the use units that owe their drill. Thin: the service decides scope and rules; every
writing route commits what the service changed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from liftwatch.core.config import zone
from liftwatch.core.types import DbId, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.people import service
from liftwatch.people.domain import CertificateState, Scenario
from liftwatch.people.schemas import (
    CertificateIn,
    CertificateOut,
    CertificateViewOut,
    DrillIn,
    DrillOut,
    MissingDrillOut,
    RevokeIn,
    TrainingIn,
    TrainingOut,
)
from liftwatch.people.settings import people_settings_of

router = APIRouter(prefix="/api/v1/people", tags=["people"])


@router.get("/certificates", response_model=list[CertificateViewOut])
def certificates(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    unit: Annotated[QueryStr | None, Query(max_length=32)] = None,
    state: Annotated[list[CertificateState] | None, Query()] = None,
) -> Any:
    """Certificates in the caller's scope with their state today, the soonest to expire first (``state``:
    expiring, expired, ... to list only those)."""
    today = clock.now().astimezone(zone(settings.timezone)).date()
    warn = people_settings_of(request.app.state).warn_days
    views = service.certificates(session, actor, today, warn, unit or None, state or ())
    return [{"certificate": CertificateOut.model_validate(v.certificate), "state": v.state} for v in views]


@router.post("/certificates", response_model=CertificateOut, status_code=201)
def record_certificate(data: CertificateIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> Any:
    """Record a certificate (admins, regulators; a unit's staff for their own unit). 409: number on file."""
    row = service.record_certificate(session, actor, service.NewCertificate(**data.model_dump()), clock)
    session.commit()
    return row


@router.post("/certificates/{certificate_id}/revoke", response_model=CertificateOut)
def revoke_certificate(
    certificate_id: DbId, data: RevokeIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """Revoke a certificate: its holder may no longer be assigned, sign or be a crew's login on it."""
    row = service.revoke_certificate(session, actor, certificate_id, data.reason, clock)
    session.commit()
    return row


@router.get("/trainings", response_model=list[TrainingOut])
def trainings(
    actor: ActorDep, session: SessionDep, username: Annotated[QueryStr | None, Query(max_length=64)] = None
) -> Any:
    """Trainings in the caller's scope, newest first."""
    return service.trainings(session, actor, username or None)


@router.post("/trainings", response_model=TrainingOut, status_code=201)
def record_training(
    data: TrainingIn, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Any:
    """Record a training a worker attended."""
    today = clock.now().astimezone(zone(settings.timezone)).date()
    row = service.record_training(session, actor, service.NewTraining(**data.model_dump()), clock, today)
    session.commit()
    return row


@router.get("/drills", response_model=list[DrillOut])
def drills(
    actor: ActorDep, session: SessionDep, year: Annotated[int | None, Query(ge=1990, le=2100)] = None
) -> Any:
    """Drills in the caller's scope, newest first (of one year when given)."""
    return service.drills(session, actor, year)


@router.post("/drills", response_model=DrillOut, status_code=201, responses={200: {"model": DrillOut}})
def record_drill(
    data: DrillIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Any:
    """Record a use unit's drill; the same unit, day and scenario again: 200 with the first."""
    today = clock.now().astimezone(zone(settings.timezone)).date()
    new = service.NewDrill(**{**data.model_dump(), "scenario": Scenario(data.scenario)})
    row, created = service.record_drill(session, actor, new, clock, today)
    session.commit()
    if not created:
        response.status_code = 200
    return row


@router.get("/drills/missing", response_model=list[MissingDrillOut])
def missing_drills(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> Any:
    """The use units with elevators in use that held fewer drills than required in the year (this year
    by default)."""
    today = clock.now().astimezone(zone(settings.timezone)).date()
    required = people_settings_of(request.app.state).drills
    return [m.__dict__ for m in service.missing_drills(session, actor, year or today.year, required)]
