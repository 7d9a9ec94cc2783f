"""The city dashboard (城市驾驶舱): KPI tiles against their targets for the month, the trend and ranking
charts (ECharts), and the map (Leaflet, no tile server needed) with the district boundaries and the
elevators and open incidents as clustered points, coloured by state or by risk grade.

Drill-down city -> district -> street -> use unit -> elevator is in the query (``?district=…&street=…
&unit=…``); every figure, chart and point narrows to the chosen area, and the elevator level links to the
elevator file. Who sees what: the centre (admin, regulator, rescue operator) the city; maintenance and
use-unit staff their own elevators (a drill-down outside them is not found); every other role 403.

Where the figures come from (docs/DASHBOARD.md):

* elevators, children of an area, map points and the map's bounds: ``registry.areas`` (GROUP BY in SQL);
* rescue figures for the centre: ``rescue.queries.incident_records`` over the last 12 months (cached per
  app: this month for :data:`RECORDS_TTL_S`, the settled months before it for :data:`PAST_TTL_S`) and the
  pure formulas of ``rescue.kpis`` (``compute_kpis`` for the month, ``kpis_by(..., "month")`` for the
  trend); unit staff read their elevators' incidents through the scoped
  search (``rescue.queries.all_matching``) and get the entrapment counts, not the centre's arrival rates;
* open incidents: ``rescue.queries.latest`` (open only, scoped); live states: the monitor's trouble list
  (``telemetry.monitoring.monitor_rows``); risk grades: ``risk.service.stored_grades``;
* district boundaries: the city's file (LIFTWATCH_DISTRICTS_GEOJSON) or Voronoi cells of the districts'
  centres (``registry.geo``), served at ``/dashboard/districts.geojson`` to this map and the monitor's.
"""

from __future__ import annotations

import json
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
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.registry import areas, geo
from liftwatch.registry import queries as registry
from liftwatch.registry.areas import Area
from liftwatch.registry.domain import ElevatorStatus
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import IncidentRecord, IncidentStatus
from liftwatch.rescue.kpis import (
    EntrapmentRate,
    KpiSettings,
    Target,
    compute_kpis,
    kpis_by,
    month_key,
    month_keys,
)
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
#: How long the centre's records of the months before this one are reused by an app (settled figures).
PAST_TTL_S = 3600.0
#: How long the centre's records of this month are reused by an app (a big city's year of incidents
#: takes seconds to load; this month's are a twelfth of them).
RECORDS_TTL_S = 120.0
#: At most this many elevators on the map at once; a bigger area asks to drill down.
POINT_LIMIT = 20_000
#: At most this many open incidents read for the tile and the map.
OPEN_LIMIT = 2_000
#: At most this many bars in the ranking chart.
RANKING_LIMIT = 20
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


def _checked_area(session: Session, actor: Actor, area: Area) -> areas.Totals:
    """The area's elevators in the actor's scope; an area with none (unknown, or not the actor's) is not
    found, like every read outside the caller's scope."""
    require_reader(actor)
    totals = areas.totals(session, actor, area)
    if area.level != "city" and totals.elevators == 0:
        raise NotFound("no elevators of yours in this area")
    return totals


# ---------------------------------------------------------------- the entrapments and rescue records


@dataclass(frozen=True)
class Entrapment:
    """One entrapment (困人: an incident neither a false alarm nor a cancelled call) and where."""

    code: str
    district: str
    street: str
    alarm_at: datetime


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


def _cached(
    request: Request,
    key: tuple[str, datetime, datetime],
    ttl: float,
    load: Callable[[], list[IncidentRecord]],
) -> list[IncidentRecord]:
    cache: dict[tuple[str, datetime, datetime], tuple[float, list[IncidentRecord]]] = (
        getattr(request.app.state, "dashboard_records", None) or {}
    )
    request.app.state.dashboard_records = cache
    hit = cache.get(key)
    now = time.monotonic()
    if hit is None or now - hit[0] > ttl:
        hit = (now, load())
        for old in [k for k in cache if k[0] == key[0] and k[1] != key[1] and k[2] == key[2]]:
            del cache[old]  # a finished month's records are replaced by the new month's
        cache[key] = hit
    return hit[1]


def _centre_records(
    request: Request, session: Session, actor: Actor, period: Period, district: str
) -> list[IncidentRecord]:
    """The rescue records of the trend's months (a district's, or the city's), cached per app: the months
    before this one for :data:`PAST_TTL_S` (they are settled), this month for :data:`RECORDS_TTL_S`."""

    def load(start: datetime, end: datetime) -> Callable[[], list[IncidentRecord]]:
        return lambda: rescue_queries.incident_records(session, actor, start, end, district or None)

    past: list[IncidentRecord] = []
    if period.start < period.month_start:
        key = (district, period.start, period.month_start)
        past = _cached(request, key, PAST_TTL_S, load(period.start, period.month_start))
    this = _cached(
        request,
        (district, period.month_start, period.month_start),
        RECORDS_TTL_S,
        load(period.month_start, period.now),
    )
    return past + [r for r in this if r.alarm_at < period.now]


def _in_area(area: Area, district: str, street: str, code: str, codes: dict[str, str] | None) -> bool:
    if codes is not None and code not in codes:
        return False
    if area.district and district != area.district:
        return False
    return not (area.street and street != area.street)


def _needs_codes(actor: Actor, area: Area) -> bool:
    """Whether the area's codes are read: for unit staff (their own elevators), and from the street
    down (the ranking of a street groups by use unit); never the whole city's for the centre."""
    return actor.role not in CENTRE or area.level in ("street", "unit")


@dataclass
class Figures:
    """What the tiles and charts show for one area."""

    area: Area
    totals: areas.Totals
    records: list[IncidentRecord] | None  # the centre's; None for unit staff
    entrapments: list[Entrapment]
    codes: dict[str, str] | None  # code -> use unit code, when read
    period: Period
    kpi_settings: KpiSettings


def figures(
    request: Request,
    session: Session,
    actor: Actor,
    area: Area,
    now: datetime,
    settings: rescue.RescueSettings,
) -> Figures:
    totals = _checked_area(session, actor, area)
    ks = rescue.kpi_settings(settings)
    period = period_of(now, settings.tz)
    codes = areas.codes_in(session, actor, area) if _needs_codes(actor, area) else None
    records: list[IncidentRecord] | None = None
    if actor.role in CENTRE:
        records = [
            r
            for r in _centre_records(request, session, actor, period, area.district)
            if _in_area(area, r.district, r.street, r.registration_code, codes)
        ]
        trapped = [
            Entrapment(r.registration_code, r.district, r.street, r.alarm_at)
            for r in records
            if not r.false_alarm and not r.cancelled
        ]
    else:
        flt = rescue_queries.IncidentFilter(
            start=period.start, end=period.now, district=area.district or None
        )
        rows = [
            i
            for i in rescue_queries.all_matching(session, actor, flt)
            if i.status not in (IncidentStatus.FALSE_ALARM.value, IncidentStatus.CANCELLED.value)
        ]
        places = registry.places_of(session, sorted({i.registration_code for i in rows}))
        trapped = []
        for i in rows:
            place = places.get(i.registration_code)
            district, street = (place.district, place.street) if place else ("", "")
            if _in_area(area, district, street, i.registration_code, codes):
                trapped.append(Entrapment(i.registration_code, district, street, i.alarm_at))
    return Figures(area, totals, records, trapped, codes, period, ks)


# ---------------------------------------------------------------- tiles


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _target_text(target: Target | None, percent: bool) -> str:
    if target is None:
        return "—"
    value = target.threshold * 100 if percent else target.threshold
    return f"{target.comparison} {value:g}{'%' if percent else ''}"


def tiles(f: Figures, open_count: int) -> dict[str, Any]:
    """The month's tiles: each a value, its target and whether it is met (None: no figure yet)."""
    p = f.period
    month = [e for e in f.entrapments if e.alarm_at >= p.month_start]
    rate = EntrapmentRate(
        len(month),
        f.totals.in_service,
        p.now - p.month_start if p.now > p.month_start else timedelta(seconds=1),
        f.kpi_settings.entrapment_rate_target,
        f.kpi_settings.entrapment_target_basis,
    )
    out: dict[str, Any] = {
        "entrapments": {
            "value": len(month),
            "rate_per_month": rate.per_month,
            "rate_text": _pct(rate.per_year if rate.target_basis == "year" else rate.per_month),
            "target": str(rate.target) if rate.target else None,
            "target_text": _target_text(rate.target, percent=True),
            "basis": rate.target_basis,
            "met": rate.met,
        },
        "in_service": {"value": f.totals.in_service, "elevators": f.totals.elevators},
        "open_incidents": {"value": open_count},
        "on_time": None,
        "arrival": None,
    }
    if f.records is not None:
        k = compute_kpis(
            [r for r in f.records if r.alarm_at >= p.month_start],
            f.totals.in_service,
            p.month_start,
            max(p.now, p.month_start + timedelta(seconds=1)),
            f.kpi_settings,
            as_of=p.now,
        )
        on_time, arrival = k.on_time_arrival, k.average_arrival
        out["on_time"] = {
            "value": on_time.value,
            "text": _pct(on_time.value),
            "numerator": on_time.numerator,
            "denominator": on_time.denominator,
            "target": on_time.target.threshold if on_time.target else None,
            "target_text": _target_text(on_time.target, percent=True),
            "met": on_time.met,
        }
        out["arrival"] = {
            "value": arrival.minutes,
            "text": "—" if arrival.minutes is None else f"{arrival.minutes:.1f}",
            "count": arrival.count,
            "target": arrival.target.threshold if arrival.target else None,
            "target_text": _target_text(arrival.target, percent=False),
            "met": arrival.met,
        }
    return out


# ---------------------------------------------------------------- charts


def trend(f: Figures) -> list[dict[str, Any]]:
    """Entrapments and the on-time arrival rate per local calendar month, oldest first (12 months)."""
    p, ks = f.period, f.kpi_settings
    end = max(p.now, p.month_start + timedelta(seconds=1))
    months = month_keys(p.start, end, ks)
    if f.records is not None:
        by_month = kpis_by(
            f.records, "month", dict.fromkeys(months, f.totals.in_service), p.start, end, ks, p.now
        )
        return [
            {
                "month": m,
                "entrapments": by_month[m].rescues,
                "on_time": by_month[m].on_time_arrival.value,
                "on_time_met": by_month[m].on_time_arrival.met,
            }
            for m in months
        ]
    tz = ZoneInfo(ks.timezone)
    counts = Counter(month_key(e.alarm_at, tz) for e in f.entrapments)
    return [
        {"month": m, "entrapments": counts.get(m, 0), "on_time": None, "on_time_met": None} for m in months
    ]


def _child_key(f: Figures, e: Entrapment) -> str:
    level = f.area.level
    if level == "city":
        return e.district
    if level == "district":
        return e.street
    if level == "street":
        return (f.codes or {}).get(e.code, "")
    return e.code


def ranking(session: Session, actor: Actor, f: Figures) -> list[dict[str, Any]]:
    """The area's children by entrapments over the trend's months per 10,000 elevators in service,
    highest first (at the unit level, its elevators by entrapments), at most :data:`RANKING_LIMIT`."""
    counts = Counter(_child_key(f, e) for e in f.entrapments)
    rows: list[dict[str, Any]] = []
    for child in areas.children(session, actor, f.area):
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
    f = figures(request, session, actor, area, clock.now(), rescue_settings)
    incidents = open_incidents(session, actor, area, f.codes)
    children = areas.children(session, actor, area)
    own = areas.bounds(session, actor, area)
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
            "charts_url": "/dashboard/charts.json" + suffix,
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
                "too_many": translate("dashboard.too_many", lang, shown="{shown}", total="{total}"),
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
    rescue_settings: RescueSettingsDep,
) -> JSONResponse:
    """The charts' series for the area: the 12-month trend and the children's ranking."""
    area = parse_area(request.query_params)
    f = figures(request, session, actor, area, clock.now(), rescue_settings)
    incidents = open_incidents(session, actor, area, f.codes)
    body = {
        "level": area.level,
        "tiles": tiles(f, len(incidents)),
        "trend": trend(f),
        "ranking": [dict(r, href=child_href(area, r["key"])) for r in ranking(session, actor, f)],
        "ranking_by": "entrapments" if area.level == "unit" else "per_10k",
        "on_time_target": f.kpi_settings.on_time_arrival_target.threshold
        if f.kpi_settings.on_time_arrival_target
        else None,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/dashboard/points.json")
def points(request: Request, actor: PageActorDep, session: SessionDep) -> JSONResponse:
    """The map's points for the area: elevators (state and risk grade) and open incidents."""
    area = parse_area(request.query_params)
    totals = _checked_area(session, actor, area)
    codes = areas.codes_in(session, actor, area) if _needs_codes(actor, area) else None
    incidents = open_incidents(session, actor, area, codes)
    rows = areas.points(session, actor, area, POINT_LIMIT)
    state = _states(session, actor, incidents)
    grades = risk.stored_grades(session, [p.registration_code for p in rows])
    elevators = [
        {
            "code": p.registration_code,
            "lat": round(p.lat, 6),
            "lon": round(p.lon, 6),
            "state": state.get(p.registration_code)
            or ("normal" if p.status == ElevatorStatus.IN_USE.value else "stopped"),
            "grade": grades.get(p.registration_code, ""),
        }
        for p in rows
    ]
    body = {
        "total": totals.located,
        "shown": len(elevators),
        "truncated": totals.located > len(elevators),
        "elevators": elevators,
        "incidents": [
            {"id": i.id, "code": i.code, "lat": i.lat, "lon": i.lon, "status": i.status, "place": i.place}
            for i in incidents
            if i.lat is not None and i.lon is not None
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
