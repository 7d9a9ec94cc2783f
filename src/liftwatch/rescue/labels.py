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
        "redispatched": zh_en("人工派单", "Dispatched by hand"),
    },
)

#: Why an incident was escalated (the trail's ``reason`` of an ``escalated`` entry).
ESCALATION_REASON = Labels(
    "escalation_reason",
    {
        "no_acknowledgement": zh_en("超时未响应", "Not acknowledged in time"),
        "late_arrival": zh_en("未按时到场", "Not arrived in time"),
        "not_arrived": zh_en("超过时限仍未到场", "Still not arrived after the grace period"),
        "predicted_late": zh_en("预计无法按时到场", "Predicted to arrive late"),
        "operator": zh_en("接警员人工升级", "Escalated by the operator"),
    },
)

#: Who acted when it was not a person: the rescue code's own actors on the trail and on dispatches.
RESCUE_ACTOR = Labels(
    "rescue_actor",
    {
        "system": zh_en("系统", "System"),
        "scheduler": zh_en("时限监控", "Deadline watch"),
        "surge": zh_en("批量调度", "Surge plan"),
        "outbox": zh_en("通知服务", "Notice service"),
    },
)

#: The notices the outbox sends (a ``notice_failed`` entry names one).
NOTICE = Labels(
    "notice",
    {
        "raised": zh_en("报警通知", "Alarm notice"),
        "dispatched": zh_en("派单通知", "Dispatch notice"),
        "no_crew": zh_en("无可用班组通知", "No crew available notice"),
        "escalated": zh_en("升级通知", "Escalation notice"),
        "no_crew_in_time": zh_en("无法按时到场通知", "Cannot arrive in time notice"),
        "withdrawn": zh_en("撤回派单通知", "Withdrawal notice"),
    },
)

#: The facts an entry on an incident's trail records (its ``details``), as the incident page names them.
TRAIL_FIELD = Labels(
    "trail_field",
    {
        "source": zh_en("来源", "Source"),
        "caller": zh_en("报警人", "Caller"),
        "phone": zh_en("回拨电话", "Call-back number"),
        "note": zh_en("说明", "Note"),
        "persons": zh_en("被困人数", "Persons trapped"),
        "fault_id": zh_en("故障编号", "Fault"),
        "level": zh_en("响应级别", "Level"),
        "to": zh_en("升至", "To"),
        "unit": zh_en("单位", "Unit"),
        "crew": zh_en("班组", "Crew"),
        "eta_s": zh_en("预计路程", "Predicted travel"),
        "reason": zh_en("原因", "Reason"),
        "dispatch": zh_en("派单", "Dispatch"),
        "withdrawn": zh_en("同时撤回", "Also withdrawn"),
        "all_released": zh_en("全部解救", "Everyone released"),
        "cause": zh_en("故障原因", "Cause"),
        "reference": zh_en("消防接警编号", "Fire service reference"),
        "out_at": zh_en("脱困时间", "Out at"),
        "predicted_arrival": zh_en("预计到场", "Predicted arrival"),
        "deadline": zh_en("到场时限", "Arrival deadline"),
        "surge": zh_en("批量调度", "Surge plan"),
        "planned_start": zh_en("计划出发", "Planned start"),
        "planned_arrival": zh_en("计划到场", "Planned arrival"),
        "notice": zh_en("通知", "Notice"),
        "attempts": zh_en("失败次数", "Failed attempts"),
        "error": zh_en("错误", "Error"),
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
    ESCALATION_REASON,
    RESCUE_ACTOR,
    NOTICE,
    TRAIL_FIELD,
    KPI,
)
