"""The simulated city's map: Shanghai's 16 districts and generated streets (街道 / 镇).

District centres, administrative codes and elevator weights follow Shanghai (304,634 elevators in 2022,
about a quarter of them in Pudong); the street names are generated, not real ones. The map is built from a
fixed seed, so every city seed shares one map and only the buildings on it change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Shanghai's extent (south, west, north, east) in degrees; every generated point lies inside it.
BBOX = (30.67, 120.86, 31.87, 122.0)

#: The map does not depend on the city seed.
GEOGRAPHY_SEED = 96333


@dataclass(frozen=True)
class District:
    """A district (区): centre, spread of its built-up area and share of the city's elevators."""

    name: str
    name_en: str
    letter: str  # one letter in registration codes, e.g. 11SHA000001
    admin_code: str  # GB/T 2260 code, also the area part of equipment codes
    lat: float
    lon: float
    spread: float  # standard deviation of the built-up area around the centre, degrees
    weight: float  # thousands of elevators (2022 order of magnitude)
    subdistricts: int  # 街道 count
    towns: int  # 镇 count

    @property
    def central(self) -> bool:
        """Districts inside the Outer Ring are dense and have only street offices, no towns."""
        return self.towns <= 2


DISTRICTS: tuple[District, ...] = (
    District("黄浦区", "Huangpu", "A", "310101", 31.2317, 121.4846, 0.012, 15.0, 10, 0),
    District("徐汇区", "Xuhui", "B", "310104", 31.1885, 121.4365, 0.022, 20.0, 12, 1),
    District("长宁区", "Changning", "C", "310105", 31.2204, 121.4244, 0.018, 14.0, 9, 1),
    District("静安区", "Jing'an", "D", "310106", 31.2490, 121.4560, 0.020, 22.0, 13, 1),
    District("普陀区", "Putuo", "E", "310107", 31.2495, 121.3972, 0.020, 17.0, 8, 2),
    District("虹口区", "Hongkou", "F", "310109", 31.2646, 121.5050, 0.015, 12.0, 8, 0),
    District("杨浦区", "Yangpu", "G", "310110", 31.2596, 121.5260, 0.020, 17.0, 12, 0),
    District("闵行区", "Minhang", "H", "310112", 31.1128, 121.3816, 0.050, 31.0, 4, 9),
    District("宝山区", "Baoshan", "J", "310113", 31.3600, 121.4500, 0.050, 22.0, 3, 9),
    District("嘉定区", "Jiading", "K", "310114", 31.3747, 121.2655, 0.050, 17.0, 3, 7),
    District("浦东新区", "Pudong", "L", "310115", 31.2215, 121.5440, 0.070, 70.0, 12, 24),
    District("金山区", "Jinshan", "M", "310116", 30.7800, 121.3417, 0.045, 4.5, 1, 9),
    District("松江区", "Songjiang", "N", "310117", 31.0322, 121.2277, 0.050, 20.0, 6, 11),
    District("青浦区", "Qingpu", "P", "310118", 31.1510, 121.1241, 0.050, 10.0, 3, 8),
    District("奉贤区", "Fengxian", "Q", "310120", 30.9179, 121.4741, 0.050, 9.0, 3, 8),
    District("崇明区", "Chongming", "R", "310151", 31.6234, 121.3974, 0.060, 2.5, 0, 16),
)

# Characters that make plausible two-character place names (华泾, 龙华, 江湾, 金桥 ...).
_FIRST = (
    "金华江龙长安宝泗朱徐高枫张周唐曹北南东西虹凌洋新淞罗顾杨月大马庄惠书航川"
    "祝康三梅吴莘七九漕田彭真桃石泰青白练赵亭吕海万宣泥老蔡黄仙天中永广平和兴"
)
_SECOND = "泾桥浦港庙行塘湾园林山泽华阳兴安宁汇宅浜渡家川沙埭墩江溪岗里坊城村镇门口场营店楼堰泉亭滨苑州庄"
_ROAD_SUFFIX = ("路", "路", "路", "路", "街", "大道")
_DIRECTIONS = ("东", "西", "南", "北", "中")


class NamePool:
    """Draws two-character stems without repeats inside one pool, falling back to three characters."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def stem(self) -> str:
        rng = self._rng
        s = ""
        for attempt in range(40):
            head = rng.choice(_FIRST) if attempt < 8 else rng.choice(_FIRST) + rng.choice(_FIRST)
            s = head + rng.choice(_SECOND)
            if s not in self._used and s[-2] != s[-1]:
                break
        self._used.add(s)
        return s

    def road(self) -> str:
        stem = self.stem()
        direction = self._rng.choice(_DIRECTIONS) if self._rng.random() < 0.2 else ""
        return stem + direction + self._rng.choice(_ROAD_SUFFIX)


@dataclass(frozen=True)
class Street:
    """A street (街道, sub-district) or town (镇): a centre, a density weight and its roads."""

    name: str
    district: District
    lat: float
    lon: float
    spread: float
    weight: float
    roads: tuple[str, ...]


def clamp_to_city(lat: float, lon: float) -> tuple[float, float]:
    south, west, north, east = BBOX
    return min(max(lat, south + 0.005), north - 0.005), min(max(lon, west + 0.005), east - 0.005)


def build_streets() -> list[Street]:
    """Every district's streets and towns. Street offices sit near the centre and weigh more; towns are
    spread wider and lighter, as in Shanghai's suburbs."""
    rng = random.Random(GEOGRAPHY_SEED)
    names = NamePool(rng)
    roads = NamePool(rng)
    streets: list[Street] = []
    for d in DISTRICTS:
        for i in range(d.subdistricts + d.towns):
            is_town = i >= d.subdistricts
            reach = 1.3 if is_town else (0.9 if d.central else 0.45)
            lat, lon = clamp_to_city(
                d.lat + max(-2.0, min(2.0, rng.gauss(0, 1))) * d.spread * reach,
                d.lon + max(-2.0, min(2.0, rng.gauss(0, 1))) * d.spread * reach,
            )
            stem = names.stem()
            if is_town:
                name = stem + "镇"
            elif rng.random() < 0.5:
                name = stem + "路街道"
            else:
                name = stem + "街道"
            base = 0.35 if is_town and not d.central else 1.0
            weight = base * rng.lognormvariate(0, 0.4)
            spread = d.spread * (0.35 if is_town else 0.3)
            street_roads = tuple(roads.road() for _ in range(rng.randint(4, 9)))
            streets.append(Street(name, d, round(lat, 5), round(lon, 5), spread, weight, street_roads))
    return streets
