"""Body size limits: refused from the declared length, or counted while streamed, before any route (or
authentication) reads the body; the body itself is never buffered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from liftwatch.core.config import Settings
from liftwatch.core.limits import MIB, BodyLimitMiddleware, body_limits

CHUNK = 64 * 1024


def _scope(path: str = "/api/v1/elevators", method: str = "POST", length: int | None = None) -> Scope:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "method": method, "path": path, "headers": headers}


class Endless:
    """A client streaming CHUNK-sized pieces without end, counting what was pulled from it."""

    def __init__(self, total: int | None = None) -> None:
        self.pulled = 0
        self.total = total

    async def __call__(self) -> Message:
        more = self.total is None or self.pulled + CHUNK < self.total
        self.pulled += CHUNK
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": more}


async def read_all(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that reads the whole body, as FastAPI does before a route's dependencies run."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


async def read_all_or_400(scope: Scope, receive: Receive, send: Send) -> None:
    """Like FastAPI: a failure while reading the body becomes a 400 "error parsing the body"."""
    try:
        await read_all(scope, receive, send)
    except Exception:
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"There was an error parsing the body"})


def _run(app: Any, scope: Scope, receive: Receive) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _status_and_body(sent: list[Message]) -> tuple[int, dict[str, Any]]:
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"], sent
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read() -> None:
    called = False

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal called
        called = True

    client = Endless()
    app = BodyLimitMiddleware(inner, default=MIB)
    status, body = _status_and_body(_run(app, _scope(length=300 * MIB), client))
    assert status == 413
    assert not called and client.pulled == 0
    assert body["errors"][0]["field"] == "body"
    assert "at most 1 MiB" in body["detail"] and str(300 * MIB) in body["detail"]


def test_a_streamed_body_is_cut_off_once_over_the_limit() -> None:
    """No Content-Length (chunked): the bytes are counted as they come; reading stops right after the
    limit, however much the client would still send."""
    client = Endless()
    sent = _run(BodyLimitMiddleware(read_all, default=MIB), _scope(), client)
    status, body = _status_and_body(sent)
    assert status == 413
    assert client.pulled <= MIB + CHUNK
    assert body["errors"] == [{"field": "body", "message": body["detail"]}]
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_route_that_turns_the_cut_off_into_400_still_answers_413() -> None:
    client = Endless()
    status, _ = _status_and_body(_run(BodyLimitMiddleware(read_all_or_400, default=MIB), _scope(), client))
    assert status == 413
    assert client.pulled <= MIB + CHUNK


def test_a_body_within_the_limit_passes_untouched() -> None:
    client = Endless(total=MIB)
    sent = _run(BodyLimitMiddleware(read_all, default=MIB), _scope(length=MIB), client)
    assert sent[0]["status"] == 200 and sent[1]["body"] == str(MIB).encode()


def test_the_gateway_and_import_routes_take_larger_bodies() -> None:
    default, rules = body_limits(Settings(max_body_mb=1, telemetry_max_body_mb=8, import_max_body_mb=20))
    app = BodyLimitMiddleware(read_all, default=default, limits=rules)
    assert app.limit_for("POST", "/api/v1/elevators") == MIB
    assert app.limit_for("POST", "/api/v1/telemetry") == 8 * MIB
    assert app.limit_for("POST", "/api/v1/telemetry/") == 8 * MIB
    assert app.limit_for("GET", "/api/v1/telemetry") == MIB
    assert app.limit_for("POST", "/api/v1/registry/import") == 20 * MIB
    sent = _run(app, _scope("/api/v1/telemetry", length=2 * MIB), Endless(total=2 * MIB))
    assert sent[0]["status"] == 200


def test_the_app_refuses_an_anonymous_large_body_with_413_not_401(client: TestClient) -> None:
    """Before the limit, the whole body was parsed before authentication could refuse it."""
    r = client.post(
        "/api/v1/elevators",
        content=b"[" + b"0," * MIB + b"0]",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["field"] == "body"
    chunked = client.post(
        "/api/v1/auth/token",
        content=(b"a" * CHUNK for _ in range(20)),  # no Content-Length: sent chunked
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 413, chunked.text
    small = client.post("/api/v1/elevators", json={"registration_code": "X"})
    assert small.status_code == 401
