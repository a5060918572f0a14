"""The full-text search index over shared records: one row per searchable text value.

`search_entries` holds the core texts of a record (`owner_company_id` NULL) and the text
fields of each company's space (`owner_company_id` = that company), with `content` as written
and `terms`, the normalized words (`coterie.records.search.search_terms`) that the database
engine indexes. Whether a row may be shown is decided at read time by `coterie.records.search`
through the gate; the rows themselves carry no access decision.

Each database indexes `terms` with its own engine, created by migration 0004 only (so they are
not part of this metadata; `autogenerate_include_name` / `autogenerate_include_object` keep
autogenerate from proposing to drop them):
- PostgreSQL: a stored generated column `search_vector` (`to_tsvector('simple', terms)`) with a
  GIN index.
- SQLite: an FTS5 external-content table `search_entries_fts` over `terms` (rowid = `id`), kept
  in step by triggers. Trap: a batch migration that recreates `search_entries` on SQLite drops
  those triggers; it must recreate them and rebuild the FTS table.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base

SEARCH_TABLE = "search_entries"
SQLITE_FTS_TABLE = "search_entries_fts"  # and its shadow tables search_entries_fts_*
PG_VECTOR_COLUMN = "search_vector"
PG_VECTOR_INDEX = "ix_search_entries_search_vector"


class SearchEntry(Base):
    __tablename__ = SEARCH_TABLE
    __table_args__ = (Index("ix_search_entries_record_owner", "record_id", "owner_company_id"),)

    # INTEGER PRIMARY KEY on SQLite: the stable rowid the FTS5 table points at
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    owner_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    field_key: Mapped[str] = mapped_column(String(60))
    content: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)


def autogenerate_include_name(name: str | None, type_: str, parents: Any) -> bool:
    """Alembic `include_name`: do not reflect SQLite's FTS5 table and its shadow tables."""
    return not (type_ == "table" and name is not None and name.startswith(SQLITE_FTS_TABLE))


def autogenerate_include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic `include_object`: leave PostgreSQL's tsvector column and GIN index alone."""
    if type_ == "column" and name == PG_VECTOR_COLUMN:
        return getattr(getattr(obj, "table", None), "name", None) != SEARCH_TABLE
    return not (type_ == "index" and name == PG_VECTOR_INDEX)
