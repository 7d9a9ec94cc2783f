"""Acceptance (issue 15, public disclosure): with no sign-in, the city's public page and an elevator's public
page in Chinese and, after the language switch, in English on a 390 px phone: no horizontal overflow, the
96333 call button, the complaint button, no person's name or username. Chromium against a real server; the
data are the ratings' hand-made quarter (tests/unit/ratings/test_queries.py) rated with
``min_elevators=1``, and a liability policy on 11SHA000001 (rescue code 100001) covering today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded
from tests.e2e.test_crew_phone import PAGE_TEXT_JS, assert_chinese_only

pytestmark = pytest.mark.e2e

PERSONAL = ("maint_a", "regulator", "owner_b", "operator", "inspector", "insurer_a", "admin")
WIDTH = 390


@pytest.fixture
def public_city(tmp_path: Path) -> Iterator[str]:
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.core.config import Settings
    from liftwatch.insurance.models import InsurancePolicy
    from liftwatch.ratings import service
    from liftwatch.ratings.rate import RatingSettings
    from liftwatch.registry import queries as registry_queries
    from tests.unit.ratings.test_queries import quarter_records

    def prepare(session: Session, clock: Clock) -> None:
        quarter_records(session)
        insurer = registry_queries.unit_by_code(session, "IN-A")
        holder = registry_queries.unit_by_code(session, "UU-A")
        assert insurer is not None and holder is not None
        today = clock.now().date()
        session.add(
            InsurancePolicy(
                insurer_unit_id=insurer.id,
                policy_number="PL-1",
                registration_code="11SHA000001",
                insured_unit_id=holder.id,
                start_date=today - timedelta(days=30),
                end_date=today + timedelta(days=300),
                limit_per_person_fen=100,
                limit_per_accident_fen=1000,
                premium_fen=10,
                created_at=clock.now(),
                created_by="insurer_a",
                updated_at=clock.now(),
            )
        )
        service.compute(session, SYSTEM_ACTOR, clock, Settings(), "2026-Q3", RatingSettings(min_elevators=1))

    with serve_seeded(tmp_path, prepare) as (url, _engine):
        yield url


def _fits(page: object, where: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= WIDTH, f"{where}: {width} px wide on a {WIDTH} px screen"


def _no_person(html: str, where: str) -> None:
    for word in PERSONAL:
        assert word not in html, (where, word)


def test_the_city_and_elevator_pages_on_a_phone_in_chinese_and_english(public_city: str) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    base = public_city
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 844})
            page = context.new_page()
            page.set_default_timeout(8_000)
            page.goto(f"{base}/public/city", timeout=30_000)  # the first page may compile the catalogues
            expect(page.locator("#city-title")).to_have_text("电梯安全信息公开")
            call = page.locator("#call-96333")
            expect(call).to_be_visible()
            expect(call).to_have_attribute("href", "tel:96333")
            expect(page.locator("#fig-registered")).to_have_text("4")
            expect(page.locator("#ratings-period")).to_contain_text("2026-Q3")
            expect(page.locator("#ratings-link")).to_have_attribute("href", "/public/ratings")
            expect(page.locator("#supervised-link")).to_have_attribute("href", "/public/hazards/supervised")
            assert_chinese_only(page.evaluate(PAGE_TEXT_JS), "city page")
            _fits(page, "city page (zh)")
            _no_person(page.content(), "city page")
            assert page.locator("#current-user").count() == 0

            page.goto(f"{base}/p/100001")
            expect(page.locator("#public-title")).to_have_text("电梯安全信息")
            expect(page.locator("#call-96333")).to_be_visible()
            complain = page.locator("#public-complain")
            expect(complain).to_be_visible()
            expect(complain).to_have_attribute("href", "/public/elevators/100001/complaint")
            expect(page.locator("#public-insurance")).to_contain_text("申江财产保险上海分公司")
            expect(page.locator("#public-last-maintenance")).to_contain_text("浦江电梯维保有限公司")
            expect(page.locator("#public-inspection")).not_to_be_empty()
            # the seeded unit's service line ends in a letter (021-5555A): a test artefact, not a word
            text = page.evaluate(PAGE_TEXT_JS).replace("021-5555A", "")
            assert_chinese_only(text, "elevator page")
            _fits(page, "elevator page (zh)")
            _no_person(page.content(), "elevator page")

            page.click("#lang-en")
            expect(page).to_have_url(f"{base}/p/100001")
            expect(page.locator("#public-insurance")).to_contain_text("insured")
            expect(page.locator("#call-96333")).to_have_text("Call 96333")
            expect(page.locator("#public-complain")).to_be_visible()
            _fits(page, "elevator page (en)")

            page.goto(f"{base}/public/city")
            expect(page.locator("#city-title")).to_have_text("Elevator safety: public information")
            expect(page.locator("#call-96333")).to_have_text("Call 96333")
            assert "困人" not in page.content()
            _fits(page, "city page (en)")

            page.goto(f"{base}/p/NO-SUCH-CODE")
            expect(page.locator("#public-title")).to_have_text("Elevator not found")
            expect(page.locator("#call-96333")).to_be_visible()
            _fits(page, "unknown code (en)")
        finally:
            browser.close()
