"""Acceptance (issue 11, the crew's phone): a crew on a 390 x 844 phone screen, in Chinese, sees a new task
appear without reloading, acknowledges, arrives (the phone's position goes with the arrival), releases and
completes with a cause; the task list and the task page show no raw key and no English word, and nothing
is wider than the screen. Chromium against a real server."""

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
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844  # the phone's screen, in CSS pixels
LAT, LON = 31.2302, 121.4703  # where the phone says it is, beside the elevator
RAW_KEY = re.compile(r"\b(?:crew|nav|common|console|error|incident_status|level|source|cause|stage)\.[a-z_]+")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")

# The page's text as a reader sees it, without the two things that are not words of the page: the user's
# login name (data) and the language switch's "English" (the name of the other language, in it).
PAGE_TEXT_JS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('#current-user .user-name, #lang-en').forEach((el) => el.remove());
  document.documentElement.appendChild(body);  // innerText needs a rendered element
  body.style.position = 'absolute'; body.style.left = '-10000px';
  const text = body.innerText;
  body.remove();
  return document.title + '\\n' + text;
}"""


def english_words(text: str) -> list[str]:
    """ASCII words in ``text`` that are not codes or numbers (a code has a digit: 11SHA000001, #12)."""
    return [w for w in WORD.findall(text) if not any(c.isdigit() for c in w)]


def assert_chinese_only(text: str, where: str) -> None:
    assert not RAW_KEY.findall(text), (where, RAW_KEY.findall(text))
    assert not SNAKE.findall(text), (where, SNAKE.findall(text))
    assert english_words(text) == [], (where, english_words(text), text)


def test_the_scan_finds_what_it_is_for() -> None:
    """The text scan itself: it catches keys, snake_case and English words, and lets codes through."""
    assert RAW_KEY.findall("状态 crew.step_arrive") == ["crew.step_arrive"]
    assert SNAKE.findall("来源 alarm_button") == ["alarm_button"]
    assert english_words("任务 #12 · 11SHA000001 · 17:05 Arrived") == ["Arrived"]
    assert english_words("被困 2 人 · L1") == []


@pytest.fixture
def crew_city(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """The seeded registry with A1 located and the crews of tests.factories.rescue_city (crew_a1 is the
    nearest crew of MU-A), served by uvicorn."""
    from tests.factories import rescue_city

    def prepare(session: Session, clock: Clock) -> None:
        rescue_city(session, clock)

    with serve_seeded(tmp_path, prepare) as served:
        yield served


def test_crew_phone_acknowledges_arrives_releases_and_completes(
    crew_city: tuple[str, Engine], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import Page, expect, sync_playwright

    from liftwatch.accounts.actor import Actor, Role
    from liftwatch.core.db import make_session_factory
    from liftwatch.rescue import service as rescue

    base, engine = crew_city
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200, r.text
    operator = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def fits_the_screen(page: Page, name: str) -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{name}: {width} px wide on a {WIDTH} px screen"

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

            page.goto(f"{base}/login?next=/crew")
            page.fill("#username", "crew_a1")
            page.fill("#password", "long-password")
            page.click("#login-submit")
            expect(page).to_have_url(f"{base}/crew")
            expect(page.locator("#crew-title")).to_have_text("我的任务")
            expect(page.locator("#nav-crew")).to_have_attribute("aria-current", "page")
            expect(page.locator("#crew-empty")).to_be_visible()
            page.wait_for_function("() => window.htmx !== undefined")

            # A call comes in at the console: the task appears on the phone without a reload.
            page.evaluate("() => { window.__sameDocument = true; }")
            r = httpx.post(
                f"{base}/api/v1/rescue/incidents",
                json={
                    "code": "100001",
                    "persons_trapped": 2,
                    "caller_name": "李女士",
                    "callback_phone": "13800000000",
                    "notes": "九楼，轿厢灯亮",
                },
                headers=operator,
                timeout=10,
            )
            assert r.status_code == 201, r.text
            incident_id = r.json()["incident"]["id"]
            card = page.locator(f"#task-{incident_id}")
            expect(card).to_have_attribute("data-step", "acknowledge", timeout=8_000)
            assert page.evaluate("() => window.__sameDocument") is True
            expect(card.locator(".task-place")).to_have_text("静安区 · 南京西路街道 · 静安区某路01号")
            expect(card).to_contain_text("被困 2 人")
            expect(card.locator(".deadline")).to_contain_text("接单时限")
            fits_the_screen(page, "task list")
            page.screenshot(path=str(screenshot_dir / "k01-task-list.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "task list")

            # The task page: acknowledge.
            card.locator(".task-link").click()
            expect(page).to_have_url(f"{base}/crew/incidents/{incident_id}")
            step = page.locator("#crew-step")
            expect(step).to_have_attribute("data-step", "acknowledge")
            expect(page.locator("#f-callback-phone")).to_have_attribute("href", "tel:13800000000")
            button = page.locator("#step-acknowledge")
            box = button.bounding_box()
            assert box is not None and box["width"] >= 300 and box["height"] >= 44  # a thumb's target
            fits_the_screen(page, "task page")
            page.screenshot(path=str(screenshot_dir / "k02-acknowledge.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "task page (dispatched)")
            button.click()
            expect(step).to_have_attribute("data-step", "arrive")
            expect(page.locator("#task-status")).to_have_text("已响应")
            expect(page.locator("#task-deadline")).to_contain_text("到场时限")

            # Arrive: the phone's position goes with it.
            page.locator("#step-arrive").click()
            expect(step).to_have_attribute("data-step", "release")
            expect(page.locator("#task-status")).to_have_text("已到场")
            with make_session_factory(engine)() as session:
                crew = rescue.crew_of(session, Actor("crew_a1", Role.MAINTENANCE))
                assert crew is not None
                assert (crew.latitude, crew.longitude) == (LAT, LON)
            page.screenshot(path=str(screenshot_dir / "k03-release.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "task page (arrived)")

            # Release: everyone is out (the default).
            expect(page.locator("#released-all")).to_be_checked()
            page.locator("#step-release").click()
            expect(step).to_have_attribute("data-step", "complete")
            expect(page.locator("#task-status")).to_have_text("已解救")

            # Complete with the cause.
            page.select_option("#cause", "electro_mechanical")
            page.fill("#cause-detail", "门锁回路接触不良，已修复")
            fits_the_screen(page, "completion form")
            page.screenshot(path=str(screenshot_dir / "k04-complete.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "task page (released)")
            page.locator("#step-complete").click()
            expect(page.locator("#task-status")).to_have_attribute("data-status", "completed")
            expect(page.locator("#task-status")).to_have_text("已结案")
            expect(page.locator("#crew-closed")).to_be_visible()
            expect(page.locator("#f-cause")).to_have_text("机电故障 · 门锁回路接触不良，已修复")
            expect(page.locator("#task-stages [data-done='true']")).to_have_count(6)
            fits_the_screen(page, "completed task")
            page.screenshot(path=str(screenshot_dir / "k05-completed.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "task page (completed)")

            # Back to the list: no task left, the incident among the recent ones.
            page.locator("#back-to-tasks").click()
            expect(page.locator("#crew-empty")).to_be_visible()
            recent = page.locator(f"#crew-recent tr[data-incident='{incident_id}']")
            expect(recent).to_have_attribute("data-status", "completed")
            fits_the_screen(page, "task list after")
            page.screenshot(path=str(screenshot_dir / "k06-list-after.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "task list (after)")

            r = httpx.get(f"{base}/api/v1/rescue/incidents/{incident_id}", headers=operator, timeout=10)
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["status"], body["cause"], body["all_released"]) == (
                "completed",
                "electro_mechanical",
                True,
            )
            assert [e["kind"] for e in body["events"]][-4:] == [
                "acknowledged",
                "arrived",
                "released",
                "completed",
            ]
            assert errors == [], errors
        finally:
            browser.close()
