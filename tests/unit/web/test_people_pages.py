"""Certified workers and drills on screen (/people): a maintenance unit records a certificate (a refused
field named in Chinese), the expiring ones are warned of; a use unit records its drill and the regulator
sees who has not held one; a worker whose certificate was revoked is told so when signing on the work
order page; who may see the page."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderSource
from liftwatch.people import service
from liftwatch.people.domain import Category
from tests.factories import seed
from tests.unit.maintenance.workorder_city import actor
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only

CERT = {
    "number": "TS2024-0007",
    "category": "T",
    "holder_name": "周师傅",
    "unit_code": "MU-A",
    "issued_on": "2023-01-10",
    "expires_on": "2027-01-09",
}


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="err-([a-z_-]+)">([^<]+)</p>', html))


def test_a_unit_records_a_certificate_and_sees_the_expiring_ones(client: TestClient, seeded: None) -> None:
    web_login(client, "maint_a")
    page = client.get("/people").text
    assert (
        "特种设备作业人员证" in page
        and 'data-certificate="TS-MAINT_A"' in page
        and 'id="cert-warning"' not in page
    )
    bad = client.post("/people/certificates", data={**CERT, "number": "", "expires_on": "2022-01-01"})
    assert bad.status_code == 422
    errors = field_errors(bad.text)
    assert errors["certificate-number"] == "请填写证书编号（不超过 40 个字符）"
    r = client.post("/people/certificates", data=CERT, follow_redirects=False)
    assert r.status_code == 303, field_errors(r.text)
    page = client.get(r.headers["location"]).text
    assert "证书已登记。" in page and 'data-certificate="TS2024-0007" data-state="expiring"' in page
    assert "1 张证书将在 90 天内到期，0 张已过期。" in page  # expires 2027-01-09: 47 days after 2026-11-23
    again = client.post("/people/certificates", data=CERT)
    assert again.status_code == 409 and field_errors(again.text)["certificate-number"] == "该证书编号已登记"
    other = client.post("/people/certificates", data={**CERT, "number": "TS-B", "unit_code": "MU-B"})
    assert other.status_code == 404  # MU-B is not maint_a's unit


def test_a_use_unit_records_its_drill_and_the_regulator_sees_who_has_not(
    client: TestClient, seeded: None
) -> None:
    web_login(client, "owner_b")
    assert 'id="missing-table"' in client.get("/people").text  # UU-B owes this year's drill
    drill = {"unit_code": "UU-B", "held_on": "2026-06-01", "scenario": "entrapment", "participants": "12"}
    r = client.post("/people/drills", data=drill, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "演练已登记。" in page and 'id="missing-none"' in page and "困人救援" in page
    web_login(client, "regulator")
    page = client.get("/people").text
    assert re.findall(r'<tr data-unit="([^"]+)">', page) == ["UU-A"]
    web_login(client, "operator")
    assert client.get("/people").status_code == 403


def test_a_revoked_certificate_is_told_when_signing(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    order = maintenance.open_corrective(
        session, SYSTEM_ACTOR, "11SHA000001", WorkOrderSource.FAULT, "F-9", "门锁故障", clock, Settings()
    ).work_order.id
    worker = actor(session, "maint_a", Role.MAINTENANCE, "MU-A")
    maintenance.assign(session, worker, order, "maint_a", clock)
    maintenance.check_in(session, worker, order, 31.23, 121.47, "100001", clock)
    maintenance.check_out(session, worker, order, 31.23, 121.47, clock)
    cert = service.valid_certificate(session, "maint_a", date(2026, 11, 23), Category.ELEVATOR_REPAIR)
    assert cert is not None
    service.revoke_certificate(session, SYSTEM_ACTOR, cert.id, "吊销", clock)
    session.commit()
    web_login(client, "maint_a")
    r = client.post(f"/maintenance/work-orders/{order}/sign")
    assert r.status_code == 409
    assert 'data-why="certificate"' in r.text and "您没有有效的特种设备作业人员证" in r.text
