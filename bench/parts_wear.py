"""Benchmark: the worn-parts list of a city (issue 16, item 2), SQLite or PostgreSQL.

    .venv/bin/python bench/parts_wear.py [--elevators 60000] [--database-url URL]

Builds a fresh schema in ``--database-url`` (default: a SQLite file in a temporary directory; a PostgreSQL
URL must name a database of its own: its tables are dropped first). Each of ``--elevators`` elevators gets
five main parts: four with a design life in years (installed 1995 to 2025, 20 years) and ropes with a
design life in cycles. Every terminal reports a trip counter: its live status, and a first reading 100 days
earlier. The parts are written in bulk (a bench's set-up, not the service's path).

It then times:

- **the baseline**: judging every current part from its dates and counters, as the worn list did before
  the stored wear (``service._views`` over all parts, then sort);
- **the pass**: the parts worker's full refresh (``service.refresh_wear`` in batches of 2,000, each
  committed);
- **the list**: ``service.worn_parts`` for a regulator (the whole city) from the stored wear, best of 3.

Both give the same worn parts (checked). Last line:
{"elevators": N, "parts": P, "worn": W, "baseline_s": B, "refresh_s": R, "list_s": L, "ratio": B/L}
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_engine
from liftwatch.parts import service
from liftwatch.parts.domain import Wear
from liftwatch.parts.models import Part
from liftwatch.parts.settings import PartSettings
from liftwatch.telemetry.models import LiveStatus, ServiceStateChange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import fresh, settle

NOW = datetime(2026, 12, 4, 2, tzinfo=UTC)
KINDS = ("traction_machine", "controller", "brake", "door_system")


def _build(url: str, elevators: int) -> int:
    fresh(url)
    engine = make_engine(url)
    rng = random.Random(7)
    rows, live, changes = [], [], []
    for i in range(elevators):
        code = f"B{i:09d}"
        installed = date(1995 + rng.randrange(31), 1 + rng.randrange(12), 1)
        for kind in (*KINDS, "ropes"):
            cycles = kind == "ropes"
            rows.append(
                {
                    "registration_code": code,
                    "kind": kind,
                    "current_key": f"{code}:{kind}",
                    "manufacturer": "通力",
                    "model": "MX",
                    "serial": f"S{i}-{kind}",
                    "maker_key": "通力",
                    "model_key": "MX",
                    "serial_key": f"S{i}-{kind}",
                    "installed_on": installed,
                    "design_life_years": None if cycles else 20,
                    "design_life_cycles": 3_000_000 if cycles else None,
                    "end_of_life_on": None if cycles else installed.replace(year=installed.year + 20),
                    "counter_at_install": 0 if cycles else None,
                    "note": "",
                    "removed_reason": "",
                    "created_at": NOW,
                    "created_by": "bench",
                    "updated_at": NOW,
                }
            )
        trips = rng.randrange(100_000, 3_500_000)
        live.append({"registration_code": code, "last_seen_at": NOW, "trips": trips, "updated_at": NOW})
        changes.append(
            {"registration_code": code, "at": NOW - timedelta(days=100), "kind": "mode", "value": 1,
             "trips": trips - 100_000, "recorded_at": NOW}
        )  # fmt: skip
    with engine.begin() as conn:
        for table, data in ((Part, rows), (LiveStatus, live), (ServiceStateChange, changes)):
            for i in range(0, len(data), 10_000):
                conn.execute(insert(table), data[i : i + 10_000])
    settle(engine)
    engine.dispose()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=60_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='liftwatch-parts-')}/parts.db"
    t = time.perf_counter()
    parts = _build(url, args.elevators)
    print(
        f"setup: {parts} parts of {args.elevators} elevators in {time.perf_counter() - t:.1f} s", flush=True
    )

    engine = make_engine(url)
    clock, settings, ps = FixedClock(NOW), Settings(), PartSettings()
    regulator = Actor("bench", Role.REGULATOR)
    with Session(engine) as session:
        t = time.perf_counter()
        every = session.query(Part).filter(Part.current_key.is_not(None)).all()
        views = service._views(session, every, clock.today(), settings, ps)
        judged = [v for v in views if v.assessment.state in (Wear.NEAR, Wear.PAST)]
        judged.sort(key=lambda v: -max(x for x in (v.assessment.years_share, v.assessment.cycles_share) if x))
        baseline = time.perf_counter() - t
    print(f"baseline (judge every part at each read): {baseline:.2f} s, {len(judged)} worn", flush=True)

    t = time.perf_counter()
    after = total = 0
    while True:
        with Session(engine) as session:
            n, after = service.refresh_wear(session, clock, settings, ps, after)
            session.commit()
        total += n
        if n == 0 or after == 0:
            break
    refresh = time.perf_counter() - t
    print(f"refresh pass: {total} parts in {refresh:.1f} s ({total / refresh:,.0f} parts/s)", flush=True)

    best = float("inf")
    for _ in range(3):
        with Session(engine) as session:
            t = time.perf_counter()
            worn, cut = service.worn_parts(session, regulator, clock, settings, ps, limit=service.WEAR_LIMIT)
            best = min(best, time.perf_counter() - t)
    expected = {v.part.id for v in judged[: service.WEAR_LIMIT]}
    shown = {w.view.part.id for w in worn}
    top = min(len(judged), service.WEAR_LIMIT)
    assert len(shown) == top and cut == (len(judged) > service.WEAR_LIMIT), (len(shown), top, cut)
    same = len(expected & shown) / max(1, top)
    print(
        f"list (stored wear, first {len(worn)}): {best * 1000:.0f} ms; same parts as the baseline: {same:.1%}"
    )
    print(
        json.dumps(
            {
                "elevators": args.elevators,
                "parts": parts,
                "worn": len(judged),
                "baseline_s": round(baseline, 2),
                "refresh_s": round(refresh, 1),
                "list_s": round(best, 3),
                "ratio": round(baseline / best, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
