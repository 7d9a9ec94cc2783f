"""Acceptance (issue 14, item 6): a passenger scans the code in the car, complains without an account on a
390 px phone (a form sent too fast is refused with its reason and can be sent again), gets a receipt number
whose page shows the state only, in Chinese and after the switch in English; the 96333/12345 operator finds
the complaint waiting in the centre's list, in Chinese and in English. Chromium against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import PAGE_TEXT_JS, RAW_KEY, SNAKE, english_words
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

TEXT = "轿厢照明不亮，晚上很黑"
PHONE = "13655556666"


@pytest.fixture
def city(tmp_path: Path) -> Iterator[str]:
    with serve_seeded(tmp_path) as (url, _engine):
        yield url


def _chinese_only(text: str) -> None:
    assert not RAW_KEY.findall(text) and not re.findall(r"\bcp\.[a-z_]+", text), text
    assert not SNAKE.findall(text), SNAKE.findall(text)
    assert english_words(text) == [], english_words(text)


def test_a_passenger_complains_and_the_centre_sees_it(city: str) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
            phone.set_default_timeout(10_000)
            phone.goto(f"{base}/p/100001")
            phone.click("#public-complain")
            expect(phone.locator("#complaint-form-title")).to_have_text("电梯投诉")
            phone.select_option("#public-category", "unsafe")
            phone.fill("#public-text", TEXT)
            phone.fill("#public-phone", PHONE)
            phone.click("#public-complaint-submit")  # at once: faster than a person
            expect(phone.locator("#complaint-refused")).to_contain_text("提交过快")
            expect(phone.locator("#public-text")).to_have_value(TEXT)  # kept for the second try
            _chinese_only(phone.evaluate(PAGE_TEXT_JS))
            phone.wait_for_timeout(4_500)  # a person's pace (LIFTWATCH_COMPLAINT_PUBLIC_MIN_FILL_S)
            phone.click("#public-complaint-submit")
            expect(phone.locator("#complaint-received")).to_be_visible()
            receipt = phone.locator("#complaint-receipt").inner_text().strip()
            assert re.fullmatch(r"TS[0-9A-Z]{8}", receipt), receipt
            expect(phone.locator("#status-state")).to_have_text("已受理")
            html = phone.content()
            assert PHONE not in html and TEXT not in html
            _chinese_only(phone.evaluate(PAGE_TEXT_JS))
            width = phone.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{width} px wide on a 390 px screen"
            phone.click("#lang-en")
            expect(phone.locator("#status-title")).to_have_text("Complaint status")
            expect(phone.locator("#status-state")).to_have_text("Received")
            expect(phone.locator("#status-category")).to_have_text("Dirty or unsafe")

            desk = browser.new_context(locale="zh-CN", viewport={"width": 1360, "height": 1000}).new_page()
            desk.set_default_timeout(10_000)
            desk.goto(f"{base}/login?next=/complaints")
            desk.fill("#username", "operator")
            desk.fill("#password", PASSWORD)
            desk.click("#login-submit")
            expect(desk).to_have_url(f"{base}/complaints")
            expect(desk.locator("#nav-complaints")).to_have_attribute("aria-current", "page")
            row = desk.locator('tr[data-channel="public_page"]')
            expect(row).to_contain_text(receipt)
            expect(row).to_contain_text("轿厢扫码")
            expect(row).to_contain_text("136****6666")
            expect(desk.locator("#count-received")).to_have_attribute("data-count", "1")
            _chinese_only(desk.evaluate(PAGE_TEXT_JS))
            desk.click("#lang-en")
            expect(desk.locator("#complaints-title")).to_have_text("Complaints")
            expect(desk.locator('tr[data-channel="public_page"]')).to_contain_text("Public page in the car")
        finally:
            browser.close()
