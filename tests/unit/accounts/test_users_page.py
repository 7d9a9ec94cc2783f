"""User administration (/admin/users, admins only): create an account with the password policy and the
unit fitting the role; disable one (its sign-in and its tokens stop at once) and enable it again; reset a
password; change a role and unit; an admin keeps their own account and role. Refusals are named in
Chinese beside their field."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts import service
from liftwatch.accounts.actor import Actor, Role
from liftwatch.accounts.models import User
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput
from tests.factories import PASSWORD, auth, seed, token
from tests.unit.web.forms import post_login, web_login

pytestmark = pytest.mark.sqlite_only

ADMIN = Actor("admin", Role.ADMIN)
NEW_PASSWORD = "Lift-watch-2026-new"


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def account(session: Session, username: str) -> User:
    session.expire_all()
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def test_the_service_disables_changes_roles_and_guards_the_admin(session: Session, seeded: None) -> None:
    with pytest.raises(Forbidden):
        service.set_active(session, Actor("regulator", Role.REGULATOR), "maint_a", False)
    with pytest.raises(Conflict):
        service.set_active(session, ADMIN, "admin", False)
    with pytest.raises(Conflict):
        service.change_role(session, ADMIN, "admin", Role.REGULATOR, None)
    assert service.set_active(session, ADMIN, "maint_a", False).active is False
    with pytest.raises(InvalidInput, match="unit"):
        service.change_role(session, ADMIN, "regulator", Role.MAINTENANCE, None)  # unit staff need a unit
    with pytest.raises(InvalidInput, match="expected"):
        service.change_role(session, ADMIN, "regulator", Role.MAINTENANCE, "UU-A")  # a use unit
    moved = service.change_role(session, ADMIN, "regulator", Role.MAINTENANCE, "MU-B")
    assert (moved.role, moved.unit_id is not None) == ("maintenance", True)
    assert service.change_role(session, ADMIN, "regulator", Role.REGULATOR, "").unit_id is None


def test_only_admins_open_the_page(client: TestClient, seeded: None) -> None:
    web_login(client, "regulator")
    assert client.get("/admin/users").status_code == 403
    client.cookies.clear()
    web_login(client, "admin")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "用户管理" in page.text and 'data-user="maint_a"' in page.text


def test_create_disable_enable_reset_and_change_role(
    client: TestClient, session: Session, seeded: None
) -> None:
    web_login(client, "admin")
    bad = client.post(
        "/admin/users", data={"username": "a b", "password": "short", "role": "maintenance", "unit": ""}
    )
    assert bad.status_code == 422
    errors = dict(re.findall(r'<p class="field-error" id="err-u-([a-z_]+)">([^<]+)</p>', bad.text))
    assert set(errors) >= {"username", "password"} and errors["username"].startswith("用户名无效")
    made = client.post(
        "/admin/users",
        data={
            "username": "crew_new",
            "full_name": "新维保员",
            "password": PASSWORD,
            "role": "maintenance",
            "unit": "MU-A",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert "已创建用户 crew_new" in client.get(made.headers["location"]).text
    assert (
        client.post(
            "/admin/users", data={"username": "crew_new", "password": PASSWORD, "role": "regulator"}
        ).status_code
        == 409
    )

    bearer = {"Authorization": f"Bearer {token(client, 'crew_new')}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    off = client.post("/admin/users/crew_new/active", data={"active": "0"}, follow_redirects=False)
    assert off.status_code == 303 and account(session, "crew_new").active is False
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401  # its token stops at once
    assert post_login(TestClient(client.app), "crew_new").status_code != 303  # and it cannot sign in
    on = client.post("/admin/users/crew_new/active", data={"active": "1"}, follow_redirects=False)
    assert on.status_code == 303 and account(session, "crew_new").active is True

    weak = client.post("/admin/users/crew_new/password", data={"new_password": "123"})
    assert weak.status_code == 422 and "密码不符合要求" in weak.text
    reset = client.post(
        "/admin/users/crew_new/password", data={"new_password": NEW_PASSWORD}, follow_redirects=False
    )
    assert reset.status_code == 303
    assert post_login(TestClient(client.app), "crew_new", NEW_PASSWORD).status_code == 303

    wrong = client.post("/admin/users/crew_new/role", data={"role": "insurer", "unit": "MU-A"})
    assert wrong.status_code == 422 and "单位代码无效，或单位类型与角色不符" in wrong.text
    moved = client.post(
        "/admin/users/crew_new/role", data={"role": "regulator", "unit": ""}, follow_redirects=False
    )
    assert moved.status_code == 303 and account(session, "crew_new").role == "regulator"
    mine = client.post("/admin/users/admin/active", data={"active": "0"})
    assert mine.status_code == 409 and "不能停用自己的账号" in mine.text


def test_the_api_disables_and_gives_another_role(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    """POST /api/v1/users/{username}/active and /role: as the page (admins; not their own account)."""
    seed(session, clock)
    session.commit()
    admin = auth(client, Role.ADMIN)
    r = client.post("/api/v1/users/maint_a/role", json={"role": "use_unit", "unit": "UU-A"}, headers=admin)
    assert r.status_code == 200 and (r.json()["role"], r.json()["unit"]) == ("use_unit", "UU-A")
    bad = client.post("/api/v1/users/maint_a/role", json={"role": "use_unit", "unit": "MU-A"}, headers=admin)
    assert bad.status_code == 422  # a maintenance unit is no use unit's
    r = client.post("/api/v1/users/maint_a/active", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.post("/api/v1/users/admin/active", json={"active": False}, headers=admin).status_code == 409
    regulator = auth(client, Role.REGULATOR)
    assert (
        client.post("/api/v1/users/maint_a/active", json={"active": True}, headers=regulator).status_code
        == 403
    )
