"""Certified workers and drills on a phone (issue 16, item 6): the use unit's clerk records this year's
emergency drill at 390 px and the unit leaves the list of missing drills; the maintenance unit records a
worker's certificate and sees it warned of as expiring. Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from liftwatch.core.clock import SystemClock
from tests.e2e.conftest import assert_fits, chromium_page, serve_seeded, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serve_seeded(tmp_path) as (url, _engine):
        yield url


def test_a_drill_and_a_certificate_on_a_phone(served: str) -> None:
    from playwright.sync_api import expect

    today = SystemClock().now().date()
    with chromium_page() as (page, errors):
        sign_in(page, served, "owner_b", "/people")
        expect(page.locator("#people-title")).to_have_text("持证与演练")
        expect(page.locator('#missing-table tr[data-unit="UU-B"]')).to_be_visible()
        page.click("#drill-new summary")
        expect(page.locator("#drill-unit_code")).to_have_value("UU-B")
        page.select_option("#drill-scenario", "entrapment")
        page.fill("#drill-held_on", (today - timedelta(days=1)).isoformat())
        page.fill("#drill-participants", "12")
        page.fill("#drill-summary", "困人救援演练，盘车放人 6 分钟")
        page.click("#drill-save")
        expect(page.locator("#people-done")).to_have_text("演练已登记。")
        expect(page.locator("#missing-none")).to_be_visible()
        assert_fits(page)

        page.click("#logout")
        sign_in(page, served, "maint_a", "/people")
        page.click("#cert-new summary")
        page.fill("#certificate-number", "TS2023-0042")
        page.select_option("#certificate-category", "T")
        page.fill("#certificate-holder_name", "周师傅")
        page.fill("#certificate-issued_on", (today - timedelta(days=4 * 365 - 30)).isoformat())
        page.fill("#certificate-expires_on", (today + timedelta(days=30)).isoformat())
        page.click("#cert-save")
        expect(page.locator("#people-done")).to_have_text("证书已登记。")
        row = page.locator('#cert-table tr[data-certificate="TS2023-0042"]')
        expect(row).to_have_attribute("data-state", "expiring")
        expect(page.locator("#cert-warning")).to_contain_text("1 张证书将在 90 天内到期")
        assert errors == []
