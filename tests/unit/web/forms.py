"""Posting the pages' forms the way a browser does: with the CSRF token the page carries."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from liftwatch.deps import COOKIE_NAME
from tests.factories import PASSWORD

FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def login_token(client: TestClient) -> str:
    """The sign-in form's token (the GET also gives the client the nonce cookie it is bound to)."""
    client.cookies.delete(COOKIE_NAME)  # a signed-in browser is sent on from /login
    client.headers.pop("X-CSRF-Token", None)  # the previous session's, from web_login
    page = client.get("/login", follow_redirects=False)
    found = FIELD.search(page.text)
    assert found, f"no CSRF token on the login page ({page.status_code})"
    return found.group(1)


def post_login(client: TestClient, username: str, password: str = PASSWORD, **fields: Any) -> httpx.Response:
    """POST /login as the login page's form does; ``fields`` adds ``next`` or overrides the token."""
    data = {"username": username, "password": password, "csrf_token": login_token(client), **fields}
    response: httpx.Response = client.post("/login", data=data, follow_redirects=False)
    return response


def page_token(client: TestClient, path: str = "/elevators") -> str:
    """The signed-in session's token, as a page shows it in its ``csrf-token`` meta tag."""
    found = META.search(client.get(path).text)
    assert found, "no CSRF token on the page: not signed in?"
    return found.group(1)


def web_login(client: TestClient, username: str, password: str = PASSWORD, next_: str = "") -> None:
    """Sign in through the form and send the session's CSRF token with every later request (as htmx
    does from the page's ``hx-headers``)."""
    r = post_login(client, username, password, next=next_)
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = page_token(client)
