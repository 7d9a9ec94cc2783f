"""Benchmark: the full risk recomputation (风险分级) of a 300,000-elevator city with a year of records.

    .venv/bin/python bench/risk.py [--elevators 300000] [--poor-share 0.03] [--seed 1] [--as-of 2026-11-23]

The registry comes from the simulated city's ``CityPlan`` (no database): place types, commissioning dates,
design lives, three-no flags and IoT terminals as the demo's city has them (scrapped elevators left out: the
plan is drawn a little larger and the first ``--elevators`` in service are kept). A year of records is then
drawn per elevator, calibrated to DOMAIN.md section 7:

* faults (stoppages): Poisson, 3 a year for a new lift rising to 6 at 20 years (an average lift stops 4-6
  times a year), x1.3 in busy public places; entrapments: 0.08 + 0.004 x age a year (Nanjing: 0.11 per
  elevator-year); each record has its day in the year, so the 90-day counts are the records' own;
* trips a day from the terminal (elevators with one): log-normal around the place's mean (residential 330);
* overdue maintenance on 5% (1-10 days), overdue inspection on 2% (1-60 days), open non-conformities on 8%,
  open hazards (general 1%, major 0.1%), one confirmed fake-maintenance flag on 0.5% (the detector's few
  false flags a regulator let through), complaints on 4%;
* ``--poor-share`` of the elevators in service are poorly maintained: fake visits (each of 3 visits a year
  faked with its flag confirmed with probability 0.5), overdue work (80% of them 10-45 days late), frequent
  faults and entrapments (rates x3) and more complaints (x2).

Timed (``seconds``), as the recomputation will run it: counting each elevator's records in its 90- and
365-day windows (numpy; in production the database's GROUP BY), building the ``ElevatorFacts`` and scoring
them all with ``risk.score.score_many`` under the settings of the environment (``LIFTWATCH_RISK_*``).
The baseline is the trivial pass over the same facts (one sum of a few fields each); ratio = seconds /
baseline. ``poor_in_top_decile`` is the share of the poorly maintained elevators ranked in the top 10% by
score (ties kept in registry order). The grade distribution, the score percentiles and the poor elevators'
grades go to stderr. Prints as its last line:
{"elevators": N, "seconds": S, "poor_in_top_decile": F}
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from datetime import date

import numpy as np

from liftwatch.registry.domain import ElevatorStatus, PlaceType
from liftwatch.risk.domain import ElevatorFacts
from liftwatch.risk.score import score_many
from liftwatch.risk.settings import risk_settings_from_env
from liftwatch.sim.plan import CityPlan

BUSY = {PlaceType.OFFICE, PlaceType.MALL, PlaceType.HOSPITAL, PlaceType.METRO, PlaceType.HOTEL}
TRIPS_MEAN = {
    PlaceType.RESIDENTIAL: 330,
    PlaceType.OFFICE: 1200,
    PlaceType.MALL: 900,
    PlaceType.HOSPITAL: 1500,
    PlaceType.SCHOOL: 500,
    PlaceType.METRO: 1800,
    PlaceType.HOTEL: 800,
    PlaceType.PUBLIC_BUILDING: 600,
    PlaceType.OTHER: 300,
}


class Registry:
    """The plan's elevators in service, as columns."""

    def __init__(self, n: int, seed: int, as_of: date) -> None:
        plan = CityPlan(math.ceil(n * 1.03) + 100, seed, as_of)
        codes: list[str] = []
        places: list[str] = []
        ages: list[float] = []
        lives: list[float] = []
        iot: list[bool] = []
        three_no: list[bool] = []
        for rows, _events in plan.elevator_chunks(1, 1):
            for row in rows:
                if row["status"] == ElevatorStatus.SCRAPPED.value:
                    continue
                codes.append(row["registration_code"])
                places.append(row["place_type"])
                commissioned = row["commissioning_date"]
                ages.append(round((as_of - commissioned).days / 365.25, 1))
                lives.append(float(row["design_life_years"] or 0))
                iot.append(bool(row["iot_terminal_id"]))
                three_no.append(
                    row["no_property_management"] and row["no_maintenance_contract"] and row["no_repair_fund"]
                )
                if len(codes) == n:
                    break
            if len(codes) == n:
                break
        if len(codes) < n:
            raise SystemExit(f"the plan has only {len(codes)} elevators in service, {n} asked")
        self.codes = codes
        self.places = places
        self.age = np.array(ages)
        self.life = np.array(lives)
        self.iot = np.array(iot)
        self.three_no = np.array(three_no)


def _events(rng: np.random.Generator, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A year of records: (elevator index, days ago 0..364) for Poisson counts at ``rates`` a year."""
    counts = rng.poisson(rates)
    who = np.repeat(np.arange(len(rates)), counts)
    return who, rng.integers(0, 365, size=len(who))


def _some(rng: np.random.Generator, n: int, share: float, low: int, high: int) -> np.ndarray:
    """``share`` of n elevators get a whole value in [low, high], the others 0."""
    hit = rng.random(n) < share
    return np.where(hit, rng.integers(low, high + 1, size=n), 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--elevators", type=int, default=300_000, help="elevators in service (default 300000)"
    )
    parser.add_argument("--poor-share", type=float, default=0.03, help="share poorly maintained")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-11-23", help="the city's today, YYYY-MM-DD")
    args = parser.parse_args(argv)
    settings = risk_settings_from_env()

    started = time.perf_counter()
    reg = Registry(args.elevators, args.seed, date.fromisoformat(args.as_of))
    n = len(reg.codes)
    print(
        f"registry: {n} elevators in service laid out in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    poor = rng.random(n) < args.poor_share
    busy = np.array([p in BUSY for p in reg.places])
    worse = np.where(poor, 3.0, 1.0)
    faults = _events(rng, (3.0 + 0.15 * np.minimum(reg.age, 30)) * np.where(busy, 1.3, 1.0) * worse)
    entrapments = _events(rng, (0.08 + 0.004 * np.minimum(reg.age, 30)) * worse)
    complaints = _events(rng, np.where(poor, 0.08, 0.04))
    # poorly kept: 3 fake visits a year, each confirmed with probability 0.5; the honest get a rare false one
    fakes = _events(rng, np.where(poor, 1.5, 0.005))
    mean_trips = np.array([TRIPS_MEAN.get(PlaceType(p), 300) for p in reg.places], dtype=float)
    trips = np.round(mean_trips * rng.lognormal(0.0, 0.4, size=n))
    maint_overdue = np.where(
        poor & (rng.random(n) < 0.8), rng.integers(10, 46, size=n), _some(rng, n, 0.05, 1, 10)
    )
    insp_overdue = _some(rng, n, 0.02, 1, 60)
    nonconformities = _some(rng, n, 0.08, 1, 2)
    hazards_general = _some(rng, n, 0.01, 1, 1)
    hazards_major = _some(rng, n, 0.001, 1, 1)
    records = sum(len(w) for w, _ in (faults, entrapments, complaints, fakes))
    print(
        f"a year of records drawn in {time.perf_counter() - started:.1f} s: {len(faults[0])} faults "
        f"({len(faults[0]) / n:.2f} a lift), {len(entrapments[0])} entrapments "
        f"({len(entrapments[0]) / n:.3f} a lift), {len(complaints[0])} complaints, "
        f"{len(fakes[0])} confirmed fake-maintenance flags; {int(poor.sum())} poorly maintained",
        file=sys.stderr,
    )

    # ---- the recomputation (timed): count the windows, build the facts, score them all
    started = time.perf_counter()

    def window(events: tuple[np.ndarray, np.ndarray], days: int) -> list[int]:
        who, ago = events
        return np.bincount(who[ago < days], minlength=n).tolist()  # type: ignore[no-any-return]

    f90, f365 = window(faults, 90), window(faults, 365)
    e90, e365 = window(entrapments, 90), window(entrapments, 365)
    complaints_n, fakes_n = window(complaints, 365), window(fakes, 365)
    ages, lives, iot = reg.age.tolist(), reg.life.tolist(), reg.iot.tolist()
    trips_l, three_no = trips.tolist(), reg.three_no.tolist()
    mo, io = maint_overdue.tolist(), insp_overdue.tolist()
    nc, hg, hm = nonconformities.tolist(), hazards_general.tolist(), hazards_major.tolist()
    facts = [
        ElevatorFacts(
            elevator=reg.codes[i],
            place_type=reg.places[i],
            age_years=ages[i],
            design_life_years=lives[i] or None,
            trips_per_day=trips_l[i] if iot[i] else None,
            faults_90d=f90[i],
            faults_365d=f365[i],
            entrapments_90d=e90[i],
            entrapments_365d=e365[i],
            maintenance_overdue_days=mo[i],
            inspection_overdue_days=io[i],
            open_nonconformities=nc[i],
            open_hazards_general=hg[i],
            open_hazards_major=hm[i],
            confirmed_fake_flags=fakes_n[i],
            complaints=complaints_n[i],
            three_no=three_no[i],
        )
        for i in range(n)
    ]
    built = time.perf_counter() - started
    scores = score_many(facts, settings)
    seconds = time.perf_counter() - started

    started = time.perf_counter()
    baseline = sum(f.faults_365d + f.entrapments_365d + f.maintenance_overdue_days for f in facts)
    baseline_s = time.perf_counter() - started

    # ---- the figures
    points = np.array([s.score for s in scores])
    order = np.argsort(-points, kind="stable")  # ties in registry order
    top = np.zeros(n, dtype=bool)
    top[order[: n // 10]] = True
    poor_n = int(poor.sum())
    share = float((top & poor).sum() / poor_n) if poor_n else 0.0
    grades = Counter(s.grade.value for s in scores)
    poor_grades = Counter(scores[i].grade.value for i in np.flatnonzero(poor))
    print(
        f"recomputed {n} scores from {records} records in {seconds:.1f} s "
        f"(windows and facts {built:.1f} s, score_many {seconds - built:.1f} s) "
        f"(baseline pass {baseline_s:.2f} s, ratio {seconds / max(baseline_s, 1e-9):.0f}; "
        f"checksum {baseline})",
        file=sys.stderr,
    )
    print(
        "grades: " + ", ".join(f"{g} {grades[g]} ({grades[g] / n:.1%})" for g in "ABCD"),
        file=sys.stderr,
    )
    pct = np.percentile(points, [50, 75, 90, 95, 99])
    print(
        "score percentiles 50/75/90/95/99: "
        + " / ".join(f"{p:g}" for p in pct)
        + f"; top-decile cut {points[order[n // 10 - 1]]}",
        file=sys.stderr,
    )
    print(
        "poorly maintained: grades "
        + ", ".join(f"{g} {poor_grades[g]}" for g in "ABCD")
        + f"; median score {float(np.median(points[poor])) if poor_n else 0:g}",
        file=sys.stderr,
    )
    print(json.dumps({"elevators": n, "seconds": round(seconds, 2), "poor_in_top_decile": round(share, 4)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
