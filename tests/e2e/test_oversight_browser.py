"""Acceptance (issue 13, the regulator's screens): a regulator opens the fake-maintenance flags in Chinese on
a 390-pixel-wide screen, sees a signed visit's flag with its evidence in words, is told to write a note when
dismissing without one, dismisses it with a note and sees who reviewed it and why; the overdue lists open
from the same screen. No raw key and no English word on the pages, nothing wider than the screen. Chromium
against a real server."""

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
from tests.factories import PASSWORD, RESCUE_SITE, km_north

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844
A1 = "11SHA000001"
PAGE_KEYS = r"\bovs\.[a-z_]+"
#: File formats named on the export buttons.
ALLOWED = {"Excel", "CSV"}


def assert_chinese(text: str, where: str) -> None:
    for name in ("maint_a", "regulator"):  # usernames are data
        text = text.replace(name, "")
    assert not RAW_KEY.findall(text) and not re.findall(PAGE_KEYS, text), (where, text)
    assert not SNAKE.findall(text), (where, SNAKE.findall(text))
    assert [w for w in english_words(text) if w not in ALLOWED] == [], (where, english_words(text))


@pytest.fixture
def flagged_city(tmp_path: Path) -> Iterator[tuple[str, Engine, int]]:
    """The seeded registry with maint_a's repair on A1 signed at once after checking in 2 km away: its
    record carries the flags too_short and far_check_in; served by uvicorn. Yields the far_check_in flag."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
    from liftwatch.core.config import Settings
    from liftwatch.maintenance import service
    from liftwatch.maintenance.workflow import ItemResult, WorkOrderSource
    from liftwatch.registry import service as registry
    from liftwatch.registry.schemas import ElevatorUpdate
    from tests.unit.maintenance.workorder_city import actor, add_people

    found: list[int] = []

    def prepare(session: Session, clock: Clock) -> None:
        add_people(session, clock)  # type: ignore[arg-type]
        session.flush()
        site = ElevatorUpdate(latitude=RESCUE_SITE.lat, longitude=RESCUE_SITE.lon)
        registry.update_elevator(session, SYSTEM_ACTOR, A1, site, clock)
        worker = actor(session, "maint_a", Role.MAINTENANCE, "MU-A")
        far = km_north(2)
        settings = Settings()
        wo = service.open_corrective(
            session, SYSTEM_ACTOR, A1, WorkOrderSource.FAULT, "F-e2e", "门锁故障", clock, settings
        ).work_order.id
        service.assign(session, worker, wo, "maint_a", clock)
        service.check_in(session, worker, wo, far.lat, far.lon, "100001", clock)
        service.record_results(session, worker, wo, [service.ItemEntry("A1-03", ItemResult.OK)], [], clock)
        service.check_out(session, worker, wo, far.lat, far.lon, clock)
        service.sign(session, worker, wo, clock)
        session.flush()
        regulator = actor(session, "regulator", Role.REGULATOR)
        flags = {f.kind: f.id for f in service.list_flags(session, regulator)}
        found.append(flags["far_check_in"])

    with serve_seeded(tmp_path, prepare) as (url, engine):
        yield url, engine, found[0]


def test_a_regulator_dismisses_a_flag_with_a_note(
    flagged_city: tuple[str, Engine, int], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import Page, expect, sync_playwright

    base, _engine, flag = flagged_city

    def fits_the_screen(page: Page, name: str) -> None:
        """The page's content (not the shared nav bar, whose links wrap in the top bar) fits the screen:
        wide tables scroll inside their own wrapper."""
        main = (
            "(() => { const m = document.querySelector('#main'); return [m.scrollWidth, m.clientWidth]; })()"
        )
        width, room = page.evaluate(main)
        assert width <= room <= WIDTH, f"{name}: {width} px of content in {room} px on a {WIDTH} px screen"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base}/login?next=/oversight/flags")
            page.fill("#username", "regulator")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(f"{base}/oversight/flags")
            expect(page.locator("#nav-oversight")).to_have_attribute("aria-current", "page")

            # The open flags: the far check-in with its evidence in words, the unit's count.
            card = page.locator(f"#flag-{flag}")
            expect(card).to_have_attribute("data-state", "open")
            expect(card.locator(f"#flag-kind-{flag}")).to_have_text("签到位置偏远")
            expect(card.locator(f"#flag-evidence-{flag}")).to_contain_text("签到距电梯")
            expect(page.locator("#flag-count-table tr[data-unit='MU-A'] td[data-count='open']")).to_have_text(
                "2"
            )
            fits_the_screen(page, "flags")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "flags")
            page.screenshot(path=str(screenshot_dir / "o01-flags.png"), full_page=True)

            # Dismissing without a note is refused, on the form.
            card.locator(f"#dismiss-{flag}").click()
            expect(page).to_have_url(f"{base}/oversight/flags/{flag}/review")
            expect(page.locator(f"#err-note-{flag}")).to_have_text("请填写复核意见")
            expect(page.locator(f"#note-{flag}")).to_have_attribute("aria-invalid", "true")

            # With a note: dismissed, and the card says by whom and why.
            page.fill(f"#note-{flag}", "小区地下车库定位漂移，现场核实无误")
            page.click(f"#dismiss-{flag}")
            expect(page).to_have_url(f"{base}/oversight/flags/{flag}")
            expect(page.locator(f"#flag-{flag}")).to_have_attribute("data-state", "dismissed")
            expect(page.locator(f"#flag-state-{flag}")).to_have_text("已排除")
            expect(page.locator(f"#flag-review-{flag}")).to_contain_text("regulator")
            expect(page.locator(f"#flag-note-{flag}")).to_contain_text("定位漂移")
            expect(page.locator(f"#review-form-{flag}")).to_have_count(0)
            fits_the_screen(page, "reviewed flag")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "reviewed flag")
            page.screenshot(path=str(screenshot_dir / "o02-reviewed.png"), full_page=True)

            # The overdue lists are one click away, from the nav bar.
            page.click("#nav-oversight")
            expect(page.locator("#tab-contract")).to_be_visible()
            fits_the_screen(page, "overdue lists")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "overdue lists")
            assert errors == []
        finally:
            browser.close()
