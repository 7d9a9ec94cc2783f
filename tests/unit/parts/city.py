"""A fixture city for parts and recalls: the seeded registry (tests.factories.seed) and eight more traction
elevators in 长宁区, 11SHC000001..8, maintained by MU-A (1-4), MU-B (5-7) and by nobody (8), each with a
traction machine recorded on 2020-05-01 by the admin. Their makers, models and serials (the recall
``RECALL`` names 通力 MX-10, serials KM2020-0099 to KM2020-0150):

| elevator | maker | model | serial | reached by RECALL |
|---|---|---|---|---|
| C1 | 通力 | MX-10 | KM2020-0098 | no: just below the range |
| C2 | 通力 | MX-10 | KM2020-0099 | yes: the first serial |
| C3 | 通力 | ＭＸ-10 | km2020-0120 | yes: full-width model, lower case serial |
| C4 | 通力 | MX-10 | KM2020-150 | yes: the last serial, unpadded |
| C5 | 通力 | MX-10 | KM2020-0151 | no: just above |
| C6 | 通力 | MX-20 | KM2020-0120 | no: another model |
| C7 | 日立 | MX-10 | KM2020-0120 | no: another maker |
| C8 | 通力 | MX-10 | KM2020-0130 | yes, but no maintenance unit: listed, no work order |

C1's first machine (KM2020-0100, in range) was replaced on 2024-01-10: no longer in the elevator, not
reached."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.parts import service
from liftwatch.parts.domain import PartKind
from liftwatch.registry import service as registry
from liftwatch.registry.domain import ElevatorKind, PlaceType
from liftwatch.registry.schemas import ElevatorCreate
from tests.factories import seed

SETTINGS = Settings(timezone="Asia/Shanghai")
C = [f"11SHC00000{i}" for i in range(1, 9)]
MACHINES = [
    ("通力", "MX-10", "KM2020-0098"),
    ("通力", "MX-10", "KM2020-0099"),
    ("通力", "ＭＸ-10", "km2020-0120"),
    ("通力", "MX-10", "KM2020-150"),
    ("通力", "MX-10", "KM2020-0151"),
    ("通力", "MX-20", "KM2020-0120"),
    ("日立", "MX-10", "KM2020-0120"),
    ("通力", "MX-10", "KM2020-0130"),
]
REACHED = [C[1], C[2], C[3], C[7]]
RECALL = service.NewRecall(
    reference="SAMR-ZH-2026-017",
    kind=PartKind.TRACTION_MACHINE,
    manufacturer="通力",
    model="mx-10",
    serial_first="KM2020-0099",
    serial_last="KM2020-0150",
    reason="制动器线圈绝缘老化，可能导致制动力不足",
    remedy="更换制动器线圈",
    due_on=date(2026, 12, 31),
)


def machine(maker: str, model: str, serial: str, on: date = date(2020, 5, 1)) -> service.NewPart:
    return service.NewPart(
        kind=PartKind.TRACTION_MACHINE,
        manufacturer=maker,
        model=model,
        serial=serial,
        installed_on=on,
        design_life_years=20,
    )


def parts_city(session: Session, clock: FixedClock) -> None:
    """Seed the registry, add C1..C8 with their machines, replace C1's first one (see the module's table)."""
    seed(session, clock)
    for i, code in enumerate(C):
        registry.create_elevator(
            session,
            SYSTEM_ACTOR,
            ElevatorCreate(
                registration_code=code,
                rescue_code=f"2000{i + 1:02d}",
                district="长宁区",
                street="新华路街道",
                address=f"长宁区某路{i + 1}号",
                place_type=PlaceType.RESIDENTIAL,
                kind=ElevatorKind.TRACTION,
                maintenance_unit="MU-A" if i < 4 else "MU-B" if i < 7 else None,
                use_unit="UU-A",
                installation_date=date(2020, 5, 1),
                commissioning_date=date(2020, 5, 1),
            ),
            clock,
        )
    first = service.record_part(
        session, SYSTEM_ACTOR, C[0], machine("通力", "MX-10", "KM2020-0100"), clock, SETTINGS
    )
    replacement = machine(*MACHINES[0], on=date(2024, 1, 10))
    service.replace_part(session, SYSTEM_ACTOR, first.part.id, replacement, "主机异响", clock, SETTINGS)
    for code, (maker, model, serial) in zip(C[1:], MACHINES[1:], strict=True):
        service.record_part(session, SYSTEM_ACTOR, code, machine(maker, model, serial), clock, SETTINGS)
    session.commit()
