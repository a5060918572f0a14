"""RFC 9457 problem details: the one error shape of the API, and the exception that carries it."""

from __future__ import annotations

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"


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
        self.title = title
        self.detail = detail or title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

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
        return document


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"No {what} with that id is visible to you.")


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def conflict(slug: str, detail: str) -> Problem:
    return Problem(409, slug, "Conflict", detail)


def invalid(path: str, message: str, slug: str = "validation-error") -> Problem:
    """A 422 naming one offending field path, shaped like the framework's validation errors."""
    return Problem(
        422,
        slug,
        "Invalid request",
        f"{path}: {message}",
        errors=[{"path": path, "message": message, "type": slug}],
    )
