"""The assessment due rule read from the environment, at the edge: ``LIFTWATCH_ASSESSMENT_<NAME>`` (any
case) over the defaults of ``domain.AssessmentRule``, the process's environment over the ``.env`` file as
every settings group. ``settings_group`` gives their rows for the one settings table (docs/OPERATIONS.md)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from liftwatch.assessment.domain import AssessmentRule
from liftwatch.core.settings_table import Group, dataclass_group, numbers_from_env

ASSESSMENT_ENV_PREFIX = "LIFTWATCH_ASSESSMENT_"


def assessment_rule_from_env(environ: Mapping[str, str] | None = None) -> AssessmentRule:
    """The rule over the documented defaults (the process's environment over ``.env`` without
    ``environ``). A value not a whole number, or out of bounds, is a ValueError naming the variable."""
    return numbers_from_env(AssessmentRule, ASSESSMENT_ENV_PREFIX, environ)


@functools.cache
def current_rule() -> AssessmentRule:
    """The rule this process runs with, read once (the routes and pages take it from here)."""
    return assessment_rule_from_env()


def settings_group() -> Group:
    """Their rows in the settings table: variable, default, the reason for the default."""
    return dataclass_group(
        "Safety assessments of old elevators (LIFTWATCH_ASSESSMENT_*, years and days; docs/SUPERVISION.md)",
        AssessmentRule,
        ASSESSMENT_ENV_PREFIX,
    )
