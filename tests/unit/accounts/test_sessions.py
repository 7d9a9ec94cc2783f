"""Sign-out and password changes end tokens; the password policy is the same at creation and sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.models import RevokedToken
from liftwatch.accounts.passwords import common_passwords, password_problem
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.security import decode_token
from liftwatch.deps import COOKIE_NAME
from tests.factories import PASSWORD, auth, seed, token
from tests.unit.web.forms import web_login


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_tokens_carry_their_own_id(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    first, second = token(client, "regulator"), token(client, "regulator")
    secret, now = client.app.state.secret_key, clock.now()  # type: ignore[attr-defined]
    a, b = decode_token(first, secret, now), decode_token(second, secret, now)
    assert a and b and a["jti"] and a["jti"] != b["jti"] and a["pwd"] == b["pwd"]


def test_api_logout_revokes_only_that_token(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    mine, other = token(client, "regulator"), token(client, "regulator")
    assert client.post("/api/v1/auth/logout", headers=_bearer(mine)).status_code == 204
    r = client.get("/api/v1/auth/me", headers=_bearer(mine))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.post("/api/v1/auth/logout", headers=_bearer(mine)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=_bearer(other)).status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_expired_revocations_are_cleaned_up(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    client.post("/api/v1/auth/logout", headers=_bearer(token(client, "regulator")))
    assert session.scalar(select(func.count()).select_from(RevokedToken)) == 1
    settings = client.app.state.settings  # type: ignore[attr-defined]
    clock.advance(timedelta(minutes=settings.token_minutes + 1))
    client.post("/api/v1/auth/logout", headers=_bearer(token(client, "admin")))
    session.expire_all()
    rows = session.scalars(select(RevokedToken)).all()
    assert len(rows) == 1  # the expired regulator's row is gone, the admin's is kept


def test_web_logout_revokes_the_cookie_token_on_pages_and_api(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    web_login(client, "regulator")
    stolen = client.cookies[COOKIE_NAME]
    r = client.post("/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/v1/auth/me", headers=_bearer(stolen)).status_code == 401
    client.cookies.set(COOKIE_NAME, stolen)  # a copy of the cookie kept elsewhere is dead too
    page = client.get("/elevators", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_password_change_ends_every_token_and_returns_a_fresh_one(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    old_a, old_b = token(client, "regulator"), token(client, "regulator")
    body = {"current_password": PASSWORD, "new_password": "a-new-long-secret"}
    r = client.post("/api/v1/auth/password", headers=_bearer(old_a), json=body)
    assert r.status_code == 200, r.text
    fresh = r.json()["access_token"]
    for old in (old_a, old_b):
        me = client.get("/api/v1/auth/me", headers=_bearer(old))
        assert me.status_code == 401 and "password has changed" in me.json()["detail"]
    assert client.get("/api/v1/auth/me", headers=_bearer(fresh)).status_code == 200
    login = client.post("/api/v1/auth/token", data={"username": "regulator", "password": "a-new-long-secret"})
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "wrong-password", "new_password": "a-new-long-secret"}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "1234567890"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "Regulator"}, "new_password"),
    ],
)
def test_password_change_refusals_name_the_field(
    client: TestClient, session: Session, clock: FixedClock, body: dict[str, str], field: str
) -> None:
    seed(session, clock)
    r = client.post("/api/v1/auth/password", headers=auth(client, Role.REGULATOR), json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_admin_reset_ends_the_users_tokens(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    victim = token(client, "inspector")
    admin = auth(client, Role.ADMIN)
    r = client.post(
        "/api/v1/users/inspector/password", headers=admin, json={"new_password": "reset-by-admin-1"}
    )
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=_bearer(victim)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=admin).status_code == 200
    r = client.post("/api/v1/users/ghost/password", headers=admin, json={"new_password": "reset-by-admin-1"})
    assert r.status_code == 404
    mine = client.post(
        "/api/v1/users/regulator/password",
        headers=auth(client, Role.REGULATOR),
        json={"new_password": "reset-by-admin-1"},
    )
    assert mine.status_code == 403


# ---------------------------------------------------------------- password policy


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("12345678", "at least 10"),
        ("1234567890", "common"),
        ("Password123", "common"),
        ("QWERTYUIOP", "common"),
        ("newbie-user", "username"),
        (" leading-space-pw", "space"),
        ("trailing-space-pw ", "space"),
        ("x" * 257, "at most"),
    ],
)
def test_policy_refuses(password: str, problem: str) -> None:
    found = password_problem(password, "Newbie-User")
    assert found is not None and problem in found


def test_policy_accepts_the_demo_and_test_passwords() -> None:
    for password in ("liftwatch-demo", PASSWORD, "long-password", "inner spaces are fine"):
        assert password_problem(password, "admin") is None
    assert len(common_passwords()) >= 300


@pytest.mark.parametrize(
    "password", ["12345678", "1234567890", "password123", " padded-password ", "newbie-user"]
)
def test_user_creation_refuses_weak_passwords_naming_password(
    client: TestClient, session: Session, clock: FixedClock, password: str
) -> None:
    seed(session, clock)
    body = {"username": "newbie-user", "password": password, "role": "inspector"}
    r = client.post("/api/v1/users", headers=auth(client, Role.ADMIN), json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["password"]


def test_passwords_are_never_stripped(client: TestClient, session: Session, clock: FixedClock) -> None:
    """What was set is what signs in: an inner space is kept, and no space is added or removed at sign-in."""
    seed(session, clock)
    create_user(
        session,
        SYSTEM_ACTOR,
        UserCreate(username="spacey", password="open sesame please", role=Role.INSPECTOR),
        clock,
    )
    session.commit()
    ok = client.post("/api/v1/auth/token", data={"username": "spacey", "password": "open sesame please"})
    assert ok.status_code == 200
    for typed in (" open sesame please", "open sesame please ", "opensesameplease"):
        r = client.post("/api/v1/auth/token", data={"username": "spacey", "password": typed})
        assert r.status_code == 401, typed
