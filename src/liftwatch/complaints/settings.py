"""The complaint settings read from the environment, at the edge: ``LIFTWATCH_COMPLAINT_<NAME>`` (any case)
over the defaults of ``workflow.ComplaintSettings``, the process's environment over the ``.env`` file as
every settings group. (``LIFTWATCH_COMPLAINT_WEBHOOK_URL``, a URL, is a core setting.)

``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from liftwatch.complaints.workflow import ComplaintSettings
from liftwatch.core.settings_table import Group, dataclass_group, numbers_from_env

COMPLAINT_ENV_PREFIX = "LIFTWATCH_COMPLAINT_"


def complaint_settings_from_env(environ: Mapping[str, str] | None = None) -> ComplaintSettings:
    """The settings over the documented defaults; a value not a number or out of bounds is a ValueError
    naming every bad variable."""
    return numbers_from_env(ComplaintSettings, COMPLAINT_ENV_PREFIX, environ)


def settings_group() -> Group:
    return dataclass_group(
        "Complaints (LIFTWATCH_COMPLAINT_*, hours, days, counts; docs/COMPLAINTS.md)",
        ComplaintSettings,
        COMPLAINT_ENV_PREFIX,
    )


@lru_cache(maxsize=1)
def _from_env() -> ComplaintSettings:
    return complaint_settings_from_env()


def for_app(state: Any) -> ComplaintSettings:
    """The settings of an app: its ``state.complaint_settings`` when set (tests, the wiring), else those of
    the environment, read once."""
    given = getattr(state, "complaint_settings", None)
    return given if isinstance(given, ComplaintSettings) else _from_env()
