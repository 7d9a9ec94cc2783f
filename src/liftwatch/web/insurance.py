"""The insurance screens (电梯安全责任保险): the insurer's desk, one policy with its premium factors
explained, and the regulator's coverage of elevators in public places.

``/insurance`` (insurers: their own unit's policies; admins: every insurer's) lists the policies with their
status on the city's day, the elevator's stored risk grade and the latest premium factor, the policies
expiring soon, and a form to reprice a period (``service.reprice``). ``/insurance/policies/{id}`` shows the
policy's terms, its factor in each period with the grade, score and the largest risk factors behind it,
and the elevator's full risk explanation (another insurer's policy: the 404 page).
``/insurance/coverage`` (regulators and admins) shows the coverage KPI of DOMAIN.md section 6 by district
with the uninsured list. Other roles get the 403 page. docs/INSURANCE.md states the rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.responses import Response as BaseResponse

from liftwatch.core.errors import Forbidden, InvalidInput
from liftwatch.deps import ClockDep, SessionDep, SettingsDep
from liftwatch.insurance import service
from liftwatch.insurance.domain import PUBLIC_PLACE_TYPES, PolicyStatus, expiring_within
from liftwatch.insurance.settings import premium_settings_from_env
from liftwatch.registry import queries as registry
from liftwatch.risk import service as risk
from liftwatch.risk.domain import GRADE_COLOUR, Factor, Grade
from liftwatch.web.risk import FactorRow, factor_value
from liftwatch.web.templating import N_, PageActorDep, PageRoute, render, request_language

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXT_MAX = 64
ROWS_SHOWN = 500
#: Page-text keys this module hands to templates (errors).
KEYS = (N_("ins.err_period"),)


@dataclass(frozen=True)
class PolicyRow:
    id: int
    number: str
    code: str
    address: str
    insurer: str
    start: date
    end: date
    status: str
    grade: str | None
    colour: str
    factor: float | None
    period: str
    premium_fen: int
    adjusted_fen: int | None
    expiring: bool


def _colour(grade: str | None) -> str:
    return GRADE_COLOUR[Grade(grade)].value if grade else ""


def _yuan(fen: int | None) -> str:
    """Money in yuan with two decimals and thousands separators (¥1,200.00)."""
    return "" if fen is None else f"¥{fen / 100:,.2f}"


def _current_quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _address(place: registry.Place | None) -> str:
    return " · ".join(x for x in (place.district, place.address) if x) if place else ""


def _desk(
    request: Request,
    actor: Any,
    session: Any,
    clock: Any,
    settings: Any,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    if actor.role not in service.POLICY_READERS:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    day = service.local_today(clock, settings)
    wanted = request.query_params.get("status", "").strip()[:TEXT_MAX]
    status = [PolicyStatus(wanted)] if wanted in {s.value for s in PolicyStatus} else []
    every = service.list_policies(session, actor, day)
    shown = [p for p in every if not status or service.status_of(p, day) in status][:ROWS_SHOWN]
    days = int(premium_settings_from_env().expiring_days)
    codes = service.insurer_codes(session, shown)
    grades = risk.stored_grades(session, [p.registration_code for p in shown])
    factors = service.latest_factors(session, [p.id for p in shown])
    places = registry.places_of(session, sorted({p.registration_code for p in shown}))
    rows = []
    for p in shown:
        st = service.status_of(p, day)
        f = factors.get(p.id)
        rows.append(
            PolicyRow(
                p.id,
                p.policy_number,
                p.registration_code,
                _address(places.get(p.registration_code)),
                codes.get(p.insurer_unit_id, ""),
                p.start_date,
                p.end_date,
                st.value,
                grades.get(p.registration_code),
                _colour(grades.get(p.registration_code)),
                f.factor if f else None,
                f.period if f else "",
                p.premium_fen,
                f.adjusted_premium_fen if f else None,
                st is PolicyStatus.VALID and expiring_within(p.end_date, day, days),
            )
        )
    counts = {s.value: 0 for s in PolicyStatus}
    for p in every:
        counts[service.status_of(p, day).value] += 1
    context: dict[str, Any] = {
        "rows": rows,
        "counts": counts,
        "total": len(every),
        "status": wanted if status else "",
        "statuses": [s.value for s in PolicyStatus],
        "expiring": [r for r in rows if r.expiring],
        "expiring_days": days,
        "period": request.query_params.get("period", "").strip()[:16] or _current_quarter(day),
        "repriced": request.query_params.get("repriced", "").strip()[:16],
        "repriced_n": request.query_params.get("n", "").strip()[:8],
        "error": error,
        "yuan": _yuan,
        "all_insurers": actor.role.value == "admin",
    }
    return render(request, "insurance/desk.html", context, actor=actor, status_code=status_code)


@router.get("/insurance", response_class=HTMLResponse)
def desk(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    return _desk(request, actor, session, clock, settings)


@router.post("/insurance/reprice", response_class=HTMLResponse)
def reprice(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    period: Annotated[str, Form()] = "",
) -> BaseResponse:
    """重新计算保费系数: the insurer (its own policies) or an admin (all) reprices a period."""
    if actor.role not in service.POLICY_READERS:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    try:
        done = service.reprice(session, actor, clock, period.strip()[:16])
    except InvalidInput:
        session.rollback()
        return _desk(request, actor, session, clock, settings, error=KEYS[0], status_code=422)
    session.commit()
    log.info("insurance period %s repriced by %s: %d policies", done.period, actor.username, done.policies)
    return RedirectResponse(f"/insurance?repriced={done.period}&n={done.policies}", status_code=303)


@dataclass(frozen=True)
class FactorPeriod:
    period: str
    factor: float
    grade: str | None
    colour: str
    score: int | None
    adjusted: str
    top: list[FactorRow]
    computed_at: Any


@router.get("/insurance/policies/{policy_id}", response_class=HTMLResponse)
def policy_page(
    request: Request,
    policy_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    p = service.get_policy(session, actor, policy_id)  # 403 for other roles, 404 outside scope
    lang = request_language(request)
    view = service.elevator_view(session, actor, p.registration_code)
    stored = risk.stored_score(session, p.registration_code)
    facts = stored.facts if stored else {}

    def rows_of(lines: list[dict[str, Any]]) -> list[FactorRow]:
        return [
            FactorRow(
                c["factor"], factor_value(Factor(c["factor"]), c.get("value"), facts, lang), int(c["points"])
            )
            for c in lines
        ]

    history = [
        FactorPeriod(
            f.period,
            f.factor,
            f.grade,
            _colour(f.grade),
            f.score,
            _yuan(f.adjusted_premium_fen),
            rows_of(f.top),
            f.computed_at,
        )
        for f in service.factors_of(session, actor, p.id)
    ]
    codes = service.insurer_codes(session, [p])
    place = registry.places_of(session, [p.registration_code]).get(p.registration_code)
    context: dict[str, Any] = {
        "p": p,
        "status": service.status_of(p, service.local_today(clock, settings)).value,
        "insurer": codes.get(p.insurer_unit_id, ""),
        "insured": codes.get(p.insured_unit_id or 0, ""),
        "address": _address(place),
        "place_type": place.place_type if place else "",
        "yuan": _yuan,
        "history": history,
        "grade": view.grade,
        "colour": _colour(view.grade),
        "score": view.score,
        "explanation": rows_of(view.contributions),
        "computed_at": view.computed_at,
        "rule": _rule(),
    }
    return render(request, "insurance/policy.html", context, actor=actor)


def _rule() -> dict[str, str]:
    """The factor of each grade as the settings give them, for the rule's sentence."""
    s = premium_settings_from_env()
    return {
        key: f"{value:.2f}"
        for key, value in (
            ("a", s.factor_a),
            ("b", s.factor_b),
            ("c", s.factor_c),
            ("d", s.factor_d),
            ("u", s.factor_ungraded),
        )
    }


@router.get("/insurance/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    if actor.role not in service.COVERAGE_READERS:
        raise Forbidden(f"role '{actor.role.value}' has no page here")
    district = request.query_params.get("district", "").strip()[:TEXT_MAX]
    day = service.local_today(clock, settings)
    cov = service.coverage(session, actor, day, district or None)
    context: dict[str, Any] = {
        "cov": cov,
        "district": district,
        "districts": sorted(registry.count_in_service_by(session, "district")),
        "place_types": sorted(PUBLIC_PLACE_TYPES),
    }
    return render(request, "insurance/coverage.html", context, actor=actor)
