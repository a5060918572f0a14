"""A limit on the size of a request's head (request line and headers): 431 above it.

uvicorn's httptools protocol has no such limit, and httptools buffers a header's value until
its end, so a client could make a worker hold a 32 MB header. This protocol counts the bytes of
the head as they arrive and, past `COTERIE_MAX_REQUEST_HEADER_BYTES`, answers 431 as
problem+json and closes the connection, having read at most one network read beyond the limit.
(uvicorn's `h11_max_incomplete_event_size` applies to the h11 protocol only, and answers 400.)
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from coterie.config import get_settings
from coterie.kit.problems import PROBLEM_MEDIA_TYPE, Problem

log = logging.getLogger(__name__)

# After refusing, keep reading (and dropping) what the client is still sending, for a moment,
# so that it can read the 431 instead of a connection reset.
LINGER_SECONDS = 2.0
LINGER_MAX_BYTES = 1 << 20


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_head_bytes = get_settings().max_request_header_bytes
        self._in_head = True  # the next bytes belong to a request line or headers
        self._head_bytes = 0
        self._refused = False
        self._dropped = 0  # bytes read and dropped since refusing

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._dropped += len(data)
            if self._dropped > LINGER_MAX_BYTES:
                self.transport.close()
            return
        start = 0
        while start < len(data) and not self.transport.is_closing():
            if not self._in_head:
                # a body: fed whole. A pipelined request starting in the same read is counted
                # from the next read on (at most one read over the limit).
                super().data_received(data[start:])
                return
            end = start + self.max_head_bytes + 1 - self._head_bytes
            piece = data[start:end]
            self._head_bytes += len(piece)
            super().data_received(piece)
            if self._in_head and self._head_bytes > self.max_head_bytes:
                self._refuse()
                return
            start = end

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def _refuse(self) -> None:
        log.warning(
            "refused a request whose line and headers exceed %d bytes from %s",
            self.max_head_bytes,
            self.client[0] if self.client else "an unknown client",
        )
        problem = Problem(
            431,
            "request-header-fields-too-large",
            "Request header fields too large",
            f"The request line and headers exceed {self.max_head_bytes} bytes.",
        )
        body = json.dumps(problem.body()).encode()
        head = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n")
        head.append(b"content-length: " + str(len(body)).encode() + b"\r\n")
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._refused = True
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
