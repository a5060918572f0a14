"""What the HTTP figures and the load test serve and how they sign in.

- The app connects as it does in production on PostgreSQL: as a LOGIN role that owns no table
  and is no superuser (`APP_ROLE`, created when missing and given `rls.grant_app_role` on the
  bench database; it is kept, like any role, and owns nothing), so row-level security applies;
  migrations' owner is `COTERIE_MIGRATION_DATABASE_URL` (the bench URL).
- Bench users cannot sign in with a password: personal API tokens are inserted for them
  (`issue_tokens`, named `TOKEN_NAME`) and deleted afterwards (`remove_tokens`).
- `serve` starts `uvicorn` in a child process (the app: `coterie.app:create_app`, or the floor:
  `bench.floor:create_floor`) on a free loopback port, waits for `/healthz`, and stops
  it at the end. Its access log is off and its errors go to a log file shown on failure.
"""

from __future__ import annotations

import secrets as random_secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
import psutil
import psycopg
from psycopg import sql
from sqlalchemy import delete, insert, make_url

from bench.database import BenchDatabaseError, display_url
from bench.processes import child_environment
from coterie.auth import secrets
from coterie.authz import rls
from coterie.db import make_engine, new_id, utcnow
from coterie.models import AuthToken

APP_ROLE = "coterie_bench_app"
TOKEN_NAME = "coterie-bench"  # noqa: S105 (the tokens' name, not a secret)
READY_TIMEOUT = 90.0
Target = Literal["app", "floor"]


class BenchServerError(BenchDatabaseError):
    """A server of the HTTP benchmarks did not start or answer."""


def require_postgresql(url: str) -> None:
    if make_url(url).get_backend_name() != "postgresql":
        raise BenchDatabaseError(
            "The HTTP figures and the load test need PostgreSQL (the app connects as a role "
            f"row-level security applies to): {display_url(url)} is not."
        )


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def app_role_url(owner_url: str, role: str = APP_ROLE) -> str:
    """The URL the app connects with: `role` (created when missing: LOGIN, no superuser, no
    BYPASSRLS), granted what the app needs on the bench database by its owner."""
    require_postgresql(owner_url)
    with psycopg.connect(_libpq(owner_url), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if found is None:
            with suppress(psycopg.errors.DuplicateObject):  # another run created it meanwhile
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(
                        sql.Identifier(role)
                    )
                )
    engine = make_engine(owner_url)
    try:
        with engine.begin() as connection:
            rls.grant_app_role(connection, role)
    finally:
        engine.dispose()
    return make_url(owner_url).set(username=role).render_as_string(hide_password=False)


def issue_tokens(owner_url: str, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """A personal API token for each user (secrets returned, digests stored)."""
    issued: dict[uuid.UUID, str] = {}
    rows = []
    for user_id in dict.fromkeys(user_ids):
        secret = secrets.new_secret("personal")
        issued[user_id] = secret
        rows.append(
            {
                "id": new_id(),
                "user_id": user_id,
                "kind": "personal",
                "name": TOKEN_NAME,
                "token_hash": secrets.digest(secret),
                "prefix": secrets.display_prefix(secret),
                "created_at": utcnow(),
            }
        )
    engine = make_engine(owner_url)
    try:
        with engine.begin() as connection:
            connection.execute(insert(AuthToken), rows)
    finally:
        engine.dispose()
    return issued


def remove_tokens(owner_url: str) -> None:
    """Delete every token the benchmarks issued (also those a killed run left behind)."""
    engine = make_engine(owner_url)
    try:
        with engine.begin() as connection:
            connection.execute(delete(AuthToken).where(AuthToken.name == TOKEN_NAME))
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    target: Target
    process: subprocess.Popen[bytes]
    base_url: str
    workers_wanted: int
    log_path: Path
    database_user: str = ""
    database_name: str = ""

    def workers(self) -> list[psutil.Process]:
        """The processes serving requests: uvicorn's worker children, or the process itself
        when it runs a single worker."""
        parent = psutil.Process(self.process.pid)
        if self.workers_wanted <= 1:
            return [parent]
        found = []
        for child in parent.children(recursive=False):
            try:
                command = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "resource_tracker" not in command:
                found.append(child)
        return found

    def backends(self) -> list[psutil.Process]:
        """The PostgreSQL backends of the server's connections (same machine): those of its
        role on its database, by their process title."""
        wanted = f" {self.database_user} {self.database_name} "
        found = []
        for process in psutil.process_iter(["cmdline"]):
            command = " ".join(process.info.get("cmdline") or [])
            if command.startswith("postgres:") and wanted in command:
                found.append(process)
        return found

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchServerError(
                f"The {server.target} server exited ({server.process.returncode}):\n"
                + server.log_tail()
            )
        try:
            answer = httpx.get(server.base_url + "/healthz", timeout=2.0)
            if answer.status_code == 200:
                if server.workers_wanted <= 1 or len(server.workers()) >= server.workers_wanted:
                    return
                last = "workers starting"
            else:
                last = f"status {answer.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise BenchServerError(
        f"The {server.target} server did not answer /healthz within {timeout:.0f} s ({last}):\n"
        + server.log_tail()
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn shuts its workers down gracefully
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serve(target: Target, owner_url: str, app_url: str, *, workers: int = 1) -> Iterator[Server]:
    """Run the app (connected as `app_url`) or the floor (as `owner_url`) under uvicorn on a
    free loopback port until the block ends."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"coterie-bench-{target}-") as directory:
        env = child_environment()
        env.update(
            {
                "COTERIE_ENV": "production",
                "COTERIE_DATA_DIR": directory,
                "COTERIE_DATABASE_URL": app_url,
                "COTERIE_MIGRATION_DATABASE_URL": owner_url,
                "COTERIE_SECRET_KEY": random_secrets.token_urlsafe(32),
                "COTERIE_HOST": "127.0.0.1",
                "COTERIE_PORT": str(port),
                "COTERIE_BENCH_FLOOR_DATABASE_URL": owner_url,
                # the load and the race tests define the workflows they drive, as before
                "COTERIE_STANDARD_WORKFLOW_AT_SIGNUP": "false",
            }
        )
        factory = "coterie.app:create_app" if target == "app" else "bench.floor:create_floor"
        command = [
            sys.executable, "-m", "uvicorn", factory, "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--log-level", "warning", "--no-access-log", "--no-proxy-headers",
        ]  # fmt: skip
        log_path = Path(directory) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        connected = make_url(app_url if target == "app" else owner_url)
        server = Server(
            target,
            process,
            f"http://127.0.0.1:{port}",
            workers,
            log_path,
            database_user=connected.username or "",
            database_name=connected.database or "",
        )
        try:
            _wait_ready(server, READY_TIMEOUT)
            yield server
        finally:
            _stop(process)
