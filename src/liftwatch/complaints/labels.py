"""The complaint domain's words in zh-CN and English: channels, categories, states, verdicts, SLA steps, the
trail's entries and the entries complaints write on the elevator file. Tables are prefixed
(``complaint_``). Pure: no database, no web."""

from __future__ import annotations

from liftwatch.complaints.workflow import (
    Action,
    Category,
    Channel,
    ComplaintState,
    Recipient,
    Step,
    Verdict,
)
from liftwatch.core.i18n import Labels, zh_en

COMPLAINT_CHANNEL = Labels(
    "complaint_channel",
    {
        Channel.HOTLINE_12345: zh_en("12345热线", "12345 hotline"),
        Channel.WECHAT: zh_en("微信", "WeChat"),
        Channel.PHONE_96333: zh_en("96333电话", "96333 phone"),
        Channel.PUBLIC_PAGE: zh_en("轿厢扫码", "Public page in the car"),
        Channel.OTHER: zh_en("其他渠道", "Other"),
    },
)

COMPLAINT_CATEGORY = Labels(
    "complaint_category",
    {
        Category.OUT_OF_SERVICE: zh_en("停梯", "Out of service"),
        Category.ENTRAPMENT: zh_en("困人", "Entrapment"),
        Category.NOISE: zh_en("异响抖动", "Noise or shaking"),
        Category.UNSAFE: zh_en("脏乱或不安全", "Dirty or unsafe"),
        Category.MAINTENANCE_NOT_DONE: zh_en("维保不到位", "Maintenance not done"),
        Category.FEES: zh_en("收费问题", "Fees and charges"),
        Category.OTHER: zh_en("其他", "Other"),
    },
)

COMPLAINT_STATE = Labels(
    "complaint_state",
    {
        ComplaintState.RECEIVED: zh_en("已受理", "Received"),
        ComplaintState.ASSIGNED: zh_en("已转办", "Assigned"),
        ComplaintState.ANSWERED: zh_en("已答复待核查", "Answered, awaiting verification"),
        ComplaintState.VERIFIED: zh_en("已核查", "Verified"),
        ComplaintState.CLOSED: zh_en("已办结", "Closed"),
    },
)

COMPLAINT_VERDICT = Labels(
    "complaint_verdict",
    {
        Verdict.FOUNDED: zh_en("属实", "Founded"),
        Verdict.UNFOUNDED: zh_en("不属实", "Unfounded"),
    },
)

COMPLAINT_STEP = Labels(
    "complaint_step",
    {
        Step.ASSIGN: zh_en("超时未转办", "Not assigned in time"),
        Step.ANSWER: zh_en("超时未答复", "Not answered in time"),
        Step.VERIFY: zh_en("超时未核查", "Not verified in time"),
    },
)

COMPLAINT_ACTION = Labels(
    "complaint_action",
    {
        Action.ASSIGN: zh_en("转办", "Assign"),
        Action.ANSWER: zh_en("答复", "Answer"),
        Action.RETURN: zh_en("退回重办", "Return for a new answer"),
        Action.VERIFY: zh_en("核查", "Verify"),
        Action.CLOSE: zh_en("办结", "Close"),
    },
)

COMPLAINT_RECIPIENT = Labels(
    "complaint_recipient",
    {
        Recipient.RESPONSIBLE: zh_en("责任单位", "Responsible unit"),
        Recipient.REGULATOR: zh_en("监管部门", "Regulator"),
    },
)

#: the kinds of entry on a complaint's trail (complaint_events.kind) and of its notices
COMPLAINT_EVENT = Labels(
    "complaint_event",
    {
        "received": zh_en("受理投诉", "Received"),
        "assigned": zh_en("转办责任单位", "Assigned"),
        "answered": zh_en("单位答复", "Answered"),
        "returned": zh_en("退回重新答复", "Returned for a new answer"),
        "verified": zh_en("核查", "Verified"),
        "closed": zh_en("办结", "Closed"),
        "overdue": zh_en("超时", "Overdue"),
        "hazard": zh_en("转为隐患", "Hidden danger opened"),
    },
)

#: the kinds of entry complaints write on the elevator file (一梯一档)
FILE_ENTRY = Labels(
    "complaint_file_entry",
    {
        "complaint_received": zh_en("收到投诉", "Complaint received"),
        "complaint_verified": zh_en("投诉核查", "Complaint verified"),
    },
)

TABLES: tuple[Labels, ...] = (
    COMPLAINT_CHANNEL,
    COMPLAINT_CATEGORY,
    COMPLAINT_STATE,
    COMPLAINT_VERDICT,
    COMPLAINT_STEP,
    COMPLAINT_ACTION,
    COMPLAINT_RECIPIENT,
    COMPLAINT_EVENT,
)
