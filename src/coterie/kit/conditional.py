"""Conditional writes: the database statement, not Python, decides who wins (DESIGN.md must 9).

Every model with a `version` column maps it as SQLAlchemy's `version_id_col` (no generator:
the code sets the number), so any ORM UPDATE or DELETE of such a row says
`... WHERE version = :loaded`; a row changed meanwhile raises `StaleDataError`, which the app
answers 412. On top of that net, a write claims its row *first*, before it writes anything else:

- `claim_version(session, row, expected, what)`: `UPDATE t SET version = :expected + 1
  WHERE <key> AND version = :expected`, where `expected` is the client's If-Match. The row
  count decides; the loser gets 412 `version-mismatch` with the current version. On PostgreSQL
  the winner holds the row lock until it commits: a racing claim waits, then finds the new
  version and changes nothing. Two racing writers can never both win.
- `create_once(session, row, what)`: the first save of a singleton whose GET shows version 0
  (a template, an account plan, settings): `INSERT ... ON CONFLICT DO NOTHING RETURNING` on
  its primary key, whose answer decides; the loser gets 412 like a stale update.
  `claim_singleton` picks one or the other.
- `bump_version(session, row)`: a row changed as a consequence of another, claimed write (a
  workflow move setting the record's joint stage): `version = version + 1` in SQL, so two such
  writes never lose an increment.
- `claim_status(session, row, expected, values)`: a state machine's transition, `UPDATE ...
  SET status = :new ... WHERE <key> AND status IN (:expected)`; True when this request made it.

`options` are the statement's execution options: the caller's `authz.rls.as_company(...)` for
tables the gate protects (the row was already read through the gate; the claim and the re-read
of the current version run as the same company).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import ColumnElement, Table, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import set_committed_value

from coterie.kit.problems import Problem, version_mismatch

NO_OPTIONS: Mapping[str, Any] = {}


class Versioned(Protocol):
    version: int


V = TypeVar("V", bound=Versioned)


def stale(what: str, current: int | None, given: int) -> Problem:
    """The 412 of a write whose If-Match is not the row's version (`current`; None: deleted)."""
    if current is None:
        detail = f"The {what} was deleted after you read it (you sent version {given})."
    else:
        detail = (
            f"The {what} is at version {current}, not {given}: someone changed it since you "
            "read it. Read it again and retry with its current version (ETag) as If-Match."
        )
    return version_mismatch(detail, current_version=current or 0)


def _key(row: object) -> tuple[Mapper[Any], list[ColumnElement[bool]]]:
    mapper: Mapper[Any] = inspect(row).mapper
    identity = mapper.primary_key_from_instance(row)
    where = [column == value for column, value in zip(mapper.primary_key, identity, strict=True)]
    return mapper, where


def _version_column(mapper: Mapper[Any]) -> Any:
    column = mapper.version_id_col
    if column is None:
        raise ValueError(f"{mapper.class_.__name__} maps no version_id_col")
    return column


def _column(mapper: Mapper[Any], attribute: str) -> Any:
    return mapper.columns[attribute]


def current_version(
    session: Session, row: object, options: Mapping[str, Any] = NO_OPTIONS
) -> int | None:
    """The row's version as committed now (None when it is not there)."""
    mapper, where = _key(row)
    found = session.execute(
        select(_version_column(mapper)).where(*where).execution_options(**options)
    ).first()
    return int(found[0]) if found is not None else None


def check_version(row: Versioned, expected: int, what: str) -> None:
    """412 unless `row` (as this transaction read it) is at `expected`: for a write that turns
    out to change nothing, so has nothing to claim."""
    if row.version != expected:
        raise stale(what, row.version, expected)


def claim_version(
    session: Session,
    row: Versioned,
    expected: int,
    what: str,
    options: Mapping[str, Any] = NO_OPTIONS,
) -> None:
    """Take `row` at version `expected` (the client's If-Match) and make it `expected + 1`, in
    one UPDATE whose row count decides; 412 `version-mismatch` otherwise. Call it before the
    write changes anything else, so that a loser has written nothing."""
    check_version(row, expected, what)  # what this transaction read is already another version
    mapper, where = _key(row)
    column = _version_column(mapper)
    with session.no_autoflush:  # pending changes of the row flush later, at the new version
        result = session.execute(
            update(mapper.class_)
            .where(*where, column == expected)
            .values({column: expected + 1})
            .execution_options(synchronize_session=False, **options)
        )
    if getattr(result, "rowcount", 0) != 1:
        raise stale(what, current_version(session, row, options), expected)
    set_committed_value(row, mapper.get_property_by_column(column).key, expected + 1)


def bump_version(session: Session, row: Versioned, options: Mapping[str, Any] = NO_OPTIONS) -> int:
    """`version = version + 1` in SQL, for a row changed as a consequence of a claimed write;
    the row's new version."""
    mapper, where = _key(row)
    column = _version_column(mapper)
    with session.no_autoflush:
        result = session.execute(
            update(mapper.class_)
            .where(*where)
            .values({column: column + 1})
            .returning(column)
            .execution_options(synchronize_session=False, **options)
        )
    version = int(result.scalar_one())
    set_committed_value(row, mapper.get_property_by_column(column).key, version)
    return version


def create_once(session: Session, row: V, what: str, options: Mapping[str, Any] = NO_OPTIONS) -> V:
    """Insert the first version of a singleton (If-Match 0: "it does not exist yet") with
    `INSERT ... ON CONFLICT DO NOTHING RETURNING`: what it returns decides; when a racing
    request inserted the row first this one is 412 with the version the row has. `row` is a
    new, unsaved instance holding the values; the stored row is returned."""
    mapper, key = _key(row)
    values = {
        prop.columns[0]: row.__dict__[prop.key]
        for prop in mapper.column_attrs
        if prop.key in row.__dict__
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(cast(Table, mapper.local_table))
        .values(values)
        .on_conflict_do_nothing(index_elements=list(mapper.primary_key))
        .returning(*mapper.primary_key)  # a row back only when this INSERT made it
    )
    if session.execute(statement, execution_options=options).first() is None:
        raise stale(what, current_version(session, row, options), 0)
    stored: V = session.scalars(
        select(mapper.class_).where(*key).execution_options(**options)
    ).one()
    return stored


def claim_singleton(
    session: Session,
    row: V | None,
    expected: int,
    what: str,
    new: Callable[[], V],
    options: Mapping[str, Any] = NO_OPTIONS,
) -> V:
    """A singleton (a record's plan, a company's settings) taken at version `expected`: the
    existing row claimed, or, when there is none (its GET shows version 0), `new()` (a row at
    version 1) inserted by `create_once`. Fill in its values afterwards."""
    if row is None:
        if expected != 0:
            raise stale(what, 0, expected)
        return create_once(session, new(), what, options)
    claim_version(session, row, expected, what, options)
    return row


def claim_status(
    session: Session,
    row: object,
    expected: Collection[str],
    values: Mapping[str, Any],
    options: Mapping[str, Any] = NO_OPTIONS,
) -> bool:
    """Move `row` out of one of the `expected` statuses, setting `values` (attribute name ->
    value, the new `status` among them), in one UPDATE; True when this request made the
    transition (the row then shows the new values), False when another one did first."""
    mapper, where = _key(row)
    with session.no_autoflush:
        result = session.execute(
            update(mapper.class_)
            .where(*where, _column(mapper, "status").in_(list(expected)))
            .values({_column(mapper, name): value for name, value in values.items()})
            .execution_options(synchronize_session=False, **options)
        )
    if getattr(result, "rowcount", 0) != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True


def current_status(
    session: Session, row: object, options: Mapping[str, Any] = NO_OPTIONS
) -> str | None:
    """The row's status as committed now (None when it is not there)."""
    mapper, where = _key(row)
    found = session.execute(
        select(_column(mapper, "status")).where(*where).execution_options(**options)
    ).first()
    return str(found[0]) if found is not None else None


def versioned(version: Any) -> dict[str, Any]:
    """A model's `__mapper_args__`: its `version` column checked by every ORM UPDATE/DELETE."""
    return {"version_id_col": version, "version_id_generator": False}
