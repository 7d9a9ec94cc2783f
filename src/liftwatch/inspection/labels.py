"""The inspection domain's words in zh-CN and English: inspection kinds, conclusions, the severity of a
non-conformity and the schedules. Table names are prefixed (``inspection_``). Pure: no database, no web."""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.inspection.domain import Conclusion, InspectionKind, Schedule, Severity

INSPECTION_KIND = Labels(
    "inspection_kind",
    {
        InspectionKind.PERIODIC: zh_en("定期检验", "Periodic inspection"),
        InspectionKind.SELF_TEST: zh_en("自行检测", "Self-test"),
        InspectionKind.RE_INSPECTION: zh_en("复检", "Re-inspection"),
    },
)

INSPECTION_CONCLUSION = Labels(
    "inspection_conclusion",
    {
        Conclusion.PASS: zh_en("合格", "Pass"),
        Conclusion.PASS_AFTER_RECTIFICATION: zh_en("整改后合格", "Pass after rectification"),
        Conclusion.FAIL: zh_en("不合格", "Fail"),
    },
)

INSPECTION_SEVERITY = Labels(
    "inspection_severity",
    {
        Severity.MINOR: zh_en("一般问题", "Minor"),
        Severity.MAJOR: zh_en("严重问题", "Major"),
    },
)

INSPECTION_SCHEDULE = Labels(
    "inspection_schedule",
    {
        Schedule.YEARLY: zh_en("每年定期检验", "Yearly"),
        Schedule.REFORM: zh_en("按梯龄（改革试点）", "By age (reform pilot)"),
    },
)

#: the kinds of entry inspection writes on the elevator file (一梯一档)
FILE_ENTRY = Labels(
    "inspection_file_entry",
    {
        "inspection_signed": zh_en("检验报告签发", "Inspection report signed"),
        "inspection_self_test": zh_en("自行检测记录", "Self-test recorded"),
    },
)

TABLES = (INSPECTION_KIND, INSPECTION_CONCLUSION, INSPECTION_SEVERITY, INSPECTION_SCHEDULE)
