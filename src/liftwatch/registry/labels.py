"""The registry's words in zh-CN and English: unit types, elevator kinds, place types, statuses, the
kinds of entry on the elevator file (一梯一档), and the names of the fields of an elevator and of a unit.

Pure: no database, no web. The web pages and the Excel import/export (``registry/io.py``) read these
same tables, so the screen and the ledger never disagree. Where spellings differed, the choice follows
the glossary (docs DOMAIN.md) and the words agencies put in their ledgers; ``io.py`` still accepts the
other spellings on import.
"""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.registry.domain import ElevatorKind, ElevatorStatus, EventKind, PlaceType, UnitType

UNIT_TYPE = Labels(
    "unit_type",
    {
        UnitType.USE_UNIT: zh_en("使用单位", "Use unit"),
        UnitType.MAINTENANCE: zh_en("维保单位", "Maintenance unit"),
        UnitType.MANUFACTURER: zh_en("制造单位", "Manufacturer"),
        UnitType.INSTALLER: zh_en("安装单位", "Installer"),
        UnitType.INSPECTION_BODY: zh_en("检验机构", "Inspection body"),
        UnitType.INSURER: zh_en("保险机构", "Insurer"),
        UnitType.RESCUE_STATION: zh_en("救援站", "Rescue station"),
    },
)

ELEVATOR_KIND = Labels(
    "kind",
    {
        ElevatorKind.TRACTION: zh_en("曳引与强制驱动电梯", "Traction elevator"),
        ElevatorKind.HYDRAULIC: zh_en("液压驱动电梯", "Hydraulic elevator"),
        ElevatorKind.DUMBWAITER: zh_en("杂物电梯", "Dumbwaiter"),
        ElevatorKind.ESCALATOR: zh_en("自动扶梯", "Escalator"),
        ElevatorKind.MOVING_WALK: zh_en("自动人行道", "Moving walk"),
    },
)

PLACE_TYPE = Labels(
    "place_type",
    {
        PlaceType.RESIDENTIAL: zh_en("住宅", "Residential"),
        PlaceType.OFFICE: zh_en("办公楼", "Office"),
        PlaceType.MALL: zh_en("商场", "Shopping mall"),
        PlaceType.HOSPITAL: zh_en("医院", "Hospital"),
        PlaceType.SCHOOL: zh_en("学校", "School"),
        PlaceType.METRO: zh_en("轨道交通", "Metro"),
        PlaceType.HOTEL: zh_en("宾馆酒店", "Hotel"),
        PlaceType.PUBLIC_BUILDING: zh_en("公共建筑", "Public building"),
        PlaceType.OTHER: zh_en("其他", "Other"),
    },
)

ELEVATOR_STATUS = Labels(
    "status",
    {
        ElevatorStatus.IN_USE: zh_en("在用", "In use"),
        ElevatorStatus.SUSPENDED: zh_en("停用", "Suspended"),
        ElevatorStatus.SCRAPPED: zh_en("报废", "Scrapped"),
    },
)

#: Entries on the elevator file written by the registry itself (rescue adds its own incident entries).
EVENT_KIND = Labels(
    "event",
    {
        EventKind.REGISTRATION: zh_en("使用登记", "Registration"),
        EventKind.ACCEPTANCE: zh_en("验收", "Acceptance"),
        EventKind.USE_UNIT_CHANGE: zh_en("使用单位变更", "Use unit changed"),
        EventKind.MAINTENANCE_UNIT_CHANGE: zh_en("维保单位变更", "Maintenance unit changed"),
        EventKind.MODERNISATION: zh_en("改造", "Modernisation"),
        EventKind.MAJOR_REPAIR: zh_en("重大修理", "Major repair"),
        EventKind.SUSPENSION: zh_en("停用", "Suspension"),
        EventKind.RESTART: zh_en("重新启用", "Restart"),
        EventKind.SCRAPPING: zh_en("报废", "Scrapping"),
        EventKind.RECORD_UPDATE: zh_en("档案更新", "Record updated"),
        EventKind.RESCUE_CODE_CHANGE: zh_en("救援码变更", "Rescue code changed"),
        EventKind.FAULT: zh_en("故障", "Fault"),
        EventKind.FAULT_CLEARED: zh_en("故障解除", "Fault cleared"),
    },
)

#: The fields of an elevator (the column headers of the ledger) and the registry's elevator terms.
ELEVATOR_FIELD = Labels(
    "elevator",
    {
        "registration_code": zh_en("使用登记证编号", "Registration code"),
        "equipment_code": zh_en("设备代码", "Equipment code"),
        "rescue_code": zh_en("救援识别码", "Rescue code"),
        "kind": zh_en("设备类别", "Kind"),
        "manufacturer": zh_en("制造单位", "Manufacturer"),
        "model": zh_en("型号", "Model"),
        "serial_number": zh_en("出厂编号", "Serial number"),
        "iot_terminal_id": zh_en("物联网终端", "IoT terminal"),
        "rated_load_kg": zh_en("额定载重量（kg）", "Rated load (kg)"),
        "rated_speed_mps": zh_en("额定速度（m/s）", "Rated speed (m/s)"),
        "stops": zh_en("层站", "Stops"),
        "floors": zh_en("层数", "Floors"),
        "installation_date": zh_en("安装日期", "Installed"),
        "commissioning_date": zh_en("投用日期", "Commissioned"),
        "design_life_years": zh_en("设计使用年限（年）", "Design life (years)"),
        "design_life_cycles": zh_en("设计使用次数", "Design life (cycles)"),
        "age": zh_en("梯龄", "Age"),
        "district": zh_en("区", "District"),
        "street": zh_en("街道", "Street"),
        "address": zh_en("地址", "Address"),
        "building": zh_en("楼栋", "Building"),
        "place_type": zh_en("场所类型", "Place type"),
        "coordinates": zh_en("坐标", "Coordinates"),
        "latitude": zh_en("纬度", "Latitude"),
        "longitude": zh_en("经度", "Longitude"),
        "use_unit": zh_en("使用单位", "Use unit"),
        "maintenance_unit": zh_en("维保单位", "Maintenance unit"),
        "use_unit_name": zh_en("使用单位名称", "Use unit name"),
        "maintenance_unit_name": zh_en("维保单位名称", "Maintenance unit name"),
        "status": zh_en("状态", "Status"),
        "no_property_management": zh_en("无物业管理", "No property management"),
        "no_maintenance_contract": zh_en("无维保合同", "No maintenance contract"),
        "no_repair_fund": zh_en("无维修资金", "No repair fund"),
        "mobile_signal": zh_en("轿厢移动信号", "In-car mobile signal"),
        "three_no": zh_en("三无电梯", "Three-no elevator"),
        "location": zh_en("位置", "Location"),
    },
)

#: The fields of a unit (the column headers of its sheet).
UNIT_FIELD = Labels(
    "unit",
    {
        "code": zh_en("统一社会信用代码", "Code"),
        "name": zh_en("单位名称", "Name"),
        "unit_type": zh_en("单位类型", "Unit type"),
        "licence_no": zh_en("许可证编号", "Licence number"),
        "contact_name": zh_en("联系人", "Contact"),
        "contact_phone": zh_en("联系电话", "Phone"),
        "address": zh_en("地址", "Address"),
        "district": zh_en("区", "District"),
        "latitude": zh_en("纬度", "Latitude"),
        "longitude": zh_en("经度", "Longitude"),
        "elevator_count": zh_en("电梯数量", "Elevators"),
    },
)

#: Every table of this domain, for the web to assemble.
TABLES: tuple[Labels, ...] = (
    UNIT_TYPE,
    ELEVATOR_KIND,
    PLACE_TYPE,
    ELEVATOR_STATUS,
    EVENT_KIND,
    ELEVATOR_FIELD,
    UNIT_FIELD,
)
