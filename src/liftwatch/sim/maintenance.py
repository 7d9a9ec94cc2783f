"""Simulated maintenance (维保) of the simulated city: visits on plan, a share fake, with ground truth.

Each maintenance unit's elevators are shared among its workers (about ``ELEVATORS_PER_WORKER`` each, by
neighbourhood); every elevator is visited every 15 days (TSG T5002-2017), all elevators of a building on
the same day, the visit carrying the catalogue items due (a year visit every 24th, half-year every 12th,
quarter every 6th). A worker's day starts at 08:30-09:00 local time and goes building to building by road
with a lunch break; malls and metro stations are maintained at night from 22:00 (visits that cross
midnight). A real visit checks in near the elevator, switches it to inspection mode (检修) for most of the
visit and lasts what its items take at the worker's pace.

A configurable share of visits is fake in each of the six kinds of ``liftwatch.maintenance.fakes``; a fake
shows the signs of its kind and, as far as the simulator can arrange it, only those:

* ``no_inspection_mode``: the elevator is never in inspection mode (half parked out of service, half left
  in normal service with its passengers);
* ``normal_service_during_visit``: a few minutes of inspection at the start, normal service after;
* ``too_short``: 10-40% of the time the items would take the worker;
* ``far_check_in``: checked in 1.5-20 km away (from the office, from home);
* ``two_places_at_once``: the visit is moved to overlap another visit of the same worker at least 1 km
  away, within a week (the other record is signed for a colleague's work: the elevator itself shows a
  real visit); the visits it leaves no time to reach are its counterparts in the truth;
* ``terminal_offline``: the terminal is unplugged up to 15 minutes before check-in until up to 20 after
  check-out.
The telemetry kinds are only drawn for elevators with a terminal; drawn for one without, the visit stays
real. The honest noise is not tuned away: GPS error (most fixes within tens of metres, 3% coarse indoor
fixes of 100-1000 m accuracy), fast but legitimate workers, mid-visit test runs in normal service, visits
that start in the machine room before switching to inspection, late check-outs, terminals that drop out
for 0.5-15 minutes during a visit, and terminals that were already offline for hours before it.

What is simulated directly and what goes through the pipeline later: the telemetry side is produced here
as the summary ``fakes.Telemetry`` the detector consumes (online spans over the visit +- 2 h, inspection
and normal-service spans and runs over the visit +- 10 min), not as terminal messages. The wiring that
builds that summary from the status messages' service mode (``ServiceMode.INSPECTION``) and the terminal's
online state in the telemetry pipeline comes later; then the simulated terminals will show the visits in
their own status stream (sim/rides.py) and this module will only plan the visits and the truth.

Deterministic: the same fleet, seed, start and shares give the same visits, telemetry and truth.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import Evidence, Interval, appendix_of
from liftwatch.maintenance.fakes import (
    TELEMETRY_KINDS,
    FakeKind,
    Point,
    SignedItem,
    Span,
    Telemetry,
    Visit,
)
from liftwatch.registry.domain import ElevatorKind, ElevatorStatus, PlaceType
from liftwatch.sim.plan import CityPlan

__all__ = [
    "DEFAULT_SHARES",
    "ELEVATORS_PER_WORKER",
    "SimVisit",
    "SiteElevator",
    "check_in_point",
    "draw_fake",
    "fleet_from_plan",
    "honest_minutes",
    "items_due",
    "offline_spans",
    "share_among_workers",
    "simulate_visits",
    "truth_records",
    "visit_modes",
    "write_truth",
]

LOCAL = timezone(timedelta(hours=8))  # Asia/Shanghai, as the telemetry simulator
VISIT_EVERY_DAYS = 15  # TSG T5002-2017: at least every 15 days
#: Several cities cap a maintenance worker's load at about 60 elevators; units plan fewer.
ELEVATORS_PER_WORKER = 40
_PER_DAY, _PER_NIGHT = 6, 4  # lifts of one building maintained on one day / night
DEFAULT_SHARES: Mapping[FakeKind, float] = {k: 0.03 for k in FakeKind}
TELEMETRY_WINDOW = timedelta(hours=2)
MODE_WINDOW = timedelta(minutes=10)
_NIGHT_PLACES = (PlaceType.MALL.value, PlaceType.METRO.value)
_MOVING = (ElevatorKind.ESCALATOR.value, ElevatorKind.MOVING_WALK.value)
#: Daytime trips an hour in normal service, by place (low, high): a residential lift makes 100-400 a day.
_TRIPS_PER_HOUR: dict[str, tuple[float, float]] = {
    PlaceType.RESIDENTIAL.value: (6, 20),
    PlaceType.OFFICE.value: (20, 60),
    PlaceType.MALL.value: (20, 60),
    PlaceType.HOSPITAL.value: (30, 60),
    PlaceType.HOTEL.value: (10, 30),
    PlaceType.METRO.value: (20, 60),
}
_M_PER_DEG_LAT = 110_574.0
_NOT_YET = datetime(2000, 1, 1, tzinfo=LOCAL)  # a job's check-in before its day is routed


@dataclass(frozen=True, slots=True)
class SiteElevator:
    """What the simulator needs of one elevator in use: where, what, who maintains it, is it monitored."""

    registration_code: str
    kind: str
    place_type: str
    unit: str
    lat: float
    lon: float
    monitored: bool  # has an IoT terminal


@dataclass(slots=True)
class SimVisit:
    """One simulated visit: the record as signed, the telemetry summary (None: no terminal), the truth."""

    visit: Visit
    telemetry: Telemetry | None
    fake: FakeKind | None = None
    # two_places_at_once: the worker's visits this fake leaves no time to reach (overlapping, or a gap
    # shorter than the fastest simulated trip), and, on those visits, the fakes that conflict with them
    counterparts: tuple[str, ...] = ()
    counterpart_of: tuple[str, ...] = ()
    interval: Interval = Interval.HALF_MONTH
    noise: tuple[str, ...] = ()  # the honest noise drawn for this visit (for tests and the bench)


def fleet_from_plan(elevators: int, seed: int = 1, as_of: date | None = None) -> list[SiteElevator]:
    """The elevators in use with a maintenance unit of the city ``CityPlan`` lays out (no database)."""
    plan = CityPlan(elevators, seed, as_of or date(2026, 11, 23))
    codes = [u.code for u in plan.units]
    out: list[SiteElevator] = []
    for rows, _ in plan.elevator_chunks(1, 1):
        for r in rows:
            if r["status"] != ElevatorStatus.IN_USE.value or r["maintenance_unit_id"] is None:
                continue
            out.append(
                SiteElevator(
                    r["registration_code"],
                    r["kind"],
                    r["place_type"],
                    codes[r["maintenance_unit_id"] - 1],
                    r["latitude"],
                    r["longitude"],
                    bool(r["iot_terminal_id"]),
                )
            )
    return out


@lru_cache(maxsize=32)
def items_due(kind: str, interval: Interval) -> tuple[SignedItem, ...]:
    """The catalogue items a visit of ``interval`` to an elevator of ``kind`` carries."""
    catalogue = load_catalogue()
    return tuple(SignedItem(i.code, i.evidence) for i in catalogue.items_due(appendix_of(kind), interval))


def _interval(n: int) -> Interval:
    """The n-th visit of an elevator's year (0-based, 24 a year)."""
    k = n % 24
    if k == 23:
        return Interval.YEAR
    if k == 11:
        return Interval.HALF_YEAR
    if k % 6 == 5:
        return Interval.QUARTER
    return Interval.HALF_MONTH


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance, good to well under 1% across a city."""
    dy = (a[0] - b[0]) * _M_PER_DEG_LAT
    dx = (a[1] - b[1]) * _M_PER_DEG_LAT * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)


def offset(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    dlat = metres * math.cos(bearing) / _M_PER_DEG_LAT
    dlon = metres * math.sin(bearing) / (_M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


@dataclass(slots=True)
class _Job:
    """A planned visit while the schedule is built."""

    elevator: SiteElevator
    worker: str
    interval: Interval
    check_in: datetime = _NOT_YET
    minutes: float = 0.0
    fake: FakeKind | None = None
    night: bool = False
    noise: list[str] = field(default_factory=list)
    vid: str = ""
    counterparts: list[str] = field(default_factory=list)
    counterpart_of: list[str] = field(default_factory=list)

    @property
    def check_out(self) -> datetime:
        return self.check_in + timedelta(minutes=self.minutes)


def honest_minutes(items: Sequence[SignedItem], pace: float, rng: random.Random, noise: list[str]) -> float:
    """What the items really take: 8-15 min of setup, about a minute an item, more for photos and
    measurements, at the worker's pace; one visit in 12 is fast but legitimate (an experienced worker on a
    lift in good order)."""
    base = rng.uniform(8, 15)
    for item in items:
        base += rng.uniform(0.7, 1.3)
        if item.evidence is Evidence.PHOTO:
            base += rng.uniform(0.5, 1.5)
        elif item.evidence is Evidence.MEASUREMENT:
            base += rng.uniform(2.0, 5.0)
    factor = pace * math.exp(rng.gauss(0, 0.12))
    if rng.random() < 1 / 12:
        factor *= rng.uniform(0.6, 0.85)
        noise.append("fast")
    return base * factor


def checked_shares(shares: Mapping[FakeKind, float]) -> dict[FakeKind, float]:
    """Each kind's share of the visits; refused when they add up to more than 1."""
    out = dict(shares)
    if any(v < 0 for v in out.values()) or sum(out.values()) > 1:
        raise ValueError(f"fake shares must be >= 0 and add up to at most 1: {sum(out.values()):.2f}")
    return out


def draw_fake(rng: random.Random, shares: Mapping[FakeKind, float], monitored: bool) -> FakeKind | None:
    """One visit's kind: fake of a kind with its share, else real (None). One draw; a telemetry kind drawn
    for an elevator without a terminal stays a real visit (nothing would show it)."""
    r = rng.random()
    acc = 0.0
    for kind in FakeKind:
        acc += shares.get(kind, 0.0)
        if r < acc:
            return None if kind in TELEMETRY_KINDS and not monitored else kind
    return None


def too_short_factor(rng: random.Random) -> float:
    """A too-short fake lasts this share of what the items really take the worker."""
    return rng.uniform(0.1, 0.4)


def share_among_workers(fleet: Sequence[SiteElevator]) -> dict[str, list[SiteElevator]]:
    """Each unit's elevators shared among its workers by neighbourhood (a 1 km grid, then position); the
    workers are named ``<unit code>-W01``... (the demo's worker accounts, sim/contracts.py)."""
    by_unit: dict[str, list[SiteElevator]] = defaultdict(list)
    for e in fleet:
        by_unit[e.unit].append(e)
    out: dict[str, list[SiteElevator]] = {}
    for unit in sorted(by_unit):
        es = sorted(
            by_unit[unit], key=lambda e: (round(e.lat, 2), round(e.lon, 2), e.lat, e.lon, e.registration_code)
        )
        n = max(1, round(len(es) / ELEVATORS_PER_WORKER))
        size = math.ceil(len(es) / n)
        for k in range(n):
            chunk = es[k * size : (k + 1) * size]
            if chunk:
                out[f"{unit}-W{k + 1:02d}"] = chunk
    return out


def _route(
    jobs: list[_Job], start: datetime, home: tuple[float, float], rng: random.Random, lunch: bool
) -> datetime:
    """Visit ``jobs`` nearest first from ``home``, setting their check-in times (minutes already set);
    returns when the last one ends."""
    t = start
    here = home
    todo = list(jobs)
    had_lunch = not lunch
    while todo:
        nxt = min(
            todo,
            key=lambda j: (distance_m(here, (j.elevator.lat, j.elevator.lon)), j.elevator.registration_code),
        )
        todo.remove(nxt)
        metres = distance_m(here, (nxt.elevator.lat, nxt.elevator.lon))
        if metres < 150:
            t += timedelta(minutes=rng.uniform(1, 4))  # next lift of the same building
        else:  # by road: 1.3-1.6 x the straight line at 15-30 km/h, then parking
            road_km = metres / 1000 * rng.uniform(1.3, 1.6)
            t += timedelta(minutes=road_km / rng.uniform(15, 30) * 60 + rng.uniform(3, 10))
        if not had_lunch and t.astimezone(LOCAL).hour >= 12:
            t += timedelta(minutes=rng.uniform(30, 60))
            had_lunch = True
        nxt.check_in = t
        t = nxt.check_out
        here = (nxt.elevator.lat, nxt.elevator.lon)
    return t


def simulate_visits(
    fleet: Sequence[SiteElevator],
    start: date,
    days: int = 91,
    seed: int = 1,
    shares: Mapping[FakeKind, float] | None = None,
) -> list[SimVisit]:
    """The visits of ``days`` days from ``start`` (local dates) to ``fleet``, each with its telemetry summary
    and truth; ``shares`` is each kind's share of the visits (default 3% each; the telemetry kinds are drawn
    on every visit and kept only for elevators with a terminal)."""
    shares = checked_shares(DEFAULT_SHARES if shares is None else shares)
    rng = random.Random(f"{seed}:maintenance")
    unit_home: dict[str, tuple[float, float]] = {}
    workers = share_among_workers(fleet)
    jobs: list[_Job] = []
    days_of: dict[tuple[str, int], list[_Job]] = defaultdict(list)
    for worker, elevators in workers.items():
        pace = math.exp(rng.gauss(0, 0.12))
        unit = elevators[0].unit
        if unit not in unit_home:
            e0 = elevators[0]
            unit_home[unit] = offset(e0.lat, e0.lon, rng.uniform(500, 4000), rng.uniform(0, 2 * math.pi))
        phase_of: dict[tuple[float, float], int] = {}
        seen: dict[tuple[float, float], int] = defaultdict(int)
        for e in elevators:
            # a building's lifts on the same day, at most a day's (or a night's) work of them
            where = (e.lat, e.lon)
            per_day = _PER_NIGHT if e.place_type in _NIGHT_PLACES else _PER_DAY
            phase = (phase_of.setdefault(where, rng.randrange(VISIT_EVERY_DAYS)) + seen[where] // per_day) % (
                VISIT_EVERY_DAYS
            )
            seen[where] += 1
            first_n = rng.randrange(24)
            for n, day in enumerate(range(phase, days, VISIT_EVERY_DAYS)):
                interval = _interval(first_n + n)
                job = _Job(e, worker, interval, night=e.place_type in _NIGHT_PLACES)
                job.minutes = honest_minutes(items_due(e.kind, interval), pace, rng, job.noise)
                jobs.append(job)
                days_of[(worker, day)].append(job)
    # fakes: one draw per visit, in plan order
    for job in jobs:
        job.fake = kind = draw_fake(rng, shares, job.elevator.monitored)
        if kind is FakeKind.TOO_SHORT:
            job.minutes *= too_short_factor(rng)
    # the days' routes; a worker starts no earlier than half an hour after the last job ended
    free_at: dict[str, datetime] = {}
    for (worker, day), todays in sorted(days_of.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        local_day = start + timedelta(days=day)
        home = unit_home[todays[0].elevator.unit]
        rest = timedelta(minutes=30)
        for jobs_now, at, lunch in (
            ([j for j in todays if not j.night], time(8, 30), True),
            ([j for j in todays if j.night], time(22, 0), False),
        ):
            if not jobs_now:
                continue
            begin = datetime.combine(local_day, at, tzinfo=LOCAL) + timedelta(minutes=rng.uniform(0, 30))
            if worker in free_at:
                begin = max(begin, free_at[worker] + rest)
            free_at[worker] = _route(jobs_now, begin, home, rng, lunch=lunch)
    jobs.sort(key=lambda j: (j.check_in, j.elevator.registration_code))
    for n, job in enumerate(jobs, start=1):
        job.vid = f"V{n:07d}"
        if job.fake is None and rng.random() < 0.05:  # checked out late (forgot, checked out in the van)
            job.minutes += rng.expovariate(1 / 4)
            job.noise.append("late_check_out")
    _move_two_places(jobs, rng)
    return [_finish(job, rng) for job in jobs]


def _move_two_places(jobs: list[_Job], rng: random.Random) -> None:
    """Move each two_places fake onto another visit of the same worker at least 1 km away, within a week."""
    by_worker: dict[str, list[_Job]] = defaultdict(list)
    for j in jobs:
        by_worker[j.worker].append(j)
    for j in jobs:
        if j.fake is not FakeKind.TWO_PLACES_AT_ONCE:
            continue
        here = (j.elevator.lat, j.elevator.lon)
        hosts = [
            o
            for o in by_worker[j.worker]
            if o is not j
            and o.fake is None
            and abs((o.check_in - j.check_in).total_seconds()) < 7 * 86400
            and distance_m(here, (o.elevator.lat, o.elevator.lon)) >= 1000
        ]
        if not hosts:
            j.fake = None  # nowhere to be at the same time: stays a real visit
            j.noise.append("two_places_not_placed")
            continue
        host = rng.choice(hosts)
        j.check_in = host.check_in + timedelta(minutes=host.minutes * rng.uniform(0.1, 0.6))
    # the truth: every visit of the worker that the fake leaves no time to reach (overlapping, or a gap
    # shorter than the fastest trip the simulated workers make: 1.3 x the straight line at 30 km/h)
    for j in jobs:
        if j.fake is not FakeKind.TWO_PLACES_AT_ONCE:
            continue
        here = (j.elevator.lat, j.elevator.lon)
        for o in by_worker[j.worker]:
            metres = distance_m(here, (o.elevator.lat, o.elevator.lon))
            if o is j or metres < 300:
                continue
            fastest = timedelta(minutes=metres / 1000 * 1.3 / 30 * 60)
            if o.check_in < j.check_out + fastest and j.check_in < o.check_out + fastest:
                j.counterparts.append(o.vid)
                o.counterpart_of.append(j.vid)


def check_in_point(
    lat: float, lon: float, fake: FakeKind | None, rng: random.Random, noise: list[str]
) -> Point:
    """The phone's fix at check-in at the elevator at (lat, lon): GPS near it, a coarse indoor fix now and
    then, or, a far_check_in fake, 1.5-20 km away."""
    bearing = rng.uniform(0, 2 * math.pi)
    if fake is FakeKind.FAR_CHECK_IN:
        far_lat, far_lon = offset(lat, lon, _log_uniform(rng, 1500, 20000), bearing)
        return Point(far_lat, far_lon, rng.uniform(5, 30))
    r = rng.random()
    if r < 0.85:
        err, acc = abs(rng.gauss(0, 15)), rng.uniform(5, 20)
    elif r < 0.97:
        err, acc = abs(rng.gauss(0, 60)), rng.uniform(30, 80)  # between tall buildings
    else:
        acc = _log_uniform(rng, 100, 1000)  # indoors: Wi-Fi or cell fix
        err = acc * abs(rng.gauss(0, 1))
        noise.append("coarse_fix")
    fix_lat, fix_lon = offset(lat, lon, err, bearing)
    return Point(fix_lat, fix_lon, acc)


def _trips(rng: random.Random, lo: datetime, hi: datetime, per_hour: float) -> list[Span]:
    out: list[Span] = []
    if per_hour <= 0 or hi <= lo:
        return out
    t = lo
    while True:
        t += timedelta(hours=rng.expovariate(per_hour))
        if t >= hi:
            return out
        out.append(Span(t, t + timedelta(seconds=rng.uniform(20, 60))))


@dataclass(frozen=True, slots=True)
class VisitModes:
    """What the elevator's terminal shows of one visit: inspection (检修) spans, out-of-service spans, and
    the test runs in normal service the worker makes (after switching back, or mid-visit)."""

    inspection: tuple[Span, ...]
    out_of_service: tuple[Span, ...]
    tests: tuple[Span, ...]


def visit_modes(
    fake: FakeKind | None, ci: datetime, co: datetime, rng: random.Random, noise: list[str]
) -> VisitModes:
    """The modes of a visit from check-in ``ci`` to check-out ``co``, by its kind (module docstring): a
    real visit is in inspection for most of it; no_inspection_mode never (half parked out of service);
    normal_service_during_visit a few minutes at the start. Shared by the quarter simulator and the live
    crews (sim/live_maintenance.py), which hold the terminals in these modes."""
    minutes = (co - ci).total_seconds() / 60
    inspection: list[Span] = []
    out_of_service: list[Span] = []
    tests: list[Span] = []
    if fake is FakeKind.NO_INSPECTION_MODE:
        if rng.random() < 0.5:  # parked out of service: looks busy, nobody in the shaft
            out_of_service.append(
                Span(ci + timedelta(minutes=rng.uniform(0, 3)), co - timedelta(minutes=rng.uniform(0, 3)))
            )
    elif fake is FakeKind.NORMAL_SERVICE_DURING_VISIT:
        switched = ci + timedelta(minutes=rng.uniform(0.5, 3))
        inspection.append(Span(switched, switched + timedelta(minutes=rng.uniform(2, 6))))
    else:
        a = min(rng.uniform(1, 4), minutes * 0.2)
        b = min(rng.uniform(1, 5), minutes * 0.2)
        if rng.random() < 0.04 and minutes > 20:  # machine room first, then the shaft
            a = minutes * rng.uniform(0.3, 0.5)
            noise.append("machine_room_first")
        s, t = ci + timedelta(minutes=a), co - timedelta(minutes=b)
        if rng.random() < 0.3 and (t - s) > timedelta(minutes=15):  # back to normal to test, mid-visit
            inner = (t - s).total_seconds() / 60
            m = rng.uniform(3, min(12, 0.3 * inner))
            at = s + timedelta(minutes=rng.uniform(0.2, 0.8) * (inner - m))
            back = at + timedelta(minutes=m)
            inspection += [Span(s, at), Span(back, t)]
            tests += _trips(rng, at, back, 30.0)[:3]
            noise.append("mid_test")
        else:
            inspection.append(Span(s, t))
        tests += _trips(rng, t, co, 40.0)[:3]  # test runs after switching back
    return VisitModes(tuple(inspection), tuple(out_of_service), tuple(tests))


def offline_spans(
    fake: FakeKind | None, ci: datetime, co: datetime, rng: random.Random, noise: list[str]
) -> list[Span]:
    """When the terminal is silent around a visit, by start: a terminal_offline fake unplugs it up to 15
    minutes before check-in until up to 20 after check-out; honestly, 1.5% of terminals were already down
    for hours and 8% drop out for 0.5-15 minutes during the visit."""
    minutes = (co - ci).total_seconds() / 60
    offline: list[Span] = []
    if fake is FakeKind.TERMINAL_OFFLINE:
        offline.append(
            Span(ci - timedelta(minutes=rng.uniform(0, 15)), co + timedelta(minutes=rng.uniform(0, 20)))
        )
    elif rng.random() < 0.015:  # already down for hours (its offline fault stands)
        offline.append(
            Span(ci - timedelta(hours=rng.uniform(2, 48)), co + timedelta(hours=rng.uniform(0.5, 24)))
        )
        noise.append("long_outage")
    if fake is not FakeKind.TERMINAL_OFFLINE and rng.random() < 0.08:  # 4G drops out briefly
        length = _log_uniform(rng, 0.5, 15)
        at = ci + timedelta(minutes=rng.uniform(0, max(0.0, minutes - length)))
        offline.append(Span(at, at + timedelta(minutes=length)))
        noise.append("brief_drop")
    offline.sort(key=lambda x: x.start)
    return offline


def _telemetry(job: _Job, ci: datetime, co: datetime, rng: random.Random) -> Telemetry:
    """The terminal's summary around the visit (modes and runs as the terminal would report them)."""
    e = job.elevator
    lo, hi = ci - MODE_WINDOW, co + MODE_WINDOW
    hour = ci.astimezone(LOCAL).hour
    rate = rng.uniform(*_TRIPS_PER_HOUR.get(e.place_type, (5, 20)))
    if hour >= 22 or hour < 6:
        rate *= 0.05  # night: the mall is closed
    moving = e.kind in _MOVING
    modes = visit_modes(job.fake, ci, co, rng, job.noise)
    inspection = list(modes.inspection)
    # normal service: everything in the window outside inspection and out of service
    busy = sorted(inspection + list(modes.out_of_service), key=lambda x: x.start)
    normal: list[Span] = []
    cursor = lo
    for span in busy:
        if span.start > cursor:
            normal.append(Span(cursor, span.start))
        cursor = max(cursor, span.end)
    if cursor < hi:
        normal.append(Span(cursor, hi))
    runs: list[Span] = list(modes.tests)
    for span in normal:
        if moving:
            if rate > 3:  # an escalator in service runs; closed at night it stands
                runs.append(span)
        else:
            runs += _trips(rng, span.start, span.end, rate)
    # the terminal's online state over the visit +- 2 h
    window = Span(ci - TELEMETRY_WINDOW, co + TELEMETRY_WINDOW)
    offline = offline_spans(job.fake, ci, co, rng, job.noise)
    online: list[Span] = []
    cursor = window.start
    for span in offline:
        if span.start > cursor:
            online.append(Span(cursor, min(span.start, window.end)))
        cursor = max(cursor, span.end)
    if cursor < window.end:
        online.append(Span(cursor, window.end))
    online = [s for s in online if s.end > s.start]

    def seen(spans: Iterable[Span]) -> tuple[Span, ...]:
        out = []
        for s in sorted(spans, key=lambda x: x.start):
            for o in online:
                a, b = max(s.start, o.start), min(s.end, o.end)
                if a < b:
                    out.append(Span(a, b))
        return tuple(out)

    seen_runs = tuple(
        r for r in sorted(runs, key=lambda x: x.start) if any(o.start <= r.start < o.end for o in online)
    )
    return Telemetry(window, tuple(online), seen(inspection), seen(normal), seen_runs)


def _finish(job: _Job, rng: random.Random) -> SimVisit:
    e = job.elevator
    ci, co = job.check_in, job.check_out
    items = items_due(e.kind, job.interval)
    check_in_at = check_in_point(e.lat, e.lon, job.fake, rng, job.noise)
    lat, lon = offset(e.lat, e.lon, abs(rng.gauss(0, 15)), rng.uniform(0, 2 * math.pi))
    visit = Visit(
        id=job.vid,
        elevator=e.registration_code,
        worker=job.worker,
        check_in=ci,
        check_out=co,
        items=items,
        check_in_at=check_in_at,
        check_out_at=Point(lat, lon, rng.uniform(5, 20)),
        elevator_at=Point(e.lat, e.lon),
    )
    telemetry = _telemetry(job, ci, co, rng) if e.monitored else None
    return SimVisit(
        visit,
        telemetry,
        job.fake,
        tuple(job.counterparts),
        tuple(job.counterpart_of),
        job.interval,
        tuple(job.noise),
    )


def truth_records(visits: Iterable[SimVisit]) -> list[dict[str, Any]]:
    """Ground truth: one record per fake visit and per visit a two-places fake conflicts with, by check-in."""
    out: list[dict[str, Any]] = []
    for sv in visits:
        if sv.fake is None and not sv.counterpart_of:
            continue
        v = sv.visit
        out.append(
            {
                "visit_id": v.id,
                "registration_code": v.elevator,
                "worker": v.worker,
                "check_in": v.check_in.isoformat(),
                "check_out": v.check_out.isoformat(),
                "fake": sv.fake.value if sv.fake else None,
                "counterparts": list(sv.counterparts),
                "counterpart_of": list(sv.counterpart_of),
                "monitored": sv.telemetry is not None,
            }
        )
    out.sort(key=lambda r: (r["check_in"], r["visit_id"]))
    return out


def write_truth(path: Path, visits: Iterable[SimVisit]) -> int:
    """Ground truth as JSON lines (like ``sim.telemetry.write_truth``); returns the number of records."""
    records = truth_records(visits)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=True))
            fh.write("\n")
    return len(records)
