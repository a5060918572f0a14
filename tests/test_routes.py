"""Every domain registers its own routers (`coterie.kit.routing`): no route is shadowed by an
earlier one, and the order in which the app lists its domains decides no match (mounted in
reverse, every method on every route's path reaches the same route, or the same 405 or 404)."""

from __future__ import annotations

import re

from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from coterie.app import API_PREFIX, DOMAINS
from coterie.kit.routing import DomainRoutes, api_routers, page_routers

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
PARAM = re.compile(r"\{[^}]+\}")
Route = tuple[str, re.Pattern[str], frozenset[str], str]


def _routes(domains: tuple[DomainRoutes, ...]) -> list[Route]:
    """The API and page routes of `domains` as the app mounts them, in matching order."""
    app = FastAPI()
    api = APIRouter(prefix=API_PREFIX)
    for router in api_routers(domains):
        api.include_router(router)
    app.include_router(api)
    for router in page_routers(domains):
        app.include_router(router)
    routes: list[Route] = []
    for context in iter_route_contexts(app.routes):
        if context.path is None or context.path.startswith(f"{API_PREFIX}/openapi"):
            continue
        regex, _, _ = compile_path(context.path)
        routes.append((context.path, regex, frozenset(context.methods or ()), context.name or ""))
    return routes


def _samples(routes: list[Route]) -> list[str]:
    """Each route's path with its parameters filled in, with a word and with an id."""
    words = {PARAM.sub("zq", path) for path, *_ in routes}
    ids = {PARAM.sub("00000000-0000-4000-8000-000000000001", path) for path, *_ in routes}
    return sorted(words | ids)


def _answer(routes: list[Route], method: str, path: str) -> tuple[str, ...]:
    """What Starlette does: the first route matching path and method, else the first route
    matching the path answers 405, else 404."""
    partial: tuple[str, ...] | None = None
    for template, regex, methods, name in routes:
        if regex.match(path):
            if method in methods:
                return ("route", template, name)
            partial = partial or ("405", template, *sorted(methods))
    return partial or ("404",)


def test_no_route_is_shadowed_by_an_earlier_one() -> None:
    routes = _routes(DOMAINS)
    shadowed = []
    for template, _, methods, name in routes:
        for sample in {PARAM.sub("zq", template), PARAM.sub("1", template)}:
            for method in methods:
                answer = _answer(routes, method, sample)
                if answer[1:] != (template, name):
                    shadowed.append(f"{method} {sample}: {template} ({name}) loses to {answer}")
    assert not shadowed


def test_the_order_of_the_domains_decides_no_match() -> None:
    forward = _routes(DOMAINS)
    backward = _routes(tuple(reversed(DOMAINS)))
    assert forward != backward  # reversing the domains does reorder the routes
    differences = [
        (method, sample)
        for sample in _samples(forward)
        for method in METHODS
        if _answer(forward, method, sample) != _answer(backward, method, sample)
    ]
    assert not differences


def test_catch_all_routers_are_mounted_after_every_other_domain() -> None:
    wide, narrow, wide_page, narrow_page = APIRouter(), APIRouter(), APIRouter(), APIRouter()
    first = DomainRoutes(api_catch_all=(wide,), pages_catch_all=(wide_page,))
    second = DomainRoutes(api=(narrow,), pages=(narrow_page,))
    assert api_routers((first, second)) == [narrow, wide]
    assert page_routers((first, second)) == [narrow_page, wide_page]
