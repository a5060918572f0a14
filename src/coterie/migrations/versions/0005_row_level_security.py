"""Row-level security on the shared-record tables (PostgreSQL only; nothing on SQLite)

A row of records, record_participants, record_spaces, record_access or search_entries is
visible to a transaction when `app.rls_bypass` is 'on' (grant maintenance, see
coterie.authz.rls.unsafe_system_scope) or when the company in `app.company_id` holds a grant on
its record; a company also sees its own participant rows, spaces and space index rows, and the
core of a record it is a participant of in any status (the invitation inbox, accept, decline,
leave). Writes are not
restricted by policy, but PostgreSQL applies the read policies to the rows an UPDATE or DELETE
finds through its WHERE clause, which is why maintenance runs with the bypass on.

The policies apply to roles that neither own the tables nor are superusers or BYPASSRLS: the
app connects as such a role; migrations run as the owner.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> who may read a row, besides `current_setting('app.rls_bypass', true) = 'on'`
READ = {
    "records": """
        EXISTS (SELECT 1 FROM record_access a WHERE a.record_id = records.id
                AND a.company_id = nullif(current_setting('app.company_id', true), '')::uuid)
        OR EXISTS (SELECT 1 FROM record_participants p WHERE p.record_id = records.id
                   AND p.company_id = nullif(current_setting('app.company_id', true), '')::uuid)
    """,
    "record_participants": """
        company_id = nullif(current_setting('app.company_id', true), '')::uuid
        OR EXISTS (SELECT 1 FROM record_access a WHERE a.record_id = record_participants.record_id
                   AND a.company_id = nullif(current_setting('app.company_id', true), '')::uuid)
    """,
    "record_spaces": """
        company_id = nullif(current_setting('app.company_id', true), '')::uuid
        OR EXISTS (SELECT 1 FROM record_access a WHERE a.record_id = record_spaces.record_id
                   AND a.company_id = nullif(current_setting('app.company_id', true), '')::uuid)
    """,
    # the full-text index (0004): core rows (owner NULL) and each company's space rows
    "search_entries": """
        owner_company_id = nullif(current_setting('app.company_id', true), '')::uuid
        OR EXISTS (SELECT 1 FROM record_access a WHERE a.record_id = search_entries.record_id
                   AND a.company_id = nullif(current_setting('app.company_id', true), '')::uuid)
    """,
    # never the grant table through itself: that policy would recurse
    "record_access": """
        company_id = nullif(current_setting('app.company_id', true), '')::uuid
    """,
}
BYPASS = "current_setting('app.rls_bypass', true) = 'on'"
WRITES = {
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _on_postgresql():
        return
    for table, visible in READ.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY coterie_read ON {table} FOR SELECT USING ({BYPASS} OR ({visible}))"
        )
        for name, clause in WRITES.items():
            op.execute(f"CREATE POLICY coterie_{name} ON {table} {clause}")


def downgrade() -> None:
    if not _on_postgresql():
        return
    for table in READ:
        for name in ("read", *WRITES):
            op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
