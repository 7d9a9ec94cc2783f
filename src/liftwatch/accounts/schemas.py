"""API shapes for accounts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
