"""Row-level security on PostgreSQL: the company a transaction reads as, and the system scope.

Migration 0005 enables RLS on the shared-record tables. A row is visible when the company in the
transaction-local setting `app.company_id` holds a grant on its record (its own participant rows
and spaces, and the core of a record it is invited to, too), or when `app.rls_bypass` is `on`.
This module sets those two settings; it is a no-op on SQLite, where the gate alone decides.

- Gate statements carry `as_company(company_id)` in their execution options; a `do_orm_execute`
  hook sets `app.company_id` before the statement runs, once per (sub)transaction, so the
  pattern "service writes, route commits, route reads again" binds the new transaction too.
  The hook is installed on the app's session factory (`install`, called by `create_app`); a
  session from elsewhere (CLI, jobs) needs it too, or its gate reads find nothing on PostgreSQL.
- `unsafe_system_scope(session)` (or the decorator `unsafe_system_maintenance`) turns
  `app.rls_bypass` on for grant maintenance that reads and rewrites other companies' rows (grant
  materializer, rules, policy re-application), and off again. It is the database counterpart of
  the guard's `UNSAFE`; keep its uses few and visible.

RLS is a second line behind the gate against a read that forgot its company filter. It does not
stop SQL injection: injected SQL could set the same settings.

The app must connect as a role that neither owns the tables nor is a superuser or BYPASSRLS,
or PostgreSQL skips the policies: `check_enforced()` logs a warning at start-up when it would;
`grant_app_role()` gives such a role what the app needs (`coterie db grant-app-role`).
"""

from __future__ import annotations

import functools
import logging
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from coterie.authz.guard import GATE

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

RLS_TABLES = ("records", "record_participants", "record_spaces", "record_access", "search_entries")
COMPANY_OPTION = "coterie_company"
_BOUND = "coterie_rls_bound"  # session.info: (weakref to the transaction, company id)
_SYSTEM_DEPTH = "coterie_rls_system_depth"  # session.info: nesting of unsafe_system_scope


def as_company(company_id: uuid.UUID) -> dict[str, Any]:
    """Execution options of a gate statement that reads as `company_id` (see `bind`)."""
    return {**GATE, COMPANY_OPTION: company_id}


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _set(connection: Connection, name: str, value: str) -> None:
    connection.execute(
        text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value}
    )


def bind(session: Session, company_id: uuid.UUID) -> None:
    """Make the session's current transaction read as `company_id` (PostgreSQL; cheap when it
    already does). Gate statements call this through the `do_orm_execute` hook."""
    if not _on_postgresql(session):
        return
    connection = session.connection()  # begins the transaction if none is open
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # pragma: no cover (session.connection() began one)
        raise RuntimeError("no transaction to bind")
    bound: tuple[weakref.ref[SessionTransaction], uuid.UUID] | None = session.info.get(_BOUND)
    if bound is not None and bound[0]() is transaction and bound[1] == company_id:
        return
    # SET LOCAL lasts until this (sub)transaction ends: a commit, a rollback, or a savepoint
    # rolled back undoes it, and the next gate statement finds another transaction and re-sets.
    _set(connection, "app.company_id", str(company_id))
    session.info[_BOUND] = (weakref.ref(transaction), company_id)


def _bind_gate_statement(state: ORMExecuteState) -> None:
    company_id = state.execution_options.get(COMPANY_OPTION)
    if company_id is not None:
        bind(state.session, company_id)


@contextmanager
def unsafe_system_scope(session: Session) -> Iterator[None]:
    """Let grant maintenance see every company's rows (PostgreSQL `app.rls_bypass`), within the
    current transaction; nests, and turns the bypass off when the outermost scope ends.

    Only for maintenance the app does on behalf of a write it already authorized (grants,
    rule-made participants, the search index). Never wrap a read whose result a user sees."""
    if not _on_postgresql(session):
        yield
        return
    depth: int = session.info.get(_SYSTEM_DEPTH, 0)
    if depth == 0:
        _set(session.connection(), "app.rls_bypass", "on")
    session.info[_SYSTEM_DEPTH] = depth + 1
    try:
        yield
        if depth == 0:
            session.flush()  # maintenance's pending UPDATEs run while they may see every row
    except BaseException:
        session.info[_SYSTEM_DEPTH] = depth
        if depth == 0:
            # a failed transaction only rolls back, and SET LOCAL goes with it
            with suppress(SQLAlchemyError):
                _set(session.connection(), "app.rls_bypass", "off")
        raise
    session.info[_SYSTEM_DEPTH] = depth
    if depth == 0:
        _set(session.connection(), "app.rls_bypass", "off")


def unsafe_system_maintenance(
    function: Callable[Concatenate[Session, P], R],
) -> Callable[Concatenate[Session, P], R]:
    """Decorator: run `function(session, ...)` inside `unsafe_system_scope(session)`."""

    @functools.wraps(function)
    def in_system_scope(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with unsafe_system_scope(session):
            return function(session, *args, **kwargs)

    return in_system_scope


def install(factory: sessionmaker[Session]) -> None:
    """Bind gate statements of the factory's sessions to their company (PostgreSQL)."""
    event.listen(factory, "do_orm_execute", _bind_gate_statement)


def check_enforced(engine: Engine) -> bool:
    """Whether PostgreSQL applies the row-level security policies to the app's connections; logs
    one warning when it does not (superuser, BYPASSRLS, or owner of the tables). True on SQLite
    (nothing to enforce there)."""
    if engine.dialect.name != "postgresql":
        return True
    with engine.connect() as connection:
        role = connection.execute(
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
        owned = connection.scalars(
            text(
                "SELECT c.relname FROM pg_class c "
                "WHERE c.relnamespace = current_schema()::regnamespace "
                "AND c.relname = ANY(:tables) AND pg_has_role(current_user, c.relowner, 'USAGE') "
                "ORDER BY c.relname"
            ),
            {"tables": list(RLS_TABLES)},
        ).all()
    reasons = []
    if role.rolsuper:
        reasons.append("is a superuser")
    elif role.rolbypassrls:
        reasons.append("has BYPASSRLS")
    if owned:
        reasons.append(f"owns {', '.join(owned)}")
    if not reasons:
        return True
    log.warning(
        "Row-level security does not apply: the app connects to PostgreSQL as %s, which %s. "
        "Connect the app as a role that owns no tables (coterie db grant-app-role ROLE) and run "
        "migrations as the owner (COTERIE_MIGRATION_DATABASE_URL).",
        role.current_user,
        " and ".join(reasons),
    )
    return False


def grant_app_role(connection: Connection, role: str) -> None:
    """Give `role` what the app needs on the current schema: read and write every table (only
    read `alembic_version`), use its sequences, and the same on tables created later by the
    connected role (the one migrations run as). Run as the owner, after `db upgrade`."""
    if connection.dialect.name != "postgresql":
        raise ValueError("Roles and row-level security are PostgreSQL features.")
    found = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise ValueError(f"There is no PostgreSQL role {role!r}: CREATE ROLE it (LOGIN) first.")
    if role == connection.scalar(text("SELECT current_user")):
        raise ValueError(
            f"{role!r} is the role migrations run as (the owner): RLS would not apply to it."
        )
    quote = connection.dialect.identifier_preparer.quote
    grantee = quote(role)
    schema = quote(str(connection.scalar(text("SELECT current_schema()"))))
    statements = [
        f"GRANT USAGE ON SCHEMA {schema} TO {grantee}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {grantee}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {grantee}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {grantee}",
    ]
    if connection.scalar(text("SELECT to_regclass('alembic_version')")) is not None:
        statements.append(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {grantee}")
    for statement in statements:
        connection.execute(text(statement))
    if found.rolsuper or found.rolbypassrls:
        log.warning("Role %s is a superuser or has BYPASSRLS: RLS will not apply to it.", role)
