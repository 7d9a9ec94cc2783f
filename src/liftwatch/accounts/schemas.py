"""API shapes for accounts."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from liftwatch.accounts.models import Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    unit: str | None = Field(default=None, description="Unit code; required for maintenance and use_unit")
    full_name: str = Field(default="", max_length=120)


class UserOut(BaseModel):
    username: str
    full_name: str
    role: str
    unit: str | None
    active: bool


class ApiKeyCreate(BaseModel):
    """An admin asks for a key for a gateway account; ``expires_at`` empty means it lasts until revoked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=1, max_length=64, description="the gateway account the key acts as")
    name: str = Field(
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
