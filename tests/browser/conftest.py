"""A real browser: Debian's Chromium driven by Playwright, one browser for the package, one context per test.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (``make test`` installs
it when it runs as root). Without it these tests fail, with the command that installs it: a skipped
end-to-end suite would hide breakage.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = Path(os.environ.get("ZSTACK_MOCK_CHROMIUM", "/usr/bin/chromium"))
#: Headless, and quiet: with no internet, Chromium's background connections would only be refused.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = (
    "install Debian's Chromium: `apt-get update && apt-get install -y --no-install-recommends chromium` "
    "as root (`make test` does it when run as root), or point ZSTACK_MOCK_CHROMIUM at a Chromium binary"
)

expect.set_options(timeout=15_000)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need {CHROMIUM}, which is missing: {INSTALL_HINT}", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open pages, each in a browser context of its own (a visitor: own storage, own session);
    a test fails if a page throws an uncaught error."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_page(width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], f"the page threw: {errors}"
