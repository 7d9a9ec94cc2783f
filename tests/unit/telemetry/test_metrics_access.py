"""GET /metrics is not public: an admin's token, a scraper's LIFTWATCH_METRICS_TOKEN, or an explicit
LIFTWATCH_METRICS_PUBLIC=true."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from liftwatch.app import create_app
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings


def _client(tmp_path: Path, engine: Engine, clock: FixedClock, **extra: object) -> TestClient:
    settings = Settings(var_dir=tmp_path, secret_key="s" * 48, pipeline=False, **extra)  # type: ignore[arg-type]
    return TestClient(create_app(settings=settings, engine=engine, clock=clock))


def test_a_scraper_with_the_metrics_token_may_read(
    tmp_path: Path, sqlite_engine: Engine, clock: FixedClock
) -> None:
    with _client(tmp_path, sqlite_engine, clock, metrics_token="scrape-" + "k" * 32) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer scrape-" + "k" * 32})
        assert ok.status_code == 200
        assert ok.headers["content-type"].startswith("text/plain")


def test_metrics_can_be_opened_to_everyone(tmp_path: Path, sqlite_engine: Engine, clock: FixedClock) -> None:
    with _client(tmp_path, sqlite_engine, clock, metrics_public=True) as c:
        assert c.get("/metrics").status_code == 200
