"""Registry pages: elevator search, the elevator file (一梯一档) and units (the passengers' page /p/{code}
is web/public.py).

All data comes from ``registry.queries`` with the signed-in actor, so scope is enforced there: another
unit's elevator is the same 404 page as a missing one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import DomainError
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.parts.settings import part_settings_of
from liftwatch.registry import queries, service
from liftwatch.registry.domain import ElevatorKind, ElevatorStatus, EventKind, PlaceType, UnitType
from liftwatch.registry.schemas import EventIn
from liftwatch.risk import service as risk_service
from liftwatch.web import maintenance, monitor
from liftwatch.web import parts as parts_pages
from liftwatch.web.templating import N_, PageActorDep, PageRoute, is_partial, render, request_language

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
UNITS_PAGE_SIZE = 50
TEXT_MAX = 100
AGE_MAX = 200.0


SEARCH_FIELDS = (
    "q",
    "district",
    "street",
    "unit",
    "place_type",
    "kind",
    "status",
    "age_min",
    "age_max",
    "three_no",
)
THREE_NO_SPELLINGS = {"true": "yes", "1": "yes", "false": "no", "0": "no"}
SEARCH_CHOICES: dict[str, type[StrEnum]] = {
    "place_type": PlaceType,
    "kind": ElevatorKind,
    "status": ElevatorStatus,
}


@dataclass
class SearchForm:
    """The elevator search form as typed: kept as text so the page can show it back, with per-field errors
    for values the filter cannot use (those are ignored rather than failing the whole search)."""

    q: str = ""
    district: str = ""
    street: str = ""
    unit: str = ""
    place_type: str = ""
    kind: str = ""
    status: str = ""
    age_min: str = ""
    age_max: str = ""
    three_no: str = ""
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: QueryParams) -> SearchForm:
        form = cls()
        for name in SEARCH_FIELDS:
            setattr(form, name, params.get(name, "").strip()[:TEXT_MAX])
        try:
            form.page = max(1, int(params.get("page", "1")))
        except ValueError:
            form.page = 1
        for name, enum in SEARCH_CHOICES.items():
            value = getattr(form, name)
            if value and value not in {m.value for m in enum}:
                form.errors[name] = "search.invalid_choice"
        # the API's spelling is a bool: a link written for it (three_no=true) filters the same
        form.three_no = THREE_NO_SPELLINGS.get(form.three_no.lower(), form.three_no)
        if form.three_no not in ("", "yes", "no"):
            form.errors["three_no"] = "search.invalid_choice"
        for name in ("age_min", "age_max"):
            if getattr(form, name) and form._age(name) is None:
                form.errors[name] = "search.invalid_number"
        return form

    def _age(self, name: str) -> float | None:
        text = getattr(self, name)
        try:
            value = float(text)
        except ValueError:
            return None
        return value if 0 <= value <= AGE_MAX and math.isfinite(value) else None

    def _choice(self, name: str) -> str | None:
        return (getattr(self, name) or None) if name not in self.errors else None

    def to_filter(self) -> queries.ElevatorFilter:
        return queries.ElevatorFilter(
            district=self.district or None,
            street=self.street or None,
            unit=self.unit or None,
            place_type=self._choice("place_type"),
            kind=self._choice("kind"),
            status=self._choice("status"),
            age_min=self._age("age_min"),
            age_max=self._age("age_max"),
            q=self.q or None,
            three_no={"yes": True, "no": False}.get(self.three_no),
            partial_places=True,
        )

    def query(self, page: int | None = None) -> str:
        """The query string of this search (non-empty fields only), at ``page``."""
        pairs: list[tuple[str, str]] = [(n, getattr(self, n)) for n in SEARCH_FIELDS if getattr(self, n)]
        if page and page > 1:
            pairs.append(("page", str(page)))
        return urlencode(pairs)

    def export_query(self, lang: str) -> str:
        """The export's query string: this search's filters the page applies (a field it refused is left
        out, as the list leaves it out) in the API's spelling, and headers in the page's language."""
        pairs = [("format", "xlsx"), ("headers", "zh" if lang == "zh-CN" else "en")]
        return "&".join(q for q in (urlencode(pairs), self.filter_query()) if q)

    def filter_query(self) -> str:
        """This search's filters the page applies, in the API's spelling (the export, the stickers)."""
        flt = self.to_filter()
        pairs: list[tuple[str, str]] = []
        for name in SEARCH_FIELDS:
            value = getattr(flt, name)
            if value is None:
                continue
            if isinstance(value, bool):
                pairs.append((name, "true" if value else "false"))
            else:
                pairs.append((name, f"{value:g}" if isinstance(value, float) else str(value)))
        return urlencode(pairs)


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, page: int, size: int, total: int) -> Pager:
        return cls(page=page, pages=max(1, math.ceil(total / size)), total=total)


@router.get("/elevators", response_class=HTMLResponse)
def elevator_search(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    form = SearchForm.parse(request.query_params)
    items, total = queries.list_elevators(
        session, actor, form.to_filter(), clock, page=form.page, size=PAGE_SIZE
    )
    today = clock.today()
    rows = [{"e": e, "age": queries.age_years(e, today)} for e in items]
    context: dict[str, Any] = {
        "form": form,
        "rows": rows,
        "pager": Pager.of(form.page, PAGE_SIZE, total),
        "kinds": [k.value for k in ElevatorKind],
        "place_types": [p.value for p in PlaceType],
        "statuses": [s.value for s in ElevatorStatus],
    }
    headers = {"Vary": "HX-Request"}
    context["partial"] = is_partial(request)
    if not is_partial(request):
        places = queries.places(session, actor)
        context["districts"] = list(places)
        context["streets"] = places.get(form.district) or sorted({s for v in places.values() for s in v})
    if is_partial(request):
        # Push the tidy URL of this search (no empty fields) rather than the raw form submission.
        query = form.query(form.page)
        headers["HX-Push-Url"] = "/elevators" + (f"?{query}" if query else "")
        return render(request, "elevators/_results.html", context, actor=actor, headers=headers)
    return render(request, "elevators/search.html", context, actor=actor, headers=headers)


@dataclass
class EventForm:
    """The life-event form of the file page (停用, 重新启用, 改造, 重大修理, 验收, 报废) as typed, and its
    errors: field -> message key ("" for the form as a whole)."""

    kind: str = ""
    on: str = ""
    summary: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _event_kinds(actor: Actor, status: str) -> list[str]:
    """The life events the actor may record on an elevator of ``status``, in the enum's order: a restart
    only when suspended, a suspension only when not, none once scrapped."""
    allowed = service.RECORDABLE_EVENTS.get(actor.role, frozenset())
    if status == ElevatorStatus.SCRAPPED.value:
        return []
    out = []
    for kind in EventKind:
        if kind not in allowed:
            continue
        if kind is EventKind.RESTART and status != ElevatorStatus.SUSPENDED.value:
            continue
        if kind is EventKind.SUSPENSION and status == ElevatorStatus.SUSPENDED.value:
            continue
        out.append(kind.value)
    return out


@dataclass
class CodeForm:
    """The 更换救援码 form as typed (an empty code: the next free one) and its errors."""

    code: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _file_page(
    request: Request,
    registration_code: str,
    actor: Actor,
    session: Session,
    clock: Clock,
    settings: Settings,
    event_form: EventForm | None = None,
    status_code: int = 200,
    code_form: CodeForm | None = None,
) -> HTMLResponse:
    elevator = queries.get_elevator(session, actor, registration_code)
    context = {
        "e": elevator,
        "done": request.query_params.get("done", ""),
        "age": queries.age_years(elevator, clock.today()),
        "timeline": queries.timeline(session, elevator),
        "three_no_flags": [
            ("no_property_management", elevator.no_property_management),
            ("no_maintenance_contract", elevator.no_maintenance_contract),
            ("no_repair_fund", elevator.no_repair_fund),
        ],
        # Life events (生命周期事件) the user may record here.
        "event_kinds": _event_kinds(actor, elevator.status),
        "event_form": event_form
        or EventForm(on=clock.now().astimezone(zone(settings.timezone)).date().isoformat()),
        # 96333 rescue code (救援码): a new one (admins, regulators), the car's sticker for everyone who reads
        "may_recode": actor.role in service.REGISTRARS and elevator.status != ElevatorStatus.SCRAPPED.value,
        "code_form": code_form or CodeForm(),
        # Remote monitoring: the live-status panel and the fault history.
        **monitor.file_context(session, actor, registration_code, clock, request_language(request)),
        # Maintenance (维保记录): contracts, the next visit, work orders, records, flags, inspections.
        **maintenance.file_context(session, actor, elevator.registration_code, clock, settings),
        # Main parts (主要部件): their wear and the recalls that reached them.
        **parts_pages.file_context(
            session, actor, elevator.registration_code, clock, settings, part_settings_of(request.app.state)
        ),
        # Risk grading (风险分级): the stored grade, linking to its explanation (None before a recompute).
        "risk_score": risk_service.stored_score(session, elevator.registration_code),
    }
    return render(request, "elevators/file.html", context, actor=actor, status_code=status_code)


@router.get("/elevators/{registration_code}", response_class=HTMLResponse)
def elevator_file(
    request: Request,
    registration_code: str,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    return _file_page(request, registration_code, actor, session, clock, settings)


EVENT_ERRORS = {
    "kind": N_("file.err_event_kind"),
    "on": N_("file.err_event_date"),
    "future": N_("file.err_event_future"),
    "conflict": N_("file.err_event_conflict"),
}


@router.post("/elevators/{registration_code}/events", response_class=HTMLResponse)
def record_life_event(
    request: Request,
    registration_code: str,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    kind: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
) -> Response:
    """记录事件: a life event, as ``POST /api/v1/elevators/{code}/events`` (a suspension, restart or
    scrapping also changes the status); dated on the day given at the city's noon (today: not after now),
    not in the future."""
    elevator = queries.get_elevator(session, actor, registration_code)
    form = EventForm(kind, on.strip(), summary.strip()[:2000])
    if kind not in _event_kinds(actor, elevator.status):
        form.errors["kind"] = EVENT_ERRORS["kind"]
    day = None
    try:
        day = date.fromisoformat(form.on)
    except ValueError:
        form.errors["on"] = EVENT_ERRORS["on"]
    tz = zone(settings.timezone)
    if day is not None and day > clock.now().astimezone(tz).date():
        form.errors["on"] = EVENT_ERRORS["future"]
    if form.errors or day is None:
        return _file_page(request, registration_code, actor, session, clock, settings, form, 422)
    at = min(datetime.combine(day, time(12), tzinfo=tz), clock.now())  # today before noon: now
    event = EventIn(kind=EventKind(kind), occurred_at=at, summary=form.summary)
    try:
        service.record_event(session, actor, elevator.registration_code, event, clock)
    except DomainError as exc:
        session.rollback()
        form.errors[""] = EVENT_ERRORS["future"] if "future" in exc.message else EVENT_ERRORS["conflict"]
        return _file_page(request, registration_code, actor, session, clock, settings, form, exc.status_code)
    session.commit()
    return RedirectResponse(
        f"/elevators/{elevator.registration_code}?done=event#sec-timeline", status_code=303
    )


CODE_ERRORS = {
    "code": N_("file.err_rescue_code"),
    "taken": N_("file.err_rescue_code_taken"),
    "reason": N_("file.err_rescue_reason"),
}


@router.post("/elevators/{registration_code}/rescue-code", response_class=HTMLResponse)
def reassign_rescue_code(
    request: Request,
    registration_code: str,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    code: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """更换救援码: as ``POST /api/v1/elevators/{code}/rescue-code`` (an empty code: the next free one)."""
    elevator = queries.get_elevator(session, actor, registration_code)
    form = CodeForm(code.strip(), reason.strip()[:500])
    try:
        service.reassign_rescue_code(
            session, actor, elevator.registration_code, form.code or None, form.reason, clock
        )
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 403:
            raise
        for e in exc.errors:
            form.errors[e.field] = CODE_ERRORS[
                "taken" if e.message == "taken" else e.field if e.field in CODE_ERRORS else "code"
            ]
        if not form.errors:
            form.errors["code"] = CODE_ERRORS["code"]
        return _file_page(
            request,
            registration_code,
            actor,
            session,
            clock,
            settings,
            status_code=exc.status_code,
            code_form=form,
        )
    session.commit()
    return RedirectResponse(f"/elevators/{elevator.registration_code}?done=rescue_code", status_code=303)


@router.get("/units", response_class=HTMLResponse)
def unit_list(request: Request, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    params = request.query_params
    q = params.get("q", "").strip()[:TEXT_MAX]
    unit_type = params.get("unit_type", "").strip()
    if unit_type not in {u.value for u in UnitType}:
        unit_type = ""
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    units, total = queries.list_units(
        session, actor, unit_type or None, q or None, page=page, size=UNITS_PAGE_SIZE
    )
    counts = queries.elevator_counts(session, units)
    base = [(k, v) for k, v in (("q", q), ("unit_type", unit_type)) if v]
    context = {
        "units": [{"u": u, "count": counts.get(u.id, 0)} for u in units],
        "q": q,
        "unit_type": unit_type,
        "unit_types": [u.value for u in UnitType],
        "pager": Pager.of(page, UNITS_PAGE_SIZE, total),
        "page_query": lambda p: urlencode([*base, *([("page", str(p))] if p > 1 else [])]),
    }
    return render(request, "units/list.html", context, actor=actor)


@router.get("/units/{code}", response_class=HTMLResponse)
def unit_page(request: Request, code: str, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    unit = queries.get_unit(session, actor, code)
    count = queries.elevator_counts(session, [unit]).get(unit.id, 0)
    context = {
        "u": unit,
        "count": count,
        "search_url": "/elevators?" + urlencode({"unit": unit.code}),
        "own": actor.unit_scoped and actor.unit_id == unit.id,  # its staff may change its contact and place
        "done": request.query_params.get("done", ""),
    }
    return render(request, "units/detail.html", context, actor=actor)
