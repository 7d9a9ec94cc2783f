"""The city's public page (/public/city): no sign-in, no person's data, the figures worked out by hand on a
small city, Chinese first and English on request.

The data set is the ratings' hand-made quarter (tests.unit.ratings.test_queries: the seeded registry, four
elevators in service, 2026-Q3 rated) with, on the clock's 23 November 2026 (Shanghai):

- October 2026 (last month, Shanghai calendar): A1 arrived after 50 min (the quarter's; late), B4 after 20;
  a false alarm on B3 (left out). Entrapments 2; on time 1 of 2 = 50.0 % (target >= 98 %: missed);
  average arrival (50 + 20) / 2 = 35.0 min (target <= 30: missed).
- November 2026 (this month): A1 at 01:00 on 1 November in Shanghai (31 October 17:00 UTC: November on the
  city's calendar) arrived after 26 min, A2 after 12, B3 after 20. Entrapments 3; on time 3 of 3 = 100.0 %
  (met); average (26 + 12 + 20) / 3 = 19.3 min (met).
- Inspection: B4's periodic inspection was due on 1 November and is not signed: 3 of 4 elevators in service
  valid = 75.0 %.
- Supervised rectification: two open (one past its deadline), one verified (not listed).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards.models import Hazard
from liftwatch.inspection.models import Inspection
from liftwatch.insurance.models import InsurancePolicy
from liftwatch.ratings import service as ratings
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue.models import Dispatch, Incident
from tests.conftest import NOW
from tests.unit.ratings.test_queries import A1, A2, B3, B4, hand_made_quarter, incident
from tests.unit.ratings.test_service import SMALL
from tests.unit.web.test_maintenance_pages import assert_no_raw_keys, visible

pytestmark = pytest.mark.sqlite_only  # pages: the services behind them are tested on both backends

#: what no public page may show: the seeded users' names and the units' contact phones' pattern
PERSONAL = ("maint_a", "regulator", "owner_b", "operator", "admin", "inspector", "insurer_a", "gateway")
PHONE = re.compile(r"\b(?:1[3-9]\d{9}|0\d{2,3}-\d{4,8}[0-9A-Z]?)\b")


def hazard(session: Session, code: str, state: str, deadline: datetime) -> None:
    session.add(
        Hazard(
            registration_code=code,
            source="inspection",
            source_ref=f"DJ-{code}-{state}",
            level="major",
            description="层门门锁啮合深度不足",
            responsible_unit="UU-A",
            deadline=deadline,
            state=state,
            supervised=True,
            supervised_at=deadline,
            reported_by="inspector",
            reported_at=deadline - timedelta(days=15),
            updated_at=deadline,
        )
    )


def disclosed_city(session: Session, clock: FixedClock) -> None:
    """The module docstring's city."""
    hand_made_quarter(session, clock)
    oct20 = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    incident(session, B4, "MU-A", oct20, ("MU-A", 2, 20))
    incident(session, B3, "MU-B", oct20 + timedelta(days=1), ("MU-B", 1, 5), status="false_alarm")
    incident(session, A1, "MU-A", datetime(2026, 10, 31, 17, 0, tzinfo=UTC), ("MU-A", 2, 26))
    incident(session, A2, "MU-A", datetime(2026, 11, 5, 2, 0, tzinfo=UTC), ("MU-A", 1, 12))
    incident(session, B3, "MU-B", datetime(2026, 11, 12, 2, 0, tzinfo=UTC), ("MU-B", 1, 20))
    session.flush()
    for inc in session.query(Incident).filter(Incident.status != "false_alarm"):
        first = session.query(Dispatch).filter(Dispatch.incident_id == inc.id).order_by(Dispatch.id).first()
        if first is not None:  # the incident's own stages: its first dispatch's (the helper sets only those)
            inc.acknowledged_at, inc.arrived_at = first.acknowledged_at, first.arrived_at
            inc.released_at = first.arrived_at
    session.add(
        Inspection(
            registration_code=B4,
            unit_code="MU-A",
            kind="periodic",
            body_unit_code="IB-1",
            inspector="inspector",
            scheduled_date=date(2026, 10, 20),
            due_date=date(2026, 11, 1),
            created_at=NOW,
            created_by="t",
            updated_at=NOW,
        )
    )
    hazard(session, A1, "rectifying", NOW - timedelta(days=2))  # overdue
    hazard(session, B3, "reported", NOW + timedelta(days=5))
    hazard(session, A2, "verified", NOW - timedelta(days=40))  # 销号: not listed
    insurer = registry_queries.unit_by_code(session, "IN-A")
    holder = registry_queries.unit_by_code(session, "UU-A")
    assert insurer is not None and holder is not None
    for code, start, end in (
        (A1, date(2026, 1, 1), date(2026, 12, 31)),
        (A2, date(2025, 1, 1), date(2025, 12, 31)),
    ):
        session.add(
            InsurancePolicy(
                insurer_unit_id=insurer.id,
                policy_number=f"PL-{code}",
                registration_code=code,
                insured_unit_id=holder.id,
                start_date=start,
                end_date=end,
                limit_per_person_fen=100,
                limit_per_accident_fen=1000,
                premium_fen=10,
                created_at=NOW,
                created_by="insurer_a",
                updated_at=NOW,
            )
        )
    ratings.compute(session, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", SMALL)
    session.commit()


@pytest.fixture(name="city")
def city_fixture(session: Session, clock: FixedClock) -> Session:
    disclosed_city(session, clock)
    return session


def section(page: str, ident: str) -> str:
    """The text of the element with id ``ident`` up to the next section."""
    start = page.index(f'id="{ident}"')
    end = page.find("</section>", start)
    return page[start:end]


def fig(block: str, name: str) -> str:
    """The visible text of the figure ``data-fig=name`` in a month's card."""
    m = re.search(rf'data-fig="{name}"[^>]*>(.*?)</dd>', block, re.S)
    assert m, name
    return " ".join(visible(m.group(1)).split())


def test_the_city_page_shows_the_hand_computed_figures_in_chinese(client: TestClient, city: Session) -> None:
    page = client.get("/public/city")  # no sign-in
    assert page.status_code == 200
    text = page.text
    assert '<html lang="zh-CN">' in text and "电梯安全信息公开" in text
    assert 'id="call-96333" href="tel:96333"' in text and "拨打 96333" in text
    assert 'id="fig-registered">4<' in text and 'id="fig-in-service">4<' in text
    valid = section(text, "city-registry")
    assert 'data-n="3" data-of="4"' in valid and "75.0%" in valid

    november = section(text, "month-2026-11")
    assert "本月（2026-11）" in november
    assert fig(november, "entrapments") == "3"
    assert fig(november, "on-time") == "100.0% 达标 3 / 3"
    assert fig(november, "arrival") == "19.3 分钟 达标"
    october = section(text, "month-2026-10")
    assert "上月（2026-10）" in october
    assert fig(october, "entrapments") == "2"
    assert fig(october, "on-time") == "50.0% 未达标 1 / 2"
    assert fig(october, "arrival") == "35.0 分钟 未达标"
    assert "目标 ≥ 98%" in october and "目标 ≤ 30 分钟" in october

    shown = ratings.public_period(city)
    assert shown is not None
    block = section(text, "city-ratings")
    assert "2026-Q3" in block and 'href="/public/ratings"' in block
    best = sorted((r for r in shown.rows if r.rank), key=lambda r: r.rank or 0)[0]
    top = block[block.index('id="top-units"') : block.index('id="red-units"')]
    assert best.unit_name in top
    for listing, ident in (("red", "red-units"), ("black", "black-units")):
        names = [r.unit_name for r in getattr(shown, listing)]
        part = re.search(rf'id="{ident}" data-count="(\d+)">(.*?)</ul>', block, re.S)
        assert part and int(part.group(1)) == len(names)
        assert all(n in part.group(2) for n in names)

    supervised = section(text, "city-supervised")
    assert 'id="fig-supervised">2<' in supervised and "其中 1 项已超过整改期限" in supervised
    assert 'href="/public/hazards/supervised"' in supervised
    assert 'href="/public/costs"' in text
    assert 'id="current-user"' not in text
    assert not any(who in text for who in PERSONAL)
    assert not PHONE.search(visible(text)) and "层门门锁" not in text
    assert_no_raw_keys(text, "public city")


def test_the_city_page_in_english(client: TestClient, city: Session) -> None:
    client.get("/lang/en", params={"next": "/public/city"})
    text = client.get("/public/city").text
    assert '<html lang="en">' in text and "Elevator safety: public information" in text
    november = section(text, "month-2026-11")
    assert "This month (2026-11)" in november
    assert fig(november, "on-time") == "100.0% met 3 of 3"
    assert fig(november, "arrival") == "19.3 min met"
    october = section(text, "month-2026-10")
    assert fig(october, "on-time") == "50.0% missed 1 of 2"
    assert "target at least 98%" in october and "target at most 30 min" in october
    assert "Call 96333" in text and "Supervised rectification" in text
    assert not re.search(r"[\u4e00-\u9fff]", visible(section(text, "month-2026-10")))
    assert_no_raw_keys(text, "public city (en)")


def test_the_city_page_before_any_data(client: TestClient, session: Session, clock: FixedClock) -> None:
    page = client.get("/public/city")
    assert page.status_code == 200
    assert 'id="fig-registered">0<' in page.text and 'id="ratings-none"' in page.text
    assert fig(section(page.text, "month-2026-11"), "on-time").startswith("暂无数据")
    assert 'id="call-96333"' in page.text


def test_the_figures_are_counted_again_after_a_minute(
    client: TestClient, city: Session, clock: FixedClock
) -> None:
    def november() -> str:
        return fig(section(client.get("/public/city").text, "month-2026-11"), "entrapments")

    assert november() == "3"
    incident(city, B4, "MU-A", NOW - timedelta(hours=1), ("MU-A", 1, 10))
    city.commit()
    assert november() == "3"  # the minute's figures
    clock.advance(timedelta(seconds=61))
    assert november() == "4"
