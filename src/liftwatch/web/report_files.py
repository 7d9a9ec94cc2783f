"""The supervision report's page (监管报告, docs/REPORTS.md): pick a month or a year, download the report as a
PDF or as an Excel workbook. The centre (admin, regulator, 96333 operator) gets the city's report; a
maintenance unit's staff its own unit's; every other role 403 (``analytics.gather.report_scope``).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from liftwatch.analytics import excel, gather, pdf
from liftwatch.analytics.report import Lang, ReportPeriod, build_report
from liftwatch.core.config import city_tz
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.web.templating import N_, PageActorDep, PageRoute, render, request_language

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH = "/reports/supervision"
FORMATS = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
KEYS = (N_("rp.err_period"), N_("rp.err_format"))


def _last_month(today: date) -> str:
    y, m = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{y}-{m:02d}"


def _page(
    request: Request,
    actor: Any,
    scope: gather.ReportScope,
    today: date,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "month": request.query_params.get("month", "")[:7] or _last_month(today),
        "year": request.query_params.get("year", "")[:4] or str(today.year - (today.month == 1)),
        "scope_unit": scope.unit_name if scope.unit else "",
        "error": error,
    }
    return render(request, "report/files.html", context, actor=actor, status_code=status_code)


@router.get(PATH, response_class=HTMLResponse)
def report_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    """The form: a month (YYYY-MM) or a year, and the two downloads."""
    scope = gather.report_scope(session, actor)
    return _page(request, actor, scope, clock.now().astimezone(city_tz(settings)).date())


@router.get(PATH + "/file", response_model=None)
def report_file(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    period: str = "",
    format: str = "pdf",
) -> Response:
    """The report of ``period`` (``2026-11`` or ``2026``) as ``format`` (pdf or xlsx), in the page's
    language. A period not yet begun, or badly written, shows the form again with the error (422)."""
    scope = gather.report_scope(session, actor)
    today = clock.now().astimezone(city_tz(settings)).date()
    try:
        chosen = ReportPeriod.parse(period[:10])
    except ValueError:
        return _page(request, actor, scope, today, N_("rp.err_period"), 422)
    if chosen.start > today:
        return _page(request, actor, scope, today, N_("rp.err_period"), 422)
    if format not in FORMATS:
        return _page(request, actor, scope, today, N_("rp.err_format"), 422)
    lang: Lang = "en" if request_language(request) == "en" else "zh"
    report = build_report(gather.gather(session, scope, chosen, clock, settings), lang)
    media, ext = FORMATS[format]
    body = pdf.pdf(report) if format == "pdf" else excel.xlsx(report)
    log.info("report %s (%s) for %s by %s", chosen.key, format, scope.unit or "city", actor.username)
    name = re.sub(
        r"[^A-Za-z0-9._-]", "_", f"report-{chosen.key}{'-' + scope.unit if scope.unit else ''}.{ext}"
    )
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
