"""Generate a plausible city into the database: units, buildings, elevators and their elevator files.

The rows come from ``liftwatch.sim.plan`` (pure, reproducible by seed); the registry stores them with its
bulk load (``registry.service.bulk_load``: Core bulk inserts in one transaction), because 300,000 elevators
through ORM objects would take many minutes. The services' rules still hold: every row validates under
``ElevatorCreate`` / ``UnitCreate``, and the bulk load checks that every elevator is stored with its file's
registration entry and that the file is only appended to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import SystemClock
from liftwatch.registry import service as registry
from liftwatch.sim.plan import CityPlan

#: Elevators the plan yields at a time: large enough to amortise the round trip, small enough to keep
#: memory flat.
CHUNK = 10_000


@dataclass
class CityStats:
    """What one generation produced, for the CLI, the demo and the benchmark."""

    elevators: int = 0
    units: dict[str, int] = field(default_factory=dict)
    buildings: int = 0
    events: int = 0
    over_15_share: float = 0.0
    three_no: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seed: int = 0
    as_of: date | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        units = ", ".join(f"{k} {v}" for k, v in sorted(self.units.items()))
        return (
            f"generated {self.elevators} elevators in {self.buildings} buildings "
            f"with {self.events} file events in {self.seconds:.1f} s (seed {self.seed}, as of {self.as_of})\n"
            f"over 15 years {self.over_15_share:.1%}, three-no {self.three_no}; units: {units}"
        )


def generate_city(
    engine: Engine, elevators: int, seed: int = 1, as_of: date | None = None, progress: bool = True
) -> CityStats:
    """Generate ``elevators`` elevators (with their units, buildings and files) into an empty registry.

    Same ``seed``, ``elevators`` and ``as_of`` give identical rows. ``as_of`` is the city's today (default:
    today). Raises ValueError if the database already holds elevators: a city is generated once.
    """
    if elevators < 1:
        raise ValueError(f"elevators must be at least 1, got {elevators}")
    as_of = as_of or SystemClock().today()
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        start = registry.bulk_load_start(session)
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
            task = bar.add_task("planning the city 规划城市", total=elevators)
            plan = CityPlan(elevators, seed, as_of, start.taken_unit_codes)
            unit_rows = plan.unit_rows(start.first_unit_id)
            units: dict[str, int] = {}
            for row in unit_rows:
                units[row["unit_type"]] = units.get(row["unit_type"], 0) + 1
            bar.update(task, description="elevators and files 电梯与档案")
            registry.bulk_load(
                session,
                unit_rows,
                plan.elevator_chunks(start.first_elevator_id, start.first_unit_id, CHUNK),
                on_chunk=lambda n: bar.advance(task, n),
            )

    counts = plan.counts
    return CityStats(
        elevators=counts.elevators,
        units=units,
        buildings=len(plan.buildings),
        events=counts.events,
        over_15_share=counts.over_15 / counts.elevators,
        three_no=counts.three_no,
        kinds=dict(sorted(counts.kinds.items())),
        statuses=dict(sorted(counts.statuses.items())),
        seed=seed,
        as_of=as_of,
        seconds=time.perf_counter() - started,
    )
