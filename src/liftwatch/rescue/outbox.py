"""Delivery of the notice outbox: the rescue service writes each notice as a row in the transaction of its
change (so a notice leaves only after that commit, whichever process made it); the rescue worker sends the
due rows to the log and the webhook.

At least once: a row is marked delivered only after the webhook's 2xx, so a process stopped in between
sends it again, with the same idempotency key. A failed attempt pushes the row back with exponential
backoff (``notice_retry_s`` doubling, at most ``notice_retry_max_s``) and is never dropped; after
``notice_alert_after`` failures the incident's audit trail says so. On PostgreSQL a row is claimed
``FOR UPDATE SKIP LOCKED``, so two workers never send one at the same time (the sending, backoff and claim
are core/notify.py's, shared with the maintenance notices)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core import notify
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
    return {
        "idempotency_key": row.key,
        "incident_id": row.incident_id,
        "kind": row.kind,
        "level": row.level,
        "registration_code": row.registration_code,
        "details": row.details,
        "created_at": as_utc(row.created_at).isoformat(),
    }


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
        self.sender = notify.Sender(
            settings.webhook_url,
            settings.webhook_timeout_s,
            settings.notice_retry_s,
            settings.notice_retry_max_s,
        )

    def deliver_due(self, limit: int = 50) -> int:
        """Send up to ``limit`` due notices, one claimed and committed at a time; returns how many were
        delivered. Stops at the first failure: the receiver is likely down, and the others would wait for
        its time-out in turn (each row keeps its own backoff)."""
        delivered = 0
        for _ in range(limit):
            if not self._deliver_one():  # nothing due, or a failure
                break
            delivered += 1
        self._observe()
        return delivered

    def _deliver_one(self) -> bool | None:
        """None: nothing due; True: one delivered; False: one failed."""
        with self.session_factory() as session:
            now = self.clock.now()
            row = notify.claim_one(
                session,
                select(NoticeOutbox)
                .where(NoticeOutbox.delivered_at.is_(None), NoticeOutbox.next_attempt_at <= now)
                .order_by(NoticeOutbox.next_attempt_at, NoticeOutbox.id)
                .limit(1),
            )
            if row is None:
                return None
            body = payload(row)
            if row.attempts == 0:
                log_notice(body)  # the log is told once; the webhook until it takes it
            failure = self.sender.attempt(body, row.key, row.attempts, now)
            if failure is not None:
                self._failed(session, row, now, failure)
                session.commit()
                return False
            row.delivered_at = now
            session.commit()
            if self.sender.webhook is not None:
                log.info(
                    "notice %s (%s) delivered to the webhook%s",
                    row.key,
                    row.kind,
                    f" after {row.attempts} failed attempts" if row.attempts else "",
                )
        if self.metrics is not None:
            self.metrics.notices_delivered.inc()
        return True

    def _failed(self, session: Session, row: NoticeOutbox, now: datetime, failure: notify.Failure) -> None:
        error = failure.error
        row.attempts = failure.attempts
        row.last_error = error[:500]
        row.next_attempt_at = failure.next_attempt_at
        log.warning(
            "notice %s (%s) not delivered, attempt %d, next in %.0f s: %s",
            row.key, row.kind, row.attempts, failure.wait_s, error,
        )  # fmt: skip
        if self.metrics is not None:
            self.metrics.notice_failures.inc()
        if row.attempts == self.settings.notice_alert_after:
            # on the incident's audit trail (its page), once; the row keeps being retried
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
                        "error": error[:200],
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
