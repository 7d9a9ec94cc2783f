"""The rescue domain's words in zh-CN and English: incident statuses, the three response levels (三级响应),
sources, entrapment causes, the stages of an incident, the kinds of entry on its audit trail, and the
names of the rescue KPIs (DOMAIN.md §6).

Pure: no database, no web.
"""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.rescue.domain import Cause, IncidentStatus, Level, Source

INCIDENT_STATUS = Labels(
    "incident_status",
    {
        IncidentStatus.RAISED: zh_en("已报警", "Raised"),
        IncidentStatus.DISPATCHED: zh_en("已派单", "Dispatched"),
        IncidentStatus.ACKNOWLEDGED: zh_en("已响应", "Acknowledged"),
        IncidentStatus.ARRIVED: zh_en("已到场", "Arrived"),
        IncidentStatus.RELEASED: zh_en("已解救", "Released"),
        IncidentStatus.COMPLETED: zh_en("已结案", "Completed"),
        IncidentStatus.FALSE_ALARM: zh_en("误报", "False alarm"),
        IncidentStatus.SELF_RELEASED: zh_en("自行脱困", "Got out unaided"),
        IncidentStatus.CANCELLED: zh_en("报警已取消", "Call cancelled"),
    },
)

LEVEL = Labels(
    "level",
    {
        Level.L1: zh_en("一级：维保单位", "L1: maintenance unit"),
        Level.L2: zh_en("二级：救援站", "L2: rescue station"),
        Level.L3: zh_en("三级：消防/公安", "L3: fire / police"),
    },
)

SOURCE = Labels(
    "source",
    {
        Source.PHONE: zh_en("96333来电", "96333 call"),
        Source.IOT: zh_en("物联网监测", "IoT terminal"),
        Source.ALARM_BUTTON: zh_en("轿厢报警按钮", "Alarm button"),
        Source.PUBLIC: zh_en("公众报告", "Public report"),
        Source.TRANSFER: zh_en("110/119/12345转来", "Transferred (110/119/12345)"),
    },
)

CAUSE = Labels(
    "cause",
    {
        Cause.MISUSE: zh_en("使用不当", "Misuse"),
        Cause.ELECTRO_MECHANICAL: zh_en("机电故障", "Electro-mechanical"),
        Cause.POWER_CUT: zh_en("停电", "Power cut"),
        Cause.OTHER: zh_en("其他", "Other"),
    },
)

#: The stages an incident passes (the console's progress columns).
STAGE = Labels(
    "stage",
    {
        "alarm": zh_en("报警", "Alarm"),
        "dispatched": zh_en("派单", "Dispatched"),
        "acknowledged": zh_en("响应", "Acknowledged"),
        "arrived": zh_en("到场", "Arrived"),
        "released": zh_en("解救", "Released"),
        "completed": zh_en("结案", "Completed"),
    },
)

#: Entries on an incident's audit trail; the elevator file shows them as ``incident_<kind>``.
INCIDENT_EVENT = Labels(
    "incident_event",
    {
        "raised": zh_en("困人报警", "Rescue alarm"),
        "joined": zh_en("报警并案", "Report joined the incident"),
        "dispatched": zh_en("派单", "Dispatched"),
        "escalated": zh_en("升级响应", "Escalated"),
        "acknowledged": zh_en("救援响应", "Acknowledged"),
        "arrived": zh_en("到达现场", "Arrived"),
        "released": zh_en("解救完成", "Persons released"),
        "completed": zh_en("救援结案", "Rescue completed"),
        "false_alarm": zh_en("误报", "False alarm"),
        "called_back": zh_en("回访", "Called back"),
        "notice_failed": zh_en("通知发送失败", "Notice not delivered"),
        "withdrawn": zh_en("撤回派单", "Dispatch withdrawn"),
        "no_crew_in_time": zh_en("无救援力量可按时到达", "No crew can arrive in time"),
        "fire_called": zh_en("已拨打119", "119 called"),
        "fire_arrived": zh_en("消防到场", "Fire service arrived"),
        "fire_released": zh_en("消防解救完成", "Released by the fire service"),
        "self_released": zh_en("自行脱困", "Got out unaided"),
        "cancelled": zh_en("报警取消", "Call cancelled"),
    },
)

#: Why a dispatch was withdrawn when the system, not a person, withdrew it.
WITHDRAW_REASON = Labels(
    "withdraw_reason",
    {
        "escalated": zh_en("升级后撤回", "Withdrawn on escalation"),
        "replanned": zh_en("批量调度重新安排", "Re-planned (surge)"),
        "self_released": zh_en("被困人员已自行脱困", "Passengers got out unaided"),
        "cancelled": zh_en("报警已取消", "Call cancelled"),
        "false_alarm": zh_en("误报", "False alarm"),
        "closed": zh_en("事件已结案", "Incident closed"),
    },
)

#: The rescue KPIs beside their targets (docs/KPIS.md).
KPI = Labels(
    "kpi",
    {
        "response_rate": zh_en("应急响应率", "Response rate"),
        "average_arrival": zh_en("平均到场时间", "Average arrival"),
        "on_time_arrival": zh_en("按时到达率", "On-time arrival"),
        "rescue_success": zh_en("救援成功率", "Rescue success"),
        "callback_rate": zh_en("回访率", "Call-back rate"),
        "cause_reported": zh_en("原因上报率", "Cause reported"),
    },
)

#: Every table of this domain, for the web to assemble.
TABLES: tuple[Labels, ...] = (
    INCIDENT_STATUS,
    LEVEL,
    SOURCE,
    CAUSE,
    STAGE,
    INCIDENT_EVENT,
    WITHDRAW_REASON,
    KPI,
)
