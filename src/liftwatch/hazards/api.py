"""Routes of hazards (隐患): report, read, the deadline, the responsible unit's start and evidence, the
regulator's verdict, the corrective work order, and the public list of supervised rectifications.
Thin: the service decides scope and rules; every writing route commits what the service changed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from liftwatch.core.types import DbId, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.hazards import service
from liftwatch.hazards.schemas import (
    DeadlineIn,
    EventOut,
    EvidenceIn,
    EvidenceOut,
    HazardDetail,
    HazardOut,
    NoteIn,
    ReasonIn,
    ReportedOut,
    ReportIn,
    SupervisedOut,
    WorkOrderOpened,
)
from liftwatch.hazards.workflow import HazardState

router = APIRouter(prefix="/api/v1/hazards", tags=["hazards"])


def _out(row: service.StoredHazard, clock: ClockDep) -> HazardOut:
    out = HazardOut.model_validate(row)
    out.overdue = service.is_overdue(row, clock.now())
    return out


def _detail(session: SessionDep, row: service.StoredHazard, clock: ClockDep) -> HazardDetail:
    return HazardDetail(
        hazard=_out(row, clock),
        events=[EventOut.model_validate(e) for e in service.events_of(session, row)],
        evidence=[EvidenceOut.model_validate(e) for e in service.evidence_of(session, row)],
    )


@router.get("/supervised", response_model=list[SupervisedOut], tags=["public"])
def supervised(
    session: SessionDep,
    clock: ClockDep,
    include_finished: Annotated[bool, Query(description="also the verified and closed ones")] = False,
) -> Any:
    """The public list of supervised rectifications (挂牌督办): no login, no person, no free text."""
    return service.public_supervised(session, clock.now(), include_finished)


@router.post("", response_model=ReportedOut, status_code=201, responses={200: {"model": ReportedOut}})
def report(
    data: ReportIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> ReportedOut:
    """Report a hazard: 201 when new, 200 when this source reference was reported already."""
    out = service.report(
        session,
        actor,
        data.code,
        data.source,
        data.source_ref,
        data.level,
        data.description,
        clock,
        settings,
        responsible_unit=data.responsible_unit or None,
        deadline_date=data.deadline,
    )
    session.commit()
    response.status_code = 201 if out.created else 200
    return ReportedOut(created=out.created, hazard=_out(out.hazard, clock))


@router.get("", response_model=list[HazardOut])
def list_hazards(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    code: Annotated[
        QueryStr | None, Query(max_length=40, description="an elevator's registration code")
    ] = None,
    state: Annotated[list[HazardState] | None, Query()] = None,
    supervised: bool | None = None,
) -> list[HazardOut]:
    rows = service.list_hazards(session, actor, code, state or (), supervised)
    return [_out(r, clock) for r in rows]


@router.get("/{hazard_id}", response_model=HazardDetail)
def get_hazard(hazard_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep) -> HazardDetail:
    return _detail(session, service.get_hazard(session, actor, hazard_id), clock)


@router.post("/{hazard_id}/start", response_model=HazardOut)
def start(hazard_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep) -> HazardOut:
    """The responsible unit begins the rectification."""
    row = service.start(session, actor, hazard_id, clock)
    session.commit()
    return _out(row, clock)


@router.put("/{hazard_id}/deadline", response_model=HazardOut)
def set_deadline(
    hazard_id: DbId,
    data: DeadlineIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HazardOut:
    """The regulator sets the rectification deadline (the escalation starts again from it)."""
    row = service.set_deadline(session, actor, hazard_id, data.deadline, clock, settings)
    session.commit()
    return _out(row, clock)


@router.post("/{hazard_id}/evidence", response_model=HazardDetail, status_code=201)
def submit_evidence(
    hazard_id: DbId, data: EvidenceIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> HazardDetail:
    """The responsible unit submits evidence of the fix: the hazard waits for the regulator."""
    service.submit_evidence(session, actor, hazard_id, data.text, clock, data.attachment_id)
    session.commit()
    return _detail(session, service.get_hazard(session, actor, hazard_id), clock)


@router.post("/{hazard_id}/verify", response_model=HazardOut)
def verify(hazard_id: DbId, data: NoteIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> HazardOut:
    """The regulator accepts the fix: verified and closed (销号)."""
    row = service.verify(session, actor, hazard_id, clock, data.note)
    session.commit()
    return _out(row, clock)


@router.post("/{hazard_id}/reject", response_model=HazardOut)
def reject(hazard_id: DbId, data: NoteIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> HazardOut:
    """The regulator rejects the fix (the reason in ``note``): back to rectifying."""
    row = service.reject(session, actor, hazard_id, data.note, clock)
    session.commit()
    return _out(row, clock)


@router.post("/{hazard_id}/close", response_model=HazardOut)
def close(
    hazard_id: DbId, data: ReasonIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> HazardOut:
    """The regulator closes a hazard without a fix (a duplicate, a wrong report)."""
    row = service.close(session, actor, hazard_id, data.reason, clock)
    session.commit()
    return _out(row, clock)


@router.post(
    "/{hazard_id}/work-order",
    response_model=WorkOrderOpened,
    status_code=201,
    responses={200: {"model": WorkOrderOpened}},
)
def open_work_order(
    hazard_id: DbId,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> WorkOrderOpened:
    """Open the hazard's corrective work order in maintenance, once: 201 when opened, 200 when it exists."""
    row, work_order_id, created = service.open_work_order(session, actor, hazard_id, clock, settings)
    session.commit()
    response.status_code = 201 if created else 200
    return WorkOrderOpened(created=created, work_order_id=work_order_id, hazard=_out(row, clock))
