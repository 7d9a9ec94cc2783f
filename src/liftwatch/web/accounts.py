"""Admin pages for accounts: gateway API keys (网关密钥).

An admin sees every gateway key with its last use, creates one for a gateway account (the whole key is on
the answer to that form only: the database keeps its hash) and revokes one. Who may do this is decided by
``accounts.service`` (admins only); other roles get its 403 as the error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from liftwatch.accounts import service
from liftwatch.accounts.actor import Actor
from liftwatch.accounts.schemas import ApiKeyCreate, ApiKeyOut
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import InvalidInput
from liftwatch.deps import ClockDep, SessionDep
from liftwatch.web.templating import PageActorDep, PageRoute, is_partial, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = "/admin/api-keys"
VALIDITY_DAYS = (30, 90, 180, 365)  # the form's choices besides "until revoked"
NAME_MAX = 120
NO_STORE = {"Cache-Control": "no-store"}
# the form's message for each field the service may refuse
_FIELD_ERRORS = {
    "username": "apikeys.invalid_account",
    "name": "apikeys.name_required",
    "expires_at": "apikeys.invalid_validity",
}


@dataclass
class KeyForm:
    """The create form as typed, with an i18n key per wrong field."""

    username: str = ""
    name: str = ""
    days: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def validate(self, accounts: set[str]) -> None:
        if self.username not in accounts:
            self.errors["username"] = "apikeys.invalid_account"
        if not self.name:
            self.errors["name"] = "apikeys.name_required"
        elif len(self.name) > NAME_MAX:
            self.errors["name"] = "apikeys.name_too_long"
        if self.days and self.days not in {str(d) for d in VALIDITY_DAYS}:
            self.errors["days"] = "apikeys.invalid_validity"

    def expires_at(self, now: datetime) -> datetime | None:
        return now + timedelta(days=int(self.days)) if self.days else None


@dataclass(frozen=True)
class KeyRow:
    key: ApiKeyOut
    state: str  # active, expired, revoked


def _state(key: ApiKeyOut, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and as_utc(key.expires_at) <= now:
        return "expired"
    return "active"


def _rows(session: Session, actor: Actor, clock: Clock) -> list[KeyRow]:
    now = clock.now()
    return [KeyRow(k, _state(k, now)) for k in service.list_api_keys(session, actor)]


def _page(
    request: Request,
    actor: Actor,
    session: Session,
    clock: Clock,
    form: KeyForm | None = None,
    created: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "rows": _rows(session, actor, clock),
        "accounts": service.gateway_accounts(session, actor),
        "form": form or KeyForm(),
        "validity_days": VALIDITY_DAYS,
        "created": created,
    }
    return render(
        request, "accounts/api_keys.html", context, actor=actor, status_code=status_code, headers=NO_STORE
    )


@router.get(PAGE, response_class=HTMLResponse)
def api_keys_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    """Every gateway key (prefix, account, last use, state) and the form for a new one."""
    return _page(request, actor, session, clock)


@router.post(PAGE, response_class=HTMLResponse)
def create_api_key(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    username: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Create a key and show it this once (the answer is not cached; reloading would make another)."""
    accounts = {a.username for a in service.gateway_accounts(session, actor)}
    form = KeyForm(username=username.strip(), name=name.strip(), days=days.strip())
    form.validate(accounts)
    if not form.errors:
        try:
            data = ApiKeyCreate(
                username=form.username, name=form.name, expires_at=form.expires_at(clock.now())
            )
            new = service.create_api_key(session, actor, data, clock)
        except InvalidInput as exc:
            form.errors.update({e.field: _FIELD_ERRORS.get(e.field, "apikeys.invalid") for e in exc.errors})
        except ValidationError as exc:
            for err in exc.errors():
                name_ = str(err["loc"][0]) if err["loc"] else ""
                form.errors[name_] = _FIELD_ERRORS.get(name_, "apikeys.invalid")
        else:
            created = service.api_key_created(session, new)
            session.commit()
            return _page(request, actor, session, clock, created=created)
    return _page(request, actor, session, clock, form=form, status_code=422)


@router.post(PAGE + "/{prefix}/revoke", response_class=HTMLResponse)
def revoke_api_key(
    request: Request, prefix: str, actor: PageActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    """Revoke at once; htmx gets the refreshed table, a plain form post goes back to the page."""
    service.revoke_api_key(session, actor, prefix, clock)
    session.commit()
    if is_partial(request):
        context = {"rows": _rows(session, actor, clock)}
        return render(request, "accounts/_api_keys.html", context, actor=actor, headers=NO_STORE)
    return RedirectResponse(PAGE, status_code=303)
