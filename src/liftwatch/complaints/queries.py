"""complaints: the reads other domains use (risk, ratings, the KPIs). City-wide counts, one GROUP BY each;
the caller decides who may read them. A complaint verified unfounded is not counted (workflow.counted)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, func, select
from sqlalchemy.orm import Session

from liftwatch.complaints import workflow
from liftwatch.complaints.models import Complaint
from liftwatch.complaints.workflow import Verdict

__all__ = [
    "ComplaintRate",
    "codes_changed_since",
    "complaint_rate",
    "counts_by_elevator",
    "counts_by_group",
    "counts_by_unit",
    "received_between",
]


def _counted(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [
        Complaint.received_at >= start,
        Complaint.received_at < end,
        Complaint.verdict != Verdict.UNFOUNDED.value,
    ]


def counts_by_elevator(
    session: Session, start: datetime, end: datetime, codes: Collection[str] | None = None
) -> dict[str, int]:
    """Complaints received in [start, end) about each elevator (registration code -> count; founded or
    pending, the unfounded left out), all elevators or the named ones."""
    stmt = select(Complaint.registration_code, func.count(Complaint.id)).where(
        *_counted(start, end), Complaint.registration_code.is_not(None)
    )
    if codes is not None:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        stmt = stmt.where(Complaint.registration_code.in_(wanted))
    rows = session.execute(stmt.group_by(Complaint.registration_code))
    return {str(code): int(n) for code, n in rows}


def counts_by_unit(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Complaints received in [start, end) charged to each maintenance unit (unit code -> count): those
    about an elevator it maintained when the complaint came, and those naming the unit itself (once each,
    when both)."""
    out: dict[str, int] = {}
    about = session.execute(
        select(Complaint.maintenance_unit, func.count(Complaint.id))
        .where(*_counted(start, end), Complaint.maintenance_unit != "")
        .group_by(Complaint.maintenance_unit)
    )
    for unit, n in about:
        out[str(unit)] = out.get(str(unit), 0) + int(n)
    named = session.execute(
        select(Complaint.named_unit, func.count(Complaint.id))
        .where(
            *_counted(start, end),
            Complaint.named_unit != "",
            Complaint.named_unit != Complaint.maintenance_unit,
        )
        .group_by(Complaint.named_unit)
    )
    for unit, n in named:
        out[str(unit)] = out.get(str(unit), 0) + int(n)
    return out


def received_between(session: Session, start: datetime, end: datetime) -> int:
    """Complaints received in [start, end), city-wide (the complaint-rate KPI's numerator; the unfounded
    left out)."""
    return int(session.scalar(select(func.count(Complaint.id)).where(*_counted(start, end))) or 0)


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """Registration codes of the elevators whose complaints changed since ``since`` (the risk worker)."""
    stmt = (
        select(Complaint.registration_code)
        .where(Complaint.updated_at > since, Complaint.registration_code.is_not(None))
        .distinct()
    )
    return {str(c) for c in session.scalars(stmt)}


@dataclass(frozen=True)
class ComplaintRate:
    """The complaint rate (投诉率) of a period: complaints per 10,000 elevators in service, per month
    (DOMAIN.md section 6)."""

    complaints: int
    elevators: int
    months: float
    per_10k_month: float | None


def complaint_rate(session: Session, start: datetime, end: datetime, elevators: int) -> ComplaintRate:
    """Complaints received in [start, end) (unfounded left out) per 10,000 ``elevators`` in service, per
    month (a period of 30.44 days is one month)."""
    n = received_between(session, start, end)
    months = max((end - start).total_seconds() / (30.44 * 86400), 1e-9)
    rate = workflow.rate_per_10k(n, elevators)
    return ComplaintRate(n, elevators, round(months, 2), None if rate is None else rate / months)


def counts_by_group(
    session: Session, groups: Subquery | None, start: datetime, end: datetime
) -> dict[str, int]:
    """Complaints about an elevator received in [start, end) per group of elevators, in one COUNT ...
    GROUP BY (the city's figures): ``groups`` is a subquery of columns ``key`` and ``code``
    (``registry.queries.group_key_subquery``); None counts the whole city as group "". The same
    complaints as :func:`counts_by_elevator`."""
    where = (*_counted(start, end), Complaint.registration_code.is_not(None))
    if groups is None:
        n = int(session.scalar(select(func.count(Complaint.id)).where(*where)) or 0)
        return {"": n} if n else {}
    stmt = (
        select(groups.c.key, func.count(Complaint.id))
        .join(groups, groups.c.code == Complaint.registration_code)
        .where(*where)
        .group_by(groups.c.key)
    )
    return {str(k): int(n) for k, n in session.execute(stmt)}
