"""The parts settings read from the environment, at the edge: ``LIFTWATCH_PARTS_<NAME>`` (any case) over the
defaults of :class:`PartSettings`. ``settings_group`` gives their rows for the one settings table
(docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from liftwatch.core.settings_table import Group, dataclass_group, kept_on, numbers_from_env

PARTS_ENV_PREFIX = "LIFTWATCH_PARTS_"


@dataclass(frozen=True)
class PartSettings:
    near_share: float = field(
        default=0.9,
        metadata={
            "why": "share of a part's design life (years or cycles, whichever is further) from which it is "
            "listed as near its end, so the replacement is planned before it is due (docs/PARTS.md)"
        },
    )

    refresh_every_s: float = field(
        default=3600,
        metadata={
            "why": "seconds between two passes of the parts worker judging every current part's wear for the "
            "worn list (years move by the day; cycles by the hour at most)"
        },
    )

    def __post_init__(self) -> None:
        if not 0 < self.near_share <= 1:
            raise ValueError(f"near_share must be in (0, 1], not {self.near_share}")


def part_settings_from_env(environ: Mapping[str, str] | None = None) -> PartSettings:
    """The settings over the documented defaults; a bad value is a ValueError naming it."""
    return numbers_from_env(PartSettings, PARTS_ENV_PREFIX, environ)


def part_settings_of(state: object) -> PartSettings:
    """The settings of a running app, read from the environment once and kept on its ``state``."""
    return kept_on(state, "part_settings", part_settings_from_env)


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    return dataclass_group(
        "Main parts and recalls (LIFTWATCH_PARTS_*; docs/PARTS.md)", PartSettings, PARTS_ENV_PREFIX
    )
