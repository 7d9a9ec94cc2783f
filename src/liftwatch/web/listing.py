"""Helpers the regulator's list pages share (the overdue lists, the registers): a filter read from the
query string, an elevator's address on one line."""

from __future__ import annotations

from fastapi import Request

from liftwatch.registry import queries as registry

TEXT_MAX = 64


def param(request: Request, name: str) -> str:
    """A query-string filter, trimmed and cut to ``TEXT_MAX`` characters ("" when absent)."""
    return request.query_params.get(name, "").strip()[:TEXT_MAX]


def address(place: registry.Place | None) -> str:
    """District · street · address of a place ("" when unknown)."""
    return " · ".join(x for x in (place.district, place.street, place.address) if x) if place else ""
