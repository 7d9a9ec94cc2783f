"""The rules of certified workers and drills, pure: the certificate categories, a certificate's state on a
day, and which use units have not held their drill in a year. No SQL, no HTTP.

- 特种设备作业人员证 (TSG Z6001-2019; 市场监管总局公告2019年第3号): elevator work needs the certificate of
  category T (电梯修理: installation, repair and maintenance); a use unit's safety manager holds category
  A (特种设备安全管理). A certificate is valid to its expiry day inclusive (it is reviewed every 4 years);
  the platform lets only holders of a valid T certificate be assigned work orders, sign maintenance
  records or log in as a rescue crew.
- 应急演练 (TSG 08-2017 2.10): a use unit rehearses its emergency plan at least once a year."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Category(StrEnum):
    """Certificate categories (作业项目) the platform checks."""

    ELEVATOR_REPAIR = "T"  # 电梯修理 (T): installs, repairs and maintains elevators
    SAFETY_MANAGEMENT = "A"  # 特种设备安全管理 (A): a use unit's safety manager


class CertificateState(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid, but expires within warn_days (复审 due)
    EXPIRED = "expired"
    REVOKED = "revoked"


def state_on(expires_on: date, revoked: bool, today: date, warn_days: int) -> CertificateState:
    """A certificate's state on ``today``: valid through its expiry day, expiring from ``warn_days`` before
    it."""
    if revoked:
        return CertificateState.REVOKED
    if today > expires_on:
        return CertificateState.EXPIRED
    if (expires_on - today).days < warn_days:
        return CertificateState.EXPIRING
    return CertificateState.VALID


def usable(state: CertificateState) -> bool:
    """Whether a holder may work on it today (an expiring certificate still counts)."""
    return state in (CertificateState.VALID, CertificateState.EXPIRING)


class Scenario(StrEnum):
    """What an emergency drill rehearses."""

    ENTRAPMENT = "entrapment"  # 困人救援
    POWER_CUT = "power_cut"  # 停电
    FIRE = "fire"  # 火灾
    FLOODING = "flooding"  # 进水
    EARTHQUAKE = "earthquake"  # 地震
    OTHER = "other"


@dataclass(frozen=True)
class MissingDrill:
    """A use unit with elevators in use and fewer drills than required in the year; ``last`` its latest
    drill ever (None: never)."""

    unit_code: str
    held: int
    required: int
    last: date | None


def missing_drills(
    units: Iterable[str], held: Mapping[str, int], last: Mapping[str, date], required: int
) -> list[MissingDrill]:
    """The units of ``units`` that held fewer than ``required`` drills (``held`` counts the year's), in
    code order."""
    return [
        MissingDrill(u, held.get(u, 0), required, last.get(u))
        for u in sorted(set(units))
        if held.get(u, 0) < required
    ]
