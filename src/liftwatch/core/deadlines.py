"""Durable deadlines: a domain writes a timer row (``due_at``, ``fired_at``, ``cancelled``, ``kind``) in the
transaction of the change that sets the deadline, and a worker loop fires the due ones every few seconds, in
any process, after any restart (rescue_timers, work_order_timers, hazard_timers). What a fired timer does is
the domain's; which rows are due, and that two workers never fire one twice, is here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def skip_locked(session: Session, stmt: Select[Any]) -> Select[Any]:
    """``stmt`` locking its rows ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that a row one worker holds is
    left to it by the others (SQLite has one writer at a time: nothing to add)."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def fire_due(
    session: Session,
    model: type[T],
    now: datetime,
    when: ColumnElement[bool] | None = None,
    limit: int | None = None,
) -> list[T]:
    """The timers of ``model`` due at ``now`` (``when``: a domain's own due condition instead of
    ``due_at <= now``), not fired nor cancelled, oldest deadline first, claimed (SKIP LOCKED) and marked
    fired at ``now``: the caller acts on each and commits (a rolled back run fires them again)."""
    m: Any = model
    stmt = (
        select(model)
        .where(m.fired_at.is_(None), m.cancelled.is_(False), m.due_at <= now if when is None else when)
        .order_by(m.due_at, m.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    timers = list(session.scalars(skip_locked(session, stmt)).all())
    for timer in timers:
        t: Any = timer
        t.fired_at = now
    return timers
