"""User administration on screen (用户管理, admins only): every account with its role, unit and state;
create an account, disable or enable one, reset its password, give it another role or unit. Everything
goes through ``accounts.service`` (the checks of the API's ``POST /api/v1/users`` and of the password
policy); a refused field is named beside its input in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from liftwatch.accounts import service
from liftwatch.accounts.actor import Actor, Role
from liftwatch.accounts.schemas import PasswordReset, UserCreate
from liftwatch.core.errors import DomainError, Forbidden
from liftwatch.deps import ClockDep, SessionDep
from liftwatch.web.templating import N_, PageActorDep, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = "/admin/users"
ROLES = [r.value for r in Role if r is not Role.PUBLIC]
#: A refused field's message: by field, then a generic one.
FIELD_ERRORS = {
    "username": N_("users.err_username"),
    "password": N_("users.err_password"),
    "new_password": N_("users.err_password"),
    "role": N_("users.err_role"),
    "unit": N_("users.err_unit"),
    "full_name": N_("users.err_name"),
}
OTHER = N_("users.err_invalid")
TAKEN, SELF = N_("users.err_taken"), N_("users.err_self")
DONE = {
    "created": N_("users.done_created"),
    "disabled": N_("users.done_disabled"),
    "enabled": N_("users.done_enabled"),
    "password": N_("users.done_password"),
    "role": N_("users.done_role"),
}


@dataclass
class UserForm:
    """One of the page's forms as typed, which account it is about ("" for a new one), and its errors."""

    username: str = ""
    full_name: str = ""
    role: str = "regulator"
    unit: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    about: str = ""


def _require(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an admin manages users")


def _errors(form: UserForm, exc: DomainError | ValidationError) -> None:
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            form.errors.setdefault(name, FIELD_ERRORS.get(name, OTHER))
        return
    if "taken" in exc.message:
        form.errors["username"] = TAKEN
    elif "own" in exc.message:
        form.errors[""] = SELF
    for e in exc.errors:
        form.errors.setdefault(e.field, FIELD_ERRORS.get(e.field, OTHER))
    if not form.errors:
        form.errors[""] = OTHER


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    form: UserForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "users": service.list_users(session, actor),
        "roles": ROLES,
        "form": form or UserForm(),
        "done": DONE.get(request.query_params.get("done", ""), ""),
        "done_user": request.query_params.get("user", ""),
        "page_path": PAGE,
    }
    return render(request, "accounts/users.html", context, actor=actor, status_code=status_code)


def _back(done: str, username: str) -> RedirectResponse:
    return RedirectResponse(f"{PAGE}?done={done}&user={username}", status_code=303)


@router.get(PAGE, response_class=HTMLResponse)
def users_page(request: Request, actor: PageActorDep, session: SessionDep) -> HTMLResponse:
    _require(actor)
    return _page(request, session, actor)


@router.post(PAGE, response_class=HTMLResponse)
def create_user(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    username: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """新建用户: as ``POST /api/v1/users`` (the password policy, the unit fitting the role)."""
    _require(actor)
    form = UserForm(username.strip(), full_name.strip(), role, unit.strip())
    if role not in ROLES:
        form.errors["role"] = FIELD_ERRORS["role"]
        return _page(request, session, actor, form, 422)
    try:
        data = UserCreate(
            username=form.username,
            password=password,
            role=Role(role),
            unit=form.unit or None,
            full_name=form.full_name,
        )
        service.create_user(session, actor, data, clock)
    except (DomainError, ValidationError) as exc:
        session.rollback()
        _errors(form, exc)
        return _page(request, session, actor, form, getattr(exc, "status_code", 422))
    session.commit()
    return _back("created", form.username)


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    username: str,
    done: str,
    action: Callable[[], object],
    form: UserForm,
) -> Response:
    """Do ``action`` on ``username``'s account and go back to the list saying so, or show the page with
    why it was refused."""
    try:
        action()
    except (DomainError, ValidationError) as exc:
        session.rollback()
        _errors(form, exc)
        return _page(request, session, actor, form, getattr(exc, "status_code", 422))
    session.commit()
    return _back(done, username)


@router.post(PAGE + "/{username}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    username: str,
    actor: PageActorDep,
    session: SessionDep,
    active: Annotated[str, Form()] = "",
) -> Response:
    """停用 / 启用: the account stops (or starts again) working at its next request."""
    _require(actor)
    on = active == "1"
    return _act(
        request,
        session,
        actor,
        username,
        "enabled" if on else "disabled",
        lambda: service.set_active(session, actor, username, on),
        UserForm(about=username),
    )


@router.post(PAGE + "/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    username: str,
    actor: PageActorDep,
    session: SessionDep,
    new_password: Annotated[str, Form()] = "",
) -> Response:
    """重置密码: the password policy applies; the account's tokens stop working."""
    _require(actor)
    return _act(
        request,
        session,
        actor,
        username,
        "password",
        lambda: service.reset_password(session, actor, username, PasswordReset(new_password=new_password)),
        UserForm(about=username),
    )


@router.post(PAGE + "/{username}/role", response_class=HTMLResponse)
def change_role(
    request: Request,
    username: str,
    actor: PageActorDep,
    session: SessionDep,
    role: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
) -> Response:
    """变更角色: another role or unit, checked as at creation."""
    _require(actor)
    form = UserForm(username=username, role=role, unit=unit.strip(), about=username)
    if role not in ROLES:
        form.errors["role"] = FIELD_ERRORS["role"]
        return _page(request, session, actor, form, 422)
    return _act(
        request,
        session,
        actor,
        username,
        "role",
        lambda: service.change_role(session, actor, username, Role(role), form.unit or None),
        form,
    )
