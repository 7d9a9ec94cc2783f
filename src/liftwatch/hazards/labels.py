"""The hazard domain's words in zh-CN and English: sources, levels, states, escalation steps, the trail's
entries and the entries hazards write on the elevator file. Table names are prefixed (``hazard_``) so they
never clash with another domain's. Pure: no database, no web."""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.hazards.fund import Applicant, FundAction, FundState
from liftwatch.hazards.workflow import HazardLevel, HazardSource, HazardState, Step

HAZARD_SOURCE = Labels(
    "hazard_source",
    {
        HazardSource.INSPECTION: zh_en("检验发现", "Inspection"),
        HazardSource.MAINTENANCE: zh_en("维保发现", "Maintenance"),
        HazardSource.COMPLAINT: zh_en("投诉举报", "Complaint"),
        HazardSource.MONITORING: zh_en("远程监测", "Remote monitoring"),
        HazardSource.SPOT_CHECK: zh_en("监督抽查", "Spot check"),
    },
)

HAZARD_LEVEL = Labels(
    "hazard_level",
    {
        HazardLevel.GENERAL: zh_en("一般隐患", "General"),
        HazardLevel.MAJOR: zh_en("重大隐患", "Major"),
    },
)

HAZARD_STATE = Labels(
    "hazard_state",
    {
        HazardState.REPORTED: zh_en("已上报", "Reported"),
        HazardState.RECTIFYING: zh_en("整改中", "Rectifying"),
        HazardState.RECTIFIED: zh_en("已整改待核查", "Rectified, awaiting verification"),
        HazardState.VERIFIED: zh_en("已核查销号", "Verified"),
        HazardState.CLOSED: zh_en("已关闭", "Closed"),
    },
)

HAZARD_STEP = Labels(
    "hazard_step",
    {
        Step.OVERDUE: zh_en("逾期未整改", "Overdue"),
        Step.ESCALATION: zh_en("逾期上报监管部门", "Escalated to the regulator"),
    },
)

#: the kinds of entry on a hazard's trail (hazard_events.kind) and of its notices
HAZARD_EVENT = Labels(
    "hazard_event",
    {
        "reported": zh_en("上报隐患", "Reported"),
        "started": zh_en("开始整改", "Rectification started"),
        "deadline_set": zh_en("设定整改期限", "Deadline set"),
        "rectified": zh_en("提交整改材料", "Evidence of the fix submitted"),
        "verified": zh_en("核查通过", "Verified"),
        "rejected": zh_en("核查不通过", "Fix rejected"),
        "closed": zh_en("关闭", "Closed"),
        "work_order": zh_en("生成维修工单", "Work order opened"),
        "overdue": zh_en("逾期未整改", "Overdue"),
        "escalated": zh_en("逾期上报监管部门", "Escalated to the regulator"),
        "supervised": zh_en("挂牌督办", "Supervised rectification"),
        "fund_requested": zh_en("申请维修资金紧急使用", "Repair fund requested"),
        "fund_approved": zh_en("维修资金使用已批准", "Repair fund approved"),
        "fund_refused": zh_en("维修资金使用未批准", "Repair fund refused"),
        "fund_paid": zh_en("维修资金支付", "Repair fund disbursed"),
        "fund_completed": zh_en("维修资金使用完成", "Repair fund use completed"),
    },
)

#: the kinds of entry hazards write on the elevator file (一梯一档)
FILE_ENTRY = Labels(
    "hazard_file_entry",
    {
        "hazard_reported": zh_en("发现隐患", "Hazard reported"),
        "hazard_rectified": zh_en("隐患已整改", "Hazard rectified"),
        "hazard_verified": zh_en("隐患核查销号", "Hazard verified"),
        "hazard_closed": zh_en("隐患关闭", "Hazard closed"),
        "hazard_overdue": zh_en("隐患逾期未整改", "Hazard overdue"),
        "hazard_supervised": zh_en("隐患挂牌督办", "Hazard under supervised rectification"),
    },
)

#: the emergency use of the repair fund (维修资金紧急使用, fund.py)
FUND_STATE = Labels(
    "fund_state",
    {
        FundState.REQUESTED: zh_en("已申请", "Requested"),
        FundState.APPROVED: zh_en("已批准", "Approved"),
        FundState.REFUSED: zh_en("未批准", "Refused"),
        FundState.COMPLETED: zh_en("已完成", "Completed"),
    },
)

FUND_ACTION = Labels(
    "fund_action",
    {
        FundAction.REQUEST: zh_en("申请使用", "Request"),
        FundAction.APPROVE: zh_en("批准", "Approve"),
        FundAction.REFUSE: zh_en("不予批准", "Refuse"),
        FundAction.DISBURSE: zh_en("登记支付", "Record a disbursement"),
        FundAction.COMPLETE: zh_en("使用完成", "Complete"),
    },
)

FUND_APPLICANT = Labels(
    "fund_applicant",
    {
        Applicant.USE_UNIT: zh_en("使用单位", "Use unit"),
        Applicant.OWNERS_COMMITTEE: zh_en(
            "业主委员会（经使用单位）", "Owners' committee (through the use unit)"
        ),
    },
)

TABLES: tuple[Labels, ...] = (
    HAZARD_SOURCE,
    HAZARD_LEVEL,
    HAZARD_STATE,
    HAZARD_STEP,
    HAZARD_EVENT,
    FUND_STATE,
    FUND_ACTION,
    FUND_APPLICANT,
)
