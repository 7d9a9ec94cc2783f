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


def test_a_lone_message_is_handed_over_at_once_not_after_the_fetch_timeout(kind: str) -> None:
    """A quiet stream, one entrapment's fault: the fetch for up to 100 returns it when it comes, not when
    the 5 s it may wait for more are over (the rescue intake fetches 100 at a time; an alarm must not wait
    for company)."""

    async def scenario(bus: Bus, stream: str) -> None:
        subj = stream.lower()
        c = await bus.consumer(stream, "lone", f"{subj}.>")

        async def later() -> None:
            await asyncio.sleep(0.2)  # the scenario: the message comes while fetch waits
            await bus.publish(f"{subj}.x", b"alarm")

        task = asyncio.create_task(later())
        started = asyncio.get_running_loop().time()
        got = await c.fetch(100, timeout=5)
        waited = asyncio.get_running_loop().time() - started
        await task
        assert [m.data for m in got] == [b"alarm"]
        assert waited < 2.5, f"the fetch held a lone message for {waited:.1f} s"
        # and what is there already comes in one fetch, in order
        for i in range(5):
            await bus.publish(f"{subj}.x", str(i).encode())
        more = await c.fetch(100, timeout=5)
        assert [m.data for m in more] == [str(i).encode() for i in range(5)]

    _run(kind, scenario)


def test_the_backlog_is_what_is_not_acknowledged_or_what_waits(kind: str) -> None:
    """``backlog`` counts what a consumer has not acknowledged (a wait for everything to be processed);
    ``waiting_only`` what it has not even been handed (a detector that acknowledges at its checkpoints
    holds seconds of processed messages: shedding for lag must not count them)."""

    async def scenario(bus: Bus, stream: str) -> None:
        subj = stream.lower()
        for i in range(6):
            await bus.publish(f"{subj}.x", str(i).encode())
        c = await bus.consumer(stream, "detector-p0", f"{subj}.>")
        assert await bus.backlog(stream, "detector-") == 6
        assert await bus.backlog(stream, "detector-", waiting_only=True) == 6
        got = await c.fetch(4, timeout=2)
        assert len(got) == 4
        assert await bus.backlog(stream, "detector-") == 6  # handed over, not acknowledged
        if kind == "nats":
            assert await bus.backlog(stream, "detector-", waiting_only=True) == 2
        await c.ack_upto(got[-1])
        assert await bus.backlog(stream, "detector-") == 2
        assert await bus.backlog(stream, "other-") == 0  # no such consumer

    _run(kind, scenario)


def test_publish_with_msg_id_is_deduplicated(kind: str) -> None:
    async def scenario(bus: Bus, stream: str) -> None:
        subj = stream.lower()
        a = await bus.publish(f"{subj}.x", b"once", msg_id="batch-1")
        b = await bus.publish(f"{subj}.x", b"once", msg_id="batch-1")
        await bus.publish(f"{subj}.x", b"other", msg_id="batch-2")
        assert a.duplicate is False and b == (a.seq, True)  # the copy is said to be one
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
