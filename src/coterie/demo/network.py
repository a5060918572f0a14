"""Placeholder: the demo network loader (being written)."""

from __future__ import annotations

from dataclasses import dataclass, field

from coterie.config import Settings

DEMO_PASSWORD = "coterie-demo-2026"


@dataclass(frozen=True)
class DemoCompany:
    name: str
    domain: str
    partner_types: list[str]
    admin_email: str


@dataclass(frozen=True)
class DemoSummary:
    password: str
    companies: list[DemoCompany] = field(default_factory=list)


def load(settings: Settings) -> DemoSummary:
    raise NotImplementedError
