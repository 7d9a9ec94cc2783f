"""`make demo` brings up the UI: `liftwatch demo` on a fresh embedded database builds a city, creates the
demo logins and serves the Chinese login page and the API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from liftwatch.demo import DEMO_PASSWORD
from liftwatch.sim.applications import REGISTERED_ADDITIONS
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

ELEVATORS = 300
START_TIMEOUT = 90.0


def _liftwatch_command() -> list[str]:
    script = Path(sys.executable).parent / "liftwatch"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "liftwatch.cli"]


def test_demo_serves_login_page_and_city(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LIFTWATCH_VAR_DIR": str(tmp_path / "var")}
    for name in ("LIFTWATCH_DATABASE_URL", "LIFTWATCH_SECRET_KEY", "LIFTWATCH_DEFAULT_LANGUAGE"):
        env.pop(name, None)
    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*_liftwatch_command(), "demo", "--port", str(port), "--elevators", str(ELEVATORS)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(proc, base, log_path)
            with httpx.Client(base_url=base, timeout=10) as client:
                login = client.get("/login")
                assert login.status_code == 200
                assert '<html lang="zh-CN">' in login.text
                assert "登录" in login.text and 'id="login-form"' in login.text

                token = client.post(
                    "/api/v1/auth/token", data={"username": "regulator", "password": DEMO_PASSWORD}
                )
                assert token.status_code == 200, token.text
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                page = client.get("/api/v1/elevators", params={"size": 1}, headers=headers)
                assert page.status_code == 200, page.text
                # the city asked for, and the elevators the demo's additions to old buildings registered
                assert page.json()["total"] == ELEVATORS + REGISTERED_ADDITIONS

                # The browser path too: the form sign-in lands on the search page over the city.
                # (with the login form's CSRF token, bound to the nonce cookie the GET above set)
                csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
                assert csrf_token, "the login form carries no CSRF token"
                signed_in = client.post(
                    "/login",
                    data={"username": "regulator", "password": DEMO_PASSWORD, "csrf_token": csrf_token[1]},
                    follow_redirects=True,
                )
                assert signed_in.status_code == 200
                assert f'data-total="{ELEVATORS + REGISTERED_ADDITIONS}"' in signed_in.text
            assert (tmp_path / "var" / "liftwatch.db").exists()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _wait_until_up(proc: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`liftwatch demo` exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            r = httpx.get(base + "/", timeout=2, follow_redirects=False)
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        if r.status_code < 500:
            return
        time.sleep(0.5)
    pytest.fail(f"`liftwatch demo` did not answer within {START_TIMEOUT:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:]
