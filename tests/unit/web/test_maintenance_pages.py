"""Maintenance pages (/maintenance): who sees which work orders (the assigned worker and their unit; another
unit's staff get 404; a use unit sees the visits to its elevators only), the worker's steps through the
page's forms with the refusals shown beside their fields in Chinese, the signed record read-only with an
amendment, the use unit's sign-off, the elevator file's section, and no raw key on a Chinese page. Work
orders are opened through maintenance.service, as the planner does."""

from __future__ import annotations

import html
import re
import struct
import zlib
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance import service
from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import Appendix, Evidence, Interval
from liftwatch.maintenance.workflow import WorkOrderSource
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.unit.web.forms import web_login

A1, B3 = "11SHA000001", "11SHB000003"
TODAY = date(2026, 11, 23)  # tests.conftest.NOW in Shanghai
SETTINGS = Settings()
RAW_KEY = re.compile(r"\b(?:mnt|nav|common|file)\.[a-z_]+")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
USERNAMES = ("maint_a2", "maint_a", "maint_b", "owner_a", "owner_b")
ITEMS = load_catalogue().items_due(Appendix.A, Interval.HALF_MONTH)
MEASURED = [i.code for i in ITEMS if i.evidence is Evidence.MEASUREMENT]


def png() -> bytes:
    """A real 1 x 1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def visible(page: str) -> str:
    """The text a reader sees (no tags, scripts or usernames)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    for name in USERNAMES:
        text = text.replace(name, "")
    return text


def assert_no_raw_keys(page: str, where: str) -> None:
    text = visible(page)
    assert not RAW_KEY.findall(text), (where, RAW_KEY.findall(text))
    assert not SNAKE.findall(text), (where, SNAKE.findall(text))


def open_visit(session: Session, people: dict[str, Actor], clock: FixedClock, code: str, worker: str) -> int:
    unit_actor = people[worker]
    order = service.open_preventive(session, unit_actor, code, TODAY, Interval.HALF_MONTH, clock, SETTINGS)
    service.assign(session, unit_actor, order.work_order.id, worker, clock)
    session.commit()
    return order.work_order.id


def ids(pattern: str, page: str) -> set[int]:
    return {int(x) for x in re.findall(pattern, page)}


def test_the_scan_catches_raw_keys() -> None:
    assert RAW_KEY.findall("工单 mnt.order_no") == ["mnt.order_no"]
    assert SNAKE.findall("状态 in_progress") == ["in_progress"]
    assert visible("<p data-x='a_b'>工单 maint_a</p>").strip() == "工单"


def test_each_role_sees_its_own_work_orders_only(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    mine = open_visit(session, people, clock, A1, "maint_a")
    theirs = open_visit(session, people, clock, B3, "maint_b")

    web_login(client, "maint_a")
    page = client.get("/maintenance")
    assert page.status_code == 200
    assert ids(r'id="wo-(\d+)"', page.text) == {mine}
    assert 'data-today="true"' in page.text and "我的维保工单" in page.text
    assert 'id="nav-maintenance"' in page.text
    assert_no_raw_keys(page.text, "worker list")
    order_page = client.get(f"/maintenance/work-orders/{mine}")
    assert order_page.status_code == 200 and 'data-step="check_in"' in order_page.text
    assert_no_raw_keys(order_page.text, "work order")
    assert client.get(f"/maintenance/work-orders/{theirs}").status_code == 404
    assert client.get("/maintenance/visits").status_code == 403

    web_login(client, "maint_a2")  # same unit, not the assignee: sees it, no step to take
    page = client.get(f"/maintenance/work-orders/{mine}")
    assert page.status_code == 200 and 'data-step=""' in page.text
    assert ids(r'id="wo-(\d+)"', client.get("/maintenance").text) == set()

    web_login(client, "maint_b")
    assert client.get(f"/maintenance/work-orders/{mine}").status_code == 404

    web_login(client, "owner_a")
    visits = client.get("/maintenance/visits")
    assert visits.status_code == 200 and ids(r'id="visit-(\d+)"', visits.text) == {mine}
    assert 'id="nav-visits"' in visits.text
    assert_no_raw_keys(visits.text, "visits")
    assert client.get("/maintenance").status_code == 403

    web_login(client, "owner_b")
    assert ids(r'id="visit-(\d+)"', client.get("/maintenance/visits").text) == {theirs}
    assert client.get(f"/maintenance/work-orders/{mine}").status_code == 404

    web_login(client, "operator")
    assert client.get("/maintenance/visits").status_code == 403
    assert client.get("/maintenance").status_code == 403


def _all_ok(values: dict[str, str]) -> dict[str, str]:
    data = {f"result-{i.code}": "ok" for i in ITEMS}
    data.update({f"value-{code}": v for code, v in values.items()})
    return data


def test_a_visit_through_the_forms_from_check_in_to_sign_off(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    wo = open_visit(session, people, clock, A1, "maint_a")
    base = f"/maintenance/work-orders/{wo}"
    web_login(client, "maint_a")

    # check in: the refusals are beside their fields, in Chinese
    r = client.post(f"{base}/check-in", data={"latitude": "", "longitude": "", "scanned_code": "100001"})
    assert r.status_code == 422 and 'id="err-position"' in r.text and "请填写位置" in r.text
    r = client.post(
        f"{base}/check-in", data={"latitude": "31.23", "longitude": "121.47", "scanned_code": "100002"}
    )
    assert r.status_code == 422 and 'id="err-scanned_code"' in r.text and "不是这台电梯的" in r.text
    assert 'value="100002"' in r.text  # what was typed stays
    r = client.post(
        f"{base}/check-in",
        data={"latitude": "31.23", "longitude": "121.47", "scanned_code": "100001"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(base).text
    assert 'data-step="work"' in page and f'data-total="{len(ITEMS)}"' in page
    assert_no_raw_keys(page, "checklist")

    # the checklist: a measurement is required, and must be a number
    r = client.post(f"{base}/items", data=_all_ok({}))
    assert r.status_code == 422 and f'id="err-value-{MEASURED[0]}"' in r.text and "此项须填写测量值" in r.text
    r = client.post(f"{base}/items", data=_all_ok({code: "三" for code in MEASURED}))
    assert r.status_code == 422 and "请填写数字" in r.text
    values = {code: "7.5" for code in MEASURED}
    data = {**_all_ok(values), "part_name": "层门滑块", "part_quantity": "2"}
    assert client.post(f"{base}/items", data=data, follow_redirects=False).status_code == 303
    page = client.get(base).text
    assert f'data-done="{len(ITEMS)}"' in page and "层门滑块 × 2" in page

    # a photo: a PNG is kept, anything else refused beside the field
    r = client.post(
        "/maintenance/photos",
        data={"work_order_id": str(wo)},
        files={"photo": ("a.txt", b"hi", "text/plain")},
    )
    assert r.status_code == 415 and 'id="err-photo"' in r.text
    r = client.post(
        "/maintenance/photos",
        data={"work_order_id": str(wo)},
        files={"photo": ("car.png", png(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    photo = re.search(r'data-attachment="(\d+)"', client.get(base).text)
    assert photo and client.get(f"/maintenance/photos/{photo.group(1)}").content == png()

    # check out, sign: the record is read-only from now on
    r = client.post(
        f"{base}/check-out", data={"latitude": "31.23", "longitude": "121.47"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.post(f"{base}/sign", follow_redirects=False).status_code == 303
    page = client.get(base).text
    assert 'id="items-form"' not in page and 'data-signed="true"' in page and 'id="amend"' in page
    assert client.post(f"{base}/items", data=_all_ok(values)).status_code == 409

    # the elevator file lists the order and its signed record
    file_page = client.get(f"/elevators/{A1}").text
    assert 'id="file-maintenance"' in file_page and f'data-work-order="{wo}"' in file_page
    assert "data-record=" in file_page and "维保记录" in file_page
    assert_no_raw_keys(file_page.split('id="file-maintenance"')[1].split("</section>")[0], "file section")

    # an amendment needs its reason, and is a new record
    r = client.post(f"{base}/amend", data={"reason": "", f"result-{ITEMS[0].code}": "fixed"})
    assert r.status_code == 422 and 'id="err-reason"' in r.text
    r = client.post(
        f"{base}/amend",
        data={"reason": "照片补拍", f"result-{ITEMS[0].code}": "fixed"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(base).text
    assert len(re.findall(r'class="mnt-record" id="record-', page)) == 2 and "照片补拍" in page

    # the use unit signs it off from its visits list
    web_login(client, "owner_a")
    visits = client.get("/maintenance/visits").text
    assert f'id="confirm-{wo}"' in visits and 'data-signed="true"' in visits
    r = client.post(f"{base}/confirm", data={"note": "已查看", "back": "visits"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/maintenance/visits#visit-{wo}"
    visits = client.get("/maintenance/visits").text
    assert f'id="confirm-{wo}"' not in visits and "mnt-confirmed" in visits
    assert client.post(f"{base}/confirm", data={}).status_code == 409

    # English on request
    client.cookies.set("lang", "en")
    assert "Maintenance visits" in client.get("/maintenance/visits").text


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf"])
def test_a_position_must_be_a_finite_number(text: str) -> None:
    from liftwatch.web.maintenance import parse_number

    assert parse_number(text) is None
    assert parse_number(" 31,5 ") == 31.5


def test_a_corrective_order_has_no_planned_items(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    out = service.open_corrective(
        session, people["admin"], A1, WorkOrderSource.FAULT, "F-9", "门锁故障", clock, SETTINGS
    )
    service.assign(session, people["maint_a"], out.work_order.id, "maint_a", clock)
    service.check_in(session, people["maint_a"], out.work_order.id, 31.2, 121.4, "100001", clock)
    session.commit()
    web_login(client, "maint_a")
    page = client.get(f"/maintenance/work-orders/{out.work_order.id}").text
    assert 'id="no-checklist"' in page and "门锁故障" in page
