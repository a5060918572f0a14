"""Stage catalogue: the ordered stages a company's records of a kind move through, and their
category (open, won, lost).

Other domains (goals, boards, the weekly pipeline review) ask here where a stage stands; the
workflow engine answers from the company's active workflow definition for the kind, and falls
back to the built-in default pipeline below.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.kit import txcache
from coterie.models.workflow import WorkflowDefinition


class StageCategory(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class StageInfo:
    key: str
    name: str
    position: int
    category: StageCategory


DEFAULT_PIPELINE: tuple[StageInfo, ...] = (
    StageInfo("qualify", "Qualify", 0, StageCategory.OPEN),
    StageInfo("develop", "Develop", 1, StageCategory.OPEN),
    StageInfo("propose", "Propose", 2, StageCategory.OPEN),
    StageInfo("negotiate", "Negotiate", 3, StageCategory.OPEN),
    StageInfo("won", "Closed won", 4, StageCategory.WON),
    StageInfo("lost", "Closed lost", 5, StageCategory.LOST),
)


def category_in(stages: tuple[StageInfo, ...], stage: str | None) -> StageCategory:
    """The category of `stage` among `stages`; unknown or empty stages count as open."""
    for info in stages:
        if info.key == stage:
            return info.category
    return StageCategory.OPEN


GENERIC_STAGES: tuple[StageInfo, ...] = (
    StageInfo("open", "Open", 0, StageCategory.OPEN),
    StageInfo("won", "Won", 1, StageCategory.WON),
    StageInfo("lost", "Lost", 2, StageCategory.LOST),
)
DEFAULT_PIPELINE_KINDS = frozenset({"opportunity", "lead"})


def infos(stages: list[dict[str, Any]]) -> tuple[StageInfo, ...]:
    """A stored definition's stages (`workflow_definitions.stages`) as StageInfo, in order."""
    return tuple(
        StageInfo(str(s["key"]), str(s.get("name") or s["key"]), i, StageCategory(s["category"]))
        for i, s in enumerate(stages)
    )


def default_stages(kind: str) -> tuple[StageInfo, ...]:
    """The built-in stages of a kind when a company has no active workflow for it."""
    return DEFAULT_PIPELINE if kind in DEFAULT_PIPELINE_KINDS else GENERIC_STAGES


txcache.register("company_workflows", WorkflowDefinition)


def company_definition(
    session: Session, company_id: uuid.UUID, kind: str
) -> WorkflowDefinition | None:
    """The company's active company-level workflow definition for `kind`, if any (read once
    per transaction: every write of a space asks)."""
    cached = txcache.cache(session, "company_workflows")
    key = (company_id, kind)
    if key not in cached:
        cached[key] = session.scalars(
            select(WorkflowDefinition).where(
                WorkflowDefinition.company_id == company_id,
                WorkflowDefinition.program_id.is_(None),
                WorkflowDefinition.kind == kind,
                WorkflowDefinition.active.is_(True),
            )
        ).first()
    found: WorkflowDefinition | None = cached[key]
    return found


def stages_for(session: Session, company_id: uuid.UUID, kind: str) -> tuple[StageInfo, ...]:
    """The stages a company's records of `kind` move through (its own space `stage`): its
    active company workflow's, else DEFAULT_PIPELINE (opportunities, leads), else open/won/lost."""
    definition = company_definition(session, company_id, kind)
    if definition is not None:
        return infos(definition.stages)
    return default_stages(kind)


def stage_category(
    session: Session, company_id: uuid.UUID, kind: str, stage: str | None
) -> StageCategory:
    """Where `stage` of a company's space stands (unknown or empty stages count as open)."""
    return category_in(stages_for(session, company_id, kind), stage)
