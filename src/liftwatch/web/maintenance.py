"""Maintenance pages (维保): the worker's phone list of work orders and the work order on a 390-pixel-wide
screen (check in with the phone's position and the car's code, the TSG T5002 checklist by interval with its
measurements, photos, parts, check out, sign; a signed record read-only, with amendments), the use unit's
view of visits to its elevators with its sign-off, the maintenance manager's planner (维保计划: what is due,
overdue or late, the on-demand intervals, the elevators without a contract, MTBF and MTTR) and the
maintenance section of the elevator file.

Every change goes through ``maintenance.service`` (the only writer), which also decides scope: a work order
outside the actor's scope is the same 404 page as a missing one. The service's messages are English for
the API; here each refused field is shown next to its input in the page's words (page-text keys).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.inspection import service as inspection
from liftwatch.insurance import service as insurance
from liftwatch.maintenance import labels as maintenance_labels
from liftwatch.maintenance import plans, queries, service
from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import CatalogueItem, Interval, appendix_of
from liftwatch.maintenance.workflow import FINISHED, ItemResult, WorkOrderState
from liftwatch.ratings import service as ratings
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import ElevatorStatus
from liftwatch.telemetry import service as telemetry
from liftwatch.web.templating import (
    N_,
    PageActorDep,
    PageRoute,
    city_time,
    render,
    request_language,
    screen_tz,
)

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

WORKER_ROLES = frozenset({Role.MAINTENANCE})
#: Who opens the visits list: the use unit's staff (their elevators) and the centre (everything).
VISIT_ROLES = frozenset({Role.USE_UNIT, Role.ADMIN, Role.REGULATOR})
RECENT_LIMIT = 10
VISITS_LIMIT = 200
TEXT_MAX = 2000
PHOTO_PATH = "/maintenance/photos"  # one fixed path, so the body limit can name it (core.limits)
RESULTS = tuple(r.value for r in ItemResult)

#: Page-text keys this module names in code (kept by ``pybabel extract``).
KEYS = (
    N_("mnt.err_position"),
    N_("mnt.err_code"),
    N_("mnt.err_number"),
    N_("mnt.err_value_required"),
    N_("mnt.err_item"),
    N_("mnt.err_items_missing"),
    N_("mnt.err_part_quantity"),
    N_("mnt.err_reason"),
    N_("mnt.err_photo"),
    N_("mnt.err_photo_type"),
    N_("mnt.err_photo_size"),
    N_("mnt.err_too_long"),
    N_("mnt.conflict"),
)


@dataclass(frozen=True)
class MaintenancePage:
    """What every maintenance page works with (one dependency instead of five parameters a route)."""

    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: Settings


def maintenance_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> MaintenancePage:
    return MaintenancePage(request, actor, session, clock, settings)


MaintenancePageDep = Annotated[MaintenancePage, Depends(maintenance_page)]


def _require(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        raise Forbidden(f"role '{actor.role.value}' has no page here")


def _local_day(value: datetime) -> str:
    return as_utc(value).astimezone(screen_tz()).date().isoformat()


# ---------------------------------------------------------------- the worker's list


@dataclass(frozen=True)
class OrderRow:
    """One work order as a list shows it."""

    order: service.StoredWorkOrder
    place: registry.Place | None
    due: str  # local date and time
    overdue: bool
    today: bool

    @property
    def address(self) -> str:
        p = self.place
        return " · ".join(x for x in (p.district, p.street, p.address) if x) if p else ""


def order_rows(session: Session, orders: Sequence[service.StoredWorkOrder], now: datetime) -> list[OrderRow]:
    """Rows for orders the service already scoped to the actor."""
    places = registry.places_of(session, sorted({o.registration_code for o in orders}))
    today = _local_day(now)
    out = []
    for o in orders:
        open_ = WorkOrderState(o.state) not in FINISHED
        planned = o.planned_date.isoformat() if o.planned_date else _local_day(o.due_at)
        out.append(
            OrderRow(
                order=o,
                place=places.get(o.registration_code),
                due=city_time(o.due_at, "%m-%d %H:%M"),
                overdue=open_ and as_utc(o.due_at) < now,
                today=open_ and planned == today,
            )
        )
    return out


def _urgency(row: OrderRow) -> tuple[int, float]:
    """Overdue first, then today's, then the rest; the earliest deadline first within each."""
    rank = 0 if row.overdue else 1 if row.today else 2
    return (rank, as_utc(row.order.due_at).timestamp())


@router.get("/maintenance", response_class=HTMLResponse)
def worker_list(page: MaintenancePageDep) -> HTMLResponse:
    """我的工单: the work orders assigned to this worker, overdue and today's first; then the latest done."""
    _require(page.actor, WORKER_ROLES)
    now = page.clock.now()
    mine = [
        o for o in service.list_work_orders(page.session, page.actor) if o.assignee == page.actor.username
    ]
    rows = order_rows(page.session, mine, now)
    active = sorted((r for r in rows if WorkOrderState(r.order.state) not in FINISHED), key=_urgency)
    done = [r for r in rows if WorkOrderState(r.order.state) in FINISHED][:RECENT_LIMIT]
    context = {"active": active, "done": done}
    return render(page.request, "maintenance/index.html", context, actor=page.actor)


# ---------------------------------------------------------------- the use unit's visits


@router.get("/maintenance/visits", response_class=HTMLResponse)
def visits(page: MaintenancePageDep) -> HTMLResponse:
    """维保记录: visits to the use unit's elevators (the centre: all), newest first, with their records."""
    _require(page.actor, VISIT_ROLES)
    orders = service.list_work_orders(page.session, page.actor, limit=VISITS_LIMIT)
    rows = order_rows(page.session, orders, page.clock.now())
    records = {o.id: service.records_of(page.session, o) for o in orders}
    context = {"rows": rows, "records": records, "can_confirm": page.actor.role is Role.USE_UNIT}
    return render(page.request, "maintenance/visits.html", context, actor=page.actor)


# ---------------------------------------------------------------- one work order


@dataclass
class OrderForm:
    """What was typed on the work order's forms, and what was wrong with it (field -> page-text key)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error_values: dict[str, dict[str, object]] = field(default_factory=dict)

    def error(self, name: str, key: str, **values: object) -> None:
        self.errors.setdefault(name, key)
        if values:
            self.error_values.setdefault(name, values)


@dataclass(frozen=True)
class ChecklistItem:
    item: CatalogueItem
    text: str
    requirement: str
    result: str
    value: str


@dataclass(frozen=True)
class ChecklistGroup:
    interval: str
    items: list[ChecklistItem]


def checklist(
    session: Session, order: service.StoredWorkOrder, done: Mapping[str, Mapping[str, Any]], lang: str
) -> list[ChecklistGroup]:
    """The items the visit carries, grouped by interval (a year visit carries all four), with the results
    recorded so far. A corrective order has no planned items."""
    if not order.interval:
        return []
    elevator = registry.get_public_elevator(session, order.registration_code)
    items = load_catalogue().items_due(appendix_of(elevator.kind), Interval(order.interval))
    en = lang == "en"
    groups: list[ChecklistGroup] = []
    for interval in Interval(order.interval).covers():
        rows = []
        for item in (i for i in items if i.interval == interval):
            row = done.get(item.code, {})
            value = row.get("value")
            rows.append(
                ChecklistItem(
                    item=item,
                    text=item.en if en else item.zh,
                    requirement=item.requirement_en if en else item.requirement_zh,
                    result=str(row.get("result", "")),
                    value="" if value is None else f"{value:g}",
                )
            )
        groups.append(ChecklistGroup(interval.value, rows))
    return groups


def _current(records: Sequence[service.StoredRecord]) -> service.StoredRecord | None:
    """The record the worker is making (the latest that amends nothing)."""
    originals = [r for r in records if r.amends_id is None]
    return originals[-1] if originals else None


def _effective(records: Sequence[service.StoredRecord]) -> service.StoredRecord | None:
    """The record that stands now: the latest amendment, else the original."""
    return records[-1] if records else None


def _order_context(page: MaintenancePage, order: service.StoredWorkOrder, form: OrderForm) -> dict[str, Any]:
    session, actor = page.session, page.actor
    lang = request_language(page.request)
    records = service.records_of(session, order)
    current, effective = _current(records), _effective(records)
    state = WorkOrderState(order.state)
    worker = actor.role is Role.MAINTENANCE and order.assignee == actor.username
    signed = current is not None and current.worker_signed_at is not None
    if worker and state is WorkOrderState.ASSIGNED:
        step = "check_in"
    elif worker and state is WorkOrderState.IN_PROGRESS and current is not None and not signed:
        step = "sign" if current.check_out_at is not None else "work"
    else:
        step = ""
    done = {str(r["code"]): r for r in (effective.items if effective else [])}
    # what was typed wins over what is stored, so a refused form shows as it was sent
    for name, value in form.values.items():
        if name.startswith("result-"):
            code = name.removeprefix("result-")
            done[code] = {**done.get(code, {}), "result": value}
    groups = checklist(session, order, done, lang)
    typed_values = {k.removeprefix("value-"): v for k, v in form.values.items() if k.startswith("value-")}
    elevator = registry.get_public_elevator(session, order.registration_code)
    place = registry.places_of(session, [order.registration_code]).get(order.registration_code)
    return {
        "order": order,
        "elevator": elevator,
        "row": order_rows(session, [order], page.clock.now())[0],
        "place": place,
        "records": records,
        "current": current,
        "effective": effective,
        "signed": signed,
        "step": step,
        "groups": groups,
        "typed_values": typed_values,
        "results": RESULTS,
        "done_count": sum(1 for g in groups for i in g.items if i.result),
        "item_count": sum(len(g.items) for g in groups),
        "item_names": {i.item.code: i.text for g in groups for i in g.items},
        "attachments": service.attachments_of(session, order),
        "events": service.events_of(session, order),
        "form": form,
        "can_amend": actor.role is Role.MAINTENANCE
        and state in (WorkOrderState.COMPLETED, WorkOrderState.CONFIRMED),
        "can_confirm": actor.role is Role.USE_UNIT and state is WorkOrderState.COMPLETED,
        "can_photo": worker and state is WorkOrderState.IN_PROGRESS,
        "photo_path": PHOTO_PATH,
    }


def _order_page(
    page: MaintenancePage,
    work_order_id: int,
    form: OrderForm | None = None,
    conflict: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    order = service.get_work_order(page.session, page.actor, work_order_id)  # 404 outside the scope
    context = _order_context(page, order, form or OrderForm())
    context["conflict"] = conflict
    return render(
        page.request, "maintenance/work_order.html", context, actor=page.actor, status_code=status_code
    )


@router.get("/maintenance/work-orders/{work_order_id}", response_class=HTMLResponse)
def work_order_page(page: MaintenancePageDep, work_order_id: int) -> HTMLResponse:
    """One work order: its next step for its worker, its record (read-only once signed) for everyone."""
    return _order_page(page, work_order_id)


def _back(work_order_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/maintenance/work-orders/{work_order_id}{anchor}", status_code=303)


#: the service's field names -> the page's error key (when the page cannot tell the cause better itself)
_FIELD_KEYS = {
    "scanned_code": N_("mnt.err_code"),
    "latitude": N_("mnt.err_position"),
    "longitude": N_("mnt.err_position"),
    "reason": N_("mnt.err_reason"),
    "file": N_("mnt.err_photo"),
}


def _service_errors(exc: InvalidInput, form: OrderForm, codes: Sequence[str] = ()) -> None:
    """The service's refusals as page errors next to their fields: ``items.<i>.value`` names the i-th
    item sent (``codes``); ``items`` alone is the sign's "items without a result"."""
    for err in exc.errors:
        parts = err.field.split(".")
        if parts[0] == "items" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(codes):
            code = codes[int(parts[1])]
            key = N_("mnt.err_value_required") if parts[2] == "value" else N_("mnt.err_item")
            form.error(f"{'value' if parts[2] == 'value' else 'result'}-{code}", key)
        elif parts[0] == "items":
            form.error("items", N_("mnt.err_items_missing"))
        else:
            form.error(parts[0], _FIELD_KEYS.get(parts[0], N_("mnt.err_item")))


def _act(
    page: MaintenancePage,
    work_order_id: int,
    do: Callable[[], object],
    form: OrderForm,
    codes: Sequence[str] = (),
    anchor: str = "",
) -> Response:
    """Do one step through the service: refused input is shown beside its fields (422); a step the order
    no longer allows shows the order as it is now (409); done, committed, back to the order (303)."""
    if form.errors:
        return _order_page(page, work_order_id, form=form, status_code=422)
    try:
        do()
    except InvalidInput as exc:
        page.session.rollback()
        _service_errors(exc, form, codes)
        return _order_page(page, work_order_id, form=form, status_code=422)
    except Conflict as exc:
        page.session.rollback()
        log.info("work order %s step refused for %s: %s", work_order_id, page.actor.username, exc.message)
        # no valid certificate (特种设备作业人员证): say so, not that the order moved on
        why = "certificate" if any(e.field == "certificate" for e in exc.errors) else "state"
        return _order_page(page, work_order_id, conflict=why, status_code=409)
    page.session.commit()
    return _back(work_order_id, anchor)


def parse_number(text: str) -> float | None:
    """A finite number as typed (a comma as the decimal mark too), or None."""
    try:
        value = float(text.strip().replace(",", ".").replace("，", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _position(form: OrderForm, latitude: str, longitude: str) -> tuple[float, float]:
    lat, lon = parse_number(latitude), parse_number(longitude)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        form.error("position", N_("mnt.err_position"))
        return (0.0, 0.0)
    return (lat, lon)


@router.post("/maintenance/work-orders/{work_order_id}/check-in", response_class=HTMLResponse)
def check_in(
    page: MaintenancePageDep,
    work_order_id: int,
    latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
    scanned_code: Annotated[str, Form()] = "",
) -> Response:
    """到场签到: the phone's position (or typed) and the code read in the car."""
    _require(page.actor, WORKER_ROLES)
    form = OrderForm(values={"latitude": latitude, "longitude": longitude, "scanned_code": scanned_code})
    lat, lon = _position(form, latitude, longitude)
    if not scanned_code.strip():
        form.error("scanned_code", N_("mnt.err_code"))
    return _act(
        page,
        work_order_id,
        lambda: service.check_in(
            page.session, page.actor, work_order_id, lat, lon, scanned_code.strip()[:40], page.clock
        ),
        form,
    )


def _item_entries(data: Mapping[str, str], form: OrderForm) -> list[service.ItemEntry]:
    """The checklist as sent: ``result-<code>`` (one of the results) and ``value-<code>`` (a number)."""
    entries = []
    for name, result in data.items():
        if not name.startswith("result-") or not result:
            continue
        code = name.removeprefix("result-")
        if result not in RESULTS:
            form.error(name, N_("mnt.err_item"))
            continue
        typed = data.get(f"value-{code}", "").strip()
        value = parse_number(typed) if typed else None
        if typed and value is None:
            form.error(f"value-{code}", N_("mnt.err_number"))
            continue
        entries.append(service.ItemEntry(code, ItemResult(result), value))
    return entries


def _part_entries(data: Mapping[str, str], form: OrderForm) -> list[service.PartEntry]:
    name = data.get("part_name", "").strip()
    if not name:
        return []
    if len(name) > 200:
        form.error("part_name", N_("mnt.err_too_long"))
        return []
    try:
        quantity = int(data.get("part_quantity", "1").strip() or "1")
    except ValueError:
        quantity = 0
    if not 1 <= quantity <= 999:
        form.error("part_quantity", N_("mnt.err_part_quantity"))
        return []
    return [service.PartEntry(name, quantity)]


async def _form_data(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: v for k, v in raw.items() if isinstance(v, str)}


@router.post("/maintenance/work-orders/{work_order_id}/items", response_class=HTMLResponse)
async def save_items(page: MaintenancePageDep, work_order_id: int) -> Response:
    """保存: the item results ticked so far and a part replaced; again replaces an item's result."""
    _require(page.actor, WORKER_ROLES)
    data = await _form_data(page.request)

    def save() -> Response:
        form = OrderForm(values={k: v for k, v in data.items() if k != "csrf_token"})
        items = _item_entries(data, form)
        parts = _part_entries(data, form)
        codes = [i.code for i in items]
        return _act(
            page,
            work_order_id,
            lambda: service.record_results(page.session, page.actor, work_order_id, items, parts, page.clock),
            form,
            codes,
            "#checklist",
        )

    return await run_in_threadpool(save)


@router.post("/maintenance/work-orders/{work_order_id}/check-out", response_class=HTMLResponse)
def check_out(
    page: MaintenancePageDep,
    work_order_id: int,
    latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
) -> Response:
    """离场签退: the position when leaving."""
    _require(page.actor, WORKER_ROLES)
    form = OrderForm(values={"out_latitude": latitude, "out_longitude": longitude})
    lat, lon = _position(form, latitude, longitude)
    return _act(
        page,
        work_order_id,
        lambda: service.check_out(page.session, page.actor, work_order_id, lat, lon, page.clock),
        form,
    )


@router.post("/maintenance/work-orders/{work_order_id}/sign", response_class=HTMLResponse)
def sign(page: MaintenancePageDep, work_order_id: int) -> Response:
    """维保人员签字: the record is final from now on."""
    _require(page.actor, WORKER_ROLES)
    return _act(
        page,
        work_order_id,
        lambda: service.sign(
            page.session, page.actor, work_order_id, page.clock, zone(page.settings.timezone)
        ),
        OrderForm(),
    )


@router.post("/maintenance/work-orders/{work_order_id}/confirm", response_class=HTMLResponse)
def confirm(
    page: MaintenancePageDep,
    work_order_id: int,
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """使用单位签字确认: the use unit signs the completed visit off (``back=visits``: from its list, and back
    to it)."""
    _require(page.actor, frozenset({Role.USE_UNIT}))
    form = OrderForm(values={"note": note})
    if len(note) > TEXT_MAX:
        form.error("note", N_("mnt.err_too_long"))
    response = _act(
        page,
        work_order_id,
        lambda: service.confirm(page.session, page.actor, work_order_id, page.clock, note.strip()),
        form,
    )
    if back == "visits" and response.status_code == 303:
        return RedirectResponse(f"/maintenance/visits#visit-{work_order_id}", status_code=303)
    return response


@router.post("/maintenance/work-orders/{work_order_id}/amend", response_class=HTMLResponse)
async def amend(page: MaintenancePageDep, work_order_id: int) -> Response:
    """更正: a signed record is never edited; the correction is a new record naming it and why."""
    _require(page.actor, WORKER_ROLES)
    data = await _form_data(page.request)

    def save() -> Response:
        form = OrderForm(values={k: v for k, v in data.items() if k != "csrf_token"})
        reason = data.get("reason", "").strip()
        if not reason:
            form.error("reason", N_("mnt.err_reason"))
        elif len(reason) > TEXT_MAX:
            form.error("reason", N_("mnt.err_too_long"))
        items = _item_entries(data, form)
        parts = _part_entries(data, form)
        codes = [i.code for i in items]
        return _act(
            page,
            work_order_id,
            lambda: service.amend(page.session, page.actor, work_order_id, reason, items, parts, page.clock),
            form,
            codes,
            "#records",
        )

    return await run_in_threadpool(save)


@router.post(PHOTO_PATH, response_class=HTMLResponse)
def add_photo(
    page: MaintenancePageDep,
    work_order_id: Annotated[int, Form()],
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """拍照上传: a photo of the work (JPEG, PNG or WebP, ``LIFTWATCH_UPLOAD_MAX_MB``), stored by the service
    (the file is in place only once its row is committed)."""
    _require(page.actor, WORKER_ROLES)
    form = OrderForm()
    if photo is None or not photo.filename:
        form.error("photo", N_("mnt.err_photo"))
        return _order_page(page, work_order_id, form=form, status_code=422)
    try:
        _row, staged = service.add_attachment(
            page.session,
            page.actor,
            work_order_id,
            photo.file,
            photo.content_type,
            photo.filename,
            page.clock,
            page.settings,
        )
    except DomainError as exc:
        page.session.rollback()
        if exc.status_code == 415:
            form.error("photo", N_("mnt.err_photo_type"))
        elif exc.status_code == 413:
            form.error("photo", N_("mnt.err_photo_size"))
        elif isinstance(exc, InvalidInput):
            form.error("photo", N_("mnt.err_photo"))
        else:
            raise
        return _order_page(page, work_order_id, form=form, status_code=exc.status_code)
    service.commit_attachment(page.session, staged)
    return _back(work_order_id, "#photos")


@router.get("/maintenance/photos/{attachment_id}")
def photo(page: MaintenancePageDep, attachment_id: int) -> Response:
    """A photo of a work order in the actor's scope (the page's own link; the API serves the same)."""
    row, path = service.get_attachment(page.session, page.actor, attachment_id, page.settings)
    return FileResponse(path, media_type=row.content_type, headers={"Cache-Control": "private, max-age=3600"})


# ---------------------------------------------------------------- the planner


def _on_demand(
    session: Session,
    actor: Actor,
    registration_code: str,
    contract: service.StoredContract | None,
    today: date,
    settings: Settings,
) -> plans.Qualification | None:
    """Whether the elevator may be maintained on demand (按需维保准入), every condition not met named: its
    maintenance unit's latest stored rating (ratings), the IoT terminal fitted and online (telemetry), in
    service with a valid inspection (inspection), a valid liability policy (insurance). None without a
    valid contract: there is no unit to qualify."""
    if contract is None:
        return None
    elevator = registry.get_elevator(session, actor, registration_code)
    live = telemetry.live_status(session, actor, registration_code)
    facts = plans.QualificationInput(
        today=today,
        terminal_fitted=bool(elevator.iot_terminal_id),
        online=bool(live and live.online),
        in_service=elevator.status == ElevatorStatus.IN_USE.value,
        inspection_valid_until=inspection.due_for(session, elevator, settings, today).due,
        insured=insurance.insured_on(session, registration_code, today),
    )
    return ratings.qualify_on_demand(session, contract.unit_code, facts)


def plan_text(visit: queries.PlannedVisit, lang: str) -> str:
    """A computed due date in words: "按需维保：上次维保以来困人1次，每次提前45天；间隔缩短至45天"."""
    return maintenance_labels.plan_summary(
        visit.model, visit.reasons, visit.interval_days, visit.unknown, lang
    )


def flag_text(flag: service.StoredFlag, lang: str) -> str:
    """A fake-maintenance flag's evidence in words."""
    return maintenance_labels.flag_evidence_text(flag.kind, flag.evidence or {}, lang)


def hours(value: float | None) -> str:
    """Hours on screen: one decimal under 100, whole above."""
    if value is None:
        return ""
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


@router.get("/maintenance/planner", response_class=HTMLResponse)
def planner_page(page: MaintenancePageDep, unit: str = "") -> HTMLResponse:
    """维保计划: one unit's week (maintenance staff: their own; the centre: the unit it picks): overdue
    visits, corrective orders past their SLA, visits due in the coming days, on-demand intervals, elevators
    without a valid contract, with counts and the unit's MTBF and MTTR."""
    plan = queries.planner(page.session, page.actor, unit.strip()[:40] or None, page.clock, page.settings)
    codes = sorted(
        {v.registration_code for v in (*plan.overdue, *plan.due_soon, *plan.on_demand)}
        | {r.order.registration_code for r in plan.late_orders}
        | set(plan.without_contract)
    )
    picks = page.actor.role is not Role.MAINTENANCE
    units = queries.maintenance_units(page.session, page.actor) if picks else []
    names = registry.unit_names(page.session, [plan.unit_code] if plan.unit_code else [])
    context = {
        "plan": plan,
        "places": registry.places_of(page.session, codes),
        "picks_unit": picks,
        "units": units,
        "unit_name": names.get(plan.unit_code or "", ""),
        "figures": queries.as_row(plan.reliability) if plan.reliability else None,
        "plan_text": plan_text,
        "hours": hours,
    }
    return render(page.request, "maintenance/planner.html", context, actor=page.actor)


# ---------------------------------------------------------------- the elevator file


def file_context(
    session: Session,
    actor: Actor,
    registration_code: str,
    clock: Clock,
    settings: Settings,
) -> dict[str, Any]:
    """The elevator file's 维保记录 section, as far as the actor may read maintenance records
    (``maintenance: None`` otherwise): the three-no warning when no contract is valid today, the next
    visit with its reasons, contracts, work orders and their signed records, fake-maintenance flags with
    their review, the elevator's inspections (``inspections: None`` for a role that may not read them),
    and MTBF / MTTR over the last ``queries.RELIABILITY_DAYS``, on the app's clock and settings."""
    try:
        contracts = service.list_contracts(session, actor, registration_code, None, None)
        orders = service.list_work_orders(session, actor, registration_code, limit=50)
        flags = service.flags_of_elevator(session, actor, registration_code)
        figures = queries.elevator_reliability(session, actor, registration_code, clock, settings)
    except Forbidden:
        return {"maintenance": None}
    signed = {
        o.id: [r for r in service.records_of(session, o) if r.worker_signed_at is not None] for o in orders
    }
    today = clock.now().astimezone(zone(settings.timezone)).date()
    valid = service.valid_contract(session, registration_code, today)
    next_visit = queries.planned_visits(session, [valid], today, settings)[0] if valid is not None else None
    try:
        inspections: list[Any] | None = inspection.list_inspections(
            session, actor, registration_code, limit=20
        )
    except Forbidden:
        inspections = None
    findings = {i.id: len(inspection.nonconformities_of(session, i)) for i in inspections or []}
    return {
        "maintenance": {
            "on_demand": _on_demand(session, actor, registration_code, valid, today, settings),
            "contracts": contracts,
            "orders": orders,
            "signed": signed,
            "valid_contract": valid,
            "next_visit": next_visit,
            "flags": flags,
            "inspections": inspections,
            "findings": findings,
            "reliability": figures,
            "figures": queries.as_row(figures.figures),
            "today": today,
        },
        "plan_text": plan_text,
        "reason_text": maintenance_labels.reason_text,
        "flag_text": flag_text,
        "hours": hours,
    }
