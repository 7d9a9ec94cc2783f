"""Rescue reports in Chromium (issue 11, item 6): the operator reaches /reports from the menu, filters the
incidents, downloads the Excel export of what the page lists (opened with openpyxl), and works through the
call-back queue; a use unit sees its elevators' incidents read-only. Chinese pages show no raw key and no
English word (file-format names aside). Against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import PAGE_TEXT_JS, RAW_KEY, SNAKE, english_words
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

FILE_FORMATS = {"Excel", "CSV"}  # names of file formats, as Chinese software writes them


def assert_chinese_only(text: str, where: str) -> None:
    assert not RAW_KEY.findall(text), (where, RAW_KEY.findall(text))
    assert not SNAKE.findall(text), (where, SNAKE.findall(text))
    words = [
        w for w in english_words(text) if w not in FILE_FORMATS and not re.fullmatch(r"[A-Z]{2}-[A-Z]", w)
    ]
    assert words == [], (where, words)


@pytest.fixture
def reports_city(tmp_path: Path) -> Iterator[tuple[str, Engine, dict[str, int]]]:
    """The rescue city with three incidents: one on UU-A's elevator completed (not called back), one on
    UU-B's escalator released, one on UU-B's other elevator open."""
    from liftwatch.accounts.actor import Actor, Role
    from liftwatch.rescue import service as rescue
    from liftwatch.rescue.domain import Cause, Source
    from tests.factories import rescue_city

    ids: dict[str, int] = {}
    operator = Actor("operator", Role.RESCUE_OPERATOR)
    a1 = Actor("crew_a1", Role.MAINTENANCE)
    settings = rescue.RescueSettings()

    def prepare(session: Session, clock: Clock) -> None:
        rescue_city(session, clock)

        def open_(code: str) -> int:
            return rescue.report(
                session, operator, rescue.Report(code, Source.PHONE), clock, settings
            ).incident.id

        ids["done"] = i = open_("11SHA000001")
        for step in (rescue.acknowledge, rescue.arrive, rescue.release):
            step(session, a1, i, clock)
        rescue.complete(session, a1, i, clock, settings, Cause.MISUSE)
        ids["open"] = open_("11SHB000004")

    with serve_seeded(tmp_path, prepare) as (url, engine):
        yield url, engine, ids


def test_the_operator_filters_exports_and_calls_back(
    reports_city: tuple[str, Engine, dict[str, int]], tmp_path: Path, screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from openpyxl import load_workbook
    from playwright.sync_api import expect, sync_playwright

    base, _engine, ids = reports_city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(locale="zh-CN", accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/login?next=/console")
            page.fill("#username", "operator")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.click("#nav-reports")
            expect(page).to_have_url(f"{base}/reports")
            expect(page.locator("#reports-title")).to_have_text("救援报表")
            expect(page.locator("#report-table tbody tr")).to_have_count(2)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "/reports")
            page.screenshot(path=str(screenshot_dir / "reports.png"), full_page=True)

            page.fill("#f-district", "静安区")
            page.click("#report-submit")
            expect(page).to_have_url(re.compile(r"/reports\?.*district=%E9%9D%99"))
            expect(page.locator("#report-table tbody tr")).to_have_count(1)
            expect(page.locator(f"#report-incident-{ids['done']}")).to_be_visible()

            with page.expect_download() as info:
                page.click("#export-incidents-xlsx")
            path = tmp_path / "incidents.xlsx"
            info.value.save_as(path)
            sheet = load_workbook(path)["救援事件"]
            assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [ids["done"]]

            page.click("#tab-queues")
            row = page.locator(f"#callbacks-table tr[data-incident='{ids['done']}']")
            expect(row).to_be_visible()
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "/reports/queues")
            page.screenshot(path=str(screenshot_dir / "reports-queues.png"), full_page=True)
            page.fill(f"#callback-note-{ids['done']}", "报警人确认平安")
            page.click(f"#callback-form-{ids['done']} button")
            expect(page.locator("#queue-flash")).to_contain_text(f"事件 {ids['done']} 已登记回访")
            expect(row).to_have_count(0)
            expect(page.locator("#callbacks-empty")).to_be_visible()
            assert errors == []
        finally:
            browser.close()


def test_a_use_unit_reads_its_incidents(
    reports_city: tuple[str, Engine, dict[str, int]], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base, _engine, ids = reports_city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{base}/login?next=/reports")
            page.fill("#username", "owner_b")  # UU-B: 11SHB000003/4
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(f"{base}/reports")
            expect(page.locator("#reports-read-only")).to_be_visible()
            expect(page.locator("#report-table tbody tr")).to_have_count(1)
            expect(page.locator("#tab-queues")).to_have_count(0)
            expect(page.locator("#export-kpis-xlsx")).to_have_count(0)
            page.click(f"#report-incident-{ids['open']}")
            expect(page.locator("#incident-title")).to_contain_text(str(ids["open"]))
            expect(page.locator("#open-in-console")).to_have_count(0)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "incident")
            page.screenshot(path=str(screenshot_dir / "reports-use-unit.png"), full_page=True)
            response = page.goto(f"{base}/reports/incidents/{ids['done']}")
            assert response is not None and response.status == 404  # UU-A's elevator
        finally:
            browser.close()
