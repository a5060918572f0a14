"""The request id: one per request, in a context variable, for logs and error bodies.

`coterie.observability.middleware` binds it for each HTTP request (the client's `X-Request-ID`
when it is well-formed, a new one otherwise); a job can bind the id of the request that asked for
it with `bound(...)`. Context variables follow the work into Starlette's thread pool (it copies
the context), so sync endpoints, exception handlers and their log lines see the same id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
MAX_LENGTH = 128
# letters, digits and the punctuation of UUIDs, ULIDs, base64 and trace ids; nothing that could
# split a log line, forge a field or carry markup
_WELL_FORMED = re.compile(rf"[A-Za-z0-9._:+/=-]{{1,{MAX_LENGTH}}}")

_current: ContextVar[str | None] = ContextVar("coterie_request_id", default=None)


def current() -> str | None:
    """The id bound to the work in progress, if any."""
    return _current.get()


def well_formed(value: str) -> bool:
    return _WELL_FORMED.fullmatch(value) is not None


def new() -> str:
    return uuid.uuid4().hex


def accepted_or_new(incoming: str | None) -> str:
    """`incoming` (a client's or a proxy's `X-Request-ID`) when it is well-formed, else a new id."""
    if incoming is not None and well_formed(incoming):
        return incoming
    return new()


@contextmanager
def bound(request_id: str) -> Iterator[str]:
    """Bind `request_id` for the block (and for the threads it hands work to)."""
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)
