"""The simulated city: reproducible by seed, calibrated to Shanghai (DOMAIN.md §7), valid under the registry
schemas, stored on SQLite and PostgreSQL, and reachable from the CLI."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.cli import app
from liftwatch.core.clock import FixedClock
from liftwatch.core.db import make_engine
from liftwatch.registry import service
from liftwatch.registry.domain import UnitType
from liftwatch.registry.models import Elevator, ElevatorEvent, Unit
from liftwatch.registry.schemas import UNIT_RECORD_FIELDS, ElevatorCreate, UnitCreate
from liftwatch.sim.city import CityStats, generate_city
from liftwatch.sim.codes import is_uscc
from liftwatch.sim.geography import BBOX, DISTRICTS
from liftwatch.sim.plan import CityPlan

AS_OF = date(2026, 11, 23)
CALIBRATION_SIZE = 5000
ELEVATOR_FIELDS = [c.name for c in Elevator.__table__.columns]


def _fresh(template: Path, folder: Path, name: str) -> Engine:
    path = folder / name
    shutil.copy(template, path)
    return make_engine(f"sqlite:///{path}")


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with engine.connect() as conn:
        for model in (Unit, Elevator, ElevatorEvent):
            table = cast(Table, model.__table__)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]
    return out


def _age_years(commissioned: date) -> float:
    return (AS_OF - commissioned).days / 365.25


@dataclass
class City:
    stats: CityStats
    elevators: list[Elevator]
    units: dict[int, Unit]
    events: dict[int, list[ElevatorEvent]]


@pytest.fixture(scope="module")
def city(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """One calibration city of 5,000 elevators, generated once for the module."""
    engine = _fresh(sqlite_template, tmp_path_factory.mktemp("city"), "city.db")
    stats = generate_city(engine, CALIBRATION_SIZE, seed=11, as_of=AS_OF, progress=False)
    with Session(engine) as session:
        elevators = list(session.scalars(select(Elevator).order_by(Elevator.id)))
        units = {u.id: u for u in session.scalars(select(Unit))}
        events: dict[int, list[ElevatorEvent]] = defaultdict(list)
        for ev in session.scalars(select(ElevatorEvent).order_by(ElevatorEvent.id)):
            events[ev.elevator_id].append(ev)
        session.expunge_all()
    engine.dispose()
    yield City(stats, elevators, units, dict(events))


# ---------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_rows_and_another_seed_differs(
    sqlite_template: Path, tmp_path: Path
) -> None:
    first, second, other = (_fresh(sqlite_template, tmp_path, f"{n}.db") for n in ("a", "b", "c"))
    generate_city(first, 1200, seed=5, as_of=AS_OF, progress=False)
    generate_city(second, 1200, seed=5, as_of=AS_OF, progress=False)
    generate_city(other, 1200, seed=6, as_of=AS_OF, progress=False)
    a, b, c = _dump(first), _dump(second), _dump(other)
    assert len(a["elevators"]) == 1200
    assert a == b
    assert a["elevators"] != c["elevators"]
    assert a["units"] != c["units"]


def test_as_of_moves_the_city_in_time(sqlite_template: Path, tmp_path: Path) -> None:
    now, later = _fresh(sqlite_template, tmp_path, "now.db"), _fresh(sqlite_template, tmp_path, "later.db")
    generate_city(now, 300, seed=5, as_of=AS_OF, progress=False)
    generate_city(later, 300, seed=5, as_of=AS_OF + timedelta(days=365), progress=False)
    with now.connect() as c1, later.connect() as c2:
        d1 = c1.scalar(select(func.max(Elevator.commissioning_date)))
        d2 = c2.scalar(select(func.max(Elevator.commissioning_date)))
    assert d1 is not None and d2 is not None
    assert d1 < AS_OF < d2 < AS_OF + timedelta(days=365)


# ---------------------------------------------------------------- calibration (DOMAIN.md §7)


def test_stats_match_the_database(city: City) -> None:
    s = city.stats
    assert s.elevators == len(city.elevators) == CALIBRATION_SIZE
    assert s.events == sum(len(v) for v in city.events.values())
    assert sum(s.units.values()) == len(city.units)
    assert s.three_no == sum(1 for e in city.elevators if e.three_no)
    over = sum(1 for e in city.elevators if e.commissioning_date and _age_years(e.commissioning_date) > 15)
    assert s.over_15_share == pytest.approx(over / CALIBRATION_SIZE)
    text = s.summary()
    assert str(CALIBRATION_SIZE) in text and "three-no" in text and len(text.splitlines()) <= 2


def test_quarter_of_the_elevators_are_over_15_years_old(city: City) -> None:
    ages = [_age_years(e.commissioning_date) for e in city.elevators if e.commissioning_date]
    assert len(ages) == CALIBRATION_SIZE
    share = sum(a > 15 for a in ages) / len(ages)
    assert share == pytest.approx(0.258, abs=0.03)
    assert max(ages) < 45 and min(ages) >= 0


def test_maintenance_market_is_sized_and_skewed_like_shanghai(city: City) -> None:
    per_unit = Counter(e.maintenance_unit_id for e in city.elevators if e.maintenance_unit_id is not None)
    maintenance = [u for u in city.units.values() if u.unit_type == UnitType.MAINTENANCE.value]
    assert 5 <= len(maintenance) <= 12  # about one per 970 elevators, at least 5
    assert set(per_unit) <= {u.id for u in maintenance}
    sizes = sorted(per_unit.values(), reverse=True)
    assert sizes[0] > 2 * sizes[-1]


def test_large_city_has_one_maintenance_unit_per_970_elevators() -> None:
    plan = CityPlan(304_634, seed=1, as_of=AS_OF)
    maintenance = [u for u in plan.units if u.unit_type is UnitType.MAINTENANCE]
    assert len(maintenance) == 314
    # a few large OEM service companies hold a big share, a long tail the rest
    assert maintenance[0].name.startswith("上海三菱")
    assert len({u.district.name for u in maintenance}) >= 12


def test_traction_lifts_are_the_large_majority_and_escalators_sit_in_malls_and_metro(city: City) -> None:
    kinds = Counter(e.kind for e in city.elevators)
    assert kinds["traction"] / CALIBRATION_SIZE > 0.8
    moving = [e for e in city.elevators if e.kind in ("escalator", "moving_walk")]
    assert 0.04 < len(moving) / CALIBRATION_SIZE < 0.15
    in_malls_and_metro = sum(e.place_type in ("mall", "metro") for e in moving)
    assert in_malls_and_metro / len(moving) > 0.7
    assert not any(e.place_type == "residential" for e in moving)
    for e in moving:
        assert e.rated_load_kg is None and e.stops is None and 0.4 <= (e.rated_speed_mps or 0) <= 0.75


def test_lifts_have_plausible_load_speed_and_stops(city: City) -> None:
    for e in city.elevators:
        if e.kind == "escalator" or e.kind == "moving_walk":
            continue
        assert e.rated_load_kg and e.rated_speed_mps and e.stops and e.floors
        assert 2 <= e.stops <= e.floors <= 80
        if e.kind == "dumbwaiter":
            assert e.rated_load_kg <= 300
        if e.kind == "traction" and e.floors > 30:
            assert e.rated_speed_mps >= 1.75  # tall buildings get fast lifts
        if e.kind == "traction" and e.floors <= 7:
            assert e.rated_speed_mps <= 1.0


def test_buildings_hold_the_lifts_their_type_allows(city: City) -> None:
    per_building: Counter[tuple[str, str, str]] = Counter(
        (e.place_type, e.address, e.building) for e in city.elevators
    )
    residential = [n for (place, _, _), n in per_building.items() if place == "residential"]
    offices = [n for (place, _, _), n in per_building.items() if place == "office"]
    assert max(residential) <= 4 and Counter(residential)[2] > Counter(residential)[4]
    assert max(offices) <= 12
    assert sum(offices) / len(offices) > 3


def test_three_no_elevators_are_few_and_mostly_old_residential(city: City) -> None:
    three_no = [e for e in city.elevators if e.three_no]
    assert 0.002 <= len(three_no) / CALIBRATION_SIZE <= 0.02
    residential = [e for e in three_no if e.place_type == "residential"]
    assert len(residential) / len(three_no) >= 0.8
    assert all(e.commissioning_date and _age_years(e.commissioning_date) > 15 for e in residential)
    # a three-no lift has neither a property manager nor a maintenance contract on file
    assert all(e.use_unit_id is None and e.maintenance_unit_id is None for e in three_no)
    partial = [
        e
        for e in city.elevators
        if not e.three_no and (e.no_property_management or e.no_maintenance_contract or e.no_repair_fund)
    ]
    assert len(partial) > len(three_no)


def test_use_units_manage_several_buildings(city: City) -> None:
    buildings: defaultdict[int, set[str]] = defaultdict(set)
    for e in city.elevators:
        if e.use_unit_id is not None:
            buildings[e.use_unit_id].add(e.address)
    assert max(len(b) for b in buildings.values()) >= 10
    assert all(city.units[u].unit_type == "use_unit" for u in buildings)


def test_coordinates_lie_in_the_city_and_districts_follow_shanghai(city: City) -> None:
    south, west, north, east = BBOX
    for e in city.elevators:
        assert e.latitude is not None and e.longitude is not None
        assert south <= e.latitude <= north and west <= e.longitude <= east
    by_district = Counter(e.district for e in city.elevators)
    assert set(by_district) <= {d.name for d in DISTRICTS}
    assert by_district.most_common(1)[0][0] == "浦东新区"
    assert by_district["崇明区"] < by_district["黄浦区"]
    assert all(e.street.endswith(("街道", "镇")) for e in city.elevators)


def test_remote_monitoring_covers_public_places_more_than_residential(city: City) -> None:
    def coverage(rows: list[Elevator]) -> float:
        return sum(bool(e.iot_terminal_id) for e in rows) / len(rows)

    public = [e for e in city.elevators if e.place_type != "residential"]
    residential = [e for e in city.elevators if e.place_type == "residential"]
    assert coverage(public) > 0.9
    assert 0.5 < coverage(residential) < coverage(public)
    ids = [e.iot_terminal_id for e in city.elevators if e.iot_terminal_id]
    assert len(ids) == len(set(ids))
    assert not any(e.iot_terminal_id for e in city.elevators if e.status == "scrapped")


def test_codes_are_well_formed_unique_and_rescue_codes_shuffled(city: City) -> None:
    letters = {d.name: d.letter for d in DISTRICTS}
    areas = {d.name: d.admin_code for d in DISTRICTS}
    equipment = [e.equipment_code for e in city.elevators]
    assert len(set(equipment)) == len(equipment)
    for e in city.elevators:
        assert e.registration_code[2:5] == f"SH{letters[e.district]}"
        assert e.registration_code[:2] == e.equipment_code[1:3]
        assert len(e.equipment_code) == 20 and e.equipment_code.isdigit()
        assert e.equipment_code[4:10] == areas[e.district]
        assert e.installation_date and int(e.equipment_code[10:14]) == e.installation_date.year
        assert len(e.rescue_code) == 6 and e.rescue_code.isdigit()
    rescue = [int(e.rescue_code) for e in city.elevators]
    rising = sum(b > a for a, b in pairwise(rescue)) / (len(rescue) - 1)
    assert 0.4 < rising < 0.6  # shuffled, not handed out in sequence
    assert all(is_uscc(u.code) for u in city.units.values())


def test_every_row_is_valid_under_the_registry_schemas(city: City) -> None:
    codes = {u.id: u.code for u in city.units.values()}
    for u in city.units.values():
        UnitCreate.model_validate({f: getattr(u, f) for f in UNIT_RECORD_FIELDS})
    for e in city.elevators:
        data = {
            f: getattr(e, f)
            for f in ELEVATOR_FIELDS
            if f not in ("id", "use_unit_id", "maintenance_unit_id", "created_at", "updated_at")
        }
        data["use_unit"] = codes.get(e.use_unit_id) if e.use_unit_id else None
        data["maintenance_unit"] = codes.get(e.maintenance_unit_id) if e.maintenance_unit_id else None
        ElevatorCreate.model_validate(data)


# ---------------------------------------------------------------- the elevator file


def test_every_elevator_has_a_file_that_starts_with_its_registration(city: City) -> None:
    last = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)
    for e in city.elevators:
        file = city.events[e.id]
        registrations = [ev for ev in file if ev.kind == "registration"]
        assert len(registrations) == 1
        (reg,) = registrations
        assert reg.occurred_at.date() == e.commissioning_date and reg.recorded_by == "sim"
        assert all(ev.occurred_at < last and ev.recorded_by == "sim" for ev in file)
        assert [ev.occurred_at for ev in file] == sorted(ev.occurred_at for ev in file)
        assert e.created_at == reg.occurred_at and e.updated_at == file[-1].occurred_at
        kinds = [ev.kind for ev in file]
        if e.status == "scrapped":
            assert kinds[-1] == "scrapping"
        elif e.status == "suspended":
            assert kinds[-1] == "suspension"
        else:
            assert "scrapping" not in kinds and "suspension" not in kinds
        changes = [ev for ev in file if ev.kind == "maintenance_unit_change"]
        if changes:
            current = city.units[e.maintenance_unit_id].code if e.maintenance_unit_id else None
            assert changes[-1].details["to"] == current
            assert all(c.details["from"] != c.details["to"] for c in changes)
        for ev in file:
            if ev.kind in ("modernisation", "major_repair"):
                assert e.commissioning_date and (ev.occurred_at.date() - e.commissioning_date).days > 7 * 365


def test_life_events_mix(city: City) -> None:
    kinds = Counter(ev.kind for file in city.events.values() for ev in file)
    assert kinds["registration"] == CALIBRATION_SIZE
    for kind in (
        "acceptance",
        "maintenance_unit_change",
        "modernisation",
        "major_repair",
        "suspension",
        "scrapping",
    ):
        assert kinds[kind] > 0, kind
    statuses = Counter(e.status for e in city.elevators)
    assert 0 < statuses["suspended"] < 0.03 * CALIBRATION_SIZE
    assert 0 < statuses["scrapped"] < 0.02 * CALIBRATION_SIZE
    modernised = {ev.elevator_id for f in city.events.values() for ev in f if ev.kind == "modernisation"}
    old = {e.id for e in city.elevators if e.commissioning_date and _age_years(e.commissioning_date) > 15}
    assert modernised <= old


# ---------------------------------------------------------------- storage


def test_generates_on_sqlite_and_postgresql(engine: Engine, clock: FixedClock) -> None:
    stats = generate_city(engine, 250, seed=3, as_of=AS_OF, progress=False)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Elevator)) == 250 == stats.elevators
        assert session.scalar(select(func.count()).select_from(ElevatorEvent)) == stats.events
        first = session.scalars(select(Elevator).order_by(Elevator.id)).first()
        assert first is not None and first.created_at.tzinfo is not None
        # timestamps are stored as the ORM stores them: SQL comparisons agree with Python
        cut = datetime(2015, 1, 1, tzinfo=UTC)
        in_sql = session.scalar(select(func.count()).where(ElevatorEvent.occurred_at >= cut))
        in_python = sum(ev.occurred_at >= cut for ev in session.scalars(select(ElevatorEvent)))
        assert in_sql == in_python > 0
        # ids were given explicitly; the services can still add rows afterwards
        unit = service.create_unit(
            session,
            SYSTEM_ACTOR,
            UnitCreate(code="MU-NEW", name="新维保", unit_type=UnitType.MAINTENANCE),
            clock,
        )
        assert unit.id > max(u.id for u in session.scalars(select(Unit).where(Unit.code != "MU-NEW")))
        session.commit()


def test_refuses_a_database_that_already_holds_elevators(sqlite_engine: Engine) -> None:
    generate_city(sqlite_engine, 50, seed=1, as_of=AS_OF, progress=False)
    with pytest.raises(ValueError, match="already holds 50 elevators"):
        generate_city(sqlite_engine, 50, seed=2, as_of=AS_OF, progress=False)
    with sqlite_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Elevator)) == 50


def test_refuses_an_empty_city(sqlite_engine: Engine) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_city(sqlite_engine, 0, progress=False)


def test_cli_generates_the_city(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    result = CliRunner().invoke(
        app,
        [
            "city",
            "generate",
            "--elevators",
            "120",
            "--seed",
            "4",
            "--as-of",
            "2026-11-23",
            "--database-url",
            f"sqlite:///{path}",
        ],
    )
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Elevator)) == 120
    engine.dispose()
    assert "generated 120 elevators" in result.output
