"""The monthly and annual supervision report (电梯安全监管月报 / 年报), as plain data (docs/REPORTS.md).

Pure: :class:`ReportFigures` (what ``gather.py`` reads through the other domains' services) in,
:class:`Report` (title, headline figures against their targets, sections of tables and charts, findings)
out. The PDF (``pdf.py``) and the workbook (``excel.py``) only lay the same report out, so their figures
are the same. The findings are sentences written by the rules below from the figures, never canned text:
each rule says something only when its figures allow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

PeriodKind = Literal["month", "year"]
Lang = Literal["zh", "en"]
Cell = str | int | float | None

# ---------------------------------------------------------------- the period


@dataclass(frozen=True)
class ReportPeriod:
    """A calendar month (``2026-11``) or year (``2026``) on the city's calendar."""

    kind: PeriodKind
    year: int
    month: int | None = None

    @classmethod
    def parse(cls, text: str) -> ReportPeriod:
        """``YYYY-MM`` is a month, ``YYYY`` a year; anything else is a ValueError naming the form."""
        text = text.strip()
        m = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 2000:
            return cls("month", int(m.group(1)), int(m.group(2)))
        if re.fullmatch(r"\d{4}", text) and int(text) >= 2000:
            return cls("year", int(text))
        raise ValueError(f"'{text}' is not a month (YYYY-MM) or a year (YYYY)")

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    @property
    def start(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end(self) -> date:
        """The day after the period (exclusive)."""
        if self.month is None:
            return date(self.year + 1, 1, 1)
        return date(self.year + (self.month == 12), self.month % 12 + 1, 1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def label(self, lang: Lang = "zh") -> str:
        if lang == "zh":
            return f"{self.year}年{self.month}月" if self.month else f"{self.year}年"
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    def trend_months(self) -> list[str]:
        """The months of the trend: the 12 months ending with this one, or the year's 12 months."""
        if self.month is None:
            return [f"{self.year}-{m:02d}" for m in range(1, 13)]
        out = []
        y, m = self.year, self.month
        for _ in range(12):
            out.append(f"{y}-{m:02d}")
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        return out[::-1]


# ---------------------------------------------------------------- the figures (gather.py fills them)


@dataclass(frozen=True)
class Rate:
    """``numerator`` of ``denominator``; ``value`` is None when nothing was counted."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def meets(self, target: float) -> bool | None:
        """At least ``target`` (exact: 98 of 100 meets 0.98)."""
        if not self.denominator:
            return None
        return self.numerator * 10_000 >= round(target * 10_000) * self.denominator


@dataclass(frozen=True)
class AreaFigures:
    """The rescue figures of a district or a maintenance unit (or the whole scope: key "")."""

    key: str
    name: str
    elevators: int
    entrapments: int
    on_time: Rate
    response: Rate
    average_arrival_min: float | None = None

    @property
    def per_10k(self) -> float | None:
        """Entrapments per 10,000 elevators in service over the period."""
        return self.entrapments * 10_000 / self.elevators if self.elevators else None


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM
    elevators: int
    entrapments: int
    on_time: Rate
    complaints: int = 0

    @property
    def per_10k(self) -> float | None:
        return self.entrapments * 10_000 / self.elevators if self.elevators else None


@dataclass(frozen=True)
class RatedUnit:
    code: str
    name: str
    stars: int | None
    rank: int | None
    total: int
    listing: str  # ratings.domain.Listing: red | black | none


@dataclass(frozen=True)
class HazardArea:
    """Hidden dangers of a district: reported in the period, verified as rectified in the period, open
    past their deadline at the period's end (or now, if earlier), open at that moment."""

    key: str
    opened: int
    rectified: int
    overdue: int
    open: int


@dataclass(frozen=True)
class CountArea:
    """A count per district with its elevators (complaints)."""

    key: str
    elevators: int
    count: int

    @property
    def per_10k(self) -> float | None:
        return self.count * 10_000 / self.elevators if self.elevators else None


@dataclass(frozen=True)
class InspectionArea:
    key: str
    pass_rate: Rate  # first-attempt passes of periodic inspections concluded


@dataclass(frozen=True)
class Targets:
    """The targets beside the headline figures (rescue.kpis.KpiSettings; DOMAIN.md section 6)."""

    response: float = 0.99
    on_time: float = 0.98
    arrival_min: float = 30.0
    entrapment: float = 0.005  # entrapments per elevator, on ``entrapment_basis``
    entrapment_basis: Literal["year", "month"] = "year"
    rescue_success: float = 1.0
    inspection: float = 0.95


@dataclass(frozen=True)
class ReportFigures:
    """Everything the report says, read for one period and scope."""

    period: ReportPeriod
    city_name: str
    scope_name: str  # "" for the city; the maintenance unit's name for its own report
    total: AreaFigures
    incidents: int
    false_alarms: int
    rescue_success: Rate
    by_district: list[AreaFigures]
    by_unit: list[AreaFigures]
    trend: list[MonthFigures]
    ratings_label: str | None
    ratings: list[RatedUnit]
    hazards: list[HazardArea]
    complaints: list[CountArea]
    complaints_total: int
    inspections: list[InspectionArea]
    inspection_total: Rate
    inspections_overdue: int
    targets: Targets = field(default_factory=Targets)


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Table:
    key: str  # a stable name (the workbook's sheet order; tests)
    title: str
    header: list[str]
    rows: list[list[Cell]]
    percent_columns: tuple[int, ...] = ()  # cells holding a fraction shown as a percentage


@dataclass(frozen=True)
class Chart:
    key: str
    kind: Literal["bar", "line"]
    title: str
    labels: list[str]
    values: list[float | None]
    unit: str = ""


@dataclass(frozen=True)
class Headline:
    name: str
    value: str
    target: str
    met: bool | None


@dataclass(frozen=True)
class Section:
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    lang: Lang
    title: str
    period_label: str
    scope_label: str
    headline: list[Headline]
    findings: list[str]
    sections: list[Section]

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]


# The report's words, Chinese first (the report is a Chinese document; English for the English page).
WORDS: dict[str, tuple[str, str]] = {
    "title_month": (
        "{city}电梯安全监管月报 {period}",
        "{city} elevator safety supervision: monthly report {period}",
    ),
    "title_year": (
        "{city}电梯安全监管年报 {period}",
        "{city} elevator safety supervision: annual report {period}",
    ),
    "city": ("本市", "City"),
    "scope_city": ("全市", "City-wide"),
    "scope_unit": ("维保单位：{name}", "Maintenance unit: {name}"),
    "s_headline": ("一、主要指标", "1. Headline figures"),
    "s_findings": ("二、分析与发现", "2. Findings"),
    "s_district": ("三、各区情况", "3. By district"),
    "s_unit": ("四、维保单位排名", "4. Maintenance units ranked"),
    "s_lists": ("五、红黑榜", "5. Red and black lists"),
    "s_hazards": ("六、隐患排查整改", "6. Hidden dangers"),
    "s_complaints": ("七、投诉", "7. Complaints"),
    "s_inspections": ("八、定期检验", "8. Periodic inspection"),
    "s_trend": ("九、趋势", "9. Trend"),
    "indicator": ("指标", "Indicator"),
    "value": ("本期数值", "Value"),
    "target": ("目标", "Target"),
    "met": ("是否达标", "Met"),
    "yes": ("达标", "met"),
    "no": ("未达标", "not met"),
    "na": ("—", "—"),
    "k_elevators": ("在用电梯（台）", "Elevators in service"),
    "k_entrapments": ("困人（起）", "Entrapments"),
    "k_per_10k": ("万台困人（起/万台）", "Entrapments per 10,000 elevators"),
    "k_entrapment_rate": ("故障困人率", "Entrapment rate"),
    "k_response": ("应急响应率", "Response rate"),
    "k_on_time": ("按时到达率", "On-time arrival rate"),
    "k_arrival": ("平均到场时间（分钟）", "Average arrival time (min)"),
    "k_success": ("救援成功率", "Rescue success rate"),
    "k_inspection": ("检验合格率", "Inspection pass rate"),
    "k_insp_overdue": ("检验逾期未检（台）", "Inspections overdue (elevators)"),
    "k_complaints": ("投诉（件）", "Complaints"),
    "k_complaint_rate": ("万台投诉（件/万台）", "Complaints per 10,000 elevators"),
    "basis_year": ("（年化）", " (a year)"),
    "basis_month": ("（月均）", " (a month)"),
    "district": ("区", "District"),
    "unit": ("维保单位", "Maintenance unit"),
    "rank": ("排名", "Rank"),
    "code": ("单位代码", "Unit code"),
    "stars": ("星级", "Stars"),
    "score": ("得分", "Score"),
    "listing": ("榜单", "List"),
    "red": ("红榜", "red list"),
    "black": ("黑榜", "black list"),
    "opened": ("新发现隐患（项）", "Reported"),
    "rectified": ("整改验收（项）", "Rectified"),
    "overdue": ("逾期未整改（项）", "Overdue"),
    "open": ("未销号（项）", "Open"),
    "inspected": ("检验（台次）", "Inspections"),
    "passed": ("一次合格（台次）", "Passed first time"),
    "month": ("月份", "Month"),
    "total": ("合计", "Total"),
    "t_headline": ("主要指标与目标", "Headline figures and targets"),
    "t_district": ("各区救援情况", "Rescue by district"),
    "t_unit": (
        "维保单位排名（按万台困人由低到高）",
        "Maintenance units ranked (entrapments per 10,000, lowest first)",
    ),
    "t_lists": ("红黑榜（评定期 {label}）", "Red and black lists (rating period {label})"),
    "t_lists_none": ("红黑榜（本期未评定）", "Red and black lists (no rating for the period)"),
    "t_hazards": ("各区隐患排查整改", "Hidden dangers by district"),
    "t_complaints": ("各区投诉", "Complaints by district"),
    "t_inspections": ("各区定期检验", "Periodic inspection by district"),
    "t_trend": ("逐月情况", "Month by month"),
    "c_district": ("各区万台困人（起/万台）", "Entrapments per 10,000 elevators by district"),
    "c_trend": ("困人起数逐月趋势", "Entrapments month by month"),
    "c_hazards": ("各区新发现隐患（项）", "Hidden dangers reported by district"),
    "u_per_10k": ("起/万台", "per 10,000"),
    "u_count": ("起", "entrapments"),
    "u_items": ("项", "items"),
    "sep": ("；", "; "),
    # findings
    "f_no_entrapment": ("本期{scope}无困人事件。", "No entrapment in {scope} this period."),
    "f_top_district": (
        "困人率最高的是{name}，每万台{rate}起（{n}起/{e}台），全市平均每万台{avg}起。",
        "{name} had the highest entrapment rate: {rate} per 10,000 elevators ({n} on {e}); "
        "the average is {avg}.",
    ),
    "f_on_time_met": (
        "按时到达率{value}（{n}/{d}），达到{target}的目标。",
        "On-time arrival was {value} ({n}/{d}), meeting the {target} target.",
    ),
    "f_on_time_missed": (
        "按时到达率{value}（{n}/{d}），未达到{target}的目标，差{gap}个百分点。",
        "On-time arrival was {value} ({n}/{d}), {gap} points short of the {target} target.",
    ),
    "f_on_time_none": (
        "本期无派出救援，按时到达率无从计算。",
        "No responder was sent: no on-time arrival rate.",
    ),
    "f_response_missed": (
        "应急响应率{value}（{n}/{d}），未达到{target}的目标。",
        "The response rate was {value} ({n}/{d}), below the {target} target.",
    ),
    "f_mom_up": (
        "困人{n}起，比上月（{p}起）增加{change}。",
        "{n} entrapments, {change} more than the month before ({p}).",
    ),
    "f_mom_down": (
        "困人{n}起，比上月（{p}起）减少{change}。",
        "{n} entrapments, {change} fewer than the month before ({p}).",
    ),
    "f_mom_same": ("困人{n}起，与上月持平。", "{n} entrapments, as many as the month before."),
    "f_mom_from_zero": ("困人{n}起，上月无困人。", "{n} entrapments; none the month before."),
    "f_peak_month": (
        "全年困人{n}起，最多的是{month}（{m}起），最少的是{low}（{l}起）。",
        "{n} entrapments in the year; most in {month} ({m}), fewest in {low} ({l}).",
    ),
    "f_units_late": (
        "按时到达率低于目标的维保单位{k}家：{names}。",
        "{k} maintenance units below the on-time target: {names}.",
    ),
    "f_hazards_overdue": (
        "隐患逾期未整改{n}项，集中在{name}（{m}项）。",
        "{n} hidden dangers overdue, most in {name} ({m}).",
    ),
    "f_hazards_clear": (
        "新发现隐患{o}项，整改验收{r}项，无逾期未整改。",
        "{o} hidden dangers reported, {r} rectified, none overdue.",
    ),
    "f_inspection": (
        "定期检验一次合格率{value}（{n}/{d}），{verdict}{target}的目标。",
        "The first-attempt inspection pass rate was {value} ({n}/{d}): {verdict} the {target} target.",
    ),
    "f_inspection_met": ("达到", "meeting"),
    "f_inspection_missed": ("未达到", "below"),
    "f_complaints": (
        "受理投诉{n}件，每万台{rate}件；最多的是{name}（{m}件）。",
        "{n} complaints, {rate} per 10,000 elevators; most in {name} ({m}).",
    ),
    "f_black": ("列入黑榜的维保单位：{names}。", "Maintenance units on the black list: {names}."),
}


def word(key: str, lang: Lang, **values: object) -> str:
    zh, en = WORDS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _target_pct(t: float) -> str:
    return f"{t * 100:g}%"


def entrapment_rate(figures: ReportFigures) -> float | None:
    """Entrapments per elevator on the target's basis: the period's rate × 365 ÷ its days (a year), ÷ 12
    for a month (docs/KPIS.md)."""
    t = figures.total
    if not t.elevators:
        return None
    per_year = t.entrapments / t.elevators * 365 / figures.period.days
    return per_year if figures.targets.entrapment_basis == "year" else per_year / 12


# ---------------------------------------------------------------- findings (pure rules over the figures)


def _finding_entrapments(f: ReportFigures, lang: Lang) -> list[str]:
    scope = f.scope_name or word("scope_city", lang)
    if f.total.entrapments == 0:
        return [word("f_no_entrapment", lang, scope=scope)]
    rated = [d for d in f.by_district if d.per_10k is not None and d.entrapments > 0]
    if not rated:
        return []
    top = max(rated, key=lambda d: (d.per_10k or 0.0, d.entrapments, d.key))
    return [
        word(
            "f_top_district",
            lang,
            name=top.name or top.key,
            rate=number(top.per_10k),
            n=top.entrapments,
            e=top.elevators,
            avg=number(f.total.per_10k),
        )
    ]


def _finding_change(f: ReportFigures, lang: Lang) -> list[str]:
    if not f.trend:
        return []
    if f.period.kind == "year":
        n = sum(m.entrapments for m in f.trend)
        if n == 0:
            return []
        high = max(f.trend, key=lambda m: (m.entrapments, m.month))
        low = min(f.trend, key=lambda m: (m.entrapments, m.month))
        return [
            word(
                "f_peak_month",
                lang,
                n=n,
                month=_month_label(high.month, lang),
                m=high.entrapments,
                low=_month_label(low.month, lang),
                l=low.entrapments,
            )
        ]
    if len(f.trend) < 2:
        return []
    now, before = f.trend[-1].entrapments, f.trend[-2].entrapments
    if now == before:
        return [word("f_mom_same", lang, n=now)]
    if before == 0:
        return [word("f_mom_from_zero", lang, n=now)]
    change = percent(abs(now - before) / before)
    return [word("f_mom_up" if now > before else "f_mom_down", lang, n=now, p=before, change=change)]


def _finding_rescue(f: ReportFigures, lang: Lang) -> list[str]:
    out: list[str] = []
    ot, target = f.total.on_time, f.targets.on_time
    met = ot.meets(target)
    if met is None:
        out.append(word("f_on_time_none", lang))
    else:
        values = {
            "value": percent(ot.value),
            "n": ot.numerator,
            "d": ot.denominator,
            "target": _target_pct(target),
        }
        if met:
            out.append(word("f_on_time_met", lang, **values))
        else:
            gap = f"{(target - (ot.value or 0.0)) * 100:.1f}"
            out.append(word("f_on_time_missed", lang, gap=gap, **values))
    rr = f.total.response
    if rr.meets(f.targets.response) is False:
        out.append(
            word(
                "f_response_missed",
                lang,
                value=percent(rr.value),
                n=rr.numerator,
                d=rr.denominator,
                target=_target_pct(f.targets.response),
            )
        )
    late = [u for u in f.by_unit if u.on_time.meets(target) is False]
    if late:
        names = "、".join(f"{u.name or u.key}（{percent(u.on_time.value)}）" for u in late[:5])
        if lang == "en":
            names = ", ".join(f"{u.name or u.key} ({percent(u.on_time.value)})" for u in late[:5])
        out.append(word("f_units_late", lang, k=len(late), names=names))
    return out


def _finding_hazards(f: ReportFigures, lang: Lang) -> list[str]:
    if not f.hazards:
        return []
    overdue = sum(h.overdue for h in f.hazards)
    if overdue:
        worst = max(f.hazards, key=lambda h: (h.overdue, h.key))
        return [word("f_hazards_overdue", lang, n=overdue, name=worst.key, m=worst.overdue)]
    opened, rectified = sum(h.opened for h in f.hazards), sum(h.rectified for h in f.hazards)
    return [word("f_hazards_clear", lang, o=opened, r=rectified)]


def _finding_inspection(f: ReportFigures, lang: Lang) -> list[str]:
    pr = f.inspection_total
    met = pr.meets(f.targets.inspection)
    if met is None:
        return []
    verdict = word("f_inspection_met" if met else "f_inspection_missed", lang)
    return [
        word(
            "f_inspection",
            lang,
            value=percent(pr.value),
            n=pr.numerator,
            d=pr.denominator,
            verdict=verdict,
            target=_target_pct(f.targets.inspection),
        )
    ]


def _finding_complaints(f: ReportFigures, lang: Lang) -> list[str]:
    if not f.complaints_total:
        return []
    worst = max(f.complaints, key=lambda c: (c.count, c.key)) if f.complaints else None
    rate = f.complaints_total * 10_000 / f.total.elevators if f.total.elevators else None
    return [
        word(
            "f_complaints",
            lang,
            n=f.complaints_total,
            rate=number(rate),
            name=worst.key if worst else "—",
            m=worst.count if worst else 0,
        )
    ]


def _finding_black(f: ReportFigures, lang: Lang) -> list[str]:
    black = [r for r in f.ratings if r.listing == "black"]
    if not black:
        return []
    sep = "、" if lang == "zh" else ", "
    return [word("f_black", lang, names=sep.join(r.name or r.code for r in black))]


def findings(figures: ReportFigures, lang: Lang = "zh") -> list[str]:
    """The findings, in the report's order: entrapments (the district with the highest rate), the change
    (month on month; the peak month of a year), rescue against its targets (and the units below the
    on-time target), hidden dangers, inspection, complaints, the black list."""
    out: list[str] = []
    for rule in (
        _finding_entrapments,
        _finding_change,
        _finding_rescue,
        _finding_hazards,
        _finding_inspection,
        _finding_complaints,
        _finding_black,
    ):
        out += rule(figures, lang)
    return out


# ---------------------------------------------------------------- building the report


def _month_label(month: str, lang: Lang) -> str:
    y, m = month.split("-")
    return f"{y}年{int(m)}月" if lang == "zh" else month


def _met(flag: bool | None, lang: Lang) -> str:
    return word("na", lang) if flag is None else word("yes" if flag else "no", lang)


def _headline(f: ReportFigures, lang: Lang) -> list[Headline]:
    t, tg = f.total, f.targets
    rate = entrapment_rate(f)
    basis = word("basis_year" if tg.entrapment_basis == "year" else "basis_month", lang)
    arrival = t.average_arrival_min
    return [
        Headline(word("k_elevators", lang), str(t.elevators), "", None),
        Headline(word("k_entrapments", lang), str(t.entrapments), "", None),
        Headline(word("k_per_10k", lang), number(t.per_10k), "", None),
        Headline(
            word("k_entrapment_rate", lang) + basis,
            percent(rate, 2),
            f"< {_target_pct(tg.entrapment)}",
            None if rate is None else rate < tg.entrapment,
        ),
        Headline(
            word("k_response", lang),
            percent(t.response.value),
            f"≥ {_target_pct(tg.response)}",
            t.response.meets(tg.response),
        ),
        Headline(
            word("k_on_time", lang),
            percent(t.on_time.value),
            f"≥ {_target_pct(tg.on_time)}",
            t.on_time.meets(tg.on_time),
        ),
        Headline(
            word("k_arrival", lang),
            number(arrival, 1),
            f"≤ {tg.arrival_min:g}",
            None if arrival is None else arrival <= tg.arrival_min,
        ),
        Headline(
            word("k_success", lang),
            percent(f.rescue_success.value),
            f"≥ {_target_pct(tg.rescue_success)}",
            f.rescue_success.meets(tg.rescue_success),
        ),
        Headline(
            word("k_inspection", lang),
            percent(f.inspection_total.value),
            f"≥ {_target_pct(tg.inspection)}",
            f.inspection_total.meets(tg.inspection),
        ),
        Headline(word("k_insp_overdue", lang), str(f.inspections_overdue), "", None),
        Headline(word("k_complaints", lang), str(f.complaints_total), "", None),
    ]


def _area_row(a: AreaFigures) -> list[Cell]:
    return [
        a.elevators,
        a.entrapments,
        None if a.per_10k is None else round(a.per_10k, 2),
        a.response.value,
        a.on_time.value,
        None if a.average_arrival_min is None else round(a.average_arrival_min, 1),
    ]


def _area_header(lang: Lang) -> list[str]:
    return [
        word("k_elevators", lang),
        word("k_entrapments", lang),
        word("k_per_10k", lang),
        word("k_response", lang),
        word("k_on_time", lang),
        word("k_arrival", lang),
    ]


def ranked_units(units: list[AreaFigures]) -> list[AreaFigures]:
    """Units by entrapments per 10,000 elevators, lowest first; then on-time arrival, highest first; units
    without elevators last."""
    return sorted(
        units,
        key=lambda u: (
            u.per_10k is None,
            u.per_10k or 0.0,
            -(u.on_time.value if u.on_time.value is not None else -1.0),
            u.key,
        ),
    )


def build_report(f: ReportFigures, lang: Lang = "zh") -> Report:
    """The report of ``f``: headline against targets, findings, then a section per subject."""
    city = f.city_name or word("city", lang)
    period_label = f.period.label(lang)
    title = word(
        "title_month" if f.period.kind == "month" else "title_year", lang, city=city, period=period_label
    )
    scope = word("scope_unit", lang, name=f.scope_name) if f.scope_name else word("scope_city", lang)
    headline = _headline(f, lang)
    headline_table = Table(
        "headline",
        word("t_headline", lang),
        [word("indicator", lang), word("value", lang), word("target", lang), word("met", lang)],
        [[h.name, h.value, h.target or word("na", lang), _met(h.met, lang)] for h in headline],
    )
    rate_cols = (4, 5)
    district_table = Table(
        "district",
        word("t_district", lang),
        [word("district", lang), *_area_header(lang)],
        [[d.name or d.key, *_area_row(d)] for d in f.by_district]
        + [[word("total", lang), *_area_row(f.total)]],
        rate_cols,
    )
    units = ranked_units(f.by_unit)
    unit_table = Table(
        "units",
        word("t_unit", lang),
        [word("rank", lang), word("unit", lang), word("code", lang), *_area_header(lang)],
        [[i, u.name or u.key, u.key, *_area_row(u)] for i, u in enumerate(units, 1)],
        (6, 7),
    )
    listed = [r for r in f.ratings if r.listing in ("red", "black")]
    lists_table = Table(
        "lists",
        word("t_lists", lang, label=f.ratings_label) if f.ratings_label else word("t_lists_none", lang),
        [
            word("listing", lang),
            word("unit", lang),
            word("code", lang),
            word("stars", lang),
            word("score", lang),
            word("rank", lang),
        ],
        [[word(r.listing, lang), r.name, r.code, r.stars, r.total, r.rank] for r in listed],
    )
    hz = f.hazards
    hazard_rows: list[list[Cell]] = [[h.key, h.opened, h.rectified, h.overdue, h.open] for h in hz]
    hazard_table = Table(
        "hazards",
        word("t_hazards", lang),
        [
            word("district", lang),
            word("opened", lang),
            word("rectified", lang),
            word("overdue", lang),
            word("open", lang),
        ],
        [
            *hazard_rows,
            [
                word("total", lang),
                sum(h.opened for h in hz),
                sum(h.rectified for h in hz),
                sum(h.overdue for h in hz),
                sum(h.open for h in hz),
            ],
        ],
    )
    complaint_table = Table(
        "complaints",
        word("t_complaints", lang),
        [
            word("district", lang),
            word("k_elevators", lang),
            word("k_complaints", lang),
            word("k_complaint_rate", lang),
        ],
        [
            [c.key, c.elevators, c.count, None if c.per_10k is None else round(c.per_10k, 2)]
            for c in f.complaints
        ]
        + [
            [
                word("total", lang),
                f.total.elevators,
                f.complaints_total,
                round(f.complaints_total * 10_000 / f.total.elevators, 2) if f.total.elevators else None,
            ]
        ],
    )
    inspection_table = Table(
        "inspections",
        word("t_inspections", lang),
        [word("district", lang), word("inspected", lang), word("passed", lang), word("k_inspection", lang)],
        [[i.key, i.pass_rate.denominator, i.pass_rate.numerator, i.pass_rate.value] for i in f.inspections]
        + [
            [
                word("total", lang),
                f.inspection_total.denominator,
                f.inspection_total.numerator,
                f.inspection_total.value,
            ]
        ],
        (3,),
    )
    trend_table = Table(
        "trend",
        word("t_trend", lang),
        [
            word("month", lang),
            word("k_elevators", lang),
            word("k_entrapments", lang),
            word("k_per_10k", lang),
            word("k_on_time", lang),
            word("k_complaints", lang),
        ],
        [
            [
                m.month,
                m.elevators,
                m.entrapments,
                None if m.per_10k is None else round(m.per_10k, 2),
                m.on_time.value,
                m.complaints,
            ]
            for m in f.trend
        ],
        (4,),
    )
    district_chart = Chart(
        "district",
        "bar",
        word("c_district", lang),
        [d.name or d.key for d in f.by_district],
        [d.per_10k for d in f.by_district],
        word("u_per_10k", lang),
    )
    trend_chart = Chart(
        "trend",
        "line",
        word("c_trend", lang),
        [_month_label(m.month, lang) if lang == "zh" else m.month for m in f.trend],
        [float(m.entrapments) for m in f.trend],
        word("u_count", lang),
    )
    hazard_chart = Chart(
        "hazards",
        "bar",
        word("c_hazards", lang),
        [h.key for h in hz],
        [float(h.opened) for h in hz],
        word("u_items", lang),
    )
    sections = [
        Section(word("s_headline", lang), [headline_table]),
        Section(word("s_district", lang), [district_table], [district_chart]),
        Section(word("s_unit", lang), [unit_table]),
        Section(word("s_lists", lang), [lists_table]),
        Section(word("s_hazards", lang), [hazard_table], [hazard_chart]),
        Section(word("s_complaints", lang), [complaint_table]),
        Section(word("s_inspections", lang), [inspection_table]),
        Section(word("s_trend", lang), [trend_table], [trend_chart]),
    ]
    return Report(lang, title, period_label, scope, headline, findings(f, lang), sections)
