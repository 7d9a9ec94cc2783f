"""The risk worker (run with the maintenance role: ``liftwatch worker --role maintenance``, and in the
embedded pipeline): keeps ``risk_scores`` up to date as the data changes.

Every ``LIFTWATCH_RISK_RECOMPUTE_S`` it rescores the elevators whose inputs changed since its last pass
(``service.changed_since``: the elevator file and the faults, incidents, work orders, flags, contracts,
inspections and hazards stamped after the watermark) and, when the oldest stored score is a day old or no
score is stored, every elevator (the full run: what only time changes, a fault leaving its window, a visit
growing later, lands then). The watermark lives in the scores themselves (their newest ``computed_at``),
so a restarted worker goes on where the last one stopped; a lookback re-reads changes that committed late.

Its one loop reports a ``Health`` for /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.bus import Health, run_steps
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.risk import service
from liftwatch.risk.score import RiskSettings
from liftwatch.risk.settings import risk_settings_from_env

log = logging.getLogger(__name__)

#: How old the oldest stored score may grow before a full recomputation.
FULL_EVERY = timedelta(days=1)
#: Changes stamped this long before the watermark are read again: a transaction stamps its rows before
#: it commits, so one may commit after a pass that started later than its stamp.
LOOKBACK = timedelta(minutes=2)
#: More changed elevators than this are rescored by a full run (one read per domain, not per batch).
INCREMENTAL_MOST = 20_000


class RiskWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        risk_settings: RiskSettings | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.risk_settings = risk_settings if risk_settings is not None else risk_settings_from_env()
        self.every_s = settings.risk_recompute_s
        self.since: datetime | None = None  # the watermark: changes stamped after it are not scored yet
        self.passes = 0
        self.full_runs = 0
        self.health = Health("risk worker", settings.worker_give_up_s)

    def step(self) -> service.Recomputed | None:
        """One pass (committed): the full run when due, else the changed elevators; None when nothing
        changed."""
        with self.session_factory() as session:
            now = self.clock.now()
            oldest, newest, stored = service.stored_bounds(session)
            if self.since is None and newest is not None:
                self.since = newest - LOOKBACK  # a restart: go on from the last pass's scores
            full = stored == 0 or oldest is None or now - oldest >= FULL_EVERY or self.since is None
            codes: set[str] | None = None
            if not full:
                assert self.since is not None
                codes = service.changed_since(session, self.since)
                full = len(codes) > INCREMENTAL_MOST
            if not full and not codes:
                self.since = now - LOOKBACK
                self.passes += 1
                return None
            done = service.recompute(
                session,
                self.clock,
                self.settings,
                self.risk_settings,
                codes=None if full else codes,
                after_batch=session.commit,  # a batch at a time: no write lock held for a whole city
            )
            session.commit()
        self.since = now - LOOKBACK
        self.passes += 1
        self.full_runs += full
        log.info(
            "risk: %s recomputation of %d elevators (%d dropped) in %.2f s",
            "full" if full else "incremental",
            done.elevators,
            done.dropped,
            done.seconds,
        )
        return done

    async def _step(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.step)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.every_s)

    async def run(self, stop: asyncio.Event) -> None:
        """One loop: a pass, then wait ``every_s`` (a failed pass is retried with backoff)."""
        await run_steps(lambda: self._step(stop), stop, "risk worker", self.health)
