"""CSRF: a cookie-authenticated unsafe request must come from this origin and carry the session's token;
the login form is guarded by its own token; bearer-token and API-key requests are exempt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.core import csrf
from liftwatch.core.clock import FixedClock
from liftwatch.deps import COOKIE_NAME
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import IncidentStatus, Source
from liftwatch.rescue.models import Incident
from liftwatch.web.templating import TEMPLATES_DIR
from tests.factories import PASSWORD, auth, seed
from tests.unit.web.forms import login_token, page_token, post_login, web_login

HX = {"HX-Request": "true"}
OWN = "http://testserver"


@pytest.fixture
def incident(session: Session, clock: FixedClock) -> int:
    seed(session, clock)
    call = rescue.Report("11SHA000001", Source.PHONE)
    inc = rescue.report(session, SYSTEM_ACTOR, call, clock, rescue.RescueSettings()).incident
    session.commit()
    return inc.id


def _status(session: Session, incident_id: int) -> str:
    session.expire_all()
    inc = session.get(Incident, incident_id)
    assert inc is not None
    return inc.status


def _signed_in(client: TestClient) -> str:
    """Sign the operator in and return the session's token, sent only where a test says so."""
    web_login(client, "operator")
    return str(client.headers.pop("X-CSRF-Token"))


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no token at all: a plain cross-site form
        {"X-CSRF-Token": "forged"},
        {"Origin": "http://testserver:8081"},  # same site, another port
        {"Origin": "http://localhost"},  # another host name for the same machine
        {"Origin": "null"},
        {"Referer": "http://testserver:8081/attack.html"},
    ],
    ids=["no-token", "wrong-token", "other-port", "other-host", "null-origin", "foreign-referer"],
)
def test_cross_origin_false_alarm_is_refused_and_changes_nothing(
    client: TestClient, session: Session, incident: int, headers: dict[str, str]
) -> None:
    token = _signed_in(client)
    data = {"note": "forged"}
    if "X-CSRF-Token" not in headers and headers:
        data["csrf_token"] = token  # a right token does not help a request from another origin
    r = client.post(
        f"/console/incidents/{incident}/false-alarm",
        data=data,
        headers={"Accept": "text/html", **headers},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "无权访问" in r.text and ("刷新页面" in r.text or "其他网站" in r.text)
    assert _status(session, incident) != IncidentStatus.FALSE_ALARM.value


def test_the_pages_form_token_and_htmx_header_are_accepted(
    client: TestClient, session: Session, incident: int
) -> None:
    token = _signed_in(client)
    r = client.post(
        f"/console/incidents/{incident}/false-alarm",
        data={"csrf_token": token, "next": "/console", "note": "住户误按"},
        headers={"Origin": OWN, "Referer": f"{OWN}/console"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _status(session, incident) == IncidentStatus.FALSE_ALARM.value
    again = client.post(
        f"/console/incidents/{incident}/false-alarm",
        data={"note": "住户误按"},
        headers={**HX, "X-CSRF-Token": token},
    )
    assert again.status_code == 409  # past the CSRF guard: the incident is closed already


def test_a_token_from_another_session_is_refused(client: TestClient, session: Session, incident: int) -> None:
    old = _signed_in(client)
    fresh = _signed_in(client)  # signed in again: a new session, a new token
    assert old != fresh
    r = client.post(f"/console/incidents/{incident}/false-alarm", headers={**HX, "X-CSRF-Token": old})
    assert r.status_code == 403
    assert _status(session, incident) != IncidentStatus.FALSE_ALARM.value


def test_cookie_authenticated_api_calls_need_the_token_too(
    client: TestClient, session: Session, incident: int
) -> None:
    token = _signed_in(client)
    path = f"/api/v1/rescue/incidents/{incident}/false-alarm"
    r = client.post(path, json={"note": "forged"}, headers={"Origin": "http://testserver:8081"})
    assert r.status_code == 403 and "Origin" in r.json()["detail"]
    r = client.post(path, json={"note": "forged"})
    assert r.status_code == 403 and "CSRF token" in r.json()["detail"]
    assert _status(session, incident) != IncidentStatus.FALSE_ALARM.value
    ok = client.post(path, json={"note": "mine"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200, ok.text


def test_bearer_requests_are_exempt(client: TestClient, session: Session, incident: int) -> None:
    """No browser attaches an Authorization header for another site, so such requests need no token."""
    headers = {**auth(client, Role.RESCUE_OPERATOR), "Origin": "http://elsewhere.example"}
    r = client.post(f"/api/v1/rescue/incidents/{incident}/false-alarm", json={"note": "x"}, headers=headers)
    assert r.status_code == 200, r.text


def test_logout_needs_the_token(client: TestClient, session: Session, incident: int) -> None:
    token = _signed_in(client)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/console", follow_redirects=False).status_code == 200  # still signed in
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303


def test_login_form_is_guarded(client: TestClient, session: Session, incident: int) -> None:
    data = {"username": "operator", "password": PASSWORD}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 403  # no nonce yet
    token = login_token(client)
    r = client.post("/login", data={**data, "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and COOKIE_NAME not in r.cookies
    r = client.post(
        "/login",
        data={**data, "csrf_token": token},
        headers={"Origin": "http://testserver:8081"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and COOKIE_NAME not in r.cookies
    other = TestClient(client.app)  # another browser's nonce does not match this token
    other.get("/login")
    r = other.post("/login", data={**data, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403
    assert post_login(client, "operator").status_code == 303


def test_login_nonce_cookie_is_httponly_and_strict(client: TestClient) -> None:
    r = client.get("/login")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{csrf.NONCE_COOKIE}=") and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert client.get("/login").headers.get("set-cookie") is None  # kept, not renewed on every view


def test_pages_carry_the_token_for_htmx(client: TestClient, session: Session, incident: int) -> None:
    token = _signed_in(client)
    page = client.get("/console").text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page
    assert page_token(client, "/console") == token
    assert re.search(r'name="csrf_token" value="' + re.escape(token), page)


def test_every_post_form_in_the_templates_carries_the_token() -> None:
    forms = 0
    for path in TEMPLATES_DIR.rglob("*.html"):
        for form in re.findall(r"<form\b.*?</form>", path.read_text("utf-8"), flags=re.S):
            if re.search(r'method="post"|hx-(post|put|patch|delete)=', form):
                forms += 1
                if 'id="public-complaint-form"' in form:
                    # the passenger's form has no session to bind a token to: the service's signed form
                    # token (elevator, time) and the Origin check stand in (test_complaint_pages.py)
                    assert 'name="token"' in form, f"{Path(path).name}: the public form without its token"
                    continue
                assert 'name="csrf_token"' in form, f"{Path(path).name}: a POST form without csrf_token"
    assert forms >= 8
