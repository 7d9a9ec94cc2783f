"""The cost-disclosure settings read from the environment, at the edge: ``LIFTWATCH_COSTS_<NAME>`` (any case)
over the defaults of :class:`CostSettings`, the process's environment over the ``.env`` file as every
settings group. ``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from liftwatch.core.settings_table import Group, dataclass_group, numbers_from_env

COSTS_ENV_PREFIX = "LIFTWATCH_COSTS_"


@dataclass(frozen=True)
class CostSettings:
    publish_due_days: float = field(
        default=30,
        metadata={
            "why": "days after a half-year ends by which a use unit publishes its residential costs "
            "(then listed as overdue for the regulator; docs/COSTS.md)"
        },
    )

    @property
    def due_days(self) -> int:
        return int(self.publish_due_days)


def cost_settings_from_env(environ: Mapping[str, str] | None = None) -> CostSettings:
    """The settings over the documented defaults; a value not a number >= 0 is a ValueError naming it."""
    return numbers_from_env(CostSettings, COSTS_ENV_PREFIX, environ)


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    return dataclass_group(
        "Cost disclosure (LIFTWATCH_COSTS_*; docs/COSTS.md)", CostSettings, COSTS_ENV_PREFIX
    )
