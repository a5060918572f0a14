"""Panels of the record page that packages above `records` contribute (workflow, activity).

`records` may not import `workflows` or `activity`, yet the record page must show their panels
in its first response rather than fetch them afterwards. So a higher package registers a
`PanelSource` under a name at start-up (`coterie.wiring.install`), and the record page asks
every source for its panel: the template to include and that template's own context. A source
reads through its package's services (the gate, as its htmx route does) for the viewer and
the record the page has just read. A name without a source leaves its slot to the htmx route.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields.kinds import KindInfo


@dataclass(frozen=True)
class PanelContent:
    """One panel to render into the page: its template and the context of that template."""

    template: str
    context: dict[str, Any]


# None: this panel has nothing for records of this kind
PanelSource = Callable[[Session, Actor, KindInfo, uuid.UUID], PanelContent | None]

_sources: dict[str, PanelSource] = {}


def provide(name: str, source: PanelSource) -> None:
    """Register `source` as the panel called `name` (again: the last registration wins)."""
    _sources[name] = source


def collect(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> dict[str, PanelContent]:
    """Every registered panel of this record, by name, as the viewer may see it."""
    found = {name: source(session, actor, info, record_id) for name, source in _sources.items()}
    return {name: content for name, content in found.items() if content is not None}
