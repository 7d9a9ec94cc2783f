"""The insurance domain's words in zh-CN and English: a policy's status and the terms of the insurer's
screens. Table names are prefixed (``insurance_``) so they never clash with another domain's. Pure."""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.insurance.domain import PolicyStatus

POLICY_STATUS = Labels(
    "insurance_policy_status",
    {
        PolicyStatus.UPCOMING: zh_en("未生效", "Not yet in force"),
        PolicyStatus.VALID: zh_en("有效", "Valid"),
        PolicyStatus.EXPIRED: zh_en("已到期", "Expired"),
        PolicyStatus.CANCELLED: zh_en("已退保", "Cancelled"),
    },
)

#: The terms of the insurance screens and exports (电梯安全责任保险).
TERM = Labels(
    "insurance_term",
    {
        "policy": zh_en("电梯安全责任保险保单", "Elevator liability policy"),
        "policy_number": zh_en("保单号", "Policy number"),
        "insurer": zh_en("保险机构", "Insurer"),
        "insured": zh_en("被保险人（使用单位）", "Insured (use unit)"),
        "period_of_cover": zh_en("保险期间", "Period of cover"),
        "limit_per_person": zh_en("每人赔偿限额", "Limit per person"),
        "limit_per_accident": zh_en("每次事故赔偿限额", "Limit per accident"),
        "premium": zh_en("基础保费", "Base premium"),
        "premium_factor": zh_en("保费浮动系数", "Premium factor"),
        "adjusted_premium": zh_en("浮动后保费", "Adjusted premium"),
        "coverage": zh_en("公众聚集场所电梯责任保险覆盖率", "Liability insurance coverage, public places"),
    },
)

#: Every table of this domain, for the web to assemble.
TABLES: tuple[Labels, ...] = (POLICY_STATUS, TERM)
