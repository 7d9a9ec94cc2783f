"""A rolling upgrade as the hosts see it (issue 12, "the previous release's worker against the new schema"):
the next release's expand migration is applied to PostgreSQL, and this code, the previous release relative
to that schema, still starts its real `liftwatch worker` and `liftwatch serve` processes, gets ready and
turns an entrapment into a fault and an incident. After a contract migration it refuses, with one clear
sentence and exit code 1. The later release's migrations are the package's plus a test-only one, in a script
directory of their own (tests/unit/core/test_migrate.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from liftwatch.core.clock import SystemClock
from liftwatch.core.db import make_engine
from liftwatch.core.migrate import upgrade
from liftwatch.telemetry.protocol import Event, EventCode, encode
from tests.conftest import NATS_URL, fresh_pg_database, new_stream_namespace, require_service
from tests.factories import seed
from tests.integration.nats_server import free_port
from tests.unit.core.test_migrate import (
    contract_migration,
    expand_migration,
    package_head,
    package_oldest_reader,
    script_dir_with,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.nats]
CLI = str(Path(sys.executable).parent / "liftwatch")
CODE = "11SHA000001"  # an elevator of tests/factories.py


def _get(port: int, path: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        LIFTWATCH_DATABASE_URL=url,
        LIFTWATCH_VAR_DIR=str(tmp_path / "var"),
        LIFTWATCH_BUS_URL=NATS_URL,
        LIFTWATCH_STREAM_NAMESPACE=new_stream_namespace("up"),
        LIFTWATCH_MQTT_URL="",
        LIFTWATCH_PIPELINE="false",
        LIFTWATCH_SECRET_KEY="upgrade-test-" + "x" * 40,
    )


@contextmanager
def _later_release_schema(tmp_path: Path, migration: str) -> Iterator[str]:
    """A fresh PostgreSQL database migrated by the later release (the package's migrations + ``migration``),
    with the registry of tests/factories.py."""
    require_service("NATS", NATS_URL)
    with fresh_pg_database("liftwatch_upg") as url:
        upgrade(url, script_location=script_dir_with(tmp_path, migration))
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0099"
        with Session(engine) as s:
            seed(s, SystemClock())
            s.commit()
        engine.dispose()
        yield url


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([CLI, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_the_previous_releases_worker_and_web_run_against_an_expanded_schema(tmp_path: Path) -> None:
    head = package_head()
    with _later_release_schema(tmp_path, expand_migration()) as url, ExitStack() as stack:
        inherited = package_oldest_reader()
        assert _rows(url, "SELECT oldest_reader FROM schema_compat WHERE revision = '0099'") == [(inherited,)]
        env = _env(url, tmp_path)
        worker_port, web_port = free_port(), free_port()
        worker_log, web_log = tmp_path / "worker.log", tmp_path / "serve.log"
        worker = stack.enter_context(
            _process(["worker", "--metrics-port", str(worker_port)], env, worker_log)
        )
        web = stack.enter_context(_process(["serve", "--port", str(web_port)], env, web_log))
        for proc, port, log in ((worker, worker_port, worker_log), (web, web_port, web_log)):
            wait_until(
                lambda: proc.poll() is not None or _get(port, "/readyz")[0] == 200,  # noqa: B023
                60,
                lambda: f"/readyz of {proc.args}: {_get(port, '/readyz')}",  # noqa: B023
            )
            assert proc.poll() is None, f"{proc.args} exited: {log.read_text()[-3000:]}"
            # each says it runs against a newer schema, so the operator knows this host is next
            assert f"the database is at revision 0099, newer than this release's {head}" in log.read_text()

        # and does its work: an entrapment reported on the worker's ingest path becomes a fault and an
        # incident (the rescue role), stored in the expanded schema
        from liftwatch.sim.telemetry import NatsSink

        sink = NatsSink(NATS_URL, 1, env["LIFTWATCH_STREAM_NAMESPACE"])
        now = time.time_ns() // 1_000_000
        sink.send(CODE, "event", encode(Event(msg_id="up-1", seq=1, ts=now, code=EventCode.ENTRAPMENT)))
        sink.close()
        wait_until(
            lambda: _rows(url, "SELECT registration_code FROM incidents"),
            20,
            lambda: f"an incident for the entrapment; worker log: {worker_log.read_text()[-3000:]}",
        )
        assert (CODE, "entrapment") in _rows(url, "SELECT registration_code, fault_type FROM faults")
        assert _rows(url, "SELECT registration_code FROM incidents") == [(CODE,)]
        assert worker.poll() is None and web.poll() is None
        assert _rows(url, "SELECT version_num FROM alembic_version") == [("0099",)]


def test_after_a_contract_migration_the_previous_release_refuses_to_start(tmp_path: Path) -> None:
    refusal = (
        "the database was migrated by a newer release that this one cannot run against (contract migration "
        f"0099; database at 0099, this release at {package_head()}): upgrade this host"
    )
    with _later_release_schema(tmp_path, contract_migration()) as url:
        env = _env(url, tmp_path)
        commands = {
            "worker": ["worker", "--metrics-port", str(free_port())],
            "serve": ["serve", "--port", str(free_port())],
            "db upgrade": ["db", "upgrade"],
        }
        with ExitStack() as stack:
            procs = {
                name: (stack.enter_context(_process(args, env, tmp_path / f"{n}.log")), tmp_path / f"{n}.log")
                for n, (name, args) in enumerate(commands.items())
            }
            for name, (proc, log) in procs.items():
                assert proc.wait(timeout=30) == 1, f"{name}: {log.read_text()[-3000:]}"
                said = " ".join(log.read_text().split())  # the console wraps long lines
                assert refusal in said, f"{name}: {said[-3000:]}"
                assert "Traceback" not in said
        assert _rows(url, "SELECT version_num FROM alembic_version") == [("0099",)]
