"""The insurance settings read from the environment, at the edge: ``LIFTWATCH_INSURANCE_<NAME>`` (any case)
over the defaults of ``premium.PremiumSettings``, the process's environment over the ``.env`` file as every
settings group. ``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping

from liftwatch.core.settings_table import Group, dataclass_group, numbers_from_env
from liftwatch.insurance.premium import PremiumSettings

INSURANCE_ENV_PREFIX = "LIFTWATCH_INSURANCE_"


def premium_settings_from_env(environ: Mapping[str, str] | None = None) -> PremiumSettings:
    """The settings over the documented defaults; a bad value is a ValueError naming every bad variable."""
    return numbers_from_env(PremiumSettings, INSURANCE_ENV_PREFIX, environ)


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    return dataclass_group(
        "Insurance premium factors (LIFTWATCH_INSURANCE_*; docs/INSURANCE.md)",
        PremiumSettings,
        INSURANCE_ENV_PREFIX,
    )
