"""The complaint domain's only writer: complaints (投诉) from intake to the verifier's verdict, their SLA
limits on durable timers, the notices an overdue complaint sends, the hidden danger a founded one may open,
and the public form's guards.

Scope (outside it a complaint is *not found*): admins, regulators and the 96333/12345 operators (the centre)
read every complaint; maintenance and use-unit staff those assigned to their unit and those about the
elevators their unit maintains or uses. Inspectors, gateways and insurers: 403. The complainant's name and
phone are personal data: only the centre reads them (``view``), masked in lists; units never, the public
never (``public_status`` gives the state only). A forbidden move on a visible complaint is 403, a move its
state does not allow 409 (workflow.py).

Intake is idempotent on ``(channel, external_ref)``: a 12345 work order or a public form sent again returns
the complaint already there. Each SLA limit is a row of ``complaint_timers`` fired by ``fire_due_timers`` in
any process, after any restart (SKIP LOCKED on PostgreSQL); its notices are rows of ``complaint_notices``
written with the change. Every change is a ``complaint_events`` row; receipt and verdict are entries on the
elevator file (一梯一档).

The public form (no account): a honeypot field, a signed timestamp token (``form_token``: HMAC under the
app's secret key, so a bot can neither skip the form nor send it faster than ``public_min_fill_s``), text
limits, per-address and per-elevator limits counted in the database (so every web process sees the same
counts; the address kept only as a keyed digest), and the same text about the same elevator refused within
``public_duplicate_hours``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.complaints import workflow
from liftwatch.complaints.models import Complaint, ComplaintEvent, ComplaintNotice, ComplaintTimer
from liftwatch.complaints.workflow import (
    DEFAULT_SETTINGS,
    Action,
    Category,
    Channel,
    ComplaintSettings,
    ComplaintState,
    Recipient,
    Step,
    Verdict,
)
from liftwatch.core import deadlines
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.core.security import keyed_digest
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry

StoredComplaint: TypeAlias = Complaint
StoredEvent: TypeAlias = ComplaintEvent

READ_ALL = workflow.CENTRE
REGULATOR = "regulator"  # the recipient of escalations
SCHEDULER = "scheduler"  # the actor of what the timers do
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
FORM_PURPOSE = "complaint-form"


class Refused(DomainError):
    """The public form refused a submission; ``reason`` names why (a page-text key's last part):
    honeypot, token, too_fast, expired, rate_address, rate_elevator, duplicate."""

    def __init__(self, reason: str, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.status_code = status_code


@dataclass
class Intake:
    """A complaint as the centre or an API client (a 12345 gateway) hands it in."""

    channel: Channel
    external_ref: str
    category: Category
    text: str
    code: str | None = None  # the elevator's registration or rescue code
    unit: str | None = None  # the unit the complaint names
    complainant_name: str = ""
    complainant_phone: str = ""
    assign: bool = True  # pass it on at once to the responsible unit


@dataclass
class Outcome:
    complaint: Complaint
    created: bool


@dataclass
class Notice:
    complaint_id: int
    kind: str
    recipient: str
    registration_code: str
    details: dict[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass(frozen=True)
class PublicStatus:
    """What the receipt number shows a passenger: no person, no text, no answer."""

    receipt: str
    category: str
    state: str
    verdict: str
    received_at: datetime
    answered: bool
    closed_at: datetime | None


# ---------------------------------------------------------------- personal data


def sees_personal_data(actor: Actor) -> bool:
    return actor.role in workflow.SEES_PERSONAL_DATA


def mask_name(name: str) -> str:
    """张三丰 -> 张**; empty stays empty."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678; a shorter number keeps only its last two digits."""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:] if phone else ""


# ---------------------------------------------------------------- scope


def _scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    if actor.role in READ_ALL:
        return None
    if actor.role not in workflow.UNIT_STAFF:
        raise Forbidden(f"role '{actor.role.value}' may not read complaints")
    return registry_queries.own_rows(session, actor, Complaint.responsible_unit, Complaint.registration_code)


def _scoped(session: Session, actor: Actor, stmt: Select[Any]) -> Select[Any]:
    cond = _scope(session, actor)
    return stmt if cond is None else stmt.where(cond)


# ---------------------------------------------------------------- trail, file, notices, timers


def _record(
    session: Session, complaint: Complaint, actor: str, kind: str, at: datetime, /, **details: Any
) -> ComplaintEvent:
    event = ComplaintEvent(complaint_id=complaint.id, at=at, actor=actor, kind=kind, details=details)
    session.add(event)
    session.flush()
    return event


def _file_entry(
    session: Session, who: str, complaint: Complaint, kind: str, at: datetime, /, **details: Any
) -> None:
    if not complaint.registration_code:
        return
    registry.append_system_entries(
        session,
        [
            registry.SystemEntry(
                complaint.registration_code,
                kind,
                at,
                kind,
                {"complaint_id": complaint.id, "category": complaint.category, **details},
                f"complaint:{complaint.id}:{kind}",
            )
        ],
        recorded_by=who,
    )


def _notice(
    session: Session, complaint: Complaint, event: ComplaintEvent, kind: str, recipient: str, step: Step
) -> Notice:
    key = f"cp{complaint.id}:{event.id}:{kind}:{recipient}"
    details = {
        "receipt": complaint.receipt,
        "category": complaint.category,
        "channel": complaint.channel,
        "state": complaint.state,
        "step": step.value,
        "due_at": as_utc(complaint.due_at).isoformat() if complaint.due_at else None,
        "responsible_unit": complaint.responsible_unit,
    }
    session.add(
        ComplaintNotice(
            key=key,
            complaint_id=complaint.id,
            kind=kind,
            recipient=recipient,
            registration_code=complaint.registration_code or "",
            details=details,
            created_at=event.at,
            delivered_at=None,
        )
    )
    return Notice(complaint.id, kind, recipient, complaint.registration_code or "", details, key)


def _cancel_timers(session: Session, complaint: Complaint) -> None:
    session.execute(
        update(ComplaintTimer)
        .where(ComplaintTimer.complaint_id == complaint.id, ComplaintTimer.fired_at.is_(None))
        .values(cancelled=True)
    )


def _arm(session: Session, complaint: Complaint, since: datetime, cs: ComplaintSettings) -> None:
    """Start the limit of the step the complaint now waits on (none when finished), from ``since``."""
    _cancel_timers(session, complaint)
    step = workflow.WAITING.get(ComplaintState(complaint.state))
    if step is None:
        complaint.due_at = None
        return
    due = workflow.limit(step, since, cs)
    complaint.due_at = due
    session.add(ComplaintTimer(complaint_id=complaint.id, kind=step.value, due_at=due, cancelled=False))


# ---------------------------------------------------------------- intake


def _new_receipt() -> str:
    """``TS``, a digit (so the number reads as a code, not a word), 7 more characters; random."""
    return "TS" + secrets.choice("23456789") + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(7))


def text_hash(text: str) -> str:
    """A digest of the text's words (spaces, punctuation and case do not matter): the duplicate check."""
    norm = re.sub(r"[\W_]+", "", text).casefold()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def _by_ref(session: Session, channel: Channel, ref: str) -> Complaint | None:
    found: Complaint | None = session.scalars(
        select(Complaint).where(Complaint.channel == channel.value, Complaint.external_ref == ref)
    ).first()
    return found


def _check_text(text: str, cs: ComplaintSettings) -> str:
    text = text.strip()
    if len(text) < cs.text_min:
        raise InvalidInput(FieldError("text", f"say what happened in at least {int(cs.text_min)} characters"))
    if len(text) > cs.text_max:
        raise InvalidInput(FieldError("text", f"at most {int(cs.text_max)} characters"))
    return text


def _create(
    session: Session,
    who: str,
    data: Intake,
    clock: Clock,
    cs: ComplaintSettings,
    address_hash: str = "",
) -> Outcome:
    """Store a new complaint (the caller has checked who may), or return the one with the same channel
    reference."""
    existing = _by_ref(session, data.channel, data.external_ref)
    if existing is not None:
        return Outcome(existing, created=False)
    text = _check_text(data.text, cs)
    now = clock.now()
    elevator = None
    if data.code:
        try:
            elevator = registry_queries.get_public_elevator(session, data.code)
        except NotFound:
            raise InvalidInput(FieldError("code", f"no elevator with code '{data.code}'")) from None
    named = (data.unit or "").strip()
    if named and registry_queries.unit_by_code(session, named) is None:
        raise InvalidInput(FieldError("unit", f"no unit with code '{named}'"))
    if elevator is None and not named:
        raise InvalidInput(
            FieldError("code", "name the elevator (its code) or the unit the complaint is about")
        )
    mu = str(elevator.maintenance_unit.code) if elevator is not None and elevator.maintenance_unit else ""
    uu = str(elevator.use_unit.code) if elevator is not None and elevator.use_unit else ""
    complaint = Complaint(
        receipt=_new_receipt(),
        channel=data.channel.value,
        external_ref=data.external_ref,
        category=data.category.value,
        text=text,
        registration_code=elevator.registration_code if elevator is not None else None,
        district=elevator.district if elevator is not None else "",
        maintenance_unit=mu,
        use_unit=uu,
        named_unit=named,
        responsible_unit=workflow.responsible_unit(data.category, named, mu, uu) or "",
        complainant_name=data.complainant_name.strip(),
        complainant_phone=data.complainant_phone.strip(),
        state=ComplaintState.RECEIVED.value,
        overdue_step="",
        answer="",
        answered_by="",
        verdict="",
        verify_note="",
        verified_by="",
        close_reason="",
        address_hash=address_hash,
        text_hash=text_hash(text),
        received_by=who,
        received_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(complaint)
            session.flush()
    except IntegrityError:
        other = _by_ref(session, data.channel, data.external_ref)
        if other is None:
            raise
        return Outcome(other, created=False)
    _record(
        session,
        complaint,
        who,
        "received",
        now,
        channel=complaint.channel,
        category=complaint.category,
        external_ref=complaint.external_ref,
    )
    _file_entry(session, who, complaint, "complaint_received", now)
    if data.assign and complaint.responsible_unit:
        complaint.state = ComplaintState.ASSIGNED.value
        complaint.assigned_at = now
        _record(session, complaint, who, "assigned", now, unit=complaint.responsible_unit, automatic=True)
    _arm(session, complaint, now, cs)
    return Outcome(complaint, created=True)


def intake(
    session: Session, actor: Actor, data: Intake, clock: Clock, cs: ComplaintSettings = DEFAULT_SETTINGS
) -> Outcome:
    """Take a complaint in (the centre, or an API client such as a 12345 gateway with a centre account).
    Idempotent on ``(channel, external_ref)``: a replay returns the first (``created`` False). Passed on at
    once to the responsible unit unless ``data.assign`` is False or none can be found."""
    if actor.role not in workflow.CENTRE:
        raise Forbidden(f"role '{actor.role.value}' may not take complaints in")
    if not data.external_ref.strip():
        raise InvalidInput(FieldError("external_ref", "the channel's own reference is required"))
    if data.channel is Channel.PUBLIC_PAGE:
        raise InvalidInput(FieldError("channel", "the public page's complaints come through its own form"))
    return _create(session, actor.username, data, clock, cs)


# ---------------------------------------------------------------- the public form


def form_token(secret: str, code: str, now: datetime, nonce: str | None = None) -> str:
    """The public form's hidden token: when it was served, a one-time nonce (the complaint's reference, so a
    form sent twice is one complaint) and their HMAC with the elevator's code under the app's secret."""
    nonce = nonce or secrets.token_urlsafe(12)
    issued = str(int(now.timestamp()))
    sig = keyed_digest(secret, FORM_PURPOSE, f"{code}|{issued}|{nonce}")
    return f"{issued}.{nonce}.{sig}"


def check_form_token(
    secret: str, code: str, token: str, now: datetime, cs: ComplaintSettings = DEFAULT_SETTINGS
) -> str:
    """The token's nonce if it is ours, for this elevator, neither too fresh nor too old; else Refused."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        raise Refused("token", "the form is damaged or did not come from this site: reload it")
    issued, nonce, sig = parts
    expected = keyed_digest(secret, FORM_PURPOSE, f"{code}|{issued}|{nonce}")
    if not secrets.compare_digest(expected, sig):
        raise Refused("token", "the form is damaged or did not come from this site: reload it")
    age = now.timestamp() - int(issued)
    if age < cs.public_min_fill_s:
        raise Refused("too_fast", "sent too quickly after the form was opened: wait a moment and send again")
    if age > cs.public_form_max_age_h * 3600:
        raise Refused("expired", "the form has expired: reload it")
    return nonce


def address_digest(secret: str, address: str) -> str:
    """The client address as the rate limit keeps it: a keyed digest, never the address."""
    return keyed_digest(secret, "complaint-address", address)


def public_intake(
    session: Session,
    code: str,
    category: Category,
    text: str,
    token: str,
    honeypot: str,
    client_address: str,
    secret: str,
    clock: Clock,
    cs: ComplaintSettings = DEFAULT_SETTINGS,
    contact_phone: str = "",
) -> Outcome:
    """A passenger's complaint from the page in the car (no account). Refused (``Refused``, 4xx with its
    reason) when the honeypot is filled, the token is not ours or too fresh or old, the address or the
    elevator sent too many in the last hour, or the same text about this elevator came within the window.
    The same form sent again returns its complaint. It waits for the centre to pass it on."""
    now = clock.now()
    elevator = registry_queries.get_public_elevator(session, code)  # 404 for an unknown code
    reg = elevator.registration_code
    if honeypot.strip():
        raise Refused("honeypot", "refused")
    nonce = check_form_token(secret, reg, token, now, cs)
    existing = _by_ref(session, Channel.PUBLIC_PAGE, nonce)
    if existing is not None:
        return Outcome(existing, created=False)
    clean = _check_text(text, cs)
    since = now - timedelta(hours=1)
    addr = address_digest(secret, client_address or "unknown")
    public = Complaint.channel == Channel.PUBLIC_PAGE.value
    by_address = session.scalar(
        select(func.count(Complaint.id)).where(
            public, Complaint.address_hash == addr, Complaint.received_at > since
        )
    )
    if int(by_address or 0) >= cs.public_per_address_hour:
        raise Refused("rate_address", "too many complaints from this address: try again in an hour", 429)
    by_elevator = session.scalar(
        select(func.count(Complaint.id)).where(
            public, Complaint.registration_code == reg, Complaint.received_at > since
        )
    )
    if int(by_elevator or 0) >= cs.public_per_elevator_hour:
        raise Refused(
            "rate_elevator", "this elevator has many complaints already: call the numbers shown", 429
        )
    window = now - timedelta(hours=cs.public_duplicate_hours)
    duplicate = session.scalar(
        select(func.count(Complaint.id)).where(
            public,
            Complaint.registration_code == reg,
            Complaint.text_hash == text_hash(clean),
            Complaint.received_at > window,
        )
    )
    if int(duplicate or 0):
        raise Refused("duplicate", "the same complaint about this elevator was received already", 409)
    phone = re.sub(r"[^0-9+\-]", "", contact_phone)[:20]
    data = Intake(
        Channel.PUBLIC_PAGE, nonce, category, clean, code=reg, complainant_phone=phone, assign=False
    )
    return _create(session, "public", data, clock, cs, address_hash=addr)


def public_status(session: Session, receipt: str) -> PublicStatus:
    """A complaint's status by its receipt number, for anyone holding it: state only, no personal data."""
    receipt = receipt.strip().upper()
    row: Complaint | None = (
        session.scalars(select(Complaint).where(Complaint.receipt == receipt)).first()
        if len(receipt) <= 20
        else None
    )
    if row is None:
        raise NotFound(f"no complaint with receipt '{receipt}'")
    return PublicStatus(
        receipt=row.receipt,
        category=row.category,
        state=row.state,
        verdict=row.verdict,
        received_at=as_utc(row.received_at),
        answered=row.answered_at is not None,
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
    )


# ---------------------------------------------------------------- reading


def get_complaint(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    row: Complaint | None = session.scalars(
        _scoped(session, actor, select(Complaint).where(Complaint.id == complaint_id))
    ).first()
    if row is None:
        raise NotFound(f"no complaint {complaint_id}")
    return row


@dataclass(frozen=True)
class Filter:
    states: Sequence[ComplaintState] = ()
    channel: Channel | None = None
    category: Category | None = None
    district: str | None = None
    code: str | None = None
    overdue: bool | None = None


def list_complaints(
    session: Session, actor: Actor, flt: Filter, now: datetime, limit: int = 500
) -> list[Complaint]:
    """The complaints in the actor's scope, newest first, filtered."""
    stmt = _scoped(session, actor, select(Complaint))
    if flt.states:
        stmt = stmt.where(Complaint.state.in_([s.value for s in flt.states]))
    if flt.channel is not None:
        stmt = stmt.where(Complaint.channel == flt.channel.value)
    if flt.category is not None:
        stmt = stmt.where(Complaint.category == flt.category.value)
    if flt.district:
        stmt = stmt.where(Complaint.district == flt.district)
    if flt.code:
        stmt = stmt.where(Complaint.registration_code == flt.code)
    if flt.overdue is not None:
        waiting = Complaint.state.in_([s.value for s in workflow.WAITING])
        late = waiting & Complaint.due_at.is_not(None) & (Complaint.due_at <= now)
        stmt = stmt.where(late if flt.overdue else ~late)
    return list(session.scalars(stmt.order_by(Complaint.id.desc()).limit(limit)))


def events_of(session: Session, complaint: Complaint) -> list[ComplaintEvent]:
    return list(
        session.scalars(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint.id)
            .order_by(ComplaintEvent.id)
        )
    )


def notices_of(session: Session, complaint: Complaint) -> list[Notice]:
    rows = session.scalars(
        select(ComplaintNotice)
        .where(ComplaintNotice.complaint_id == complaint.id)
        .order_by(ComplaintNotice.id)
    )
    return [Notice(r.complaint_id, r.kind, r.recipient, r.registration_code, r.details, r.key) for r in rows]


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    due = as_utc(complaint.due_at) if complaint.due_at else None
    return workflow.is_overdue(ComplaintState(complaint.state), due, now)


def districts(session: Session, actor: Actor) -> list[str]:
    """The districts of the complaints in the actor's scope (a filter's choices)."""
    stmt = _scoped(session, actor, select(Complaint.district).where(Complaint.district != "").distinct())
    return sorted(session.scalars(stmt))


def moves_for(session: Session, actor: Actor, complaint: Complaint) -> frozenset[Action]:
    unit = registry_queries.actor_unit_code(session, actor) if actor.role in workflow.UNIT_STAFF else None
    state = ComplaintState(complaint.state)
    return frozenset(
        a
        for a in Action
        if workflow.may(actor.role, a)
        and workflow.allowed(state, a)
        and not (workflow.needs_responsible_unit(actor.role, a) and unit != complaint.responsible_unit)
    )


# ---------------------------------------------------------------- the moves


def _acting(session: Session, actor: Actor, complaint_id: int, action: Action) -> Complaint:
    complaint = get_complaint(session, actor, complaint_id)
    if not workflow.may(actor.role, action):
        raise Forbidden(f"role '{actor.role.value}' may not {action.value} a complaint")
    if (
        workflow.needs_responsible_unit(actor.role, action)
        and registry_queries.actor_unit_code(session, actor) != complaint.responsible_unit
    ):
        raise Forbidden(
            f"complaint {complaint.id} is for unit '{complaint.responsible_unit}' to answer, not yours"
        )
    if not workflow.allowed(ComplaintState(complaint.state), action):
        raise Conflict(f"complaint {complaint.id} is {complaint.state}: it cannot be {action.value}ed now")
    return complaint


def _move(complaint: Complaint, action: Action, now: datetime) -> None:
    complaint.state = workflow.NEXT[action].value
    complaint.updated_at = now


def assign(
    session: Session,
    actor: Actor,
    complaint_id: int,
    clock: Clock,
    unit: str | None = None,
    cs: ComplaintSettings = DEFAULT_SETTINGS,
) -> Complaint:
    """Pass the complaint on to ``unit`` (default: the responsible unit the rule chose); again while it
    waits for the answer hands it to another unit, whose answer clock starts then."""
    complaint = _acting(session, actor, complaint_id, Action.ASSIGN)
    target = (unit or "").strip() or complaint.responsible_unit
    if not target:
        raise InvalidInput(FieldError("unit", "no responsible unit is known: name one"))
    if registry_queries.unit_by_code(session, target) is None:
        raise InvalidInput(FieldError("unit", f"no unit with code '{target}'"))
    now = clock.now()
    before = complaint.responsible_unit
    complaint.responsible_unit = target
    complaint.assigned_at = now
    _move(complaint, Action.ASSIGN, now)
    _arm(session, complaint, now, cs)
    _record(session, complaint, actor.username, "assigned", now, unit=target, before=before)
    return complaint


def answer(
    session: Session,
    actor: Actor,
    complaint_id: int,
    text: str,
    clock: Clock,
    cs: ComplaintSettings = DEFAULT_SETTINGS,
) -> Complaint:
    """The responsible unit's reply (答复): the complaint then waits for the verifier."""
    complaint = _acting(session, actor, complaint_id, Action.ANSWER)
    if not text.strip():
        raise InvalidInput(FieldError("answer", "say what was found and done"))
    if len(text) > 4000:
        raise InvalidInput(FieldError("answer", "at most 4000 characters"))
    now = clock.now()
    complaint.answer, complaint.answered_by, complaint.answered_at = text.strip(), actor.username, now
    _move(complaint, Action.ANSWER, now)
    _arm(session, complaint, now, cs)
    _record(session, complaint, actor.username, "answered", now)
    return complaint


def return_answer(
    session: Session,
    actor: Actor,
    complaint_id: int,
    note: str,
    clock: Clock,
    cs: ComplaintSettings = DEFAULT_SETTINGS,
) -> Complaint:
    """The verifier sends the answer back (the reason in ``note``): assigned again, a new answer clock."""
    complaint = _acting(session, actor, complaint_id, Action.RETURN)
    if not note.strip():
        raise InvalidInput(FieldError("note", "say why the answer is not enough"))
    now = clock.now()
    complaint.assigned_at = now
    _move(complaint, Action.RETURN, now)
    _arm(session, complaint, now, cs)
    _record(session, complaint, actor.username, "returned", now, note=note.strip(), answer=complaint.answer)
    return complaint


def verify(
    session: Session,
    actor: Actor,
    complaint_id: int,
    verdict: Verdict,
    note: str,
    clock: Clock,
    settings: Settings,
    open_hazard: bool = False,
    hazard_level: HazardLevel = HazardLevel.GENERAL,
) -> Complaint:
    """The centre's or regulator's verdict on the answer: founded or unfounded, with a note. A regulator
    verifying a founded complaint about an elevator may open a hidden danger at the same time."""
    complaint = _acting(session, actor, complaint_id, Action.VERIFY)
    if not note.strip():
        raise InvalidInput(FieldError("note", "say what the verification found"))
    if open_hazard:
        _check_hazard(actor, complaint, verdict)
    now = clock.now()
    complaint.verdict, complaint.verify_note = verdict.value, note.strip()
    complaint.verified_by, complaint.verified_at = actor.username, now
    _move(complaint, Action.VERIFY, now)
    _cancel_timers(session, complaint)
    complaint.due_at = None
    _record(session, complaint, actor.username, "verified", now, verdict=verdict.value, note=note.strip())
    _file_entry(session, actor.username, complaint, "complaint_verified", now, verdict=verdict.value)
    if open_hazard:
        open_hazard_from(session, actor, complaint.id, clock, settings, hazard_level)
    return complaint


def _check_hazard(actor: Actor, complaint: Complaint, verdict: Verdict | None) -> None:
    if actor.role not in workflow.REGULATORS:
        raise Forbidden("only the regulator opens a hidden danger from a complaint")
    if verdict is not Verdict.FOUNDED:
        raise InvalidInput(FieldError("open_hazard", "only a founded complaint opens a hidden danger"))
    if not complaint.registration_code:
        raise InvalidInput(FieldError("open_hazard", "the complaint names no elevator"))


def open_hazard_from(
    session: Session,
    actor: Actor,
    complaint_id: int,
    clock: Clock,
    settings: Settings,
    level: HazardLevel = HazardLevel.GENERAL,
) -> tuple[Complaint, int, bool]:
    """Open the hidden danger a founded complaint reveals (source complaint, the complaint's id as
    reference: once). Returns the complaint, the hazard id and whether it was opened now."""
    complaint = get_complaint(session, actor, complaint_id)
    verdict = Verdict(complaint.verdict) if complaint.verdict else None
    if complaint.state not in (ComplaintState.VERIFIED.value, ComplaintState.CLOSED.value):
        raise Conflict(f"complaint {complaint.id} is {complaint.state}: verify it first")
    _check_hazard(actor, complaint, verdict)
    assert complaint.registration_code is not None
    out = hazards.report(
        session,
        actor,
        complaint.registration_code,
        HazardSource.COMPLAINT,
        str(complaint.id),
        level,
        f"{complaint.text}\n\n{complaint.verify_note}".strip(),
        clock,
        settings,
        responsible_unit=complaint.responsible_unit or None,
    )
    if complaint.hazard_id is None:
        now = clock.now()
        complaint.hazard_id = out.hazard.id
        complaint.updated_at = now
        _record(session, complaint, actor.username, "hazard", now, hazard_id=out.hazard.id, level=level.value)
    return complaint, out.hazard.id, out.created


def close(session: Session, actor: Actor, complaint_id: int, reason: str, clock: Clock) -> Complaint:
    """办结: a verified complaint is closed; one only received may be closed without passing it on (a
    duplicate, withdrawn or abusive), with the reason."""
    complaint = _acting(session, actor, complaint_id, Action.CLOSE)
    if complaint.state == ComplaintState.RECEIVED.value and not reason.strip():
        raise InvalidInput(FieldError("reason", "say why the complaint is closed without passing it on"))
    now = clock.now()
    complaint.closed_at, complaint.close_reason = now, reason.strip()
    _move(complaint, Action.CLOSE, now)
    _cancel_timers(session, complaint)
    complaint.due_at = None
    _record(session, complaint, actor.username, "closed", now, reason=reason.strip())
    return complaint


# ---------------------------------------------------------------- timers


def fire_due_timers(session: Session, clock: Clock) -> list[Notice]:
    """Fire every due SLA limit, in any process, after any restart (SKIP LOCKED on PostgreSQL). A limit the
    complaint no longer waits on does nothing. The caller commits."""
    now = clock.now()
    notices: list[Notice] = []
    for timer in deadlines.fire_due(session, ComplaintTimer, now):
        complaint = session.get(Complaint, timer.complaint_id)
        step = Step(timer.kind)
        if complaint is None or workflow.WAITING.get(ComplaintState(complaint.state)) is not step:
            continue
        at = as_utc(timer.due_at)
        complaint.overdue_at, complaint.overdue_step = at, step.value
        complaint.updated_at = now
        event = _record(session, complaint, SCHEDULER, "overdue", at, step=step.value)
        for recipient in workflow.recipients(step):
            if recipient is Recipient.RESPONSIBLE:
                if complaint.responsible_unit:
                    notices.append(
                        _notice(session, complaint, event, "overdue", complaint.responsible_unit, step)
                    )
            else:
                notices.append(_notice(session, complaint, event, "overdue", REGULATOR, step))
    session.flush()
    return notices
