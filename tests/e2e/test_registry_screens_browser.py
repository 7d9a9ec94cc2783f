"""Acceptance (issue 16, the registry on screen): a regulator registers an elevator and edits it (the
timeline shows both), and uploads an edited export: the preview lists exactly the edited elevator and
field (in Chinese) and writes nothing, Apply writes it, and the elevator's file shows the change on its
timeline. Chromium against a real server."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, serve_seeded, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with serve_seeded(tmp_path) as (url, engine):
        yield url, engine


@contextmanager
def _desk(pw: Any, base: str) -> Iterator[tuple[Any, Any, list[str]]]:
    """Chromium with a regulator signed in at a desk-sized window on the search page; the page's script
    errors collected."""
    browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "regulator", "/elevators")
        yield browser, page, errors
    finally:
        browser.close()


def _edited_export(engine: Engine, path: Path) -> Path:
    """The ledger as the export writes it (Chinese headers), 11SHA000002's building set to 7号楼."""
    from liftwatch.accounts.actor import SYSTEM_ACTOR
    from liftwatch.registry.io import export_file

    raw = path.with_name("export.csv")
    with Session(engine) as session:
        export_file(session, SYSTEM_ACTOR, raw, headers="zh")
    table = list(csv.reader(io.StringIO(raw.read_text(encoding="utf-8-sig"))))
    column = table[0].index("楼栋")
    for row in table[1:]:
        if row[0] == "11SHA000002":
            row[column] = "7号楼"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)
    return path


def test_a_preview_of_an_edited_export_then_apply(served: tuple[str, Engine], tmp_path: Path) -> None:
    from liftwatch.registry.models import Elevator

    base, engine = served
    edited = _edited_export(engine, tmp_path / "台账（改）.csv")
    from playwright.sync_api import expect, sync_playwright

    def building() -> str:
        with Session(engine) as session:
            return str(
                session.scalar(select(Elevator.building).where(Elevator.registration_code == "11SHA000002"))
            )

    with sync_playwright() as pw, _desk(pw, base) as (_browser, page, errors):  # a regulator at a desk
        page.click("#registry-import")
        expect(page.locator("#import-title")).to_have_text("导入台账")
        expect(page.locator("#import-upsert")).to_be_checked()
        page.set_input_files("#import-file", str(edited))
        page.click("#import-preview")

        summary = page.locator("#import-summary")
        expect(summary).to_have_attribute("data-step", "preview")
        expect(summary).to_have_attribute("data-updated", "1")
        expect(summary).to_have_attribute("data-unchanged", "3")
        expect(summary).to_have_attribute("data-imported", "0")
        expect(summary).to_have_attribute("data-refused", "0")
        changes = page.locator("#import-changes tbody tr")
        expect(changes).to_have_count(1)
        expect(changes.first).to_have_attribute("data-code", "11SHA000002")
        expect(changes.first).to_contain_text("楼栋")
        expect(changes.first).to_contain_text("7号楼")
        assert building() != "7号楼"  # the preview wrote nothing

        page.click("#import-apply")
        expect(summary).to_have_attribute("data-step", "done")
        expect(page.locator("#summary-title")).to_contain_text("已导入")
        assert building() == "7号楼"

        page.goto(f"{base}/elevators/11SHA000002")
        entry = page.locator("#timeline li").first
        expect(entry).to_contain_text("7号楼")
        assert errors == [], errors


def test_a_regulator_registers_an_elevator_and_edits_it(served: tuple[str, Engine]) -> None:
    """From the search page: register an elevator (its use unit picked by name), then edit it; its file's
    timeline shows the registration and the change, newest first; on a phone the form fits."""
    base, _engine = served
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw, _desk(pw, base) as (browser, page, errors):  # a regulator at a desk
        page.click("#registry-new")
        expect(page.locator("#reg-title")).to_have_text("登记电梯")
        page.fill("#f-registration_code", "31SH0801")
        page.fill("#f-rescue_code", "200801")
        page.select_option("#f-place_type", "office")
        page.fill("#f-district", "静安区")
        page.fill("#f-address", "南京西路801号")
        page.fill("#f-use_unit", "静安物业管理有限公司")
        page.fill("#f-floors", "二十")  # a mistake first: named beside its field, the rest kept
        page.click("#reg-save")
        expect(page.locator("#err-floors")).to_have_text("应为数字")
        expect(page.locator("#f-address")).to_have_value("南京西路801号")
        page.fill("#f-floors", "20")
        page.click("#reg-save")
        expect(page).to_have_url(f"{base}/elevators/31SH0801?done=registered")
        expect(page.locator("#file-done")).to_have_text("电梯已登记。")

        page.click("#file-edit")
        page.fill("#f-building", "A座")
        page.click("#reg-save")
        expect(page.locator("#file-done")).to_have_text("变更已保存，并记入档案。")
        items = page.locator("#timeline > li")  # an entry's changes are a list inside it
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text("A座")
        expect(items.nth(1)).to_contain_text("使用登记")
        assert errors == [], errors

        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
        sign_in(phone, base, "regulator", "/registry/elevators/new")
        expect(phone.locator("#reg-title")).to_be_visible()
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{width} px wide on a 390 px screen"
