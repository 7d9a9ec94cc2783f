"""Maintenance-unit rating pages (星级评定, 红黑榜).

``/oversight/ratings`` (admin and regulator): the period picker, the button that rates a period (again), the
ranked table with stars, totals and lists, and each unit's lines with the figure, the counts behind it and
its points, with the unit's history across periods. ``/ratings/mine`` (maintenance-unit staff): their own
unit's rating of a period with every line and figure, and its history. ``/public/ratings`` (no sign-in):
the latest rated period's (or a named one's) stars, ranks and red and black lists with the figures behind
them; unit names and figures only, no person's data. Reads and the computation go through
``ratings.service``; words from ``ratings/labels.py`` and the page text of the catalogues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from liftwatch.accounts.actor import Role
from liftwatch.core.errors import Forbidden, InvalidInput, NotFound
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.ratings import service
from liftwatch.ratings.domain import HIGHER_IS_BETTER, Criterion, Why, WhyCode
from liftwatch.ratings.labels import stars_key, why_text
from liftwatch.web.templating import N_, PageActorDep, PageRoute, label, render, request_language, translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
log = logging.getLogger(__name__)

PERIOD_MAX = 16

#: the counts behind each criterion's figure: (numerator, denominator) or the count of a rate
_RATIO_COUNTS = {
    Criterion.RESPONSE_ON_TIME: ("responses_on_time", "responses"),
    Criterion.ARRIVAL_ON_TIME: ("arrivals_on_time", "arrivals"),
    Criterion.OVERDUE_WORK: ("work_late", "work_due"),
    Criterion.INSPECTION_PASS: ("inspections_passed", "inspections"),
}
_RATE_COUNTS = {
    Criterion.ENTRAPMENTS: ("entrapments", N_("rt.basis_entrapments")),
    Criterion.FAKE_MAINTENANCE: ("fake_flags", N_("rt.basis_fake")),
    Criterion.COMPLAINTS: ("complaints", N_("rt.basis_complaints")),
}


@dataclass(frozen=True)
class LineView:
    criterion: str
    name: str
    value: str  # the figure in the page's words, with its unit
    basis: str  # the counts it was formed from
    points: int
    weight: int


@dataclass(frozen=True)
class RatingView:
    code: str
    name: str
    elevators: int
    rated: bool
    total: int
    stars: int | None
    stars_text: str
    rank: int | None
    listing: str
    listing_text: str
    why: list[str]
    lines: list[LineView]


def _value(criterion: Criterion, value: float | None, lang: str) -> str:
    if value is None:
        return translate("rt.no_case", lang)
    if criterion in HIGHER_IS_BETTER or criterion is Criterion.OVERDUE_WORK:
        return f"{value * 100:.1f}%"
    return f"{value:.2f} {label('rating_criterion_unit', criterion.value, lang)}"


def _basis(criterion: Criterion, counts: dict[str, Any], lang: str) -> str:
    if criterion in _RATIO_COUNTS:
        top, bottom = _RATIO_COUNTS[criterion]
        return f"{counts.get(top, 0)} / {counts[bottom]}" if counts.get(bottom) else "—"
    key, text = _RATE_COUNTS[criterion]
    return translate(
        text, lang, n=counts.get(key, 0), elevators=counts.get("elevators", 0), months=counts.get("months", 1)
    )


def view_of(row: Any, lang: str) -> RatingView:
    """A stored rating in the page's words."""
    counts = (row.figures or {}).get("counts", {})
    lines = []
    for line in row.lines:
        c = Criterion(line["criterion"])
        lines.append(
            LineView(
                c.value,
                label("rating_criterion", c.value, lang),
                _value(c, line["value"], lang),
                _basis(c, counts, lang),
                int(line["points"]),
                int(line["weight"]),
            )
        )
    why = [
        why_text(Why(WhyCode(w["code"]), {k: v for k, v in w.items() if k != "code"}), lang) for w in row.why
    ]
    return RatingView(
        row.unit_code,
        row.unit_name or row.unit_code,
        row.elevators,
        row.rated,
        row.total,
        row.stars,
        label("rating_stars", stars_key(row.stars), lang),
        row.rank,
        row.listing,
        label("rating_listing", row.listing, lang),
        why,
        lines,
    )


def _period_param(request: Request) -> str:
    return request.query_params.get("period", "").strip().upper()[:PERIOD_MAX]


def _centre_page(
    request: Request,
    actor: Any,
    session: Any,
    label_: str,
    error: str = "",
    entered: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    lang = request_language(request)
    periods = service.periods(session, actor)
    chosen = label_ or (periods[0].label if periods else "")
    period: Any = None
    rows: list[Any] = []
    if chosen:
        try:
            period, rows = service.ratings_of(session, actor, chosen)
        except NotFound:
            period, rows = None, []
    histories = service.histories(session, actor)
    context: dict[str, Any] = {
        "periods": periods,
        "chosen": chosen,
        "period": period,
        "ratings": [view_of(r, lang) for r in rows],
        "histories": histories,
        "error": error,
        "entered": entered,
    }
    return render(request, "ratings/oversight.html", context, actor=actor, status_code=status_code)


@router.get("/oversight/ratings", response_class=HTMLResponse)
def oversight_page(request: Request, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    if actor.role not in service.CENTRE:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    return _centre_page(request, actor, session, _period_param(request))


@router.post("/oversight/ratings/compute", response_class=HTMLResponse)
def compute(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    period: Annotated[str, Form()] = "",
) -> Response:
    if actor.role not in service.CENTRE:
        raise Forbidden(f"role '{actor.role.value}' may not compute ratings")
    entered = period.strip().upper()[:PERIOD_MAX]
    try:
        row = service.compute(session, actor, clock, settings, entered)
    except InvalidInput:
        session.rollback()
        return _centre_page(request, actor, session, "", N_("rt.err_period"), entered, status_code=422)
    session.commit()
    log.info("ratings of %s computed by %s", row.label, actor.username)
    return RedirectResponse(f"/oversight/ratings?period={row.label}", status_code=303)


@router.get("/ratings/mine", response_class=HTMLResponse)
def own_page(request: Request, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    """The maintenance unit's own rating with every line and figure, and its history."""
    if actor.role is not Role.MAINTENANCE:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    lang = request_language(request)
    unit = service.own_unit(session, actor)
    history = service.unit_history(session, actor, unit) if unit else []
    chosen = _period_param(request)
    current = next((pr for pr in history if pr[0].label == chosen), history[0] if history else None)
    context: dict[str, Any] = {
        "unit": unit,
        "history": [(p, view_of(r, lang)) for p, r in history],
        "period": current[0] if current else None,
        "rating": view_of(current[1], lang) if current else None,
    }
    return render(request, "ratings/mine.html", context, actor=actor)


@router.get("/public/ratings", response_class=HTMLResponse)
def public_page(request: Request, session: SessionDep) -> HTMLResponse:
    """维保单位星级评定及红黑榜公示: no sign-in; unit names and figures only."""
    lang = request_language(request)
    chosen = _period_param(request)
    try:
        shown = service.public_period(session, chosen or None)
    except NotFound:
        shown = service.public_period(session)
    views = [view_of(r, lang) for r in shown.rows] if shown else []
    context: dict[str, Any] = {
        "period": shown.period if shown else None,
        "labels": service.public_labels(session),
        "ratings": views,
        "red": [v for v in views if v.listing == "red"],
        "black": [v for v in views if v.listing == "black"],
    }
    return render(request, "ratings/public.html", context)
