"""The suite's route-table cache (tests/routecache.py): it applies to the pinned FastAPI, apps share the
built routes, and each app still answers with its own settings and database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import fastapi
from fastapi import routing
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from liftwatch.app import create_app
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from tests import routecache

ROOT = Path(__file__).parents[2]


def test_the_route_cache_applies_to_the_pinned_fastapi() -> None:
    """Fails after a FastAPI upgrade: check that ``_EffectiveRouteContext.from_api_route`` still builds
    an app-independent route, then move ``routecache.VERSION``."""
    assert fastapi.__version__ == routecache.VERSION
    assert routecache.installed
    assert routing._EffectiveRouteContext.from_api_route.__func__.__module__ == "tests.routecache"


def test_nothing_overrides_dependencies() -> None:
    """The cache leaves the app out of its key, which is sound only while no app overrides a dependency."""
    found = subprocess.run(
        ["grep", "-rln", "dependency_overrides", "src", "tests"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert sorted(found) == ["tests/routecache.py", "tests/unit/test_routecache.py"]


def _app(tmp_path: Path, engine: Engine, clock: FixedClock, name: str, lang: str) -> fastapi.FastAPI:
    settings = Settings(
        var_dir=tmp_path / name, secret_key="test-secret-" + "x" * 40, pipeline=False, default_language=lang
    )
    return create_app(settings=settings, engine=engine, clock=clock)


def test_two_apps_share_the_built_routes_and_keep_their_own_settings(
    tmp_path: Path, engine: Engine, clock: FixedClock
) -> None:
    english, chinese = _app(tmp_path, engine, clock, "en", "en"), _app(tmp_path, engine, clock, "zh", "zh-CN")
    with TestClient(english) as a, TestClient(chinese) as b:
        assert 'lang="en"' in a.get("/login").text
        assert 'lang="zh-CN"' in b.get("/login").text
        assert a.get("/api/v1/elevators").status_code == b.get("/api/v1/elevators").status_code == 401
    # the same built route serves both: one build per process
    shared = _built_route(english, "/api/v1/elevators")
    assert shared is not None and shared is _built_route(chinese, "/api/v1/elevators")


def _built_route(app: fastapi.FastAPI, path: str) -> object | None:
    for included in app.routes:
        if isinstance(included, routing._IncludedRouter):
            for candidate in included.effective_candidates():
                if getattr(candidate, "path", None) == path:
                    return candidate
    return None
