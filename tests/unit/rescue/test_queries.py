"""The incident search, the operator's queues and who reads which incidents (rescue.queries, issue 11
items 5 and 6), through the service and through GET /api/v1/rescue/incidents and the queue routes: every
filter, pages without a row limit (> 500 incidents), 422s naming the field, and scope (a use unit reads
the incidents on its elevators and acts on none; another unit's incident is 404)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.rescue import queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import IncidentStatus, Level
from liftwatch.rescue.models import Incident
from tests.factories import PASSWORD, auth
from tests.unit.rescue.test_exports import OPERATOR, Ledger, build_ledger

LIST = "/api/v1/rescue/incidents"


@pytest.fixture
def ledger(session: Session, clock: FixedClock) -> Ledger:
    return build_ledger(session, clock)


def ids(page: queries.IncidentPage) -> list[int]:
    return [i.id for i in page.items]


def numbers(ledger: Ledger, got: list[int]) -> list[int]:
    """The ledger's numbers (1-6, test_exports' table) of incident ids."""
    by_id = {v: k for k, v in ledger.ids.items()}
    return [by_id[i] for i in got]


def search(session: Session, ledger: Ledger, actor: Actor = OPERATOR, **flt: object) -> list[int]:
    page = queries.search(session, actor, queries.IncidentFilter(**flt), 1, 100)  # type: ignore[arg-type]
    assert page.total == len(page.items)
    return numbers(ledger, ids(page))


def test_each_filter(session: Session, ledger: Ledger) -> None:
    assert search(session, ledger) == [6, 5, 4, 3, 2, 1]  # newest alarm first
    # December in Beijing starts at 16:00 UTC on 30 November: #2 (16:30 UTC) is in it
    dec = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert search(session, ledger, start=dec) == [6, 5, 4, 3, 2]
    assert search(session, ledger, end=dec) == [1]
    assert search(session, ledger, district="徐汇区") == [6, 4, 2]
    assert search(session, ledger, district="无此区") == []
    # a unit: contracted (MU-A: #1 #3 #5) or sent (A1 went to MU-B's #2 at L2); the station: #3
    assert search(session, ledger, unit="MU-A") == [5, 3, 2, 1]
    assert search(session, ledger, unit="RS-1") == [3]
    assert search(session, ledger, level=Level.L2) == [3, 2]
    assert search(session, ledger, statuses=(IncidentStatus.COMPLETED, IncidentStatus.FALSE_ALARM)) == [
        4,
        2,
        1,
    ]
    assert search(session, ledger, open_only=True) == [6]
    assert search(session, ledger, code="11SHA000001") == [5, 1]
    assert search(session, ledger, district="静安区", level=Level.L1, start=dec) == [5]


def test_the_list_route_filters_by_beijing_days_and_names_bad_fields(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    op = auth(client, Role.RESCUE_OPERATOR)

    def listed(query: str) -> list[int]:
        r = client.get(f"{LIST}?{query}", headers=op)
        assert r.status_code == 200, r.text
        return numbers(ledger, [i["id"] for i in r.json()])

    assert listed("from=2026-12-01&to=2026-12-01") == [2]  # 1 December in Beijing
    assert listed("from=2026-11-30&to=2026-11-30") == []
    assert listed("from=2026-12-01T00:00&to=2026-12-01T00:31") == [2]  # city time, 'to' exclusive
    assert listed("from=2026-11-30T16:31Z") == [6, 5, 4, 3]
    assert listed("district=徐汇区&status=completed&status=dispatched") == [6, 2]
    assert listed("unit=MU-B&level=L1") == [6, 4]
    assert listed("open=true") == [6]
    for query, field in (
        ("from=2026-13-01", "from"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("level=L9", "level"),
        ("status=lost", "status.0"),
        ("page=0", "page"),
        ("size=0", "size"),
        ("district=x%00", "district"),
    ):
        r = client.get(f"{LIST}?{query}", headers=op)
        assert r.status_code == 422, (query, r.text)
        assert r.json()["errors"][0]["field"] == field, (query, r.json())


def _bulk(session: Session, n: int) -> list[int]:
    """``n`` closed incidents on one elevator, one a minute in November (rows as the service stores them;
    the service would take minutes to make 520 of them)."""
    start = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    rows = [
        Incident(
            registration_code="11SHB000004",
            source="phone",
            status=IncidentStatus.FALSE_ALARM.value,
            level="L1",
            maintenance_unit="MU-B",
            responder_unit="",
            arrival_limit_min=30,
            alarm_at=start + timedelta(minutes=k),
            closed_false_at=start + timedelta(minutes=k, seconds=30),
            all_released=False,
            close_reason="测试",
            created_at=start,
            updated_at=start,
        )
        for k in range(n)
    ]
    session.add_all(rows)
    session.commit()
    return [r.id for r in rows]


def test_pages_through_more_than_500_without_a_limit(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    made = _bulk(session, 520)
    total = queries.search(session, OPERATOR, queries.IncidentFilter(), 1, 7).total
    assert total == 526
    assert len(rescue.visible_incidents(session, OPERATOR, open_only=False, limit=1000)) == 526

    op = auth(client, Role.RESCUE_OPERATOR)
    seen: list[int] = []
    url: str | None = f"{LIST}?district=徐汇区&size=200"
    pages = 0
    while url:
        r = client.get(url, headers=op)
        assert r.status_code == 200, r.text
        assert r.headers["X-Total-Count"] == "523"  # 520 + #2 #4 #6
        seen += [i["id"] for i in r.json()]
        pages += 1
        links = dict(
            (rel, target) for target, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', r.headers["Link"])
        )
        assert links["first"].endswith("page=1&size=200") or "page=1" in links["first"]
        url = links.get("next")
    assert pages == 3 and len(seen) == len(set(seen)) == 523
    assert set(made) <= set(seen)
    # a page past the end is empty, not an error
    r = client.get(f"{LIST}?size=200&page=9", headers=op)
    assert r.status_code == 200 and r.json() == [] and r.headers["X-Total-Count"] == "526"


def test_queues(client: TestClient, session: Session, ledger: Ledger, clock: FixedClock) -> None:
    """Call-backs due: #2 (completed) and #3 (released), not #1 and #5 (called back); causes missing: #3
    (released) and #5 (got out, no cause); stale as of 12-05: #3 (not closed past 24 h) and #6 (open past
    its deadline)."""
    assert numbers(ledger, ids(queries.callbacks_due(session, OPERATOR))) == [2, 3]
    assert numbers(ledger, ids(queries.causes_missing(session, OPERATOR))) == [3, 5]
    op, reg = auth(client, Role.RESCUE_OPERATOR), auth(client, Role.REGULATOR)
    r = client.get("/api/v1/rescue/queues/call-backs", headers=reg)
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "2"
    assert numbers(ledger, [i["id"] for i in r.json()]) == [2, 3]
    r = client.get("/api/v1/rescue/queues/causes-missing?size=1", headers=op)
    assert numbers(ledger, [i["id"] for i in r.json()]) == [3] and r.headers["X-Total-Count"] == "2"
    assert 'rel="next"' in r.headers["Link"]
    stale = client.get("/api/v1/rescue/queues/stale", headers=op).json()
    assert [(s["id"], s["overdue"], s["unsettled"]) for s in stale] == [
        (ledger.ids[3], False, True),
        (ledger.ids[6], True, True),
    ]
    # working through them: the call-back and the cause leave their queues
    rescue.call_back(session, OPERATOR, ledger.ids[2], clock, "已回访")
    rescue.complete(
        session,
        OPERATOR,
        ledger.ids[3],
        clock,
        rescue.RescueSettings(),
        rescue.Cause.POWER_CUT,
        "由维保单位电话告知",
    )
    session.commit()
    assert numbers(ledger, ids(queries.callbacks_due(session, OPERATOR))) == [3]
    assert numbers(ledger, ids(queries.causes_missing(session, OPERATOR))) == [5]
    for role in (Role.USE_UNIT, Role.INSPECTOR):
        with pytest.raises(Forbidden):
            queries.callbacks_due(session, Actor("x", role, 1))
    crew = {"Authorization": f"Bearer {_crew_token(client, 'crew_a1')}"}
    assert client.get("/api/v1/rescue/queues/stale", headers=crew).status_code == 403


def test_scope_a_use_unit_reads_its_elevators_incidents_and_acts_on_none(
    client: TestClient, session: Session, ledger: Ledger
) -> None:
    owner = auth(client, Role.USE_UNIT)  # owner_b of UU-B: 11SHB000003/4 (#2 #4 #6)
    r = client.get(LIST, headers=owner)
    assert r.status_code == 200 and numbers(ledger, [i["id"] for i in r.json()]) == [6, 4, 2]
    mine, other = ledger.ids[6], ledger.ids[5]
    detail = client.get(f"{LIST}/{mine}", headers=owner)
    assert detail.status_code == 200 and [d["unit"] for d in detail.json()["dispatches"]] == ["MU-B"]
    assert client.get(f"{LIST}/{other}", headers=owner).status_code == 404  # UU-A's elevator
    # it acts on nothing: the crew steps find no dispatch of its own (404), the operators' steps are 403
    for step, body in (("acknowledge", None), ("arrive", None), ("release", {})):
        assert client.post(f"{LIST}/{mine}/{step}", headers=owner, json=body).status_code == 404, step
    for step, body in (
        ("false-alarm", {"note": "x"}),
        ("cancel", {"reason": "x"}),
        ("self-released", {"note": "x"}),
        ("fire-call", {"reference": "x"}),
    ):
        assert client.post(f"{LIST}/{mine}/{step}", headers=owner, json=body).status_code == 403, step
    row = detail.json()["dispatches"][0]["id"]
    withdraw = client.post(f"{LIST}/{mine}/dispatches/{row}/withdraw", headers=owner, json={"reason": "x"})
    assert withdraw.status_code == 404
    assert client.get(f"{LIST}/{mine}", headers=owner).json()["status"] == "dispatched"  # unchanged
    assert client.post(f"{LIST}/{ledger.ids[2]}/call-back", headers=owner, json={}).status_code == 403


def test_scope_of_crews_and_unit_staff(session: Session, ledger: Ledger, clock: FixedClock) -> None:
    maint_a = Actor("maint_a", Role.MAINTENANCE, _unit_id(session, "MU-A"))  # MU-A staff, not a crew
    assert search(session, ledger, maint_a) == [5, 3, 2, 1]  # contracted, or sent (#2 at L2)
    owner_b = Actor("owner_b", Role.USE_UNIT, _unit_id(session, "UU-B"))
    assert search(session, ledger, owner_b) == [6, 4, 2]
    assert search(session, ledger, owner_b, district="静安区") == []
    crew_rs = Actor("crew_rs", Role.MAINTENANCE, _unit_id(session, "RS-1"))  # a crew: its own dispatches
    assert search(session, ledger, crew_rs) == [3]
    assert search(session, ledger, Actor("crew_a1", Role.MAINTENANCE, _unit_id(session, "MU-A"))) == [3, 2, 1]
    with pytest.raises(NotFound):
        rescue.get_incident(session, crew_rs, ledger.ids[1])
    assert rescue.get_incident(session, owner_b, ledger.ids[4]).id == ledger.ids[4]
    with pytest.raises(NotFound):
        rescue.get_incident(session, owner_b, ledger.ids[1])
    for role in (Role.INSPECTOR, Role.GATEWAY):
        with pytest.raises(Forbidden):
            rescue.visible_incidents(session, Actor("x", role), open_only=False)
        with pytest.raises(NotFound):
            rescue.get_incident(session, Actor("x", role), ledger.ids[1])
    # a use unit's user without a unit sees nothing at all (refused)
    with pytest.raises(Forbidden):
        queries.search(session, Actor("nobody", Role.USE_UNIT), queries.IncidentFilter())
    # a second use unit's staff: UU-A uses 11SHA000001/2
    user = UserCreate(username="owner_a", password=PASSWORD, role=Role.USE_UNIT, unit="UU-A")
    create_user(session, SYSTEM_ACTOR, user, clock)
    owner_a = Actor("owner_a", Role.USE_UNIT, _unit_id(session, "UU-A"))
    assert search(session, ledger, owner_a) == [5, 3, 1]


def _crew_token(client: TestClient, username: str) -> str:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": "long-password"})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _unit_id(session: Session, code: str) -> int:
    from liftwatch.registry import queries as registry_queries

    unit = registry_queries.unit_by_code(session, code)
    assert unit is not None
    return unit.id
