"""The parts worker (with the maintenance role, and in the embedded pipeline): every
LIFTWATCH_PARTS_REFRESH_EVERY_S it judges the wear of every current part against its design life, from the
terminals' counters as they are now (``service.refresh_wear``), in batches of 2,000 each committed, so the
worn list (``service.worn_parts``) is one indexed query however large the city. Its loop reports a
``Health`` for /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.parts import service
from liftwatch.parts.settings import PartSettings, part_settings_from_env

log = logging.getLogger(__name__)


class PartsWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        part_settings: PartSettings | None = None,
        every_s: float = 5.0,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.part_settings = part_settings or part_settings_from_env()
        self.every_s = every_s
        self.judged = 0
        self._next: datetime | None = None
        self.health = Health("parts worker", settings.worker_give_up_s)

    def refresh(self) -> int:
        """One pass over every current part (each batch its own transaction); returns how many."""
        after, total = 0, 0
        while True:
            with self.session_factory() as session:
                n, after = service.refresh_wear(session, self.clock, self.settings, self.part_settings, after)
                session.commit()
            total += n
            if n == 0 or after == 0:
                break
        self.judged += total
        log.info("parts worker judged the wear of %d parts", total)
        return total

    def refresh_if_due(self) -> int:
        now = self.clock.now()
        if self._next is not None and now < self._next:
            return 0
        self._next = now + timedelta(seconds=self.part_settings.refresh_every_s)
        return self.refresh()

    async def _step(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.refresh_if_due)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.every_s)

    async def run(self, stop: asyncio.Event) -> None:
        await run_steps(lambda: self._step(stop), stop, "parts worker", self.health)
