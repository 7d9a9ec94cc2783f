"""The maintenance worker (``liftwatch worker --role maintenance``; every role in the embedded pipeline):

* deadlines: every ``timer_every_s`` it fires the due SLA and escalation timers of work orders, and the
  telemetry timers that judge a signed visit's telemetry kinds of fake maintenance once the pipeline has
  recorded it (``service.fire_due_timers``: durable rows, so a deadline set by one process fires in another
  after a restart; SKIP LOCKED, so two workers never fire one twice);
* notices: it delivers the ``maintenance_notices`` outbox to the log and, with
  LIFTWATCH_MAINTENANCE_WEBHOOK_URL, to the maintenance unit's or regulator's system (core/notify.py, as
  rescue's notices: a POST with the notice's key as ``Idempotency-Key``), one row claimed and marked at a
  time. At least once: a row is marked delivered only after the webhook's 2xx; a failed attempt keeps it with
  its attempts and next try (LIFTWATCH_MAINTENANCE_NOTICE_RETRY_S doubling, at most ..._RETRY_MAX_S), never
  dropped;
* plans: a minute after start and then every LIFTWATCH_MAINTENANCE_PLAN_EVERY_H it opens the preventive
  work orders of the visits due soon (maintenance/schedule.py).

Each loop reports a ``Health`` for /readyz; metrics count timers fired, notices delivered, failed notice
attempts and orders planned."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core import notify
from liftwatch.core.bus import Health, run_steps, run_together
from liftwatch.core.clock import Clock, as_utc
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
    return {
        "idempotency_key": row.key,
        "work_order_id": row.work_order_id,
        "kind": row.kind,
        "recipient": row.recipient,
        "registration_code": row.registration_code,
        "details": row.details,
        "created_at": as_utc(row.created_at).isoformat(),
    }


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
        self.sender = notify.Sender(
            settings.maintenance_webhook_url,
            settings.maintenance_webhook_timeout_s,
            settings.maintenance_notice_retry_s,
            settings.maintenance_notice_retry_max_s,
        )
        self.timers_fired = 0
        self.delivered = 0
        self.failures = 0  # failed webhook attempts
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
        """Deliver up to ``limit`` due notices, each claimed (SKIP LOCKED on PostgreSQL), sent and marked in
        its own transaction; returns how many were delivered. Stops at the first failure: the receiver is
        likely down, and the others would wait for its time-out in turn (each row keeps its own next try)."""
        delivered = 0
        for _ in range(limit):
            if not self._deliver_one():  # nothing due, or a failure
                break
            delivered += 1
        self.delivered += delivered
        if self.metrics is not None:
            self.metrics.notices_delivered.inc(delivered)
            with self.session_factory() as session:
                pending = session.scalar(
                    select(func.count(MaintenanceNotice.id)).where(MaintenanceNotice.delivered_at.is_(None))
                )
            self.metrics.notices_pending.set(pending or 0)
        return delivered

    def _deliver_one(self) -> bool | None:
        """None: nothing due; True: one delivered; False: one failed (kept for its next try)."""
        with self.session_factory() as session:
            now = self.clock.now()
            due = or_(MaintenanceNotice.next_attempt_at.is_(None), MaintenanceNotice.next_attempt_at <= now)
            row = notify.claim_one(
                session,
                select(MaintenanceNotice)
                .where(MaintenanceNotice.delivered_at.is_(None), due)
                .order_by(MaintenanceNotice.created_at, MaintenanceNotice.id)
                .limit(1),
            )
            if row is None:
                return None
            body = notice_payload(row)
            if row.attempts == 0:  # the log is told once; the webhook until it takes it
                log.info(
                    "maintenance %s: work order %d %s to %s %s (%s)",
                    body["kind"],
                    body["work_order_id"],
                    body["registration_code"],
                    body["recipient"],
                    body["details"],
                    body["idempotency_key"],
                )
            failure = self.sender.attempt(body, row.key, row.attempts, now)
            if failure is not None:
                self._failed(row, failure)
                session.commit()
                return False
            if self.sender.webhook is not None:
                log.info("maintenance notice %s delivered to the webhook", row.key)
            row.delivered_at = now
            session.commit()
        return True

    def _failed(self, row: MaintenanceNotice, failure: notify.Failure) -> None:
        """Keep the row for its next try, and say so (a warning a failure, counted in the metrics)."""
        row.attempts = failure.attempts
        row.last_error = failure.error[:500]
        row.next_attempt_at = failure.next_attempt_at
        log.warning(
            "maintenance notice %s (%s to %s) not delivered, attempt %d, next in %.0f s: %s",
            row.key, row.kind, row.recipient, row.attempts, failure.wait_s, failure.error,
        )  # fmt: skip
        self.failures += 1
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
