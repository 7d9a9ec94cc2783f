"""Registering and editing an elevator on screen (电梯登记与变更, docs/REGISTRY_IO.md "On screen"): the same
checks as the API (``ElevatorCreate``, ``ElevatorUpdate`` through ``registry.service``), each refused field
named beside its input in the page's language; units picked by name (the input offers each unit's name and
code, a unique name is taken for its code). Every save lands on the elevator's timeline (registration, or
the fields changed from and to). Admins and regulators only; the rescue code and status are not edited here
(a rescue code is reassigned, a status changed by a life event, on their own).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.errors import DomainError, Forbidden
from liftwatch.deps import ClockDep, SessionDep
from liftwatch.registry import queries, service
from liftwatch.registry.domain import ElevatorKind, PlaceType, UnitType
from liftwatch.registry.schemas import (
    ELEVATOR_NOT_NULL,
    ElevatorCreate,
    ElevatorUpdate,
    UnitCreate,
    UnitUpdate,
)
from liftwatch.web.templating import N_, PageActorDep, PageForm, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

EDITORS = frozenset({Role.ADMIN, Role.REGULATOR})
NEW_PATH = "/registry/elevators/new"

#: The form's fields, in order, each with its input: text, number, date, choice (a label table), unit
#: (a unit type), flag (a checkbox), signal (yes / no / unknown).
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("registration_code", "text", ""),
    ("rescue_code", "text", ""),
    ("equipment_code", "text", ""),
    ("kind", "choice", "kind"),
    ("place_type", "choice", "place_type"),
    ("district", "text", ""),
    ("street", "text", ""),
    ("address", "text", ""),
    ("building", "text", ""),
    ("latitude", "number", ""),
    ("longitude", "number", ""),
    ("use_unit", "unit", UnitType.USE_UNIT.value),
    ("maintenance_unit", "unit", UnitType.MAINTENANCE.value),
    ("manufacturer", "text", ""),
    ("model", "text", ""),
    ("serial_number", "text", ""),
    ("rated_load_kg", "number", ""),
    ("rated_speed_mps", "number", ""),
    ("stops", "number", ""),
    ("floors", "number", ""),
    ("installation_date", "date", ""),
    ("commissioning_date", "date", ""),
    ("design_life_years", "number", ""),
    ("design_life_cycles", "number", ""),
    ("iot_terminal_id", "text", ""),
    ("no_property_management", "flag", ""),
    ("no_maintenance_contract", "flag", ""),
    ("no_repair_fund", "flag", ""),
    ("mobile_signal", "signal", ""),
)
#: Set once, at registration: reassigned (rescue code) or not at all (registration code) afterwards.
FIXED = frozenset({"registration_code", "rescue_code"})
CHOICES = {"kind": [k.value for k in ElevatorKind], "place_type": [p.value for p in PlaceType]}
TEXT_MAX = 255

#: A refused field's message by the check that refused it (pydantic's error types).
ERROR_KEYS: dict[str, str] = {
    "missing": N_("reg.err_required"),
    "string_too_short": N_("reg.err_required"),
    "string_too_long": N_("reg.err_too_long"),
    "int_parsing": N_("reg.err_number"),
    "float_parsing": N_("reg.err_number"),
    "int_from_float": N_("reg.err_whole"),
    "date_from_datetime_parsing": N_("reg.err_date"),
    "date_parsing": N_("reg.err_date"),
    "greater_than": N_("reg.err_range"),
    "greater_than_equal": N_("reg.err_range"),
    "less_than": N_("reg.err_range"),
    "less_than_equal": N_("reg.err_range"),
    "enum": N_("reg.err_choice"),
}
OTHER_ERROR = N_("reg.err_invalid")
MESSAGES = (N_("reg.err_unit"), N_("reg.err_taken"), N_("reg.err_scrapped"))


def _require(actor: Actor) -> None:
    if actor.role not in EDITORS:
        raise Forbidden(f"role '{actor.role.value}' may not register or edit elevators")


def _typed(form_data: Any) -> dict[str, str]:
    return {name: str(form_data.get(name, "")).strip()[:TEXT_MAX] for name, _, _ in FIELDS}


def _unit_code(session: Session, text: str, unit_type: str) -> str | None:
    """A unit picked by its code, "name（code）" as the list offers it, or a name no other unit of the type
    has; None when the text names none."""
    if not text:
        return ""
    if text.endswith(("）", ")")) and ("（" in text or "(" in text):
        text = text.rstrip("）)").replace("（", "(").rsplit("(", 1)[1]
    return queries.unit_code_by_code_or_name(session, text, unit_type)


def _values(session: Session, form: PageForm, names: set[str]) -> dict[str, Any]:
    """The typed values of ``names`` for the schema: empty text is None (a flag unticked is False, the
    signal's unknown None), a unit by its code; a unit that names none is a form error."""
    out: dict[str, Any] = {}
    for name, kind, extra in FIELDS:
        if name not in names:
            continue
        text = form.values.get(name, "")
        if kind == "flag":
            out[name] = text in ("1", "on", "true")
        elif kind == "signal":
            out[name] = {"yes": True, "no": False}.get(text)
        elif kind == "unit":
            code = _unit_code(session, text, extra)
            if code is None:
                form.errors[name] = N_("reg.err_unit")
            out[name] = code or None
        else:
            out[name] = text or None
    return out


def _schema_errors(form: PageForm, exc: ValidationError) -> None:
    for err in exc.errors():
        name = str(err["loc"][0]) if err.get("loc") else ""
        form.errors.setdefault(name, ERROR_KEYS.get(str(err.get("type")), OTHER_ERROR))


def _domain_errors(form: PageForm, exc: DomainError) -> None:
    """A refusal of the service (a taken code, an unknown unit, a scrapped elevator) beside its field."""
    for e in exc.errors or []:
        key = (
            N_("reg.err_taken")
            if "already" in e.message
            else N_("reg.err_unit")
            if "unit" in e.message
            else OTHER_ERROR
        )
        form.errors.setdefault(e.field, key)
    if not exc.errors:
        form.errors.setdefault("", N_("reg.err_scrapped") if "scrapped" in exc.message else OTHER_ERROR)


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    form: PageForm,
    code: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    units = {
        t: queries.unit_choices(session, t) for t in (UnitType.USE_UNIT.value, UnitType.MAINTENANCE.value)
    }
    context = {
        "form": form,
        "code": code,
        "fields": [(n, k, x) for n, k, x in FIELDS if not (code and n in FIXED)],
        "fixed": FIXED,
        "choices": CHOICES,
        "units": units,
        "action": f"/elevators/{code}/edit" if code else NEW_PATH,
    }
    return render(request, "registry/elevator_form.html", context, actor=actor, status_code=status_code)


@router.get(NEW_PATH, response_class=HTMLResponse)
def new_elevator(request: Request, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    _require(actor)
    return _page(request, session, actor, PageForm(values={"kind": "traction", "place_type": "residential"}))


@router.post(NEW_PATH, response_class=HTMLResponse)
async def register(request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep) -> Response:
    """登记: a new elevator, as ``POST /api/v1/elevators``; its file opens with the registration entry."""
    _require(actor)
    form = PageForm(values=_typed(await request.form()))
    values = _values(session, form, {name for name, _, _ in FIELDS})
    data: ElevatorCreate | None = None
    try:
        data = ElevatorCreate(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        _schema_errors(form, exc)
    if form.errors or data is None:
        return _page(request, session, actor, form, status_code=422)
    try:
        elevator = service.create_elevator(session, actor, data, clock)
    except DomainError as exc:
        session.rollback()
        _domain_errors(form, exc)
        return _page(request, session, actor, form, status_code=exc.status_code)
    session.commit()
    return RedirectResponse(f"/elevators/{elevator.registration_code}?done=registered", status_code=303)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(getattr(value, "code", None) or getattr(value, "value", value))


@router.get("/elevators/{registration_code}/edit", response_class=HTMLResponse)
def edit_elevator(
    request: Request, registration_code: str, actor: PageActorDep, session: SessionDep
) -> HTMLResponse:
    _require(actor)
    e = queries.get_elevator(session, actor, registration_code)
    values = {name: _shown(getattr(e, name)) for name, _, _ in FIELDS}
    values["mobile_signal"] = "" if e.mobile_signal is None else "yes" if e.mobile_signal else "no"
    return _page(request, session, actor, PageForm(values=values), code=e.registration_code)


@router.post("/elevators/{registration_code}/edit", response_class=HTMLResponse)
async def save_elevator(
    request: Request, registration_code: str, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    """变更: the fields as edited, through ``service.update_elevator`` (what differs is changed and lands on
    the timeline with its old and new value)."""
    _require(actor)
    e = queries.get_elevator(session, actor, registration_code)
    form = PageForm(values=_typed(await request.form()))
    editable = {name for name, _, _ in FIELDS if name not in FIXED}
    values = _values(session, form, editable)
    for name in ELEVATOR_NOT_NULL:  # an emptied text is the empty text, not "leave it"
        if name in values and values[name] is None and name not in ("kind", "place_type", "district"):
            values[name] = ""
    data: ElevatorUpdate | None = None
    try:
        data = ElevatorUpdate(**values)
    except ValidationError as exc:
        _schema_errors(form, exc)
    if form.errors or data is None:
        return _page(request, session, actor, form, code=e.registration_code, status_code=422)
    try:
        service.update_elevator(session, actor, e.registration_code, data, clock)
    except DomainError as exc:
        session.rollback()
        _domain_errors(form, exc)
        return _page(request, session, actor, form, code=e.registration_code, status_code=exc.status_code)
    session.commit()
    return RedirectResponse(f"/elevators/{e.registration_code}?done=saved", status_code=303)


# ---------------------------------------------------------------- units (单位登记与变更)

UNIT_NEW_PATH = "/units/new"
#: The unit form's fields: (name, input); the code and type are set at registration only.
UNIT_FIELDS: tuple[tuple[str, str], ...] = (
    ("code", "text"),
    ("unit_type", "choice"),
    ("name", "text"),
    ("licence_no", "text"),
    ("contact_name", "text"),
    ("contact_phone", "text"),
    ("address", "text"),
    ("district", "text"),
    ("latitude", "number"),
    ("longitude", "number"),
)
UNIT_FIXED = frozenset({"code", "unit_type"})


def _unit_editable(actor: Actor) -> set[str]:
    """The fields ``actor`` may change on a unit: a unit's own staff its contact and place, registrars all."""
    if actor.role in EDITORS:
        return {n for n, _ in UNIT_FIELDS if n not in UNIT_FIXED}
    return set(service.UNIT_STAFF_UNIT_FIELDS)


def _unit_page(
    request: Request, actor: Actor, form: PageForm, code: str = "", status_code: int = 200
) -> HTMLResponse:
    shown = [(n, k) for n, k in UNIT_FIELDS if (not code or n not in UNIT_FIXED)]
    if code:
        editable = _unit_editable(actor)
        shown = [(n, k) for n, k in shown if n in editable]
    context = {
        "form": form,
        "code": code,
        "fields": shown,
        "unit_types": [t.value for t in UnitType],
        "action": f"/units/{code}/edit" if code else UNIT_NEW_PATH,
    }
    return render(request, "units/unit_form.html", context, actor=actor, status_code=status_code)


def _unit_values(form: PageForm, names: set[str]) -> dict[str, Any]:
    return {n: (form.values.get(n) or None) for n, _ in UNIT_FIELDS if n in names}


@router.get(UNIT_NEW_PATH, response_class=HTMLResponse)
def new_unit(request: Request, actor: PageActorDep) -> HTMLResponse:
    """登记单位 (admins, regulators)."""
    _require(actor)
    return _unit_page(request, actor, PageForm(values={"unit_type": UnitType.USE_UNIT.value}))


@router.post(UNIT_NEW_PATH, response_class=HTMLResponse)
async def register_unit(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    """As ``POST /api/v1/units``."""
    _require(actor)
    raw = await request.form()
    form = PageForm(values={n: str(raw.get(n, "")).strip()[:TEXT_MAX] for n, _ in UNIT_FIELDS})
    try:
        data = UnitCreate(**{k: v for k, v in _unit_values(form, {n for n, _ in UNIT_FIELDS}).items() if v})
        unit = service.create_unit(session, actor, data, clock)
    except ValidationError as exc:
        _schema_errors(form, exc)
        return _unit_page(request, actor, form, status_code=422)
    except DomainError as exc:
        session.rollback()
        _domain_errors(form, exc)
        return _unit_page(request, actor, form, status_code=exc.status_code)
    session.commit()
    return RedirectResponse(f"/units/{unit.code}?done=registered", status_code=303)


@router.get("/units/{code}/edit", response_class=HTMLResponse)
def edit_unit(request: Request, code: str, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    """变更单位信息: registrars every field; the unit's own staff its contact and place."""
    unit = queries.get_unit(session, actor, code)  # 404 outside scope
    if actor.role not in EDITORS and not actor.unit_scoped:
        raise Forbidden(f"role '{actor.role.value}' may not change units")
    values = {n: _shown(getattr(unit, n)) for n, _ in UNIT_FIELDS}
    return _unit_page(request, actor, PageForm(values=values), code=unit.code)


@router.post("/units/{code}/edit", response_class=HTMLResponse)
async def save_unit(
    request: Request, code: str, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    """As ``PATCH /api/v1/units/{code}`` with the fields the user may change."""
    unit = queries.get_unit(session, actor, code)
    if actor.role not in EDITORS and not actor.unit_scoped:
        raise Forbidden(f"role '{actor.role.value}' may not change units")
    raw = await request.form()
    editable = _unit_editable(actor)
    form = PageForm(
        values={n: str(raw.get(n, "")).strip()[:TEXT_MAX] for n, _ in UNIT_FIELDS if n in editable}
    )
    values = _unit_values(form, editable)
    for name in editable - {"latitude", "longitude"}:  # an emptied text is the empty text
        if values.get(name) is None and name != "name":
            values[name] = ""
    try:
        service.update_unit(session, actor, unit.code, UnitUpdate(**values), clock)
    except ValidationError as exc:
        _schema_errors(form, exc)
        return _unit_page(request, actor, form, code=unit.code, status_code=422)
    except DomainError as exc:
        session.rollback()
        _domain_errors(form, exc)
        return _unit_page(request, actor, form, code=unit.code, status_code=exc.status_code)
    session.commit()
    return RedirectResponse(f"/units/{unit.code}?done=saved", status_code=303)
