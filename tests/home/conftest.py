"""Page-test fixtures of the web tests (browsers with their own cookie jars), reused here."""

from tests.web.conftest import browser as browser
from tests.web.conftest import new_browser as new_browser
