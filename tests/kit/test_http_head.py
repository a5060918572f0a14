"""The request line and headers are limited (COTERIE_MAX_REQUEST_HEADER_BYTES, 64 KiB): above it
a real server answers 431 problem+json and stops reading, below it requests are served.

Against `coterie serve` itself (uvicorn with httptools, as operators run it), over raw sockets,
so that nothing between the test and the server trims or refuses the header first.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coterie import migrate
from coterie.config import Settings
from tests.fixtures.live_server import coterie_serve

LIMIT = Settings.model_fields["max_request_header_bytes"].default
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """One database is enough: the limit is the HTTP layer's, before any route runs."""
    directory = tmp_path_factory.mktemp("head-limit")
    url = f"sqlite:///{directory / 'coterie.sqlite3'}"
    migrate.upgrade(url)
    with coterie_serve(url, directory) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


def request_with_header(value_bytes: int, path: str = "/healthz") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\nX-Padding: {'a' * value_bytes}\r\n\r\n".encode()


def exchange(address: tuple[str, int], raw: bytes) -> tuple[bytes, int]:
    """Send `raw` on a new connection; the response read until the server closes or goes quiet,
    and how many bytes of `raw` the server let us send."""
    sent = 0
    with socket.create_connection(address, timeout=10) as sock:
        try:
            for start in range(0, len(raw), 65536):
                sock.sendall(raw[start : start + 65536])
                sent = min(len(raw), start + 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(3)
        response = b""
        try:
            while chunk := sock.recv(65536):
                response += chunk
                if b"\r\n\r\n" in response and b"content-length" in response.lower():
                    head, _, body = response.partition(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    if len(body) >= length:
                        break
        except (TimeoutError, ConnectionResetError):
            pass
    return response, sent


def status_and_body(response: bytes) -> tuple[int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_headers_under_the_limit_are_served(server: tuple[str, int]) -> None:
    response, _ = exchange(server, request_with_header(LIMIT - 1024))

    status, body = status_and_body(response)
    assert status == 200, response[:300]
    assert json.loads(body)["status"] == "ok"


@pytest.mark.parametrize("over", [LIMIT + 1, 2 * LIMIT], ids=["just-over", "double"])
def test_headers_over_the_limit_are_a_431_problem(server: tuple[str, int], over: int) -> None:
    response, _ = exchange(server, request_with_header(over))

    status, body = status_and_body(response)
    assert status == 431, response[:300]
    assert b"application/problem+json" in response.split(b"\r\n\r\n")[0]
    problem = json.loads(body)
    assert problem["type"] == "/problems/request-header-fields-too-large"
    assert str(LIMIT) in problem["detail"]


def test_a_long_request_line_counts_too(server: tuple[str, int]) -> None:
    response, _ = exchange(server, f"GET /healthz?{'q' * (LIMIT + 10)} HTTP/1.1\r\n".encode())

    assert status_and_body(response)[0] == 431, response[:300]


def test_a_32_mb_header_is_not_read(server: tuple[str, int]) -> None:
    """The server stops reading soon after the limit and closes: the client cannot send it."""
    raw = request_with_header(32 * 1024 * 1024)
    started = time.monotonic()

    response, sent = exchange(server, raw)

    assert sent < 8 * 1024 * 1024, f"the server read {sent} bytes of the header"
    if response:  # usually readable before the connection is cut
        assert status_and_body(response)[0] == 431
    assert time.monotonic() - started < 10
    healthy, _ = exchange(server, request_with_header(10))
    assert status_and_body(healthy)[0] == 200


def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coterie.sqlite3'}"
    migrate.upgrade(url)

    with coterie_serve(url, tmp_path, max_request_header_bytes="16384") as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        refused, _ = exchange((host, int(port)), request_with_header(17 * 1024))
        served, _ = exchange((host, int(port)), request_with_header(15 * 1024))

    assert status_and_body(refused)[0] == 431
    assert b"16384" in refused
    assert status_and_body(served)[0] == 200
