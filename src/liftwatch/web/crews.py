"""Admin screens for rescue crews (救援班组): the list, the create and edit forms, standing down.

Production has no demo to create crews: the admin, the regulator and a unit's own staff keep them here
(the command and the API do the same). Who sees and changes which crew is decided by ``rescue.service``
(another unit's crew is not found; operators read every crew and change none); the pages only hide the
forms the service would refuse. A change that lets a crew take an incident waiting for one dispatches it
in the same transaction, and the page says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeAlias
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.errors import Conflict, DomainError, InvalidInput, NotFound
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import UnitType
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import GeoPoint
from liftwatch.web.console import CONSOLE_ROLES, RescuePage, RescuePageDep
from liftwatch.web.templating import N_, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Crew: TypeAlias = rescue.StoredCrew
PAGE = "/crews"
NO_STORE = {"Cache-Control": "no-store"}
CREW_UNIT_TYPES = (UnitType.MAINTENANCE.value, UnitType.RESCUE_STATION.value)
FIELDS = ("id", "name", "phone", "unit", "username", "shift", "latitude", "longitude")
# the flash after a change (?done=...), and the form's own messages (the service's are shown as they are)
DONE = {
    "created": N_("crews.done_created"),
    "changed": N_("crews.done_changed"),
    "stood_down": N_("crews.done_stood_down"),
    "back": N_("crews.done_back"),
}
NOT_A_NUMBER = N_("crews.not_a_number")
POSITION_REQUIRED = N_("crews.position_required")


@dataclass
class CrewForm:
    """The create or edit form as typed; ``errors`` maps a field to its message (an i18n key of this
    page, or the service's own words)."""

    id: str = ""
    name: str = ""
    phone: str = ""
    unit: str = ""
    username: str = ""
    shift: str = ""
    latitude: str = ""
    longitude: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, crew: Crew) -> CrewForm:
        return cls(
            id=crew.id,
            name=crew.name,
            phone=crew.phone,
            unit=crew.unit,
            username=crew.username or "",
            shift=rescue.format_shift(crew),
            latitude=f"{crew.latitude:.6f}",
            longitude=f"{crew.longitude:.6f}",
        )

    def position(self, required: bool) -> GeoPoint | None:
        """The typed position; None when both are empty and it is not required (an edit leaves it)."""
        if not self.latitude and not self.longitude and not required:
            return None
        values: dict[str, float] = {}
        for name in ("latitude", "longitude"):
            text = getattr(self, name)
            try:
                value = float(text)
            except ValueError:
                self.errors[name] = POSITION_REQUIRED if not text else NOT_A_NUMBER
                continue
            if not math.isfinite(value):
                self.errors[name] = NOT_A_NUMBER
                continue
            values[name] = value
        if len(values) < 2:
            return None
        return GeoPoint(values["latitude"], values["longitude"])

    def refused(self, exc: DomainError) -> None:
        """Put the service's field errors next to their fields (``id`` of a crew that exists too)."""
        for err in exc.errors:
            if err.field == "certificate":  # the login's worker holds no valid certificate (people)
                self.errors["username"] = N_("crews.err_certificate")
                continue
            self.errors[err.field if err.field in FIELDS else "form"] = err.message
        if not exc.errors:
            self.errors["form"] = exc.message


@dataclass(frozen=True)
class CrewRow:
    crew: Crew
    on_duty: bool
    can_manage: bool


def _units(session: Session, actor: Actor) -> dict[str, str]:
    """The units whose crews the actor may add, code -> name (maintenance units and rescue stations)."""
    out: dict[str, str] = {}
    for unit_type in CREW_UNIT_TYPES:
        units, _ = registry.list_units(session, actor, unit_type=unit_type, size=10_000)
        for unit in units:
            if rescue.may_manage_crews(session, actor, unit.code):
                out[unit.code] = unit.name
    return out


def _rows(
    session: Session, actor: Actor, clock: Clock, settings: rescue.RescueSettings, unit: str | None
) -> list[CrewRow]:
    manage: dict[str, bool] = {}
    rows = []
    for crew in rescue.list_crews(session, actor, unit):
        if crew.unit not in manage:
            manage[crew.unit] = rescue.may_manage_crews(session, actor, crew.unit)
        rows.append(CrewRow(crew, rescue.crew_on_duty(crew, clock, settings), manage[crew.unit]))
    return rows


def _common(actor: Actor) -> dict[str, Any]:
    return {
        "picks_unit": actor.role in (Role.ADMIN, Role.REGULATOR),
        "sees_console": actor.role in CONSOLE_ROLES,
    }


def _list_page(
    page: RescuePage,
    unit: str,
    form: CrewForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    units = _units(page.session, page.actor)
    if form is None:
        form = CrewForm(unit=unit if unit in units else (next(iter(units)) if len(units) == 1 else ""))
    rows = _rows(page.session, page.actor, page.clock, page.settings, unit or None)
    context = {
        **_common(page.actor),
        "rows": rows,
        "unit": unit,
        "units": units,
        "unit_names": registry.unit_names(page.session, {r.crew.unit for r in rows} | set(units)),
        "filter_units": _filter_units(page.session, page.actor),
        "form": form,
        "flash": _flash(page.request, page.session, page.actor),
    }
    return render(
        page.request, "crews/index.html", context, actor=page.actor, status_code=status_code, headers=NO_STORE
    )


def _filter_units(session: Session, actor: Actor) -> list[str]:
    """The units the centre may narrow the list to: those that have crews."""
    if actor.role not in CONSOLE_ROLES:
        return []
    return sorted({c.unit for c in rescue.list_crews(session, actor)})


def _flash(request: Request, session: Session, actor: Actor) -> dict[str, Any] | None:
    """The message after a change: ``?done=&crew=`` and, when it took a waiting incident, ``&incident=``
    (a crew the actor cannot see gets no message)."""
    done = request.query_params.get("done", "")
    crew_id = request.query_params.get("crew", "")
    if done not in DONE or not crew_id:
        return None
    try:
        rescue.get_crew(session, actor, crew_id)
    except NotFound:
        return None
    incident = request.query_params.get("incident", "")
    return {
        "key": DONE[done],
        "crew": crew_id,
        "incident": int(incident) if incident.isdigit() else None,
    }


def _done(crew: Crew, done: str, busy_before: int | None) -> RedirectResponse:
    """Back to the list with the flash; the incident the change let the crew take, if any."""
    query: dict[str, Any] = {"done": done, "crew": crew.id}
    if crew.busy_incident_id is not None and crew.busy_incident_id != busy_before:
        query["incident"] = crew.busy_incident_id
    return RedirectResponse(f"{PAGE}?{urlencode(query)}", status_code=303)


@router.get(PAGE, response_class=HTMLResponse)
def crews_page(
    page: RescuePageDep,
    unit: str = "",
) -> HTMLResponse:
    """The crews in the actor's scope (``?unit=`` narrows to one unit) and the form for a new one."""
    return _list_page(page, unit.strip())


@router.post(PAGE, response_class=HTMLResponse)
def create_crew(
    page: RescuePageDep,
    id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    shift: Annotated[str, Form()] = "",
    latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
) -> Response:
    """Add a crew; an incident waiting for one is dispatched to it at once (the flash says which)."""
    form = CrewForm(
        id=id.strip(),
        name=name,
        phone=phone.strip(),
        unit=unit.strip(),
        username=username.strip(),
        shift=shift.strip(),
        latitude=latitude.strip(),
        longitude=longitude.strip(),
    )
    units = _units(page.session, page.actor)
    if page.actor.role not in (Role.ADMIN, Role.REGULATOR) and len(units) == 1:
        form.unit = next(iter(units))  # unit staff add to their own unit
    if not form.unit or (units and form.unit not in units):  # no unit at all: the service refuses
        form.errors["unit"] = N_("crews.unit_required")
    where = form.position(required=True)
    try:
        hours = rescue.parse_shift(form.shift)
    except InvalidInput as exc:
        form.refused(exc)
        hours = None
    if not form.errors and where is not None:
        try:
            crew = rescue.add_crew(
                page.session,
                page.actor,
                form.id,
                form.unit,
                form.name,
                where,
                page.clock,
                phone=form.phone,
                username=form.username or None,
                shift=hours,
                settings=page.settings,
            )
        except (InvalidInput, Conflict) as exc:
            page.session.rollback()
            form.refused(exc)
        else:
            page.session.commit()
            return _done(crew, "created", None)
    return _list_page(page, "", form=form, status_code=422)


def _edit_page(
    page: RescuePage,
    crew: Crew,
    form: CrewForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    units = _units(page.session, page.actor)
    context = {
        **_common(page.actor),
        "crew": crew,
        "on_duty": rescue.crew_on_duty(crew, page.clock, page.settings),
        "can_manage": rescue.may_manage_crews(page.session, page.actor, crew.unit),
        "units": units,
        "unit_names": registry.unit_names(page.session, {crew.unit} | set(units)),
        "form": form or CrewForm.of(crew),
    }
    return render(
        page.request, "crews/edit.html", context, actor=page.actor, status_code=status_code, headers=NO_STORE
    )


@router.get(PAGE + "/{crew_id}", response_class=HTMLResponse)
def crew_page(
    page: RescuePageDep,
    crew_id: str,
) -> HTMLResponse:
    """One crew: its edit form for those who may change it, else what is on file."""
    crew = rescue.get_crew(page.session, page.actor, crew_id)
    return _edit_page(page, crew)


@router.post(PAGE + "/{crew_id}", response_class=HTMLResponse)
def edit_crew(
    page: RescuePageDep,
    crew_id: str,
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    shift: Annotated[str, Form()] = "",
    latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
) -> Response:
    """Change a crew; the position only when it was changed (it also dates the crew's last position)."""
    crew = rescue.get_crew(page.session, page.actor, crew_id)
    form = CrewForm(
        id=crew.id,
        name=name,
        phone=phone.strip(),
        unit=unit.strip() or crew.unit,
        username=username.strip(),
        shift=shift.strip(),
        latitude=latitude.strip(),
        longitude=longitude.strip(),
    )
    where = form.position(required=True)
    if where is not None and (round(where.lat, 6), round(where.lon, 6)) == (
        round(crew.latitude, 6),
        round(crew.longitude, 6),
    ):
        where = None  # not moved: the time of the last position stays
    busy_before = crew.busy_incident_id
    if not form.errors:
        change = rescue.CrewChange(
            name=form.name,
            phone=form.phone,
            unit=form.unit if page.actor.role in (Role.ADMIN, Role.REGULATOR) else None,
            position=where,
            username=form.username,
            shift=form.shift,
        )
        try:
            crew = rescue.update_crew(page.session, page.actor, crew.id, change, page.clock, page.settings)
        except (InvalidInput, Conflict) as exc:
            page.session.rollback()
            form.refused(exc)
        else:
            page.session.commit()
            return _done(crew, "changed", busy_before)
        crew = rescue.get_crew(page.session, page.actor, crew_id)
    return _edit_page(page, crew, form=form, status_code=422)


def _set_on_shift(
    page: RescuePage,
    crew_id: str,
    on_shift: bool,
) -> Response:
    crew = rescue.get_crew(page.session, page.actor, crew_id)
    busy_before = crew.busy_incident_id
    crew = rescue.set_crew_on_shift(page.session, page.actor, crew.id, on_shift, page.clock, page.settings)
    page.session.commit()
    return _done(crew, "back" if on_shift else "stood_down", busy_before)


@router.post(PAGE + "/{crew_id}/stand-down", response_class=HTMLResponse)
def stand_down(
    page: RescuePageDep,
    crew_id: str,
) -> Response:
    """Stand the crew down (on leave, vehicle out of service): it keeps the job it has, gets no new one."""
    return _set_on_shift(page, crew_id, False)


@router.post(PAGE + "/{crew_id}/bring-back", response_class=HTMLResponse)
def bring_back(
    page: RescuePageDep,
    crew_id: str,
) -> Response:
    """Bring the crew back on duty; an incident waiting for a crew is dispatched to it at once."""
    return _set_on_shift(page, crew_id, True)
