"""On the machine's NATS: a stream an operator tuned keeps its settings when a process starts again (a
warning names the difference), `liftwatch streams apply` makes it match the settings, and the names with a
namespace are the documented ones (docs/PROTOCOL.md, "NATS terminals"; docs/OPERATIONS.md, "Streams")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from liftwatch.cli import app as cli
from liftwatch.core.bus import JetStreamBus
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import Settings, get_settings
from liftwatch.core.db import make_session_factory
from liftwatch.workers import Pipeline, stream_specs
from tests.conftest import NATS_URL, new_stream_namespace, require_service

pytestmark = [pytest.mark.nats]
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _nats() -> None:
    require_service("NATS", NATS_URL)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The environment of a worker and of the `liftwatch streams` commands: a fresh namespace."""
    namespace = new_stream_namespace("st")
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "LIFTWATCH_VAR_DIR": str(tmp_path / "var"),
        "LIFTWATCH_SECRET_KEY": "s" * 48,
        "LIFTWATCH_BUS_URL": NATS_URL,
        "LIFTWATCH_STREAM_NAMESPACE": namespace,
        "LIFTWATCH_STREAM_MAX_MB": "64",
        "LIFTWATCH_FAULTS_STREAM_MAX_MB": "16",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield namespace
    get_settings.cache_clear()


async def _start_and_stop(settings: Settings, engine: Engine) -> None:
    pipeline = Pipeline(settings, make_session_factory(engine), SystemClock(), roles=frozenset({"archive"}))
    await pipeline.start()
    await pipeline.stop()
    assert pipeline.bus is not None
    await pipeline.bus.close()


async def _config(name: str) -> dict[str, object] | None:
    bus = JetStreamBus(NATS_URL)
    await bus.connect()
    try:
        return await bus.stream_config(name)
    finally:
        await bus.close()


async def _tune(name: str, max_bytes: int) -> None:
    """What an operator does with the nats CLI, through nats-py: a stream's size limit changed."""
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        info = await js.stream_info(name)
        info.config.max_bytes = max_bytes
        await js.update_stream(info.config)
    finally:
        await nc.close()


def _cli(*args: str) -> tuple[int, str]:
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["streams", *args])
    return result.exit_code, result.output


def test_a_tuned_stream_survives_a_restart_until_applied(
    env: str, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = get_settings()
    name = f"{env.upper()}_TELEMETRY"
    assert stream_specs(settings)["telemetry"].name == name

    asyncio.run(_start_and_stop(settings, sqlite_engine))  # the first start creates it from the settings
    created = asyncio.run(_config(name))
    assert created is not None and created["max_bytes"] == 64 * MB
    assert created["subjects"] == [f"{env}.telemetry.>"] and created["max_age_s"] == 24 * 3600.0

    asyncio.run(_tune(name, 32 * MB))
    with caplog.at_level(logging.WARNING, logger="liftwatch.core.bus"):
        asyncio.run(_start_and_stop(settings, sqlite_engine))  # a restart
    tuned = asyncio.run(_config(name))
    assert tuned is not None and tuned["max_bytes"] == 32 * MB  # the operator's tuning stays
    warnings = [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and name in r.getMessage()
    ]
    assert len(warnings) == 1
    assert f"max_bytes is {32 * MB}, settings say {64 * MB}" in warnings[0]
    assert "liftwatch streams apply" in warnings[0]

    code, out = _cli("show")
    assert code == 1  # differs
    assert f"* max_bytes: {32 * MB} (settings: {64 * MB})" in out

    code, out = _cli("apply", "--yes")
    assert code == 0, out
    assert f"{name}: updated: max_bytes is {32 * MB}, settings say {64 * MB}" in out
    applied = asyncio.run(_config(name))
    assert applied is not None and applied["max_bytes"] == 64 * MB

    code, out = _cli("show")
    assert code == 0, out  # everything matches now (RAW, not used here, was created by apply)
    assert "*" not in out


def test_apply_asks_first_and_refuses_what_nats_cannot_change(env: str) -> None:
    import nats
    from nats.js.api import StorageType, StreamConfig

    faults = f"{env.upper()}_FAULTS"

    async def memory_stream() -> None:  # created by hand with another storage type
        nc = await nats.connect(NATS_URL)
        try:
            js = nc.jetstream()
            await js.add_stream(
                StreamConfig(
                    name=faults, subjects=[f"{env}.faults.>"], storage=StorageType.MEMORY, max_bytes=MB
                )
            )
        finally:
            await nc.close()

    asyncio.run(memory_stream())
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["streams", "apply"], input="n\nn\n")
    assert "Apply?" in result.output and f"{env.upper()}_TELEMETRY: left as it is" in result.output
    assert f"{faults}: NATS cannot change storage is 'memory', settings say 'file'" in result.output
    assert result.exit_code == 1
    assert asyncio.run(_config(f"{env.upper()}_TELEMETRY")) is None  # declined: not created
    left = asyncio.run(_config(faults))
    assert left is not None and left["storage"] == "memory"


def test_names_with_a_namespace_are_the_documented_ones(env: str) -> None:
    specs = stream_specs(get_settings())
    assert {k: (s.name, s.subjects) for k, s in specs.items()} == {
        "telemetry": (f"{env.upper()}_TELEMETRY", (f"{env}.telemetry.>",)),
        "faults": (f"{env.upper()}_FAULTS", (f"{env}.faults.>",)),
        "raw": (f"{env.upper()}_RAW", (f"{env}.liftwatch.raw.>",)),
    }
    code, out = _cli("apply", "--yes")
    assert code == 0, out
    for spec in specs.values():
        got = asyncio.run(_config(spec.name))
        assert got is not None and got["subjects"] == list(spec.subjects)
    faults = asyncio.run(_config(specs["faults"].name))
    assert faults is not None and faults["discard"] == "new" and faults["max_age_s"] == 7 * 86_400.0


def test_a_consumer_made_at_a_sequence_resumes_there_before_its_first_acknowledgement(env: str) -> None:
    """A detector recreates its consumer at its checkpoint; if the process stops before it acknowledges
    anything, the next start must not read the stream from the beginning (nats-server 2.9 reports an ack
    floor of 0 for such a consumer)."""
    name, subject = f"{env.upper()}_RESUME", f"{env}.resume"

    async def run() -> tuple[int, int, int]:
        bus = JetStreamBus(NATS_URL)
        await bus.connect()
        try:
            await bus.ensure_stream(name, [subject], 600.0, MB)
            for i in range(10):
                await bus.publish(subject, str(i).encode())
            first = await bus.consumer(name, "resume", subject, start_seq=6)
            (taken,) = (await first.fetch(1, timeout=2))[:1]
            again = await bus.consumer(name, "resume", subject)  # a restart: no start given
            resumed = (await again.fetch(1, timeout=2))[0]
            await again.ack_upto(resumed)
            after_ack = (await (await bus.consumer(name, "resume", subject)).fetch(1, timeout=2))[0]
            await bus.delete_stream(name)
            return taken.seq, resumed.seq, after_ack.seq
        finally:
            await bus.close()

    assert asyncio.run(run()) == (6, 6, 7)
