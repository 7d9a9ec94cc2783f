"""Acceptance (issue 9): a page of another origin that auto-submits a form to the console's false-alarm
route while the operator is signed in is refused and changes nothing; the console's own button still works.

Two attacker pages, each served by a tiny HTTP server of its own: one on another port of 127.0.0.1 (same
site, so the SameSite=Lax cookie *is* sent: the origin and token checks must refuse it) and one under the
host name ``localhost`` (another site: the cookie is not sent at all)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, free_port, serve_seeded
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

A1, A2 = "11SHA000001", "11SHA000002"


@contextmanager
def attacker_page(html: str) -> Iterator[int]:
    """Serve ``html`` at /attack.html from 127.0.0.1 on a port of its own; yields the port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, name="attacker", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _forged_form(target: str) -> str:
    return f"""<!doctype html><html><body>
<form id="f" method="post" action="{target}">
  <input name="note" value="forged"><input name="next" value="/console">
</form>
<script>document.getElementById("f").submit();</script>
</body></html>"""


def _status(engine: Engine, incident_id: int) -> str:
    from liftwatch.rescue.models import Incident

    with Session(engine) as session:
        inc = session.get(Incident, incident_id)
        assert inc is not None
        return inc.status


@pytest.fixture
def console_city(tmp_path: Path) -> Iterator[tuple[str, Engine, list[int]]]:
    """The seeded registry with two open incidents (A1, A2), served by uvicorn."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.rescue import service as rescue
    from liftwatch.rescue.domain import Source

    ids: list[int] = []

    def prepare(session: Session, clock: Clock) -> None:
        for code in (A1, A2):
            call = rescue.Report(code, Source.PHONE)
            ids.append(rescue.report(session, SYSTEM_ACTOR, call, clock, rescue.RescueSettings()).incident.id)

    with serve_seeded(tmp_path, prepare) as (url, engine):
        yield url, engine, ids


def test_forged_false_alarm_from_another_origin_is_refused(
    console_city: tuple[str, Engine, list[int]], screenshot_dir: Path
) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base, engine, (first, second) = console_city
    port = base.rsplit(":", 1)[1]
    target = f"{base}/console/incidents/{first}/false-alarm"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{base}/login?next=/console")
            page.fill("#username", "operator")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            expect(page).to_have_url(f"{base}/console")
            expect(page.locator(f"#incident-{first}")).to_be_visible()

            with attacker_page(_forged_form(target)) as evil:
                # Same site, another port: the cookie goes along, the origin (and missing token) do not pass.
                attack = context.new_page()
                attack.goto(f"http://127.0.0.1:{evil}/attack.html")
                expect(attack).to_have_url(target)
                expect(attack.locator(".error-code")).to_have_text("403")
                expect(attack.locator(".error-detail")).to_contain_text("其他网站")
                attack.screenshot(path=str(screenshot_dir / "csrf-other-port.png"), full_page=True)
                assert _status(engine, first) == "dispatched"

                # Another host name for the same machine (another site): no cookie, so no session at all.
                other_site = context.new_page()
                other_site.goto(f"http://localhost:{evil}/attack.html")
                expect(other_site).to_have_url(re.compile(rf"^http://127\.0\.0\.1:{port}/(login|console)"))
                assert _status(engine, first) == "dispatched"

            # The operator is still signed in, and the console's own form (on the incident page, with the
            # page's token and the required reason) closes the second incident.
            page.reload()
            expect(page.locator("#current-user")).to_be_visible()
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(f"{base}/console/incidents/{second}")
            page.fill("#false-alarm-note", "住户误按")
            page.click(f"#false-alarm-{second}")
            expect(page.locator("#incident-status")).to_have_attribute("data-status", "false_alarm")
            page.goto(f"{base}/console")
            expect(page.locator(f"#incident-{second}")).to_have_count(0)
            assert _status(engine, second) == "false_alarm"
            assert _status(engine, first) == "dispatched"

            # Sign-out revokes the session: the same cookie, replayed, is refused.
            cookie = next(c for c in context.cookies() if c["name"] == "liftwatch_token")
            page.click("#logout")
            expect(page).to_have_url(re.compile(r"/login"))
            context.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": base}])
            page.goto(f"{base}/console")
            expect(page).to_have_url(re.compile(r"/login\?next="))
        finally:
            browser.close()
