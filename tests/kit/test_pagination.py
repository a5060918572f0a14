"""Cursor pagination: opaque cursors round-trip, and anything else is a 422 naming query.cursor."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coterie.kit.pagination import MAX_LIMIT, SortKey, check_limit, decode_cursor, encode_cursor
from coterie.kit.problems import Problem
from coterie.models import Company, User

DIRECTORY_KEYS = (SortKey(Company.name_key), SortKey(Company.id, is_uuid=True))
# what stored text can hold: no NUL, no lone surrogate (coterie.kit.text_input refuses them)
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=50)


ANY_ID = "0190d3b8-0000-7000-8000-000000000000"  # fixed: parameter ids must not vary


def raw_cursor(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@given(name=TEXT, company_id=st.uuids())
def test_a_cursor_round_trips(name: str, company_id: uuid.UUID) -> None:
    cursor = encode_cursor([name, company_id])

    assert decode_cursor(cursor, DIRECTORY_KEYS) == [name, company_id]
    assert cursor.isascii()
    assert "=" not in cursor  # safe in a query string as is


@given(email=TEXT)
def test_a_single_key_cursor_round_trips(email: str) -> None:
    assert decode_cursor(encode_cursor([email]), (SortKey(User.email),)) == [email]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # "not json"
        raw_cursor({"name": "x"}),
        raw_cursor(["only one"]),
        raw_cursor(["x", ANY_ID, "extra"]),
        raw_cursor(["x", "not-a-uuid"]),
        raw_cursor(["x", 12]),
        raw_cursor([12, ANY_ID]),
        raw_cursor([True, ANY_ID]),
        raw_cursor([None, ANY_ID]),
        raw_cursor([["x"], ANY_ID]),
        raw_cursor(["x\x00", ANY_ID]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_anything_else_is_refused_as_a_422_on_query_cursor(cursor: str) -> None:
    with pytest.raises(Problem) as raised:
        decode_cursor(cursor, DIRECTORY_KEYS)

    problem = raised.value
    assert problem.status == 422
    assert problem.errors is not None
    assert [e["path"] for e in problem.errors] == ["query.cursor"]


@given(st.binary(max_size=64) | st.text(max_size=64))
def test_random_input_never_decodes_to_something_unchecked(junk: bytes | str) -> None:
    cursor = junk if isinstance(junk, str) else base64.urlsafe_b64encode(junk).decode()
    try:
        values = decode_cursor(cursor, DIRECTORY_KEYS)
    except Problem as problem:
        refused: Problem | None = problem
    else:
        refused = None
        assert isinstance(values[0], str)
        assert isinstance(values[1], uuid.UUID)
    assert refused is None or refused.status == 422


@pytest.mark.parametrize("limit", [1, 50, MAX_LIMIT])
def test_limits_in_range_pass(limit: int) -> None:
    assert check_limit(limit) == limit


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_limits_out_of_range_are_a_422_on_query_limit(limit: int) -> None:
    with pytest.raises(Problem) as raised:
        check_limit(limit)

    assert raised.value.status == 422
    assert raised.value.errors is not None
    assert raised.value.errors[0]["path"] == "query.limit"
