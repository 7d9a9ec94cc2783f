"""The demo's main parts (主要部件) and one recall (召回), recorded through the parts service as the
maintenance units would, once (a second run adds nothing).

Every elevator in use of the demo's ``maint`` unit (the busiest maintenance unit) and a sample of the
others, up to ``limit``, gets the parts of its kind: made by the maker of its traction machine (one of
the brands that build most of China's elevators), installed with the elevator, design life in years
(machines, controllers, brakes, safety gear: 20-25) or in cycles (ropes, door systems, step chains: from
the terminal's counters). About one in twelve had its machine replaced since. Then a regulator issues one
recall of the commonest machine model of the ``maint`` unit, its first serials, due in 30 days: a handful
of rectification work orders for the demo's maintenance worker.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.parts import service
from liftwatch.parts.domain import PartKind, kinds_for
from liftwatch.parts.settings import part_settings_from_env
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import ElevatorStatus, UnitType

__all__ = ["PartSeed", "seed_parts"]

#: maker, its machine models, serial prefix
_MAKERS = [
    ("通力电梯有限公司", ("MX-10", "MX-18"), "KM"),
    ("日立电梯（中国）有限公司", ("YJ-200", "YJ-245"), "HT"),
    ("上海三菱电梯有限公司", ("PMS420", "ZP-1000"), "SM"),
    ("奥的斯电梯（中国）有限公司", ("Gen2-MRL", "GEN2-C"), "OT"),
    ("迅达（中国）电梯有限公司", ("FMR-140", "PMS-250"), "SC"),
    ("康力电梯股份有限公司", ("KLK2", "KLA-160"), "KL"),
]
#: kind -> (model suffix, life in years, life in cycles)
_LIFE: dict[PartKind, tuple[str, int | None, int | None]] = {
    PartKind.TRACTION_MACHINE: ("", 25, None),
    PartKind.CONTROLLER: ("-C", 20, None),
    PartKind.SAFETY_GEAR: ("-SG", 25, None),
    PartKind.OVERSPEED_GOVERNOR: ("-OG", 20, None),
    PartKind.DOOR_SYSTEM: ("-D", None, 2_000_000),
    PartKind.ROPES: ("8x19S+FC", None, 3_000_000),
    PartKind.BRAKE: ("-B", 20, None),
    PartKind.STEPS: ("-ST", 20, None),
    PartKind.STEP_CHAIN: ("-CH", None, 5_000_000),
}


@dataclass
class PartSeed:
    parts: int = 0
    replaced: int = 0
    recalled: int = 0

    def summary(self) -> str:
        return (
            f"main parts: {self.parts} recorded, {self.replaced} replaced, {self.recalled} elevators recalled"
        )


def _elevators(
    session: Session, clock: Clock, unit: str | None, limit: int, rng: random.Random
) -> list[registry.StoredElevator]:
    mine: list[registry.StoredElevator] = []
    if unit:
        flt = registry.ElevatorFilter(unit=unit, status=ElevatorStatus.IN_USE.value)
        mine, _ = registry.list_elevators(session, SYSTEM_ACTOR, flt, clock, page=1, size=limit)
    flt = registry.ElevatorFilter(status=ElevatorStatus.IN_USE.value)
    others, _ = registry.list_elevators(session, SYSTEM_ACTOR, flt, clock, page=1, size=5000)
    codes = {e.registration_code for e in mine}
    rest = [e for e in others if e.registration_code not in codes]
    rng.shuffle(rest)
    return (list(mine) + rest)[:limit]


def seed_parts(
    session: Session, clock: Clock, settings: Settings, seed: int = 11, limit: int = 600
) -> PartSeed:
    """Record the demo's parts and issue its recall (see the module's docstring); nothing when parts exist."""
    out = PartSeed()
    if service.part_count(session):
        return out
    rng = random.Random(seed)
    ps = part_settings_from_env()  # read once: every part is judged as recorded
    today = clock.now().astimezone(zone(settings.timezone)).date()
    unit = registry.busiest_unit(session, UnitType.MAINTENANCE)
    serials: Counter[str] = Counter()
    machines: Counter[tuple[str, str]] = Counter()  # the maint unit's machines by maker and model
    in_use: dict[tuple[str, str], list[str]] = {}  # the serials of the machines in the elevators
    for e in _elevators(session, clock, unit, limit, rng):
        code = e.registration_code
        since = e.commissioning_date or e.installation_date or date(2010, 1, 1)
        maker, models, prefix = rng.choice(_MAKERS)
        model = rng.choice(models)
        for kind in kinds_for(e.kind):
            suffix, years, cycles = _LIFE[kind]
            name = suffix if kind is PartKind.ROPES else f"{model}{suffix}"
            key = f"{prefix}{since.year}"
            serials[key] += 1
            new = service.NewPart(kind, maker, name, f"{key}-{serials[key]:05d}", since, years, cycles)
            part = service.record_part(session, SYSTEM_ACTOR, code, new, clock, settings, ps).part
            out.parts += 1
            if kind is PartKind.TRACTION_MACHINE:
                if rng.random() < 1 / 12 and (today - since).days > 400:
                    on = since + timedelta(days=rng.randrange(365, (today - since).days))
                    serials[f"{prefix}{on.year}"] += 1
                    fresh = service.NewPart(
                        kind,
                        maker,
                        model,
                        f"{prefix}{on.year}-{serials[f'{prefix}{on.year}']:05d}",
                        on,
                        years,
                    )
                    service.replace_part(
                        session, SYSTEM_ACTOR, part.id, fresh, "主机磨损更换", clock, settings, ps
                    )
                    out.replaced += 1
                    in_use.setdefault((maker, model), []).append(fresh.serial)
                    continue
                in_use.setdefault((maker, model), []).append(new.serial)
                if unit and e.maintenance_unit is not None and e.maintenance_unit.code == unit:
                    machines[(maker, model)] += 1
    if machines:
        (maker, model), _n = machines.most_common(1)[0]
        current = sorted(in_use[(maker, model)])
        first, last = current[0], current[min(len(current), 6) - 1]
        recall = service.NewRecall(
            reference=f"召回-{today.year}-{seed:03d}",
            kind=PartKind.TRACTION_MACHINE,
            manufacturer=maker,
            model=model,
            serial_first=first,
            serial_last=last,
            reason="制动器电磁线圈绝缘老化，可能导致制动力不足",
            remedy="更换制动器电磁线圈并做制动试验",
            due_on=today + timedelta(days=30),
        )
        issued = service.issue_recall(
            session, Actor(username="regulator", role=Role.REGULATOR), recall, clock, settings
        )
        out.recalled = len(issued.affected)
    return out
