"""Stage catalogue: the ordered stages a company's records of a kind move through, and their
category (open, won, lost).

Other domains (goals, boards, the weekly pipeline review) ask here where a stage stands; the
workflow engine answers from the company's active workflow definition for the kind, and falls
back to the built-in default pipeline below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
