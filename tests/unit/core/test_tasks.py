"""Bounded shutdown waits: a task that ignores its cancellation is left behind after the deadline, and
the caller goes on (``asyncio.wait_for`` would wait for it forever)."""

from __future__ import annotations

import asyncio
import time

import pytest

from liftwatch.core.tasks import bounded, settle


async def _stubborn(stop: asyncio.Event) -> None:
    """Swallows every cancellation until ``stop`` is set (as a buggy worker loop would)."""
    while not stop.is_set():
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            continue


def test_settle_leaves_a_task_that_ignores_its_cancellation_behind_within_the_bound() -> None:
    async def main() -> tuple[int, float, bool]:
        stop = asyncio.Event()
        quick = asyncio.create_task(asyncio.sleep(0))
        stubborn = asyncio.create_task(_stubborn(stop))
        t0 = time.monotonic()
        late = await settle([quick, stubborn], 0.2, "test")
        took = time.monotonic() - t0
        stop.set()
        await stubborn
        return len(late), took, stubborn in late

    n, took, stubborn_late = asyncio.run(main())
    assert (n, stubborn_late) == (1, True)
    assert took < 3.0  # 0.2 s, then one second for the cancellation


def test_settle_cancels_a_late_task_that_honours_it_and_returns_nothing_left() -> None:
    async def main() -> tuple[set[asyncio.Future[object]], bool]:
        slow = asyncio.create_task(asyncio.sleep(60))
        late = await settle([slow], 0.05, "test")
        return late, slow.cancelled()

    late, cancelled = asyncio.run(main())
    assert late == set() and cancelled


def test_settle_retrieves_a_failed_tasks_exception() -> None:
    async def fail() -> None:
        raise ValueError("boom")

    async def main() -> set[asyncio.Future[object]]:
        task = asyncio.create_task(fail())
        await asyncio.sleep(0)
        return await settle([task], 1.0, "test")

    assert asyncio.run(main()) == set()


def test_bounded_says_whether_it_finished_in_time() -> None:
    async def main() -> tuple[bool, bool, bool]:
        stop = asyncio.Event()
        ok = await bounded(asyncio.sleep(0), 1.0, "quick")
        hung = await bounded(_stubborn(stop), 0.1, "stubborn")
        stop.set()

        async def fail() -> None:
            raise OSError("gone")

        failed = await bounded(fail(), 1.0, "failing")
        return ok, hung, failed

    assert asyncio.run(main()) == (True, False, False)


def test_the_callers_cancellation_is_not_swallowed() -> None:
    async def main() -> None:
        stop = asyncio.Event()
        waiter = asyncio.create_task(settle([asyncio.create_task(_stubborn(stop))], 30.0, "test"))
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        stop.set()

    asyncio.run(main())
