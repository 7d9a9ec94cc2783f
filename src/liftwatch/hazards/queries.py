"""hazards: reads of its own table for the hazard worker's sources (no scope: the worker acts for the
platform)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.hazards import workflow
from liftwatch.hazards.models import Hazard
from liftwatch.hazards.workflow import HazardSource

__all__ = ["open_monitoring_repeats"]


def open_monitoring_repeats(session: Session) -> set[tuple[str, str]]:
    """The (registration code, fault type) pairs with an open hidden danger from a recurring fault
    (``hazards/sources.py``: source monitoring, reference ``repeat:<fault type>:<fault id>``)."""
    rows = session.execute(
        select(Hazard.registration_code, Hazard.source_ref).where(
            Hazard.source == HazardSource.MONITORING.value,
            Hazard.source_ref.like("repeat:%"),
            Hazard.state.not_in([s.value for s in workflow.FINISHED]),
        )
    )
    return {(code, ref.split(":")[1]) for code, ref in rows if ref and ref.count(":") >= 2}
