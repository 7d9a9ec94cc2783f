"""Certified workers and drills on screen (/people, 持证与演练).

One page, three parts, each as far as the user may see (``people.service`` decides):
- 作业人员证: the certificates with their state, expiring and expired ones counted at the top; record one
  (admins, regulators; a unit's staff for their own unit), revoke one.
- 应急演练: the year's drills; record one (admins, regulators, the use unit); the use units with elevators
  in use that have not held theirs this year.
- 培训记录: the trainings; record one.

A refused field is named beside its input in the page's language, with the API's checks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, DomainError, Forbidden
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.people import service
from liftwatch.people.domain import Category, CertificateState, Scenario
from liftwatch.people.schemas import CertificateIn, DrillIn, TrainingIn
from liftwatch.people.settings import people_settings_of
from liftwatch.registry import queries as registry_queries
from liftwatch.web.templating import N_, PageActorDep, PageForm, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = "/people"
CERT_FIELDS = (
    "number",
    "category",
    "holder_name",
    "username",
    "unit_code",
    "issued_on",
    "expires_on",
    "issuer",
)
DRILL_FIELDS = ("unit_code", "held_on", "scenario", "participants", "registration_code", "summary")
TRAINING_FIELDS = ("username", "held_on", "hours", "topic", "provider")
ERRORS = {
    "number": N_("people.err_number"),
    "holder_name": N_("people.err_text"),
    "topic": N_("people.err_text"),
    "username": N_("people.err_username"),
    "unit_code": N_("people.err_unit"),
    "issued_on": N_("people.err_date"),
    "expires_on": N_("people.err_expires"),
    "held_on": N_("people.err_held_on"),
    "participants": N_("people.err_participants"),
    "hours": N_("people.err_hours"),
    "registration_code": N_("people.err_elevator"),
}
OTHER = N_("people.err_invalid")
TAKEN = N_("people.err_taken")
DONE = {
    "certificate": N_("people.done_certificate"),
    "revoked": N_("people.done_revoked"),
    "drill": N_("people.done_drill"),
    "training": N_("people.done_training"),
}


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    clock: Clock,
    settings: Settings,
    form: PageForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ps = people_settings_of(request.app.state)
    today = _today(clock, settings)
    state = request.query_params.get("state", "")
    states = [CertificateState(state)] if state in {s.value for s in CertificateState} else []
    views = service.certificates(session, actor, today, ps.warn_days, states=states)
    every = views if not states else service.certificates(session, actor, today, ps.warn_days)
    own = registry_queries.actor_unit_code(session, actor) if actor.role in service.UNIT_STAFF else None
    context = {
        "certificates": views,
        "state": state,
        "states": [s.value for s in CertificateState],
        "expiring": sum(v.state is CertificateState.EXPIRING for v in every),
        "expired": sum(v.state is CertificateState.EXPIRED for v in every),
        "warn_days": ps.warn_days,
        "drills": service.drills(session, actor, today.year),
        "missing": service.missing_drills(session, actor, today.year, ps.drills),
        "trainings": service.trainings(session, actor, limit=100),
        "year": today.year,
        "today": today.isoformat(),
        "may_write": actor.role in service.ALL | service.UNIT_STAFF,
        "may_drill": actor.role in service.ALL or actor.role is Role.USE_UNIT,
        "own_unit": own or "",
        "categories": [c.value for c in Category],
        "scenarios": [s.value for s in Scenario],
        "form": form or PageForm(),
        "done": DONE.get(request.query_params.get("done", ""), ""),
        "cert_fields": CERT_FIELDS,
        "drill_fields": DRILL_FIELDS,
        "training_fields": TRAINING_FIELDS,
    }
    return render(request, "people/people.html", context, actor=actor, status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
def people_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    """持证与演练."""
    return _page(request, session, actor, clock, settings)


def _refused(form: PageForm, exc: DomainError | ValidationError) -> int:
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            form.errors.setdefault(name, ERRORS.get(name, OTHER))
        return 422
    for e in exc.errors:
        form.errors.setdefault(e.field, ERRORS.get(e.field, OTHER))
    if isinstance(exc, Conflict):
        form.errors["number" if form.which == "certificate" else ""] = TAKEN
    if not form.errors:
        form.errors[""] = OTHER
    return exc.status_code


async def _typed(request: Request, which: str, names: tuple[str, ...]) -> PageForm:
    raw = await request.form()
    return PageForm({n: str(raw.get(n, "")).strip() for n in names}, which=which)


def _filled(values: dict[str, str]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v != ""}


def _save(
    request: Request,
    session: Session,
    actor: Actor,
    clock: Clock,
    settings: Settings,
    form: PageForm,
    schema: type[BaseModel],
    write: Any,
) -> Response:
    """Check the form with the API's schema, write it through the service, and go back saying so; or show
    the page with the refused fields."""
    if actor.role not in service.ALL | service.UNIT_STAFF:
        raise Forbidden(f"role '{actor.role.value}' may not record certificates or drills")
    try:
        write(schema(**_filled(form.values)))
    except (DomainError, ValidationError) as exc:
        session.rollback()
        status = _refused(form, exc)
        return _page(request, session, actor, clock, settings, form, status)
    session.commit()
    return RedirectResponse(f"{PAGE}?done={form.which}#sec-{form.which}", status_code=303)


@router.post(PAGE + "/certificates", response_class=HTMLResponse)
async def record_certificate(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """登记证书: as ``POST /api/v1/people/certificates``."""
    form = await _typed(request, "certificate", CERT_FIELDS)

    def write(data: BaseModel) -> None:
        service.record_certificate(session, actor, service.NewCertificate(**data.model_dump()), clock)

    return _save(request, session, actor, clock, settings, form, CertificateIn, write)


@router.post(PAGE + "/certificates/{certificate_id}/revoke", response_class=HTMLResponse)
async def revoke_certificate(
    request: Request,
    certificate_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """注销证书: as ``POST /api/v1/people/certificates/{id}/revoke``."""
    raw = await request.form()
    reason = str(raw.get("reason", "")).strip() or "注销"
    service.revoke_certificate(session, actor, certificate_id, reason, clock)
    session.commit()
    return RedirectResponse(f"{PAGE}?done=revoked#sec-certificate", status_code=303)


@router.post(PAGE + "/drills", response_class=HTMLResponse)
async def record_drill(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """登记演练: as ``POST /api/v1/people/drills``."""
    form = await _typed(request, "drill", DRILL_FIELDS)
    today = _today(clock, settings)

    def write(data: BaseModel) -> None:
        service.record_drill(session, actor, service.NewDrill(**data.model_dump()), clock, today)

    return _save(request, session, actor, clock, settings, form, DrillIn, write)


@router.post(PAGE + "/trainings", response_class=HTMLResponse)
async def record_training(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """登记培训: as ``POST /api/v1/people/trainings``."""
    form = await _typed(request, "training", TRAINING_FIELDS)
    today = _today(clock, settings)

    def write(data: BaseModel) -> None:
        service.record_training(session, actor, service.NewTraining(**data.model_dump()), clock, today)

    return _save(request, session, actor, clock, settings, form, TrainingIn, write)
