"""Leads (decisions, source attribution) and deal registration

Adds where a record came from (`records.source_company_id`, `records.source_record_id`), the
receivers' answers to lead nominations (`lead_decisions`), deal registrations and each company's
registration settings. The record-keyed tables get the record read policy on PostgreSQL
(`_enable_record_policy`, below); a receiver also reads its own decision rows (it is only invited while
it decides, and holds no grant on the lead yet).

The two new columns of `records` have no foreign-key constraint, on purpose: SQLite adds a
constraint only by rebuilding the table (batch "move and copy"), which drops `records`, and with
SQLite's foreign keys on, that cascades into every table referencing it. Readers treat an id
that no longer resolves as absent (a source company or lead that was deleted).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_source_columns() -> None:
    with op.batch_alter_table("records", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("source_company_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("source_record_id", sa.Uuid(), nullable=True))
        batch_op.create_index("ix_records_source_record_id", ["source_record_id"], unique=False)


def upgrade() -> None:
    _add_source_columns()
    op.create_table(
        "registration_settings",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=False),
        sa.Column("renewal_days", sa.Integer(), nullable=False),
        sa.Column("max_renewals", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_registration_settings_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_registration_settings_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_registration_settings")),
    )
    op.create_table(
        "deal_registrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("registering_company_id", sa.Uuid(), nullable=False),
        sa.Column("registered_to_company_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("renewal_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_deal_registrations_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_deal_registrations_decided_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_deal_registrations_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registered_to_company_id"],
            ["companies.id"],
            name=op.f("fk_deal_registrations_registered_to_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registering_company_id"],
            ["companies.id"],
            name=op.f("fk_deal_registrations_registering_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_registrations")),
    )
    with op.batch_alter_table("deal_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deal_registrations_from_status", ["registering_company_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deal_registrations_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(
            "ix_deal_registrations_to_status", ["registered_to_company_id", "status"], unique=False
        )

    op.create_table(
        "lead_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("nominated_by_company_id", sa.Uuid(), nullable=True),
        sa.Column("nominated_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("nominated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_lead_decisions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_lead_decisions_decided_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["nominated_by_company_id"],
            ["companies.id"],
            name=op.f("fk_lead_decisions_nominated_by_company_id_companies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["nominated_by_user_id"],
            ["users.id"],
            name=op.f("fk_lead_decisions_nominated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_lead_decisions_owner_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_lead_decisions_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_decisions")),
        sa.UniqueConstraint("record_id", "company_id", name="uq_lead_decisions_receiver"),
    )
    with op.batch_alter_table("lead_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lead_decisions_company_status", ["company_id", "status"], unique=False
        )

    # a receiver reads its own decision while it is only invited (no grant on the lead yet)
    _enable_record_policy("lead_decisions", company_column="company_id")
    # both companies of a registration are active participants of the opportunity
    _enable_record_policy("deal_registrations")


def downgrade() -> None:
    _disable_record_policy("deal_registrations")
    _disable_record_policy("lead_decisions")
    with op.batch_alter_table("lead_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_decisions_company_status")
    op.drop_table("lead_decisions")
    with op.batch_alter_table("deal_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_registrations_to_status")
        batch_op.drop_index(batch_op.f("ix_deal_registrations_record_id"))
        batch_op.drop_index("ix_deal_registrations_from_status")
    op.drop_table("deal_registrations")
    op.drop_table("registration_settings")
    with op.batch_alter_table("records", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_records_source_record_id")
        batch_op.drop_column("source_record_id")
        batch_op.drop_column("source_company_id")


# --- row-level security of record-keyed tables, frozen as of this revision ---------------------
# (copied here so this migration gives the same policies for ever, whatever the app later does)
# A row is readable while grant maintenance runs (`app.rls_bypass`), when the transaction's
# company (`app.company_id`) holds a grant on the row's record, or, where the table has an owning
# company column, when the row is the company's own. Writes are not restricted by policy (see
# 0005). PostgreSQL only; nothing happens on SQLite.

_COMPANY = "nullif(current_setting('app.company_id', true), '')::uuid"
_BYPASS = "current_setting('app.rls_bypass', true) = 'on'"
_WRITE_POLICIES = {
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def _on_postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def _enable_record_policy(
    table: str, *, record_column: str = "record_id", company_column: str | None = None
) -> None:
    if not _on_postgresql():
        return
    # table and column names are this migration's constants, never input
    visible = (
        "EXISTS (SELECT 1 FROM record_access a "  # noqa: S608
        f"WHERE a.record_id = {table}.{record_column} AND a.company_id = {_COMPANY})"
    )
    if company_column is not None:
        visible = f"{table}.{company_column} = {_COMPANY} OR {visible}"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY coterie_read ON {table} FOR SELECT USING ({_BYPASS} OR ({visible}))")
    for name, clause in _WRITE_POLICIES.items():
        op.execute(f"CREATE POLICY coterie_{name} ON {table} {clause}")


def _disable_record_policy(table: str) -> None:
    if not _on_postgresql():
        return
    for name in ("read", *_WRITE_POLICIES):
        op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON {table}")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
