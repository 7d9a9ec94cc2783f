"""Routes of maintenance: contracts, work orders and their on-site steps, photos. Thin: the service decides
scope and rules; every route commits what the service changed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response

from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.core.types import DbId, ErrorOut, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.maintenance import service
from liftwatch.maintenance.schemas import (
    AmendIn,
    AssignIn,
    AttachmentOut,
    CancelIn,
    CheckInIn,
    CheckOutIn,
    ConfirmIn,
    ContractEndIn,
    ContractIn,
    ContractOut,
    EventOut,
    FlagOut,
    FlagReviewIn,
    ItemIn,
    OpenResult,
    PartIn,
    RecordOut,
    ResultsIn,
    WithoutContractOut,
    WorkOrderDetail,
    WorkOrderIn,
    WorkOrderOut,
)
from liftwatch.maintenance.workflow import WorkOrderKind, WorkOrderState

router = APIRouter(prefix="/api/v1/maintenance", tags=["maintenance"])

_415: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorOut, "description": "not a JPEG, PNG or WebP image"}
}
_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
        "description": "the photo as stored",
    }
}


def _city_today(clock: ClockDep, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


def _items(rows: list[ItemIn]) -> list[service.ItemEntry]:
    return [service.ItemEntry(r.code, r.result, r.value, r.note) for r in rows]


def _parts(rows: list[PartIn]) -> list[service.PartEntry]:
    return [service.PartEntry(r.name, r.quantity, r.note) for r in rows]


# ---------------------------------------------------------------- contracts


@router.post("/contracts", response_model=ContractOut, status_code=201)
def create_contract(data: ContractIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> Any:
    """File a maintenance contract (维保合同). 409 when the elevator already has a contract valid on one of
    its days: an elevator has at most one valid contract on any date."""
    terms = service.ContractTerms(**data.model_dump())
    contract = service.create_contract(session, actor, terms, clock)
    session.commit()
    return contract


@router.get("/contracts", response_model=list[ContractOut])
def list_contracts(
    actor: ActorDep,
    session: SessionDep,
    code: Annotated[
        QueryStr | None, Query(max_length=40, description="an elevator's registration code")
    ] = None,
    unit: Annotated[QueryStr | None, Query(max_length=32, description="a maintenance unit's code")] = None,
    valid_on: Annotated[date | None, Query(description="only contracts valid on this date")] = None,
) -> Any:
    return service.list_contracts(session, actor, code, unit, valid_on)


@router.get("/contracts/{contract_id}", response_model=ContractOut)
def get_contract(contract_id: DbId, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_contract(session, actor, contract_id)


@router.post("/contracts/{contract_id}/end", response_model=ContractOut)
def end_contract(
    contract_id: DbId, data: ContractEndIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """End a contract early: ``on`` becomes its last valid day."""
    contract = service.end_contract(session, actor, contract_id, data.on, data.reason, clock)
    session.commit()
    return contract


@router.get("/elevators-without-contract", response_model=WithoutContractOut)
def elevators_without_contract(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    on: Annotated[date | None, Query(description="the date (default: today on the city's clock)")] = None,
) -> WithoutContractOut:
    """The elevators in the caller's scope with no valid contract on the date (the "no maintenance
    contract" of the three-no elevators)."""
    day = on or _city_today(clock, settings)
    codes = service.elevators_without_contract(session, actor, day)
    return WithoutContractOut(on=day, count=len(codes), registration_codes=codes)


# ---------------------------------------------------------------- work orders


@router.post(
    "/work-orders", response_model=OpenResult, status_code=201, responses={200: {"model": OpenResult}}
)
def open_work_order(
    data: WorkOrderIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> OpenResult:
    """Open a work order: 201 when new, 200 when one already exists for ``(source, source_ref)``. A
    preventive order (a planned visit) needs ``planned_date`` and ``interval``."""
    if data.kind is WorkOrderKind.PREVENTIVE:
        if data.planned_date is None:
            raise InvalidInput(FieldError("planned_date", "a planned visit needs its date"))
        if data.interval is None:
            raise InvalidInput(FieldError("interval", "a planned visit needs its interval"))
        out = service.open_preventive(
            session,
            actor,
            data.code,
            data.planned_date,
            data.interval,
            clock,
            settings,
            data.source_ref,
            data.summary,
        )
    else:
        out = service.open_corrective(
            session,
            actor,
            data.code,
            data.source,
            data.source_ref,
            data.summary,
            clock,
            settings,
            urgent=data.urgent,
        )
    session.commit()
    response.status_code = 201 if out.created else 200
    return OpenResult(created=out.created, work_order=WorkOrderOut.model_validate(out.work_order))


@router.get("/work-orders", response_model=list[WorkOrderOut])
def list_work_orders(
    actor: ActorDep,
    session: SessionDep,
    code: Annotated[
        QueryStr | None, Query(max_length=40, description="an elevator's registration code")
    ] = None,
    state: Annotated[list[WorkOrderState] | None, Query(description="any of these (repeat)")] = None,
) -> Any:
    return service.list_work_orders(session, actor, code, tuple(state or ()))


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderDetail)
def get_work_order(work_order_id: DbId, actor: ActorDep, session: SessionDep) -> WorkOrderDetail:
    order = service.get_work_order(session, actor, work_order_id)
    return WorkOrderDetail(
        work_order=WorkOrderOut.model_validate(order),
        records=[RecordOut.model_validate(r) for r in service.records_of(session, order)],
        events=[EventOut.model_validate(e) for e in service.events_of(session, order)],
        attachments=[AttachmentOut.model_validate(a) for a in service.attachments_of(session, order)],
    )


@router.post("/work-orders/{work_order_id}/assign", response_model=WorkOrderOut)
def assign(
    work_order_id: DbId,
    data: AssignIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Any:
    """Give the work order to a worker of its unit holding a valid certificate (T); 409 naming why not."""
    order = service.assign(session, actor, work_order_id, data.assignee, clock, zone(settings.timezone))
    session.commit()
    return order


@router.post("/work-orders/{work_order_id}/check-in", response_model=RecordOut)
def check_in(
    work_order_id: DbId, data: CheckInIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """The assigned worker is on site: the code scanned in the car must be the elevator's."""
    record = service.check_in(
        session, actor, work_order_id, data.latitude, data.longitude, data.scanned_code, clock, data.at
    )
    session.commit()
    return record


@router.post("/work-orders/{work_order_id}/results", response_model=RecordOut)
def record_results(
    work_order_id: DbId, data: ResultsIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """Item results (by catalogue code; again replaces) and parts replaced; 409 once the record is signed."""
    record = service.record_results(
        session, actor, work_order_id, _items(data.items), _parts(data.parts), clock
    )
    session.commit()
    return record


@router.post("/work-orders/{work_order_id}/check-out", response_model=RecordOut)
def check_out(
    work_order_id: DbId, data: CheckOutIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    record = service.check_out(session, actor, work_order_id, data.latitude, data.longitude, clock, data.at)
    session.commit()
    return record


@router.post("/work-orders/{work_order_id}/sign", response_model=RecordOut)
def sign(
    work_order_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Any:
    """The worker signs: the record is final and the work order completed (a holder of a valid
    certificate (T) only; 409 naming why not)."""
    record = service.sign(session, actor, work_order_id, clock, zone(settings.timezone))
    session.commit()
    return record


@router.post("/work-orders/{work_order_id}/confirm", response_model=WorkOrderOut)
def confirm(
    work_order_id: DbId, data: ConfirmIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """The use unit signs the completed work order off."""
    order = service.confirm(session, actor, work_order_id, clock, data.note)
    session.commit()
    return order


@router.post("/work-orders/{work_order_id}/cancel", response_model=WorkOrderOut)
def cancel(work_order_id: DbId, data: CancelIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> Any:
    order = service.cancel(session, actor, work_order_id, data.reason, clock)
    session.commit()
    return order


@router.post("/work-orders/{work_order_id}/amendments", response_model=RecordOut, status_code=201)
def amend(work_order_id: DbId, data: AmendIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> Any:
    """Correct a signed record: a new signed record naming the one it amends and why."""
    record = service.amend(
        session, actor, work_order_id, data.reason, _items(data.items), _parts(data.parts), clock
    )
    session.commit()
    return record


# ---------------------------------------------------------------- photos


@router.post("/attachments", response_model=AttachmentOut, status_code=201, responses=_415)
def upload(
    work_order_id: Annotated[DbId, Form(description="the work order the photo belongs to")],
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP photo (LIFTWATCH_UPLOAD_MAX_MB)")],
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Any:
    """Attach a photo to a work order. The type is read from the bytes (415 otherwise), the size limited
    (413); the file is in place only once its row is committed."""
    row, staged = service.add_attachment(
        session, actor, work_order_id, file.file, file.content_type, file.filename or "", clock, settings
    )
    service.commit_attachment(session, staged)
    return row


@router.get("/attachments/{attachment_id}", response_class=FileResponse, responses=_IMAGE)
def download(
    attachment_id: DbId, actor: ActorDep, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    row, path = service.get_attachment(session, actor, attachment_id, settings)
    return FileResponse(path, media_type=row.content_type, headers={"X-Content-SHA256": row.sha256})


# ---------------------------------------------------------------- fake-maintenance flags


@router.get("/flags", response_model=list[FlagOut])
def list_flags(
    actor: ActorDep,
    session: SessionDep,
    state: Annotated[Literal["open", "confirmed", "dismissed"] | None, Query()] = None,
    registration_code: Annotated[QueryStr | None, Query(max_length=40)] = None,
) -> Any:
    """Signs of fake maintenance (假维保) found on signed records, newest first, in the caller's scope."""
    return service.list_flags(session, actor, state, registration_code)


@router.get("/flags/{flag_id}", response_model=FlagOut)
def get_flag(flag_id: DbId, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_flag(session, actor, flag_id)


@router.post("/flags/{flag_id}/review", response_model=FlagOut)
def review_flag(
    flag_id: DbId, data: FlagReviewIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Any:
    """A regulator confirms or dismisses a flag with a note (409 once reviewed)."""
    flag = service.review_flag(session, actor, flag_id, data.decision, data.note, clock)
    session.commit()
    return flag
