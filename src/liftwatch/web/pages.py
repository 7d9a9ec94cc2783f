"""Web pages. (Filled in by the web work; this stub keeps the app importable.)"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from liftwatch.core.errors import DomainError


def install(app: FastAPI) -> None:
    pass


def render_error(request: Request, exc: DomainError) -> HTMLResponse:
    return HTMLResponse(f"<h1>{exc.status_code}</h1><p>{exc.message}</p>", status_code=exc.status_code)
