"""The request id: taken from a well-formed `X-Request-ID`, generated otherwise; returned in the
header, in every problem body, on the HTML error page, and on the log lines of the request, even
from a sync endpoint run in the thread pool."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coterie.app import create_app
from coterie.config import Settings
from coterie.kit import request_ids
from coterie.observability.logs import logging_config
from tests.conftest import make_settings
from tests.kit.assertions import assert_problem
from tests.web.html import parse

GENERATED = re.compile(r"[0-9a-f]{32}")


def test_a_well_formed_incoming_id_is_kept_everywhere(client: TestClient) -> None:
    sent = "edge-7f3a.2026:req/42+x="
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": sent})

    body = assert_problem(response, 404, "not-found")
    assert response.headers["x-request-id"] == sent
    assert body["request_id"] == sent


def test_without_an_incoming_id_one_is_generated_and_in_the_problem(client: TestClient) -> None:
    first = client.get("/api/v1/me")
    second = client.get("/api/v1/me")

    body = assert_problem(first, 401, "unauthenticated")
    assert GENERATED.fullmatch(first.headers["x-request-id"])
    assert body["request_id"] == first.headers["x-request-id"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "has space",
        "x" * (request_ids.MAX_LENGTH + 1),
        "<script>alert(1)</script>",
        'quote"injection',
        "semi;colon",
        "caf\u00e9",
    ],
    ids=["empty", "space", "too-long", "markup", "quote", "semicolon", "non-ascii"],
)
def test_an_ill_formed_incoming_id_is_replaced(client: TestClient, incoming: str) -> None:
    raw = incoming.encode("utf-8")
    response = client.get("/api/v1/no-such-thing", headers=[(b"X-Request-ID", raw)])

    body = assert_problem(response, 404, "not-found")
    assert GENERATED.fullmatch(response.headers["x-request-id"])
    assert body["request_id"] == response.headers["x-request-id"]


def test_the_longest_accepted_id_is_kept(client: TestClient) -> None:
    longest = "a" * request_ids.MAX_LENGTH
    response = client.get("/healthz", headers={"X-Request-ID": longest})

    assert response.headers["x-request-id"] == longest


def test_validation_and_successful_answers_carry_the_id_too(client: TestClient) -> None:
    invalid = client.post("/api/v1/signup", json={"company": {}}, headers={"X-Request-ID": "r-1"})
    healthy = client.get("/healthz", headers={"X-Request-ID": "r-2"})

    assert assert_problem(invalid, 422, "validation-error")["request_id"] == "r-1"
    assert healthy.status_code == 200
    assert healthy.headers["x-request-id"] == "r-2"


def test_the_html_error_page_shows_the_reference(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"X-Request-ID": "page-ref-1"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Quote this reference: page-ref-1" in " ".join(parse(response.text).text.split())


@pytest.fixture
def app_with_a_logging_route(
    app_database_url: str, tmp_path: Path
) -> Iterator[tuple[FastAPI, io.StringIO]]:
    """A real app with one more route, a sync one (run in the thread pool) that logs; and what
    the configured JSON handler wrote."""
    settings = make_settings(app_database_url, tmp_path, 0, log_format="json")
    application = create_app(settings)

    def logs_a_line() -> dict[str, str]:
        logging.getLogger("coterie.test_request_ids").warning("inside the endpoint")
        return {}

    application.add_api_route("/api/v1/test-only/log", logs_a_line)
    written = io.StringIO()
    handler = _configured_handler(settings, written)
    logger = logging.getLogger("coterie")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield application, written
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        application.state.engine.dispose()


def _configured_handler(settings: Settings, stream: io.StringIO) -> logging.Handler:
    """The handler `configure_logging` installs (its formatter and filter), writing to `stream`,
    without reconfiguring this test process's logging."""
    config = logging_config(settings)
    configurator = logging.config.DictConfigurator(config)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"]["coterie"]))
    handler.addFilter(configurator.configure_filter(config["filters"]["request_id"]))
    return handler


def test_log_lines_of_a_threadpool_endpoint_carry_the_request_id(
    app_with_a_logging_route: tuple[FastAPI, io.StringIO],
) -> None:
    application, written = app_with_a_logging_route
    with TestClient(application) as client:
        response = client.get("/api/v1/test-only/log")
    request_id = response.headers["x-request-id"]
    lines = [json.loads(line) for line in written.getvalue().splitlines()]

    inside = [line for line in lines if line["message"] == "inside the endpoint"]
    assert len(inside) == 1
    assert inside[0]["request_id"] == request_id
    assert inside[0]["level"] == "WARNING"
    assert inside[0]["logger"] == "coterie.test_request_ids"
    access = [line for line in lines if line["logger"] == "coterie.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == request_id
    assert access[0]["route"] == "/api/v1/test-only/log"
    assert access[0]["status"] == 200
    assert access[0]["method"] == "GET"
    assert access[0]["duration_ms"] > 0
