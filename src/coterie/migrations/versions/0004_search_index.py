"""Full-text search index over shared records (tsvector + GIN on PostgreSQL, FTS5 on SQLite)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00.000000
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    # external content: the words live once, in search_entries.terms; rowid = search_entries.id
    "CREATE VIRTUAL TABLE search_entries_fts USING fts5("
    "terms, content='search_entries', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_entries_fts_insert AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_entries_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER search_entries_fts_delete AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_entries_fts(search_entries_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER search_entries_fts_update AFTER UPDATE ON search_entries BEGIN "
    "INSERT INTO search_entries_fts(search_entries_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); "
    "INSERT INTO search_entries_fts(rowid, terms) VALUES (new.id, new.terms); END",
]
POSTGRESQL_TSVECTOR = [
    "ALTER TABLE search_entries ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms)) STORED",
    "CREATE INDEX ix_search_entries_search_vector ON search_entries USING gin (search_vector)",
]

# --- the first index, frozen as of this revision ------------------------------------------------
# The records that exist when this revision runs are indexed here, with this revision's schema and
# word normalization copied in: a migration gives the same result for ever, whatever the app's
# search code (coterie.records.search) later becomes. No row-level security exists yet (0005).

CHUNK = 1000
CORE_FIELDS = ("title", "customer_name", "customer_domain", "description")
STANDARD_TEXT_FIELDS = ("stage", "product")
STANDARD_FIELD_KEYS = frozenset(
    {
        "amount",
        "currency",
        "stage",
        "forecast_category",
        "close_date",
        "owner",
        "region",
        "industry",
        "product",
    }
)
TEXT_TYPES = frozenset({"text", "long_text"})
_WORD = re.compile(r"[^\W_]+")

records = sa.table(
    "records",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    *(sa.column(key, sa.Text()) for key in CORE_FIELDS),
)
spaces = sa.table(
    "record_spaces",
    sa.column("record_id", sa.Uuid()),
    sa.column("company_id", sa.Uuid()),
    *(sa.column(key, sa.Text()) for key in STANDARD_TEXT_FIELDS),
    sa.column("custom", sa.JSON()),
)
templates = sa.table(
    "record_templates",
    sa.column("company_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("definition", sa.JSON()),
)
search_entries = sa.table(
    "search_entries",
    sa.column("record_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("owner_company_id", sa.Uuid()),
    sa.column("field_key", sa.String()),
    sa.column("content", sa.Text()),
    sa.column("terms", sa.Text()),
)


def _terms(value: str) -> str:
    """Case-folded, accents removed, split on anything that is not a letter or digit."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(folded))


def _entries(
    record_id: Any, kind: str, owner: Any, pairs: Iterable[tuple[str, Any]]
) -> list[dict[str, Any]]:
    found = []
    for key, content in pairs:
        terms = _terms(content) if isinstance(content, str) else ""
        if terms:
            found.append(
                {
                    "record_id": record_id,
                    "kind": kind,
                    "owner_company_id": owner,
                    "field_key": key,
                    "content": content,
                    "terms": terms,
                }
            )
    return found


def _custom_types(definition: Mapping[str, Any] | None) -> dict[str, str]:
    """Custom field key -> type, from a stored template definition (current and retired)."""
    found: dict[str, str] = {}
    stored = definition or {}
    for item in [*stored.get("retired", []), *stored.get("fields", [])]:
        key, kind = item.get("key"), item.get("type")
        if isinstance(key, str) and isinstance(kind, str) and key not in STANDARD_FIELD_KEYS:
            found[key] = kind
    return found


def _write(connection: sa.Connection, entries: list[dict[str, Any]]) -> None:
    if entries:
        connection.execute(search_entries.insert(), entries)


def _index_existing_records(connection: sa.Connection) -> None:
    """One index row per non-empty core text of each record and per standard or custom text
    field of each space (the custom field's type comes from its company's template)."""
    last = None
    while True:
        chunk = sa.select(records).order_by(records.c.id).limit(CHUNK)
        if last is not None:
            chunk = chunk.where(records.c.id > last)
        rows = connection.execute(chunk).mappings().all()
        if not rows:
            break
        for row in rows:
            core = [(key, row[key]) for key in CORE_FIELDS]
            _write(connection, _entries(row["id"], row["kind"], None, core))
        last = rows[-1]["id"]
    types = {
        (company_id, kind): _custom_types(definition)
        for company_id, kind, definition in connection.execute(
            sa.select(templates.c.company_id, templates.c.kind, templates.c.definition)
        )
    }
    after = None
    while True:
        chunk = (
            sa.select(spaces, records.c.kind)
            .join(records, records.c.id == spaces.c.record_id)
            .order_by(spaces.c.record_id, spaces.c.company_id)
            .limit(CHUNK)
        )
        if after is not None:
            chunk = chunk.where(
                sa.or_(
                    spaces.c.record_id > after[0],
                    sa.and_(spaces.c.record_id == after[0], spaces.c.company_id > after[1]),
                )
            )
        rows = connection.execute(chunk).mappings().all()
        if not rows:
            break
        for row in rows:
            custom_types = types.get((row["company_id"], row["kind"]), {})
            custom = row["custom"] or {}
            pairs = [(key, row[key]) for key in STANDARD_TEXT_FIELDS]
            pairs += [
                (key, value)
                for key, value in sorted(custom.items())
                if custom_types.get(key) in TEXT_TYPES
            ]
            _write(connection, _entries(row["record_id"], row["kind"], row["company_id"], pairs))
        after = (rows[-1]["record_id"], rows[-1]["company_id"])
    if connection.dialect.name == "sqlite":
        # the triggers kept FTS5 in step; a rebuild also repairs an index that had drifted
        connection.execute(
            sa.text("INSERT INTO search_entries_fts(search_entries_fts) VALUES ('rebuild')")
        )


def upgrade() -> None:
    op.create_table(
        "search_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("owner_company_id", sa.Uuid(), nullable=True),
        sa.Column("field_key", sa.String(length=60), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_search_entries_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_search_entries_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
    )
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_entries_record_owner", ["record_id", "owner_company_id"], unique=False
        )

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_FTS, "postgresql": POSTGRESQL_TSVECTOR}.get(dialect, []):
        op.execute(statement)

    # index the records that already exist (a no-op on a new database)
    _index_existing_records(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS search_entries_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS search_entries_fts")
    # on PostgreSQL the GIN index and the generated column go with the table
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_search_entries_record_owner")

    op.drop_table("search_entries")
