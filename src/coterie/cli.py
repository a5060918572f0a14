"""The `coterie` command line: serve, migrate, load the demo network, manage users and tokens."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from coterie.config import Settings, get_settings

app = typer.Typer(
    help="Coterie: the shared system of record for partner ecosystems.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(
    help="Database schema: migrate to the version this code needs.", no_args_is_help=True
)
demo_app = typer.Typer(
    help="The demo network of fictional partner companies.", no_args_is_help=True
)
user_app = typer.Typer(help="Create users without the web or API.", no_args_is_help=True)
token_app = typer.Typer(
    help="Personal API tokens for scripts and integrations.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    return get_settings()


def _database_is_empty(settings: Settings) -> bool:
    from coterie.db import make_engine, make_session_factory, session_scope
    from coterie.models import Company

    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return (session.scalar(select(func.count()).select_from(Company)) or 0) == 0
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; default the newest.")] = "head",
) -> None:
    """Create or migrate the database schema (SQLite or PostgreSQL) to REVISION."""
    from coterie import migrate

    settings = _settings()
    migrate.upgrade(settings.resolved_database_url, revision)
    console.print(f"[green]Database is at revision {migrate.head_revision()}.[/green]")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the one this code needs."""
    from coterie import migrate
    from coterie.db import make_engine

    engine = make_engine(_settings().resolved_database_url)
    console.print(f"database: {migrate.current_revision(engine)}  code: {migrate.head_revision()}")
    engine.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (COTERIE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (COTERIE_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    migrate_first: Annotated[
        bool, typer.Option("--migrate", help="Run `db upgrade` before serving.")
    ] = False,
    demo_if_empty: Annotated[
        bool, typer.Option("--demo-if-empty", help="Load the demo network into an empty database.")
    ] = False,
) -> None:
    """Serve the web app and the API (http://127.0.0.1:8000 by default)."""
    import os

    import uvicorn

    from coterie import migrate
    from coterie.db import make_engine

    settings = _settings()
    if host:
        os.environ["COTERIE_HOST"] = host
    if port:
        os.environ["COTERIE_PORT"] = str(port)
    get_settings.cache_clear()
    settings = _settings()
    if migrate_first:
        migrate.upgrade(settings.resolved_database_url)
    if demo_if_empty and _database_is_empty(settings):
        _load_demo(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.ensure_migrated(engine)
    except migrate.DatabaseNotMigratedError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    finally:
        engine.dispose()
    console.print(
        f"Coterie on [bold]{settings.resolved_base_url}[/bold] "
        f"(API docs: {settings.resolved_base_url}/api/v1/docs)"
    )
    uvicorn.run(
        "coterie.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers if not reload else 1,
        reload=reload,
        log_level="info",
        proxy_headers=False,
    )


def _load_demo(settings: Settings) -> None:
    from coterie.demo import network as demo_network

    summary = demo_network.load(settings)
    table = Table(title=f"Demo network loaded: password for every login is {summary.password!r}")
    table.add_column("Company")
    table.add_column("Partner type")
    table.add_column("Admin login")
    for company in summary.companies:
        table.add_row(company.name, ", ".join(company.partner_types), company.admin_email)
    console.print(table)


@demo_app.command("load")
def demo_load(
    force: Annotated[
        bool, typer.Option(help="Load even if the database already has companies.")
    ] = False,
) -> None:
    """Load the demo network (companies, users, partnerships) and print the logins."""
    settings = _settings()
    if not force and not _database_is_empty(settings):
        err.print("The database already has companies; use --force to add the demo network anyway.")
        raise typer.Exit(code=1)
    _load_demo(settings)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The new user's e-mail (login).")],
    name: Annotated[str, typer.Option(help="Full name.")],
    company_domain: Annotated[
        str, typer.Option("--company", help="Domain of an existing company, e.g. acme.example.")
    ],
    role: Annotated[str, typer.Option(help="admin, manager or member.")] = "member",
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password."),
    ] = "",
) -> None:
    """Create a user in an existing company (for admins bootstrapping an install)."""
    from coterie.cli_actions import create_user

    try:
        user_id = create_user(_settings(), email, name, company_domain, role, password)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(f"[green]Created user {email} ({user_id}).[/green]")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'CRM sync'.")] = "cli",
    expires_in_days: Annotated[
        int | None, typer.Option(help="Expire after this many days; default never.")
    ] = None,
) -> None:
    """Create a personal API token for a user and print it (shown once)."""
    from coterie.cli_actions import create_token

    ttl = timedelta(days=expires_in_days) if expires_in_days else None
    try:
        secret = create_token(_settings(), email, name, ttl)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    console.print("Your token (it will not be shown again):", style="bold")
    sys.stdout.write(secret + "\n")


if __name__ == "__main__":
    app()
