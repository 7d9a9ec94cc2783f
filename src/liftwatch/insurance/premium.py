"""The premium factor of an elevator's liability policy (保费浮动系数), pure: the stored risk grade, score and
explanation in, the factor and the reasons behind it out.

The rule (docs/INSURANCE.md)::

    factor = factor_<grade>          A 0.85, B 1.00, C 1.20, D 1.50 by default
    factor = factor_ungraded         an elevator not graded yet (no stored score): 1.00
    adjusted premium = premium x factor, in whole fen (half up)

The score decides the grade (the risk domain's thresholds) and the grade decides the factor, so a policy's
factor moves only when its elevator changes grade: an insurer can reproduce it from the grade alone, and
the score and its largest contributions (``top``) tell it *why* the elevator has that grade. The factors
never decrease from A to D (``PremiumSettings`` refuses settings that would), so a riskier grade never
pays less.

Pure: the standard library only (the settings are read at the edge, ``insurance/settings.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GRADES", "PremiumFactor", "PremiumSettings", "TopFactor", "adjusted_premium", "premium_factor"]

GRADES = ("A", "B", "C", "D")


def _w(default: float, why: str) -> Any:
    """A setting with its reason (shown in the settings table of docs/OPERATIONS.md)."""
    return field(default=default, metadata={"why": why})


@dataclass(frozen=True)
class PremiumSettings:
    """The factor of each risk grade and what the insurer's screens show; ``LIFTWATCH_INSURANCE_*``."""

    factor_a: float = _w(0.85, "premium factor of grade A (low risk): a 15% discount")
    factor_b: float = _w(1.0, "premium factor of grade B (moderate risk): the base premium")
    factor_c: float = _w(1.2, "premium factor of grade C (high risk): 20% more")
    factor_d: float = _w(1.5, "premium factor of grade D (major risk): 50% more")
    factor_ungraded: float = _w(1.0, "premium factor of an elevator not graded yet (no stored risk score)")
    top_factors: float = _w(3, "risk factors shown to the insurer behind each premium factor (the largest)")
    expiring_days: float = _w(30, "days before its last day a valid policy is listed as expiring soon")

    def __post_init__(self) -> None:
        factors = [self.factor_a, self.factor_b, self.factor_c, self.factor_d]
        if any(f <= 0 for f in [*factors, self.factor_ungraded]):
            raise ValueError("every premium factor must be more than 0")
        if factors != sorted(factors):
            raise ValueError("the premium factors must not decrease from grade A to grade D")
        if self.top_factors != int(self.top_factors) or self.expiring_days != int(self.expiring_days):
            raise ValueError("top_factors and expiring_days must be whole numbers")

    def of_grade(self, grade: str | None) -> float:
        return {
            "A": self.factor_a,
            "B": self.factor_b,
            "C": self.factor_c,
            "D": self.factor_d,
        }.get(grade or "", self.factor_ungraded)


@dataclass(frozen=True, slots=True)
class TopFactor:
    """One risk factor behind the grade: its code, the value it was scored on and its points."""

    factor: str
    value: Any
    points: int

    def as_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "value": self.value, "points": self.points}


@dataclass(frozen=True, slots=True)
class PremiumFactor:
    """The factor of one policy in one period with what it was decided from."""

    factor: float
    grade: str | None  # None: not graded yet
    score: int | None
    top: tuple[TopFactor, ...]

    @property
    def graded(self) -> bool:
        return self.grade is not None


def _top(contributions: Iterable[Mapping[str, Any]], n: int) -> tuple[TopFactor, ...]:
    lines = [
        TopFactor(str(c["factor"]), c.get("value"), int(c["points"]))
        for c in contributions
        if int(c.get("points", 0)) > 0
    ]
    # the largest first; equal points keep the explanation's order (sorted is stable)
    return tuple(sorted(lines, key=lambda t: -t.points)[:n])


def premium_factor(
    grade: str | None,
    score: int | None,
    contributions: Iterable[Mapping[str, Any]],
    settings: PremiumSettings | None = None,
) -> PremiumFactor:
    """The factor of an elevator with the stored ``grade``, ``score`` and explanation (``contributions``:
    ``{"factor", "value", "points"}`` each, as the risk domain stores them); ``grade`` None when it has
    no stored score yet."""
    s = settings or PremiumSettings()
    if grade is not None and grade not in GRADES:
        raise ValueError(f"grade {grade!r}: expected one of {', '.join(GRADES)}")
    top = _top(contributions, int(s.top_factors)) if grade is not None else ()
    return PremiumFactor(round(s.of_grade(grade), 4), grade, score if grade is not None else None, top)


def adjusted_premium(premium_fen: int, factor: float) -> int:
    """The premium times the factor, in whole fen rounded half up."""
    return math.floor(premium_fen * factor + 0.5)
