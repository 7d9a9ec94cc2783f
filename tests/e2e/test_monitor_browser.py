"""A real browser on /monitor: the counts, a marker per faulty elevator on the map, and a fault written
through the telemetry service showing up in the list, the counts and on the map without a reload (htmx polls
every 5 s); then the elevator file's live panel and fault history, and the English page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from liftwatch.telemetry.faults import SEVERITY, FaultChange, FaultType
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded, sign_in

pytestmark = pytest.mark.e2e

A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
COORDS = {
    A1: (31.2290, 121.4480),
    A2: (31.2420, 121.4610),
    B3: (31.1950, 121.4370),
    B4: (31.1830, 121.4450),
}


@dataclass
class Monitored:
    url: str
    engine: Engine


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _raise(code: str, fault_type: FaultType, started: datetime) -> FaultChange:
    return FaultChange(code, fault_type, True, _ms(started), _ms(started), SEVERITY[fault_type], ("e2e",))


def _status(code: str, online: bool, seen: datetime, **fields: Any) -> dict[str, Any]:
    from liftwatch.telemetry import service as telemetry

    row: dict[str, Any] = {f: None for f in telemetry.LIVE_FIELDS}
    row.update(registration_code=code, online=online, last_seen_at=seen, updated_at=seen, open_faults=[])
    row.update(fields)
    return row


@pytest.fixture
def monitored_city(tmp_path: Path) -> Iterator[Monitored]:
    """The seeded registry with coordinates, live status on three elevators and two open faults."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.registry import service as registry
    from liftwatch.registry.schemas import ElevatorUpdate
    from liftwatch.telemetry import service as telemetry

    def prepare(session: Session, clock: Clock) -> None:
        now = clock.now()
        for code, (lat, lon) in COORDS.items():
            registry.update_elevator(
                session, SYSTEM_ACTOR, code, ElevatorUpdate(latitude=lat, longitude=lon), clock
            )
        telemetry.upsert_live_status(
            session,
            [
                _status(
                    A1,
                    True,
                    now,
                    mode=1,
                    running=False,
                    direction=0,
                    door_zone=False,
                    door_closed=True,
                    passenger=True,
                    floor=9,
                    power=True,
                    speed=0.0,
                    trips=48213,
                    door_cycles=96120,
                    run_hours=5120.4,
                ),
                _status(A2, True, now, mode=1, running=True, direction=2, floor=3, power=True, speed=1.6),
                _status(B3, False, now - timedelta(minutes=20)),
            ],
        )
        telemetry.apply_fault_changes(
            session,
            [
                _raise(A1, FaultType.ENTRAPMENT, now - timedelta(minutes=4)),
                _raise(A2, FaultType.DOOR_OPEN_FAILURE, now - timedelta(minutes=12)),
                _raise(B3, FaultType.TERMINAL_OFFLINE, now - timedelta(minutes=18)),
            ],
        )

    with serve_seeded(tmp_path, prepare) as (url, engine):
        yield Monitored(url, engine)


def _write_fault(engine: Engine, code: str, fault_type: FaultType) -> None:
    """What the detector does: store a raised fault through the telemetry service."""
    from liftwatch.core.db import make_session_factory
    from liftwatch.telemetry import service as telemetry

    with make_session_factory(engine)() as session:
        now = datetime.now().astimezone()
        telemetry.apply_fault_changes(session, [_raise(code, fault_type, now)])
        session.commit()


def test_monitor_updates_without_reload(monitored_city: Monitored, screenshot_dir: Path) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = monitored_city.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            sign_in(page, base, "regulator", "/monitor")
            expect(page).to_have_url(f"{base}/monitor")
            expect(page.locator("#nav-monitor")).to_have_attribute("aria-current", "page")
            expect(page.locator("#monitor-title")).to_have_text("实时监测")

            # The counts.
            expect(page.locator("#count-elevators")).to_have_text("4")
            expect(page.locator("#count-reporting")).to_have_text("3")
            expect(page.locator("#count-offline")).to_have_text("1")
            expect(page.locator("#count-never_reported")).to_have_text("1")
            expect(page.locator("#count-critical")).to_have_text("1")
            expect(page.locator("#count-major")).to_have_text("1")
            expect(page.locator("#count-trapped")).to_have_text("1")
            rows = page.locator("#monitor-table tbody tr")
            expect(rows).to_have_count(3)
            expect(rows.nth(0)).to_have_attribute("data-code", A1)
            expect(rows.nth(0)).to_contain_text("困人")

            # The map: Leaflet loaded, our own base layer (grid and district names), one marker per row.
            page.wait_for_function("() => window.L !== undefined && window.htmx !== undefined")
            markers = page.locator("#monitor-map path.lw-marker")
            expect(markers).to_have_count(3)
            expect(page.locator("#monitor-map path.lw-marker-critical")).to_have_count(1)
            expect(page.locator("#monitor-map path.lw-marker-offline")).to_have_count(1)
            expect(page.locator("#monitor-map .district-label").first).to_be_visible()
            assert page.locator("#monitor-map .leaflet-tile").count() == 0  # no tiles offline
            page.screenshot(path=str(screenshot_dir / "m01-monitor.png"), full_page=True)

            # A new entrapment stored by the service shows up without a reload within ~7 s.
            page.evaluate("() => { window.__sameDocument = true; }")
            _write_fault(monitored_city.engine, B4, FaultType.ENTRAPMENT)
            expect(rows.nth(0)).to_have_attribute("data-code", B4, timeout=7_000)
            expect(rows).to_have_count(4)
            expect(page.locator("#count-trapped")).to_have_text("2", timeout=7_000)
            expect(page.locator("#count-critical")).to_have_text("2")
            expect(markers).to_have_count(4, timeout=7_000)
            expect(page.locator("#monitor-map path.lw-marker-critical")).to_have_count(2)
            assert page.evaluate("() => window.__sameDocument") is True
            page.screenshot(path=str(screenshot_dir / "m02-monitor-updated.png"), full_page=True)

            # Filter by severity: the list and the map follow, the URL is pushed, still no reload.
            page.select_option("#f-severity", "major")
            expect(rows).to_have_count(1)
            expect(rows.nth(0)).to_have_attribute("data-code", A2)
            expect(page).to_have_url(re.compile(r"/monitor\?severity=major$"))
            expect(markers).to_have_count(1)
            assert page.evaluate("() => window.__sameDocument") is True
            page.select_option("#f-severity", "")
            expect(rows).to_have_count(4)
            expect(markers).to_have_count(4)

            # A marker's popup leads to the elevator file.
            page.locator("#monitor-map path.lw-marker-major").click()
            popup = page.locator(".leaflet-popup-content")
            expect(popup).to_contain_text(A2)
            expect(popup).to_contain_text("开门故障")
            page.wait_for_timeout(400)  # the popup's auto-pan
            page.screenshot(path=str(screenshot_dir / "m03-popup.png"), full_page=False)
            popup.locator("a", has_text="打开档案").click()
            expect(page).to_have_url(f"{base}/elevators/{A2}")
            expect(page.locator("#live-connection")).to_have_text("在线")
            expect(page.locator("#live-car")).to_have_text("下行")
            expect(page.locator("#fault-history tbody tr")).to_have_count(1)
            expect(page.locator("#fault-history tbody tr").nth(0)).to_contain_text("未解除")

            page.goto(f"{base}/elevators/{A1}")
            expect(page.locator("#live-trips")).to_have_text("48,213")
            expect(page.locator("#timeline li[data-kind='fault']")).to_contain_text("困人")
            page.screenshot(path=str(screenshot_dir / "m04-file.png"), full_page=True)

            # English.
            page.goto(f"{base}/monitor")
            page.click("#lang-en")
            expect(page.locator("#monitor-title")).to_have_text("Live monitoring")
            expect(rows.nth(0)).to_contain_text("Entrapment")
            expect(markers).to_have_count(4)
            page.screenshot(path=str(screenshot_dir / "m05-monitor-en.png"), full_page=True)

            # A phone: the same page, one column.
            phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            phone.add_cookies(
                [{"name": c["name"], "value": c["value"], "url": base} for c in context.cookies()]
            )
            mobile = phone.new_page()
            mobile.goto(f"{base}/monitor")
            expect(mobile.locator("#monitor-map path.lw-marker")).to_have_count(4)
            mobile.screenshot(path=str(screenshot_dir / "m06-monitor-phone.png"), full_page=True)

            assert errors == [], errors
        finally:
            browser.close()
