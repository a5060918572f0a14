"""Labels, not keys: how a workflow's stages, moves and approvals read on a page.

A stage reads as its name in the workflow definition ("Partner Approval"); a key no definition
names (legacy data, a stage removed since) reads as words ("partner_approval" becomes "Partner
approval"), never as the key itself. A move reads "Propose → Qualify"; an approval's role and
status read as words ("Manager", "Waiting").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

NOT_STAGED = "Not staged"
ARROW = "→"

_ROLES = {"member": "Member", "manager": "Manager", "admin": "Admin"}
_STATUSES = {
    "pending": "Waiting",
    "waiting": "Not asked yet",
    "approved": "Approved",
    "rejected": "Rejected",
    "canceled": "Withdrawn",
    "done": "Done",
}


class Named(Protocol):
    @property
    def key(self) -> str | None: ...

    @property
    def name(self) -> str: ...


def words(key: str) -> str:
    """A key as words: "partner_approval" → "Partner approval"."""
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:] if text else key


def names_of(stages: Iterable[Named | Mapping[str, Any]]) -> dict[str, str]:
    """Stage key → name, from StageOut/StageInfo objects or stored stage dicts."""
    found: dict[str, str] = {}
    for stage in stages:
        if isinstance(stage, Mapping):
            key, name = stage.get("key"), stage.get("name")
        else:
            key, name = stage.key, stage.name
        if key:
            found[str(key)] = str(name or words(str(key)))
    return found


def stage_label(names: Mapping[str, str], key: str | None, empty: str = NOT_STAGED) -> str:
    """The stage's name; `empty` for no stage; words for a key the workflow does not name."""
    if not key:
        return empty
    return names.get(key) or words(key)


def move_label(names: Mapping[str, str], from_stage: str | None, to_stage: str) -> str:
    """A move between stages: "Propose → Qualify"."""
    return f"{stage_label(names, from_stage)} {ARROW} {stage_label(names, to_stage)}"


def role_label(role: str) -> str:
    return _ROLES.get(role) or words(role)


def status_label(status: str) -> str:
    return _STATUSES.get(status) or words(status)


def helpers() -> dict[str, Any]:
    """What templates of the board and the workflow panel call to show labels."""
    return {
        "names_of": names_of,
        "stage_label": stage_label,
        "move_label": move_label,
        "role_label": role_label,
        "status_label": status_label,
    }
