"""The applications settings read from the environment, at the edge: ``LIFTWATCH_APPLICATIONS_<NAME>`` (any
case) over the defaults of :class:`ApplicationSettings`. ``settings_group`` gives their rows for the one
settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from liftwatch.core.settings_table import Group, dataclass_group, kept_on, numbers_from_env

APPLICATIONS_ENV_PREFIX = "LIFTWATCH_APPLICATIONS_"


@dataclass(frozen=True)
class ApplicationSettings:
    consent_share: float = field(
        default=2 / 3,
        metadata={
            "why": "the owners' consent an addition needs, by number and by floor area (Shanghai: two "
            "thirds of each; docs/APPLICATIONS.md)"
        },
    )
    review_days: float = field(
        default=15,
        metadata={"why": "days a department has to decide on an application before it is flagged late"},
    )

    def __post_init__(self) -> None:
        if not 0 < self.consent_share <= 1:
            raise ValueError(f"consent_share must be in (0, 1], not {self.consent_share}")

    @property
    def days(self) -> int:
        return max(1, int(self.review_days))


def application_settings_from_env(environ: Mapping[str, str] | None = None) -> ApplicationSettings:
    return numbers_from_env(ApplicationSettings, APPLICATIONS_ENV_PREFIX, environ)


def application_settings_of(state: object) -> ApplicationSettings:
    """The settings of a running app, read from the environment once and kept on its ``state``."""
    return kept_on(state, "application_settings", application_settings_from_env)


def settings_group() -> Group:
    return dataclass_group(
        "Applications (LIFTWATCH_APPLICATIONS_*; docs/APPLICATIONS.md)",
        ApplicationSettings,
        APPLICATIONS_ENV_PREFIX,
    )
