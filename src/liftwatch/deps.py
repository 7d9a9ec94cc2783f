"""FastAPI dependencies shared by every domain's routes: the session, the clock, the acting user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import PUBLIC_ACTOR, Actor, Role
from liftwatch.accounts.service import (
    actor_for,
    authenticate_api_key,
    is_api_key,
    note_api_key_use,
    user_for_token,
)
from liftwatch.core import csrf
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Unauthorized
from liftwatch.core.security import decode_token

COOKIE_NAME = "liftwatch_token"
API_KEY_HEADER = "x-api-key"

log = logging.getLogger(__name__)


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


def _token_from(request: Request) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (only those need the CSRF checks)."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip(), False
    cookie = request.cookies.get(COOKIE_NAME)
    return cookie, cookie is not None


def _api_key_from(request: Request) -> str | None:
    """A gateway API key from ``X-API-Key`` or ``Authorization: Bearer lwk_...``, else None."""
    header = request.headers.get(API_KEY_HEADER, "").strip()
    if header:
        return header
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and is_api_key(value) else None


def optional_actor(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf_token: csrf.SubmittedTokenDep = None,
) -> Actor:
    """The signed-in actor, the public actor when no credentials came, 401 when they are bad or revoked.

    An unsafe request signed in by the cookie must also pass the CSRF checks (:mod:`liftwatch.core.csrf`;
    403 otherwise); one with ``Authorization`` cannot be forged by another site and needs none. An API key
    is refused here: it opens the gateway endpoint only (:func:`gateway_actor`), so a leaked key cannot
    read anything. The verified claims are kept on ``request.state.token_claims`` (sign-out revokes
    them)."""
    if _api_key_from(request) is not None:
        raise Unauthorized("an API key is accepted only by POST /api/v1/telemetry; sign in for a token")
    token, from_cookie = _token_from(request)
    if token is None:
        return PUBLIC_ACTOR
    secret: str = request.app.state.secret_key
    claims = decode_token(token, secret, request.app.state.clock.now())
    if claims is None:
        raise Unauthorized("the token is invalid or has expired")
    user = user_for_token(session, claims, secret)
    if from_cookie and csrf.is_unsafe(request):
        jti = claims.get("jti")
        csrf.check_session_request(request, jti if isinstance(jti, str) else None, csrf_token)
    request.state.token_claims = claims
    return actor_for(user)


def current_actor(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
    if actor.role is Role.PUBLIC:
        raise Unauthorized("sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor, Depends(optional_actor)]


def token_claims(request: Request, actor: ActorDep) -> dict[str, Any]:
    """The claims of the signed-in caller's token (a signed-in actor, so a token was verified)."""
    claims: dict[str, Any] = request.state.token_claims
    return claims


TokenClaimsDep = Annotated[dict[str, Any], Depends(token_claims)]


def gateway_actor(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf_token: csrf.SubmittedTokenDep = None,
) -> Actor:
    """The sender of the gateway endpoint: a gateway API key (acting as its account), else the usual
    bearer token. The key's last use is committed here, as the endpoint itself writes nothing to the
    database; a locked database only delays that stamp, never the telemetry."""
    key = _api_key_from(request)
    if key is None:
        return current_actor(optional_actor(request, session, settings, csrf_token))
    now = request.app.state.clock.now()
    user, record = authenticate_api_key(session, key, now)
    actor = actor_for(user)
    try:
        note_api_key_use(session, record, now)
        session.commit()
    except OperationalError as exc:
        session.rollback()
        log.warning("API key %s: last use not recorded: %s", record.prefix, exc)
    return actor


GatewayActorDep = Annotated[Actor, Depends(gateway_actor)]
