"""The cost-disclosure screens (费用公开): a use unit's ledger, the regulator's overview, the public page.

``/costs`` sends use-unit staff to their own ledger and regulators and admins to the overview (which use
units published the half-year, which are overdue; a district filter). ``/costs/ledgers/{unit}`` shows one
half-year of the ledger: its entries (a reversal form on each), the form to add an entry (amounts typed in
yuan), the contract fees' booking, the summary as it would be published and the publish form, which needs
its confirmation box ticked. The service decides who sees and books what (404 outside scope, 403 for a role
with no ledger). ``/public/costs`` needs no sign-in: a search by estate or use-unit name or an elevator's
code, and the published half-years (no entry, no note, no person).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.responses import Response as BaseResponse
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput
from liftwatch.costs import service
from liftwatch.costs.domain import AdvertisingUse, EntryKind, HalfYear, parse_yuan, yuan
from liftwatch.costs.settings import CostSettings, cost_settings_from_env
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.web.templating import N_, PageActorDep, PageRoute, render

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXT_MAX = 100
READERS = frozenset({Role.ADMIN, Role.REGULATOR, Role.USE_UNIT})
#: Page-text keys this module hands to templates (errors, notices).
KEYS = (
    N_("cost.err_amount"),
    N_("cost.err_date"),
    N_("cost.err_source"),
    N_("cost.err_elevator"),
    N_("cost.err_work_order"),
    N_("cost.err_choice"),
    N_("cost.err_note"),
    N_("cost.err_period"),
    N_("cost.err_confirm"),
    N_("cost.conflict"),
)
#: The service's refused fields -> the form's message.
FIELD_ERRORS = {
    "amount_fen": N_("cost.err_amount"),
    "on": N_("cost.err_date"),
    "source_ref": N_("cost.err_source"),
    "receipt": N_("cost.err_source"),
    "elevator": N_("cost.err_elevator"),
    "work_order_id": N_("cost.err_work_order"),
    "note": N_("cost.err_note"),
    "period": N_("cost.err_period"),
}


def _cost_settings(request: Request) -> CostSettings:
    found = getattr(request.app.state, "cost_settings", None)
    if not isinstance(found, CostSettings):
        found = cost_settings_from_env()
        request.app.state.cost_settings = found
    return found


@dataclass(frozen=True)
class CostPage:
    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: Settings


def cost_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> CostPage:
    if actor.role not in READERS:
        raise Forbidden(f"role '{actor.role.value}' has no cost ledger")
    return CostPage(request, actor, session, clock, settings)


CostPageDep = Annotated[CostPage, Depends(cost_page)]


def _chosen(text: str, default: HalfYear) -> tuple[HalfYear, bool]:
    """The half-year asked for (and whether it was understood)."""
    if not text:
        return default, True
    try:
        return HalfYear.parse(text[:8]), True
    except ValueError:
        return default, False


def _periods(today: date, back: int = 6) -> list[str]:
    """The half-years a screen offers: the current one and the ``back`` before it."""
    out, period = [], HalfYear.of(today)
    for _ in range(back + 1):
        out.append(str(period))
        period = period.previous()
    return out


# ---------------------------------------------------------------- entry page


@router.get("/costs", response_class=HTMLResponse)
def costs_home(page: CostPageDep) -> BaseResponse:
    """费用公开: a use unit's own ledger, or the regulator's overview."""
    own = service.own_ledger(page.session, page.actor)
    if own is not None:
        return RedirectResponse(f"/costs/ledgers/{own.code}", status_code=303)
    if page.actor.role is Role.USE_UNIT:
        raise Forbidden("a use unit's staff without a unit has no ledger")
    return _overview(page)


def _overview(page: CostPage) -> HTMLResponse:
    request = page.request
    today = service.city_today(page.clock, page.settings)
    due_days = _cost_settings(request).due_days
    default = HalfYear.of(today).previous()
    period, ok = _chosen(request.query_params.get("period", "").strip(), default)
    district = request.query_params.get("district", "").strip()[:64]
    every = service.overview(page.session, page.actor, period, page.clock, page.settings, due_days)
    rows = [r for r in every if not district or district in r.districts]
    context = {
        "rows": rows,
        "period": str(period),
        "periods": _periods(today),
        "district": district,
        "districts": sorted({d for r in every for d in r.districts}),
        "due_days": due_days,
        "counts": {
            "units": len(rows),
            "published": sum(1 for r in rows if r.published_at),
            "overdue": sum(1 for r in rows if r.overdue),
        },
        "period_error": not ok,
    }
    return render(request, "costs/overview.html", context, actor=page.actor)


# ---------------------------------------------------------------- the ledger


@dataclass
class EntryForm:
    kind: str = EntryKind.ADVERTISING_INCOME.value
    amount: str = ""
    on: str = ""
    elevator: str = ""
    work_order_id: str = ""
    receipt: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Notice:
    """What the last action did or why it was refused (shown above the forms)."""

    key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # the reversal's and the publication's fields


def _ledger_page(
    page: CostPage,
    unit_code: str,
    period_text: str,
    form: EntryForm | None = None,
    notice: Notice | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session, actor = page.session, page.actor
    unit = service.ledger(session, actor, unit_code)  # 404 / 403
    today = service.city_today(page.clock, page.settings)
    period, ok = _chosen(period_text, HalfYear.of(today))
    entries = service.list_entries(session, actor, unit.code, period)
    got = service.summary(session, actor, unit.code, period)
    may_book = actor.role in service.BOOKERS
    context = {
        "unit": unit,
        "period": str(period),
        "periods": _periods(today),
        "period_error": not ok,
        "entries": entries,
        "reversed": service.reversed_ids(session, entries),
        "s": got.summary,
        "got": got,
        "publication": got.publication,
        "publications": service.publications(session, actor, unit.code),
        "may_book": may_book,
        "may_publish": may_book and got.publication is None and period.last_day < today,
        "ended": period.last_day < today,
        "form": form or EntryForm(on=today.isoformat()),
        "notice": notice or Notice(),
        "kinds": [k.value for k in EntryKind],
        "uses": [u.value for u in AdvertisingUse],
        "today": today.isoformat(),
        "yuan": yuan,
    }
    return render(page.request, "costs/ledger.html", context, actor=actor, status_code=status_code)


def _back(unit_code: str, period: str, **extra: str) -> RedirectResponse:
    query = urlencode({"period": period, **extra})
    return RedirectResponse(f"/costs/ledgers/{unit_code}?{query}", status_code=303)


@router.get("/costs/ledgers/{unit_code}", response_class=HTMLResponse)
def ledger_page(page: CostPageDep, unit_code: str) -> HTMLResponse:
    params = page.request.query_params
    done = params.get("done", "")
    notice = Notice(done if done in DONE else "", {"n": params.get("n", "")[:8]})
    return _ledger_page(page, unit_code, params.get("period", "").strip(), notice=notice)


DONE = {
    "cost.done_entry": N_("cost.done_entry"),
    "cost.done_same": N_("cost.done_same"),
    "cost.done_reversed": N_("cost.done_reversed"),
    "cost.done_booked": N_("cost.done_booked"),
    "cost.done_published": N_("cost.done_published"),
}


def _refused(
    page: CostPage,
    unit_code: str,
    period: str,
    move: Callable[[], Any],
    form: EntryForm | None = None,
    notice: Notice | None = None,
) -> tuple[Any, HTMLResponse | None]:
    """Run ``move``; a refused field back to the page (422), a refused state as a notice (409)."""
    notice = notice or Notice()
    try:
        return move(), None
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            message = FIELD_ERRORS.get(err.field, N_("cost.err_choice"))
            (form.errors if form is not None else notice.errors).setdefault(err.field, message)
        return None, _ledger_page(page, unit_code, period, form=form, notice=notice, status_code=422)
    except Conflict as exc:
        page.session.rollback()
        log.info("cost move refused for %s on %s: %s", page.actor.username, unit_code, exc.message)
        notice.key = N_("cost.conflict")
        return None, _ledger_page(page, unit_code, period, form=form, notice=notice, status_code=409)


@router.post("/costs/ledgers/{unit_code}/entries", response_class=HTMLResponse)
def add_entry(
    page: CostPageDep,
    unit_code: str,
    period: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    elevator: Annotated[str, Form()] = "",
    work_order_id: Annotated[str, Form()] = "",
    receipt: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> BaseResponse:
    """记账: one entry, the amount typed in yuan; the same work order or receipt again is the first entry."""
    service.ledger(page.session, page.actor, unit_code, write=True)
    form = EntryForm(kind, amount, on, elevator.strip(), work_order_id.strip(), receipt.strip(), note.strip())
    fen, day, order = 0, date.min, None
    if kind not in {k.value for k in EntryKind}:
        form.errors["kind"] = N_("cost.err_choice")
    try:
        fen = parse_yuan(amount)
    except ValueError:
        form.errors["amount_fen"] = N_("cost.err_amount")
    try:
        day = date.fromisoformat(on.strip())
    except ValueError:
        form.errors["on"] = N_("cost.err_date")
    if form.work_order_id:
        if form.work_order_id.isdigit() and len(form.work_order_id) <= 9:
            order = int(form.work_order_id)
        else:
            form.errors["work_order_id"] = N_("cost.err_work_order")
    if len(form.elevator) > 40 or len(form.receipt) > TEXT_MAX:
        form.errors["source_ref"] = N_("cost.err_source")
    if form.errors:
        return _ledger_page(page, unit_code, period, form=form, status_code=422)
    data = service.NewEntry(
        EntryKind(kind), fen, day, form.elevator or None, order, form.receipt or None, form.note
    )
    out, refused = _refused(
        page,
        unit_code,
        period,
        lambda: service.record(page.session, page.actor, unit_code, data, page.clock, page.settings),
        form=form,
    )
    if refused is not None:
        return refused
    page.session.commit()
    log.info("cost entry %s booked by %s on %s", out.entry.id, page.actor.username, unit_code)
    return _back(unit_code, out.entry.period, done="cost.done_entry" if out.created else "cost.done_same")


@router.post("/costs/ledgers/{unit_code}/entries/{entry_id}/reverse", response_class=HTMLResponse)
def reverse_entry(
    page: CostPageDep,
    unit_code: str,
    entry_id: int,
    period: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> BaseResponse:
    """冲销: the entry's reversing entry, with the reason."""
    out, refused = _refused(
        page,
        unit_code,
        period,
        lambda: service.reverse(
            page.session, page.actor, unit_code, entry_id, note, page.clock, page.settings
        ),
    )
    if refused is not None:
        return refused
    page.session.commit()
    return _back(unit_code, out.entry.period, done="cost.done_reversed")


@router.post("/costs/ledgers/{unit_code}/book-contracts", response_class=HTMLResponse)
def book_contracts(page: CostPageDep, unit_code: str, period: Annotated[str, Form()] = "") -> BaseResponse:
    """计入维保合同费用: the half-year's share of the unit's contracts (once)."""
    chosen, ok = _chosen(period.strip(), HalfYear(2000, 1))
    if not ok or not period.strip():
        notice = Notice(errors={"period": N_("cost.err_period")})
        return _ledger_page(page, unit_code, "", notice=notice, status_code=422)
    out, refused = _refused(
        page,
        unit_code,
        period,
        lambda: service.book_contracts(
            page.session, page.actor, unit_code, chosen, page.clock, page.settings
        ),
    )
    if refused is not None:
        return refused
    page.session.commit()
    return _back(unit_code, str(chosen), done="cost.done_booked", n=str(len(out.created)))


@router.post("/costs/ledgers/{unit_code}/publish", response_class=HTMLResponse)
def publish(
    page: CostPageDep,
    unit_code: str,
    period: Annotated[str, Form()] = "",
    advertising_use: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> BaseResponse:
    """公开: the half-year's frozen snapshot, once the confirmation box is ticked."""
    chosen, ok = _chosen(period.strip(), HalfYear(2000, 1))
    notice = Notice()
    if not ok or not period.strip():
        notice.errors["period"] = N_("cost.err_period")
    if advertising_use not in {u.value for u in AdvertisingUse}:
        notice.errors["advertising_use"] = N_("cost.err_choice")
    if confirm != "yes":
        notice.errors["confirm"] = N_("cost.err_confirm")
    if notice.errors:
        service.ledger(page.session, page.actor, unit_code, write=True)
        return _ledger_page(page, unit_code, period.strip(), notice=notice, status_code=422)
    _, refused = _refused(
        page,
        unit_code,
        period,
        lambda: service.publish(
            page.session,
            page.actor,
            unit_code,
            chosen,
            AdvertisingUse(advertising_use),
            page.clock,
            page.settings,
        ),
        notice=notice,
    )
    if refused is not None:
        return refused
    page.session.commit()
    log.info("costs of %s %s published by %s", unit_code, chosen, page.actor.username)
    return _back(unit_code, str(chosen), done="cost.done_published")


# ---------------------------------------------------------------- public


@router.get("/public/costs", response_class=HTMLResponse)
def public_costs(request: Request, session: SessionDep) -> HTMLResponse:
    """费用公示: no sign-in; only the published snapshots (no entry, no note, no person)."""
    q = request.query_params.get("q", "").strip()[:TEXT_MAX]
    found = service.public_search(session, q)
    return render(request, "costs/public.html", {"q": q, "ledgers": found, "yuan": yuan})
