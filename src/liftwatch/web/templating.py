"""What every page shares: the Jinja2 environment, the request's language, the signed-in actor, the
error page, and a route class that turns domain errors into HTML pages (not the API's JSON)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core import csrf
from liftwatch.core.clock import as_utc
from liftwatch.core.errors import DomainError, Unauthorized
from liftwatch.core.i18n import label, normalise_language, translate
from liftwatch.core.security import decode_token
from liftwatch.deps import COOKIE_NAME, SessionDep, SettingsDep, optional_actor

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
LANG_COOKIE = "lang"
DEFAULT_NEXT = "/elevators"
# China has one time zone and no daylight saving time: a fixed UTC+8 needs no tz database.
DISPLAY_TZ = timezone(timedelta(hours=8), "CST")


def request_language(request: Request) -> str:
    """The ``lang`` cookie when it names a supported language, else the configured default."""
    default = normalise_language(request.app.state.settings.default_language)
    return normalise_language(request.cookies.get(LANG_COOKIE), default)


def current_path(request: Request) -> str:
    """The path and query of this request, for ``next`` parameters."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(value: str | None, default: str = DEFAULT_NEXT) -> str:
    """``value`` if it is a local path on this site, else ``default``: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 32 or c == "\\" for c in value):
        return default
    return value


def format_datetime(value: datetime | None) -> str:
    """A stored instant in the city's local time (UTC+8); SQLite hands back naive UTC values."""
    if value is None:
        return ""
    return as_utc(value).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")


def format_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _shell_context(request: Request) -> dict[str, Any]:
    lang = request_language(request)

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    def enum_label(prefix: str, value: str | None) -> str:
        return label(prefix, value, lang)

    here = current_path(request)
    return {
        "lang": lang,
        "t": t,
        "csrf_token": lambda: csrf_token_for(request),
        "login_csrf_token": lambda: login_csrf_token_for(request),
        "label": enum_label,
        "here": here,
        "lang_urls": {code: f"/lang/{code}?next={quote(here, safe='')}" for code in ("zh-CN", "en")},
    }


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_shell_context])
templates.env.filters["dt"] = format_datetime
templates.env.filters["d"] = format_date
templates.env.globals["urlencode"] = urlencode


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page; ``actor`` fills the nav bar (None: nobody signed in)."""
    ctx: dict[str, Any] = {"user": _user_view(actor)}
    ctx.update(context or {})
    response: HTMLResponse = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=headers
    )
    _set_new_nonce(request, response)
    return response


def csrf_token_for(request: Request) -> str:
    """The CSRF token for the forms of this page: bound to the signed-in session (its ``jti``), else the
    login form's (:func:`login_csrf_token_for`)."""
    secret: str = request.app.state.secret_key
    session_cookie = request.cookies.get(COOKIE_NAME)
    if session_cookie:
        claims = decode_token(session_cookie, secret, request.app.state.clock.now())
        jti = claims.get("jti") if claims else None
        if isinstance(jti, str) and jti:
            return csrf.session_token(secret, jti)
    return login_csrf_token_for(request)


def login_csrf_token_for(request: Request) -> str:
    """The sign-in form's token, bound to the browser's login nonce; one is made now when the browser
    has none (:func:`render` then sets its cookie)."""
    secret: str = request.app.state.secret_key
    nonce = request.cookies.get(csrf.NONCE_COOKIE) or getattr(request.state, "csrf_new_nonce", None)
    if not nonce:
        nonce = request.state.csrf_new_nonce = csrf.new_nonce()
    return csrf.login_token(secret, nonce)


def _set_new_nonce(request: Request, response: Response) -> None:
    """Give the browser the login nonce a page's form token was just made from."""
    nonce = getattr(request.state, "csrf_new_nonce", None)
    if nonce:
        response.set_cookie(
            csrf.NONCE_COOKIE,
            nonce,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.cookie_secure,
        )


def _user_view(actor: Actor | None) -> dict[str, str] | None:
    if actor is None or actor.role is Role.PUBLIC:
        return None
    return {"username": actor.username, "role": actor.role.value}


def _user_from_cookie(request: Request) -> dict[str, str] | None:
    """Who the cookie says is signed in, without a database: enough for the nav bar of an error page."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    claims = decode_token(token, request.app.state.secret_key, request.app.state.clock.now())
    if not claims or claims.get("role") not in {r.value for r in Role}:
        return None
    return {"username": str(claims.get("sub", "")), "role": str(claims["role"])}


def render_error(request: Request, exc: DomainError) -> HTMLResponse:
    """The HTML error page for a domain error (403, 404, ...); the API answers JSON instead."""
    if isinstance(exc, csrf.CsrfRefused):
        return error_page(request, exc.status_code, translate(exc.i18n_key, request_language(request)))
    return error_page(request, exc.status_code, exc.message)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    ctx = {"status_code": status_code, "message": message, "user": _user_from_cookie(request)}
    response: HTMLResponse = templates.TemplateResponse(request, "error.html", ctx, status_code=status_code)
    return response


# ---------------------------------------------------------------- sign-in


class LoginRequired(Exception):
    """Raised by :func:`page_actor`; :class:`PageRoute` answers with a redirect to the login page."""


def page_actor(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf_token: csrf.SubmittedTokenDep = None,
) -> Actor:
    """The signed-in actor of a page; no cookie, or a stale (expired, signed-out) one, sends the browser
    to the login page. A form post must carry the page's CSRF token (403 otherwise)."""
    try:
        actor = optional_actor(request, session, settings, csrf_token)
    except Unauthorized as exc:
        raise LoginRequired from exc
    if actor.role is Role.PUBLIC:
        raise LoginRequired
    return actor


PageActorDep = Annotated[Actor, Depends(page_actor)]


def login_redirect(request: Request) -> Response:
    """303 to /login?next=<this page>; an htmx request gets ``HX-Redirect`` so the whole page moves."""
    if request.headers.get("hx-request") == "true":
        current = request.headers.get("hx-current-url", "")
        origin = f"{request.url.scheme}://{request.url.netloc}"
        here = safe_next(current.removeprefix(origin)) if current.startswith(origin) else DEFAULT_NEXT
        response: Response = Response(status_code=200)
        response.headers["HX-Redirect"] = "/login?" + urlencode({"next": here})
    else:
        target = "/login?" + urlencode({"next": safe_next(current_path(request))})
        response = RedirectResponse(target, status_code=303)
    if COOKIE_NAME in request.cookies:
        response.delete_cookie(COOKIE_NAME, path="/")
    return response


class PageRoute(APIRoute):
    """A route whose domain errors render the HTML error page whatever the Accept header says, and whose
    missing sign-in redirects to the login page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except DomainError as exc:
                return render_error(request, exc)

        return page_handler


def is_partial(request: Request) -> bool:
    """An htmx request for a fragment; a history restore after a cache miss wants the whole page."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
