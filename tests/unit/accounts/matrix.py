"""The role matrix's shared parts: the case shape, the expectation helper and the domain sections.

A domain adds its routes to the matrix in its own file, ``tests/unit/accounts/matrix_<domain>.py``, with
``CASES: list[Case]``, optionally ``city(session, clock, settings)`` that makes its records through the
services (run after the core sections' cities, in file-name order) and ``template(parts)`` that replaces the
ids of a concrete path's parts with the route template's names for the coverage check. ``sections()``
finds them, so no domain edits another's file.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from liftwatch.accounts.actor import Role

__all__ = ["MATRIX_KEY", "Case", "expect", "sections"]

A, R, O, M, U, I, G, N, P = (  # noqa: E741 - one letter per role keeps the matrix readable
    Role.ADMIN,
    Role.REGULATOR,
    Role.RESCUE_OPERATOR,
    Role.MAINTENANCE,  # staff of MU-A: maintains 11SHA000001/2
    Role.USE_UNIT,  # staff of UU-B: uses 11SHB000003/4
    Role.INSPECTOR,
    Role.GATEWAY,  # an IoT gateway: telemetry only
    Role.INSURER,  # staff of the insurer IN-A: the insurance screens of the elevators it insures only
    Role.PUBLIC,
)


MATRIX_KEY = "lwk_matrix00"  # the prefix of a key seeded for the gateway account


def expect(default: int, public: int = 401, **by_role: int) -> dict[Role, int]:
    names = {"A": A, "R": R, "O": O, "M": M, "U": U, "I": I, "G": G, "N": N}
    out = dict.fromkeys(Role, default)
    out[P] = public
    for key, status in by_role.items():
        out[names[key]] = status
    return out


@dataclass
class Case:
    method: str
    path: str
    expect: dict[Role, int]
    body: Any = None
    form: dict[str, str] | None = None
    body_for: Any = field(default=None)  # callable(role) -> body
    files_for: Any = field(default=None)  # callable(role) -> multipart files
    form_for: Any = field(default=None)  # callable(role) -> form fields


def sections() -> list[ModuleType]:
    """The domains' matrix files (``matrix_*.py`` beside this one), in file-name order."""
    here = Path(__file__).parent
    return [
        importlib.import_module(f"tests.unit.accounts.{p.stem}") for p in sorted(here.glob("matrix_*.py"))
    ]
