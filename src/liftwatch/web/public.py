"""Public disclosure (信息公开): the city's public page and the elevator's public page (the code in the car).

No sign-in and no personal data: no person's name, username or phone number. Both pages read only through
the domains' services and read modules, as the platform itself (``SYSTEM_ACTOR``), and keep from what they
get only figures, dates, unit names and links; the existing public rate limit (``core.ratelimit``) covers
them like every request without credentials. docs/PUBLIC.md describes both pages with a worked example.

- ``/public/city``: the headline figures of the current and the last month city-wide (elevators registered
  and in service, entrapments, on-time arrival against its target, average arrival minutes against its
  target, the share of elevators in service whose periodic inspection is not overdue), the latest
  maintenance-unit ratings (top units, red and black lists), the open supervised rectifications, the cost
  disclosure and 96333.
- ``/p/{code}``: the elevator's page gains its last maintenance visit (the day and the maintenance unit,
  never the worker), the inspection's valid-until date (overdue marked), whether a liability policy covers
  it today (the insurer's name only), the complaint button and the 96333 call button. An unknown code still
  answers (404) with the 96333 button and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import InvalidInput, NotFound
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.hazards import service as hazards
from liftwatch.inspection import service as inspection
from liftwatch.insurance import service as insurance
from liftwatch.insurance.domain import PolicyStatus
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderKind, WorkOrderState
from liftwatch.ratings import service as ratings
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import ElevatorStatus
from liftwatch.rescue import exports as rescue_exports
from liftwatch.rescue import service as rescue
from liftwatch.rescue.kpis import MeanDuration, Ratio
from liftwatch.web.templating import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RESCUE_PHONE = "96333"
#: how many of the best-rated maintenance units the city page names (the full ranking is /public/ratings)
TOP_UNITS = 3
#: how long the city page's figures are kept before they are counted again
CITY_CACHE = timedelta(seconds=60)
#: the latest preventive work orders of one elevator looked at for its last visit
VISITS_LOOKED_AT = 50


# ---------------------------------------------------------------- the city page


@dataclass(frozen=True)
class MonthFigures:
    """One calendar month (city clock) city-wide, as ``GET /api/v1/rescue/kpis`` computes it."""

    label: str  # 2026-11
    current: bool  # the month now running (its figures are so far)
    entrapments: int  # rescues: incidents that are neither false alarms nor cancelled calls
    on_time: Ratio  # 按时到达率, target >= 98 %
    arrival: MeanDuration  # 平均到场时间, target <= 30 min


@dataclass(frozen=True)
class UnitListing:
    """A maintenance unit on the city page: its name and rating, nothing else."""

    name: str
    stars: int | None
    rank: int | None
    total: int


@dataclass(frozen=True)
class CityFigures:
    registered: int
    in_service: int
    months: list[MonthFigures]  # the current month first, then the last
    inspection_valid: Ratio  # elevators in service whose periodic inspection is not overdue / in service
    rating_period: str | None  # the latest rated period (None before the first rating)
    top: list[UnitListing]
    red: list[UnitListing]
    black: list[UnitListing]
    supervised: int  # open supervised rectifications (挂牌督办)
    supervised_overdue: int


def _month_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day.replace(day=1), time(0), tz)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_bounds(now: datetime, tz: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """The current and the last calendar month on the city's clock: (YYYY-MM, start, end), current first."""
    today = now.astimezone(tz).date()
    this = today.replace(day=1)
    last = date(this.year - (this.month == 1), (this.month - 2) % 12 + 1, 1)
    return [(f"{m:%Y-%m}", _month_start(m, tz), _month_start(_next_month(m), tz)) for m in (this, last)]


def inspection_validity(session: Session, today: date) -> Ratio:
    """Elevators in service whose periodic inspection is not overdue (no scheduled periodic inspection or
    re-inspection left unsigned past its due day: ``inspection.inspection_overdue_days``) / elevators in
    service."""
    in_service = registry.count_in_service(session)
    overdue_codes = list(inspection.inspection_overdue_days(session, today))
    overdue = sum(
        1
        for e in registry.elevators_by_codes(session, overdue_codes)
        if e.status == ElevatorStatus.IN_USE.value
    )
    return Ratio(in_service - overdue, in_service)


def _listing(row: Any) -> UnitListing:
    """A stored rating row (``ratings.service.public_period``'s) as the city page names it."""
    return UnitListing(row.unit_name or row.unit_code, row.stars, row.rank, row.total)


def city_figures(
    session: Session, now: datetime, settings: Settings, rescue_settings: rescue.RescueSettings
) -> CityFigures:
    """Everything the city page shows, from the domains' services; no person's data."""
    tz = zone(settings.timezone)
    months = []
    for label, start, end in month_bounds(now, tz):
        report = rescue_exports.kpi_report(
            session, SYSTEM_ACTOR, start, end, rescue_settings, now, groupings=()
        )
        k = report.total
        months.append(
            MonthFigures(label, start <= now < end, k.rescues, k.on_time_arrival, k.average_arrival)
        )
    shown = ratings.public_period(session)
    rated = sorted((r for r in shown.rows if r.rank is not None), key=lambda r: r.rank or 0) if shown else []
    supervised = hazards.public_supervised(session, now)
    return CityFigures(
        registered=registry.count_elevators(session),
        in_service=registry.count_in_service(session),
        months=months,
        inspection_valid=inspection_validity(session, now.astimezone(tz).date()),
        rating_period=shown.period.label if shown else None,
        top=[_listing(r) for r in rated[:TOP_UNITS]],
        red=[_listing(r) for r in shown.red] if shown else [],
        black=[_listing(r) for r in shown.black] if shown else [],
        supervised=len(supervised),
        supervised_overdue=sum(1 for s in supervised if s.overdue),
    )


@dataclass
class _Cached:
    at: datetime
    figures: CityFigures


def cached_city_figures(request: Request, session: Session, now: datetime, settings: Settings) -> CityFigures:
    """The city's figures, computed at most once a ``CITY_CACHE`` per web process: the page is open to
    anyone, and its figures read a month of incidents and the whole registry."""
    cached: _Cached | None = getattr(request.app.state, "public_city_figures", None)
    if cached is not None and cached.at <= now < cached.at + CITY_CACHE:
        return cached.figures
    figures = city_figures(session, now, settings, request.app.state.rescue_settings)
    request.app.state.public_city_figures = _Cached(now, figures)
    return figures


@router.get("/public/city", response_class=HTMLResponse)
def city_page(request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep) -> HTMLResponse:
    """电梯安全信息公开: the city's figures for anyone, no sign-in."""
    figures = cached_city_figures(request, session, clock.now(), settings)
    context = {"c": figures, "rescue_phone": RESCUE_PHONE}
    return render(request, "public/city.html", context)


# ---------------------------------------------------------------- the elevator page


@dataclass(frozen=True)
class ElevatorDisclosure:
    """What the elevator page adds to the registry's public view (``registry.queries.public_view``)."""

    last_visit: date | None  # the day (city clock) the last preventive visit was signed
    last_visit_unit: str  # the maintenance unit that did it (its name)
    valid_until: date | None  # the periodic inspection's validity; None: to be inspected now
    inspection_overdue: bool
    insured: bool  # a valid liability policy today
    insurers: list[str]  # the insurers' names


def _last_visit(session: Session, code: str, tz: ZoneInfo) -> tuple[date | None, str]:
    orders = maintenance.list_work_orders(
        session,
        SYSTEM_ACTOR,
        code,
        states=(WorkOrderState.COMPLETED, WorkOrderState.CONFIRMED),
        limit=VISITS_LOOKED_AT,
    )
    done = [o for o in orders if o.kind == WorkOrderKind.PREVENTIVE.value and o.completed_at is not None]
    if not done:
        return None, ""
    last = max(done, key=lambda o: (o.completed_at, o.id))
    assert last.completed_at is not None
    name = registry.unit_names(session, [last.unit_code]).get(last.unit_code, "")
    return last.completed_at.astimezone(tz).date(), name


def elevator_disclosure(
    session: Session, elevator: registry.StoredElevator, now: datetime, settings: Settings
) -> ElevatorDisclosure:
    tz = zone(settings.timezone)
    today = now.astimezone(tz).date()
    code = elevator.registration_code
    visit_day, visit_unit = _last_visit(session, code, tz)
    due = inspection.due_for(session, elevator, settings, today)
    # a failed inspection with no passed re-inspection, or no date to count from: to be inspected now
    valid_until = due.due if due.interval_years > 0 else None
    # overdue: a scheduled inspection left undone past its day, or the validity over (its last day is valid)
    overdue = code in inspection.inspection_overdue_days(session, today, [code]) or (
        valid_until is not None and today > valid_until
    )
    policies = insurance.list_policies(session, SYSTEM_ACTOR, today, [PolicyStatus.VALID], code)
    codes = insurance.insurer_codes(session, policies)
    insurer_names = registry.unit_names(session, [codes.get(p.insurer_unit_id, "") for p in policies])
    return ElevatorDisclosure(
        last_visit=visit_day,
        last_visit_unit=visit_unit,
        valid_until=valid_until,
        inspection_overdue=overdue,
        insured=insurance.insured_on(session, code, today),
        insurers=sorted(set(insurer_names.values())),
    )


@router.get("/p/{code}", response_class=HTMLResponse)
def elevator_page(
    request: Request, code: str, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    """For passengers who scan the code in the car: no login, only what the public may know. An unknown
    (or malformed) code still shows 96333, with a 404."""
    try:
        elevator = registry.get_public_elevator(session, code)
    except (NotFound, InvalidInput):
        context = {"rescue_phone": RESCUE_PHONE}
        return render(request, "public/unknown.html", context, status_code=404)
    view = registry.public_view(session, elevator.registration_code)
    more = elevator_disclosure(session, elevator, clock.now(), settings)
    return render(request, "public.html", {"p": view, "d": more})
