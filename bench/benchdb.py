"""What the database benches share: a fresh, migrated database and a chunked bulk writer (generated cities
are written with one executemany per chunk, not through the services row by row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, insert, text

from liftwatch.core.migrate import upgrade

CHUNK = 20_000


def fresh(url: str) -> None:
    """An empty database at the newest schema: a PostgreSQL database is emptied first (a new SQLite
    file needs nothing)."""
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        meta = MetaData()
        meta.reflect(engine)
        with engine.begin() as conn:
            meta.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    upgrade(url)


class Writer:
    """Rows of one table, flushed with one executemany every ``CHUNK`` rows; ``count`` is what was written."""

    def __init__(self, engine: Engine, table: Any) -> None:
        self.engine, self.table, self.count = engine, table, 0
        self.rows: list[dict[str, object]] = []

    def add(self, row: dict[str, object]) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            with self.engine.begin() as conn:
                conn.execute(insert(self.table), self.rows)
            self.count += len(self.rows)
            self.rows = []


def settle(engine: Engine) -> None:
    """After a bulk load, what PostgreSQL's autovacuum would do before the readers come: VACUUM ANALYZE
    (statistics for the planner, the visibility map for index-only scans). SQLite keeps no statistics
    unless asked, and the product does not ask: nothing to do."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
