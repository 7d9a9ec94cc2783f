"""Who acts, and in which role: the small pure module every other domain may import.

Services take an ``Actor`` and decide scope themselves (404 outside it); nothing here touches the database,
so a domain that needs to know who is acting never reaches into the accounts tables."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    REGULATOR = "regulator"  # 市场监管局
    RESCUE_OPERATOR = "rescue_operator"  # 96333 operator
    MAINTENANCE = "maintenance"  # 维保单位 staff: only its unit's elevators
    USE_UNIT = "use_unit"  # 使用单位 staff: only its unit's elevators
    INSPECTOR = "inspector"  # 检验机构
    GATEWAY = "gateway"  # an IoT terminal or gateway (物联网网关): may only send telemetry
    INSURER = "insurer"  # 保险机构 staff: only the elevators its unit insures (docs/INSURANCE.md)
    PUBLIC = "public"  # passenger, no login


UNIT_SCOPED_ROLES = frozenset({Role.MAINTENANCE, Role.USE_UNIT})
ACCOUNT_ROLES = tuple(r for r in Role if r is not Role.PUBLIC)


@dataclass(frozen=True)
class Actor:
    """Who is acting. Services take an Actor and enforce scope themselves, never the templates."""

    username: str
    role: Role
    unit_id: int | None = None

    @property
    def unit_scoped(self) -> bool:
        return self.role in UNIT_SCOPED_ROLES


PUBLIC_ACTOR = Actor(username="public", role=Role.PUBLIC)
SYSTEM_ACTOR = Actor(username="system", role=Role.ADMIN)
