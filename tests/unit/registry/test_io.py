"""Registry import and export: agencies' CSV and Excel files, the error report, all-or-nothing and
skip-invalid imports, round trips into an empty database, scope, the CLI and the HTTP routes."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.cli import app as cli
from liftwatch.core.clock import FixedClock
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.errors import Forbidden, InvalidInput
from liftwatch.registry import queries, service
from liftwatch.registry.io import (
    ELEVATOR_ALIASES,
    ELEVATOR_COLUMNS,
    ENUM_LABELS,
    EXPORT_COLUMNS,
    REASONS_COLUMN,
    UNIT_ALIASES,
    UNIT_COLUMNS,
    export_file,
    import_file,
)
from liftwatch.registry.ledger import RowError
from liftwatch.registry.models import Elevator, ElevatorEvent, Unit
from liftwatch.registry.schemas import ElevatorCreate, ElevatorUpdate, EventIn, UnitCreate, UnitUpdate
from tests.factories import auth, seed

REG = Actor("reg", Role.REGULATOR)
BAD_DATE = "not a valid date: expected YYYY-MM-DD, YYYY/M/D or YYYY年M月D日"

ZH = {
    "street": "街道",
    "address": "地址",
    "installation_date": "安装日期",
    "commissioning_date": "投用日期",
    "rated_load_kg": "额定载重量(kg)",
    "rated_speed_mps": "额定速度",
    "use_unit": "使用单位（代码）",
    "maintenance_unit": "维保单位",
    "status": "状态",
    "no_property_management": "无物业",
}
ZH_HEADER = [
    "序号",
    "使用登记证编号",
    "救援识别码",
    "设备类别",
    "场所类型",
    "区",
    "街道",
    "地址",
    "安装日期",
    "投用日期",
    "额定载重量(kg)",
    "额定速度",
    "使用单位（代码）",
    "维保单位",
    "状态",
    "无物业",
]


def _xlsx(path: Path, header: Sequence[Any], rows: Sequence[Sequence[Any]], units: Any = None) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "电梯台账"
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    if units is not None:
        us = wb.create_sheet("units")
        for row in units:
            us.append(list(row))
    wb.save(path)
    return path


def _csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig"
) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _count(engine: Engine) -> tuple[int, int, int]:
    """Elevators, timeline entries and units, read through a fresh session (what was committed)."""
    with make_session_factory(engine)() as s:
        return (
            s.scalar(select(func.count()).select_from(Elevator)) or 0,
            s.scalar(select(func.count()).select_from(ElevatorEvent)) or 0,
            s.scalar(select(func.count()).select_from(Unit)) or 0,
        )


def _triples(errors: Sequence[RowError]) -> set[tuple[int, str, str, str]]:
    return {(e.row, e.column, e.value, e.reason) for e in errors}


def test_columns_are_the_api_fields() -> None:
    assert set(ELEVATOR_COLUMNS) == set(ElevatorCreate.model_fields)
    assert set(UNIT_COLUMNS) == set(UnitCreate.model_fields)


def test_the_guide_lists_every_accepted_header() -> None:
    guide = (Path(__file__).parents[3] / "docs" / "REGISTRY_IO.md").read_text(encoding="utf-8")
    for aliases in (ELEVATOR_ALIASES, UNIT_ALIASES):
        for name, headers in aliases.items():
            assert f"`{name}` | {' / '.join(headers)} |" in guide
    for labels in ENUM_LABELS.values():
        for english in set(labels.values()):
            assert f"`{english}`" in guide


# ---------------------------------------------------------------- the acceptance test


def test_bad_workbook_names_every_error_and_imports_nothing(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    seed(session, clock)
    before = _count(engine)
    header = [*ZH_HEADER, "备注2"]

    def row(reg: str, rescue: str | None, kind: str = "traction", **fields: Any) -> list[Any]:
        values = {
            "使用登记证编号": reg,
            "救援识别码": rescue,
            "设备类别": kind,
            "场所类型": "office",
            "区": "静安区",
        }
        values |= {ZH[k]: v for k, v in fields.items()}
        return [values.get(h) for h in header]

    rows = [
        # 2: good, in Chinese labels
        row("31SH0001", "200001", "曳引驱动电梯", installation_date="2015/3/1",
            commissioning_date="2015年3月2日", rated_load_kg=1000, use_unit="UU-A", maintenance_unit="MU-A",
            status="在用", no_property_management="否"),
        row("31SH0002", None, "自动扶梯"),  # 3: rescue code missing
        row("31SH0001", "200003"),  # 4: registration code repeats row 2
        row("31SH0005", "200005", installation_date="2015-02-30"),  # 5: a date that does not exist
        row("31SH0006", "200001", maintenance_unit="MU-ZZ"),  # 6: unknown unit, rescue code of row 2
        row("11SHA000001", "100002"),  # 7: registration and rescue code already in the database
        # 8: a use unit as maintenance unit; a yes/no that is neither; commissioned before installed
        row("31SH0008", "200008", installation_date="2016-01-01", commissioning_date="2015-01-01",
            maintenance_unit="UU-B", no_property_management="也许"),
        row("31SH0009", "200009", "缆车", rated_load_kg="很重"),  # 9: unknown kind, weight not a number
    ]  # fmt: skip
    path = _xlsx(tmp_path / "agency.xlsx", header, rows)

    report = import_file(session, REG, path, clock)
    session.commit()

    assert report.rows == 8
    assert report.imported == 0
    triples = _triples(report.errors)
    expected = {
        (3, "救援识别码", "", "missing required field"),
        (4, "使用登记证编号", "31SH0001", "duplicate of row 2 in this file"),
        (5, "安装日期", "2015-02-30", BAD_DATE),
        (6, "维保单位", "MU-ZZ", "unknown unit code 'MU-ZZ'"),
        (6, "救援识别码", "200001", "duplicate of row 2 in this file"),
        (7, "使用登记证编号", "11SHA000001", "'11SHA000001' is already registered"),
        (7, "救援识别码", "100002", "'100002' is already used by another elevator"),
        (8, "维保单位", "UU-B", "unit 'UU-B' is a use_unit, expected a maintenance"),
        (8, "无物业", "也许", "not a yes/no value: expected true/false, 1/0 or 是/否"),
        (8, "投用日期", "2015-01-01", "commissioning_date is before installation_date"),
    }
    assert expected <= triples
    by_cell = {(e.row, e.column): e for e in report.errors}
    assert by_cell[(9, "设备类别")].value == "缆车"
    assert "'traction'" in by_cell[(9, "设备类别")].reason
    assert by_cell[(9, "额定载重量(kg)")].value == "很重"
    assert "valid integer" in by_cell[(9, "额定载重量(kg)")].reason
    assert len(report.errors) == len(expected) + 2  # and nothing else: row 2 is clean
    assert all(e.row != 2 for e in report.errors)
    assert [(w.row, w.column, w.reason) for w in report.warnings] == [(1, "备注2", "unknown column, ignored")]
    assert _count(engine) == before  # nothing imported, not even the good row
    text = report.render()
    assert "nothing imported" in text
    assert "row 6, column '维保单位', value 'MU-ZZ': unknown unit code 'MU-ZZ'" in text


# ---------------------------------------------------------------- good files


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_chinese_csv_imports(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path, encoding: str
) -> None:
    seed(session, clock)
    rows = [
        [1, "31SH0001", "200001", "曳引驱动电梯", "住宅", "静安区", "南京西路街道", "某路1号", "2015/3/1",
         "2015年3月2日", "1000kg", "1.75", "UU-A", "MU-A", "在用", "是"],
        [2, "31SH0002", "200002", "自动扶梯", "商场", "徐汇区", "", "", "2016-01-01", "", "", "0.5", "",
         "MU-B", "停用", "否"],
    ]  # fmt: skip
    path = _csv(tmp_path / "台账.csv", ZH_HEADER, rows, encoding=encoding)

    report = import_file(session, REG, path, clock)
    session.commit()

    assert report.errors == []
    assert (report.rows, report.imported) == (2, 2)
    one = queries.get_elevator(session, REG, "31SH0001")
    assert (one.kind, one.place_type, one.status) == ("traction", "residential", "in_use")
    assert (one.installation_date, one.commissioning_date) == (date(2015, 3, 1), date(2015, 3, 2))
    assert (one.rated_load_kg, one.rated_speed_mps) == (1000, 1.75)
    assert one.use_unit is not None and one.use_unit.code == "UU-A"
    assert one.maintenance_unit is not None and one.maintenance_unit.code == "MU-A"
    assert one.no_property_management is True
    assert (one.street, one.address) == ("南京西路街道", "某路1号")
    two = queries.get_elevator(session, REG, "31SH0002")
    assert (two.kind, two.status, two.use_unit, two.no_property_management) == (
        "escalator",
        "suspended",
        None,
        False,
    )
    (entry,) = queries.timeline(session, one)
    assert entry.kind == "registration"
    assert entry.recorded_by == "reg"
    assert entry.occurred_at == datetime(2015, 3, 2, tzinfo=UTC)
    assert "import" in entry.summary and "台账.csv" in entry.summary
    (entry2,) = queries.timeline(session, two)
    assert entry2.occurred_at == datetime(2016, 1, 1, tzinfo=UTC)  # no commissioning date: installation


def test_excel_cells_dates_numbers_and_booleans(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    seed(session, clock)
    header = ["registration_code", "rescue_code", "kind", "place_type", "district", "installation_date",
              "commissioning_date", "stops", "no_repair_fund", "latitude"]  # fmt: skip
    rows = [["31SH0101", 200101, "Escalator", "MALL", "静安区", datetime(2010, 5, 6), date(2010, 6, 1), 18.0,
             True, 31.2304]]  # fmt: skip
    report = import_file(session, REG, _xlsx(tmp_path / "cells.xlsx", header, rows), clock)
    assert report.errors == []
    session.commit()
    e = queries.get_elevator(session, REG, "31SH0101")
    assert (e.rescue_code, e.kind, e.place_type) == ("200101", "escalator", "mall")
    assert (e.installation_date, e.commissioning_date, e.stops) == (date(2010, 5, 6), date(2010, 6, 1), 18)
    assert (e.no_repair_fund, e.latitude) == (True, 31.2304)


# ---------------------------------------------------------------- skip invalid, rejects, re-import


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_skip_invalid_imports_good_rows_and_rejects_can_be_reimported(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path, suffix: str
) -> None:
    seed(session, clock)
    header = [
        "registration_code",
        "rescue_code",
        "kind",
        "place_type",
        "district",
        "commissioning_date",
        "备注",
    ]
    rows = [
        ["31SH0201", "200201", "traction", "office", "静安区", "2020-01-01", "ok"],
        ["31SH0202", "200202", "traction", "office", "静安区", "2020-13-01", "month 13"],
        ["31SH0203", "200203", "traction", "office", "静安区", "", "ok"],
    ]
    src = tmp_path / f"batch{suffix}"
    if suffix == ".csv":
        _csv(src, header, rows)
    else:
        _xlsx(src, header, rows)

    report = import_file(session, REG, src, clock, skip_invalid=True)
    session.commit()

    assert (report.rows, report.imported) == (3, 2)
    assert _triples(report.errors) == {(3, "commissioning_date", "2020-13-01", BAD_DATE)}
    rejects = tmp_path / f"batch.rejects{suffix}"
    assert report.rejects_path == rejects
    assert _count(engine)[0] == 4 + 2

    if suffix == ".csv":
        table = _read_csv(rejects)
    else:
        wb = load_workbook(rejects, read_only=True)
        table = [
            [("" if v is None else str(v)) for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)
        ]
        wb.close()
    assert table[0] == [*header, REASONS_COLUMN]
    assert len(table) == 2
    assert table[1][:6] == ["31SH0202", "200202", "traction", "office", "静安区", "2020-13-01"]
    assert table[1][-1] == f"commissioning_date: {BAD_DATE}"

    # the agency fixes the date in the rejects file and imports it again
    fixed = [[*table[1][:5], "2020-12-01", table[1][6], table[1][7]]]
    again = tmp_path / f"fixed{suffix}"
    if suffix == ".csv":
        _csv(again, table[0], fixed)
    else:
        _xlsx(again, table[0], fixed)
    report2 = import_file(session, REG, again, clock)
    session.commit()
    assert report2.errors == [] and report2.warnings == []  # the reasons column is not an unknown column
    assert report2.imported == 1
    assert queries.get_elevator(session, REG, "31SH0202").commissioning_date == date(2020, 12, 1)
    assert _count(engine)[0] == 4 + 3


def test_skip_invalid_honours_the_rejects_path(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    seed(session, clock)
    header = ["registration_code", "rescue_code", "kind", "place_type", "district"]
    src = _csv(tmp_path / "in.csv", header, [["11SHA000001", "300001", "traction", "office", "静安区"]])
    target = tmp_path / "out" / "bad.csv"
    target.parent.mkdir()
    report = import_file(session, REG, src, clock, skip_invalid=True, rejects_path=target)
    assert report.imported == 0
    assert report.rejects_path == target and target.exists()
    assert not (tmp_path / "in.rejects.csv").exists()


def test_importing_the_same_file_twice_reports_duplicates_against_the_database(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    seed(session, clock)
    header = ["registration_code", "rescue_code", "kind", "place_type", "district"]
    path = _csv(tmp_path / "once.csv", header, [["31SH0301", "200301", "traction", "office", "静安区"]])
    assert import_file(session, REG, path, clock).imported == 1
    session.commit()
    report = import_file(session, REG, path, clock)
    assert report.imported == 0
    assert _triples(report.errors) == {
        (2, "registration_code", "31SH0301", "'31SH0301' is already registered"),
        (2, "rescue_code", "200301", "'200301' is already used by another elevator"),
    }
    assert _count(engine)[0] == 5


# ---------------------------------------------------------------- header and units sheet problems


def test_missing_and_doubled_columns_stop_the_import(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    seed(session, clock)
    header = ["使用登记证编号", "registration_code", "kind", "place_type", "district"]
    path = _csv(tmp_path / "h.csv", header, [["31SH0401", "31SH0401", "traction", "office", "静安区"]])
    report = import_file(session, REG, path, clock, skip_invalid=True)
    assert report.imported == 0
    assert _triples(report.errors) == {
        (
            1,
            "registration_code",
            "registration_code",
            "column '使用登记证编号' already gives registration_code",
        ),
        (1, "rescue_code", "", "required column is missing"),
    }
    assert report.rejects_path is None


def test_units_sheet_creates_units_and_reports_bad_unit_rows(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    seed(session, clock)
    units = [
        ["单位代码", "单位名称", "单位类型", "联系电话"],
        ["MU-NEW", "新维保公司", "维保单位", "021-1"],
        ["MU-BAD", "坏公司", "外星单位", ""],
        ["MU-A", "浦江电梯维保有限公司", "maintenance", ""],  # exists: left as it is
        ["UU-A", "静安物业", "maintenance", ""],  # exists with another type
    ]
    header = ["registration_code", "rescue_code", "kind", "place_type", "district", "maintenance_unit"]
    rows = [
        ["31SH0501", "200501", "traction", "office", "静安区", "MU-NEW"],
        ["31SH0502", "200502", "traction", "office", "静安区", "MU-BAD"],
    ]
    path = _xlsx(tmp_path / "u.xlsx", header, rows, units=units)

    report = import_file(session, REG, path, clock)
    assert report.imported == 0 and report.units_imported == 0
    assert report.unit_rows == 4
    unit_errors = [e for e in report.errors if e.sheet == "units"]
    assert {(e.row, e.column, e.value) for e in unit_errors} == {
        (3, "单位类型", "外星单位"),
        (5, "单位类型", "maintenance"),
    }
    assert any(e.reason == "unit 'UU-A' already exists as a use_unit" for e in unit_errors)
    assert _triples([e for e in report.errors if e.sheet == ""]) == {
        (3, "maintenance_unit", "MU-BAD", "unit 'MU-BAD' is rejected in the units sheet")
    }
    assert "units row 3, column '单位类型'" in report.render()

    report = import_file(session, REG, path, clock, skip_invalid=True)
    session.commit()
    assert (report.imported, report.units_imported) == (1, 1)
    new = queries.get_elevator(session, REG, "31SH0501")
    assert new.maintenance_unit is not None and new.maintenance_unit.name == "新维保公司"
    assert new.maintenance_unit.contact_phone == "021-1"
    assert queries.get_unit(session, REG, "MU-A").contact_phone == "021-5555A"  # unchanged
    rejects = load_workbook(tmp_path / "u.rejects.xlsx", read_only=True)
    assert rejects.sheetnames == ["elevators", "units"]
    unit_rows = list(rejects["units"].iter_rows(values_only=True))
    assert [r[0] for r in unit_rows] == ["单位代码", "MU-BAD", "UU-A"]
    rejects.close()


def test_only_csv_and_xlsx(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    path = tmp_path / "data.xls"
    path.write_bytes(b"\xd0\xcf")
    with pytest.raises(InvalidInput, match=r"expected a \.csv or \.xlsx file"):
        import_file(session, REG, path, clock)


# ---------------------------------------------------------------- round trip


def _enrich(session: Session, clock: FixedClock) -> None:
    """Give the seeded registry a value in every column, of every type, so a round trip proves something."""
    service.update_elevator(
        session,
        SYSTEM_ACTOR,
        "11SHA000001",
        ElevatorUpdate(
            equipment_code="00310012345",
            manufacturer="某电梯(中国)有限公司",
            model="GPS-Ⅲ",
            serial_number='=SN,1"2',
            design_life_years=25,
            design_life_cycles=2_000_000,
            building="3号楼 A座",
            latitude=31.230416789,
            longitude=121.473701234,
            iot_terminal_id="T-0001",
            no_property_management=True,
            no_maintenance_contract=True,
            no_repair_fund=True,
            rated_speed_mps=0.63,
        ),
        clock,
    )
    service.record_event(session, SYSTEM_ACTOR, "11SHB000003", EventIn(kind="suspension"), clock)
    service.create_elevator(
        session,
        SYSTEM_ACTOR,
        ElevatorCreate(
            registration_code="11SHC000005",
            rescue_code="1000005",
            kind="dumbwaiter",
            place_type="hotel",
            district="黄浦区",
        ),
        clock,
    )
    service.update_unit(
        session,
        SYSTEM_ACTOR,
        "MU-A",
        UnitUpdate(licence_no="TS3431001-2027", contact_name="张三", address="上海市某路8号",
                   district="静安区", latitude=31.1, longitude=121.5),
        clock,
    )  # fmt: skip
    session.commit()


def _snapshot(engine: Engine) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    skip = {"id", "created_at", "updated_at", "use_unit_id", "maintenance_unit_id"}
    with make_session_factory(engine)() as s:
        codes = {uid: code for uid, code in s.execute(select(Unit.id, Unit.code))}
        elevators = {}
        for e in s.scalars(select(Elevator)).unique():
            row = {c.name: getattr(e, c.key) for c in Elevator.__table__.columns if c.name not in skip}
            row["use_unit"] = codes.get(e.use_unit_id) if e.use_unit_id else None
            row["maintenance_unit"] = codes.get(e.maintenance_unit_id) if e.maintenance_unit_id else None
            elevators[e.registration_code] = row
        units = {
            u.code: {c.name: getattr(u, c.key) for c in Unit.__table__.columns if c.name not in skip}
            for u in s.scalars(select(Unit))
        }
    return elevators, units


@pytest.fixture
def empty_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A second, empty, migrated SQLite database beside the test's own one."""
    path = tmp_path / "target" / "empty.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.mark.parametrize("headers", ["en", "zh"])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_round_trip_into_an_empty_database_loses_nothing(
    engine: Engine,
    empty_db: Engine,
    session: Session,
    clock: FixedClock,
    tmp_path: Path,
    suffix: str,
    headers: str,
) -> None:
    seed(session, clock)
    _enrich(session, clock)
    path = tmp_path / f"registry{suffix}"
    assert export_file(session, SYSTEM_ACTOR, path, headers=headers) == 5
    zh = headers == "zh"
    if suffix == ".csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        table = _read_csv(path)
        names = {"use_unit_name": "使用单位名称", "maintenance_unit_name": "维保单位名称"}
        assert table[0] == (
            [names.get(c) or ELEVATOR_ALIASES[c][0] for c in EXPORT_COLUMNS] if zh else list(EXPORT_COLUMNS)
        )
        assert [c for c in EXPORT_COLUMNS if c not in ELEVATOR_COLUMNS] == list(names)
        row = dict(zip(table[0], next(r for r in table[1:] if r[0] == "11SHB000003"), strict=True))
        if zh:  # what a person reads in Excel
            assert (row["设备类别"], row["场所类型"], row["状态"], row["无物业管理"]) == (
                "自动扶梯",
                "商场",
                "停用",
                "否",
            )
        else:
            assert (row["kind"], row["place_type"], row["status"]) == ("escalator", "mall", "suspended")
        # each unit's name beside its code, for people; the import below reads the codes, no warning
        unit = row["维保单位" if zh else "maintenance_unit"]
        name = row["维保单位名称" if zh else "maintenance_unit_name"]
        assert (unit, name) == ("MU-B", session.scalar(select(Unit.name).where(Unit.code == "MU-B")))
        assert (tmp_path / "registry.units.csv").exists()
    else:
        sheets = ["电梯", "单位"] if zh else ["elevators", "units"]
        assert load_workbook(path, read_only=True).sheetnames == sheets

    assert _count(empty_db) == (0, 0, 0)
    with make_session_factory(empty_db)() as target:
        report = import_file(target, SYSTEM_ACTOR, path, clock)
        target.commit()
    assert report.errors == [] and report.warnings == []
    assert (report.imported, report.units_imported) == (5, 6)  # every seeded unit, the insurer too

    before_e, before_u = _snapshot(engine)
    after_e, after_u = _snapshot(empty_db)
    assert after_e == before_e
    assert after_u == before_u
    assert before_e["11SHA000001"]["serial_number"] == '=SN,1"2'  # stays text, not a formula
    assert before_e["11SHB000003"]["status"] == "suspended"
    assert _count(empty_db)[1] == 5  # one registration entry each


# ---------------------------------------------------------------- scope and roles


def test_unit_staff_export_only_their_elevators(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    seed(session, clock)
    mu_a = session.scalar(select(Unit.id).where(Unit.code == "MU-A"))
    staff = Actor("maint_a", Role.MAINTENANCE, unit_id=mu_a)
    path = tmp_path / "mine.csv"
    assert export_file(session, staff, path) == 2
    table = _read_csv(path)
    assert sorted(r[0] for r in table[1:]) == ["11SHA000001", "11SHA000002"]
    units = {r[0]: r for r in _read_csv(tmp_path / "mine.units.csv")[1:]}
    assert set(units) == {"MU-A", "UU-A"}  # no other unit's record
    phone = UNIT_COLUMNS.index("contact_phone")
    assert units["MU-A"][phone] == "021-5555A"
    assert units["UU-A"][phone] == ""  # other units: code, name and type only
    with pytest.raises(Forbidden):
        export_file(session, Actor("p", Role.PUBLIC), tmp_path / "p.csv")


@pytest.mark.parametrize("role", [Role.MAINTENANCE, Role.USE_UNIT, Role.INSPECTOR, Role.RESCUE_OPERATOR])
def test_only_admin_and_regulator_import(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path, role: Role
) -> None:
    seed(session, clock)
    header = ["registration_code", "rescue_code", "kind", "place_type", "district"]
    path = _csv(tmp_path / "x.csv", header, [["31SH0601", "200601", "traction", "office", "静安区"]])
    with pytest.raises(Forbidden):
        import_file(session, Actor("someone", role, unit_id=1), path, clock)
    assert import_file(session, SYSTEM_ACTOR, path, clock).imported == 1


# ---------------------------------------------------------------- command line


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_cli_import_and_export(sqlite_engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    with make_session_factory(sqlite_engine)() as s:
        seed(s, clock)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    header = ["registration_code", "rescue_code", "kind", "place_type", "district", "maintenance_unit"]
    bad = _csv(tmp_path / "bad.csv", header, [
        ["31SH0701", "200701", "traction", "office", "静安区", "MU-A"],
        ["31SH0702", "200702", "traction", "office", "静安区", "NOPE"],
    ])  # fmt: skip
    code, out = _cli("registry", "import", str(bad), "--database-url", url)
    flat = " ".join(out.split())
    assert code == 1, out
    assert "row 3, column 'maintenance_unit', value 'NOPE': unknown unit code 'NOPE'" in flat
    assert "nothing imported" in flat
    assert _count(sqlite_engine)[0] == 4

    code, out = _cli("registry", "import", str(bad), "--skip-invalid", "--database-url", url)
    assert code == 0, out
    assert _count(sqlite_engine)[0] == 5
    assert (tmp_path / "bad.rejects.csv").exists()

    out_path = tmp_path / "all.xlsx"
    code, out = _cli("registry", "export", str(out_path), "--database-url", url)
    assert code == 0, out
    assert "exported 5 elevators" in out
    wb = load_workbook(out_path, read_only=True)
    assert len(list(wb["elevators"].iter_rows(values_only=True))) == 6
    wb.close()
    code, out = _cli("registry", "export", str(out_path), "--headers", "zh", "--database-url", url)
    assert code == 0, out
    assert load_workbook(out_path, read_only=True).sheetnames == ["电梯", "单位"]
    code, out = _cli("registry", "export", str(out_path), "--headers", "fr", "--database-url", url)
    assert code != 0 and "headers" in out and "Traceback" not in out


# ---------------------------------------------------------------- HTTP


def _upload(name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    return {"file": (name, buf.getvalue().encode("utf-8-sig"), "text/csv")}


def test_http_import(client: TestClient, engine: Engine, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    header = ["registration_code", "rescue_code", "kind", "place_type", "district", "installation_date"]
    good = ["31SH0801", "200801", "自动扶梯", "商场", "静安区", "2019/5/1"]
    bad = ["31SH0802", "200802", "traction", "office", "静安区", "someday"]
    url = "/api/v1/registry/import"
    regulator = auth(client, Role.REGULATOR)

    r = client.post(url, files=_upload("a.csv", header, [good, bad]), headers=regulator)
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["rows"], body["imported"]) == (2, 0)
    assert [(e["row"], e["column"], e["value"], e["reason"]) for e in body["errors"]] == [
        (3, "installation_date", "someday", BAD_DATE)
    ]
    assert _count(engine)[0] == 4

    r = client.post(
        url, params={"skip_invalid": True}, files=_upload("a.csv", header, [good, bad]), headers=regulator
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rows"], body["imported"]) == (2, 1)
    (rejected,) = body["rejected"]
    assert rejected["row"] == 3
    assert rejected["values"]["installation_date"] == "someday"
    assert rejected["reasons"] == f"installation_date: {BAD_DATE}"
    assert _count(engine)[0] == 5

    r = client.post(url, files=_upload("b.csv", header, [[*bad[:5], ""]]), headers=auth(client, Role.ADMIN))
    assert r.status_code == 200 and r.json()["imported"] == 1

    r = client.post(url, files=_upload("c.csv", header, [good]), headers=auth(client, Role.MAINTENANCE))
    assert r.status_code == 403
    r = client.post(url, files={"file": ("c.txt", b"x", "text/plain")}, headers=regulator)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file"
    assert _count(engine)[0] == 6


def test_http_export(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    r = client.get("/api/v1/registry/export", params={"format": "csv"}, headers=auth(client, Role.REGULATOR))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == list(EXPORT_COLUMNS) and len(table) == 5

    r = client.get("/api/v1/registry/export", headers=auth(client, Role.MAINTENANCE))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(wb["elevators"].iter_rows(values_only=True))
    assert sorted(str(row[0]) for row in rows[1:]) == ["11SHA000001", "11SHA000002"]  # scoped to MU-A
    wb.close()

    r = client.get("/api/v1/registry/export", params={"headers": "zh"}, headers=auth(client, Role.REGULATOR))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert wb.sheetnames == ["电梯", "单位"]
    assert next(wb["电梯"].iter_rows(values_only=True))[:3] == ("使用登记证编号", "设备代码", "救援识别码")
    wb.close()

    for params in ({"format": "pdf"}, {"headers": "fr"}):
        r = client.get("/api/v1/registry/export", params=params, headers=auth(client, Role.ADMIN))
        assert r.status_code == 422
        assert next(iter(params)) in r.text  # the message names the parameter
    assert client.get("/api/v1/registry/export").status_code == 401


def test_an_export_holds_what_the_search_keeps(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    """The export takes the search's filters (the list's, by the same dependency), names the units, and
    its sheets keep their header in view with a filter on every column."""
    seed(session, clock)
    regulator = auth(client, Role.REGULATOR)
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"district": "静安区"}, ["11SHA000001", "11SHA000002"]),
        ({"district": "徐汇"}, ["11SHB000003", "11SHB000004"]),  # as the list: part of the name
        ({"unit": "MU-B", "status": "suspended"}, []),
        ({"q": "11SHB000003"}, ["11SHB000003"]),
        ({}, ["11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"]),
    ]
    for params, codes in cases:
        listed = client.get("/api/v1/elevators", params=params, headers=regulator).json()
        assert sorted(e["registration_code"] for e in listed["items"]) == codes, params
        r = client.get("/api/v1/registry/export", params=params, headers=regulator)
        assert r.status_code == 200, r.text
        wb = load_workbook(io.BytesIO(r.content))  # not read-only: the sheet's view and filter
        sheet = wb["elevators"]
        rows = list(sheet.iter_rows(values_only=True))
        assert sorted(str(row[0]) for row in rows[1:]) == codes, params
        assert sheet.freeze_panes == "A2"
        assert (
            sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(EXPORT_COLUMNS)).column_letter}{len(codes) + 1}"
        )
        assert wb["units"].freeze_panes == "A2"
        header = list(rows[0])
        named: set[str] = set()
        for row in rows[1:]:
            unit = row[header.index("maintenance_unit")]
            name = session.scalar(select(Unit.name).where(Unit.code == unit))
            assert row[header.index("maintenance_unit_name")] == name and name
            named |= {
                str(row[header.index(c)]) for c in ("use_unit", "maintenance_unit") if row[header.index(c)]
            }
        units = {str(r[0]) for r in list(wb["units"].iter_rows(values_only=True))[1:]}
        # a search's file holds the units its elevators name; the whole ledger's every unit (the insurer too)
        assert units == (named if params else set(session.scalars(select(Unit.code)))), params
    r = client.get("/api/v1/registry/export", params={"three_no": "maybe"}, headers=regulator)
    assert r.status_code == 422 and "three_no" in r.text


# ---------------------------------------------------------------- upsert: an edited export back


def _edited_export(session: Session, tmp_path: Path, edit: dict[str, dict[str, str]]) -> Path:
    """The ledger exported as CSV (Chinese headers: what a person edits), ``edit`` applied by code and
    field name, written back as a new CSV."""
    path = tmp_path / "ledger.csv"
    export_file(session, SYSTEM_ACTOR, path, headers="zh")
    table = _read_csv(path)
    zh = {name: ELEVATOR_ALIASES[name][0] for name in ELEVATOR_COLUMNS}
    for row in table[1:]:
        for name, value in edit.get(row[0], {}).items():
            row[table[0].index(zh[name])] = value
    return _csv(tmp_path / "edited.csv", table[0], table[1:])


def test_an_edited_export_updates_its_rows(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """Imported back with upsert, an edited export changes exactly the edited fields, each change on the
    elevator's timeline; the untouched rows are unchanged; a new row registers a new elevator. Without
    upsert the same file is refused as before (already registered)."""
    seed(session, clock)
    session.commit()
    path = _edited_export(
        session,
        tmp_path,
        {
            "11SHA000001": {"address": "南京西路1号（改）"},
            "11SHB000004": {"maintenance_unit": "MU-A", "floors": "21"},
        },
    )
    table = _read_csv(path)
    new_row = list(table[1])
    new_row[0], new_row[table[0].index("救援识别码")] = "11SHA000099", "199099"
    path = _csv(tmp_path / "edited.csv", table[0], [*table[1:], new_row])
    _, events_before, _ = _count(engine)

    refused = import_file(session, SYSTEM_ACTOR, path, clock)
    assert refused.imported == 0 and {e.row for e in refused.errors} == {2, 3, 4, 5}
    assert all("already" in e.reason for e in refused.errors)  # registered; rescue code used
    session.rollback()

    report = import_file(session, SYSTEM_ACTOR, path, clock, upsert=True)
    session.commit()
    assert report.errors == [] and report.warnings == []
    assert (report.imported, report.updated, report.unchanged) == (1, 2, 2)
    changed = {c.registration_code: c.changes for c in report.changes}
    assert {code: sorted(c) for code, c in changed.items()} == {
        "11SHA000001": ["address"],
        "11SHB000004": ["floors", "maintenance_unit"],
    }
    assert changed["11SHA000001"]["address"][1] == "南京西路1号（改）"
    assert changed["11SHB000004"]["maintenance_unit"] == ("MU-B", "MU-A")
    assert changed["11SHB000004"]["floors"][1] == 21
    after, _ = _snapshot(engine)
    assert after["11SHA000001"]["address"] == "南京西路1号（改）"
    assert (after["11SHB000004"]["maintenance_unit"], after["11SHB000004"]["floors"]) == ("MU-A", 21)
    with make_session_factory(engine)() as s:
        kinds = {
            (code, kind)
            for code, kind in s.execute(
                select(Elevator.registration_code, ElevatorEvent.kind)
                .join(ElevatorEvent, ElevatorEvent.elevator_id == Elevator.id)
                .where(ElevatorEvent.id > events_before)
            )
        }
    assert kinds == {
        ("11SHA000001", "record_update"),
        ("11SHB000004", "record_update"),
        ("11SHB000004", "maintenance_unit_change"),
        ("11SHA000099", "registration"),
    }
    again = import_file(session, SYSTEM_ACTOR, path, clock, upsert=True)  # the same file once more
    assert (again.imported, again.updated, again.unchanged, again.errors) == (0, 0, 5, [])


def test_an_upsert_row_may_not_change_the_rescue_code_or_status(
    engine: Engine, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """A rescue code is reassigned, and a status changed by a life event, on their own: an upsert's row
    that differs there is an error naming the column; a scrapped elevator's record is closed."""
    seed(session, clock)
    service.record_event(session, SYSTEM_ACTOR, "11SHB000003", EventIn(kind="scrapping"), clock)
    session.commit()
    path = _edited_export(
        session,
        tmp_path,
        {
            "11SHA000001": {"rescue_code": "100099"},
            "11SHA000002": {"status": "停用"},
            "11SHB000003": {"address": "新地址"},
            "11SHB000004": {"address": "也是新地址"},
        },
    )
    report = import_file(session, SYSTEM_ACTOR, path, clock, upsert=True)
    assert {(e.row, e.column) for e in report.errors} == {
        (2, "救援识别码"),
        (3, "状态"),
        (4, "使用登记证编号"),
    }
    reasons = {e.row: e.reason for e in report.errors}
    assert "reassigned on its own" in reasons[2] and "life event" in reasons[3] and "scrapped" in reasons[4]
    assert report.updated == 0  # all or nothing: the good row waits too
    session.rollback()
    kept = import_file(
        session, SYSTEM_ACTOR, path, clock, upsert=True, skip_invalid=True, write_rejects=False
    )
    session.commit()
    assert (kept.updated, len(kept.rejected)) == (1, 3)
    assert _snapshot(engine)[0]["11SHB000004"]["address"] == "也是新地址"
    # the scrapped elevator's row as exported (nothing changed) is no error: an edited export goes back
    untouched = _edited_export(session, tmp_path, {"11SHA000001": {"building": "1号楼"}})
    again = import_file(session, SYSTEM_ACTOR, untouched, clock, upsert=True)
    assert (again.errors, again.updated, again.unchanged) == ([], 1, 3)


def test_http_import_preview_then_apply(
    client: TestClient, engine: Engine, session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """``dry_run`` reports what the import would do and writes nothing; the same file applied writes it."""
    seed(session, clock)
    session.commit()
    path = _edited_export(session, tmp_path, {"11SHA000002": {"building": "7号楼"}})
    regulator = auth(client, Role.REGULATOR)
    url = "/api/v1/registry/import"

    def send(**params: str) -> Any:
        with path.open("rb") as fh:
            return client.post(
                url, params=params, files={"file": ("edited.csv", fh, "text/csv")}, headers=regulator
            )

    before = _snapshot(engine)
    preview = send(upsert="true", dry_run="true")
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["applied"], body["updated"], body["unchanged"], body["imported"]) == (False, 1, 3, 0)
    (change,) = body["changes"]
    assert (change["row"], change["registration_code"]) == (3, "11SHA000002")
    assert list(change["changes"]) == ["building"] and change["changes"]["building"]["to"] == "7号楼"
    assert _snapshot(engine) == before  # nothing written
    applied = send(upsert="true")
    assert applied.status_code == 200 and applied.json()["applied"] is True
    assert _snapshot(engine)[0]["11SHA000002"]["building"] == "7号楼"
    assert send().status_code == 422  # without upsert: already registered, as before
