"""Surge planning: plans are complete and consistent, tiny instances reach their known optimum, the contracted
unit's crews are preferred within the documented cost, no incident greedy reaches in time is made late,
greedy is the genuine one-by-one baseline (and the plan of any estimator the compiled search does not
know), and degenerate inputs behave."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from liftwatch.core.errors import InvalidInput
from liftwatch.rescue.domain import Assignment, CrewState, GeoPoint, OpenIncident, RoadFactorEstimator
from liftwatch.rescue.surge import (
    OTHER_UNIT_COST_S,
    late_count,
    mean_arrival_s,
    other_unit_share,
    plan_greedy,
    plan_surge,
)

ORIGIN = GeoPoint(30.0, 120.0)


@dataclass(frozen=True)
class LineEstimator:
    """Travel along a line: positions are (0, x) and a unit of x takes one second, so optimal plans can be
    worked out by hand."""

    def seconds(self, origin: GeoPoint, destination: GeoPoint) -> float:
        return abs(origin.lon - destination.lon)


def at(x: float) -> GeoPoint:
    return GeoPoint(0.0, x)


def crew(cid: str, x: float, free_at_s: float = 0.0, unit: str = "MU1") -> CrewState:
    return CrewState(id=cid, unit=unit, position=at(x), free_at_s=free_at_s)


def incident(
    iid: str, x: float, alarm_s: float = 0.0, unit: str = "", limit_s: float = 1800.0
) -> OpenIncident:
    return OpenIncident(
        id=iid, position=at(x), alarm_s=alarm_s, maintenance_unit=unit, arrival_limit_s=limit_s
    )


def check_plan(
    plan: Sequence[Assignment],
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: object,
    on_site_s: float,
    now_s: float = 0.0,
) -> None:
    assert sorted(a.incident_id for a in plan) == sorted(i.id for i in incidents)
    assert len({a.incident_id for a in plan}) == len(plan)
    inc = {i.id: i for i in incidents}
    crew_by_id = {c.id: c for c in crews}
    jobs: dict[str, list[Assignment]] = defaultdict(list)
    for a in plan:
        jobs[a.crew_id].append(a)
    seconds = estimator.seconds  # type: ignore[attr-defined]
    for cid, seq in jobs.items():
        seq.sort(key=lambda a: a.start_s)
        c = crew_by_id[cid]
        t, where = max(now_s, c.free_at_s), c.position
        for a in seq:
            i = inc[a.incident_id]
            # leaves as soon as it may: free, previous job done, alarm in
            assert a.start_s == pytest.approx(max(t, i.alarm_s))
            assert a.arrival_s == pytest.approx(a.start_s + seconds(where, i.position))
            t, where = a.arrival_s + on_site_s, i.position


def brute_force_mean(
    incidents: Sequence[OpenIncident], crews: Sequence[CrewState], est: LineEstimator, on_site_s: float
) -> float:
    """The optimum by trying every crew for every incident and every order within each crew."""
    best = math.inf
    for owner in itertools.product(range(len(crews)), repeat=len(incidents)):
        total = 0.0
        for k, c in enumerate(crews):
            mine = [i for i, o in zip(incidents, owner, strict=True) if o == k]
            cost = math.inf
            for order in itertools.permutations(mine):
                t, where, s = c.free_at_s, c.position, 0.0
                for i in order:
                    arrival = max(t, i.alarm_s) + est.seconds(where, i.position)
                    s += arrival - i.alarm_s
                    t, where = arrival + on_site_s, i.position
                cost = min(cost, s)
            total += cost if mine else 0.0
        best = min(best, total)
    return best / len(incidents)


def random_city(n_incidents: int, n_crews: int, seed: int) -> tuple[list[OpenIncident], list[CrewState]]:
    rng = random.Random(seed)

    def point(spread_km: float, cx: float = 0.0, cy: float = 0.0) -> GeoPoint:
        return GeoPoint(
            ORIGIN.lat + (cy + rng.gauss(0, spread_km)) / 111.0,
            ORIGIN.lon + (cx + rng.gauss(0, spread_km)) / 96.0,
        )

    centres = [(rng.uniform(-10, 10), rng.uniform(-10, 10)) for _ in range(3)]
    incidents = [
        OpenIncident(f"I{k}", point(1.5, *rng.choice(centres)), -rng.uniform(0, 300))
        for k in range(n_incidents)
    ]
    crews = [
        CrewState(f"C{k}", "MU1", point(8.0), rng.uniform(0, 1200) if rng.random() < 0.25 else 0.0)
        for k in range(n_crews)
    ]
    return incidents, crews


class TestKnownOptimum:
    def test_greedy_in_alarm_order_is_worse_and_surge_finds_the_optimum(self) -> None:
        # Crew A at 0, crew B at 100, 10 s on site. The first alarm (x=60) is nearer B, so greedy sends B;
        # B then arrives late at x=95 (50 + 35 = 85) and A takes x=5 (5). Total 40 + 85 + 5 = 130.
        # Optimum: B takes x=95 (5) then x=60 (5 + 10 + 35 = 50); A takes x=5 (5). Total 60.
        est = LineEstimator()
        crews = [crew("A", 0), crew("B", 100)]
        incidents = [incident("I1", 60, 0.0), incident("I2", 95, 0.0), incident("I3", 5, 0.0)]
        greedy = plan_greedy(incidents, crews, est, on_site_s=10)
        surge = plan_surge(incidents, crews, est, on_site_s=10)
        check_plan(greedy, incidents, crews, est, 10)
        check_plan(surge, incidents, crews, est, 10)
        assert mean_arrival_s(greedy, incidents) == pytest.approx(130 / 3)
        assert mean_arrival_s(surge, incidents) == pytest.approx(60 / 3)
        assert mean_arrival_s(surge, incidents) == pytest.approx(brute_force_mean(incidents, crews, est, 10))
        by_incident = {a.incident_id: a.crew_id for a in surge}
        assert by_incident == {"I1": "B", "I2": "B", "I3": "A"}

    def test_one_crew_serves_nearest_first_not_alarm_order(self) -> None:
        # One crew at 0; alarms came for x=50 first, then x=1 and x=2. Serving 1, 2, 50 costs
        # 1 + (1+5+1) + (7+5+48) = 68 against greedy's 50 + (55+49) + (109+1) = 264.
        est = LineEstimator()
        crews = [crew("A", 0)]
        incidents = [incident("far", 50, 0), incident("one", 1, 0), incident("two", 2, 0)]
        surge = plan_surge(incidents, crews, est, on_site_s=5)
        greedy = plan_greedy(incidents, crews, est, on_site_s=5)
        assert [a.incident_id for a in sorted(surge, key=lambda a: a.start_s)] == ["one", "two", "far"]
        assert mean_arrival_s(surge, incidents) == pytest.approx(68 / 3)
        assert mean_arrival_s(greedy, incidents) == pytest.approx(264 / 3)

    @pytest.mark.parametrize("seed", range(12))
    def test_small_random_instances_reach_the_brute_force_optimum(self, seed: int) -> None:
        rng = random.Random(seed)
        est = LineEstimator()
        crews = [crew(f"C{k}", rng.uniform(0, 100), rng.choice((0.0, 0.0, 30.0))) for k in range(2)]
        incidents = [incident(f"I{k}", rng.uniform(0, 100), -rng.uniform(0, 20)) for k in range(5)]
        surge = plan_surge(incidents, crews, est, on_site_s=15)
        check_plan(surge, incidents, crews, est, 15)
        assert mean_arrival_s(surge, incidents) == pytest.approx(brute_force_mean(incidents, crews, est, 15))


class TestContracts:
    def test_the_contracted_crew_is_preferred_while_it_is_at_most_the_cost_later(self) -> None:
        # I1 is contracted to MU2: B (MU2) is 2 s away, A (MU1) 1 s
        est = LineEstimator()
        crews = [crew("A", 9), crew("B", 12, unit="MU2")]
        incidents = [incident("I1", 10, unit="MU2")]
        assert plan_surge(incidents, crews, est, other_unit_cost_s=0)[0].crew_id == "A"
        plan = plan_surge(incidents, crews, est, other_unit_cost_s=OTHER_UNIT_COST_S)
        assert plan[0].crew_id == "B" and plan[0].arrival_s == pytest.approx(2)
        assert other_unit_share(plan, incidents, crews) == 0.0
        # B is now the cost + 1 s later than A: A goes
        far = [crew("A", 9), crew("B", 12 + OTHER_UNIT_COST_S, unit="MU2")]
        plan = plan_surge(incidents, far, est)
        assert plan[0].crew_id == "A" and other_unit_share(plan, incidents, far) == 1.0

    def test_incidents_without_a_known_unit_cost_nothing_extra(self) -> None:
        est = LineEstimator()
        crews = [crew("A", 9), crew("B", 12, unit="MU2")]
        incidents = [incident("I1", 10)]
        assert plan_surge(incidents, crews, est, other_unit_cost_s=1000)[0].crew_id == "A"
        assert other_unit_share(plan_surge(incidents, crews, est), incidents, crews) == 0.0  # none known


class TestDeadlines:
    def test_an_incident_greedy_reaches_in_time_is_not_made_late_for_the_mean(self) -> None:
        # One crew at 0, nothing on site. The alarm for x=10 came first; x=-1 and x=-2 half a second later.
        # Least mean: -1, -2, then 10 at 2.5 + 12 = 14.5. Greedy serves x=10 first, at 10.
        est = LineEstimator()
        crews = [crew("A", 0)]

        def incidents(limit_s: float) -> list[OpenIncident]:
            return [
                incident("far", 10, 0.0, limit_s=limit_s),
                incident("one", -1, 0.5),
                incident("two", -2, 0.5),
            ]

        free = {a.incident_id: a.arrival_s for a in plan_surge(incidents(1800), crews, est, on_site_s=0)}
        assert free == pytest.approx({"one": 1.5, "two": 2.5, "far": 14.5})
        timed = incidents(12)  # greedy reaches "far" in time (10 <= 12): the plan must too
        plan = {a.incident_id: a.arrival_s for a in plan_surge(timed, crews, est, on_site_s=0)}
        assert plan["far"] == pytest.approx(10) and plan["far"] <= 12
        assert late_count(plan_surge(timed, crews, est, on_site_s=0), timed) == 0
        # one greedy reaches late (limit 9) has no deadline: the least mean again
        late = incidents(9)
        assert late_count(plan_greedy(late, crews, est, on_site_s=0), late) == 1
        plan = {a.incident_id: a.arrival_s for a in plan_surge(late, crews, est, on_site_s=0)}
        assert plan == pytest.approx(free)

    def test_the_deadline_comes_before_the_contract(self) -> None:
        # I1 (MU2, limit 5 s): A (MU1) arrives at 1, B (MU2) at 8, too late: A goes whatever the cost
        est = LineEstimator()
        crews = [crew("A", 9), crew("B", 18, unit="MU2")]
        incidents = [incident("I1", 10, unit="MU2", limit_s=5)]
        plan = plan_surge(incidents, crews, est, other_unit_cost_s=1000)
        assert plan[0].crew_id == "A" and late_count(plan, incidents) == 0


class TestLargeInstances:
    def test_plan_is_complete_consistent_and_beats_greedy(self) -> None:
        incidents, crews = random_city(400, 250, seed=3)
        est = RoadFactorEstimator()
        surge = plan_surge(incidents, crews, est, time_budget_s=0.3)
        greedy = plan_greedy(incidents, crews, est)
        check_plan(surge, incidents, crews, est, 300.0)
        check_plan(greedy, incidents, crews, est, 300.0)
        assert mean_arrival_s(surge, incidents) < 0.95 * mean_arrival_s(greedy, incidents)

    def test_returns_within_a_tiny_budget_with_a_complete_plan(self) -> None:
        incidents, crews = random_city(2000, 1500, seed=4)
        est = RoadFactorEstimator()
        plan = plan_surge(incidents, crews, est, time_budget_s=0.01)
        check_plan(plan, incidents, crews, est, 300.0)

    def test_future_alarms_make_the_crew_wait(self) -> None:
        # alarms after the crews are free: jobs start at the alarm, never before
        incidents, crews = random_city(120, 40, seed=5)
        late = [OpenIncident(i.id, i.position, 600.0 + k) for k, i in enumerate(incidents)]
        est = RoadFactorEstimator()
        plan = plan_surge(late, crews, est, time_budget_s=0.2)
        check_plan(plan, late, crews, est, 300.0)
        assert min(a.start_s for a in plan) >= 600.0

    def test_same_input_same_plan(self) -> None:
        incidents, crews = random_city(150, 100, seed=6)
        est = RoadFactorEstimator()
        # the search ends (no improving move, ruin-and-recreate rounds used up) long before this budget,
        # so the result does not depend on the machine's speed
        first = plan_surge(incidents, crews, est, time_budget_s=30)
        second = plan_surge(incidents, crews, est, time_budget_s=30)
        assert first == second


class TestFallback:
    def test_a_failing_compiled_search_falls_back_to_greedy(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        from liftwatch.rescue import surge

        def broken(*args: object, **kwargs: object) -> list[Assignment]:
            raise RuntimeError("kernel broken")

        monkeypatch.setattr(surge, "_plan_compiled", broken)
        incidents, crews = random_city(200, 120, seed=12)
        est = RoadFactorEstimator()
        plan = plan_surge(incidents, crews, est, time_budget_s=0.3)
        check_plan(plan, incidents, crews, est, 300.0)
        assert plan == plan_greedy(incidents, crews, est)
        assert "compiled search failed" in caplog.text


class CountingEstimator:
    """RoadFactorEstimator's figures under another type (a road network, say), counting its questions."""

    def __init__(self) -> None:
        self.inner = RoadFactorEstimator()
        self.asked: list[tuple[GeoPoint, GeoPoint]] = []

    def seconds(self, origin: GeoPoint, destination: GeoPoint) -> float:
        self.asked.append((origin, destination))
        return self.inner.seconds(origin, destination)


class TestOtherEstimators:
    def test_another_estimator_gets_greedys_plan_with_its_own_figures(self) -> None:
        # the compiled search has the default estimator's formula built in: anything else plans greedily
        incidents, crews = random_city(300, 200, seed=8)
        est = CountingEstimator()
        plan = plan_surge(incidents, crews, est, time_budget_s=0.3)
        assert est.asked, "the planner must use the estimator it is given"
        check_plan(plan, incidents, crews, est.inner, 300.0)
        assert plan == plan_greedy(incidents, crews, est.inner)
        assert mean_arrival_s(plan_surge(incidents, crews, est.inner, time_budget_s=0.3), incidents) < (
            mean_arrival_s(plan, incidents)
        )  # the default estimator's own plan is searched, and better

    def test_tiny_instances_are_exact_with_any_estimator_asking_each_pair_once(self) -> None:
        est = CountingEstimator()
        incidents, crews = random_city(4, 2, seed=2)
        plan = plan_surge(incidents, crews, est)
        check_plan(plan, incidents, crews, est.inner, 300.0)
        n, c = len(incidents), len(crews)
        assert len(set(est.asked)) == (n + c) * n == len(est.asked) - n  # the matrix, then the plan's timing
        assert mean_arrival_s(plan, incidents) <= mean_arrival_s(
            plan_greedy(incidents, crews, est.inner), incidents
        )


class TestTravelTimes:
    def test_the_plan_carries_the_estimators_own_figures(self) -> None:
        incidents, crews = random_city(260, 40, seed=11)
        est = RoadFactorEstimator(road_factor=1.3, speed_kmh=30.0)
        plan = plan_surge(incidents, crews, est, time_budget_s=0.2)
        inc = {i.id: i for i in incidents}
        jobs: dict[str, list[Assignment]] = defaultdict(list)
        for job in plan:
            jobs[job.crew_id].append(job)
        for c in crews:
            where = c.position
            for job in sorted(jobs[c.id], key=lambda j: j.start_s):
                assert job.arrival_s == job.start_s + est.seconds(where, inc[job.incident_id].position)
                where = inc[job.incident_id].position


class TestDegenerate:
    def test_no_crews_is_a_clear_error(self) -> None:
        with pytest.raises(InvalidInput) as err:
            plan_surge([incident("I1", 1)], [], LineEstimator())
        assert err.value.errors[0].field == "crews"
        with pytest.raises(InvalidInput):
            plan_greedy([incident("I1", 1)], [], LineEstimator())

    def test_no_incidents_is_an_empty_plan(self) -> None:
        assert plan_surge([], [crew("A", 0)], LineEstimator()) == []
        assert plan_surge([], [], LineEstimator()) == []

    def test_a_negative_unit_cost_or_a_limit_of_zero_is_rejected(self) -> None:
        with pytest.raises(InvalidInput) as err:
            plan_surge([incident("I1", 1)], [crew("A", 0)], LineEstimator(), other_unit_cost_s=-1)
        assert err.value.errors[0].field == "other_unit_cost_s"
        with pytest.raises(InvalidInput) as err:
            plan_surge([incident("I1", 1, limit_s=0)], [crew("A", 0)], LineEstimator())
        assert "arrival_limit_s" in err.value.errors[0].message

    def test_duplicate_ids_are_rejected(self) -> None:
        with pytest.raises(InvalidInput):
            plan_surge([incident("I1", 1), incident("I1", 2)], [crew("A", 0)], LineEstimator())
        with pytest.raises(InvalidInput):
            plan_surge([incident("I1", 1)], [crew("A", 0), crew("A", 3)], LineEstimator())

    def test_more_crews_than_incidents_each_goes_to_its_nearest(self) -> None:
        est = LineEstimator()
        crews = [crew(f"C{k}", 10 * k) for k in range(10)]
        incidents = [incident("I1", 31), incident("I2", 72)]
        plan = {a.incident_id: a for a in plan_surge(incidents, crews, est)}
        assert plan["I1"].crew_id == "C3" and plan["I1"].arrival_s == pytest.approx(1)
        assert plan["I2"].crew_id == "C7" and plan["I2"].arrival_s == pytest.approx(2)

    def test_more_crews_than_incidents_large(self) -> None:
        incidents, crews = random_city(50, 400, seed=7)
        est = RoadFactorEstimator()
        plan = plan_surge(incidents, crews, est, time_budget_s=0.2)
        check_plan(plan, incidents, crews, est, 300.0)
        assert mean_arrival_s(plan, incidents) <= mean_arrival_s(
            plan_greedy(incidents, crews, est), incidents
        )

    def test_incidents_all_at_one_spot(self) -> None:
        spot = GeoPoint(30.0, 120.0)
        incidents = [OpenIncident(f"I{k}", spot, 0.0) for k in range(60)]
        crews = [CrewState(f"C{k}", "MU1", GeoPoint(30.0 + k / 1000, 120.0), 0.0) for k in range(20)]
        est = RoadFactorEstimator()
        plan = plan_surge(incidents, crews, est, time_budget_s=0.2)
        check_plan(plan, incidents, crews, est, 300.0)
        assert mean_arrival_s(plan, incidents) <= mean_arrival_s(
            plan_greedy(incidents, crews, est), incidents
        )

    def test_mean_arrival_needs_every_incident(self) -> None:
        incidents = [incident("I1", 1), incident("I2", 2)]
        plan = plan_surge(incidents, [crew("A", 0)], LineEstimator())
        with pytest.raises(InvalidInput):
            mean_arrival_s(plan[:1], incidents)
