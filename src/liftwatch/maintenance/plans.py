"""The visits a maintenance contract implies (pure: dates and counts in, plans and due dates out).

Traditional model (TSG T5002-2017: maintenance at least once every 15 days): 24 visits a year, visit n of
the contract year due by ``start + 15 n`` days (the 24th on day 360). Which items a visit carries follows its
number in the year (``visit_interval``): every visit the half-month items; every 6th visit (6, 12, 18, 24)
also the quarter items; every 12th (12, 24) also the half-year items; the 24th, the year visit, the year
items, so it carries all four intervals' items. Over a year: 20 half-month visits, 2 quarter visits (6 and
18), 1 half-year visit (12), 1 year visit (24): quarter items 4 times, half-year items twice, year items once.

On-demand maintenance (按需维保, 国市监特设〔2020〕56号): an elevator qualifies when its maintenance unit's
latest rating has at least the minimum stars (3 by default; the caller passes both), it is monitored by
an IoT terminal that is online, in service and inside its inspection validity, and insured
(``qualify_on_demand``; each condition is one small function of plain inputs, true while its data does not
exist yet). Its next visit is due (``on_demand_due``)::

    interval = min(max_days,
                   trip_limit / trips_per_day,            # usage: trips since the last visit, projected
                   door_cycle_limit / door_cycles_per_day,
                   max_days - fault_step_days * faults - entrapment_step_days * entrapments,  # condition
                   previous_interval * max_growth)         # stretch step by step, when the last is known
    interval = max(min_days, floor(interval))              # never below 15 days
    due = min(last_visit + interval, earliest calendar due date of the quarter / half-year / year items)
    due = max(due, last_visit + min_days)

with every named threshold in ``OnDemandSettings``. The quarter, half-year and year items still fall due by
the calendar (90 / 180 / 365 days after they were last done): a visit carries an interval's items when they
fall due before the earliest possible next visit (``min_days`` after it), and the next visit is due no later
than the earliest calendar due date, so on-demand never makes them late. Every due date carries its reasons
as data (``Reason``: a code and parameters the UI translates, labels.py) and an English explanation.
docs/MAINTENANCE.md has a worked example.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from liftwatch.maintenance.catalogue import Catalogue
from liftwatch.maintenance.domain import Appendix, Interval

# ---------------------------------------------------------------- traditional model

TRADITIONAL_INTERVAL_DAYS = 15  # TSG T5002-2017: at least once every 15 days
VISITS_PER_YEAR = 24
QUARTER_EVERY = 6  # visits: 6 x 15 days = 90 days
HALF_YEAR_EVERY = 12


def visit_interval(number: int) -> Interval:
    """The longest interval whose items visit ``number`` (1, 2, ... counted from the contract start) carries.

    Numbers past 24 continue in the next contract year (25 is that year's first half-month visit)."""
    if number < 1:
        raise ValueError(f"visit number {number}: visits are numbered from 1")
    n = (number - 1) % VISITS_PER_YEAR + 1
    if n == VISITS_PER_YEAR:
        return Interval.YEAR
    if n % HALF_YEAR_EVERY == 0:
        return Interval.HALF_YEAR
    if n % QUARTER_EVERY == 0:
        return Interval.QUARTER
    return Interval.HALF_MONTH


@dataclass(frozen=True)
class PlannedVisit:
    """One visit of a plan: its number in the contract, the latest day it may happen, the longest interval
    it carries and the codes of the items it carries (that interval's and every shorter one's)."""

    number: int
    due: date
    interval: Interval
    item_codes: tuple[str, ...]


def traditional_plan(
    start: date, appendix: Appendix, catalogue: Catalogue, visits: int = VISITS_PER_YEAR
) -> list[PlannedVisit]:
    """The visits of a traditional contract starting on ``start``: visit n due by ``start + 15 n`` days
    (each visit at most 15 days after the previous one when each happens on its due day)."""
    plan = []
    for number in range(1, visits + 1):
        interval = visit_interval(number)
        items = catalogue.items_due(appendix, interval)
        plan.append(
            PlannedVisit(
                number=number,
                due=start + timedelta(days=TRADITIONAL_INTERVAL_DAYS * number),
                interval=interval,
                item_codes=tuple(i.code for i in items),
            )
        )
    return plan


def traditional_next_due(last_visit: date) -> date:
    """A traditional elevator's next visit is due 15 days after its last one, whenever that was."""
    return last_visit + timedelta(days=TRADITIONAL_INTERVAL_DAYS)


# ---------------------------------------------------------------- reasons


@dataclass(frozen=True)
class Reason:
    """Why a plan came out as it did, as data: a code (labels.PLAN_REASON translates it) and its
    parameters, e.g. Reason("trips_high", {"trips": 41000, "limit": 30000, ...})."""

    code: str
    params: Mapping[str, int | float | str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int | float | str]:
        """{"code": ..., **params}: the shape the API and the UI receive."""
        return {"code": self.code, **self.params}


# ---------------------------------------------------------------- on-demand qualification

#: the fewest stars of a maintenance unit's latest rating (星级评定, 1-5) for on-demand maintenance when the
#: caller passes none: 3 stars is 60 points of 100, the pass mark (docs/RATINGS.md, LIFTWATCH_RATING_*)
DEFAULT_MIN_STARS = 3


def unit_rating_qualifies(stars: int | None, min_stars: int = DEFAULT_MIN_STARS) -> bool:
    """The maintenance unit's latest rating has at least ``min_stars`` stars. No rating (None: no period
    rated yet, or the unit too small to be rated) qualifies: the condition is "not rated low". The stars
    come from the ratings domain through the caller (maintenance never imports ratings: layers)."""
    return stars is None or stars >= min_stars


def iot_qualifies(terminal_fitted: bool = True, online: bool = True) -> bool:
    """The elevator is monitored: an IoT terminal is fitted and online (on-demand rests on its data)."""
    return terminal_fitted and online


def inspection_qualifies(valid_until: date | None, today: date, in_service: bool = True) -> bool:
    """The elevator is in service and inside its periodic inspection validity (valid through
    ``valid_until``). No inspection record yet (None: inspection comes later) qualifies."""
    return in_service and (valid_until is None or today <= valid_until)


def insurance_qualifies(insured: bool | None = None) -> bool:
    """Liability insurance is in force. Unknown (None: insurance records come later) qualifies."""
    return insured is None or insured


@dataclass(frozen=True)
class QualificationInput:
    """What on-demand qualification looks at, as plain values; None means "no data yet" (qualifies)."""

    today: date
    unit_stars: int | None = None  # the unit's latest rating (1-5 stars), passed in by the caller
    min_stars: int = DEFAULT_MIN_STARS
    terminal_fitted: bool = True
    online: bool = True
    in_service: bool = True
    inspection_valid_until: date | None = None
    insured: bool | None = None


@dataclass(frozen=True)
class Qualification:
    """Whether an elevator may be maintained on demand; ``reasons`` name every condition not met."""

    qualified: bool
    reasons: tuple[Reason, ...]
    explanation: str


def qualify_on_demand(facts: QualificationInput) -> Qualification:
    """Apply the pilot's entry conditions (DOMAIN.md §4): every failed condition is a reason."""
    reasons: list[Reason] = []
    texts: list[str] = []
    if not unit_rating_qualifies(facts.unit_stars, facts.min_stars):
        reasons.append(
            Reason("unit_rated_low", {"stars": int(facts.unit_stars or 0), "min": facts.min_stars})
        )
        texts.append(
            f"the maintenance unit is rated {facts.unit_stars} of 5 stars, {facts.min_stars} required"
        )
    if not facts.terminal_fitted:
        reasons.append(Reason("iot_missing"))
        texts.append("no IoT terminal is fitted")
    elif not iot_qualifies(facts.terminal_fitted, facts.online):
        reasons.append(Reason("iot_offline"))
        texts.append("the IoT terminal is offline")
    if not facts.in_service:
        reasons.append(Reason("out_of_service"))
        texts.append("the elevator is out of service")
    elif not inspection_qualifies(facts.inspection_valid_until, facts.today):
        valid_until = facts.inspection_valid_until.isoformat() if facts.inspection_valid_until else ""
        reasons.append(Reason("inspection_expired", {"valid_until": valid_until}))
        texts.append(f"its inspection expired on {valid_until}")
    if not insurance_qualifies(facts.insured):
        reasons.append(Reason("not_insured"))
        texts.append("it has no liability insurance")
    if reasons:
        return Qualification(
            False, tuple(reasons), "Not qualified for on-demand maintenance: " + "; ".join(texts) + "."
        )
    return Qualification(True, (Reason("qualified"),), "Qualified for on-demand maintenance.")


# ---------------------------------------------------------------- on-demand interval


@dataclass(frozen=True)
class OnDemandSettings:
    """The thresholds of the on-demand rule (module docstring), with defaults that fit the pilots' 1-3
    months: a residential elevator of ~330 trips a day reaches ``trip_limit`` in 90 days."""

    min_days: int = TRADITIONAL_INTERVAL_DAYS  # never less often than the traditional model
    max_days: int = 90  # pilots report 1-3 months
    trip_limit: int = 30_000  # trips between two visits
    door_cycle_limit: int = 60_000  # door open-close cycles between two visits (about 2 a trip)
    fault_step_days: int = 15  # each fault since the last visit brings the next one this much closer
    entrapment_step_days: int = 45  # each entrapment since the last visit: this much closer
    max_growth: float = 2.0  # the interval at most doubles from one visit to the next (15, 30, 60, 90)
    quarter_days: int = 90  # calendar periods of the longer intervals' items
    half_year_days: int = 180
    year_days: int = 365

    def __post_init__(self) -> None:
        if not 1 <= self.min_days <= self.max_days:
            raise ValueError(
                f"on-demand interval: need 1 <= min_days ({self.min_days}) <= max_days ({self.max_days})"
            )
        if self.trip_limit <= 0 or self.door_cycle_limit <= 0:
            raise ValueError("on-demand interval: trip_limit and door_cycle_limit must be positive")
        if self.max_growth < 1:
            raise ValueError(f"on-demand interval: max_growth {self.max_growth} must be at least 1")

    def period_days(self, interval: Interval) -> int:
        """How many days an interval's items may go undone by the calendar."""
        return {
            Interval.HALF_MONTH: self.min_days,
            Interval.QUARTER: self.quarter_days,
            Interval.HALF_YEAR: self.half_year_days,
            Interval.YEAR: self.year_days,
        }[interval]


DEFAULT_ON_DEMAND = OnDemandSettings()
_LONGER = (Interval.QUARTER, Interval.HALF_YEAR, Interval.YEAR)


@dataclass(frozen=True)
class Usage:
    """What the terminal counted since the last visit (up to ``as_of``)."""

    trips: int = 0
    door_cycles: int = 0
    faults: int = 0
    entrapments: int = 0
    #: counts that could not be known (no terminal readings, a counter reset): "trips", "door_cycles";
    #: they stand at 0, so they never bring a visit closer, and the explanation says so
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class OnDemandDue:
    """The next visit of an on-demand elevator: due date, interval from the last visit, the longest interval
    whose items that visit carries, and why: ``reasons`` lists every factor that asked for less than the
    maximum (in the formula's order), ``deciding`` the one that set the date; an English explanation."""

    due: date
    interval_days: int
    carries: Interval
    reasons: tuple[Reason, ...]
    explanation: str
    deciding: Reason | None = None

    def item_codes(self, catalogue: Catalogue, appendix: Appendix) -> tuple[str, ...]:
        """The items the visit carries."""
        return tuple(i.code for i in catalogue.items_due(appendix, self.carries))


def calendar_due(
    last_done: Mapping[Interval, date], interval: Interval, settings: OnDemandSettings
) -> date | None:
    """When an interval's items fall due by the calendar; None when never done (due at the next visit)."""
    done = last_done.get(interval)
    return None if done is None else done + timedelta(days=settings.period_days(interval))


def intervals_carried(
    visit_on: date, last_done: Mapping[Interval, date], settings: OnDemandSettings = DEFAULT_ON_DEMAND
) -> Interval:
    """The longest interval whose items a visit on ``visit_on`` carries: an interval is carried when its
    items were never done or fall due before the earliest possible next visit (``min_days`` later). A longer
    interval's visit carries the shorter ones' items anyway (``Catalogue.items_due``)."""
    horizon = visit_on + timedelta(days=settings.min_days)
    carried = Interval.HALF_MONTH
    for interval in _LONGER:
        due = calendar_due(last_done, interval, settings)
        if due is None or due <= horizon:
            carried = interval
    return carried


def on_demand_due(
    last_visit: date,
    as_of: date,
    usage: Usage,
    last_done: Mapping[Interval, date] | None = None,
    previous_interval_days: int | None = None,
    settings: OnDemandSettings = DEFAULT_ON_DEMAND,
) -> OnDemandDue:
    """The next visit of an on-demand elevator, by the rule of the module docstring.

    ``usage`` is what the terminal counted from ``last_visit`` to ``as_of``; its daily rate (over at least
    one day) projects when the trip and door-cycle limits are reached. ``last_done`` holds when the quarter,
    half-year and year items were last done (missing: never; the visit carries them). Recompute as counts
    arrive: a busier or less healthy elevator's due date moves closer, never below ``min_days``."""
    s = settings
    done = dict(last_done or {})
    elapsed = max((as_of - last_visit).days, 1)
    caps: list[tuple[float, Reason, str]] = []  # (days this factor allows, why, in English)
    params: dict[str, int | float | str]
    days: float
    if usage.trips > 0:
        per_day = usage.trips / elapsed
        days = s.trip_limit / per_day
        if days < s.max_days:
            params = {
                "trips": usage.trips,
                "limit": s.trip_limit,
                "per_day": round(per_day),
                "days": math.floor(days),
            }
            text = (
                f"{usage.trips} trips in {elapsed} days reach the limit of {s.trip_limit}"
                f" after {math.floor(days)} days"
            )
            caps.append((days, Reason("trips_high", params), text))
    if usage.door_cycles > 0:
        per_day = usage.door_cycles / elapsed
        days = s.door_cycle_limit / per_day
        if days < s.max_days:
            params = {
                "door_cycles": usage.door_cycles,
                "limit": s.door_cycle_limit,
                "per_day": round(per_day),
                "days": math.floor(days),
            }
            text = (
                f"{usage.door_cycles} door cycles in {elapsed} days reach the limit of {s.door_cycle_limit}"
                f" after {math.floor(days)} days"
            )
            caps.append((days, Reason("door_cycles_high", params), text))
    penalty = s.fault_step_days * usage.faults + s.entrapment_step_days * usage.entrapments
    if penalty > 0:
        days = s.max_days - penalty
        left = max(s.max_days - penalty, 0)
        if usage.faults:
            caps.append(
                (
                    days,
                    Reason(
                        "faults",
                        {"faults": usage.faults, "step_days": s.fault_step_days, "days": left},
                    ),
                    f"{usage.faults} fault(s) since the last visit bring it"
                    f" {s.fault_step_days * usage.faults} days closer",
                )
            )
        if usage.entrapments:
            params = {
                "entrapments": usage.entrapments,
                "step_days": s.entrapment_step_days,
                "days": left,
            }
            caps.append(
                (
                    days,
                    Reason("entrapments", params),
                    f"{usage.entrapments} entrapment(s) since the last visit bring it "
                    f"{s.entrapment_step_days * usage.entrapments} days closer",
                )
            )
    if previous_interval_days is not None:
        days = previous_interval_days * s.max_growth
        if days < s.max_days:
            params = {
                "previous_days": previous_interval_days,
                "factor": s.max_growth,
                "days": math.floor(days),
            }
            caps.append(
                (
                    days,
                    Reason("growth_capped", params),
                    f"the interval grows at most {s.max_growth:g} times the last one"
                    f" ({previous_interval_days} days)",
                )
            )

    raw = min([float(s.max_days), *(c[0] for c in caps)])
    interval_days = max(s.min_days, min(s.max_days, math.floor(raw)))
    reasons = [c[1] for c in caps]
    texts = [c[2] for c in caps]
    if not caps:
        reasons.append(Reason("max_interval", {"days": s.max_days}))
        texts.append(f"quiet and healthy: the longest interval, {s.max_days} days")
        deciding = reasons[-1]
    elif raw < s.min_days:
        reasons.append(Reason("min_interval", {"days": s.min_days}))
        texts.append(f"never less than {s.min_days} days")
        deciding = reasons[-1]
    else:
        deciding = min(caps, key=lambda c: c[0])[1]  # the first of the tightest
    due = last_visit + timedelta(days=interval_days)

    # the longer intervals' items fall due by the calendar: the visit may not come later than the first
    for interval in _LONGER:
        cal = calendar_due(done, interval, s)
        if cal is not None and cal < due:
            due = max(cal, last_visit + timedelta(days=s.min_days))
            reasons.append(Reason("calendar_items", {"interval": interval.value, "due": cal.isoformat()}))
            deciding = reasons[-1]
            texts.append(f"the {interval.value.replace('_', '-')} items fall due on {cal.isoformat()}")
    interval_days = (due - last_visit).days
    carries = intervals_carried(due, done, s)
    if usage.unknown:
        names = " and ".join(u.replace("_", " ") for u in usage.unknown)
        texts.append(f"{names} since the last visit unknown (counted as none)")
    explanation = (
        f"Next visit due {due.isoformat()} ({interval_days} days after {last_visit.isoformat()}): "
        + "; ".join(texts)
        + "."
    )
    return OnDemandDue(due, interval_days, carries, tuple(reasons), explanation, deciding)
