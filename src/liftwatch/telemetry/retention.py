"""Retention: what grows without end (archive days, resolved faults, dead letters) removed after the days
an operator set (``LIFTWATCH_RETAIN_*``; 0 keeps forever). ``liftwatch prune`` runs it.

Never removed: open faults, faults an incident names (the rescue record points at them), the elevator
file (``elevator_events``, append-only: each fault's raise and clear entry there carries its own copy of
the fault's details, so the file stays whole when the fault row goes), and anything newer than the cut.
Rows go in small batches, each its own transaction, so a large table is never locked for long.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import CompoundSelect, Select, delete, func, select
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, archive_dir
from liftwatch.telemetry.models import DeadLetter, Fault

KeepIds = Select[Any] | CompoundSelect[Any]  # fault ids that must stay (a subquery)
Part = Literal["archive", "faults", "dead-letters"]
PARTS: tuple[Part, ...] = ("archive", "faults", "dead-letters")
BATCH = 1000
_PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


@dataclass
class PruneReport:
    """What was removed (or, on a dry run, would be); ``None`` for a part not pruned (0 days or not asked)."""

    dry_run: bool
    archive_partitions: list[str] | None = None
    faults: int | None = None
    dead_letters: int | None = None
    cutoffs: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        out: list[str] = []
        for part, count, what in (
            (
                "archive",
                None if self.archive_partitions is None else len(self.archive_partitions),
                "archive days",
            ),
            ("faults", self.faults, "resolved faults"),
            ("dead-letters", self.dead_letters, "dead letters"),
        ):
            if count is None:
                out.append(f"{part}: kept forever or not asked")
            else:
                out.append(f"{part}: {verb} {count} {what} older than {self.cutoffs[part]}")
        for name in self.archive_partitions or []:
            out.append(f"  {name}")
        return out


def prune_archive(root: Path, today: date, days: int, dry_run: bool) -> list[str]:
    """Remove the archive's day folders (``date=YYYY-MM-DD``, UTC days) before ``today - days``; the
    names, oldest first. Folders of another name are never touched."""
    if days <= 0 or not root.is_dir():
        return []
    cut = today - timedelta(days=days)
    gone: list[str] = []
    for path in sorted(root.iterdir()):
        m = _PARTITION.match(path.name)
        if not path.is_dir() or m is None:
            continue
        try:
            day = date.fromisoformat(m.group(1))
        except ValueError:
            continue
        if day < cut:
            gone.append(path.name)
            if not dry_run:
                shutil.rmtree(path)
    return gone


def _batched(session: Session, model: Any, where: list[Any], dry_run: bool, batch: int) -> int:
    """Delete matching rows ``batch`` at a time, committing each batch; or count them on a dry run."""
    if dry_run:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
    total = 0
    while True:
        ids = list(session.scalars(select(model.id).where(*where).order_by(model.id).limit(batch)))
        if not ids:
            return total
        session.execute(delete(model).where(model.id.in_(ids)))
        session.commit()
        total += len(ids)


def prune_faults(
    session: Session,
    cutoff: datetime,
    dry_run: bool,
    keep_fault_ids: KeepIds | None = None,
    batch: int = BATCH,
) -> int:
    """Remove faults cleared before ``cutoff``. Open faults stay, and so do the ones whose ``fault_id``
    is in ``keep_fault_ids`` (a select of fault ids, e.g. those incidents name: telemetry does not know
    the rescue tables, the caller does)."""
    where: list[Any] = [Fault.cleared_at.is_not(None), Fault.cleared_at < cutoff]
    if keep_fault_ids is not None:
        where.append(Fault.fault_id.not_in(keep_fault_ids))
    return _batched(session, Fault, where, dry_run, batch)


def prune_dead_letters(session: Session, cutoff: datetime, dry_run: bool, batch: int = BATCH) -> int:
    """Remove dead letters received before ``cutoff`` (replayed or not: an unknown_elevator letter that
    old is not replayed any more)."""
    return _batched(session, DeadLetter, [DeadLetter.received_at < cutoff], dry_run, batch)


def prune(
    session: Session,
    clock: Clock,
    settings: Settings,
    dry_run: bool,
    only: Part | None = None,
    keep_fault_ids: KeepIds | None = None,
    batch: int = BATCH,
) -> PruneReport:
    """Apply the retention settings (every part, or ``only`` one); the report says what went."""
    now = clock.now()
    report = PruneReport(dry_run=dry_run)
    if only in (None, "archive") and settings.retain_archive_days > 0:
        today = now.date()
        report.cutoffs["archive"] = (today - timedelta(days=settings.retain_archive_days)).isoformat()
        report.archive_partitions = prune_archive(
            archive_dir(settings), today, settings.retain_archive_days, dry_run
        )
    if only in (None, "faults") and settings.retain_faults_days > 0:
        cut = now - timedelta(days=settings.retain_faults_days)
        report.cutoffs["faults"] = cut.isoformat(timespec="seconds")
        report.faults = prune_faults(session, cut, dry_run, keep_fault_ids, batch)
    if only in (None, "dead-letters") and settings.retain_dead_letters_days > 0:
        cut = now - timedelta(days=settings.retain_dead_letters_days)
        report.cutoffs["dead-letters"] = cut.isoformat(timespec="seconds")
        report.dead_letters = prune_dead_letters(session, cut, dry_run, batch)
    return report
