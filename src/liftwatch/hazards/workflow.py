"""A hazard's (隐患) rules, pure: its sources, levels and states, the moves each role may make, the
rectification deadline and the escalation steps once it is overdue. No SQL, no HTTP: the service applies
these (docs/HAZARDS.md).

Life of a hazard: reported -> rectifying (the responsible unit started) -> rectified (it submitted evidence
of the fix) -> verified by the regulator (closed), or rejected back to rectifying; the regulator may also
close a hazard without a fix (a duplicate, a report that was wrong). Overdue is derived: not yet rectified
when its deadline has passed.

Deadline (整改期限): the end of the day, on the city's clock, ``general_days`` (一般隐患) or ``major_days``
(重大隐患) after the report, unless the regulator sets a date. Escalation: at the deadline the responsible
unit is told it is overdue; ``escalation_days`` later the regulator is told; a major hazard overdue is put
under supervised rectification (挂牌督办) at once, with a public flag, and the regulator is told then too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from liftwatch.accounts.actor import Role


class HazardSource(StrEnum):
    """Where the hazard was found; with ``source_ref`` the idempotency key (one hazard per reference)."""

    INSPECTION = "inspection"  # 检验
    MAINTENANCE = "maintenance"  # 维保
    COMPLAINT = "complaint"  # 投诉
    MONITORING = "monitoring"  # 远程监测
    SPOT_CHECK = "spot_check"  # 监督抽查


class HazardLevel(StrEnum):
    GENERAL = "general"  # 一般隐患
    MAJOR = "major"  # 重大隐患


class HazardState(StrEnum):
    REPORTED = "reported"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"  # evidence of the fix submitted, waiting for the regulator
    VERIFIED = "verified"  # the regulator accepted the fix: closed (销号)
    CLOSED = "closed"  # closed by the regulator without a fix (duplicate, wrong report)


class Action(StrEnum):
    START = "start"  # the responsible unit begins the rectification
    SET_DEADLINE = "set_deadline"
    EVIDENCE = "evidence"
    VERIFY = "verify"
    REJECT = "reject"
    CLOSE = "close"
    WORK_ORDER = "work_order"  # open a corrective work order in maintenance


class Step(StrEnum):
    """An escalation step, fired by a durable timer."""

    OVERDUE = "overdue"  # at the deadline
    ESCALATION = "escalation"  # escalation_days after it


class Recipient(StrEnum):
    RESPONSIBLE = "responsible"  # the responsible unit (its code on the notice)
    REGULATOR = "regulator"


# state -> the actions allowed in it (the service refuses the others with 409, naming the state)
MOVES: dict[HazardState, frozenset[Action]] = {
    HazardState.REPORTED: frozenset(
        {Action.START, Action.SET_DEADLINE, Action.EVIDENCE, Action.CLOSE, Action.WORK_ORDER}
    ),
    HazardState.RECTIFYING: frozenset(
        {Action.SET_DEADLINE, Action.EVIDENCE, Action.CLOSE, Action.WORK_ORDER}
    ),
    HazardState.RECTIFIED: frozenset({Action.VERIFY, Action.REJECT, Action.CLOSE}),
    HazardState.VERIFIED: frozenset(),
    HazardState.CLOSED: frozenset(),
}

# where each move leads (a move not here keeps the state)
NEXT: dict[Action, HazardState] = {
    Action.START: HazardState.RECTIFYING,
    Action.EVIDENCE: HazardState.RECTIFIED,
    Action.VERIFY: HazardState.VERIFIED,
    Action.REJECT: HazardState.RECTIFYING,
    Action.CLOSE: HazardState.CLOSED,
}

FINISHED = frozenset({HazardState.VERIFIED, HazardState.CLOSED})
# the states in which the deadline runs (a rectified hazard waits for the regulator, not for the unit)
RUNNING = frozenset({HazardState.REPORTED, HazardState.RECTIFYING})

REGULATORS = frozenset({Role.ADMIN, Role.REGULATOR})
UNIT_STAFF = frozenset({Role.MAINTENANCE, Role.USE_UNIT})
# who may report: the centre and inspectors on any elevator, unit staff on their own elevators (the service
# checks which)
REPORTERS = REGULATORS | {Role.INSPECTOR} | UNIT_STAFF

# action -> the roles that may make it; "responsible" actions also need the actor's unit to be the
# hazard's responsible unit (the service checks that: ``needs_responsible_unit``)
ROLE_MOVES: dict[Action, frozenset[Role]] = {
    Action.START: frozenset({Role.ADMIN}) | UNIT_STAFF,
    Action.EVIDENCE: frozenset({Role.ADMIN}) | UNIT_STAFF,
    Action.SET_DEADLINE: REGULATORS,
    Action.VERIFY: REGULATORS,
    Action.REJECT: REGULATORS,
    Action.CLOSE: REGULATORS,
    Action.WORK_ORDER: REGULATORS | UNIT_STAFF,
}


def allowed(state: HazardState, action: Action) -> bool:
    return action in MOVES[state]


def may(role: Role, action: Action) -> bool:
    return role in ROLE_MOVES[action]


def needs_responsible_unit(role: Role, action: Action) -> bool:
    """Unit staff act on a hazard only as its responsible unit (the regulator and admins on any)."""
    return role in UNIT_STAFF and action in (Action.START, Action.EVIDENCE, Action.WORK_ORDER)


def is_overdue(state: HazardState, deadline: datetime, now: datetime) -> bool:
    """Overdue (逾期): not yet rectified when the deadline has passed."""
    return state in RUNNING and now >= deadline


@dataclass(frozen=True)
class DeadlineRule:
    """Days to rectify by level, counted from the report (the regulator may set another date), and the days
    an overdue hazard waits before the regulator is told."""

    general_days: int = 30
    major_days: int = 15
    general_escalation_days: int = 7
    major_escalation_days: int = 3

    def days(self, level: HazardLevel) -> int:
        return self.major_days if level is HazardLevel.MAJOR else self.general_days

    def escalation_days(self, level: HazardLevel) -> int:
        return self.major_escalation_days if level is HazardLevel.MAJOR else self.general_escalation_days


DEFAULT_RULE = DeadlineRule()


def end_of_day(day: date, tz: tzinfo) -> datetime:
    """The end of ``day`` on the city's clock (midnight after it), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)


def deadline(
    level: HazardLevel,
    reported_at: datetime,
    tz: tzinfo,
    rule: DeadlineRule = DEFAULT_RULE,
    set_date: date | None = None,
) -> datetime:
    """The rectification deadline: the end of ``set_date`` when the regulator set one, else the end of the
    day ``rule.days(level)`` days after the report's local date."""
    day = set_date or reported_at.astimezone(tz).date() + timedelta(days=rule.days(level))
    return end_of_day(day, tz)


def steps(
    level: HazardLevel, due: datetime, rule: DeadlineRule = DEFAULT_RULE
) -> list[tuple[Step, datetime]]:
    """The escalation steps of a hazard due at ``due``, in order: overdue at the deadline, escalation
    ``rule.escalation_days(level)`` later."""
    return [(Step.OVERDUE, due), (Step.ESCALATION, due + timedelta(days=rule.escalation_days(level)))]


@dataclass(frozen=True)
class Effect:
    """What a fired step does: who is told, and whether the hazard goes under supervised rectification."""

    recipients: tuple[Recipient, ...]
    supervise: bool = False


def effect(step: Step, level: HazardLevel) -> Effect:
    """Overdue: the responsible unit is told; a major hazard is also put under supervised rectification
    (挂牌督办) and the regulator told. Escalation: the regulator is told."""
    if step is Step.OVERDUE:
        if level is HazardLevel.MAJOR:
            return Effect((Recipient.RESPONSIBLE, Recipient.REGULATOR), supervise=True)
        return Effect((Recipient.RESPONSIBLE,))
    return Effect((Recipient.REGULATOR,))
