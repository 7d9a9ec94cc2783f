"""The words of main parts and recalls in zh-CN and English: part kinds, wear, recall progress and the
entries parts write on the elevator file. Table names are prefixed (``part_``, ``recall_``). Pure."""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.parts.domain import Counter, PartKind, Wear

PART_KIND = Labels(
    "part_kind",
    {
        PartKind.TRACTION_MACHINE: zh_en("曳引机/驱动主机", "Traction machine / drive"),
        PartKind.CONTROLLER: zh_en("控制柜", "Controller"),
        PartKind.SAFETY_GEAR: zh_en("安全钳", "Safety gear"),
        PartKind.OVERSPEED_GOVERNOR: zh_en("限速器", "Overspeed governor"),
        PartKind.DOOR_SYSTEM: zh_en("门系统", "Door system"),
        PartKind.ROPES: zh_en("曳引钢丝绳", "Suspension ropes"),
        PartKind.BRAKE: zh_en("制动器", "Brake"),
        PartKind.STEPS: zh_en("梯级", "Steps"),
        PartKind.STEP_CHAIN: zh_en("梯级链", "Step chain"),
    },
)

PART_WEAR = Labels(
    "part_wear",
    {
        Wear.OK: zh_en("正常", "Within design life"),
        Wear.NEAR: zh_en("临近设计使用年限", "Near end of design life"),
        Wear.PAST: zh_en("超过设计使用年限", "Past design life"),
        Wear.UNKNOWN: zh_en("无法判断", "Cannot tell"),
    },
)

#: which terminal counter counts a part's cycles
PART_COUNTER = Labels(
    "part_counter",
    {
        Counter.TRIPS: zh_en("运行次数", "Trips"),
        Counter.DOOR_CYCLES: zh_en("开关门次数", "Door cycles"),
    },
)

#: where a recalled elevator stands (parts.service.ItemStatus)
RECALL_ITEM = Labels(
    "recall_item",
    {
        "open": zh_en("整改中", "Being rectified"),
        "overdue": zh_en("逾期未整改", "Overdue"),
        "done": zh_en("已整改", "Rectified"),
        "cancelled": zh_en("工单已取消", "Work order cancelled"),
        "no_order": zh_en("未能派单", "No work order"),
    },
)

#: The parts entries on the elevator file (``registry.SystemEntry`` kinds the service writes).
FILE_ENTRY = Labels(
    "part_file_entry",
    {
        "part_installed": zh_en("登记主要部件", "Main part recorded"),
        "part_replaced": zh_en("更换主要部件", "Main part replaced"),
        "recall_found": zh_en("部件召回", "Part recalled"),
    },
)

#: the fields of a part as recorded (the forms and the API's field names)
PART_FIELD = Labels(
    "part_field",
    {
        "kind": zh_en("部件类型", "Part"),
        "manufacturer": zh_en("制造单位", "Manufacturer"),
        "model": zh_en("型号", "Model"),
        "serial": zh_en("出厂编号", "Serial number"),
        "installed_on": zh_en("安装日期", "Installed on"),
        "design_life_years": zh_en("设计使用年限（年）", "Design life (years)"),
        "design_life_cycles": zh_en("设计寿命（次）", "Design life (cycles)"),
        "counter_at_install": zh_en("安装时终端计数", "Terminal counter when installed"),
        "note": zh_en("备注", "Note"),
        "reason": zh_en("更换原因", "Why it was replaced"),
    },
)

#: the fields of a recall as issued
RECALL_FIELD = Labels(
    "recall_field",
    {
        "reference": zh_en("召回编号", "Recall number"),
        "kind": zh_en("部件类型", "Part"),
        "manufacturer": zh_en("制造单位", "Manufacturer"),
        "model": zh_en("型号", "Model"),
        "serial_first": zh_en("起始出厂编号", "First serial"),
        "serial_last": zh_en("截止出厂编号", "Last serial"),
        "reason": zh_en("召回原因", "Reason"),
        "remedy": zh_en("整改措施", "Remedy"),
        "due_on": zh_en("整改期限", "Rectify by"),
    },
)

TABLES: tuple[Labels, ...] = (PART_KIND, PART_WEAR, PART_COUNTER, RECALL_ITEM, PART_FIELD, RECALL_FIELD)
