"""The words of elevators under focused supervision in zh-CN and English: three-no measures and their
statuses, safety-assessment results, the decisions after them and the assessment status. Pure: no
database, no web."""

from __future__ import annotations

from liftwatch.assessment.domain import (
    AssessmentResult,
    Decision,
    DueStatus,
    MeasureKind,
    ThreeNoStatus,
)
from liftwatch.core.i18n import Labels, zh_en

MEASURE_KIND = Labels(
    "measure_kind",
    {
        MeasureKind.INTERIM_MAINTENANCE: zh_en("托管/兜底维保", "Interim maintenance unit assigned"),
        MeasureKind.COMMUNITY_MANAGEMENT: zh_en("街道/社区接管", "Street or community took over"),
        MeasureKind.FUND_ARRANGED: zh_en("资金已落实", "Funds arranged"),
        MeasureKind.SUSPENDED: zh_en("停用", "Suspended"),
        MeasureKind.OTHER: zh_en("其他措施", "Other"),
    },
)

THREE_NO_STATUS = Labels(
    "three_no_status",
    {
        ThreeNoStatus.IDENTIFIED: zh_en("已排查", "Identified"),
        ThreeNoStatus.IN_PROGRESS: zh_en("措施落实中", "Measures in progress"),
        ThreeNoStatus.RESOLVED: zh_en("已解决", "Resolved"),
    },
)

ASSESSMENT_RESULT = Labels(
    "assessment_result",
    {
        AssessmentResult.SAFE: zh_en("可继续使用", "Safe to continue"),
        AssessmentResult.RECTIFY: zh_en("整改后继续使用", "Continue after rectification"),
        AssessmentResult.MAJOR_WORK: zh_en("建议更新改造大修", "Modernisation or major repair recommended"),
    },
)

ASSESSMENT_DECISION = Labels(
    "assessment_decision",
    {
        Decision.NONE: zh_en("暂无决定", "None"),
        Decision.MAJOR_REPAIR: zh_en("大修", "Major repair"),
        Decision.MODERNISATION: zh_en("改造", "Modernisation"),
        Decision.REPLACEMENT: zh_en("更新", "Replacement"),
    },
)

ASSESSMENT_STATUS = Labels(
    "assessment_status",
    {
        DueStatus.NOT_DUE: zh_en("未到评估年限", "Not yet due"),
        DueStatus.ASSESSED: zh_en("已评估", "Assessed"),
        DueStatus.DUE: zh_en("应评估", "Due"),
        DueStatus.OVERDUE: zh_en("逾期未评估", "Overdue"),
        DueStatus.UNKNOWN: zh_en("投用日期不详", "Start date unknown"),
    },
)

#: the kinds of entry the assessments and measures write on the elevator file (一梯一档)
FILE_ENTRY = Labels(
    "assessment_file_entry",
    {
        "safety_assessment": zh_en("安全评估", "Safety assessment"),
        "assessment_decision": zh_en("更新改造大修决定", "Decision after the assessment"),
        "three_no_measure": zh_en("三无电梯措施", "Three-no measure"),
    },
)

TABLES: tuple[Labels, ...] = (
    MEASURE_KIND,
    THREE_NO_STATUS,
    ASSESSMENT_RESULT,
    ASSESSMENT_DECISION,
    ASSESSMENT_STATUS,
)
