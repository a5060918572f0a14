"""Row-level security for tables that hang off a shared record (used by migrations).

A row is readable when grant maintenance runs (`app.rls_bypass`), when the company of the
transaction (`app.company_id`) holds a grant on the row's record, or, where the table has an
owning company column, when the row is the company's own. Writes are not restricted by policy
(see migration 0005). PostgreSQL only; nothing happens on SQLite.
"""

from __future__ import annotations

from alembic import op

COMPANY = "nullif(current_setting('app.company_id', true), '')::uuid"
BYPASS = "current_setting('app.rls_bypass', true) = 'on'"
WRITES = {
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def _on_postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def enable(
    table: str, *, record_column: str = "record_id", company_column: str | None = None
) -> None:
    """Turn on the record-keyed read policy for `table`."""
    if not _on_postgresql():
        return
    # table and column names come from migrations, never from input
    visible = (
        "EXISTS (SELECT 1 FROM record_access a "  # noqa: S608
        f"WHERE a.record_id = {table}.{record_column} AND a.company_id = {COMPANY})"
    )
    if company_column is not None:
        visible = f"{table}.{company_column} = {COMPANY} OR {visible}"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY coterie_read ON {table} FOR SELECT USING ({BYPASS} OR ({visible}))")
    for name, clause in WRITES.items():
        op.execute(f"CREATE POLICY coterie_{name} ON {table} {clause}")


def disable(table: str) -> None:
    if not _on_postgresql():
        return
    for name in ("read", *WRITES):
        op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON {table}")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
