"""The cost-disclosure screens: the use unit's ledger (an entry typed in yuan, a refused field at the field,
the contract fees' button, a reversal, publishing only with the confirmation ticked), scope (another unit's
ledger 404, a maintenance unit 403), the regulator's overview with its district filter, and the public page
in Chinese and English with the published figures and no person."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.costs import service
from liftwatch.costs.domain import AdvertisingUse, HalfYear
from tests.unit.costs.city import A1, SETTINGS, cost_city
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


LEDGER = "/costs/ledgers/UU-A"


def _no_raw(page: str, where: str) -> None:
    assert_no_raw_keys(page, where)
    assert not re.findall(r"\bcost\.[a-z_]+", visible(page)), where


def _entry(client: TestClient, **fields: str) -> httpx.Response:
    data = {"period": "2026-H2", "kind": "advertising_income", "amount": "3000", "on": "2026-11-01"}
    return client.post(f"{LEDGER}/entries", data={**data, **fields}, follow_redirects=False)


def test_the_use_units_ledger(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    order = cost_city(session, clock)
    web_login(client, "owner_a")
    home = client.get("/costs", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == LEDGER
    page = client.get(LEDGER)
    assert page.status_code == 200 and "电梯费用台账" in page.text and 'id="entry-form"' in page.text
    assert 'id="nav-costs"' in page.text
    _no_raw(page.text, "ledger")

    r = _entry(client, receipt="FP-001", note="分众传媒")
    assert r.status_code == 303 and "done=cost.done_entry" in r.headers["location"]
    page = client.get(r.headers["location"]).text
    assert 'data-fen="300000"' in page and "3000.00" in page and "轿厢广告收益" in page
    assert 'id="summary-advertising">3000.00<' in page
    again = _entry(client, receipt="FP-001", amount="1")
    assert "done=cost.done_same" in again.headers["location"]

    bad = _entry(client, amount="12.345", receipt="FP-002")
    assert bad.status_code == 422 and 'id="err-amount_fen"' in bad.text
    neither = _entry(client)
    assert neither.status_code == 422 and 'id="err-source_ref"' in neither.text
    repair = _entry(client, kind="repair", amount="800.5", work_order_id=str(order))
    assert repair.status_code == 303

    booked = client.post(f"{LEDGER}/book-contracts", data={"period": "2026-H1"}, follow_redirects=False)
    assert booked.status_code == 303 and "n=2" in booked.headers["location"]
    h1 = client.get(booked.headers["location"]).text
    assert "维保费" in h1 and "5950.68" in h1 and "非住宅" in h1  # A1's fee; A2 (an office) kept apart

    first = service.list_entries(session, people["owner_a"], "UU-A", HalfYear(2026, 2))[-1]
    rev = client.post(
        f"{LEDGER}/entries/{first.id}/reverse",
        data={"period": "2026-H2", "note": "合同作废"},
        follow_redirects=False,
    )
    assert rev.status_code == 303
    h2 = client.get(rev.headers["location"]).text
    assert "冲销第" in h2 and "-3000.00" in h2 and 'id="summary-advertising">0.00<' in h2

    data = {"period": "2026-H1", "advertising_use": "repair_fund"}
    unconfirmed = client.post(f"{LEDGER}/publish", data=data, follow_redirects=False)
    assert unconfirmed.status_code == 422 and 'id="err-confirm"' in unconfirmed.text
    assert 'id="publish-form"' not in client.get(f"{LEDGER}?period=2026-H2").text  # H2 has not ended
    done = client.post(f"{LEDGER}/publish", data={**data, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert 'id="summary-published"' in page and 'id="publish-form"' not in page
    assert 'data-period="2026-H1"' in page
    _no_raw(page, "published ledger")


def test_scope_of_the_screens(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    cost_city(session, clock)
    web_login(client, "owner_b")
    assert client.get(LEDGER).status_code == 404
    assert client.post(f"{LEDGER}/book-contracts", data={"period": "2026-H1"}).status_code == 404
    web_login(client, "maint_a")
    assert client.get("/costs").status_code == 403 and client.get(LEDGER).status_code == 403
    web_login(client, "regulator")
    page = client.get(LEDGER).text
    assert "电梯费用台账" in page and 'id="entry-form"' not in page and 'id="book-form"' not in page
    assert client.post(f"{LEDGER}/book-contracts", data={"period": "2026-H1"}).status_code == 403


def test_the_regulators_overview(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    cost_city(session, clock)
    service.book_contracts(session, people["admin"], None, HalfYear(2026, 1), clock, SETTINGS)
    service.publish(
        session, people["owner_a"], "UU-A", HalfYear(2026, 1), AdvertisingUse.REPAIR_FUND, clock, SETTINGS
    )
    session.commit()
    web_login(client, "regulator")
    page = client.get("/costs?period=2026-H1").text
    assert "电梯费用公开监管" in page and 'id="count-overdue" class="cost-late">1<' in page
    assert 'data-unit="UU-B" data-overdue="yes"' in page and 'data-unit="UU-A" data-overdue="no"' in page
    _no_raw(page, "overview")
    only = client.get("/costs", params={"period": "2026-H1", "district": "静安区"}).text
    assert 'data-unit="UU-A"' in only and 'data-unit="UU-B"' not in only


def test_the_public_page_in_chinese_and_english(
    client: TestClient, session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    cost_city(session, clock)
    owner = people["owner_a"]
    service.book_contracts(session, owner, "UU-A", HalfYear(2026, 1), clock, SETTINGS)
    service.publish(session, owner, "UU-A", HalfYear(2026, 1), AdvertisingUse.REPAIR_FUND, clock, SETTINGS)
    session.commit()
    passenger = client.get(f"/p/{A1}").text
    assert f'href="/public/costs?q={A1}"' in passenger
    page = client.get("/public/costs", params={"q": "100001"})
    assert page.status_code == 200
    text = page.text
    assert (
        "静安物业管理有限公司" in text
        and "2026-H1" in text
        and "5950.68" in text
        and "补充专项维修资金" in text
    )
    assert "owner_a" not in text and "021-5555" not in text and 'id="current-user"' not in text
    _no_raw(text, "public")
    client.cookies.set("lang", "en")
    english = client.get("/public/costs", params={"q": "静安物业"}).text
    assert (
        "Elevator cost disclosure" in english
        and "Added to the repair fund" in english
        and "5950.68" in english
    )
    assert "owner_a" not in english
    assert 'id="public-costs-empty"' in client.get("/public/costs", params={"q": "100004"}).text
