"""Creating users and checking credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.models import UNIT_SCOPED_ROLES, Actor, Role, User
from liftwatch.accounts.schemas import UserCreate, UserOut
from liftwatch.core.clock import Clock
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput
from liftwatch.core.security import create_token, hash_password, verify_password
from liftwatch.registry.models import Unit, UnitType

_UNIT_TYPES_FOR_ROLE = {
    Role.MAINTENANCE: (UnitType.MAINTENANCE,),
    Role.USE_UNIT: (UnitType.USE_UNIT,),
    # a gateway of a maintenance company or an owner reports for that unit's elevators only; a gateway with
    # no unit (the city's IoT platform) reports for any registered elevator
    Role.GATEWAY: (UnitType.MAINTENANCE, UnitType.USE_UNIT),
}

# A constant hash so a login for an unknown user costs as much as one with a wrong password.
_DUMMY_HASH = hash_password("liftwatch-timing-guard")


def create_user(session: Session, actor: Actor, data: UserCreate, clock: Clock) -> User:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an admin may create users")
    if data.role is Role.PUBLIC:
        raise InvalidInput(FieldError("role", "the public needs no account"))
    if session.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(f"username: '{data.username}' is taken", [FieldError("username", "is taken")])
    unit_id: int | None = None
    if data.role in UNIT_SCOPED_ROLES or (data.role is Role.GATEWAY and data.unit):
        if not data.unit:
            raise InvalidInput(FieldError("unit", f"a {data.role.value} user needs the code of its unit"))
        unit = session.scalar(select(Unit).where(Unit.code == data.unit))
        expected = _UNIT_TYPES_FOR_ROLE[data.role]
        if unit is None:
            raise InvalidInput(FieldError("unit", f"unknown unit code '{data.unit}'"))
        if unit.unit_type not in {t.value for t in expected}:
            wanted = " or ".join(t.value for t in expected)
            raise InvalidInput(
                FieldError("unit", f"unit '{data.unit}' is a {unit.unit_type}, expected {wanted}")
            )
        unit_id = unit.id
    elif data.unit:
        raise InvalidInput(FieldError("unit", f"a {data.role.value} user belongs to no unit"))
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


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    return user


def actor_for(user: User) -> Actor:
    return Actor(username=user.username, role=Role(user.role), unit_id=user.unit_id)


def list_users(session: Session, actor: Actor) -> list[UserOut]:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an admin may list users")
    rows = session.execute(
        select(User, Unit.code).outerjoin(Unit, Unit.id == User.unit_id).order_by(User.username)
    )
    return [
        UserOut(username=u.username, full_name=u.full_name, role=u.role, unit=code, active=u.active)
        for u, code in rows
    ]


def user_out(session: Session, user: User) -> UserOut:
    code = session.scalar(select(Unit.code).where(Unit.id == user.unit_id)) if user.unit_id else None
    return UserOut(
        username=user.username, full_name=user.full_name, role=user.role, unit=code, active=user.active
    )


def me(session: Session, actor: Actor) -> UserOut:
    user = session.scalar(select(User).where(User.username == actor.username))
    if user is None:
        raise Forbidden("no account")
    return user_out(session, user)


def issue_token(user: User, secret: str, now: datetime, minutes: int) -> str:
    """The bearer token for ``user``: the API returns it, the web keeps it in the session cookie."""
    return create_token(user.username, secret, now, minutes, uid=user.id, role=user.role)


def unit_of_user(session: Session, username: str) -> str | None:
    """The unit code of a unit-scoped user, or None."""
    row = session.execute(
        select(Unit.code).join(User, User.unit_id == Unit.id).where(User.username == username)
    ).first()
    return row[0] if row else None
