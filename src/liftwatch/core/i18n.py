"""User-interface text in zh-CN and English: one catalogue, key -> {language: text}.

Every label a page shows lives here, including the labels of the stored enum values (elevator kind, place
type, status, life-event kind, unit type, role), so a test can prove that both languages are complete.
Enum labels use the key ``<prefix>.<value>``; see :data:`ENUM_PREFIXES`.
"""

from __future__ import annotations

from enum import StrEnum

from liftwatch.accounts.models import Role
from liftwatch.core.config import LANGUAGES
from liftwatch.registry.models import ElevatorKind, ElevatorStatus, EventKind, PlaceType, UnitType
from liftwatch.telemetry.faults import FaultType, Severity

DEFAULT_LANGUAGE = "zh-CN"

# Prefix of the catalogue key for each enum whose values are shown on pages.
ENUM_PREFIXES: dict[str, type[StrEnum]] = {
    "kind": ElevatorKind,
    "place_type": PlaceType,
    "status": ElevatorStatus,
    "event": EventKind,
    "unit_type": UnitType,
    "role": Role,
    "fault_type": FaultType,
    "severity": Severity,
}

CATALOGUE: dict[str, dict[str, str]] = {
    # ---- application shell
    "app.name": {"zh-CN": "智慧电梯监管平台", "en": "Smart Elevator Platform"},
    "app.tagline": {"zh-CN": "电梯安全与96333应急救援", "en": "Elevator safety and 96333 emergency rescue"},
    "nav.elevators": {"zh-CN": "电梯查询", "en": "Elevators"},
    "nav.units": {"zh-CN": "单位", "en": "Units"},
    "nav.language": {"zh-CN": "语言", "en": "Language"},
    "nav.signed_in_as": {"zh-CN": "当前用户", "en": "Signed in as"},
    "nav.logout": {"zh-CN": "退出", "en": "Sign out"},
    "nav.login": {"zh-CN": "登录", "en": "Sign in"},
    "nav.main": {"zh-CN": "主导航", "en": "Main navigation"},
    "nav.skip": {"zh-CN": "跳到正文", "en": "Skip to content"},
    "lang.zh-CN": {"zh-CN": "中文", "en": "中文"},
    "lang.en": {"zh-CN": "English", "en": "English"},
    # ---- login
    "login.title": {"zh-CN": "登录", "en": "Sign in"},
    "login.intro": {
        "zh-CN": "请使用您的平台账号登录。",
        "en": "Sign in with your platform account.",
    },
    "login.username": {"zh-CN": "用户名", "en": "Username"},
    "login.password": {"zh-CN": "密码", "en": "Password"},
    "login.submit": {"zh-CN": "登录", "en": "Sign in"},
    "login.error": {"zh-CN": "用户名或密码错误。", "en": "Wrong username or password."},
    "login.required": {"zh-CN": "请先登录。", "en": "Please sign in first."},
    # ---- common
    "common.search": {"zh-CN": "查询", "en": "Search"},
    "common.reset": {"zh-CN": "重置", "en": "Reset"},
    "common.any": {"zh-CN": "全部", "en": "Any"},
    "common.yes": {"zh-CN": "是", "en": "Yes"},
    "common.no": {"zh-CN": "否", "en": "No"},
    "common.none": {"zh-CN": "无", "en": "None"},
    "common.unknown": {"zh-CN": "未知", "en": "Unknown"},
    "common.total": {"zh-CN": "共 {n} 条", "en": "{n} in total"},
    "common.page": {"zh-CN": "第 {page} / {pages} 页", "en": "Page {page} of {pages}"},
    "common.previous": {"zh-CN": "上一页", "en": "Previous"},
    "common.next": {"zh-CN": "下一页", "en": "Next"},
    "common.pagination": {"zh-CN": "分页", "en": "Pagination"},
    "common.no_results": {"zh-CN": "没有符合条件的记录。", "en": "No matching records."},
    "common.years": {"zh-CN": "{n} 年", "en": "{n} years"},
    "common.back_to_search": {"zh-CN": "返回查询", "en": "Back to search"},
    "common.loading": {"zh-CN": "加载中…", "en": "Loading…"},
    # ---- elevator search
    "search.title": {"zh-CN": "电梯查询", "en": "Elevator search"},
    "search.filters": {"zh-CN": "筛选条件", "en": "Filters"},
    "search.q": {"zh-CN": "关键字", "en": "Text"},
    "search.q_placeholder": {
        "zh-CN": "登记证编号、识别码、设备代码、地址",
        "en": "Registration code, rescue code, equipment code, address",
    },
    "search.district": {"zh-CN": "区", "en": "District"},
    "search.street": {"zh-CN": "街道", "en": "Street"},
    "search.unit": {"zh-CN": "单位代码", "en": "Unit code"},
    "search.unit_hint": {"zh-CN": "使用单位或维保单位", "en": "Use unit or maintenance unit"},
    "search.place_type": {"zh-CN": "场所类型", "en": "Place type"},
    "search.kind": {"zh-CN": "设备类别", "en": "Kind"},
    "search.status": {"zh-CN": "状态", "en": "Status"},
    "search.age": {"zh-CN": "梯龄（年）", "en": "Age (years)"},
    "search.age_min": {"zh-CN": "梯龄下限", "en": "Minimum age"},
    "search.age_max": {"zh-CN": "梯龄上限", "en": "Maximum age"},
    "search.three_no": {"zh-CN": "三无电梯", "en": "Three-no elevator"},
    "search.results": {"zh-CN": "查询结果", "en": "Results"},
    "search.invalid_number": {"zh-CN": "请输入 0 至 200 之间的数字", "en": "Enter a number from 0 to 200"},
    "search.invalid_choice": {"zh-CN": "无效的选项", "en": "Not a valid choice"},
    # ---- elevator fields
    "elevator.registration_code": {"zh-CN": "使用登记证编号", "en": "Registration code"},
    "elevator.equipment_code": {"zh-CN": "设备代码", "en": "Equipment code"},
    "elevator.rescue_code": {"zh-CN": "96333识别码", "en": "Rescue code"},
    "elevator.kind": {"zh-CN": "设备类别", "en": "Kind"},
    "elevator.manufacturer": {"zh-CN": "制造单位", "en": "Manufacturer"},
    "elevator.model": {"zh-CN": "型号", "en": "Model"},
    "elevator.serial_number": {"zh-CN": "出厂编号", "en": "Serial number"},
    "elevator.iot_terminal_id": {"zh-CN": "物联网终端", "en": "IoT terminal"},
    "elevator.rated_load_kg": {"zh-CN": "额定载重量（kg）", "en": "Rated load (kg)"},
    "elevator.rated_speed_mps": {"zh-CN": "额定速度（m/s）", "en": "Rated speed (m/s)"},
    "elevator.stops": {"zh-CN": "站数", "en": "Stops"},
    "elevator.floors": {"zh-CN": "层数", "en": "Floors"},
    "elevator.installation_date": {"zh-CN": "安装日期", "en": "Installed"},
    "elevator.commissioning_date": {"zh-CN": "投用日期", "en": "Commissioned"},
    "elevator.design_life_years": {"zh-CN": "设计使用年限（年）", "en": "Design life (years)"},
    "elevator.design_life_cycles": {"zh-CN": "设计使用次数", "en": "Design life (cycles)"},
    "elevator.age": {"zh-CN": "梯龄", "en": "Age"},
    "elevator.district": {"zh-CN": "区", "en": "District"},
    "elevator.street": {"zh-CN": "街道", "en": "Street"},
    "elevator.address": {"zh-CN": "地址", "en": "Address"},
    "elevator.building": {"zh-CN": "楼栋", "en": "Building"},
    "elevator.place_type": {"zh-CN": "场所类型", "en": "Place type"},
    "elevator.coordinates": {"zh-CN": "坐标", "en": "Coordinates"},
    "elevator.latitude": {"zh-CN": "纬度", "en": "Latitude"},
    "elevator.longitude": {"zh-CN": "经度", "en": "Longitude"},
    "elevator.use_unit": {"zh-CN": "使用单位", "en": "Use unit"},
    "elevator.maintenance_unit": {"zh-CN": "维保单位", "en": "Maintenance unit"},
    "elevator.status": {"zh-CN": "状态", "en": "Status"},
    "elevator.no_property_management": {"zh-CN": "无物业管理", "en": "No property management"},
    "elevator.no_maintenance_contract": {"zh-CN": "无维保合同", "en": "No maintenance contract"},
    "elevator.no_repair_fund": {"zh-CN": "无维修资金", "en": "No repair fund"},
    "elevator.three_no": {"zh-CN": "三无电梯", "en": "Three-no elevator"},
    "elevator.location": {"zh-CN": "位置", "en": "Location"},
    # ---- elevator file (一梯一档)
    "file.title": {"zh-CN": "电梯档案", "en": "Elevator file"},
    "file.identity": {"zh-CN": "身份信息", "en": "Identity"},
    "file.technical": {"zh-CN": "技术参数", "en": "Technical data"},
    "file.place": {"zh-CN": "安装位置", "en": "Place"},
    "file.units": {"zh-CN": "相关单位", "en": "Units"},
    "file.three_no": {"zh-CN": "三无情况", "en": "Three-no flags"},
    "file.timeline": {"zh-CN": "履历（最新在前）", "en": "Timeline (newest first)"},
    "file.timeline_empty": {"zh-CN": "暂无履历记录。", "en": "No entries yet."},
    "file.public_page": {"zh-CN": "公众查询页", "en": "Public page"},
    "file.contact": {"zh-CN": "联系人", "en": "Contact"},
    "file.phone": {"zh-CN": "电话", "en": "Phone"},
    "file.recorded_by": {"zh-CN": "记录人", "en": "Recorded by"},
    "file.occurred_at": {"zh-CN": "发生时间", "en": "When"},
    "file.event_kind": {"zh-CN": "事项", "en": "Event"},
    "file.summary": {"zh-CN": "摘要", "en": "Summary"},
    # ---- units
    "units.title": {"zh-CN": "单位", "en": "Units"},
    "units.q": {"zh-CN": "名称或代码", "en": "Name or code"},
    "units.unit_type": {"zh-CN": "单位类型", "en": "Unit type"},
    "unit.code": {"zh-CN": "统一社会信用代码", "en": "Code"},
    "unit.name": {"zh-CN": "名称", "en": "Name"},
    "unit.unit_type": {"zh-CN": "单位类型", "en": "Unit type"},
    "unit.licence_no": {"zh-CN": "许可证编号", "en": "Licence number"},
    "unit.contact_name": {"zh-CN": "联系人", "en": "Contact"},
    "unit.contact_phone": {"zh-CN": "联系电话", "en": "Phone"},
    "unit.address": {"zh-CN": "地址", "en": "Address"},
    "unit.district": {"zh-CN": "区", "en": "District"},
    "unit.elevator_count": {"zh-CN": "电梯数量", "en": "Elevators"},
    "unit.show_elevators": {"zh-CN": "查看该单位的电梯", "en": "Show this unit's elevators"},
    # ---- public page (scan in the car)
    "public.title": {"zh-CN": "电梯安全信息", "en": "Elevator safety information"},
    "public.trapped": {"zh-CN": "被困请拨打", "en": "If trapped, call"},
    "public.trapped_hint": {
        "zh-CN": "保持冷静，不要扒门，请报出下方识别码。",
        "en": "Stay calm, do not force the doors, and give the rescue code below.",
    },
    "public.maintenance_phone": {"zh-CN": "维保单位电话", "en": "Maintenance unit phone"},
    "public.not_in_use": {
        "zh-CN": "本电梯当前未处于使用状态，请勿乘坐。",
        "en": "This elevator is not in service; please do not ride it.",
    },
    # ---- errors
    "error.title": {"zh-CN": "出错了", "en": "Something went wrong"},
    "error.400": {"zh-CN": "请求无效", "en": "Bad request"},
    "error.401": {"zh-CN": "需要登录", "en": "Sign-in required"},
    "error.403": {"zh-CN": "无权访问", "en": "Access denied"},
    "error.404": {"zh-CN": "未找到", "en": "Not found"},
    "error.405": {"zh-CN": "不支持的请求方法", "en": "Method not allowed"},
    "error.409": {"zh-CN": "状态冲突", "en": "Conflict"},
    "error.422": {"zh-CN": "输入有误", "en": "Invalid input"},
    "error.404_hint": {
        "zh-CN": "该记录不存在，或不在您的权限范围内。",
        "en": "The record does not exist or is outside your scope.",
    },
    "error.403_hint": {
        "zh-CN": "您的角色无权执行此操作。",
        "en": "Your role may not do this.",
    },
    "error.home": {"zh-CN": "返回首页", "en": "Back to the start page"},
    # ---- enum values: elevator kind
    "kind.traction": {"zh-CN": "曳引与强制驱动电梯", "en": "Traction elevator"},
    "kind.hydraulic": {"zh-CN": "液压驱动电梯", "en": "Hydraulic elevator"},
    "kind.dumbwaiter": {"zh-CN": "杂物电梯", "en": "Dumbwaiter"},
    "kind.escalator": {"zh-CN": "自动扶梯", "en": "Escalator"},
    "kind.moving_walk": {"zh-CN": "自动人行道", "en": "Moving walk"},
    # place type
    "place_type.residential": {"zh-CN": "住宅", "en": "Residential"},
    "place_type.office": {"zh-CN": "办公楼", "en": "Office"},
    "place_type.mall": {"zh-CN": "商场", "en": "Shopping mall"},
    "place_type.hospital": {"zh-CN": "医院", "en": "Hospital"},
    "place_type.school": {"zh-CN": "学校", "en": "School"},
    "place_type.metro": {"zh-CN": "轨道交通", "en": "Metro"},
    "place_type.hotel": {"zh-CN": "宾馆酒店", "en": "Hotel"},
    "place_type.public_building": {"zh-CN": "公共建筑", "en": "Public building"},
    "place_type.other": {"zh-CN": "其他", "en": "Other"},
    # status
    "status.in_use": {"zh-CN": "在用", "en": "In use"},
    "status.suspended": {"zh-CN": "停用", "en": "Suspended"},
    "status.scrapped": {"zh-CN": "报废", "en": "Scrapped"},
    # life events on the elevator file
    "event.registration": {"zh-CN": "使用登记", "en": "Registration"},
    "event.acceptance": {"zh-CN": "验收", "en": "Acceptance"},
    "event.use_unit_change": {"zh-CN": "使用单位变更", "en": "Use unit changed"},
    "event.maintenance_unit_change": {"zh-CN": "维保单位变更", "en": "Maintenance unit changed"},
    "event.modernisation": {"zh-CN": "改造", "en": "Modernisation"},
    "event.major_repair": {"zh-CN": "重大修理", "en": "Major repair"},
    "event.suspension": {"zh-CN": "停用", "en": "Suspension"},
    "event.restart": {"zh-CN": "重新启用", "en": "Restart"},
    "event.scrapping": {"zh-CN": "报废", "en": "Scrapping"},
    "event.record_update": {"zh-CN": "档案更新", "en": "Record updated"},
    "event.fault": {"zh-CN": "故障", "en": "Fault"},
    "event.incident_raised": {"zh-CN": "困人报警", "en": "Rescue alarm"},
    "event.incident_joined": {"zh-CN": "报警并案", "en": "Report joined the incident"},
    "event.incident_dispatched": {"zh-CN": "派单", "en": "Dispatched"},
    "event.incident_escalated": {"zh-CN": "升级响应", "en": "Escalated"},
    "event.incident_acknowledged": {"zh-CN": "救援响应", "en": "Acknowledged"},
    "event.incident_arrived": {"zh-CN": "到达现场", "en": "Arrived"},
    "event.incident_released": {"zh-CN": "解救完成", "en": "Persons released"},
    "event.incident_completed": {"zh-CN": "救援结案", "en": "Rescue completed"},
    "event.incident_false_alarm": {"zh-CN": "误报", "en": "False alarm"},
    "event.fault_cleared": {"zh-CN": "故障解除", "en": "Fault cleared"},
    # unit type
    "unit_type.use_unit": {"zh-CN": "使用单位", "en": "Use unit"},
    "unit_type.maintenance": {"zh-CN": "维保单位", "en": "Maintenance unit"},
    "unit_type.manufacturer": {"zh-CN": "制造单位", "en": "Manufacturer"},
    "unit_type.installer": {"zh-CN": "安装单位", "en": "Installer"},
    "unit_type.inspection_body": {"zh-CN": "检验机构", "en": "Inspection body"},
    "unit_type.insurer": {"zh-CN": "保险机构", "en": "Insurer"},
    "unit_type.rescue_station": {"zh-CN": "救援站", "en": "Rescue station"},
    # role
    "role.admin": {"zh-CN": "系统管理员", "en": "Administrator"},
    "role.regulator": {"zh-CN": "市场监管", "en": "Regulator"},
    "role.rescue_operator": {"zh-CN": "96333坐席", "en": "96333 operator"},
    "role.maintenance": {"zh-CN": "维保单位", "en": "Maintenance staff"},
    "role.use_unit": {"zh-CN": "使用单位", "en": "Use unit staff"},
    "role.inspector": {"zh-CN": "检验机构", "en": "Inspector"},
    "role.public": {"zh-CN": "公众", "en": "Public"},
    "role.gateway": {"zh-CN": "物联网网关", "en": "IoT gateway"},
    # ---- remote monitoring (实时监测)
    "nav.monitor": {"zh-CN": "实时监测", "en": "Live monitoring"},
    "monitor.title": {"zh-CN": "实时监测", "en": "Live monitoring"},
    "monitor.overview": {"zh-CN": "运行概况", "en": "Overview"},
    "monitor.elevators": {"zh-CN": "电梯总数", "en": "Elevators"},
    "monitor.reporting": {"zh-CN": "已接入", "en": "Reporting"},
    "monitor.online": {"zh-CN": "在线", "en": "Online"},
    "monitor.offline": {"zh-CN": "离线", "en": "Offline"},
    "monitor.never_reported": {"zh-CN": "从未上报", "en": "Never reported"},
    "monitor.in_fault": {"zh-CN": "故障中", "en": "In fault"},
    "monitor.trapped": {"zh-CN": "困人", "en": "Trapped"},
    "monitor.trapped_hint": {"zh-CN": "困人故障未解除", "en": "Entrapment still open"},
    "monitor.in_fault_hint": {
        "zh-CN": "按该梯最严重的未解除故障计（不含离线）",
        "en": "By the worst open fault of each elevator (offline not included)",
    },
    "monitor.list": {
        "zh-CN": "故障与离线电梯（最新在前）",
        "en": "Elevators in fault or offline (newest first)",
    },
    "monitor.list_empty": {
        "zh-CN": "当前没有符合条件的故障或离线电梯。",
        "en": "No elevator in fault or offline matches.",
    },
    "monitor.shown": {"zh-CN": "显示 {shown} / 共 {total} 台", "en": "Showing {shown} of {total}"},
    "monitor.fault_type": {"zh-CN": "故障类型", "en": "Fault type"},
    "monitor.severity": {"zh-CN": "严重程度", "en": "Severity"},
    "monitor.since": {"zh-CN": "发生时间", "en": "Since"},
    "monitor.place": {"zh-CN": "位置", "en": "Place"},
    "monitor.state": {"zh-CN": "状态", "en": "State"},
    "monitor.map": {"zh-CN": "分布地图", "en": "Map"},
    "monitor.map_hint": {
        "zh-CN": "标记按严重程度着色，点击可打开电梯档案。",
        "en": "Markers are coloured by severity; click one to open the elevator file.",
    },
    "monitor.filters": {"zh-CN": "筛选", "en": "Filter"},
    "monitor.auto_refresh": {"zh-CN": "每 5 秒自动刷新", "en": "Refreshes every 5 s"},
    "monitor.updated": {"zh-CN": "更新于 {time}", "en": "Updated {time}"},
    "monitor.open_file": {"zh-CN": "打开档案", "en": "Open file"},
    "monitor.legend": {"zh-CN": "图例", "en": "Legend"},
    "monitor.no_coordinates": {
        "zh-CN": "{n} 台无坐标，未在地图上显示",
        "en": "{n} without coordinates are not on the map",
    },
    "monitor.ago": {"zh-CN": "已持续 {duration}", "en": "for {duration}"},
    # live status of one elevator (GB/T 24476 items)
    "live.title": {"zh-CN": "实时状态", "en": "Live status"},
    "live.connection": {"zh-CN": "终端", "en": "Terminal"},
    "live.online": {"zh-CN": "在线", "en": "Online"},
    "live.offline": {"zh-CN": "离线", "en": "Offline"},
    "live.never": {
        "zh-CN": "尚未收到该电梯的监测数据。",
        "en": "No telemetry received from this elevator yet.",
    },
    "live.last_seen": {"zh-CN": "最后上报", "en": "Last seen"},
    "live.mode": {"zh-CN": "服务模式", "en": "Service mode"},
    "live.car": {"zh-CN": "轿厢", "en": "Car"},
    "live.stopped": {"zh-CN": "停止", "en": "Stopped"},
    "live.running": {"zh-CN": "运行", "en": "Running"},
    "live.running_up": {"zh-CN": "上行", "en": "Running up"},
    "live.running_down": {"zh-CN": "下行", "en": "Running down"},
    "live.floor": {"zh-CN": "楼层", "en": "Floor"},
    "live.door": {"zh-CN": "门", "en": "Door"},
    "live.door_closed": {"zh-CN": "关闭", "en": "Closed"},
    "live.door_open": {"zh-CN": "未关闭", "en": "Not closed"},
    "live.door_zone": {"zh-CN": "门区", "en": "Door zone"},
    "live.in_zone": {"zh-CN": "平层区内", "en": "In door zone"},
    "live.out_of_zone": {"zh-CN": "门区外", "en": "Outside door zone"},
    "live.passenger": {"zh-CN": "乘客", "en": "Passenger"},
    "live.passenger_yes": {"zh-CN": "有人", "en": "Present"},
    "live.passenger_no": {"zh-CN": "无人", "en": "Absent"},
    "live.power": {"zh-CN": "主电源", "en": "Power"},
    "live.power_ok": {"zh-CN": "正常", "en": "Normal"},
    "live.power_cut": {"zh-CN": "停电", "en": "Cut"},
    "live.speed": {"zh-CN": "速度（m/s）", "en": "Speed (m/s)"},
    "live.counters": {"zh-CN": "累计统计", "en": "Counters"},
    "live.trips": {"zh-CN": "运行次数", "en": "Trips"},
    "live.door_cycles": {"zh-CN": "开关门次数", "en": "Door cycles"},
    "live.run_hours": {"zh-CN": "运行时间（小时）", "en": "Running hours"},
    "live.open_faults": {"zh-CN": "未解除故障", "en": "Open faults"},
    # service modes, GB/T 24476: 0-7
    "mode.0": {"zh-CN": "停止服务", "en": "Out of service"},
    "mode.1": {"zh-CN": "正常运行", "en": "Normal"},
    "mode.2": {"zh-CN": "检修", "en": "Inspection / maintenance"},
    "mode.3": {"zh-CN": "消防返回", "en": "Fire return"},
    "mode.4": {"zh-CN": "消防员运行", "en": "Firefighter"},
    "mode.5": {"zh-CN": "应急电源运行", "en": "Emergency power"},
    "mode.6": {"zh-CN": "地震运行", "en": "Earthquake"},
    "mode.7": {"zh-CN": "未知", "en": "Unknown"},
    # fault history on the elevator file
    "faults.title": {"zh-CN": "故障记录（最新在前）", "en": "Fault history (newest first)"},
    "faults.empty": {"zh-CN": "暂无故障记录。", "en": "No faults recorded."},
    "faults.fault_type": {"zh-CN": "故障类型", "en": "Fault type"},
    "faults.severity": {"zh-CN": "严重程度", "en": "Severity"},
    "faults.started": {"zh-CN": "开始", "en": "Started"},
    "faults.cleared": {"zh-CN": "解除", "en": "Cleared"},
    "faults.open": {"zh-CN": "未解除", "en": "Open"},
    "faults.duration": {"zh-CN": "持续时间", "en": "Duration"},
    # durations
    "duration.s": {"zh-CN": "{s} 秒", "en": "{s} s"},
    "duration.m": {"zh-CN": "{m} 分钟", "en": "{m} min"},
    "duration.hm": {"zh-CN": "{h} 小时 {m} 分", "en": "{h} h {m} min"},
    "duration.dh": {"zh-CN": "{d} 天 {h} 小时", "en": "{d} d {h} h"},
    # fault types (DOMAIN.md §3; codes 01-11 and 61-65 of the regulator's fault table)
    "fault_type.safety_circuit": {"zh-CN": "运行中安全回路断路", "en": "Safety circuit open while running"},
    "fault_type.door_close_failure": {"zh-CN": "关门故障", "en": "Door close failure"},
    "fault_type.door_open_failure": {"zh-CN": "开门故障", "en": "Door open failure"},
    "fault_type.stopped_outside_door_zone": {"zh-CN": "门区外停梯", "en": "Stopped outside the door zone"},
    "fault_type.unintended_movement": {"zh-CN": "轿厢意外移动", "en": "Unintended car movement"},
    "fault_type.motor_runtime_limiter": {
        "zh-CN": "电动机运转时间限制器动作",
        "en": "Motor run-time limiter tripped",
    },
    "fault_type.floor_position_lost": {"zh-CN": "楼层位置丢失", "en": "Floor position lost"},
    "fault_type.restart_prevented": {"zh-CN": "防止电梯再运行", "en": "Restart prevented"},
    "fault_type.overrun_top": {"zh-CN": "冲顶", "en": "Overrun at the top"},
    "fault_type.overrun_bottom": {"zh-CN": "蹲底", "en": "Overrun at the bottom"},
    "fault_type.entrapment": {"zh-CN": "困人", "en": "Entrapment"},
    "fault_type.overspeed": {"zh-CN": "超速", "en": "Overspeed"},
    "fault_type.power_cut": {"zh-CN": "停电", "en": "Power cut"},
    "fault_type.alarm_button": {"zh-CN": "用户报警", "en": "Alarm button"},
    "fault_type.terminal_offline": {"zh-CN": "终端长时间离线", "en": "Terminal offline"},
    "fault_type.clock_skew": {"zh-CN": "终端时钟偏差", "en": "Terminal clock skew"},
    "fault_type.esc_safety_circuit": {"zh-CN": "扶梯安全回路断路", "en": "Escalator safety circuit open"},
    "fault_type.esc_overspeed": {"zh-CN": "扶梯超速", "en": "Escalator overspeed"},
    "fault_type.esc_unintended_reversal": {"zh-CN": "扶梯非操纵逆转", "en": "Escalator unintended reversal"},
    "fault_type.esc_missing_step": {"zh-CN": "扶梯梯级缺失", "en": "Escalator missing step"},
    "fault_type.esc_restart_prevented": {"zh-CN": "扶梯防止再启动", "en": "Escalator restart prevented"},
    # severity
    "severity.critical": {"zh-CN": "紧急", "en": "Critical"},
    "severity.major": {"zh-CN": "严重", "en": "Major"},
    "severity.minor": {"zh-CN": "一般", "en": "Minor"},
    "severity.info": {"zh-CN": "提示", "en": "Info"},
}


def normalise_language(lang: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """A supported language code; anything else falls back to ``default``."""
    return lang if lang in LANGUAGES else default


def translate(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` (zh-CN when missing), with ``{name}`` placeholders filled.

    An unknown key returns the key itself, so a gap shows on the page instead of failing it.
    """
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get(DEFAULT_LANGUAGE) or key
    return text.format(**values) if values else text


def label(prefix: str, value: str | None, lang: str) -> str:
    """The label of a stored enum value, e.g. ``label("kind", "escalator", "zh-CN")``.

    An unknown value shows as itself: data from a newer version must still display."""
    if not value:
        return ""
    key = f"{prefix}.{value}"
    return translate(key, lang) if key in CATALOGUE else value
