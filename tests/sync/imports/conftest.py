"""Page fixtures for the import tests: browsers over the real app (tests/web)."""

from tests.web.conftest import new_browser as new_browser
