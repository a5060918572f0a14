"""Text the databases can store, checked once for every request: no NUL, no lone surrogate.

PostgreSQL refuses a NUL character (U+0000) in text and JSON, where SQLite stores it; and a lone
surrogate (a JSON escape such as "\\ud800" without its pair) is not Unicode text at all: neither
database nor the UTF-8 encoder of a response can take it. Either is refused with 422 and the path
of the value (`body.fields.note`, `query.filter`), so both databases behave the same:

- `refuse_unstorable_text` is a dependency of every API route: it walks the JSON body
  (`body.`), the query parameters (`query.`) and the path parameters (`path.`) before the route
  runs.
- `loads` decodes JSON that arrives inside text (a `?filter=`, a cursor, a saved view's filter)
  and checks the decoded strings the same way; it raises `UnstorableTextError` (a ValueError).

Pages need no dependency: `coterie.web.forms` drops control characters from forms, form and
query decoding replace invalid UTF-8 rather than producing surrogates, and pages read their query
parameters leniently. Messages and paths never echo the offending text: a key holding it is shown
escaped (`body.fields.note\\u0000`), and `coterie.kit.problems` escapes whatever a problem says.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from coterie.kit.problems import Problem, invalid, printable

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NUL_MESSAGE = "contains a NUL character (U+0000), which cannot be stored"
SURROGATE_MESSAGE = (
    "contains a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not Unicode text"
)


class UnstorableTextError(ValueError):
    """A decoded value holds text no database can store; `path` and `message` say where."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

    def problem(self) -> Problem:
        return invalid(self.path, self.message)


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def _reason(text: str) -> str:
    found = _UNSTORABLE.search(text)
    return NUL_MESSAGE if found is not None and found[0] == "\x00" else SURROGATE_MESSAGE


def find_unstorable(value: Any, path: str) -> UnstorableTextError | None:
    """The first string (or object key) in a decoded JSON value that cannot be stored, with its
    path under `path`; None when there is none. Iterative: nesting depth is the client's."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            if not is_storable(item):
                return UnstorableTextError(where, _reason(item))
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                name = str(key)
                if not is_storable(name):
                    return UnstorableTextError(f"{where}.{printable(name)}", _reason(name))
                pending.append((child, f"{where}.{name}"))
        elif isinstance(item, list):
            pending.extend((child, f"{where}.{i}") for i, child in reversed(list(enumerate(item))))
    return None


def check(value: Any, path: str) -> None:
    """422 naming the first string in `value` that cannot be stored."""
    found = find_unstorable(value, path)
    if found is not None:
        raise found.problem()


def loads(text: str | bytes, path: str) -> Any:
    """`json.loads(text)`, refusing decoded text that cannot be stored (UnstorableTextError,
    a ValueError like the decoder's own errors, naming the value's path under `path`)."""
    data = json.loads(text)
    found = find_unstorable(data, path)
    if found is not None:
        raise found
    return data


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith("+json")


async def refuse_unstorable_text(request: Request) -> None:
    """API dependency: 422 for a NUL or lone surrogate anywhere in the request's text."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check(value, f"path.{printable(name)}")
    for name, value in request.query_params.multi_items():
        check(value, f"query.{printable(name)}")
    if request.method in ("GET", "HEAD", "OPTIONS") or not _is_json(request):
        return
    if not await request.body():
        return
    try:
        data = await request.json()  # parsed once: FastAPI reads the same cached body
    except ValueError:
        return  # not JSON: the route's own body parsing answers (400), or it reads no body
    check(data, "body")
