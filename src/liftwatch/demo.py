"""The demo: an embedded SQLite city with one login per role."""

from __future__ import annotations

import random
import time

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import account_of, create_user, user_count
from liftwatch.core.clock import SystemClock
from liftwatch.core.config import get_settings, zone
from liftwatch.core.db import make_engine, make_session_factory, session_scope
from liftwatch.core.migrate import upgrade
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import UnitType

DEMO_PASSWORD = "liftwatch-demo"
console = Console(stderr=True)


def demo_users(
    maintenance_code: str | None,
    use_unit_code: str | None,
    inspection_body: str | None = None,
    insurer_code: str | None = None,
) -> list[tuple[str, Role, str | None]]:
    """The demo's logins (username, role, unit code); the inspector belongs to the city's inspection body,
    so it sees that body's inspections."""
    users: list[tuple[str, Role, str | None]] = [
        ("admin", Role.ADMIN, None),
        ("regulator", Role.REGULATOR, None),
        ("operator", Role.RESCUE_OPERATOR, None),
        ("inspector", Role.INSPECTOR, inspection_body),
    ]
    if maintenance_code:
        users.append(("maint", Role.MAINTENANCE, maintenance_code))
    if use_unit_code:
        users.append(("owner", Role.USE_UNIT, use_unit_code))
    if insurer_code:
        users.append(("insurer", Role.INSURER, insurer_code))
    return users


def prepare(elevators: int = 2000, seed: int = 1) -> None:
    """Create the schema, generate the city, the demo users, rescue crews, maintenance contracts (with
    their workers), the cost ledgers, the inspection history, liability policies and complaints, once;
    later runs reuse them and add nothing."""
    from liftwatch.sim.city import generate_city
    from liftwatch.sim.inspections import inspection_body
    from liftwatch.sim.insurance import demo_insurer
    from liftwatch.sim.people import certify

    url = get_settings().resolved_database_url
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    today = SystemClock().now().astimezone(zone(get_settings().timezone)).date()
    with session_scope(factory) as session:
        have = registry.count_elevators(session)
    if have == 0:
        stats = generate_city(engine, elevators=elevators, seed=seed)
        console.print(stats.summary())
    with session_scope(factory) as session:
        if not user_count(session):
            maint = registry.busiest_unit(session, UnitType.MAINTENANCE)
            owner = registry.busiest_unit(session, UnitType.USE_UNIT)
            insurer = demo_insurer(session)
            for username, role, unit in demo_users(maint, owner, inspection_body(session), insurer):
                data = UserCreate(username=username, password=DEMO_PASSWORD, role=role, unit=unit)
                create_user(session, SYSTEM_ACTOR, data, SystemClock())
    with session_scope(factory) as session:
        # the maintenance login is a certified worker and a crew (an older demo's gets its certificate now)
        login = account_of(session, "maint")
        if login is not None and login.unit:
            certify(session, "maint", login.unit, "演示维保工", SystemClock(), today, random.Random(seed))
    _crews(factory)
    _contracts(factory, seed)
    _costs(factory, seed)
    _parts(factory, seed)
    _drills(factory, seed)
    _applications(factory)
    _inspections(factory, seed)
    _insurance(factory, seed)
    _complaints(factory, seed)


def _complaints(factory: sessionmaker[Session], seed: int) -> None:
    """Three dozen complaints at every stage (sim/complaints.py), once."""
    from liftwatch.sim.complaints import seed_complaints

    with session_scope(factory) as session:
        done = seed_complaints(session, SystemClock(), get_settings(), seed=seed)
    if done.complaints:
        console.print(done.summary())


def _costs(factory: sessionmaker[Session], seed: int) -> None:
    """The use units' cost ledgers from the contracts, a few repairs and advertising income, the ended
    half-year published by most (sim/costs.py), once: a second run books nothing (idempotent sources)."""
    from liftwatch.sim.costs import seed_cost_ledgers

    with session_scope(factory) as session:
        done = seed_cost_ledgers(session, SystemClock(), get_settings(), seed=seed)
    if done.entries:
        console.print(done.summary())


def _parts(factory: sessionmaker[Session], seed: int) -> None:
    """Main parts of the maintenance login's elevators and a sample of others, and one recall reaching a
    few of them (sim/parts.py), once."""
    from liftwatch.sim.parts import seed_parts

    began = time.monotonic()
    with session_scope(factory) as session:
        done = seed_parts(session, SystemClock(), get_settings(), seed=seed)
    if done.parts:
        console.print(f"{done.summary()} in {time.monotonic() - began:.1f} s")


def _drills(factory: sessionmaker[Session], seed: int) -> None:
    """This year's emergency drills of most use units (sim/people.py), once."""
    from liftwatch.sim.people import seed_drills

    today = SystemClock().now().astimezone(zone(get_settings().timezone)).date()
    with session_scope(factory) as session:
        done = seed_drills(session, SystemClock(), today, seed=seed)
    if done.drills:
        console.print(done.summary())


def _applications(factory: sessionmaker[Session]) -> None:
    """Additions at every stage and a few online services (sim/applications.py), once."""
    from liftwatch.applications.settings import application_settings_from_env
    from liftwatch.sim.applications import seed_applications

    with session_scope(factory) as session:
        done = seed_applications(session, SystemClock().now(), application_settings_from_env())
    if done.applications:
        console.print(done.summary())


def _insurance(factory: sessionmaker[Session], seed: int) -> None:
    """The demo's liability policies and the current quarter's premium factors (sim/insurance.py), once."""
    from liftwatch.sim.insurance import seed_policies

    began = time.monotonic()
    with session_scope(factory) as session:
        done = seed_policies(session, SystemClock(), get_settings(), seed=seed)
    if done.policies:
        console.print(f"{done.summary()} in {time.monotonic() - began:.1f} s")


def _inspections(factory: sessionmaker[Session], seed: int) -> None:
    """The last periodic inspection of every elevator in use and the schedule of the coming month
    (sim/inspections.py), once; after the contracts, so the scheduled ones name the contracted unit."""
    from liftwatch.sim.inspections import seed_inspections

    began = time.monotonic()
    with session_scope(factory) as session:
        done = seed_inspections(session, SystemClock(), get_settings(), inspector="inspector", seed=seed)
    if done.history or done.scheduled:
        console.print(f"{done.summary()} in {time.monotonic() - began:.1f} s")


def _contracts(factory: sessionmaker[Session], seed: int) -> None:
    """Maintenance contracts and workers for every elevator in use (sim/contracts.py), once."""
    from liftwatch.sim.contracts import seed_contracts

    settings = get_settings()
    clock = SystemClock()
    began = time.monotonic()
    with session_scope(factory) as session:
        done = seed_contracts(
            session,
            clock,
            clock.now().astimezone(zone(settings.timezone)).date(),
            on_demand_share=settings.simulate_on_demand_share,
            seed=seed,
        )
    if done.contracts or done.workers or done.expired:
        console.print(f"{done.summary()} in {time.monotonic() - began:.1f} s")


def _crews(factory: sessionmaker[Session]) -> None:
    """Rescue crews for every maintenance unit and rescue station, once; the 'maint' login is a crew."""
    from liftwatch.rescue.service import crew_count
    from liftwatch.sim.crews import seed_demo_crews

    with session_scope(factory) as session:
        if crew_count(session):
            return
        n = seed_demo_crews(session, SystemClock(), crew_username="maint")
    console.print(f"{n} rescue crews on duty")


def print_logins(host: str, port: int) -> None:
    table = Table(title=f"liftwatch demo: http://{host}:{port}")
    table.add_column("username")
    table.add_column("role")
    table.add_column("password")
    for username, role, _ in demo_users("x", "x", insurer_code="x"):
        table.add_row(username, role.value, DEMO_PASSWORD)
    Console().print(table)
