"""The crew's phone (救援人员手机页): the tasks a maintenance or rescue-station crew is sent to, and its
steps on each: acknowledge (接单), arrive (到场, with the phone's position when the browser gives it),
release the trapped persons (解救) and complete with the cause (结案).

Made for a 390-pixel-wide screen, Chinese by default. Who may see and do what is the rescue service's
decision (``visible_incidents``, ``get_incident`` and the crew actions: an incident outside the crew's
scope is 404); this module only gates the page to crew roles, reads and renders. Since an escalation keeps
the earlier crews on the job, each crew's next step follows its own dispatch (``dispatches_of``), not the
incident's status alone. The task list refreshes every few seconds by htmx polling (:func:`tasks_fragment`),
like the console's board.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput
from liftwatch.registry import queries as registry
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, IncidentStatus
from liftwatch.web.console import RescuePage, RescuePageDep
from liftwatch.web.templating import N_, PageRoute, city_time, render, screen_tz

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The records the rescue service and the registry queries hand out (their tables are the domains' own).
Incident: TypeAlias = rescue.StoredIncident
Crew: TypeAlias = rescue.StoredCrew
Dispatch: TypeAlias = rescue.StoredDispatch
Place: TypeAlias = registry.Place

#: Who may open the crew's pages: maintenance-unit and rescue-station staff (a rescue station's staff have
#: the maintenance role, bound to the station). Whether the user is a crew, and which incidents it sees, is
#: the rescue service's answer.
CREW_ROLES = frozenset({Role.MAINTENANCE})

#: Statuses in which a crew may still have a step to take (the rest are closed: completed, false alarm, ...).
_ACTIVE = frozenset(
    {
        IncidentStatus.RAISED.value,
        IncidentStatus.DISPATCHED.value,
        IncidentStatus.ACKNOWLEDGED.value,
        IncidentStatus.ARRIVED.value,
        IncidentStatus.RELEASED.value,
    }
)
RECENT_LIMIT = 10  # closed incidents shown under the tasks
#: The crew's latest incidents the list looks at (newest alarm first): an incident still open, or awaiting
#: its cause, further back than that is long past every deadline (and flagged stale to the operators).
TASK_WINDOW = 100
DETAIL_MAX = 2000  # the cause's free text (the API's limit too)
POLL_S = 5


def _require_crew_role(actor: Actor) -> None:
    if actor.role not in CREW_ROLES:
        raise Forbidden(f"role '{actor.role.value}' has no crew tasks")


# ---------------------------------------------------------------- what a task shows


def when(value: datetime | None, now: datetime) -> str:
    """A time on the phone: HH:MM today (the city's day), with the date on any other day."""
    if value is None:
        return ""
    local, today = as_utc(value).astimezone(screen_tz()), as_utc(now).astimezone(screen_tz())
    return city_time(value, "%H:%M" if local.date() == today.date() else "%m-%d %H:%M")


@dataclass(frozen=True)
class Deadline:
    """The deadline the crew is working against now: acknowledge within ``ack_limit_s`` of its dispatch,
    arrive within the incident's limit after the alarm (DOMAIN.md §5)."""

    stage: str  # acknowledged | arrived
    due: str  # local time
    minutes: int  # left (not late) or past (late), whole minutes
    late: bool


def own_dispatch(rows: Sequence[Dispatch], crew: Crew | None) -> Dispatch | None:
    """The crew's own dispatch of an incident (the latest still on the job, else its latest): with
    escalation several crews are on one incident, and each answers and arrives on its own dispatch."""
    mine = [d for d in rows if crew is not None and d.crew_id == crew.id]
    active = [d for d in mine if d.withdrawn_at is None]
    chosen = active or mine
    return chosen[-1] if chosen else None


def next_step(inc: Incident, own: Dispatch | None) -> str:
    """The crew's next step on ``inc``: acknowledge and arrive on its own dispatch, release once it is on
    site, complete (the cause) once the persons are out; "" when it has none (withdrawn, or closed). The
    service checks each step again."""
    if inc.status not in _ACTIVE or own is None:
        return ""
    if inc.status == IncidentStatus.RELEASED.value:
        return "complete"
    if own.withdrawn_at is not None:
        return ""
    if own.arrived_at is None:
        return "acknowledge" if own.acknowledged_at is None else "arrive"
    return "release" if inc.status == IncidentStatus.ARRIVED.value else ""


def deadline_of(
    inc: Incident, own: Dispatch | None, step: str, now: datetime, ack_limit_s: int
) -> Deadline | None:
    """The pending deadline of the crew's step, or None once it is on site."""
    if step == "acknowledge" and own is not None:
        stage, due = "acknowledged", as_utc(own.dispatched_at) + timedelta(seconds=ack_limit_s)
    elif step in ("acknowledge", "arrive"):
        stage, due = "arrived", as_utc(inc.alarm_at) + timedelta(minutes=inc.arrival_limit_min)
    else:
        return None
    left = (due - now).total_seconds()
    return Deadline(stage, when(due, now), math.ceil(abs(left) / 60), left < 0)


@dataclass(frozen=True)
class Task:
    """One incident as the crew's list and page show it."""

    incident: Incident
    own: Dispatch | None  # the crew's dispatch
    place: Place | None
    step: str  # next_step(), "" when the crew has none
    deadline: Deadline | None
    alarm: str  # local time of the alarm

    @property
    def address(self) -> str:
        p = self.place
        return " · ".join(x for x in (p.district, p.street, p.address) if x) if p else ""

    @property
    def withdrawn(self) -> bool:
        return self.own is not None and self.own.withdrawn_at is not None


def tasks_of(
    session: Session,
    actor: Actor,
    crew: Crew | None,
    incidents: Sequence[Incident],
    now: datetime,
    ack_limit_s: int,
    closed_dispatches: bool = False,
) -> list[Task]:
    """Tasks for incidents the service has already scoped to the actor. A closed incident has no step:
    its dispatches are read only when asked (its page shows the crew's own times)."""
    places = registry.places_of(session, sorted({i.registration_code for i in incidents}))
    out = []
    for inc in incidents:
        read = closed_dispatches or inc.status in _ACTIVE
        own = own_dispatch(rescue.dispatches_of(session, actor, inc.id), crew) if read else None
        step = next_step(inc, own)
        out.append(
            Task(
                incident=inc,
                own=own,
                place=places.get(inc.registration_code),
                step=step,
                deadline=deadline_of(inc, own, step, now, ack_limit_s),
                alarm=when(inc.alarm_at, now),
            )
        )
    return out


def _urgency(task: Task) -> tuple[int, float]:
    """Most pressing first: a missed deadline, then any step on the way to the persons, then the cause
    reports; the oldest alarm first within each."""
    if task.deadline is not None and task.deadline.late:
        rank = 0
    elif task.step != "complete":
        rank = 1
    else:
        rank = 2
    return (rank, as_utc(task.incident.alarm_at).timestamp())


def _tasks_context(
    session: Session, actor: Actor, clock: Clock, settings: rescue.RescueSettings
) -> dict[str, Any]:
    """The crew's tasks (the incidents where it has a step to take) and its latest other incidents
    (closed, or taken off it); ``crew: None`` for a user of a crew role no crew signs in as."""
    now = clock.now()
    crew = rescue.crew_of(session, actor)
    ctx: dict[str, Any] = {
        "crew": crew,
        "tasks": [],
        "recent": [],
        "poll_s": POLL_S,
        "updated": when(now, now),
    }
    if crew is None:
        return ctx
    incidents = rescue.visible_incidents(session, actor, open_only=False, limit=TASK_WINDOW)
    limit = settings.ack_limit_s
    active = tasks_of(session, actor, crew, [i for i in incidents if i.status in _ACTIVE], now, limit)
    ctx["tasks"] = sorted((t for t in active if t.step), key=_urgency)
    closed = [i for i in incidents if i.status not in _ACTIVE][:RECENT_LIMIT]
    done = [t for t in active if not t.step] + tasks_of(session, actor, crew, closed, now, limit)
    done.sort(key=lambda t: as_utc(t.incident.alarm_at), reverse=True)
    ctx["recent"] = done[:RECENT_LIMIT]
    ctx["unit_name"] = registry.unit_names(session, {crew.unit}).get(crew.unit, "")
    return ctx


# ---------------------------------------------------------------- the task list


@router.get("/crew", response_class=HTMLResponse)
def crew_page(
    page: RescuePageDep,
) -> HTMLResponse:
    """My tasks (我的任务): the incidents this crew is sent to, most pressing first."""
    _require_crew_role(page.actor)
    context = _tasks_context(page.session, page.actor, page.clock, page.settings)
    return render(page.request, "crew/index.html", context, actor=page.actor)


@router.get("/crew/tasks", response_class=HTMLResponse)
def tasks_fragment(
    page: RescuePageDep,
) -> HTMLResponse:
    """The task list alone, polled every :data:`POLL_S` seconds."""
    _require_crew_role(page.actor)
    context = _tasks_context(page.session, page.actor, page.clock, page.settings)
    return render(
        page.request, "crew/_tasks.html", context, actor=page.actor, headers={"Cache-Control": "no-store"}
    )


# ---------------------------------------------------------------- one task and its steps


@dataclass
class StepForm:
    """What the crew typed on the completion form, and what was wrong with it (page-text keys)."""

    cause: str = ""
    detail: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _detail_page(
    page: RescuePage,
    incident_id: int,
    form: StepForm | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    inc = rescue.get_incident(page.session, page.actor, incident_id)  # 404 outside the actor's scope
    now = page.clock.now()
    crew = rescue.crew_of(page.session, page.actor)
    task = tasks_of(
        page.session, page.actor, crew, [inc], now, page.settings.ack_limit_s, closed_dispatches=True
    )[0]
    own = task.own
    stages = [
        (name, when(at, now))
        for name, at in (
            ("alarm", inc.alarm_at),
            ("dispatched", own.dispatched_at if own else inc.dispatched_at),
            ("acknowledged", own.acknowledged_at if own else inc.acknowledged_at),
            ("arrived", own.arrived_at if own else inc.arrived_at),
            ("released", inc.released_at),
            ("completed", inc.completed_at),
        )
    ]
    context = {
        "inc": inc,
        "task": task,
        "stages": stages,
        "causes": [c.value for c in Cause],
        "form": form or StepForm(),
        "conflict": conflict,
    }
    return render(page.request, "crew/incident.html", context, actor=page.actor, status_code=status_code)


@router.get("/crew/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    page: RescuePageDep,
    incident_id: int,
) -> HTMLResponse:
    """One task: where, who called, the deadline, and the form of the next step."""
    _require_crew_role(page.actor)
    return _detail_page(page, incident_id)


def _after_step(incident_id: int) -> RedirectResponse:
    return RedirectResponse(f"/crew/incidents/{incident_id}", status_code=303)


def _conflict(
    page: RescuePage,
    incident_id: int,
    exc: Conflict,
) -> HTMLResponse:
    """The incident moved on (a second tap, the operator closed it): show it as it is now, with a note."""
    page.session.rollback()
    log.info("crew step refused for incident %s by %s: %s", incident_id, page.actor.username, exc.message)
    return _detail_page(page, incident_id, conflict=True, status_code=409)


def _step(page: RescuePage, incident_id: int, do: Callable[[], object]) -> Response:
    """Take one of the crew's steps: refused as the incident now stands (a second tap, the operator closed
    it), the incident as it is now (409); done, committed with its notices, back to the task (303)."""
    try:
        do()
    except Conflict as exc:
        return _conflict(page, incident_id, exc)
    page.session.commit()
    return _after_step(incident_id)


@router.post("/crew/incidents/{incident_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(
    page: RescuePageDep,
    incident_id: int,
) -> Response:
    """接单: the crew has the task and is on its way."""
    _require_crew_role(page.actor)
    return _step(
        page, incident_id, lambda: rescue.acknowledge(page.session, page.actor, incident_id, page.clock)
    )


def parse_position(latitude: str, longitude: str) -> tuple[float, float] | None:
    """The position the page sends with the arrival: two finite numbers, or None (not given, or not a
    number: the browser refused or has no fix). The range is the rescue service's to check."""
    try:
        lat, lon = float(latitude), float(longitude)
    except ValueError:
        return None
    return (lat, lon) if math.isfinite(lat) and math.isfinite(lon) else None


@router.post("/crew/incidents/{incident_id}/arrive", response_class=HTMLResponse)
def arrive(
    page: RescuePageDep,
    incident_id: int,
    latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
) -> Response:
    """到场: the arrival, and the crew's position when the phone gave one. A missing or impossible
    position never holds up the arrival: it is left out (and logged)."""
    _require_crew_role(page.actor)
    position = parse_position(latitude.strip(), longitude.strip())

    def do() -> None:
        rescue.arrive(page.session, page.actor, incident_id, page.clock)
        if position is not None:
            try:
                rescue.report_position(page.session, page.actor, position[0], position[1], page.clock)
            except InvalidInput as exc:
                log.info("arrival position of %s dropped: %s", page.actor.username, exc.message)

    return _step(page, incident_id, do)


@router.post("/crew/incidents/{incident_id}/release", response_class=HTMLResponse)
def release(
    page: RescuePageDep,
    incident_id: int,
    all_released: Annotated[str, Form()] = "yes",
) -> Response:
    """解救: the trapped persons are out (``all_released=no``: not all of them, the rescue failed)."""
    _require_crew_role(page.actor)
    everyone = all_released != "no"
    return _step(
        page, incident_id, lambda: rescue.release(page.session, page.actor, incident_id, page.clock, everyone)
    )


@router.post("/crew/incidents/{incident_id}/complete", response_class=HTMLResponse)
def complete(
    page: RescuePageDep,
    incident_id: int,
    cause: Annotated[str, Form()] = "",
    detail: Annotated[str, Form()] = "",
) -> Response:
    """结案: the cause of the entrapment (required) and what was found, which closes the incident."""
    _require_crew_role(page.actor)
    form = StepForm(cause=cause.strip(), detail=detail.strip())
    if form.cause not in {c.value for c in Cause}:
        form.errors["cause"] = N_("crew.cause_required")
    if len(form.detail) > DETAIL_MAX:
        form.errors["detail"] = N_("crew.detail_too_long")
    if form.errors:
        return _detail_page(page, incident_id, form=form, status_code=422)
    cause_of = Cause(form.cause)
    return _step(
        page,
        incident_id,
        lambda: rescue.complete(
            page.session, page.actor, incident_id, page.clock, page.settings, cause_of, form.detail
        ),
    )
