"""Web pages (placeholder until the web shell lands)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from coterie.kit.problems import Problem


def install(app: FastAPI) -> None:
    return None


def render_problem(request: Request, problem: Problem) -> Response:
    return HTMLResponse(f"<h1>{problem.title}</h1>", status_code=problem.status)
