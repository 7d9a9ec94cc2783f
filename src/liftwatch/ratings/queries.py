"""The figures of the maintenance units' ratings, gathered from the other domains (星级评定): for one period
``[start, end)`` every unit with elevators under contract gets its ``UnitFigures`` and the counts behind them.

Each domain is read once for the whole city through its own read (never its tables), one GROUP BY each:

- elevators: ``maintenance.queries.elevators_by_unit`` (contracts overlapping the period's days);
- entrapments, response and arrival on time: ``rescue.queries.incident_records`` for the period, then the
  KPI formulas (``rescue.kpis.compute_kpis`` with ``unit``: DOMAIN.md section 6 by unit, its own dispatches
  only) on each unit's own incidents and dispatches; entrapments are its elevators' incidents that were not
  false alarms or cancelled calls, as the entrapment-rate KPI counts them;
- overdue work: ``maintenance.queries.due_work_by_unit`` (due in the period up to now, signed late or not);
- first-attempt inspection pass rate: ``inspection.service.pass_counts_by_unit``;
- confirmed fake maintenance: ``maintenance.queries.confirmed_flags_by_unit``;
- complaints: ``complaints.queries.counts_by_unit``.

No writes; the caller decides who may read. docs/RATINGS.md says how each figure is formed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.complaints import queries as complaints_queries
from liftwatch.inspection import service as inspection
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.ratings.domain import UnitFigures
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue.domain import IncidentRecord
from liftwatch.rescue.kpis import KpiSettings, compute_kpis

__all__ = ["Counted", "gather"]


@dataclass(frozen=True)
class Counted:
    """A unit's figures for the period and the counts they were formed from (shown beside the rating)."""

    figures: UnitFigures
    counts: dict[str, int] = field(default_factory=dict)


def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _per_100(count: int, elevators: int, months: int = 1) -> float:
    return count * 100 / elevators / months if elevators else 0.0


def _incidents_by_unit(records: list[IncidentRecord]) -> dict[str, list[IncidentRecord]]:
    """Each unit's incidents: those on its elevators (the contracted unit) and those it was sent to."""
    out: dict[str, list[IncidentRecord]] = defaultdict(list)
    for r in records:
        for unit in {r.maintenance_unit, *(d.unit for d in r.dispatches)} - {""}:
            out[unit].append(r)
    return out


def gather(
    session: Session,
    start: datetime,
    end: datetime,
    first: date,
    last: date,
    months: int,
    now: datetime,
    kpi: KpiSettings,
) -> list[Counted]:
    """Every unit's figures for the period ``[start, end)`` (instants; ``first`` .. ``last`` its local days;
    ``months`` the calendar months it spans). Work and rescues not yet decided at ``now`` (an open period) are
    not counted against the unit: work not yet due, a response or arrival deadline still running."""
    contracted = maintenance_queries.elevators_by_unit(session, first, last)
    elevators = {u: n for u, n in contracted.items() if n > 0}
    records = _incidents_by_unit(rescue_queries.incident_records(session, SYSTEM_ACTOR, start, end))
    work = maintenance_queries.due_work_by_unit(session, start, min(end, now))
    passes = inspection.pass_counts_by_unit(session, start, end)
    flags = maintenance_queries.confirmed_flags_by_unit(session, start, end)
    complaints = complaints_queries.counts_by_unit(session, start, end)
    out = []
    for unit in sorted(elevators):
        n = elevators[unit]
        k = compute_kpis(records.get(unit, []), n, start, end, kpi, as_of=now, unit=unit)
        due, late = work.get(unit, (0, 0))
        passed = passes.get(unit)
        counts = {
            "elevators": n,
            "months": months,
            "entrapments": k.rescues,
            "responses_on_time": k.response_rate.numerator,
            "responses": k.response_rate.denominator,
            "arrivals_on_time": k.on_time_arrival.numerator,
            "arrivals": k.on_time_arrival.denominator,
            "work_late": late,
            "work_due": due,
            "inspections_passed": passed.passed if passed else 0,
            "inspections": passed.concluded if passed else 0,
            "fake_flags": flags.get(unit, 0),
            "complaints": complaints.get(unit, 0),
        }
        figures = UnitFigures(
            unit=unit,
            elevators=n,
            entrapments_per_100=_per_100(k.rescues, n, months),
            response_on_time_share=_share(counts["responses_on_time"], counts["responses"]),
            arrival_on_time_share=_share(counts["arrivals_on_time"], counts["arrivals"]),
            overdue_work_share=_share(late, due) or 0.0,
            inspection_pass_rate=_share(counts["inspections_passed"], counts["inspections"]),
            fake_flags_per_100=_per_100(counts["fake_flags"], n),
            complaints_per_100=_per_100(counts["complaints"], n, months),
        )
        out.append(Counted(figures, counts))
    return out
