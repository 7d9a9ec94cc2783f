"""The waiting helpers: they return as soon as the condition holds, and fail naming what did not happen."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.waiting import assert_stays, stays, until, wait_until


def test_wait_until_returns_the_value_once_it_holds() -> None:
    ready_at = time.monotonic() + 0.1
    assert wait_until(lambda: time.monotonic() >= ready_at and "ok", 5, interval=0.01) == "ok"
    assert time.monotonic() - ready_at < 1  # returned right away, not at the timeout


def test_wait_until_fails_after_the_timeout_naming_the_condition() -> None:
    with pytest.raises(AssertionError, match=r"not reached in 0.1 s: the door closes"):
        wait_until(lambda: False, 0.1, "the door closes")
    with pytest.raises(AssertionError, match=r"lambda: 1 > 2"):  # without a description: the source
        wait_until(lambda: 1 > 2, 0.1)


def test_until_awaits_async_predicates_and_shows_progress() -> None:
    count = 0

    async def bumped() -> int:
        nonlocal count
        count += 1
        return count if count >= 3 else 0

    assert asyncio.run(until(bumped, 5, interval=0.01)) == 3
    with pytest.raises(AssertionError, match=r"not reached in 0.1 s: 3 of 4"):
        asyncio.run(until(lambda: count >= 4, 0.1, lambda: f"{count} of 4"))


def test_assert_stays_watches_the_whole_quiet_period() -> None:
    started = time.monotonic()
    assert_stays(lambda: True, 0.2, "nothing happens", interval=0.02)
    assert time.monotonic() - started >= 0.2
    breaks_at = time.monotonic() + 0.1
    with pytest.raises(AssertionError, match=r"broke within 1 s: no redelivery"):
        assert_stays(lambda: time.monotonic() < breaks_at, 1, "no redelivery", interval=0.01)
    assert time.monotonic() - breaks_at < 0.5  # failed the moment it broke


def test_stays_in_an_event_loop() -> None:
    seen: list[int] = []

    async def main() -> None:
        async def arrives() -> None:
            await asyncio.sleep(0.05)  # the scenario: it arrives during the quiet period
            seen.append(1)

        task = asyncio.create_task(arrives())
        with pytest.raises(AssertionError, match="nothing arrives"):
            await stays(lambda: not seen, 1, "nothing arrives", interval=0.01)
        await task
        await stays(lambda: len(seen) == 1, 0.1, "one arrived")

    asyncio.run(main())
