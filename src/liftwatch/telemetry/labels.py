"""The telemetry domain's words in zh-CN and English: fault types (DOMAIN.md §3; codes 01-11 and 61-65 of
the regulator's fault table), severities, and the GB/T 24476 service modes a terminal reports.

Pure: no database, no web.
"""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.telemetry.faults import FaultType, Severity

FAULT_TYPE = Labels(
    "fault_type",
    {
        FaultType.SAFETY_CIRCUIT: zh_en("运行中安全回路断路", "Safety circuit open while running"),
        FaultType.DOOR_CLOSE_FAILURE: zh_en("关门故障", "Door close failure"),
        FaultType.DOOR_OPEN_FAILURE: zh_en("开门故障", "Door open failure"),
        FaultType.STOPPED_OUTSIDE_DOOR_ZONE: zh_en("门区外停梯", "Stopped outside the door zone"),
        FaultType.UNINTENDED_MOVEMENT: zh_en("轿厢意外移动", "Unintended car movement"),
        FaultType.MOTOR_RUNTIME_LIMITER: zh_en("电动机运转时间限制器动作", "Motor run-time limiter tripped"),
        FaultType.FLOOR_POSITION_LOST: zh_en("楼层位置丢失", "Floor position lost"),
        FaultType.RESTART_PREVENTED: zh_en("防止电梯再运行", "Restart prevented"),
        FaultType.OVERRUN_TOP: zh_en("冲顶", "Overrun at the top"),
        FaultType.OVERRUN_BOTTOM: zh_en("蹲底", "Overrun at the bottom"),
        FaultType.ENTRAPMENT: zh_en("困人", "Entrapment"),
        FaultType.OVERSPEED: zh_en("超速", "Overspeed"),
        FaultType.POWER_CUT: zh_en("停电", "Power cut"),
        FaultType.ALARM_BUTTON: zh_en("用户报警", "Alarm button"),
        FaultType.TERMINAL_OFFLINE: zh_en("终端长时间离线", "Terminal offline"),
        FaultType.CLOCK_SKEW: zh_en("终端时钟偏差", "Terminal clock skew"),
        FaultType.ESC_SAFETY_CIRCUIT: zh_en("扶梯安全回路断路", "Escalator safety circuit open"),
        FaultType.ESC_OVERSPEED: zh_en("扶梯超速", "Escalator overspeed"),
        FaultType.ESC_UNINTENDED_REVERSAL: zh_en("扶梯非操纵逆转", "Escalator unintended reversal"),
        FaultType.ESC_MISSING_STEP: zh_en("扶梯梯级缺失", "Escalator missing step"),
        FaultType.ESC_RESTART_PREVENTED: zh_en("扶梯防止再启动", "Escalator restart prevented"),
    },
)

SEVERITY = Labels(
    "severity",
    {
        Severity.CRITICAL: zh_en("紧急", "Critical"),
        Severity.MAJOR: zh_en("严重", "Major"),
        Severity.MINOR: zh_en("一般", "Minor"),
        Severity.INFO: zh_en("提示", "Info"),
    },
)

#: GB/T 24476 service mode (0-7), by its number as text (``label('service_mode', live.mode)``).
SERVICE_MODE = Labels(
    "service_mode",
    {
        "0": zh_en("停止服务", "Out of service"),
        "1": zh_en("正常运行", "Normal"),
        "2": zh_en("检修", "Inspection / maintenance"),
        "3": zh_en("消防返回", "Fire return"),
        "4": zh_en("消防员运行", "Firefighter"),
        "5": zh_en("应急电源运行", "Emergency power"),
        "6": zh_en("地震运行", "Earthquake"),
        "7": zh_en("未知", "Unknown"),
    },
)

#: Every table of this domain, for the web to assemble.
TABLES: tuple[Labels, ...] = (FAULT_TYPE, SEVERITY, SERVICE_MODE)
