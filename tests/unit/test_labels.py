"""Every domain owns the labels of its own words, and the screen and the ledger read the same tables.

Acceptance (issue 10, item 2): every enum value of every domain has a Chinese and an English label, and
the Excel export and the web use the same label for each.
"""

from __future__ import annotations

import inspect
import re
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from liftwatch.accounts import actor as accounts_actor
from liftwatch.accounts import labels as accounts_labels
from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.applications import domain as applications_domain
from liftwatch.applications import labels as applications_labels
from liftwatch.assessment import domain as assessment_domain
from liftwatch.assessment import labels as assessment_labels
from liftwatch.complaints import labels as complaints_labels
from liftwatch.complaints import workflow as complaints_workflow
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import LANGUAGES
from liftwatch.core.i18n import Labels
from liftwatch.hazards import fund as hazards_fund
from liftwatch.hazards import labels as hazards_labels
from liftwatch.insurance import domain as insurance_domain
from liftwatch.insurance import labels as insurance_labels
from liftwatch.parts import domain as parts_domain
from liftwatch.parts import labels as parts_labels
from liftwatch.people import domain as people_domain
from liftwatch.people import labels as people_labels
from liftwatch.registry import domain as registry_domain
from liftwatch.registry import io
from liftwatch.registry import labels as registry_labels
from liftwatch.rescue import domain as rescue_domain
from liftwatch.rescue import labels as rescue_labels
from liftwatch.telemetry import faults as telemetry_faults
from liftwatch.telemetry import labels as telemetry_labels
from liftwatch.telemetry.protocol import ServiceMode
from liftwatch.web.templating import LABELS
from tests.factories import seed

# Each domain's pure modules (where its stored enums live) and its labels module.
DOMAINS: list[tuple[list[ModuleType], ModuleType]] = [
    ([accounts_actor], accounts_labels),
    ([registry_domain], registry_labels),
    ([telemetry_faults], telemetry_labels),
    ([rescue_domain], rescue_labels),
    ([hazards_fund], hazards_labels),
    ([assessment_domain], assessment_labels),
    ([complaints_workflow], complaints_labels),
    ([insurance_domain], insurance_labels),
    ([parts_domain], parts_labels),
    ([people_domain], people_labels),
    ([applications_domain], applications_labels),
]

ZH = "zh-CN"


def _enums() -> list[tuple[type[StrEnum], ModuleType]]:
    found = [
        (obj, labels)
        for modules, labels in DOMAINS
        for module in modules
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, StrEnum) and obj is not StrEnum and obj.__module__ == module.__name__
    ]
    names = {e.__name__ for e, _ in found}
    # the walk really finds them (a renamed module must not turn this test into a no-op)
    assert {"Role", "UnitType", "ElevatorKind", "PlaceType", "ElevatorStatus", "EventKind"} <= names
    assert {"FaultType", "Severity", "IncidentStatus", "Level", "Source", "Cause"} <= names
    return found


def _table_of(enum: type[StrEnum], labels: ModuleType) -> Labels:
    """The domain's one table whose entries are exactly this enum's values."""
    values = {m.value for m in enum}
    tables: list[Labels] = [t for t in labels.TABLES if values <= set(t.entries)]
    assert tables, f"{enum.__name__}: no table in {labels.__name__} labels all its values"
    return min(tables, key=lambda t: len(t.entries))


@pytest.mark.parametrize(("enum", "labels"), _enums(), ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_enum_value_has_a_chinese_and_an_english_label(enum: type[StrEnum], labels: ModuleType) -> None:
    table = _table_of(enum, labels)
    for lang in LANGUAGES:
        texts = []
        for member in enum:
            entry = table.entries[member.value]
            text = entry.get(lang, "")
            assert text.strip(), f"{enum.__name__}.{member.name} [{lang}]"
            assert text != member.value, f"{enum.__name__}.{member.name} [{lang}] is its raw key"
            texts.append(text)
        # labels tell values apart
        assert len(set(texts)) == len(texts), f"{enum.__name__} [{lang}]: {texts}"
    # the web shows the domain's own table, not a copy
    assert LABELS.tables[table.name] is table or table.name == "event"


def test_every_service_mode_has_both_labels() -> None:
    table = telemetry_labels.SERVICE_MODE
    for lang in LANGUAGES:
        texts = {table.get(str(int(mode)), lang) for mode in ServiceMode}
        assert len(texts) == len(ServiceMode) == 8
        assert not texts & {str(int(m)) for m in ServiceMode}


def test_the_elevator_file_shows_every_entry_kind_by_its_owners_label() -> None:
    event = LABELS.tables["event"]
    for kind in registry_domain.EventKind:
        assert event.get(kind.value, ZH) == registry_labels.EVENT_KIND.get(kind.value, ZH)
    for incident_kind, entry in rescue_labels.INCIDENT_EVENT.entries.items():
        assert event.get(f"incident_{incident_kind}", "en") == entry["en"]


def test_every_elevator_and_unit_field_has_both_labels() -> None:
    for columns, table in (
        (io.ELEVATOR_COLUMNS, registry_labels.ELEVATOR_FIELD),
        (io.UNIT_COLUMNS, registry_labels.UNIT_FIELD),
    ):
        for column in columns:
            for lang in LANGUAGES:
                assert table.entries.get(column, {}).get(lang, "").strip(), f"{table.name}.{column} [{lang}]"


# ---------------------------------------------------------------- the ledger and the screen agree


def _sheet(path: Path, title: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb[title].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_the_excel_export_uses_the_webs_labels(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    """Export the ledger with Chinese headers and with field names; every Chinese header and every enum
    cell must be the label the web pages show for that field and value (the same lookup the templates
    call), so the screen and the ledger cannot disagree."""
    seed(session, clock)
    zh_path, en_path = tmp_path / "zh.xlsx", tmp_path / "en.xlsx"
    assert io.export_file(session, SYSTEM_ACTOR, zh_path, headers="zh") > 1
    io.export_file(session, SYSTEM_ACTOR, en_path, headers="en")

    for zh_title, en_title, table in (("电梯", "elevators", "elevator"), ("单位", "units", "unit")):
        zh_rows, en_rows = _sheet(zh_path, zh_title), _sheet(en_path, en_title)
        fields = en_rows[0]
        assert list(zh_rows[0]) == [LABELS.label(table, f, ZH) for f in fields]
        assert len(zh_rows) == len(en_rows) > 1
        checked = 0
        for zh_row, en_row in zip(zh_rows[1:], en_rows[1:], strict=True):
            for field, zh_cell, raw in zip(fields, zh_row, en_row, strict=True):
                if field in ("kind", "place_type", "status", "unit_type") and raw:
                    assert zh_cell == LABELS.label(field, raw, ZH), (field, raw)
                    assert zh_cell != raw
                    checked += 1
        assert checked >= len(zh_rows) - 1
    # and both read the registry's own tables, not copies
    for column, enum_table in io.ENUM_TABLES.items():
        assert LABELS.tables[column] is enum_table
    assert LABELS.tables["elevator"] is registry_labels.ELEVATOR_FIELD
    assert LABELS.tables["unit"] is registry_labels.UNIT_FIELD


def test_the_old_ledger_spellings_still_import() -> None:
    """Labels that used to differ between the screen and the ledger: the chosen one is exported, and the
    other spelling is still read."""
    by_header = {h: name for name, headers in io.ELEVATOR_ALIASES.items() for h in headers}
    for old, field in (
        ("96333识别码", "rescue_code"),
        ("站数", "stops"),
        ("层站", "stops"),
        ("无物业", "no_property_management"),
    ):
        assert by_header[old] == field
    for text, value in (("地铁", "metro"), ("轨道交通", "metro"), ("办公", "office"), ("酒店", "hotel")):
        assert io.ENUM_LABELS["place_type"][text] == value
    units = {h: name for name, headers in io.UNIT_ALIASES.items() for h in headers}
    assert units["单位代码"] == units["统一社会信用代码"] == "code"


def test_every_kind_of_entry_on_an_incident_trail_has_both_labels() -> None:
    """The rescue code writes trail entries by name (``_record(..., "dispatched")``, the outbox's
    ``kind="notice_failed"``): each such name has a Chinese and an English label on the incident page."""
    rescue_dir = Path(rescue_labels.__file__).parent
    written: set[str] = set()
    for module in ("service.py", "outbox.py"):
        text = (rescue_dir / module).read_text(encoding="utf-8")
        written |= set(re.findall(r'_record\(\s*session,\s*inc,\s*[\w."]+,\s*"(\w+)"', text))
        written |= set(re.findall(r'IncidentEvent\([^)]*?kind="(\w+)"', text, re.S))
    assert {"raised", "joined", "dispatched", "escalated", "notice_failed"} <= written, written
    table = rescue_labels.INCIDENT_EVENT
    for kind in sorted(written):
        zh, en = table.get(kind, "zh-CN"), table.get(kind, "en")
        assert zh and en and zh != kind and en != kind, kind
