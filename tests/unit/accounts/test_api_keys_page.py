"""The admins' page of gateway API keys, through the app as a browser uses it (cookie sign-in, forms, htmx):
Chinese first, the whole key on the creation's answer only, revocation, and nobody else gets in."""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.models import ApiKey
from liftwatch.accounts.service import authenticate_api_key
from liftwatch.core.clock import FixedClock
from tests.factories import seed
from tests.unit.web.forms import web_login

PAGE = "/admin/api-keys"
HX = {"HX-Request": "true"}


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def login(client: TestClient, username: str) -> None:
    web_login(client, username)


def _keys_shown(html: str) -> list[str]:
    """Whole keys anywhere on a page: a prefix followed by its secret."""
    return re.findall(r"lwk_[a-z0-9]{8}_[A-Za-z0-9_\-]{20,}", html)


def test_admin_creates_sees_once_and_revokes_a_key(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    login(client, "admin")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'id="nav-api-keys"' in page.text and 'aria-current="page"' in page.text
    assert (
        "物联网网关 API 密钥" in page.text and "生成密钥" in page.text and "尚未发放任何密钥。" in page.text
    )
    assert '<option value="gateway"' in page.text and '<option value="regulator"' not in page.text

    r = client.post(PAGE, data={"username": "gateway", "name": "徐汇 3 号楼网关", "days": "90"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    (key,) = set(_keys_shown(r.text))
    assert 'id="new-key"' in r.text and "密钥仅显示这一次" in r.text
    assert f'value="{key}"' in r.text
    session.expire_all()
    stored = session.scalars(select(ApiKey)).one()
    assert stored.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert authenticate_api_key(session, key, clock.now())[0].username == "gateway"
    session.rollback()

    # the listing never shows the key again, nor its hash; the row has the prefix, account and state
    page = client.get(PAGE)
    assert _keys_shown(page.text) == [] and stored.secret_hash not in page.text
    assert 'id="new-key"' not in page.text
    row = re.search(rf'<tr data-prefix="{stored.prefix}" data-state="active".*?</tr>', page.text, re.S)
    assert row is not None
    assert "徐汇 3 号楼网关" in row.group(0) and "从未使用" in row.group(0) and "有效" in row.group(0)

    # revoke from the table (htmx): the fragment comes back with the key revoked, and no button
    r = client.post(f"{PAGE}/{stored.prefix}/revoke", headers=HX)
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="api-keys">')
    assert f'data-prefix="{stored.prefix}" data-state="revoked"' in r.text and "已吊销" in r.text
    assert f'id="revoke-{stored.prefix}"' not in r.text
    session.expire_all()
    assert session.scalars(select(ApiKey)).one().revoked_by == "admin"


def test_the_form_names_what_is_wrong_in_chinese(client: TestClient, session: Session, seeded: None) -> None:
    login(client, "admin")
    r = client.post(PAGE, data={"username": "gateway", "name": "  ", "days": ""})
    assert r.status_code == 422
    assert 'id="err-name"' in r.text and "请填写名称" in r.text
    r = client.post(PAGE, data={"username": "regulator", "name": "x", "days": "7"})
    assert r.status_code == 422
    assert "请选择一个启用的网关账号" in r.text and "无效的有效期" in r.text
    assert 'value="x"' in r.text  # what was typed stays
    assert session.scalars(select(ApiKey)).all() == []


def test_english_by_the_switch_and_a_plain_form_revoke(client: TestClient, seeded: None) -> None:
    login(client, "admin")
    client.post(PAGE, data={"username": "gateway", "name": "gw", "days": ""})
    client.get("/lang/en", params={"next": PAGE})
    page = client.get(PAGE)
    assert "IoT gateway API keys" in page.text and "Never used" in page.text and "Until revoked" in page.text
    assert "密钥" not in page.text.replace("中文", "")
    prefix = re.search(r'data-prefix="(lwk_[a-z0-9]{8})"', page.text)
    assert prefix is not None
    r = client.post(f"{PAGE}/{prefix.group(1)}/revoke", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == PAGE
    assert "Revoked" in client.get(PAGE).text


@pytest.mark.parametrize("username", ["regulator", "operator", "maint_a", "gateway"])
def test_only_admins_get_the_page(client: TestClient, session: Session, seeded: None, username: str) -> None:
    login(client, username)
    assert 'id="nav-api-keys"' not in client.get("/elevators").text
    r = client.get(PAGE)
    assert r.status_code == 403
    assert "无权访问" in r.text
    r = client.post(PAGE, data={"username": "gateway", "name": "mine"})
    assert r.status_code == 403
    assert session.scalars(select(ApiKey)).all() == []


def test_signed_out_goes_to_the_login_page(client: TestClient, seeded: None) -> None:
    r = client.get(PAGE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
