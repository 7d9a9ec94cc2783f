"""The elevator's public page (/p/{code}, the code in the car): its last maintenance (day and unit, never the
worker), the inspection's valid-until date (overdue marked), the liability insurance (the insurer's name
only), the complaint and 96333 buttons; an unknown code still answers with 96333 and nothing else.

The city is test_public_city's, on the clock's 23 November 2026, worked by hand (yearly inspections, the
default schedule):

- A1 (rescue code 100001): last preventive visit signed on 5 August 2026 (08:00 in Shanghai) by MU-A
  浦江电梯维保有限公司; periodic inspection passed on 10 August 2026, commissioned 2005 (over 15 years: a
  year) -> valid until 2027-08-10; policy of IN-A 申江财产保险上海分公司 for 2026: insured.
- A2: last visit 8 August 2026; passed its re-inspection on 30 August 2026 -> valid until 2027-08-30; its
  only policy ended in 2025: not insured.
- B4: no visit on record; never inspected since its commissioning on 9 September 1998 -> valid until
  1999-09-09, overdue (and its periodic inspection due on 1 November is not signed).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible
from tests.unit.web.test_public_city import PERSONAL, PHONE, city_fixture  # noqa: F401 - fixture

pytestmark = pytest.mark.sqlite_only  # pages: the services behind them are tested on both backends


def fact(page: str, ident: str) -> str:
    m = re.search(rf'id="{ident}"[^>]*>(.*?)</dd>', page, re.S)
    assert m, ident
    return " ".join(visible(m.group(1)).split())


def test_the_elevator_page_discloses_maintenance_inspection_and_insurance(
    client: TestClient, city: Session
) -> None:
    page = client.get("/p/100001")  # no sign-in, by the rescue code in the car
    assert page.status_code == 200
    text = page.text
    assert fact(text, "public-last-maintenance") == "2026-08-05 · 浦江电梯维保有限公司"
    assert 'data-day="2026-08-05"' in text
    assert fact(text, "public-inspection") == "2027-08-10"
    assert 'id="public-inspection-overdue"' not in text
    assert fact(text, "public-insurance") == "在保 · 申江财产保险上海分公司"
    assert 'id="call-96333" href="tel:96333"' in text and "拨打 96333" in text
    assert 'id="public-complain" href="/public/elevators/100001/complaint"' in text
    assert 'href="/public/city"' in text
    assert "PL-11SHA000001" not in text  # the policy's number is not the public's
    assert not any(who in text for who in PERSONAL)
    # the only phone numbers: 96333 and the maintenance unit's service line (a company's, not a person's)
    assert set(PHONE.findall(visible(text))) == {"021-5555A"}
    assert 'id="current-user"' not in text
    assert_no_raw_keys(text, "public elevator")
    # the complaint button leads to the existing form
    assert client.get("/public/elevators/100001/complaint").status_code == 200


def test_an_expired_policy_and_an_overdue_inspection(client: TestClient, city: Session) -> None:
    a2 = client.get("/p/11SHA000002").text
    assert fact(a2, "public-last-maintenance") == "2026-08-08 · 浦江电梯维保有限公司"
    assert fact(a2, "public-inspection") == "2027-08-30"
    assert fact(a2, "public-insurance") == "当前无有效保单"
    assert 'data-insured="no"' in a2
    b4 = client.get("/p/11SHB000004").text
    assert fact(b4, "public-last-maintenance") == "暂无记录"
    assert fact(b4, "public-inspection") == "1999-09-09 检验超期"
    assert 'id="public-inspection-overdue"' in b4


def test_the_elevator_page_in_english(client: TestClient, city: Session) -> None:
    client.get("/lang/en", params={"next": "/p/100001"})
    text = client.get("/p/100001").text
    assert '<html lang="en">' in text
    assert "Last maintenance" in text and "Inspection valid until" in text and "Liability insurance" in text
    assert fact(text, "public-insurance") == "insured · 申江财产保险上海分公司"  # a name stays a name
    assert "Call 96333" in text
    b4 = client.get("/p/11SHB000004").text
    assert fact(b4, "public-inspection") == "1999-09-09 inspection overdue"
    assert fact(b4, "public-last-maintenance") == "none on record"
    assert_no_raw_keys(text, "public elevator (en)")


@pytest.mark.parametrize("code", ["00000", "100009", "x" * 300, "%E2%80%AE"])
def test_an_unknown_code_still_shows_96333(client: TestClient, city: Session, code: str) -> None:
    page = client.get(f"/p/{code}")
    assert page.status_code == 404
    text = page.text
    assert 'id="call-96333" href="tel:96333"' in text and "拨打 96333" in text
    assert "未找到该电梯" in text and 'id="public-unknown-text"' in text
    assert "浦江" not in text and "申城" not in text and "静安" not in text and "徐汇" not in text
    assert not any(who in text for who in PERSONAL)
    assert_no_raw_keys(text, "unknown code")
    client.get("/lang/en", params={"next": "/p/00000"})
    english = client.get(f"/p/{code}").text
    assert "Elevator not found" in english and "Call 96333" in english
    client.get("/lang/zh-CN")
