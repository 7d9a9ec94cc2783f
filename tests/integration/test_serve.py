"""`liftwatch serve` as a deployment runs it behind a load balancer: several web processes on one port
(--workers), and the client's address taken from the balancer's X-Forwarded-For (--forwarded-allow-ips),
so that sign-in throttling counts each client, not the balancer. Real processes on a SQLite file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.core.config import get_settings
from liftwatch.core.migrate import upgrade
from tests.integration.nats_server import free_port
from tests.waiting import wait_until

CLI = str(Path(sys.executable).parent / "liftwatch")


def _status(
    port: int, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> int:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def test_several_web_processes_count_sign_ins_by_the_forwarded_address(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    port, log = free_port(), tmp_path / "serve.log"
    env = dict(
        os.environ,
        LIFTWATCH_DATABASE_URL=url,
        LIFTWATCH_VAR_DIR=str(tmp_path / "var"),
        LIFTWATCH_SECRET_KEY="k" * 48,
        LIFTWATCH_PIPELINE="false",
        LIFTWATCH_LOGIN_MAX_FAILURES_ADDRESS="3",
    )
    args = [CLI, "serve", "--port", str(port), "--workers", "2", "--forwarded-allow-ips", "127.0.0.1"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_until(
            lambda: proc.poll() is not None or _status(port, "/readyz") == 200,
            60,
            lambda: f"serve --workers 2 not ready: {log.read_text()[-2000:]}",
        )
        assert proc.poll() is None, log.read_text()[-2000:]
        # both processes serve (each says so as it starts)
        wait_until(
            lambda: len(set(re.findall(r"Started server process \[(\d+)\]", log.read_text()))) == 2,
            30,
            lambda: log.read_text()[-2000:],
        )

        def guess(address: str, n: int) -> int:
            form = {"username": f"nobody{n}", "password": "wrong"}
            return _status(port, "/api/v1/auth/token", form, {"X-Forwarded-For": address})

        # one client guessing: each process refuses it after 3 failures, so 10 guesses meet a 429
        first = [guess("203.0.113.7", n) for n in range(10)]
        assert first[0] == 401 and 429 in first, first
        # another client behind the same balancer is not refused for the first one's guesses
        assert guess("198.51.100.20", 99) == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_several_web_processes_need_the_workers_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded pipeline runs in one process: two would detect every fault twice."""
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIFTWATCH_DATABASE_URL", url)
    monkeypatch.setenv("LIFTWATCH_PIPELINE", "true")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "LIFTWATCH_PIPELINE=false" in " ".join(result.output.split())
