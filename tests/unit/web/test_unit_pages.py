"""Registering and changing units on screen (/units/new, /units/{code}/edit): a regulator registers a unit
(a taken code and an empty name refused beside their fields in Chinese) and changes it; a unit's own staff
change its contact only; other units' staff cannot."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.registry import queries
from tests.factories import seed
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only

UNIT = {
    "code": "913101067989991234",
    "unit_type": "use_unit",
    "name": "长宁新华物业有限公司",
    "contact_name": "王经理",
    "contact_phone": "021-62220000",
    "district": "长宁区",
}


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="err-([a-z_]+)">([^<]+)</p>', html))


def test_a_regulator_registers_and_changes_a_unit(client: TestClient, session: Session, seeded: None) -> None:
    web_login(client, "regulator")
    assert 'id="unit-new"' in client.get("/units").text and "登记单位" in client.get("/units/new").text
    bad = client.post("/units/new", data={**UNIT, "code": "UU-A", "name": ""})
    assert bad.status_code == 422 and "name" in errors(bad.text)
    taken = client.post("/units/new", data={**UNIT, "code": "UU-A"})
    assert taken.status_code == 409 and "code" in errors(taken.text)
    r = client.post("/units/new", data=UNIT, follow_redirects=False)
    assert r.status_code == 303
    assert "单位已登记。" in client.get(r.headers["location"]).text
    r = client.post(
        f"/units/{UNIT['code']}/edit", data={**UNIT, "contact_phone": "021-62221111"}, follow_redirects=False
    )
    assert r.status_code == 303
    session.expire_all()
    unit = queries.unit_by_code(session, UNIT["code"])
    assert unit is not None and unit.name == UNIT["name"]


def test_unit_staff_change_their_own_units_contact_only(
    client: TestClient, session: Session, seeded: None
) -> None:
    web_login(client, "owner_b")
    page = client.get("/units/UU-B").text
    assert 'id="unit-edit"' in page
    form = client.get("/units/UU-B/edit").text
    assert 'id="f-contact_phone"' in form and 'id="f-name"' not in form
    r = client.post(
        "/units/UU-B/edit",
        data={"contact_name": "李主任", "contact_phone": "021-1234"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get("/units/new").status_code == 403
    assert client.get("/units/UU-A/edit").status_code == 404
