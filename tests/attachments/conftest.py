"""Attachment page tests use the web tests' browsers."""

from tests.web.conftest import browser, new_browser

__all__ = ["browser", "new_browser"]
