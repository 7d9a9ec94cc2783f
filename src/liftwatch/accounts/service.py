"""Creating users, gateway API keys, and checking credentials."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import UNIT_SCOPED_ROLES, Actor, Role
from liftwatch.accounts.models import ApiKey, RevokedToken, User
from liftwatch.accounts.passwords import password_problem
from liftwatch.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    PasswordChange,
    PasswordReset,
    UserCreate,
    UserOut,
)
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from liftwatch.core.security import (
    create_token,
    hash_password,
    keyed_digest,
    verify_nobody,
    verify_password,
)
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import UnitType

_UNIT_TYPES_FOR_ROLE = {
    # a rescue station's staff are its crews' logins: scoped like maintenance staff to their own unit
    Role.MAINTENANCE: (UnitType.MAINTENANCE, UnitType.RESCUE_STATION),
    Role.USE_UNIT: (UnitType.USE_UNIT,),
    # a gateway of a maintenance company or an owner reports for that unit's elevators only; a gateway with
    # no unit (the city's IoT platform) reports for any registered elevator
    Role.GATEWAY: (UnitType.MAINTENANCE, UnitType.USE_UNIT),
    # an inspector of an inspection body records that body's inspections (docs/INSPECTION.md); optional:
    # an inspector with no body records only the inspections naming them. Not unit-scoped for elevators.
    Role.INSPECTOR: (UnitType.INSPECTION_BODY,),
    # an insurer's staff see the policies of their own insurer unit only (docs/INSURANCE.md): unit required
    Role.INSURER: (UnitType.INSURER,),
}
# the roles whose users must belong to a unit
_UNIT_REQUIRED = UNIT_SCOPED_ROLES | {Role.INSURER}


def create_user(session: Session, actor: Actor, data: UserCreate, clock: Clock) -> User:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an admin may create users")
    if data.role is Role.PUBLIC:
        raise InvalidInput(FieldError("role", "the public needs no account"))
    if session.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(f"username: '{data.username}' is taken", [FieldError("username", "is taken")])
    unit_id = _unit_for(session, data.role, data.unit)
    user = User(
        username=data.username,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        role=data.role.value,
        unit_id=unit_id,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def _unit_for(session: Session, role: Role, unit_code: str | None) -> int | None:
    """The unit a user of ``role`` belongs to, by its code: required for unit staff and insurers, allowed
    for gateways and inspectors, refused for the others; its type must fit the role."""
    if role in _UNIT_REQUIRED or (role in (Role.GATEWAY, Role.INSPECTOR) and unit_code):
        if not unit_code:
            raise InvalidInput(FieldError("unit", f"a {role.value} user needs the code of its unit"))
        unit = registry.unit_by_code(session, unit_code)
        expected = _UNIT_TYPES_FOR_ROLE[role]
        if unit is None:
            raise InvalidInput(FieldError("unit", f"unknown unit code '{unit_code}'"))
        if unit.unit_type not in {t.value for t in expected}:
            wanted = " or ".join(t.value for t in expected)
            raise InvalidInput(
                FieldError("unit", f"unit '{unit_code}' is a {unit.unit_type}, expected {wanted}")
            )
        return int(unit.id)
    if unit_code:
        raise InvalidInput(FieldError("unit", f"a {role.value} user belongs to no unit"))
    return None


def _account(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no account '{username}'")
    return user


def set_active(session: Session, actor: Actor, username: str, active: bool) -> User:
    """An admin disables an account (its tokens and keys stop working at once: every request reads the
    account) or enables it again; an admin does not disable their own."""
    _require_admin(actor, "disable or enable users")
    user = _account(session, username)
    if not active and user.username == actor.username:
        raise Conflict("an admin may not disable their own account")
    user.active = active
    session.flush()
    return user


def change_role(session: Session, actor: Actor, username: str, role: Role, unit_code: str | None) -> User:
    """An admin gives an account another role or unit, checked as at creation (the unit must fit the
    role); it applies at the account's next request. An admin keeps their own role."""
    _require_admin(actor, "change roles")
    if role is Role.PUBLIC:
        raise InvalidInput(FieldError("role", "the public needs no account"))
    user = _account(session, username)
    if user.username == actor.username and role is not Role.ADMIN:
        raise Conflict("an admin may not take away their own admin role")
    user.unit_id = _unit_for(session, role, unit_code or None)
    user.role = role.value
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_nobody(password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    return user


def actor_for(user: User) -> Actor:
    return Actor(username=user.username, role=Role(user.role), unit_id=user.unit_id)


def list_users(session: Session, actor: Actor) -> list[UserOut]:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an admin may list users")
    users = list(session.scalars(select(User).order_by(User.username)))
    codes = registry.unit_codes(session, (u.unit_id for u in users))
    return [
        UserOut(
            username=u.username,
            full_name=u.full_name,
            role=u.role,
            unit=codes.get(u.unit_id) if u.unit_id else None,
            active=u.active,
        )
        for u in users
    ]


def user_out(session: Session, user: User) -> UserOut:
    code = registry.unit_codes(session, [user.unit_id]).get(user.unit_id) if user.unit_id else None
    return UserOut(
        username=user.username, full_name=user.full_name, role=user.role, unit=code, active=user.active
    )


def me(session: Session, actor: Actor) -> UserOut:
    user = session.scalar(select(User).where(User.username == actor.username))
    if user is None:
        raise Forbidden("no account")
    return user_out(session, user)


def password_stamp(secret: str, password_hash: str) -> str:
    """A short keyed digest of the stored password hash, carried in every token (``pwd``): a new password
    makes a new hash, so every token issued before it stops matching, with no row to write."""
    return keyed_digest(secret, "password-stamp", password_hash)[:22]


def issue_token(user: User, secret: str, now: datetime, minutes: int) -> str:
    """The bearer token for ``user``: the API returns it, the web keeps it in the session cookie. Its
    ``jti`` lets sign-out revoke it alone; its ``pwd`` stamp ends it when the password changes."""
    return create_token(
        user.username,
        secret,
        now,
        minutes,
        uid=user.id,
        role=user.role,
        pwd=password_stamp(secret, user.password_hash),
    )


def user_for_token(session: Session, claims: dict[str, Any], secret: str) -> User:
    """The active user a verified token speaks for, or 401 when the account is gone or disabled, the
    password changed since it was issued, or it was signed out (revoked)."""
    uid = claims.get("uid")
    user = session.get(User, uid) if isinstance(uid, int) else None
    if user is None or not user.active or user.username != claims.get("sub"):
        raise Unauthorized("the account behind this token no longer exists or is disabled")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise Unauthorized("the token has no id (issued by an older version): sign in again")
    stamp = claims.get("pwd")
    if not isinstance(stamp, str) or not hmac.compare_digest(
        stamp, password_stamp(secret, user.password_hash)
    ):
        raise Unauthorized("the password has changed since this token was issued: sign in again")
    if session.get(RevokedToken, jti) is not None:
        raise Unauthorized("this token was revoked (signed out): sign in again")
    return user


def revoke_token(session: Session, claims: dict[str, Any], now: datetime) -> None:
    """Revoke one token (sign-out) until it expires, and drop revocations of tokens expired by now (they
    are refused for their ``exp`` anyway). Revoking twice changes nothing. The caller commits."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    jti = claims.get("jti")
    exp = claims.get("exp")
    if not isinstance(jti, str) or not jti or not isinstance(exp, int | float):
        return
    if session.get(RevokedToken, jti) is None:
        uid = claims.get("uid")
        session.add(
            RevokedToken(
                jti=jti,
                user_id=uid if isinstance(uid, int) else 0,
                expires_at=datetime.fromtimestamp(exp, UTC),
                revoked_at=now,
            )
        )
    session.flush()


def _set_password(user: User, password: str, field: str) -> None:
    problem = password_problem(password, user.username)
    if problem:
        raise InvalidInput(FieldError(field, problem))
    user.password_hash = hash_password(password)


def change_password(session: Session, actor: Actor, data: PasswordChange) -> User:
    """A user sets their own password, proving the current one; every token they hold stops working
    (the caller hands out a fresh one)."""
    user = session.scalar(select(User).where(User.username == actor.username))
    if user is None or not user.active:
        raise Forbidden("no account")
    if not verify_password(user.password_hash, data.current_password):
        raise InvalidInput(FieldError("current_password", "is not the current password"))
    _set_password(user, data.new_password, "new_password")
    session.flush()
    return user


def reset_password(session: Session, actor: Actor, username: str, data: PasswordReset) -> User:
    """An admin sets a user's password (forgotten, or the account was shared); the user's tokens stop
    working, so whoever held them must sign in with the new password."""
    _require_admin(actor, "reset passwords")
    user = _account(session, username)
    _set_password(user, data.new_password, "new_password")
    session.flush()
    return user


def account_of(session: Session, username: str) -> UserOut | None:
    """The account ``username`` as other domains may see it (its role and unit), or None."""
    user = session.scalar(select(User).where(User.username == username))
    return user_out(session, user) if user is not None else None


def user_count(session: Session) -> int:
    """How many accounts exist (the demo creates its logins once)."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def unit_of_user(session: Session, username: str) -> str | None:
    """The unit code of a unit-scoped user, or None."""
    unit_id = session.scalar(select(User.unit_id).where(User.username == username))
    return registry.unit_codes(session, [unit_id]).get(unit_id) if unit_id else None


# ---------------------------------------------------------------- gateway API keys

KEY_PREFIX = "lwk_"
_PREFIX_CHARS = 8
PREFIX_LENGTH = len(KEY_PREFIX) + _PREFIX_CHARS
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# A key's last use is written at most this often, so a gateway posting every second costs no write each time.
LAST_USED_EVERY = timedelta(minutes=1)
_DUMMY_KEY_HASH = hashlib.sha256(b"liftwatch-timing-guard").hexdigest()


@dataclass(frozen=True)
class NewApiKey:
    """A key just made: ``key`` is the whole secret, which exists nowhere else once this is dropped."""

    record: ApiKey
    key: str


def is_api_key(credential: str) -> bool:
    """Whether a bearer credential is one of our API keys rather than a JWT (JWTs start with 'ey')."""
    return credential.startswith(KEY_PREFIX)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _require_admin(actor: Actor, what: str) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden(f"only an admin may {what}")


def _new_prefix(session: Session) -> str:
    """A fresh public prefix: 36^8 values, so a clash is rare, but the column is unique, so check."""
    while True:
        prefix = KEY_PREFIX + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_CHARS))
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            return prefix


def create_api_key(session: Session, actor: Actor, data: ApiKeyCreate, clock: Clock) -> NewApiKey:
    """Make a key for a gateway account (admins only). The key is ``<prefix>_<43 url-safe characters>``
    (256 random bits); only its SHA-256 is kept, so the caller must show ``key`` now or never."""
    _require_admin(actor, "create API keys")
    now = clock.now()
    user = session.scalar(select(User).where(User.username == data.username))
    if user is None:
        raise InvalidInput(FieldError("username", f"no account '{data.username}'"))
    if user.role != Role.GATEWAY.value:
        raise InvalidInput(
            FieldError(
                "username",
                f"'{user.username}' is a {user.role} account; API keys are only for gateway accounts",
            )
        )
    if not user.active:
        raise InvalidInput(FieldError("username", f"the account '{user.username}' is disabled"))
    if data.expires_at is not None and data.expires_at <= now:
        raise InvalidInput(FieldError("expires_at", "must be in the future"))
    prefix = _new_prefix(session)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    record = ApiKey(
        user_id=user.id,
        prefix=prefix,
        secret_hash=hash_api_key(key),
        name=data.name,
        created_at=now,
        created_by=actor.username,
        expires_at=data.expires_at,
    )
    session.add(record)
    session.flush()
    return NewApiKey(record=record, key=key)


def api_key_created(session: Session, new: NewApiKey) -> ApiKeyCreated:
    """The creation's answer: the listing's fields plus, this once, the whole key."""
    out = _key_rows(session, select_prefix=new.record.prefix)[0]
    return ApiKeyCreated(**out.model_dump(), key=new.key)


def _key_rows(
    session: Session, *, select_prefix: str | None = None, username: str | None = None
) -> list[ApiKeyOut]:
    query = (
        select(ApiKey, User.username, User.unit_id)
        .join(User, User.id == ApiKey.user_id)
        .order_by(User.username, ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    if select_prefix is not None:
        query = query.where(ApiKey.prefix == select_prefix)
    if username is not None:
        query = query.where(User.username == username)
    rows = session.execute(query).all()
    codes = registry.unit_codes(session, (unit_id for _, _, unit_id in rows))
    return [
        ApiKeyOut(
            prefix=k.prefix,
            name=k.name,
            username=name,
            unit=codes.get(unit_id) if unit_id else None,
            created_at=k.created_at,
            created_by=k.created_by,
            last_used_at=k.last_used_at,
            expires_at=k.expires_at,
            revoked_at=k.revoked_at,
            revoked_by=k.revoked_by,
        )
        for k, name, unit_id in rows
    ]


def list_api_keys(session: Session, actor: Actor, username: str | None = None) -> list[ApiKeyOut]:
    """Every key (revoked ones too, for the record), by account then newest first; admins only."""
    _require_admin(actor, "list API keys")
    return _key_rows(session, username=username)


def revoke_api_key(session: Session, actor: Actor, prefix: str, clock: Clock) -> ApiKeyOut:
    """Revoke a key at once (admins only). Revoking a revoked key changes nothing, so a retry is safe."""
    _require_admin(actor, "revoke API keys")
    record = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if record is None:
        raise NotFound(f"no API key with prefix '{prefix}'")
    if record.revoked_at is None:
        record.revoked_at = clock.now()
        record.revoked_by = actor.username
        session.flush()
    return _key_rows(session, select_prefix=prefix)[0]


def gateway_accounts(session: Session, actor: Actor) -> list[UserOut]:
    """The active gateway accounts an admin may make keys for."""
    _require_admin(actor, "list gateway accounts")
    return [u for u in list_users(session, actor) if u.role == Role.GATEWAY.value and u.active]


def authenticate_api_key(session: Session, key: str, now: datetime) -> tuple[User, ApiKey]:
    """The gateway account behind ``key`` and the key's record, or 401. An unknown prefix and a wrong
    secret get the same answer (no hint that the prefix exists); only the holder of the real key learns
    that it was revoked or has expired. The hashes are compared in constant time. Writes nothing: the
    caller stamps the use with :func:`note_api_key_use`."""
    key = key.strip()
    prefix = key[:PREFIX_LENGTH]
    record = (
        session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if is_api_key(key) and key[PREFIX_LENGTH : PREFIX_LENGTH + 1] == "_"
        else None
    )
    stored = record.secret_hash if record is not None else _DUMMY_KEY_HASH
    if not hmac.compare_digest(stored, hash_api_key(key)) or record is None:
        raise Unauthorized("unknown API key: check the whole key, as it was shown when it was created")
    if record.revoked_at is not None:
        raise Unauthorized(f"API key {record.prefix} was revoked at {as_utc(record.revoked_at).isoformat()}")
    if record.expires_at is not None and as_utc(record.expires_at) <= now:
        raise Unauthorized(f"API key {record.prefix} expired at {as_utc(record.expires_at).isoformat()}")
    user = session.get(User, record.user_id)
    if user is None or not user.active or user.role != Role.GATEWAY.value:
        raise Unauthorized(f"the gateway account behind API key {record.prefix} is disabled")
    return user, record


def note_api_key_use(session: Session, record: ApiKey, now: datetime) -> None:
    """Stamp ``last_used_at``, at most once per :data:`LAST_USED_EVERY`; the condition is in the UPDATE
    too, so simultaneous requests write it once. The caller commits."""
    last = record.last_used_at
    if last is not None and now - as_utc(last) < LAST_USED_EVERY:
        return
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == record.id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_EVERY))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
