"""Applications' only writer and their scoped reads (一网通办, 既有多层住宅加装电梯).

Scope: admins, regulators and inspectors read every application; a use or maintenance unit's staff read
their own unit's (another's: 404); others 403. Use units submit every kind (admins too, on a unit's
behalf); maintenance units submit construction notices and modernisation projects for the elevators they
maintain. The one window's clerk (admin, regulator) records each department's decision, the acceptance
and the registration; the applicant (or the clerk) reports the start of construction.

Rules (docs/APPLICATIONS.md):
- Submitting routes the application to the departments of its kind (``domain.REVIEWERS``), each due
  LIFTWATCH_APPLICATIONS_REVIEW_DAYS later, with a durable timer; a review not decided by then is flagged
  late (``fire_due_timers``, also after a restart).
- An addition needs the owners' consent (``domain.consent_problem``): below the share it is refused (422).
- A rejection by any department rejects the application; when all approve, works kinds go on to
  construction and acceptance, the others complete and take effect at once (a registration change gives
  the elevator its new use unit, a cancellation scraps it, a use registration registers it).
- An addition completes with its use registration: the registry gets the elevator, and its file holds the
  application's whole trail (submission, each review, construction, acceptance) as entries dated when
  they happened. Every application on an elevator writes its trail onto the file as it goes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.applications import domain
from liftwatch.applications.domain import Consent, Decision, Department, Kind, Stage
from liftwatch.applications.models import Application, ApplicationEvent, ApplicationTimer, Review
from liftwatch.applications.settings import ApplicationSettings
from liftwatch.core import deadlines
from liftwatch.core.clock import Clock
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, clean_text
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.domain import ElevatorKind, EventKind, PlaceType, UnitType
from liftwatch.registry.schemas import ElevatorCreate, ElevatorUpdate, EventIn

StoredApplication: TypeAlias = Application
StoredReview: TypeAlias = Review

READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR})
CLERKS = frozenset({Role.ADMIN, Role.REGULATOR})
MAINTENANCE_KINDS = frozenset({Kind.CONSTRUCTION_NOTICE, Kind.MODERNISATION})


@dataclass(frozen=True)
class NewApplication:
    kind: Kind
    title: str
    registration_code: str = ""
    applicant_unit: str = ""  # admins name the unit; unit staff submit for their own
    district: str = ""
    address: str = ""
    form: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ApplicationView:
    application: Application
    reviews: list[Review]
    events: list[ApplicationEvent]
    late: int  # reviews past their deadline undecided (flagged or not yet fired)


# ---------------------------------------------------------------- helpers


def _own_unit(session: Session, actor: Actor) -> str | None:
    if actor.role in READ_ALL:
        return None
    if actor.role in (Role.USE_UNIT, Role.MAINTENANCE):
        code = registry_queries.actor_unit_code(session, actor)
        if code is None:
            raise Forbidden("an account of no unit has no applications")
        return code
    raise Forbidden(f"role '{actor.role.value}' may not read applications")


def _event(session: Session, app: Application, actor: str, kind: str, at: datetime, **details: Any) -> None:
    session.add(ApplicationEvent(application_id=app.id, at=at, actor=actor, kind=kind, details=details))
    session.flush()
    _to_file(session, app)


def _to_file(session: Session, app: Application) -> None:
    """The application's trail on its elevator's file (each step once: keyed by the trail row)."""
    if not app.registration_code:
        return
    events = session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == app.id)
        .order_by(ApplicationEvent.id)
    ).all()
    entries = [
        registry.SystemEntry(
            app.registration_code,
            f"application_{ev.kind}",
            ev.at,
            app.title,
            {"application_id": app.id, "reference": app.reference, "kind": app.kind, **ev.details},
            f"application:{app.id}:event:{ev.id}",
        )
        for ev in events
    ]
    registry.append_system_entries(session, entries, recorded_by="system")


def _clerk(actor: Actor) -> None:
    if actor.role not in CLERKS:
        raise Forbidden(f"role '{actor.role.value}' does not work the one window")


def _int(form: dict[str, Any], name: str, low: int = 0, high: int = 1_000_000) -> int:
    try:
        value = int(form.get(name, ""))
    except (TypeError, ValueError):
        raise InvalidInput(FieldError(name, "a whole number")) from None
    if not low <= value <= high:
        raise InvalidInput(FieldError(name, f"{low} to {high}, got {value}"))
    return value


def _number(form: dict[str, Any], name: str) -> float:
    try:
        value = float(form.get(name, ""))
    except (TypeError, ValueError):
        raise InvalidInput(FieldError(name, "a number")) from None
    if not 0 <= value <= 10_000_000:
        raise InvalidInput(FieldError(name, f"0 to 10,000,000, got {value}"))
    return value


def _check_form(kind: Kind, form: dict[str, Any], settings: ApplicationSettings) -> dict[str, Any]:
    """The kind's fields, checked and normalised (422 naming the field)."""
    out: dict[str, Any] = {}
    if kind is Kind.ADDITION:
        consent = Consent(
            _int(form, "households", 1, 10_000),
            _int(form, "households_consenting", 0, 10_000),
            _number(form, "area_m2"),
            _number(form, "area_consenting_m2"),
        )
        problem = domain.consent_problem(consent, settings.consent_share)
        if problem:
            raise InvalidInput(FieldError("households_consenting", problem))
        out.update(consent.__dict__, floors=_int(form, "floors", 2, 20))
    if kind in (Kind.ADDITION, Kind.MODERNISATION):
        sources = form.get("funding") or []
        if isinstance(sources, str):
            sources = [sources]
        try:
            out["funding"] = sorted({domain.FundingSource(s).value for s in sources})
        except ValueError:
            raise InvalidInput(FieldError("funding", "owners, repair_fund or subsidy")) from None
        if not out["funding"]:
            raise InvalidInput(FieldError("funding", "who pays: owners, repair_fund, subsidy"))
        out["budget_yuan"] = _number(form, "budget_yuan")
        out["subsidy_yuan"] = (
            _number(form, "subsidy_yuan") if form.get("subsidy_yuan") not in (None, "") else 0.0
        )
    if kind is Kind.MODERNISATION:
        out["scope"] = clean_text(str(form.get("scope", "")), "scope", 2000)
    if kind is Kind.CONSTRUCTION_NOTICE:
        work = str(form.get("work", ""))
        if work not in ("installation", "modernisation", "major_repair"):
            raise InvalidInput(FieldError("work", "installation, modernisation or major_repair"))
        out["work"] = work
        out["planned_start"] = _day(form, "planned_start").isoformat()
    if kind is Kind.REGISTRATION_CHANGE:
        out["use_unit"] = clean_text(str(form.get("use_unit", "")), "use_unit", 32)
    if kind is Kind.INSPECTION_REQUEST:
        out["preferred_date"] = _day(form, "preferred_date").isoformat()
    if kind is Kind.USE_REGISTRATION:
        for name in ("equipment_code", "manufacturer"):
            out[name] = clean_text(str(form.get(name, "")), name, 100, required=False)
        out["floors"] = _int(form, "floors", 2, 200)
    return out


def _day(form: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(form.get(name, "")))
    except ValueError:
        raise InvalidInput(FieldError(name, "a day, YYYY-MM-DD")) from None


# ---------------------------------------------------------------- submit


def submit(
    session: Session, actor: Actor, new: NewApplication, clock: Clock, settings: ApplicationSettings
) -> Application:
    """Submit an application (受理): checked, numbered, routed to its departments with their deadlines."""
    if actor.role not in (Role.ADMIN, Role.USE_UNIT, Role.MAINTENANCE):
        raise Forbidden(f"role '{actor.role.value}' may not submit applications")
    if actor.role is Role.MAINTENANCE and new.kind not in MAINTENANCE_KINDS:
        raise Forbidden(
            f"a maintenance unit submits construction notices and modernisation, not {new.kind.value}"
        )
    own = registry_queries.actor_unit_code(session, actor) if actor.role is not Role.ADMIN else None
    code = district = address = ""
    if new.kind in domain.ON_ELEVATOR:
        if not new.registration_code:
            raise InvalidInput(FieldError("registration_code", f"a {new.kind.value} names its elevator"))
        elevator = registry_queries.get_elevator_by_code(session, actor, new.registration_code)  # 404 outside
        code, district, address = elevator.registration_code, elevator.district, elevator.address or ""
        default_unit = elevator.use_unit.code if elevator.use_unit else ""
    else:
        district = clean_text(new.district, "district", 64)
        address = clean_text(new.address, "address", 255)
        default_unit = ""
    unit = own or clean_text(new.applicant_unit or default_unit, "applicant_unit", 32)
    if registry_queries.unit_by_code(session, unit) is None:
        raise InvalidInput(FieldError("applicant_unit", f"no unit '{unit}'"))
    form = _check_form(new.kind, dict(new.form), settings)
    now = clock.now()
    app = Application(
        reference=uuid.uuid4().hex[:20],
        kind=new.kind.value,
        stage=Stage.IN_REVIEW.value,
        applicant_unit=unit,
        applicant=actor.username,
        registration_code=code,
        district=district,
        address=address,
        title=clean_text(new.title, "title", 200),
        form=form,
        submitted_at=now,
        updated_at=now,
    )
    session.add(app)
    session.flush()
    app.reference = f"YW{now.year}-{app.id:06d}"
    for department in domain.REVIEWERS[new.kind]:
        review = Review(
            application_id=app.id,
            department=department.value,
            due_at=domain.review_due(now, settings.days),
            note="",
            decided_by="",
        )
        session.add(review)
        session.flush()
        session.add(ApplicationTimer(review_id=review.id, due_at=review.due_at, cancelled=False))
    _event(session, app, actor.username, "submitted", now, reference=app.reference)
    return app


# ---------------------------------------------------------------- reads


def _scoped(session: Session, actor: Actor, app: Application | None, what: str) -> Application:
    own = _own_unit(session, actor)
    if app is None or (own is not None and app.applicant_unit != own):
        raise NotFound(f"no application {what}")
    return app


def get(session: Session, actor: Actor, application_id: int, now: datetime) -> ApplicationView:
    app = _scoped(session, actor, session.get(Application, application_id), str(application_id))
    return _view(session, app, now)


def _view(session: Session, app: Application, now: datetime) -> ApplicationView:
    return _views(session, [app], now)[0]


def _views(session: Session, apps: Sequence[Application], now: datetime) -> list[ApplicationView]:
    """The applications with their reviews and trails: two reads for the whole list."""
    ids = [a.id for a in apps]
    reviews: dict[int, list[Review]] = {i: [] for i in ids}
    for r in session.scalars(select(Review).where(Review.application_id.in_(ids)).order_by(Review.id)):
        reviews[r.application_id].append(r)
    events: dict[int, list[ApplicationEvent]] = {i: [] for i in ids}
    stmt = (
        select(ApplicationEvent).where(ApplicationEvent.application_id.in_(ids)).order_by(ApplicationEvent.id)
    )
    for e in session.scalars(stmt):
        events[e.application_id].append(e)
    out = []
    for app in apps:
        rs = reviews[app.id]
        late = sum(1 for r in rs if r.decision is None and (r.late_at is not None or r.due_at <= now))
        out.append(ApplicationView(app, rs, events[app.id], late))
    return out


def list_applications(
    session: Session,
    actor: Actor,
    now: datetime,
    kind: Kind | None = None,
    stage: Stage | None = None,
    late_only: bool = False,
    limit: int = 500,
) -> list[ApplicationView]:
    """Applications in the actor's scope, newest first; ``late_only``: with a review past its deadline."""
    own = _own_unit(session, actor)
    stmt = select(Application)
    if own is not None:
        stmt = stmt.where(Application.applicant_unit == own)
    if kind is not None:
        stmt = stmt.where(Application.kind == kind.value)
    if stage is not None:
        stmt = stmt.where(Application.stage == stage.value)
    if late_only:
        late = select(Review.application_id).where(Review.decision.is_(None), Review.due_at <= now)
        stmt = stmt.where(Application.id.in_(late))
    rows = session.scalars(stmt.order_by(Application.submitted_at.desc(), Application.id.desc()).limit(limit))
    return _views(session, list(rows), now)


@dataclass(frozen=True)
class DistrictProgress:
    district: str
    by_stage: dict[str, int]
    total: int


def public_additions(session: Session) -> tuple[list[DistrictProgress], list[Application]]:
    """The public progress of additions by district (no login): counts by stage, and each building's
    application (number, district, address, stage, dates; no person)."""
    rows = session.execute(
        select(Application.district, Application.stage, func.count(Application.id))
        .where(Application.kind == Kind.ADDITION.value, Application.stage != Stage.WITHDRAWN.value)
        .group_by(Application.district, Application.stage)
    ).all()
    by: dict[str, dict[str, int]] = {}
    for district, stage, n in rows:
        by.setdefault(district, {})[stage] = int(n)
    progress = [DistrictProgress(d, s, sum(s.values())) for d, s in sorted(by.items())]
    apps = list(
        session.scalars(
            select(Application)
            .where(Application.kind == Kind.ADDITION.value, Application.stage != Stage.WITHDRAWN.value)
            .order_by(Application.district, Application.submitted_at.desc())
            .limit(2000)
        )
    )
    return progress, apps


# ---------------------------------------------------------------- the window's steps


def _for_clerk(session: Session, actor: Actor, application_id: int) -> Application:
    _clerk(actor)
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(f"no application {application_id}")
    return app


def _must_be(app: Application, *stages: Stage) -> None:
    if app.stage not in {s.value for s in stages}:
        wanted = " or ".join(s.value for s in stages)
        raise Conflict(f"application {app.reference} is {app.stage}, not {wanted}")


def decide(
    session: Session,
    actor: Actor,
    application_id: int,
    department: Department,
    decision: Decision,
    note: str,
    clock: Clock,
    registration_code: str = "",
) -> ApplicationView:
    """Record one department's decision (the window's clerk). When the last one approves, a works kind
    may start construction; another kind completes and takes effect (a use registration needs the
    ``registration_code`` the market supervision department gives it)."""
    app = _for_clerk(session, actor, application_id)
    _must_be(app, Stage.IN_REVIEW)
    review = session.scalars(
        select(Review).where(Review.application_id == app.id, Review.department == department.value)
    ).first()
    if review is None:
        raise InvalidInput(FieldError("department", f"{department.value} does not review a {app.kind}"))
    if review.decision is not None:
        raise Conflict(f"{department.value} decided already ({review.decision})")
    now = clock.now()
    review.decision = decision.value
    review.note = clean_text(note, "note", 2000, required=decision is Decision.REJECTED)
    review.decided_at = now
    review.decided_by = actor.username
    for timer in session.scalars(select(ApplicationTimer).where(ApplicationTimer.review_id == review.id)):
        timer.cancelled = True
    late = review.due_at < now
    details = {"department": department.value, "decision": decision.value, "note": review.note, "late": late}
    _event(session, app, actor.username, "reviewed", now, **details)
    reviews = session.scalars(select(Review).where(Review.application_id == app.id)).all()
    stage = domain.stage_after_reviews(
        [Decision(r.decision) if r.decision else None for r in reviews], Kind(app.kind)
    )
    if stage is not Stage.IN_REVIEW:
        app.decided_at = now
    if stage is Stage.COMPLETED:
        _take_effect(session, actor, app, clock, registration_code)
        app.completed_at = now
    app.stage = stage.value
    app.updated_at = now
    if stage in (Stage.REJECTED, Stage.APPROVED, Stage.COMPLETED):
        _event(session, app, actor.username, stage.value, now)
    return _view(session, app, now)


def _take_effect(
    session: Session, actor: Actor, app: Application, clock: Clock, registration_code: str
) -> None:
    kind = Kind(app.kind)
    form = app.form
    if kind is Kind.REGISTRATION_CHANGE:
        registry.update_elevator(
            session, actor, app.registration_code, ElevatorUpdate(use_unit=form["use_unit"]), clock
        )
    elif kind is Kind.REGISTRATION_CANCEL:
        registry.record_event(
            session, actor, app.registration_code, EventIn(kind=EventKind.SCRAPPING, summary=app.title), clock
        )
    elif kind is Kind.USE_REGISTRATION:
        _register(session, actor, app, registration_code, "", clock, form.get("floors"))


def _register(
    session: Session,
    actor: Actor,
    app: Application,
    registration_code: str,
    maintenance_unit: str,
    clock: Clock,
    floors: int | None,
) -> None:
    """Register the elevator the application is for (使用登记) and put the application's trail on its file."""
    code = clean_text(registration_code, "registration_code", 40)
    data = ElevatorCreate(
        registration_code=code,
        rescue_code=registry.next_rescue_code(session),
        kind=ElevatorKind.TRACTION,
        place_type=PlaceType.RESIDENTIAL,
        district=app.district,
        address=app.address,
        use_unit=app.applicant_unit,
        maintenance_unit=maintenance_unit or None,
        installation_date=clock.today(),
        commissioning_date=clock.today(),
        floors=floors,
        stops=floors,
        equipment_code=app.form.get("equipment_code") or None,
        manufacturer=app.form.get("manufacturer") or None,
    )
    unit = registry_queries.unit_by_code(session, app.applicant_unit)
    if unit is None or unit.unit_type != UnitType.USE_UNIT.value:
        raise InvalidInput(
            FieldError("applicant_unit", f"'{app.applicant_unit}' is no use unit to register for")
        )
    registry.create_elevator(session, actor, data, clock)
    app.registration_code = code
    session.flush()
    _to_file(session, app)


def start_construction(
    session: Session, actor: Actor, application_id: int, started_on: date, clock: Clock
) -> ApplicationView:
    """施工开始: by the applicant's unit or the clerk, after approval."""
    if actor.role not in CLERKS | {Role.USE_UNIT, Role.MAINTENANCE}:
        raise Forbidden(f"role '{actor.role.value}' may not report construction")
    app = session.get(Application, application_id)
    if actor.role not in CLERKS:
        app = _scoped(session, actor, app, str(application_id))
    elif app is None:
        raise NotFound(f"no application {application_id}")
    _must_be(app, Stage.APPROVED)
    now = clock.now()
    if started_on > clock.today():
        raise InvalidInput(FieldError("started_on", f"{started_on} is in the future"))
    app.stage = Stage.CONSTRUCTION.value
    app.updated_at = now
    _event(session, app, actor.username, "construction", now, started_on=started_on.isoformat())
    return _view(session, app, now)


def accept(
    session: Session, actor: Actor, application_id: int, report: str, passed: bool, clock: Clock
) -> ApplicationView:
    """验收: the acceptance inspection's result (the clerk records it with its report number). Passed: an
    addition awaits its registration; a modernisation completes and is on the file. Failed: construction
    goes on."""
    app = _for_clerk(session, actor, application_id)
    _must_be(app, Stage.CONSTRUCTION)
    now = clock.now()
    number = clean_text(report, "report", 64)
    _event(session, app, actor.username, "acceptance", now, report=number, passed=passed)
    if not passed:
        return _view(session, app, now)
    if Kind(app.kind) is Kind.MODERNISATION:
        registry.record_event(
            session,
            actor,
            app.registration_code,
            EventIn(kind=EventKind.MODERNISATION, summary=f"{app.title}（{app.reference}，验收 {number}）"),
            clock,
        )
        app.stage = Stage.COMPLETED.value
        app.completed_at = now
        _event(session, app, actor.username, "completed", now)
    else:
        app.stage = Stage.ACCEPTANCE.value
    app.updated_at = now
    return _view(session, app, now)


def register(
    session: Session,
    actor: Actor,
    application_id: int,
    registration_code: str,
    maintenance_unit: str,
    clock: Clock,
) -> ApplicationView:
    """使用登记 of an added elevator after its acceptance: the registry gets it, its file the whole trail."""
    app = _for_clerk(session, actor, application_id)
    _must_be(app, Stage.ACCEPTANCE)
    now = clock.now()
    _register(session, actor, app, registration_code, maintenance_unit, clock, app.form.get("floors"))
    app.stage = Stage.COMPLETED.value
    app.completed_at = now
    app.updated_at = now
    _event(session, app, actor.username, "completed", now, registration_code=app.registration_code)
    return _view(session, app, now)


def withdraw(session: Session, actor: Actor, application_id: int, clock: Clock) -> ApplicationView:
    """The applicant withdraws an application still in review."""
    app = _scoped(session, actor, session.get(Application, application_id), str(application_id))
    if actor.role not in (Role.ADMIN, Role.USE_UNIT, Role.MAINTENANCE):
        raise Forbidden(f"role '{actor.role.value}' may not withdraw applications")
    _must_be(app, Stage.IN_REVIEW)
    now = clock.now()
    app.stage = Stage.WITHDRAWN.value
    app.updated_at = now
    for review in session.scalars(select(Review).where(Review.application_id == app.id)):
        for timer in session.scalars(select(ApplicationTimer).where(ApplicationTimer.review_id == review.id)):
            timer.cancelled = True
    _event(session, app, actor.username, "withdrawn", now)
    return _view(session, app, now)


# ---------------------------------------------------------------- deadlines


def fire_due_timers(session: Session, clock: Clock) -> list[Review]:
    """Flag every review whose deadline passed undecided (``late_at``, a trail entry); a worker calls this
    every few seconds, in any process, after any restart. The caller commits."""
    now = clock.now()
    flagged: list[Review] = []
    for timer in deadlines.fire_due(session, ApplicationTimer, now):
        review = session.get(Review, timer.review_id)
        if review is None or review.decision is not None or review.late_at is not None:
            continue
        app = session.get(Application, review.application_id)
        if app is None or app.stage != Stage.IN_REVIEW.value:
            continue
        review.late_at = now
        late = {"department": review.department, "due_at": review.due_at.isoformat()}
        _event(session, app, "system", "review_late", now, **late)
        flagged.append(review)
    return flagged


def late_reviews(session: Session, actor: Actor, now: datetime) -> list[tuple[Application, Review]]:
    """Reviews past their deadline and undecided, oldest deadline first (the clerk's and regulator's list)."""
    own = _own_unit(session, actor)
    stmt = (
        select(Application, Review)
        .join(Review, Review.application_id == Application.id)
        .where(Review.decision.is_(None), Review.due_at <= now, Application.stage == Stage.IN_REVIEW.value)
        .order_by(Review.due_at)
    )
    if own is not None:
        stmt = stmt.where(Application.applicant_unit == own)
    return [(a, r) for a, r in session.execute(stmt).all()]
