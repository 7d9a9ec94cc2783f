"""One route table per test process, not one per app.

FastAPI 0.165 builds an app's route table on its first request: for each of our ~155 routes a dependant
and a pydantic adapter per parameter and response model, 0.5-0.8 s an app. The suite makes an app per test
(its own settings and database) from the same module-level routers, so that build was most of a page
test's time. ``install`` memoises ``_EffectiveRouteContext.from_api_route`` on the route and its include
context: the same router included the same way gives the same route, whichever app includes it. The
include context's ``dependency_overrides_provider`` (the app) is left out of the key; nothing here uses
``app.dependency_overrides`` (``test_nothing_overrides_dependencies`` keeps it so).

It leans on a private class of the pinned FastAPI, so it applies to that version only: another version
runs the suite uncached (slower, never wrong), and ``test_the_route_cache_applies_to_the_pinned_fastapi``
says it is time to look again."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import fastapi
from fastapi import routing

VERSION = "0.165.0"
_lock = threading.Lock()
# id(original route) -> [(the route, its include context without the app, the built context)]; the route
# is held so that its id is never reused by another object while it is a key
_built: dict[int, list[tuple[Any, Any, Any]]] = {}
installed = False


def install() -> bool:
    """Memoise the per-app route build, on the pinned FastAPI only; whether it applies."""
    global installed
    effective = getattr(routing, "_EffectiveRouteContext", None)
    if installed or fastapi.__version__ != VERSION or effective is None:
        return installed
    build = effective.from_api_route.__func__

    def from_api_route(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        key = dataclasses.replace(include_context, dependency_overrides_provider=None)
        with _lock:
            for route, context, built in _built.get(id(original_route), ()):
                if route is original_route and context == key:
                    return built
        built = build(cls, original_route=original_route, include_context=include_context)
        with _lock:
            _built.setdefault(id(original_route), []).append((original_route, key, built))
        return built

    effective.from_api_route = classmethod(from_api_route)
    installed = True
    return True
