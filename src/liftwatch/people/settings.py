"""The people settings read from the environment, at the edge: ``LIFTWATCH_PEOPLE_<NAME>`` (any case) over the
defaults of :class:`PeopleSettings`. ``settings_group`` gives their rows for the one settings table
(docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from liftwatch.core.settings_table import Group, dataclass_group, kept_on, numbers_from_env

PEOPLE_ENV_PREFIX = "LIFTWATCH_PEOPLE_"


@dataclass(frozen=True)
class PeopleSettings:
    certificate_warn_days: float = field(
        default=90,
        metadata={
            "why": "days before a worker's certificate expires from which it is listed as expiring: the "
            "review (复审) is applied for in time (docs/PEOPLE.md)"
        },
    )
    drills_per_year: float = field(
        default=1,
        metadata={"why": "emergency drills a use unit holds each year (TSG 08-2017 2.10: at least one)"},
    )

    @property
    def warn_days(self) -> int:
        return int(self.certificate_warn_days)

    @property
    def drills(self) -> int:
        return max(1, int(self.drills_per_year))


def people_settings_from_env(environ: Mapping[str, str] | None = None) -> PeopleSettings:
    """The settings over the documented defaults; a bad value is a ValueError naming it."""
    return numbers_from_env(PeopleSettings, PEOPLE_ENV_PREFIX, environ)


def people_settings_of(state: object) -> PeopleSettings:
    """The settings of a running app, read from the environment once and kept on its ``state``."""
    return kept_on(state, "people_settings", people_settings_from_env)


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    return dataclass_group(
        "Certified workers and drills (LIFTWATCH_PEOPLE_*; docs/PEOPLE.md)", PeopleSettings, PEOPLE_ENV_PREFIX
    )
