"""Acceptance (issue 15, the city dashboard): a regulator opens /dashboard in Chinese; the map draws the
district boundaries (SVG paths, derived from the registry: no tile server) and the elevators as clustered
points (Leaflet.markercluster), the trend and ranking charts are drawn (ECharts, SVG), the colour toggle
switches to risk grades, and the drill-down city -> district -> street -> use unit narrows the tiles down to
the unit's elevators, which link to their files. On a 390 px phone nothing overflows sideways, and the
English switch translates the page. Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded, sign_in

pytestmark = pytest.mark.e2e

# Two tight pairs a few kilometres apart: at the district view each pair is one cluster.
COORDS = {
    "11SHA000001": (31.23000, 121.47000),
    "11SHA000002": (31.23002, 121.47003),
    "11SHB000003": (31.19500, 121.43700),
    "11SHB000004": (31.19502, 121.43703),
}


def _prepare(session: Session, clock: Clock) -> None:
    """The seeded registry with coordinates and one open entrapment on B3 (徐汇区, used by UU-B)."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
    from liftwatch.registry import service as registry
    from liftwatch.registry.schemas import ElevatorUpdate
    from liftwatch.rescue import service as rescue
    from liftwatch.rescue.domain import Source

    for code, (lat, lon) in COORDS.items():
        update = ElevatorUpdate(latitude=lat, longitude=lon)
        registry.update_elevator(session, SYSTEM_ACTOR, code, update, clock)
    operator = Actor("operator", Role.RESCUE_OPERATOR)
    call = rescue.Report("11SHB000003", Source.PHONE, persons_trapped=1)
    rescue.report(session, operator, call, clock, rescue.RescueSettings())


@pytest.fixture
def city(tmp_path: Path) -> Iterator[str]:
    with serve_seeded(tmp_path, _prepare) as (url, _engine):
        yield url


@pytest.fixture
def crowded_city(tmp_path: Path) -> Iterator[str]:
    """The same city with at most 3 elevators drawn one by one: its 4 are counted squares."""
    with serve_seeded(tmp_path, _prepare, map_points_max=3) as (url, _engine):
        yield url


def test_the_dashboard_map_charts_and_drill_down(city: str, screenshot_dir: Path) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            sign_in(page, base, "regulator", "/dashboard")
            expect(page).to_have_url(f"{base}/dashboard")
            expect(page.locator("#dashboard-title")).to_have_text("城市电梯安全驾驶舱")
            expect(page.locator("#nav-dashboard")).to_have_attribute("aria-current", "page")
            expect(page.locator("#tile-in-service")).to_have_attribute("data-value", "4")
            expect(page.locator("#tile-open")).to_have_attribute("data-value", "1")
            expect(page.locator("#tile-entrapments")).to_have_attribute("data-value", "1")

            # The map: two derived district cells as SVG paths, no tiles, the points clustered.
            expect(page.locator("#dashboard-map path.lw-district")).to_have_count(2)
            expect(page.locator("#dashboard-map")).to_have_attribute("data-points", "4")
            assert page.locator("#dashboard-map .leaflet-tile").count() == 0
            expect(page.locator("#dashboard-map .marker-cluster").first).to_be_visible()
            expect(page.locator("#dashboard-map .district-label").first).to_be_visible()
            # The charts: ECharts drew SVG with the trend's bars and the ranking's two districts.
            expect(page.locator("#chart-trend svg path").first).to_be_attached()
            expect(page.locator("#chart-ranking")).to_have_attribute("data-bars", "2")
            # The colour toggle: risk grades and their legend.
            page.click("#colour-grade")
            expect(page.locator("#dashboard-map")).to_have_attribute("data-mode", "grade")
            expect(page.locator("#legend-grade")).to_be_visible()
            expect(page.locator("#legend-state")).to_be_hidden()
            page.screenshot(path=str(screenshot_dir / "d01-dashboard.png"), full_page=True)

            # Drill down: district -> street -> use unit, each narrowing the tiles; the unit's elevators
            # link to their files.
            page.locator("#dashboard-children a.drill", has_text="徐汇区").click()
            expect(page.locator("#dashboard-crumbs li")).to_have_count(2)
            expect(page.locator("#tile-in-service")).to_have_attribute("data-value", "2")
            expect(page.locator("#dashboard-map path.lw-district")).to_have_count(2)
            page.locator("#dashboard-children a.drill", has_text="天平路街道").click()
            expect(page.locator("#dashboard-crumbs li")).to_have_count(3)
            page.locator("#dashboard-children a.drill", has_text="徐汇置业物业服务公司").click()
            expect(page.locator("#dashboard-crumbs li")).to_have_count(4)
            expect(page.locator("#dashboard-crumbs [aria-current]")).to_have_text("徐汇置业物业服务公司")
            expect(page.locator("#tile-in-service")).to_have_attribute("data-value", "2")
            expect(page.locator("#tile-open")).to_have_attribute("data-value", "1")
            expect(page.locator("#dashboard-map")).to_have_attribute("data-points", "2")
            expect(page.locator("#dashboard-map")).to_have_attribute("data-incidents", "1")
            expect(page.locator("#chart-ranking")).to_have_attribute("data-bars", "2")
            page.locator("#dashboard-children a.drill", has_text="11SHB000003").click()
            expect(page).to_have_url(f"{base}/elevators/11SHB000003")
            page.go_back()

            page.click("#lang-en")
            expect(page.locator("#dashboard-title")).to_have_text("City elevator dashboard")
            expect(page.locator("#children-title")).to_have_text("Elevators")
            assert errors == [], errors

            # A phone: everything fits the width.
            phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            small = phone.new_page()
            small.set_default_timeout(10_000)
            sign_in(small, base, "regulator", "/dashboard")
            expect(small.locator("#dashboard-title")).to_be_visible()
            expect(small.locator("#dashboard-map path.lw-district")).to_have_count(2)
            expect(small.locator("#chart-ranking")).to_have_attribute("data-bars", "2")
            width = small.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{width} px wide on a 390 px screen"
            small.screenshot(path=str(screenshot_dir / "d02-dashboard-phone.png"), full_page=True)
        finally:
            browser.close()


def test_a_crowded_view_is_counted_squares_until_zoomed_in(crowded_city: str) -> None:
    """Over the points limit the map draws squares with their elevators counted (the elevator in trouble
    still a point); a click on a square zooms into it, the map asks again and draws each elevator."""
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            sign_in(page, crowded_city, "regulator", "/dashboard")
            the_map = page.locator("#dashboard-map")
            expect(the_map).to_have_attribute("data-view", "cells")
            expect(the_map).to_have_attribute("data-squares", "2")  # the two pairs, kilometres apart
            expect(the_map).to_have_attribute("data-points", "1")  # B3, trapped
            expect(page.locator("#map-note")).to_contain_text("4 台电梯按方格计数显示")
            squares = page.locator("#dashboard-map .lw-square")
            expect(squares).to_have_count(2)
            assert sorted(squares.all_inner_texts()) == ["2", "2"]
            # the square of 静安区's pair: the other lies under B3's incident marker, which stays on top
            trapped = page.locator("#dashboard-map .lw-incident").bounding_box()
            assert trapped is not None
            free = [
                sq
                for sq in squares.all()
                if (box := sq.bounding_box()) is not None
                and (
                    box["x"] > trapped["x"] + trapped["width"]
                    or box["x"] + box["width"] < trapped["x"]
                    or box["y"] > trapped["y"] + trapped["height"]
                    or box["y"] + box["height"] < trapped["y"]
                )
            ]
            assert len(free) == 1
            free[0].click()
            expect(the_map).to_have_attribute("data-view", "points")
            expect(the_map).to_have_attribute("data-points", "2")
            expect(squares).to_have_count(0)
            expect(page.locator("#map-note")).not_to_contain_text("按方格")
            # a district of two is drawn one by one from the start
            page.locator("#dashboard-children a.drill", has_text="静安区").click()
            expect(the_map).to_have_attribute("data-view", "points")
            expect(the_map).to_have_attribute("data-points", "2")
            assert errors == [], errors
        finally:
            browser.close()
