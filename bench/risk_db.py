"""Benchmark: the full risk recomputation on the database (``liftwatch risk recompute``), SQLite or
PostgreSQL.

    .venv/bin/python bench/risk_db.py [--elevators 30000] [--database-url URL] [--seed 1] [--runs 2]

Builds a fresh schema (``liftwatch db upgrade``) in ``--database-url`` (default: a SQLite file in a temporary
directory; a PostgreSQL URL must name an empty database: its tables are dropped first), generates the
simulated city of ``--elevators`` elevators and a year of records per elevator (not timed): about 4.5 faults
(Poisson, inserted with one executemany), 24 preventive visits (signed, the last one open, due in the past
on 5% of the elevators). Then times ``risk.service.recompute``
over the whole city, ``--runs`` times (the first writes every row, later runs rewrite the same scores),
and the baseline: one pass reading every elevator's registry row (``registry.queries.elevator_briefs``).

Prints the figures per run, then as its last line:
{"elevators": N, "seconds": S, "baseline": B, "ratio": R, "per_300k": E}
(S the best run, E its linear extrapolation to 300,000 elevators.)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import numpy as np
from benchdb import Writer, fresh
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_engine
from liftwatch.maintenance.models import WorkOrder
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.models import Elevator
from liftwatch.risk import service as risk
from liftwatch.risk.score import RiskSettings
from liftwatch.sim.city import generate_city
from liftwatch.telemetry.models import Fault


def _records(url: str, as_of: date, seed: int) -> dict[str, int]:
    """A year of faults and visits for every elevator in use (module docstring)."""
    rng = np.random.default_rng(seed)
    now = datetime.combine(as_of, dtime(12), tzinfo=UTC)
    engine = make_engine(url)
    with Session(engine) as session:
        codes = list(
            session.scalars(
                select(Elevator.registration_code)
                .where(Elevator.status == "in_use")
                .order_by(Elevator.registration_code)
            )
        )
    n = len(codes)
    faults_per = rng.poisson(4.5, n)
    overdue = rng.random(n) < 0.05
    faults, orders = Writer(engine, Fault.__table__), Writer(engine, WorkOrder.__table__)
    for i, code in enumerate(codes):
        for k in range(int(faults_per[i])):
            at = now - timedelta(days=float(rng.uniform(0, 365)))
            faults.add(
                {
                    "fault_id": f"B-{code}-{k}",
                    "registration_code": code,
                    "fault_type": "door_close",
                    "severity": "major",
                    "started_at": at,
                    "raised_at": at,
                    "cleared_at": at + timedelta(minutes=20),
                    "evidence": [],
                    "clear_evidence": [],
                    "detail": {},
                }
            )
        for v in range(24):
            due = now - timedelta(days=15 * (24 - v)) + timedelta(days=15)
            last = v == 23
            done = not last
            due_at = due - timedelta(days=float(rng.uniform(2, 30))) if last and overdue[i] else due
            orders.add(
                {
                    "registration_code": code,
                    "unit_code": "MU",
                    "kind": "preventive",
                    "source": "plan",
                    "source_ref": f"P-{code}-{v}",
                    "interval": "half_month",
                    "summary": "",
                    "urgent": False,
                    "state": "confirmed" if done else "open",
                    "assignee": "",
                    "planned_date": due_at.date(),
                    "due_at": due_at,
                    "created_at": due_at - timedelta(days=15),
                    "created_by": "bench",
                    "completed_at": due_at - timedelta(days=1) if done else None,
                    "confirmed_at": due_at if done else None,
                    "cancel_reason": "",
                    "updated_at": due_at if done else due_at - timedelta(days=15),
                }
            )
    faults.flush()
    orders.flush()
    engine.dispose()
    return {"faults": faults.count, "work_orders": orders.count}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=30_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--as-of", default="2026-12-03")
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'city.db'}"
    started = time.perf_counter()
    fresh(url)
    engine = make_engine(url)
    generate_city(engine, elevators=args.elevators, seed=args.seed, as_of=as_of, progress=False)
    counts = _records(url, as_of, args.seed)
    print(f"setup: {time.perf_counter() - started:.1f} s, records {counts}", flush=True)
    settings = Settings(database_url=url, var_dir=Path(tmp.name) / "var")
    clock = FixedClock(datetime.combine(as_of, dtime(12), tzinfo=UTC))

    t = time.perf_counter()
    with Session(engine) as session:
        in_use = sum(len(b) for b in registry_queries.elevator_briefs(session))
    baseline = time.perf_counter() - t
    runs: list[float] = []
    for run in range(args.runs):
        with Session(engine) as session:
            done = risk.recompute(session, clock, settings, RiskSettings(), after_batch=session.commit)
            session.commit()
        runs.append(done.seconds)
        print(
            f"run {run + 1}: {done.elevators} elevators in {done.seconds:.2f} s "
            f"({1000 * done.seconds / max(done.elevators, 1):.3f} ms each); "
            f"grades {[done.by_grade[g] for g in done.by_grade]}",
            flush=True,
        )
    best = min(runs)
    print(f"baseline (reading {in_use} registry rows): {baseline:.2f} s", flush=True)
    print(
        json.dumps(
            {
                "elevators": in_use,
                "seconds": round(best, 2),
                "baseline": round(baseline, 2),
                "ratio": round(best / baseline, 1) if baseline else None,
                "per_300k": round(best * 300_000 / max(in_use, 1), 1),
            }
        )
    )
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
