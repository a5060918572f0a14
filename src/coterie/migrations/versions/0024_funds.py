"""Marketing development funds: budgets, allocations, fund requests, claims, private notes

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 01:09:32.799508
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BYPASS = "current_setting('app.rls_bypass', true) = 'on'"
# Row-level security on PostgreSQL (as migration 0005 does for the shared-record tables): a row
# is read by the companies `coterie.funds.access` names, never another. No policy reads a table
# whose own policy reads it back (PostgreSQL refuses recursive policies): allocations carry
# their funder for that reason.
READ = {
    "fund_budgets": """
        company_id = nullif(current_setting('app.company_id', true), '')::uuid
        OR EXISTS (SELECT 1 FROM fund_allocations a WHERE a.budget_id = fund_budgets.id
                   AND a.partner_company_id
                   = nullif(current_setting('app.company_id', true), '')::uuid)
    """,
    "fund_allocations": """
        partner_company_id = nullif(current_setting('app.company_id', true), '')::uuid
        OR funder_company_id = nullif(current_setting('app.company_id', true), '')::uuid
    """,
    "fund_requests": """
        requester_company_id = nullif(current_setting('app.company_id', true), '')::uuid
        OR funder_company_id = nullif(current_setting('app.company_id', true), '')::uuid
    """,
    "fund_claims": """
        requester_company_id = nullif(current_setting('app.company_id', true), '')::uuid
        OR funder_company_id = nullif(current_setting('app.company_id', true), '')::uuid
    """,
    "fund_notes": "company_id = nullif(current_setting('app.company_id', true), '')::uuid",
}
WRITES = {
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    _create_tables()
    if _on_postgresql():
        for table, visible in READ.items():
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY coterie_read ON {table} FOR SELECT USING ({BYPASS} OR ({visible}))"
            )
            for name, clause in WRITES.items():
                op.execute(f"CREATE POLICY coterie_{name} ON {table} {clause}")


def _create_tables() -> None:
    op.create_table(
        "fund_budgets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period_name", sa.String(length=60), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("committed_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total_shared", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_fund_budgets_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_fund_budgets_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["records.id"],
            name=op.f("fk_fund_budgets_program_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_budgets")),
    )
    with op.batch_alter_table("fund_budgets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_budgets_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_budgets_program_id"), ["program_id"], unique=False
        )

    op.create_table(
        "fund_allocations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("partner_company_id", sa.Uuid(), nullable=False),
        sa.Column("funder_company_id", sa.Uuid(), nullable=False),
        sa.Column("cap_cents", sa.BigInteger(), nullable=True),
        sa.Column("committed_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["fund_budgets.id"],
            name=op.f("fk_fund_allocations_budget_id_fund_budgets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_company_id"],
            ["companies.id"],
            name=op.f("fk_fund_allocations_partner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["funder_company_id"],
            ["companies.id"],
            name=op.f("fk_fund_allocations_funder_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_allocations")),
        sa.UniqueConstraint(
            "budget_id",
            "partner_company_id",
            name=op.f("uq_fund_allocations_budget_id_partner_company_id"),
        ),
    )
    with op.batch_alter_table("fund_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_allocations_budget_id"), ["budget_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_allocations_partner_company_id"),
            ["partner_company_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_fund_allocations_funder_company_id"),
            ["funder_company_id"],
            unique=False,
        )

    op.create_table(
        "fund_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("requester_company_id", sa.Uuid(), nullable=False),
        sa.Column("funder_company_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("requested_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_pipeline_cents", sa.BigInteger(), nullable=True),
        sa.Column("contribution_pct", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("claim_deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("approved_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("decision_message", sa.Text(), nullable=True),
        sa.Column("claimed_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("extension_status", sa.String(length=20), nullable=True),
        sa.Column("extension_deadline", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["fund_budgets.id"],
            name=op.f("fk_fund_requests_budget_id_fund_budgets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["records.id"],
            name=op.f("fk_fund_requests_campaign_id_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_fund_requests_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["funder_company_id"],
            ["companies.id"],
            name=op.f("fk_fund_requests_funder_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_company_id"],
            ["companies.id"],
            name=op.f("fk_fund_requests_requester_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_requests")),
    )
    with op.batch_alter_table("fund_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_requests_budget_id"), ["budget_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fund_requests_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_requests_funder_company_id"), ["funder_company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fund_requests_requester_company_id"),
            ["requester_company_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_fund_requests_status"), ["status"], unique=False)

    op.create_table(
        "fund_claims",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("requester_company_id", sa.Uuid(), nullable=False),
        sa.Column("funder_company_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decision_message", sa.Text(), nullable=True),
        sa.Column("payment_reference", sa.String(length=100), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_fund_claims_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["funder_company_id"],
            ["companies.id"],
            name=op.f("fk_fund_claims_funder_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["fund_requests.id"],
            name=op.f("fk_fund_claims_request_id_fund_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_company_id"],
            ["companies.id"],
            name=op.f("fk_fund_claims_requester_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_claims")),
    )
    with op.batch_alter_table("fund_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fund_claims_funder_company_id"), ["funder_company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fund_claims_request_id"), ["request_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fund_claims_requester_company_id"),
            ["requester_company_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_fund_claims_status"), ["status"], unique=False)

    op.create_table(
        "fund_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_fund_notes_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_fund_notes_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["fund_requests.id"],
            name=op.f("fk_fund_notes_request_id_fund_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_notes")),
    )
    with op.batch_alter_table("fund_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_notes_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_notes_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    if _on_postgresql():
        for table in READ:
            for name in ("read", *WRITES):
                op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON {table}")
    with op.batch_alter_table("fund_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_notes_request_id"))
        batch_op.drop_index(batch_op.f("ix_fund_notes_company_id"))

    op.drop_table("fund_notes")
    with op.batch_alter_table("fund_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_claims_status"))
        batch_op.drop_index(batch_op.f("ix_fund_claims_requester_company_id"))
        batch_op.drop_index(batch_op.f("ix_fund_claims_request_id"))
        batch_op.drop_index(batch_op.f("ix_fund_claims_funder_company_id"))

    op.drop_table("fund_claims")
    with op.batch_alter_table("fund_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_requests_status"))
        batch_op.drop_index(batch_op.f("ix_fund_requests_requester_company_id"))
        batch_op.drop_index(batch_op.f("ix_fund_requests_funder_company_id"))
        batch_op.drop_index(batch_op.f("ix_fund_requests_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_fund_requests_budget_id"))

    op.drop_table("fund_requests")
    with op.batch_alter_table("fund_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_allocations_funder_company_id"))
        batch_op.drop_index(batch_op.f("ix_fund_allocations_partner_company_id"))
        batch_op.drop_index(batch_op.f("ix_fund_allocations_budget_id"))

    op.drop_table("fund_allocations")
    with op.batch_alter_table("fund_budgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_budgets_program_id"))
        batch_op.drop_index(batch_op.f("ix_fund_budgets_company_id"))

    op.drop_table("fund_budgets")
