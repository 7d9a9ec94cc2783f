"""The seeded registry (tests.factories.seed) with maintenance contracts of 2026 on three elevators and one
repair work order, for the cost-disclosure tests. UU-A uses 11SHA000001 (residential) and 11SHA000002
(office); UU-B uses 11SHB000003 (mall) and 11SHB000004 (residential).

The contract fees, worked by hand (2026 has 365 days; docs/COSTS.md):
- A1, MU-A, 2026-01-01..2026-12-31, 12,000.00 yuan a year: H1 (181 days) round(1,200,000 x 181 / 365) =
  round(595,068.49) = 595,068 fen; H2 = 1,200,000 - 595,068 = 604,932 fen.
- A2, MU-A, 2026-03-01..2027-02-28, 9,000.00 yuan: H1 covers 31+30+31+30 = 122 days: round(900,000 x 122
  / 365) = round(300,821.92) = 300,822; H2: round(900,000 x 306 / 365) - 300,822 = 754,521 - 300,822 =
  453,699.
- B4, MU-B, 2026-04-01..2026-12-31, 7,300.00 yuan (20.00 yuan a day): H1 91 days = 182,000; H2 184 days =
  368,000.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderSource

A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
SETTINGS = Settings(timezone="Asia/Shanghai")
CONTRACTS = [
    (A1, "MU-A", date(2026, 1, 1), date(2026, 12, 31), 1_200_000),
    (A2, "MU-A", date(2026, 3, 1), date(2027, 2, 28), 900_000),
    (B4, "MU-B", date(2026, 4, 1), date(2026, 12, 31), 730_000),
]


def cost_city(session: Session, clock: FixedClock) -> int:
    """File the contracts and open one repair work order on A1 (seed() first); returns its id."""
    for code, unit, start, end, price in CONTRACTS:
        terms = maintenance.ContractTerms(code, unit, start, end, price_fen=price)
        maintenance.create_contract(session, SYSTEM_ACTOR, terms, clock)
    order = maintenance.open_corrective(
        session, SYSTEM_ACTOR, A1, WorkOrderSource.FAULT, "F-cost-1", "更换门机皮带", clock, SETTINGS
    )
    session.commit()
    return order.work_order.id
