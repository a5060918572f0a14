"""`make run` alone runs the periodic work: `coterie serve --with-worker` (what it starts) sends
the daily digest and sweeps lost wake-ups on the schedules in settings, on the embedded SQLite
database and queue, with no cron; Ctrl-C stops the web server and its worker together."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.orm import Session

from coterie.db import make_engine
from coterie.mail.delivery import OutgoingMail, queue
from tests.fixtures.activity import comment, make_deal, mention, set_email
from tests.fixtures.live_server import COTERIE, free_port, wait_until_healthy
from tests.fixtures.smtp import Inbox
from tests.fixtures.worker import STARTED, wait_until

pytestmark = [pytest.mark.slow]


def test_serve_with_worker_sends_the_digest_and_sweeps_on_schedule_and_stops_on_ctrl_c(
    inbox: Inbox, smtp_server: object, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COTERIE_")}
    env |= {
        "COTERIE_ENV": "test",
        "COTERIE_DATA_DIR": str(tmp_path),  # the embedded SQLite database and queue file
        "COTERIE_PORT": str(port),
        "COTERIE_SMTP_HOST": "127.0.0.1",
        "COTERIE_SMTP_PORT": str(smtp_server.port),  # type: ignore[attr-defined]
        "COTERIE_DIGEST_CRON": "* * * * *",  # every minute, for the test
        "COTERIE_REGISTRATION_EXPIRY_CRON": "* * * * *",
        "COTERIE_OUTBOX_SWEEP_GRACE_SECONDS": "0",
        # the fixtures' deal has a free-text stage, as in the rest of the suite (tests/conftest)
        "COTERIE_STANDARD_WORKFLOW_AT_SIGNUP": "false",
    }
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(COTERIE), "serve", "--migrate", "--with-worker"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    url = f"http://127.0.0.1:{port}"
    workers: list[psutil.Process] = []
    try:
        wait_until_healthy(url, server, log_path)
        wait_until(lambda: STARTED in log_path.read_text(), "the worker started", 90)
        workers = psutil.Process(server.pid).children(recursive=True)
        assert any("worker" in " ".join(p.cmdline()) for p in workers), log_path.read_text()
        with httpx.Client(base_url=url, timeout=30) as client:
            deal = make_deal(client, inbox)  # type: ignore[arg-type]  # invitations: the worker mails
            set_email(client, deal.globex_rep, "daily")  # type: ignore[arg-type]
            comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} daily news")  # type: ignore[arg-type]
        # a message whose wake-up was lost: written by a session no queue listens to
        engine = make_engine(f"sqlite:///{tmp_path / 'coterie.sqlite3'}")
        with Session(engine) as session:
            queue(
                session,
                OutgoingMail(to="swept@schedule.example", subject="Swept", text="lost wake-up"),
                topic="test",
                company_id=None,
            )
            session.commit()
        engine.dispose()

        wait_until(  # at the next whole minute
            lambda: any(
                "since your last digest" in str(m["Subject"])
                for m in inbox.to(deal.globex_rep.email)
            ),
            "the digest sent on schedule",
            90,
        )
        inbox.wait_for("swept@schedule.example", timeout=90)
        wait_until(
            lambda: "registrations.expire" in log_path.read_text(),
            "the expiry task run on its schedule",
            90,
        )
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode is not None
    wait_until(
        lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers),
        "the worker stopped with the web server",
        40,
    )
