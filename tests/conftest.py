"""Shared fixtures. Database tests run on SQLite and on the machine's real PostgreSQL; in CI (CI=true) a
missing PostgreSQL fails the run instead of skipping."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.app import create_app
from liftwatch.core import security
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.migrate import upgrade
from liftwatch.models import Base
from tests import routecache

security.use_fast_hashing()
routecache.install()  # an app's route table is built once per process (tests/routecache.py)
# JetStream reserves a stream's size limit against the server's store when the stream is created; tests
# create many namespaced streams on the machine's NATS, so they ask for small ones.
os.environ.setdefault("LIFTWATCH_STREAM_MAX_MB", "64")
os.environ.setdefault("LIFTWATCH_FAULTS_STREAM_MAX_MB", "16")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "LIFTWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _pg_available() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def require_postgres() -> None:
    reason = _pg_available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}: {reason}")
    pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {reason}")


NATS_URL = os.environ.get("LIFTWATCH_TEST_NATS_URL", "nats://127.0.0.1:4222")
MQTT_URL = os.environ.get("LIFTWATCH_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def require_service(name: str, url: str) -> None:
    """Skip (outside CI) or fail (in CI) when the service behind ``url`` does not accept connections."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=3):
            return
    except OSError as exc:
        reason = f"{name} not reachable at {url}: {exc}"
    if IN_CI:
        pytest.fail(f"{name} must be running in CI: {reason}")
    pytest.skip(reason)


_NAMESPACES: set[str] = set()  # stream namespaces handed out on the machine's NATS during this session


def new_stream_namespace(prefix: str = "t") -> str:
    """A fresh stream namespace for a test on the machine's NATS (``prefix`` + 8 hex digits). Its streams
    (``<NS>_TELEMETRY``, ``<NS>_FAULTS``, ``<NS>_RAW``, ...) are deleted when the session ends, whatever the
    test did: each one reserves its size limit against the server's store."""
    namespace = f"{prefix}{uuid.uuid4().hex[:8]}"
    _NAMESPACES.add(namespace)
    return namespace


async def _delete_namespaced_streams(url: str, namespaces: set[str]) -> list[str]:
    """Delete the streams whose names start with one of ``namespaces`` (upper-cased, as Topology names
    them); nothing else on the server is touched. Returns the names deleted."""
    import nats

    nc = await nats.connect(url, allow_reconnect=False, connect_timeout=3)
    try:
        js = nc.jetstream()
        prefixes = tuple(ns.upper() for ns in namespaces)
        deleted = []
        for info in await js.streams_info():
            name = str(info.config.name)
            if name.startswith(prefixes):
                await js.delete_stream(name)
                deleted.append(name)
        return deleted
    finally:
        await nc.close()


@pytest.fixture(scope="session", autouse=True)
def _clean_up_test_streams() -> Iterator[None]:
    """At the end of the session, delete the JetStream streams of every namespace a test asked for with
    ``new_stream_namespace`` (a test that fails half-way leaves them too). Without NATS, nothing to do."""
    yield
    if not _NAMESPACES:
        return
    import asyncio

    try:
        asyncio.run(_delete_namespaced_streams(NATS_URL, _NAMESPACES))
    except Exception as exc:  # the run's result stands; say what was left behind
        import warnings

        warnings.warn(f"test streams on {NATS_URL} not deleted: {exc!r}", stacklevel=1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@contextmanager
def fresh_pg_database(prefix: str = "liftwatch_test") -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards; yields its URL."""
    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated with Alembic, dropped at the end."""
    with fresh_pg_database() as url:
        upgrade(url)
        yield url


def _truncate_all(engine: Engine) -> None:
    """Empty every table and restart every sequence (ids count from 1 again), in one round trip.

    DELETE, children first, not TRUNCATE: TRUNCATE gives each of the 50 tables new files, 0.4 s per test
    against 0.015 s for deleting the few rows a test leaves, on every PostgreSQL test of the suite."""
    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(deletes)
        conn.exec_driver_sql(
            "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``sqlite_only`` module keeps only its SQLite runs: routes, pages and demo seeds shape the same
    answers on both backends, and the services under them are tested on both (the suite's time)."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("sqlite_only") is not None
        and item.get_closest_marker("postgres") is not None
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in gone]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """An empty, migrated database: SQLite (embedded default) and PostgreSQL (production)."""
    if request.param == "sqlite":
        path = tmp_path / "liftwatch.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
    else:
        url = request.getfixturevalue("pg_database_url")
        eng = make_engine(url)
        _truncate_all(eng)
        yield eng
        eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """SQLite only, for tests that need no second backend."""
    path = tmp_path / "liftwatch.db"
    shutil.copy(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The embedded workers (pipeline) are off for API and page tests; telemetry tests turn them on.
    return Settings(var_dir=tmp_path / "var", secret_key="test-secret-" + "x" * 40, pipeline=False)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FixedClock) -> FastAPI:
    return create_app(settings=settings, engine=engine, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
