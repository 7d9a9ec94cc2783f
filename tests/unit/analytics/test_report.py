"""The report's model (pure): the period, the findings written from hand-made figures, the unit ranking,
the tables and the charts. Every expected sentence below is worked out from the figures by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from liftwatch.analytics import charts
from liftwatch.analytics.report import (
    AreaFigures,
    CountArea,
    HazardArea,
    InspectionArea,
    MonthFigures,
    Rate,
    RatedUnit,
    ReportFigures,
    ReportPeriod,
    build_report,
    entrapment_rate,
    findings,
    ranked_units,
)

NOV = ReportPeriod.parse("2026-11")


def area(
    key: str, elevators: int, entrapments: int, on_time: tuple[int, int], response: tuple[int, int]
) -> AreaFigures:
    return AreaFigures(key, key, elevators, entrapments, Rate(*on_time), Rate(*response), 18.5)


def month(key: str, entrapments: int) -> MonthFigures:
    return MonthFigures(key, 20_000, entrapments, Rate(0, 0))


def figures(**changes: object) -> ReportFigures:
    """A city of 20,000 elevators in November 2026: 静安区 8,000 with 6 entrapments (7.50 per 10,000),
    徐汇区 12,000 with 6 (5.00 per 10,000); 12 in all (6.00 per 10,000); on time 97 of 100; response
    100 of 100; October had 10 entrapments (so +20.0%)."""
    base = ReportFigures(
        period=NOV,
        city_name="上海市",
        scope_name="",
        total=area("", 20_000, 12, (97, 100), (100, 100)),
        incidents=14,
        false_alarms=2,
        rescue_success=Rate(12, 12),
        by_district=[
            area("徐汇区", 12_000, 6, (50, 50), (50, 50)),
            area("静安区", 8_000, 6, (47, 50), (50, 50)),
        ],
        by_unit=[
            area("MU-A", 8_000, 6, (47, 50), (50, 50)),
            area("MU-B", 12_000, 6, (50, 50), (50, 50)),
        ],
        trend=[month(f"2026-{m:02d}", 0) for m in range(1, 10)]
        + [month("2026-10", 10), month("2026-11", 12)],
        ratings_label="2026-11",
        ratings=[
            RatedUnit("MU-B", "申城电梯", 5, 1, 95, "red"),
            RatedUnit("MU-A", "浦江电梯", 2, 2, 55, "black"),
        ],
        hazards=[HazardArea("徐汇区", 3, 2, 0, 1), HazardArea("静安区", 4, 1, 2, 3)],
        complaints=[CountArea("徐汇区", 12_000, 2), CountArea("静安区", 8_000, 5)],
        complaints_total=7,
        inspections=[InspectionArea("徐汇区", Rate(48, 50)), InspectionArea("静安区", Rate(45, 50))],
        inspection_total=Rate(93, 100),
        inspections_overdue=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_period() -> None:
    assert (NOV.start.isoformat(), NOV.end.isoformat(), NOV.days) == ("2026-11-01", "2026-12-01", 30)
    dec = ReportPeriod.parse("2026-12")
    assert dec.end.isoformat() == "2027-01-01" and dec.label() == "2026年12月"
    year = ReportPeriod.parse("2026")
    assert (year.kind, year.days, year.label(), year.label("en")) == ("year", 365, "2026年", "2026")
    assert NOV.trend_months()[0] == "2025-12" and NOV.trend_months()[-1] == "2026-11"
    assert len(NOV.trend_months()) == 12
    assert year.trend_months() == [f"2026-{m:02d}" for m in range(1, 13)]
    for bad in ("2026-13", "26-11", "2026/11", "", "1999"):
        with pytest.raises(ValueError):
            ReportPeriod.parse(bad)


def test_rates_meet_their_targets_exactly() -> None:
    assert Rate(98, 100).meets(0.98) is True and Rate(97, 100).meets(0.98) is False
    assert Rate(99, 100).meets(0.99) is True and Rate(0, 0).meets(0.98) is None


def test_the_findings_follow_the_figures() -> None:
    out = findings(figures())
    assert out == [
        # 6 / 8,000 × 10,000 = 7.50 > 6 / 12,000 × 10,000 = 5.00; the city 12 / 20,000 × 10,000 = 6.00
        "困人率最高的是静安区，每万台7.50起（6起/8000台），全市平均每万台6.00起。",
        # (12 - 10) / 10 = 20.0%
        "困人12起，比上月（10起）增加20.0%。",
        # 97 / 100 < 98%: 1.0 point short
        "按时到达率97.0%（97/100），未达到98%的目标，差1.0个百分点。",
        # MU-A 47 / 50 = 94.0% < 98%; MU-B 50 / 50 meets it
        "按时到达率低于目标的维保单位1家：MU-A（94.0%）。",
        "隐患逾期未整改2项，集中在静安区（2项）。",
        # 93 / 100 < 95%
        "定期检验一次合格率93.0%（93/100），未达到95%的目标。",
        # 7 / 20,000 × 10,000 = 3.50; 静安区 has 5
        "受理投诉7件，每万台3.50件；最多的是静安区（5件）。",
        "列入黑榜的维保单位：浦江电梯。",
    ]


def test_other_figures_other_findings() -> None:
    calm = figures(
        total=area("", 20_000, 8, (100, 100), (98, 100)),
        by_unit=[area("MU-A", 8_000, 3, (50, 50), (49, 50))],
        trend=[month("2026-10", 10), month("2026-11", 8)],
        hazards=[HazardArea("徐汇区", 3, 2, 0, 1)],
        inspection_total=Rate(96, 100),
        complaints_total=0,
        ratings=[],
    )
    out = findings(calm)
    assert "困人8起，比上月（10起）减少20.0%。" in out
    assert "按时到达率100.0%（100/100），达到98%的目标。" in out
    assert "应急响应率98.0%（98/100），未达到99%的目标。" in out  # 98 < 99
    assert "新发现隐患3项，整改验收2项，无逾期未整改。" in out
    assert "定期检验一次合格率96.0%（96/100），达到95%的目标。" in out
    assert not any("投诉" in line or "黑榜" in line or "维保单位" in line for line in out)

    none = figures(total=area("", 20_000, 0, (0, 0), (0, 0)), by_district=[], trend=[month("2026-11", 0)])
    out = findings(none)
    assert out[0] == "本期全市无困人事件。" and "本期无派出救援，按时到达率无从计算。" in out


def test_the_annual_findings_name_the_peak_month() -> None:
    months = [month(f"2026-{m:02d}", m % 5) for m in range(1, 13)]  # 1 2 3 4 0 1 2 3 4 0 1 2: 23
    year = figures(period=ReportPeriod.parse("2026"), trend=months)
    out = findings(year)
    # the most: 4 in April and September, the later one named; the fewest: 0 in May and October, the first
    assert out[1] == "全年困人23起，最多的是2026年9月（4起），最少的是2026年5月（0起）。"


def test_the_english_findings() -> None:
    out = findings(figures(), "en")
    assert out[0] == (
        "静安区 had the highest entrapment rate: 7.50 per 10,000 elevators (6 on 8000); the average is 6.00."
    )
    assert out[1] == "12 entrapments, 20.0% more than the month before (10)."


def test_units_ranked_and_the_entrapment_rate() -> None:
    a = area("A", 100, 1, (1, 1), (1, 1))  # 100 per 10,000
    b = area("B", 1_000, 1, (0, 1), (1, 1))  # 10 per 10,000
    c = area("C", 1_000, 1, (1, 1), (1, 1))  # 10 per 10,000, better on time than B
    d = area("D", 0, 0, (0, 0), (0, 0))  # no elevators: last
    assert [u.key for u in ranked_units([a, b, c, d])] == ["C", "B", "A", "D"]
    # 12 on 20,000 in 30 days: 0.0006 × 365 / 30 = 0.0073 a year
    assert entrapment_rate(figures()) == pytest.approx(12 / 20_000 * 365 / 30)


def test_the_report_has_every_table_and_chart() -> None:
    report = build_report(figures())
    assert report.title == "上海市电梯安全监管月报 2026年11月"
    assert [t.key for t in report.tables] == [
        "headline",
        "district",
        "units",
        "lists",
        "hazards",
        "complaints",
        "inspections",
        "trend",
    ]
    units = next(t for t in report.tables if t.key == "units")
    assert [row[2] for row in units.rows] == ["MU-B", "MU-A"]  # 5.00 before 7.50 per 10,000
    district = next(t for t in report.tables if t.key == "district")
    assert district.rows[-1][:4] == ["合计", 20_000, 12, 6.0]
    headline = {h.name: (h.value, h.met) for h in report.headline}
    assert headline["按时到达率"] == ("97.0%", False) and headline["应急响应率"] == ("100.0%", True)
    assert headline["故障困人率（年化）"] == ("0.73%", False)  # 0.0073 ≥ 0.5%
    assert [c.key for c in report.charts] == ["district", "hazards", "trend"]
    assert report.charts[0].values == [5.0, 7.5]


def test_charts_are_svg_with_their_words() -> None:
    report = build_report(figures())
    bars = charts.svg(report.charts[0])
    assert bars.startswith("<svg") and bars.count("<rect") == 2
    assert "各区万台困人（起/万台）" in bars and "静安区" in bars and ">7.5<" in bars
    line = charts.svg(report.charts[-1])
    assert (
        "<polyline" in line and "2026年11月" in line and line.count("<circle") == 11
    )  # one point a month of the trend
    empty = charts.svg(replace(report.charts[0], labels=["甲"], values=[None]))
    assert "<rect" not in empty and "—" in empty
