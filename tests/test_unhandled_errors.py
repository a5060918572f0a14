"""An unexpected exception answers 500 (problem+json on the API, an HTML page elsewhere), is
logged once, and leaves the client's keep-alive connection open for its next request.

Against a real uvicorn server with the options `coterie serve` uses, over one connection: the
app is the real one, with test-only routes that raise (no real route is known to).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from coterie.app import create_app
from tests.conftest import make_settings
from tests.fixtures.live_server import serving
from tests.kit.assertions import assert_problem

pytestmark = pytest.mark.unhandled_errors_expected


class BoomError(RuntimeError):
    pass


def boom(n: int) -> None:
    raise BoomError(f"a bug ({n})")


def stream_then_boom() -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        yield b"first part"
        raise BoomError("a bug after the response started")

    return StreamingResponse(chunks(), media_type="text/plain")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def about_boom(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info and r.exc_info[0] is BoomError]

    def paths_logged(self) -> list[str]:
        """The path of each request logged as an unhandled error, once per log record."""
        return [str(r.args[1]) for r in self.about_boom() if r.name == "coterie.errors" and r.args]


@pytest.fixture(scope="module")
def raising_app(app_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    application: FastAPI = create_app(
        make_settings(app_database_url, tmp_path_factory.mktemp("boom"), 0, smtp_host="")
    )
    application.add_api_route("/api/v1/test-boom/{n}", boom)
    application.add_api_route("/test-boom/{n}", boom)
    application.add_api_route("/api/v1/test-stream-boom", stream_then_boom)
    with serving(application) as base_url:
        yield base_url


@pytest.fixture
def logs() -> Iterator[Records]:
    handler = Records()
    # uvicorn.error propagates to uvicorn
    loggers = [logging.getLogger(name) for name in ("coterie", "uvicorn")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def local_port(response: httpx.Response) -> int:
    """The client-side port of the connection that carried `response`."""
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/api/v1/test-boom", "application/problem+json"), ("/test-boom", "text/html")],
    ids=["api", "page"],
)
def test_an_unexpected_error_answers_500_and_keeps_the_connection(
    raising_app: str, logs: Records, path: str, media_type: str
) -> None:
    with httpx.Client(base_url=raising_app, timeout=10) as client:
        failed = client.get(f"{path}/1")
        after = client.get("/healthz")
        again = client.get(f"{path}/2")
        ports = {local_port(failed), local_port(after), local_port(again)}

    assert failed.status_code == 500
    assert failed.headers["content-type"].startswith(media_type)
    assert failed.headers.get("connection", "").lower() != "close"
    if media_type == "text/html":
        assert "Internal error" in failed.text
        assert "a bug" not in failed.text  # no internals leak into the page
    else:
        assert_problem(failed, 500, "internal-error")
        assert "a bug" not in failed.text
    assert after.status_code == 200
    assert again.status_code == 500
    assert len(ports) == 1  # all three on one connection
    assert sorted(logs.paths_logged()) == [f"{path}/1", f"{path}/2"]  # once each
    assert all(r.name == "coterie.errors" for r in logs.about_boom())  # by the app alone


def test_an_error_after_the_response_started_closes_the_connection(
    raising_app: str, logs: Records
) -> None:
    """The status line is gone: the only honest signal left is to break the connection, so the
    client cannot take a truncated body for a whole one."""
    with httpx.Client(base_url=raising_app, timeout=10) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/api/v1/test-stream-boom")
        after = client.get("/healthz")

    assert after.status_code == 200
    assert len(logs.about_boom()) == 1
