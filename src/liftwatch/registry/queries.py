"""The registry's reads: scoped lists and lookups, the views and feeds other domains and the web use.

Every read that takes an ``Actor`` is scoped in its query (``_scoped``): unit staff see only their unit's
elevators, and anything outside scope is *not found*. The unscoped reads (codes, places, counts, the change
feed) serve other domains, which have already limited what they show to the actor's scope. Writes are in
``registry/service.py``; other domains and the web import this module for reads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, NamedTuple, TypeAlias, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.registry.domain import ElevatorStatus, EventKind, PlaceType, UnitType
from liftwatch.registry.models import Elevator, ElevatorEvent, RetiredRescueCode, Unit
from liftwatch.registry.schemas import UNIT_RECORD_FIELDS, PublicElevator, UnitRef

# The records these reads hand out, for callers' annotations (the tables' module stays the registry's own).
StoredElevator: TypeAlias = Elevator

READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR, Role.INSPECTOR})
# Accounts that see no registry: passengers (the public page only) and IoT gateways (telemetry only).
NO_REGISTRY_ACCESS = frozenset({Role.PUBLIC, Role.GATEWAY})


def _refuse(actor: Actor, public_reason: str) -> Forbidden:
    if actor.role is Role.PUBLIC:
        return Forbidden(f"the public {public_reason}")
    return Forbidden(f"role '{actor.role.value}' may only send telemetry")


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
    #: district and street as a person types them: part of the name finds it (the search page and API);
    #: otherwise the exact name (the domains' own reads)
    partial_places: bool = False

    def narrows(self) -> bool:
        """Whether any criterion is given (an export of every elevator also holds every unit)."""
        return any(getattr(self, f.name) is not None for f in fields(self) if f.name != "partial_places")


def age_years(elevator: Elevator | ElevatorBrief, today: date) -> float | None:
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
    # a place as typed: the whole name, or part of it ("浦东" finds 浦东新区), never a pattern of its own
    if flt.district:
        stmt = stmt.where(_names(Elevator.district, flt.district, flt.partial_places))
    if flt.street:
        stmt = stmt.where(_names(Elevator.street, flt.street, flt.partial_places))
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


def _names(column: Any, text: str, partial: bool) -> ColumnElement[bool]:
    """``column`` holds ``text``: equal to it, or (``partial``) containing it (``%`` and ``_`` taken
    literally)."""
    if not partial:
        return cast(ColumnElement[bool], column == text)
    text = text.strip()
    literal = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == text, column.like(f"%{literal}%", escape="\\"))


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


def get_elevator_by_code(session: Session, actor: Actor, code: str) -> Elevator:
    """The elevator of a registration or rescue code (as typed), or NotFound outside the actor's scope."""
    found = get_public_elevator(session, code)
    return get_elevator(session, actor, found.registration_code)


def get_public_elevator(session: Session, code: str) -> Elevator:
    """What a passenger scanning the code in the car may see: by rescue, registration or equipment code, as
    typed or read out (:func:`normalise_code`: spaces, full-width characters and case do not matter). A
    registration code wins over a rescue code, which wins over an equipment code. A rescue code the
    elevator gave up (``reassign_rescue_code``) still finds it: a sticker not yet replaced still works."""
    _findable(code, "elevator")
    typed = normalise_code(code)
    wanted = sorted({code, typed, typed.upper(), typed.lower()} - {""})
    stmt = select(Elevator).where(
        or_(
            Elevator.registration_code.in_(wanted),
            Elevator.rescue_code.in_(wanted),
            Elevator.equipment_code.in_(wanted),
        )
    )
    found = list(session.scalars(stmt.order_by(Elevator.id).limit(10)).unique())

    def rank(e: Elevator) -> int:
        return 0 if e.registration_code in wanted else 1 if e.rescue_code in wanted else 2

    if not found:
        retired = session.scalar(
            select(RetiredRescueCode.registration_code).where(RetiredRescueCode.code.in_(wanted))
        )
        holder = session.scalars(select(Elevator).where(Elevator.registration_code == retired)).first()
        if retired is None or holder is None:
            raise NotFound(f"no elevator with code '{code}'")
        return holder
    return min(found, key=rank)


def normalise_code(code: str) -> str:
    """A code as stored: full-width letters and digits (a Chinese keyboard) made ASCII, every space gone
    (``100 001``, ``11sha 000001``); the caller also tries it in upper and lower case."""
    return "".join(unicodedata.normalize("NFKC", code).split())


def timeline(session: Session, elevator: Elevator) -> Sequence[ElevatorEvent]:
    return session.scalars(
        select(ElevatorEvent)
        .where(ElevatorEvent.elevator_id == elevator.id)
        .order_by(ElevatorEvent.occurred_at.desc(), ElevatorEvent.id.desc())
    ).all()


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


#: At most this many units offered by a unit picker (by name); more are found by typing a name or code.
UNIT_CHOICES_MAX = 2_000


def unit_choices(session: Session, unit_type: str) -> list[tuple[str, str]]:
    """(code, name) of the units of ``unit_type`` by name, for a picker (the registrars' screens)."""
    stmt = select(Unit.code, Unit.name).where(Unit.unit_type == unit_type).order_by(Unit.name, Unit.code)
    return [(str(c), str(n)) for c, n in session.execute(stmt.limit(UNIT_CHOICES_MAX))]


def unit_code_by_code_or_name(session: Session, text: str, unit_type: str) -> str | None:
    """The code of the unit ``text`` names: a unit's code (of any type: the service says when it is the
    wrong one), else the name of exactly one unit of ``unit_type``; None when it names none (or several)."""
    if unit_by_code(session, text) is not None:
        return text
    codes = list(
        session.scalars(select(Unit.code).where(Unit.name == text, Unit.unit_type == unit_type).limit(2))
    )
    return str(codes[0]) if len(codes) == 1 else None


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


# ---------------------------------------------------------------- export (registry/io.py)


_EXPORT_SKIP = frozenset({"id", "use_unit_id", "maintenance_unit_id", "created_at", "updated_at"})


#: Rows fetched from the database at a time by an export (its memory is this, not the ledger).
EXPORT_BATCH = 2_000


def _export_select(
    session: Session, actor: Actor, flt: ElevatorFilter | None, clock: Clock | None
) -> Select[Any]:
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may look up one elevator by its code, not export them")
    use_unit = aliased(Unit)
    maint_unit = aliased(Unit)
    columns = [c for c in Elevator.metadata.tables[Elevator.__tablename__].c if c.name not in _EXPORT_SKIP]
    stmt = (
        select(
            *columns,
            use_unit.code.label("use_unit"),
            maint_unit.code.label("maintenance_unit"),
            use_unit.name.label("use_unit_name"),
            maint_unit.name.label("maintenance_unit_name"),
        )
        .select_from(Elevator)
        .outerjoin(use_unit, Elevator.use_unit_id == use_unit.id)
        .outerjoin(maint_unit, Elevator.maintenance_unit_id == maint_unit.id)
    )
    stmt = _scoped(stmt, actor)
    return _apply_filter(session, stmt, flt, clock) if flt is not None else stmt


def export_count(
    session: Session, actor: Actor, flt: ElevatorFilter | None = None, clock: Clock | None = None
) -> int:
    """How many elevators :func:`export_elevator_rows` yields (a sheet's size is written before its rows)."""
    stmt = _export_select(session, actor, flt, clock)
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def export_elevator_rows(
    session: Session, actor: Actor, flt: ElevatorFilter | None = None, clock: Clock | None = None
) -> Iterator[dict[str, Any]]:
    """The elevators in the actor's scope (those ``flt`` keeps, when given; its age filters need the
    ``clock``) as dicts of ElevatorCreate fields, units as their codes, plus the units' names; fetched
    :data:`EXPORT_BATCH` rows at a time, so a city's ledger never sits in memory whole."""
    stmt = _export_select(session, actor, flt, clock).order_by(Elevator.registration_code)
    result = session.execute(stmt, execution_options={"yield_per": EXPORT_BATCH})
    for row in result.mappings():
        yield dict(row)


def export_unit_rows(
    session: Session, actor: Actor, referenced: Iterable[str], only_referenced: bool = False
) -> list[dict[str, Any]]:
    """Units for an export. Readers of the whole registry get every unit (``only_referenced``: those the
    exported elevators name, for an export of a search); unit staff get their own unit in full and, of the
    other units on their elevators, only code, name and type (what the API shows them)."""
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may not export units")
    columns = [Unit.metadata.tables[Unit.__tablename__].c[name] for name in UNIT_RECORD_FIELDS]
    if actor.role in READ_ALL:
        stmt = select(*columns).order_by(Unit.code)
        if only_referenced:
            names = sorted(set(referenced))
            found: list[dict[str, Any]] = []
            for start in range(0, len(names), 1_000):  # IN lists of a bounded size
                chunk = stmt.where(Unit.code.in_(names[start : start + 1_000]))
                found += [dict(row) for row in session.execute(chunk).mappings()]
            return sorted(found, key=lambda u: str(u["code"]))
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


# ---------------------------------------------------------------- reads for other domains


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


def actor_unit_code(session: Session, actor: Actor) -> str | None:
    """The code of the unit the actor's account belongs to (None: no unit)."""
    if actor.unit_id is None:
        return None
    return unit_codes(session, [actor.unit_id]).get(actor.unit_id)


def own_rows(
    session: Session,
    actor: Actor,
    unit_column: InstrumentedAttribute[Any],
    code_column: InstrumentedAttribute[Any],
) -> ColumnElement[bool]:
    """The condition a unit's staff read another domain's rows by (hazards, complaints): rows naming its
    unit in ``unit_column``, or about an elevator it maintains or uses (``code_column``); none without a
    unit. The domain decides first which roles read at all."""
    unit = actor_unit_code(session, actor)
    if unit is None:
        return false()
    codes = scoped_codes(session, actor) or set()
    return or_(unit_column == unit, code_column.in_(sorted(codes)))


def codes_of_unit(session: Session, unit_id: int) -> set[str]:
    """The registration codes of the elevators a unit maintains or uses (what its IoT gateway may report
    for)."""
    stmt = select(Elevator.registration_code).where(
        or_(Elevator.maintenance_unit_id == unit_id, Elevator.use_unit_id == unit_id)
    )
    return set(session.scalars(stmt))


def code_subquery(district: str | None = None, use_unit_id: int | None = None) -> Select[str]:
    """The registration codes of the elevators in ``district`` and/or used by the unit ``use_unit_id``,
    as a subquery for another domain's filter (``column.in_(code_subquery(...))``): a district of a city
    holds tens of thousands of elevators, too many to pass as values. The caller decides who may ask."""
    stmt = select(Elevator.registration_code)
    if district is not None:
        stmt = stmt.where(Elevator.district == district)
    if use_unit_id is not None:
        stmt = stmt.where(Elevator.use_unit_id == use_unit_id)
    return stmt


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
    """Elevators in use per district, street, place type, maintenance or use unit code (KPI denominators;
    the use units that owe a drill)."""
    if key in ("maintenance_unit", "use_unit"):
        column: Any = Unit.code
        on = Elevator.maintenance_unit_id if key == "maintenance_unit" else Elevator.use_unit_id
        stmt = select(column, func.count()).select_from(Elevator).join(Unit, Unit.id == on)
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


def terminal_codes(session: Session) -> list[str]:
    """The codes of elevators with an IoT terminal on file that are not scrapped, in order (those that
    need broker credentials)."""
    stmt = (
        select(Elevator.registration_code)
        .where(Elevator.iot_terminal_id != "", Elevator.status != ElevatorStatus.SCRAPPED.value)
        .order_by(Elevator.registration_code)
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- units for other domains


@dataclass(frozen=True)
class UnitRecord:
    """A unit as other domains need it (accounts: which unit a user belongs to)."""

    id: int
    code: str
    name: str
    unit_type: str


def unit_by_code(session: Session, code: str) -> UnitRecord | None:
    """The unit with this code, whatever the caller's scope (the caller decides who may ask), or None."""
    row = session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.unit_type).where(Unit.code == code)
    ).first()
    return UnitRecord(*row) if row else None


def unit_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Codes of units by id, in one query (None and unknown ids are left out)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {uid: code for uid, code in session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(wanted)))}


def count_elevators(session: Session) -> int:
    """Every registered elevator, whatever its status (a generated city is loaded into an empty registry)."""
    return int(session.scalar(select(func.count()).select_from(Elevator)) or 0)


def busiest_unit(session: Session, unit_type: UnitType) -> str | None:
    """The code of the maintenance or use unit with the most elevators (ties: the lowest code), or None."""
    column = Elevator.maintenance_unit_id if unit_type is UnitType.MAINTENANCE else Elevator.use_unit_id
    return session.scalar(
        select(Unit.code)
        .join(Elevator, column == Unit.id)
        .where(Unit.unit_type == unit_type.value)
        .group_by(Unit.code)
        .order_by(func.count().desc(), Unit.code)
        .limit(1)
    )


@dataclass(frozen=True)
class TerminalElevator:
    """An elevator in use with an IoT terminal, as a simulated terminal needs it."""

    registration_code: str
    kind: str
    floors: int | None
    rated_speed_mps: float | None
    place_type: str


def elevators_with_terminals(session: Session, limit: int) -> list[TerminalElevator]:
    """The first ``limit`` elevators in use with an IoT terminal, by registration code."""
    rows = session.execute(
        select(
            Elevator.registration_code,
            Elevator.kind,
            Elevator.floors,
            Elevator.rated_speed_mps,
            Elevator.place_type,
        )
        .where(Elevator.status == ElevatorStatus.IN_USE.value, Elevator.iot_terminal_id != "")
        .order_by(Elevator.registration_code)
        .limit(limit)
    )
    return [TerminalElevator(*row) for row in rows]


# ---------------------------------------------------------------- the map's extent

#: Where a map looks while no elevator in use has coordinates: China's extent (south, west, north, east).
DEFAULT_BOUNDS = (18.0, 73.5, 53.6, 135.1)
#: Room around the elevators on each side: a share of the span, at least ``MAP_MARGIN_MIN_DEG``.
MAP_MARGIN_SHARE = 0.05
MAP_MARGIN_MIN_DEG = 0.01


@dataclass(frozen=True)
class DistrictMark:
    """A district's label on the map, at the mean position of its elevators in use."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class MapExtent:
    """What a city map shows first: the bounds of the elevators in use, with a margin, and the districts."""

    south: float
    west: float
    north: float
    east: float
    districts: tuple[DistrictMark, ...]

    @property
    def bounds(self) -> list[list[float]]:
        """Leaflet's order: [[south, west], [north, east]]."""
        return [[self.south, self.west], [self.north, self.east]]


def map_extent(session: Session) -> MapExtent:
    """The registry's extent: the bounding box of the elevators in use that have coordinates, widened by a
    margin, and each district's mean position; ``DEFAULT_BOUNDS`` and no districts when there are none.
    One grouped query over the whole registry: callers cache it (the city's extent changes slowly)."""
    lat, lon = Elevator.latitude, Elevator.longitude
    rows = session.execute(
        select(
            Elevator.district,
            func.min(lat),
            func.max(lat),
            func.min(lon),
            func.max(lon),
            func.avg(lat),
            func.avg(lon),
        )
        .where(Elevator.status == ElevatorStatus.IN_USE.value, lat.is_not(None), lon.is_not(None))
        .group_by(Elevator.district)
        .order_by(Elevator.district)
    ).all()
    if not rows:
        south, west, north, east = DEFAULT_BOUNDS
        return MapExtent(south, west, north, east, ())
    south, north = min(float(r[1]) for r in rows), max(float(r[2]) for r in rows)
    west, east = min(float(r[3]) for r in rows), max(float(r[4]) for r in rows)
    dlat = max((north - south) * MAP_MARGIN_SHARE, MAP_MARGIN_MIN_DEG)
    dlon = max((east - west) * MAP_MARGIN_SHARE, MAP_MARGIN_MIN_DEG)
    districts = tuple(DistrictMark(r[0], float(r[5]), float(r[6])) for r in rows if r[0])
    return MapExtent(
        max(south - dlat, -90.0),
        max(west - dlon, -180.0),
        min(north + dlat, 90.0),
        min(east + dlon, 180.0),
        districts,
    )


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """The codes of elevators whose record was updated or whose file got an event recorded after ``since``
    (risk grading's incremental recomputation follows the registry this way)."""
    events = (
        select(Elevator.registration_code)
        .join(ElevatorEvent, ElevatorEvent.elevator_id == Elevator.id)
        .where(ElevatorEvent.recorded_at > since)
    )
    updated = select(Elevator.registration_code).where(Elevator.updated_at > since)
    return set(session.scalars(events)) | set(session.scalars(updated))


def elevators_by_codes(session: Session, codes: Iterable[str], batch: int = 5000) -> list[Elevator]:
    """The elevators with ``codes`` (unknown codes left out), in code order: one query per ``batch``
    codes, not one per elevator (risk grading's incremental recomputation names a few thousand at most)."""
    wanted = sorted(set(codes))
    found: list[Elevator] = []
    for i in range(0, len(wanted), batch):
        chunk = wanted[i : i + batch]
        found += session.scalars(select(Elevator).where(Elevator.registration_code.in_(chunk))).unique()
    return sorted(found, key=lambda e: e.registration_code)


class ElevatorBrief(NamedTuple):
    """The few columns of an elevator in use that city-wide passes need (risk grading's facts): a plain row,
    no ORM object, no unit loaded."""

    registration_code: str
    district: str
    place_type: str
    commissioning_date: date | None
    installation_date: date | None
    design_life_years: int | None
    no_property_management: bool
    no_repair_fund: bool
    no_maintenance_contract: bool


_BRIEF_COLUMNS = (
    Elevator.registration_code,
    Elevator.district,
    Elevator.place_type,
    Elevator.commissioning_date,
    Elevator.installation_date,
    Elevator.design_life_years,
    Elevator.no_property_management,
    Elevator.no_repair_fund,
    Elevator.no_maintenance_contract,
)


def elevator_briefs(
    session: Session,
    district: str | None = None,
    codes: Collection[str] | None = None,
    batch: int = 5000,
) -> Iterator[list[ElevatorBrief]]:
    """The elevators in use (of ``district``, or only ``codes``), ``batch`` at a time in code order: keyset
    pages on the registration code (no OFFSET, no count), or one IN list per ``batch`` named codes. A full
    read of the city this way is a tenth of paging ``list_elevators`` (whole ORM rows and a count a page)."""
    base = select(*_BRIEF_COLUMNS).where(Elevator.status == ElevatorStatus.IN_USE.value)
    if district is not None:
        base = base.where(Elevator.district == district)
    if codes is not None:
        wanted = sorted(set(codes))
        for i in range(0, len(wanted), batch):
            stmt = base.where(Elevator.registration_code.in_(wanted[i : i + batch]))
            rows = [ElevatorBrief(*r) for r in session.execute(stmt.order_by(Elevator.registration_code))]
            if rows:
                yield rows
        return
    after: str | None = None
    while True:
        stmt = base if after is None else base.where(Elevator.registration_code > after)
        rows = [
            ElevatorBrief(*r) for r in session.execute(stmt.order_by(Elevator.registration_code).limit(batch))
        ]
        if not rows:
            return
        yield rows
        after = rows[-1].registration_code


# ---------------------------------------------------------------- the regulator's registers


@dataclass(frozen=True)
class RegisterEntry:
    """An elevator in use as the regulator's registers list it (三无电梯, 15年以上老旧电梯)."""

    registration_code: str
    district: str
    street: str
    address: str
    place_type: str
    use_unit: str  # its name, "" when none
    maintenance_unit: str  # its name, "" when none
    started: date | None  # commissioning date, else installation date
    no_property_management: bool
    no_maintenance_contract: bool  # the registry's flag, or (three-no list) no contract valid today
    no_repair_fund: bool

    def full_years(self, today: date) -> int | None:
        """Whole years in use on ``today`` (an elevator is 15 on its 15th anniversary)."""
        if self.started is None:
            return None
        s = self.started
        return today.year - s.year - ((today.month, today.day) < (s.month, s.day))


def _anniversary_before(today: date, years: int) -> date:
    """The day ``years`` whole years before ``today`` (28 February for a 29th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _register_entries(
    actor: Actor, district: str | None, place_type: str | None, extra: Any = None
) -> Select[*tuple[Any, ...]]:
    """The select of both registers: elevators in use in scope, filtered, as ``RegisterEntry`` columns."""
    if actor.role in NO_REGISTRY_ACCESS:
        raise _refuse(actor, "may not list elevators")
    use, mnt = aliased(Unit), aliased(Unit)
    stmt = (
        select(
            Elevator.registration_code,
            Elevator.district,
            Elevator.street,
            Elevator.address,
            Elevator.place_type,
            use.name,
            mnt.name,
            func.coalesce(Elevator.commissioning_date, Elevator.installation_date),
            Elevator.no_property_management,
            Elevator.no_maintenance_contract,
            Elevator.no_repair_fund,
        )
        .outerjoin(use, use.id == Elevator.use_unit_id)
        .outerjoin(mnt, mnt.id == Elevator.maintenance_unit_id)
        .where(Elevator.status == ElevatorStatus.IN_USE.value)
    )
    stmt = _scoped(stmt, actor)
    if district:
        stmt = stmt.where(Elevator.district == district)
    if place_type:
        stmt = stmt.where(Elevator.place_type == place_type)
    return stmt if extra is None else stmt.where(extra)


def _entry(row: Any, no_contract: bool = False) -> RegisterEntry:
    code, district, street, address, place_type, use, mnt, started, npm, nmc, nrf = row
    return RegisterEntry(
        code, district, street, address, place_type, use or "", mnt or "", started,
        bool(npm), bool(nmc) or no_contract, bool(nrf),
    )  # fmt: skip


def three_no_elevators(
    session: Session,
    actor: Actor,
    valid_contract_codes: Iterable[str],
    district: str | None = None,
    place_type: str | None = None,
) -> list[RegisterEntry]:
    """三无电梯: the elevators in use in the actor's scope with any of no property management, no
    maintenance contract (the registry's flag, or no code in ``valid_contract_codes``: maintenance knows
    the contracts) and no repair fund, by district and code. Any one condition lists it: the regulator
    follows each up, not only the elevators that have all three."""
    valid = set(valid_contract_codes)
    stmt = _register_entries(actor, district, place_type)
    out = []
    for row in session.execute(stmt.order_by(Elevator.district, Elevator.registration_code)):
        e = _entry(row, no_contract=row[0] not in valid)
        if e.no_property_management or e.no_maintenance_contract or e.no_repair_fund:
            out.append(e)
    return out


def old_elevators(
    session: Session,
    actor: Actor,
    today: date,
    min_years: int = 15,
    district: str | None = None,
    place_type: str | None = None,
) -> list[RegisterEntry]:
    """15年以上老旧电梯: the elevators in use in the actor's scope in use ``min_years`` whole years or more
    on ``today`` (the city's day) by commissioning date, else installation date; residential first (their
    safety assessment is the regulator's concern), then the oldest."""
    start = func.coalesce(Elevator.commissioning_date, Elevator.installation_date)
    stmt = _register_entries(actor, district, place_type, start <= _anniversary_before(today, min_years))
    residential = case((Elevator.place_type == PlaceType.RESIDENTIAL.value, 0), else_=1)
    stmt = stmt.order_by(residential, start, Elevator.registration_code)
    return [_entry(row) for row in session.execute(stmt)]


# ---------------------------------------------------------------- the city's figures (analytics)

#: The dimensions the city's figures group elevators by (docs/ANALYTICS.md): the elevator's district,
#: street, place type, maintenance unit (its code, "" for none) or age band.
GROUP_KEYS = ("district", "street", "place_type", "maintenance_unit", "age_band")
#: Age bands in whole years of use (commissioning date, else installation date): [0, 5), [5, 10), ...,
#: 20 and more; an elevator with neither date is in the band "unknown".
AGE_BAND_EDGES = (5, 10, 15, 20)
AGE_BANDS = ("0-5", "5-10", "10-15", "15-20", "20+")
AGE_UNKNOWN = "unknown"


def _age_band(today: date) -> ColumnElement[str]:
    start = func.coalesce(Elevator.commissioning_date, Elevator.installation_date)
    whens: list[tuple[ColumnElement[bool], str]] = [(start.is_(None), AGE_UNKNOWN)]
    for edge, band in zip(AGE_BAND_EDGES, AGE_BANDS, strict=False):
        whens.append((start > _anniversary_before(today, edge), band))
    return case(*whens, else_=AGE_BANDS[-1])


#: The analytics roll-up's cell (``analytics.models.AnalyticsCell``): the elevators that share every one of
#: these keys; the group key "cell" is their values in this order, joined by :data:`CELL_SEP`.
CELL_KEYS = ("district", "street", "place_type", "maintenance_unit", "age_band")
CELL_SEP = "\x1f"


def _group_select(key: str, today: date, *columns: Any) -> Select[Any]:
    """SELECT key, columns... FROM elevators (joined to the maintenance unit for its code)."""
    if key == "cell":
        parts: list[Any] = [
            func.coalesce(Elevator.district, ""),
            func.coalesce(Elevator.street, ""),
            func.coalesce(Elevator.place_type, ""),
            func.coalesce(Unit.code, ""),
            _age_band(today),
        ]
        cell: Any = parts[0]
        for part in parts[1:]:
            cell = cell.concat(literal(CELL_SEP)).concat(part)
        return (
            select(cell, *columns)
            .select_from(Elevator)
            .outerjoin(Unit, Unit.id == Elevator.maintenance_unit_id)
        )
    if key == "maintenance_unit":
        column: Any = func.coalesce(Unit.code, "")
        return (
            select(column, *columns)
            .select_from(Elevator)
            .outerjoin(Unit, Unit.id == Elevator.maintenance_unit_id)
        )
    if key == "age_band":
        return select(_age_band(today), *columns).select_from(Elevator)
    if key in ("district", "street", "place_type"):
        return select(getattr(Elevator, key), *columns).select_from(Elevator)
    raise InvalidInput(FieldError("by", f"cannot group elevators by '{key}'"))


def _in_district(stmt: _Sel, district: str) -> _Sel:
    """``stmt`` narrowed to one district's elevators ("": no narrowing): the city's figures of an area."""
    return stmt.where(Elevator.district == district) if district else stmt


def in_service_by(
    session: Session, actor: Actor, key: str, today: date, district: str = ""
) -> dict[str, tuple[int, int]]:
    """Elevators in use in the actor's scope (of ``district`` only, when given) per ``key`` (one of
    ``GROUP_KEYS``), in one GROUP BY: key -> (elevators, with an IoT terminal on file). The KPI
    denominators."""
    stmt = _group_select(
        key,
        today,
        func.count(Elevator.id),
        func.sum(case((Elevator.iot_terminal_id != "", 1), else_=0)),
    ).where(Elevator.status == ElevatorStatus.IN_USE.value)
    stmt = _in_district(_scoped(stmt, actor), district).group_by(literal_column("1"))
    return {str(k): (int(n), int(t or 0)) for k, n, t in session.execute(stmt)}


def in_service_total(session: Session, actor: Actor, district: str = "") -> tuple[int, int]:
    """Elevators in use in the actor's scope and those with an IoT terminal on file (no grouping: a
    fraction of :func:`in_service_by`'s time on a big city)."""
    stmt = select(
        func.count(Elevator.id), func.sum(case((Elevator.iot_terminal_id != "", 1), else_=0))
    ).where(Elevator.status == ElevatorStatus.IN_USE.value)
    n, t = session.execute(_in_district(_scoped(stmt, actor), district)).one()
    return int(n or 0), int(t or 0)


def sees_every_elevator(actor: Actor) -> bool:
    """True when the actor's scope is the whole registry (the city's figures then need no scope lookup)."""
    return actor.role in READ_ALL


def group_key_subquery(actor: Actor, key: str, today: date, district: str = "") -> Subquery:
    """Every elevator of the actor's scope, whatever its status, with its ``key`` (as :func:`in_service_by`
    groups it): a subquery of columns ``key`` and ``code`` for the city's figures to join their events to,
    so that events are counted per group in the database."""
    stmt = _group_select(key, today, Elevator.registration_code.label("code"))
    first, *rest = stmt.selected_columns
    stmt = _scoped(stmt.with_only_columns(first.label("key"), *rest), actor)
    return _in_district(stmt, district).subquery("group_keys")


#: Above this many codes :func:`group_keys_of` reads the scope's elevators in one scan instead of looking
#: the codes up by batches of IN (..): on 300,000 elevators, 100,000 codes took 60 queries and 4x longer.
GROUP_KEYS_SCAN_FROM = 20_000


def group_keys_of(
    session: Session,
    actor: Actor,
    key: str,
    codes: Collection[str],
    today: date,
    batch: int = 5000,
    district: str = "",
) -> dict[str, str]:
    """registration code -> its ``key`` (as :func:`in_service_by` groups it) for those of ``codes`` in the
    actor's scope, whatever their status (an incident of an elevator scrapped since still counts)."""
    if len(codes) >= GROUP_KEYS_SCAN_FROM:
        wanted_set = codes if isinstance(codes, set | frozenset | dict) else set(codes)
        stmt = _in_district(_scoped(_group_select(key, today, Elevator.registration_code), actor), district)
        return {str(code): str(k) for k, code in session.execute(stmt) if code in wanted_set}
    wanted = sorted(set(codes))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), batch):
        stmt = _group_select(key, today, Elevator.registration_code).where(
            Elevator.registration_code.in_(wanted[i : i + batch])
        )
        out.update(
            {str(code): str(k) for k, code in session.execute(_in_district(_scoped(stmt, actor), district))}
        )
    return out


def _in_use_by_scan() -> ColumnElement[bool]:
    """In use, as a condition no index serves (the gap lists): it keeps nearly every row of a city, which
    a scan of the table reads several times faster than an index lookup per row (SQLite takes any index
    on the column: 350 ms through one, 100 ms by a scan on 300,000). The coverage counts read the
    coverage index instead, which holds every column they need."""
    return func.coalesce(Elevator.status, "") == ElevatorStatus.IN_USE.value


@dataclass(frozen=True)
class CoverageCounts:
    """Elevators in use in a scope, counted once for every coverage figure (docs/ANALYTICS.md)."""

    elevators: int
    monitored: int  # with an IoT terminal on file
    public: int  # in public places (the caller names the place types)
    public_monitored: int
    public_located: int  # public, with both coordinates
    old_residential: int  # residential, in use 15 whole years or more
    old_residential_monitored: int
    signal: int  # in-car mobile signal: yes
    no_signal: int  # no
    public_signal: int


def coverage_counts(
    session: Session, actor: Actor, today: date, public_place_types: Collection[str], old_years: int = 15
) -> CoverageCounts:
    """Every coverage count of the elevators in use in the actor's scope, from one SELECT of sums per
    place type (the order of the coverage index, which leads with it: no sort, and no place-type test per
    row and sum), added up here."""
    start = func.coalesce(Elevator.commissioning_date, Elevator.installation_date)
    monitored = Elevator.iot_terminal_id != ""
    located = Elevator.latitude.is_not(None) & Elevator.longitude.is_not(None)
    old = start <= _anniversary_before(today, old_years)

    def n(cond: ColumnElement[bool]) -> Any:
        return func.sum(case((cond, 1), else_=0))

    stmt = (
        select(
            Elevator.place_type,
            func.count(),
            n(monitored),
            n(located),
            n(old),
            n(old & monitored),
            n(Elevator.mobile_signal.is_(True)),
            n(Elevator.mobile_signal.is_(False)),
        )
        .where(Elevator.status == ElevatorStatus.IN_USE.value)
        .group_by(Elevator.place_type)
    )
    counts = dict.fromkeys(CoverageCounts.__dataclass_fields__, 0)
    for place, *sums in session.execute(_scoped(stmt, actor)):
        total, mon, loc, aged, aged_mon, signal, no_signal = (int(v or 0) for v in sums)
        counts["elevators"] += total
        counts["monitored"] += mon
        counts["signal"] += signal
        counts["no_signal"] += no_signal
        if place in public_place_types:
            counts["public"] += total
            counts["public_monitored"] += mon
            counts["public_located"] += loc
            counts["public_signal"] += signal
        if place == PlaceType.RESIDENTIAL.value:
            counts["old_residential"] += aged
            counts["old_residential_monitored"] += aged_mon
    return CoverageCounts(**counts)


def public_codes_select(actor: Actor, public_place_types: Collection[str]) -> Select[Any]:
    """SELECT the codes of the elevators in use in public places in the actor's scope: for another domain
    to count its rows of them in the database (``insurance.service.insured_count``)."""
    stmt = select(Elevator.registration_code).where(
        Elevator.status == ElevatorStatus.IN_USE.value, Elevator.place_type.in_(sorted(public_place_types))
    )
    return _scoped(stmt, actor)


def public_codes_in_service(session: Session, actor: Actor, public_place_types: Collection[str]) -> set[str]:
    """The codes of the elevators in use in public places in the actor's scope (one column, one query)."""
    return set(session.scalars(public_codes_select(actor, public_place_types)))


@dataclass(frozen=True)
class CoverageGap:
    """An elevator in use that lacks what a coverage figure counts."""

    registration_code: str
    district: str
    street: str
    address: str
    place_type: str
    maintenance_unit: str  # its name, "" when none
    mobile_signal: bool | None


#: Gap kinds: which elevators in use lack the in-car mobile signal (no, or not checked), an IoT terminal,
#: or (in public places) coordinates.
GAP_KINDS = ("mobile_signal", "monitoring", "geolocation")


def coverage_gaps(
    session: Session,
    actor: Actor,
    kind: str,
    public_place_types: Collection[str],
    page: int = 1,
    size: int = 50,
) -> tuple[list[CoverageGap], int]:
    """The elevators in use in the actor's scope that lack ``kind`` (``GAP_KINDS``), by district, street and
    code, one page at a time, with how many there are."""
    if kind == "mobile_signal":
        cond: ColumnElement[bool] = or_(Elevator.mobile_signal.is_(None), Elevator.mobile_signal.is_(False))
    elif kind == "monitoring":
        cond = Elevator.iot_terminal_id == ""
    elif kind == "geolocation":
        cond = Elevator.place_type.in_(sorted(public_place_types)) & or_(
            Elevator.latitude.is_(None), Elevator.longitude.is_(None)
        )
    else:
        raise InvalidInput(FieldError("kind", f"expected one of {', '.join(GAP_KINDS)}, got '{kind}'"))
    base = _scoped(select(Elevator.id).where(_in_use_by_scan(), cond), actor)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    if (page - 1) * size >= total:  # nothing to show: no scan for a page (it reads the whole city in order)
        return [], total
    stmt = _scoped(
        select(
            Elevator.registration_code,
            Elevator.district,
            Elevator.street,
            Elevator.address,
            Elevator.place_type,
            func.coalesce(Unit.name, ""),
            Elevator.mobile_signal,
        )
        .outerjoin(Unit, Unit.id == Elevator.maintenance_unit_id)
        .where(Elevator.status == ElevatorStatus.IN_USE.value, cond),
        actor,
    )
    stmt = stmt.order_by(Elevator.district, Elevator.street, Elevator.registration_code)
    rows = session.execute(stmt.offset((page - 1) * size).limit(size))
    return [CoverageGap(*row) for row in rows], total
