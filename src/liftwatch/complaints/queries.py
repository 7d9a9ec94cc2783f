"""complaints: the reads other domains use (risk, ratings, the KPIs). Being filled in (issue 14, item 6):
the signatures are agreed, the bodies return no complaint until the complaints table exists."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

__all__ = ["codes_changed_since", "counts_by_elevator", "counts_by_unit", "received_between"]


def counts_by_elevator(
    session: Session, start: datetime, end: datetime, codes: Collection[str] | None = None
) -> dict[str, int]:
    """Complaints received in [start, end) about each elevator (registration code -> count; founded or
    pending, the unfounded left out), all elevators or the named ones."""
    return {}


def counts_by_unit(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Complaints received in [start, end) charged to each maintenance unit (unit code -> count): those
    about an elevator it maintained when the complaint came, and those naming the unit itself."""
    return {}


def received_between(session: Session, start: datetime, end: datetime) -> int:
    """Complaints received in [start, end), city-wide (the complaint-rate KPI's numerator)."""
    return 0


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """Registration codes of the elevators whose complaints changed since ``since`` (the risk worker)."""
    return set()
