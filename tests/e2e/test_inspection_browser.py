"""Acceptance (issue 13, inspection on site): an inspector of an inspection body, on a 390 x 844 phone screen
in Chinese, opens the schedule, opens an overdue inspection, records a non-conformity (refused beside its
field until it has a deadline), signs; the result then shows signed and read-only, with its rectification
work order and the re-inspection form. No raw key and no English word, nothing wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_maintenance_phone import assert_chinese
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844
A1 = "11SHA000001"


@pytest.fixture
def inspection_city(tmp_path: Path) -> Iterator[tuple[str, Engine, int, str]]:
    """The seeded registry with inspector "ib1" of IB-1 and A1's periodic inspection (long overdue: it runs
    from the 2005 commissioning) assigned to them; served by uvicorn. Yields the rectification deadline."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
    from liftwatch.accounts.schemas import UserCreate
    from liftwatch.accounts.service import create_user
    from liftwatch.core.config import Settings, zone
    from liftwatch.inspection import service

    found: list[int] = []
    deadline: list[str] = []

    def prepare(session: Session, clock: Clock) -> None:
        settings = Settings()
        create_user(
            session,
            SYSTEM_ACTOR,
            UserCreate(username="ib1", password=PASSWORD, role=Role.INSPECTOR, unit="IB-1"),
            clock,
        )
        row, _ = service.schedule_next(session, SYSTEM_ACTOR, A1, "IB-1", "ib1", clock, settings)
        found.append(row.id)
        today = clock.now().astimezone(zone(settings.timezone)).date()
        deadline.append((today + timedelta(days=14)).isoformat())

    with serve_seeded(tmp_path, prepare) as (url, engine):
        yield url, engine, found[0], deadline[0]


def test_an_inspector_records_and_signs_a_nonconformity_on_the_phone(
    inspection_city: tuple[str, Engine, int, str], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import Page, expect, sync_playwright

    from tests.e2e.test_crew_phone import PAGE_TEXT_JS

    base, _engine, iid, deadline = inspection_city

    def fits_the_screen(page: Page, name: str) -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{name}: {width} px wide on a {WIDTH} px screen"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True, locale="zh-CN"
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # The schedule: the overdue inspection, with its count.
            page.goto(f"{base}/login?next=/inspection")
            page.fill("#username", "ib1")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(f"{base}/inspection")
            expect(page.locator("#insp-title")).to_have_text("检验计划")
            expect(page.locator("#nav-inspection")).to_have_attribute("aria-current", "page")
            card = page.locator(f"#sec-overdue #insp-{iid}")
            expect(card).to_have_attribute("data-overdue", "true")
            expect(page.locator("[data-count-of='overdue']")).to_have_text("1")
            fits_the_screen(page, "schedule")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "schedule")
            page.screenshot(path=str(screenshot_dir / "i01-schedule.png"), full_page=True)

            # The result form: a fail with one non-conformity; without its deadline it is refused beside it.
            card.locator(f"#open-insp-{iid}").click()
            expect(page).to_have_url(f"{base}/inspection/inspections/{iid}")
            expect(page.locator("#insp-state")).to_have_attribute("data-state", "open")
            page.check("#conclusion-fail")
            page.fill("#report-number", "DJ-2026-0001")
            page.fill("#nc-0-item", "3.8")
            page.fill("#nc-0-text", "层门自闭装置失效")
            page.select_option("#nc-0-severity", "major")
            fits_the_screen(page, "result form")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "result form")
            page.click("#sign-result")
            expect(page.locator("#err-nc-0-rectify_by")).to_contain_text("请填写整改期限")
            expect(page.locator("#nc-0-text")).to_have_value("层门自闭装置失效")
            page.screenshot(path=str(screenshot_dir / "i02-refused.png"), full_page=True)
            page.fill("#nc-0-rectify_by", deadline)
            page.click("#sign-result")

            # Signed: read-only, the rectification work order, the re-inspection on offer.
            expect(page.locator("#insp-state")).to_have_attribute("data-state", "signed")
            expect(page.locator("#result")).to_have_attribute("data-signed", "true")
            expect(page.locator("#insp-conclusion")).to_have_text("不合格")
            expect(page.locator("#insp-nc-list li")).to_have_count(1)
            expect(page.locator("#insp-nc-list li")).to_contain_text("整改工单")
            expect(page.locator("#result-form")).to_have_count(0)
            expect(page.locator("#re-inspection-form")).to_be_visible()
            fits_the_screen(page, "signed")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "signed")
            page.screenshot(path=str(screenshot_dir / "i03-signed.png"), full_page=True)

            # Back on the schedule it is among the signed.
            page.click("#back-to-schedule")
            expect(page.locator(f"#sec-signed #insp-{iid}")).to_have_count(1)
            assert errors == []
        finally:
            browser.close()
