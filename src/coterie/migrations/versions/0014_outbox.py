"""The transactional outbox, the e-mail that carries each notification, password reset requests

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("lease_until", UTC_TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("sent_at", UTC_TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name="fk_outbox_messages_company_id_companies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_messages"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_messages_idempotency_key"),
    )
    op.create_index(
        "ix_outbox_messages_status_next", "outbox_messages", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_outbox_messages_company_status", "outbox_messages", ["company_id", "status"]
    )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("mail_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_notifications_mail_id_outbox_messages",
            "outbox_messages",
            ["mail_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_notifications_mail_id", ["mail_id"])
    op.create_table(
        "password_reset_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email_digest", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_password_reset_requests"),
    )
    op.create_index(
        "ix_password_reset_requests_email_at",
        "password_reset_requests",
        ["email_digest", "created_at"],
    )
    op.create_index(
        "ix_password_reset_requests_created_at", "password_reset_requests", ["created_at"]
    )


def downgrade() -> None:
    op.drop_table("password_reset_requests")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_mail_id")
        batch.drop_constraint("fk_notifications_mail_id_outbox_messages", type_="foreignkey")
        batch.drop_column("mail_id")
    op.drop_index("ix_outbox_messages_company_status", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_status_next", table_name="outbox_messages")
    op.drop_table("outbox_messages")
