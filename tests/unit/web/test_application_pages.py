"""Applications on screen: a use unit files an addition (consent below two thirds refused beside the field
in Chinese), the window's clerk records the departments' decisions and sees a late review listed, the
applicant reports the start of works, the clerk records the acceptance and registers the elevator, whose
file holds the history; the public progress page needs no sign-in; who may file what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from tests.factories import seed
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only

ADDITION = {
    "kind": "addition",
    "title": "曹杨新村12号楼加装电梯",
    "district": "普陀区",
    "address": "兰溪路12号",
    "households": "18",
    "households_consenting": "11",
    "area_m2": "1600",
    "area_consenting_m2": "1200",
    "floors": "6",
    "funding": "owners",
    "budget_yuan": "650000",
}


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def test_an_addition_from_the_form_to_the_registered_file(
    client: TestClient, clock: FixedClock, seeded: None
) -> None:
    web_login(client, "owner_b")
    page = client.get("/applications").text
    assert "一网通办" in page and 'data-kind="addition"' in page
    form = client.get("/applications/new?kind=addition").text
    assert "规划资源部门" in form and "同意的业主户数" in form
    short = client.post("/applications/new", data=ADDITION)
    assert short.status_code == 422
    assert re.search(
        r'id="err-households_consenting">同意的业主未达到人数和面积均占三分之二的要求<', short.text
    )
    r = client.post(
        "/applications/new", data={**ADDITION, "households_consenting": "13"}, follow_redirects=False
    )
    assert r.status_code == 303
    detail = client.get(r.headers["location"]).text
    assert "申请已受理。" in detail and 'data-stage="in_review"' in detail
    path = r.headers["location"].split("?")[0]
    assert (
        client.post(f"{path}/decide", data={"department": "planning", "decision": "approved"}).status_code
        == 403
    )

    web_login(client, "regulator")
    for department in ("planning", "housing"):
        r = client.post(
            f"{path}/decide", data={"department": department, "decision": "approved"}, follow_redirects=False
        )
        assert r.status_code == 303
    clock.advance(timedelta(days=16))  # market supervision's 15 days have passed
    web_login(client, "regulator")  # the sign-in of 16 days ago has expired
    listing = client.get("/applications").text
    assert 'id="late-table"' in listing and 'data-department="market_supervision"' in listing
    detail = client.get(path).text
    assert 'data-department="market_supervision" data-late="yes"' in detail
    client.post(f"{path}/decide", data={"department": "market_supervision", "decision": "approved"})
    assert 'data-stage="approved"' in client.get(path).text

    web_login(client, "owner_b")
    client.post(f"{path}/construction", data={"started_on": clock.today().isoformat()})
    web_login(client, "regulator")
    client.post(f"{path}/acceptance", data={"report": "JY2026-0433", "passed": "1"})
    r = client.post(
        f"{path}/registration",
        data={"registration_code": "31SH0912", "maintenance_unit": "MU-B"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    detail = client.get(r.headers["location"]).text
    assert "已办理使用登记" in detail and 'id="app-elevator"' in detail
    file_page = client.get("/elevators/31SH0912").text
    for kind in (
        "application_submitted",
        "application_reviewed",
        "application_construction",
        "application_completed",
    ):
        assert f'data-kind="{kind}"' in file_page
    assert "部门审查" in file_page and "申请受理" in file_page

    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    public = client.get("/public/additions")
    assert (
        public.status_code == 200 and 'data-district="普陀区"' in public.text and "兰溪路12号" in public.text
    )


def test_who_files_what(client: TestClient, seeded: None) -> None:
    web_login(client, "maint_a")
    page = client.get("/applications").text
    assert re.findall(r'data-kind="([a-z_]+)"', page) == ["construction_notice", "modernisation"]
    assert client.get("/applications/new?kind=addition").status_code == 403
    web_login(client, "operator")
    assert client.get("/applications").status_code == 403
