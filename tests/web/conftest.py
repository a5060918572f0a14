"""Page-test fixtures: browsers (cookie jars over the real app) that read and submit forms."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.builders import PASSWORD
from tests.web.html import Page, parse

_counter = itertools.count(1)


class Browser:
    """One visitor: its own cookies; follows redirects like a browser unless told not to."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def page(self, url: str, status: int = 200) -> Page:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code, response.text[:2000])
        assert response.headers["content-type"].startswith("text/html")
        return parse(response.text)

    def submit(
        self,
        url: str,
        action: str,
        data: dict[str, Any] | None = None,
        *,
        containing: str | None = None,
        follow: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Open `url`, fill the form that posts to `action` with `data`, and send it."""
        form = self.page(url).form(action, containing)
        fields: dict[str, Any] = dict(form.fields())
        fields.update(data or {})
        return self.client.post(action, data=fields, follow_redirects=follow, headers=headers)

    @property
    def csrf_cookie(self) -> str | None:
        return self.client.cookies.get("coterie_csrf")

    def signup(
        self, company: str | None = None, *, email: str | None = None, **extra: str
    ) -> tuple[str, str]:
        """Sign up a company through the form; returns (company name, admin e-mail)."""
        n = next(_counter)
        company = company or f"Web Company {n}"
        email = email or f"owner{n}@web{n}.example"
        response = self.submit(
            "/signup",
            "/signup",
            {
                "company.name": company,
                "company.domain": extra.pop(
                    "domain", f"web{n}-{company.lower().replace(' ', '')}.example"
                ),
                "user.name": extra.pop("name", f"Owner {n}"),
                "user.email": email,
                "user.password": PASSWORD,
                **extra,
            },
        )
        assert response.status_code == 200, response.text[:2000]
        assert response.url.path == "/", response.url
        return company, email

    def login(self, email: str, password: str = PASSWORD, next_path: str = "") -> httpx.Response:
        url = "/login" + (f"?next={next_path}" if next_path else "")
        return self.submit(url, "/login", {"email": email, "password": password})

    def logout(self) -> httpx.Response:
        return self.submit("/", "/logout")


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)


@pytest.fixture
def new_browser(app: FastAPI, client: TestClient) -> Iterator[Callable[[], Browser]]:
    """More visitors with their own cookie jars (the `client` fixture cleans the database)."""
    opened: list[TestClient] = []

    def make() -> Browser:
        other = TestClient(app, base_url="http://testserver")
        opened.append(other)
        return Browser(other)

    yield make
    for other in opened:
        other.close()
