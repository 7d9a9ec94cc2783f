"""The role matrix's section of the 96333 codes: reassigning 11SHA000002's code (admins and regulators) and
printing the stickers of 11SHA000001 (maint_a's elevator, not owner_b's)."""

from __future__ import annotations

from tests.unit.accounts.matrix import Case, expect

CASES: list[Case] = [
    Case(
        "POST",
        "/api/v1/elevators/11SHA000002/rescue-code",
        expect(403, A=200, R=200),
        body={"reason": "标识损毁，重新编码"},
    ),
    Case("GET", "/api/v1/registry/stickers?code=11SHA000001", expect(200, U=404, N=404, G=403)),
]
