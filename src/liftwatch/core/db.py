"""Database engine and sessions. SQLite is the embedded default, PostgreSQL the production database;
the same models and Alembic migrations serve both."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite (which keeps no zone) as on
    PostgreSQL (timestamptz). Naive values are taken to be UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _json(value: Any) -> str:
    """JSON columns' text: msgspec's encoder, several times json.dumps' speed (a full risk recomputation
    writes two JSON documents per elevator; a sixth of its time went to encoding them)."""
    return msgspec.json.encode(value).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine; for SQLite create the parent folder and set WAL and foreign keys."""
    kwargs.setdefault("json_serializer", _json)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def table_of(model: type[Any]) -> Table:
    """The ``Table`` behind a mapped model (for the Core statements below)."""
    return model.metadata.tables[model.__tablename__]  # type: ignore[no-any-return]


def upsert_insert(session: Session, table: Table) -> Any:
    """An INSERT that understands ON CONFLICT on both databases (the dialect's own ``insert``)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_conflicts(session: Session, model: type[Any], index_elements: list[str]) -> Any:
    """INSERT of a ``model`` row that does nothing when one with the same key exists (both databases):
    two writers creating the same row at once both succeed, the second one's row is the first's."""
    return upsert_insert(session, table_of(model)).on_conflict_do_nothing(index_elements=index_elements)


# PostgreSQL array types for write_rows (the first that a column's type is an instance of; JSON travels as
# text and is cast per element)
_PG_ARRAYS: tuple[tuple[type[Any], str], ...] = (
    (Boolean, "boolean"),
    (BigInteger, "bigint"),
    (Integer, "integer"),
    (Float, "double precision"),
    (DateTime, "timestamptz"),
    (JSON, "text"),
    (String, "text"),
)
Converter = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A bulk write of one table, made once: the statement, the columns written, and per column what
    turns a value into what the driver takes (None: the value as it is)."""

    sql: str
    columns: tuple[Any, ...]
    converters: tuple[Converter | None, ...]


_PLANS: dict[tuple[str, str, tuple[str, ...], bool], _Plan] = {}


def _written(table: Table) -> list[Any]:
    """The columns a bulk write names: all but a primary key the database numbers."""
    return [c for c in table.columns if c is not table.autoincrement_column]


def _on_conflict(names: list[str], key: tuple[str, ...], replace: bool, excluded: str) -> str:
    if not replace:
        return f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    updates = ", ".join(f"{n} = {excluded}.{n}" for n in names if n not in key)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


def _plan(table: Table, key: tuple[str, ...], replace: bool, dialect: Dialect) -> _Plan:
    cached = _PLANS.get((dialect.name, table.name, key, replace))
    if cached is not None:
        return cached
    cols = _written(table)
    names = [c.name for c in cols]
    if dialect.name == "sqlite":
        # the driver's executemany of tuples, each value through its type's own bind processor (what
        # SQLAlchemy would apply: UTC times as text, JSON as text)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
            + _on_conflict(names, key, replace, "excluded")
        )
        plan = _Plan(sql, tuple(cols), tuple(c.type.bind_processor(dialect) for c in cols))
    else:
        # one statement of one array per column: INSERT .. SELECT FROM unnest(..)
        arrays: list[str] = []
        selected: list[str] = []
        converters: list[Converter | None] = []
        for i, col in enumerate(cols):
            kind = col.type.impl_instance if isinstance(col.type, TypeDecorator) else col.type
            array = next((pg for sa_type, pg in _PG_ARRAYS if isinstance(kind, sa_type)), None)
            if array is None:
                raise TypeError(f"write_rows: no PostgreSQL array for {table.name}.{col.name} ({col.type!r})")
            arrays.append(f"CAST(%(p{i})s AS {array}[])")
            selected.append(f"CAST(t.c{i} AS json)" if isinstance(kind, JSON) else f"t.c{i}")
            if isinstance(kind, JSON):
                converters.append(_json_text)
            elif isinstance(col.type, TypeDecorator):
                converters.append(_binder(col.type, dialect))
            else:
                converters.append(None)
        aliases = ", ".join(f"c{i}" for i in range(len(names)))
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(selected)} "
            f"FROM unnest({', '.join(arrays)}) AS t({aliases}) "
            + _on_conflict(names, key, replace, "EXCLUDED")
        )
        plan = _Plan(sql, tuple(cols), tuple(converters))
    _PLANS[(dialect.name, table.name, key, replace)] = plan
    return plan


def _json_text(value: Any) -> str | None:
    """A JSON column's value as text, as the engine writes it (``_json``)."""
    return None if value is None else _json(value)


def _binder(kind: TypeDecorator[Any], dialect: Dialect) -> Converter:
    return lambda value: kind.process_bind_param(value, dialect)


def _default_of(col: Any) -> Any:
    """What a row that leaves ``col`` out stores (as SQLAlchemy's INSERT does): its Python-side default
    (a callable one called), else NULL."""
    default = col.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)
    return default.arg if default.is_scalar else None


def write_rows(
    session: Session,
    model: type[Any],
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    replace: bool = True,
) -> int:
    """Insert ``rows``; one whose ``key`` (a unique constraint's columns) is stored already replaces the
    stored one whole (``replace``) or is skipped. A column a row leaves out takes its default, as in an
    INSERT; a primary key the database numbers is never written.

    Thousands of rows a second (the detector's live rows and state changes) went through SQLAlchemy's
    per-row parameters at a fifth of the detector process (bench/ingest.py (c)). SQLite now takes them
    as the driver's executemany of tuples, PostgreSQL as one statement of one array per column."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    plan = _plan(table_of(model), (key,) if isinstance(key, str) else tuple(key), replace, dialect)
    # a column's default is taken at each write (a callable one may give a new value each time)
    columns = [(c.name, conv, _default_of(c)) for c, conv in zip(plan.columns, plan.converters, strict=True)]
    if dialect.name == "sqlite":
        tuples = [
            tuple([r.get(n, fill) if conv is None else conv(r.get(n, fill)) for n, conv, fill in columns])
            for r in rows
        ]
        session.connection().exec_driver_sql(plan.sql, tuples)
        return len(rows)
    params: dict[str, list[Any]] = {}
    for i, (name, conv, fill) in enumerate(columns):
        values = [r.get(name, fill) for r in rows]
        params[f"p{i}"] = values if conv is None else [conv(v) for v in values]
    session.connection().exec_driver_sql(plan.sql, params)
    return len(rows)
