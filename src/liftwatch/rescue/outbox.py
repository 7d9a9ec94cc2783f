"""Delivery of the notice outbox: the rescue service writes each notice as a row in the transaction of its
change (so a notice leaves only after that commit, whichever process made it); the rescue worker sends the
due rows to the log and the webhook.

At least once: a row is marked delivered only after the webhook's 2xx, so a process stopped in between
sends it again, with the same idempotency key. A failed attempt pushes the row back with exponential
backoff (``notice_retry_s`` doubling, at most ``notice_retry_max_s``) and is never dropped; after
``notice_alert_after`` failures the incident's audit trail says so. On PostgreSQL a row is claimed
``FOR UPDATE SKIP LOCKED``, so two workers never send one at the same time (the loop, claim and marks are
core/outbox.py's, the sending and backoff core/notify.py's, shared with the maintenance and hazard
notices)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core import notify, outbox
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.metrics import Metrics
from liftwatch.rescue.models import IncidentEvent, NoticeOutbox
from liftwatch.rescue.service import RescueSettings

log = logging.getLogger(__name__)
notices_log = logging.getLogger("liftwatch.rescue")  # where each notice is told, once


def log_notice(payload: dict[str, Any]) -> None:
    notices_log.info(
        "rescue %s: incident %d %s %s %s (%s)",
        payload["kind"],
        payload["incident_id"],
        payload["level"],
        payload["registration_code"],
        payload["details"],
        payload["idempotency_key"],
    )


def payload(row: NoticeOutbox) -> dict[str, Any]:
    """The JSON a receiver gets (docs/OPERATIONS.md, "Notices")."""
    return outbox.payload(row, ("incident_id", row.incident_id), level=row.level)


def retry_delay_s(settings: RescueSettings, attempts: int) -> float:
    """Wait after the ``attempts``-th failed attempt (1, 2, ...): doubling, capped."""
    return notify.retry_delay_s(settings.notice_retry_s, settings.notice_retry_max_s, attempts)


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_age_s: float  # 0 when none is pending


class Outbox:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        settings: RescueSettings,
        metrics: Metrics | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.metrics = metrics
        self.delivery = outbox.Delivery(
            NoticeOutbox,
            session_factory,
            clock,
            notify.Sender(
                settings.webhook_url,
                settings.webhook_timeout_s,
                settings.notice_retry_s,
                settings.notice_retry_max_s,
            ),
            payload=payload,
            tell=log_notice,
            log=log,
            describe=lambda row: row.kind,
            order_by=(NoticeOutbox.next_attempt_at, NoticeOutbox.id),
            on_failed=self._failed,
        )

    def deliver_due(self, limit: int = 50) -> int:
        """Send up to ``limit`` due notices, one claimed and committed at a time (core/outbox.py's loop);
        returns how many were delivered. Stops at the first failure (each row keeps its own backoff)."""
        delivered = self.delivery.deliver_due(limit)
        if self.metrics is not None and delivered:
            self.metrics.notices_delivered.inc(delivered)
        self._observe()
        return delivered

    def _failed(self, session: Session, row: NoticeOutbox, now: datetime, failure: notify.Failure) -> None:
        """A failed attempt (the row is already kept for its next try): counted, and after
        ``notice_alert_after`` failures said once on the incident's audit trail (its page)."""
        if self.metrics is not None:
            self.metrics.notice_failures.inc()
        if row.attempts == self.settings.notice_alert_after:
            session.add(
                IncidentEvent(
                    incident_id=row.incident_id,
                    at=now,
                    actor="outbox",
                    kind="notice_failed",
                    details={
                        "notice": row.kind,
                        "key": row.key,
                        "attempts": row.attempts,
                        "error": failure.error[:200],
                    },
                )
            )

    def backlog(self) -> Backlog:
        with self.session_factory() as session:
            return backlog(session, self.clock.now())

    def _observe(self) -> None:
        if self.metrics is None:
            return
        b = self.backlog()
        self.metrics.notices_pending.set(b.pending)
        self.metrics.notice_oldest_pending_s.set(b.oldest_age_s)


def backlog(session: Session, now: datetime) -> Backlog:
    """Notices not yet delivered, and how long the oldest has waited."""
    count, oldest = session.execute(
        select(func.count(), func.min(NoticeOutbox.created_at)).where(NoticeOutbox.delivered_at.is_(None))
    ).one()
    age = (now - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    return Backlog(int(count or 0), max(0.0, age))
