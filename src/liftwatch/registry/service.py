"""The registry's only writer. Every change to an elevator lands on its file's timeline, and every call
is checked against the actor's role and unit scope here, never in templates or routes. Reads are in
``registry/queries.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, column, func, insert, select, text
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput
from liftwatch.registry.domain import ElevatorStatus, EventKind, UnitType
from liftwatch.registry.ledger import ImportReport, jsonable
from liftwatch.registry.models import Elevator, ElevatorEvent, RetiredRescueCode, Unit
from liftwatch.registry.queries import get_elevator, get_unit
from liftwatch.registry.schemas import (
    RESCUE_CODE_RE,
    ElevatorCreate,
    ElevatorUpdate,
    EventIn,
    UnitCreate,
    UnitUpdate,
)

REGISTRARS = frozenset({Role.ADMIN, Role.REGULATOR})


# What unit staff may change on their own elevators; codes, units, place type and three-no flags are the
# regulator's record.
UNIT_STAFF_ELEVATOR_FIELDS = frozenset(
    {
        "manufacturer",
        "model",
        "serial_number",
        "rated_load_kg",
        "rated_speed_mps",
        "stops",
        "floors",
        "design_life_years",
        "design_life_cycles",
        "building",
        "address",
        "latitude",
        "longitude",
        "iot_terminal_id",
    }
)
UNIT_STAFF_UNIT_FIELDS = frozenset({"contact_name", "contact_phone", "address", "latitude", "longitude"})

# Life events each role may record by hand; the others are written by the service itself.
RECORDABLE_EVENTS: dict[Role, frozenset[EventKind]] = {
    Role.ADMIN: frozenset(
        {
            EventKind.ACCEPTANCE,
            EventKind.MODERNISATION,
            EventKind.MAJOR_REPAIR,
            EventKind.SUSPENSION,
            EventKind.RESTART,
            EventKind.SCRAPPING,
        }
    ),
    Role.REGULATOR: frozenset(
        {
            EventKind.ACCEPTANCE,
            EventKind.MODERNISATION,
            EventKind.MAJOR_REPAIR,
            EventKind.SUSPENSION,
            EventKind.RESTART,
            EventKind.SCRAPPING,
        }
    ),
    Role.INSPECTOR: frozenset({EventKind.ACCEPTANCE}),
    Role.MAINTENANCE: frozenset({EventKind.MODERNISATION, EventKind.MAJOR_REPAIR}),
    Role.USE_UNIT: frozenset({EventKind.SUSPENSION, EventKind.RESTART}),
}
AUTOMATIC_EVENTS = frozenset(
    {
        EventKind.REGISTRATION,
        EventKind.USE_UNIT_CHANGE,
        EventKind.MAINTENANCE_UNIT_CHANGE,
        EventKind.RECORD_UPDATE,
        EventKind.RESCUE_CODE_CHANGE,
    }
)
STATUS_AFTER_EVENT = {
    EventKind.SUSPENSION: ElevatorStatus.SUSPENDED,
    EventKind.RESTART: ElevatorStatus.IN_USE,
    EventKind.SCRAPPING: ElevatorStatus.SCRAPPED,
}


def _require(actor: Actor, allowed: Iterable[Role], action: str) -> None:
    if actor.role not in allowed:
        raise Forbidden(f"role '{actor.role.value}' may not {action}")


# ---------------------------------------------------------------- elevators


def _unit_by_code(session: Session, code: str, field: str, expected: UnitType) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise InvalidInput(FieldError(field, f"unknown unit code '{code}'"))
    if unit.unit_type != expected.value:
        raise InvalidInput(
            FieldError(field, f"unit '{code}' is a {unit.unit_type}, expected a {expected.value}")
        )
    return unit


def _as_datetime(d: date | None, clock: Clock) -> datetime:
    if d is None:
        return clock.now()
    return datetime.combine(d, time(0), tzinfo=UTC)


def create_elevator(session: Session, actor: Actor, data: ElevatorCreate, clock: Clock) -> Elevator:
    _require(actor, REGISTRARS, "register elevators")
    errors: list[FieldError] = []
    if session.scalar(select(Elevator.id).where(Elevator.registration_code == data.registration_code)):
        errors.append(FieldError("registration_code", f"'{data.registration_code}' is already registered"))
    if session.scalar(select(Elevator.id).where(Elevator.rescue_code == data.rescue_code)):
        errors.append(FieldError("rescue_code", f"'{data.rescue_code}' is already used by another elevator"))
    if errors:
        raise Conflict("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    now = clock.now()
    values = data.model_dump(exclude={"use_unit", "maintenance_unit"}, exclude_none=True)
    elevator = Elevator(**values, created_at=now, updated_at=now)
    for flag in ("no_property_management", "no_maintenance_contract", "no_repair_fund"):
        if getattr(elevator, flag) is None:
            setattr(elevator, flag, False)
    if data.use_unit:
        elevator.use_unit = _unit_by_code(session, data.use_unit, "use_unit", UnitType.USE_UNIT)
    if data.maintenance_unit:
        elevator.maintenance_unit = _unit_by_code(
            session, data.maintenance_unit, "maintenance_unit", UnitType.MAINTENANCE
        )
    session.add(elevator)
    session.flush()
    _append(
        session,
        elevator,
        EventKind.REGISTRATION,
        actor,
        clock,
        occurred_at=_as_datetime(data.commissioning_date or data.installation_date, clock),
        summary=f"registered as {elevator.registration_code}",
        details={"status": elevator.status},
    )
    return elevator


def update_elevator(
    session: Session, actor: Actor, registration_code: str, data: ElevatorUpdate, clock: Clock
) -> Elevator:
    elevator = get_elevator(session, actor, registration_code)
    sent = data.model_fields_set
    if actor.role in (Role.MAINTENANCE, Role.USE_UNIT):
        refused = sorted(sent - UNIT_STAFF_ELEVATOR_FIELDS)
        if refused:
            raise Forbidden(
                f"unit staff may not change {', '.join(refused)}",
                [FieldError(f, "reserved to the regulator") for f in refused],
            )
    else:
        _require(actor, REGISTRARS, "change elevators")
    if elevator.status == ElevatorStatus.SCRAPPED.value:
        raise Conflict(f"elevator '{registration_code}' is scrapped; its record is closed")
    changes: dict[str, Any] = {}
    for name in sorted(sent - {"use_unit", "maintenance_unit"}):
        new = getattr(data, name)
        old = getattr(elevator, name)
        if new is None and name in _REQUIRED_ON_ELEVATOR:
            raise InvalidInput(FieldError(name, "may not be empty"))
        if new != old:
            changes[name] = {"from": jsonable(old), "to": jsonable(new)}
            setattr(elevator, name, new)
    _check_dates(elevator)
    for field, unit_type, kind in (
        ("use_unit", UnitType.USE_UNIT, EventKind.USE_UNIT_CHANGE),
        ("maintenance_unit", UnitType.MAINTENANCE, EventKind.MAINTENANCE_UNIT_CHANGE),
    ):
        if field not in sent:
            continue
        code = getattr(data, field)
        new_unit = _unit_by_code(session, code, field, unit_type) if code else None
        old_unit: Unit | None = getattr(elevator, field)
        if (old_unit.id if old_unit else None) != (new_unit.id if new_unit else None):
            setattr(elevator, field, new_unit)
            _append(
                session,
                elevator,
                kind,
                actor,
                clock,
                summary=f"{_unit_label(old_unit)} -> {_unit_label(new_unit)}",
                details={
                    "from": old_unit.code if old_unit else None,
                    "to": new_unit.code if new_unit else None,
                },
            )
    if changes:
        elevator.updated_at = clock.now()
        _append(
            session,
            elevator,
            EventKind.RECORD_UPDATE,
            actor,
            clock,
            summary="changed " + ", ".join(changes),
            details=changes,
        )
    session.flush()
    return elevator


_REQUIRED_ON_ELEVATOR = frozenset({"kind", "place_type", "district"})


def _check_dates(elevator: Elevator) -> None:
    if (
        elevator.installation_date
        and elevator.commissioning_date
        and elevator.commissioning_date < elevator.installation_date
    ):
        raise InvalidInput(FieldError("commissioning_date", "is before installation_date"))


def _unit_label(unit: Unit | None) -> str:
    return f"{unit.name} ({unit.code})" if unit else "none"


def record_event(
    session: Session, actor: Actor, registration_code: str, data: EventIn, clock: Clock
) -> ElevatorEvent:
    elevator = get_elevator(session, actor, registration_code)
    kind = data.kind
    if kind in AUTOMATIC_EVENTS:
        raise InvalidInput(FieldError("kind", f"'{kind.value}' is recorded automatically by the platform"))
    if kind not in RECORDABLE_EVENTS.get(actor.role, frozenset()):
        raise Forbidden(f"role '{actor.role.value}' may not record '{kind.value}'")
    if elevator.status == ElevatorStatus.SCRAPPED.value:
        raise Conflict(f"elevator '{registration_code}' is scrapped; its record is closed")
    new_status = STATUS_AFTER_EVENT.get(kind)
    details = dict(data.details)
    if new_status is not None:
        if kind is EventKind.RESTART and elevator.status != ElevatorStatus.SUSPENDED.value:
            raise Conflict(f"elevator '{registration_code}' is not suspended")
        if kind is EventKind.SUSPENSION and elevator.status == ElevatorStatus.SUSPENDED.value:
            raise Conflict(f"elevator '{registration_code}' is already suspended")
        details["status"] = {"from": elevator.status, "to": new_status.value}
        elevator.status = new_status.value
        elevator.updated_at = clock.now()
    occurred = as_utc(data.occurred_at or clock.now())
    if occurred > clock.now():
        raise InvalidInput(FieldError("occurred_at", "lies in the future"))
    return _append(
        session, elevator, kind, actor, clock, occurred_at=occurred, summary=data.summary, details=details
    )


def _append(
    session: Session,
    elevator: Elevator,
    kind: EventKind,
    actor: Actor,
    clock: Clock,
    *,
    occurred_at: datetime | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> ElevatorEvent:
    now = clock.now()
    ev = ElevatorEvent(
        elevator_id=elevator.id,
        kind=kind.value,
        occurred_at=occurred_at or now,
        recorded_at=now,
        recorded_by=actor.username,
        summary=summary,
        details=details or {},
    )
    session.add(ev)
    session.flush()
    return ev


# ---------------------------------------------------------------- 96333 rescue codes


def _code_taken(session: Session, code: str) -> bool:
    return bool(
        session.scalar(select(Elevator.id).where(Elevator.rescue_code == code))
        or session.get(RetiredRescueCode, code)
    )


def next_rescue_code(session: Session, digits: int = 6) -> str:
    """The next free rescue code of ``digits`` digits: one above the highest ever given (in use or
    retired), so a code is never handed out twice. Codes are digits only (``RESCUE_CODE_RE``), so among
    codes of one length the text's maximum is the number's."""
    tops = [
        session.scalar(select(func.max(column)).where(func.length(column) == digits))
        for column in (Elevator.rescue_code, RetiredRescueCode.code)
    ]
    top = max((int(t) for t in tops if t), default=10 ** (digits - 1) - 1)
    if top + 1 >= 10**digits:
        raise Conflict(f"every {digits}-digit rescue code is given: choose one of another length")
    return str(top + 1)


def reassign_rescue_code(
    session: Session, actor: Actor, registration_code: str, new_code: str | None, reason: str, clock: Clock
) -> Elevator:
    """Give the elevator a new 96333 rescue code (救援码): ``new_code`` as typed, or the next free one. The
    old code is retired, never given again, and still finds this elevator (``get_public_elevator``); the
    file records the change. Admins and regulators (the 96333 centre)."""
    _require(actor, REGISTRARS, "reassign rescue codes")
    elevator = get_elevator(session, actor, registration_code)
    if elevator.status == ElevatorStatus.SCRAPPED.value:
        raise Conflict(f"elevator '{registration_code}' is scrapped; its record is closed")
    why = " ".join(reason.split())
    if not why or len(why) > 500:
        raise InvalidInput(FieldError("reason", "say why, in at most 500 characters"))
    old = elevator.rescue_code
    code = new_code.strip() if new_code else next_rescue_code(session, len(old) if old.isdigit() else 6)
    if not RESCUE_CODE_RE.match(code):
        raise InvalidInput(FieldError("code", f"'{code}' is not 5 to 8 digits"))
    if code == old:
        raise InvalidInput(FieldError("code", f"'{code}' is the elevator's code already"))
    if _code_taken(session, code):
        raise Conflict(f"rescue code '{code}' is or was another elevator's", [FieldError("code", "taken")])
    now = clock.now()
    session.add(
        RetiredRescueCode(
            code=old, registration_code=elevator.registration_code, retired_at=now, retired_by=actor.username,
            reason=why,
        )
    )  # fmt: skip
    elevator.rescue_code = code
    elevator.updated_at = now
    session.flush()
    _append(
        session,
        elevator,
        EventKind.RESCUE_CODE_CHANGE,
        actor,
        clock,
        summary=why,
        details={"from": old, "to": code},
    )
    return elevator


# ---------------------------------------------------------------- units


def create_unit(session: Session, actor: Actor, data: UnitCreate, clock: Clock) -> Unit:
    _require(actor, REGISTRARS, "create units")
    if session.scalar(select(Unit.id).where(Unit.code == data.code)):
        raise Conflict(f"code: unit '{data.code}' already exists", [FieldError("code", "already exists")])
    now = clock.now()
    unit = Unit(**data.model_dump(exclude_none=True), created_at=now, updated_at=now)
    unit.unit_type = data.unit_type.value
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, actor: Actor, code: str, data: UnitUpdate, clock: Clock) -> Unit:
    unit = get_unit(session, actor, code)
    sent = data.model_fields_set
    if actor.unit_scoped:
        refused = sorted(sent - UNIT_STAFF_UNIT_FIELDS)
        if refused:
            raise Forbidden(
                f"unit staff may not change {', '.join(refused)}",
                [FieldError(f, "reserved to the regulator") for f in refused],
            )
    else:
        _require(actor, REGISTRARS, "change units")
    for name in sent:
        value = getattr(data, name)
        if value is None and name == "name":
            raise InvalidInput(FieldError("name", "may not be empty"))
        setattr(unit, name, value if value is not None or name in ("latitude", "longitude") else "")
    unit.updated_at = clock.now()
    session.flush()
    return unit


# ---------------------------------------------------------------- bulk import (registry/io.py)
# Kept in one block: the import validates and reports row by row; these functions re-check the invariants
# (role, duplicate codes, unit types) and write with Core bulk inserts, a few statements per 5,000 rows.

BULK_CHUNK = 5000


def import_ledger(
    session: Session,
    actor: Actor,
    path: Path,
    clock: Clock,
    *,
    upsert: bool = False,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import the ledger file at ``path`` (registry/io.py ``import_file``: its checks, all or nothing unless
    ``skip_invalid``, ``upsert`` for an edited export) for callers outside the registry, the import page;
    the caller commits, or rolls back for a preview. No rejects file is written: the report holds them."""
    from liftwatch.registry import io  # it writes through this module

    return io.import_file(
        session, actor, path, clock, upsert=upsert, skip_invalid=skip_invalid, write_rejects=False
    )


def require_registrar(actor: Actor, action: str) -> None:
    """Only admin and regulator may register elevators and units, one by one or in bulk."""
    _require(actor, REGISTRARS, action)


def _not_null_defaults(table: Any) -> dict[str, Any]:
    """What the model's default gives a NOT NULL column left empty: False for flags, "" for text."""
    from sqlalchemy import Boolean

    return {c.name: (False if isinstance(c.type, Boolean) else "") for c in table.c if not c.nullable}


def _row_values(defaults: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Every column of the table present (executemany needs the same keys), enums as plain strings."""
    from enum import Enum

    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            value = defaults.get(key)
        elif isinstance(value, Enum):
            value = value.value  # StrEnum -> its value, whatever the driver makes of enums
        out[key] = value
    return out


def create_units_bulk(session: Session, actor: Actor, rows: Sequence[UnitCreate], clock: Clock) -> int:
    """Create many units in one statement per chunk; Conflict when a code exists or repeats."""
    _require(actor, REGISTRARS, "create units")
    if not rows:
        return 0
    existing = set(session.scalars(select(Unit.code)))
    seen: set[str] = set()
    errors: list[FieldError] = []
    for r in rows:
        if r.code in existing or r.code in seen:
            errors.append(FieldError("code", f"unit '{r.code}' already exists"))
        seen.add(r.code)
    if errors:
        raise Conflict("; ".join(e.message for e in errors[:20]), errors)
    now = clock.now()
    table = Unit.metadata.tables[Unit.__tablename__]
    defaults = _not_null_defaults(table)
    values = [_row_values(defaults, {**r.model_dump(), "created_at": now, "updated_at": now}) for r in rows]
    session.flush()
    for start in range(0, len(values), BULK_CHUNK):
        session.execute(insert(table), values[start : start + BULK_CHUNK])
    return len(values)


def create_elevators_bulk(
    session: Session, actor: Actor, rows: Sequence[ElevatorCreate], clock: Clock, *, source: str = "import"
) -> int:
    """Register many elevators at once, each with its file's first entry (a ``registration`` event), as
    ``create_elevator`` does one by one. All checks run before the first write; the caller commits."""
    _require(actor, REGISTRARS, "register elevators")
    if not rows:
        return 0
    units = {
        code: (uid, utype) for uid, code, utype in session.execute(select(Unit.id, Unit.code, Unit.unit_type))
    }
    existing_reg = set(session.scalars(select(Elevator.registration_code)))
    existing_rescue = set(session.scalars(select(Elevator.rescue_code)))
    errors: list[FieldError] = []
    seen_reg: set[str] = set()
    seen_rescue: set[str] = set()
    for r in rows:
        if r.registration_code in existing_reg or r.registration_code in seen_reg:
            errors.append(FieldError("registration_code", f"'{r.registration_code}' is already registered"))
        if r.rescue_code in existing_rescue or r.rescue_code in seen_rescue:
            errors.append(FieldError("rescue_code", f"'{r.rescue_code}' is already used by another elevator"))
        seen_reg.add(r.registration_code)
        seen_rescue.add(r.rescue_code)
        for field, expected in (("use_unit", UnitType.USE_UNIT), ("maintenance_unit", UnitType.MAINTENANCE)):
            code = getattr(r, field)
            if code and code not in units:
                errors.append(FieldError(field, f"unknown unit code '{code}'"))
            elif code and units[code][1] != expected.value:
                errors.append(
                    FieldError(field, f"unit '{code}' is a {units[code][1]}, expected a {expected.value}")
                )
    if errors:
        raise Conflict("; ".join(f"{e.field}: {e.message}" for e in errors[:20]), errors)

    now = clock.now()
    table = Elevator.metadata.tables[Elevator.__tablename__]
    events = ElevatorEvent.metadata.tables[ElevatorEvent.__tablename__]
    defaults = _not_null_defaults(table)
    session.flush()
    for start in range(0, len(rows), BULK_CHUNK):
        chunk = rows[start : start + BULK_CHUNK]
        values = []
        for r in chunk:
            data = r.model_dump(exclude={"use_unit", "maintenance_unit"})
            data["use_unit_id"] = units[r.use_unit][0] if r.use_unit else None
            data["maintenance_unit_id"] = units[r.maintenance_unit][0] if r.maintenance_unit else None
            values.append(_row_values(defaults, {**data, "created_at": now, "updated_at": now}))
        # RETURNING without sort_by_parameter_order keeps SQLite's inserts batched; rows map back by code.
        returned = session.execute(insert(table).returning(table.c.id, table.c.registration_code), values)
        ids = {code: elevator_id for elevator_id, code in returned}
        session.execute(
            insert(events),
            [
                {
                    "elevator_id": ids[r.registration_code],
                    "kind": EventKind.REGISTRATION.value,
                    "occurred_at": _as_datetime(r.commissioning_date or r.installation_date, clock),
                    "recorded_at": now,
                    "recorded_by": actor.username,
                    "summary": f"registered as {r.registration_code} by import from {source}",
                    "details": {"status": r.status.value, "source": source},
                }
                for r in chunk
            ],
        )
    return len(rows)


# ---------------------------------------------------------------- entries from other domains


@dataclass(frozen=True)
class SystemEntry:
    """A timeline entry written by the platform (faults, later rescue and maintenance)."""

    registration_code: str
    kind: str
    occurred_at: datetime
    summary: str
    details: dict[str, Any]
    dedupe_key: str


def append_system_entries(session: Session, entries: Sequence[SystemEntry], recorded_by: str) -> int:
    """Append entries to elevator files, each at most once (by ``dedupe_key``); unknown elevators are skipped.

    Returns how many were new."""
    if not entries:
        return 0
    codes = {e.registration_code for e in entries}
    ids = dict(
        session.execute(
            select(Elevator.registration_code, Elevator.id).where(Elevator.registration_code.in_(codes))
        ).all()
    )
    keys = [e.dedupe_key for e in entries]
    seen = set(session.scalars(select(ElevatorEvent.dedupe_key).where(ElevatorEvent.dedupe_key.in_(keys))))
    rows = []
    for e in entries:
        elevator_id = ids.get(e.registration_code)
        if elevator_id is None or e.dedupe_key in seen:
            continue
        seen.add(e.dedupe_key)
        rows.append(
            {
                "elevator_id": elevator_id,
                "kind": e.kind,
                "occurred_at": e.occurred_at,
                "recorded_at": e.occurred_at,
                "recorded_by": recorded_by,
                "summary": e.summary,
                "details": e.details,
                "dedupe_key": e.dedupe_key,
            }
        )
    if rows:
        session.execute(insert(ElevatorEvent), rows)
    return len(rows)


# ---------------------------------------------------------------- loading a generated registry (sim/city.py)
# A simulated city of 300,000 elevators through ORM objects would take many minutes: these write plain rows
# with Core executemany, the bind conversions done once per distinct value, in the caller's transaction.

#: Rows per executemany: large enough to amortise the round trip, small enough to keep memory flat.
LOAD_CHUNK = 10_000
_EVENT_KINDS = frozenset(k.value for k in EventKind)


@dataclass(frozen=True)
class LoadStart:
    """Where a bulk load's explicit ids begin, and the unit codes it must not reuse."""

    first_unit_id: int
    first_elevator_id: int
    taken_unit_codes: frozenset[str]


def bulk_load_start(session: Session) -> LoadStart:
    """Prepare a bulk load; ValueError when the registry already holds elevators (a city is loaded once,
    into an empty registry, so its ids and codes cannot collide with elevators already there)."""
    have = session.scalar(select(func.count()).select_from(Elevator)) or 0
    if have:
        raise ValueError(
            f"the database already holds {have} elevators; generate a city into an empty registry"
        )
    return LoadStart(
        first_unit_id=(session.scalar(select(func.max(Unit.id))) or 0) + 1,
        first_elevator_id=(session.scalar(select(func.max(Elevator.id))) or 0) + 1,
        taken_unit_codes=frozenset(session.scalars(select(Unit.code))),
    )


def bulk_load(
    session: Session,
    units: list[dict[str, Any]],
    elevators: Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]],
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Store generated unit rows, then chunks of (elevator rows, their files' entries); returns the number
    of elevators. Rows carry explicit ids counted from :func:`bulk_load_start` and every NOT NULL column.

    The elevator file's rule holds as in :func:`create_elevator`: each elevator is stored with exactly one
    ``registration`` entry in the same chunk, entries are of known kinds and belong to that chunk's
    elevators, and nothing is updated or deleted. A chunk that breaks the rule raises ValueError before it
    is written (the caller's transaction then stores nothing). ``on_chunk`` gets each chunk's size."""
    conn = session.connection()
    _BulkWriter(conn, _table(Unit)).write(units)
    elevator_writer = _BulkWriter(conn, _table(Elevator))
    event_writer = _BulkWriter(conn, _table(ElevatorEvent))
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # index pages of 300k rows stay in memory instead of being re-read
        conn.exec_driver_sql("PRAGMA cache_size = -262144")
    stored = 0
    try:
        for elevator_rows, event_rows in elevators:
            _check_files(elevator_rows, event_rows)
            elevator_writer.write(elevator_rows)
            event_writer.write(event_rows)
            stored += len(elevator_rows)
            if on_chunk is not None:
                on_chunk(len(elevator_rows))
    finally:
        if sqlite:
            conn.exec_driver_sql("PRAGMA cache_size = -2000")
    _sync_sequences(conn)
    return stored


def _check_files(elevator_rows: list[dict[str, Any]], event_rows: list[dict[str, Any]]) -> None:
    ids = {row["id"] for row in elevator_rows}
    registered: set[int] = set()
    registrations = 0
    registration = EventKind.REGISTRATION.value
    for event in event_rows:
        elevator_id, kind = event["elevator_id"], event["kind"]
        if elevator_id not in ids:
            raise ValueError(f"a file entry for elevator id {elevator_id}, which is not in its chunk")
        if kind not in _EVENT_KINDS:
            raise ValueError(f"elevator id {elevator_id}: unknown file entry kind {kind!r}")
        if kind == registration:
            registered.add(elevator_id)
            registrations += 1
    if registered != ids or registrations != len(ids):
        missing = sorted(ids - registered)[:5]
        raise ValueError(f"every elevator needs exactly one registration entry (none for ids {missing})")


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


class _BulkWriter:
    """Core ``executemany`` inserts with the bind conversions done once per distinct value.

    The conversions are the dialect's own (``bind_processor`` of each column type: UTC timestamps, dates
    as SQLite text, JSON), so the stored values are exactly what the ORM writes; but a city repeats the
    same few thousand dates hundreds of thousands of times, so dates and timestamps are converted through
    a memo, and the statement runs on a type-less copy of the table so SQLAlchemy does not convert again.
    This halves the time to store 300,000 elevators.
    """

    def __init__(self, conn: Connection, source: Table) -> None:
        self.conn = conn
        dialect = conn.dialect
        self.statement: Insert = sql_table(source.name, *(column(c.name) for c in source.columns)).insert()
        self.processors: list[tuple[str, Callable[[Any], Any]]] = []
        for c in source.columns:
            proc = c.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is None:
                continue
            self.processors.append((c.name, _memoised(proc) if _is_temporal(c.type) else proc))

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (converted in place); columns the rows leave out keep their defaults."""
        if not rows:
            return
        processors = [(name, proc) for name, proc in self.processors if name in rows[0]]
        for row in rows:
            for name, proc in processors:
                row[name] = proc(row[name])
        for i in range(0, len(rows), LOAD_CHUNK):
            self.conn.execute(self.statement, rows[i : i + LOAD_CHUNK])


def _is_temporal(type_: TypeEngine[Any]) -> bool:
    try:
        return type_.python_type in (date, datetime)
    except NotImplementedError:
        return False


def _memoised(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            out = cache[value] = proc(value)
            return out

    return convert


def _sync_sequences(conn: Connection) -> None:
    """Ids were given explicitly; move PostgreSQL's sequences past them so later inserts do not collide."""
    if conn.dialect.name != "postgresql":
        return
    for name in (Unit.__tablename__, Elevator.__tablename__):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            )
        )
