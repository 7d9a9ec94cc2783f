"""The demo's maintenance crews (维保人员) at work in real time: the open preventive work orders of the demo
city (opened by the plan job from the contracts of sim/contracts.py) are visited by the unit's simulated
workers through the maintenance service, as the phone page does (the orders due today first, then the
nearest to where the worker is): assign, check in near the elevator with
the car's code, the items of the visit with their results and measurements, check out, sign; the use unit
(使用单位) confirms most of them some minutes later.

Each worker does one visit at a time and drives from one to the next (by road, as sim/maintenance.py's
routes do), so only a fake is ever in two places at once. A visit takes the real time its items take the
worker (a half-month visit of a lift 40-70 minutes, a year visit up to two and a half hours), so the
fake-maintenance rules judge it as they would a real one; what is compressed is the calendar: the workers
take the orders due soonest, days ahead of plan, starting ``LIFTWATCH_SIMULATE_VISITS_PER_HOUR`` visits an
hour city-wide (default 60: the first check-ins a few minutes after the first plan run, the first signed
records about an hour after).

While the worker is on site, the elevator's simulated terminal (sim/live.py) reports what the visit's kind
makes it report (``sim.maintenance.visit_modes`` and ``offline_spans``, shared with the quarter simulator):
inspection mode (检修) over most of a real visit, with no rides; a share of the visits
(``LIFTWATCH_SIMULATE_FAKE_SHARE``, default 10%, split evenly) is fake in one of the six kinds of
``maintenance.fakes.FakeKind``. Ground truth: one JSON line per signed visit in
``var/sim/maintenance_truth.jsonl`` (work order, record, elevator, worker, kind or "real", times, the
work orders a two-places fake overlaps).

Deterministic given the orders it is handed and the times it is stepped at (``plan_visits`` is pure).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, city_tz
from liftwatch.core.errors import DomainError
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import Evidence, Interval
from liftwatch.maintenance.fakes import FakeKind, Point, SignedItem
from liftwatch.maintenance.workflow import ItemResult, WorkOrderKind, WorkOrderState
from liftwatch.registry import queries as registry
from liftwatch.sim.contracts import maintained_elevators
from liftwatch.sim.live import TerminalHooks
from liftwatch.sim.maintenance import (
    SiteElevator,
    check_in_point,
    distance_m,
    draw_fake,
    honest_minutes,
    items_due,
    offline_spans,
    offset,
    share_among_workers,
    too_short_factor,
    visit_modes,
)
from liftwatch.telemetry.protocol import ServiceMode

__all__ = [
    "CrewSettings",
    "DueOrder",
    "LiveCrews",
    "LiveVisit",
    "Site",
    "Step",
    "Worker",
    "plan_visits",
    "run_live_crews",
    "shares_of",
]

log = logging.getLogger(__name__)
TRUTH_FILE = Path("sim") / "maintenance_truth.jsonl"  # under LIFTWATCH_VAR_DIR
#: A visit is planned at least this long before its check-in (and so before any hold on its terminal):
#: the terminal simulator applies a hold exactly when told a minute ahead.
LEAD = timedelta(seconds=90)
#: Plausible measured values by the catalogue item's unit (low, high).
_MEASURES: dict[str, tuple[float, float]] = {
    "mm": (0.5, 12.0),
    "MΩ": (0.5, 50.0),
    "%": (0.0, 2.0),
    "m": (0.2, 1.2),
    "MPa": (2.0, 8.0),
}


@dataclass(frozen=True, slots=True)
class Site:
    """An elevator as its crew knows it."""

    registration_code: str
    rescue_code: str
    kind: str
    lat: float
    lon: float
    monitored: bool  # has an IoT terminal
    unit_code: str
    use_unit_id: int | None

    @property
    def where(self) -> tuple[float, float]:
        return self.lat, self.lon


@dataclass(frozen=True, slots=True)
class DueOrder:
    """An open preventive work order the crews may take."""

    work_order_id: int
    site: Site
    interval: Interval
    planned_date: date


@dataclass(frozen=True, slots=True)
class HoldPlan:
    """What the visit makes the terminal report: ``mode`` from start to end, or (None) silence."""

    mode: ServiceMode | None
    start: datetime
    end: datetime


class Step(StrEnum):
    PLANNED = "planned"
    ON_SITE = "on_site"
    CHECKED_OUT = "checked_out"
    SIGNED = "signed"
    DONE = "done"
    DROPPED = "dropped"  # the order was taken, cancelled or refused meanwhile


@dataclass(slots=True)
class LiveVisit:
    """One planned visit: when each step happens, what is recorded, what the terminal shows, the truth."""

    order: DueOrder
    worker: str
    fake: FakeKind | None
    check_in: datetime
    check_out: datetime
    sign_at: datetime
    confirm_at: datetime | None
    check_in_at: Point
    check_out_at: Point
    items: tuple[maintenance.ItemEntry, ...]
    holds: tuple[HoldPlan, ...]
    noise: tuple[str, ...] = ()
    counterparts: list[int] = field(default_factory=list)  # two places: the work orders it overlaps
    counterpart_of: list[int] = field(default_factory=list)
    record_id: int | None = None
    step: Step = Step.PLANNED

    def next_at(self) -> datetime | None:
        """When the visit's next step is due (None: nothing left to do)."""
        return {
            Step.PLANNED: self.check_in,
            Step.ON_SITE: self.check_out,
            Step.CHECKED_OUT: self.sign_at,
            Step.SIGNED: self.confirm_at,
        }.get(self.step)

    def truth(self) -> dict[str, Any]:
        """The ground-truth line (module docstring)."""
        return {
            "work_order_id": self.order.work_order_id,
            "record_id": self.record_id,
            "registration_code": self.order.site.registration_code,
            "worker": self.worker,
            "kind": self.fake.value if self.fake else "real",
            "check_in": self.check_in.isoformat(),
            "check_out": self.check_out.isoformat(),
            "counterparts": list(self.counterparts),
            "counterpart_of": list(self.counterpart_of),
            "monitored": self.order.site.monitored,
            "noise": list(self.noise),
        }


@dataclass(slots=True)
class Worker:
    """A simulated maintenance worker: who, of which unit, how fast, where and free from when."""

    username: str
    unit_code: str
    unit_id: int
    pace: float = 1.0
    here: tuple[float, float] | None = None
    free_at: datetime | None = None


@dataclass(frozen=True)
class CrewSettings:
    visits_per_hour: float = 60.0
    fake_share: float = 0.10
    confirm_share: float = 0.7  # of the signed visits, the use unit confirms this share
    seed: int = 1


def shares_of(total: float) -> dict[FakeKind, float]:
    """``total`` split evenly among the six kinds."""
    return {k: total / len(FakeKind) for k in FakeKind}


def _travel(here: tuple[float, float] | None, to: tuple[float, float], rng: random.Random) -> timedelta:
    """The drive from ``here`` (None: the day's first visit, already on the way) to ``to``."""
    if here is None:
        return timedelta(minutes=rng.uniform(0, 2))
    metres = distance_m(here, to)
    if metres < 150:
        return timedelta(minutes=rng.uniform(1, 4))  # the next lift of the same building
    road_km = metres / 1000 * rng.uniform(1.3, 1.6)  # by road at 15-30 km/h, then parking
    return timedelta(minutes=road_km / rng.uniform(15, 30) * 60 + rng.uniform(3, 10))


def _results(items: Sequence[SignedItem], rng: random.Random) -> tuple[maintenance.ItemEntry, ...]:
    """Mostly in order, now and then adjusted on the spot, rarely a defect left for a repair."""
    catalogue = load_catalogue()
    out = []
    for item in items:
        r = rng.random()
        result = ItemResult.OK if r < 0.93 else ItemResult.FIXED if r < 0.99 else ItemResult.NOT_OK
        value = None
        if item.evidence is Evidence.MEASUREMENT:
            known = catalogue.item(item.code)
            lo, hi = _MEASURES.get(known.unit if known and known.unit else "", (1.0, 10.0))
            value = round(rng.uniform(lo, hi), 1)
        out.append(maintenance.ItemEntry(item.code, result, value))
    return tuple(out)


def _visit(
    worker: Worker, order: DueOrder, fake: FakeKind | None, check_in: datetime, rng: random.Random
) -> LiveVisit:
    site = order.site
    noise: list[str] = []
    items = items_due(site.kind, order.interval)
    minutes = honest_minutes(items, worker.pace, rng, noise)
    if fake is FakeKind.TOO_SHORT:
        minutes *= too_short_factor(rng)
    if fake is None and rng.random() < 0.05:  # checked out late (forgot, checked out in the van)
        minutes += rng.expovariate(1 / 4)
        noise.append("late_check_out")
    check_out = check_in + timedelta(minutes=minutes)
    at = check_in_point(site.lat, site.lon, fake, rng, noise)
    out_lat, out_lon = offset(site.lat, site.lon, abs(rng.gauss(0, 15)), rng.uniform(0, 2 * math.pi))
    holds: list[HoldPlan] = []
    if site.monitored:
        modes = visit_modes(fake, check_in, check_out, rng, noise)
        holds += [HoldPlan(ServiceMode.INSPECTION, s.start, s.end) for s in modes.inspection]
        holds += [HoldPlan(ServiceMode.OUT_OF_SERVICE, s.start, s.end) for s in modes.out_of_service]
        holds += [
            HoldPlan(None, s.start, s.end) for s in offline_spans(fake, check_in, check_out, rng, noise)
        ]
    sign_at = check_out + timedelta(minutes=rng.uniform(0.5, 3))
    confirm_at = sign_at + timedelta(minutes=rng.uniform(3, 30))
    return LiveVisit(
        order,
        worker.username,
        fake,
        check_in,
        check_out,
        sign_at,
        confirm_at,
        at,
        Point(out_lat, out_lon, rng.uniform(5, 20)),
        _results(items, rng),
        tuple(sorted(holds, key=lambda h: h.start)),
        tuple(noise),
    )


def plan_visits(
    worker: Worker,
    candidates: Sequence[DueOrder],
    now: datetime,
    rng: random.Random,
    shares: Mapping[FakeKind, float],
    confirm_share: float = 0.7,
) -> list[LiveVisit]:
    """The worker's next visit: the first of ``candidates`` (the caller orders them), of a kind drawn with
    ``shares``, checked in after the drive from where the worker is and at least ``LEAD`` from ``now``. A
    two_places_at_once fake is recorded while the worker is at another candidate at least 1 km away (that
    visit is real; the fake is signed for a colleague's work, so its own elevator shows a real visit);
    with no such candidate the visit stays real. Moves the worker to where the visit ends."""
    if not candidates:
        return []
    order = candidates[0]
    fake = draw_fake(rng, shares, order.site.monitored)
    host = None
    if fake is FakeKind.TWO_PLACES_AT_ONCE:
        host = next((o for o in candidates[1:] if distance_m(o.site.where, order.site.where) >= 1000), None)
        if host is None:
            fake = None
    first = host or order
    start = now + LEAD + _travel(worker.here, first.site.where, rng)
    if worker.free_at is not None:
        start = max(start, worker.free_at + _travel(worker.here, first.site.where, rng))
    visits = [_visit(worker, first, None if host else fake, start, rng)]
    if host is not None:
        a = visits[0]
        at = a.check_in + (a.check_out - a.check_in) * rng.uniform(0.1, 0.6)
        b = _visit(worker, order, FakeKind.TWO_PLACES_AT_ONCE, at, rng)
        b.counterparts.append(host.work_order_id)
        a.counterpart_of.append(order.work_order_id)
        visits.append(b)
    for v in visits:
        if rng.random() >= confirm_share:
            v.confirm_at = None
    worker.here = first.site.where
    worker.free_at = max(v.check_out for v in visits)
    return visits


# ------------------------------------------------------------------------------------------------ running


def _sites(session: Session, clock: Clock) -> dict[str, Site]:
    return {
        e.registration_code: Site(
            e.registration_code,
            e.rescue_code,
            e.kind,
            e.latitude or 0.0,
            e.longitude or 0.0,
            bool(e.iot_terminal_id),
            e.maintenance_unit.code if e.maintenance_unit else "",
            e.use_unit_id,
        )
        for e in maintained_elevators(session, clock)
    }


class LiveCrews:
    """The crews' state between steps; ``step`` does what is due (each service call in its own
    transaction) and plans the next visits of the idle workers within the hourly budget."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        clock: Clock,
        hooks: TerminalHooks,
        settings: CrewSettings,
        truth_path: Path | None = None,
        refresh_s: float = 30.0,
        tz: tzinfo = UTC,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.hooks = hooks
        self.settings = settings
        self.truth_path = truth_path
        self.refresh_s = refresh_s
        self.tz = tz  # the city's clock: which orders are due today
        self.shares = shares_of(settings.fake_share)
        self.rng = random.Random(f"{settings.seed}:live-maintenance")
        self.sites: dict[str, Site] = {}
        self.worker_of: dict[str, str] = {}  # registration code -> worker username
        self.workers: dict[str, Worker] = {}
        self.visits: list[LiveVisit] = []
        self.taken: set[int] = set()
        self.orders: list[DueOrder] = []
        self.budget = 3.0  # the first visits start at once
        self._last: datetime | None = None
        self._refreshed: datetime | None = None
        self.signed = 0

    def load(self) -> None:
        """The sites and the workers (the accounts sim/contracts.py made; a unit without them is idle)."""
        now = self.clock.now()
        with self.session_factory() as session:
            self.sites = _sites(session, self.clock)
            fleet = [
                SiteElevator(s.registration_code, s.kind, "", s.unit_code, s.lat, s.lon, s.monitored)
                for s in self.sites.values()
            ]
            for name, elevators in share_among_workers(fleet).items():
                account = accounts.account_of(session, name)
                unit = registry.unit_by_code(session, elevators[0].unit)
                if account is None or unit is None:
                    continue
                pace = math.exp(random.Random(f"{self.settings.seed}:{name}").gauss(0, 0.12))
                self.workers[name] = Worker(name, unit.code, unit.id, pace, free_at=now)
                for e in elevators:
                    self.worker_of[e.registration_code] = name
        self._cancel_unfinished()

    def _cancel_unfinished(self) -> None:
        """Visits a previous run left on site (its plans died with it) are cancelled, saying why; the plan
        job opens them again from the next day."""
        with self.session_factory() as session:
            rows = maintenance.list_work_orders(
                session, SYSTEM_ACTOR, states=(WorkOrderState.IN_PROGRESS,), limit=100_000
            )
            left = [(o.id, o.assignee) for o in rows if o.assignee in self.workers]
        for wo, name in left:
            worker = self.workers[name]
            with self.session_factory() as session:
                actor = Actor(name, Role.MAINTENANCE, worker.unit_id)
                maintenance.cancel(session, actor, wo, "演示重启，现场维保中断", self.clock)
                session.commit()
        if left:
            log.info("live crews: %d visits left on site by the previous run cancelled", len(left))

    def refresh(self) -> None:
        """The open preventive orders of the crews' elevators, soonest due first."""
        with self.session_factory() as session:
            rows = maintenance.list_work_orders(
                session, SYSTEM_ACTOR, states=(WorkOrderState.OPEN, WorkOrderState.ASSIGNED), limit=100_000
            )
            orders = []
            for o in rows:
                site = self.sites.get(o.registration_code)
                if (
                    o.kind != WorkOrderKind.PREVENTIVE.value
                    or site is None
                    or o.id in self.taken
                    or o.planned_date is None
                    or (o.assignee and o.assignee != self.worker_of.get(o.registration_code))
                ):
                    continue
                orders.append(DueOrder(o.id, site, Interval(o.interval or "half_month"), o.planned_date))
        orders.sort(key=lambda o: (o.planned_date, o.work_order_id))
        self.orders = orders

    def step(self) -> None:
        now = self.clock.now()
        if not self.workers and self._last is None:
            self.load()
        if self._last is not None:
            gained = (now - self._last).total_seconds() / 3600 * self.settings.visits_per_hour
            self.budget = min(self.budget + gained, 5.0)
        self._last = now
        if self._refreshed is None or (now - self._refreshed).total_seconds() >= self.refresh_s:
            self.refresh()
            self._refreshed = now
        self._plan(now)
        for visit in sorted(self.visits, key=lambda v: v.next_at() or now):
            at = visit.next_at()
            if at is not None and at <= now:
                self._advance(visit)
        self.visits = [v for v in self.visits if v.step not in (Step.DONE, Step.DROPPED)]

    def _plan(self, now: datetime) -> None:
        busy = {v.worker for v in self.visits if v.step in (Step.PLANNED, Step.ON_SITE)}
        idle = sorted(
            (w for w in self.workers.values() if w.username not in busy),
            key=lambda w: (w.free_at or now, w.username),
        )
        for worker in idle:
            if self.budget < 1:
                return
            mine = [
                o
                for o in self.orders
                if o.work_order_id not in self.taken
                and self.worker_of.get(o.site.registration_code) == worker.username
            ]
            if not mine:
                continue
            here, today = worker.here, now.astimezone(self.tz).date()
            # due today (or overdue) first, then the nearest: a worker does not cross the city for a visit
            # due in three days
            mine.sort(key=lambda o: (o.planned_date > today, distance_m(here, o.site.where) if here else 0.0))
            planned = plan_visits(worker, mine, now, self.rng, self.shares, self.settings.confirm_share)
            for v in planned:
                self.taken.add(v.order.work_order_id)
                for hold in v.holds:
                    start, end = _ms(hold.start), _ms(hold.end)
                    if hold.mode is None:
                        self.hooks.silence(v.order.site.registration_code, start, end)
                    else:
                        self.hooks.hold_mode(v.order.site.registration_code, hold.mode, start, end)
            self.visits += planned
            self.budget -= len(planned)

    def _advance(self, visit: LiveVisit) -> None:
        worker = self.workers[visit.worker]
        actor = Actor(worker.username, Role.MAINTENANCE, worker.unit_id)
        wo = visit.order.work_order_id
        with self.session_factory() as session:
            try:
                if visit.step is Step.PLANNED:
                    order = maintenance.get_work_order(session, actor, wo)
                    if order.state == WorkOrderState.OPEN.value:
                        maintenance.assign(session, actor, wo, worker.username, self.clock, self.tz)
                    p = visit.check_in_at
                    record = maintenance.check_in(
                        session,
                        actor,
                        wo,
                        p.lat,
                        p.lon,
                        visit.order.site.rescue_code,
                        self.clock,
                        visit.check_in,
                    )
                    visit.record_id = record.id
                    visit.step = Step.ON_SITE
                elif visit.step is Step.ON_SITE:
                    maintenance.record_results(session, actor, wo, visit.items, (), self.clock)
                    p = visit.check_out_at
                    maintenance.check_out(session, actor, wo, p.lat, p.lon, self.clock, visit.check_out)
                    visit.step = Step.CHECKED_OUT
                elif visit.step is Step.CHECKED_OUT:
                    maintenance.sign(session, actor, wo, self.clock, self.tz)
                    visit.step = Step.SIGNED if visit.confirm_at is not None else Step.DONE
                    self.signed += 1
                    self._write_truth(visit)
                elif visit.step is Step.SIGNED:
                    use_unit = visit.order.site.use_unit_id
                    if use_unit is not None:  # the use unit's staff sign the order off
                        owner = Actor(f"use-unit-{use_unit}", Role.USE_UNIT, use_unit)
                        maintenance.confirm(session, owner, wo, self.clock, note="已确认")
                    visit.step = Step.DONE
                session.commit()
            except DomainError as exc:  # taken by a person, cancelled: the crew leaves it
                session.rollback()
                log.info("live crews: work order %d %s: %s", wo, visit.step.value, exc)
                visit.step = Step.DROPPED if visit.step is not Step.SIGNED else Step.DONE

    def _write_truth(self, visit: LiveVisit) -> None:
        if self.truth_path is None:
            return
        self.truth_path.parent.mkdir(parents=True, exist_ok=True)
        with self.truth_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(visit.truth(), ensure_ascii=False, sort_keys=True))
            fh.write("\n")


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def run_live_crews(
    session_factory: Callable[[], Session],
    clock: Clock,
    stop: asyncio.Event,
    hooks: TerminalHooks,
    settings: Settings,
    step_s: float = 5.0,
) -> None:
    """Every ``step_s``, the crews do what is due (module docstring)."""
    crews = LiveCrews(
        session_factory,
        clock,
        hooks,
        CrewSettings(settings.simulate_visits_per_hour, settings.simulate_fake_share),
        settings.var_dir / TRUTH_FILE,
        tz=city_tz(settings),
    )
    log.info(
        "live crews: %g visits an hour, %.0f%% fake; truth in %s",
        settings.simulate_visits_per_hour,
        settings.simulate_fake_share * 100,
        crews.truth_path,
    )
    while not stop.is_set():
        try:
            await asyncio.to_thread(crews.step)
        except Exception:
            log.exception("live crews: step failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=step_s)
