"""Cost disclosure's words in zh-CN and English: the entry kinds, what the advertising income went to and the
figures of a publication. Table names are prefixed (``cost_``) so they never clash with another domain's.
Pure: no database, no web."""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.costs.domain import AdvertisingUse, EntryKind

COST_KIND = Labels(
    "cost_kind",
    {
        EntryKind.MAINTENANCE_FEE: zh_en("维保费", "Maintenance fee"),
        EntryKind.REPAIR: zh_en("维修及配件费", "Repairs and parts"),
        EntryKind.ADVERTISING_INCOME: zh_en("轿厢广告收益", "Advertising income (car)"),
        EntryKind.OTHER_INCOME: zh_en("其他收入", "Other income"),
        EntryKind.OTHER_EXPENSE: zh_en("其他支出", "Other expense"),
    },
)

COST_ADVERTISING_USE = Labels(
    "cost_advertising_use",
    {
        AdvertisingUse.REPAIR_FUND: zh_en("补充专项维修资金", "Added to the repair fund"),
        AdvertisingUse.ELEVATOR_COSTS: zh_en("用于电梯维保维修", "Spent on elevator maintenance and repairs"),
        AdvertisingUse.COMMON_EXPENSES: zh_en("用于小区公共支出", "Spent on the estate's common expenses"),
        AdvertisingUse.OWNERS: zh_en("按业主大会决定使用", "Used as the owners' assembly decided"),
        AdvertisingUse.NONE: zh_en("本期无广告收益", "No advertising income this half-year"),
    },
)

#: the figures of a half-year's summary and publication (API field names)
COST_FIGURE = Labels(
    "cost_figure",
    {
        "income_fen": zh_en("收入合计", "Income"),
        "expense_fen": zh_en("支出合计", "Expenses"),
        "balance_fen": zh_en("结余", "Balance"),
        "advertising_fen": zh_en("轿厢广告收益", "Advertising income"),
        "other_cost_fen": zh_en("其他支出及公共部分", "Other and shared costs"),
        "fee_fen": zh_en("维保费", "Maintenance fees"),
        "repair_fen": zh_en("维修及配件费", "Repairs and parts"),
        "maintenance_fen": zh_en("维保维修费用合计", "Maintenance cost"),
        "advertising_use": zh_en("广告收益用途", "Use of the advertising income"),
    },
)

TABLES: tuple[Labels, ...] = (COST_KIND, COST_ADVERTISING_USE, COST_FIGURE)
