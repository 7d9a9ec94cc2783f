"""Routes: tokens, users, and gateway API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse

from liftwatch.accounts import service
from liftwatch.accounts.schemas import (
    ActiveIn,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    PasswordChange,
    PasswordReset,
    RoleIn,
    Token,
    UserCreate,
    UserOut,
)
from liftwatch.core.errors import Unauthorized
from liftwatch.core.throttle import LoginThrottle, Throttled, throttle_message
from liftwatch.core.types import SingleLine
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep, TokenClaimsDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", response_model=Token)
def issue_token(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    username: Annotated[SingleLine, Form()],
    password: Annotated[str, Form()],
) -> Token | JSONResponse:
    """OAuth2 password flow: form fields ``username`` and ``password``. Failed attempts are throttled
    per account and per client address (429 with Retry-After, :mod:`liftwatch.core.throttle`)."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    user = throttle.attempt(
        username, address, clock.now(), lambda: service.authenticate(session, username, password)
    )
    if isinstance(user, Throttled):
        message = throttle_message(user)
        return JSONResponse(
            {"detail": message, "errors": [{"field": "username", "message": message}]},
            status_code=429,
            headers={"Retry-After": str(user.retry_after)},
        )
    if user is None:
        raise Unauthorized("wrong username or password")
    token = service.issue_token(user, request.app.state.secret_key, clock.now(), settings.token_minutes)
    return Token(access_token=token)


@router.post("/auth/logout", status_code=204)
def logout(claims: TokenClaimsDep, session: SessionDep, clock: ClockDep) -> Response:
    """Revoke the token this request carries: from now on it is refused (401) everywhere, until it would
    have expired anyway. The caller's other tokens stay valid."""
    service.revoke_token(session, claims, clock.now())
    session.commit()
    return Response(status_code=204)


@router.post("/auth/password", response_model=Token)
def change_password(
    request: Request,
    data: PasswordChange,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Token:
    """Change one's own password (the current one is required). Every token issued before, this one
    too, stops working; the answer is a fresh token."""
    user = service.change_password(session, actor, data)
    session.commit()
    token = service.issue_token(user, request.app.state.secret_key, clock.now(), settings.token_minutes)
    return Token(access_token=token)


@router.post("/users/{username}/password", status_code=204)
def reset_password(username: str, data: PasswordReset, actor: ActorDep, session: SessionDep) -> Response:
    """Set a user's password (admins); every token the user holds stops working."""
    service.reset_password(session, actor, username, data)
    session.commit()
    return Response(status_code=204)


@router.post("/users/{username}/active", response_model=UserOut)
def set_active(username: str, data: ActiveIn, actor: ActorDep, session: SessionDep) -> UserOut:
    """Disable or enable an account (admins; not one's own): a disabled account's tokens and keys stop
    working at its next request."""
    user = service.set_active(session, actor, username, data.active)
    session.commit()
    return service.user_out(session, user)


@router.post("/users/{username}/role", response_model=UserOut)
def change_role(username: str, data: RoleIn, actor: ActorDep, session: SessionDep) -> UserOut:
    """Give an account another role and unit (admins; an admin keeps their own admin role)."""
    user = service.change_role(session, actor, username, data.role, data.unit)
    session.commit()
    return service.user_out(session, user)


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
