"""Security headers on every response: pages, API answers, errors and static files."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from liftwatch.app import create_app
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.headers import content_security_policy


def _policy(header: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in header.split("; ")}


def test_every_answer_carries_the_headers(client: TestClient) -> None:
    for method, path in [
        ("GET", "/login"),
        ("GET", "/healthz"),
        ("GET", "/api/v1/elevators"),  # 401
        ("GET", "/nope"),  # 404
        ("GET", "/static/app.js"),
        ("POST", "/api/v1/elevators"),  # 413 from the body limit is refused before routing
    ]:
        content = b"x" * (2 * 1024 * 1024) if method == "POST" else None
        r = client.request(method, path, content=content)
        assert r.headers["X-Frame-Options"] == "DENY", path
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        assert r.headers["Referrer-Policy"] == "same-origin", path
        assert "Strict-Transport-Security" not in r.headers, path
        policy = _policy(r.headers["Content-Security-Policy"])
        assert policy["script-src"] == "'self'", path  # no inline scripts, no eval
        assert policy["frame-ancestors"] == "'none'", path
        assert policy["object-src"] == "'none'", path


def test_hsts_only_behind_https(tmp_path: Path, sqlite_engine: Engine, clock: FixedClock) -> None:
    settings = Settings(var_dir=tmp_path, secret_key="s" * 48, pipeline=False, cookie_secure=True)
    with TestClient(create_app(settings=settings, engine=sqlite_engine, clock=clock)) as c:
        r = c.get("/healthz")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_map_tiles_are_allowed_from_the_configured_origin() -> None:
    settings = Settings(map_tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    policy = _policy(content_security_policy(settings))
    assert policy["img-src"] == "'self' data: blob: https://*.tile.example.org"
    assert _policy(content_security_policy(Settings()))["img-src"] == "'self' data: blob:"


def test_the_api_docs_keep_working(client: TestClient) -> None:
    """FastAPI's /docs loads Swagger UI from a CDN with an inline script: a policy of its own."""
    policy = _policy(client.get("/docs").headers["Content-Security-Policy"])
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"


def test_pages_have_no_inline_script_or_handler() -> None:
    """The policy forbids them; a template that adds one would silently stop working."""
    templates = Path(__file__).parents[3] / "src" / "liftwatch" / "web" / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"\son[a-z]+=", text), path
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
