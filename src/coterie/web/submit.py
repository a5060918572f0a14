"""The submit step every page that writes shares: run the use case, then answer.

A page handler reads and validates its form, then calls `submit(session, use_case, done=...,
refused=...)`:

- the use case runs; on success the unit of work is committed and `done(result)` answers
  (usually a POST-redirect-GET `redirect`, or the re-rendered fragment an htmx request swaps);
- on a `Problem` the unit of work is rolled back (PostgreSQL aborts a failed transaction, and
  the page must show the data as it stands) and `refused(problem)` answers: the form again
  with the error next to its field, the user's input and the problem's status, or a flash
  message on the page the user came from (`flash_back`).

`passes=raise_on(404)` lets a 404 through to the page's "not found" answer (a record the user
may not see does not exist, even for a form posted to it); `passes=answer_only(422)` lets
every other problem through to the application's error page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coterie.kit.problems import Problem
from coterie.web.forms import problem_message
from coterie.web.templating import redirect

T = TypeVar("T")


def problem_detail(problem: Problem) -> str:
    """The problem's own words (for pages that do not give the stale-form advice)."""
    return problem.detail


def submit(
    session: Session,
    use_case: Callable[[], T],
    *,
    done: Callable[[T], Response],
    refused: Callable[[Problem], Response],
    passes: Callable[[Problem], bool] | None = None,
    commit: bool = True,
) -> Response:
    """Run `use_case`; commit and answer `done(result)`, or roll back and answer
    `refused(problem)` (a problem `passes` accepts is raised on instead). A use case that only
    reads (a preview) passes `commit=False`."""
    try:
        result = use_case()
    except Problem as problem:
        session.rollback()
        if passes is not None and passes(problem):
            raise
        return refused(problem)
    if commit:
        session.commit()
    return done(result)


def raise_on(*statuses: int) -> Callable[[Problem], bool]:
    """`passes`: the problems of these statuses are not the form's to answer."""
    return lambda problem: problem.status in statuses


def answer_only(*statuses: int) -> Callable[[Problem], bool]:
    """`passes`: only the problems of these statuses are the form's to answer."""
    return lambda problem: problem.status not in statuses


def flash_back(
    request: Request, url: str, message: Callable[[Problem], str] = problem_message
) -> Callable[[Problem], Response]:
    """A refusal answered by a redirect to `url` with the problem as an error message."""

    def answer(problem: Problem) -> Response:
        return redirect(request, url, message(problem), "error")

    return answer


def flash_done(request: Request, url: str, message: str) -> Callable[[object], Response]:
    """A success answered by a redirect to `url` with `message`."""

    def answer(_result: object) -> Response:
        return redirect(request, url, message)

    return answer
