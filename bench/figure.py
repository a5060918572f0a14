"""What every benchmark produces (`Figure`: a measured subject and its baseline), the viewers the
benchmarks act as, and how a figure's values are shown.

A figure's `Stats` hold seconds, except for memory figures (unit "MB"), whose stats hold bytes:
`display` formats either kind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bench.dataset import Landmarks
from bench.timing import Stats
from coterie.auth.principal import Actor
from coterie.authz.principal import Principal
from coterie.models import AuthToken, User

MEMORY_UNIT = "MB"


@dataclass
class Figure:
    """One measured figure and its baseline (seconds; bytes when `unit` is "MB")."""

    key: str
    group: str
    label: str
    subject: Stats
    baseline_label: str
    baseline: Stats
    target: str
    unit: str  # how to show it: "ms", "us", "s", or "MB" (memory: the stats hold bytes)
    passed: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.subject.median / self.baseline.median if self.baseline.median else 0.0


def display(value: float, unit: str) -> str:
    """A figure's value in its unit: seconds as µs, ms or s; bytes as MB."""
    if unit == MEMORY_UNIT:
        return f"{value / 2**20:.1f} MB"
    if unit == "us":
        return f"{value * 1e6:.2f} µs"
    if unit == "s":
        return f"{value:.3f} s"
    scaled = value * 1e3
    return f"{scaled:.3f} ms" if scaled < 100 else f"{scaled:.1f} ms"


@dataclass(frozen=True)
class Viewer:
    name: str  # "small" | "large"
    company_id: uuid.UUID
    member_id: uuid.UUID
    admin_id: uuid.UUID
    visible: int


def viewers(landmarks: Landmarks) -> list[Viewer]:
    return [
        Viewer(
            "small",
            landmarks.small_company,
            landmarks.small_member,
            landmarks.small_admin,
            landmarks.small_visible,
        ),
        Viewer(
            "large",
            landmarks.large_company,
            landmarks.large_member,
            landmarks.large_admin,
            landmarks.large_visible,
        ),
    ]


def principal_of(viewer: Viewer) -> Principal:
    """A member of the viewer company, as a request would have resolved it."""
    return Principal(company_id=viewer.company_id, user_id=viewer.member_id, hide_private=False)


def actor_of(session: Session, user_id: uuid.UUID) -> Actor:
    """The actor authentication would have resolved for this user (a session token)."""
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"bench user {user_id} is missing")
    token = AuthToken(user_id=user_id, kind="session", token_hash="", prefix="")
    return Actor(user=user, token=token, session=session)
