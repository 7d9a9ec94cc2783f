"""The public's rate limit (core/ratelimit.py): an address sending more than the limit without credentials
gets 429 with Retry-After (the API's error shape under /api/, a page elsewhere); a signed-in request, the
static files and the probes are never counted; the window slides."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from liftwatch.app import create_app
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.ratelimit import PublicRateLimitMiddleware, SlidingWindow


def test_the_window_refuses_the_hit_over_the_limit_and_slides() -> None:
    w = SlidingWindow(limit=3, window_s=60)
    assert [w.hit("a", t) for t in (0, 10, 20)] == [None, None, None]
    assert w.hit("a", 30) == pytest.approx(30)  # the first hit leaves the window at 60
    assert w.hit("b", 30) is None  # another address has its own window
    assert w.hit("a", 60) is None  # the hit at 0 has left: one place free
    assert w.hit("a", 61) == pytest.approx(9)  # hits at 10, 20, 60: the one at 10 leaves at 70
    with pytest.raises(ValueError):
        SlidingWindow(limit=0, window_s=60)


def test_the_window_forgets_the_least_recently_used_addresses() -> None:
    w = SlidingWindow(limit=1, window_s=60, max_keys=2)
    assert w.hit("a", 0) is None and w.hit("b", 0) is None
    assert w.hit("c", 0) is None  # "a" forgotten: memory stays bounded
    assert w.hit("a", 1) is None
    assert w.hit("c", 1) is not None


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _ok(_request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _client(per_minute: int, clock: _Clock) -> TestClient:
    paths = ["/p/1", "/api/v1/public/elevators/1", "/static/app.css", "/healthz"]
    app = Starlette(routes=[Route(p, _ok) for p in paths])
    app.add_middleware(
        PublicRateLimitMiddleware, per_minute=per_minute, cookie_name="liftwatch_token", clock=clock
    )
    return TestClient(app)


def test_an_address_over_the_limit_gets_429_with_retry_after() -> None:
    clock = _Clock()
    client = _client(3, clock)
    assert [client.get("/p/1").status_code for _ in range(3)] == [200, 200, 200]
    page = client.get("/p/1")
    assert page.status_code == 429 and page.headers["retry-after"] == "60"
    assert "请求过于频繁" in page.text and "Too many requests" in page.text
    api = client.get("/api/v1/public/elevators/1")
    assert api.status_code == 429 and api.json()["detail"].startswith("too many requests")
    # never counted: static files, the probes, and whoever carries credentials
    assert client.get("/static/app.css").status_code == 200 and client.get("/healthz").status_code == 200
    assert client.get("/p/1", headers={"Authorization": "Bearer x"}).status_code == 200
    assert client.get("/p/1", cookies={"liftwatch_token": "t"}).status_code == 200
    clock.now = 61.0  # a minute on: the window has slid
    assert client.get("/p/1").status_code == 200


def test_zero_turns_the_limit_off() -> None:
    client = _client(0, _Clock())
    assert {client.get("/p/1").status_code for _ in range(50)} == {200}


def test_the_app_applies_the_setting(tmp_path: Path, engine: Engine, clock: FixedClock) -> None:
    settings = Settings(
        var_dir=tmp_path / "var", secret_key="k" * 40, public_requests_per_min=2, pipeline=False
    )
    with TestClient(create_app(settings=settings, engine=engine, clock=clock)) as client:
        codes = [client.get("/api/v1/public/elevators/NOPE").status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
