"""Routes of the maintenance-unit ratings (星级评定, 红黑榜): the rated periods, a period's ratings, a unit's
history, computing a period (admin, regulator) and the public read. Thin: the service decides scope (the
centre every unit, maintenance staff their own, others 403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftwatch.core.types import PathCode, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.ratings import service
from liftwatch.ratings.schemas import (
    ComputeIn,
    HistoryItem,
    HistoryOut,
    PeriodOut,
    PeriodRatingsOut,
    PublicPeriodOut,
    PublicRatingsOut,
    UnitRatingOut,
)

router = APIRouter(prefix="/api/v1/ratings", tags=["ratings"])


@router.get("/public", response_model=PublicRatingsOut, tags=["public"])
def public(
    session: SessionDep, period: Annotated[QueryStr | None, Query(description="2026-H2 ...")] = None
) -> PublicRatingsOut:
    """The published ratings and red and black lists (the latest period unless named): no login, unit
    names and figures only."""
    done = service.public_period(session, period)
    if done is None:
        return PublicRatingsOut(period=None, ratings=[], red=[], black=[])
    return PublicRatingsOut(
        period=PublicPeriodOut.of(done.period),
        ratings=[UnitRatingOut.of(r) for r in done.rows],
        red=[r.unit_code for r in done.red],
        black=[r.unit_code for r in done.black],
    )


@router.get("/periods", response_model=list[PeriodOut])
def periods(actor: ActorDep, session: SessionDep) -> list[PeriodOut]:
    """The rated periods, newest first."""
    return [PeriodOut.of(p) for p in service.periods(session, actor)]


@router.get("/periods/{label}", response_model=PeriodRatingsOut)
def period_ratings(label: PathCode, actor: ActorDep, session: SessionDep) -> PeriodRatingsOut:
    """A period's ratings, best first: every unit's for the centre, the own unit's for its staff."""
    period, rows = service.ratings_of(session, actor, label)
    return PeriodRatingsOut(
        period=PeriodOut.of(period),
        ratings=[UnitRatingOut.of(r) for r in rows],
        settings=period.settings if actor.role in service.CENTRE else None,
    )


@router.get("/units/{unit_code}", response_model=HistoryOut)
def unit_history(unit_code: PathCode, actor: ActorDep, session: SessionDep) -> HistoryOut:
    """A unit's ratings across periods, newest first."""
    items = service.unit_history(session, actor, unit_code)
    return HistoryOut(
        unit_code=unit_code,
        items=[HistoryItem(period=PeriodOut.of(p), rating=UnitRatingOut.of(r)) for p, r in items],
    )


@router.post("/compute", response_model=PeriodRatingsOut)
def compute(
    data: ComputeIn, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> PeriodRatingsOut:
    """Rate every maintenance unit for the period and store it, replacing the period's earlier ratings."""
    row = service.compute(session, actor, clock, settings, data.period)
    session.commit()
    period, rows = service.ratings_of(session, actor, row.label)
    return PeriodRatingsOut(
        period=PeriodOut.of(period), ratings=[UnitRatingOut.of(r) for r in rows], settings=period.settings
    )
