"""Import and export of the registry as CSV and Excel. (Interface fixed; implementation in progress.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from liftwatch.accounts.models import Actor
from liftwatch.core.clock import Clock


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    def render(self) -> str:
        return f"{self.imported}/{self.rows} imported, {len(self.errors)} errors"


def import_file(
    session: Session,
    actor: Actor,
    path: Path,
    clock: Clock,
    *,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
) -> ImportReport:
    raise NotImplementedError


def export_file(session: Session, actor: Actor, path: Path) -> int:
    raise NotImplementedError
