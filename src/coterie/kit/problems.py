"""RFC 9457 problem details: the one error shape of the API, and the exception that carries it."""

from __future__ import annotations

import re
from typing import Any

from coterie.kit import request_ids

PROBLEM_MEDIA_TYPE = "application/problem+json"
_UNSHOWABLE = re.compile("[\x00\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with NUL and lone surrogates written as escapes (`\\u0000`, `\\ud800`): a problem
    echoing a client's value must still encode as UTF-8."""
    if _UNSHOWABLE.search(text) is None:
        return text
    return _UNSHOWABLE.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


def _showable(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): _showable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_showable(v) for v in value]
    return value


class Problem(Exception):  # noqa: N818  (it is the problem document, not only an error)
    """A failure the client can act on. `slug` becomes the stable `type` URI `/problems/{slug}`."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str = "",
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = printable(title)
        self.detail = printable(detail or title)
        self.errors = _showable(errors) if errors is not None else None
        self.headers = headers or {}
        self.extra = _showable(extra)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            document["instance"] = instance
        if self.errors is not None:
            document["errors"] = self.errors
        document.update(self.extra)
        if (request_id := request_ids.current()) is not None:
            # an RFC 9457 extension member: the reference to quote, also in every log line
            document.setdefault("request_id", request_id)
        return document


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"No {what} with that id is visible to you.")


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def conflict(slug: str, detail: str) -> Problem:
    return Problem(409, slug, "Conflict", detail)


def version_mismatch(detail: str, **extra: Any) -> Problem:
    """The 412 of a write made against a version that is no longer current (the only place
    the `version-mismatch` problem is built; `kit.conditional.stale` says which version)."""
    return Problem(412, "version-mismatch", "Precondition failed", detail, **extra)


def invalid(path: str, message: str, slug: str = "validation-error") -> Problem:
    """A 422 naming one offending field path, shaped like the framework's validation errors."""
    return Problem(
        422,
        slug,
        "Invalid request",
        f"{path}: {message}",
        errors=[{"path": path, "message": message, "type": slug}],
    )
