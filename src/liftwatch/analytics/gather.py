"""The report's figures, read through the other domains' services and read modules (docs/REPORTS.md).

``report_scope(session, actor)`` decides who gets what, like the API: the centre (admin, regulator, 96333
operator) the city; a maintenance unit's staff their own unit (its elevators, its own dispatches, docs/
KPIS.md "A unit's figures"); anyone else 403. The CLI acts as the system: the city.

``gather(session, scope, period, clock, settings)`` is the one function that collects the figures: the
rescue KPIs (``rescue.exports.kpi_report``: the same figures as ``GET /api/v1/rescue/kpis``) by district,
by maintenance unit and by month, the ratings' red and black lists, hidden dangers, complaints and
inspections. When the analytics service lands, only this function changes.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.analytics.report import (
    AreaFigures,
    CountArea,
    HazardArea,
    InspectionArea,
    MonthFigures,
    Rate,
    RatedUnit,
    ReportFigures,
    ReportPeriod,
    Targets,
)
from liftwatch.complaints import queries as complaints
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import FINISHED
from liftwatch.inspection import service as inspection
from liftwatch.ratings import service as ratings
from liftwatch.registry import queries as registry
from liftwatch.rescue import exports as rescue_exports
from liftwatch.rescue import service as rescue
from liftwatch.rescue.kpis import Kpis

#: who reads the city's report; maintenance staff read their own unit's
CITY_ROLES = frozenset({Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR})
#: the city's name in the title (e.g. 重庆市); unset: "本市"
CITY_NAME_ENV = "LIFTWATCH_REPORT_CITY_NAME"
#: every hazard of the scope is read for the counts (the analytics service will count in SQL)
HAZARD_LIMIT = 1_000_000


@dataclass(frozen=True)
class ReportScope:
    """The city (``unit`` None) or one maintenance unit (its code and name)."""

    unit: str | None = None
    unit_name: str = ""


CITY = ReportScope()


def report_scope(session: Session, actor: Actor) -> ReportScope:
    """The report an actor may have: the city for the centre, its own unit for maintenance staff; 403 for
    every other role and for maintenance staff without a unit."""
    if actor.role in CITY_ROLES:
        return CITY
    if actor.role is Role.MAINTENANCE:
        code = registry.actor_unit_code(session, actor)
        if code is None:
            raise Forbidden("a maintenance account without a unit has no report")
        return ReportScope(code, registry.unit_names(session, [code]).get(code, code))
    raise Forbidden(f"role '{actor.role.value}' may not read the supervision report")


def _instant(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(settings.timezone)).astimezone(UTC)


def _rate(r: object) -> Rate:
    return Rate(int(getattr(r, "numerator", 0)), int(getattr(r, "denominator", 0)))


def _area(key: str, name: str, k: Kpis) -> AreaFigures:
    return AreaFigures(
        key,
        name,
        k.elevators_in_service,
        k.rescues,
        _rate(k.on_time_arrival),
        _rate(k.response_rate),
        k.average_arrival.minutes,
    )


def _targets(ks: object) -> Targets:
    def threshold(name: str, default: float) -> float:
        target = getattr(ks, name, None)
        return float(target.threshold) if target is not None else default

    basis = getattr(ks, "entrapment_target_basis", "year")
    return Targets(
        response=threshold("response_rate_target", 0.99),
        on_time=threshold("on_time_arrival_target", 0.98),
        arrival_min=threshold("average_arrival_target", 30.0),
        entrapment=threshold("entrapment_rate_target", 0.005),
        entrapment_basis="month" if basis == "month" else "year",
        rescue_success=threshold("rescue_success_target", 1.0),
    )


def _ratings(session: Session, period: ReportPeriod, unit: str | None) -> tuple[str | None, list[RatedUnit]]:
    """The red and black lists of the rating period that matches the report: the month itself, then its
    quarter, then its half-year (a year: its second half, then its first)."""
    if period.month is not None:
        m = period.month
        labels = [period.key, f"{period.year}-Q{(m - 1) // 3 + 1}", f"{period.year}-H{1 if m <= 6 else 2}"]
    else:
        labels = [f"{period.year}-H2", f"{period.year}-H1"]
    for label in labels:
        try:
            found, rows = ratings.ratings_of(session, SYSTEM_ACTOR, label)
        except NotFound:
            continue
        units = [
            RatedUnit(r.unit_code, r.unit_name, r.stars, r.rank, r.total, r.listing)
            for r in rows
            if unit is None or r.unit_code == unit
        ]
        return found.label, units
    return None, []


def _unit_codes(session: Session, unit: str) -> set[str]:
    record = registry.unit_by_code(session, unit)
    return registry.codes_of_unit(session, record.id) if record else set()


def _districts_of(session: Session, codes: Iterable[str]) -> dict[str, str]:
    return {code: p.district for code, p in registry.places_of(session, sorted(set(codes))).items()}


def _hazards(
    session: Session, start: datetime, end: datetime, at: datetime, unit: str | None, codes: set[str] | None
) -> list[HazardArea]:
    """Per district: reported in [start, end), verified (rectified) in [start, end), and at ``at`` (the
    period's end, or now if earlier) still open and open past their deadline."""
    rows = [
        h
        for h in hazards.list_hazards(session, SYSTEM_ACTOR, limit=HAZARD_LIMIT)
        if unit is None or h.responsible_unit == unit or (codes is not None and h.registration_code in codes)
    ]
    district = _districts_of(session, (h.registration_code for h in rows))
    counts: dict[str, list[int]] = {}

    def utc(value: datetime | None) -> datetime | None:
        return None if value is None else value if value.tzinfo else value.replace(tzinfo=UTC)

    for h in rows:
        c = counts.setdefault(district.get(h.registration_code, ""), [0, 0, 0, 0])
        reported, verified, closed = utc(h.reported_at), utc(h.verified_at), utc(h.closed_at)
        assert reported is not None
        if start <= reported < end:
            c[0] += 1
        if verified is not None and start <= verified < end:
            c[1] += 1
        finished = (verified is not None and verified <= at) or (closed is not None and closed <= at)
        if h.state in {s.value for s in FINISHED} and verified is None and closed is None:
            finished = True
        if reported < at and not finished:
            c[3] += 1
            deadline = utc(h.deadline)
            if deadline is not None and deadline < at:
                c[2] += 1
    return [HazardArea(k, *v) for k, v in sorted(counts.items())]


def _complaints(
    session: Session,
    start: datetime,
    end: datetime,
    unit: str | None,
    codes: set[str] | None,
    elevators: dict[str, int],
) -> tuple[list[CountArea], int]:
    """Per district: complaints about its elevators (in scope); the total: every complaint of the city, or
    those charged to the unit (about its elevators or naming it), as the trend counts them."""
    by_code = complaints.counts_by_elevator(session, start, end, codes)
    district = _districts_of(session, by_code)
    per: Counter[str] = Counter()
    for code, n in by_code.items():
        per[district.get(code, "")] += n
    total = _complaints_in(session, start, end, unit)
    keys = sorted(set(elevators) | set(per))
    return [CountArea(k, elevators.get(k, 0), per.get(k, 0)) for k in keys], total


def _complaints_in(session: Session, start: datetime, end: datetime, unit: str | None) -> int:
    if unit is None:
        return complaints.received_between(session, start, end)
    return complaints.counts_by_unit(session, start, end).get(unit, 0)


def gather(
    session: Session, scope: ReportScope, period: ReportPeriod, clock: Clock, settings: Settings
) -> ReportFigures:
    """The figures of the report of ``period`` for ``scope`` (the city, or one maintenance unit)."""
    unit = scope.unit
    rescue_settings = rescue.RescueSettings.for_city(settings)
    ks = rescue.kpi_settings(rescue_settings)
    now = clock.now()
    start, end = _instant(period.start, settings), _instant(period.end, settings)
    at = min(now, end)

    report = rescue_exports.kpi_report(
        session, SYSTEM_ACTOR, start, end, rescue_settings, now, None, unit, ("district", "maintenance_unit")
    )
    months = period.trend_months()
    trend_start = _instant(date(int(months[0][:4]), int(months[0][5:]), 1), settings)
    trend = rescue_exports.kpi_report(
        session, SYSTEM_ACTOR, trend_start, end, rescue_settings, now, None, unit, ("month",)
    )
    names = registry.unit_names(session, report.groups["maintenance_unit"])
    by_district = [_area(k, k, v) for k, v in report.groups["district"].items()]
    by_unit = [
        _area(k, names.get(k, k), v)
        for k, v in report.groups["maintenance_unit"].items()
        if unit is None or k == unit
    ]
    month_figures = []
    for key in months:
        k = trend.groups["month"].get(key)
        y, m = int(key[:4]), int(key[5:])
        m_start = _instant(date(y, m, 1), settings)
        m_end = _instant(date(y + (m == 12), m % 12 + 1, 1), settings)
        month_figures.append(
            MonthFigures(
                key,
                k.elevators_in_service if k else trend.total.elevators_in_service,
                k.rescues if k else 0,
                _rate(k.on_time_arrival) if k else Rate(0, 0),
                _complaints_in(session, m_start, m_end, unit),
            )
        )

    codes = _unit_codes(session, unit) if unit else None
    elevators_by_district = registry.count_in_service_by(session, "district", None, unit)
    complaint_areas, complaint_total = _complaints(session, start, end, unit, codes, elevators_by_district)
    inspections = [
        InspectionArea(
            d,
            _pass(inspection.pass_rate(session, SYSTEM_ACTOR, period.start, period.end, settings, unit, d)),
        )
        for d in sorted(elevators_by_district)
    ]
    overdue = [
        o
        for o in inspection.overdue(session, SYSTEM_ACTOR, clock, settings)
        if codes is None or o.registration_code in codes
    ]
    label, rated = _ratings(session, period, unit)
    targets = _targets(ks)
    return ReportFigures(
        period=period,
        city_name=os.environ.get(CITY_NAME_ENV, "").strip(),
        scope_name=scope.unit_name if unit else "",
        total=_area("", "", report.total),
        incidents=report.total.incidents,
        false_alarms=report.total.false_alarms,
        rescue_success=_rate(report.total.rescue_success),
        by_district=by_district,
        by_unit=by_unit,
        trend=month_figures,
        ratings_label=label,
        ratings=rated,
        hazards=_hazards(session, start, end, at, unit, codes),
        complaints=complaint_areas,
        complaints_total=complaint_total,
        inspections=inspections,
        inspection_total=_pass(
            inspection.pass_rate(session, SYSTEM_ACTOR, period.start, period.end, settings, unit)
        ),
        inspections_overdue=len(overdue),
        targets=targets,
    )


def _pass(rate: object) -> Rate:
    return Rate(int(getattr(rate, "passed", 0)), int(getattr(rate, "concluded", 0)))
