"""The console page (``/``) as a test drives it: log in, fill fields, send, read the result, act on the image."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.conftest import LiveServer


def console(new_page: Callable[..., Page], server: LiveServer, **viewport: int) -> ConsolePage:
    """A visitor's page on the server's console, loaded and ready."""
    return ConsolePage(new_page(**viewport), server.url).open()


class ConsolePage:
    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self) -> ConsolePage:
        self.page.goto(f"{self.base_url}/")
        expect(self.page.locator("body")).to_have_attribute("data-ready", "true")
        return self

    def field(self, name: str) -> Locator:
        """The control of a path parameter or body field, by its wire name (``backupUuid``, ``params.name``)."""
        return self.page.locator(f"#request-form [name='{name}']")

    def log_in(self, account: str = "admin", password: str = "password") -> str:
        self.page.get_by_label("accountName").fill(account)
        self.page.get_by_label("password", exact=True).fill(password)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.session_status).to_have_attribute("data-tone", "ok")
        return self.session()

    def session(self) -> str:
        return self.page.get_by_label("Session UUID").input_value()

    def use_session(self, uuid: str) -> None:
        self.page.get_by_label("Session UUID").fill(uuid)
        self.page.get_by_role("button", name="Use this session").click()

    def send(self) -> None:
        self.page.get_by_role("button", name="Send", exact=True).click()

    def wait_for_result(self, tone: str = "ok") -> str:
        expect(self.result_status).to_have_attribute("data-tone", tone)
        return self.result_status.inner_text()

    def response_body(self) -> Any:
        return json.loads(self.page.locator("#response-body").inner_text())

    def click(self, button: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()

    def expect_image(self, after: str | None, **facts: str) -> None:
        """Wait until the lifecycle panel shows the image as read after ``after`` (``"DeleteImage (200 OK)"``;
        None: read by its own button), with these ``name``, ``status`` and ``state``."""
        caption = re.escape(f"After {after}, GET ") if after else "^GET "
        expect(self.page.locator("#image-caption")).to_have_text(re.compile(caption + r"/zstack/v1/images/\w+ shows:$"))
        for fact, value in facts.items():
            expect(self.page.locator(f"#image-{fact}")).to_have_text(value)

    @property
    def image_uuid(self) -> Locator:
        return self.page.get_by_label("Image UUID")

    @property
    def session_status(self) -> Locator:
        return self.page.locator("#session-status")

    @property
    def result_status(self) -> Locator:
        return self.page.locator("#result-status")

    @property
    def response_status(self) -> Locator:
        return self.page.locator("#response-status")
