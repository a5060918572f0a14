"""Shared by the report tests: extra signed-in browsers next to the app's test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import Browser


@pytest.fixture
def new_browser(app: FastAPI, client: TestClient) -> Iterator[Callable[[], Browser]]:
    """Make browsers of their own (each its own cookies), closed at the end of the test."""
    opened: list[TestClient] = []

    def make() -> Browser:
        opened.append(TestClient(app, base_url="http://testserver"))
        return Browser(opened[-1])

    yield make
    for other in opened:
        other.close()
