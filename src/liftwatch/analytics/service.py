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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

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
    by: Dimension,
    start: datetime,
    end: datetime,
    now: datetime,
    today: date,
    tz: ZoneInfo,
    needs: frozenset[str] = ALL_SOURCES,
) -> _Events:
    """The period's events per group, each count one GROUP BY in the database; the incidents
    as rescue's formulas take them, grouped by their elevator's key."""
    records = []
    if "rescue" in needs:
        records = rescue_queries.incident_records(session, SYSTEM_ACTOR, start, end)
    if by == "month":
        # the city needs no join at all; a unit's staff count the events of their scope's elevators
        city = registry_queries.sees_every_elevator(actor)
        scope = None if city else registry_queries.group_key_subquery(actor, "district", today)
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
        keys = registry_queries.group_keys_of(session, actor, "district", codes, today)
        return _Events(faults, complaints, _by_month(records, lambda code: code in keys, tz), inspected)
    groups = registry_queries.group_key_subquery(actor, by, today)
    keys = registry_queries.group_keys_of(session, actor, by, {i.registration_code for i in records}, today)
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


# ---------------------------------------------------------------- the table


def _ratio(r: Ratio) -> Figure:
    return share(r.numerator, r.denominator, r.target)


def _mean(m: MeanDuration) -> Figure:
    f = m.fraction_min
    met = None if m.target is None else m.target.met(f)
    return Figure(m.count, m.count, m.minutes, "minutes", m.target, met)


def _row(
    key: str,
    elevators: int,
    monitored: int,
    kpis: Kpis,
    faults: int,
    complaints: int,
    inspections: PassRate,
    basis: timedelta,
    needs: frozenset[str] = ALL_SOURCES,
) -> KpiRow:
    figures: dict[str, Figure] = {
        "entrapment": per_10k_month(kpis.rescues, elevators, basis, ENTRAPMENT_TARGET),
        "fault": per_10k_month(faults, elevators, basis),
        "complaint": per_10k_month(complaints, elevators, basis),
    }
    figures["inspection_pass"] = share(inspections.passed, inspections.concluded, INSPECTION_PASS_TARGET)
    figures["response"] = _ratio(kpis.response_rate)
    figures["on_time_arrival"] = _ratio(kpis.on_time_arrival)
    figures["average_arrival"] = _mean(kpis.average_arrival)
    figures["rescue_success"] = _ratio(kpis.rescue_success)
    figures["monitoring"] = share(monitored, elevators)
    return KpiRow(key, elevators, {k: f for k, f in figures.items() if SOURCES[k] in needs})


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
) -> KpiTable:
    """The table of ``by`` over [start, end); only the figures of ``needs`` (a trend needs one)."""
    tz = cfg.tz
    today = now.astimezone(tz).date()
    covered = max(start, min(end, now))
    base_key = "district" if by == "month" else by
    denominators = registry_queries.in_service_by(session, actor, base_key, today)
    all_elevators = sum(n for n, _ in denominators.values())
    all_monitored = sum(t for _, t in denominators.values())
    events = _events(session, actor, by, start, end, now, today, tz, needs)
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
    rows = []
    for k in keys:
        a, b = bounds.get(k, (start, end))
        elevators, monitored = (
            (all_elevators, all_monitored) if by == "month" else denominators.get(k, (0, 0))
        )
        kpis = compute_kpis(events.incidents.get(k, []), elevators, a, b, cfg.kpis, as_of=now)
        rows.append(
            _row(
                k,
                elevators,
                monitored,
                kpis,
                events.faults.get(k, 0),
                events.complaints.get(k, 0),
                events.passes.get(k, PassRate(0, 0)),
                max(a, min(b, now)) - a,
                needs,
            )
        )
    all_incidents = [i for group in events.incidents.values() for i in group]
    total_pass = PassRate(
        sum(r.passed for r in events.passes.values()), sum(r.concluded for r in events.passes.values())
    )
    total = _row(
        "",
        all_elevators,
        all_monitored,
        compute_kpis(all_incidents, all_elevators, start, end, cfg.kpis, as_of=now),
        sum(events.faults.values()),
        sum(events.complaints.values()),
        total_pass,
        covered - start,
        needs,
    )
    return KpiTable(by, name, start, end, covered, tuple(rows), total)


def kpi_table(
    session: Session,
    actor: Actor,
    clock: Clock,
    *,
    month: str | None = None,
    year: int | None = None,
    by: Dimension,
    settings: AnalyticsSettings | Settings | None = None,
) -> KpiTable:
    """Every KPI of DOMAIN.md section 6 for the month ("YYYY-MM") or year asked for (the current month
    when neither), one row per group of ``by`` and the scope's total, each beside its target."""
    require_reader(actor)
    if by not in domain.DIMENSIONS:
        raise InvalidInput(FieldError("by", f"expected one of {', '.join(domain.DIMENSIONS)}, got '{by}'"))
    cfg = _settings(settings)
    now = clock.now()
    name, start, end = _period(month, year, now, cfg.tz)
    return _table(session, actor, now, by, name, start, end, cfg)


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
    for kpi in kpis:
        if kpi not in domain.KPIS:
            raise InvalidInput(FieldError("kpi", f"expected one of {', '.join(domain.KPIS)}, got '{kpi}'"))
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise InvalidInput(FieldError("months", f"expected 1 to {MAX_TREND_MONTHS}, got {months}"))
    cfg = _settings(settings)
    now = clock.now()
    local = now.astimezone(cfg.tz)
    first = domain.shift_month(local.year, local.month, -(months - 1))
    nxt = domain.shift_month(local.year, local.month, 1)
    start, end = _month_start(*first, cfg.tz), _month_start(*nxt, cfg.tz)
    name = f"{first[0]:04d}-{first[1]:02d}"
    needs = frozenset(SOURCES[kpi] for kpi in kpis)
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
    public = registry_queries.public_codes_in_service(session, actor, PUBLIC_PLACE_TYPES)
    insured = len(public & insurance_service.insured_codes(session, today))
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
