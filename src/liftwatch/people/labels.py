"""The words of people in zh-CN and English: certificate categories and states, drill scenarios, the fields
of the forms. Table names are prefixed (``cert_``, ``drill_``). Pure."""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.people.domain import Category, CertificateState, Scenario

CERT_CATEGORY = Labels(
    "cert_category",
    {
        Category.ELEVATOR_REPAIR: zh_en("电梯修理（T）", "Elevator repair (T)"),
        Category.SAFETY_MANAGEMENT: zh_en("特种设备安全管理（A）", "Special equipment safety management (A)"),
    },
)

CERT_STATE = Labels(
    "cert_state",
    {
        CertificateState.VALID: zh_en("有效", "Valid"),
        CertificateState.EXPIRING: zh_en("即将到期", "Expiring"),
        CertificateState.EXPIRED: zh_en("已过期", "Expired"),
        CertificateState.REVOKED: zh_en("已注销", "Revoked"),
    },
)

DRILL_SCENARIO = Labels(
    "drill_scenario",
    {
        Scenario.ENTRAPMENT: zh_en("困人救援", "Entrapment rescue"),
        Scenario.POWER_CUT: zh_en("停电", "Power cut"),
        Scenario.FIRE: zh_en("火灾", "Fire"),
        Scenario.FLOODING: zh_en("进水", "Flooding"),
        Scenario.EARTHQUAKE: zh_en("地震", "Earthquake"),
        Scenario.OTHER: zh_en("其他", "Other"),
    },
)

#: the fields of the forms (the API's field names)
PEOPLE_FIELD = Labels(
    "people_field",
    {
        "number": zh_en("证书编号", "Certificate number"),
        "category": zh_en("作业项目", "Category"),
        "holder_name": zh_en("持证人", "Holder"),
        "username": zh_en("平台账号", "Account"),
        "unit_code": zh_en("单位", "Unit"),
        "issued_on": zh_en("发证日期", "Issued on"),
        "expires_on": zh_en("有效期至", "Valid until"),
        "issuer": zh_en("发证机关", "Issued by"),
        "held_on": zh_en("日期", "Date"),
        "hours": zh_en("学时", "Hours"),
        "topic": zh_en("培训内容", "Topic"),
        "provider": zh_en("培训机构", "Provider"),
        "scenario": zh_en("演练科目", "Scenario"),
        "participants": zh_en("参加人数", "Participants"),
        "registration_code": zh_en("演练电梯", "Elevator used"),
        "summary": zh_en("演练情况", "Summary"),
    },
)

TABLES: tuple[Labels, ...] = (CERT_CATEGORY, CERT_STATE, DRILL_SCENARIO, PEOPLE_FIELD)
