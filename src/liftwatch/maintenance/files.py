"""Photo uploads: the type is what the bytes say (JPEG, PNG or WebP magic numbers), not what the client
declared; the size is limited while reading; the file is written under a temporary name and moved to its
place only after its row committed (``StagedFile.publish``), or removed (``discard``): nothing half-stored
is left behind, neither a file without a row nor a row without a file."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from liftwatch.core.errors import DomainError, FieldError

MIB = 1024 * 1024
CHUNK = 64 * 1024
TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class FileTooLarge(DomainError):
    status_code = 413

    def __init__(self, field: str, limit_mb: float) -> None:
        super().__init__(
            f"{field}: larger than {limit_mb:g} MiB", [FieldError(field, f"larger than {limit_mb:g} MiB")]
        )


class UnsupportedType(DomainError):
    status_code = 415

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", [FieldError(field, message)])


def sniff(head: bytes) -> str | None:
    """The image type the first bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class StagedFile:
    """A file written under a temporary name next to its final place."""

    temp: Path
    final: Path
    relative: str  # the final path relative to the var dir (what the row stores)
    content_type: str
    size: int
    sha256: str

    def publish(self) -> None:
        os.replace(self.temp, self.final)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


def stage(
    var_dir: Path,
    stream: BinaryIO,
    declared_type: str | None,
    max_mb: float,
    now: datetime,
    field: str = "file",
) -> StagedFile:
    """Write ``stream`` to a temporary file under ``var_dir/uploads/<yyyy>/<mm>/``. Refused (and nothing
    left) when larger than ``max_mb`` (413) or not a JPEG, PNG or WebP by its bytes (415), or when the
    declared type is another image type than the bytes say (415)."""
    head = stream.read(16)
    kind = sniff(head)
    if kind is None:
        raise UnsupportedType(field, "not a JPEG, PNG or WebP image (by its content)")
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared and declared not in ("application/octet-stream", kind):
        raise UnsupportedType(field, f"declared as {declared[:40]!r} but the content is {kind}")
    folder = var_dir / "uploads" / f"{now.year:04d}" / f"{now.month:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{TYPES[kind]}"
    final = folder / name
    temp = folder / f".{name}.part"
    limit = int(max_mb * MIB)
    digest = hashlib.sha256()
    size = 0
    try:
        with temp.open("xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise FileTooLarge(field, max_mb)
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(CHUNK)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    relative = final.relative_to(var_dir).as_posix()
    return StagedFile(temp, final, relative, kind, size, digest.hexdigest())
