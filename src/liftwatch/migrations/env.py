"""Alembic environment: the URL comes from the config (set by liftwatch) or from LIFTWATCH_DATABASE_URL."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from liftwatch.core.config import get_settings
from liftwatch.core.db import UTCDateTime, make_engine
from liftwatch.core.migrate import COMPAT_TABLE, record_step
from liftwatch.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our TypeDecorators as their plain SQLAlchemy type, so migrations need no liftwatch import."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate compares the models only: ``schema_compat`` describes the schema and is no model."""
    return not (type_ == "table" and name == COMPAT_TABLE)


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=_render_item,
        include_name=_include_name,
        # each migration's oldest_reader into schema_compat, in the migration's transaction, so an older
        # release can tell whether it may run against this schema (core/migrate.py)
        on_version_apply=record_step,
        literal_binds=connection is None,  # offline (--sql): statements are written out with their values
    )


if context.is_offline_mode():
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(_url())
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
