"""Acceptance (issue 14, the public supervised-rectification list): with no sign-in, the list of hazards
under supervised rectification (挂牌督办) shows a supervised major hazard, in Chinese and, after the language
switch, in English; it names no person and shows no free text. Chromium against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import PAGE_TEXT_JS, RAW_KEY, SNAKE, english_words

pytestmark = pytest.mark.e2e

A1 = "11SHA000001"
SECRET = "层门门锁啮合深度不足"  # the report's description: never public


@pytest.fixture
def supervised_city(tmp_path: Path) -> Iterator[str]:
    """The seeded registry with a major hazard on A1 reported 20 days ago by an inspector: overdue since
    its 15 days ran out, so under supervised rectification."""
    from liftwatch.accounts.actor import Actor, Role
    from liftwatch.core.clock import FixedClock
    from liftwatch.core.config import Settings
    from liftwatch.hazards import service
    from liftwatch.hazards.workflow import HazardLevel, HazardSource

    def prepare(session: Session, clock: Clock) -> None:
        then = FixedClock(clock.now() - timedelta(days=20))
        inspector = Actor("inspector_wang", Role.INSPECTOR)
        service.report(
            session, inspector, A1, HazardSource.INSPECTION, "DJ-1:1", HazardLevel.MAJOR, SECRET, then,
            Settings(),
        )  # fmt: skip
        session.flush()
        service.fire_due_timers(session, clock)

    with serve_seeded(tmp_path, prepare) as (url, _engine):
        yield url


def test_the_public_supervised_list_in_chinese_and_english(supervised_city: str) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = supervised_city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
            page.set_default_timeout(8_000)
            page.goto(f"{base}/public/hazards/supervised")
            expect(page.locator("#public-hazards-title")).to_have_text("挂牌督办隐患公示")
            card = page.locator(f'article[data-code="{A1}"]')
            expect(card).to_contain_text("重大隐患")
            expect(card).to_contain_text("静安区")
            zh = page.evaluate(PAGE_TEXT_JS)
            assert not RAW_KEY.findall(zh) and not re.findall(r"\bhz\.[a-z_]+", zh), zh
            assert not SNAKE.findall(zh), SNAKE.findall(zh)
            assert english_words(zh) == [], english_words(zh)
            html = page.content()
            assert "inspector_wang" not in html and SECRET not in html
            assert page.locator("#current-user").count() == 0
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{width} px wide on a 390 px screen"

            page.click("#lang-en")
            expect(page).to_have_url(f"{base}/public/hazards/supervised")
            expect(page.locator("#public-hazards-title")).to_have_text("Supervised rectification list")
            expect(card).to_contain_text("Major")
            en = page.content()
            assert "重大隐患" not in en and "inspector_wang" not in en and SECRET not in en
        finally:
            browser.close()
