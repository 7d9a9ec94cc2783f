"""Rescue reports (救援报表): the incident search with its filters and pages, the operator's work queues
(call-backs due, causes missing, stale incidents) and the exports (Excel and CSV of incidents and KPIs).

The search is everyone's who reads incidents, scoped by ``rescue.queries``: the centre sees all, a crew
its own, maintenance staff their unit's, a use unit (使用单位) the incidents on its elevators, read-only
(no forms, no queues; every write is refused by the service anyway). The queues are the centre's:
operators work through them here (a call-back with what the caller said, the cause the unit phoned in),
regulators read them. The export buttons link to the API routes with the page's filters and language, so
a file holds what the page lists. Every write goes through ``rescue.service``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeAlias
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import as_utc
from liftwatch.core.errors import Conflict, InvalidInput
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.registry import queries as registry
from liftwatch.rescue import queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, IncidentStatus, Level
from liftwatch.web import complaints as complaint_pages
from liftwatch.web import inspection as inspection_pages
from liftwatch.web.console import RescueSettingsDep
from liftwatch.web.templating import (
    N_,
    PageActorDep,
    PageRoute,
    city_time,
    render,
    request_language,
    screen_tz,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The records the rescue service and queries hand out (their tables are the domain's own).
Incident: TypeAlias = rescue.StoredIncident
Dispatch: TypeAlias = rescue.StoredDispatch

PAGE_SIZE = 25
QUEUE_PAGE_SIZE = 20
TEXT_MAX = 64
NOTE_MAX = 2000
#: Who may export the KPIs (the statistics the service gives the centre only).
KPI_ROLES = frozenset({Role.ADMIN, Role.RESCUE_OPERATOR, Role.REGULATOR})
#: Who reads the first-attempt inspection pass rate beside the search (the centre's supervisors).
INSPECTION_KPI_ROLES = frozenset({Role.ADMIN, Role.REGULATOR})
#: The forms on the queues: operators only (regulators read).
ACTING_ROLES = rescue.OPERATORS


def can_act(actor: Actor) -> bool:
    return actor.role in ACTING_ROLES


# ---------------------------------------------------------------- the search form


@dataclass
class SearchForm:
    """The search as typed (kept as text to show it back), with per-field errors (page-text keys) for
    values the filter cannot use: those are left out rather than failing the whole search."""

    first: str = ""  # from: a day on the city's clock
    last: str = ""  # to: the last day included
    district: str = ""
    unit: str = ""
    level: str = ""
    status: str = ""
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    FIELDS = (("from", "first"), ("to", "last"), ("district", "district"), ("unit", "unit"),
              ("level", "level"), ("status", "status"))  # fmt: skip

    @classmethod
    def parse(cls, params: QueryParams) -> SearchForm:
        form = cls()
        for param, name in cls.FIELDS:
            setattr(form, name, params.get(param, "").strip()[:TEXT_MAX])
        try:
            form.page = max(1, min(int(params.get("page", "1")), 1_000_000))
        except ValueError:
            form.page = 1
        for name in ("first", "last"):
            if getattr(form, name) and form._day(name) is None:
                form.errors[name] = N_("reports.invalid_date")
        first, last = form._day("first"), form._day("last")
        if first and last and last < first:
            form.errors["last"] = N_("reports.to_before_from")
        if form.level and form.level not in {lv.value for lv in Level}:
            form.errors["level"] = N_("search.invalid_choice")
        if form.status and form.status not in {s.value for s in IncidentStatus}:
            form.errors["status"] = N_("search.invalid_choice")
        return form

    def _day(self, name: str) -> date | None:
        try:
            day = date.fromisoformat(getattr(self, name))
        except ValueError:
            return None
        return day if date.min < day < date.max else None  # the calendar's ends have no day after/before

    def _ok(self, name: str) -> str:
        return getattr(self, name) if name not in self.errors else ""

    def to_filter(self) -> queries.IncidentFilter:
        first = self._day("first") if "first" not in self.errors else None
        last = self._day("last") if "last" not in self.errors else None
        start, end = queries.day_period(first, last, screen_tz())
        return queries.IncidentFilter(
            start=start,
            end=end,
            district=self.district or None,
            unit=self.unit or None,
            level=Level(self.level) if self._ok("level") else None,
            statuses=(IncidentStatus(self.status),) if self._ok("status") else (),
        )

    def pairs(self) -> list[tuple[str, str]]:
        """The usable filters as the API and this page name them."""
        return [(param, self._ok(name)) for param, name in self.FIELDS if self._ok(name)]

    def query(self, page: int | None = None) -> str:
        pairs = self.pairs()
        if page and page > 1:
            pairs.append(("page", str(page)))
        return urlencode(pairs)

    def export_url(self, what: str, file_format: str, lang: str, sheet: str = "") -> str:
        """The API's export of this search (KPIs: the period, district and unit; levels and statuses are
        groupings there, not filters)."""
        pairs = self.pairs()
        if what == "kpis":
            pairs = [(k, v) for k, v in pairs if k in ("from", "to", "district", "unit")]
        pairs += [("format", file_format), ("lang", "zh" if lang == "zh-CN" else "en")]
        if sheet:
            pairs.append(("sheet", sheet))
        return f"/api/v1/rescue/exports/{what}?{urlencode(pairs)}"


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, result: queries.IncidentPage) -> Pager:
        return cls(result.page, max(1, math.ceil(result.total / result.size)), result.total)


@dataclass(frozen=True)
class Row:
    """One incident as the lists show it."""

    incident: Incident
    place: str
    unit_name: str
    alarm: str
    arrival_min: int | None  # first arrival after the alarm
    released: str


def rows_of(session: Session, incidents: list[Incident]) -> list[Row]:
    places = registry.places_of(session, sorted({i.registration_code for i in incidents}))
    names = registry.unit_names(session, {i.maintenance_unit for i in incidents if i.maintenance_unit})
    out = []
    for inc in incidents:
        p = places.get(inc.registration_code)
        arrived = as_utc(inc.arrived_at) if inc.arrived_at else None
        out.append(
            Row(
                incident=inc,
                place=" · ".join(x for x in (p.district, p.street, p.address) if x) if p else "",
                unit_name=names.get(inc.maintenance_unit, inc.maintenance_unit),
                alarm=city_time(inc.alarm_at),
                arrival_min=int((arrived - as_utc(inc.alarm_at)).total_seconds() // 60) if arrived else None,
                released=city_time(inc.released_at),
            )
        )
    return out


def _tabs(actor: Actor) -> dict[str, Any]:
    return {"show_queues": actor.role in queries.QUEUE_READERS, "can_act": can_act(actor)}


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    """The incident search: filters, one page of results, the export buttons."""
    form = SearchForm.parse(request.query_params)
    result = queries.search(session, actor, form.to_filter(), form.page, PAGE_SIZE)  # 403 with no scope
    lang = request_language(request)
    places = registry.places(session, actor)
    context: dict[str, Any] = {
        **_tabs(actor),
        "form": form,
        "rows": rows_of(session, result.items),
        "pager": Pager.of(result),
        "districts": sorted(places),
        "levels": [lv.value for lv in Level],
        "statuses": [s.value for s in IncidentStatus],
        "read_only": actor.role is Role.USE_UNIT,
        "kpi_exports": actor.role in KPI_ROLES,
        # the inspection figure of the period (检验合格率, docs/KPIS.md): inspection's, not rescue's
        "inspection_kpi": inspection_pages.pass_rate_figure(
            session,
            actor,
            form._day("first") if "first" not in form.errors else None,
            form._day("last") if "last" not in form.errors else None,
            settings,
            clock.now().astimezone(screen_tz()).date(),
            form.unit or None,
            form.district or None,
        )
        if actor.role in INSPECTION_KPI_ROLES
        else None,
        # the complaint rate of the period (投诉率 per 10,000 elevators a month, docs/KPIS.md): complaints'
        "complaint_kpi": complaint_pages.complaint_rate_figure(
            session,
            actor,
            form._day("first") if "first" not in form.errors else None,
            form._day("last") if "last" not in form.errors else None,
            clock.now().astimezone(screen_tz()).date(),
        ),
        "exports": {
            "incidents_xlsx": form.export_url("incidents", "xlsx", lang),
            "incidents_csv": form.export_url("incidents", "csv", lang),
            "dispatches_csv": form.export_url("incidents", "csv", lang, "dispatches"),
            "kpis_xlsx": form.export_url("kpis", "xlsx", lang),
            "kpis_csv": form.export_url("kpis", "csv", lang),
        },
    }
    return render(request, "reports/index.html", context, actor=actor)


@router.get("/reports/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request, incident_id: int, actor: PageActorDep, session: SessionDep
) -> HTMLResponse:
    """One incident, read-only: its stages and every dispatch (404 outside the reader's scope)."""
    inc = rescue.get_incident(session, actor, incident_id)
    dispatches = rescue.dispatches_of(session, actor, inc.id)
    units = registry.unit_names(session, {d.unit for d in dispatches} | {inc.maintenance_unit})
    crews = rescue.crews_by_id(session, sorted({d.crew_id for d in dispatches if d.crew_id}))
    stages = [
        (name, city_time(getattr(inc, f"{name}_at"), "%Y-%m-%d %H:%M:%S"))
        for name in ("alarm", "dispatched", "acknowledged", "arrived", "released", "completed")
    ]
    context = {
        **_tabs(actor),
        "inc": inc,
        "row": rows_of(session, [inc])[0],
        "stages": stages,
        "dispatches": [
            {
                "d": d,
                "unit": rescue.FIRE_SERVICE if d.unit == rescue.FIRE_SERVICE else units.get(d.unit, d.unit),
                "crew": crews[d.crew_id].name if d.crew_id in crews else "",
                "times": [
                    city_time(t, "%m-%d %H:%M")
                    for t in (d.dispatched_at, d.acknowledged_at, d.arrived_at, d.released_at, d.withdrawn_at)
                ],
            }
            for d in dispatches
        ],
        "callback": city_time(inc.callback_at),
    }
    return render(request, "reports/incident.html", context, actor=actor)


# ---------------------------------------------------------------- the queues


def _page_no(value: str | None) -> int:
    try:
        return max(1, min(int(value or "1"), 1_000_000))
    except ValueError:
        return 1


@dataclass(frozen=True)
class StaleRow:
    row: Row
    overdue: bool
    unsettled: bool
    minutes_past: int


@router.get("/reports/queues", response_class=HTMLResponse)
def queues_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: RescueSettingsDep
) -> HTMLResponse:
    """The centre's work queues: call-backs due, causes missing, stale incidents; each paged."""
    params = request.query_params
    callbacks = queries.callbacks_due(session, actor, _page_no(params.get("cb_page")), QUEUE_PAGE_SIZE)
    causes = queries.causes_missing(session, actor, _page_no(params.get("cm_page")), QUEUE_PAGE_SIZE)
    stale = queries.stale_open_incidents(session, clock, settings)
    stale_rows = rows_of(session, [s.incident for s in stale])
    done = params.get("done", "")
    context: dict[str, Any] = {
        **_tabs(actor),
        "callbacks": rows_of(session, callbacks.items),
        "callbacks_pager": Pager.of(callbacks),
        "causes": rows_of(session, causes.items),
        "causes_pager": Pager.of(causes),
        "stale": [
            StaleRow(r, s.overdue, s.unsettled, s.minutes_past)
            for r, s in zip(stale_rows, stale, strict=True)
        ],
        "cause_values": [c.value for c in Cause],
        "flash": {"kind": done, "id": params.get("id", "")} if done in _FLASHES else None,
        "page_of": {"cb_page": callbacks.page, "cm_page": causes.page},
    }
    return render(request, "reports/queues.html", context, actor=actor)


#: What a queue form's redirect tells the page (page-text keys by outcome).
_FLASHES = {
    "callback": N_("reports.flash_callback"),
    "cause": N_("reports.flash_cause"),
    "conflict": N_("reports.flash_conflict"),
    "invalid": N_("reports.flash_invalid"),
}


def _back(outcome: str, incident_id: int, anchor: str) -> RedirectResponse:
    return RedirectResponse(
        f"/reports/queues?{urlencode({'done': outcome, 'id': incident_id})}#{anchor}", status_code=303
    )


@router.post("/reports/queues/call-back/{incident_id}")
def record_call_back(
    incident_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    note: str = Form(default="", max_length=NOTE_MAX),
) -> RedirectResponse:
    """The operator called the caller back (回访): recorded with what they said; it leaves the queue."""
    try:
        rescue.call_back(session, actor, incident_id, clock, note.strip())
    except Conflict:
        session.rollback()
        return _back("conflict", incident_id, "queue-callbacks")
    session.commit()
    return _back("callback", incident_id, "queue-callbacks")


@router.post("/reports/queues/cause/{incident_id}")
def record_cause(
    incident_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    cause: str = Form(default=""),
    detail: str = Form(default="", max_length=NOTE_MAX),
) -> RedirectResponse:
    """The cause the L1 unit phoned in, recorded by the operator: the released case is completed."""
    if cause not in {c.value for c in Cause}:
        return _back("invalid", incident_id, "queue-causes")
    try:
        rescue.complete(session, actor, incident_id, clock, settings, Cause(cause), detail.strip())
    except (Conflict, InvalidInput):
        session.rollback()
        return _back("conflict", incident_id, "queue-causes")
    session.commit()
    return _back("cause", incident_id, "queue-causes")
