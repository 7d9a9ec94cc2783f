"""The registry's reads by area (区域) for the city dashboard: drill-down city -> district -> street -> use
unit -> elevator, each level's children with their elevator counts, the map's points or its grid of
counted squares, and the bounds of an area. Every figure is aggregated in SQL (GROUP BY, MIN/MAX), so
a 300,000-elevator city answers in one query per figure; only the map's points are rows, where the view
holds few enough.

Scope: the centre (admin, regulator, rescue operator, inspector) reads the whole registry; unit staff
their unit's elevators (maintained or used, as ``registry.queries``); the page decides which roles may ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Integer, and_, case, false, func, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from liftwatch.accounts.actor import Actor, Role
from liftwatch.registry.domain import ElevatorStatus
from liftwatch.registry.geo import Box
from liftwatch.registry.models import Elevator, Unit
from liftwatch.registry.queries import READ_ALL

Level = Literal["city", "district", "street", "unit", "elevator"]
#: What each level's children are.
CHILD_LEVEL: dict[str, Level] = {
    "city": "district",
    "district": "street",
    "street": "unit",
    "unit": "elevator",
}


@dataclass(frozen=True)
class Area:
    """A drill-down position: a district, a street in it, a use unit (its code) on that street, an
    elevator; empty parts are not chosen. The level is the deepest part chosen."""

    district: str = ""
    street: str = ""
    unit: str = ""
    elevator: str = ""

    @property
    def level(self) -> Level:
        if self.elevator:
            return "elevator"
        if self.unit:
            return "unit"
        if self.street:
            return "street"
        if self.district:
            return "district"
        return "city"


def scope_condition(actor: Actor) -> ColumnElement[bool]:
    """The elevators the actor reads: every one for the centre, its unit's for unit staff, none else."""
    if actor.role in READ_ALL:
        return true()
    if actor.role is Role.MAINTENANCE and actor.unit_id is not None:
        return Elevator.maintenance_unit_id == actor.unit_id
    if actor.role is Role.USE_UNIT and actor.unit_id is not None:
        return Elevator.use_unit_id == actor.unit_id
    return false()


_UseUnit = Unit.__table__.alias("use_unit")


def _within(stmt: Any, actor: Actor, area: Area) -> Any:
    """``stmt`` (over elevators joined to their use unit) limited to the actor's scope and the area."""
    conds: list[ColumnElement[bool]] = [scope_condition(actor)]
    if area.district:
        conds.append(Elevator.district == area.district)
    if area.street:
        conds.append(Elevator.street == area.street)
    if area.unit:
        conds.append(_UseUnit.c.code == area.unit)
    if area.elevator:
        conds.append(Elevator.registration_code == area.elevator)
    return stmt.where(and_(*conds))


def _from(stmt: Any, area: Area | None = None, level: Level | None = None) -> Any:
    """``stmt`` over the elevators, joined to their use unit when it is read: always, unless ``area`` is
    given and neither it nor the ``level`` grouped by names a use unit (the join costs a city-wide count
    a lookup per elevator: 450 ms instead of 110 ms on 300,000)."""
    if area is not None and not area.unit and level != "unit":
        return stmt.select_from(Elevator)
    return stmt.select_from(Elevator).outerjoin(_UseUnit, _UseUnit.c.id == Elevator.use_unit_id)


_IN_USE = case((Elevator.status == ElevatorStatus.IN_USE.value, 1), else_=0)


@dataclass(frozen=True)
class AreaCount:
    """One child of an area: its key (a district or street name, a unit or registration code), what the
    page shows, and its elevators (all registered, and in use)."""

    key: str
    name: str
    elevators: int
    in_service: int


def _child_key(level: Level) -> tuple[Any, Any]:
    """A child level's group key and the name the page shows for it."""
    if level in ("district", "street"):
        column = getattr(Elevator, level)
        return column, column
    if level == "unit":
        return func.coalesce(_UseUnit.c.code, ""), func.coalesce(func.max(_UseUnit.c.name), "")
    return Elevator.registration_code, func.max(Elevator.address)


@dataclass(frozen=True)
class Totals:
    """An area's elevators: registered, in use, and in use with coordinates."""

    elevators: int
    in_service: int
    located: int


def totals(session: Session, actor: Actor, area: Area) -> Totals:
    located = case((and_(Elevator.latitude.is_not(None), Elevator.longitude.is_not(None)), 1), else_=0)
    stmt = _within(_from(select(func.count(), func.sum(_IN_USE), func.sum(located)), area), actor, area)
    total, used, with_coords = session.execute(stmt).one()
    return Totals(int(total or 0), int(used or 0), int(with_coords or 0))


def bounds(session: Session, actor: Actor, area: Area) -> tuple[float, float, float, float] | None:
    """South, west, north, east of the area's elevators with coordinates (None: none has any): the map
    opens on the user's own area."""
    lat, lon = Elevator.latitude, Elevator.longitude
    stmt = _within(
        _from(select(func.min(lat), func.min(lon), func.max(lat), func.max(lon)), area), actor, area
    )
    stmt = stmt.where(lat.is_not(None), lon.is_not(None))
    row = session.execute(stmt).one()
    if row[0] is None:
        return None
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


@dataclass(frozen=True)
class Overview:
    """An area's totals (:func:`totals`), its children in the actor's scope with their elevator counts, by
    key, and its bounds (:func:`bounds`), from one GROUP BY of the children (the dashboard's page reads
    all three)."""

    totals: Totals
    children: list[AreaCount]
    bounds: tuple[float, float, float, float] | None


def overview(session: Session, actor: Actor, area: Area) -> Overview:
    """:class:`Overview` of ``area`` in the actor's scope: one query where the area has children (on a
    300,000-elevator city a third of the three queries' time), the three queries at the elevator level."""
    level = CHILD_LEVEL.get(area.level)
    if level is None:
        return Overview(totals(session, actor, area), [], bounds(session, actor, area))
    key, name = _child_key(level)
    lat, lon = Elevator.latitude, Elevator.longitude
    has = and_(lat.is_not(None), lon.is_not(None))
    located = case((has, 1), else_=0)
    stmt = _from(
        select(
            key,
            name,
            func.count(),
            func.sum(_IN_USE),
            func.sum(located),
            func.min(case((has, lat))),
            func.min(case((has, lon))),
            func.max(case((has, lat))),
            func.max(case((has, lon))),
        ),
        area,
        level,
    )
    rows = session.execute(_within(stmt, actor, area).group_by(key).order_by(key)).all()
    kids = [AreaCount(str(r[0] or ""), str(r[1] or ""), int(r[2]), int(r[3] or 0)) for r in rows]
    boxes = [r[5:9] for r in rows if r[5] is not None]
    box = (
        (
            float(min(b[0] for b in boxes)),
            float(min(b[1] for b in boxes)),
            float(max(b[2] for b in boxes)),
            float(max(b[3] for b in boxes)),
        )
        if boxes
        else None
    )
    total = Totals(
        sum(k.elevators for k in kids), sum(k.in_service for k in kids), sum(int(r[4] or 0) for r in rows)
    )
    return Overview(total, kids, box)


@dataclass(frozen=True)
class Point:
    """An elevator on the map."""

    registration_code: str
    lat: float
    lon: float
    status: str
    district: str
    street: str
    address: str
    unit: str  # the use unit's name, "" when none


def _in_view(stmt: Any, view: Box | None) -> Any:
    """``stmt`` limited to the elevators with coordinates, inside ``view`` when given."""
    lat, lon = Elevator.latitude, Elevator.longitude
    stmt = stmt.where(lat.is_not(None), lon.is_not(None))
    if view is not None:
        stmt = stmt.where(lat >= view.south, lat <= view.north, lon >= view.west, lon <= view.east)
    return stmt


def points(
    session: Session,
    actor: Actor,
    area: Area,
    limit: int,
    view: Box | None = None,
    only: Sequence[str] | None = None,
) -> list[Point]:
    """The area's elevators with coordinates (inside ``view``, among ``only`` when given), at most
    ``limit`` of them by id: the caller asks for points only where it counted no more than ``limit``
    (:func:`cells`), so the limit is a guard against a registry growing between the two reads."""
    if only is not None and not only:
        return []
    stmt = _in_view(
        _within(
            _from(
                select(
                    Elevator.registration_code,
                    Elevator.latitude,
                    Elevator.longitude,
                    Elevator.status,
                    Elevator.district,
                    Elevator.street,
                    Elevator.address,
                    func.coalesce(_UseUnit.c.name, ""),
                )
            ),
            actor,
            area,
        ),
        view,
    )
    if only is not None:
        stmt = stmt.where(Elevator.registration_code.in_(list(only)))
    rows = session.execute(stmt.order_by(Elevator.id).limit(limit))
    return [Point(c, float(la), float(lo), s, d, st, a, u) for c, la, lo, s, d, st, a, u in rows]


class _Floor(FunctionElement[int]):
    """The integer part of a non-negative number, in every database (SQLite has no floor() before 3.35,
    PostgreSQL's CAST rounds)."""

    type = Integer()
    inherit_cache = True


@compiles(_Floor)
def _floor_default(element: _Floor, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(_Floor, "sqlite")
def _floor_sqlite(element: _Floor, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@dataclass(frozen=True)
class Cell:
    """A square of the map's grid over a view with the area's elevators in it counted: where they are
    (their mean position, where the map puts the count, and their bounds, where a click zooms), how many,
    and how many in use. Row and column count from the view's south-west corner (an elevator on the
    view's north or east edge is in a row or column of its own, one past the last)."""

    row: int
    column: int
    lat: float
    lon: float
    elevators: int
    in_service: int
    bounds: tuple[float, float, float, float]  # south, west, north, east of its elevators


#: At most this many rows and columns in a grid.
GRID_MAX = 64


def cells(session: Session, actor: Actor, area: Area, view: Box, rows: int, columns: int) -> list[Cell]:
    """The area's elevators inside ``view`` counted per square of a ``rows`` x ``columns`` grid over it
    (each at most :data:`GRID_MAX`), in one GROUP BY: a city of 300,000 elevators is a few hundred
    squares on the map rather than 300,000 points, and their counts add up to the elevators in view."""
    rows, columns = max(1, min(rows, GRID_MAX)), max(1, min(columns, GRID_MAX))
    lat, lon = Elevator.latitude, Elevator.longitude
    height = max(view.north - view.south, 1e-9) / rows
    width = max(view.east - view.west, 1e-9) / columns
    row = _Floor((lat - view.south) / height)
    column = _Floor((lon - view.west) / width)
    stmt = _from(
        select(
            row,
            column,
            func.count(),
            func.sum(_IN_USE),
            func.avg(lat),
            func.avg(lon),
            func.min(lat),
            func.min(lon),
            func.max(lat),
            func.max(lon),
        ),
        area,
    )
    found = session.execute(_in_view(_within(stmt, actor, area), view).group_by(row, column))
    return [
        Cell(
            int(r),
            int(c),
            float(la),
            float(lo),
            int(n),
            int(used or 0),
            (float(s), float(w), float(nn), float(e)),
        )
        for r, c, n, used, la, lo, s, w, nn, e in found
    ]


def codes_in(session: Session, actor: Actor, area: Area) -> dict[str, str]:
    """The area's registration codes, each with its use unit's code ("" when none): for areas below the
    district level or unit staff's own elevators (thousands, not a city)."""
    stmt = _within(_from(select(Elevator.registration_code, func.coalesce(_UseUnit.c.code, ""))), actor, area)
    return {str(code): str(unit) for code, unit in session.execute(stmt)}


def unit_name(session: Session, code: str) -> str:
    """A use unit's name by code ("" when unknown), for the breadcrumb."""
    name = session.scalar(select(Unit.name).where(Unit.code == code))
    return str(name) if name else ""
