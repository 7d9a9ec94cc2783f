"""The risk settings read from the environment, at the edge: ``LIFTWATCH_RISK_<NAME>`` (any case) over the
defaults of ``score.RiskSettings``, the process's environment over the ``.env`` file as every settings group.

The one place they are read; the caller (the wiring, a command, the bench) passes the result to the pure
scorer. ``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping

from liftwatch.core.settings_table import Group, dataclass_group, numbers_from_env
from liftwatch.risk.score import RiskSettings

RISK_ENV_PREFIX = "LIFTWATCH_RISK_"


def risk_settings_from_env(environ: Mapping[str, str] | None = None) -> RiskSettings:
    """The settings over the documented defaults (the process's environment over ``.env`` without
    ``environ``). A value not a number, or out of bounds, is a ValueError naming every bad variable."""
    return numbers_from_env(RiskSettings, RISK_ENV_PREFIX, environ)


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    return dataclass_group(
        "Risk grading (LIFTWATCH_RISK_*, points unless named; docs/RISK.md)", RiskSettings, RISK_ENV_PREFIX
    )
