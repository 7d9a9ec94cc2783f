"""Routes: tokens and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from liftwatch.accounts import service
from liftwatch.accounts.schemas import Token, UserCreate, UserOut
from liftwatch.core.errors import Unauthorized
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", response_model=Token)
def issue_token(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Token:
    """OAuth2 password flow: form fields ``username`` and ``password``."""
    user = service.authenticate(session, username, password)
    if user is None:
        raise Unauthorized("wrong username or password")
    token = service.issue_token(user, request.app.state.secret_key, clock.now(), settings.token_minutes)
    return Token(access_token=token)


@router.get("/auth/me", response_model=UserOut)
def me(actor: ActorDep, session: SessionDep) -> UserOut:
    return service.me(session, actor)


@router.get("/users", response_model=list[UserOut])
def list_users(actor: ActorDep, session: SessionDep) -> list[UserOut]:
    return service.list_users(session, actor)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(data: UserCreate, actor: ActorDep, session: SessionDep, clock: ClockDep) -> UserOut:
    user = service.create_user(session, actor, data, clock)
    out = service.user_out(session, user)
    session.commit()
    return out
