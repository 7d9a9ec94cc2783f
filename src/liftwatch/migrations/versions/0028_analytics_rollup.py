"""the city's figures rolled up per settled month (issue 15, item 5: speed).

``analytics_cells`` holds one row per month and cell of elevators (district, street, place type,
maintenance unit, age band) with the month's additive counts; ``analytics_months`` says which months
are rolled up and when, with the city's totals. On the 300,000-elevator benchmark city a month's KPI
table read a month of events joined to the registry (1.5 s) and a 12-month rescue trend a year of
incidents (5 s); from the roll-up the first is one SUM ... GROUP BY over a month's 49,000 cells and the
second reads a row a month (docs/PERFORMANCE.md, "Analytics").

Expand only: two new tables, so the release before keeps running against them.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = (
    "elevators",
    "monitored",
    "faults",
    "complaints",
    "inspections_passed",
    "inspections_concluded",
    "rescues",
    "responded",
    "response_judged",
    "on_time",
    "arrival_judged",
    "arrivals",
    "succeeded",
    "success_judged",
)


def upgrade() -> None:
    op.create_table(
        "analytics_months",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("arrival_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "analytics_cells",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("street", sa.String(64), nullable=False),
        sa.Column("place_type", sa.String(32), nullable=False),
        sa.Column("maintenance_unit", sa.String(64), nullable=False),
        sa.Column("age_band", sa.String(16), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("arrival_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint(
            "month",
            "district",
            "street",
            "place_type",
            "maintenance_unit",
            "age_band",
            name="uq_analytics_cells",
        ),
    )
    op.create_index("ix_analytics_cells_unit", "analytics_cells", ["maintenance_unit", "month"])


def downgrade() -> None:
    op.drop_table("analytics_cells")
    op.drop_table("analytics_months")
