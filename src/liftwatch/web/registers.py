"""The regulator's registers (监管台账): three-no elevators (三无电梯) and elevators of 15 years and more
(15年以上老旧电梯), at ``/oversight/registers``, each under its tab with its counts.

三无电梯: elevators in use with no property management, no maintenance contract (the registry's flag, or
no contract valid on the city's today in maintenance) or no repair fund, each condition a chip, counted
per condition. 15年以上: elevators in use 15 whole years or more (commissioning date, else installation
date), residential first, counted by age band; their safety assessment (安全评估) reads "not assessed"
until assessments are recorded (a later step, docs/SUPERVISION.md). Both filtered by district and place
type and exported whole (xlsx or CSV). Reads: ``registry.queries.three_no_elevators`` and
``old_elevators``; the risk grade is the stored one (``risk.service.stored_grades``). Admin and regulator
only, like the other oversight pages (others 403).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.responses import Response as BaseResponse

from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import PlaceType
from liftwatch.rescue import exports
from liftwatch.risk import service as risk
from liftwatch.web.listing import param
from liftwatch.web.oversight import ROWS_SHOWN, OversightPage, OversightPageDep
from liftwatch.web.templating import N_, PageRoute, label, render, request_language, screen_tz, translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MIN_YEARS = 15
TABS = {"three_no": N_("regs.tab_three_no"), "old": N_("regs.tab_old")}
TAB_HINTS = {"three_no": N_("regs.hint_three_no"), "old": N_("regs.hint_old")}
#: The three conditions, in the order shown, with their chips' words.
CONDITIONS = {
    "no_property_management": N_("regs.no_property_management"),
    "no_maintenance_contract": N_("regs.no_maintenance_contract"),
    "no_repair_fund": N_("regs.no_repair_fund"),
}
#: The age bands of the 15-year list: (key, words, lowest age, highest age or None).
BANDS = (
    ("15_19", N_("regs.band_15_19"), 15, 19),
    ("20_24", N_("regs.band_20_24"), 20, 24),
    ("25_up", N_("regs.band_25_up"), 25, None),
)
EXPORT_COLUMNS = {
    "three_no": (N_("regs.col_elevator"), N_("regs.col_address"), N_("ovs.district"), N_("regs.col_place"),
                 N_("regs.col_use_unit"), N_("regs.col_age"), N_("regs.col_conditions"),
                 N_("regs.col_grade")),
    "old": (N_("regs.col_elevator"), N_("regs.col_address"), N_("ovs.district"), N_("regs.col_place"),
            N_("regs.col_use_unit"), N_("regs.col_maintenance_unit"), N_("regs.col_started"),
            N_("regs.col_age"), N_("regs.col_grade"), N_("regs.col_assessment")),
}  # fmt: skip
KEYS = (N_("regs.not_assessed"),)


@dataclass(frozen=True)
class RegisterRow:
    """A line of a register: the registry's entry, its age in whole years and its stored risk grade."""

    entry: registry.RegisterEntry
    age: int | None
    grade: str  # "" before its first computation

    @property
    def conditions(self) -> list[str]:
        return [name for name in CONDITIONS if getattr(self.entry, name)]

    @property
    def address(self) -> str:
        e = self.entry
        return " · ".join(x for x in (e.street, e.address) if x)


def _rows(page: OversightPage, entries: Sequence[registry.RegisterEntry]) -> list[RegisterRow]:
    today = page.clock.now().astimezone(screen_tz()).date()
    grades = risk.stored_grades(page.session, [e.registration_code for e in entries])
    return [RegisterRow(e, e.full_years(today), grades.get(e.registration_code, "")) for e in entries]


def register(page: OversightPage, tab: str, district: str, place_type: str) -> list[RegisterRow]:
    """The tab's whole list, filtered (the city's today decides contracts and ages)."""
    session, actor = page.session, page.actor
    today = page.clock.now().astimezone(screen_tz()).date()
    if tab == "three_no":
        valid = maintenance_queries.codes_with_valid_contract(session, today)
        entries = registry.three_no_elevators(session, actor, valid, district or None, place_type or None)
    else:
        entries = registry.old_elevators(
            session, actor, today, MIN_YEARS, district or None, place_type or None
        )
    return _rows(page, entries)


def counts(tab: str, rows: Sequence[RegisterRow]) -> list[tuple[str, str, int]]:
    """The figures at the top: (key, words, count) per condition or per age band."""
    if tab == "three_no":
        return [(k, words, sum(1 for r in rows if getattr(r.entry, k))) for k, words in CONDITIONS.items()]
    return [
        (k, words, sum(1 for r in rows if r.age is not None and lo <= r.age and (hi is None or r.age <= hi)))
        for k, words, lo, hi in BANDS
    ]


def _filters(page: OversightPage) -> tuple[str, str, str]:
    request = page.request
    tab = param(request, "tab")
    place_type = param(request, "place_type")
    if place_type not in {p.value for p in PlaceType}:
        place_type = ""
    return (tab if tab in TABS else "three_no"), param(request, "district"), place_type


def _export_row(tab: str, r: RegisterRow, lang: str) -> list[Any]:
    e = r.entry
    place = label("place_type", e.place_type, lang)
    grade = label("risk_grade", r.grade, lang) if r.grade else ""
    if tab == "three_no":
        conditions = "、".join(translate(CONDITIONS[c], lang) for c in r.conditions)
        return [e.registration_code, r.address, e.district, place, e.use_unit, r.age, conditions, grade]
    started = e.started.isoformat() if e.started else ""
    return [e.registration_code, r.address, e.district, place, e.use_unit, e.maintenance_unit, started,
            r.age, grade, translate("regs.not_assessed", lang)]  # fmt: skip


@router.get("/oversight/registers/export")
def registers_export(page: OversightPageDep) -> BaseResponse:
    """The tab's whole filtered list to Excel (``format=xlsx``) or CSV, in the page's language."""
    lang = request_language(page.request)
    tab, district, place_type = _filters(page)
    fmt: exports.FileFormat = "csv" if param(page.request, "format") == "csv" else "xlsx"
    rows = register(page, tab, district, place_type)
    table = exports.Table(
        translate(TABS[tab], lang),
        [translate(key, lang) for key in EXPORT_COLUMNS[tab]],
        [_export_row(tab, r, lang) for r in rows],
    )
    day = page.clock.now().astimezone(screen_tz()).date().isoformat()
    name = f"registers-{tab}-{day}.{fmt}"
    return BaseResponse(
        exports.render([table], fmt),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/oversight/registers", response_class=HTMLResponse)
def registers_page(page: OversightPageDep) -> HTMLResponse:
    """监管台账: the tab's list (the first ``ROWS_SHOWN`` rows) with its counts, filters and export."""
    tab, district, place_type = _filters(page)
    rows = register(page, tab, district, place_type)
    filters = [(k, v) for k, v in (("district", district), ("place_type", place_type)) if v]
    context = {
        "tabs": TABS,
        "tab": tab,
        "hint": TAB_HINTS[tab],
        "counts": counts(tab, rows),
        "conditions": CONDITIONS,
        "rows": rows[:ROWS_SHOWN],
        "total": len(rows),
        "district": district,
        "place_type": place_type,
        "filters": filters,
        "export_query": [("tab", tab), *filters],
        "districts": sorted(registry.places(page.session, page.actor)),
        "place_types": [p.value for p in PlaceType],
    }
    return render(page.request, "registers/index.html", context, actor=page.actor)
