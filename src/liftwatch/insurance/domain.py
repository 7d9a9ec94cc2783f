"""The insurance domain's plain types (电梯安全责任保险): a policy's status on a day, its cover, and which
places are public places for the coverage KPI.

Pure: the standard library and the risk domain's place tiers, no database, no clock. A policy covers one
elevator for the days ``[start, end]`` (both included, as a policy schedule states them); its status is
derived from the day asked about, never stored, so a policy expires by itself at midnight.

Public places (公众聚集场所 and other public places, DOMAIN.md section 6) are the places of the risk domain's
*crowded* and *public* tiers (metro, mall, hospital, school, public building, office, hotel): exactly the
registry's place types other than residential and other, so both readings of the brief give the same set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from liftwatch.risk.domain import PLACE_TIER, PlaceTier

__all__ = ["PUBLIC_PLACE_TYPES", "Cover", "PolicyStatus", "expiring_within", "is_public_place", "status_on"]


class PolicyStatus(StrEnum):
    """A policy's status on a day (derived: the dates and a cancellation, nothing stored)."""

    UPCOMING = "upcoming"  # starts after the day (未生效)
    VALID = "valid"  # the day lies in [start, end] (有效)
    EXPIRED = "expired"  # ended before the day (已到期)
    CANCELLED = "cancelled"  # cancelled (退保), whatever the dates


#: The registry place types that count as public places (crowded and public tiers).
PUBLIC_PLACE_TYPES: frozenset[str] = frozenset(
    str(p) for p, tier in PLACE_TIER.items() if tier in (PlaceTier.CROWDED, PlaceTier.PUBLIC)
)


def is_public_place(place_type: str) -> bool:
    return place_type in PUBLIC_PLACE_TYPES


def status_on(start: date, end: date, cancelled: bool, day: date) -> PolicyStatus:
    """The status of a policy covering ``[start, end]`` on ``day``."""
    if cancelled:
        return PolicyStatus.CANCELLED
    if day < start:
        return PolicyStatus.UPCOMING
    if day > end:
        return PolicyStatus.EXPIRED
    return PolicyStatus.VALID


def expiring_within(end: date, day: date, days: int) -> bool:
    """A valid policy whose last day falls within ``days`` days of ``day`` (到期提醒)."""
    return day <= end <= day + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class Cover:
    """The liability limits (赔偿限额), in fen: per person (每人) and per accident (每次事故)."""

    per_person_fen: int
    per_accident_fen: int

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for limits that make no sense; empty when the cover is sound."""
        out = []
        if self.per_person_fen <= 0:
            out.append(("limit_per_person_fen", "must be more than 0"))
        if self.per_accident_fen <= 0:
            out.append(("limit_per_accident_fen", "must be more than 0"))
        elif self.per_accident_fen < self.per_person_fen:
            out.append(("limit_per_accident_fen", "must be at least the limit per person"))
        return out
