"""detector checkpoints stored uncompressed on PostgreSQL: each partition saves its whole detector state (a
few MB of msgpack) every two seconds, and PostgreSQL compressed each copy (pglz) on the way in, a CPU cost
on the machine the pipeline shares (bench/ingest.py (c)) for a row that is replaced two seconds later.

Expand only: a storage setting, which the release before does not see. SQLite has no such thing.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE detector_checkpoints ALTER COLUMN state SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE detector_checkpoints ALTER COLUMN state SET STORAGE EXTENDED")
