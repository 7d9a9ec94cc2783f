"""The hidden-danger screens (隐患排查治理): the regulator's list and the units' own, one hazard with its
trail and the forms its reader may use, the report form, and the public list of supervised rectifications
(挂牌督办).

``/hazards`` lists the hazards the service lets the actor read (regulators, admins and inspectors: all;
maintenance and use-unit staff: their own elevators' and those their unit must rectify), with the counts of
open, overdue and supervised ones, filtered by state, level, source, district and overdue.
``/hazards/{id}`` shows one with its trail and evidence, and only the forms of the moves the service says
the actor may make now (``service.moves_for``): start and evidence for the responsible unit, the verdict
(a note required either way), the deadline and closing for the regulator, the corrective work order.
A refused field is shown at the field (422); a hazard someone moved meanwhile shows as it is now (409).
``/hazards/new`` is the report form of the centre and inspectors. On a residential elevator's hazard the page
also shows the emergency use of the repair fund (维修资金紧急使用): the ledger of requests with their
disbursements and the fund forms the service says the actor may use now (``service.fund_moves_for``: the
use unit asks, pays out and completes; the regulator approves or refuses); amounts are typed in yuan and
kept in fen. ``/hazards/fund`` is the regulator's city-wide list with the totals by district.
``/public/hazards/supervised`` needs no sign-in and shows only what ``service.public_supervised`` gives: no
person, no free text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.responses import Response as BaseResponse
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.hazards import service
from liftwatch.hazards.fund import MAX_AMOUNT_FEN, Applicant, FundAction, FundState
from liftwatch.hazards.workflow import HazardLevel, HazardSource, HazardState
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import PlaceType
from liftwatch.web.templating import N_, PageActorDep, PageRoute, city_time, render, screen_tz

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXT_MAX = 64
NOTE_MAX = 2000
EVIDENCE_MAX = 4000
#: Hazards read per list (the counts are of these): a desk screen, not an export.
ROWS_READ = 2000
ROWS_SHOWN = 300
#: Who reads hazards on these screens (the service scopes what each sees; other roles 403).
READERS = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR, Role.MAINTENANCE, Role.USE_UNIT})
#: Who reports on /hazards/new (unit staff report through the API, on their own elevators).
REPORTERS = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR})
VERDICTS = ("verify", "reject")
#: Page-text keys this module hands to templates (errors).
KEYS = (
    N_("hz.err_note"),
    N_("hz.err_too_long"),
    N_("hz.err_text"),
    N_("hz.err_reason"),
    N_("hz.err_deadline"),
    N_("hz.err_code"),
    N_("hz.err_description"),
    N_("hz.err_choice"),
    N_("search.invalid_choice"),
    N_("hz.err_amount"),
    N_("hz.err_required"),
    N_("hz.err_fund_place"),
    N_("hz.err_fund_date"),
    N_("hz.err_fund_unpaid"),
)
#: The service's refused fields -> the form's message.
FIELD_ERRORS = {
    "note": N_("hz.err_note"),
    "text": N_("hz.err_text"),
    "reason": N_("hz.err_reason"),
    "deadline": N_("hz.err_deadline"),
    "code": N_("hz.err_code"),
    "responsible_unit": N_("hz.err_code"),
    "attachment_id": N_("hz.err_text"),
    "amount_fen": N_("hz.err_amount"),
    "approved_fen": N_("hz.err_amount"),
    "quote": N_("hz.err_required"),
    "purpose": N_("hz.err_required"),
    "voucher": N_("hz.err_required"),
    "request_key": N_("hz.err_required"),
    "place_type": N_("hz.err_fund_place"),
    "use_unit": N_("hz.err_fund_place"),
    "paid_on": N_("hz.err_fund_date"),
    "payments": N_("hz.err_fund_unpaid"),
}
#: Who reads the city's repair-fund list (the housing authority's stand-ins).
FUND_READERS = frozenset({Role.ADMIN, Role.REGULATOR})


@dataclass(frozen=True)
class HazardPage:
    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: Settings


def hazard_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HazardPage:
    if actor.role not in READERS:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    return HazardPage(request, actor, session, clock, settings)


HazardPageDep = Annotated[HazardPage, Depends(hazard_page)]


def _param(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:TEXT_MAX]


def last_day(deadline: datetime) -> str:
    """The deadline as its last day (it is the midnight after it, on the city's clock)."""
    return city_time(as_utc(deadline) - timedelta(microseconds=1), "%Y-%m-%d")


def overdue_days(deadline: datetime, now: datetime) -> int:
    """Whole days, counted from the first, since the deadline passed."""
    return (now - as_utc(deadline)) // timedelta(days=1) + 1


@dataclass(frozen=True)
class Row:
    """A hazard as the screens show it: where, who must fix it, by when."""

    hazard: service.StoredHazard
    address: str
    district: str
    unit: str  # the responsible unit's name
    due: str
    overdue: bool
    days: int  # days overdue, 0 when not


def rows_of(session: Session, hazards: Sequence[service.StoredHazard], now: datetime) -> list[Row]:
    places = registry.places_of(session, sorted({h.registration_code for h in hazards}))
    names = registry.unit_names(session, {h.responsible_unit for h in hazards})
    out = []
    for h in hazards:
        place = places.get(h.registration_code)
        late = service.is_overdue(h, now)
        out.append(
            Row(
                hazard=h,
                address=" · ".join(x for x in (place.district, place.street, place.address) if x)
                if place
                else "",
                district=place.district if place else "",
                unit=names.get(h.responsible_unit, h.responsible_unit),
                due=last_day(h.deadline),
                overdue=late,
                days=overdue_days(h.deadline, now) if late else 0,
            )
        )
    return out


# ---------------------------------------------------------------- the list


@router.get("/hazards", response_class=HTMLResponse)
def hazards_page(page: HazardPageDep) -> HTMLResponse:
    """隐患治理: the hazards in the actor's scope with their counts, filtered."""
    request, now = page.request, page.clock.now()
    state, level, source = _param(request, "state"), _param(request, "level"), _param(request, "source")
    district, overdue = _param(request, "district"), _param(request, "overdue") == "1"
    errors: dict[str, str] = {}
    for name, value, allowed in (
        ("state", state, {s.value for s in HazardState}),
        ("level", level, {v.value for v in HazardLevel}),
        ("source", source, {v.value for v in HazardSource}),
    ):
        if value and value not in allowed:
            errors[name] = N_("search.invalid_choice")
    state = "" if "state" in errors else state
    level = "" if "level" in errors else level
    source = "" if "source" in errors else source
    every = rows_of(page.session, service.list_hazards(page.session, page.actor, limit=ROWS_READ), now)
    finished = {HazardState.VERIFIED.value, HazardState.CLOSED.value}
    counts = {
        "open": sum(1 for r in every if r.hazard.state not in finished),
        "overdue": sum(1 for r in every if r.overdue),
        "supervised": sum(1 for r in every if r.hazard.supervised and r.hazard.state not in finished),
    }
    rows = [
        r
        for r in every
        if (not state or r.hazard.state == state)
        and (not level or r.hazard.level == level)
        and (not source or r.hazard.source == source)
        and (not district or r.district == district)
        and (not overdue or r.overdue)
    ]
    context = {
        "rows": rows[:ROWS_SHOWN],
        "total": len(rows),
        "counts": counts,
        "state": state,
        "level": level,
        "source": source,
        "district": district,
        "overdue": overdue,
        "errors": errors,
        "states": [s.value for s in HazardState],
        "levels": [v.value for v in HazardLevel],
        "sources": [v.value for v in HazardSource],
        "districts": sorted({r.district for r in every if r.district}),
        "may_report": page.actor.role in REPORTERS,
    }
    return render(request, "hazards/list.html", context, actor=page.actor)


# ---------------------------------------------------------------- reporting


@dataclass
class ReportForm:
    code: str = ""
    source: str = HazardSource.SPOT_CHECK.value
    level: str = HazardLevel.GENERAL.value
    description: str = ""
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex)
    errors: dict[str, str] = field(default_factory=dict)


def _report_page(page: HazardPage, form: ReportForm, status_code: int = 200) -> HTMLResponse:
    if page.actor.role not in REPORTERS:
        raise Forbidden(f"role '{page.actor.role.value}' does not report hazards here")
    context = {
        "form": form,
        "levels": [v.value for v in HazardLevel],
        "sources": [v.value for v in HazardSource],
    }
    return render(page.request, "hazards/new.html", context, actor=page.actor, status_code=status_code)


@router.get("/hazards/new", response_class=HTMLResponse)
def report_form(page: HazardPageDep) -> HTMLResponse:
    return _report_page(page, ReportForm())


@router.post("/hazards/new", response_class=HTMLResponse)
def report_submit(
    page: HazardPageDep,
    code: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
) -> BaseResponse:
    """上报隐患. The form's one-time ``nonce`` is the report's reference, so a form sent twice is one
    hazard (the service is idempotent on it)."""
    form = ReportForm(code.strip(), source, level, description, nonce.strip()[:TEXT_MAX] or uuid.uuid4().hex)
    if not form.code or len(form.code) > 40:
        form.errors["code"] = N_("hz.err_code")
    if source not in {v.value for v in HazardSource}:
        form.errors["source"] = N_("hz.err_choice")
    if level not in {v.value for v in HazardLevel}:
        form.errors["level"] = N_("hz.err_choice")
    if not description.strip():
        form.errors["description"] = N_("hz.err_description")
    elif len(description) > NOTE_MAX:
        form.errors["description"] = N_("hz.err_too_long")
    if form.errors:
        return _report_page(page, form, 422)
    if page.actor.role not in REPORTERS:
        raise Forbidden(f"role '{page.actor.role.value}' does not report hazards here")
    try:
        out = service.report(
            page.session,
            page.actor,
            form.code,
            HazardSource(source),
            f"web:{form.nonce}",
            HazardLevel(level),
            description.strip(),
            page.clock,
            page.settings,
        )
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            form.errors.setdefault(err.field, FIELD_ERRORS.get(err.field, N_("hz.err_code")))
        return _report_page(page, form, 422)
    page.session.commit()
    log.info("hazard %s reported by %s on %s", out.hazard.id, page.actor.username, form.code)
    return RedirectResponse(f"/hazards/{out.hazard.id}", status_code=303)


# ---------------------------------------------------------------- the city's repair-fund list


@router.get("/hazards/fund", response_class=HTMLResponse)
def fund_page(page: HazardPageDep) -> HTMLResponse:
    """维修资金紧急使用: the city's requests (newest first) with the totals by district; the regulator and
    admins (others 403)."""
    request = page.request
    district, state = _param(request, "district"), _param(request, "state")
    errors: dict[str, str] = {}
    if state and state not in {s.value for s in FundState}:
        errors["state"] = N_("search.invalid_choice")
        state = ""
    every = service.fund_city(page.session, page.actor)  # 403 for others
    city = service.fund_city(page.session, page.actor, district or None, [FundState(state)] if state else ())
    totals = {
        "requests": sum(d.requests for d in city.by_district),
        "requested": sum(d.requested_fen for d in city.by_district),
        "approved": sum(d.approved_fen for d in city.by_district),
        "paid": sum(d.paid_fen for d in city.by_district),
    }
    context = {
        "city": city,
        "totals": totals,
        "district": district,
        "state": state,
        "errors": errors,
        "states": [s.value for s in FundState],
        "districts": sorted({d.district for d in every.by_district if d.district}),
        "yuan": yuan,
    }
    return render(request, "hazards/fund.html", context, actor=page.actor)


# ---------------------------------------------------------------- one hazard


@dataclass
class MoveForm:
    """The form sent last, as typed, and what was wrong with it (field -> page-text key)."""

    which: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _detail_page(
    page: HazardPage,
    hazard_id: int,
    form: MoveForm | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    session, now = page.session, page.clock.now()
    hazard = service.get_hazard(session, page.actor, hazard_id)  # 404 outside scope
    moves = service.moves_for(session, page.actor, hazard)
    today = now.astimezone(screen_tz()).date()
    context = {
        "row": rows_of(session, [hazard], now)[0],
        "h": hazard,
        "events": service.events_of(session, hazard),
        "evidence": service.evidence_of(session, hazard),
        "moves": {m.value for m in moves},
        "form": form or MoveForm(),
        "conflict": conflict,
        "min_day": (today + timedelta(days=1)).isoformat(),
        "today": today.isoformat(),
        **_fund_context(session, page.actor, hazard),
    }
    return render(page.request, "hazards/detail.html", context, actor=page.actor, status_code=status_code)


def _fund_context(session: Session, actor: Actor, hazard: service.StoredHazard) -> dict[str, object]:
    """The repair fund's part of the hazard page: shown on a residential elevator's hazard, or wherever a
    request was made."""
    lines = service.fund_lines(session, hazard)
    place = registry.places_of(session, [hazard.registration_code]).get(hazard.registration_code)
    residential = place is not None and place.place_type == PlaceType.RESIDENTIAL.value
    return {
        "fund_shown": residential or bool(lines),
        "fund_lines": lines,
        "fund_moves": {m.value for m in service.fund_moves_for(session, actor, hazard)},
        "fund_open": next((ln.request for ln in lines if ln.request.state in OPEN_FUND), None),
        "applicants": [a.value for a in Applicant],
        "yuan": yuan,
        "fund_nonce": uuid.uuid4().hex,
    }


OPEN_FUND = frozenset({FundState.REQUESTED.value, FundState.APPROVED.value})


def yuan(fen: int | None) -> str:
    """Fen as yuan with two decimals and thousands separators (¥ left to the template)."""
    if fen is None:
        return "—"
    return f"{Decimal(fen) / 100:,.2f}"


def parse_yuan(text: str) -> int | None:
    """Yuan as typed ("85000", "85,000.50") to fen; None when it is not a positive amount with at most two
    decimals within the fund's limit."""
    try:
        value = Decimal(text.strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    fen = int(value * 100)
    return fen if fen <= MAX_AMOUNT_FEN else None


@router.get("/hazards/{hazard_id}", response_class=HTMLResponse)
def detail_page(page: HazardPageDep, hazard_id: int) -> HTMLResponse:
    return _detail_page(page, hazard_id)


def _apply(page: HazardPage, hazard_id: int, form: MoveForm, move: Callable[[], object]) -> BaseResponse:
    """Run ``move`` and commit; a refused field goes back to the form (422), a state that no longer allows
    the move shows the hazard as it is now (409). 403 and 404 are the error page."""
    if form.errors:
        return _detail_page(page, hazard_id, form=form, status_code=422)
    try:
        move()
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            form.errors.setdefault(err.field, FIELD_ERRORS.get(err.field, N_("hz.err_text")))
        return _detail_page(page, hazard_id, form=form, status_code=422)
    except Conflict as exc:
        page.session.rollback()
        log.info("hazard %s %s refused for %s: %s", hazard_id, form.which, page.actor.username, exc.message)
        return _detail_page(page, hazard_id, conflict=True, status_code=409)
    page.session.commit()
    log.info("hazard %s %s by %s", hazard_id, form.which, page.actor.username)
    return RedirectResponse(f"/hazards/{hazard_id}", status_code=303)


def _note_error(text: str, limit: int, empty: str) -> str | None:
    if not text.strip():
        return empty
    if len(text) > limit:
        return N_("hz.err_too_long")
    return None


@router.post("/hazards/{hazard_id}/start", response_class=HTMLResponse)
def start(page: HazardPageDep, hazard_id: int) -> BaseResponse:
    """开始整改: the responsible unit begins."""
    return _apply(
        page,
        hazard_id,
        MoveForm("start"),
        lambda: service.start(page.session, page.actor, hazard_id, page.clock),
    )


@router.post("/hazards/{hazard_id}/evidence", response_class=HTMLResponse)
def evidence(page: HazardPageDep, hazard_id: int, text: Annotated[str, Form()] = "") -> BaseResponse:
    """提交整改材料: what was done; the hazard then waits for the regulator."""
    form = MoveForm("evidence", {"text": text})
    if (err := _note_error(text, EVIDENCE_MAX, N_("hz.err_text"))) is not None:
        form.errors["text"] = err
    return _apply(
        page,
        hazard_id,
        form,
        lambda: service.submit_evidence(page.session, page.actor, hazard_id, text.strip(), page.clock),
    )


@router.post("/hazards/{hazard_id}/verdict", response_class=HTMLResponse)
def verdict(
    page: HazardPageDep,
    hazard_id: int,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> BaseResponse:
    """核查: accept the fix (销号) or send it back, a note required either way."""
    form = MoveForm("verdict", {"note": note})
    if decision not in VERDICTS:
        form.errors["decision"] = N_("hz.err_choice")
    if (err := _note_error(note, NOTE_MAX, N_("hz.err_note"))) is not None:
        form.errors["note"] = err

    def move() -> None:
        if decision == "verify":
            service.verify(page.session, page.actor, hazard_id, page.clock, note.strip())
        else:
            service.reject(page.session, page.actor, hazard_id, note.strip(), page.clock)

    return _apply(page, hazard_id, form, move)


@router.post("/hazards/{hazard_id}/deadline", response_class=HTMLResponse)
def deadline(page: HazardPageDep, hazard_id: int, day: Annotated[str, Form()] = "") -> BaseResponse:
    """设定整改期限: the last day of the rectification."""
    form = MoveForm("deadline", {"day": day})
    try:
        chosen = date.fromisoformat(day.strip())
    except ValueError:
        form.errors["deadline"] = N_("hz.err_deadline")
        chosen = date.min
    return _apply(
        page,
        hazard_id,
        form,
        lambda: service.set_deadline(page.session, page.actor, hazard_id, chosen, page.clock, page.settings),
    )


@router.post("/hazards/{hazard_id}/close", response_class=HTMLResponse)
def close(page: HazardPageDep, hazard_id: int, reason: Annotated[str, Form()] = "") -> BaseResponse:
    """关闭: without a fix (a duplicate, a wrong report), with the reason."""
    form = MoveForm("close", {"reason": reason})
    if (err := _note_error(reason, NOTE_MAX, N_("hz.err_reason"))) is not None:
        form.errors["reason"] = err
    return _apply(
        page,
        hazard_id,
        form,
        lambda: service.close(page.session, page.actor, hazard_id, reason.strip(), page.clock),
    )


@router.post("/hazards/{hazard_id}/work-order", response_class=HTMLResponse)
def work_order(page: HazardPageDep, hazard_id: int) -> BaseResponse:
    """生成维修工单, once; back on the hazard, which links to it."""
    return _apply(
        page,
        hazard_id,
        MoveForm("work_order"),
        lambda: service.open_work_order(page.session, page.actor, hazard_id, page.clock, page.settings),
    )


# ---------------------------------------------------------------- the repair fund on one hazard


def _amount(form: MoveForm, name: str, text: str, required: bool = True) -> int | None:
    """The typed yuan as fen, or the field's error on the form."""
    if not text.strip() and not required:
        return None
    fen = parse_yuan(text)
    if fen is None:
        form.errors[name] = N_("hz.err_amount")
    return fen


def _text_error(form: MoveForm, name: str, text: str, limit: int = NOTE_MAX) -> None:
    if (err := _note_error(text, limit, N_("hz.err_required"))) is not None:
        form.errors[name] = err


@router.post("/hazards/{hazard_id}/fund/request", response_class=HTMLResponse)
def fund_request(
    page: HazardPageDep,
    hazard_id: int,
    amount: Annotated[str, Form()] = "",
    applicant: Annotated[str, Form()] = "",
    quote: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
) -> BaseResponse:
    """申请维修资金紧急使用: the amount in yuan, the quote and the purpose. The form's one-time ``nonce`` is
    the request key, so a form sent twice is one request."""
    nonce = nonce.strip()[:TEXT_MAX] or uuid.uuid4().hex
    form = MoveForm("fund_request", {"amount": amount, "quote": quote, "purpose": purpose, "nonce": nonce})
    fen = _amount(form, "amount_fen", amount)
    if applicant not in {a.value for a in Applicant}:
        form.errors["applicant"] = N_("hz.err_choice")
    _text_error(form, "quote", quote)
    _text_error(form, "purpose", purpose)
    key = f"web:{nonce}"
    return _apply(
        page,
        hazard_id,
        form,
        lambda: service.request_fund(
            page.session,
            page.actor,
            hazard_id,
            key,
            Applicant(applicant),
            fen or 0,
            quote.strip(),
            purpose.strip(),
            page.clock,
        ),
    )


@router.post("/hazards/{hazard_id}/fund/decision", response_class=HTMLResponse)
def fund_decision(
    page: HazardPageDep,
    hazard_id: int,
    decision: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> BaseResponse:
    """审批: approve the amount asked for or a lower one (the amount field), or refuse with the reason."""
    form = MoveForm("fund_decision", {"amount": amount, "note": note})
    approve = decision == FundAction.APPROVE.value
    if decision not in (FundAction.APPROVE.value, FundAction.REFUSE.value):
        form.errors["decision"] = N_("hz.err_choice")
    fen = _amount(form, "approved_fen", amount, required=False) if approve else None
    if approve and len(note) > NOTE_MAX:
        form.errors["note"] = N_("hz.err_too_long")
    if not approve and (err := _note_error(note, NOTE_MAX, N_("hz.err_reason"))) is not None:
        form.errors["reason"] = err
    return _apply(
        page,
        hazard_id,
        form,
        lambda: service.decide_fund(
            page.session, page.actor, hazard_id, approve, page.clock, fen, note.strip()
        ),
    )


@router.post("/hazards/{hazard_id}/fund/payment", response_class=HTMLResponse)
def fund_payment(
    page: HazardPageDep,
    hazard_id: int,
    amount: Annotated[str, Form()] = "",
    paid_on: Annotated[str, Form()] = "",
    voucher: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> BaseResponse:
    """登记支付: the amount in yuan, the day and the voucher number (recorded once)."""
    form = MoveForm("fund_payment", {"amount": amount, "paid_on": paid_on, "voucher": voucher, "note": note})
    fen = _amount(form, "amount_fen", amount)
    try:
        day = date.fromisoformat(paid_on.strip())
    except ValueError:
        form.errors["paid_on"] = N_("hz.err_fund_date")
        day = date.min
    _text_error(form, "voucher", voucher, 64)
    if len(note) > NOTE_MAX:
        form.errors["note"] = N_("hz.err_too_long")
    return _apply(
        page,
        hazard_id,
        form,
        lambda: service.record_payment(
            page.session,
            page.actor,
            hazard_id,
            fen or 0,
            day,
            voucher.strip(),
            page.clock,
            page.settings,
            note.strip(),
        ),
    )


@router.post("/hazards/{hazard_id}/fund/complete", response_class=HTMLResponse)
def fund_complete(page: HazardPageDep, hazard_id: int, note: Annotated[str, Form()] = "") -> BaseResponse:
    """使用完成: the work is done and paid; the ledger is final."""
    form = MoveForm("fund_complete", {"note": note})
    if len(note) > NOTE_MAX:
        form.errors["note"] = N_("hz.err_too_long")
    return _apply(
        page,
        hazard_id,
        form,
        lambda: service.complete_fund(page.session, page.actor, hazard_id, page.clock, note.strip()),
    )


# ---------------------------------------------------------------- public


@router.get("/public/hazards/supervised", response_class=HTMLResponse)
def public_supervised(request: Request, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    """挂牌督办公示: no sign-in; only what the service's public read gives (no person, no free text)."""
    rows = service.public_supervised(session, clock.now())
    items = [{"s": s, "due": last_day(s.deadline)} for s in rows]
    return render(request, "hazards/public.html", {"items": items})
