"""Partition leases on both databases: shared evenly among live detector processes, surplus given up to a
newcomer, a dead owner's partitions taken over after the lease time, and a checkpoint refused to a process
whose lease was taken (the fence)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.clock import FixedClock
from liftwatch.telemetry.leases import LeaseLost, Leases, fair_share


def _two(session_factory: sessionmaker[Session], clock: FixedClock) -> tuple[Leases, Leases]:
    return (
        Leases(session_factory, clock, 4, owner="a", ttl_s=10),
        Leases(session_factory, clock, 4, owner="b", ttl_s=10),
    )


def test_the_fair_share_owns_every_partition() -> None:
    assert [fair_share(4, m) for m in (0, 1, 2, 3, 4, 5)] == [4, 4, 2, 2, 1, 1]
    assert fair_share(256, 3) * 3 >= 256


def test_a_newcomer_gets_the_surplus_once_it_is_given_up(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    a, b = _two(session_factory, clock)
    first = a.round()
    assert first.gained == [0, 1, 2, 3] and first.members == 1
    joined = b.round()
    assert joined.gained == [] and joined.members == 2  # all taken: nothing is snatched from a live owner
    again = a.round()
    assert again.surplus == [2, 3] and again.lost == []
    for p in again.surplus:  # the caller's last checkpoint, then
        a.release(p)
    assert b.round().gained == [2, 3]
    assert sorted(a.held) == [0, 1] and sorted(b.held) == [2, 3]
    assert a.round().surplus == [] and b.round().gained == []  # settled


def test_a_dead_owners_partitions_are_taken_over_after_the_lease_time_and_it_is_fenced_off(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    a, b = _two(session_factory, clock)
    a.round()
    b.round()
    for p in a.round().surplus:
        a.release(p)
    b.round()
    fence_a = a.fence(0)
    with session_factory() as session:
        fence_a(session)  # still its own: no error
    # a stops renewing (killed, or stalled); b goes on renewing every 2 s
    for _ in range(4):
        clock.advance(timedelta(seconds=2))
        assert b.round().gained == []  # not before the lease time
    clock.advance(timedelta(seconds=3))
    taken = b.round()
    assert taken.gained == [0, 1] and taken.members == 1 and sorted(b.held) == [0, 1, 2, 3]
    with session_factory() as session, pytest.raises(LeaseLost, match="taken over by b"):
        fence_a(session)  # a woke: its checkpoint (and so its acknowledgement) is refused
    woke = a.round()
    assert woke.lost == [0, 1] and a.held == {}


def test_leaving_frees_the_partitions_at_once(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    a, b = _two(session_factory, clock)
    a.round()
    b.round()
    a.leave()  # a clean stop: no waiting for the lease time
    assert b.round().gained == [0, 1, 2, 3]
    with session_factory() as session, pytest.raises(LeaseLost):
        a.fence(0)(session)
