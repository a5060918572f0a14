"""The change log names the CRM a synced change came from

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("record_changes") as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record_changes") as batch_op:
        batch_op.drop_column("via")
