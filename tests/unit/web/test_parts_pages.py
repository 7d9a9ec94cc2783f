"""Main parts and recalls on screen (web/parts.py): a maintenance worker records and replaces a part on the
elevator file, refused fields named in Chinese; a regulator previews a recall, issues it and follows it;
the worn-parts list; who may do what."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.maintenance.models import WorkOrder
from liftwatch.parts import service
from liftwatch.parts.domain import PartKind
from liftwatch.parts.models import Part
from tests.factories import seed
from tests.unit.parts.city import SETTINGS
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only

A1, A2, B4 = "11SHA000001", "11SHA000002", "11SHB000004"
MACHINE = {
    "kind": "traction_machine",
    "manufacturer": "通力",
    "model": "MX-10",
    "serial": "KM2020-0120",
    "installed_on": "2008-05-01",
    "design_life_years": "20",
}
RECALL = {
    "reference": "SAMR-2026-017",
    "kind": "traction_machine",
    "manufacturer": "通力",
    "model": "MX-10",
    "serial_first": "KM2020-0100",
    "serial_last": "KM2020-0150",
    "reason": "制动器线圈绝缘老化",
    "due_on": "2026-12-31",
}


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="err-([a-z_]+)"[^>]*>([^<]+)</p>', html))


def test_a_worker_records_and_replaces_a_part_on_the_file(
    client: TestClient, session: Session, seeded: None
) -> None:
    web_login(client, "maint_a")
    page = client.get(f"/elevators/{A1}").text
    assert "主要部件" in page and 'id="part-new"' in page and 'id="parts-empty"' in page
    form = client.get(f"/elevators/{A1}/parts/new").text
    assert "曳引机/驱动主机" in form and "梯级" not in form  # a lift's parts only

    bad = client.post(f"/elevators/{A1}/parts/new", data={**MACHINE, "serial": "", "design_life_years": ""})
    assert bad.status_code == 422
    errors = field_errors(bad.text)
    assert errors["serial"] == "必填，不超过 100 个字符"
    assert "年限与次数至少填一项" in errors["design_life_years"]

    r = client.post(f"/elevators/{A1}/parts/new", data=MACHINE, follow_redirects=False)
    assert r.status_code == 303, field_errors(r.text)
    file_page = client.get(r.headers["location"]).text
    assert "部件已登记" in file_page and "KM2020-0120" in file_page
    assert 'data-wear="near"' in file_page  # 18.6 of 20 years: 93%, near from 90%
    part = session.scalars(select(Part).where(Part.registration_code == A1)).one()

    taken = client.post(f"/elevators/{A1}/parts/new", data={**MACHINE, "kind": "traction_machine"})
    assert taken.status_code == 409 and "此电梯已有该类型的在用部件" in taken.text

    replace = client.get(f"/parts/{part.id}/replace").text
    assert 'value="MX-10"' in replace and "原部件在档案中保留" in replace
    no_reason = client.post(
        f"/parts/{part.id}/replace", data={**MACHINE, "serial": "KM2026-0001", "installed_on": "2026-11-20"}
    )
    assert field_errors(no_reason.text)["reason"] == "请填写更换原因"
    r = client.post(
        f"/parts/{part.id}/replace",
        data={**MACHINE, "serial": "KM2026-0001", "installed_on": "2026-11-20", "reason": "主机异响"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    file_page = client.get(r.headers["location"]).text
    assert "部件已更换" in file_page and 'id="parts-removed"' in file_page and "主机异响" in file_page
    assert 'data-kind="part_replaced"' in file_page and 'data-kind="part_installed"' in file_page
    assert client.get(f"/elevators/{B4}/parts/new").status_code == 404  # MU-B's elevator


def test_readers_do_not_record(client: TestClient, seeded: None) -> None:
    web_login(client, "regulator")
    assert 'id="part-new"' not in client.get(f"/elevators/{A1}").text
    assert client.get(f"/elevators/{A1}/parts/new").status_code == 403
    web_login(client, "maint_a")
    assert client.get("/recalls/new").status_code == 403
    assert 'id="recall-new"' not in client.get("/recalls").text


def test_a_regulator_previews_issues_and_follows_a_recall(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    for code, serial in ((A1, "KM2020-0120"), (A2, "KM2020-0099"), (B4, "KM2020-0150")):
        new = service.NewPart(PartKind.TRACTION_MACHINE, "通力", "MX-10", serial, date(2010, 5, 1), 20)
        service.record_part(session, SYSTEM_ACTOR, code, new, clock, SETTINGS)
    session.commit()
    web_login(client, "regulator")
    assert 'id="nav-recalls"' in client.get("/recalls").text

    bad = client.post("/recalls/new", data={**RECALL, "serial_last": "KM2020-0001", "due_on": "2026-11-01"})
    assert bad.status_code == 422
    errors = field_errors(bad.text)
    assert "截止编号不得早于起始编号" in errors["serial_last"]

    preview = client.post("/recalls/new", data={**RECALL, "step": "preview"})
    assert preview.status_code == 200
    assert (
        re.findall(r'data-elevator="([^"]+)"', preview.text) == [A1, B4] and "涉及 2 台电梯" in preview.text
    )
    assert session.scalars(select(WorkOrder)).all() == []  # a preview writes nothing

    r = client.post("/recalls/new", data={**RECALL, "step": "issue"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/recalls/")
    detail = client.get(r.headers["location"]).text
    assert "召回已发布，涉及 2 台电梯" in detail and "已整改 0 / 2" in detail
    assert re.findall(r'data-elevator="([^"]+)" data-status="([^"]+)"', detail) == [
        (A1, "open"),
        (B4, "open"),
    ]
    assert len(session.scalars(select(WorkOrder).where(WorkOrder.source == "recall")).all()) == 2
    listing = client.get("/recalls").text
    assert "SAMR-2026-017" in listing and "已整改 0 / 2" in listing
    assert "召回 SAMR-2026-017" in client.get(f"/elevators/{A1}").text

    # the maintenance unit of A1 sees its own elevator of the recall only
    web_login(client, "maint_a")
    mine = client.get(r.headers["location"]).text
    assert re.findall(r'data-elevator="([^"]+)" data-status', mine) == [A1]


def test_the_worn_parts_list(client: TestClient, session: Session, clock: FixedClock, seeded: None) -> None:
    old = service.NewPart(PartKind.CONTROLLER, "新时达", "AS380", "S-1", date(2004, 1, 1), 20)
    young = service.NewPart(PartKind.BRAKE, "通力", "BK", "B-1", date(2024, 1, 1), 20)
    service.record_part(session, SYSTEM_ACTOR, A1, old, clock, SETTINGS)
    service.record_part(session, SYSTEM_ACTOR, B4, young, clock, SETTINGS)
    session.commit()
    web_login(client, "regulator")
    page = client.get("/parts/worn").text
    assert re.findall(r'data-wear="([a-z]+)"', page) == ["past"] and "超过设计使用年限" in page
    assert 'id="worn-empty"' in client.get("/parts/worn?district=徐汇区").text
    assert client.get("/parts/worn?lang=en").status_code == 200
