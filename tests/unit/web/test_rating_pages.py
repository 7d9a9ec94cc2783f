"""The rating pages: the public ratings and red and black lists need no sign-in, show unit names, stars,
ranks and figures in Chinese (English on request) and no person's data; the regulator's page ranks the
period's units with every line and rates a period again from its button; a maintenance unit's staff see
their own unit's rating only; others are refused. The period is test_service's hand-made 2026-Q3."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.ratings import service
from tests.unit.ratings.test_queries import hand_made_quarter
from tests.unit.ratings.test_service import SMALL
from tests.unit.web.forms import page_token, web_login
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


RT_KEY = re.compile(r"\b(?:rt|rating_[a-z]+)\.[a-z_]+")
NAME_A, NAME_B = "浦江电梯维保有限公司", "申城电梯工程有限公司"
PERSONAL = ("maint_a", "regulator", "owner_b", "admin", "system", "021-5555", "inspector")


@pytest.fixture
def rated(session: Session, clock: FixedClock) -> Session:
    hand_made_quarter(session, clock)
    service.compute(session, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", SMALL)
    session.commit()
    return session


def test_the_public_page_in_chinese_and_english(client: TestClient, rated: Session) -> None:
    page = client.get("/public/ratings")
    assert page.status_code == 200
    text = page.text
    assert "维保单位星级评定及红黑榜" in text and 'data-period="2026-Q3"' in text
    black = text[text.index('id="black-list"') : text.index('id="public-ranking"')]
    assert 'data-count="1"' in black and NAME_A in black and "经确认的假维保每百台33.3333次，超过1次" in black
    assert 'id="red-empty"' in text
    ranks = re.findall(r'<details class="rt-unit" data-unit="([\w-]+)" data-rank="(\d*)">', text)
    assert ranks == [("MU-B", "1"), ("MU-A", "2")]
    assert 'data-stars="4"' in text and "四星" in text and "一星" in text
    assert "困人 2 次，电梯 3 台，3 个月" in text and "2 / 3" in text and "66.7%" in text
    assert "本期无此类事件" in text  # MU-B had no inspection
    for word in PERSONAL:
        assert word not in text, word
    assert_no_raw_keys(text, "public ratings") and not RT_KEY.findall(visible(text))

    client.cookies.set("lang", "en")
    english = client.get("/public/ratings").text
    assert "Maintenance-unit star ratings and red and black lists" in english and "Black list" in english
    assert "confirmed fake maintenance 33.3333 per 100 elevators, above 1" in english
    assert "2 entrapments, 3 elevators, 3 months" in english and "4 stars" in english
    assert "维保单位" not in visible(english).replace(NAME_A, "").replace(NAME_B, "")
    assert not RT_KEY.findall(visible(english))


def test_the_public_page_before_any_rating(client: TestClient, session: Session, clock: FixedClock) -> None:
    hand_made_quarter(session, clock)
    session.commit()
    page = client.get("/public/ratings")
    assert page.status_code == 200 and 'id="public-ratings-none"' in page.text


def test_the_regulators_page_and_its_compute_button(client: TestClient, rated: Session) -> None:
    web_login(client, "regulator")
    page = client.get("/oversight/ratings")
    assert page.status_code == 200 and 'id="nav-ratings"' in page.text
    rows = re.findall(r'<tr data-unit="([\w-]+)" data-rank="(\d*)" data-total="(\d+)">', page.text)
    assert rows == [("MU-B", "1", "80"), ("MU-A", "2", "10")]
    assert page.text.count('data-criterion="entrapments"') == 2 and "2026-Q3 ★★★★ 80" in page.text
    assert_no_raw_keys(page.text, "oversight ratings") and not RT_KEY.findall(visible(page.text))

    token = page_token(client, "/oversight/ratings")
    done = client.post(
        "/oversight/ratings/compute", data={"period": "2026-08", "csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/oversight/ratings?period=2026-08"
    month = client.get("/oversight/ratings?period=2026-08").text
    assert 'data-period="2026-08"' in month and '<option value="2026-Q3"' in month
    bad = client.post("/oversight/ratings/compute", data={"period": "2026-Q9", "csrf_token": token})
    assert bad.status_code == 422 and 'id="compute-error"' in bad.text


def test_who_opens_the_rating_pages(client: TestClient, rated: Session) -> None:
    web_login(client, "maint_a")  # MU-A
    assert client.get("/oversight/ratings").status_code == 403
    mine = client.get("/ratings/mine")
    assert mine.status_code == 200 and 'data-unit="MU-A"' in mine.text and 'id="nav-ratings"' in mine.text
    assert mine.text.count("data-criterion=") == 7 and NAME_B not in mine.text
    assert "2 / 3" in mine.text and 'data-period="2026-Q3"' in mine.text
    assert_no_raw_keys(mine.text, "own rating")
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    web_login(client, "owner_b")
    assert client.get("/oversight/ratings").status_code == 403
    assert client.get("/ratings/mine").status_code == 403
    assert 'id="nav-ratings"' not in client.get("/elevators").text
