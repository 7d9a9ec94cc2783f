"""Issue 9 for the import and export: hostile files are refused fast with nothing stored, and exports are
safe to open in a spreadsheet (no formula runs, no control character breaks the .xlsx)."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.db import make_session_factory
from liftwatch.registry import io as registry_io
from liftwatch.registry.io import export_file, import_file
from liftwatch.registry.ledger import FileTooLarge
from liftwatch.registry.models import Elevator
from tests.factories import auth, seed

URL = "/api/v1/registry/import"
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)", "\tx", "'=already", "ok"]


def _elevators(engine: Engine) -> int:
    with make_session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(Elevator)) or 0


def _zip_bomb(path: Path, megabytes: int) -> Path:
    """A well-formed-looking .xlsx whose sheet unpacks to ``megabytes`` MB (about 100 KB packed)."""
    row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
    chunk = row * (1024 * 1024 // len(row))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b"<worksheet><sheetData>")
            for _ in range(megabytes):
                fh.write(chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture
def regulator(client: TestClient, session: Session, clock: FixedClock) -> dict[str, str]:
    seed(session, clock)
    return auth(client, Role.REGULATOR)


def _post(client: TestClient, headers: dict[str, str], name: str, content: bytes) -> tuple[int, dict]:
    r = client.post(URL, files={"file": (name, content, "application/octet-stream")}, headers=headers)
    return r.status_code, r.json()


def test_zip_bomb_is_refused_before_it_is_unpacked(
    client: TestClient, engine: Engine, regulator: dict[str, str], tmp_path: Path
) -> None:
    bomb = _zip_bomb(tmp_path / "bomb.xlsx", 2 * registry_io.MAX_UNPACKED_BYTES // 2**20)
    assert bomb.stat().st_size < 2 * 2**20
    status, body = _post(client, regulator, "台账.xlsx", bomb.read_bytes())
    assert status == 413, body
    # "unpacks to" is said from the archive's declared sizes, before anything is unpacked
    assert body["errors"][0]["field"] == "file" and "unpacks to" in body["detail"]
    assert _elevators(engine) == 4


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("random.xlsx", os.urandom(4096), "not an Excel .xlsx file"),
        ("empty.xlsx", b"", "not an Excel .xlsx file"),
        ("utf16.csv", "registration_code,rescue_code\r\n31SH1,200001\r\n".encode("utf-16-le"), "UTF-8"),
        ("binary.csv", b"registration_code\n\x80\x80\xff\xfe\x81\n", "GB18030"),
    ],
)
def test_unreadable_files_are_422_naming_the_file(
    client: TestClient,
    engine: Engine,
    regulator: dict[str, str],
    name: str,
    content: bytes,
    words: str,
) -> None:
    status, body = _post(client, regulator, name, content)
    assert status == 422, body
    assert body["errors"][0]["field"] == "file"
    assert name in body["detail"] and words in body["detail"]
    assert _elevators(engine) == 4


def test_a_zip_that_is_no_workbook_is_422(
    client: TestClient, engine: Engine, regulator: dict[str, str]
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    status, body = _post(client, regulator, "x.xlsx", buf.getvalue())
    assert status == 422 and body["errors"][0]["field"] == "file", body
    assert _elevators(engine) == 4


def test_too_many_rows_stop_the_read(sqlite_engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("registration_code\n" + "x\n" * (registry_io.MAX_ROWS + 5), encoding="utf-8")
    with make_session_factory(sqlite_engine)() as s, pytest.raises(FileTooLarge, match="rows"):
        import_file(s, SYSTEM_ACTOR, path, clock)


def test_the_command_line_refuses_a_bomb_without_a_traceback(
    sqlite_engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from liftwatch.cli import app as cli

    bomb = _zip_bomb(tmp_path / "bomb.xlsx", 2 * registry_io.MAX_UNPACKED_BYTES // 2**20)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["registry", "import", str(bomb), "--database-url", url])
    assert result.exit_code != 0
    assert "unpacks to" in " ".join(result.output.split()) and "Traceback" not in result.output


def _poison(engine: Engine) -> None:
    """Text written before the schemas refused control characters, and cells a spreadsheet would run."""
    with engine.begin() as conn:
        conn.execute(
            update(Elevator)
            .where(Elevator.registration_code == "11SHA000001")
            .values(manufacturer="某\x01电梯\x1f厂", model=FORMULAS[0], serial_number=FORMULAS[1])
        )
        conn.execute(
            update(Elevator)
            .where(Elevator.registration_code == "11SHA000002")
            .values(model=FORMULAS[2], serial_number=FORMULAS[3], building=FORMULAS[5], street="-")
        )


def test_exports_neutralise_control_characters_and_formulas(
    client: TestClient, engine: Engine, session: Session, clock: FixedClock, regulator: dict[str, str]
) -> None:
    _poison(engine)
    r = client.get(URL.replace("import", "export"), headers=regulator)
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    rows = {row[0]: row for row in wb["elevators"].iter_rows(values_only=True)}
    wb.close()
    header = list(rows["registration_code"])
    a = dict(zip(header, rows["11SHA000001"], strict=True))
    assert a["manufacturer"] == "某电梯厂"
    assert (a["model"], a["serial_number"]) == ("'" + FORMULAS[0], "'+1+2")

    r = client.get(URL.replace("import", "export"), params={"format": "csv"}, headers=regulator)
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    by_code = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    b = by_code["11SHA000002"]
    got = (b["model"], b["serial_number"], b["building"], b["street"])
    assert got == ("'-3", "'@SUM(A1)", "''=already", "'-")
    for row in table[1:]:
        assert not any(cell and cell[0] in "=+-@\t\r" for cell in row), row
    assert by_code["11SHA000001"]["model"] == "'" + FORMULAS[0]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_neutralised_cells_import_back_unchanged(
    sqlite_engine: Engine, clock: FixedClock, tmp_path: Path, suffix: str
) -> None:
    factory = make_session_factory(sqlite_engine)
    with factory() as s:
        seed(s, clock)
    _poison(sqlite_engine)
    path = tmp_path / f"out{suffix}"
    with factory() as s:
        export_file(s, SYSTEM_ACTOR, path)
        for code in ("11SHA000001", "11SHA000002"):
            s.execute(update(Elevator).where(Elevator.registration_code == code).values(model="x"))
        s.commit()
    with factory() as s:  # the re-import reports the existing codes; the values as read are what matter
        sheet, _ = registry_io._read(path)
        assert sheet is not None
        cells = {row[0]: dict(zip(sheet.header, row, strict=False)) for _, row in sheet.rows}
        assert cells["11SHA000001"]["model"] == FORMULAS[0]
        assert cells["11SHA000001"]["serial_number"] == FORMULAS[1]
        assert cells["11SHA000002"]["model"] == FORMULAS[2]
        assert cells["11SHA000002"]["serial_number"] == FORMULAS[3]
        assert cells["11SHA000002"]["building"] == FORMULAS[5]
        assert cells["11SHA000002"]["street"] == "-"
        assert import_file(s, SYSTEM_ACTOR, path, clock).imported == 0
