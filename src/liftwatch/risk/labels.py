"""The risk domain's words in zh-CN and English: the factors of a score's explanation (with the unit their
value is counted in), the grades and their display colours. Table names are prefixed (``risk_``) so they
never clash with another domain's. Pure: no database, no web."""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.risk.domain import Colour, Factor, Grade, PlaceTier

RISK_FACTOR = Labels(
    "risk_factor",
    {
        Factor.AGE: zh_en("使用年限", "Years in use"),
        Factor.DESIGN_LIFE_USED: zh_en("设计使用年限已用比例", "Design life used"),
        Factor.PLACE: zh_en("使用场所", "Place"),
        Factor.TRAFFIC: zh_en("日运行次数", "Trips a day"),
        Factor.FAULTS_90D: zh_en("近90天故障", "Faults, last 90 days"),
        Factor.FAULTS_365D: zh_en("近一年故障", "Faults, last 365 days"),
        Factor.ENTRAPMENTS_90D: zh_en("近90天困人", "Entrapments, last 90 days"),
        Factor.ENTRAPMENTS_365D: zh_en("近一年困人", "Entrapments, last 365 days"),
        Factor.MAINTENANCE_OVERDUE: zh_en("维保超期天数", "Maintenance overdue (days)"),
        Factor.INSPECTION_OVERDUE: zh_en("超期未检天数", "Inspection overdue (days)"),
        Factor.NONCONFORMITIES: zh_en("检验问题未整改", "Open inspection non-conformities"),
        Factor.HAZARDS_GENERAL: zh_en("未整改一般隐患", "Open general hazards"),
        Factor.HAZARDS_MAJOR: zh_en("未整改重大隐患", "Open major hazards"),
        Factor.FAKE_MAINTENANCE: zh_en("经确认的假维保", "Confirmed fake maintenance"),
        Factor.COMPLAINTS: zh_en("近一年投诉", "Complaints, last 365 days"),
        Factor.THREE_NO: zh_en("三无电梯", "Three-no elevator"),
    },
)

#: the unit of each factor's value, for the explanation's value column
RISK_FACTOR_UNIT = Labels(
    "risk_factor_unit",
    {
        Factor.AGE: zh_en("年", "years"),
        Factor.DESIGN_LIFE_USED: zh_en("比例", "share"),
        Factor.PLACE: zh_en("场所类型", "place type"),
        Factor.TRAFFIC: zh_en("次/天", "trips/day"),
        Factor.FAULTS_90D: zh_en("次", "faults"),
        Factor.FAULTS_365D: zh_en("次", "faults"),
        Factor.ENTRAPMENTS_90D: zh_en("次", "entrapments"),
        Factor.ENTRAPMENTS_365D: zh_en("次", "entrapments"),
        Factor.MAINTENANCE_OVERDUE: zh_en("天", "days"),
        Factor.INSPECTION_OVERDUE: zh_en("天", "days"),
        Factor.NONCONFORMITIES: zh_en("项", "items"),
        Factor.HAZARDS_GENERAL: zh_en("项", "hazards"),
        Factor.HAZARDS_MAJOR: zh_en("项", "hazards"),
        Factor.FAKE_MAINTENANCE: zh_en("次", "flags"),
        Factor.COMPLAINTS: zh_en("件", "cases"),
        Factor.THREE_NO: zh_en("是=1", "yes = 1"),
    },
)

RISK_GRADE = Labels(
    "risk_grade",
    {
        Grade.A: zh_en("A级（低风险）", "A (low risk)"),
        Grade.B: zh_en("B级（一般风险）", "B (moderate risk)"),
        Grade.C: zh_en("C级（较大风险）", "C (high risk)"),
        Grade.D: zh_en("D级（重大风险）", "D (major risk)"),
    },
)

RISK_COLOUR = Labels(
    "risk_colour",
    {
        Colour.BLUE: zh_en("蓝色", "Blue"),
        Colour.YELLOW: zh_en("黄色", "Yellow"),
        Colour.ORANGE: zh_en("橙色", "Orange"),
        Colour.RED: zh_en("红色", "Red"),
    },
)

RISK_PLACE_TIER = Labels(
    "risk_place_tier",
    {
        PlaceTier.CROWDED: zh_en("人员密集场所", "Crowded public place"),
        PlaceTier.PUBLIC: zh_en("其他公共场所", "Other public place"),
        PlaceTier.OTHER: zh_en("住宅及其他", "Residential and other"),
    },
)

TABLES = (RISK_FACTOR, RISK_FACTOR_UNIT, RISK_GRADE, RISK_COLOUR, RISK_PLACE_TIER)
