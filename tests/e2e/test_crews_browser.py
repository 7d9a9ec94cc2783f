"""Acceptance (issue 12, crews on screen): in a city with no crew, a call waits; the admin, on a 390 x 844
phone screen in Chinese, adds the contracted unit's first crew through the crews page, and the waiting
incident is dispatched to it at once, as the page says. Nothing is wider than the screen; the page shows no
raw key and no English word. Chromium against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import PAGE_TEXT_JS, RAW_KEY, SNAKE, english_words
from tests.factories import PASSWORD, RESCUE_SITE

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844
UNIT_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]+$")  # MU-A: data, in the unit select, not a word of the page


def assert_chinese_only(text: str, where: str) -> None:
    assert not RAW_KEY.findall(text) and not re.findall(r"\bcrews\.[a-z_]+", text), where
    assert not SNAKE.findall(text), (where, SNAKE.findall(text))
    words = [w for w in english_words(text) if not UNIT_CODE.match(w)]
    assert words == [], (where, words, text)


@pytest.fixture
def no_crew_city(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """The seeded registry with A1 located and no crew at all, served by uvicorn."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.registry import service
    from liftwatch.registry.schemas import ElevatorUpdate

    def prepare(session: Session, clock: Clock) -> None:
        update = ElevatorUpdate(latitude=RESCUE_SITE.lat, longitude=RESCUE_SITE.lon)
        service.update_elevator(session, SYSTEM_ACTOR, "11SHA000001", update, clock)

    with serve_seeded(tmp_path, prepare) as served:
        yield served


def test_admin_adds_a_crew_on_a_phone_and_the_waiting_call_is_dispatched(
    no_crew_city: tuple[str, Engine], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import Page, expect, sync_playwright

    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.core.db import make_session_factory
    from liftwatch.rescue import service as rescue

    base, engine = no_crew_city
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200, r.text
    operator = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = httpx.post(f"{base}/api/v1/rescue/incidents", json={"code": "100001"}, headers=operator, timeout=10)
    assert r.status_code == 201, r.text
    incident_id = r.json()["incident"]["id"]
    with make_session_factory(engine)() as session:
        assert rescue.get_incident(session, SYSTEM_ACTOR, incident_id).crew_id is None  # nobody to send

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

            page.goto(f"{base}/login?next=/crews")
            page.fill("#username", "admin")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(f"{base}/crews")
            expect(page.locator("#crews-title")).to_have_text("救援班组")
            expect(page.locator("#crews-empty")).to_be_visible()
            fits_the_screen(page, "empty list")
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "empty list")

            # A wrong shift is refused next to its field, with what was typed kept.
            page.fill("#c-id", "A1")
            page.fill("#c-name", "浦江一组")
            page.fill("#c-phone", "13900000001")
            page.select_option("#c-unit", "MU-A")
            page.fill("#c-shift", "8点到20点")
            page.fill("#c-latitude", f"{RESCUE_SITE.lat + 0.01:.4f}")
            page.fill("#c-longitude", f"{RESCUE_SITE.lon:.4f}")
            page.click("#crew-submit")
            expect(page.locator("#err-shift")).to_contain_text("HH:MM-HH:MM")
            expect(page.locator("#c-name")).to_have_value("浦江一组")
            fits_the_screen(page, "form with an error")

            page.fill("#c-shift", "")  # round the clock
            page.click("#crew-submit")
            expect(page.locator("#crew-flash")).to_have_attribute("data-incident", str(incident_id))
            expect(page.locator("#crew-flash-dispatched")).to_contain_text(
                f"等待派单的事件 #{incident_id} 已派给班组 A1"
            )
            row = page.locator('tr[data-crew="A1"]')
            expect(row).to_contain_text(f"正在处置事件 #{incident_id}")
            expect(row).to_contain_text("在岗")
            expect(page.locator("#nav-crews")).to_have_attribute("aria-current", "page")
            fits_the_screen(page, "list with the new crew")
            page.screenshot(path=str(screenshot_dir / "c01-crew-added.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "list with the new crew")

            with make_session_factory(engine)() as session:
                inc = rescue.get_incident(session, SYSTEM_ACTOR, incident_id)
                assert (inc.crew_id, inc.status) == ("A1", "dispatched")

            # Stand it down from its card: it keeps its job.
            page.locator("#stand-down-A1").click()
            expect(page.locator('tr[data-crew="A1"]')).to_have_attribute("data-on-shift", "false")
            expect(page.locator("#crew-flash")).to_contain_text("班组 A1 已停派")
            fits_the_screen(page, "stood down")

            # Its own page: what is on file and the edit form, on the phone too.
            page.locator("#edit-A1").click()
            expect(page).to_have_url(f"{base}/crews/A1")
            expect(page.locator("#crew-state")).to_contain_text("已停派")
            expect(page.locator("#c-name")).to_have_value("浦江一组")
            fits_the_screen(page, "crew page")
            page.screenshot(path=str(screenshot_dir / "c02-crew-page.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "crew page")
            assert errors == []
        finally:
            browser.close()
