"""Domain errors. Services raise these; the HTTP edge maps them to status codes (404, 403, 409, 422)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: list[FieldError] = errors or []


class NotFound(DomainError):
    """Missing, or outside the caller's scope: both look the same so scope does not leak existence."""

    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Unauthorized(DomainError):
    status_code = 401


class Conflict(DomainError):
    status_code = 409


class InvalidInput(DomainError):
    """One or more fields are wrong; each error names the field."""

    status_code = 422

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        errs = [errors] if isinstance(errors, FieldError) else errors
        msg = "; ".join(f"{e.field}: {e.message}" for e in errs)
        super().__init__(msg, errs)


def clean_text(value: str, field: str, limit: int, required: bool = True) -> str:
    """``value`` with its runs of white space made one space, or 422 naming ``field``: empty when required,
    or longer than ``limit`` characters (a service's own check of text typed in a form or sent raw)."""
    text = " ".join(value.split())
    if required and not text:
        raise InvalidInput(FieldError(field, "must not be empty"))
    if len(text) > limit:
        raise InvalidInput(FieldError(field, f"at most {limit} characters, got {len(text)}"))
    return text
