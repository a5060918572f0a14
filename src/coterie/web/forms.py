"""Reading submitted forms and turning validation failures into messages next to the fields.

Page handlers never declare `Form(...)` parameters: a missing or malformed field must re-render
the form with a message, not answer a bare 422. They read `FormInput` instead, build the
domain's Pydantic schema, and map its errors (or a `Problem`'s field paths) back to inputs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from coterie.kit.preconditions import precondition_required, version_in
from coterie.kit.problems import Problem

FORM_ERROR = "form"  # the key of an error about the whole form rather than one field
STALE_FORM = (
    "Someone changed this since you opened it, so nothing was saved. The page now shows their "
    "version: make your change again."
)
_MAX_FIELD_LENGTH = 20_000
# C0 control characters other than tab and line breaks: no browser sends them from a form, and
# PostgreSQL refuses NUL in text, so they are dropped before anything reaches a service.
_CONTROL = {code: None for code in range(0x20) if chr(code) not in "\t\n\r"} | {0x7F: None}


def clean(value: str, max_length: int = _MAX_FIELD_LENGTH) -> str:
    """Submitted text without control characters, cut to `max_length`, unstripped."""
    return value[:max_length].translate(_CONTROL)


class FormFields:
    """The submitted fields as text; files and absent fields read as empty."""

    def __init__(self, data: FormData | None) -> None:
        self._data = data

    def text(self, name: str, *, strip: bool = True) -> str:
        if self._data is None:
            return ""
        value = self._data.get(name)
        if not isinstance(value, str):
            return ""
        value = clean(value)
        return value.strip() if strip else value

    def optional(self, name: str) -> str | None:
        """The stripped value, or None when the field is empty (a "no choice" select)."""
        return self.text(name) or None

    def texts(self, name: str) -> list[str]:
        if self._data is None:
            return []
        values = [clean(v).strip() for v in self._data.getlist(name) if isinstance(v, str)]
        return [v for v in values if v]

    def file(self, name: str) -> UploadFile | None:
        """The uploaded file of a multipart form's field, or None when none was chosen."""
        if self._data is None:
            return None
        value = self._data.get(name)
        if isinstance(value, UploadFile) and value.filename:
            return value
        return None

    def flag(self, name: str) -> bool:
        return self.text(name).lower() in {"on", "1", "true", "yes"}

    def version(self, name: str = "version") -> int:
        """The version the page showed (a hidden input): the service's If-Match. A form
        without one (a page from before versions, or a forged post) is refused with 428."""
        version = version_in(self.text(name))
        if version is None:
            raise precondition_required("the version the page showed: reload the page")
        return version


async def read_form(request: Request) -> FormFields:
    if request.method in {"GET", "HEAD"}:
        return FormFields(None)
    return FormFields(await request.form())


FormInput = Annotated[FormFields, Depends(read_form)]


def _strip_location(path: str) -> str:
    for prefix in ("body.", "query.", "path."):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def _message(text: str) -> str:
    text = text.removeprefix("Value error, ")
    return text[:1].upper() + text[1:] if text else "Is not valid"


def _friendly(error: Any) -> str:
    """A validation error as a person would say it, not as the parser does."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    message = str(error.get("msg", ""))
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return "This field is required."
    if kind == "string_too_short":
        return f"Must be at least {context.get('min_length')} characters."
    if kind == "string_too_long":
        return f"Must be at most {context.get('max_length')} characters."
    if kind in {"enum", "literal_error"}:
        return "Choose one of the options."
    if kind in {"int_parsing", "int_from_float"}:
        return "Must be a whole number."
    if kind == "uuid_parsing":
        return "Is not valid."
    if "valid email address" in message:
        reason = message.split(":", 1)[1].strip() if ":" in message else ""
        return f"Enter an e-mail address such as name@company.com. {reason}".strip()
    return _message(message.replace("Input should be", "Must be"))


def errors_from_validation(exc: ValidationError) -> dict[str, str]:
    """`{"company.domain": "Must be a domain name..."}`; list items report on their list."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        parts = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
        path = ".".join(parts) or FORM_ERROR
        errors.setdefault(path, _friendly(error))
    return errors


def input_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """`errors_from_validation` by form input: a path's first name after `prefix`
    (`goal_` + `target`), the form's own error kept as it is."""
    return {
        (key if key == FORM_ERROR else prefix + key.split(".")[0]): message
        for key, message in errors_from_validation(exc).items()
    }


def is_stale(problem: Problem) -> bool:
    """Whether the write was refused because the form's version is not the current one."""
    return problem.status in {412, 428}


def problem_message(problem: Problem) -> str:
    """What a page says about a refused write: the stale-form advice, or the problem's detail."""
    return STALE_FORM if is_stale(problem) else problem.detail


def errors_from_problem(problem: Problem, fields: dict[str, str] | None = None) -> dict[str, str]:
    """Field messages from a `Problem`'s paths; `fields` maps slugs (e.g. email-taken) to inputs."""
    if is_stale(problem):
        return {FORM_ERROR: STALE_FORM}
    errors: dict[str, str] = {}
    for error in problem.errors or []:
        path = _strip_location(str(error.get("path", ""))) or FORM_ERROR
        errors.setdefault(path, _message(str(error.get("message", ""))))
    if not errors:
        errors[(fields or {}).get(problem.slug, FORM_ERROR)] = problem.detail
    return errors
