"""Surge planning (大面积停电/极端天气困人): assign many open incidents to crews at once.

When a power cut or a storm traps people in hundreds of elevators at the same time, answering the alarms one
by one (each takes the crew that can arrive soonest, `plan_greedy`) wastes crew time: crews criss-cross the
district in alarm order and the last alarms wait for whoever is left. `plan_surge` plans all of them together
to minimise the mean arrival time (arrival - alarm, DOMAIN.md §5): each crew does a sequence of incidents,
spending `on_site_s` at each, and the plan decides who waits. Re-plan with the crews' new positions and free
times as they free up; the functions are pure (no I/O, no clock) so a re-plan is just another call.

Timing model, shared by both planners so their figures compare: a crew leaves for its next incident at
start = max(now, crew free, previous job end, alarm); arrival = start + travel (the estimator);
the job ends at arrival + on_site_s, at the incident's position.

How `plan_surge` works. Three paths:
- Tiny instances (at most a few thousand possible plans) are solved exactly by enumeration.
- The default estimator (RoadFactorEstimator, what the rescue service uses): the compiled search of
  `_surge_kernel` (numba; 0.8 s budget for 2,000 incidents and 1,500 crews, 0.898 of greedy on the bench,
  docs/PERFORMANCE.md):
  1. Start from greedy's own rule (alarm order, the crew that can arrive soonest, all crews compared).
  2. A full descent: move an incident next to one of its nearest incidents or to the head of a crew worth
     trying, swap two nearby incidents, exchange sequence tails (2-opt*), move an incident within its own
     sequence. The crews worth trying for an incident are the ones that could be there soonest and the ones
     that have it among their nearest incidents: in a dense cluster the soonest crews are all taken, and
     the help is an idle crew a little further out (that second kind was worth 1.5 s of mean arrival).
  3. Until the budget is spent: ruin (take strings of consecutive jobs out of sequences near a random
     incident, as in SISR, Christiaens & Vanden Berghe 2020), recreate (each back at its cheapest place,
     skipping one now and then), descend around the change, keep it only if the plan got better. Two threads
     search two halves of the city at once (split west/east, then south/north, in turns); a crew belongs to
     one half, so the halves never touch the same sequence.
  Every move is priced exactly (jobs waiting for alarms still to come included) by re-timing the short part
  of a sequence after it. The kernel is compiled on first use and cached on disk; `warm_up` loads it (the
  rescue worker does at start), so a plan does not pay for it.
- Any other estimator (a road network, say): the same ideas in pure Python (`_Surge`), asking the estimator
  once per pair and keeping the answers; it stalls near 0.905 of greedy on the bench with the default
  estimator, which is why the compiled path exists.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
import time
from collections import deque
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

__all__ = ["mean_arrival_s", "plan_greedy", "plan_surge", "warm_up"]

log = logging.getLogger(__name__)

try:  # the compiled search; without it (numba missing or broken here) every plan uses the Python search
    from liftwatch.rescue import _surge_kernel as _kernel
except Exception:  # pragma: no cover - depends on the platform
    log.exception("surge planner: the compiled search is unavailable, using the pure-Python search")
    _kernel = None  # type: ignore[assignment]

_EPS = 1e-6
_NEAR_INCIDENTS = 10  # neighbour incidents tried as insertion points / swap partners
_NEAR_CREWS = 10  # crews whose sequence head is tried
_RUIN = 12  # incidents taken out together by one ruin-and-recreate step
_RUIN_ROUNDS = 3  # ruin-and-recreate rounds per incident at most (then the search ends)
_EXACT_PLANS = 20_000  # enumerate when there are at most this many ordered plans
# the compiled search (default estimator)
_RECREATE_INCIDENTS = 30  # nearby incidents whose sequences are tried when an incident is put back
_SOON_CREWS = 20  # the crews that could be at an incident soonest: tried for it (moves and put-backs)
_MEAN_REMOVED = 8.0  # incidents taken out per ruin, on average
_MAX_STRING = 6.0  # longest string of consecutive jobs taken out of one sequence
_ROUNDS_PER_INCIDENT = 20  # ruin-and-recreate rounds at most, per incident (then the search ends)
_CHUNK = 256  # rounds between two splits of the city
_SPLIT_FROM = 200  # incidents from which two threads search two halves
_CREW_INCIDENTS = 10  # each crew's nearest incidents: it is tried for them
_MAX_LEN = 32  # longest sequence a crew may get, unless the start already has longer ones


def _validate(incidents: Sequence[OpenIncident], crews: Sequence[CrewState], on_site_s: float) -> None:
    errors: list[FieldError] = []
    if incidents and not crews:
        errors.append(FieldError("crews", f"no crew to assign {len(incidents)} open incident(s) to"))
    if len({i.id for i in incidents}) != len(incidents):
        errors.append(FieldError("incidents", "incident ids must be unique"))
    if len({c.id for c in crews}) != len(crews):
        errors.append(FieldError("crews", "crew ids must be unique"))
    if not (on_site_s >= 0 and math.isfinite(on_site_s)):
        errors.append(FieldError("on_site_s", f"must be a finite number >= 0, got {on_site_s!r}"))
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


class _KDTree:
    """2-D tree over a subset of points (planar km) answering nearest / k-nearest among the points still
    alive; deleting a point decrements the alive counts on its path, so emptied subtrees are skipped."""

    _LEAF = 8

    def __init__(self, xs: list[float], ys: list[float], ids: Sequence[int]) -> None:
        self.xs, self.ys = xs, ys
        self.pts: list[int] = list(ids)
        self.lo: list[int] = []
        self.hi: list[int] = []
        self.left: list[int] = []
        self.right: list[int] = []
        self.parent: list[int] = []
        self.box: list[tuple[float, float, float, float]] = []
        self.count: list[int] = []
        self.leaf_of: dict[int, int] = {}
        self.alive: dict[int, bool] = dict.fromkeys(self.pts, True)
        if self.pts:
            self._build()

    def _node(self, lo: int, hi: int, parent: int) -> int:
        seg = self.pts[lo:hi]
        bx = [self.xs[p] for p in seg]
        by = [self.ys[p] for p in seg]
        n = len(self.lo)
        self.lo.append(lo)
        self.hi.append(hi)
        self.left.append(-1)
        self.right.append(-1)
        self.parent.append(parent)
        self.box.append((min(bx), max(bx), min(by), max(by)))
        self.count.append(hi - lo)
        return n

    def _build(self) -> None:
        stack = [(0, len(self.pts), -1, -1, False)]
        while stack:
            lo, hi, parent, _, is_right = stack.pop()
            n = self._node(lo, hi, parent)
            if parent >= 0:
                if is_right:
                    self.right[parent] = n
                else:
                    self.left[parent] = n
            if hi - lo <= self._LEAF:
                for p in self.pts[lo:hi]:
                    self.leaf_of[p] = n
                continue
            x0, x1, y0, y1 = self.box[n]
            coord = self.xs if x1 - x0 >= y1 - y0 else self.ys
            seg = sorted(self.pts[lo:hi], key=lambda p: (coord[p], p))
            self.pts[lo:hi] = seg
            mid = (lo + hi) // 2
            stack.append((mid, hi, n, 0, True))
            stack.append((lo, mid, n, 0, False))

    def remove(self, p: int) -> None:
        if not self.alive.get(p):
            return
        self.alive[p] = False
        n = self.leaf_of[p]
        while n >= 0:
            self.count[n] -= 1
            n = self.parent[n]

    def nearest(self, x: float, y: float, k: int = 1) -> list[int]:
        """The k nearest alive points, nearest first (ties by point id)."""
        if not self.pts or self.count[0] == 0:
            return []
        xs, ys, pts, alive, box = self.xs, self.ys, self.pts, self.alive, self.box
        left, right, count = self.left, self.right, self.count
        best: list[tuple[float, int]] = []  # max-heap by (-d2, -id) of the k best
        bound = math.inf
        stack = [(0.0, 0)]
        while stack:
            d, n = stack.pop()
            if d > bound or count[n] == 0:
                continue
            ln = left[n]
            if ln < 0:
                for p in pts[self.lo[n] : self.hi[n]]:
                    if alive[p]:
                        dx = xs[p] - x
                        dy = ys[p] - y
                        d2 = dx * dx + dy * dy
                        if d2 <= bound:
                            if len(best) < k:
                                heapq.heappush(best, (-d2, -p))
                            else:
                                heapq.heappushpop(best, (-d2, -p))
                            if len(best) == k:
                                bound = -best[0][0]
                continue
            rn = right[n]
            children = []
            for c in (ln, rn):
                if count[c]:
                    x0, x1, y0, y1 = box[c]
                    dx = x0 - x if x < x0 else (x - x1 if x > x1 else 0.0)
                    dy = y0 - y if y < y0 else (y - y1 if y > y1 else 0.0)
                    children.append((dx * dx + dy * dy, c))
            children.sort(reverse=True)  # nearer child popped first
            stack.extend(children)
        return [-p for _, p in sorted(best, key=lambda t: (-t[0], -t[1]))]


def plan_surge(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: TravelEstimator,
    on_site_s: float = 300.0,
    now_s: float = 0.0,
    time_budget_s: float = 0.8,
    threads: int = 2,
) -> list[Assignment]:
    """All open incidents planned together to minimise the mean arrival time; every incident is served
    exactly once. Deterministic for the same input and `threads` except where the time budget cuts the
    search short (the two halves of a split search never share a crew, so how the threads are scheduled
    does not matter). `threads`: 2 lets the compiled search use two cores; 1 keeps it on one. Returned in
    `incidents` order."""
    _validate(incidents, crews, on_site_s)
    if not incidents:
        return []
    deadline = time.perf_counter() + time_budget_s
    exact = _ordered_plans(len(incidents), len(crews)) <= _EXACT_PLANS
    if _kernel is not None and type(estimator) is RoadFactorEstimator and not exact:
        try:
            return _plan_compiled(incidents, crews, estimator, on_site_s, now_s, deadline, threads)
        except Exception:  # a fault in the compiled search must not leave a surge unplanned
            log.exception("surge planner: the compiled search failed; planning with the Python search")
            deadline = max(deadline, time.perf_counter() + 0.2)
    planner = _Surge(incidents, crews, estimator, on_site_s, now_s)
    if exact:
        planner.solve_exact()
    else:
        planner.construct_greedy()
        planner.improve(deadline)
    return planner.assignments()


def _plan_compiled(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: RoadFactorEstimator,
    on_site_s: float,
    now_s: float,
    deadline: float,
    threads: int,
    rounds: int | None = None,
) -> list[Assignment]:
    """The default estimator's plan, searched by the compiled kernel (see `_surge_kernel`): greedy's rule
    as the start, a full descent, then iterated ruin-and-recreate in rounds until the deadline or
    `_ROUNDS_PER_INCIDENT` x n rounds. With two threads each round splits the city in two halves (west and
    east, then south and north, alternately) whose crews are searched at once; a crew's whole sequence
    belongs to one half, so the halves never touch the same crew."""
    n, c = len(incidents), len(crews)
    ins = _instance(incidents, crews, estimator, on_site_s, now_s)
    xyz, _, _, alarm, _, _ = ins
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
    near_inc = np.zeros((n, min(_RECREATE_INCIDENTS, n - 1)), np.int64)
    soon_crew = np.zeros((n, min(_SOON_CREWS, c)), np.int64)
    crew_inc = np.zeros((c, min(_CREW_INCIDENTS, n)), np.int64)
    soonest = np.zeros(n)  # each incident's soonest possible arrival: recreate orders by it
    _kernel.nearest(ins, near_inc, soon_crew, crew_inc, soonest)
    near_inc_ls = np.ascontiguousarray(near_inc[:, :_NEAR_INCIDENTS])
    near_of = _reverse(near_inc_ls, n)
    crews_to_try = _crews_to_try(soon_crew, crew_inc, n)
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
    return _assignments_of(incidents, crews, estimator, on_site_s, now_s, R, rlen)


def _instance(
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: RoadFactorEstimator,
    on_site_s: float,
    now_s: float,
) -> _kernel.Instance:
    """The kernel's view of a plan's input: unit vectors of incidents then crews, the estimator's seconds
    per radian of great circle, free times, alarms, time on site, incident count."""
    points = [i.position for i in incidents] + [crew.position for crew in crews]
    lat = np.radians(np.array([p.lat for p in points]))
    lon = np.radians(np.array([p.lon for p in points]))
    xyz = np.ascontiguousarray(
        np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))
    )
    k = 6371.0 * estimator.road_factor / estimator.speed_kmh * 3600
    avail = np.array([max(now_s, crew.free_at_s) for crew in crews])
    alarm = np.array([i.alarm_s for i in incidents])
    return xyz, k, avail, alarm, float(on_site_s), len(incidents)


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
    soon_crew: npt.NDArray[np.int64], crew_inc: npt.NDArray[np.int64], n: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The crews tried for each incident, compressed (crews[ptr[i]:ptr[i + 1]]): those that could be there
    soonest, and those that have it among their nearest incidents. The second kind matters in a dense
    cluster, where the soonest crews are all taken and an idle crew a little further out is the help."""
    c = crew_inc.shape[0]
    inc = np.concatenate((np.repeat(np.arange(n, dtype=np.int64), soon_crew.shape[1]), crew_inc.ravel()))
    crew = np.concatenate((soon_crew.ravel(), np.repeat(np.arange(c, dtype=np.int64), crew_inc.shape[1])))
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
    R: npt.NDArray[np.int64],
    rlen: npt.NDArray[np.int64],
) -> list[Assignment]:
    """The plan, timed with the estimator's own figures; in `incidents` order."""
    out: list[Assignment | None] = [None] * len(incidents)
    seconds = estimator.seconds
    for c, crew in enumerate(crews):
        t, where = max(now_s, crew.free_at_s), crew.position
        for i in R[c, : rlen[c]].tolist():
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


class _TravelCache(dict[int, float]):
    """Travel times by key a * m + b, filled on first use: a plain dict lookup in the hot loops instead of a
    method call (about half the search time was the call)."""

    def __init__(self, m: int, points: Sequence[GeoPoint], estimator: TravelEstimator) -> None:
        super().__init__()
        self.m, self.points, self.seconds = m, points, estimator.seconds

    def __missing__(self, key: int) -> float:
        a, b = divmod(key, self.m)
        v = self[key] = self.seconds(self.points[a], self.points[b])
        return v


class _RoadFactorCache(_TravelCache):
    """The same for the default estimator, with its formula (domain.RoadFactorEstimator: haversine x road
    factor / speed) inlined on precomputed radians: the search asks for ~150,000 pairs, and the call with
    its conversions was a third of the search time. Equal to the estimator's figure to ~1e-12 s; the plan
    returned is timed with the estimator itself."""

    def __init__(self, m: int, points: Sequence[GeoPoint], estimator: RoadFactorEstimator) -> None:
        super().__init__(m, points, estimator)
        self.lat = [math.radians(p.lat) for p in points]
        self.lon = [math.radians(p.lon) for p in points]
        self.cos_lat = [math.cos(x) for x in self.lat]
        self.k = 2 * 6371.0 * estimator.road_factor / estimator.speed_kmh * 3600

    def __missing__(self, key: int) -> float:
        a, b = divmod(key, self.m)
        sp = math.sin((self.lat[b] - self.lat[a]) / 2)
        sl = math.sin((self.lon[b] - self.lon[a]) / 2)
        h = sp * sp + self.cos_lat[a] * self.cos_lat[b] * sl * sl
        v = self[key] = self.k * math.asin(math.sqrt(h))
        return v


class _Surge:
    """Working state of one `plan_surge` call. Nodes: incidents 0..N-1, then crews' start points N..N+C-1."""

    def __init__(
        self,
        incidents: Sequence[OpenIncident],
        crews: Sequence[CrewState],
        estimator: TravelEstimator,
        on_site_s: float,
        now_s: float,
    ) -> None:
        self.incidents, self.crews = incidents, crews
        self.n, self.c = len(incidents), len(crews)
        self.points = [i.position for i in incidents] + [c.position for c in crews]
        self.seconds = estimator.seconds
        self.s = on_site_s
        self.alarm = [i.alarm_s for i in incidents]
        self.avail = [max(now_s, c.free_at_s) for c in crews]
        # With every alarm before every crew's free time no job waits for its alarm, so the O(1) deltas of
        # local search are exact; otherwise each candidate move is checked by re-timing its sequences.
        self.linear = max(self.alarm) <= min(self.avail)
        lat0 = sum(p.lat for p in self.points) / len(self.points)
        kx = 111.32 * math.cos(math.radians(lat0))
        self.xs = [p.lon * kx for p in self.points]
        self.ys = [p.lat * 110.574 for p in self.points]
        self.m = self.n + self.c
        self.cache = (
            _RoadFactorCache(self.m, self.points, estimator)
            if type(estimator) is RoadFactorEstimator
            else _TravelCache(self.m, self.points, estimator)
        )
        self.routes: list[list[int]] = [[] for _ in crews]
        self.route_of = [-1] * self.n
        self.pos_in = [0] * self.n
        self.arr = [0.0] * self.n

    def tt(self, a: int, b: int) -> float:
        return self.cache[a * self.m + b]

    # -- timing -------------------------------------------------------------------------------------------
    def route_cost(self, c: int, seq: Sequence[int]) -> float:
        """Sum of arrival times of a crew's sequence (the alarms are a constant of the instance)."""
        tc, mm = self.cache, self.m
        t, prev, total, s, alarm = self.avail[c], self.n + c, 0.0, self.s, self.alarm
        for i in seq:
            a = (t if t >= alarm[i] else alarm[i]) + tc[prev * mm + i]
            total += a
            t = a + s
            prev = i
        return total

    def retime(self, c: int) -> None:
        tc, mm = self.cache, self.m
        t, prev, alarm = self.avail[c], self.n + c, self.alarm
        for p, i in enumerate(self.routes[c]):
            a = (t if t >= alarm[i] else alarm[i]) + tc[prev * mm + i]
            self.arr[i] = a
            self.route_of[i] = c
            self.pos_in[i] = p
            t = a + self.s
            prev = i

    def assignments(self) -> list[Assignment]:
        """The plan, timed with the estimator's own figures (not the inlined formula's)."""
        out: list[Assignment | None] = [None] * self.n
        points, seconds = self.points, self.seconds
        exact = type(self.cache) is _TravelCache
        for c, seq in enumerate(self.routes):
            t, prev = self.avail[c], self.n + c
            for i in seq:
                start = t if t >= self.alarm[i] else self.alarm[i]
                a = start + (self.tt(prev, i) if exact else seconds(points[prev], points[i]))
                out[i] = Assignment(self.incidents[i].id, self.crews[c].id, start, a)
                t, prev = a + self.s, i
        assert all(a is not None for a in out)
        return [a for a in out if a is not None]

    # -- exact, for tiny instances ------------------------------------------------------------------------
    def solve_exact(self) -> None:
        """Every order of the incidents cut into the crews' sequences in every way; the first best wins."""
        n, c = self.n, self.c
        best, best_routes = math.inf, None
        for order in itertools.permutations(range(n)):
            for cuts in itertools.combinations(range(n + c - 1), c - 1):
                routes: list[list[int]] = []
                prev, k = 0, 0
                bars = (*cuts, n + c - 1)
                for b in bars:
                    size = b - prev
                    routes.append(list(order[k : k + size]))
                    k += size
                    prev = b + 1
                total = sum(self.route_cost(ci, r) for ci, r in enumerate(routes))
                if total < best - _EPS:
                    best, best_routes = total, routes
        assert best_routes is not None
        self.routes = best_routes

    # -- construction ---------------------------------------------------------------------------------------
    def construct_greedy(self) -> None:
        """The baseline's rule (alarm order, the crew that can arrive soonest; see the module docstring for
        why this start), the crews compared on a straight-line guess of the travel time in one vectorised
        step per incident; the chosen crew's arrival uses the estimator."""
        n, alarm, s, tt = self.n, self.alarm, self.s, self.tt
        rate = self._seconds_per_km()  # positions scaled to seconds, so the distance is the travel guess
        xs = [x * rate for x in self.xs]
        ys = [y * rate for y in self.ys]
        px, py = np.array(xs[n:]), np.array(ys[n:])  # each crew's current position
        free = np.array(self.avail)
        free_at = list(self.avail)
        at = [n + c for c in range(self.c)]
        dx, dy, guess = np.empty(self.c), np.empty(self.c), np.empty(self.c)
        for i in sorted(range(n), key=lambda i: (alarm[i], i)):
            al = alarm[i]
            np.subtract(px, xs[i], out=dx)
            np.subtract(py, ys[i], out=dy)
            np.hypot(dx, dy, out=guess)
            guess += np.maximum(free, al)
            c = int(guess.argmin())
            f = free_at[c]
            free[c] = free_at[c] = (f if f >= al else al) + tt(at[c], i) + s
            px[c], py[c] = xs[i], ys[i]
            at[c] = i
            self.routes[c].append(i)
        for c in range(self.c):
            self.retime(c)

    def _seconds_per_km(self) -> float:
        """The estimator's travel seconds per straight-line km, from a sample of incident-crew pairs."""
        n, c, xs, ys = self.n, self.c, self.xs, self.ys
        ratios = []
        for k in range(64):
            i, j = k * n // 64, n + k * c // 64
            d = math.hypot(xs[i] - xs[j], ys[i] - ys[j])
            if d > 1e-9:
                ratios.append(self.tt(j, i) / d)
        return sorted(ratios)[len(ratios) // 2] if ratios else 1.0

    # -- local search -------------------------------------------------------------------------------------
    def improve(self, deadline: float) -> None:
        """Apply improving moves until none is left or the deadline passes. A work list holds the incidents
        whose surroundings changed (don't-look bits), so later rounds only revisit what a move touched."""
        n, xs, ys = self.n, self.xs, self.ys
        inc_tree = _KDTree(xs, ys, range(n))
        crew_tree = _KDTree(xs, ys, range(n, n + self.c))
        near_inc: list[list[int]] = []
        near_crew: list[list[int]] = []
        for i in range(n):
            if i % 64 == 0 and time.perf_counter() > deadline:
                return
            near_inc.append([j for j in inc_tree.nearest(xs[i], ys[i], _NEAR_INCIDENTS + 1) if j != i])
            near_crew.append([k - n for k in crew_tree.nearest(xs[i], ys[i], _NEAR_CREWS)])
        near_of: list[list[int]] = [[] for _ in range(n)]  # reverse neighbour lists
        for i, js in enumerate(near_inc):
            for j in js:
                near_of[j].append(i)
        queued = [True] * n
        work = deque(sorted(range(n), key=lambda i: (-self.arr[i], i)))  # latest arrivals first
        clock = time.perf_counter

        def descend() -> bool:
            while work:
                if clock() > deadline:
                    return False
                i = work.popleft()
                queued[i] = False
                for c in self._improve_one(i, near_inc[i], near_crew[i]):
                    for k in self.routes[c]:
                        for j in (k, *near_of[k]):
                            if not queued[j]:
                                queued[j] = True
                                work.append(j)
            return True

        if not descend():
            return
        # Local optimum: ruin and recreate (large neighbourhood search) while time remains. Take a seed
        # incident and its neighbours out, put them back one by one at their cheapest insertion point, keep
        # the result if the plan got better, then descend again from there.
        rng = random.Random(n * 7919 + self.c)
        for _ in range(_RUIN_ROUNDS * n):
            if clock() > deadline:
                return
            seed = rng.randrange(n)
            removed = [seed, *near_inc[seed][: _RUIN - 1]]
            if self._ruin_recreate(removed, near_inc, near_crew, rng):
                for k in removed:
                    for j in (k, *near_of[k]):
                        if not queued[j]:
                            queued[j] = True
                            work.append(j)
                if not descend():
                    return

    def _ruin_recreate(
        self, removed: list[int], near_inc: list[list[int]], near_crew: list[list[int]], rng: random.Random
    ) -> bool:
        """Remove incidents, reinsert each at its cheapest place; keep it if better, else restore."""
        routes, route_of, pos_in = self.routes, self.route_of, self.pos_in
        saved: dict[int, list[int]] = {}
        out = set(removed)
        for c in {route_of[i] for i in removed}:
            saved[c] = routes[c]
            routes[c] = [k for k in routes[c] if k not in out]
            self.retime(c)
        for i in removed:
            route_of[i] = -1
        rng.shuffle(removed)
        for i in removed:
            best, slot = math.inf, (near_crew[i][0], 0)
            cands = [(route_of[j], pos_in[j] + d) for j in near_inc[i] if route_of[j] >= 0 for d in (0, 1)]
            cands += [(b, 0) for b in near_crew[i]]
            for b, q in cands:
                delta = self._insertion_delta(i, b, q)
                if delta < best:
                    best, slot = delta, (b, q)
            b, q = slot
            if b not in saved:
                saved[b] = routes[b][:]
            routes[b].insert(q, i)
            self.retime(b)
        before = sum(self.route_cost(c, r) for c, r in saved.items())
        after = sum(self.route_cost(c, routes[c]) for c in saved)
        if after < before - _EPS:
            return True
        for c, r in saved.items():
            routes[c] = r
            self.retime(c)
        return False

    def _insertion_delta(self, i: int, b: int, q: int) -> float:
        """Cost change of putting incident i (in no sequence, or its removal priced apart) at position q of
        crew b's sequence: in O(1) when no job waits for its alarm (the jobs after it are delayed by the
        detour plus the time on site), by re-timing the sequence otherwise."""
        rb = self.routes[b]
        if not self.linear:
            return self.route_cost(b, [*rb[:q], i, *rb[q:]]) - self.route_cost(b, rb)
        tc, mm, s, alarm = self.cache, self.m, self.s, self.alarm
        if q:
            u2 = rb[q - 1]
            st = self.arr[u2] + s
        else:
            u2 = self.n + b
            st = self.avail[b]
        t_u2i = tc[u2 * mm + i]
        delta = (st if st >= alarm[i] else alarm[i]) + t_u2i
        if q < len(rb):
            v2 = rb[q]
            delta += (len(rb) - q) * (t_u2i + s + tc[i * mm + v2] - tc[u2 * mm + v2])
        return delta

    def _improve_one(self, i: int, near_inc: list[int], near_crew: list[int]) -> tuple[int, ...]:
        """The best improving move around incident i, applied; returns the crews whose sequences changed."""
        tc, mm = self.cache, self.m
        n, s, arr, avail = self.n, self.s, self.arr, self.avail
        routes, route_of, pos_in = self.routes, self.route_of, self.pos_in
        a_c = route_of[i]
        ra = routes[a_c]
        p = pos_in[i]
        ma = len(ra)
        u = ra[p - 1] if p else n + a_c
        v = ra[p + 1] if p + 1 < ma else -1
        t_ui = tc[u * mm + i]
        if v >= 0:
            t_iv = tc[i * mm + v]
            remove_delta = -arr[i] - (ma - p - 1) * (t_ui + s + t_iv - tc[u * mm + v])
        else:
            t_iv = 0.0
            remove_delta = -arr[i]
        best = -_EPS
        move: tuple[str, int, int] | None = None

        # relocate: before or after a nearby incident in another crew's sequence, or at a nearby crew's head
        slots: list[tuple[int, int]] = []
        for j in near_inc:
            b = route_of[j]
            if b != a_c:
                q = pos_in[j]
                slots.append((b, q))
                slots.append((b, q + 1))
        for b in near_crew:
            if b != a_c:
                slots.append((b, 0))
        seen: set[tuple[int, int]] = set()
        for b, q in slots:
            if (b, q) in seen:
                continue
            seen.add((b, q))
            if self.linear:
                delta = remove_delta + self._insertion_delta(i, b, q)
            else:
                delta = self._exact_relocate(i, b, q)
            if delta < best:
                best, move = delta, ("relocate", b, q)

        # swap with a nearby incident in another crew's sequence
        for j in near_inc:
            b = route_of[j]
            if b == a_c:
                continue
            rb = routes[b]
            q = pos_in[j]
            mb = len(rb)
            u2 = rb[q - 1] if q else n + b
            v2 = rb[q + 1] if q + 1 < mb else -1
            delta = (ma - p) * (tc[u * mm + j] - t_ui) + (mb - q) * (tc[u2 * mm + i] - tc[u2 * mm + j])
            if v >= 0:
                delta += (ma - p - 1) * (tc[j * mm + v] - t_iv)
            if v2 >= 0:
                delta += (mb - q - 1) * (tc[i * mm + v2] - tc[j * mm + v2])
            if not self.linear:
                delta = self._exact_swap(i, j)
            if delta < best:
                best, move = delta, ("swap", j, 0)

        # exchange tails (2-opt*): i's sequence continues with j's tail and the other way round; or the tail
        # from i goes to a nearby crew, whose own sequence moves behind i's predecessor
        cuts: list[tuple[int, int, int]] = []
        for j in near_inc:
            b = route_of[j]
            if b != a_c:
                q = pos_in[j]
                cuts.append((b, p + 1, q))  # ... i, j ...
                cuts.append((b, p, q + 1))  # ... j, i ...
        for b in near_crew:
            if b != a_c:
                cuts.append((b, p, 0))
        for b, pc, qc in cuts:
            rb = routes[b]
            if pc:
                na = ra[pc - 1]
                ea = arr[na] + s
            else:
                na = n + a_c
                ea = avail[a_c]
            if qc:
                nb = rb[qc - 1]
                eb = arr[nb] + s
            else:
                nb = n + b
                eb = avail[b]
            delta = 0.0
            if qc < len(rb):
                h = rb[qc]
                delta += (len(rb) - qc) * (ea + tc[na * mm + h] - eb - tc[nb * mm + h])
            if pc < ma:
                h = ra[pc]
                delta += (ma - pc) * (eb + tc[nb * mm + h] - ea - tc[na * mm + h])
            if not self.linear:
                delta = self._exact_tails(a_c, pc, b, qc)
            if delta < best:
                best, move = delta, ("tails", b, pc * (self.n + 1) + qc)

        # move within its own sequence
        if ma > 1:
            base = self.route_cost(a_c, ra)
            rest = ra[:p] + ra[p + 1 :]
            for q in range(ma):
                if q == p:
                    continue
                delta = self.route_cost(a_c, [*rest[:q], i, *rest[q:]]) - base
                if delta < best:
                    best, move = delta, ("within", q, 0)

        if move is None:
            return ()
        kind, x, q = move
        if kind == "relocate":
            del ra[p]
            routes[x].insert(q, i)
            touched: tuple[int, ...] = (a_c, x)
        elif kind == "swap":
            b = route_of[x]
            rb = routes[b]
            ra[p], rb[pos_in[x]] = x, i
            touched = (a_c, b)
        elif kind == "tails":
            pc, qc = divmod(q, self.n + 1)
            rb = routes[x]
            routes[a_c], routes[x] = ra[:pc] + rb[qc:], rb[:qc] + ra[pc:]
            touched = (a_c, x)
        else:
            del ra[p]
            ra.insert(x, i)
            touched = (a_c,)
        for c in touched:
            self.retime(c)
        return touched

    def _delta(self, a_c: int, new_a: list[int], b: int, new_b: list[int]) -> float:
        """Exact cost change of replacing two sequences (jobs may wait for their alarm, which the O(1) deltas
        ignore)."""
        ra, rb = self.routes[a_c], self.routes[b]
        return (
            self.route_cost(a_c, new_a)
            + self.route_cost(b, new_b)
            - self.route_cost(a_c, ra)
            - self.route_cost(b, rb)
        )

    def _exact_relocate(self, i: int, b: int, q: int) -> float:
        a_c = self.route_of[i]
        rb = self.routes[b]
        return self._delta(a_c, [k for k in self.routes[a_c] if k != i], b, [*rb[:q], i, *rb[q:]])

    def _exact_swap(self, i: int, j: int) -> float:
        a_c, b = self.route_of[i], self.route_of[j]
        new_a = [j if k == i else k for k in self.routes[a_c]]
        new_b = [i if k == j else k for k in self.routes[b]]
        return self._delta(a_c, new_a, b, new_b)

    def _exact_tails(self, a_c: int, pc: int, b: int, qc: int) -> float:
        ra, rb = self.routes[a_c], self.routes[b]
        return self._delta(a_c, ra[:pc] + rb[qc:], b, rb[:qc] + ra[pc:])
