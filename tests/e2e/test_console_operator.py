"""Acceptance (issue 11, the operator's console), in Chromium against a real server:

- a new alarm appears at the top of the board, highlighted, with a tone the operator can mute (the mute is
  remembered across a reload), and its source shown;
- the operator re-dispatches an incident from its page with a reason and sees the new dispatch, with the
  responder's phones; the page follows the crew by itself and does not refresh while a form is filled in;
- the Chinese incident page (dispatches, a joined call, a 119 record, the trail) and the board show no raw
  key and no English word.

The city: tests/factories.rescue_city (elevator 11SHA000001 at RESCUE_SITE; crews A1 and A2 of MU-A, RS1 of
the rescue station RS-1), with phones for the crews and the station."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import assert_chinese_only
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

# The page's text as a reader sees it, without what is not a word of the page: login names (data, shown
# as .user-name) and the language switch's "English" (the other language's name, in it).
PAGE_TEXT_JS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('.user-name, #lang-en').forEach((el) => el.remove());
  document.documentElement.appendChild(body);
  body.style.position = 'absolute'; body.style.left = '-10000px';
  const text = body.innerText;
  body.remove();
  return document.title + '\\n' + text;
}"""
STATION_PHONE = "021-63211234"
RS1_PHONE = "13912345678"
A1_PHONE = "13900000001"


@pytest.fixture
def console_city(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.registry import service as registry
    from liftwatch.registry.schemas import UnitUpdate
    from liftwatch.rescue import service as rescue
    from tests.factories import rescue_city

    def prepare(session: Session, clock: Clock) -> None:
        rescue_city(session, clock)
        registry.update_unit(
            session,
            SYSTEM_ACTOR,
            "RS-1",
            UnitUpdate(contact_name="张站长", contact_phone=STATION_PHONE),
            clock,
        )
        # the seed's phone of MU-A is "021-5555A" (a placeholder): a real one, as the page shows numbers
        registry.update_unit(session, SYSTEM_ACTOR, "MU-A", UnitUpdate(contact_phone="021-55550001"), clock)
        crews = rescue.crews_by_id(session, ["A1", "RS1"])
        crews["A1"].phone, crews["RS1"].phone = A1_PHONE, RS1_PHONE  # the crews' phones on their records

    with serve_seeded(tmp_path, prepare) as served:
        yield served


def _operator(base: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _crew(base: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": "long-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _post(base: str, path: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
    r = httpx.post(f"{base}/api/v1/rescue{path}", json=body, headers=headers, timeout=10)
    assert r.status_code == status, r.text
    return r.json()


def _login(page: Any, base: str) -> None:
    page.goto(f"{base}/login?next=/console")
    page.fill("#username", "operator")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{base}/console")
    page.wait_for_function("() => window.htmx !== undefined && window.liftwatchConsole !== undefined")


def test_a_new_alarm_lands_on_top_highlighted_with_a_sound_that_can_be_muted(
    console_city: tuple[str, Engine], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base, _engine = console_city
    operator = _operator(base)
    older = _post(base, "/incidents", operator, {"code": "100001", "persons_trapped": 1}, 201)["incident"][
        "id"
    ]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            headless=True,
        )
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _login(page, base)
            rows = page.locator("#board-table tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_have_attribute("data-new", "false")  # on the board before: not news
            page.locator("#board-title").click()  # the operator's first click lets the page make sounds
            page.evaluate("() => { window.__sameDocument = true; }")

            # A call about another elevator: the newest alarm goes to the top, highlighted, with a tone.
            new = _post(
                base, "/incidents", operator,
                {"code": "100003", "persons_trapped": 2, "caller_name": "赵先生",
                 "callback_phone": "139 0000 0003"},
                201,
            )["incident"]["id"]  # fmt: skip
            top = rows.first
            expect(top).to_have_attribute("id", f"incident-{new}", timeout=8_000)
            expect(top).to_have_attribute("data-new", "true")
            expect(top).to_have_class(re.compile(r"\bis-new\b"))
            expect(top.locator(".flag-new")).to_be_visible()
            expect(top.locator(".flag-new")).to_have_text("新报警")
            expect(top.locator(".src")).to_have_attribute("data-source", "phone")
            expect(top.locator(".src")).to_contain_text("96333来电")
            expect(top.locator(".trapped")).to_have_text("被困 2 人")
            expect(page.locator(f"#incident-{older}")).to_have_attribute("data-new", "false")
            assert [rows.nth(i).get_attribute("data-incident") for i in range(2)] == [str(new), str(older)]
            expect(page.locator("body")).to_have_attribute("data-alerts", "1")
            expect(page.locator("body")).to_have_attribute("data-sounds", "1")  # the tone was played
            expect(page.locator("#board-announce")).to_have_text(
                f"新报警 #{new}"
            )  # and a screen reader says it
            # It stays highlighted across the board's refreshes (every 3 s), without a reload.
            page.wait_for_timeout(3_500)
            expect(rows.first).to_have_attribute("data-new", "true")
            assert page.evaluate("() => window.__sameDocument") is True
            page.screenshot(path=str(screenshot_dir / "o01-new-alarm.png"), full_page=True)

            # Mute: remembered across a reload; the next alarm is highlighted but silent.
            toggle = page.locator("#sound-toggle")
            expect(toggle).to_have_attribute("aria-pressed", "false")
            toggle.click()
            expect(toggle).to_have_attribute("aria-pressed", "true")
            page.reload()
            page.wait_for_function("() => window.liftwatchConsole !== undefined")
            expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")
            page.locator("#board-title").click()
            alarm = _post(base, "/incidents", operator, {"code": "100004", "source": "iot"}, 201)["incident"][
                "id"
            ]
            expect(rows.first).to_have_attribute("id", f"incident-{alarm}", timeout=8_000)
            expect(rows.first).to_have_attribute("data-new", "true")
            expect(rows.first.locator(".src")).to_have_attribute("data-source", "iot")
            expect(rows.first.locator(".src")).to_contain_text("物联网监测")
            expect(page.locator("body")).to_have_attribute("data-alerts", "1")  # counted since the reload
            assert page.locator("body").get_attribute("data-sounds") is None  # muted: no tone
            # The one that came before the reload keeps its highlight for its minute.
            expect(page.locator(f"#incident-{new}")).to_have_attribute("data-new", "true")
            page.screenshot(path=str(screenshot_dir / "o02-muted.png"), full_page=True)
            page.locator("#sound-toggle").click()
            expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "false")
            assert errors == [], errors
        finally:
            browser.close()


def test_the_operator_redispatches_from_the_incident_page(
    console_city: tuple[str, Engine], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base, _engine = console_city
    operator = _operator(base)
    inc = _post(base, "/incidents", operator, {"code": "100001", "persons_trapped": 1}, 201)["incident"]
    assert inc["crew_id"] == "A1"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _login(page, base)
            page.locator(f"#handle-{inc['id']}").click()
            page.wait_for_url(f"{base}/console/incidents/{inc['id']}#actions")
            dispatches = page.locator("#dispatches tbody tr")
            expect(dispatches).to_have_count(1)
            expect(dispatches.first).to_have_attribute("data-crew", "A1")
            expect(dispatches.first.locator(".crew-phone")).to_have_attribute("href", f"tel:{A1_PHONE}")

            # Send the rescue station's crew, with the reason; the first crew stays on the job.
            page.select_option("#redispatch-target", "crew:RS1")
            page.fill("#redispatch-reason", "一组在高架上堵车")
            page.screenshot(path=str(screenshot_dir / "o03-redispatch-form.png"), full_page=True)
            page.locator("#redispatch-submit").click()
            page.wait_for_url(f"{base}/console/incidents/{inc['id']}?done=redispatched")
            expect(page.locator("#action-done")).to_have_text("已派单。")
            expect(dispatches).to_have_count(2)
            sent = page.locator("#dispatches tr[data-crew='RS1']")
            expect(sent).to_have_attribute("data-level", "L2")
            expect(sent).to_have_attribute("data-active", "true")
            expect(sent.locator(".crew-phone")).to_have_attribute("href", f"tel:{RS1_PHONE}")
            expect(sent.locator(".unit-phone")).to_have_attribute(
                "href", f"tel:{STATION_PHONE}"
            )  # the station
            expect(sent).to_contain_text("黄浦救援站")
            expect(sent).to_contain_text("张站长")
            expect(page.locator("#dispatches tr[data-crew='A1']")).to_have_attribute("data-active", "true")
            expect(page.locator("#incident-level")).to_have_text("L2")
            last = page.locator("#trail tbody tr").last
            expect(last).to_have_attribute("data-kind", "redispatched")
            expect(last).to_contain_text("人工派单")
            expect(last).to_contain_text("一组在高架上堵车")
            expect(last.locator(".user-name")).to_have_text("operator")
            page.screenshot(path=str(screenshot_dir / "o04-redispatched.png"), full_page=True)

            # The same form sent again (a double submit): nothing sent twice.
            r = httpx.post(
                f"{base}/api/v1/rescue/incidents/{inc['id']}/redispatch",
                json={"crew_id": "RS1", "reason": "一组在高架上堵车"},
                headers=operator,
                timeout=10,
            )
            assert r.status_code == 200

            # The page follows the crew by itself (every 5 s), without a reload...
            page.evaluate("() => { window.__sameDocument = true; }")
            _post(base, f"/incidents/{inc['id']}/acknowledge", _crew(base, "crew_rs"))
            expect(page.locator("#incident-status")).to_have_text("已响应", timeout=8_000)
            expect(page.locator("#dispatches tr[data-crew='RS1'] [data-time='acknowledged']")).to_be_visible()
            assert page.evaluate("() => window.__sameDocument") is True
            # ...but not while the operator is typing in one of its forms.
            page.fill("#withdraw-reason", "救援站已接手")
            page.locator("#withdraw-reason").blur()
            _post(base, f"/incidents/{inc['id']}/arrive", _crew(base, "crew_rs"))
            expect(page.locator(".live-paused")).to_be_visible(timeout=8_000)
            expect(page.locator("#incident-status")).to_have_text("已响应")
            expect(page.locator("#withdraw-reason")).to_have_value("救援站已接手")

            # Withdraw the first crew by hand, with that reason.
            page.select_option(
                "#withdraw-dispatch",
                page.locator("#dispatches tr[data-crew='A1']").get_attribute("data-dispatch"),
            )
            page.locator("#withdraw-submit").click()
            page.wait_for_url(f"{base}/console/incidents/{inc['id']}?done=withdrawn")
            expect(page.locator("#incident-status")).to_have_text("已到场")
            withdrawn = page.locator("#dispatches tr[data-crew='A1']")
            expect(withdrawn).to_have_attribute("data-active", "false")
            expect(withdrawn.locator(".withdrawn-why")).to_contain_text("救援站已接手")
            page.screenshot(path=str(screenshot_dir / "o05-withdrawn.png"), full_page=True)
            assert errors == [], errors
        finally:
            browser.close()


def test_no_raw_key_or_english_word_on_the_chinese_incident_page(
    console_city: tuple[str, Engine], screenshot_dir: Path
) -> None:
    """An incident with everything on it: two calls (the second joined, with its note), the L1 crew, a
    re-dispatch to the station, an escalation and the 119 record with the fire service's arrival, a
    withdrawal, the trail of all of it. Its page and the board read in Chinese only."""
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base, _engine = console_city
    operator = _operator(base)
    inc = _post(
        base, "/incidents", operator,
        {"code": "100001", "persons_trapped": 2, "caller_name": "李女士", "callback_phone": "13800000000",
         "notes": "九楼，轿厢灯亮"},
        201,
    )["incident"]["id"]  # fmt: skip
    _post(
        base, "/incidents", operator,
        {"code": "11sha 000001", "caller_name": "物业王先生", "callback_phone": "021-5555 1234",
         "notes": "物业已到场安抚"},
    )  # fmt: skip
    _post(base, f"/incidents/{inc}/acknowledge", _crew(base, "crew_a1"))
    rs = _post(base, f"/incidents/{inc}/redispatch", operator, {"crew_id": "RS1", "reason": "一组堵车"}, 201)
    _post(base, f"/incidents/{inc}/escalate", operator, {"reason": "被困者身体不适", "from_level": "L2"})
    _post(base, f"/incidents/{inc}/fire-call", operator, {"reference": "F-2026-0117"}, 201)
    _post(base, f"/incidents/{inc}/fire-arrival", operator, {})
    _post(base, f"/incidents/{inc}/dispatches/{rs['id']}/withdraw", operator, {"reason": "消防已到场"})
    _post(base, "/incidents", operator, {"code": "100004", "source": "alarm_button"}, 201)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _login(page, base)
            expect(page.locator(f"#incident-{inc}")).to_be_visible()
            page.screenshot(path=str(screenshot_dir / "o06-board.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "board")

            page.goto(f"{base}/console/incidents/{inc}")
            expect(page.locator("#dispatches tbody tr")).to_have_count(3)
            expect(page.locator("#calls tbody tr")).to_have_count(2)
            expect(page.locator("#calls tbody tr").nth(1).locator(".call-note")).to_have_text(
                "物业已到场安抚"
            )
            expect(page.locator("#calls tbody tr").nth(1).locator(".call-phone")).to_have_text("021-55551234")
            expect(page.locator("#fire-record")).to_have_attribute("data-called", "true")
            expect(page.locator("#fire-reference")).to_have_text("F-2026-0117")
            expect(page.locator("#fire-arrived-at")).not_to_have_text("—")
            kinds = [
                page.locator("#trail tbody tr").nth(i).get_attribute("data-kind")
                for i in range(page.locator("#trail tbody tr").count())
            ]
            assert kinds == [
                "raised", "dispatched", "joined", "acknowledged", "redispatched", "escalated", "fire_called",
                "fire_arrived", "withdrawn",
            ], kinds  # fmt: skip
            trail = page.locator("#trail").inner_text()
            for sentence in (
                "升至：三级：消防/公安",
                "原因：接警员人工升级",
                "说明：被困者身体不适",
                "班组：救援站（RS1）",
            ):
                assert sentence in trail, sentence
            for raw in ("eta_s", "all_released", "crew:", "source:", "True", "False", "None"):
                assert raw not in trail, raw
            page.screenshot(path=str(screenshot_dir / "o07-incident.png"), full_page=True)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "incident page")
            # The live part, as it is refreshed, says the same.
            page.wait_for_timeout(5_500)
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "incident page, refreshed")
            assert errors == [], errors
        finally:
            browser.close()
