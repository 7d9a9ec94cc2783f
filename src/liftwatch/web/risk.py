"""Risk grading pages (风险分级): the city's elevators by grade, the top risks by district and each
elevator's explanation.

``/risk`` (admin and regulator) shows the distribution of the stored scores by grade (count and share, in
the four-colour scheme: A blue ... D red), optionally of one district, and the highest scores with the
elevator, its address, its maintenance unit, the score and the grade chip. ``/risk/elevators/{code}`` lists
every factor with the value it was scored on and its points, which sum to the score (docs/RISK.md); the
centre reads every elevator's, maintenance and use-unit staff their own (outside scope: the 404 page).
Scores come from ``liftwatch risk recompute``; reads go through ``risk.service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from liftwatch.core.errors import Forbidden
from liftwatch.deps import SessionDep
from liftwatch.registry import queries as registry
from liftwatch.risk import service
from liftwatch.risk.domain import GRADE_COLOUR, PLACE_TIER, Factor, Grade, PlaceTier
from liftwatch.web.templating import PageActorDep, PageRoute, label, render, request_language, translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXT_MAX = 64
#: Rows of the top-risk table.
TOP_ROWS = 50


@dataclass(frozen=True)
class TopRow:
    code: str
    address: str
    unit: str  # the maintenance unit's name
    score: int
    grade: str
    colour: str


@dataclass(frozen=True)
class FactorRow:
    factor: str
    value: str  # in the page's words, with its unit
    points: int


def _address(place: registry.Place | None) -> str:
    return " · ".join(x for x in (place.district, place.street, place.address) if x) if place else ""


@router.get("/risk", response_class=HTMLResponse)
def risk_page(request: Request, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    if actor.role not in service.CENTRE:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    district = request.query_params.get("district", "").strip()[:TEXT_MAX]
    dist = service.distribution(session, actor, district or None)
    top = service.top_risks(session, actor, district or None, TOP_ROWS)
    places = registry.places_of(session, [r.registration_code for r in top])
    rows = [
        TopRow(
            r.registration_code,
            _address(places.get(r.registration_code)),
            places[r.registration_code].maintenance_unit if r.registration_code in places else "",
            r.score,
            r.grade,
            GRADE_COLOUR[Grade(r.grade)].value,
        )
        for r in top
    ]
    grades = [
        {"grade": g.value, "colour": GRADE_COLOUR[g].value, "count": dist.counts[g], "share": dist.share(g)}
        for g in Grade
    ]
    context: dict[str, Any] = {
        "district": district,
        "districts": service.districts(session, actor),
        "grades": grades,
        "total": dist.total,
        "computed_at": dist.computed_at,
        "rows": rows,
    }
    return render(request, "risk/index.html", context, actor=actor)


def factor_value(factor: Factor, value: Any, facts: dict[str, Any], lang: str) -> str:
    """A factor's value in the page's words: unknown, yes/no, a share in per cent, the place and its tier."""
    if value is None:
        return translate("risk.unknown", lang)
    if factor is Factor.PLACE:
        place = str(facts.get("place_type", value))
        tier = PLACE_TIER.get(place, PlaceTier.OTHER)
        return f"{label('place_type', place, lang)} ({label('risk_place_tier', tier.value, lang)})"
    if factor is Factor.THREE_NO:
        return translate("common.yes", lang) if value else translate("common.no", lang)
    if factor is Factor.DESIGN_LIFE_USED:
        return f"{float(value) * 100:.0f}%"
    unit = label("risk_factor_unit", factor.value, lang)
    number = f"{float(value):g}" if isinstance(value, int | float) else str(value)
    return f"{number} {unit}"


@router.get("/risk/elevators/{registration_code}", response_class=HTMLResponse)
def explanation_page(
    request: Request, registration_code: str, actor: PageActorDep, session: SessionDep
) -> HTMLResponse:
    row = service.score_of(session, actor, registration_code)
    lang = request_language(request)
    factors = [
        FactorRow(
            c["factor"], factor_value(Factor(c["factor"]), c["value"], row.facts, lang), int(c["points"])
        )
        for c in row.contributions
    ]
    place = registry.places_of(session, [row.registration_code]).get(row.registration_code)
    context: dict[str, Any] = {
        "r": row,
        "colour": GRADE_COLOUR[Grade(row.grade)].value,
        "address": _address(place),
        "factors": factors,
        "total": sum(f.points for f in factors),
        "centre": actor.role in service.CENTRE,
    }
    return render(request, "risk/elevator.html", context, actor=actor)
