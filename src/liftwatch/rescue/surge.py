"""Surge planning (大面积停电/极端天气困人): assign many open incidents to crews at once.

When a power cut or a storm traps people in hundreds of elevators at the same time, answering the alarms one
by one (each takes the crew that can arrive soonest, `plan_greedy`) wastes crew time: crews criss-cross the
district in alarm order and the last alarms wait for whoever is left. `plan_surge` plans all of them together:
each crew does a sequence of incidents, spending `on_site_s` at each, and the plan decides who waits. Its
objective, in order (DOMAIN.md §5):
1. no incident late (arrival after alarm + its arrival limit, 30 min in city districts) that greedy would
   reach in time: greedy's plan sets a deadline for each incident it serves in time, and the search never
   takes a move that breaks one (a hard constraint; the result is checked again, greedy's plan returned
   if it were ever broken). Incidents greedy reaches late have no deadline: they count by their arrival;
2. the contracted maintenance unit's crews first: a crew of another unit costs `other_unit_cost_s`
   (`OTHER_UNIT_COST_S`, 20 s unless told otherwise) on top of its arrival, so a contracted crew is
   preferred while it arrives at most that much later, knock-on delays to the other incidents included;
3. the least mean arrival time (arrival - alarm).
Re-plan with the crews' new positions and free times as they free up; the functions are pure (no I/O, no
clock) so a re-plan is just another call.

Timing model, shared by both planners so their figures compare: a crew leaves for its next incident at
start = max(now, crew free, previous job end, alarm); arrival = start + travel (the estimator);
the job ends at arrival + on_site_s, at the incident's position.

How `plan_surge` works:
- Tiny instances (at most a few thousand possible plans) are solved exactly by enumeration (same objective).
- The default estimator (RoadFactorEstimator, what the rescue service uses): the compiled search of
  `_surge_kernel` (numba; 0.8 s budget for 2,000 incidents and 1,500 crews; docs/PERFORMANCE.md):
  1. Start from greedy's own rule (alarm order, the crew that can arrive soonest, all crews compared); its
     arrivals set the deadlines of 1.
  2. A full descent: move an incident next to one of its nearest incidents or to the head of a crew worth
     trying, swap two nearby incidents, exchange sequence tails (2-opt*), move an incident within its own
     sequence. The crews worth trying for an incident are the ones that could be there soonest, the ones
     that have it among their nearest incidents (in a dense cluster the soonest crews are all taken, and
     the help is an idle crew a little further out: worth 1.5 s of mean arrival), and the soonest crews of
     its contracted unit.
  3. Until the budget is spent: ruin (take strings of consecutive jobs out of sequences near a random
     incident, as in SISR, Christiaens & Vanden Berghe 2020), recreate (each back at its cheapest place,
     skipping one now and then), descend around the change, keep it only if the plan got better. Two threads
     search two halves of the city at once (split west/east, then south/north, in turns); a crew belongs to
     one half, so the halves never touch the same sequence.
  Every move is priced exactly (jobs waiting for alarms still to come included, other-unit costs, inf if it
  breaks a deadline) by re-timing the short part of a sequence after it. The kernel is compiled on first
  use and cached on disk; `warm_up` loads it (the rescue worker does at start), so a plan does not pay.
- Any other estimator, or the compiled search unavailable or failing: greedy's plan (the kernel's formula
  is the default estimator's; a road-network estimator would need its own kernel, not a slow copy in
  Python). Greedy's plan keeps 1 by definition but ignores 2.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.rescue.domain import (
    Assignment,
    CrewState,
    GeoPoint,
    OpenIncident,
    RoadFactorEstimator,
    TravelEstimator,
)

__all__ = [
    "OTHER_UNIT_COST_S",
    "late_count",
    "mean_arrival_s",
    "other_unit_share",
    "plan_greedy",
    "plan_surge",
    "warm_up",
]

log = logging.getLogger(__name__)

try:  # the compiled search; without it (numba missing or broken here) every plan is greedy's
    from liftwatch.rescue import _surge_kernel as _kernel
except Exception:  # pragma: no cover - depends on the platform
    log.exception("surge planner: the compiled search is unavailable, planning greedily")
    _kernel = None  # type: ignore[assignment]

OTHER_UNIT_COST_S = 20.0
"""What sending a crew of another unit than the incident's contracted maintenance unit costs the plan, in
seconds of arrival: a contracted crew is preferred while it arrives less than this much later (its knock-on
delays to other incidents included). Every second of it is paid in mean arrival: on the bench (2,000
incidents, docs/PERFORMANCE.md) 20 s takes the share of other units' crews from 98% to 92% for +1 s of
mean arrival; 60 s to 83% for +4 s, 300 s to 63% for +32 s. 20 s is about the most the bench's target
(mean arrival <= 0.9 x greedy's) leaves room for; raise it where the L1 share matters more than the mean."""

_EPS = 1e-6
_DUE_MARGIN_S = 1e-3  # the search keeps deadlines this much early: its travel formula is not bit-equal
_NEAR_INCIDENTS = 10  # neighbour incidents tried as insertion points / swap partners
_EXACT_PLANS = 20_000  # enumerate when there are at most this many ordered plans
# the compiled search (default estimator)
_RECREATE_INCIDENTS = 30  # nearby incidents whose sequences are tried when an incident is put back
_SOON_CREWS = 20  # the crews that could be at an incident soonest: tried for it (moves and put-backs)
_OWN_CREWS = 4  # the soonest crews of the incident's contracted unit: tried for it too
_MEAN_REMOVED = 8.0  # incidents taken out per ruin, on average
_MAX_STRING = 6.0  # longest string of consecutive jobs taken out of one sequence
_ROUNDS_PER_INCIDENT = 20  # ruin-and-recreate rounds at most, per incident (then the search ends)
_CHUNK = 256  # rounds between two splits of the city
_SPLIT_FROM = 200  # incidents from which two threads search two halves
_CREW_INCIDENTS = 10  # each crew's nearest incidents: it is tried for them
_MAX_LEN = 32  # longest sequence a crew may get, unless the start already has longer ones


def _validate(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    on_site_s: float,
    other_unit_cost_s: float = 0.0,
) -> None:
    errors: list[FieldError] = []
    if incidents and not crews:
        errors.append(FieldError("crews", f"no crew to assign {len(incidents)} open incident(s) to"))
    if len({i.id for i in incidents}) != len(incidents):
        errors.append(FieldError("incidents", "incident ids must be unique"))
    if len({c.id for c in crews}) != len(crews):
        errors.append(FieldError("crews", "crew ids must be unique"))
    if not (on_site_s >= 0 and math.isfinite(on_site_s)):
        errors.append(FieldError("on_site_s", f"must be a finite number >= 0, got {on_site_s!r}"))
    if not (other_unit_cost_s >= 0 and math.isfinite(other_unit_cost_s)):
        errors.append(
            FieldError("other_unit_cost_s", f"must be a finite number >= 0, got {other_unit_cost_s!r}")
        )
    bad = [i.id for i in incidents if not i.arrival_limit_s > 0]
    if bad:
        errors.append(FieldError("incidents", f"arrival_limit_s must be > 0 (incident {bad[0]})"))
    if errors:
        raise InvalidInput(errors)


def mean_arrival_s(assignments: Sequence[Assignment], incidents: Sequence[OpenIncident]) -> float:
    """Mean of (arrival - alarm) over all incidents; every incident must have exactly one assignment."""
    if not incidents:
        return 0.0
    arrival = {a.incident_id: a.arrival_s for a in assignments}
    missing = [i.id for i in incidents if i.id not in arrival]
    if missing or len(assignments) != len(incidents):
        raise InvalidInput(
            FieldError(
                "assignments", f"need one per incident; {len(missing)} missing, {len(assignments)} given"
            )
        )
    return sum(arrival[i.id] - i.alarm_s for i in incidents) / len(incidents)


def late_count(assignments: Sequence[Assignment], incidents: Sequence[OpenIncident]) -> int:
    """How many incidents the plan reaches after their arrival limit (alarm + arrival_limit_s)."""
    limit = {i.id: i.alarm_s + i.arrival_limit_s for i in incidents}
    return sum(a.arrival_s > limit[a.incident_id] for a in assignments)


def other_unit_share(
    assignments: Sequence[Assignment], incidents: Sequence[OpenIncident], crews: Sequence[CrewState]
) -> float:
    """Share of the assignments (of incidents whose contracted unit is known) that send a crew of another
    unit: those the rescue service records as L2."""
    unit = {c.id: c.unit for c in crews}
    contracted = {i.id: i.maintenance_unit for i in incidents if i.maintenance_unit}
    known = [a for a in assignments if a.incident_id in contracted]
    if not known:
        return 0.0
    return sum(unit[a.crew_id] != contracted[a.incident_id] for a in known) / len(known)


def _made_late(
    plan: Sequence[Assignment], reference: Sequence[Assignment], incidents: Sequence[OpenIncident]
) -> list[str]:
    """The incidents `plan` reaches after their limit that `reference` reaches in time."""
    limit = {i.id: i.alarm_s + i.arrival_limit_s for i in incidents}
    in_time = {a.incident_id for a in reference if a.arrival_s <= limit[a.incident_id]}
    return [a.incident_id for a in plan if a.incident_id in in_time and a.arrival_s > limit[a.incident_id]]


def plan_greedy(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: TravelEstimator,
    on_site_s: float = 300.0,
    now_s: float = 0.0,
) -> list[Assignment]:
    """The baseline (one by one, as a dispatcher answers alarms): each incident in alarm order takes the crew
    that can arrive soonest, over all crews (ties: the earlier crew in `crews`). Returned in `incidents`
    order."""
    _validate(incidents, crews, on_site_s)
    seconds = estimator.seconds
    free = [max(now_s, c.free_at_s) for c in crews]
    where = [c.position for c in crews]
    crew_range = range(len(crews))
    out: dict[str, Assignment] = {}
    for inc in sorted(incidents, key=lambda i: i.alarm_s):  # stable: ties keep input order
        p, alarm = inc.position, inc.alarm_s
        best, best_k = math.inf, 0
        for k in crew_range:
            f = free[k]
            arrival = (f if f >= alarm else alarm) + seconds(where[k], p)
            if arrival < best:
                best, best_k = arrival, k
        f = free[best_k]
        out[inc.id] = Assignment(inc.id, crews[best_k].id, f if f >= alarm else alarm, best)
        free[best_k] = best + on_site_s
        where[best_k] = p
    return [out[i.id] for i in incidents]


def plan_surge(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: TravelEstimator,
    on_site_s: float = 300.0,
    now_s: float = 0.0,
    time_budget_s: float = 0.8,
    threads: int = 2,
    other_unit_cost_s: float = OTHER_UNIT_COST_S,
) -> list[Assignment]:
    """All open incidents planned together; every incident is served exactly once. The plan, in order of
    priority:
    1. makes no incident late (arrival after alarm + `arrival_limit_s`) that greedy's plan (`plan_greedy`,
       the one-by-one dispatcher) reaches in time: a hard constraint of the search, checked again on the
       result (greedy's own plan is returned if it were ever broken);
    2. and 3. minimises the sum over incidents of the arrival time (arrival - alarm) plus
       `other_unit_cost_s` when the crew is not of the incident's contracted maintenance unit
       (`OTHER_UNIT_COST_S` by default: DOMAIN.md §5 sends the contracted unit first and another unit only
       when it cannot come; the cost says how much later a contracted crew may arrive and still be
       preferred). 0 gives the plan of least mean arrival whatever the unit.
    Deterministic for the same input and `threads` except where the time budget cuts the search short (the
    two halves of a split search never share a crew, so how the threads are scheduled does not matter).
    `threads`: 2 lets the compiled search use two cores; 1 keeps it on one. Returned in `incidents`
    order."""
    _validate(incidents, crews, on_site_s, other_unit_cost_s)
    if not incidents:
        return []
    if _ordered_plans(len(incidents), len(crews)) <= _EXACT_PLANS:
        return _plan_exact(incidents, crews, estimator, on_site_s, now_s, other_unit_cost_s)
    if _kernel is not None and type(estimator) is RoadFactorEstimator:
        deadline = time.perf_counter() + time_budget_s
        try:
            return _plan_compiled(
                incidents, crews, estimator, on_site_s, now_s, deadline, threads, other_unit_cost_s
            )
        except Exception:  # a fault in the compiled search must not leave a surge unplanned
            log.exception("surge planner: the compiled search failed; planning greedily")
    return plan_greedy(incidents, crews, estimator, on_site_s, now_s)


def _plan_compiled(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: RoadFactorEstimator,
    on_site_s: float,
    now_s: float,
    deadline: float,
    threads: int,
    other_unit_cost_s: float = OTHER_UNIT_COST_S,
    rounds: int | None = None,
) -> list[Assignment]:
    """The default estimator's plan, searched by the compiled kernel (see `_surge_kernel`): greedy's rule
    as the start (it sets the deadlines: each incident greedy reaches in time must stay in time), a full
    descent, then iterated ruin-and-recreate in rounds until the deadline or `_ROUNDS_PER_INCIDENT` x n
    rounds. With two threads each round splits the city in two halves (west and east, then south and
    north, alternately) whose crews are searched at once; a crew's whole sequence belongs to one half, so
    the halves never touch the same crew."""
    n, c = len(incidents), len(crews)
    ins = _instance(incidents, crews, estimator, on_site_s, now_s, other_unit_cost_s)
    xyz, alarm, due = ins[0], ins[3][:, _kernel.ALARM], ins[3][:, _kernel.DUE]
    order = np.argsort(alarm, kind="stable").astype(np.int64)
    crew_of = np.zeros(n, np.int64)
    _kernel.construct_greedy(ins, order, crew_of)
    longest = int(np.bincount(crew_of, minlength=c).max())
    max_len = min(n, max(_MAX_LEN, 2 * longest))
    R = np.zeros((c, max_len), np.int64)
    rlen = np.zeros(c, np.int64)
    _kernel.fill(order, crew_of, R, rlen)
    pl = (R, rlen, np.zeros(n), np.full(n, -1, np.int64), np.zeros(n, np.int64), np.zeros(c))
    _kernel.retime_all(ins, pl)
    greedy_routes = [R[k, : rlen[k]].tolist() for k in range(c)]
    limit = alarm + np.array([i.arrival_limit_s for i in incidents])
    greedy_arrival = pl[2]
    # greedy's incidents in time stay in time (a margin for the search's travel formula, unless greedy
    # itself arrives within it); the others have no deadline: they count by their arrival like any other
    due[:] = np.where(greedy_arrival <= limit, np.maximum(limit - _DUE_MARGIN_S, greedy_arrival), np.inf)
    near_inc = np.zeros((n, min(_RECREATE_INCIDENTS, n - 1)), np.int64)
    soon_crew = np.zeros((n, min(_SOON_CREWS, c)), np.int64)
    crew_inc = np.zeros((c, min(_CREW_INCIDENTS, n)), np.int64)
    own_crew = np.zeros((n, min(_OWN_CREWS, c) if other_unit_cost_s > 0 else 0), np.int64)
    soonest = np.zeros(n)  # each incident's soonest possible arrival: recreate orders by it
    _kernel.nearest(ins, near_inc, soon_crew, crew_inc, own_crew, soonest)
    near_inc_ls = np.ascontiguousarray(near_inc[:, :_NEAR_INCIDENTS])
    near_of = _reverse(near_inc_ls, n)
    crews_to_try = _crews_to_try(soon_crew, crew_inc, n, own_crew)
    nb = (near_inc_ls, *crews_to_try, *near_of)  # local search
    wide = (near_inc, *crews_to_try, *near_of)  # put-backs (recreate)
    one_group = np.zeros(c, np.int64)
    _kernel.descend(ins, pl, nb, one_group)
    saved_R, saved_len = R.copy(), rlen.copy()
    halves = threads >= 2 and n >= _SPLIT_FROM
    east, north = np.arctan2(xyz[:, 1], xyz[:, 0]), xyz[:, 2]  # longitude, and a key that grows with latitude
    rounds_left = _ROUNDS_PER_INCIDENT * n if rounds is None else rounds
    chunk, phase = _CHUNK, 0
    while rounds_left > 0 and time.perf_counter() < deadline:
        started = time.perf_counter()
        size = min(chunk, rounds_left)
        if halves:
            group = _halves(east if phase % 2 == 0 else north, pl[3], rlen, n)
            members = [np.flatnonzero(group[pl[3]] == g).astype(np.int64) for g in (0, 1)]
        else:
            group, members = one_group, [np.arange(n, dtype=np.int64)]
        jobs = [
            (
                ins,
                pl,
                nb,
                wide,
                soonest,
                saved_R,
                saved_len,
                group,
                g,
                m,
                size,
                7919 * phase + g,
                _MEAN_REMOVED,
                _MAX_STRING,
            )
            for g, m in enumerate(members)
            if len(m) > 0
        ]
        if len(jobs) > 1:
            list(_pool().map(lambda job: _kernel.iterate(*job), jobs))
        else:
            for job in jobs:
                _kernel.iterate(*job)
        rounds_left -= size
        phase += 1
        took = time.perf_counter() - started
        left = deadline - time.perf_counter()
        if took > 0 and left < 2 * took:  # the last rounds fit in the time left
            chunk = max(1, min(chunk, int(size * left / took)))
    routes = [R[k, : rlen[k]].tolist() for k in range(c)]
    plan = _assignments_of(incidents, crews, estimator, on_site_s, now_s, routes)
    greedy = _assignments_of(incidents, crews, estimator, on_site_s, now_s, greedy_routes)
    late = _made_late(plan, greedy, incidents)
    if late:  # the search keeps greedy's deadlines; should its arithmetic ever disagree, greedy's plan
        log.error("surge planner: the plan makes %d incident(s) late that greedy serves in time", len(late))
        return greedy
    return plan


def _instance(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: RoadFactorEstimator,
    on_site_s: float,
    now_s: float,
    other_unit_cost_s: float = OTHER_UNIT_COST_S,
) -> _kernel.Instance:
    """The kernel's view of a plan's input: unit vectors of incidents then crews, the estimator's seconds
    per radian of great circle, per crew its free time and unit, per incident its alarm, deadline (none yet:
    the planner sets them from greedy's plan), cost of another unit's crew and contracted unit (units as
    numbers; -1: not known), time on site, incident count."""
    points = [i.position for i in incidents] + [crew.position for crew in crews]
    lat = np.radians(np.array([p.lat for p in points]))
    lon = np.radians(np.array([p.lon for p in points]))
    xyz = np.ascontiguousarray(
        np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))
    )
    k = 6371.0 * estimator.road_factor / estimator.speed_kmh * 3600
    codes: dict[str, int] = {}
    inc_unit = [
        codes.setdefault(i.maintenance_unit, len(codes)) if i.maintenance_unit else -1 for i in incidents
    ]
    avail = np.empty((len(crews), 2))
    avail[:, _kernel.FREE] = [max(now_s, crew.free_at_s) for crew in crews]
    avail[:, _kernel.CREW_UNIT] = [codes.setdefault(crew.unit, len(codes)) for crew in crews]
    n = len(incidents)
    alarm = np.empty((n, 4))
    alarm[:, _kernel.ALARM] = [i.alarm_s for i in incidents]
    alarm[:, _kernel.DUE] = np.inf
    alarm[:, _kernel.OTHER_COST] = [other_unit_cost_s if i.maintenance_unit else 0.0 for i in incidents]
    alarm[:, _kernel.UNIT] = inc_unit
    return xyz, k, avail, alarm, float(on_site_s), n


def _halves(
    key: npt.NDArray[np.float64], route_of: npt.NDArray[np.int64], rlen: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.int64]:
    """Each crew's half (0 or 1) for one round: split at the median incident along `key`; a crew goes
    with the mean position of its sequence, an idle crew with its own position."""
    c = rlen.shape[0]
    split = float(np.median(key[:n]))
    sums = np.bincount(route_of, weights=key[:n], minlength=c)
    where = np.where(rlen > 0, sums / np.maximum(rlen, 1), key[n:])
    return (where >= split).astype(np.int64)


def _crews_to_try(
    soon_crew: npt.NDArray[np.int64],
    crew_inc: npt.NDArray[np.int64],
    n: int,
    own_crew: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The crews tried for each incident, compressed (crews[ptr[i]:ptr[i + 1]]): those that could be there
    soonest, those that have it among their nearest incidents, and the soonest of its contracted unit
    (`own_crew`, -1 for none). The second kind matters in a dense cluster, where the soonest crews are all
    taken and an idle crew a little further out is the help; the third, when the contracted unit's crews
    are further out than the soonest others."""
    c = crew_inc.shape[0]
    inc = np.concatenate((np.repeat(np.arange(n, dtype=np.int64), soon_crew.shape[1]), crew_inc.ravel()))
    crew = np.concatenate((soon_crew.ravel(), np.repeat(np.arange(c, dtype=np.int64), crew_inc.shape[1])))
    if own_crew is not None:
        mine = own_crew.ravel() >= 0
        inc = np.concatenate((inc, np.repeat(np.arange(n, dtype=np.int64), own_crew.shape[1])[mine]))
        crew = np.concatenate((crew, own_crew.ravel()[mine]))
    pairs = np.unique(inc * c + crew)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pairs // c, minlength=n), out=ptr[1:])
    return ptr, (pairs % c).astype(np.int64)


def _reverse(near: npt.NDArray[np.int64], n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Reverse neighbour lists in compressed form: the incidents that have j as a neighbour are
    near_of[ptr[j]:ptr[j + 1]]."""
    src = near.ravel()
    owner = np.repeat(np.arange(n, dtype=np.int64), near.shape[1])
    order = np.argsort(src, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    return ptr, np.ascontiguousarray(owner[order])


def _assignments_of(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: TravelEstimator,
    on_site_s: float,
    now_s: float,
    routes: Sequence[Sequence[int]],
) -> list[Assignment]:
    """The plan (each crew's sequence of incident indices), timed with the estimator's own figures; in
    `incidents` order."""
    out: list[Assignment | None] = [None] * len(incidents)
    seconds = estimator.seconds
    for crew, route in zip(crews, routes, strict=True):
        t, where = max(now_s, crew.free_at_s), crew.position
        for i in route:
            inc = incidents[i]
            start = t if t >= inc.alarm_s else inc.alarm_s
            arrival = start + seconds(where, inc.position)
            out[i] = Assignment(inc.id, crew.id, start, arrival)
            t, where = arrival + on_site_s, inc.position
    assert all(a is not None for a in out)
    return [a for a in out if a is not None]


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="surge")
    return _POOL


def warm_up() -> None:
    """Load (or, the first time on a machine, compile) the search kernel and start its threads, so that the
    first surge plan does not pay for it: a fraction of a second from the on-disk cache, tens of seconds to
    compile. The rescue worker calls it when it starts."""
    if _kernel is None:
        return
    rng = random.Random(0)

    def near(spread: float) -> GeoPoint:
        return GeoPoint(31.23 + rng.uniform(-spread, spread), 121.47 + rng.uniform(-spread, spread))

    incidents = [OpenIncident(f"I{k}", near(0.02), -float(k)) for k in range(_SPLIT_FROM)]
    crews = [CrewState(f"C{k}", "MU", near(0.04)) for k in range(_SPLIT_FROM // 2)]
    _plan_compiled(incidents, crews, RoadFactorEstimator(), 300.0, 0.0, math.inf, 2, rounds=64)


def _ordered_plans(n: int, c: int) -> int:
    """How many plans exist: n! orders of the incidents x ways to cut the order into c crew sequences."""
    if n > 12:
        return _EXACT_PLANS + 1
    return math.factorial(n) * math.comb(n + c - 1, c - 1)


def _plan_exact(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: TravelEstimator,
    on_site_s: float,
    now_s: float,
    other_unit_cost_s: float = OTHER_UNIT_COST_S,
) -> list[Assignment]:
    """Tiny instances: every order of the incidents cut into the crews' sequences in every way; the first
    best of those that keep greedy's incidents in time wins (plan_surge's objective). Each travel time is
    asked of the estimator once."""
    n, c = len(incidents), len(crews)
    points = [i.position for i in incidents] + [k.position for k in crews]
    tt = [[estimator.seconds(a, incidents[j].position) for j in range(n)] for a in points]
    alarm = [i.alarm_s for i in incidents]
    avail = [max(now_s, k.free_at_s) for k in crews]
    # greedy's plan (plan_greedy's rule and arithmetic, on the same figures) sets the deadlines
    free, where = list(avail), [n + k for k in range(c)]
    greedy_routes: list[list[int]] = [[] for _ in range(c)]
    due = [math.inf] * n
    for i in sorted(range(n), key=lambda i: alarm[i]):
        best_arrival, best_k = math.inf, 0
        for k in range(c):
            arrival = (free[k] if free[k] >= alarm[i] else alarm[i]) + tt[where[k]][i]
            if arrival < best_arrival:
                best_arrival, best_k = arrival, k
        greedy_routes[best_k].append(i)
        free[best_k], where[best_k] = best_arrival + on_site_s, i
        if best_arrival <= alarm[i] + incidents[i].arrival_limit_s:
            due[i] = alarm[i] + incidents[i].arrival_limit_s
    other = [
        [other_unit_cost_s if i.maintenance_unit and k.unit != i.maintenance_unit else 0.0 for i in incidents]
        for k in crews
    ]

    def cost(k: int, seq: Sequence[int]) -> float:  # sum of arrivals (the alarms are a constant) and units
        t, prev, total = avail[k], n + k, 0.0
        for i in seq:
            arrival = (t if t >= alarm[i] else alarm[i]) + tt[prev][i]
            if arrival > due[i]:
                return math.inf
            total += arrival + other[k][i]
            t, prev = arrival + on_site_s, i
        return total

    best, best_routes = math.inf, None
    routes: list[Sequence[int]]
    for order in itertools.permutations(range(n)):
        for cuts in itertools.combinations(range(n + c - 1), c - 1):
            routes, prev, k = [], 0, 0
            for bar in (*cuts, n + c - 1):
                routes.append(order[k : k + bar - prev])
                k += bar - prev
                prev = bar + 1
            total = sum(cost(ci, r) for ci, r in enumerate(routes))
            if total < best - _EPS:
                best, best_routes = total, routes
    if best_routes is None:  # cannot happen: greedy's own plan is one of those tried
        return _assignments_of(incidents, crews, estimator, on_site_s, now_s, greedy_routes)
    return _assignments_of(incidents, crews, estimator, on_site_s, now_s, best_routes)
