"""What every page shares: the Jinja2 environment, the request's language and the words of the page (the
domains' label tables and the gettext catalogues of page text), the city's time zone, the signed-in actor,
the error page, and a route class that turns domain errors into HTML pages (not the API's JSON)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from liftwatch.accounts import labels as accounts_labels
from liftwatch.accounts.actor import Actor, Role
from liftwatch.applications import labels as applications_labels
from liftwatch.assessment import labels as assessment_labels
from liftwatch.complaints import labels as complaints_labels
from liftwatch.core import csrf
from liftwatch.core.clock import as_utc
from liftwatch.core.config import Settings, city_tz, zone
from liftwatch.core.errors import DomainError, Unauthorized
from liftwatch.core.i18n import Labels, LabelSet, PageText, normalise_language
from liftwatch.core.security import decode_token
from liftwatch.costs import labels as costs_labels
from liftwatch.deps import COOKIE_NAME, SessionDep, SettingsDep, optional_actor
from liftwatch.hazards import labels as hazards_labels
from liftwatch.inspection import labels as inspection_labels
from liftwatch.insurance import labels as insurance_labels
from liftwatch.maintenance import labels as maintenance_labels
from liftwatch.parts import labels as parts_labels
from liftwatch.people import labels as people_labels
from liftwatch.ratings import labels as ratings_labels
from liftwatch.registry import labels as registry_labels
from liftwatch.rescue import labels as rescue_labels
from liftwatch.risk import labels as risk_labels
from liftwatch.telemetry import labels as telemetry_labels

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
LOCALE_DIR = WEB_DIR.parent / "locale"
LANG_COOKIE = "lang"
DEFAULT_NEXT = "/elevators"


# ---------------------------------------------------------------- words


def N_(key: str) -> str:
    """Mark a page-text key that code hands to a template or to :func:`translate` later, so
    ``pybabel extract`` keeps it in the catalogues."""
    return key


#: Page-text keys that other modules name in code and hand to a template or to :func:`translate` (``core``
#: may not know the web's catalogue; the web modules keep their plain strings).
CODE_KEYS = (
    N_("csrf.origin"),
    N_("csrf.token"),
    N_("csrf.login"),
    N_("login.error"),
    N_("login.throttled_account"),
    N_("login.throttled_address"),
    N_("login.throttled_busy"),
    N_("search.invalid_choice"),
    N_("search.invalid_number"),
    N_("console.today"),
    N_("console.last_30_days"),
    N_("console.invalid_persons"),
    N_("console.too_long"),
    N_("apikeys.invalid_account"),
    N_("apikeys.name_required"),
    N_("apikeys.name_too_long"),
    N_("apikeys.invalid_validity"),
    N_("apikeys.invalid"),
)
#: The heading of each status code the error page names.
ERROR_HEADINGS = {
    400: N_("error.400"),
    401: N_("error.401"),
    403: N_("error.403"),
    404: N_("error.404"),
    405: N_("error.405"),
    409: N_("error.409"),
    422: N_("error.422"),
}


@dataclass
class PageForm:
    """A page's form as typed (kept to show back) and its errors: field -> message key ("" for the form as
    a whole); ``which`` names the form when a page holds several."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    which: str = ""


#: Page text (gettext catalogues under ``liftwatch/locale``).
PAGE_TEXT = PageText(LOCALE_DIR)


def _timeline_events() -> Labels:
    """The elevator file's entry kinds: the registry's own, and rescue's as ``incident_<kind>``."""
    rescue_entries = {f"incident_{k}": v for k, v in rescue_labels.INCIDENT_EVENT.entries.items()}
    maintenance_entries = maintenance_labels.FILE_ENTRY.entries
    inspection_entries = inspection_labels.FILE_ENTRY.entries
    hazard_entries = hazards_labels.FILE_ENTRY.entries
    complaint_entries = complaints_labels.FILE_ENTRY.entries
    return Labels(
        "event",
        {
            **registry_labels.EVENT_KIND.entries,
            **rescue_entries,
            **maintenance_entries,
            **inspection_entries,
            **hazard_entries,
            **complaint_entries,
            **assessment_labels.FILE_ENTRY.entries,
            **parts_labels.FILE_ENTRY.entries,
            **applications_labels.FILE_ENTRY.entries,
        },
    )


#: Every domain's label tables, by the name pages use (``label('kind', value)``).
LABELS = LabelSet.of(
    *accounts_labels.TABLES,
    *(t for t in registry_labels.TABLES if t is not registry_labels.EVENT_KIND),
    _timeline_events(),
    *telemetry_labels.TABLES,
    *rescue_labels.TABLES,
    *maintenance_labels.TABLES,
    maintenance_labels.INTERVAL,
    maintenance_labels.MAINTENANCE_MODEL,
    *inspection_labels.TABLES,
    *hazards_labels.TABLES,
    *complaints_labels.TABLES,
    *costs_labels.TABLES,
    *parts_labels.TABLES,
    *people_labels.TABLES,
    *applications_labels.TABLES,
    *assessment_labels.TABLES,
    *risk_labels.TABLES,
    *ratings_labels.TABLES,
    *insurance_labels.TABLES,
)


def translate(key: str, lang: str, **values: object) -> str:
    """Page text of ``key`` in ``lang`` with ``{name}`` placeholders filled (see :class:`PageText`)."""
    return PAGE_TEXT.gettext(lang, key, **values)


def label(table: str, value: str | None, lang: str) -> str:
    """A domain's label of a stored value, e.g. ``label("kind", "escalator", "en")``."""
    return LABELS.label(table, value, lang)


# ---------------------------------------------------------------- the city's time on screen

_DEFAULT_TZ = zone(str(Settings.model_fields["timezone"].default))
# The time zone of the request being served: set by PageRoute (and the page context) from the app's
# settings, so helpers deep in a page module need not carry the request.
_screen_tz: ContextVar[tzinfo] = ContextVar("screen_tz", default=_DEFAULT_TZ)


def screen_tz() -> tzinfo:
    """The city's time zone (``LIFTWATCH_TIMEZONE``) of the page being served."""
    return _screen_tz.get()


def use_city_tz(request: Request) -> None:
    """Show this request's times in its app's city time zone (``Settings.timezone``)."""
    _screen_tz.set(city_tz(request.app.state.settings))


def city_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored instant in the city's local time; SQLite hands back naive UTC values."""
    if value is None:
        return ""
    return as_utc(value).astimezone(screen_tz()).strftime(fmt)


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
    """The ``dt`` filter: a stored instant in the city's local time, to the minute."""
    return city_time(value)


def format_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _shell_context(request: Request) -> dict[str, Any]:
    lang = request_language(request)
    use_city_tz(request)
    translations = PAGE_TEXT.translations(lang)

    def t(key: str, **values: object) -> str:
        return PAGE_TEXT.gettext(lang, key, **values)

    def tn(singular: str, plural: str, n: float, **values: object) -> str:
        return PAGE_TEXT.ngettext(lang, singular, plural, n, **values)

    def enum_label(table: str, value: str | None) -> str:
        return LABELS.label(table, value, lang)

    here = current_path(request)
    return {
        "lang": lang,
        "t": t,
        "tn": tn,
        # jinja2.ext.i18n's names, for {% trans %} blocks
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "_": translations.gettext,
        "error_headings": ERROR_HEADINGS,
        "csrf_token": lambda: csrf_token_for(request),
        "login_csrf_token": lambda: login_csrf_token_for(request),
        "label": enum_label,
        "here": here,
        "lang_urls": {code: f"/lang/{code}?next={quote(here, safe='')}" for code in ("zh-CN", "en")},
    }


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_shell_context])
templates.env.add_extension("jinja2.ext.i18n")
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
            use_city_tz(request)
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
