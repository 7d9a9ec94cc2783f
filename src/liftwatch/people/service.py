"""People's only writer and its scoped reads: workers' certificates (特种设备作业人员证) and training, the use
units' emergency drills (应急演练), and the check other domains make before a worker acts.

Scope: admins and regulators record and read every unit's certificates, training and drills; a maintenance
or use unit's staff record and read their own unit's (another unit's: 404); inspectors read everything;
other roles 403.

Rules:
- A certificate's number is unique; a renewal is a new certificate. A revoked one stays on file.
- ``require_certified``: the worker holds a certificate of category T (电梯修理) valid on the day, or the
  act is refused with 409 naming why (none on file; which one expired, and when; revoked). Maintenance
  asks it before a work order is assigned and before a worker signs; rescue before a maintenance unit's
  user becomes a crew's login.
- A use unit owes ``drills_per_year`` drills each year; the ones with elevators in use and fewer drills are
  listed (``missing_drills``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, clean_text
from liftwatch.people import domain
from liftwatch.people.domain import Category, CertificateState, Scenario
from liftwatch.people.models import Certificate, Drill, Training
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.domain import UnitType

StoredCertificate: TypeAlias = Certificate
StoredDrill: TypeAlias = Drill
StoredTraining: TypeAlias = Training

ALL = frozenset({Role.ADMIN, Role.REGULATOR})
READ_ALL = ALL | {Role.INSPECTOR}
UNIT_STAFF = frozenset({Role.MAINTENANCE, Role.USE_UNIT})
TEXT_MAX = 100


@dataclass(frozen=True)
class NewCertificate:
    number: str
    category: Category
    holder_name: str
    unit_code: str
    issued_on: date
    expires_on: date
    username: str = ""
    issuer: str = ""


@dataclass(frozen=True)
class CertificateView:
    certificate: Certificate
    state: CertificateState


@dataclass(frozen=True)
class NewTraining:
    username: str
    held_on: date
    hours: float
    topic: str
    provider: str = ""


@dataclass(frozen=True)
class NewDrill:
    unit_code: str
    held_on: date
    scenario: Scenario
    participants: int
    registration_code: str = ""
    summary: str = ""


@dataclass(frozen=True)
class MissingDrill:
    unit_code: str
    unit_name: str
    elevators: int
    held: int
    required: int
    last: date | None


# ---------------------------------------------------------------- scope


def _own_unit(session: Session, actor: Actor) -> str | None:
    """The actor's unit code for unit staff; None for those who see every unit; 403 for others."""
    if actor.role in READ_ALL:
        return None
    if actor.role in UNIT_STAFF:
        code = registry_queries.actor_unit_code(session, actor)
        if code is None:
            raise Forbidden("an account of no unit reads no unit's people")
        return code
    raise Forbidden(f"role '{actor.role.value}' may not read certificates or drills")


def _writable_unit(session: Session, actor: Actor, unit_code: str, unit_type: UnitType | None = None) -> str:
    """``unit_code`` when the actor may write its people (admins, regulators; the unit's own staff)."""
    if actor.role not in ALL | UNIT_STAFF:
        raise Forbidden(f"role '{actor.role.value}' may not record certificates or drills")
    own = _own_unit(session, actor)
    unit = registry_queries.unit_by_code(session, unit_code)
    if unit is None or (own is not None and own != unit_code):
        raise NotFound(f"no unit '{unit_code}'")
    if unit_type is not None and unit.unit_type != unit_type.value:
        raise InvalidInput(FieldError("unit_code", f"'{unit_code}' is not a {unit_type.value} unit"))
    return unit_code


def _scope(session: Session, actor: Actor, column: Any) -> ColumnElement[bool]:
    own = _own_unit(session, actor)
    return true() if own is None else column == own


def _text(value: str, name: str, limit: int = TEXT_MAX, required: bool = True) -> str:
    return clean_text(value, name, limit, required)


# ---------------------------------------------------------------- certificates


def record_certificate(session: Session, actor: Actor, new: NewCertificate, clock: Clock) -> Certificate:
    """Record a worker's certificate. The holder's account, when named, must be staff of ``unit_code``;
    the expiry must follow the issue; the number is unique (409)."""
    unit = _writable_unit(session, actor, new.unit_code)
    number = _text(new.number, "number", 40).upper()
    name = _text(new.holder_name, "holder_name", 64)
    if new.expires_on <= new.issued_on:
        raise InvalidInput(
            FieldError("expires_on", f"{new.expires_on} is not after the issue day {new.issued_on}")
        )
    username = new.username.strip()
    if username:
        account = accounts.account_of(session, username)
        if account is None:
            raise InvalidInput(FieldError("username", f"no account '{username}'"))
        if account.unit != unit:
            raise InvalidInput(FieldError("username", f"'{username}' is not staff of unit '{unit}'"))
    row = Certificate(
        number=number,
        category=new.category.value,
        holder_name=name,
        username=username,
        unit_code=unit,
        issued_on=new.issued_on,
        expires_on=new.expires_on,
        issuer=_text(new.issuer, "issuer", required=False),
        created_at=clock.now(),
        created_by=actor.username,
        revoked_by="",
        revoke_reason="",
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"certificate '{number}' is on file already", [FieldError("number", "already on file")]
        ) from None
    return row


def get_certificate(session: Session, actor: Actor, certificate_id: int) -> Certificate:
    row = session.get(Certificate, certificate_id)
    own = _own_unit(session, actor)
    if row is None or (own is not None and row.unit_code != own):
        raise NotFound(f"no certificate {certificate_id}")
    return row


def revoke_certificate(
    session: Session, actor: Actor, certificate_id: int, reason: str, clock: Clock
) -> Certificate:
    """Revoke a certificate (吊销, or recorded in error): from now on it lets its holder do nothing."""
    row = get_certificate(session, actor, certificate_id)
    _writable_unit(session, actor, row.unit_code)
    if row.revoked_at is not None:
        raise Conflict(f"certificate {row.number} was revoked on {row.revoked_at.date()}")
    row.revoked_at = clock.now()
    row.revoked_by = actor.username
    row.revoke_reason = _text(reason, "reason", 500)
    return row


def certificates(
    session: Session,
    actor: Actor,
    today: date,
    warn_days: int,
    unit_code: str | None = None,
    states: Sequence[CertificateState] = (),
    limit: int = 2000,
) -> list[CertificateView]:
    """Certificates in the actor's scope with their state today, the soonest to expire first; only
    ``states`` when given."""
    stmt = select(Certificate).where(_scope(session, actor, Certificate.unit_code))
    if unit_code:
        stmt = stmt.where(Certificate.unit_code == unit_code)
    rows = session.scalars(stmt.order_by(Certificate.expires_on, Certificate.id)).all()
    views = [
        CertificateView(c, domain.state_on(c.expires_on, c.revoked_at is not None, today, warn_days))
        for c in rows
    ]
    if states:
        views = [v for v in views if v.state in states]
    return views[:limit]


def _certificates_of(session: Session, username: str, category: Category) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.username == username, Certificate.category == category.value)
            .order_by(Certificate.expires_on.desc(), Certificate.id.desc())
        )
    )


def valid_certificate(
    session: Session, username: str, on: date, category: Category = Category.ELEVATOR_REPAIR
) -> Certificate | None:
    """The worker's certificate of ``category`` valid on ``on`` that runs longest, or None."""
    for c in _certificates_of(session, username, category):
        if c.revoked_at is None and c.issued_on <= on <= c.expires_on:
            return c
    return None


def require_certified(
    session: Session, username: str, on: date, category: Category = Category.ELEVATOR_REPAIR
) -> Certificate:
    """The worker's valid certificate, or 409 saying why there is none: the act needs a holder of a valid
    特种设备作业人员证 (TSG Z6001)."""
    found = valid_certificate(session, username, on, category)
    if found is not None:
        return found
    known = _certificates_of(session, username, category)
    what = f"'{username}' holds no valid special-equipment operator certificate ({category.value}) on {on}"
    if not known:
        raise Conflict(f"{what}: none on file", [FieldError("certificate", "none on file")])
    latest = known[0]
    if latest.revoked_at is not None:
        why = f"certificate {latest.number} was revoked"
        raise Conflict(f"{what}: {why}", [FieldError("certificate", "revoked")])
    if latest.expires_on < on:
        why = f"certificate {latest.number} expired on {latest.expires_on}"
        raise Conflict(f"{what}: {why}", [FieldError("certificate", "expired")])
    why = f"certificate {latest.number} is valid from {latest.issued_on}"
    raise Conflict(f"{what}: {why}", [FieldError("certificate", "not yet valid")])


# ---------------------------------------------------------------- training


def record_training(session: Session, actor: Actor, new: NewTraining, clock: Clock, today: date) -> Training:
    """Record a training a worker of the actor's scope attended (not after ``today``)."""
    account = accounts.account_of(session, new.username.strip())
    if account is None or account.unit is None:
        raise InvalidInput(FieldError("username", f"no account '{new.username}' of a unit"))
    unit = _writable_unit(session, actor, account.unit)
    if not 0 < new.hours <= 200:
        raise InvalidInput(FieldError("hours", f"0 to 200 hours, got {new.hours}"))
    if new.held_on > today:
        raise InvalidInput(FieldError("held_on", f"{new.held_on} is in the future"))
    row = Training(
        username=account.username,
        unit_code=unit,
        held_on=new.held_on,
        hours=new.hours,
        topic=_text(new.topic, "topic", 200),
        provider=_text(new.provider, "provider", required=False),
        created_at=clock.now(),
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    return row


def trainings(
    session: Session, actor: Actor, username: str | None = None, limit: int = 500
) -> list[Training]:
    stmt = select(Training).where(_scope(session, actor, Training.unit_code))
    if username:
        stmt = stmt.where(Training.username == username)
    return list(session.scalars(stmt.order_by(Training.held_on.desc(), Training.id.desc()).limit(limit)))


# ---------------------------------------------------------------- drills


def record_drill(
    session: Session, actor: Actor, new: NewDrill, clock: Clock, today: date
) -> tuple[Drill, bool]:
    """Record a use unit's drill; the same unit, day and scenario again returns the first (False)."""
    unit = _writable_unit(session, actor, new.unit_code, UnitType.USE_UNIT)
    if new.held_on > today:
        raise InvalidInput(FieldError("held_on", f"{new.held_on} is in the future"))
    if not 1 <= new.participants <= 10_000:
        raise InvalidInput(FieldError("participants", f"1 to 10000, got {new.participants}"))
    code = new.registration_code.strip()
    if code:
        elevator = registry_queries.get_public_elevator(session, code)
        if elevator.use_unit is None or elevator.use_unit.code != unit:
            raise InvalidInput(
                FieldError("registration_code", f"'{code}' is not an elevator of unit '{unit}'")
            )
        code = elevator.registration_code
    found = session.scalars(
        select(Drill).where(
            Drill.unit_code == unit, Drill.held_on == new.held_on, Drill.scenario == new.scenario.value
        )
    ).first()
    if found is not None:
        return found, False
    row = Drill(
        unit_code=unit,
        held_on=new.held_on,
        scenario=new.scenario.value,
        registration_code=code,
        participants=new.participants,
        summary=_text(new.summary, "summary", 2000, required=False),
        created_at=clock.now(),
        created_by=actor.username,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict("this drill is being recorded by another request") from None
    return row, True


def drills(session: Session, actor: Actor, year: int | None = None, limit: int = 500) -> list[Drill]:
    stmt = select(Drill).where(_scope(session, actor, Drill.unit_code))
    if year is not None:
        stmt = stmt.where(Drill.held_on >= date(year, 1, 1), Drill.held_on <= date(year, 12, 31))
    return list(session.scalars(stmt.order_by(Drill.held_on.desc(), Drill.id.desc()).limit(limit)))


def missing_drills(session: Session, actor: Actor, year: int, required: int) -> list[MissingDrill]:
    """The use units with elevators in use that held fewer than ``required`` drills in ``year`` (unit
    staff: their own unit, when it owes one)."""
    own = _own_unit(session, actor)
    in_use = registry_queries.count_in_service_by(session, "use_unit")
    if own is not None:
        in_use = {k: v for k, v in in_use.items() if k == own}
    held = dict(
        session.execute(
            select(Drill.unit_code, func.count(Drill.id))
            .where(Drill.held_on >= date(year, 1, 1), Drill.held_on <= date(year, 12, 31))
            .group_by(Drill.unit_code)
        ).all()
    )
    last = dict(
        session.execute(select(Drill.unit_code, func.max(Drill.held_on)).group_by(Drill.unit_code)).all()
    )
    missing = domain.missing_drills(in_use, held, last, required)
    names = registry_queries.unit_names(session, [m.unit_code for m in missing])
    return [
        MissingDrill(m.unit_code, names.get(m.unit_code, ""), in_use[m.unit_code], m.held, m.required, m.last)
        for m in missing
    ]
