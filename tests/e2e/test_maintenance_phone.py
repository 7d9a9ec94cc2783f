"""Acceptance (issue 13, the work order on the phone): a maintenance worker on a 390 x 844 phone screen, in
Chinese, checks in (the phone's position and the code in the car), ticks the visit's items, enters the
measurements, adds a photo, checks out and signs; the record then appears on the elevator file and in the
use unit's view, where its staff sign it off. No raw key and no English word on the Chinese pages, nothing
wider than the screen. Chromium against a real server."""

from __future__ import annotations

import re
import struct
import zlib
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

WIDTH, HEIGHT = 390, 844
LAT, LON = 31.2302, 121.4703
A1 = "11SHA000001"
#: ASCII words that are the standard's own on a Chinese page: units, image formats, "IC card".
ALLOWED = {"mm", "JPEG", "PNG", "WebP", "IC"}
PAGE_KEYS = r"\bmnt\.[a-z_]+"


def png() -> bytes:
    """A real 1 x 1 PNG, as a phone's camera would send (only smaller)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def assert_chinese(text: str, where: str) -> None:
    for name in ("maint_a", "owner_a"):  # usernames are data
        text = text.replace(name, "")
    assert not RAW_KEY.findall(text) and not re.findall(PAGE_KEYS, text), (where, text)
    assert not SNAKE.findall(text), (where, SNAKE.findall(text))
    assert [w for w in english_words(text) if w not in ALLOWED] == [], (where, english_words(text))


@pytest.fixture
def visit_city(tmp_path: Path) -> Iterator[tuple[str, Engine, int]]:
    """The seeded registry with the work order people (tests.unit.maintenance.workorder_city) and today's
    half-month visit of A1, assigned to maint_a; served by uvicorn."""
    from liftwatch.core.config import Settings, zone
    from liftwatch.maintenance import service
    from liftwatch.maintenance.domain import Interval
    from tests.unit.maintenance.workorder_city import actor, add_people

    found: list[int] = []

    def prepare(session: Session, clock: Clock) -> None:
        from liftwatch.accounts.actor import Role

        add_people(session, clock)  # type: ignore[arg-type]
        session.flush()
        worker = actor(session, "maint_a", Role.MAINTENANCE, "MU-A")
        settings = Settings()
        today = clock.now().astimezone(zone(settings.timezone)).date()
        out = service.open_preventive(session, worker, A1, today, Interval.HALF_MONTH, clock, settings)
        service.assign(session, worker, out.work_order.id, "maint_a", clock)
        found.append(out.work_order.id)

    with serve_seeded(tmp_path, prepare) as (url, engine):
        yield url, engine, found[0]


def test_a_worker_signs_a_visit_on_the_phone_and_the_owner_sees_it(
    visit_city: tuple[str, Engine, int], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import Page, expect, sync_playwright

    base, _engine, wo = visit_city
    photo = screenshot_dir / "car.png"
    photo.write_bytes(png())

    def fits_the_screen(page: Page, name: str) -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{name}: {width} px wide on a {WIDTH} px screen"

    def login(page: Page, username: str, next_: str) -> None:
        page.goto(f"{base}/login?next={next_}")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(f"{base}{next_}")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT},
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
                geolocation={"latitude": LAT, "longitude": LON},
                permissions=["geolocation"],
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # The list: today's visit.
            login(page, "maint_a", "/maintenance")
            expect(page.locator("#mnt-title")).to_have_text("我的维保工单")
            expect(page.locator("#nav-maintenance")).to_have_attribute("aria-current", "page")
            card = page.locator(f"#wo-{wo}")
            expect(card).to_have_attribute("data-today", "true")
            fits_the_screen(page, "work order list")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "work order list")
            page.screenshot(path=str(screenshot_dir / "m01-list.png"), full_page=True)

            # Check in: the position comes from the phone; a wrong code is refused beside its field.
            card.locator(".task-link").click()
            expect(page).to_have_url(f"{base}/maintenance/work-orders/{wo}")
            expect(page.locator("#wo-step")).to_have_attribute("data-step", "check_in")
            expect(page.locator("#in-latitude")).to_have_value(f"{LAT:.6f}")
            expect(page.locator("#in-longitude")).to_have_value(f"{LON:.6f}")
            fits_the_screen(page, "check-in")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "check-in")
            page.fill("#scanned-code", "100009")
            page.click("#step-check-in")
            expect(page.locator("#err-scanned_code")).to_contain_text("不是这台电梯的")
            page.fill("#scanned-code", "100001")
            page.click("#step-check-in")
            expect(page.locator("#wo-step")).to_have_attribute("data-step", "work")

            # Tick every item of the visit, enter the measurements, name a part, save.
            items = page.locator(".mnt-item")
            total = items.count()
            assert total == 31, total  # TSG T5002 appendix A, half-month
            for label in page.locator("label.mnt-result-ok").all():
                label.click()
            measures = page.locator(".mnt-measure input")
            assert measures.count() >= 1
            for i in range(measures.count()):
                measures.nth(i).fill("7.5")
            page.fill("#part-name", "层门滑块")
            fits_the_screen(page, "checklist")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "checklist")
            page.screenshot(path=str(screenshot_dir / "m02-checklist.png"), full_page=True)
            page.click("#save-items")
            expect(page.locator("#wo-progress")).to_have_attribute("data-done", str(total))
            expect(page.locator("#parts-list")).to_contain_text("层门滑块 × 1")

            # A photo from the camera (here: a file).
            page.set_input_files("#photo-input", str(photo))
            page.click("#photo-upload")
            expect(page.locator("#photo-list li")).to_have_count(1)

            # Check out, sign: read-only from now on.
            expect(page.locator("#out-latitude")).to_have_value(f"{LAT:.6f}")
            page.click("#step-check-out")
            expect(page.locator("#wo-step")).to_have_attribute("data-step", "sign")
            page.click("#step-sign")
            expect(page.locator("#wo-state")).to_have_attribute("data-state", "completed")
            expect(page.locator("#items-form")).to_have_count(0)
            expect(page.locator(".mnt-record[data-signed='true']")).to_have_count(1)
            expect(page.locator("#amend")).to_be_visible()
            fits_the_screen(page, "signed record")
            assert_chinese(page.evaluate(PAGE_TEXT_JS), "signed record")
            page.screenshot(path=str(screenshot_dir / "m03-signed.png"), full_page=True)

            # The elevator file has it.
            page.click("#wo-elevator")
            expect(page).to_have_url(f"{base}/elevators/{A1}")
            section = page.locator("#file-maintenance")
            expect(section.locator(f"li[data-work-order='{wo}'] .mnt-file-record")).to_have_count(1)
            expect(section).to_contain_text("签字")

            # The owner (the use unit) sees the visit and signs it off.
            owner = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
            opage = owner.new_page()
            opage.set_default_timeout(10_000)
            login(opage, "owner_a", "/maintenance/visits")
            row = opage.locator(f"#visit-{wo}")
            expect(row.locator(".mnt-signed")).to_have_attribute("data-signed", "true")
            assert_chinese(opage.evaluate(PAGE_TEXT_JS), "owner's visits")
            opage.click(f"#confirm-{wo}")
            expect(opage.locator(f"#visit-{wo}")).to_have_attribute("data-state", "confirmed")
            opage.screenshot(path=str(screenshot_dir / "m04-owner.png"), full_page=True)
            owner.close()
            assert errors == []
        finally:
            browser.close()
