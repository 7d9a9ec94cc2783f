"""The city's figures as plain data (大数据监管): KPI tables by a dimension, trends, coverage, coverage gaps.

Pure: no SQLAlchemy, no FastAPI; the service fills these from the other domains' reads. Every figure keeps
its numerator and denominator so a page or report can show "3 / 4", and its value is ``None`` (not 0) when
the denominator is empty, as the rescue KPIs do (docs/KPIS.md). Definitions: docs/ANALYTICS.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Literal, get_args

from liftwatch.rescue.kpis import MONTH, Target

Dimension = Literal["district", "street", "maintenance_unit", "place_type", "age_band", "month"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

Unit = Literal["per_10k_month", "share", "minutes"]

#: The KPIs of a table row, in the order a table shows them.
KPIS: tuple[str, ...] = (
    "entrapment",  # 故障困人率: rescues (entrapments) per 10,000 elevators in service, per month
    "fault",  # 故障率: faults per 10,000 elevators in service, per month
    "complaint",  # 投诉率: complaints per 10,000 elevators in service, per month
    "inspection_pass",  # 检验合格率: periodic inspections passed at first attempt / concluded
    "response",  # 应急响应率 (docs/KPIS.md)
    "on_time_arrival",  # 按时到达率 (docs/KPIS.md)
    "average_arrival",  # 平均到场时间 (docs/KPIS.md), minutes
    "rescue_success",  # 救援成功率 (docs/KPIS.md)
    "monitoring",  # 远程监测覆盖率: elevators with an IoT terminal / elevators in service
)

#: Coverage figures (DOMAIN.md section 6; Shanghai 2020 targets 100% for the public-place and old
#: residential segments, for liability insurance and geolocation).
COVERAGE_FIGURES: tuple[str, ...] = (
    "monitoring_all",
    "monitoring_public",
    "monitoring_old_residential",
    "insurance_public",
    "geolocation_public",
    "mobile_signal_all",
    "mobile_signal_public",
)

PER_10K = 10_000
SHANGHAI_2020 = "上海市电梯安全“十四五”规划基线 (2020): 100% coverage"
ENTRAPMENT_TARGET = Target("<", 50)  # < 0.5% a month = 50 per 10,000 elevators a month (DOMAIN.md §6)
INSPECTION_PASS_TARGET = Target(">=", 0.95)
FULL_COVERAGE = Target(">=", 1.0, SHANGHAI_2020)


@dataclass(frozen=True)
class Figure:
    """One KPI value: ``count`` over ``base`` in ``unit``.

    per_10k_month: count = events, base = elevators in service, value = count x 10,000 / base / months;
    share: count of base (a fraction 0..1); minutes: count = rescues with an arrival, value the mean."""

    count: int
    base: int
    value: float | None
    unit: Unit
    target: Target | None = None
    met: bool | None = None


def per_10k_month(count: int, elevators: int, period: timedelta, target: Target | None = None) -> Figure:
    """count x 10,000 / elevators / (period in months of 365/12 days), exact against the target."""
    if elevators <= 0 or period <= timedelta(0):
        return Figure(count, elevators, None, "per_10k_month", target, None)
    us = timedelta(microseconds=1)
    exact = Fraction(count * PER_10K, elevators) * Fraction(MONTH // us, period // us)
    return Figure(count, elevators, float(exact), "per_10k_month", target, _met(target, exact))


def share(count: int, base: int, target: Target | None = None) -> Figure:
    if base <= 0:
        return Figure(count, base, None, "share", target, None)
    exact = Fraction(count, base)
    return Figure(count, base, float(exact), "share", target, _met(target, exact))


def _met(target: Target | None, value: Fraction) -> bool | None:
    return None if target is None else target.met(value)


@dataclass(frozen=True)
class KpiRow:
    """The KPIs of one group (a district, a month...): ``key`` is the group's value ("" for the total or an
    elevator without one), ``elevators`` the elevators in service in it; ``figures`` by KPI name
    (``KPIS``)."""

    key: str
    elevators: int
    figures: Mapping[str, Figure]


@dataclass(frozen=True)
class KpiTable:
    by: Dimension
    period: str  # "2026-11" or "2026"
    start: datetime  # the period, UTC, [start, end): the local calendar's month or year
    end: datetime
    covered_until: datetime  # end, or now when the period is not over: the rates' time basis
    rows: tuple[KpiRow, ...]
    total: KpiRow


@dataclass(frozen=True)
class TrendPoint:
    month: str  # "YYYY-MM"
    figure: Figure


@dataclass(frozen=True)
class Trend:
    kpi: str
    unit: Unit
    target: Target | None
    points: tuple[TrendPoint, ...]  # oldest first, the current month last


@dataclass(frozen=True)
class Coverage:
    day: date  # the city's day the figures are of
    figures: Mapping[str, Figure]  # COVERAGE_FIGURES
    mobile_signal_unchecked: int  # elevators in service whose mobile signal nobody has recorded


@dataclass(frozen=True)
class Gap:
    registration_code: str
    district: str
    street: str
    address: str
    place_type: str
    maintenance_unit: str  # its name
    mobile_signal: bool | None


@dataclass(frozen=True)
class Gaps:
    kind: str
    page: int
    size: int
    total: int
    rows: tuple[Gap, ...]


def parse_month(text: str) -> tuple[int, int]:
    """ "YYYY-MM" -> (year, month); ValueError naming what was expected."""
    try:
        y, m = text.split("-")
        year, month = int(y), int(m)
        if len(y) != 4 or len(m) != 2 or not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise ValueError(f"expected a month as YYYY-MM, got '{text}'") from None
    return year, month


def shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    """The month ``by`` months after (before, when negative) ``year``-``month``."""
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1
