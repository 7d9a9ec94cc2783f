"""The web shell: sign-in and sign-out, the language switch, static files, and the error pages.

``install(app)`` mounts every page router; ``render_error`` is the HTML face of a domain error, used by
the application's exception handler for browsers.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from liftwatch.accounts.actor import Role
from liftwatch.accounts.service import actor_for, authenticate, issue_token, revoke_token
from liftwatch.core import csrf
from liftwatch.core.config import LANGUAGES
from liftwatch.core.security import decode_token
from liftwatch.core.throttle import LoginThrottle, Throttled
from liftwatch.deps import COOKIE_NAME, ClockDep, SessionDep, SettingsDep
from liftwatch.web import (
    applications,
    complaints,
    console,
    costs,
    crew,
    crews,
    dashboard,
    hazards,
    inspection,
    insurance,
    maintenance,
    monitor,
    oversight,
    parts,
    people,
    public,
    ratings,
    registers,
    registry,
    registry_edit,
    registry_import,
    report_files,
    reports,
    risk,
    users,
)
from liftwatch.web.templating import (
    DEFAULT_NEXT,
    LANG_COOKIE,
    STATIC_DIR,
    LoginRequired,
    PageRoute,
    city_time,
    error_page,
    page_actor,
    render,
    render_error,
    request_language,
    safe_next,
    translate,
)

__all__ = ["install", "render_error"]

log = logging.getLogger(__name__)

# htmx and Leaflet come from npm: `make setup` (and the wheel build, setup.py) copies them into
# static/vendor, which is never committed; /static serves them like our own files.
HTMX_PATH = STATIC_DIR / "vendor" / "htmx.min.js"
LANG_COOKIE_SECONDS = 365 * 24 * 3600

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: where a role lands after signing in with no page asked for, when not the elevator list (DEFAULT_NEXT):
#: an insurer sees no elevator outside its policies, so the registry's list would be empty
ROLE_HOME = {Role.INSURER: "/insurance"}


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(DEFAULT_NEXT, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep, settings: SettingsDep, next: str = "") -> Response:
    target = safe_next(next)
    if request.cookies.get(COOKIE_NAME):
        try:
            page_actor(request, session, settings)
        except LoginRequired:
            pass
        else:
            return RedirectResponse(target, status_code=303)
    return render(request, "login.html", {"next": target, "username": "", "error": None})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(csrf.require_login_csrf)])
def login_submit(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password and set the same JWT the API issues, in an HttpOnly, SameSite=Lax cookie."""
    target = safe_next(next)
    name = username.strip()
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    # the account as the accounts service returns it, Throttled, or None (nothing typed, or refused)
    user = (
        throttle.attempt(name, address, clock.now(), lambda: authenticate(session, name, password))
        if name and password
        else None
    )
    if isinstance(user, Throttled):
        # the template shows t(error); an already translated text is not a key and passes through as is
        when = city_time(user.until, "%H:%M:%S")
        text = translate(
            f"login.throttled_{user.scope}", request_language(request), seconds=user.retry_after, time=when
        )
        context = {"next": target, "username": name, "error": text}
        headers = {"Retry-After": str(user.retry_after)}
        return render(request, "login.html", context, status_code=429, headers=headers)
    if user is None:
        context = {"next": target, "username": username.strip(), "error": "login.error"}
        return render(request, "login.html", context, status_code=401)
    token = issue_token(user, request.app.state.secret_key, clock.now(), settings.token_minutes)
    role = actor_for(user).role
    log.info("web sign-in: %s (%s)", user.username, role.value)
    if not next.strip():  # no page asked for: the role's own first page
        target = ROLE_HOME.get(role, target)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.token_minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    csrf_token: csrf.SubmittedTokenDep,
) -> RedirectResponse:
    """Sign out: revoke the session's token (refused from now on, wherever a copy of it is) and drop the
    cookie. A live session must pass the CSRF checks, so another site cannot sign the user out; a stale
    cookie is just dropped."""
    cookie = request.cookies.get(COOKIE_NAME)
    claims = decode_token(cookie, request.app.state.secret_key, clock.now()) if cookie else None
    if claims is not None:
        jti = claims.get("jti")
        csrf.check_session_request(request, jti if isinstance(jti, str) else None, csrf_token)
        revoke_token(session, claims, clock.now())
        session.commit()
        log.info("web sign-out: %s", claims.get("sub"))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, settings: SettingsDep, next: str = "") -> RedirectResponse:
    """Remember the language in a cookie and go back to the page the switch was on."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_SECONDS,
            path="/",
            samesite="lax",
            secure=settings.cookie_secure,
        )
    return response


def install(app: FastAPI) -> None:
    """Add the pages, static files and the HTML face of HTTP errors to ``app``."""
    if not HTMX_PATH.is_file():
        log.warning("htmx not found at %s; pages refresh without it (run `make setup`)", HTMX_PATH)
    app.include_router(router)
    app.include_router(registry_edit.router)  # before registry's: /units/new is not the unit "new"
    app.include_router(registry.router)
    app.include_router(registry_import.router)
    app.include_router(users.router)
    app.include_router(monitor.router)
    app.include_router(dashboard.router)
    app.include_router(console.router)
    app.include_router(crew.router)
    app.include_router(crews.router)
    app.include_router(report_files.router)
    app.include_router(reports.router)
    app.include_router(maintenance.router)
    app.include_router(inspection.router)
    app.include_router(oversight.router)
    app.include_router(registers.router)
    app.include_router(risk.router)
    app.include_router(ratings.router)
    app.include_router(hazards.router)
    app.include_router(insurance.router)
    app.include_router(costs.router)
    app.include_router(parts.router)
    app.include_router(people.router)
    app.include_router(applications.router)
    app.include_router(complaints.router)
    app.include_router(public.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    async def html_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return await http_exception_handler(request, exc)
        return error_page(request, exc.status_code, str(exc.detail))

    app.add_exception_handler(StarletteHTTPException, html_http_error)
