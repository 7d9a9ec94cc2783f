"""Partition leases: any number of detector processes share the telemetry partitions, each partition owned
by one process at a time; when its owner dies, a live one takes it over within seconds.

Each process (``Leases``) runs one round every ``renew_s``:

1. it says it is alive (``detector_members``: a row that expires after ``ttl_s`` unless renewed);
2. it renews the leases it holds; one whose token is no longer its own was taken over (the process had
   stalled past its lease): it is lost and its partition must stop at once;
3. it works out its fair share, ``ceil(partitions / live members)``, and takes free partitions (never
   taken, released, or expired) up to it, each by a compare-and-set on the lease row that gives it a new
   token;
4. a process holding more than its share (a new member joined) names the surplus for the caller to stop
   (a last checkpoint) and then ``release``: the newcomer takes them on its next round.

Correctness does not rest on the timing: a partition's checkpoint, and so its acknowledgement on the stream,
is saved only in a transaction that finds the lease still the saver's (``fence``). A process that lost its
lease may still have detected a batch: the faults it stored are the ones the new owner detects again from
the last checkpoint, and fault ids make that idempotent; nothing it read is acknowledged. Times are the
processes' clocks (UTC, kept by NTP): a skew between hosts shortens or lengthens a lease by as much.
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.clock import Clock
from liftwatch.core.db import insert_ignoring_conflicts
from liftwatch.telemetry.models import DetectorMember, PartitionLease

__all__ = ["LeaseLost", "LeaseRound", "Leases", "fair_share", "new_owner_name"]


class LeaseLost(RuntimeError):
    """This process no longer owns the partition: another took it over."""


def fair_share(partitions: int, members: int) -> int:
    """How many partitions one of ``members`` live processes should hold: the work evenly spread, every
    partition owned (the last may hold fewer)."""
    return math.ceil(partitions / max(1, members))


def new_owner_name() -> str:
    """This process, as the lease rows name it: its host and pid (to find it) and a random tail (a pid is
    reused after a restart, and a restarted process must not think its dead predecessor's leases its own)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class LeaseRound:
    """What one round changed: partitions to start (``gained``), to stop at once without a checkpoint
    (``lost``), and to stop with a last checkpoint and then ``release`` (``surplus``)."""

    gained: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    surplus: list[int] = field(default_factory=list)
    members: int = 1


class Leases:
    """One process's leases. Not thread-safe: one round at a time (the caller's loop runs them in turn)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        partitions: int,
        owner: str | None = None,
        ttl_s: float = 10.0,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.partitions = partitions
        self.owner = owner or new_owner_name()
        self.ttl = timedelta(seconds=ttl_s)
        self.held: dict[int, int] = {}  # partition -> the token it was taken with

    def round(self) -> LeaseRound:
        """Renew, count the members, take free partitions up to the fair share, name the surplus."""
        out = LeaseRound()
        with self.session_factory() as session:
            now = self.clock.now()
            until = now + self.ttl
            self._rows(session, now)
            session.execute(
                update(DetectorMember)
                .where(DetectorMember.owner == self.owner)
                .values(seen_at=now, expires_at=until)
            )
            session.execute(
                insert_ignoring_conflicts(session, DetectorMember, ["owner"]).values(
                    owner=self.owner, seen_at=now, expires_at=until
                )
            )
            session.execute(delete(DetectorMember).where(DetectorMember.expires_at < now))
            for p, token in sorted(self.held.items()):
                renewed = session.execute(
                    update(PartitionLease)
                    .where(
                        PartitionLease.partition == p,
                        PartitionLease.owner == self.owner,
                        PartitionLease.token == token,
                    )
                    .values(expires_at=until)
                )
                if renewed.rowcount != 1:  # type: ignore[attr-defined]
                    del self.held[p]
                    out.lost.append(p)
            members = int(session.scalar(select(func.count()).select_from(DetectorMember)) or 1)
            out.members = members
            share = fair_share(self.partitions, members)
            if len(self.held) < share:
                free = session.scalars(
                    select(PartitionLease.partition)
                    .where(PartitionLease.expires_at < now, PartitionLease.partition < self.partitions)
                    .order_by(PartitionLease.partition)
                ).all()
                for p in free:
                    if len(self.held) >= share:
                        break
                    taken = session.execute(
                        update(PartitionLease)
                        .where(PartitionLease.partition == p, PartitionLease.expires_at < now)
                        .values(owner=self.owner, token=PartitionLease.token + 1, expires_at=until)
                    )
                    if taken.rowcount == 1:  # type: ignore[attr-defined]
                        new_token = session.scalar(
                            select(PartitionLease.token).where(PartitionLease.partition == p)
                        )
                        self.held[p] = int(new_token or 0)
                        out.gained.append(p)
            elif len(self.held) > share:
                out.surplus = sorted(self.held)[share:]
            session.commit()
        return out

    def _rows(self, session: Session, now: datetime) -> None:
        """One lease row per partition, free, made by whichever process comes first."""
        have = session.scalar(select(func.count()).select_from(PartitionLease)) or 0
        if have >= self.partitions:
            return
        free_since = now - timedelta(seconds=1)
        for p in range(self.partitions):
            session.execute(
                insert_ignoring_conflicts(session, PartitionLease, ["partition"]).values(
                    partition=p, owner="", token=0, expires_at=free_since
                )
            )

    def release(self, partition: int) -> None:
        """Give a partition up (after its last checkpoint): free at once for another process."""
        token = self.held.pop(partition, None)
        if token is None:
            return
        with self.session_factory() as session:
            session.execute(
                update(PartitionLease)
                .where(
                    PartitionLease.partition == partition,
                    PartitionLease.owner == self.owner,
                    PartitionLease.token == token,
                )
                .values(owner="", expires_at=self.clock.now() - timedelta(seconds=1))
            )
            session.commit()

    def leave(self) -> None:
        """On a clean stop: every lease released and this process no longer a member, so the others take
        its partitions on their next round rather than after the lease time."""
        for p in list(self.held):
            self.release(p)
        with self.session_factory() as session:
            session.execute(delete(DetectorMember).where(DetectorMember.owner == self.owner))
            session.commit()

    def fence(self, partition: int) -> Callable[[Session], None]:
        """For the partition's checkpoint transaction: raises ``LeaseLost`` unless the lease is still this
        process's (same owner, same token). On PostgreSQL the row is locked until the transaction ends, so
        nobody takes the lease between the check and the commit."""

        def check(session: Session) -> None:
            token = self.held.get(partition)
            row = session.execute(
                select(PartitionLease.owner, PartitionLease.token)
                .where(PartitionLease.partition == partition)
                .with_for_update()
            ).first()
            if token is None or row is None or (row.owner, row.token) != (self.owner, token):
                raise LeaseLost(f"partition {partition} was taken over by {row.owner if row else 'nobody'}")

        return check
