"""The rating settings read from the environment, at the edge: ``LIFTWATCH_RATING_<NAME>`` (any case) over
the defaults of ``rate.RatingSettings``, the process's environment over the ``.env`` file as every settings
group.

The one place they are read; the caller (a command, the wiring) passes the result to the pure rating.
``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping

from liftwatch.core.settings_table import Group, dataclass_group, numbers_from_env
from liftwatch.ratings.rate import RatingSettings

RATING_ENV_PREFIX = "LIFTWATCH_RATING_"


def rating_settings_from_env(environ: Mapping[str, str] | None = None) -> RatingSettings:
    """The settings over the documented defaults (the process's environment over ``.env`` without
    ``environ``). A value not a number, or out of bounds, is a ValueError naming every bad variable."""
    return numbers_from_env(RatingSettings, RATING_ENV_PREFIX, environ)


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    return dataclass_group(
        "Maintenance-unit ratings (LIFTWATCH_RATING_*, points, shares 0-1; docs/RATINGS.md)",
        RatingSettings,
        RATING_ENV_PREFIX,
    )
