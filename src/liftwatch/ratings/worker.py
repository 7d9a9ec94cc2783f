"""The ratings worker (run with the maintenance role: ``liftwatch worker --role maintenance``, and in the
embedded pipeline): rates each month, quarter and half-year once it has closed.

Every ``every_s`` it looks at the period of each kind that closed last (``periods.closed_before``) and, once
``SETTLE_DAYS`` have passed since its end (a flag reviewed or a visit signed late lands first) and it has
never been rated, rates it with ``service.compute`` as the system. It never rates a stored period again by
itself: a regulator does that with the button or the command line (a period they rated meanwhile is left
as they rated it). Its one loop reports a ``Health`` for /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.bus import Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import NotFound
from liftwatch.ratings import service
from liftwatch.ratings.periods import PeriodKind, closed_before
from liftwatch.ratings.rate import RatingSettings
from liftwatch.ratings.settings import rating_settings_from_env

log = logging.getLogger(__name__)

#: Days after a period's end before it is rated: late reviews and signatures land first.
SETTLE_DAYS = 1
#: How often the worker looks (an hour: a period closes once a month at most).
EVERY_S = 3600.0


class RatingsWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        rating_settings: RatingSettings | None = None,
        every_s: float = EVERY_S,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.rating_settings = rating_settings if rating_settings is not None else rating_settings_from_env()
        self.every_s = every_s
        self.health = Health("ratings worker", settings.worker_give_up_s)

    def step(self) -> list[str]:
        """Rate the periods just closed that are settled and not rated yet (committed); their names."""
        today = self.clock.now().astimezone(zone(self.settings.timezone)).date()
        done = []
        with self.session_factory() as session:
            for kind in PeriodKind:
                period = closed_before(kind, today)
                if today < period.end + timedelta(days=SETTLE_DAYS):
                    continue
                try:
                    service.period_named(session, period.label)
                    continue
                except NotFound:
                    pass
                # rated meanwhile by someone else (the command, the button): compute replaces their rows
                # with the same records' rows, so the race costs a second computation, not an error
                service.compute(
                    session, SYSTEM_ACTOR, self.clock, self.settings, period, self.rating_settings
                )
                session.commit()
                done.append(period.label)
                log.info("ratings: %s rated", period.label)
        return done

    async def _step(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.step)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.every_s)

    async def run(self, stop: asyncio.Event) -> None:
        """One loop: a pass, then wait ``every_s`` (a failed pass is retried with backoff)."""
        await run_steps(lambda: self._step(stop), stop, "ratings worker", self.health)
