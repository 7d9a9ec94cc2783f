"""The ledger import's report and limits (台账导入): what an import of a CSV or Excel file found and did, row
by row. Pure types, so the screens and the API show a report without reaching into the import itself
(``registry/io.py`` reads the file and writes through the service; ``service.import_ledger`` runs it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from liftwatch.core.errors import DomainError, FieldError, InvalidInput

#: The largest file an import reads.
MAX_FILE_BYTES = 50 * 1024 * 1024


class FileTooLarge(DomainError):
    """The file is beyond the import's limits; nothing was read into the database."""

    status_code = 413

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"file: '{name}' {message}", [FieldError("file", message)])


def upload_name(filename: str | None) -> str:
    """An uploaded file's name without any folder, refused unless it is a .csv or .xlsx file."""
    name = Path(filename or "upload").name
    if Path(name).suffix.lower() not in (".csv", ".xlsx"):
        raise InvalidInput(FieldError("file", f"'{name}': expected a .csv or .xlsx file"))
    return name


def save_upload(source: BinaryIO, path: Path) -> None:
    """Write an upload to ``path``, refusing one over :data:`MAX_FILE_BYTES` (at most one byte past the
    limit is read: enough to refuse it); the caller removes ``path`` on a refusal."""
    with path.open("wb") as fh:
        fh.write(source.read(MAX_FILE_BYTES + 1))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise FileTooLarge(path.name, f"is larger than {MAX_FILE_BYTES // 2**20} MB")


def jsonable(value: Any) -> Any:
    """A value as JSON holds it: dates and times as ISO text."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def cell_text(value: Any) -> str:
    """A cell as the user wrote it, for reports and CSV files."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


@dataclass(frozen=True)
class RowError:
    """One bad field: the spreadsheet row (header = 1), the column as written in the header, the value as
    written in the cell, and why. ``sheet`` is "" for the elevators and "units" for the units sheet."""

    row: int
    column: str
    value: str
    reason: str
    sheet: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RejectedRow:
    """A bad row as it was written in the file, with its reasons joined: what goes to the rejects file."""

    sheet: str
    row: int
    values: dict[str, Any]
    reasons: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "values": {k: cell_text(v) for k, v in self.values.items()},
            "reasons": self.reasons,
        }


@dataclass(frozen=True)
class RowChange:
    """A row of an upsert that changes a registered elevator: the fields it changes, old and new."""

    row: int
    registration_code: str
    changes: dict[str, tuple[Any, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "registration_code": self.registration_code,
            "changes": {k: {"from": jsonable(a), "to": jsonable(b)} for k, (a, b) in self.changes.items()},
        }


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    unit_rows: int = 0
    units_imported: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    rejects_path: Path | None = None
    updated: int = 0  # with ``upsert``: registered elevators whose row changed them
    unchanged: int = 0  # with ``upsert``: registered elevators their row leaves as they are
    changes: list[RowChange] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"elevators: {self.imported} of {self.rows} rows imported"]
        if self.updated or self.unchanged:
            lines[0] += f", {self.updated} updated, {self.unchanged} unchanged"
        if self.unit_rows:
            lines[0] += f"; units: {self.units_imported} new of {self.unit_rows} rows"
        if self.errors:
            bad = len({(e.sheet, e.row) for e in self.errors})
            wrote = self.imported or self.units_imported
            tail = "the good rows were imported" if wrote else "nothing imported"
            lines.append(f"{_plural(len(self.errors), 'error')} in {_plural(bad, 'row')} ({tail}):")
            lines.extend("  " + _describe(e) for e in self.errors)
        if self.warnings:
            lines.append(f"{_plural(len(self.warnings), 'warning')}:")
            lines.extend("  " + _describe(w) for w in self.warnings)
        if self.rejects_path is not None:
            lines.append(f"bad rows written to {self.rejects_path}")
        return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _describe(e: RowError) -> str:
    where = f"{e.sheet} row {e.row}" if e.sheet else f"row {e.row}"
    return f"{where}, column '{e.column}', value '{e.value}': {e.reason}"
