"""`liftwatch worker` as its supervisor sees it, in real processes on PostgreSQL and NATS: ready while it
makes progress; when its database goes away, not ready at once and, after LIFTWATCH_WORKER_GIVE_UP_S of
nothing but failures, an exit with status 1 (to be restarted), not a process that stays up doing nothing;
SIGTERM drains and exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from liftwatch.core.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, fresh_pg_database
from tests.integration.nats_server import OwnNats, free_port, require_nats_binary
from tests.waiting import wait_until

pytestmark = [pytest.mark.nats]
CLI = str(Path(sys.executable).parent / "liftwatch")


def _ready(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def _worker(role: str, url: str, nats: OwnNats, port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        LIFTWATCH_DATABASE_URL=url,
        LIFTWATCH_VAR_DIR=str(tmp_path / "var"),
        LIFTWATCH_BUS_URL=nats.url,
        LIFTWATCH_MQTT_URL="",
        LIFTWATCH_WORKER_GIVE_UP_S="3",
    )
    return subprocess.Popen(
        [CLI, "worker", "--role", role, "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / f"{role}.log", "wb"),
    )


@contextmanager
def _ready_worker(role: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, int]]:
    """A `liftwatch worker --role ROLE` process on a fresh PostgreSQL database and a NATS of its own,
    ready (its /readyz 200); killed afterwards if it is still running."""
    require_nats_binary()
    nats = OwnNats(tmp_path / "js").start()
    port = free_port()
    try:
        with fresh_pg_database("liftwatch_proc") as url:
            upgrade(url)
            proc = _worker(role, url, nats, port, tmp_path)
            try:
                log = tmp_path / f"{role}.log"
                wait_until(
                    lambda: proc.poll() is not None or _ready(port)[0] == 200,
                    60,
                    lambda: f"/readyz of `liftwatch worker --role {role}`: {_ready(port)}",
                )
                assert proc.poll() is None, f"the worker exited: {log.read_text()[-2000:]}"
                yield proc, url, port
            finally:
                if proc.poll() is None:
                    proc.kill()
    finally:
        nats.kill()


@pytest.mark.postgres
def test_a_worker_without_its_database_turns_unready_then_exits_non_zero(tmp_path: Path) -> None:
    with _ready_worker("rescue", tmp_path) as (proc, url, port):
        name = url.rsplit("/", 1)[1]
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:  # the database goes away under the worker
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        wait_until(lambda: _ready(port)[0] == 503, 10, "/readyz says 503 without the database")

        def parts_down() -> bool:
            """Both loops of the rescue worker (faults and deadlines; notice delivery) say so themselves:
            they touch the database at their own pace (the deadlines every 2 s, the outbox every second)."""
            status, report = _ready(port)
            parts: dict[str, dict[str, object]] = report.get("parts", {})  # type: ignore[assignment]
            wanted = [parts.get("rescue worker", {}), parts.get("notice outbox", {})]
            return status == 503 and all(p.get("ready") is False and p.get("last_error") for p in wanted)

        wait_until(parts_down, 10, lambda: f"each rescue loop reports its error on /readyz: {_ready(port)}")
        assert proc.wait(timeout=30) == 1
    assert "failed" in (tmp_path / "rescue.log").read_text()


@pytest.mark.postgres
def test_sigterm_drains_and_exits_zero(tmp_path: Path) -> None:
    with _ready_worker("detect", tmp_path) as (proc, _, _):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert "draining" in (tmp_path / "detect.log").read_text()


def test_replay_dead_letters_command(tmp_path: Path, sqlite_template: Path) -> None:
    """An alarm dead-lettered as unknown_elevator (its elevator was registered after it came) goes onto
    the telemetry stream by `liftwatch replay-dead-letters`, once."""
    import asyncio
    import shutil

    from sqlalchemy.orm import Session

    from liftwatch.core.bus import JetStreamBus
    from liftwatch.core.clock import FixedClock
    from liftwatch.core.db import make_engine
    from liftwatch.telemetry import records, service
    from liftwatch.telemetry.models import DeadLetter
    from liftwatch.telemetry.protocol import EventCode
    from tests.conftest import NOW
    from tests.factories import seed
    from tests.unit.telemetry.test_pipeline import CODE, Terminal

    require_nats_binary()
    db = tmp_path / "liftwatch.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    clock = FixedClock(NOW)
    topic, payload = Terminal(CODE, clock).event(EventCode.ALARM_BUTTON)
    with Session(engine) as s:
        seed(s, clock)
        service.store_dead_letters(
            s, [service.DeadLetterRecord(1, "mqtt", topic, "unknown_elevator", "no elevator", payload, CODE)]
        )
        s.commit()
    nats = OwnNats(tmp_path / "js").start()
    env = dict(
        os.environ, LIFTWATCH_DATABASE_URL=url, LIFTWATCH_BUS_URL=nats.url, LIFTWATCH_VAR_DIR=str(tmp_path)
    )

    def replay() -> str:
        done = subprocess.run([CLI, "replay-dead-letters"], env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode() + done.stderr.decode()  # the console writes to stderr

    async def on_stream() -> list[bytes]:
        bus = JetStreamBus(nats.url)
        await bus.connect()
        consumer = await bus.consumer(records.STREAM, "check", f"{records.SUBJECT_PREFIX}.>")
        got = [r[3] for m in await consumer.fetch(10, timeout=1) for r in records.decode_batch(m.data)]
        await bus.close()
        return got

    try:
        assert "1 dead letters accepted" in replay()
        assert "0 dead letters accepted" in replay()  # replayed once
        assert asyncio.run(on_stream()) == [payload]
    finally:
        nats.kill()
    with Session(engine) as s:
        assert s.query(DeadLetter).one().replayed_at is not None
    engine.dispose()
