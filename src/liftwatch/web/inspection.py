"""Inspection pages (检验): the inspector's schedule (overdue, due soon, scheduled, in progress, recently
signed, the maintenance units' recent self-tests, each with its count) and one inspection's result form on a
390-pixel-wide screen (the conclusion, the non-conformities with their item, description, severity and
rectification deadline; save a draft or sign; a signed result read-only, with its re-inspection); and the
self-test records (自检记录): maintenance staff record their unit's self-tests there, starting from the
elevators due one (待自检); the centre and inspectors read them.

Regulators and admins read the same pages without forms. Every change goes through
``inspection.service`` (the only writer), which also decides scope: an inspection outside it is the same
404 page as a missing one. The service's messages are English for the API; here each refused field is
shown next to its input in the page's words (page-text keys).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.inspection import service
from liftwatch.inspection.domain import Conclusion, InspectionKind, Severity, add_years
from liftwatch.registry import queries as registry
from liftwatch.web.templating import N_, PageActorDep, PageRoute, city_time, render, screen_tz

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: Who opens the inspection pages: inspectors record, the centre reads.
PAGE_ROLES = frozenset({Role.INSPECTOR, Role.ADMIN, Role.REGULATOR})
#: Blank non-conformity rows the form offers below those already entered.
BLANK_ROWS = 2
MAX_ROWS = 50
TEXT_MAX = 2000
ITEM_MAX = 64
REPORT_MAX = 64
CONCLUSIONS = tuple(c.value for c in Conclusion)
SEVERITIES = tuple(s.value for s in Severity)

#: The schedule's sections in order: (name, heading key).
SECTIONS = (
    ("overdue", N_("insp.sec_overdue")),
    ("due_soon", N_("insp.sec_due_soon")),
    ("in_progress", N_("insp.sec_in_progress")),
    ("scheduled", N_("insp.sec_scheduled")),
    ("signed", N_("insp.sec_signed")),
)

#: Page-text keys this module names in code (kept by ``pybabel extract``).
KEYS = (
    N_("insp.err_performed_at"),
    N_("insp.err_future"),
    N_("insp.err_conclusion"),
    N_("insp.err_report_number"),
    N_("insp.err_nc_required"),
    N_("insp.err_pass_has_nc"),
    N_("insp.err_nc_text"),
    N_("insp.err_rectify_by"),
    N_("insp.err_rectify_before"),
    N_("insp.err_severity"),
    N_("insp.err_too_long"),
    N_("insp.err_date"),
)


@dataclass(frozen=True)
class InspectionPage:
    """What every inspection page works with (one dependency instead of five parameters a route)."""

    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: Settings


def inspection_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> InspectionPage:
    if actor.role not in PAGE_ROLES:
        raise Forbidden(f"role '{actor.role.value}' has no inspection pages")
    return InspectionPage(request, actor, session, clock, settings)


InspectionPageDep = Annotated[InspectionPage, Depends(inspection_page)]


def _today(page: InspectionPage) -> date:
    return page.clock.now().astimezone(screen_tz()).date()


# ---------------------------------------------------------------- the schedule


@dataclass(frozen=True)
class Row:
    """One inspection as the schedule lists it."""

    inspection: service.StoredInspection
    address: str
    overdue_days: int  # > 0: past its due date, unsigned


def rows_of(session: Session, inspections: Sequence[service.StoredInspection], today: date) -> list[Row]:
    """Rows for inspections the service already scoped to the actor."""
    places = registry.places_of(session, sorted({i.registration_code for i in inspections}))
    out = []
    for i in inspections:
        p = places.get(i.registration_code)
        address = " · ".join(x for x in (p.district, p.street, p.address) if x) if p else ""
        late = (today - i.due_date).days if i.signed_at is None and i.due_date < today else 0
        out.append(Row(i, address, late))
    return out


@router.get("/inspection", response_class=HTMLResponse)
def schedule(page: InspectionPageDep) -> HTMLResponse:
    """检验计划: the inspector's inspections by where they stand (the centre: every body's, read-only)."""
    board = service.schedule_board(page.session, page.actor, page.clock, page.settings)
    today = board.today
    sections = [
        (name, key, rows_of(page.session, getattr(board, name), today), board.counts[name])
        for name, key in SECTIONS
    ]
    context = {
        "sections": sections,
        "self_tests": board.self_tests,
        "self_test_count": board.counts["self_tests"],
        "today": today,
        "soon_days": service.DUE_SOON_DAYS,
        "body": service.body_of(page.session, page.actor),
        "read_only": page.actor.role is not Role.INSPECTOR,
    }
    return render(page.request, "inspection/index.html", context, actor=page.actor)


# ---------------------------------------------------------------- one inspection


@dataclass
class ResultForm:
    """What was typed on the result form, and what was wrong with it (field -> page-text key)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    rows: int = 0  # non-conformity rows to show

    def error(self, name: str, key: str) -> None:
        self.errors.setdefault(name, key)


def _stored_form(page: InspectionPage, row: service.StoredInspection) -> ResultForm:
    """The form as stored (a draft), or a blank one for an inspection not yet recorded."""
    performed = row.performed_at or page.clock.now()
    values = {
        "performed_at": city_time(performed, "%Y-%m-%dT%H:%M"),
        "conclusion": row.conclusion or "",
        "report_number": row.report_number,
    }
    items = service.nonconformities_of(page.session, row)
    for n, nc in enumerate(items):
        values |= {
            f"nc-{n}-item": nc.item,
            f"nc-{n}-text": nc.text,
            f"nc-{n}-severity": nc.severity,
            f"nc-{n}-rectify_by": nc.rectify_by.isoformat(),
        }
    return ResultForm(values=values, rows=len(items) + BLANK_ROWS)


def _detail_context(page: InspectionPage, row: service.StoredInspection, form: ResultForm) -> dict[str, Any]:
    session, actor = page.session, page.actor
    today = _today(page)
    signed = row.signed_at is not None
    may_record = not signed and service.may_record(session, actor, row)
    re_inspection = service.re_inspection_of(session, actor, row) if signed else None
    original = service.get_inspection(session, actor, row.original_id) if row.original_id else None
    return {
        "insp": row,
        "row": rows_of(session, [row], today)[0],
        "nonconformities": service.nonconformities_of(session, row),
        "self_tests": service.list_self_tests(session, actor, row.registration_code, limit=5),
        "signed": signed,
        "may_record": may_record,
        "may_re_inspect": signed
        and actor.role is Role.INSPECTOR
        and row.conclusion != Conclusion.PASS.value
        and row.kind != InspectionKind.SELF_TEST.value
        and (re_inspection is None or re_inspection.signed_at is not None),
        "re_inspection": re_inspection,
        "original": original,
        "form": form,
        "conclusions": CONCLUSIONS,
        "severities": SEVERITIES,
        "row_numbers": range(min(max(form.rows, BLANK_ROWS), MAX_ROWS)),
        "re_inspection_date": (today + timedelta(days=14)).isoformat(),
        "today": today,
    }


def _detail_page(
    page: InspectionPage,
    inspection_id: int,
    form: ResultForm | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    row = service.get_inspection(page.session, page.actor, inspection_id)  # 404 outside the scope
    context = _detail_context(page, row, form or _stored_form(page, row))
    context["conflict"] = conflict
    return render(page.request, "inspection/detail.html", context, actor=page.actor, status_code=status_code)


@router.get("/inspection/inspections/{inspection_id}", response_class=HTMLResponse)
def detail(page: InspectionPageDep, inspection_id: int) -> HTMLResponse:
    """One inspection: its result form for its inspector, read-only once signed (and for the centre)."""
    return _detail_page(page, inspection_id)


def _back(inspection_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/inspection/inspections/{inspection_id}{anchor}", status_code=303)


def _parse_day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2199, 12, 31) else None


def _parse_moment(text: str) -> datetime | None:
    """A ``datetime-local`` value (``YYYY-MM-DDTHH:MM``) on the city's clock, as an aware instant."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=screen_tz())
    return as_utc(moment) if 2000 <= moment.year <= 2199 else None


def _findings(data: Mapping[str, str], form: ResultForm) -> tuple[list[service.Finding], list[int]]:
    """The non-conformity rows as sent (``nc-<i>-item``, ``-text``, ``-severity``, ``-rectify_by``); a row
    left blank is skipped. Returns the findings and the form row each came from."""
    findings: list[service.Finding] = []
    origin: list[int] = []
    for n in range(MAX_ROWS):
        item = data.get(f"nc-{n}-item", "").strip()
        text = data.get(f"nc-{n}-text", "").strip()
        deadline = data.get(f"nc-{n}-rectify_by", "").strip()
        if not (item or text or deadline):
            continue
        bad = False
        if not text:
            form.error(f"nc-{n}-text", N_("insp.err_nc_text"))
            bad = True
        elif len(text) > TEXT_MAX:
            form.error(f"nc-{n}-text", N_("insp.err_too_long"))
            bad = True
        if len(item) > ITEM_MAX:
            form.error(f"nc-{n}-item", N_("insp.err_too_long"))
            bad = True
        severity = data.get(f"nc-{n}-severity", Severity.MINOR.value)
        if severity not in SEVERITIES:
            form.error(f"nc-{n}-severity", N_("insp.err_severity"))
            bad = True
        day = _parse_day(deadline)
        if day is None:
            form.error(f"nc-{n}-rectify_by", N_("insp.err_rectify_by"))
            bad = True
        if not bad and day is not None:
            findings.append(service.Finding(text, Severity(severity), day, item))
            origin.append(n)
    return findings, origin


#: the service's field names -> the page's error key (when the page cannot tell the cause better itself)
_FIELD_KEYS = {
    "performed_at": N_("insp.err_future"),
    "report_number": N_("insp.err_report_number"),
    "conclusion": N_("insp.err_conclusion"),
}


def _service_errors(exc: InvalidInput, form: ResultForm, conclusion: str, origin: Sequence[int]) -> None:
    """The service's refusals beside their fields: ``nonconformities.<i>.rectify_by`` names the i-th
    finding sent (``origin`` maps it to its form row); ``nonconformities`` alone is the count rule."""
    for err in exc.errors:
        parts = err.field.split(".")
        if parts[0] == "nonconformities" and len(parts) == 3 and parts[1].isdigit():
            i = int(parts[1])
            n = origin[i] if i < len(origin) else 0
            form.error(f"nc-{n}-{parts[2]}", N_("insp.err_rectify_before"))
        elif parts[0] == "nonconformities":
            key = N_("insp.err_pass_has_nc") if conclusion == "pass" else N_("insp.err_nc_required")
            form.error("nonconformities", key)
        else:
            form.error(parts[0], _FIELD_KEYS.get(parts[0], N_("insp.err_conclusion")))


def _act(
    page: InspectionPage,
    inspection_id: int,
    do: Callable[[], object],
    form: ResultForm,
    on_invalid: Callable[[InvalidInput], None],
    anchor: str = "",
) -> Response:
    """Do one step through the service: refused input is shown beside its fields (422); a step the
    inspection no longer allows (signed meanwhile) shows it as it is now (409); done, back to it (303)."""
    if form.errors:
        return _detail_page(page, inspection_id, form=form, status_code=422)
    try:
        do()
    except InvalidInput as exc:
        page.session.rollback()
        on_invalid(exc)
        return _detail_page(page, inspection_id, form=form, status_code=422)
    except Conflict as exc:
        page.session.rollback()
        log.info("inspection %s step refused for %s: %s", inspection_id, page.actor.username, exc.message)
        return _detail_page(page, inspection_id, conflict=True, status_code=409)
    page.session.commit()
    return _back(inspection_id, anchor)


@router.post("/inspection/inspections/{inspection_id}/result", response_class=HTMLResponse)
async def record(page: InspectionPageDep, inspection_id: int) -> Response:
    """保存草稿 / 签发: record the result (a draft, corrected until signed); ``action=sign`` records and
    signs it in one step: from then on it is never changed, and its non-conformities open rectification
    work orders in maintenance."""
    raw = await page.request.form()
    data = {k: v for k, v in raw.items() if isinstance(v, str)}

    def save() -> Response:
        values = {k: v for k, v in data.items() if k not in ("csrf_token", "action")}
        rows = 1 + max(
            (int(k.split("-")[1]) for k in values if k.startswith("nc-") and k.split("-")[1].isdigit()),
            default=-1,
        )
        form = ResultForm(values=values, rows=min(rows, MAX_ROWS))
        performed = _parse_moment(data.get("performed_at", ""))
        if performed is None:
            form.error("performed_at", N_("insp.err_performed_at"))
        conclusion = data.get("conclusion", "")
        if conclusion not in CONCLUSIONS:
            form.error("conclusion", N_("insp.err_conclusion"))
        report = data.get("report_number", "").strip()
        if not report or len(report) > REPORT_MAX or "\n" in report:
            form.error("report_number", N_("insp.err_report_number"))
        findings, origin = _findings(data, form)
        signing = data.get("action") == "sign"

        def do() -> None:
            assert performed is not None  # form errors return before
            service.record_result(
                page.session,
                page.actor,
                inspection_id,
                performed,
                Conclusion(conclusion),
                report,
                findings,
                page.clock,
                page.settings,
            )
            if signing:
                service.sign(page.session, page.actor, inspection_id, page.clock, page.settings)

        return _act(
            page,
            inspection_id,
            do,
            form,
            lambda exc: _service_errors(exc, form, conclusion, origin),
            "#result" if signing else "#result-form",
        )

    return await run_in_threadpool(save)


@router.post("/inspection/inspections/{inspection_id}/re-inspection", response_class=HTMLResponse)
def re_inspect(
    page: InspectionPageDep,
    inspection_id: int,
    scheduled_date: Annotated[str, Form()] = "",
) -> Response:
    """安排复检: the re-inspection of a signed result that did not pass outright, after rectification; the
    new inspection opens (asked again, the open one)."""
    form = ResultForm(values={"scheduled_date": scheduled_date})
    day = _parse_day(scheduled_date)
    if day is None:
        form.error("scheduled_date", N_("insp.err_date"))
        return _detail_page(page, inspection_id, form=form, status_code=422)
    try:
        new, _created = service.schedule_re_inspection(
            page.session, page.actor, inspection_id, day, page.clock, page.settings
        )
    except Conflict:
        page.session.rollback()
        return _detail_page(page, inspection_id, conflict=True, status_code=409)
    page.session.commit()
    return _back(new.id)


# ---------------------------------------------------------------- self-tests (自行检测)

#: Who opens the self-test page: maintenance staff record their unit's, the centre and inspectors read.
SELF_TEST_ROLES = PAGE_ROLES | {Role.MAINTENANCE}
SELF_TESTS_SHOWN = 50
TESTER_MAX = 64
CODE_MAX = 40

#: the service's field names -> the self-test form's inputs
_SELF_TEST_FIELDS = {"code": "code", "tested_on": "tested_on", "conclusion": "conclusion", "tester": "tester"}


def self_test_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> InspectionPage:
    if actor.role not in SELF_TEST_ROLES:
        raise Forbidden(f"role '{actor.role.value}' has no self-test page")
    return InspectionPage(request, actor, session, clock, settings)


SelfTestPageDep = Annotated[InspectionPage, Depends(self_test_page)]


@dataclass(frozen=True)
class DueRow:
    """An elevator of the unit that wants a self-test, as the page lists it (待自检)."""

    due: service.SelfTestDue
    address: str
    late_days: int  # > 0: the due day has passed


def _due_rows(page: InspectionPage, today: date) -> list[DueRow]:
    """The unit's elevators due a self-test (maintenance staff only: the others read, they record none)."""
    if page.actor.role is not Role.MAINTENANCE:
        return []
    due = service.self_tests_due(page.session, page.actor, page.clock, page.settings)
    places = registry.places_of(page.session, [d.registration_code for d in due])
    out = []
    for d in due:
        p = places.get(d.registration_code)
        address = " · ".join(x for x in (p.district, p.street, p.address) if x) if p else ""
        out.append(DueRow(d, address, max((today - d.due).days, 0)))
    return out


def _self_tests_page(
    page: InspectionPage,
    form: ResultForm | None = None,
    status_code: int = 200,
    saved: int | None = None,
) -> HTMLResponse:
    today = _today(page)
    may_record = page.actor.role is Role.MAINTENANCE
    code = page.request.query_params.get("code", "").strip()[:CODE_MAX]
    form = form or ResultForm(values={"code": code, "tested_on": today.isoformat()})
    tests = service.list_self_tests(page.session, page.actor, limit=SELF_TESTS_SHOWN)
    context = {
        "tests": tests,
        "saved": next((s for s in tests if s.id == saved), None),
        "due_rows": _due_rows(page, today),
        "soon_days": service.DUE_SOON_DAYS,
        "may_record": may_record,
        "form": form,
        "conclusions": CONCLUSIONS,
        "today": today,
    }
    return render(
        page.request, "inspection/self_tests.html", context, actor=page.actor, status_code=status_code
    )


@router.get("/inspection/self-tests", response_class=HTMLResponse)
def self_tests(page: SelfTestPageDep, saved: str = "") -> HTMLResponse:
    """自检记录: the recent self-tests in the actor's scope; for maintenance staff also the unit's elevators
    due a self-test (待自检) and the form to record one (``?code=`` fills in the elevator)."""
    return _self_tests_page(page, saved=int(saved) if saved.isdigit() and len(saved) < 12 else None)


def _self_test_refused(exc: DomainError, form: ResultForm) -> int:
    """The service's refusal beside its field; returns the page's status (404, 409 or 422)."""
    if isinstance(exc, NotFound):
        form.error("code", N_("insp.st_err_not_found"))
        return 404
    if isinstance(exc, Conflict):
        form.error("tested_on", N_("insp.st_err_taken"))
        return 409
    keys = {"tested_on": N_("insp.st_err_future"), "conclusion": N_("insp.st_err_conclusion")}
    for err in exc.errors:
        name = _SELF_TEST_FIELDS.get(err.field.split(".")[0], "code")
        form.error(name, keys.get(name, N_("insp.st_err_invalid")))
    if not form.errors:
        form.error("code", N_("insp.st_err_invalid"))
    return 422


@router.post("/inspection/self-tests", response_class=HTMLResponse)
def record_self_test(
    page: SelfTestPageDep,
    code: Annotated[str, Form()] = "",
    tested_on: Annotated[str, Form()] = "",
    conclusion: Annotated[str, Form()] = "",
    tester: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    """记录自检: the maintenance unit's self-test of one of its elevators, never changed once recorded; back
    to the list with the new row (303). Refusals are shown beside their field: an elevator outside the
    unit's (404), a day in the future (422), the same elevator and day again (409)."""
    if page.actor.role is not Role.MAINTENANCE:
        raise Forbidden("only the maintenance unit's staff record self-tests")
    values = {
        "code": code,
        "tested_on": tested_on,
        "conclusion": conclusion,
        "tester": tester,
        "notes": notes,
    }
    form = ResultForm(values=values)
    code, tester, notes = code.strip(), tester.strip(), notes.strip()
    if not code or len(code) > CODE_MAX:
        form.error("code", N_("insp.st_err_code"))
    day = _parse_day(tested_on)
    if day is None:
        form.error("tested_on", N_("insp.err_date"))
    if conclusion not in CONCLUSIONS:
        form.error("conclusion", N_("insp.st_err_conclusion"))
    if not tester or len(tester) > TESTER_MAX or not tester.isprintable():
        form.error("tester", N_("insp.st_err_tester"))
    if len(notes) > TEXT_MAX:
        form.error("notes", N_("insp.err_too_long"))
    elif "\x00" in notes:
        form.error("notes", N_("insp.st_err_invalid"))
    if form.errors or day is None:
        return _self_tests_page(page, form=form, status_code=422)
    try:
        row = service.record_self_test(
            page.session,
            page.actor,
            code,
            day,
            Conclusion(conclusion),
            tester,
            notes,
            page.clock,
            page.settings,
        )
    except (NotFound, Conflict, InvalidInput) as exc:
        page.session.rollback()
        status = _self_test_refused(exc, form)
        return _self_tests_page(page, form=form, status_code=status)
    page.session.commit()
    return RedirectResponse(f"/inspection/self-tests?saved={row.id}#st-saved", status_code=303)


# ---------------------------------------------------------------- the pass rate for the reports page


def pass_rate_figure(
    session: Session, actor: Actor, first: date | None, last: date | None, settings: Settings,
    today: date, unit: str | None = None, district: str | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """The first-attempt pass rate (检验合格率) of the days ``first``..``last`` (default: the 12 months to
    ``today``) for the reports page, or None when the actor reads no inspections."""
    last = last or today
    first = first or add_years(last, -1) + timedelta(days=1)
    if first > last:
        return None
    try:
        rate = service.pass_rate(session, actor, first, last + timedelta(days=1), settings, unit, district)
    except Forbidden:
        return None
    return {"first": first, "last": last, "rate": rate, "target": 0.95}
