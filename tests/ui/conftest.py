"""Every page test gets the ``browser`` and ``page`` fixtures of tests/ui/browser.py."""

from tests.ui.browser import browser, page  # noqa: F401 - fixtures
