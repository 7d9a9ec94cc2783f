"""The risk settings read from the environment, at the edge: ``LIFTWATCH_RISK_<NAME>`` (any case) over the
defaults of ``score.RiskSettings``, the process's environment over the ``.env`` file as every settings group.

The one place they are read; the caller (the wiring, a command, the bench) passes the result to the pure
scorer. ``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import fields

from liftwatch.core.settings_table import Group, Row, show_default
from liftwatch.risk.score import RiskSettings

RISK_ENV_PREFIX = "LIFTWATCH_RISK_"


def risk_settings_from_env(environ: Mapping[str, str] | None = None) -> RiskSettings:
    """The settings over the documented defaults. A value that is not a number, or out of bounds, is a
    ValueError naming every bad variable."""
    if environ is None:
        from dotenv import dotenv_values

        from liftwatch.core.config import ENV_FILE

        from_file = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
        environ = {**from_file, **os.environ}
    names = {f.name for f in fields(RiskSettings)}
    given: dict[str, float] = {}
    problems = []
    for key, raw in sorted(environ.items()):
        upper = key.upper()
        if not upper.startswith(RISK_ENV_PREFIX):
            continue
        name = upper[len(RISK_ENV_PREFIX) :].lower()
        if name not in names:
            continue
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{RISK_ENV_PREFIX}{name.upper()}={raw!r}: expected a number")
            continue
        if not math.isfinite(value) or value < 0:
            problems.append(f"{RISK_ENV_PREFIX}{name.upper()}={raw!r}: expected a number >= 0")
            continue
        given[name] = value
    if problems:
        raise ValueError("; ".join(problems))
    try:
        return RiskSettings(**given)
    except ValueError as exc:
        raise ValueError(f"{RISK_ENV_PREFIX}*: {exc}") from None


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    rows = []
    for f in fields(RiskSettings):
        why = str(f.metadata.get("why", ""))
        rows.append(
            Row(f"{RISK_ENV_PREFIX}{f.name.upper()}", show_default(f.default), why[:1].upper() + why[1:])
        )
    return Group("Risk grading (LIFTWATCH_RISK_*, points unless named; docs/RISK.md)", tuple(rows))
