"""The ledger import on screen (/registry/import): who may use it, a preview of an edited export that
lists exactly the changed fields (in Chinese) and writes nothing, its apply in one transaction, refused rows
named by row and column with Chinese reasons, and the kept upload usable once, by its sender only."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.registry.io import ELEVATOR_ALIASES, export_file, import_file
from liftwatch.registry.models import Elevator
from liftwatch.web.registry_import import reason_text
from tests.factories import seed
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only

TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def edited_export(session: Session, tmp_path: Path, edit: dict[str, dict[str, str]]) -> bytes:
    """The seeded ledger exported with Chinese headers, ``edit`` applied (code -> field -> text)."""
    path = tmp_path / "ledger.csv"
    export_file(session, SYSTEM_ACTOR, path, headers="zh")
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    for row in table[1:]:
        for name, value in edit.get(row[0], {}).items():
            row[table[0].index(ELEVATOR_ALIASES[name][0])] = value
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue().encode("utf-8-sig")


def preview(client: TestClient, body: bytes, name: str = "台账.csv", upsert: bool = True) -> tuple[int, str]:
    data = {"upsert": "1"} if upsert else {}
    r = client.post("/registry/import/preview", data=data, files={"file": (name, body, "text/csv")})
    return r.status_code, r.text


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-{name}="(\d+)"', html)
    assert found, name
    return found.group(1)


def building(session: Session, code: str) -> str:
    session.expire_all()
    return str(session.scalar(select(Elevator.building).where(Elevator.registration_code == code)))


def test_only_admin_and_regulator_import(client: TestClient, seeded: None) -> None:
    web_login(client, "inspector")
    assert client.get("/registry/import").status_code == 403
    assert 'id="registry-import"' not in client.get("/elevators").text
    client.cookies.clear()
    web_login(client, "regulator")
    page = client.get("/registry/import")
    assert page.status_code == 200 and "导入台账" in page.text and 'id="import-upsert"' in page.text
    assert 'id="registry-import"' in client.get("/elevators").text


def test_a_preview_of_an_edited_export_then_its_apply(
    client: TestClient, session: Session, seeded: None, tmp_path: Path
) -> None:
    web_login(client, "regulator")
    body = edited_export(session, tmp_path, {"11SHA000002": {"building": "7号楼"}})
    status, html = preview(client, body)
    assert status == 200
    assert [figure(html, k) for k in ("imported", "updated", "unchanged", "refused")] == ["0", "1", "3", "0"]
    rows = re.findall(
        r'<tr data-code="([^"]+)">.*?<td>([^<]+)</td><td class="muted">[^<]*</td><td>([^<]+)</td>', html, re.S
    )
    assert rows == [("11SHA000002", "楼栋", "7号楼")]  # the field by its Chinese label
    assert building(session, "11SHA000002") != "7号楼"  # a preview writes nothing
    token = TOKEN.search(html)
    assert token is not None
    done = client.post("/registry/import/apply", data={"token": token.group(1), "upsert": "1"})
    assert done.status_code == 200 and 'data-step="done"' in done.text and figure(done.text, "updated") == "1"
    assert building(session, "11SHA000002") == "7号楼"
    # the upload is used once
    assert (
        client.post("/registry/import/apply", data={"token": token.group(1), "upsert": "1"}).status_code
        == 404
    )


def test_refused_rows_are_named_by_row_and_column_in_chinese(
    client: TestClient, session: Session, seeded: None, tmp_path: Path
) -> None:
    web_login(client, "regulator")
    body = edited_export(
        session,
        tmp_path,
        {"11SHA000001": {"maintenance_unit": "NO-SUCH"}, "11SHB000003": {"installation_date": "昨天"}},
    )
    status, html = preview(client, body)
    assert status == 200 and figure(html, "refused") == "2"
    errors = re.findall(
        r'<tr><td class="num">(\d+)</td><td>([^<]+)</td><td class="code">[^<]*</td><td>([^<]+)</td></tr>',
        html,
    )
    assert ("2", "维保单位", "未知的单位代码 NO-SUCH") in errors
    assert any(
        row == "4" and column == "安装日期" and reason.startswith("日期无效")
        for row, column, reason in errors
    )
    assert 'id="apply-skip"' in html  # the good rows may go without the bad ones
    # without upsert every registered row is a registered-twice error, in Chinese
    _, plain = preview(client, edited_export(session, tmp_path, {}), upsert=False)
    assert "使用登记证编号 11SHA000001 已登记" in plain


def test_the_kept_upload_is_its_senders_and_a_bad_file_is_said(
    client: TestClient, session: Session, seeded: None, tmp_path: Path
) -> None:
    web_login(client, "regulator")
    _, html = preview(client, edited_export(session, tmp_path, {}))
    token = TOKEN.search(html)
    assert token is not None
    client.cookies.clear()
    web_login(client, "admin")
    assert client.post("/registry/import/apply", data={"token": token.group(1)}).status_code == 404
    assert client.post("/registry/import/apply", data={"token": "../../etc"}).status_code == 404
    missing = client.post("/registry/import/preview", data={"upsert": "1"})
    assert missing.status_code == 422 and "请选择要上传的台账文件" in missing.text
    status, text = preview(client, b"x", name="notes.txt")
    assert status == 422 and "文件无法导入" in text


def test_every_reason_the_import_gives_has_its_words(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """The screen's table of reasons covers what the import says: each reason of a file made to hit them
    all is translated, not shown after the generic lead."""
    seed(session, clock)
    required = ["registration_code", "rescue_code", "kind", "place_type", "district"]
    files = {
        "rows.csv": [
            [*required, "maintenance_unit", "installation_date", "no_repair_fund"],
            ["11SHA000001", "100001", "traction", "office", "静安区", "", "", ""],
            ["31SH0601", "200601", "traction", "office", "静安区", "UU-A", "", ""],
            ["31SH0602", "200602", "traction", "office", "静安区", "NOPE", "2020-13-45", "maybe"],
            ["31SH0602", "200602", "", "office", "静安区", "", "", ""],
        ],
        "header.csv": [
            [*required, "registration_code", "color"],
            ["31SH0603", "200603", "traction", "office", "x"],
        ],
        "missing.csv": [required[:-1], ["31SH0604", "200604", "traction", "office"]],
        "empty.csv": [],
    }
    said = []
    for name, table in files.items():
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(table)
        report = import_file(session, SYSTEM_ACTOR, path, clock, write_rejects=False)
        said += [*report.errors, *report.warnings]
    assert len({e.reason.split("'")[0] for e in said}) >= 10
    for e in said:
        assert not reason_text(e.reason, "zh-CN").startswith("取值无效"), e.reason
    # and the upsert's own refusals
    for reason in (
        "differs from the registered rescue code '100001': a rescue code is reassigned on its own, not by "
        "import",
        "differs from the registered status 'in_use': a status changes by a life event (suspension, restart, "
        "scrapping), not by import",
        "the elevator is scrapped: its record is closed",
    ):
        assert not reason_text(reason, "zh-CN").startswith("取值无效")
    assert "在用" in reason_text("differs from the registered status 'in_use': ...", "zh-CN")
    assert (
        reason_text("Input should be greater than 0", "zh-CN") == "取值无效：Input should be greater than 0"
    )
