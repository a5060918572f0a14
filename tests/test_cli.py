"""The `coterie` command line, on real SQLite and PostgreSQL databases, without mocks.

Most commands run in-process with Typer's CliRunner (fast: the test suite's cheap argon2
parameters apply). What must be seen from outside (the installed `coterie` executable, a server
that refuses to start, what `make run` does) runs as a subprocess, with the real argon2 cost.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from coterie import migrate
from coterie.app import create_app
from coterie.cli import app as cli_app
from coterie.config import get_settings
from coterie.db import make_engine
from coterie.demo.data import COMPANIES
from coterie.demo.network import DEMO_PASSWORD
from coterie.mail.delivery import OutgoingMail, queue
from coterie.models import Company, Partnership, User
from coterie.models.vocabulary import PartnershipStatus, PartnerType
from tests.conftest import make_settings
from tests.fixtures.databases import KINDS, fresh_database
from tests.fixtures.live_server import COTERIE, free_port, wait_until_healthy
from tests.fixtures.smtp import Inbox, SmtpServer

NIMBUS_ADMIN = "dana.whitfield@nimbus-cloud.example"
STRONG_PASSWORD = "Quarterly-Pipeline-Review-42"
HEAD = migrate.head_revision()


def flat(text: str) -> str:
    """`text` with every run of whitespace made one space (terminal output may wrap)."""
    return " ".join(text.split())


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "COTERIE_DATABASE_URL": database_url,
        "COTERIE_DATA_DIR": str(data_dir),
        "COTERIE_ENV": "test",
        "COTERIE_SECRET_KEY": "cli-test-" + secrets.token_hex(16),
        "COLUMNS": "200",
    }


def run(
    args: list[str],
    database_url: str,
    data_dir: Path,
    *,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """`coterie ARGS` in-process, configured by environment variables like a real shell."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            cli_app,
            args,
            env=cli_env(database_url, data_dir) | (env or {}),
            input=input,
            catch_exceptions=False,
            prog_name="coterie",
        )
    finally:
        get_settings.cache_clear()


def run_subprocess(
    args: list[str],
    database_url: str,
    data_dir: Path,
    *,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The installed `coterie` executable, outside this process and its settings."""
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("COTERIE_")}
    env.update(cli_env(database_url, data_dir) | extra)
    return subprocess.run(
        [str(COTERIE), *args],
        env=env,
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(params=KINDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def migrated_database(empty_database: str) -> str:
    migrate.upgrade(empty_database)
    return empty_database


@pytest.fixture(scope="module", params=KINDS)
def demo_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database with the demo network, shared by the user and token tests."""
    directory = tmp_path_factory.mktemp("demo-db")
    with fresh_database(request.param, directory) as url:
        migrate.upgrade(url)
        result = run(["demo", "load"], url, directory)
        assert result.exit_code == 0, result.output
        yield url


@pytest.fixture
def api(demo_database: str, tmp_path: Path) -> Iterator[TestClient]:
    """The API in-process, on the demo database."""
    application = create_app(make_settings(demo_database, tmp_path, 0, smtp_host=""))
    try:
        with TestClient(application) as client:
            yield client
    finally:
        application.state.engine.dispose()


def log_in(client: TestClient | httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(User)) or 0
    finally:
        engine.dispose()


# --- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "explanation"),
    [
        ([], "shared system of record for partner ecosystems"),
        (["serve"], "Serve the web app and the API"),
        (["db"], "migrate to the version this code needs"),
        (["db", "upgrade"], "Create or migrate the database schema"),
        (["db", "current"], "Show the database's revision"),
        (["demo"], "demo network of fictional partner companies"),
        (["demo", "load"], "Load the demo network"),
        (["demo", "logins"], "Print the demo logins"),
        (["user"], "Create users without the web or API"),
        (["user", "create"], "Create a user in an existing company"),
        (["token"], "Personal API tokens"),
        (["token", "create"], "Create a personal API token"),
        (["worker"], "Run the job worker"),
        (["outbox"], "The outbox: e-mail waiting for delivery"),
        (["outbox", "status"], "How many messages wait"),
        (["outbox", "deliver"], "Attempt every message that is due"),
        (["notifications", "digest"], "Queue the daily digest"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_every_command_explains_itself(command: list[str], explanation: str) -> None:
    result = CliRunner().invoke(
        cli_app, [*command, "--help"], env={"COLUMNS": "200"}, prog_name="coterie"
    )

    assert result.exit_code == 0, result.output
    assert "Usage: coterie" in result.output
    assert explanation in flat(result.output)


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli_app, ["--help"], env={"COLUMNS": "200"}, prog_name="coterie")

    for command in ("serve", "worker", "outbox", "db", "demo", "user", "token"):
        assert f" {command} " in result.output


def test_the_installed_executable_runs(tmp_path: Path) -> None:
    result = run_subprocess(["--help"], f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path)

    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    assert "demo" in result.stdout


# --- db -----------------------------------------------------------------------------------


def test_db_upgrade_migrates_an_empty_database_to_head(empty_database: str, tmp_path: Path) -> None:
    before = run(["db", "current"], empty_database, tmp_path)
    assert before.exit_code == 0, before.output
    assert f"database: None  code: {HEAD}" in before.stdout

    upgraded = run(["db", "upgrade"], empty_database, tmp_path)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"Database is at revision {HEAD}" in upgraded.stdout

    after = run(["db", "current"], empty_database, tmp_path)
    assert f"database: {HEAD}  code: {HEAD}" in after.stdout

    again = run(["db", "upgrade"], empty_database, tmp_path)
    assert again.exit_code == 0, again.output
    engine = make_engine(empty_database)
    try:
        migrate.ensure_migrated(engine)
    finally:
        engine.dispose()


def test_db_upgrade_to_a_revision_prints_where_the_database_now_is(
    empty_database: str, tmp_path: Path
) -> None:
    result = run(["db", "upgrade", "0010"], empty_database, tmp_path)

    assert result.exit_code == 0, result.output
    assert "Database is at revision 0010" in flat(result.stdout)
    assert f"the newest is {HEAD}" in flat(result.stdout)
    current = run(["db", "current"], empty_database, tmp_path)
    assert f"database: 0010  code: {HEAD}" in current.stdout

    rest = run(["db", "upgrade"], empty_database, tmp_path)
    assert rest.exit_code == 0, rest.output
    assert f"Database is at revision {HEAD}" in flat(rest.stdout)
    assert "the newest is" not in rest.stdout


def test_db_upgrade_to_an_unknown_revision_fails_clearly(
    empty_database: str, tmp_path: Path
) -> None:
    result = run(["db", "upgrade", "no-such-revision"], empty_database, tmp_path)

    assert result.exit_code == 1
    assert "no-such-revision" in flat(result.stderr)
    assert "coterie db current" in flat(result.stderr)
    assert "Traceback" not in result.output
    assert "Database is at revision" not in result.stdout
    engine = make_engine(empty_database)
    try:
        assert migrate.current_revision(engine) is None  # nothing was migrated
    finally:
        engine.dispose()


def test_db_upgrade_refuses_to_go_backwards(migrated_database: str, tmp_path: Path) -> None:
    result = run(["db", "upgrade", "0001"], migrated_database, tmp_path)

    assert result.exit_code == 1
    assert "0001" in flat(result.stderr)
    assert "Traceback" not in result.output
    engine = make_engine(migrated_database)
    try:
        assert migrate.current_revision(engine) == HEAD  # nothing was undone
    finally:
        engine.dispose()


# --- serve refuses an un-migrated database --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("options", [[], ["--demo-if-empty"]], ids=["plain", "demo-if-empty"])
def test_serve_refuses_an_unmigrated_database(
    empty_database: str, tmp_path: Path, options: list[str]
) -> None:
    result = run_subprocess(
        ["serve", "--port", str(free_port()), *options], empty_database, tmp_path
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Run `coterie db upgrade`" in flat(result.stderr)
    assert "is empty (never migrated)" in flat(result.stderr)
    assert "Traceback" not in result.stderr


def test_the_app_factory_refuses_an_unmigrated_database(
    empty_database: str, tmp_path: Path
) -> None:
    with pytest.raises(migrate.DatabaseNotMigratedError, match="Run `coterie db upgrade`"):
        create_app(make_settings(empty_database, tmp_path, 0, smtp_host=""))


@pytest.mark.parametrize(
    "command",
    [
        ["demo", "load"],
        ["user", "create", "--email", "a.b@x.example", "--name", "A B", "--company", "x.example"],
        ["token", "create", "--email", NIMBUS_ADMIN],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_commands_refuse_an_unmigrated_database(
    empty_database: str, tmp_path: Path, command: list[str]
) -> None:
    args = [*command, "--password", STRONG_PASSWORD] if command[0] == "user" else command

    result = run(args, empty_database, tmp_path)

    assert result.exit_code == 1
    assert "Run `coterie db upgrade`" in flat(result.stderr)


# --- demo ---------------------------------------------------------------------------------


def test_demo_load_creates_the_demo_network(migrated_database: str, tmp_path: Path) -> None:
    result = run(["demo", "load"], migrated_database, tmp_path)

    assert result.exit_code == 0, result.output
    output = flat(result.stdout)
    assert DEMO_PASSWORD in output
    for spec in COMPANIES:
        assert spec.name in output
        assert spec.email_of(spec.people[0]) in output  # the admin
    engine = make_engine(migrated_database)
    try:
        with Session(engine) as session:
            companies = list(session.scalars(select(Company)))
            assert len(companies) >= 10
            assert {t for c in companies for t in c.partner_types} == set(PartnerType)
            users_per_company = Counter(session.scalars(select(User.company_id)))
            assert all(3 <= users_per_company[c.id] <= 6 for c in companies)
            statuses = set(session.scalars(select(Partnership.status)))
            assert statuses == {s.value for s in PartnershipStatus}
    finally:
        engine.dispose()


def test_demo_load_refuses_a_second_load(migrated_database: str, tmp_path: Path) -> None:
    assert run(["demo", "load"], migrated_database, tmp_path).exit_code == 0
    users = user_count(migrated_database)

    again = run(["demo", "load"], migrated_database, tmp_path)
    assert again.exit_code == 1
    assert "already has companies; use --force" in flat(again.stderr)

    forced = run(["demo", "load", "--force"], migrated_database, tmp_path)
    assert forced.exit_code == 1
    assert "demo network is already in this database" in flat(forced.stderr)
    assert "nothing was loaded" in flat(forced.stderr)
    assert "Traceback" not in forced.output
    assert user_count(migrated_database) == users


def test_demo_load_force_adds_the_demo_beside_other_companies(
    migrated_database: str, tmp_path: Path
) -> None:
    engine = make_engine(migrated_database)
    try:
        with Session(engine) as session:
            session.add(Company(name="Acme", name_key="acme", domain="acme.example"))
            session.commit()
    finally:
        engine.dispose()

    refused = run(["demo", "load"], migrated_database, tmp_path)
    forced = run(["demo", "load", "--force"], migrated_database, tmp_path)

    assert refused.exit_code == 1
    assert forced.exit_code == 0, forced.output
    assert user_count(migrated_database) == sum(len(s.people) for s in COMPANIES)


def test_demo_logins_prints_the_logins_without_a_database(tmp_path: Path) -> None:
    result = run(["demo", "logins"], f"sqlite:///{tmp_path / 'none.sqlite3'}", tmp_path)

    assert result.exit_code == 0, result.output
    assert NIMBUS_ADMIN in result.stdout
    assert "marcus.oyelaran@nimbus-cloud.example" in result.stdout  # a manager
    assert "kevin.brandt@nimbus-cloud.example" in result.stdout  # a member
    assert not (tmp_path / "none.sqlite3").exists()


def test_a_demo_admin_logs_in_through_the_api(api: TestClient) -> None:
    headers = log_in(api, NIMBUS_ADMIN, DEMO_PASSWORD)

    me = api.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["company"]["name"] == "Nimbus Cloud"
    assert me.json()["user"]["role"] == "admin"


# --- user create --------------------------------------------------------------------------


def test_user_create_with_the_password_option(
    demo_database: str, api: TestClient, tmp_path: Path
) -> None:
    email = f"new.manager.{secrets.token_hex(3)}@relay-crm.example"
    result = run(
        [
            "user",
            "create",
            "--email",
            email,
            "--name",
            "Nora Lindgren",
            "--company",
            "relay-crm.example",
            "--role",
            "manager",
            "--password",
            STRONG_PASSWORD,
        ],
        demo_database,
        tmp_path,
    )

    assert result.exit_code == 0, result.output
    assert f"Created user {email}" in result.stdout
    me = api.get("/api/v1/me", headers=log_in(api, email, STRONG_PASSWORD)).json()
    assert me["user"]["role"] == "manager"
    assert me["user"]["name"] == "Nora Lindgren"
    assert me["company"]["domain"] == "relay-crm.example"


def test_user_create_asks_for_the_password(
    demo_database: str, api: TestClient, tmp_path: Path
) -> None:
    email = f"prompted.{secrets.token_hex(3)}@quarry-analytics.example"
    args = ["user", "create", "--email", email, "--name", "Ivo Marsh"]

    result = run(
        [*args, "--company", "quarry-analytics.example"],
        demo_database,
        tmp_path,
        input=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert STRONG_PASSWORD not in result.output  # hidden input
    me = api.get("/api/v1/me", headers=log_in(api, email, STRONG_PASSWORD)).json()
    assert me["user"]["role"] == "member"


@pytest.mark.parametrize(
    ("email", "company", "role", "password", "message"),
    [
        ("x.y@nowhere.example", "nowhere.example", "member", STRONG_PASSWORD, "No company"),
        ("weak.pw@relay-crm.example", "relay-crm.example", "member", "password12", "easy to guess"),
        ("short.pw@relay-crm.example", "relay-crm.example", "member", "abc", "at least 10"),
        (NIMBUS_ADMIN, "nimbus-cloud.example", "member", STRONG_PASSWORD, "already has an"),
        (NIMBUS_ADMIN.title(), "nimbus-cloud.example", "member", STRONG_PASSWORD, "already has"),
        ("role.x@relay-crm.example", "relay-crm.example", "owner", STRONG_PASSWORD, "manager"),
    ],
    ids=["unknown-company", "weak-password", "short-password", "duplicate", "other-case", "role"],
)
def test_user_create_refuses_bad_input(
    demo_database: str,
    tmp_path: Path,
    email: str,
    company: str,
    role: str,
    password: str,
    message: str,
) -> None:
    before = user_count(demo_database)
    args = ["--email", email, "--name", "Test Person", "--company", company, "--role", role]

    result = run(["user", "create", *args, "--password", password], demo_database, tmp_path)

    assert result.exit_code == 1
    assert message in flat(result.stderr)
    assert "Traceback" not in result.output
    assert user_count(demo_database) == before


# --- token create -------------------------------------------------------------------------


def test_token_create_prints_a_working_bearer_token(
    demo_database: str, api: TestClient, tmp_path: Path
) -> None:
    result = run(
        ["token", "create", "--email", NIMBUS_ADMIN, "--name", "CRM sync"], demo_database, tmp_path
    )

    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    me = api.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == NIMBUS_ADMIN
    tokens = api.get("/api/v1/tokens", headers=headers).json()
    assert "CRM sync" in {t["name"] for t in tokens}


def test_token_create_can_expire(demo_database: str, api: TestClient, tmp_path: Path) -> None:
    result = run(
        ["token", "create", "--email", NIMBUS_ADMIN, "--name", "export", "--expires-in-days", "7"],
        demo_database,
        tmp_path,
    )

    token = result.stdout.strip().splitlines()[-1]
    tokens = api.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).json()
    (created,) = [t for t in tokens if t["name"] == "export"]
    assert created["expires_at"] is not None


def test_token_create_refuses_an_unknown_user(demo_database: str, tmp_path: Path) -> None:
    result = run(
        ["token", "create", "--email", "nobody@nimbus-cloud.example"], demo_database, tmp_path
    )

    assert result.exit_code == 1
    assert "No active user nobody@nimbus-cloud.example" in flat(result.stderr)
    assert result.stdout == ""


# --- what `make run` does -------------------------------------------------------------------


@pytest.mark.slow
def test_serve_migrates_loads_the_demo_and_answers(tmp_path: Path) -> None:
    """`coterie serve --migrate --demo-if-empty` on a fresh install, as `make run` starts it."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    database_url = f"sqlite:///{data_dir / 'coterie.sqlite3'}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COTERIE_")}
    env.update({"COTERIE_DATABASE_URL": database_url, "COTERIE_DATA_DIR": str(data_dir)})
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(COTERIE), "serve", "--migrate", "--demo-if-empty", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until_healthy(base_url, server, log_path)
        with httpx.Client(base_url=base_url, timeout=10) as client:
            headers = log_in(client, NIMBUS_ADMIN, DEMO_PASSWORD)
            directory = client.get("/api/v1/companies", headers=headers)
            assert directory.status_code == 200, directory.text
            names = {company["name"] for company in directory.json()["items"]}
            assert names == {spec.name for spec in COMPANIES}
            partnerships = client.get("/api/v1/partnerships?limit=100", headers=headers).json()
            assert {p["status"] for p in partnerships["items"]} >= {"active", "pending"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    output = flat(log_path.read_text())
    assert "Demo network loaded" in output
    assert DEMO_PASSWORD in output


# --- the outbox -------------------------------------------------------------------------------


def test_outbox_status_and_deliver_without_a_worker(
    migrated_database: str, tmp_path: Path, smtp_server: SmtpServer, inbox: Inbox
) -> None:
    engine = make_engine(migrated_database)
    try:
        with Session(engine) as session:  # queued by a process no worker listens to
            for n in range(2):
                mail = OutgoingMail(to=f"waiting{n}@cli.example", subject="Waiting", text="x")
                queue(session, mail, topic="test", company_id=None)
            session.commit()
    finally:
        engine.dispose()
    smtp = {"COTERIE_SMTP_HOST": "127.0.0.1", "COTERIE_SMTP_PORT": str(smtp_server.port)}

    waiting = run(["outbox", "status"], migrated_database, tmp_path)
    delivered = run(["outbox", "deliver"], migrated_database, tmp_path, env=smtp)
    after = run(["outbox", "status"], migrated_database, tmp_path)

    assert waiting.exit_code == 0, waiting.output
    assert "Outbox: 2 pending, 0 sending, 0 dead" in flat(waiting.output)
    assert "Oldest undelivered:" in waiting.output
    assert delivered.exit_code == 0, delivered.output
    assert "Attempted 2 messages" in flat(delivered.output)
    assert {str(m["To"]) for m in inbox.messages} >= {
        "waiting0@cli.example",
        "waiting1@cli.example",
    }
    assert "Outbox: 0 pending, 0 sending, 0 dead" in flat(after.output)


def test_the_worker_refuses_to_start_without_its_queue_and_hides_the_password(
    migrated_database: str, tmp_path: Path
) -> None:
    env = {"COTERIE_REDIS_URL": f"redis://coterie:s3cret@127.0.0.1:{free_port()}/0"}

    result = run_subprocess(["worker"], migrated_database, tmp_path, env=env)

    assert result.returncode == 1
    assert "Cannot reach the job queue (Redis redis://coterie:***@127.0.0.1" in flat(result.stderr)
    assert "s3cret" not in result.stdout + result.stderr
