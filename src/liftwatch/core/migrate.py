"""Schema migrations with Alembic, callable from the CLI and from tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

# The migrations ship inside the package, so an installed wheel can build its schema like a checkout.
SCRIPT_LOCATION = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``; an empty database gets the whole schema."""
    command.upgrade(alembic_config(url), revision)


def pending(url: str) -> str | None:
    """None when the database is at the newest revision, else a sentence saying what to run."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from liftwatch.core.db import make_engine

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current == head:
        return None
    have = current or "none (empty)"
    return f"the database is at revision {have}, the code needs {head}: run `liftwatch db upgrade`"
