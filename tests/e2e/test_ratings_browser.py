"""Acceptance (issue 14, the public ratings and red and black lists): with no sign-in, the maintenance units'
star ratings of the latest rated period show the stars, ranks, the black list with its reason and the
figures behind every line, in Chinese and, after the language switch, in English, on a 390 px phone; no
person's name, phone or username appears. Chromium against a real server. The period is the hand-made
2026-Q3 of tests/unit/ratings/test_queries.py, rated with ``min_elevators=1``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import PAGE_TEXT_JS, RAW_KEY, SNAKE, english_words

pytestmark = pytest.mark.e2e

CALLER, CALLER_PHONE = "李秀英", "13800138000"  # an incident's caller: never public
PERSONAL = (CALLER, CALLER_PHONE, "021-5555", "maint_a", "regulator", "owner_b", "system", "inspector")


@pytest.fixture
def rated_city(tmp_path: Path) -> Iterator[str]:
    from sqlalchemy import update

    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.core.config import Settings
    from liftwatch.ratings import service
    from liftwatch.ratings.rate import RatingSettings
    from liftwatch.rescue.models import Incident
    from tests.unit.ratings.test_queries import quarter_records

    def prepare(session: Session, clock: Clock) -> None:
        quarter_records(session)
        session.execute(update(Incident).values(caller_name=CALLER, callback_phone=CALLER_PHONE))
        service.compute(session, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", RatingSettings(min_elevators=1))

    with serve_seeded(tmp_path, prepare) as (url, _engine):
        yield url


def test_the_public_ratings_and_lists_in_chinese_and_english(rated_city: str) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = rated_city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
            page.set_default_timeout(8_000)
            page.goto(f"{base}/public/ratings", timeout=30_000)  # the first page may compile the catalogues
            expect(page.locator("#public-ratings-title")).to_have_text("维保单位星级评定及红黑榜")
            black = page.locator("#black-list")
            expect(black).to_contain_text("浦江电梯维保有限公司")
            expect(black).to_contain_text("经确认的假维保")
            expect(page.locator("#red-empty")).to_be_visible()
            first = page.locator('details.rt-unit[data-rank="1"]')
            expect(first).to_contain_text("申城电梯工程有限公司")
            expect(first.locator('[data-stars="4"]')).to_have_count(1)
            unit_a = page.locator('details.rt-unit[data-unit="MU-A"]')
            unit_a.locator("summary").click()
            expect(unit_a.locator('tr[data-criterion="entrapments"]')).to_contain_text(
                "困人 2 次，电梯 3 台，3 个月"
            )
            expect(unit_a.locator('tr[data-criterion="arrival_on_time"]')).to_contain_text("2 / 3")
            zh = page.evaluate(PAGE_TEXT_JS)
            assert not RAW_KEY.findall(zh) and not re.findall(r"\brt\.[a-z_]+", zh), zh
            assert not SNAKE.findall(zh), SNAKE.findall(zh)
            assert english_words(zh) == [], english_words(zh)
            html = page.content()
            for word in PERSONAL:
                assert word not in html, word
            assert page.locator("#current-user").count() == 0
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{width} px wide on a 390 px screen"

            page.click("#lang-en")
            expect(page).to_have_url(f"{base}/public/ratings")
            expect(page.locator("#public-ratings-title")).to_have_text(
                "Maintenance-unit star ratings and red and black lists"
            )
            expect(page.locator("#black-list")).to_contain_text("confirmed fake maintenance")
            expect(
                page.locator('details.rt-unit[data-unit="MU-A"] tr[data-criterion="entrapments"]')
            ).to_contain_text("2 entrapments, 3 elevators, 3 months")
            en = page.content()
            assert "黑榜" not in en and "困人" not in en
            for word in PERSONAL:
                assert word not in en, word
        finally:
            browser.close()
