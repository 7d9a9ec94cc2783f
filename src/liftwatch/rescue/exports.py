"""Exports of the rescue ledger for reports: incidents with every stage and every dispatch, and the KPIs
grouped by month, district, maintenance unit and level, as Excel (.xlsx) or CSV (UTF-8 with a BOM, so
Excel opens the Chinese text). No HTTP here: the API and the pages call these and send the bytes.

Chinese headers and labels by default (``lang="zh"``), English with ``lang="en"``; the words are the
rescue domain's labels (statuses, levels, sources, causes) and the column tables below. Times are on the
city's clock (``LIFTWATCH_TIMEZONE``), written as Excel date-times (CSV: ``YYYY-MM-DD HH:MM:SS``).

The KPI figures are computed exactly as ``GET /api/v1/rescue/kpis`` computes them (``rescue.kpis``
over ``queries.incident_records`` with the rescue settings' limits, as of now), so an exported figure
equals the API's for the same filters; the level groups are ``compute_kpis`` over the rescues that reached
each level (the API gives their shares in ``by_level``). Text cells are neutralised like the registry's
export: no control characters, and a text that would run as a formula starts with ``'``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Literal

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import as_utc
from liftwatch.core.i18n import Labels, zh_en
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue import labels, queries, service
from liftwatch.rescue.domain import Level
from liftwatch.rescue.kpis import GroupKey, Kpis, MeanDuration, Ratio, compute_kpis, kpis_by, month_keys

Lang = Literal["zh", "en"]
FileFormat = Literal["xlsx", "csv"]
#: The export's groupings (the issue's month, district, maintenance unit and level).
Grouping = Literal["month", "district", "maintenance_unit", "level"]
#: What :func:`kpi_report` groups by: the export's, and ``GET /kpis``'s street and place type.
ReportGrouping = Grouping | GroupKey

LANGS: tuple[Lang, ...] = ("zh", "en")
FORMATS: tuple[FileFormat, ...] = ("xlsx", "csv")
GROUPINGS: tuple[Grouping, ...] = ("month", "district", "maintenance_unit", "level")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
FIRE_SERVICE_NAME = zh_en("消防救援（119）", "Fire service (119)")


def _locale(lang: Lang) -> str:
    return "zh-CN" if lang == "zh" else "en"


# ---------------------------------------------------------------- words of the files

SHEET = Labels(
    "export_sheet",
    {
        "incidents": zh_en("救援事件", "Incidents"),
        "dispatches": zh_en("派单记录", "Dispatches"),
        "total": zh_en("合计", "Total"),
        "month": zh_en("按月", "By month"),
        "district": zh_en("按区", "By district"),
        "maintenance_unit": zh_en("按维保单位", "By maintenance unit"),
        "level": zh_en("按响应级别", "By level"),
    },
)

#: An incident's columns, in order.
INCIDENT_COLUMN = Labels(
    "export_incident",
    {
        "id": zh_en("事件编号", "Incident"),
        "registration_code": zh_en("使用登记证编号", "Registration code"),
        "district": zh_en("区", "District"),
        "street": zh_en("街道", "Street"),
        "address": zh_en("地址", "Address"),
        "source": zh_en("报警来源", "Source"),
        "status": zh_en("状态", "Status"),
        "level": zh_en("最高响应级别", "Highest level"),
        "persons_trapped": zh_en("被困人数", "Persons trapped"),
        "caller_name": zh_en("报警人", "Caller"),
        "callback_phone": zh_en("回访电话", "Call-back number"),
        "maintenance_unit": zh_en("维保单位代码", "Maintenance unit code"),
        "maintenance_unit_name": zh_en("维保单位", "Maintenance unit"),
        "alarm_at": zh_en("报警时间", "Alarm"),
        "dispatched_at": zh_en("首次派单时间", "First dispatch"),
        "acknowledged_at": zh_en("首次响应时间", "First acknowledgement"),
        "arrived_at": zh_en("首次到场时间", "First arrival"),
        "released_at": zh_en("解救时间", "Released"),
        "completed_at": zh_en("结案时间", "Completed"),
        "closed_false_at": zh_en("误报关闭时间", "Closed as false alarm"),
        "cancelled_at": zh_en("取消时间", "Cancelled"),
        "escalated_l2_at": zh_en("升级二级时间", "Escalated to L2"),
        "escalated_l3_at": zh_en("升级三级时间", "Escalated to L3"),
        "arrival_limit_min": zh_en("到场时限（分钟）", "Arrival limit (min)"),
        "arrival_min": zh_en("到场用时（分钟）", "Arrival after alarm (min)"),
        "all_released": zh_en("全部解救", "All released"),
        "cause": zh_en("原因", "Cause"),
        "cause_detail": zh_en("原因说明", "Cause detail"),
        "callback_at": zh_en("回访时间", "Called back"),
        "close_reason": zh_en("关闭说明", "Closing note"),
        "dispatch_count": zh_en("派单次数", "Dispatches"),
        "notes": zh_en("备注", "Notes"),
    },
)

#: A dispatch's columns, in order (the second sheet, "派单记录").
DISPATCH_COLUMN = Labels(
    "export_dispatch",
    {
        "incident_id": zh_en("事件编号", "Incident"),
        "registration_code": zh_en("使用登记证编号", "Registration code"),
        "n": zh_en("派单序号", "Dispatch no."),
        "level": zh_en("响应级别", "Level"),
        "unit": zh_en("单位代码", "Unit code"),
        "unit_name": zh_en("救援单位", "Unit"),
        "crew_id": zh_en("班组编号", "Crew"),
        "crew_name": zh_en("班组", "Crew name"),
        "dispatched_at": zh_en("派单时间", "Dispatched"),
        "dispatched_by": zh_en("派单人", "Dispatched by"),
        "eta_min": zh_en("预计路程（分钟）", "Predicted travel (min)"),
        "reference": zh_en("119接警编号", "119 reference"),
        "acknowledged_at": zh_en("响应时间", "Acknowledged"),
        "arrived_at": zh_en("到场时间", "Arrived"),
        "released_at": zh_en("解救时间", "Released"),
        "withdrawn_at": zh_en("撤回时间", "Withdrawn"),
        "withdrawn_by": zh_en("撤回人", "Withdrawn by"),
        "withdraw_reason": zh_en("撤回原因", "Withdrawal reason"),
    },
)

#: The KPI columns: counts, then each rate as numerator, denominator and value, each mean as minutes and
#: count (docs/KPIS.md names them).
KPI_COLUMN = Labels(
    "export_kpi",
    {
        "grouping": zh_en("分组方式", "Grouping"),
        "group": zh_en("分组", "Group"),
        "name": zh_en("名称", "Name"),
        "period_from": zh_en("期间起", "From"),
        "period_to": zh_en("期间止（不含）", "To (exclusive)"),
        "elevators_in_service": zh_en("在用电梯数", "Elevators in service"),
        "incidents": zh_en("事件数", "Incidents"),
        "false_alarms": zh_en("误报", "False alarms"),
        "cancelled": zh_en("报警取消", "Cancelled calls"),
        "rescues": zh_en("救援数（困人）", "Rescues (entrapments)"),
        "self_released": zh_en("自行脱困", "Got out unaided"),
        "pending": zh_en("未定（期限未到）", "Pending (deadline not yet passed)"),
        "response_rate": zh_en("应急响应率", "Response rate"),
        "average_arrival": zh_en("平均到场时间（分钟）", "Average arrival (min)"),
        "average_arrival_count": zh_en("到场次数", "Arrivals"),
        "on_time_arrival": zh_en("按时到达率", "On-time arrival"),
        "average_on_site": zh_en("现场救援用时（分钟）", "On-site time (min)"),
        "average_on_site_count": zh_en("现场救援次数", "On-site count"),
        "entrapment_per_year": zh_en("故障困人率（年化）", "Entrapment rate (per year)"),
        "entrapment_per_month": zh_en("故障困人率（月化）", "Entrapment rate (per month)"),
        "rescue_success": zh_en("救援成功率", "Rescue success"),
        "dispatch_rate": zh_en("出动率", "Dispatch rate"),
        "callback_rate": zh_en("回访率", "Call-back rate"),
        "cause_reported": zh_en("原因上报率", "Cause reported"),
        "level_L1": zh_en("一级响应（起）", "L1 rescues"),
        "level_L2": zh_en("二级响应（起）", "L2 rescues"),
        "level_L3": zh_en("三级响应（起）", "L3 rescues"),
        "cause_unreported": zh_en("原因未报（起）", "Cause not reported"),
        "timestamp_anomalies": zh_en("时间异常的事件", "Incidents with backwards times"),
    },
)
#: The suffixes of a rate's three columns.
RATE_PART = Labels(
    "export_rate_part",
    {
        "numerator": zh_en("（分子）", " numerator"),
        "denominator": zh_en("（分母）", " denominator"),
    },
)
WORD = Labels("export_word", {"yes": zh_en("是", "yes"), "no": zh_en("否", "no")})

#: Every table of this module (tests check both languages are there).
TABLES: tuple[Labels, ...] = (SHEET, INCIDENT_COLUMN, DISPATCH_COLUMN, KPI_COLUMN, RATE_PART, WORD)


# ---------------------------------------------------------------- a table, and its cells

PERCENT = "0.0%"
PERCENT_FINE = "0.000%"
MINUTES = "0.0"


@dataclass(frozen=True)
class Cell:
    """A value with an Excel number format (a rate shown as a percentage, minutes with one decimal)."""

    value: float | None
    number_format: str


@dataclass
class Table:
    """One sheet (or one CSV file): its name, header and rows of plain values, datetimes and Cells."""

    name: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


# A text cell starting with one of these is run as a formula by Excel and LibreOffice (CSV injection,
# OWASP): it is written with a leading ' (as the registry's export does).
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
# Control characters XML 1.0 cannot hold (openpyxl refuses them) and no ledger text needs.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutral(value: Any) -> Any:
    """A text cell made safe to open in a spreadsheet: no control characters, no formula."""
    if not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("", value)
    return "'" + value if _FORMULA_START.match(value) else value


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Cell):
        if value.value is None:
            return ""
        if value.number_format.endswith("%"):
            decimals = 4 if value.number_format == PERCENT_FINE else 2
            return f"{value.value * 100:.{decimals}f}%"  # Excel reads "66.67%" back as a percentage
        return f"{value.value:.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(neutral(value))


def to_csv(table: Table) -> bytes:
    """UTF-8 with a BOM, so Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutral(h) for h in table.header])
    writer.writerows([_csv_text(v) for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """A workbook with one sheet per table (write-only mode: memory stays flat for big periods)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for table in tables:
        ws = wb.create_sheet(table.name[:31])
        ref = f"A1:{get_column_letter(max(len(table.header), 1))}{len(table.rows) + 1}"
        ws.calculate_dimension = lambda ref=ref: ref  # lets read-only readers size the sheet at once
        ws.freeze_panes = "A2"
        for i, text in enumerate(table.header, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(text) + 2))
        bold = Font(bold=True)
        header = []
        for text in table.header:
            cell = WriteOnlyCell(ws, value=neutral(text))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in table.rows:
            cells: list[Any] = []
            for v in row:
                if isinstance(v, Cell):
                    cell = WriteOnlyCell(ws, value=v.value)
                    cell.number_format = v.number_format
                    cells.append(cell)
                else:  # a neutral text never starts with "=", so openpyxl stores it as text, not a formula
                    cells.append(neutral(v))  # a datetime gets openpyxl's date-time format
            ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(tables: Sequence[Table], file_format: FileFormat) -> bytes:
    """The file: every table as a sheet (xlsx), or the first table (CSV, one table a file)."""
    return to_xlsx(tables) if file_format == "xlsx" else to_csv(tables[0])


# ---------------------------------------------------------------- incidents and dispatches


def _local(value: datetime | None, tz: tzinfo) -> datetime | None:
    """An instant on the city's clock, without a zone (Excel has none)."""
    return None if value is None else as_utc(value).astimezone(tz).replace(tzinfo=None)


def _minutes(start: datetime | None, end: datetime | None) -> Cell:
    if start is None or end is None:
        return Cell(None, MINUTES)
    return Cell((as_utc(end) - as_utc(start)).total_seconds() / 60, MINUTES)


def incident_tables(
    session: Session, actor: Actor, flt: queries.IncidentFilter, tz: tzinfo, lang: Lang = "zh"
) -> tuple[Table, Table]:
    """Every incident of the search in the actor's scope (no row limit; oldest alarm first), one row each
    with every stage time, and every dispatch of them, one row each (the sheet "派单记录")."""
    loc = _locale(lang)
    incidents = queries.all_matching(session, actor, flt)
    callers = queries.sees_callers(actor)
    places = registry_queries.places_of(session, sorted({i.registration_code for i in incidents}))
    dispatches = queries.dispatches_by_incident(session, [i.id for i in incidents])
    units = {i.maintenance_unit for i in incidents} | {d.unit for rows in dispatches.values() for d in rows}
    names = registry_queries.unit_names(session, {u for u in units if u})
    names[service.FIRE_SERVICE] = FIRE_SERVICE_NAME[loc]
    crews = queries.crew_names(
        session, {d.crew_id for rows in dispatches.values() for d in rows if d.crew_id}
    )

    def yes_no(flag: bool) -> str:
        return WORD.get("yes" if flag else "no", loc)

    incident_rows: list[list[Any]] = []
    for i in incidents:
        place = places.get(i.registration_code)
        rows = dispatches.get(i.id, [])
        values: dict[str, Any] = {
            "id": i.id,
            "registration_code": i.registration_code,
            "district": place.district if place else "",
            "street": place.street if place else "",
            "address": place.address if place else "",
            "source": labels.SOURCE.get(i.source, loc),
            "status": labels.INCIDENT_STATUS.get(i.status, loc),
            "level": labels.LEVEL.get(i.level, loc),
            "persons_trapped": i.persons_trapped,
            "caller_name": i.caller_name if callers else "",
            "callback_phone": i.callback_phone if callers else "",
            "maintenance_unit": i.maintenance_unit,
            "maintenance_unit_name": names.get(i.maintenance_unit, ""),
            "arrival_limit_min": i.arrival_limit_min,
            "arrival_min": _minutes(i.alarm_at, i.arrived_at),
            "all_released": yes_no(i.all_released),
            "cause": labels.CAUSE.get(i.cause, loc),
            "cause_detail": i.cause_detail,
            "close_reason": i.close_reason,
            "dispatch_count": len(rows),
            "notes": i.notes,
        }
        for name in (
            "alarm_at", "dispatched_at", "acknowledged_at", "arrived_at", "released_at", "completed_at",
            "closed_false_at", "cancelled_at", "escalated_l2_at", "escalated_l3_at", "callback_at",
        ):  # fmt: skip
            values[name] = _local(getattr(i, name), tz)
        incident_rows.append([values[c] for c in INCIDENT_COLUMN.entries])
    dispatch_rows: list[list[Any]] = []
    for i in incidents:
        for n, d in enumerate(dispatches.get(i.id, []), start=1):
            values = {
                "incident_id": i.id,
                "registration_code": i.registration_code,
                "n": n,
                "level": labels.LEVEL.get(d.level, loc),
                "unit": d.unit,
                "unit_name": names.get(d.unit, ""),
                "crew_id": d.crew_id or "",
                "crew_name": crews.get(d.crew_id, "") if d.crew_id else "",
                "dispatched_at": _local(d.dispatched_at, tz),
                "dispatched_by": d.dispatched_by,
                "eta_min": Cell(d.eta_s / 60, MINUTES) if d.eta_s is not None else Cell(None, MINUTES),
                "reference": d.reference,
                "acknowledged_at": _local(d.acknowledged_at, tz),
                "arrived_at": _local(d.arrived_at, tz),
                "released_at": _local(d.released_at, tz),
                "withdrawn_at": _local(d.withdrawn_at, tz),
                "withdrawn_by": d.withdrawn_by,
                "withdraw_reason": labels.WITHDRAW_REASON.get(d.withdraw_reason, loc),
            }
            dispatch_rows.append([values[c] for c in DISPATCH_COLUMN.entries])
    return (
        Table(SHEET.get("incidents", loc), _header(INCIDENT_COLUMN, loc), incident_rows),
        Table(SHEET.get("dispatches", loc), _header(DISPATCH_COLUMN, loc), dispatch_rows),
    )


def _header(table: Labels, loc: str) -> list[str]:
    return [table.get(name, loc) for name in table.entries]


# ---------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class KpiReport:
    """The KPIs of a period and scope, in total and per grouping (grouping -> group key -> figures)."""

    total: Kpis
    groups: dict[str, dict[str, Kpis]]


def kpi_report(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    settings: service.RescueSettings,
    as_of: datetime,
    district: str | None = None,
    unit: str | None = None,
    groupings: Iterable[ReportGrouping] = GROUPINGS,
) -> KpiReport:
    """The figures ``GET /api/v1/rescue/kpis`` gives for the same period, district and unit (its
    ``group_by`` groups for month, district and maintenance unit), and per level: ``compute_kpis`` over
    the rescues that reached it, with every elevator in service (their sum is the total's figures)."""
    records = queries.incident_records(session, actor, start, end, district, unit)
    elevators = registry_queries.count_in_service(session, district, unit)
    ks = service.kpi_settings(settings)
    total = compute_kpis(records, elevators, start, end, ks, as_of, unit)
    groups: dict[str, dict[str, Kpis]] = {}
    for grouping in groupings:
        if grouping == "level":
            groups[grouping] = {
                lv.value: compute_kpis(
                    [r for r in records if r.level is lv], elevators, start, end, ks, as_of
                )
                for lv in Level
            }
            continue
        if grouping == "month":
            counts = dict.fromkeys(month_keys(start, end, ks), elevators)
        else:
            counts = registry_queries.count_in_service_by(session, grouping, district, unit)
        groups[grouping] = dict(sorted(kpis_by(records, grouping, counts, start, end, ks, as_of).items()))
    return KpiReport(total, groups)


def _rate(r: Ratio) -> list[Any]:
    return [r.numerator, r.denominator, Cell(r.value, PERCENT)]


def _mean(m: MeanDuration) -> list[Any]:
    return [Cell(m.minutes, MINUTES), m.count]


def _kpi_header(loc: str) -> list[str]:
    header: list[str] = []
    for name in KPI_COLUMN.entries:
        text = KPI_COLUMN.get(name, loc)
        if name in _RATES:
            header += [text + RATE_PART.get("numerator", loc), text + RATE_PART.get("denominator", loc), text]
        else:
            header.append(text)
    return header


_RATES = (
    "response_rate",
    "on_time_arrival",
    "rescue_success",
    "dispatch_rate",
    "callback_rate",
    "cause_reported",
)


def _kpi_row(grouping: str, key: str, name: str, k: Kpis, tz: tzinfo, loc: str) -> list[Any]:
    e = k.entrapment_rate
    values: dict[str, list[Any]] = {
        "grouping": [SHEET.get(grouping, loc)],
        "group": [key],
        "name": [name],
        "period_from": [_local(k.period_start, tz)],
        "period_to": [_local(k.period_end, tz)],
        "elevators_in_service": [k.elevators_in_service],
        "incidents": [k.incidents],
        "false_alarms": [k.false_alarms],
        "cancelled": [k.cancelled],
        "rescues": [k.rescues],
        "self_released": [k.self_released],
        "pending": [k.pending],
        "average_arrival": _mean(k.average_arrival),
        "average_on_site": _mean(k.average_on_site),
        "entrapment_per_year": [Cell(e.per_year, PERCENT_FINE)],
        "entrapment_per_month": [Cell(e.per_month, PERCENT_FINE)],
        "level_L1": [k.by_level[Level.L1].numerator],
        "level_L2": [k.by_level[Level.L2].numerator],
        "level_L3": [k.by_level[Level.L3].numerator],
        "cause_unreported": [k.cause_unreported],
        "timestamp_anomalies": [", ".join(str(i) for i in k.timestamp_anomalies)],
    }
    for rate in _RATES:
        values[rate] = _rate(getattr(k, rate))
    row: list[Any] = []
    for column in KPI_COLUMN.entries:
        if column in ("average_arrival_count", "average_on_site_count"):
            continue  # written with their means
        row += values[column]
    return row


def kpi_tables(
    session: Session, report: KpiReport, tz: tzinfo, lang: Lang = "zh", one_table: bool = False
) -> list[Table]:
    """The report as tables: the total, then one table per grouping (``one_table``: all rows in one table,
    for CSV; the first two columns say which grouping and group a row is)."""
    loc = _locale(lang)
    header = _kpi_header(loc)
    unit_names = registry_queries.unit_names(session, report.groups.get("maintenance_unit", {}).keys())
    namer: dict[str, Callable[[str], str]] = {
        "maintenance_unit": lambda key: unit_names.get(key, ""),
        "level": lambda key: labels.LEVEL.get(key, loc),
    }
    tables = [Table(SHEET.get("total", loc), header, [_kpi_row("total", "", "", report.total, tz, loc)])]
    for grouping, groups in report.groups.items():
        name_of = namer.get(grouping)
        rows = [
            _kpi_row(grouping, key, name_of(key) if name_of else "", k, tz, loc) for key, k in groups.items()
        ]
        tables.append(Table(SHEET.get(grouping, loc), header, rows))
    if one_table:
        return [Table(tables[0].name, header, [row for t in tables for row in t.rows])]
    return tables


def kpi_column(header: Sequence[str], name: str, lang: Lang = "zh", part: str = "") -> int:
    """Where a KPI column is in a KPI table's header (0-based): ``part`` "numerator" or "denominator" for
    a rate's counts, "" for its value (for readers and tests of the file)."""
    loc = _locale(lang)
    text = KPI_COLUMN.get(name, loc) + (RATE_PART.get(part, loc) if part else "")
    return list(header).index(text)
