"""The notice outbox: a domain writes each notice as a row in the transaction of the change it tells of (so
a notice leaves only after that commit, whichever process made it), and one delivery loop sends the due rows
to the log and the domain's webhook (core/notify.py). Shared by rescue (notice_outbox), maintenance
(maintenance_notices) and hazards (hazard_notices): their rows have ``key``, ``created_at``,
``delivered_at``, ``attempts`` (failed ones), ``next_attempt_at`` and ``last_error``.

At least once: a row is marked delivered only after the webhook's 2xx, so a process stopped in between sends
it again, with the same key (the receiver drops repeats by it). A failed attempt keeps the row with its
attempts and next try (capped backoff), never dropped. On PostgreSQL a row is claimed ``FOR UPDATE SKIP
LOCKED``, so two workers never send one at the same time. What a notice says, where it is logged and what a
domain adds on a failure (rescue: the incident's trail; metrics) are the domain's, as callbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core import notify
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.deadlines import skip_locked


class OutboxRow(Protocol):
    """What the delivery loop reads and writes on a notice's row."""

    key: str
    attempts: int
    next_attempt_at: Any  # datetime (rescue's never None; maintenance's and hazards': None, due at once)
    delivered_at: datetime | None
    last_error: str


R = TypeVar("R", bound=OutboxRow)


def payload(row: Any, about: tuple[str, int], **extra: Any) -> dict[str, Any]:
    """The JSON a receiver gets for one notice: its key, what it is about (e.g. ``("hazard_id", 7)``), its
    kind, the domain's ``extra`` fields (recipient, level), the elevator, details and when it was written."""
    return {
        "idempotency_key": row.key,
        about[0]: about[1],
        "kind": row.kind,
        **extra,
        "registration_code": row.registration_code,
        "details": row.details,
        "created_at": as_utc(row.created_at).isoformat(),
    }


def teller(log: logging.Logger, words: str) -> Callable[[dict[str, Any]], None]:
    """A ``tell`` that logs a notice's payload at INFO in a domain's ``words`` (``%(kind)s``-style fields)."""

    def tell(body: dict[str, Any]) -> None:
        log.info(words, body)

    return tell


def _due(model: Any, now: datetime) -> ColumnElement[bool]:
    """Its next try has come (a nullable ``next_attempt_at``: none is due at once)."""
    if model.__table__.c.next_attempt_at.nullable:
        return or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now)
    return model.next_attempt_at <= now  # type: ignore[no-any-return]


def claim_one(session: Session, model: type[R], now: datetime, order_by: Sequence[Any] = ()) -> R | None:
    """The first notice due at ``now`` (not delivered, its next try come), oldest first (``order_by``:
    default ``created_at, id``), locked SKIP LOCKED on PostgreSQL; the caller commits."""
    m: Any = model
    stmt = (
        select(model)
        .where(m.delivered_at.is_(None), _due(m, now))
        .order_by(*(order_by or (m.created_at, m.id)))
        .limit(1)
    )
    row: R | None = session.scalar(skip_locked(session, stmt))
    return row


def pending(session: Session, model: type[R], limit: int = 100) -> list[R]:
    """Notices not yet delivered, oldest first (whether or not their next try has come)."""
    m: Any = model
    stmt = select(model).where(m.delivered_at.is_(None)).order_by(m.created_at, m.id).limit(limit)
    return list(session.scalars(stmt).all())


def count_pending(session: Session, model: type[Any]) -> int:
    m: Any = model
    return int(session.scalar(select(func.count(m.id)).where(m.delivered_at.is_(None))) or 0)


def mark_delivered(session: Session, model: type[Any], keys: Sequence[str], now: datetime) -> int:
    """Record the notices with these keys as delivered; returns how many were still pending."""
    if not keys:
        return 0
    m: Any = model
    result = session.execute(
        update(model).where(m.key.in_(list(keys)), m.delivered_at.is_(None)).values(delivered_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_failed(row: OutboxRow, failure: notify.Failure) -> None:
    """Keep the row for its next try: its failed attempts, the error, when to try again."""
    row.attempts = failure.attempts
    row.last_error = failure.error[:500]
    row.next_attempt_at = failure.next_attempt_at


class Delivery(Generic[R]):
    """The one delivery loop of an outbox model. ``payload`` is the JSON a receiver gets, ``tell`` logs it
    (once, on the first attempt), ``describe`` names a row in the delivery log lines (``log``, after
    ``label``, e.g. "maintenance notice"); ``on_failed`` runs in the failed attempt's transaction (the
    warning is logged here)."""

    def __init__(
        self,
        model: type[R],
        session_factory: sessionmaker[Session],
        clock: Clock,
        sender: notify.Sender,
        *,
        payload: Callable[[R], dict[str, Any]],
        tell: Callable[[dict[str, Any]], None],
        log: logging.Logger,
        label: str = "notice",
        describe: Callable[[R], str] = lambda row: "",
        order_by: Sequence[Any] = (),
        on_failed: Callable[[Session, R, datetime, notify.Failure], None] | None = None,
    ) -> None:
        self.model = model
        self.session_factory = session_factory
        self.clock = clock
        self.sender = sender
        self.payload = payload
        self.tell = tell
        self.log = log
        self.label = label
        self.describe = describe
        self.order_by = order_by
        self.on_failed = on_failed
        self.delivered = 0
        self.failures = 0  # failed webhook attempts

    def deliver_due(self, limit: int = 50) -> int:
        """Deliver up to ``limit`` due notices, each claimed, sent and marked in its own transaction;
        returns how many were delivered. Stops at the first failure: the receiver is likely down, and the
        others would wait for its time-out in turn (each row keeps its own next try)."""
        delivered = 0
        for _ in range(limit):
            if not self.deliver_one():  # nothing due, or a failure
                break
            delivered += 1
        self.delivered += delivered
        return delivered

    def deliver_one(self) -> bool | None:
        """None: nothing due; True: one delivered; False: one failed (kept for its next try)."""
        with self.session_factory() as session:
            now = self.clock.now()
            row = claim_one(session, self.model, now, self.order_by)
            if row is None:
                return None
            body = self.payload(row)
            if row.attempts == 0:  # the log is told once; the webhook until it takes it
                self.tell(body)
            failure = self.sender.attempt(body, row.key, row.attempts, now)
            what = self.describe(row)
            name = f"{self.label} {row.key}" + (f" ({what})" if what else "")
            if failure is not None:
                mark_failed(row, failure)
                self.log.warning(
                    "%s not delivered, attempt %d, next in %.0f s: %s",
                    name, row.attempts, failure.wait_s, failure.error,
                )  # fmt: skip
                self.failures += 1
                if self.on_failed is not None:
                    self.on_failed(session, row, now, failure)
                session.commit()
                return False
            after = f" after {row.attempts} failed attempts" if row.attempts else ""
            row.delivered_at = now
            session.commit()
            if self.sender.webhook is not None:
                self.log.info("%s delivered to the webhook%s", name, after)
        return True
