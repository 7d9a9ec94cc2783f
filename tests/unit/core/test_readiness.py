"""Readiness and the probes' rules: the workers' default metrics ports, when a detector partition counts as
lagging (an idle city never does), checks that never block or stack up, and the bus's stream counters."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from sqlalchemy.engine import Engine

from liftwatch.core.bus import InProcessBus
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.db import make_session_factory
from liftwatch.core.metrics import Metrics, process_registry
from liftwatch.core.probes import BlockingCheck, LagWatch
from liftwatch.workers import ROLES, Pipeline, default_metrics_port
from tests.factories import seed
from tests.unit.telemetry.test_pipeline import CODE, Terminal
from tests.waiting import until

# ---------------------------------------------------------------- ports


@pytest.mark.parametrize(
    ("roles", "partitions", "port"),
    [
        ({"ingest"}, None, 9108),
        ({"archive"}, None, 9109),
        ({"rescue"}, None, 9110),
        ({"detect"}, None, 9111),
        ({"detect"}, [0, 1], 9111),
        ({"detect"}, [3, 2], 9113),  # the first partition it owns, whatever the order given
        (set(ROLES), None, 9108),  # everything in one process
        ({"archive", "rescue"}, None, 9109),
        ({"detect", "rescue"}, [5], 9116),
    ],
)
def test_each_role_has_its_own_default_metrics_port(
    roles: set[str], partitions: list[int] | None, port: int
) -> None:
    assert default_metrics_port(frozenset(roles), partitions) == port


def test_one_process_of_each_role_and_one_per_partition_set_fit_on_one_host() -> None:
    processes = [
        (frozenset({"ingest"}), None),
        (frozenset({"archive"}), None),
        (frozenset({"rescue"}), None),
        *[(frozenset({"detect"}), [p]) for p in range(8)],
    ]
    ports = [default_metrics_port(roles, parts) for roles, parts in processes]
    assert len(set(ports)) == len(ports)


# ---------------------------------------------------------------- lag


def test_an_idle_city_is_never_lagging_however_old_its_last_message() -> None:
    watch = LagWatch(limit_s=120, now=0.0)
    watch.observe(pending=0, now=3600.0)
    assert watch.lag_s(processed_lag_s=3600.0, since_step_s=0.1, now=3600.0) == 0.0
    assert not watch.lagging(3600.0, 0.1, 3600.0)


def test_the_first_message_after_an_idle_hour_is_not_an_hour_late() -> None:
    watch = LagWatch(limit_s=120, now=0.0)
    watch.observe(0, now=3598.0)  # the last check: nothing waiting
    watch.observe(1, now=3600.0)  # a message arrived; the detector has not taken it yet
    # the newest processed receive time is an hour old, but what waits arrived in the last 2 s
    assert watch.lag_s(3600.0, 0.1, 3600.0) == pytest.approx(2.0)
    assert not watch.lagging(3600.0, 0.1, 3600.0)


def test_a_partition_behind_with_messages_waiting_is_lagging() -> None:
    watch = LagWatch(limit_s=120, now=0.0)
    for t in range(0, 600, 2):  # busy: something is always waiting
        watch.observe(50_000, now=float(t))
    assert watch.lag_s(30.0, 0.1, 600.0) == pytest.approx(30.0)  # keeping up: its own lag counts
    assert not watch.lagging(30.0, 0.1, 600.0)
    assert watch.lagging(300.0, 0.1, 600.0)  # five minutes behind


def test_a_stuck_loop_lags_even_though_its_last_lag_figure_stays_small() -> None:
    watch = LagWatch(limit_s=120, now=0.0)
    watch.observe(10, now=1.0)
    # the loop has not completed a step for 200 s: the lag metric it set last (0.5 s) does not grow
    assert watch.lagging(processed_lag_s=0.5, since_step_s=200.0, now=201.0)


def test_a_replay_after_a_start_counts_from_the_start() -> None:
    watch = LagWatch(limit_s=120, now=100.0)
    watch.observe(1_000_000, now=102.0)  # nothing processed yet (no lag figure)
    assert not watch.lagging(None, 2.0, 102.0)
    assert watch.lagging(None, 2.0, 300.0)


# ---------------------------------------------------------------- blocking checks


def test_a_blocking_check_answers_in_time_and_never_stacks_up() -> None:
    release = threading.Event()
    calls = 0

    def hangs() -> None:
        nonlocal calls
        calls += 1
        release.wait(5)

    async def main() -> None:
        check = BlockingCheck(hangs, timeout_s=0.1)
        started = time.monotonic()
        assert await check.run() is False
        assert "no answer within" in check.error
        assert await check.run() is False  # the first is still hanging: not run again
        assert "has not answered" in check.error
        assert time.monotonic() - started < 1.0  # the loop never waited for the hung thread
        assert calls == 1
        release.set()
        await asyncio.sleep(0.05)
        check._fn = lambda: None
        assert await check.run() is True and check.error == ""

    asyncio.run(main())


def test_a_blocking_check_answers_while_the_shared_thread_pool_is_busy() -> None:
    """The workers' long steps fill the loop's shared pool at start-up (CI once saw /readyz say 503 for a
    healthy database that way); the check has a thread of its own."""
    release = threading.Event()

    async def main() -> bool:
        loop = asyncio.get_running_loop()
        busy = [loop.run_in_executor(None, release.wait, 5) for _ in range(64)]  # more than the pool
        try:
            return await BlockingCheck(lambda: None, timeout_s=0.5).run()
        finally:
            release.set()
            await asyncio.gather(*busy)

    assert asyncio.run(main()) is True


def test_a_failing_blocking_check_says_why() -> None:
    def refuses() -> None:
        raise ConnectionRefusedError("connection refused")

    async def main() -> BlockingCheck:
        check = BlockingCheck(refuses, timeout_s=1)
        await check.run()
        return check

    check = asyncio.run(main())
    assert check.ok is False and "connection refused" in check.error


# ---------------------------------------------------------------- the in-process bus's counters


def test_the_in_process_bus_reports_its_streams_counters_and_each_consumers_pending() -> None:
    async def main() -> None:
        bus = InProcessBus()
        assert await bus.reachable() is True
        await bus.ensure_stream("T", ["t.>"])
        c0 = await bus.consumer("T", "detector-p0", "t.p0")
        await bus.consumer("T", "detector-p1", "t.p1")
        for i in range(3):
            await bus.publish("t.p0", b"x" * 10, msg_id=f"a{i}")
        await bus.publish("t.p1", b"yy")
        info = await bus.stream_info("T")
        assert (info.messages, info.bytes, info.first_seq, info.last_seq) == (4, 32, 1, 4)
        assert info.consumers == {"detector-p0": 3, "detector-p1": 1}
        got = await c0.fetch(10, timeout=0.1)
        await c0.ack_upto(got[-1])
        assert (await bus.stream_info("T")).consumers == {"detector-p0": 0, "detector-p1": 1}
        with pytest.raises(LookupError):
            await bus.stream_info("NOPE")

    asyncio.run(main())


# ---------------------------------------------------------------- process metrics


def test_every_registry_carries_the_process_metrics() -> None:
    for registry in (Metrics().registry, Metrics().registry, process_registry()):
        text = generate_latest(registry).decode()
        assert "process_resident_memory_bytes" in text
        assert "python_gc_objects_collected_total" in text
        assert "python_info" in text


# ---------------------------------------------------------------- the pipeline's /readyz


def test_the_pipelines_readiness_names_a_partition_behind_with_messages_waiting_and_recovers(
    sqlite_engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Embedded, on the in-process bus: idle it is ready whatever the last message's age; with a message
    an hour old processed but not yet acknowledged (checkpoints every 60 s here), the partition is waiting
    and behind, so not ready after LIFTWATCH_READY_MAX_LAG_S; once checkpointed, ready again."""
    factory = make_session_factory(sqlite_engine)
    with factory() as s:
        seed(s, clock)
        s.commit()
    settings = Settings(
        var_dir=tmp_path / "var",
        secret_key="x" * 48,
        archive=False,
        partitions=1,
        checkpoint_seconds=60,
        ready_max_lag_s=0.3,
    )

    async def main() -> None:
        pipeline = Pipeline(
            settings, factory, clock, roles=frozenset({"ingest", "detect"}), ready_check_s=0.05
        )
        await pipeline.start()
        try:
            report = pipeline.health()
            assert report["ready"], report
            assert report["parts"]["database"]["ready"] and report["parts"]["bus"]["ready"]
            assert pipeline.ingestor is not None
            hour_ago = int((clock.now() - timedelta(hours=1)).timestamp() * 1000)
            topic, payload = Terminal(CODE, clock).status()
            pipeline.ingestor.accept_mqtt(topic, payload, hour_ago)
            await pipeline.ingestor.flush()
            part = "detector partition 0"
            behind = await until(lambda: _not_ready_part(pipeline, part), 5, "the partition not ready")
            assert behind["pending"] == 1 and behind["lag_s"] >= 0.3
            assert behind["lag_s"] < 60  # not the hour: the message arrived just now
            await pipeline.workers[0].checkpoint()  # acknowledged: nothing waiting
            await until(lambda: pipeline.health()["ready"], 5, "ready again after the checkpoint")
            assert pipeline.health()["parts"][part]["lag_s"] == 0.0  # the hour-old figure does not count
        finally:
            await pipeline.stop()

    asyncio.run(main())


def _not_ready_part(pipeline: Pipeline, name: str) -> dict[str, Any] | None:
    part: dict[str, Any] = pipeline.health()["parts"][name]
    return None if part["ready"] else part
