"""A real browser through the real server: sign in, search (htmx refreshes the table in place), export
what the search keeps, open an elevator file, read its timeline, switch to English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_sign_in_search_file_and_language(live_server: str, screenshot_dir: Path, tmp_path: Path) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # Anonymous: sent to the login page, which remembers where we were going.
            page.goto(f"{live_server}/elevators")
            expect(page).to_have_url(re.compile(r"/login\?next=%2Felevators$"))
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            expect(page.locator("h1")).to_have_text("登录")
            page.screenshot(path=str(screenshot_dir / "01-login.png"), full_page=True)

            # A wrong password keeps us on the form with an error.
            page.fill("#username", "regulator")
            page.fill("#password", "wrong-password")
            page.click("#login-submit")
            expect(page.locator("#login-error")).to_be_visible()

            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(f"{live_server}/elevators")
            expect(page.locator("#current-user")).to_contain_text("regulator")
            rows = page.locator("#elevator-table tbody tr")
            expect(rows).to_have_count(4)
            page.wait_for_function("() => window.htmx !== undefined")
            page.screenshot(path=str(screenshot_dir / "02-search.png"), full_page=True)

            # Typing in the search box refreshes the table through htmx: no page load, URL pushed.
            page.evaluate("() => { window.__sameDocument = true; }")
            page.locator("#q").press_sequentially("11SHB", delay=30)
            expect(rows).to_have_count(2)
            expect(page).to_have_url(re.compile(r"/elevators\?q=11SHB$"))
            assert page.evaluate("() => window.__sameDocument") is True
            page.select_option("#f-kind", "escalator")
            expect(rows).to_have_count(1)
            expect(page).to_have_url(re.compile(r"kind=escalator"))
            assert page.evaluate("() => window.__sameDocument") is True
            expect(page.locator("#result-count")).to_have_text("共 1 条")
            page.screenshot(path=str(screenshot_dir / "03-search-filtered.png"), full_page=True)

            # The export of this search (its link refreshed with the list) holds the filtered elevator
            # only, each unit named beside its code, the header frozen.
            with page.expect_download() as download:
                page.click("#registry-export")
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            sheet = load_workbook(saved)["电梯"]
            table = list(sheet.iter_rows(values_only=True))
            assert [row[0] for row in table[1:]] == ["11SHB000003"], table
            assert "维保单位名称" in table[0] and sheet.freeze_panes == "A2"

            # The elevator file with its timeline, newest first.
            page.click("#elevator-table a:has-text('11SHB000003')")
            expect(page).to_have_url(f"{live_server}/elevators/11SHB000003")
            expect(page.locator("#file-title")).to_have_text("11SHB000003")
            items = page.locator("#timeline li")
            expect(items).to_have_count(2)
            expect(items.nth(0)).to_have_attribute("data-kind", "major_repair")
            expect(items.nth(0)).to_contain_text("重大修理")
            expect(items.nth(0)).to_contain_text("更换梯级链")
            expect(items.nth(1)).to_contain_text("使用登记")
            expect(page.locator("#sec-technical")).to_have_text("技术参数")
            page.screenshot(path=str(screenshot_dir / "04-file-zh.png"), full_page=True)

            # Switch to English: same page, English labels.
            page.click("#lang-en")
            expect(page).to_have_url(f"{live_server}/elevators/11SHB000003")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("#sec-technical")).to_have_text("Technical data")
            expect(items.nth(0)).to_contain_text("Major repair")
            expect(items.nth(1)).to_contain_text("Registration")
            expect(page.locator("#elevator-status")).to_have_text("In use")
            page.screenshot(path=str(screenshot_dir / "05-file-en.png"), full_page=True)

            # The language sticks, and the switch follows htmx's pushed URLs.
            page.goto(f"{live_server}/elevators")
            expect(page.locator("#results-title")).to_have_text("Results")
            page.wait_for_function("() => window.htmx !== undefined")
            page.locator("#q").press_sequentially("11SHA", delay=30)
            expect(rows).to_have_count(2)
            expect(page.locator("#lang-zh-CN")).to_have_attribute(
                "href", re.compile(r"next=%2Felevators%3Fq%3D11SHA$")
            )
            page.screenshot(path=str(screenshot_dir / "06-search-en.png"), full_page=True)
            page.click("#lang-zh-CN")
            expect(page).to_have_url(re.compile(r"/elevators\?q=11SHA$"))
            expect(page.locator("#q")).to_have_value("11SHA")
            expect(page.locator("#results-title")).to_have_text("查询结果")

            # Units, and the passengers' page (no login needed: a fresh context).
            page.goto(f"{live_server}/units/MU-B")
            expect(page.locator("#unit-elevator-count")).to_have_text("2")
            page.screenshot(path=str(screenshot_dir / "07-unit.png"), full_page=True)
            public = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            public.goto(f"{live_server}/p/100003")
            expect(public.locator("#rescue-phone")).to_have_text("96333")
            expect(public.locator("#public-maintenance-unit")).to_have_text("申城电梯工程有限公司")
            public.screenshot(path=str(screenshot_dir / "08-public-mobile.png"), full_page=True)

            assert errors == [], errors
        finally:
            browser.close()
