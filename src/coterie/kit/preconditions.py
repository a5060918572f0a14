"""HTTP preconditions of versioned writes: the `If-Match` a write must carry and the `ETag` a
read answers (RFC 9110 section 13; the SQL side is `coterie.kit.conditional`).

A versioned resource's GET answers `ETag: "<version>"`; a PATCH, PUT or DELETE of it (and a
workflow move) must send that value back as `If-Match`. Without it the answer is 428
`precondition-required`; with a version that is no longer current, 412 `version-mismatch`
(decided by the UPDATE itself). `If-Match: *` and lists of tags are refused: a lost update
is exactly what they would let through.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Response

from coterie.kit.problems import Problem, invalid

# ASCII digits only ('²'.isdigit() is True), at most 9 of them (the column is a 32-bit integer)
_VERSION = re.compile(r'(?:W/)?"([0-9]{1,9})"|([0-9]{1,9})')
IF_MATCH_DESCRIPTION = 'The version you read: the ETag of the GET, e.g. "3" (required)'
PRECONDITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match is not the current version (/problems/version-mismatch)"},
    428: {"description": "If-Match is missing (/problems/precondition-required)"},
}

IfMatch = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_DESCRIPTION)]


def version_in(text: str) -> int | None:
    """The version `text` names (`3`, `"3"` or `W/"3"`), or None when it names none."""
    found = _VERSION.fullmatch(text.strip())
    return int(found.group(1) or found.group(2)) if found is not None else None


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match names (None when absent); 422 naming header.If-Match when it
    is not one version number."""
    if value is None:
        return None
    version = version_in(value)
    if version is None:
        raise invalid("header.If-Match", 'must be the version you read (its ETag), e.g. "3"')
    return version


def precondition_required(source: str) -> Problem:
    return Problem(
        428,
        "precondition-required",
        "Precondition required",
        f'This write needs If-Match: send {source} (e.g. If-Match: "3"), so that a change '
        "someone made since you read it is refused (412) instead of overwritten.",
    )


def require_if_match(value: str | None, source: str = "the ETag of your GET") -> int:
    """The version an If-Match names; 428 `precondition-required` when there is none.
    `source` tells the client where that version comes from."""
    version = parse_if_match(value)
    if version is None:
        raise precondition_required(source)
    return version


def expected_version(source: str = "the ETag of your GET of this resource") -> Any:
    """A route parameter `Annotated[int, expected_version(...)]`: the required If-Match."""

    def dependency(if_match: IfMatch = None) -> int:
        return require_if_match(if_match, source)

    return Depends(dependency)


def set_etag(response: Response, version: int) -> None:
    """The version a client sends back as `If-Match`."""
    response.headers["ETag"] = f'"{version}"'
