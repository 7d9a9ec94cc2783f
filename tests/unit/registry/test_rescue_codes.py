"""96333 rescue codes (issue 16, item 7): reassigning one (typed or the next free one) retires the old code,
which is never given again and still finds the elevator; the file records it; only admins and regulators
may. The cars' stickers as a PDF: one per elevator, its code, Chinese text and a QR code of its public page
at LIFTWATCH_PUBLIC_URL; at most 1,000 per file."""

from __future__ import annotations

from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput
from liftwatch.registry import queries, service, stickers
from tests.factories import auth, seed

REGULATOR = Actor(username="regulator", role=Role.REGULATOR)


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.commit()


def test_a_new_code_retires_the_old_one_for_good(session: Session, clock: FixedClock, seeded: None) -> None:
    e = service.reassign_rescue_code(session, REGULATOR, "11SHA000001", None, "标识损毁，重新编码", clock)
    assert e.rescue_code == "100005"  # one above the highest given (100004)
    session.commit()
    # the old code still finds the elevator (a sticker not yet replaced), the new one too
    assert queries.get_public_elevator(session, "100001").registration_code == "11SHA000001"
    assert queries.get_public_elevator(session, "100005").registration_code == "11SHA000001"
    kinds = [(ev.kind, ev.details) for ev in queries.timeline(session, e)]
    assert ("rescue_code_change", {"from": "100001", "to": "100005"}) in kinds
    # never given again: not as typed, not as the next free one
    with pytest.raises(Conflict, match="is or was another elevator's"):
        service.reassign_rescue_code(session, REGULATOR, "11SHA000002", "100001", "重新编码", clock)
    with pytest.raises(Conflict):
        service.reassign_rescue_code(session, REGULATOR, "11SHA000002", "100004", "重新编码", clock)  # in use
    again = service.reassign_rescue_code(session, REGULATOR, "11SHA000002", None, "重新编码", clock)
    assert again.rescue_code == "100006"
    typed = service.reassign_rescue_code(session, REGULATOR, "11SHB000003", "310101", "按区段编码", clock)
    assert typed.rescue_code == "310101"
    with pytest.raises(InvalidInput, match="5 to 8 digits"):
        service.reassign_rescue_code(session, REGULATOR, "11SHB000004", "12AB", "x", clock)
    with pytest.raises(InvalidInput, match="say why"):
        service.reassign_rescue_code(session, REGULATOR, "11SHB000004", None, " ", clock)
    with pytest.raises(Forbidden):
        service.reassign_rescue_code(
            session, Actor("maint_a", Role.MAINTENANCE), "11SHA000001", None, "x", clock
        )


def test_stickers_as_a_pdf(client: TestClient, seeded: None) -> None:
    headers = auth(client, Role.REGULATOR)
    r = client.get(
        "/api/v1/registry/stickers", params=[("code", "11SHA000001"), ("code", "100004")], headers=headers
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "96333-stickers-" in r.headers["content-disposition"]
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(r.content)).pages)
    assert "100001" in text and "100004" in text and "100002" not in text
    assert "电梯应急救援码" in text and "静安物业管理有限公司" in text
    # by the search's filters: the district's two elevators
    by_filter = client.get("/api/v1/registry/stickers", params={"district": "徐汇"}, headers=headers)
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(by_filter.content)).pages)
    assert "100003" in text and "100004" in text and "100001" not in text
    none = client.get("/api/v1/registry/stickers", params={"district": "没有这个区"}, headers=headers)
    assert none.status_code == 422
    # a use unit prints its own elevators' stickers only
    owner = auth(client, Role.USE_UNIT)  # owner_b of UU-B
    assert (
        client.get("/api/v1/registry/stickers", params={"code": "11SHA000001"}, headers=owner).status_code
        == 404
    )


def test_the_sticker_html_holds_one_qr_code_of_the_public_page_each() -> None:
    s = [
        stickers.Sticker(
            "100001",
            "11SHA000001",
            "静安区某路01号",
            "静安物业",
            "021-1",
            "浦江维保",
            "021-2",
            "https://dt.example.cn/p/100001",
        )
    ] * 9
    page = stickers.html(s)
    assert page.count('class="sticker"') == 9 and page.count("<svg") == 9 and page.count('class="page"') == 2
    assert stickers.qr_svg("https://dt.example.cn/p/100001") != stickers.qr_svg(
        "https://dt.example.cn/p/100002"
    )
    with pytest.raises(ValueError, match="at most"):
        stickers.render_pdf(s * 112)
