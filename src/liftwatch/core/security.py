"""Password hashing (argon2) and signed API tokens (JWT, HS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None
ALGORITHM = "HS256"


def use_fast_hashing() -> None:
    """Cheap argon2 parameters for test suites, which hash hundreds of passwords; never in production."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nobody(password: str) -> None:
    """Spend what checking a real password costs, for a sign-in whose user does not exist (so the time
    taken does not tell which user names exist): a hash made by the current hasher, with its parameters."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("liftwatch-timing-guard"))
    verify_password(_dummy[1], password)


def new_token_id() -> str:
    """A fresh ``jti``: 128 random bits, so one token can be revoked (sign-out) without touching others."""
    return secrets.token_urlsafe(16)


def keyed_digest(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``secret``, separated by ``purpose`` so a digest made for one use
    (a CSRF token, a password stamp) is never valid for another; URL-safe, without padding."""
    mac = hmac.new(secret.encode("utf-8"), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def create_token(subject: str, secret: str, now: datetime, minutes: int, **claims: Any) -> str:
    """A signed token for ``subject``; every token gets its own ``jti`` unless ``claims`` brings one."""
    payload = {
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": new_token_id(),
    }
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, now: datetime) -> dict[str, Any] | None:
    """The token's claims, or None when it is forged, malformed or expired at ``now`` (the injected clock,
    so expiry is tested without waiting)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now.timestamp():
        return None
    return claims
