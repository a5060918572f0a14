"""At most one pending move per record and workflow

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    # a database that raced before this revision may hold two pending moves of one record: the
    # older stays pending, the later ones are canceled (their approvals with them)
    op.execute(
        "UPDATE workflow_approvals SET status = 'canceled' "
        "WHERE status IN ('pending', 'waiting') AND move_id IN ("
        " SELECT later.id FROM workflow_moves later JOIN workflow_moves earlier"
        " ON earlier.record_id = later.record_id AND earlier.workflow_id = later.workflow_id"
        " AND earlier.status = 'pending' AND later.status = 'pending'"
        " AND (earlier.requested_at < later.requested_at"
        " OR (earlier.requested_at = later.requested_at AND earlier.id < later.id)))"
    )
    op.execute(
        "UPDATE workflow_moves SET status = 'canceled' WHERE status = 'pending' AND EXISTS ("
        " SELECT 1 FROM workflow_moves earlier"
        " WHERE earlier.record_id = workflow_moves.record_id"
        " AND earlier.workflow_id = workflow_moves.workflow_id AND earlier.status = 'pending'"
        " AND (earlier.requested_at < workflow_moves.requested_at"
        " OR (earlier.requested_at = workflow_moves.requested_at"
        " AND earlier.id < workflow_moves.id)))"
    )
    op.create_index(
        "uq_workflow_moves_one_pending",
        "workflow_moves",
        ["record_id", "workflow_id"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_workflow_moves_one_pending", table_name="workflow_moves")
