"""Validated input types shared by every schema and route, so no input reaches the database that it would
refuse with a server error: integers beyond a 32-bit column, and control characters (PostgreSQL stores
no NUL in text; the others break exports and make no sense in a name or a code).

Use them for request bodies (``SingleLine``, ``Text``, ``DbInt``) and for path and query parameters
(``PathCode``, ``QueryStr``, ``DbId``, ``PageNo``, ``PageSize``)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from annotated_types import Interval, MaxLen
from pydantic import AfterValidator, BaseModel, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

DB_INT_MAX = 2**31 - 1  # INTEGER on PostgreSQL (and what we promise on SQLite)
DB_INT_MIN = -(2**31)
PAGE_MAX = 1_000_000

# C0 control characters other than tab, line feed and carriage return (and DEL): never meaningful text
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# ... and in a single-line value (a code, a name) tab and line breaks are not meaningful either
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f]")
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def _describe(ch: str) -> str:
    return "a NUL byte" if ch == "\x00" else f"the control character U+{ord(ch):04X}"


def check_line(value: str) -> str:
    """Refuse control characters (NUL included) in a one-line value."""
    m = _CONTROL_LINE.search(value)
    if m:
        raise ValueError(f"must not contain {_describe(m.group())}")
    return value


def check_text(value: str) -> str:
    """Refuse control characters other than tab and line breaks in free text."""
    m = _CONTROL_TEXT.search(value)
    if m:
        raise ValueError(f"must not contain {_describe(m.group())}")
    return value


class _Pattern:
    """Adds the pattern to the JSON schema only: the validator gives the clearer message, and API clients
    (and schemathesis) learn which strings are refused."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out: dict[str, Any] = handler(schema)
        out.setdefault("pattern", self.pattern)
        return out


SingleLine = Annotated[str, AfterValidator(check_line), _Pattern(LINE_PATTERN)]
"""A code, name, phone number: no control characters at all."""

Text = Annotated[str, AfterValidator(check_text), _Pattern(TEXT_PATTERN)]
"""Free text (notes, summaries): tab and line breaks allowed, other control characters not."""

DbInt = Annotated[int, Interval(ge=DB_INT_MIN, le=DB_INT_MAX)]
"""Any integer stored in an INTEGER column."""

DbId = Annotated[int, Interval(ge=1, le=DB_INT_MAX)]
"""A row id (path parameter or reference)."""

PageNo = Annotated[int, Interval(ge=1, le=PAGE_MAX)]
PageSize = Annotated[int, Interval(ge=1, le=PAGE_MAX)]

PathCode = Annotated[str, MaxLen(100), AfterValidator(check_line), _Pattern(LINE_PATTERN)]
"""A code in a URL path (registration code, unit code, key prefix)."""

QueryStr = Annotated[str, MaxLen(200), AfterValidator(check_line), _Pattern(LINE_PATTERN)]
"""A filter in a query string."""


# ---------------------------------------------------------------- the error shape, for OpenAPI


class FieldErrorOut(BaseModel):
    field: str = Field(description="the field at fault, dotted for nested ones ('' when none)")
    message: str


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer of the API: a sentence and, for invalid input, one entry per field."""

    detail: str
    errors: list[FieldErrorOut] = Field(default_factory=list)


_DESCRIPTIONS = {
    400: "malformed request",
    401: "not signed in, or the token or key is not valid",
    403: "signed in, but the role may not do this",
    404: "not found, or outside the caller's scope",
    409: "conflicts with the current state",
    413: "request or file too large",
    422: "invalid input; each error names its field",
    429: "too many attempts; retry later",
    503: "a service the request needs is not available; retry later",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting the real error shape for the given status codes."""
    return {code: {"model": ErrorOut, "description": _DESCRIPTIONS[code]} for code in codes}


# on every route (the app's own): what any request can meet
ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429)
