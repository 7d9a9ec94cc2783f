"""Surge mode in the rescue service: each plan's dispatch is labelled L1 when the crew is of the incident's
contracted maintenance unit and L2 otherwise, and the contracted unit's crews are preferred (DOMAIN.md §5),
on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.registry import service as registry
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.rescue.models import Crew, Incident, NoticeOutbox
from tests.factories import RESCUE_SITE, km_north, rescue_city, seed

OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
SETTINGS = rescue.RescueSettings(surge_threshold=3)
CODES = ("11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004")  # MU-A, MU-A, MU-B, MU-B


def surge(session: Session, clock: FixedClock, b1_km: float) -> dict[str, Incident]:
    """The four elevators side by side at RESCUE_SITE, all trapped at once; crews: A1 (MU-A, 2 km), A2
    (MU-A, 8 km), RS1 (rescue station, 3 km) and B1 (MU-B, `b1_km`). Returns the incidents by code."""
    seed(session, clock)
    rescue_city(session, clock, CODES[0])
    for k, code in enumerate(CODES[1:], start=1):
        where = ElevatorUpdate(latitude=RESCUE_SITE.lat + 0.0005 * k, longitude=RESCUE_SITE.lon)
        registry.update_elevator(session, SYSTEM_ACTOR, code, where, clock)
    rescue.add_crew(session, SYSTEM_ACTOR, "B1", "MU-B", "申城一组", km_north(b1_km), clock)
    session.commit()
    ids = {
        code: rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, SETTINGS).incident.id
        for code in CODES
    }
    session.commit()
    rescue.replan_surge(session, clock, SETTINGS)
    session.commit()
    out = {code: session.get(Incident, i) for code, i in ids.items()}
    return {code: i for code, i in out.items() if i is not None}


def levels_follow_the_crews_units(session: Session, incidents: dict[str, Incident]) -> None:
    for code, inc in incidents.items():
        crew = session.get(Crew, inc.crew_id)
        assert crew is not None, code
        assert inc.level == ("L1" if crew.unit == inc.maintenance_unit else "L2"), code


def test_each_unit_serves_its_own_first_and_levels_follow_the_crews_units(
    session: Session, clock: FixedClock
) -> None:
    # A1 (MU-A) and B1 (MU-B) both 2 km away (about 6.7 min) take their own unit's first incident; the
    # rescue station (3 km, 10 min) takes one of the other two, and the last is the second job of its own
    # unit's crew (about 11.8 min) rather than of the other unit's (the same time, plus the other-unit cost)
    incidents = surge(session, clock, b1_km=2.0)
    levels_follow_the_crews_units(session, incidents)
    crews = {code: i.crew_id or "" for code, i in incidents.items()}
    assert crews["11SHA000001"] == "A1" and crews["11SHB000003"] == "B1"
    assert sorted(crews.values()) in [["A1", "A1", "B1", "RS1"], ["A1", "B1", "B1", "RS1"]]
    assert sorted(i.level for i in incidents.values()) == ["L1", "L1", "L1", "L2"]


def test_a_contracted_crew_that_cannot_come_in_time_is_passed_over_and_the_others_are_l2(
    session: Session, clock: FixedClock
) -> None:
    # B1 at 40 km would arrive after 2.2 hours (the limit is 30 min): MU-B's incidents get another unit
    incidents = surge(session, clock, b1_km=40.0)
    levels_follow_the_crews_units(session, incidents)
    for code in CODES[2:]:
        assert incidents[code].crew_id in {"A1", "A2", "RS1"}
        assert incidents[code].level == "L2"
    for code in CODES[:2]:
        assert incidents[code].level == ("L1" if incidents[code].crew_id in {"A1", "A2"} else "L2")


def test_a_surge_replan_tells_each_crew_it_takes_off_once(session: Session, clock: FixedClock) -> None:
    """Before the plan each incident was dispatched on its own (11SHA000002 to A2, 8 km); the plan gives
    it a nearer crew, so A2's unanswered dispatch is withdrawn ("replanned") and A2 is told, once: a
    second re-plan that changes nothing says nothing again."""
    incidents = surge(session, clock, b1_km=2.0)
    second = incidents["11SHA000002"]
    assert second.crew_id != "A2"

    def withdrawn() -> list[tuple[str | None, str]]:
        rows = session.scalars(
            select(NoticeOutbox).where(
                NoticeOutbox.incident_id == second.id, NoticeOutbox.kind == "withdrawn"
            )
        )
        return [(n.details["crew"], n.details["reason"]) for n in rows]

    assert withdrawn() == [("A2", "replanned")]
    events = [e for e in rescue_queries.incident_events(session, second) if e.kind == "withdrawn"]
    assert [(e.actor, e.details["crew"]) for e in events] == [("surge", "A2")]
    rescue.replan_surge(session, clock, SETTINGS)
    session.commit()
    assert withdrawn() == [("A2", "replanned")]
