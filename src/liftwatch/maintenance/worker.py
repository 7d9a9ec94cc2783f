"""The maintenance worker (``liftwatch worker --role maintenance``; every role in the embedded pipeline):

* deadlines: every ``timer_every_s`` it fires the due SLA and escalation timers of work orders, and the
  telemetry timers that judge a signed visit's telemetry kinds of fake maintenance once the pipeline has
  recorded it (``service.fire_due_timers``: durable rows, so a deadline set by one process fires in another
  after a restart; SKIP LOCKED, so two workers never fire one twice);
* notices: it delivers the ``maintenance_notices`` outbox to the log and, with
  LIFTWATCH_MAINTENANCE_WEBHOOK_URL, to the maintenance unit's or regulator's system (core/notify.py, as
  rescue's notices: a POST with the notice's key as ``Idempotency-Key``), one row claimed and marked at a
  time by core/outbox.py's delivery loop (shared with rescue and hazards). At least once: a row is marked
  delivered only after the webhook's 2xx; a failed attempt keeps it with its attempts and next try
  (LIFTWATCH_MAINTENANCE_NOTICE_RETRY_S doubling, at most ..._RETRY_MAX_S), never dropped;
* plans: a minute after start and then every LIFTWATCH_MAINTENANCE_PLAN_EVERY_H it opens the preventive
  work orders of the visits due soon (maintenance/schedule.py).

Each loop reports a ``Health`` for /readyz; metrics count timers fired, notices delivered, failed notice
attempts and orders planned."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core import notify, outbox
from liftwatch.core.bus import Health, run_steps, run_together
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.logs import mask_secrets
from liftwatch.core.metrics import Metrics
from liftwatch.maintenance import schedule, service
from liftwatch.maintenance.models import MaintenanceNotice

log = logging.getLogger(__name__)

# The plan job's first run comes this long after the worker starts (then every plan_every_h): soon enough
# that a worker restarted more often than daily still plans, late enough that a starting process (or a
# test seeding its city) is settled.
PLAN_DELAY_S = 60.0


class MaintenanceMetrics:
    """The worker's counters, on the process's registry."""

    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry
        self.timers_fired = Counter(
            "liftwatch_maintenance_timers_fired",
            "Work order deadlines fired, by the notice they wrote (overdue, escalated)",
            ["kind"],
            registry=r,
        )
        self.notices_delivered = Counter(
            "liftwatch_maintenance_notices_delivered", "Maintenance notices delivered", registry=r
        )
        self.orders_planned = Counter(
            "liftwatch_maintenance_orders_planned",
            "Preventive work orders opened by the plan job",
            registry=r,
        )
        self.notice_failures = Counter(
            "liftwatch_maintenance_notice_failures",
            "Failed webhook attempts of maintenance notices (each is retried, never dropped)",
            registry=r,
        )
        self.notices_pending = Gauge(
            "liftwatch_maintenance_notices_pending", "Maintenance notices not yet delivered", registry=r
        )


def notice_payload(row: MaintenanceNotice) -> dict[str, Any]:
    """What the log and the webhook receive for one notice (docs/MAINTENANCE.md, "Worker and schedules")."""
    return outbox.payload(row, ("work_order_id", row.work_order_id), recipient=row.recipient)


class MaintenanceWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        metrics: Metrics | None = None,
        usage_of: schedule.UsageOf = schedule.usage_from_database,
        timer_every_s: float = 2.0,
        outbox_every_s: float = 1.0,
        plan_delay_s: float = PLAN_DELAY_S,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.usage_of = usage_of
        self.timer_every_s = timer_every_s
        self.outbox_every_s = outbox_every_s
        self.plan_every_s = settings.maintenance_plan_every_h * 3600.0
        self.metrics = MaintenanceMetrics(metrics) if metrics is not None else None
        self._next_plan = time.monotonic() + plan_delay_s  # the first run soon after start
        self._wrote = asyncio.Event()
        self.delivery = outbox.Delivery(
            MaintenanceNotice,
            session_factory,
            clock,
            notify.Sender(
                settings.maintenance_webhook_url,
                settings.maintenance_webhook_timeout_s,
                settings.maintenance_notice_retry_s,
                settings.maintenance_notice_retry_max_s,
            ),
            payload=notice_payload,
            tell=outbox.teller(
                log,
                "maintenance %(kind)s: work order %(work_order_id)d %(registration_code)s to %(recipient)s "
                "%(details)s (%(idempotency_key)s)",
            ),
            log=log,
            label="maintenance notice",
            describe=lambda row: f"{row.kind} to {row.recipient}",
            on_failed=self._failed,
        )
        self.timers_fired = 0
        self.health = Health("maintenance worker", settings.worker_give_up_s)
        self.outbox_health = Health("maintenance notices", settings.worker_give_up_s)

    async def start(self) -> None:
        log.info(
            "maintenance worker: starting",
            extra={
                "maintenance": {
                    "plan_every_h": self.settings.maintenance_plan_every_h,
                    "plan_days_ahead": self.settings.maintenance_plan_days_ahead,
                    "notices": mask_secrets(self.settings.maintenance_webhook_url) or "log only",
                }
            },
        )

    # ------------------------------------------------------------ deadlines and plans

    def fire(self) -> int:
        """Fire the due deadlines (committed); returns how many notices they wrote."""
        with self.session_factory() as session:
            notices = service.fire_due_timers(session, self.clock, self.settings)
            session.commit()
        for n in notices:
            log.warning(
                "maintenance deadline fired: work order %d (%s) %s, %s told",
                n.work_order_id,
                n.registration_code,
                n.kind,
                n.recipient,
            )
            if self.metrics is not None:
                self.metrics.timers_fired.labels(n.kind).inc()
        self.timers_fired += len(notices)
        return len(notices)

    def plan(self) -> schedule.PlanRun:
        run = schedule.open_due_orders(self.session_factory, self.clock, self.settings, self.usage_of)
        if self.metrics is not None and run.opened:
            self.metrics.orders_planned.inc(len(run.opened))
        return run

    async def step(self) -> None:
        if await asyncio.to_thread(self.fire):
            self._wrote.set()
        if time.monotonic() >= self._next_plan:
            await asyncio.to_thread(self.plan)
            self._next_plan = time.monotonic() + self.plan_every_s

    # ------------------------------------------------------------ notices

    def deliver_due(self, limit: int = 50) -> int:
        """Deliver up to ``limit`` due notices through core/outbox.py's loop (each claimed, SKIP LOCKED on
        PostgreSQL, sent and marked in its own transaction; stops at the first failure); returns how many
        were delivered."""
        delivered = self.delivery.deliver_due(limit)
        if self.metrics is not None:
            self.metrics.notices_delivered.inc(delivered)
            with self.session_factory() as session:
                self.metrics.notices_pending.set(outbox.count_pending(session, MaintenanceNotice))
        return delivered

    @property
    def delivered(self) -> int:
        return self.delivery.delivered

    @property
    def failures(self) -> int:
        """Failed webhook attempts."""
        return self.delivery.failures

    def _failed(self, _s: Session, _row: MaintenanceNotice, _now: datetime, _f: notify.Failure) -> None:
        if self.metrics is not None:
            self.metrics.notice_failures.inc()

    async def _deliver_step(self, stop: asyncio.Event) -> None:
        if await asyncio.to_thread(self.deliver_due):
            return  # maybe more are due
        self._wrote.clear()
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wrote.wait())]
        try:
            await asyncio.wait(waits, timeout=self.outbox_every_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _timer_step(self, stop: asyncio.Event) -> None:
        await self.step()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.timer_every_s)

    async def run(self, stop: asyncio.Event) -> None:
        """Two loops, deadlines and plans, and the notices; either giving up (``Unrecoverable``) ends both."""
        await run_together(
            run_steps(lambda: self._timer_step(stop), stop, "maintenance worker", self.health),
            run_steps(lambda: self._deliver_step(stop), stop, "maintenance notices", self.outbox_health),
        )
