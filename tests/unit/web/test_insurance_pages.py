"""The insurance screens: the insurer's desk (its own policies only, status, grade, factor, expiring soon,
the reprice button), a policy with its factors explained (another insurer's: 404), the regulator's
coverage page; other roles get the 403 page. Chinese first, English on request."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.insurance import service
from liftwatch.risk import service as risk
from liftwatch.risk.score import RiskSettings
from tests.unit.insurance.city import ADMIN, insurance_city
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


DAY = date(2026, 11, 23)


@pytest.fixture
def city(session: Session, clock: FixedClock) -> Session:
    insurance_city(session, clock)
    risk.recompute(session, clock, Settings(), RiskSettings())
    # P-A2 ends within the 30 days of "expiring soon"
    p_a2 = next(p for p in service.list_policies(session, ADMIN, DAY) if p.policy_number == "P-A2")
    service.update_policy(session, ADMIN, p_a2.id, service.PolicyChange(end_date=date(2026, 12, 10)), clock)
    session.commit()
    return session


def _id(session: Session, number: str) -> int:
    return next(p.id for p in service.list_policies(session, ADMIN, DAY) if p.policy_number == number)


def test_the_insurer_desk_shows_its_policies_reprices_and_explains(client: TestClient, city: Session) -> None:
    web_login(client, "insurer_a")
    page = client.get("/insurance")
    assert page.status_code == 200
    html = page.text
    assert "电梯安全责任保险" in html and 'id="nav-insurance"' in html
    assert 'id="nav-coverage"' not in html and 'href="/elevators"' not in html  # no registry for insurers
    for mine in ("P-A1", "P-A2", "P-B3"):
        assert f'data-policy="{mine}"' in html
    assert "Q-B5" not in html and "Q-B3" not in html  # IN-B's
    assert 'data-policy="P-B3" data-status="expired"' in html and "已到期" in html
    assert 'id="count-valid" data-count="2"' in html
    assert 'id="ins-expiring"' in html and html.count('data-policy="P-A2"') == 2  # expiring soon, and listed
    # reprice the quarter: a factor per policy in force, from its grade
    r = client.post("/insurance/reprice", data={"period": "2026-Q4"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/insurance?repriced=2026-Q4&n=2"
    desk = client.get(r.headers["location"]).text
    assert "2026-Q4 已重新计算：2 份保单" in desk
    grade = risk.stored_score(city, "11SHA000002")
    assert grade is not None
    factor = {"A": "0.85", "B": "1.00", "C": "1.20", "D": "1.50"}[grade.grade]
    assert f'data-policy="P-A2" data-status="valid" data-grade="{grade.grade}"' in desk
    bad = client.post("/insurance/reprice", data={"period": "2026-Q9"})
    assert bad.status_code == 422 and "2026-Q4、2026-H2" in bad.text
    # the policy: terms, the factor of the period with the largest risk factors, the full explanation
    detail = client.get(f"/insurance/policies/{_id(city, 'P-A2')}")
    assert detail.status_code == 200
    text = detail.text
    assert "每次事故赔偿限额" in text and "¥2,000,000.00" in text and "¥500,000.00" in text
    assert 'id="period-2026-Q4"' in text and f"<strong>{factor}</strong>" in text
    assert f'id="policy-risk" data-grade="{grade.grade}" data-score="{grade.score}"' in text
    assert "使用场所" in text  # the place factor, in words
    assert "A 0.85、B 1.00、C 1.20、D 1.50，未评级 1.00" in text  # the rule, from the settings
    # another insurer's policy and a role without the desk
    assert client.get(f"/insurance/policies/{_id(city, 'Q-B5')}").status_code == 404
    assert client.get("/insurance/coverage").status_code == 403
    for staff_page in (
        "/risk",
        "/risk/elevators/11SHA000002",
        "/hazards",
        "/reports",
        "/console",
        "/inspection",
    ):
        assert client.get(staff_page).status_code == 403, staff_page
    # the registry scopes an insurer to no elevator: empty lists, an elevator is not found
    assert client.get("/elevators/11SHA000002").status_code == 404
    assert "11SHA000002" not in client.get("/elevators").text and "MU-A" not in client.get("/units").text
    # English on request
    client.get("/lang/en", follow_redirects=False)
    en = client.get(f"/insurance/policies/{_id(city, 'P-A2')}").text
    assert "Limit per accident" in en and "Premium factor" in en and "Valid" in en


def test_the_regulator_sees_coverage_of_public_places_by_district(client: TestClient, city: Session) -> None:
    web_login(client, "regulator")
    page = client.get("/insurance/coverage")
    assert page.status_code == 200
    html = page.text
    assert 'id="nav-coverage"' in html and 'id="nav-insurance"' not in html
    assert 'data-public="3" data-insured="2"' in html and "66.7%" in html
    assert 'data-district="徐汇区" data-public="2" data-insured="1"' in html
    assert 'data-district="静安区" data-public="1" data-insured="1"' in html
    assert 'id="cov-uninsured" data-total="1"' in html and 'data-code="11SHB000003"' in html
    assert "<td>商场</td>" in html  # the uninsured lift's place, in words
    one = client.get("/insurance/coverage", params={"district": "静安区"}).text
    assert 'data-public="1" data-insured="1"' in one and "100.0%" in one
    assert client.get("/insurance").status_code == 403
    client.get("/lang/en", follow_redirects=False)
    en = client.get("/insurance/coverage").text
    assert (
        "Liability insurance coverage of elevators in public places" in en and "Uninsured elevators (1)" in en
    )


def test_other_roles_get_the_403_page(client: TestClient, city: Session) -> None:
    policy = _id(city, "P-A2")
    for username in ("maint_a", "inspector"):
        web_login(client, username)
        for path in ("/insurance", "/insurance/coverage", f"/insurance/policies/{policy}"):
            assert client.get(path).status_code == 403, (username, path)
