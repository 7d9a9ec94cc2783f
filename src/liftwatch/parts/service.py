"""Main parts' and recalls' only writer and their scoped reads.

Scope: parts are part of the elevator file (一梯一档): whoever reads an elevator's file reads its parts
(``registry.queries.get_elevator``: another unit's elevator is 404). Admins record parts on any elevator,
maintenance and use units' staff on their own; regulators, inspectors and rescue operators read only.
Recalls (召回) are issued by admins and regulators; they and inspectors read every recall with every
affected elevator, maintenance and use units' staff every recall with their own elevators only; others 403.

Rules:
- An elevator has one current part of each kind its kind has (``domain.kinds_for``); a new one replaces the
  current one (``replace_part``): the old stays on the file with the day it came out and why.
- Wear is judged against the design life in years and in cycles; cycles come from the terminal's counters
  (trips, or door cycles for the door system; ``domain.cycles_used``).
- A recall (kind, manufacturer, model, serial range) reaches every current part that matches, now and when
  one is recorded later; each reached part gets one rectification work order in maintenance (source
  "recall", reference "<recall id>:<part id>", due at the end of the recall's day), idempotent. An elevator
  no work order can be opened for (no maintenance unit) is listed with the reason, never dropped.
- A recall's ``reference`` is its idempotency key: issuing it again returns the first one; the same
  reference with other terms is a conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeAlias

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    clean_text,
)
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderSource, WorkOrderState
from liftwatch.parts import domain
from liftwatch.parts.domain import Counter, Cycles, PartKind, Reading, Wear
from liftwatch.parts.models import Part, Recall, RecallItem
from liftwatch.parts.settings import PartSettings
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.telemetry import queries as telemetry_queries

StoredPart: TypeAlias = Part
StoredRecall: TypeAlias = Recall

WRITERS = frozenset({Role.ADMIN, Role.MAINTENANCE, Role.USE_UNIT})
ISSUERS = frozenset({Role.ADMIN, Role.REGULATOR})
RECALL_READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR})
RECALL_READ_OWN = frozenset({Role.MAINTENANCE, Role.USE_UNIT})
WEAR_READERS = RECALL_READ_ALL | RECALL_READ_OWN
YEARS_MAX = 100
CYCLES_MAX = 10**10
TEXT_MAX = 100
NOTE_MAX = 500
#: The most parts a wear list returns (a desk screen; narrow it by district or kind).
WEAR_LIMIT = 1000


@dataclass(frozen=True)
class NewPart:
    """A part as recorded: what it is, when it went in, its design life (at least one figure) and,
    when known, its counter (trips; door cycles for a door system) on that day."""

    kind: PartKind
    manufacturer: str
    model: str
    serial: str
    installed_on: date
    design_life_years: int | None = None
    design_life_cycles: int | None = None
    counter_at_install: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PartView:
    """A part with its wear as of today."""

    part: Part
    assessment: domain.Assessment
    cycles: Cycles | None

    @property
    def current(self) -> bool:
        return self.part.removed_on is None


@dataclass(frozen=True)
class Recorded:
    """A recorded part and the recall items it brought (a recalled part recorded after its recall)."""

    part: Part
    recalled: list[RecallItem]


@dataclass(frozen=True)
class NewRecall:
    reference: str
    kind: PartKind
    manufacturer: str
    model: str
    serial_first: str
    serial_last: str
    reason: str
    due_on: date
    remedy: str = ""


@dataclass(frozen=True)
class Affected:
    """A part a recall reaches: its elevator and serial (a preview shows these before issuing)."""

    registration_code: str
    part_id: int
    serial: str


@dataclass(frozen=True)
class Issued:
    """A recall as issued (None on a preview), the parts it reaches, whether it was issued now."""

    recall: Recall | None
    affected: list[Affected]
    created: bool


@dataclass(frozen=True)
class ItemView:
    """An affected elevator of a recall and where its rectification stands (labels.RECALL_ITEM)."""

    item: RecallItem
    status: str  # open, overdue, done, cancelled, no_order
    work_order_state: str | None


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    overdue: int
    without_order: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


@dataclass(frozen=True)
class RecallView:
    recall: Recall
    items: list[ItemView]
    progress: Progress


# ---------------------------------------------------------------- helpers


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


def _text(value: str, name: str, limit: int = TEXT_MAX, required: bool = True) -> str:
    return clean_text(value, name, limit, required)


def _file_entry(
    session: Session, actor: Actor, code: str, entry: str, at: datetime, key: str, /, **details: object
) -> None:
    registry.append_system_entries(
        session,
        [registry.SystemEntry(code, entry, at, entry, dict(details), key)],
        recorded_by=actor.username,
    )


def _elevator_for_writing(session: Session, actor: Actor, code: str) -> registry_queries.StoredElevator:
    elevator = registry_queries.get_elevator(session, actor, code)  # 404 outside the actor's scope
    if actor.role not in WRITERS:
        raise Forbidden(f"role '{actor.role.value}' may read parts, not record them")
    return elevator


def _check(new: NewPart, elevator_kind: str, today: date) -> NewPart:
    if new.kind not in domain.kinds_for(elevator_kind):
        raise InvalidInput(
            FieldError("kind", f"an elevator of kind '{elevator_kind}' has no part '{new.kind.value}'")
        )
    if new.installed_on > today:
        raise InvalidInput(FieldError("installed_on", f"{new.installed_on} is in the future"))
    if new.design_life_years is None and new.design_life_cycles is None:
        raise InvalidInput(
            FieldError("design_life_years", "give the design life in years, in cycles or both")
        )
    if new.design_life_years is not None and not 1 <= new.design_life_years <= YEARS_MAX:
        raise InvalidInput(
            FieldError("design_life_years", f"1 to {YEARS_MAX} years, got {new.design_life_years}")
        )
    if new.design_life_cycles is not None and not 1 <= new.design_life_cycles <= CYCLES_MAX:
        raise InvalidInput(
            FieldError("design_life_cycles", f"1 to {CYCLES_MAX} cycles, got {new.design_life_cycles}")
        )
    if new.counter_at_install is not None and not 0 <= new.counter_at_install <= CYCLES_MAX:
        raise InvalidInput(
            FieldError("counter_at_install", f"0 to {CYCLES_MAX}, got {new.counter_at_install}")
        )
    return NewPart(
        kind=new.kind,
        manufacturer=_text(new.manufacturer, "manufacturer"),
        model=_text(new.model, "model", 64),
        serial=_text(new.serial, "serial", 64),
        installed_on=new.installed_on,
        design_life_years=new.design_life_years,
        design_life_cycles=new.design_life_cycles,
        counter_at_install=new.counter_at_install,
        note=_text(new.note, "note", NOTE_MAX, required=False),
    )


def _counter_now(session: Session, code: str, kind: PartKind, installed_on: date, today: date) -> int | None:
    """A part put in today starts from the terminal's counter now, when it was heard today."""
    if installed_on != today:
        return None
    history = telemetry_queries.counter_histories(session, [code]).get(code)
    if history is None or history.now is None:
        return None
    return history.now.door_cycles if domain.counter_of(kind) is Counter.DOOR_CYCLES else history.now.trips


def _taken(code: str, kind: PartKind) -> Conflict:
    return Conflict(f"elevator '{code}' already has a current {kind.value}: replace it instead")


def _current(session: Session, code: str, kind: PartKind) -> Part | None:
    part: Part | None = session.scalars(
        select(Part).where(Part.current_key == f"{code}:{kind.value}")
    ).first()
    return part


def _insert(
    session: Session, actor: Actor, code: str, new: NewPart, now: datetime, counter: int | None
) -> Part:
    part = Part(
        registration_code=code,
        kind=new.kind.value,
        current_key=f"{code}:{new.kind.value}",
        manufacturer=new.manufacturer,
        model=new.model,
        serial=new.serial,
        maker_key=domain.key(new.manufacturer),
        model_key=domain.key(new.model),
        serial_key=domain.key(new.serial),
        installed_on=new.installed_on,
        design_life_years=new.design_life_years,
        design_life_cycles=new.design_life_cycles,
        end_of_life_on=domain.end_of_life(new.installed_on, new.design_life_years),
        counter_at_install=counter,
        note=new.note,
        removed_on=None,
        removed_reason="",
        created_at=now,
        created_by=actor.username,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(part)
            session.flush()
    except IntegrityError:
        raise _taken(code, new.kind) from None
    return part


# ---------------------------------------------------------------- parts


def record_part(
    session: Session,
    actor: Actor,
    code: str,
    new: NewPart,
    clock: Clock,
    settings: Settings,
    part_settings: PartSettings | None = None,
) -> Recorded:
    """Record a main part of the elevator (registration or rescue code). 409 when it already has a
    current part of that kind (replace it); a part a recall names is reached by that recall at once. Its
    wear is judged with ``part_settings`` (None: the documented defaults)."""
    elevator = _elevator_for_writing(session, actor, code)
    today = _today(clock, settings)
    new = _check(new, elevator.kind, today)
    if _current(session, elevator.registration_code, new.kind) is not None:
        raise _taken(elevator.registration_code, new.kind)
    now = clock.now()
    counter = new.counter_at_install
    if counter is None:
        counter = _counter_now(session, elevator.registration_code, new.kind, new.installed_on, today)
    part = _insert(session, actor, elevator.registration_code, new, now, counter)
    _file_entry(
        session, actor, part.registration_code, "part_installed", now, f"part:{part.id}:installed",
        part_id=part.id, kind=part.kind, manufacturer=part.manufacturer, model=part.model, serial=part.serial,
    )  # fmt: skip
    _judge_now(session, part, clock, settings, part_settings)
    return Recorded(part, _reach_recalls(session, part, clock, settings))


def _judge_now(
    session: Session, part: Part, clock: Clock, settings: Settings, part_settings: PartSettings | None
) -> None:
    """A part's wear as recorded (the worn list reads it until the next refresh)."""
    view = _views(session, [part], _today(clock, settings), settings, part_settings or PartSettings())[0]
    _judged(part, view, clock.now())


def replace_part(
    session: Session,
    actor: Actor,
    part_id: int,
    new: NewPart,
    reason: str,
    clock: Clock,
    settings: Settings,
    part_settings: PartSettings | None = None,
) -> Recorded:
    """Replace a current part by a new one of the same kind: the old one comes out the day the new one goes
    in, with ``reason``; both stay on the file."""
    old = get_part(session, actor, part_id)
    elevator = _elevator_for_writing(session, actor, old.registration_code)
    if old.removed_on is not None:
        raise Conflict(f"part {old.id} came out on {old.removed_on}: replace the current one")
    if new.kind.value != old.kind:
        raise InvalidInput(
            FieldError("kind", f"a {old.kind} is replaced by a {old.kind}, not a {new.kind.value}")
        )
    today = _today(clock, settings)
    new = _check(new, elevator.kind, today)
    if new.installed_on < old.installed_on:
        raise InvalidInput(
            FieldError("installed_on", f"before the part it replaces went in ({old.installed_on})")
        )
    why = _text(reason, "reason", NOTE_MAX)
    now = clock.now()
    old.current_key = None
    old.removed_on = new.installed_on
    old.removed_reason = why
    old.updated_at = now
    session.flush()
    counter = new.counter_at_install
    if counter is None:
        counter = _counter_now(session, old.registration_code, new.kind, new.installed_on, today)
    part = _insert(session, actor, old.registration_code, new, now, counter)
    old.replaced_by_id = part.id
    _file_entry(
        session, actor, part.registration_code, "part_replaced", now, f"part:{part.id}:replaces:{old.id}",
        part_id=part.id, replaced_id=old.id, kind=part.kind, old_serial=old.serial, serial=part.serial,
        model=part.model, reason=why,
    )  # fmt: skip
    _judge_now(session, part, clock, settings, part_settings)
    return Recorded(part, _reach_recalls(session, part, clock, settings))


def get_part(session: Session, actor: Actor, part_id: int) -> Part:
    """The part, 404 when it does not exist or its elevator lies outside the actor's scope."""
    part = session.get(Part, part_id)
    if part is None:
        raise NotFound(f"no part {part_id}")
    try:
        registry_queries.get_elevator(session, actor, part.registration_code)
    except NotFound:
        raise NotFound(f"no part {part_id}") from None
    return part


def _cycles(part: Part, history: telemetry_queries.CounterHistory | None, tz: object) -> Cycles | None:
    if history is None:
        return None
    doors = domain.counter_of(PartKind(part.kind)) is Counter.DOOR_CYCLES
    now = history.now
    value = None if now is None else (now.door_cycles if doors else now.trips)
    reading = Reading(now.at, value) if now is not None and value is not None else None
    first = history.first_door_cycles if doors else history.first_trips
    installed_at = datetime.combine(part.installed_on, time(12), tzinfo=tz)  # type: ignore[arg-type]
    return domain.cycles_used(
        installed_at, part.counter_at_install, Reading(*first) if first else None, reading
    )


def _views(
    session: Session, parts: Sequence[Part], today: date, settings: Settings, part_settings: PartSettings
) -> list[PartView]:
    histories = telemetry_queries.counter_histories(
        session, {p.registration_code for p in parts if p.design_life_cycles}
    )
    tz = zone(settings.timezone)
    out = []
    for p in parts:
        cycles = _cycles(p, histories.get(p.registration_code), tz) if p.design_life_cycles else None
        life = domain.Life(p.design_life_years, p.design_life_cycles)
        end = p.removed_on or today
        out.append(
            PartView(p, domain.assess(life, p.installed_on, end, cycles, part_settings.near_share), cycles)
        )
    return out


def parts_of(
    session: Session,
    actor: Actor,
    code: str,
    clock: Clock,
    settings: Settings,
    part_settings: PartSettings,
) -> list[PartView]:
    """The elevator's parts with their wear: current ones in the order of their kinds, then those taken
    out, newest first (a removed part is judged as of the day it came out)."""
    elevator = registry_queries.get_elevator(session, actor, code)
    rows = session.scalars(select(Part).where(Part.registration_code == elevator.registration_code)).all()
    order = {k.value: i for i, k in enumerate(PartKind)}
    rows = sorted(
        rows,
        key=lambda p: (
            p.removed_on is not None,
            order.get(p.kind, 99),
            -(p.removed_on or date.min).toordinal(),
        ),
    )
    return _views(session, rows, _today(clock, settings), settings, part_settings)


@dataclass(frozen=True)
class WornPart:
    view: PartView
    district: str


def worn_parts(
    session: Session,
    actor: Actor,
    clock: Clock,
    settings: Settings,
    part_settings: PartSettings,
    district: str | None = None,
    kind: PartKind | None = None,
    limit: int = WEAR_LIMIT,
) -> tuple[list[WornPart], bool]:
    """Current parts near or past their design life in the actor's scope, the furthest worn first, and
    whether the list was cut at ``limit``. Read from the wear last judged (``refresh_wear``: at recording
    and hourly), through its index, so a city of a million parts lists in one query; the figures shown are
    judged again as of now."""
    if actor.role not in WEAR_READERS:
        raise Forbidden(f"role '{actor.role.value}' may not list worn parts")
    codes = registry_queries.scoped_codes(session, actor)  # None: the whole registry
    stmt = select(Part).where(
        Part.current_key.is_not(None), Part.wear.in_([Wear.NEAR.value, Wear.PAST.value])
    )
    if kind is not None:
        stmt = stmt.where(Part.kind == kind.value)
    if district:
        stmt = stmt.where(Part.registration_code.in_(registry_queries.code_subquery(district=district)))
    if codes is not None:
        stmt = stmt.where(Part.registration_code.in_(sorted(codes)))
    rows = session.scalars(stmt.order_by(Part.wear_share.desc(), Part.id).limit(limit + 1)).all()
    views = _views(session, rows[:limit], _today(clock, settings), settings, part_settings)
    places = registry_queries.places_of(session, sorted({v.part.registration_code for v in views}))
    out = [
        WornPart(v, places[v.part.registration_code].district if v.part.registration_code in places else "")
        for v in views
    ]
    return out, len(rows) > limit


def _judged(part: Part, view: PartView, now: datetime) -> None:
    a = view.assessment
    shares = [x for x in (a.years_share, a.cycles_share) if x is not None]
    part.wear = a.state.value
    part.wear_share = round(max(shares), 4) if shares else None
    part.wear_at = now


def refresh_wear(
    session: Session,
    clock: Clock,
    settings: Settings,
    part_settings: PartSettings,
    after_id: int = 0,
    batch: int = 2000,
) -> tuple[int, int]:
    """Judge the wear of the next ``batch`` current parts after ``after_id`` (by id) and store it; returns
    how many and the last id (0: none left). A worker walks the whole table so, hourly; the caller commits
    each batch."""
    rows = session.scalars(
        select(Part).where(Part.current_key.is_not(None), Part.id > after_id).order_by(Part.id).limit(batch)
    ).all()
    now = clock.now()
    for view in _views(session, rows, _today(clock, settings), settings, part_settings):
        _judged(view.part, view, now)
    session.flush()
    return len(rows), (rows[-1].id if rows else 0)


# ---------------------------------------------------------------- recalls


def _matching(session: Session, recall: Recall | NewRecall) -> list[Part]:
    if isinstance(recall, Recall):
        kind, maker, model, first, last = (
            recall.kind,
            recall.maker_key,
            recall.model_key,
            recall.serial_first,
            recall.serial_last,
        )
    else:
        kind, maker, model = recall.kind.value, domain.key(recall.manufacturer), domain.key(recall.model)
        first, last = recall.serial_first, recall.serial_last
    rows = session.scalars(
        select(Part)
        .where(
            Part.kind == kind, Part.model_key == model, Part.maker_key == maker, Part.current_key.is_not(None)
        )
        .order_by(Part.registration_code, Part.id)
    ).all()
    return [p for p in rows if domain.in_serial_range(p.serial, first, last)]


def _open_item(
    session: Session, recall: Recall, part: Part, clock: Clock, settings: Settings
) -> RecallItem | None:
    """The recall's item for the part with its rectification work order, once (None: it had one)."""
    found = session.scalars(
        select(RecallItem).where(RecallItem.recall_id == recall.id, RecallItem.part_id == part.id)
    ).first()
    if found is not None:
        return None
    now = clock.now()
    item = RecallItem(
        recall_id=recall.id,
        part_id=part.id,
        registration_code=part.registration_code,
        serial=part.serial,
        work_order_id=None,
        problem="",
        found_at=now,
    )
    summary = f"召回 {recall.reference}: {recall.manufacturer} {recall.model} {part.serial} — {recall.reason}"
    try:
        with session.begin_nested():
            outcome = maintenance.open_corrective(
                session,
                SYSTEM_ACTOR,
                part.registration_code,
                WorkOrderSource.RECALL,
                f"{recall.id}:{part.id}",
                summary[:2000],
                clock,
                settings,
                due_by=recall.due_on,
            )
            item.work_order_id = outcome.work_order.id
    except DomainError as exc:  # no maintenance unit, scrapped elevator: listed, never dropped
        item.problem = exc.message
    session.add(item)
    session.flush()
    _file_entry(
        session, SYSTEM_ACTOR, part.registration_code, "recall_found", now, f"recall:{recall.id}:{part.id}",
        recall_id=recall.id, reference=recall.reference, part_id=part.id, serial=part.serial,
        work_order_id=item.work_order_id,
    )  # fmt: skip
    return item


def _reach_recalls(session: Session, part: Part, clock: Clock, settings: Settings) -> list[RecallItem]:
    recalls = session.scalars(
        select(Recall).where(
            Recall.kind == part.kind, Recall.model_key == part.model_key, Recall.maker_key == part.maker_key
        )
    ).all()
    out = []
    for recall in recalls:
        if domain.in_serial_range(part.serial, recall.serial_first, recall.serial_last):
            item = _open_item(session, recall, part, clock, settings)
            if item is not None:
                out.append(item)
    return out


def _same_terms(recall: Recall, new: NewRecall) -> bool:
    return (
        recall.kind == new.kind.value
        and recall.maker_key == domain.key(new.manufacturer)
        and recall.model_key == domain.key(new.model)
        and domain.key(recall.serial_first) == domain.key(new.serial_first)
        and domain.key(recall.serial_last) == domain.key(new.serial_last)
        and recall.due_on == new.due_on
    )


def issue_recall(
    session: Session, actor: Actor, new: NewRecall, clock: Clock, settings: Settings, preview: bool = False
) -> Issued:
    """Issue a recall: find every current part it names and open one rectification work order for each
    elevator's part, due by the end of ``due_on`` (city clock). ``preview``: only find them, write nothing.
    Issuing a reference again returns the first recall (409 when its terms differ)."""
    if actor.role not in ISSUERS:
        raise Forbidden(f"role '{actor.role.value}' may not issue recalls")
    new = NewRecall(
        reference=_text(new.reference, "reference", 64),
        kind=new.kind,
        manufacturer=_text(new.manufacturer, "manufacturer"),
        model=_text(new.model, "model", 64),
        serial_first=_text(new.serial_first, "serial_first", 64),
        serial_last=_text(new.serial_last, "serial_last", 64),
        reason=_text(new.reason, "reason", 2000),
        due_on=new.due_on,
        remedy=_text(new.remedy, "remedy", 2000, required=False),
    )
    problem = domain.range_error(new.serial_first, new.serial_last)
    if problem:
        raise InvalidInput(FieldError("serial_last", problem))
    if new.due_on <= _today(clock, settings):
        raise InvalidInput(
            FieldError("due_on", f"the rectification deadline {new.due_on} must be after today")
        )
    existing = session.scalars(select(Recall).where(Recall.reference == new.reference)).first()
    if existing is not None:
        if not _same_terms(existing, new):
            raise Conflict(f"recall '{new.reference}' was issued on other terms (recall {existing.id})")
        return Issued(existing, _affected(session, existing), created=False)
    if preview:
        return Issued(
            None, [Affected(p.registration_code, p.id, p.serial) for p in _matching(session, new)], False
        )
    now = clock.now()
    recall = Recall(
        reference=new.reference,
        kind=new.kind.value,
        manufacturer=new.manufacturer,
        model=new.model,
        maker_key=domain.key(new.manufacturer),
        model_key=domain.key(new.model),
        serial_first=new.serial_first,
        serial_last=new.serial_last,
        reason=new.reason,
        remedy=new.remedy,
        due_on=new.due_on,
        created_at=now,
        created_by=actor.username,
    )
    try:
        with session.begin_nested():
            session.add(recall)
            session.flush()
    except IntegrityError:  # issued at the same moment by another request
        raise Conflict(f"recall '{new.reference}' is being issued by another request") from None
    for part in _matching(session, recall):
        _open_item(session, recall, part, clock, settings)
    return Issued(recall, _affected(session, recall), created=True)


def _affected(session: Session, recall: Recall) -> list[Affected]:
    items = session.scalars(
        select(RecallItem)
        .where(RecallItem.recall_id == recall.id)
        .order_by(RecallItem.registration_code, RecallItem.id)
    )
    return [Affected(i.registration_code, i.part_id, i.serial) for i in items]


def _recall_scope(session: Session, actor: Actor) -> set[str] | None:
    if actor.role in RECALL_READ_ALL:
        return None
    if actor.role in RECALL_READ_OWN:
        return registry_queries.scoped_codes(session, actor) or set()
    raise Forbidden(f"role '{actor.role.value}' may not read recalls")


def _status(item: RecallItem, ref: maintenance_queries.WorkOrderRef | None, now: datetime) -> str:
    if ref is None:
        return "no_order"
    if ref.state in (WorkOrderState.COMPLETED.value, WorkOrderState.CONFIRMED.value):
        return "done"
    if ref.state == WorkOrderState.CANCELLED.value:
        return "cancelled"
    if ref.due_at is not None and as_utc(ref.due_at) < now:
        return "overdue"
    return "open"


def _views_of(
    session: Session, recalls: Sequence[Recall], codes: set[str] | None, now: datetime
) -> list[RecallView]:
    ids = [r.id for r in recalls]
    stmt = (
        select(RecallItem)
        .where(RecallItem.recall_id.in_(ids))
        .order_by(RecallItem.registration_code, RecallItem.id)
    )
    items = [i for i in session.scalars(stmt) if codes is None or i.registration_code in codes]
    refs = maintenance_queries.work_order_refs(session, [i.work_order_id for i in items if i.work_order_id])
    by_recall: dict[int, list[ItemView]] = {r.id: [] for r in recalls}
    for i in items:
        ref = refs.get(i.work_order_id) if i.work_order_id else None
        by_recall[i.recall_id].append(ItemView(i, _status(i, ref, now), ref.state if ref else None))
    out = []
    for r in recalls:
        views = by_recall[r.id]
        progress = Progress(
            total=len(views),
            done=sum(v.status == "done" for v in views),
            overdue=sum(v.status == "overdue" for v in views),
            without_order=sum(v.status in ("no_order", "cancelled") for v in views),
        )
        out.append(RecallView(r, views, progress))
    return out


def list_recalls(session: Session, actor: Actor, clock: Clock) -> list[RecallView]:
    """Every recall, newest first, with its progress over the elevators the actor may see (a unit's staff:
    only recalls that reach one of their elevators)."""
    codes = _recall_scope(session, actor)
    recalls = session.scalars(select(Recall).order_by(Recall.created_at.desc(), Recall.id.desc())).all()
    views = _views_of(session, recalls, codes, clock.now())
    return [v for v in views if codes is None or v.items]


def get_recall(session: Session, actor: Actor, recall_id: int, clock: Clock) -> RecallView:
    """The recall with each affected elevator's rectification (a unit's staff: their own; 404 when it
    reaches none of theirs)."""
    codes = _recall_scope(session, actor)
    recall = session.get(Recall, recall_id)
    if recall is None:
        raise NotFound(f"no recall {recall_id}")
    view = _views_of(session, [recall], codes, clock.now())[0]
    if codes is not None and not view.items:
        raise NotFound(f"no recall {recall_id}")
    return view


def recalls_of_elevator(session: Session, code: str, clock: Clock) -> list[tuple[Recall, ItemView]]:
    """The recalls that reached one elevator and where its rectification stands, oldest first (the file's
    parts section: the caller read the elevator, so may read this)."""
    ids = select(RecallItem.recall_id).where(RecallItem.registration_code == code)
    recalls = session.scalars(select(Recall).where(Recall.id.in_(ids)).order_by(Recall.id)).all()
    return [(v.recall, i) for v in _views_of(session, recalls, {code}, clock.now()) for i in v.items]


def part_count(session: Session) -> int:
    """How many parts are on file (the demo records its parts once)."""
    return int(session.scalar(select(func.count()).select_from(Part)) or 0)
