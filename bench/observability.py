"""What the observability middleware costs per request, with and without it, in two settings:

- `middleware alone`: around an ASGI app that answers 200 at once, so only the middleware's own
  work is measured (request id, metrics, the access-log line);
- `/livez`, `/api/v1/no-such-thing`: the whole app, its middleware stack rebuilt without
  `ObservabilityMiddleware` for the other side (the 404 goes through the error handlers and is
  logged at INFO; /livez is a probe, logged at DEBUG, so not written).

Everything is called as an ASGI application, in process, with no HTTP server and no test client in
between (their cost would drown the figure). Each round answers `requests` requests with the
middleware, then as many without, and the rounds alternate so both sides see the same machine.
Logging is configured as in production (JSON lines, INFO), written to the null device. The
figure is the median over rounds of (with - without) per request.

    python -m bench observability [--requests 1000] [--rounds 9]
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coterie import migrate
from coterie.app import create_app
from coterie.config import Settings
from coterie.observability.logs import configure_logging
from coterie.observability.middleware import ObservabilityMiddleware

PATHS = ("/livez", "/api/v1/no-such-thing")
ALONE = "middleware alone"
_MIDDLEWARE = ObservabilityMiddleware.__name__


@dataclass(frozen=True)
class Overhead:
    path: str
    with_us: float  # median microseconds per request, middleware on
    without_us: float
    added_us: float  # median over rounds of the per-request difference


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 40000),
        "server": ("bench", 80),
    }


async def _answered_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _answer(app: ASGIApp, path: str, requests: int) -> float:
    """Seconds to answer `requests` GET `path`."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app(_scope(path), receive, send)
    return time.perf_counter() - started


def _without_middleware(app: FastAPI) -> FastAPI:
    kept = [m for m in app.user_middleware if getattr(m.cls, "__name__", "") != _MIDDLEWARE]
    app.user_middleware = kept
    app.middleware_stack = None  # rebuilt at the next call
    return app


def measure(requests: int = 1000, rounds: int = 9) -> list[Overhead]:
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        url = f"sqlite:///{data / 'bench.sqlite3'}"
        migrate.upgrade(url)
        settings = Settings(
            env="production", database_url=url, data_dir=data, secret_key="bench-" + "x" * 32
        )
        configure_logging(settings)
        with open(os.devnull, "w") as null:
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler):
                    handler.setStream(null)
            on, off = create_app(settings), _without_middleware(create_app(settings))
            alone = ObservabilityMiddleware(_answered_at_once, metrics=on.state.metrics)
            try:
                return [
                    _measure_path(alone, _answered_at_once, ALONE, requests, rounds),
                    *(_measure_path(on, off, path, requests, rounds) for path in PATHS),
                ]
            finally:
                on.state.engine.dispose()
                off.state.engine.dispose()


def _measure_path(on: ASGIApp, off: ASGIApp, path: str, requests: int, rounds: int) -> Overhead:
    async def run() -> Overhead:
        target = "/livez" if path == ALONE else path
        await _answer(on, target, requests // 4)  # warm-up: imports, route index, first series
        await _answer(off, target, requests // 4)
        with_times, without_times = [], []
        for _ in range(rounds):
            with_times.append(await _answer(on, target, requests) / requests * 1e6)
            without_times.append(await _answer(off, target, requests) / requests * 1e6)
        added = [a - b for a, b in zip(with_times, without_times, strict=True)]
        return Overhead(
            path,
            statistics.median(with_times),
            statistics.median(without_times),
            statistics.median(added),
        )

    return asyncio.run(run())
