"""Tests wait on conditions, never on fixed sleeps.

``wait_until`` / ``until`` poll a predicate until it holds (returning its value) and fail after ``timeout``
naming what did not happen; a test that passes waits only as long as the system takes. ``assert_stays`` /
``stays`` are the one deliberate exception: a "nothing happens" check needs a quiet period, so they watch
a predicate for ``seconds`` and fail the moment it breaks. The async variants take predicates that
return a value or an awaitable (a bus query).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")
Described = str | Callable[[], str] | None


def _describe(what: Described, predicate: Callable[..., object]) -> str:
    """``what`` (a callable is asked at failure time, to show progress), else the predicate's source."""
    if callable(what):
        return what()
    if what:
        return what
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)


def wait_until(
    predicate: Callable[[], T | None], timeout: float = 15.0, what: Described = None, interval: float = 0.05
) -> T:
    """Poll ``predicate`` until it returns something truthy (returned, so never None); AssertionError
    after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached in {timeout:g} s: {_describe(what, predicate)}")
        time.sleep(interval)


@overload
async def until(
    predicate: Callable[[], Awaitable[T | None]],
    timeout: float = ...,
    what: Described = ...,
    interval: float = ...,
) -> T: ...


@overload
async def until(
    predicate: Callable[[], T | None], timeout: float = ..., what: Described = ..., interval: float = ...
) -> T: ...


async def until(
    predicate: Callable[[], object], timeout: float = 15.0, what: Described = None, interval: float = 0.05
) -> object:
    """``wait_until`` for a running event loop: the loop goes on between polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached in {timeout:g} s: {_describe(what, predicate)}")
        await asyncio.sleep(interval)


def assert_stays(
    predicate: Callable[[], object], seconds: float, what: Described = None, interval: float = 0.05
) -> None:
    """A deliberate quiet period: ``predicate`` holds throughout ``seconds`` (checked every ``interval``
    and once more at the end); AssertionError the moment it does not."""
    deadline = time.monotonic() + seconds
    while True:
        if not predicate():
            raise AssertionError(f"broke within {seconds:g} s: {_describe(what, predicate)}")
        if time.monotonic() >= deadline:
            return
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


async def stays(
    predicate: Callable[[], object], seconds: float, what: Described = None, interval: float = 0.05
) -> None:
    """``assert_stays`` for a running event loop."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if not value:
            raise AssertionError(f"broke within {seconds:g} s: {_describe(what, predicate)}")
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def run_bounded(main: Awaitable[T], timeout: float = 200.0) -> T:
    """``asyncio.run(main)`` that fails after ``timeout`` with every task's stack printed (pytest shows
    it): a hang names the await it is stuck on, instead of the whole test timeout saying only that the
    loop was idle."""

    async def _watch() -> T:
        task = asyncio.ensure_future(main)
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            for other in asyncio.all_tasks():
                if other is not asyncio.current_task():
                    other.print_stack(limit=12)
            task.cancel()
            raise AssertionError(f"the test's event loop did not finish in {timeout:g} s (task stacks above)")
        return task.result()

    return asyncio.run(_watch())
