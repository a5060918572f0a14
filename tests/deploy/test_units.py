"""deploy/ works as written: the systemd units' commands, run as systemd would run them, serve
through the example nginx configuration, and stop within TimeoutStopSec= on SIGTERM.

Only the installation's paths (/opt/coterie, /etc/coterie, /var/lib/coterie), the environment
file's values for this machine and nginx's ports, upstream and certificate are swapped. The
sandboxing directives (ProtectSystem=, User=...) need systemd as PID 1, which this machine does
not run: `systemd-analyze verify` and `systemd-analyze security --offline` check them instead.
"""

from __future__ import annotations

import secrets
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from coterie.config import Settings
from coterie.worker import runner
from tests.fixtures.builders import PASSWORD
from tests.fixtures.live_server import free_port
from tests.fixtures.smtp import SmtpServer, link_in

from .installation import Installation, installation
from .nginx import SITE, Nginx, max_body_bytes, require
from .units import DEPLOY, REPO, Layout, UnitProcess, environment, seconds

pytestmark = pytest.mark.slow

UNITS = ("coterie-migrate.service", "coterie-web.service", "coterie-worker.service")
CLIENT = "127.0.0.2"  # the browser: loopback, but not the proxy's address (127.0.0.1)
# the most exposure `systemd-analyze security` may find in a unit: 2.0 on its 0 (best) to 10
# scale, which --threshold takes in tenths; the units are at 1.6
EXPOSURE_THRESHOLD_TENTHS = 20


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def deployed(tmp_path: Path, smtp: SmtpServer) -> Iterator[Installation]:
    overrides = {
        "COTERIE_PORT": str(free_port()),
        "WEB_WORKERS": "2",
        "COTERIE_WORKER_THREADS": "1",
        "COTERIE_SMTP_HOST": "127.0.0.1",
        "COTERIE_SMTP_PORT": str(smtp.port),
        "COTERIE_SMTP_STARTTLS": "false",
        "COTERIE_SMTP_USERNAME": "",
    }
    with installation(tmp_path, overrides) as installed:
        yield installed


def test_the_units_pass_systemd_analyze(tmp_path: Path) -> None:
    """verify: syntax, values, and that ExecStart= names an executable (the repository's)."""
    analyze = require("systemd-analyze")
    installed = Layout({"/opt/coterie": REPO})
    rendered = tmp_path / "units"
    rendered.mkdir()
    for name in UNITS:
        (rendered / name).write_text(installed.map((DEPLOY / "systemd" / name).read_text()))
    paths = [str(rendered / name) for name in UNITS]
    verified = subprocess.run(
        [analyze, "verify", "--man=no", *paths], capture_output=True, text=True, cwd=rendered
    )
    # verify reports unknown keys and bad values as warnings, with status 0: any output fails
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")
    for path in paths:
        threshold = f"--threshold={EXPOSURE_THRESHOLD_TENTHS}"
        security = subprocess.run(
            [analyze, "security", "--offline=yes", threshold, path],
            capture_output=True,
            text=True,
        )
        assert security.returncode == 0, security.stdout[-3000:]


def test_the_proxy_refuses_what_the_app_would_refuse() -> None:
    limit = Settings.model_fields["max_request_bytes"].default
    example = (DEPLOY / "coterie.env.example").read_text()
    assert f"COTERIE_MAX_REQUEST_BYTES={limit}\n" in example
    assert max_body_bytes(SITE.read_text()) == limit


def test_the_worker_may_finish_its_jobs_before_systemd_kills_it() -> None:
    """TimeoutStopSec= of the worker unit is the graceful stop `coterie serve --with-worker`
    gives its worker, and longer than an SMTP exchange may take."""
    unit = Layout({}).unit("coterie-worker.service")
    timeout = seconds(unit.value("Service", "TimeoutStopSec") or "")
    assert timeout == runner.STOP_TIMEOUT_SECONDS
    assert timeout > Settings.model_fields["smtp_timeout_seconds"].default
    assert unit.value("Service", "KillSignal") == "SIGTERM"  # the consumer's graceful signal


def start(deployed: Installation, name: str) -> UnitProcess:
    unit = deployed.layout.unit(name)
    (command,) = unit.values("Service", "ExecStart")
    variables = environment(unit, deployed.logs / f"{name}.credentials")
    process = UnitProcess(unit, command, deployed.logs / f"{name}.log", variables)
    process.start()
    return process


def migrate(deployed: Installation) -> None:
    unit = deployed.layout.unit("coterie-migrate.service")
    assert unit.value("Service", "Type") == "oneshot"
    variables = environment(unit, deployed.logs / "migrate.credentials")
    timeout = seconds(unit.value("Service", "TimeoutStartSec", "90s") or "90s")
    for index, command in enumerate(unit.values("Service", "ExecStart")):
        log = deployed.logs / f"migrate-{index}.log"
        UnitProcess(unit, command, log, variables).run(timeout)


def wait_healthy(url: str, process: UnitProcess) -> None:
    with httpx.Client(base_url=url, timeout=5) as client:
        for _ in range(600):
            assert process.alive(), f"coterie-web exited:\n{process.log()}"
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise AssertionError(f"coterie-web did not answer in 60 s:\n{process.log()}")


def login_addresses(owner_url: str) -> set[str]:
    with psycopg.connect(owner_url) as connection:
        return {row[0] for row in connection.execute("SELECT address FROM login_attempts")}


def browser(nginx: Nginx) -> httpx.Client:
    """A client at 127.0.0.2 that trusts the test certificate, talking to the proxy."""
    context = ssl.create_default_context(cafile=str(nginx.certificate))
    transport = httpx.HTTPTransport(local_address=CLIENT, verify=context)
    return httpx.Client(
        base_url=f"https://127.0.0.1:{nginx.https_port}", transport=transport, timeout=30
    )


def test_the_units_serve_through_the_proxy_and_stop_on_sigterm(
    deployed: Installation, smtp: SmtpServer
) -> None:
    nginx = Nginx(upstream_port=int(deployed.env["COTERIE_PORT"]))  # skips early without it
    migrate(deployed)
    started: list[UnitProcess] = []
    try:
        web = start(deployed, "coterie-web.service")
        started.append(web)
        wait_healthy(f"http://127.0.0.1:{deployed.env['COTERIE_PORT']}", web)
        nginx.start()
        with browser(nginx) as client:
            email = sign_up(client)
            reset = client.post("/api/v1/auth/password-reset", json={"email": email})
            assert reset.status_code == 202, reset.text
            check_served_through_the_proxy(client, nginx)
            check_client_address_is_forwarded(client, deployed, email)
            check_body_limit(client)
        assert not (deployed.data_dir / "secret_key").exists(), "the credential was not read"
        assert "Row-level security does not apply" not in web.log()
        # uvicorn's supervisor and WEB_WORKERS processes
        assert len(web.members()) >= 1 + int(deployed.env["WEB_WORKERS"]), web.members()

        # the reset mail waited in the outbox (seconds by now): the worker unit delivers it
        assert smtp.inbox.to(email) == [], "coterie-web sent mail itself"
        worker = start(deployed, "coterie-worker.service")
        started.append(worker)
        message = smtp.inbox.wait_for(email, timeout=60)
        link = link_in(message, "/password-reset")
        assert link.startswith(deployed.env["COTERIE_BASE_URL"] + "/"), link
        assert worker.alive(), worker.log()

        for process in started:
            elapsed = process.stop()
            assert elapsed < process.timeout_stop, f"{process.unit.name} needed SIGKILL"
    finally:
        for process in started:
            process.kill()
        nginx.stop()


def check_served_through_the_proxy(client: httpx.Client, nginx: Nginx) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.headers["server"].startswith("nginx")
    assert "max-age" in health.headers["strict-transport-security"]

    plain = httpx.get(f"http://127.0.0.1:{nginx.http_port}/login?next=%2F")
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/login?next=%2F"

    # the app builds absolute URLs with the scheme nginx forwards (X-Forwarded-Proto)
    slash = client.get("/login/")
    assert slash.status_code == 307
    assert slash.headers["location"] == "https://127.0.0.1/login"

    page = client.get("/login")
    assert page.status_code == 200
    assert "<form" in page.text
    cookies = page.headers.get_list("set-cookie")
    assert cookies, "the login page sets its CSRF cookie"
    assert all("; secure" in cookie.lower() for cookie in cookies), cookies


def sign_up(client: httpx.Client) -> str:
    email = f"ada@{secrets.token_hex(4)}.example"
    signup = client.post(
        "/api/v1/signup",
        json={
            "company": {"name": "Deployed", "domain": email.partition("@")[2]},
            "user": {"name": "Ada", "email": email, "password": PASSWORD},
        },
    )
    assert signup.status_code == 201, signup.text
    return email


def check_client_address_is_forwarded(
    client: httpx.Client, deployed: Installation, email: str
) -> None:
    """The app records the browser's address, not the proxy's, and not what the browser
    claims in its own X-Forwarded-For."""
    failed = client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": "not-the-password-1"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert failed.status_code == 401
    assert login_addresses(deployed.owner_url) == {CLIENT}


def check_body_limit(client: httpx.Client) -> None:
    limit = max_body_bytes(SITE.read_text())
    headers = {"content-type": "application/json"}
    too_big = client.post("/api/v1/signup", content=b" " * (limit + 1), headers=headers)
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith("text/html")  # nginx's page: it stopped it
    at_limit = client.post("/api/v1/signup", content=b" " * limit, headers=headers)
    assert at_limit.headers["content-type"] == "application/problem+json"  # the app answered
    assert at_limit.status_code != 413
