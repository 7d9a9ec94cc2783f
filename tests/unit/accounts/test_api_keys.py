"""Gateway API keys through the API, with the embedded pipeline running so the gateway endpoint accepts:
a key sends telemetry as its gateway account (unit scope included) and nothing else; revoked, expired,
unknown and wrong keys are 401; only admins make, list and revoke keys, and only for gateway accounts."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liftwatch import deps
from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.models import ApiKey, User
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.cli import app as cli
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.telemetry import service as telemetry
from tests.conftest import NOW
from tests.factories import PASSWORD, auth, seed

TS = 1_795_424_400_000  # 2026-11-23 09:00 UTC, the test clock
TELEMETRY = "/api/v1/telemetry"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", secret_key="s" * 48, pipeline=True, archive=False)


@pytest.fixture
def city(session: Session, clock: FixedClock) -> None:
    """The seeded registry plus a gateway of MU-A; before the app starts (the pipeline loads the codes)."""
    seed(session, clock)
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="gw-mu-a", password=PASSWORD, role=Role.GATEWAY, unit="MU-A"),
        clock,
    )
    session.commit()


def _item(seq: int, code: str = "11SHA000001") -> dict[str, Any]:
    return {"type": "heartbeat", "registration_code": code, "msg_id": f"k-{seq}", "seq": seq, "ts": TS}


def _new_key(client: TestClient, admin: dict[str, str], username: str = "gateway", **extra: Any) -> Any:
    r = client.post("/api/v1/api-keys", headers=admin, json={"username": username, "name": "网关", **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_sends_telemetry_and_its_last_use_is_recorded_once_a_minute(
    app: FastAPI, session: Session, clock: FixedClock, city: None
) -> None:
    with TestClient(app) as client:
        admin = auth(client, Role.ADMIN)
        created = _new_key(client, admin)
        key, prefix = created["key"], created["prefix"]
        assert len(prefix) == 12 and prefix.startswith("lwk_")
        assert key.startswith(prefix + "_") and len(key) > 50
        assert created["username"] == "gateway" and created["created_by"] == "admin"
        assert created["last_used_at"] is None and created["revoked_at"] is None

        r = client.post(TELEMETRY, headers=_bearer(key), json=[_item(1)])
        assert r.json() == {"accepted": 1, "rejected": []}, r.text
        listing = client.get("/api/v1/api-keys", headers=admin)
        assert listing.status_code == 200
        (row,) = listing.json()
        assert row["prefix"] == prefix
        assert datetime.fromisoformat(row["last_used_at"]) == NOW
        assert "key" not in row and "secret_hash" not in row and key not in listing.text

        # X-API-Key works too; within a minute of the last stamp nothing is written
        clock.advance(timedelta(seconds=30))
        r = client.post(TELEMETRY, headers={"X-API-Key": key}, json=[_item(2)])
        assert r.json()["accepted"] == 1, r.text
        session.expire_all()
        stored = session.scalars(select(ApiKey)).one()
        assert stored.last_used_at == NOW
        clock.advance(timedelta(seconds=31))
        assert client.post(TELEMETRY, headers=_bearer(key), json=[_item(3)]).status_code == 200
        session.expire_all()
        stored = session.scalars(select(ApiKey)).one()
        assert stored.last_used_at == NOW + timedelta(seconds=61)
    # only the hash is stored
    assert stored.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.split("_", 2)[2] not in str([getattr(stored, c.key) for c in ApiKey.__table__.columns])


def test_a_locked_database_delays_the_last_use_not_the_telemetry(
    app: FastAPI, session: Session, city: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite under load may refuse the stamp ('database is locked'); the batch still goes in."""

    def locked(*_args: Any) -> None:
        raise OperationalError("UPDATE gateway_api_keys", {}, Exception("database is locked"))

    monkeypatch.setattr(deps, "note_api_key_use", locked)
    with TestClient(app) as client:
        key = _new_key(client, auth(client, Role.ADMIN))["key"]
        r = client.post(TELEMETRY, headers=_bearer(key), json=[_item(1)])
        assert r.json() == {"accepted": 1, "rejected": []}, r.text
    session.expire_all()
    assert session.scalars(select(ApiKey)).one().last_used_at is None


def test_revoked_expired_unknown_and_wrong_keys_are_401(
    app: FastAPI, session: Session, clock: FixedClock, city: None
) -> None:
    with TestClient(app) as client:
        admin = auth(client, Role.ADMIN)
        revoked = _new_key(client, admin)
        soon = _new_key(client, admin, expires_at=(NOW + timedelta(hours=1)).isoformat())
        good = _new_key(client, admin)

        r = client.post(f"/api/v1/api-keys/{revoked['prefix']}/revoke", headers=admin)
        assert r.status_code == 200 and r.json()["revoked_at"] and r.json()["revoked_by"] == "admin"
        again = client.post(f"/api/v1/api-keys/{revoked['prefix']}/revoke", headers=admin)
        assert again.json()["revoked_at"] == r.json()["revoked_at"]  # a retry changes nothing
        assert client.post("/api/v1/api-keys/lwk_nothere/revoke", headers=admin).status_code == 404

        assert client.post(TELEMETRY, headers=_bearer(soon["key"]), json=[_item(1)]).status_code == 200
        clock.advance(timedelta(hours=2))
        wrong_secret = good["prefix"] + "_" + "A" * 43
        cases = {
            "revoked": (revoked["key"], f"API key {revoked['prefix']} was revoked"),
            "expired": (soon["key"], f"API key {soon['prefix']} expired"),
            "wrong secret": (wrong_secret, "unknown API key"),
            "unknown prefix": ("lwk_zzzzzzzz_" + "A" * 43, "unknown API key"),
            "malformed": ("lwk_", "unknown API key"),
        }
        for what, (key, message) in cases.items():
            for headers in (_bearer(key), {"X-API-Key": key}):
                r = client.post(TELEMETRY, headers=headers, json=[_item(2)])
                assert r.status_code == 401, (what, r.text)
                assert message in r.json()["detail"], (what, r.text)
                assert r.headers["www-authenticate"] == "Bearer"
        # the good key still works, and a disabled account's key does not
        assert client.post(TELEMETRY, headers=_bearer(good["key"]), json=[_item(3)]).status_code == 200
        session.execute(User.__table__.update().where(User.username == "gateway").values(active=False))
        session.commit()
        r = client.post(TELEMETRY, headers=_bearer(good["key"]), json=[_item(4)])
        assert r.status_code == 401 and "disabled" in r.json()["detail"]
    session.expire_all()
    assert telemetry.dead_letter_counts(session) == {}  # refused at the door: nothing dead-lettered


def test_a_key_opens_only_the_gateway_endpoint(app: FastAPI, session: Session, city: None) -> None:
    with TestClient(app) as client:
        key = _new_key(client, auth(client, Role.ADMIN))["key"]
        for method, path in (
            ("GET", "/api/v1/auth/me"),
            ("GET", "/api/v1/faults"),
            ("GET", "/api/v1/elevators/11SHA000001/live"),
            ("GET", "/api/v1/api-keys"),
            ("POST", "/api/v1/api-keys"),
        ):
            for headers in (_bearer(key), {"X-API-Key": key}):
                r = client.request(method, path, headers=headers, json={"username": "gateway", "name": "x"})
                assert r.status_code == 401, (method, path, r.text)
                assert "only by POST /api/v1/telemetry" in r.json()["detail"]


def test_a_units_key_reports_only_for_that_units_elevators(
    app: FastAPI, session: Session, clock: FixedClock, city: None
) -> None:
    with TestClient(app) as client:
        created = _new_key(client, auth(client, Role.ADMIN), username="gw-mu-a")
        assert created["unit"] == "MU-A"
        theirs, other = "11SHA000002", "11SHB000004"  # maintained by MU-A / by MU-B
        r = client.post(TELEMETRY, headers=_bearer(created["key"]), json=[_item(1, theirs), _item(2, other)])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["accepted"] == 1
        assert [(x["index"], x["reason"]) for x in body["rejected"]] == [(1, "not_this_gateway")]


def test_keys_are_only_for_gateway_accounts(app: FastAPI, session: Session, city: None) -> None:
    with TestClient(app) as client:
        admin = auth(client, Role.ADMIN)
        past = (NOW - timedelta(minutes=1)).isoformat()
        for body, field, message in (
            ({"username": "regulator", "name": "x"}, "username", "only for gateway accounts"),
            ({"username": "nobody", "name": "x"}, "username", "no account 'nobody'"),
            ({"username": "gateway", "name": "x", "expires_at": past}, "expires_at", "in the future"),
            ({"username": "gateway", "name": "x", "expires_at": "2027-01-01T00:00:00"}, "expires_at", ""),
            ({"username": "gateway", "name": ""}, "name", ""),
            ({"username": "gateway", "name": "x", "key": "mine"}, "key", ""),
        ):
            r = client.post("/api/v1/api-keys", headers=admin, json=body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["errors"][0]["field"] == field, r.text
            assert message in r.json()["detail"]
        # a gateway may not make itself a key, nor list them
        gw = auth(client, Role.GATEWAY)
        assert client.post("/api/v1/api-keys", headers=gw, json={"username": "gateway", "name": "x"}).json()[
            "detail"
        ] == ("only an admin may create API keys")
        assert client.get("/api/v1/api-keys", headers=gw).status_code == 403
    assert session.scalars(select(ApiKey)).all() == []


def test_cli_prints_the_key_once_and_stores_its_hash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade", "--database-url", url]).exit_code == 0
    args = ["users", "create", "--username", "gw1", "--role", "gateway", "--password", "a-long-pass"]
    assert runner.invoke(cli, [*args, "--database-url", url]).exit_code == 0
    result = runner.invoke(
        cli,
        [
            "users",
            "api-key",
            "--username",
            "gw1",
            "--name",
            "网关 1 号",
            "--days",
            "30",
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("lwk_") and "\n" not in key
    assert "shown only now" in " ".join(result.stderr.split())  # rich wraps lines
    refused = runner.invoke(
        cli, ["users", "api-key", "--username", "nobody", "--name", "x", "--database-url", url]
    )
    assert refused.exit_code == 1 and "username: no account 'nobody'" in refused.output
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        (stored,) = session.scalars(select(ApiKey)).all()
    engine.dispose()
    assert stored.prefix == key[:12] and stored.name == "网关 1 号" and stored.created_by == "system"
    assert stored.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.expires_at is not None and stored.revoked_at is None
