"""Benchmark: generate a city into a fresh SQLite database and time it.

    .venv/bin/python bench/city.py [--elevators 300000] [--seed 1]

Migrates an empty database with Alembic, generates the city (units, elevators and their elevator-file
events), counts the elevators back with SELECT COUNT(*), and prints as its last line one JSON object:
{"elevators": <count in the database>, "seconds": <generate + store wall time>}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from liftwatch.core.db import make_engine
from liftwatch.core.migrate import upgrade
from liftwatch.registry.models import Elevator, ElevatorEvent
from liftwatch.sim.city import generate_city


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--elevators", type=int, default=300_000, help="city size (default 300000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-11-23", help="the city's today, YYYY-MM-DD")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="liftwatch-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'city.db'}"
        upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        stats = generate_city(
            engine,
            args.elevators,
            seed=args.seed,
            as_of=date.fromisoformat(args.as_of),
            progress=not args.no_progress,
        )
        seconds = time.perf_counter() - started
        with engine.connect() as conn:
            count = conn.scalar(select(func.count()).select_from(Elevator)) or 0
            events = conn.scalar(select(func.count()).select_from(ElevatorEvent)) or 0
        engine.dispose()
    print(stats.summary(), file=sys.stderr)
    print(f"{events} elevator-file events in the database", file=sys.stderr)
    print(json.dumps({"elevators": count, "seconds": round(seconds, 2)}))
    return 0 if count == args.elevators else 1


if __name__ == "__main__":
    raise SystemExit(main())
