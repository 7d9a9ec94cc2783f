"""The regulator's registers (监管台账): three-no elevators (三无电梯) and elevators of 15 years and more
(15年以上老旧电梯), at ``/oversight/registers``, each under its tab with its counts; and one elevator's
focused-supervision page, ``/oversight/registers/elevators/{code}``, with its three-no measures, its safety
assessments and the forms to record them.

三无电梯: elevators in use with no property management, no maintenance contract (the registry's flag, or
no contract valid on the city's today in maintenance) or no repair fund, each condition a chip, counted
per condition, with the latest measure taken and the follow-up status (identified, measures in progress,
resolved; ``assessment.service``), filtered by status. 15年以上: elevators in use 15 whole years or more
(commissioning date, else installation date), residential first, counted by age band, each with its safety
assessment (安全评估) status by the due rule (``assessment.domain.due``, ``LIFTWATCH_ASSESSMENT_*``): the
last assessment's day and result, the next due day, due or overdue; filtered by that status ("due or
overdue" for the ones to chase). Both filtered by district and place type and exported whole (xlsx or
CSV). Reads: ``registry.queries.three_no_elevators`` and ``old_elevators``, the assessment service's latest
measures and assessments; the risk grade is the stored one (``risk.service.stored_grades``). The registers
are the admin's and the regulator's, like the other oversight pages (others 403). The elevator's page is
also the inspector's (every elevator) and the units' staff's (their own, read only; 404 outside scope):
measures are recorded by the regulator and admins, assessments, their decision and the hazard an
assessment opens by the regulator, admins and inspectors.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.responses import Response as BaseResponse
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.assessment import domain as assessment_domain
from liftwatch.assessment import service as assessment
from liftwatch.assessment.domain import AssessmentResult, Decision, Due, DueStatus, MeasureKind, ThreeNoStatus
from liftwatch.assessment.settings import current_rule
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Forbidden, InvalidInput
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import PlaceType
from liftwatch.rescue import exports
from liftwatch.risk import service as risk
from liftwatch.web.listing import param
from liftwatch.web.oversight import ROWS_SHOWN, OversightPage, OversightPageDep
from liftwatch.web.templating import (
    N_,
    PageActorDep,
    PageRoute,
    label,
    render,
    request_language,
    screen_tz,
    translate,
)

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MIN_YEARS = 15
TEXT_MAX = 200
NOTE_MAX = 2000
TABS = {"three_no": N_("regs.tab_three_no"), "old": N_("regs.tab_old")}
TAB_HINTS = {"three_no": N_("regs.hint_three_no"), "old": N_("regs.hint_old")}
#: The three conditions, in the order shown, with their chips' words.
CONDITIONS = {
    "no_property_management": N_("regs.no_property_management"),
    "no_maintenance_contract": N_("regs.no_maintenance_contract"),
    "no_repair_fund": N_("regs.no_repair_fund"),
}
#: The age bands of the 15-year list: (key, words, lowest age, highest age or None).
BANDS = (
    ("15_19", N_("regs.band_15_19"), 15, 19),
    ("20_24", N_("regs.band_20_24"), 20, 24),
    ("25_up", N_("regs.band_25_up"), 25, None),
)
#: The 15-year list's status filter: every assessment status, and the two to chase together.
DUE_OR_OVERDUE = "due_overdue"
EXPORT_COLUMNS = {
    "three_no": (N_("regs.col_elevator"), N_("regs.col_address"), N_("ovs.district"), N_("regs.col_place"),
                 N_("regs.col_use_unit"), N_("regs.col_age"), N_("regs.col_conditions"),
                 N_("regs.col_grade"), N_("regs.col_status"), N_("regs.col_measure"),
                 N_("regs.col_measure_on")),
    "old": (N_("regs.col_elevator"), N_("regs.col_address"), N_("ovs.district"), N_("regs.col_place"),
            N_("regs.col_use_unit"), N_("regs.col_maintenance_unit"), N_("regs.col_started"),
            N_("regs.col_age"), N_("regs.col_grade"), N_("regs.col_assessment"),
            N_("regs.col_assessed_on"), N_("regs.col_result"), N_("regs.col_due_on")),
}  # fmt: skip
KEYS = (
    N_("regs.due_or_overdue"),
    N_("regs.err_required"),
    N_("regs.err_date"),
    N_("regs.err_choice"),
    N_("regs.err_too_long"),
    N_("regs.err_hazard_safe"),
    N_("regs.err_unit"),
)
#: The service's refused fields -> the form's message.
FIELD_ERRORS = {
    "assessor": N_("regs.err_required"),
    "assessor_unit": N_("regs.err_unit"),
    "assessed_on": N_("regs.err_date"),
    "decision_on": N_("regs.err_date"),
    "taken_on": N_("regs.err_date"),
    "taken_by": N_("regs.err_required"),
    "note": N_("regs.err_required"),
    "findings": N_("regs.err_required"),
    "open_hazard": N_("regs.err_hazard_safe"),
    "result": N_("regs.err_hazard_safe"),
}


@dataclass(frozen=True)
class RegisterRow:
    """A line of a register: the registry's entry, its age in whole years, its stored risk grade, and its
    follow-up: the latest three-no measure and status, or the assessment status and latest assessment."""

    entry: registry.RegisterEntry
    age: int | None
    grade: str  # "" before its first computation
    measure: assessment.StoredMeasure | None = None
    status: str = ""  # three-no: assessment_domain.ThreeNoStatus
    due: Due | None = None  # 15-year list
    latest: assessment.StoredAssessment | None = None

    @property
    def conditions(self) -> list[str]:
        return [name for name in CONDITIONS if getattr(self.entry, name)]

    @property
    def address(self) -> str:
        e = self.entry
        return " · ".join(x for x in (e.street, e.address) if x)


def _today(page: OversightPage) -> date:
    return page.clock.now().astimezone(screen_tz()).date()


def register(
    page: OversightPage, tab: str, district: str, place_type: str, status: str = ""
) -> list[RegisterRow]:
    """The tab's whole list, filtered (the city's today decides contracts, ages and due assessments)."""
    session, actor = page.session, page.actor
    today = _today(page)
    if tab == "three_no":
        valid = maintenance_queries.codes_with_valid_contract(session, today)
        entries = registry.three_no_elevators(session, actor, valid, district or None, place_type or None)
    else:
        entries = registry.old_elevators(
            session, actor, today, MIN_YEARS, district or None, place_type or None
        )
    codes = [e.registration_code for e in entries]
    grades = risk.stored_grades(session, codes)
    rows = []
    if tab == "three_no":
        measures = assessment.latest_measures(session, codes)
        for e in entries:
            m = measures.get(e.registration_code)
            row = RegisterRow(
                e, e.full_years(today), grades.get(e.registration_code, ""), m, assessment.three_no_status(m)
            )
            if not status or row.status == status:
                rows.append(row)
        return rows
    latest = assessment.latest_assessments(session, codes)
    rule = current_rule()
    wanted = {DueStatus.DUE.value, DueStatus.OVERDUE.value} if status == DUE_OR_OVERDUE else {status}
    for e in entries:
        last = latest.get(e.registration_code)
        due = assessment_domain.due(e.started, last.assessed_on if last else None, today, rule)
        if status and due.status.value not in wanted:
            continue
        rows.append(
            RegisterRow(e, e.full_years(today), grades.get(e.registration_code, ""), due=due, latest=last)
        )
    return rows


def counts(tab: str, rows: Sequence[RegisterRow]) -> list[tuple[str, str, int]]:
    """The figures at the top: (key, words, count) per condition or per age band."""
    if tab == "three_no":
        return [(k, words, sum(1 for r in rows if getattr(r.entry, k))) for k, words in CONDITIONS.items()]
    return [
        (k, words, sum(1 for r in rows if r.age is not None and lo <= r.age and (hi is None or r.age <= hi)))
        for k, words, lo, hi in BANDS
    ]


def status_counts(tab: str, rows: Sequence[RegisterRow]) -> list[tuple[str, int]]:
    """(status, count) of the follow-up: three-no statuses, or assessment statuses."""
    if tab == "three_no":
        return [(s.value, sum(1 for r in rows if r.status == s.value)) for s in ThreeNoStatus]
    return [(s.value, sum(1 for r in rows if r.due and r.due.status is s)) for s in DueStatus]


def _statuses(tab: str) -> list[str]:
    if tab == "three_no":
        return [s.value for s in ThreeNoStatus]
    return [DUE_OR_OVERDUE, *(s.value for s in DueStatus)]


def _filters(page: OversightPage) -> tuple[str, str, str, str]:
    request = page.request
    tab = param(request, "tab")
    tab = tab if tab in TABS else "three_no"
    place_type = param(request, "place_type")
    if place_type not in {p.value for p in PlaceType}:
        place_type = ""
    status = param(request, "status")
    if status not in _statuses(tab):
        status = ""
    return tab, param(request, "district"), place_type, status


def _export_row(tab: str, r: RegisterRow, lang: str) -> list[Any]:
    e = r.entry
    place = label("place_type", e.place_type, lang)
    grade = label("risk_grade", r.grade, lang) if r.grade else ""
    if tab == "three_no":
        conditions = "、".join(translate(CONDITIONS[c], lang) for c in r.conditions)
        m = r.measure
        return [e.registration_code, r.address, e.district, place, e.use_unit, r.age, conditions, grade,
                label("three_no_status", r.status, lang), label("measure_kind", m.kind, lang) if m else "",
                m.taken_on.isoformat() if m else ""]  # fmt: skip
    started = e.started.isoformat() if e.started else ""
    due, last = r.due, r.latest
    return [e.registration_code, r.address, e.district, place, e.use_unit, e.maintenance_unit, started,
            r.age, grade, label("assessment_status", due.status.value, lang) if due else "",
            last.assessed_on.isoformat() if last else "",
            label("assessment_result", last.result, lang) if last else "",
            due.due_on.isoformat() if due and due.due_on else ""]  # fmt: skip


@router.get("/oversight/registers/export")
def registers_export(page: OversightPageDep) -> BaseResponse:
    """The tab's whole filtered list to Excel (``format=xlsx``) or CSV, in the page's language."""
    lang = request_language(page.request)
    tab, district, place_type, status = _filters(page)
    fmt: exports.FileFormat = "csv" if param(page.request, "format") == "csv" else "xlsx"
    rows = register(page, tab, district, place_type, status)
    table = exports.Table(
        translate(TABS[tab], lang),
        [translate(key, lang) for key in EXPORT_COLUMNS[tab]],
        [_export_row(tab, r, lang) for r in rows],
    )
    day = _today(page).isoformat()
    name = f"registers-{tab}-{day}.{fmt}"
    return BaseResponse(
        exports.render([table], fmt),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/oversight/registers", response_class=HTMLResponse)
def registers_page(page: OversightPageDep) -> HTMLResponse:
    """监管台账: the tab's list (the first ``ROWS_SHOWN`` rows) with its counts, filters and export."""
    tab, district, place_type, status = _filters(page)
    rows = register(page, tab, district, place_type, status)
    filters = [
        (k, v) for k, v in (("district", district), ("place_type", place_type), ("status", status)) if v
    ]
    context = {
        "tabs": TABS,
        "tab": tab,
        "hint": TAB_HINTS[tab],
        "counts": counts(tab, rows),
        "status_counts": status_counts(tab, rows),
        "conditions": CONDITIONS,
        "rows": rows[:ROWS_SHOWN],
        "total": len(rows),
        "district": district,
        "place_type": place_type,
        "status": status,
        "statuses": _statuses(tab),
        "filters": filters,
        "export_query": [("tab", tab), *filters],
        "districts": sorted(registry.places(page.session, page.actor)),
        "place_types": [p.value for p in PlaceType],
    }
    return render(page.request, "registers/index.html", context, actor=page.actor)


# ---------------------------------------------------------------- one elevator's focused supervision


@dataclass(frozen=True)
class SupervisionPage:
    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: Settings


def supervision_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> SupervisionPage:
    if actor.role not in assessment.READERS:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    return SupervisionPage(request, actor, session, clock, settings)


SupervisionPageDep = Annotated[SupervisionPage, Depends(supervision_page)]


@dataclass
class Sent:
    """The form sent last, as typed, and what was wrong with it (field -> page-text key)."""

    which: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _elevator_page(
    page: SupervisionPage, code: str, sent: Sent | None = None, status_code: int = 200
) -> HTMLResponse:
    view = assessment.supervision_of(
        page.session, page.actor, code, page.clock, page.settings, current_rule()
    )
    today = page.clock.now().astimezone(screen_tz()).date()
    context = {
        "v": view,
        "code": view.registration_code,
        "sent": sent or Sent(),
        "today": today.isoformat(),
        "may_measure": page.actor.role in assessment.MEASURE_TAKERS,
        "may_assess": page.actor.role in assessment.ASSESSORS,
        "may_registers": page.actor.role in assessment.MEASURE_TAKERS,
        "kinds": [k.value for k in MeasureKind],
        "three_no_statuses": [s.value for s in ThreeNoStatus],
        "results": [r.value for r in AssessmentResult],
        "decisions": [d.value for d in Decision],
        "needs_work": {r.value for r in assessment_domain.NEEDS_WORK},
        "nonce": (sent.values.get("nonce") if sent else None) or uuid.uuid4().hex,
    }
    return render(page.request, "registers/elevator.html", context, actor=page.actor, status_code=status_code)


@router.get("/oversight/registers/elevators/{code}", response_class=HTMLResponse)
def elevator_page(page: SupervisionPageDep, code: str) -> HTMLResponse:
    """An elevator's three-no measures and safety assessments with the forms its reader may use."""
    return _elevator_page(page, code)


def _apply(page: SupervisionPage, code: str, sent: Sent, move: Callable[[], object]) -> BaseResponse:
    """Run ``move`` and commit; a refused field goes back to the form (422); 403 and 404 are the error
    page."""
    if sent.errors:
        return _elevator_page(page, code, sent, 422)
    try:
        move()
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            sent.errors.setdefault(err.field, FIELD_ERRORS.get(err.field, N_("regs.err_required")))
        return _elevator_page(page, code, sent, 422)
    page.session.commit()
    log.info("%s on %s by %s", sent.which, code, page.actor.username)
    code = registry.get_public_elevator(page.session, code).registration_code
    return RedirectResponse(f"/oversight/registers/elevators/{code}", status_code=303)


def _day(sent: Sent, name: str, text: str, required: bool = True) -> date | None:
    if not text.strip() and not required:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        sent.errors[name] = N_("regs.err_date")
        return None


def _line(sent: Sent, name: str, text: str, limit: int = TEXT_MAX) -> None:
    if not text.strip():
        sent.errors[name] = N_("regs.err_required")
    elif len(text) > limit:
        sent.errors[name] = N_("regs.err_too_long")


def _choice(sent: Sent, name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        sent.errors[name] = N_("regs.err_choice")


@router.post("/oversight/registers/elevators/{code}/measures", response_class=HTMLResponse)
def add_measure(
    page: SupervisionPageDep,
    code: str,
    kind: Annotated[str, Form()] = "",
    taken_on: Annotated[str, Form()] = "",
    taken_by: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
) -> BaseResponse:
    """记录三无电梯措施: kind, day, who took it, a note, the status it leaves. The form's one-time
    ``nonce`` is the record's key, so a form sent twice is one measure."""
    nonce = nonce.strip()[:64] or uuid.uuid4().hex
    values = {"kind": kind, "taken_on": taken_on, "taken_by": taken_by, "note": note, "status": status}
    sent = Sent("measure", {**values, "nonce": nonce})
    _choice(sent, "kind", kind, [k.value for k in MeasureKind])
    _choice(sent, "status", status, ["", *(s.value for s in ThreeNoStatus)])
    day = _day(sent, "taken_on", taken_on)
    _line(sent, "taken_by", taken_by)
    if len(note) > NOTE_MAX:
        sent.errors["note"] = N_("regs.err_too_long")
    return _apply(
        page,
        code,
        sent,
        lambda: assessment.add_measure(
            page.session, page.actor, code, f"web:{nonce}", MeasureKind(kind), day or date.min,
            taken_by.strip(), page.clock, page.settings, note=note.strip(),
            status=ThreeNoStatus(status) if status else None,
        ),
    )  # fmt: skip


@router.post("/oversight/registers/elevators/{code}/assessments", response_class=HTMLResponse)
def record_assessment(
    page: SupervisionPageDep,
    code: str,
    assessor: Annotated[str, Form()] = "",
    assessed_on: Annotated[str, Form()] = "",
    result: Annotated[str, Form()] = "",
    findings: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "none",
    decision_on: Annotated[str, Form()] = "",
    open_hazard: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
) -> BaseResponse:
    """记录安全评估: who assessed, the day, the result and findings, the decision if known; a result that
    calls for work may open a hazard at once (once)."""
    nonce = nonce.strip()[:64] or uuid.uuid4().hex
    values = {
        "assessor": assessor, "assessed_on": assessed_on, "result": result, "findings": findings,
        "decision": decision, "decision_on": decision_on, "open_hazard": open_hazard, "nonce": nonce,
    }  # fmt: skip
    sent = Sent("assessment", values)
    _line(sent, "assessor", assessor)
    day = _day(sent, "assessed_on", assessed_on)
    _choice(sent, "result", result, [r.value for r in AssessmentResult])
    _choice(sent, "decision", decision, [d.value for d in Decision])
    decided = _day(sent, "decision_on", decision_on, required=False)
    if len(findings) > NOTE_MAX:
        sent.errors["findings"] = N_("regs.err_too_long")
    return _apply(
        page,
        code,
        sent,
        lambda: assessment.record_assessment(
            page.session, page.actor, code, f"web:{nonce}", assessor.strip(), day or date.min,
            AssessmentResult(result), page.clock, page.settings, findings=findings.strip(),
            decision=Decision(decision), decision_on=decided, open_hazard=open_hazard == "1",
        ),
    )  # fmt: skip


@router.post("/oversight/registers/assessments/{assessment_id}/decision", response_class=HTMLResponse)
def set_decision(
    page: SupervisionPageDep,
    assessment_id: int,
    decision: Annotated[str, Form()] = "",
    decision_on: Annotated[str, Form()] = "",
) -> BaseResponse:
    """更新改造大修决定: the decision taken after the assessment and its day."""
    row = assessment.get_assessment(page.session, page.actor, assessment_id)  # 404 outside scope
    sent = Sent(f"decision-{assessment_id}", {"decision": decision, "decision_on": decision_on})
    _choice(sent, "decision", decision, [d.value for d in Decision])
    decided = _day(sent, "decision_on", decision_on, required=False)
    return _apply(
        page,
        row.registration_code,
        sent,
        lambda: assessment.set_decision(
            page.session, page.actor, assessment_id, Decision(decision), decided, page.clock, page.settings
        ),
    )


@router.post("/oversight/registers/assessments/{assessment_id}/hazard", response_class=HTMLResponse)
def open_hazard(page: SupervisionPageDep, assessment_id: int) -> BaseResponse:
    """生成隐患: the hidden danger of an assessment that calls for work, once; then the hazard's page."""
    row = assessment.get_assessment(page.session, page.actor, assessment_id)
    sent = Sent(f"hazard-{assessment_id}")
    try:
        _, hazard_id, _ = assessment.open_hazard_for(
            page.session, page.actor, assessment_id, page.clock, page.settings
        )
    except InvalidInput as exc:
        page.session.rollback()
        for err in exc.errors:
            sent.errors.setdefault(err.field, FIELD_ERRORS.get(err.field, N_("regs.err_required")))
        return _elevator_page(page, row.registration_code, sent, 422)
    page.session.commit()
    return RedirectResponse(f"/hazards/{hazard_id}", status_code=303)
