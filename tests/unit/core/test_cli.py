"""The command line: users, schema checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from liftwatch.accounts.models import User
from liftwatch.cli import app as cli
from liftwatch.core.config import get_settings
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.migrate import pending


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_users_create_hashes_and_scopes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert _run("db", "upgrade", "--database-url", url)[0] == 0
    code, out = _run(
        "users",
        "create",
        "--username",
        "li",
        "--role",
        "inspector",
        "--password",
        "a-long-pass",
        "--database-url",
        url,
    )
    assert code == 0, out
    code, out = _run(
        "users", "create", "--username", "wang", "--role", "maintenance", "--password", "a-long-pass",
        "--database-url", url,
    )  # fmt: skip
    assert code == 1
    assert "unit: a maintenance user needs the code of its unit" in out
    code, out = _run(
        "users",
        "create",
        "--username",
        "x",
        "--role",
        "admin",
        "--password",
        "a-long-pass",
        "--database-url",
        url,
    )
    assert code == 1
    assert "username: String should have at least 2 characters" in out
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        users = session.scalars(select(User)).all()
    engine.dispose()
    assert [(u.username, u.role) for u in users] == [("li", "inspector")]
    assert users[0].password_hash.startswith("$argon2")


def test_serve_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert pending(url) is not None and "liftwatch db upgrade" in str(pending(url))
    monkeypatch.setenv("LIFTWATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        code, out = _run("serve", "--port", "1")
    finally:
        get_settings.cache_clear()
    assert code == 1
    assert "liftwatch db upgrade" in " ".join(out.split())
    _run("db", "upgrade", "--database-url", url)
    assert pending(url) is None
