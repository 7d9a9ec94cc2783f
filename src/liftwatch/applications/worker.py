"""The applications worker (with the maintenance role, and in the embedded pipeline): every ``every_s`` it
flags the department reviews whose deadline passed undecided (``service.fire_due_timers``: durable rows,
so a deadline set by one process is flagged by another after a restart; SKIP LOCKED, so two workers never
flag one twice). Its one loop reports a ``Health`` for /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.applications import service
from liftwatch.core.bus import Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings

log = logging.getLogger(__name__)


class ApplicationWorker:
    def __init__(
        self, session_factory: sessionmaker[Session], clock: Clock, settings: Settings, every_s: float = 10.0
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.every_s = every_s
        self.flagged = 0
        self.health = Health("application worker", settings.worker_give_up_s)

    def fire(self) -> int:
        """Flag the reviews now late (committed); returns how many."""
        with self.session_factory() as session:
            late = service.fire_due_timers(session, self.clock)
            session.commit()
            for review in late:
                log.warning(
                    "application review late: application %d, %s, due %s",
                    review.application_id,
                    review.department,
                    review.due_at.isoformat(),
                )
        self.flagged += len(late)
        return len(late)

    async def _step(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.fire)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.every_s)

    async def run(self, stop: asyncio.Event) -> None:
        await run_steps(lambda: self._step(stop), stop, "application worker", self.health)
