"""The report's figures (docs/REPORTS.md), and the figures of a drill-down area for the dashboard
(docs/DASHBOARD.md): both read the analytics service (``analytics.service.kpi_table`` / ``trend``), so a
figure means the same in the report, on the dashboard and in ``GET /api/v1/analytics/kpis``.

``report_scope(session, actor)`` decides who gets what, like the API: the centre (admin, regulator, 96333
operator) the city; a maintenance unit's staff their own unit (the elevators it maintains); anyone else 403.
The CLI acts as the system: the city.

``gather(session, scope, period, clock, settings)`` collects the report's figures: headline, by district,
by maintenance unit, trend, inspection pass rate and complaints from the analytics service; what the
service has not (incidents and false alarms, inspections overdue, the ratings' red and black lists, hidden
dangers) through those domains' services.

``area_table(session, actor, clock, ...)`` is the analytics service's table narrowed to one drill-down
area (city, district, street, or a use unit on its street), in the caller's scope.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.analytics import service as analytics
from liftwatch.analytics.domain import Dimension, Figure, KpiRow, KpiTable
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
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import FINISHED
from liftwatch.inspection import service as inspection
from liftwatch.ratings import service as ratings
from liftwatch.registry import queries as registry
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue

#: who reads the city's report; maintenance staff read their own unit's
CITY_ROLES = frozenset({Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR})
#: the city's name in the title (e.g. 重庆市); unset: "本市"
CITY_NAME_ENV = "LIFTWATCH_REPORT_CITY_NAME"
#: every hazard of the scope is read for the counts (the hazards service has no counts by district yet)
HAZARD_LIMIT = 1_000_000


@dataclass(frozen=True)
class ReportScope:
    """The city (``unit`` None) or one maintenance unit (its code and name)."""

    unit: str | None = None
    unit_name: str = ""
    unit_id: int | None = None


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
        return ReportScope(code, registry.unit_names(session, [code]).get(code, code), actor.unit_id)
    raise Forbidden(f"role '{actor.role.value}' may not read the supervision report")


def _reader(session: Session, scope: ReportScope) -> Actor:
    """Who the analytics service reads for: the system (the city) or the unit's staff (its elevators)."""
    if scope.unit is None:
        return SYSTEM_ACTOR
    unit_id = scope.unit_id
    if unit_id is None:
        record = registry.unit_by_code(session, scope.unit)
        if record is None:
            raise NotFound(f"no unit '{scope.unit}'")
        unit_id = record.id
    return Actor("report", Role.MAINTENANCE, unit_id)


# ---------------------------------------------------------------- one drill-down area


def area_table(
    session: Session,
    actor: Actor,
    clock: Clock,
    *,
    district: str = "",
    street: str = "",
    use_unit: str = "",
    month: str | None = None,
    kpis: Collection[str] | None = None,
    settings: Settings | None = None,
) -> tuple[KpiTable, KpiRow | None]:
    """The analytics table of ``month`` (the current one when None) and the row of the area in the
    actor's scope: the city (the table's total), a district, a street, or a use unit (its code) on its
    street; the row is None when the area has neither elevators nor events in the scope.

    A district is its row of the table by district narrowed to it, a street its row of the table by
    street of its district (street names are taken as unique in their district), so neither counts the
    rest of the city. A use unit is read as its own staff would read it (its elevators), grouped by
    street; maintenance staff get, of those, the elevators their unit maintains (grouped by maintenance
    unit: the use unit's, on every street). ``kpis`` keeps those KPIs only (``analytics.kpi_table``)."""
    analytics.require_reader(actor)
    by: Dimension = "district"
    key: str | None = None
    reader = actor
    narrow = district
    if use_unit:
        narrow = ""
        record = registry.unit_by_code(session, use_unit)
        if record is None or (actor.role is Role.USE_UNIT and actor.unit_id != record.id):
            raise NotFound(f"no use unit '{use_unit}' in your scope")
        reader = Actor(actor.username, Role.USE_UNIT, record.id)
        if actor.role is Role.MAINTENANCE:
            by, key = "maintenance_unit", registry.actor_unit_code(session, actor) or ""
        else:
            by, key = "street", street
    elif street:
        by, key = "street", street
    elif district:
        key = district
    table = analytics.kpi_table(
        session, reader, clock, month=month, by=by, district=narrow, kpis=kpis, settings=settings
    )
    if key is None:
        return table, table.total
    return table, next((r for r in table.rows if r.key == key), None)


# ---------------------------------------------------------------- the report


def _instant(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(settings.timezone)).astimezone(UTC)


def _share(f: Figure | None) -> Rate:
    return Rate(f.count, f.base) if f is not None else Rate(0, 0)


def _count(row: KpiRow, kpi: str) -> int:
    f = row.figures.get(kpi)
    return f.count if f is not None else 0


def _area(key: str, name: str, row: KpiRow) -> AreaFigures:
    arrival = row.figures.get("average_arrival")
    return AreaFigures(
        key,
        name,
        row.elevators,
        _count(row, "entrapment"),
        _share(row.figures.get("on_time_arrival")),
        _share(row.figures.get("response")),
        arrival.value if arrival is not None else None,
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


def _trend(
    session: Session, reader: Actor, clock: Clock, months: list[str], settings: Settings, elevators: int
) -> list[MonthFigures]:
    """The trend's months: the analytics service's ``trends`` of entrapments, on-time arrival and
    complaints (each source read once) back from the current month to the first of ``months``;
    a report older than the trend's reach reads the tables by month of the months' years instead. A month
    not begun yet (the rest of the current year) has no events, on today's ``elevators``."""
    tz = zone(settings.timezone)
    local = clock.now().astimezone(tz)
    first = int(months[0][:4]) * 12 + int(months[0][5:]) - 1
    back = local.year * 12 + local.month - 1 - first + 1
    figures: dict[str, dict[str, Figure]] = {m: {} for m in months}
    if 1 <= back <= analytics.MAX_TREND_MONTHS:
        kpis = ("entrapment", "on_time_arrival", "complaint")
        # one pass: the rescue KPIs share the period's incidents, the longest read on a big city
        for kpi, trend in analytics.trends(
            session, reader, clock, kpis=kpis, months=back, settings=settings
        ).items():
            for point in trend.points:
                if point.month in figures:
                    figures[point.month][kpi] = point.figure
    else:
        for year in sorted({int(m[:4]) for m in months}):
            table = analytics.kpi_table(session, reader, clock, year=year, by="month", settings=settings)
            for row in table.rows:
                if row.key in figures:
                    figures[row.key] = dict(row.figures)
    out = []
    for key in months:
        f = figures[key]
        trapped = f.get("entrapment")
        complaints = f.get("complaint")
        out.append(
            MonthFigures(
                key,
                trapped.base if trapped else elevators,
                trapped.count if trapped else 0,
                _share(f.get("on_time_arrival")),
                complaints.count if complaints else 0,
            )
        )
    return out


def gather(
    session: Session, scope: ReportScope, period: ReportPeriod, clock: Clock, settings: Settings
) -> ReportFigures:
    """The figures of the report of ``period`` for ``scope`` (the city, or one maintenance unit)."""
    unit = scope.unit
    reader = _reader(session, scope)
    rescue_settings = rescue.RescueSettings.for_city(settings)
    ks = rescue.kpi_settings(rescue_settings)
    now = clock.now()
    start, end = _instant(period.start, settings), _instant(period.end, settings)
    at = min(now, end)

    def table(by: Dimension) -> KpiTable:
        month = period.key if period.month is not None else None
        year = None if period.month is not None else period.year
        return analytics.kpi_table(session, reader, clock, month=month, year=year, by=by, settings=settings)

    by_district_table = table("district")
    by_unit_table = table("maintenance_unit")
    total = by_district_table.total
    names = registry.unit_names(session, [r.key for r in by_unit_table.rows if r.key])
    by_unit = [
        _area(r.key, names.get(r.key, r.key), r)
        for r in by_unit_table.rows
        if r.key and (unit is None or r.key == unit)
    ]
    codes = _unit_codes(session, unit) if unit else None
    # incidents and false alarms are no analytics figure: rescue's records of the period, on the
    # elevators in scope (as the analytics service counts the rescues)
    records = [
        r
        for r in rescue_queries.incident_records(session, SYSTEM_ACTOR, start, end)
        if codes is None or r.registration_code in codes
    ]
    overdue = [
        o
        for o in inspection.overdue(session, SYSTEM_ACTOR, clock, settings)
        if codes is None or o.registration_code in codes
    ]
    label, rated = _ratings(session, period, unit)
    return ReportFigures(
        period=period,
        city_name=os.environ.get(CITY_NAME_ENV, "").strip(),
        scope_name=scope.unit_name if unit else "",
        total=_area("", "", total),
        incidents=len(records),
        false_alarms=sum(1 for r in records if r.false_alarm),
        rescue_success=_share(total.figures.get("rescue_success")),
        by_district=[_area(r.key, r.key, r) for r in by_district_table.rows],
        by_unit=by_unit,
        trend=_trend(session, reader, clock, period.trend_months(), settings, total.elevators),
        ratings_label=label,
        ratings=rated,
        hazards=_hazards(session, start, end, at, unit, codes),
        complaints=[CountArea(r.key, r.elevators, _count(r, "complaint")) for r in by_district_table.rows],
        complaints_total=_count(total, "complaint"),
        inspections=[
            InspectionArea(r.key, _share(r.figures.get("inspection_pass"))) for r in by_district_table.rows
        ],
        inspection_total=_share(total.figures.get("inspection_pass")),
        inspections_overdue=len(overdue),
        targets=_targets(ks),
    )
