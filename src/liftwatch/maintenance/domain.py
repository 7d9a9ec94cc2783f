"""The shared vocabulary of maintenance (维保), pure: which TSG T5002-2017 appendix applies to an elevator,
the four maintenance intervals, what evidence an item needs, and the two maintenance models. No SQL, no
HTTP: every other maintenance module (plans, fakes, service) builds on these plain types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Appendix(StrEnum):
    """The appendices of TSG T5002-2017 (电梯维护保养规则), one per kind of equipment."""

    A = "A"  # 曳引与强制驱动电梯 traction and positive drive
    B = "B"  # 液压电梯 hydraulic
    C = "C"  # 杂物电梯 dumbwaiter
    D = "D"  # 自动扶梯与自动人行道 escalator and moving walk


_APPENDIX_OF_KIND: dict[str, Appendix] = {
    "traction": Appendix.A,
    "hydraulic": Appendix.B,
    "dumbwaiter": Appendix.C,
    "escalator": Appendix.D,
    "moving_walk": Appendix.D,
}


def appendix_of(kind: str) -> Appendix:
    """The appendix whose items an elevator of this registry kind (an ``ElevatorKind`` value) must receive.

    Takes the plain string so this module needs nothing from the registry; an unknown kind is an error
    (a ValueError naming the kind and the known ones), never a silent default appendix."""
    try:
        return _APPENDIX_OF_KIND[str(kind)]
    except KeyError:
        known = ", ".join(sorted(_APPENDIX_OF_KIND))
        raise ValueError(f"unknown elevator kind {kind!r}: expected one of {known}") from None


class Interval(StrEnum):
    """Maintenance intervals of TSG T5002-2017: 半月, 季度, 半年, 年度. A longer interval's visit also carries
    every shorter interval's items."""

    HALF_MONTH = "half_month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"

    @property
    def number(self) -> int:
        """1 (half-month) to 4 (year): the digit in an item code such as "A4-17"."""
        return _INTERVAL_ORDER.index(self) + 1

    def covers(self) -> tuple[Interval, ...]:
        """The intervals whose items a visit of this interval carries: itself and every shorter one."""
        return _INTERVAL_ORDER[: self.number]


_INTERVAL_ORDER: tuple[Interval, ...] = (
    Interval.HALF_MONTH,
    Interval.QUARTER,
    Interval.HALF_YEAR,
    Interval.YEAR,
)


class Evidence(StrEnum):
    """What a worker must record for an item besides ticking it: nothing, a measured value, or a photo."""

    NONE = "none"
    MEASUREMENT = "measurement"
    PHOTO = "photo"


class MaintenanceModel(StrEnum):
    """Traditional: a visit at least every 15 days. On demand (按需维保, 国市监特设〔2020〕56号): the interval
    follows usage and condition measured by the IoT terminal (docs/MAINTENANCE.md)."""

    TRADITIONAL = "traditional"
    ON_DEMAND = "on_demand"


@dataclass(frozen=True)
class CatalogueItem:
    """One maintenance item of TSG T5002-2017. ``code`` is "<appendix><interval number>-<nn>", e.g. "A1-01"
    (appendix A, half-month, item 1); ``unit`` is the measurement unit (e.g. "mm") when ``evidence`` is a
    measurement, else "". ``zh``/``en`` name the item (项目); ``requirement_zh``/``requirement_en`` say what
    the rules require of it (基本要求)."""

    code: str
    appendix: Appendix
    interval: Interval
    zh: str
    en: str
    evidence: Evidence
    unit: str = ""
    requirement_zh: str = ""
    requirement_en: str = ""
