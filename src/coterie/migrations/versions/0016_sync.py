"""CRM sync: connections, mappings, links, shadows, cursors, webhook inbox, conflicts, runs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("run_as_user_id", sa.Uuid(), nullable=True),
        sa.Column("poll_seconds", sa.Integer(), nullable=False),
        sa.Column("overlap_seconds", sa.Integer(), nullable=False),
        sa.Column("daily_budget", sa.Integer(), nullable=True),
        sa.Column("budget_day", sa.String(length=10), nullable=True),
        sa.Column("budget_used", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sync_connections_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_sync_connections_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_as_user_id"],
            ["users.id"],
            name=op.f("fk_sync_connections_run_as_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_connections")),
    )
    with op.batch_alter_table("sync_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_connections_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "sync_cursors",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("remote_object", sa.String(length=80), nullable=False),
        sa.Column("position", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sync_connections.id"],
            name=op.f("fk_sync_cursors_connection_id_sync_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "remote_object", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_inbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("remote_object", sa.String(length=80), nullable=False),
        sa.Column("remote_id", sa.String(length=120), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sync_connections.id"],
            name=op.f("fk_sync_inbox_connection_id_sync_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_inbox")),
        sa.UniqueConstraint(
            "connection_id", "event_id", name=op.f("uq_sync_inbox_connection_id_event_id")
        ),
    )
    with op.batch_alter_table("sync_inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_inbox_pending", ["connection_id", "processed_at"], unique=False
        )

    op.create_table(
        "sync_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("remote_object", sa.String(length=80), nullable=False),
        sa.Column("remote_id", sa.String(length=120), nullable=True),
        sa.Column("remote_version", sa.String(length=120), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("last_pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sync_connections.id"],
            name=op.f("fk_sync_links_connection_id_sync_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_sync_links_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_links")),
        sa.UniqueConstraint(
            "connection_id", "record_id", name=op.f("uq_sync_links_connection_id_record_id")
        ),
        sa.UniqueConstraint(
            "connection_id",
            "remote_object",
            "remote_id",
            name=op.f("uq_sync_links_connection_id_remote_object_remote_id"),
        ),
    )
    with op.batch_alter_table("sync_links", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_links_connection_state", ["connection_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_links_record_id"), ["record_id"], unique=False)

    op.create_table(
        "sync_mappings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("remote_object", sa.String(length=80), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("create_in_coterie", sa.Boolean(), nullable=False),
        sa.Column("create_in_crm", sa.Boolean(), nullable=False),
        sa.Column("on_crm_delete", sa.String(length=20), nullable=False),
        sa.Column("on_coterie_delete", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sync_connections.id"],
            name=op.f("fk_sync_mappings_connection_id_sync_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_mappings")),
        sa.UniqueConstraint(
            "connection_id", "kind", name=op.f("uq_sync_mappings_connection_id_kind")
        ),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pulled", sa.Integer(), nullable=False),
        sa.Column("pushed", sa.Integer(), nullable=False),
        sa.Column("created_local", sa.Integer(), nullable=False),
        sa.Column("created_remote", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sync_connections.id"],
            name=op.f("fk_sync_runs_connection_id_sync_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_runs_connection_started", ["connection_id", "started_at"], unique=False
        )

    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("base_value", sa.JSON(), nullable=True),
        sa.Column("coterie_value", sa.JSON(), nullable=True),
        sa.Column("crm_value", sa.JSON(), nullable=True),
        sa.Column("winner", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.String(length=10), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sync_connections.id"],
            name=op.f("fk_sync_conflicts_connection_id_sync_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["sync_links.id"],
            name=op.f("fk_sync_conflicts_link_id_sync_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_sync_conflicts_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_user_id"],
            ["users.id"],
            name=op.f("fk_sync_conflicts_resolved_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_conflicts_connection_status", ["connection_id", "status"], unique=False
        )

    op.create_table(
        "sync_shadows",
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("local_value", sa.JSON(), nullable=True),
        sa.Column("remote_value", sa.JSON(), nullable=True),
        sa.Column("remote_version", sa.String(length=120), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["sync_links.id"],
            name=op.f("fk_sync_shadows_link_id_sync_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("link_id", "field", name=op.f("pk_sync_shadows")),
    )


def downgrade() -> None:
    op.drop_table("sync_shadows")
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_conflicts_connection_status")

    op.drop_table("sync_conflicts")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_connection_started")

    op.drop_table("sync_runs")
    op.drop_table("sync_mappings")
    with op.batch_alter_table("sync_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_links_record_id"))
        batch_op.drop_index("ix_sync_links_connection_state")

    op.drop_table("sync_links")
    with op.batch_alter_table("sync_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_inbox_pending")

    op.drop_table("sync_inbox")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("sync_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_connections_company_id"))

    op.drop_table("sync_connections")
