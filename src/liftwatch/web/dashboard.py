"""The city dashboard (城市驾驶舱): KPI tiles against their targets for the month, the trend and ranking
charts (ECharts), and the map (Leaflet, no tile server needed) with the district boundaries and the
elevators and open incidents as clustered points, coloured by state or by risk grade.

Drill-down city -> district -> street -> use unit -> elevator is in the query (``?district=…&street=…
&unit=…``); every figure, chart and point narrows to the chosen area, and the elevator level links to the
elevator file. Who sees what: the centre (admin, regulator, rescue operator) the city; maintenance and
use-unit staff their own elevators (a drill-down outside them is not found); every other role 403.

Where the figures come from (docs/DASHBOARD.md):

* elevators, children of an area, map points and the map's bounds: ``registry.areas`` (GROUP BY in SQL);
* the KPI figures (tiles, trend, ranking): the analytics service (``analytics.service.kpi_table`` and
  ``trend``, the area's row through ``analytics.gather.area_table``) in the user's scope, the same
  figures as ``GET /api/v1/analytics/kpis`` and the report (unit staff's arrival figures count the
  incidents on their elevators, whoever was sent); the elevators of a use unit are ranked by the scoped
  incident search
  (``rescue.queries.all_matching``: the service has no figure per elevator);
* open incidents: ``rescue.queries.latest`` (open only, scoped); live states: the monitor's trouble list
  (``telemetry.monitoring.monitor_rows``); risk grades: ``risk.service.stored_grades``;
* district boundaries: the city's file (LIFTWATCH_DISTRICTS_GEOJSON) or Voronoi cells of the districts'
  centres (``registry.geo``), served at ``/dashboard/districts.geojson`` to this map and the monitor's.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from liftwatch.accounts.actor import Actor, Role
from liftwatch.analytics import gather
from liftwatch.analytics import service as analytics
from liftwatch.analytics.domain import Dimension, Figure, KpiRow, KpiTable, share
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.registry import areas, geo
from liftwatch.registry import queries as registry
from liftwatch.registry.areas import Area
from liftwatch.registry.domain import ElevatorStatus
from liftwatch.registry.geo import Box
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import IncidentStatus
from liftwatch.rescue.kpis import EntrapmentRate, KpiSettings, Target
from liftwatch.risk import service as risk
from liftwatch.telemetry.monitoring import monitor_rows
from liftwatch.web.console import RescueSettingsDep
from liftwatch.web.monitor import map_extent
from liftwatch.web.templating import (
    N_,
    PageActorDep,
    PageRoute,
    label,
    render,
    request_language,
    translate,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The city's view: every elevator and incident.
CENTRE = frozenset({Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR})
#: Who opens the dashboard: the centre, and unit staff on their own elevators.
DASHBOARD_ROLES = CENTRE | {Role.MAINTENANCE, Role.USE_UNIT}
#: How many months the trend shows (this one included).
TREND_MONTHS = 12
#: How long an app reuses a month before this one of the charts (its figures are settled).
SETTLED_TTL_S = 3600.0
#: At most this many months (of every scope and area) kept; the expired, else all, are dropped beyond it.
SETTLED_MAX = 5_000
#: At most this many open incidents read for the tile and the map.
OPEN_LIMIT = 2_000
#: At most this many bars in the ranking chart.
RANKING_LIMIT = 20
#: The KPIs the tiles and charts show: the analytics service reads only their source (the rescue
#: incidents), not the month's faults, complaints and inspections.
DASHBOARD_KPIS = ("entrapment", "on_time_arrival", "average_arrival")
#: Entrapments are ranked per this many elevators in service.
PER_ELEVATORS = 10_000
TEXT_MAX = 64
#: The map's colours: by state (worst first) and by risk grade (A lowest ... D highest).
STATES = ("incident", "critical", "major", "minor", "info", "offline", "stopped", "normal")
STATE_COLOURS = {
    "incident": "#8e1b6f",
    "critical": "#c0261b",
    "major": "#d9570f",
    "minor": "#e0b000",
    "info": "#2f6fd6",
    "offline": "#6b7785",
    "stopped": "#3a3f47",
    "normal": "#2e9d5b",
}
GRADES = ("A", "B", "C", "D", "")
GRADE_COLOURS = {"A": "#2e9d5b", "B": "#e0b000", "C": "#d9570f", "D": "#c0261b", "": "#9aa5b1"}


def require_reader(actor: Actor) -> None:
    if actor.role not in DASHBOARD_ROLES:
        raise Forbidden(f"role '{actor.role.value}' has no dashboard")


def parse_area(params: QueryParams) -> Area:
    """The drill-down from the query; a level without its parent is dropped (a street needs its district,
    a unit its street)."""
    district = params.get("district", "").strip()[:TEXT_MAX]
    street = params.get("street", "").strip()[:TEXT_MAX] if district else ""
    unit = params.get("unit", "").strip()[:TEXT_MAX] if street else ""
    return Area(district, street, unit)


def area_query(area: Area) -> str:
    return urlencode(
        [(k, v) for k, v in (("district", area.district), ("street", area.street), ("unit", area.unit)) if v]
    )


def _refuse_empty(area: Area, totals: areas.Totals) -> None:
    """An area with no elevators of the actor's (unknown, or not theirs) is not found, like every read
    outside the caller's scope."""
    if area.level != "city" and totals.elevators == 0:
        raise NotFound("no elevators of yours in this area")


def _checked_area(session: Session, actor: Actor, area: Area) -> areas.Totals:
    """The area's elevators in the actor's scope (:func:`_refuse_empty`)."""
    require_reader(actor)
    totals = areas.totals(session, actor, area)
    _refuse_empty(area, totals)
    return totals


# ---------------------------------------------------------------- the figures (analytics service)


@dataclass(frozen=True)
class Period:
    """The trend's months (local calendar) and this month: [start, now) and [month_start, now)."""

    start: datetime
    month_start: datetime
    now: datetime


def period_of(now: datetime, tz: ZoneInfo, months: int = TREND_MONTHS) -> Period:
    local = now.astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    first = local
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return Period(first.astimezone(now.tzinfo), local.astimezone(now.tzinfo), now)


def _month_names(period: Period, tz: ZoneInfo) -> list[str]:
    out: list[str] = []
    at = period.start.astimezone(tz)
    last = period.month_start.astimezone(tz)
    while (at.year, at.month) <= (last.year, last.month):
        out.append(f"{at.year:04d}-{at.month:02d}")
        at = (at.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def _in_area(area: Area, district: str, street: str, code: str, codes: dict[str, str] | None) -> bool:
    if codes is not None and code not in codes:
        return False
    if area.district and district != area.district:
        return False
    return not (area.street and street != area.street)


def _needs_codes(actor: Actor, area: Area) -> bool:
    """Whether the area's codes are read: for unit staff (their own elevators), and from the street
    down (the open incidents of a use unit); never the whole city's for the centre."""
    return actor.role not in CENTRE or area.level in ("street", "unit")


@dataclass
class Figures:
    """What the tiles and charts show for one area: the analytics service's row of the area this month
    (None: no elevators or events in it), and its table (the children's rows at the city level)."""

    area: Area
    totals: areas.Totals
    row: KpiRow | None
    table: KpiTable
    codes: dict[str, str] | None  # code -> use unit code, when read
    period: Period
    kpi_settings: KpiSettings
    centre: bool


def _area_table(
    session: Session, actor: Actor, clock: Clock, area: Area, settings: Settings, month: str | None = None
) -> tuple[KpiTable, KpiRow | None]:
    return gather.area_table(
        session,
        actor,
        clock,
        district=area.district,
        street=area.street,
        use_unit=area.unit,
        month=month,
        kpis=DASHBOARD_KPIS,
        settings=settings,
    )


def _overview(session: Session, actor: Actor, area: Area) -> areas.Overview:
    """The area's totals, children and bounds in one query (:func:`_refuse_empty`)."""
    require_reader(actor)
    found = areas.overview(session, actor, area)
    _refuse_empty(area, found.totals)
    return found


def figures(
    session: Session,
    actor: Actor,
    area: Area,
    clock: Clock,
    settings: Settings,
    rescue_settings: rescue.RescueSettings,
    totals: areas.Totals,
) -> Figures:
    """The area's figures; ``totals`` as the caller read them (:func:`_overview`)."""
    period = period_of(clock.now(), rescue_settings.tz)
    codes = areas.codes_in(session, actor, area) if _needs_codes(actor, area) else None
    table, row = _area_table(session, actor, clock, area, settings)
    ks = rescue.kpi_settings(rescue_settings)
    return Figures(area, totals, row, table, codes, period, ks, actor.role in CENTRE)


# ---------------------------------------------------------------- tiles


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _target_text(target: Target | None, percent: bool) -> str:
    if target is None:
        return "—"
    value = target.threshold * 100 if percent else target.threshold
    return f"{target.comparison} {value:g}{'%' if percent else ''}"


def _figure(f: Figures, kpi: str) -> Figure | None:
    return f.row.figures.get(kpi) if f.row is not None else None


def tiles(f: Figures, open_count: int) -> dict[str, Any]:
    """The month's tiles from the analytics service: each a value, its target and whether it is met
    (None: no figure yet). Unit staff's arrival tiles count the incidents on their elevators, whoever was
    sent, as the analytics API and their report do (``unit_basis``: the page says so)."""
    trapped = _figure(f, "entrapment")
    count = trapped.count if trapped else 0
    # the service's rate (per 10,000 a month over the month so far) on the rescue target's basis
    rate = EntrapmentRate(
        count,
        trapped.base if trapped else f.totals.in_service,
        max(f.table.covered_until - f.table.start, timedelta(seconds=1)),
        f.kpi_settings.entrapment_rate_target,
        f.kpi_settings.entrapment_target_basis,
    )
    out: dict[str, Any] = {
        "entrapments": {
            "value": count,
            "per_10k_month": trapped.value if trapped else None,
            "rate_per_month": rate.per_month,
            "rate_text": _pct(rate.per_year if rate.target_basis == "year" else rate.per_month),
            "target": str(rate.target) if rate.target else None,
            "target_text": _target_text(rate.target, percent=True),
            "basis": rate.target_basis,
            "met": rate.met,
        },
        "in_service": {"value": f.totals.in_service, "elevators": f.totals.elevators},
        "open_incidents": {"value": open_count},
        "unit_basis": not f.centre,
    }
    on_time = _figure(f, "on_time_arrival")
    target = f.kpi_settings.on_time_arrival_target
    out["on_time"] = {
        "value": on_time.value if on_time else None,
        "text": _pct(on_time.value if on_time else None),
        "numerator": on_time.count if on_time else 0,
        "denominator": on_time.base if on_time else 0,
        "target": target.threshold if target else None,
        "target_text": _target_text(target, percent=True),
        "met": on_time.met if on_time else None,
    }
    arrival = _figure(f, "average_arrival")
    a_target = f.kpi_settings.average_arrival_target
    minutes = arrival.value if arrival else None
    out["arrival"] = {
        "value": minutes,
        "text": "—" if minutes is None else f"{minutes:.1f}",
        "count": arrival.count if arrival else 0,
        "target": a_target.threshold if a_target else None,
        "target_text": _target_text(a_target, percent=False),
        "met": arrival.met if arrival else None,
    }
    return out


# ---------------------------------------------------------------- charts


@dataclass(frozen=True)
class Month:
    """One month of the charts: the area's entrapments and on-time arrival (analytics figures), and the
    entrapments of each child of the area (by its key) when the service groups by the child's level."""

    entrapment: Figure | None
    on_time: Figure | None
    children: dict[str, int]


#: The analytics dimension of the children of an area, where the service has one.
CHILD_DIMENSION: dict[str, Dimension] = {"city": "district", "district": "street"}


def _sum_share(rows: Iterable[KpiRow], kpi: str) -> Figure | None:
    """A share over several groups: their counts and bases added (the rescue rates count per incident)."""
    figs = [r.figures[kpi] for r in rows if kpi in r.figures]
    if not figs:
        return None
    return share(sum(f.count for f in figs), sum(f.base for f in figs), figs[0].target)


def _month_of(table: KpiTable, row: KpiRow | None, keys: set[str] | None) -> Month:
    """The area's month from a table grouped by its children (``keys``: the children's rows make the
    area; None: the area is the table's total) or from the area's own ``row``."""
    children = {r.key: r.figures["entrapment"].count for r in table.rows if "entrapment" in r.figures}
    if keys is None:
        area = row
    else:
        mine = [r for r in table.rows if r.key in keys]
        children = {k: n for k, n in children.items() if k in keys}
        trapped = sum(r.figures["entrapment"].count for r in mine if "entrapment" in r.figures)
        area = KpiRow(
            "",
            sum(r.elevators for r in mine),
            {
                "entrapment": Figure(trapped, sum(r.elevators for r in mine), None, "per_10k_month"),
                **{k: f for k in ("on_time_arrival",) if (f := _sum_share(mine, k)) is not None},
            },
        )
    figures = area.figures if area is not None else {}
    return Month(figures.get("entrapment"), figures.get("on_time_arrival"), children)


def _settled(
    request: Request, keys: dict[str, tuple[object, ...]], load: Callable[[list[str]], dict[str, Month]]
) -> dict[str, Month]:
    """Months before this one (by name, each with its cache key), reused by the app for
    :data:`SETTLED_TTL_S` (their figures are settled); those not kept are loaded together by ``load``."""
    cache: dict[tuple[object, ...], tuple[float, Month]] = (
        getattr(request.app.state, "dashboard_months", None) or {}
    )
    request.app.state.dashboard_months = cache
    now = time.monotonic()
    out: dict[str, Month] = {}
    for m, key in keys.items():
        hit = cache.get(key)
        if hit is not None and now - hit[0] <= SETTLED_TTL_S:
            out[m] = hit[1]
    missing = [m for m in keys if m not in out]
    if missing:
        loaded = load(missing)
        if len(cache) + len(missing) > SETTLED_MAX:
            for old in [k for k, (at, _) in cache.items() if now - at > SETTLED_TTL_S] or list(cache):
                del cache[old]
        for m in missing:
            cache[keys[m]] = (now, loaded[m])
            out[m] = loaded[m]
    return {m: out[m] for m in keys}


def months_of(
    request: Request,
    session: Session,
    actor: Actor,
    clock: Clock,
    f: Figures,
    settings: Settings,
    keys: list[str],
) -> dict[str, Month]:
    """The 12 months of the charts from the analytics service, this month's from the tiles' table.

    City: the tables by district (the total is the scope's trend, the rows rank the districts); a
    district: the tables by street (its streets' rows add up to it and rank them); a street or a use unit:
    the area's own row each month (its children are ranked from the incident search). The months before
    this one are cached per app, per scope and area (:func:`_settled`); those not cached are read
    together (``analytics.kpi_tables``: the settled ones in one query of the roll-up)."""
    names = _month_names(f.period, zone(settings.timezone))
    level = f.area.level
    dim = CHILD_DIMENSION.get(level)
    area_keys = None if level == "city" else set(keys)

    def row_month(row: KpiRow | None) -> Month:
        figures = row.figures if row else {}
        return Month(figures.get("entrapment"), figures.get("on_time_arrival"), {})

    def load(months: list[str]) -> dict[str, Month]:
        if dim is None:
            return {m: row_month(_area_table(session, actor, clock, f.area, settings, m)[1]) for m in months}
        narrow = f.area.district if dim == "street" else ""  # a district's streets, not the city's
        tables = analytics.kpi_tables(
            session,
            actor,
            clock,
            months=months,
            by=dim,
            district=narrow,
            kpis=DASHBOARD_KPIS,
            settings=settings,
        )
        return {m: _month_of(t, t.total, area_keys) for m, t in tables.items()}

    scope = (actor.role.value, actor.unit_id, f.area.district, f.area.street, f.area.unit)
    before = _settled(request, {m: (*scope, m, settings.timezone) for m in names[:-1]}, load)
    if dim is None:
        current = row_month(f.row)
    elif level == "city":
        current = _month_of(f.table, f.table.total, area_keys)
    else:
        current = load(names[-1:])[names[-1]]
    return {**before, names[-1]: current}


def trend(f: Figures, months: dict[str, Month]) -> list[dict[str, Any]]:
    """Entrapments and the on-time arrival rate per local calendar month, oldest first (12 months)."""
    out = []
    for m, month in months.items():
        on_time = month.on_time
        out.append(
            {
                "month": m,
                "entrapments": month.entrapment.count if month.entrapment else 0,
                "on_time": on_time.value if on_time else None,
                "on_time_met": on_time.met if on_time else None,
            }
        )
    return out


def _searched_entrapments(session: Session, actor: Actor, f: Figures) -> Counter[str]:
    """The trend's entrapments per child of a street (use unit) or of a use unit (elevator): the scoped
    incident search on the area's elevators, false alarms and cancelled calls left out (what the
    analytics service counts as rescues; it has no group per use unit or elevator)."""
    flt = rescue_queries.IncidentFilter(
        start=f.period.start, end=f.table.covered_until, district=f.area.district or None
    )
    codes = f.codes or {}
    counts: Counter[str] = Counter()
    for i in rescue_queries.all_matching(session, actor, flt):
        if i.registration_code not in codes:
            continue
        if i.status in (IncidentStatus.FALSE_ALARM.value, IncidentStatus.CANCELLED.value):
            continue
        counts[codes[i.registration_code] if f.area.level == "street" else i.registration_code] += 1
    return counts


def ranking(
    session: Session,
    actor: Actor,
    f: Figures,
    months: dict[str, Month],
    children: list[areas.AreaCount],
) -> list[dict[str, Any]]:
    """The area's children by entrapments over the trend's months per 10,000 elevators in service,
    highest first (at the unit level, its elevators by entrapments), at most :data:`RANKING_LIMIT`."""
    if f.area.level in CHILD_DIMENSION:
        counts: Counter[str] = Counter()
        for month in months.values():
            counts.update(month.children)
    else:
        counts = _searched_entrapments(session, actor, f)
    rows: list[dict[str, Any]] = []
    for child in children:
        n = counts.get(child.key, 0)
        rate = n * PER_ELEVATORS / child.in_service if child.in_service else None
        rows.append(
            {
                "key": child.key,
                "name": child.name or child.key,
                "entrapments": n,
                "in_service": child.in_service,
                "per_10k": None if rate is None else round(rate, 1),
            }
        )
    rows.sort(key=lambda r: (-(r["per_10k"] or 0.0), -r["entrapments"], r["key"]))
    return rows[:RANKING_LIMIT]


# ---------------------------------------------------------------- open incidents and map points


@dataclass(frozen=True)
class OpenIncident:
    id: int
    code: str
    status: str
    alarm_at: datetime
    lat: float | None
    lon: float | None
    place: str


def open_incidents(
    session: Session, actor: Actor, area: Area, codes: dict[str, str] | None
) -> list[OpenIncident]:
    """The open incidents on the area's elevators (unit staff: on their own elevators only)."""
    flt = rescue_queries.IncidentFilter(open_only=True, district=area.district or None)
    rows = rescue_queries.latest(session, actor, flt, OPEN_LIMIT)
    places = registry.places_of(session, sorted({i.registration_code for i in rows}))
    out = []
    for i in rows:
        place = places.get(i.registration_code)
        district, street = (place.district, place.street) if place else ("", "")
        if not _in_area(area, district, street, i.registration_code, codes):
            continue
        out.append(
            OpenIncident(
                i.id,
                i.registration_code,
                i.status,
                i.alarm_at,
                place.latitude if place else None,
                place.longitude if place else None,
                " · ".join(p for p in (district, street, place.address if place else "") if p),
            )
        )
    return out


def _states(session: Session, actor: Actor, incidents: Iterable[OpenIncident]) -> dict[str, str]:
    """code -> live state of the elevators in trouble: an open incident, else the worst open fault's
    severity or offline (the monitor's list)."""
    rows, _ = monitor_rows(session, actor)
    state = {row.registration_code: row.level for row in rows}
    for inc in incidents:
        state[inc.code] = "incident"
    return state


# ---------------------------------------------------------------- boundaries


def boundaries(request: Request, session: Session, path: str) -> tuple[bytes, bool]:
    """The GeoJSON of the district boundaries and whether it is the city's own file (cached per app)."""
    if path:
        file = Path(path)
        stamp = file.stat().st_mtime if file.exists() else 0.0
        cached: tuple[str, float, bytes] | None = getattr(request.app.state, "districts_file", None)
        if cached is None or cached[:2] != (path, stamp):
            cached = (path, stamp, geo.load_boundary_file(file))
            request.app.state.districts_file = cached
        return cached[2], True
    extent = map_extent(request, session)
    derived: tuple[registry.MapExtent, bytes] | None = getattr(request.app.state, "districts_derived", None)
    if derived is None or derived[0] is not extent:
        sites = [geo.Site(d.name, d.lat, d.lon) for d in extent.districts]
        box = geo.Box(extent.south, extent.west, extent.north, extent.east)
        body = json.dumps(geo.derived_boundaries(sites, box), ensure_ascii=False).encode()
        derived = (extent, body)
        request.app.state.districts_derived = derived
    return derived[1], False


@router.get("/dashboard/districts.geojson")
def districts_geojson(
    request: Request, actor: PageActorDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """The district boundaries for every signed-in user's maps (the dashboard's and the monitor's): the
    city's file as is, or the boundaries derived from the registry."""
    body, own = boundaries(request, session, settings.districts_geojson)
    headers = {"Cache-Control": "private, max-age=300", "X-Boundaries": "file" if own else "derived"}
    return Response(body, media_type="application/geo+json", headers=headers)


# ---------------------------------------------------------------- pages and data


def breadcrumb(session: Session, area: Area, lang: str) -> list[dict[str, str]]:
    crumbs = [{"name": translate("dashboard.city", lang), "href": "/dashboard"}]
    if area.district:
        crumbs.append({"name": area.district, "href": "/dashboard?" + area_query(Area(area.district))})
    if area.street:
        crumbs.append(
            {"name": area.street, "href": "/dashboard?" + area_query(Area(area.district, area.street))}
        )
    if area.unit:
        crumbs.append(
            {
                "name": areas.unit_name(session, area.unit) or area.unit,
                "href": "/dashboard?" + area_query(area),
            }
        )
    return crumbs


def child_href(area: Area, key: str) -> str:
    """Where a child of the area leads: the next drill-down level, or the elevator file."""
    level = area.level
    if level == "city":
        return "/dashboard?" + area_query(Area(key))
    if level == "district":
        return "/dashboard?" + area_query(Area(area.district, key))
    if level == "street":
        return "/dashboard?" + area_query(Area(area.district, area.street, key))
    return f"/elevators/{key}"


LEVEL_KEYS = {
    "city": N_("dashboard.level_city"),
    "district": N_("dashboard.level_district"),
    "street": N_("dashboard.level_street"),
    "unit": N_("dashboard.level_unit"),
}
CHILD_KEYS = {
    "city": N_("dashboard.children_districts"),
    "district": N_("dashboard.children_streets"),
    "street": N_("dashboard.children_units"),
    "unit": N_("dashboard.children_elevators"),
}
BASIS_KEYS = {"year": N_("dashboard.basis_year"), "month": N_("dashboard.basis_month")}
STATE_KEYS = {
    "incident": N_("dashboard.state_incident"),
    "critical": N_("dashboard.state_critical"),
    "major": N_("dashboard.state_major"),
    "minor": N_("dashboard.state_minor"),
    "info": N_("dashboard.state_info"),
    "offline": N_("dashboard.state_offline"),
    "stopped": N_("dashboard.state_stopped"),
    "normal": N_("dashboard.state_normal"),
}


def _state_labels(lang: str) -> dict[str, str]:
    return {s: translate(STATE_KEYS[s], lang) for s in STATES}


def _grade_labels(lang: str) -> dict[str, str]:
    out = {g: label("risk_grade", g, lang) for g in GRADES if g}
    out[""] = translate("dashboard.grade_none", lang)
    return out


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    rescue_settings: RescueSettingsDep,
) -> HTMLResponse:
    lang = request_language(request)
    area = parse_area(request.query_params)
    seen = _overview(session, actor, area)
    f = figures(session, actor, area, clock, settings, rescue_settings, seen.totals)
    incidents = open_incidents(session, actor, area, f.codes)
    children = seen.children
    own = seen.bounds
    bounds = [[own[0], own[1]], [own[2], own[3]]] if own else map_extent(request, session).bounds
    query = area_query(area)
    suffix = f"?{query}" if query else ""
    context: dict[str, Any] = {
        "area": area,
        "level": area.level,
        "level_text": translate(LEVEL_KEYS[area.level], lang),
        "basis_text": translate(
            BASIS_KEYS[rescue.kpi_settings(rescue_settings).entrapment_target_basis], lang
        ),
        "child_title": translate(CHILD_KEYS[area.level], lang),
        "tiles": tiles(f, len(incidents)),
        "crumbs": breadcrumb(session, area, lang),
        "children": [(c, child_href(area, c.key)) for c in children],
        "month": f.period.month_start.astimezone(rescue_settings.tz).strftime("%Y-%m"),
        "centre": actor.role in CENTRE,
        "states": [(s, STATE_COLOURS[s], _state_labels(lang)[s]) for s in STATES],
        "grades": [(g, GRADE_COLOURS[g], _grade_labels(lang)[g]) for g in GRADES],
        "config": {
            "charts": chart_data(request, session, actor, clock, settings, area, f, len(incidents), children),
            "points_url": "/dashboard/points.json" + suffix,
            "districts_url": "/dashboard/districts.geojson",
            "tile_url": settings.map_tile_url,
            "bounds": bounds,
            "district": area.district,
            "level": area.level,
            "lang": lang,
            "state_colours": STATE_COLOURS,
            "grade_colours": GRADE_COLOURS,
            "labels": {
                "entrapments": translate("dashboard.entrapments", lang),
                "on_time": translate("dashboard.on_time", lang),
                "on_time_target": translate(
                    "dashboard.on_time_target",
                    lang,
                    target=_target_text(rescue.kpi_settings(rescue_settings).on_time_arrival_target, True),
                ),
                "per_10k": translate("dashboard.per_10k", lang),
                "open_file": translate("monitor.open_file", lang),
                "states": _state_labels(lang),
                "grades": _grade_labels(lang),
                "incident": translate("dashboard.state_incident", lang),
                "too_many": translate("dashboard.too_many", lang, total="{total}"),
            },
        },
    }
    return render(request, "dashboard/index.html", context, actor=actor)


@router.get("/dashboard/charts.json")
def charts(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    rescue_settings: RescueSettingsDep,
) -> JSONResponse:
    """The charts' series for the area: the 12-month trend and the children's ranking this month."""
    area = parse_area(request.query_params)
    seen = _overview(session, actor, area)
    f = figures(session, actor, area, clock, settings, rescue_settings, seen.totals)
    incidents = open_incidents(session, actor, area, f.codes)
    children = seen.children
    body = chart_data(request, session, actor, clock, settings, area, f, len(incidents), children)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def chart_data(
    request: Request,
    session: Session,
    actor: Actor,
    clock: Clock,
    settings: Settings,
    area: Area,
    f: Figures,
    open_count: int,
    children: list[Any],
) -> dict[str, Any]:
    """The charts' series (and the tiles) from the area's figures: the page embeds them, so a dashboard
    load counts the area's figures once; ``/dashboard/charts.json`` answers the same for the API's
    callers and the tests."""
    months = months_of(request, session, actor, clock, f, settings, [c.key for c in children])
    rows = ranking(session, actor, f, months, children)
    return {
        "level": area.level,
        "month": f.table.period,
        "tiles": tiles(f, open_count),
        "trend": trend(f, months),
        "ranking": [dict(r, href=child_href(area, r["key"])) for r in rows],
        "ranking_by": "entrapments" if area.level == "unit" else "per_10k",
        "on_time_target": f.kpi_settings.on_time_arrival_target.threshold
        if f.kpi_settings.on_time_arrival_target
        else None,
    }


#: The map's grid when the browser does not say (rows, columns).
GRID_DEFAULT = (12, 12)


def parse_view(params: QueryParams) -> Box | None:
    """The map's view from ``?view=south,west,north,east`` (degrees), None when not given."""
    raw = params.get("view", "").strip()
    if not raw:
        return None
    try:
        south, west, north, east = (float(v) for v in raw.split(","))
    except ValueError:
        raise InvalidInput(FieldError("view", "four numbers: south,west,north,east")) from None
    if not all(math.isfinite(v) for v in (south, west, north, east)):
        raise InvalidInput(FieldError("view", "four finite numbers: south,west,north,east"))
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
        raise InvalidInput(FieldError("view", "south <= north within ±90, west <= east within ±180"))
    return Box(south, west, north, east)


def parse_grid(params: QueryParams) -> tuple[int, int]:
    """The grid of counted squares from ``?grid=rows,columns`` (each 1 to ``areas.GRID_MAX``)."""
    raw = params.get("grid", "").strip()
    if not raw:
        return GRID_DEFAULT
    try:
        rows, columns = (int(v) for v in raw.split(","))
    except ValueError:
        raise InvalidInput(FieldError("grid", "two whole numbers: rows,columns")) from None
    if not (1 <= rows <= areas.GRID_MAX and 1 <= columns <= areas.GRID_MAX):
        raise InvalidInput(FieldError("grid", f"rows and columns from 1 to {areas.GRID_MAX}"))
    return rows, columns


@router.get("/dashboard/points.json")
def points(request: Request, actor: PageActorDep, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """The map's points for the area: its elevators one by one (state and risk grade) where the view
    holds at most ``map_points_max`` of them, else squares of a grid over the view (``?view=``,
    ``?grid=``) with their elevators counted and the elevators in trouble one by one; and the open
    incidents."""
    area = parse_area(request.query_params)
    view, (rows, columns) = parse_view(request.query_params), parse_grid(request.query_params)
    totals = _checked_area(session, actor, area)
    most = settings.map_points_max
    codes = areas.codes_in(session, actor, area) if _needs_codes(actor, area) else None
    incidents = open_incidents(session, actor, area, codes)
    state = _states(session, actor, incidents)
    grid: list[areas.Cell] = []
    in_view = totals.located
    if totals.located > most:  # a big area: what the view holds decides
        box = view or _box(areas.bounds(session, actor, area))
        counted = areas.cells(session, actor, area, box, rows, columns) if box else []
        in_view = sum(c.elevators for c in counted)
        grid = counted if in_view > most else []
    else:
        view = None  # a small area's points are all sent once, whatever the view
    only = sorted(state) if grid else None
    found = areas.points(session, actor, area, most, view, only)
    grades = risk.stored_grades(session, [p.registration_code for p in found])
    elevators = [
        {
            "code": p.registration_code,
            "lat": round(p.lat, 6),
            "lon": round(p.lon, 6),
            "state": state.get(p.registration_code)
            or ("normal" if p.status == ElevatorStatus.IN_USE.value else "stopped"),
            "grade": grades.get(p.registration_code, ""),
        }
        for p in found
    ]
    body = {
        "total": totals.located,
        "in_view": in_view,
        "max": most,
        "mode": "cells" if grid else "points",
        "shown": len(elevators),
        "truncated": bool(grid),
        "cells": [
            {
                "lat": round(c.lat, 6),
                "lon": round(c.lon, 6),
                "count": c.elevators,
                "in_service": c.in_service,
                "bounds": [[c.bounds[0], c.bounds[1]], [c.bounds[2], c.bounds[3]]],
            }
            for c in grid
        ],
        "elevators": elevators,
        "incidents": [
            {"id": i.id, "code": i.code, "lat": i.lat, "lon": i.lon, "status": i.status, "place": i.place}
            for i in incidents
            if i.lat is not None and i.lon is not None
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _box(bounds: tuple[float, float, float, float] | None) -> Box | None:
    return Box(*bounds) if bounds else None
