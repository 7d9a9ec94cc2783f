"""Compiled core of surge planning (numba): construction, local search and iterated ruin-and-recreate.

Everything here works on arrays, never on domain objects; `surge.py` builds the arrays and turns the result
back into assignments. Nodes are numbered 0..n-1 for incidents and n..n+c-1 for crews. Three tuples travel
together:
- the instance `ins` = (xyz, k, avail, alarm, s, n): unit vectors of every node, seconds per radian of
  great circle, per crew (rows of `avail`) its free time and its unit, per incident (rows of `alarm`) its
  alarm, its latest allowed arrival (inf: none), its cost in seconds of a crew of another unit than its
  contracted one (0 when that unit is not known), and its contracted unit (units are small integers as
  floats; -1: not known), seconds on site, incident count;
- the plan `pl` = (R, rlen, arr, route_of, pos_in, rcost): crew x position table of incident numbers, the
  sequence lengths, and each incident's arrival, crew and position, and each crew's cost (sum of arrivals
  plus the other-unit costs of its jobs);
- the candidate lists `nb` = (near_inc, crew_ptr, crew_near, near_of_ptr, near_of): each incident's nearest
  incidents (rows sorted), the crews worth trying for it (compressed rows: crew_near[crew_ptr[i]:
  crew_ptr[i + 1]]), and who has it as a near incident (compressed likewise).

Travel time is great-circle distance x a constant (the default RoadFactorEstimator), computed on the fly
from unit vectors: the chord gives the angle through a short arcsine series (to ~1e-12 of the haversine at
city scale), which is cheaper than a lookup in a 2,000 x 3,500 matrix that would not fit in cache.

Timing model (the same as plan_greedy): a job starts at max(previous job end or crew free, alarm) and the
crew arrives after the travel time; the job ends `s` seconds (on site) later. Every cost change below is
exact under this model, alarm waits included: a change is priced by re-timing the part of a sequence after
it, which is short (sequences hold a few jobs) and cheaper than keeping O(1) bookkeeping right. A change
that would bring any job after its `due` time is priced inf (never taken): the deadlines are a hard
constraint, and a search that starts feasible (greedy's plan, with `due` set from it) stays feasible.

Functions are compiled on first use and cached on disk (`cache=True`); `nogil=True` lets two threads search
two halves of the city at once. The three most frequent prices (insert, remove, replace) are inlined into
the search: with the unit costs and deadline checks in them, calls to them took a third of its time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

F = TypeVar("F", bound=Callable[..., Any])
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Instance = tuple[Floats, float, Floats, Floats, float, int]
FREE, CREW_UNIT = 0, 1  # columns of avail
ALARM, DUE, OTHER_COST, UNIT = 0, 1, 2, 3  # columns of alarm
Plan = tuple[Ints, Ints, Floats, Ints, Ints, Floats]
Near = tuple[Ints, Ints, Ints, Ints, Ints]

EPS = 1e-6
_RELOCATE, _SWAP, _TAILS, _WITHIN = 1, 2, 3, 4


def _jit(fn: F) -> F:
    return cast(F, njit(cache=True, nogil=True)(fn))


def _jit_inline(fn: F) -> F:
    return cast(F, njit(cache=True, nogil=True, inline="always")(fn))


@_jit_inline
def travel(a: int, b: int, xyz: Floats, k: float) -> float:
    """Seconds from node a to node b: k x the great-circle angle between their unit vectors."""
    dx = xyz[a, 0] - xyz[b, 0]
    dy = xyz[a, 1] - xyz[b, 1]
    dz = xyz[a, 2] - xyz[b, 2]
    h: float = 0.5 * math.sqrt(dx * dx + dy * dy + dz * dz)
    if h < 0.01:  # within ~127 km: arcsine series, exact to ~1e-12
        h2 = h * h
        return k * 2.0 * h * (1.0 + h2 * (1.0 / 6.0 + h2 * (3.0 / 40.0)))
    return k * 2.0 * math.asin(min(h, 1.0))


@_jit_inline
def _other(avail: Floats, alarm: Floats, i: int, c: int) -> float:
    """What serving incident i with crew c adds to the arrival: incident i's other-unit cost when c is not
    of i's contracted unit, else 0 (the cost is 0 when i's contracted unit is not known)."""
    cost: float = alarm[i, OTHER_COST] * (alarm[i, UNIT] != avail[c, CREW_UNIT])
    return cost


@_jit
def construct_greedy(ins: Instance, order: Ints, crew_of: Ints) -> None:
    """The baseline's rule: in `order` (alarm order) each incident takes the crew that can arrive soonest;
    `crew_of` gets each incident's crew (its sequence: the incidents of that crew in `order`)."""
    xyz, k, avail, alarm, s, n = ins
    c_count = avail.shape[0]
    free = avail[:, FREE].copy()
    at = np.arange(n, n + c_count)
    for q in range(order.shape[0]):
        i = order[q]
        al = alarm[i, ALARM]
        best = np.inf
        bc = 0
        for c in range(c_count):
            f = free[c]
            a = (f if f >= al else al) + travel(at[c], i, xyz, k)
            if a < best:
                best = a
                bc = c
        free[bc] = best + s
        at[bc] = i
        crew_of[i] = bc


@_jit
def fill(order: Ints, crew_of: Ints, R: Ints, rlen: Ints) -> None:
    """Sequences from each incident's crew, in `order`."""
    for q in range(order.shape[0]):
        i = order[q]
        c = crew_of[i]
        R[c, rlen[c]] = i
        rlen[c] += 1


@_jit_inline
def _keep_smallest(row: Ints, dist: Floats, m: int, j: int, d: float) -> int:
    """Insert (j, d) into the sorted first m entries of row/dist (capacity row.shape[0]); returns new m."""
    cap = row.shape[0]
    if m < cap:
        p = m
        m += 1
    elif cap > 0 and d < dist[cap - 1]:
        p = cap - 1
    else:
        return m
    while p > 0 and dist[p - 1] > d:
        dist[p] = dist[p - 1]
        row[p] = row[p - 1]
        p -= 1
    dist[p] = d
    row[p] = j
    return m


@_jit
def nearest(
    ins: Instance, near_inc: Ints, soon_crew: Ints, crew_inc: Ints, own_crew: Ints, soonest: Floats
) -> None:
    """Candidate lists, brute force in O(n x (n + crews)): each incident's nearest incidents (by travel),
    the crews that could be there soonest (free time + travel), with that soonest arrival, and the soonest
    crews of its contracted unit (rows of `own_crew` end in -1 when the unit has fewer, or is not known);
    each crew's nearest incidents."""
    xyz, k, avail_u, alarm, _, n = ins
    avail = avail_u[:, FREE].copy()
    c_count = avail.shape[0]
    kn, kc, ki, ko = near_inc.shape[1], soon_crew.shape[1], crew_inc.shape[1], own_crew.shape[1]
    bd = np.full(max(kn, 1), np.inf)
    bc = np.full(max(kc, 1), np.inf)
    bo = np.full(max(ko, 1), np.inf)
    bi = np.full((c_count, max(ki, 1)), np.inf)
    mi = np.zeros(c_count, np.int64)
    own_crew[:] = -1
    for i in range(n):
        row = near_inc[i]
        m = 0
        bd[:] = np.inf
        for j in range(n):
            if j != i:
                d = travel(i, j, xyz, k)
                if m < kn or d < bd[kn - 1]:
                    m = _keep_smallest(row, bd, m, j, d)
        row = soon_crew[i]
        own = own_crew[i]
        u = alarm[i, UNIT]
        m = 0
        mo = 0
        bc[:] = np.inf
        bo[:] = np.inf
        for c in range(c_count):
            d = travel(n + c, i, xyz, k)
            if m < kc or avail[c] + d < bc[kc - 1]:
                m = _keep_smallest(row, bc, m, c, avail[c] + d)
            if u >= 0 and avail_u[c, CREW_UNIT] == u and (mo < ko or avail[c] + d < bo[ko - 1]):
                mo = _keep_smallest(own, bo, mo, c, avail[c] + d)
            if mi[c] < ki or d < bi[c, ki - 1]:  # the crew's own nearest incidents, in the same pass
                mi[c] = _keep_smallest(crew_inc[c], bi[c], mi[c], i, d)
        soonest[i] = bc[0]


@_jit
def retime(ins: Instance, pl: Plan, c: int) -> float:
    """Re-time crew c's sequence (arrivals, crew, positions); returns its cost (sum of arrivals plus the
    other-unit costs)."""
    xyz, k, avail, alarm, s, n = ins
    R, rlen, arr, route_of, pos_in, _ = pl
    t = avail[c, FREE]
    prev = n + c
    tot = 0.0
    for p in range(rlen[c]):
        i = R[c, p]
        st = t if t >= alarm[i, ALARM] else alarm[i, ALARM]
        a = st + travel(prev, i, xyz, k)
        arr[i] = a
        route_of[i] = c
        pos_in[i] = p
        tot += a + _other(avail, alarm, i, c)
        t = a + s
        prev = i
    return tot


@_jit
def retime_all(ins: Instance, pl: Plan) -> None:
    rcost = pl[5]
    for c in range(rcost.shape[0]):
        rcost[c] = retime(ins, pl, c)


@_jit_inline
def _start_of(ins: Instance, pl: Plan, c: int, q: int) -> tuple[float, int]:
    """(time, node) from which the job at position q of crew c's sequence leaves."""
    if q == 0:
        return ins[2][c, FREE], ins[5] + c
    u = pl[0][c, q - 1]
    return pl[2][u] + ins[4], u


@_jit_inline
def _shift(ins: Instance, pl: Plan, c: int, q: int, t: float, prev: int) -> float:
    """Cost change of the jobs at positions q.. of crew c's sequence when the crew leaves for the job at q
    at time t from node prev (inf if one of them would arrive after its due time)."""
    xyz, k, alarm, s = ins[0], ins[1], ins[3], ins[4]
    R, rlen, arr = pl[0], pl[1], pl[2]
    delta = 0.0
    for p in range(q, rlen[c]):
        j = R[c, p]
        st = t if t >= alarm[j, ALARM] else alarm[j, ALARM]
        a = st + travel(prev, j, xyz, k)
        if a > alarm[j, DUE]:
            return np.inf
        delta += a - arr[j]
        t = a + s
        prev = j
    return delta


@_jit_inline
def _arrive(xyz: Floats, k: float, alarm: Floats, t: float, prev: int, i: int) -> float:
    """When a crew leaving node prev at time t (or at i's alarm, if later) arrives at incident i; inf if
    after i's due time."""
    al = alarm[i, ALARM]
    a: float = (t if t >= al else al) + travel(prev, i, xyz, k)
    return np.inf if a > alarm[i, DUE] else a


@_jit_inline
def insert_delta(ins: Instance, pl: Plan, c: int, q: int, i: int) -> float:
    """Cost change of inserting incident i at position q of crew c's sequence."""
    xyz, k, avail, alarm, s, _ = ins
    t, prev = _start_of(ins, pl, c, q)
    a = _arrive(xyz, k, alarm, t, prev, i)
    if a == np.inf:
        return np.inf
    return a + _other(avail, alarm, i, c) + _shift(ins, pl, c, q, a + s, i)


@_jit_inline
def remove_delta(ins: Instance, pl: Plan, c: int, p: int) -> float:
    """Cost change of taking the job at position p out of crew c's sequence."""
    t, prev = _start_of(ins, pl, c, p)
    i = pl[0][c, p]
    old: float = pl[2][i] + _other(ins[2], ins[3], i, c)
    return _shift(ins, pl, c, p + 1, t, prev) - old


@_jit_inline
def replace_delta(ins: Instance, pl: Plan, c: int, p: int, x: int) -> float:
    """Cost change of putting incident x in place of the job at position p of crew c's sequence."""
    xyz, k, avail, alarm, s, _ = ins
    t, prev = _start_of(ins, pl, c, p)
    a = _arrive(xyz, k, alarm, t, prev, x)
    if a == np.inf:
        return np.inf
    i = pl[0][c, p]
    old: float = pl[2][i] + _other(avail, alarm, i, c)
    return a + _other(avail, alarm, x, c) - old + _shift(ins, pl, c, p + 1, a + s, x)


@_jit
def tail_delta(ins: Instance, pl: Plan, a_c: int, pc: int, b: int, qc: int) -> float:
    """Cost change of crew a_c keeping its first pc jobs and then doing crew b's jobs from position qc."""
    xyz, k, avail, alarm, s, _ = ins
    R, rlen, arr = pl[0], pl[1], pl[2]
    t, prev = _start_of(ins, pl, a_c, pc)
    delta = 0.0
    for q in range(pc, rlen[a_c]):
        j = R[a_c, q]
        delta -= arr[j] + _other(avail, alarm, j, a_c)
    for q in range(qc, rlen[b]):
        j = R[b, q]
        a = _arrive(xyz, k, alarm, t, prev, j)
        if a == np.inf:
            return np.inf
        delta += a + _other(avail, alarm, j, a_c)
        t = a + s
        prev = j
    return delta


@_jit
def within_delta(ins: Instance, pl: Plan, c: int, p: int, q: int) -> float:
    """Cost change of moving the job at position p of crew c's sequence to position q of the same one."""
    xyz, k, _, alarm, s, _ = ins
    R, rlen, arr = pl[0], pl[1], pl[2]
    i = R[c, p]
    lo = p if p < q else q
    t, prev = _start_of(ins, pl, c, lo)
    delta = 0.0
    for r in range(lo, rlen[c]):
        if r == q:
            x = i
        else:
            w = r if r < q else r - 1  # index in the sequence without i
            x = R[c, w if w < p else w + 1]
        a = _arrive(xyz, k, alarm, t, prev, x)
        if a == np.inf:
            return np.inf
        delta += a - arr[R[c, r]]
        t = a + s
        prev = x
    return delta


@_jit
def _touch(c: int, touched: Ints, ntouched: int, tmark: Ints, tag: int) -> int:
    if tmark[c] != tag:
        tmark[c] = tag
        touched[ntouched] = c
        return ntouched + 1
    return ntouched


@_jit
def local_search(
    ins: Instance,
    pl: Plan,
    nb: Near,
    group: Ints,
    gid: int,
    work: Ints,
    queued: Bools,
    wlen: int,
    touched: Ints,
    ntouched: int,
    tmark: Ints,
    tag: int,
    requeue_neighbours: bool,
) -> tuple[float, int]:
    """Best-improvement descent over the incidents in the work queue (a ring of size n): for each, the best
    of moving it next to a nearby incident or to the head of a crew worth trying, swapping it with a nearby
    incident, exchanging sequence tails (2-opt*) and moving it within its own sequence. Only crews of group
    `gid` are touched. Returns the cost change and the new count of touched crews."""
    n = ins[5]
    R, rlen, _, route_of, pos_in, rcost = pl
    near_inc, crew_ptr, crew_near, near_of_ptr, near_of = nb
    L = R.shape[1]
    knl = near_inc.shape[1]
    head = 0
    total = 0.0
    moves_left = 100 * n + 1000  # a guard: the descent ends even if a price were ever wrong
    while wlen > 0 and moves_left > 0:
        i = work[head]
        head = head + 1 if head + 1 < n else 0
        wlen -= 1
        queued[i] = False
        a_c = route_of[i]
        if a_c < 0 or group[a_c] != gid:
            continue
        p = pos_in[i]
        ma = rlen[a_c]
        rem = remove_delta(ins, pl, a_c, p)
        c0 = crew_ptr[i] - knl  # crew_near[c0 + t_idx], t_idx >= knl: the crews tried for i
        kcl = crew_ptr[i + 1] - crew_ptr[i]
        best = -EPS
        kind = 0
        mx = 0
        mq = 0
        for t_idx in range(knl + kcl):  # relocate
            if t_idx < knl:
                j = near_inc[i, t_idx]
                b = route_of[j]
                if b < 0 or b == a_c or group[b] != gid or rlen[b] >= L:
                    continue
                q0 = pos_in[j]
                q1 = q0 + 2
            else:
                b = crew_near[c0 + t_idx]
                if b == a_c or group[b] != gid or rlen[b] >= L:
                    continue
                q0 = 0
                q1 = 1
            for q in range(q0, q1):
                d = rem + insert_delta(ins, pl, b, q, i)
                if d < best:
                    best, kind, mx, mq = d, _RELOCATE, b, q
        for t_idx in range(knl):  # swap
            j = near_inc[i, t_idx]
            b = route_of[j]
            if b < 0 or b == a_c or group[b] != gid:
                continue
            d = replace_delta(ins, pl, a_c, p, j) + replace_delta(ins, pl, b, pos_in[j], i)
            if d < best:
                best, kind, mx, mq = d, _SWAP, j, 0
        for t_idx in range(knl + kcl):  # exchange tails
            if t_idx < knl:
                j = near_inc[i, t_idx]
                b = route_of[j]
                if b < 0 or b == a_c or group[b] != gid:
                    continue
                variants = 2
            else:
                b = crew_near[c0 + t_idx]
                if b == a_c or group[b] != gid:
                    continue
                variants = 1
            for v in range(variants):
                if t_idx >= knl:
                    pc, qc = p, 0  # i and what follows go to crew b; b's sequence follows i's predecessor
                elif v == 0:
                    pc, qc = p + 1, pos_in[j]  # ... i, j ...
                else:
                    pc, qc = p, pos_in[j] + 1  # ... j, i ...
                if pc + rlen[b] - qc > L or qc + ma - pc > L:
                    continue
                d = tail_delta(ins, pl, a_c, pc, b, qc) + tail_delta(ins, pl, b, qc, a_c, pc)
                if d < best:
                    best, kind, mx, mq = d, _TAILS, b, pc * (L + 1) + qc
        for q in range(ma):  # within its own sequence
            if q != p:
                d = within_delta(ins, pl, a_c, p, q)
                if d < best:
                    best, kind, mx, mq = d, _WITHIN, a_c, q
        if kind == 0:
            continue
        total += best
        moves_left -= 1
        b = mx
        if kind == _RELOCATE:
            for r in range(p, ma - 1):
                R[a_c, r] = R[a_c, r + 1]
            rlen[a_c] = ma - 1
            for r in range(rlen[b], mq, -1):
                R[b, r] = R[b, r - 1]
            R[b, mq] = i
            rlen[b] += 1
        elif kind == _SWAP:
            b = route_of[mx]
            R[b, pos_in[mx]] = i
            R[a_c, p] = mx
        elif kind == _TAILS:
            pc = mq // (L + 1)
            qc = mq % (L + 1)
            mb = rlen[b]
            tail = R[a_c, pc:ma].copy()
            for r in range(qc, mb):
                R[a_c, pc + r - qc] = R[b, r]
            rlen[a_c] = pc + mb - qc
            for r in range(tail.shape[0]):
                R[b, qc + r] = tail[r]
            rlen[b] = qc + tail.shape[0]
        else:
            if mq < p:
                for r in range(p, mq, -1):
                    R[a_c, r] = R[a_c, r - 1]
            else:
                for r in range(p, mq):
                    R[a_c, r] = R[a_c, r + 1]
            R[a_c, mq] = i
        for side in range(2):
            cc = a_c if side == 0 else b
            if side == 1 and b == a_c:
                break
            rcost[cc] = retime(ins, pl, cc)
            ntouched = _touch(cc, touched, ntouched, tmark, tag)
            for r in range(rlen[cc]):  # look again at the crew's incidents (and at their neighbours)
                x = R[cc, r]
                z0 = near_of_ptr[x] if requeue_neighbours else near_of_ptr[x + 1]
                for z in range(z0, near_of_ptr[x + 1] + 1):
                    jj = x if z == near_of_ptr[x + 1] else near_of[z]
                    if not queued[jj]:
                        queued[jj] = True
                        pos = head + wlen
                        work[pos - n if pos >= n else pos] = jj
                        wlen += 1
    while wlen > 0:  # stopped by the guard: forget the rest of the queue
        queued[work[head]] = False
        head = head + 1 if head + 1 < n else 0
        wlen -= 1
    return total, ntouched


@_jit
def descend(ins: Instance, pl: Plan, nb: Near, group: Ints) -> float:
    """Local search from scratch over every incident (latest arrival first); returns the cost change."""
    n = ins[5]
    c_count = pl[0].shape[0]
    work = np.argsort(-pl[2]).astype(np.int64)
    queued = np.ones(n, np.bool_)
    touched = np.empty(c_count, np.int64)
    tmark = np.zeros(c_count, np.int64)
    d, _ = local_search(ins, pl, nb, group, 0, work, queued, n, touched, 0, tmark, 1, True)
    return d


@_jit
def iterate(
    ins: Instance,
    pl: Plan,
    nb: Near,
    wide: Near,
    soonest: Floats,
    saved_R: Ints,
    saved_len: Ints,
    group: Ints,
    gid: int,
    members: Ints,
    rounds: int,
    seed: int,
    mean_removed: float,
    max_string: float,
) -> float:
    """Iterated local search on the crews of group `gid` (incidents `members`): ruin (take out a few strings
    of consecutive jobs from sequences near a random incident, as in SISR), recreate (put each back at its
    cheapest place in the sequences of its `wide` candidates, skipping a place now and then), descend
    around what changed (`nb` candidates); keep the result only if the plan got better. `saved_R` and
    `saved_len` mirror the current plan (the caller starts them as copies) to undo a round. `soonest` is
    each incident's soonest possible arrival (recreate orders). Returns the cost change."""
    np.random.seed(seed)
    n = ins[5]
    R, rlen, _, route_of, pos_in, rcost = pl
    near_inc, crew_ptr, crew_near, _, _ = wide
    c_count = R.shape[0]
    L = R.shape[1]
    work = np.empty(n, np.int64)
    queued = np.zeros(n, np.bool_)
    touched = np.empty(c_count, np.int64)
    tmark = np.zeros(c_count, np.int64)
    removed = np.empty(n, np.int64)
    keys = np.empty(n, np.float64)
    cand = np.zeros(c_count, np.int64)
    kn = near_inc.shape[1]
    total = 0.0
    ctag = 0
    n_routes = 0
    n_members = members.shape[0]
    for it in range(rounds):
        if it % 64 == 0:
            n_routes = 0
            for c in range(c_count):
                if group[c] == gid and rlen[c] > 0:
                    n_routes += 1
        tag = it + 2
        nt = 0
        ls_max = min(max_string, n_members / max(1, n_routes))
        k_strings = int(np.random.random() * (4.0 * mean_removed / (1.0 + ls_max) - 1.0)) + 1
        seed_i = members[np.random.randint(n_members)]
        nrem = 0
        strings = 0
        delta = 0.0
        for t_idx in range(kn + 1):  # ruin
            if strings >= k_strings:
                break
            j = seed_i if t_idx == 0 else near_inc[seed_i, t_idx - 1]
            c = route_of[j]
            if c < 0 or group[c] != gid or tmark[c] == tag:
                continue
            nt = _touch(c, touched, nt, tmark, tag)
            m = rlen[c]
            ln = int(np.random.random() * max(1, min(m, int(ls_max)))) + 1
            pj = pos_in[j]
            lo = max(0, pj - ln + 1)
            hi = min(pj, m - ln)
            st = lo + int(np.random.random() * (hi - lo + 1))
            for r in range(st, st + ln):
                removed[nrem] = R[c, r]
                nrem += 1
            for r in range(st + ln, m):
                R[c, r - ln] = R[c, r]
            rlen[c] = m - ln
            new_cost = retime(ins, pl, c)
            delta += new_cost - rcost[c]
            rcost[c] = new_cost
            strings += 1
        for r in range(nrem):
            route_of[removed[r]] = -1
        how = np.random.random()  # recreate order: random, farthest first or nearest first
        for r in range(nrem):
            i = removed[r]
            if how < 0.5:
                keys[r] = np.random.random()
            else:
                keys[r] = -soonest[i] if how < 0.8 else soonest[i]
        order = np.argsort(keys[:nrem])
        ok = True
        for r in range(nrem):  # recreate
            i = removed[order[r]]
            best = np.inf
            bc = -1
            bq = -1
            ctag += 1
            kc = crew_ptr[i + 1] - crew_ptr[i]
            for t_idx in range(kn + kc):
                if t_idx < kn:
                    c = route_of[near_inc[i, t_idx]]
                    if c < 0:
                        continue
                else:
                    c = crew_near[crew_ptr[i] + t_idx - kn]
                if group[c] != gid or cand[c] == ctag or rlen[c] >= L:
                    continue
                cand[c] = ctag
                for q in range(rlen[c] + 1):
                    if np.random.random() < 0.01:  # a blink: skip this place now and then
                        continue
                    d = insert_delta(ins, pl, c, q, i)
                    if d < best:
                        best, bc, bq = d, c, q
            if bc < 0:
                ok = False
                break
            nt = _touch(bc, touched, nt, tmark, tag)
            for q in range(rlen[bc], bq, -1):
                R[bc, q] = R[bc, q - 1]
            R[bc, bq] = i
            rlen[bc] += 1
            new_cost = retime(ins, pl, bc)
            delta += new_cost - rcost[bc]
            rcost[bc] = new_cost
        if ok:  # descend around the crews that changed
            wl = 0
            for r in range(nt):
                c = touched[r]
                for q in range(rlen[c]):
                    x = R[c, q]
                    if not queued[x]:
                        queued[x] = True
                        work[wl] = x
                        wl += 1
            d, nt = local_search(ins, pl, nb, group, gid, work, queued, wl, touched, nt, tmark, tag, False)
            delta += d
        if ok and delta < -EPS:  # keep it: the mirror follows
            total += delta
            for r in range(nt):
                c = touched[r]
                saved_len[c] = rlen[c]
                for q in range(rlen[c]):
                    saved_R[c, q] = R[c, q]
        else:  # undo from the mirror
            for r in range(nrem):
                route_of[removed[r]] = -1
            for r in range(nt):
                c = touched[r]
                rlen[c] = saved_len[c]
                for q in range(rlen[c]):
                    R[c, q] = saved_R[c, q]
            for r in range(nt):
                c = touched[r]
                rcost[c] = retime(ins, pl, c)
    return total
