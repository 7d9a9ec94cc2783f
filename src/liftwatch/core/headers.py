"""Security headers on every response.

The pages load their scripts and styles only from this origin (``/static``, htmx and Leaflet served from
node_modules), so the Content-Security-Policy allows scripts from ``'self'`` only: an injected
``<script>`` or event-handler attribute does not run. Inline *styles* stay allowed because htmx adds its
indicator style element and Leaflet positions its panes with style attributes; a style cannot run code.
The interactive API docs (/docs, /redoc) are FastAPI's pages, which load Swagger UI and ReDoc from a CDN
with an inline script, so they get a policy of their own.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liftwatch.core.config import Settings

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(settings: Settings) -> str:
    """The pages' policy; map tiles may come from the origin of LIFTWATCH_MAP_TILE_URL."""
    images = ["'self'", "data:", "blob:"]
    scheme, sep, rest = settings.map_tile_url.partition("://")
    host = rest.split("/", 1)[0].replace("{s}", "*")  # Leaflet's subdomains: a CSP wildcard label
    if sep and scheme in ("http", "https") and host and "{" not in host:
        images.append(f"{scheme}://{host}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Add CSP, X-Frame-Options, X-Content-Type-Options, Referrer-Policy (and HSTS behind HTTPS, i.e.
    when LIFTWATCH_COOKIE_SECURE is true) to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        base = [
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
        ]
        if settings.cookie_secure:
            base.append(("Strict-Transport-Security", HSTS))
        self.pages = [("Content-Security-Policy", content_security_policy(settings)), *base]
        self.docs = [("Content-Security-Policy", DOCS_POLICY), *base]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.docs if scope["path"] in DOCS_PATHS else self.pages

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in headers:
                    out.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
