"""The maintenance domain's words in zh-CN and English: the TSG T5002-2017 appendices, intervals, evidence
and maintenance models; the reasons a plan gives (``plans.Reason`` codes, templates filled with the reason's
parameters by ``reason_text``, so the UI shows "41000 trips ..." in either language from the same data);
and the work orders' states, kinds, sources, item results and trail entries. Table names are prefixed
(``maintenance_``, ``work_order_``) so they never clash with another domain's. Pure: no database, no web."""

from __future__ import annotations

from liftwatch.core.i18n import DEFAULT_LANGUAGE, Labels, zh_en
from liftwatch.maintenance.domain import Appendix, Evidence, Interval, MaintenanceModel
from liftwatch.maintenance.plans import Reason
from liftwatch.maintenance.workflow import ItemResult, WorkOrderKind, WorkOrderSource, WorkOrderState

WORK_ORDER_STATE = Labels(
    "work_order_state",
    {
        WorkOrderState.OPEN: zh_en("待派工", "Open"),
        WorkOrderState.ASSIGNED: zh_en("已派工", "Assigned"),
        WorkOrderState.IN_PROGRESS: zh_en("作业中", "In progress"),
        WorkOrderState.COMPLETED: zh_en("已完成", "Completed"),
        WorkOrderState.CONFIRMED: zh_en("使用单位已确认", "Signed off"),
        WorkOrderState.CANCELLED: zh_en("已取消", "Cancelled"),
    },
)

WORK_ORDER_KIND = Labels(
    "work_order_kind",
    {
        WorkOrderKind.PREVENTIVE: zh_en("维保", "Preventive"),
        WorkOrderKind.CORRECTIVE: zh_en("维修", "Corrective"),
    },
)

WORK_ORDER_SOURCE = Labels(
    "work_order_source",
    {
        WorkOrderSource.PLAN: zh_en("维保计划", "Maintenance plan"),
        WorkOrderSource.FAULT: zh_en("物联网故障", "IoT fault"),
        WorkOrderSource.RESCUE: zh_en("应急救援", "Rescue"),
        WorkOrderSource.INSPECTION: zh_en("检验问题", "Inspection finding"),
        WorkOrderSource.COMPLAINT: zh_en("投诉", "Complaint"),
        WorkOrderSource.HAZARD: zh_en("隐患", "Hazard"),
        WorkOrderSource.MANUAL: zh_en("手工报修", "Reported by hand"),
    },
)

ITEM_RESULT = Labels(
    "item_result",
    {
        ItemResult.OK: zh_en("正常", "OK"),
        ItemResult.FIXED: zh_en("已调整", "Adjusted / fixed"),
        ItemResult.NOT_OK: zh_en("异常", "Not OK"),
        ItemResult.NOT_APPLICABLE: zh_en("无此项", "Not applicable"),
    },
)

WORK_ORDER_EVENT = Labels(
    "work_order_event",
    {
        "opened": zh_en("开单", "Opened"),
        "assigned": zh_en("派工", "Assigned"),
        "checked_in": zh_en("到场签到", "Checked in"),
        "results": zh_en("记录保养项目", "Items recorded"),
        "checked_out": zh_en("离场签退", "Checked out"),
        "signed": zh_en("维保人员签字", "Signed by the worker"),
        "confirmed": zh_en("使用单位签字确认", "Signed off by the use unit"),
        "cancelled": zh_en("取消", "Cancelled"),
        "amended": zh_en("更正记录", "Amended"),
        "photo": zh_en("上传照片", "Photo added"),
        "overdue": zh_en("超期", "Overdue"),
        "escalated": zh_en("超期上报监管", "Escalated to the regulator"),
    },
)

TABLES = (WORK_ORDER_STATE, WORK_ORDER_KIND, WORK_ORDER_SOURCE, ITEM_RESULT, WORK_ORDER_EVENT)

APPENDIX = Labels(
    "maintenance_appendix",
    {
        Appendix.A: zh_en("附件A 曳引与强制驱动电梯", "Appendix A: traction and positive drive lifts"),
        Appendix.B: zh_en("附件B 液压驱动电梯", "Appendix B: hydraulic lifts"),
        Appendix.C: zh_en("附件C 杂物电梯", "Appendix C: dumbwaiters"),
        Appendix.D: zh_en("附件D 自动扶梯与自动人行道", "Appendix D: escalators and moving walks"),
    },
)

INTERVAL = Labels(
    "maintenance_interval",
    {
        Interval.HALF_MONTH: zh_en("半月", "Half-month"),
        Interval.QUARTER: zh_en("季度", "Quarter"),
        Interval.HALF_YEAR: zh_en("半年", "Half-year"),
        Interval.YEAR: zh_en("年度", "Year"),
    },
)

EVIDENCE = Labels(
    "maintenance_evidence",
    {
        Evidence.NONE: zh_en("无需记录", "None"),
        Evidence.MEASUREMENT: zh_en("测量值", "Measurement"),
        Evidence.PHOTO: zh_en("照片", "Photo"),
    },
)

MAINTENANCE_MODEL = Labels(
    "maintenance_model",
    {
        MaintenanceModel.TRADITIONAL: zh_en("传统维保（每15日）", "Traditional (every 15 days)"),
        MaintenanceModel.ON_DEMAND: zh_en("按需维保", "On-demand maintenance"),
    },
)

#: reason code -> text templates; the placeholders are the reason's parameters
PLAN_REASON = Labels(
    "maintenance_plan_reason",
    {
        "qualified": zh_en("符合按需维保条件", "Qualifies for on-demand maintenance"),
        "unit_rated_low": zh_en(
            "维保单位评级为{rating}（须为A或B）", "Maintenance unit rated {rating} (A or B required)"
        ),
        "iot_missing": zh_en("未安装物联网监测装置", "No IoT terminal fitted"),
        "iot_offline": zh_en("物联网监测装置离线", "IoT terminal offline"),
        "out_of_service": zh_en("电梯停用", "Elevator out of service"),
        "inspection_expired": zh_en("定期检验已于{valid_until}过期", "Inspection expired on {valid_until}"),
        "not_insured": zh_en("未投保电梯安全责任保险", "No liability insurance"),
        "max_interval": zh_en(
            "运行平稳、状态良好：最长间隔{days}天", "Quiet and healthy: the longest interval, {days} days"
        ),
        "min_interval": zh_en("间隔不少于{days}天", "Never less than {days} days"),
        "trips_high": zh_en(
            "运行{trips}次（每天约{per_day}次），{days}天达到{limit}次上限",
            "{trips} trips (about {per_day} a day) reach the limit of {limit} after {days} days",
        ),
        "door_cycles_high": zh_en(
            "开关门{door_cycles}次（每天约{per_day}次），{days}天达到{limit}次上限",
            "{door_cycles} door cycles (about {per_day} a day) reach the limit of {limit} after {days} days",
        ),
        "faults": zh_en(
            "上次维保以来故障{faults}次，每次提前{step_days}天",
            "{faults} fault(s) since the last visit, each {step_days} days sooner",
        ),
        "entrapments": zh_en(
            "上次维保以来困人{entrapments}次，每次提前{step_days}天",
            "{entrapments} entrapment(s) since the last visit, each {step_days} days sooner",
        ),
        "growth_capped": zh_en(
            "间隔最多为上次（{previous_days}天）的{factor}倍",
            "At most {factor} times the last interval ({previous_days} days)",
        ),
        "calendar_items": zh_en("{interval}项目于{due}到期", "{interval} items fall due on {due}"),
        "traditional": zh_en(
            "传统维保：上次维保后{days}天内", "Traditional: within {days} days of the last visit"
        ),
    },
)


def reason_text(reason: Reason, lang: str = DEFAULT_LANGUAGE) -> str:
    """A reason in words: its template in ``lang`` filled with its parameters (an interval parameter is
    shown by its own label). An unknown code shows as itself, like any label."""
    template = PLAN_REASON.get(reason.code, lang)
    values: dict[str, object] = dict(reason.params)
    if "interval" in values:
        values["interval"] = INTERVAL.get(str(values["interval"]), lang)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


# ---------------------------------------------------------------- the elevator file (web pages, W1)

#: The maintenance entries on the elevator file (``registry.SystemEntry`` kinds the service writes).
FILE_ENTRY = Labels(
    "maintenance_file_entry",
    {
        "maintenance_contract": zh_en("签订维保合同", "Maintenance contract filed"),
        "maintenance_contract_ended": zh_en("维保合同终止", "Maintenance contract ended"),
        "work_order_opened": zh_en("维保工单开单", "Work order opened"),
        "work_order_completed": zh_en("维保工单完成", "Work order completed"),
        "work_order_amended": zh_en("维保记录更正", "Maintenance record amended"),
        "work_order_overdue": zh_en("维保工单超期", "Work order overdue"),
        "maintenance_flag_reviewed": zh_en("疑似假维保已复核", "Suspected fake maintenance reviewed"),
    },
)
