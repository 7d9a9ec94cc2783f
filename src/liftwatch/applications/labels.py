"""The words of applications in zh-CN and English: kinds, departments, stages, decisions, funding and the
trail entries (also on the elevator file as ``application_<kind>``). Tables prefixed ``app_``. Pure."""

from __future__ import annotations

from liftwatch.applications.domain import Decision, Department, FundingSource, Kind, Stage
from liftwatch.core.i18n import Labels, zh_en

APP_KIND = Labels(
    "app_kind",
    {
        Kind.CONSTRUCTION_NOTICE: zh_en("施工告知", "Construction notice"),
        Kind.USE_REGISTRATION: zh_en("使用登记", "Use registration"),
        Kind.REGISTRATION_CHANGE: zh_en("变更登记", "Registration change"),
        Kind.REGISTRATION_CANCEL: zh_en("注销登记", "Registration cancelled"),
        Kind.INSPECTION_REQUEST: zh_en("检验申请", "Inspection request"),
        Kind.MODERNISATION: zh_en("更新改造大修", "Modernisation or major repair"),
        Kind.ADDITION: zh_en("既有多层住宅加装电梯", "Adding an elevator to an old residential building"),
    },
)

APP_DEPARTMENT = Labels(
    "app_department",
    {
        Department.PLANNING: zh_en("规划资源部门", "Planning"),
        Department.HOUSING: zh_en("住房建设部门", "Housing and construction"),
        Department.MARKET_SUPERVISION: zh_en("市场监管部门", "Market supervision"),
    },
)

APP_STAGE = Labels(
    "app_stage",
    {
        Stage.IN_REVIEW: zh_en("审查中", "In review"),
        Stage.REJECTED: zh_en("不予通过", "Rejected"),
        Stage.APPROVED: zh_en("已批准", "Approved"),
        Stage.CONSTRUCTION: zh_en("施工中", "Under construction"),
        Stage.ACCEPTANCE: zh_en("已验收待登记", "Accepted, awaiting registration"),
        Stage.COMPLETED: zh_en("已办结", "Completed"),
        Stage.WITHDRAWN: zh_en("已撤回", "Withdrawn"),
    },
)

APP_DECISION = Labels(
    "app_decision",
    {Decision.APPROVED: zh_en("同意", "Approved"), Decision.REJECTED: zh_en("不同意", "Rejected")},
)

APP_FUNDING = Labels(
    "app_funding",
    {
        FundingSource.OWNERS: zh_en("业主自筹", "Owners"),
        FundingSource.REPAIR_FUND: zh_en("专项维修资金", "Repair fund"),
        FundingSource.SUBSIDY: zh_en("政府补贴", "Subsidy"),
    },
)

#: the trail's entries (and the elevator file's, as application_<kind>)
APP_EVENT = Labels(
    "app_event",
    {
        "submitted": zh_en("申请受理", "Submitted"),
        "reviewed": zh_en("部门审查", "Reviewed"),
        "review_late": zh_en("审查超期", "Review overdue"),
        "approved": zh_en("批准", "Approved"),
        "rejected": zh_en("不予通过", "Rejected"),
        "construction": zh_en("开工", "Construction started"),
        "acceptance": zh_en("验收", "Acceptance inspection"),
        "completed": zh_en("办结", "Completed"),
        "withdrawn": zh_en("撤回", "Withdrawn"),
    },
)

FILE_ENTRY = Labels("app_file_entry", {f"application_{k}": v for k, v in APP_EVENT.entries.items()})

#: the fields of the forms (the API's names: the application's and its kind's ``form``)
APP_FIELD = Labels(
    "app_field",
    {
        "title": zh_en("申请事项", "Subject"),
        "registration_code": zh_en("电梯注册代码", "Elevator's registration code"),
        "applicant_unit": zh_en("申请单位编码", "Applying unit's code"),
        "district": zh_en("区", "District"),
        "address": zh_en("楼栋地址", "Building address"),
        "households": zh_en("本幢（单元）业主户数", "Households in the building"),
        "households_consenting": zh_en("同意的业主户数", "Households consenting"),
        "area_m2": zh_en("专有部分总面积（㎡）", "Floor area (m²)"),
        "area_consenting_m2": zh_en("同意业主的专有面积（㎡）", "Floor area of those consenting (m²)"),
        "floors": zh_en("楼层数", "Floors"),
        "funding": zh_en("资金来源", "Funding"),
        "budget_yuan": zh_en("预算（元）", "Budget (yuan)"),
        "subsidy_yuan": zh_en("补贴（元）", "Subsidy (yuan)"),
        "scope": zh_en("改造范围", "Scope of works"),
        "work": zh_en("施工类别", "Works"),
        "planned_start": zh_en("计划开工日期", "Planned start"),
        "equipment_code": zh_en("设备代码", "Equipment code"),
        "manufacturer": zh_en("制造单位", "Manufacturer"),
        "use_unit": zh_en("新使用单位编码", "New use unit's code"),
        "preferred_date": zh_en("希望检验日期", "Preferred day"),
        "installation": zh_en("安装", "Installation"),
        "modernisation": zh_en("改造", "Modernisation"),
        "major_repair": zh_en("重大修理", "Major repair"),
    },
)

TABLES: tuple[Labels, ...] = (
    APP_KIND,
    APP_DEPARTMENT,
    APP_STAGE,
    APP_DECISION,
    APP_FUNDING,
    APP_EVENT,
    APP_FIELD,
)
