"""API shapes for accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from liftwatch.accounts.actor import Role
from liftwatch.accounts.passwords import MAX_LENGTH, password_problem
from liftwatch.core.types import SingleLine

# A password is taken exactly as typed (never stripped), at creation as at sign-in.
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=MAX_LENGTH)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: Password = Field(
        description="at least 10 characters, not a common password nor the username, no edge spaces"
    )
    role: Role
    unit: SingleLine | None = Field(
        default=None, max_length=40, description="Unit code; required for maintenance and use_unit"
    )
    full_name: SingleLine = Field(default="", max_length=120)

    @field_validator("password")
    @classmethod
    def _policy(cls, value: str, info: ValidationInfo) -> str:
        problem = password_problem(value, info.data.get("username"))
        if problem:
            raise ValueError(problem)
        return value


class PasswordChange(BaseModel):
    """A user changes their own password; every token they hold (this one too) stops working."""

    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class PasswordReset(BaseModel):
    """An admin sets another user's password (the user forgot it); all their tokens stop working."""

    model_config = ConfigDict(extra="forbid")

    new_password: Password


class ActiveIn(BaseModel):
    """An admin disables (false) or enables (true) an account."""

    model_config = ConfigDict(extra="forbid")

    active: bool


class RoleIn(BaseModel):
    """An admin gives an account another role and unit (the unit must fit the role, as at creation)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: Role
    unit: str | None = Field(default=None, max_length=32)


class UserOut(BaseModel):
    username: str
    full_name: str
    role: str
    unit: str | None
    active: bool


class ApiKeyCreate(BaseModel):
    """An admin asks for a key for a gateway account; ``expires_at`` empty means it lasts until revoked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: SingleLine = Field(
        min_length=1, max_length=64, description="the gateway account the key acts as"
    )
    name: SingleLine = Field(
        min_length=1, max_length=120, description="what the key is for, e.g. the gateway's site"
    )
    expires_at: AwareDatetime | None = None


class ApiKeyOut(BaseModel):
    """A key as lists show it: never the secret nor its hash."""

    prefix: str
    name: str
    username: str
    unit: str | None
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


class ApiKeyCreated(ApiKeyOut):
    """The answer to a creation: the only time the whole key is shown."""

    key: str = Field(
        description="send as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'; not shown again"
    )
