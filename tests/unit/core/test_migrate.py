"""Rolling upgrades: which code may run against which schema (expand then contract, docs/OPERATIONS.md
"Upgrades"). The rule alone, each migration's declared oldest reader, and the commands on SQLite against a
schema a newer release migrated (test-only migrations after this code's head, in a script directory of
their own)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.core.config import get_settings
from liftwatch.core.db import make_engine
from liftwatch.core.migrate import (
    COMPAT_SINCE,
    SCRIPT_LOCATION,
    CompatRow,
    SchemaTooNew,
    Verdict,
    alembic_config,
    compat_table,
    declared_oldest_reader,
    judge,
    pending,
    schema_state,
    upgrade,
)

# ------------------------------------------------------------------------------ test-only migrations


def package_head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def package_oldest_reader() -> str:
    """What an expand migration after this release's head inherits: the head's own oldest reader (the
    head itself when it is a contract; an earlier release when it is an expand too)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return declared_oldest_reader(script.revision_map, package_head())


def expand_migration(revision: str = "0099", down: str | None = None) -> str:
    """An expand migration of a later release: a nullable column and a table; it declares no oldest
    reader, so it inherits its down_revision's (the previous release keeps running)."""
    return f'''"""test only: expand"""
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down or package_head()!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("elevators") as batch:
        batch.add_column(sa.Column("note_{revision}", sa.String(200), nullable=True))
    op.create_table(
        "extra_{revision}",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("registration_code", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("extra_{revision}")
    with op.batch_alter_table("elevators") as batch:
        batch.drop_column("note_{revision}")
'''


def contract_migration(
    revision: str = "0099", down: str | None = None, oldest_reader: str | None = None
) -> str:
    """A contract migration of a later release: drops a column this code still uses (crews.phone) and
    declares that only code from ``oldest_reader`` (default: itself) on runs against it."""
    return f'''"""test only: contract"""
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down or package_head()!r}
branch_labels = None
depends_on = None
oldest_reader = {oldest_reader or revision!r}


def upgrade() -> None:
    with op.batch_alter_table("crews") as batch:
        batch.drop_column("phone")


def downgrade() -> None:
    with op.batch_alter_table("crews") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), nullable=False, server_default=""))
'''


def script_dir_with(tmp_path: Path, *sources: str) -> Path:
    """The package's migrations plus ``sources`` (test-only migration modules) in a new script directory:
    the migrations of a later release, which this code does not have."""
    target = tmp_path / "later_release_migrations"
    shutil.copytree(SCRIPT_LOCATION, target, ignore=shutil.ignore_patterns("__pycache__"))
    for n, source in enumerate(sources):
        (target / "versions" / f"9{n:03d}_later_release.py").write_text(source)
    return target


def _revisions(location: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://", location))


# ------------------------------------------------------------------------------------------- the rule

CHAIN = ["0011", "0010", "0009"]  # this code's head and its ancestors


def test_the_code_runs_at_its_own_revision_only_when_older_or_empty() -> None:
    assert judge("0011", "0011", CHAIN, {}).verdict is Verdict.CURRENT
    empty = judge(None, "0011", CHAIN, {})
    assert empty.verdict is Verdict.EMPTY and "run `liftwatch db upgrade`" in str(empty.problem())
    behind = judge("0010", "0011", CHAIN, {})
    assert behind.verdict is Verdict.BEHIND
    assert behind.problem() == (
        "the database is at revision 0010, the code needs 0011: run `liftwatch db upgrade`"
    )
    assert not behind.runnable and behind.warning() is None


@pytest.mark.parametrize("oldest", ["0011", "0009"])
def test_a_newer_revision_runs_when_its_oldest_reader_is_this_code_or_older(oldest: str) -> None:
    """Expand migrations since ``oldest``: this code (0011) is that release or a later one."""
    recorded = {"0012": CompatRow("0011", oldest), "0013": CompatRow("0012", oldest)}
    state = judge("0013", "0011", CHAIN, recorded)
    assert state.verdict is Verdict.NEWER_COMPATIBLE and state.runnable and state.problem() is None
    assert "newer than this release's 0011" in str(state.warning())
    assert "upgrade this host" in str(state.warning())


def test_a_contract_after_this_code_refuses_and_names_the_contract() -> None:
    """0012 is a contract (only code from 0012 on), 0013 an expand after it (inherits 0012)."""
    recorded = {"0012": CompatRow("0011", "0012"), "0013": CompatRow("0012", "0012")}
    state = judge("0013", "0011", CHAIN, recorded)
    assert state.verdict is Verdict.NEWER_INCOMPATIBLE and not state.runnable
    assert state.problem() == (
        "the database was migrated by a newer release that this one cannot run against (contract migration "
        "0012; database at 0013, this release at 0011): upgrade this host"
    )
    # code at 0012 runs against the same database
    assert judge("0013", "0012", ["0012", *CHAIN], recorded).verdict is Verdict.NEWER_COMPATIBLE


def test_a_contract_that_spares_the_release_before_it() -> None:
    """0012 (expand) stopped using a column; 0013 drops it and declares 0012: release 0012 keeps running
    during the rolling upgrade, release 0011 (which used the column) refuses, naming 0013."""
    recorded = {"0012": CompatRow("0011", "0011"), "0013": CompatRow("0012", "0012")}
    assert judge("0013", "0012", ["0012", *CHAIN], recorded).verdict is Verdict.NEWER_COMPATIBLE
    state = judge("0013", "0011", CHAIN, recorded)
    assert state.verdict is Verdict.NEWER_INCOMPATIBLE and state.contract == "0013"


def test_a_newer_revision_without_a_record_is_refused() -> None:
    """Stamped, or the table lost: nothing says this code may run, so it does not."""
    state = judge("0099", "0011", CHAIN, {"0012": CompatRow("0011", "0011")})
    assert state.verdict is Verdict.NEWER_INCOMPATIBLE
    assert "no compatibility is recorded: upgrade this host" in str(state.problem())


# ----------------------------------------------------------------------------- declared oldest readers


def test_the_package_migrations_declare_sound_oldest_readers() -> None:
    """Each revision's oldest reader is itself or an ancestor, never older than its predecessor's (a newer
    schema cannot serve code that an older one could not), and the revisions written before rolling
    upgrades are contracts, as 0011 records them."""
    script = _revisions(SCRIPT_LOCATION)
    revisions = list(reversed(list(script.walk_revisions())))  # oldest first
    previous: str | None = None
    for rev in revisions:
        lineage = [r.revision for r in script.iterate_revisions(rev.revision, "base")]
        oldest = declared_oldest_reader(script.revision_map, rev.revision)
        assert oldest in lineage
        if previous is not None:
            assert previous in [r.revision for r in script.iterate_revisions(oldest, "base")], rev.revision
        previous = oldest
        if rev.revision <= COMPAT_SINCE:
            assert oldest == rev.revision


def test_an_expand_inherits_and_a_contract_declares(tmp_path: Path) -> None:
    inherited = package_oldest_reader()
    location = script_dir_with(
        tmp_path,
        expand_migration("0097"),
        contract_migration("0098", down="0097", oldest_reader="0097"),
        expand_migration("0099", down="0098"),
    )
    revisions = _revisions(location).revision_map
    assert declared_oldest_reader(revisions, "0097") == inherited
    assert declared_oldest_reader(revisions, "0098") == "0097"
    assert declared_oldest_reader(revisions, "0099") == "0097"


def test_an_oldest_reader_after_the_migration_is_an_error(tmp_path: Path) -> None:
    location = script_dir_with(
        tmp_path, contract_migration("0098", oldest_reader="0099"), expand_migration("0099", down="0098")
    )
    with pytest.raises(ValueError, match="oldest_reader '0099' is not 0098 or one of its ancestors"):
        declared_oldest_reader(_revisions(location).revision_map, "0098")


# --------------------------------------------------------------------------- on a database (SQLite)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, " ".join(result.output.split())  # the console wraps long lines


def _revision(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return str(found)


def _compat(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(compat_table.c.revision, compat_table.c.oldest_reader)).all()
    engine.dispose()
    return {r: o for r, o in rows}


def test_this_release_runs_against_a_later_expand(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'expanded.db'}"
    head = package_head()
    upgrade(url, script_location=script_dir_with(tmp_path, expand_migration()))
    assert _revision(url) == "0099" and _compat(url)["0099"] == package_oldest_reader()
    with caplog.at_level(logging.WARNING, logger="liftwatch.core.migrate"):
        assert pending(url) is None
    assert f"the database is at revision 0099, newer than this release's {head}" in caplog.text
    code, out = _run("db", "current", "--database-url", url)
    assert code == 0 and "newer than this release's" in out
    # `db upgrade` from this (older) release leaves the newer schema alone and says so
    code, out = _run("db", "upgrade", "--database-url", url)
    assert code == 0 and "nothing to upgrade" in out, out
    assert _revision(url) == "0099"


def test_this_release_refuses_a_later_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'contracted.db'}"
    upgrade(url, script_location=script_dir_with(tmp_path, contract_migration()))
    assert _compat(url)["0099"] == "0099"
    refusal = (
        "the database was migrated by a newer release that this one cannot run against "
        "(contract migration 0099"
    )
    assert refusal in str(pending(url)) and "upgrade this host" in str(pending(url))
    with pytest.raises(SchemaTooNew, match=r"contract migration 0099"):
        upgrade(url)
    for args in (["db", "upgrade"], ["db", "current"]):
        code, out = _run(*args, "--database-url", url)
        assert code == 1 and refusal in out and "Traceback" not in out, out
    monkeypatch.setenv("LIFTWATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        code, out = _run("serve", "--port", "1")
    finally:
        get_settings.cache_clear()
    assert code == 1 and refusal in out
    assert _revision(url) == "0099"


def test_a_later_revision_unknown_to_the_record_is_refused(tmp_path: Path) -> None:
    """A newer revision stamped rather than migrated has no row: this release does not guess."""
    url = f"sqlite:///{tmp_path / 'stamped.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    state = schema_state(url)
    assert state.verdict is Verdict.NEWER_INCOMPATIBLE
    assert "no compatibility is recorded" in str(pending(url))


def test_undoing_a_later_migration_forgets_its_record(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'down.db'}"
    location = script_dir_with(tmp_path, expand_migration())
    upgrade(url, script_location=location)
    command.downgrade(alembic_config(url, location), package_head())
    assert "0099" not in _compat(url) and pending(url) is None
    command.downgrade(alembic_config(url, location), "0010")  # before the table: it goes with 0011
    assert "run `liftwatch db upgrade`" in str(pending(url))
    upgrade(url)
    assert set(_compat(url)) == {r.revision for r in _revisions(SCRIPT_LOCATION).walk_revisions()}
