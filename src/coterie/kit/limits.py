"""An ASGI guard that refuses request bodies above a size limit before they are parsed.

One limit holds for every request; `larger` names the few paths (matched by a pattern, for
POST) that take a larger body, such as file uploads, each with its own limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coterie.kit.problems import PROBLEM_MEDIA_TYPE, Problem


class BodyTooLargeError(HTTPException):
    """Raised while the body streams in. An HTTPException, so that FastAPI lets it through
    instead of turning it into "400 There was an error parsing the body"."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body exceeds {max_bytes} bytes.")


class MaxBodySizeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = tuple(larger)

    def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST":
            path = str(scope.get("path", ""))
            for pattern, limit in self.larger:
                if pattern.fullmatch(path):
                    return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(send, max_bytes)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLargeError(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not response_started:
                await self._refuse(send, max_bytes)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        problem = Problem(
            413,
            "payload-too-large",
            "Payload too large",
            f"The request body exceeds {max_bytes} bytes.",
        )
        body = json.dumps(problem.body()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
