"""``liftwatch doctor`` against the machine's PostgreSQL, NATS and Mosquitto (the last accepts anonymous
clients, as the machine is set up: DEPENDENCIES.md), and against an authenticated Mosquitto of our own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.core.bus import JetStreamBus
from liftwatch.core.config import get_settings
from liftwatch.core.migrate import alembic_config
from tests.conftest import MQTT_URL, NATS_URL, fresh_pg_database, new_stream_namespace, require_service
from tests.integration.test_mqtt_broker_auth import INGEST, Setup, mosquitto, setup  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.mqtt]

KEY = "Zq8v2X-kP0rT5wYb7nLm3cFh9dJs1gAe4uQi6oRt"
MB = 2**20


@pytest.fixture
def doctor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Runs the command with the environment a test sets (the settings are read afresh)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "LIFTWATCH_VAR_DIR": str(tmp_path / "var"),
        "LIFTWATCH_SECRET_KEY": KEY,
        "LIFTWATCH_COOKIE_SECURE": "true",
        "LIFTWATCH_STREAM_MAX_MB": "64",
        "LIFTWATCH_FAULTS_STREAM_MAX_MB": "16",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _run() -> tuple[int, list[str]]:
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["doctor", "--timeout", "3"])
    return result.exit_code, result.stdout.splitlines()


async def _streams(namespace: str) -> None:
    bus = JetStreamBus(NATS_URL)
    await bus.connect()
    try:
        await bus.ensure_stream(
            f"{namespace.upper()}_TELEMETRY", [f"{namespace}.telemetry.>"], max_bytes=64 * MB
        )
        # FAULTS sized otherwise than its setting says
        await bus.ensure_stream(
            f"{namespace.upper()}_FAULTS", [f"{namespace}.faults.>"], max_age_s=7 * 86_400, max_bytes=8 * MB
        )
    finally:
        await bus.close()


def test_doctor_on_the_machines_services(doctor: pytest.MonkeyPatch, pg_database_url: str) -> None:
    require_service("NATS", NATS_URL)
    require_service("Mosquitto", MQTT_URL)
    namespace = new_stream_namespace("doc")
    asyncio.run(_streams(namespace))
    doctor.setenv("LIFTWATCH_DATABASE_URL", pg_database_url)
    doctor.setenv("LIFTWATCH_BUS_URL", NATS_URL)
    doctor.setenv("LIFTWATCH_STREAM_NAMESPACE", namespace)
    doctor.setenv("LIFTWATCH_MQTT_URL", MQTT_URL)
    head = ScriptDirectory.from_config(alembic_config(pg_database_url)).get_current_head()
    ns = namespace.upper()

    code, lines = _run()

    assert "checked as production" in lines[0]
    assert (
        lines[1]
        == "OK   secret key: LIFTWATCH_SECRET_KEY is set (the same value is needed on every web host)"
    )
    assert lines[2].startswith("OK   session cookie: marked Secure")
    assert lines[3].startswith("OK   database: postgresql+psycopg://") and lines[3].endswith(" reachable")
    assert lines[4] == f"OK   database schema: at revision {head}, this code's"
    assert lines[5].startswith("OK   clock: this host is ")  # the same machine: well within 2 s
    assert lines[6] == f"OK   NATS: {NATS_URL} reachable"
    assert lines[7] == (
        f"OK   stream {ns}_TELEMETRY: max bytes 64 MiB, max age 24 h, 1 replica(s) (a single server: back up "
        "its store)"
    )
    assert (
        lines[8]
        == f"WARN stream {ns}_FAULTS: max bytes is {8 * MB}, LIFTWATCH_FAULTS_STREAM_MAX_MB says {16 * MB}"
    )
    assert lines[10] == f"OK   stream {ns}_RAW: not created (not used here)"
    # the machine's Mosquitto takes anonymous clients: unsafe in production
    assert lines[11] == (
        "FAIL MQTT anonymous connect: accepted: anyone who reaches the broker can publish as any terminal"
    )
    assert "allow_anonymous false" in lines[12]
    assert lines[13].startswith("OK   archive directory: ")
    assert lines[-1] == "1 FAIL, 1 WARN, 9 OK"
    assert code == 1


def test_doctor_fails_an_unset_secret_an_empty_database_and_unreachable_services(
    doctor: pytest.MonkeyPatch,
) -> None:
    doctor.delenv("LIFTWATCH_SECRET_KEY")
    doctor.setenv("LIFTWATCH_BUS_URL", "nats://127.0.0.1:1")
    doctor.setenv("LIFTWATCH_MQTT_URL", "mqtt://127.0.0.1:1")
    with fresh_pg_database("liftwatch_doctor") as url:
        doctor.setenv("LIFTWATCH_DATABASE_URL", url)
        code, lines = _run()
    text = "\n".join(lines)
    assert code == 1
    assert "FAIL secret key: LIFTWATCH_SECRET_KEY is not set" in text
    assert "more than one web host" in text
    assert "FAIL database schema: the database is empty\n     fix: run `liftwatch db upgrade`" in text
    assert "FAIL NATS: nats://127.0.0.1:1: cannot connect" in text
    assert "FAIL MQTT anonymous connect: cannot reach the broker: 127.0.0.1:1" in text
    assert not (Path.cwd() / "var" / "secret_key").exists()  # the doctor generates nothing


def test_doctor_against_an_authenticated_broker(doctor: pytest.MonkeyPatch, mosquitto: Setup) -> None:  # noqa: F811
    assert mosquitto.ca is not None
    doctor.setenv("LIFTWATCH_MQTT_URL", f"mqtts://127.0.0.1:{mosquitto.mqtt_port}")
    doctor.setenv("LIFTWATCH_MQTT_CA_FILE", str(mosquitto.ca))
    doctor.setenv("LIFTWATCH_MQTT_USERNAME", INGEST.username)
    doctor.setenv("LIFTWATCH_MQTT_PASSWORD", INGEST.password)
    _, lines = _run()
    assert "OK   MQTT anonymous connect: refused (not authorized): authentication is required" in lines
    assert f"OK   MQTT service account: {INGEST.username} signs in" in lines

    doctor.setenv("LIFTWATCH_MQTT_PASSWORD", "wrong")
    code, lines = _run()
    (line,) = [x for x in lines if x.startswith("FAIL MQTT service account")]
    assert line.startswith(f"FAIL MQTT service account: {INGEST.username}: refused (")
    assert code == 1
