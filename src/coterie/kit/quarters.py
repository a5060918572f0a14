"""Calendar quarters as clients write them (`2026-Q3`): parsed within a supported range of
years, their first and last days, and the quarter before.

The range is FIRST_YEAR..LAST_YEAR. A sales quarter outside it is a typing mistake rather than
a plan, and staying far inside Python's dates (years 1..9999) keeps every step of the date
arithmetic (the day after a quarter, the quarter before one) valid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from coterie.kit.problems import invalid

FIRST_YEAR = 1900
LAST_YEAR = 2999
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
RULE = f"must be a quarter like 2026-Q3, of a year from {FIRST_YEAR} to {LAST_YEAR}"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """The quarter `text` names; ValueError (saying RULE) for anything else."""
        found = _QUARTER.fullmatch(text)
        if found is None or not FIRST_YEAR <= int(found[1]) <= LAST_YEAR:
            raise ValueError(RULE)
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    def previous(self) -> Quarter:
        return Quarter.of(self.first_day - timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.year:04d}-Q{self.number}"


def parse(text: str, path: str) -> Quarter:
    """The quarter `text` names, or a 422 naming `path`."""
    try:
        return Quarter.parse(text)
    except ValueError:
        raise invalid(path, RULE) from None


def _checked(text: str) -> str:
    try:
        Quarter.parse(text)
    except ValueError:
        raise PydanticCustomError("quarter", RULE) from None
    return text


QuarterText = Annotated[str, AfterValidator(_checked)]
"""A request field holding a quarter: 422 with the field's path and RULE otherwise."""
