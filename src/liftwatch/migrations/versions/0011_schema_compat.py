"""schema compatibility: for each revision, the oldest code revision that still runs against it

Rolling upgrades (expand then contract, docs/OPERATIONS.md "Upgrades"): migrations/env.py records each later
migration's ``oldest_reader`` here, so an older release can read whether it may run against a newer schema.
Every revision before this one was written when each process needed its own revision exactly: each is
recorded as a contract (its oldest reader is itself).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# No release before this one reads schema_compat: none of them can run against it.
oldest_reader: str = "0011"

_EARLIER = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"]


def upgrade() -> None:
    compat = op.create_table(
        "schema_compat",
        sa.Column("revision", sa.String(length=32), nullable=False),
        sa.Column("down_revision", sa.String(length=32), nullable=True),
        sa.Column("oldest_reader", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_schema_compat")),
    )
    # this revision's own row is written by env.py after it, like every later one's
    op.bulk_insert(
        compat,
        [
            {"revision": rev, "down_revision": _EARLIER[n - 1] if n else None, "oldest_reader": rev}
            for n, rev in enumerate(_EARLIER)
        ],
    )


def downgrade() -> None:
    op.drop_table("schema_compat")
