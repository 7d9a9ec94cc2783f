"""The city's figures (大数据监管): KPI tables by a dimension, trends and coverage, in the caller's scope.

Reads only: each figure is one GROUP BY (or a few) in the database: elevators per group from the registry;
faults, complaints and inspection results per group by those domains' ``*_by_group`` counts (their events
joined to the registry's subquery of the scope's elevators and their group key, so no per-elevator rows
come back); the period's
incidents from rescue, grouped by their elevator's key, and the rescue rates are rescue's own formulas
(``rescue.kpis.compute_kpis``) on them. Definitions: docs/ANALYTICS.md.

Scope: admin, regulator and the 96333 operator see the city; a maintenance unit's staff the elevators it
maintains; a use unit's staff its own; every other role is refused (403).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.analytics import domain
from liftwatch.analytics.domain import (
    ENTRAPMENT_TARGET,
    FULL_COVERAGE,
    INSPECTION_PASS_TARGET,
    Coverage,
    Dimension,
    Figure,
    Gap,
    Gaps,
    KpiRow,
    KpiTable,
    Trend,
    TrendPoint,
    per_10k_month,
    share,
)
from liftwatch.analytics.models import AnalyticsCell, AnalyticsMonth
from liftwatch.complaints import queries as complaints_queries
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import FieldError, Forbidden, InvalidInput
from liftwatch.inspection import service as inspection_service
from liftwatch.inspection.domain import PassRate
from liftwatch.insurance import service as insurance_service
from liftwatch.insurance.domain import PUBLIC_PLACE_TYPES
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue_service
from liftwatch.rescue.domain import IncidentRecord
from liftwatch.rescue.kpis import Kpis, KpiSettings, MeanDuration, Ratio, compute_kpis, month_key
from liftwatch.telemetry import queries as telemetry_queries

CITY_READERS = frozenset({Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR})
UNIT_READERS = frozenset({Role.MAINTENANCE, Role.USE_UNIT})
MAX_TREND_MONTHS = 60
GAP_PAGE_MAX = 200


@dataclass(frozen=True)
class AnalyticsSettings:
    """The city's calendar and the rescue KPI limits (from LIFTWATCH_TIMEZONE and LIFTWATCH_RESCUE_*)."""

    settings: Settings
    kpis: KpiSettings

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.settings.timezone)

    @classmethod
    def of(cls, settings: Settings) -> AnalyticsSettings:
        return cls(settings, rescue_service.kpi_settings(rescue_service.RescueSettings.for_city(settings)))


@lru_cache(maxsize=1)
def _from_env() -> AnalyticsSettings:
    return AnalyticsSettings.of(Settings())


def _settings(given: AnalyticsSettings | Settings | None) -> AnalyticsSettings:
    if given is None:
        return _from_env()
    return given if isinstance(given, AnalyticsSettings) else AnalyticsSettings.of(given)


def require_reader(actor: Actor) -> None:
    """403 for the roles that see no city figures (inspectors, gateways, insurers, the public)."""
    if actor.role not in CITY_READERS | UNIT_READERS:
        raise Forbidden(f"role '{actor.role.value}' may not read the city's figures")


# ---------------------------------------------------------------- periods


def _month_start(year: int, month: int, tz: ZoneInfo) -> datetime:
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)


def _period(
    month: str | None, year: int | None, now: datetime, tz: ZoneInfo
) -> tuple[str, datetime, datetime]:
    """The local calendar month or year asked for (the current month when neither): (name, start, end)."""
    if month is not None and year is not None:
        raise InvalidInput(FieldError("month", "give a month or a year, not both"))
    if year is not None:
        if not 1900 <= year <= 9998:
            raise InvalidInput(FieldError("year", f"expected a year such as 2026, got {year}"))
        return str(year), _month_start(year, 1, tz), _month_start(year + 1, 1, tz)
    if month is None:
        local = now.astimezone(tz)
        y, m = local.year, local.month
    else:
        try:
            y, m = domain.parse_month(month)
        except ValueError as exc:
            raise InvalidInput(FieldError("month", str(exc))) from None
    ny, nm = domain.shift_month(y, m, 1)
    return f"{y:04d}-{m:02d}", _month_start(y, m, tz), _month_start(ny, nm, tz)


def _last_months(now: datetime, months: int, tz: ZoneInfo) -> tuple[str, datetime, datetime]:
    """The last ``months`` local calendar months, the current one last: (the first's name, start, end)."""
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise InvalidInput(FieldError("months", f"expected 1 to {MAX_TREND_MONTHS}, got {months}"))
    local = now.astimezone(tz)
    first = domain.shift_month(local.year, local.month, -(months - 1))
    nxt = domain.shift_month(local.year, local.month, 1)
    return f"{first[0]:04d}-{first[1]:02d}", _month_start(*first, tz), _month_start(*nxt, tz)


def _months_of(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    local = start.astimezone(tz)
    y, m = local.year, local.month
    out: list[tuple[str, datetime, datetime]] = []
    while True:
        a = _month_start(y, m, tz)
        if a >= end:
            return out
        ny, nm = domain.shift_month(y, m, 1)
        out.append((f"{y:04d}-{m:02d}", a, _month_start(ny, nm, tz)))
        y, m = ny, nm


# ---------------------------------------------------------------- counts per group


#: Where each KPI's figures come from: a trend reads only its KPI's source.
SOURCES: Mapping[str, str] = {
    "entrapment": "rescue",
    "fault": "fault",
    "complaint": "complaint",
    "inspection_pass": "inspection",
    "response": "rescue",
    "on_time_arrival": "rescue",
    "average_arrival": "rescue",
    "rescue_success": "rescue",
    "monitoring": "registry",
}
ALL_SOURCES = frozenset(SOURCES.values())


@dataclass(frozen=True)
class _Events:
    """The period's events of the elevators in scope, per group."""

    faults: dict[str, int]
    complaints: dict[str, int]
    incidents: dict[str, list[IncidentRecord]]
    passes: dict[str, PassRate]


def _pass_total(rates: Mapping[str, PassRate]) -> PassRate:
    return PassRate(sum(r.passed for r in rates.values()), sum(r.concluded for r in rates.values()))


def _by_month(
    records: list[IncidentRecord], inside: Callable[[str], bool], tz: ZoneInfo
) -> dict[str, list[IncidentRecord]]:
    by_month: dict[str, list[IncidentRecord]] = {}
    for inc in records:
        if inside(inc.registration_code):
            by_month.setdefault(month_key(inc.alarm_at, tz), []).append(inc)
    return by_month


def _events(
    session: Session,
    actor: Actor,
    by: str,
    start: datetime,
    end: datetime,
    now: datetime,
    today: date,
    tz: ZoneInfo,
    needs: frozenset[str] = ALL_SOURCES,
    district: str = "",
) -> _Events:
    """The period's events per group (of ``district``'s elevators only, when given), each count one
    GROUP BY in the database; the incidents as rescue's formulas take them, grouped by their elevator's
    key."""
    records = []
    if "rescue" in needs:
        records = rescue_queries.incident_records(session, SYSTEM_ACTOR, start, end)
    if by == "month":
        # the city needs no join at all; a unit's staff count the events of their scope's elevators
        city = registry_queries.sees_every_elevator(actor) and not district
        scope = None if city else registry_queries.group_key_subquery(actor, "district", today, district)
        faults: dict[str, int] = {}
        complaints: dict[str, int] = {}
        inspected: dict[str, PassRate] = {}
        for name, a, b in _months_of(start, end, tz):
            if a >= now:
                break
            if "fault" in needs:
                faults[name] = sum(telemetry_queries.fault_counts_by_group(session, scope, a, b).values())
            if "complaint" in needs:
                complaints[name] = sum(complaints_queries.counts_by_group(session, scope, a, b).values())
            if "inspection" in needs:
                inspected[name] = _pass_total(inspection_service.pass_counts_by_group(session, scope, a, b))
        if city:
            return _Events(faults, complaints, _by_month(records, lambda _: True, tz), inspected)
        codes = {i.registration_code for i in records}
        keys = registry_queries.group_keys_of(session, actor, "district", codes, today, district=district)
        return _Events(faults, complaints, _by_month(records, lambda code: code in keys, tz), inspected)
    groups = registry_queries.group_key_subquery(actor, by, today, district)
    codes = {i.registration_code for i in records}
    keys = registry_queries.group_keys_of(session, actor, by, codes, today, district=district)
    grouped: dict[str, list[IncidentRecord]] = {}
    for inc in records:
        k = keys.get(inc.registration_code)
        if k is not None:
            grouped.setdefault(k, []).append(inc)
    return _Events(
        telemetry_queries.fault_counts_by_group(session, groups, start, end) if "fault" in needs else {},
        complaints_queries.counts_by_group(session, groups, start, end) if "complaint" in needs else {},
        grouped,
        inspection_service.pass_counts_by_group(session, groups, start, end) if "inspection" in needs else {},
    )


# ---------------------------------------------------------------- the counts behind a row


@dataclass(frozen=True)
class _Counts:
    """A group's additive counts over a period: what a KPI row is computed from, and what a roll-up cell
    stores (``models.AnalyticsCell``, the same names). The rescue counts are the numerators and
    denominators of rescue's formulas, which judge each incident on its own, so they add up."""

    elevators: int = 0
    monitored: int = 0
    faults: int = 0
    complaints: int = 0
    inspections_passed: int = 0
    inspections_concluded: int = 0
    rescues: int = 0
    responded: int = 0
    response_judged: int = 0
    on_time: int = 0
    arrival_judged: int = 0
    arrival_us: int = 0
    arrivals: int = 0
    succeeded: int = 0
    success_judged: int = 0

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(*(getattr(self, f) + getattr(other, f) for f in COUNT_FIELDS))

    def with_elevators(self, elevators: int, monitored: int) -> _Counts:
        return replace(self, elevators=elevators, monitored=monitored)


COUNT_FIELDS = tuple(f.name for f in fields(_Counts))
_ZERO = _Counts()


def _rescue_counts(kpis: Kpis) -> dict[str, int]:
    return {
        "rescues": kpis.rescues,
        "responded": kpis.response_rate.numerator,
        "response_judged": kpis.response_rate.denominator,
        "on_time": kpis.on_time_arrival.numerator,
        "arrival_judged": kpis.on_time_arrival.denominator,
        "arrival_us": kpis.average_arrival.total // timedelta(microseconds=1),
        "arrivals": kpis.average_arrival.count,
        "succeeded": kpis.rescue_success.numerator,
        "success_judged": kpis.rescue_success.denominator,
    }


def _live(
    session: Session,
    actor: Actor,
    by: str,
    start: datetime,
    end: datetime,
    now: datetime,
    cfg: AnalyticsSettings,
    needs: frozenset[str] = ALL_SOURCES,
    district: str = "",
) -> tuple[dict[str, _Counts], _Counts]:
    """The counts of ``by`` over [start, end) from the events themselves (and the elevators in use today),
    and the scope's elevators (in a counts of no events): each count one GROUP BY in the database, the
    incidents judged by rescue's formulas."""
    tz = cfg.tz
    today = now.astimezone(tz).date()
    if by == "month":  # every month counts the scope's elevators: no group needed
        denominators = {"": registry_queries.in_service_total(session, actor, district)}
    else:
        denominators = registry_queries.in_service_by(session, actor, by, today, district)
    scope = _Counts(sum(n for n, _ in denominators.values()), sum(t for _, t in denominators.values()))
    events = _events(session, actor, by, start, end, now, today, tz, needs, district)
    bounds: dict[str, tuple[datetime, datetime]] = {}
    if by == "month":
        bounds = {m: (a, b) for m, a, b in _months_of(start, end, tz)}
        keys = list(bounds)
    else:
        keys = sorted(
            set(denominators)
            | set(events.incidents)
            | set(events.faults)
            | set(events.complaints)
            | set(events.passes)
        )
    out: dict[str, _Counts] = {}
    for k in keys:
        a, b = bounds.get(k, (start, end))
        n, t = (scope.elevators, scope.monitored) if by == "month" else denominators.get(k, (0, 0))
        passes = events.passes.get(k, PassRate(0, 0))
        kpis = compute_kpis(events.incidents.get(k, []), n, a, b, cfg.kpis, as_of=now)
        out[k] = _Counts(
            elevators=n,
            monitored=t,
            faults=events.faults.get(k, 0),
            complaints=events.complaints.get(k, 0),
            inspections_passed=passes.passed,
            inspections_concluded=passes.concluded,
            **_rescue_counts(kpis),
        )
    return out, scope


# ---------------------------------------------------------------- the roll-up of settled months

#: A settled month is rolled up again on reading when its roll-up is this old, while late data may still
#: arrive (a terminal's stored faults, a corrected incident): for :data:`LATE_DATA` after it settled.
REBUILD_AFTER = timedelta(days=1)
LATE_DATA = timedelta(days=7)


def _settled_at(month_end: datetime, cfg: AnalyticsSettings) -> datetime:
    """A month's figures no longer change with time once its last rescue's closing limit is past."""
    return month_end + cfg.kpis.close_limit


def _rollup_scope(session: Session, actor: Actor) -> str | None:
    """Whose cells the actor reads: "" the city's, a maintenance unit's code its own; None when the
    roll-up cannot answer for the actor (a use unit's staff: their figures are counted live)."""
    if registry_queries.sees_every_elevator(actor):
        return ""
    if actor.role is Role.MAINTENANCE and actor.unit_id is not None:
        return registry_queries.actor_unit_code(session, actor)
    return None


def _fresh(built_at: datetime, month_end: datetime, now: datetime, cfg: AnalyticsSettings) -> bool:
    return built_at >= _settled_at(month_end, cfg) + LATE_DATA or now - built_at < REBUILD_AFTER


def _rollup_month(session: Session, month: str, now: datetime, cfg: AnalyticsSettings) -> int:
    """Count the settled ``month`` ("YYYY-MM") per cell of elevators and replace its roll-up; commits.
    Returns the cells written. Refuses a month that is malformed or has not settled at ``now``."""
    tz = cfg.tz
    try:
        y, m = domain.parse_month(month)
    except ValueError as exc:
        raise InvalidInput(FieldError("month", str(exc))) from None
    a = _month_start(y, m, tz)
    b = _month_start(*domain.shift_month(y, m, 1), tz)
    if _settled_at(b, cfg) > now:
        raise InvalidInput(FieldError("month", f"{month} settles at {_settled_at(b, cfg).isoformat()}"))
    counts, _ = _live(session, SYSTEM_ACTOR, "cell", a, b, now, cfg)
    rows = [
        {
            "month": month,
            **dict(zip(registry_queries.CELL_KEYS, key.split(registry_queries.CELL_SEP), strict=True)),
            **{f: getattr(c, f) for f in COUNT_FIELDS},
        }
        for key, c in counts.items()
        if c != _ZERO
    ]
    city = sum(counts.values(), _ZERO)
    session.execute(delete(AnalyticsCell).where(AnalyticsCell.month == month))
    session.execute(delete(AnalyticsMonth).where(AnalyticsMonth.month == month))
    for i in range(0, len(rows), 5000):
        session.execute(insert(AnalyticsCell), rows[i : i + 5000])
    session.add(AnalyticsMonth(month=month, built_at=now, cells=len(rows), **asdict(city)))
    session.commit()
    return len(rows)


def _ensure_rolled(
    session: Session, months: Sequence[tuple[str, datetime, datetime]], now: datetime, cfg: AnalyticsSettings
) -> None:
    """Roll up each of the settled ``months`` that has no fresh roll-up yet (the first reader pays)."""
    names = [name for name, _, _ in months]
    found = session.execute(
        select(AnalyticsMonth.month, AnalyticsMonth.built_at).where(AnalyticsMonth.month.in_(names))
    )
    built = {month: at for month, at in found}
    for name, _, b in months:
        at = built.get(name)
        if at is not None and _fresh(at, b, now, cfg):
            continue
        try:
            _rollup_month(session, name, now, cfg)
        except IntegrityError:  # another reader rolled it up at the same time: read theirs
            session.rollback()


@dataclass(frozen=True)
class RolledMonth:
    """A month :func:`rollup` rolled up: its cells and seconds."""

    month: str
    cells: int
    seconds: float


def rollup(
    session: Session,
    clock: Clock,
    *,
    months: int = 12,
    month: str | None = None,
    settings: AnalyticsSettings | Settings | None = None,
) -> list[RolledMonth]:
    """Roll up again ``month``, or every settled month of the last ``months`` (the current one counted),
    whatever their roll-up's age: after a correction to a past month, or ahead of the first readers
    (``liftwatch report rollup``). Reading rolls up a month that has none, so this is never required."""
    cfg = _settings(settings)
    now = clock.now()
    if month is not None:
        names = [month]
    else:
        _, start, end = _last_months(now, months, cfg.tz)
        names = [m for m, _, b in _months_of(start, end, cfg.tz) if _settled_at(b, cfg) <= now]
    done = []
    for name in names:
        t = time.perf_counter()
        cells = _rollup_month(session, name, now, cfg)
        done.append(RolledMonth(name, cells, round(time.perf_counter() - t, 2)))
    return done


def _rolled(
    session: Session, scope: str, by: str, months: Sequence[str], district: str = ""
) -> dict[str, _Counts]:
    """The counts of ``by`` over the rolled-up ``months`` in one SUM ... GROUP BY; the elevators are the
    last month's (those of a month are summed only within that month)."""
    if by == "month" and not scope and not district:  # the city's totals of each month, a row a month
        stmt = select(AnalyticsMonth).where(AnalyticsMonth.month.in_(months))
        return {m.month: _Counts(*(getattr(m, f) for f in COUNT_FIELDS)) for m in session.scalars(stmt)}
    key: Any = AnalyticsCell.month if by == "month" else getattr(AnalyticsCell, by)
    last = months[-1]
    sums = []
    for f in COUNT_FIELDS:
        column = getattr(AnalyticsCell, f)
        if f in ("elevators", "monitored") and by != "month":
            column = case((AnalyticsCell.month == last, column), else_=0)
        sums.append(func.sum(column))
    stmt = _cells_of(select(key, *sums), scope, months, district).group_by(key)
    out: dict[str, _Counts] = {}
    row: Any
    for row in session.execute(stmt):
        out[str(row[0])] = _Counts(*(int(v or 0) for v in row[1:]))
    return out


def _cells_of(stmt: Any, scope: str, months: Sequence[str], district: str) -> Any:
    """``stmt`` over the cells of ``months`` in the roll-up scope (a maintenance unit's code; "" the
    city), of ``district`` when given."""
    stmt = stmt.where(AnalyticsCell.month.in_(months))
    if scope:
        stmt = stmt.where(AnalyticsCell.maintenance_unit == scope)
    if district:
        stmt = stmt.where(AnalyticsCell.district == district)
    return stmt


def _rolled_each(
    session: Session, scope: str, by: str, months: Sequence[str], district: str = ""
) -> dict[str, dict[str, _Counts]]:
    """The counts of ``by`` in each of the rolled-up ``months`` (month -> group -> counts), in one SUM ...
    GROUP BY month and group: what :func:`_rolled` gives for each month alone."""
    key: Any = getattr(AnalyticsCell, by)
    sums = [func.sum(getattr(AnalyticsCell, f)) for f in COUNT_FIELDS]
    stmt = _cells_of(select(AnalyticsCell.month, key, *sums), scope, months, district)
    out: dict[str, dict[str, _Counts]] = {m: {} for m in months}
    row: Any
    for row in session.execute(stmt.group_by(AnalyticsCell.month, key)):
        out[str(row[0])][str(row[1])] = _Counts(*(int(v or 0) for v in row[2:]))
    return out


def _counts(
    session: Session,
    actor: Actor,
    by: Dimension,
    start: datetime,
    end: datetime,
    now: datetime,
    cfg: AnalyticsSettings,
    needs: frozenset[str],
    district: str = "",
) -> tuple[dict[str, _Counts], _Counts]:
    """The counts of ``by`` over [start, end) (of ``district``'s elevators only, when given): the settled
    months' from their roll-up, the rest live. With a live part the elevators are today's (as the live
    figures count them), else the last month's."""
    scope = _rollup_scope(session, actor)
    # the months that have settled: the first ones of the period, as a month settles after the one before
    months = [] if scope is None else _months_of(start, end, cfg.tz)
    settled = [m for m in months if _settled_at(m[2], cfg) <= now]
    counts: dict[str, _Counts] = {}
    if settled:
        _ensure_rolled(session, settled, now, cfg)
        counts = _rolled(session, scope or "", by, [name for name, _, _ in settled], district)
        if by == "month":
            counts = {name: counts.get(name, _ZERO) for name, _, _ in settled}
    live_start = settled[-1][2] if settled else start
    if live_start >= end:
        if by == "month":
            last = counts[settled[-1][0]]
            return counts, _ZERO.with_elevators(last.elevators, last.monitored)
        ordered = {k: counts[k] for k in sorted(counts)}  # as the live counts order the groups
        return ordered, _ZERO.with_elevators(
            sum(c.elevators for c in counts.values()), sum(c.monitored for c in counts.values())
        )
    live, scope_now = _live(session, actor, by, live_start, end, now, cfg, needs, district)
    if by == "month":
        return {**counts, **live}, scope_now
    merged = {
        k: (counts.get(k, _ZERO) + live.get(k, _ZERO)).with_elevators(
            live.get(k, _ZERO).elevators, live.get(k, _ZERO).monitored
        )
        for k in sorted(set(counts) | set(live))
    }
    return merged, scope_now


# ---------------------------------------------------------------- the table


def _ratio(r: Ratio) -> Figure:
    return share(r.numerator, r.denominator, r.target)


def _mean(m: MeanDuration) -> Figure:
    f = m.fraction_min
    met = None if m.target is None else m.target.met(f)
    return Figure(m.count, m.count, m.minutes, "minutes", m.target, met)


def _row(
    key: str, c: _Counts, basis: timedelta, cfg: AnalyticsSettings, needs: frozenset[str] = ALL_SOURCES
) -> KpiRow:
    k = cfg.kpis
    arrival = MeanDuration(timedelta(microseconds=c.arrival_us), c.arrivals, k.average_arrival_target)
    figures: dict[str, Figure] = {
        "entrapment": per_10k_month(c.rescues, c.elevators, basis, ENTRAPMENT_TARGET),
        "fault": per_10k_month(c.faults, c.elevators, basis),
        "complaint": per_10k_month(c.complaints, c.elevators, basis),
        "inspection_pass": share(c.inspections_passed, c.inspections_concluded, INSPECTION_PASS_TARGET),
        "response": _ratio(Ratio(c.responded, c.response_judged, k.response_rate_target)),
        "on_time_arrival": _ratio(Ratio(c.on_time, c.arrival_judged, k.on_time_arrival_target)),
        "average_arrival": _mean(arrival),
        "rescue_success": _ratio(Ratio(c.succeeded, c.success_judged, k.rescue_success_target)),
        "monitoring": share(c.monitored, c.elevators),
    }
    return KpiRow(key, c.elevators, {name: f for name, f in figures.items() if SOURCES[name] in needs})


def _table(
    session: Session,
    actor: Actor,
    now: datetime,
    by: Dimension,
    name: str,
    start: datetime,
    end: datetime,
    cfg: AnalyticsSettings,
    needs: frozenset[str] = ALL_SOURCES,
    district: str = "",
) -> KpiTable:
    """The table of ``by`` over [start, end); only the figures of ``needs`` (a trend needs one)."""
    counts, scope = _counts(session, actor, by, start, end, now, cfg, needs, district)
    return _built(by, name, start, end, now, cfg, needs, counts, scope)


def _built(
    by: Dimension,
    name: str,
    start: datetime,
    end: datetime,
    now: datetime,
    cfg: AnalyticsSettings,
    needs: frozenset[str],
    counts: Mapping[str, _Counts],
    scope: _Counts,
) -> KpiTable:
    """The table from its groups' counts and the scope's elevators."""
    covered = max(start, min(end, now))
    bounds = {m: (a, b) for m, a, b in _months_of(start, end, cfg.tz)} if by == "month" else {}
    rows = []
    for k, c in counts.items():
        a, b = bounds.get(k, (start, end))
        rows.append(_row(k, c, max(a, min(b, now)) - a, cfg, needs))
    total = sum(counts.values(), _ZERO).with_elevators(scope.elevators, scope.monitored)
    return KpiTable(by, name, start, end, covered, tuple(rows), _row("", total, covered - start, cfg, needs))


def kpi_table(
    session: Session,
    actor: Actor,
    clock: Clock,
    *,
    month: str | None = None,
    year: int | None = None,
    by: Dimension,
    district: str = "",
    kpis: Collection[str] | None = None,
    settings: AnalyticsSettings | Settings | None = None,
) -> KpiTable:
    """Every KPI of DOMAIN.md section 6 for the month ("YYYY-MM") or year asked for (the current month
    when neither), one row per group of ``by`` and the scope's total, each beside its target. ``district``
    narrows the scope to that district's elevators (a drill-down: only its streets are counted);
    ``kpis`` keeps those KPIs only, and reads only their sources (the dashboard's tiles and charts need
    the rescue figures alone, not a month of faults)."""
    _check_table(actor, by, district)
    cfg = _settings(settings)
    now = clock.now()
    name, start, end = _period(month, year, now, cfg.tz)
    needs = ALL_SOURCES if kpis is None else _sources(kpis)
    return _table(session, actor, now, by, name, start, end, cfg, needs, district)


def kpi_tables(
    session: Session,
    actor: Actor,
    clock: Clock,
    *,
    months: Sequence[str],
    by: Dimension,
    district: str = "",
    kpis: Collection[str] | None = None,
    settings: AnalyticsSettings | Settings | None = None,
) -> dict[str, KpiTable]:
    """:func:`kpi_table` of each of ``months`` ("YYYY-MM"), the same tables: the settled ones read from
    their roll-up in one SUM ... GROUP BY month and group (the dashboard's 11 months before this one: one
    query, not 11), the others (and every month of ``by="month"``) one by one."""
    _check_table(actor, by, district)
    cfg = _settings(settings)
    now = clock.now()
    needs = ALL_SOURCES if kpis is None else _sources(kpis)
    periods = {m: _period(m, None, now, cfg.tz) for m in months}
    scope = _rollup_scope(session, actor)
    settled = [
        (m, a, b)
        for m, (_, a, b) in periods.items()
        if by != "month" and scope is not None and _settled_at(b, cfg) <= now
    ]
    out: dict[str, KpiTable] = {}
    if settled:
        _ensure_rolled(session, settled, now, cfg)
        each = _rolled_each(session, scope or "", by, [m for m, _, _ in settled], district)
        for m, a, b in settled:
            counts = {k: each[m][k] for k in sorted(each[m])}  # as the live counts order the groups
            total = _ZERO.with_elevators(
                sum(c.elevators for c in counts.values()), sum(c.monitored for c in counts.values())
            )
            out[m] = _built(by, m, a, b, now, cfg, needs, counts, total)
    for m, (name, a, b) in periods.items():
        if m not in out:
            out[m] = _table(session, actor, now, by, name, a, b, cfg, needs, district)
    return {m: out[m] for m in months}


def _check_table(actor: Actor, by: str, district: str) -> None:
    require_reader(actor)
    if by not in domain.DIMENSIONS:
        raise InvalidInput(FieldError("by", f"expected one of {', '.join(domain.DIMENSIONS)}, got '{by}'"))
    if len(district) > 64:
        raise InvalidInput(FieldError("district", "at most 64 characters"))


def _sources(kpis: Collection[str]) -> frozenset[str]:
    """The sources the ``kpis`` are counted from (each a KPI of DOMAIN.md section 6)."""
    for kpi in kpis:
        if kpi not in domain.KPIS:
            raise InvalidInput(FieldError("kpi", f"expected one of {', '.join(domain.KPIS)}, got '{kpi}'"))
    return frozenset(SOURCES[kpi] for kpi in kpis)


def trend(
    session: Session,
    actor: Actor,
    clock: Clock,
    *,
    kpi: str,
    months: int = 12,
    settings: AnalyticsSettings | Settings | None = None,
) -> Trend:
    """One KPI over the last ``months`` local calendar months, the current one last, with its target."""
    return trends(session, actor, clock, kpis=(kpi,), months=months, settings=settings)[kpi]


def trends(
    session: Session,
    actor: Actor,
    clock: Clock,
    *,
    kpis: Sequence[str],
    months: int = 12,
    settings: AnalyticsSettings | Settings | None = None,
) -> dict[str, Trend]:
    """Several KPIs' trends (:func:`trend`) from one pass: each source is read once for all of them (the
    rescue KPIs share the period's incidents, the longest read on a big city)."""
    require_reader(actor)
    needs = _sources(kpis)
    cfg = _settings(settings)
    now = clock.now()
    name, start, end = _last_months(now, months, cfg.tz)
    table = _table(session, actor, now, "month", name, start, end, cfg, needs)
    out: dict[str, Trend] = {}
    for kpi in kpis:
        points = tuple(TrendPoint(row.key, row.figures[kpi]) for row in table.rows)
        sample = table.total.figures[kpi]
        out[kpi] = Trend(kpi, sample.unit, sample.target, points)
    return out


# ---------------------------------------------------------------- coverage


def coverage(
    session: Session, actor: Actor, clock: Clock, *, settings: AnalyticsSettings | Settings | None = None
) -> Coverage:
    """The coverage KPIs of the elevators in service in the scope on the city's day (DOMAIN.md section 6):
    remote monitoring (all; public places; residential 15+ years), liability insurance and geolocation
    of those in public places, in-car mobile signal (all; public places)."""
    require_reader(actor)
    cfg = _settings(settings)
    today = clock.now().astimezone(cfg.tz).date()
    c = registry_queries.coverage_counts(session, actor, today, PUBLIC_PLACE_TYPES)
    public = registry_queries.public_codes_select(actor, PUBLIC_PLACE_TYPES)
    insured = insurance_service.insured_count(session, today, public)
    figures = {
        "monitoring_all": share(c.monitored, c.elevators),
        "monitoring_public": share(c.public_monitored, c.public, FULL_COVERAGE),
        "monitoring_old_residential": share(c.old_residential_monitored, c.old_residential, FULL_COVERAGE),
        "insurance_public": share(insured, c.public, FULL_COVERAGE),
        "geolocation_public": share(c.public_located, c.public, FULL_COVERAGE),
        "mobile_signal_all": share(c.signal, c.elevators),
        "mobile_signal_public": share(c.public_signal, c.public),
    }
    return Coverage(today, figures, c.elevators - c.signal - c.no_signal)


def coverage_gaps(
    session: Session, actor: Actor, clock: Clock, *, kind: str, page: int = 1, size: int = 50
) -> Gaps:
    """The elevators in service in the scope that lack ``kind``: the in-car mobile signal (no, or never
    checked), an IoT terminal, or (in public places) coordinates; by district, street and code, paged."""
    require_reader(actor)
    if kind not in registry_queries.GAP_KINDS:
        raise InvalidInput(
            FieldError("kind", f"expected one of {', '.join(registry_queries.GAP_KINDS)}, got '{kind}'")
        )
    if page < 1:
        raise InvalidInput(FieldError("page", f"expected 1 or more, got {page}"))
    if not 1 <= size <= GAP_PAGE_MAX:
        raise InvalidInput(FieldError("size", f"expected 1 to {GAP_PAGE_MAX}, got {size}"))
    rows, total = registry_queries.coverage_gaps(session, actor, kind, PUBLIC_PLACE_TYPES, page, size)
    gaps = tuple(
        Gap(
            r.registration_code,
            r.district,
            r.street,
            r.address,
            r.place_type,
            r.maintenance_unit,
            r.mobile_signal,
        )
        for r in rows
    )
    return Gaps(kind, page, size, total, gaps)
