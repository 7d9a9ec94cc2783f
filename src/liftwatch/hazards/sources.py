"""The hidden dangers the platform finds itself (隐患自动发现): from remote monitoring and from signed
inspections.

Pure: plain records in, findings out; the hazard worker reads the records (``telemetry.queries``,
``inspection.service``) and reports each finding through ``service.report``, whose idempotency on
``(source, source_ref)`` makes a finding seen twice one hazard. docs/HAZARDS.md states the rule:

* **a dangerous fault** (轿厢意外移动, 冲顶, 蹲底, 超速 at its critical level, an escalator's reversal or
  missing step): a **major** hidden danger at once, one per fault (``fault:<fault id>``). These are the
  faults after which a lift must not run until the cause is found, whoever rescued the passengers;
* **a recurring fault**: the ``repeat``-th fault of one type on one elevator within ``repeat_days`` days
  (a door that fails to close five times in a month is a defect, not bad luck): a **general** hidden
  danger, keyed by the fault that reached the count (``repeat:<fault type>:<fault id>``), and none while
  an earlier one from monitoring on that elevator and fault type is still open;
* **a serious inspection finding** (严重问题) of a signed periodic inspection or re-inspection: a **general**
  hidden danger per finding (``nonconformity:<id>``), whose rectification runs alongside the inspection's
  own rectification work order. Minor findings stay with the inspection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from liftwatch.hazards.workflow import HazardLevel, HazardSource

__all__ = [
    "DANGEROUS_FAULTS",
    "FaultSeen",
    "Finding",
    "InspectionFinding",
    "SourceRule",
    "inspection_findings",
    "monitoring_findings",
]

#: fault types (telemetry's FaultType values) after which the lift must not run until checked
DANGEROUS_FAULTS = frozenset(
    {
        "unintended_movement",  # 05 轿厢意外移动
        "overrun_top",  # 09 冲顶
        "overrun_bottom",  # 10 蹲底
        "esc_unintended_reversal",  # 63 扶梯非操纵逆转
        "esc_missing_step",  # 64 梯级缺失
    }
)
#: dangerous only at their critical severity (overspeed: 1.4x the rated speed, the governor's trip zone)
DANGEROUS_WHEN_CRITICAL = frozenset({"overspeed", "esc_overspeed"})
#: not the elevator's own defect: no hazard however often they come (rescue, the grid, the terminal)
NOT_DEFECTS = frozenset({"entrapment", "alarm_button", "power_cut", "terminal_offline", "clock_skew"})


@dataclass(frozen=True, slots=True)
class SourceRule:
    """When a recurring fault becomes a hidden danger (settings LIFTWATCH_HAZARD_REPEAT_*)."""

    repeat: int = 5
    repeat_days: int = 30

    def __post_init__(self) -> None:
        if self.repeat < 2 or self.repeat_days < 1:
            raise ValueError("a recurring fault needs repeat >= 2 within repeat_days >= 1 days")


class FaultSeen(NamedTuple):
    """A fault as the detector raised it."""

    fault_id: str
    registration_code: str
    fault_type: str
    severity: str
    started_at: datetime


class InspectionFinding(NamedTuple):
    """A non-conformity of a signed inspection."""

    nonconformity_id: int
    inspection_id: int
    registration_code: str
    severity: str  # inspection.domain.Severity
    item: str
    text: str


class Finding(NamedTuple):
    """A hidden danger to report: where, what, and its idempotency key."""

    registration_code: str
    source: HazardSource
    source_ref: str
    level: HazardLevel
    description: str
    found_at: datetime | None = None


def _dangerous(fault: FaultSeen) -> bool:
    if fault.fault_type in DANGEROUS_FAULTS:
        return True
    return fault.fault_type in DANGEROUS_WHEN_CRITICAL and fault.severity == "critical"


def monitoring_findings(
    recent: Iterable[FaultSeen],
    history: Mapping[tuple[str, str], list[datetime]],
    open_repeats: set[tuple[str, str]],
    rule: SourceRule = SourceRule(),
) -> list[Finding]:
    """The findings of the faults ``recent``ly raised. ``history`` holds, per (elevator, fault type), the
    start times of its faults over at least the last ``repeat_days`` before the newest recent one (the recent
    ones included); ``open_repeats`` the (elevator, fault type) pairs that already have an open hidden
    danger from a recurring fault."""
    out: list[Finding] = []
    flagged = set(open_repeats)
    for fault in sorted(recent, key=lambda f: (f.started_at, f.fault_id)):
        key = (fault.registration_code, fault.fault_type)
        if _dangerous(fault):
            out.append(
                Finding(
                    fault.registration_code,
                    HazardSource.MONITORING,
                    f"fault:{fault.fault_id}",
                    HazardLevel.MAJOR,
                    f"dangerous fault {fault.fault_type} ({fault.severity}) at "
                    f"{fault.started_at.isoformat(timespec='seconds')}",
                    fault.started_at,
                )
            )
            continue
        if fault.fault_type in NOT_DEFECTS or key in flagged:
            continue
        window = [
            t
            for t in history.get(key, ())
            if 0 <= (fault.started_at - t).total_seconds() <= rule.repeat_days * 86400
        ]
        if len(window) >= rule.repeat:
            flagged.add(key)
            out.append(
                Finding(
                    fault.registration_code,
                    HazardSource.MONITORING,
                    f"repeat:{fault.fault_type}:{fault.fault_id}",
                    HazardLevel.GENERAL,
                    f"recurring fault {fault.fault_type}: {len(window)} in {rule.repeat_days} days",
                    fault.started_at,
                )
            )
    return out


def inspection_findings(findings: Iterable[InspectionFinding]) -> list[Finding]:
    """A general hidden danger per serious finding of a signed inspection; minor ones stay with it."""
    return [
        Finding(
            f.registration_code,
            HazardSource.INSPECTION,
            f"nonconformity:{f.nonconformity_id}",
            HazardLevel.GENERAL,
            (f"{f.item}: {f.text}" if f.item else f.text)[:2000],
        )
        for f in findings
        if f.severity == "major"
    ]
