"""Attachments: files uploaded to records, comments and (later) fund claims

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_kind", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("record_kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_attachments_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_attachments_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_attachments_uploaded_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachments_storage_key")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index("ix_attachments_record", ["record_id"], unique=False)
        batch_op.create_index(
            "ix_attachments_subject", ["subject_kind", "subject_id", "created_at"], unique=False
        )

    _enable_policy()


def downgrade() -> None:
    _disable_policy()
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_attachments_subject")
        batch_op.drop_index("ix_attachments_record")
    op.drop_table("attachments")


# --- row-level security, frozen as of this revision ----------------------------------------------
# (written out here so this migration gives the same policies for ever, whatever the app later
# does) A row is readable while grant maintenance runs (`app.rls_bypass`), when the row is the
# transaction's company's own upload (`app.company_id`), or when that company holds a grant on
# the row's record. Writes are not restricted by policy (see 0005). PostgreSQL only.

_COMPANY = "nullif(current_setting('app.company_id', true), '')::uuid"
_BYPASS = "current_setting('app.rls_bypass', true) = 'on'"
_VISIBLE = (  # this migration's own constants, never input
    f"attachments.company_id = {_COMPANY} OR EXISTS (SELECT 1 FROM record_access a "  # noqa: S608
    f"WHERE a.record_id = attachments.record_id AND a.company_id = {_COMPANY})"
)
_POLICIES = {
    "read": f"FOR SELECT USING ({_BYPASS} OR ({_VISIBLE}))",
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def _on_postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def _enable_policy() -> None:
    if not _on_postgresql():
        return
    op.execute("ALTER TABLE attachments ENABLE ROW LEVEL SECURITY")
    for name, clause in _POLICIES.items():
        op.execute(f"CREATE POLICY coterie_{name} ON attachments {clause}")


def _disable_policy() -> None:
    if not _on_postgresql():
        return
    for name in _POLICIES:
        op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON attachments")
    op.execute("ALTER TABLE attachments DISABLE ROW LEVEL SECURITY")
