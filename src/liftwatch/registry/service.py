"""The registry's only writer. Every change to an elevator lands on its file's timeline, and every call
is checked against the actor's role and unit scope here, never in templates or routes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, insert, or_, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.registry.domain import ElevatorStatus, EventKind, UnitType
from liftwatch.registry.models import Elevator, ElevatorEvent, Unit
from liftwatch.registry.schemas import (
    UNIT_RECORD_FIELDS,
    ElevatorCreate,
    ElevatorUpdate,
    EventIn,
    PublicElevator,
    UnitCreate,
    UnitRef,
    UnitUpdate,
)

READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR, Role.INSPECTOR})
REGISTRARS = frozenset({Role.ADMIN, Role.REGULATOR})
# Accounts that see no registry: passengers (the public page only) and IoT gateways (telemetry only).
NO_REGISTRY_ACCESS = frozenset({Role.PUBLIC, Role.GATEWAY})


def _refuse(actor: Actor, public_reason: str) -> Forbidden:
    if actor.role is Role.PUBLIC:
        return Forbidden(f"the public {public_reason}")
    return Forbidden(f"role '{actor.role.value}' may only send telemetry")


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
    }
)
STATUS_AFTER_EVENT = {
    EventKind.SUSPENSION: ElevatorStatus.SUSPENDED,
    EventKind.RESTART: ElevatorStatus.IN_USE,
    EventKind.SCRAPPING: ElevatorStatus.SCRAPPED,
}


# Any select, whatever its columns: scoping only adds WHERE clauses.
_Sel = TypeVar("_Sel", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class ElevatorFilter:
    district: str | None = None
    street: str | None = None
    unit: str | None = None  # code of a use or maintenance unit
    place_type: str | None = None
    kind: str | None = None
    status: str | None = None
    age_min: float | None = None
    age_max: float | None = None
    q: str | None = None
    three_no: bool | None = None


def age_years(elevator: Elevator, today: date) -> float | None:
    start = elevator.commissioning_date or elevator.installation_date
    if start is None:
        return None
    return round((today - start).days / 365.25, 1)


def _years_before(today: date, years: float) -> date:
    return date.fromordinal(today.toordinal() - round(years * 365.25))


# ---------------------------------------------------------------- scope


def _scoped(stmt: _Sel, actor: Actor) -> _Sel:
    if actor.role in READ_ALL:
        return stmt
    if actor.role is Role.MAINTENANCE and actor.unit_id is not None:
        return stmt.where(Elevator.maintenance_unit_id == actor.unit_id)
    if actor.role is Role.USE_UNIT and actor.unit_id is not None:
        return stmt.where(Elevator.use_unit_id == actor.unit_id)
    return stmt.where(false())


def _require(actor: Actor, allowed: Iterable[Role], action: str) -> None:
    if actor.role not in allowed:
        raise Forbidden(f"role '{actor.role.value}' may not {action}")


# ---------------------------------------------------------------- elevators


def list_elevators(
    session: Session, actor: Actor, flt: ElevatorFilter, clock: Clock, page: int = 1, size: int = 50
) -> tuple[list[Elevator], int]:
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may look up one elevator by its code, not list them")
    stmt = _scoped(select(Elevator), actor)
    stmt = _apply_filter(session, stmt, flt, clock)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Elevator.registration_code).offset((page - 1) * size).limit(size)
    ).unique()
    return list(rows), int(total)


def _apply_filter(
    session: Session, stmt: Select[Any], flt: ElevatorFilter, clock: Clock | None
) -> Select[Any]:
    if flt.district:
        stmt = stmt.where(Elevator.district == flt.district)
    if flt.street:
        stmt = stmt.where(Elevator.street == flt.street)
    if flt.place_type:
        stmt = stmt.where(Elevator.place_type == flt.place_type)
    if flt.kind:
        stmt = stmt.where(Elevator.kind == flt.kind)
    if flt.status:
        stmt = stmt.where(Elevator.status == flt.status)
    if flt.unit:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == flt.unit))
        if unit_id is None:
            return stmt.where(false())
        stmt = stmt.where(or_(Elevator.use_unit_id == unit_id, Elevator.maintenance_unit_id == unit_id))
    start = func.coalesce(Elevator.commissioning_date, Elevator.installation_date)
    if (flt.age_min is not None or flt.age_max is not None) and clock is None:
        raise ValueError("age filters need a clock")
    today = clock.today() if clock is not None else date.min
    if flt.age_min is not None:
        stmt = stmt.where(start <= _years_before(today, flt.age_min))
    if flt.age_max is not None:
        stmt = stmt.where(start > _years_before(today, flt.age_max))
    if flt.three_no is not None:
        three = (
            Elevator.no_property_management.is_(True)
            & Elevator.no_maintenance_contract.is_(True)
            & Elevator.no_repair_fund.is_(True)
        )
        stmt = stmt.where(three if flt.three_no else ~three)
    if flt.q:
        like = f"%{flt.q.strip()}%"
        stmt = stmt.where(
            or_(
                Elevator.registration_code.ilike(like),
                Elevator.rescue_code == flt.q.strip(),
                Elevator.equipment_code.ilike(like),
                Elevator.address.ilike(like),
                Elevator.building.ilike(like),
            )
        )
    return stmt


def places(session: Session, actor: Actor) -> dict[str, list[str]]:
    """Districts and their streets among the elevators the actor may see, for search choices."""
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may not list places")
    stmt = _scoped(select(Elevator.district, Elevator.street), actor).distinct()
    out: dict[str, list[str]] = {}
    for district, street in session.execute(stmt.order_by(Elevator.district, Elevator.street)):
        streets = out.setdefault(district, [])
        if street:
            streets.append(street)
    return out


def _findable(code: str, what: str) -> None:
    """A code that no record can have (control characters, beyond any column) is simply not found; it
    never reaches the database, which would refuse a NUL with a server error."""
    if len(code) > 40 or _CONTROL.search(code):
        raise NotFound(f"no {what} with code {code[:60]!a}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def get_elevator(session: Session, actor: Actor, registration_code: str) -> Elevator:
    """The elevator, or NotFound when it does not exist or lies outside the actor's scope."""
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "sees the public page only")
    _findable(registration_code, "elevator")
    stmt = _scoped(select(Elevator).where(Elevator.registration_code == registration_code), actor)
    elevator: Elevator | None = session.scalars(stmt).unique().one_or_none()
    if elevator is None:
        raise NotFound(f"no elevator with registration code '{registration_code}'")
    return elevator


def get_public_elevator(session: Session, code: str) -> Elevator:
    """What a passenger scanning the code in the car may see: by registration or rescue code."""
    _findable(code, "elevator")
    stmt = select(Elevator).where(or_(Elevator.registration_code == code, Elevator.rescue_code == code))
    elevator = session.scalars(stmt).unique().first()
    if elevator is None:
        raise NotFound(f"no elevator with code '{code}'")
    return elevator


def timeline(session: Session, elevator: Elevator) -> Sequence[ElevatorEvent]:
    return session.scalars(
        select(ElevatorEvent)
        .where(ElevatorEvent.elevator_id == elevator.id)
        .order_by(ElevatorEvent.occurred_at.desc(), ElevatorEvent.id.desc())
    ).all()


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
            changes[name] = {"from": _jsonable(old), "to": _jsonable(new)}
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


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


# ---------------------------------------------------------------- units


def _scoped_units(stmt: _Sel, actor: Actor) -> _Sel:
    if actor.role in READ_ALL:
        return stmt
    if actor.unit_scoped and actor.unit_id is not None:
        return stmt.where(Unit.id == actor.unit_id)
    return stmt.where(false())


def list_units(
    session: Session,
    actor: Actor,
    unit_type: str | None = None,
    q: str | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[Unit], int]:
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may not list units")
    stmt = _scoped_units(select(Unit), actor)
    if unit_type:
        stmt = stmt.where(Unit.unit_type == unit_type)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Unit.name.ilike(like), Unit.code.ilike(like)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Unit.name, Unit.code).offset((page - 1) * size).limit(size))
    return list(rows), int(total)


def elevator_counts(session: Session, units: Sequence[Unit]) -> dict[int, int]:
    """Elevators served (maintenance) or managed (use unit) per unit, in two grouped queries."""
    ids = [u.id for u in units]
    if not ids:
        return {}
    counts: dict[int, int] = {}
    for col in (Elevator.maintenance_unit_id, Elevator.use_unit_id):
        for unit_id, n in session.execute(select(col, func.count()).where(col.in_(ids)).group_by(col)):
            if unit_id is not None:
                counts[unit_id] = counts.get(unit_id, 0) + n
    return counts


def get_unit(session: Session, actor: Actor, code: str) -> Unit:
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may not read units")
    _findable(code, "unit")
    unit: Unit | None = session.scalar(_scoped_units(select(Unit).where(Unit.code == code), actor))
    if unit is None:
        raise NotFound(f"no unit with code '{code}'")
    return unit


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


def public_view(session: Session, code: str) -> PublicElevator:
    elevator = get_public_elevator(session, code)
    return PublicElevator(
        registration_code=elevator.registration_code,
        rescue_code=elevator.rescue_code,
        kind=elevator.kind,
        status=elevator.status,
        district=elevator.district,
        address=elevator.address,
        building=elevator.building,
        use_unit=_ref(elevator.use_unit),
        maintenance_unit=_ref(elevator.maintenance_unit),
        maintenance_phone=elevator.maintenance_unit.contact_phone if elevator.maintenance_unit else "",
    )


def _ref(unit: Unit | None) -> UnitRef | None:
    return UnitRef(code=unit.code, name=unit.name) if unit else None


# ---------------------------------------------------------------- bulk import and export (registry/io.py)
# Kept in one block: the import validates and reports row by row; these functions re-check the invariants
# (role, duplicate codes, unit types) and write with Core bulk inserts, a few statements per 5,000 rows.

BULK_CHUNK = 5000


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
    from sqlalchemy import insert

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
    from sqlalchemy import insert

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


_EXPORT_SKIP = frozenset({"id", "use_unit_id", "maintenance_unit_id", "created_at", "updated_at"})


def export_elevator_rows(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every elevator in the actor's scope as a dict of ElevatorCreate fields, units as their codes."""
    from sqlalchemy.orm import aliased

    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may look up one elevator by its code, not export them")
    use_unit = aliased(Unit)
    maint_unit = aliased(Unit)
    columns = [c for c in Elevator.metadata.tables[Elevator.__tablename__].c if c.name not in _EXPORT_SKIP]
    stmt = (
        select(*columns, use_unit.code.label("use_unit"), maint_unit.code.label("maintenance_unit"))
        .select_from(Elevator)
        .outerjoin(use_unit, Elevator.use_unit_id == use_unit.id)
        .outerjoin(maint_unit, Elevator.maintenance_unit_id == maint_unit.id)
        .order_by(Elevator.registration_code)
    )
    return [dict(row) for row in session.execute(_scoped(stmt, actor)).mappings()]


def export_unit_rows(session: Session, actor: Actor, referenced: Iterable[str]) -> list[dict[str, Any]]:
    """Units for an export. Readers of the whole registry get every unit; unit staff get their own unit in
    full and, of the other units on their elevators, only code, name and type (what the API shows them)."""
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may not export units")
    columns = [Unit.metadata.tables[Unit.__tablename__].c[name] for name in UNIT_RECORD_FIELDS]
    if actor.role in READ_ALL:
        stmt = select(*columns).order_by(Unit.code)
        return [dict(row) for row in session.execute(stmt).mappings()]
    own_stmt = _scoped_units(select(*columns).select_from(Unit), actor)
    own = [dict(row) for row in session.execute(own_stmt).mappings()]
    own_codes = {u["code"] for u in own}
    others = sorted(set(referenced) - own_codes)
    rows = own
    if others:
        stmt = select(Unit.code, Unit.name, Unit.unit_type).where(Unit.code.in_(others))
        rows += [dict(row) for row in session.execute(stmt).mappings()]
    return sorted(rows, key=lambda u: str(u["code"]))


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


def registration_codes(session: Session) -> set[str]:
    """Every registered elevator's code (telemetry accepts messages for these only)."""
    return set(session.scalars(select(Elevator.registration_code)))


def scoped_codes(session: Session, actor: Actor) -> set[str] | None:
    """The registration codes in the actor's scope; None when it is the whole registry."""
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may not read the registry")
    if actor.role in READ_ALL:
        return None
    return set(session.scalars(_scoped(select(Elevator.registration_code), actor)))


def codes_of_unit(session: Session, unit_id: int) -> set[str]:
    """The registration codes of the elevators a unit maintains or uses (what its IoT gateway may report
    for)."""
    stmt = select(Elevator.registration_code).where(
        or_(Elevator.maintenance_unit_id == unit_id, Elevator.use_unit_id == unit_id)
    )
    return set(session.scalars(stmt))


@dataclass(frozen=True)
class Place:
    district: str
    street: str
    address: str
    latitude: float | None
    longitude: float | None
    maintenance_unit: str  # its name, "" when none
    place_type: str = ""


def places_of(session: Session, codes: Sequence[str]) -> dict[str, Place]:
    """Place and maintenance unit of many elevators in one query (for lists and maps of other domains;
    the caller has already limited ``codes`` to the actor's scope)."""
    if not codes:
        return {}
    rows = session.execute(
        select(
            Elevator.registration_code,
            Elevator.district,
            Elevator.street,
            Elevator.address,
            Elevator.latitude,
            Elevator.longitude,
            Unit.name,
            Elevator.place_type,
        )
        .outerjoin(Unit, Unit.id == Elevator.maintenance_unit_id)
        .where(Elevator.registration_code.in_(list(codes)))
    )
    return {
        code: Place(district, street, address, lat, lon, unit_name or "", place_type)
        for code, district, street, address, lat, lon, unit_name, place_type in rows
    }


def count_in_service(session: Session, district: str | None = None, unit: str | None = None) -> int:
    """Elevators in use (the denominator of the entrapment rate), by district and/or unit code."""
    flt = ElevatorFilter(district=district, unit=unit, status=ElevatorStatus.IN_USE.value)
    stmt = _apply_filter(session, select(func.count()).select_from(Elevator), flt, None)
    return int(session.scalar(stmt) or 0)


def unit_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Names of units by code (for labels in other domains' lists)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {
        code: name
        for code, name in session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(wanted)))
    }


def count_in_service_by(
    session: Session, key: str, district: str | None = None, unit: str | None = None
) -> dict[str, int]:
    """Elevators in use per district, street, place type or maintenance unit code (KPI denominators)."""
    if key == "maintenance_unit":
        column: Any = Unit.code
        stmt = (
            select(column, func.count())
            .select_from(Elevator)
            .join(Unit, Unit.id == Elevator.maintenance_unit_id)
        )
    elif key in ("district", "street", "place_type"):
        column = getattr(Elevator, key)
        stmt = select(column, func.count()).select_from(Elevator)
    else:
        raise InvalidInput(FieldError("group_by", f"cannot count elevators by '{key}'"))
    flt = ElevatorFilter(district=district, unit=unit, status=ElevatorStatus.IN_USE.value)
    stmt = _apply_filter(session, stmt, flt, None).group_by(column)
    return {str(k): int(n) for k, n in session.execute(stmt)}


# ---------------------------------------------------------------- change feed

WATCHED_KINDS = (
    EventKind.REGISTRATION.value,
    EventKind.RECORD_UPDATE.value,
    EventKind.SUSPENSION.value,
    EventKind.RESTART.value,
    EventKind.SCRAPPING.value,
)


@dataclass(frozen=True, slots=True)
class ElevatorChange:
    """An elevator whose registration, rated speed or status may have changed (its current values)."""

    event_id: int
    registration_code: str
    rated_speed_mps: float | None
    status: str


IN_SERVICE = ElevatorStatus.IN_USE.value


def detector_view(session: Session) -> dict[str, tuple[float | None, bool]]:
    """What the fault detector takes from the registry, per elevator: rated speed and in service."""
    rows = session.execute(select(Elevator.registration_code, Elevator.rated_speed_mps, Elevator.status))
    return {c: (float(r) if r is not None else None, s == IN_SERVICE) for c, r, s in rows}


def last_event_id(session: Session) -> int:
    """Where a change feed starts: everything before is in the full load that goes with it."""
    return int(session.scalar(select(func.max(ElevatorEvent.id))) or 0)


def elevator_changes(session: Session, after_id: int, lookback: int = 1000) -> list[ElevatorChange]:
    """Elevators with a registration, record update or status event after ``after_id - lookback``.

    The elevator file is the registry's change log, so other processes (telemetry ingestion, the fault
    detector) follow it instead of reloading the whole registry. Ids are given out before commit, so a
    transaction may commit an id below one already read: the ``lookback`` reads such late ones (callers
    skip ids they have handled). The values are read now, so applying a change twice changes nothing."""
    rows = session.execute(
        select(ElevatorEvent.id, Elevator.registration_code, Elevator.rated_speed_mps, Elevator.status)
        .join(Elevator, Elevator.id == ElevatorEvent.elevator_id)
        .where(ElevatorEvent.id > after_id - lookback, ElevatorEvent.kind.in_(WATCHED_KINDS))
        .order_by(ElevatorEvent.id)
    )
    return [ElevatorChange(int(i), c, float(r) if r is not None else None, s) for i, c, r, s in rows]
