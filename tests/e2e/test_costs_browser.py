"""Acceptance (issue 14, the public cost disclosure): with no sign-in, a passenger reaches the cost page from
the elevator's page and sees the estate's published half-year (totals, each residential elevator's
maintenance cost, the advertising income and its use) in Chinese and, after the language switch, in
English; it names no person, no phone and no username. Chromium against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import PAGE_TEXT_JS, RAW_KEY, SNAKE, english_words

pytestmark = pytest.mark.e2e

A1 = "11SHA000001"
CLERK = "clerk_zhang"  # who booked and published: never public


@pytest.fixture
def published_city(tmp_path: Path) -> Iterator[str]:
    """UU-A's 2026-H1: A1's contract fee (12,000.00 yuan a year: 5,950.68 for the half-year), a repair of
    800.00 and 3,000.00 of advertising income, published."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
    from liftwatch.core.config import Settings
    from liftwatch.costs import service
    from liftwatch.costs.domain import AdvertisingUse, EntryKind, HalfYear
    from liftwatch.maintenance import service as maintenance
    from liftwatch.registry import queries as registry

    def prepare(session: Session, clock: Clock) -> None:
        settings = Settings()
        terms = maintenance.ContractTerms(
            A1, "MU-A", date(2026, 1, 1), date(2026, 12, 31), price_fen=1_200_000
        )
        maintenance.create_contract(session, SYSTEM_ACTOR, terms, clock)
        unit = registry.unit_by_code(session, "UU-A")
        clerk = Actor(CLERK, Role.USE_UNIT, unit.id if unit else None)
        h1 = HalfYear(2026, 1)
        service.book_contracts(session, clerk, "UU-A", h1, clock, settings)
        for kind, fen, receipt in (
            (EntryKind.REPAIR, 80_000, "WX-1"),
            (EntryKind.ADVERTISING_INCOME, 300_000, "GG-1"),
        ):
            data = service.NewEntry(kind, fen, date(2026, 5, 1), elevator=A1, receipt=receipt, note=CLERK)
            service.record(session, clerk, "UU-A", data, clock, settings)
        service.publish(session, clerk, "UU-A", h1, AdvertisingUse.REPAIR_FUND, clock, settings)

    with serve_seeded(tmp_path, prepare) as (url, _engine):
        yield url


def test_the_public_cost_page_in_chinese_and_english(published_city: str) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = published_city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
            page.set_default_timeout(8_000)
            page.goto(f"{base}/p/100001")
            page.click("#public-costs-link")
            expect(page.locator("#public-costs-title")).to_have_text("电梯费用公示")
            period = page.locator('section[data-period="2026-H1"]')
            card = page.locator('article[data-unit-name="静安物业管理有限公司"]')
            expect(card).to_contain_text("2026-H1")
            expect(period.locator('[id$="-expense"]')).to_have_text("6750.68")  # 5,950.68 + 800.00
            expect(period.locator('[id$="-advertising"]')).to_have_text("3000.00")
            expect(period.locator('[data-role="advertising-use"]')).to_have_text("补充专项维修资金")
            row = period.locator(f'tr[data-code="{A1}"]')
            expect(row.locator('[data-role="maintenance"]')).to_have_text("6750.68")
            zh = page.evaluate(PAGE_TEXT_JS)
            assert not RAW_KEY.findall(zh) and not re.findall(r"\bcost\.[a-z_]+", zh), zh
            assert not SNAKE.findall(zh), SNAKE.findall(zh)
            assert english_words(zh) == [], english_words(zh)
            html = page.content()
            assert CLERK not in html and "021-5555" not in html and "system" not in html
            assert page.locator("#current-user").count() == 0
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{width} px wide on a 390 px screen"

            page.click("#lang-en")
            expect(page.locator("#public-costs-title")).to_have_text("Elevator cost disclosure")
            expect(period.locator('[data-role="advertising-use"]')).to_have_text("Added to the repair fund")
            expect(row.locator('[data-role="maintenance"]')).to_have_text("6750.68")
            en = page.content()
            assert "补充专项维修资金" not in en and CLERK not in en
        finally:
            browser.close()
