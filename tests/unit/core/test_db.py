"""``core.db.write_rows``: rows inserted, then replaced whole by key, the same on both databases (on
PostgreSQL as one statement of one array per column), every column type the live status uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.core.db import write_rows
from liftwatch.telemetry.models import LiveStatus, ServiceStateChange

T0 = datetime(2026, 12, 4, 8, 30, 15, 123000, tzinfo=UTC)


def _row(code: str, **given: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c.name: None for c in LiveStatus.__table__.columns}
    row.update(registration_code=code, last_seen_at=T0, online=True, open_faults=[], updated_at=T0)
    row.update(given)
    return row


def _stored(session: Session) -> dict[str, dict[str, Any]]:
    session.expire_all()
    rows = session.scalars(select(LiveStatus).order_by(LiveStatus.registration_code))
    return {
        r.registration_code: {c.name: getattr(r, c.name) for c in LiveStatus.__table__.columns} for r in rows
    }


def test_rows_are_inserted_then_replaced_whole_by_key(session: Session) -> None:
    first = [
        _row(
            "11SHA000001",
            mode=0,
            running=True,
            direction=1,
            door_zone=False,
            door_closed=True,
            passenger=True,
            floor=-2,
            power=True,
            speed=1.75,
            trips=2**40,
            door_cycles=12,
            run_hours=1234.5,
            rope_bends=7,
            open_faults=["entrapment", "power_cut"],
        ),
        _row("11SHA000002"),  # every optional column empty
    ]
    assert write_rows(session, LiveStatus, first, ["registration_code"]) == 2
    session.commit()
    stored = _stored(session)
    assert stored["11SHA000001"] == first[0]
    assert stored["11SHA000002"] == first[1]

    # a naive time is UTC (the column's own rule); a time in another zone is the same instant
    later = T0 + timedelta(seconds=5)
    again = [
        _row("11SHA000001", last_seen_at=later.replace(tzinfo=None), online=False, open_faults=[]),
        _row("11SHA000003", updated_at=later.astimezone(timezone(timedelta(hours=8))), floor=3),
    ]
    assert write_rows(session, LiveStatus, again, ["registration_code"]) == 2
    session.commit()
    stored = _stored(session)
    assert sorted(stored) == ["11SHA000001", "11SHA000002", "11SHA000003"]
    one = stored["11SHA000001"]
    # replaced whole: what the new row left empty is empty now, not the old value
    assert (one["last_seen_at"], one["online"], one["open_faults"], one["speed"], one["trips"]) == (
        later,
        False,
        [],
        None,
        None,
    )
    assert stored["11SHA000003"]["updated_at"] == later and stored["11SHA000003"]["floor"] == 3
    assert write_rows(session, LiveStatus, [], ["registration_code"]) == 0


def test_a_column_left_out_takes_its_default(session: Session) -> None:
    """As an INSERT: ``online`` defaults to true, ``open_faults`` to an empty list, the rest to NULL."""
    write_rows(
        session,
        LiveStatus,
        [_row("11SHA000001", online=False, floor=4, open_faults=["x"])],
        "registration_code",  # one column may be named alone
    )
    session.commit()
    short = {"registration_code": "11SHA000001", "last_seen_at": T0, "updated_at": T0, "speed": 0.5}
    write_rows(session, LiveStatus, [short], ["registration_code"])
    session.commit()
    one = _stored(session)["11SHA000001"]
    assert (one["online"], one["open_faults"], one["floor"], one["speed"]) == (True, [], None, 0.5)


def test_rows_already_stored_are_skipped_when_not_replacing(session: Session) -> None:
    """``replace=False``: a row whose key is stored is left as stored; the database numbers the ids."""
    key = ["registration_code", "at", "kind", "value"]

    def change(code: str, value: int, trips: int) -> dict[str, Any]:
        return {"registration_code": code, "at": T0, "kind": "mode", "value": value, "previous": None,
                "trips": trips, "door_cycles": None, "recorded_at": T0}  # fmt: skip

    assert write_rows(session, ServiceStateChange, [change("A", 1, 10), change("B", 1, 20)], key, False) == 2
    write_rows(session, ServiceStateChange, [change("A", 1, 99), change("A", 2, 30)], key, replace=False)
    session.commit()
    rows = session.scalars(select(ServiceStateChange).order_by(ServiceStateChange.id)).all()
    assert [(r.registration_code, r.value, r.trips, r.at) for r in rows] == [
        ("A", 1, 10, T0),
        ("B", 1, 20, T0),
        ("A", 2, 30, T0),
    ]
    assert len({r.id for r in rows}) == 3
