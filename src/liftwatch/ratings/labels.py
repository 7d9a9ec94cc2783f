"""The ratings domain's words in zh-CN and English: the criteria (with the unit their figure is counted in),
the stars, the lists, and the reasons (sentences with ``{name}`` places for the figures a ``Why`` carries).
Table names are prefixed (``rating_``) so they never clash with another domain's. Pure: no database, no web.
"""

from __future__ import annotations

from liftwatch.core.i18n import Labels, zh_en
from liftwatch.ratings.domain import Criterion, Listing, Why, WhyCode

RATING_CRITERION = Labels(
    "rating_criterion",
    {
        Criterion.ENTRAPMENTS: zh_en("故障困人率", "Entrapments"),
        Criterion.RESPONSE_ON_TIME: zh_en("应急响应及时率", "Rescue response on time"),
        Criterion.ARRIVAL_ON_TIME: zh_en("按时到达率", "Rescue arrival on time"),
        Criterion.OVERDUE_WORK: zh_en("维保超期比例", "Overdue work"),
        Criterion.INSPECTION_PASS: zh_en("检验一次合格率", "First-attempt inspection pass rate"),
        Criterion.FAKE_MAINTENANCE: zh_en("经确认的假维保", "Confirmed fake maintenance"),
        Criterion.COMPLAINTS: zh_en("投诉率", "Complaints"),
    },
)

#: the unit of each criterion's figure, for the value column
RATING_CRITERION_UNIT = Labels(
    "rating_criterion_unit",
    {
        Criterion.ENTRAPMENTS: zh_en("次/百台·月", "per 100 elevators a month"),
        Criterion.RESPONSE_ON_TIME: zh_en("比例", "share"),
        Criterion.ARRIVAL_ON_TIME: zh_en("比例", "share"),
        Criterion.OVERDUE_WORK: zh_en("比例", "share"),
        Criterion.INSPECTION_PASS: zh_en("比例", "share"),
        Criterion.FAKE_MAINTENANCE: zh_en("次/百台", "per 100 elevators"),
        Criterion.COMPLAINTS: zh_en("件/百台·月", "per 100 elevators a month"),
    },
)

RATING_STARS = Labels(
    "rating_stars",
    {
        "1": zh_en("一星", "1 star"),
        "2": zh_en("二星", "2 stars"),
        "3": zh_en("三星", "3 stars"),
        "4": zh_en("四星", "4 stars"),
        "5": zh_en("五星", "5 stars"),
        "not_rated": zh_en("不参评", "Not rated"),
    },
)

RATING_LISTING = Labels(
    "rating_listing",
    {
        Listing.RED: zh_en("红榜", "Red list"),
        Listing.BLACK: zh_en("黑榜", "Black list"),
        Listing.NONE: zh_en("未上榜", "Not listed"),
    },
)

RATING_WHY = Labels(
    "rating_why",
    {
        WhyCode.TOO_FEW_ELEVATORS: zh_en(
            "维保电梯{elevators}台，少于{min}台，不参评",
            "{elevators} elevators maintained, fewer than {min}: not rated",
        ),
        WhyCode.FAKE_MAINTENANCE: zh_en(
            "经确认的假维保每百台{value}次，超过{limit}次",
            "confirmed fake maintenance {value} per 100 elevators, above {limit}",
        ),
        WhyCode.ARRIVAL_BELOW_FLOOR: zh_en(
            "按时到达率{value}，低于{floor}",
            "rescue arrival on time {value}, below {floor}",
        ),
        WhyCode.BOTTOM_SHARE: zh_en(
            "本期{rated}家参评单位中排名第{rank}，处于末尾{share}",
            "ranked {rank} of {rated} rated units: in the bottom {share}",
        ),
        WhyCode.TOP_SHARE: zh_en(
            "本期{rated}家参评单位中排名第{rank}，处于前{share}",
            "ranked {rank} of {rated} rated units: in the top {share}",
        ),
    },
)


def stars_key(stars: int | None) -> str:
    """The ``RATING_STARS`` key of a rating's stars (None: not rated)."""
    return "not_rated" if stars is None else str(stars)


def why_text(why: Why, lang: str) -> str:
    """A reason's sentence in ``lang``, its figures filled in (shares as percentages)."""
    shares = _SHARES.get(why.code, ())
    values = {k: f"{v * 100:.4g}%" if k in shares else f"{v:g}" for k, v in why.values.items()}
    return RATING_WHY.get(why.code, lang).format(**values)


#: the figures of each reason that are shares (shown as percentages)
_SHARES: dict[WhyCode, tuple[str, ...]] = {
    WhyCode.ARRIVAL_BELOW_FLOOR: ("value", "floor"),
    WhyCode.BOTTOM_SHARE: ("share",),
    WhyCode.TOP_SHARE: ("share",),
}


TABLES = (RATING_CRITERION, RATING_CRITERION_UNIT, RATING_STARS, RATING_LISTING, RATING_WHY)
