"""The pure part of the city generator: seed in, rows out, no database.

``CityPlan`` first lays out buildings (place type, street, height, age, brand, use and maintenance unit),
then turns them into unit rows and, chunk by chunk, elevator rows and elevator-file events. Everything
is drawn from one ``random.Random(seed)`` in a fixed order, so the same seed, size and date give the
same rows. Rows are plain dicts ready for SQLAlchemy Core bulk inserts, with every NOT NULL column set.
"""

from __future__ import annotations

import random
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any

from liftwatch.registry.domain import ElevatorKind, ElevatorStatus, EventKind, PlaceType, UnitType
from liftwatch.sim import codes
from liftwatch.sim.catalogue import (
    BRANDS,
    CATEGORY,
    ESTATE_SUFFIXES_NEW,
    ESTATE_SUFFIXES_OLD,
    FREIGHT,
    GIVEN,
    HOTEL_SUFFIXES,
    INSPECTION_BODY,
    INSURERS,
    MAINTENANCE_SUFFIXES,
    MALL_SUFFIXES,
    METRO_OPERATORS,
    OFFICE_SUFFIXES,
    OTHER_SUFFIXES,
    OWNER_SUFFIXES,
    PLACES,
    PROPERTY_MANAGERS,
    PUBLIC_NAMES,
    SCHOOL_SUFFIXES,
    SMALL_LIFT_BRANDS,
    SURNAMES,
    Brand,
)
from liftwatch.sim.geography import DISTRICTS, District, NamePool, Street, build_streets, clamp_to_city

#: Shanghai: 304,634 elevators and 315 maintenance units, about one unit per 970 elevators.
ELEVATORS_PER_MAINTENANCE_UNIT = 970
MIN_MAINTENANCE_UNITS = 5
#: Shanghai: 25.8% of elevators over 15 years old.
TARGET_OVER_15 = 0.258
OLD_YEARS = 15
RECORDED_BY = "sim"
#: Shanghai began adding lifts to existing walk-up residential buildings (既有多层住宅加装电梯) in 2011.
RETROFIT_START = date(2011, 6, 1)

_T = ElevatorKind.TRACTION.value
_E = ElevatorKind.ESCALATOR.value
_W = ElevatorKind.MOVING_WALK.value
_H = ElevatorKind.HYDRAULIC.value
_D = ElevatorKind.DUMBWAITER.value
_MOVING = (_E, _W)
_BRAND_BY_KEY = {b.key: b for b in BRANDS}
_YEAR_DAYS = 365.25


def _mobile_signal(registration_code: str) -> bool | None:
    """The in-car mobile signal of a simulated elevator, from its code (no draw from the city's random
    stream, so the rest of the city stays as it was): 90% with signal, 6% without (deep shafts,
    basements), 4% not checked yet (NULL)."""
    bucket = zlib.crc32(registration_code.encode()) % 100
    return True if bucket < 90 else (False if bucket < 96 else None)


@lru_cache(maxsize=1)
def city_streets() -> tuple[Street, ...]:
    return tuple(build_streets())


def short_district(d: District) -> str:
    return d.name.removesuffix("新区").removesuffix("区")


@dataclass(slots=True)
class UnitPlan:
    code: str
    name: str
    unit_type: UnitType
    district: District
    lat: float
    lon: float
    address: str
    licence_no: str = ""
    first_seen: date | None = None


@dataclass(slots=True)
class Building:
    place: PlaceType
    street: Street
    name: str
    address: str
    lat: float
    lon: float
    levels: int  # levels the lifts serve, basements included
    size: int  # lifts in the building
    commissioned: date
    old: bool
    retrofit: bool = False
    use_unit: int | None = None
    maintenance_unit: int | None = None
    lift_brand: Brand = BRANDS[0]
    moving_brand: Brand = BRANDS[0]
    small_brand: Brand = BRANDS[0]
    flags: tuple[bool, bool, bool] = (False, False, False)


@dataclass
class PlanCounts:
    """What the plan produced so far, for ``CityStats``."""

    elevators: int = 0
    events: int = 0
    over_15: int = 0
    three_no: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)


class _Tickets:
    """Preferential attachment (Chinese restaurant process): a new unit with probability ``p_new``,
    otherwise an existing one in proportion to how many it already has. Gives the long-tailed sizes of
    real property-management and owner companies, in O(1) per draw."""

    def __init__(self, rng: random.Random, p_new: float) -> None:
        self.rng = rng
        self.p_new = p_new
        self.tickets: list[int] = []

    def draw(self, make: Callable[[], int]) -> int:
        unit = make() if not self.tickets or self.rng.random() < self.p_new else self.rng.choice(self.tickets)
        self.tickets.append(unit)
        return unit


def _weighted(rng: random.Random, items: list[Any], cum: list[float]) -> Any:
    return items[bisect_right(cum, rng.random() * cum[-1])]


def _at(d: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=UTC)


class CityPlan:
    """Lays out one city. Build it, read ``units``, then iterate ``elevator_chunks``."""

    def __init__(
        self, elevators: int, seed: int, as_of: date, taken_unit_codes: frozenset[str] = frozenset()
    ):
        if elevators < 1:
            raise ValueError(f"elevators must be at least 1, got {elevators}")
        self.n = elevators
        self.seed = seed
        self.as_of = as_of
        self.rng = random.Random(seed)
        self.names = NamePool(self.rng)
        self.streets = city_streets()
        self.units: list[UnitPlan] = []
        self._codes: set[str] = set(taken_unit_codes)
        self.buildings: list[Building] = []
        self.counts = PlanCounts()
        self._street_lists: dict[str, tuple[list[Street], list[float]]] = {}
        for d in DISTRICTS:
            ss = [s for s in self.streets if s.district is d]
            self._street_lists[d.name] = (ss, list(accumulate(s.weight for s in ss)))
        self._districts = list(DISTRICTS)
        self._district_cum = list(accumulate(d.weight for d in DISTRICTS))
        self._district_index = {d.name: i for i, d in enumerate(DISTRICTS)}
        self._setup_fixed_units()
        self._setup_maintenance()
        self._plan_buildings()

    # ------------------------------------------------------------ units

    def _new_unit(
        self,
        name: str,
        unit_type: UnitType,
        district: District,
        *,
        prefix: str = codes.ENTERPRISE,
        street: Street | None = None,
        licence_no: str = "",
    ) -> int:
        rng = self.rng
        code = codes.uscc(rng, district.admin_code, prefix)
        while code in self._codes:
            code = codes.uscc(rng, district.admin_code, prefix)
        self._codes.add(code)
        st = street or self._street(district)
        lat, lon = clamp_to_city(st.lat + rng.gauss(0, st.spread), st.lon + rng.gauss(0, st.spread))
        address = f"{district.name}{rng.choice(st.roads)}{rng.randint(1, 999)}号"
        self.units.append(
            UnitPlan(code, name, unit_type, district, round(lat, 6), round(lon, 6), address, licence_no)
        )
        return len(self.units) - 1

    def _district(self) -> District:
        d: District = _weighted(self.rng, self._districts, self._district_cum)
        return d

    def _street(self, district: District) -> Street:
        ss, cum = self._street_lists[district.name]
        s: Street = _weighted(self.rng, ss, cum)
        return s

    def _setup_fixed_units(self) -> None:
        central = DISTRICTS[0]
        self.inspection_body = self._new_unit(
            INSPECTION_BODY, UnitType.INSPECTION_BODY, DISTRICTS[1], prefix=codes.INSTITUTION
        )
        for name in INSURERS:
            self._new_unit(name, UnitType.INSURER, central)
        self.manufacturer_units = {
            b.key: self._new_unit(b.name, UnitType.MANUFACTURER, central) for b in BRANDS
        }
        for d in DISTRICTS:
            self._new_unit(
                f"{d.name}电梯应急救援公共服务站", UnitType.RESCUE_STATION, d, prefix=codes.INSTITUTION
            )

    def _licence(self) -> str:
        return f"TS3431{self.rng.randrange(10**4):04d}-20{self.rng.randint(24, 28)}"

    def _setup_maintenance(self) -> None:
        """Size the market like Shanghai's, OEM service companies first, then a Zipf-like long tail of
        local firms, each based in a district (weighted by the district's elevators)."""
        rng = self.rng
        count = max(MIN_MAINTENANCE_UNITS, round(self.n / ELEVATORS_PER_MAINTENANCE_UNIT))
        oems = sorted((b for b in BRANDS if b.service), key=lambda b: -b.service_share)[:count]
        ids: list[int] = []
        weights: list[float] = []
        self.oem_service: dict[str, int] = {}
        for b in oems:
            uid = self._new_unit(
                b.service, UnitType.MAINTENANCE, rng.choice(DISTRICTS[:4]), licence_no=self._licence()
            )
            self.oem_service[b.key] = uid
            ids.append(uid)
            weights.append(b.service_share)
        tail = count - len(oems)
        tail_share = 1.0 - sum(weights)
        zipf = [1.0 / (i + 2) ** 0.9 for i in range(tail)]
        total = sum(zipf) or 1.0
        local: dict[str, tuple[list[int], list[float]]] = {d.name: ([], []) for d in DISTRICTS}
        for z in zipf:
            d = self._district()
            name = f"上海{self.names.stem()}{rng.choice(MAINTENANCE_SUFFIXES)}"
            uid = self._new_unit(name, UnitType.MAINTENANCE, d, licence_no=self._licence())
            ids.append(uid)
            weights.append(tail_share * z / total)
            local[d.name][0].append(uid)
            local[d.name][1].append(tail_share * z / total)
        self._mu_ids = ids
        self._mu_cum = list(accumulate(weights))
        self._mu_local = {k: (v[0], list(accumulate(v[1]))) for k, v in local.items() if v[0]}

    def _maintenance_for(self, district: District, brand: Brand) -> int:
        rng = self.rng
        oem = self.oem_service.get(brand.key)
        if oem is not None and rng.random() < 0.45:
            return oem
        local = self._mu_local.get(district.name)
        if local and rng.random() < 0.35:
            uid: int = _weighted(rng, local[0], local[1])
            return uid
        uid = _weighted(rng, self._mu_ids, self._mu_cum)
        return uid

    def _other_maintenance(self, *avoid: int | None) -> int:
        for _ in range(10):
            uid: int = _weighted(self.rng, self._mu_ids, self._mu_cum)
            if uid not in avoid:
                return uid
        return next(u for u in self._mu_ids if u not in avoid)

    # ------------------------------------------------------------ buildings

    def _quotas(self) -> dict[PlaceType, int]:
        """Elevators per place type, by largest remainder so they sum to ``n`` exactly."""
        raw = {p: self.n * spec.share / sum(s.share for s in PLACES.values()) for p, spec in PLACES.items()}
        quotas = {p: int(v) for p, v in raw.items()}
        rest = self.n - sum(quotas.values())
        for p in sorted(raw, key=lambda p: -(raw[p] - quotas[p]))[:rest]:
            quotas[p] += 1
        return quotas

    def _brand(self, old: bool, moving: bool) -> Brand:
        key = (old, moving)
        if key not in self._brand_cum:
            pool = [b for b in BRANDS if (b.escalators if moving else b.lifts)]
            self._brand_cum[key] = (pool, list(accumulate(b.share_old if old else b.share_new for b in pool)))
        pool, cum = self._brand_cum[key]
        b: Brand = _weighted(self.rng, pool, cum)
        return b

    def _plan_buildings(self) -> None:
        self._brand_cum: dict[tuple[bool, bool], tuple[list[Brand], list[float]]] = {}
        quotas = self._quotas()
        norm = sum(PLACES[p].share * PLACES[p].old_factor for p in PLACES) / sum(
            s.share for s in PLACES.values()
        )
        self._tickets: dict[str, _Tickets] = {}
        self._shared_units: dict[str, int] = {}
        for place, quota in quotas.items():
            p_old = min(0.95, TARGET_OVER_15 * PLACES[place].old_factor / norm)
            expected = 0.0
            actual = 0
            left = quota
            while left > 0:
                if place is PlaceType.RESIDENTIAL:
                    made = self._estate(left, p_old, expected, actual)
                else:
                    q = min(1.0, max(0.0, p_old + (expected - actual) / 25))
                    made = [self._building(place, left, self.rng.random() < q)]
                for b in made:
                    left -= b.size
                    expected += b.size * p_old
                    actual += b.size if b.old else 0
                    self.buildings.append(b)
        # Register in time order: older lifts get lower serial numbers and ids, as in a real registry.
        self.buildings.sort(key=lambda b: b.commissioned)
        for b in self.buildings:
            for uid in (b.use_unit, b.maintenance_unit):
                if uid is not None:
                    u = self.units[uid]
                    if u.first_seen is None or b.commissioned < u.first_seen:
                        u.first_seen = b.commissioned

    def _age_days(self, old: bool) -> int:
        rng = self.rng
        if old:
            years = OLD_YEARS + 0.1 + min(23.0, rng.expovariate(1 / 6.0))
        else:
            years = rng.triangular(0.05, OLD_YEARS - 0.15, 9.0)
        return int(years * _YEAR_DAYS)

    def _locate(self, street: Street, spread: float = 1.0) -> tuple[float, float]:
        rng = self.rng
        lat, lon = clamp_to_city(
            street.lat + rng.gauss(0, street.spread * spread),
            street.lon + rng.gauss(0, street.spread * spread),
        )
        return round(lat, 6), round(lon, 6)

    def _pick_street(self) -> Street:
        return self._street(self._district())

    def _estate(self, left: int, p_old: float, expected: float, actual: int) -> list[Building]:
        """A residential estate (小区): several buildings, one address, one property manager."""
        rng = self.rng
        street = self._pick_street()
        d = street.district
        k = min(16, max(1, int(rng.expovariate(1 / 5.0)) + 1))
        lat0, lon0 = self._locate(street)
        road = rng.choice(street.roads)
        lane = rng.randint(1, 1999)
        first_old: bool | None = None
        estate_name = ""
        use_unit: int | None = None
        out: list[Building] = []
        for i in range(k):
            if left <= 0:
                break
            q = min(1.0, max(0.0, p_old + (expected - actual) / 25))
            old = rng.random() < q
            if first_old is None:
                first_old = old
                suffixes = ESTATE_SUFFIXES_OLD if old else ESTATE_SUFFIXES_NEW
                estate_name = self.names.stem() + rng.choice(suffixes)
                use_unit = self._property_manager(d, street)
            retrofit = bool(
                not old
                and first_old
                and self.as_of > RETROFIT_START + timedelta(days=400)
                and rng.random() < 0.35
            )
            if retrofit:
                levels, size = rng.randint(6, 7), 1
            else:
                floors = self._floors(PlaceType.RESIDENTIAL)
                levels = floors + (rng.choice((0, 1, 1, 2)) if floors >= 12 and not old else 0)
                r = rng.random()
                if floors <= 11:
                    size = 1 if r < 0.55 else 2
                elif floors <= 18:
                    size = 2 if r < 0.8 else 3
                else:
                    size = 2 if r < 0.45 else (3 if r < 0.75 else 4)
            size = min(size, left)
            if retrofit:
                span = (self.as_of - RETROFIT_START).days
                age = min(int(rng.triangular(20, span, 20)), int((OLD_YEARS - 0.15) * _YEAR_DAYS))
            else:
                age = self._age_days(old)
            lat = round(lat0 + rng.uniform(-0.0015, 0.0015), 6)
            lon = round(lon0 + rng.uniform(-0.0015, 0.0015), 6)
            b = Building(
                PlaceType.RESIDENTIAL,
                street,
                f"{estate_name}{i + 1}号楼",
                f"{d.name}{road}{lane}弄{i + 1}号",
                *clamp_to_city(lat, lon),
                levels,
                size,
                self.as_of - timedelta(days=age),
                old,
                retrofit,
            )
            self._finish(b, use_unit)
            out.append(b)
            left -= size
            expected += size * p_old
            actual += size if old else 0
        return out

    def _property_manager(self, d: District, street: Street) -> int:
        rng = self.rng
        if rng.random() < 0.12:
            return self._tickets_for("property:city", 0.25).draw(
                lambda: self._famous(rng.choice(PROPERTY_MANAGERS), UnitType.USE_UNIT, DISTRICTS[0])
            )
        return self._tickets_for(f"property:{d.name}", 0.3).draw(
            lambda: self._new_unit(
                f"上海{self.names.stem()}{rng.choice(('物业管理有限公司', '物业服务有限公司'))}",
                UnitType.USE_UNIT,
                d,
                street=street,
            )
        )

    def _famous(self, name: str, unit_type: UnitType, d: District, prefix: str = codes.ENTERPRISE) -> int:
        if name not in self._shared_units:
            self._shared_units[name] = self._new_unit(name, unit_type, d, prefix=prefix)
        return self._shared_units[name]

    def _tickets_for(self, key: str, p_new: float) -> _Tickets:
        if key not in self._tickets:
            self._tickets[key] = _Tickets(self.rng, p_new)
        return self._tickets[key]

    def _floors(self, place: PlaceType) -> int:
        rng = self.rng
        bands = PLACES[place].floors
        r = rng.random() * sum(w for _, _, w in bands)
        for lo, hi, w in bands:
            if r < w:
                return rng.randint(lo, hi)
            r -= w
        return bands[-1][1]

    def _building(self, place: PlaceType, left: int, old: bool) -> Building:
        rng = self.rng
        street = self._pick_street()
        d = street.district
        floors = self._floors(place)
        short = short_district(d)
        road = rng.choice(street.roads)
        number = rng.randint(1, 1999)
        address = f"{d.name}{road}{number}号"
        use_unit: int | None
        stem = self.names.stem()
        if place is PlaceType.OFFICE:
            size = max(2, min(12, round(floors / 5 + rng.gauss(0, 1.2))))
            name = stem + rng.choice(OFFICE_SUFFIXES)
            use_unit = self._tickets_for(f"office:{d.name}", 0.55).draw(
                lambda: self._new_unit(
                    f"上海{self.names.stem()}{rng.choice(OWNER_SUFFIXES)}",
                    UnitType.USE_UNIT,
                    d,
                    street=street,
                )
            )
        elif place is PlaceType.MALL:
            size = rng.randint(6, 12) + floors * rng.randint(1, 4)
            name = stem + rng.choice(MALL_SUFFIXES)
            use_unit = self._tickets_for("mall", 0.6).draw(
                lambda: self._new_unit(
                    f"上海{self.names.stem()}商业管理有限公司", UnitType.USE_UNIT, d, street=street
                )
            )
        elif place is PlaceType.METRO:
            size = rng.randint(6, 20)
            line = rng.randint(1, 18)
            name = f"轨道交通{line}号线{road}站"
            use_unit = self._famous(METRO_OPERATORS[line % 4], UnitType.USE_UNIT, DISTRICTS[0])
        elif place is PlaceType.HOSPITAL:
            size = max(4, min(20, round(floors * 0.6 + rng.gauss(0, 2))))
            r = rng.random()
            name = (
                f"上海市{short}区{rng.choice('一二三四五六七八九十')}人民医院"
                if r < 0.3
                else f"{short}区中心医院"
                if r < 0.4
                else f"{stem}医院"
            )
            use_unit = self._new_unit(name, UnitType.USE_UNIT, d, prefix=codes.INSTITUTION, street=street)
        elif place is PlaceType.SCHOOL:
            size = rng.randint(1, 6)
            name = f"上海市{stem}{rng.choice(SCHOOL_SUFFIXES)}"
            use_unit = self._new_unit(name, UnitType.USE_UNIT, d, prefix=codes.INSTITUTION, street=street)
        elif place is PlaceType.HOTEL:
            size = max(2, min(10, round(floors / 4 + rng.gauss(0, 1))))
            name = stem + rng.choice(HOTEL_SUFFIXES)
            use_unit = self._tickets_for(f"hotel:{d.name}", 0.85).draw(
                lambda: self._new_unit(
                    f"上海{self.names.stem()}酒店管理有限公司", UnitType.USE_UNIT, d, street=street
                )
            )
        elif place is PlaceType.PUBLIC_BUILDING:
            size = rng.randint(1, 10)
            name = (
                f"{short}{rng.choice(PUBLIC_NAMES)}"
                if rng.random() < 0.5
                else f"{stem}{rng.choice(PUBLIC_NAMES)}"
            )
            if rng.random() < 0.5:
                use_unit = self._famous(
                    f"上海市{d.name}机关事务管理局", UnitType.USE_UNIT, d, codes.GOVERNMENT
                )
            else:
                use_unit = self._new_unit(
                    f"上海{stem}公共设施管理有限公司", UnitType.USE_UNIT, d, street=street
                )
        else:
            size = rng.randint(1, 4)
            name = f"{stem}{rng.choice(OTHER_SUFFIXES)}{rng.randint(1, 12)}号楼"
            use_unit = self._new_unit(f"上海{stem}实业有限公司", UnitType.USE_UNIT, d, street=street)
        size = min(size, left)
        lat, lon = self._locate(street)
        b = Building(
            place,
            street,
            name,
            address,
            lat,
            lon,
            floors,
            size,
            self.as_of - timedelta(days=self._age_days(old)),
            old,
        )
        self._finish(b, use_unit)
        return b

    def _finish(self, b: Building, use_unit: int | None) -> None:
        """Brands, the three-no flags (三无: no property management, no maintenance contract, no repair
        fund; mostly old residential buildings) and the units that answer for the building."""
        rng = self.rng
        b.lift_brand = self._brand(b.old, moving=False)
        b.moving_brand = self._brand(b.old, moving=True)
        b.small_brand = _BRAND_BY_KEY[rng.choice(SMALL_LIFT_BRANDS)]
        npm = nmc = nrf = False
        r = rng.random()
        if b.place is PlaceType.RESIDENTIAL and b.old and not b.retrofit:
            if r < 0.045:
                npm = nmc = nrf = True
            elif r < 0.055:
                npm = nrf = True
            elif r < 0.07:
                npm = True
            elif r < 0.074:
                nmc = True
            elif r < 0.15:
                nrf = True
        elif b.place is PlaceType.RESIDENTIAL:
            nrf = r < 0.01
        elif b.place is PlaceType.OTHER and b.old:
            npm = nmc = nrf = r < 0.01
        b.flags = (npm, nmc, nrf)
        b.use_unit = None if npm else use_unit
        main_brand = b.moving_brand if b.place in (PlaceType.MALL, PlaceType.METRO) else b.lift_brand
        b.maintenance_unit = None if nmc else self._maintenance_for(b.street.district, main_brand)

    # ------------------------------------------------------------ rows

    def unit_rows(self, first_id: int) -> list[dict[str, Any]]:
        rng = self.rng
        start = _at(self.as_of)
        rows = []
        for i, u in enumerate(self.units):
            created = _at(u.first_seen) if u.first_seen else start
            rows.append(
                {
                    "id": first_id + i,
                    "code": u.code,
                    "name": u.name,
                    "unit_type": u.unit_type.value,
                    "licence_no": u.licence_no,
                    "contact_name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
                    "contact_phone": f"021-{rng.randint(5000_0000, 6999_9999)}",
                    "address": u.address,
                    "district": u.district.name,
                    "latitude": u.lat,
                    "longitude": u.lon,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return rows

    def elevator_chunks(
        self, first_elevator_id: int, first_unit_id: int, chunk: int = 10_000
    ) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """Yield (elevator rows, event rows) of about ``chunk`` elevators at a time, in registration order."""
        rng = self.rng
        n = self.n
        width = 6 if n <= 900_000 else 8
        rescue = rng.sample(range(10 ** (width - 1), 10**width), n)
        iot_base = rng.randrange(10**10)
        iot_next = 0
        reg_seq: dict[tuple[str, str], int] = {}
        equip_seq: dict[tuple[str, str, int], int] = {}
        serial_seq: dict[str, int] = {}
        unit_codes = [u.code for u in self.units]
        ib_code = unit_codes[self.inspection_body]
        old_cut = self.as_of - timedelta(days=int(OLD_YEARS * _YEAR_DAYS))
        counts = self.counts
        kinds = counts.kinds
        statuses = counts.statuses
        elevators: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        eid = first_elevator_id
        for b in self.buildings:
            spec = PLACES[b.place]
            kind_items = [k for k, _ in spec.kinds]
            kind_cum = list(accumulate(w for _, w in spec.kinds))
            d = b.street.district
            npm, nmc, nrf = b.flags
            three_no = npm and nmc and nrf
            use_id = None if b.use_unit is None else first_unit_id + b.use_unit
            mu_id = None if b.maintenance_unit is None else first_unit_id + b.maintenance_unit
            zoned = b.place is PlaceType.OFFICE and b.levels > 25 and b.size >= 4
            for i in range(b.size):
                kind = _T if b.retrofit else _weighted(rng, kind_items, kind_cum)
                lift = self._lift(b, kind, i, zoned)
                brand = lift.brand
                commissioned = b.commissioned - timedelta(days=rng.randint(0, 10))
                installed = commissioned - timedelta(days=rng.randint(20, 120))
                year = installed.year
                category = CATEGORY[kind]
                db_kind = _T if kind == FREIGHT else kind
                rkey = (category, d.letter)
                reg_seq[rkey] = reg_seq.get(rkey, 0) + 1
                ekey = (category, d.admin_code, year)
                equip_seq[ekey] = equip_seq.get(ekey, 0) + 1
                serial_seq[brand.key] = serial_seq.get(brand.key, 0) + 1
                registration = codes.registration_code(category, d.letter, reg_seq[rkey])
                old = commissioned < old_cut
                status, life = self._life(commissioned, old, three_no, rng)
                if status is ElevatorStatus.SCRAPPED or rng.random() >= self._iot_rate(b, old, three_no):
                    iot = ""
                else:
                    iot = f"8698{iot_base + iot_next:011d}"
                    iot_next += 1
                design_years, design_cycles = self._design_life(b, kind, brand, commissioned, rng)
                reg_at = _at(commissioned)
                file = [
                    (
                        reg_at,
                        EventKind.REGISTRATION,
                        f"registered as {registration}",
                        {"status": ElevatorStatus.IN_USE.value},
                    )
                ]
                if commissioned.year >= 2003 and rng.random() < 0.6:
                    accepted = installed + timedelta(
                        days=rng.randint(1, max(1, (commissioned - installed).days - 1))
                    )
                    file.append(
                        (
                            _at(accepted, rng.randint(1, 9)),
                            EventKind.ACCEPTANCE,
                            "监督检验合格 supervisory inspection passed",
                            {"inspection_body": ib_code, "conclusion": "合格"},
                        )
                    )
                file.extend(self._maintenance_changes(commissioned, life, mu_id, first_unit_id, unit_codes))
                file.extend(self._works(kind, commissioned, life, old))
                file.extend(self._status_events(status, life))
                file.sort(key=lambda e: e[0])
                for at, ek, summary, details in file:
                    events.append(
                        {
                            "elevator_id": eid,
                            "kind": ek.value,
                            "occurred_at": at,
                            "recorded_at": at,
                            "recorded_by": RECORDED_BY,
                            "summary": summary,
                            "details": details,
                        }
                    )
                elevators.append(
                    {
                        "id": eid,
                        "registration_code": registration,
                        "equipment_code": codes.equipment_code(category, d.admin_code, year, equip_seq[ekey]),
                        "rescue_code": f"{rescue[eid - first_elevator_id]:0{width}d}",
                        "kind": db_kind,
                        "manufacturer": brand.name,
                        "model": lift.model,
                        "serial_number": f"{brand.prefix}{year % 100:02d}{serial_seq[brand.key]:06d}",
                        "rated_load_kg": lift.load,
                        "rated_speed_mps": lift.speed,
                        "stops": lift.stops,
                        "floors": lift.floors,
                        "installation_date": installed,
                        "commissioning_date": commissioned,
                        "design_life_years": design_years,
                        "design_life_cycles": design_cycles,
                        "district": d.name,
                        "street": b.street.name,
                        "address": b.address,
                        "building": b.name,
                        "latitude": b.lat,
                        "longitude": b.lon,
                        "place_type": b.place.value,
                        "use_unit_id": use_id,
                        "maintenance_unit_id": mu_id,
                        "status": status.value,
                        "iot_terminal_id": iot,
                        "no_property_management": npm,
                        "no_maintenance_contract": nmc,
                        "no_repair_fund": nrf,
                        "mobile_signal": _mobile_signal(registration),
                        "created_at": reg_at,
                        "updated_at": file[-1][0],
                    }
                )
                counts.elevators += 1
                counts.events += len(file)
                counts.over_15 += old
                counts.three_no += three_no
                kinds[db_kind] = kinds.get(db_kind, 0) + 1
                statuses[status.value] = statuses.get(status.value, 0) + 1
                eid += 1
                if len(elevators) >= chunk:
                    yield elevators, events
                    elevators, events = [], []
        if elevators:
            yield elevators, events

    # ------------------------------------------------------------ one elevator

    def _lift(self, b: Building, kind: str, i: int, zoned: bool) -> _Lift:
        rng = self.rng
        place = b.place
        if kind in _MOVING:
            brand = b.moving_brand
            models = (brand.walks or brand.escalators) if kind == _W else brand.escalators
            speed = 0.65 if place is PlaceType.METRO and kind == _E else 0.5
            return _Lift(brand, rng.choice(models), None, speed, None, None)
        if kind == _D:
            brand = b.small_brand
            floors = max(2, min(b.levels, rng.randint(2, 6)))
            return _Lift(
                brand,
                f"{brand.prefix}-ZW",
                rng.choice((100, 200, 300)),
                rng.choice((0.4, 0.5)),
                floors,
                floors,
            )
        if kind == _H:
            brand = b.small_brand
            floors = max(2, min(b.levels, rng.randint(2, 5)))
            return _Lift(
                brand,
                f"{brand.prefix}-YY",
                rng.choice((630, 1000, 2000)),
                rng.choice((0.3, 0.5, 0.63)),
                floors,
                floors,
            )
        brand = b.lift_brand
        model = rng.choice(brand.lifts)
        if kind == FREIGHT:
            floors = max(2, min(b.levels, 8))
            return _Lift(
                brand, model, rng.choice((2000, 3000, 3000, 5000)), rng.choice((0.5, 1.0)), floors, floors
            )
        floors = b.levels
        stops = floors
        if zoned:  # low zone lifts stop at the lower half, high zone lifts run express above the lobby
            low = floors // 2 + 1
            if i % 2 == 0:
                floors = stops = low
            else:
                stops = floors - low + 2
        if place is PlaceType.METRO:
            floors = stops = max(2, min(floors, 3))
        speed = _speed(floors, b.old, rng)
        if b.retrofit:
            load, speed = rng.choice((630, 800, 800)), 1.0
        elif place is PlaceType.RESIDENTIAL:
            load = rng.choice((630, 800, 1000) if b.old else (800, 1000, 1000, 1050, 1150))
        elif place is PlaceType.HOSPITAL and rng.random() < 0.5:
            load, speed = rng.choice((1600, 2000)), min(speed, 1.75)
        elif place in (PlaceType.OFFICE, PlaceType.MALL, PlaceType.PUBLIC_BUILDING):
            load = rng.choice((1000, 1150, 1350, 1600))
        elif place is PlaceType.HOTEL:
            load = rng.choice((1000, 1350))
        else:
            load = 1000
        return _Lift(brand, model, load, speed, stops, floors)

    def _iot_rate(self, b: Building, old: bool, three_no: bool) -> float:
        """Remote monitoring: nearly all public places; fewer residential lifts, fewest three-no ones."""
        if three_no:
            return 0.35
        if b.place is PlaceType.RESIDENTIAL:
            return 0.82 if old else PLACES[b.place].iot_rate
        return PLACES[b.place].iot_rate

    def _design_life(
        self, b: Building, kind: str, brand: Brand, commissioned: date, rng: random.Random
    ) -> tuple[int | None, int | None]:
        """Design life (设计使用年限) in years, and in start cycles for lifts registered since 2010. Files
        from before 2003 often lack it."""
        if commissioned.year < 2003 and rng.random() < 0.4:
            return None, None
        if kind in _MOVING:
            return 20, None
        if kind == _D:
            years = 15
        else:
            r = rng.random()
            years = 25 if r < 0.2 and brand.service else (15 if r < 0.35 else 20)
        cycles = None
        if commissioned.year >= 2010:
            busy = b.place in (PlaceType.OFFICE, PlaceType.HOSPITAL, PlaceType.METRO, PlaceType.MALL)
            cycles = rng.choice((4, 5, 6, 8) if busy else (2, 3, 3, 4)) * 1_000_000
        return years, cycles

    def _life(
        self, commissioned: date, old: bool, three_no: bool, rng: random.Random
    ) -> tuple[ElevatorStatus, _Life]:
        """Status today and the date it changed: a few lifts suspended (停用), a few old ones scrapped."""
        end = self.as_of - timedelta(days=1)
        age_days = (end - commissioned).days
        r = rng.random()
        if old and age_days > 20 * _YEAR_DAYS and r < (0.10 if three_no else 0.03):
            scrapped = end - timedelta(days=rng.randint(30, 900))
            suspended = scrapped - timedelta(days=rng.randint(30, 400)) if rng.random() < 0.6 else None
            return ElevatorStatus.SCRAPPED, _Life(commissioned, scrapped, suspended, scrapped)
        if r < (0.12 if three_no else 0.02 if old else 0.006) and age_days > 60:
            suspended = end - timedelta(days=rng.randint(10, min(700, age_days - 30)))
            return ElevatorStatus.SUSPENDED, _Life(commissioned, suspended, suspended, None)
        return ElevatorStatus.IN_USE, _Life(commissioned, end, None, None)

    def _maintenance_changes(
        self,
        commissioned: date,
        life: _Life,
        mu_id: int | None,
        first_unit_id: int,
        unit_codes: list[str],
    ) -> list[_Entry]:
        """Earlier maintenance contracts: the last change hands over to today's unit (or ends the contract
        of a lift that has none now)."""
        rng = self.rng
        years = (life.end - commissioned).days / _YEAR_DAYS
        current = None if mu_id is None else mu_id - first_unit_id
        if years < 2 or not (rng.random() < 0.3 or (current is None and years > 3)):
            return []
        changes = 2 if years > 8 and rng.random() < 0.2 else 1
        days = sorted(rng.randint(365, int(years * _YEAR_DAYS) - 30) for _ in range(changes))
        chain: list[int | None] = [self._other_maintenance(current)]
        if changes == 2:
            chain.append(self._other_maintenance(chain[0], current))
        chain.append(current)
        out: list[_Entry] = []
        for k, day in enumerate(days):
            old_u, new_u = chain[k], chain[k + 1]
            summary = (
                "维保单位变更 maintenance unit changed"
                if new_u is not None
                else "维保合同终止 maintenance contract ended"
            )
            out.append(
                (
                    _at(commissioned + timedelta(days=day), rng.randint(1, 9)),
                    EventKind.MAINTENANCE_UNIT_CHANGE,
                    summary,
                    {
                        "from": None if old_u is None else unit_codes[old_u],
                        "to": None if new_u is None else unit_codes[new_u],
                    },
                )
            )
        return out

    def _works(self, kind: str, commissioned: date, life: _Life, old: bool) -> list[_Entry]:
        """更新改造大修: modernisation of some old lifts, major repairs of some middle-aged ones."""
        rng = self.rng
        years = (life.end - commissioned).days / _YEAR_DAYS
        out: list[_Entry] = []
        moving = kind in _MOVING
        if old and rng.random() < 0.18:
            at = commissioned + timedelta(days=int(rng.uniform(12, years - 0.2) * _YEAR_DAYS))
            parts = rng.choice(_MOD_MOVING if moving else _MOD_LIFT)
            out.append(
                (
                    _at(at, rng.randint(1, 9)),
                    EventKind.MODERNISATION,
                    f"更新改造 modernisation: {parts[0]}",
                    {"parts": list(parts[1])},
                )
            )
        if years > 10 and rng.random() < 0.12:
            at = commissioned + timedelta(days=int(rng.uniform(8, years - 0.1) * _YEAR_DAYS))
            parts = rng.choice(_REPAIR_MOVING if moving else _REPAIR_LIFT)
            out.append(
                (
                    _at(at, rng.randint(1, 9)),
                    EventKind.MAJOR_REPAIR,
                    f"大修 major repair: {parts[0]}",
                    {"parts": list(parts[1])},
                )
            )
        return out

    def _status_events(self, status: ElevatorStatus, life: _Life) -> list[_Entry]:
        rng = self.rng
        out: list[_Entry] = []
        if life.suspended is not None:
            out.append(
                (
                    _at(life.suspended, rng.randint(1, 9)),
                    EventKind.SUSPENSION,
                    "停用 taken out of use",
                    {"status": {"from": ElevatorStatus.IN_USE.value, "to": ElevatorStatus.SUSPENDED.value}},
                )
            )
        if life.scrapped is not None:
            before = ElevatorStatus.SUSPENDED if life.suspended is not None else ElevatorStatus.IN_USE
            out.append(
                (
                    _at(life.scrapped, rng.randint(1, 9)),
                    EventKind.SCRAPPING,
                    "报废 scrapped",
                    {"status": {"from": before.value, "to": status.value}},
                )
            )
        return out


_Entry = tuple[datetime, EventKind, str, dict[str, Any]]


@dataclass(slots=True)
class _Lift:
    brand: Brand
    model: str
    load: int | None
    speed: float
    stops: int | None
    floors: int | None


@dataclass(slots=True)
class _Life:
    start: date
    end: date  # the last day it could have events: yesterday, or the day it was suspended or scrapped
    suspended: date | None
    scrapped: date | None


def _speed(levels: int, old: bool, rng: random.Random) -> float:
    """Rated speed grows with the height served (GB/T 7025 sizes)."""
    if levels <= 7:
        return 1.0
    if levels <= 12:
        return rng.choice((1.0, 1.5) if old else (1.5, 1.6))
    if levels <= 20:
        return rng.choice((1.5, 1.75) if old else (1.75, 2.0))
    if levels <= 30:
        return rng.choice((1.75, 2.5))
    if levels <= 45:
        return rng.choice((2.5, 3.0, 4.0))
    if levels <= 60:
        return rng.choice((4.0, 5.0))
    return rng.choice((5.0, 6.0))


_MOD_LIFT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("更换控制系统 control system replaced", ("controller",)),
    ("更换曳引机和控制系统 machine and controller replaced", ("machine", "controller")),
    ("更换门系统 door system replaced", ("doors", "door_operator")),
    ("整梯更新 complete replacement", ("machine", "controller", "doors", "car")),
)
_MOD_MOVING: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("更换驱动主机和控制柜 drive and controller replaced", ("drive", "controller")),
    ("更换梯级和梯级链 steps and step chain replaced", ("steps", "step_chain")),
)
_REPAIR_LIFT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("更换钢丝绳 ropes replaced", ("ropes",)),
    ("更换曳引轮 traction sheave replaced", ("sheave",)),
    ("更换制动器 brake replaced", ("brake",)),
    ("更换门机 door operator replaced", ("door_operator",)),
)
_REPAIR_MOVING: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("更换扶手带 handrails replaced", ("handrails",)),
    ("更换主驱动链 main drive chain replaced", ("drive_chain",)),
)
