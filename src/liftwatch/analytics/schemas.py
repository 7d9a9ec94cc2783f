"""API shapes of the city's figures: KPI tables, trends, coverage and its gaps (docs/ANALYTICS.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from liftwatch.analytics import domain
from liftwatch.rescue.kpis import Target


class TargetOut(BaseModel):
    comparison: str = Field(description="'>=', '<=', '<' or '>'")
    threshold: float = Field(description="in the figure's unit: a fraction for shares, minutes, per 10,000")
    source: str


class FigureOut(BaseModel):
    count: int = Field(description="numerator: events, passes, elevators covered")
    base: int = Field(description="denominator: elevators in service, inspections, rescues")
    value: float | None = Field(
        description="per 10,000 elevators a month, a fraction, or minutes; null: no base"
    )
    unit: str
    target: TargetOut | None
    met: bool | None


class KpiRowOut(BaseModel):
    key: str = Field(description="the group: a district, street, unit code, place type, age band or month")
    elevators: int
    figures: dict[str, FigureOut]


class KpiTableOut(BaseModel):
    by: str
    period: str
    start: datetime
    end: datetime
    covered_until: datetime
    kpis: list[str]
    rows: list[KpiRowOut]
    total: KpiRowOut


class TrendPointOut(BaseModel):
    month: str
    figure: FigureOut


class TrendOut(BaseModel):
    kpi: str
    unit: str
    target: TargetOut | None
    points: list[TrendPointOut]


class CoverageOut(BaseModel):
    day: date
    figures: dict[str, FigureOut]
    mobile_signal_unchecked: int


class GapOut(BaseModel):
    registration_code: str
    district: str
    street: str
    address: str
    place_type: str
    maintenance_unit: str
    mobile_signal: bool | None


class GapsOut(BaseModel):
    kind: str
    page: int
    size: int
    total: int
    rows: list[GapOut]


def target_out(t: Target | None) -> TargetOut | None:
    return None if t is None else TargetOut(comparison=t.comparison, threshold=t.threshold, source=t.source)


def figure_out(f: domain.Figure) -> FigureOut:
    return FigureOut(
        count=f.count, base=f.base, value=f.value, unit=f.unit, target=target_out(f.target), met=f.met
    )


def row_out(r: domain.KpiRow) -> KpiRowOut:
    return KpiRowOut(
        key=r.key, elevators=r.elevators, figures={k: figure_out(f) for k, f in r.figures.items()}
    )


def table_out(t: domain.KpiTable) -> KpiTableOut:
    return KpiTableOut(
        by=t.by,
        period=t.period,
        start=t.start,
        end=t.end,
        covered_until=t.covered_until,
        kpis=list(domain.KPIS),
        rows=[row_out(r) for r in t.rows],
        total=row_out(t.total),
    )


def trend_out(t: domain.Trend) -> TrendOut:
    return TrendOut(
        kpi=t.kpi,
        unit=t.unit,
        target=target_out(t.target),
        points=[TrendPointOut(month=p.month, figure=figure_out(p.figure)) for p in t.points],
    )


def coverage_out(c: domain.Coverage) -> CoverageOut:
    return CoverageOut(
        day=c.day,
        figures={k: figure_out(f) for k, f in c.figures.items()},
        mobile_signal_unchecked=c.mobile_signal_unchecked,
    )


def gaps_out(g: domain.Gaps) -> GapsOut:
    return GapsOut(
        kind=g.kind,
        page=g.page,
        size=g.size,
        total=g.total,
        rows=[GapOut(**vars(r)) for r in g.rows],
    )
