"""Main parts and recalls on screen (主要部件, 召回).

- The elevator file's 主要部件 section (``file_context``): each current part with its design life, the
  share used by years and by cycles and its wear; the parts taken out; the recalls that reached it.
- ``/elevators/{code}/parts/new`` and ``/parts/{id}/replace``: record or replace a part (admins, and a
  maintenance or use unit's staff on their own elevators), on a phone as at a desk.
- ``/parts/worn``: the parts near or past their design life in the user's scope, by district and kind.
- ``/recalls``: the recalls with their progress; ``/recalls/new`` previews the elevators a recall reaches
  and then issues it (admins and regulators); ``/recalls/{id}`` follows each elevator's rectification.

Everything goes through ``parts.service`` with the API's shapes (``parts.schemas``), so the screen and the
API refuse the same things; a refused field is named beside its input in the page's language.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, DomainError, Forbidden
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.parts import domain, service
from liftwatch.parts.domain import PartKind
from liftwatch.parts.schemas import PartIn, RecallIn, ReplaceIn
from liftwatch.parts.settings import PartSettings, part_settings_of
from liftwatch.registry import queries as registry_queries
from liftwatch.web.templating import N_, PageActorDep, PageForm, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PART_FIELDS = (
    "manufacturer",
    "model",
    "serial",
    "installed_on",
    "design_life_years",
    "design_life_cycles",
    "counter_at_install",
    "note",
)
RECALL_FIELDS = (
    "reference",
    "kind",
    "manufacturer",
    "model",
    "serial_first",
    "serial_last",
    "reason",
    "remedy",
    "due_on",
)
#: A refused field's message, by field; OTHER when none fits.
ERRORS = {
    "kind": N_("parts.err_kind"),
    "manufacturer": N_("parts.err_text"),
    "model": N_("parts.err_text"),
    "serial": N_("parts.err_text"),
    "installed_on": N_("parts.err_installed_on"),
    "design_life_years": N_("parts.err_life_years"),
    "design_life_cycles": N_("parts.err_life_cycles"),
    "counter_at_install": N_("parts.err_counter"),
    "note": N_("parts.err_long"),
    "reason": N_("parts.err_reason"),
    "reference": N_("parts.err_text"),
    "serial_first": N_("parts.err_text"),
    "serial_last": N_("recalls.err_range"),
    "remedy": N_("parts.err_long"),
    "due_on": N_("recalls.err_due_on"),
}
OTHER = N_("parts.err_invalid")
TAKEN = N_("parts.err_taken")
OTHER_TERMS = N_("recalls.err_terms")
DONE = {
    "recorded": N_("parts.done_recorded"),
    "replaced": N_("parts.done_replaced"),
    "issued": N_("recalls.done_issued"),
}


def _refused(form: PageForm, exc: DomainError | ValidationError) -> None:
    if "installed_on" in form.values and not (
        form.values.get("design_life_years") or form.values.get("design_life_cycles")
    ):  # a part's form: the service's rule, named with the schema's refusals
        form.errors["design_life_years"] = ERRORS["design_life_years"]
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            form.errors.setdefault(name, ERRORS.get(name, OTHER))
        return
    for e in exc.errors:
        form.errors.setdefault(e.field, ERRORS.get(e.field, OTHER))
    if isinstance(exc, Conflict):
        form.errors[""] = OTHER_TERMS if "other terms" in exc.message else TAKEN
    if not form.errors:
        form.errors[""] = OTHER


def _status(exc: DomainError | ValidationError) -> int:
    return exc.status_code if isinstance(exc, DomainError) else 422


def _blank_none(values: dict[str, str]) -> dict[str, Any]:
    """The typed values for a schema: an empty optional number is left out (None), not refused."""
    return {k: v for k, v in values.items() if v != ""}


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


# ---------------------------------------------------------------- the elevator file's section


def file_context(
    session: Session, actor: Actor, code: str, clock: Clock, settings: Settings, part_settings: PartSettings
) -> dict[str, Any]:
    """The file's 主要部件 section: the caller has read the elevator, so its parts are readable."""
    views = service.parts_of(session, actor, code, clock, settings, part_settings)
    recalled: dict[int, list[tuple[Any, Any]]] = {}
    for recall, item in service.recalls_of_elevator(session, code, clock):
        recalled.setdefault(item.item.part_id, []).append((recall, item))
    return {
        "parts": {
            "current": [v for v in views if v.current],
            "removed": [v for v in views if not v.current],
            "recalled": recalled,
            "may_record": actor.role in service.WRITERS,
            "near_share": part_settings.near_share,
        },
        "percent": _percent,
    }


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


# ---------------------------------------------------------------- record and replace


def _kinds_free(
    session: Session, actor: Actor, code: str, clock: Clock, settings: Settings, ps: PartSettings
) -> list[str]:
    elevator = registry_queries.get_elevator(session, actor, code)
    taken = {v.part.kind for v in service.parts_of(session, actor, code, clock, settings, ps) if v.current}
    return [k.value for k in domain.kinds_for(elevator.kind) if k.value not in taken]


def _part_page(
    request: Request,
    actor: Actor,
    code: str,
    form: PageForm,
    kinds: list[str],
    action: str,
    replacing: service.StoredPart | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "code": code,
        "form": form,
        "kinds": kinds,
        "fields": PART_FIELDS,
        "action": action,
        "replacing": replacing,
    }
    return render(request, "parts/part_form.html", context, actor=actor, status_code=status_code)


def _writer(session: Session, actor: Actor, code: str) -> str:
    """The elevator's registration code when the actor may record its parts (404 outside scope, 403 for
    a reader)."""
    elevator = registry_queries.get_elevator(session, actor, code)
    if actor.role not in service.WRITERS:
        raise Forbidden(f"role '{actor.role.value}' may read parts, not record them")
    return elevator.registration_code


@router.get("/elevators/{code}/parts/new", response_class=HTMLResponse)
def new_part_page(
    request: Request,
    code: str,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """登记主要部件."""
    code = _writer(session, actor, code)
    kinds = _kinds_free(session, actor, code, clock, settings, part_settings_of(request.app.state))
    form = PageForm({"kind": kinds[0] if kinds else "", "installed_on": _today(clock, settings).isoformat()})
    return _part_page(request, actor, code, form, kinds, f"/elevators/{code}/parts/new")


@router.post("/elevators/{code}/parts/new", response_class=HTMLResponse)
async def record_part(
    request: Request,
    code: str,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """As ``POST /api/v1/elevators/{code}/parts``."""
    code = _writer(session, actor, code)
    typed = await request.form()
    form = PageForm({name: str(typed.get(name, "")).strip() for name in ("kind", *PART_FIELDS)})
    try:
        data = PartIn(**_blank_none(form.values))
        new = service.NewPart(**data.model_dump())
        service.record_part(session, actor, code, new, clock, settings, part_settings_of(request.app.state))
    except (DomainError, ValidationError) as exc:
        session.rollback()
        _refused(form, exc)
        kinds = _kinds_free(session, actor, code, clock, settings, part_settings_of(request.app.state))
        page = f"/elevators/{code}/parts/new"
        return _part_page(request, actor, code, form, kinds, page, status_code=_status(exc))
    session.commit()
    return RedirectResponse(f"/elevators/{code}?done=part_recorded#sec-parts", status_code=303)


def _replacing(session: Session, actor: Actor, part_id: int) -> service.StoredPart:
    part = service.get_part(session, actor, part_id)
    _writer(session, actor, part.registration_code)
    return part


@router.get("/parts/{part_id}/replace", response_class=HTMLResponse)
def replace_part_page(
    request: Request,
    part_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """更换主要部件: the new part's maker and model start as the old one's."""
    old = _replacing(session, actor, part_id)
    form = PageForm(
        {
            "manufacturer": old.manufacturer,
            "model": old.model,
            "installed_on": _today(clock, settings).isoformat(),
            "design_life_years": str(old.design_life_years or ""),
            "design_life_cycles": str(old.design_life_cycles or ""),
        }
    )
    return _part_page(
        request, actor, old.registration_code, form, [old.kind], f"/parts/{old.id}/replace", old
    )


@router.post("/parts/{part_id}/replace", response_class=HTMLResponse)
async def replace_part(
    request: Request,
    part_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """As ``POST /api/v1/parts/{id}/replace``."""
    old = _replacing(session, actor, part_id)
    typed = await request.form()
    form = PageForm({name: str(typed.get(name, "")).strip() for name in (*PART_FIELDS, "reason")})
    try:
        data = ReplaceIn(**_blank_none({**form.values, "kind": old.kind}))
        new = service.NewPart(**data.model_dump(exclude={"reason"}))
        ps = part_settings_of(request.app.state)
        service.replace_part(session, actor, old.id, new, data.reason, clock, settings, ps)
    except (DomainError, ValidationError) as exc:
        session.rollback()
        _refused(form, exc)
        old = _replacing(session, actor, part_id)
        page = f"/parts/{old.id}/replace"
        return _part_page(request, actor, old.registration_code, form, [old.kind], page, old, _status(exc))
    session.commit()
    return RedirectResponse(
        f"/elevators/{old.registration_code}?done=part_replaced#sec-parts", status_code=303
    )


# ---------------------------------------------------------------- worn parts


@router.get("/parts/worn", response_class=HTMLResponse)
def worn_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    """临近或超过设计使用年限的部件, by district and kind."""
    district = request.query_params.get("district", "").strip()[:64]
    kind_text = request.query_params.get("kind", "")
    kind = PartKind(kind_text) if kind_text in {k.value for k in PartKind} else None
    ps = part_settings_of(request.app.state)
    worn, cut = service.worn_parts(session, actor, clock, settings, ps, district or None, kind)
    context = {
        "worn": worn,
        "truncated": cut,
        "district": district,
        "kind": kind.value if kind else "",
        "kinds": [k.value for k in PartKind],
        "near_share": _percent(ps.near_share),
        "percent": _percent,
    }
    return render(request, "parts/worn.html", context, actor=actor)


# ---------------------------------------------------------------- recalls


@router.get("/recalls", response_class=HTMLResponse)
def recalls_page(request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    """部件召回: every recall the user may see with its progress."""
    context = {
        "recalls": service.list_recalls(session, actor, clock),
        "may_issue": actor.role in service.ISSUERS,
    }
    return render(request, "parts/recalls.html", context, actor=actor)


def _recall_form_page(
    request: Request,
    actor: Actor,
    form: PageForm,
    affected: list[service.Affected] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "form": form,
        "fields": RECALL_FIELDS,
        "kinds": [k.value for k in PartKind],
        "affected": affected,
    }
    return render(request, "parts/recall_form.html", context, actor=actor, status_code=status_code)


def _issuer(actor: Actor) -> None:
    if actor.role not in service.ISSUERS:
        raise Forbidden(f"role '{actor.role.value}' may not issue recalls")


@router.get("/recalls/new", response_class=HTMLResponse)
def new_recall_page(request: Request, actor: PageActorDep) -> HTMLResponse:
    """发布召回: the form; its first step previews the elevators reached."""
    _issuer(actor)
    return _recall_form_page(request, actor, PageForm({"kind": PartKind.TRACTION_MACHINE.value}))


@router.post("/recalls/new", response_class=HTMLResponse)
def issue_recall(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    step: Annotated[str, Form()] = "preview",
    reference: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    manufacturer: Annotated[str, Form()] = "",
    model: Annotated[str, Form()] = "",
    serial_first: Annotated[str, Form()] = "",
    serial_last: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    remedy: Annotated[str, Form()] = "",
    due_on: Annotated[str, Form()] = "",
) -> Response:
    """预览 (step "preview": the elevators reached, nothing written) or 发布 (step "issue"), as
    ``POST /api/v1/recalls/preview`` and ``POST /api/v1/recalls``."""
    _issuer(actor)
    typed = dict(
        reference=reference,
        kind=kind,
        manufacturer=manufacturer,
        model=model,
        serial_first=serial_first,
        serial_last=serial_last,
        reason=reason,
        remedy=remedy,
        due_on=due_on,
    )
    form = PageForm({k: v.strip() for k, v in typed.items()})
    preview = step != "issue"
    try:
        data = RecallIn(**_blank_none(form.values))
        issued = service.issue_recall(
            session, actor, service.NewRecall(**data.model_dump()), clock, settings, preview
        )
    except (DomainError, ValidationError) as exc:
        session.rollback()
        _refused(form, exc)
        return _recall_form_page(request, actor, form, status_code=_status(exc))
    if preview or issued.recall is None:
        session.rollback()
        return _recall_form_page(request, actor, form, issued.affected)
    session.commit()
    return RedirectResponse(f"/recalls/{issued.recall.id}?done=issued", status_code=303)


@router.get("/recalls/{recall_id}", response_class=HTMLResponse)
def recall_page(
    request: Request, recall_id: int, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    """A recall and each reached elevator's rectification."""
    view = service.get_recall(session, actor, recall_id, clock)
    done = DONE.get(request.query_params.get("done", ""), "")
    return render(request, "parts/recall.html", {"view": view, "done": done}, actor=actor)
