"""Generate a plausible city into the database: units, buildings, elevators and their elevator files.

The rows come from ``liftwatch.sim.plan`` (pure, reproducible by seed); this module only stores them,
with SQLAlchemy Core bulk inserts in one transaction, because 300,000 elevators through ORM objects or
the registry services would take many minutes. The services' rules still hold: every row validates under
``ElevatorCreate`` / ``UnitCreate`` and the elevator file is only appended to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Table, column, func, select, table, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

from liftwatch.core.clock import SystemClock
from liftwatch.registry.models import Elevator, ElevatorEvent, Unit
from liftwatch.sim.plan import CityPlan

ELEVATORS = cast(Table, Elevator.__table__)
EVENTS = cast(Table, ElevatorEvent.__table__)
UNITS = cast(Table, Unit.__table__)
#: Rows per executemany: large enough to amortise the round trip, small enough to keep memory flat.
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
    with engine.begin() as conn:
        have = conn.scalar(select(func.count()).select_from(ELEVATORS)) or 0
        if have:
            raise ValueError(
                f"the database already holds {have} elevators; generate a city into an empty registry"
            )
        taken = frozenset(conn.scalars(select(UNITS.c.code)).all())
        first_unit_id = (conn.scalar(select(func.max(UNITS.c.id))) or 0) + 1
        first_elevator_id = (conn.scalar(select(func.max(ELEVATORS.c.id))) or 0) + 1

        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
            task = bar.add_task("planning the city 规划城市", total=elevators)
            plan = CityPlan(elevators, seed, as_of, taken)
            unit_rows = plan.unit_rows(first_unit_id)
            _BulkWriter(conn, UNITS).write(unit_rows)
            bar.update(task, description="elevators and files 电梯与档案")
            elevator_writer = _BulkWriter(conn, ELEVATORS)
            event_writer = _BulkWriter(conn, EVENTS)
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # index pages of 300k rows stay in memory instead of being re-read
                conn.exec_driver_sql("PRAGMA cache_size = -262144")
            for elevator_rows, event_rows in plan.elevator_chunks(first_elevator_id, first_unit_id, CHUNK):
                elevator_writer.write(elevator_rows)
                event_writer.write(event_rows)
                bar.advance(task, len(elevator_rows))
            if sqlite:
                conn.exec_driver_sql("PRAGMA cache_size = -2000")
        _sync_sequences(conn)

    counts = plan.counts
    units: dict[str, int] = {}
    for row in unit_rows:
        units[row["unit_type"]] = units.get(row["unit_type"], 0) + 1
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


class _BulkWriter:
    """Core ``executemany`` inserts with the bind conversions done once per distinct value.

    The conversions are the dialect's own (``bind_processor`` of each column type: UTC timestamps, dates
    as SQLite text, JSON), so the stored values are exactly what the ORM writes; but a city repeats the
    same few thousand dates hundreds of thousands of times, so dates and timestamps are converted through
    a memo, and the statement runs on a type-less copy of the table so SQLAlchemy does not convert again.
    This halves the time to store 300,000 elevators.
    """

    def __init__(self, conn: Connection, source: Table) -> None:
        self.conn = conn
        dialect = conn.dialect
        self.statement: Insert = table(source.name, *(column(c.name) for c in source.columns)).insert()
        self.processors: list[tuple[str, Callable[[Any], Any]]] = []
        for c in source.columns:
            proc = c.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is None:
                continue
            self.processors.append((c.name, _memoised(proc) if _is_temporal(c.type) else proc))

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (converted in place); columns the rows leave out keep their defaults."""
        if not rows:
            return
        processors = [(name, proc) for name, proc in self.processors if name in rows[0]]
        for row in rows:
            for name, proc in processors:
                row[name] = proc(row[name])
        for i in range(0, len(rows), CHUNK):
            self.conn.execute(self.statement, rows[i : i + CHUNK])


def _is_temporal(type_: TypeEngine[Any]) -> bool:
    try:
        return type_.python_type in (date, datetime)
    except NotImplementedError:
        return False


def _memoised(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            out = cache[value] = proc(value)
            return out

    return convert


def _sync_sequences(conn: Connection) -> None:
    """Ids were given explicitly; move PostgreSQL's sequences past them so later inserts do not collide."""
    if conn.dialect.name != "postgresql":
        return
    for name in (UNITS.name, ELEVATORS.name):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            )
        )
