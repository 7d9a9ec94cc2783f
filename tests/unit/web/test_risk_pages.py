"""The risk grading pages: /risk shows the city's (or a district's) elevators by grade and the top risks
in Chinese (English on request) with no raw key; /risk/elevators/{code} lists every factor with its value
and points, summing to the score; the elevator file shows the grade; only the centre opens /risk and unit
staff read their own elevators' explanation only."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.risk import service
from liftwatch.risk.score import RiskSettings
from tests.conftest import NOW
from tests.factories import seed
from tests.unit.risk.test_queries import A1, B3, _fault, _flag, _order
from tests.unit.web.forms import web_login
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible

RISK_KEY = re.compile(r"\brisk\.[a-z_]+")


def _scored_city(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    _order(session, A1, NOW - timedelta(days=30))
    _flag(session, A1, "confirmed", 20)
    for day in range(1, 6):
        _fault(session, A1, day * 10)
    service.recompute(session, clock, Settings(), RiskSettings())
    session.commit()


def test_the_risk_page_in_chinese_and_english(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    _scored_city(session, clock)
    web_login(client, "regulator")
    page = client.get("/risk")
    assert page.status_code == 200
    assert 'id="nav-risk"' in page.text and "风险分级" in page.text and "全市风险等级分布" in page.text
    assert 'data-total="4"' in page.text
    counts = {g: int(n) for g, n in re.findall(r'id="grade-([A-D])" data-count="(\d+)"', page.text)}
    assert sum(counts.values()) == 4 and set(counts) == {"A", "B", "C", "D"}
    rows = re.findall(r'<tr data-code="(\w+)" data-score="(\d+)">', page.text)
    assert rows[0][0] == A1 and [int(s) for _, s in rows] == sorted((int(s) for _, s in rows), reverse=True)
    assert "浦江电梯维保有限公司" in page.text and "risk-chip" in page.text
    assert_no_raw_keys(page.text, "risk") and not RISK_KEY.findall(visible(page.text))

    xuhui = client.get("/risk", params={"district": "徐汇区"}).text
    assert 'data-total="2"' in xuhui and f'data-code="{A1}"' not in xuhui and f'data-code="{B3}"' in xuhui

    client.cookies.set("lang", "en")
    english = client.get("/risk").text
    assert (
        "The city&#39;s elevators by risk grade" in english or "The city's elevators by risk grade" in english
    )
    assert "风险" not in visible(english) and not RISK_KEY.findall(visible(english))


def test_the_explanation_sums_to_the_score(client: TestClient, session: Session, clock: FixedClock) -> None:
    _scored_city(session, clock)
    web_login(client, "regulator")
    page = client.get(f"/risk/elevators/{A1}")
    assert page.status_code == 200
    score = int(re.search(r'id="risk-score" data-score="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    points = [int(p) for p in re.findall(r'<tr data-factor="\w+" data-points="(\d+)">', page.text)]
    assert len(points) == 16 and sum(points) == score > 20
    text = visible(page.text)
    assert "经确认的假维保" in text and "维保超期天数" in text and f"合计 {score} 分" in text
    assert "30 天" in text and "住宅 (住宅及其他)" in text
    assert_no_raw_keys(page.text, "explanation") and not RISK_KEY.findall(text)
    file = client.get(f"/elevators/{A1}").text
    assert 'id="file-risk"' in file and f'href="/risk/elevators/{A1}"' in file


def test_who_opens_the_risk_pages(client: TestClient, session: Session, clock: FixedClock) -> None:
    _scored_city(session, clock)
    web_login(client, "maint_a")  # MU-A maintains A1 and A2
    assert client.get("/risk").status_code == 403
    assert client.get(f"/risk/elevators/{A1}").status_code == 200
    assert client.get(f"/risk/elevators/{B3}").status_code == 404
    assert 'id="nav-risk"' not in client.get("/elevators").text
