"""Routes: tokens, users, and gateway API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from liftwatch.accounts import service
from liftwatch.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Token, UserCreate, UserOut
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


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(
    data: ApiKeyCreate, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> ApiKeyCreated:
    """A new key for a gateway account (admins). The answer holds the whole key, which is never shown
    again: only its hash is stored."""
    new = service.create_api_key(session, actor, data, clock)
    out = service.api_key_created(session, new)
    session.commit()
    return out


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(actor: ActorDep, session: SessionDep, username: str | None = None) -> list[ApiKeyOut]:
    """Every gateway key with its last use, revoked ones included (admins); ``username`` narrows it."""
    return service.list_api_keys(session, actor, username)


@router.post("/api-keys/{prefix}/revoke", response_model=ApiKeyOut)
def revoke_api_key(prefix: str, actor: ActorDep, session: SessionDep, clock: ClockDep) -> ApiKeyOut:
    """Revoke a key at once; the gateway's next request with it is 401."""
    out = service.revoke_api_key(session, actor, prefix, clock)
    session.commit()
    return out
