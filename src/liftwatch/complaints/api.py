"""Routes of complaints (投诉): intake for the centre and API clients (a 12345 gateway), the list with
filters, one complaint with its trail, the moves (assign, answer, return, verify, close, open a hidden
danger) and the public status by receipt number. Thin: the service decides scope and rules; writing
routes commit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from liftwatch.accounts.actor import Actor
from liftwatch.complaints import service
from liftwatch.complaints.schemas import (
    AnswerIn,
    AssignIn,
    ComplaintDetail,
    ComplaintOut,
    EventOut,
    HazardIn,
    HazardOpened,
    IntakeIn,
    IntakeOut,
    NoteIn,
    PublicStatusOut,
    ReasonIn,
    VerifyIn,
)
from liftwatch.complaints.settings import for_app
from liftwatch.complaints.workflow import Category, Channel, ComplaintSettings, ComplaintState
from liftwatch.core.clock import Clock
from liftwatch.core.types import DbId, PathCode, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])


def complaint_settings(request: Request) -> ComplaintSettings:
    return for_app(request.app.state)


ComplaintSettingsDep = Annotated[ComplaintSettings, Depends(complaint_settings)]


def out(row: service.StoredComplaint, actor: Actor, clock: Clock, masked: bool = False) -> ComplaintOut:
    """A complaint as ``actor`` may see it: the complainant's name and phone for the centre only (masked in
    lists), empty for everyone else."""
    data = {c: getattr(row, c) for c in ComplaintOut.model_fields if hasattr(row, c)}
    data["overdue"] = service.is_overdue(row, clock.now())
    if not service.sees_personal_data(actor):
        data["complainant_name"] = data["complainant_phone"] = ""
    elif masked:
        data["complainant_name"] = service.mask_name(row.complainant_name)
        data["complainant_phone"] = service.mask_phone(row.complainant_phone)
    return ComplaintOut(**data)


def _detail(session: SessionDep, row: service.StoredComplaint, actor: Actor, clock: Clock) -> ComplaintDetail:
    return ComplaintDetail(
        complaint=out(row, actor, clock),
        events=[EventOut.model_validate(e) for e in service.events_of(session, row)],
        moves=sorted(m.value for m in service.moves_for(session, actor, row)),
    )


@router.get("/receipt/{receipt}", response_model=PublicStatusOut, tags=["public"])
def public_status(receipt: PathCode, session: SessionDep) -> Any:
    """A complaint's status by its receipt number: no login, the state only (no person, no text)."""
    return service.public_status(session, receipt)


@router.post("", response_model=IntakeOut, status_code=201, responses={200: {"model": IntakeOut}})
def intake(
    data: IntakeIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    cs: ComplaintSettingsDep,
) -> IntakeOut:
    """Take a complaint in: 201 when new, 200 when this channel reference was taken in already."""
    result = service.intake(
        session,
        actor,
        service.Intake(
            channel=data.channel,
            external_ref=data.external_ref,
            category=data.category,
            text=data.text,
            code=data.code or None,
            unit=data.unit or None,
            complainant_name=data.complainant_name,
            complainant_phone=data.complainant_phone,
            assign=data.assign,
        ),
        clock,
        cs,
    )
    session.commit()
    response.status_code = 201 if result.created else 200
    return IntakeOut(created=result.created, complaint=out(result.complaint, actor, clock))


@router.get("", response_model=list[ComplaintOut])
def list_complaints(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    state: Annotated[list[ComplaintState] | None, Query()] = None,
    channel: Channel | None = None,
    category: Category | None = None,
    district: Annotated[QueryStr | None, Query(max_length=64)] = None,
    code: Annotated[QueryStr | None, Query(max_length=40, description="registration code")] = None,
    overdue: bool | None = None,
) -> list[ComplaintOut]:
    """The complaints in the caller's scope, newest first; the complainant masked."""
    flt = service.Filter(state or (), channel, category, district or None, code or None, overdue)
    rows = service.list_complaints(session, actor, flt, clock.now())
    return [out(r, actor, clock, masked=True) for r in rows]


@router.get("/{complaint_id}", response_model=ComplaintDetail)
def get_complaint(
    complaint_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ComplaintDetail:
    return _detail(session, service.get_complaint(session, actor, complaint_id), actor, clock)


@router.post("/{complaint_id}/assign", response_model=ComplaintOut)
def assign(
    complaint_id: DbId,
    data: AssignIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    cs: ComplaintSettingsDep,
) -> ComplaintOut:
    """Pass the complaint on to the responsible unit (or the one named)."""
    row = service.assign(session, actor, complaint_id, clock, data.unit or None, cs)
    session.commit()
    return out(row, actor, clock)


@router.post("/{complaint_id}/answer", response_model=ComplaintOut)
def answer(
    complaint_id: DbId,
    data: AnswerIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    cs: ComplaintSettingsDep,
) -> ComplaintOut:
    """The responsible unit's answer."""
    row = service.answer(session, actor, complaint_id, data.answer, clock, cs)
    session.commit()
    return out(row, actor, clock)


@router.post("/{complaint_id}/return", response_model=ComplaintOut)
def return_answer(
    complaint_id: DbId,
    data: NoteIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    cs: ComplaintSettingsDep,
) -> ComplaintOut:
    """Send the answer back for a new one (the reason in ``note``)."""
    row = service.return_answer(session, actor, complaint_id, data.note, clock, cs)
    session.commit()
    return out(row, actor, clock)


@router.post("/{complaint_id}/verify", response_model=ComplaintOut)
def verify(
    complaint_id: DbId,
    data: VerifyIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> ComplaintOut:
    """The verdict: founded or unfounded, with a note; a regulator may open a hidden danger with it."""
    row = service.verify(
        session,
        actor,
        complaint_id,
        data.verdict,
        data.note,
        clock,
        settings,
        open_hazard=data.open_hazard,
        hazard_level=data.hazard_level,
    )
    session.commit()
    return out(row, actor, clock)


@router.post(
    "/{complaint_id}/hazard",
    response_model=HazardOpened,
    status_code=201,
    responses={200: {"model": HazardOpened}},
)
def open_hazard(
    complaint_id: DbId,
    data: HazardIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HazardOpened:
    """Open the hidden danger a founded complaint reveals, once: 201 when opened, 200 when it exists."""
    row, hazard_id, created = service.open_hazard_from(
        session, actor, complaint_id, clock, settings, data.level
    )
    session.commit()
    response.status_code = 201 if created else 200
    return HazardOpened(created=created, hazard_id=hazard_id, complaint=out(row, actor, clock))


@router.post("/{complaint_id}/close", response_model=ComplaintOut)
def close(
    complaint_id: DbId, data: ReasonIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ComplaintOut:
    """办结: a verified complaint, or one only received (with the reason)."""
    row = service.close(session, actor, complaint_id, data.reason, clock)
    session.commit()
    return out(row, actor, clock)
