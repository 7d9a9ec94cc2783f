"""Photos of a work order: stored under var/uploads/<yyyy>/<mm>/ with their type (by the bytes), size and
sha256; refused when too large (413) or not a JPEG, PNG or WebP (415), each naming the field; and nothing
half-stored when the commit fails: no file and no row. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor, Role
from liftwatch.app import create_app
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance import service
from liftwatch.maintenance.workflow import WorkOrderSource
from tests.factories import auth
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

LIMIT_MB = 0.05  # 52,428 bytes: small photos keep the test fast
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000
JPEG = b"\xff\xd8\xff\xe0" + b"\x11" * 1000
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x22" * 500


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var", secret_key="test-secret-" + "x" * 40, pipeline=False, upload_max_mb=LIMIT_MB
    )


@pytest.fixture
def work_order(session: Session, clock: FixedClock, people: dict[str, Actor], settings: Settings) -> int:
    out = service.open_corrective(
        session, people["admin"], "11SHA000001", WorkOrderSource.MANUAL, None, "", clock, settings
    )
    session.commit()
    return out.work_order.id


def _stored(settings: Settings) -> list[Path]:
    root = settings.var_dir / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _rows(session_factory: sessionmaker[Session], people: dict[str, Actor], wo: int) -> int:
    with session_factory() as s:
        return len(service.attachments_of(s, service.get_work_order(s, people["admin"], wo)))


def _upload(client: TestClient, wo: int, data: bytes, ctype: str, headers: dict[str, str]) -> Any:
    files = {"file": ("photo.bin", data, ctype)}
    return client.post(
        "/api/v1/maintenance/attachments", data={"work_order_id": str(wo)}, files=files, headers=headers
    )


@pytest.mark.parametrize(
    ("data", "ctype", "ext"),
    [(PNG, "image/png", "png"), (JPEG, "image/jpeg", "jpg"), (WEBP, "application/octet-stream", "webp")],
)
def test_a_photo_is_stored_with_its_type_size_and_hash(
    client: TestClient, settings: Settings, work_order: int, data: bytes, ctype: str, ext: str
) -> None:
    headers = auth(client, Role.MAINTENANCE)
    r = _upload(client, work_order, data, ctype, headers)
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["size"], out["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    [path] = _stored(settings)
    assert path.parent.relative_to(settings.var_dir).as_posix() == "uploads/2026/11"
    assert path.suffix == f".{ext}" and path.read_bytes() == data
    got = client.get(f"/api/v1/maintenance/attachments/{out['id']}", headers=auth(client, Role.REGULATOR))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == out["content_type"] == f"image/{'jpeg' if ext == 'jpg' else ext}"
    outside = client.get(f"/api/v1/maintenance/attachments/{out['id']}", headers=auth(client, Role.USE_UNIT))
    assert outside.status_code == 404  # UU-B does not use 11SHA000001


@pytest.mark.parametrize(
    ("data", "ctype", "status"),
    [
        (JPEG + b"\x00" * int(LIMIT_MB * 1024 * 1024), "image/jpeg", 413),  # one photo over the limit
        (b"GIF89a" + b"\x00" * 100, "image/gif", 415),
        (b"%PDF-1.7 not a photo", "image/jpeg", 415),  # the header lies: the bytes decide
        (PNG, "image/jpeg", 415),  # declared as another image type than it is
    ],
    ids=["too-large", "gif", "pdf-as-jpeg", "png-as-jpeg"],
)
def test_a_refused_photo_names_the_field_and_leaves_nothing(
    client: TestClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    people: dict[str, Actor],
    work_order: int,
    data: bytes,
    ctype: str,
    status: int,
) -> None:
    r = _upload(client, work_order, data, ctype, auth(client, Role.MAINTENANCE))
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == "file"
    assert _stored(settings) == []
    assert _rows(session_factory, people, work_order) == 0


def test_nothing_is_half_stored_when_the_commit_fails(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    settings: Settings,
    people: dict[str, Actor],
    work_order: int,
) -> None:
    session = session_factory()

    def refuse(_session: Session) -> None:
        raise RuntimeError("the database went away")

    event.listen(session, "before_commit", refuse)
    row, staged = service.add_attachment(
        session, people["maint_a"], work_order, io.BytesIO(PNG), "image/png", "p.png", clock, settings
    )
    assert staged.temp.exists() and not staged.final.exists()  # written, but not in place yet
    with pytest.raises(RuntimeError):
        service.commit_attachment(session, staged)
    session.close()
    assert _stored(settings) == []
    assert _rows(session_factory, people, work_order) == 0
    # and the same with a commit that succeeds: file and row both there
    with session_factory() as ok:
        row, staged = service.add_attachment(
            ok, people["maint_a"], work_order, io.BytesIO(PNG), "image/png", "p.png", clock, settings
        )
        service.commit_attachment(ok, staged)
        assert _stored(settings) == [settings.var_dir / row.path]
    assert _rows(session_factory, people, work_order) == 1


def test_only_the_units_staff_attach_photos(client: TestClient, settings: Settings, work_order: int) -> None:
    for role, status in ((Role.ADMIN, 403), (Role.USE_UNIT, 403)):
        assert _upload(client, work_order, PNG, "image/png", auth(client, role)).status_code == status
    assert _stored(settings) == []


def test_a_photo_larger_than_other_bodies_passes_the_body_limit(
    engine: Engine, clock: FixedClock, work_order: int, tmp_path: Path
) -> None:
    """Most routes take 1 MiB (LIFTWATCH_MAX_BODY_MB); the upload route takes LIFTWATCH_UPLOAD_MAX_MB and
    its multipart envelope."""
    roomy = Settings(var_dir=tmp_path / "roomy", secret_key="s" * 48, pipeline=False, upload_max_mb=2.0)
    photo = JPEG + b"\x00" * (1536 * 1024)  # 1.5 MiB
    with TestClient(create_app(settings=roomy, engine=engine, clock=clock)) as client:
        r = _upload(client, work_order, photo, "image/jpeg", auth(client, Role.MAINTENANCE))
        assert r.status_code == 201, r.text
        assert r.json()["size"] == len(photo)
        too_big = _upload(client, work_order, photo + photo, "image/jpeg", auth(client, Role.MAINTENANCE))
        assert too_big.status_code == 413
