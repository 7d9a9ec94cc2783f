"""Routes of hazards (隐患): report, read, the deadline, the responsible unit's start and evidence, the
regulator's verdict, the corrective work order, the public list of supervised rectifications, and the
emergency use of the repair fund (``/{id}/fund...``; the city's list at ``/fund``).
Thin: the service decides scope and rules; every writing route commits what the service changed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from liftwatch.core.types import DbId, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.hazards import service
from liftwatch.hazards.fund import FundState
from liftwatch.hazards.schemas import (
    DeadlineIn,
    DistrictTotalsOut,
    EventOut,
    EvidenceIn,
    EvidenceOut,
    FundApproveIn,
    FundCityOut,
    FundCompleteIn,
    FundLineOut,
    FundPaidOut,
    FundPaymentIn,
    FundPaymentOut,
    FundRefuseIn,
    FundRequestedOut,
    FundRequestIn,
    FundRequestOut,
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


@router.get("/fund", response_model=FundCityOut)
def fund_city(
    actor: ActorDep,
    session: SessionDep,
    district: Annotated[QueryStr | None, Query(max_length=64)] = None,
    state: Annotated[list[FundState] | None, Query()] = None,
) -> FundCityOut:
    """The city's repair-fund requests and the totals by district (requested, approved, paid): the
    regulator and admins."""
    out = service.fund_city(session, actor, district, state or ())
    return FundCityOut(
        requests=[FundRequestOut.model_validate(r) for r in out.requests],
        by_district=[DistrictTotalsOut.model_validate(d) for d in out.by_district],
    )


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


# ---------------------------------------------------------------- the repair fund (维修资金紧急使用)


def _line(line: service.FundLine) -> FundLineOut:
    return FundLineOut(
        request=FundRequestOut.model_validate(line.request),
        payments=[FundPaymentOut.model_validate(p) for p in line.payments],
    )


@router.get("/{hazard_id}/fund", response_model=list[FundLineOut])
def fund_ledger(hazard_id: DbId, actor: ActorDep, session: SessionDep) -> list[FundLineOut]:
    """The hazard's repair-fund ledger: its requests, newest first, each with its disbursements."""
    return [_line(line) for line in service.fund_ledger(session, actor, hazard_id)]


@router.post(
    "/{hazard_id}/fund",
    response_model=FundRequestedOut,
    status_code=201,
    responses={200: {"model": FundRequestedOut}},
)
def request_fund(
    hazard_id: DbId,
    data: FundRequestIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
) -> FundRequestedOut:
    """The use unit asks for the repair fund's emergency use (residential elevators only): 201 when new,
    200 when this request key was sent before."""
    out = service.request_fund(
        session,
        actor,
        hazard_id,
        data.request_key,
        data.applicant,
        data.amount_fen,
        data.quote,
        data.purpose,
        clock,
    )
    session.commit()
    response.status_code = 201 if out.created else 200
    return FundRequestedOut(created=out.created, request=FundRequestOut.model_validate(out.request))


@router.post("/{hazard_id}/fund/approve", response_model=FundRequestOut)
def approve_fund(
    hazard_id: DbId, data: FundApproveIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> FundRequestOut:
    """The housing authority (the regulator or an admin) approves the amount asked for or a lower one."""
    row = service.decide_fund(session, actor, hazard_id, True, clock, data.approved_fen, data.note)
    session.commit()
    return FundRequestOut.model_validate(row)


@router.post("/{hazard_id}/fund/refuse", response_model=FundRequestOut)
def refuse_fund(
    hazard_id: DbId, data: FundRefuseIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> FundRequestOut:
    """The housing authority refuses the request, with the reason."""
    row = service.decide_fund(session, actor, hazard_id, False, clock, note=data.reason)
    session.commit()
    return FundRequestOut.model_validate(row)


@router.post(
    "/{hazard_id}/fund/payments",
    response_model=FundPaidOut,
    status_code=201,
    responses={200: {"model": FundPaidOut}},
)
def record_payment(
    hazard_id: DbId,
    data: FundPaymentIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> FundPaidOut:
    """The use unit records a disbursement within the approved amount: 201 when new, 200 when this voucher
    was recorded before."""
    payment, created = service.record_payment(
        session, actor, hazard_id, data.amount_fen, data.paid_on, data.voucher, clock, settings, data.note
    )
    session.commit()
    response.status_code = 201 if created else 200
    request = service.fund_ledger(session, actor, hazard_id)[0].request
    return FundPaidOut(
        created=created,
        payment=FundPaymentOut.model_validate(payment),
        request=FundRequestOut.model_validate(request),
    )


@router.post("/{hazard_id}/fund/complete", response_model=FundRequestOut)
def complete_fund(
    hazard_id: DbId, data: FundCompleteIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> FundRequestOut:
    """The use unit closes the approved request once the work is done and paid."""
    row = service.complete_fund(session, actor, hazard_id, clock, data.note)
    session.commit()
    return FundRequestOut.model_validate(row)
