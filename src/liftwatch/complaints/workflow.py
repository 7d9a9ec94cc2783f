"""A complaint's (投诉) rules, pure: channels, categories, states, the moves each role may make, who must
answer it, and the SLA clock with what happens when a limit passes. No SQL, no HTTP: the service applies
these (docs/COMPLAINTS.md).

Life of a complaint: received (from 12345, WeChat, 96333, the public page in the car, ...) -> assigned to
the responsible unit -> answered by that unit (its reply) -> verified by the centre or the regulator
(founded or unfounded, with a note) -> closed. The verifier may instead return the answer for a new one
(back to assigned, the answer clock starts again). The centre may close a complaint it received without
passing it on (a duplicate, a withdrawn or abusive one), with the reason.

Responsible unit (责任单位): the unit the complaint names, else by category: the maintenance unit (维保单位)
for what its work decides (out of service, entrapment, noise, maintenance not done), the use unit (使用单位)
for the rest (dirty or unsafe car, fees, other), each falling back on the other when the elevator has none.

SLA (办理时限), in hours and days, kept simple (no working-day calendar): assigned within
``assign_hours`` of receipt (12345's usual 24 h first contact), answered within ``answer_hours`` of the
assignment (12345's usual 5 working days, taken as 120 h), verified within ``verify_days`` of the answer.
Each limit is a step fired by a durable timer; a step that finds the complaint still waiting marks it
overdue and tells the regulator (and, for the answer, the responsible unit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from liftwatch.accounts.actor import Role


class Channel(StrEnum):
    """Where the complaint came in; with the channel's own reference the idempotency key."""

    HOTLINE_12345 = "hotline_12345"  # 12345 政务服务便民热线
    WECHAT = "wechat"  # 微信公众号 / 小程序
    PHONE_96333 = "phone_96333"  # 96333 电话
    PUBLIC_PAGE = "public_page"  # the passenger page in the car (扫码投诉)
    OTHER = "other"


class Category(StrEnum):
    OUT_OF_SERVICE = "out_of_service"  # 停梯
    ENTRAPMENT = "entrapment"  # 困人
    NOISE = "noise"  # 异响 / 抖动
    UNSAFE = "unsafe"  # 脏乱 / 不安全
    MAINTENANCE_NOT_DONE = "maintenance_not_done"  # 维保不到位
    FEES = "fees"  # 收费
    OTHER = "other"


class ComplaintState(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    VERIFIED = "verified"
    CLOSED = "closed"


class Verdict(StrEnum):
    FOUNDED = "founded"  # 属实
    UNFOUNDED = "unfounded"  # 不属实


class Action(StrEnum):
    ASSIGN = "assign"
    ANSWER = "answer"
    RETURN = "return"  # the verifier sends the answer back for a new one
    VERIFY = "verify"
    CLOSE = "close"


class Step(StrEnum):
    """An SLA limit, fired by a durable timer."""

    ASSIGN = "assign"  # not yet passed on
    ANSWER = "answer"  # not yet answered
    VERIFY = "verify"  # not yet verified


class Recipient(StrEnum):
    RESPONSIBLE = "responsible"
    REGULATOR = "regulator"


# state -> the actions allowed in it (others: 409 naming the state)
MOVES: dict[ComplaintState, frozenset[Action]] = {
    ComplaintState.RECEIVED: frozenset({Action.ASSIGN, Action.CLOSE}),
    ComplaintState.ASSIGNED: frozenset({Action.ASSIGN, Action.ANSWER}),
    ComplaintState.ANSWERED: frozenset({Action.VERIFY, Action.RETURN}),
    ComplaintState.VERIFIED: frozenset({Action.CLOSE}),
    ComplaintState.CLOSED: frozenset(),
}

NEXT: dict[Action, ComplaintState] = {
    Action.ASSIGN: ComplaintState.ASSIGNED,
    Action.ANSWER: ComplaintState.ANSWERED,
    Action.RETURN: ComplaintState.ASSIGNED,
    Action.VERIFY: ComplaintState.VERIFIED,
    Action.CLOSE: ComplaintState.CLOSED,
}

FINISHED = frozenset({ComplaintState.VERIFIED, ComplaintState.CLOSED})

REGULATORS = frozenset({Role.ADMIN, Role.REGULATOR})
#: the complaint centre: the regulator and the 96333/12345 operators take complaints in and pass them on
CENTRE = REGULATORS | {Role.RESCUE_OPERATOR}
UNIT_STAFF = frozenset({Role.MAINTENANCE, Role.USE_UNIT})
#: who sees the complainant's name and phone (personal data): the centre and the regulator only
SEES_PERSONAL_DATA = CENTRE

ROLE_MOVES: dict[Action, frozenset[Role]] = {
    Action.ASSIGN: CENTRE,
    Action.ANSWER: frozenset({Role.ADMIN}) | UNIT_STAFF,
    Action.RETURN: CENTRE,
    Action.VERIFY: CENTRE,
    Action.CLOSE: CENTRE,
}

# which step each state waits on (its limit runs while the complaint is in it)
WAITING: dict[ComplaintState, Step] = {
    ComplaintState.RECEIVED: Step.ASSIGN,
    ComplaintState.ASSIGNED: Step.ANSWER,
    ComplaintState.ANSWERED: Step.VERIFY,
}

#: categories the maintenance unit answers for; the others go to the use unit
MAINTENANCE_CATEGORIES = frozenset(
    {Category.OUT_OF_SERVICE, Category.ENTRAPMENT, Category.NOISE, Category.MAINTENANCE_NOT_DONE}
)
#: categories that may reveal a danger (a founded one may open a hidden danger)
DANGER_CATEGORIES = frozenset(
    {
        Category.OUT_OF_SERVICE,
        Category.ENTRAPMENT,
        Category.NOISE,
        Category.UNSAFE,
        Category.MAINTENANCE_NOT_DONE,
    }
)


def allowed(state: ComplaintState, action: Action) -> bool:
    return action in MOVES[state]


def may(role: Role, action: Action) -> bool:
    return role in ROLE_MOVES[action]


def needs_responsible_unit(role: Role, action: Action) -> bool:
    """Unit staff answer only a complaint assigned to their own unit."""
    return role in UNIT_STAFF and action is Action.ANSWER


def responsible_unit(
    category: Category, named_unit: str | None, maintenance_unit: str | None, use_unit: str | None
) -> str | None:
    """The unit that must answer: the one named, else by category (see the module), else None (the centre
    names one)."""
    if named_unit:
        return named_unit
    first, second = (
        (maintenance_unit, use_unit) if category in MAINTENANCE_CATEGORIES else (use_unit, maintenance_unit)
    )
    return first or second or None


def _hours(value: float) -> float:
    if value <= 0:
        raise ValueError("every complaint limit must be above 0")
    return value


@dataclass(frozen=True)
class ComplaintSettings:
    """The SLA limits and the public form's guards (LIFTWATCH_COMPLAINT_<NAME>, docs/COMPLAINTS.md)."""

    assign_hours: float = field(
        default=24.0, metadata={"why": "hours from receipt to passing a complaint on (12345's 24 h contact)"}
    )
    answer_hours: float = field(
        default=120.0,
        metadata={"why": "hours from assignment to the unit's answer (12345's 5 working days, as 5 days)"},
    )
    verify_days: float = field(
        default=3.0, metadata={"why": "days from the answer to the centre's or regulator's verification"}
    )
    public_per_address_hour: float = field(
        default=3.0,
        metadata={"why": "complaints one client address may send from the public page in an hour"},
    )
    public_per_elevator_hour: float = field(
        default=10.0, metadata={"why": "public-page complaints about one elevator in an hour (a flood's cap)"}
    )
    public_min_fill_s: float = field(
        default=4.0,
        metadata={"why": "seconds a person needs at least to fill in the public form (bots are faster)"},
    )
    public_form_max_age_h: float = field(
        default=6.0, metadata={"why": "hours a public form stays valid after it was served"}
    )
    public_duplicate_hours: float = field(
        default=24.0,
        metadata={"why": "hours in which the same text about the same elevator is refused as a duplicate"},
    )
    text_min: float = field(default=5.0, metadata={"why": "characters a complaint's text has at least"})
    text_max: float = field(default=1000.0, metadata={"why": "characters a complaint's text has at most"})

    def __post_init__(self) -> None:
        for name in ("assign_hours", "answer_hours", "verify_days", "public_form_max_age_h"):
            _hours(float(getattr(self, name)))
        if self.text_min > self.text_max:
            raise ValueError("text_min must not exceed text_max")


DEFAULT_SETTINGS = ComplaintSettings()


def limit(step: Step, since: datetime, settings: ComplaintSettings = DEFAULT_SETTINGS) -> datetime:
    """When the step's limit passes, counted from ``since`` (receipt, assignment or answer)."""
    if step is Step.ASSIGN:
        return since + timedelta(hours=settings.assign_hours)
    if step is Step.ANSWER:
        return since + timedelta(hours=settings.answer_hours)
    return since + timedelta(days=settings.verify_days)


def is_overdue(state: ComplaintState, due: datetime | None, now: datetime) -> bool:
    """Overdue (超时): still waiting on the current step when its limit has passed."""
    return state in WAITING and due is not None and now >= due


def recipients(step: Step) -> tuple[Recipient, ...]:
    """Who a fired step tells: the regulator always; for a missing answer the responsible unit too."""
    if step is Step.ANSWER:
        return (Recipient.RESPONSIBLE, Recipient.REGULATOR)
    return (Recipient.REGULATOR,)


def counted(state: ComplaintState, verdict: Verdict | None) -> bool:
    """Whether a complaint counts in risk, ratings and the complaint rate: every one except those verified
    unfounded (a closed one keeps its verdict)."""
    return verdict is not Verdict.UNFOUNDED


def rate_per_10k(complaints: int, elevators: int) -> float | None:
    """The complaint rate (投诉率, DOMAIN.md section 6): complaints in a month per 10,000 elevators in
    service; None without elevators."""
    if elevators <= 0:
        return None
    return complaints * 10_000 / elevators
