"""Remote monitoring pages (远程监测): the live overview of the elevators in the user's scope with its map,
and the live-status panel and fault history of one elevator file.

Scope comes from ``registry.queries.scoped_codes`` with the signed-in actor, and every query here is limited
to those codes (None: the whole registry, for roles that read everything). The overview has to stay fast at
city scale (300,000 elevators): it counts with grouped queries on ``live_status`` and ``faults`` and lists
only the elevators in fault or offline, at most :data:`LIST_LIMIT` of them. The counts and the list refresh
every 5 s through htmx; the map markers through :func:`markers` (JSON).

The read queries (counts, the trouble list) are the telemetry domain's (``telemetry/monitoring.py``); the
map's first view (bounds) is the registry's extent (``registry.queries.map_extent``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import as_utc
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.registry import queries as registry
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.faults import FaultType
from liftwatch.telemetry.monitoring import (
    LIST_LIMIT,
    OFFLINE,
    SEVERITY_ORDER,
    MonitorRow,
    Scope,
    monitor_counts,
    monitor_rows,
)
from liftwatch.web.templating import (
    STATIC_DIR,
    PageActorDep,
    PageRoute,
    city_time,
    is_partial,
    label,
    render,
    request_language,
    translate,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Leaflet's script, style and images, copied from node_modules like htmx (see web/pages.py).
LEAFLET_DIR = STATIC_DIR / "vendor" / "leaflet"


@dataclass
class MonitorFilter:
    """The list's filters as typed; an unknown value is reported and ignored."""

    fault_type: str = ""
    severity: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: QueryParams) -> MonitorFilter:
        form = cls(
            fault_type=params.get("fault_type", "").strip()[:40],
            severity=params.get("severity", "").strip()[:16],
        )
        if form.fault_type and form.fault_type not in {f.value for f in FaultType}:
            form.errors["fault_type"] = "search.invalid_choice"
            form.fault_type = ""
        if form.severity and form.severity not in SEVERITY_ORDER:
            form.errors["severity"] = "search.invalid_choice"
            form.severity = ""
        return form

    @property
    def active(self) -> bool:
        return bool(self.fault_type or self.severity)

    def query(self) -> str:
        return urlencode(
            [(k, v) for k, v in (("fault_type", self.fault_type), ("severity", self.severity)) if v]
        )


# ---------------------------------------------------------------- formatting


def format_duration(seconds: float, lang: str) -> str:
    """A coarse, readable length of time: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    s = max(0, int(seconds))
    if s < 60:
        return translate("duration.s", lang, s=s)
    m = s // 60
    if m < 60:
        return translate("duration.m", lang, m=m)
    h, m = divmod(m, 60)
    if h < 24:
        return translate("duration.hm", lang, h=h, m=m)
    d, h = divmod(h, 24)
    return translate("duration.dh", lang, d=d, h=h)


def local_time(value: datetime) -> str:
    return city_time(value, "%Y-%m-%d %H:%M:%S")


def _place(row: MonitorRow) -> str:
    return " · ".join(p for p in (row.district, row.street, row.address) if p)


# ---------------------------------------------------------------- pages

#: How long the map's extent (one grouped query over the whole registry) is reused by an app.
MAP_EXTENT_TTL_S = 60.0


def map_extent(request: Request, session: Session) -> registry.MapExtent:
    """The registry's extent for the map, cached per app for :data:`MAP_EXTENT_TTL_S` (it moves only when
    elevators are registered far away or taken out of use)."""
    cached: tuple[float, registry.MapExtent] | None = getattr(request.app.state, "map_extent", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > MAP_EXTENT_TTL_S:
        cached = (now, registry.map_extent(session))
        request.app.state.map_extent = cached
    return cached[1]


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    """The overview; an htmx request (the 5 s poll or the filter form) gets the counts and the list only."""
    flt = MonitorFilter.parse(request.query_params)
    now = clock.now()
    lang = request_language(request)
    scope = Scope.of(session, actor)
    rows, total = monitor_rows(session, actor, flt.fault_type, flt.severity, LIST_LIMIT, scope)
    context: dict[str, Any] = {
        "form": flt,
        "counts": monitor_counts(session, actor, clock, scope),
        "rows": rows,
        "total": total,
        "limit": LIST_LIMIT,
        "updated": local_time(now),
        "age": lambda since: format_duration((now - since).total_seconds(), lang),
        "fault_types": [f.value for f in FaultType],
        "severities": list(SEVERITY_ORDER),
        "partial": is_partial(request),
        "levels": severity_levels(),
    }
    headers = {"Vary": "HX-Request"}
    if context["partial"]:
        if request.headers.get("hx-trigger") == "monitor-filters":
            headers["HX-Push-Url"] = "/monitor" + (f"?{flt.query()}" if flt.query() else "")
        return render(request, "monitor/_live.html", context, actor=actor, headers=headers)
    extent = map_extent(request, session)
    context["map_config"] = {
        "markers_url": "/monitor/markers.json",
        "tile_url": settings.map_tile_url,
        "bounds": extent.bounds,
        # the district boundaries (the city's file, or derived from the registry: web/dashboard.py)
        "districts_url": "/dashboard/districts.geojson",
        "labels": {
            "open_file": translate("monitor.open_file", lang),
            "since": translate("monitor.since", lang),
            "maintenance_unit": label("elevator", "maintenance_unit", lang),
        },
    }
    return render(request, "monitor/index.html", context, actor=actor, headers=headers)


@router.get("/monitor/markers.json")
def markers(request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep) -> JSONResponse:
    """The map's markers: the listed elevators that have coordinates, with what their popup shows."""
    flt = MonitorFilter.parse(request.query_params)
    lang = request_language(request)
    rows, total = monitor_rows(session, actor, flt.fault_type, flt.severity, LIST_LIMIT)
    out = []
    for row in rows:
        if row.latitude is None or row.longitude is None:
            continue
        level = row.level
        out.append(
            {
                "code": row.registration_code,
                "lat": row.latitude,
                "lon": row.longitude,
                "level": level,
                "level_label": translate("monitor.offline", lang)
                if level == OFFLINE
                else label("severity", level, lang),
                "faults": [label("fault_type", t, lang) for t in row.fault_types],
                "since": local_time(row.since),
                "place": _place(row),
                "unit": row.maintenance_unit,
                "url": f"/elevators/{row.registration_code}",
            }
        )
    body = {
        "updated": local_time(clock.now()),
        "total": total,
        "listed": len(rows),
        "without_coordinates": len(rows) - len(out),
        "markers": out,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- the elevator file


@dataclass(frozen=True)
class FaultRow:
    fault: telemetry.StoredFault
    open: bool
    duration: str


def file_context(
    session: Session, actor: Actor, registration_code: str, clock: Any, lang: str
) -> dict[str, Any]:
    """What the elevator file adds for monitoring: the live panel and the fault history (newest first)."""
    now = clock.now()
    history = telemetry.fault_history(session, actor, registration_code)
    faults = [
        FaultRow(
            fault=f,
            open=f.cleared_at is None,
            duration=format_duration(
                ((as_utc(f.cleared_at) if f.cleared_at else now) - as_utc(f.started_at)).total_seconds(), lang
            ),
        )
        for f in history
    ]
    return {**live_context(session, actor, registration_code), "fault_rows": faults}


def live_context(session: Session, actor: Actor, registration_code: str) -> dict[str, Any]:
    live = telemetry.live_status(session, actor, registration_code)  # NotFound outside scope
    return {
        "code": registration_code,
        "live": live,
        "last_seen": local_time(live.last_seen_at) if live is not None else "",
        "open_faults": telemetry.open_faults(session, registration_code),
    }


@router.get("/elevators/{registration_code}/live", response_class=HTMLResponse)
def elevator_live(
    request: Request, registration_code: str, actor: PageActorDep, session: SessionDep
) -> HTMLResponse:
    """The live-status panel of one elevator file, polled every 5 s."""
    context = live_context(session, actor, registration_code)
    return render(
        request, "monitor/_elevator_live.html", context, actor=actor, headers={"Cache-Control": "no-store"}
    )


def severity_levels() -> Sequence[str]:
    """The legend's entries, worst first, then offline."""
    return (*SEVERITY_ORDER, OFFLINE)
