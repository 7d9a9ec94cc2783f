"""Routes of applications (一网通办, 既有多层住宅加装电梯): submit, list and read, each department's decision,
the start of construction, the acceptance, the registration, withdrawal, the late reviews, and the public
progress of additions. Thin: the service decides scope and rules; every writing route commits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from liftwatch.applications import service
from liftwatch.applications.domain import Kind, Stage
from liftwatch.applications.schemas import (
    AcceptanceIn,
    ApplicationIn,
    ApplicationViewOut,
    ConstructionIn,
    DecisionIn,
    DistrictProgressOut,
    PublicAdditionOut,
    PublicProgressOut,
    RegistrationIn,
)
from liftwatch.applications.settings import application_settings_of
from liftwatch.core.types import DbId
from liftwatch.deps import ActorDep, ClockDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["applications"])


def view_out(view: service.ApplicationView) -> dict[str, Any]:
    return {
        "application": view.application,
        "reviews": view.reviews,
        "events": view.events,
        "late": view.late,
    }


@router.post("/applications", response_model=ApplicationViewOut, status_code=201)
def submit(
    request: Request, data: ApplicationIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """Submit an application: routed to its departments, each due LIFTWATCH_APPLICATIONS_REVIEW_DAYS later.
    An addition below the owners' consent share is 422."""
    new = service.NewApplication(**data.model_dump())
    app = service.submit(session, actor, new, clock, application_settings_of(request.app.state))
    session.commit()
    return view_out(service.get(session, actor, app.id, clock.now()))


@router.get("/applications", response_model=list[ApplicationViewOut])
def list_applications(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    kind: Kind | None = None,
    stage: Stage | None = None,
    late: Annotated[bool, Query(description="only those with a review past its deadline")] = False,
) -> Any:
    """Applications in the caller's scope, newest first."""
    return [view_out(v) for v in service.list_applications(session, actor, clock.now(), kind, stage, late)]


@router.get("/applications/{application_id}", response_model=ApplicationViewOut)
def get_application(application_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep) -> Any:
    return view_out(service.get(session, actor, application_id, clock.now()))


@router.post("/applications/{application_id}/decisions", response_model=ApplicationViewOut)
def decide(
    application_id: DbId, data: DecisionIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """A department's decision, recorded by the one window's clerk (admins, regulators)."""
    view = service.decide(
        session,
        actor,
        application_id,
        data.department,
        data.decision,
        data.note,
        clock,
        data.registration_code,
    )
    session.commit()
    return view_out(view)


@router.post("/applications/{application_id}/construction", response_model=ApplicationViewOut)
def start_construction(
    application_id: DbId, data: ConstructionIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    view = service.start_construction(session, actor, application_id, data.started_on, clock)
    session.commit()
    return view_out(view)


@router.post("/applications/{application_id}/acceptance", response_model=ApplicationViewOut)
def accept(
    application_id: DbId, data: AcceptanceIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    view = service.accept(session, actor, application_id, data.report, data.passed, clock)
    session.commit()
    return view_out(view)


@router.post("/applications/{application_id}/registration", response_model=ApplicationViewOut)
def register(
    application_id: DbId, data: RegistrationIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """The use registration of an added elevator: the registry gets it with the application's history."""
    view = service.register(
        session, actor, application_id, data.registration_code, data.maintenance_unit, clock
    )
    session.commit()
    return view_out(view)


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationViewOut)
def withdraw(application_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep) -> Any:
    view = service.withdraw(session, actor, application_id, clock)
    session.commit()
    return view_out(view)


@router.get("/public/additions", response_model=PublicProgressOut, tags=["public"])
def public_additions(session: SessionDep) -> PublicProgressOut:
    """The progress of adding elevators to old residential buildings, by district (no login, no person)."""
    progress, apps = service.public_additions(session)
    return PublicProgressOut(
        districts=[DistrictProgressOut(**p.__dict__) for p in progress],
        buildings=[PublicAdditionOut.model_validate(a) for a in apps],
    )
