"""The server-rendered pages, through the app as a browser would use them (cookie sign-in, forms)."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.security import decode_token
from liftwatch.deps import COOKIE_NAME
from liftwatch.registry import service
from liftwatch.registry.domain import EventKind
from liftwatch.registry.schemas import ElevatorUpdate, EventIn
from liftwatch.web.templating import safe_next
from tests.factories import seed
from tests.unit.web.forms import login_token, post_login, web_login

HTML = {"Accept": "text/html"}


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> None:
    seed(session, clock)


def login(client: TestClient, username: str, next_: str = "") -> None:
    web_login(client, username, next_=next_)


def codes_in(html: str) -> list[str]:
    """Registration codes of the result table's rows, in order."""
    return re.findall(r'<tr data-code="([^"]+)"', html)


# ---------------------------------------------------------------- sign-in


def test_login_sets_httponly_cookie_with_api_token_and_redirects(client: TestClient, seeded: None) -> None:
    r = post_login(client, "regulator", next="/units")
    assert r.status_code == 303
    assert r.headers["location"] == "/units"
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in set_cookie
    assert "samesite=lax" in set_cookie.lower()
    assert "Secure" not in set_cookie
    claims = decode_token(r.cookies[COOKIE_NAME], client.app.state.secret_key, client.app.state.clock.now())  # type: ignore[attr-defined]
    assert claims is not None
    assert claims["sub"] == "regulator"
    assert claims["role"] == "regulator"
    assert isinstance(claims["uid"], int)
    # The same token opens the API.
    api = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.cookies[COOKIE_NAME]}"})
    assert api.json()["username"] == "regulator"
    page = client.get("/elevators")
    assert page.status_code == 200
    assert 'id="current-user"' in page.text
    assert "regulator" in page.text


def test_cookie_is_secure_when_configured(client: TestClient, seeded: None) -> None:
    token = login_token(client)  # over http: the Secure nonce cookie would not come back
    client.app.state.settings.cookie_secure = True  # type: ignore[attr-defined]
    r = post_login(client, "admin", csrf_token=token)
    assert r.status_code == 303
    assert "Secure" in r.headers["set-cookie"]


def test_wrong_password_rerenders_form_with_error(client: TestClient, seeded: None) -> None:
    r = post_login(client, "regulator", "nope", next="/units")
    assert r.status_code == 401
    assert 'id="login-error"' in r.text
    assert "用户名或密码错误" in r.text
    assert 'value="regulator"' in r.text
    assert 'name="next" value="/units"' in r.text
    assert COOKIE_NAME not in r.cookies


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/units?page=2", "/units?page=2"),
        ("https://evil.example/", "/elevators"),
        ("//evil.example/x", "/elevators"),
        ("/\\evil.example", "/elevators"),
        ("javascript:alert(1)", "/elevators"),
        ("", "/elevators"),
    ],
)
def test_next_only_local_paths(raw: str, expected: str) -> None:
    assert safe_next(raw) == expected


def test_login_ignores_foreign_next(client: TestClient, seeded: None) -> None:
    r = post_login(client, "regulator", next="https://evil.example/")
    assert r.headers["location"] == "/elevators"


def test_a_role_with_a_first_page_of_its_own_lands_there(client: TestClient, seeded: None) -> None:
    """An insurer sees no elevator outside its policies: with no page asked for it lands on its desk; a
    page asked for still wins, and the other roles land on the elevator list."""
    assert post_login(client, "insurer_a").headers["location"] == "/insurance"
    assert post_login(client, "insurer_a", next="/public/ratings").headers["location"] == "/public/ratings"
    assert post_login(client, "regulator").headers["location"] == "/elevators"


def test_logout_clears_cookie(client: TestClient, seeded: None) -> None:
    login(client, "regulator")
    r = client.post("/logout", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert f'{COOKIE_NAME}=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert client.get("/elevators", follow_redirects=False).status_code == 303


def test_anonymous_is_sent_to_login_with_next(client: TestClient, seeded: None) -> None:
    for path in (
        "/elevators?district=%E9%9D%99%E5%AE%89%E5%8C%BA",
        "/elevators/11SHA000001",
        "/units",
        "/units/MU-A",
    ):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        target = urlparse(r.headers["location"])
        assert target.path == "/login"
        assert parse_qs(target.query)["next"] == [path]
    assert client.get("/", follow_redirects=False).headers["location"] == "/elevators"


def test_stale_cookie_redirects_to_login_and_is_cleared(client: TestClient, seeded: None) -> None:
    client.cookies.set(COOKIE_NAME, "not-a-token")
    r = client.get("/elevators", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    assert COOKIE_NAME in r.headers["set-cookie"]


def test_htmx_request_without_login_gets_hx_redirect(client: TestClient, seeded: None) -> None:
    r = client.get(
        "/elevators?q=11",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/elevators?q=1"},
        follow_redirects=False,
    )
    assert r.headers["HX-Redirect"] == "/login?next=%2Felevators%3Fq%3D1"


def test_login_after_redirect_returns_to_page(client: TestClient, seeded: None) -> None:
    r = client.get("/units/MU-A", follow_redirects=True)
    assert 'id="login-form"' in r.text
    assert 'name="next" value="/units/MU-A"' in r.text
    login(client, "regulator", "/units/MU-A")
    assert client.get("/login", follow_redirects=False).headers["location"] == "/elevators"


# ---------------------------------------------------------------- search


def test_search_lists_all_for_regulator(client: TestClient, seeded: None) -> None:
    login(client, "regulator")
    r = client.get("/elevators")
    assert r.status_code == 200
    assert codes_in(r.text) == ["11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"]
    assert 'id="search-form"' in r.text
    assert 'hx-get="/elevators"' in r.text and 'hx-push-url="true"' in r.text
    assert '<label for="q"' in r.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"district": "徐汇区"}, ["11SHB000003", "11SHB000004"]),
        ({"street": "南京西路街道"}, ["11SHA000001", "11SHA000002"]),
        ({"unit": "MU-A"}, ["11SHA000001", "11SHA000002"]),
        ({"unit": "UU-B"}, ["11SHB000003", "11SHB000004"]),
        ({"place_type": "residential"}, ["11SHA000001", "11SHB000004"]),
        ({"kind": "escalator"}, ["11SHB000003"]),
        ({"status": "suspended"}, []),
        ({"age_min": "20"}, ["11SHA000001", "11SHB000004"]),
        ({"age_min": "10", "age_max": "20"}, ["11SHB000003"]),
        ({"q": "100002"}, ["11SHA000002"]),
        ({"q": "某路04"}, ["11SHB000004"]),
        ({"three_no": "no", "district": "静安区"}, ["11SHA000001", "11SHA000002"]),
        ({"district": "静安"}, ["11SHA000001", "11SHA000002"]),  # part of a place's name finds it
        ({"street": "南京西"}, ["11SHA000001", "11SHA000002"]),
        ({"district": "%"}, []),  # taken literally, not as a pattern
        ({"district": "静_区"}, []),
        ({"three_no": "yes"}, []),
        ({"kind": "traction", "district": "徐汇区"}, ["11SHB000004"]),
    ],
)
def test_search_filters_narrow_results(
    client: TestClient, seeded: None, query: dict[str, str], expected: list[str]
) -> None:
    login(client, "regulator")
    r = client.get("/elevators", params=query)
    assert r.status_code == 200
    assert codes_in(r.text) == expected
    assert f'data-total="{len(expected)}"' in r.text


def test_search_empty_selects_and_bad_values_do_not_fail(client: TestClient, seeded: None) -> None:
    """A form submitted without JavaScript sends every field, empty ones included."""
    login(client, "regulator")
    empty = dict.fromkeys(
        ("q", "district", "street", "unit", "place_type", "kind", "status", "age_min", "age_max", "three_no"),
        "",
    )
    r = client.get("/elevators", params=empty)
    assert r.status_code == 200
    assert len(codes_in(r.text)) == 4
    r = client.get("/elevators", params={"kind": "rocket", "age_min": "old", "district": "静安区"})
    assert r.status_code == 200
    assert codes_in(r.text) == ["11SHA000001", "11SHA000002"]
    assert "无效的选项" in r.text
    assert 'aria-invalid="true"' in r.text


def test_search_pagination_keeps_filters(
    client: TestClient, session: Session, clock: FixedClock, seeded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liftwatch.web import registry as web_registry

    monkeypatch.setattr(web_registry, "PAGE_SIZE", 1)
    login(client, "regulator")
    r = client.get("/elevators", params={"district": "静安区"})
    assert codes_in(r.text) == ["11SHA000001"]
    assert 'href="/elevators?district=%E9%9D%99%E5%AE%89%E5%8C%BA&amp;page=2"' in r.text
    r2 = client.get("/elevators", params={"district": "静安区", "page": "2"})
    assert codes_in(r2.text) == ["11SHA000002"]
    assert 'id="page-next"' not in r2.text
    assert 'id="page-prev"' in r2.text


def test_htmx_partial_returns_only_the_table(client: TestClient, seeded: None) -> None:
    login(client, "regulator")
    r = client.get("/elevators", params={"kind": "escalator"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.text.strip()
    assert body.startswith('<section id="results"')
    assert "<html" not in body and 'id="search-form"' not in body and '<nav class="mainnav"' not in body
    assert codes_in(body) == ["11SHB000003"]
    assert "Vary" in r.headers and "HX-Request" in r.headers["Vary"]
    assert r.headers["HX-Push-Url"] == "/elevators?kind=escalator"
    # A history restore after a cache miss wants the whole page.
    full = client.get("/elevators", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in full.text


def test_unit_scoped_user_sees_only_own_elevators(client: TestClient, seeded: None) -> None:
    login(client, "maint_a")
    r = client.get("/elevators")
    assert codes_in(r.text) == ["11SHA000001", "11SHA000002"]


# ---------------------------------------------------------------- elevator file


def test_file_page_shows_facts_and_timeline_newest_first(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    from datetime import timedelta

    clock.advance(timedelta(days=1))
    service.update_elevator(
        session, SYSTEM_ACTOR, "11SHA000001", ElevatorUpdate(maintenance_unit="MU-B"), clock
    )
    clock.advance(timedelta(days=1))
    service.record_event(
        session, SYSTEM_ACTOR, "11SHA000001", EventIn(kind=EventKind.SUSPENSION, summary="门锁检修"), clock
    )
    session.commit()
    login(client, "regulator")  # after the clock moved: tokens expire on the injected clock
    r = client.get("/elevators/11SHA000001")
    assert r.status_code == 200
    html = r.text
    for heading in ("身份信息", "技术参数", "安装位置", "相关单位", "三无情况"):
        assert heading in html
    assert "100001" in html  # rescue code
    assert "曳引与强制驱动电梯" in html and "住宅" in html
    assert "申城电梯工程有限公司" in html and "021-5555B" in html  # the new maintenance unit and its phone
    assert "静安物业管理有限公司" in html
    assert "21.7 年" in html  # age on 2026-11-23 of an elevator commissioned 2005-03-01
    assert 'id="elevator-status"' in html and "停用" in html
    kinds = re.findall(r'<li class="timeline-item[^"]*" data-kind="([^"]+)"', html)
    assert kinds == ["suspension", "maintenance_unit_change", "registration"]
    assert "维保单位变更" in html and "使用登记" in html
    assert "门锁检修" in html
    assert "2005-03-01 08:00" in html  # registration at commissioning, shown in UTC+8


def test_unit_scoped_user_gets_404_page_for_other_units_elevator(client: TestClient, seeded: None) -> None:
    login(client, "maint_a")
    assert client.get("/elevators/11SHA000001").status_code == 200
    r = client.get("/elevators/11SHB000003")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "未找到" in r.text and "不在您的权限范围内" in r.text
    assert "11SHB000003" not in codes_in(r.text)
    assert 'id="current-user"' in r.text  # the nav bar still shows who is signed in
    missing = client.get("/elevators/NOPE00001", headers=HTML)
    assert missing.status_code == 404
    assert missing.text.count("未找到") >= 1


def test_unknown_path_is_html_404_for_browsers_json_for_api(client: TestClient, seeded: None) -> None:
    r = client.get("/nowhere", headers=HTML)
    assert r.status_code == 404
    assert "<html" in r.text
    api = client.get("/api/v1/nowhere", headers=HTML)
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}


# ---------------------------------------------------------------- units


def test_units_list_and_unit_page(client: TestClient, seeded: None) -> None:
    login(client, "regulator")
    r = client.get("/units")
    assert r.status_code == 200
    seeded = {"MU-A", "MU-B", "UU-A", "UU-B", "IB-1", "IN-A"}
    assert set(re.findall(r'<tr data-code="([^"]+)"', r.text)) == seeded
    r = client.get("/units", params={"unit_type": "maintenance"})
    assert set(re.findall(r'<tr data-code="([^"]+)"', r.text)) == {"MU-A", "MU-B"}
    unit = client.get("/units/MU-A")
    assert unit.status_code == 200
    assert "浦江电梯维保有限公司" in unit.text
    assert 'id="unit-elevator-count">2<' in unit.text
    assert 'href="/elevators?unit=MU-A"' in unit.text
    linked = client.get("/elevators?unit=MU-A")
    assert codes_in(linked.text) == ["11SHA000001", "11SHA000002"]


def test_unit_scoped_user_cannot_open_other_unit(client: TestClient, seeded: None) -> None:
    login(client, "owner_b")
    assert set(re.findall(r'<tr data-code="([^"]+)"', client.get("/units").text)) == {"UU-B"}
    assert client.get("/units/UU-A").status_code == 404


# ---------------------------------------------------------------- public page


@pytest.mark.parametrize("code", ["11SHB000003", "100003"])
def test_public_page_needs_no_login(client: TestClient, seeded: None, code: str) -> None:
    r = client.get(f"/p/{code}", follow_redirects=False)
    assert r.status_code == 200
    assert "96333" in r.text
    assert "申城电梯工程有限公司" in r.text and "021-5555B" in r.text
    assert "在用" in r.text
    assert 'id="public-rescue-code">100003<' in r.text
    assert 'id="current-user"' not in r.text
    assert client.get("/p/00000").status_code == 404


# ---------------------------------------------------------------- language


def test_language_switch_changes_labels(client: TestClient, seeded: None) -> None:
    login(client, "regulator")
    zh = client.get("/elevators/11SHB000003")
    assert '<html lang="zh-CN">' in zh.text
    assert "自动扶梯" in zh.text and "使用登记" in zh.text
    r = client.get("/lang/en", params={"next": "/elevators/11SHB000003"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/elevators/11SHB000003"
    assert r.headers["set-cookie"].startswith("lang=en")
    en = client.get("/elevators/11SHB000003")
    assert '<html lang="en">' in en.text
    assert "Escalator" in en.text and "Registration" in en.text and "Timeline (newest first)" in en.text
    assert "自动扶梯" not in en.text and "使用登记" not in en.text
    assert "Regulator" in en.text  # the role in the nav bar
    back = client.get("/lang/zh-CN", params={"next": "https://evil.example/"}, follow_redirects=False)
    assert back.headers["location"] == "/elevators"
    assert "自动扶梯" in client.get("/elevators/11SHB000003").text


def test_unknown_language_is_ignored(client: TestClient, seeded: None) -> None:
    r = client.get("/lang/fr", params={"next": "/login"}, follow_redirects=False)
    assert r.status_code == 303
    assert "set-cookie" not in r.headers
    client.cookies.set("lang", "fr")
    assert '<html lang="zh-CN">' in client.get("/login").text


def test_language_switch_links_point_back_here(client: TestClient, seeded: None) -> None:
    login(client, "regulator")
    r = client.get("/elevators", params={"kind": "escalator"})
    assert 'id="lang-en"' in r.text
    assert 'href="/lang/en?next=%2Felevators%3Fkind%3Descalator"' in r.text


def test_default_language_from_settings(client: TestClient, seeded: None) -> None:
    client.app.state.settings.default_language = "en"  # type: ignore[attr-defined]
    r = client.get("/login")
    assert '<html lang="en">' in r.text and "Sign in" in r.text


# ---------------------------------------------------------------- static


def test_static_assets_are_served(client: TestClient) -> None:
    css = client.get("/static/liftwatch.css")
    assert css.status_code == 200
    assert "Noto Sans CJK SC" in css.text
    htmx = client.get("/static/vendor/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:2000]


def test_record_update_entries_show_translated_field_changes(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    service.update_elevator(
        session, SYSTEM_ACTOR, "11SHA000001", ElevatorUpdate(model="GeN2", rated_load_kg=1350), clock
    )
    session.commit()
    login(client, "regulator")
    html = client.get("/elevators/11SHA000001").text
    assert "型号: — → GeN2" in html
    assert "额定载重量（kg）: 1000 → 1350" in html
    assert "registered as" not in html  # the registration entry needs no English prose
    client.get("/lang/en", follow_redirects=False)
    html = client.get("/elevators/11SHA000001").text
    assert "Model: — → GeN2" in html


def test_search_offers_the_districts_and_streets_in_scope(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    login(client, "owner_b")
    html = client.get("/elevators").text
    assert '<option value="徐汇区">' in html
    assert '<option value="静安区">' not in html  # outside the use unit's scope
    assert '<option value="天平路街道">' in html


def test_large_pages_are_compressed(
    client: TestClient, session: Session, clock: FixedClock, seeded: None
) -> None:
    login(client, "regulator")
    r = client.get("/elevators", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("content-encoding") == "gzip"
    assert "11SHA000001" in r.text  # decoded transparently


def test_the_search_page_exports_the_ledger_in_the_page_language(client: TestClient, seeded: None) -> None:
    login(client, "maint_a")
    page = client.get("/elevators")
    link = re.search(r'id="registry-export"[^>]*href="([^"]+)"', page.text, re.S)
    assert link is not None and "导出台账" in page.text
    href = link[1].replace("&amp;", "&")
    assert href.endswith("format=xlsx&headers=zh")  # no filter: the whole ledger in scope
    r = client.get(href)  # the session cookie opens the API
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(wb["电梯"].iter_rows(values_only=True))
    assert rows[0][0] == "使用登记证编号"
    assert sorted(str(row[0]) for row in rows[1:]) == ["11SHA000001", "11SHA000002"]  # MU-A's own
    client.get("/lang/en", params={"next": "/elevators"})
    english = client.get("/elevators").text
    assert (
        re.search(r'id="registry-export"[^>]*headers=en"', english, re.S) and "Export the ledger" in english
    )


def export_href(html: str) -> str:
    link = re.search(r'<a[^>]*id="registry-export"[^>]*href="([^"]+)"', html, re.S)
    assert link is not None, "no export link"
    return link[1].replace("&amp;", "&")


def test_the_export_takes_the_searchs_filters(client: TestClient, seeded: None) -> None:
    """The export link carries the search's filters in the API's spelling, on the page and in each result
    list (swapped out of band: the link sits outside it), and the file holds what the list shows; a
    refused field is left out of both; ``three_no=true`` (the API's spelling) filters the page too."""
    login(client, "regulator")
    query = {"district": "静安区", "three_no": "no", "age_min": "20", "kind": "rocket"}
    page = client.get("/elevators", params=query)
    href = export_href(page.text)
    assert parse_qs(urlparse(href).query) == {
        "format": ["xlsx"],
        "headers": ["zh"],
        "district": ["静安区"],
        "age_min": ["20"],
        "three_no": ["false"],
    }
    listed = codes_in(page.text)
    assert listed == ["11SHA000001"]
    wb = load_workbook(io.BytesIO(client.get(href).content), read_only=True)
    assert [str(r[0]) for r in list(wb["电梯"].iter_rows(values_only=True))[1:]] == listed
    partial = client.get("/elevators", params={"district": "徐汇区"}, headers={"HX-Request": "true"})
    assert 'hx-swap-oob="true"' in partial.text
    assert parse_qs(urlparse(export_href(partial.text)).query)["district"] == ["徐汇区"]
    assert "hx-swap-oob" not in page.text  # the whole page has the link once, in place
    assert page.text.count('id="registry-export"') == 1
    api_spelling = client.get("/elevators", params={"three_no": "true"})
    assert codes_in(api_spelling.text) == [] and "无效的选项" not in api_spelling.text
