"""Applications on a phone (issue 16, item 4): the property manager files an addition for a building at
390 px (too little consent is refused beside its field, then enough is accepted); the regulator at the
window records the departments' decisions; the public progress page lists the building. Chromium against a
real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import assert_fits, chromium_page, serve_seeded, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serve_seeded(tmp_path) as (url, _engine):
        yield url


def test_an_addition_filed_on_a_phone_and_reviewed(served: str) -> None:
    from playwright.sync_api import expect

    with chromium_page() as (page, errors):
        sign_in(page, served, "owner_b", "/applications")
        page.click('a[data-kind="addition"]')
        expect(page.locator("#new-title")).to_have_text("既有多层住宅加装电梯")
        for name, value in (
            ("title", "天平路5号楼加装电梯"), ("district", "徐汇区"), ("address", "天平路5号"),
            ("households", "12"), ("households_consenting", "7"), ("area_m2", "960"),
            ("area_consenting_m2", "700"), ("floors", "6"), ("budget_yuan", "600000"),
        ):  # fmt: skip
            page.fill(f"#f-{name}", value)
        page.check('input[name="funding"][value="owners"]')
        page.click("#app-submit")
        expect(page.locator("#err-households_consenting")).to_contain_text("三分之二")
        page.fill("#f-households_consenting", "9")
        page.click("#app-submit")
        expect(page.locator("#app-done")).to_have_text("申请已受理。")
        expect(page.locator("#reviews-table tbody tr")).to_have_count(3)
        assert_fits(page)
        url = page.url.split("?")[0]

        page.click("#logout")
        sign_in(page, served, "regulator", url.replace(served, ""))
        for department in ("planning", "housing", "market_supervision"):
            page.select_option("#d-department", department)
            page.click("#decide-save")
            expect(page.locator("#app-done")).to_have_text("审查意见已登记。")
        expect(page.locator("#app-stage")).to_have_attribute("data-stage", "approved")

        page.goto(f"{served}/public/additions")
        expect(page.locator('#district-table tr[data-district="徐汇区"]')).to_be_visible()
        expect(page.locator("#buildings-table")).to_contain_text("天平路5号")
        assert errors == []
