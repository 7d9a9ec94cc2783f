"""The maintenance domain's words in zh-CN and English: the TSG T5002-2017 appendices, intervals, evidence
and maintenance models; the reasons a plan gives (``plans.Reason`` codes, templates filled with the reason's
parameters by ``reason_text``, so the UI shows "41000 trips ..." in either language from the same data);
the work orders' states, kinds, sources, item results and trail entries; and the fake-maintenance flags'
kinds, review states and evidence (``flag_evidence_items``), the one source of those words for every screen
that shows a flag. Table names are prefixed (``maintenance_``, ``work_order_``) so they never clash with
another domain's. Pure: no database, no web."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from liftwatch.core.i18n import DEFAULT_LANGUAGE, Labels, zh_en
from liftwatch.maintenance.domain import Appendix, Evidence, Interval, MaintenanceModel
from liftwatch.maintenance.fakes import FakeKind
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
        WorkOrderSource.RECALL: zh_en("部件召回", "Part recall"),
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

TABLES: tuple[Labels, ...] = (
    WORK_ORDER_STATE,
    WORK_ORDER_KIND,
    WORK_ORDER_SOURCE,
    ITEM_RESULT,
    WORK_ORDER_EVENT,
)

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
            "维保单位评为{stars}星，须达到{min}星",
            "Maintenance unit rated {stars} of 5 stars, {min} required",
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


# ---------------------------------------------------------------- the planner and the elevator file (H3)

#: A computed due date in words, around the reasons (``plan_summary``).
PLAN_SUMMARY = Labels(
    "maintenance_plan_summary",
    {
        "shortened": zh_en("间隔缩短至{days}天", "interval shortened to {days} days"),
        "unknown": zh_en("{names}暂无数据，未计入", "{names} not known, not counted"),
        "trips": zh_en("运行次数", "trips"),
        "door_cycles": zh_en("开关门次数", "door cycles"),
        "and": zh_en("、", " and "),
        MaintenanceModel.TRADITIONAL: zh_en("传统维保", "Traditional"),
        MaintenanceModel.ON_DEMAND: zh_en("按需维保", "On demand"),
        "separator": zh_en("；", "; "),
        "colon": zh_en("：", ": "),
    },
)

#: The kinds of fake-maintenance flag (``fakes.FakeKind``), as a reviewer reads them.
FLAG_KIND = Labels(
    "maintenance_flag_kind",
    {
        FakeKind.NO_INSPECTION_MODE: zh_en("未进入检修", "Never in inspection mode"),
        FakeKind.NORMAL_SERVICE_DURING_VISIT: zh_en("维保期间正常运行", "Normal service during the visit"),
        FakeKind.TOO_SHORT: zh_en("时长过短", "Too short"),
        FakeKind.FAR_CHECK_IN: zh_en("签到位置偏远", "Checked in far away"),
        FakeKind.TWO_PLACES_AT_ONCE: zh_en("同时出现在两地", "In two places at once"),
        FakeKind.TERMINAL_OFFLINE: zh_en("终端离线时签字", "Terminal offline during the visit"),
    },
)

#: A flag's review state (``maintenance_flags.state``).
FLAG_STATE = Labels(
    "maintenance_flag_state",
    {
        "open": zh_en("待复核", "Open"),
        "confirmed": zh_en("已确认假维保", "Confirmed"),
        "dismissed": zh_en("已排除", "Dismissed"),
    },
)

#: A flag's evidence, key by key (the keys ``fakes.py`` writes): what each number is. A key named
#: ``kind.key`` says it for that kind alone (a share of what). The one table of evidence words: the elevator
#: file's line and the regulator's card both read it (``flag_evidence_items``).
FLAG_EVIDENCE = Labels(
    "maintenance_flag_evidence",
    {
        "minutes": zh_en("维保时长", "Visit length"),
        "expected_min": zh_en("所签项目至少需", "The items signed need at least"),
        "items": zh_en("保养项目", "Items signed"),
        "photos": zh_en("照片", "Photos"),
        "measurements": zh_en("测量项目", "Measurements"),
        "inspection_minutes": zh_en("检修模式", "In inspection mode"),
        "online_minutes": zh_en("终端在线", "Terminal online"),
        "normal_minutes": zh_en("正常运行", "In normal service"),
        "judged_minutes": zh_en("判定时段", "Time judged"),
        "share": zh_en("占比", "Share"),
        f"{FakeKind.NORMAL_SERVICE_DURING_VISIT}.share": zh_en(
            "正常运行占判定时段", "Normal service, of the time judged"
        ),
        f"{FakeKind.TERMINAL_OFFLINE}.share": zh_en("离线占维保时长", "Offline, of the visit"),
        "runs": zh_en("运行", "Trips"),
        "metres": zh_en("签到距电梯", "Check-in from the elevator"),
        "limit_m": zh_en("允许距离", "Distance allowed"),
        "accuracy_m": zh_en("定位精度", "Position accuracy"),
        "check_out_metres": zh_en("签退距电梯", "Check-out from the elevator"),
        "other_visit": zh_en("另一维保记录", "Other visit record"),
        "other_elevator": zh_en("另一电梯", "Other elevator"),
        "km": zh_en("两地相距", "Distance between the sites"),
        "gap_minutes": zh_en("两次作业间隔", "Time between the visits"),
        "travel_minutes": zh_en("路程至少需", "The trip takes at least"),
        "offline_minutes": zh_en("终端离线", "Terminal offline"),
        "offline_before_check_in_min": zh_en("签到前已离线", "Offline before check-in"),
    },
)

#: Each evidence key's unit (``FLAG_EVIDENCE_UNIT``); a key not here (an id, a code) shows its value alone.
EVIDENCE_UNITS = {
    "minutes": "min",
    "expected_min": "min",
    "items": "items",
    "photos": "photos",
    "measurements": "items",
    "inspection_minutes": "min",
    "online_minutes": "min",
    "normal_minutes": "min",
    "judged_minutes": "min",
    "share": "pct",
    "runs": "times",
    "metres": "m",
    "limit_m": "m",
    "accuracy_m": "m",
    "check_out_metres": "m",
    "km": "km",
    "gap_minutes": "min",
    "travel_minutes": "min",
    "offline_minutes": "min",
    "offline_before_check_in_min": "min",
}

#: A value with its unit, ``{v}`` the number. A count needs a measure word in Chinese only: the English
#: name of its key says what is counted ("Photos: 2"), so no English plural is ever needed.
FLAG_EVIDENCE_UNIT = Labels(
    "maintenance_flag_evidence_unit",
    {
        "min": zh_en("{v} 分钟", "{v} min"),
        "m": zh_en("{v} 米", "{v} m"),
        "km": zh_en("{v} 公里", "{v} km"),
        "pct": zh_en("{v}%", "{v}%"),
        "items": zh_en("{v} 项", "{v}"),
        "photos": zh_en("{v} 张", "{v}"),
        "times": zh_en("{v} 次", "{v}"),
    },
)

#: The reliability figures (``reliability.py``) and why one is missing.
RELIABILITY = Labels(
    "maintenance_reliability",
    {
        "mtbf": zh_en("平均故障间隔时间（MTBF）", "Mean time between failures (MTBF)"),
        "mttr": zh_en("平均修复时间（MTTR）", "Mean time to repair (MTTR)"),
        "no_failures": zh_en("期内无故障", "No failure in the period"),
        "no_repairs": zh_en("期内无已签字维修", "No signed repair in the period"),
        "no_terminal": zh_en("无物联网终端，无法统计", "No IoT terminal: not measured"),
        "not_in_service": zh_en("未在用，不统计", "Not in use: not measured"),
        "none_measured": zh_en(
            "没有可统计的电梯（须在用并装有物联网终端）", "No elevator measured (in use with an IoT terminal)"
        ),
    },
)

TABLES += (PLAN_SUMMARY, FLAG_KIND, FLAG_STATE, FLAG_EVIDENCE, FLAG_EVIDENCE_UNIT, RELIABILITY)


def plan_summary(
    model: str,
    reasons: Sequence[Reason],
    interval_days: int | None,
    unknown: Sequence[str] = (),
    lang: str = DEFAULT_LANGUAGE,
) -> str:
    """A computed due date in one line: the model, each reason in words, the interval carried, e.g.
    "按需维保：上次维保以来困人1次，每次提前45天；间隔缩短至45天". An on-demand interval under the longest one
    says it was shortened; a traditional one is its reason alone ("传统维保：上次维保后15天内")."""
    parts = [reason_text(r, lang) for r in reasons]
    longest = any(r.code == "max_interval" for r in reasons)  # says its own days
    if interval_days is not None and model == MaintenanceModel.ON_DEMAND and not longest:
        parts.append(PLAN_SUMMARY.get("shortened", lang).format(days=interval_days))
    if unknown:
        names = PLAN_SUMMARY.get("and", lang).join(PLAN_SUMMARY.get(u, lang) for u in unknown)
        parts.append(PLAN_SUMMARY.get("unknown", lang).format(names=names))
    sep = PLAN_SUMMARY.get("separator", lang)
    if model != MaintenanceModel.ON_DEMAND:  # the traditional reason names its model itself
        return sep.join(parts)
    return PLAN_SUMMARY.get(model, lang) + PLAN_SUMMARY.get("colon", lang) + sep.join(parts)


def _number(value: object) -> str:
    """A stored number as people write it: 42.0 -> "42", 8.449 -> "8.45"."""
    if isinstance(value, float):
        value = round(value, 2)
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def flag_evidence_items(
    kind: str, evidence: Mapping[str, object], lang: str = DEFAULT_LANGUAGE
) -> list[tuple[str, str]]:
    """A flag's evidence as (what, value with its unit) pairs in the order the detector wrote them:
    ("维保时长", "2 分钟"), ("离线占维保时长", "97%"). A key with no label (written by a newer detector) is
    left out rather than shown raw."""
    out = []
    for key, value in evidence.items():
        entry = FLAG_EVIDENCE.entries.get(f"{kind}.{key}") or FLAG_EVIDENCE.entries.get(key)
        if entry is None:
            continue
        unit = EVIDENCE_UNITS.get(key)
        if unit == "pct" and isinstance(value, int | float):
            value = round(value * 100)
        text = _number(value)
        if unit:
            text = FLAG_EVIDENCE_UNIT.get(unit, lang).format(v=text)
        out.append((entry.get(lang) or entry[DEFAULT_LANGUAGE], text))
    return out


def flag_evidence_text(kind: str, evidence: Mapping[str, object], lang: str = DEFAULT_LANGUAGE) -> str:
    """A flag's evidence on one line, e.g. "维保时长：2 分钟；所签项目至少需：8.4 分钟；...". Evidence with
    nothing known in it (an older record) shows the kind's name rather than nothing."""
    colon, sep = PLAN_SUMMARY.get("colon", lang), PLAN_SUMMARY.get("separator", lang)
    items = flag_evidence_items(kind, evidence, lang)
    return sep.join(name + colon + value for name, value in items) or FLAG_KIND.get(kind, lang)
