"""The ASGI application: API routes, web pages and the error shape every client sees."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError

from liftwatch import __version__
from liftwatch.accounts.api import router as accounts_router
from liftwatch.analytics.api import router as analytics_router
from liftwatch.applications.api import router as applications_router
from liftwatch.assessment.api import router as assessment_router
from liftwatch.complaints.api import router as complaints_router
from liftwatch.core.clock import Clock, SystemClock
from liftwatch.core.config import Settings, city_tz, get_settings
from liftwatch.core.db import make_engine, make_session_factory
from liftwatch.core.errors import DomainError, Unauthorized
from liftwatch.core.headers import SecurityHeadersMiddleware
from liftwatch.core.limits import BodyLimitMiddleware, body_limits
from liftwatch.core.probes import BlockingCheck
from liftwatch.core.ratelimit import PublicRateLimitMiddleware
from liftwatch.core.throttle import LoginThrottle
from liftwatch.core.types import ERRORS
from liftwatch.costs.api import router as costs_router
from liftwatch.deps import COOKIE_NAME
from liftwatch.hazards.api import router as hazards_router
from liftwatch.inspection.api import router as inspection_router
from liftwatch.insurance.api import router as insurance_router
from liftwatch.maintenance.api import router as maintenance_router
from liftwatch.parts.api import router as parts_router
from liftwatch.people.api import router as people_router
from liftwatch.ratings.api import router as ratings_router
from liftwatch.registry.api import router as registry_router
from liftwatch.rescue.api import router as rescue_router
from liftwatch.rescue.service import RescueSettings
from liftwatch.risk.api import router as risk_router
from liftwatch.telemetry.api import metrics_router
from liftwatch.telemetry.api import router as telemetry_router

_log = logging.getLogger(__name__)
_READY_BODY = {
    "application/json": {"schema": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header", "cookie")]
    return ".".join(parts) or str(loc[-1] if loc else "")


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Embedded mode runs every worker here (``liftwatch.workers``); with NATS and no embedded
        pipeline, the web process still ingests the HTTP gateway endpoint onto the stream."""
        from liftwatch.workers import Pipeline

        pipeline: Pipeline | None = None
        if settings.pipeline:
            pipeline = Pipeline(settings, app.state.session_factory, app.state.clock)
        elif settings.bus_url:
            pipeline = Pipeline(
                settings,
                app.state.session_factory,
                app.state.clock,
                roles=frozenset({"ingest"}),
                adapters=False,
            )
        if pipeline is not None:
            await pipeline.start()
            if settings.simulate and pipeline.ingestor is not None:
                from liftwatch.sim.live import TerminalHooks, run_live_city

                hooks = TerminalHooks()  # the live crews hold terminals in inspection mode on site
                pipeline.spawn(
                    run_live_city(
                        pipeline.ingestor,
                        settings.resolved_database_url,
                        pipeline.stopping,
                        pipeline.detector_settings,
                        fault_scale=settings.simulate_fault_scale,
                        tz=city_tz(settings),
                        hooks=hooks,
                    )
                )
                if settings.simulate_visits_per_hour > 0:
                    from liftwatch.sim.live_maintenance import run_live_crews

                    pipeline.spawn(
                        run_live_crews(
                            app.state.session_factory, app.state.clock, pipeline.stopping, hooks, settings
                        )
                    )
                if pipeline.rescue is not None:
                    from liftwatch.sim.crews import run_demo_crews

                    pipeline.spawn(
                        run_demo_crews(
                            app.state.session_factory,
                            app.state.clock,
                            pipeline.stopping,
                            settings=app.state.rescue_settings,
                        )
                    )
        app.state.pipeline = pipeline
        try:
            yield
        finally:
            if pipeline is not None:
                await pipeline.stop()

    app = FastAPI(
        title="liftwatch",
        version=__version__,
        description="Smart-elevator (智慧电梯) and 96333 emergency-rescue platform",
        openapi_url="/openapi.json",
        lifespan=lifespan,
        responses=ERRORS,  # the real error shape on every route (FastAPI's default 422 is not it)
    )
    # the live pages poll every few seconds; their fragments (hundreds of rows) compress ~10x
    app.add_middleware(GZipMiddleware, minimum_size=4096)
    # bodies are limited while read, before routing and authentication (issue 9); the last added runs
    # first, so the security headers are on every answer, the 413 included
    default_body, body_rules = body_limits(settings)
    app.add_middleware(BodyLimitMiddleware, default=default_body, limits=body_rules)
    # the public's requests (no credentials) per address, before any route or database work (issue 14)
    app.add_middleware(
        PublicRateLimitMiddleware, per_minute=settings.public_requests_per_min, cookie_name=COOKIE_NAME
    )
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.state.login_throttle = LoginThrottle.from_settings(settings)
    app.state.settings = settings
    app.state.rescue_settings = RescueSettings.for_city(settings)  # LIFTWATCH_RESCUE_*, read once here
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.clock = clock or SystemClock()
    app.state.secret_key = settings.resolved_secret_key
    app.state.pipeline = None

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        if request.url.path.startswith("/api/") or not _wants_html(request):
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
            body = {
                "detail": exc.message,
                "errors": [{"field": e.field, "message": e.message} for e in exc.errors],
            }
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        from liftwatch.web.pages import render_error

        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field_name(tuple(e.get("loc", ()))),
                "message": str(e.get("msg", "")).removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        """A body nested too deep for the parser or the validator is the client's error, not ours."""
        body = {
            "detail": "body: nested too deeply",
            "errors": [{"field": "body", "message": "nested too deeply"}],
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        """Last line of defence: a value the database refuses (out of range, NUL in text) is the
        client's error. The schemas should have refused it first; the log says which one did not."""
        _log.warning("database refused a value on %s %s: %s", request.method, request.url.path, exc.orig)
        body = {"detail": "a value is not valid for the database", "errors": []}
        return JSONResponse(body, status_code=422)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    def select_one() -> None:
        with app.state.session_factory() as session:
            session.execute(text("SELECT 1"))

    # one for the process: while a check hangs (a database that stopped answering), probes do not stack
    # up threads behind it
    database_check = BlockingCheck(select_one, timeout_s=2.0)

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "not ready", "content": _READY_BODY}})
    async def readyz() -> JSONResponse:
        """For a load balancer: 503 while the database is unreachable (``SELECT 1`` in a thread, at most
        2 s), the bus the process publishes to does not answer (with LIFTWATCH_BUS_URL), or a part of the
        embedded pipeline cannot make progress. Which part, not why (the reasons are in the log and on
        the workers' own /readyz, which is not public)."""
        database = await database_check.run()
        out: dict[str, object] = {"database": database}
        ready = database
        pipeline = app.state.pipeline
        if pipeline is not None:
            report = pipeline.health()
            parts = {name: bool(part["ready"]) for name, part in report["parts"].items()}
            parts.pop("database")  # checked just now, above
            if settings.bus_url:
                out["bus"] = parts.pop("bus")
            else:
                parts.pop("bus")  # the in-process bus is the process itself
            out["pipeline"] = parts
            ready = ready and report["ready"]
        out["ready"] = ready
        return JSONResponse(out, status_code=200 if ready else 503)

    app.include_router(accounts_router)
    app.include_router(registry_router)
    app.include_router(telemetry_router)
    app.include_router(rescue_router)
    app.include_router(maintenance_router)
    app.include_router(inspection_router)
    app.include_router(hazards_router)
    app.include_router(complaints_router)
    app.include_router(costs_router)
    app.include_router(parts_router)
    app.include_router(people_router)
    app.include_router(applications_router)
    app.include_router(risk_router)
    app.include_router(assessment_router)
    app.include_router(ratings_router)
    app.include_router(insurance_router)
    app.include_router(analytics_router)
    app.include_router(metrics_router)

    from liftwatch.web import accounts as accounts_pages
    from liftwatch.web import pages

    pages.install(app)
    app.include_router(accounts_pages.router)
    return app


def create_served_app() -> FastAPI:
    """The app of one of several web processes (``liftwatch serve --workers N``): a process started by
    uvicorn's supervisor configures its own logging from the settings, as the CLI does for one."""
    from liftwatch.core.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format, settings.log_levels)
    return create_app(settings)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")
