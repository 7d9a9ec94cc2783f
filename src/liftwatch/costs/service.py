"""Cost disclosure's only writer and its scoped reads: each use unit's ledger (费用台账) of maintenance fees,
repairs, advertising income in the cars and other income and expenses, and its half-yearly publication
(费用公开, DOMAIN.md section 1: residential maintenance costs on a separate account, published every 6
months).

Scope: a use unit's staff read and book their own unit's ledger only (another unit's: 404); admins read and
book any ledger; regulators read every ledger, the overview and the overdue list, and book nothing (403);
every other role 403. The public reads only the publications (``public_search``): no entry, no note, no
username.

Rules:
- An entry is booked once per ``(use unit, source_ref)``: a replay returns the first entry unchanged.
- A booked entry is never edited nor deleted (the tables refuse it); a correction is a reversing entry with
  the negated amount, booked in the reversed entry's period or, once that was published, the next
  unpublished one. Any entry whose half-year is published goes to the next unpublished half-year.
- Contract fees are booked per half-year by ``book_contracts``: each contract's share of the half-year
  (``domain.contract_share``), on the elevator, dated its first day covered.
- Only residential elevators' entries (and unit-wide entries) are published; other place types may keep a
  ledger that stays internal.
- A publication is a frozen snapshot (``domain.summarise``) that never changes; publishing again returns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.core.types import DB_INT_MAX
from liftwatch.costs import domain
from liftwatch.costs.domain import AdvertisingUse, EntryKind, HalfYear
from liftwatch.costs.models import CostEntry, CostPublication
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.domain import PlaceType, UnitType

# The records this service hands out (callers name them from here; the tables' module is the domain's own).
StoredEntry: TypeAlias = CostEntry
StoredPublication: TypeAlias = CostPublication

READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR})
BOOKERS = frozenset({Role.ADMIN, Role.USE_UNIT})
RESIDENTIAL = PlaceType.RESIDENTIAL.value
RECEIPT_MAX = 100
NOTE_MAX = 500
#: Residential elevators read per page when the overview gathers the use units (a desk screen).
_PAGE = 5000


@dataclass(frozen=True)
class Ledger:
    """The use unit whose ledger is read or booked."""

    code: str
    name: str


@dataclass(frozen=True)
class NewEntry:
    """An entry as typed: a positive amount in fen, the kind giving its sign. Exactly one source: a work
    order (repairs only) or an external receipt number."""

    kind: EntryKind
    amount_fen: int
    on: date
    elevator: str | None = None  # registration or rescue code; None: unit-wide
    work_order_id: int | None = None
    receipt: str | None = None
    note: str = ""


@dataclass
class Outcome:
    entry: CostEntry
    created: bool


@dataclass
class Booked:
    period: str
    created: list[CostEntry] = field(default_factory=list)
    existing: int = 0


@dataclass
class Published:
    publication: CostPublication
    created: bool


def city_today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


# ---------------------------------------------------------------- scope


def ledger(session: Session, actor: Actor, unit_code: str, *, write: bool = False) -> Ledger:
    """The use unit ``unit_code`` if the actor may read (or, with ``write``, book) its ledger: 404 when it is
    not a use unit or outside the actor's scope, 403 for a role that reads or books none."""
    if actor.role is Role.USE_UNIT:
        if unit_code != registry_queries.actor_unit_code(session, actor):
            raise NotFound(f"no ledger of use unit '{unit_code[:40]}'")
    elif actor.role not in READ_ALL:
        raise Forbidden(f"role '{actor.role.value}' has no cost ledger")
    found = registry_queries.unit_by_code(session, unit_code) if len(unit_code) <= 32 else None
    if found is None or found.unit_type != UnitType.USE_UNIT.value:
        raise NotFound(f"no ledger of use unit '{unit_code[:40]}'")
    if write and actor.role not in BOOKERS:
        raise Forbidden(f"role '{actor.role.value}' reads cost ledgers, books none")
    return Ledger(found.code, found.name)


def own_ledger(session: Session, actor: Actor) -> Ledger | None:
    """A use unit's staff's own ledger (None for other roles or a user without a unit)."""
    if actor.role is not Role.USE_UNIT:
        return None
    code = registry_queries.actor_unit_code(session, actor)
    return ledger(session, actor, code) if code else None


def _require_reader_of_all(actor: Actor) -> None:
    if actor.role not in READ_ALL:
        raise Forbidden(f"role '{actor.role.value}' may not read every use unit's costs")


# ---------------------------------------------------------------- booking


def _published(session: Session, unit: str) -> set[str]:
    return set(session.scalars(select(CostPublication.period).where(CostPublication.use_unit == unit)))


def open_period(session: Session, unit: str, period: HalfYear) -> HalfYear:
    """``period``, or the first half-year after it that ``unit`` has not published."""
    done = _published(session, unit)
    while str(period) in done:
        period = period.next()
    return period


def _by_ref(session: Session, unit: str, ref: str) -> CostEntry | None:
    stmt = select(CostEntry).where(CostEntry.use_unit == unit, CostEntry.source_ref == ref)
    found: CostEntry | None = session.scalars(stmt).one_or_none()
    return found


def _insert(session: Session, row: CostEntry) -> Outcome:
    """Book ``row`` unless its source reference is booked already (then the first one, unchanged)."""
    existing = _by_ref(session, row.use_unit, row.source_ref)
    if existing is not None:
        return Outcome(existing, False)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # booked meanwhile by another request
        existing = _by_ref(session, row.use_unit, row.source_ref)
        if existing is None:
            raise
        return Outcome(existing, False)
    return Outcome(row, True)


def _unit_elevator(
    session: Session, unit: Ledger, code: str, field_name: str
) -> registry_queries.StoredElevator:
    try:
        elevator = registry_queries.get_public_elevator(session, code)
    except NotFound:
        raise InvalidInput(FieldError(field_name, f"no elevator with code '{code[:40]}'")) from None
    if elevator.use_unit is None or elevator.use_unit.code != unit.code:
        raise InvalidInput(FieldError(field_name, f"elevator '{code[:40]}' is not used by {unit.code}"))
    return elevator


def _check(data: NewEntry, today: date) -> list[FieldError]:
    errors = []
    if not 0 < data.amount_fen <= DB_INT_MAX:
        errors.append(FieldError("amount_fen", f"an amount is more than 0 and at most {DB_INT_MAX} fen"))
    if data.on > today:
        errors.append(FieldError("on", f"{data.on} is after today"))
    if data.on.year < 2000:
        errors.append(FieldError("on", "a date from 2000 on"))
    receipt = (data.receipt or "").strip()
    if (data.work_order_id is None) == (not receipt):
        errors.append(FieldError("source_ref", "give either a work order or a receipt number, not both"))
    if data.work_order_id is not None and data.kind is not EntryKind.REPAIR:
        errors.append(FieldError("work_order_id", "a work order is the source of a repair only"))
    if len(receipt) > RECEIPT_MAX:
        errors.append(FieldError("receipt", f"at most {RECEIPT_MAX} characters"))
    if len(data.note) > NOTE_MAX:
        errors.append(FieldError("note", f"at most {NOTE_MAX} characters"))
    return errors


def record(
    session: Session, actor: Actor, unit_code: str, data: NewEntry, clock: Clock, settings: Settings
) -> Outcome:
    """Book one entry typed by the use unit (or an admin): 422 naming the field when it is wrong; the same
    work order or receipt again returns the first entry (``created`` False)."""
    unit = ledger(session, actor, unit_code, write=True)
    errors = _check(data, city_today(clock, settings))
    if errors:
        raise InvalidInput(errors)
    code = data.elevator.strip() if data.elevator else None
    elevator = _unit_elevator(session, unit, code, "elevator") if code else None
    if data.work_order_id is not None:
        ref = f"wo:{data.work_order_id}"
        order = maintenance_queries.work_order_ref(session, data.work_order_id)
        if order is None:
            raise InvalidInput(FieldError("work_order_id", f"no work order {data.work_order_id}"))
        on_order = _unit_elevator(session, unit, order.registration_code, "work_order_id")
        if elevator is not None and elevator.registration_code != on_order.registration_code:
            raise InvalidInput(FieldError("elevator", "the work order is on another elevator"))
        elevator = on_order
    else:
        ref = f"rc:{(data.receipt or '').strip()}"
    row = CostEntry(
        use_unit=unit.code,
        kind=data.kind.value,
        registration_code=elevator.registration_code if elevator else None,
        residential=elevator.place_type == RESIDENTIAL if elevator else True,
        amount_fen=domain.signed(data.kind, data.amount_fen),
        on=data.on,
        period=str(open_period(session, unit.code, HalfYear.of(data.on))),
        source_ref=ref,
        note=data.note.strip(),
        recorded_by=actor.username,
        recorded_at=clock.now(),
    )
    return _insert(session, row)


def reverse(
    session: Session,
    actor: Actor,
    unit_code: str,
    entry_id: int,
    note: str,
    clock: Clock,
    settings: Settings,
) -> Outcome:
    """Correct entry ``entry_id`` by a reversing entry (the negated amount, dated today), in the entry's
    period or, once that is published, the next unpublished one. Reversing it again returns the reversal;
    a reversal is not reversed (409: book the right entry anew)."""
    unit = ledger(session, actor, unit_code, write=True)
    if not note.strip() or len(note) > NOTE_MAX:
        raise InvalidInput(FieldError("note", f"say why, in 1 to {NOTE_MAX} characters"))
    original = session.get(CostEntry, entry_id)
    if original is None or original.use_unit != unit.code:
        raise NotFound(f"no entry {entry_id} in the ledger of {unit.code}")
    if original.reverses_id is not None:
        raise Conflict(f"entry {entry_id} is a reversal: book the right entry anew")
    today = city_today(clock, settings)
    row = CostEntry(
        use_unit=unit.code,
        kind=original.kind,
        registration_code=original.registration_code,
        residential=original.residential,
        amount_fen=-original.amount_fen,
        on=max(today, original.on),
        period=str(open_period(session, unit.code, HalfYear.parse(original.period))),
        source_ref=f"rev:{original.id}",
        note=note.strip(),
        reverses_id=original.id,
        recorded_by=actor.username,
        recorded_at=clock.now(),
    )
    return _insert(session, row)


def book_contracts(
    session: Session,
    actor: Actor,
    unit_code: str | None,
    period: HalfYear,
    clock: Clock,
    settings: Settings,
) -> Booked:
    """Book the half-year's share of every maintenance contract of the unit's elevators (all use units'
    when ``unit_code`` is None: admins only, the command line), once per contract and half-year: a replay
    books nothing new. A half-year that has not begun is refused (422, ``period``)."""
    if unit_code is None:
        if actor.role is not Role.ADMIN:
            raise Forbidden("only an admin books every use unit's contracts at once")
    else:
        ledger(session, actor, unit_code, write=True)
    if period.first_day > city_today(clock, settings):
        raise InvalidInput(FieldError("period", f"{period} has not begun"))
    codes = (
        None
        if unit_code is None
        else {
            e
            for e in session.scalars(registry_queries.code_subquery(use_unit_id=_unit_id(session, unit_code)))
        }
    )
    contracts = maintenance_queries.contracts_overlapping(session, period.first_day, period.last_day, codes)
    elevators = {
        e.registration_code: e
        for e in registry_queries.elevators_by_codes(session, {c.registration_code for c in contracts})
    }
    out = Booked(str(period))
    periods: dict[str, str] = {}
    for contract in contracts:
        elevator = elevators.get(contract.registration_code)
        if elevator is None or elevator.use_unit is None or elevator.use_unit.unit_type != UnitType.USE_UNIT:
            continue
        share = domain.contract_share(contract.price_fen, contract.start_date, contract.end_date, period)
        if share <= 0:
            continue
        unit = elevator.use_unit.code
        if unit not in periods:
            periods[unit] = str(open_period(session, unit, period))
        done = _insert(
            session,
            CostEntry(
                use_unit=unit,
                kind=EntryKind.MAINTENANCE_FEE.value,
                registration_code=contract.registration_code,
                residential=elevator.place_type == RESIDENTIAL,
                amount_fen=-share,
                on=max(contract.start_date, period.first_day),
                period=periods[unit],
                source_ref=f"ct:{contract.id}:{period}",
                note=f"{contract.unit_code} #{contract.id} {contract.start_date}~{contract.end_date}",
                recorded_by=actor.username,
                recorded_at=clock.now(),
            ),
        )
        if done.created:
            out.created.append(done.entry)
        else:
            out.existing += 1
    return out


def _unit_id(session: Session, unit_code: str) -> int:
    found = registry_queries.unit_by_code(session, unit_code)
    if found is None:
        raise NotFound(f"no use unit '{unit_code[:40]}'")
    return found.id


# ---------------------------------------------------------------- reads of one ledger


def list_entries(
    session: Session, actor: Actor, unit_code: str, period: HalfYear | None = None, limit: int = 2000
) -> list[CostEntry]:
    """The unit's entries (of one half-year when given), newest first."""
    unit = ledger(session, actor, unit_code)
    stmt = select(CostEntry).where(CostEntry.use_unit == unit.code)
    if period is not None:
        stmt = stmt.where(CostEntry.period == str(period))
    return list(session.scalars(stmt.order_by(CostEntry.id.desc()).limit(limit)))


def reversed_ids(session: Session, entries: Sequence[CostEntry]) -> set[int]:
    """Which of ``entries`` have been reversed."""
    ids = [e.id for e in entries]
    if not ids:
        return set()
    stmt = select(CostEntry.reverses_id).where(CostEntry.reverses_id.in_(ids))
    return {int(i) for i in session.scalars(stmt) if i is not None}


def _places(session: Session, unit: str) -> list[domain.Place]:
    codes = session.scalars(registry_queries.code_subquery(use_unit_id=_unit_id(session, unit)))
    return [
        domain.Place(
            e.registration_code, e.rescue_code, " ".join(x for x in (e.district, e.address, e.building) if x)
        )
        for e in registry_queries.elevators_by_codes(session, codes)
        if e.place_type == RESIDENTIAL
    ]


def _summary(session: Session, unit: str, period: HalfYear) -> tuple[domain.Summary, int]:
    """The half-year's summary of the residential and unit-wide entries, and how many entries of other
    place types the ledger holds in it (kept, not published)."""
    rows = session.scalars(
        select(CostEntry).where(CostEntry.use_unit == unit, CostEntry.period == str(period))
    ).all()
    lines = [domain.Line(EntryKind(r.kind), r.amount_fen, r.registration_code) for r in rows if r.residential]
    return domain.summarise(lines, _places(session, unit)), sum(1 for r in rows if not r.residential)


@dataclass(frozen=True)
class LedgerSummary:
    period: str
    summary: domain.Summary
    not_published_entries: int  # entries of non-residential elevators (kept, never published)
    publication: CostPublication | None
    residential: int  # residential elevators of the unit


def summary(session: Session, actor: Actor, unit_code: str, period: HalfYear) -> LedgerSummary:
    unit = ledger(session, actor, unit_code)
    result, other = _summary(session, unit.code, period)
    return LedgerSummary(
        str(period), result, other, _publication(session, unit.code, period), len(result.elevators)
    )


def _publication(session: Session, unit: str, period: HalfYear) -> CostPublication | None:
    stmt = select(CostPublication).where(
        CostPublication.use_unit == unit, CostPublication.period == str(period)
    )
    found: CostPublication | None = session.scalars(stmt).one_or_none()
    return found


def publications(session: Session, actor: Actor, unit_code: str) -> list[CostPublication]:
    unit = ledger(session, actor, unit_code)
    stmt = select(CostPublication).where(CostPublication.use_unit == unit.code)
    return list(session.scalars(stmt.order_by(CostPublication.period.desc())))


# ---------------------------------------------------------------- publication


def publish(
    session: Session,
    actor: Actor,
    unit_code: str,
    period: HalfYear,
    advertising_use: AdvertisingUse,
    clock: Clock,
    settings: Settings,
) -> Published:
    """Publish a half-year that has ended: its frozen snapshot. Publishing it again returns the first
    (``created`` False). A unit without a residential elevator has nothing to publish (409)."""
    unit = ledger(session, actor, unit_code, write=True)
    existing = _publication(session, unit.code, period)
    if existing is not None:
        return Published(existing, False)
    if period.last_day >= city_today(clock, settings):
        raise Conflict(f"{period} has not ended: it is published after {period.last_day}")
    result, _ = _summary(session, unit.code, period)
    if not result.elevators:
        raise Conflict(f"{unit.code} uses no residential elevator: its costs are not published")
    snapshot: dict[str, Any] = {
        "period": str(period),
        "unit_name": unit.name,
        "advertising_use": advertising_use.value,
        **result.as_json(),
    }
    row = CostPublication(
        use_unit=unit.code,
        unit_name=unit.name,
        period=str(period),
        snapshot=snapshot,
        published_by=actor.username,
        published_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        again = _publication(session, unit.code, period)
        if again is None:
            raise
        return Published(again, False)
    return Published(row, True)


# ---------------------------------------------------------------- the regulator's overview


@dataclass
class OverviewRow:
    """A use unit with residential elevators and where its publication of the half-year stands."""

    unit_code: str
    unit_name: str
    districts: list[str]
    residential: int
    published_at: datetime | None = None
    overdue: bool = False


def overview(
    session: Session,
    actor: Actor,
    period: HalfYear,
    clock: Clock,
    settings: Settings,
    due_days: int,
    district: str | None = None,
) -> list[OverviewRow]:
    """Every use unit with residential elevators (in ``district`` when given): published or not, and
    overdue when the half-year ended more than ``due_days`` days ago unpublished. Regulators and admins."""
    _require_reader_of_all(actor)
    flt = registry_queries.ElevatorFilter(place_type=RESIDENTIAL, district=district or None)
    rows: dict[str, OverviewRow] = {}
    page = 1
    while True:
        found, total = registry_queries.list_elevators(session, actor, flt, clock, page=page, size=_PAGE)
        for e in found:
            if e.use_unit is None or e.use_unit.unit_type != UnitType.USE_UNIT.value:
                continue
            row = rows.setdefault(e.use_unit.code, OverviewRow(e.use_unit.code, e.use_unit.name, [], 0))
            row.residential += 1
            if e.district and e.district not in row.districts:
                row.districts.append(e.district)
        if page * _PAGE >= total or not found:
            break
        page += 1
    done = {
        p.use_unit: p.published_at
        for p in session.scalars(select(CostPublication).where(CostPublication.period == str(period)))
    }
    late = (city_today(clock, settings) - period.last_day).days > due_days
    for row in rows.values():
        row.published_at = done.get(row.unit_code)
        row.overdue = row.published_at is None and late
        row.districts.sort()
    return sorted(rows.values(), key=lambda r: (not r.overdue, r.published_at is not None, r.unit_name))


def overdue(
    session: Session, actor: Actor, clock: Clock, settings: Settings, due_days: int
) -> tuple[HalfYear | None, list[OverviewRow]]:
    """The latest half-year due (ended more than ``due_days`` days ago) and the use units that have not
    published it."""
    period = domain.last_due(city_today(clock, settings), due_days)
    _require_reader_of_all(actor)
    if period is None:
        return None, []
    return period, [r for r in overview(session, actor, period, clock, settings, due_days) if r.overdue]


# ---------------------------------------------------------------- public


@dataclass(frozen=True)
class PublicLedger:
    """A use unit's published half-years as the public sees them: the unit's name and the snapshots (no
    entry, no note, no username)."""

    unit_name: str
    periods: list[dict[str, Any]]
    matched_code: str = ""  # the elevator searched for, when the search was by a code


PUBLIC_LIMIT = 20


def public_search(session: Session, q: str) -> list[PublicLedger]:
    """The published half-years of the use units matching ``q``: an elevator's registration or rescue code
    (its use unit), or part of a use unit's name (as published). Empty ``q``: the latest publications."""
    q = q.strip()[:100]
    units: list[str] = []
    matched = ""
    if q:
        try:
            elevator = registry_queries.get_public_elevator(session, q)
        except NotFound:
            elevator = None
        if elevator is not None and elevator.use_unit is not None:
            units, matched = [elevator.use_unit.code], elevator.registration_code
        else:
            like = f"%{q}%"
            stmt = select(CostPublication.use_unit).where(
                or_(CostPublication.unit_name.ilike(like), CostPublication.use_unit == q)
            )
            units = sorted(set(session.scalars(stmt)))[:PUBLIC_LIMIT]
    else:
        stmt = select(CostPublication.use_unit).order_by(CostPublication.published_at.desc()).limit(200)
        units = list(dict.fromkeys(session.scalars(stmt)))[:PUBLIC_LIMIT]
    if not units:
        return []
    rows = session.scalars(
        select(CostPublication)
        .where(CostPublication.use_unit.in_(units))
        .order_by(CostPublication.use_unit, CostPublication.period.desc())
    ).all()
    grouped: dict[str, list[CostPublication]] = {}
    for r in rows:
        grouped.setdefault(r.use_unit, []).append(r)
    return [
        PublicLedger(
            unit_name=pubs[0].unit_name,
            periods=[_public_snapshot(p) for p in pubs],
            matched_code=matched,
        )
        for code in units
        if (pubs := grouped.get(code))
    ]


def _public_snapshot(p: CostPublication) -> dict[str, Any]:
    """The snapshot as published plus when; the fields are the summary's (no person)."""
    return {**p.snapshot, "published_at": p.published_at}
