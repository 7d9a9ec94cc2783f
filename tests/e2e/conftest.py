"""Browser-test fixtures: Debian's Chromium driven by Playwright (never `playwright install`), and a real
uvicorn server on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_path() -> str:
    """Debian's chromium; a failure in CI, a skip elsewhere when it is missing."""
    path = shutil.which("chromium")
    if path is None:
        reason = (
            "Debian's chromium is not installed (make browser, or apt-get install chromium fonts-noto-cjk)"
        )
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def sign_in(page: Any, base: str, username: str, next_: str) -> None:
    """Sign in through the login form as ``username`` (the seeded password), landing on ``next_``."""
    from tests.factories import PASSWORD

    page.goto(f"{base}/login?next={next_}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where page screenshots go: $LIFTWATCH_E2E_SCREENSHOTS to keep them, else the test's tmp dir."""
    path = Path(os.environ.get("LIFTWATCH_E2E_SCREENSHOTS") or tmp_path / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class ServerThread:
    """uvicorn in a background thread; ``stop`` asks it to exit and waits."""

    def __init__(self, app: FastAPI, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-e2e", daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


@contextmanager
def chromium_page(viewport: dict[str, int] = PHONE) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page in zh-CN at ``viewport`` (a 390 px phone unless told), 10 s timeouts, with the
    script errors it raises collected."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, errors
        finally:
            browser.close()


def assert_fits(page: Any, width: int = 390) -> None:
    """The page is no wider than the screen (nothing to scroll sideways)."""
    got = page.evaluate("() => document.documentElement.scrollWidth")
    assert got <= width, f"{got} px wide on a {width} px screen"


@contextmanager
def serve_seeded(
    tmp_path: Path,
    prepare: Callable[[Session, Clock], None] | None = None,
    **settings_given: Any,
) -> Iterator[tuple[str, Engine]]:
    """The whole app over a fresh SQLite database seeded with tests/factories.py (plus what ``prepare``
    adds), served by uvicorn; yields its URL and the engine. The embedded workers are off; other
    settings as given."""
    from liftwatch.app import create_app
    from liftwatch.core.clock import SystemClock
    from liftwatch.core.config import Settings
    from liftwatch.core.db import make_engine, make_session_factory
    from liftwatch.core.migrate import upgrade
    from tests.factories import seed

    url = f"sqlite:///{tmp_path / 'liftwatch.db'}"
    upgrade(url)
    engine = make_engine(url)
    clock = SystemClock()
    with make_session_factory(engine)() as session:
        seed(session, clock)
        if prepare is not None:
            prepare(session, clock)
        session.commit()
    settings = Settings(
        var_dir=tmp_path / "var", secret_key="e2e-secret-" + "x" * 40, pipeline=False, **settings_given
    )
    server = ServerThread(create_app(settings=settings, engine=engine, clock=clock), free_port())
    server.start()
    try:
        yield server.url, engine
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The seeded registry with a second entry on one file, so the timeline has an order to check."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.registry import service
    from liftwatch.registry.domain import EventKind
    from liftwatch.registry.schemas import EventIn

    def prepare(session: Session, clock: Clock) -> None:
        event = EventIn(kind=EventKind.MAJOR_REPAIR, summary="更换梯级链")
        service.record_event(session, SYSTEM_ACTOR, "11SHB000003", event, clock)

    with serve_seeded(tmp_path, prepare) as (url, _engine):
        yield url
