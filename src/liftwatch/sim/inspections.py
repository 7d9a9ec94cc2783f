"""The demo's inspection history (检验记录), once (a second run adds nothing), so that due dates, the
regulator's overdue list and the inspector's schedule look like a city's and not like a platform started
today (with no history every elevator commissioned years ago would be overdue).

Every elevator in use gets its last periodic inspection by the city's inspection body and the demo
inspector, performed on a day spread over the last interval (a year; under the reform schedule the
elevator's interval by age), so the next due dates (``inspection.domain.next_due``) spread over the coming
interval. Of these about 96% concluded ``pass``, 3% ``pass_after_rectification`` (one minor non-conformity,
rectified on paper: no work order) and 1% ``fail`` in the last month (one major non-conformity, its
rectification work order opened through the service, a re-inspection scheduled in the next two weeks):
a first-attempt pass rate of about 96% (DOMAIN.md section 7: target >= 95%). About 1.5% were last inspected
more than an interval ago and never since: they are overdue. An elevator whose first periodic inspection
is not due yet (commissioned recently) has none.

The signed history is filed in bulk by ``inspection.service.bulk_load_history`` (the service's per-inspection
schedule/record/sign is several queries per elevator: too slow for 2,000 at start-up), with its entries on
the elevator file as ``sign`` writes them; what is open (the inspections due within 30 days and the
overdue ones, the re-inspections, the rectification orders) goes through ``inspection.service``, so the
rules and the scope checks apply. Deterministic by seed and registration code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import Clock, FixedClock
from liftwatch.core.config import Settings, zone
from liftwatch.inspection import service as inspection
from liftwatch.inspection.domain import Conclusion, Severity, add_years, next_due
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.domain import ElevatorStatus, UnitType

__all__ = ["InspectionSeed", "inspection_body", "seed_inspections"]

FAIL_SHARE = 0.01
RECTIFIED_SHARE = 0.03
OVERDUE_SHARE = 0.015
#: findings the demo's inspectors write (检验项目, text)
_MINOR = (
    ("3.8 层门自闭装置", "层门自闭力不足, 需调整"),
    ("2.9 轿厢照明", "轿厢应急照明持续时间不足 1 小时"),
    ("5.3 井道安全门", "井道内杂物未清理"),
    ("6.2 对重缓冲器", "缓冲器复位开关动作不可靠"),
)
_MAJOR = (
    ("2.8 限速器", "限速器动作速度超出允许范围"),
    ("3.12 门锁装置", "层门门锁啮合长度小于 7 mm"),
    ("8.1 制动器", "制动器制动力不足, 125% 载荷下滑移超标"),
)


@dataclass(frozen=True)
class InspectionSeed:
    """What one run filed."""

    history: int  # signed periodic inspections inserted
    rectified: int  # of which pass after rectification
    failed: int  # of which failed (a re-inspection scheduled)
    scheduled: int  # open periodic inspections scheduled (due within 30 days or overdue)
    overdue: int  # of which overdue

    def summary(self) -> str:
        return (
            f"{self.history} inspections on record ({self.rectified} passed after rectification, "
            f"{self.failed} failed), {self.scheduled} scheduled ({self.overdue} overdue)"
        )


def inspection_body(session: Session) -> str | None:
    """The code of the city's inspection body (the first by name, as the registry lists units), or None."""
    units, _ = registry_queries.list_units(
        session, SYSTEM_ACTOR, unit_type=UnitType.INSPECTION_BODY.value, size=1
    )
    return units[0].code if units else None


def _at(day: date, hour: int, minute: int, settings: Settings) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone(settings.timezone))


@dataclass(frozen=True)
class _Drawn:
    performed: date
    conclusion: Conclusion


def _draw(rng: random.Random, commissioned: date | None, today: date, settings: Settings) -> _Drawn | None:
    """The elevator's last periodic inspection, or None when its first is not due yet."""
    rule = inspection.rule_from(settings)
    years = next_due(today, commissioned, rule).interval_years
    span = (add_years(today, years) - today).days
    roll = rng.random()
    conclusion = Conclusion.PASS
    if roll < FAIL_SHARE:
        conclusion, back = Conclusion.FAIL, rng.randint(3, 30)
    elif roll < FAIL_SHARE + OVERDUE_SHARE:  # never inspected since: overdue
        back = span + rng.randint(2, 60)
    else:
        back = rng.randint(1, span - 1)
        if rng.random() < RECTIFIED_SHARE:
            conclusion = Conclusion.PASS_AFTER_RECTIFICATION
    performed = today - timedelta(days=back)
    if commissioned is not None:
        first = next_due(commissioned, commissioned, rule).due
        if first >= today:
            return None  # still within its first interval: the acceptance is its base date
        performed = max(performed, first)
    return _Drawn(performed, conclusion)


def seed_inspections(
    session: Session, clock: Clock, settings: Settings, inspector: str = "inspector", seed: int = 1
) -> InspectionSeed:
    """File the demo's inspection history and schedule (module docstring) for ``inspector`` (an inspector's
    account, of the city's inspection body or of none); elevators with any inspection on record are left
    alone, so a second run files nothing."""
    body = inspection_body(session)
    if body is None:
        return InspectionSeed(0, 0, 0, 0, 0)
    own = registry_queries.unit_by_code(session, accounts.unit_of_user(session, inspector) or "")
    actor = Actor(inspector, Role.INSPECTOR, own.id if own is not None else None)
    rule = inspection.rule_from(settings)
    today = clock.now().astimezone(zone(settings.timezone)).date()
    elevators, _ = registry_queries.list_elevators(
        session,
        SYSTEM_ACTOR,
        registry_queries.ElevatorFilter(status=ElevatorStatus.IN_USE.value),
        clock,
        size=10_000_000,
    )
    have = inspection.inspected_codes(session)
    fresh = [e for e in elevators if e.registration_code not in have]
    past: list[inspection.PastInspection] = []
    due: dict[str, date] = {}  # the next periodic inspection by the rule, as due_for will find it
    for e in fresh:
        rng = random.Random(f"{seed}:inspection:{e.registration_code}")
        commissioned = e.commissioning_date or e.installation_date
        drawn = _draw(rng, commissioned, today, settings)
        if drawn is None:  # first periodic inspection not due yet (only with a commissioning date)
            due[e.registration_code] = next_due(commissioned or today, commissioned, rule).due
            continue
        due[e.registration_code] = next_due(drawn.performed, commissioned, rule).due
        performed = _at(drawn.performed, rng.randint(9, 15), rng.choice((0, 15, 30, 45)), settings)
        signed_at = performed + timedelta(hours=rng.randint(2, 30))
        created_at = performed - timedelta(days=rng.randint(20, 40))
        finding = None
        if drawn.conclusion is not Conclusion.PASS:
            major = drawn.conclusion is Conclusion.FAIL
            item, text = rng.choice(_MAJOR if major else _MINOR)
            finding = inspection.PastFinding(
                item,
                text,
                Severity.MAJOR if major else Severity.MINOR,
                drawn.performed + timedelta(days=15 if major else 30),
            )
        past.append(
            inspection.PastInspection(
                registration_code=e.registration_code,
                unit_code=e.maintenance_unit.code if e.maintenance_unit is not None else "",
                body_unit_code=body,
                inspector=inspector,
                scheduled_date=drawn.performed,
                due_date=drawn.performed + timedelta(days=rng.randint(0, 20)),  # inspected before it was due
                performed_at=performed,
                conclusion=drawn.conclusion,
                report_number=f"DJ{drawn.performed:%Y}-{rng.randrange(100_000):05d}",
                signed_at=signed_at,
                created_at=created_at,
                finding=finding,
            )
        )
    rows = inspection.bulk_load_history(session, past, recorded_by=inspector)
    failed = [r for r, p in zip(rows, past, strict=True) if p.conclusion is Conclusion.FAIL]
    rectified = sum(1 for p in past if p.conclusion is Conclusion.PASS_AFTER_RECTIFICATION)
    for row in failed:  # rectification under way, the re-inspection booked
        rng = random.Random(f"{seed}:re-inspection:{row.registration_code}")
        signed_clock = FixedClock(row.signed_at or clock.now())
        inspection.open_rectifications(session, actor, row, signed_clock, settings)
        inspection.schedule_re_inspection(
            session, actor, row.id, today + timedelta(days=rng.randint(1, 14)), signed_clock, settings
        )
    scheduled = overdue = 0
    soon = today + timedelta(days=inspection.DUE_SOON_DAYS)
    booked = {r.registration_code for r in failed}
    for code in sorted(due):
        if code in booked or due[code] > soon:
            continue
        row, created = inspection.schedule_next(session, actor, code, body, inspector, clock, settings)
        scheduled += created
        overdue += created and row.due_date < today
    return InspectionSeed(len(rows), rectified, len(failed), scheduled, overdue)
