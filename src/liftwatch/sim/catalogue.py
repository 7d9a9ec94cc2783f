"""What the simulated city is made of: manufacturers, their service companies, place types and their lifts.

Shares are calibrated to Shanghai (DOMAIN.md §7): traction lifts are the large majority, escalators and
moving walks sit in malls, metro stations and transport hubs, and the maintenance market has a few large
OEM service companies and a long tail of local firms.
"""

from __future__ import annotations

from dataclasses import dataclass

from liftwatch.registry.domain import ElevatorKind, PlaceType


@dataclass(frozen=True)
class Brand:
    """A manufacturer (制造单位) with its model names and its share of new and old installations."""

    key: str
    name: str
    prefix: str  # serial number prefix
    lifts: tuple[str, ...]
    escalators: tuple[str, ...]
    walks: tuple[str, ...]
    share_new: float  # share of lifts installed in the last 15 years
    share_old: float  # share of lifts older than 15 years
    service: str = ""  # the OEM's own maintenance company, if it has one
    service_share: float = 0.0  # its share of the city's maintenance market


BRANDS: tuple[Brand, ...] = (
    Brand(
        "smec",
        "上海三菱电梯有限公司",
        "SM",
        ("LEHY-III", "LEHY-H", "HOPE-II", "ELENESSA"),
        ("J-SS", "J-ES"),
        ("J-MW",),
        0.22,
        0.28,
        "上海三菱电梯有限公司安装维修分公司",
        0.11,
    ),
    Brand(
        "otis",
        "奥的斯电梯(中国)有限公司",
        "OT",
        ("GeN2", "GeN2-MR", "SkyWay", "OH-CON"),
        ("NCE", "506NCE", "Link"),
        ("Travolator",),
        0.12,
        0.18,
        "奥的斯电梯(中国)有限公司上海分公司",
        0.07,
    ),
    Brand(
        "hitachi",
        "日立电梯(中国)有限公司",
        "HT",
        ("HGP", "HGE", "MCA", "UAX"),
        ("VX", "EX"),
        ("PW",),
        0.11,
        0.08,
        "日立电梯(中国)有限公司上海分公司",
        0.06,
    ),
    Brand(
        "kone",
        "通力电梯有限公司",
        "KN",
        ("MonoSpace", "MiniSpace", "3000S"),
        ("TravelMaster 110", "TransitMaster 120"),
        ("TravelMaster 115",),
        0.11,
        0.06,
        "通力电梯有限公司上海分公司",
        0.055,
    ),
    Brand(
        "schindler",
        "迅达(中国)电梯有限公司",
        "SC",
        ("3300", "5500", "7000"),
        ("9300", "9700"),
        ("9500",),
        0.09,
        0.10,
        "迅达(中国)电梯有限公司上海分公司",
        0.05,
    ),
    Brand(
        "tk",
        "蒂森克虏伯电梯(上海)有限公司",
        "TK",
        ("evolution", "synergy", "meta"),
        ("Velino", "Victoria"),
        ("iwalk", "Orinoco"),
        0.07,
        0.06,
        "蒂森克虏伯电梯(上海)有限公司维保分公司",
        0.04,
    ),
    Brand(
        "toshiba",
        "东芝电梯(中国)有限公司",
        "TS",
        ("SPACEL-GR", "ELCOSMO"),
        ("SX",),
        (),
        0.04,
        0.05,
        "东芝电梯(中国)有限公司上海分公司",
        0.02,
    ),
    Brand(
        "canny",
        "康力电梯股份有限公司",
        "KL",
        ("KLK1", "KLK2"),
        ("KLF", "KLX"),
        ("KLW",),
        0.06,
        0.02,
        "康力电梯股份有限公司上海分公司",
        0.02,
    ),
    Brand(
        "fujitec",
        "华升富士达电梯有限公司",
        "FJ",
        ("FJ-GLVF", "FJ-1000"),
        ("FJE",),
        (),
        0.03,
        0.04,
        "华升富士达电梯有限公司上海分公司",
        0.015,
    ),
    Brand(
        "melco",
        "三菱电机上海机电电梯有限公司",
        "ME",
        ("NEXIEZ", "GPS-CR"),
        ("ZJ",),
        (),
        0.03,
        0.04,
        "三菱电机上海机电电梯有限公司维修服务分公司",
        0.015,
    ),
    Brand("guangri", "广州广日电梯工业有限公司", "GR", ("GRPS",), ("GRE",), (), 0.03, 0.01),
    Brand("sjec", "江南嘉捷电梯股份有限公司", "JN", ("JJ-G",), ("JE", "JE-B"), ("JW",), 0.03, 0.02),
    Brand("kuaiyi", "快意电梯股份有限公司", "KY", ("KYHT", "KZW"), (), (), 0.02, 0.01),
    Brand("shenlong", "申龙电梯股份有限公司", "SL", ("SLX", "SLZ"), (), (), 0.02, 0.01),
    Brand("yungtay", "永大电梯设备(中国)有限公司", "YD", ("YP-VF",), ("YE",), (), 0.02, 0.03),
    Brand("sef", "上海电梯厂", "SD", ("XPM", "KJX"), ("XF",), (), 0.0, 0.05),
)

#: Local makers of dumbwaiters and small hydraulic lifts.
SMALL_LIFT_BRANDS = ("kuaiyi", "shenlong", "canny", "guangri")

#: Long-tail maintenance companies (维保单位) are named like these.
MAINTENANCE_SUFFIXES = (
    "电梯工程有限公司",
    "电梯安装维修有限公司",
    "机电设备有限公司",
    "电梯服务有限公司",
    "电梯技术有限公司",
    "电梯有限公司",
)

#: Well-known property managers that run many estates; the rest are generated.
PROPERTY_MANAGERS = (
    "上海陆家嘴物业管理有限公司",
    "上海东湖物业管理有限公司",
    "上海上房物业服务股份有限公司",
    "上海科瑞物业管理发展有限公司",
    "万科物业发展股份有限公司上海分公司",
    "绿城物业服务集团有限公司上海分公司",
    "保利物业服务股份有限公司上海分公司",
    "上海永升物业管理有限公司",
    "上海明华物业管理有限公司",
    "上海徐房物业管理有限公司",
)

METRO_OPERATORS = (
    "上海地铁第一运营有限公司",
    "上海地铁第二运营有限公司",
    "上海地铁第三运营有限公司",
    "上海地铁第四运营有限公司",
)

INSPECTION_BODY = "上海市特种设备监督检验技术研究院"
INSURERS = (
    "中国人民财产保险股份有限公司上海市分公司",
    "中国太平洋财产保险股份有限公司上海分公司",
    "中国平安财产保险股份有限公司上海分公司",
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭"
    "曾肖田董潘袁蔡蒋余杜叶程苏魏吕丁任沈姚卢姜钟陆汪范金顾毛钱严戴"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚华建国文辉力斌浩鹏宇俊峰晨颖婷雪琳"

ESTATE_SUFFIXES_OLD = ("新村", "新村", "小区", "公寓", "坊")
ESTATE_SUFFIXES_NEW = ("花园", "苑", "家园", "公寓", "名邸", "雅苑", "城", "湾")
OFFICE_SUFFIXES = ("大厦", "中心", "广场", "国际大厦", "商务楼", "科技园")
MALL_SUFFIXES = ("购物中心", "广场", "百货", "商城", "天地")
HOTEL_SUFFIXES = ("大酒店", "酒店", "宾馆", "饭店")
SCHOOL_SUFFIXES = ("中学", "小学", "实验学校", "职业技术学院", "大学")
PUBLIC_NAMES = (
    "区政府大楼",
    "图书馆",
    "体育中心",
    "文化中心",
    "社区服务中心",
    "交通枢纽",
    "火车站",
    "展览馆",
)
OWNER_SUFFIXES = ("置业有限公司", "物业管理有限公司", "投资发展有限公司")
OTHER_SUFFIXES = ("工业园", "物流园", "产业园", "仓储中心")


@dataclass(frozen=True)
class PlaceSpec:
    """How one place type's buildings look: share of the city's elevators, lifts per building, height,
    kind mix, how much older than average its lifts are and how many carry an IoT terminal."""

    share: float  # share of all elevators
    old_factor: float  # relative odds of being over 15 years old
    iot_rate: float  # share with an IoT terminal (remote monitoring), for young lifts
    floors: tuple[tuple[int, int, float], ...]  # (lowest, highest, weight) of building heights
    kinds: tuple[tuple[str, float], ...]  # (kind or "freight", weight)


_T, _E, _W, _H, _D = (
    ElevatorKind.TRACTION.value,
    ElevatorKind.ESCALATOR.value,
    ElevatorKind.MOVING_WALK.value,
    ElevatorKind.HYDRAULIC.value,
    ElevatorKind.DUMBWAITER.value,
)
FREIGHT = "freight"  # a traction goods lift (曳引驱动载货电梯)

PLACES: dict[PlaceType, PlaceSpec] = {
    PlaceType.RESIDENTIAL: PlaceSpec(
        0.60, 1.25, 0.72, ((8, 11, 0.3), (12, 18, 0.35), (19, 33, 0.35)), ((_T, 0.995), (_H, 0.005))
    ),
    PlaceType.OFFICE: PlaceSpec(
        0.13,
        0.95,
        0.96,
        ((8, 20, 0.55), (21, 40, 0.35), (41, 70, 0.10)),
        ((_T, 0.93), (FREIGHT, 0.01), (_E, 0.05), (_D, 0.01)),
    ),
    PlaceType.MALL: PlaceSpec(
        0.07, 0.55, 0.97, ((3, 8, 1.0),), ((_E, 0.68), (_W, 0.07), (_T, 0.20), (FREIGHT, 0.04), (_D, 0.01))
    ),
    PlaceType.METRO: PlaceSpec(0.035, 0.5, 0.99, ((2, 4, 1.0),), ((_E, 0.75), (_W, 0.03), (_T, 0.22))),
    PlaceType.HOSPITAL: PlaceSpec(
        0.03, 0.9, 0.97, ((5, 25, 1.0),), ((_T, 0.85), (_E, 0.08), (_D, 0.05), (FREIGHT, 0.02))
    ),
    PlaceType.SCHOOL: PlaceSpec(0.03, 0.9, 0.93, ((4, 12, 1.0),), ((_T, 0.95), (_D, 0.05))),
    PlaceType.HOTEL: PlaceSpec(
        0.04, 1.0, 0.95, ((6, 20, 0.6), (21, 45, 0.4)), ((_T, 0.88), (_D, 0.07), (_E, 0.05))
    ),
    PlaceType.PUBLIC_BUILDING: PlaceSpec(
        0.045, 0.85, 0.97, ((2, 15, 1.0),), ((_T, 0.75), (_E, 0.20), (_W, 0.05))
    ),
    PlaceType.OTHER: PlaceSpec(
        0.02, 1.0, 0.85, ((2, 8, 1.0),), ((FREIGHT, 0.60), (_T, 0.30), (_H, 0.05), (_D, 0.05))
    ),
}

#: Equipment category (设备类别代码, 4 digits) by kind; its middle two digits start the registration code.
CATEGORY = {
    _T: "3110",
    FREIGHT: "3120",
    _H: "3210",
    _E: "3310",
    _W: "3320",
    _D: "3430",
}
