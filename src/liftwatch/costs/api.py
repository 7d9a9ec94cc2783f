"""Routes of cost disclosure (费用公开): a use unit's ledger (entries, reversals, the half-year's contract
fees, its summary), its publications, the regulator's overview and overdue list, and the public read.
Thin: the service decides scope and rules; every writing route commits what the service changed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.core.types import DbId, PathCode, QueryStr
from liftwatch.costs import service
from liftwatch.costs.domain import HalfYear
from liftwatch.costs.schemas import (
    BookedOut,
    ContractsBooked,
    EntryIn,
    EntryOut,
    OverviewOut,
    OverviewRowOut,
    PeriodIn,
    PublicationOut,
    PublicLedgerOut,
    PublishedOut,
    PublishIn,
    ReverseIn,
    SummaryOut,
)
from liftwatch.costs.settings import CostSettings, cost_settings_from_env
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/costs", tags=["costs"])


def cost_settings(request: Request) -> CostSettings:
    """The LIFTWATCH_COSTS_* settings, read once per application (kept on ``app.state``)."""
    found = getattr(request.app.state, "cost_settings", None)
    if not isinstance(found, CostSettings):
        found = cost_settings_from_env()
        request.app.state.cost_settings = found
    return found


def _period(value: str | None, name: str = "period") -> HalfYear:
    try:
        return HalfYear.parse(value or "")
    except ValueError as exc:
        raise InvalidInput(FieldError(name, str(exc))) from None


PeriodQuery = Annotated[QueryStr, Query(max_length=8, description="a half-year, e.g. 2026-H2")]


@router.get("/public", response_model=list[PublicLedgerOut], tags=["public"])
def public(
    session: SessionDep,
    q: Annotated[
        QueryStr,
        Query(max_length=100, description="a use unit's name, or an elevator's registration or rescue code"),
    ] = "",
) -> Any:
    """The published half-years (no login): totals, each residential elevator's maintenance cost, the
    advertising income and its use. No entry, no note, no person."""
    return service.public_search(session, q)


@router.get("/overview", response_model=OverviewOut)
def overview(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    period: PeriodQuery,
    district: Annotated[QueryStr | None, Query(max_length=64)] = None,
) -> OverviewOut:
    """Every use unit with residential elevators: published the half-year or not, overdue (regulators)."""
    due = cost_settings(request).due_days
    rows = service.overview(session, actor, _period(period), clock, settings, due, district)
    return OverviewOut(
        period=str(_period(period)), due_days=due, units=[OverviewRowOut.model_validate(r) for r in rows]
    )


@router.get("/overdue", response_model=OverviewOut)
def overdue(
    request: Request, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> OverviewOut:
    """The use units that have not published the latest half-year due (LIFTWATCH_COSTS_PUBLISH_DUE_DAYS)."""
    due = cost_settings(request).due_days
    period, rows = service.overdue(session, actor, clock, settings, due)
    return OverviewOut(
        period=str(period) if period else "",
        due_days=due,
        units=[OverviewRowOut.model_validate(r) for r in rows],
    )


@router.post("/book-contracts", response_model=ContractsBooked)
def book_all_contracts(
    data: PeriodIn, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> ContractsBooked:
    """Book the half-year's contract fees of every use unit (admins; idempotent)."""
    booked = service.book_contracts(session, actor, None, _period(data.period), clock, settings)
    session.commit()
    return _booked(booked)


def _booked(booked: service.Booked) -> ContractsBooked:
    return ContractsBooked(
        period=booked.period,
        created=[EntryOut.model_validate(e) for e in booked.created],
        existing=booked.existing,
    )


@router.get("/ledgers/{unit_code}/entries", response_model=list[EntryOut])
def entries(
    unit_code: PathCode,
    actor: ActorDep,
    session: SessionDep,
    period: Annotated[QueryStr | None, Query(max_length=8, description="a half-year, e.g. 2026-H2")] = None,
) -> Any:
    """The ledger's entries, newest first (of one half-year when given)."""
    chosen = _period(period) if period else None
    return service.list_entries(session, actor, unit_code, chosen)


@router.post(
    "/ledgers/{unit_code}/entries",
    response_model=BookedOut,
    status_code=201,
    responses={200: {"model": BookedOut}},
)
def book(
    unit_code: PathCode,
    data: EntryIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> BookedOut:
    """Book an entry: 201 when new, 200 when its work order or receipt was booked already (the first)."""
    entry = service.NewEntry(
        data.kind, data.amount_fen, data.on, data.elevator, data.work_order_id, data.receipt, data.note
    )
    out = service.record(session, actor, unit_code, entry, clock, settings)
    session.commit()
    response.status_code = 201 if out.created else 200
    return BookedOut(created=out.created, entry=EntryOut.model_validate(out.entry))


@router.post(
    "/ledgers/{unit_code}/entries/{entry_id}/reverse",
    response_model=BookedOut,
    status_code=201,
    responses={200: {"model": BookedOut}},
)
def reverse(
    unit_code: PathCode,
    entry_id: DbId,
    data: ReverseIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> BookedOut:
    """Correct an entry by its reversal (201; 200 when reversed already)."""
    out = service.reverse(session, actor, unit_code, entry_id, data.note, clock, settings)
    session.commit()
    response.status_code = 201 if out.created else 200
    return BookedOut(created=out.created, entry=EntryOut.model_validate(out.entry))


@router.post("/ledgers/{unit_code}/book-contracts", response_model=ContractsBooked)
def book_contracts(
    unit_code: PathCode,
    data: PeriodIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> ContractsBooked:
    """Book the half-year's share of the unit's maintenance contracts (idempotent)."""
    booked = service.book_contracts(session, actor, unit_code, _period(data.period), clock, settings)
    session.commit()
    return _booked(booked)


@router.get("/ledgers/{unit_code}/summary", response_model=SummaryOut)
def summary(unit_code: PathCode, actor: ActorDep, session: SessionDep, period: PeriodQuery) -> SummaryOut:
    """The half-year as it would be published now (residential and unit-wide entries)."""
    got = service.summary(session, actor, unit_code, _period(period))
    return SummaryOut(
        period=got.period,
        **got.summary.as_json(),
        not_published_entries=got.not_published_entries,
        published_id=got.publication.id if got.publication else None,
    )


@router.get("/ledgers/{unit_code}/publications", response_model=list[PublicationOut])
def publications(unit_code: PathCode, actor: ActorDep, session: SessionDep) -> Any:
    return service.publications(session, actor, unit_code)


@router.post(
    "/ledgers/{unit_code}/publications",
    response_model=PublishedOut,
    status_code=201,
    responses={200: {"model": PublishedOut}},
)
def publish(
    unit_code: PathCode,
    data: PublishIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> PublishedOut:
    """Publish an ended half-year: its frozen snapshot (201; 200 with the first when published already)."""
    out = service.publish(
        session, actor, unit_code, _period(data.period), data.advertising_use, clock, settings
    )
    session.commit()
    response.status_code = 201 if out.created else 200
    return PublishedOut(created=out.created, publication=PublicationOut.model_validate(out.publication))
