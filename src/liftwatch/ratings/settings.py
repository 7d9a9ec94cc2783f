"""The rating settings read from the environment, at the edge: ``LIFTWATCH_RATING_<NAME>`` (any case) over
the defaults of ``rate.RatingSettings``, the process's environment over the ``.env`` file as every settings
group.

The one place they are read; the caller (a command, the wiring) passes the result to the pure rating.
``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import fields

from liftwatch.core.settings_table import Group, Row, show_default
from liftwatch.ratings.rate import RatingSettings

RATING_ENV_PREFIX = "LIFTWATCH_RATING_"


def rating_settings_from_env(environ: Mapping[str, str] | None = None) -> RatingSettings:
    """The settings over the documented defaults. A value that is not a number, or out of bounds, is a
    ValueError naming every bad variable."""
    if environ is None:
        from dotenv import dotenv_values

        from liftwatch.core.config import ENV_FILE

        from_file = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
        environ = {**from_file, **os.environ}
    names = {f.name for f in fields(RatingSettings)}
    given: dict[str, float] = {}
    problems = []
    for key, raw in sorted(environ.items()):
        upper = key.upper()
        if not upper.startswith(RATING_ENV_PREFIX):
            continue
        name = upper[len(RATING_ENV_PREFIX) :].lower()
        if name not in names:
            continue
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{RATING_ENV_PREFIX}{name.upper()}={raw!r}: expected a number")
            continue
        if not math.isfinite(value) or value < 0:
            problems.append(f"{RATING_ENV_PREFIX}{name.upper()}={raw!r}: expected a number >= 0")
            continue
        given[name] = value
    if problems:
        raise ValueError("; ".join(problems))
    try:
        return RatingSettings(**given)
    except ValueError as exc:
        raise ValueError(f"{RATING_ENV_PREFIX}*: {exc}") from None


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    rows = []
    for f in fields(RatingSettings):
        why = str(f.metadata.get("why", ""))
        rows.append(
            Row(f"{RATING_ENV_PREFIX}{f.name.upper()}", show_default(f.default), why[:1].upper() + why[1:])
        )
    return Group(
        "Maintenance-unit ratings (LIFTWATCH_RATING_*, points, shares 0-1; docs/RATINGS.md)", tuple(rows)
    )
