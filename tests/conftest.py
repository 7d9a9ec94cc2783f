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

security.use_fast_hashing()
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
    names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


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
    # The telemetry pipeline is off for API and page tests; telemetry tests turn it on.
    return Settings(var_dir=tmp_path / "var", secret_key="test-secret-" + "x" * 40, pipeline=False)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FixedClock) -> FastAPI:
    return create_app(settings=settings, engine=engine, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
