"""Rescue KPIs (救援指标) as pure functions over IncidentRecords: no SQL, no HTTP, no clock.

Definitions, targets and every edge-case choice are in docs/KPIS.md (DOMAIN.md §5-6). Each rate keeps its
numerator and denominator so a report can show "97 / 100"; a value is ``None`` (not 0) when its denominator
is empty, and so is a target's met flag. Comparisons with targets are exact (fractions), never floats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo

from liftwatch.rescue.domain import Cause, DispatchRecord, IncidentRecord, Level, Source

Comparison = Literal[">=", "<=", "<", ">"]
GroupKey = Literal["district", "street", "maintenance_unit", "place_type", "month"]
RateBasis = Literal["year", "month"]

YEAR = timedelta(days=365)  # normalisation year: a 365-day period gives per_year == the raw rate
MONTH = YEAR / 12  # 30.4166... days
_US = timedelta(microseconds=1)

CHONGQING_2023 = "重庆市“安全乘梯守护行动”工作方案 (2021), targets for 2023"
CHONGQING_2021 = "Chongqing 96333 platform, reported 2021: rescue success 100%"

#: Reference mixes for reports (DOMAIN.md §5, §7): Guizhou, 15,028 rescues. Compare ``cause_mix`` over the
#: three named causes (leave OTHER out of the denominator), since Guizhou has no "other".
GUIZHOU_CAUSE_MIX: Mapping[Cause, float] = {
    Cause.MISUSE: 0.408,
    Cause.ELECTRO_MECHANICAL: 0.385,
    Cause.POWER_CUT: 0.207,
}
GUIZHOU_LEVEL_MIX: Mapping[Level, float] = {Level.L1: 0.9901, Level.L2: 0.0098, Level.L3: 0.0001}


@dataclass(frozen=True)
class Target:
    """A target such as ">= 99%". ``threshold`` is in the KPI's unit: a fraction (0.99) or minutes."""

    comparison: Comparison
    threshold: float
    source: str = CHONGQING_2023

    def met(self, value: Fraction | None) -> bool | None:
        if value is None:
            return None
        limit = Fraction(repr(self.threshold))  # exact decimal: 0.29 is 29/100, not the nearest double
        match self.comparison:
            case ">=":
                return value >= limit
            case "<=":
                return value <= limit
            case "<":
                return value < limit
            case ">":
                return value > limit

    def __str__(self) -> str:
        return f"{self.comparison} {self.threshold:g}"


@dataclass(frozen=True)
class KpiSettings:
    """Thresholds and targets; defaults are DOMAIN.md §5-6 (Chongqing 2023). Every one is configurable."""

    response_limit_s: int = 300  # acknowledged within 5 min of dispatch (RescueSettings.ack_limit_s)
    close_limit: timedelta = timedelta(hours=24)  # not closed by alarm + this: not a success (close_limit_h)
    timezone: str = "Asia/Shanghai"  # calendar for "month" grouping
    response_rate_target: Target | None = Target(">=", 0.99)
    average_arrival_target: Target | None = Target("<=", 30)  # minutes
    on_time_arrival_target: Target | None = Target(">=", 0.98)
    entrapment_rate_target: Target | None = Target("<", 0.005)
    entrapment_target_basis: RateBasis = "year"  # our reading of "< 0.5%": see docs/KPIS.md
    rescue_success_target: Target | None = Target(">=", 1.0, CHONGQING_2021)


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator, with an optional target. ``value`` is a fraction (0.97), not a percent."""

    numerator: int
    denominator: int
    target: Target | None = None

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @property
    def value(self) -> float | None:
        f = self.fraction
        return None if f is None else float(f)

    @property
    def percent(self) -> float | None:
        v = self.value
        return None if v is None else 100 * v

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.fraction)

    def __str__(self) -> str:
        pct = "n/a" if self.percent is None else f"{self.percent:.1f}%"
        return f"{self.numerator} / {self.denominator} ({pct})"


@dataclass(frozen=True)
class MeanDuration:
    """A mean time: ``total`` over ``count`` incidents; ``minutes`` is ``None`` when count is 0."""

    total: timedelta
    count: int
    target: Target | None = None  # in minutes

    @property
    def fraction_min(self) -> Fraction | None:
        if not self.count:
            return None
        return Fraction(self.total // _US, self.count * (timedelta(minutes=1) // _US))

    @property
    def minutes(self) -> float | None:
        f = self.fraction_min
        return None if f is None else float(f)

    @property
    def total_min(self) -> float:
        return self.total / timedelta(minutes=1)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.fraction_min)

    def __str__(self) -> str:
        return (
            "n/a" if self.minutes is None else f"{self.minutes:.1f} min ({self.total_min:g} / {self.count})"
        )


@dataclass(frozen=True)
class EntrapmentRate:
    """故障困人率: entrapments / elevators in service over ``period``, also normalised per year and month.

    per_year = entrapments / elevators x 365 days / period; per_month = per_year / 12.
    """

    entrapments: int
    elevators: int
    period: timedelta
    target: Target | None = None
    target_basis: RateBasis = "year"

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.entrapments, self.elevators) if self.elevators > 0 else None

    @property
    def fraction_per_year(self) -> Fraction | None:
        f = self.fraction
        return None if f is None else f * Fraction(YEAR // _US, self.period // _US)

    @property
    def fraction_per_month(self) -> Fraction | None:
        f = self.fraction_per_year
        return None if f is None else f / 12

    @property
    def value(self) -> float | None:
        return _float(self.fraction)

    @property
    def per_year(self) -> float | None:
        return _float(self.fraction_per_year)

    @property
    def per_month(self) -> float | None:
        return _float(self.fraction_per_month)

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        basis = self.fraction_per_year if self.target_basis == "year" else self.fraction_per_month
        return self.target.met(basis)


@dataclass(frozen=True)
class Kpis:
    """Rescue KPIs for one period and scope. "Rescues" are the incidents that are not false alarms."""

    period_start: datetime
    period_end: datetime
    elevators_in_service: int
    incidents: int  # alarms in [period_start, period_end), false alarms included
    false_alarms: int
    rescues: int  # incidents - false_alarms; each is one entrapment
    response_rate: Ratio  # 应急响应率
    average_arrival: MeanDuration  # 平均到场时间, arrival - alarm
    on_time_arrival: Ratio  # 按时到达率
    average_on_site: MeanDuration  # 现场救援用时, release - arrival
    entrapment_rate: EntrapmentRate  # 故障困人率
    rescue_success: Ratio  # 救援成功率
    dispatch_rate: Ratio  # 出动率
    by_level: Mapping[Level, Ratio] = field(default_factory=dict)  # share of rescues per level
    cause_mix: Mapping[Cause, Ratio] = field(default_factory=dict)  # share of rescues with a cause
    cause_unreported: int = 0  # rescues without a reported cause
    by_source: Mapping[Source, int] = field(default_factory=dict)  # all incidents, false alarms included
    timestamp_anomalies: tuple[int, ...] = ()  # ids of rescues with a used interval going backwards
    pending: int = 0  # rescues still undecided at ``as_of`` on some rate (live figures only)
    cancelled: int = 0  # cancelled calls: left out of the rescues like false alarms
    self_released: int = 0  # rescues where the passengers got out before any crew arrived (自行脱困)
    callback_rate: Ratio = Ratio(0, 0)  # 回访率: released rescues the operator called back
    cause_reported: Ratio = Ratio(0, 0)  # closed rescues with a reported cause
    unit: str | None = None  # the unit whose own dispatches the dispatch figures count (None: city-wide)


def _float(f: Fraction | None) -> float | None:
    return None if f is None else float(f)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")


def _check_period(period_start: datetime, period_end: datetime) -> None:
    _require_aware("period_start", period_start)
    _require_aware("period_end", period_end)
    if period_end <= period_start:
        raise ValueError(
            f"period_end {period_end.isoformat()} must be after period_start {period_start.isoformat()}"
        )


def _in_period(
    incidents: Iterable[IncidentRecord], period_start: datetime, period_end: datetime
) -> list[IncidentRecord]:
    """Incidents are counted in the period that holds their alarm time: start <= alarm < end."""
    selected = []
    for inc in incidents:
        _require_aware(f"incident {inc.id} alarm_at", inc.alarm_at)
        if period_start <= inc.alarm_at < period_end:
            selected.append(inc)
    return selected


def _window_open(start: datetime | None, length: timedelta, as_of: datetime) -> bool:
    """A deadline counted from ``start`` has not passed at ``as_of`` (no start: nothing to wait for)."""
    return start is not None and as_of < start + length


def _interval(start: datetime | None, end: datetime | None) -> timedelta | None:
    """end - start, or None when either is missing or the interval goes backwards (a data error)."""
    if start is None or end is None or end < start:
        return None
    return end - start


def _backwards(start: datetime | None, end: datetime | None) -> bool:
    return start is not None and end is not None and end < start


def _answered_at(d: DispatchRecord) -> datetime | None:
    """A dispatch is answered by its acknowledgement, or by its arrival when the crew never pressed it."""
    return d.acknowledged_at or d.arrived_at


def _void(d: DispatchRecord, limit: timedelta) -> bool:
    """The centre took the dispatch back before its acknowledgement limit with nothing done (a surge
    re-plan, a re-dispatch): the unit had no chance to answer, so it counts for nothing."""
    return (
        d.withdrawn_by_centre
        and d.withdrawn_at is not None
        and d.withdrawn_at < d.dispatched_at + limit
        and _answered_at(d) is None
    )


def _stood_down(d: DispatchRecord, deadline: datetime, limit: timedelta) -> bool:
    """The centre withdrew the dispatch before the arrival deadline, before the crew arrived, and the
    crew had answered (or had no chance to): it was stood down (the passengers got out, another crew
    freed them), which is no missed arrival. An unanswered crew withdrawn after its limit is a miss."""
    return (
        d.withdrawn_by_centre
        and d.withdrawn_at is not None
        and d.withdrawn_at < deadline
        and d.arrived_at is None
        and (_answered_at(d) is not None or _void(d, limit))
    )


def _judged_dispatch(inc: IncidentRecord, limit: timedelta) -> DispatchRecord | None:
    """The dispatch the city's response rate judges: the first one, or the next when the centre took the
    first back before its limit unanswered (a surge re-plan, a re-dispatch)."""
    for d in inc.dispatches:
        if not _void(d, limit):
            return d
    return None


def _ended_at(inc: IncidentRecord) -> datetime | None:
    """When the trapped persons' wait ended without a crew: released (self-release) or the case closed."""
    ends = [t for t in (inc.released_at, inc.closed_at, inc.completed_at) if t is not None]
    return min(ends) if ends else None


def compute_kpis(
    incidents: Sequence[IncidentRecord],
    elevators_in_service: int,
    period_start: datetime,
    period_end: datetime,
    settings: KpiSettings = KpiSettings(),
    as_of: datetime | None = None,
    unit: str | None = None,
) -> Kpis:
    """All rescue KPIs for the incidents whose alarm falls in [period_start, period_end) (docs/KPIS.md).

    ``as_of`` (the moment the figures are computed, normally now): an incident whose deadline has not
    passed yet at that moment and that has not met it either is still undecided. It is left out of the
    response rate, the on-time rate and rescue success (and counted in ``pending``) instead of counting as
    a miss; once the deadline has passed it is a miss, so every period is settled once its last deadline
    (the closing limit for rescue success) is past.

    ``unit``: a unit's figures. Response, arrival, on-time and dispatch figures count only the unit's own
    dispatches (whatever incident they were for); the incident figures (entrapments, success, levels,
    causes, call-backs) count the incidents it is contracted for."""
    _check_period(period_start, period_end)
    if elevators_in_service < 0:
        raise ValueError(f"elevators_in_service must be >= 0, got {elevators_in_service}")
    in_period = _in_period(incidents, period_start, period_end)
    rescues_all = [i for i in in_period if not i.false_alarm and not i.cancelled]
    in_scope = in_period if unit is None else [i for i in in_period if i.maintenance_unit == unit]
    rescues = [i for i in in_scope if not i.false_alarm and not i.cancelled]
    limit = timedelta(seconds=settings.response_limit_s)
    undecided: set[int] = set()
    anomalies: list[int] = []
    for inc in rescues_all if unit is not None else rescues:
        if (
            _backwards(inc.dispatched_at, inc.acknowledged_at)
            or _backwards(inc.alarm_at, inc.arrived_at)
            or _backwards(inc.arrived_at, inc.released_at)
            or any(_backwards(d.dispatched_at, d.acknowledged_at) for d in inc.dispatches)
        ):
            anomalies.append(inc.id)

    # ---- dispatch figures: (incident, dispatched, answered, arrived) per judged item
    responded = response_n = 0
    arrival_total, arrival_count = timedelta(0), 0
    sent = on_time = 0
    dispatched = arrived_after_dispatch = 0

    def judge_response(inc_id: int, start: datetime | None, answered: datetime | None) -> None:
        nonlocal responded, response_n
        answer = _interval(start, answered)
        if answer is not None and answer <= limit:
            responded += 1
            response_n += 1
        elif as_of is not None and answered is None and _window_open(start, limit, as_of):
            undecided.add(inc_id)
        else:
            response_n += 1

    def judge_arrival(inc: IncidentRecord, arrived: datetime | None) -> None:
        nonlocal sent, on_time
        deadline = inc.alarm_at + timedelta(minutes=inc.arrival_limit_min)
        arrival = _interval(inc.alarm_at, arrived)
        if arrival is not None and arrival <= timedelta(minutes=inc.arrival_limit_min):
            sent += 1
            on_time += 1
        elif as_of is not None and arrived is None and as_of < deadline:
            undecided.add(inc.id)
        else:
            sent += 1

    if unit is None:
        for inc in rescues:
            judged = _judged_dispatch(inc, limit) if inc.dispatches else None
            if inc.dispatches:
                judge_response(
                    inc.id, judged.dispatched_at if judged else None, _answered_at(judged) if judged else None
                )
            else:
                judge_response(inc.id, inc.dispatched_at, inc.acknowledged_at)
            arrival = _interval(inc.alarm_at, inc.arrived_at)
            if arrival is not None:
                arrival_total += arrival
                arrival_count += 1
            deadline = inc.alarm_at + timedelta(minutes=inc.arrival_limit_min)
            ended = _ended_at(inc)
            # Out of the on-time figures only: a wait that ended by the deadline with nobody on site (the
            # passengers got out, the case closed). A rescue still open past its deadline is late.
            if not (inc.arrived_at is None and ended is not None and ended <= deadline):
                judge_arrival(inc, inc.arrived_at)
            if inc.dispatches:
                for d in inc.dispatches:
                    if not _stood_down(d, deadline, limit):  # stood down: not this dispatch's failure
                        dispatched += 1
                        arrived_after_dispatch += d.arrived_at is not None
            elif inc.dispatched_at is not None:
                dispatched += 1
                if inc.arrived_at is not None:
                    arrived_after_dispatch += 1
    else:
        for inc in rescues_all:
            deadline = inc.alarm_at + timedelta(minutes=inc.arrival_limit_min)
            for d in inc.dispatches:
                if d.unit != unit:
                    continue
                if not _void(d, limit):
                    judge_response(inc.id, d.dispatched_at, _answered_at(d))
                arrival = _interval(inc.alarm_at, d.arrived_at)
                if arrival is not None:
                    arrival_total += arrival
                    arrival_count += 1
                if not _stood_down(d, deadline, limit):
                    judge_arrival(inc, d.arrived_at)
                    dispatched += 1
                    arrived_after_dispatch += d.arrived_at is not None

    # ---- incident figures
    on_site_total, on_site_count = timedelta(0), 0
    succeeded = success_n = 0
    released = called_back = closed = with_cause_closed = 0
    for inc in rescues:
        on_site = _interval(inc.arrived_at, inc.released_at)
        if on_site is not None:
            on_site_total += on_site
            on_site_count += 1
        closed_at = inc.closed_at or inc.completed_at
        if closed_at is not None and inc.all_released:
            succeeded += 1
            success_n += 1
        elif as_of is not None and closed_at is None and as_of < inc.alarm_at + settings.close_limit:
            undecided.add(inc.id)  # the rescue is still going on, within the closing limit
        else:
            success_n += 1
        if inc.released_at is not None or inc.self_released:
            released += 1
            called_back += inc.callback_at is not None
        if closed_at is not None:
            closed += 1
            with_cause_closed += inc.cause is not None

    n = len(rescues)
    with_cause = [i for i in rescues if i.cause is not None]
    return Kpis(
        period_start=period_start,
        period_end=period_end,
        elevators_in_service=elevators_in_service,
        incidents=len(in_scope),
        false_alarms=sum(1 for i in in_scope if i.false_alarm),
        rescues=n,
        response_rate=Ratio(responded, response_n, settings.response_rate_target),
        average_arrival=MeanDuration(arrival_total, arrival_count, settings.average_arrival_target),
        on_time_arrival=Ratio(on_time, sent, settings.on_time_arrival_target),
        average_on_site=MeanDuration(on_site_total, on_site_count),
        entrapment_rate=EntrapmentRate(
            n,
            elevators_in_service,
            period_end - period_start,
            settings.entrapment_rate_target,
            settings.entrapment_target_basis,
        ),
        rescue_success=Ratio(succeeded, success_n, settings.rescue_success_target),
        dispatch_rate=Ratio(arrived_after_dispatch, dispatched),
        by_level={lv: Ratio(sum(1 for i in rescues if i.level == lv), n) for lv in Level},
        cause_mix={c: Ratio(sum(1 for i in with_cause if i.cause == c), len(with_cause)) for c in Cause},
        cause_unreported=n - len(with_cause),
        by_source={s: sum(1 for i in in_scope if i.source == s) for s in Source},
        timestamp_anomalies=tuple(anomalies),
        pending=len(undecided),
        cancelled=sum(1 for i in in_scope if i.cancelled),
        self_released=sum(1 for i in rescues if i.self_released),
        callback_rate=Ratio(called_back, released),
        cause_reported=Ratio(with_cause_closed, closed),
        unit=unit,
    )


def month_key(at: datetime, tz: ZoneInfo) -> str:
    """Calendar month "YYYY-MM" of an instant in the platform's time zone (Asia/Shanghai by default)."""
    return at.astimezone(tz).strftime("%Y-%m")


def _months(
    period_start: datetime, period_end: datetime, tz: ZoneInfo
) -> dict[str, tuple[datetime, datetime]]:
    """Local calendar months overlapping [start, end), each clipped to the period (bounds stay aware)."""
    local = period_start.astimezone(tz)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months: dict[str, tuple[datetime, datetime]] = {}
    while month_start < period_end:
        y, m = (
            (month_start.year + 1, 1)
            if month_start.month == 12
            else (month_start.year, month_start.month + 1)
        )
        next_start = month_start.replace(year=y, month=m)
        clipped = (max(month_start, period_start), min(next_start, period_end))
        months[month_start.strftime("%Y-%m")] = (clipped[0].astimezone(UTC), clipped[1].astimezone(UTC))
        month_start = next_start
    return months


def kpis_by(
    incidents: Sequence[IncidentRecord],
    key: GroupKey,
    elevators_by_key: Mapping[str, int],
    period_start: datetime,
    period_end: datetime,
    settings: KpiSettings = KpiSettings(),
    as_of: datetime | None = None,
) -> dict[str, Kpis]:
    """KPIs per district, street, maintenance unit, place type or local calendar month.

    Groups are every key with an incident in the period plus every key of ``elevators_by_key`` (a district
    with elevators and no entrapment has rate 0, not no row); a key without elevators gets 0, so its
    entrapment rate is None. For "month" each group's period is that month clipped to [start, end), so
    per-year and per-month rates are normalised by the days actually covered.
    """
    _check_period(period_start, period_end)
    in_period = _in_period(incidents, period_start, period_end)
    bounds: dict[str, tuple[datetime, datetime]] = {}
    key_of: Callable[[IncidentRecord], str]
    if key == "month":
        tz = ZoneInfo(settings.timezone)
        bounds = _months(period_start, period_end, tz)

        def key_of(i: IncidentRecord) -> str:
            return month_key(i.alarm_at, tz)
    else:

        def key_of(i: IncidentRecord) -> str:
            value: str = getattr(i, key)
            return value

    groups: dict[str, list[IncidentRecord]] = {k: [] for k in bounds}
    for k in elevators_by_key:
        if key != "month":  # a month outside the period is no group of it
            groups.setdefault(k, [])
    for inc in in_period:
        groups.setdefault(key_of(inc), []).append(inc)
    result = {}
    for k in sorted(groups):
        start, end = bounds.get(k, (period_start, period_end))
        result[k] = compute_kpis(groups[k], elevators_by_key.get(k, 0), start, end, settings, as_of)
    return result


def month_keys(
    period_start: datetime, period_end: datetime, settings: KpiSettings = KpiSettings()
) -> list[str]:
    """The local calendar months ("YYYY-MM") a period touches, as kpis_by(..., "month") names them."""
    _check_period(period_start, period_end)
    return list(_months(period_start, period_end, ZoneInfo(settings.timezone)))
