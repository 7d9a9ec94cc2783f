"""Routes of the city's figures (大数据监管): KPI tables by a dimension, a KPI's trend, coverage and the
coverage gaps. Thin: the service decides scope (403 for the roles that see no figures) and checks every
parameter (422 naming it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftwatch.analytics import service
from liftwatch.analytics.domain import DIMENSIONS, KPIS, Dimension
from liftwatch.analytics.schemas import (
    CoverageOut,
    GapsOut,
    KpiTableOut,
    TrendOut,
    coverage_out,
    gaps_out,
    table_out,
    trend_out,
)
from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.core.types import PageNo, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


def _dimension(value: str) -> Dimension:
    for d in DIMENSIONS:
        if d == value:
            return d
    raise InvalidInput(FieldError("by", f"expected one of {', '.join(DIMENSIONS)}, got '{value}'"))


@router.get("/kpis", response_model=KpiTableOut)
def kpis(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    by: Annotated[QueryStr, Query(max_length=32, description=", ".join(DIMENSIONS))] = "district",
    month: Annotated[
        QueryStr | None, Query(max_length=7, description="YYYY-MM (default: this month)")
    ] = None,
    year: Annotated[
        int | None, Query(ge=1900, le=9998, description="a whole year instead of a month")
    ] = None,
    district: Annotated[
        QueryStr, Query(max_length=64, description="only this district's elevators (a drill-down)")
    ] = "",
) -> KpiTableOut:
    """Every KPI (docs/ANALYTICS.md) per group of ``by`` for a month or a year, with the total and the
    targets, in the caller's scope (narrowed to ``district`` when given)."""
    table = service.kpi_table(
        session, actor, clock, month=month, year=year, by=_dimension(by), district=district, settings=settings
    )
    return table_out(table)


@router.get("/trend", response_model=TrendOut)
def trend(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    kpi: Annotated[QueryStr, Query(max_length=32, description=", ".join(KPIS))],
    months: Annotated[int, Query(ge=1, le=service.MAX_TREND_MONTHS)] = 12,
) -> TrendOut:
    """One KPI over the last ``months`` calendar months (this one last), with its target."""
    return trend_out(service.trend(session, actor, clock, kpi=kpi, months=months, settings=settings))


@router.get("/coverage", response_model=CoverageOut)
def coverage(actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep) -> CoverageOut:
    """Remote monitoring (all, public places, residential 15+ years), liability insurance and geolocation
    in public places, in-car mobile signal."""
    return coverage_out(service.coverage(session, actor, clock, settings=settings))


@router.get("/coverage/gaps", response_model=GapsOut)
def coverage_gaps(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    kind: Annotated[QueryStr, Query(max_length=32, description="mobile_signal, monitoring or geolocation")],
    page: Annotated[PageNo, Query()] = 1,
    size: Annotated[int, Query(ge=1, le=service.GAP_PAGE_MAX)] = 50,
) -> GapsOut:
    """The elevators in service that lack ``kind``, by district, street and code, one page at a time."""
    return gaps_out(service.coverage_gaps(session, actor, clock, kind=kind, page=page, size=size))
