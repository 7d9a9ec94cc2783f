"""The role matrix's section of the city's figures (大数据监管): the KPI table, a trend, coverage and its
gaps. Admin, regulator and the 96333 operator read the city, MU-A's and UU-B's staff their own elevators;
the inspector, the gateway and the insurer are refused (403), the public must sign in (401)."""

from __future__ import annotations

from tests.unit.accounts.matrix import Case, expect

_READ = expect(403, A=200, R=200, O=200, M=200, U=200)

CASES: list[Case] = [
    Case("GET", "/api/v1/analytics/kpis?month=2026-10&by=district", _READ),
    Case("GET", "/api/v1/analytics/trend?kpi=entrapment&months=3", _READ),
    Case("GET", "/api/v1/analytics/coverage", _READ),
    Case("GET", "/api/v1/analytics/coverage/gaps?kind=mobile_signal&page=1", _READ),
]
