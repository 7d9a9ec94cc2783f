"""Bounded waits on tasks for shutdown paths: a task that ignores its cancellation, or a close that
hangs on a broken connection, costs a logged warning after a deadline, never a process (or a test) that
never ends. ``asyncio.wait_for`` is not enough for that: after its timeout it waits, unbounded, for the
cancelled awaitable to finish."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Collection
from typing import Any

log = logging.getLogger(__name__)


async def settle(
    tasks: Collection[asyncio.Future[Any]], timeout: float, what: str
) -> set[asyncio.Future[Any]]:
    """Wait up to ``timeout`` for ``tasks`` to finish; the ones still running are cancelled and given
    one more second, and those that ignore it are logged and returned (left behind). The caller's own
    cancellation is never swallowed. Exceptions of finished tasks are retrieved (their owner reported
    them)."""
    pending = {t for t in tasks if not t.done()}
    if pending:
        _, pending = await asyncio.wait(pending, timeout=timeout)
        for task in pending:
            if not (isinstance(task, asyncio.Task) and task.cancelling()):
                log.warning("%s: %s did not finish in %.0f s; cancelled", what, _name(task), timeout)
            task.cancel()
        if pending:
            _, pending = await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()
    for task in pending:
        log.warning("%s: %s ignored its cancellation; left behind", what, _name(task))
    return pending


def _name(task: asyncio.Future[Any]) -> str:
    return task.get_name() if isinstance(task, asyncio.Task) else repr(task)


async def bounded(awaitable: Awaitable[Any], timeout: float, what: str) -> bool:
    """Run ``awaitable`` for at most ``timeout`` seconds (cancelled after it, without waiting on the
    cancellation beyond a second); True when it finished in time without an exception."""
    task = asyncio.ensure_future(awaitable)
    late = await settle([task], timeout, what)
    if late or task.cancelled():
        return False
    exc = task.exception()
    if exc is not None:
        log.warning("%s failed: %s", what, exc)
        return False
    return True
