"""The rules of applications (办件), pure: their kinds, the departments that review each, the stages an
application goes through, the owners' consent an addition needs, and when a review is due. No SQL, no HTTP.

Stages: submitted (受理) -> every department's review (审查, each with its deadline) -> approved or rejected
-> for works (an addition, a modernisation): construction (施工) -> acceptance (验收) -> completed, which
for an addition is its use registration (使用登记) in the registry. A kind without works completes when
approved; its effect on the registry is applied then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Kind(StrEnum):
    CONSTRUCTION_NOTICE = "construction_notice"  # 施工告知 (before installation or modernisation)
    USE_REGISTRATION = "use_registration"  # 使用登记
    REGISTRATION_CHANGE = "registration_change"  # 变更登记 (another use unit)
    REGISTRATION_CANCEL = "registration_cancel"  # 注销登记 (scrapped)
    INSPECTION_REQUEST = "inspection_request"  # 检验申请
    MODERNISATION = "modernisation"  # 更新改造大修项目
    ADDITION = "addition"  # 既有多层住宅加装电梯


class Department(StrEnum):
    """The departments one window routes to; the window's clerk (a regulator) records each one's answer."""

    PLANNING = "planning"  # 规划和自然资源
    HOUSING = "housing"  # 住房和城乡建设
    MARKET_SUPERVISION = "market_supervision"  # 市场监督管理 (特种设备)


class Stage(StrEnum):
    IN_REVIEW = "in_review"
    REJECTED = "rejected"
    APPROVED = "approved"  # works may start
    CONSTRUCTION = "construction"
    ACCEPTANCE = "acceptance"  # works done; the acceptance inspection passed, awaiting registration
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class FundingSource(StrEnum):
    """Who pays for works: the owners, the special repair fund (专项维修资金), a government subsidy."""

    OWNERS = "owners"
    REPAIR_FUND = "repair_fund"
    SUBSIDY = "subsidy"


#: the departments that review each kind, in the order they are listed
REVIEWERS: dict[Kind, tuple[Department, ...]] = {
    Kind.ADDITION: (Department.PLANNING, Department.HOUSING, Department.MARKET_SUPERVISION),
    Kind.MODERNISATION: (Department.HOUSING, Department.MARKET_SUPERVISION),
    Kind.CONSTRUCTION_NOTICE: (Department.MARKET_SUPERVISION,),
    Kind.USE_REGISTRATION: (Department.MARKET_SUPERVISION,),
    Kind.REGISTRATION_CHANGE: (Department.MARKET_SUPERVISION,),
    Kind.REGISTRATION_CANCEL: (Department.MARKET_SUPERVISION,),
    Kind.INSPECTION_REQUEST: (Department.MARKET_SUPERVISION,),
}
#: kinds whose approval starts works (construction, then acceptance)
WORKS = frozenset({Kind.ADDITION, Kind.MODERNISATION})
#: kinds about an elevator already registered (the application names it)
ON_ELEVATOR = frozenset(
    {
        Kind.CONSTRUCTION_NOTICE,
        Kind.REGISTRATION_CHANGE,
        Kind.REGISTRATION_CANCEL,
        Kind.INSPECTION_REQUEST,
        Kind.MODERNISATION,
    }
)


@dataclass(frozen=True)
class Consent:
    """The owners of a building (或单元) asked about an addition: households and floor area, in total and
    consenting."""

    households: int
    households_consenting: int
    area_m2: float
    area_consenting_m2: float


def consent_problem(consent: Consent, share: float) -> str | None:
    """Why the consent is not enough (None: it is). Shanghai's rule: owners holding ``share`` (2/3) of the
    floor area and ``share`` of the owners by number agree; both are checked."""
    if consent.households <= 0 or consent.area_m2 <= 0:
        return "the building's households and floor area must be positive"
    if consent.households_consenting > consent.households or consent.area_consenting_m2 > consent.area_m2:
        return "more consenting than there are"
    by_number = consent.households_consenting / consent.households
    by_area = consent.area_consenting_m2 / consent.area_m2
    if by_number + 1e-9 < share or by_area + 1e-9 < share:
        return (
            f"consent {by_number:.1%} of the owners and {by_area:.1%} of the floor area; "
            f"the rule needs {share:.1%} of each"
        )
    return None


def review_due(submitted_at: datetime, days: int) -> datetime:
    """When a department's review is due: ``days`` after the application was submitted (calendar days,
    a setting per city)."""
    return submitted_at + timedelta(days=days)


def stage_after_reviews(decisions: list[Decision | None], kind: Kind) -> Stage:
    """Where the application stands from its reviews: rejected on any rejection, in review while one is
    open, otherwise approved (works kinds) or completed."""
    if any(d is Decision.REJECTED for d in decisions):
        return Stage.REJECTED
    if any(d is None for d in decisions):
        return Stage.IN_REVIEW
    return Stage.APPROVED if kind in WORKS else Stage.COMPLETED
