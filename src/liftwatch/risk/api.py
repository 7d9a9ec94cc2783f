"""Routes of risk grading: an elevator's stored score with its explanation, and the highest scores (of a
district). Thin: the service decides scope (the centre every elevator, unit staff their own, others 403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftwatch.core.types import PathCode, QueryStr
from liftwatch.deps import ActorDep, SessionDep
from liftwatch.risk import service
from liftwatch.risk.schemas import RiskListOut, RiskScoreOut

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])


@router.get("/elevators", response_model=RiskListOut)
def list_scores(
    actor: ActorDep,
    session: SessionDep,
    district: Annotated[QueryStr | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RiskListOut:
    """The highest risk scores, highest first (of ``district``); unit staff see their own elevators."""
    rows = service.top_risks(session, actor, district=district, limit=limit)
    return RiskListOut(items=[RiskScoreOut.of(r) for r in rows])


@router.get("/elevators/{code}", response_model=RiskScoreOut)
def get_score(code: PathCode, actor: ActorDep, session: SessionDep) -> RiskScoreOut:
    """An elevator's score with every factor's contribution (they sum to the score)."""
    return RiskScoreOut.of(service.score_of(session, actor, code))
