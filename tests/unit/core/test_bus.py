"""The bus contract, on the in-process bus and on the real NATS JetStream: order, filters, durable
resumption after a restart, deduplicated publishes, lag."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from liftwatch.core.bus import Bus, InProcessBus, JetStreamBus, make_bus, subject_matches
from tests.conftest import NATS_URL, require_service

Scenario = Callable[[Bus, str], Awaitable[None]]


def _run(kind: str, scenario: Scenario) -> None:
    async def main() -> None:
        bus: Bus
        bus = JetStreamBus(NATS_URL) if kind == "nats" else InProcessBus(retain_acked=True)
        await bus.connect()
        stream = f"TEST_{uuid.uuid4().hex[:8].upper()}"
        await bus.ensure_stream(stream, [f"{stream.lower()}.>"])
        try:
            await scenario(bus, stream)
        finally:
            await bus.delete_stream(stream)
            await bus.close()

    asyncio.run(main())


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "nats":
        require_service("NATS", NATS_URL)
    return str(request.param)


def test_order_filter_and_ack_resume(kind: str) -> None:
    async def scenario(bus: Bus, stream: str) -> None:
        subj = stream.lower()
        for i in range(10):
            await bus.publish(f"{subj}.p{i % 2}", str(i).encode())
        even = await bus.consumer(stream, "even", f"{subj}.p0")
        got = await even.fetch(3, timeout=2)
        assert [m.data for m in got] == [b"0", b"2", b"4"]
        assert [m.seq for m in got] == [1, 3, 5]
        await even.ack_upto(got[1])  # "4" is delivered, not acknowledged
        assert await even.pending() == 3  # "4", "6", "8": the odd subject is not this consumer's
        # restart: a new consumer with the same durable name gets what was not acknowledged
        again = await bus.consumer(stream, "even", f"{subj}.p0", start_seq=got[1].seq + 1)
        rest = await again.fetch(10, timeout=2)
        assert [m.data for m in rest] == [b"4", b"6", b"8"]
        await again.ack_upto(rest[-1])
        assert await again.fetch(10, timeout=0.3) == []

    _run(kind, scenario)


def test_fetch_waits_for_new_messages(kind: str) -> None:
    async def scenario(bus: Bus, stream: str) -> None:
        subj = stream.lower()
        c = await bus.consumer(stream, "w", f"{subj}.>")

        async def later() -> None:
            await asyncio.sleep(0.2)  # the scenario, not a wait: the message comes while fetch waits
            await bus.publish(f"{subj}.x", b"late")

        task = asyncio.create_task(later())
        got = await c.fetch(5, timeout=3)
        await task
        assert [m.data for m in got] == [b"late"]

    _run(kind, scenario)


def test_publish_with_msg_id_is_deduplicated(kind: str) -> None:
    async def scenario(bus: Bus, stream: str) -> None:
        subj = stream.lower()
        a = await bus.publish(f"{subj}.x", b"once", msg_id="batch-1")
        b = await bus.publish(f"{subj}.x", b"once", msg_id="batch-1")
        await bus.publish(f"{subj}.x", b"other", msg_id="batch-2")
        assert a == b
        c = await bus.consumer(stream, "d", f"{subj}.>")
        assert [m.data for m in await c.fetch(10, timeout=1)] == [b"once", b"other"]

    _run(kind, scenario)


@pytest.mark.parametrize(
    ("pattern", "subject", "match"),
    [
        ("a.b", "a.b", True),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("a.*.c", "a.x.c", True),
        ("a.b", "a.c", False),
    ],
)
def test_subject_matches(pattern: str, subject: str, match: bool) -> None:
    assert subject_matches(pattern, subject) is match


def test_make_bus() -> None:
    assert isinstance(make_bus(""), InProcessBus)
    assert isinstance(make_bus("nats://127.0.0.1:4222"), JetStreamBus)
    with pytest.raises(ValueError, match="nats://"):
        make_bus("kafka://x")
