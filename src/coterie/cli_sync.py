"""`coterie sync`: run CRM connections now, show their status, manage the credentials key.

The logic lives in `coterie.sync`; imports of the application stay inside the commands, as in
`coterie.cli` (see its module doc).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.console import Console

from coterie.config import get_settings

console = Console()
err = Console(stderr=True)
sync_app = typer.Typer(
    help="CRM sync: run connections now, their status, the credentials key.", no_args_is_help=True
)


def _fail(message: str) -> None:
    err.print(f"[red]{message}[/red]", soft_wrap=True)
    raise typer.Exit(code=1)


@sync_app.command("run")
def sync_run(
    connection: Annotated[
        str | None,
        typer.Option("--connection", help="One connection's id (default: every active one)."),
    ] = None,
) -> None:
    """Run connections now, in this process: pull CRM changes, push what the CRM lacks."""
    from sqlalchemy import select  # lazy

    from coterie.models.sync import ConnectionStatus, SyncConnection  # lazy
    from coterie.sync import runs  # lazy
    from coterie.worker import runner  # lazy

    settings = get_settings()
    jobs, engine = runner.open_jobs(settings)
    try:
        with jobs.session_factory() as session:
            if connection is not None:
                try:
                    wanted = [uuid.UUID(connection)]
                except ValueError:
                    _fail(f"{connection!r} is not a connection id (see `coterie sync status`).")
                    return
                if session.get(SyncConnection, wanted[0]) is None:
                    _fail(f"No connection {connection}.")
            else:
                wanted = list(
                    session.scalars(
                        select(SyncConnection.id).where(
                            SyncConnection.status == ConnectionStatus.ACTIVE.value
                        )
                    )
                )
        for connection_id in wanted:
            summary = runs.run(jobs.session_factory, settings, connection_id)
            if summary is None:
                console.print(f"{connection_id}: not run (another run holds it, or it is paused).")
                continue
            outcome = f"error: {summary.error}" if summary.error else "done"
            console.print(
                f"{connection_id}: {summary.pulled} updated from the CRM, "
                f"{summary.created_local} created here, {summary.pushed} written to the CRM "
                f"({summary.created_remote} new), {summary.conflicts} conflicts, "
                f"{summary.waiting} waiting for a person; {outcome}"
            )
        if not wanted:
            console.print("No active connection.")
    finally:
        engine.dispose()


@sync_app.command("status")
def sync_status() -> None:
    """Every connection: its CRM, status, last run, links, open conflicts, queued pushes."""
    from coterie.db import make_engine, make_session_factory  # lazy
    from coterie.sync import status  # lazy

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = status.overview(session, None)
    finally:
        engine.dispose()
    if not rows:
        console.print("No CRM connection. An admin connects one on Settings > Integrations.")
        return
    for row in rows:
        console.print(
            f"[bold]{row.name}[/bold] ({row.label}) of {row.company_name}: {row.status_text}",
            soft_wrap=True,
        )
        console.print(
            f"  id {row.id}; last run {row.last_run_text}; {row.linked} linked, "
            f"{row.waiting} waiting for a person, {row.open_conflicts} open conflicts, "
            f"{row.queued} pushes queued, {row.dead} dead",
            soft_wrap=True,
        )
        if row.last_error:
            console.print(f"  last error: {row.last_error}", soft_wrap=True)


@sync_app.command("new-key")
def sync_new_key() -> None:
    """Print a new key for COTERIE_SYNC_KEYS (put it first, then run `coterie sync rotate-keys`)."""
    from coterie.sync import secrets  # lazy

    console.print(secrets.new_key())


@sync_app.command("rotate-keys")
def sync_rotate_keys() -> None:
    """Re-encrypt every connection's credentials with the first key of COTERIE_SYNC_KEYS."""
    from coterie.db import make_engine, make_session_factory, session_scope  # lazy
    from coterie.sync import status  # lazy

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            count = status.reseal_all(session, settings)
    finally:
        engine.dispose()
    console.print(f"Re-encrypted the credentials of {count} connection(s).")


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync")
