"""`kill -9` loses nothing: of a worker in the middle of a delivery, of the web process in the
middle of requests. What was committed is delivered at least once; a message sent twice carries
the same Message-ID."""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.app import create_app
from coterie.db import make_engine, utcnow
from coterie.mail.delivery import message_id_for
from coterie.models import Invitation
from tests.conftest import empty_all_tables, make_settings
from tests.fixtures.builders import make_company
from tests.fixtures.live_server import COTERIE, free_port, wait_until_healthy
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.worker import (
    env_of,
    flush_queue,
    outbox_rows,
    queued,
    wait_until,
    worker_process,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("worker")]


@pytest.fixture
def own_smtp() -> SmtpServer:
    server = SmtpServer()
    server.start()
    yield server  # type: ignore[misc]
    server.release_replies()
    server.stop()


def test_a_worker_killed_mid_delivery_leaves_the_mail_to_the_next_under_one_message_id(
    app_database_url: str, own_smtp: SmtpServer, tmp_path: Path
) -> None:
    settings = queued(
        make_settings(app_database_url, tmp_path, own_smtp.port), outbox_lease_seconds=2
    )
    application = create_app(settings)
    engine = application.state.engine
    try:
        with TestClient(application, base_url="http://testserver") as client:
            admin = make_company(client, "Crash Co")
            own_smtp.hold_replies()  # the server takes the message and never says so
            with worker_process(settings, tmp_path / "worker-1.log") as worker:
                invited = client.post(
                    "/api/v1/invitations",
                    json={"email": "victim@crash.example"},
                    headers=admin.headers,
                )
                assert invited.status_code == 201, invited.text
                own_smtp.inbox.wait_for("victim@crash.example", timeout=30)
                worker.send_signal(signal.SIGKILL)
                worker.wait()
            (row,) = outbox_rows(engine, topic="invitation")
            assert (row.status, row.attempts) == ("sending", 1)  # nobody knows it arrived
            own_smtp.release_replies()
            lease_end = row.lease_until
            assert lease_end is not None
            wait_until(lambda: utcnow() > lease_end, "the dead worker's lease over", 10)

            with worker_process(settings, tmp_path / "worker-2.log"):
                wait_until(
                    lambda: outbox_rows(engine, topic="invitation")[0].status == "sent",
                    "the next worker delivered it",
                )
        (row,) = outbox_rows(engine, topic="invitation")
        assert row.attempts == 2
        copies = own_smtp.inbox.to("victim@crash.example")
        assert len(copies) == 2  # at least once: twice here, and recognisably the same
        assert {m["Message-ID"] for m in copies} == {message_id_for(settings, row.id)}
    finally:
        flush_queue(settings)
        empty_all_tables(engine)
        engine.dispose()


def test_the_web_process_killed_mid_requests_loses_no_committed_mail(
    app_database_url: str, own_smtp: SmtpServer, tmp_path: Path
) -> None:
    settings = queued(make_settings(app_database_url, tmp_path, own_smtp.port))
    port = free_port()
    env = env_of(settings) | {"COTERIE_PORT": str(port)}
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        web = subprocess.Popen(
            [str(COTERIE), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    engine = make_engine(app_database_url)
    emails = [f"guest{i}-{secrets.token_hex(3)}@kill.example" for i in range(24)]
    try:
        wait_until_healthy(url, web, log_path)
        with httpx.Client(base_url=url, timeout=30) as client:
            admin = make_company(client, "Killed Co")  # type: ignore[arg-type]

        def invite(email: str) -> int:
            try:
                with httpx.Client(base_url=url, timeout=30) as one:
                    response = one.post(
                        "/api/v1/invitations", json={"email": email}, headers=admin.headers
                    )
                    return response.status_code
            except httpx.TransportError:
                return 0  # the server died under it

        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            answers = pool.map(invite, emails)
            first = next(answers)  # one answered: kill the server amid the others
            os.kill(web.pid, signal.SIGKILL)
            web.wait()
            answered = [first, *answers]
        assert answered.count(201) >= 1
        assert answered.count(0) >= 1, "every request finished before the kill: no crash tested"

        with Session(engine) as session:
            committed = set(session.scalars(select(Invitation.email)))
        # a worker starting later sweeps what lost its wake-up when the web process died
        with worker_process(settings, tmp_path / "worker.log"):
            for email in committed:
                own_smtp.inbox.wait_for(email, timeout=30)
        assert committed  # 201s were committed
        for email in emails:
            count = len(own_smtp.inbox.to(email))
            assert count == (1 if email in committed else 0), email
        assert all(r.status == "sent" for r in outbox_rows(engine, topic="invitation"))
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()
        flush_queue(settings)
        empty_all_tables(engine)
        engine.dispose()
