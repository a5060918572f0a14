"""The owner decides who joins: proposals and the delegated right to admit (DESIGN must 8)

Adds `record_participants.can_admit` (the owner let this participant admit companies) and
`record_proposals` (a participant proposes a company; the owner accepts, which invites it, or
declines). Pending invitations that a company other than the owner sent before this revision
(by hand, by its auto-share rule or by a deal registration) become pending proposals: the owner
decides them now; the invited company loses the invitation until the owner admits it. Active
participants stay (they were on the owner's participant list all along; the owner may remove
them).

Row-level security (PostgreSQL): a proposal is read by its proposing company and by companies
holding a grant on the record (the service shows it to the owner and its delegates only); the
proposed company never reads it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import uuid_utils.compat as uuid_compat
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPANY = "nullif(current_setting('app.company_id', true), '')::uuid"
READ = f"""
    current_setting('app.rls_bypass', true) = 'on'
    OR proposed_by_company_id = {COMPANY}
    OR EXISTS (SELECT 1 FROM record_access a WHERE a.record_id = record_proposals.record_id
               AND a.company_id = {COMPANY})
"""  # noqa: S608 (constant SQL, no input)
WRITES = {
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def upgrade() -> None:
    with op.batch_alter_table("record_participants") as batch:
        batch.add_column(
            sa.Column("can_admit", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "record_proposals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_by_company_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_record_proposals_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_record_proposals_decided_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_company_id"],
            ["companies.id"],
            name=op.f("fk_record_proposals_proposed_by_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_user_id"],
            ["users.id"],
            name=op.f("fk_record_proposals_proposed_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_proposals_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_proposals")),
        sa.UniqueConstraint(
            "record_id",
            "company_id",
            "proposed_by_company_id",
            name=op.f("uq_record_proposals_record_id_company_id_proposed_by_company_id"),
        ),
    )
    op.create_index(
        "ix_record_proposals_pending", "record_proposals", ["record_id", "status"], unique=False
    )
    op.create_index(
        "ix_record_proposals_proposer",
        "record_proposals",
        ["proposed_by_company_id", "status"],
        unique=False,
    )
    _invitations_by_others_become_proposals()
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE record_proposals ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY coterie_read ON record_proposals FOR SELECT USING ({READ})")
        for name, clause in WRITES.items():
            op.execute(f"CREATE POLICY coterie_{name} ON record_proposals {clause}")


def _invitations_by_others_become_proposals() -> None:
    """Pending invitations sent by a company other than the owner: proposals the owner decides."""
    uuid_type, when = sa.Uuid(), sa.DateTime(timezone=True)
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT p.record_id, r.kind, p.company_id, p.invited_by_company_id, "
                "p.invited_by_user_id, p.source, p.invited_at "
                "FROM record_participants p JOIN records r ON r.id = p.record_id "
                "WHERE p.status = 'invited' AND p.invited_by_company_id IS NOT NULL "
                "AND p.invited_by_company_id <> r.owner_company_id"
            ).columns(
                sa.column("record_id", uuid_type),
                sa.column("kind", sa.String()),
                sa.column("company_id", uuid_type),
                sa.column("invited_by_company_id", uuid_type),
                sa.column("invited_by_user_id", uuid_type),
                sa.column("source", sa.String()),
                sa.column("invited_at", when),
            )
        )
        .all()
    )
    if not rows:
        return
    proposals = sa.table(
        "record_proposals",
        sa.column("id", uuid_type),
        sa.column("record_id", uuid_type),
        sa.column("kind", sa.String()),
        sa.column("company_id", uuid_type),
        sa.column("proposed_by_company_id", uuid_type),
        sa.column("proposed_by_user_id", uuid_type),
        sa.column("source", sa.String()),
        sa.column("status", sa.String()),
        sa.column("note", sa.Text()),
        sa.column("reason", sa.Text()),
        sa.column("proposed_at", when),
    )
    op.bulk_insert(
        proposals,
        [
            {
                "id": uuid_compat.uuid7(),  # a time-ordered UUIDv7, as the app makes ids
                "record_id": row.record_id,
                "kind": row.kind,
                "company_id": row.company_id,
                "proposed_by_company_id": row.invited_by_company_id,
                "proposed_by_user_id": row.invited_by_user_id,
                "source": row.source,  # "manual" or the rule's id
                "status": "pending",
                "note": "",
                "reason": "",
                "proposed_at": row.invited_at,
            }
            for row in rows
        ],
    )
    participants = sa.table(
        "record_participants", sa.column("record_id", uuid_type), sa.column("company_id", uuid_type)
    )
    for row in rows:
        op.get_bind().execute(
            participants.delete().where(
                participants.c.record_id == row.record_id,
                participants.c.company_id == row.company_id,
            )
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name in ("read", *WRITES):
            op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON record_proposals")
    op.drop_index("ix_record_proposals_proposer", table_name="record_proposals")
    op.drop_index("ix_record_proposals_pending", table_name="record_proposals")
    op.drop_table("record_proposals")
    with op.batch_alter_table("record_participants") as batch:
        batch.drop_column("can_admit")
