"""The role matrix's section of user administration over the API: disabling and enabling an account and
giving it another role (admins only). maint_b is made by the maintenance cases' city; no role acts as it."""

from __future__ import annotations

from tests.unit.accounts.matrix import Case, expect

CASES: list[Case] = [
    Case(
        "POST", "/api/v1/users/maint_b/role", expect(403, A=200), body={"role": "maintenance", "unit": "MU-A"}
    ),
    Case("POST", "/api/v1/users/maint_b/active", expect(403, A=200), body={"active": False}),
]
