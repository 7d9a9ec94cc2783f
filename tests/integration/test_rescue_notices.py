"""Issue 10, item 4, in the production layout: a web app without the in-process pipeline, the machine's
NATS, PostgreSQL, and `liftwatch worker --role rescue` processes. A 96333 phone call taken through the API
dispatches a crew, and the webhook receives each of its notices exactly once; also when no worker runs at
the commit, and when the worker is killed in the middle of a delivery (before the receiver answered) and
a new one takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.app import create_app
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import Settings
from liftwatch.core.migrate import upgrade
from liftwatch.rescue.models import NoticeOutbox
from tests.conftest import NATS_URL, fresh_pg_database, new_stream_namespace, require_service
from tests.factories import auth, rescue_city, seed
from tests.waiting import wait_until
from tests.webhook import WebhookReceiver

pytestmark = pytest.mark.nats


@contextmanager
def rescue_worker(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A `liftwatch worker --role rescue` process; stopped (SIGTERM) at the end unless already dead."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "liftwatch.cli", "worker", "--role", "rescue", "--metrics-port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def test_a_phone_call_reaches_the_webhook_exactly_once_across_worker_restarts(tmp_path: Path) -> None:
    require_service("NATS", NATS_URL)
    with fresh_pg_database("liftwatch_notices") as url, WebhookReceiver() as hook:
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            clock = SystemClock()
            seed(session, clock)
            rescue_city(session, clock, "11SHA000001")
            session.commit()
        ns = new_stream_namespace("notices")
        env = {
            **os.environ,
            "LIFTWATCH_DATABASE_URL": url,
            "LIFTWATCH_BUS_URL": NATS_URL,
            "LIFTWATCH_STREAM_NAMESPACE": ns,
            "LIFTWATCH_VAR_DIR": str(tmp_path),
            "LIFTWATCH_SECRET_KEY": "s" * 48,
            "LIFTWATCH_PIPELINE": "false",
            "LIFTWATCH_RESCUE_WEBHOOK_URL": hook.url,
        }
        settings = Settings(
            database_url=url,
            bus_url=NATS_URL,
            stream_namespace=ns,
            var_dir=tmp_path,
            secret_key="s" * 48,
            pipeline=False,
        )

        def outbox() -> list[NoticeOutbox]:
            with Session(engine) as s:
                return list(s.scalars(select(NoticeOutbox).order_by(NoticeOutbox.id)))

        def all_delivered(n: int) -> bool:
            rows = outbox()
            return len(rows) == n and all(r.delivered_at is not None for r in rows)

        app = create_app(settings=settings, engine=engine)
        with TestClient(app) as client:
            assert app.state.pipeline is None or app.state.pipeline.rescue is None  # no rescue in the web
            operator = auth(client, Role.RESCUE_OPERATOR)

            def phone_call(code: str) -> int:
                r = client.post(
                    "/api/v1/rescue/incidents",
                    json={"code": code, "source": "phone", "caller_name": "张先生"},
                    headers=operator,
                )
                assert r.status_code == 201, r.text
                assert r.json()["incident"]["status"] == "dispatched"
                return int(r.json()["incident"]["id"])

            # 1. a worker runs: the call's notices (raised, dispatched) reach the webhook once each
            with rescue_worker(env) as worker:
                first = phone_call("11SHA000001")
                wait_until(
                    lambda: all_delivered(2), timeout=30, what="the first call's two notices delivered"
                )
                assert worker.poll() is None
            dispatched = [b for b in hook.bodies() if b["kind"] == "dispatched"]
            assert [(b["incident_id"], b["details"]["crew"]) for b in dispatched] == [(first, "A1")]
            assert sorted(hook.keys().values()) == [1, 1]

            # 2. no worker at the commit; the next one is killed while the receiver has not answered yet
            second = phone_call("11SHA000002")
            assert all(r.delivered_at is None for r in outbox()[2:]) and len(outbox()) == 4
            hook.hold.set()
            with rescue_worker(env) as killed:
                assert wait_until(lambda: hook.held.is_set() or killed.poll() is not None, timeout=30)
                assert killed.poll() is None, killed.stderr.read() if killed.stderr else ""
                killed.send_signal(signal.SIGKILL)  # between the commit and the delivery's answer
                killed.wait(10)
            hook.hold.clear()
            hook.release.set()
            assert all(r.delivered_at is None for r in outbox()[2:])

            # 3. a new worker delivers what was not answered: every key once, none lost
            with rescue_worker(env):
                wait_until(lambda: all_delivered(4), timeout=30, what="the second call's notices delivered")
            keys = [r.key for r in outbox()]
            assert {r.incident_id for r in outbox()} == {first, second}
            assert hook.keys() == dict.fromkeys(keys, 1)
            assert len(hook.posts) == 4  # the receiver did not even need to drop a repeat
        engine.dispose()
