"""Routes: elevators, their files and units. Thin: parse, call the service, commit, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftwatch.core.clock import Clock
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.registry import service
from liftwatch.registry.models import Elevator, ElevatorKind, ElevatorStatus, PlaceType, Unit, UnitType
from liftwatch.registry.schemas import (
    ElevatorCreate,
    ElevatorFile,
    ElevatorOut,
    ElevatorPage,
    ElevatorUpdate,
    EventIn,
    EventOut,
    PublicElevator,
    UnitCreate,
    UnitOut,
    UnitPage,
    UnitUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["registry"])


def elevator_out(elevator: Elevator, clock: Clock) -> ElevatorOut:
    out = ElevatorOut.model_validate(elevator)
    out.age_years = service.age_years(elevator, clock.today())
    return out


@router.get("/elevators", response_model=ElevatorPage)
def list_elevators(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    district: str | None = None,
    street: str | None = None,
    unit: Annotated[str | None, Query(description="code of a use or maintenance unit")] = None,
    place_type: PlaceType | None = None,
    kind: ElevatorKind | None = None,
    status: ElevatorStatus | None = None,
    age_min: Annotated[float | None, Query(ge=0, le=200)] = None,
    age_max: Annotated[float | None, Query(ge=0, le=200)] = None,
    three_no: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="text search")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1)] = 50,
) -> ElevatorPage:
    size = min(size, settings.page_size_max)
    flt = service.ElevatorFilter(
        district=district,
        street=street,
        unit=unit,
        place_type=place_type.value if place_type else None,
        kind=kind.value if kind else None,
        status=status.value if status else None,
        age_min=age_min,
        age_max=age_max,
        q=q,
        three_no=three_no,
    )
    items, total = service.list_elevators(session, actor, flt, clock, page=page, size=size)
    return ElevatorPage(items=[elevator_out(e, clock) for e in items], total=total, page=page, size=size)


@router.post("/elevators", response_model=ElevatorOut, status_code=201)
def create_elevator(data: ElevatorCreate, actor: ActorDep, session: SessionDep, clock: ClockDep) -> ElevatorOut:
    elevator = service.create_elevator(session, actor, data, clock)
    session.commit()
    return elevator_out(elevator, clock)


@router.get("/elevators/{registration_code}", response_model=ElevatorFile)
def get_elevator_file(registration_code: str, actor: ActorDep, session: SessionDep, clock: ClockDep) -> ElevatorFile:
    elevator = service.get_elevator(session, actor, registration_code)
    events = [EventOut.model_validate(e) for e in service.timeline(session, elevator)]
    return ElevatorFile(**elevator_out(elevator, clock).model_dump(), timeline=events)


@router.patch("/elevators/{registration_code}", response_model=ElevatorOut)
def update_elevator(
    registration_code: str, data: ElevatorUpdate, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ElevatorOut:
    elevator = service.update_elevator(session, actor, registration_code, data, clock)
    session.commit()
    return elevator_out(elevator, clock)


@router.post("/elevators/{registration_code}/events", response_model=EventOut, status_code=201)
def record_event(
    registration_code: str, data: EventIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> EventOut:
    event = service.record_event(session, actor, registration_code, data, clock)
    session.commit()
    return EventOut.model_validate(event)


@router.get("/public/elevators/{code}", response_model=PublicElevator, tags=["public"])
def public_elevator(code: str, session: SessionDep) -> PublicElevator:
    """For passengers who scan the code in the car: no login, only what the public may know."""
    return service.public_view(session, code)


@router.get("/units", response_model=UnitPage)
def list_units(
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    unit_type: UnitType | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1)] = 50,
) -> UnitPage:
    size = min(size, settings.page_size_max)
    units, total = service.list_units(
        session, actor, unit_type.value if unit_type else None, q, page=page, size=size
    )
    counts = service.elevator_counts(session, units)
    return UnitPage(items=[_unit_out(u, counts.get(u.id, 0)) for u in units], total=total, page=page, size=size)


def _unit_out(unit: Unit, count: int | None = None) -> UnitOut:
    out = UnitOut.model_validate(unit)
    out.elevator_count = count
    return out


@router.post("/units", response_model=UnitOut, status_code=201)
def create_unit(data: UnitCreate, actor: ActorDep, session: SessionDep, clock: ClockDep) -> UnitOut:
    unit = service.create_unit(session, actor, data, clock)
    session.commit()
    return _unit_out(unit, 0)


@router.get("/units/{code}", response_model=UnitOut)
def get_unit(code: str, actor: ActorDep, session: SessionDep) -> UnitOut:
    unit = service.get_unit(session, actor, code)
    return _unit_out(unit, service.elevator_counts(session, [unit]).get(unit.id, 0))


@router.patch("/units/{code}", response_model=UnitOut)
def update_unit(code: str, data: UnitUpdate, actor: ActorDep, session: SessionDep, clock: ClockDep) -> UnitOut:
    unit = service.update_unit(session, actor, code, data, clock)
    session.commit()
    return _unit_out(unit, service.elevator_counts(session, [unit]).get(unit.id, 0))
