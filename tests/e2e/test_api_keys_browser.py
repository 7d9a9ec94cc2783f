"""Acceptance: an admin makes a gateway API key on the page, sees it once, the gateway uses it, the page
shows its last use, and a revocation (htmx, after a confirmation) shuts the gateway out at once; on a real
browser against a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

BEAT = [{"type": "heartbeat", "registration_code": "11SHA000001", "msg_id": "b-1", "seq": 1, "ts": 1}]


def _send(base: str, key: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/telemetry", headers={"X-API-Key": key}, json=BEAT, timeout=10)


def test_admin_creates_uses_and_revokes_a_gateway_key(tmp_path: Path, screenshot_dir: Path) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    with serve_seeded(tmp_path) as (base, _engine), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base}/login")
            page.fill("#username", "admin")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.click("#nav-api-keys")
            expect(page).to_have_url(f"{base}/admin/api-keys")
            expect(page.locator("#api-keys-title")).to_have_text("物联网网关 API 密钥")
            expect(page.locator("#api-keys-empty")).to_be_visible()

            page.select_option("#k-username", "gateway")
            page.fill("#k-name", "静安 1 号楼网关")
            page.select_option("#k-days", "90")
            page.click("#api-key-submit")
            expect(page.locator("#new-key-once")).to_contain_text("密钥仅显示这一次")
            key = page.locator("#new-key-value").input_value()
            prefix = page.locator("#new-key").get_attribute("data-prefix")
            assert prefix is not None and key.startswith(prefix + "_")
            page.screenshot(path=str(screenshot_dir / "k01-created.png"), full_page=True)

            # The pipeline is off in this server: an accepted key gets as far as 503, a bad one stops at 401.
            assert _send(base, key).status_code == 503
            page.goto(f"{base}/admin/api-keys")
            expect(page.locator("#new-key")).to_have_count(0)
            assert key not in page.content()
            row = page.locator(f"tr[data-prefix='{prefix}']")
            expect(row).to_have_attribute("data-state", "active")
            expect(row.locator(".last-used")).not_to_contain_text("从未使用")
            page.wait_for_function("() => window.htmx !== undefined")

            page.evaluate("() => { window.__sameDocument = true; }")
            page.once("dialog", lambda dialog: dialog.accept())
            page.click(f"#revoke-{prefix}")
            expect(row).to_have_attribute("data-state", "revoked")
            expect(row.locator(".key-state")).to_have_text("已吊销")
            assert page.evaluate("() => window.__sameDocument") is True
            page.screenshot(path=str(screenshot_dir / "k02-revoked.png"), full_page=True)
            r = _send(base, key)
            assert r.status_code == 401 and "revoked" in r.json()["detail"]

            page.click("#lang-en")
            expect(page.locator("#api-keys-title")).to_have_text("IoT gateway API keys")
            expect(page.locator("#nav-api-keys")).to_have_text("Gateway keys")
            expect(row.locator(".key-state")).to_have_text("Revoked")
            assert errors == []
        finally:
            browser.close()
