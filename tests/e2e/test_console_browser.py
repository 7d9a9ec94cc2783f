"""Acceptance: an operator takes a call by rescue code, dispatches, and sees the incident move through its
stages as a crew acknowledges and arrives through the crew API, on a real browser against a real server
(the board polls every 3 s: no reload)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

A1 = "11SHA000001"


@pytest.fixture
def rescue_city(tmp_path: Path) -> Iterator[str]:
    """The seeded registry and one crew of MU-A that signs in as maint_a, served by uvicorn."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.rescue import service as rescue
    from liftwatch.rescue.domain import GeoPoint

    def prepare(session: Session, clock: Clock) -> None:
        rescue.add_crew(
            session, SYSTEM_ACTOR, "CA1", "MU-A", "浦江一组", GeoPoint(31.22, 121.46), clock,
            phone="13900000001", username="maint_a",
        )  # fmt: skip

    with serve_seeded(tmp_path, prepare) as (url, _engine):
        yield url


def _crew_step(base: str, token: str, incident_id: str, step: str) -> None:
    r = httpx.post(
        f"{base}/api/v1/rescue/incidents/{incident_id}/{step}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == {"acknowledge": "acknowledged", "arrive": "arrived"}[step]


def test_operator_takes_a_call_and_watches_the_crew(rescue_city: str, screenshot_dir: Path) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = rescue_city
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": "maint_a", "password": PASSWORD})
    assert r.status_code == 200, r.text
    crew_token = r.json()["access_token"]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base}/login?next=/console")
            page.fill("#username", "operator")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(f"{base}/console")
            expect(page.locator("#nav-console")).to_have_attribute("aria-current", "page")
            expect(page.locator("#console-title")).to_have_text("96333 接警台")
            expect(page.locator("#board-empty")).to_be_visible()
            page.wait_for_function("() => window.htmx !== undefined")

            # The call: type the rescue code; the elevator shows up as it is typed (no submit).
            page.evaluate("() => { window.__sameDocument = true; }")
            page.locator("#intake-code").press_sequentially("100001", delay=40)
            hit = page.locator("#lookup-hit")
            expect(hit).to_have_attribute("data-code", A1)
            expect(page.locator("#lookup-maintenance-unit")).to_contain_text("浦江电梯维保有限公司")
            expect(page.locator("#lookup-no-incident")).to_be_visible()
            assert page.evaluate("() => window.__sameDocument") is True
            page.fill("#r-persons", "2")
            page.fill("#r-caller", "李女士")
            page.fill("#r-phone", "13800000000")
            page.screenshot(path=str(screenshot_dir / "c01-intake.png"), full_page=True)
            page.click("#report-submit")

            # Dispatched at once to the contracted unit's crew (L1).
            flash = page.locator("#console-flash")
            expect(flash).to_have_attribute("data-outcome", "created")
            incident_id = flash.get_attribute("data-incident")
            assert incident_id is not None
            row = page.locator(f"#incident-{incident_id}")
            expect(row).to_have_attribute("data-status", "dispatched")
            expect(row).to_have_attribute("data-level", "L1")
            expect(row.locator(".crew-name")).to_have_text("浦江一组")
            expect(row.locator(".istatus")).to_have_text("已派单")
            expect(row.locator("[data-stage='acknowledged']")).to_have_attribute("data-done", "false")
            page.screenshot(path=str(screenshot_dir / "c02-dispatched.png"), full_page=True)

            # The crew acknowledges and arrives through the API; the board follows without a reload.
            page.evaluate("() => { window.__sameDocument = true; }")
            _crew_step(base, crew_token, incident_id, "acknowledge")
            expect(row).to_have_attribute("data-status", "acknowledged", timeout=7_000)
            expect(row.locator(".istatus")).to_have_text("已响应")
            expect(row.locator("[data-stage='acknowledged']")).to_have_attribute("data-done", "true")
            page.screenshot(path=str(screenshot_dir / "c03-acknowledged.png"), full_page=True)
            _crew_step(base, crew_token, incident_id, "arrive")
            expect(row).to_have_attribute("data-status", "arrived", timeout=7_000)
            expect(row.locator("[data-stage='arrived']")).to_have_attribute("data-done", "true")
            assert page.evaluate("() => window.__sameDocument") is True
            page.screenshot(path=str(screenshot_dir / "c04-arrived.png"), full_page=True)

            # A second call about the same elevator joins the incident.
            page.fill("#intake-code", "100001")
            expect(page.locator("#lookup-open-incident")).to_have_attribute("data-incident", incident_id)
            page.click("#report-submit")
            expect(page.locator("#console-flash")).to_have_attribute("data-outcome", "joined")
            expect(page.locator("#board-table tbody tr")).to_have_count(1)

            # The incident page: the whole audit trail and the call-back number.
            page.click(f"#incident-{incident_id} .incident-link")
            expect(page).to_have_url(f"{base}/console/incidents/{incident_id}")
            kinds = page.locator("#trail tbody tr")
            expect(kinds).to_have_count(5)
            assert [kinds.nth(i).get_attribute("data-kind") for i in range(5)] == [
                "raised", "dispatched", "acknowledged", "arrived", "joined",
            ]  # fmt: skip
            expect(page.locator("#f-callback-phone")).to_have_text("13800000000")
            page.screenshot(path=str(screenshot_dir / "c05-incident.png"), full_page=True)

            # English.
            page.click("#lang-en")
            expect(page.locator("#incident-title")).to_have_text(f"Incident #{incident_id}")
            page.goto(f"{base}/console")
            expect(page.locator("#console-title")).to_have_text("96333 rescue console")
            expect(row.locator(".istatus")).to_have_text("Arrived")
            page.screenshot(path=str(screenshot_dir / "c06-console-en.png"), full_page=True)
            assert errors == [], errors
        finally:
            browser.close()
