"""What a real `liftwatch worker` process tells its operator (docs/OPERATIONS.md, "Logs"): asked for JSON,
every line it writes is one JSON object; it starts by logging its configuration with every secret masked
(database and NATS passwords, the MQTT password, the secret key, the webhook's token), then where each
detector partition resumes, the rescue settings, and on SIGTERM that it drains and where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from liftwatch.core.migrate import upgrade
from tests.conftest import fresh_pg_database
from tests.integration.nats_server import OwnNats, free_port, require_nats_binary
from tests.waiting import wait_until

pytestmark = [pytest.mark.nats, pytest.mark.postgres]
CLI = str(Path(sys.executable).parent / "liftwatch")

MQTT_PASSWORD = "mqtt-pass-7f3a"
NATS_PASSWORD = "nats-pass-91c2"
SECRET_KEY = "secret-key-5d0e-not-for-logs"
WEBHOOK_TOKEN = "hook-token-c4b8"


def _records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _messages(log: Path) -> list[str]:
    try:
        return [r["msg"] for r in _records(log)]
    except json.JSONDecodeError:
        return []  # a line being written


def test_a_worker_logs_its_configuration_masked_in_json(tmp_path: Path) -> None:
    require_nats_binary()
    nats = OwnNats(tmp_path / "js").start()
    log = tmp_path / "worker.log"
    try:
        with fresh_pg_database("liftwatch_logs") as plain_url:
            upgrade(plain_url)
            url = make_url(plain_url)
            if url.password is None:  # trust authentication ignores it; the log must not show it
                url = url.set(password="pg-pass-2e6b")
            db_password = str(url.password)
            env = dict(
                os.environ,
                LIFTWATCH_DATABASE_URL=url.render_as_string(hide_password=False),
                LIFTWATCH_VAR_DIR=str(tmp_path / "var"),
                LIFTWATCH_BUS_URL=nats.url.replace("nats://", f"nats://liftwatch:{NATS_PASSWORD}@"),
                LIFTWATCH_MQTT_URL="",
                LIFTWATCH_MQTT_USERNAME="ingest",
                LIFTWATCH_MQTT_PASSWORD=MQTT_PASSWORD,
                LIFTWATCH_SECRET_KEY=SECRET_KEY,
                LIFTWATCH_RESCUE_WEBHOOK_URL=f"http://127.0.0.1:9/notify?token={WEBHOOK_TOKEN}&city=sz",
                LIFTWATCH_LOG_FORMAT="json",
                LIFTWATCH_LOG_LEVEL="info",
            )
            args = [CLI, "worker", "--role", "detect", "--role", "rescue", "--partitions", "0"]
            args += ["--metrics-port", str(free_port())]
            with open(log, "wb") as stderr:
                proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            try:
                wait_until(
                    lambda: proc.poll() is not None or "workers running: detect, rescue" in _messages(log),
                    60,
                    lambda: f"the worker's start in its log: {log.read_text()[-2000:]}",
                )
                assert proc.poll() is None, log.read_text()[-2000:]
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=30) == 0, log.read_text()[-2000:]
            finally:
                if proc.poll() is None:
                    proc.kill()
    finally:
        nats.kill()

    text = log.read_text()
    for secret in (db_password, NATS_PASSWORD, MQTT_PASSWORD, SECRET_KEY, WEBHOOK_TOKEN):
        assert secret not in text
    records = _records(log)  # every line is a JSON object
    assert all({"ts", "level", "logger", "msg"} <= r.keys() for r in records)
    assert all(r["ts"].endswith("Z") for r in records)

    (start,) = [r for r in records if r["msg"] == "starting detect, rescue"]
    assert start["level"] == "info" and start["logger"] == "liftwatch.workers"
    assert start["roles"] == ["detect", "rescue"]
    assert start["partitions"] == [0] and start["partitions_total"] == 4
    assert start["database"] == url.render_as_string(hide_password=False).replace(db_password, "***")
    assert start["bus"] == nats.url.replace("nats://", "nats://liftwatch:***@")
    streams = start["streams"]
    assert set(streams) == {"telemetry", "faults"}  # RAW is read by ingest processes only
    assert (streams["telemetry"]["name"], streams["faults"]["name"]) == ("TELEMETRY", "FAULTS")
    assert streams["telemetry"]["max_age_h"] == 24 and streams["faults"]["max_age_h"] == 168
    assert streams["telemetry"]["replicas"] == 1 and streams["faults"]["max_mb"] > 0
    assert start["secret_key"] == "set"
    assert start["detector"]["entrapment_outside_zone_ms"] > 0
    assert "mqtt_password" not in start  # not an ingest process

    (rescue,) = [r for r in records if r["msg"] == "rescue worker: starting"]
    assert rescue["rescue"]["webhook_url"] == "http://127.0.0.1:9/notify?token=***&city=sz"
    assert rescue["rescue"]["ack_limit_s"] == 300

    messages = [r["msg"] for r in records]
    assert "detector partition 0: no checkpoint: reading the stream from its start; 0 messages to replay" in (
        messages
    )
    assert "stopping: draining, flushing and checkpointing" in messages
    assert any(m.startswith("detector partition 0: stopped, acknowledged up to stream seq") for m in messages)
