"""Schema migrations with Alembic, callable from the CLI and from tests, and the rule that decides whether
this code may run against the database's schema.

Rolling upgrades follow expand-then-contract (docs/OPERATIONS.md, "Upgrades"). Each migration module may
declare ``oldest_reader``: the oldest code revision (a release's newest migration) that still runs against a
database at that migration's revision. An *expand* migration only adds and declares nothing: it inherits its
``down_revision``'s value, so the previous release keeps running. A *contract* migration (drop, rename,
narrow) declares the first revision whose code no longer uses what it removes, often itself. Every upgrade
records the value in the ``schema_compat`` table (migrations/env.py), so an *older* release, which has not
the newer migration's module, can still read whether it may run.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext, MigrationInfo
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionMap

# The migrations ship inside the package, so an installed wheel can build its schema like a checkout.
SCRIPT_LOCATION = Path(__file__).resolve().parents[1] / "migrations"

COMPAT_TABLE = "schema_compat"
# The migration that creates the table: revisions before it were written when every process needed the
# database at exactly its own revision (each of them a contract for older code).
COMPAT_SINCE = "0011"
# Not one of the models: it describes the schema itself, is written only by migrations and is left out of
# the models-versus-migrations comparison (env.py's include_name).
compat_table = sa.Table(
    COMPAT_TABLE,
    sa.MetaData(),
    sa.Column("revision", sa.String(32), primary_key=True),
    sa.Column("down_revision", sa.String(32), nullable=True),
    sa.Column("oldest_reader", sa.String(32), nullable=False),
)

log = logging.getLogger(__name__)


def alembic_config(url: str, script_location: Path | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location or SCRIPT_LOCATION))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# ------------------------------------------------------------------------------------------ the rule (pure)


class Verdict(StrEnum):
    CURRENT = "current"  # at this code's head
    EMPTY = "empty"  # no schema yet
    BEHIND = "behind"  # an older revision of this code's chain
    NEWER_COMPATIBLE = "newer_compatible"  # newer, and its recorded oldest reader is this code or older
    NEWER_INCOMPATIBLE = "newer_incompatible"  # newer, after a contract this code cannot run past


class CompatRow(NamedTuple):
    """One row of ``schema_compat``: what the migration to ``revision`` declared."""

    down_revision: str | None
    oldest_reader: str


@dataclass(frozen=True)
class SchemaState:
    """The database's revision judged against this code's migrations."""

    current: str | None
    head: str
    verdict: Verdict
    oldest_reader: str | None = None  # recorded for ``current`` (newer databases only)
    contract: str | None = None  # the contract migration this code cannot run past

    @property
    def runnable(self) -> bool:
        return self.verdict in (Verdict.CURRENT, Verdict.NEWER_COMPATIBLE)

    def problem(self) -> str | None:
        """None when this code may run; else one sentence saying why not and what to do."""
        if self.verdict is Verdict.EMPTY:
            return (
                f"the database is empty (no schema), the code needs revision {self.head}: "
                "run `liftwatch db upgrade`"
            )
        if self.verdict is Verdict.BEHIND:
            return (
                f"the database is at revision {self.current}, the code needs {self.head}: "
                "run `liftwatch db upgrade`"
            )
        if self.verdict is Verdict.NEWER_INCOMPATIBLE:
            if self.oldest_reader is None:
                return (
                    f"the database is at revision {self.current}, which this release (at {self.head}) does "
                    "not know and for which no compatibility is recorded: upgrade this host"
                )
            return (
                "the database was migrated by a newer release that this one cannot run against "
                f"(contract migration {self.contract or self.oldest_reader}; database at {self.current}, "
                f"this release at {self.head}): upgrade this host"
            )
        return None

    def warning(self) -> str | None:
        """A newer, compatible database: this host runs, but is one to upgrade next."""
        if self.verdict is not Verdict.NEWER_COMPATIBLE:
            return None
        return (
            f"the database is at revision {self.current}, newer than this release's {self.head}; only expand "
            f"migrations since {self.oldest_reader}, so this release runs against it: upgrade this host soon"
        )

    def describe(self) -> str:
        """One line for `liftwatch db current`."""
        if self.verdict is Verdict.CURRENT:
            return f"the database is at revision {self.head}, this release's"
        return self.warning() or self.problem() or ""


def judge(
    current: str | None, head: str, lineage: Sequence[str], recorded: Mapping[str, CompatRow]
) -> SchemaState:
    """The compatibility rule. ``lineage``: this code's head and its ancestors; ``recorded``: the database's
    ``schema_compat`` rows. This code runs against its own head, or against a newer revision whose recorded
    oldest reader is its head or an ancestor of it (only expand migrations in between). A newer revision
    without a record (stamped, or written without the table) is refused: nothing says it is safe."""
    if current == head:
        return SchemaState(current, head, Verdict.CURRENT)
    if current is None:
        return SchemaState(current, head, Verdict.EMPTY)
    if current in lineage:
        return SchemaState(current, head, Verdict.BEHIND)
    row = recorded.get(current)
    if row is None:
        return SchemaState(current, head, Verdict.NEWER_INCOMPATIBLE)
    if row.oldest_reader in lineage:
        return SchemaState(current, head, Verdict.NEWER_COMPATIBLE, row.oldest_reader)
    # Name the contract: walking down from the database's revision towards this code's, the last step (the
    # one nearest this code) whose oldest reader this code does not reach.
    contract: str | None = None
    rev: str | None = current
    seen: set[str] = set()
    while rev is not None and rev not in lineage and rev in recorded and rev not in seen:
        seen.add(rev)
        if recorded[rev].oldest_reader not in lineage:
            contract = rev
        rev = recorded[rev].down_revision
    return SchemaState(current, head, Verdict.NEWER_INCOMPATIBLE, row.oldest_reader, contract)


def declared_oldest_reader(revisions: RevisionMap, revision: str) -> str:
    """The oldest code revision that runs against a database at ``revision``: its module's ``oldest_reader``
    or, when it declares none (an expand migration), its down_revision's; a root migration's is itself.
    A value that is not ``revision`` or one of its ancestors is an error in the migration."""
    lineage = [r.revision for r in revisions.iterate_revisions(revision, "base")]
    rev = revisions.get_revision(revision)
    while rev is not None:
        value = getattr(getattr(rev, "module", None), "oldest_reader", None)
        if value is None and rev.down_revision is None:
            value = rev.revision
        if value is not None:
            if value not in lineage:
                raise ValueError(
                    f"migration {revision}: oldest_reader {value!r} is not {revision} or one of its ancestors"
                )
            return str(value)
        down = rev.down_revision
        if not isinstance(down, str):
            raise ValueError(f"migration {rev.revision}: one down_revision expected, got {down!r}")
        rev = revisions.get_revision(down)
    raise ValueError(f"migration {revision}: not in the revision map")


# ------------------------------------------------------------------------------------------ the database


class SchemaTooNew(Exception):
    """The database was migrated by a newer release that this one cannot run against."""


def _script(url: str, script_location: Path | None) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url, script_location))


def schema_state(url: str, script_location: Path | None = None) -> SchemaState:
    """Read the database's revision (and, when it is newer than this code, its compatibility record)."""
    from alembic.runtime.migration import MigrationContext

    from liftwatch.core.db import make_engine

    script = _script(url, script_location)
    head = script.get_current_head() or ""
    lineage = [r.revision for r in script.walk_revisions("base", head)]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            recorded: dict[str, CompatRow] = {}
            if current is not None and current not in lineage and sa.inspect(conn).has_table(COMPAT_TABLE):
                for rev, down, oldest in conn.execute(
                    sa.select(
                        compat_table.c.revision, compat_table.c.down_revision, compat_table.c.oldest_reader
                    )
                ):
                    recorded[rev] = CompatRow(down, oldest)
    finally:
        engine.dispose()
    return judge(current, head, lineage, recorded)


def pending(url: str) -> str | None:
    """None when this code may run against the database at ``url`` (at its revision, or at a newer one that
    only expanded the schema since: a warning is logged), else a sentence saying what to do."""
    state = schema_state(url)
    if warning := state.warning():
        log.warning(warning)
    return state.problem()


def upgrade(url: str, revision: str = "head", script_location: Path | None = None) -> str | None:
    """Bring the database at ``url`` to ``revision``; an empty database gets the whole schema.

    A database already migrated by a newer release is left alone: when this release can run against it,
    the sentence returned says so (nothing to do); when it cannot, SchemaTooNew says why."""
    state = schema_state(url, script_location)
    if state.verdict is Verdict.NEWER_COMPATIBLE:
        return (
            f"the database is at revision {state.current}, newer than this release's {state.head} (which "
            "runs against it): nothing to upgrade; migrations come from the newest release"
        )
    if state.verdict is Verdict.NEWER_INCOMPATIBLE:
        raise SchemaTooNew(state.problem())
    command.upgrade(alembic_config(url, script_location), revision)
    return None


def record_step(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    """Alembic's on_version_apply hook (migrations/env.py): after each migration, in its transaction, record
    the revision's oldest reader in ``schema_compat`` (or forget it when the migration is undone).
    Revisions before the table's own migration are recorded by that migration."""
    revision = step.up_revision_id
    if step.is_stamp or revision is None:
        return  # a stamp runs no migration: a stamped newer revision stays unrecorded, so older code refuses
    revisions = step.revision_map
    lineage = [r.revision for r in revisions.iterate_revisions(revision, "base")]
    if COMPAT_SINCE not in lineage:
        return  # no table yet
    if not step.is_upgrade and revision == COMPAT_SINCE:
        return  # its downgrade dropped the table
    ctx.execute(sa.delete(compat_table).where(compat_table.c.revision == revision))
    if step.is_upgrade:
        script = revisions.get_revision(revision)
        down = script.down_revision if script is not None else None
        ctx.execute(
            sa.insert(compat_table).values(
                revision=revision,
                down_revision=down if isinstance(down, str) else None,
                oldest_reader=declared_oldest_reader(revisions, revision),
            )
        )
