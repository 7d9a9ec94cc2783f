"""Sign-in throttling: per account, per client address, and a cap on concurrent password checks; on the
token endpoint and on the web login form. Time moves by the injected clock, never by sleeping."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.core.throttle import LoginThrottle, Throttled
from tests.factories import PASSWORD, seed

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _token(client: TestClient, username: str, password: str) -> int:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return int(r.status_code)


def test_the_eleventh_failure_in_a_minute_is_throttled_then_lifts(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    assert [_token(client, "admin", "wrong") for _ in range(10)] == [401] * 10
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 429, r.text  # even with the right password
    assert r.headers["Retry-After"] == "60"
    body = r.json()
    assert "retry in 60 s" in body["detail"] and "09:01:00 UTC" in body["detail"]
    assert body["errors"][0]["field"] == "username"
    assert _token(client, "ADMIN ", PASSWORD) == 429  # the same account however spelt

    clock.advance(timedelta(seconds=30))
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    assert r.headers["Retry-After"] == "30"
    clock.advance(timedelta(seconds=30))
    assert _token(client, "admin", PASSWORD) == 200
    assert _token(client, "regulator", PASSWORD) == 200  # other accounts were never affected


def test_a_right_password_clears_the_accounts_failures(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    for _ in range(9):
        assert _token(client, "admin", "wrong") == 401
    assert _token(client, "admin", PASSWORD) == 200
    for _ in range(9):
        assert _token(client, "admin", "wrong") == 401
    assert _token(client, "admin", PASSWORD) == 200


def test_one_address_guessing_many_accounts_is_throttled(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    for i in range(30):
        assert _token(client, f"guess{i}", "wrong") == 401
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 429
    assert "this address" in r.json()["detail"]
    clock.advance(timedelta(minutes=1))
    assert _token(client, "admin", PASSWORD) == 200


def _login(client: TestClient, username: str, password: str) -> tuple[int, str, dict[str, str]]:
    """Post the web login form as a browser does (with the form's hidden fields)."""
    page = client.get("/login").text
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.update(username=username, password=password)
    r = client.post("/login", data=data, follow_redirects=False)
    return r.status_code, r.text, dict(r.headers)


def test_the_web_login_says_when_to_retry_in_both_languages(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    for _ in range(10):
        assert _login(client, "admin", "wrong")[0] == 401
    status, page, headers = _login(client, "admin", PASSWORD)
    assert status == 429
    assert headers["retry-after"] == "60"
    assert "登录失败次数过多" in page and "60 秒" in page and "17:01:00" in page  # UTC+8
    client.cookies.set("lang", "en")
    status, page, _ = _login(client, "admin", PASSWORD)
    assert status == 429
    assert "Too many failed sign-ins for this account" in page and "Try again in 60 s" in page
    clock.advance(timedelta(minutes=1))
    assert _login(client, "admin", PASSWORD)[0] == 303


def test_the_api_and_the_web_form_share_the_count(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    for _ in range(5):
        assert _token(client, "admin", "wrong") == 401
        assert _login(client, "admin", "wrong")[0] == 401
    assert _token(client, "admin", PASSWORD) == 429


def test_memory_is_bounded_by_the_most_recent_keys() -> None:
    throttle = LoginThrottle(per_account=1, per_address=1000, max_keys=3)
    for name in ("a", "b", "c", "d"):
        throttle.failed(name, "10.0.0.1", T0)
    assert throttle.check("a", "10.0.0.9", T0) is None  # evicted, the oldest
    refusal = throttle.check("d", "10.0.0.9", T0)
    assert isinstance(refusal, Throttled) and refusal.scope == "account"


def test_concurrent_password_checks_are_capped() -> None:
    """16 parallel guesses run at most ``concurrency`` argon2 checks at once (each takes 64 MB)."""
    throttle = LoginThrottle(per_account=100, per_address=100, concurrency=2)
    running = 0
    peak = 0
    lock = threading.Lock()

    def verify() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)  # the check's work (not a wait): it holds its slot while others queue
        with lock:
            running -= 1

    threads = [
        threading.Thread(target=throttle.attempt, args=(f"u{i}", f"10.0.0.{i}", T0, verify))
        for i in range(16)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2


def test_a_caller_that_cannot_get_a_check_slot_is_told_to_retry() -> None:
    throttle = LoginThrottle(concurrency=1, wait_seconds=0.01)
    with throttle.verifying(T0) as first:
        assert first is None
        result = throttle.attempt("admin", "10.0.0.1", T0, lambda: "user")
    assert isinstance(result, Throttled) and result.scope == "busy" and result.retry_after == 1
    assert throttle.attempt("admin", "10.0.0.1", T0, lambda: "user") == "user"
