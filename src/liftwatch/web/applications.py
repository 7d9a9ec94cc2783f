"""Applications on screen (一网通办, 既有多层住宅加装电梯).

- ``/applications``: the user's applications (a unit's own; the window's clerk, every one, the late
  reviews first); ``/applications/new?kind=``: the form of a kind, refused fields named beside their inputs.
- ``/applications/{id}``: the application, each department's review with its deadline (late ones marked),
  the trail; the clerk records decisions, the acceptance and the registration; the applicant reports the
  start of construction or withdraws.
- ``/public/additions``: the progress of additions by district, for anyone (no sign-in, no person).

Everything goes through ``applications.service`` with the API's checks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.applications import service
from liftwatch.applications.domain import ON_ELEVATOR, REVIEWERS, Decision, Department, FundingSource, Kind
from liftwatch.applications.settings import application_settings_of
from liftwatch.core.clock import Clock
from liftwatch.core.errors import DomainError, Forbidden
from liftwatch.deps import ClockDep, SessionDep
from liftwatch.web.templating import N_, PageActorDep, PageForm, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: each kind's own fields: (name, input type)
KIND_FIELDS: dict[Kind, tuple[tuple[str, str], ...]] = {
    Kind.ADDITION: (
        ("households", "number"),
        ("households_consenting", "number"),
        ("area_m2", "number"),
        ("area_consenting_m2", "number"),
        ("floors", "number"),
        ("funding", "funding"),
        ("budget_yuan", "number"),
        ("subsidy_yuan", "number"),
    ),
    Kind.MODERNISATION: (("scope", "text"), ("funding", "funding"), ("budget_yuan", "number")),
    Kind.CONSTRUCTION_NOTICE: (("work", "work"), ("planned_start", "date")),
    Kind.USE_REGISTRATION: (("equipment_code", "text"), ("manufacturer", "text"), ("floors", "number")),
    Kind.REGISTRATION_CHANGE: (("use_unit", "text"),),
    Kind.REGISTRATION_CANCEL: (),
    Kind.INSPECTION_REQUEST: (("preferred_date", "date"),),
}
ERROR = N_("apps.err_field")
CONSENT = N_("apps.err_consent")
DONE = {
    "submitted": N_("apps.done_submitted"),
    "decided": N_("apps.done_decided"),
    "construction": N_("apps.done_construction"),
    "acceptance": N_("apps.done_acceptance"),
    "registered": N_("apps.done_registered"),
    "withdrawn": N_("apps.done_withdrawn"),
}


def _kinds_for(actor: Actor) -> list[str]:
    if actor.role is Role.MAINTENANCE:
        return [k.value for k in Kind if k in service.MAINTENANCE_KINDS]
    if actor.role in (Role.ADMIN, Role.USE_UNIT):
        return [k.value for k in Kind]
    return []


def _refused(form: PageForm, exc: DomainError) -> None:
    for e in exc.errors:
        form.errors[e.field] = CONSENT if e.field == "households_consenting" else ERROR
    if not form.errors:
        form.errors[""] = ERROR


@router.get("/applications", response_class=HTMLResponse)
def applications_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    """办件: the user's applications, and for the window's clerk the reviews past their deadline."""
    now = clock.now()
    late_only = request.query_params.get("late") == "1"
    context = {
        "views": service.list_applications(session, actor, now, late_only=late_only),
        "late": service.late_reviews(session, actor, now),
        "late_only": late_only,
        "kinds": _kinds_for(actor),
        "done": DONE.get(request.query_params.get("done", ""), ""),
    }
    return render(request, "applications/list.html", context, actor=actor)


def _new_page(
    request: Request, actor: Actor, kind: Kind, form: PageForm, status_code: int = 200
) -> HTMLResponse:
    context = {
        "kind": kind.value,
        "on_elevator": kind in ON_ELEVATOR,
        "fields": KIND_FIELDS[kind],
        "funding": [f.value for f in FundingSource],
        "form": form,
        "admin": actor.role is Role.ADMIN,
        "reviewers": [d.value for d in REVIEWERS[kind]],
    }
    return render(request, "applications/new.html", context, actor=actor, status_code=status_code)


def _kind(actor: Actor, text: str) -> Kind:
    if text not in _kinds_for(actor):
        raise Forbidden(f"role '{actor.role.value}' may not submit a '{text}' application")
    return Kind(text)


@router.get("/applications/new", response_class=HTMLResponse)
def new_application_page(request: Request, actor: PageActorDep) -> HTMLResponse:
    kind = _kind(actor, request.query_params.get("kind", ""))
    return _new_page(request, actor, kind, PageForm())


@router.post("/applications/new", response_class=HTMLResponse)
async def submit(request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep) -> Response:
    """提交申请: as ``POST /api/v1/applications``."""
    raw = await request.form()
    kind = _kind(actor, str(raw.get("kind", "")))
    values: dict[str, Any] = {
        n: str(raw.get(n, "")).strip()
        for n in ("title", "registration_code", "applicant_unit", "district", "address")
    }
    form_fields: dict[str, Any] = {}
    for name, kind_of in KIND_FIELDS[kind]:
        form_fields[name] = (
            [str(v) for v in raw.getlist(name)] if kind_of == "funding" else str(raw.get(name, "")).strip()
        )
    form = PageForm({**values, **form_fields})
    new = service.NewApplication(kind=kind, form=form_fields, **values)
    try:
        app = service.submit(session, actor, new, clock, application_settings_of(request.app.state))
    except DomainError as exc:
        session.rollback()
        if exc.status_code in (403, 404) and not exc.errors:
            raise
        _refused(form, exc)
        return _new_page(request, actor, kind, form, exc.status_code)
    session.commit()
    return RedirectResponse(f"/applications/{app.id}?done=submitted", status_code=303)


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    clock: Clock,
    application_id: int,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    view = service.get(session, actor, application_id, clock.now())
    app = view.application
    context = {
        "v": view,
        "kind_fields": KIND_FIELDS[Kind(app.kind)],
        "clerk": actor.role in service.CLERKS,
        "applicant": actor.role in (Role.ADMIN, Role.USE_UNIT, Role.MAINTENANCE),
        "now": clock.now(),
        "today": clock.today().isoformat(),
        "undecided": [r.department for r in view.reviews if r.decision is None],
        "error": error,
        "done": DONE.get(request.query_params.get("done", ""), ""),
        "use_registration": app.kind == Kind.USE_REGISTRATION.value,
    }
    return render(request, "applications/detail.html", context, actor=actor, status_code=status_code)


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request, application_id: int, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    return _detail(request, session, actor, clock, application_id)


async def _step(
    request: Request, session: Session, actor: Actor, clock: Clock, application_id: int, done: str, do: Any
) -> Response:
    raw = await request.form()
    try:
        do({k: str(v).strip() for k, v in raw.items()})
    except DomainError as exc:
        session.rollback()
        if exc.status_code in (403, 404):
            raise
        return _detail(request, session, actor, clock, application_id, N_("apps.err_step"), exc.status_code)
    except ValueError:
        session.rollback()
        return _detail(request, session, actor, clock, application_id, N_("apps.err_step"), 422)
    session.commit()
    return RedirectResponse(f"/applications/{application_id}?done={done}", status_code=303)


@router.post("/applications/{application_id}/decide", response_class=HTMLResponse)
async def decide(
    request: Request, application_id: int, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    """部门审查意见 (the window's clerk)."""

    def do(f: dict[str, str]) -> None:
        department, decision = Department(f.get("department", "")), Decision(f.get("decision", ""))
        note, code = f.get("note", ""), f.get("registration_code", "")
        service.decide(session, actor, application_id, department, decision, note, clock, code)

    return await _step(request, session, actor, clock, application_id, "decided", do)


@router.post("/applications/{application_id}/construction", response_class=HTMLResponse)
async def construction(
    request: Request, application_id: int, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    def do(f: dict[str, str]) -> None:
        service.start_construction(
            session, actor, application_id, date.fromisoformat(f.get("started_on", "")), clock
        )

    return await _step(request, session, actor, clock, application_id, "construction", do)


@router.post("/applications/{application_id}/acceptance", response_class=HTMLResponse)
async def acceptance(
    request: Request, application_id: int, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    def do(f: dict[str, str]) -> None:
        service.accept(session, actor, application_id, f.get("report", ""), f.get("passed") == "1", clock)

    return await _step(request, session, actor, clock, application_id, "acceptance", do)


@router.post("/applications/{application_id}/registration", response_class=HTMLResponse)
async def registration(
    request: Request, application_id: int, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    def do(f: dict[str, str]) -> None:
        service.register(
            session,
            actor,
            application_id,
            f.get("registration_code", ""),
            f.get("maintenance_unit", ""),
            clock,
        )

    return await _step(request, session, actor, clock, application_id, "registered", do)


@router.post("/applications/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw(
    request: Request, application_id: int, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    def do(_f: dict[str, str]) -> None:
        service.withdraw(session, actor, application_id, clock)

    return await _step(request, session, actor, clock, application_id, "withdrawn", do)


@router.get("/public/additions", response_class=HTMLResponse)
def public_additions(request: Request, session: SessionDep) -> HTMLResponse:
    """既有多层住宅加装电梯进度公示: by district, for anyone."""
    progress, buildings = service.public_additions(session)
    return render(request, "applications/public.html", {"progress": progress, "buildings": buildings})
