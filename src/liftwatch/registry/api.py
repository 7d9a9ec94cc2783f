"""Routes: elevators, their files and units. Thin: parse, call the service (writes) or the queries (reads),
commit, shape the answer."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from liftwatch.core.clock import Clock
from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.core.types import ErrorOut, PageNo, PageSize, PathCode, QueryStr, error_responses
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.registry import io as registry_io
from liftwatch.registry import ledger, queries, service
from liftwatch.registry import stickers as stickers_pdf
from liftwatch.registry.domain import ElevatorKind, ElevatorStatus, PlaceType, UnitType
from liftwatch.registry.models import Elevator, Unit
from liftwatch.registry.schemas import (
    ElevatorCreate,
    ElevatorFile,
    ElevatorOut,
    ElevatorPage,
    ElevatorUpdate,
    EventIn,
    EventOut,
    ImportReportOut,
    PublicElevator,
    RescueCodeIn,
    UnitCreate,
    UnitOut,
    UnitPage,
    UnitUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["registry"])


def elevator_out(elevator: Elevator, clock: Clock) -> ElevatorOut:
    out = ElevatorOut.model_validate(elevator)
    out.age_years = queries.age_years(elevator, clock.today())
    return out


def elevator_filter(
    district: QueryStr | None = None,
    street: QueryStr | None = None,
    unit: Annotated[QueryStr | None, Query(description="code of a use or maintenance unit")] = None,
    place_type: PlaceType | None = None,
    kind: ElevatorKind | None = None,
    status: ElevatorStatus | None = None,
    age_min: Annotated[float | None, Query(ge=0, le=200)] = None,
    age_max: Annotated[float | None, Query(ge=0, le=200)] = None,
    three_no: bool | None = None,
    q: Annotated[QueryStr | None, Query(max_length=100, description="text search")] = None,
) -> queries.ElevatorFilter:
    """The search's filters, the same for the list and the export."""
    return queries.ElevatorFilter(
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
        partial_places=True,
    )


FilterDep = Annotated[queries.ElevatorFilter, Depends(elevator_filter)]


@router.get("/elevators", response_model=ElevatorPage)
def list_elevators(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    flt: FilterDep,
    page: PageNo = 1,
    size: PageSize = 50,
) -> ElevatorPage:
    size = min(size, settings.page_size_max)
    items, total = queries.list_elevators(session, actor, flt, clock, page=page, size=size)
    return ElevatorPage(items=[elevator_out(e, clock) for e in items], total=total, page=page, size=size)


@router.post("/elevators", response_model=ElevatorOut, status_code=201)
def create_elevator(
    data: ElevatorCreate, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ElevatorOut:
    elevator = service.create_elevator(session, actor, data, clock)
    session.commit()
    return elevator_out(elevator, clock)


@router.get("/elevators/{registration_code}", response_model=ElevatorFile)
def get_elevator_file(
    registration_code: PathCode, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ElevatorFile:
    elevator = queries.get_elevator(session, actor, registration_code)
    events = [EventOut.model_validate(e) for e in queries.timeline(session, elevator)]
    return ElevatorFile(**elevator_out(elevator, clock).model_dump(), timeline=events)


@router.patch("/elevators/{registration_code}", response_model=ElevatorOut)
def update_elevator(
    registration_code: PathCode, data: ElevatorUpdate, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ElevatorOut:
    elevator = service.update_elevator(session, actor, registration_code, data, clock)
    session.commit()
    return elevator_out(elevator, clock)


@router.post("/elevators/{registration_code}/events", response_model=EventOut, status_code=201)
def record_event(
    registration_code: PathCode, data: EventIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> EventOut:
    event = service.record_event(session, actor, registration_code, data, clock)
    session.commit()
    return EventOut.model_validate(event)


@router.post("/elevators/{registration_code}/rescue-code", response_model=ElevatorOut)
def reassign_rescue_code(
    registration_code: PathCode, data: RescueCodeIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ElevatorOut:
    """Give the elevator a new 96333 rescue code (admins, regulators): the one sent, or the next free one.
    The old code is retired (never given again; it still finds this elevator); 409 when the code is or
    was another elevator's."""
    elevator = service.reassign_rescue_code(session, actor, registration_code, data.code, data.reason, clock)
    session.commit()
    return elevator_out(elevator, clock)


@router.get(
    "/registry/stickers",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the stickers, 8 to an A4 page"}},
)
def stickers(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    flt: FilterDep,
    code: Annotated[list[QueryStr] | None, Query(max_length=stickers_pdf.MAX_STICKERS)] = None,
) -> Response:
    """The 96333 stickers of the cars (电梯应急救援标识) as a PDF: of the elevators named by ``code``
    (registration or rescue codes), else of those the search's filters keep in the caller's scope; at
    most 1,000 (422: narrow the search). The QR code opens the elevator's public page at
    LIFTWATCH_PUBLIC_URL (else the address this request came to)."""
    if code:
        elevators = [queries.get_elevator_by_code(session, actor, c) for c in dict.fromkeys(code)]
    else:
        elevators, total = queries.list_elevators(
            session, actor, flt, clock, page=1, size=stickers_pdf.MAX_STICKERS
        )
        if total > stickers_pdf.MAX_STICKERS:
            raise InvalidInput(
                FieldError(
                    "district", f"{total} elevators: at most {stickers_pdf.MAX_STICKERS} stickers in one file"
                )
            )
    if not elevators:
        raise InvalidInput(FieldError("code", "no elevator to print a sticker for"))
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    pdf = stickers_pdf.render_pdf([_sticker(e, base) for e in elevators])
    name = f"96333-stickers-{clock.today().isoformat()}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _sticker(e: Elevator, base: str) -> stickers_pdf.Sticker:
    use, mnt = e.use_unit, e.maintenance_unit
    return stickers_pdf.Sticker(
        rescue_code=e.rescue_code,
        registration_code=e.registration_code,
        address=" ".join(p for p in (e.district, e.address or "") if p),
        use_unit=use.name if use else "",
        use_unit_phone=(use.contact_phone or "") if use else "",
        maintenance_unit=mnt.name if mnt else "",
        maintenance_unit_phone=(mnt.contact_phone or "") if mnt else "",
        url=f"{base}/p/{e.rescue_code}",
    )


@router.get("/public/elevators/{code}", response_model=PublicElevator, tags=["public"])
def public_elevator(code: PathCode, session: SessionDep) -> PublicElevator:
    """For passengers who scan the code in the car: no login, only what the public may know."""
    return queries.public_view(session, code)


@router.get("/units", response_model=UnitPage)
def list_units(
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    unit_type: UnitType | None = None,
    q: Annotated[QueryStr | None, Query(max_length=100)] = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> UnitPage:
    size = min(size, settings.page_size_max)
    units, total = queries.list_units(
        session, actor, unit_type.value if unit_type else None, q, page=page, size=size
    )
    counts = queries.elevator_counts(session, units)
    return UnitPage(
        items=[_unit_out(u, counts.get(u.id, 0)) for u in units], total=total, page=page, size=size
    )


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
def get_unit(code: PathCode, actor: ActorDep, session: SessionDep) -> UnitOut:
    unit = queries.get_unit(session, actor, code)
    return _unit_out(unit, queries.elevator_counts(session, [unit]).get(unit.id, 0))


@router.patch("/units/{code}", response_model=UnitOut)
def update_unit(
    code: PathCode, data: UnitUpdate, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> UnitOut:
    unit = service.update_unit(session, actor, code, data, clock)
    session.commit()
    return _unit_out(unit, queries.elevator_counts(session, [unit]).get(unit.id, 0))


# ---------------------------------------------------------------- import and export (registry/io.py)

_EXPORT_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@router.post(
    "/registry/import",
    responses={
        **error_responses(413),
        200: {"model": ImportReportOut, "description": "rows were imported"},
        422: {"model": ImportReportOut | ErrorOut, "description": "rejected: nothing imported"},
    },
)
def import_registry(
    file: Annotated[UploadFile, File(description="an agency's .csv or .xlsx file")],
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    skip_invalid: Annotated[bool, Query(description="import the good rows, return the bad ones")] = False,
    upsert: Annotated[bool, Query(description="a registered elevator's row updates it")] = False,
    dry_run: Annotated[
        bool, Query(description="a preview: report what would be written, write nothing")
    ] = False,
) -> JSONResponse:
    """Import elevators (and a workbook's "units" sheet). 200 when rows were imported (or, with
    ``dry_run``, would be), 422 with every error when nothing was (by default any bad row rejects the
    whole file). With ``upsert`` the rows of registered elevators update them: ``updated``, ``unchanged``
    and ``changes`` (each changed field, from and to) say how. ``dry_run`` imports and rolls back, so the
    preview is exactly what the import would do."""
    service.require_registrar(actor, "import the registry")
    name = ledger.upload_name(file.filename)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        ledger.save_upload(file.file, path)
        report = registry_io.import_file(
            session, actor, path, clock, skip_invalid=skip_invalid, write_rejects=False, upsert=upsert
        )
    written = report.imported > 0 or report.units_imported > 0 or report.updated > 0
    if written and not dry_run:
        session.commit()
    else:
        session.rollback()
    body: dict[str, Any] = {
        "rows": report.rows,
        "imported": report.imported,
        "unit_rows": report.unit_rows,
        "units_imported": report.units_imported,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "changes": [c.as_dict() for c in report.changes],
        "applied": written and not dry_run,
        "errors": [e.as_dict() for e in report.errors],
        "warnings": [w.as_dict() for w in report.warnings],
    }
    if skip_invalid:
        body["rejected"] = [r.as_dict() for r in report.rejected]
    status = 422 if report.errors and not written else 200
    return JSONResponse(body, status_code=status)


@router.get("/registry/export", response_class=Response)
def export_registry(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    flt: FilterDep,
    file_format: Annotated[Literal["xlsx", "csv"], Query(alias="format")] = "xlsx",
    headers: Annotated[Literal["en", "zh"], Query()] = "en",
) -> Response:
    """Download the elevators in the caller's scope that the search's filters keep (none given: all), in
    the columns the import reads, each unit's name beside its code. The .xlsx file has a second sheet
    "units"; the CSV holds the elevators only. ``headers=zh`` writes Chinese headers, labels and 是/否 for
    reading in Excel; it imports back as well. The file is written row by row to a temporary file and
    streamed from it (the ledger never sits in the process's memory), which is removed once sent."""
    tmp = Path(tempfile.mkdtemp(prefix="liftwatch-export-"))
    path = tmp / f"liftwatch-registry-{clock.today().isoformat()}.{file_format}"
    try:
        registry_io.export_file(session, actor, path, headers=headers, flt=flt, clock=clock)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=_EXPORT_MEDIA[file_format],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )
