"""The 96333 code on screen: a regulator gives an elevator a new rescue code from its file (the next free
one, or typed; a taken one is named beside the field in Chinese), the timeline shows the change; the file
and the search page link the cars' stickers (the search's filters; more than 1,000 elevators: narrow it)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from tests.factories import seed
from tests.unit.web.forms import web_login

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def test_a_regulator_gives_a_new_code_on_the_file(client: TestClient, seeded: None) -> None:
    web_login(client, "regulator")
    page = client.get("/elevators/11SHA000001").text
    assert 'id="recode-form"' in page and 'href="/api/v1/registry/stickers?code=11SHA000001"' in page
    taken = client.post("/elevators/11SHA000001/rescue-code", data={"code": "100004", "reason": "重新编码"})
    assert taken.status_code == 409
    assert re.search(r'id="err-recode-code">该救援码正在或曾经被其他电梯使用<', taken.text)
    no_reason = client.post("/elevators/11SHA000001/rescue-code", data={"code": ""})
    assert no_reason.status_code == 422 and 'id="err-recode-reason"' in no_reason.text
    r = client.post("/elevators/11SHA000001/rescue-code", data={"reason": "标识损毁"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "救援码已更换为 100005" in page and "100001 → 100005" in page
    web_login(client, "maint_a")
    page = client.get("/elevators/11SHA000002").text
    assert 'id="recode-form"' not in page and 'id="file-sticker"' in page
    assert client.post("/elevators/11SHA000002/rescue-code", data={"reason": "x"}).status_code == 403


def test_the_search_links_the_stickers_of_its_filters(client: TestClient, seeded: None) -> None:
    web_login(client, "regulator")
    page = client.get("/elevators", params={"district": "徐汇"}).text
    link = re.search(r'id="registry-stickers" download\s+href="([^"]+)"', page)
    assert link is not None and "district=" in link.group(1)
    pdf = client.get(link.group(1).replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
