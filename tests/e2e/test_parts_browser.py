"""Acceptance (issue 16, item 2, on screen): a maintenance worker on a 390 px phone records the traction
machine of an elevator it maintains and replaces it, both on the file; a regulator at a desk previews a
recall, issues it and follows the two elevators it reaches, one work order each. Chromium against a real
server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from liftwatch.core.clock import Clock
from tests.e2e.conftest import DESK, assert_fits, chromium_page, serve_seeded, sign_in

pytestmark = pytest.mark.e2e


def _machines(session: Session, clock: Clock) -> None:
    """通力 MX-10 machines in 11SHA000002 (KM-0120) and 11SHB000004 (KM-0150); 11SHA000001 is left for the
    worker to record."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.core.config import Settings
    from liftwatch.parts import service
    from liftwatch.parts.domain import PartKind

    for code, serial in (("11SHA000002", "KM-0120"), ("11SHB000004", "KM-0150")):
        new = service.NewPart(PartKind.TRACTION_MACHINE, "通力", "MX-10", serial, date(2012, 3, 1), 20)
        service.record_part(session, SYSTEM_ACTOR, code, new, clock, Settings())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with serve_seeded(tmp_path, _machines) as (url, engine):
        yield url, engine


def test_a_worker_records_and_replaces_a_part_on_a_phone(served: tuple[str, Engine]) -> None:
    from playwright.sync_api import expect

    base, _engine = served
    with chromium_page() as (page, errors):
        sign_in(page, base, "maint_a", "/elevators/11SHA000001")
        expect(page.locator("#sec-parts")).to_have_text("主要部件")
        page.click("#part-new")
        expect(page.locator("#part-title")).to_have_text("登记主要部件")
        assert_fits(page)
        page.select_option("#f-kind", "traction_machine")
        page.fill("#f-manufacturer", "通力")
        page.fill("#f-model", "MX-10")
        page.fill("#f-installed_on", "2008-05-01")
        page.click("#part-save")  # no serial, no design life: refused, named beside the inputs
        expect(page.locator("#err-serial")).to_have_text("必填，不超过 100 个字符")
        expect(page.locator("#err-design_life_years")).to_contain_text("年限与次数至少填一项")
        page.fill("#f-serial", "KM-0099")
        page.fill("#f-design_life_years", "20")
        page.click("#part-save")
        expect(page.locator("#file-done")).to_have_text("部件已登记，已记入电梯档案。")
        row = page.locator('#parts-table tr[data-kind="traction_machine"]')
        expect(row).to_have_attribute("data-wear", "near")  # 18.6 of 20 years: past 90%
        assert_fits(page)
        row.locator("a", has_text="更换").click()
        expect(page.locator("#part-title")).to_have_text("更换主要部件")
        expect(page.locator("#f-model")).to_have_value("MX-10")
        page.fill("#f-serial", "KM-2026-01")
        page.fill("#f-reason", "主机异响")
        page.click("#part-save")
        expect(page.locator("#file-done")).to_have_text("部件已更换，原部件保留在档案中。")
        expect(row).to_have_attribute("data-wear", "ok")
        page.click("#parts-removed summary")
        expect(page.locator("#parts-removed")).to_contain_text("主机异响")
        expect(page.locator('#timeline li[data-kind="part_replaced"]')).to_contain_text(
            "KM-0099 → KM-2026-01"
        )
        assert errors == []


def test_a_regulator_previews_issues_and_follows_a_recall(served: tuple[str, Engine]) -> None:
    from playwright.sync_api import expect

    from liftwatch.maintenance.models import WorkOrder

    base, engine = served
    with chromium_page(DESK) as (page, _errors):
        sign_in(page, base, "regulator", "/elevators")
        page.click("#nav-recalls")
        expect(page.locator("#recalls-empty")).to_be_visible()
        page.click("#recall-new")
        page.fill("#f-reference", "SAMR-2026-017")
        page.select_option("#f-kind", "traction_machine")
        page.fill("#f-manufacturer", "通力")
        page.fill("#f-model", "mx-10")
        page.fill("#f-serial_first", "KM-0100")
        page.fill("#f-serial_last", "KM-0150")
        page.fill("#f-reason", "制动器线圈绝缘老化")
        page.fill("#f-due_on", "2027-01-31")
        page.click("#recall-preview-btn")
        expect(page.locator("#recall-preview-title")).to_have_text("涉及 2 台电梯")
        expect(page.locator("#preview-table tbody tr")).to_have_count(2)
        with Session(engine) as session:
            assert session.scalars(select(WorkOrder)).all() == []  # the preview wrote nothing
        page.click("#recall-issue")
        expect(page.locator("#recall-done")).to_have_text("召回已发布，涉及 2 台电梯。")
        expect(page.locator("#recall-progress")).to_have_text("已整改 0 / 2")
        items = page.locator("#recall-items tbody tr")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_have_attribute("data-elevator", "11SHA000002")
        expect(items.nth(0)).to_contain_text("整改中")
        with Session(engine) as session:
            orders = session.scalars(select(WorkOrder).where(WorkOrder.source == "recall")).all()
            assert sorted(o.registration_code for o in orders) == ["11SHA000002", "11SHB000004"]
        items.nth(0).locator("a").first.click()
        expect(page.locator('#parts-table tr[data-kind="traction_machine"]')).to_contain_text(
            "召回 SAMR-2026-017"
        )
