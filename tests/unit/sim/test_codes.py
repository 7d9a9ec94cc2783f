"""Identifier formats of the simulated city."""

from __future__ import annotations

import random

from liftwatch.registry.schemas import CODE_RE
from liftwatch.sim import codes


def test_uscc_check_character_matches_a_published_code() -> None:
    # a widely published example of a valid code
    assert codes.is_uscc("91350100M000100Y43")
    assert not codes.is_uscc("91350100M000100Y44")
    assert not codes.is_uscc("91350100M000100Y4")


def test_generated_unit_codes_are_valid_and_carry_the_area() -> None:
    rng = random.Random(1)
    for prefix in (codes.ENTERPRISE, codes.INSTITUTION, codes.GOVERNMENT):
        code = codes.uscc(rng, "310115", prefix)
        assert codes.is_uscc(code) and code.startswith(prefix + "310115") and CODE_RE.match(code)


def test_equipment_and_registration_codes() -> None:
    assert codes.equipment_code("3110", "310101", 2005, 42) == "31103101012005000042"
    reg = codes.registration_code("3310", "L", 7)
    assert reg == "31SHL000007" and CODE_RE.match(reg)
