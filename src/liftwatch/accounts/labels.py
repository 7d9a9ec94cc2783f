"""The accounts domain's words in zh-CN and English: the roles (pure: no database, no web)."""

from __future__ import annotations

from liftwatch.accounts.actor import Role
from liftwatch.core.i18n import Labels, zh_en

ROLE = Labels(
    "role",
    {
        Role.ADMIN: zh_en("系统管理员", "Administrator"),
        Role.REGULATOR: zh_en("市场监管", "Regulator"),
        Role.RESCUE_OPERATOR: zh_en("96333坐席", "96333 operator"),
        Role.MAINTENANCE: zh_en("维保单位", "Maintenance staff"),
        Role.USE_UNIT: zh_en("使用单位", "Use unit staff"),
        Role.INSPECTOR: zh_en("检验机构", "Inspector"),
        Role.PUBLIC: zh_en("公众", "Public"),
        Role.GATEWAY: zh_en("物联网网关", "IoT gateway"),
        Role.INSURER: zh_en("保险机构", "Insurer"),
    },
)

#: Every table of this domain, for the web to assemble.
TABLES: tuple[Labels, ...] = (ROLE,)
