"""FastAPI dependencies shared by every domain's routes: the session, the clock, the acting user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from liftwatch.accounts.models import PUBLIC_ACTOR, Actor, Role, User
from liftwatch.accounts.service import actor_for
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Unauthorized
from liftwatch.core.security import decode_token

COOKIE_NAME = "liftwatch_token"


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]


def _token_from(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.cookies.get(COOKIE_NAME)


def optional_actor(request: Request, session: SessionDep, settings: SettingsDep) -> Actor:
    """The signed-in actor, the public actor when no credentials came, 401 when they are bad."""
    token = _token_from(request)
    if token is None:
        return PUBLIC_ACTOR
    claims = decode_token(token, request.app.state.secret_key, request.app.state.clock.now())
    if claims is None:
        raise Unauthorized("the token is invalid or has expired")
    user = session.get(User, int(claims.get("uid", 0)))
    if user is None or not user.active or user.username != claims.get("sub"):
        raise Unauthorized("the account behind this token no longer exists or is disabled")
    return actor_for(user)


def current_actor(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
    if actor.role is Role.PUBLIC:
        raise Unauthorized("sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor, Depends(optional_actor)]
