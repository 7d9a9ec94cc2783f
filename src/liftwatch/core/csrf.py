"""Cross-site request forgery (CSRF) guard for requests authenticated by the session cookie.

A browser sends the session cookie with a form that another site posts, and SameSite=Lax stops only
*cross-site* posts: a page on the same host under another port (same site, other origin) still gets the
cookie sent. So every unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie must pass two
checks:

- **Origin**: ``Origin`` (else ``Referer``) must be this server's own scheme + host + port. A browser
  always sends ``Origin`` with a cross-origin POST; ``null`` (sandboxed or privacy-stripped) is refused.
  When neither header came (an old client, a proxy that strips both), the token alone decides.
- **Token**: ``X-CSRF-Token`` (htmx, set once on ``<body>``) or the form field ``csrf_token`` must be
  the HMAC of the session token's ``jti`` under the secret key: bound to this session, worthless after
  sign-out, and not readable by another origin.

The login form has no session yet: its token is the HMAC of a random nonce kept in a cookie
(:data:`NONCE_COOKIE`), so another site can neither read it nor sign the user in to its own account.
Requests carrying ``Authorization`` or an API key are not cookie-authenticated and skip all this.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from liftwatch.core.errors import Forbidden
from liftwatch.core.security import keyed_digest

HEADER = "x-csrf-token"
FIELD = "csrf_token"
NONCE_COOKIE = "liftwatch_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfRefused(Forbidden):
    """403 for a cookie-authenticated unsafe request that failed the origin or token check.

    ``i18n_key`` names the text the browser's error page shows; the API answers with ``message``."""

    def __init__(self, message: str, i18n_key: str) -> None:
        super().__init__(message)
        self.i18n_key = i18n_key


def is_unsafe(request: Request) -> bool:
    return request.method.upper() in UNSAFE_METHODS


def session_token(secret: str, jti: str) -> str:
    """The CSRF token of the session whose token has id ``jti``."""
    return keyed_digest(secret, "csrf-session", jti)


def login_token(secret: str, nonce: str) -> str:
    """The CSRF token of the login form of the browser holding ``nonce`` in :data:`NONCE_COOKIE`."""
    return keyed_digest(secret, "csrf-login", nonce)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def own_origin(request: Request) -> str:
    """This server's origin as the browser sees it: scheme, host and port of the request's URL (behind a
    TLS-terminating proxy, run uvicorn with ``--proxy-headers`` so the scheme is https)."""
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request) -> None:
    """Refuse an unsafe request whose ``Origin`` (else ``Referer``) is another origin; a different port
    or host name (``localhost`` vs ``127.0.0.1``) is a different origin."""
    expected = own_origin(request)
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.strip().lower() != expected:
            raise CsrfRefused(
                f"cross-origin request refused: Origin '{origin}' is not {expected}", "csrf.origin"
            )
        return
    referer = request.headers.get("referer")
    if referer is not None and _origin_of(referer) != expected:
        raise CsrfRefused(f"cross-origin request refused: Referer is not on {expected}", "csrf.origin")


def _same(expected: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(expected.encode(), submitted.encode())


def check_session_request(request: Request, jti: str | None, submitted: str | None) -> None:
    """The origin and token checks of a cookie-authenticated unsafe request (see the module)."""
    check_origin(request)
    secret: str = request.app.state.secret_key
    if not jti or not _same(session_token(secret, jti), submitted):
        raise CsrfRefused(
            f"missing or wrong CSRF token: send the page's token as the '{FIELD}' form field or the "
            "'X-CSRF-Token' header (reload the page to get a fresh one)",
            "csrf.token",
        )


async def submitted_token(request: Request) -> str | None:
    """The token an unsafe request carries: the header, else the form field. Reading the form here is
    free for the route, as Starlette keeps the parsed form on the request."""
    if not is_unsafe(request):
        return None
    header = request.headers.get(HEADER)
    if header:
        return header.strip()
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


SubmittedTokenDep = Annotated[str | None, Depends(submitted_token)]


def require_login_csrf(request: Request, submitted: SubmittedTokenDep) -> None:
    """Guard the sign-in form (login CSRF: another site signing the user in to the attacker's account)."""
    check_origin(request)
    nonce = request.cookies.get(NONCE_COOKIE)
    if not nonce or not _same(login_token(request.app.state.secret_key, nonce), submitted):
        raise CsrfRefused(
            "the sign-in form has expired or came from another site: reload the login page", "csrf.login"
        )
