"""The complaint screens: the centre's list (filtered, the complainant masked) and intake form, a unit's
list and answer form without the complainant, the verifier's verdict, and the passenger's public form with
its guards (honeypot, too fast, rate limits, duplicates; each a 4xx page with its reason) and the receipt
page that shows the state only. Complaints are made through the service or the forms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.complaints import service
from liftwatch.complaints.workflow import Category, Channel, ComplaintSettings
from liftwatch.core.clock import FixedClock
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


NAME, PHONE = "李四光", "13900001111"
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def _intake(session: Session, who: Actor, clock: FixedClock, ref: str, code: str = "11SHA000001") -> int:
    data = service.Intake(
        Channel.HOTLINE_12345, ref, Category.NOISE, "电梯异响很大，晚上尤其明显", code=code,
        complainant_name=NAME, complainant_phone=PHONE,
    )  # fmt: skip
    out = service.intake(session, who, data, clock)
    session.commit()
    return out.complaint.id


def _no_raw(page: str, where: str) -> None:
    assert_no_raw_keys(page, where)
    assert not re.findall(r"\bcp\.[a-z_]+", visible(page)), where


def test_the_centre_list_masks_and_the_unit_never_sees_the_complainant(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    mine = _intake(session, people["operator"], clock, "A-1")
    other = _intake(session, people["operator"], clock, "B-1", code="11SHB000003")
    web_login(client, "regulator")
    page = client.get("/complaints")
    assert page.status_code == 200 and 'id="nav-complaints"' in page.text
    assert f'data-complaint="{mine}"' in page.text and f'data-complaint="{other}"' in page.text
    assert "李**" in page.text and "139****1111" in page.text and PHONE not in page.text
    assert "异响抖动" in page.text and "12345热线" in page.text and "已转办" in page.text
    _no_raw(page.text, "list")
    only = client.get("/complaints?district=徐汇区").text
    assert f'data-complaint="{other}"' in only and f'data-complaint="{mine}"' not in only
    assert 'id="err-state"' in client.get("/complaints?state=nonsense").text
    detail = client.get(f"/complaints/{mine}").text
    assert NAME in detail and PHONE in detail  # the centre reads them in full on the complaint itself

    web_login(client, "maint_a")
    page = client.get("/complaints")
    assert f'data-complaint="{mine}"' in page.text and f'data-complaint="{other}"' not in page.text
    assert "李" not in visible(page.text) and "1111" not in page.text
    detail = client.get(f"/complaints/{mine}")
    assert detail.status_code == 200 and 'id="answer-form"' in detail.text
    assert NAME not in detail.text and PHONE not in detail.text and "李**" not in detail.text
    assert client.get(f"/complaints/{other}").status_code == 404
    assert client.get("/complaints/new").status_code == 403
    # an empty answer is shown at the field; a real one moves it on
    r = client.post(f"/complaints/{mine}/answer", data={"answer": " "})
    assert r.status_code == 422 and 'id="err-answer"' in r.text
    r = client.post(f"/complaints/{mine}/answer", data={"answer": "已更换导靴"}, follow_redirects=False)
    assert r.status_code == 303

    web_login(client, "regulator")
    detail = client.get(f"/complaints/{mine}").text
    assert 'id="verdict-form"' in detail and 'id="open-hazard"' in detail and "已更换导靴" in detail
    r = client.post(f"/complaints/{mine}/verdict", data={"decision": "founded", "note": ""})
    assert r.status_code == 422 and 'id="err-note"' in r.text
    r = client.post(
        f"/complaints/{mine}/verdict",
        data={"decision": "founded", "note": "现场核实属实", "open_hazard": "1", "level": "general"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    detail = client.get(f"/complaints/{mine}").text
    assert 'id="hazard-link"' in detail and "属实" in detail
    _no_raw(detail, "detail")

    web_login(client, "inspector")
    assert client.get("/complaints").status_code == 403


def test_the_centre_takes_a_complaint_in_once(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    web_login(client, "operator")
    form = client.get("/complaints/new")
    assert form.status_code == 200 and 'id="intake-form"' in form.text
    _no_raw(form.text, "new")
    data = {
        "channel": "wechat",
        "external_ref": "",
        "category": "fees",
        "code": "100003",
        "unit": "",
        "text": "物业收取电梯使用费不合理",
        "name": "王五",
        "phone": "13700000000",
        "nonce": "n-1",
    }
    r = client.post("/complaints/new", data=data, follow_redirects=False)
    assert r.status_code == 303
    again = client.post("/complaints/new", data=data, follow_redirects=False)
    assert again.headers["location"] == r.headers["location"]  # the form sent twice is one complaint
    detail = client.get(r.headers["location"]).text
    assert "UU-B" in detail or "徐汇置业" in detail  # fees: the use unit's
    bad = client.post("/complaints/new", data={**data, "code": "NOPE", "nonce": "n-2"})
    assert bad.status_code == 422 and 'id="err-code"' in bad.text


def _form(client: TestClient, code: str = "100001") -> str:
    page = client.get(f"/public/elevators/{code}/complaint")
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found
    return found.group(1)


def _send(client: TestClient, token: str, text: str, code: str = "100001", **extra: str) -> object:
    data = {"category": "noise", "text": text, "phone": "", "token": token, "website": "", **extra}
    return client.post(f"/public/elevators/{code}/complaint", data=data, follow_redirects=False)


def test_the_public_form_guards_and_the_receipt_shows_no_personal_data(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    public = client.get("/p/100001").text
    assert 'href="/public/elevators/100001/complaint"' in public
    page = client.get("/public/elevators/100001/complaint").text
    assert 'name="website"' in page and "96333" in page
    _no_raw(page, "public form")

    token = _form(client)
    too_fast = _send(client, token, "电梯门关得太快夹人")
    assert too_fast.status_code == 400 and "提交过快" in too_fast.text  # type: ignore[attr-defined]
    clock.advance(timedelta(seconds=10))
    bot = _send(client, token, "电梯门关得太快夹人", website="http://spam")
    assert bot.status_code == 400 and 'id="complaint-refused"' in bot.text  # type: ignore[attr-defined]
    elsewhere = client.post(
        "/public/elevators/100001/complaint",
        data={"category": "noise", "text": "电梯门关得太快夹人", "phone": "", "token": token, "website": ""},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 403  # another site's page may not post it, even with a valid token
    forged = _send(client, token[:-2] + "xx", "电梯门关得太快夹人")
    assert forged.status_code == 400 and "表单已失效" in forged.text  # type: ignore[attr-defined]
    short = _send(client, token, "坏")
    assert short.status_code == 422 and 'id="err-text"' in short.text  # type: ignore[attr-defined]

    ok = _send(client, token, "电梯门关得太快夹人", phone="13611112222")
    assert ok.status_code == 303  # type: ignore[attr-defined]
    where = ok.headers["location"]  # type: ignore[attr-defined]
    assert _send(client, token, "电梯门关得太快夹人").headers["location"] == where  # type: ignore[attr-defined]
    receipt = client.get(where)
    assert receipt.status_code == 200 and 'id="complaint-receipt"' in receipt.text
    assert "已受理" in receipt.text and "异响抖动" in receipt.text
    assert "13611112222" not in receipt.text and "夹人" not in receipt.text
    _no_raw(receipt.text, "receipt")
    number = where.split("/")[-1].split("?")[0]
    assert client.get(f"/public/complaints?receipt={number.lower()}").status_code == 200
    assert client.get("/public/complaints/TSNOTHING").status_code == 404

    # the same text about the same elevator again: refused as a duplicate
    token = _form(client)
    clock.advance(timedelta(seconds=10))
    dup = _send(client, token, "电梯门关得太快 夹人")
    assert dup.status_code == 409 and "相同内容" in dup.text  # type: ignore[attr-defined]

    # the centre sees it waiting, with the phone; a unit never
    web_login(client, "operator")
    listed = client.get("/complaints?channel=public_page").text
    assert "轿厢扫码" in listed and "136****2222" in listed
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)

    # per address: 3 an hour by default
    for n in range(2):
        token = _form(client, "100002")
        clock.advance(timedelta(seconds=10))
        assert _send(client, token, f"轿厢照明不亮第{n}次", code="100002").status_code == 303  # type: ignore[attr-defined]
    token = _form(client, "100002")
    clock.advance(timedelta(seconds=10))
    many = _send(client, token, "轿厢照明还是不亮", code="100002")
    assert many.status_code == 429 and "一小时后" in many.text  # type: ignore[attr-defined]
    clock.advance(timedelta(hours=1))
    token = _form(client, "100002")
    clock.advance(timedelta(seconds=10))
    assert _send(client, token, "轿厢照明还是不亮", code="100002").status_code == 303  # type: ignore[attr-defined]


def test_the_public_form_per_elevator_limit_and_english(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    client.app.state.complaint_settings = ComplaintSettings(  # type: ignore[attr-defined]
        public_per_elevator_hour=1, public_per_address_hour=100
    )
    client.cookies.set("lang", "en")
    token = _form(client, "100003")
    clock.advance(timedelta(seconds=10))
    assert _send(client, token, "The escalator shakes badly", code="100003").status_code == 303  # type: ignore[attr-defined]
    token = _form(client, "100003")
    clock.advance(timedelta(seconds=10))
    flood = _send(client, token, "Handrail is broken", code="100003")
    assert flood.status_code == 429 and "many complaints in the last hour" in flood.text  # type: ignore[attr-defined]
    page = client.get("/public/elevators/100003/complaint").text
    assert "Complain about this elevator" in page and "Leave this empty" in page
    _no_raw(page, "public form en")


def test_the_reports_page_shows_the_complaint_rate_to_the_centre(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _intake(session, people["operator"], clock, "K-1")
    _intake(session, people["operator"], clock, "K-2", code="11SHB000003")
    web_login(client, "regulator")
    page = client.get("/reports").text
    card = page[page.index('id="complaint-kpi"') :]
    assert 'data-complaints="2"' in card and "投诉率" in card and 'id="cp-kpi-rate"' in card
    web_login(client, "maint_a")
    assert 'id="complaint-kpi"' not in client.get("/reports").text
