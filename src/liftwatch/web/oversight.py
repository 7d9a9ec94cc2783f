"""The regulator's maintenance screens (维保监管, 市场监管局): what is overdue and what looks fake.

``/oversight/maintenance`` lists, each under its tab with its count: preventive visits not signed by their
due day, corrective work orders past their SLA (urgent first), elevators without a valid maintenance
contract (三无: no contract) and inspections overdue (the inspection service's list, read only); filtered by
district and maintenance unit, each row linking to the elevator file and the work order.

``/oversight/flags`` lists the fake-maintenance flags (假维保) by state, kind and unit, each with its visit
(elevator, worker, check-in and check-out) and its evidence in words with units (the words, like the kinds'
and states', are ``maintenance.labels``': the elevator file shows the same), plus the flags counted per
maintenance unit; ``/oversight/flags/{id}`` is one flag with its review form (confirm or dismiss, a note
required either way). Reads go through ``maintenance.oversight`` (admin and regulator only: others 403) and
the services; the review through ``maintenance.service.review_flag``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.responses import Response as BaseResponse
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.inspection import service as inspection
from liftwatch.maintenance import oversight, service
from liftwatch.maintenance.labels import FLAG_KIND, FLAG_STATE, flag_evidence_items
from liftwatch.maintenance.workflow import WorkOrderKind
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import UnitType
from liftwatch.rescue import exports
from liftwatch.web.listing import address as _address
from liftwatch.web.listing import param as _param
from liftwatch.web.templating import (
    N_,
    PageActorDep,
    PageRoute,
    city_time,
    render,
    request_language,
    screen_tz,
    translate,
)

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXT_MAX = 64
NOTE_MAX = 2000
UNITS_MAX = 500
#: Rows shown per list (the tab's count is the whole list's): a desk screen, not an export.
ROWS_SHOWN = 300
#: Registration codes per registry lookup (well under the databases' parameter limits).
CHUNK = 1000
DECISIONS = ("confirmed", "dismissed")

#: The overdue lists' tabs, in the order shown, with their headings.
TABS = {
    "preventive": N_("ovs.tab_preventive"),
    "corrective": N_("ovs.tab_corrective"),
    "contract": N_("ovs.tab_contract"),
    "inspection": N_("ovs.tab_inspection"),
}
#: Each tab's one-line explanation.
TAB_HINTS = {
    "preventive": N_("ovs.hint_preventive"),
    "corrective": N_("ovs.hint_corrective"),
    "contract": N_("ovs.hint_contract"),
    "inspection": N_("ovs.hint_inspection"),
}
#: Page-text keys this module hands to templates (errors).
KEYS = (
    N_("ovs.err_note"),
    N_("ovs.err_note_too_long"),
    N_("ovs.err_decision"),
)


@dataclass(frozen=True)
class OversightPage:
    """What every oversight page works with."""

    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: Settings


def oversight_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> OversightPage:
    if actor.role not in oversight.OVERSEERS:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    return OversightPage(request, actor, session, clock, settings)


OversightPageDep = Annotated[OversightPage, Depends(oversight_page)]


def _choices(page: OversightPage) -> dict[str, Any]:
    """The filters' choices: the districts and the maintenance units (code, name)."""
    units, _total = registry.list_units(
        page.session, page.actor, unit_type=UnitType.MAINTENANCE.value, size=UNITS_MAX
    )
    return {
        "districts": sorted(registry.places(page.session, page.actor)),
        "units": [(u.code, u.name) for u in units],
    }


# ---------------------------------------------------------------- overdue lists


@dataclass(frozen=True)
class OverdueRow:
    """One line of an overdue list: an elevator and what it is owed."""

    code: str
    address: str
    unit: str  # the maintenance unit's name
    work_order_id: int | None = None
    summary: str = ""
    urgent: bool = False
    due: str = ""  # the deadline on the city's clock
    days: int | None = None  # days overdue (preventive visits, inspections)
    hours: int | None = None  # hours past the SLA (corrective orders)
    inspection_id: int | None = None


def _late_days(due_at: datetime, now: datetime) -> int:
    """Days a preventive visit is overdue: the due day (the day before ``due_at``'s midnight) to today."""
    tz = screen_tz()
    due_day = as_utc(due_at).astimezone(tz).date() - timedelta(days=1)
    return max(1, (now.astimezone(tz).date() - due_day).days)


def _due_day(order: service.StoredWorkOrder) -> str:
    """A preventive visit's due day: its planned date (``due_at`` is the midnight after it)."""
    if order.planned_date:
        return order.planned_date.isoformat()
    return city_time(as_utc(order.due_at) - timedelta(days=1), "%Y-%m-%d")


def _order_rows(
    session: Session, orders: Sequence[service.StoredWorkOrder], now: datetime
) -> list[OverdueRow]:
    places = registry.places_of(session, sorted({o.registration_code for o in orders}))
    names = registry.unit_names(session, {o.unit_code for o in orders})
    out = []
    for o in orders:
        late = now - as_utc(o.due_at)
        preventive = o.kind == WorkOrderKind.PREVENTIVE.value
        out.append(
            OverdueRow(
                code=o.registration_code,
                address=_address(places.get(o.registration_code)),
                unit=names.get(o.unit_code, o.unit_code),
                work_order_id=o.id,
                summary=o.summary,
                urgent=o.urgent,
                due=_due_day(o) if preventive else city_time(o.due_at),
                days=_late_days(o.due_at, now) if preventive else None,
                hours=None if preventive else int(late.total_seconds() // 3600),
            )
        )
    return out


def _elevator_rows(
    session: Session, codes: Sequence[str], unit: str, district: str, extra: Mapping[str, dict[str, Any]]
) -> list[OverdueRow]:
    """Rows of elevators (no contract, inspection overdue) filtered by district and by the registry's
    maintenance unit; ``extra`` adds a row's own fields by registration code."""
    places: dict[str, registry.Place] = {}
    for i in range(0, len(codes), CHUNK):
        places.update(registry.places_of(session, codes[i : i + CHUNK]))
    unit_name = registry.unit_names(session, [unit]).get(unit, "\0") if unit else ""
    out = []
    for code in codes:
        place = places.get(code)
        if district and (place is None or place.district != district):
            continue
        if unit and (place is None or place.maintenance_unit != unit_name):
            continue
        name = place.maintenance_unit if place else ""
        out.append(OverdueRow(code=code, address=_address(place), unit=name, **extra.get(code, {})))
    return out


def overdue_lists(page: OversightPage, unit: str, district: str) -> dict[str, list[OverdueRow]]:
    """The four lists, filtered."""
    session, actor, now = page.session, page.actor, page.clock.now()
    lists: dict[str, list[OverdueRow]] = {}
    for kind in (WorkOrderKind.PREVENTIVE, WorkOrderKind.CORRECTIVE):
        orders = oversight.overdue_orders(session, actor, now, kind, unit or None, district or None)
        lists[kind.value] = _order_rows(session, orders, now)
    today = now.astimezone(screen_tz()).date()
    bare = service.elevators_without_contract(session, actor, today)
    lists["contract"] = _elevator_rows(session, bare, unit, district, {})
    late = inspection.overdue(session, actor, page.clock, page.settings)
    extra = {
        o.registration_code: {
            "inspection_id": o.inspection_id,
            "due": o.due_date.isoformat(),
            "days": o.days_overdue,
        }
        for o in reversed(late)  # the oldest inspection of an elevator wins
    }
    codes = list(dict.fromkeys(o.registration_code for o in late))
    lists["inspection"] = _elevator_rows(session, codes, unit, district, extra)
    return lists


#: The export's columns per list (page-text keys).
EXPORT_COLUMNS = {
    "preventive": (N_("ovs.col_order"), N_("ovs.col_elevator"), N_("ovs.col_address"), N_("ovs.col_unit"),
                   N_("ovs.col_due_day"), N_("ovs.col_days_n")),
    "corrective": (N_("ovs.col_order"), N_("ovs.col_elevator"), N_("ovs.col_address"), N_("ovs.col_unit"),
                   N_("ovs.col_summary"), N_("ovs.urgent"), N_("ovs.col_deadline"), N_("ovs.col_hours_n")),
    "contract": (N_("ovs.col_elevator"), N_("ovs.col_address"), N_("ovs.col_registered_unit")),
    "inspection": (N_("ovs.col_elevator"), N_("ovs.col_address"), N_("ovs.col_unit"),
                   N_("ovs.col_inspection_due"), N_("ovs.col_days_n")),
}  # fmt: skip


def _export_row(tab: str, r: OverdueRow, lang: str) -> list[Any]:
    if tab == "preventive":
        return [r.work_order_id, r.code, r.address, r.unit, r.due, r.days]
    if tab == "corrective":
        urgent = translate("common.yes", lang) if r.urgent else translate("common.no", lang)
        return [r.work_order_id, r.code, r.address, r.unit, r.summary, urgent, r.due, r.hours]
    if tab == "contract":
        return [r.code, r.address, r.unit]
    return [r.code, r.address, r.unit, r.due, r.days]


@router.get("/oversight/maintenance/export")
def overdue_export(page: OversightPageDep) -> BaseResponse:
    """The list of one tab, as filtered, to Excel (``format=xlsx``) or CSV (UTF-8 with a BOM), every row
    (the page shows the first ``ROWS_SHOWN``), in the page's language."""
    request = page.request
    lang = request_language(request)
    tab = _param(request, "tab")
    tab = tab if tab in TABS else "preventive"
    fmt: exports.FileFormat = "csv" if _param(request, "format") == "csv" else "xlsx"
    rows = overdue_lists(page, _param(request, "unit"), _param(request, "district"))[tab]
    table = exports.Table(
        translate(TABS[tab], lang),
        [translate(key, lang) for key in EXPORT_COLUMNS[tab]],
        [_export_row(tab, r, lang) for r in rows],
    )
    day = page.clock.now().astimezone(screen_tz()).date().isoformat()
    name = f"oversight-{tab}-{day}.{fmt}"
    return BaseResponse(
        exports.render([table], fmt),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/oversight", response_class=HTMLResponse)
def oversight_home(page: OversightPageDep) -> RedirectResponse:
    return RedirectResponse("/oversight/maintenance", status_code=303)


@router.get("/oversight/maintenance", response_class=HTMLResponse)
def overdue_page(page: OversightPageDep) -> HTMLResponse:
    """逾期清单: the four overdue lists with their counts, one shown at a time (``?tab=``)."""
    request = page.request
    tab = _param(request, "tab")
    tab = tab if tab in TABS else "preventive"
    unit, district = _param(request, "unit"), _param(request, "district")
    lists = overdue_lists(page, unit, district)
    filters = [(k, v) for k, v in (("district", district), ("unit", unit)) if v]
    context = {
        "tabs": TABS,
        "tab": tab,
        "hint": TAB_HINTS[tab],
        "lists": lists,
        "rows": lists[tab][:ROWS_SHOWN],
        "total": len(lists[tab]),
        "unit": unit,
        "district": district,
        "filters": filters,
        "export_query": [("tab", tab), *filters],
        **_choices(page),
    }
    return render(request, "oversight/maintenance.html", context, actor=page.actor)


# ---------------------------------------------------------------- flags


@dataclass(frozen=True)
class FlagCard:
    """A flag as the screens show it: its visit, its evidence in words."""

    flag: service.StoredFlag
    record: service.StoredRecord | None
    address: str
    unit: str
    evidence: list[tuple[str, str]]  # (what, value with its unit): maintenance.labels.flag_evidence_items
    check_in: str
    check_out: str


def flag_cards(page: OversightPage, flags: Sequence[service.StoredFlag]) -> list[FlagCard]:
    lang = request_language(page.request)
    records = oversight.visits_of(page.session, page.actor, flags)
    places = registry.places_of(page.session, sorted({f.registration_code for f in flags}))
    names = registry.unit_names(page.session, {f.unit_code for f in flags})
    out = []
    for f in flags:
        record = records.get(f.record_id)
        out.append(
            FlagCard(
                flag=f,
                record=record,
                address=_address(places.get(f.registration_code)),
                unit=names.get(f.unit_code, f.unit_code),
                evidence=flag_evidence_items(f.kind, f.evidence or {}, lang),
                check_in=city_time(record.check_in_at) if record else "",
                check_out=city_time(record.check_out_at) if record else "",
            )
        )
    return out


@router.get("/oversight/flags", response_class=HTMLResponse)
def flags_page(page: OversightPageDep) -> HTMLResponse:
    """疑似假维保: the flags by state (open by default), kind and unit, and the counts per unit."""
    request = page.request
    state = request.query_params.get("state", "open").strip()[:TEXT_MAX]
    kind, unit = _param(request, "kind"), _param(request, "unit")
    errors = {}
    if state and state not in FLAG_STATE.entries:
        errors["state"], state = N_("search.invalid_choice"), ""
    if kind and kind not in FLAG_KIND.entries:
        errors["kind"], kind = N_("search.invalid_choice"), ""
    flags = oversight.find_flags(
        page.session, page.actor, state or None, kind or None, unit or None, limit=ROWS_SHOWN
    )
    counts = oversight.flag_counts(page.session, page.actor)
    count_names = registry.unit_names(page.session, {c.unit_code for c in counts})
    context = {
        "cards": flag_cards(page, flags),
        "capped": len(flags) >= ROWS_SHOWN,
        "state": state,
        "kind": kind,
        "unit": unit,
        "errors": errors,
        "states": list(FLAG_STATE.entries),
        "kinds": list(FLAG_KIND.entries),
        "counts": counts,
        "count_names": count_names,
        "form": ReviewForm(),
        **_choices(page),
    }
    return render(request, "oversight/flags.html", context, actor=page.actor)


@dataclass
class ReviewForm:
    """The review as typed and what was wrong with it (field -> page-text key)."""

    decision: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _flag_page(
    page: OversightPage,
    flag_id: int,
    form: ReviewForm | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    flag = service.get_flag(page.session, page.actor, flag_id)  # 404 when there is none
    context = {"card": flag_cards(page, [flag])[0], "form": form or ReviewForm(), "conflict": conflict}
    return render(page.request, "oversight/flag.html", context, actor=page.actor, status_code=status_code)


@router.get("/oversight/flags/{flag_id}", response_class=HTMLResponse)
def flag_page(page: OversightPageDep, flag_id: int) -> HTMLResponse:
    """One flag: its visit and evidence, the review form while open, who reviewed it, when and why after."""
    return _flag_page(page, flag_id)


@router.post("/oversight/flags/{flag_id}/review", response_class=HTMLResponse)
def review(
    page: OversightPageDep,
    flag_id: int,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> BaseResponse:
    """复核: confirm (the visit was fake) or dismiss (it was not), with a note either way. A refused field is
    shown on the form (422); a flag someone reviewed meanwhile shows as it is now (409)."""
    form = ReviewForm(decision=decision, note=note)
    if decision not in DECISIONS:
        form.errors["decision"] = N_("ovs.err_decision")
    if not note.strip():
        form.errors["note"] = N_("ovs.err_note")
    elif len(note) > NOTE_MAX:
        form.errors["note"] = N_("ovs.err_note_too_long")
    if form.errors:
        return _flag_page(page, flag_id, form=form, status_code=422)
    try:
        service.review_flag(page.session, page.actor, flag_id, decision, note, page.clock)
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            form.errors.setdefault(
                err.field, N_("ovs.err_note") if err.field == "note" else N_("ovs.err_decision")
            )
        return _flag_page(page, flag_id, form=form, status_code=422)
    except Conflict as exc:
        page.session.rollback()
        log.info("flag %s review refused for %s: %s", flag_id, page.actor.username, exc.message)
        return _flag_page(page, flag_id, conflict=True, status_code=409)
    page.session.commit()
    log.info("flag %s %s by %s", flag_id, decision, page.actor.username)
    return RedirectResponse(f"/oversight/flags/{flag_id}", status_code=303)
