"""A small, hand-made registry every test can reason about: two maintenance units, two use units, four
elevators and one user per role. Built through the services, as a user would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import Clock
from liftwatch.people import service as people
from liftwatch.people.domain import Category
from liftwatch.registry import service
from liftwatch.registry.domain import ElevatorKind, PlaceType, UnitType
from liftwatch.registry.schemas import ElevatorCreate, ElevatorUpdate, UnitCreate
from liftwatch.rescue import service as rescue_service
from liftwatch.rescue.domain import GeoPoint

PASSWORD = "correct-horse-battery"

UNITS = [
    ("MU-A", "浦江电梯维保有限公司", UnitType.MAINTENANCE),
    ("MU-B", "申城电梯工程有限公司", UnitType.MAINTENANCE),
    ("UU-A", "静安物业管理有限公司", UnitType.USE_UNIT),
    ("UU-B", "徐汇置业物业服务公司", UnitType.USE_UNIT),
    ("IB-1", "上海市特种设备监督检验技术研究院", UnitType.INSPECTION_BODY),
    ("IN-A", "申江财产保险上海分公司", UnitType.INSURER),
]

# registration code, rescue code, district, place type, kind, maintenance unit, use unit, commissioned
ELEVATORS = [
    (
        "11SHA000001",
        "100001",
        "静安区",
        PlaceType.RESIDENTIAL,
        ElevatorKind.TRACTION,
        "MU-A",
        "UU-A",
        date(2005, 3, 1),
    ),
    (
        "11SHA000002",
        "100002",
        "静安区",
        PlaceType.OFFICE,
        ElevatorKind.TRACTION,
        "MU-A",
        "UU-A",
        date(2019, 6, 1),
    ),
    (
        "11SHB000003",
        "100003",
        "徐汇区",
        PlaceType.MALL,
        ElevatorKind.ESCALATOR,
        "MU-B",
        "UU-B",
        date(2012, 1, 15),
    ),
    (
        "11SHB000004",
        "100004",
        "徐汇区",
        PlaceType.RESIDENTIAL,
        ElevatorKind.TRACTION,
        "MU-B",
        "UU-B",
        date(1998, 9, 9),
    ),
]

USERS = {
    Role.ADMIN: ("admin", None),
    Role.REGULATOR: ("regulator", None),
    Role.RESCUE_OPERATOR: ("operator", None),
    Role.INSPECTOR: ("inspector", None),
    Role.MAINTENANCE: ("maint_a", "MU-A"),
    Role.USE_UNIT: ("owner_b", "UU-B"),
    Role.GATEWAY: ("gateway", None),
    Role.INSURER: ("insurer_a", "IN-A"),
}


@dataclass(frozen=True)
class Seeded:
    elevators: list[str]
    units: list[str]


def seed(session: Session, clock: Clock) -> Seeded:
    for code, name, unit_type in UNITS:
        service.create_unit(
            session,
            SYSTEM_ACTOR,
            UnitCreate(code=code, name=name, unit_type=unit_type, contact_phone="021-5555" + code[-1]),
            clock,
        )
    for reg, rescue, district, place, kind, mu, uu, commissioned in ELEVATORS:
        service.create_elevator(
            session,
            SYSTEM_ACTOR,
            ElevatorCreate(
                registration_code=reg,
                rescue_code=rescue,
                district=district,
                street="南京西路街道" if district == "静安区" else "天平路街道",
                address=f"{district}某路{reg[-2:]}号",
                place_type=place,
                kind=kind,
                maintenance_unit=mu,
                use_unit=uu,
                installation_date=commissioned,
                commissioning_date=commissioned,
                rated_load_kg=1000,
                rated_speed_mps=1.75,
                stops=18,
                floors=18,
            ),
            clock,
        )
    for role, (username, unit) in USERS.items():
        create_user(
            session,
            SYSTEM_ACTOR,
            UserCreate(username=username, password=PASSWORD, role=role, unit=unit),
            clock,
        )
        if role is Role.MAINTENANCE and unit:
            certify(session, username, unit, clock)
    session.commit()
    return Seeded(elevators=[e[0] for e in ELEVATORS], units=[u[0] for u in UNITS])


def certify(session: Session, username: str, unit: str, clock: Clock, number: str = "") -> None:
    """An elevator repair certificate (T) for a maintenance worker, valid 2024-01-01 to 2028-12-31 (every
    test clock lies inside): assigning, signing and crew logins need one."""
    new = people.NewCertificate(
        number or f"TS-{username}",
        Category.ELEVATOR_REPAIR,
        username,
        unit,
        date(2024, 1, 1),
        date(2028, 12, 31),
        username,
        "上海市市场监督管理局",
    )
    people.record_certificate(session, SYSTEM_ACTOR, new, clock)


def token(client: TestClient, username: str) -> str:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def auth(client: TestClient, role: Role) -> dict[str, str]:
    """Headers for a request as the seeded user of ``role``; public gets none."""
    if role is Role.PUBLIC:
        return {}
    return {"Authorization": f"Bearer {token(client, USERS[role][0])}"}


RESCUE_SITE = GeoPoint(31.2300, 121.4700)  # where rescue_city puts its elevator


def km_north(km: float) -> GeoPoint:
    return GeoPoint(RESCUE_SITE.lat + km / 111.0, RESCUE_SITE.lon)


def rescue_city(session: Session, clock: Clock, code: str = "11SHA000001") -> None:
    """The seeded registry (seed() first) with elevator `code` at RESCUE_SITE, a rescue station RS-1 and
    crews with their users: two of MU-A (2 km and 8 km north), one of RS-1 (3 km north)."""
    service.update_elevator(
        session,
        SYSTEM_ACTOR,
        code,
        ElevatorUpdate(latitude=RESCUE_SITE.lat, longitude=RESCUE_SITE.lon),
        clock,
    )
    service.create_unit(
        session,
        SYSTEM_ACTOR,
        UnitCreate(code="RS-1", name="黄浦救援站", unit_type=UnitType.RESCUE_STATION),
        clock,
    )
    for username in ("crew_a1", "crew_a2", "crew_rs"):
        # a crew's login is a user of the crew's own unit (the rescue station's for crew_rs)
        unit = "MU-A" if username.startswith("crew_a") else "RS-1"
        create_user(
            session,
            SYSTEM_ACTOR,
            UserCreate(username=username, password="long-password", role=Role.MAINTENANCE, unit=unit),
            clock,
        )
        if unit == "MU-A":  # a maintenance unit's crew is its certified workers
            certify(session, username, unit, clock)
    for cid, unit, name, km, user in (
        ("A1", "MU-A", "一组", 2, "crew_a1"),
        ("A2", "MU-A", "二组", 8, "crew_a2"),
        ("RS1", "RS-1", "救援站", 3, "crew_rs"),
    ):
        rescue_service.add_crew(session, SYSTEM_ACTOR, cid, unit, name, km_north(km), clock, username=user)
