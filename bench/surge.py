"""Benchmark: surge planning (a power cut traps people in 2,000 elevators at once) against greedy.

    .venv/bin/python bench/surge.py [--incidents 2000] [--crews 1500] [--seed 1] [--budget 0.8]

The instance (reproducible by seed) is a city 40 km across (centre 30.274 N, 120.155 E). A power cut hits a
few districts: the incidents cluster around 4 district centres (Gaussian, 1-2.5 km spread, unequal sizes)
and their alarms come in over the 5 minutes before the plan (more at first). Crews belong to 120 maintenance
units and are spread city-wide, denser in the centre (half Gaussian around the centre, half uniform over the
city); a quarter are still busy on other jobs for up to 40 minutes (free_at_s > 0). Travel times come from
RoadFactorEstimator (straight line x 1.4 at 25 km/h); 5 minutes on site per incident; arrival limit 30 min.
Contracts (`--contracts`): "local" (default), each elevator's maintenance unit is that of a random crew
within 3 km of it (as the demo city places each unit's crews near its elevators); "random", any of the 120
units (the draw the bench always made). "local" draws from a stream of its own after the instance, so the
places, alarms and crews, and greedy's figures, are the same either way.

Both planners get the same instance in the same run: `plan_greedy` (each incident, in alarm order, takes the
crew that can arrive soonest over all 1,500 crews) and `plan_surge` (timed, `--budget` seconds of search).
Before timing, `warm_up()` loads the compiled search (numba's disk cache; the first run on a machine compiles
it, about 13 s), as the rescue worker does when it starts. Both plans are checked (every incident served
once, each crew's sequence consistent). Prints as its last
line one JSON object: {"incidents", "crews", "seconds", "mean_arrival_s", "greedy_mean_arrival_s", "ratio",
"late", "greedy_late", "made_late", "other_unit_share", "greedy_other_unit_share", "other_unit_cost_s"}
where seconds is plan_surge's wall time, ratio = mean_arrival_s / greedy_mean_arrival_s, late and
greedy_late count incidents reached after their 30-minute limit, made_late those late in the surge plan
that greedy reaches in time (must be 0), and other_unit_share the share of assignments sending a crew of
another unit than the contracted one (recorded as L2).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from liftwatch.rescue.domain import Assignment, CrewState, GeoPoint, OpenIncident, RoadFactorEstimator
from liftwatch.rescue.surge import (
    OTHER_UNIT_COST_S,
    late_count,
    mean_arrival_s,
    other_unit_share,
    plan_greedy,
    plan_surge,
    warm_up,
)

CENTRE = GeoPoint(30.2741, 120.1551)
RADIUS_KM = 20.0
LOCAL_KM = 3.0  # contracts "local": an elevator's unit is that of a crew within this distance
NOW_S = 0.0
ON_SITE_S = 300.0


def _point(dx_km: float, dy_km: float) -> GeoPoint:
    return GeoPoint(
        CENTRE.lat + dy_km / 110.574,
        CENTRE.lon + dx_km / (111.32 * math.cos(math.radians(CENTRE.lat))),
    )


def _in_city(rng: random.Random, sigma_km: float | None) -> tuple[float, float]:
    """A point inside the city disc: Gaussian around the centre (sigma) or uniform over the disc (None)."""
    while True:
        if sigma_km is None:
            r = RADIUS_KM * math.sqrt(rng.random())
            a = rng.uniform(0, 2 * math.pi)
            return r * math.cos(a), r * math.sin(a)
        x, y = rng.gauss(0, sigma_km), rng.gauss(0, sigma_km)
        if x * x + y * y <= RADIUS_KM**2:
            return x, y


def make_instance(
    n_incidents: int, n_crews: int, seed: int, contracts: str = "local"
) -> tuple[list[OpenIncident], list[CrewState]]:
    rng = random.Random(seed)
    units = [f"MU{u:03d}" for u in range(120)]
    crews: list[CrewState] = []
    crew_xy: list[tuple[float, float]] = []
    for k in range(n_crews):
        x, y = _in_city(rng, 6.0 if k % 2 == 0 else None)
        crew_xy.append((x, y))
        busy = rng.random() < 0.25
        crews.append(
            CrewState(
                id=f"C{k:04d}",
                unit=rng.choice(units),
                position=_point(x, y),
                free_at_s=NOW_S + rng.uniform(60, 2400) if busy else 0.0,
            )
        )
    districts = []
    for _ in range(4):
        cx, cy = _in_city(rng, 8.0)
        districts.append((cx, cy, rng.uniform(1.0, 2.5), rng.uniform(0.5, 1.5)))
    weights = [d[3] for d in districts]
    incidents: list[OpenIncident] = []
    incident_xy: list[tuple[float, float]] = []
    for k in range(n_incidents):
        cx, cy, spread, _ = rng.choices(districts, weights)[0]
        while True:
            x, y = cx + rng.gauss(0, spread), cy + rng.gauss(0, spread)
            if x * x + y * y <= RADIUS_KM**2:
                break
        incident_xy.append((x, y))
        alarm = NOW_S - 300.0 * (1.0 - rng.betavariate(1.0, 2.5))  # most alarms soon after the cut
        incidents.append(
            OpenIncident(
                id=f"I{k:05d}", position=_point(x, y), alarm_s=alarm, maintenance_unit=rng.choice(units)
            )
        )
    if contracts == "local":  # a stream of its own: positions, alarms and crews stay those of "random"
        crng = random.Random(f"contracts {seed}")
        for k, (x, y) in enumerate(incident_xy):
            dist = [math.hypot(x - cx, y - cy) for cx, cy in crew_xy]
            near = [c for c, d in enumerate(dist) if d <= LOCAL_KM] or [
                min(range(n_crews), key=dist.__getitem__)
            ]
            incidents[k] = replace(incidents[k], maintenance_unit=crews[crng.choice(near)].unit)
    return incidents, crews


def check(
    plan: Sequence[Assignment],
    incidents: Sequence[OpenIncident],
    crews: Sequence[CrewState],
    estimator: RoadFactorEstimator,
) -> None:
    """Every incident once; each crew's jobs in sequence, none before the crew is free or the alarm."""
    assert sorted(a.incident_id for a in plan) == sorted(i.id for i in incidents), "not every incident once"
    inc = {i.id: i for i in incidents}
    crew = {c.id: c for c in crews}
    jobs: dict[str, list[Assignment]] = defaultdict(list)
    for a in plan:
        jobs[a.crew_id].append(a)
    for cid, seq in jobs.items():
        seq.sort(key=lambda a: a.start_s)
        t, where = max(NOW_S, crew[cid].free_at_s), crew[cid].position
        for a in seq:
            i = inc[a.incident_id]
            assert a.start_s >= max(t, i.alarm_s) - 1e-6, f"{cid} leaves too early for {i.id}"
            assert abs(a.arrival_s - a.start_s - estimator.seconds(where, i.position)) < 1e-6
            t, where = a.arrival_s + ON_SITE_S, i.position


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--crews", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--contracts",
        choices=("local", "random"),
        default="local",
        help="each elevator's maintenance unit: that of a random crew within 3 km (local), or any unit",
    )
    parser.add_argument("--budget", type=float, default=0.8, help="plan_surge time budget, seconds")
    parser.add_argument(
        "--other-unit-cost",
        type=float,
        default=OTHER_UNIT_COST_S,
        help="plan_surge's cost of another unit's crew, seconds",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    warm_up()  # the rescue worker does this at start: load (or first compile) the search kernel
    print(f"warm-up (load the compiled search) {time.perf_counter() - started:.2f} s", file=sys.stderr)
    incidents, crews = make_instance(args.incidents, args.crews, args.seed, args.contracts)
    estimator = RoadFactorEstimator()

    started = time.perf_counter()
    greedy = plan_greedy(incidents, crews, estimator, on_site_s=ON_SITE_S, now_s=NOW_S)
    greedy_seconds = time.perf_counter() - started

    started = time.perf_counter()
    surge = plan_surge(
        incidents,
        crews,
        estimator,
        on_site_s=ON_SITE_S,
        now_s=NOW_S,
        time_budget_s=args.budget,
        other_unit_cost_s=args.other_unit_cost,
    )
    seconds = time.perf_counter() - started

    check(greedy, incidents, crews, estimator)
    check(surge, incidents, crews, estimator)
    g_mean = mean_arrival_s(greedy, incidents)
    s_mean = mean_arrival_s(surge, incidents)
    alarm = {i.id: i.alarm_s for i in incidents}
    for name, plan, secs in (("greedy", greedy, greedy_seconds), ("surge", surge, seconds)):
        waits = sorted(a.arrival_s - alarm[a.incident_id] for a in plan)
        used = len({a.crew_id for a in plan})
        print(
            f"{name:6s} {secs:6.2f} s  mean {statistics.fmean(waits) / 60:5.1f} min  "
            f"median {waits[len(waits) // 2] / 60:5.1f}  p90 {waits[int(len(waits) * 0.9)] / 60:5.1f}  "
            f"max {waits[-1] / 60:5.1f}  within 30 min {sum(w <= 1800 for w in waits) / len(waits):6.1%}  "
            f"late {late_count(plan, incidents)}  "
            f"other unit {other_unit_share(plan, incidents, crews):6.1%}  crews used {used}",
            file=sys.stderr,
        )
    limit = {i.id: i.alarm_s + i.arrival_limit_s for i in incidents}
    greedy_in_time = {a.incident_id for a in greedy if a.arrival_s <= limit[a.incident_id]}
    made_late = sum(a.incident_id in greedy_in_time and a.arrival_s > limit[a.incident_id] for a in surge)
    print(
        json.dumps(
            {
                "incidents": len(incidents),
                "crews": len(crews),
                "seconds": round(seconds, 3),
                "mean_arrival_s": round(s_mean, 1),
                "greedy_mean_arrival_s": round(g_mean, 1),
                "ratio": round(s_mean / g_mean, 4),
                "late": late_count(surge, incidents),
                "greedy_late": late_count(greedy, incidents),
                "made_late": made_late,
                "other_unit_share": round(other_unit_share(surge, incidents, crews), 4),
                "greedy_other_unit_share": round(other_unit_share(greedy, incidents, crews), 4),
                "other_unit_cost_s": args.other_unit_cost,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
