"""User administration in a browser (issue 16): an admin creates a maintenance worker's account on
/admin/users, disables it and enables it again; the page fits a 390 px phone. Chromium against a real
server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serve_seeded(tmp_path) as (url, _engine):
        yield url


def test_an_admin_creates_disables_and_enables_a_user(served: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
            page.set_default_timeout(10_000)
            sign_in(page, served, "admin", "/admin/users")
            expect(page.locator("#users-title")).to_have_text("用户管理")
            page.fill("#u-username", "crew_b2")
            page.fill("#u-full_name", "王师傅")
            page.fill("#u-password", PASSWORD)
            page.select_option("#u-role", "maintenance")
            page.fill("#u-unit", "MU-B")
            page.click("#user-create")
            expect(page.locator("#users-done")).to_contain_text("已创建用户 crew_b2")
            row = page.locator('tr[data-user="crew_b2"]')
            expect(row).to_have_attribute("data-active", "yes")
            row.locator("summary").click()
            page.click("#toggle-crew_b2")
            expect(page.locator("#users-done")).to_contain_text("已停用用户 crew_b2")
            expect(row).to_have_attribute("data-active", "no")
            row.locator("summary").click()
            page.click("#toggle-crew_b2")
            expect(row).to_have_attribute("data-active", "yes")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{width} px wide on a 390 px screen"
        finally:
            browser.close()
