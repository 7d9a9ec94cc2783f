"""The compiled surge search: its travel time is the estimator's, every priced move is priced exactly (alarm
waits, busy crews and other-unit costs included, a broken deadline priced inf), its bookkeeping stays true
through the search, small instances reach the optimum found by enumeration, and greedy's incidents in time
stay in time."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest

from liftwatch.rescue import _surge_kernel as kernel
from liftwatch.rescue.domain import Assignment, CrewState, GeoPoint, OpenIncident, RoadFactorEstimator
from liftwatch.rescue.surge import (
    _crews_to_try,
    _instance,
    _made_late,
    _plan_compiled,
    _plan_exact,
    _reverse,
    late_count,
    mean_arrival_s,
    other_unit_share,
    plan_greedy,
)
from tests.unit.rescue.test_surge import check_plan

EST = RoadFactorEstimator()
CENTRE = GeoPoint(31.23, 121.47)


def city(
    n: int, c: int, seed: int, future_alarms: bool = False, units: int = 0
) -> tuple[list[OpenIncident], list[CrewState]]:
    """Incidents and crews around CENTRE; with `units`, each incident is contracted to one of that many
    units and each crew belongs to one (drawn apart: the places are those of the same seed without)."""
    rng = random.Random(seed)
    urng = random.Random(-seed - 1)

    def near(spread: float) -> GeoPoint:
        return GeoPoint(CENTRE.lat + rng.gauss(0, spread), CENTRE.lon + rng.gauss(0, spread))

    def unit() -> str:
        return f"U{urng.randrange(units)}" if units else ""

    incidents = [
        OpenIncident(f"I{k}", near(0.02), rng.uniform(-300, 600 if future_alarms else 0), unit())
        for k in range(n)
    ]
    crews = [
        CrewState(f"C{k}", unit() or "MU", near(0.05), rng.uniform(0, 900) if rng.random() < 0.3 else 0.0)
        for k in range(c)
    ]
    return incidents, crews


def arrays(
    incidents: list[OpenIncident], crews: list[CrewState], other_unit_cost_s: float = 0.0
) -> tuple[kernel.Instance, list[GeoPoint]]:
    """The kernel's input as the planner builds it (no deadlines yet), and the points in node order."""
    points = [i.position for i in incidents] + [c.position for c in crews]
    return _instance(incidents, crews, EST, 300.0, 0.0, other_unit_cost_s), points


def cost_of(ins: kernel.Instance, c: int, seq: list[int]) -> float:
    """Sum of arrivals plus other-unit costs of a crew's sequence, from scratch (the reference); inf if a
    job arrives after its due time."""
    xyz, k, avail, alarm, s, n = ins
    t, prev, total = avail[c, kernel.FREE], n + c, 0.0
    for i in seq:
        a = max(t, alarm[i, kernel.ALARM]) + kernel.travel(prev, i, xyz, k)
        if a > alarm[i, kernel.DUE]:
            return math.inf
        contracted = alarm[i, kernel.UNIT]
        total += a + (
            alarm[i, kernel.OTHER_COST] if contracted not in (-1, avail[c, kernel.CREW_UNIT]) else 0
        )
        t, prev = a + s, i
    return total


def random_plan(ins: kernel.Instance, c_count: int, rng: random.Random) -> kernel.Plan:
    n = ins[5]
    R = np.zeros((c_count, n), np.int64)
    rlen = np.zeros(c_count, np.int64)
    for i in rng.sample(range(n), n):
        c = rng.randrange(c_count)
        R[c, rlen[c]] = i
        rlen[c] += 1
    pl = (R, rlen, np.zeros(n), np.full(n, -1, np.int64), np.zeros(n, np.int64), np.zeros(c_count))
    kernel.retime_all(ins, pl)
    return pl


def routes(pl: kernel.Plan) -> list[list[int]]:
    R, rlen = pl[0], pl[1]
    return [R[c, : rlen[c]].tolist() for c in range(R.shape[0])]


class TestTravel:
    def test_equals_the_estimator_in_a_city_and_far_away(self) -> None:
        rng = random.Random(1)
        points = [
            GeoPoint(CENTRE.lat + rng.uniform(-0.3, 0.3), CENTRE.lon + rng.uniform(-0.3, 0.3))
            for _ in range(40)
        ]
        points += [
            GeoPoint(rng.uniform(-60, 60), rng.uniform(-180, 180)) for _ in range(10)
        ]  # arcsine branch
        incidents = [OpenIncident(f"I{k}", p, 0.0) for k, p in enumerate(points)]
        ins, pts = arrays(incidents, [])
        for a in range(len(pts)):
            for b in range(len(pts)):
                expected = EST.seconds(pts[a], pts[b])
                assert kernel.travel(a, b, ins[0], ins[1]) == pytest.approx(expected, rel=1e-9, abs=1e-9)


class TestPricing:
    """Each delta the search relies on equals the cost change found by re-timing the changed sequence."""

    @pytest.mark.parametrize(("seed", "units"), [(s, u) for s in range(5) for u in (0, 3)])
    def test_deltas_match_retiming_from_scratch(self, seed: int, units: int) -> None:
        rng = random.Random(seed)
        incidents, crews = city(30, 5, seed, future_alarms=True, units=units)  # alarms to come: jobs wait
        ins, _ = arrays(incidents, crews, other_unit_cost_s=450.0)
        pl = random_plan(ins, len(crews), rng)
        if units:  # deadlines: half the incidents may arrive at most a little later than now
            for i in rng.sample(range(len(incidents)), len(incidents) // 2):
                ins[3][i, kernel.DUE] = pl[2][i] + rng.uniform(0, 900)
        seqs = routes(pl)
        checked = broken = 0
        for _ in range(300):
            a = rng.randrange(len(crews))
            b = rng.choice([c for c in range(len(crews)) if c != a])
            ra, rb = seqs[a], seqs[b]
            if not ra:
                continue
            p = rng.randrange(len(ra))
            i = ra[p]
            without = ra[:p] + ra[p + 1 :]
            assert kernel.remove_delta(ins, pl, a, p) == pytest.approx(
                cost_of(ins, a, without) - cost_of(ins, a, ra)
            )
            q = rng.randrange(len(rb) + 1)
            changed = [*rb[:q], i, *rb[q:]]
            priced = [kernel.insert_delta(ins, pl, b, q, i)]
            assert priced[-1] == pytest.approx(cost_of(ins, b, changed) - cost_of(ins, b, rb))
            if rb:
                q = rng.randrange(len(rb))
                swapped = [*rb[:q], i, *rb[q + 1 :]]
                priced.append(kernel.replace_delta(ins, pl, b, q, i))
                assert priced[-1] == pytest.approx(cost_of(ins, b, swapped) - cost_of(ins, b, rb))
            qc = rng.randrange(len(rb) + 1)
            tails = ra[:p] + rb[qc:]
            priced.append(kernel.tail_delta(ins, pl, a, p, b, qc))
            assert priced[-1] == pytest.approx(cost_of(ins, a, tails) - cost_of(ins, a, ra))
            q = rng.randrange(len(ra))
            moved = [*without[:q], i, *without[q:]]
            priced.append(kernel.within_delta(ins, pl, a, p, q))
            assert priced[-1] == pytest.approx(cost_of(ins, a, moved) - cost_of(ins, a, ra))
            broken += sum(d == math.inf for d in priced)
            checked += 1
        assert checked > 200
        assert (broken > 20) == (units > 0)  # with deadlines, many moves would break one: priced inf


def candidates(ins: kernel.Instance, c_count: int) -> tuple[kernel.Near, kernel.Near, np.ndarray]:
    """Candidate lists as the planner builds them: for the descent, for put-backs, soonest arrivals."""
    n = ins[5]
    near_inc = np.zeros((n, min(30, n - 1)), np.int64)
    soon = np.zeros((n, min(20, c_count)), np.int64)
    crew_inc = np.zeros((c_count, min(10, n)), np.int64)
    own = np.zeros((n, min(10, c_count)), np.int64)
    soonest = np.zeros(n)
    kernel.nearest(ins, near_inc, soon, crew_inc, own, soonest)
    near_ls = np.ascontiguousarray(near_inc[:, :10])
    rev = _reverse(near_ls, n)
    crews_to_try = _crews_to_try(soon, crew_inc, n, own)
    return (near_ls, *crews_to_try, *rev), (near_inc, *crews_to_try, *rev), soonest


def search(ins: kernel.Instance, c_count: int, seed: int, group: np.ndarray | None = None) -> kernel.Plan:
    pl = random_plan(ins, c_count, random.Random(seed))
    nb, wide, soonest = candidates(ins, c_count)
    groups = np.zeros(c_count, np.int64) if group is None else group
    before = sum(pl[5])
    d = kernel.descend(ins, pl, nb, np.zeros(c_count, np.int64))
    assert d <= 0
    assert sum(pl[5]) == pytest.approx(before + d)
    saved = pl[0].copy(), pl[1].copy()
    for g in np.unique(groups):
        members = np.flatnonzero(groups[pl[3]] == g).astype(np.int64)
        if len(members) == 0:
            continue
        before = sum(pl[5])
        d = kernel.iterate(ins, pl, nb, wide, soonest, *saved, groups, int(g), members, 300, seed, 8.0, 6.0)
        assert d <= 0
        assert sum(pl[5]) == pytest.approx(before + d)
    return pl


class TestBookkeeping:
    @pytest.mark.parametrize("seed", range(3))
    def test_the_plan_after_the_search_is_what_its_arrays_say(self, seed: int) -> None:
        incidents, crews = city(120, 30, seed, future_alarms=seed == 1)
        ins, _ = arrays(incidents, crews)
        pl = search(ins, len(crews), seed)
        seqs = routes(pl)
        assert sorted(i for seq in seqs for i in seq) == list(range(len(incidents)))  # each incident once
        for c, seq in enumerate(seqs):
            assert pl[5][c] == pytest.approx(cost_of(ins, c, seq))
            for p, i in enumerate(seq):
                assert (pl[3][i], pl[4][i]) == (c, p)

    def test_a_group_search_leaves_the_other_groups_crews_alone(self) -> None:
        incidents, crews = city(120, 30, 7)
        ins, _ = arrays(incidents, crews)
        group = np.array([c % 2 for c in range(len(crews))], np.int64)
        pl = random_plan(ins, len(crews), random.Random(7))
        other = {c: seq for c, seq in enumerate(routes(pl)) if group[c] == 1}
        nb, wide, soonest = candidates(ins, len(crews))
        members = np.flatnonzero(group[pl[3]] == 0).astype(np.int64)
        d = kernel.iterate(
            ins, pl, nb, wide, soonest, pl[0].copy(), pl[1].copy(), group, 0, members, 500, 1, 8.0, 6.0
        )
        assert d < 0  # the random plan of group 0 got better
        assert {c: seq for c, seq in enumerate(routes(pl)) if group[c] == 1} == other


class TestCandidates:
    def test_an_idle_crew_is_tried_for_its_nearest_incidents_even_when_others_are_sooner(self) -> None:
        # incident 0 sits among 25 crews; crew 25 is further out but incident 0 is its nearest
        incidents = [
            OpenIncident("I0", CENTRE, 0.0),
            OpenIncident("I1", GeoPoint(CENTRE.lat + 0.3, CENTRE.lon), 0.0),
        ]
        crews = [CrewState(f"C{k}", "MU", GeoPoint(CENTRE.lat + 0.0001 * k, CENTRE.lon)) for k in range(25)]
        crews.append(CrewState("C25", "MU", GeoPoint(CENTRE.lat - 0.05, CENTRE.lon)))
        ins, _ = arrays(incidents, crews)
        soon = np.zeros((2, 20), np.int64)
        crew_inc = np.zeros((26, 1), np.int64)
        soonest = np.zeros(2)
        kernel.nearest(ins, np.zeros((2, 1), np.int64), soon, crew_inc, np.zeros((2, 0), np.int64), soonest)
        assert 25 not in soon[0]
        xyz, k, avail = ins[0], ins[1], ins[2][:, kernel.FREE]
        for i in range(2):  # the soonest arrival is that of the first crew listed, and no crew beats it
            arrivals = [avail[c] + kernel.travel(2 + c, i, xyz, k) for c in range(26)]
            assert soonest[i] == pytest.approx(min(arrivals)) == pytest.approx(arrivals[soon[i, 0]])
        ptr, tried = _crews_to_try(soon, crew_inc, 2)
        assert 25 in tried[ptr[0] : ptr[1]]
        assert len(set(tried[ptr[0] : ptr[1]].tolist())) == ptr[1] - ptr[0]  # no crew twice

    def test_the_contracted_units_soonest_crews_are_tried_however_far(self) -> None:
        # 25 crews of unit X around incident 0 (contracted to Y); Y's crews are 5 and 10 km out, Z's 1 km
        incidents = [OpenIncident("I0", CENTRE, 0.0, "Y"), OpenIncident("I1", CENTRE, 0.0)]
        crews = [CrewState(f"C{k}", "X", GeoPoint(CENTRE.lat + 0.0001 * k, CENTRE.lon)) for k in range(25)]
        crews += [
            CrewState("Y10", "Y", GeoPoint(CENTRE.lat - 0.09, CENTRE.lon)),
            CrewState("Y5", "Y", GeoPoint(CENTRE.lat - 0.045, CENTRE.lon)),
            CrewState("Z1", "Z", GeoPoint(CENTRE.lat - 0.009, CENTRE.lon)),
        ]
        ins, _ = arrays(incidents, crews)
        soon = np.zeros((2, 20), np.int64)
        crew_inc = np.zeros((28, 1), np.int64)
        own = np.zeros((2, 3), np.int64)
        kernel.nearest(ins, np.zeros((2, 1), np.int64), soon, crew_inc, own, np.zeros(2))
        assert own.tolist() == [[26, 25, -1], [-1, -1, -1]]  # Y's crews, soonest first; I1 has no unit
        assert not {25, 26} & set(soon[0].tolist())
        ptr, tried = _crews_to_try(soon, crew_inc, 2, own)
        assert {25, 26} <= set(tried[ptr[0] : ptr[1]].tolist())
        assert not {25, 26} & set(tried[ptr[1] : ptr[2]].tolist())


def objective(
    plan: list[Assignment], incidents: list[OpenIncident], crews: list[CrewState], other_unit_cost_s: float
) -> float:
    """plan_surge's cost: mean arrival plus the mean other-unit cost."""
    share = other_unit_share(plan, incidents, crews)
    known = sum(1 for i in incidents if i.maintenance_unit)
    return mean_arrival_s(plan, incidents) + share * known * other_unit_cost_s / len(incidents)


class TestOptimum:
    @pytest.mark.parametrize("seed", range(12))
    def test_small_instances_reach_the_enumerated_optimum(self, seed: int) -> None:
        rng = random.Random(seed)
        incidents, crews = city(5, 3, seed, future_alarms=rng.random() < 0.5)
        optimum = mean_arrival_s(_plan_exact(incidents, crews, EST, 300.0, 0.0), incidents)
        plan = _plan_compiled(incidents, crews, EST, 300.0, 0.0, math.inf, 1)
        assert mean_arrival_s(plan, incidents) == pytest.approx(optimum, abs=1e-6)

    @pytest.mark.parametrize("seed", range(12))
    def test_with_units_and_deadlines_too(self, seed: int) -> None:
        # two units, a cost of 400 s for the other one; deadlines that greedy's plan just meets or misses
        rng = random.Random(seed)
        incidents, crews = city(5, 3, seed, future_alarms=rng.random() < 0.5, units=2)
        greedy = {a.incident_id: a.arrival_s for a in plan_greedy(incidents, crews, EST)}
        incidents = [
            replace(i, arrival_limit_s=greedy[i.id] - i.alarm_s + rng.choice((-30.0, 1.0, 30.0, 300.0)))
            for i in incidents
        ]
        limit = {i.id: i.alarm_s + i.arrival_limit_s for i in incidents}
        in_time = {i.id for i in incidents if greedy[i.id] <= limit[i.id]}
        exact = _plan_exact(incidents, crews, EST, 300.0, 0.0, 400.0)
        plan = _plan_compiled(incidents, crews, EST, 300.0, 0.0, math.inf, 1, 400.0)
        assert objective(plan, incidents, crews, 400.0) == pytest.approx(
            objective(exact, incidents, crews, 400.0), abs=1e-6
        )
        for p in (exact, plan):
            assert [
                a.incident_id for a in p if a.incident_id in in_time and a.arrival_s > limit[a.incident_id]
            ] == []


class TestHalves:
    def test_two_threads_plan_everything_consistently_and_beat_greedy(self) -> None:
        incidents, crews = city(600, 300, 3)
        plan = _plan_compiled(incidents, crews, EST, 300.0, 0.0, math.inf, 2, rounds=2000)
        check_plan(plan, incidents, crews, EST, 300.0)
        greedy = plan_greedy(incidents, crews, EST)
        assert mean_arrival_s(plan, incidents) < 0.95 * mean_arrival_s(greedy, incidents)


class TestDeadlines:
    def test_greedys_incidents_in_time_stay_in_time_where_the_mean_alone_would_not(self) -> None:
        incidents, crews = city(600, 150, 3)  # few crews: long sequences
        greedy = plan_greedy(incidents, crews, EST)
        waits = sorted(a.arrival_s - i.alarm_s for a, i in zip(greedy, incidents, strict=True))
        timed = [replace(i, arrival_limit_s=waits[int(0.8 * len(waits))]) for i in incidents]  # 20% late
        untimed = [replace(i, arrival_limit_s=math.inf) for i in incidents]
        free = _plan_compiled(untimed, crews, EST, 300.0, 0.0, math.inf, 2, rounds=2000)
        assert len(_made_late(free, greedy, timed)) > 10  # the mean alone makes some late ...
        plan = _plan_compiled(timed, crews, EST, 300.0, 0.0, math.inf, 2, rounds=2000)
        check_plan(plan, timed, crews, EST, 300.0)
        assert _made_late(plan, greedy, timed) == []  # ... the plan does not
        assert late_count(plan, timed) <= late_count(greedy, timed)
        assert mean_arrival_s(plan, timed) < 0.95 * mean_arrival_s(greedy, timed)


class TestUnits:
    def test_the_cost_of_another_unit_brings_the_contracted_crews(self) -> None:
        incidents, crews = city(600, 300, 5, units=6)
        share = {}
        for cost in (0.0, 600.0):
            plan = _plan_compiled(incidents, crews, EST, 300.0, 0.0, math.inf, 2, cost, rounds=2000)
            check_plan(plan, incidents, crews, EST, 300.0)
            share[cost] = other_unit_share(plan, incidents, crews)
        greedy = other_unit_share(plan_greedy(incidents, crews, EST), incidents, crews)
        assert share[0.0] > 0.7 and greedy > 0.7  # 5 in 6 crews are of another unit
        assert share[600.0] < 0.5 * share[0.0]
