"""The `coterie` command line: serve, migrate, load the demo network, manage users and tokens.

Commands import the application modules they use when they run (`# lazy` on those lines): the
console script is the `__main__` that uvicorn's worker processes re-import, and a worker must
answer its supervisor's health check within 5 s, which importing the whole application here
would miss on a busy machine (the workers import it afterwards, while already answering).
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from coterie import cli_backup, cli_sync
from coterie.config import Settings, get_settings

if TYPE_CHECKING:
    from coterie.demo.network import DemoSummary

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
notifications_app = typer.Typer(help="Notification e-mail: the daily digest.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(notifications_app, name="notifications")
registrations_app = typer.Typer(help="Deal registrations.", no_args_is_help=True)
app.add_typer(registrations_app, name="registrations")
outbox_app = typer.Typer(
    help="The outbox: e-mail waiting for delivery, failed, dead.", no_args_is_help=True
)
app.add_typer(outbox_app, name="outbox")
cli_backup.register(app)
cli_sync.register(app)

console = Console()
err = Console(stderr=True)


@app.callback()
def _start() -> None:
    # every command: records' hooks get their subscribers (activity, workflows)
    from coterie import wiring  # lazy (module doc)

    wiring.install()


def _settings() -> Settings:
    return get_settings()


def _fail(message: str) -> NoReturn:
    """Print `message` on stderr, unwrapped (so it can be copied), and exit with status 1."""
    err.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(code=1)


def _require_migrated(settings: Settings) -> None:
    """Exit with a clear message unless the database answers and its schema is current."""
    from coterie import migrate  # lazy (module doc)
    from coterie.db import make_engine  # lazy (module doc)

    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.ensure_migrated(engine)
    except migrate.DatabaseNotMigratedError as exc:
        _fail(str(exc))
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        _fail(f"Cannot open the database {where}: {exc.orig}")
    finally:
        engine.dispose()


def _database_is_empty(settings: Settings) -> bool:
    from coterie.db import make_engine, make_session_factory, session_scope  # lazy (module doc)
    from coterie.models import Company  # lazy (module doc)

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
    """Create or migrate the database schema (SQLite or PostgreSQL) to REVISION.

    Runs as COTERIE_MIGRATION_DATABASE_URL when set (the tables' owner), else COTERIE_DATABASE_URL.
    """
    from coterie import migrate  # lazy (module doc)

    url = _settings().resolved_migration_database_url
    try:
        reached = migrate.upgrade(url, revision)
    except migrate.RevisionError as exc:
        _fail(str(exc))
    except OperationalError as exc:
        _fail(f"Cannot open the database: {exc.orig}")
    newest = migrate.head_revision()
    if reached == newest:
        console.print(f"[green]Database is at revision {reached}, the newest.[/green]")
    else:
        console.print(
            f"[green]Database is at revision {reached}[/green]; the newest is {newest} "
            "(`coterie db upgrade` goes the rest of the way)."
        )


@db_app.command("grant-app-role")
def db_grant_app_role(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the app connects as.")],
) -> None:
    """Let ROLE read and write every table (PostgreSQL), without owning them.

    Run as the owner (COTERIE_MIGRATION_DATABASE_URL, else COTERIE_DATABASE_URL) after
    `db upgrade`; tables later migrations create are granted too. The app then connects as ROLE
    (COTERIE_DATABASE_URL), and row-level security applies to it.
    """
    from coterie.authz import rls  # lazy (module doc)
    from coterie.db import make_engine  # lazy (module doc)

    engine = make_engine(_settings().resolved_migration_database_url)
    try:
        with engine.begin() as connection:
            rls.grant_app_role(connection, role)
    except ValueError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    console.print(f"[green]Role {role} may now use the tables; connect the app as {role}.[/green]")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the one this code needs."""
    from coterie import migrate  # lazy (module doc)
    from coterie.db import make_engine  # lazy (module doc)

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
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="Also run a job worker (`coterie worker`) while serving: e-mail, digests, "
            "expiries. Production runs workers apart.",
        ),
    ] = False,
) -> None:
    """Serve the web app and the API (http://127.0.0.1:8000 by default)."""
    import uvicorn  # lazy (module doc)

    from coterie import migrate, serving  # lazy (module doc)
    from coterie.observability import logs, multiprocess  # lazy (module doc)
    from coterie.worker import runner  # lazy (module doc)

    if host:
        os.environ["COTERIE_HOST"] = host
    if port:
        os.environ["COTERIE_PORT"] = str(port)
    get_settings.cache_clear()
    settings = _settings()
    logs.configure_logging(settings)
    if (workers > 1 and not reload) or multiprocess.multiprocess_directory() is not None:
        # prometheus_client's multiprocess mode: a scrape of any worker sums them all
        multiprocess.share_between_workers(settings.data_dir / "prometheus" / str(settings.port))
    if migrate_first:
        migrate.upgrade(settings.resolved_migration_database_url)
    _require_migrated(settings)
    if demo_if_empty:
        if _database_is_empty(settings):
            _load_demo(settings)
        else:
            console.print("The database already has companies: the demo network was not loaded.")
    console.print(
        f"Coterie on [bold]{settings.resolved_base_url}[/bold] "
        f"(API docs: {settings.resolved_base_url}/api/v1/docs)"
    )
    if not with_worker:
        console.print(
            "No job worker here: e-mail, digests and expiries wait in the database until "
            "`coterie worker` runs (or serve with --with-worker)."
        )
    with runner.beside(settings) if with_worker else nullcontext():
        uvicorn.run(
            "coterie.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers if not reload else 1,
            reload=reload,
            log_config=logs.logging_config(settings),  # applied again in each worker process
            log_level=settings.log_level.lower(),
            access_log=False,  # the app writes its own (coterie.access), with route, request id
            **serving.uvicorn_options(),
        )


@app.command()
def worker(
    threads: Annotated[
        int | None, typer.Option(help="Threads running jobs (COTERIE_WORKER_THREADS).")
    ] = None,
) -> None:
    """Run the job worker: e-mail delivery from the outbox, the daily digest, registration
    expiry, on the schedules in settings. Stop it with Ctrl-C or SIGTERM (graceful)."""
    from coterie.observability import logs  # lazy (module doc)
    from coterie.worker import runner  # lazy (module doc)

    settings = _settings()
    logs.configure_logging(settings)  # COTERIE_LOG_FORMAT, COTERIE_LOG_LEVEL, as `serve`
    _require_migrated(settings)
    redis = re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", settings.redis_url)  # no password shown
    queue = f"Redis {redis}" if settings.redis_url else "the SQLite queue file"
    err.print(f"Coterie worker on {queue}, {threads or settings.worker_threads} thread(s).")
    try:
        runner.run(settings, threads)
    except runner.QueueUnavailableError as exc:
        _fail(f"Cannot reach the job queue ({queue}): {exc}")


def _print_demo(summary: DemoSummary, heading: str) -> None:
    """What the demo network holds, each company with an admin, a manager and a member login."""
    from coterie.models.vocabulary import Role  # lazy (module doc)

    links = ", ".join(f"{count} {status}" for status, count in summary.partnerships.items())
    console.print(
        f"[bold]{heading}[/bold]: {len(summary.companies)} companies, {summary.users} users, "
        f"{sum(summary.partnerships.values())} partnerships ({links})."
    )
    wide = console.width >= 110
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("Company")
    table.add_column("Role", no_wrap=True)
    table.add_column("Login", overflow="fold")  # never truncated: a login must be copyable
    if wide:
        table.add_column("Name", no_wrap=True)
    for company in summary.companies:
        logins = [company.first_login(role) for role in Role]
        shown = [login for login in logins if login is not None]
        labels = [
            Text(company.name, style="bold"),
            Text(", ".join(company.partner_types), style="dim"),
        ]
        for index, login in enumerate(shown):
            label = labels[index] if index < len(labels) else ""
            cells = [label, login.role, login.email, *([login.name] if wide else [])]
            table.add_row(*cells, end_section=index == len(shown) - 1)
    console.print(table)
    console.print(f"Password for every demo login: [bold]{summary.password}[/bold]")


def _load_demo(settings: Settings) -> None:
    from coterie.demo import network as demo_network  # lazy (module doc)

    try:
        summary = demo_network.load(settings)
    except ValueError as exc:
        _fail(str(exc))
    _print_demo(summary, "Demo network loaded")


@demo_app.command("load")
def demo_load(
    force: Annotated[
        bool, typer.Option(help="Load even if the database already has companies.")
    ] = False,
) -> None:
    """Load the demo network (companies, users, partnerships) and print the logins.

    Refuses a database that already has companies unless --force is given; never loads the demo
    network twice.
    """
    settings = _settings()
    _require_migrated(settings)
    if not force and not _database_is_empty(settings):
        _fail("The database already has companies; use --force to add the demo network anyway.")
    _load_demo(settings)


@demo_app.command("logins")
def demo_logins() -> None:
    """Print the demo logins (what `demo load` creates); needs no database."""
    from coterie.demo import network as demo_network  # lazy (module doc)

    _print_demo(demo_network.describe(), "Demo network logins")


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
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Password (asked for, hidden, if omitted): 10+ characters, hard to guess.",
        ),
    ] = "",
) -> None:
    """Create a user in an existing company (for admins bootstrapping an install)."""
    from coterie.cli_actions import create_user  # lazy (module doc)

    settings = _settings()
    _require_migrated(settings)
    try:
        user_id = create_user(settings, email, name, company_domain, role, password)
    except ValueError as exc:
        _fail(str(exc))
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
    from coterie.cli_actions import create_token  # lazy (module doc)

    settings = _settings()
    _require_migrated(settings)
    ttl = timedelta(days=expires_in_days) if expires_in_days else None
    try:
        secret = create_token(settings, email, name, ttl)
    except ValueError as exc:
        _fail(str(exc))
    console.print("Your token (it will not be shown again):", style="bold")
    sys.stdout.write(secret + "\n")


@registrations_app.command("expire")
def registrations_expire() -> None:
    """Mark approved deal registrations whose expiry date has passed as expired (idempotent;
    they already read as expired everywhere). The worker does it on its schedule
    (COTERIE_REGISTRATION_EXPIRY_CRON); this runs it now."""
    from coterie.cosell.pipeline.registrations import expire_due  # lazy (module doc)
    from coterie.db import make_engine, make_session_factory, session_scope  # lazy (module doc)

    settings = _settings()
    _require_migrated(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            count = expire_due(session)
    finally:
        engine.dispose()
    console.print(f"Expired {count} deal registration{'' if count == 1 else 's'}.")


@notifications_app.command("digest")
def notifications_digest() -> None:
    """Queue the daily digest of each user who chose one: what happened since their last.

    The worker does this on its schedule (COTERIE_DIGEST_CRON) and delivers the e-mails; run it
    by hand to send digests now. Each recipient sees only what they may still see.
    """
    from coterie.activity.digest import queue_digests  # lazy (module doc)
    from coterie.db import utcnow  # lazy (module doc)
    from coterie.worker import runner  # lazy (module doc)

    settings = _settings()
    _require_migrated(settings)
    jobs, engine = runner.open_jobs(settings)
    try:
        queued = queue_digests(jobs.session_factory, utcnow(), settings)
    finally:
        engine.dispose()
    console.print(
        f"[green]Queued {queued} digest e-mail{'s' if queued != 1 else ''}[/green] in the outbox; "
        "the worker delivers them (`coterie outbox deliver` does it now)."
    )


@outbox_app.command("status")
def outbox_status() -> None:
    """How many messages wait, failed, went dead; the age of the oldest undelivered."""
    from coterie.db import make_engine, utcnow  # lazy (module doc)
    from coterie.observability.backlog import read_outbox  # lazy (module doc)

    settings = _settings()
    _require_migrated(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            backlog = read_outbox(connection)  # what /metrics reports too
    finally:
        engine.dispose()
    counts = ", ".join(f"{count} {status}" for status, count in backlog.by_status.items())
    console.print(f"Outbox: {counts}; {backlog.failed_pending} failing and waiting to be retried.")
    if backlog.oldest_pending_created_at is not None:
        age = utcnow() - backlog.oldest_pending_created_at
        console.print(f"Oldest undelivered: {int(age.total_seconds())} s old.")


@outbox_app.command("deliver")
def outbox_deliver() -> None:
    """Attempt every message that is due, now, in this process (without a running worker)."""
    from coterie.worker import delivery, runner  # lazy (module doc)

    settings = _settings()
    _require_migrated(settings)
    jobs, engine = runner.open_jobs(settings)
    try:
        tried = delivery.deliver_due(jobs)
    finally:
        engine.dispose()
    console.print(
        f"Attempted {tried} message{'s' if tried != 1 else ''}; see `coterie outbox status`."
    )


if __name__ == "__main__":
    app()
