"""The schema comes from Alembic migrations alone, on SQLite and PostgreSQL, and they match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from typer.testing import CliRunner

import liftwatch
from liftwatch.cli import app as cli
from liftwatch.core.db import make_engine
from liftwatch.core.migrate import SCRIPT_LOCATION, alembic_config
from liftwatch.models import Base
from tests.conftest import fresh_pg_database

TABLES = {
    "units",
    "elevators",
    "elevator_events",
    "users",
    "faults",
    "live_status",
    "dead_letters",
    "detector_checkpoints",
    "incidents",
    "incident_events",
    "open_incidents",
    "crews",
    "gateway_api_keys",
    "terminal_credentials",
    "revoked_tokens",
    "rescue_timers",
    "notice_outbox",
    "alembic_version",
}


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    with fresh_pg_database("liftwatch_mig") as url:
        yield url


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return list(diff)


def _upgrade_with_cli(url: str) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
def test_db_upgrade_creates_the_schema_on_empty_postgres(empty_pg_url: str) -> None:
    engine = make_engine(empty_pg_url)
    assert inspect(engine).get_table_names() == []
    _upgrade_with_cli(empty_pg_url)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()
    assert _diff(empty_pg_url) == [], "models and migrations differ on PostgreSQL"
    _upgrade_with_cli(empty_pg_url)  # a second run is a no-op


def test_db_upgrade_creates_the_schema_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _upgrade_with_cli(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()
    assert _diff(url) == [], "models and migrations differ on SQLite"


def test_diff_detects_a_drifted_model(tmp_path: Path) -> None:
    """The comparison above can fail: a table missing from the database is reported."""
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    _upgrade_with_cli(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE users"))
    engine.dispose()
    assert any(op[0] == "add_table" for op in _diff(url) if isinstance(op, tuple))


def test_the_migrations_ship_inside_the_package_as_one_chain() -> None:
    """An installed wheel has no repository around it: the migrations live in the package, and every file
    in versions/ is a revision of one unbranched chain (tests/integration/test_wheel.py checks the wheel)."""
    assert SCRIPT_LOCATION.is_relative_to(Path(liftwatch.__file__).parent)
    files = sorted(p.stem for p in (SCRIPT_LOCATION / "versions").glob("*.py"))
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = list(script.walk_revisions())  # newest first, following down_revision
    assert len(script.get_heads()) == 1
    assert len(revisions) == len(files), "a file in versions/ is not a revision of the chain"
    assert sorted(Path(r.path).stem for r in revisions) == files
