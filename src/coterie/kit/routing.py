"""Route registration: each domain lists its own routers; the app mounts every domain's.

A domain package exposes `ROUTES` in its `routes.py`: a `DomainRoutes` naming its JSON routers
(mounted under `/api/v1`) and its page routers. Where order matters between two routes, it is
the business of the domain that owns both, inside its own list (a literal `/x/new` before
`/x/{id}` in the same router, or one router listed before another).

Across domains nothing may depend on the order in which domains are listed, with one case
declared by the owner of the wide routes: a router whose paths take *any* segment after a prefix
other domains also serve (the record kinds' `/{plural}/{record_id}`) is listed under
`api_catch_all` / `pages_catch_all` and mounted after every other domain's routers, so
`/leads/nominations` (co-selling) is never read as a lead id. The app's tests mount the domains
in reverse and check that every route still answers for its own paths, and that no route is
shadowed by an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter


@dataclass(frozen=True)
class DomainRoutes:
    """One domain's routers, each list in the order its routes must be matched."""

    api: tuple[APIRouter, ...] = ()
    pages: tuple[APIRouter, ...] = ()
    api_catch_all: tuple[APIRouter, ...] = ()
    pages_catch_all: tuple[APIRouter, ...] = ()


def api_routers(domains: Iterable[DomainRoutes]) -> list[APIRouter]:
    """Every domain's JSON routers, the catch-all ones after all others."""
    listed = list(domains)
    return [r for d in listed for r in d.api] + [r for d in listed for r in d.api_catch_all]


def page_routers(domains: Iterable[DomainRoutes]) -> list[APIRouter]:
    """Every domain's page routers, the catch-all ones after all others."""
    listed = list(domains)
    return [r for d in listed for r in d.pages] + [r for d in listed for r in d.pages_catch_all]
