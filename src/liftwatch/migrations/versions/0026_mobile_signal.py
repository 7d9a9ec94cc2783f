"""the registry's in-car mobile signal flag (轿厢内移动信号) for the coverage KPIs (issue 15, item 1).

Expand only: one nullable column, so the release before keeps running against it (it declares no
oldest_reader and inherits the one before). NULL means nobody has checked the car yet.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("elevators") as batch:
        batch.add_column(sa.Column("mobile_signal", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elevators") as batch:
        batch.drop_column("mobile_signal")
