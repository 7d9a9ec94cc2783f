"""Import and export of the registry as CSV and Excel (.xlsx), in the shape agencies keep it today.

Import reads a header row in English field names (those of ``ElevatorCreate``) or in the Chinese headers
agencies write, turns Chinese (or English) labels, Excel dates and 是/否 into API values, and validates
every row with ``ElevatorCreate``, so a file reports exactly the errors the API would. Every bad field of
every row is reported (row, column as written, value, reason). By default nothing is written when any row
is bad; with ``skip_invalid`` the good rows are written and the bad ones go to a rejects file in the same
format, with an ``import_errors`` column, ready to be fixed and imported again.

Units travel with the elevators: a workbook's "units" sheet (or ``<name>.units.csv`` beside a CSV file)
is read first and creates the units that do not exist yet, so an export imported into an empty database
loses nothing. Unknown header columns are warnings, not errors: agencies keep extra columns (序号, 备注).

The Chinese headers and enum labels an export writes are the registry's own labels
(``registry/labels.py``), the same the web pages show; the import accepts them and the other spellings
agencies use (:data:`ELEVATOR_SPELLINGS`, :data:`ENUM_SPELLINGS`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import Clock
from liftwatch.core.errors import DomainError, FieldError, InvalidInput
from liftwatch.core.i18n import Labels
from liftwatch.registry import labels, queries, service
from liftwatch.registry.domain import ElevatorStatus, UnitType
from liftwatch.registry.ledger import (
    MAX_FILE_BYTES,
    FileTooLarge,
    ImportReport,
    RejectedRow,
    RowChange,
    RowError,
)
from liftwatch.registry.ledger import cell_text as _text
from liftwatch.registry.models import Elevator, Unit
from liftwatch.registry.schemas import (
    ELEVATOR_NOT_NULL,
    UNIT_RECORD_FIELDS,
    ElevatorCreate,
    ElevatorUpdate,
    UnitCreate,
)

# ---------------------------------------------------------------- columns

#: Export order of the elevator columns; the import accepts them in any order.
ELEVATOR_COLUMNS: tuple[str, ...] = (
    "registration_code",
    "equipment_code",
    "rescue_code",
    "kind",
    "manufacturer",
    "model",
    "serial_number",
    "rated_load_kg",
    "rated_speed_mps",
    "stops",
    "floors",
    "installation_date",
    "commissioning_date",
    "design_life_years",
    "design_life_cycles",
    "district",
    "street",
    "address",
    "building",
    "latitude",
    "longitude",
    "place_type",
    "use_unit",
    "maintenance_unit",
    "status",
    "iot_terminal_id",
    "no_property_management",
    "no_maintenance_contract",
    "no_repair_fund",
    "mobile_signal",
)
UNIT_COLUMNS: tuple[str, ...] = UNIT_RECORD_FIELDS
REQUIRED_ELEVATOR_COLUMNS = ("registration_code", "rescue_code", "kind", "place_type", "district")
REQUIRED_UNIT_COLUMNS = ("code", "name", "unit_type")

ZH = "zh-CN"

#: Other Chinese headers agencies write, accepted on import besides the label (registry/labels.py).
ELEVATOR_SPELLINGS: dict[str, tuple[str, ...]] = {
    "registration_code": ("使用登记证编号", "使用登记证号", "使用登记编号", "登记证编号"),
    "equipment_code": ("设备代码", "设备注册代码", "注册代码"),
    "rescue_code": ("救援识别码", "应急救援识别码", "96333应急救援识别码", "96333识别码", "救援码"),
    "kind": ("设备类别", "设备种类", "设备品种", "种类", "类别", "品种"),
    "manufacturer": ("制造单位", "制造商", "生产厂家"),
    "model": ("型号", "设备型号", "产品型号"),
    "serial_number": ("出厂编号", "产品编号"),
    "rated_load_kg": ("额定载重量", "额定载荷", "载重量"),
    "rated_speed_mps": ("额定速度",),
    "stops": ("层站", "站数", "层站数", "停站数"),
    "floors": ("层数", "楼层数"),
    "installation_date": ("安装日期", "安装时间"),
    "commissioning_date": ("投用日期", "投入使用日期", "投用时间", "使用日期"),
    "design_life_years": ("设计使用年限", "设计年限"),
    "design_life_cycles": ("设计使用次数", "设计寿命次数"),
    "district": ("区", "所在区", "区县", "行政区"),
    "street": ("街道", "街镇", "所在街道"),
    "address": ("地址", "安装地址", "详细地址", "设备地址", "使用地点"),
    "building": ("楼栋", "楼号", "楼宇"),
    "latitude": ("纬度",),
    "longitude": ("经度",),
    "place_type": ("场所类型", "使用场所", "场所"),
    "use_unit": ("使用单位", "使用单位代码", "使用单位统一社会信用代码"),
    "maintenance_unit": ("维保单位", "维保单位代码", "维护保养单位", "维保单位统一社会信用代码"),
    "status": ("状态", "设备状态", "使用状态"),
    "iot_terminal_id": ("物联网终端", "物联网终端编号", "终端编号"),
    "no_property_management": ("无物业", "无物业管理"),
    "no_maintenance_contract": ("无维保", "无维保合同", "无维保单位"),
    "no_repair_fund": ("无维修资金",),
    "mobile_signal": ("轿厢移动信号", "轿厢内移动信号", "移动信号"),
}
UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "code": ("单位代码", "统一社会信用代码", "代码"),
    "name": ("单位名称", "名称"),
    "unit_type": ("单位类型", "类型"),
    "licence_no": ("许可证编号", "资质证书编号", "许可证号"),
    "contact_name": ("联系人",),
    "contact_phone": ("联系电话", "电话"),
    "address": ("地址", "单位地址"),
    "district": ("区", "所在区"),
    "latitude": ("纬度",),
    "longitude": ("经度",),
}


def _headers(
    fields: Sequence[str], table: Labels, spellings: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The Chinese headers accepted for each field: the registry's label first (what ``--headers zh``
    writes), then the other spellings."""
    out: dict[str, tuple[str, ...]] = {}
    for name in fields:
        label = table.get(name, ZH)
        out[name] = (label, *(s for s in spellings.get(name, ()) if s != label))
    return out


#: Chinese headers accepted per field; the first one is the label an export writes (docs, ``--headers zh``).
ELEVATOR_ALIASES = _headers(ELEVATOR_COLUMNS, labels.ELEVATOR_FIELD, ELEVATOR_SPELLINGS)
UNIT_ALIASES = _headers(UNIT_COLUMNS, labels.UNIT_FIELD, UNIT_SPELLINGS)
#: The column the rejects file adds; the import ignores it, with 序号 and 备注.
REASONS_COLUMN = "import_errors"
#: The units' names an export writes beside their codes, for people (the import reads the codes): each
#: follows its code column, headed by its field name or its label (registry/labels.py).
NAME_COLUMNS: dict[str, str] = {"use_unit": "use_unit_name", "maintenance_unit": "maintenance_unit_name"}
IGNORED_COLUMNS = frozenset(
    {REASONS_COLUMN, "错误原因", "序号", "备注", "no", "no.", "#"}
    | {n for name in NAME_COLUMNS.values() for n in (name, labels.ELEVATOR_FIELD.get(name, ZH))}
)

#: The registry's label table of each enum column.
ENUM_TABLES: dict[str, Labels] = {
    "kind": labels.ELEVATOR_KIND,
    "place_type": labels.PLACE_TYPE,
    "status": labels.ELEVATOR_STATUS,
    "unit_type": labels.UNIT_TYPE,
}
#: Other Chinese spellings agencies write for enum values, accepted on import besides the labels.
ENUM_SPELLINGS: dict[str, dict[str, str]] = {
    "kind": {
        "曳引与强制驱动电梯": "traction",
        "曳引驱动电梯": "traction",
        "曳引式": "traction",
        "曳引式电梯": "traction",
        "曳引电梯": "traction",
        "强制驱动电梯": "traction",
        "曳引驱动乘客电梯": "traction",
        "曳引驱动载货电梯": "traction",
        "强制驱动载货电梯": "traction",
        "乘客电梯": "traction",
        "载货电梯": "traction",
        "病床电梯": "traction",
        "液压驱动电梯": "hydraulic",
        "液压电梯": "hydraulic",
        "液压式": "hydraulic",
        "液压乘客电梯": "hydraulic",
        "液压载货电梯": "hydraulic",
        "杂物电梯": "dumbwaiter",
        "杂物梯": "dumbwaiter",
        "自动扶梯": "escalator",
        "扶梯": "escalator",
        "自动人行道": "moving_walk",
        "人行道": "moving_walk",
    },
    "place_type": {
        "住宅": "residential",
        "住宅小区": "residential",
        "居民住宅": "residential",
        "办公": "office",
        "办公楼": "office",
        "写字楼": "office",
        "商场": "mall",
        "商业": "mall",
        "购物中心": "mall",
        "商业综合体": "mall",
        "医院": "hospital",
        "医疗机构": "hospital",
        "学校": "school",
        "地铁": "metro",
        "地铁站": "metro",
        "轨道交通": "metro",
        "酒店": "hotel",
        "宾馆": "hotel",
        "公共建筑": "public_building",
        "公共场所": "public_building",
        "机关": "public_building",
        "其他": "other",
        "其它": "other",
    },
    "status": {
        "在用": "in_use",
        "使用": "in_use",
        "正常使用": "in_use",
        "停用": "suspended",
        "暂停使用": "suspended",
        "报废": "scrapped",
        "注销": "scrapped",
    },
    "unit_type": {
        "使用单位": "use_unit",
        "使用管理单位": "use_unit",
        "维保单位": "maintenance",
        "维护保养单位": "maintenance",
        "制造单位": "manufacturer",
        "安装单位": "installer",
        "检验机构": "inspection_body",
        "保险机构": "insurer",
        "保险公司": "insurer",
        "救援站": "rescue_station",
        "公共救援站": "rescue_station",
    },
}
#: Text accepted for each enum value on import: the value itself (case-insensitive), the other spellings,
#: and the registry's English and Chinese labels.
ENUM_LABELS: dict[str, dict[str, str]] = {
    name: {**ENUM_SPELLINGS.get(name, {}), **table.by_text("en"), **table.by_text(ZH)}
    for name, table in ENUM_TABLES.items()
}

DATE_FIELDS = frozenset({"installation_date", "commissioning_date"})
BOOL_FIELDS = frozenset(
    {"no_property_management", "no_maintenance_contract", "no_repair_fund", "mobile_signal"}
)
INT_FIELDS = frozenset({"rated_load_kg", "stops", "floors", "design_life_years", "design_life_cycles"})
FLOAT_FIELDS = frozenset({"rated_speed_mps", "latitude", "longitude"})
NUMBER_FIELDS = INT_FIELDS | FLOAT_FIELDS

TRUE_WORDS = frozenset({"true", "1", "是", "yes", "y", "√", "t"})
FALSE_WORDS = frozenset({"false", "0", "否", "no", "n", "×", "f"})
# Units agencies append to numbers: 1000kg, 1.75m/s, 18层, 18站, 20年.
_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(kg|公斤|千克|m/s|米/秒|层|站|年|次)?\s*$", re.I)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0{1,2}:0{1,2}(?::0{1,2}(?:\.0+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)
_PARENS = re.compile(r"[(（][^)）]*[)）]")
ELEVATORS_SHEET = "elevators"
UNITS_SHEET = "units"


# ---------------------------------------------------------------- reading


@dataclass
class _Sheet:
    name: str  # "" for elevators, "units"
    header: list[str]
    rows: list[tuple[int, tuple[Any, ...]]]  # (spreadsheet row number, cells)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Limits that keep one upload from taking the server's memory and minutes: an 800 KB .xlsx can unpack to
# gigabytes (a zip bomb). 300,000 rows is six times the largest city's ledger.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 300_000
MAX_COLUMNS = 200


def _bad_file(name: str, message: str) -> InvalidInput:
    return InvalidInput(FieldError("file", f"'{name}': {message}"))


def _unquote(value: Any) -> Any:
    """Undo the export's formula guard: ``'=1+2`` reads back as ``=1+2`` (see :func:`_neutral`)."""
    if isinstance(value, str) and value[:1] == "'" and _FORMULA_START.match(value, 1):
        return value[1:]
    return value


def _sheet_from_rows(name: str, rows: Iterable[Sequence[Any]], file_name: str = "") -> _Sheet | None:
    it = iter(rows)
    header_row = next(it, None)
    if header_row is None:
        return None
    header = [_text(_unquote(h)).strip().lstrip("\ufeff") for h in header_row]
    if len(header) > MAX_COLUMNS and any(not _blank(h) for h in header[MAX_COLUMNS:]):
        raise FileTooLarge(file_name or name, f"has more than {MAX_COLUMNS} columns")
    body: list[tuple[int, tuple[Any, ...]]] = []
    for n, cells in enumerate(it, start=2):
        if n > MAX_ROWS + 1:  # stop reading: the rest is never looked at
            raise FileTooLarge(file_name or name, f"has more than {MAX_ROWS:,} rows; split it")
        if not all(_blank(c) for c in cells):
            body.append((n, tuple(_unquote(c) for c in cells)))
    return _Sheet(name, header, body)


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without the BOM Excel writes); GB18030 (a superset of GBK) for Excel's 'ANSI' CSV.
    Anything else (UTF-16 without its BOM, Latin-1, binary) is refused rather than read as nonsense."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                text = "\x00"
    if "\x00" in text:
        raise _bad_file(name, "not a text file in UTF-8 or GB18030/GBK; save it as 'CSV UTF-8' in Excel")
    return text


def _read_csv(path: Path, name: str) -> _Sheet | None:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise FileTooLarge(path.name, f"is larger than {MAX_FILE_BYTES // 2**20} MB")
    text = _decode(path.read_bytes(), path.name)
    try:
        return _sheet_from_rows(name, csv.reader(io.StringIO(text, newline="")), path.name)
    except csv.Error as exc:
        raise _bad_file(path.name, f"not a readable CSV file: {exc}") from None


def _check_xlsx(path: Path) -> None:
    """Refuse what is not a workbook, or would unpack beyond the limit, before openpyxl opens it."""
    if not zipfile.is_zipfile(path):
        raise _bad_file(path.name, "not an Excel .xlsx file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _bad_file(path.name, f"not a readable .xlsx file: {exc}") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileTooLarge(
            path.name, f"unpacks to {unpacked / 2**20:,.0f} MB; at most {MAX_UNPACKED_BYTES // 2**20} MB"
        )


def _read_xlsx(path: Path) -> tuple[_Sheet | None, _Sheet | None]:
    _check_xlsx(path)
    try:
        return _read_workbook(path)
    except DomainError:
        raise
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML errors... for a broken file
        raise _bad_file(path.name, f"not a readable .xlsx file ({type(exc).__name__})") from None


def _read_workbook(path: Path) -> tuple[_Sheet | None, _Sheet | None]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        titled = {ws.title.strip().lower(): ws for ws in wb.worksheets}
        units_ws = titled.get(UNITS_SHEET) or titled.get("单位")
        others = [ws for ws in wb.worksheets if ws is not units_ws]
        elev_ws = next((ws for ws in others if ws.title.strip().lower() in (ELEVATORS_SHEET, "电梯")), None)
        if elev_ws is None and others:
            elev_ws = others[0]
        for ws in (elev_ws, units_ws):
            if ws is not None and (ws.max_column or 0) > MAX_COLUMNS:
                ws.reset_dimensions()  # a lying <dimension> would pad every row to it
        elevators = (
            _sheet_from_rows("", elev_ws.iter_rows(values_only=True), path.name)
            if elev_ws is not None
            else None
        )
        units = (
            _sheet_from_rows(UNITS_SHEET, units_ws.iter_rows(values_only=True), path.name)
            if units_ws
            else None
        )
    finally:
        wb.close()
    return elevators, units


def _units_csv_beside(path: Path) -> Path:
    return path.with_name(f"{path.stem}.units{path.suffix}")


def _read(path: Path) -> tuple[_Sheet | None, _Sheet | None]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".csv":
        units_path = _units_csv_beside(path)
        units = _read_csv(units_path, UNITS_SHEET) if units_path.exists() else None
        return _read_csv(path, ""), units
    raise InvalidInput(FieldError("file", f"'{path.name}': expected a .csv or .xlsx file"))


# ---------------------------------------------------------------- header mapping


def _header_key(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("*", "").lower()


def _alias_index(fields: Sequence[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for name in fields:
        index[_header_key(name)] = name
        for alias in aliases.get(name, ()):
            index[_header_key(alias)] = name
    return index


_ELEVATOR_INDEX = _alias_index(ELEVATOR_COLUMNS, ELEVATOR_ALIASES)
_UNIT_INDEX = _alias_index(UNIT_COLUMNS, UNIT_ALIASES)


def _map_header(
    sheet: _Sheet, index: Mapping[str, str], required: Sequence[str], report: ImportReport
) -> dict[str, int] | None:
    """Column index per field; None when the header is unusable (missing required or doubled columns)."""
    columns: dict[str, int] = {}
    fatal = False
    for i, text in enumerate(sheet.header):
        key = _header_key(text)
        if not key or key in IGNORED_COLUMNS:
            continue
        name = index.get(key) or index.get(_PARENS.sub("", key))  # 额定载重量(kg), 使用单位（代码）
        if name is None:
            report.warnings.append(RowError(1, text, text, "unknown column, ignored", sheet.name))
            continue
        if name in columns:
            first = sheet.header[columns[name]]
            report.errors.append(
                RowError(1, text, text, f"column '{first}' already gives {name}", sheet.name)
            )
            fatal = True
            continue
        columns[name] = i
    for name in required:
        if name not in columns:
            report.errors.append(RowError(1, name, "", "required column is missing", sheet.name))
            fatal = True
    return None if fatal else columns


# ---------------------------------------------------------------- values


class _BadValue(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return _EXCEL_EPOCH + timedelta(days=int(value))  # an Excel date cell without a date format
    text = _text(value).strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise _BadValue("not a valid date: expected YYYY-MM-DD, YYYY/M/D or YYYY年M月D日")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = _text(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _BadValue("not a yes/no value: expected true/false, 1/0 or 是/否")


def _to_number(value: Any) -> Any:
    """Numbers go to pydantic as they are; text loses a unit suffix (1000kg) and is then pydantic's."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = _text(value).strip()
    m = _NUMBER_WITH_UNIT.match(text)
    return m[1] if m else text


def _convert(name: str, value: Any) -> Any:
    if name in DATE_FIELDS:
        return _to_date(value)
    if name in BOOL_FIELDS:
        return _to_bool(value)
    if name in NUMBER_FIELDS:
        return _to_number(value)
    text = _text(value).strip()
    by_text = ENUM_LABELS.get(name)
    if by_text is not None:
        return by_text.get(text, text.lower())
    return text


def _pydantic_reason(err: Mapping[str, Any]) -> str:
    if err.get("type") == "missing":
        return "missing required field"
    return str(err.get("msg", "")).removeprefix("Value error, ")


def _validate_row(
    model: type[BaseModel], sheet: _Sheet, columns: Mapping[str, int], rownum: int, cells: tuple[Any, ...]
) -> tuple[BaseModel | None, list[RowError], dict[str, Any]]:
    """The validated row (None when bad), its errors, and the raw cells per field."""
    raw_cells: dict[str, Any] = {}
    data: dict[str, Any] = {}
    errors: list[RowError] = []
    reported: set[str] = set()
    for name, i in columns.items():
        cell = cells[i] if i < len(cells) else None
        raw_cells[name] = cell
        if _blank(cell):
            continue
        try:
            data[name] = _convert(name, cell)
        except _BadValue as exc:
            errors.append(RowError(rownum, sheet.header[i], _text(cell), exc.reason, sheet.name))
            reported.add(name)
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc") or ()
            # The only model-wide rule is the date order; name the later date.
            name = str(loc[0]) if loc else "commissioning_date"
            if name in reported:
                continue
            column = sheet.header[columns[name]] if name in columns else name
            value = _text(raw_cells.get(name))
            errors.append(RowError(rownum, column, value, _pydantic_reason(err), sheet.name))
        return None, errors, raw_cells
    return (None if errors else validated), errors, raw_cells


# ---------------------------------------------------------------- import


def _column(sheet: _Sheet, columns: Mapping[str, int], name: str) -> str:
    return sheet.header[columns[name]] if name in columns else name


def import_file(
    session: Session,
    actor: Actor,
    path: Path,
    clock: Clock,
    *,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    write_rejects: bool = True,
    upsert: bool = False,
) -> ImportReport:
    """Import units (when given) and elevators from ``path``; the caller commits (or rolls back: a
    preview is an import not committed).

    All-or-nothing by default: any bad row means nothing is written. With ``skip_invalid`` the good rows
    are written and the bad ones are kept in ``report.rejected`` and, unless ``write_rejects`` is False,
    written to ``rejects_path`` (default ``<name>.rejects.<ext>`` beside the input).

    With ``upsert`` a row whose registration code is registered updates that elevator (an edited export
    imported back): the fields of the file's columns that differ are changed through
    ``service.update_elevator`` (each change on the elevator's timeline), a row that changes nothing is
    counted unchanged; its rescue code and status must be the registered ones (a rescue code is
    reassigned, and a status changed by a life event, on their own)."""
    service.require_registrar(actor, "import the registry")
    elev_sheet, unit_sheet = _read(path)
    report = ImportReport()
    if elev_sheet is None:
        report.errors.append(RowError(1, "", "", "the file is empty: expected a header row"))
        return report
    report.rows = len(elev_sheet.rows)
    report.unit_rows = len(unit_sheet.rows) if unit_sheet else 0

    # Known units: code -> unit_type, from the database and then the units sheet.
    unit_types: dict[str, str] = {
        code: kind for code, kind in session.execute(select(Unit.code, Unit.unit_type))
    }
    new_units, bad_units = _check_units(unit_sheet, unit_types, report)
    elev_columns = _map_header(elev_sheet, _ELEVATOR_INDEX, REQUIRED_ELEVATOR_COLUMNS, report)
    if elev_columns is None or (unit_sheet is not None and new_units is None):
        return report  # the header is unusable: every row would be bad
    assert new_units is not None
    for unit in new_units:
        unit_types[unit.code] = unit.unit_type.value

    # registration code -> rescue code of every registered elevator
    registered: dict[str, str] = {
        reg: rescue
        for reg, rescue in session.execute(select(Elevator.registration_code, Elevator.rescue_code))
    }
    existing_reg: set[str] = set(registered) if not upsert else set()
    existing_rescue: set[str] = set(registered.values())
    seen_reg: dict[str, int] = {}
    seen_rescue: dict[str, int] = {}
    good: list[ElevatorCreate] = []
    updates: list[tuple[int, tuple[Any, ...], ElevatorCreate]] = []
    sheet = elev_sheet
    col = elev_columns

    for rownum, cells in sheet.rows:
        validated, errors, raw = _validate_row(ElevatorCreate, sheet, col, rownum, cells)
        bad_fields = {e.column for e in errors}

        def usable(name: str, raw: dict[str, Any] = raw, bad_fields: set[str] = bad_fields) -> str | None:
            if _column(sheet, col, name) in bad_fields or _blank(raw.get(name)):
                return None
            return _text(raw[name]).strip()

        reg_code = usable("registration_code")
        updating = upsert and reg_code is not None and reg_code in registered
        for name, existing, seen, what in (
            ("registration_code", existing_reg, seen_reg, "registered"),
            ("rescue_code", existing_rescue, seen_rescue, "used by another elevator"),
        ):
            code = usable(name)
            if code is None:
                continue
            reason = None
            own = registered.get(str(reg_code)) if updating else None
            if name == "rescue_code" and own is not None and code != own:
                reason = (
                    f"differs from the registered rescue code '{own}': a rescue code is reassigned on its "
                    "own, not by import"
                )
            elif code in existing and not (name == "rescue_code" and own == code):
                reason = f"'{code}' is already {what}"
            elif code in seen:
                reason = f"duplicate of row {seen[code]} in this file"
            else:
                seen[code] = rownum
            if reason:
                errors.append(RowError(rownum, _column(sheet, col, name), _text(raw[name]), reason))
        for name, expected in (("use_unit", UnitType.USE_UNIT), ("maintenance_unit", UnitType.MAINTENANCE)):
            code = usable(name)
            if code is None:
                continue
            reason = None
            if code in bad_units:
                reason = f"unit '{code}' is rejected in the units sheet"
            elif code not in unit_types:
                reason = f"unknown unit code '{code}'"
            elif unit_types[code] != expected.value:
                reason = f"unit '{code}' is a {unit_types[code]}, expected a {expected.value}"
            if reason:
                errors.append(RowError(rownum, _column(sheet, col, name), _text(raw[name]), reason))
        if errors:
            report.errors.extend(errors)
            report.rejected.append(_rejected(sheet, rownum, cells, errors))
        elif isinstance(validated, ElevatorCreate):
            if updating:
                updates.append((rownum, cells, validated))
            else:
                good.append(validated)

    present = {name for name in col if name in _UPDATABLE}
    changes = _changes(session, sheet, col, updates, present, report)
    if report.errors and not skip_invalid:
        return report
    report.units_imported = service.create_units_bulk(session, actor, new_units, clock)
    report.imported = service.create_elevators_bulk(session, actor, good, clock, source=path.name)
    for change in changes:
        data = ElevatorUpdate(**{name: new for name, (_, new) in change.changes.items()})
        service.update_elevator(session, actor, change.registration_code, data, clock)
    report.updated = len(changes)
    report.changes = changes
    if report.rejected and write_rejects:
        target = rejects_path or path.with_name(f"{path.stem}.rejects{path.suffix}")
        _write_rejects(target, elev_sheet, unit_sheet, report.rejected)
        report.rejects_path = target
    return report


#: What an upsert's row may change on a registered elevator: every field a PATCH may (not the
#: registration code, rescue code or status).
_UPDATABLE = frozenset(ElevatorUpdate.model_fields)
#: Columns holding no NULL: a blank cell there is the empty value.
_EMPTY: dict[str, Any] = {
    name: False if name.startswith("no_") else "" for name in ELEVATOR_NOT_NULL if name in _UPDATABLE
}


def _current(elevator: Elevator, name: str) -> Any:
    if name in ("use_unit", "maintenance_unit"):
        unit = getattr(elevator, name)
        return unit.code if unit is not None else None
    return getattr(elevator, name)


def _changes(
    session: Session,
    sheet: _Sheet,
    columns: Mapping[str, int],
    updates: Sequence[tuple[int, tuple[Any, ...], ElevatorCreate]],
    present: set[str],
    report: ImportReport,
) -> list[RowChange]:
    """The changes the upsert's rows make to their registered elevators (the fields of the file's
    columns that differ); a row that changes nothing is counted unchanged, one whose status differs or
    whose elevator is scrapped is an error of its row."""
    out: list[RowChange] = []
    codes = [data.registration_code for _, _, data in updates]
    found: dict[str, Elevator] = {}
    for start in range(0, len(codes), 1_000):
        chunk = codes[start : start + 1_000]
        found.update(
            (e.registration_code, e)
            for e in session.scalars(select(Elevator).where(Elevator.registration_code.in_(chunk)))
        )
    for rownum, cells, data in updates:
        elevator = found[data.registration_code]
        diff: dict[str, tuple[Any, Any]] = {}
        for name in sorted(present):
            new = getattr(data, name)
            new = _EMPTY.get(name, new) if new is None else getattr(new, "value", new)
            old = _current(elevator, name)
            if new != old:
                diff[name] = (old, new)
        reason = None
        if "status" in columns and data.status.value != elevator.status:
            reason = (
                f"differs from the registered status '{elevator.status}': a status changes by a life event "
                "(suspension, restart, scrapping), not by import"
            )
            column, value = "status", data.status.value
        elif diff and elevator.status == ElevatorStatus.SCRAPPED.value:
            reason = "the elevator is scrapped: its record is closed"
            column, value = "registration_code", data.registration_code
        if reason:
            error = RowError(rownum, _column(sheet, columns, column), value, reason)
            report.errors.append(error)
            report.rejected.append(_rejected(sheet, rownum, cells, [error]))
        elif diff:
            out.append(RowChange(rownum, data.registration_code, diff))
        else:
            report.unchanged += 1
    return out


def _rejected(sheet: _Sheet, rownum: int, cells: tuple[Any, ...], errors: list[RowError]) -> RejectedRow:
    values = {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(sheet.header)}
    return RejectedRow(sheet.name, rownum, values, "; ".join(f"{e.column}: {e.reason}" for e in errors))


def _check_units(
    sheet: _Sheet | None, unit_types: Mapping[str, str], report: ImportReport
) -> tuple[list[UnitCreate] | None, set[str]]:
    """Units to create (None when the header is unusable) and the codes of bad unit rows."""
    if sheet is None:
        return [], set()
    columns = _map_header(sheet, _UNIT_INDEX, REQUIRED_UNIT_COLUMNS, report)
    if columns is None:
        return None, set()
    new: list[UnitCreate] = []
    bad: set[str] = set()
    seen: dict[str, int] = {}
    for rownum, cells in sheet.rows:
        validated, errors, raw = _validate_row(UnitCreate, sheet, columns, rownum, cells)
        code = _text(raw.get("code")).strip()
        if code:
            if code in seen:
                reason = f"duplicate of row {seen[code]} in this file"
                errors.append(RowError(rownum, _column(sheet, columns, "code"), code, reason, sheet.name))
            else:
                seen[code] = rownum
        if isinstance(validated, UnitCreate) and not errors and validated.code in unit_types:
            known = unit_types[validated.code]
            if known != validated.unit_type.value:
                errors.append(
                    RowError(
                        rownum,
                        _column(sheet, columns, "unit_type"),
                        _text(raw.get("unit_type")),
                        f"unit '{code}' already exists as a {known}",
                        sheet.name,
                    )
                )
            else:
                continue  # exists already: existing units are left as they are
        if errors:
            report.errors.extend(errors)
            report.rejected.append(_rejected(sheet, rownum, cells, errors))
            if code:
                bad.add(code)
        elif isinstance(validated, UnitCreate):
            new.append(validated)
    return new, bad


# ---------------------------------------------------------------- writing


# A text cell starting with one of these is run as a formula by Excel and LibreOffice (CSV injection,
# OWASP); an export writes it with a leading ' (which the import removes again), as does a text that
# already starts with ' before one of them, so the round trip is exact.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
# Control characters XML 1.0 cannot hold (openpyxl refuses them) and no ledger text needs.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _neutral(value: Any) -> Any:
    """A text cell made safe to open in a spreadsheet: no control characters, no formula."""
    if not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("", value)
    if _FORMULA_START.match(value):
        return "'" + value
    return value


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM, so Excel opens Chinese text correctly; written row by row."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([_neutral(h) for h in header])
        for row in rows:
            writer.writerow([_text(_neutral(v)) for v in row])


def _xlsx_row(ws: Any, row: Sequence[Any]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for v in row:
        v = _neutral(v)
        if isinstance(v, str) and v.startswith("="):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # text, not a formula
            out.append(cell)
        else:
            out.append(v)
    return out


@dataclass(frozen=True)
class _SheetOut:
    """A sheet to write: its rows, and how many when the caller counted them (else they are listed
    first: a small sheet)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    count: int | None = None


def _write_xlsx(path: Path, sheets: Sequence[_SheetOut]) -> None:
    """Stream the sheets row by row (write-only mode: memory flat in the number of rows), each with its
    header frozen and a filter on every column."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for sheet in sheets:
        rows = sheet.rows
        count = sheet.count
        if count is None:
            rows = list(rows)
            count = len(rows)
        ws = wb.create_sheet(sheet.title)
        # Write-only sheets carry no <dimension>; without it openpyxl's read-only mode parses the whole
        # sheet once more just to size it, which doubles the time to import our own export.
        ref = f"A1:{get_column_letter(max(len(sheet.header), 1))}{count + 1}"
        ws.calculate_dimension = lambda ref=ref: ref
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ref
        ws.append(_xlsx_row(ws, sheet.header))
        written = 0
        for row in rows:
            ws.append(_xlsx_row(ws, row))
            written += 1
        if written != count:  # the registry changed between the count and the rows
            ref = f"A1:{get_column_letter(max(len(sheet.header), 1))}{written + 1}"
            ws.calculate_dimension = lambda ref=ref: ref
            ws.auto_filter.ref = ref
    wb.save(path)


def _write_rejects(path: Path, elevators: _Sheet, units: _Sheet | None, rejected: list[RejectedRow]) -> None:
    def rows_of(sheet: _Sheet) -> list[list[Any]]:
        return [[*r.values.values(), r.reasons] for r in rejected if r.sheet == sheet.name]

    elev_rows = rows_of(elevators)
    unit_rows = rows_of(units) if units is not None else []
    sheets = [_SheetOut(ELEVATORS_SHEET, [*elevators.header, REASONS_COLUMN], elev_rows)]
    if units is not None and unit_rows:
        sheets.append(_SheetOut(UNITS_SHEET, [*units.header, REASONS_COLUMN], unit_rows))
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(path, sheets)
        return
    _write_csv(path, sheets[0].header, elev_rows)
    if len(sheets) > 1:
        _write_csv(_units_csv_beside(path), sheets[1].header, unit_rows)


def _export_values(row: Mapping[str, Any], columns: Sequence[str], chinese: bool = False) -> list[Any]:
    if not chinese:
        return [row.get(c) for c in columns]
    out: list[Any] = []
    for c in columns:
        v = row.get(c)
        if isinstance(v, bool):
            v = "是" if v else "否"
        elif c in ENUM_TABLES and isinstance(v, str):
            v = ENUM_TABLES[c].get(v, ZH)
        out.append(v)
    return out


#: Export headers: ``en`` writes the field names, ``zh`` the registry's Chinese labels (registry/labels.py,
#: as the web shows them) for headers and enum values, 是/否 and the sheets 电梯/单位. Both import back
#: unchanged.
EXPORT_HEADERS = ("en", "zh")


#: The columns of an export's elevator sheet: the import's, each unit's name after its code.
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    c for col in ELEVATOR_COLUMNS for c in (col, *((NAME_COLUMNS[col],) if col in NAME_COLUMNS else ()))
)


def _export_header(chinese: bool) -> list[str]:
    if not chinese:
        return list(EXPORT_COLUMNS)
    names = set(NAME_COLUMNS.values())
    return [
        labels.ELEVATOR_FIELD.get(c, ZH) if c in names else ELEVATOR_ALIASES.get(c, (c,))[0]
        for c in EXPORT_COLUMNS
    ]


def export_file(
    session: Session,
    actor: Actor,
    path: Path,
    headers: str = "en",
    flt: queries.ElevatorFilter | None = None,
    clock: Clock | None = None,
) -> int:
    """Write the elevators the actor may see (those ``flt`` keeps, when given: the search page's filters)
    and their units (with a filter, only the units those elevators name) to ``path`` (.xlsx or .csv);
    returns the number of elevators. ``headers`` (EXPORT_HEADERS): English field names, or Chinese labels
    and values for people who read the file in Excel; either imports back unchanged (the units' names
    beside their codes are for people; the import reads the codes). Rows go from the database to the file
    a batch at a time: memory stays flat in the size of the ledger."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InvalidInput(FieldError("file", f"'{path.name}': expected a .csv or .xlsx file"))
    if headers not in EXPORT_HEADERS:
        raise InvalidInput(FieldError("headers", f"'{headers}': expected one of {', '.join(EXPORT_HEADERS)}"))
    chinese = headers == "zh"
    count = queries.export_count(session, actor, flt, clock)
    codes: set[str] = set()

    def elevator_rows() -> Iterator[list[Any]]:
        for r in queries.export_elevator_rows(session, actor, flt, clock):
            codes.update(r[k] for k in ("use_unit", "maintenance_unit") if r.get(k))
            yield _export_values(r, EXPORT_COLUMNS, chinese)

    elev_header = _export_header(chinese)
    unit_header = [UNIT_ALIASES.get(c, (c,))[0] for c in UNIT_COLUMNS] if chinese else UNIT_COLUMNS

    def unit_rows() -> Iterator[list[Any]]:  # after the elevators: the units they name
        filtered = flt is not None and flt.narrows()
        for u in queries.export_unit_rows(session, actor, codes, only_referenced=filtered):
            yield _export_values(u, UNIT_COLUMNS, chinese)

    if suffix == ".xlsx":
        _write_xlsx(
            path,
            [
                _SheetOut("电梯" if chinese else ELEVATORS_SHEET, elev_header, elevator_rows(), count),
                _SheetOut("单位" if chinese else UNITS_SHEET, unit_header, unit_rows()),
            ],
        )
    else:
        _write_csv(path, elev_header, elevator_rows())
        _write_csv(_units_csv_beside(path), unit_header, unit_rows())
    return count
