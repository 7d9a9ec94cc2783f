"""The complaint screens (投诉): the centre's intake form and list, one complaint with its trail and the forms
of the moves its reader may make, the unit's list and answer form (made for a 390 px phone), and the public
form in the car with its receipt page.

``/complaints`` lists what the service lets the actor read (the centre: all, the complainant masked; units:
their own, without the complainant), filtered by state, channel, category, district and overdue.
``/complaints/new`` is the centre's intake (12345, WeChat, 96333 calls). ``/complaints/{id}`` shows one with
only the forms ``service.moves_for`` allows. ``/public/elevators/{code}/complaint`` (no sign-in) is the
passenger's form, guarded by the service (honeypot, signed timestamp, limits, duplicates); a refusal is the
form again with its reason and a 4xx status; a complaint taken gives a receipt number whose status
``/public/complaints/{receipt}`` shows (state only, no person, no text).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.responses import Response as BaseResponse
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.complaints import queries, service, workflow
from liftwatch.complaints.settings import for_app
from liftwatch.complaints.workflow import Category, Channel, ComplaintSettings, ComplaintState, Verdict
from liftwatch.core import csrf
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.hazards.workflow import HazardLevel
from liftwatch.registry import queries as registry
from liftwatch.web.templating import N_, PageActorDep, PageRoute, render, screen_tz

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXT_MAX = 64
NOTE_MAX = 2000
ANSWER_MAX = 4000
ROWS_READ = 2000
ROWS_SHOWN = 300
READERS = workflow.CENTRE | workflow.UNIT_STAFF
#: Page-text keys this module hands to templates.
KEYS = (
    N_("cp.err_text"),
    N_("cp.err_code"),
    N_("cp.err_unit"),
    N_("cp.err_ref"),
    N_("cp.err_note"),
    N_("cp.err_answer"),
    N_("cp.err_reason"),
    N_("cp.err_choice"),
    N_("cp.err_phone"),
    N_("cp.err_hazard"),
    N_("cp.refused_honeypot"),
    N_("cp.refused_token"),
    N_("cp.refused_too_fast"),
    N_("cp.refused_expired"),
    N_("cp.refused_rate_address"),
    N_("cp.refused_rate_elevator"),
    N_("cp.refused_duplicate"),
    N_("search.invalid_choice"),
)
FIELD_ERRORS = {
    "text": N_("cp.err_text"),
    "code": N_("cp.err_code"),
    "unit": N_("cp.err_unit"),
    "external_ref": N_("cp.err_ref"),
    "note": N_("cp.err_note"),
    "answer": N_("cp.err_answer"),
    "reason": N_("cp.err_reason"),
    "channel": N_("cp.err_choice"),
    "open_hazard": N_("cp.err_hazard"),
}


@dataclass(frozen=True)
class ComplaintPage:
    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: Settings
    cs: ComplaintSettings


def complaint_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> ComplaintPage:
    if actor.role not in READERS:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    return ComplaintPage(request, actor, session, clock, settings, for_app(request.app.state))


ComplaintPageDep = Annotated[ComplaintPage, Depends(complaint_page)]


def _param(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:TEXT_MAX]


@dataclass(frozen=True)
class Row:
    c: service.StoredComplaint
    address: str
    unit: str  # the responsible unit's name
    overdue: bool
    name: str  # the complainant as this reader may see them ("" for units)
    phone: str


def rows_of(page: ComplaintPage, complaints: list[service.StoredComplaint], masked: bool = True) -> list[Row]:
    now = page.clock.now()
    codes = sorted({c.registration_code for c in complaints if c.registration_code})
    places = registry.places_of(page.session, codes)
    names = registry.unit_names(page.session, {c.responsible_unit for c in complaints if c.responsible_unit})
    personal = service.sees_personal_data(page.actor)
    out = []
    for c in complaints:
        place = places.get(c.registration_code or "")
        address = " · ".join(x for x in (place.district, place.street, place.address) if x) if place else ""
        name = phone = ""
        if personal:
            name = service.mask_name(c.complainant_name) if masked else c.complainant_name
            phone = service.mask_phone(c.complainant_phone) if masked else c.complainant_phone
        out.append(
            Row(
                c,
                address,
                names.get(c.responsible_unit, c.responsible_unit),
                service.is_overdue(c, now),
                name,
                phone,
            )
        )
    return out


# ---------------------------------------------------------------- the list


@router.get("/complaints", response_class=HTMLResponse)
def complaints_page(page: ComplaintPageDep) -> HTMLResponse:
    """投诉处理: the complaints in the actor's scope with their counts, filtered."""
    request, now = page.request, page.clock.now()
    state, channel, category = (
        _param(request, "state"),
        _param(request, "channel"),
        _param(request, "category"),
    )
    district, overdue = _param(request, "district"), _param(request, "overdue") == "1"
    errors: dict[str, str] = {}
    for name, value, allowed in (
        ("state", state, {s.value for s in ComplaintState}),
        ("channel", channel, {v.value for v in Channel}),
        ("category", category, {v.value for v in Category}),
    ):
        if value and value not in allowed:
            errors[name] = N_("search.invalid_choice")
    state = "" if "state" in errors else state
    channel = "" if "channel" in errors else channel
    category = "" if "category" in errors else category
    every = service.list_complaints(page.session, page.actor, service.Filter(), now, limit=ROWS_READ)
    finished = {s.value for s in workflow.FINISHED}
    counts = {
        "open": sum(1 for c in every if c.state not in finished),
        "overdue": sum(1 for c in every if service.is_overdue(c, now)),
        "received": sum(1 for c in every if c.state == ComplaintState.RECEIVED.value),
        "to_verify": sum(1 for c in every if c.state == ComplaintState.ANSWERED.value),
    }
    chosen = [
        c
        for c in every
        if (not state or c.state == state)
        and (not channel or c.channel == channel)
        and (not category or c.category == category)
        and (not district or c.district == district)
        and (not overdue or service.is_overdue(c, now))
    ]
    context = {
        "rows": rows_of(page, chosen[:ROWS_SHOWN]),
        "total": len(chosen),
        "counts": counts,
        "state": state,
        "channel": channel,
        "category": category,
        "district": district,
        "overdue": overdue,
        "errors": errors,
        "states": [s.value for s in ComplaintState],
        "channels": [v.value for v in Channel],
        "categories": [v.value for v in Category],
        "districts": sorted({c.district for c in every if c.district}),
        "centre": page.actor.role in workflow.CENTRE,
    }
    return render(request, "complaints/list.html", context, actor=page.actor)


# ---------------------------------------------------------------- the centre's intake


@dataclass
class IntakeForm:
    channel: str = Channel.HOTLINE_12345.value
    external_ref: str = ""
    category: str = Category.OUT_OF_SERVICE.value
    code: str = ""
    unit: str = ""
    text: str = ""
    name: str = ""
    phone: str = ""
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex)
    errors: dict[str, str] = field(default_factory=dict)


def _intake_page(page: ComplaintPage, form: IntakeForm, status_code: int = 200) -> HTMLResponse:
    if page.actor.role not in workflow.CENTRE:
        raise Forbidden(f"role '{page.actor.role.value}' does not take complaints in")
    context = {
        "form": form,
        "channels": [v.value for v in Channel if v is not Channel.PUBLIC_PAGE],
        "categories": [v.value for v in Category],
    }
    return render(page.request, "complaints/new.html", context, actor=page.actor, status_code=status_code)


@router.get("/complaints/new", response_class=HTMLResponse)
def intake_form(page: ComplaintPageDep) -> HTMLResponse:
    return _intake_page(page, IntakeForm())


@router.post("/complaints/new", response_class=HTMLResponse)
def intake_submit(
    page: ComplaintPageDep,
    channel: Annotated[str, Form()] = "",
    external_ref: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
) -> BaseResponse:
    """受理投诉. Without the channel's own reference the form's one-time nonce stands for it, so a form sent
    twice is one complaint."""
    form = IntakeForm(
        channel, external_ref.strip(), category, code.strip(), unit.strip(), text, name.strip(), phone.strip()
    )
    form.nonce = nonce.strip()[:TEXT_MAX] or form.nonce
    if channel not in {v.value for v in Channel} or channel == Channel.PUBLIC_PAGE.value:
        form.errors["channel"] = N_("cp.err_choice")
    if category not in {v.value for v in Category}:
        form.errors["category"] = N_("cp.err_choice")
    if len(form.external_ref) > 120:
        form.errors["external_ref"] = N_("cp.err_ref")
    if len(form.code) > 40:
        form.errors["code"] = N_("cp.err_code")
    if len(form.unit) > 32:
        form.errors["unit"] = N_("cp.err_unit")
    if len(form.name) > 64:
        form.errors["name"] = N_("cp.err_text")
    if len(form.phone) > 32 or any(ch not in "0123456789+- " for ch in form.phone):
        form.errors["phone"] = N_("cp.err_phone")
    if not text.strip() or len(text) > ANSWER_MAX:
        form.errors["text"] = N_("cp.err_text")
    if form.errors:
        return _intake_page(page, form, 422)
    data = service.Intake(
        Channel(channel),
        form.external_ref or f"web:{form.nonce}",
        Category(category),
        text,
        code=form.code or None,
        unit=form.unit or None,
        complainant_name=form.name,
        complainant_phone=form.phone,
    )
    try:
        out = service.intake(page.session, page.actor, data, page.clock, page.cs)
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            form.errors.setdefault(err.field, FIELD_ERRORS.get(err.field, N_("cp.err_text")))
        return _intake_page(page, form, 422)
    page.session.commit()
    log.info("complaint %s taken in by %s", out.complaint.id, page.actor.username)
    return RedirectResponse(f"/complaints/{out.complaint.id}", status_code=303)


# ---------------------------------------------------------------- one complaint


@dataclass
class MoveForm:
    which: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _detail_page(
    page: ComplaintPage,
    complaint_id: int,
    form: MoveForm | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    complaint = service.get_complaint(page.session, page.actor, complaint_id)  # 404 outside scope
    moves = service.moves_for(page.session, page.actor, complaint)
    context = {
        "row": rows_of(page, [complaint], masked=False)[0],
        "c": complaint,
        "events": service.events_of(page.session, complaint),
        "moves": {m.value for m in moves},
        "form": form or MoveForm(),
        "conflict": conflict,
        "personal": service.sees_personal_data(page.actor),
        "may_open_hazard": page.actor.role in workflow.REGULATORS and bool(complaint.registration_code),
        "verdicts": [v.value for v in Verdict],
        "levels": [v.value for v in HazardLevel],
    }
    return render(page.request, "complaints/detail.html", context, actor=page.actor, status_code=status_code)


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def detail_page(page: ComplaintPageDep, complaint_id: int) -> HTMLResponse:
    return _detail_page(page, complaint_id)


def _apply(
    page: ComplaintPage, complaint_id: int, form: MoveForm, move: Callable[[], object]
) -> BaseResponse:
    if form.errors:
        return _detail_page(page, complaint_id, form=form, status_code=422)
    try:
        move()
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            form.errors.setdefault(err.field, FIELD_ERRORS.get(err.field, N_("cp.err_text")))
        return _detail_page(page, complaint_id, form=form, status_code=422)
    except Conflict as exc:
        page.session.rollback()
        log.info(
            "complaint %s %s refused for %s: %s", complaint_id, form.which, page.actor.username, exc.message
        )
        return _detail_page(page, complaint_id, conflict=True, status_code=409)
    page.session.commit()
    log.info("complaint %s %s by %s", complaint_id, form.which, page.actor.username)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


def _text_error(text: str, limit: int, empty: str) -> str | None:
    if not text.strip():
        return empty
    if len(text) > limit:
        return N_("cp.err_text")
    return None


@router.post("/complaints/{complaint_id}/assign", response_class=HTMLResponse)
def assign(page: ComplaintPageDep, complaint_id: int, unit: Annotated[str, Form()] = "") -> BaseResponse:
    """转办: to the rule's unit, or the one typed."""
    form = MoveForm("assign", {"unit": unit})
    if len(unit.strip()) > 32:
        form.errors["unit"] = N_("cp.err_unit")
    return _apply(
        page,
        complaint_id,
        form,
        lambda: service.assign(
            page.session, page.actor, complaint_id, page.clock, unit.strip() or None, page.cs
        ),
    )


@router.post("/complaints/{complaint_id}/answer", response_class=HTMLResponse)
def answer(page: ComplaintPageDep, complaint_id: int, answer: Annotated[str, Form()] = "") -> BaseResponse:
    """答复: what the unit found and did."""
    form = MoveForm("answer", {"answer": answer})
    if (err := _text_error(answer, ANSWER_MAX, N_("cp.err_answer"))) is not None:
        form.errors["answer"] = err
    return _apply(
        page,
        complaint_id,
        form,
        lambda: service.answer(page.session, page.actor, complaint_id, answer, page.clock, page.cs),
    )


@router.post("/complaints/{complaint_id}/verdict", response_class=HTMLResponse)
def verdict(
    page: ComplaintPageDep,
    complaint_id: int,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    open_hazard: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
) -> BaseResponse:
    """核查: founded, unfounded (a note required), or returned for a new answer."""
    form = MoveForm("verdict", {"note": note})
    if decision not in {*(v.value for v in Verdict), "return"}:
        form.errors["decision"] = N_("cp.err_choice")
    if level and level not in {v.value for v in HazardLevel}:
        form.errors["level"] = N_("cp.err_choice")
    if (err := _text_error(note, NOTE_MAX, N_("cp.err_note"))) is not None:
        form.errors["note"] = err

    def move() -> None:
        if decision == "return":
            service.return_answer(page.session, page.actor, complaint_id, note, page.clock, page.cs)
        else:
            service.verify(
                page.session,
                page.actor,
                complaint_id,
                Verdict(decision),
                note,
                page.clock,
                page.settings,
                open_hazard=open_hazard == "1",
                hazard_level=HazardLevel(level or HazardLevel.GENERAL.value),
            )

    return _apply(page, complaint_id, form, move)


@router.post("/complaints/{complaint_id}/close", response_class=HTMLResponse)
def close(page: ComplaintPageDep, complaint_id: int, reason: Annotated[str, Form()] = "") -> BaseResponse:
    """办结."""
    form = MoveForm("close", {"reason": reason})
    if len(reason) > NOTE_MAX:
        form.errors["reason"] = N_("cp.err_text")
    return _apply(
        page,
        complaint_id,
        form,
        lambda: service.close(page.session, page.actor, complaint_id, reason, page.clock),
    )


# ---------------------------------------------------------------- public


@dataclass
class PublicForm:
    category: str = Category.OUT_OF_SERVICE.value
    text: str = ""
    phone: str = ""
    token: str = ""
    refused: str = ""  # the page-text key of a refusal
    errors: dict[str, str] = field(default_factory=dict)


def _public_form(
    request: Request,
    session: Session,
    clock: Clock,
    code: str,
    form: PublicForm,
    status_code: int = 200,
) -> HTMLResponse:
    view = registry.public_view(session, code)  # 404 for an unknown code
    form.token = service.form_token(request.app.state.secret_key, view.registration_code, clock.now())
    cs = for_app(request.app.state)
    context = {
        "p": view,
        "form": form,
        "categories": [v.value for v in Category],
        "text_min": int(cs.text_min),
        "text_max": int(cs.text_max),
        "action": f"/public/elevators/{quote(code, safe='')}/complaint",
    }
    return render(request, "complaints/public_form.html", context, status_code=status_code)


@router.get("/public/elevators/{code}/complaint", response_class=HTMLResponse)
def public_form(request: Request, code: str, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    """投诉: the passenger's form, no sign-in."""
    return _public_form(request, session, clock, code, PublicForm())


@router.post("/public/elevators/{code}/complaint", response_class=HTMLResponse)
def public_submit(
    request: Request,
    code: str,
    session: SessionDep,
    clock: ClockDep,
    category: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",  # the honeypot: hidden from people, filled by bots
) -> BaseResponse:
    """Take the passenger's complaint (the service's guards) and show its receipt; a refusal shows the form
    again with the reason and a 4xx status."""
    csrf.check_origin(request)  # no session here: the origin, and the signed token below
    cs = for_app(request.app.state)
    form = PublicForm(category, text[: int(cs.text_max) + 100], phone[:32])
    if category not in {v.value for v in Category}:
        form.errors["category"] = N_("cp.err_choice")
    if any(ch not in "0123456789+- " for ch in phone) or len(phone) > 20:
        form.errors["phone"] = N_("cp.err_phone")
    stripped = text.strip()
    if len(stripped) < cs.text_min or len(stripped) > cs.text_max:
        form.errors["text"] = N_("cp.err_text")
    if form.errors:
        return _public_form(request, session, clock, code, form, 422)
    client = request.client.host if request.client else "unknown"
    try:
        out = service.public_intake(
            session,
            code,
            Category(category),
            text,
            token,
            website,
            client,
            request.app.state.secret_key,
            clock,
            cs,
            contact_phone=phone,
        )
    except service.Refused as exc:
        session.rollback()
        log.info("public complaint on %s refused: %s", code, exc.reason)
        form.refused = f"cp.refused_{exc.reason}"
        if exc.reason == "honeypot":
            form.text = ""
        return _public_form(request, session, clock, code, form, exc.status_code)
    except InvalidInput as exc:
        session.rollback()
        for err in exc.errors:
            form.errors.setdefault(err.field, FIELD_ERRORS.get(err.field, N_("cp.err_text")))
        return _public_form(request, session, clock, code, form, 422)
    session.commit()
    return RedirectResponse(f"/public/complaints/{out.complaint.receipt}?new=1", status_code=303)


@router.get("/public/complaints", response_class=HTMLResponse)
def public_lookup(request: Request) -> BaseResponse:
    """The receipt lookup form; with ``?receipt=`` it goes to that receipt's page."""
    receipt = request.query_params.get("receipt", "").strip().upper()[:20]
    if receipt:
        return RedirectResponse(f"/public/complaints/{quote(receipt, safe='')}", status_code=303)
    return render(request, "complaints/public_status.html", {"s": None, "new": False})


@router.get("/public/complaints/{receipt}", response_class=HTMLResponse)
def public_status(request: Request, receipt: str, session: SessionDep) -> HTMLResponse:
    """A complaint's status by receipt: the state only (no person, no text)."""
    status = service.public_status(session, receipt)
    new = request.query_params.get("new") == "1"
    return render(request, "complaints/public_status.html", {"s": status, "new": new})


# ---------------------------------------------------------------- the KPI on the reports page


def complaint_rate_figure(
    session: Session, actor: Actor, first: date | None, last: date | None, today: date
) -> dict[str, Any] | None:
    """The complaint rate (投诉率, docs/KPIS.md) of the days ``first``..``last`` on the city's clock (default:
    the 30 days to ``today``), for the centre's reports page; None for others or an empty period."""
    if actor.role not in workflow.CENTRE:
        return None
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last:
        return None
    tz = screen_tz()
    start = datetime.combine(first, time(0, 0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)
    rate = queries.complaint_rate(session, start, end, registry.count_in_service(session))
    return {"first": first, "last": last, "rate": rate}
