"""Tokens, users and the error shape of the API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.accounts.models import User
from liftwatch.core.clock import FixedClock
from liftwatch.core.security import create_token, hash_password, verify_password
from tests.factories import PASSWORD, auth, seed, token


def test_password_hash_is_argon2_and_verifies() -> None:
    h = hash_password("s3cret-pass")
    assert h.startswith("$argon2")
    assert verify_password(h, "s3cret-pass")
    assert not verify_password(h, "wrong")
    assert not verify_password("not-a-hash", "s3cret-pass")


def test_token_endpoint_is_oauth2_password_flow(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    r = client.post("/api/v1/auth/token", data={"username": "regulator", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "username": "regulator",
        "full_name": "",
        "role": "regulator",
        "unit": None,
        "active": True,
    }


def test_wrong_password_and_unknown_user_are_401(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    for username, password in (("regulator", "nope-nope"), ("ghost", PASSWORD)):
        r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 401
        assert r.json()["detail"] == "wrong username or password"


def test_missing_form_fields_are_named(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "x"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "password"


def test_bad_expired_and_revoked_tokens_are_401(
    client: TestClient, session: Session, clock: FixedClock, app: object
) -> None:
    seed(session, clock)
    good = token(client, "operator")
    assert client.get("/api/v1/elevators", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    r = client.get("/api/v1/elevators", headers={"Authorization": "Bearer garbage"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    forged = create_token("operator", "another-secret-" + "y" * 40, clock.now(), 60, uid=3)
    assert client.get("/api/v1/elevators", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    clock.advance(timedelta(hours=13))  # default lifetime is 12 h
    assert client.get("/api/v1/elevators", headers={"Authorization": f"Bearer {good}"}).status_code == 401
    clock.advance(timedelta(hours=-13))
    session.execute(update(User).where(User.username == "operator").values(active=False))
    session.commit()
    r = client.get("/api/v1/elevators", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 401
    assert "disabled" in r.json()["detail"]


def test_no_credentials_is_401_with_a_hint(client: TestClient) -> None:
    r = client.get("/api/v1/elevators")
    assert r.status_code == 401
    assert "POST /api/v1/auth/token" in r.json()["detail"]


def test_create_user_checks_unit_and_role(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    h = auth(client, Role.ADMIN)
    cases = [
        ({"username": "m2", "password": "long-password", "role": "maintenance"}, "unit"),
        ({"username": "m2", "password": "long-password", "role": "maintenance", "unit": "UU-A"}, "unit"),
        ({"username": "m2", "password": "long-password", "role": "regulator", "unit": "MU-A"}, "unit"),
        ({"username": "m2", "password": "short", "role": "regulator"}, "password"),
        ({"username": "m 2", "password": "long-password", "role": "regulator"}, "username"),
        ({"username": "m2", "password": "long-password", "role": "public"}, "role"),
        ({"username": "m2", "password": "long-password", "role": "king"}, "role"),
        ({"username": "m2", "password": "long-password", "role": "gateway", "unit": "IB-1"}, "unit"),
        ({"username": "m2", "password": "long-password", "role": "inspector", "unit": "MU-A"}, "unit"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/users", headers=h, json=body)
        assert r.status_code == 422, body
        assert r.json()["errors"][0]["field"] == field, r.json()
    r = client.post(
        "/api/v1/users",
        headers=h,
        json={"username": "m2", "password": "long-password", "role": "maintenance", "unit": "MU-B"},
    )
    assert r.status_code == 201 and r.json()["unit"] == "MU-B"
    for username, role, unit in (  # a unit is optional: gateways, inspectors (of an inspection body)
        ("gw-mu", "gateway", "MU-A"),
        ("gw-uu", "gateway", "UU-B"),
        ("gw-city", "gateway", None),
        ("ib-1", "inspector", "IB-1"),
    ):
        body = {"username": username, "password": "long-password", "role": role, "unit": unit}
        r = client.post("/api/v1/users", headers=h, json=body)
        assert r.status_code == 201 and r.json()["unit"] == unit, r.text
    r = client.post(
        "/api/v1/users", headers=h, json={"username": "m2", "password": "long-password", "role": "inspector"}
    )
    assert r.status_code == 409
    stored = session.scalar(select(User).where(User.username == "m2"))
    assert stored is not None and stored.password_hash.startswith("$argon2")


def test_users_show_the_code_of_their_unit(client: TestClient, session: Session, clock: FixedClock) -> None:
    """Users belong to units by id; the list, /auth/me and the unit of a user name the unit by its code."""
    from liftwatch.accounts.service import unit_of_user, user_count

    seed(session, clock)
    r = client.get("/api/v1/users", headers=auth(client, Role.ADMIN))
    assert r.status_code == 200
    units = {u["username"]: u["unit"] for u in r.json()}
    assert units == {
        "admin": None,
        "regulator": None,
        "operator": None,
        "inspector": None,
        "maint_a": "MU-A",
        "owner_b": "UU-B",
        "gateway": None,
        "insurer_a": "IN-A",
    }
    r = client.get("/api/v1/auth/me", headers=auth(client, Role.USE_UNIT))
    assert r.status_code == 200 and r.json()["unit"] == "UU-B"
    assert unit_of_user(session, "maint_a") == "MU-A"
    assert unit_of_user(session, "admin") is None
    assert unit_of_user(session, "nobody") is None
    assert user_count(session) == len(units)


def test_api_errors_name_the_field(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    h = auth(client, Role.REGULATOR)
    r = client.post(
        "/api/v1/elevators",
        headers=h,
        json={
            "registration_code": "A/B",
            "rescue_code": "12",
            "kind": "rocket",
            "place_type": "office",
            "district": "x",
            "rated_speed_mps": -1,
            "colour": "red",
        },
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"registration_code", "rescue_code", "kind", "rated_speed_mps", "colour"}
    r = client.get("/api/v1/elevators?page=0&kind=rocket", headers=h)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"page", "kind"}
    r = client.patch("/api/v1/elevators/11SHA000001", headers=h, json={"commissioning_date": "1990-01-01"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "commissioning_date"
    r = client.post(
        "/api/v1/elevators",
        headers=h,
        content=b"{not json",
    )
    assert r.status_code == 422
